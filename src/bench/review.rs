//! `countersign bench review`: the reviewer's paths on a seeded database (100k pending, 1M decided by
//! default), against the server in its own process over real HTTP:
//! queue pages and case views (round trips, an upper bound on server time), the time from a submission
//! to its event in an open queue's stream, and from a decision to the agent's long-poll answer.
//! The baselines, measured in the same run: `/healthz` (the floor of a round trip) and a submission.

use super::server::{self, line, ms, verdict};
use crate::config::Config;
use crate::demo;
use crate::domain::clock::SystemClock;
use crate::service::{By, Service};
use crate::store::QueueQuery;
use anyhow::{bail, Context};
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use uuid::Uuid;

pub struct Options {
    pub pending: u64,
    pub decided: u64,
    /// The configuration file, read for a named database's secret key.
    pub config_file: std::path::PathBuf,
    /// Reuse (and seed if short of rows) this database instead of a temporary SQLite file.
    pub database_url: Option<String>,
    pub samples: usize,
}

fn refund(key: &str, customer: &str) -> Value {
    json!({
        "idempotency_key": key,
        "action": { "type": "refund", "parameters": { "order_id": "A-1009" }, "amount": { "value": "129.90", "currency": "EUR" } },
        "intent": "Customer was charged twice; refund the duplicate charge.",
        "case": { "id": "CS-1", "customer": { "id": customer } },
        "transcript": [],
        "policy": { "rule_id": "refund-over-100", "reason": "Refunds above 100 EUR need a human" }
    })
}

fn filter(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    ["tenant", "action", "tier", "agent", "after"]
        .iter()
        .map(|k| {
            let v = fields.iter().find(|(f, _)| f == k).map_or("", |(_, v)| v);
            (format!("filter[{k}]"), v.to_string())
        })
        .collect()
}

