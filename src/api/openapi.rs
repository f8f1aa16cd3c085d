//! The OpenAPI 3.1 document, generated from the handlers and these schema types.

use super::held_actions::{self, HeldActionStatus};
use crate::delivery::outcome::{Amount, Decision};
use axum::Json;
use serde::Serialize;
use utoipa::openapi::schema::{Array, ArrayBuilder, Object, ObjectBuilder, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// The held action as submitted (see docs/api.md). Unknown fields are refused; a required text must hold
/// more than spaces; ids, keys and names refuse control, invisible and direction characters, free text the
/// invisible and reordering ones.
#[allow(dead_code)] // documents the contract; the server reads submissions field by field to name every error
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "idempotency_key": "CS-8812-refund-1",
    "action": { "type": "refund", "parameters": { "order_id": "A-1009" },
                "amount": { "value": "129.90", "currency": "EUR" } },
    "intent": "Customer was charged twice for order A-1009; refund the duplicate charge.",
    "case": { "id": "CS-8812", "customer": { "id": "cus_123", "display_name": "Dana K." } },
    "transcript": [ { "role": "customer", "at": "2026-11-23T10:00:00Z", "text": "I was charged twice!" } ],
    "on_behalf_of": { "principal": "cus_123", "consented_scope": ["refund:order:A-1009"] },
    "policy": { "rule_id": "refund-over-100", "reason": "Refunds above 100 EUR need a human", "risk_tier": "high" }
}))]
pub struct SubmissionDoc {
    #[schema(example = "CS-8812-refund-1", schema_with = required_id)]
    idempotency_key: String,
    action: ActionDoc,
    #[schema(example = "Customer was charged twice for order A-1009; refund the duplicate charge.",
             schema_with = required_text)]
    intent: String,
    case: CaseDoc,
    #[schema(max_items = 1000)]
    transcript: Vec<TurnDoc>,
    on_behalf_of: Option<OnBehalfOfDoc>,
    policy: PolicyDoc,
    /// Capped by the risk tier's maximum time to live.
    #[schema(format = DateTime)]
    expires_at: Option<String>,
}

/// Characters `domain::hostile` refuses in ids, keys and names, and in free text (a regex class body).
const NOT_IN_IDS: &str = r"\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff";
const NOT_IN_TEXT: &str = r"\u00ad\u180e\u200b\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff";

/// A string of at most `max` characters without `refused`; when `required`, one that holds more than spaces.
fn text_schema(max: usize, refused: &str, required: bool) -> Object {
    let pattern = match required {
        true => format!(r"^[^{refused}]*[^\s{refused}][^{refused}]*$"),
        false => format!("^[^{refused}]*$"),
    };
    let kind: SchemaType =
        if required { Type::String.into() } else { [Type::String, Type::Null].into_iter().collect() };
    ObjectBuilder::new().schema_type(kind).max_length(Some(max)).pattern(Some(pattern)).build()
}

fn required_id() -> Object {
    text_schema(200, NOT_IN_IDS, true)
}
fn optional_id() -> Object {
    text_schema(200, NOT_IN_IDS, false)
}
fn optional_short_id() -> Object {
    text_schema(64, NOT_IN_IDS, false)
}
fn scope_items() -> Array {
    let item = ObjectBuilder::new().schema_type(Type::String).pattern(Some(format!("^[^{NOT_IN_IDS}]*$")));
    ArrayBuilder::new().items(item).build()
}
fn required_text() -> Object {
    text_schema(20_000, NOT_IN_TEXT, true)
}
fn optional_text() -> Object {
    text_schema(20_000, NOT_IN_TEXT, false)
}

