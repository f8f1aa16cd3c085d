//! Signing in and out, throttling, sessions, roles and CSRF, through the real router.

use crate::harness::{cookie_pair, session_cookie, Backend, TestApp, PASSWORD};
use countersign::config::Config;
use countersign::domain::Role;
use reqwest::StatusCode;
use std::time::Duration;

crate::on_both_stores!(
    sign_in_starts_a_hardened_session,
    a_flood_of_password_attempts_is_throttled,
    the_queue_stream_ends_with_its_session,
    wrong_password_and_unknown_email_are_refused_alike,
    failures_slow_the_client_down_instead_of_locking_the_account,
    sign_out_ends_the_session,
    session_id_is_cycled_at_sign_in,
    sessions_end_at_the_absolute_timeout,
    sessions_end_after_the_idle_timeout,
    anonymous_visits_go_to_sign_in,
    roles_are_enforced_on_pages_and_server_functions,
    cross_origin_state_changes_are_refused,
    password_change_needs_the_current_password,
    health_and_readiness_answer_without_sign_in,
    a_password_change_ends_every_other_session,
    guessing_the_current_password_is_slowed_down,
    dot_segments_cannot_sneak_past_the_guard,
    oversized_console_requests_are_refused_unread,
);

async fn sign_in_starts_a_hardened_session(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    app.person("sam@example.com", &[Role::Supervisor], &["acme"]).await;
    let browser = app.browser();

    let response = app.sign_in(&browser, "Sam@Example.com ", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = session_cookie(&response).expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP must not mark the cookie Secure: {cookie}");

    let page = browser.get(app.url("/")).send().await.expect("overview");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("Test Person") && html.contains("supervisor"), "shell shows the viewer");
    assert_eq!(app.audit_kinds().await.last().map(String::as_str), Some("sign_in.succeeded"));
    app.stop().await;
}

async fn wrong_password_and_unknown_email_are_refused_alike(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.person("sam@example.com", &[Role::Supervisor], &[]).await;
    let browser = app.browser();

    let wrong = app.sign_in(&browser, "sam@example.com", "not the password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(session_cookie(&wrong).is_none());
    let wrong_body = wrong.text().await.expect("body");
    let unknown = app.sign_in(&browser, "nobody@example.com", "not the password").await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.text().await.expect("body"), wrong_body, "the answer must not reveal which emails exist");
    assert_eq!(browser.get(app.url("/")).send().await.expect("page").status(), StatusCode::SEE_OTHER);
    let kinds = app.audit_kinds().await;
    assert_eq!(kinds.iter().filter(|k| *k == "sign_in.failed").count(), 2, "{kinds:?}");
    app.stop().await;
}

