//! An agent's life after registration: suspension, resumption and retirement, hand-over of ownership,
//! sponsors, and the periodic sweep that lapses hand-overs and suspends agents whose access review or
//! orphaning has gone unanswered. Rules come from `domain::lifecycle`; the store commits each change with
//! its audit event.

use super::{By, Service, ServiceError};
use crate::domain::audit::{Actor, Event, Kind};
use crate::domain::lifecycle::{self, Change, Handover, HandoverState, OwnerStanding};
use crate::domain::{identity, AgentState, HeldStatus, Invalid, Role};
use crate::store::{Agent, RetirementPreview, StateChange, StoreError, User};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

/// Attempts before giving up on an agent that keeps receiving actions while it is being retired.
const RETRIES: usize = 8;

/// What one pass of the sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sweep {
    pub lapsed_handovers: usize,
    pub suspended_for_review: usize,
    pub suspended_as_orphans: usize,
    /// Agents the sweep could not move, with why: reported, and left for the next pass.
    pub skipped: Vec<String>,
}

/// How `person` stands as a possible owner of an agent of `tenant`.
pub fn owner_standing(person: &User, tenant: Uuid) -> OwnerStanding {
    OwnerStanding {
        active: person.active,
        has_owner_role: person.memberships.has(tenant, Role::Owner),
        in_tenant: person.tenants.iter().any(|t| t.id == tenant),
    }
}

impl Service {
    /// When the agent's next access review is due.
    pub fn review_due(&self, agent: &Agent) -> OffsetDateTime {
        agent.life.review_due_at.unwrap_or_else(|| self.lifecycle.next_review(agent.created_at))
    }

    /// Suspends, resumes or retires an agent (its owner or an admin), with a reason; retirement must be
    /// confirmed with the agent's name where a person types it (`confirm`).
    pub async fn change_agent_state(
        &self,
        by: By<'_>,
        id: Uuid,
        change: Change,
        reason: &str,
        confirm: Option<&str>,
    ) -> Result<Agent, ServiceError> {
        let (agent, _) = self.agent_for(by, id).await?;
        let reason = lifecycle::reason(reason)?;
        let to = lifecycle::next_state(agent.state, change)?;
        if let Some(typed) = confirm {
            lifecycle::confirm_name(&agent.name, typed)?;
        }
        self.move_agent(agent, to, reason, by.actor()).await
    }

    /// What retiring the agent would end.
    pub async fn retirement_preview(&self, by: By<'_>, id: Uuid) -> Result<RetirementPreview, ServiceError> {
        let (agent, _) = self.agent_for(by, id).await?;
        Ok(self.store.retirement_preview(agent.id, self.clock.now()).await?)
    }

    /// Commits a state change; retirement cancels every pending action (each outcome signed and sent to the
    /// agent like any other) and revokes every credential in the same transaction.
    async fn move_agent(
        &self,
        mut agent: Agent,
        to: AgentState,
        reason: String,
        actor: Actor,
    ) -> Result<Agent, ServiceError> {
        for _ in 0..RETRIES {
            let started = std::time::Instant::now();
            let now = self.clock.now();
            let mut cancellations = Vec::new();
            if to == AgentState::Retired {
                for action in self.store.pending_of_agent(agent.id).await? {
                    let why = Some(lifecycle::RETIRED_REASON.to_string());
                    let mut t = self.conclude(&action, &agent, HeldStatus::Cancelled, why, None, None, now).await?;
                    t.events.iter_mut().for_each(|e| e.actor = actor.clone());
                    cancellations.push(t);
                }
            }
            let kind = match to {
                AgentState::Active => Kind::AgentResumed,
                AgentState::Suspended => Kind::AgentSuspended,
                AgentState::Retired => Kind::AgentRetired,
            };
            let event = Event::new(kind, actor.clone(), format!("agent:{}", agent.id))
                .tenant(agent.tenant_id)
                .data(json!({ "reason": reason, "from": agent.state.as_str(), "cancelled": cancellations.len() }));
            let change = StateChange {
                agent: agent.id,
                from: agent.state,
                to,
                reason: reason.clone(),
                by: actor.encode(),
                event,
            };
            let prepared = started.elapsed();
            let committed = self.store.change_state(&change, cancellations, now).await?;
            tracing::debug!(?prepared, total = ?started.elapsed(), agent = %agent.id, "agent state change");
            if let Some(changes) = committed {
                self.credentials.forget_agent(agent.id);
                self.publish(&changes);
                if to == AgentState::Retired {
                    self.outbox.wake();
                }
                return self.store.agent(agent.id).await?.ok_or(ServiceError::Forbidden);
            }
            // Either its state moved under us, or an action arrived after we listed the pending ones.
            let now_agent = self.store.agent(agent.id).await?.ok_or(ServiceError::Forbidden)?;
            if now_agent.state != agent.state {
                let now = now_agent.state.as_str();
                return Err(
                    Invalid::new(format!("the agent changed meanwhile and is now {now}; nothing was done")).into()
                );
            }
            agent = now_agent;
        }
        Err(StoreError::Corrupt(format!("agent {} kept receiving actions while being retired", agent.id)).into())
    }

