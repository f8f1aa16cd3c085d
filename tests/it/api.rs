//! The agent-facing API: intake, idempotency, long-polling, withdrawal, credentials and scope.

use crate::harness::{Backend, TestApp};
use countersign::domain::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

crate::on_both_stores!(
    a_held_action_is_accepted_and_read_back,
    the_same_key_replays_or_conflicts,
    scope_and_limits_are_enforced_and_audited,
    credentials_expire_and_can_be_revoked,
    suspended_agents_are_forbidden,
    agents_read_only_their_own,
    long_poll_wakes_on_change_and_times_out,
    withdrawal_cancels_once,
    openapi_describes_the_api,
);

pub fn example(key: &str) -> Value {
    json!({
        "idempotency_key": key,
        "action": { "type": "refund", "parameters": { "order_id": "A-1009", "card_last4": "4242" },
                    "amount": { "value": "129.90", "currency": "EUR" } },
        "intent": "Customer was charged twice for order A-1009; refund the duplicate charge.",
        "case": { "id": "CS-8812", "channel": "chat", "summary": "Duplicate charge",
                  "customer": { "id": "cus_123", "display_name": "Dana K.", "tier": "gold" },
                  "facts": { "account_age_days": 812 } },
        "transcript": [
            { "role": "customer", "at": "2026-11-23T10:00:00Z", "text": "I was charged twice!" },
            { "role": "tool", "at": "2026-11-23T10:00:05Z", "name": "lookup_order", "text": "{\"charges\": 2}" }
        ],
        "on_behalf_of": { "principal": "cus_123", "consented_scope": ["refund:order:A-1009"] },
        "policy": { "rule_id": "refund-over-100", "reason": "Refunds above 100 EUR need a human", "risk_tier": "high", "risk_score": 0.72 }
    })
}

pub async fn setup(backend: Backend) -> (TestApp, String) {
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    let (_, token) = app.agent("acme", "olu@example.com", &["refund:500.00EUR", "password_reset"]).await;
    (app, token)
}

pub async fn post(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/api/v1/held-actions"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("post")
}

pub async fn get(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    reqwest::Client::new().get(app.url(path)).bearer_auth(token).send().await.expect("get")
}

pub async fn held_count(app: &TestApp) -> usize {
    app.audit_kinds().await.iter().filter(|k| *k == "held_action.submitted").count()
}

async fn a_held_action_is_accepted_and_read_back(backend: Backend) {
    let (app, token) = setup(backend).await;
    let created = post(&app, &token, &example("k-1")).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let body: Value = created.json().await.expect("json");
    assert_eq!(body["status"], "pending");
    let url = body["status_url"].as_str().expect("status url").to_string();
    assert!(body["expires_at"].as_str().is_some_and(|e| e.ends_with('Z')));
    let read: Value = get(&app, &token, &url).await.json().await.expect("json");
    assert_eq!(read["id"], body["id"]);
    assert_eq!(read["decision"], Value::Null);
    let stored =
        app.store.held_action(body["id"].as_str().and_then(|i| i.parse().ok()).expect("id")).await.expect("read");
    let stored = stored.expect("stored");
    assert_eq!(stored.amount.map(|m| m.to_string()).as_deref(), Some("129.90 EUR"));
    assert_eq!(stored.content_hash.len(), 64);
    assert_eq!(held_count(&app).await, 1);
    app.stop().await;
}

async fn the_same_key_replays_or_conflicts(backend: Backend) {
    let (app, token) = setup(backend).await;
    let first: Value = post(&app, &token, &example("k-1")).await.json().await.expect("json");
    let again = post(&app, &token, &example("k-1")).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<Value>().await.expect("json")["id"], first["id"]);
    let mut changed = example("k-1");
    changed["intent"] = json!("Something else entirely.");
    let conflict = post(&app, &token, &changed).await;
    assert_eq!(conflict.status(), StatusCode::CONFLICT);
    assert_eq!(conflict.headers()["content-type"], "application/problem+json");
    assert_eq!(held_count(&app).await, 1);
    // Concurrent duplicates still make one row.
    let tries = (0..8).map(|_| {
        let (url, token) = (app.url("/api/v1/held-actions"), token.clone());
        tokio::spawn(
            async move { reqwest::Client::new().post(url).bearer_auth(token).json(&example("k-2")).send().await },
        )
    });
    let mut statuses = Vec::new();
    for t in tries.collect::<Vec<_>>() {
        statuses.push(t.await.expect("join").expect("post").status().as_u16());
    }
    statuses.sort();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 200, 200, 201]);
    assert_eq!(held_count(&app).await, 2);
    app.stop().await;
}

