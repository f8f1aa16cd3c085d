//! Live updates for the reviewer pages: a counter that moves whenever the server's event stream
//! (`/queue/events`) reports a held action of the viewer's tenants, and a one-second tick for countdowns.

use leptos::prelude::*;

/// Moves on with every change; pages re-read their data when it does.
pub fn use_changes() -> ReadSignal<u64> {
    let (changes, set_changes) = signal(0u64);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        browser::listen(set_changes);
        #[cfg(not(feature = "hydrate"))]
        let _ = set_changes;
    });
    changes
}

/// Seconds since the page loaded.
pub fn use_ticks() -> ReadSignal<u64> {
    let (ticks, set_ticks) = signal(0u64);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Ok(tick) =
            set_interval_with_handle(move || set_ticks.update(|t| *t += 1), std::time::Duration::from_secs(1))
        {
            on_cleanup(move || tick.clear());
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = set_ticks;
    });
    ticks
}

/// "12m 05s", "45s", or "overdue".
pub fn countdown(ms: i64) -> String {
    if ms <= 0 {
        return "overdue".into();
    }
    let s = ms / 1000;
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m {s:02}s"),
        (h, m, _) => format!("{h}h {m:02}m"),
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use std::cell::RefCell;
    use wasm_bindgen::prelude::*;

    thread_local! {
        /// One stream per tab: a page that mounts again replaces it.
        static STREAM: RefCell<Option<web_sys::EventSource>> = const { RefCell::new(None) };
    }

    pub fn listen(set_changes: WriteSignal<u64>) {
        let Ok(stream) = web_sys::EventSource::new("/queue/events") else { return };
        let bump = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| set_changes.update(|c| *c += 1));
        for kind in ["arrived", "updated", "decided", "resync"] {
            let _ = stream.add_event_listener_with_callback(kind, bump.as_ref().unchecked_ref());
        }
        bump.forget();
        STREAM.with(|s| {
            if let Some(old) = s.borrow_mut().replace(stream) {
                old.close();
            }
        });
    }
}
