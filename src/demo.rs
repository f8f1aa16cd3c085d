//! Demo data for `serve --demo`: two tenants and one person per role, created once and reused after.

use crate::domain::audit::Actor;
use crate::domain::Role;
use crate::service::{Service, ServiceError};
use crate::store::StoreError;

pub const TENANTS: [(&str, &str); 2] = [("acme-retail", "Acme Retail"), ("globex-telecom", "Globex Telecom")];

/// (email, name, role, password). Demo only: these passwords are public.
pub const PEOPLE: [(&str, &str, Role, &str); 4] = [
    ("admin@countersign.demo", "Ada Admin", Role::Admin, "admin-demo-password"),
    ("supervisor@countersign.demo", "Sam Supervisor", Role::Supervisor, "supervisor-demo-password"),
    ("owner@countersign.demo", "Olu Owner", Role::Owner, "owner-demo-password"),
    ("auditor@countersign.demo", "Aiko Auditor", Role::Auditor, "auditor-demo-password"),
];

pub async fn seed(service: &Service) -> Result<(), ServiceError> {
    for (slug, name) in TENANTS {
        if service.store.tenant_by_slug(slug).await?.is_none() {
            service.create_tenant(Actor::System, slug, name).await?;
        }
    }
    let slugs: Vec<String> = TENANTS.iter().map(|(slug, _)| slug.to_string()).collect();
    for (email, name, role, password) in PEOPLE {
        if service.store.user_by_email(email).await?.is_some() {
            continue;
        }
        match service.create_user(Actor::System, email, name, password.to_string(), &[role], &slugs).await {
            // Another server seeding at the same moment got there first.
            Ok(_) | Err(ServiceError::Store(StoreError::Conflict(_))) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

pub fn banner() -> String {
    let mut out = String::from("DEMO DATA — these accounts and passwords are public; never use them in production:\n");
    for (email, _, role, password) in PEOPLE {
        out.push_str(&format!("  {:<11} {:<29} {}\n", role.as_str(), email, password));
    }
    out
}
