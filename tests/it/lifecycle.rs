//! An agent's life through the services and the real HTTP API: suspension and resumption, retirement,
//! hand-over (and the approval invariant under it), access reviews and the automatic suspensions.

use crate::api::{example, post};
use crate::harness::{Backend, TestApp};
use crate::review::critical;
use countersign::domain::access::Memberships;
use countersign::domain::clock::Clock;
use countersign::domain::lifecycle::{Attestation, Change};
use countersign::domain::review::{Reviewer, Vote};
use countersign::domain::{AgentState, HeldStatus, Role};
use countersign::service::{By, DecideError};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;
use uuid::Uuid;

crate::on_both_stores!(
    the_transition_table_and_who_may_move_it,
    a_suspended_agent_is_held_still_and_fails_closed,
    retirement_ends_everything_at_once_and_keeps_history,
    hand_over_is_proposed_and_answered,
    an_earlier_vote_of_the_new_owner_never_counts,
    access_reviews_are_evidenced_attested_and_enforced,
    sponsors_are_set_changed_and_removed,
);

pub struct Life {
    pub app: TestApp,
    pub agent: Uuid,
    pub token: String,
    pub acme: Uuid,
    pub owner: Uuid,
    pub ana: Reviewer,
}

pub async fn setup(backend: Backend) -> Life {
    let app = TestApp::start(backend).await;
    let acme = app.tenant("acme").await;
    let owner = app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    app.person("otto@example.com", &[Role::Owner, Role::Supervisor], &["acme"]).await;
    let ana_id = app.person("ana@example.com", &[Role::Supervisor], &["acme"]).await;
    let ana =
        Reviewer { user: ana_id, memberships: Memberships::uniform(&[Role::Supervisor], &[acme]), stepped_up_at: None };
    let (agent, token) = app.agent("acme", "olu@example.com", &["refund:500.00EUR", "mfa_reset"]).await;
    Life { app, agent, token, acme, owner, ana }
}

pub fn principal(user: Uuid, roles: &[Role], tenants: &[Uuid]) -> countersign::domain::access::Principal {
    countersign::domain::access::Principal { user, memberships: Memberships::uniform(roles, tenants) }
}

async fn submit(l: &Life, key: &str) -> Uuid {
    let r: Value = post(&l.app, &l.token, &example(key)).await.json().await.expect("json");
    Uuid::parse_str(r["id"].as_str().expect("id")).expect("uuid")
}

async fn the_transition_table_and_who_may_move_it(backend: Backend) {
    let l = setup(backend).await;
    let svc = &l.app.service;
    let owner = principal(l.owner, &[Role::Owner], &[l.acme]);
    let stranger = principal(Uuid::now_v7(), &[Role::Owner, Role::Supervisor], &[l.acme]);
    let refused = svc.change_agent_state(By::Person(&stranger), l.agent, Change::Suspend, "for no reason", None).await;
    assert!(matches!(refused, Err(countersign::service::ServiceError::Forbidden)), "only owner or admin");
    let no_reason = svc.change_agent_state(By::Person(&owner), l.agent, Change::Suspend, " ", None).await;
    assert!(no_reason.is_err(), "a reason is required");
    let resume_active = svc.change_agent_state(By::Person(&owner), l.agent, Change::Resume, "nothing to resume", None);
    assert!(resume_active.await.is_err());
    let s = svc.change_agent_state(By::Person(&owner), l.agent, Change::Suspend, "investigating", None).await;
    assert_eq!(s.expect("suspend").state, AgentState::Suspended);
    assert!(svc.change_agent_state(By::Person(&owner), l.agent, Change::Suspend, "again!", None).await.is_err());
    let r = svc.change_agent_state(By::Person(&owner), l.agent, Change::Resume, "all clear", None).await;
    assert_eq!(r.expect("resume").state, AgentState::Active);
    let wrong_name = svc.change_agent_state(By::Person(&owner), l.agent, Change::Retire, "done", Some("nope")).await;
    assert!(wrong_name.is_err(), "retirement is confirmed by the name");
    let name = l.app.store.agent(l.agent).await.expect("read").expect("agent").name;
    let gone = svc.change_agent_state(By::Person(&owner), l.agent, Change::Retire, "done", Some(&name)).await;
    assert_eq!(gone.expect("retire").state, AgentState::Retired);
    for change in [Change::Suspend, Change::Resume, Change::Retire] {
        assert!(svc.change_agent_state(By::Operator, l.agent, change, "terminal", None).await.is_err());
    }
    let kinds = l.app.audit_kinds().await;
    for kind in ["agent.suspended", "agent.resumed", "agent.retired"] {
        assert!(kinds.contains(&kind.to_string()), "{kind} recorded");
    }
    l.app.stop().await;
}

