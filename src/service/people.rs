//! Admins managing people and tenants: adding a person with a one-time password, editing roles and
//! memberships, disabling and re-enabling, unlocking. Admins reach only their own tenants' people, and no
//! change may leave a tenant without an admin. Changes that make an owner unable to own orphan their agents
//! in the same transaction (see the store).

use super::{By, Service, ServiceError};
use crate::domain::audit::{Event, Kind};
use crate::domain::people::{self, Person, Reach};
use crate::domain::{Invalid, Role};
use crate::store::{PersonChange, Tenant, User};
use serde_json::json;
use uuid::Uuid;

fn person(u: &User) -> Person {
    Person { id: u.id, active: u.active, roles: u.roles.clone(), tenants: u.tenants.iter().map(|t| t.id).collect() }
}

impl Service {
    /// The tenants `by` administers; refuses anyone who is not an admin.
    async fn administered(&self, by: By<'_>) -> Result<Vec<Uuid>, ServiceError> {
        match by {
            By::Person(p) if p.roles.contains(&Role::Admin) => Ok(p.tenants.clone()),
            By::Person(_) => Err(ServiceError::Forbidden),
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

    /// Refuses `before → after` when it would leave one of the person's tenants without an admin.
    async fn check_admins_remain(&self, before: &User, after: &Person) -> Result<(), ServiceError> {
        let tenants: Vec<Uuid> = before.tenants.iter().map(|t| t.id).collect();
        let everyone: Vec<Person> = self.store.users_in(&tenants).await?.iter().map(person).collect();
        let name = |id: Uuid| before.tenants.iter().find(|t| t.id == id).map_or(id.to_string(), |t| t.slug.clone());
        Ok(people::admins_remain(&everyone, &person(before), after, name)?)
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

    /// Sets a person's roles and, among the tenants `by` administers, their memberships.
    pub async fn edit_person(
        &self,
        by: By<'_>,
        user: Uuid,
        roles: &[Role],
        tenants: &[Uuid],
    ) -> Result<(), ServiceError> {
        let (target, mine, reach) = self.reachable(by, user).await?;
        let mut roles = roles.to_vec();
        roles.sort();
        roles.dedup();
        if roles.is_empty() {
            return Err(Invalid::new("a person needs at least one role").into());
        }
        if roles != target.roles && reach != Reach::Whole {
            return Err(Invalid::new(format!(
                "{} also belongs to tenants you do not administer; an admin of those must change their roles",
                target.email
            ))
            .into());
        }
        if let Some(foreign) = tenants.iter().find(|t| !mine.contains(t)) {
            return Err(Invalid::new(format!("you do not administer the tenant {foreign}")).into());
        }
        // Memberships outside the admin's tenants stay as they are.
        let mut after_tenants: Vec<Uuid> =
            target.tenants.iter().map(|t| t.id).filter(|t| !mine.contains(t)).chain(tenants.iter().copied()).collect();
        after_tenants.sort();
        after_tenants.dedup();
        let after =
            Person { id: target.id, active: target.active, roles: roles.clone(), tenants: after_tenants.clone() };
        self.check_admins_remain(&target, &after).await?;
        let slugs = |ids: &[Uuid], all: &[Tenant]| -> Vec<String> {
            all.iter().filter(|t| ids.contains(&t.id)).map(|t| t.slug.clone()).collect()
        };
        let all = self.store.tenants().await?;
        let before_ids: Vec<Uuid> = target.tenants.iter().map(|t| t.id).collect();
        let event = Event::new(Kind::UserUpdated, by.actor(), format!("user:{user}")).data(json!({
            "email": target.email,
            "roles": [role_names(&target.roles), role_names(&roles)],
            "tenants": [slugs(&before_ids, &all), slugs(&after_tenants, &all)],
        }));
        let change = PersonChange { user, roles, tenants: after_tenants, event };
        Ok(self.store.update_person(&change, self.clock.now()).await?)
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
        if !active {
            self.check_admins_remain(&target, &Person { active: false, ..person(&target) }).await?;
        }
        let kind = if active { Kind::UserEnabled } else { Kind::UserDisabled };
        let event = Event::new(kind, by.actor(), format!("user:{user}")).data(json!({ "email": target.email }));
        if !self.store.set_person_active(user, active, event, self.clock.now()).await? {
            let already = if active { "enabled" } else { "disabled" };
            return Err(Invalid::new(format!("{} is already {already}", target.email)).into());
        }
        Ok(())
    }

    /// Ends a sign-in lockout before its 15 minutes are up.
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
            let tenants: Vec<Uuid> = me.tenants.iter().map(|t| t.id).chain([tenant.id]).collect();
            let event = Event::new(Kind::UserUpdated, by.actor(), format!("user:{}", me.id))
                .data(json!({ "email": me.email, "joined": tenant.slug }));
            let change = PersonChange { user: me.id, roles: me.roles.clone(), tenants, event };
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
