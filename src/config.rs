//! Configuration: built-in defaults, then an optional `countersign.toml`, then `COUNTERSIGN_*` variables.

use crate::domain::catalog::Catalog;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// `sqlite://PATH` (created if missing) or `postgres://...`.
    pub database_url: String,
    pub listen: SocketAddr,
    /// Where browsers reach the console, e.g. `https://countersign.example.com`. An `https` URL makes the
    /// session cookie `Secure`, and its origin is accepted for state-changing requests.
    pub public_url: Option<String>,
    #[serde(with = "humantime_serde")]
    pub session_idle_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub session_absolute_timeout: Duration,
    /// The built site (WASM, CSS, static files), relative to the working directory.
    pub site_root: String,
    /// Risk tier per action type where it differs from the catalog's default, e.g. `refund = "critical"`.
    pub action_tiers: BTreeMap<String, String>,
    /// Largest held-action submission accepted, in bytes.
    pub intake_body_limit: usize,
    /// SQLite durability: `full` (default: an acknowledged write survives a power cut) or `normal`
    /// (survives a crash of the process, may lose the last commits on power loss).
    pub sqlite_synchronous: String,
    /// An agent's access review is due this long after registration or its last review.
    #[serde(with = "humantime_serde")]
    pub access_review_interval: Duration,
    /// Overdue by this long, the agent is suspended ("access review overdue").
    #[serde(with = "humantime_serde")]
    pub access_review_grace: Duration,
    /// Orphaned (its owner disabled, no longer an owner, or gone from the tenant) this long, it is suspended.
    #[serde(with = "humantime_serde")]
    pub orphan_grace: Duration,
    /// Let webhooks reach loopback, private and link-local addresses, and plain `http://`. Off: an agent's
    /// webhook URL cannot aim the server inside its network. On for the demo and tests only.
    pub webhook_allow_private: bool,
    /// The longest lifetime a workload-identity token may have (`exp` − `iat`, or `exp` − now without
    /// `iat`); a longer-lived one is refused, so a leaked token is not good for years.
    #[serde(with = "humantime_serde")]
    pub workload_token_max_lifetime: Duration,
    /// Proxies (CIDRs, e.g. `10.0.0.0/8`) whose `X-Forwarded-For` names the client: from a peer in this list
    /// the right-most address not itself listed is the client. Empty: the connection's address is the client.
    pub trusted_proxies: Vec<String>,
    /// Submissions one agent may make per second, sustained (`0`: no limit). Over it: 429 with `Retry-After`.
    pub intake_rate_per_agent: u32,
    /// Submissions one agent may make at once above its sustained rate.
    pub intake_burst_per_agent: u32,
    /// Requests (submissions and long-polls) one agent may have in flight at once (`0`: no limit).
    pub intake_concurrency_per_agent: u32,
    /// The key (32 bytes, base64url) that seals stored secrets; best from the environment
    /// (`COUNTERSIGN_SECRET_KEY`). Unset: read from `secret_key_file`.
    pub secret_key: Option<String>,
    /// Where the secret key is kept when `secret_key` is not set; made (mode 0600) if missing.
    pub secret_key_file: String,
    /// A key being rotated away from: it still opens what it sealed, never seals.
    pub secret_key_previous: Option<String>,
    /// NATS with JetStream, e.g. `nats://127.0.0.1:4222`: held actions are also consumed from it and every
    /// outcome is published there. Unset: HTTP only.
    pub nats_url: Option<String>,
    /// A NATS `.creds` file (JWT and NKey seed) for `nats_url`.
    pub nats_credentials: Option<String>,
    /// The stream held actions are published to (subjects `<nats_subject_prefix>.held.>`); made if missing.
    pub nats_stream: String,
    /// The first token of every subject Countersign uses, and (upper-cased) of its result and outcome
    /// streams' names: `countersign` gives `countersign.held.>`, `COUNTERSIGN_INTAKE`, `COUNTERSIGN_OUTCOMES`.
    pub nats_subject_prefix: String,
    /// Take held-action messages carrying owner-minted long-lived (`csa_`) credentials. Off: a message must carry
    /// a workload-identity token or a case credential, so a copy of the stream (a mirror, a backup) holds no
    /// credential that outlives the case; the others are refused (403) on `…intake.rejected.<agent id>`.
    pub nats_allow_long_lived_credentials: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://countersign.db".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            public_url: None,
            session_idle_timeout: Duration::from_secs(30 * 60),
            session_absolute_timeout: Duration::from_secs(12 * 60 * 60),
            site_root: "target/site".into(),
            action_tiers: BTreeMap::new(),
            intake_body_limit: 1024 * 1024,
            sqlite_synchronous: "full".into(),
            access_review_interval: Duration::from_secs(90 * 24 * 3600),
            access_review_grace: Duration::from_secs(14 * 24 * 3600),
            orphan_grace: Duration::from_secs(72 * 3600),
            webhook_allow_private: false,
            workload_token_max_lifetime: Duration::from_secs(3600),
            trusted_proxies: Vec::new(),
            intake_rate_per_agent: 50,
            intake_burst_per_agent: 200,
            intake_concurrency_per_agent: 64,
            secret_key: None,
            secret_key_file: "countersign.key".into(),
            secret_key_previous: None,
            nats_url: None,
            nats_credentials: None,
            nats_stream: "COUNTERSIGN_HELD".into(),
            nats_subject_prefix: "countersign".into(),
            nats_allow_long_lived_credentials: false,
        }
    }
}