    /// Proposes `to_email` as the agent's new owner (its owner or an admin); they accept or decline.
    pub async fn propose_handover(&self, by: By<'_>, id: Uuid, to_email: &str) -> Result<Handover, ServiceError> {
        let (agent, _) = self.agent_for(by, id).await?;
        let email = identity::normalize_email(to_email)?;
        // Whether the address exists elsewhere is none of the asker's business: one answer for both.
        let not_owner = || Invalid::new(format!("{email} is not an owner in the agent's tenant"));
        let to = self.store.user_by_email(&email).await?.ok_or_else(not_owner)?;
        let standing = owner_standing(&to, agent.tenant_id);
        if standing.orphans() {
            return Err(not_owner().into());
        }
        lifecycle::check_proposal(agent.state, agent.owner_id, agent.sponsor_id, to.id, standing)
            .map_err(|e| Invalid::new(format!("{email}: {e}")))?;
        self.lapse_handovers().await?;
        let now = self.clock.now();
        let handover = Handover {
            id: Uuid::now_v7(),
            agent: agent.id,
            from_owner: agent.owner_id,
            to_owner: to.id,
            proposed_by: by.actor().encode(),
            proposed_at: now,
            expires_at: now + lifecycle::HANDOVER_TTL,
            state: HandoverState::Pending,
            answered_at: None,
        };
        let event = Event::new(Kind::HandoverProposed, by.actor(), format!("agent:{}", agent.id))
            .tenant(agent.tenant_id)
            .data(json!({ "handover": handover.id, "from": agent.owner_id, "to": to.id, "to_email": to.email,
                           "expires_at": handover.expires_at.unix_timestamp() }));
        match self.store.propose_handover(&handover, event).await {
            Err(StoreError::Conflict(_)) => {
                Err(Invalid::new("this agent already has an open hand-over; withdraw it first").into())
            }
            other => Ok(other.map(|()| handover)?),
        }
    }

    /// The proposed owner accepts or declines.
    pub async fn answer_handover(&self, who: &User, id: Uuid, accept: bool) -> Result<(), ServiceError> {
        let handover = self.store.handover(id).await?.ok_or(ServiceError::Forbidden)?;
        if handover.to_owner != who.id {
            return Err(ServiceError::Forbidden);
        }
        let now = self.clock.now();
        lifecycle::check_answer(&handover, who.id, now)?;
        let agent = self.store.agent(handover.agent).await?.ok_or(ServiceError::Forbidden)?;
        if accept {
            let standing = owner_standing(who, agent.tenant_id);
            lifecycle::check_proposal(agent.state, agent.owner_id, agent.sponsor_id, who.id, standing)?;
        }
        let (state, kind) = if accept {
            (HandoverState::Accepted, Kind::HandoverAccepted)
        } else {
            (HandoverState::Declined, Kind::HandoverDeclined)
        };
        self.settle(&handover, &agent, state, kind, Actor::User(who.id), now).await
    }

    /// The owner, an admin or whoever proposed it takes a pending proposal back.
    pub async fn withdraw_handover(&self, by: By<'_>, id: Uuid) -> Result<(), ServiceError> {
        let handover = self.store.handover(id).await?.ok_or(ServiceError::Forbidden)?;
        let (agent, _) = self.agent_for(by, handover.agent).await?;
        if handover.state != HandoverState::Pending {
            return Err(Invalid::new(format!("this hand-over was already {}", handover.state.as_str())).into());
        }
        let now = self.clock.now();
        self.settle(&handover, &agent, HandoverState::Withdrawn, Kind::HandoverWithdrawn, by.actor(), now).await
    }

