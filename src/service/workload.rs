//! Agents without standing secrets: issuers a tenant trusts, the subject each agent is bound to, intake
//! authenticated by a workload token, and just-in-time credentials bound to one case that the case's close
//! (or the agent's suspension or retirement) ends.

use super::agent_auth::{AgentAuthError, AuthenticatedAgent};
use super::agents::By;
use super::{Service, ServiceError};
use crate::domain::audit::{Event, Kind};
use crate::domain::workload::{self, Issuer, Refusal};
use crate::domain::{ActionType, AgentState, Invalid, Role};
use crate::store::{Agent, Binding, Credential};
use jsonwebtoken::jwk::JwkSet;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// A fetched JWKS is used this long before it is fetched again.
const JWKS_FRESH_FOR: Duration = Duration::from_secs(600);
/// An unknown `kid` fetches the JWKS again, at most this often per issuer (a stream of bad tokens must not
/// become a stream of requests to the issuer).
const REFETCH_AFTER: Duration = Duration::from_secs(1);
const MAX_JWKS_BYTES: usize = 256 * 1024;
pub const CASE_TTL_DEFAULT: time::Duration = time::Duration::minutes(15);
pub const CASE_TTL_MAX: time::Duration = time::Duration::hours(1);

/// Issuers' keys as last fetched, by issuer id.
#[derive(Clone, Default)]
pub struct JwksCache(Arc<Mutex<HashMap<Uuid, (Instant, JwkSet)>>>);

impl JwksCache {
    fn get(&self, issuer: Uuid) -> Option<(Instant, JwkSet)> {
        self.0.lock().ok()?.get(&issuer).cloned()
    }

    fn put(&self, issuer: Uuid, keys: JwkSet) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(issuer, (Instant::now(), keys));
        }
    }
}

/// An admin registering an issuer for a tenant.
pub struct IssuerDraft {
    pub tenant: String,
    pub issuer: String,
    pub audience: String,
    pub jwks_url: Option<String>,
    pub jwks: Option<String>,
}

/// What an agent asks for with `POST /api/v1/credentials`.
pub struct CaseRequest {
    pub case_id: String,
    pub action_types: Vec<String>,
    pub ttl: Option<time::Duration>,
}

