//! The review workflow's part of the port: the queue, claims, votes and outcomes, and the webhook outbox.
//!
//! Changes are optimistic: the service reads, the domain decides, and the store applies the decision only
//! if the action is still as it was read (still pending, the same number of approvals, the same claim).
//! A `false` answer means someone else got there first; the service reads again and tells the person.

use super::Result;
use crate::delivery::Change;
use crate::domain::audit::Event;
use crate::domain::review::Claim;
use crate::domain::scope::Money;
use crate::domain::{ActionType, HeldStatus, RiskTier};
use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

/// One reviewer's vote.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub held_action: Uuid,
    pub reviewer: Uuid,
    pub approve: bool,
    pub reason: Option<String>,
    /// The narrowed amount this reviewer allowed.
    pub amount: Option<Money>,
    pub stepped_up: bool,
    pub at: OffsetDateTime,
}

/// A terminal state and what the agent is told about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: HeldStatus,
    pub reason: Option<String>,
    pub approved_amount: Option<Money>,
    pub decided_by: Option<Uuid>,
    pub decided_at: OffsetDateTime,
    pub receipt: String,
}

/// Where an outcome message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The agent's webhook (`delivery::webhook`).
    Webhook,
    /// `countersign.outcome.<tenant>.<agent>` on JetStream (`broker::outcomes`).
    Nats,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Webhook => "webhook",
            Channel::Nats => "nats",
        }
    }
}

/// An outcome message to send, written in the same transaction as the outcome it reports.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    pub id: Uuid,
    pub channel: Channel,
    pub agent_id: Uuid,
    pub held_action_id: Uuid,
    pub payload: String,
    pub created_at: OffsetDateTime,
}

/// The agent as a vote was weighed: the vote is applied only if its owner, sponsor and state are unchanged,
/// so a hand-over or suspension committed meanwhile makes the service weigh it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentGuard {
    pub agent: Uuid,
    pub owner: Uuid,
    pub sponsor: Option<Uuid>,
    pub state: crate::domain::AgentState,
    /// The credential that submitted the action must not have been revoked since (approvals only).
    pub credential: Option<Uuid>,
    /// The agent's allowance for the action's type as the vote weighed it: `None` none at all, `Some(None)`
    /// no limit. An approval commits only if it still stands (an owner may have narrowed it meanwhile).
    pub allowance: Option<Option<Money>>,
    pub action_type: crate::domain::ActionType,
}

/// A change to one pending action, applied only if it still has `expected_approvals` approvals (and its
/// agent still matches `guard`, when given).
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub action: Uuid,
    pub expected_approvals: i64,
    pub guard: Option<AgentGuard>,
    pub approvals: i64,
    pub review: Option<Review>,
    /// The review is an approval given faster than the case can be read (the rubber-stamp signal).
    pub fast_approval: bool,
    pub outcome: Option<Outcome>,
    pub deliveries: Vec<NewDelivery>,
    pub events: Vec<Event>,
    pub change: Change,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    Pending,
    Delivered,
    /// Every retry failed; only a redelivery sends it again.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryState> {
        [DeliveryState::Pending, DeliveryState::Delivered, DeliveryState::Failed].into_iter().find(|d| d.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: Uuid,
    pub agent_id: Uuid,
    pub held_action_id: Uuid,
    pub payload: String,
    pub state: DeliveryState,
    pub attempts: i64,
    pub next_attempt_at: Option<OffsetDateTime>,
    pub last_attempt_at: Option<OffsetDateTime>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
}

/// The result of one delivery attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub at: OffsetDateTime,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub state: DeliveryState,
    /// When to try again, while `state` is pending.
    pub next_attempt_at: Option<OffsetDateTime>,
    /// Recorded with the final state (delivered, or given up).
    pub event: Option<Event>,
}

/// One page of the queue: pending actions of `tenants`, soonest deadline first, after the keyset `after`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueQuery {
    pub tenants: Vec<Uuid>,
    pub action: Option<ActionType>,
    pub tier: Option<RiskTier>,
    pub agent: Option<Uuid>,
    pub after: Option<(OffsetDateTime, Uuid)>,
    pub limit: i64,
}

