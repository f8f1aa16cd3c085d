//! The agent API's cells: every operation of the OpenAPI document the server serves, with the credential
//! of an agent of the own tenant, of another agent of the same tenant, of an agent of another tenant, and
//! with none. An agent reaches only its own held actions; another's read exactly like missing ones.

use super::rules::{self, ApiRule};
use super::world::{rows, snapshot, Worlds};
use super::Findings;
use crate::api::example;
use crate::harness::TestApp;
use reqwest::{Method, StatusCode};

async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> (StatusCode, String) {
    let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).expect("method");
    let mut request = reqwest::Client::new().request(method, app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let answer = request.send().await.expect("API call");
    (answer.status(), answer.text().await.unwrap_or_default())
}

pub async fn operations(app: &TestApp, worlds: &Worlds, found: &mut Findings) {
    let doc: serde_json::Value =
        reqwest::get(app.url("/api/openapi.json")).await.expect("openapi").json().await.expect("json");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 5, "{paths:?}");
    let (own, other) = (&worlds.own, &worlds.other);
    // A second agent of the own tenant: the same tenant, yet not its held actions.
    let mut sibling = own.fresh(app, "agents/state").await;
    sibling.token = {
        let agent = sibling.agent.parse().expect("uuid");
        let by = countersign::service::By::Operator;
        app.service.issue_credential(by, agent, time::Duration::hours(1)).await.expect("credential").1
    };
    for (path, item) in paths {
        for method in item.as_object().expect("operations").keys() {
            let rule = rules::api(method, path);
            let op = format!("{} {path}", method.to_uppercase());
            match rule {
                ApiRule::Public => {
                    let (status, body) = send(app, method, path, None, None).await;
                    found.cells += 1;
                    if !status.is_success() {
                        found.fail(&op, "anyone", "none", format!("{status} {body}"));
                    }
                }
                ApiRule::Agent => {
                    let body = if path.ends_with("held-actions") {
                        example(&uuid::Uuid::now_v7().to_string())
                    } else {
                        serde_json::json!({ "case_id": "CS-8812", "action_types": ["refund"] })
                    };
                    let (status, text) = send(app, method, path, Some(&own.base.token), Some(body.clone())).await;
                    if !status.is_success() {
                        found.fail(&op, "own agent", "own", format!("{status} {text}"));
                    }
                    for (who, token) in [("no credential", None), ("a made-up credential", Some("csa_nothing"))] {
                        let (status, text) = send(app, method, path, token, Some(body.clone())).await;
                        if status != StatusCode::UNAUTHORIZED {
                            found.fail(&op, who, "none", format!("{status} {text}"));
                        }
                    }
                    found.cells += 3;
                }
                ApiRule::OwnHeld => {
                    let fresh = own.held(app).await;
                    let at = |id: &str| path.replace("{id}", id);
                    let (status, text) = send(app, method, &at(&fresh), Some(&own.base.token), None).await;
                    if !status.is_success() {
                        found.fail(&op, "own agent", "own", format!("{status} {text}"));
                    }
                    let (status, _) = send(app, method, &at(&fresh), None, None).await;
                    if status != StatusCode::UNAUTHORIZED {
                        found.fail(&op, "no credential", "own", format!("{status}"));
                    }
                    let held = own.held(app).await;
                    let theirs = other.held(app).await;
                    let ghost = uuid::Uuid::now_v7().to_string();
                    let before = snapshot(app, worlds, &other.base).await;
                    let mut answers = Vec::new();
                    for (who, token, id, label) in [
                        ("other tenant's agent", &other.base.token, &held, "other"),
                        ("own agent", &own.base.token, &theirs, "other"),
                        ("another agent of the tenant", &sibling.token, &held, "other"),
                        ("own agent", &own.base.token, &ghost, "none"),
                    ] {
                        let (status, text) = send(app, method, &at(id), Some(token), None).await;
                        if status != StatusCode::NOT_FOUND {
                            found.fail(&op, who, label, format!("expected 404, got {status} {text}"));
                        }
                        answers.push((status, text.replace(id.as_str(), "<id>")));
                    }
                    found.cells += 6;
                    if answers.windows(2).any(|w| w[0] != w[1]) {
                        found.fail(
                            &op,
                            "agents",
                            "other",
                            format!("another's held action reads unlike a missing one: {answers:?}"),
                        );
                    }
                    let unchanged =
                        app.store.held_action(held.parse().expect("uuid")).await.expect("held").expect("held");
                    if unchanged.status != countersign::domain::HeldStatus::Pending {
                        found.fail(&op, "another agent", "other", "changed a held action not its own".into());
                    }
                    if snapshot(app, worlds, &other.base).await != before {
                        found.fail(&op, "own agent", "other", "changed the other tenant".into());
                    }
                }
                ApiRule::OwnCase => {
                    // The other tenant's agent holds a live credential for its case; closing "that case" from
                    // here closes only the caller's own.
                    let case = format!("CS-{}", other.base.tenant);
                    let request = serde_json::json!({ "case_id": case, "action_types": ["refund"] });
                    let (status, _) =
                        send(app, "post", "/api/v1/credentials", Some(&other.base.token), Some(request)).await;
                    assert!(status.is_success(), "case credential: {status}");
                    let at = |c: &str| path.replace("{case_id}", c);
                    let before = rows(app, &other.base).await;
                    let theirs = send(app, method, &at(&case), Some(&own.base.token), None).await;
                    let missing = send(app, method, &at("CS-nowhere"), Some(&own.base.token), None).await;
                    found.cells += 2;
                    if !theirs.0.is_success()
                        || theirs.1.replace(&case, "<case>") != missing.1.replace("CS-nowhere", "<case>")
                    {
                        found.fail(&op, "own agent", "other", format!("{theirs:?} / {missing:?}"));
                    }
                    if rows(app, &other.base).await != before {
                        found.fail(&op, "own agent", "other", "closed the other tenant's case".into());
                    }
                }
            }
        }
    }
}
