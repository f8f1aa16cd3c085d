//! Floods of password attempts (sign-in, step-up): each costs an argon2 computation (19 MiB, tens of ms), so
//! they are limited per client address and in all before any is computed, answering 429 with `Retry-After`.
//! The per-(account, client) slow-down still applies behind this; this stops one client, or many, from
//! exhausting the server. The client is the resolved one (`trusted_proxies`), so behind a load balancer
//! each client has its own budget rather than all sharing the balancer's. Limits are per app server
//! (`governor`, in memory). The resolved client is left in the request for the sign-in to key on.

use crate::domain::client::{self, Cidr};
use app::error::AppError;
use app::model::ClientAddr;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// The server functions that take a password.
const GUARDED: [&str; 3] = ["/api/login", "/api/queue/step-up", "/api/account/password"];

#[derive(Clone)]
pub struct Floods {
    per_client: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    overall: Arc<DefaultDirectRateLimiter>,
    trusted: Arc<Vec<Cidr>>,
}

fn quota(burst: u32, every: Duration) -> Quota {
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(every).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN)).allow_burst(burst)
}

impl Default for Floods {
    /// One client: 30 attempts at once, then one every 2 seconds. Everyone: 60 at once, then 30 a second
    /// (about what two cores verify).
    fn default() -> Self {
        Floods {
            per_client: Arc::new(DefaultKeyedRateLimiter::keyed(quota(30, Duration::from_secs(2)))),
            overall: Arc::new(DefaultDirectRateLimiter::direct(quota(60, Duration::from_millis(33)))),
            trusted: Arc::new(Vec::new()),
        }
    }
}

impl Floods {
    /// The default limits, with `X-Forwarded-For` honoured from these proxies.
    pub fn new(trusted: Vec<Cidr>) -> Self {
        Floods { trusted: Arc::new(trusted), ..Floods::default() }
    }

    /// `Some(wait)` when this attempt must not be made now.
    fn wait(&self, client: IpAddr) -> Option<Duration> {
        let now = DefaultClock::default().now();
        let refused = |not_until: governor::NotUntil<_>| not_until.wait_time_from(now);
        self.overall.check().err().map(refused).or_else(|| self.per_client.check_key(&client).err().map(refused))
    }
}

pub async fn limit_attempts(State(floods): State<Floods>, mut request: Request, next: Next) -> Response {
    if !GUARDED.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let peer =
        request.extensions().get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    let forwarded: Vec<&str> =
        request.headers().get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
    let client = client::client(peer, &forwarded, &floods.trusted);
    request.extensions_mut().insert(ClientAddr(client.to_string()));
    let Some(wait) = floods.wait(client) else {
        return next.run(request).await;
    };
    let seconds = wait.as_secs().max(1);
    tracing::warn!(%client, path = request.uri().path(), "password attempts throttled");
    // The console's server functions read their errors as `AppError` JSON.
    let body = serde_json::to_string(&AppError::TooManyAttempts(seconds)).unwrap_or_default();
    let mut response = (StatusCode::TOO_MANY_REQUESTS, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}
