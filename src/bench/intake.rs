//! `countersign bench intake`: the intake API under concurrent load on a temporary SQLite file, next to
//! two references measured in the same run on the same kind of rows with the same durability
//! (`synchronous=FULL`): *naive*, one commit per row straight through the store, and *limit*, as many rows
//! as the intake API stored, in large batches, one commit each.

use super::server::verdict;
use crate::domain::audit::Actor;
use crate::domain::catalog::Catalog;
use crate::domain::clock::SystemClock;
use crate::domain::{ActionType, Role};
use crate::server;
use crate::service::{AgentDraft, AuthenticatedAgent, By, Service};
use crate::simulate::payloads::Generator;
use crate::simulate::Via;
use hdrhistogram::Histogram;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

const BODY_BYTES: usize = 4096;
const NAIVE_ROWS: usize = 2_000;
const LIMIT_BATCH: usize = 500;

/// A fresh database with one tenant, one owner and one agent allowed everything; returns the service on it,
/// the agent as authenticated, and its credential.
async fn prepare(path: &Path) -> anyhow::Result<(Service, AuthenticatedAgent, String)> {
    let config = crate::config::Config {
        database_url: format!("sqlite://{}", path.display()),
        ..crate::config::Config::default()
    };
    let store = server::open_store(&config).await?;
    let service = Service::start(store, Arc::new(SystemClock), Catalog::default()).await?;
    service.create_tenant(Actor::Cli, "bench", "Bench").await?;
    let password = format!("bench-{}", uuid::Uuid::now_v7());
    service.create_user(Actor::Cli, "owner@bench.test", "Owner", password, &[Role::Owner], &["bench".into()]).await?;
    let allow = ActionType::ALL
        .iter()
        .map(|a| if a.moves_money() { format!("{}:1000000.00EUR", a.as_str()) } else { a.as_str().to_string() })
        .collect();
    let draft = AgentDraft {
        tenant: "bench".into(),
        name: "bench-agent".into(),
        purpose: "Benchmark load".into(),
        owner_email: "owner@bench.test".into(),
        sponsor_email: None,
        allowances: allow,
        webhook_url: None,
    };
    let (agent, _) = service.create_agent(By::Operator, draft).await?;
    let (_, token) = service.issue_credential(By::Operator, agent.id, time::Duration::hours(2)).await?;
    let authenticated = service.authenticate_agent(&token).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((service, authenticated, token))
}

/// ~4 KB submissions with transcripts; keys are set per use.
fn payloads(n: usize) -> Vec<Value> {
    let mut generator = Generator::new(7, &[], None);
    (0..n).map(|_| generator.next_sized(OffsetDateTime::now_utc(), BODY_BYTES)).collect()
}

fn keyed(pool: &[Value], i: u64) -> Value {
    let mut body = pool[(i as usize) % pool.len()].clone();
    body["idempotency_key"] = Value::String(key(i));
    body
}

/// Fixed width, so a serialised body can take a new key by overwriting bytes in place.
pub(super) fn key(i: u64) -> String {
    format!("bench-{i:012}")
}

/// Bodies serialised once, with where their key sits: the load generator then costs a copy per request,
/// leaving the CPU to the server being measured.
pub(super) fn serialised(pool: &[Value]) -> Vec<(Vec<u8>, usize)> {
    pool.iter()
        .filter_map(|v| {
            let bytes = serde_json::to_vec(&{
                let mut v = v.clone();
                v["idempotency_key"] = Value::String(key(0));
                v
            })
            .ok()?;
            let at = bytes.windows(key(0).len()).position(|w| w == key(0).as_bytes())?;
            Some((bytes, at))
        })
        .collect()
}

