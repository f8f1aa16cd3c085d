//! JetStream intake and outcomes against the real NATS server (COUNTERSIGN_TEST_NATS_URL) on both stores:
//! accepted, rejected and redelivered messages, one key across HTTP and NATS, one outcome message per
//! outcome, two servers sharing the consumer, and `countersign simulate --via nats`. Each test has its own subject prefix and streams.

use crate::api::{example, post};
use crate::harness::{Backend, TestApp};
use crate::review::critical;
use async_nats::jetstream::{self, consumer};
use countersign::broker::Broker;
use countersign::config::Config;
use countersign::domain::access::Memberships;
use countersign::domain::review::{Reviewer, Vote};
use countersign::domain::Role;
use countersign::server;
use serde_json::Value;
use std::time::{Duration, Instant};
use uuid::Uuid;

crate::on_both_stores!(
    messages_are_accepted_rejected_and_redelivered_harmlessly,
    one_key_across_http_and_nats,
    every_outcome_is_published_once,
    two_servers_share_the_consumer,
    simulate_publishes_and_reads_each_result_back,
    outcome_receipts_verify_and_forgeries_do_not,
);

struct Bus {
    app: TestApp,
    js: jetstream::Context,
    prefix: String,
    stream: String,
    token: String,
    agent: Uuid,
}

pub fn nats_url() -> Option<String> {
    std::env::var("COUNTERSIGN_TEST_NATS_URL").ok().filter(|u| !u.is_empty())
}

/// Keeps one small stream on the shared NATS server for good. When an account's last stream is deleted, the
/// server removes the account's storage directory, and a test creating its stream at that moment fails with
/// "could not create storage directory" (seen in CI, 2026-12-06, while another test removed its streams).
pub async fn keep_account_storage(js: &jetstream::Context) {
    let anchor = jetstream::stream::Config {
        name: "COUNTERSIGN_TEST_ANCHOR".into(),
        subjects: vec!["countersign-test-anchor".into()],
        max_messages: 1,
        ..Default::default()
    };
    js.get_or_create_stream(anchor).await.expect("the anchor stream");
}

pub(crate) fn config(url: &str, prefix: &str) -> Config {
    Config {
        nats_url: Some(url.to_string()),
        nats_stream: format!("{}_HELD", prefix.to_uppercase()),
        nats_subject_prefix: prefix.to_string(),
        // These tests publish with owner-minted credentials; tests/it/nats_accounts.rs has it off.
        nats_allow_long_lived_credentials: true,
        ..Config::default()
    }
}

/// A server consuming from its own streams, with an agent; `None` when no NATS server is configured.
async fn bus(backend: Backend) -> Option<Bus> {
    let Some(url) = nats_url() else {
        eprintln!("COUNTERSIGN_TEST_NATS_URL not set: NATS run skipped");
        return None;
    };
    let js = jetstream::new(async_nats::connect(&url).await.expect("nats"));
    keep_account_storage(&js).await;
    let prefix = format!("t{}", Uuid::now_v7().simple());
    let config = config(&url, &prefix);
    let app = TestApp::start_with(backend, config.clone()).await;
    app.tenant("acme").await;
    app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    let (agent, token) = app.agent("acme", "olu@example.com", &["refund:500.00EUR", "mfa_reset"]).await;
    consume(&app.service, &config).await;
    Some(Bus { app, js, stream: config.nats_stream.clone(), prefix, token, agent })
}

pub(crate) async fn consume(service: &countersign::service::Service, config: &Config) {
    let url = config.nats_url.as_deref().expect("url");
    let broker = Broker::connect(url, None, &config.nats_stream, &config.nats_subject_prefix).await.expect("broker");
    let broker = broker.allowing_long_lived_credentials(config.nats_allow_long_lived_credentials);
    server::spawn_broker(service, broker, config.intake_body_limit);
}

impl Bus {
    async fn publish(&self, token: &str, body: &[u8]) {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Authorization", format!("Bearer {token}").as_str());
        let subject = format!("{}.held.acme", self.prefix);
        let ack = self.js.publish_with_headers(subject, headers, body.to_vec().into()).await.expect("publish");
        ack.await.expect("stored");
    }

    /// Every message stored under `subject` (a filter), oldest first, with its `Idempotency-Key` header.
    async fn stored(&self, stream: &str, subject: &str) -> Vec<(Option<String>, Value)> {
        let stream = self.js.get_stream(stream).await.expect("stream");
        let config = consumer::pull::Config {
            filter_subject: subject.to_string(),
            ack_policy: consumer::AckPolicy::None,
            ..Default::default()
        };
        let reader = stream.create_consumer(config).await.expect("reader");
        let mut batch = reader.fetch().max_messages(10_000).expires(Duration::from_millis(300)).messages().await;
        let batch = batch.as_mut().expect("fetch");
        let mut found = Vec::new();
        while let Some(Ok(m)) = tokio_stream::StreamExt::next(batch).await {
            let key = m.headers.as_ref().and_then(|h| h.get("Idempotency-Key")).map(|k| k.to_string());
            found.push((key, serde_json::from_slice(&m.payload).unwrap_or(Value::Null)));
        }
        found
    }

