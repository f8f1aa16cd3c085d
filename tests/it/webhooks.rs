//! Outcome webhooks against a real receiver that fails at first and then recovers: Standard Webhooks
//! headers and signature, retries on the schedule, nothing lost, and redelivery on request.

use crate::api::{example, post};
use crate::harness::{Backend, TestApp};
use axum::http::{HeaderMap, StatusCode};
use countersign::config::Config;
use countersign::delivery::signature;
use countersign::domain::access::Memberships;
use countersign::domain::review::{Reviewer, Vote};
use countersign::domain::Role;
use countersign::service::ServiceError;
use countersign::service::{AgentDraft, By};
use countersign::store::DeliveryState;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

crate::on_both_stores!(
    outcomes_reach_a_receiver_that_recovers,
    webhooks_cannot_be_aimed_inside,
    a_slow_receiver_holds_up_no_one_else,
);

/// (arrival, headers, body) of every request the receiver got.
type Seen = Arc<Mutex<Vec<(std::time::Instant, HeaderMap, String)>>>;

/// Answers 503 to the first `failures` requests, then 204, each after `delay`.
async fn receiver(failures: usize, delay: Duration) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let log = log.clone();
            async move {
                let count = {
                    let mut log = log.lock().expect("lock");
                    log.push((std::time::Instant::now(), headers, body));
                    log.len()
                };
                tokio::time::sleep(delay).await;
                if count <= failures {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, seen)
}

async fn outcomes_reach_a_receiver_that_recovers(backend: Backend) {
    let app = TestApp::start(backend).await;
    let acme = app.tenant("acme").await;
    app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    let ana = app.person("ana@example.com", &[Role::Supervisor], &["acme"]).await;
    let (url, seen) = receiver(2, Duration::ZERO).await;
    let draft = AgentDraft {
        tenant: "acme".into(),
        name: "refunder".into(),
        purpose: "Refunds".into(),
        owner_email: "olu@example.com".into(),
        sponsor_email: None,
        allowances: vec!["refund:500.00EUR".into()],
        webhook_url: Some(url),
    };
    let (agent, secret) = app.service.create_agent(By::Operator, draft).await.expect("agent");
    let secret = secret.expect("a webhook secret, shown once");
    let (_, token) =
        app.service.issue_credential(By::Operator, agent.id, time::Duration::hours(1)).await.expect("token");
    let r: Value = post(&app, &token, &example("w-1")).await.json().await.expect("json");
    let id = Uuid::parse_str(r["id"].as_str().expect("id")).expect("uuid");
    let ana =
        Reviewer { user: ana, memberships: Memberships::uniform(&[Role::Supervisor], &[acme]), stepped_up_at: None };
    app.service.decide(&ana, id, Vote::Approve { amount: None }).await.expect("approve");

    let outbox = &app.service.outbox;
    assert_eq!(outbox.deliver_due().await.expect("pass"), 1, "first attempt fails (503)");
    assert_eq!(outbox.deliver_due().await.expect("pass"), 0, "nothing due until the retry time");
    app.clock.advance(time::Duration::seconds(5));
    assert_eq!(outbox.deliver_due().await.expect("pass"), 1, "second attempt fails too");
    app.clock.advance(time::Duration::minutes(5));
    assert_eq!(outbox.deliver_due().await.expect("pass"), 1, "third attempt succeeds");
    let log = app.store.deliveries(agent.id, 10).await.expect("log");
    assert_eq!((log.len(), log[0].state, log[0].attempts), (1, DeliveryState::Delivered, 3));

    let requests = seen.lock().expect("lock").clone();
    assert_eq!(requests.len(), 3);
    let ids: Vec<&str> = requests.iter().map(|(_, h, _)| h["webhook-id"].to_str().expect("id")).collect();
    assert!(ids.iter().all(|i| *i == ids[0] && i.starts_with("msg_")), "one message id across retries");
    for (_, headers, body) in &requests {
        let timestamp: i64 = headers["webhook-timestamp"].to_str().expect("ts").parse().expect("number");
        let expected = signature::sign(&secret, ids[0], timestamp, body).expect("sign");
        assert_eq!(headers["webhook-signature"].to_str().expect("sig"), expected, "signed per the specification");
        let payload: Value = serde_json::from_str(body).expect("json body");
        assert_eq!(payload["type"], "held_action.approved");
        assert_eq!(payload["data"]["decision"]["outcome"], "approved");
    }

    // Redelivery on request sends the same message again: not the moment after a send, not twice in a row.
    assert!(app.service.redeliver(By::Operator, log[0].id).await.is_err(), "just sent: paused");
    app.clock.advance(time::Duration::minutes(1));
    app.service.redeliver(By::Operator, log[0].id).await.expect("redeliver");
    assert!(app.service.redeliver(By::Operator, log[0].id).await.is_err(), "already waiting to be sent");
    assert_eq!(outbox.deliver_due().await.expect("pass"), 1);
    assert_eq!(seen.lock().expect("lock").len(), 4);
    let kinds = app.audit_kinds().await;
    assert!(
        kinds.contains(&"webhook.delivered".to_string()) && kinds.contains(&"webhook.redelivery_requested".to_string())
    );
    app.stop().await;
}

