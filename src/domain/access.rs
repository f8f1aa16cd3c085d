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

/// Which audit events a viewer may read: those of the tenants where they are an admin or auditor; for
/// admins also the events about people (sign-ins, accounts) that belong to no tenant, limited to the people
/// of the tenants they administer. Refused sign-ins for unknown addresses (`user:unknown`, with the typed
/// email) are the operator's alone: see `operator_audit_scope`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditScope {
    pub tenants: Vec<Uuid>,
    /// Subjects (`user:<id>`) of untenanted events the viewer may read.
    pub people: Vec<String>,
}

/// The subject of refused sign-ins for addresses that name no active person.
pub const UNKNOWN_PERSON: &str = "user:unknown";

impl AuditScope {
    /// Whether an event of `tenant` about `subject` is the viewer's to read.
    pub fn covers(&self, tenant: Option<Uuid>, subject: &str) -> bool {
        match tenant {
            Some(t) => self.tenants.contains(&t),
            None => self.people.iter().any(|p| p == subject),
        }
    }
}

/// `people` are the ids of the people who belong to a tenant the viewer administers.
pub fn audit_scope(memberships: &Memberships, people: &[Uuid]) -> Option<AuditScope> {
    may_open(&memberships.all_roles(), Section::Audit).then(|| AuditScope {
        tenants: memberships.tenants_with(&[Role::Admin, Role::Auditor]),
        people: if memberships.any(Role::Admin) {
            people.iter().map(|p| format!("user:{p}")).collect()
        } else {
            Vec::new()
        },
    })
}

/// The operator's scope: every tenant, every person, and refused sign-ins for unknown addresses.
pub fn operator_audit_scope(tenants: &[Uuid], people: &[Uuid]) -> AuditScope {
    AuditScope {
        tenants: tenants.to_vec(),
        people: people.iter().map(|p| format!("user:{p}")).chain([UNKNOWN_PERSON.to_string()]).collect(),
    }
}

/// A person's roles in each tenant they belong to; a role held in one tenant grants nothing in another.
/// `outside` holds the roles of a person who belongs to no tenant (kept, but they reach no tenant's data).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Memberships {
    pub tenants: Vec<(Uuid, Vec<Role>)>,
    pub outside: Vec<Role>,
}

impl Memberships {
    /// The same roles in every one of `tenants` (outside every tenant when there are none).
    pub fn uniform(roles: &[Role], tenants: &[Uuid]) -> Self {
        if tenants.is_empty() {
            return Memberships { tenants: Vec::new(), outside: roles.to_vec() };
        }
        Memberships { tenants: tenants.iter().map(|t| (*t, roles.to_vec())).collect(), outside: Vec::new() }
    }

    /// Whether the person holds `role` in `tenant`.
    pub fn has(&self, tenant: Uuid, role: Role) -> bool {
        self.roles_in(tenant).contains(&role)
    }

    pub fn roles_in(&self, tenant: Uuid) -> &[Role] {
        self.tenants.iter().find(|(t, _)| *t == tenant).map_or(&[], |(_, r)| r.as_slice())
    }

    /// Every tenant the person belongs to, whatever their roles there.
    pub fn tenant_ids(&self) -> Vec<Uuid> {
        self.tenants.iter().map(|(t, _)| *t).collect()
    }

    /// The tenants where the person holds any of `roles`.
    pub fn tenants_with(&self, roles: &[Role]) -> Vec<Uuid> {
        self.tenants.iter().filter(|(_, r)| r.iter().any(|x| roles.contains(x))).map(|(t, _)| *t).collect()
    }

    /// Every role held anywhere, sorted: what decides which sections are offered.
    pub fn all_roles(&self) -> Vec<Role> {
        let mut all: Vec<Role> =
            self.tenants.iter().flat_map(|(_, r)| r.iter().copied()).chain(self.outside.clone()).collect();
        all.sort();
        all.dedup();
        all
    }

    /// Whether `role` is held in any tenant (or outside every tenant).
    pub fn any(&self, role: Role) -> bool {
        self.outside.contains(&role) || self.tenants.iter().any(|(_, r)| r.contains(&role))
    }
}

/// A signed-in person as the rules see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: Uuid,
    pub memberships: Memberships,
}

impl Principal {
    pub fn has(&self, tenant: Uuid, role: Role) -> bool {
        self.memberships.has(tenant, role)
    }

    pub fn tenant_ids(&self) -> Vec<Uuid> {
        self.memberships.tenant_ids()
    }
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
    if who.has(tenant, Role::Admin) {
        Some(Authority::Admin)
    } else if who.has(tenant, Role::Owner) && who.user == owner {
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
    fn authority_needs_the_role_in_that_tenant() {
        let (t, other, me, someone) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3), Uuid::from_u128(4));
        let p = |roles: &[Role]| Principal { user: me, memberships: Memberships::uniform(roles, &[t]) };
        assert_eq!(authority_over(&p(&[Role::Admin]), t, someone), Some(Authority::Admin));
        assert_eq!(authority_over(&p(&[Role::Admin]), other, someone), None, "not across tenants");
        assert_eq!(authority_over(&p(&[Role::Owner]), t, me), Some(Authority::Owner));
        assert_eq!(authority_over(&p(&[Role::Owner]), t, someone), None);
        assert_eq!(authority_over(&p(&[Role::Supervisor]), t, me), None, "ownership needs the owner role");
        // An admin of one tenant who audits another is no admin in the second.
        let mixed = Principal {
            user: me,
            memberships: Memberships {
                tenants: vec![(t, vec![Role::Admin]), (other, vec![Role::Auditor])],
                outside: vec![],
            },
        };
        assert_eq!(authority_over(&mixed, t, someone), Some(Authority::Admin));
        assert_eq!(authority_over(&mixed, other, someone), None);
    }

    #[test]
    fn only_admins_read_untenanted_events_only_about_their_people_and_never_unknown_emails() {
        let (t, p) = ([Uuid::nil()], [Uuid::max()]);
        assert_eq!(audit_scope(&Memberships::uniform(&[Role::Supervisor], &t), &p), None);
        let auditor = audit_scope(&Memberships::uniform(&[Role::Auditor], &t), &p);
        assert_eq!(auditor.map(|s| s.people), Some(vec![]));
        let admin = audit_scope(&Memberships::uniform(&[Role::Admin], &t), &p).unwrap_or_else(|| panic!("admin"));
        assert_eq!(admin.people, [format!("user:{}", Uuid::max())]);
        assert!(!admin.covers(None, UNKNOWN_PERSON));
        assert!(operator_audit_scope(&t, &p).covers(None, UNKNOWN_PERSON));
    }

    #[test]
    fn audit_reaches_only_tenants_where_the_role_is_held() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let m = Memberships { tenants: vec![(a, vec![Role::Auditor]), (b, vec![Role::Supervisor])], outside: vec![] };
        assert_eq!(audit_scope(&m, &[]).map(|s| s.tenants), Some(vec![a]));
    }
}
