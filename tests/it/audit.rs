//! The audit chain: written with every change, verified, and broken by any tampering.

use crate::api::{example, post};
use crate::harness::{Backend, TestApp, PASSWORD};
use countersign::domain::access::Memberships;
use countersign::domain::review::{Reviewer, Vote};
use countersign::domain::Role;
use reqwest::StatusCode;

crate::on_both_stores!(
    every_change_is_chained_and_verifies,
    an_altered_row_is_named,
    a_removed_row_is_named,
    audit_log_is_scoped_to_the_viewers_tenants,
    audit_log_pages_backwards,
    rows_that_disagree_with_their_events_are_named,
);

async fn every_change_is_chained_and_verifies(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    app.person("sam@example.com", &[Role::Auditor], &["acme"]).await;
    let browser = app.browser();
    app.sign_in(&browser, "sam@example.com", "wrong password!!").await;
    // A failure makes this client wait a second before its next try.
    app.clock.advance(time::Duration::seconds(1));
    app.sign_in(&browser, "sam@example.com", PASSWORD).await;
    app.call(&browser, "logout", &[]).await;

    assert_eq!(
        app.audit_kinds().await,
        ["tenant.created", "user.created", "sign_in.failed", "sign_in.succeeded", "sign_out"]
    );
    assert_eq!(app.service.verify_audit_chain().await.expect("verify"), Ok(5));

    app.sign_in(&browser, "sam@example.com", PASSWORD).await;
    let started = app.call(&browser, "audit/verify", &[]).await;
    assert_eq!(started.status(), StatusCode::OK);
    let report = kept_check(&app, &browser).await;
    // The whole chain is checked; an auditor is told of their tenant's events only (the tenant's creation).
    assert_eq!(report["events"], 1, "{report}");
    assert_eq!(report["head_seq"], 6, "the head it reached is reported: {report}");
    assert_eq!(report["broken"], serde_json::Value::Null);
    assert_eq!(report["checked_by"], "Test Person", "{report}");
    app.stop().await;
}

