//! `GET /queue/events`: the open queue's live feed (Server-Sent Events). Each event names a held action of
//! the viewer's tenants that arrived, changed or left the queue; the page then reads its current page again.

use super::{session, AppState};
use crate::delivery::ChangeKind;
use crate::domain::{access, Section};
use app::model::Viewer;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;
use tower_sessions::Session;
use uuid::Uuid;

/// How often an open stream checks that its session still stands.
const SESSION_CHECK: Duration = Duration::from_secs(2);

pub async fn queue_events(
    State(state): State<AppState>,
    viewer: Option<Extension<Viewer>>,
    session: Option<Extension<Session>>,
) -> Response {
    let Some(Extension(viewer)) = viewer else { return StatusCode::UNAUTHORIZED.into_response() };
    if !access::may_open(&viewer.roles, Section::Queue) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Ok(user) = Uuid::parse_str(&viewer.user_id) else { return StatusCode::UNAUTHORIZED.into_response() };
    let id = session.and_then(|Extension(s)| s.id());
    // Only the tenants whose queue the viewer's roles there open.
    let tenants: Vec<Uuid> = crate::service::accounts::memberships_of(&viewer)
        .tenants_with(&[crate::domain::Role::Supervisor, crate::domain::Role::Admin]);
    let (events, stream) = mpsc::channel::<Event>(64);
    let mut changes = state.service.subscribe();
    // The stream lives as long as its session: it ends at sign-out, a password change, a timeout, or when
    // the person may no longer open the queue.
    tokio::spawn(async move {
        let mut check = tokio::time::interval(SESSION_CHECK);
        loop {
            let event = tokio::select! {
                change = changes.recv() => match change {
                    Ok(c) if tenants.contains(&c.tenant) => {
                        let kind = match c.kind {
                            ChangeKind::Arrived => "arrived",
                            ChangeKind::Updated => "updated",
                            ChangeKind::Decided => "decided",
                        };
                        Some(Event::default().event(kind).data(c.id.to_string()))
                    }
                    Ok(_) => None,
                    // Some changes were missed: the page should simply read everything again.
                    Err(RecvError::Lagged(_)) => Some(Event::default().event("resync").data("")),
                    Err(RecvError::Closed) => break,
                },
                _ = check.tick() => {
                    if !session::still_signed_in(&state, id, user, Section::Queue).await {
                        break;
                    }
                    None
                }
            };
            // A reader that has fallen 64 events behind misses this one (it rereads its page on the next),
            // but never stalls the session check.
            if let Some(event) = event {
                if let Err(mpsc::error::TrySendError::Closed(_)) = events.try_send(event) {
                    break;
                }
            }
        }
    });
    let stream = ReceiverStream::new(stream).map(Ok::<_, Infallible>);
    Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
}
