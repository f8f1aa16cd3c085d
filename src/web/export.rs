//! The console's downloads: the history and the audit log under the filters on screen, as CSV or NDJSON,
//! streamed. A download records an audit event, so a request another site makes a browser send is refused
//! like any other state-changing one.

use super::console::hide;
use super::{csrf, AppState};
use crate::domain::export::Format;
use crate::service::{Export, ServiceError};
use app::error::AppError;
use app::history_model::{AuditFilter, HistoryFilter};
use app::model::Viewer;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;

type Params = Query<HashMap<String, String>>;

pub async fn history(State(state): State<AppState>, Query(params): Params, request: Request) -> Response {
    let filter = HistoryFilter::from_query(|k| params.get(k).cloned());
    let service = state.service.clone();
    download(&state, &params, request, |reader, format| async move {
        service.export_history(&reader, &filter, format).await
    })
    .await
}

pub async fn audit(State(state): State<AppState>, Query(params): Params, request: Request) -> Response {
    let filter = AuditFilter::from_query(|k| params.get(k).cloned());
    let service = state.service.clone();
    download(
        &state,
        &params,
        request,
        |reader, format| async move { service.export_audit(&reader, &filter, format).await },
    )
    .await
}

fn refuse(status: StatusCode, detail: String) -> Response {
    let problem = serde_json::json!({ "type": "about:blank", "title": "Export refused", "status": status.as_u16(), "detail": detail });
    (status, [(header::CONTENT_TYPE, "application/problem+json")], problem.to_string()).into_response()
}

async fn download<F, Fut>(state: &AppState, params: &HashMap<String, String>, request: Request, prepare: F) -> Response
where
    F: FnOnce(crate::service::Reader, Format) -> Fut,
    Fut: std::future::Future<Output = Result<Export, ServiceError>>,
{
    if !csrf::same_origin(request.headers(), state.config.public_url.as_deref()) {
        return refuse(StatusCode::FORBIDDEN, "Exports must be started from Countersign's own pages.".into());
    }
    let Some(viewer) = request.extensions().get::<Viewer>().cloned() else {
        return refuse(StatusCode::UNAUTHORIZED, "Sign in first.".into());
    };
    let format = match Format::parse(params.get("format").map_or("csv", String::as_str)) {
        Ok(f) => f,
        Err(e) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, e.0),
    };
    let prepared = match state.service.reader(&viewer).await {
        Ok(reader) => prepare(reader, format).await,
        Err(e) => Err(e),
    };
    let export = match prepared.map_err(hide) {
        Ok(export) => export,
        Err(AppError::Invalid(why)) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, why),
        Err(e) => return refuse(StatusCode::from_u16(e.status()).unwrap_or(StatusCode::FORBIDDEN), e.to_string()),
    };
    let (content_type, file_name) = (export.format.content_type(), export.file_name());
    let (tx, rx) = tokio::sync::mpsc::channel::<String>(4);
    tokio::spawn(async move {
        if let Err(e) = export.run(tx).await {
            tracing::error!(error = %e, "an export stopped part-way");
        }
    });
    let body = Body::from_stream(ReceiverStream::new(rx).map(Ok::<_, std::convert::Infallible>));
    let disposition = format!("attachment; filename=\"{file_name}\"");
    ([(header::CONTENT_TYPE, content_type.to_string()), (header::CONTENT_DISPOSITION, disposition)], body)
        .into_response()
}
