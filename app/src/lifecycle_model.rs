//! What the agent-lifecycle and people pages show, as the server prepares it. No rules live here.

use crate::model::{AgentSummary, TenantRef};
use serde::{Deserialize, Serialize};

/// The agents page: the viewer's agents (all of their tenants' for admins) and what needs their attention.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentsOverview {
    pub agents: Vec<AgentSummary>,
    /// Hand-overs proposed to the viewer, still open.
    pub incoming: Vec<HandoverView>,
    pub is_admin: bool,
    /// Owner emails, for the admin's filter.
    pub owners: Vec<String>,
    /// Issuers the viewer's tenants trust for workload identity.
    pub issuers: Vec<IssuerView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerView {
    pub id: String,
    pub tenant: String,
    pub issuer: String,
    pub audience: String,
    /// Where its keys come from, in words: the JWKS URL, or "pasted JWKS".
    pub keys: String,
    /// The JWKS URL, empty for a pasted JWKS (the edit form starts from it).
    pub jwks_url: String,
    pub added_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoverView {
    pub id: String,
    pub agent_id: String,
    pub agent_name: String,
    pub from: String,
    pub to: String,
    pub proposed_by: String,
    pub proposed_at: String,
    pub expires_at: String,
    /// pending, accepted, declined, withdrawn or lapsed.
    pub state: String,
    pub may_answer: bool,
    pub may_withdraw: bool,
}

/// Where an agent is in its life.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifeView {
    /// Why, when and by whom its state last changed.
    pub state_reason: Option<String>,
    pub state_changed_at: Option<String>,
    pub state_changed_by: Option<String>,
    pub review_due: String,
    /// "current", "due soon" or "overdue".
    pub review_status: String,
    pub last_reviewed_at: Option<String>,
    pub orphaned_since: Option<String>,
}

/// One step of the agent's life, from the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub seq: i64,
    pub at: String,
    pub what: String,
    pub who: String,
    pub why: String,
}

/// What retiring the agent would end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RetirementView {
    pub pending_actions: i64,
    pub live_credentials: i64,
    pub queued_deliveries: i64,
}

/// The evidence an access review decides on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceView {
    pub agent_id: String,
    pub agent_name: String,
    pub since: String,
    pub days: i64,
    pub rows: Vec<EvidenceRow>,
    pub credentials_minted: usize,
    pub credentials_used: usize,
    /// "refund allowance unused for 90 days — narrow it?"
    pub unused: Vec<String>,
    /// The current scope, one allowance per line, to narrow from.
    pub allowances: String,
    pub review_due: String,
    pub review_status: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRow {
    pub action_type: String,
    pub submitted: i64,
    pub approved: i64,
    pub denied: i64,
    pub expired: i64,
    pub cancelled: i64,
    pub approved_amount: String,
}

/// The people page for an admin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeopleAdmin {
    pub tenants: Vec<TenantRef>,
    pub people: Vec<PersonAdminRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonAdminRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub roles: Vec<crate::model::Role>,
    /// Slugs of the viewer's tenants this person belongs to.
    pub tenants: Vec<String>,
    /// Their roles in each of those tenants, by slug.
    #[serde(default)]
    pub tenant_roles: Vec<(String, Vec<crate::model::Role>)>,
    pub active: bool,
    pub locked_until: Option<String>,
    pub must_change_password: bool,
    /// Whether every tenant of theirs is the viewer's, so roles and status are the viewer's to change.
    pub whole: bool,
}

/// The admin's edit of a trusted issuer: its audience and keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerEditForm {
    pub id: String,
    pub audience: String,
    pub jwks_url: String,
    pub jwks: String,
}

/// The admin's form for a trusted issuer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerForm {
    pub tenant: String,
    pub issuer: String,
    pub audience: String,
    pub jwks_url: String,
    pub jwks: String,
}
