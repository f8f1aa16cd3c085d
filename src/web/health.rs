//! `/healthz`: the process answers. `/readyz`: the database answers, every migration is applied and no
//! background task has stopped; it lists the tasks (a failing one is being retried: see the log).

use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let tasks = state.service.tasks.report();
    let stopped: Vec<&str> = tasks.iter().filter(|t| t.state == "stopped").map(|t| t.name).collect();
    let reason = match state.service.store.pending_migrations().await {
        Ok(0) if stopped.is_empty() => None,
        Ok(0) => Some(format!("background task stopped: {}", stopped.join(", "))),
        Ok(pending) => Some(format!("{pending} migration(s) not applied")),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Some("database unreachable".to_string())
        }
    };
    match reason {
        None => (StatusCode::OK, Json(json!({ "status": "ready", "tasks": tasks }))),
        Some(reason) => {
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "not ready", "reason": reason, "tasks": tasks })))
        }
    }
}
