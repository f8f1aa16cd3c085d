//! Countersign's console: Leptos pages rendered on the server and hydrated in the browser.

pub mod api;
pub mod error;
pub mod history_model;
pub mod insights_model;
pub mod lifecycle_model;
pub mod model;
mod pages;
pub mod review_model;
#[cfg(feature = "ssr")]
pub mod services;

pub use pages::{shell, App};

/// The browser's entry point. Pages are rendered on the server; only their interactive parts are islands,
/// each a WebAssembly chunk of its own (`#[island(lazy)]`, `cargo leptos build --split`) that the island
/// script fetches and hydrates as it finds them.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    provide_form_error();
    if islands_on_page() == 0 {
        mark_page_hydrated();
    }
}

/// A form posted before its island was live, and refused, comes back to the page with the error in the address
/// (`__err`, for the server function at `__path`). The server rendered that error through its router, which
/// islands do not have in the browser: provide it here as well, so the island's action starts with the same
/// error and hydrates the view the server sent.
#[cfg(feature = "hydrate")]
fn provide_form_error() {
    let Some(params) = search_params() else { return };
    if let (Some(err), Some(path)) = (params.get("__err"), params.get("__path")) {
        leptos::prelude::provide_context(leptos::server::ServerActionError::new(&path, &err));
    }
}

#[cfg(feature = "hydrate")]
fn search_params() -> Option<web_sys::UrlSearchParams> {
    let search = leptos::prelude::window().location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search).ok()
}

/// Counts an island as hydrated; the page is marked once all of them are.
#[cfg(feature = "hydrate")]
pub(crate) fn island_hydrated() {
    thread_local!(static HYDRATED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) });
    let done = HYDRATED.with(|n| {
        n.set(n.get() + 1);
        n.get()
    });
    if done >= islands_on_page() {
        mark_page_hydrated();
    }
}

#[cfg(feature = "hydrate")]
fn islands_on_page() -> u32 {
    leptos::prelude::document().query_selector_all("leptos-island").map(|list| list.length()).unwrap_or(0)
}

#[cfg(feature = "hydrate")]
fn mark_page_hydrated() {
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
