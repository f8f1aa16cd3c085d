//! A fresh database per test (a temp file, or a new PostgreSQL database dropped afterwards), the real
//! router served on a free port, a cookie-keeping client and a clock the test moves.

use countersign::config::Config;
use countersign::domain::audit::Actor;
use countersign::domain::clock::ManualClock;
use countersign::domain::Role;
use countersign::server;
use countersign::service::Service;
use countersign::store::Store;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery staple";

/// Runs each listed scenario once per store: `mod sqlite` always, `mod postgres` when configured.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::harness::Backend::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() {
                   match $crate::harness::Backend::postgres() {
                       Some(backend) => super::$name(backend).await,
                       None => eprintln!("COUNTERSIGN_TEST_POSTGRES_URL not set: PostgreSQL run skipped"),
                   }
               } )*
        }
    };
}

#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    pub fn postgres() -> Option<Backend> {
        std::env::var("COUNTERSIGN_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()).map(Backend::Postgres)
    }
}

/// A database made for one test.
pub struct TestDb {
    pub url: String,
    admin: Option<(String, String)>,
}

impl TestDb {
    pub async fn create(backend: &Backend) -> TestDb {
        let name = format!("countersign_test_{}", Uuid::now_v7().simple());
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                TestDb { url: format!("sqlite://{}", path.display()), admin: None }
            }
            Backend::Postgres(admin_url) => {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(admin_url).await.expect("connect to PostgreSQL");
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create database");
                let mut url = url::Url::parse(admin_url).expect("PostgreSQL URL");
                url.set_path(&name);
                TestDb { url: url.to_string(), admin: Some((admin_url.clone(), name)) }
            }
        }
    }

    /// Where this database's secret key lives, beside it (made on first use by the command line).
    pub fn key_file(&self) -> std::path::PathBuf {
        let name = self.url.rsplit(['/', '\\']).next().unwrap_or("db");
        std::env::temp_dir().join(format!("{name}.key"))
    }

    pub async fn drop(self) {
        let _ = std::fs::remove_file(self.key_file());
        match self.admin {
            Some((admin_url, name)) => {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
                }
            }
            None => {
                let path = self.url.trim_start_matches("sqlite://").to_string();
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{path}{suffix}"));
                }
            }
        }
    }

    /// Runs raw SQL against the database, bypassing the application: for tampering tests.
    pub async fn execute(&self, sql: &str) {
        self.try_execute(sql).await.expect("raw SQL");
    }

    pub async fn try_execute(&self, sql: &str) -> Result<(), sqlx::Error> {
        use sqlx::Connection;
        if self.admin.is_some() {
            let mut conn = sqlx::PgConnection::connect(&self.url).await?;
            sqlx::raw_sql(sql).execute(&mut conn).await?;
        } else {
            // SQLite's allocator is set before its first connection, whichever test opens it.
            countersign::store::install_sqlite_allocator();
            let mut conn = sqlx::SqliteConnection::connect(&self.url).await?;
            sqlx::raw_sql(sql).execute(&mut conn).await?;
        }
        Ok(())
    }
}

pub struct TestApp {
    pub base: String,
    pub clock: Arc<ManualClock>,
    pub service: Service,
    pub store: Arc<dyn Store>,
    pub db: TestDb,
    server: tokio::task::JoinHandle<()>,
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        // The tests' webhook receivers listen on loopback.
        Self::start_with(backend, Config { webhook_allow_private: true, ..Config::default() }).await
    }

    pub async fn start_with(backend: Backend, config: Config) -> TestApp {
        let db = TestDb::create(&backend).await;
        let config =
            Config { database_url: db.url.clone(), secret_key_file: db.key_file().display().to_string(), ..config };
        let store = server::open_store(&config).await.expect("open store");
        let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
        let state = server::state(config, store.clone(), clock.clone()).await.expect("state");
        let service = state.service.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        // As `serve` does: the connection's address is the client (`trusted_proxies` aside).
        let router = countersign::web::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        TestApp { base, clock, service, store, db, server }
    }

    pub async fn stop(self) {
        self.server.abort();
        let _ = self.server.await;
        drop(self.store);
        drop(self.service);
        self.db.drop().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A browser-like client: keeps cookies, does not follow redirects, sends same-origin fetch metadata.
    /// A browser on a machine of its own, `127.0.0.<host>`: per-client limits count it apart from others.
    pub fn browser_from(&self, host: u8) -> reqwest::Client {
        self.browser_builder()
            .local_address(std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, host)))
            .build()
            .expect("browser")
    }

    pub fn browser(&self) -> reqwest::Client {
        self.browser_builder().build().expect("browser")
    }

    fn browser_builder(&self) -> reqwest::ClientBuilder {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("sec-fetch-site", reqwest::header::HeaderValue::from_static("same-origin"));
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .timeout(Duration::from_secs(30))
    }

    pub async fn tenant(&self, slug: &str) -> Uuid {
        self.service.create_tenant(Actor::Cli, slug, &format!("Tenant {slug}")).await.expect("tenant").id
    }

    pub async fn person(&self, email: &str, roles: &[Role], tenants: &[&str]) -> Uuid {
        let tenants: Vec<String> = tenants.iter().map(|t| t.to_string()).collect();
        self.service
            .create_user(Actor::Cli, email, "Test Person", PASSWORD.into(), roles, &tenants)
            .await
            .expect("person")
    }

    /// An agent in `tenant` owned by `owner`, allowed `allow`, with a fresh 24-hour credential.
    pub async fn agent(&self, tenant: &str, owner: &str, allow: &[&str]) -> (Uuid, String) {
        let draft = countersign::service::AgentDraft {
            tenant: tenant.into(),
            name: format!("agent-{}", Uuid::now_v7().simple()),
            purpose: "Resolves support chats".into(),
            owner_email: owner.into(),
            sponsor_email: None,
            allowances: allow.iter().map(|a| a.to_string()).collect(),
            webhook_url: None,
        };
        let by = countersign::service::By::Operator;
        let (agent, _) = self.service.create_agent(by, draft).await.expect("agent");
        let (_, token) =
            self.service.issue_credential(by, agent.id, time::Duration::hours(24)).await.expect("credential");
        (agent.id, token)
    }

    /// Posts the sign-in form as the hydrated page does.
    pub async fn sign_in(&self, client: &reqwest::Client, email: &str, password: &str) -> reqwest::Response {
        client
            .post(self.url("/api/login"))
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .expect("sign-in request")
    }

    pub async fn call(&self, client: &reqwest::Client, function: &str, form: &[(&str, &str)]) -> reqwest::Response {
        client.post(self.url(&format!("/api/{function}"))).form(form).send().await.expect("server function call")
    }

    /// Kinds of every audit event, oldest first.
    pub async fn audit_kinds(&self) -> Vec<String> {
        self.store.audit_chain(0, 10_000).await.expect("audit").into_iter().map(|r| r.kind).collect()
    }
}

pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("countersign_session="))
        .map(str::to_string)
}

/// The `name=value` part of a Set-Cookie header, to replay by hand.
pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_string()
}
