//! Held actions from agents: checking and storing submissions, reading them back (with long-polling) and
//! withdrawing them.
//!
//! Submissions are stored by one writer task that gathers whatever requests are waiting into one
//! transaction: a durable commit (fsync) costs the same for one row or hundreds, so under load the cost
//! is shared instead of paid per request (group commit).

use super::tasks::{panicked, Tasks};
use super::{AuthenticatedAgent, Service, ServiceError};
use crate::delivery::{Change, ChangeKind};
use crate::domain::audit::{Actor, Event, Kind};
use crate::domain::submission::{self, FieldError};
use crate::domain::{catalog, HeldStatus};
use crate::store::{CredentialUse, HeldAction, NewHeldAction, Store, StoreError, Submitted};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{broadcast, mpsc, oneshot};
use uuid::Uuid;

/// Most submissions one commit carries.
const MAX_BATCH: usize = 512;
pub const MAX_WAIT: Duration = Duration::from_secs(60);
/// How long a credential's use waits for a submission's commit to carry it before it is written alone.
const USE_FLUSH: Duration = Duration::from_secs(15);

type Reply = oneshot::Sender<Result<Submitted, String>>;
type Job = (NewHeldAction, Reply);
/// A committed batch waiting for its commit to reach the disk.
type Committed = (Vec<Submitted>, Vec<Reply>);

/// Answers committed batches once they are on disk: one flush for every batch that waited on the last one.
fn settler(store: Arc<dyn Store>) -> mpsc::Sender<Committed> {
    let (tx, mut rx) = mpsc::channel::<Committed>(8);
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut batches = vec![first];
            while let Ok(more) = rx.try_recv() {
                batches.push(more);
            }
            let settled = store.settle().await.map_err(|e| e.to_string());
            if let Err(e) = &settled {
                tracing::error!(error = %e, "committed held actions could not be put on disk");
            }
            for (outcomes, replies) in batches {
                outcomes.into_iter().zip(replies).for_each(|(outcome, reply)| {
                    let _ = reply.send(settled.clone().map(|()| outcome));
                });
            }
        }
    });
    tx
}

/// The group-commit writer's mailbox, and the credential uses waiting for its next commit.
#[derive(Clone)]
pub struct IntakeWriter {
    jobs: mpsc::Sender<Job>,
    uses: Arc<Mutex<HashMap<Uuid, OffsetDateTime>>>,
}

impl IntakeWriter {
    pub fn spawn(store: Arc<dyn Store>, tasks: &Tasks) -> IntakeWriter {
        let (jobs, mut rx) = mpsc::channel::<Job>(MAX_BATCH * 4);
        let writer = IntakeWriter { jobs, uses: Default::default() };
        let (uses, task) = (writer.clone(), tasks.register("intake", None));
        let settled = settler(store.clone());
        tokio::spawn(async move {
            let mut flush = tokio::time::interval(USE_FLUSH);
            loop {
                let mut jobs = tokio::select! {
                    job = rx.recv() => match job { Some(first) => vec![first], None => break },
                    _ = flush.tick() => vec![],
                };
                while jobs.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(job) => jobs.push(job),
                        Err(_) => break,
                    }
                }
                let used = uses.take_uses();
                if jobs.is_empty() && used.is_empty() {
                    continue;
                }
                let (items, replies): (Vec<_>, Vec<_>) = jobs.into_iter().unzip();
                // Its own task: a panic fails this batch's requests, not the writer.
                let (store, carried) = (store.clone(), used.clone());
                let committed =
                    tokio::spawn(
                        async move { store.submit_unsettled(items, &carried).await.map_err(|e| e.to_string()) },
                    )
                    .await
                    .unwrap_or_else(|e| Err(panicked(&e)));
                match committed {
                    Ok(outcomes) => {
                        task.settle(Duration::ZERO, Ok(vec![]));
                        // Answered once on disk; meanwhile the next batch is written.
                        if let Err(mpsc::error::SendError((_, replies))) = settled.send((outcomes, replies)).await {
                            replies.into_iter().for_each(|reply| {
                                let _ = reply.send(Err("the intake writer stopped".into()));
                            });
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "a batch of held actions failed to commit");
                        task.settle(Duration::ZERO, Err(e.clone()));
                        used.into_iter().for_each(|(id, at)| uses.note_use(id, at));
                        replies.into_iter().for_each(|reply| {
                            let _ = reply.send(Err(e.clone()));
                        });
                    }
                }
            }
        });
        writer
    }

    async fn submit(&self, item: NewHeldAction) -> Result<Submitted, ServiceError> {
        let lost = |why: String| ServiceError::Store(StoreError::Corrupt(why));
        let (reply, answer) = oneshot::channel();
        self.jobs.send((item, reply)).await.map_err(|_| lost("the intake writer stopped".into()))?;
        answer.await.map_err(|_| lost("the intake writer stopped".into()))?.map_err(lost)
    }

    /// Notes that a credential was used at `at`; the next commit records it (a submission's own, at once).
    pub fn note_use(&self, credential: Uuid, at: OffsetDateTime) {
        if let Ok(mut uses) = self.uses.lock() {
            let latest = uses.entry(credential).or_insert(at);
            *latest = (*latest).max(at);
        }
    }

    fn take_uses(&self) -> Vec<CredentialUse> {
        self.uses.lock().map(|mut uses| uses.drain().collect()).unwrap_or_default()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("the submission has invalid fields")]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    OutOfScope(String),
    #[error("this idempotency key was used with different content")]
    KeyReused,
    #[error("the agent is {}", .0.as_str())]
    AgentInactive(crate::domain::AgentState),
    #[error("{}", .0.reason)]
    Limited(super::intake_limits::Limited),
    #[error("not found")]
    NotFound,
    #[error("the held action is already {0}")]
    NotPending(&'static str),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<StoreError> for IntakeError {
    fn from(e: StoreError) -> Self {
        IntakeError::Service(e.into())
    }
}

