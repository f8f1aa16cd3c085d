//! The agent pages' port, implemented over the services: parsing form input, turning agents into what the
//! browser shows, and saying what the viewer may do there.

use super::console::{hide, ConsoleService};
use crate::domain::access::{Authority, Principal};
use crate::domain::workload::Issuer;
use crate::domain::{credential, AgentState, Role};
use crate::service::{AgentChanges, AgentDraft, By, IssuerChange, IssuerDraft};
use crate::store::{Agent, Credential, Delivery, DeliveryState, User};
use app::error::AppError;
use app::lifecycle_model::{AgentsOverview, IssuerEditForm, IssuerForm, IssuerView, RetirementView};
use app::model::{
    AgentDetail, AgentFormOptions, AgentSummary, AllowanceView, CreatedAgent, CredentialView, MintedCredential, Viewer,
    WorkloadForm,
};
use app::review_model::DeliveryView;
use app::services::AgentConsole;
use async_trait::async_trait;
use std::collections::HashMap;
use time::OffsetDateTime;
use uuid::Uuid;

pub fn principal(viewer: &Viewer) -> Result<Principal, AppError> {
    Ok(Principal {
        user: Uuid::parse_str(&viewer.user_id).map_err(|_| AppError::Unauthenticated)?,
        memberships: crate::service::accounts::memberships_of(viewer),
    })
}

pub(super) fn id(text: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(text.trim()).map_err(|_| AppError::Invalid(format!("\"{text}\" is not an id")))
}