pub async fn review(options: Options) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("countersign-bench-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir)?;
    let url = options.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", dir.join("review.db").display()));
    let result = run(&options, &url).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run(options: &Options, database_url: &str) -> anyhow::Result<()> {
    let config = Config { database_url: database_url.into(), ..Config::default() };
    let store = crate::server::open_store(&config).await?;
    println!("bench review on {} ({})", config.database_url_redacted(), store.backend());
    let named = options.database_url.is_some();
    let (keys, key_variable) = server::keys(named, &options.config_file)?;
    let mut service = Service::start(store.clone(), Arc::new(SystemClock), Default::default()).await?;
    service.set_secrets(keys);
    let fleet = crate::seed::fleet(&service).await?;
    let tenants: Vec<Uuid> = store.tenants().await?.iter().map(|t| t.id).collect();
    let all = QueueQuery { tenants: tenants.clone(), ..Default::default() };
    let have: i64 = store.tier_counts(&all).await?.iter().map(|(_, n)| n).sum();
    if (have as u64) < options.pending {
        println!("seeding {} pending and {} decided held actions…", options.pending, options.decided);
        let took = crate::seed::seed(&service, options.pending - have as u64, options.decided).await?;
        println!("seeded in {:.1} s", took.as_secs_f64());
    } else {
        println!("using the {have} pending held actions already there");
    }
    let agent = &fleet[0];
    let (_, token) = service.issue_credential(By::Operator, agent.id, time::Duration::hours(2)).await?;
    // Ids to open: pending ones from the queue, decided ones from their customers' history.
    let pending = store.queue(&QueueQuery { limit: 200, ..all.clone() }).await?;
    let mut cases: Vec<Uuid> = pending.iter().map(|a| a.id).collect();
    for a in pending.iter().take(20) {
        cases.extend(store.related(a.tenant_id, &a.customer_id, a.agent_id, 10).await?.iter().map(|r| r.id));
    }
    drop(service);
    drop(store);

    let srv = server::start_with(database_url, &[key_variable], named.then_some(options.config_file.as_path())).await?;
    let base = srv.url.clone();
    let browser = server::signed_in(&base, 1).await?;
    let n = options.samples;
    // The floor: a round trip that does nothing.
    let floor = server::floor(&browser, &base, n).await?;

    // Queue pages under each filter, and deeper pages through the keyset cursor.
    let agent_id = agent.id.to_string();
    let first: Value = browser.post(format!("{base}/api/queue/page")).form(&filter(&[])).send().await?.json().await?;
    let cursor = first["next"].as_str().unwrap_or_default().to_string();
    let filters = [
        filter(&[]),
        filter(&[("tier", "critical")]),
        filter(&[("action", "refund")]),
        filter(&[("agent", &agent_id)]),
        filter(&[("tenant", demo::TENANTS[0].0)]),
        filter(&[("after", &cursor)]),
    ];
    let mut queue = Histogram::<u64>::new(3)?;
    for i in 0..n {
        let t = Instant::now();
        let r = browser.post(format!("{base}/api/queue/page")).form(&filters[i % filters.len()]).send().await?;
        if !r.status().is_success() {
            bail!("queue page failed: {}", r.status());
        }
        r.bytes().await?;
        queue.record(t.elapsed().as_micros() as u64)?;
    }

    let mut case = Histogram::<u64>::new(3)?;
    for i in 0..n {
        let id = cases[i % cases.len()].to_string();
        let t = Instant::now();
        let r = browser.post(format!("{base}/api/queue/case")).form(&[("id", id)]).send().await?;
        if !r.status().is_success() {
            bail!("case view failed: {}", r.status());
        }
        r.bytes().await?;
        case.record(t.elapsed().as_micros() as u64)?;
    }

    let (submit, arrival) = arrivals(&browser, &base, &token, n.min(200)).await?;
    let decision = decisions(&browser, &base, &token, n.min(200)).await?;
    drop(srv);

    println!();
    line("baseline: /healthz", &floor);
    line("baseline: submission", &submit);
    line("queue page (50 rows)", &queue);
    line("case view", &case);
    line("arrival in open queue (SSE)", &arrival);
    line("decision to agent long-poll", &decision);
    println!();
    println!("goal  queue page p99 <= 20 ms     : {:.2} ms  {}", ms(&queue, 0.99), verdict(ms(&queue, 0.99) <= 20.0));
    println!("goal  case view p99 <= 20 ms      : {:.2} ms  {}", ms(&case, 0.99), verdict(ms(&case, 0.99) <= 20.0));
    println!(
        "goal  SSE arrival p95 <= 300 ms   : {:.2} ms  {}",
        ms(&arrival, 0.95),
        verdict(ms(&arrival, 0.95) <= 300.0)
    );
    println!(
        "goal  decision->agent p95 <= 100 ms: {:.2} ms  {}",
        ms(&decision, 0.95),
        verdict(ms(&decision, 0.95) <= 100.0)
    );
    Ok(())
}

/// Submits `n` held actions while a queue's event stream is open; returns the submission round trips and
/// the times from sending each to its `arrived` event.
async fn arrivals(
    browser: &reqwest::Client,
    base: &str,
    token: &str,
    n: usize,
) -> anyhow::Result<(Histogram<u64>, Histogram<u64>)> {
    let mut stream = browser.get(format!("{base}/queue/events")).send().await?;
    if !stream.status().is_success() {
        bail!("the event stream refused: {}", stream.status());
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<(Uuid, Instant)>();
    let reader = tokio::spawn(async move {
        let mut buffer = String::new();
        while let Ok(Some(chunk)) = stream.chunk().await {
            let at = Instant::now();
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                if event.contains("event: arrived") {
                    if let Some(id) = event
                        .lines()
                        .find_map(|l| l.strip_prefix("data: "))
                        .and_then(|d| Uuid::parse_str(d.trim()).ok())
                    {
                        let _ = tx.send((id, at));
                    }
                }
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let agent = reqwest::Client::new();
    let (mut submit, mut arrival) = (Histogram::<u64>::new(3)?, Histogram::<u64>::new(3)?);
    let mut seen = std::collections::HashMap::new();
    for i in 0..n {
        let sent = Instant::now();
        let body = refund(&format!("bench-sse-{}-{i}", Uuid::now_v7().simple()), "cus_bench_sse");
        let r: Value = agent
            .post(format!("{base}/api/v1/held-actions"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await?
            .json()
            .await?;
        submit.record(sent.elapsed().as_micros() as u64)?;
        let id = Uuid::parse_str(r["id"].as_str().context("no id")?)?;
        let deadline = Instant::now() + Duration::from_secs(5);
        let at = loop {
            if let Some(at) = seen.remove(&id) {
                break at;
            }
            match tokio::time::timeout_at(deadline.into(), rx.recv()).await {
                Ok(Some((got, at))) => {
                    seen.insert(got, at);
                }
                _ => bail!("no event for {id} within 5 s"),
            }
        };
        arrival.record(at.saturating_duration_since(sent).as_micros() as u64)?;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    reader.abort();
    Ok((submit, arrival))
}

/// For each of `n` new held actions: the agent long-polls, a supervisor approves, and we time from
/// sending the decision to the agent holding the answer.
async fn decisions(browser: &reqwest::Client, base: &str, token: &str, n: usize) -> anyhow::Result<Histogram<u64>> {
    let agent = reqwest::Client::new();
    let mut h = Histogram::<u64>::new(3)?;
    for i in 0..n {
        let body = refund(&format!("bench-decide-{}-{i}", Uuid::now_v7().simple()), "cus_bench_decide");
        let r: Value = agent
            .post(format!("{base}/api/v1/held-actions"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await?
            .json()
            .await?;
        let id = r["id"].as_str().context("no id")?.to_string();
        let poll = {
            let (agent, url, token) =
                (agent.clone(), format!("{base}/api/v1/held-actions/{id}?wait=30"), token.to_string());
            tokio::spawn(async move { agent.get(url).bearer_auth(token).send().await?.json::<Value>().await })
        };
        tokio::time::sleep(Duration::from_millis(30)).await;
        let sent = Instant::now();
        let form = [
            ("id", id.as_str()),
            ("form[verdict]", "approve"),
            ("form[amount]", ""),
            ("form[preset]", ""),
            ("form[reason]", ""),
        ];
        let decided = browser.post(format!("{base}/api/queue/decide")).form(&form).send().await?;
        if !decided.status().is_success() {
            bail!("decision failed: {} {}", decided.status(), decided.text().await.unwrap_or_default());
        }
        let answer = poll.await??;
        h.record(sent.elapsed().as_micros() as u64)?;
        if answer["status"] != "approved" {
            bail!("the agent saw {} instead of approved", answer["status"]);
        }
    }
    Ok(h)
}
