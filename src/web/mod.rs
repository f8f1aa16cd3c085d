//! The HTTP side: the router, sessions, the page guard, CSRF defence, health checks, and the adapter that
//! serves the console's server functions.

mod agent_console;
mod case_view;
mod charts;
mod console;
pub use console::ConsoleService;
mod csrf;
mod export;
mod flood;
mod form_posts;
mod guard;
mod headers;
mod health;
mod history_console;
mod insights_console;
mod lifecycle_console;
mod live;
mod people_console;
mod review_console;
mod session;
mod whole_page;

use crate::config::Config;
use crate::service::Service;
use app::services::{
    AgentConsole, Console, HistoryConsole, InsightsConsole, LifecycleConsole, PeopleConsole, ReviewConsole,
};
use axum::body::Body;
use axum::extract::{FromRef, Request, State};
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{middleware, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::path::Path;
use std::sync::Arc;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeader;

const CONSOLE_BODY_LIMIT: usize = 64 * 1024;
use tower_http::trace::TraceLayer;

pub use session::session_layer;

/// What every handler reads. Behind one `Arc`: axum clones the state for each request and each extractor,
/// and a clone of the parts is some thirty reference counts.
#[derive(Clone)]
pub struct AppState(Arc<StateParts>);

impl AppState {
    pub fn new(parts: StateParts) -> AppState {
        AppState(Arc::new(parts))
    }
}

impl std::ops::Deref for AppState {
    type Target = StateParts;

    fn deref(&self) -> &StateParts {
        &self.0
    }
}

pub struct StateParts {
    pub leptos: Arc<LeptosOptions>,
    pub service: Service,
    pub console: Arc<dyn Console>,
    pub agent_console: Arc<dyn AgentConsole>,
    pub review_console: Arc<dyn ReviewConsole>,
    pub lifecycle_console: Arc<dyn LifecycleConsole>,
    pub people_console: Arc<dyn PeopleConsole>,
    pub history_console: Arc<dyn HistoryConsole>,
    pub insights_console: Arc<dyn InsightsConsole>,
    pub config: Arc<Config>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        (*state.leptos).clone()
    }
}

pub fn leptos_options(config: &Config) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("countersign")
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(config.listen)
        .env(leptos::config::Env::PROD)
        .build()
}

/// The whole application. Pages and server functions sit behind sessions and the guard; static files and
/// health checks do not touch the session store.
pub fn router(state: AppState) -> Router {
    let context = contexts(&state);
    let routes = generate_route_list(app::App);
    let leptos = (*state.leptos).clone();
    let dynamic = Router::new()
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let leptos = leptos.clone();
            move || app::shell(leptos.clone())
        })
        .route("/api/{*function}", post(server_function).get(server_function))
        .merge(console_routes())
        .fallback(leptos_axum::render_app_to_stream_with_context(context, move || app::shell(leptos.clone())))
        .layer(middleware::from_fn(whole_page::render_whole))
        .layer(middleware::from_fn(form_posts::mark_done))
        .layer(middleware::from_fn(guard::guard_pages))
        .layer(middleware::from_fn_with_state(
            flood::Floods::new(state.config.trusted_proxies().unwrap_or_default()),
            flood::limit_attempts,
        ))
        // Server functions read whole bodies; nothing the console sends comes near this.
        .layer(RequestBodyLimitLayer::new(CONSOLE_BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), session::resolve_viewer))
        .layer(session_layer(&state.config, state.service.store.sessions()));
    let site = Path::new(&state.config.site_root);
    let https = state.config.secure_cookies();
    let router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .nest_service("/pkg", bundle(&site.join("pkg")))
        .route_service("/favicon.ico", ServeFile::new(site.join("favicon.ico")))
        .merge(crate::api::router(state.config.intake_body_limit))
        .merge(dynamic)
        .layer(middleware::from_fn_with_state(state.clone(), csrf::refuse_cross_origin));
    headers::secure(router, https).layer(TraceLayer::new_for_http()).with_state(state)
}

/// The console's routes besides pages and server functions: the live queue and the exports.
const CONSOLE_ROUTES: [&str; 3] = ["/queue/events", "/history/export", "/audit/export"];

fn console_routes() -> Router<AppState> {
    let [events, history, audit] = CONSOLE_ROUTES;
    Router::new()
        .route(events, get(live::queue_events))
        .route(history, get(export::history))
        .route(audit, get(export::audit))
}

/// The paths of [`console_routes`], for the authorization matrix test: a route added there without a rule
/// fails it.
pub fn console_route_paths() -> Vec<&'static str> {
    CONSOLE_ROUTES.to_vec()
}

/// The WebAssembly, script and styles: the brotli or gzip copy that `make build` writes beside each file
/// (`cargo leptos build --precompress`) when the browser takes it, the file itself otherwise. The bundle
/// is several times smaller compressed, and compressing it once at build time costs no request anything.
fn bundle(dir: &Path) -> SetResponseHeader<ServeDir, HeaderValue> {
    let files = ServeDir::new(dir).precompressed_br().precompressed_gzip();
    // Caches must keep the encodings apart.
    SetResponseHeader::overriding(files, header::VARY, HeaderValue::from_static("accept-encoding"))
}

/// What server functions and pages find in their context: the ports they call.
fn contexts(state: &AppState) -> impl Fn() + Clone + Send + Sync + 'static {
    let (console, agents, reviews) = (state.console.clone(), state.agent_console.clone(), state.review_console.clone());
    let (lifecycle, people) = (state.lifecycle_console.clone(), state.people_console.clone());
    let (history, insights) = (state.history_console.clone(), state.insights_console.clone());
    move || {
        provide_context(console.clone());
        provide_context(agents.clone());
        provide_context(reviews.clone());
        provide_context(lifecycle.clone());
        provide_context(people.clone());
        provide_context(history.clone());
        provide_context(insights.clone());
    }
}

async fn server_function(State(state): State<AppState>, request: Request<Body>) -> impl IntoResponse {
    leptos_axum::handle_server_fns_with_context(contexts(&state), request).await
}
