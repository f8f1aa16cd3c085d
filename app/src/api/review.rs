//! Server functions for the queue and the case view. The server decides who may see and decide what;
//! these only carry the request to the [`ReviewConsole`](crate::services::ReviewConsole) port.

#[allow(unused_imports)] // used only in server builds
use super::ssr_support::*;
use crate::api::codec::TextJson;
use crate::error::AppError;
use crate::review_model::{CaseView, DecisionForm, QueueFilter, QueuePage};
use leptos::prelude::*;

#[server(endpoint = "queue/page", output = TextJson)]
pub async fn load_queue(filter: QueueFilter) -> Result<QueuePage, AppError> {
    answer(async { review_console()?.queue(&require_viewer()?, filter).await }).await
}

#[server(endpoint = "queue/case", output = TextJson)]
pub async fn load_case(id: String) -> Result<CaseView, AppError> {
    answer(async { review_console()?.case(&session().await?, &require_viewer()?, &id).await }).await
}

#[server(endpoint = "queue/claim", output = TextJson)]
pub async fn claim(id: String, take_over: bool) -> Result<(), AppError> {
    answer(async { review_console()?.claim(&require_viewer()?, &id, take_over).await }).await
}

/// The open case page's renewal of its claim: the same as `claim` without taking over, but not the
/// person's activity, so a console left open still reaches its idle timeout.
#[server(endpoint = "queue/renew", output = TextJson)]
pub async fn renew_claim(id: String) -> Result<(), AppError> {
    answer(async { review_console()?.claim(&require_viewer()?, &id, false).await }).await
}

#[server(endpoint = "queue/release", output = TextJson)]
pub async fn release(id: String) -> Result<(), AppError> {
    answer(async { review_console()?.release(&require_viewer()?, &id).await }).await
}

#[server(endpoint = "queue/step-up", output = TextJson)]
pub async fn step_up(password: String) -> Result<(), AppError> {
    answer(async { review_console()?.step_up(&session().await?, &require_viewer()?, &password).await }).await
}

#[server(endpoint = "queue/decide", output = TextJson)]
pub async fn decide(id: String, form: DecisionForm) -> Result<(), AppError> {
    answer(async { review_console()?.decide(&session().await?, &require_viewer()?, &id, form).await }).await
}
