//! The admins' people workplace over the services: the directory with what the viewer may change, and the
//! forms that add, edit, disable, enable and unlock people and add tenants.

use super::agent_console::{id, principal};
use super::console::{hide, ConsoleService};
use crate::domain::people::{self, Reach};
use crate::domain::{Role, Section};
use crate::service::By;
use app::error::AppError;
use app::lifecycle_model::{PeopleAdmin, PersonAdminRow};
use app::model::Viewer;
use app::services::PeopleConsole;
use async_trait::async_trait;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

fn roles(names: &[String]) -> Result<Vec<Role>, AppError> {
    names.iter().map(|n| Role::parse(n).ok_or_else(|| AppError::Invalid(format!("\"{n}\" is not a role")))).collect()
}

/// A tenant slug of the viewer's own to its id; anything else is refused by name.
fn tenant(viewer: &Viewer, slug: &str) -> Result<Uuid, AppError> {
    viewer
        .tenants
        .iter()
        // Only where the viewer is an admin: a tenant they merely belong to reads like an unknown one.
        .find(|t| t.slug == slug && t.roles.contains(&Role::Admin))
        .and_then(|t| Uuid::parse_str(&t.id).ok())
        .ok_or_else(|| AppError::Invalid(format!("you do not administer a tenant \"{slug}\"")))
}

/// The edit form's memberships: each ticked tenant with the roles ticked for it (`slug:role`); a bare
/// `role` applies to every ticked tenant, as the form did before roles were per tenant.
fn memberships(viewer: &Viewer, names: &[String], slugs: &[String]) -> Result<Vec<(Uuid, Vec<Role>)>, AppError> {
    for name in names {
        if let Some((slug, _)) = name.split_once(':') {
            if !slugs.contains(&slug.to_string()) {
                return Err(AppError::Invalid(format!("roles in \"{slug}\" need its membership ticked too")));
            }
        }
    }
    slugs
        .iter()
        .map(|slug| {
            let mine: Vec<String> = names
                .iter()
                .filter_map(|n| match n.split_once(':') {
                    Some((s, role)) => (s == slug).then(|| role.to_string()),
                    None => Some(n.clone()),
                })
                .collect();
            Ok((tenant(viewer, slug)?, roles(&mine)?))
        })
        .collect()
}

#[async_trait]
impl PeopleConsole for ConsoleService {
    async fn people_admin(&self, viewer: &Viewer) -> Result<PeopleAdmin, AppError> {
        if !crate::domain::access::may_open(&viewer.roles, Section::People) {
            return Err(AppError::Forbidden);
        }
        let who = principal(viewer)?;
        let mine = who.memberships.tenants_with(&[Role::Admin]);
        let now = self.0.clock.now();
        let found = self.0.store.users_in(&mine).await.map_err(|e| hide(e.into()))?;
        let people = found
            .into_iter()
            .map(|u| {
                let theirs: Vec<Uuid> = u.tenants.iter().map(|t| t.id).collect();
                let tenant_roles = u
                    .tenants
                    .iter()
                    .filter(|t| mine.contains(&t.id))
                    .map(|t| (t.slug.clone(), u.memberships.roles_in(t.id).to_vec()))
                    .collect();
                PersonAdminRow {
                    id: u.id.to_string(),
                    locked_until: u
                        .throttle
                        .locked_until
                        .filter(|_| u.throttle.is_locked(now))
                        .and_then(|t| t.format(&Rfc3339).ok()),
                    tenants: u.tenants.iter().filter(|t| mine.contains(&t.id)).map(|t| t.slug.clone()).collect(),
                    tenant_roles,
                    whole: people::reach(&mine, &theirs) == Reach::Whole,
                    must_change_password: u.must_change_password,
                    roles: u.roles,
                    email: u.email,
                    name: u.name,
                    active: u.active,
                }
            })
            .collect();
        let tenants = viewer.tenants.iter().filter(|t| t.roles.contains(&Role::Admin)).cloned().collect();
        Ok(PeopleAdmin { tenants, people })
    }

    async fn add_person(
        &self,
        viewer: &Viewer,
        email: &str,
        name: &str,
        role_names: &[String],
        tenant_slugs: &[String],
        one_time_password: String,
    ) -> Result<(), AppError> {
        let who = principal(viewer)?;
        let roles = roles(role_names)?;
        self.0
            .add_person(By::Person(&who), email, name, one_time_password, &roles, tenant_slugs)
            .await
            .map_err(hide)?;
        Ok(())
    }

    async fn edit_person(
        &self,
        viewer: &Viewer,
        person: &str,
        role_names: &[String],
        tenant_slugs: &[String],
    ) -> Result<(), AppError> {
        let who = principal(viewer)?;
        // Role first: someone who may not manage people learns nothing from how the tenants they name read.
        if !crate::domain::access::may_open(&viewer.roles, Section::People) {
            return Err(AppError::Forbidden);
        }
        let memberships = memberships(viewer, role_names, tenant_slugs)?;
        self.0.edit_person(By::Person(&who), id(person)?, &memberships).await.map_err(hide)
    }

    async fn set_person_active(&self, viewer: &Viewer, person: &str, active: bool) -> Result<(), AppError> {
        let who = principal(viewer)?;
        self.0.set_person_active(By::Person(&who), id(person)?, active).await.map_err(hide)
    }

    async fn unlock_person(&self, viewer: &Viewer, person: &str) -> Result<(), AppError> {
        let who = principal(viewer)?;
        self.0.unlock_person(By::Person(&who), id(person)?).await.map_err(hide)
    }

    async fn add_tenant(&self, viewer: &Viewer, slug: &str, name: &str) -> Result<(), AppError> {
        let who = principal(viewer)?;
        self.0.add_tenant(By::Person(&who), slug, name).await.map_err(hide)?;
        Ok(())
    }
}