    async fn settle(
        &self,
        handover: &Handover,
        agent: &Agent,
        state: HandoverState,
        kind: Kind,
        actor: Actor,
        now: OffsetDateTime,
    ) -> Result<(), ServiceError> {
        let revokes = (state == HandoverState::Accepted).then_some(handover.from_owner);
        let event = Event::new(kind, actor, format!("agent:{}", agent.id)).tenant(agent.tenant_id).data(json!({
            "handover": handover.id, "from": handover.from_owner, "to": handover.to_owner,
            "revokes_credentials_of": revokes,
        }));
        if !self.store.settle_handover(handover.id, state, event, now).await? {
            return Err(Invalid::new(
                "this hand-over is no longer open: it was answered, withdrawn or the owner changed",
            )
            .into());
        }
        self.credentials.forget_agent(agent.id);
        Ok(())
    }

    /// Marks proposals unanswered for seven days as lapsed.
    pub async fn lapse_handovers(&self) -> Result<usize, ServiceError> {
        let now = self.clock.now();
        let mut lapsed = 0;
        for handover in self.store.lapsed_handovers(now).await? {
            let Some(agent) = self.store.agent(handover.agent).await? else { continue };
            let event = Event::new(Kind::HandoverLapsed, Actor::System, format!("agent:{}", agent.id))
                .tenant(agent.tenant_id)
                .data(json!({ "handover": handover.id, "from": handover.from_owner, "to": handover.to_owner }));
            if self.store.settle_handover(handover.id, HandoverState::Lapsed, event, now).await? {
                lapsed += 1;
            }
        }
        Ok(lapsed)
    }

    /// Sets, changes or (with an empty email) removes the agent's sponsor (its owner or an admin).
    pub async fn set_sponsor(&self, by: By<'_>, id: Uuid, email: &str) -> Result<Agent, ServiceError> {
        let (agent, _) = self.agent_for(by, id).await?;
        if agent.state == AgentState::Retired {
            return Err(Invalid::new("a retired agent cannot change").into());
        }
        let sponsor = match email.trim() {
            "" => None,
            raw => {
                let email = identity::normalize_email(raw)?;
                let not_here = || Invalid::new(format!("{email} is not an active person of the agent's tenant"));
                let person = self.store.user_by_email(&email).await?.ok_or_else(not_here)?;
                if !(person.active && person.tenants.iter().any(|t| t.id == agent.tenant_id)) {
                    return Err(not_here().into());
                }
                lifecycle::check_sponsor(agent.owner_id, person.id, true)?;
                Some(person.id)
            }
        };
        let event = Event::new(Kind::SponsorChanged, by.actor(), format!("agent:{id}"))
            .tenant(agent.tenant_id)
            .data(json!({ "from": agent.sponsor_id, "to": sponsor }));
        let changed = Agent { sponsor_id: sponsor, ..agent };
        self.store.update_agent(&changed, event, self.clock.now()).await?;
        self.credentials.forget_agent(id);
        Ok(changed)
    }

    /// One pass: lapse old proposals, then suspend active agents whose review is overdue past its grace or
    /// that have been orphaned past theirs.
    pub async fn lifecycle_sweep(&self) -> Result<Sweep, ServiceError> {
        let mut sweep = Sweep { lapsed_handovers: self.lapse_handovers().await?, ..Sweep::default() };
        let tenants: Vec<Uuid> = self.store.tenants().await?.into_iter().map(|t| t.id).collect();
        let now = self.clock.now();
        for agent in self.store.agents(&tenants, None).await? {
            if agent.state != AgentState::Active {
                continue;
            }
            let overdue =
                self.lifecycle.review_standing(self.review_due(&agent), now) == lifecycle::ReviewStanding::Lapsed;
            let orphan_lapsed = agent.life.orphaned_at.is_some_and(|since| self.lifecycle.orphan_lapsed(since, now));
            let reason = match (overdue, orphan_lapsed) {
                (true, _) => lifecycle::REVIEW_OVERDUE_REASON,
                (false, true) => lifecycle::ORPHANED_REASON,
                (false, false) => continue,
            };
            let id = agent.id;
            match self.move_agent(agent, AgentState::Suspended, reason.to_string(), Actor::System).await {
                Ok(_) if overdue => sweep.suspended_for_review += 1,
                Ok(_) => sweep.suspended_as_orphans += 1,
                // Someone changed it meanwhile; the next pass looks again.
                Err(ServiceError::Invalid(_)) => {}
                // One agent that cannot be moved must not keep the others from being swept.
                Err(e) => sweep.skipped.push(format!("agent {id}: {e}")),
            }
        }
        Ok(sweep)
    }
}