    async fn results(&self, kind: &str, agent: &str) -> Vec<Value> {
        self.keyed_results(kind, agent).await.into_iter().map(|(_, v)| v).collect()
    }

    async fn keyed_results(&self, kind: &str, agent: &str) -> Vec<(Option<String>, Value)> {
        let stream = format!("{}_INTAKE", self.prefix.to_uppercase());
        let subject = format!("{}.intake.{kind}.{agent}", self.prefix);
        self.stored(&stream, &subject).await
    }

    async fn outcomes(&self) -> Vec<Value> {
        let stream = format!("{}_OUTCOMES", self.prefix.to_uppercase());
        let subject = format!("{}.outcome.acme.{}", self.prefix, self.agent);
        self.stored(&stream, &subject).await.into_iter().map(|(_, v)| v).collect()
    }

    /// Waits until the consumer has nothing undelivered or unacknowledged.
    async fn settled(&self) {
        let stream = self.js.get_stream(&self.stream).await.expect("stream");
        let deadline = Instant::now() + Duration::from_secs(60);
        while let Err(why) = consumer_settled(&stream).await {
            assert!(Instant::now() < deadline, "consumer never settled: {why}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops the server and removes this test's streams from the shared NATS server.
    async fn stop(self) {
        let upper = self.prefix.to_uppercase();
        for stream in [self.stream.clone(), format!("{upper}_INTAKE"), format!("{upper}_OUTCOMES")] {
            let _ = self.js.delete_stream(&stream).await;
        }
        self.app.stop().await;
    }

    /// Messages still in the held-action stream.
    async fn in_held_stream(&self) -> u64 {
        let mut stream = self.js.get_stream(&self.stream).await.expect("stream");
        stream.info().await.map_or(u64::MAX, |i| i.state.messages)
    }

    async fn held(&self) -> usize {
        self.app.audit_kinds().await.iter().filter(|k| *k == "held_action.submitted").count()
    }
}

/// Whether the shared intake consumer exists and has nothing undelivered or unacknowledged; if not, why.
pub async fn consumer_settled(stream: &jetstream::stream::Stream) -> Result<(), String> {
    // The server makes the consumer when it starts consuming, which may be after the first publish.
    let mut c: consumer::PullConsumer =
        stream.get_consumer(countersign::broker::CONSUMER).await.map_err(|e| format!("no consumer yet: {e}"))?;
    let info = c.info().await.map_err(|e| format!("consumer info: {e}"))?;
    match info.num_pending == 0 && info.num_ack_pending == 0 {
        true => Ok(()),
        false => Err(format!("{info:?}")),
    }
}

async fn eventually<F: std::future::Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn messages_are_accepted_rejected_and_redelivered_harmlessly(backend: Backend) {
    let Some(bus) = bus(backend).await else { return };
    let body = example("nats-1").to_string();
    bus.publish(&bus.token, body.as_bytes()).await;
    bus.publish(&bus.token, b"{ not json").await;
    bus.publish("csa_unknown", body.as_bytes()).await;
    // The same message again, as a redelivery would bring it.
    bus.publish(&bus.token, body.as_bytes()).await;
    bus.settled().await;

    assert_eq!(bus.held().await, 1, "one held action per key");
    let (keys, accepted): (Vec<_>, Vec<_>) =
        bus.keyed_results("accepted", &bus.agent.to_string()).await.into_iter().unzip();
    assert_eq!(accepted.len(), 1, "the replay's result has the same Nats-Msg-Id: {accepted:?}");
    assert_eq!(accepted[0]["status"], "pending");
    assert_eq!(keys, [Some("nats-1".to_string())], "the publisher's key names its answer");
    let id = accepted[0]["id"].as_str().expect("id");
    assert!(bus.app.store.held_action(Uuid::parse_str(id).expect("uuid")).await.expect("read").is_some());

    let rejected = bus.results("rejected", &bus.agent.to_string()).await;
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0]["status"], 422);
    assert!(rejected[0]["errors"][0]["message"].as_str().is_some_and(|m| m.contains("not valid JSON")));
    let (keys, unknown): (Vec<_>, Vec<_>) = bus.keyed_results("rejected", "unknown").await.into_iter().unzip();
    assert_eq!(unknown.iter().map(|p| p["status"].clone()).collect::<Vec<_>>(), [401]);
    assert_eq!(keys, [None], "nothing from a message no agent authenticated");
    // Acknowledged and terminated messages leave the stream: the database is the record of a held action.
    eventually("the held-action stream emptied", || async { bus.in_held_stream().await == 0 }).await;
    bus.stop().await;
}

async fn one_key_across_http_and_nats(backend: Backend) {
    let Some(bus) = bus(backend).await else { return };
    let created: Value = post(&bus.app, &bus.token, &example("both-1")).await.json().await.expect("json");
    bus.publish(&bus.token, example("both-1").to_string().as_bytes()).await;
    let mut other = example("both-1");
    other["intent"] = "Something else under the same key.".into();
    bus.publish(&bus.token, other.to_string().as_bytes()).await;
    bus.settled().await;
    assert_eq!(bus.held().await, 1);
    let accepted = bus.results("accepted", &bus.agent.to_string()).await;
    assert_eq!(accepted.iter().map(|a| a["id"].clone()).collect::<Vec<_>>(), [created["id"].clone()]);
    let rejected = bus.results("rejected", &bus.agent.to_string()).await;
    assert_eq!(rejected.iter().map(|p| p["status"].clone()).collect::<Vec<_>>(), [409], "key reused: {rejected:?}");
    bus.stop().await;
}

async fn every_outcome_is_published_once(backend: Backend) {
    let Some(bus) = bus(backend).await else { return };
    let tenant = bus.app.store.tenant_by_slug("acme").await.expect("tenant").expect("acme").id;
    let ana = bus.app.person("ana@example.com", &[Role::Supervisor], &["acme"]).await;
    let ana =
        Reviewer { user: ana, memberships: Memberships::uniform(&[Role::Supervisor], &[tenant]), stepped_up_at: None };
    let mut ids = Vec::new();
    for key in ["o-approve", "o-deny", "o-withdraw"] {
        let r: Value = post(&bus.app, &bus.token, &example(key)).await.json().await.expect("json");
        ids.push(Uuid::parse_str(r["id"].as_str().expect("id")).expect("uuid"));
    }
    let r: Value = post(&bus.app, &bus.token, &critical("o-expire")).await.json().await.expect("json");
    ids.push(Uuid::parse_str(r["id"].as_str().expect("id")).expect("uuid"));
    bus.app.service.decide(&ana, ids[0], Vote::Approve { amount: None }).await.expect("approve");
    bus.app.service.decide(&ana, ids[1], Vote::Deny { reason: "Not the customer's order".into() }).await.expect("deny");
    let withdrawn = reqwest::Client::new()
        .delete(bus.app.url(&format!("/api/v1/held-actions/{}", ids[2])))
        .bearer_auth(&bus.token)
        .send()
        .await
        .expect("withdraw");
    assert!(withdrawn.status().is_success());
    bus.app.clock.advance(time::Duration::hours(2));
    assert_eq!(bus.app.service.expire_overdue().await.expect("expire"), 1);

    eventually("four outcome messages", || async { bus.outcomes().await.len() >= 4 }).await;
    tokio::time::sleep(Duration::from_millis(600)).await; // more passes of the publisher: nothing again
    let outcomes = bus.outcomes().await;
    let mut seen: Vec<(String, String)> = outcomes
        .iter()
        .map(|o| &o["data"])
        .map(|d| (d["id"].as_str().unwrap_or_default().to_string(), d["status"].as_str().unwrap_or_default().into()))
        .collect();
    seen.sort();
    let mut expected: Vec<(String, String)> = ids
        .iter()
        .zip(["approved", "denied", "cancelled", "expired"])
        .map(|(id, status)| (id.to_string(), status.to_string()))
        .collect();
    expected.sort();
    assert_eq!(seen, expected, "{outcomes:?}");
    let denied = outcomes.iter().find(|o| o["type"] == "held_action.denied").expect("the webhook's body");
    assert_eq!(denied["data"]["decision"]["reason"], "Not the customer's order");
    assert!(outcomes
        .iter()
        .all(|o| o["data"]["decision"]["receipt"].as_str().is_some_and(|r| r.split('.').count() == 3)));
    bus.stop().await;
}

async fn two_servers_share_the_consumer(backend: Backend) {
    let Some(bus) = bus(backend).await else { return };
    let url = nats_url().expect("url");
    let config = config(&url, &bus.prefix);
    let second = server::service(&config, bus.app.store.clone(), bus.app.clock.clone()).await.expect("second server");
    consume(&second, &config).await;
    for i in 0..300 {
        bus.publish(&bus.token, example(&format!("shared-{i}")).to_string().as_bytes()).await;
    }
    bus.settled().await;
    assert_eq!(bus.held().await, 300, "every key stored once");
    let accepted = bus.results("accepted", &bus.agent.to_string()).await;
    let mut ids: Vec<&str> = accepted.iter().filter_map(|a| a["id"].as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 300);
    bus.stop().await;
}

/// `countersign simulate --via nats` publishes as a gateway would and prints each result as HTTP would answer:
/// the scope refuses some of its action types (403), the rest are stored.
async fn simulate_publishes_and_reads_each_result_back(backend: Backend) {
    let Some(bus) = bus(backend).await else { return };
    let url = nats_url().expect("url");
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_countersign"))
        .args(["simulate", "--via", "nats", "--nats-url", &url, "--nats-subject-prefix", &bus.prefix])
        .args(["--credential", &bus.token, "--rate", "50", "--count", "12", "--seed", "3"])
        .output()
        .await
        .expect("simulate runs");
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{out}{}", String::from_utf8_lossy(&run.stderr));
    let status = |code: &str| out.lines().filter(|l| l.starts_with(&format!("{code} "))).count();
    assert_eq!(status("201") + status("403"), 12, "every submission answered: {out}");
    assert!(status("201") > 0 && status("403") > 0, "{out}");
    assert_eq!(bus.held().await, status("201"), "one held action per accepted result");
    assert!(out.contains(&format!("{} × 201", status("201"))), "{out}");
    bus.stop().await;
}

/// What a gateway does with an outcome message: the receipt must verify against the server's JWKS and attest the
/// message's action and status; anything else is not from Countersign.
fn verified(jwks: &jsonwebtoken::jwk::JwkSet, outcome: &Value) -> bool {
    use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
    let data = &outcome["data"];
    let Some(receipt) = data["decision"]["receipt"].as_str() else { return false };
    let Some(jwk) = decode_header(receipt).ok().and_then(|h| h.kid).and_then(|kid| jwks.find(&kid).cloned()) else {
        return false;
    };
    let Ok(key) = DecodingKey::from_jwk(&jwk) else { return false };
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&["countersign"]);
    validation.set_required_spec_claims(&["iss", "sub"]);
    validation.validate_exp = false;
    validation.validate_aud = false;
    decode::<Value>(receipt, &key, &validation)
        .is_ok_and(|t| t.claims["sub"] == data["id"] && t.claims["status"] == data["status"])
}

