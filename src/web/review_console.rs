//! The reviewer pages' port, implemented over the services: filters and cursors from the URL, the case
//! file turned into what the page shows, the step-up kept in the session, and refusals in words.

use super::agent_console::principal;
use super::console::{hide, ConsoleService};
use super::session;
use crate::domain::review::{self, Refusal, Reviewer, Vote};
use crate::domain::scope::Money;
use crate::domain::throttle::Throttle;
use crate::domain::AgentState;
use crate::domain::Role;
use crate::domain::{ActionType, RiskTier};
use crate::service::DecideError;
use crate::store::QueueQuery;
use app::error::AppError;
use app::review_model::{CaseView, DecisionForm, QueueFilter, QueuePage, QueueRow};
use app::services::ReviewConsole;
use async_trait::async_trait;
use std::collections::HashMap;
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

pub const PAGE_SIZE: i64 = 50;

pub fn refusal(e: DecideError) -> AppError {
    match e {
        DecideError::Refused(r @ (Refusal::BadAmount(_) | Refusal::ReasonRequired | Refusal::UnknownReason(_))) => {
            AppError::Invalid(capitalised(&r.to_string()))
        }
        DecideError::Refused(r @ (Refusal::NotPending | Refusal::Expired)) => {
            AppError::Conflict(capitalised(&r.to_string()))
        }
        DecideError::Refused(r) => AppError::Refused(capitalised(&r.to_string())),
        e @ DecideError::AlreadyDecided { .. } => AppError::Conflict(capitalised(&e.to_string())),
        DecideError::NotFound => AppError::Forbidden,
        DecideError::Service(e) => hide(e),
    }
}

pub fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

pub fn millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

fn id(text: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(text.trim()).map_err(|_| AppError::Invalid(format!("\"{text}\" is not an id")))
}

/// The keyset cursor: the last row's deadline (Unix nanoseconds) and id.
pub(super) fn cursor(at: OffsetDateTime, id: Uuid) -> String {
    format!("{}_{}", at.unix_timestamp_nanos(), id.simple())
}

pub(super) fn parse_cursor(text: &str) -> Result<Option<(OffsetDateTime, Uuid)>, AppError> {
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || AppError::Invalid("that page no longer exists; start from the first".into());
    let (at, id) = text.split_once('_').ok_or_else(bad)?;
    let at = at.parse::<i128>().ok().and_then(|n| OffsetDateTime::from_unix_timestamp_nanos(n).ok()).ok_or_else(bad)?;
    Ok(Some((at, Uuid::parse_str(id).map_err(|_| bad())?)))
}

fn optional<T>(text: &str, parse: impl Fn(&str) -> Option<T>, what: &str) -> Result<Option<T>, AppError> {
    match text.trim() {
        "" => Ok(None),
        t => parse(t).map(Some).ok_or_else(|| AppError::Invalid(format!("\"{t}\" is not a known {what}"))),
    }
}

impl ConsoleService {
    async fn reviewer(&self, session: &Session, viewer: &app::model::Viewer) -> Result<Reviewer, AppError> {
        let p = principal(viewer)?;
        Ok(Reviewer { user: p.user, memberships: p.memberships, stepped_up_at: session::stepped_up_at(session).await })
    }

    /// Display names of the people of the viewer's tenants.
    async fn display_names(&self, tenants: &[Uuid]) -> Result<HashMap<Uuid, String>, AppError> {
        let people = self.0.store.users_in(tenants).await.map_err(|e| hide(e.into()))?;
        Ok(people.into_iter().map(|u| (u.id, u.name)).collect())
    }
}

#[async_trait]
impl ReviewConsole for ConsoleService {
    async fn queue(&self, viewer: &app::model::Viewer, filter: QueueFilter) -> Result<QueuePage, AppError> {
        let who = principal(viewer)?;
        // Role first: someone who may not open the queue learns nothing from how a tenant's name reads.
        if !crate::domain::access::may_open(&who.memberships.all_roles(), crate::domain::Section::Queue) {
            return Err(AppError::Forbidden);
        }
        let tenant = optional(
            &filter.tenant,
            // Only the tenants whose queue the viewer may see: any other reads as unknown.
            |t| {
                let queue =
                    |x: &app::model::TenantRef| x.roles.iter().any(|r| [Role::Admin, Role::Supervisor].contains(r));
                viewer.tenants.iter().find(|x| x.slug == t && queue(x)).and_then(|x| Uuid::parse_str(&x.id).ok())
            },
            "tenant",
        )?;
        let query = QueueQuery {
            tenants: Vec::new(),
            action: optional(&filter.action, ActionType::parse, "action type")?,
            tier: optional(&filter.tier, RiskTier::parse, "risk tier")?,
            agent: optional(&filter.agent, |a| Uuid::parse_str(a).ok(), "agent")?,
            after: parse_cursor(&filter.after)?,
            limit: PAGE_SIZE + 1,
        };
        let (mut rows, counts) = self.0.queue(&who, tenant, query).await.map_err(hide)?;
        let next = (rows.len() as i64 > PAGE_SIZE).then(|| {
            rows.truncate(PAGE_SIZE as usize);
            rows.last().map(|r| cursor(r.expires_at, r.id))
        });
        let agents = self.0.store.agents(&who.tenant_ids(), None).await.map_err(|e| hide(e.into()))?;
        let agent_names: HashMap<Uuid, (String, AgentState)> =
            agents.iter().map(|a| (a.id, (a.name.clone(), a.state))).collect();
        let names = self.display_names(&who.memberships.tenant_ids()).await?;
        let slugs: HashMap<String, String> = viewer.tenants.iter().map(|t| (t.id.clone(), t.slug.clone())).collect();
        Ok(QueuePage {
            rows: rows
                .iter()
                .map(|a| QueueRow {
                    id: a.id.to_string(),
                    tenant: slugs.get(&a.tenant_id.to_string()).cloned().unwrap_or_default(),
                    action: a.action,
                    amount: a.amount.as_ref().map(Money::to_string),
                    agent: agent_names.get(&a.agent_id).map(|(n, _)| n.clone()).unwrap_or_default(),
                    agent_suspended: agent_names.get(&a.agent_id).is_some_and(|(_, s)| *s != AgentState::Active),
                    customer: a.customer_id.clone(),
                    tier: a.tier,
                    expires_at_ms: millis(a.expires_at),
                    claimed_by: a
                        .claim
                        .filter(|c| c.until > self.0.clock.now())
                        .and_then(|c| names.get(&c.user).cloned()),
                    approvals: a.approvals,
                    needed: review::quorum(a.tier),
                })
                .collect(),
            counts,
            next: next.flatten(),
            tenants: viewer.tenants.clone(),
            agents: agents.iter().map(|a| (a.id.to_string(), a.name.clone())).collect(),
            server_now_ms: millis(self.0.clock.now()),
        })
    }

