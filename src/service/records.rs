//! Reading the record: the audit log page by page under its filters, and the people directory.

use super::{reference_name, Service, ServiceError};
use crate::domain::access;
use crate::domain::audit::Kind;
use crate::domain::history::AuditFilterQuery;
use crate::domain::Section;
use crate::store::AuditQuery;
use app::history_model::AuditFilter;
use app::model::{AuditEventView, AuditPage, People, PersonRow, Viewer};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

const AUDIT_PAGE_SIZE: i64 = 50;

fn require(viewer: &Viewer, section: Section) -> Result<(), ServiceError> {
    if access::may_open(&viewer.roles, section) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden)
    }
}

/// The page a reference leads to, where it has one.
fn href(reference: &str) -> Option<String> {
    let (kind, id) = reference.split_once(':')?;
    Uuid::parse_str(id).ok()?;
    match kind {
        "held_action" => Some(format!("/history/{id}")),
        "agent" => Some(format!("/agents/{id}")),
        _ => None,
    }
}

impl Service {
    pub async fn audit_page(&self, viewer: &Viewer, filter: &AuditFilter) -> Result<AuditPage, ServiceError> {
        require(viewer, Section::Audit)?;
        let reader = self.reader(viewer).await?;
        let parsed = AuditFilterQuery::parse(filter, |s| reader.tenant_of(s))?;
        let query = AuditQuery { scope: reader.audit.clone(), filter: parsed, limit: AUDIT_PAGE_SIZE };
        let records = self.store.audit_events(&query).await?;
        let tenants: std::collections::HashMap<Uuid, String> =
            self.store.tenants().await?.into_iter().map(|t| (t.id, t.slug)).collect();
        let agents = self.store.agents(&reader.tenants, None).await?;
        let people = self.people_names(&reader).await?;
        let agent_names = agents.iter().map(|a| (a.id, a.name.clone())).collect();
        let name = |r: &str| reference_name(r, &tenants, &agent_names, &people);
        let older = (records.len() as i64 == AUDIT_PAGE_SIZE).then(|| records.last().map(|r| r.seq)).flatten();
        let events = records
            .into_iter()
            .map(|r| AuditEventView {
                tenant: r.tenant.map(|t| tenants.get(&t).cloned().unwrap_or_else(|| t.to_string())),
                seq: r.seq,
                actor_name: name(&r.actor),
                actor_href: href(&r.actor),
                subject_name: name(&r.subject),
                subject_href: href(&r.subject),
                at: r.at,
                actor: r.actor,
                kind: r.kind,
                subject: r.subject,
                data: r.data,
                hash: r.hash,
            })
            .collect();
        let mut actors: Vec<(String, String)> =
            people.iter().map(|(id, n)| (format!("user:{id}"), n.clone())).collect();
        actors.sort_by(|a, b| a.1.cmp(&b.1));
        actors.extend(agents.iter().map(|a| (format!("agent:{}", a.id), format!("agent {}", a.name))));
        actors.push(("system".into(), "the system".into()));
        actors.push(("cli".into(), "an operator (command line)".into()));
        Ok(AuditPage {
            events,
            older,
            kinds: Kind::ALL.iter().map(|k| k.as_str().to_string()).collect(),
            actors,
            tenants: reader.offered(&viewer.tenants),
        })
    }

    pub async fn people(&self, viewer: &Viewer) -> Result<People, ServiceError> {
        require(viewer, Section::People)?;
        let mine = super::accounts::memberships_of(viewer).tenants_with(&[crate::domain::Role::Admin]);
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
        let tenants = viewer.tenants.iter().filter(|t| mine.iter().any(|m| m.to_string() == t.id)).cloned().collect();
        Ok(People { tenants, people })
    }
}
