//! The port for workload identity: the issuers tenants trust, the subject each agent is bound to, and
//! closing a case's credentials at once.

use super::{Agent, Result};
use crate::domain::audit::Event;
use crate::domain::workload::Issuer;
use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

#[async_trait]
pub trait WorkloadStore: Send + Sync + 'static {
    async fn create_issuer(&self, issuer: &Issuer, event: Event) -> Result<()>;
    /// A live (not removed) issuer by id.
    async fn issuer(&self, id: Uuid) -> Result<Option<Issuer>>;
    /// Sets a live issuer's audience and keys, with `event`, recording who changed it.
    async fn update_issuer(&self, issuer: &Issuer, by: Option<Uuid>, event: Event, at: OffsetDateTime) -> Result<()>;
    /// Removes a live issuer, keeping its row (who registered it stays known), with `event`.
    async fn remove_issuer(&self, id: Uuid, by: Option<Uuid>, event: Event, at: OffsetDateTime) -> Result<()>;
    /// The live issuers of these tenants.
    async fn issuers(&self, tenants: &[Uuid]) -> Result<Vec<Issuer>>;
    /// The live issuers, of any tenant, whose tokens name `issuer` (an `iss`, or a SPIFFE trust domain).
    async fn issuers_named(&self, issuer: &str) -> Result<Vec<Issuer>>;
    /// Binds an agent to a subject (`None`: unbinds it) and sets whether it takes workload identity only.
    async fn bind_workload(&self, agent: Uuid, binding: Binding<'_>, event: Event, at: OffsetDateTime) -> Result<()>;
    async fn agent_by_subject(&self, tenant: Uuid, subject: &str) -> Result<Option<Agent>>;
    /// Revokes every live credential of `agent` bound to `case_id`, with `event`; how many.
    async fn close_case(&self, agent: Uuid, case_id: &str, event: Event, at: OffsetDateTime) -> Result<u64>;
}

/// An agent's workload identity as its owner sets it.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    pub subject: Option<&'a str>,
    pub only: bool,
    /// Who last changed what the agent may do or who may speak as it (separation of duties).
    pub changed_by: Option<Uuid>,
    /// The person binding a new subject now: they chose who may speak as the agent.
    pub bound_by: Option<Uuid>,
}

/// A trusted issuer as stored.
#[derive(sqlx::FromRow)]
pub struct IssuerRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub issuer: String,
    pub audience: String,
    pub jwks_url: Option<String>,
    pub jwks: Option<String>,
    pub created_at: OffsetDateTime,
    pub created_by: Option<Uuid>,
}

impl From<IssuerRow> for crate::domain::workload::Issuer {
    fn from(r: IssuerRow) -> Self {
        crate::domain::workload::Issuer {
            id: r.id,
            tenant_id: r.tenant_id,
            issuer: r.issuer,
            audience: r.audience,
            jwks_url: r.jwks_url,
            jwks: r.jwks,
            created_at: r.created_at,
            created_by: r.created_by,
        }
    }
}