async fn scope_and_limits_are_enforced_and_audited(backend: Backend) {
    let (app, token) = setup(backend).await;
    let mut over = example("k-1");
    over["action"]["amount"]["value"] = json!("500.01");
    let r = post(&app, &token, &over).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.json::<Value>().await.expect("json")["detail"].as_str().is_some_and(|d| d.contains("above")));
    let mut other_type = example("k-2");
    other_type["action"] = json!({ "type": "account_closure", "parameters": { "account_id": "acc_1" } });
    let r = post(&app, &token, &other_type).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.json::<Value>().await.expect("json")["detail"].as_str().is_some_and(|d| d.contains("outside")));
    app.service.flush_refusals().await.expect("refusals written");
    let kinds = app.audit_kinds().await;
    assert_eq!(kinds.iter().filter(|k| *k == "held_action.refused").count(), 2);
    assert_eq!(held_count(&app).await, 0);
    let mut at_limit = example("k-3");
    at_limit["action"]["amount"]["value"] = json!("500.00");
    assert_eq!(post(&app, &token, &at_limit).await.status(), StatusCode::CREATED);
    app.stop().await;
}

async fn credentials_expire_and_can_be_revoked(backend: Backend) {
    let (app, token) = setup(backend).await;
    assert_eq!(post(&app, &token, &example("k-1")).await.status(), StatusCode::CREATED);
    for bad in ["", "Bearer nonsense", "csa_0190_x"] {
        let r = reqwest::Client::new()
            .post(app.url("/api/v1/held-actions"))
            .header("authorization", bad)
            .json(&example("k-2"))
            .send()
            .await;
        assert_eq!(r.expect("post").status(), StatusCode::UNAUTHORIZED, "{bad:?}");
    }
    let mut forged = token.clone();
    forged.pop();
    forged.push(if token.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(post(&app, &forged, &example("k-2")).await.status(), StatusCode::UNAUTHORIZED);

    app.clock.advance(time::Duration::hours(24));
    assert_eq!(post(&app, &token, &example("k-2")).await.status(), StatusCode::UNAUTHORIZED, "expired");

    // A read writes nothing itself: its use goes with the next group commit, here another agent's submission.
    let (reader, reading) = app.agent("acme", "olu@example.com", &["refund:500.00EUR"]).await;
    let unknown = app.url(&format!("/api/v1/held-actions/{}", uuid::Uuid::now_v7()));
    let r = reqwest::Client::new().get(unknown).bearer_auth(&reading).send().await.expect("get");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (agent, fresh) = app.agent("acme", "olu@example.com", &["refund:500.00EUR"]).await;
    assert_eq!(post(&app, &fresh, &example("k-3")).await.status(), StatusCode::CREATED);
    let credential = app.store.credentials(agent).await.expect("list").remove(0);
    assert!(credential.last_used_at.is_some(), "use is recorded with the submission");
    let read = app.store.credentials(reader).await.expect("list").remove(0);
    assert!(read.last_used_at.is_some(), "a read's use is recorded with the next commit");
    app.service.revoke_credential(countersign::service::By::Operator, credential.id).await.expect("revoke");
    assert_eq!(post(&app, &fresh, &example("k-4")).await.status(), StatusCode::UNAUTHORIZED, "revoked at once");
    assert!(app.audit_kinds().await.contains(&"credential.revoked".to_string()));
    app.stop().await;
}

async fn suspended_agents_are_forbidden(backend: Backend) {
    let (app, _) = setup(backend).await;
    let (agent, token) = app.agent("acme", "olu@example.com", &["refund:500.00EUR"]).await;
    let by = countersign::service::By::Operator;
    let suspend = countersign::domain::lifecycle::Change::Suspend;
    app.service.change_agent_state(by, agent, suspend, "under investigation", None).await.expect("suspend");
    let r = post(&app, &token, &example("k-1")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body = r.json::<Value>().await.expect("json");
    assert_eq!(body["type"], "agent_suspended", "{body}");
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("suspended")));
    app.stop().await;
}

