//! The page guard: anonymous visitors go to the sign-in page; a section the viewer's roles may not open
//! answers 403 from the server, whatever the browser shows.

use crate::domain::access;
use app::model::{Section, Viewer};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

pub async fn guard_pages(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    // The router would normalise `/x/../people` to `/people` after this check: refuse such paths outright.
    let lowered = path.to_ascii_lowercase();
    if path.split('/').any(|seg| seg == "." || seg == "..") || lowered.contains("%2e") {
        return (StatusCode::BAD_REQUEST, "dot segments are not allowed in paths").into_response();
    }
    let viewer = request.extensions().get::<Viewer>();
    if path.starts_with("/api/") {
        // Server functions check the viewer themselves and answer in their own encoding.
        return next.run(request).await;
    }
    match (path, viewer) {
        ("/login", Some(_)) => Redirect::to("/").into_response(),
        ("/login", None) => next.run(request).await,
        (_, None) => Redirect::to("/login").into_response(),
        // A one-time password is replaced before anything else is opened.
        (path, Some(viewer)) if viewer.must_change_password && path != "/account" => {
            Redirect::to("/account").into_response()
        }
        (_, Some(viewer)) => match Section::of_path(path) {
            Some(section) if !access::may_open(&viewer.roles, section) => forbidden(section),
            _ => next.run(request).await,
        },
    }
}

fn forbidden(section: Section) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not allowed · Countersign</title>\
         <link rel=\"stylesheet\" href=\"/pkg/countersign.css\"></head><body><main class=\"page narrow\">\
         <h1>Not allowed</h1><p>Your roles do not include access to {}. \
         Ask an admin if you need it.</p><p><a href=\"/\">Back to the overview</a></p></main></body></html>",
        section.label()
    );
    (StatusCode::FORBIDDEN, Html(body)).into_response()
}
