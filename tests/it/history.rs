//! The decision history, the decision record, the filtered audit log and exports: every filter against a
//! brute-force reference over the same rows, tenant and vote scope, a tampered body shown as such, and
//! exports that carry every row with CSV cells a spreadsheet cannot run.

use crate::api::{example, post};
use crate::harness::{Backend, TestApp, PASSWORD};
use app::history_model::{AuditFilter, HistoryFilter};
use app::model::Viewer;
use countersign::domain::history::words;
use countersign::domain::review::{Reviewer, Vote};
use countersign::domain::{ActionType, HeldStatus, Role};
use countersign::service::Reader;
use countersign::store::HeldAction;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

crate::on_both_stores!(
    history_filters_match_a_brute_force_reference,
    history_is_scoped_by_tenant_and_by_votes,
    the_record_shows_what_was_seen_and_a_tampered_body,
    the_audit_log_filters_and_verifies_within_tenants,
);

const VOCABULARY: [&str; 6] = ["duplicate", "parcel", "locked", "invoice", "moved", "stolen"];

pub struct World {
    pub app: TestApp,
    /// Every acme action, with its reviews' authors.
    pub acme: Vec<(HeldAction, Vec<Uuid>)>,
    pub globex: Vec<Uuid>,
    pub owners: HashMap<Uuid, Uuid>,
    pub auditor: Viewer,
    pub ana: Viewer,
    pub ben: Viewer,
}

pub async fn viewer(app: &TestApp, id: Uuid) -> Viewer {
    app.service.viewer(id, 0).await.expect("viewer").expect("active")
}

pub fn reviewer(v: &Viewer) -> Reviewer {
    Reviewer {
        user: Uuid::parse_str(&v.user_id).expect("id"),
        memberships: countersign::service::accounts::memberships_of(v),
        stepped_up_at: None,
    }
}

pub fn body(i: usize, key: &str) -> Value {
    let mut b = example(key);
    if i % 3 == 2 {
        b["action"] = json!({ "type": "password_reset", "parameters": { "user": format!("cus_{}", i % 5) } });
    } else {
        b["action"]["amount"]["value"] = json!(format!("{}.{:02}", (i * 37) % 480 + 5, i % 100));
    }
    b["intent"] = json!(format!("Please handle the {} problem quickly", VOCABULARY[i % 6]));
    b["case"]["summary"] = json!(format!("{} report", VOCABULARY[(i / 2) % 6]));
    b["case"]["id"] = json!(format!("CS-{}", i % 7));
    b["case"]["customer"]["id"] = json!(format!("cus_{}", i % 5));
    b["on_behalf_of"]["principal"] = json!(format!("cus_{}", i % 5));
    b
}

pub async fn submit(app: &TestApp, token: &str, body: &Value) -> Uuid {
    let r: Value = post(app, token, body).await.json().await.expect("json");
    Uuid::parse_str(r["id"].as_str().expect("id")).expect("uuid")
}

