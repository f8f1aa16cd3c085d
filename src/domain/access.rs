//! Who may open which section, and which audit events a viewer may read.

use super::{Role, Section};
use uuid::Uuid;

/// The one answer to "may someone with these roles open this section?".
pub fn may_open(roles: &[Role], section: Section) -> bool {
    let any = |wanted: &[Role]| roles.iter().any(|r| wanted.contains(r));
    match section {
        Section::Overview | Section::Account => true,
        Section::Audit => any(&[Role::Admin, Role::Auditor]),
        Section::People => any(&[Role::Admin]),
    }
}

/// The sections to offer, in navigation order.
pub fn sections(roles: &[Role]) -> Vec<Section> {
    Section::ALL
        .into_iter()
        .filter(|s| may_open(roles, *s))
        .collect()
}

/// Which audit events a viewer may read: those of their tenants, and for admins also the events that
/// belong to no tenant (sign-ins, user creation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditScope {
    pub tenants: Vec<Uuid>,
    pub include_untenanted: bool,
}

pub fn audit_scope(roles: &[Role], tenants: &[Uuid]) -> Option<AuditScope> {
    may_open(roles, Section::Audit).then(|| AuditScope {
        tenants: tenants.to_vec(),
        include_untenanted: roles.contains(&Role::Admin),
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
    fn audit_is_for_auditors_and_admins_people_for_admins() {
        assert!(may_open(&[Role::Auditor], Section::Audit));
        assert!(!may_open(&[Role::Auditor], Section::People));
        assert!(!may_open(&[Role::Supervisor, Role::Owner], Section::Audit));
        assert_eq!(sections(&[Role::Admin]), Section::ALL.to_vec());
    }

    #[test]
    fn only_admins_read_untenanted_events() {
        let t = [Uuid::nil()];
        assert_eq!(audit_scope(&[Role::Supervisor], &t), None);
        assert!(!audit_scope(&[Role::Auditor], &t).is_some_and(|s| s.include_untenanted));
        assert!(audit_scope(&[Role::Admin], &t).is_some_and(|s| s.include_untenanted));
    }
}
