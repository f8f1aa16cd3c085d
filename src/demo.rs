//! Demo data for `serve --demo`: two tenants and one person per role, created once and reused after.

use crate::domain::audit::Actor;
use crate::domain::Role;
use crate::service::{AgentDraft, By, Service, ServiceError};
use crate::simulate;
use crate::store::StoreError;
use std::net::SocketAddr;

pub const TENANTS: [(&str, &str); 2] = [("acme-retail", "Acme Retail"), ("globex-telecom", "Globex Telecom")];

/// (tenant, name, purpose, allowances) — all owned by the demo owner.
const AGENTS: [(&str, &str, &str, &[&str]); 3] = [
    (
        "acme-retail",
        "billing-assistant",
        "Resolves billing and refund chats",
        &["refund:500.00EUR", "address_change", "payment_method_change"],
    ),
    (
        "acme-retail",
        "account-recovery",
        "Helps customers back into their accounts",
        &["password_reset", "mfa_reset", "account_closure", "data_export"],
    ),
    (
        "globex-telecom",
        "care-agent",
        "Handles telecom support end to end",
        &[
            "refund:250.00EUR",
            "password_reset",
            "mfa_reset",
            "address_change",
            "data_export",
            "account_closure",
            "payment_method_change",
        ],
    ),
];

/// Seconds between demo submissions, spread over the demo agents.
const STREAM_EVERY: f64 = 20.0;

/// (email, name, roles, password). Demo only: these passwords are public. The owner also supervises, so
/// separation of duties shows: the queue lists their agents' actions but refuses them the decision.
pub const PEOPLE: [(&str, &str, &[Role], &str); 5] = [
    ("admin@countersign.demo", "Ada Admin", &[Role::Admin], "admin-demo-password"),
    ("supervisor@countersign.demo", "Sam Supervisor", &[Role::Supervisor], "supervisor-demo-password"),
    ("reviewer@countersign.demo", "Rui Reviewer", &[Role::Supervisor], "reviewer-demo-password"),
    ("owner@countersign.demo", "Olu Owner", &[Role::Owner, Role::Supervisor], "owner-demo-password"),
    ("auditor@countersign.demo", "Aiko Auditor", &[Role::Auditor], "auditor-demo-password"),
];

pub async fn seed(service: &Service) -> Result<(), ServiceError> {
    for (slug, name) in TENANTS {
        if service.store.tenant_by_slug(slug).await?.is_none() {
            service.create_tenant(Actor::System, slug, name).await?;
        }
    }
    let slugs: Vec<String> = TENANTS.iter().map(|(slug, _)| slug.to_string()).collect();
    for (email, name, roles, password) in PEOPLE {
        if service.store.user_by_email(email).await?.is_some() {
            continue;
        }
        match service.create_user(Actor::System, email, name, password.to_string(), roles, &slugs).await {
            // Another server seeding at the same moment got there first.
            Ok(_) | Err(ServiceError::Store(StoreError::Conflict(_))) => {}
            Err(e) => return Err(e),
        }
    }
    let owner = PEOPLE[3].0;
    for (tenant, name, purpose, allow) in AGENTS {
        let Some(t) = service.store.tenant_by_slug(tenant).await? else { continue };
        if service.store.agents(&[t.id], None).await?.iter().any(|a| a.name == name) {
            continue;
        }
        let draft = AgentDraft {
            tenant: tenant.into(),
            name: name.into(),
            purpose: purpose.into(),
            owner_email: owner.into(),
            sponsor_email: None,
            allowances: allow.iter().map(|a| a.to_string()).collect(),
            webhook_url: None,
        };
        match service.create_agent(By::Operator, draft).await {
            Ok(_) | Err(ServiceError::Store(StoreError::Conflict(_))) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A gentle stream of held actions from the demo agents, through the real API: each gets a fresh
/// credential (secrets are never stored, so none can be reused) and submits now and then.
pub async fn stream(service: Service, listen: SocketAddr) {
    let url = format!("http://{listen}");
    let tenants = match service.store.tenants().await {
        Ok(t) => t.into_iter().map(|t| t.id).collect::<Vec<_>>(),
        Err(e) => return tracing::warn!(error = %e, "demo stream not started"),
    };
    let agents = service.store.agents(&tenants, None).await.unwrap_or_default();
    let demo_agents: Vec<_> = agents.into_iter().filter(|a| AGENTS.iter().any(|(_, n, ..)| *n == a.name)).collect();
    let count = demo_agents.len().max(1) as f64;
    for (i, agent) in demo_agents.into_iter().enumerate() {
        let credential = match service.issue_credential(By::Operator, agent.id, time::Duration::hours(24)).await {
            Ok((_, token)) => token,
            Err(e) => {
                tracing::warn!(error = %e, agent = %agent.name, "demo agent got no credential");
                continue;
            }
        };
        let options = simulate::Options {
            target: simulate::Target::Http(url.clone()),
            credential,
            rate: 1.0 / (STREAM_EVERY * count),
            count: None,
            seed: time::OffsetDateTime::now_utc().unix_timestamp() as u64 + i as u64,
        };
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_secs(2 + 5 * i as u64)).await;
            if let Err(e) = simulate::run_quietly(options).await {
                tracing::warn!(error = %e, "demo stream stopped");
            }
        });
    }
}

pub fn banner() -> String {
    let mut out = String::from("DEMO DATA — these accounts and passwords are public; never use them in production:\n");
    for (email, _, roles, password) in PEOPLE {
        let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        out.push_str(&format!("  {:<18} {:<29} {}\n", roles.join("+"), email, password));
    }
    out
}
