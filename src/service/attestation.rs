//! Access reviews: the evidence an owner decides on, and the attestation (keep, keep narrower, retire).

use super::{By, Service, ServiceError};
use crate::domain::audit::{Event, Kind};
use crate::domain::lifecycle::{self, Attestation, Change};
use crate::domain::scope::{Money, Scope};
use crate::domain::{ActionType, AgentState, HeldStatus, Invalid};
use crate::store::{Agent, Life};
use rust_decimal::Decimal;
use serde_json::json;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// One action type's record since the last review.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TypeRecord {
    pub submitted: i64,
    pub approved: i64,
    pub denied: i64,
    pub expired: i64,
    pub cancelled: i64,
    /// Approved amounts, summed per currency.
    pub approved_amounts: BTreeMap<String, Decimal>,
}

/// What an owner sees before attesting.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub agent: Agent,
    pub since: OffsetDateTime,
    pub by_type: BTreeMap<ActionType, TypeRecord>,
    pub credentials_minted: usize,
    pub credentials_used: usize,
    /// Allowances with no submission at all since `since`.
    pub unused: Vec<ActionType>,
}

impl Service {
    pub async fn review_evidence(&self, by: By<'_>, id: Uuid) -> Result<Evidence, ServiceError> {
        let (agent, _) = self.agent_for(by, id).await?;
        let since = agent.life.last_reviewed_at.unwrap_or(agent.created_at);
        let activity = self.store.activity(agent.id, since).await?;
        let mut by_type: BTreeMap<ActionType, TypeRecord> = BTreeMap::new();
        for (action, status, n) in activity.counts {
            let record = by_type.entry(action).or_default();
            record.submitted += n;
            match status {
                HeldStatus::Approved => record.approved += n,
                HeldStatus::Denied => record.denied += n,
                HeldStatus::Expired => record.expired += n,
                HeldStatus::Cancelled => record.cancelled += n,
                HeldStatus::Pending => {}
            }
        }
        for (action, value, currency) in activity.approved_amounts {
            let money = Money::parse(&value, &currency).map_err(|e| crate::store::StoreError::Corrupt(e.0))?;
            *by_type.entry(action).or_default().approved_amounts.entry(money.currency).or_default() += money.value;
        }
        let credentials = self.store.credentials(agent.id).await?;
        let minted: Vec<_> = credentials.iter().filter(|c| c.created_at >= since).collect();
        let unused = agent.scope.allowances().iter().map(|a| a.action).filter(|a| !by_type.contains_key(a)).collect();
        Ok(Evidence {
            credentials_minted: minted.len(),
            credentials_used: minted.iter().filter(|c| c.last_used_at.is_some()).count(),
            agent,
            since,
            by_type,
            unused,
        })
    }

    /// Records an access review. Keeping (possibly narrower) sets the next review date and, if the agent was
    /// suspended only because the review was overdue, resumes it; retiring retires it.
    pub async fn attest(
        &self,
        by: By<'_>,
        id: Uuid,
        attestation: Attestation,
        note: &str,
    ) -> Result<Agent, ServiceError> {
        let (agent, _) = self.agent_for(by, id).await?;
        if agent.state == AgentState::Retired {
            return Err(Invalid::new("a retired agent has no more reviews").into());
        }
        let note = lifecycle::reason(note).map_err(|e| Invalid::new(e.0.replace("reason", "note")))?;
        let scope = match &attestation {
            Attestation::Retire => {
                let why = format!("access review: {note}");
                return self.change_agent_state(by, id, Change::Retire, &why, None).await;
            }
            Attestation::Keep => agent.scope.clone(),
            Attestation::Narrow(lines) => {
                let narrower = Scope::parse_all(lines)?;
                if narrower == agent.scope || !narrower.narrows(&agent.scope) {
                    return Err(Invalid::new("a narrower scope must drop an action type or lower a limit").into());
                }
                narrower
            }
        };
        let now = self.clock.now();
        let next = self.lifecycle.next_review(now);
        let event = Event::new(Kind::AccessReviewed, by.actor(), format!("agent:{id}"))
            .tenant(agent.tenant_id)
            .data(json!({ "decision": attestation.as_str(), "note": note, "next_review": next.unix_timestamp(),
                    "scope": [spec(&agent.scope), spec(&scope)] }));
        let life = Life { review_due_at: Some(next), last_reviewed_at: Some(now), ..agent.life.clone() };
        let kept = Agent { scope, life, ..agent };
        self.store.update_agent(&kept, event, now).await?;
        self.credentials.forget_agent(id);
        if kept.state == AgentState::Suspended
            && kept.life.state_reason.as_deref() == Some(lifecycle::REVIEW_OVERDUE_REASON)
        {
            return self.change_agent_state(by, id, Change::Resume, "access review completed", None).await;
        }
        Ok(kept)
    }
}

fn spec(scope: &Scope) -> Vec<String> {
    scope.allowances().iter().map(|a| a.spec()).collect()
}
