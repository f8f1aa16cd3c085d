//! Sessions are not re-written on every request: activity re-dates one at most once a minute, and what a
//! page does by itself (renewing its claim) is not activity, so an unattended console still times out. Wrong
//! step-up passwords are throttled per session: locking the account from outside blocks no signed-in step-up.

use crate::api::{example, post};
use crate::harness::{cookie_pair, session_cookie, Backend, TestApp, PASSWORD};
use countersign::domain::Role;
use reqwest::StatusCode;
use serde_json::Value;
use std::str::FromStr;
use time::OffsetDateTime;
use tower_sessions::session::Id;
use tower_sessions::SessionStore;

crate::on_both_stores!(
    activity_redates_the_session_at_most_once_a_minute,
    step_up_is_throttled_per_session_not_by_the_account_lock
);

/// When the stored session `id` expires.
async fn expiry(app: &TestApp, id: &Id) -> OffsetDateTime {
    app.store.sessions().load(id).await.expect("load").expect("the session is stored").expiry_date
}

async fn activity_redates_the_session_at_most_once_a_minute(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    app.person("ana@example.com", &[Role::Supervisor], &["acme"]).await;
    let (_, token) = app.agent("acme", "olu@example.com", &["refund:500.00EUR"]).await;
    let created: Value = post(&app, &token, &example("k-1")).await.json().await.expect("json");
    let held = created["id"].as_str().expect("id").to_string();
    let browser = app.browser();
    let signed_in = app.sign_in(&browser, "ana@example.com", PASSWORD).await;
    let cookie = session_cookie(&signed_in).expect("a session cookie");
    let id = Id::from_str(cookie_pair(&cookie).split_once('=').expect("name=value").1).expect("session id");
    let at_sign_in = expiry(&app, &id).await;

    // Requests within the minute read the session and write nothing.
    for _ in 0..5 {
        let r = app.call(&browser, "queue/claim", &[("id", &held), ("take_over", "false")]).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(session_cookie(&r).is_none(), "no new cookie: the session was not saved");
    }
    assert_eq!(expiry(&app, &id).await, at_sign_in, "not re-written within the minute");

    // A minute on, the page renewing its claim by itself is not activity ...
    app.clock.advance(time::Duration::seconds(61));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await; // expiry is dated by the wall clock
    assert_eq!(app.call(&browser, "queue/renew", &[("id", &held)]).await.status(), StatusCode::OK);
    assert_eq!(expiry(&app, &id).await, at_sign_in, "claim renewal does not keep the session alive");
    // ... and the person's own request is, once.
    let r = app.call(&browser, "queue/claim", &[("id", &held), ("take_over", "false")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let redated = expiry(&app, &id).await;
    assert!(redated > at_sign_in, "re-dated: {redated} after {at_sign_in}");
    assert_eq!(
        app.call(&browser, "queue/claim", &[("id", &held), ("take_over", "false")]).await.status(),
        StatusCode::OK
    );
    assert_eq!(expiry(&app, &id).await, redated, "once per minute");
    app.stop().await;
}

async fn step_up_is_throttled_per_session_not_by_the_account_lock(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    app.person("ana@example.com", &[Role::Supervisor], &["acme"]).await;
    let ana = app.browser();
    assert_eq!(app.sign_in(&ana, "ana@example.com", PASSWORD).await.status(), StatusCode::OK);
    // Anyone can fail sign-ins on the account ...
    let stranger = app.browser();
    for _ in 0..5 {
        app.sign_in(&stranger, "ana@example.com", "not her password at all").await;
    }
    assert!(app.audit_kinds().await.contains(&"sign_in.failed".to_string()));
    // ... which keeps nobody signed in from stepping up.
    let step_up = |password: &'static str| {
        let (app, ana) = (&app, &ana);
        async move { app.call(ana, "queue/step-up", &[("password", password)]).await }
    };
    assert_eq!(step_up(PASSWORD).await.status(), StatusCode::OK, "the lock does not reach a signed-in session");
    for _ in 0..5 {
        let wrong = step_up("not her password at all").await;
        assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(wrong.text().await.unwrap_or_default().contains("not correct"));
    }
    let throttled = step_up(PASSWORD).await;
    assert_eq!(throttled.status(), StatusCode::UNPROCESSABLE_ENTITY, "five wrong in this session: it waits");
    assert!(throttled.text().await.unwrap_or_default().contains("in this session"));
    let failed = app.audit_kinds().await.iter().filter(|k| *k == "step_up.failed").count();
    assert_eq!(failed, 5, "every wrong step-up is audited");
    app.stop().await;
}
