//! Agents and their credentials: registering, editing within one's authority, minting and revoking
//! credentials (authenticating an agent's request is in `agent_auth`).

use super::{Service, ServiceError};
use crate::domain::access::{authority_over, Authority, Principal};
use crate::domain::audit::{Actor, Event, Kind};
use crate::domain::egress::{Egress, Refused};
use crate::domain::scope::Scope;
use crate::domain::{credential, identity, AgentState, Invalid, Role};
use crate::store::{Agent, Credential, Delivery, DeliveryState};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::RngCore;
use serde_json::json;
use time::Duration;
use uuid::Uuid;

/// Who asks: a signed-in person, or an operator at the command line (who has the database anyway).
#[derive(Debug, Clone, Copy)]
pub enum By<'a> {
    Person(&'a Principal),
    Operator,
}

impl By<'_> {
    pub fn actor(&self) -> Actor {
        match self {
            By::Person(p) => Actor::User(p.user),
            By::Operator => Actor::Cli,
        }
    }

    /// The person asking; `None` for the operator.
    pub fn person(&self) -> Option<Uuid> {
        match self {
            By::Person(p) => Some(p.user),
            By::Operator => None,
        }
    }

    fn authority(&self, agent_tenant: Uuid, owner: Uuid) -> Option<Authority> {
        match self {
            By::Person(p) => authority_over(p, agent_tenant, owner),
            By::Operator => Some(Authority::Admin),
        }
    }
}

pub struct AgentDraft {
    pub tenant: String,
    pub name: String,
    pub purpose: String,
    pub owner_email: String,
    /// Someone in the tenant who vouches for the agent besides its owner (a manager, say).
    pub sponsor_email: Option<String>,
    pub allowances: Vec<String>,
    pub webhook_url: Option<String>,
}

pub struct AgentChanges {
    pub purpose: String,
    pub allowances: Vec<String>,
    pub webhook_url: Option<String>,
}

/// A new credential of `agent` living `ttl` from `now`, and its token (shown once, never stored).
pub(super) fn minted(
    agent: Uuid,
    now: time::OffsetDateTime,
    ttl: Duration,
    issued_by: Option<Uuid>,
) -> (Credential, String) {
    let issued = credential::issue();
    let credential = Credential {
        id: issued.id,
        agent_id: agent,
        prefix: issued.prefix,
        secret_hash: issued.secret_hash,
        created_at: now,
        expires_at: now + ttl,
        last_used_at: None,
        revoked_at: None,
        issued_by,
        case_id: None,
        action_types: None,
        subject: None,
        parent_id: None,
        issuer_id: None,
    };
    (credential, issued.token)
}

/// A webhook URL as the owner typed it, checked as far as it can be before sending (names are checked
/// again, resolved, at every send).
fn webhook_url(raw: Option<String>, egress: Egress) -> Result<Option<String>, Invalid> {
    match raw.map(|u| u.trim().to_string()).filter(|u| !u.is_empty()) {
        None => Ok(None),
        Some(u) => match egress.url(&u) {
            Ok(_) => Ok(Some(u)),
            Err(Refused::NotAUrl) => Err(Invalid::new(format!("\"{u}\" is not an http(s) URL"))),
            Err(refused) => Err(Invalid::new(format!("\"{u}\" {refused}"))),
        },
    }
}

/// A Standard Webhooks signing secret: `whsec_` and 256 random bits in base64.
fn signing_secret() -> String {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    format!("whsec_{}", STANDARD.encode(key))
}

fn scope_data(scope: &Scope) -> Vec<String> {
    scope.allowances().iter().map(|a| a.spec()).collect()
}

