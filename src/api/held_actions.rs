//! `POST /api/v1/held-actions`, `GET` and `DELETE /api/v1/held-actions/{id}`.

use super::auth::Agent;
use super::extract::{ApiPath, ApiQuery};
use super::openapi::Problem;
use super::problem::ApiError;
use crate::domain::submission::FieldError;
use crate::service::IntakeOutcome;
use crate::web::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use std::time::Duration;
use utoipa::IntoParams;
use uuid::Uuid;

pub use crate::delivery::outcome::HeldActionStatus;

#[derive(Debug, Deserialize, IntoParams)]
pub struct Wait {
    /// Seconds to wait for the status to change before answering (long-poll); more than 60 is taken as 60.
    #[param(minimum = 0)]
    pub wait: Option<u64>,
}

/// Submit a held action.
#[utoipa::path(post, path = "/api/v1/held-actions", tag = "held actions", operation_id = "submit_held_action",
    request_body(content = super::openapi::SubmissionDoc, description = "The held action; extra fields are refused"),
    responses(
        (status = 201, description = "Stored, pending review", body = HeldActionStatus),
        (status = 200, description = "The same idempotency key and content again: the original", body = HeldActionStatus),
        (status = 401, description = "Missing, unknown, expired or revoked credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Agent suspended or retired, or the action is outside its scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The idempotency key was used with different content", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named in `errors`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the agent's rate or in-flight limit; see `Retry-After`", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("agent_credential" = [])))]
pub async fn submit(
    State(state): State<AppState>,
    Agent(agent): Agent,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<HeldActionStatus>), ApiError> {
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(state.config.intake_body_limit),
        _ => ApiError::Invalid(vec![FieldError { field: "(body)".into(), message: e.body_text() }]),
    })?;
    let body = std::str::from_utf8(&body).map_err(|_| {
        ApiError::Invalid(vec![FieldError { field: "(body)".into(), message: "must be UTF-8 JSON".into() }])
    })?;
    Ok(match state.service.submit_held_action(&agent, body).await? {
        IntakeOutcome::Created(a) => (StatusCode::CREATED, Json((&a).into())),
        IntakeOutcome::Replayed(a) => (StatusCode::OK, Json((&a).into())),
    })
}

/// Read a held action of this agent; `?wait=N` long-polls until it changes.
#[utoipa::path(get, path = "/api/v1/held-actions/{id}", tag = "held actions", operation_id = "read_held_action", params(("id" = Uuid, Path), Wait),
    responses((status = 200, body = HeldActionStatus),
        (status = 400, description = "The id is not a UUID, or `wait` is not a number of seconds", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown, expired or revoked credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Agent suspended or retired", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not this agent's", body = Problem, content_type = "application/problem+json")),
    security(("agent_credential" = [])))]
pub async fn read(
    State(state): State<AppState>,
    Agent(agent): Agent,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(wait): ApiQuery<Wait>,
) -> Result<Json<HeldActionStatus>, ApiError> {
    let wait = Duration::from_secs(wait.wait.unwrap_or(0).min(60));
    let action = state.service.read_held_action(&agent, id, wait).await?;
    Ok(Json((&action).into()))
}

/// Withdraw a pending held action (it becomes `cancelled`).
#[utoipa::path(delete, path = "/api/v1/held-actions/{id}", tag = "held actions", operation_id = "withdraw_held_action", params(("id" = Uuid, Path)),
    responses((status = 200, body = HeldActionStatus),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown, expired or revoked credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Agent suspended or retired", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not this agent's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No longer pending", body = Problem, content_type = "application/problem+json")),
    security(("agent_credential" = [])))]
pub async fn withdraw(
    State(state): State<AppState>,
    Agent(agent): Agent,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<HeldActionStatus>, ApiError> {
    let action = state.service.withdraw_held_action(&agent, id).await?;
    Ok(Json((&action).into()))
}

/// The key that signs outcome receipts now; every key, old ones included, is at `/.well-known/jwks.json`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ReceiptKeyDoc {
    #[schema(example = "EdDSA")]
    pub algorithm: &'static str,
    /// The key id, as the receipt's JWS header names it.
    pub kid: String,
    /// The 32-byte Ed25519 public key, base64url without padding (the JWK's `x`).
    pub public_key: String,
    /// Where every receipt key is published as a JWK Set.
    pub jwks_uri: &'static str,
    /// What a receipt is.
    pub receipt: &'static str,
}

/// The key that signs `decision.receipt` now.
#[utoipa::path(get, path = "/api/v1/receipt-key", tag = "held actions", responses((status = 200, body = ReceiptKeyDoc)))]
pub async fn receipt_key(State(state): State<AppState>) -> Result<Json<ReceiptKeyDoc>, ApiError> {
    let key = state.service.receipt_key().await.map_err(crate::service::IntakeError::from)?;
    Ok(Json(ReceiptKeyDoc {
        algorithm: "EdDSA",
        kid: key.kid(),
        public_key: key.public_key(),
        jwks_uri: "/.well-known/jwks.json",
        receipt: "a compact JWS (alg EdDSA, typ countersign-receipt+jwt, kid in the header); claims: iss \
                  \"countersign\", sub (the held action id), iat, status, approvals, approved_amount (\"<value> \
                  <currency>\" or null), decided_at (RFC 3339), content_hash (SHA-256 of the submitted body, hex), \
                  reason (or null)",
    }))
}

/// A JWK Set (RFC 7517).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct JwksDoc {
    /// Ed25519 public keys (`kty` OKP, `crv` Ed25519, `x`, `kid`, `alg` EdDSA, `use` sig).
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<serde_json::Value>,
}

/// Every receipt key as a JWK Set: the newest signs; older keys stay so old receipts still verify.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "held actions", responses((status = 200, body = JwksDoc)))]
pub async fn jwks(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let keys = state.service.receipt_keys().await.map_err(crate::service::IntakeError::from)?;
    Ok(Json(keys.jwks()))
}
