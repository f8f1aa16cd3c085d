//! Trusted issuers across tenants, over time and over the network: a token two tenants could claim is
//! refused, long-lived tokens are refused, issuers are edited and removed by their tenant's admins only,
//! and JWKS fetches are capped, rate-limited on failure and never go through a proxy.

use crate::api::{example, post};
use crate::harness::{Backend, TestApp, PASSWORD};
use crate::workload::{claims, setup, IdpKey, AUDIENCE, ISSUER, SUBJECT};
use countersign::domain::access::{Memberships, Principal};
use countersign::domain::clock::Clock;
use countersign::domain::Role;
use countersign::service::{By, IssuerChange, IssuerDraft, ServiceError};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

crate::on_both_stores!(
    a_token_two_tenants_could_claim_is_refused,
    long_lived_workload_tokens_are_refused,
    issuers_are_edited_and_removed_by_their_tenants_admins,
    registering_an_issuer_never_tells_which_tenants_exist,
    jwks_bodies_are_capped_and_failed_fetches_wait_a_minute,
);

/// A second tenant, globex, with its own admin and an agent; the admin as a principal, and the agent.
async fn globex(app: &TestApp) -> (Principal, Uuid) {
    let tenant = app.tenant("globex").await;
    app.person("gus@example.com", &[Role::Owner], &["globex"]).await;
    let (agent, _) = app.agent("globex", "gus@example.com", &["refund:500.00EUR"]).await;
    let user = app.person("gadm@example.com", &[Role::Admin], &["globex"]).await;
    (Principal { user, memberships: Memberships::uniform(&[Role::Admin], &[tenant]) }, agent)
}

fn draft(tenant: &str, jwks_url: &str) -> IssuerDraft {
    IssuerDraft {
        tenant: tenant.into(),
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        jwks_url: Some(jwks_url.into()),
        jwks: None,
    }
}

fn submitted(kinds: &[String]) -> usize {
    kinds.iter().filter(|k| *k == "held_action.submitted").count()
}

async fn a_token_two_tenants_could_claim_is_refused(backend: Backend) {
    let w = setup(backend).await;
    let app = &w.app;
    let (gadm, theirs) = globex(app).await;
    app.service.add_issuer(By::Person(&gadm), draft("globex", &w.jwks_url)).await.expect("globex trusts it too");
    app.service.bind_agent(By::Person(&gadm), theirs, Some(SUBJECT), false).await.expect("bind globex's agent");

    let token = w.idp.sign(&claims(app, SUBJECT));
    let refused = post(app, &token, &example("wl-both")).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "the token could be either tenant's agent");
    let problem = refused.text().await.unwrap_or_default();
    assert!(!problem.contains("globex") && !problem.contains("acme"), "the caller is not told why: {problem}");
    assert_eq!(submitted(&app.audit_kinds().await), 0, "nothing is stored in either tenant");

    // Once only one tenant binds the subject, the token is that tenant's agent.
    app.service.bind_agent(By::Person(&gadm), theirs, None, false).await.expect("unbind");
    let created = post(app, &token, &example("wl-one")).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id: Value = created.json().await.expect("json");
    let id = Uuid::parse_str(id["id"].as_str().expect("id")).expect("uuid");
    let held = app.store.held_action(id).await.expect("read").expect("stored");
    assert_eq!(held.agent_id, w.agent, "acme's agent");
    let who = app.service.authenticate_agent(&token).await.expect("authenticates");
    let acme_issuer = app.service.issuers_for(By::Person(&w.ada), &w.ada.tenant_ids()).await.expect("issuers")[0].id;
    assert_eq!(who.issuer, Some(acme_issuer), "the issuer that verified the token is known");
    w.app.stop().await;
}