impl Service {
    /// Registers an agent (admins only); returns it and, with a webhook URL, its signing secret.
    pub async fn create_agent(&self, by: By<'_>, draft: AgentDraft) -> Result<(Agent, Option<String>), ServiceError> {
        // Authority first: someone who may not register agents learns nothing of which tenants or owners
        // exist, and an admin is told of a tenant not theirs exactly as of one that does not exist.
        if let By::Person(p) = by {
            if !p.memberships.any(Role::Admin) {
                return Err(ServiceError::Forbidden);
            }
        }
        let tenant = self
            .store
            .tenant_by_slug(&draft.tenant)
            .await?
            .filter(|t| by.authority(t.id, Uuid::nil()) == Some(Authority::Admin))
            .ok_or_else(|| Invalid::new(format!("there is no tenant \"{}\" of yours", draft.tenant)))?;
        let owner_email = identity::normalize_email(&draft.owner_email)?;
        let owner = self
            .store
            .user_by_email(&owner_email)
            .await?
            .filter(|u| u.active && u.memberships.has(tenant.id, Role::Owner))
            .ok_or_else(|| Invalid::new(format!("{owner_email} is not an owner in {}", tenant.slug)))?;
        if by.authority(tenant.id, owner.id) != Some(Authority::Admin) {
            return Err(ServiceError::Forbidden);
        }
        let sponsor = match draft.sponsor_email.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(email) => {
                let email = identity::normalize_email(email)?;
                let person = self.store.user_by_email(&email).await?;
                let person = person
                    .filter(|u| u.active && u.tenants.iter().any(|t| t.id == tenant.id) && u.id != owner.id)
                    .ok_or_else(|| {
                        Invalid::new(format!("{email} cannot sponsor it: not another person in {}", tenant.slug))
                    })?;
                Some(person.id)
            }
        };
        let webhook_url = webhook_url(draft.webhook_url, self.outbox.egress())?;
        let webhook_secret = webhook_url.as_ref().map(|_| signing_secret());
        let id = Uuid::now_v7();
        let agent = Agent {
            id,
            tenant_id: tenant.id,
            name: identity::display_name(&draft.name)?,
            purpose: identity::display_name(&draft.purpose).map_err(|_| Invalid::new("a purpose is required"))?,
            owner_id: owner.id,
            sponsor_id: sponsor,
            state: AgentState::Active,
            scope: Scope::parse_all(&draft.allowances)?,
            webhook_url,
            webhook_secret: webhook_secret.as_ref().map(|s| self.seal_webhook_secret(s, &id)),
            created_at: self.clock.now(),
            life: crate::store::Life {
                review_due_at: Some(self.lifecycle.next_review(self.clock.now())),
                registered_by: by.person(),
                ..Default::default()
            },
            workload_subject: None,
            workload_only: false,
        };
        let event =
            Event::new(Kind::AgentCreated, by.actor(), format!("agent:{}", agent.id)).tenant(tenant.id).data(json!({
                "name": agent.name, "purpose": agent.purpose, "owner": owner.email, "sponsor": draft.sponsor_email,
                "scope": scope_data(&agent.scope), "webhook_url": agent.webhook_url,
            }));
        self.store.create_agent(&agent, event).await?;
        Ok((agent, webhook_secret))
    }

    /// Edits purpose, scope and webhook URL. An owner may only narrow the scope; widening takes an admin.
    pub async fn update_agent(&self, by: By<'_>, id: Uuid, changes: AgentChanges) -> Result<Agent, ServiceError> {
        let (before, authority) = self.agent_for(by, id).await?;
        if before.state == AgentState::Retired {
            return Err(Invalid::new("a retired agent cannot change").into());
        }
        let scope = Scope::parse_all(&changes.allowances)?;
        if authority != Authority::Admin && !scope.narrows(&before.scope) {
            return Err(Invalid::new("only an admin may widen an agent's scope; owners may narrow it").into());
        }
        let webhook_url = webhook_url(changes.webhook_url, self.outbox.egress())?;
        let webhook_secret = match (&before.webhook_secret, &webhook_url) {
            (_, None) => None,
            (Some(secret), Some(_)) => Some(secret.clone()),
            (None, Some(_)) => Some(self.seal_webhook_secret(&signing_secret(), &id)),
        };
        // Widening decides what the agent may ask: its author joins the agent's authority history.
        let mut life = before.life.clone();
        if !scope.narrows(&before.scope) {
            life.scope_changed_by = by.person();
        }
        let agent = Agent {
            purpose: identity::display_name(&changes.purpose).map_err(|_| Invalid::new("a purpose is required"))?,
            scope,
            life,
            webhook_url,
            webhook_secret,
            ..before.clone()
        };
        let event =
            Event::new(Kind::AgentUpdated, by.actor(), format!("agent:{id}")).tenant(agent.tenant_id).data(json!({
                "purpose": [before.purpose, agent.purpose.clone()],
                "scope": [scope_data(&before.scope), scope_data(&agent.scope)],
                "webhook_url": [before.webhook_url, agent.webhook_url.clone()],
            }));
        self.store.update_agent(&agent, event, self.clock.now()).await?;
        self.credentials.forget_agent(agent.id);
        Ok(agent)
    }

    /// An agent and the asker's authority over it; `Forbidden` when they have none (or it does not exist).
    pub async fn agent_for(&self, by: By<'_>, id: Uuid) -> Result<(Agent, Authority), ServiceError> {
        let agent = self.store.agent(id).await?.ok_or(ServiceError::Forbidden)?;
        let authority = by.authority(agent.tenant_id, agent.owner_id).ok_or(ServiceError::Forbidden)?;
        Ok((agent, authority))
    }

    /// An agent its owner, an admin or its sponsor may look at, with the asker's authority (`None` for a
    /// sponsor, who may look but not manage).
    pub async fn agent_visible(&self, by: By<'_>, id: Uuid) -> Result<(Agent, Option<Authority>), ServiceError> {
        let agent = self.store.agent(id).await?.ok_or(ServiceError::Forbidden)?;
        let authority = by.authority(agent.tenant_id, agent.owner_id);
        let sponsors = matches!(by, By::Person(p) if agent.sponsor_id == Some(p.user) && p.tenant_ids().contains(&agent.tenant_id));
        if authority.is_none() && !sponsors {
            return Err(ServiceError::Forbidden);
        }
        Ok((agent, authority))
    }

    /// Agents the person may see: all of their tenants' for admins, those they own or sponsor for owners.
    pub async fn agents_for(&self, who: &Principal) -> Result<Vec<Agent>, ServiceError> {
        let administered = who.memberships.tenants_with(&[Role::Admin]);
        let owned: Vec<Uuid> =
            who.memberships.tenants_with(&[Role::Owner]).into_iter().filter(|t| !administered.contains(t)).collect();
        if administered.is_empty() && owned.is_empty() {
            return Err(ServiceError::Forbidden);
        }
        let mut agents = self.store.agents(&administered, None).await?;
        agents.extend(self.store.agents(&owned, Some(who.user)).await?);
        Ok(agents)
    }

    /// Mints a credential; the token is returned once and never stored.
    pub async fn issue_credential(
        &self,
        by: By<'_>,
        agent: Uuid,
        ttl: Duration,
    ) -> Result<(Credential, String), ServiceError> {
        let (agent, _) = self.agent_for(by, agent).await?;
        if agent.state != AgentState::Active {
            return Err(Invalid::new(format!(
                "the agent is {}; only active agents get credentials",
                agent.state.as_str()
            ))
            .into());
        }
        if agent.workload_only {
            return Err(Invalid::new(
                "this agent takes workload identity only: it gets case credentials from POST /api/v1/credentials",
            )
            .into());
        }
        if ttl > credential::MAX_TTL || ttl < Duration::minutes(1) {
            return Err(Invalid::new("a credential lives between a minute and 30 days").into());
        }
        let (credential, token) = minted(agent.id, self.clock.now(), ttl, by.person());
        let event = Event::new(Kind::CredentialIssued, by.actor(), format!("credential:{}", credential.id))
            .tenant(agent.tenant_id)
            .data(json!({ "agent": agent.id, "prefix": credential.prefix, "expires_at": credential.expires_at.to_string() }));
        self.store.create_credential(&credential, event).await?;
        Ok((credential, token))
    }

    pub async fn revoke_credential(&self, by: By<'_>, id: Uuid) -> Result<(), ServiceError> {
        let credential = self.store.credential(id).await?.ok_or(ServiceError::Forbidden)?;
        let (agent, _) = self.agent_for(by, credential.agent_id).await?;
        let event = Event::new(Kind::CredentialRevoked, by.actor(), format!("credential:{id}"))
            .tenant(agent.tenant_id)
            .data(json!({ "agent": agent.id, "prefix": credential.prefix }));
        let revoked = self.store.revoke_credential(id, event, self.clock.now()).await?;
        // The store revoked the case credentials exchanged from it too.
        self.credentials.forget_agent(agent.id);
        if !revoked {
            return Err(Invalid::new("that credential is already revoked").into());
        }
        Ok(())
    }

    /// Recent webhook messages of an agent its owner or an admin may see.
    pub async fn deliveries(&self, by: By<'_>, agent: Uuid) -> Result<Vec<Delivery>, ServiceError> {
        let (agent, _) = self.agent_for(by, agent).await?;
        Ok(self.store.deliveries(agent.id, 50).await?)
    }

    /// Sends a webhook message again, now (after the receiver was fixed, say).
    pub async fn redeliver(&self, by: By<'_>, delivery: Uuid) -> Result<(), ServiceError> {
        let found = self.store.delivery(delivery).await?.ok_or(ServiceError::Forbidden)?;
        let (agent, _) = self.agent_for(by, found.agent_id).await?;
        if found.state == DeliveryState::Pending {
            return Err(Invalid::new("that message is already waiting to be sent").into());
        }
        let event =
            Event::new(Kind::WebhookRedeliveryRequested, by.actor(), format!("held_action:{}", found.held_action_id))
                .tenant(agent.tenant_id)
                .data(json!({ "message": crate::delivery::webhook::message_id(&found) }));
        if !self.store.redeliver(delivery, event, self.clock.now()).await? {
            return Err(
                Invalid::new("that message is being sent or was sent a moment ago; try again in a minute").into()
            );
        }
        self.outbox.wake();
        Ok(())
    }
}