async fn a_suspended_agent_is_held_still_and_fails_closed(backend: Backend) {
    let l = setup(backend).await;
    let (kept, denied) = (submit(&l, "k-1").await, submit(&l, "k-2").await);
    l.app.service.change_agent_state(By::Operator, l.agent, Change::Suspend, "investigating", None).await.expect("s");
    let r = post(&l.app, &l.token, &example("k-3")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.json::<Value>().await.expect("json")["type"], "agent_suspended");
    assert_eq!(l.app.store.credentials(l.agent).await.expect("list").len(), 1, "credentials stay listed");
    let supervisor = l.app.browser();
    l.app.sign_in(&supervisor, "ana@example.com", crate::harness::PASSWORD).await;
    let filter = [
        ("filter[tenant]", ""),
        ("filter[action]", ""),
        ("filter[tier]", ""),
        ("filter[agent]", ""),
        ("filter[after]", ""),
    ];
    let queue: Value = l.app.call(&supervisor, "queue/page", &filter).await.json().await.expect("queue");
    let rows = queue["rows"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 2, "its pending actions stay in the queue: {queue}");
    assert!(rows.iter().all(|r| r["agent_suspended"] == true), "flagged \"agent suspended\"");
    let approve = l.app.service.decide(&l.ana, kept, Vote::Approve { amount: None }).await;
    assert!(matches!(approve, Err(DecideError::Refused(_))), "approval fails closed: {approve:?}");
    let deny = Vote::Deny { reason: "agent suspended".into() };
    assert_eq!(l.app.service.decide(&l.ana, denied, deny).await.expect("deny").status, HeldStatus::Denied);
    l.app.service.change_agent_state(By::Operator, l.agent, Change::Resume, "cleared", None).await.expect("resume");
    assert_eq!(post(&l.app, &l.token, &example("k-3")).await.status(), StatusCode::CREATED, "resumed: intake again");
    let approved = l.app.service.decide(&l.ana, kept, Vote::Approve { amount: None }).await.expect("approve");
    assert_eq!(approved.status, HeldStatus::Approved);
    // Suspended actions keep expiring.
    let late = submit(&l, "k-4").await;
    l.app.service.change_agent_state(By::Operator, l.agent, Change::Suspend, "again", None).await.expect("s");
    l.app.clock.advance(time::Duration::hours(2));
    l.app.service.expire_overdue().await.expect("expire");
    let expired = l.app.store.held_action(late).await.expect("read").expect("action");
    assert_eq!(expired.status, HeldStatus::Expired);
    l.app.stop().await;
}