    async fn case(&self, session: &Session, viewer: &app::model::Viewer, case: &str) -> Result<CaseView, AppError> {
        let who = self.reviewer(session, viewer).await?;
        let file = self.0.case_file(&who, id(case)?).await.map_err(refusal)?;
        let names = self.display_names(&who.memberships.tenant_ids()).await?;
        Ok(super::case_view::build(&file, &who, &names, viewer, self.0.clock.now()))
    }

    async fn claim(&self, viewer: &app::model::Viewer, case: &str, take_over: bool) -> Result<(), AppError> {
        let who = principal(viewer)?;
        match self.0.claim(&who, id(case)?, take_over).await.map_err(refusal)? {
            review::ClaimOutcome::HeldBy(c) => {
                let names = self.display_names(&who.memberships.tenant_ids()).await?;
                let by = names.get(&c.user).cloned().unwrap_or_else(|| "another reviewer".into());
                Err(AppError::Conflict(format!("{by} is reviewing this; take it over to decide it yourself.")))
            }
            _ => Ok(()),
        }
    }

    async fn release(&self, viewer: &app::model::Viewer, case: &str) -> Result<(), AppError> {
        self.0.release(&principal(viewer)?, id(case)?).await.map_err(refusal)
    }

    async fn step_up(&self, session: &Session, viewer: &app::model::Viewer, password: &str) -> Result<(), AppError> {
        let failed = |e: tower_sessions::session::Error| {
            tracing::error!(error = %e, "could not record a step-up");
            AppError::Internal
        };
        // Only deciders step up: for anyone else it would be a password oracle with no use.
        if !crate::domain::access::may_open(&viewer.roles, crate::domain::Section::Queue) {
            return Err(AppError::Forbidden);
        }
        let now = self.0.clock.now();
        let throttle = session::step_up_throttle(session).await;
        if throttle.is_locked(now) {
            let message = "Too many wrong passwords in this session: try again in 15 minutes, or sign in again.";
            return Err(AppError::Invalid(message.into()));
        }
        match self.0.step_up(principal(viewer)?.user, password).await {
            Ok(at) => {
                session::set_step_up_throttle(session, Throttle::default()).await.map_err(failed)?;
                session::record_step_up(session, at).await.map_err(failed)
            }
            Err(e) => {
                let (after, _) = throttle.attempt(false, now);
                session::set_step_up_throttle(session, after).await.map_err(failed)?;
                Err(hide(e))
            }
        }
    }

    async fn decide(
        &self,
        session: &Session,
        viewer: &app::model::Viewer,
        case: &str,
        form: DecisionForm,
    ) -> Result<(), AppError> {
        let who = self.reviewer(session, viewer).await?;
        // Role first: someone who may not open the queue learns nothing from how a vote's fields read.
        if !crate::domain::access::may_open(&who.memberships.all_roles(), crate::domain::Section::Queue) {
            return Err(AppError::Forbidden);
        }
        let case = id(case)?;
        let vote = match form.verdict.as_str() {
            "approve" if form.amount.trim().is_empty() => Vote::Approve { amount: None },
            "approve" => {
                // Only an action of the viewer's tenants lends its currency; another tenant's reads as a
                // missing one, as the vote itself would (`DecideError::NotFound`).
                let current = self.0.store.held_action(case).await.map_err(|e| hide(e.into()))?;
                let current = current
                    .filter(|a| who.memberships.tenant_ids().contains(&a.tenant_id))
                    .ok_or(AppError::Forbidden)?;
                let currency = current.amount.map(|m| m.currency).unwrap_or_default();
                let amount = Money::parse(form.amount.trim(), &currency).map_err(|_| {
                    AppError::Invalid(format!("\"{}\" is not an amount like 100.00", form.amount.trim()))
                })?;
                Vote::Approve { amount: Some(amount) }
            }
            "deny" => Vote::Deny {
                reason: review::deny_reason(&form.preset, &form.reason)
                    .map_err(|r| refusal(DecideError::Refused(r)))?,
            },
            other => return Err(AppError::Invalid(format!("\"{other}\" is not approve or deny"))),
        };
        self.0.decide(&who, case, vote).await.map_err(refusal)?;
        Ok(())
    }
}
