//! `countersign simulate --via nats`: each submission is published to JetStream with the credential in an
//! `Authorization` header, as a policy gateway would, and its result (accepted or rejected, which the server
//! publishes after deciding) is matched back by the `Idempotency-Key` header and tallied as HTTP would answer.
//! With `--nats-agent` it does only what a per-agent gateway user may (see `deploy/nats/countersign.conf`).

use super::{detail, kind, Generator, Options};
use anyhow::Context;
use async_nats::jetstream;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use time::OffsetDateTime;
use tokio_stream::StreamExt;
use uuid::Uuid;

/// How long to wait for the results still due once everything is published.
const SETTLE: Duration = Duration::from_secs(30);

type Results = std::pin::Pin<Box<dyn tokio_stream::Stream<Item = async_nats::Message> + Send>>;

pub async fn publish(
    url: &str,
    prefix: &str,
    agent: Option<&(String, Uuid)>,
    options: Options,
    print: bool,
) -> anyhow::Result<BTreeMap<u16, u64>> {
    let mut connect = crate::broker::connect_options(url)?;
    if let Some((_, id)) = agent {
        // A gateway's user may subscribe to its own inboxes only; JetStream's acknowledgements come there.
        connect = connect.custom_inbox_prefix(format!("_INBOX.{id}"));
    }
    let client = connect
        .connect(url)
        .await
        .with_context(|| format!("cannot connect to NATS at {}", crate::broker::redacted(url)))?;
    let js = jetstream::new(client.clone());
    let (subject, mut results) = match agent {
        Some((tenant, id)) => {
            let accepted = client.subscribe(format!("{prefix}.intake.accepted.{id}")).await?;
            let rejected = client.subscribe(format!("{prefix}.intake.rejected.{id}")).await?;
            (format!("{prefix}.held.{tenant}.{id}"), Box::pin(accepted.merge(rejected)) as Results)
        }
        None => (
            format!("{prefix}.held.simulate"),
            Box::pin(client.subscribe(format!("{prefix}.intake.>")).await?) as Results,
        ),
    };
    client.flush().await?;
    let mut generator = Generator::new(options.seed, &[], Some("500.00"));
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / options.rate));
    // Idempotency key → action type, for the submissions whose result has not come back.
    let mut waiting: HashMap<String, String> = HashMap::new();
    let mut tally = BTreeMap::new();
    let mut sent = 0u64;
    let mut settle = None;
    loop {
        if settle.is_none() && options.count.is_some_and(|n| sent >= n) {
            settle = Some(tokio::time::Instant::now() + SETTLE);
        }
        if settle.is_some() && waiting.is_empty() {
            break;
        }
        let give_up = async {
            match settle {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tick.tick(), if settle.is_none() => {
                let body = generator.next(OffsetDateTime::now_utc());
                let key = body["idempotency_key"].as_str().unwrap_or_default().to_string();
                let mut headers = async_nats::HeaderMap::new();
                headers.insert("Authorization", format!("Bearer {}", options.credential).as_str());
                let ack = js.publish_with_headers(subject.clone(), headers, serde_json::to_vec(&body)?.into()).await?;
                ack.await.with_context(|| format!("JetStream did not store the message on {subject}"))?;
                waiting.insert(key, kind(&body).to_string());
                sent += 1;
            }
            message = results.next() => {
                let Some(message) = message else { anyhow::bail!("the subscription to results ended") };
                let key = message.headers.as_ref().and_then(|h| h.get("Idempotency-Key")).map(|k| k.to_string());
                let answer: serde_json::Value = serde_json::from_slice(&message.payload).unwrap_or_default();
                // Results of other publishers share the subjects; ours carry our keys.
                let Some(kind) = key.and_then(|k| waiting.remove(&k)) else { continue };
                let status = if message.subject.contains(".accepted.") { 201 } else { answer["status"].as_u64().unwrap_or(0) as u16 };
                if print {
                    println!("{status} {kind:<22} {}", detail(&answer));
                }
                *tally.entry(status).or_insert(0) += 1;
                if status == 401 {
                    anyhow::bail!("the credential was refused (401): mint a new one");
                }
                if status == 403 && answer["detail"].as_str().is_some_and(|d| d.contains("not accepted over NATS")) {
                    anyhow::bail!(
                        "the servers take no long-lived credentials over NATS: use a case credential or a workload \
                         token, or set nats_allow_long_lived_credentials = true on the servers"
                    );
                }
            }
            _ = give_up => break,
        }
    }
    if !waiting.is_empty() {
        println!(
            "{} published without a result within {}s (is a server consuming {prefix}.held.>?)",
            waiting.len(),
            SETTLE.as_secs()
        );
    }
    Ok(tally)
}
