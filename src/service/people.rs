//! Admins managing people and tenants: adding a person with a one-time password, editing roles and
//! memberships, disabling and re-enabling, unlocking. Admins reach only their own tenants' people, and no
//! change may leave a tenant without an admin. Changes that make an owner unable to own orphan their agents
//! in the same transaction (see the store).

use super::{By, Service, ServiceError};
use crate::domain::access::Memberships;
use crate::domain::audit::{Event, Kind};
use crate::domain::people::{self, Person, Reach};
use crate::domain::{Invalid, Role};
use crate::store::{PersonChange, Tenant, User};
use serde_json::json;
use uuid::Uuid;

fn person(u: &User) -> Person {
    Person { id: u.id, active: u.active, memberships: u.memberships.clone() }
}

impl Service {
    /// The tenants `by` administers; refuses anyone who is not an admin.
    async fn administered(&self, by: By<'_>) -> Result<Vec<Uuid>, ServiceError> {
        match by {
            By::Person(p) => {
                let mine = p.memberships.tenants_with(&[Role::Admin]);
                if mine.is_empty() {
                    Err(ServiceError::Forbidden)
                } else {
                    Ok(mine)
                }
            }
            By::Operator => Ok(self.store.tenants().await?.into_iter().map(|t| t.id).collect()),
        }
    }

    /// A person `by` may manage, and how far; `Forbidden` for anyone outside their tenants.
    async fn reachable(&self, by: By<'_>, user: Uuid) -> Result<(User, Vec<Uuid>, Reach), ServiceError> {
        let mine = self.administered(by).await?;
        let target = self.store.user_by_id(user).await?.ok_or(ServiceError::Forbidden)?;
        let theirs: Vec<Uuid> = target.tenants.iter().map(|t| t.id).collect();
        match people::reach(&mine, &theirs) {
            // A person in no tenant at all is only the operator's to manage.
            Reach::None if !(theirs.is_empty() && matches!(by, By::Operator)) => Err(ServiceError::Forbidden),
            reach => Ok((target, mine, if theirs.is_empty() { Reach::Whole } else { reach })),
        }
    }

    /// Refuses `before → after` when it would leave one of the person's tenants without an admin, and
    /// answers the tenants the store must re-check inside the write transaction (a racing change may have
    /// demoted the other admins since this read).
    async fn check_admins_remain(&self, before: &User, after: &Person) -> Result<Vec<Uuid>, ServiceError> {
        let tenants: Vec<Uuid> = before.tenants.iter().map(|t| t.id).collect();
        let everyone: Vec<Person> = self.store.users_in(&tenants).await?.iter().map(person).collect();
        let name = |id: Uuid| before.tenants.iter().find(|t| t.id == id).map_or(id.to_string(), |t| t.slug.clone());
        people::admins_remain(&everyone, &person(before), after, name)?;
        Ok(people::admin_tenants_lost(&person(before), after))
    }

    /// Adds a person to tenants `by` administers, with a one-time password they must change at first sign-in.
    pub async fn add_person(
        &self,
        by: By<'_>,
        email: &str,
        name: &str,
        one_time_password: String,
        roles: &[Role],
        tenant_slugs: &[String],
    ) -> Result<Uuid, ServiceError> {
        let mine = self.administered(by).await?;
        if tenant_slugs.is_empty() {
            return Err(Invalid::new("choose at least one tenant").into());
        }
        for slug in tenant_slugs {
            let tenant = self.store.tenant_by_slug(slug).await?;
            if !tenant.is_some_and(|t| mine.contains(&t.id)) {
                return Err(Invalid::new(format!("you do not administer a tenant \"{slug}\"")).into());
            }
        }
        self.create_person(by.actor(), email, name, one_time_password, roles, tenant_slugs, true).await
    }

    /// Sets, among the tenants `by` administers, which the person belongs to and their roles in each;
    /// memberships in other tenants stay as they are.
    pub async fn edit_person(
        &self,
        by: By<'_>,
        user: Uuid,
        memberships: &[(Uuid, Vec<Role>)],
    ) -> Result<(), ServiceError> {
        let (target, mine, _) = self.reachable(by, user).await?;
        let all = self.store.tenants().await?;
        let slug = |id: Uuid| all.iter().find(|t| t.id == id).map_or(id.to_string(), |t| t.slug.clone());
        let mut after = Memberships {
            tenants: target.memberships.tenants.iter().filter(|(t, _)| !mine.contains(t)).cloned().collect(),
            outside: Vec::new(),
        };
        for (tenant, roles) in memberships {
            if !mine.contains(tenant) {
                return Err(Invalid::new(format!("you do not administer the tenant {}", slug(*tenant))).into());
            }
            let mut roles = roles.clone();
            roles.sort();
            roles.dedup();
            if roles.is_empty() {
                return Err(Invalid::new(format!("choose at least one role in {}", slug(*tenant))).into());
            }
            after.tenants.retain(|(t, _)| t != tenant);
            after.tenants.push((*tenant, roles));
        }
        after.tenants.sort_by_key(|(t, _)| slug(*t));
        if after.tenants.is_empty() {
            // Out of every tenant, they keep the roles they had (only the operator reaches them now).
            after.outside = target.roles.clone();
        }
        if after.all_roles().is_empty() {
            return Err(Invalid::new("a person needs at least one role").into());
        }
        let next = Person { id: target.id, active: target.active, memberships: after.clone() };
        let keep_admins = self.check_admins_remain(&target, &next).await?;
        let named = |m: &Memberships| -> serde_json::Value {
            m.tenants.iter().map(|(t, r)| (slug(*t), json!(role_names(r)))).collect::<serde_json::Map<_, _>>().into()
        };
        let before_ids: Vec<Uuid> = target.tenants.iter().map(|t| t.id).collect();
        let after_ids = after.tenant_ids();
        let slugs = |ids: &[Uuid]| -> Vec<String> { ids.iter().map(|t| slug(*t)).collect() };
        let event = Event::new(Kind::UserUpdated, by.actor(), format!("user:{user}")).data(json!({
            "email": target.email,
            "roles": [role_names(&target.roles), role_names(&after.all_roles())],
            "tenants": [slugs(&before_ids), slugs(&after_ids)],
            "tenant_roles": [named(&target.memberships), named(&after)],
        }));
        let change = PersonChange { user, memberships: after, event, keep_admins };
        Ok(self.store.update_person(&change, self.clock.now()).await?)
    }

