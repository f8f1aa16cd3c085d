//! Authenticating an agent's request: a `csa_` credential (checked against its hash, through the cache) or a
//! workload-identity token, and whether the agent may act now.

use super::{Service, ServiceError};
use crate::domain::{credential, AgentState};
use crate::store::{Agent, Credential};
use time::Duration;
use uuid::Uuid;

/// An agent whose credential or workload token checked out.
#[derive(Debug, Clone)]
pub struct AuthenticatedAgent {
    pub agent: Agent,
    /// The credential used; `None` for a workload-identity token.
    pub credential: Option<Uuid>,
    /// The workload subject that vouched for it (the token's, or the one that obtained the credential).
    pub subject: Option<String>,
    /// A just-in-time credential's bounds: one case, some action types.
    pub case: Option<CaseBound>,
    /// The trusted issuer (its `trusted_issuers` row) whose key signed the workload token; `None` for a
    /// credential.
    pub issuer: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseBound {
    pub case_id: String,
    pub action_types: Vec<crate::domain::ActionType>,
}

#[derive(Debug, thiserror::Error)]
pub enum AgentAuthError {
    #[error("missing, unknown, expired or revoked credential")]
    Unauthorized,
    /// Suspended or retired: its credentials are listed but do not authenticate.
    #[error("the agent is {}", .0.as_str())]
    Inactive(AgentState),
    /// Authentic, but not allowed this way (an owner-minted credential for a workload-identity-only agent).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl Service {
    /// Checks a bearer token, a `csa_` credential or a workload-identity JWT: unknown, expired or revoked →
    /// Unauthorized; suspended or retired → Inactive.
    pub async fn authenticate_agent(&self, token: &str) -> Result<AuthenticatedAgent, AgentAuthError> {
        if crate::domain::workload::looks_like_jwt(token) {
            return self.authenticate_workload(token).await;
        }
        let (id, secret) = credential::parse(token).ok_or(AgentAuthError::Unauthorized)?;
        let (stored, agent) = match self.credentials.get(id) {
            Some(hit) => hit,
            None => {
                let stored =
                    self.store.credential(id).await.map_err(ServiceError::from)?.ok_or(AgentAuthError::Unauthorized)?;
                let agent = self.store.agent(stored.agent_id).await.map_err(ServiceError::from)?;
                let agent = agent.ok_or(AgentAuthError::Unauthorized)?;
                self.credentials.put(stored.clone(), agent.clone());
                (stored, agent)
            }
        };
        let now = self.clock.now();
        let valid = Some(stored)
            .filter(|c| credential::matches(secret, &c.secret_hash) && c.revoked_at.is_none() && now < c.expires_at)
            .ok_or(AgentAuthError::Unauthorized)?;
        if agent.state != AgentState::Active {
            return Err(AgentAuthError::Inactive(agent.state));
        }
        if agent.workload_only && valid.case_id.is_none() {
            return Err(AgentAuthError::Refused(
                "this agent takes workload identity only; long-lived credentials do not authenticate it".into(),
            ));
        }
        // Last use is shown to owners, to the minute. It goes with the intake writer's next commit: a write of
        // its own would wait for the write lock behind a whole batch (over a second, now and then, on SQLite).
        if valid.last_used_at.is_none_or(|at| now - at >= Duration::minutes(1)) {
            self.intake.note_use(valid.id, now);
            self.credentials.put(Credential { last_used_at: Some(now), ..valid.clone() }, agent.clone());
        }
        let case = valid.case_id.clone().map(|case_id| CaseBound {
            case_id,
            // Stored with the credential; none stored allows nothing.
            action_types: valid.action_types.clone().unwrap_or_default(),
        });
        Ok(AuthenticatedAgent { agent, credential: Some(valid.id), subject: valid.subject.clone(), case, issuer: None })
    }
}