pub enum IntakeOutcome {
    Created(HeldAction),
    Replayed(HeldAction),
}

impl Service {
    /// `body` is the request body as received: the stored copy and the content hash are of these bytes.
    pub async fn submit_held_action(&self, who: &AuthenticatedAgent, body: &str) -> Result<IntakeOutcome, IntakeError> {
        let _in_flight = self.intake_limits.submit(who.agent.id).map_err(|l| self.limited(who, l))?;
        let item = self.prepare_held_action(who, body).await?;
        match self.intake.submit(item).await? {
            Submitted::Created(a) => {
                self.publish(&[Change { kind: ChangeKind::Arrived, id: a.id, tenant: a.tenant_id }]);
                Ok(IntakeOutcome::Created(a))
            }
            Submitted::Replayed(a) => Ok(IntakeOutcome::Replayed(a)),
            Submitted::KeyReused => Err(IntakeError::KeyReused),
            Submitted::AgentInactive(state) => Err(IntakeError::AgentInactive(state)),
        }
    }

    /// Takes one request for a case credential from the agent's submission allowance: minting is limited
    /// like submitting, so a leaked credential cannot mint without bound.
    pub fn admit_credential_request(
        &self,
        who: &AuthenticatedAgent,
    ) -> Result<super::intake_limits::InFlight, IntakeError> {
        self.intake_limits.submit(who.agent.id).map_err(|l| self.limited(who, l))
    }

    /// Notes a request turned away by the agent's limits (audited coalesced, like scope refusals).
    fn limited(&self, who: &AuthenticatedAgent, limited: super::intake_limits::Limited) -> IntakeError {
        let agent = (who.agent.id, who.agent.tenant_id);
        self.refusals.note(agent, "limit", json!({ "reason": limited.reason }), self.clock.now());
        IntakeError::Limited(limited)
    }

    /// Checks a submission against the contract and the agent's scope and builds the row and event to store.
    /// A refusal for scope is recorded here (coalesced with others of the same agent and kind).
    pub async fn prepare_held_action(
        &self,
        who: &AuthenticatedAgent,
        body: &str,
    ) -> Result<NewHeldAction, IntakeError> {
        let s = submission::parse(body).map_err(IntakeError::Invalid)?;
        let agent = &who.agent;
        let now = self.clock.now();
        if let Some(bound) = &who.case {
            let refusal = if bound.case_id != s.case_id {
                Some(format!("this credential is bound to case {}, not {}", bound.case_id, s.case_id))
            } else if !bound.action_types.contains(&s.action) {
                let allowed: Vec<&str> = bound.action_types.iter().map(|a| a.as_str()).collect();
                Some(format!("this credential allows {} only, not {}", allowed.join(", "), s.action.as_str()))
            } else {
                None
            };
            if let Some(reason) = refusal {
                let details = json!({ "reason": reason, "case_id": s.case_id, "action_type": s.action.as_str() });
                self.refusals.note((agent.id, agent.tenant_id), "case credential", details, now);
                return Err(IntakeError::OutOfScope(reason));
            }
        }
        if let Some(reason) = agent.scope.refusal(s.action, s.amount.as_ref()) {
            let details = json!({ "reason": reason, "action_type": s.action.as_str(),
                                  "idempotency_key": s.idempotency_key,
                                  "amount": s.amount.as_ref().map(|m| m.to_string()) });
            let key = format!("scope {}", s.action.as_str());
            self.refusals.note((agent.id, agent.tenant_id), &key, details, now);
            return Err(IntakeError::OutOfScope(reason));
        }
        let tier = self.catalog.effective_tier(s.action, s.requested_tier);
        let (default_ttl, max_ttl) = catalog::ttl(tier);
        let expires_at = match s.expires_at {
            // A deadline a reviewer cannot meet only floods the queue with actions that expire unread.
            Some(at) if at < now + catalog::MIN_TTL => {
                let message = "must be at least a minute from now".to_string();
                return Err(IntakeError::Invalid(vec![FieldError { field: "expires_at".into(), message }]));
            }
            // Stored in UTC: SQLite compares times as text, so an agent's offset would shift the deadline.
            Some(at) => crate::domain::clock::truncate(at.to_offset(time::UtcOffset::UTC)).min(now + max_ttl),
            None => now + default_ttl,
        };
        let mut action = pending_action(agent, s, tier, now, expires_at);
        action.credential_id = who.credential;
        let event = Event::new(Kind::HeldActionSubmitted, Actor::Agent(agent.id), format!("held_action:{}", action.id))
            .tenant(agent.tenant_id)
            .data(
                json!({ "action_type": action.action.as_str(), "amount": action.amount.as_ref().map(|m| m.to_string()),
                          "risk_tier": tier.as_str(), "idempotency_key": action.idempotency_key,
                          "content_hash": action.content_hash, "credential": who.credential,
                          "subject": who.subject }),
            );
        Ok(NewHeldAction { action, event, issuer: who.issuer })
    }

