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

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Pages are lazy routes, fetched as their chunks load.
    leptos::mount::hydrate_lazy(App);
}
