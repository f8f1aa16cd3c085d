//! Agents without standing secrets: workload-identity tokens from an issuer whose JWKS this test serves on
//! loopback, case-scoped credentials, and receipts that verify after the receipt key rotates.

use crate::api::{example, post};
use crate::harness::{Backend, TestApp};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use countersign::domain::access::Memberships;
use countersign::domain::access::Principal;
use countersign::domain::clock::Clock;
use countersign::domain::lifecycle::Change;
use countersign::domain::provenance::{Path, Tie};
use countersign::domain::review::{Refusal as ReviewRefusal, Reviewer, Vote};
use countersign::domain::Role;
use countersign::service::{By, DecideError, IssuerDraft};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

crate::on_both_stores!(
    workload_tokens_are_checked_like_credentials,
    case_credentials_are_bound_and_end_with_the_case,
    receipts_verify_with_the_published_keys_after_rotation,
    the_command_line_trusts_issuers_binds_agents_and_rotates_receipt_keys,
);

pub(crate) const ISSUER: &str = "https://idp.test.example";
pub(crate) const AUDIENCE: &str = "countersign-test";
pub(crate) const SUBJECT: &str = "spiffe://acme.example/support/refund-helper";

/// A signing key of the test's identity provider, with its `kid`.
pub(crate) struct IdpKey {
    kid: String,
    key: SigningKey,
}

impl IdpKey {
    pub(crate) fn new(kid: &str) -> IdpKey {
        IdpKey { kid: kid.into(), key: SigningKey::generate(&mut rand::rngs::OsRng) }
    }

    fn x(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.verifying_key().to_bytes())
    }

    pub(crate) fn jwk(&self) -> Value {
        json!({ "kty": "OKP", "crv": "Ed25519", "x": self.x(), "kid": self.kid, "alg": "EdDSA" })
    }

    pub(crate) fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        let der = self.key.to_pkcs8_der().expect("pkcs8");
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(der.as_bytes())).expect("sign")
    }
}

