//! `countersign seed`: a realistic volume of held actions for benchmarks and load tests, on top of the
//! demo tenants and people. Every row is a submission the intake would accept (it goes through the same
//! parser), decided rows carry valid receipts, and each row has its audit event.
//!
//! Decided actions are spread over the last 30 days, pending ones arrived in the last half hour and fall due
//! over the next day; they come from 10 agents per tenant and 5,000 customers per tenant. Rows are written in
//! the order they arrived, as the intake writes them: a table's rows then sit in time order on disk, so reading
//! history newest-first reads neighbouring pages. (Written in random time order, every row of an export was a
//! page read of its own: a plain SQLite walk of such a table ran at a quarter of the speed, and the export at
//! two thirds; docs/benchmarks.md, "History".)

use crate::delivery::outcome::attested;
use crate::demo;
use crate::domain::audit::{Actor, Event, Kind};
use crate::domain::review::{self, DENY_REASONS};
use crate::domain::{submission, ActionType, HeldStatus};
use crate::service::pending_action;
use crate::service::{AgentDraft, By, Service};
use crate::simulate::payloads::Generator;
use crate::store::{Agent, NewHeldAction};
use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use time::Duration;
use uuid::Uuid;

const AGENTS_PER_TENANT: usize = 10;
const CUSTOMERS_PER_TENANT: u64 = 5_000;
const BATCH: usize = 1_000;

/// The agents seeded actions come from (created if missing), owned by the demo owner.
pub async fn fleet(service: &Service) -> anyhow::Result<Vec<Agent>> {
    demo::seed(service).await.context("demo data")?;
    let owner = demo::PEOPLE[3].0;
    let allow: Vec<String> = ActionType::ALL
        .iter()
        .map(|a| if a.moves_money() { format!("{}:100000.00EUR", a.as_str()) } else { a.as_str().to_string() })
        .collect();
    let mut fleet = Vec::new();
    for (slug, _) in demo::TENANTS {
        let tenant = service.store.tenant_by_slug(slug).await?.context("demo tenant")?;
        let existing = service.store.agents(&[tenant.id], None).await?;
        for n in 0..AGENTS_PER_TENANT {
            let name = format!("fleet-{n:02}");
            if let Some(a) = existing.iter().find(|a| a.name == name) {
                fleet.push(a.clone());
                continue;
            }
            let draft = AgentDraft {
                tenant: slug.into(),
                name,
                purpose: "Seeded support agent".into(),
                owner_email: owner.into(),
                sponsor_email: None,
                allowances: allow.clone(),
                webhook_url: None,
            };
            fleet.push(service.create_agent(By::Operator, draft).await?.0);
        }
    }
    Ok(fleet)
}

/// Adds `pending` pending and `decided` decided held actions; returns how long it took.
pub async fn seed(service: &Service, pending: u64, decided: u64) -> anyhow::Result<std::time::Duration> {
    let started = std::time::Instant::now();
    let fleet = fleet(service).await?;
    let mut deciders = Vec::new();
    for (email, _, roles, _) in demo::PEOPLE {
        if roles == [crate::domain::Role::Supervisor] {
            deciders.push(service.store.user_by_email(email).await?.context("demo supervisor")?.id);
        }
    }
    let key = service.receipt_key().await?;
    let now = service.clock.now();
    let run = Uuid::now_v7().simple().to_string();
    let mut generator = Generator::new(now.unix_timestamp() as u64, &[], Some("100000.00"));
    let templates: Vec<Value> = (0..256).map(|_| generator.next(now)).collect();
    let mut rng = StdRng::seed_from_u64(now.unix_timestamp() as u64);
    let total = pending + decided;
    // Arrival times rise with the row: one step per row, at a random point within its step.
    let (history, recent) = (Duration::days(30) - Duration::minutes(10), Duration::minutes(30));
    let history_step = history.as_seconds_f64() / decided.max(1) as f64;
    let recent_step = recent.as_seconds_f64() / pending.max(1) as f64;
    let mut batch = Vec::with_capacity(BATCH);
    for i in 0..total {
        let agent = &fleet[rng.gen_range(0..fleet.len())];
        let mut body = templates[(i % templates.len() as u64) as usize].clone();
        let customer =
            format!("cus_{}_{}", &agent.tenant_id.simple().to_string()[..6], rng.gen_range(0..CUSTOMERS_PER_TENANT));
        body["idempotency_key"] = json!(format!("seed-{run}-{i}"));
        body["case"]["customer"]["id"] = json!(customer);
        body["on_behalf_of"]["principal"] = json!(customer);
        if let Some(o) = body.as_object_mut() {
            o.remove("expires_at");
        }
        let is_pending = i >= decided;
        if !is_pending {
            // History needs less of the conversation; it keeps the database small.
            if let Some(turns) = body["transcript"].as_array_mut() {
                turns.truncate(2);
            }
        }
        let raw = body.to_string();
        let s = submission::parse(&raw).map_err(|e| anyhow::anyhow!("seeded submission refused: {e:?}"))?;
        let tier = service.catalog.effective_tier(s.action, s.requested_tier);
        let (received_at, expires_at) = if is_pending {
            let at = now - recent + Duration::seconds_f64(recent_step * ((i - decided) as f64 + rng.gen::<f64>()));
            (at, now + Duration::seconds(rng.gen_range(3_600..82_800)))
        } else {
            let at = now - Duration::days(30) + Duration::seconds_f64(history_step * (i as f64 + rng.gen::<f64>()));
            (at, at + Duration::hours(1))
        };
        let mut action = pending_action(agent, s, tier, received_at, expires_at);
        if !is_pending {
            let roll = rng.gen_range(0..100);
            let decided_at = received_at + Duration::seconds(rng.gen_range(30..1_800));
            action.decided_at = Some(decided_at);
            action.decided_by = Some(deciders[rng.gen_range(0..deciders.len())]);
            if roll < 70 {
                action.status = HeldStatus::Approved;
                action.approvals = review::quorum(tier);
            } else if roll < 95 {
                action.status = HeldStatus::Denied;
                action.outcome_reason = Some(DENY_REASONS[rng.gen_range(0..DENY_REASONS.len())].to_string());
            } else {
                action.status = HeldStatus::Expired;
                action.decided_by = None;
                action.outcome_reason = Some("not decided before its deadline".into());
            }
            action.receipt = key.sign(&attested(&action, decided_at));
        }
        let event = Event::new(Kind::HeldActionSubmitted, Actor::System, format!("held_action:{}", action.id))
            .tenant(action.tenant_id)
            .data(json!({ "seeded": true, "status": action.status.as_str(), "risk_tier": tier.as_str(),
                           "action_type": action.action.as_str() }));
        batch.push(NewHeldAction { action, event, issuer: None });
        if batch.len() == BATCH || i + 1 == total {
            service.store.submit(std::mem::take(&mut batch), &[]).await?;
        }
    }
    service.store.refresh_statistics().await?;
    Ok(started.elapsed())
}
