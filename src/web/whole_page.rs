//! A page is rendered whole before its first byte leaves. Leptos streams a page as it renders, and the
//! page's reactive owner lives in the response body: a client that drops the response part-way (a browser
//! leaving the page, a check that reads only the status) drops the owner on one thread while the render
//! goes on on another, and reactive_graph 0.2 can then deadlock that worker thread for good
//! (leptos-rs/leptos#4673; seen once in CI). The page is read to its end in a task of its own, which a client
//! leaving cannot cancel, so the render always ends before the owner goes; and the page gets a
//! `Content-Length`. Event streams and exports are not pages and pass through.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Far above any console page; a page this large is a fault, not something to send.
const PAGE_LIMIT: usize = 16 * 1024 * 1024;

pub async fn render_whole(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if !is_page(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Whatever framing the stream had, the whole page is sent with its own length.
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::TRANSFER_ENCODING);
    match tokio::spawn(axum::body::to_bytes(body, PAGE_LIMIT)).await {
        Ok(Ok(page)) => Response::from_parts(parts, Body::from(page)),
        Ok(Err(e)) => failed(&e),
        Err(e) => failed(&e),
    }
}

fn failed(e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "a page could not be rendered whole");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

fn is_page(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}