/// Rows per second storing `n` submissions in commits of `batch`, timed over the commits. A task makes the
/// next batches ready meanwhile (on the other core, mostly), so that not every row is held in memory at once.
async fn store_rate(
    service: &Service,
    agent: &AuthenticatedAgent,
    pool: &Arc<Vec<Value>>,
    n: usize,
    batch: usize,
) -> anyhow::Result<f64> {
    let (ready, mut batches) = tokio::sync::mpsc::channel(4);
    let (maker, agent, pool) = (service.clone(), agent.clone(), pool.clone());
    let making = tokio::spawn(async move {
        for first in (0..n).step_by(batch) {
            let mut chunk = Vec::with_capacity(batch);
            for i in first..(first + batch).min(n) {
                let body = keyed(&pool, i as u64).to_string();
                chunk.push(maker.prepare_held_action(&agent, &body).await.map_err(|e| anyhow::anyhow!("{e}"))?);
            }
            if ready.send(chunk).await.is_err() {
                break;
            }
        }
        anyhow::Ok(())
    });
    let mut storing = Duration::ZERO;
    while let Some(chunk) = batches.recv().await {
        let started = Instant::now();
        service.store.submit(chunk, &[]).await?;
        storing += started.elapsed();
    }
    making.await??;
    Ok(n as f64 / storing.as_secs_f64())
}

pub(super) fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// The server's peak RSS until `deadline`, sampled every 100 ms.
pub(super) fn peak_rss(pid: u32, deadline: Instant) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let mut max = 0;
        while Instant::now() < deadline {
            max = max.max(rss_kib(pid).unwrap_or(0));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        max
    })
}

pub(super) struct Load {
    pub ok: u64,
    pub failed: u64,
    pub elapsed: Duration,
    pub latency_us: Histogram<u64>,
    pub max_rss_kib: u64,
}

async fn load(url: &str, token: &str, pid: u32, pool: &[Value], seconds: u64, clients: usize) -> anyhow::Result<Load> {
    let pool = Arc::new(serialised(pool));
    let client = reqwest::Client::builder().pool_max_idle_per_host(clients).build()?;
    let endpoint = format!("{url}/api/v1/held-actions");
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let sampler = peak_rss(pid, deadline);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, endpoint, token, next, pool) =
            (client.clone(), endpoint.clone(), token.to_string(), next.clone(), pool.clone());
        tasks.push(tokio::spawn(async move {
            let mut histogram = Histogram::<u64>::new(3).ok();
            let (mut ok, mut failed) = (0u64, 0u64);
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let (template, at) = &pool[(i as usize) % pool.len()];
                let mut body = template.clone();
                let k = key(i);
                body[*at..*at + k.len()].copy_from_slice(k.as_bytes());
                let sent = Instant::now();
                let response = client
                    .post(&endpoint)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                let micros = sent.elapsed().as_micros() as u64;
                match response {
                    Ok(r) if r.status().as_u16() == 201 => {
                        ok += 1;
                        if let Some(h) = histogram.as_mut() {
                            let _ = h.record(micros);
                        }
                    }
                    _ => failed += 1,
                }
            }
            (ok, failed, histogram)
        }));
    }
    let mut total = Load { ok: 0, failed: 0, elapsed: Duration::ZERO, latency_us: Histogram::new(3)?, max_rss_kib: 0 };
    for task in tasks {
        let (ok, failed, histogram) = task.await?;
        total.ok += ok;
        total.failed += failed;
        if let Some(h) = histogram {
            total.latency_us.add(h)?;
        }
    }
    total.elapsed = started.elapsed();
    total.max_rss_kib = sampler.await?;
    Ok(total)
}

