//! A held action, its reviewers' votes and its outcome's deliveries, as both stores return them.

use crate::domain::review::Claim;
use crate::domain::scope::Money;
use crate::domain::{ActionType, HeldStatus, RiskTier};
use crate::store::{Delivery, DeliveryState, HeldAction, Review, StoreError};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
pub struct HeldActionRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub agent_id: Uuid,
    pub idempotency_key: String,
    pub action_type: String,
    pub amount_value: Option<String>,
    pub amount_currency: Option<String>,
    pub risk_tier: String,
    pub case_id: String,
    pub customer_id: String,
    pub body: String,
    pub content_hash: String,
    pub status: String,
    pub received_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub decided_at: Option<OffsetDateTime>,
    pub approvals: i64,
    pub outcome_reason: Option<String>,
    pub approved_value: Option<String>,
    pub decided_by: Option<Uuid>,
    /// The receipt and the claim: left out of the history's column list (its list and exports read neither,
    /// and the receipt is a third of a settled row's bytes).
    #[sqlx(default)]
    pub receipt: Option<String>,
    #[sqlx(default)]
    pub claimed_by: Option<Uuid>,
    #[sqlx(default)]
    pub claimed_until: Option<OffsetDateTime>,
    /// Only where a query asks for it (the history's and queue's column lists leave it out).
    #[sqlx(default)]
    pub credential_id: Option<Uuid>,
}

impl TryFrom<HeldActionRow> for HeldAction {
    type Error = StoreError;

    fn try_from(r: HeldActionRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str, v: &str| StoreError::Corrupt(format!("held action {}: {what} {v}", r.id));
        let amount = match (&r.amount_value, &r.amount_currency) {
            (Some(v), Some(c)) => Some(Money::parse(v, c).map_err(|e| corrupt("amount", &e.0))?),
            _ => None,
        };
        let approved_amount = match (&r.approved_value, &r.amount_currency) {
            (Some(v), Some(c)) => Some(Money::parse(v, c).map_err(|e| corrupt("approved amount", &e.0))?),
            _ => None,
        };
        let claim = match (r.claimed_by, r.claimed_until) {
            (Some(user), Some(until)) => Some(Claim { user, until }),
            _ => None,
        };
        Ok(HeldAction {
            approved_amount,
            claim,
            approvals: r.approvals,
            outcome_reason: r.outcome_reason,
            decided_by: r.decided_by,
            receipt: r.receipt,
            action: ActionType::parse(&r.action_type).ok_or_else(|| corrupt("action type", &r.action_type))?,
            tier: RiskTier::parse(&r.risk_tier).ok_or_else(|| corrupt("tier", &r.risk_tier))?,
            status: HeldStatus::parse(&r.status).ok_or_else(|| corrupt("status", &r.status))?,
            amount,
            id: r.id,
            tenant_id: r.tenant_id,
            agent_id: r.agent_id,
            idempotency_key: r.idempotency_key,
            case_id: r.case_id,
            customer_id: r.customer_id,
            body: r.body,
            content_hash: r.content_hash,
            received_at: r.received_at,
            expires_at: r.expires_at,
            decided_at: r.decided_at,
            credential_id: r.credential_id,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct ReviewRow {
    pub held_action_id: Uuid,
    pub reviewer_id: Uuid,
    pub approve: bool,
    pub reason: Option<String>,
    pub approved_value: Option<String>,
    pub stepped_up: bool,
    pub at: OffsetDateTime,
}

impl ReviewRow {
    /// `currency` is the action's: a narrowed amount is stored as its value only.
    pub fn into_review(self, currency: Option<&str>) -> Result<Review, StoreError> {
        let amount = match (&self.approved_value, currency) {
            (Some(v), Some(c)) => {
                Some(Money::parse(v, c).map_err(|e| StoreError::Corrupt(format!("review: {}", e.0)))?)
            }
            _ => None,
        };
        Ok(Review {
            held_action: self.held_action_id,
            reviewer: self.reviewer_id,
            approve: self.approve,
            reason: self.reason,
            amount,
            stepped_up: self.stepped_up,
            at: self.at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: Uuid,
    pub agent_id: Uuid,
    pub held_action_id: Uuid,
    pub payload: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: Option<OffsetDateTime>,
    pub last_attempt_at: Option<OffsetDateTime>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = StoreError;

    fn try_from(r: DeliveryRow) -> Result<Self, StoreError> {
        Ok(Delivery {
            state: DeliveryState::parse(&r.state)
                .ok_or_else(|| StoreError::Corrupt(format!("delivery {}: state {}", r.id, r.state)))?,
            id: r.id,
            agent_id: r.agent_id,
            held_action_id: r.held_action_id,
            payload: r.payload,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_attempt_at: r.last_attempt_at,
            last_status: r.last_status,
            last_error: r.last_error,
            created_at: r.created_at,
        })
    }
}
