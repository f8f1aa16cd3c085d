//! The reviewer's workflow through the services and the real HTTP API: quorum, step-up, separation of
//! duties, tenant isolation, the decision race, expiry across a restart, and the long-poll's outcome.

use crate::api::{example, post};
use crate::harness::{Backend, TestApp, PASSWORD};
use countersign::domain::access::Memberships;
use countersign::domain::clock::Clock;
use countersign::domain::review::{Reviewer, Vote};
use countersign::domain::scope::Money;
use countersign::domain::{HeldStatus, Role};
use countersign::service::DecideError;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use uuid::Uuid;

crate::on_both_stores!(
    a_high_action_needs_one_approval_and_the_agent_learns_it,
    critical_needs_two_stepped_up_approvers,
    separation_of_duties_and_tenants_hold,
    concurrent_decisions_give_exactly_one_outcome,
    expiry_fails_closed_across_a_restart,
    deadlines_in_any_time_zone_expire_on_time,
    claims_show_who_reviews_and_can_be_taken_over,
    the_queue_pages_and_counts,
);

struct Setup {
    app: TestApp,
    token: String,
    ana: Reviewer,
    ben: Reviewer,
    owner: Reviewer,
}

async fn reviewer(app: &TestApp, email: &str, roles: &[Role], tenant: Uuid) -> Reviewer {
    let user = app.person(email, roles, &["acme"]).await;
    Reviewer { user, memberships: Memberships::uniform(roles, &[tenant]), stepped_up_at: None }
}

async fn setup(backend: Backend) -> Setup {
    let app = TestApp::start(backend).await;
    let acme = app.tenant("acme").await;
    let owner = reviewer(&app, "olu@example.com", &[Role::Owner, Role::Supervisor], acme).await;
    let ana = reviewer(&app, "ana@example.com", &[Role::Supervisor], acme).await;
    let ben = reviewer(&app, "ben@example.com", &[Role::Supervisor], acme).await;
    let (_, token) = app.agent("acme", "olu@example.com", &["refund:500.00EUR", "mfa_reset"]).await;
    Setup { app, token, ana, ben, owner }
}

async fn submit(s: &Setup, body: Value) -> Uuid {
    let r: Value = post(&s.app, &s.token, &body).await.json().await.expect("json");
    Uuid::parse_str(r["id"].as_str().expect("id")).expect("uuid")
}

pub fn critical(key: &str) -> Value {
    let mut body = example(key);
    body["action"] = json!({ "type": "mfa_reset", "parameters": { "user": "cus_123" } });
    body["policy"]["risk_tier"] = json!("critical");
    body
}

async fn read(s: &Setup, id: Uuid, wait: u64) -> Value {
    let url = s.app.url(&format!("/api/v1/held-actions/{id}?wait={wait}"));
    reqwest::Client::new().get(url).bearer_auth(&s.token).send().await.expect("get").json().await.expect("json")
}

fn approve() -> Vote {
    Vote::Approve { amount: None }
}

