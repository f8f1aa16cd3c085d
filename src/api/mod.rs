//! The agent-facing JSON API under `/api/v1`, and its OpenAPI description at `/api/openapi.json`.

mod auth;
mod credentials;
mod extract;
mod held_actions;
mod openapi;
mod problem;

use crate::web::AppState;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

pub use held_actions::HeldActionStatus;
pub use problem::{ApiError, Problem};

pub fn router(body_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/api/v1/held-actions", post(held_actions::submit))
        .route("/api/v1/held-actions/{id}", get(held_actions::read).delete(held_actions::withdraw))
        .route("/api/v1/credentials", post(credentials::issue))
        .route("/api/v1/cases/{case_id}/close", post(credentials::close))
        .route("/api/v1/receipt-key", get(held_actions::receipt_key))
        .route("/.well-known/jwks.json", get(held_actions::jwks))
        .route("/api/openapi.json", get(openapi::document))
        .layer(DefaultBodyLimit::max(body_limit))
}
