//! Rows as both stores return them; `FromRow` is derived generically, so one definition serves both.
//! People, agents, their credentials and the audit log here; held actions and what follows them in `held`.

mod held;

pub use held::{DeliveryRow, HeldActionRow, ReviewRow};

use super::{Agent, Credential, StoreError, Tenant};
use crate::domain::audit::Record;
use crate::domain::scope::{Allowance, Money, Scope};
use crate::domain::{ActionType, AgentState, Role};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
pub struct TenantRow {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub created_at: OffsetDateTime,
}

impl From<TenantRow> for Tenant {
    fn from(r: TenantRow) -> Self {
        Tenant { id: r.id, slug: r.slug, name: r.name, created_at: r.created_at }
    }
}

#[derive(sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub active: bool,
    pub session_epoch: i64,
    pub must_change_password: bool,
    pub created_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
pub struct RoleRow {
    pub user_id: Uuid,
    pub role: String,
}

impl RoleRow {
    pub fn role(&self) -> Result<Role, StoreError> {
        Role::parse(&self.role).ok_or_else(|| StoreError::Corrupt(format!("unknown role {:?}", self.role)))
    }
}

#[derive(sqlx::FromRow)]
pub struct TenantRoleRow {
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    pub role: String,
}

impl TenantRoleRow {
    pub fn role(&self) -> Result<Role, StoreError> {
        Role::parse(&self.role).ok_or_else(|| StoreError::Corrupt(format!("unknown role {:?}", self.role)))
    }
}

#[derive(sqlx::FromRow)]
pub struct MembershipRow {
    pub user_id: Uuid,
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub created_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub subject: String,
    pub tenant_id: Option<Uuid>,
    pub data: String,
    pub prev_hash: String,
    pub hash: String,
}

