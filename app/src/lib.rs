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
    if islands_on_page() == 0 {
        mark_page_hydrated();
    }
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
