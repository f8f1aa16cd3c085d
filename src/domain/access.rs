//! Who may open which section, and which audit events a viewer may read.

use super::{Role, Section};
use uuid::Uuid;

/// The one answer to "may someone with these roles open this section?".
pub fn may_open(roles: &[Role], section: Section) -> bool {
    let any = |wanted: &[Role]| roles.iter().any(|r| wanted.contains(r));
    match section {
        Section::Overview | Section::Account => true,
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
