//! Live updates for the reviewer pages: a counter that moves when the server's event stream
//! (`/queue/events`) reports a change the page shows, and the time since the page loaded, for countdowns.

use leptos::prelude::*;

/// What a page shows, so that only events that can change it make it read its data again.
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))] // read by the browser's stream listener only
pub enum Watch {
    /// One held action (the case view): its own events only.
    Item(Signal<String>),
    /// The rows on screen (the queue): an arrival or a change to one of them is read again at once; a change
    /// to a row elsewhere only moves the counts, read again within a few seconds.
    Rows(RwSignal<Vec<String>>),
}

/// The page's view of the stream.
#[derive(Clone, Copy)]
pub struct Live {
    /// Moves on once per burst of changes the page cares about; pages re-read their data when it does.
    /// A reconnected stream counts as a change, since events may have been missed meanwhile.
    pub changes: ReadSignal<u64>,
    /// Whether the stream is connected now (pages say so in words).
    pub connected: ReadSignal<bool>,
}

pub fn use_changes(watch: Watch) -> Live {
    let (changes, set_changes) = signal(0u64);
    let (connected, set_connected) = signal(false);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        browser::listen(set_changes, set_connected, watch);
        #[cfg(not(feature = "hydrate"))]
        let _ = (set_changes, set_connected, watch);
    });
    Live { changes, connected }
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
    use super::Watch;
    use leptos::prelude::*;
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;
    use wasm_bindgen::prelude::*;

    type Listener = Closure<dyn FnMut(web_sys::MessageEvent)>;

    /// A burst of events within this long makes one re-read.
    const SOON: Duration = Duration::from_millis(300);
    /// Changes off the page (they move only the counts) wait this long, gathered into one re-read.
    const LATER: Duration = Duration::from_secs(5);

    thread_local! {
        /// One stream per tab: a page that mounts again replaces it (and its listener).
        static STREAM: RefCell<Option<(web_sys::EventSource, Listener)>> =
            const { RefCell::new(None) };
    }

    /// `reread(delay)`: bump the counter `delay` from now, unless a bump is already due by then.
    fn coalesced(set_changes: WriteSignal<u64>) -> impl Fn(Duration) {
        let due: Rc<RefCell<Option<(f64, TimeoutHandle)>>> = Rc::default();
        move |delay: Duration| {
            let at = now_ms() + delay.as_millis() as f64;
            if due.borrow().as_ref().is_some_and(|(when, _)| *when <= at) {
                return;
            }
            if let Some((_, timer)) = due.borrow_mut().take() {
                timer.clear();
            }
            let slot = due.clone();
            let fire = move || {
                slot.borrow_mut().take();
                set_changes.update(|c| *c += 1);
            };
            if let Ok(timer) = set_timeout_with_handle(fire, delay) {
                *due.borrow_mut() = Some((at, timer));
            }
        }
    }

    pub fn now_ms() -> f64 {
        web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
    }

    pub fn listen(set_changes: WriteSignal<u64>, set_connected: WriteSignal<bool>, watch: Watch) {
        let Ok(stream) = web_sys::EventSource::new("/queue/events") else { return };
        // The first `open` is the connection itself; later ones are reconnections, after which events may be missing.
        let mut connected = false;
        let reread = coalesced(set_changes);
        let bump = Listener::new(move |ev: web_sys::MessageEvent| {
            let kind = ev.type_();
            if kind == "error" {
                set_connected.set(false); // the browser reconnects by itself
                return;
            }
            if kind == "open" {
                set_connected.set(true);
                if !std::mem::replace(&mut connected, true) {
                    return;
                }
            }
            let id = ev.data().as_string().unwrap_or_default();
            let delay = match (kind.as_str(), watch) {
                ("open" | "resync", _) => SOON,
                (_, Watch::Item(item)) if item.get_untracked() == id => SOON,
                (_, Watch::Item(_)) => return,
                ("arrived", Watch::Rows(_)) => SOON,
                (_, Watch::Rows(rows)) if rows.with_untracked(|r| r.contains(&id)) => SOON,
                (_, Watch::Rows(_)) => LATER,
            };
            reread(delay);
        });
        for kind in ["arrived", "updated", "decided", "resync", "open", "error"] {
            let _ = stream.add_event_listener_with_callback(kind, bump.as_ref().unchecked_ref());
        }
        STREAM.with(|s| {
            if let Some((old, _)) = s.borrow_mut().replace((stream, bump)) {
                old.close();
            }
        });
    }
}
