//! The agent-lifecycle port over the services, and the views of an agent's life the agent pages share:
//! its standing, its timeline from the audit log, its hand-overs, and the access-review evidence.

use super::agent_console::{id, principal, when};
use super::console::{hide, ConsoleService};
use crate::domain::audit::Record;
use crate::domain::lifecycle::{Attestation, Change, Handover, HandoverState, ReviewStanding};
use crate::service::{By, Evidence};
use crate::store::{Agent, User};
use app::error::AppError;
use app::lifecycle_model::{EvidenceRow, EvidenceView, HandoverView, LifeView, TimelineEntry};
use app::model::Viewer;
use app::services::LifecycleConsole;
use async_trait::async_trait;
use std::collections::HashMap;
use time::OffsetDateTime;
use uuid::Uuid;

pub fn standing_text(standing: ReviewStanding) -> &'static str {
    match standing {
        ReviewStanding::Current => "current",
        ReviewStanding::DueSoon => "due soon",
        ReviewStanding::Overdue | ReviewStanding::Lapsed => "overdue",
    }
}

/// "Ada Lovelace" for `user:<id>`, "the command line" for `cli`, "Countersign" for `system`.
pub fn actor_name(actor: &str, people: &HashMap<Uuid, User>) -> String {
    match actor.split_once(':') {
        Some(("user", id)) => Uuid::parse_str(id)
            .ok()
            .and_then(|id| people.get(&id))
            .map_or_else(|| "a person".to_string(), |u| u.name.clone()),
        _ if actor == "cli" => "operator (command line)".into(),
        _ if actor == "system" => "Countersign".into(),
        _ => actor.to_string(),
    }
}

fn person(id: Uuid, people: &HashMap<Uuid, User>) -> String {
    people.get(&id).map_or_else(|| "(unknown)".into(), |u| u.email.clone())
}

impl ConsoleService {
    pub(super) fn life_view(&self, agent: &Agent, people: &HashMap<Uuid, User>) -> LifeView {
        let due = self.0.review_due(agent);
        let standing = self.0.lifecycle.review_standing(due, self.0.clock.now());
        LifeView {
            state_reason: agent.life.state_reason.clone(),
            state_changed_at: agent.life.state_changed_at.map(when),
            state_changed_by: agent.life.state_changed_by.as_deref().map(|a| actor_name(a, people)),
            review_due: due.date().to_string(),
            review_status: standing_text(standing).into(),
            last_reviewed_at: agent.life.last_reviewed_at.map(when),
            orphaned_since: agent.life.orphaned_at.map(when),
        }
    }

    pub(super) fn handover_view(
        &self,
        h: &Handover,
        agent_name: &str,
        viewer: Uuid,
        manages: bool,
        people: &HashMap<Uuid, User>,
    ) -> HandoverView {
        let open = h.open(self.0.clock.now());
        let state = if h.state == HandoverState::Pending && !open { "lapsed" } else { h.state.as_str() };
        HandoverView {
            id: h.id.to_string(),
            agent_id: h.agent.to_string(),
            agent_name: agent_name.to_string(),
            from: person(h.from_owner, people),
            to: person(h.to_owner, people),
            proposed_by: actor_name(&h.proposed_by, people),
            proposed_at: when(h.proposed_at),
            expires_at: when(h.expires_at),
            state: state.into(),
            may_answer: open && h.to_owner == viewer,
            may_withdraw: open && manages,
        }
    }

    /// The agent's life from the audit log: its own events and its credentials', newest first.
    pub(super) async fn timeline(
        &self,
        agent: &Agent,
        credentials: &[Uuid],
        people: &HashMap<Uuid, User>,
    ) -> Result<Vec<TimelineEntry>, AppError> {
        let subjects: Vec<String> = std::iter::once(format!("agent:{}", agent.id))
            .chain(credentials.iter().map(|c| format!("credential:{c}")))
            .collect();
        let records = self.0.store.events_about(&subjects, 200).await.map_err(|e| hide(e.into()))?;
        Ok(records.iter().filter_map(|r| entry(r, people)).collect())
    }

