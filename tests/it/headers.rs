//! Security headers: every page's policy lets only this origin's scripts and the response's own nonce run;
//! everything else runs nothing; nothing may frame the console; HTTPS adds HSTS and the `__Host-` cookie;
//! the browser bundle goes out in the build's precompressed copies; a page is sent whole.

use crate::harness::{Backend, TestApp, PASSWORD};
use countersign::config::Config;
use countersign::domain::Role;

crate::on_both_stores!(
    pages_run_only_their_own_scripts,
    https_deployments_pin_transport_and_cookie,
    the_bundle_goes_out_compressed,
    pages_are_rendered_whole_before_they_are_sent
);

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

async fn pages_run_only_their_own_scripts(backend: Backend) {
    let app = TestApp::start(backend).await;
    let page = reqwest::get(app.url("/login")).await.expect("page");
    let policy = header(&page, "content-security-policy");
    let script_src = policy.split(';').find(|d| d.trim().starts_with("script-src")).unwrap_or_default().to_string();
    assert!(!script_src.contains("unsafe-inline") && script_src.contains("'self'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'") && policy.contains("object-src 'none'"), "{policy}");
    let nonce = script_src.split("'nonce-").nth(1).and_then(|n| n.split('\'').next()).expect("a nonce").to_string();
    assert!(nonce.len() >= 16, "{nonce}");
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    assert_eq!(header(&page, "x-frame-options"), "DENY");
    assert_eq!(header(&page, "referrer-policy"), "same-origin");
    assert!(header(&page, "strict-transport-security").is_empty(), "no HSTS over plain http");
    let html = page.text().await.expect("html");
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the hydration script carries this response's nonce");
    let again = header(&reqwest::get(app.url("/login")).await.expect("page"), "content-security-policy");
    assert!(!again.contains(&nonce), "a fresh nonce per response");

    for path in ["/healthz", "/api/v1/held-actions/nope", "/api/openapi.json"] {
        let r = reqwest::get(app.url(path)).await.expect("response");
        assert!(header(&r, "content-security-policy").starts_with("default-src 'none'"), "{path}");
        assert_eq!(header(&r, "x-content-type-options"), "nosniff", "{path}");
    }
    app.stop().await;
}

/// A page leaves in one piece with its length (see `src/web/whole_page.rs`), found or not.
async fn pages_are_rendered_whole_before_they_are_sent(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.person("sam@example.com", &[Role::Supervisor], &[]).await;
    let (visitor, signed_in) = (app.browser(), app.browser());
    app.sign_in(&signed_in, "sam@example.com", PASSWORD).await;
    for (browser, path, status) in [(&visitor, "/login", 200), (&signed_in, "/", 200), (&signed_in, "/nowhere", 404)] {
        let page = browser.get(app.url(path)).send().await.expect("page");
        assert_eq!(page.status(), status, "{path}");
        assert!(header(&page, "content-type").starts_with("text/html"), "{path}");
        let length = page.content_length();
        let html = page.text().await.expect("html");
        assert!(html.contains("</html>"), "{path}");
        assert_eq!(length, Some(html.len() as u64), "{path}");
    }
    app.stop().await;
}

async fn https_deployments_pin_transport_and_cookie(backend: Backend) {
    let config = Config {
        public_url: Some("https://countersign.example.com".into()),
        webhook_allow_private: true,
        ..Config::default()
    };
    let app = TestApp::start_with(backend, config).await;
    app.person("sam@example.com", &[Role::Supervisor], &[]).await;
    let r = app.sign_in(&app.browser(), "sam@example.com", PASSWORD).await;
    assert!(header(&r, "strict-transport-security").starts_with("max-age="));
    let cookie = header(&r, "set-cookie");
    assert!(cookie.starts_with("__Host-countersign_session="), "{cookie}");
    assert!(cookie.contains("Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"), "{cookie}");
    app.stop().await;
}

/// The build writes `.br` and `.gz` copies beside each bundle file; a browser gets the best it accepts, and
/// caches are told the response varies by what was accepted.
async fn the_bundle_goes_out_compressed(backend: Backend) {
    let site = std::env::temp_dir().join(format!("countersign-site-{}", uuid::Uuid::now_v7()));
    let pkg = site.join("pkg");
    std::fs::create_dir_all(&pkg).expect("site");
    for (name, body) in [("app.wasm", "plain"), ("app.wasm.br", "brotli"), ("app.wasm.gz", "gzip")] {
        std::fs::write(pkg.join(name), body).expect("file");
    }
    let config = Config { site_root: site.display().to_string(), webhook_allow_private: true, ..Config::default() };
    let app = TestApp::start_with(backend, config).await;
    let client = reqwest::Client::new();
    for (accepted, encoding, body) in
        [("gzip, deflate, br, zstd", "br", "brotli"), ("gzip", "gzip", "gzip"), ("identity", "", "plain")]
    {
        let r = client.get(app.url("/pkg/app.wasm")).header("accept-encoding", accepted).send().await.expect("file");
        assert_eq!(r.status(), 200, "{accepted}");
        assert_eq!(header(&r, "content-encoding"), encoding, "{accepted}");
        assert_eq!(header(&r, "content-type"), "application/wasm", "{accepted}");
        assert_eq!(header(&r, "vary"), "accept-encoding", "{accepted}");
        assert_eq!(r.text().await.expect("body"), body, "{accepted}");
    }
    app.stop().await;
    let _ = std::fs::remove_dir_all(&site);
}
