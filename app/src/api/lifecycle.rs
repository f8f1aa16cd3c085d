//! Server functions for an agent's life and for people. The server decides who may do what; these only
//! carry the request to the [`LifecycleConsole`](crate::services::LifecycleConsole) and
//! [`PeopleConsole`](crate::services::PeopleConsole) ports.

#[allow(unused_imports)] // used only in server builds
use super::ssr_support::*;
use crate::api::codec::TextJson;
use crate::error::AppError;
use crate::lifecycle_model::{EvidenceView, PeopleAdmin};
use leptos::prelude::*;

#[server(endpoint = "agents/state", output = TextJson)]
pub async fn change_agent_state(
    agent: String,
    change: String,
    reason: String,
    #[server(default)] confirm: String,
) -> Result<(), AppError> {
    answer(async { lifecycle_console()?.change_state(&require_viewer()?, &agent, &change, &reason, &confirm).await })
        .await
}

#[server(endpoint = "agents/handover/propose", output = TextJson)]
pub async fn propose_handover(agent: String, to: String) -> Result<(), AppError> {
    answer(async { lifecycle_console()?.propose_handover(&require_viewer()?, &agent, &to).await }).await
}

#[server(endpoint = "agents/handover/answer", output = TextJson)]
pub async fn answer_handover(handover: String, accept: bool) -> Result<(), AppError> {
    answer(async { lifecycle_console()?.answer_handover(&require_viewer()?, &handover, accept).await }).await
}

#[server(endpoint = "agents/handover/withdraw", output = TextJson)]
pub async fn withdraw_handover(handover: String) -> Result<(), AppError> {
    answer(async { lifecycle_console()?.withdraw_handover(&require_viewer()?, &handover).await }).await
}

#[server(endpoint = "agents/sponsor", output = TextJson)]
pub async fn set_sponsor(agent: String, #[server(default)] sponsor: String) -> Result<(), AppError> {
    answer(async { lifecycle_console()?.set_sponsor(&require_viewer()?, &agent, &sponsor).await }).await
}

#[server(endpoint = "agents/review/evidence", output = TextJson)]
pub async fn review_evidence(agent: String) -> Result<EvidenceView, AppError> {
    answer(async { lifecycle_console()?.evidence(&require_viewer()?, &agent).await }).await
}

#[server(endpoint = "agents/review/attest", output = TextJson)]
pub async fn attest_review(
    agent: String,
    decision: String,
    #[server(default)] allowances: String,
    note: String,
) -> Result<(), AppError> {
    answer(async { lifecycle_console()?.attest(&require_viewer()?, &agent, &decision, &allowances, &note).await }).await
}

#[server(endpoint = "people/admin", output = TextJson)]
pub async fn load_people_admin() -> Result<PeopleAdmin, AppError> {
    answer(async { people_console()?.people_admin(&require_viewer()?).await }).await
}

#[server(endpoint = "people/add", output = TextJson)]
pub async fn add_person(
    email: String,
    name: String,
    #[server(default)] roles: Vec<String>,
    #[server(default)] tenants: Vec<String>,
    password: String,
) -> Result<(), AppError> {
    answer(async { people_console()?.add_person(&require_viewer()?, &email, &name, &roles, &tenants, password).await })
        .await
}

#[server(endpoint = "people/edit", output = TextJson)]
pub async fn edit_person(
    person: String,
    #[server(default)] roles: Vec<String>,
    #[server(default)] tenants: Vec<String>,
) -> Result<(), AppError> {
    answer(async { people_console()?.edit_person(&require_viewer()?, &person, &roles, &tenants).await }).await
}

#[server(endpoint = "people/active", output = TextJson)]
pub async fn set_person_active(person: String, active: bool) -> Result<(), AppError> {
    answer(async { people_console()?.set_person_active(&require_viewer()?, &person, active).await }).await
}

#[server(endpoint = "people/unlock", output = TextJson)]
pub async fn unlock_person(person: String) -> Result<(), AppError> {
    answer(async { people_console()?.unlock_person(&require_viewer()?, &person).await }).await
}

#[server(endpoint = "tenants/add", output = TextJson)]
pub async fn add_tenant(slug: String, name: String) -> Result<(), AppError> {
    answer(async { people_console()?.add_tenant(&require_viewer()?, &slug, &name).await }).await
}
