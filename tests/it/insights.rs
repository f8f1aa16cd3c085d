//! The insights rollups against a recount of the rows they summarise, after votes, expiries, withdrawals
//! and a retirement; the rubber-stamp signal; and who may see the pictures.

use crate::harness::{Backend, PASSWORD};
use crate::history::{reviewer, world};
use countersign::domain::access::Principal;
use countersign::domain::insights;
use countersign::domain::lifecycle::Change;
use countersign::domain::review::Vote;
use countersign::domain::HeldStatus;
use countersign::service::By;
use std::collections::BTreeMap;
use uuid::Uuid;

crate::on_both_stores!(
    rollups_equal_a_recount_after_random_decisions,
    insights_are_for_auditors_of_their_tenants,
    qa_samples_are_drawn_reviewed_and_audited,
);

type Decided = BTreeMap<(Uuid, String, String, String, i64), i64>;
type Voted = BTreeMap<(Uuid, String, Uuid, String), (i64, i64)>;

async fn rollups_equal_a_recount_after_random_decisions(backend: Backend) {
    let w = world(backend).await;
    let app = &w.app;
    // A slow approval: claimed, read for ten minutes, then approved.
    let agent = w.acme[0].0.agent_id;
    let (_, token) = app.agent("acme", "olu@example.com", &["refund:500.00EUR"]).await;
    let body = crate::api::example("slow-1");
    let r: serde_json::Value = crate::api::post(app, &token, &body).await.json().await.expect("json");
    let slow = Uuid::parse_str(r["id"].as_str().expect("id")).expect("uuid");
    let ana = reviewer(&w.ana);
    let principal = Principal { user: ana.user, memberships: ana.memberships.clone() };
    app.service.claim(&principal, slow, false).await.expect("claim");
    app.clock.advance(time::Duration::minutes(10));
    app.service.decide(&ana, slow, Vote::Approve { amount: None }).await.expect("approve");
    // A retirement cancels what is still pending of one agent, in one transaction.
    app.service.change_agent_state(By::Operator, agent, Change::Retire, "replaced by v2", None).await.expect("retire");

    // The recount: every settled row and every vote, read back from the record itself.
    let tenants: Vec<Uuid> = app.store.tenants().await.expect("tenants").iter().map(|t| t.id).collect();
    let (mut decided, mut voted): (Decided, Voted) = Default::default();
    let mut ids: Vec<Uuid> = w.acme.iter().map(|(a, _)| a.id).collect();
    ids.extend(&w.globex);
    ids.push(slow);
    for id in ids {
        let a = app.store.held_action(id).await.expect("read").expect("stored");
        let reviews = app.store.reviews(id).await.expect("reviews");
        if let (Some(at), true) = (a.decided_at, a.status != HeldStatus::Pending) {
            let key = (a.tenant_id, insights::day(at), a.action.as_str().to_string(), a.status.as_str().to_string());
            *decided.entry((key.0, key.1, key.2, key.3, insights::bucket(at - a.received_at))).or_default() += 1;
        }
        for r in reviews {
            let e =
                voted.entry((a.tenant_id, insights::day(r.at), r.reviewer, a.action.as_str().to_string())).or_default();
            e.0 += i64::from(r.approve);
            e.1 += i64::from(!r.approve);
        }
    }
    assert!(decided.values().sum::<i64>() > 40, "the recount covers real decisions");
    let (from, to) = ("2000-01-01", "2999-12-31");
    let rolled: Decided = app
        .store
        .decision_counts(&tenants, from, to)
        .await
        .expect("rollup")
        .into_iter()
        .map(|d| ((d.tenant_id, d.day, d.action_type, d.outcome, d.bucket), d.n))
        .collect();
    assert_eq!(rolled, decided, "decisions per day, outcome and time bucket");
    let votes = app.store.vote_counts(&tenants, from, to).await.expect("rollup");
    let rolled: Voted = votes
        .iter()
        .map(|v| ((v.tenant_id, v.day.clone(), v.reviewer_id, v.action_type.clone()), (v.approvals, v.denials)))
        .collect();
    assert_eq!(rolled, voted, "votes per day, reviewer and action type");
    // Every approval in the world came the instant it arrived: a rubber stamp. The slow one did not.
    let ana_approvals: i64 = votes.iter().filter(|v| v.reviewer_id == ana.user).map(|v| v.approvals).sum();
    let ana_fast: i64 = votes.iter().filter(|v| v.reviewer_id == ana.user).map(|v| v.fast_approvals).sum();
    assert_eq!(ana_fast, ana_approvals - 1, "{ana_fast} of {ana_approvals}");
    w.app.stop().await;
}

