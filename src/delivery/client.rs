//! The one HTTP client for every URL someone else aimed (agents' webhooks, issuers' JWKS). It reaches only
//! addresses the egress setting allows: names are resolved by a resolver that drops inside addresses, so
//! the connection goes to an address that was checked (DNS rebinding), and it never uses a proxy from the
//! environment (`HTTPS_PROXY` would carry the request to wherever the proxy reaches, past the guard).
//! Bodies are read with a cap while they stream, never whole first.

use crate::domain::egress::{Egress, Refused};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// A request not answered by then failed.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Resolves a host and keeps only the addresses `egress` allows.
struct Guarded(Egress);

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let egress = self.0;
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> = found.filter(|a| egress.address(a.ip()).is_ok()).collect();
            if allowed.is_empty() {
                return Err(Box::new(Refused::PrivateAddress) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Built once at start-up; an error here stops the start-up (there is no unguarded fallback).
pub fn guarded(egress: Egress) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        // Proxies from the environment would connect for us, to addresses the resolver never saw.
        .no_proxy()
        // A redirect could point anywhere; receivers answer where they were asked.
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(Guarded(egress)))
        .user_agent(concat!("Countersign/", env!("CARGO_PKG_VERSION"), " (webhooks)"))
        .build()
}

/// Whether a request failed because the resolver refused every address the name had.
pub fn refused(e: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.downcast_ref::<Refused>().is_some() {
            return true;
        }
        source = s.source();
    }
    false
}

/// The response's body, up to `cap` bytes: read chunk by chunk and abandoned (the connection dropped) as
/// soon as it goes past the cap, so a huge or endless body costs at most `cap` bytes of memory.
pub async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<Vec<u8>, String> {
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Err(format!("the body is larger than {cap} bytes"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > cap {
            return Err(format!("the body is larger than {cap} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
