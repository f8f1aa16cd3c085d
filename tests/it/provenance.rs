//! The provenance matrix: for every way a request can be produced (owner-minted credential, case
//! credential, workload token) and every person who touched that path (minter, parent minter, issuer
//! registrant, subject binder, scope editor, former owner, account provisioner, role granter), that person
//! alone is refused the decision, naming the path, and an independent supervisor decides it. The JetStream
//! row is in `provenance_nats.rs`.

use crate::api::{example, post};
use crate::duties::{approve_over_http, mint, signed_in, status, submit};
use crate::harness::{Backend, TestApp, PASSWORD};
use crate::workload::{case_credential, claims, serve_jwks, IdpKey, AUDIENCE, ISSUER};
use countersign::domain::provenance::{Path, Provision, Provisioned};
use countersign::domain::{HeldStatus, Role};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

crate::on_both_stores!(
    whoever_touched_the_path_does_not_decide,
    case_credentials_stay_within_their_parent,
    the_migration_backfills_provenance_from_what_was_recorded,
);

/// Registers an agent owned by `owner`, as `admin`; returns its id.
pub(crate) async fn agent(app: &TestApp, admin: &reqwest::Client, name: &str, owner: &str) -> String {
    let form = [
        ("tenant", "acme"),
        ("name", name),
        ("purpose", "Resolves billing chats"),
        ("owner", owner),
        ("sponsor", ""),
        ("allowances", "refund:5000.00EUR"),
        ("webhook_url", ""),
    ];
    let r = app.call(admin, "agents/create", &form).await;
    assert_eq!(r.status(), StatusCode::OK, "create agent");
    r.json::<Value>().await.expect("json")["id"].as_str().expect("agent id").to_string()
}

/// Edits an agent's scope (and, with `subject`, binds its workload subject) as `who`.
async fn update(app: &TestApp, who: &reqwest::Client, id: &str, allowances: &str, subject: Option<&str>) {
    let mut form = vec![("id", id), ("purpose", "Resolves billing chats"), ("allowances", allowances)];
    form.push(("webhook_url", ""));
    if let Some(subject) = subject {
        form.push(("subject", subject));
    }
    let r = app.call(who, "agents/update", &form).await;
    assert_eq!(r.status(), StatusCode::OK, "update: {}", r.text().await.unwrap_or_default());
}

/// `admin` adds Vic, a supervisor of acme, with a one-time password they chose.
async fn add_vic(app: &TestApp, admin: &reqwest::Client) {
    let form = [
        ("email", "vic@example.com"),
        ("name", "Vic"),
        ("roles[]", "supervisor"),
        ("tenants[]", "acme"),
        ("password", VIC_ONE_TIME),
    ];
    assert!(app.call(admin, "people/add", &form).await.status().is_success());
}

const VIC_ONE_TIME: &str = "one time password!";

/// `refused` may not decide `id`, and is told why in words naming `path`; `sue` then approves it.
pub(crate) async fn refused_then_decided(
    app: &TestApp,
    refused: &reqwest::Client,
    sue: &reqwest::Client,
    id: &str,
    path: &str,
) {
    let (code, body) = approve_over_http(app, refused, id).await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    assert!(body.to_lowercase().contains(path), "expected \"{path}\" in {body}");
    assert_eq!(status(app, id).await, HeldStatus::Pending, "the refusal changed nothing");
    let (code, body) = approve_over_http(app, sue, id).await;
    assert_eq!(code, StatusCode::OK, "an independent supervisor decides it: {body}");
    assert_eq!(status(app, id).await, HeldStatus::Approved);
}

