//! One held action on one screen: what the agent wants and why, the evidence, and the decision panel,
//! which stays in view. Opening it claims it (renewed each minute while open).
//! Keyboard: `a` starts an approval, `d` a denial; each needs a second, deliberate confirmation.

use super::case_forms::{ApproveForm, DenyForm};
use super::live::{countdown, use_changes, use_elapsed, Watch};
use super::queue::{action_label, tier_label, typing};
use super::Problem;
use crate::api::review::{claim, decide, load_case, step_up, Claim, Release};
use crate::error::AppError;
use crate::model::HeldStatus;
use crate::review_model::{CaseView, DecisionForm};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// Which confirmation the decision panel shows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    Choose,
    Approve,
    Deny,
}

#[component]
pub fn CasePage() -> impl IntoView {
    let id = use_params_map().read_untracked().get("id").unwrap_or_default();
    view! {
        <Title text="Held action"/>
        <LiveCase id/>
    }
}

#[island(lazy)]
fn LiveCase(id: String) -> impl IntoView {
    super::mark_hydrated();
    let id = StoredValue::new(id);
    let id = move || id.get_value();
    let changes = use_changes(Watch::Item(Signal::derive(id))).changes;
    let claim_action = ServerAction::<Claim>::new();
    let release_action = ServerAction::<Release>::new();
    let decided = RwSignal::new(0u64);
    // Above the reloaded view, so a reload (someone else's vote, say) keeps an open confirmation open.
    let step = RwSignal::new(Step::Choose);
    let case = Resource::new(
        move || (id(), changes.get(), decided.get(), claim_action.version().get(), release_action.version().get()),
        |(id, ..)| load_case(id),
    );
    // Hold the item while it is open: claim now (and show it), renew every minute.
    Effect::new(move |_| {
        let id = id();
        leptos::task::spawn_local(async move {
            if claim(id, false).await.is_ok() {
                decided.update(|d| *d += 1);
            }
        });
    });
    #[cfg(feature = "hydrate")]
    if let Ok(renew) = set_interval_with_handle(
        move || {
            let id = id();
            leptos::task::spawn_local(async move {
                let _ = crate::api::review::renew_claim(id).await;
            });
        },
        std::time::Duration::from_secs(60),
    ) {
        on_cleanup(move || renew.clear());
    }
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the case…"</p> }>
            {move || Suspend::new(async move {
                match case.await {
                    Ok(c) => view! { <Case case=c claim_action release_action decided step/> }.into_any(),
                    Err(e) => view! { <h1>"Held action"</h1><Problem error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Case(
    case: CaseView,
    claim_action: ServerAction<Claim>,
    release_action: ServerAction<Release>,
    decided: RwSignal<u64>,
    step: RwSignal<Step>,
) -> impl IntoView {
    let elapsed = use_elapsed();
    let (expires, now) = (case.expires_at_ms, case.server_now_ms);
    let left = move || expires - now - elapsed.get();
    let status_class = format!("status status-{}", case.status.as_str());
    view! {
        <div class="page-head">
            <h1>{action_label(case.action)} " " <span class="amount">{case.amount.clone().unwrap_or_default()}</span></h1>
            <span class=status_class>{case.status.as_str()}</span>
            <span class=format!("tier tier-{}", case.tier.as_str())>{tier_label(case.tier)} " risk"</span>
            {(case.status == HeldStatus::Pending).then(|| view! {
                <span class="mono deadline" aria-label="Time left">{move || countdown(left())} " left"</span>
            })}
            <a href="/queue" class="back">"Back to the queue"</a>
        </div>
        <div class="case">
            <div class="evidence">
                <Submission case=case.clone()/>
                <Related case=case.clone()/>
            </div>
            <aside class="decision" aria-label="Decision">
                <DecisionPanel case=case.clone() decided step/>
                <ClaimPanel case=case.clone() claim_action release_action/>
                <AgentPanel case=case.clone()/>
            </aside>
        </div>
    }
}

/// What the agent submitted, as the reviewer reads it: intent, policy, case and transcript.
#[component]
pub(super) fn Submission(case: CaseView) -> impl IntoView {
    let facts = |pairs: Vec<(String, String)>| {
        pairs.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd class="mono">{v}</dd> }).collect_view()
    };
    view! {
        <section class="card" aria-labelledby="intent-title">
            <h2 id="intent-title">"What the agent wants, and why"</h2>
            <p class="intent">{case.intent.clone()}</p>
            <dl class="facts">{facts(case.parameters.clone())}</dl>
        </section>
        <section class="card" aria-labelledby="policy-title">
            <h2 id="policy-title">"Why it was held"</h2>
            <dl class="facts">
                <dt>"Rule"</dt><dd class="mono">{case.policy_rule.clone()}</dd>
                <dt>"Reason"</dt><dd>{case.policy_reason.clone()}</dd>
                <dt>"Risk score"</dt><dd>{case.risk_score.clone().unwrap_or_else(|| "not given".into())}</dd>
                <dt>"On behalf of"</dt><dd class="mono">{case.on_behalf_of.clone().unwrap_or_else(|| "not given".into())}</dd>
                <dt>"Consented to"</dt><dd class="mono">{if case.consented_scope.is_empty() { "nothing recorded".into() } else { case.consented_scope.join(", ") }}</dd>
            </dl>
            {case.beyond_consent.clone().map(|why| view! { <p class="flag" role="note">"Beyond consent: " {why}</p> })}
        </section>
        <section class="card" aria-labelledby="case-title">
            <h2 id="case-title">"Case " <span class="mono">{case.case_id.clone()}</span></h2>
            <dl class="facts">
                <dt>"Customer"</dt><dd>{case.customer.clone()} {case.customer_tier.clone().map(|t| format!(" · {t}"))}</dd>
                <dt>"Channel"</dt><dd>{case.channel.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt>"Summary"</dt><dd>{case.summary.clone().unwrap_or_else(|| "—".into())}</dd>
                {facts(case.facts.clone())}
            </dl>
        </section>
        <section class="card" aria-labelledby="transcript-title">
            <h2 id="transcript-title">"Transcript"</h2>
            <ol class="transcript">
                {case.transcript.clone().into_iter().map(|t| view! {
                    <li class=format!("turn turn-{}", t.role)>
                        <span class="who">{t.name.clone().map_or_else(|| t.role.clone(), |n| format!("tool call: {n}"))}</span>
                        <span class="at mono">{t.at.clone()}</span>
                        <p class=if t.role == "tool" { "mono" } else { "" }>{t.text.clone()}</p>
                    </li>
                }).collect_view()}
            </ol>
        </section>
    }
}

#[component]
fn Related(case: CaseView) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="related-title">
            <h2 id="related-title">"Earlier held actions"</h2>
            <p>"Approved in the last 24 hours: this customer " <strong>{case.approved_24h_customer.clone()}</strong>
               ", this agent " <strong>{case.approved_24h_agent.clone()}</strong></p>
            <table class="related">
                <thead><tr><th scope="col">"Received"</th><th scope="col">"Action"</th><th scope="col" class="num">"Amount"</th><th scope="col">"Outcome"</th><th scope="col">"Link"</th></tr></thead>
                <tbody>
                    {case.related.clone().into_iter().map(|r| view! {
                        <tr>
                            <td class="mono">{r.received_at.clone()}</td>
                            <td><a href=format!("/queue/{}", r.id)>{action_label(r.action)}</a></td>
                            <td class="num mono">{r.amount.clone().unwrap_or_else(|| "—".into())}</td>
                            <td><span class=format!("status status-{}", r.status.as_str())>{r.status.as_str()}</span></td>
                            <td>{r.link.clone()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn DecisionPanel(case: CaseView, decided: RwSignal<u64>, step: RwSignal<Step>) -> impl IntoView {
    let quorum = format!("{} of {} approvals", case.approvals, case.needed);
    if let Some(o) = case.outcome.clone() {
        return view! {
            <section class="card outcome" aria-labelledby="outcome-title">
                <h2 id="outcome-title">"Outcome"</h2>
                <p class=format!("status status-{}", o.status.as_str())>{o.status.as_str()} " by " {o.by.clone()}</p>
                <p class="mono">{o.at.clone()}</p>
                {o.approved_amount.clone().map(|a| view! { <p>"Approved amount: " <strong>{a}</strong></p> })}
                {o.reason.clone().map(|r| view! { <p>"Reason: " {r}</p> })}
                <Reviews case=case.clone()/>
            </section>
        }
        .into_any();
    }
    let needs_step_up = case.tier == crate::model::RiskTier::Critical && case.step_up_until_ms.is_none();
    let id = case.id.clone();
    let submit = Action::new(move |(form, password): &(DecisionForm, Option<String>)| {
        let (id, form, password) = (id.clone(), form.clone(), password.clone());
        async move {
            if let Some(password) = password {
                step_up(password).await?;
            }
            decide(id, form).await
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = submit.value().get() {
            step.set(Step::Choose);
            decided.update(|d| *d += 1);
        }
    });
    let blocked = case.may_not_decide.clone();
    let may = blocked.is_none();
    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            step.set(Step::Choose);
            return;
        }
        if !may || ev.ctrl_key() || ev.meta_key() || ev.alt_key() || typing(&ev) {
            return;
        }
        match ev.key().as_str() {
            "a" if step.get_untracked() == Step::Choose => {
                ev.prevent_default();
                step.set(Step::Approve);
            }
            "d" if step.get_untracked() == Step::Choose => {
                ev.prevent_default();
                step.set(Step::Deny);
            }
            _ => {}
        }
    });
    on_cleanup(move || keys.remove());
    let error = move || submit.value().get().and_then(Result::err).map(|e: AppError| view! { <Problem error=e/> });
    let waiting = super::until_live();
    let requested = case.amount_value.clone().unwrap_or_default();
    let currency = case.currency.clone();
    let reasons = case.deny_reasons.clone();
    view! {
        <section class="card controls" aria-labelledby="decide-title">
            <h2 id="decide-title">"Decide"</h2>
            <p class="quorum">{quorum}</p>
            <Reviews case=case.clone()/>
            {match blocked {
                Some(why) => view! { <p class="flag" role="note">{why}</p> }.into_any(),
                None => view! {
                    <div class="choose" hidden=move || step.get() != Step::Choose>
                        <button type="button" class="approve" disabled=waiting on:click=move |_| step.set(Step::Approve)>"Approve " <kbd>"a"</kbd></button>
                        <button type="button" class="deny" disabled=waiting on:click=move |_| step.set(Step::Deny)>"Deny " <kbd>"d"</kbd></button>
                    </div>
                    <Show when=move || step.get() == Step::Approve>
                        <ApproveForm submit requested=requested.clone() currency=currency.clone() needs_step_up step/>
                    </Show>
                    <Show when=move || step.get() == Step::Deny>
                        <DenyForm submit reasons=reasons.clone() step/>
                    </Show>
                    {error}
                }.into_any(),
            }}
        </section>
    }
    .into_any()
}

#[component]
pub(super) fn Reviews(case: CaseView) -> impl IntoView {
    view! {
        <ul class="reviews">
            {case.reviews.into_iter().map(|r| view! {
                <li>
                    <strong>{if r.approve { "Approved" } else { "Denied" }}</strong> " by " {r.reviewer.clone()}
                    {r.amount.clone().map(|a| format!(" (at most {a})"))}
                    {r.stepped_up.then_some(" · password re-entered")}
                    {r.reason.clone().map(|x| format!(": {x}"))}
                    <span class="mono muted">" " {r.at.clone()}</span>
                </li>
            }).collect_view()}
        </ul>
    }
}

#[component]
fn ClaimPanel(
    case: CaseView,
    claim_action: ServerAction<Claim>,
    release_action: ServerAction<Release>,
) -> impl IntoView {
    if case.status != HeldStatus::Pending {
        return ().into_any();
    }
    let confirming = RwSignal::new(false);
    let waiting = super::until_live();
    let id = case.id.clone();
    let body = match case.claim.clone() {
        Some(c) if c.mine => {
            let id = id.clone();
            view! {
                <p>"You are reviewing this."</p>
                <button type="button" class="quiet" disabled=waiting on:click=move |_| { release_action.dispatch(Release { id: id.clone() }); }>"Release"</button>
            }
            .into_any()
        }
        Some(c) => {
            let by = c.by.clone();
            view! {
                <p class="flag">{c.by.clone()} " is reviewing this."</p>
                <Show when=move || !confirming.get() fallback={
                    let (id, by) = (id.clone(), by.clone());
                    move || {
                        let id = id.clone();
                        view! {
                            <button type="button" on:click=move |_| { claim_action.dispatch(Claim { id: id.clone(), take_over: true }); }>
                                {format!("Yes, take over from {by}")}
                            </button>
                        }
                    }
                }>
                    <button type="button" class="quiet" disabled=waiting on:click=move |_| confirming.set(true)>"Take over…"</button>
                </Show>
            }
            .into_any()
        }
        None => view! { <p class="muted">"Nobody is reviewing this."</p> }.into_any(),
    };
    view! { <section class="card" aria-label="Who is reviewing">{body}</section> }.into_any()
}

#[component]
pub(super) fn AgentPanel(case: CaseView) -> impl IntoView {
    let a = case.agent;
    view! {
        <section class="card" aria-labelledby="agent-title">
            <h2 id="agent-title">"Agent"</h2>
            <dl class="facts">
                <dt>"Name"</dt><dd>{a.name.clone()}</dd>
                <dt>"Owner"</dt><dd>{a.owner.clone()}</dd>
                <dt>"Submitted as"</dt>
                <dd class="mono">{a.subject.clone().unwrap_or_else(|| "an owner-minted credential".into())}</dd>
                <dt>"State"</dt><dd>{a.state.as_str()}</dd>
                <dt>"Purpose"</dt><dd>{a.purpose.clone()}</dd>
                <dt>"Scope"</dt>
                <dd>{match a.beyond_scope.clone() {
                    None => view! { <span class="ok">"Within its declared scope"</span> }.into_any(),
                    Some(why) => view! { <span class="flag">"Outside its scope: " {why}</span> }.into_any(),
                }}</dd>
            </dl>
        </section>
    }
}
