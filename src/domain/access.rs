//! Who may open which section, and which audit events a viewer may read.

use super::{Role, Section};
use uuid::Uuid;

/// The one answer to "may someone with these roles open this section?".
pub fn may_open(roles: &[Role], section: Section) -> bool {
    let any = |wanted: &[Role]| roles.iter().any(|r| wanted.contains(r));
    match section {
        Section::Overview | Section::Account => true,
        // Supervisors decide; admins watch the queue too (the server refuses their votes).
        Section::Queue => any(&[Role::Supervisor, Role::Admin]),
        // Auditors and admins read their tenants' history; supervisors their own decisions.
        Section::History => any(&[Role::Admin, Role::Auditor, Role::Supervisor]),
        Section::Insights => any(&[Role::Admin, Role::Auditor]),
        Section::Agents => any(&[Role::Admin, Role::Owner]),
        Section::Audit => any(&[Role::Admin, Role::Auditor]),
        Section::People => any(&[Role::Admin]),
    }
}

/// The sections to offer, in navigation order.
pub fn sections(roles: &[Role]) -> Vec<Section> {
    Section::ALL.into_iter().filter(|s| may_open(roles, *s)).collect()
}

/// Which audit events a viewer may read: those of their tenants; for admins also the events about people
/// (sign-ins, accounts) that belong to no tenant, limited to the people of their tenants, plus refused
/// sign-ins for unknown addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditScope {
    pub tenants: Vec<Uuid>,
    /// Subjects (`user:<id>`) of untenanted events the viewer may read.
    pub people: Vec<String>,
}

impl AuditScope {
    /// Whether an event of `tenant` about `subject` is the viewer's to read.
    pub fn covers(&self, tenant: Option<Uuid>, subject: &str) -> bool {
        match tenant {
            Some(t) => self.tenants.contains(&t),
            None => self.people.iter().any(|p| p == subject),
        }
    }
}

/// `people` are the ids of the people who share a tenant with the viewer.
pub fn audit_scope(roles: &[Role], tenants: &[Uuid], people: &[Uuid]) -> Option<AuditScope> {
    may_open(roles, Section::Audit).then(|| AuditScope {
        tenants: tenants.to_vec(),
        people: if roles.contains(&Role::Admin) {
            people.iter().map(|p| format!("user:{p}")).chain(["user:unknown".to_string()]).collect()
        } else {
            Vec::new()
        },
    })
}

/// A signed-in person as the rules see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: Uuid,
    pub roles: Vec<Role>,
    pub tenants: Vec<Uuid>,
}

/// The standing someone has over an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authority {
    /// An admin of the agent's tenant: may create it, widen its scope, assign its owner.
    Admin,
    /// Its named owner: may edit its purpose, narrow its scope, manage its credentials.
    Owner,
}

/// What `who` may do with an agent of `tenant` owned by `owner`; `None` means nothing, not even see it.
pub fn authority_over(who: &Principal, tenant: Uuid, owner: Uuid) -> Option<Authority> {
    if !who.tenants.contains(&tenant) {
        return None;
    }
    if who.roles.contains(&Role::Admin) {
        Some(Authority::Admin)
    } else if who.roles.contains(&Role::Owner) && who.user == owner {
        Some(Authority::Owner)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everyone_signed_in_has_overview_and_account() {
        assert_eq!(sections(&[]), vec![Section::Overview, Section::Account]);
    }

    #[test]
    fn sections_follow_roles() {
        assert!(may_open(&[Role::Auditor], Section::Audit));
        assert!(!may_open(&[Role::Auditor], Section::People));
        assert!(!may_open(&[Role::Supervisor, Role::Owner], Section::Audit));
        assert!(may_open(&[Role::Owner], Section::Agents));
        assert!(!may_open(&[Role::Supervisor], Section::Agents));
        assert_eq!(sections(&[Role::Admin]), Section::ALL.to_vec());
        assert!(may_open(&[Role::Supervisor], Section::Queue));
        assert!(!may_open(&[Role::Auditor, Role::Owner], Section::Queue));
        assert_eq!(sections(&[Role::Owner]), [Section::Overview, Section::Agents, Section::Account]);
    }

    #[test]
    fn authority_needs_the_tenant_and_then_admin_or_ownership() {
        let (t, other, me, someone) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3), Uuid::from_u128(4));
        let p = |roles: &[Role]| Principal { user: me, roles: roles.to_vec(), tenants: vec![t] };
        assert_eq!(authority_over(&p(&[Role::Admin]), t, someone), Some(Authority::Admin));
        assert_eq!(authority_over(&p(&[Role::Admin]), other, someone), None, "not across tenants");
        assert_eq!(authority_over(&p(&[Role::Owner]), t, me), Some(Authority::Owner));
        assert_eq!(authority_over(&p(&[Role::Owner]), t, someone), None);
        assert_eq!(authority_over(&p(&[Role::Supervisor]), t, me), None, "ownership needs the owner role");
    }

    #[test]
    fn only_admins_read_untenanted_events_and_only_about_their_people() {
        let (t, p) = ([Uuid::nil()], [Uuid::max()]);
        assert_eq!(audit_scope(&[Role::Supervisor], &t, &p), None);
        assert_eq!(audit_scope(&[Role::Auditor], &t, &p).map(|s| s.people), Some(vec![]));
        let admin = audit_scope(&[Role::Admin], &t, &p).map(|s| s.people).unwrap_or_default();
        assert_eq!(admin, [format!("user:{}", Uuid::max()), "user:unknown".to_string()]);
    }
}
