//! Tenants, people, signing in and out, passwords.

use super::{blocking, Service, ServiceError};
use crate::domain::audit::{Actor, Event, Kind};
use crate::domain::throttle::Verdict;
use crate::domain::{access, identity, password, Invalid, Role, Section};
use crate::store::{NewUser, Tenant, User};
use app::model::{TenantRef, Viewer};
use serde_json::json;
use uuid::Uuid;

/// The client key under which wrong current passwords on the account page are counted.
const PASSWORD_CHANGE_CLIENT: &str = "account-page";

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Wrong email, wrong password, locked or disabled: deliberately one case.
    #[error("sign-in refused")]
    Refused,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl Service {
    pub async fn create_tenant(&self, actor: Actor, slug: &str, name: &str) -> Result<Tenant, ServiceError> {
        let tenant = Tenant {
            id: Uuid::now_v7(),
            slug: identity::slug(slug)?,
            name: identity::display_name(name)?,
            created_at: self.clock.now(),
        };
        let event = Event::new(Kind::TenantCreated, actor, format!("tenant:{}", tenant.id))
            .tenant(tenant.id)
            .data(json!({ "slug": tenant.slug, "name": tenant.name }));
        self.store.create_tenant(&tenant, event).await?;
        Ok(tenant)
    }

    pub async fn create_user(
        &self,
        actor: Actor,
        email: &str,
        name: &str,
        password: String,
        roles: &[Role],
        tenant_slugs: &[String],
    ) -> Result<Uuid, ServiceError> {
        self.create_person(actor, email, name, password, roles, tenant_slugs, false).await
    }

    /// Adds a person; with `one_time`, they must choose their own password at first sign-in.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn create_person(
        &self,
        actor: Actor,
        email: &str,
        name: &str,
        password: String,
        roles: &[Role],
        tenant_slugs: &[String],
        one_time: bool,
    ) -> Result<Uuid, ServiceError> {
        let email = identity::normalize_email(email)?;
        let name = identity::display_name(name)?;
        if roles.is_empty() {
            return Err(Invalid::new("a person needs at least one role").into());
        }
        password::check_policy(&password)?;
        let mut tenants = Vec::new();
        for slug in tenant_slugs {
            let tenant = self.store.tenant_by_slug(slug).await?;
            tenants.push(tenant.ok_or_else(|| Invalid::new(format!("there is no tenant \"{slug}\"")))?.id);
        }
        let password_hash = blocking(move || password::hash(&password)).await??;
        let mut roles = roles.to_vec();
        roles.sort();
        roles.dedup();
        let user = NewUser {
            id: Uuid::now_v7(),
            email,
            name,
            password_hash,
            roles,
            tenants,
            must_change_password: one_time,
            created_at: self.clock.now(),
        };
        let event = Event::new(Kind::UserCreated, actor, format!("user:{}", user.id)).data(json!({
            "email": user.email,
            "roles": user.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "tenants": tenant_slugs,
            "one_time_password": one_time,
        }));
        self.store.create_user(&user, event).await?;
        Ok(user.id)
    }

    /// Checks a password, slowed down per account and `client` (its address). Every refusal looks and
    /// takes the same.
    pub async fn sign_in(&self, email: &str, password: &str, client: &str) -> Result<User, SignInError> {
        let now = self.clock.now();
        let normalized = identity::normalize_email(email).ok();
        let user = match &normalized {
            Some(email) => self.store.user_by_email(email).await.map_err(ServiceError::from)?,
            None => None,
        };
        let typed = password.to_string();
        let Some(user) = user.filter(|u| u.active) else {
            blocking(move || password::verify_nobody(&typed)).await?;
            let event = Event::new(Kind::SignInFailed, Actor::Anonymous, "user:unknown")
                // Only a well-formed address is recorded: free text here is often a mistyped password.
                .data(json!({
                    "email": normalized.as_deref().unwrap_or("(not an email address)"),
                    "reason": "unknown_or_disabled_account",
                    "client": client,
                }));
            self.store.append(event, now).await.map_err(ServiceError::from)?;
            return Err(SignInError::Refused);
        };
        let phc = user.password_hash.clone();
        let password_ok = blocking(move || password::verify(&typed, &phc)).await?;
        match self.store.sign_in_attempt(user.id, client, password_ok, now).await.map_err(ServiceError::from)? {
            Verdict::Accepted => Ok(user),
            Verdict::WrongPassword { .. } | Verdict::Locked { .. } => Err(SignInError::Refused),
        }
    }

    pub async fn sign_out(&self, user: Uuid) -> Result<(), ServiceError> {
        let event = Event::new(Kind::SignedOut, Actor::User(user), format!("user:{user}"));
        self.store.append(event, self.clock.now()).await?;
        Ok(())
    }

    /// Changes a password and returns the new session epoch: every other session of this person ends.
    pub async fn change_password(&self, user: Uuid, current: &str, new: &str) -> Result<i64, ServiceError> {
        let stored = self.store.user_by_id(user).await?.ok_or(ServiceError::Forbidden)?;
        password::check_policy(new)?;
        let now = self.clock.now();
        let (current, phc) = (current.to_string(), stored.password_hash);
        let ok = blocking(move || password::verify(&current, &phc)).await?;
        // Guessing the current password is slowed down like signing in, as a client of its own.
        match self.store.sign_in_attempt(user, PASSWORD_CHANGE_CLIENT, ok, now).await? {
            Verdict::Accepted => {}
            Verdict::Locked { until } => {
                let at = until.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
                return Err(Invalid::new(format!("Too many wrong passwords: try again after {at}.")).into());
            }
            Verdict::WrongPassword { .. } => return Err(Invalid::new("The current password is not correct.").into()),
        }
        let new = new.to_string();
        let hash = blocking(move || password::hash(&new)).await??;
        let event = Event::new(Kind::PasswordChanged, Actor::User(user), format!("user:{user}"));
        Ok(self.store.set_password(user, &hash, event, self.clock.now()).await?)
    }

    /// The console's view of an active person, or `None` if they may no longer sign in or the session
    /// predates their last password change.
    pub async fn viewer(&self, user: Uuid, epoch: i64) -> Result<Option<Viewer>, ServiceError> {
        let user = self.store.user_by_id(user).await?;
        Ok(user.filter(|u| u.active && u.session_epoch == epoch).map(|u| viewer_of(&u)))
    }
}

pub fn viewer_of(user: &User) -> Viewer {
    Viewer {
        user_id: user.id.to_string(),
        email: user.email.clone(),
        name: user.name.clone(),
        roles: user.roles.clone(),
        tenants: user
            .tenants
            .iter()
            .map(|t| TenantRef { roles: user.memberships.roles_in(t.id).to_vec(), ..tenant_ref(t) })
            .collect(),
        sections: if user.must_change_password { vec![Section::Account] } else { access::sections(&user.roles) },
        must_change_password: user.must_change_password,
    }
}

/// The viewer's roles per tenant, as the rules ask for them.
pub fn memberships_of(viewer: &Viewer) -> access::Memberships {
    let tenants: Vec<(Uuid, Vec<Role>)> =
        viewer.tenants.iter().filter_map(|t| Some((Uuid::parse_str(&t.id).ok()?, t.roles.clone()))).collect();
    let outside = if viewer.tenants.is_empty() { viewer.roles.clone() } else { Vec::new() };
    access::Memberships { tenants, outside }
}

pub fn tenant_ref(t: &Tenant) -> TenantRef {
    TenantRef { id: t.id.to_string(), slug: t.slug.clone(), name: t.name.clone(), roles: Vec::new() }
}
