//! An access review: the evidence since the last one, and the owner's attestation.

use super::{Outcome, Problem};
use crate::api::lifecycle::{review_evidence, AttestReview};
use crate::lifecycle_model::EvidenceView;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn AgentReviewPage() -> impl IntoView {
    let id = use_params_map().read_untracked().get("id").unwrap_or_default();
    view! {
        <Title text="Access review"/>
        <AgentReview id/>
    }
}

#[component]
fn AgentReview(id: String) -> impl IntoView {
    let evidence = Resource::new(move || id.clone(), review_evidence);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the evidence…"</p> }>
            {move || Suspend::new(async move {
                match evidence.await {
                    Ok(e) => view! { <Review evidence=e/> }.into_any(),
                    Err(e) => view! { <h1>"Access review"</h1><Problem error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Review(evidence: EvidenceView) -> impl IntoView {
    let e = evidence;
    let attest = ServerAction::<AttestReview>::new();
    view! {
        <div class="page-head">
            <h1>{format!("Access review: {}", e.agent_name)}</h1>
            <a href=format!("/agents/{}", e.agent_id)>"Back to the agent"</a>
        </div>
        <p>
            <span class=if e.review_status == "current" { "status ok" } else { "status warn" }>{format!("review {}", e.review_status)}</span>
            {format!(" — due {}. Evidence since {} ({} days).", e.review_due, e.since, e.days)}
        </p>
        <div class="panels">
            <section class="card" aria-labelledby="evidence-title">
                <h2 id="evidence-title">"What it did"</h2>
                {if e.rows.is_empty() {
                    view! { <p class="muted">"It submitted nothing in this period."</p> }.into_any()
                } else {
                    view! {
                        <table class="grid">
                            <thead><tr><th scope="col">"Action"</th><th scope="col">"Submitted"</th><th scope="col">"Approved"</th>
                                <th scope="col">"Denied"</th><th scope="col">"Expired"</th><th scope="col">"Cancelled"</th>
                                <th scope="col">"Amount approved"</th></tr></thead>
                            <tbody>
                                {e.rows.clone().into_iter().map(|r| view! {
                                    <tr><td>{r.action_type}</td><td class="num">{r.submitted}</td><td class="num">{r.approved}</td>
                                        <td class="num">{r.denied}</td><td class="num">{r.expired}</td><td class="num">{r.cancelled}</td>
                                        <td class="num mono">{r.approved_amount}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }}
                <p>{format!("Credentials minted: {}, of which used: {}.", e.credentials_minted, e.credentials_used)}</p>
                <ul class="plain">
                    {e.unused.clone().into_iter().map(|u| view! { <li><span class="status warn">"unused"</span>" "{u}</li> }).collect_view()}
                </ul>
            </section>
            <section class="card" aria-labelledby="attest-title">
                <h2 id="attest-title">"Your attestation"</h2>
                <ActionForm action=attest>
                    <input type="hidden" name="agent" value=e.agent_id.clone()/>
                    <fieldset>
                        <legend>"Decision"</legend>
                        <label><input type="radio" name="decision" value="keep" checked/>" Keep as it is"</label>
                        <label><input type="radio" name="decision" value="narrow"/>" Keep with a narrower scope"</label>
                        <label><input type="radio" name="decision" value="retire"/>" Retire it"</label>
                    </fieldset>
                    <label for="review-allowances">"Scope to keep (one per line; used when narrowing)"</label>
                    <textarea id="review-allowances" name="allowances" rows="4">{e.allowances.clone()}</textarea>
                    <label for="review-note">"Note"</label>
                    <input id="review-note" name="note" type="text" required minlength="3" placeholder="why it is still needed, or not"/>
                    <Outcome action=attest ok="Review recorded."/>
                    <button type="submit" class="primary">"Record review"</button>
                </ActionForm>
            </section>
        </div>
    }
}