impl Service {
    /// Registers an issuer a tenant trusts (admins of the tenant, or the operator).
    pub async fn add_issuer(&self, by: By<'_>, draft: IssuerDraft) -> Result<Issuer, ServiceError> {
        let tenant = self.store.tenant_by_slug(draft.tenant.trim()).await?;
        let tenant = tenant.ok_or_else(|| Invalid::new(format!("no tenant \"{}\"", draft.tenant.trim())))?;
        if let By::Person(p) = by {
            if !p.has(tenant.id, Role::Admin) {
                return Err(ServiceError::Forbidden);
            }
        }
        let issuer = workload::issuer_name(&draft.issuer)?;
        let audience = workload::audience(&draft.audience)?;
        let blank = |v: Option<String>| v.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
        let (jwks_url, jwks) = match (blank(draft.jwks_url), blank(draft.jwks)) {
            (Some(url), None) => {
                self.outbox.egress().url(&url).map_err(|r| Invalid::new(format!("the JWKS URL is {r}")))?;
                (Some(url), None)
            }
            (None, Some(text)) => {
                workload::jwks(&text)?;
                (None, Some(text))
            }
            _ => return Err(Invalid::new("give the issuer's JWKS URL or paste its JWKS, one of the two").into()),
        };
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

    /// The issuers of the tenants a person administers.
    pub async fn issuers_for(&self, by: By<'_>, tenants: &[Uuid]) -> Result<Vec<Issuer>, ServiceError> {
        if let By::Person(p) = by {
            if !p.memberships.any(Role::Admin) && !p.memberships.any(Role::Owner) {
                return Err(ServiceError::Forbidden);
            }
        }
        Ok(self.store.issuers(tenants).await?)
    }

    /// Binds an agent to its workload subject (`None` unbinds) and sets "workload identity only"; its owner
    /// or an admin. The person who binds chose who may speak as the agent, so may not decide its actions.
    pub async fn bind_agent(
        &self,
        by: By<'_>,
        id: Uuid,
        subject: Option<&str>,
        only: bool,
    ) -> Result<Agent, ServiceError> {
        let (before, _) = self.agent_for(by, id).await?;
        if before.state == AgentState::Retired {
            return Err(Invalid::new("a retired agent cannot change").into());
        }
        let subject = subject.map(str::trim).filter(|s| !s.is_empty()).map(workload::subject).transpose()?;
        if only && subject.is_none() {
            return Err(Invalid::new("bind a workload subject before making it workload identity only").into());
        }
        let event = Event::new(Kind::AgentBound, by.actor(), format!("agent:{id}")).tenant(before.tenant_id).data(
            json!({ "subject": [before.workload_subject, subject], "workload_only": [before.workload_only, only] }),
        );
        // Recorded like a scope change: separation of duties keeps this person from deciding its actions.
        let mut life = before.life.clone();
        if subject != before.workload_subject {
            life.scope_changed_by = by.person().or(life.scope_changed_by);
        }
        let binding = Binding { subject: subject.as_deref(), only, changed_by: life.scope_changed_by };
        self.store.bind_workload(id, binding, event, self.clock.now()).await?;
        self.credentials.forget_agent(id);
        Ok(Agent { workload_subject: subject, workload_only: only, life, ..before })
    }

    /// A workload token: from an issuer the agent's tenant trusts, for the subject the agent is bound to.
    pub(super) async fn authenticate_workload(&self, token: &str) -> Result<AuthenticatedAgent, AgentAuthError> {
        let unverified = workload::peek(token).ok_or(AgentAuthError::Unauthorized)?;
        let mut issuers = Vec::new();
        for key in &unverified.issuer_keys {
            issuers.extend(self.store.issuers_named(key).await.map_err(ServiceError::from)?);
        }
        for issuer in &issuers {
            let Some(subject) = self.verified_subject(token, issuer).await? else { continue };
            let agent = self.store.agent_by_subject(issuer.tenant_id, &subject).await.map_err(ServiceError::from)?;
            let Some(agent) = agent else { continue };
            if agent.state != AgentState::Active {
                return Err(AgentAuthError::Inactive(agent.state));
            }
            return Ok(AuthenticatedAgent { agent, credential: None, subject: Some(subject), case: None });
        }
        Err(AgentAuthError::Unauthorized)
    }

    /// The token's subject if it verifies against `issuer`'s keys, fetching them again once on an unknown key.
    async fn verified_subject(&self, token: &str, issuer: &Issuer) -> Result<Option<String>, AgentAuthError> {
        let now = self.clock.now();
        let keys = self.issuer_keys(issuer, false).await?;
        match keys.as_ref().map(|k| workload::verify(token, issuer, k, now)) {
            Some(Ok(subject)) => Ok(Some(subject)),
            Some(Err(Refusal::UnknownKey)) | None => {
                let Some(keys) = self.issuer_keys(issuer, true).await? else { return Ok(None) };
                Ok(workload::verify(token, issuer, &keys, now).ok())
            }
            Some(Err(Refusal::Invalid(why))) => {
                tracing::debug!(issuer = %issuer.issuer, why, "a workload token was refused");
                Ok(None)
            }
        }
    }

    /// The issuer's keys: pasted, cached, or fetched (`again`: the cached ones lacked the token's key).
    async fn issuer_keys(&self, issuer: &Issuer, again: bool) -> Result<Option<JwkSet>, AgentAuthError> {
        if let Some(text) = &issuer.jwks {
            return Ok(if again { None } else { workload::jwks(text).ok() });
        }
        let Some(url) = &issuer.jwks_url else { return Ok(None) };
        let cached = self.jwks.get(issuer.id);
        match &cached {
            Some((at, keys)) if !again && at.elapsed() < JWKS_FRESH_FOR => return Ok(Some(keys.clone())),
            Some((at, _)) if again && at.elapsed() < REFETCH_AFTER => return Ok(None),
            _ => {}
        }
        match self.fetch_jwks(url).await {
            Ok(keys) => {
                self.jwks.put(issuer.id, keys.clone());
                Ok(Some(keys))
            }
            Err(why) => {
                tracing::warn!(issuer = %issuer.issuer, url, why, "cannot fetch the issuer's JWKS");
                Ok(cached.map(|(_, keys)| keys).filter(|_| !again))
            }
        }
    }

    async fn fetch_jwks(&self, url: &str) -> Result<JwkSet, String> {
        let response = self.outbox.client().get(url).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("status {}", response.status()));
        }
        let body = response.bytes().await.map_err(|e| e.to_string())?;
        if body.len() > MAX_JWKS_BYTES {
            return Err("the JWKS is too large".into());
        }
        workload::jwks(&String::from_utf8_lossy(&body)).map_err(|e| e.0)
    }

    /// `POST /api/v1/credentials`: a short-lived `csa_` credential bound to one case and some of the agent's
    /// action types. A case credential cannot mint another.
    pub async fn issue_case_credential(
        &self,
        who: &AuthenticatedAgent,
        request: CaseRequest,
    ) -> Result<(Credential, String), ServiceError> {
        if who.case.is_some() {
            return Err(Invalid::new("a case credential cannot obtain another; use the workload token").into());
        }
        let case_id = request.case_id.trim().to_string();
        if case_id.is_empty() || case_id.len() > 200 {
            return Err(Invalid::new("case_id: the case id, 1 to 200 characters").into());
        }
        let mut action_types = Vec::new();
        for name in &request.action_types {
            let action = ActionType::parse(name.trim())
                .ok_or_else(|| Invalid::new(format!("action_types: \"{name}\" is not an action type")))?;
            if !who.agent.scope.allowances().iter().any(|a| a.action == action) {
                return Err(Invalid::new(format!("action_types: the agent may not request {name}")).into());
            }
            if !action_types.contains(&action) {
                action_types.push(action);
            }
        }
        if action_types.is_empty() {
            return Err(Invalid::new("action_types: name at least one of the agent's action types").into());
        }
        let ttl = request.ttl.unwrap_or(CASE_TTL_DEFAULT);
        if ttl < time::Duration::minutes(1) || ttl > CASE_TTL_MAX {
            return Err(Invalid::new("ttl_seconds: a case credential lives between 60 and 3600 seconds").into());
        }
        let (minted, token) = super::agents::minted(who.agent.id, self.clock.now(), ttl, None);
        let credential = Credential {
            case_id: Some(case_id),
            action_types: Some(action_types),
            subject: who.subject.clone(),
            ..minted
        };
        let event = Event::new(
            Kind::CredentialIssued,
            crate::domain::audit::Actor::Agent(who.agent.id),
            format!("credential:{}", credential.id),
        )
        .tenant(who.agent.tenant_id)
        .data(
            json!({ "agent": who.agent.id, "prefix": credential.prefix, "expires_at": credential.expires_at.to_string(),
                          "case_id": credential.case_id, "subject": who.subject, "via_credential": who.credential,
                          "action_types": request.action_types }),
        );
        self.store.create_credential(&credential, event).await?;
        Ok((credential, token))
    }

    /// `POST /api/v1/cases/{id}/close`: every credential of the agent bound to the case ends now.
    pub async fn close_case(&self, who: &AuthenticatedAgent, case_id: &str) -> Result<u64, ServiceError> {
        if who.case.as_ref().is_some_and(|c| c.case_id != case_id) {
            return Err(Invalid::new("this credential is bound to another case").into());
        }
        let event = Event::new(
            Kind::CaseClosed,
            crate::domain::audit::Actor::Agent(who.agent.id),
            format!("agent:{}", who.agent.id),
        )
        .tenant(who.agent.tenant_id)
        .data(json!({ "case_id": case_id, "subject": who.subject }));
        let ended = self.store.close_case(who.agent.id, case_id, event, self.clock.now()).await?;
        self.credentials.forget_agent(who.agent.id);
        Ok(ended)
    }
}
