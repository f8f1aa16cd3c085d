//! Server functions for agents and their credentials. The server decides who may do what; these only
//! carry the request to the [`AgentConsole`](crate::services::AgentConsole) port.

#[allow(unused_imports)] // used only in server builds
use super::ssr_support::*;
use crate::api::codec::TextJson;
use crate::error::AppError;
use crate::lifecycle_model::AgentsOverview;
use crate::model::{AgentDetail, AgentFormOptions, CreatedAgent, MintedCredential};
use leptos::prelude::*;

#[server(endpoint = "agents/list", output = TextJson)]
pub async fn list_agents() -> Result<AgentsOverview, AppError> {
    answer(async { agent_console()?.agents(&require_viewer()?).await }).await
}

#[server(endpoint = "agents/get", output = TextJson)]
pub async fn get_agent(id: String) -> Result<AgentDetail, AppError> {
    answer(async { agent_console()?.agent(&require_viewer()?, &id).await }).await
}

#[server(endpoint = "agents/options", output = TextJson)]
pub async fn load_agent_form() -> Result<AgentFormOptions, AppError> {
    answer(async { agent_console()?.form_options(&require_viewer()?).await }).await
}

/// `allowances`: one per line or comma-separated, e.g. `refund:500.00EUR`, `password_reset`.
#[server(endpoint = "agents/create", output = TextJson)]
pub async fn create_agent(
    tenant: String,
    name: String,
    purpose: String,
    owner: String,
    sponsor: String,
    allowances: String,
    webhook_url: String,
) -> Result<CreatedAgent, AppError> {
    answer(async {
        let viewer = require_viewer()?;
        agent_console()?.create(&viewer, tenant, name, purpose, owner, sponsor, allowances, webhook_url).await
    })
    .await
}

/// `subject` (the workload subject; empty unbinds) and `workload_only` (a checkbox, "on" or absent) are left
/// as they are when `subject` is not sent.
#[server(endpoint = "agents/update", output = TextJson)]
pub async fn update_agent(
    id: String,
    purpose: String,
    allowances: String,
    webhook_url: String,
    subject: Option<String>,
    workload_only: Option<String>,
) -> Result<(), AppError> {
    let identity = subject
        .map(|subject| crate::model::WorkloadForm { subject, only: workload_only.is_some_and(|v| !v.is_empty()) });
    answer(async { agent_console()?.update(&require_viewer()?, &id, purpose, allowances, webhook_url, identity).await })
        .await
}

#[server(endpoint = "agents/credentials/mint", output = TextJson)]
pub async fn mint_credential(agent: String, ttl: String) -> Result<MintedCredential, AppError> {
    answer(async { agent_console()?.mint_credential(&require_viewer()?, &agent, &ttl).await }).await
}

#[server(endpoint = "agents/credentials/revoke", output = TextJson)]
pub async fn revoke_credential(credential: String) -> Result<(), AppError> {
    answer(async { agent_console()?.revoke_credential(&require_viewer()?, &credential).await }).await
}

#[server(endpoint = "agents/deliveries/redeliver", output = TextJson)]
pub async fn redeliver(delivery: String) -> Result<(), AppError> {
    answer(async { agent_console()?.redeliver(&require_viewer()?, &delivery).await }).await
}

#[server(endpoint = "agents/issuers/add", output = TextJson)]
pub async fn add_issuer(
    tenant: String,
    issuer: String,
    audience: String,
    jwks_url: String,
    jwks: String,
) -> Result<(), AppError> {
    let form = crate::lifecycle_model::IssuerForm { tenant, issuer, audience, jwks_url, jwks };
    answer(async { agent_console()?.add_issuer(&require_viewer()?, form).await }).await
}

#[server(endpoint = "agents/issuers/change", output = TextJson)]
pub async fn change_issuer(id: String, audience: String, jwks_url: String, jwks: String) -> Result<(), AppError> {
    let form = crate::lifecycle_model::IssuerEditForm { id, audience, jwks_url, jwks };
    answer(async { agent_console()?.change_issuer(&require_viewer()?, form).await }).await
}

#[server(endpoint = "agents/issuers/remove", output = TextJson)]
pub async fn remove_issuer(id: String, confirm: String) -> Result<(), AppError> {
    answer(async { agent_console()?.remove_issuer(&require_viewer()?, &id, &confirm).await }).await
}