/// Two tenants; in acme, 62 held actions of two agents, approved, denied, withdrawn, expired and pending,
/// each arriving a minute after the last; five in globex.
pub async fn world(backend: Backend) -> World {
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    app.tenant("globex").await;
    let aud = app.person("aud@example.com", &[Role::Auditor], &["acme"]).await;
    let ana = app.person("ana@example.com", &[Role::Supervisor], &["acme"]).await;
    let ben = app.person("ben@example.com", &[Role::Supervisor], &["acme"]).await;
    let olu = app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    let oli = app.person("oli@example.com", &[Role::Owner], &["acme"]).await;
    app.person("gao@example.com", &[Role::Owner], &["globex"]).await;
    let allow = ["refund:500.00EUR", "password_reset"];
    let (a1, t1) = app.agent("acme", "olu@example.com", &allow).await;
    let (a2, t2) = app.agent("acme", "oli@example.com", &allow).await;
    let (_, tg) = app.agent("globex", "gao@example.com", &allow).await;
    let owners = HashMap::from([(a1, olu), (a2, oli)]);
    let (ana, ben, auditor) = (viewer(&app, ana).await, viewer(&app, ben).await, viewer(&app, aud).await);
    let mut ids = Vec::new();
    for i in 0..62 {
        app.clock.advance(time::Duration::seconds(61));
        let token = if i % 2 == 0 { &t1 } else { &t2 };
        let id = submit(&app, token, &body(i, &format!("k-{i}"))).await;
        match i % 8 {
            0 | 4 => {
                drop(app.service.decide(&reviewer(&ana), id, Vote::Approve { amount: None }).await.expect("approve"))
            }
            1 => drop(
                app.service
                    .decide(&reviewer(&ben), id, Vote::Deny { reason: "Not verified".into() })
                    .await
                    .expect("deny"),
            ),
            5 => drop(app.service.decide(&reviewer(&ben), id, Vote::Approve { amount: None }).await.expect("approve")),
            3 => {
                let url = app.url(&format!("/api/v1/held-actions/{id}"));
                reqwest::Client::new().delete(url).bearer_auth(token).send().await.expect("withdraw");
            }
            _ => {}
        }
        ids.push(id);
        // Two thirds in, the rest of what is pending runs out of time.
        if i == 40 {
            app.clock.advance(time::Duration::hours(3));
            app.service.expire_overdue().await.expect("expire");
        }
    }
    let mut globex = Vec::new();
    for i in 0..5 {
        globex.push(submit(&app, &tg, &body(i, &format!("g-{i}"))).await);
    }
    let mut acme = Vec::new();
    for id in ids {
        let action = app.store.held_action(id).await.expect("read").expect("stored");
        let voters = app.store.reviews(id).await.expect("reviews").into_iter().map(|r| r.reviewer).collect();
        acme.push((action, voters));
    }
    World { app, acme, globex, owners, auditor, ana, ben }
}

/// Every page of the history under `filter`, in order.
async fn all_pages(app: &TestApp, reader: &Reader, filter: &HistoryFilter) -> Vec<Uuid> {
    let (mut ids, mut after) = (Vec::new(), None);
    loop {
        let page = app.service.history(reader, filter, after).await.expect("history page");
        ids.extend(page.actions.iter().map(|a| a.id));
        match page.next {
            Some(next) => after = Some(next),
            None => return ids,
        }
    }
}

fn newest_first(mut rows: Vec<&HeldAction>) -> Vec<Uuid> {
    rows.sort_by_key(|a| std::cmp::Reverse((a.received_at, a.id)));
    rows.into_iter().map(|a| a.id).collect()
}

/// The reference: each filter read as plainly as possible over the rows as stored.
fn matches(f: &HistoryFilter, a: &HeldAction, voters: &[Uuid], owners: &HashMap<Uuid, Uuid>) -> bool {
    let parse_t = |s: &str| time::OffsetDateTime::parse(s, &Rfc3339).ok();
    let body: Value = serde_json::from_str(&a.body).expect("body");
    let text = format!("{} {}", body["intent"].as_str().unwrap_or(""), body["case"]["summary"].as_str().unwrap_or(""));
    let present: HashSet<String> = words(&text).into_iter().collect();
    let amount = a.amount.as_ref().map(|m| m.value);
    let dec = |s: &str| s.parse::<rust_decimal::Decimal>().ok();
    (f.from.is_empty() || parse_t(&f.from).is_some_and(|t| a.received_at >= t))
        && (f.to.is_empty() || parse_t(&f.to).is_some_and(|t| a.received_at < t))
        && (f.agent.is_empty() || a.agent_id.to_string() == f.agent)
        && (f.owner.is_empty() || owners.get(&a.agent_id).is_some_and(|o| o.to_string() == f.owner))
        && (f.reviewer.is_empty() || voters.iter().any(|v| v.to_string() == f.reviewer))
        && (f.action.is_empty() || a.action.as_str() == f.action)
        && (f.tier.is_empty() || a.tier.as_str() == f.tier)
        && (f.outcome.is_empty() || a.status.as_str() == f.outcome)
        && (f.customer.is_empty() || a.customer_id == f.customer)
        && (f.case.is_empty() || a.case_id == f.case)
        && (f.amount_min.is_empty() || amount.zip(dec(&f.amount_min)).is_some_and(|(v, m)| v >= m))
        && (f.amount_max.is_empty() || amount.zip(dec(&f.amount_max)).is_some_and(|(v, m)| v <= m))
        && (f.q.is_empty() || words(&f.q).iter().all(|w| present.contains(w)))
}

