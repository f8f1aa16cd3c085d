//! `countersign bench retire`: retiring an agent with many pending actions, in one transaction, next to a
//! baseline measured in the same run: the expiry worker ending the same number of another agent's actions
//! (the same outcome machinery: receipt, audit event, webhook message and queue count for each).

use crate::config::Config;
use crate::domain::clock::SystemClock;
use crate::domain::lifecycle::Change;
use crate::domain::{submission, ActionType, HeldStatus};
use crate::server;
use crate::service::{pending_action, AgentDraft, By, Service};
use crate::simulate::payloads::Generator;
use crate::store::{Agent, NewHeldAction};
use anyhow::{ensure, Context};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const BATCH: usize = 1_000;

pub async fn retire(pending: usize, database_url: Option<String>) -> anyhow::Result<()> {
    let temp = std::env::temp_dir().join(format!("countersign-bench-retire-{}.db", uuid::Uuid::now_v7().simple()));
    let url = database_url.clone().unwrap_or_else(|| format!("sqlite://{}", temp.display()));
    let config = Config { database_url: url.clone(), ..Config::default() };
    let store = server::open_store(&config).await?;
    let service = Service::start(store.clone(), Arc::new(SystemClock), config.catalog()?).await?;
    crate::demo::seed(&service).await.context("demo data")?;
    let run = uuid::Uuid::now_v7().simple().to_string();
    let (expiring, retiring) = (
        agent(&service, &format!("bench-expire-{run}")).await?,
        agent(&service, &format!("bench-retire-{run}")).await?,
    );
    println!("backend: {}; {pending} pending actions for each of two agents (with webhooks)", store.backend());

    // Baseline: the same number of outcomes, through the expiry worker (200 per transaction).
    submit(&service, &expiring, pending, time::Duration::seconds(2), &run).await?;
    submit(&service, &retiring, pending, time::Duration::hours(1), &run).await?;
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let started = Instant::now();
    let expired = service.expire_overdue().await?;
    let baseline = started.elapsed();
    ensure!(expired == pending, "expected {pending} expiries, got {expired}");

    let preview = service.retirement_preview(By::Operator, retiring.id).await?;
    let started = Instant::now();
    let retired = service.change_agent_state(By::Operator, retiring.id, Change::Retire, "benchmark", None).await?;
    let took = started.elapsed();
    ensure!(retired.state == crate::domain::AgentState::Retired, "not retired");

    // The queue counts must equal a recount of what is pending.
    let mut exact = true;
    for a in [&expiring, &retiring] {
        let counted: i64 = service.store.pending_per_agent(&[a.id]).await?.iter().map(|(_, n)| n).sum();
        let recount = service.store.pending_of_agent(a.id).await?.len() as i64;
        exact &= counted == recount && recount == 0;
    }
    let cancelled = service.store.held_action(last_id(&service, &retiring).await?).await?.map(|a| a.status);
    println!("retire an agent with {} pending actions (goal ≤ 2000 ms): {:>8.1} ms", preview.pending_actions, ms(took));
    println!("baseline: expire {pending} pending actions (expiry worker):   {:>8.1} ms", ms(baseline));
    println!("ratio retire / baseline: {:.2}", took.as_secs_f64() / baseline.as_secs_f64());
    println!("queue counts exact after both: {}", if exact { "yes" } else { "NO" });
    println!("last action's status after retirement: {}", cancelled.map_or("missing", HeldStatus::as_str));
    if database_url.is_none() {
        drop(service);
        drop(store);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", temp.display()));
        }
    }
    ensure!(exact && took <= Duration::from_secs(2), "the goal was missed");
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn agent(service: &Service, name: &str) -> anyhow::Result<Agent> {
    let owner = crate::demo::PEOPLE[3].0;
    let allow = ActionType::ALL
        .iter()
        .map(|a| if a.moves_money() { format!("{}:100000.00EUR", a.as_str()) } else { a.as_str().to_string() })
        .collect();
    let draft = AgentDraft {
        tenant: crate::demo::TENANTS[0].0.into(),
        name: name.into(),
        purpose: "Benchmark load".into(),
        owner_email: owner.into(),
        sponsor_email: None,
        allowances: allow,
        webhook_url: Some("https://agent.example.com/countersign".into()),
    };
    Ok(service.create_agent(By::Operator, draft).await?.0)
}

/// Stores `n` realistic pending actions of `agent`, due in `ttl`, straight through the store in batches.
async fn submit(service: &Service, agent: &Agent, n: usize, ttl: time::Duration, run: &str) -> anyhow::Result<()> {
    let now = service.clock.now();
    let mut generator = Generator::new(11, &[], Some("100000.00"));
    let mut batch = Vec::with_capacity(BATCH);
    for i in 0..n {
        let mut body = generator.next(now);
        body["idempotency_key"] = json!(format!("bench-{run}-{}-{i}", agent.name));
        if let Some(o) = body.as_object_mut() {
            o.remove("expires_at");
        }
        let s = submission::parse(&body.to_string()).map_err(|e| anyhow::anyhow!("refused: {e:?}"))?;
        let tier = service.catalog.effective_tier(s.action, s.requested_tier);
        let action = pending_action(agent, s, tier, now, now + ttl);
        let event = crate::domain::audit::Event::new(
            crate::domain::audit::Kind::HeldActionSubmitted,
            crate::domain::audit::Actor::Agent(agent.id),
            format!("held_action:{}", action.id),
        )
        .tenant(agent.tenant_id);
        batch.push(NewHeldAction { action, event, issuer: None });
        if batch.len() == BATCH || i + 1 == n {
            service.store.submit(std::mem::take(&mut batch), &[]).await?;
        }
    }
    Ok(())
}

async fn last_id(service: &Service, agent: &Agent) -> anyhow::Result<uuid::Uuid> {
    let tenants: Vec<uuid::Uuid> = vec![agent.tenant_id];
    let related = service.store.related(tenants[0], "", agent.id, 1).await?;
    related.first().map(|a| a.id).context("no action of the agent")
}
