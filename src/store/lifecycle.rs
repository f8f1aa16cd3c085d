//! The agent lifecycle's part of the port: state changes (retirement in one transaction with everything it
//! ends), hand-overs, access-review evidence, the agent's own audit events, and changes to people that can
//! orphan agents.

use super::{HeldAction, Result, Transition};
use crate::delivery::Change;
use crate::domain::audit::{Event, Record};
use crate::domain::lifecycle::{Handover, HandoverState};
use crate::domain::{ActionType, AgentState, HeldStatus};
use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

/// A lifecycle move, applied only if the agent is still in `from`.
#[derive(Debug, Clone, PartialEq)]
pub struct StateChange {
    pub agent: Uuid,
    pub from: AgentState,
    pub to: AgentState,
    pub reason: String,
    /// The actor as the audit log names it.
    pub by: String,
    pub event: Event,
}

/// What retiring an agent would end, shown before anyone confirms it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetirementPreview {
    pub pending_actions: i64,
    pub live_credentials: i64,
    pub queued_deliveries: i64,
}

/// Counts of an agent's held actions by type and status since a time, with the amounts approved.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Activity {
    pub counts: Vec<(ActionType, HeldStatus, i64)>,
    /// (type, approved amount as a decimal string, currency) for each approved action that moves money.
    pub approved_amounts: Vec<(ActionType, String, String)>,
    /// When the agent last submitted anything at all.
    pub last_submitted_at: Option<OffsetDateTime>,
}

/// A person's memberships and their roles in each, as an admin sets them.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonChange {
    pub user: Uuid,
    pub memberships: crate::domain::access::Memberships,
    pub event: Event,
    /// Tenants that must keep an active admin, re-checked inside the write transaction.
    pub keep_admins: Vec<Uuid>,
}

#[async_trait]
pub trait LifecycleStore: Send + Sync + 'static {
    /// Moves the agent's state. Retirement also revokes every live credential and applies `cancellations`
    /// (one per pending action), all in one transaction; it answers `false` and changes nothing if the agent
    /// left `from` or has a pending action that `cancellations` does not cover.
    /// Returns the live changes to announce, or `None` when nothing was changed.
    async fn change_state(
        &self,
        change: &StateChange,
        cancellations: Vec<Transition>,
        at: OffsetDateTime,
    ) -> Result<Option<Vec<Change>>>;
    /// Every pending action of the agent, without bodies.
    async fn pending_of_agent(&self, agent: Uuid) -> Result<Vec<HeldAction>>;
    async fn retirement_preview(&self, agent: Uuid, now: OffsetDateTime) -> Result<RetirementPreview>;
    /// Pending actions per agent, for the agents list.
    async fn pending_per_agent(&self, agents: &[Uuid]) -> Result<Vec<(Uuid, i64)>>;
    async fn activity(&self, agent: Uuid, since: OffsetDateTime) -> Result<Activity>;
    /// Audit events about any of `subjects`, newest first.
    async fn events_about(&self, subjects: &[String], limit: i64) -> Result<Vec<Record>>;

    /// Records a proposal; `Conflict` when the agent already has an open one.
    async fn propose_handover(&self, handover: &Handover, event: Event) -> Result<()>;
    async fn handover(&self, id: Uuid) -> Result<Option<Handover>>;
    /// Pending proposals whose seven days have passed.
    async fn lapsed_handovers(&self, now: OffsetDateTime) -> Result<Vec<Handover>>;
    /// Proposals about `agent`, or addressed to `to`, newest first.
    async fn handovers(&self, agent: Option<Uuid>, to: Option<Uuid>) -> Result<Vec<Handover>>;
    /// Settles a pending proposal. Accepting also makes the proposed person the owner (if the proposer's
    /// owner still is) and clears the orphan mark; `false` when it was no longer pending or the owner changed.
    async fn settle_handover(&self, id: Uuid, state: HandoverState, event: Event, at: OffsetDateTime) -> Result<bool>;
}

/// Changes to people; each re-marks the orphan state of the agents the person owns, in the same transaction.
#[async_trait]
pub trait PeopleStore: Send + Sync + 'static {
    /// Sets roles and memberships; agents this orphans are marked (with an event each) in the same transaction.
    async fn update_person(&self, change: &PersonChange, at: OffsetDateTime) -> Result<()>;
    /// Disables (ending every session) or enables a person, re-marking their agents' orphan state.
    /// Disables or re-enables; `keep_admins` must each still have an active admin after it (checked in the
    /// same transaction, else nothing changes).
    async fn set_person_active(
        &self,
        user: Uuid,
        active: bool,
        keep_admins: &[Uuid],
        event: Event,
        at: OffsetDateTime,
    ) -> Result<bool>;
    /// Clears the sign-in lockout.
    async fn unlock_person(&self, user: Uuid, event: Event, at: OffsetDateTime) -> Result<()>;
}
