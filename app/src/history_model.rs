//! What the history and decision-record pages show, as the server sends it. The filters are the page's
//! address: a filtered view is a link an auditor can paste into a finding.

use crate::model::{ActionType, AuditEventView, HeldStatus, RiskTier, TenantRef};
use crate::review_model::{CaseView, DeliveryView};
use serde::{Deserialize, Serialize};

/// The history's filters exactly as they appear in its URL; empty means "any".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryFilter {
    /// A day (`2026-11-01`) or an RFC 3339 time; `to` includes its whole day.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub to: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tenant: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub agent: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub owner: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reviewer: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub action: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tier: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub outcome: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub customer: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub case: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub amount_min: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub amount_max: String,
    /// Free text over the agent's intent and the case summary.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub q: String,
    /// The keyset cursor of the page to show (from the previous page's `next`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub after: String,
}

impl HistoryFilter {
    /// Reads the filters from an address's query parameters.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Self {
        let f = |k: &str| get(k).unwrap_or_default();
        HistoryFilter {
            from: f("from"),
            to: f("to"),
            tenant: f("tenant"),
            agent: f("agent"),
            owner: f("owner"),
            reviewer: f("reviewer"),
            action: f("action"),
            tier: f("tier"),
            outcome: f("outcome"),
            customer: f("customer"),
            case: f("case"),
            amount_min: f("amount_min"),
            amount_max: f("amount_max"),
            q: f("q"),
            after: f("after"),
        }
    }

    /// The query string (without `?`) of these filters; the cursor only when `with_cursor`.
    pub fn to_query(&self, with_cursor: bool) -> String {
        let mut f = self.clone();
        if !with_cursor {
            f.after.clear();
        }
        serde_urlencoded::to_string(&f).unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.to_query(false).is_empty()
    }
}

/// One settled or pending held action in the history list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub id: String,
    pub tenant: String,
    pub received_at: String,
    pub action: ActionType,
    pub amount: Option<String>,
    pub tier: RiskTier,
    pub agent: String,
    pub customer: String,
    pub case_id: String,
    pub status: HeldStatus,
    /// Who cast the deciding vote ("its deadline", "the agent" for expiries and withdrawals).
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub intent: String,
}

/// (value, label) pairs for a filter's choices.
pub type Choices = Vec<(String, String)>;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub rows: Vec<HistoryRow>,
    pub next: Option<String>,
    /// Only the decisions the viewer took part in (supervisors without audit rights).
    pub mine_only: bool,
    pub tenants: Vec<TenantRef>,
    pub agents: Choices,
    pub owners: Choices,
    pub reviewers: Choices,
}

/// A decision as the record keeps it: the case view rendered from the stored submission, and everything
/// that happened to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub case: CaseView,
    /// The SHA-256 stored at intake, and the one computed now over the stored body.
    pub stored_hash: String,
    pub computed_hash: String,
    /// From arrival to decision, in words ("4 min 12 s").
    pub time_to_decision: Option<String>,
    pub owner_then: String,
    pub sponsor_then: Option<String>,
    /// Claims, take-overs and releases, in order, as "who · what · when".
    pub claims: Vec<String>,
    pub deliveries: Vec<DeliveryView>,
    pub receipt: Option<String>,
    /// Whether the receipt verifies against the installation's receipt key, checked on display.
    pub receipt_valid: Option<bool>,
    pub events: Vec<AuditEventView>,
}

/// The audit log's filters, as they appear in its URL; empty means "any".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// `user:<id>`, `agent:<id>`, `system` or `cli`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub actor: String,
    /// `held_action:<id>`, `agent:<id>`, `user:<id>`, `tenant:<id>` …
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub target: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tenant: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub to: String,
    /// Events older than this sequence number (the next page).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub before: String,
}

impl AuditFilter {
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Self {
        let f = |k: &str| get(k).unwrap_or_default();
        AuditFilter {
            kind: f("kind"),
            actor: f("actor"),
            target: f("target"),
            tenant: f("tenant"),
            from: f("from"),
            to: f("to"),
            before: f("before"),
        }
    }

    pub fn to_query(&self, with_cursor: bool) -> String {
        let mut f = self.clone();
        if !with_cursor {
            f.before.clear();
        }
        serde_urlencoded::to_string(&f).unwrap_or_default()
    }
}

/// The audit chain's verification: one under way, and the last one kept.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainStatus {
    pub running: Option<ChainProgress>,
    pub last: Option<ChainReport>,
}

/// A check under way: events verified so far, of the chain's length when it started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainProgress {
    pub checked: u64,
    pub total: u64,
    pub started_at: String,
}

/// What a finished check found. The whole chain is checked; `events` counts the viewer's own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainReport {
    pub events: u64,
    /// The last event that verified (`None`: the chain is empty or broke at its first event).
    pub head_seq: Option<i64>,
    pub head_hash: Option<String>,
    /// The first bad event and why.
    pub broken: Option<(i64, String)>,
    pub checked_at: String,
    pub checked_by: String,
}
