//! The server function behind `/insights`; the [`InsightsConsole`](crate::services::InsightsConsole) port
//! decides what the viewer may see.

#[allow(unused_imports)] // used only in server builds
use super::ssr_support::*;
use crate::api::codec::TextJson;
use crate::error::AppError;
use crate::insights_model::InsightsView;
use leptos::prelude::*;

#[server(endpoint = "insights", output = TextJson)]
pub async fn load_insights(
    #[server(default)] tenant: String,
    #[server(default)] days: String,
) -> Result<InsightsView, AppError> {
    answer(async { insights_console()?.insights(&require_viewer()?, &tenant, &days).await }).await
}

#[server(endpoint = "insights/sample", output = TextJson)]
pub async fn draw_sample(tenant: String, days: String, size: String) -> Result<(), AppError> {
    answer(async { insights_console()?.draw_sample(&require_viewer()?, &tenant, &days, &size).await }).await
}

#[server(endpoint = "insights/verdict", output = TextJson)]
pub async fn record_verdict(sample: String, #[server(default)] verdict: String, note: String) -> Result<(), AppError> {
    answer(async { insights_console()?.record_verdict(&require_viewer()?, &sample, &verdict, &note).await }).await
}