async fn webhooks_cannot_be_aimed_inside(backend: Backend) {
    let app = TestApp::start_with(backend, Config::default()).await;
    let acme = app.tenant("acme").await;
    app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    let ana = app.person("ana@example.com", &[Role::Supervisor], &["acme"]).await;
    let (receiver_url, seen) = receiver(0, Duration::ZERO).await;
    let port = receiver_url.rsplit(':').next().and_then(|p| p.split('/').next()).expect("port").to_string();
    let draft = |name: &str, url: String| AgentDraft {
        tenant: "acme".into(),
        name: name.into(),
        purpose: "Refunds".into(),
        owner_email: "olu@example.com".into(),
        sponsor_email: None,
        allowances: vec!["refund:500.00EUR".into()],
        webhook_url: Some(url),
    };
    // What can be told from the URL alone is refused when it is registered, with the reason.
    for (url, reason) in [
        (receiver_url.clone(), "refused: plain http"),
        (format!("https://127.0.0.1:{port}/hook"), "refused: private address"),
        (format!("https://[::ffff:127.0.0.1]:{port}/hook"), "refused: private address"),
        ("https://169.254.169.254/latest/meta-data/".to_string(), "refused: private address"),
    ] {
        match app.service.create_agent(By::Operator, draft("inside", url.clone())).await {
            Err(ServiceError::Invalid(e)) => assert!(e.0.contains(reason), "{url}: {e}"),
            other => panic!("{url} must be refused, got {:?}", other.map(|(a, _)| a.webhook_url)),
        }
    }
    // A name is checked as it resolves, at every send: `localhost` is loopback.
    let (agent, _) = app
        .service
        .create_agent(By::Operator, draft("named", format!("https://localhost:{port}/hook")))
        .await
        .expect("agent");
    let (_, token) =
        app.service.issue_credential(By::Operator, agent.id, time::Duration::hours(1)).await.expect("token");
    let r: Value = post(&app, &token, &example("in-1")).await.json().await.expect("json");
    let id = Uuid::parse_str(r["id"].as_str().expect("id")).expect("uuid");
    let ana =
        Reviewer { user: ana, memberships: Memberships::uniform(&[Role::Supervisor], &[acme]), stepped_up_at: None };
    app.service.decide(&ana, id, Vote::Approve { amount: None }).await.expect("approve");
    assert_eq!(app.service.outbox.deliver_due().await.expect("pass"), 1);
    let log = app.store.deliveries(agent.id, 10).await.expect("log");
    assert_eq!(log[0].last_error.as_deref(), Some("refused: private address"), "said plainly, no connection details");
    assert!(seen.lock().expect("lock").is_empty(), "nothing reached the receiver");
    app.stop().await;
}

async fn a_slow_receiver_holds_up_no_one_else(backend: Backend) {
    let app = TestApp::start(backend).await;
    let acme = app.tenant("acme").await;
    app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    let ana = app.person("ana@example.com", &[Role::Supervisor], &["acme"]).await;
    let ana =
        Reviewer { user: ana, memberships: Memberships::uniform(&[Role::Supervisor], &[acme]), stepped_up_at: None };
    let (slow_url, slow_seen) = receiver(0, Duration::from_secs(3)).await;
    let (fast_url, fast_seen) = receiver(0, Duration::ZERO).await;
    for (name, url, count) in [("slow", slow_url, 4), ("fast", fast_url, 2)] {
        let draft = AgentDraft {
            tenant: "acme".into(),
            name: name.into(),
            purpose: "Refunds".into(),
            owner_email: "olu@example.com".into(),
            sponsor_email: None,
            allowances: vec!["refund:500.00EUR".into()],
            webhook_url: Some(url),
        };
        let (agent, _) = app.service.create_agent(By::Operator, draft).await.expect("agent");
        let (_, token) =
            app.service.issue_credential(By::Operator, agent.id, time::Duration::hours(1)).await.expect("token");
        for i in 0..count {
            let r: Value = post(&app, &token, &example(&format!("{name}-{i}"))).await.json().await.expect("json");
            let id = Uuid::parse_str(r["id"].as_str().expect("id")).expect("uuid");
            app.service.decide(&ana, id, Vote::Approve { amount: None }).await.expect("approve");
        }
    }
    let start = std::time::Instant::now();
    assert_eq!(app.service.outbox.deliver_due().await.expect("pass"), 6, "everything due is sent");
    let since = |(t, _, _): &(std::time::Instant, HeaderMap, String)| t.duration_since(start);
    let fast = fast_seen.lock().expect("lock").clone();
    assert!(fast.len() == 2 && fast.iter().all(|t| since(t) < Duration::from_secs(2)), "not behind the slow one");
    let slow = slow_seen.lock().expect("lock").clone();
    assert_eq!(slow.len(), 4);
    let at_once = slow.iter().filter(|t| since(t) < Duration::from_secs(2)).count();
    assert_eq!(at_once, 2, "at most two in flight to one receiver; the others waited for room");
    app.stop().await;
}
