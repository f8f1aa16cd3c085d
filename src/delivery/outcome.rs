//! The held action as the agent sees it: the API's answer, the long-poll's, and each webhook's `data`.

use crate::domain::receipt::Attested;
use crate::domain::scope::Money;
use crate::domain::HeldStatus;
use crate::store::HeldAction;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HeldActionStatus {
    pub id: Uuid,
    /// `pending`, `approved`, `denied`, `expired` or `cancelled`.
    #[schema(example = "pending")]
    pub status: String,
    /// RFC 3339; a pending action not decided by then expires (fails closed).
    pub expires_at: String,
    pub status_url: String,
    /// The outcome once decided; `null` while pending.
    pub decision: Option<Decision>,
}

/// What was decided, by how many, and a receipt that proves it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Decision {
    /// `approved`, `denied`, `expired` or `cancelled`; only `approved` lets the action go ahead.
    #[schema(example = "approved")]
    pub outcome: String,
    /// Why it was denied, expired or cancelled; `null` when approved.
    pub reason: Option<String>,
    /// Distinct approvers counted.
    pub approvals: i64,
    /// The amount the action may move when approved: lower than requested if a reviewer narrowed it.
    pub approved_amount: Option<Amount>,
    /// RFC 3339.
    pub decided_at: String,
    /// `v1.` and an Ed25519 signature (base64url) over the outcome; the public key is at
    /// `GET /api/v1/receipt-key`, the signed text is described there.
    pub receipt: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Amount {
    #[schema(example = "100.00")]
    pub value: String,
    #[schema(example = "EUR")]
    pub currency: String,
}

impl From<&Money> for Amount {
    fn from(m: &Money) -> Self {
        Amount { value: m.value.to_string(), currency: m.currency.clone() }
    }
}

/// The amount an approval lets move: the narrowed one, else the requested one; nothing unless approved.
pub fn approved_amount(a: &HeldAction) -> Option<&Money> {
    (a.status == HeldStatus::Approved).then(|| a.approved_amount.as_ref().or(a.amount.as_ref())).flatten()
}

/// What a receipt for this (decided) action attests.
pub fn attested(a: &HeldAction, decided_at: time::OffsetDateTime) -> Attested<'_> {
    Attested {
        id: a.id,
        status: a.status.as_str(),
        approvals: a.approvals,
        approved_amount: approved_amount(a).map(|m| m.to_string()),
        decided_at,
        content_hash: &a.content_hash,
        reason: a.outcome_reason.as_deref(),
    }
}

impl From<&HeldAction> for HeldActionStatus {
    fn from(a: &HeldAction) -> Self {
        let decision = match (a.status, a.decided_at, &a.receipt) {
            (HeldStatus::Pending, _, _) | (_, None, _) | (_, _, None) => None,
            (status, Some(at), Some(receipt)) => Some(Decision {
                outcome: status.as_str().to_string(),
                reason: a.outcome_reason.clone(),
                approvals: a.approvals,
                approved_amount: approved_amount(a).map(Amount::from),
                decided_at: at.format(&Rfc3339).unwrap_or_default(),
                receipt: receipt.clone(),
            }),
        };
        HeldActionStatus {
            id: a.id,
            status: a.status.as_str().to_string(),
            expires_at: a.expires_at.format(&Rfc3339).unwrap_or_default(),
            status_url: format!("/api/v1/held-actions/{}", a.id),
            decision,
        }
    }
}

/// A webhook message body, per Standard Webhooks: `type`, `timestamp` and `data`.
pub fn webhook_payload(a: &HeldAction) -> String {
    let status = HeldActionStatus::from(a);
    let body = serde_json::json!({
        "type": format!("held_action.{}", a.status.as_str()),
        "timestamp": status.decision.as_ref().map(|d| d.decided_at.clone()),
        "data": status,
    });
    body.to_string()
}
