//! What the queue and case pages show, as the server sends it. Times the browser counts down from are
//! Unix milliseconds, with the server's clock sent alongside so a skewed browser clock does not matter.

use crate::model::{ActionType, AgentState, HeldStatus, RiskTier, TenantRef};
use serde::{Deserialize, Serialize};

/// The queue's filters, as they appear in its URL; empty means "any".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueFilter {
    pub tenant: String,
    pub action: String,
    pub tier: String,
    pub agent: String,
    /// The keyset cursor of the page to show (from the previous page's `next`).
    pub after: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueRow {
    pub id: String,
    pub tenant: String,
    pub action: ActionType,
    pub amount: Option<String>,
    pub agent: String,
    /// Its agent is suspended: the action may be denied, not approved.
    pub agent_suspended: bool,
    pub customer: String,
    pub tier: RiskTier,
    pub expires_at_ms: i64,
    pub claimed_by: Option<String>,
    pub approvals: i64,
    pub needed: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuePage {
    pub rows: Vec<QueueRow>,
    /// Pending per tier under the current filters (tier filter aside).
    pub counts: Vec<(RiskTier, i64)>,
    pub next: Option<String>,
    pub tenants: Vec<TenantRef>,
    /// (id, name) of the agents of the viewer's tenants.
    pub agents: Vec<(String, String)>,
    pub server_now_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    /// customer, agent, tool or system.
    pub role: String,
    pub at: String,
    /// The tool's name, for tool calls.
    pub name: Option<String>,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentCard {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub purpose: String,
    pub state: AgentState,
    /// `None` when this action type and amount are within the agent's declared scope; else why not.
    pub beyond_scope: Option<String>,
    /// The workload identity that vouched for this submission, when one did.
    pub subject: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelatedRow {
    pub id: String,
    pub action: ActionType,
    pub amount: Option<String>,
    pub status: HeldStatus,
    pub received_at: String,
    /// "same customer", "same agent" or both.
    pub link: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewView {
    pub reviewer: String,
    pub approve: bool,
    pub reason: Option<String>,
    pub amount: Option<String>,
    pub stepped_up: bool,
    pub at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimView {
    pub by: String,
    pub mine: bool,
    pub until_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeView {
    pub status: HeldStatus,
    pub reason: Option<String>,
    pub by: String,
    pub at: String,
    pub approved_amount: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseView {
    pub id: String,
    pub tenant: String,
    pub status: HeldStatus,
    pub action: ActionType,
    pub amount: Option<String>,
    /// The requested value and currency, to prefill a narrowing.
    pub amount_value: Option<String>,
    pub currency: Option<String>,
    pub tier: RiskTier,
    pub approvals: i64,
    pub needed: i64,
    pub received_at: String,
    pub expires_at_ms: i64,
    pub server_now_ms: i64,
    pub parameters: Vec<(String, String)>,
    pub intent: String,
    pub policy_rule: String,
    pub policy_reason: String,
    pub risk_score: Option<String>,
    pub on_behalf_of: Option<String>,
    pub consented_scope: Vec<String>,
    /// Set when the action goes beyond what the customer consented to, saying how.
    pub beyond_consent: Option<String>,
    pub case_id: String,
    pub channel: Option<String>,
    pub summary: Option<String>,
    pub customer: String,
    pub customer_tier: Option<String>,
    pub facts: Vec<(String, String)>,
    pub transcript: Vec<Turn>,
    pub agent: AgentCard,
    pub related: Vec<RelatedRow>,
    pub approved_24h_customer: String,
    pub approved_24h_agent: String,
    pub reviews: Vec<ReviewView>,
    pub claim: Option<ClaimView>,
    /// `None` when the viewer may decide; else why not, in words.
    pub may_not_decide: Option<String>,
    /// Critical approvals need the password again; until when the viewer's last step-up counts.
    pub step_up_until_ms: Option<i64>,
    pub outcome: Option<OutcomeView>,
    pub deny_reasons: Vec<String>,
}

/// A decision as the form sends it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionForm {
    /// "approve" or "deny".
    pub verdict: String,
    /// A lower amount, for approvals; empty means as requested.
    pub amount: String,
    pub preset: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub id: String,
    pub held_action: String,
    pub event: String,
    pub state: String,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<String>,
    pub next_attempt_at: Option<String>,
    pub created_at: String,
}
