//! Reading the record: the audit log page by page, its verification, and the people directory.

use super::{Service, ServiceError};
use crate::domain::access;
use crate::domain::audit::{Break, Verifier};
use crate::domain::Section;
use app::model::{AuditEventView, AuditPage, People, PersonRow, Viewer};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

const AUDIT_PAGE_SIZE: i64 = 50;
const VERIFY_BATCH: i64 = 2_000;

fn tenant_ids(viewer: &Viewer) -> Vec<Uuid> {
    viewer.tenants.iter().filter_map(|t| Uuid::parse_str(&t.id).ok()).collect()
}

fn require(viewer: &Viewer, section: Section) -> Result<(), ServiceError> {
    if access::may_open(&viewer.roles, section) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden)
    }
}

impl Service {
    pub async fn audit_page(&self, viewer: &Viewer, before: Option<i64>) -> Result<AuditPage, ServiceError> {
        let tenants = tenant_ids(viewer);
        let people: Vec<Uuid> = if viewer.roles.contains(&crate::domain::Role::Admin) {
            self.store.users_in(&tenants).await?.into_iter().map(|u| u.id).collect()
        } else {
            Vec::new()
        };
        let scope = access::audit_scope(&viewer.roles, &tenants, &people).ok_or(ServiceError::Forbidden)?;
        let records = self.store.audit_page(&scope, before, AUDIT_PAGE_SIZE).await?;
        let names = self.store.tenants().await?;
        let older = (records.len() as i64 == AUDIT_PAGE_SIZE).then(|| records.last().map(|r| r.seq)).flatten();
        let events = records
            .into_iter()
            .map(|r| AuditEventView {
                tenant: r.tenant.map(|t| names.iter().find(|n| n.id == t).map_or(t.to_string(), |n| n.slug.clone())),
                seq: r.seq,
                at: r.at,
                actor: r.actor,
                kind: r.kind,
                subject: r.subject,
                data: r.data,
                hash: r.hash,
            })
            .collect();
        Ok(AuditPage { events, older })
    }

    /// Recomputes the whole chain; `Ok(count)` when intact.
    pub async fn verify_audit_chain(&self) -> Result<Result<u64, Break>, ServiceError> {
        let mut verifier = Verifier::default();
        loop {
            let batch = self.store.audit_chain(verifier.last_seq(), VERIFY_BATCH).await?;
            if batch.is_empty() {
                return Ok(Ok(verifier.verified()));
            }
            if let Err(broken) = batch.iter().try_for_each(|r| verifier.check(r)) {
                return Ok(Err(broken));
            }
        }
    }

    /// Verification for the console: only those who may read the audit log may run it.
    pub async fn verify_audit_chain_for(&self, viewer: &Viewer) -> Result<Result<u64, Break>, ServiceError> {
        require(viewer, Section::Audit)?;
        self.verify_audit_chain().await
    }

    pub async fn people(&self, viewer: &Viewer) -> Result<People, ServiceError> {
        require(viewer, Section::People)?;
        let mine = tenant_ids(viewer);
        let now = self.clock.now();
        let people = self
            .store
            .users_in(&mine)
            .await?
            .into_iter()
            .map(|u| PersonRow {
                locked_until: u
                    .throttle
                    .locked_until
                    .filter(|_| u.throttle.is_locked(now))
                    .and_then(|t| t.format(&Rfc3339).ok()),
                tenants: u.tenants.iter().filter(|t| mine.contains(&t.id)).map(|t| t.slug.clone()).collect(),
                roles: u.roles,
                email: u.email,
                name: u.name,
                active: u.active,
            })
            .collect();
        Ok(People { tenants: viewer.tenants.clone(), people })
    }
}
