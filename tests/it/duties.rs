//! Separation of duties thought of as paths (who could have produced the request does not decide it), and
//! votes weighed against authority as it is when they count, not as it was when the agent asked.

use crate::api::{example, post};
use crate::harness::{Backend, TestApp, PASSWORD};
use countersign::delivery::{Change, ChangeKind};
use countersign::domain::access::Memberships;
use countersign::domain::clock::ManualClock;
use countersign::domain::review::{Refusal, Reviewer, Vote};
use countersign::domain::scope::Money;
use countersign::domain::{HeldStatus, Role};
use countersign::service::{By, DecideError};
use countersign::store::{AgentGuard, Review, Transition};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

crate::on_both_stores!(
    an_admin_who_supervises_cannot_approve_what_they_could_produce,
    votes_weigh_authority_as_it_is_now,
    the_write_itself_refuses_a_vote_after_the_deadline,
);

pub(crate) async fn signed_in(app: &TestApp, email: &str) -> reqwest::Client {
    let browser = app.browser();
    assert_eq!(app.sign_in(&browser, email, PASSWORD).await.status(), StatusCode::OK);
    browser
}

async fn register(app: &TestApp, admin: &reqwest::Client, name: &str) -> String {
    let form = [
        ("tenant", "acme"),
        ("name", name),
        ("purpose", "Resolves billing chats"),
        ("owner", "olu@example.com"),
        ("sponsor", ""),
        ("allowances", "refund:5000.00EUR"),
        ("webhook_url", ""),
    ];
    let created: Value = app.call(admin, "agents/create", &form).await.json().await.expect("json");
    created["id"].as_str().expect("agent id").to_string()
}

pub(crate) async fn mint(app: &TestApp, who: &reqwest::Client, agent: &str) -> String {
    let minted: Value =
        app.call(who, "agents/credentials/mint", &[("agent", agent), ("ttl", "1h")]).await.json().await.expect("json");
    minted["secret"].as_str().expect("secret").to_string()
}

