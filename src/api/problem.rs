//! API errors as RFC 9457 problem details. Internals are logged and never sent.

use crate::domain::submission::FieldError;
use crate::service::{AgentAuthError, IntakeError, ServiceError};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub enum ApiError {
    Unauthorized,
    Forbidden(String),
    /// Suspended or retired: `agent_suspended` / `agent_retired`.
    AgentInactive(crate::domain::AgentState),
    NotFound,
    Conflict(String),
    Invalid(Vec<FieldError>),
    /// A malformed path segment or query parameter, each named in `errors`.
    BadRequest(Vec<FieldError>),
    TooLarge(usize),
    /// Over the agent's rate or in-flight limit: 429 with `Retry-After` (seconds).
    TooMany {
        detail: String,
        retry_after: u64,
    },
    Internal,
}

/// An error as problem details: what the API answers and what a JetStream message's rejection carries.
pub struct Problem {
    pub status: StatusCode,
    pub body: serde_json::Value,
    /// Seconds, for 429.
    pub retry_after: Option<u64>,
}

impl Problem {
    /// Whether the same request can never succeed (a 4xx other than 429), so retrying it is pointless.
    pub fn is_final(&self) -> bool {
        self.status.is_client_error() && self.status != StatusCode::TOO_MANY_REQUESTS
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        let mut response =
            (problem.status, [(header::CONTENT_TYPE, "application/problem+json")], problem.body.to_string())
                .into_response();
        if let Some(seconds) = problem.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl ApiError {
    pub fn problem(self) -> Problem {
        let mut kind = "about:blank";
        let (status, title, detail, extra) = match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "Send a valid, unexpired agent credential as `Authorization: Bearer <credential>`.".to_string(),
                None,
            ),
            ApiError::Forbidden(reason) => (StatusCode::FORBIDDEN, "Forbidden", reason, None),
            ApiError::AgentInactive(state) => {
                let retired = state == crate::domain::AgentState::Retired;
                kind = if retired { "agent_retired" } else { "agent_suspended" };
                let detail = if retired {
                    "This agent is retired; it can submit and read nothing any more."
                } else {
                    "This agent is suspended by its owner or an admin; its credentials work again once it is resumed."
                };
                (
                    StatusCode::FORBIDDEN,
                    if retired { "Agent retired" } else { "Agent suspended" },
                    detail.to_string(),
                    None,
                )
            }
            ApiError::NotFound => {
                (StatusCode::NOT_FOUND, "Not found", "No held action of this agent has that id.".into(), None)
            }
            ApiError::Conflict(reason) => (StatusCode::CONFLICT, "Conflict", reason, None),
            ApiError::Invalid(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid held action",
                format!("{} field(s) are invalid; see `errors`.", errors.len()),
                Some(json!(errors)),
            ),
            ApiError::BadRequest(errors) => (
                StatusCode::BAD_REQUEST,
                "Bad request",
                format!("{} part(s) of the address are malformed; see `errors`.", errors.len()),
                Some(json!(errors)),
            ),
            ApiError::TooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request body too large",
                format!("A held action may be at most {limit} bytes."),
                None,
            ),
            ApiError::TooMany { detail, retry_after } => {
                let body = json!({ "type": "about:blank", "title": "Too many requests", "status": 429,
                                   "detail": format!("{detail}; retry after {retry_after} s.") });
                return Problem { status: StatusCode::TOO_MANY_REQUESTS, body, retry_after: Some(retry_after) };
            }
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal error",
                "Something went wrong on our side; nothing was stored. Retry with the same idempotency key.".into(),
                None,
            ),
        };
        let mut body = json!({ "type": kind, "title": title, "status": status.as_u16(), "detail": detail });
        if let Some(errors) = extra {
            body["errors"] = errors;
        }
        Problem { status, body, retry_after: None }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(i) => ApiError::Invalid(vec![FieldError { field: "(body)".into(), message: i.0 }]),
            ServiceError::Forbidden => ApiError::Forbidden("not allowed".into()),
            ServiceError::Busy => ApiError::TooMany { detail: e.to_string(), retry_after: 5 },
            ServiceError::Store(e) => {
                tracing::error!(error = %e, "store failure behind the API");
                ApiError::Internal
            }
        }
    }
}

impl From<AgentAuthError> for ApiError {
    fn from(e: AgentAuthError) -> Self {
        match e {
            AgentAuthError::Unauthorized => ApiError::Unauthorized,
            AgentAuthError::Inactive(state) => ApiError::AgentInactive(state),
            AgentAuthError::Refused(reason) => ApiError::Forbidden(reason),
            AgentAuthError::Service(e) => e.into(),
        }
    }
}

impl From<IntakeError> for ApiError {
    fn from(e: IntakeError) -> Self {
        match e {
            IntakeError::Invalid(errors) => ApiError::Invalid(errors),
            IntakeError::OutOfScope(reason) => ApiError::Forbidden(reason),
            IntakeError::KeyReused => ApiError::Conflict(e.to_string()),
            IntakeError::AgentInactive(state) => ApiError::AgentInactive(state),
            IntakeError::Limited(l) => {
                ApiError::TooMany { detail: l.reason.clone(), retry_after: l.retry_after.as_secs().max(1) }
            }
            IntakeError::NotFound => ApiError::NotFound,
            IntakeError::NotPending(_) => ApiError::Conflict(e.to_string()),
            IntakeError::Service(e) => e.into(),
        }
    }
}
