//! Floods from one agent: its rate and in-flight limits answer 429 with `Retry-After` and leave other agents
//! alone, and refused submissions are audited coalesced rather than one durable write each.

use crate::api::{example, post};
use crate::harness::{Backend, TestApp};
use countersign::config::Config;
use countersign::domain::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

crate::on_both_stores!(
    an_agent_over_its_rate_is_told_when_to_retry,
    an_agent_with_too_many_requests_in_flight_waits,
    refusals_are_audited_coalesced,
    minting_case_credentials_takes_from_the_same_allowance,
);

/// Two agents of one tenant, each limited to 1 submission a second after a burst of 3, 2 requests at once.
async fn limited(backend: Backend) -> (TestApp, String, String) {
    let config = Config {
        intake_rate_per_agent: 1,
        intake_burst_per_agent: 3,
        intake_concurrency_per_agent: 2,
        ..Config::default()
    };
    let app = TestApp::start_with(backend, config).await;
    app.tenant("acme").await;
    app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    let (_, busy) = app.agent("acme", "olu@example.com", &["refund:500.00EUR"]).await;
    let (_, quiet) = app.agent("acme", "olu@example.com", &["refund:500.00EUR"]).await;
    (app, busy, quiet)
}

/// `held_action.refused` events as stored, oldest first, after the pending refusals are written.
async fn refusal_events(app: &TestApp) -> Vec<Value> {
    app.service.flush_refusals().await.expect("flush refusals");
    let records = app.store.audit_chain(0, 10_000).await.expect("audit");
    let refused = records.into_iter().filter(|r| r.kind == "held_action.refused");
    refused.map(|r| serde_json::from_str(&r.data).expect("event data")).collect()
}

async fn an_agent_over_its_rate_is_told_when_to_retry(backend: Backend) {
    let (app, busy, quiet) = limited(backend).await;
    for i in 0..3 {
        assert_eq!(post(&app, &busy, &example(&format!("k-{i}"))).await.status(), StatusCode::CREATED);
    }
    let refused = post(&app, &busy, &example("k-3")).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = refused.headers()["retry-after"].to_str().ok().and_then(|s| s.parse().ok()).expect("seconds");
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    assert_eq!(refused.headers()["content-type"], "application/problem+json");
    let problem: Value = refused.json().await.expect("problem");
    assert_eq!(problem["status"], 429);
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("1 submissions a second")), "{problem}");
    // Nothing was stored for the refused key: after the wait it is accepted as new.
    assert_eq!(post(&app, &quiet, &example("q-1")).await.status(), StatusCode::CREATED, "another agent");
    tokio::time::sleep(Duration::from_secs(wait)).await;
    assert_eq!(post(&app, &busy, &example("k-3")).await.status(), StatusCode::CREATED, "after Retry-After");
    let events = refusal_events(&app).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["count"], 1);
    app.stop().await;
}

async fn an_agent_with_too_many_requests_in_flight_waits(backend: Backend) {
    let (app, busy, quiet) = limited(backend).await;
    let created: Value = post(&app, &busy, &example("k-1")).await.json().await.expect("json");
    let url = app.url(created["status_url"].as_str().expect("status url"));
    // Two long-polls hold both of the agent's places.
    let polls: Vec<_> = (0..2)
        .map(|_| {
            let (url, token) = (format!("{url}?wait=3"), busy.clone());
            tokio::spawn(async move { reqwest::Client::new().get(url).bearer_auth(token).send().await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let refused = post(&app, &busy, &example("k-2")).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()["retry-after"], "1");
    let problem: Value = refused.json().await.expect("problem");
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("2 requests of this agent at once")), "{problem}");
    assert_eq!(post(&app, &quiet, &example("q-1")).await.status(), StatusCode::CREATED, "another agent");
    for poll in polls {
        assert_eq!(poll.await.expect("poll task").expect("poll").status(), StatusCode::OK);
    }
    assert_eq!(post(&app, &busy, &example("k-2")).await.status(), StatusCode::CREATED, "places given back");
    app.stop().await;
}

async fn refusals_are_audited_coalesced(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    let (agent, token) = app.agent("acme", "olu@example.com", &["refund:100.00EUR"]).await;
    let before = app.audit_kinds().await.len();
    for i in 0..40 {
        let mut over = example(&format!("k-{i}"));
        over["action"]["amount"]["value"] = json!(format!("{}.00", 200 + i));
        assert_eq!(post(&app, &token, &over).await.status(), StatusCode::FORBIDDEN);
    }
    let mut other = example("k-x");
    other["action"] = json!({ "type": "account_closure", "parameters": { "account_id": "acc_1" } });
    assert_eq!(post(&app, &token, &other).await.status(), StatusCode::FORBIDDEN);
    let events = refusal_events(&app).await;
    assert_eq!(app.audit_kinds().await.len() - before, 2, "one event per kind of refusal, not per request");
    let amounts = events.iter().find(|e| e["action_type"] == "refund").expect("the refund refusals");
    assert_eq!(amounts["count"], 40);
    assert_eq!(amounts["idempotency_key"], "k-0", "the first refusal's details");
    assert!(amounts["reason"].as_str().is_some_and(|r| r.contains("200.00 EUR is above")), "{amounts}");
    assert!(amounts["first_at"].as_str().is_some() && amounts["last_at"].as_str().is_some());
    let closure = events.iter().find(|e| e["action_type"] == "account_closure").expect("the closure refusal");
    assert_eq!(closure["count"], 1);
    let records = app.store.audit_chain(0, 10_000).await.expect("audit");
    let refused = records.iter().filter(|r| r.kind == "held_action.refused");
    assert!(refused.clone().all(|r| r.subject == format!("agent:{agent}")), "subjects name the agent");
    assert_eq!(refused.count(), 2);
    assert_eq!(refusal_events(&app).await.len(), 2, "written once");
    app.stop().await;
}

async fn minting_case_credentials_takes_from_the_same_allowance(backend: Backend) {
    let (app, busy, quiet) = limited(backend).await;
    let client = reqwest::Client::new();
    let mint = |token: &str| {
        let body = json!({ "case_id": "CS-1", "action_types": ["refund"] });
        client.post(app.url("/api/v1/credentials")).bearer_auth(token.to_string()).json(&body).send()
    };
    for _ in 0..3 {
        assert_eq!(mint(&busy).await.expect("post").status(), StatusCode::CREATED);
    }
    let refused = mint(&busy).await.expect("post");
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS, "a leaked credential cannot mint without bound");
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(post(&app, &busy, &example("k-1")).await.status(), StatusCode::TOO_MANY_REQUESTS, "one allowance");
    assert_eq!(mint(&quiet).await.expect("post").status(), StatusCode::CREATED, "another agent");
    app.stop().await;
}
