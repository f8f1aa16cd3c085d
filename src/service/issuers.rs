//! The issuers a tenant trusts for its agents' workload identity: registered, edited and removed by the
//! tenant's admins (or the operator), each change audited in its own transaction. A removed issuer keeps
//! its row, so who registered it stays known; its tokens stop at once.
//!
//! Every function checks the person's role before it reads anything, and a tenant or issuer that does not
//! exist answers exactly like one of a tenant the person does not belong to: no enumeration.

use super::agents::By;
use super::{Service, ServiceError};
use crate::domain::audit::{Event, Kind};
use crate::domain::workload::{self, Issuer};
use crate::domain::{Invalid, Role};
use serde_json::json;
use uuid::Uuid;

/// An admin registering an issuer for a tenant.
pub struct IssuerDraft {
    pub tenant: String,
    pub issuer: String,
    pub audience: String,
    pub jwks_url: Option<String>,
    pub jwks: Option<String>,
}

/// An admin editing an issuer: its audience and where its keys come from, a URL or a pasted JWKS (neither:
/// unchanged). Its name stays; another name is another issuer.
pub struct IssuerChange {
    pub audience: String,
    pub jwks_url: Option<String>,
    pub jwks: Option<String>,
}

/// Only admins manage issuers; checked before anything is read.
fn admin_only(by: By<'_>) -> Result<(), ServiceError> {
    match by {
        By::Person(p) if !p.memberships.any(Role::Admin) => Err(ServiceError::Forbidden),
        _ => Ok(()),
    }
}

impl Service {
    /// Registers an issuer a tenant trusts (admins of the tenant, or the operator).
    pub async fn add_issuer(&self, by: By<'_>, draft: IssuerDraft) -> Result<Issuer, ServiceError> {
        admin_only(by)?;
        let slug = draft.tenant.trim();
        let tenant = self.store.tenant_by_slug(slug).await?;
        let tenant = match (by, tenant) {
            (By::Person(p), Some(t)) if p.has(t.id, Role::Admin) => t,
            // Unknown, or not theirs: the same answer either way.
            (By::Person(_), _) => return Err(ServiceError::Forbidden),
            (By::Operator, Some(t)) => t,
            (By::Operator, None) => return Err(Invalid::new(format!("no tenant \"{slug}\"")).into()),
        };
        let issuer = workload::issuer_name(&draft.issuer)?;
        let audience = workload::audience(&draft.audience)?;
        let (jwks_url, jwks) = self.issuer_keys_source(draft.jwks_url, draft.jwks)?;
        let issuer = Issuer {
            id: Uuid::now_v7(),
            tenant_id: tenant.id,
            issuer,
            audience,
            jwks_url,
            jwks,
            created_at: self.clock.now(),
            created_by: by.person(),
        };
        let event = Event::new(Kind::IssuerAdded, by.actor(), format!("issuer:{}", issuer.id))
            .tenant(tenant.id)
            .data(json!({ "issuer": issuer.issuer, "audience": issuer.audience, "jwks_url": issuer.jwks_url,
                    "jwks_pasted": issuer.jwks.is_some() }));
        self.store.create_issuer(&issuer, event).await?;
        Ok(issuer)
    }

    /// Edits an issuer's audience and keys. Its cached keys are dropped: the next token fetches afresh.
    pub async fn change_issuer(&self, by: By<'_>, id: Uuid, change: IssuerChange) -> Result<Issuer, ServiceError> {
        let before = self.issuer_managed(by, id).await?;
        let audience = workload::audience(&change.audience)?;
        let given = |v: &Option<String>| v.as_deref().is_some_and(|t| !t.trim().is_empty());
        let (jwks_url, jwks) = if given(&change.jwks_url) || given(&change.jwks) {
            self.issuer_keys_source(change.jwks_url, change.jwks)?
        } else {
            // Neither given: the keys stay where they come from.
            (before.jwks_url.clone(), before.jwks.clone())
        };
        let after = Issuer { audience, jwks_url, jwks, ..before.clone() };
        // Each edit is its own event, before and after: the append-only history of who set what.
        let event = Event::new(Kind::IssuerChanged, by.actor(), format!("issuer:{id}")).tenant(before.tenant_id).data(
            json!({ "issuer": before.issuer, "audience": [before.audience, after.audience],
                    "jwks_url": [before.jwks_url, after.jwks_url],
                    "jwks_pasted": [before.jwks.is_some(), after.jwks.is_some()],
                    "jwks_changed": before.jwks != after.jwks, "registered_by": before.created_by }),
        );
        self.store.update_issuer(&after, by.person(), event, self.clock.now()).await?;
        self.jwks.forget(id);
        Ok(after)
    }