async fn failures_slow_the_client_down_instead_of_locking_the_account(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.person("sam@example.com", &[Role::Supervisor], &[]).await;
    let browser = app.browser();
    let unknown_body = app.sign_in(&browser, "nobody@example.com", "x").await.text().await.expect("body");

    for _ in 0..5 {
        let r = app.sign_in(&browser, "sam@example.com", "wrong password!").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // The first failure made this client wait a second; the attempts within it counted for nothing.
    let slowed = app.sign_in(&browser, "sam@example.com", PASSWORD).await;
    assert_eq!(slowed.status(), StatusCode::UNAUTHORIZED, "the right password is refused while waiting");
    assert_eq!(slowed.text().await.expect("body"), unknown_body, "a wait looks like any other refusal");
    assert!(!app.audit_kinds().await.contains(&"account.locked".to_string()), "nobody locks the account");

    app.clock.advance(time::Duration::milliseconds(999));
    assert_eq!(app.sign_in(&browser, "sam@example.com", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    app.clock.advance(time::Duration::milliseconds(1));
    assert_eq!(app.sign_in(&browser, "sam@example.com", PASSWORD).await.status(), StatusCode::OK);
    app.stop().await;
}

async fn sign_out_ends_the_session(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.person("sam@example.com", &[Role::Supervisor], &[]).await;
    let browser = app.browser();
    let cookie = session_cookie(&app.sign_in(&browser, "sam@example.com", PASSWORD).await).expect("cookie");

    let out = app.call(&browser, "logout", &[]).await;
    assert_eq!(out.status(), StatusCode::OK);
    assert_eq!(browser.get(app.url("/")).send().await.expect("page").status(), StatusCode::SEE_OTHER);
    // The old cookie, replayed by someone who copied it, is dead too.
    let replay = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let id = cookie_pair(&cookie);
    let replayed = replay.get(app.url("/")).header("cookie", id).send().await.expect("page");
    assert_eq!(replayed.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.audit_kinds().await.last().map(String::as_str), Some("sign_out"));
    app.stop().await;
}

async fn session_id_is_cycled_at_sign_in(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.person("sam@example.com", &[Role::Supervisor], &[]).await;
    let browser = app.browser();
    let first = session_cookie(&app.sign_in(&browser, "sam@example.com", PASSWORD).await).expect("cookie");
    let second = session_cookie(&app.sign_in(&browser, "sam@example.com", PASSWORD).await).expect("cookie");
    let id = cookie_pair;
    assert_ne!(id(&first), id(&second), "signing in must issue a new session id");

    let other = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let old = other.get(app.url("/")).header("cookie", id(&first)).send().await.expect("page");
    assert_eq!(old.status(), StatusCode::SEE_OTHER, "the id from before sign-in no longer works");
    let new = other.get(app.url("/")).header("cookie", id(&second)).send().await.expect("page");
    assert_eq!(new.status(), StatusCode::OK);
    app.stop().await;
}

async fn sessions_end_at_the_absolute_timeout(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.person("sam@example.com", &[Role::Supervisor], &[]).await;
    let browser = app.browser();
    app.sign_in(&browser, "sam@example.com", PASSWORD).await;
    app.clock.advance(time::Duration::hours(11) + time::Duration::minutes(59));
    assert_eq!(browser.get(app.url("/")).send().await.expect("page").status(), StatusCode::OK);
    app.clock.advance(time::Duration::minutes(1));
    assert_eq!(browser.get(app.url("/")).send().await.expect("page").status(), StatusCode::SEE_OTHER);
    app.stop().await;
}

async fn sessions_end_after_the_idle_timeout(backend: Backend) {
    let config = Config { session_idle_timeout: Duration::from_secs(1), ..Config::default() };
    let app = TestApp::start_with(backend, config).await;
    app.person("sam@example.com", &[Role::Supervisor], &[]).await;
    let browser = app.browser();
    let cookie = session_cookie(&app.sign_in(&browser, "sam@example.com", PASSWORD).await).expect("cookie");
    assert!(cookie.contains("Max-Age=1"), "{cookie}");
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    // Replay the cookie by hand: the server, not the client's jar, must refuse it.
    let id = cookie_pair(&cookie);
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let page = client.get(app.url("/")).header("cookie", id).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    app.stop().await;
}

async fn anonymous_visits_go_to_sign_in(backend: Backend) {
    let app = TestApp::start(backend).await;
    let browser = app.browser();
    for path in ["/", "/audit", "/people", "/account", "/no-such-page"] {
        let r = browser.get(app.url(path)).send().await.expect("page");
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.headers().get("location").and_then(|v| v.to_str().ok()), Some("/login"), "{path}");
    }
    let login = browser.get(app.url("/login")).send().await.expect("login page");
    assert_eq!(login.status(), StatusCode::OK);
    assert!(login.text().await.expect("html").contains("name=\"password\""));
    assert_eq!(app.call(&browser, "people", &[]).await.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

async fn roles_are_enforced_on_pages_and_server_functions(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    app.person("sup@example.com", &[Role::Supervisor, Role::Owner], &["acme"]).await;
    app.person("aud@example.com", &[Role::Auditor], &["acme"]).await;
    app.person("adm@example.com", &[Role::Admin], &["acme"]).await;

    let sup = app.browser();
    app.sign_in(&sup, "sup@example.com", PASSWORD).await;
    for path in ["/audit", "/people"] {
        assert_eq!(sup.get(app.url(path)).send().await.expect("page").status(), StatusCode::FORBIDDEN, "{path}");
    }
    for function in ["people", "audit/page", "audit/verify", "audit/verify/status"] {
        assert_eq!(app.call(&sup, function, &[]).await.status(), StatusCode::FORBIDDEN, "{function}");
    }
    assert_eq!(sup.get(app.url("/account")).send().await.expect("page").status(), StatusCode::OK);

    let aud = app.browser();
    app.sign_in(&aud, "aud@example.com", PASSWORD).await;
    assert_eq!(aud.get(app.url("/audit")).send().await.expect("page").status(), StatusCode::OK);
    assert_eq!(aud.get(app.url("/people")).send().await.expect("page").status(), StatusCode::FORBIDDEN);
    assert_eq!(app.call(&aud, "audit/verify", &[]).await.status(), StatusCode::OK);

    let adm = app.browser();
    app.sign_in(&adm, "adm@example.com", PASSWORD).await;
    let people = app.call(&adm, "people", &[]).await;
    assert_eq!(people.status(), StatusCode::OK);
    let body = people.text().await.expect("json");
    assert!(body.contains("sup@example.com") && body.contains("aud@example.com"), "{body}");
    app.stop().await;
}

async fn cross_origin_state_changes_are_refused(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.person("sam@example.com", &[Role::Supervisor], &[]).await;
    let plain = reqwest::Client::new();
    let form = [("email", "sam@example.com"), ("password", PASSWORD)];
    let by_origin = plain
        .post(app.url("/api/login"))
        .header("origin", "http://evil.example")
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(by_origin.status(), StatusCode::FORBIDDEN);
    assert_eq!(by_origin.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("application/problem+json"));
    let by_fetch_metadata = plain
        .post(app.url("/api/login"))
        .header("sec-fetch-site", "cross-site")
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(by_fetch_metadata.status(), StatusCode::FORBIDDEN);
    assert!(!app.audit_kinds().await.iter().any(|k| k.starts_with("sign_in")), "refused before any work");

    let host = app.base.trim_start_matches("http://").to_string();
    let same = plain
        .post(app.url("/api/login"))
        .header("origin", app.base.clone())
        .header("host", host)
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(same.status(), StatusCode::OK);
    app.stop().await;
}

async fn password_change_needs_the_current_password(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.person("sam@example.com", &[Role::Owner], &[]).await;
    let browser = app.browser();
    app.sign_in(&browser, "sam@example.com", PASSWORD).await;
    let change = |current: &'static str, new: &'static str, confirm: &'static str| {
        let browser = browser.clone();
        let app = &app;
        async move {
            app.call(&browser, "account/password", &[("current", current), ("new", new), ("confirm", confirm)]).await
        }
    };

    let wrong = change("not my password", "a brand new passphrase", "a brand new passphrase").await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.text().await.expect("body").contains("current password"));
    let short = change(PASSWORD, "too short", "too short").await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.text().await.expect("body").contains("12 characters"));
    let mismatch = change(PASSWORD, "a brand new passphrase", "a brand new passphrasf").await;
    assert_eq!(mismatch.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!app.audit_kinds().await.contains(&"password.changed".to_string()), "refusals change nothing");
    // The wrong current password makes this page wait a second before its next try.
    app.clock.advance(time::Duration::seconds(1));

    assert_eq!(change(PASSWORD, "a brand new passphrase", "a brand new passphrase").await.status(), StatusCode::OK);
    assert!(app.audit_kinds().await.contains(&"password.changed".to_string()));
    let fresh = app.browser();
    assert_eq!(app.sign_in(&fresh, "sam@example.com", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    app.clock.advance(time::Duration::seconds(1));
    assert_eq!(app.sign_in(&fresh, "sam@example.com", "a brand new passphrase").await.status(), StatusCode::OK);
    app.stop().await;
}

async fn health_and_readiness_answer_without_sign_in(backend: Backend) {
    let app = TestApp::start(backend).await;
    let client = reqwest::Client::new();
    assert_eq!(client.get(app.url("/healthz")).send().await.expect("healthz").status(), StatusCode::OK);
    let ready = client.get(app.url("/readyz")).send().await.expect("readyz");
    assert_eq!(ready.status(), StatusCode::OK);
    assert!(ready.text().await.expect("body").contains("ready"));
    app.stop().await;
}

async fn a_password_change_ends_every_other_session(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.person("sam@example.com", &[Role::Owner], &[]).await;
    let (laptop, phone) = (app.browser(), app.browser());
    app.sign_in(&laptop, "sam@example.com", PASSWORD).await;
    app.sign_in(&phone, "sam@example.com", PASSWORD).await;
    let form = [("current", PASSWORD), ("new", "a brand new passphrase"), ("confirm", "a brand new passphrase")];
    assert_eq!(app.call(&laptop, "account/password", &form).await.status(), StatusCode::OK);
    assert_eq!(laptop.get(app.url("/")).send().await.expect("page").status(), StatusCode::OK, "this session goes on");
    assert_eq!(phone.get(app.url("/")).send().await.expect("page").status(), StatusCode::SEE_OTHER, "others end");
    app.stop().await;
}

async fn guessing_the_current_password_is_slowed_down(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.person("sam@example.com", &[Role::Owner], &[]).await;
    let browser = app.browser();
    app.sign_in(&browser, "sam@example.com", PASSWORD).await;
    let guess =
        [("current", "a wrong guess"), ("new", "a brand new passphrase"), ("confirm", "a brand new passphrase")];
    for _ in 0..5 {
        assert_eq!(app.call(&browser, "account/password", &guess).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let right = [("current", PASSWORD), ("new", "a brand new passphrase"), ("confirm", "a brand new passphrase")];
    let locked = app.call(&browser, "account/password", &right).await;
    assert_eq!(locked.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(locked.text().await.expect("body").contains("Too many wrong passwords"));
    // Guesses on the account page slow that page down, not the person's sign-in.
    assert_eq!(app.sign_in(&app.browser(), "sam@example.com", PASSWORD).await.status(), StatusCode::OK);
    app.clock.advance(time::Duration::seconds(1));
    assert_eq!(app.call(&browser, "account/password", &right).await.status(), StatusCode::OK);
    app.stop().await;
}

async fn dot_segments_cannot_sneak_past_the_guard(backend: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::start(backend).await;
    app.person("sam@example.com", &[Role::Supervisor], &[]).await;
    let cookie = session_cookie(&app.sign_in(&app.browser(), "sam@example.com", PASSWORD).await).expect("cookie");
    let id = cookie_pair(&cookie);
    // Raw HTTP: clients normalise such paths before sending; an attacker's need not.
    for path in ["/x/../people", "/x/%2e%2e/people", "/./audit"] {
        let mut tcp = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://")).await.expect("connect");
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nCookie: {id}\r\nConnection: close\r\n\r\n");
        tcp.write_all(request.as_bytes()).await.expect("write");
        let mut answer = String::new();
        tcp.read_to_string(&mut answer).await.expect("read");
        assert!(answer.starts_with("HTTP/1.1 400"), "{path}: {}", answer.lines().next().unwrap_or_default());
    }
    app.stop().await;
}

async fn oversized_console_requests_are_refused_unread(backend: Backend) {
    let app = TestApp::start(backend).await;
    let huge = "x".repeat(200 * 1024);
    let r = app.sign_in(&app.browser(), &huge, "whatever password").await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(app.audit_kinds().await.is_empty(), "nothing recorded");
    app.stop().await;
}

async fn a_flood_of_password_attempts_is_throttled(backend: Backend) {
    let app = TestApp::start(backend).await;
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..45 {
        let (url, browser) = (app.url("/api/login"), app.browser());
        let form = [("email", format!("nobody{i}@example.com")), ("password", "not the password at all".into())];
        attempts.spawn(async move { browser.post(url).form(&form).send().await.expect("sign-in") });
    }
    let answers = attempts.join_all().await;
    let throttled: Vec<&reqwest::Response> =
        answers.iter().filter(|r| r.status() == StatusCode::TOO_MANY_REQUESTS).collect();
    assert!(throttled.len() >= 10, "one client gets 30 at once: {} throttled", throttled.len());
    let retry: u64 = throttled[0].headers()["retry-after"].to_str().expect("header").parse().expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(answers.iter().all(|r| [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(&r.status())));
    let refused = app.audit_kinds().await.iter().filter(|k| *k == "sign_in.failed").count();
    assert_eq!(refused, answers.len() - throttled.len(), "a throttled attempt costs no argon2 and records nothing");
    app.stop().await;
}

async fn the_queue_stream_ends_with_its_session(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    app.person("sam@example.com", &[Role::Supervisor], &["acme"]).await;
    let browser = app.browser();
    app.sign_in(&browser, "sam@example.com", PASSWORD).await;
    let mut stream = browser.get(app.url("/queue/events")).send().await.expect("stream");
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(app.call(&browser, "logout", &[]).await.status().is_success());
    let ended =
        tokio::time::timeout(Duration::from_secs(8), async { while stream.chunk().await.expect("chunk").is_some() {} })
            .await;
    assert!(ended.is_ok(), "the event stream must end when its session does");
    app.stop().await;
}
