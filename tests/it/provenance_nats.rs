//! The provenance matrix's JetStream row: a held action published by a policy gateway, with a case
//! credential exchanged from a credential an admin who supervises minted, is theirs to produce, not decide.

use crate::api::example;
use crate::duties::{mint, signed_in};
use crate::harness::{Backend, TestApp};
use crate::nats::{config, consume, keep_account_storage, nats_url};
use crate::provenance::{agent, refused_then_decided};
use crate::workload::case_credential;
use countersign::domain::{HeldStatus, Role};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use uuid::Uuid;

crate::on_both_stores!(a_gateways_message_is_not_decided_by_who_minted_its_credential);

async fn a_gateways_message_is_not_decided_by_who_minted_its_credential(backend: Backend) {
    let Some(url) = nats_url() else {
        eprintln!("COUNTERSIGN_TEST_NATS_URL not set: NATS run skipped");
        return;
    };
    let js = async_nats::jetstream::new(async_nats::connect(&url).await.expect("nats"));
    keep_account_storage(&js).await;
    let prefix = format!("t{}", Uuid::now_v7().simple());
    // Only short-lived credentials on the stream, as deployed.
    let config = countersign::config::Config { nats_allow_long_lived_credentials: false, ..config(&url, &prefix) };
    let app = TestApp::start_with(backend, config.clone()).await;
    app.tenant("acme").await;
    app.person("ada@example.com", &[Role::Admin], &["acme"]).await;
    app.person("adam@example.com", &[Role::Admin, Role::Supervisor], &["acme"]).await;
    app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    app.person("sue@example.com", &[Role::Supervisor], &["acme"]).await;
    let (ada, adam, sue) = tokio::join!(
        signed_in(&app, "ada@example.com"),
        signed_in(&app, "adam@example.com"),
        signed_in(&app, "sue@example.com"),
    );
    let a = agent(&app, &ada, "gateway", "olu@example.com").await;
    let parent = mint(&app, &adam, &a).await;
    let exchanged = case_credential(&app, &parent, json!({ "case_id": "CS-J", "action_types": ["refund"] })).await;
    assert_eq!(exchanged.status(), StatusCode::CREATED);
    let case = exchanged.json::<Value>().await.expect("json")["credential"].as_str().expect("token").to_string();
    consume(&app.service, &config).await;

    let mut body = example("j-1");
    body["case"]["id"] = json!("CS-J");
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Authorization", format!("Bearer {case}").as_str());
    let subject = format!("{prefix}.held.acme");
    let ack = js.publish_with_headers(subject, headers, body.to_string().into()).await.expect("publish");
    ack.await.expect("stored");

    let agent_id: Uuid = a.parse().expect("uuid");
    let deadline = Instant::now() + Duration::from_secs(30);
    let id = loop {
        let pending = app.store.pending_of_agent(agent_id).await.expect("pending");
        if let Some(held) = pending.first() {
            break held.id.to_string();
        }
        assert!(Instant::now() < deadline, "the message was never stored");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    refused_then_decided(&app, &adam, &sue, &id, "you minted the credential this case credential came from").await;
    let held = app.store.held_action(id.parse().expect("uuid")).await.expect("read").expect("held");
    assert_eq!(held.status, HeldStatus::Approved);

    let upper = prefix.to_uppercase();
    for stream in [config.nats_stream.clone(), format!("{upper}_INTAKE"), format!("{upper}_OUTCOMES")] {
        let _ = js.delete_stream(&stream).await;
    }
    app.stop().await;
}
