//! An agent's life on its page: the state banner, suspend/resume/retire with what retirement will end,
//! ownership (hand-over and sponsor), and the timeline read from the audit log.

use super::Outcome;
use crate::api::lifecycle::{ChangeAgentState, ProposeHandover, SetSponsor, WithdrawHandover};
use crate::lifecycle_model::TimelineEntry;
use crate::model::{AgentDetail, AgentState};
use leptos::prelude::*;

/// The actions of the lifecycle forms (plain posts: the page is read again after each).
#[derive(Clone, Copy)]
pub struct LifeActions {
    pub change: ServerAction<ChangeAgentState>,
    pub propose: ServerAction<ProposeHandover>,
    pub withdraw: ServerAction<WithdrawHandover>,
    pub sponsor: ServerAction<SetSponsor>,
}

impl LifeActions {
    pub fn new() -> Self {
        LifeActions {
            change: ServerAction::new(),
            propose: ServerAction::new(),
            withdraw: ServerAction::new(),
            sponsor: ServerAction::new(),
        }
    }
}

/// Who retired or suspended it, when and why; and whether it is orphaned.
#[component]
pub fn LifeBanner(detail: AgentDetail) -> impl IntoView {
    let life = detail.life.clone();
    let said = move |verb: &str| {
        format!(
            "{verb} by {} on {}: {}",
            life.state_changed_by.clone().unwrap_or_else(|| "someone".into()),
            life.state_changed_at.clone().unwrap_or_default(),
            life.state_reason.clone().unwrap_or_default()
        )
    };
    let state = match detail.agent.state {
        AgentState::Retired => Some(("notice bad-notice", said("Retired"))),
        AgentState::Suspended => Some(("notice", said("Suspended"))),
        AgentState::Active => None,
    };
    view! {
        {state.map(|(class, text)| view! { <p class=class role="status">{text}</p> })}
        {detail.life.orphaned_since.clone().filter(|_| detail.agent.state != AgentState::Retired).map(|since| view! {
            <p class="notice bad-notice" role="status">{format!("Orphaned since {since}: its owner can no longer own it. An admin should hand it to a new owner; unanswered, it is suspended after the grace period.")}</p>
        })}
    }
}

#[component]
pub fn Lifecycle(detail: AgentDetail, actions: LifeActions) -> impl IntoView {
    let (id, id2) = (detail.agent.id.clone(), detail.agent.id.clone());
    let r = detail.retirement;
    let (verb, label) = match detail.agent.state {
        AgentState::Suspended => ("resume", "Resume agent"),
        _ => ("suspend", "Suspend agent"),
    };
    view! {
        <section class="card" aria-labelledby="life-title">
            <h2 id="life-title">"Suspend, resume or retire"</h2>
            <Outcome action=actions.change/>
            <div class="panels">
                <ActionForm action=actions.change>
                    <input type="hidden" name="agent" value=id/>
                    <input type="hidden" name="change" value=verb/>
                    <label for="state-reason">{format!("Reason to {verb}")}</label>
                    <input id="state-reason" name="reason" type="text" required minlength="3"
                        placeholder=if verb == "suspend" { "e.g. investigating refunds to one card" } else { "e.g. investigation closed" }/>
                    <p class="hint">{if verb == "suspend" {
                        "While suspended, intake refuses it, its credentials do not authenticate, and its pending actions can be denied but not approved."
                    } else {
                        "Its credentials authenticate again and its pending actions can be approved."
                    }}</p>
                    <button type="submit" class=if verb == "suspend" { "danger" } else { "primary" }>{label}</button>
                </ActionForm>
                <ActionForm action=actions.change>
                    <input type="hidden" name="agent" value=id2/>
                    <input type="hidden" name="change" value="retire"/>
                    <p id="retire-effect" class="notice">{format!(
                        "Retiring is irreversible: {} pending action(s) will be cancelled, {} credential(s) revoked; {} webhook delivery(ies) are still queued.",
                        r.pending_actions, r.live_credentials, r.queued_deliveries
                    )}</p>
                    <label for="retire-reason">"Reason to retire"</label>
                    <input id="retire-reason" name="reason" type="text" required minlength="3" aria-describedby="retire-effect"/>
                    <label for="retire-confirm">{format!("Type the agent's name, {}, to confirm", detail.agent.name)}</label>
                    <input id="retire-confirm" name="confirm" type="text" required autocomplete="off"/>
                    <button type="submit" class="danger">"Retire agent"</button>
                </ActionForm>
            </div>
        </section>
    }
}

