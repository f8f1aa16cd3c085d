//! The NATS account configuration (the shape of deploy/nats/countersign.conf) against a nats-server the test
//! starts on a free port: an agent's gateway user cannot publish as another agent, read another's rejections or
//! publish an outcome, while the app server's user takes the gateway's message through intake. Also: long-lived
//! credentials refused over NATS unless allowed, and nothing identifying published for an unauthenticated message.

use crate::api::example;
use crate::harness::{Backend, TestApp};
use async_nats::jetstream;
use async_nats::Event;
use countersign::broker::Broker;
use countersign::config::Config;
use countersign::domain::Role;
use countersign::server;
use countersign::service::CaseRequest;
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use uuid::Uuid;

crate::on_both_stores!(gateways_reach_only_their_own_subjects);

/// A nats-server of the test's own, killed (and its store removed) on drop.
pub struct NatsServer {
    child: Child,
    dir: PathBuf,
    pub port: u16,
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One gateway user: tenant slug, agent id, user name, password.
pub struct Gateway<'a>(pub &'a str, pub Uuid, pub &'a str, pub &'a str);

/// The account configuration: the app servers' user, then one user per agent gateway.
pub fn accounts(server_password: &str, gateways: &[Gateway]) -> String {
    let mut users = vec![format!(
        r#"{{ user: countersign, password: "{server_password}", permissions: {{
            publish: {{ allow: ["$JS.API.>", "$JS.ACK.>", "countersign.intake.>", "countersign.outcome.>"] }}
            subscribe: {{ allow: ["_INBOX.>"] }} }} }}"#
    )];
    for Gateway(tenant, id, user, password) in gateways {
        users.push(format!(
            r#"{{ user: "{user}", password: "{password}", permissions: {{
            publish: {{ allow: ["countersign.held.{tenant}.{id}"] }}
            subscribe: {{ allow: ["countersign.intake.accepted.{id}", "countersign.intake.rejected.{id}",
                                  "countersign.outcome.{tenant}.{id}", "_INBOX.{id}.>"] }} }} }}"#
        ));
    }
    format!("accounts {{ COUNTERSIGN {{ jetstream: enabled, users: [\n{}\n] }} }}\n", users.join("\n"))
}

impl NatsServer {
    /// Starts `nats-server -c <config> -p <free port> -js -sd <dir>`; `None` (said why) when it is not installed.
    pub async fn start(config: &str) -> Option<NatsServer> {
        let dir = std::env::temp_dir().join(format!("countersign-nats-{}", Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).expect("nats dir");
        let file = dir.join("accounts.conf");
        std::fs::write(&file, config).expect("nats config");
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port();
        let child = Command::new("nats-server")
            .args(["-c", file.to_str().expect("path"), "-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(dir.join("store"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(child) = child else {
            eprintln!("nats-server is not on PATH: NATS account test skipped");
            let _ = std::fs::remove_dir_all(&dir);
            return None;
        };
        let server = NatsServer { child, dir, port };
        let deadline = Instant::now() + Duration::from_secs(5);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(server)
    }

    pub fn url(&self, user: &str, password: &str) -> String {
        format!("nats://{user}:{password}@127.0.0.1:{}", self.port)
    }
}

/// A gateway's connection: its own inbox prefix, and the server's complaints (permission violations) collected.
async fn gateway(url: &str, agent: Uuid) -> (async_nats::Client, mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let client = countersign::broker::connect_options(url)
        .expect("url")
        .custom_inbox_prefix(format!("_INBOX.{agent}"))
        .event_callback(move |event| {
            let tx = tx.clone();
            async move {
                if let Event::ServerError(e) = event {
                    let _ = tx.send(e.to_string().to_lowercase());
                }
            }
        })
        .connect(url)
        .await
        .expect("gateway connects");
    (client, rx)
}

async fn publish(js: &jetstream::Context, subject: String, token: Option<&str>, body: &Value) -> bool {
    let mut headers = async_nats::HeaderMap::new();
    if let Some(token) = token {
        headers.insert("Authorization", format!("Bearer {token}").as_str());
    }
    match js.publish_with_headers(subject, headers, body.to_string().into()).await {
        Ok(ack) => ack.await.is_ok(),
        Err(_) => false,
    }
}

async fn next(sub: &mut async_nats::Subscriber, wait: Duration) -> Option<async_nats::Message> {
    tokio::time::timeout(wait, sub.next()).await.ok().flatten()
}

async fn violation(events: &mut mpsc::UnboundedReceiver<String>, subject: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(2);
    while let Ok(Some(e)) = tokio::time::timeout_at(deadline.into(), events.recv()).await {
        if e.contains("permissions violation") && e.contains(&subject.to_lowercase()) {
            return true;
        }
    }
    false
}

async fn gateways_reach_only_their_own_subjects(backend: Backend) {
    let app = TestApp::start_with(backend, Config::default()).await;
    app.tenant("acme").await;
    app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    let (a, a_token) = app.agent("acme", "olu@example.com", &["refund:500.00EUR"]).await;
    let (b, b_token) = app.agent("acme", "olu@example.com", &["refund:500.00EUR"]).await;
    let config = accounts("server-pw", &[Gateway("acme", a, "gw-a", "a-pw"), Gateway("acme", b, "gw-b", "b-pw")]);
    let Some(nats) = NatsServer::start(&config).await else { return };

    // The app server's user makes the streams and consumes, as `serve` would, long-lived credentials refused.
    let config = Config { nats_url: Some(nats.url("countersign", "server-pw")), ..Config::default() };
    let broker = Broker::connect(config.nats_url.as_deref().expect("url"), None, "COUNTERSIGN_HELD", "countersign")
        .await
        .expect("the server's user makes the streams");
    server::spawn_broker(&app.service, broker, config.intake_body_limit);

    let (a_client, mut a_events) = gateway(&nats.url("gw-a", "a-pw"), a).await;
    let (b_client, _) = gateway(&nats.url("gw-b", "b-pw"), b).await;
    let mut a_js = jetstream::new(a_client.clone());
    a_js.set_timeout(Duration::from_millis(500));
    let b_js = jetstream::new(b_client.clone());
    let mut a_accepted = a_client.subscribe(format!("countersign.intake.accepted.{a}")).await.expect("own results");
    let mut a_rejected = a_client.subscribe(format!("countersign.intake.rejected.{a}")).await.expect("own rejections");
    let mut b_rejected = b_client.subscribe(format!("countersign.intake.rejected.{b}")).await.expect("b's own");
    // A's attempt to read B's rejections: the server refuses the subscription, and nothing arrives on it.
    let b_rejected_subject = format!("countersign.intake.rejected.{b}");
    let mut snooping = a_client.subscribe(b_rejected_subject.clone()).await.expect("subscribe is sent");
    a_client.flush().await.expect("flush");
    b_client.flush().await.expect("flush");
    assert!(violation(&mut a_events, &b_rejected_subject).await, "subscribing to B's rejections is refused");

    // A may not publish as B, even with B's credential, nor an outcome: no stream stores either.
    let as_b = format!("countersign.held.acme.{b}");
    assert!(!publish(&a_js, as_b.clone(), Some(&b_token), &example("as-b")).await, "A published as B");
    assert!(violation(&mut a_events, &as_b).await);
    let outcome = format!("countersign.outcome.acme.{a}");
    let forged = serde_json::json!({ "type": "held_action.approved", "data": { "status": "approved" } });
    assert!(!publish(&a_js, outcome.clone(), None, &forged).await, "A published an outcome");
    assert!(violation(&mut a_events, &outcome).await);

    // A's own subject with its long-lived credential: refused, and the reason goes to A alone.
    let own = format!("countersign.held.acme.{a}");
    assert!(publish(&a_js, own.clone(), Some(&a_token), &example("long-lived")).await, "A's own subject");
    let refused = next(&mut a_rejected, Duration::from_secs(10)).await.expect("A's rejection");
    let problem: Value = serde_json::from_slice(&refused.payload).expect("problem");
    assert_eq!(problem["status"], 403, "{problem}");
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("case credential")), "{problem}");