    fn evidence_view(&self, e: &Evidence) -> EvidenceView {
        let now = self.0.clock.now();
        let days = (now - e.since).whole_days();
        let due = self.0.review_due(&e.agent);
        EvidenceView {
            agent_id: e.agent.id.to_string(),
            agent_name: e.agent.name.clone(),
            since: when(e.since),
            days,
            rows: e
                .by_type
                .iter()
                .map(|(action, r)| EvidenceRow {
                    action_type: action.as_str().into(),
                    submitted: r.submitted,
                    approved: r.approved,
                    denied: r.denied,
                    expired: r.expired,
                    cancelled: r.cancelled,
                    approved_amount: r
                        .approved_amounts
                        .iter()
                        .map(|(currency, sum)| format!("{sum} {currency}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                })
                .collect(),
            credentials_minted: e.credentials_minted,
            credentials_used: e.credentials_used,
            unused: e
                .unused
                .iter()
                .map(|a| format!("{} allowance unused for {days} days — narrow it?", a.as_str()))
                .collect(),
            allowances: e.agent.scope.allowances().iter().map(|a| a.spec()).collect::<Vec<_>>().join("\n"),
            review_due: due.date().to_string(),
            review_status: standing_text(self.0.lifecycle.review_standing(due, now)).into(),
        }
    }
}

/// One audit record as a step of the agent's life, or `None` for events that are not part of it.
fn entry(r: &Record, people: &HashMap<Uuid, User>) -> Option<TimelineEntry> {
    let what = match r.kind.as_str() {
        "agent.created" => "Registered",
        "agent.updated" => "Purpose, scope or webhook changed",
        "credential.issued" => "Credential minted",
        "credential.revoked" => "Credential revoked",
        "agent.suspended" => "Suspended",
        "agent.resumed" => "Resumed",
        "agent.retired" => "Retired",
        "agent.orphaned" => "Orphaned",
        "agent.access_reviewed" => "Access reviewed",
        "agent.sponsor_changed" => "Sponsor changed",
        "agent.handover_proposed" => "Hand-over proposed",
        "agent.handover_accepted" => "Hand-over accepted",
        "agent.handover_declined" => "Hand-over declined",
        "agent.handover_withdrawn" => "Hand-over withdrawn",
        "agent.handover_lapsed" => "Hand-over lapsed",
        "held_action.refused" => "Submission refused",
        "agent.bound" => "Workload identity changed",
        "case.closed" => "Case closed",
        _ => return None,
    };
    let data: serde_json::Value = serde_json::from_str(&r.data).unwrap_or_default();
    let text = |key: &str| data[key].as_str().map(str::to_string);
    let why = text("reason")
        .or_else(|| text("note").map(|n| format!("{}: {n}", text("decision").unwrap_or_default())))
        .or_else(|| text("cause"))
        .or_else(|| text("to_email").map(|to| format!("to {to}")))
        .or_else(|| text("prefix").map(|p| format!("{p}…")))
        .or_else(|| text("case_id").map(|case| format!("case {case}")))
        .or_else(|| data["subject"][1].as_str().map(|s| format!("bound to {s}")))
        .unwrap_or_default();
    let at = OffsetDateTime::parse(&r.at, &time::format_description::well_known::Rfc3339).map_or(r.at.clone(), when);
    Some(TimelineEntry { seq: r.seq, at, what: what.into(), who: actor_name(&r.actor, people), why })
}

fn change(text: &str) -> Result<Change, AppError> {
    match text {
        "suspend" => Ok(Change::Suspend),
        "resume" => Ok(Change::Resume),
        "retire" => Ok(Change::Retire),
        other => Err(AppError::Invalid(format!("\"{other}\" is not suspend, resume or retire"))),
    }
}

#[async_trait]
impl LifecycleConsole for ConsoleService {
    async fn change_state(
        &self,
        viewer: &Viewer,
        agent: &str,
        to: &str,
        reason: &str,
        confirm: &str,
    ) -> Result<(), AppError> {
        let who = principal(viewer)?;
        let change = change(to)?;
        let confirm = (change == Change::Retire).then_some(confirm);
        self.0.change_agent_state(By::Person(&who), id(agent)?, change, reason, confirm).await.map_err(hide)?;
        Ok(())
    }

    async fn propose_handover(&self, viewer: &Viewer, agent: &str, to: &str) -> Result<(), AppError> {
        let who = principal(viewer)?;
        self.0.propose_handover(By::Person(&who), id(agent)?, to).await.map_err(hide)?;
        Ok(())
    }

    async fn answer_handover(&self, viewer: &Viewer, handover: &str, accept: bool) -> Result<(), AppError> {
        let who = principal(viewer)?;
        let me =
            self.0.store.user_by_id(who.user).await.map_err(|e| hide(e.into()))?.ok_or(AppError::Unauthenticated)?;
        self.0.answer_handover(&me, id(handover)?, accept).await.map_err(hide)
    }

    async fn withdraw_handover(&self, viewer: &Viewer, handover: &str) -> Result<(), AppError> {
        let who = principal(viewer)?;
        self.0.withdraw_handover(By::Person(&who), id(handover)?).await.map_err(hide)
    }

    async fn set_sponsor(&self, viewer: &Viewer, agent: &str, email: &str) -> Result<(), AppError> {
        let who = principal(viewer)?;
        self.0.set_sponsor(By::Person(&who), id(agent)?, email).await.map_err(hide)?;
        Ok(())
    }

    async fn evidence(&self, viewer: &Viewer, agent: &str) -> Result<EvidenceView, AppError> {
        let who = principal(viewer)?;
        let evidence = self.0.review_evidence(By::Person(&who), id(agent)?).await.map_err(hide)?;
        Ok(self.evidence_view(&evidence))
    }

    async fn attest(
        &self,
        viewer: &Viewer,
        agent: &str,
        decision: &str,
        allowances: &str,
        note: &str,
    ) -> Result<(), AppError> {
        let who = principal(viewer)?;
        let attestation = match decision {
            "keep" => Attestation::Keep,
            "narrow" => Attestation::Narrow(super::agent_console::allowance_lines(allowances)),
            "retire" => Attestation::Retire,
            other => return Err(AppError::Invalid(format!("\"{other}\" is not keep, narrow or retire"))),
        };
        self.0.attest(By::Person(&who), id(agent)?, attestation, note).await.map_err(hide)?;
        Ok(())
    }
}
