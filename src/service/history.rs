//! The decision history: who reads how much of it, its pages, and the record of one decision. Exports
//! (`export.rs`) read through the same [`Reader`].

use super::{Service, ServiceError};
use crate::domain::access::{self, AuditScope};
use crate::domain::audit::{Actor, Record};
use crate::domain::history::{self, Filter, Reach};
use crate::domain::Role;
use crate::store::{Agent, Delivery, HeldAction, HistoryQuery, Review};
use app::history_model::HistoryFilter;
use app::model::Viewer;
use std::collections::HashMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// Someone reading the record, with what they may read: a signed-in person, or the operator at the
/// command line (who has the database anyway, and reads everything).
#[derive(Debug, Clone)]
pub struct Reader {
    pub actor: Actor,
    pub tenants: Vec<Uuid>,
    pub reach: Reach,
    pub audit: AuditScope,
    /// Slugs of `tenants`, for filters that name a tenant.
    pub slugs: HashMap<String, Uuid>,
}

impl Reader {
    /// "My decisions": the person whose votes bound what they see.
    pub fn voter(&self) -> Option<Uuid> {
        match (self.reach, &self.actor) {
            (Reach::OwnVotes, Actor::User(u)) => Some(*u),
            _ => None,
        }
    }

    pub fn tenant_of(&self, slug: &str) -> Option<Uuid> {
        self.slugs.get(slug).copied()
    }

    /// All the reader's tenants, or the one `slug` names (refused alike whether it exists elsewhere or not).
    /// Of `offered`, the tenants this reader reads: what a page may offer to filter by.
    pub fn offered(&self, offered: &[app::model::TenantRef]) -> Vec<app::model::TenantRef> {
        offered.iter().filter(|t| self.tenants.iter().any(|id| id.to_string() == t.id)).cloned().collect()
    }

    pub fn tenants_named(&self, slug: &str) -> Result<Vec<Uuid>, crate::domain::Invalid> {
        match slug.trim() {
            "" => Ok(self.tenants.clone()),
            slug => self
                .tenant_of(slug)
                .map(|t| vec![t])
                .ok_or_else(|| crate::domain::Invalid::new(format!("tenant: \"{slug}\" is not one of your tenants"))),
        }
    }

    /// The tenants a filter's `tenant` leaves.
    pub fn tenants_under(&self, only: Option<Uuid>) -> Vec<Uuid> {
        match only {
            Some(t) => self.tenants.iter().copied().filter(|x| *x == t).collect(),
            None => self.tenants.clone(),
        }
    }
}

/// A page of the history.
pub struct HistorySlice {
    pub actions: Vec<HeldAction>,
    pub next: Option<(OffsetDateTime, Uuid)>,
}

/// Everything a decision record shows.
pub struct RecordFile {
    pub action: HeldAction,
    pub agent: Agent,
    pub reviews: Vec<Review>,
    pub deliveries: Vec<Delivery>,
    pub events: Vec<Record>,
    /// Owner and sponsor when it was decided (now, while pending).
    pub owner_then: Uuid,
    pub sponsor_then: Option<Uuid>,
    pub receipt_valid: Option<bool>,
}

pub const HISTORY_PAGE: i64 = 50;

impl Service {
    /// What a signed-in person may read; `Forbidden` when the history is closed to their roles.
    pub async fn reader(&self, viewer: &Viewer) -> Result<Reader, ServiceError> {
        let user = Uuid::parse_str(&viewer.user_id).map_err(|_| ServiceError::Forbidden)?;
        let memberships = super::accounts::memberships_of(viewer);
        let reach = history::reach(&memberships.all_roles()).ok_or(ServiceError::Forbidden)?;
        // Only the tenants where the role that opens this reach is held.
        let tenants = match reach {
            Reach::Tenants => memberships.tenants_with(&[Role::Admin, Role::Auditor]),
            Reach::OwnVotes => memberships.tenants_with(&[Role::Supervisor]),
        };
        let administered = memberships.tenants_with(&[Role::Admin]);
        let people: Vec<Uuid> = self.store.users_in(&administered).await?.into_iter().map(|u| u.id).collect();
        // Supervisors read their own decisions, not the audit log.
        let audit = access::audit_scope(&memberships, &people)
            .unwrap_or(AuditScope { tenants: Vec::new(), people: Vec::new() });
        let slugs = viewer
            .tenants
            .iter()
            .filter_map(|t| Some((t.slug.clone(), Uuid::parse_str(&t.id).ok()?)))
            .filter(|(_, id)| tenants.contains(id))
            .collect();
        Ok(Reader { actor: Actor::User(user), tenants, reach, audit, slugs })
    }

