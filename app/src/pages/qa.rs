//! QA sampling on `/insights`: draw a random sample of the period's decisions, record a verdict on each,
//! and see how often re-review disagreed with each reviewer.

use super::Outcome;
use crate::api::insights::{DrawSample, RecordVerdict};
use crate::insights_model::{DisagreementRow, SampleRow};
use leptos::prelude::*;

/// Drawing and recording are plain posts: the page, charts and all, is read again from the server after each.
#[component]
pub fn QaSampling(
    samples: Vec<SampleRow>,
    disagreement: Vec<DisagreementRow>,
    tenant: String,
    days: i64,
    max_sample: i64,
) -> impl IntoView {
    let draw = ServerAction::<DrawSample>::new();
    let verdict = ServerAction::<RecordVerdict>::new();
    let open = samples.iter().filter(|s| s.verdict.is_none()).count();
    let none = samples.is_empty();
    view! {
        <section class="card" aria-labelledby="qa-title">
            <h2 id="qa-title">"QA sampling"</h2>
            <p class="muted">"Draw decisions of this period at random, re-review each and say whether you agree. Every draw and verdict is in the audit log."</p>
            <ActionForm action=draw attr:class="inline-form">
                <input type="hidden" name="tenant" value=tenant/>
                <input type="hidden" name="days" value=days.to_string()/>
                <label>"Decisions to draw " <input type="number" name="size" value="10" min="1" max=max_sample.to_string() class="narrow-number"/></label>
                <button type="submit">"Draw a sample"</button>
            </ActionForm>
            <Outcome action=draw ok="Sample drawn."/>
            <h3>{format!("Samples ({open} awaiting a verdict)")}</h3>
            <table class="grid small" hidden=none>
                <thead><tr><th scope="col">"Held action"</th><th scope="col">"Outcome"</th><th scope="col">"Decided by"</th>
                    <th scope="col">"Drawn"</th><th scope="col">"Verdict"</th></tr></thead>
                <tbody>
                    {samples.into_iter().map(|s| view! { <SampleLine sample=s verdict/> }).collect_view()}
                </tbody>
            </table>
            <Outcome action=verdict ok="Verdict recorded."/>
            <h3>"Disagreement per reviewer"</h3>
            <table class="grid small">
                <thead><tr><th scope="col">"Reviewer"</th><th scope="col" class="num">"Re-reviewed"</th>
                    <th scope="col" class="num">"Disagreed"</th><th scope="col" class="num">"Rate"</th></tr></thead>
                <tbody>
                    {disagreement.into_iter().map(|d| view! {
                        <tr><td>{d.reviewer}</td><td class="num">{d.reviewed}</td><td class="num">{d.disagreed}</td><td class="num">{d.rate}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn SampleLine(sample: SampleRow, verdict: ServerAction<RecordVerdict>) -> impl IntoView {
    let s = sample;
    let group = format!("verdict-{}", s.id);
    let done = s.verdict.clone().map(|v| {
        let word = if v == "agree" { "Agreed" } else { "Disagreed" };
        view! {
            <span class=if v == "agree" { "status ok" } else { "status bad" }>{word}</span>
            " " {s.reviewed_by.clone().unwrap_or_default()}
            {s.note.clone().filter(|n| !n.is_empty()).map(|n| format!(": {n}"))}
        }
    });
    view! {
        <tr>
            <td><a href=format!("/history/{}", s.held_action)>{s.action.clone()}</a></td>
            <td>{s.status.clone()}</td>
            <td>{s.decided_by.clone()}</td>
            <td class="mono">{s.drawn_at.clone()}</td>
            <td>
                {match done {
                    Some(v) => v.into_any(),
                    None => view! {
                        <ActionForm action=verdict attr:class="verdict-form">
                            <input type="hidden" name="sample" value=s.id.clone()/>
                            <fieldset>
                                <legend class="visually-hidden">"Your verdict"</legend>
                                <label><input type="radio" name="verdict" value="agree" id=format!("{group}-agree")/>" Agree"</label>
                                <label><input type="radio" name="verdict" value="disagree" id=format!("{group}-disagree")/>" Disagree"</label>
                            </fieldset>
                            <label>"Note " <input type="text" name="note" size="24"/></label>
                            <button type="submit">"Record verdict"</button>
                        </ActionForm>
                    }.into_any(),
                }}
            </td>
        </tr>
    }
}
