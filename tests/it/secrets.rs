//! Secrets at rest: webhook signing secrets and the receipt key are stored sealed with a key kept outside
//! the database, open only with it, and move to a new key with `countersign secret-key rotate`.

use crate::cli::{countersign, text};
use crate::harness::{Backend, TestApp, TestDb};
use countersign::config::Config;
use countersign::domain::clock::SystemClock;
use countersign::domain::Role;
use countersign::server;
use countersign::service::{AgentDraft, By};
use std::sync::Arc;

crate::on_both_stores!(stored_secrets_are_sealed_and_rotate_to_a_new_key, the_command_line_makes_and_rotates_keys);

fn draft(tenant: &str, owner: &str) -> AgentDraft {
    AgentDraft {
        tenant: tenant.into(),
        name: format!("hooked-{}", uuid::Uuid::now_v7().simple()),
        purpose: "Resolves support chats".into(),
        owner_email: owner.into(),
        sponsor_email: None,
        allowances: vec!["refund:500.00EUR".into()],
        webhook_url: Some("http://127.0.0.1:9/hook".into()),
    }
}

async fn stored_secrets_are_sealed_and_rotate_to_a_new_key(backend: Backend) {
    let (old, new) = (server_key(), server_key());
    let config = |current: &str, previous: Option<&str>| Config {
        webhook_allow_private: true,
        secret_key: Some(current.into()),
        secret_key_previous: previous.map(str::to_string),
        ..Config::default()
    };
    let app = TestApp::start_with(backend, config(&old, None)).await;
    app.tenant("acme").await;
    app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    let (agent, secret) =
        app.service.create_agent(By::Operator, draft("acme", "olu@example.com")).await.expect("agent");
    let secret = secret.expect("a webhook secret, shown once");
    let receipt_key = app.service.receipt_key().await.expect("receipt key").public_key();
    let stored = app.store.stored_secrets().await.expect("stored");
    assert_eq!(stored.len(), 2, "the agent's webhook secret and the receipt key");
    assert!(stored.iter().all(|(_, s)| s.starts_with("sealed.v1.") && !s.contains(&secret)), "{stored:?}");
    let kinds = app.audit_kinds().await;
    assert_eq!(kinds.iter().filter(|k| *k == "receipt_key.created").count(), 1);
    app.service.receipt_key().await.expect("again");
    // A value from before sealing is read as it is, and sealed by the rotation.
    let legacy = app.service.create_agent(By::Operator, draft("acme", "olu@example.com")).await.expect("agent").0;
    app.db
        .try_execute(&format!("UPDATE agents SET webhook_secret = 'whsec_plain' WHERE name = '{}'", legacy.name))
        .await
        .expect("a plaintext secret");

    // Another process with only the new key opens nothing of the old.
    let stranger = server::service(&config(&new, None), app.store.clone(), Arc::new(SystemClock)).await.expect("svc");
    assert!(stranger.receipt_key().await.is_err(), "the receipt key does not open with another key");
    let rotating = server::service(&config(&new, Some(&old)), app.store.clone(), Arc::new(SystemClock)).await;
    let rotating = rotating.expect("service");
    let signed = app.service.checkpoint().await.expect("checkpoint").expect("the head signed with the old key");
    assert_eq!(rotating.reseal_secrets().await.expect("reseal"), (3, 1), "two sealed with the old key, one plaintext");
    assert_eq!(rotating.reseal_secrets().await.expect("again"), (0, 0), "nothing left to move");
    let after = server::service(&config(&new, None), app.store.clone(), Arc::new(SystemClock)).await.expect("svc");
    // The old key is forgotten, yet the checkpoint it signed still counts: the rotation re-signed it.
    let (check, left_out) = after.verify_audit_chain_against(vec![]).await.expect("verify");
    assert_eq!((check.broken.map(|b| b.reason), left_out), (None, 0));
    let checkpoints = app.store.checkpoints().await.expect("checkpoints");
    assert_eq!(checkpoints.iter().map(|c| (c.seq, &c.hash)).collect::<Vec<_>>(), [(signed.seq, &signed.hash)]);
    assert_ne!(checkpoints[0].key_id, signed.key_id, "signed with the new key now");
    assert_eq!(after.receipt_key().await.expect("opens with the new key").public_key(), receipt_key, "same key");
    let stored = app.store.stored_secrets().await.expect("stored");
    assert!(stored.iter().all(|(_, s)| s.starts_with("sealed.v1.") && !s.contains("whsec_plain")), "{stored:?}");
    let resealed = app.audit_kinds().await.iter().filter(|k| *k == "secrets.resealed").count();
    assert_eq!(resealed, 2, "each rotation is audited");
    assert!(stored.iter().any(|(of, _)| *of == countersign::store::SecretOf::Agent(agent.id)));
    app.stop().await;
}

fn server_key() -> String {
    countersign::domain::sealing::SecretKey::generate().encode()
}

async fn the_command_line_makes_and_rotates_keys(backend: Backend) {
    let db = TestDb::create(&backend).await;
    let made = countersign(&db, &["secret-key", "new"], "");
    assert!(made.status.success(), "{}", text(&made.stderr));
    let key = text(&made.stdout).trim().to_string();
    assert_eq!(key.len(), 43, "32 bytes in base64url: {key}");
    assert!(countersign(&db, &["migrate"], "").status.success());
    // The first run made the key file beside the database; rotating with no new key moves nothing.
    assert!(db.key_file().exists(), "a key file was made");
    let rotated = countersign(&db, &["secret-key", "rotate"], "");
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    assert!(
        text(&rotated.stdout).starts_with("0 stored secret(s) resealed and 0 checkpoint(s) re-signed with key "),
        "{}",
        text(&rotated.stdout)
    );
    db.drop().await;
}