pub async fn intake(seconds: u64, clients: usize, via: Via, nats_url: &str) -> anyhow::Result<()> {
    let dir: PathBuf = std::env::temp_dir().join(format!("countersign-bench-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir)?;
    let bus = super::intake_nats::Bus::new(nats_url);
    let result = run(&dir, seconds, clients, (via == Via::Nats).then_some(&bus)).await;
    if via == Via::Nats {
        bus.remove().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run(dir: &Path, seconds: u64, clients: usize, nats: Option<&super::intake_nats::Bus>) -> anyhow::Result<()> {
    println!(
        "bench intake: {clients} clients for {seconds}s, ~{BODY_BYTES}-byte held actions, SQLite WAL synchronous=FULL"
    );
    let pool = Arc::new(payloads(256));
    let db = dir.join("intake.db");
    let (_setup, _, token) = prepare(&db).await?;
    let super::server::Running { child: mut server, url, pid } =
        super::server::start(&format!("sqlite://{}", db.display())).await?;
    let idle_rss = rss_kib(pid).unwrap_or(0);
    let http = load(&url, &token, pid, &pool, seconds, clients).await?;
    server.kill().await.ok();

    let jetstream = match nats {
        None => None,
        Some(bus) => {
            let db = dir.join("nats.db");
            let (_setup, agent, token) = prepare(&db).await?;
            let mut running =
                super::server::start_with(&format!("sqlite://{}", db.display()), &bus.env(), None).await?;
            let l = super::intake_nats::load(bus, &token, agent.agent.id, running.pid, &pool, seconds, clients).await;
            running.child.kill().await.ok();
            Some(l?)
        }
    };

    let (naive_service, agent, _) = prepare(&dir.join("naive.db")).await?;
    let naive = store_rate(&naive_service, &agent, &pool, NAIVE_ROWS, 1).await?;
    // As many rows as the intake API stored: a table grows slower to write to, so fewer rows would flatter the limit.
    let limit_rows = (http.ok as usize).max(LIMIT_BATCH);
    let (limit_service, agent, _) = prepare(&dir.join("limit.db")).await?;
    let limit = store_rate(&limit_service, &agent, &pool, limit_rows, LIMIT_BATCH).await?;

    println!();
    let rate = report("intake API", "", &http, Some(idle_rss));
    let nats_rate = jetstream.as_ref().map(|l| report("JetStream", " (publish to accepted result)", l, None));
    println!(
        "naive reference {naive:>9.0} rows/s   (one commit per row, {NAIVE_ROWS} rows straight through the store)"
    );
    println!(
        "limit reference {limit:>9.0} rows/s   (commits of {LIMIT_BATCH}, {limit_rows} rows straight through the store, as many as the intake API stored)"
    );
    println!();
    let (p99, max) = (super::server::ms(&http.latency_us, 0.99), http.latency_us.max() as f64 / 1000.0);
    let rss_mb = http.max_rss_kib as f64 / 1024.0;
    println!("goal  intake >= 0.5 x limit : {:.2} x  {}", rate / limit, verdict(rate >= 0.5 * limit));
    println!("goal  intake >= 5 x naive   : {:.1} x  {}", rate / naive, verdict(rate >= 5.0 * naive));
    println!("goal  p99 <= 25 ms          : {p99:.1} ms  {}", verdict(p99 <= 25.0));
    println!("goal  max < 100 ms          : {max:.1} ms  {}", verdict(max < 100.0));
    println!("goal  RSS <= 100 MB         : {rss_mb:.1} MB  {}", verdict(rss_mb <= 100.0));
    if let Some(nats_rate) = nats_rate {
        println!("goal  JetStream >= HTTP     : {:.2} x  {}", nats_rate / rate, verdict(nats_rate >= rate));
    }
    Ok(())
}

/// Prints one run's lines; returns its rate.
fn report(name: &str, timed: &str, l: &Load, idle_rss_kib: Option<u64>) -> f64 {
    let rate = l.ok as f64 / l.elapsed.as_secs_f64();
    let (p50, p99) = (super::server::ms(&l.latency_us, 0.5), super::server::ms(&l.latency_us, 0.99));
    let max = l.latency_us.max() as f64 / 1000.0;
    let peak = l.max_rss_kib as f64 / 1024.0;
    println!("{name:<15} {rate:>9.0} held actions/s   ({} stored, {} failed)", l.ok, l.failed);
    println!("  latency{timed}  p50 {p50:.1} ms   p99 {p99:.1} ms   max {max:.1} ms");
    match idle_rss_kib {
        Some(idle) => println!("  server RSS    {:.1} MB idle, {peak:.1} MB peak under load", idle as f64 / 1024.0),
        None => println!("  server RSS    {peak:.1} MB peak under load"),
    }
    rate
}
