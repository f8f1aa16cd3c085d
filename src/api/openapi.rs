//! The OpenAPI 3.1 document, generated from the handlers and these schema types.

use super::held_actions::{self, HeldActionStatus};
use crate::delivery::outcome::{Amount, Decision};
use axum::Json;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// The held action as submitted (see DESIGN.md). Unknown fields are refused.
#[allow(dead_code)] // documents the contract; the server reads submissions field by field to name every error
#[derive(Serialize, ToSchema)]
pub struct SubmissionDoc {
    #[schema(example = "CS-8812-refund-1")]
    idempotency_key: String,
    action: ActionDoc,
    #[schema(example = "Customer was charged twice for order A-1009; refund the duplicate charge.")]
    intent: String,
    case: CaseDoc,
    transcript: Vec<TurnDoc>,
    on_behalf_of: Option<OnBehalfOfDoc>,
    policy: PolicyDoc,
    /// RFC 3339; capped by the risk tier's maximum time to live.
    expires_at: Option<String>,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
struct ActionDoc {
    /// refund, password_reset, mfa_reset, account_closure, data_export, payment_method_change, address_change
    #[serde(rename = "type")]
    kind: String,
    #[schema(value_type = Object)]
    parameters: serde_json::Value,
    /// Required where money moves (refund), refused otherwise.
    amount: Option<AmountDoc>,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
struct AmountDoc {
    #[schema(example = "129.90")]
    value: String,
    #[schema(example = "EUR")]
    currency: String,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
struct CaseDoc {
    id: String,
    channel: Option<String>,
    summary: Option<String>,
    customer: CustomerDoc,
    #[schema(value_type = Option<Object>)]
    facts: Option<serde_json::Value>,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
struct CustomerDoc {
    id: String,
    display_name: Option<String>,
    tier: Option<String>,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
struct TurnDoc {
    /// customer, agent, tool or system
    role: String,
    /// RFC 3339
    at: String,
    text: String,
    /// The tool's name, for tool turns.
    name: Option<String>,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
struct OnBehalfOfDoc {
    principal: String,
    consented_scope: Vec<String>,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
struct PolicyDoc {
    rule_id: String,
    reason: String,
    /// high or critical; may raise the action type's tier, never lower it.
    risk_tier: Option<String>,
    risk_score: Option<f64>,
}

struct BearerCredential;

impl Modify for BearerCredential {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme = SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build());
        openapi.components.get_or_insert_with(Default::default).add_security_scheme("agent_credential", scheme);
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Countersign agent API", description = "Submit held actions and learn their outcome."),
    paths(held_actions::submit, held_actions::read, held_actions::withdraw, held_actions::receipt_key),
    components(schemas(SubmissionDoc, HeldActionStatus, Decision, Amount, held_actions::ReceiptKeyDoc)),
    modifiers(&BearerCredential)
)]
struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