async fn a_high_action_needs_one_approval_and_the_agent_learns_it(backend: Backend) {
    let s = setup(backend).await;
    let id = submit(&s, example("k-1")).await;
    let waiter = {
        let (url, token) = (s.app.url(&format!("/api/v1/held-actions/{id}?wait=30")), s.token.clone());
        tokio::spawn(async move { reqwest::Client::new().get(url).bearer_auth(token).send().await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let narrowed = Money::parse("100.00", "EUR").expect("money");
    let started = Instant::now();
    let after =
        s.app.service.decide(&s.ana, id, Vote::Approve { amount: Some(narrowed.clone()) }).await.expect("decide");
    assert_eq!((after.status, after.approvals), (HeldStatus::Approved, 1));
    let seen: Value = waiter.await.expect("join").expect("get").json().await.expect("json");
    assert!(started.elapsed() < Duration::from_secs(5), "the long-poll woke on the decision");
    assert_eq!(seen["status"], "approved");
    let d = &seen["decision"];
    assert_eq!((d["outcome"].as_str(), d["approvals"].as_i64()), (Some("approved"), Some(1)));
    assert_eq!(d["approved_amount"], json!({ "value": "100.00", "currency": "EUR" }));
    // The receipt is a JWS that a stock JOSE library verifies with the published JWKS, attesting exactly this.
    let jwks: jsonwebtoken::jwk::JwkSet =
        reqwest::get(s.app.url("/.well-known/jwks.json")).await.expect("jwks").json().await.expect("json");
    let token = d["receipt"].as_str().expect("receipt");
    let kid = jsonwebtoken::decode_header(token).expect("header").kid.expect("kid");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwks.find(&kid).expect("published")).expect("key");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.required_spec_claims.clear();
    let claims: Value = jsonwebtoken::decode(token, &key, &validation).expect("verifies").claims;
    assert_eq!(claims["sub"], id.to_string());
    assert_eq!((claims["status"].as_str(), claims["approvals"].as_i64()), (Some("approved"), Some(1)));
    assert_eq!(
        (claims["approved_amount"].as_str(), claims["decided_at"].as_str()),
        (Some("100.00 EUR"), d["decided_at"].as_str())
    );
    assert_eq!(claims["content_hash"], after.content_hash);
    let current: Value = reqwest::get(s.app.url("/api/v1/receipt-key")).await.expect("key").json().await.expect("json");
    assert_eq!(current["kid"], kid, "the current key signed it");
    // A widening is refused and a second vote meets the outcome.
    let late = s.app.service.decide(&s.ben, id, approve()).await;
    assert!(matches!(late, Err(DecideError::AlreadyDecided { status: "approved", .. })), "{late:?}");
    // The next case of this customer and agent shows what was approved, at the narrowed amount; a pending one
    // counts for nothing.
    let next = submit(&s, example("k-1b")).await;
    submit(&s, example("k-1c")).await;
    let file = s.app.service.case_file(&s.ben, next).await.expect("case file");
    assert_eq!(file.approved_24h, (vec![narrowed.clone()], vec![narrowed.clone()]));
    let kinds = s.app.audit_kinds().await;
    assert!(
        kinds.contains(&"held_action.approved".to_string())
            && kinds.contains(&"held_action.approval_counted".to_string())
    );
    s.app.stop().await;
}

async fn critical_needs_two_stepped_up_approvers(backend: Backend) {
    let s = setup(backend).await;
    let id = submit(&s, critical("k-2")).await;
    let refused = s.app.service.decide(&s.ana, id, approve()).await;
    assert!(matches!(refused, Err(DecideError::Refused(_))), "no step-up: {refused:?}");
    assert!(s.app.service.step_up(s.ana.user, "wrong password entirely").await.is_err());
    let at = s.app.service.step_up(s.ana.user, PASSWORD).await.expect("step up");
    let ana = Reviewer { stepped_up_at: Some(at), ..s.ana.clone() };
    let first = s.app.service.decide(&ana, id, approve()).await.expect("first approval");
    assert_eq!((first.status, first.approvals), (HeldStatus::Pending, 1), "1 of 2");
    let again = s.app.service.decide(&ana, id, approve()).await;
    assert!(matches!(again, Err(DecideError::Refused(_))), "nobody counts twice: {again:?}");
    // Ben's step-up goes stale after five minutes.
    let ben = Reviewer {
        stepped_up_at: Some(s.app.service.step_up(s.ben.user, PASSWORD).await.expect("step up")),
        ..s.ben.clone()
    };
    s.app.clock.advance(time::Duration::minutes(6));
    assert!(matches!(s.app.service.decide(&ben, id, approve()).await, Err(DecideError::Refused(_))));
    let ben = Reviewer { stepped_up_at: Some(s.app.clock.now()), ..ben };
    let done = s.app.service.decide(&ben, id, approve()).await.expect("second approval");
    assert_eq!((done.status, done.approvals), (HeldStatus::Approved, 2));
    assert_eq!(read(&s, id, 0).await["decision"]["approvals"], 2);
    s.app.stop().await;
}

async fn separation_of_duties_and_tenants_hold(backend: Backend) {
    let s = setup(backend).await;
    let id = submit(&s, example("k-3")).await;
    let own = s.app.service.decide(&s.owner, id, approve()).await;
    assert!(matches!(own, Err(DecideError::Refused(_))), "the owner may not decide: {own:?}");
    let other = s.app.tenant("globex").await;
    let outsider = Reviewer { memberships: Memberships::uniform(&[Role::Supervisor], &[other]), ..s.ben.clone() };
    assert!(matches!(s.app.service.decide(&outsider, id, approve()).await, Err(DecideError::NotFound)));
    let auditor = Reviewer {
        memberships: Memberships::uniform(&[Role::Auditor], &s.ana.memberships.tenant_ids()),
        ..s.ana.clone()
    };
    assert!(s.app.service.decide(&auditor, id, approve()).await.is_err());

    // The owner's forged request over HTTP is refused by the server too.
    let browser = s.app.browser();
    assert!(s.app.sign_in(&browser, "olu@example.com", PASSWORD).await.status().is_success());
    let forged = s
        .app
        .call(
            &browser,
            "queue/decide",
            &[
                ("id", &id.to_string()),
                ("form[verdict]", "approve"),
                ("form[amount]", ""),
                ("form[preset]", ""),
                ("form[reason]", ""),
            ],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "{}", forged.text().await.unwrap_or_default());
    assert_eq!(read(&s, id, 0).await["status"], "pending", "nothing changed");
    // A deny needs a reason, and its reason reaches the agent.
    let empty = s.app.service.decide(&s.ana, id, Vote::Deny { reason: " ".into() }).await;
    assert!(matches!(empty, Err(DecideError::Refused(_))));
    s.app.service.decide(&s.ana, id, Vote::Deny { reason: "Suspected fraud".into() }).await.expect("deny");
    let seen = read(&s, id, 0).await;
    assert_eq!(
        (seen["status"].as_str(), seen["decision"]["reason"].as_str()),
        (Some("denied"), Some("Suspected fraud"))
    );
    s.app.stop().await;
}

async fn concurrent_decisions_give_exactly_one_outcome(backend: Backend) {
    let s = setup(backend).await;
    let mut voters = vec![s.ana.clone(), s.ben.clone()];
    for i in 0..6 {
        voters.push(
            reviewer(&s.app, &format!("r{i}@example.com"), &[Role::Supervisor], s.ana.memberships.tenant_ids()[0])
                .await,
        );
    }
    for round in 0..3 {
        let id = submit(&s, example(&format!("race-{round}"))).await;
        let tasks: Vec<_> = voters
            .iter()
            .enumerate()
            .map(|(i, who)| {
                let (service, who) = (s.app.service.clone(), who.clone());
                let vote = if i % 2 == 0 { approve() } else { Vote::Deny { reason: "no".into() } };
                tokio::spawn(async move { service.decide(&who, id, vote).await })
            })
            .collect();
        let mut won = 0;
        for t in tasks {
            match t.await.expect("join") {
                Ok(_) => won += 1,
                Err(DecideError::AlreadyDecided { .. }) => {}
                Err(e) => panic!("unexpected: {e:?}"),
            }
        }
        assert_eq!(won, 1, "exactly one decision wins");
        let decided = s
            .app
            .audit_kinds()
            .await
            .iter()
            .filter(|k| *k == "held_action.approved" || *k == "held_action.denied")
            .count();
        assert_eq!(decided, round + 1, "one outcome recorded per action");
    }
    assert_eq!(s.app.service.verify_audit_chain().await.expect("verify").map(|n| n > 0), Ok(true));
    s.app.stop().await;
}

async fn expiry_fails_closed_across_a_restart(backend: Backend) {
    let s = setup(backend).await;
    let id = submit(&s, example("k-4")).await;
    // The server is "down" while the deadline passes: a new service over the same store starts late.
    s.app.clock.advance(time::Duration::hours(2));
    let restarted = countersign::service::Service::start(s.app.store.clone(), s.app.clock.clone(), Default::default())
        .await
        .expect("restart");
    assert!(
        matches!(restarted.decide(&s.ana, id, approve()).await, Err(DecideError::Refused(_))),
        "late votes refused"
    );
    assert_eq!(restarted.expire_overdue().await.expect("expire"), 1);
    assert_eq!(restarted.expire_overdue().await.expect("expire"), 0, "once");
    let seen = read(&s, id, 0).await;
    assert_eq!(seen["status"], "expired");
    assert_eq!(seen["decision"]["outcome"], "expired");
    assert!(seen["decision"]["approved_amount"].is_null(), "fails closed");
    assert!(s.app.audit_kinds().await.contains(&"held_action.expired".to_string()));
    s.app.stop().await;
}

async fn deadlines_in_any_time_zone_expire_on_time(backend: Backend) {
    let s = setup(backend).await;
    let now = s.app.clock.now();
    let deadline = (now + time::Duration::minutes(20)).to_offset(time::macros::offset!(-5));
    let mut body = example("tz");
    body["expires_at"] = json!(deadline.format(&time::format_description::well_known::Rfc3339).expect("format"));
    let id = submit(&s, body).await;
    assert_eq!(s.app.service.expire_overdue().await.expect("expire"), 0, "not before its deadline");
    s.app.clock.advance(time::Duration::minutes(21));
    assert_eq!(s.app.service.expire_overdue().await.expect("expire"), 1);
    assert_eq!(read(&s, id, 0).await["status"], "expired");
    s.app.stop().await;
}

async fn claims_show_who_reviews_and_can_be_taken_over(backend: Backend) {
    use countersign::domain::access::Principal;
    use countersign::domain::review::ClaimOutcome;
    let s = setup(backend).await;
    let id = submit(&s, example("k-5")).await;
    let p = |r: &Reviewer| Principal { user: r.user, memberships: r.memberships.clone() };
    assert_eq!(s.app.service.claim(&p(&s.ana), id, false).await.expect("claim"), ClaimOutcome::Claimed);
    assert_eq!(s.app.service.claim(&p(&s.ana), id, false).await.expect("renew"), ClaimOutcome::Renewed);
    assert!(
        matches!(s.app.service.claim(&p(&s.ben), id, false).await.expect("held"), ClaimOutcome::HeldBy(c) if c.user == s.ana.user)
    );
    let taken = s.app.service.claim(&p(&s.ben), id, true).await.expect("take over");
    assert_eq!(taken, ClaimOutcome::TakenOver { from: s.ana.user });
    s.app.clock.advance(time::Duration::minutes(6));
    assert_eq!(s.app.service.claim(&p(&s.ana), id, false).await.expect("lapsed"), ClaimOutcome::Claimed);
    assert!(s.app.service.claim(&p(&s.owner), id, true).await.is_err(), "the owner may not hold their agent's action");
    s.app.service.release(&p(&s.ana), id).await.expect("release");
    let kinds = s.app.audit_kinds().await;
    for kind in ["held_action.claimed", "held_action.taken_over", "held_action.released"] {
        assert!(kinds.contains(&kind.to_string()), "{kind}");
    }
    s.app.stop().await;
}

async fn the_queue_pages_and_counts(backend: Backend) {
    use countersign::domain::access::Principal;
    use countersign::store::QueueQuery;
    let s = setup(backend).await;
    for i in 0..5 {
        submit(&s, example(&format!("q-{i}"))).await;
        s.app.clock.advance(time::Duration::seconds(1));
    }
    submit(&s, critical("q-c")).await;
    let who = Principal { user: s.ana.user, memberships: s.ana.memberships.clone() };
    let page = |after| QueueQuery { limit: 3, after, ..Default::default() };
    let (first, counts) = s.app.service.queue(&who, None, page(None)).await.expect("queue");
    assert_eq!(first.len(), 3);
    assert!(first.windows(2).all(|w| w[0].expires_at <= w[1].expires_at), "soonest deadline first");
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    assert_eq!(total, 6);
    let last = first.last().expect("row");
    let (second, _) = s.app.service.queue(&who, None, page(Some((last.expires_at, last.id)))).await.expect("queue");
    assert_eq!(second.len(), 3);
    assert!(second.iter().all(|r| first.iter().all(|f| f.id != r.id)), "keyset pages do not overlap");
    // Counts follow decisions.
    s.app.service.decide(&s.ana, first[0].id, approve()).await.expect("decide");
    let (_, counts) = s.app.service.queue(&who, None, page(None)).await.expect("queue");
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<i64>(), 5);
    let critical_only =
        QueueQuery { tier: None, action: Some(countersign::domain::ActionType::MfaReset), ..page(None) };
    let (_, counts) = s.app.service.queue(&who, None, critical_only).await.expect("queue");
    assert_eq!(counts, vec![(countersign::domain::RiskTier::Critical, 1)]);
    let outsider =
        Principal { memberships: Memberships::uniform(&who.memberships.all_roles(), &[Uuid::now_v7()]), ..who.clone() };
    assert!(s.app.service.queue(&outsider, None, page(None)).await.expect("queue").0.is_empty(), "tenant isolation");
    let owner_only = Principal { memberships: Memberships::uniform(&[Role::Owner], &who.tenant_ids()), ..who };
    assert!(s.app.service.queue(&owner_only, None, page(None)).await.is_err(), "owners do not read the queue");
    s.app.stop().await;
}

/// Two app servers on one PostgreSQL database: a change committed through one reaches the other's open
/// queues and long-polls (LISTEN/NOTIFY).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_reach_every_app_server_through_postgres() {
    let Some(backend) = Backend::postgres() else {
        return eprintln!("COUNTERSIGN_TEST_POSTGRES_URL not set: PostgreSQL run skipped");
    };
    let s = setup(backend).await;
    let other_store = countersign::store::open(&s.app.db.url, "full").await.expect("second server's pool");
    let other = countersign::service::Service::start(other_store, s.app.clock.clone(), Default::default())
        .await
        .expect("second server");
    let mut changes = other.subscribe();
    let id = submit(&s, example("fan-out")).await;
    let arrived = tokio::time::timeout(Duration::from_secs(5), changes.recv()).await.expect("in time").expect("change");
    assert_eq!((arrived.id, arrived.kind), (id, countersign::delivery::ChangeKind::Arrived));
    s.app.service.decide(&s.ana, id, approve()).await.expect("decide");
    let decided = tokio::time::timeout(Duration::from_secs(5), changes.recv()).await.expect("in time").expect("change");
    assert_eq!((decided.id, decided.kind), (id, countersign::delivery::ChangeKind::Decided));
    drop(other);
    s.app.stop().await;
}
