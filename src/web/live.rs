//! `GET /queue/events`: the open queue's live feed (Server-Sent Events). Each event names a held action of
//! the viewer's tenants that arrived, changed or left the queue; the page then reads its current page again.

use super::AppState;
use crate::delivery::ChangeKind;
use crate::domain::{access, Section};
use app::model::Viewer;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use std::convert::Infallible;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::StreamExt;
use uuid::Uuid;

pub async fn queue_events(State(state): State<AppState>, viewer: Option<Extension<Viewer>>) -> Response {
    let Some(Extension(viewer)) = viewer else { return StatusCode::UNAUTHORIZED.into_response() };
    if !access::may_open(&viewer.roles, Section::Queue) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let tenants: Vec<Uuid> = viewer.tenants.iter().filter_map(|t| Uuid::parse_str(&t.id).ok()).collect();
    let changes = BroadcastStream::new(state.service.subscribe()).filter_map(move |change| {
        let event = match change {
            Ok(c) if tenants.contains(&c.tenant) => {
                let kind = match c.kind {
                    ChangeKind::Arrived => "arrived",
                    ChangeKind::Updated => "updated",
                    ChangeKind::Decided => "decided",
                };
                Event::default().event(kind).data(c.id.to_string())
            }
            Ok(_) => return None,
            // Some changes were missed: the page should simply read everything again.
            Err(_) => Event::default().event("resync").data(""),
        };
        Some(Ok::<_, Infallible>(event))
    });
    Sse::new(changes).keep_alive(KeepAlive::default()).into_response()
}
