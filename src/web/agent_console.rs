//! The agent pages' port, implemented over the services: parsing form input, turning agents into what the
//! browser shows, and saying what the viewer may do there.

use super::console::{hide, ConsoleService};
use crate::domain::access::{Authority, Principal};
use crate::domain::{credential, Role};
use crate::service::{AgentChanges, AgentDraft, By};
use crate::store::{Agent, Credential, Delivery, DeliveryState};
use app::error::AppError;
use app::model::{
    AgentDetail, AgentFormOptions, AgentSummary, AllowanceView, CreatedAgent, CredentialView, MintedCredential, Viewer,
};
use app::review_model::DeliveryView;
use app::services::AgentConsole;
use async_trait::async_trait;
use std::collections::HashMap;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

pub fn principal(viewer: &Viewer) -> Result<Principal, AppError> {
    Ok(Principal {
        user: Uuid::parse_str(&viewer.user_id).map_err(|_| AppError::Unauthenticated)?,
        roles: viewer.roles.clone(),
        tenants: viewer.tenants.iter().filter_map(|t| Uuid::parse_str(&t.id).ok()).collect(),
    })
}

fn id(text: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(text.trim()).map_err(|_| AppError::Invalid(format!("\"{text}\" is not an id")))
}

fn allowance_lines(text: &str) -> Vec<String> {
    text.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

fn when(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn delivery_view(d: &Delivery) -> DeliveryView {
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
    }
}

impl ConsoleService {
    /// Tenant slugs and people's emails by id, for the viewer's tenants.
    async fn names(&self, who: &Principal) -> Result<(HashMap<Uuid, String>, HashMap<Uuid, String>), AppError> {
        let store = &self.0.store;
        let tenants = store.tenants().await.map_err(|e| hide(e.into()))?;
        let people = store.users_in(&who.tenants).await.map_err(|e| hide(e.into()))?;
        Ok((
            tenants.into_iter().map(|t| (t.id, t.slug)).collect(),
            people.into_iter().map(|u| (u.id, u.email)).collect(),
        ))
    }

    fn summary(agent: &Agent, tenants: &HashMap<Uuid, String>, people: &HashMap<Uuid, String>) -> AgentSummary {
        AgentSummary {
            id: agent.id.to_string(),
            tenant: tenants.get(&agent.tenant_id).cloned().unwrap_or_default(),
            name: agent.name.clone(),
            purpose: agent.purpose.clone(),
            owner: people.get(&agent.owner_id).cloned().unwrap_or_else(|| "(unknown)".into()),
            state: agent.state,
            allowances: agent
                .scope
                .allowances()
                .iter()
                .map(|a| AllowanceView { action_type: a.action, limit: a.limit.as_ref().map(|m| m.to_string()) })
                .collect(),
        }
    }
}

#[async_trait]
impl AgentConsole for ConsoleService {
    async fn agents(&self, viewer: &Viewer) -> Result<Vec<AgentSummary>, AppError> {
        let who = principal(viewer)?;
        let agents = self.0.agents_for(&who).await.map_err(hide)?;
        let (tenants, people) = self.names(&who).await?;
        Ok(agents.iter().map(|a| Self::summary(a, &tenants, &people)).collect())
    }

    async fn agent(&self, viewer: &Viewer, agent: &str) -> Result<AgentDetail, AppError> {
        let who = principal(viewer)?;
        let (agent, authority) = self.0.agent_for(By::Person(&who), id(agent)?).await.map_err(hide)?;
        let credentials = self.0.store.credentials(agent.id).await.map_err(|e| hide(e.into()))?;
        let deliveries = self.0.deliveries(By::Person(&who), agent.id).await.map_err(hide)?;
        let (tenants, people) = self.names(&who).await?;
        let now = self.0.clock.now();
        Ok(AgentDetail {
            owner_email: people.get(&agent.owner_id).cloned().unwrap_or_default(),
            sponsor: agent.sponsor_id.and_then(|s| people.get(&s).cloned()),
            webhook_url: agent.webhook_url.clone(),
            credentials: credentials.iter().map(|c| credential_view(c, now)).collect(),
            deliveries: deliveries.iter().map(delivery_view).collect(),
            may_edit: true,
            may_widen: authority == Authority::Admin,
            agent: Self::summary(&agent, &tenants, &people),
        })
    }

    async fn form_options(&self, viewer: &Viewer) -> Result<AgentFormOptions, AppError> {
        let who = principal(viewer)?;
        if !who.roles.contains(&Role::Admin) {
            return Err(AppError::Forbidden);
        }
        let people = self.0.store.users_in(&who.tenants).await.map_err(|e| hide(e.into()))?;
        let owners = people
            .into_iter()
            .filter(|u| u.active && u.roles.contains(&Role::Owner))
            .map(|u| {
                let slugs = u.tenants.iter().filter(|t| who.tenants.contains(&t.id)).map(|t| t.slug.clone()).collect();
                (u.email, u.name, slugs)
            })
            .collect();
        Ok(AgentFormOptions { tenants: viewer.tenants.clone(), owners })
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
    ) -> Result<(), AppError> {
        let who = principal(viewer)?;
        let changes =
            AgentChanges { purpose, allowances: allowance_lines(&allowances), webhook_url: Some(webhook_url) };
        self.0.update_agent(By::Person(&who), id(agent)?, changes).await.map_err(hide)?;
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
}
