//! Managing agents through the console's server functions: who may see, create, narrow, widen and mint.

use crate::harness::{Backend, TestApp, PASSWORD};
use countersign::domain::Role;
use reqwest::StatusCode;
use serde_json::Value;

crate::on_both_stores!(
    admins_register_agents_and_owners_see_only_theirs,
    owners_narrow_admins_widen,
    credentials_minted_in_the_console_work_until_revoked
);

async fn setup(backend: Backend) -> TestApp {
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    app.tenant("globex").await;
    app.person("adm@example.com", &[Role::Admin], &["acme"]).await;
    app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    app.person("ola@example.com", &[Role::Owner], &["acme"]).await;
    app.person("sup@example.com", &[Role::Supervisor], &["acme"]).await;
    app.person("gadm@example.com", &[Role::Admin], &["globex"]).await;
    app
}

async fn signed_in(app: &TestApp, email: &str) -> reqwest::Client {
    let browser = app.browser();
    assert_eq!(app.sign_in(&browser, email, PASSWORD).await.status(), StatusCode::OK);
    browser
}

async fn register(app: &TestApp, admin: &reqwest::Client, owner: &str, allowances: &str) -> reqwest::Response {
    let form = [
        ("tenant", "acme"),
        ("name", "refund-helper"),
        ("purpose", "Resolves billing chats"),
        ("owner", owner),
        ("sponsor", "sup@example.com"),
        ("allowances", allowances),
        ("webhook_url", "https://agent.example.com/hook"),
    ];
    app.call(admin, "agents/create", &form).await
}