async fn history_filters_match_a_brute_force_reference(backend: Backend) {
    let w = world(backend).await;
    let reader = w.app.service.reader(&w.auditor).await.expect("reader");
    let at = |i: usize| w.acme[i].0.received_at.format(&Rfc3339).expect("time");
    let (agent, owner) = (w.acme[1].0.agent_id.to_string(), w.owners[&w.acme[0].0.agent_id].to_string());
    let (ana, ben) = (w.ana.user_id.clone(), w.ben.user_id.clone());
    let singles: Vec<HistoryFilter> = vec![
        HistoryFilter::default(),
        HistoryFilter { from: at(10), ..Default::default() },
        HistoryFilter { to: at(30), ..Default::default() },
        HistoryFilter { tenant: "acme".into(), ..Default::default() },
        HistoryFilter { agent: agent.clone(), ..Default::default() },
        HistoryFilter { owner: owner.clone(), ..Default::default() },
        HistoryFilter { reviewer: ana.clone(), ..Default::default() },
        HistoryFilter { reviewer: ben.clone(), ..Default::default() },
        HistoryFilter { action: ActionType::PasswordReset.as_str().into(), ..Default::default() },
        HistoryFilter { tier: "high".into(), ..Default::default() },
        HistoryFilter { outcome: "approved".into(), ..Default::default() },
        HistoryFilter { outcome: "denied".into(), ..Default::default() },
        HistoryFilter { outcome: "expired".into(), ..Default::default() },
        HistoryFilter { outcome: "cancelled".into(), ..Default::default() },
        HistoryFilter { outcome: "pending".into(), ..Default::default() },
        HistoryFilter { customer: "cus_3".into(), ..Default::default() },
        HistoryFilter { case: "CS-4".into(), ..Default::default() },
        HistoryFilter { amount_min: "200".into(), ..Default::default() },
        HistoryFilter { amount_max: "99.99".into(), ..Default::default() },
        HistoryFilter { amount_min: "100".into(), amount_max: "300.50".into(), ..Default::default() },
        HistoryFilter { q: "parcel".into(), ..Default::default() },
        HistoryFilter { q: "Locked, INVOICE".into(), ..Default::default() },
    ];
    // Each alone, then every pair of them, then all that make sense together.
    let mut filters = singles.clone();
    for (i, a) in singles.iter().enumerate() {
        for b in &singles[i + 1..] {
            filters.push(merge(a, b));
        }
    }
    filters.push(HistoryFilter {
        from: at(2),
        to: at(58),
        agent: agent.clone(),
        reviewer: ana.clone(),
        action: "refund".into(),
        amount_min: "10".into(),
        outcome: "approved".into(),
        ..Default::default()
    });
    let mut non_empty = 0;
    for f in &filters {
        if countersign::domain::history::Filter::parse(f, |s| (s == "acme").then_some(Uuid::nil())).is_err() {
            // An empty range, say: refused, not answered with nothing.
            assert!(w.app.service.history(&reader, f, None).await.is_err(), "{f:?}");
            continue;
        }
        let expected =
            newest_first(w.acme.iter().filter(|(a, v)| matches(f, a, v, &w.owners)).map(|(a, _)| a).collect());
        let got = all_pages(&w.app, &reader, f).await;
        assert_eq!(got, expected, "filter {f:?}");
        non_empty += usize::from(!expected.is_empty());
    }
    assert!(non_empty > filters.len() / 3, "the reference is not trivially empty ({non_empty} of {})", filters.len());
    // A bad filter changes nothing and says what is wrong.
    let bad = HistoryFilter { amount_min: "lots".into(), ..Default::default() };
    let err = w.app.service.history(&reader, &bad, None).await.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.starts_with("amount from:"), "{err}");
    w.app.stop().await;
}

