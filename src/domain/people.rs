//! Rules for admins managing people: whose account an admin may touch, and that no tenant is ever left
//! without an active admin.

use super::access::Memberships;
use super::{Invalid, Role};
use uuid::Uuid;

/// A person as these rules see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: Uuid,
    pub active: bool,
    pub memberships: Memberships,
}

impl Person {
    fn admin_of(&self, tenant: Uuid) -> bool {
        self.active && self.memberships.has(tenant, Role::Admin)
    }
}

/// How far an admin of `mine` reaches over a person of `theirs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// They share no tenant: the admin may not even see them.
    None,
    /// They also belong to tenants the admin does not administer: memberships (and their roles) of the
    /// admin's tenants only.
    Memberships,
    /// Every tenant of theirs is the admin's: memberships and roles, disabling, unlocking.
    Whole,
}

pub fn reach(mine: &[Uuid], theirs: &[Uuid]) -> Reach {
    if !theirs.iter().any(|t| mine.contains(t)) {
        Reach::None
    } else if theirs.iter().all(|t| mine.contains(t)) {
        Reach::Whole
    } else {
        Reach::Memberships
    }
}

/// Refuses a change to `before` (becoming `after`) that leaves a tenant it administered with no active admin.
pub fn admins_remain(
    people: &[Person],
    before: &Person,
    after: &Person,
    tenant_name: impl Fn(Uuid) -> String,
) -> Result<(), Invalid> {
    let tenants = before.memberships.tenant_ids();
    for tenant in tenants.into_iter().filter(|t| before.admin_of(*t) && !after.admin_of(*t)) {
        let others = people.iter().filter(|p| p.id != before.id && p.admin_of(tenant)).count();
        if others == 0 {
            return Err(Invalid::new(format!(
                "that would leave {} without an admin; make someone else an admin first",
                tenant_name(tenant)
            )));
        }
    }
    Ok(())
}

/// The tenants `before` administered and `after` no longer does: each must still have another active
/// admin when the change commits.
pub fn admin_tenants_lost(before: &Person, after: &Person) -> Vec<Uuid> {
    before.memberships.tenant_ids().into_iter().filter(|t| before.admin_of(*t) && !after.admin_of(*t)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: u128, active: bool, roles: &[Role], tenants: &[u128]) -> Person {
        let tenants: Vec<Uuid> = tenants.iter().map(|t| Uuid::from_u128(*t)).collect();
        Person { id: Uuid::from_u128(id), active, memberships: Memberships::uniform(roles, &tenants) }
    }

    #[test]
    fn reach_follows_shared_tenants() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(reach(&[a], &[b]), Reach::None);
        assert_eq!(reach(&[a], &[a, b]), Reach::Memberships);
        assert_eq!(reach(&[a, b], &[a]), Reach::Whole);
    }

    #[test]
    fn the_last_admin_stays() {
        let ada = person(1, true, &[Role::Admin], &[10]);
        let bo = person(2, true, &[Role::Supervisor], &[10]);
        let name = |_| "acme".to_string();
        let demoted = person(1, true, &[Role::Supervisor], &[10]);
        let disabled = person(1, false, &[Role::Admin], &[10]);
        let left = person(1, true, &[Role::Admin], &[]);
        for after in [&demoted, &disabled, &left] {
            assert!(admins_remain(&[ada.clone(), bo.clone()], &ada, after, name).is_err());
        }
        let cy = person(3, true, &[Role::Admin], &[10]);
        assert!(admins_remain(&[ada.clone(), bo, cy.clone()], &ada, &demoted, name).is_ok());
        let cy_disabled = person(3, false, &[Role::Admin], &[10]);
        assert!(admins_remain(&[ada.clone(), cy_disabled], &ada, &demoted, name).is_err());
        // An admin of another tenant only does not count.
        let elsewhere = person(4, true, &[Role::Admin], &[11]);
        let mut dee = elsewhere.clone();
        dee.memberships.tenants.push((Uuid::from_u128(10), vec![Role::Auditor]));
        assert!(admins_remain(&[ada.clone(), dee], &ada, &demoted, name).is_err());
    }
}