    /// Sets a person's roles in one tenant `by` administers (making them a member of it), leaving every
    /// other membership as it is.
    pub async fn set_roles_in(&self, by: By<'_>, user: Uuid, tenant: Uuid, roles: &[Role]) -> Result<(), ServiceError> {
        let mine = self.administered(by).await?;
        let target = self.store.user_by_id(user).await?.ok_or(ServiceError::Forbidden)?;
        let mut wanted: Vec<(Uuid, Vec<Role>)> =
            target.memberships.tenants.iter().filter(|(t, _)| mine.contains(t) && *t != tenant).cloned().collect();
        wanted.push((tenant, roles.to_vec()));
        self.edit_person(by, user, &wanted).await
    }

    /// Disables (ending their sessions at once) or re-enables a person.
    pub async fn set_person_active(&self, by: By<'_>, user: Uuid, active: bool) -> Result<(), ServiceError> {
        let (target, _, reach) = self.reachable(by, user).await?;
        if reach != Reach::Whole {
            return Err(Invalid::new(format!(
                "{} also belongs to tenants you do not administer; an admin of those must do this",
                target.email
            ))
            .into());
        }
        if let By::Person(p) = by {
            if p.user == user && !active {
                return Err(Invalid::new("you cannot disable yourself").into());
            }
        }
        let keep_admins = if active {
            Vec::new()
        } else {
            self.check_admins_remain(&target, &Person { active: false, ..person(&target) }).await?
        };
        let kind = if active { Kind::UserEnabled } else { Kind::UserDisabled };
        let event = Event::new(kind, by.actor(), format!("user:{user}")).data(json!({ "email": target.email }));
        if !self.store.set_person_active(user, active, &keep_admins, event, self.clock.now()).await? {
            let already = if active { "enabled" } else { "disabled" };
            return Err(Invalid::new(format!("{} is already {already}", target.email)).into());
        }
        Ok(())
    }

    /// Ends every client's sign-in slow-down for this person at once.
    pub async fn unlock_person(&self, by: By<'_>, user: Uuid) -> Result<(), ServiceError> {
        let (target, _, _) = self.reachable(by, user).await?;
        let event =
            Event::new(Kind::UserUnlocked, by.actor(), format!("user:{user}")).data(json!({ "email": target.email }));
        Ok(self.store.unlock_person(user, event, self.clock.now()).await?)
    }

    /// Adds a tenant; an admin who adds it becomes its admin.
    pub async fn add_tenant(&self, by: By<'_>, slug: &str, name: &str) -> Result<Tenant, ServiceError> {
        self.administered(by).await?;
        let tenant = self.create_tenant(by.actor(), slug, name).await?;
        if let By::Person(p) = by {
            let me = self.store.user_by_id(p.user).await?.ok_or(ServiceError::Forbidden)?;
            let mut memberships = me.memberships.clone();
            memberships.tenants.push((tenant.id, vec![Role::Admin]));
            let event = Event::new(Kind::UserUpdated, by.actor(), format!("user:{}", me.id))
                .data(json!({ "email": me.email, "joined": tenant.slug, "roles": ["admin"] }));
            let change = PersonChange { user: me.id, memberships, event, keep_admins: Vec::new() };
            self.store.update_person(&change, self.clock.now()).await?;
        }
        Ok(tenant)
    }

    /// Finds a person by email for the command line; `Invalid` naming the address when there is none.
    pub async fn person_by_email(&self, email: &str) -> Result<User, ServiceError> {
        let email = crate::domain::identity::normalize_email(email)?;
        let found = self.store.user_by_email(&email).await?;
        Ok(found.ok_or_else(|| Invalid::new(format!("there is no person {email}")))?)
    }
}

fn role_names(roles: &[Role]) -> Vec<&'static str> {
    roles.iter().map(|r| r.as_str()).collect()
}