async fn agents_read_only_their_own(backend: Backend) {
    let (app, token) = setup(backend).await;
    let (_, other) = app.agent("acme", "olu@example.com", &["refund:500.00EUR"]).await;
    let body: Value = post(&app, &token, &example("k-1")).await.json().await.expect("json");
    let url = body["status_url"].as_str().expect("url").to_string();
    assert_eq!(get(&app, &other, &url).await.status(), StatusCode::NOT_FOUND);
    let delete = reqwest::Client::new().delete(app.url(&url)).bearer_auth(&other).send().await.expect("delete");
    assert_eq!(delete.status(), StatusCode::NOT_FOUND);
    assert_eq!(get(&app, &token, "/api/v1/held-actions/not-a-uuid").await.status(), StatusCode::BAD_REQUEST);
    app.stop().await;
}

async fn long_poll_wakes_on_change_and_times_out(backend: Backend) {
    let (app, token) = setup(backend).await;
    let body: Value = post(&app, &token, &example("k-1")).await.json().await.expect("json");
    let url = body["status_url"].as_str().expect("url").to_string();

    let started = Instant::now();
    let r: Value = get(&app, &token, &format!("{url}?wait=1")).await.json().await.expect("json");
    assert_eq!(r["status"], "pending");
    assert!(started.elapsed() >= Duration::from_millis(900), "waited out the full second");

    let waiter = {
        let (full, token) = (app.url(&format!("{url}?wait=30")), token.clone());
        tokio::spawn(async move { reqwest::Client::new().get(full).bearer_auth(token).send().await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let cancel = reqwest::Client::new().delete(app.url(&url)).bearer_auth(&token).send().await.expect("delete");
    assert_eq!(cancel.status(), StatusCode::OK);
    let woken: Value = waiter.await.expect("join").expect("get").json().await.expect("json");
    assert_eq!(woken["status"], "cancelled");
    assert!(started.elapsed() < Duration::from_secs(5), "woke on the change, not the timeout");
    app.stop().await;
}

async fn withdrawal_cancels_once(backend: Backend) {
    let (app, token) = setup(backend).await;
    let body: Value = post(&app, &token, &example("k-1")).await.json().await.expect("json");
    let url = app.url(body["status_url"].as_str().expect("url"));
    let first = reqwest::Client::new().delete(&url).bearer_auth(&token).send().await.expect("delete");
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.json::<Value>().await.expect("json")["status"], "cancelled");
    let second = reqwest::Client::new().delete(&url).bearer_auth(&token).send().await.expect("delete");
    assert_eq!(second.status(), StatusCode::CONFLICT);
    let kinds = app.audit_kinds().await;
    assert_eq!(kinds.iter().filter(|k| *k == "held_action.cancelled").count(), 1);
    assert_eq!(app.service.verify_audit_chain().await.expect("verify").map(|n| n > 0), Ok(true));
    app.stop().await;
}

async fn openapi_describes_the_api(backend: Backend) {
    let app = TestApp::start(backend).await;
    let doc: Value = reqwest::get(app.url("/api/openapi.json")).await.expect("get").json().await.expect("json");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")));
    assert!(doc["paths"]["/api/v1/held-actions"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/held-actions/{id}"]["get"].is_object());
    assert!(doc["paths"]["/api/v1/held-actions/{id}"]["delete"].is_object());
    assert!(doc["components"]["schemas"]["SubmissionDoc"].is_object());
    let created = &doc["paths"]["/api/v1/held-actions"]["post"]["responses"]["201"];
    assert_eq!(created["links"]["read"]["operationId"], "read_held_action");
    assert_eq!(created["links"]["withdraw"]["parameters"]["id"], "$response.body#/id");
    let problem = &doc["paths"]["/api/v1/held-actions"]["post"]["responses"]["422"];
    assert!(problem["content"]["application/problem+json"].is_object(), "{problem}");
    app.stop().await;
}
