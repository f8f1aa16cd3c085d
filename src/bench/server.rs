//! The server under test, as its own process (so its memory and CPU are its own), on a free port.

use anyhow::{bail, Context};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct Running {
    pub child: Child,
    pub url: String,
    pub pid: u32,
}

/// Starts `countersign serve` on `database_url` and waits until it listens.
pub async fn start(database_url: &str) -> anyhow::Result<Running> {
    start_with(database_url, &[], None).await
}

/// As [`start`], with more configuration: `COUNTERSIGN_*` variables, and the configuration file a named
/// database's other commands read (its previous secret keys, say).
pub async fn start_with(
    database_url: &str,
    env: &[(&str, String)],
    config_file: Option<&std::path::Path>,
) -> anyhow::Result<Running> {
    let mut command = Command::new(std::env::current_exe()?);
    if let Some(file) = config_file {
        command.arg("--config").arg(file);
    }
    let mut child = command
        .arg("serve")
        // A database made for the run gets a key of its own; a named one comes with the key that sealed it.
        .env("COUNTERSIGN_SECRET_KEY", crate::domain::sealing::SecretKey::generate().encode())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("COUNTERSIGN_DATABASE_URL", database_url)
        .env("COUNTERSIGN_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "error")
        // Capacity is measured with one agent at full speed: its own limits would only measure themselves.
        .env("COUNTERSIGN_INTAKE_RATE_PER_AGENT", "0")
        .env("COUNTERSIGN_INTAKE_CONCURRENCY_PER_AGENT", "0")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the server")?;
    let pid = child.id().context("the server has no pid")?;
    let mut lines = BufReader::new(child.stdout.take().context("no server output")?).lines();
    let url = loop {
        match lines.next_line().await? {
            Some(line) => {
                if let Some(url) = line.split("listening on ").nth(1) {
                    break url.trim().to_string();
                }
            }
            None => bail!("the server exited before listening"),
        }
    };
    // Keep draining its output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Running { child, url, pid })
}

/// A browser-like client signed in as the demo person `who` (an index into `demo::PEOPLE`).
pub async fn signed_in(base: &str, who: usize) -> anyhow::Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("sec-fetch-site", reqwest::header::HeaderValue::from_static("same-origin"));
    let browser = reqwest::Client::builder().cookie_store(true).default_headers(headers).build()?;
    let (email, _, _, password) = crate::demo::PEOPLE[who];
    let answer =
        browser.post(format!("{base}/api/login")).form(&[("email", email), ("password", password)]).send().await?;
    if !answer.status().is_success() {
        bail!("{email} could not sign in: {}", answer.status());
    }
    Ok(browser)
}

/// The floor of a round trip: `n` requests to `/healthz`, in microseconds.
pub async fn floor(browser: &reqwest::Client, base: &str, n: usize) -> anyhow::Result<hdrhistogram::Histogram<u64>> {
    let mut floor = hdrhistogram::Histogram::<u64>::new(3)?;
    for _ in 0..n {
        let t = std::time::Instant::now();
        browser.get(format!("{base}/healthz")).send().await?.bytes().await?;
        floor.record(t.elapsed().as_micros() as u64)?;
    }
    Ok(floor)
}

/// The `q` quantile of a histogram of microseconds, in milliseconds.
pub fn ms(h: &hdrhistogram::Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

/// One measurement's line: p50, p95, p99 and max.
pub fn line(name: &str, h: &hdrhistogram::Histogram<u64>) {
    println!(
        "{name:<34} p50 {:>6.2} ms   p95 {:>6.2} ms   p99 {:>6.2} ms   max {:>7.2} ms   (n={})",
        ms(h, 0.5),
        ms(h, 0.95),
        ms(h, 0.99),
        h.max() as f64 / 1000.0,
        h.len()
    );
}

/// How a goal fared, in the word the benchmarks print.
pub fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

/// The keys that seal a bench database's secrets — for a database named on the command line, those of
/// `countersign seed`, found as every command finds them (`config_file`, then `COUNTERSIGN_*` variables); a
/// fresh one for a database made for the run — and the variable that hands the server under test the same
/// key, so that what the bench sealed the server opens.
pub fn keys(
    named_database: bool,
    config_file: &std::path::Path,
) -> anyhow::Result<(crate::domain::sealing::Keyring, (&'static str, String))> {
    let config = if named_database {
        crate::config::Config::load(config_file).map_err(|e| anyhow::anyhow!("configuration: {e}"))?
    } else {
        let fresh = crate::domain::sealing::SecretKey::generate().encode();
        crate::config::Config { secret_key: Some(fresh), ..crate::config::Config::default() }
    };
    let keys = crate::server::keyring(&config)?;
    let variable = ("COUNTERSIGN_SECRET_KEY", keys.current().encode());
    Ok((keys, variable))
}