async fn whoever_touched_the_path_does_not_decide(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    app.person("ada@example.com", &[Role::Admin], &["acme"]).await;
    app.person("adam@example.com", &[Role::Admin, Role::Supervisor], &["acme"]).await;
    app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    app.person("omar@example.com", &[Role::Owner, Role::Supervisor], &["acme"]).await;
    app.person("sue@example.com", &[Role::Supervisor], &["acme"]).await;
    app.person("val@example.com", &[Role::Owner], &["acme"]).await;
    app.person("bea@example.com", &[Role::Admin, Role::Supervisor], &["acme"]).await;
    let bea = signed_in(&app, "bea@example.com").await;
    let (ada, adam, olu, omar, sue) = tokio::join!(
        signed_in(&app, "ada@example.com"),
        signed_in(&app, "adam@example.com"),
        signed_in(&app, "olu@example.com"),
        signed_in(&app, "omar@example.com"),
        signed_in(&app, "sue@example.com"),
    );

    // Minter: an admin who supervises mints a credential and would approve what it submits.
    let a = agent(&app, &ada, "minted", "olu@example.com").await;
    let id = submit(&app, &mint(&app, &adam, &a).await, example("p-1")).await;
    refused_then_decided(&app, &adam, &sue, &id, "you issued the credential this action was submitted with").await;

    // Parent minter: the same credential exchanged for a case credential keeps its minter.
    let parent = mint(&app, &adam, &a).await;
    let body = json!({ "case_id": "CS-1", "action_types": ["refund"] });
    let exchanged = case_credential(&app, &parent, body).await;
    assert_eq!(exchanged.status(), StatusCode::CREATED);
    let case = exchanged.json::<Value>().await.expect("json")["credential"].as_str().expect("token").to_string();
    let mut request = example("p-2");
    request["case"]["id"] = json!("CS-1");
    let id = submit(&app, &case, request).await;
    refused_then_decided(&app, &adam, &sue, &id, "you minted the credential this case credential came from").await;

    // Issuer registrant and subject binder: a workload token, and a case credential obtained with it.
    let idp = IdpKey::new("k1");
    let jwks_url = serve_jwks(Arc::new(Mutex::new(json!({ "keys": [idp.jwk()] })))).await;
    let form = [("tenant", "acme"), ("issuer", ISSUER), ("audience", AUDIENCE), ("jwks_url", &jwks_url), ("jwks", "")];
    assert_eq!(app.call(&adam, "agents/issuers/add", &form).await.status(), StatusCode::OK);
    let w = agent(&app, &ada, "workload", "olu@example.com").await;
    let subject = "spiffe://acme.example/support/provenance";
    update(&app, &bea, &w, "refund:5000.00EUR", Some(subject)).await;
    let token = idp.sign(&claims(&app, subject));
    let r = post(&app, &token, &example("p-3")).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap_or_default());
    let id = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    let (code, body) = approve_over_http(&app, &adam, &id).await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("registered the identity provider that vouched for this agent"), "{body}");
    // Someone else widens the scope later: the binder stays remembered (the history is append-only).
    update(&app, &ada, &w, "refund:6000.00EUR", None).await;
    refused_then_decided(&app, &bea, &sue, &id, "you bound this agent to its workload identity").await;
    let exchanged = case_credential(&app, &token, json!({ "case_id": "CS-3", "action_types": ["refund"] })).await;
    let case = exchanged.json::<Value>().await.expect("json")["credential"].as_str().expect("token").to_string();
    let mut request = example("p-4");
    request["case"]["id"] = json!("CS-3");
    let id = submit(&app, &case, request).await;
    refused_then_decided(&app, &adam, &sue, &id, "registered the identity provider").await;

    // Whoever changes the issuer later sets its keys too: as much a producer as its registrant.
    let acme = app.store.tenant_by_slug("acme").await.expect("read").expect("acme").id;
    let issuer = app.store.issuers(&[acme]).await.expect("issuers")[0].id.to_string();
    let form = [("id", issuer.as_str()), ("audience", AUDIENCE), ("jwks_url", &jwks_url), ("jwks", "")];
    assert_eq!(app.call(&bea, "agents/issuers/change", &form).await.status(), StatusCode::OK);
    let r = post(&app, &idp.sign(&claims(&app, subject)), &example("p-4b")).await;
    let id = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    refused_then_decided(&app, &bea, &sue, &id, "registered the identity provider").await;
    // Removing the issuer ends the case credentials its tokens obtained.
    let form = [("id", issuer.as_str()), ("confirm", ISSUER)];
    assert_eq!(app.call(&ada, "agents/issuers/remove", &form).await.status(), StatusCode::OK);
    let mut request = example("p-4c");
    request["case"]["id"] = json!("CS-3");
    assert_eq!(post(&app, &case, &request).await.status(), StatusCode::UNAUTHORIZED);

    // Scope editor: whoever widened the scope, even after someone else edited it again.
    let s = agent(&app, &ada, "widened", "olu@example.com").await;
    update(&app, &adam, &s, "refund:6000.00EUR", None).await;
    update(&app, &ada, &s, "refund:7000.00EUR", None).await;
    let id = submit(&app, &mint(&app, &olu, &s).await, example("p-5")).await;
    refused_then_decided(&app, &adam, &sue, &id, "you widened this agent's scope").await;

    // Former owner: what they submitted before handing over stays theirs; their credentials end with it.
    let f = agent(&app, &ada, "handed-over", "omar@example.com").await;
    let kept = mint(&app, &omar, &f).await;
    let id = submit(&app, &kept, example("p-6")).await;
    let form = [("agent", f.as_str()), ("to", "olu@example.com")];
    assert_eq!(app.call(&omar, "agents/handover/propose", &form).await.status(), StatusCode::OK);
    let handover = app.store.handovers(None, None).await.expect("handovers");
    let handover = handover.iter().find(|h| h.agent.to_string() == f).expect("proposed").id.to_string();
    let form = [("handover", handover.as_str()), ("accept", "true")];
    assert_eq!(app.call(&olu, "agents/handover/answer", &form).await.status(), StatusCode::OK);
    assert_eq!(post(&app, &kept, &example("p-7")).await.status(), StatusCode::UNAUTHORIZED, "revoked by hand-over");
    let (code, body) = approve_over_http(&app, &omar, &id).await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    assert!(body.to_lowercase().contains("you owned this agent when it asked"), "{body}");
    // Its credential is revoked now: an independent supervisor may deny it, not approve it.
    let (code, body) = approve_over_http(&app, &sue, &id).await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("has been revoked"), "{body}");
    let form = [("id", id.as_str()), ("form[verdict]", "deny"), ("form[amount]", "")];
    let form = [form.as_slice(), &[("form[preset]", ""), ("form[reason]", "submitted by its former owner")]].concat();
    assert_eq!(app.call(&sue, "queue/decide", &form).await.status(), StatusCode::OK);
    assert_eq!(status(&app, &id).await, HeldStatus::Denied);

    // Account provisioner: an admin creates a supervisor with a password they chose, then mints.
    add_vic(&app, &adam).await;
    let vic = app.browser();
    assert_eq!(app.sign_in(&vic, "vic@example.com", VIC_ONE_TIME).await.status(), StatusCode::OK);
    let form = [("current", VIC_ONE_TIME), ("new", PASSWORD), ("confirm", PASSWORD)];
    assert!(app.call(&vic, "account/password", &form).await.status().is_success());
    let vic = signed_in(&app, "vic@example.com").await;
    let p = agent(&app, &ada, "provisioned", "olu@example.com").await;
    let id = submit(&app, &mint(&app, &adam, &p).await, example("p-8")).await;
    refused_then_decided(&app, &vic, &sue, &id, "the person who created your account also issued the credential").await;

    // Role granter: an admin makes someone a supervisor, then mints.
    let val = app.service.person_by_email("val@example.com").await.expect("val").id.to_string();
    let form = [("person", val.as_str()), ("roles[]", "owner"), ("roles[]", "supervisor"), ("tenants[]", "acme")];
    assert!(app.call(&adam, "people/edit", &form).await.status().is_success());
    let val = signed_in(&app, "val@example.com").await;
    let g = agent(&app, &ada, "granted", "olu@example.com").await;
    let id = submit(&app, &mint(&app, &adam, &g).await, example("p-9")).await;
    refused_then_decided(&app, &val, &sue, &id, "the person who made you a supervisor also issued the credential")
        .await;
    app.stop().await;
}

