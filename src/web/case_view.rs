//! The case file as the case view shows it: the stored submission read back field by field (it was
//! validated on the way in), the agent card, history and votes.

use super::review_console::millis;
use crate::domain::review::{self, Reviewer};
use crate::domain::scope::Money;
use crate::domain::{consent, HeldStatus, RiskTier};
use crate::service::CaseFile;
use app::model::Viewer;
use app::review_model::{AgentCard, CaseView, ClaimView, OutcomeView, RelatedRow, ReviewView, Turn};
use serde_json::Value;
use std::collections::HashMap;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

fn when(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), text(v))).collect()).unwrap_or_default()
}

fn opt(v: &Value) -> Option<String> {
    (!v.is_null()).then(|| text(v))
}

/// Sums amounts per currency: "250.00 EUR, 40.00 USD", or "none".
fn total(amounts: &[Money]) -> String {
    let mut sums: Vec<(String, rust_decimal::Decimal)> = Vec::new();
    for m in amounts {
        match sums.iter_mut().find(|(c, _)| *c == m.currency) {
            Some((_, sum)) => *sum += m.value,
            None => sums.push((m.currency.clone(), m.value)),
        }
    }
    if sums.is_empty() {
        return "none".into();
    }
    sums.iter().map(|(c, v)| format!("{v} {c}")).collect::<Vec<_>>().join(", ")
}

pub fn build(
    file: &CaseFile,
    who: &Reviewer,
    names: &HashMap<Uuid, String>,
    viewer: &Viewer,
    now: OffsetDateTime,
) -> CaseView {
    let a = &file.action;
    let body: Value = serde_json::from_str(&a.body).unwrap_or(Value::Null);
    let name = |u: Uuid| names.get(&u).cloned().unwrap_or_else(|| "someone outside your tenants".into());
    let consented: Vec<String> =
        body["on_behalf_of"]["consented_scope"].as_array().map(|s| s.iter().map(text).collect()).unwrap_or_default();
    let beyond_consent = consent::beyond(a.action, &body["action"]["parameters"], &consented);
    let agent = &file.agent;
    let beyond_scope = agent.scope.refusal(a.action, a.amount.as_ref());
    let step_up_until = who.stepped_up_at.map(|t| t + review::STEP_UP_WINDOW).filter(|t| *t > now);
    let outcome = (a.status != HeldStatus::Pending).then(|| OutcomeView {
        status: a.status,
        reason: a.outcome_reason.clone(),
        by: match a.decided_by {
            Some(u) => name(u),
            None if a.status == HeldStatus::Expired => "its deadline".into(),
            None => "the agent".into(),
        },
        at: a.decided_at.map(when).unwrap_or_default(),
        approved_amount: crate::delivery::outcome::approved_amount(a).map(Money::to_string),
    });
    CaseView {
        id: a.id.to_string(),
        tenant: viewer
            .tenants
            .iter()
            .find(|t| t.id == a.tenant_id.to_string())
            .map(|t| t.name.clone())
            .unwrap_or_default(),
        status: a.status,
        action: a.action,
        amount: a.amount.as_ref().map(Money::to_string),
        amount_value: a.amount.as_ref().map(|m| m.value.to_string()),
        currency: a.amount.as_ref().map(|m| m.currency.clone()),
        tier: a.tier,
        approvals: a.approvals,
        needed: review::quorum(a.tier),
        received_at: when(a.received_at),
        expires_at_ms: millis(a.expires_at),
        server_now_ms: millis(now),
        parameters: pairs(&body["action"]["parameters"]),
        intent: text(&body["intent"]),
        policy_rule: text(&body["policy"]["rule_id"]),
        policy_reason: text(&body["policy"]["reason"]),
        risk_score: opt(&body["policy"]["risk_score"]),
        on_behalf_of: opt(&body["on_behalf_of"]["principal"]),
        consented_scope: consented,
        beyond_consent,
        case_id: a.case_id.clone(),
        channel: opt(&body["case"]["channel"]),
        summary: opt(&body["case"]["summary"]),
        customer: opt(&body["case"]["customer"]["display_name"])
            .map_or_else(|| a.customer_id.clone(), |n| format!("{n} ({})", a.customer_id)),
        customer_tier: opt(&body["case"]["customer"]["tier"]),
        facts: pairs(&body["case"]["facts"]),
        transcript: body["transcript"]
            .as_array()
            .map(|turns| {
                turns
                    .iter()
                    .map(|t| Turn {
                        role: text(&t["role"]),
                        at: text(&t["at"]),
                        name: opt(&t["name"]),
                        text: text(&t["text"]),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        agent: AgentCard {
            id: agent.id.to_string(),
            name: agent.name.clone(),
            owner: name(agent.owner_id),
            purpose: agent.purpose.clone(),
            state: agent.state,
            beyond_scope,
            subject: file.subject.clone(),
        },
        related: file
            .related
            .iter()
            .map(|r| RelatedRow {
                id: r.id.to_string(),
                action: r.action,
                amount: r.amount.as_ref().map(Money::to_string),
                status: r.status,
                received_at: when(r.received_at),
                link: match (r.customer_id == a.customer_id, r.agent_id == a.agent_id) {
                    (true, true) => "same customer and agent",
                    (true, false) => "same customer",
                    _ => "same agent",
                }
                .into(),
            })
            .collect(),
        approved_24h_customer: total(&file.approved_24h.0),
        approved_24h_agent: total(&file.approved_24h.1),
        reviews: file
            .reviews
            .iter()
            .map(|r| ReviewView {
                reviewer: name(r.reviewer),
                approve: r.approve,
                reason: r.reason.clone(),
                amount: r.amount.as_ref().map(Money::to_string),
                stepped_up: r.stepped_up,
                at: when(r.at),
            })
            .collect(),
        claim: a.claim.filter(|c| c.until > now).map(|c| ClaimView {
            by: name(c.user),
            mine: c.user == who.user,
            until_ms: millis(c.until),
        }),
        may_not_decide: match &file.may_decide {
            Ok(()) if file.reviews.iter().any(|r| r.reviewer == who.user) => {
                Some("You have already approved this; a different approver must give the second approval.".into())
            }
            Ok(()) => None,
            Err(r) => Some(super::review_console::capitalised(&r.to_string())),
        },
        step_up_until_ms: (a.tier == RiskTier::Critical).then_some(step_up_until.map(millis)).flatten(),
        outcome,
        deny_reasons: review::DENY_REASONS.iter().map(|r| r.to_string()).collect(),
    }
}