    /// Removes an issuer: its tokens, and the case credentials they obtained, stop authenticating at once
    /// (its cached keys are dropped too). Where a
    /// person types it, `confirm` must be the issuer's name.
    pub async fn remove_issuer(&self, by: By<'_>, id: Uuid, confirm: Option<&str>) -> Result<Issuer, ServiceError> {
        let issuer = self.issuer_managed(by, id).await?;
        if confirm.is_some_and(|c| c.trim().trim_end_matches('/') != issuer.issuer) {
            return Err(Invalid::new(format!("type the issuer, {}, to confirm its removal", issuer.issuer)).into());
        }
        let event = Event::new(Kind::IssuerRemoved, by.actor(), format!("issuer:{id}"))
            .tenant(issuer.tenant_id)
            .data(json!({ "issuer": issuer.issuer, "audience": issuer.audience, "registered_by": issuer.created_by }));
        let removed = self.store.remove_issuer(id, by.person(), event, self.clock.now()).await;
        self.jwks.forget(id);
        // The store revoked the case credentials its tokens obtained.
        self.credentials.forget_tenant(issuer.tenant_id);
        removed?;
        Ok(issuer)
    }

    /// The issuers of the tenants a person administers (owners see them too).
    pub async fn issuers_for(&self, by: By<'_>, tenants: &[Uuid]) -> Result<Vec<Issuer>, ServiceError> {
        if let By::Person(p) = by {
            if !p.memberships.any(Role::Admin) && !p.memberships.any(Role::Owner) {
                return Err(ServiceError::Forbidden);
            }
            let mine = p.memberships.tenants_with(&[Role::Admin, Role::Owner]);
            let theirs: Vec<Uuid> = tenants.iter().copied().filter(|t| mine.contains(t)).collect();
            return Ok(self.store.issuers(&theirs).await?);
        }
        Ok(self.store.issuers(tenants).await?)
    }

    /// A live issuer the asker may manage (admins of its tenant, the operator).
    pub async fn issuer_of(&self, by: By<'_>, id: Uuid) -> Result<Issuer, ServiceError> {
        self.issuer_managed(by, id).await
    }

    /// A live issuer the asker may manage; a missing one answers like another tenant's.
    async fn issuer_managed(&self, by: By<'_>, id: Uuid) -> Result<Issuer, ServiceError> {
        admin_only(by)?;
        let issuer = self.store.issuer(id).await?;
        match (by, issuer) {
            (By::Person(p), Some(i)) if p.has(i.tenant_id, Role::Admin) => Ok(i),
            (By::Operator, Some(i)) => Ok(i),
            (By::Person(_), _) => Err(ServiceError::Forbidden),
            (By::Operator, None) => Err(Invalid::new(format!("no issuer {id}")).into()),
        }
    }

    /// Where an issuer's keys come from: a JWKS URL the egress setting allows, or a pasted JWKS.
    fn issuer_keys_source(
        &self,
        url: Option<String>,
        text: Option<String>,
    ) -> Result<(Option<String>, Option<String>), ServiceError> {
        let blank = |v: Option<String>| v.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
        match (blank(url), blank(text)) {
            (Some(url), None) => {
                self.outbox.egress().url(&url).map_err(|r| Invalid::new(format!("the JWKS URL is {r}")))?;
                Ok((Some(url), None))
            }
            (None, Some(text)) => {
                workload::jwks(&text)?;
                Ok((None, Some(text)))
            }
            _ => Err(Invalid::new("give the issuer's JWKS URL or paste its JWKS, one of the two").into()),
        }
    }
}
