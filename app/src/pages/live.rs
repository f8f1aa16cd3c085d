//! Live updates for the reviewer pages: a counter that moves whenever the server's event stream
//! (`/queue/events`) reports a held action of the viewer's tenants, and the time since the page loaded,
//! for countdowns.

use leptos::prelude::*;

/// Moves on with every change (only those of held action `only`, when given); pages re-read their data
/// when it does. A reconnected stream counts as a change, since events may have been missed meanwhile.
pub fn use_changes(only: Option<Signal<String>>) -> ReadSignal<u64> {
    let (changes, set_changes) = signal(0u64);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        browser::listen(set_changes, only);
        #[cfg(not(feature = "hydrate"))]
        let _ = (set_changes, only);
    });
    changes
}

/// Milliseconds since the page loaded, by the browser's monotonic clock, refreshed every second (a throttled
/// background tab catches up at its next tick rather than drifting).
pub fn use_elapsed() -> ReadSignal<i64> {
    let (elapsed, set_elapsed) = signal(0i64);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            let start = browser::now_ms();
            if let Ok(tick) = set_interval_with_handle(
                move || set_elapsed.set((browser::now_ms() - start) as i64),
                std::time::Duration::from_secs(1),
            ) {
                on_cleanup(move || tick.clear());
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = set_elapsed;
    });
    elapsed
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
        /// One stream per tab: a page that mounts again replaces it (and its listener).
        static STREAM: RefCell<Option<(web_sys::EventSource, Closure<dyn FnMut(web_sys::MessageEvent)>)>> =
            const { RefCell::new(None) };
    }

    pub fn now_ms() -> f64 {
        web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
    }

    pub fn listen(set_changes: WriteSignal<u64>, only: Option<Signal<String>>) {
        let Ok(stream) = web_sys::EventSource::new("/queue/events") else { return };
        // The first `open` is the connection itself; later ones are reconnections, after which events may be missing.
        let mut connected = false;
        let bump = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            if ev.type_() == "open" && !std::mem::replace(&mut connected, true) {
                return;
            }
            let mine = match (&only, ev.data().as_string()) {
                (Some(id), Some(data)) if ev.type_() != "resync" && ev.type_() != "open" => id.get_untracked() == data,
                _ => true,
            };
            if mine {
                set_changes.update(|c| *c += 1);
            }
        });
        for kind in ["arrived", "updated", "decided", "resync", "open"] {
            let _ = stream.add_event_listener_with_callback(kind, bump.as_ref().unchecked_ref());
        }
        STREAM.with(|s| {
            if let Some((old, _)) = s.borrow_mut().replace((stream, bump)) {
                old.close();
            }
        });
    }
}