async fn long_lived_workload_tokens_are_refused(backend: Backend) {
    let w = setup(backend).await;
    let app = &w.app;
    let now = app.clock.now().unix_timestamp();
    let with = |patch: Value| {
        let mut c = claims(app, SUBJECT);
        patch.as_object().expect("object").iter().for_each(|(k, v)| c[k] = v.clone());
        c
    };
    let year_9999 = 253_402_300_799_i64;
    let mut no_iat = with(json!({ "exp": year_9999 }));
    no_iat.as_object_mut().expect("object").remove("iat");
    for (case, token) in [
        ("exp in year 9999", w.idp.sign(&with(json!({ "exp": year_9999 })))),
        ("exp in year 9999, no iat", w.idp.sign(&no_iat)),
        ("two hours", w.idp.sign(&with(json!({ "exp": now + 7200 })))),
    ] {
        let response = post(app, &token, &example(&format!("wl-{case}"))).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{case}");
    }
    let hour = w.idp.sign(&with(json!({ "exp": now + 3500 })));
    assert_eq!(post(app, &hour, &example("wl-hour")).await.status(), StatusCode::CREATED, "within the hour");
    w.app.stop().await;
}

async fn issuers_are_edited_and_removed_by_their_tenants_admins(backend: Backend) {
    let w = setup(backend).await;
    let app = &w.app;
    let (gadm, _) = globex(app).await;
    let issuer = app.service.issuers_for(By::Person(&w.ada), &w.ada.tenant_ids()).await.expect("issuers")[0].clone();
    let change = |audience: &str| IssuerChange { audience: audience.into(), jwks_url: None, jwks: None };

    // Another tenant's admin, an owner, or an issuer that does not exist: the same refusal, nothing changed.
    let olu = app.store.user_by_email("olu@example.com").await.expect("read").expect("olu");
    let owner = Principal { user: olu.id, memberships: Memberships::uniform(&[Role::Owner], &w.ada.tenant_ids()) };
    for (who, id) in [(&gadm, issuer.id), (&owner, issuer.id), (&w.ada, Uuid::now_v7())] {
        let refused = app.service.change_issuer(By::Person(who), id, change("theirs")).await;
        assert!(matches!(refused, Err(ServiceError::Forbidden)), "{refused:?}");
        let refused = app.service.remove_issuer(By::Person(who), id, Some(ISSUER)).await;
        assert!(matches!(refused, Err(ServiceError::Forbidden)), "{refused:?}");
    }
    assert!(!app.audit_kinds().await.iter().any(|k| k == "issuer.changed" || k == "issuer.removed"));

    // A new audience: tokens for the old one stop, tokens for the new one work.
    let old = w.idp.sign(&claims(app, SUBJECT));
    assert_eq!(post(app, &old, &example("wl-before")).await.status(), StatusCode::CREATED);
    let changed = app.service.change_issuer(By::Person(&w.ada), issuer.id, change("countersign-new")).await;
    assert_eq!(changed.expect("changed").jwks_url, issuer.jwks_url, "keys unchanged when not given");
    assert_eq!(post(app, &old, &example("wl-old-aud")).await.status(), StatusCode::UNAUTHORIZED);
    let mut fresh = claims(app, SUBJECT);
    fresh["aud"] = json!("countersign-new");
    let fresh = w.idp.sign(&fresh);
    assert_eq!(post(app, &fresh, &example("wl-new-aud")).await.status(), StatusCode::CREATED);
    let bad = app.service.change_issuer(By::Person(&w.ada), issuer.id, change("")).await;
    assert!(matches!(bad, Err(ServiceError::Invalid(_))), "an empty audience is refused: {bad:?}");

    // Removal: confirmed by name, stops its tokens at once, keeps who registered it in the record.
    let unconfirmed = app.service.remove_issuer(By::Person(&w.ada), issuer.id, Some("https://other")).await;
    assert!(matches!(unconfirmed, Err(ServiceError::Invalid(_))), "{unconfirmed:?}");
    app.service.remove_issuer(By::Person(&w.ada), issuer.id, Some(ISSUER)).await.expect("removed");
    assert_eq!(post(app, &fresh, &example("wl-removed")).await.status(), StatusCode::UNAUTHORIZED);
    assert!(app.service.issuers_for(By::Person(&w.ada), &w.ada.tenant_ids()).await.expect("issuers").is_empty());
    let events = app.store.audit_chain(0, 10_000).await.expect("audit");
    let data = |kind: &str| -> Value {
        let event = events.iter().find(|e| e.kind == kind).expect(kind);
        serde_json::from_str(&event.data).expect("data")
    };
    assert_eq!(data("issuer.changed")["audience"], json!([AUDIENCE, "countersign-new"]));
    assert_eq!(data("issuer.removed")["registered_by"], json!(w.ada.user.to_string()));
    let again = app.service.remove_issuer(By::Person(&w.ada), issuer.id, Some(ISSUER)).await;
    assert!(matches!(again, Err(ServiceError::Forbidden)), "a removed issuer is gone: {again:?}");

    // The same issuer may be registered again afterwards, as a new registration.
    let back = app.service.add_issuer(By::Person(&w.ada), draft("acme", &w.jwks_url)).await.expect("again");
    assert_ne!(back.id, issuer.id);
    w.app.stop().await;
}