async fn retirement_ends_everything_at_once_and_keeps_history(backend: Backend) {
    let l = setup(backend).await;
    let hook = countersign::service::AgentChanges {
        purpose: "Resolves support chats".into(),
        allowances: vec!["refund:500.00EUR".into(), "mfa_reset".into()],
        webhook_url: Some("https://agent.example.com/hook".into()),
    };
    l.app.service.update_agent(By::Operator, l.agent, hook).await.expect("webhook");
    let (a, b) = (submit(&l, "k-1").await, submit(&l, "k-2").await);
    let waiter = {
        let (url, token) = (l.app.url(&format!("/api/v1/held-actions/{a}?wait=30")), l.token.clone());
        tokio::spawn(async move { reqwest::Client::new().get(url).bearer_auth(token).send().await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let preview = l.app.service.retirement_preview(By::Operator, l.agent).await.expect("preview");
    assert_eq!((preview.pending_actions, preview.live_credentials), (2, 1));
    let retired = l.app.service.change_agent_state(By::Operator, l.agent, Change::Retire, "replaced by v2", None);
    assert_eq!(retired.await.expect("retire").state, AgentState::Retired);
    let polled: Value = waiter.await.expect("join").expect("poll").json().await.expect("json");
    assert_eq!(polled["status"], "cancelled", "{polled}");
    assert_eq!(polled["decision"]["reason"], "agent retired");
    assert!(polled["decision"]["receipt"].as_str().is_some_and(|r| r.split('.').count() == 3));
    for id in [a, b] {
        let action = l.app.store.held_action(id).await.expect("read").expect("kept");
        assert_eq!(action.status, HeldStatus::Cancelled, "history stays readable");
    }
    let sent = l.app.store.deliveries(l.agent, 10).await.expect("outbox");
    let told: Vec<Value> = sent.iter().filter_map(|d| serde_json::from_str(&d.payload).ok()).collect();
    assert_eq!(told.len(), 2, "a webhook message for each cancelled action");
    assert!(told
        .iter()
        .all(|m| m["data"]["status"] == "cancelled" && m["data"]["decision"]["reason"] == "agent retired"));
    let old = reqwest::Client::new().get(l.app.url(&format!("/api/v1/held-actions/{a}"))).bearer_auth(&l.token);
    assert_eq!(old.send().await.expect("get").status(), StatusCode::UNAUTHORIZED, "its credential is revoked");
    assert!(l.app.store.credentials(l.agent).await.expect("list").iter().all(|c| c.revoked_at.is_some()));
    let counts = l.app.store.pending_per_agent(&[l.agent]).await.expect("counts");
    assert!(counts.iter().all(|(_, n)| *n == 0), "queue counts exact: {counts:?}");
    let stored = l.app.store.agent(l.agent).await.expect("read").expect("agent");
    assert_eq!(stored.life.state_reason.as_deref(), Some("replaced by v2"));
    let again = countersign::service::AgentDraft {
        tenant: "acme".into(),
        name: stored.name.clone(),
        purpose: "Same name".into(),
        owner_email: "olu@example.com".into(),
        sponsor_email: None,
        allowances: vec!["refund".into()],
        webhook_url: None,
    };
    assert!(l.app.service.create_agent(By::Operator, again).await.is_err(), "the name stays taken");
    assert!(l.app.service.verify_audit_chain().await.expect("verify").is_ok());
    l.app.stop().await;
}

async fn hand_over_is_proposed_and_answered(backend: Backend) {
    let l = setup(backend).await;
    let svc = &l.app.service;
    let otto = svc.person_by_email("otto@example.com").await.expect("otto");
    let ana = svc.person_by_email("ana@example.com").await.expect("ana");
    assert!(svc.propose_handover(By::Operator, l.agent, "ana@example.com").await.is_err(), "ana is no owner");
    let first = svc.propose_handover(By::Operator, l.agent, "otto@example.com").await.expect("propose");
    assert!(svc.propose_handover(By::Operator, l.agent, "otto@example.com").await.is_err(), "one open at a time");
    assert!(svc.answer_handover(&ana, first.id, true).await.is_err(), "only the proposed owner answers");
    svc.answer_handover(&otto, first.id, false).await.expect("decline");
    let second = svc.propose_handover(By::Operator, l.agent, "otto@example.com").await.expect("propose");
    svc.withdraw_handover(By::Operator, second.id).await.expect("withdraw");
    assert!(svc.answer_handover(&otto, second.id, true).await.is_err(), "withdrawn");
    let third = svc.propose_handover(By::Operator, l.agent, "otto@example.com").await.expect("propose");
    l.app.clock.advance(time::Duration::days(8));
    assert_eq!(svc.lifecycle_sweep().await.expect("sweep").lapsed_handovers, 1);
    assert!(svc.answer_handover(&otto, third.id, true).await.is_err(), "lapsed after 7 days");
    let fourth = svc.propose_handover(By::Operator, l.agent, "otto@example.com").await.expect("propose");
    svc.answer_handover(&otto, fourth.id, true).await.expect("accept");
    assert_eq!(l.app.store.agent(l.agent).await.expect("read").expect("agent").owner_id, otto.id);
    let kinds = l.app.audit_kinds().await;
    for kind in ["handover_proposed", "handover_declined", "handover_withdrawn", "handover_lapsed", "handover_accepted"]
    {
        assert!(kinds.contains(&format!("agent.{kind}")), "{kind} recorded");
    }
    l.app.stop().await;
}

/// An action never becomes approved with an approval from someone who owns or sponsors its agent at that
/// moment, however the hand-over and the second approval interleave.
async fn an_earlier_vote_of_the_new_owner_never_counts(backend: Backend) {
    let l = setup(backend).await;
    let svc = l.app.service.clone();
    let otto = svc.person_by_email("otto@example.com").await.expect("otto");
    let now = || Some(l.app.clock.now());
    let otto_r =
        Reviewer { user: otto.id, memberships: Memberships::uniform(&otto.roles, &[l.acme]), stepped_up_at: now() };
    let ana = Reviewer { stepped_up_at: now(), ..l.ana.clone() };
    // Sequential: the hand-over lands between the two votes.
    let first: Value = post(&l.app, &l.token, &critical("c-0")).await.json().await.expect("json");
    let id = Uuid::parse_str(first["id"].as_str().expect("id")).expect("uuid");
    svc.decide(&otto_r, id, Vote::Approve { amount: None }).await.expect("otto approves first");
    let h = svc.propose_handover(By::Operator, l.agent, "otto@example.com").await.expect("propose");
    svc.answer_handover(&otto, h.id, true).await.expect("accept");
    let after = svc.decide(&ana, id, Vote::Approve { amount: None }).await.expect("ana approves");
    assert_eq!(after.status, HeldStatus::Pending, "otto's earlier vote no longer counts");
    // Concurrent: the hand-over back races the second approval, many times.
    for round in 1..=6 {
        let body = critical(&format!("c-{round}"));
        let r: Value = post(&l.app, &l.token, &body).await.json().await.expect("json");
        let id = Uuid::parse_str(r["id"].as_str().expect("id")).expect("uuid");
        let agent = l.app.store.agent(l.agent).await.expect("read").expect("agent");
        // Whoever does not own it now votes first, and is then proposed as owner.
        let (voter, voter_user) = if agent.owner_id == otto.id {
            let olu = svc.person_by_email("olu@example.com").await.expect("olu");
            svc.edit_person(By::Operator, olu.id, &[(l.acme, vec![Role::Owner, Role::Supervisor])])
                .await
                .expect("roles");
            let olu = svc.person_by_email("olu@example.com").await.expect("olu");
            (
                Reviewer {
                    user: olu.id,
                    memberships: Memberships::uniform(&olu.roles, &[l.acme]),
                    stepped_up_at: now(),
                },
                olu,
            )
        } else {
            (otto_r.clone(), otto.clone())
        };
        svc.decide(&voter, id, Vote::Approve { amount: None }).await.expect("first vote");
        let h = svc.propose_handover(By::Operator, l.agent, &voter_user.email).await.expect("propose");
        let (s1, s2, a) = (svc.clone(), svc.clone(), ana.clone());
        let accept = tokio::spawn(async move { s1.answer_handover(&voter_user, h.id, true).await });
        let second = tokio::spawn(async move { s2.decide(&a, id, Vote::Approve { amount: None }).await });
        let (accepted, _) = (accept.await.expect("join"), second.await.expect("join"));
        let action = l.app.store.held_action(id).await.expect("read").expect("action");
        if action.status == HeldStatus::Approved && accepted.is_ok() {
            let chain = l.app.store.audit_chain(0, 100_000).await.expect("chain");
            let seq = |kind: &str, subject: &str| chain.iter().rev().find(|r| r.kind == kind && r.subject == subject);
            let approved = seq("held_action.approved", &format!("held_action:{id}")).map(|r| r.seq);
            let handed = seq("agent.handover_accepted", &format!("agent:{}", l.agent)).map(|r| r.seq);
            assert!(approved < handed, "round {round}: approved after the voter became owner");
        }
    }
    l.app.stop().await;
}

async fn access_reviews_are_evidenced_attested_and_enforced(backend: Backend) {
    let l = setup(backend).await;
    let svc = &l.app.service;
    let id = submit(&l, "k-1").await;
    svc.decide(&l.ana, id, Vote::Approve { amount: None }).await.expect("approve");
    submit(&l, "k-2").await;
    let owner = principal(l.owner, &[Role::Owner], &[l.acme]);
    let evidence = svc.review_evidence(By::Person(&owner), l.agent).await.expect("evidence");
    let refunds = &evidence.by_type[&countersign::domain::ActionType::Refund];
    assert_eq!((refunds.submitted, refunds.approved), (2, 1));
    assert_eq!(refunds.approved_amounts.get("EUR").map(|d| d.to_string()).as_deref(), Some("129.90"));
    assert_eq!(evidence.unused, vec![countersign::domain::ActionType::MfaReset]);
    assert_eq!((evidence.credentials_minted, evidence.credentials_used), (1, 1));
    let narrow = Attestation::Narrow(vec!["refund:200.00EUR".into()]);
    let kept = svc.attest(By::Person(&owner), l.agent, narrow, "mfa resets go to the security team").await;
    let kept = kept.expect("attest");
    assert_eq!(kept.scope.allowances().len(), 1, "narrowed");
    let due = svc.review_due(&kept);
    assert!(due > l.app.clock.now() + time::Duration::days(89), "next review in 90 days");
    let widen = Attestation::Narrow(vec!["refund:900.00EUR".into()]);
    assert!(svc.attest(By::Person(&owner), l.agent, widen, "more please").await.is_err(), "never widens");
    // Overdue: shown, then suspended after the grace period, and resumed by the review.
    l.app.clock.advance(time::Duration::days(91));
    assert_eq!(svc.lifecycle_sweep().await.expect("sweep").suspended_for_review, 0, "overdue, within grace");
    l.app.clock.advance(time::Duration::days(14));
    assert_eq!(svc.lifecycle_sweep().await.expect("sweep").suspended_for_review, 1);
    let agent = l.app.store.agent(l.agent).await.expect("read").expect("agent");
    assert_eq!(
        (agent.state, agent.life.state_reason.as_deref()),
        (AgentState::Suspended, Some("access review overdue"))
    );
    let resumed = svc.attest(By::Person(&owner), l.agent, Attestation::Keep, "still needed for billing").await;
    assert_eq!(resumed.expect("keep").state, AgentState::Active);
    l.app.stop().await;
}

async fn sponsors_are_set_changed_and_removed(backend: Backend) {
    let l = setup(backend).await;
    let svc = &l.app.service;
    let owner = principal(l.owner, &[Role::Owner], &[l.acme]);
    assert!(svc.set_sponsor(By::Person(&owner), l.agent, "olu@example.com").await.is_err(), "not the owner");
    assert!(
        svc.set_sponsor(By::Person(&owner), l.agent, "nobody@example.com").await.is_err(),
        "a person of the tenant"
    );
    let set = svc.set_sponsor(By::Person(&owner), l.agent, "otto@example.com").await.expect("set");
    let otto = svc.person_by_email("otto@example.com").await.expect("otto");
    assert_eq!(set.sponsor_id, Some(otto.id));
    // The sponsor sees the agent but manages nothing, and never decides its actions.
    let sponsor = principal(otto.id, &[Role::Owner, Role::Supervisor], &[l.acme]);
    let (_, authority) = svc.agent_visible(By::Person(&sponsor), l.agent).await.expect("visible to its sponsor");
    assert_eq!(authority, None);
    assert!(svc.change_agent_state(By::Person(&sponsor), l.agent, Change::Suspend, "sponsor", None).await.is_err());
    assert!(
        svc.propose_handover(By::Operator, l.agent, "otto@example.com").await.is_err(),
        "a sponsor is not proposed"
    );
    let changed = svc.set_sponsor(By::Person(&owner), l.agent, "ana@example.com").await.expect("change");
    assert_eq!(changed.sponsor_id, Some(l.ana.user));
    let removed = svc.set_sponsor(By::Person(&owner), l.agent, "").await.expect("remove");
    assert_eq!(removed.sponsor_id, None);
    assert_eq!(l.app.audit_kinds().await.iter().filter(|k| *k == "agent.sponsor_changed").count(), 3);
    l.app.stop().await;
}