async fn insights_are_for_auditors_of_their_tenants(backend: Backend) {
    let w = world(backend).await;
    let reader = w.app.service.reader(&w.auditor).await.expect("reader");
    let seen = w.app.service.insights(&reader, "", 30).await.expect("insights");
    let settled = w.acme.iter().filter(|(a, _)| a.status != HeldStatus::Pending).count() as i64;
    assert_eq!(seen.per_day.values().flatten().sum::<i64>(), settled, "only the auditor's tenant, all of it");
    let pending = w.acme.iter().filter(|(a, _)| a.status == HeldStatus::Pending).count() as i64;
    assert_eq!(seen.queue_age.iter().map(|(_, n)| n).sum::<i64>(), pending);
    assert!(seen.latency.iter().all(|(_, p50, p90, _)| p50 <= p90));
    assert!(w.app.service.insights(&reader, "globex", 30).await.is_err(), "another tenant is refused");
    assert!(w.app.service.insights(&reader, "", 12).await.is_err(), "periods are the offered ones");
    let supervisor = w.app.service.reader(&w.ana).await.expect("reader");
    assert!(w.app.service.insights(&supervisor, "", 30).await.is_err(), "supervisors see their decisions, not these");
    // The page, drawn on the server, for the auditor; refused to a supervisor.
    let browser = w.app.browser();
    w.app.sign_in(&browser, "aud@example.com", PASSWORD).await;
    let r = browser.post(w.app.url("/api/insights")).form(&[("days", "90")]).send().await.expect("insights");
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let body: serde_json::Value = r.json().await.expect("json");
    let charts = body["charts"].as_array().expect("charts");
    assert_eq!(charts.len(), 6);
    assert!(charts.iter().all(|c| c["svg"].as_str().is_some_and(|s| s.starts_with("<svg"))), "charts arrive drawn");
    assert!(charts.iter().all(|c| !c["rows"].as_array().expect("rows").is_empty()), "each with its numbers");
    let sup = w.app.browser();
    w.app.sign_in(&sup, "ana@example.com", PASSWORD).await;
    assert_eq!(sup.get(w.app.url("/insights")).send().await.expect("page").status(), reqwest::StatusCode::FORBIDDEN);
    w.app.stop().await;
}

async fn qa_samples_are_drawn_reviewed_and_audited(backend: Backend) {
    let w = world(backend).await;
    let svc = &w.app.service;
    let reader = svc.reader(&w.auditor).await.expect("reader");
    let decided = w.acme.iter().filter(|(a, _)| matches!(a.status, HeldStatus::Approved | HeldStatus::Denied)).count();
    assert_eq!(svc.draw_sample(&reader, "", 30, 10).await.expect("draw"), 10);
    // A second draw never repeats a decision; asking for more than is left gives what is left.
    assert_eq!(svc.draw_sample(&reader, "acme", 30, 50).await.expect("draw"), decided - 10);
    assert!(svc.draw_sample(&reader, "", 30, 5).await.is_err(), "nothing left to draw is said so");
    assert!(svc.draw_sample(&reader, "", 30, 500).await.is_err(), "sizes are bounded");
    assert!(svc.draw_sample(&reader, "globex", 30, 5).await.is_err(), "not across tenants");
    let (samples, _) = svc.samples(&reader, &reader.tenants, 30).await.expect("samples");
    assert_eq!(samples.len(), decided);
    let (first, second) = (samples[0].id, samples[1].id);
    assert!(svc.record_verdict(&reader, first, false, "").await.is_err(), "a disagreement says why");
    svc.record_verdict(&reader, first, false, "The refund exceeded the order total").await.expect("disagree");
    svc.record_verdict(&reader, second, true, "").await.expect("agree");
    assert!(svc.record_verdict(&reader, second, false, "changed my mind").await.is_err(), "one verdict per sample");
    let (samples, rates) = svc.samples(&reader, &reader.tenants, 30).await.expect("samples");
    let reviewed: i64 = rates.values().map(|(n, _)| n).sum();
    let disagreed: i64 = rates.values().map(|(_, d)| d).sum();
    assert_eq!((reviewed, disagreed), (2, 1));
    let decider = samples.iter().find(|s| s.id == first).and_then(|s| s.decided_by).expect("decided");
    assert_eq!(rates.get(&decider).map(|(_, d)| *d), Some(1), "the disagreement counts against who decided");
    // Supervisors do not sample; every step is in the audit log.
    let supervisor = svc.reader(&w.ana).await.expect("reader");
    assert!(svc.draw_sample(&supervisor, "", 30, 1).await.is_err());
    assert!(svc.record_verdict(&supervisor, first, true, "").await.is_err());
    let kinds = w.app.audit_kinds().await;
    assert_eq!(kinds.iter().filter(|k| *k == "qa.sample_drawn").count(), 2);
    assert_eq!(kinds.iter().filter(|k| *k == "qa.verdict_recorded").count(), 2);
    w.app.stop().await;
}
