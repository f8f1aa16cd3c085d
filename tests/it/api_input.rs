//! The agent-facing API under bad input: every bad field named at once, oversized and random bodies, malformed
//! ids and parameters, hostile text and duplicate keys: a problem each time, never a server error, nothing stored.

use crate::api::{example, get, held_count, post, setup};
use crate::harness::Backend;
use countersign::domain::clock::Clock;
use reqwest::StatusCode;
use serde_json::{json, Value};

crate::on_both_stores!(
    every_bad_field_is_named_and_nothing_is_stored,
    oversized_bodies_are_refused,
    random_and_malformed_json_never_yields_a_server_error,
    malformed_ids_and_parameters_are_problems,
    hostile_text_and_duplicate_keys_are_refused,
);

async fn every_bad_field_is_named_and_nothing_is_stored(backend: Backend) {
    let (app, token) = setup(backend).await;
    let mut bad = example("k-1");
    bad["action"]["amount"]["currency"] = json!("euro");
    bad["transcript"][0]["at"] = json!("yesterday");
    bad["policy"].as_object_mut().map(|p| p.remove("reason"));
    bad["extra"] = json!(1);
    let r = post(&app, &token, &bad).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: Value = r.json().await.expect("json");
    let mut fields: Vec<String> = problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["field"].as_str().map(String::from))
        .collect();
    fields.sort();
    assert_eq!(fields, ["action.amount.currency", "extra", "policy.reason", "transcript[0].at"]);
    let not_json =
        reqwest::Client::new().post(app.url("/api/v1/held-actions")).bearer_auth(&token).body("{nope").send().await;
    assert_eq!(not_json.expect("post").status(), StatusCode::UNPROCESSABLE_ENTITY);
    let mut past = example("k-2");
    past["expires_at"] = json!("2000-01-01T00:00:00Z");
    assert_eq!(post(&app, &token, &past).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A deadline no reviewer could meet is refused too: at least a minute.
    let mut hurried = example("k-3");
    let soon = app.clock.now() + time::Duration::seconds(30);
    hurried["expires_at"] = json!(soon.format(&time::format_description::well_known::Rfc3339).expect("format"));
    let refused = post(&app, &token, &hurried).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap_or_default().contains("at least a minute"));
    assert_eq!(held_count(&app).await, 0);
    app.stop().await;
}

async fn oversized_bodies_are_refused(backend: Backend) {
    let (app, token) = setup(backend).await;
    let mut big = example("k-1");
    big["intent"] = json!("x".repeat(1_100_000));
    assert_eq!(post(&app, &token, &big).await.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(held_count(&app).await, 0);
    app.stop().await;
}

/// Random bytes, random JSON and mutations of a valid submission: every answer is a 2xx or a 4xx.
async fn random_and_malformed_json_never_yields_a_server_error(backend: Backend) {
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let (app, token) = setup(backend).await;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    let json_strategy = leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    let paths = ["idempotency_key", "action", "intent", "case", "transcript", "policy", "expires_at", "on_behalf_of"];
    let mut runner = TestRunner::deterministic();
    let client = reqwest::Client::new();
    for i in 0..120 {
        let random = json_strategy.new_tree(&mut runner).expect("tree").current();
        let body = match i % 3 {
            0 => random.to_string().into_bytes(),
            1 => {
                let mut v = example(&format!("fuzz-{i}"));
                v[paths[i % paths.len()]] = random;
                v.to_string().into_bytes()
            }
            _ => {
                let mut bytes = example(&format!("fuzz-{i}")).to_string().into_bytes();
                let cut = (i * 7919) % bytes.len();
                bytes.truncate(cut);
                bytes
            }
        };
        let r = client
            .post(app.url("/api/v1/held-actions"))
            .bearer_auth(&token)
            .body(body.clone())
            .send()
            .await
            .expect("post");
        assert!(r.status().as_u16() < 500, "{} for {}", r.status(), String::from_utf8_lossy(&body));
    }
    app.stop().await;
}

/// A path or query the router cannot read is a 400 in problem details naming the part, like every other error.
async fn malformed_ids_and_parameters_are_problems(backend: Backend) {
    let (app, token) = setup(backend).await;
    let id = uuid::Uuid::now_v7();
    for path in ["/api/v1/held-actions/nope".to_string(), format!("/api/v1/held-actions/{id}?wait=soon")] {
        let r = get(&app, &token, &path).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(r.headers()["content-type"], "application/problem+json", "{path}");
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["status"], 400);
        assert!(body["errors"][0]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    }
    let withdrawn = reqwest::Client::new()
        .delete(app.url("/api/v1/held-actions/12"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("delete");
    assert_eq!(withdrawn.status(), StatusCode::BAD_REQUEST);
    app.stop().await;
}

async fn hostile_text_and_duplicate_keys_are_refused(backend: Backend) {
    let (app, token) = setup(backend).await;
    let refused = |body: String| {
        let (app, token) = (&app, token.clone());
        async move {
            let r = reqwest::Client::new()
                .post(app.url("/api/v1/held-actions"))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .expect("post");
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
            let problem: Value = r.json().await.expect("problem");
            problem["errors"][0]["field"].as_str().unwrap_or_default().to_string()
        }
    };
    // The reviewer would see one amount; an executor reading the same bytes could take the other.
    let twice =
        example("dup-1").to_string().replacen("\"value\":\"129.90\"", "\"value\":\"1.00\",\"value\":\"900.00\"", 1);
    assert_eq!(refused(twice).await, "action.amount.value");
    // Text that reorders on screen (a right-to-left override) or hides characters.
    let mut reordered = example("bidi-1");
    reordered["intent"] = json!("Refund \u{202E}09.921 EUR");
    assert_eq!(refused(reordered.to_string()).await, "intent");
    let mut hidden = example("zw-1");
    hidden["case"]["customer"]["id"] = json!("cus_\u{200B}123");
    assert_eq!(refused(hidden.to_string()).await, "case.customer.id");
    // A deadline with no UTC equivalent is a 422, not a crash.
    let mut extreme = example("far-1");
    extreme["expires_at"] = json!("9999-12-31T23:59:59-23:59");
    assert_eq!(refused(extreme.to_string()).await, "expires_at");
    // Joiners in free text are writing, not an attack.
    let mut emoji = example("emoji-1");
    emoji["transcript"][0]["text"] = json!("Thanks! 👨\u{200D}👩\u{200D}👧");
    assert_eq!(post(&app, &token, &emoji).await.status(), StatusCode::CREATED);
    assert_eq!(held_count(&app).await, 1, "only the harmless one was stored");
    app.stop().await;
}