impl From<AuditRow> for Record {
    fn from(r: AuditRow) -> Self {
        Record {
            seq: r.seq,
            at: r.at,
            actor: r.actor,
            kind: r.kind,
            subject: r.subject,
            tenant: r.tenant_id,
            data: r.data,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

#[derive(sqlx::FromRow)]
pub struct AgentRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub purpose: String,
    pub owner_id: Uuid,
    pub sponsor_id: Option<Uuid>,
    pub state: String,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    pub created_at: OffsetDateTime,
    pub review_due_at: Option<OffsetDateTime>,
    pub last_reviewed_at: Option<OffsetDateTime>,
    pub state_reason: Option<String>,
    pub state_changed_at: Option<OffsetDateTime>,
    pub state_changed_by: Option<String>,
    pub orphaned_at: Option<OffsetDateTime>,
    pub registered_by: Option<Uuid>,
    pub scope_changed_by: Option<Uuid>,
    pub workload_subject: Option<String>,
    pub workload_only: bool,
}

#[derive(sqlx::FromRow)]
pub struct AllowanceRow {
    pub agent_id: Uuid,
    pub action_type: String,
    pub limit_value: Option<String>,
    pub limit_currency: Option<String>,
}

impl AllowanceRow {
    pub fn allowance(&self) -> Result<Allowance, StoreError> {
        let corrupt = |what: String| StoreError::Corrupt(what);
        let action =
            ActionType::parse(&self.action_type).ok_or_else(|| corrupt(format!("action type {}", self.action_type)))?;
        let limit = match (&self.limit_value, &self.limit_currency) {
            (Some(v), Some(c)) => Some(Money::parse(v, c).map_err(|e| corrupt(e.0))?),
            _ => None,
        };
        Ok(Allowance { action, limit })
    }
}

impl AgentRow {
    pub fn into_agent(self, allowances: &[AllowanceRow]) -> Result<Agent, StoreError> {
        let scope = allowances
            .iter()
            .filter(|a| a.agent_id == self.id)
            .map(AllowanceRow::allowance)
            .collect::<Result<Vec<_>, _>>()
            .and_then(|a| Scope::new(a).map_err(|e| StoreError::Corrupt(e.0)))?;
        Ok(Agent {
            state: AgentState::parse(&self.state)
                .ok_or_else(|| StoreError::Corrupt(format!("agent state {}", self.state)))?,
            id: self.id,
            tenant_id: self.tenant_id,
            name: self.name,
            purpose: self.purpose,
            owner_id: self.owner_id,
            sponsor_id: self.sponsor_id,
            scope,
            webhook_url: self.webhook_url,
            webhook_secret: self.webhook_secret,
            created_at: self.created_at,
            life: super::Life {
                review_due_at: self.review_due_at,
                last_reviewed_at: self.last_reviewed_at,
                state_reason: self.state_reason,
                state_changed_at: self.state_changed_at,
                state_changed_by: self.state_changed_by,
                orphaned_at: self.orphaned_at,
                registered_by: self.registered_by,
                scope_changed_by: self.scope_changed_by,
            },
            workload_subject: self.workload_subject,
            workload_only: self.workload_only,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct CredentialRow {
    pub id: Uuid,
    pub agent_id: Uuid,
    pub prefix: String,
    pub secret_hash: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
    pub issued_by: Option<Uuid>,
    pub case_id: Option<String>,
    pub action_types: Option<String>,
    pub subject: Option<String>,
    pub parent_id: Option<Uuid>,
    pub issuer_id: Option<Uuid>,
}

impl From<CredentialRow> for Credential {
    fn from(r: CredentialRow) -> Self {
        // Written from `ActionType`s; a name this build does not know allows nothing rather than everything.
        let action_types = r.action_types.map(|text| {
            let names: Vec<String> = serde_json::from_str(&text).unwrap_or_default();
            names.iter().filter_map(|n| ActionType::parse(n)).collect()
        });
        Credential {
            case_id: r.case_id,
            action_types,
            subject: r.subject,
            parent_id: r.parent_id,
            issuer_id: r.issuer_id,
            id: r.id,
            agent_id: r.agent_id,
            prefix: r.prefix,
            secret_hash: r.secret_hash,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
            issued_by: r.issued_by,
        }
    }
}

#[derive(sqlx::FromRow)]
pub struct HandoverRow {
    pub id: Uuid,
    pub agent_id: Uuid,
    pub from_owner: Uuid,
    pub to_owner: Uuid,
    pub proposed_by: String,
    pub proposed_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub state: String,
    pub answered_at: Option<OffsetDateTime>,
}

impl TryFrom<HandoverRow> for crate::domain::lifecycle::Handover {
    type Error = StoreError;

    fn try_from(r: HandoverRow) -> Result<Self, StoreError> {
        use crate::domain::lifecycle::{Handover, HandoverState};
        Ok(Handover {
            state: HandoverState::parse(&r.state)
                .ok_or_else(|| StoreError::Corrupt(format!("hand-over state {}", r.state)))?,
            id: r.id,
            agent: r.agent_id,
            from_owner: r.from_owner,
            to_owner: r.to_owner,
            proposed_by: r.proposed_by,
            proposed_at: r.proposed_at,
            expires_at: r.expires_at,
            answered_at: r.answered_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct ChainCheckRow {
    pub id: Uuid,
    pub started_by: String,
    pub started_at: OffsetDateTime,
    pub finished_at: OffsetDateTime,
    pub checked: i64,
    pub head_seq: Option<i64>,
    pub head_hash: Option<String>,
    pub broken_seq: Option<i64>,
    pub broken_reason: Option<String>,
    pub counts: String,
}

impl TryFrom<ChainCheckRow> for crate::domain::chain_check::ChainCheck {
    type Error = StoreError;

    fn try_from(r: ChainCheckRow) -> Result<Self, StoreError> {
        let counts = serde_json::from_str(&r.counts)
            .map_err(|e| StoreError::Corrupt(format!("chain check {}: counts: {e}", r.id)))?;
        Ok(crate::domain::chain_check::ChainCheck {
            id: r.id,
            started_by: r.started_by,
            started_at: r.started_at,
            finished_at: Some(r.finished_at),
            checked: u64::try_from(r.checked).unwrap_or_default(),
            head: r.head_seq.zip(r.head_hash),
            broken: r.broken_seq.zip(r.broken_reason).map(|(seq, reason)| crate::domain::audit::Break { seq, reason }),
            counts,
            checkpoints_agreed: 0,
        })
    }
}