    /// The operator at the command line: every tenant and every event.
    pub async fn operator_reader(&self) -> Result<Reader, ServiceError> {
        let all = self.store.tenants().await?;
        let tenants: Vec<Uuid> = all.iter().map(|t| t.id).collect();
        let slugs = all.into_iter().map(|t| (t.slug, t.id)).collect();
        let people = self.store.users_in(&tenants).await?.into_iter().map(|u| u.id).collect::<Vec<_>>();
        let audit = access::operator_audit_scope(&tenants, &people);
        Ok(Reader { actor: Actor::Cli, tenants, reach: Reach::Tenants, audit, slugs })
    }

    /// The store query for a reader's filter, or the filter's first mistake.
    pub fn history_query(
        &self,
        reader: &Reader,
        filter: &HistoryFilter,
        after: Option<(OffsetDateTime, Uuid)>,
        limit: i64,
    ) -> Result<HistoryQuery, ServiceError> {
        let parsed = Filter::parse(filter, |s| reader.tenant_of(s))?;
        Ok(HistoryQuery {
            tenants: reader.tenants_under(parsed.tenant),
            filter: parsed,
            voter: reader.voter(),
            after,
            limit,
        })
    }

    pub async fn history(
        &self,
        reader: &Reader,
        filter: &HistoryFilter,
        after: Option<(OffsetDateTime, Uuid)>,
    ) -> Result<HistorySlice, ServiceError> {
        let query = self.history_query(reader, filter, after, HISTORY_PAGE + 1)?;
        let mut actions = self.store.history(&query).await?;
        let next = (actions.len() as i64 > HISTORY_PAGE).then(|| {
            actions.truncate(HISTORY_PAGE as usize);
            actions.last().map(|a| (a.received_at, a.id))
        });
        Ok(HistorySlice { actions, next: next.flatten() })
    }

    /// The record of one held action, if the reader may read it; `Forbidden` alike for one that does not
    /// exist, so ids of other tenants reveal nothing.
    pub async fn decision_record(&self, reader: &Reader, id: Uuid) -> Result<RecordFile, ServiceError> {
        let action = self.store.held_action(id).await?.ok_or(ServiceError::Forbidden)?;
        if !reader.tenants.contains(&action.tenant_id) {
            return Err(ServiceError::Forbidden);
        }
        let subject = format!("held_action:{id}");
        let (agent, reviews, deliveries, events) = tokio::try_join!(
            self.store.agent(action.agent_id),
            self.store.reviews(id),
            self.store.action_deliveries(id),
            self.store.audit_about(&subject),
        )?;
        if let Some(voter) = reader.voter() {
            if !reviews.iter().any(|r| r.reviewer == voter) {
                return Err(ServiceError::Forbidden);
            }
        }
        let agent = agent.ok_or(ServiceError::Forbidden)?;
        let agent_events = self.store.audit_about(&format!("agent:{}", agent.id)).await?;
        let moment = action.decided_at.unwrap_or_else(|| self.clock.now());
        let (owner_then, sponsor_then) = history::standing_at(agent.owner_id, agent.sponsor_id, &agent_events, moment);
        let receipt_valid = match (&action.receipt, action.decided_at) {
            (Some(r), Some(at)) => {
                let keys = self.receipt_keys().await?;
                Some(keys.verify(&crate::delivery::outcome::attested(&action, at), r))
            }
            _ => None,
        };
        Ok(RecordFile { action, agent, reviews, deliveries, events, owner_then, sponsor_then, receipt_valid })
    }

    /// Display names of the people of the reader's tenants.
    pub async fn people_names(&self, reader: &Reader) -> Result<HashMap<Uuid, String>, ServiceError> {
        Ok(self.store.users_in(&reader.tenants).await?.into_iter().map(|u| (u.id, u.name)).collect())
    }
}