/// The identity provider's JWKS endpoint, on loopback; the test swaps its keys.
pub(crate) async fn serve_jwks(keys: Arc<Mutex<Value>>) -> String {
    let router = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let keys = keys.clone();
            async move { axum::Json(keys.lock().expect("keys").clone()) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/jwks.json", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    url
}

pub(crate) fn claims(app: &TestApp, sub: &str) -> Value {
    let now = app.clock.now().unix_timestamp();
    json!({ "iss": ISSUER, "sub": sub, "aud": AUDIENCE, "iat": now, "nbf": now, "exp": now + 300 })
}

pub(crate) struct Workload {
    pub(crate) app: TestApp,
    pub(crate) agent: Uuid,
    pub(crate) jwks_url: String,
    /// An admin who also supervises: registered the issuer.
    pub(crate) ada: Principal,
    pub(crate) idp: IdpKey,
    keys: Arc<Mutex<Value>>,
}

pub(crate) async fn setup(backend: Backend) -> Workload {
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    let (agent, _) = app.agent("acme", "olu@example.com", &["refund:500.00EUR", "password_reset"]).await;
    let acme = app.store.tenant_by_slug("acme").await.expect("tenant").expect("acme").id;
    let roles = [Role::Admin, Role::Supervisor];
    let ada = Principal {
        user: app.person("ada@example.com", &roles, &["acme"]).await,
        memberships: Memberships::uniform(&roles, &[acme]),
    };
    let idp = IdpKey::new("k1");
    let keys = Arc::new(Mutex::new(json!({ "keys": [idp.jwk()] })));
    let jwks_url = serve_jwks(keys.clone()).await;
    let draft = IssuerDraft {
        tenant: "acme".into(),
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        jwks_url: Some(jwks_url.clone()),
        jwks: None,
    };
    app.service.add_issuer(By::Person(&ada), draft).await.expect("issuer");
    app.service.bind_agent(By::Operator, agent, Some(SUBJECT), false).await.expect("bind");
    Workload { app, agent, jwks_url, ada, idp, keys }
}

async fn workload_tokens_are_checked_like_credentials(backend: Backend) {
    let w = setup(backend).await;
    let app = &w.app;
    let valid = w.idp.sign(&claims(app, SUBJECT));
    let created = post(app, &valid, &example("wl-1")).await;
    assert_eq!(created.status(), StatusCode::CREATED, "{}", created.text().await.unwrap_or_default());
    // Whoever registered the issuer could have signed that token: they do not decide it.
    let id = Uuid::parse_str(created.json::<Value>().await.expect("json")["id"].as_str().expect("id")).expect("uuid");
    let ada = Reviewer { user: w.ada.user, memberships: w.ada.memberships.clone(), stepped_up_at: None };
    let refused = app.service.decide(&ada, id, Vote::Approve { amount: None }).await;
    assert!(
        matches!(
            refused,
            Err(DecideError::Refused(ReviewRefusal::NotIndependent(Tie::Produced(Path::RegisteredIssuer))))
        ),
        "{refused:?}"
    );
    let events = app.store.audit_chain(0, 10_000).await.expect("audit");
    let submitted = events.iter().rev().find(|e| e.kind == "held_action.submitted").expect("submitted");
    let data: Value = serde_json::from_str(&submitted.data).expect("event data");
    assert_eq!(data["subject"], SUBJECT, "the audit event names the subject");

    let now = app.clock.now().unix_timestamp();
    let with = |patch: Value| {
        let mut c = claims(app, SUBJECT);
        patch.as_object().expect("object").iter().for_each(|(k, v)| c[k] = v.clone());
        c
    };
    let refused = [
        ("expired", w.idp.sign(&with(json!({ "exp": now - 120 })))),
        ("not yet valid", w.idp.sign(&with(json!({ "nbf": now + 600 })))),
        ("wrong audience", w.idp.sign(&with(json!({ "aud": "someone-else" })))),
        ("wrong issuer", w.idp.sign(&with(json!({ "iss": "https://evil.example" })))),
        ("unbound subject", w.idp.sign(&with(json!({ "sub": "spiffe://acme.example/support/other" })))),
        ("another key", IdpKey::new("k1").sign(&claims(app, SUBJECT))),
        ("alg none", unsigned(&claims(app, SUBJECT))),
        ("HMAC with the public key", hmac_with(&w.idp.x(), &claims(app, SUBJECT))),
    ];
    for (case, token) in refused {
        let response = post(app, &token, &example(&format!("wl-{case}"))).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{case}");
        let problem: Value = response.json().await.expect("problem");
        assert_eq!(problem["status"], 401, "{case}: {problem}");
    }

    // A key the issuer has not published yet is refused; once the issuer rotates to it, it works.
    let next = IdpKey::new("k2");
    let early = post(app, &next.sign(&claims(app, SUBJECT)), &example("wl-k2-early")).await;
    assert_eq!(early.status(), StatusCode::UNAUTHORIZED);
    *w.keys.lock().expect("keys") = json!({ "keys": [w.idp.jwk(), next.jwk()] });
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let rotated = post(app, &next.sign(&claims(app, SUBJECT)), &example("wl-k2")).await;
    assert_eq!(rotated.status(), StatusCode::CREATED, "the JWKS is fetched again for an unknown kid");

    app.service.change_agent_state(By::Operator, w.agent, Change::Retire, "replaced", None).await.expect("retire");
    let retired = post(app, &w.idp.sign(&claims(app, SUBJECT)), &example("wl-retired")).await;
    assert_eq!(retired.status(), StatusCode::FORBIDDEN);
    w.app.stop().await;
}

fn unsigned(claims: &Value) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.", part(&json!({ "alg": "none", "typ": "JWT", "kid": "k1" })), part(claims))
}

/// The classic confusion attack: HS256 keyed with the issuer's public key.
fn hmac_with(public: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k1".into());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(public.as_bytes()).expect("key")).expect("hmac")
}

pub(crate) async fn case_credential(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    let client = reqwest::Client::new();
    client.post(app.url("/api/v1/credentials")).bearer_auth(token).json(&body).send().await.expect("post")
}