#[async_trait]
pub trait ReviewStore: Send + Sync + 'static {
    /// Queue rows; their `body` is left empty (the queue never shows it).
    async fn queue(&self, query: &QueueQuery) -> Result<Vec<super::HeldAction>>;
    /// Pending counts per tier under the query's tenants and filters, whatever its tier filter and page.
    async fn tier_counts(&self, query: &QueueQuery) -> Result<Vec<(RiskTier, i64)>>;
    /// Other actions of this customer or this agent, newest first, without bodies.
    async fn related(&self, tenant: Uuid, customer: &str, agent: Uuid, limit: i64) -> Result<Vec<super::HeldAction>>;
    /// Approved amounts for this customer and for this agent since `since`: (customer's, agent's).
    async fn approved_since(
        &self,
        tenant: Uuid,
        customer: &str,
        agent: Uuid,
        since: OffsetDateTime,
    ) -> Result<(Vec<Money>, Vec<Money>)>;
    async fn reviews(&self, action: Uuid) -> Result<Vec<Review>>;
    /// Replaces the claim on a pending action if it is still `expected`.
    async fn set_claim(
        &self,
        action: Uuid,
        expected: Option<Claim>,
        claim: Option<Claim>,
        event: Option<Event>,
        at: OffsetDateTime,
    ) -> Result<bool>;
    /// Applies each transition that still holds, all in one transaction; says which did.
    /// `clock` is read once the write lock is held: a vote commits only if its deadline has not passed by then.
    async fn apply(&self, transitions: Vec<Transition>, clock: &dyn crate::domain::clock::Clock) -> Result<Vec<bool>>;
    /// Pending actions whose deadline is at or before `now`, oldest deadline first.
    async fn overdue(&self, now: OffsetDateTime, limit: i64) -> Result<super::Readable<super::HeldAction>>;

    /// Due deliveries, oldest first and at most `per_agent` of any one agent (so one receiver's backlog
    /// cannot fill the batch), leased until `lease_until` so no other worker sends them meanwhile.
    async fn take_due_deliveries(
        &self,
        channel: Channel,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        per_agent: i64,
        limit: i64,
    ) -> Result<super::Readable<Delivery>>;
    /// Gives a taken delivery back, due at `until` (its receiver was busy or its breaker open); no attempt
    /// is counted.
    async fn postpone_delivery(&self, delivery: Uuid, until: OffsetDateTime) -> Result<()>;
    async fn record_attempt(&self, delivery: Uuid, attempt: &Attempt) -> Result<()>;
    async fn deliveries(&self, agent: Uuid, limit: i64) -> Result<Vec<Delivery>>;
    async fn delivery(&self, id: Uuid) -> Result<Option<Delivery>>;
    /// Queues a delivered or failed message again, at once.
    /// Queues a delivery again unless it is pending (waiting or leased by a sender) or was attempted within
    /// `REDELIVER_PAUSE`; `false` when it was not moved.
    async fn redeliver(&self, id: Uuid, event: Event, at: OffsetDateTime) -> Result<bool>;
    /// The installation's receipt keys as stored (sealed), newest first: the stored ones, or `candidate`
    /// stored now with `event` if there are none.
    async fn receipt_keys(&self, candidate: &str, event: Event, at: OffsetDateTime) -> Result<Vec<String>>;
    /// Adds a receipt key (sealed) that signs from now on, with `event`.
    async fn add_receipt_key(&self, id: &str, sealed: &str, event: Event, at: OffsetDateTime) -> Result<()>;
    /// Every stored secret as stored: agents' webhook secrets and the receipt keys.
    async fn stored_secrets(&self) -> Result<Vec<(SecretOf, String)>>;
    /// Replaces stored secrets with their resealed forms, with `event`, in one transaction.
    async fn reseal_secrets(
        &self,
        resealed: Vec<(SecretOf, String)>,
        resigned: Vec<crate::domain::checkpoint::Checkpoint>,
        event: Event,
        at: OffsetDateTime,
    ) -> Result<()>;
}

/// Whose stored secret: an agent's webhook secret, or a receipt key (by its row id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretOf {
    Agent(Uuid),
    ReceiptKey(String),
}