#[component]
pub fn Ownership(detail: AgentDetail, actions: LifeActions) -> impl IntoView {
    let (id, id2) = (detail.agent.id.clone(), detail.agent.id.clone());
    let sponsor = detail.sponsor.clone().unwrap_or_default();
    let manage = detail.may_edit;
    view! {
        <section class="card" aria-labelledby="owner-title">
            <h2 id="owner-title">"Ownership"</h2>
            <Outcome action=actions.propose ok="Hand-over proposed."/>
            <Outcome action=actions.withdraw ok="Hand-over withdrawn."/>
            <Outcome action=actions.sponsor ok="Sponsor saved."/>
            {(!detail.handovers.is_empty()).then(|| view! {
                <table class="grid">
                    <thead><tr><th scope="col">"Hand-over"</th><th scope="col">"State"</th><th scope="col">"Proposed"</th>
                        <th scope="col">"Lapses"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                    <tbody>
                        {detail.handovers.clone().into_iter().map(|h| view! {
                            <tr>
                                <td>{format!("{} → {}", h.from, h.to)}</td>
                                <td><span class=if h.state == "pending" { "status warn" } else { "status" }>{h.state.clone()}</span></td>
                                <td class="small">{format!("{} by {}", h.proposed_at, h.proposed_by)}</td>
                                <td class="mono small">{h.expires_at.clone()}</td>
                                <td>{h.may_withdraw.then(|| view! {
                                    <ActionForm action=actions.withdraw attr:class="inline">
                                        <input type="hidden" name="handover" value=h.id.clone()/>
                                        <button type="submit">"Withdraw hand-over"</button>
                                    </ActionForm>
                                })}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            {manage.then(move || view! {
                <div class="panels">
                    <ActionForm action=actions.propose>
                        <input type="hidden" name="agent" value=id/>
                        <label for="handover-to">"Propose a new owner (their email)"</label>
                        <input id="handover-to" name="to" type="email" required placeholder="a person of the tenant with the owner role"/>
                        <p class="hint">"They accept or decline on their agents page; the proposal lapses after 7 days. Once they accept, every credential the current owner minted for this agent is revoked, with the case credentials obtained through them."</p>
                        <button type="submit" class="primary">"Propose hand-over"</button>
                    </ActionForm>
                    <ActionForm action=actions.sponsor>
                        <input type="hidden" name="agent" value=id2/>
                        <label for="sponsor-email">"Sponsor's email (empty removes the sponsor)"</label>
                        <input id="sponsor-email" name="sponsor" type="email" value=sponsor/>
                        <p class="hint">"A sponsor vouches for the agent; like its owner, they never decide its actions."</p>
                        <button type="submit">"Save sponsor"</button>
                    </ActionForm>
                </div>
            })}
        </section>
    }
}

#[component]
pub fn Timeline(
    entries: Vec<TimelineEntry>,
    agent: String,
    review_due: String,
    review_status: String,
    reviewable: bool,
) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="timeline-title">
            <div class="page-head">
                <h2 id="timeline-title">"Lifecycle"</h2>
                {reviewable.then(|| view! {
                    <span>
                        <span class=if review_status == "current" { "muted" } else { "status warn" }>{format!("access review {review_status}, due {review_due}")}</span>" "
                        <a href=format!("/agents/{agent}/review") class="button">"Review access"</a>
                    </span>
                })}
            </div>
            <table class="grid">
                <thead><tr><th scope="col">"When"</th><th scope="col">"What"</th><th scope="col">"Who"</th><th scope="col">"Why"</th></tr></thead>
                <tbody>
                    {entries.into_iter().map(|e| view! {
                        <tr data-seq=e.seq>
                            <td class="mono nowrap small">{e.at}</td>
                            <td>{e.what}</td>
                            <td>{e.who}</td>
                            <td>{e.why}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}