/// One of two shapes: money moves (an amount is required) or it does not (an amount is refused).
#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
enum ActionDoc {
    MovesMoney(MoneyActionDoc),
    MovesNoMoney(PlainActionDoc),
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum MoneyActionType {
    Refund,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum PlainActionType {
    PasswordReset,
    MfaReset,
    AccountClosure,
    DataExport,
    PaymentMethodChange,
    AddressChange,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct MoneyActionDoc {
    #[serde(rename = "type")]
    kind: MoneyActionType,
    /// Free-form: at most 8 deep and 500 values.
    #[schema(value_type = Object)]
    parameters: serde_json::Value,
    amount: AmountDoc,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PlainActionDoc {
    #[serde(rename = "type")]
    kind: PlainActionType,
    /// Free-form: at most 8 deep and 500 values.
    #[schema(value_type = Object)]
    parameters: serde_json::Value,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AmountDoc {
    /// A decimal with at most 4 places.
    #[schema(example = "129.90", pattern = r"^[0-9]+(\.[0-9]{1,4})?$")]
    value: String,
    /// ISO 4217.
    #[schema(example = "EUR", pattern = "^[A-Z]{3}$")]
    currency: String,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CaseDoc {
    #[schema(schema_with = required_id)]
    id: String,
    #[schema(schema_with = optional_short_id)]
    channel: Option<String>,
    #[schema(schema_with = optional_text)]
    summary: Option<String>,
    customer: CustomerDoc,
    /// Free-form: at most 8 deep and 500 values.
    #[schema(value_type = Option<Object>)]
    facts: Option<serde_json::Value>,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CustomerDoc {
    #[schema(schema_with = required_id)]
    id: String,
    #[schema(schema_with = optional_id)]
    display_name: Option<String>,
    #[schema(schema_with = optional_short_id)]
    tier: Option<String>,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum TurnRoleDoc {
    Customer,
    Agent,
    Tool,
    System,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TurnDoc {
    role: TurnRoleDoc,
    #[schema(format = DateTime)]
    at: String,
    /// Required; may be null.
    #[schema(schema_with = optional_text, required = true)]
    text: Option<String>,
    /// The tool's name, for tool turns.
    #[schema(schema_with = optional_id)]
    name: Option<String>,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct OnBehalfOfDoc {
    #[schema(schema_with = required_id)]
    principal: String,
    #[schema(schema_with = scope_items)]
    consented_scope: Vec<String>,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum RiskTierDoc {
    High,
    Critical,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PolicyDoc {
    #[schema(schema_with = required_id)]
    rule_id: String,
    #[schema(schema_with = required_text)]
    reason: String,
    /// May raise the action type's tier, never lower it.
    risk_tier: Option<RiskTierDoc>,
    #[schema(minimum = 0.0, maximum = 1.0)]
    risk_score: Option<f64>,
}

/// An error, as RFC 9457 problem details (`application/problem+json`).
#[allow(dead_code)] // documents the contract; `ApiError` writes it
#[derive(Serialize, ToSchema)]
pub struct Problem {
    /// `about:blank`, or `agent_suspended` / `agent_retired`.
    #[serde(rename = "type")]
    kind: String,
    title: String,
    status: u16,
    detail: String,
    /// Each invalid field or malformed part of the address, for 400 and 422.
    errors: Option<Vec<ProblemField>>,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
struct ProblemField {
    field: String,
    message: String,
}

struct BearerCredential;

impl Modify for BearerCredential {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme = SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build());
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("agent_credential", scheme);
        let jwt = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build();
        components.add_security_scheme("workload_token", SecurityScheme::Http(jwt));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Countersign agent API", description = "Submit held actions and learn their outcome."),
    paths(held_actions::submit, held_actions::read, held_actions::withdraw, held_actions::receipt_key, held_actions::jwks,
        super::credentials::issue, super::credentials::close),
    components(schemas(SubmissionDoc, Problem, HeldActionStatus, Decision, Amount, held_actions::ReceiptKeyDoc, held_actions::JwksDoc,
        super::credentials::CaseCredentialRequest, super::credentials::CaseCredential, super::credentials::CaseClosed)),
    modifiers(&BearerCredential)
)]
struct ApiDoc;

pub async fn document() -> Json<serde_json::Value> {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    link_submissions(&mut doc);
    Json(doc)
}

/// Links from a submission's answer to reading and withdrawing what it stored, by the `id` it returned.
/// Written as JSON: utoipa 5.5 spells a link's `operationId` as `operation_id`.
fn link_submissions(doc: &mut serde_json::Value) {
    let link =
        |operation: &str| serde_json::json!({ "operationId": operation, "parameters": { "id": "$response.body#/id" } });
    let links = serde_json::json!({ "read": link("read_held_action"), "withdraw": link("withdraw_held_action") });
    for status in ["200", "201"] {
        if let Some(response) = doc.pointer_mut(&format!("/paths/~1api~1v1~1held-actions/post/responses/{status}")) {
            response["links"] = links.clone();
        }
    }
}
