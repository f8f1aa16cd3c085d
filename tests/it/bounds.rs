//! Every numeric input of the console's server functions is bounded: generated values (huge, negative,
//! fractional, not numbers at all) never make a server function fail with a 5xx or drop the connection,
//! and a number out of range is answered with a clear 4xx naming the field and its bounds.

use crate::harness::{Backend, TestApp, PASSWORD};
use countersign::domain::Role;
use countersign::service::qa::MAX_DAYS;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

crate::on_both_stores!(numeric_inputs_are_bounded_and_never_crash_a_server_function);

/// Text a form field might carry where a number is expected.
fn numberish() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (-5i64..5000).prop_map(|n| n.to_string()),
        (0usize..40).prop_map(|zeros| format!("1{}", "0".repeat(zeros))),
        "-?[0-9]{1,25}(\\.[0-9]{1,12})?",
        Just("1e309".to_string()),
        Just("NaN".to_string()),
        "[ -~]{0,16}",
    ]
}

async fn numeric_inputs_are_bounded_and_never_crash_a_server_function(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    app.person("all@example.com", &[Role::Admin, Role::Auditor, Role::Supervisor], &["acme"]).await;
    app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    let (agent, _) = app.agent("acme", "olu@example.com", &["refund:100.00EUR"]).await;
    let agent = agent.to_string();
    let browser = app.browser();
    assert!(app.sign_in(&browser, "all@example.com", PASSWORD).await.status().is_success());
    // Each case: the server function and its form with the generated value in one field.
    type Form = fn(&str, &str) -> Vec<(&'static str, String)>;
    let cases: [(&str, &str, Form); 9] = [
        ("insights", "days", |v, _| vec![("days", v.into())]),
        ("insights/sample", "days", |v, _| vec![("tenant", "acme".into()), ("days", v.into()), ("size", "5".into())]),
        ("insights/sample", "size", |v, _| vec![("tenant", "acme".into()), ("days", "30".into()), ("size", v.into())]),
        ("agents/credentials/mint", "ttl", |v, a| vec![("agent", a.into()), ("ttl", v.into())]),
        ("audit/page", "before", |v, _| vec![("filter[before]", v.into())]),
        ("history/page", "amount", |v, _| vec![("filter[amount_min]", v.into()), ("filter[amount_max]", v.into())]),
        ("history/page", "from", |v, _| vec![("filter[from]", v.into())]),
        ("queue/page", "after", |v, _| {
            let empty =
                ["filter[tenant]", "filter[action]", "filter[tier]", "filter[agent]"].map(|f| (f, String::new()));
            empty.into_iter().chain([("filter[after]", v.into())]).collect()
        }),
        ("queue/decide", "amount", |v, _| {
            vec![
                ("id", uuid::Uuid::nil().to_string()),
                ("form[verdict]", "approve".into()),
                ("form[amount]", v.into()),
                ("form[preset]", String::new()),
                ("form[reason]", String::new()),
            ]
        }),
    ];
    let mut runner = TestRunner::deterministic();
    for (function, field, form) in cases {
        for round in 0..40 {
            let value = numberish().new_tree(&mut runner).expect("value").current();
            let pairs = form(&value, &agent);
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let sent = browser.post(app.url(&format!("/api/{function}"))).form(&pairs).send().await;
            let response = sent.unwrap_or_else(|e| panic!("{function} {field}={value:?}: connection dropped: {e}"));
            let status = response.status();
            let body = response.text().await.unwrap_or_else(|e| panic!("{function} {field}={value:?}: body lost: {e}"));
            assert!(!status.is_server_error(), "{function} {field}={value:?} (round {round}): {status} {body}");
            if status.is_client_error() {
                assert!(!body.trim().is_empty(), "{function} {field}={value:?}: a refusal says why");
            }
            let days_out_of_range = value.trim().parse::<i64>().is_ok_and(|d| !(1..=MAX_DAYS).contains(&d));
            if field == "days" && days_out_of_range {
                assert!(
                    status.is_client_error() && body.contains("period"),
                    "{function} days={value:?}: {status} {body}"
                );
            }
        }
    }
    // The reported case: a sample over ten million days.
    let huge = [("tenant", "acme"), ("days", "10000000"), ("size", "5")];
    let response = browser.post(app.url("/api/insights/sample")).form(&huge).send().await.expect("answered");
    assert_eq!(response.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.expect("body").contains(&format!("between 1 and {MAX_DAYS} days")));
    app.stop().await;
}
