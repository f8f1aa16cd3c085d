//! The insights port: the rollups kept with every decision, read back per day for a period, and the
//! queue's age now.

use super::Result;
use crate::domain::audit::Event;
use crate::domain::{insights, HeldStatus};
use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

/// Settled actions of one day, action type and outcome, in one time-to-decision bucket.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DecisionCount {
    pub tenant_id: Uuid,
    pub day: String,
    pub action_type: String,
    pub outcome: String,
    pub bucket: i64,
    pub n: i64,
}

/// One reviewer's votes of one day and action type.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VoteCount {
    pub tenant_id: Uuid,
    pub day: String,
    pub reviewer_id: Uuid,
    pub action_type: String,
    pub approvals: i64,
    pub denials: i64,
    pub fast_approvals: i64,
}

/// What a rollup learns from one change, before it is summed with the others of its transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tally {
    Decided { tenant: Uuid, day: String, action: String, outcome: String, bucket: i64 },
    Voted { tenant: Uuid, day: String, reviewer: Uuid, action: String, approve: bool, fast: bool },
}

impl Tally {
    /// An action settled at `decided_at` that arrived at `received_at`.
    pub fn decided(
        tenant: Uuid,
        action: &str,
        outcome: &str,
        received_at: OffsetDateTime,
        decided_at: OffsetDateTime,
    ) -> Tally {
        Tally::Decided {
            tenant,
            day: insights::day(decided_at),
            action: action.to_string(),
            outcome: outcome.to_string(),
            bucket: insights::bucket(decided_at - received_at),
        }
    }

    /// A vote on an action of `tenant` and `action` type.
    pub fn voted(tenant: Uuid, action: &str, review: &super::Review, fast: bool) -> Tally {
        Tally::Voted {
            tenant,
            day: insights::day(review.at),
            reviewer: review.reviewer,
            action: action.to_string(),
            approve: review.approve,
            fast,
        }
    }

    /// What a row stored already settled counts (bulk-loaded history, which has no vote rows): its outcome,
    /// and its decider's vote.
    pub fn of_settled(a: &super::HeldAction) -> Vec<Tally> {
        let Some(at) = a.decided_at.filter(|_| a.status != HeldStatus::Pending) else { return Vec::new() };
        let mut tallies = vec![Tally::decided(a.tenant_id, a.action.as_str(), a.status.as_str(), a.received_at, at)];
        if let (Some(reviewer), HeldStatus::Approved | HeldStatus::Denied) = (a.decided_by, a.status) {
            let approve = a.status == HeldStatus::Approved;
            let (tenant, action) = (a.tenant_id, a.action.as_str().to_string());
            tallies.push(Tally::Voted { tenant, day: insights::day(at), reviewer, action, approve, fast: false });
        }
        tallies
    }
}

/// A decision drawn for re-review, with what the sample shows of it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QaSample {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub held_action_id: Uuid,
    pub drawn_by: Uuid,
    pub drawn_at: OffsetDateTime,
    /// `agree` or `disagree`, once re-reviewed.
    pub verdict: Option<String>,
    pub note: Option<String>,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<OffsetDateTime>,
    /// Of the held action: who decided it, how, and what it was.
    pub decided_by: Option<Uuid>,
    pub status: String,
    pub action_type: String,
}

#[async_trait]
pub trait InsightsStore: Send + Sync + 'static {
    /// Rollup rows of `tenants` for the days `from..=to` (`YYYY-MM-DD`).
    async fn decision_counts(&self, tenants: &[Uuid], from: &str, to: &str) -> Result<Vec<DecisionCount>>;
    async fn vote_counts(&self, tenants: &[Uuid], from: &str, to: &str) -> Result<Vec<VoteCount>>;
    /// The same rollup summed in the database: (day, outcome, settled).
    async fn outcomes_per_day(&self, tenants: &[Uuid], from: &str, to: &str) -> Result<Vec<(String, String, i64)>>;
    /// Approvals and denials summed per (action type, time-to-decision bucket).
    async fn decision_latency(&self, tenants: &[Uuid], from: &str, to: &str) -> Result<Vec<(String, i64, i64)>>;
    /// Pending actions of `tenants` that arrived before each of `cutoffs` (a count per cutoff).
    async fn pending_older_than(&self, tenants: &[Uuid], cutoffs: &[OffsetDateTime]) -> Result<Vec<i64>>;

    /// Up to `n` approved or denied actions of `tenants` decided since `since`, not sampled before, at random:
    /// (action, tenant).
    async fn sample_candidates(&self, tenants: &[Uuid], since: OffsetDateTime, n: i64) -> Result<Vec<(Uuid, Uuid)>>;
    /// Stores drawn samples (their held-action fields are ignored) with their events.
    async fn insert_samples(&self, samples: &[QaSample], events: Vec<Event>, at: OffsetDateTime) -> Result<()>;
    /// Samples of `tenants` drawn since `since`, newest first.
    async fn samples(&self, tenants: &[Uuid], since: OffsetDateTime) -> Result<Vec<QaSample>>;
    async fn sample(&self, id: Uuid) -> Result<Option<QaSample>>;
    /// Records a verdict on a sample that has none yet; `false` when it already had one.
    async fn record_verdict(
        &self,
        id: Uuid,
        agree: bool,
        note: &str,
        by: Uuid,
        event: Event,
        at: OffsetDateTime,
    ) -> Result<bool>;
}
