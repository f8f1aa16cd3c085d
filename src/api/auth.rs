//! The agent behind a request: `Authorization: Bearer <credential>`, checked by the service.

use super::problem::ApiError;
use crate::service::AuthenticatedAgent;
use crate::web::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

pub struct Agent(pub AuthenticatedAgent);

impl FromRequestParts<AppState> for Agent {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .ok_or(ApiError::Unauthorized)?;
        Ok(Agent(state.service.authenticate_agent(token.trim()).await?))
    }
}
