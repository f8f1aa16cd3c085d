//! The JetStream half of `countersign bench intake --via nats`: held actions published to the server's
//! stream with a fixed number in flight (as many as the HTTP run's clients), each timed from its publish
//! to its `intake.accepted` result, which the server publishes after the commit.

use super::intake::{key, peak_rss, serialised, Load};
use anyhow::Context;
use async_nats::jetstream;
use hdrhistogram::Histogram;
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio_stream::StreamExt;
use uuid::Uuid;

/// Subjects and streams of one run, so it neither sees nor leaves anything on a shared NATS server.
pub struct Bus {
    pub url: String,
    pub prefix: String,
    pub stream: String,
}

impl Bus {
    pub fn new(url: &str) -> Bus {
        let run = Uuid::now_v7().simple().to_string();
        Bus { url: url.to_string(), prefix: format!("bench{run}"), stream: format!("BENCH{run}_HELD").to_uppercase() }
    }

    /// What the server under test is started with.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("COUNTERSIGN_NATS_URL", self.url.clone()),
            ("COUNTERSIGN_NATS_STREAM", self.stream.clone()),
            ("COUNTERSIGN_NATS_SUBJECT_PREFIX", self.prefix.clone()),
            // The run submits with an owner-minted credential, as its HTTP half does.
            ("COUNTERSIGN_NATS_ALLOW_LONG_LIVED_CREDENTIALS", "true".into()),
        ]
    }

    /// Removes the run's three streams.
    pub async fn remove(&self) {
        if let Ok(client) = async_nats::connect(&self.url).await {
            let js = jetstream::new(client);
            let upper = self.prefix.to_uppercase();
            for stream in [self.stream.clone(), format!("{upper}_INTAKE"), format!("{upper}_OUTCOMES")] {
                let _ = js.delete_stream(&stream).await;
            }
        }
    }
}

/// Publishes for `seconds`, keeping `window` messages between publish and result, then waits for the rest.
/// One loop both publishes and collects, so a result frees its slot for the next publish at once, as an HTTP
/// client's response lets it send its next request.
pub async fn load(
    bus: &Bus,
    token: &str,
    agent: Uuid,
    pid: u32,
    pool: &[Value],
    seconds: u64,
    window: usize,
) -> anyhow::Result<Load> {
    let client =
        async_nats::connect(&bus.url).await.with_context(|| format!("cannot connect to NATS at {}", bus.url))?;
    let js = jetstream::new(client.clone());
    let mut results = client.subscribe(format!("{}.intake.*.{agent}", bus.prefix)).await?;
    client.flush().await?;
    let pool = serialised(pool);
    // JetStream's acknowledgements of the publishes are checked as they come, off the timed path.
    let (acks, mut unchecked) = tokio::sync::mpsc::unbounded_channel::<jetstream::context::PublishAckFuture>();
    let checker = tokio::spawn(async move {
        let mut refused = 0u64;
        while let Some(ack) = unchecked.recv().await {
            refused += u64::from(ack.await.is_err());
        }
        refused
    });

    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let sampler = peak_rss(pid, deadline);
    let subject = format!("{}.held.bench", bus.prefix);
    let mut sent: HashMap<String, Instant> = HashMap::new();
    let (mut ok, mut failed, mut histogram) = (0u64, 0u64, Histogram::<u64>::new(3)?);
    let (mut i, mut last) = (0u64, Instant::now());
    loop {
        let publishing = Instant::now() < deadline;
        if publishing && sent.len() < window {
            let (template, at) = &pool[(i as usize) % pool.len()];
            let mut body = template.clone();
            let k = key(i);
            body[*at..*at + k.len()].copy_from_slice(k.as_bytes());
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Authorization", format!("Bearer {token}").as_str());
            sent.insert(k, Instant::now());
            acks.send(js.publish_with_headers(subject.clone(), headers, body.into()).await?)?;
            i += 1;
            continue;
        }
        if !publishing && sent.is_empty() {
            break;
        }
        match tokio::time::timeout(Duration::from_millis(50), results.next()).await {
            Ok(Some(message)) => {
                last = Instant::now();
                let key = message.headers.as_ref().and_then(|h| h.get("Idempotency-Key")).map(|k| k.to_string());
                let at = key.and_then(|k| sent.remove(&k));
                match (message.subject.contains(".intake.accepted."), at) {
                    (true, Some(at)) => {
                        ok += 1;
                        let _ = histogram.record(at.elapsed().as_micros() as u64);
                    }
                    _ => failed += 1,
                }
            }
            Ok(None) => break,
            Err(_) if last.elapsed() > Duration::from_secs(30) => break,
            Err(_) => {}
        }
    }
    drop(acks);
    let refused = checker.await?;
    Ok(Load {
        ok,
        failed: failed + sent.len() as u64 + refused,
        elapsed: last - started,
        latency_us: histogram,
        max_rss_kib: sampler.await?,
    })
}