async fn admins_register_agents_and_owners_see_only_theirs(backend: Backend) {
    let app = setup(backend).await;
    let admin = signed_in(&app, "adm@example.com").await;
    let created = register(&app, &admin, "olu@example.com", "refund:500.00EUR\npassword_reset").await;
    assert_eq!(created.status(), StatusCode::OK);
    let created: Value = created.json().await.expect("json");
    assert!(created["webhook_secret"].as_str().is_some_and(|s| s.starts_with("whsec_")), "secret shown once");

    let owner = signed_in(&app, "olu@example.com").await;
    let mine: Value = app.call(&owner, "agents/list", &[]).await.json().await.expect("json");
    assert_eq!(mine["agents"].as_array().map(Vec::len), Some(1));
    let other_owner = signed_in(&app, "ola@example.com").await;
    let theirs: Value = app.call(&other_owner, "agents/list", &[]).await.json().await.expect("json");
    assert_eq!(theirs["agents"].as_array().map(Vec::len), Some(0));
    let id = created["id"].as_str().expect("id");
    assert_eq!(app.call(&other_owner, "agents/get", &[("id", id)]).await.status(), StatusCode::FORBIDDEN);

    let supervisor = signed_in(&app, "sup@example.com").await;
    assert_eq!(app.call(&supervisor, "agents/list", &[]).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(supervisor.get(app.url("/agents")).send().await.expect("page").status(), StatusCode::FORBIDDEN);
    let foreign_admin = signed_in(&app, "gadm@example.com").await;
    assert_eq!(app.call(&foreign_admin, "agents/get", &[("id", id)]).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(register(&app, &owner, "olu@example.com", "refund").await.status(), StatusCode::FORBIDDEN);
    let sponsor = app.store.agent(id.parse().expect("uuid")).await.expect("read").and_then(|a| a.sponsor_id);
    assert_eq!(sponsor, app.store.user_by_email("sup@example.com").await.expect("read").map(|u| u.id));
    let not_an_owner = register(&app, &admin, "sup@example.com", "refund").await;
    assert_eq!(not_an_owner.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.audit_kinds().await.iter().filter(|k| *k == "agent.created").count() == 1);

    // Authority before anything about the target: a tenant not yours reads exactly as one that does not exist,
    // and someone who may not register agents is told nothing at all.
    let in_tenant = |tenant: &'static str| {
        [
            ("tenant", tenant),
            ("name", "probe"),
            ("purpose", "Probing"),
            ("owner", "olu@example.com"),
            ("sponsor", ""),
            ("allowances", "refund"),
            ("webhook_url", ""),
        ]
    };
    let text = |r: reqwest::Response| async move { (r.status(), r.text().await.unwrap_or_default()) };
    let (foreign, nowhere) = (
        text(app.call(&foreign_admin, "agents/create", &in_tenant("acme")).await).await,
        text(app.call(&foreign_admin, "agents/create", &in_tenant("nowhere")).await).await,
    );
    assert_eq!(foreign.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(foreign.1.replace("acme", "X"), nowhere.1.replace("nowhere", "X"), "{} / {}", foreign.1, nowhere.1);
    let probe = app.call(&owner, "agents/create", &in_tenant("nowhere")).await;
    assert_eq!(probe.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

async fn owners_narrow_admins_widen(backend: Backend) {
    let app = setup(backend).await;
    let admin = signed_in(&app, "adm@example.com").await;
    let created: Value =
        register(&app, &admin, "olu@example.com", "refund:500.00EUR\npassword_reset").await.json().await.expect("json");
    let id = created["id"].as_str().expect("id");
    let owner = signed_in(&app, "olu@example.com").await;
    let update = |who: &reqwest::Client, allowances: &'static str| {
        let who = who.clone();
        let (app, id) = (&app, id.to_string());
        async move {
            let form =
                [("id", id.as_str()), ("purpose", "Billing chats"), ("allowances", allowances), ("webhook_url", "")];
            app.call(&who, "agents/update", &form).await
        }
    };
    assert_eq!(update(&owner, "refund:100.00EUR").await.status(), StatusCode::OK, "narrowing");
    let widen = update(&owner, "refund:100.00EUR\nmfa_reset").await;
    assert_eq!(widen.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(widen.text().await.expect("body").contains("only an admin may widen"));
    assert_eq!(update(&owner, "refund:900.00EUR").await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(update(&admin, "refund:900.00EUR\nmfa_reset").await.status(), StatusCode::OK, "admins widen");
    let bad = update(&admin, "refund:lots").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let agent = app.store.agent(id.parse().expect("uuid")).await.expect("read").expect("agent");
    let specs: Vec<String> = agent.scope.allowances().iter().map(|a| a.spec()).collect();
    assert_eq!(specs, ["refund:900.00EUR", "mfa_reset"], "refusals changed nothing");
    assert_eq!(agent.webhook_url, None);
    assert_eq!(app.audit_kinds().await.iter().filter(|k| *k == "agent.updated").count(), 2);
    app.stop().await;
}

async fn credentials_minted_in_the_console_work_until_revoked(backend: Backend) {
    let app = setup(backend).await;
    let admin = signed_in(&app, "adm@example.com").await;
    let created: Value =
        register(&app, &admin, "olu@example.com", "refund:500.00EUR").await.json().await.expect("json");
    let id = created["id"].as_str().expect("id");
    let owner = signed_in(&app, "olu@example.com").await;
    assert_eq!(
        app.call(&owner, "agents/credentials/mint", &[("agent", id), ("ttl", "31d")]).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let minted: Value =
        app.call(&owner, "agents/credentials/mint", &[("agent", id), ("ttl", "1h")]).await.json().await.expect("json");
    let secret = minted["secret"].as_str().expect("secret").to_string();
    let credential = minted["credential"]["id"].as_str().expect("id").to_string();
    let detail: Value = app.call(&owner, "agents/get", &[("id", id)]).await.json().await.expect("json");
    assert!(!detail.to_string().contains(&secret), "the secret is never shown again");

    let body = serde_json::json!({
        "idempotency_key": "k-1",
        "action": { "type": "refund", "parameters": {}, "amount": { "value": "10.00", "currency": "EUR" } },
        "intent": "Refund.", "case": { "id": "c", "customer": { "id": "cus" } }, "transcript": [],
        "policy": { "rule_id": "r", "reason": "why" }
    });
    let post = |key: &'static str| {
        let mut body = body.clone();
        body["idempotency_key"] = key.into();
        reqwest::Client::new().post(app.url("/api/v1/held-actions")).bearer_auth(secret.clone()).json(&body).send()
    };
    assert_eq!(post("k-1").await.expect("post").status(), StatusCode::CREATED);
    assert_eq!(
        app.call(&owner, "agents/credentials/revoke", &[("credential", &credential)]).await.status(),
        StatusCode::OK
    );
    assert_eq!(post("k-2").await.expect("post").status(), StatusCode::UNAUTHORIZED);
    let again = app.call(&owner, "agents/credentials/revoke", &[("credential", &credential)]).await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.stop().await;
}