async fn registering_an_issuer_never_tells_which_tenants_exist(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    app.tenant("globex").await;
    app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    app.person("ada@example.com", &[Role::Admin], &["acme"]).await;
    let jwks = json!({ "keys": [IdpKey::new("k1").jwk()] }).to_string();
    for email in ["olu@example.com", "ada@example.com"] {
        let browser = app.browser();
        assert!(app.sign_in(&browser, email, PASSWORD).await.status().is_success());
        let mut answers = Vec::new();
        for tenant in ["globex", "no-such-tenant"] {
            let form =
                [("tenant", tenant), ("issuer", ISSUER), ("audience", AUDIENCE), ("jwks_url", ""), ("jwks", &jwks)];
            let response = app.call(&browser, "agents/issuers/add", &form).await;
            answers.push((response.status(), response.text().await.unwrap_or_default()));
        }
        assert_eq!(answers[0], answers[1], "{email}: another tenant and no tenant answer alike");
        assert_eq!(answers[0].0, StatusCode::FORBIDDEN, "{email}: {:?}", answers[0]);
    }
    assert!(!app.audit_kinds().await.iter().any(|k| k == "issuer.added"));
    app.stop().await;
}

/// A JWKS endpoint on loopback that counts its requests and answers each with `respond`.
async fn raw_server<F, Fut>(respond: F) -> (String, Arc<AtomicUsize>)
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/jwks.json", listener.local_addr().expect("address"));
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            let mut request = [0_u8; 4096];
            let _ = stream.read(&mut request).await;
            tokio::spawn(respond(stream));
        }
    });
    (url, count)
}

