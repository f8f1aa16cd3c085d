//! Agents without standing secrets: issuers a tenant trusts, the subject each agent is bound to, intake
//! authenticated by a workload token, and just-in-time credentials bound to one case that the case's close
//! (or the agent's suspension or retirement) ends.

use super::agent_auth::{AgentAuthError, AuthenticatedAgent};
use super::agents::By;
use super::{Service, ServiceError};
use crate::domain::audit::{Event, Kind};
use crate::domain::workload::{self, Issuer};
use crate::domain::{ActionType, AgentState, Invalid};
use crate::store::{Agent, Binding, Credential};
use serde_json::json;
use uuid::Uuid;

/// The longest lifetime a workload token may have unless configured (`workload_token_max_lifetime`).
pub const TOKEN_MAX_LIFETIME_DEFAULT: time::Duration = time::Duration::hours(1);
pub const CASE_TTL_DEFAULT: time::Duration = time::Duration::minutes(15);
pub const CASE_TTL_MAX: time::Duration = time::Duration::hours(1);

/// What an agent asks for with `POST /api/v1/credentials`.
pub struct CaseRequest {
    pub case_id: String,
    pub action_types: Vec<String>,
    pub ttl: Option<time::Duration>,
}

impl Service {
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
        let bound_by = by.person().filter(|_| subject.is_some() && subject != before.workload_subject);
        let binding = Binding { subject: subject.as_deref(), only, changed_by: life.scope_changed_by, bound_by };
        self.store.bind_workload(id, binding, event, self.clock.now()).await?;
        self.credentials.forget_agent(id);
        Ok(Agent { workload_subject: subject, workload_only: only, life, ..before })
    }

    /// A workload token: from an issuer one tenant trusts, for the subject one of its agents is bound to.
    /// Every issuer registration with the token's name is tried; if the token could be more than one agent
    /// (two tenants trusting the same issuer and binding the same subject), it is none of them: refused,
    /// and the operator is told why in the log, never the caller.
    pub(super) async fn authenticate_workload(&self, token: &str) -> Result<AuthenticatedAgent, AgentAuthError> {
        let unverified = workload::peek(token).ok_or(AgentAuthError::Unauthorized)?;
        let mut issuers = Vec::new();
        for key in &unverified.issuer_keys {
            issuers.extend(self.store.issuers_named(key).await.map_err(ServiceError::from)?);
        }
        let mut candidates: Vec<(Issuer, Agent, String)> = Vec::new();
        for issuer in issuers {
            let Some(subject) = self.verified_subject(token, &issuer).await? else { continue };
            let agent = self.store.agent_by_subject(issuer.tenant_id, &subject).await.map_err(ServiceError::from)?;
            if let Some(agent) = agent {
                candidates.push((issuer, agent, subject));
            }
        }
        let mut agents: Vec<Uuid> = candidates.iter().map(|(_, a, _)| a.id).collect();
        agents.sort_unstable();
        agents.dedup();
        if agents.len() > 1 {
            let tenants: Vec<String> = candidates.iter().map(|(i, _, _)| i.tenant_id.to_string()).collect();
            let issuers: Vec<&str> = candidates.iter().map(|(i, _, _)| i.issuer.as_str()).collect();
            tracing::warn!(
                issuers = ?issuers,
                subject = %candidates[0].2,
                tenants = ?tenants,
                "a workload token was refused: it verifies for more than one agent (the same issuer and subject \
                 are trusted and bound in several tenants); unbind the subject in all but one"
            );
            return Err(AgentAuthError::Unauthorized);
        }
        // One agent (perhaps through several of its tenant's issuers: the first, by name, is recorded).
        let Some((issuer, agent, subject)) = candidates.into_iter().next() else {
            return Err(AgentAuthError::Unauthorized);
        };
        if agent.state != AgentState::Active {
            return Err(AgentAuthError::Inactive(agent.state));
        }
        Ok(AuthenticatedAgent { agent, credential: None, subject: Some(subject), case: None, issuer: Some(issuer.id) })
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
        // A case credential carries its parent's provenance (its minter, the issuer that vouched) and never
        // outlives it; revoking the parent revokes it (the store does both in one transaction).
        let parent = match who.credential {
            Some(id) => Some(self.store.credential(id).await?.ok_or(ServiceError::Forbidden)?),
            None => None,
        };
        let (minted, token) =
            super::agents::minted(who.agent.id, self.clock.now(), ttl, parent.as_ref().and_then(|p| p.issued_by));
        let credential = Credential {
            case_id: Some(case_id),
            action_types: Some(action_types),
            subject: who.subject.clone(),
            parent_id: parent.as_ref().map(|p| p.id),
            issuer_id: who.issuer,
            expires_at: parent.as_ref().map_or(minted.expires_at, |p| p.expires_at.min(minted.expires_at)),
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