async fn case_credentials_are_bound_and_end_with_the_case(backend: Backend) {
    let w = setup(backend).await;
    let app = &w.app;
    let token = w.idp.sign(&claims(app, SUBJECT));
    let refused = case_credential(app, &token, json!({ "case_id": "CS-8812", "action_types": ["mfa_reset"] })).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "outside the agent's scope");
    let long = json!({ "case_id": "CS-8812", "action_types": ["refund"], "ttl_seconds": 7200 });
    assert_eq!(case_credential(app, &token, long).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let issued = case_credential(app, &token, json!({ "case_id": "CS-8812", "action_types": ["refund"] })).await;
    assert_eq!(issued.status(), StatusCode::CREATED);
    let issued: Value = issued.json().await.expect("json");
    let csa = issued["credential"].as_str().expect("credential").to_string();
    assert!(csa.starts_with("csa_"));
    let expires = time::OffsetDateTime::parse(
        issued["expires_at"].as_str().expect("at"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("rfc3339");
    assert_eq!((expires - app.clock.now()).whole_minutes(), 15, "15 minutes by default");

    let mut other_case = example("case-2");
    other_case["case"]["id"] = json!("CS-9999");
    let response = post(app, &csa, &other_case).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let problem: Value = response.json().await.expect("problem");
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("CS-8812")), "{problem}");
    let mut reset = example("case-3");
    reset["action"] = json!({ "type": "password_reset", "parameters": { "user": "cus_123" } });
    assert_eq!(post(app, &csa, &reset).await.status(), StatusCode::FORBIDDEN, "another action type");
    assert_eq!(post(app, &csa, &example("case-1")).await.status(), StatusCode::CREATED);
    let again = case_credential(app, &csa, json!({ "case_id": "CS-8812", "action_types": ["refund"] })).await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY, "a case credential cannot mint another");

    // It lives 15 minutes…
    let second = case_credential(app, &token, json!({ "case_id": "CS-7", "action_types": ["refund"] })).await;
    let second = second.json::<Value>().await.expect("json")["credential"].as_str().expect("csa").to_string();
    app.clock.advance(time::Duration::minutes(16));
    let mut late = example("case-7");
    late["case"]["id"] = json!("CS-7");
    assert_eq!(post(app, &second, &late).await.status(), StatusCode::UNAUTHORIZED, "expired");

    // …and the case's close ends it at once.
    let token = w.idp.sign(&claims(app, SUBJECT));
    let body = json!({ "case_id": "CS-8812", "action_types": ["refund"], "ttl_seconds": 3600 });
    let third = case_credential(app, &token, body).await.json::<Value>().await.expect("json");
    let third = third["credential"].as_str().expect("csa").to_string();
    let closed: Value = reqwest::Client::new()
        .post(app.url("/api/v1/cases/CS-8812/close"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("close")
        .json()
        .await
        .expect("json");
    assert_eq!(closed["revoked"], 1, "{closed}");
    assert_eq!(post(app, &third, &example("case-closed")).await.status(), StatusCode::UNAUTHORIZED);
    assert!(app.audit_kinds().await.contains(&"case.closed".to_string()));

    // Workload identity only: the owner's long-lived credential stops working, case credentials do not.
    let minted = app.service.issue_credential(By::Operator, w.agent, time::Duration::hours(1)).await;
    let owner_minted = minted.expect("minted").1;
    app.service.bind_agent(By::Operator, w.agent, Some(SUBJECT), true).await.expect("workload only");
    assert_eq!(post(app, &owner_minted, &example("owner-minted")).await.status(), StatusCode::FORBIDDEN);
    assert!(app.service.issue_credential(By::Operator, w.agent, time::Duration::hours(1)).await.is_err());
    let body = json!({ "case_id": "CS-1", "action_types": ["refund"] });
    let fourth = case_credential(app, &token, body).await.json::<Value>().await.expect("json");
    let fourth = fourth["credential"].as_str().expect("csa").to_string();

    // Retirement ends every credential.
    app.service.change_agent_state(By::Operator, w.agent, Change::Retire, "replaced", None).await.expect("retire");
    let mut last = example("case-retired");
    last["case"]["id"] = json!("CS-1");
    assert_ne!(post(app, &fourth, &last).await.status(), StatusCode::CREATED);
    let live = app.store.credentials(w.agent).await.expect("credentials");
    assert!(live.iter().all(|c| c.revoked_at.is_some() || c.expires_at <= app.clock.now()));
    w.app.stop().await;
}

async fn receipts_verify_with_the_published_keys_after_rotation(backend: Backend) {
    use countersign::domain::receipt::Attested;
    let app = TestApp::start(backend).await;
    let old = app.service.receipt_key().await.expect("key");
    let what = Attested {
        id: Uuid::now_v7(),
        status: "denied",
        approvals: 0,
        approved_amount: None,
        decided_at: app.clock.now(),
        content_hash: "abc",
        reason: Some("not the customer's order"),
    };
    let receipt = old.sign(&what).expect("signs");
    let rotated = app.service.rotate_receipt_key().await.expect("rotate");
    assert_ne!(rotated.kid(), old.kid());
    let current: Value = reqwest::get(app.url("/api/v1/receipt-key")).await.expect("get").json().await.expect("json");
    assert_eq!(current["kid"], rotated.kid(), "the new key signs from now on");
    let jwks: jsonwebtoken::jwk::JwkSet =
        reqwest::get(app.url("/.well-known/jwks.json")).await.expect("get").json().await.expect("json");
    assert_eq!(jwks.keys.len(), 2, "the old key stays published");
    let kid = jsonwebtoken::decode_header(&receipt).expect("header").kid.expect("kid");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwks.find(&kid).expect("old key published")).expect("key");
    let mut validation = jsonwebtoken::Validation::new(Algorithm::EdDSA);
    validation.required_spec_claims.clear();
    let claims: Value = jsonwebtoken::decode(&receipt, &key, &validation).expect("an old receipt verifies").claims;
    assert_eq!(
        (claims["status"].as_str(), claims["reason"].as_str()),
        (Some("denied"), Some("not the customer's order"))
    );
    assert!(app.service.receipt_keys().await.expect("keys").verify(&what, &receipt));
    assert!(app.audit_kinds().await.contains(&"receipt_key.rotated".to_string()));
    app.stop().await;
}