/// The outcome of an approved action carries a receipt that verifies against `/.well-known/jwks.json` with a stock
/// JOSE library; outcomes published by someone else (no receipt, their own key, a real receipt for another action)
/// do not.
async fn outcome_receipts_verify_and_forgeries_do_not(backend: Backend) {
    let Some(bus) = bus(backend).await else { return };
    let tenant = bus.app.store.tenant_by_slug("acme").await.expect("tenant").expect("acme").id;
    let ana = bus.app.person("ana@example.com", &[Role::Supervisor], &["acme"]).await;
    let ana =
        Reviewer { user: ana, memberships: Memberships::uniform(&[Role::Supervisor], &[tenant]), stepped_up_at: None };
    let r: Value = post(&bus.app, &bus.token, &example("r-approve")).await.json().await.expect("json");
    let id = Uuid::parse_str(r["id"].as_str().expect("id")).expect("uuid");
    bus.app.service.decide(&ana, id, Vote::Approve { amount: None }).await.expect("approve");
    eventually("the outcome message", || async { !bus.outcomes().await.is_empty() }).await;
    let genuine = bus.outcomes().await.remove(0);
    assert_eq!(genuine["data"]["status"], "approved");

    let subject = format!("{}.outcome.acme.{}", bus.prefix, bus.agent);
    let other = Uuid::now_v7();
    let mut forged = genuine.clone();
    forged["data"]["id"] = other.to_string().into();
    let unsigned = serde_json::json!({ "type": "held_action.approved", "data": { "id": other, "status": "approved" } });
    let what = countersign::domain::receipt::Attested {
        id: other,
        status: "approved",
        approvals: 1,
        approved_amount: None,
        decided_at: time::OffsetDateTime::now_utc(),
        content_hash: "forged",
        reason: None,
    };
    let own_key = countersign::domain::receipt::ReceiptKey::generate().sign(&what).expect("signed");
    let mut self_signed = unsigned.clone();
    self_signed["data"]["decision"] = serde_json::json!({ "outcome": "approved", "receipt": own_key });
    for body in [&forged, &unsigned, &self_signed] {
        bus.js.publish(subject.clone(), body.to_string().into()).await.expect("publish").await.expect("stored");
    }
    let outcomes = bus.outcomes().await;
    assert_eq!(outcomes.len(), 4, "the forgeries sit beside the real outcome: {outcomes:?}");

    let jwks: jsonwebtoken::jwk::JwkSet =
        reqwest::get(bus.app.url("/.well-known/jwks.json")).await.expect("jwks").json().await.expect("a JWK Set");
    let trusted: Vec<bool> = outcomes.iter().map(|o| verified(&jwks, o)).collect();
    assert_eq!(trusted, [true, false, false, false], "only Countersign's own outcome verifies");
    bus.stop().await;
}