/// Two filters at once; where both set the same field, the second's value wins.
fn merge(a: &HistoryFilter, b: &HistoryFilter) -> HistoryFilter {
    let pick = |x: &String, y: &String| if y.is_empty() { x.clone() } else { y.clone() };
    HistoryFilter {
        from: pick(&a.from, &b.from),
        to: pick(&a.to, &b.to),
        tenant: pick(&a.tenant, &b.tenant),
        agent: pick(&a.agent, &b.agent),
        owner: pick(&a.owner, &b.owner),
        reviewer: pick(&a.reviewer, &b.reviewer),
        action: pick(&a.action, &b.action),
        tier: pick(&a.tier, &b.tier),
        outcome: pick(&a.outcome, &b.outcome),
        customer: pick(&a.customer, &b.customer),
        case: pick(&a.case, &b.case),
        amount_min: pick(&a.amount_min, &b.amount_min),
        amount_max: pick(&a.amount_max, &b.amount_max),
        q: pick(&a.q, &b.q),
        after: String::new(),
    }
}

async fn history_is_scoped_by_tenant_and_by_votes(backend: Backend) {
    let w = world(backend).await;
    let everything = HistoryFilter::default();
    let auditor = w.app.service.reader(&w.auditor).await.expect("reader");
    let seen: HashSet<Uuid> = all_pages(&w.app, &auditor, &everything).await.into_iter().collect();
    assert_eq!(seen.len(), w.acme.len(), "an auditor sees every action of their tenant");
    assert!(w.globex.iter().all(|g| !seen.contains(g)), "and none of another tenant");
    let foreign = HistoryFilter { tenant: "globex".into(), ..Default::default() };
    assert!(w.app.service.history(&auditor, &foreign, None).await.is_err(), "naming another tenant is refused");
    // A supervisor sees the decisions they voted on, and nothing else, even by id.
    let ana = w.app.service.reader(&w.ana).await.expect("reader");
    let mine = all_pages(&w.app, &ana, &everything).await;
    let ana_id = Uuid::parse_str(&w.ana.user_id).expect("id");
    let voted: Vec<&HeldAction> = w.acme.iter().filter(|(_, v)| v.contains(&ana_id)).map(|(a, _)| a).collect();
    assert!(!voted.is_empty());
    assert_eq!(mine, newest_first(voted));
    let not_mine = w.acme.iter().find(|(_, v)| !v.contains(&ana_id)).map(|(a, _)| a.id).expect("one");
    assert!(w.app.service.decision_record(&ana, not_mine).await.is_err());
    assert!(w.app.service.decision_record(&auditor, w.globex[0]).await.is_err(), "no records across tenants");
    // Owners have no history; the page answers 403 from the server.
    let owner = w.app.person("own2@example.com", &[Role::Owner], &["acme"]).await;
    assert!(w.app.service.reader(&viewer(&w.app, owner).await).await.is_err());
    let browser = w.app.browser();
    w.app.sign_in(&browser, "own2@example.com", PASSWORD).await;
    let page = browser.get(w.app.url("/history")).send().await.expect("get");
    assert_eq!(page.status(), reqwest::StatusCode::FORBIDDEN);
    let export = browser.get(w.app.url("/history/export?format=csv")).send().await.expect("get");
    assert_eq!(export.status(), reqwest::StatusCode::FORBIDDEN);
    w.app.stop().await;
}