async fn jwks_bodies_are_capped_and_failed_fetches_wait_a_minute(backend: Backend) {
    let w = setup(backend).await;
    let app = &w.app;
    let (gadm, theirs) = globex(app).await;
    app.service.bind_agent(By::Person(&gadm), theirs, Some(SUBJECT), false).await.expect("bind");

    // An endless JWKS: the fetch stops past 256 KB and drops the connection.
    let written = Arc::new(AtomicUsize::new(0));
    let (dropped_tx, dropped) = tokio::sync::oneshot::channel::<()>();
    let dropped_tx = Arc::new(Mutex::new(Some(dropped_tx)));
    let (total, tx) = (written.clone(), dropped_tx.clone());
    let (endless, _) = raw_server(move |mut stream| {
        let (total, tx) = (total.clone(), tx.clone());
        async move {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n";
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(br#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":""#).await;
            let chunk = vec![b'A'; 64 * 1024];
            while stream.write_all(&chunk).await.is_ok() {
                total.fetch_add(chunk.len(), Ordering::SeqCst);
            }
            if let Some(tx) = tx.lock().expect("lock").take() {
                let _ = tx.send(());
            }
        }
    })
    .await;
    app.service.add_issuer(By::Person(&gadm), draft("globex", &endless)).await.expect("issuer");
    let started = std::time::Instant::now();
    let token = w.idp.sign(&claims(app, SUBJECT));
    let created = post(app, &token, &example("wl-endless")).await;
    assert_eq!(
        created.status(),
        StatusCode::CREATED,
        "acme's issuer verifies; globex's unreadable keys count for nothing"
    );
    tokio::time::timeout(std::time::Duration::from_secs(10), dropped).await.expect("dropped in time").ok();
    let sent = written.load(Ordering::SeqCst);
    assert!(sent < 16 * 1024 * 1024, "the client stopped reading early: the server wrote {sent} bytes");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));

    // A failing JWKS: twenty requests, one after another and side by side, cause at most two fetches.
    let (failing, fetches) = raw_server(|mut stream| async move {
        let _ = stream
            .write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .await;
    })
    .await;
    let other = app.tenant("initech").await;
    let iadm = app.person("iadm@example.com", &[Role::Admin], &["initech"]).await;
    let iadm = Principal { user: iadm, memberships: Memberships::uniform(&[Role::Admin], &[other]) };
    let mut failing_draft = draft("initech", &failing);
    failing_draft.issuer = "https://failing.test.example".into();
    app.service.add_issuer(By::Person(&iadm), failing_draft).await.expect("issuer");
    let mut bad = claims(app, SUBJECT);
    bad["iss"] = json!("https://failing.test.example");
    let bad = w.idp.sign(&bad);
    for i in 0..10 {
        assert_eq!(post(app, &bad, &example(&format!("wl-fail-{i}"))).await.status(), StatusCode::UNAUTHORIZED);
    }
    let bodies: Vec<Value> = (0..10).map(|i| example(&format!("wl-par-{i}"))).collect();
    let side_by_side: Vec<_> = bodies.iter().map(|body| post(app, &bad, body)).collect();
    for response in futures_util::future::join_all(side_by_side).await {
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let n = fetches.load(Ordering::SeqCst);
    assert!((1..=2).contains(&n), "20 requests fetched the failing JWKS {n} times");
    w.app.stop().await;
}

/// The guarded client never uses a proxy from the environment. Run in a child process of this test binary
/// with the proxy variables set, so no other test's client sees them: the proxy, a listener here, must
/// receive no connection, whether the request is refused (a guarded address) or allowed.
#[test]
fn the_guarded_client_ignores_proxy_variables() {
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    proxy.set_nonblocking(true).expect("nonblocking");
    let proxy_url = format!("http://{}", proxy.local_addr().expect("address"));
    let exe = std::env::current_exe().expect("test binary");
    let mut child = std::process::Command::new(exe);
    child.args(["--exact", "workload_issuers::proxy_child", "--ignored", "--nocapture", "--test-threads=1"]);
    for var in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"] {
        child.env(var, &proxy_url);
    }
    child.env_remove("NO_PROXY").env_remove("no_proxy").env("COUNTERSIGN_TEST_PROXY_CHILD", "1");
    let out = child.output().expect("child runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.contains("1 passed"), "{text}");
    assert!(
        matches!(proxy.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the proxy received a connection"
    );
}

#[tokio::test]
#[ignore = "run by the_guarded_client_ignores_proxy_variables, with proxy variables set"]
async fn proxy_child() {
    if std::env::var_os("COUNTERSIGN_TEST_PROXY_CHILD").is_none() {
        return;
    }
    use countersign::delivery::client;
    use countersign::domain::egress::Egress;
    let (target, hits) = raw_server(|mut stream| async move {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}").await;
    })
    .await;
    let port = target.trim_start_matches("http://127.0.0.1:").split('/').next().expect("port").to_string();

    let strict = client::guarded(Egress { allow_private: false }).expect("client");
    for url in [format!("https://localhost:{port}/jwks.json"), format!("http://localhost:{port}/hook")] {
        let refused = strict.get(&url).send().await.expect_err("a guarded address");
        assert!(client::refused(&refused), "{url}: {refused:?}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0);

    let open = client::guarded(Egress { allow_private: true }).expect("client");
    let response = open.get(&target).send().await.expect("reached directly");
    assert_eq!(client::read_capped(response, 1024).await.expect("body"), b"{}");
    assert_eq!(hits.load(Ordering::SeqCst), 1, "the request went to the target, not the proxy");
}