pub(crate) async fn submit(app: &TestApp, token: &str, body: Value) -> String {
    let r = post(app, token, &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string()
}

pub(crate) async fn approve_over_http(app: &TestApp, who: &reqwest::Client, id: &str) -> (StatusCode, String) {
    let form =
        [("id", id), ("form[verdict]", "approve"), ("form[amount]", ""), ("form[preset]", ""), ("form[reason]", "")];
    let r = app.call(who, "queue/decide", &form).await;
    (r.status(), r.text().await.unwrap_or_default())
}

pub(crate) async fn status(app: &TestApp, id: &str) -> HeldStatus {
    let id = Uuid::parse_str(id).expect("uuid");
    app.store.held_action(id).await.expect("read").expect("action").status
}

async fn an_admin_who_supervises_cannot_approve_what_they_could_produce(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    app.person("ada@example.com", &[Role::Admin], &["acme"]).await;
    app.person("adam@example.com", &[Role::Admin, Role::Supervisor], &["acme"]).await;
    app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    app.person("sue@example.com", &[Role::Supervisor], &["acme"]).await;
    let (ada, adam, olu, sue) = tokio::join!(
        signed_in(&app, "ada@example.com"),
        signed_in(&app, "adam@example.com"),
        signed_in(&app, "olu@example.com"),
        signed_in(&app, "sue@example.com"),
    );

    // The hole: an admin who supervises mints a credential, submits as the agent, and approves alone.
    let agent = register(&app, &ada, "billing-helper").await;
    let token = mint(&app, &adam, &agent).await;
    let id = submit(&app, &token, example("sod-1")).await;
    let (code, body) = approve_over_http(&app, &adam, &id).await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    assert!(body.to_lowercase().contains("you issued the credential"), "{body}");
    assert_eq!(status(&app, &id).await, HeldStatus::Pending, "nothing changed");
    let (code, body) = approve_over_http(&app, &sue, &id).await;
    assert_eq!(code, StatusCode::OK, "someone else decides it: {body}");
    assert_eq!(status(&app, &id).await, HeldStatus::Approved);

    // Whoever registered the agent, or widened its scope, set what it may ask: they do not decide it.
    let registered = register(&app, &adam, "refund-helper").await;
    let id = submit(&app, &mint(&app, &olu, &registered).await, example("sod-2")).await;
    let (code, body) = approve_over_http(&app, &adam, &id).await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    assert!(body.to_lowercase().contains("you registered this agent"), "{body}");

    let widened = register(&app, &ada, "returns-helper").await;
    let form =
        [("id", widened.as_str()), ("purpose", "Returns"), ("allowances", "refund:6000.00EUR"), ("webhook_url", "")];
    assert_eq!(app.call(&adam, "agents/update", &form).await.status(), StatusCode::OK);
    let id = submit(&app, &mint(&app, &olu, &widened).await, example("sod-3")).await;
    let (code, body) = approve_over_http(&app, &adam, &id).await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    assert!(body.to_lowercase().contains("you widened this agent's scope"), "{body}");
    assert_eq!(status(&app, &id).await, HeldStatus::Pending);
    app.stop().await;
}

fn refund_of(key: &str, value: &str) -> Value {
    let mut body = example(key);
    body["action"]["amount"] = json!({ "value": value, "currency": "EUR" });
    body
}

fn critical(key: &str) -> Value {
    let mut body = example(key);
    body["action"] = json!({ "type": "mfa_reset", "parameters": { "user": "cus_123" } });
    body
}

async fn votes_weigh_authority_as_it_is_now(backend: Backend) {
    let app = TestApp::start(backend).await;
    let acme = app.tenant("acme").await;
    let owner = app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    let sue = app.person("sue@example.com", &[Role::Supervisor], &["acme"]).await;
    let sam = app.person("sam@example.com", &[Role::Supervisor], &["acme"]).await;
    let (agent, token) = app.agent("acme", "olu@example.com", &["refund:5000.00EUR", "mfa_reset"]).await;
    let reviewer =
        |user| Reviewer { user, memberships: Memberships::uniform(&[Role::Supervisor], &[acme]), stepped_up_at: None };
    let approve = || Vote::Approve { amount: None };
    let uuid = |id: &str| Uuid::parse_str(id).expect("uuid");

    let big = uuid(&submit(&app, &token, refund_of("now-1", "4000.00")).await);
    let revoked = uuid(&submit(&app, &token, example("now-2")).await);
    let critical = uuid(&submit(&app, &token, critical("now-3")).await);

    // The owner narrows the limit from 5,000 to 100 EUR: the 4,000 EUR refund may be denied, not approved.
    let principal = countersign::domain::access::Principal {
        user: owner,
        memberships: Memberships::uniform(&[Role::Owner], &[acme]),
    };
    let narrower = countersign::service::AgentChanges {
        purpose: "Resolves support chats".into(),
        allowances: vec!["refund:100.00EUR".into(), "mfa_reset".into()],
        webhook_url: None,
    };
    app.service.update_agent(By::Person(&principal), agent, narrower).await.expect("narrow");
    let refused = app.service.decide(&reviewer(sue), big, approve()).await;
    assert!(matches!(refused, Err(DecideError::Refused(Refusal::OutOfScope(_)))), "{refused:?}");
    let denied = app.service.decide(&reviewer(sue), big, Vote::Deny { reason: "over its limit now".into() }).await;
    assert_eq!(denied.expect("deny").status, HeldStatus::Denied);

    // A first critical approval from someone since disabled no longer counts toward quorum.
    let at = app.service.step_up(sue, PASSWORD).await.expect("step up");
    let first = Reviewer { stepped_up_at: Some(at), ..reviewer(sue) };
    let first = app.service.decide(&first, critical, approve()).await.expect("first approval");
    assert_eq!(first.approvals, 1);
    app.service.set_person_active(By::Operator, sue, false).await.expect("disable");
    let at = app.service.step_up(sam, PASSWORD).await.expect("step up");
    let second = Reviewer { stepped_up_at: Some(at), ..reviewer(sam) };
    let second = app.service.decide(&second, critical, approve()).await.expect("second approval");
    assert_eq!(second.status, HeldStatus::Pending, "Sue's approval lapsed with her account: 1 of 2, not 2 of 2");

    // The credential that submitted it is revoked: no approval.
    for credential in app.store.credentials(agent).await.expect("credentials") {
        app.service.revoke_credential(By::Operator, credential.id).await.expect("revoke");
    }
    let refused = app.service.decide(&reviewer(sue), revoked, approve()).await;
    assert!(matches!(refused, Err(DecideError::Refused(Refusal::CredentialRevoked))), "{refused:?}");

    app.stop().await;
}

async fn the_write_itself_refuses_a_vote_after_the_deadline(backend: Backend) {
    let app = TestApp::start(backend).await;
    let acme = app.tenant("acme").await;
    let sue = app.person("sue@example.com", &[Role::Supervisor], &["acme"]).await;
    app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    let (_, token) = app.agent("acme", "olu@example.com", &["refund:500.00EUR"]).await;
    let id = Uuid::parse_str(&submit(&app, &token, example("late-1")).await).expect("uuid");
    let action = app.store.held_action(id).await.expect("read").expect("action");
    // A vote weighed before the deadline whose write only got the lock after it.
    let late = ManualClock::new(action.expires_at + time::Duration::seconds(1));
    let vote = || Transition {
        action: id,
        expected_approvals: 0,
        guard: None,
        approvals: 1,
        review: Some(Review {
            held_action: id,
            reviewer: sue,
            approve: true,
            reason: None,
            amount: None,
            stepped_up: false,
            at: action.expires_at - time::Duration::seconds(1),
        }),
        fast_approval: false,
        outcome: None,
        deliveries: vec![],
        events: Vec::new(),
        change: Change { kind: ChangeKind::Updated, id, tenant: acme },
    };
    assert_eq!(app.store.apply(vec![vote()], &late).await.expect("apply"), vec![false]);
    assert!(app.store.reviews(id).await.expect("reviews").is_empty(), "no vote committed after expiry");
    let in_time = ManualClock::new(action.expires_at - time::Duration::seconds(1));
    // Weighed against a limit the owner has since narrowed (the agent allows 500.00 EUR, not 5,000): refused.
    let agent = app.store.agent(action.agent_id).await.expect("read").expect("agent");
    let weighed = |limit: &str| AgentGuard {
        agent: agent.id,
        owner: agent.owner_id,
        sponsor: agent.sponsor_id,
        state: agent.state,
        credential: action.credential_id,
        allowance: Some(Some(Money::parse(limit, "EUR").expect("money"))),
        action_type: action.action,
    };
    let stale = Transition { guard: Some(weighed("5000.00")), ..vote() };
    assert_eq!(app.store.apply(vec![stale], &in_time).await.expect("apply"), vec![false]);
    let current = Transition { guard: Some(weighed("500")), ..vote() };
    assert_eq!(
        app.store.apply(vec![current], &in_time).await.expect("apply"),
        vec![true],
        "the same limit, however written"
    );
    app.stop().await;
}
