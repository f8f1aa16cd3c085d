//! Background work survives bad data and reports itself: a row that cannot be read is skipped and named
//! while the rest is done, and `/readyz` lists the tasks and fails when one has stopped.

use crate::api::{example, post};
use crate::harness::{Backend, TestApp};
use countersign::domain::Role;
use reqwest::StatusCode;
use serde_json::Value;

crate::on_both_stores!(expiry_skips_an_unreadable_row_and_expires_the_rest, readyz_reports_a_stopped_task);

async fn expiry_skips_an_unreadable_row_and_expires_the_rest(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    let (_, token) = app.agent("acme", "olu@example.com", &["refund:500.00EUR"]).await;
    let mut ids = Vec::new();
    for key in ["bad", "good-1", "good-2"] {
        let created: Value = post(&app, &token, &example(key)).await.json().await.expect("json");
        ids.push(created["id"].as_str().expect("id").to_string());
    }
    // Damaged by hand (a bad migration, a manual edit): its amount no longer reads as money.
    app.db
        .try_execute("UPDATE held_actions SET amount_value = 'twelve' WHERE idempotency_key = 'bad'")
        .await
        .expect("damage one row");
    app.clock.advance(time::Duration::days(2));
    let (expired, skipped) = app.service.expiry_pass().await.expect("the pass completes");
    assert_eq!(expired, 2, "the readable ones expire");
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(skipped[0].contains(&ids[0]), "the skipped row is named: {skipped:?}");
    let (again, skipped) = app.service.expiry_pass().await.expect("the next pass");
    assert_eq!((again, skipped.len()), (0, 1), "still skipped, never blocking, never looping");
    app.stop().await;
}

async fn readyz_reports_a_stopped_task(backend: Backend) {
    let app = TestApp::start(backend).await;
    let ready = reqwest::get(app.url("/readyz")).await.expect("readyz");
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.expect("json");
    let intake = body["tasks"].as_array().and_then(|t| t.iter().find(|t| t["name"] == "intake").cloned());
    assert_eq!(intake.expect("the intake writer is listed")["state"], "running", "{body}");
    // A task whose loop ended (here: one registered and dropped, as a task's guard is when its loop exits).
    drop(app.service.tasks.register("sweeper", None));
    let stopped = reqwest::get(app.url("/readyz")).await.expect("readyz");
    assert_eq!(stopped.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = stopped.json().await.expect("json");
    assert_eq!(body["reason"], "background task stopped: sweeper", "{body}");
    app.stop().await;
}