impl Config {
    pub fn load(file: &Path) -> Result<Config, Box<figment::Error>> {
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("COUNTERSIGN_"))
            .extract()
            .map_err(Box::new)
    }

    pub fn catalog(&self) -> Result<Catalog, crate::domain::Invalid> {
        Catalog::with_overrides(&self.action_tiers)
    }

    pub fn lifecycle(&self) -> Result<crate::domain::lifecycle::Policy, crate::domain::Invalid> {
        let span = |d: Duration, key: &str| {
            time::Duration::try_from(d)
                .ok()
                .filter(|d| *d >= time::Duration::minutes(1))
                .ok_or_else(|| crate::domain::Invalid::new(format!("{key} must be at least a minute")))
        };
        Ok(crate::domain::lifecycle::Policy {
            review_interval: span(self.access_review_interval, "access_review_interval")?,
            review_grace: span(self.access_review_grace, "access_review_grace")?,
            orphan_grace: span(self.orphan_grace, "orphan_grace")?,
        })
    }

    pub fn workload_token_max_lifetime(&self) -> Result<time::Duration, crate::domain::Invalid> {
        time::Duration::try_from(self.workload_token_max_lifetime)
            .ok()
            .filter(|d| *d >= time::Duration::minutes(1) && *d <= time::Duration::days(1))
            .ok_or_else(|| crate::domain::Invalid::new("workload_token_max_lifetime must be between 1m and 24h"))
    }

    pub fn intake_limits(&self) -> crate::service::intake_limits::Limits {
        crate::service::intake_limits::Limits {
            per_second: self.intake_rate_per_agent,
            burst: self.intake_burst_per_agent,
            in_flight: self.intake_concurrency_per_agent,
        }
    }

    /// The parsed `trusted_proxies`, or the first entry that is not an address block.
    pub fn trusted_proxies(&self) -> Result<Vec<crate::domain::client::Cidr>, crate::domain::Invalid> {
        crate::domain::client::trusted(&self.trusted_proxies)
            .map_err(|e| crate::domain::Invalid::new(format!("trusted_proxies: {e}")))
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }

    /// The database URL with any password replaced, for logs and start-up messages.
    pub fn database_url_redacted(&self) -> String {
        match url::Url::parse(&self.database_url) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("********"));
                url.to_string()
            }
            _ => self.database_url.clone(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's own signature
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_redacted_url() {
        let config = Config { database_url: "postgres://cs:s3cret@db:5432/countersign".into(), ..Config::default() };
        let shown = config.database_url_redacted();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("cs:********@db"), "{shown}");
    }

    #[test]
    fn environment_overrides_file_and_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("countersign.toml", "listen = \"127.0.0.1:4000\"\nsession_idle_timeout = \"5m\"")?;
            jail.set_env("COUNTERSIGN_LISTEN", "127.0.0.1:5000");
            let config = Config::load(Path::new("countersign.toml")).map_err(|e| *e)?;
            assert_eq!(config.listen.port(), 5000);
            assert_eq!(config.session_idle_timeout, Duration::from_secs(300));
            assert_eq!(config.database_url, "sqlite://countersign.db");
            Ok(())
        });
    }

    #[test]
    fn a_bad_value_names_its_key() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("COUNTERSIGN_LISTEN", "not-an-address");
            let err = Config::load(Path::new("absent.toml")).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("LISTEN") && err.contains("COUNTERSIGN_"), "{err}");
            Ok(())
        });
    }
}
