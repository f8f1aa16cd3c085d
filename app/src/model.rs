//! Data shared by the server and the browser. No rules live here: the server decides what a viewer may
//! open (src/domain/access.rs) and sends the answer along in [`Viewer::sections`].

use serde::{Deserialize, Serialize};

/// What a person may be; one person can hold several.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Supervisor,
    Owner,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Supervisor, Role::Owner, Role::Auditor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Owner => "owner",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A screen of the console. Each has one path; the server guards it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Section {
    Overview,
    Queue,
    History,
    Insights,
    Agents,
    Audit,
    People,
    Account,
}

impl Section {
    pub const ALL: [Section; 8] = [
        Section::Overview,
        Section::Queue,
        Section::History,
        Section::Insights,
        Section::Agents,
        Section::Audit,
        Section::People,
        Section::Account,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Section::Overview => "/",
            Section::Queue => "/queue",
            Section::History => "/history",
            Section::Insights => "/insights",
            Section::Agents => "/agents",
            Section::Audit => "/audit",
            Section::People => "/people",
            Section::Account => "/account",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Section::Overview => "Overview",
            Section::Queue => "Queue",
            Section::History => "History",
            Section::Insights => "Insights",
            Section::Agents => "Agents",
            Section::Audit => "Audit log",
            Section::People => "People",
            Section::Account => "Account",
        }
    }

    /// The section a page path belongs to (`/audit/...` belongs to Audit).
    pub fn of_path(path: &str) -> Option<Section> {
        if path == "/" || path.is_empty() {
            return Some(Section::Overview);
        }
        Section::ALL.into_iter().filter(|s| *s != Section::Overview).find(|s| {
            let p = s.path();
            path == p || path.strip_prefix(p).is_some_and(|rest| rest.starts_with('/'))
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRef {
    pub id: String,
    pub slug: String,
    pub name: String,
    /// The viewer's (or listed person's) roles in this tenant.
    #[serde(default)]
    pub roles: Vec<Role>,
}

/// The client address of a request (behind a trusted proxy, the one it forwarded for), as the server's
/// middleware resolved it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub String);

/// The signed-in person as the console sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub tenants: Vec<TenantRef>,
    /// Sections this viewer may open, in navigation order.
    pub sections: Vec<Section>,
    /// Signed in with a one-time password: nothing but choosing a new one until they do.
    pub must_change_password: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEventView {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    /// The actor's and subject's names where the viewer may know them, and their pages.
    pub actor_name: Option<String>,
    pub actor_href: Option<String>,
    pub kind: String,
    pub subject: String,
    pub subject_name: Option<String>,
    pub subject_href: Option<String>,
    pub tenant: Option<String>,
    pub data: String,
    pub hash: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub events: Vec<AuditEventView>,
    /// Choices for the filters: event types, and (reference, name) of the people and agents the viewer knows.
    pub kinds: Vec<String>,
    pub actors: Vec<(String, String)>,
    pub tenants: Vec<TenantRef>,
    /// Pass as `before` to fetch the next (older) page; `None` at the start of the log.
    pub older: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRow {
    pub email: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub tenants: Vec<String>,
    pub active: bool,
    /// RFC 3339 time until which sign-in is locked, if it is.
    pub locked_until: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct People {
    pub tenants: Vec<TenantRef>,
    pub people: Vec<PersonRow>,
}

/// The kinds of act an agent may ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionType {
    Refund,
    PasswordReset,
    MfaReset,
    AccountClosure,
    DataExport,
    PaymentMethodChange,
    AddressChange,
}

impl ActionType {
    pub const ALL: [ActionType; 7] = [
        ActionType::Refund,
        ActionType::PasswordReset,
        ActionType::MfaReset,
        ActionType::AccountClosure,
        ActionType::DataExport,
        ActionType::PaymentMethodChange,
        ActionType::AddressChange,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionType::Refund => "refund",
            ActionType::PasswordReset => "password_reset",
            ActionType::MfaReset => "mfa_reset",
            ActionType::AccountClosure => "account_closure",
            ActionType::DataExport => "data_export",
            ActionType::PaymentMethodChange => "payment_method_change",
            ActionType::AddressChange => "address_change",
        }
    }

    pub fn parse(s: &str) -> Option<ActionType> {
        ActionType::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Whether the act moves money, so carries an amount and may have a money limit.
    pub fn moves_money(self) -> bool {
        self == ActionType::Refund
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskTier {
    High,
    Critical,
}

impl RiskTier {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskTier::High => "high",
            RiskTier::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<RiskTier> {
        [RiskTier::High, RiskTier::Critical].into_iter().find(|t| t.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    Active,
    Suspended,
    Retired,
}

impl AgentState {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentState::Active => "active",
            AgentState::Suspended => "suspended",
            AgentState::Retired => "retired",
        }
    }

    pub fn parse(s: &str) -> Option<AgentState> {
        [AgentState::Active, AgentState::Suspended, AgentState::Retired].into_iter().find(|t| t.as_str() == s)
    }
}

/// Where a held action stands. Terminal states never change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeldStatus {
    Pending,
    Approved,
    Denied,
    Expired,
    Cancelled,
}

impl HeldStatus {
    pub const ALL: [HeldStatus; 5] =
        [HeldStatus::Pending, HeldStatus::Approved, HeldStatus::Denied, HeldStatus::Expired, HeldStatus::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            HeldStatus::Pending => "pending",
            HeldStatus::Approved => "approved",
            HeldStatus::Denied => "denied",
            HeldStatus::Expired => "expired",
            HeldStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<HeldStatus> {
        HeldStatus::ALL.into_iter().find(|h| h.as_str() == s)
    }
}

/// One action type an agent may request, with its money limit when it has one ("500.00 EUR").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowanceView {
    pub action_type: ActionType,
    pub limit: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentSummary {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub purpose: String,
    pub owner: String,
    pub sponsor: Option<String>,
    /// The viewer's standing: "owner", "sponsor" or "admin".
    pub relation: String,
    pub state: AgentState,
    pub allowances: Vec<AllowanceView>,
    pub pending: i64,
    pub live_credentials: i64,
    /// When a credential of it was last used.
    pub last_activity: Option<String>,
    pub review_due: String,
    /// "current", "due soon" or "overdue".
    pub review_status: String,
    pub orphaned: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialView {
    pub id: String,
    pub prefix: String,
    pub created_at: String,
    pub expires_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    /// "active", "expired" or "revoked", said in words.
    pub status: String,
    /// A just-in-time credential's case and action types, and the workload subject that obtained it
    /// ("CS-8812: refund, by spiffe://…"); `None` for one its owner minted.
    pub case: Option<String>,
}

/// An agent's workload identity as its owner sets it: the subject (empty unbinds) and "workload identity only".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadForm {
    pub subject: String,
    pub only: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentDetail {
    pub agent: AgentSummary,
    /// The workload subject whose tokens authenticate it, and whether only they do.
    pub workload_subject: Option<String>,
    pub workload_only: bool,
    pub owner_email: String,
    pub sponsor: Option<String>,
    pub webhook_url: Option<String>,
    pub credentials: Vec<CredentialView>,
    /// Recent webhook messages, newest first.
    pub deliveries: Vec<crate::review_model::DeliveryView>,
    /// What the viewer may do here, decided by the server.
    pub may_edit: bool,
    pub may_widen: bool,
    pub life: crate::lifecycle_model::LifeView,
    pub timeline: Vec<crate::lifecycle_model::TimelineEntry>,
    pub handovers: Vec<crate::lifecycle_model::HandoverView>,
    pub retirement: crate::lifecycle_model::RetirementView,
}

/// Choices for the agent form: tenants the viewer administers and the owners in them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentFormOptions {
    pub tenants: Vec<TenantRef>,
    /// (email, name, tenant slugs)
    pub owners: Vec<(String, String, Vec<String>)>,
}

/// A new agent; the webhook signing secret (when it has a webhook) is shown this once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedAgent {
    pub id: String,
    pub webhook_secret: Option<String>,
}

/// A credential's secret, shown exactly once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintedCredential {
    pub secret: String,
    pub credential: CredentialView,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_their_section() {
        assert_eq!(Section::of_path("/"), Some(Section::Overview));
        assert_eq!(Section::of_path("/audit"), Some(Section::Audit));
        assert_eq!(Section::of_path("/audit/12"), Some(Section::Audit));
        assert_eq!(Section::of_path("/auditx"), None);
        assert_eq!(Section::of_path("/nowhere"), None);
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