async fn the_command_line_trusts_issuers_binds_agents_and_rotates_receipt_keys(backend: Backend) {
    use crate::cli::{countersign, tenant_with_owner, text};
    let db = crate::harness::TestDb::create(&backend).await;
    tenant_with_owner(&db);
    let add = [
        "agent",
        "add",
        "--tenant",
        "acme",
        "--name",
        "helper",
        "--owner",
        "olu@example.com",
        "--allow",
        "refund:100.00EUR",
    ];
    let agent = countersign(&db, &add, "");
    let agent = text(&agent.stdout).lines().next().unwrap_or_default().to_string();
    let jwks = db.key_file().with_extension("jwks.json");
    let idp = IdpKey::new("cli-1");
    std::fs::write(&jwks, json!({ "keys": [idp.jwk()] }).to_string()).expect("write jwks");
    let jwks = jwks.display().to_string();
    let trust = ["issuer", "add", "--tenant", "acme", "--issuer", "spiffe://acme.example", "--audience", AUDIENCE];
    let issuer = countersign(&db, &[&trust[..], &["--jwks-file", &jwks]].concat(), "");
    assert!(issuer.status.success(), "{}", text(&issuer.stderr));
    assert!(Uuid::parse_str(text(&issuer.stdout).trim()).is_ok(), "prints the issuer's id");
    let again = countersign(&db, &[&trust[..], &["--jwks-file", &jwks]].concat(), "");
    assert!(!again.status.success(), "the same issuer twice for a tenant is refused");
    let neither = countersign(&db, &trust, "");
    assert!(!neither.status.success(), "a JWKS URL or file is required");
    let bind = countersign(&db, &["agent", "bind", "--agent", &agent, "--subject", SUBJECT], "");
    assert!(bind.status.success(), "{}", text(&bind.stderr));
    assert!(text(&bind.stdout).contains(SUBJECT));
    let bad = countersign(&db, &["agent", "bind", "--agent", &agent, "--subject", "has a space"], "");
    assert!(!bad.status.success());
    let first = countersign(&db, &["receipt-key", "rotate"], "");
    let second = countersign(&db, &["receipt-key", "rotate"], "");
    assert!(first.status.success() && second.status.success(), "{}", text(&first.stderr));
    assert_ne!(text(&first.stdout), text(&second.stdout), "each rotation adds a key and prints its kid");

    // A SPIFFE trust domain vouches for IDs under it without an `iss`, and only for those.
    let config = countersign::config::Config {
        database_url: db.url.clone(),
        secret_key_file: db.key_file().display().to_string(),
        ..Default::default()
    };
    let store = countersign::server::open_store(&config).await.expect("store");
    let clock = Arc::new(countersign::domain::clock::ManualClock::new(time::OffsetDateTime::now_utc()));
    let service = countersign::server::service(&config, store, clock.clone()).await.expect("service");
    let now = clock.now().unix_timestamp();
    let svid = json!({ "sub": SUBJECT, "aud": AUDIENCE, "exp": now + 300 });
    assert!(service.authenticate_agent(&idp.sign(&svid)).await.is_ok(), "a JWT-SVID authenticates");
    let outside = json!({ "sub": "spiffe://other.example/support/refund-helper", "aud": AUDIENCE, "exp": now + 300 });
    assert!(service.authenticate_agent(&idp.sign(&outside)).await.is_err(), "another trust domain");
    assert_eq!(service.receipt_keys().await.expect("keys").jwks()["keys"].as_array().map(Vec::len), Some(3));
    drop(service);
    db.drop().await;
}
