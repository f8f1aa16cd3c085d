//! What a vote is weighed against, loaded fresh for every vote: the action, its agent as it is now, who
//! could have produced the request, and whether earlier approvers still stand.

use super::{Service, ServiceError};
use crate::domain::access::Principal;
use crate::domain::provenance::{Producer, Provisioned};
use crate::domain::review::{Facts, Reviewer};
use crate::domain::scope::Money;
use crate::domain::Role;
use crate::store::{Agent, AgentGuard, HeldAction};
use uuid::Uuid;

/// The parts of the facts that live outside the action and its agent.
#[derive(Debug, Default)]
pub(super) struct Standing {
    producers: Vec<Producer>,
    provisioned: Vec<Provisioned>,
    credential_revoked: bool,
    lapsed: Vec<Uuid>,
}

impl Service {
    /// Who could have produced `action`, how `deciding` and the earlier approvers were provisioned, whether
    /// the credential that submitted it is revoked, and which of `approvals` came from people who are no
    /// longer active supervisors of its tenant.
    pub(super) async fn standing(
        &self,
        action: &HeldAction,
        approvals: &[(Uuid, Option<Money>)],
        deciding: Uuid,
    ) -> Result<Standing, ServiceError> {
        let credential = match action.credential_id {
            Some(id) => self.store.credential(id).await?,
            None => None,
        };
        let mut lapsed = Vec::new();
        for (user, _) in approvals {
            let stands = self
                .store
                .user_by_id(*user)
                .await?
                .is_some_and(|u| u.active && u.memberships.has(action.tenant_id, Role::Supervisor));
            if !stands {
                lapsed.push(*user);
            }
        }
        let people: Vec<Uuid> = approvals.iter().map(|(u, _)| *u).chain([deciding]).collect();
        Ok(Standing {
            producers: self.store.producers(action.id).await?,
            provisioned: self.store.provisioned(&people).await?,
            credential_revoked: credential.is_some_and(|c| c.revoked_at.is_some()),
            lapsed,
        })
    }
}

pub(super) fn principal(who: &Reviewer) -> Principal {
    Principal { user: who.user, memberships: who.memberships.clone() }
}

pub(super) fn facts<'a>(
    action: &'a HeldAction,
    agent: &Agent,
    approvals: &'a [(Uuid, Option<Money>)],
    standing: &'a Standing,
) -> Facts<'a> {
    Facts {
        tenant: action.tenant_id,
        owner: agent.owner_id,
        sponsor: agent.sponsor_id,
        tier: action.tier,
        status: action.status,
        expires_at: action.expires_at,
        amount: action.amount.as_ref(),
        approvals,
        agent: agent.state,
        producers: &standing.producers,
        provisioned: &standing.provisioned,
        credential_revoked: standing.credential_revoked,
        out_of_scope: agent.scope.refusal(action.action, action.amount.as_ref()),
        lapsed: &standing.lapsed,
    }
}

/// The agent (and credential) as this vote weighed them; the store applies the vote only if they still are.
pub(super) fn guard(agent: &Agent, action: &HeldAction) -> Option<AgentGuard> {
    Some(AgentGuard {
        agent: agent.id,
        owner: agent.owner_id,
        sponsor: agent.sponsor_id,
        state: agent.state,
        credential: action.credential_id,
        allowance: agent.scope.allowances().iter().find(|a| a.action == action.action).map(|a| a.limit.clone()),
        action_type: action.action,
    })
}

/// The workload subject that vouched for a submission, as its `held_action.submitted` event names it.
pub fn submitted_subject(events: &[crate::domain::audit::Record]) -> Option<String> {
    let submitted = events.iter().find(|e| e.kind == crate::domain::audit::Kind::HeldActionSubmitted.as_str())?;
    let data: serde_json::Value = serde_json::from_str(&submitted.data).ok()?;
    data["subject"].as_str().map(str::to_string)
}
