//! Console forms are plain HTML posts to server functions: the browser runs no code for them, and Leptos
//! answers a post that accepts HTML with a redirect back to the page it came from (a refusal carried in
//! `__err`). This adds the other half: after a success the address says what was done, as `done=<server
//! function>`, so the page read again can say "Saved." once; a stale `done` is dropped either way.

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The query parameter a page reads to learn which of its forms just succeeded.
pub const DONE: &str = "done";

/// Around the server functions (Leptos routes each at its own `/api/…` path): a form post from a page gets
/// its redirect back marked.
pub async fn mark_done(request: Request, next: Next) -> Response {
    let function = request.uri().path().strip_prefix("/api/").map(str::to_owned);
    let from_a_page = from_a_page(request.headers());
    let mut response = next.run(request).await;
    if let (Some(function), true) = (function, from_a_page) {
        mark_redirect(&function, &mut response);
    }
    response
}

/// Whether the request is a form post from a page (rather than a call from an island's code).
fn from_a_page(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"))
}

/// Marks the redirect back to the page with the function that succeeded, or only clears an old mark when
/// the function was refused (its error is in `__err`).
fn mark_redirect<B>(function: &str, response: &mut axum::http::Response<B>) {
    let Some(location) = response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()) else {
        return;
    };
    let Ok(mut url) = url::Url::parse(location) else {
        return;
    };
    let kept: Vec<(String, String)> =
        url.query_pairs().filter(|(k, _)| k != DONE).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let refused = kept.iter().any(|(k, _)| k == "__err");
    {
        let mut pairs = url.query_pairs_mut();
        pairs.clear();
        pairs.extend_pairs(&kept);
        if !refused {
            pairs.append_pair(DONE, function);
        }
    }
    if url.query() == Some("") {
        url.set_query(None);
    }
    if let Ok(value) = HeaderValue::from_str(url.as_str()) {
        response.headers_mut().insert(header::LOCATION, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redirected(location: &str, function: &str) -> String {
        let mut response =
            axum::http::Response::builder().status(302).header(header::LOCATION, location).body(()).unwrap();
        mark_redirect(function, &mut response);
        response.headers()[header::LOCATION].to_str().unwrap().to_owned()
    }

    #[test]
    fn a_success_names_the_function() {
        assert_eq!(redirected("http://h/agents/1", "update_agent"), "http://h/agents/1?done=update_agent");
        assert_eq!(
            redirected("http://h/agents?state=active&done=old", "answer_handover"),
            "http://h/agents?state=active&done=answer_handover"
        );
    }

    #[test]
    fn a_refusal_only_drops_the_old_mark() {
        assert_eq!(
            redirected("http://h/agents/1?done=update_agent&__path=%2Fapi%2Fx&__err=e30", "x"),
            "http://h/agents/1?__path=%2Fapi%2Fx&__err=e30"
        );
    }
}
