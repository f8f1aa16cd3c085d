//! The composition root: open the store, run migrations, wire services into the router, serve.

use crate::broker::outcomes::OutcomePublisher;
use crate::broker::Broker;
use crate::config::Config;
use crate::domain::clock::{Clock, SystemClock};
use crate::domain::egress::Egress;
use crate::domain::sealing::{Keyring, SecretKey};
use crate::service::Service;
use crate::store::{self, Store};
use crate::web::{self, AppState};
use anyhow::Context;
use axum::serve::ListenerExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_sessions::session_store::ExpiredDeletion;

/// Opens the configured store and brings its schema up to date; a failed migration stops here with the reason.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let store = store::open(&config.database_url, &config.sqlite_synchronous)
        .await
        .with_context(|| format!("cannot open the database {}", config.database_url_redacted()))?;
    store.migrate().await.context("cannot apply database migrations")?;
    store.sessions().migrate().await.context("cannot create the session table")?;
    Ok(store)
}

/// The service on `store` with the configuration's policies: lifecycle, intake limits, webhook egress and
/// the keys that seal stored secrets.
pub async fn service(config: &Config, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> anyhow::Result<Service> {
    let mut service = Service::start(store, clock, config.catalog().context("action_tiers")?).await?;
    service.lifecycle = config.lifecycle()?;
    config.trusted_proxies()?;
    service.intake_limits = crate::service::intake_limits::IntakeLimits::new(config.intake_limits());
    service.outbox.set_egress(Egress { allow_private: config.webhook_allow_private })?;
    service.workload_token_max_lifetime =
        config.workload_token_max_lifetime().context("workload_token_max_lifetime")?;
    service.set_secrets(keyring(config)?);
    service.publishes_outcomes = config.nats_url.is_some();
    Ok(service)
}

/// The keys from `secret_key` (and `secret_key_previous`), else from `secret_key_file`, which is made if it
/// does not exist (its path is printed, never the key).
pub fn keyring(config: &Config) -> anyhow::Result<Keyring> {
    let parse = |text: &str, key: &str| SecretKey::parse(text).with_context(|| key.to_string());
    let previous: anyhow::Result<Vec<_>> =
        config.secret_key_previous.iter().map(|k| parse(k, "secret_key_previous")).collect();
    let current = match &config.secret_key {
        Some(text) => parse(text, "secret_key")?,
        None => key_file(Path::new(&config.secret_key_file))?,
    };
    Ok(Keyring::new(current, previous?))
}

fn key_file(path: &Path) -> anyhow::Result<SecretKey> {
    let named = || format!("secret_key_file {}", path.display());
    match std::fs::read_to_string(path) {
        Ok(text) => SecretKey::parse(&text).with_context(named),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SecretKey::generate();
            let mut file = std::fs::OpenOptions::new();
            file.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
            let mut file = file.open(path).with_context(named)?;
            std::io::Write::write_all(&mut file, format!("{}\n", key.encode()).as_bytes()).with_context(named)?;
            file.sync_all().with_context(named)?;
            // A log line, never standard output: a command's output may be its data (an export).
            tracing::warn!(
                key = key.id(),
                file = %path.display(),
                "a new secret key was made: it seals the stored webhook secrets and receipt key; keep it safe and \
                 apart from the database's backups, without it they cannot be opened"
            );
            Ok(key)
        }
        Err(e) => Err(e).with_context(named),
    }
}

pub async fn state(config: Config, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    let service = service(&config, store, clock).await?;
    Ok(AppState::new(crate::web::StateParts {
        leptos: Arc::new(web::leptos_options(&config)),
        console: Arc::new(web::ConsoleService(service.clone())),
        agent_console: Arc::new(web::ConsoleService(service.clone())),
        review_console: Arc::new(web::ConsoleService(service.clone())),
        lifecycle_console: Arc::new(web::ConsoleService(service.clone())),
        people_console: Arc::new(web::ConsoleService(service.clone())),
        history_console: Arc::new(web::ConsoleService(service.clone())),
        insights_console: Arc::new(web::ConsoleService(service.clone())),
        service,
        config: Arc::new(config),
    }))
}

/// Serves until interrupted; `on_listening` runs once the address is bound (the demo's stream starts there).
pub async fn serve(
    config: Config,
    store: Arc<dyn Store>,
    on_listening: impl FnOnce(std::net::SocketAddr) + Send,
) -> anyhow::Result<()> {
    let listen = config.listen;
    let sessions = store.sessions();
    let state = state(config, store, Arc::new(SystemClock)).await?;
    state.service.spawn_workers();
    state.service.tasks.every("session cleanup", Duration::from_secs(300), move || {
        let sessions = sessions.clone();
        async move { sessions.delete_expired().await.map(|()| vec![]).map_err(|e| e.to_string()) }
    });
    if let Some(url) = &state.config.nats_url {
        let c = &state.config;
        let broker =
            Broker::connect(url, c.nats_credentials.as_deref(), &c.nats_stream, &c.nats_subject_prefix).await?;
        let broker = broker.allowing_long_lived_credentials(c.nats_allow_long_lived_credentials);
        spawn_broker(&state.service, broker, state.config.intake_body_limit);
    }
    let service = state.service.clone();
    let app = web::router(state);
    let listener = TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    // With port 0 the system picks one; say which, so scripts (and the browser tests) can find it.
    let listen = listener.local_addr().context("cannot read the listening address")?;
    // Without TCP_NODELAY, keep-alive responses wait ~40 ms on delayed ACKs.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    on_listening(listen);
    tracing::info!(%listen, "serving");
    println!("Countersign is listening on http://{listen}");
    // Client addresses key the limits on password attempts (`web::flood`).
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown()).await.context("server failed");
    // Refusals noted since the last flush are written before the process ends.
    if let Err(e) = service.flush_refusals().await {
        tracing::error!(error = %e, "refusals noted at shutdown could not be audited");
    }
    served
}

/// Consumes held actions from JetStream and publishes outcomes there, beside HTTP.
pub fn spawn_broker(service: &Service, broker: Broker, body_limit: usize) {
    crate::broker::intake::spawn(service.clone(), broker.clone(), body_limit);
    let publisher = OutcomePublisher { store: service.store.clone(), clock: service.clock.clone(), broker };
    service.tasks.every("nats outcomes", Duration::from_millis(250), move || {
        let publisher = publisher.clone();
        async move { publisher.publish_due().await.map(|(_, skipped)| skipped).map_err(|e| e.to_string()) }
    });
}

async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
}
