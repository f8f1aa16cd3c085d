//! The history port: held actions newest first under an auditor's filters, the audit log under its
//! filters, and what a decision record gathers about one action.

use super::{Delivery, HeldAction, Result};
use crate::domain::access::AuditScope;
use crate::domain::audit::Record;
use crate::domain::chain_check::ChainCheck;
use crate::domain::history::{AuditFilterQuery, Filter};
use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

/// One page of the history: held actions of `tenants` under `filter`, newest first, after the keyset `after`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryQuery {
    pub tenants: Vec<Uuid>,
    pub filter: Filter,
    /// Only actions this person voted on ("My decisions").
    pub voter: Option<Uuid>,
    /// (received_at, id) of the last row of the previous page.
    pub after: Option<(OffsetDateTime, Uuid)>,
    pub limit: i64,
}

/// One page of the audit log: events the scope allows, under the filter, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    pub scope: AuditScope,
    pub filter: AuditFilterQuery,
    pub limit: i64,
}

#[async_trait]
pub trait HistoryStore: Send + Sync + 'static {
    /// History rows, with their bodies; without receipts and claims (`held_action` has the whole row).
    async fn history(&self, query: &HistoryQuery) -> Result<Vec<HeldAction>>;
    async fn audit_events(&self, query: &AuditQuery) -> Result<Vec<Record>>;
    /// Every event about `subject`, in chain order.
    async fn audit_about(&self, subject: &str) -> Result<Vec<Record>>;
    /// The webhook messages of one held action, oldest first.
    async fn action_deliveries(&self, action: Uuid) -> Result<Vec<Delivery>>;
    /// The last event's sequence number (0 for an empty chain).
    async fn audit_head(&self) -> Result<i64>;
    /// Keeps a finished verification of the chain.
    async fn keep_chain_check(&self, check: &ChainCheck) -> Result<()>;
    /// The verification that finished last.
    async fn last_chain_check(&self) -> Result<Option<ChainCheck>>;
    /// Keeps a signed checkpoint (one per seq: a second for the same head changes nothing).
    async fn add_checkpoint(&self, checkpoint: &crate::domain::checkpoint::Checkpoint) -> Result<()>;
    /// The newest checkpoint's seq, if any.
    async fn last_checkpoint_seq(&self) -> Result<Option<i64>>;
    /// Every checkpoint, oldest first.
    async fn checkpoints(&self) -> Result<Vec<crate::domain::checkpoint::Checkpoint>>;
    /// Held actions after `after` in id order, as the consistency check compares them with their events.
    async fn row_facts(&self, after: Option<Uuid>, limit: i64) -> Result<Vec<crate::domain::consistency::RowFacts>>;
    /// Every event about any of `subjects`, in chain order.
    async fn audit_about_all(&self, subjects: &[String]) -> Result<Vec<Record>>;
}
