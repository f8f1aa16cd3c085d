//! Cross-site request forgery defence, on top of SameSite=Lax cookies: a state-changing request that a
//! browser marks as coming from another site, or whose Origin is not ours, is refused. Requests with
//! neither header do not come from a browser and carry no ambient cookie to abuse.

use super::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn refuse_cross_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || same_origin(request.headers(), state.config.public_url.as_deref()) {
        return next.run(request).await;
    }
    tracing::warn!(method = %request.method(), path = request.uri().path(), "refused a cross-origin request");
    let problem = serde_json::json!({
        "type": "about:blank",
        "title": "Cross-origin request refused",
        "status": 403,
        "detail": "State-changing requests must come from Countersign's own pages.",
    });
    (StatusCode::FORBIDDEN, [(header::CONTENT_TYPE, "application/problem+json")], problem.to_string()).into_response()
}

pub(super) fn same_origin(headers: &HeaderMap, public_url: Option<&str>) -> bool {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        // `none` is a navigation the user typed or bookmarked.
        return site == "same-origin" || site == "none";
    }
    let Some(origin) = text("origin") else {
        return true;
    };
    let origin_host = origin.split_once("://").map(|(_, host)| host);
    let host_matches = text("host").is_some_and(|host| origin_host == Some(host));
    let public_matches = public_url.is_some_and(|public| public.trim_end_matches('/') == origin);
    host_matches || public_matches
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (header::HeaderName::from_static(k), HeaderValue::from_static(v))).collect()
    }

    #[test]
    fn fetch_metadata_decides_when_present() {
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")]), None));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site"), ("origin", "http://a")]), None));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "same-site")]), None));
    }

    #[test]
    fn origin_must_match_host_or_public_url() {
        assert!(same_origin(&headers(&[("origin", "http://127.0.0.1:3000"), ("host", "127.0.0.1:3000")]), None));
        assert!(!same_origin(&headers(&[("origin", "http://evil.example"), ("host", "127.0.0.1:3000")]), None));
        assert!(same_origin(
            &headers(&[("origin", "https://cs.example.com"), ("host", "10.0.0.5:3000")]),
            Some("https://cs.example.com/")
        ));
        assert!(!same_origin(&headers(&[("origin", "null"), ("host", "127.0.0.1:3000")]), None));
    }

    #[test]
    fn non_browser_clients_pass() {
        assert!(same_origin(&headers(&[]), None));
    }
}