async fn the_record_shows_what_was_seen_and_a_tampered_body(backend: Backend) {
    let w = world(backend).await;
    let browser = w.app.browser();
    w.app.sign_in(&browser, "aud@example.com", PASSWORD).await;
    let (approved, _) = w.acme.iter().find(|(a, _)| a.status == HeldStatus::Approved).expect("an approval");
    let record = |id: Uuid| {
        let (browser, url) = (browser.clone(), w.app.url("/api/history/record"));
        async move {
            let r = browser.post(url).form(&[("id", id.to_string())]).send().await.expect("record");
            assert_eq!(r.status(), reqwest::StatusCode::OK);
            r.json::<Value>().await.expect("json")
        }
    };
    let r = record(approved.id).await;
    assert_eq!(r["stored_hash"], r["computed_hash"]);
    assert_eq!(r["receipt_valid"], json!(true), "the receipt verifies on display");
    assert_eq!(
        r["case"]["intent"].as_str(),
        serde_json::from_str::<Value>(&approved.body).expect("body")["intent"].as_str()
    );
    assert_eq!(r["case"]["reviews"].as_array().map(Vec::len), Some(1));
    assert!(r["case"]["may_not_decide"].is_string(), "nothing is decided from a record");
    let kinds: Vec<&str> = r["events"].as_array().expect("events").iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(kinds.contains(&"held_action.submitted") && kinds.contains(&"held_action.approved"), "{kinds:?}");
    // Someone edits the stored body behind the application's back: the record says so.
    let tampered = approved.body.replace("Please handle", "Please refund");
    let sql = format!(
        "UPDATE held_actions SET body = '{}' WHERE content_hash = '{}'",
        tampered.replace('\'', "''"),
        approved.content_hash
    );
    w.app.db.execute(&sql).await;
    let r = record(approved.id).await;
    assert_ne!(r["stored_hash"], r["computed_hash"], "the mismatch is shown, not hidden");
    assert!(r["case"]["intent"].as_str().is_some_and(|i| i.starts_with("Please refund")));
    w.app.stop().await;
}

async fn the_audit_log_filters_and_verifies_within_tenants(backend: Backend) {
    let w = world(backend).await;
    let ana = w.ana.user_id.clone();
    let by_ana =
        AuditFilter { actor: format!("user:{ana}"), kind: "held_action.approved".into(), ..Default::default() };
    let page = w.app.service.audit_page(&w.auditor, &by_ana).await.expect("audit");
    let approved_by_ana = w
        .acme
        .iter()
        .filter(|(a, _)| a.status == HeldStatus::Approved && a.decided_by.map(|u| u.to_string()) == Some(ana.clone()))
        .count();
    assert_eq!(page.events.len(), approved_by_ana);
    assert!(page.events.iter().all(|e| e.actor_name.as_deref() == Some("Test Person")), "actors by name");
    assert!(page.events.iter().all(|e| e.subject_href.as_deref().is_some_and(|h| h.starts_with("/history/"))));
    let target = AuditFilter { target: format!("held_action:{}", w.acme[0].0.id), ..Default::default() };
    let about = w.app.service.audit_page(&w.auditor, &target).await.expect("audit");
    assert!(about.events.len() >= 2 && about.events.iter().all(|e| e.subject == target.target));
    // Nothing of another tenant, by any filter.
    let all = w.app.service.audit_page(&w.auditor, &AuditFilter::default()).await.expect("audit");
    let acme = w.auditor.tenants[0].slug.clone();
    assert!(all.events.iter().all(|e| e.tenant.as_deref() == Some(acme.as_str())));
    let foreign = AuditFilter { target: format!("held_action:{}", w.globex[0]), ..Default::default() };
    assert!(w.app.service.audit_page(&w.auditor, &foreign).await.expect("audit").events.is_empty());
    // Verification checks the whole chain but counts only the auditor's events.
    let check = w.app.service.check_audit_chain("system").await.expect("verify");
    let scope = w.app.service.reader(&w.auditor).await.expect("reader").audit;
    assert!(check.intact());
    assert!(check.visible_to(Some(&scope)) < check.checked, "{} of {}", check.visible_to(Some(&scope)), check.checked);
    assert_eq!(check.head.as_ref().map(|(seq, _)| *seq as u64), Some(check.checked));
    let shown = w.app.service.chain_status(&w.auditor).await.expect("status").last.expect("kept");
    assert_eq!(shown.events, check.visible_to(Some(&scope)), "the console counts the auditor's own events");
    let bad = AuditFilter { actor: "user:'; DROP TABLE audit_events".into(), ..Default::default() };
    assert!(w.app.service.audit_page(&w.auditor, &bad).await.is_err());
    w.app.stop().await;
}
