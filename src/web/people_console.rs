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

/// Tenant slugs of the viewer's own tenants to ids; anything else is refused by name.
fn tenants(viewer: &Viewer, slugs: &[String]) -> Result<Vec<Uuid>, AppError> {
    slugs
        .iter()
        .map(|slug| {
            viewer
                .tenants
                .iter()
                .find(|t| &t.slug == slug)
                .and_then(|t| Uuid::parse_str(&t.id).ok())
                .ok_or_else(|| AppError::Invalid(format!("you do not administer a tenant \"{slug}\"")))
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
        let now = self.0.clock.now();
        let found = self.0.store.users_in(&who.tenants).await.map_err(|e| hide(e.into()))?;
        let people = found
            .into_iter()
            .map(|u| {
                let theirs: Vec<Uuid> = u.tenants.iter().map(|t| t.id).collect();
                PersonAdminRow {
                    id: u.id.to_string(),
                    locked_until: u
                        .throttle
                        .locked_until
                        .filter(|_| u.throttle.is_locked(now))
                        .and_then(|t| t.format(&Rfc3339).ok()),
                    tenants: u.tenants.iter().filter(|t| who.tenants.contains(&t.id)).map(|t| t.slug.clone()).collect(),
                    whole: people::reach(&who.tenants, &theirs) == Reach::Whole,
                    must_change_password: u.must_change_password,
                    roles: u.roles,
                    email: u.email,
                    name: u.name,
                    active: u.active,
                }
            })
            .collect();
        Ok(PeopleAdmin { tenants: viewer.tenants.clone(), people })
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
        let (roles, tenants) = (roles(role_names)?, tenants(viewer, tenant_slugs)?);
        self.0.edit_person(By::Person(&who), id(person)?, &roles, &tenants).await.map_err(hide)
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