    /// The agent's own held action; with `wait`, returns once it leaves `pending` or the wait ends.
    pub async fn read_held_action(
        &self,
        who: &AuthenticatedAgent,
        id: Uuid,
        wait: Duration,
    ) -> Result<HeldAction, IntakeError> {
        let _in_flight = self.intake_limits.enter(who.agent.id).map_err(|l| self.limited(who, l))?;
        // Subscribe before reading, so a change between the two is not missed.
        let mut changes = self.changes.subscribe();
        let own = |a: Option<HeldAction>| a.filter(|a| who.owns(a)).ok_or(IntakeError::NotFound);
        let current = own(self.store.held_action(id).await?)?;
        if current.status != HeldStatus::Pending || wait.is_zero() {
            return Ok(current);
        }
        let deadline = tokio::time::sleep(wait.min(MAX_WAIT));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = &mut deadline => break,
                changed = changes.recv() => match changed {
                    Ok(changed) if changed.id != id => continue,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        let now = own(self.store.held_action(id).await?)?;
                        if now.status != HeldStatus::Pending {
                            return Ok(now);
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            }
        }
        own(self.store.held_action(id).await?)
    }

    pub async fn withdraw_held_action(&self, who: &AuthenticatedAgent, id: Uuid) -> Result<HeldAction, IntakeError> {
        let existing = self.store.held_action(id).await?.filter(|a| who.owns(a)).ok_or(IntakeError::NotFound)?;
        if existing.status != HeldStatus::Pending {
            return Err(IntakeError::NotPending(existing.status.as_str()));
        }
        let now = self.clock.now();
        let reason = Some("withdrawn by the agent".to_string());
        let mut t = self.conclude(&existing, &who.agent, HeldStatus::Cancelled, reason, None, None, now).await?;
        for event in &mut t.events {
            event.actor = Actor::Agent(who.agent.id);
        }
        if self.store.apply(vec![t], &*self.clock).await?.first() != Some(&true) {
            let after = self.store.held_action(id).await?.ok_or(IntakeError::NotFound)?;
            return Err(IntakeError::NotPending(after.status.as_str()));
        }
        self.after_commit(id, existing.tenant_id, true);
        let after = self.store.held_action(id).await?.ok_or(IntakeError::NotFound)?;
        Ok(after)
    }
}

/// A just-received submission of `agent`, pending review.
pub fn pending_action(
    agent: &crate::store::Agent,
    s: submission::Submission,
    tier: crate::domain::RiskTier,
    received_at: time::OffsetDateTime,
    expires_at: time::OffsetDateTime,
) -> HeldAction {
    HeldAction {
        id: Uuid::now_v7(),
        tenant_id: agent.tenant_id,
        agent_id: agent.id,
        idempotency_key: s.idempotency_key,
        action: s.action,
        amount: s.amount,
        tier,
        case_id: s.case_id,
        customer_id: s.customer_id,
        body: s.body,
        content_hash: s.content_hash,
        status: HeldStatus::Pending,
        received_at,
        expires_at,
        decided_at: None,
        approvals: 0,
        outcome_reason: None,
        approved_amount: None,
        decided_by: None,
        receipt: None,
        claim: None,
        credential_id: None,
    }
}