async fn case_credentials_stay_within_their_parent(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    app.person("ada@example.com", &[Role::Admin], &["acme"]).await;
    app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    let (ada, olu) = tokio::join!(signed_in(&app, "ada@example.com"), signed_in(&app, "olu@example.com"));
    let a = agent(&app, &ada, "bounded", "olu@example.com").await;
    let minted: Value = app
        .call(&olu, "agents/credentials/mint", &[("agent", a.as_str()), ("ttl", "1h")])
        .await
        .json()
        .await
        .expect("json");
    let parent = minted["secret"].as_str().expect("secret").to_string();
    let parent_id = minted["credential"]["id"].as_str().expect("credential id").to_string();
    let exchanged = case_credential(&app, &parent, json!({ "case_id": "CS-A", "action_types": ["refund"] })).await;
    let case_a: Value = exchanged.json().await.expect("json");
    let case_a = case_a["credential"].as_str().expect("token").to_string();

    // A credential for case A neither reads nor withdraws case B's action, which answers as missing.
    let mut b = example("b-1");
    b["case"]["id"] = json!("CS-B");
    let b = submit(&app, &parent, b).await;
    let client = reqwest::Client::new();
    let read = client.get(app.url(&format!("/api/v1/held-actions/{b}"))).bearer_auth(&case_a).send().await;
    assert_eq!(read.expect("get").status(), StatusCode::NOT_FOUND);
    let withdraw = client.delete(app.url(&format!("/api/v1/held-actions/{b}"))).bearer_auth(&case_a).send().await;
    assert_eq!(withdraw.expect("post").status(), StatusCode::NOT_FOUND);
    assert_eq!(status(&app, &b).await, HeldStatus::Pending);

    // Revoking the parent ends the case credential at once.
    let r = app.call(&olu, "agents/credentials/revoke", &[("credential", parent_id.as_str())]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let mut a1 = example("a-1");
    a1["case"]["id"] = json!("CS-A");
    assert_eq!(post(&app, &case_a, &a1).await.status(), StatusCode::UNAUTHORIZED, "the parent's revocation ends it");
    app.stop().await;
}

/// What the provenance migration reads from rows written before it: the same producers and provisioners
/// the live code records (the migration's backfill statements, run again over emptied tables).
async fn the_migration_backfills_provenance_from_what_was_recorded(backend: Backend) {
    let dir = if matches!(backend, Backend::Sqlite) { "sqlite" } else { "postgres" };
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    app.person("ada@example.com", &[Role::Admin], &["acme"]).await;
    let adam_id = app.person("adam@example.com", &[Role::Admin, Role::Supervisor], &["acme"]).await;
    app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    let (ada, adam) = tokio::join!(signed_in(&app, "ada@example.com"), signed_in(&app, "adam@example.com"));
    add_vic(&app, &adam).await;
    let vic = app.service.person_by_email("vic@example.com").await.expect("vic").id;
    let a = agent(&app, &ada, "before", "olu@example.com").await;
    let id = submit(&app, &mint(&app, &adam, &a).await, example("m-1")).await;
    let held = id.parse().expect("uuid");
    let mut live = app.store.producers(held).await.expect("producers");
    live.sort();
    assert!(live.contains(&(adam_id, Path::MintedCredential)), "{live:?}");
    let made = Provisioned { user: vic, by: adam_id, how: Provision::CreatedAccount };
    assert_eq!(app.store.provisioned(&[vic]).await.expect("provisioned"), [made]);

    app.db.execute("DELETE FROM held_action_provenance; DELETE FROM account_provenance").await;
    assert!(app.store.provisioned(&[vic]).await.expect("provisioned").is_empty());
    let file = format!("{}/migrations/{dir}/0018_provenance.sql", env!("CARGO_MANIFEST_DIR"));
    let migration = std::fs::read_to_string(file).expect("migration");
    // The migration's backfill statements, comments left out.
    let backfills: Vec<String> = migration
        .split(';')
        .map(|s| s.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n"))
        .filter(|s| {
            ["held_action_provenance", "account_provenance"].iter().any(|t| s.contains(&format!("INSERT INTO {t}")))
        })
        .collect();
    assert_eq!(backfills.len(), 5, "four held-action sources and one of accounts");
    for statement in &backfills {
        app.db.execute(statement).await;
    }
    let mut again = app.store.producers(held).await.expect("producers");
    again.sort();
    assert_eq!(again, live, "the backfill finds every producer the live code recorded");
    assert_eq!(app.store.provisioned(&[vic]).await.expect("provisioned"), [made]);
    app.stop().await;
}
