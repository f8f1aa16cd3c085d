//! Rows as both stores return them; `FromRow` is derived generically, so one definition serves both.

use super::{StoreError, Tenant};
use crate::domain::audit::Record;
use crate::domain::throttle::Throttle;
use crate::domain::Role;
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
    pub failed_sign_ins: i64,
    pub failure_window_start: Option<OffsetDateTime>,
    pub locked_until: Option<OffsetDateTime>,
    pub session_epoch: i64,
    pub created_at: OffsetDateTime,
}

impl UserRow {
    pub fn throttle(&self) -> Throttle {
        Throttle {
            failures: u32::try_from(self.failed_sign_ins).unwrap_or(u32::MAX),
            window_start: self.failure_window_start,
            locked_until: self.locked_until,
        }
    }
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