pub(super) fn allowance_lines(text: &str) -> Vec<String> {
    text.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

/// "2026-11-24 10:04:12 UTC": to the second, in one zone, as people read it.
pub(super) fn when(t: OffsetDateTime) -> String {
    let shown = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    t.to_offset(time::UtcOffset::UTC).format(shown).unwrap_or_default()
}

pub(super) fn delivery_view(d: &Delivery) -> DeliveryView {
    let event = serde_json::from_str::<serde_json::Value>(&d.payload)
        .ok()
        .and_then(|p| p["type"].as_str().map(str::to_string))
        .unwrap_or_default();
    DeliveryView {
        id: d.id.to_string(),
        held_action: d.held_action_id.to_string(),
        event,
        state: d.state.as_str().into(),
        attempts: d.attempts,
        last_status: d.last_status,
        last_error: d.last_error.clone(),
        last_attempt_at: d.last_attempt_at.map(when),
        next_attempt_at: d.next_attempt_at.filter(|_| d.state == DeliveryState::Pending).map(when),
        created_at: when(d.created_at),
    }
}

fn credential_view(c: &Credential, now: OffsetDateTime) -> CredentialView {
    let status = if c.revoked_at.is_some() {
        "revoked"
    } else if now >= c.expires_at {
        "expired"
    } else {
        "active"
    };
    CredentialView {
        id: c.id.to_string(),
        prefix: c.prefix.clone(),
        created_at: when(c.created_at),
        expires_at: when(c.expires_at),
        last_used_at: c.last_used_at.map(when),
        revoked_at: c.revoked_at.map(when),
        status: status.into(),
        case: c.case_id.as_ref().map(|case| {
            let types = c.action_types.iter().flatten().map(|a| a.as_str()).collect::<Vec<_>>().join(", ");
            let by = c.subject.as_ref().map(|s| format!(", by {s}")).unwrap_or_default();
            format!("{case}: {types}{by}")
        }),
    }
}

impl ConsoleService {
    /// Tenant slugs, and the people of the viewer's tenants, by id.
    async fn names(&self, who: &Principal) -> Result<(HashMap<Uuid, String>, HashMap<Uuid, User>), AppError> {
        let store = &self.0.store;
        let tenants = store.tenants().await.map_err(|e| hide(e.into()))?;
        let people = store.users_in(&who.tenant_ids()).await.map_err(|e| hide(e.into()))?;
        Ok((tenants.into_iter().map(|t| (t.id, t.slug)).collect(), people.into_iter().map(|u| (u.id, u)).collect()))
    }

    /// An agent as the lists show it, with its pending actions and credentials.
    async fn summary(
        &self,
        who: &Principal,
        agent: &Agent,
        pending: i64,
        tenants: &HashMap<Uuid, String>,
        people: &HashMap<Uuid, User>,
    ) -> Result<AgentSummary, AppError> {
        let credentials = self.0.store.credentials(agent.id).await.map_err(|e| hide(e.into()))?;
        let now = self.0.clock.now();
        let email = |id: Uuid| people.get(&id).map(|u| u.email.clone());
        let life = self.life_view(agent, people);
        let relation = if agent.owner_id == who.user {
            "owner"
        } else if agent.sponsor_id == Some(who.user) {
            "sponsor"
        } else {
            "admin"
        };
        Ok(AgentSummary {
            id: agent.id.to_string(),
            tenant: tenants.get(&agent.tenant_id).cloned().unwrap_or_default(),
            name: agent.name.clone(),
            purpose: agent.purpose.clone(),
            owner: email(agent.owner_id).unwrap_or_else(|| "(unknown)".into()),
            sponsor: agent.sponsor_id.and_then(email),
            relation: relation.into(),
            state: agent.state,
            allowances: agent
                .scope
                .allowances()
                .iter()
                .map(|a| AllowanceView { action_type: a.action, limit: a.limit.as_ref().map(|m| m.to_string()) })
                .collect(),
            pending,
            live_credentials: credentials.iter().filter(|c| c.revoked_at.is_none() && now < c.expires_at).count()
                as i64,
            last_activity: credentials.iter().filter_map(|c| c.last_used_at).max().map(when),
            review_due: life.review_due,
            review_status: life.review_status,
            orphaned: agent.life.orphaned_at.is_some(),
        })
    }
}

#[async_trait]
impl AgentConsole for ConsoleService {
    async fn agents(&self, viewer: &Viewer) -> Result<AgentsOverview, AppError> {
        let who = principal(viewer)?;
        let agents = self.0.agents_for(&who).await.map_err(hide)?;
        let (tenants, people) = self.names(&who).await?;
        let ids: Vec<Uuid> = agents.iter().map(|a| a.id).collect();
        let pending: HashMap<Uuid, i64> =
            self.0.store.pending_per_agent(&ids).await.map_err(|e| hide(e.into()))?.into_iter().collect();
        let mut summaries = Vec::with_capacity(agents.len());
        for agent in &agents {
            let n = pending.get(&agent.id).copied().unwrap_or(0);
            summaries.push(self.summary(&who, agent, n, &tenants, &people).await?);
        }
        let mut incoming = Vec::new();
        let now = self.0.clock.now();
        for h in self.0.store.handovers(None, Some(who.user)).await.map_err(|e| hide(e.into()))? {
            let Some(agent) = self.0.store.agent(h.agent).await.map_err(|e| hide(e.into()))? else { continue };
            if h.open(now) {
                incoming.push(self.handover_view(&h, &agent.name, who.user, false, &people));
            }
        }
        let mut owners: Vec<String> =
            people.values().filter(|u| u.memberships.any(Role::Owner)).map(|u| u.email.clone()).collect();
        owners.sort();
        let issuers = self.0.issuers_for(By::Person(&who), &who.tenant_ids()).await.map_err(hide)?;
        let issuers = issuers.iter().map(|i| issuer_view(i, &tenants)).collect();
        Ok(AgentsOverview { agents: summaries, incoming, is_admin: who.memberships.any(Role::Admin), owners, issuers })
    }

    async fn agent(&self, viewer: &Viewer, agent: &str) -> Result<AgentDetail, AppError> {
        let who = principal(viewer)?;
        let (agent, authority) = self.0.agent_visible(By::Person(&who), id(agent)?).await.map_err(hide)?;
        let manages = authority.is_some();
        let credentials = self.0.store.credentials(agent.id).await.map_err(|e| hide(e.into()))?;
        let deliveries =
            if manages { self.0.deliveries(By::Person(&who), agent.id).await.map_err(hide)? } else { Vec::new() };
        let (tenants, people) = self.names(&who).await?;
        let now = self.0.clock.now();
        let pending = self.0.store.pending_per_agent(&[agent.id]).await.map_err(|e| hide(e.into()))?;
        let summary = self.summary(&who, &agent, pending.first().map_or(0, |(_, n)| *n), &tenants, &people).await?;
        let credential_ids: Vec<Uuid> = credentials.iter().map(|c| c.id).collect();
        let handovers = self.0.store.handovers(Some(agent.id), None).await.map_err(|e| hide(e.into()))?;
        let retirement = self.0.store.retirement_preview(agent.id, now).await.map_err(|e| hide(e.into()))?;
        Ok(AgentDetail {
            owner_email: summary.owner.clone(),
            sponsor: summary.sponsor.clone(),
            webhook_url: agent.webhook_url.clone(),
            credentials: credentials.iter().map(|c| credential_view(c, now)).collect(),
            workload_subject: agent.workload_subject.clone(),
            workload_only: agent.workload_only,
            deliveries: deliveries.iter().map(delivery_view).collect(),
            may_edit: manages && agent.state != AgentState::Retired,
            may_widen: authority == Some(Authority::Admin),
            life: self.life_view(&agent, &people),
            timeline: self.timeline(&agent, &credential_ids, &people).await?,
            handovers: handovers
                .iter()
                .map(|h| self.handover_view(h, &agent.name, who.user, manages, &people))
                .collect(),
            retirement: RetirementView {
                pending_actions: retirement.pending_actions,
                live_credentials: retirement.live_credentials,
                queued_deliveries: retirement.queued_deliveries,
            },
            agent: summary,
        })
    }

    async fn form_options(&self, viewer: &Viewer) -> Result<AgentFormOptions, AppError> {
        let who = principal(viewer)?;
        let mine = who.memberships.tenants_with(&[Role::Admin]);
        if mine.is_empty() {
            return Err(AppError::Forbidden);
        }
        let people = self.0.store.users_in(&mine).await.map_err(|e| hide(e.into()))?;
        // An owner is offered for the tenants the viewer administers where they hold the owner role.
        let owners = people
            .into_iter()
            .filter(|u| u.active)
            .filter_map(|u| {
                let slugs: Vec<String> = u
                    .tenants
                    .iter()
                    .filter(|t| mine.contains(&t.id) && u.memberships.has(t.id, Role::Owner))
                    .map(|t| t.slug.clone())
                    .collect();
                (!slugs.is_empty()).then_some((u.email, u.name, slugs))
            })
            .collect();
        let tenants = viewer.tenants.iter().filter(|t| t.roles.contains(&Role::Admin)).cloned().collect();
        Ok(AgentFormOptions { tenants, owners })
    }

    async fn create(
        &self,
        viewer: &Viewer,
        tenant: String,
        name: String,
        purpose: String,
        owner: String,
        sponsor: String,
        allowances: String,
        webhook_url: String,
    ) -> Result<CreatedAgent, AppError> {
        let who = principal(viewer)?;
        let draft = AgentDraft {
            tenant,
            name,
            purpose,
            owner_email: owner,
            sponsor_email: Some(sponsor),
            allowances: allowance_lines(&allowances),
            webhook_url: Some(webhook_url),
        };
        let (agent, webhook_secret) = self.0.create_agent(By::Person(&who), draft).await.map_err(hide)?;
        Ok(CreatedAgent { id: agent.id.to_string(), webhook_secret })
    }

    async fn update(
        &self,
        viewer: &Viewer,
        agent: &str,
        purpose: String,
        allowances: String,
        webhook_url: String,
        identity: Option<WorkloadForm>,
    ) -> Result<(), AppError> {
        let (who, agent) = (principal(viewer)?, id(agent)?);
        let wanted = identity.map(|i| (Some(i.subject.trim().to_string()).filter(|s| !s.is_empty()), i.only));
        // A subject that can never bind is refused before anything changes.
        if let Some((Some(subject), _)) = &wanted {
            crate::domain::workload::subject(subject).map_err(|e| AppError::Invalid(e.0))?;
        }
        let changes =
            AgentChanges { purpose, allowances: allowance_lines(&allowances), webhook_url: Some(webhook_url) };
        let updated = self.0.update_agent(By::Person(&who), agent, changes).await.map_err(hide)?;
        if let Some((subject, only)) = wanted.filter(|w| *w != (updated.workload_subject, updated.workload_only)) {
            self.0.bind_agent(By::Person(&who), agent, subject.as_deref(), only).await.map_err(hide)?;
        }
        Ok(())
    }

    async fn mint_credential(&self, viewer: &Viewer, agent: &str, ttl: &str) -> Result<MintedCredential, AppError> {
        let who = principal(viewer)?;
        let ttl = credential::ttl(ttl).map_err(|e| AppError::Invalid(e.0))?;
        let (stored, secret) = self.0.issue_credential(By::Person(&who), id(agent)?, ttl).await.map_err(hide)?;
        Ok(MintedCredential { secret, credential: credential_view(&stored, self.0.clock.now()) })
    }

    async fn revoke_credential(&self, viewer: &Viewer, credential: &str) -> Result<(), AppError> {
        let who = principal(viewer)?;
        self.0.revoke_credential(By::Person(&who), id(credential)?).await.map_err(hide)
    }

    async fn redeliver(&self, viewer: &Viewer, delivery: &str) -> Result<(), AppError> {
        let who = principal(viewer)?;
        self.0.redeliver(By::Person(&who), id(delivery)?).await.map_err(hide)
    }

    async fn add_issuer(&self, viewer: &Viewer, form: IssuerForm) -> Result<(), AppError> {
        let who = principal(viewer)?;
        let draft = IssuerDraft {
            tenant: form.tenant,
            issuer: form.issuer,
            audience: form.audience,
            jwks_url: Some(form.jwks_url),
            jwks: Some(form.jwks),
        };
        self.0.add_issuer(By::Person(&who), draft).await.map_err(hide)?;
        Ok(())
    }

    async fn change_issuer(&self, viewer: &Viewer, form: IssuerEditForm) -> Result<(), AppError> {
        let who = principal(viewer)?;
        let change = IssuerChange { audience: form.audience, jwks_url: Some(form.jwks_url), jwks: Some(form.jwks) };
        self.0.change_issuer(By::Person(&who), id(&form.id)?, change).await.map_err(hide)?;
        Ok(())
    }

    async fn remove_issuer(&self, viewer: &Viewer, issuer: &str, confirm: &str) -> Result<(), AppError> {
        let who = principal(viewer)?;
        self.0.remove_issuer(By::Person(&who), id(issuer)?, Some(confirm)).await.map_err(hide)?;
        Ok(())
    }
}

fn issuer_view(i: &Issuer, tenants: &HashMap<Uuid, String>) -> IssuerView {
    let keys = match (&i.jwks_url, &i.jwks) {
        (Some(url), _) => url.clone(),
        (None, Some(_)) => "pasted JWKS".into(),
        (None, None) => "none".into(),
    };
    IssuerView {
        id: i.id.to_string(),
        jwks_url: i.jwks_url.clone().unwrap_or_default(),
        tenant: tenants.get(&i.tenant_id).cloned().unwrap_or_default(),
        issuer: i.issuer.clone(),
        audience: i.audience.clone(),
        keys,
        added_at: when(i.created_at),
    }
}