    // A case credential (short-lived) is taken through intake and stored.
    let who = app.service.authenticate_agent(&a_token).await.expect("a authenticates");
    let request = CaseRequest { case_id: "CS-8812".into(), action_types: vec!["refund".into()], ttl: None };
    let (_, case_token) = app.service.issue_case_credential(&who, request).await.expect("case credential");
    assert!(publish(&a_js, own.clone(), Some(&case_token), &example("case-1")).await);
    let accepted = next(&mut a_accepted, Duration::from_secs(10)).await.expect("A's result");
    let status: Value = serde_json::from_slice(&accepted.payload).expect("status");
    let id = Uuid::parse_str(status["id"].as_str().expect("id")).expect("uuid");
    assert_eq!(app.store.held_action(id).await.expect("read").expect("stored").agent_id, a);

    // B's bad message is rejected to B (with its key), and never reaches A.
    let b_subject = format!("countersign.held.acme.{b}");
    let mut bad = example("b-bad");
    bad["intent"] = Value::Null;
    assert!(publish(&b_js, b_subject.clone(), Some(&b_token), &bad).await);
    let b_got = next(&mut b_rejected, Duration::from_secs(10)).await.expect("B's rejection");
    assert_eq!(
        b_got.headers.as_ref().and_then(|h| h.get("Idempotency-Key")).map(|k| k.to_string()),
        Some("b-bad".into())
    );
    assert!(next(&mut snooping, Duration::from_millis(300)).await.is_none(), "A read B's rejection");

    // No credential at all: the rejection names nothing from the message, on a subject no gateway reads (the
    // server's user reads it from the stream).
    assert!(publish(&b_js, b_subject, Some("csa_nothing"), &example("secret-key")).await);
    let operator = countersign::broker::connect_options(&nats.url("countersign", "server-pw"))
        .expect("url")
        .connect(nats.url("countersign", "server-pw"))
        .await
        .expect("server's user");
    let results = jetstream::new(operator).get_stream("COUNTERSIGN_INTAKE").await.expect("results stream");
    let deadline = Instant::now() + Duration::from_secs(5);
    let refusal = loop {
        match results.get_last_raw_message_by_subject("countersign.intake.rejected.unknown").await {
            Ok(m) => break m,
            Err(e) => assert!(Instant::now() < deadline, "no refusal stored: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(refusal.headers.get("Idempotency-Key").is_none(), "no idempotency key");
    assert!(!String::from_utf8_lossy(&refusal.payload).contains("secret-key"));
    assert!(next(&mut b_rejected, Duration::from_millis(300)).await.is_none(), "nothing on B's subject");
    app.stop().await;
}
