//! A decision record: exactly what the reviewer saw (the case view rendered from the stored submission,
//! read-only, its SHA-256 recomputed on display), and everything that happened to the action.

use super::audit::EventTable;
use super::case::{AgentPanel, Reviews, Submission};
use super::history::status_label;
use super::queue::{action_label, tier_label};
use super::Problem;
use crate::api::history::load_record;
use crate::history_model::DecisionRecord;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn RecordPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let record = Resource::new(id, load_record);
    view! {
        <Title text="Decision record"/>
        <Suspense fallback=|| view! { <p class="muted">"Loading the record…"</p> }>
            {move || Suspend::new(async move {
                match record.await {
                    Ok(r) => view! { <Record record=r/> }.into_any(),
                    Err(e) => view! { <h1>"Decision record"</h1><Problem error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Record(record: DecisionRecord) -> impl IntoView {
    let case = record.case.clone();
    let intact = record.stored_hash == record.computed_hash;
    let outcome = case.outcome.clone();
    let receipt_file = record
        .receipt
        .clone()
        .map(|r| format!("data:text/plain;charset=utf-8,{}", r.replace('%', "%25").replace('#', "%23")));
    view! {
        <div class="page-head">
            <h1>"Record: " {action_label(case.action)} " " <span class="amount">{case.amount.clone().unwrap_or_default()}</span></h1>
            <span class=format!("status status-{}", case.status.as_str())>{status_label(case.status)}</span>
            <span class=format!("tier tier-{}", case.tier.as_str())>{tier_label(case.tier)} " risk"</span>
            <a href="/history" class="back">"Back to the history"</a>
        </div>
        <div class="case">
            <div class="evidence">
                <section class="card" aria-labelledby="integrity-title">
                    <h2 id="integrity-title">"What the reviewer saw"</h2>
                    <p class="muted">"Rendered from the submission as stored at intake, " {case.received_at.clone()} "."</p>
                    <dl class="facts">
                        <dt>"Stored SHA-256"</dt><dd class="mono wrap">{record.stored_hash.clone()}</dd>
                        <dt>"Recomputed now"</dt><dd class="mono wrap">{record.computed_hash.clone()}</dd>
                    </dl>
                    {if intact {
                        view! { <p class="status ok" role="status">"✓ The stored body matches its hash"</p> }.into_any()
                    } else {
                        view! { <p class="status bad hash-mismatch" role="alert">"✗ Mismatch: the stored body is not what was received"</p> }.into_any()
                    }}
                </section>
                <Submission case=case.clone()/>
            </div>
            <aside class="decision" aria-label="Outcome and trail">
                <section class="card" aria-labelledby="outcome-title">
                    <h2 id="outcome-title">"Outcome"</h2>
                    {match outcome {
                        Some(o) => view! {
                            <p><span class=format!("status status-{}", o.status.as_str())>{status_label(o.status)}</span> " by " {o.by.clone()}</p>
                            <p class="mono">{o.at.clone()}</p>
                            {o.approved_amount.clone().map(|a| view! { <p>"Approved amount: " <strong>{a}</strong></p> })}
                            {o.reason.clone().map(|r| view! { <p>"Reason: " {r}</p> })}
                        }.into_any(),
                        None => view! { <p class="status warn">"Pending: not decided yet"</p> }.into_any(),
                    }}
                    <p>"Time from arrival to decision: " <strong>{record.time_to_decision.clone().unwrap_or_else(|| "—".into())}</strong></p>
                    <h3>"Votes"</h3>
                    {if case.reviews.is_empty() { Some(view! { <p class="muted">"No votes."</p> }) } else { None }}
                    <Reviews case=case.clone()/>
                </section>
                <section class="card" aria-labelledby="standing-title">
                    <h2 id="standing-title">"Accountable people then"</h2>
                    <dl class="facts">
                        <dt>"Owner"</dt><dd>{record.owner_then.clone()}</dd>
                        <dt>"Sponsor"</dt><dd>{record.sponsor_then.clone().unwrap_or_else(|| "none".into())}</dd>
                    </dl>
                </section>
                <AgentPanel case=case.clone()/>
                <section class="card" aria-labelledby="claims-title">
                    <h2 id="claims-title">"Claims and take-overs"</h2>
                    {if record.claims.is_empty() { Some(view! { <p class="muted">"Nobody claimed it."</p> }) } else { None }}
                    <ul class="plain small">{record.claims.iter().map(|c| view! { <li>{c.clone()}</li> }).collect_view()}</ul>
                </section>
                <section class="card" aria-labelledby="receipt-title">
                    <h2 id="receipt-title">"Receipt"</h2>
                    {match (record.receipt.clone(), record.receipt_valid) {
                        (Some(r), valid) => view! {
                            {if valid == Some(true) {
                                view! { <p class="status ok" role="status">"✓ Verifies against the receipt key"</p> }.into_any()
                            } else {
                                view! { <p class="status bad" role="alert">"✗ Does not verify against the receipt key"</p> }.into_any()
                            }}
                            <p class="mono wrap small">{r}</p>
                            <a href=receipt_file.clone().unwrap_or_default() download=format!("receipt-{}.txt", case.id)>"Download the receipt"</a>
                        }.into_any(),
                        (None, _) => view! { <p class="muted">"No receipt: not decided yet."</p> }.into_any(),
                    }}
                </section>
                <section class="card" aria-labelledby="webhooks-title">
                    <h2 id="webhooks-title">"Webhook messages"</h2>
                    {if record.deliveries.is_empty() { Some(view! { <p class="muted">"None sent."</p> }) } else { None }}
                    <ul class="plain small">
                        {record.deliveries.iter().map(|d| view! {
                            <li>{d.event.clone()} " · " <strong>{d.state.clone()}</strong> " · " {d.attempts} " attempt(s)"
                                {d.last_status.map(|s| format!(" · last answer {s}"))}
                                {d.last_error.clone().map(|e| format!(" · {e}"))}
                            </li>
                        }).collect_view()}
                    </ul>
                </section>
            </aside>
        </div>
        <section class="card" aria-labelledby="events-title">
            <h2 id="events-title">"Audit events of this action"</h2>
            <p class="muted">"With their positions in the chain; " <a href=format!("/audit?target=held_action:{}", case.id)>"open them in the audit log"</a> "."</p>
            <EventTable events=record.events.clone()/>
        </section>
    }
}
