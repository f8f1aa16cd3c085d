//! Server functions for the decision history and the decision record; the
//! [`HistoryConsole`](crate::services::HistoryConsole) port decides what the viewer may read.

#[allow(unused_imports)] // used only in server builds
use super::ssr_support::*;
use crate::api::codec::TextJson;
use crate::error::AppError;
use crate::history_model::{DecisionRecord, HistoryFilter, HistoryPage};
use leptos::prelude::*;

#[server(endpoint = "history/page", output = TextJson)]
pub async fn load_history(#[server(default)] filter: HistoryFilter) -> Result<HistoryPage, AppError> {
    answer(async { history_console()?.history(&require_viewer()?, filter).await }).await
}

#[server(endpoint = "history/record", output = TextJson)]
pub async fn load_record(id: String) -> Result<DecisionRecord, AppError> {
    answer(async { history_console()?.record(&require_viewer()?, &id).await }).await
}
