//! Sign-in under attack: failures slow one client down on one account, progressively, and never another
//! client; `X-Forwarded-For` names the client only from a trusted proxy; refused sign-ins for unknown
//! addresses are the operator's to read.

use crate::harness::{session_cookie, Backend, TestApp, PASSWORD};
use countersign::config::Config;
use countersign::domain::access::UNKNOWN_PERSON;
use countersign::domain::throttle::SlowDown;
use countersign::domain::Role;
use reqwest::StatusCode;

crate::on_both_stores!(
    failures_slow_one_client_down_progressively_and_no_other,
    forwarded_for_is_ignored_from_an_untrusted_peer,
    unknown_email_failures_are_for_operators_only,
);

const A: &str = "198.51.100.7";
const B: &str = "203.0.113.9";

async fn sign_in_from(app: &TestApp, forwarded_for: &str, email: &str, password: &str) -> reqwest::Response {
    app.browser()
        .post(app.url("/api/login"))
        .header("x-forwarded-for", format!("10.9.8.7, {forwarded_for}"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .expect("sign-in request")
}

/// The reasons of the refused sign-ins recorded so far, oldest first, with the client each names.
async fn refusals(app: &TestApp) -> Vec<(String, String)> {
    let chain = app.store.audit_chain(0, 10_000).await.expect("audit");
    chain
        .into_iter()
        .filter(|r| r.kind == "sign_in.failed")
        .map(|r| {
            let data: serde_json::Value = serde_json::from_str(&r.data).unwrap_or_default();
            (
                data["reason"].as_str().unwrap_or_default().to_string(),
                data["client"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn behind_proxy() -> Config {
    Config {
        trusted_proxies: vec!["127.0.0.0/8".into(), "::1/128".into()],
        webhook_allow_private: true,
        ..Config::default()
    }
}

async fn failures_slow_one_client_down_progressively_and_no_other(backend: Backend) {
    let app = TestApp::start_with(backend, behind_proxy()).await;
    app.person("sam@example.com", &[Role::Supervisor], &[]).await;
    let unknown_body = sign_in_from(&app, A, "nobody@example.com", "x").await.text().await.expect("body");
    for n in 1..=10u32 {
        if n > 1 {
            // Just short of the doubled wait, even the right password is refused and counts for nothing.
            let wait = SlowDown::wait(n - 1);
            app.clock.advance(wait - time::Duration::milliseconds(500));
            let early = sign_in_from(&app, A, "sam@example.com", PASSWORD).await;
            assert_eq!(early.status(), StatusCode::UNAUTHORIZED, "failure {n}: still waiting");
            assert_eq!(early.text().await.expect("body"), unknown_body, "a wait looks like any other refusal");
            app.clock.advance(time::Duration::milliseconds(500));
        }
        let wrong = sign_in_from(&app, A, "sam@example.com", "wrong password!").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    // Ten failures from A: another client signs in at once with the right password.
    let b = sign_in_from(&app, B, "sam@example.com", PASSWORD).await;
    assert_eq!(b.status(), StatusCode::OK, "client B is not slowed down by A");
    assert!(session_cookie(&b).is_some());
    let reasons = refusals(&app).await;
    let of = |reason: &str, client: &str| reasons.iter().filter(|(r, c)| r == reason && c == client).count();
    assert_eq!((of("wrong_password", A), of("slowed_down", A)), (10, 9), "{reasons:?}");
    assert!(reasons.iter().all(|(_, c)| c == A), "B was never refused: {reasons:?}");
    // A waits 2^9 s after its tenth failure, no more than the cap; then a success clears its count.
    assert_eq!(SlowDown::wait(10), time::Duration::seconds(512));
    app.clock.advance(time::Duration::seconds(511));
    assert_eq!(sign_in_from(&app, A, "sam@example.com", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    app.clock.advance(time::Duration::seconds(1));
    assert_eq!(sign_in_from(&app, A, "sam@example.com", PASSWORD).await.status(), StatusCode::OK);
    assert_eq!(sign_in_from(&app, A, "sam@example.com", "wrong password!").await.status(), StatusCode::UNAUTHORIZED);
    app.clock.advance(time::Duration::seconds(1));
    assert_eq!(sign_in_from(&app, A, "sam@example.com", PASSWORD).await.status(), StatusCode::OK, "back to 1 s");
    app.stop().await;
}

async fn forwarded_for_is_ignored_from_an_untrusted_peer(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.person("sam@example.com", &[Role::Supervisor], &[]).await;
    assert_eq!(sign_in_from(&app, A, "sam@example.com", "wrong password!").await.status(), StatusCode::UNAUTHORIZED);
    // The header is the client's own word: the connection's address is the client, so "B" is A.
    let b = sign_in_from(&app, B, "sam@example.com", PASSWORD).await;
    assert_eq!(b.status(), StatusCode::UNAUTHORIZED, "a forged X-Forwarded-For escapes nothing");
    let clients: Vec<String> = refusals(&app).await.into_iter().map(|(_, c)| c).collect();
    assert!(clients.iter().all(|c| c != A && c != B && !c.is_empty()), "{clients:?}");
    app.clock.advance(time::Duration::seconds(1));
    assert_eq!(sign_in_from(&app, B, "sam@example.com", PASSWORD).await.status(), StatusCode::OK);
    app.stop().await;
}

async fn unknown_email_failures_are_for_operators_only(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    app.person("adm@example.com", &[Role::Admin], &["acme"]).await;
    app.person("sam@example.com", &[Role::Supervisor], &["acme"]).await;
    let typed = "who-is-this@example.com";
    sign_in_from(&app, A, typed, "a guess at a password").await;
    sign_in_from(&app, A, "sam@example.com", "a wrong password").await;
    let browser = app.browser();
    assert!(app.sign_in(&browser, "adm@example.com", PASSWORD).await.status().is_success());
    let body = app.call(&browser, "audit/page", &[]).await.text().await.expect("page");
    assert!(!body.contains(typed) && !body.contains(UNKNOWN_PERSON), "an admin never sees unknown emails: {body}");
    assert!(body.contains("sign_in.failed"), "their own people's refused sign-ins are listed: {body}");
    let viewer = app.service.viewer(app.service.person_by_email("adm@example.com").await.expect("adm").id, 0);
    let reader = app.service.reader(&viewer.await.expect("viewer").expect("active")).await.expect("reader");
    assert!(!reader.audit.covers(None, UNKNOWN_PERSON));
    let operator = app.service.operator_reader().await.expect("operator");
    assert!(operator.audit.covers(None, UNKNOWN_PERSON), "the operator reads them");
    app.stop().await;
}
