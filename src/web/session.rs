//! Session cookies and resolving the signed-in viewer. The cookie is HttpOnly and SameSite=Lax, Secure
//! behind HTTPS; the session expires after the idle timeout, and is ended at the absolute timeout however
//! active it is.

use super::AppState;
use crate::config::Config;
use crate::store::SessionBackend;
use app::model::Viewer;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::cookie::SameSite;
use tower_sessions::session::Id;
use tower_sessions::{Expiry, Session, SessionManagerLayer, SessionStore};
use uuid::Uuid;

pub const COOKIE: &str = "countersign_session";
/// Behind HTTPS: the `__Host-` prefix makes browsers refuse the cookie unless it is Secure, host-only and
/// for the whole site, so a sibling subdomain cannot plant or overwrite it.
pub const SECURE_COOKIE: &str = "__Host-countersign_session";
const AUTH_KEY: &str = "auth";
/// When the person last re-entered their password (step-up), as a Unix timestamp.
const STEP_UP_KEY: &str = "stepped_up_at";
/// Wrong step-up passwords in this session.
const STEP_UP_THROTTLE_KEY: &str = "step_up_throttle";
/// When the session was last re-dated for the person's activity, as a Unix timestamp.
const ACTIVE_KEY: &str = "active_at";
/// Activity re-dates (re-writes) the session at most this often, in seconds.
const REDATE_AFTER: i64 = 60;
/// Requests a page makes by itself (claim renewal, the live stream, progress polls): not the person's
/// activity, so a console left open unattended still reaches its idle timeout.
const NOT_ACTIVITY: [&str; 3] = ["/api/queue/renew", "/queue/events", "/api/audit/verify/status"];

/// What a session remembers about who signed in, and when.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionAuth {
    pub user: Uuid,
    /// The person's session epoch at sign-in; a password change moves it on and so ends this session.
    pub epoch: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub signed_in_at: OffsetDateTime,
}

pub fn session_layer(config: &Config, store: SessionBackend) -> SessionManagerLayer<SessionBackend> {
    let idle = time::Duration::try_from(config.session_idle_timeout).unwrap_or(time::Duration::minutes(30));
    SessionManagerLayer::new(store)
        .with_name(if config.secure_cookies() { SECURE_COOKIE } else { COOKIE })
        .with_path("/")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies())
        // Counted from the last save: `resolve_viewer` re-dates the session on activity, at most once a
        // minute, rather than writing it on every request.
        .with_expiry(Expiry::OnInactivity(idle))
}

/// Binds the session to `user` under a fresh id, so an id planted before sign-in is worthless after it.
pub async fn begin(
    session: &Session,
    user: Uuid,
    epoch: i64,
    now: OffsetDateTime,
) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    session.remove::<i64>(STEP_UP_KEY).await?;
    session.insert(ACTIVE_KEY, now.unix_timestamp()).await?;
    session.insert(AUTH_KEY, SessionAuth { user, epoch, signed_in_at: now }).await
}

pub async fn record_step_up(session: &Session, at: OffsetDateTime) -> Result<(), tower_sessions::session::Error> {
    session.insert(STEP_UP_KEY, at.unix_timestamp()).await
}

/// Wrong step-up passwords in this session (the domain's throttle, kept per session, not per account).
pub async fn step_up_throttle(session: &Session) -> crate::domain::throttle::Throttle {
    session.get(STEP_UP_THROTTLE_KEY).await.ok().flatten().unwrap_or_default()
}

pub async fn set_step_up_throttle(
    session: &Session,
    throttle: crate::domain::throttle::Throttle,
) -> Result<(), tower_sessions::session::Error> {
    if throttle == Default::default() {
        session.remove::<crate::domain::throttle::Throttle>(STEP_UP_THROTTLE_KEY).await.map(|_| ())
    } else {
        session.insert(STEP_UP_THROTTLE_KEY, throttle).await
    }
}

pub async fn stepped_up_at(session: &Session) -> Option<OffsetDateTime> {
    let at: i64 = session.get(STEP_UP_KEY).await.ok().flatten()?;
    OffsetDateTime::from_unix_timestamp(at).ok()
}

pub async fn end(session: &Session) -> Result<(), tower_sessions::session::Error> {
    session.flush().await
}

/// Puts the signed-in [`Viewer`] into the request's extensions when the session names an active person
/// and has not outlived the absolute timeout.
pub async fn resolve_viewer(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if let Some(session) = request.extensions().get::<Session>().cloned() {
        match viewer_of(&state, &session).await {
            Ok(Some(viewer)) => {
                if !NOT_ACTIVITY.contains(&request.uri().path()) {
                    redate(&session, state.service.clock.now()).await;
                }
                request.extensions_mut().insert(viewer);
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "could not resolve the session's viewer"),
        }
    }
    next.run(request).await
}

/// Marks the session active now if it was last marked over `REDATE_AFTER` ago; the change makes the
/// session layer save it, which moves its idle expiry on.
async fn redate(session: &Session, now: OffsetDateTime) {
    let last: Option<i64> = session.get(ACTIVE_KEY).await.ok().flatten();
    if last.is_none_or(|at| now.unix_timestamp() - at >= REDATE_AFTER) {
        if let Err(e) = session.insert(ACTIVE_KEY, now.unix_timestamp()).await {
            tracing::warn!(error = %e, "could not mark the session active");
        }
    }
}

async fn viewer_of(state: &AppState, session: &Session) -> anyhow::Result<Option<Viewer>> {
    let Some(auth) = session.get::<SessionAuth>(AUTH_KEY).await? else {
        return Ok(None);
    };
    let now = state.service.clock.now();
    let absolute = time::Duration::try_from(state.config.session_absolute_timeout)?;
    if now - auth.signed_in_at >= absolute {
        end(session).await?;
        return Ok(None);
    }
    let viewer = state.service.viewer(auth.user, auth.epoch).await?;
    if viewer.is_none() {
        end(session).await?;
    }
    Ok(viewer)
}

/// Whether the session `id` still stands for `user`, read afresh from the store: for a long-lived response
/// (the queue's event stream), which must end when its session does — signed out, the password changed,
/// idle or absolute timeout, the person disabled or no longer allowed `section`.
pub async fn still_signed_in(state: &AppState, id: Option<Id>, user: Uuid, section: crate::domain::Section) -> bool {
    let Some(id) = id else { return false };
    let Ok(Some(record)) = state.service.store.sessions().load(&id).await else { return false };
    // The session layer dates expiry by the wall clock.
    if record.expiry_date <= OffsetDateTime::now_utc() {
        return false;
    }
    let Some(auth) = record.data.get(AUTH_KEY).and_then(|v| serde_json::from_value::<SessionAuth>(v.clone()).ok())
    else {
        return false;
    };
    let Ok(absolute) = time::Duration::try_from(state.config.session_absolute_timeout) else { return false };
    if auth.user != user || state.service.clock.now() - auth.signed_in_at >= absolute {
        return false;
    }
    matches!(state.service.viewer(auth.user, auth.epoch).await,
        Ok(Some(v)) if crate::domain::access::may_open(&v.roles, section))
}
