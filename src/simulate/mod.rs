//! `countersign simulate`: realistic held actions submitted through the real API at a steady rate, posted
//! over HTTP or published to JetStream.

mod nats;
pub mod payloads;

use anyhow::Context;
use payloads::Generator;
use std::collections::BTreeMap;
use std::time::Duration;
use time::OffsetDateTime;

/// How held actions arrive: posted over HTTP, or published to NATS JetStream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Via {
    Http,
    Nats,
}

/// Where submissions go.
#[derive(Debug, Clone)]
pub enum Target {
    /// `POST {url}/api/v1/held-actions`.
    Http(String),
    /// Published on `{subject_prefix}.held.simulate`; each result is read back from `{subject_prefix}.intake.>`.
    /// With an agent (tenant slug, id), as that agent's gateway: on `…held.<tenant>.<id>`, reading its results only.
    Nats { url: String, subject_prefix: String, agent: Option<(String, uuid::Uuid)> },
}

pub struct Options {
    pub target: Target,
    pub credential: String,
    pub rate: f64,
    pub count: Option<u64>,
    pub seed: u64,
}

/// Submits until `count` is reached (or forever), printing one line per submission.
pub async fn run(options: Options) -> anyhow::Result<BTreeMap<u16, u64>> {
    submit(options, true).await
}

/// As [`run`], without printing: for the demo's background stream.
pub async fn run_quietly(options: Options) -> anyhow::Result<BTreeMap<u16, u64>> {
    submit(options, false).await
}

async fn submit(options: Options, print: bool) -> anyhow::Result<BTreeMap<u16, u64>> {
    if !(options.rate > 0.0 && options.rate <= 10_000.0) {
        anyhow::bail!("--rate must be between 0 and 10000 per second");
    }
    match options.target.clone() {
        Target::Http(url) => post(&url, options, print).await,
        Target::Nats { url, subject_prefix, agent } => {
            nats::publish(&url, &subject_prefix, agent.as_ref(), options, print).await
        }
    }
}

async fn post(url: &str, options: Options, print: bool) -> anyhow::Result<BTreeMap<u16, u64>> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let endpoint = format!("{}/api/v1/held-actions", url.trim_end_matches('/'));
    let mut generator = Generator::new(options.seed, &[], Some("500.00"));
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / options.rate));
    let mut tally = BTreeMap::new();
    let mut sent = 0u64;
    while options.count.is_none_or(|n| sent < n) {
        tick.tick().await;
        let body = generator.next(OffsetDateTime::now_utc());
        let response = client
            .post(&endpoint)
            .bearer_auth(&options.credential)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("cannot reach {endpoint}"))?;
        let status = response.status().as_u16();
        let answer: serde_json::Value = response.json().await.unwrap_or_default();
        if print {
            println!("{status} {:<22} {}", kind(&body), detail(&answer));
        }
        *tally.entry(status).or_insert(0) += 1;
        sent += 1;
        if status == 401 {
            anyhow::bail!("the credential was refused (401): mint a new one");
        }
    }
    Ok(tally)
}

fn kind(body: &serde_json::Value) -> &str {
    body["action"]["type"].as_str().unwrap_or("?")
}

/// The held action's id, or the problem's detail.
fn detail(answer: &serde_json::Value) -> &str {
    answer["id"].as_str().or(answer["detail"].as_str()).unwrap_or("")
}
