//! `POST /api/v1/credentials` (a just-in-time credential for one case) and `POST /api/v1/cases/{id}/close`.

use super::auth::Agent;
use super::extract::ApiPath;
use super::openapi::Problem;
use super::problem::ApiError;
use crate::domain::submission::FieldError;
use crate::service::CaseRequest;
use crate::web::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// What a case credential is for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseCredentialRequest {
    /// The case the agent is working on; intake refuses the credential for any other.
    #[schema(example = "CS-8812", min_length = 1, max_length = 200)]
    pub case_id: String,
    /// Some of the agent's allowed action types; intake refuses the credential for any other.
    #[schema(example = json!(["refund"]), min_items = 1)]
    pub action_types: Vec<String>,
    /// How long it lives: 60 to 3600 seconds, 900 when left out.
    #[schema(example = 900, minimum = 60, maximum = 3600)]
    pub ttl_seconds: Option<i64>,
}

/// The credential, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseCredential {
    pub id: uuid::Uuid,
    /// `Authorization: Bearer <credential>` on intake for this case.
    pub credential: String,
    pub case_id: String,
    pub action_types: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// What closing a case ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseClosed {
    pub case_id: String,
    /// Live credentials bound to the case that were revoked.
    pub revoked: u64,
}

/// Obtain a credential bound to one case and some action types, living minutes.
#[utoipa::path(post, path = "/api/v1/credentials", tag = "credentials",
    request_body = CaseCredentialRequest,
    responses(
        (status = 201, description = "The credential, shown once", body = CaseCredential),
        (status = 401, description = "Missing, unknown or expired token or credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Agent suspended or retired", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An action type the agent may not request, a bad lifetime, or a case credential asking", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "More requests than the agent's rate limit allows; retry after the Retry-After header", body = Problem, content_type = "application/problem+json"),
    ),
    security(("workload_token" = []), ("agent_credential" = [])))]
pub async fn issue(
    State(state): State<AppState>,
    Agent(agent): Agent,
    body: Result<Json<CaseCredentialRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<CaseCredential>), ApiError> {
    let _admitted = state.service.admit_credential_request(&agent)?;
    let Json(body) =
        body.map_err(|e| ApiError::Invalid(vec![FieldError { field: "(body)".into(), message: e.body_text() }]))?;
    let request = CaseRequest {
        case_id: body.case_id,
        action_types: body.action_types,
        ttl: body.ttl_seconds.map(time::Duration::seconds),
    };
    let (credential, token) = state.service.issue_case_credential(&agent, request).await?;
    Ok((
        StatusCode::CREATED,
        Json(CaseCredential {
            id: credential.id,
            credential: token,
            case_id: credential.case_id.unwrap_or_default(),
            action_types: credential.action_types.unwrap_or_default().iter().map(|a| a.as_str().to_string()).collect(),
            expires_at: credential.expires_at,
        }),
    ))
}

/// Close a case: every credential of the agent bound to it ends at once.
#[utoipa::path(post, path = "/api/v1/cases/{case_id}/close", tag = "credentials",
    params(("case_id" = String, Path, description = "The case id")),
    responses(
        (status = 200, description = "Closed", body = CaseClosed),
        (status = 400, description = "A malformed case id in the path", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Agent suspended or retired", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or expired token or credential", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A case credential closing another case", body = Problem, content_type = "application/problem+json"),
    ),
    security(("workload_token" = []), ("agent_credential" = [])))]
pub async fn close(
    State(state): State<AppState>,
    Agent(agent): Agent,
    ApiPath(case_id): ApiPath<String>,
) -> Result<Json<CaseClosed>, ApiError> {
    let revoked = state.service.close_case(&agent, &case_id).await?;
    Ok(Json(CaseClosed { case_id, revoked }))
}