/// Waits for the console's background check to finish and returns the result the console is shown
/// (an operator's earlier check may be kept already; it is not the one asked for).
async fn kept_check(app: &TestApp, browser: &reqwest::Client) -> serde_json::Value {
    for _ in 0..200 {
        let status: serde_json::Value =
            app.call(browser, "audit/verify/status", &[]).await.json().await.expect("status json");
        if status["running"].is_null() && status["last"]["checked_by"] == "Test Person" {
            return status["last"].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the chain check did not finish");
}

const DISABLE_GUARDS: &str =
    "DROP TRIGGER IF EXISTS audit_events_no_update; DROP TRIGGER IF EXISTS audit_events_no_delete;";
const DISABLE_GUARDS_PG: &str = "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events;";

async fn tamper(app: &TestApp, backend: &Backend, sql: &str) {
    let guards = if matches!(backend, Backend::Sqlite) { DISABLE_GUARDS } else { DISABLE_GUARDS_PG };
    app.db.execute(&format!("{guards} {sql}")).await;
}

async fn an_altered_row_is_named(backend: Backend) {
    let app = TestApp::start(backend.clone()).await;
    for slug in ["t-one", "t-two", "t-three", "t-four"] {
        app.tenant(slug).await;
    }
    // The stores refuse updates outright…
    let refused = app.db.try_execute("UPDATE audit_events SET subject = 'x' WHERE seq = 2").await;
    assert!(refused.is_err(), "the append-only guard must refuse UPDATE");
    assert!(app.db.try_execute("DELETE FROM audit_events WHERE seq = 2").await.is_err());
    // …and with the guard removed, the chain still gives the edit away.
    tamper(&app, &backend, "UPDATE audit_events SET data = '{\"slug\":\"forged\"}' WHERE seq = 3;").await;
    let broken = app.service.verify_audit_chain().await.expect("verify").expect_err("must break");
    assert_eq!(broken.seq, 3);
    // The console runs the same check in the background and keeps what it found.
    app.person("aud@example.com", &[Role::Auditor], &["t-one"]).await;
    let browser = app.browser();
    app.sign_in(&browser, "aud@example.com", PASSWORD).await;
    assert_eq!(app.call(&browser, "audit/verify", &[]).await.status(), StatusCode::OK);
    let report = kept_check(&app, &browser).await;
    assert_eq!(report["broken"][0], 3, "the first bad event is named: {report}");
    assert_eq!(report["head_seq"], 2, "the head it reached before the break: {report}");
    let status: serde_json::Value = app.call(&browser, "audit/verify/status", &[]).await.json().await.expect("json");
    assert_eq!(status["last"], report, "the result is kept");
    app.stop().await;
}

async fn a_removed_row_is_named(backend: Backend) {
    let app = TestApp::start(backend.clone()).await;
    for slug in ["t-one", "t-two", "t-three", "t-four"] {
        app.tenant(slug).await;
    }
    tamper(&app, &backend, "DELETE FROM audit_events WHERE seq = 2;").await;
    let broken = app.service.verify_audit_chain().await.expect("verify").expect_err("must break");
    assert_eq!(broken.seq, 2);
    app.stop().await;
}

async fn audit_log_is_scoped_to_the_viewers_tenants(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    app.tenant("globex").await;
    app.person("aud@example.com", &[Role::Auditor], &["acme"]).await;
    let browser = app.browser();
    app.sign_in(&browser, "aud@example.com", PASSWORD).await;
    let page = app.call(&browser, "audit/page", &[]).await;
    assert_eq!(page.status(), StatusCode::OK);
    let body = page.text().await.expect("json");
    assert!(body.contains(r#"\"slug\":\"acme\""#), "own tenant's events are listed: {body}");
    assert!(!body.contains("globex"), "another tenant's events must not leak: {body}");
    let page: serde_json::Value = serde_json::from_str(&body).expect("json");
    let kinds: Vec<&str> = page["events"].as_array().into_iter().flatten().filter_map(|e| e["kind"].as_str()).collect();
    assert!(!kinds.contains(&"user.created"), "untenanted events are for admins: {kinds:?}");
    app.stop().await;
}

async fn audit_log_pages_backwards(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    let admin = app.person("adm@example.com", &[Role::Admin], &["acme"]).await;
    let browser = app.browser();
    app.sign_in(&browser, "adm@example.com", PASSWORD).await;
    // Events about the admin, without 60 password attempts (those are throttled).
    for _ in 0..60 {
        app.service.sign_out(admin).await.expect("event");
    }
    let first: serde_json::Value = app.call(&browser, "audit/page", &[]).await.json().await.expect("json");
    let events = first["events"].as_array().map(Vec::len);
    assert_eq!(events, Some(50));
    let older = first["older"].as_i64().expect("an older page exists");
    let second: serde_json::Value =
        app.call(&browser, "audit/page", &[("filter[before]", &older.to_string())]).await.json().await.expect("json");
    let seqs: Vec<i64> = second["events"].as_array().into_iter().flatten().filter_map(|e| e["seq"].as_i64()).collect();
    assert_eq!(seqs.first().copied(), Some(older - 1));
    assert_eq!(seqs.last().copied(), Some(1));
    assert!(second["older"].is_null());
    app.stop().await;
}

/// Approved, denied, withdrawn, expired and pending actions agree with their events; a row edited in the
/// tables behind the events' back (its content, its status) is named.
async fn rows_that_disagree_with_their_events_are_named(backend: Backend) {
    let app = TestApp::start(backend).await;
    let acme = app.tenant("acme").await;
    app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    let ana = app.person("ana@example.com", &[Role::Supervisor], &["acme"]).await;
    let ana =
        Reviewer { user: ana, memberships: Memberships::uniform(&[Role::Supervisor], &[acme]), stepped_up_at: None };
    let (_, token) = app.agent("acme", "olu@example.com", &["refund:500.00EUR"]).await;
    let mut ids = Vec::new();
    for key in ["approve", "deny", "withdraw", "expire", "pending"] {
        let created: serde_json::Value = post(&app, &token, &example(key)).await.json().await.expect("json");
        ids.push(uuid::Uuid::parse_str(created["id"].as_str().expect("id")).expect("uuid"));
    }
    app.service.decide(&ana, ids[0], Vote::Approve { amount: None }).await.expect("approve");
    app.service.decide(&ana, ids[1], Vote::Deny { reason: "Not the customer's order".into() }).await.expect("deny");
    let withdraw = reqwest::Client::new().delete(app.url(&format!("/api/v1/held-actions/{}", ids[2])));
    assert_eq!(withdraw.bearer_auth(&token).send().await.expect("withdraw").status(), StatusCode::OK);
    app.db
        .try_execute("UPDATE held_actions SET expires_at = '2000-01-01T00:00:00Z' WHERE idempotency_key = 'expire'")
        .await
        .expect("due");
    assert_eq!(app.service.expire_overdue().await.expect("expire"), 1);
    assert_eq!(app.service.check_rows(10).await.expect("check"), (0, vec![]), "every row agrees");

    app.db
        .try_execute("UPDATE held_actions SET content_hash = 'forged' WHERE idempotency_key = 'approve'")
        .await
        .expect("edit");
    app.db
        .try_execute("UPDATE held_actions SET status = 'approved' WHERE idempotency_key = 'pending'")
        .await
        .expect("edit");
    let (found, why) = app.service.check_rows(10).await.expect("check");
    assert_eq!(found, 2, "{why:?}");
    assert!(
        why.iter().any(|w| w.contains(&ids[0].to_string()) && w.contains("not what its submission event hashed")),
        "{why:?}"
    );
    assert!(why.iter().any(|w| w.contains(&ids[4].to_string()) && w.contains("is approved but")), "{why:?}");
    app.stop().await;
}
