//! The reviewer's workflow: the queue, the case file, claims, step-up, votes and outcomes, and expiry.
//! Every rule is asked of `domain::review`; every change goes through `Store::apply` or `set_claim`, which
//! commit it only if nobody changed the action meanwhile, so concurrent decisions give exactly one outcome.

use super::review_facts::{facts, guard, principal};
use super::{blocking, Service, ServiceError};
use crate::delivery::outcome::{attested, webhook_payload};
use crate::delivery::{Change, ChangeKind};
use crate::domain::access::{self, Principal};
use crate::domain::audit::{Actor, Event, Kind};
use crate::domain::review::{self, Claim, ClaimOutcome, Effect, Refusal, Reviewer, Vote};
use crate::domain::scope::Money;
use crate::domain::{password, HeldStatus, Invalid, Role, Section};
use crate::store::{Agent, Channel, HeldAction, NewDelivery, Outcome, QueueQuery, Review, Transition};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// Optimistic retries before a busy action is reported as such.
const RETRIES: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("already {status} by {by} at {at}")]
    AlreadyDecided { status: &'static str, by: String, at: OffsetDateTime },
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<crate::store::StoreError> for DecideError {
    fn from(e: crate::store::StoreError) -> Self {
        DecideError::Service(e.into())
    }
}

/// Everything the case view shows.
pub struct CaseFile {
    pub action: HeldAction,
    pub agent: Agent,
    pub reviews: Vec<Review>,
    pub related: Vec<HeldAction>,
    /// Approved in the last 24 hours: (this customer's, this agent's).
    pub approved_24h: (Vec<Money>, Vec<Money>),
    /// Whether the viewer may vote, and if not, why.
    pub may_decide: Result<(), Refusal>,
    /// The workload subject that vouched for the submission, as its audit event names it.
    pub subject: Option<String>,
}

impl Service {
    /// The tenants of `who` that the queue may show, narrowed to `only` when given.
    fn queue_tenants(&self, who: &Principal, only: Option<Uuid>) -> Result<Vec<Uuid>, ServiceError> {
        if !access::may_open(&who.memberships.all_roles(), Section::Queue) {
            return Err(ServiceError::Forbidden);
        }
        // Only the tenants where a role opens the queue.
        let mine = who.memberships.tenants_with(&[Role::Supervisor, Role::Admin]);
        Ok(mine.into_iter().filter(|t| only.is_none_or(|o| o == *t)).collect())
    }

    /// One page of pending actions and the per-tier counts under the same filters.
    pub async fn queue(
        &self,
        who: &Principal,
        tenant: Option<Uuid>,
        mut query: QueueQuery,
    ) -> Result<(Vec<HeldAction>, Vec<(crate::domain::RiskTier, i64)>), ServiceError> {
        query.tenants = self.queue_tenants(who, tenant)?;
        let (rows, counts) = tokio::try_join!(self.store.queue(&query), self.store.tier_counts(&query))?;
        Ok((rows, counts))
    }

    /// A pending or decided action of one of `who`'s tenants, with the agent that asked for it.
    async fn visible(&self, who: &Principal, id: Uuid) -> Result<(HeldAction, Agent), DecideError> {
        let mine = self.queue_tenants(who, None)?;
        let action = self.store.held_action(id).await?.filter(|a| mine.contains(&a.tenant_id));
        let action = action.ok_or(DecideError::NotFound)?;
        let agent = self.store.agent(action.agent_id).await?.ok_or(DecideError::NotFound)?;
        Ok((action, agent))
    }

    pub async fn case_file(&self, who: &Reviewer, id: Uuid) -> Result<CaseFile, DecideError> {
        let (action, agent) = self.visible(&principal(who), id).await?;
        let since = self.clock.now() - Duration::hours(24);
        let subject_of = format!("held_action:{id}");
        let (reviews, related, approved_24h, events) = tokio::try_join!(
            self.store.reviews(id),
            self.store.related(action.tenant_id, &action.customer_id, agent.id, 20),
            self.store.approved_since(action.tenant_id, &action.customer_id, agent.id, since),
            self.store.audit_about(&subject_of),
        )?;
        let subject = super::review_facts::submitted_subject(&events);
        let related = related.into_iter().filter(|a| a.id != id).collect();
        let standing = self.standing(&action, &[], who.user).await?;
        let may_decide = review::may_decide(who, &facts(&action, &agent, &[], &standing));
        Ok(CaseFile { action, agent, reviews, related, approved_24h, may_decide, subject })
    }

    /// Opens (or renews, or takes over) the claim on a pending action; says who holds it afterwards.
    pub async fn claim(&self, who: &Principal, id: Uuid, take_over: bool) -> Result<ClaimOutcome, DecideError> {
        for _ in 0..RETRIES {
            let (action, agent) = self.visible(who, id).await?;
            if action.status != HeldStatus::Pending {
                return Err(Refusal::NotPending.into());
            }
            // Only someone who may decide it holds it: an owner or an admin looking on must not block others.
            let reviewer = Reviewer { user: who.user, memberships: who.memberships.clone(), stepped_up_at: None };
            let standing = self.standing(&action, &[], reviewer.user).await?;
            review::may_decide(&reviewer, &facts(&action, &agent, &[], &standing))?;
            let now = self.clock.now();
            let outcome = review::claim(action.claim, who.user, take_over, now);
            let kind = match outcome {
                ClaimOutcome::HeldBy(_) => return Ok(outcome),
                ClaimOutcome::Renewed => None,
                ClaimOutcome::Claimed => Some(Kind::HeldActionClaimed),
                ClaimOutcome::TakenOver { .. } => Some(Kind::HeldActionTakenOver),
            };
            let until = now + review::CLAIM_TTL;
            let event = kind.map(|kind| {
                let from = match outcome {
                    ClaimOutcome::TakenOver { from } => Some(from.to_string()),
                    _ => None,
                };
                Event::new(kind, Actor::User(who.user), format!("held_action:{id}"))
                    .tenant(action.tenant_id)
                    .data(json!({ "until": until.unix_timestamp(), "from": from }))
            });
            let claim = Claim { user: who.user, until };
            let renewal = event.is_none();
            if self.store.set_claim(id, action.claim, Some(claim), event, now).await? {
                // A renewal changes nothing anyone sees; publishing it would reload open pages every minute.
                if !renewal {
                    self.publish(&[Change { kind: ChangeKind::Updated, id, tenant: action.tenant_id }]);
                }
                return Ok(outcome);
            }
        }
        Err(Refusal::NotPending.into())
    }

    /// Lets go of one's own claim.
    pub async fn release(&self, who: &Principal, id: Uuid) -> Result<(), DecideError> {
        let (action, _) = self.visible(who, id).await?;
        let Some(claim) = action.claim.filter(|c| c.user == who.user) else { return Ok(()) };
        let event = Event::new(Kind::HeldActionReleased, Actor::User(who.user), format!("held_action:{id}"))
            .tenant(action.tenant_id);
        if self.store.set_claim(id, Some(claim), None, Some(event), self.clock.now()).await? {
            self.publish(&[Change { kind: ChangeKind::Updated, id, tenant: action.tenant_id }]);
        }
        Ok(())
    }

    /// Checks the password again for a critical approval; returns when it was done (kept in the session).
    /// The account's sign-in lockout does not apply: anyone can lock an account with wrong sign-ins, and that
    /// must not keep a signed-in supervisor from stepping up. Wrong step-ups are throttled per session by the
    /// caller, and audited here.
    pub async fn step_up(&self, user: Uuid, typed: &str) -> Result<OffsetDateTime, ServiceError> {
        let stored = self.store.user_by_id(user).await?.ok_or(ServiceError::Forbidden)?;
        let now = self.clock.now();
        let (typed, phc) = (typed.to_string(), stored.password_hash);
        if !blocking(move || password::verify(&typed, &phc)).await? {
            self.store.append(Event::new(Kind::StepUpFailed, Actor::User(user), format!("user:{user}")), now).await?;
            return Err(Invalid::new("That password is not correct.").into());
        }
        self.store.append(Event::new(Kind::SteppedUp, Actor::User(user), format!("user:{user}")), now).await?;
        Ok(now)
    }

    /// Casts `who`'s vote; returns the action afterwards. Exactly one outcome wins a race; the others
    /// are told who decided it and when.
    pub async fn decide(&self, who: &Reviewer, id: Uuid, vote: Vote) -> Result<HeldAction, DecideError> {
        for _ in 0..RETRIES {
            let (action, agent) = self.visible(&principal(who), id).await?;
            if action.status != HeldStatus::Pending {
                return Err(self.already_decided(&action).await);
            }
            let reviews = self.store.reviews(id).await?;
            let approvals: Vec<(Uuid, Option<Money>)> =
                reviews.iter().filter(|r| r.approve).map(|r| (r.reviewer, r.amount.clone())).collect();
            let now = self.clock.now();
            let standing = self.standing(&action, &approvals, who.user).await?;
            let effect = review::cast(who, &facts(&action, &agent, &approvals, &standing), &vote, now)?;
            let (approve, reason, amount) = match &vote {
                Vote::Approve { amount } => (true, None, review::narrowed(action.amount.as_ref(), amount.clone())?),
                Vote::Deny { reason } => (false, Some(reason.trim().to_string()), None),
            };
            let stepped_up = review::fresh_step_up(who.stepped_up_at, now);
            let fast = approve && self.approved_unread(&action, who.user, now).await?;
            let review = Review { held_action: id, reviewer: who.user, approve, reason, amount, stepped_up, at: now };
            let mut vote_event = Event::new(Kind::ApprovalCounted, Actor::User(who.user), format!("held_action:{id}"))
                .tenant(action.tenant_id)
                .data(json!({ "approve": approve, "reason": review.reason, "stepped_up": stepped_up,
                               "amount": review.amount.as_ref().map(|m| m.to_string()) }));
            let transition = match effect {
                Effect::Counted { approvals, needed } => {
                    vote_event.data["of"] = json!(needed);
                    vote_event.data["counted"] = json!(approvals);
                    Transition {
                        action: id,
                        expected_approvals: action.approvals,
                        guard: guard(&agent, &action),
                        // Every approval recorded moves the count on (it is the version optimistic writes check),
                        // even when an earlier one no longer counts.
                        approvals: action.approvals + 1,
                        review: Some(review),
                        fast_approval: fast,
                        outcome: None,
                        deliveries: vec![],
                        events: vec![vote_event],
                        change: Change { kind: ChangeKind::Updated, id, tenant: action.tenant_id },
                    }
                }
                Effect::Approved { approvals, amount } => {
                    let mut t =
                        self.conclude(&action, &agent, HeldStatus::Approved, None, amount, Some(who.user), now).await?;
                    t.approvals = approvals;
                    t.guard = guard(&agent, &action);
                    t.review = Some(review);
                    t.fast_approval = fast;
                    self.reseal(&action, &agent, &mut t).await?;
                    t.events.insert(0, vote_event);
                    t
                }
                Effect::Denied { reason } => {
                    let mut t = self
                        .conclude(&action, &agent, HeldStatus::Denied, Some(reason), None, Some(who.user), now)
                        .await?;
                    t.review = Some(review);
                    t.guard = guard(&agent, &action);
                    t
                }
            };
            let finished = transition.outcome.is_some();
            if self.store.apply(vec![transition], &*self.clock).await?.first() == Some(&true) {
                self.after_commit(id, action.tenant_id, finished);
                return self.store.held_action(id).await?.ok_or(DecideError::NotFound);
            }
        }
        Err(Refusal::NotPending.into())
    }

    /// "already approved by Ana at 10:04:12 UTC": the person, else what ended it.
    async fn already_decided(&self, action: &HeldAction) -> DecideError {
        let by = match action.decided_by {
            Some(user) => match self.store.user_by_id(user).await {
                Ok(Some(u)) => u.name,
                _ => "another reviewer".to_string(),
            },
            None if action.status == HeldStatus::Expired => "its deadline".to_string(),
            None => "the agent".to_string(),
        };
        let at = action.decided_at.unwrap_or(action.expires_at);
        DecideError::AlreadyDecided { status: action.status.as_str(), by, at }
    }

    /// Expires every pending action past its deadline (fails closed) and tells the agents. Runs every
    /// second, and at start-up, so deadlines that passed while the server was down are honoured at once.
    pub async fn expire_overdue(&self) -> Result<usize, ServiceError> {
        Ok(self.expiry_pass().await?.0)
    }

    /// One expiry pass: how many expired, and the overdue rows it skipped because they cannot be read or
    /// concluded (they stay pending for someone to look at; they do not hold up the rest).
    pub async fn expiry_pass(&self) -> Result<(usize, super::tasks::Skipped), ServiceError> {
        let (mut expired, mut skipped) = (0, std::collections::BTreeSet::new());
        loop {
            let now = self.clock.now();
            let overdue = self.store.overdue(now, 200).await?;
            skipped.extend(overdue.unreadable);
            let (mut batch, mut expiring) = (Vec::new(), Vec::new());
            for action in &overdue.rows {
                let agent = match self.store.agent(action.agent_id).await? {
                    Some(agent) => agent,
                    None => {
                        skipped.insert(format!("held action {}: its agent is missing", action.id));
                        continue;
                    }
                };
                let reason = Some("not decided before its deadline".to_string());
                match self.conclude(action, &agent, HeldStatus::Expired, reason, None, None, now).await {
                    Ok(t) => {
                        batch.push(t);
                        expiring.push(action);
                    }
                    Err(e) => {
                        skipped.insert(format!("held action {}: {e}", action.id));
                    }
                }
            }
            // Only rows that cannot be expired are left (or none at all): the pass is done.
            if batch.is_empty() {
                return Ok((expired, skipped.into_iter().collect()));
            }
            let applied = self.store.apply(batch, &*self.clock).await?;
            for (action, done) in expiring.into_iter().zip(applied) {
                if done {
                    expired += 1;
                    self.after_commit(action.id, action.tenant_id, true);
                }
            }
        }
    }

    /// The transition that ends `action` in `status`: outcome with its receipt, audit event, and the
    /// webhook message when the agent has a webhook.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn conclude(
        &self,
        action: &HeldAction,
        agent: &Agent,
        status: HeldStatus,
        reason: Option<String>,
        approved_amount: Option<Money>,
        decided_by: Option<Uuid>,
        now: OffsetDateTime,
    ) -> Result<Transition, ServiceError> {
        let actor = decided_by.map_or(Actor::System, Actor::User);
        let kind = match status {
            HeldStatus::Approved => Kind::HeldActionApproved,
            HeldStatus::Denied => Kind::HeldActionDenied,
            HeldStatus::Expired => Kind::HeldActionExpired,
            HeldStatus::Pending | HeldStatus::Cancelled => Kind::HeldActionCancelled,
        };
        let event = Event::new(kind, actor, format!("held_action:{}", action.id))
            .tenant(action.tenant_id)
            .data(json!({ "reason": reason, "approvals": action.approvals,
                           "approved_amount": approved_amount.as_ref().map(|m| m.to_string()) }));
        let mut t = Transition {
            action: action.id,
            expected_approvals: action.approvals,
            guard: None,
            approvals: action.approvals,
            review: None,
            fast_approval: false,
            outcome: Some(Outcome {
                status,
                reason,
                approved_amount,
                decided_by,
                decided_at: now,
                receipt: String::new(),
            }),
            deliveries: vec![],
            events: vec![event],
            change: Change { kind: ChangeKind::Decided, id: action.id, tenant: action.tenant_id },
        };
        self.reseal(action, agent, &mut t).await?;
        Ok(t)
    }

    /// Signs the receipt and writes the webhook message for the transition's outcome as it now stands.
    async fn reseal(&self, action: &HeldAction, agent: &Agent, t: &mut Transition) -> Result<(), ServiceError> {
        let Some(outcome) = &mut t.outcome else { return Ok(()) };
        let decided = HeldAction {
            status: outcome.status,
            approvals: t.approvals,
            outcome_reason: outcome.reason.clone(),
            approved_amount: outcome.approved_amount.clone(),
            decided_by: outcome.decided_by,
            decided_at: Some(outcome.decided_at),
            claim: None,
            receipt: None,
            ..action.clone()
        };
        outcome.receipt = self.sign_receipt(&attested(&decided, outcome.decided_at)).await?;
        let decided = HeldAction { receipt: Some(outcome.receipt.clone()), ..decided };
        if let Some(event) = t.events.iter_mut().find(|e| e.kind != Kind::ApprovalCounted) {
            event.data["approvals"] = json!(t.approvals);
        }
        let webhook = agent.webhook_url.as_ref().map(|_| Channel::Webhook);
        let nats = self.publishes_outcomes.then_some(Channel::Nats);
        let payload = webhook_payload(&decided);
        t.deliveries = (webhook.into_iter().chain(nats))
            .map(|channel| NewDelivery {
                id: Uuid::now_v7(),
                channel,
                agent_id: agent.id,
                held_action_id: action.id,
                payload: payload.clone(),
                created_at: outcome.decided_at,
            })
            .collect();
        Ok(())
    }

    pub(super) fn after_commit(&self, id: Uuid, tenant: Uuid, finished: bool) {
        let kind = if finished { ChangeKind::Decided } else { ChangeKind::Updated };
        self.publish(&[Change { kind, id, tenant }]);
        if finished {
            self.outbox.wake();
        }
    }
}
