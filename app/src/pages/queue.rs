//! The queue: pending held actions of the reviewer's tenants, soonest deadline first, live.
//! Keyboard: j/k move the selection, Enter opens it.

use super::live::{countdown, use_changes, use_elapsed, Watch};
use super::Problem;
use crate::api::review::load_queue;
use crate::model::{ActionType, RiskTier};
use crate::review_model::{QueueFilter, QueuePage, QueueRow};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

pub fn tier_label(tier: RiskTier) -> &'static str {
    match tier {
        RiskTier::High => "High",
        RiskTier::Critical => "Critical",
    }
}

#[component]
pub fn QueuePage() -> impl IntoView {
    let query = use_query_map();
    let filter = {
        let q = query.read_untracked();
        let get = |k: &str| q.get(k).unwrap_or_default();
        QueueFilter {
            tenant: get("tenant"),
            action: get("action"),
            tier: get("tier"),
            agent: get("agent"),
            after: get("after"),
        }
    };
    view! {
        <Title text="Queue"/>
        <LiveQueue filter/>
    }
}

#[island(lazy)]
fn LiveQueue(filter: QueueFilter) -> impl IntoView {
    super::mark_hydrated();
    let filter = StoredValue::new(filter);
    let filter = move || filter.get_value();
    // The selection follows the item, not its position, as rows come and go.
    let selected = RwSignal::new(0usize);
    let rows = RwSignal::new(Vec::<String>::new());
    let live = use_changes(Watch::Rows(rows));
    let page = Resource::new(move || (filter(), live.changes.get()), |(f, _)| load_queue(f));
    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        if typing(&ev) || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let count = rows.with_untracked(Vec::len);
        match ev.key().as_str() {
            "j" if count > 0 => {
                selected.update(|s| *s = (*s + 1).min(count - 1));
                focus_selected(rows, selected);
            }
            "k" => {
                selected.update(|s| *s = s.saturating_sub(1));
                focus_selected(rows, selected);
            }
            "Enter" if !on_control(&ev) => {
                if let Some(id) = rows.with_untracked(|r| r.get(selected.get_untracked()).cloned()) {
                    ev.prevent_default();
                    let _ = window().location().set_href(&format!("/queue/{id}"));
                }
            }
            _ => {}
        }
    });
    on_cleanup(move || keys.remove());
    view! {
        <div class="page-head">
            <h1>"Queue"</h1>
            <p class="muted keys">
                "j / k to move, Enter to open. "
                <span class="live">{move || if live.connected.get() { "Updates live." } else { "Connecting to live updates…" }}</span>
            </p>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading the queue…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) => {
                        // Focus on a row before the re-read goes back to that row's new link after it.
                        let refocus = focus_in_queue();
                        let was = rows.with_untracked(|r| r.get(selected.get_untracked()).cloned());
                        let ids: Vec<String> = p.rows.iter().map(|r| r.id.clone()).collect();
                        let at = was.and_then(|w| ids.iter().position(|i| *i == w));
                        selected.set(at.unwrap_or(selected.get_untracked()).min(ids.len().saturating_sub(1)));
                        rows.set(ids);
                        view! { <Queue page=p filter=filter() selected rows refocus/> }.into_any()
                    }
                    Err(e) => view! { <Problem error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Whether keyboard focus is in the queue's table.
fn focus_in_queue() -> bool {
    #[cfg(feature = "hydrate")]
    {
        let active = document().active_element();
        active.and_then(|a| a.closest("table.queue").ok().flatten()).is_some()
    }
    #[cfg(not(feature = "hydrate"))]
    false
}

/// Moves focus to the selected row's link, so Enter (or a screen reader) acts on what is highlighted.
fn focus_selected(rows: RwSignal<Vec<String>>, selected: RwSignal<usize>) {
    #[cfg(feature = "hydrate")]
    if let Some(id) = rows.with_untracked(|r| r.get(selected.get_untracked()).cloned()) {
        use wasm_bindgen::JsCast;
        let link = document().query_selector(&format!("tr[data-id='{id}'] a")).ok().flatten();
        if let Some(link) = link.and_then(|l| l.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = link.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (rows, selected);
}

/// Enter on a link or button is that control's own.
fn on_control(ev: &leptos::ev::KeyboardEvent) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        ev.target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|e| matches!(e.tag_name().as_str(), "A" | "BUTTON" | "INPUT" | "TEXTAREA" | "SELECT"))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        false
    }
}

/// Keys typed into a form field are text, not commands.
pub(super) fn typing(ev: &leptos::ev::KeyboardEvent) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        ev.target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        false
    }
}

fn link(filter: &QueueFilter, change: impl FnOnce(&mut QueueFilter)) -> String {
    let mut f = filter.clone();
    f.after.clear();
    change(&mut f);
    let pairs =
        [("tenant", &f.tenant), ("action", &f.action), ("tier", &f.tier), ("agent", &f.agent), ("after", &f.after)];
    let query: Vec<String> = pairs.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={v}")).collect();
    if query.is_empty() {
        "/queue".into()
    } else {
        format!("/queue?{}", query.join("&"))
    }
}

#[component]
fn Queue(
    page: QueuePage,
    filter: QueueFilter,
    selected: RwSignal<usize>,
    rows: RwSignal<Vec<String>>,
    refocus: bool,
) -> impl IntoView {
    let elapsed = use_elapsed();
    if refocus {
        // Runs once the new rows are in the document.
        Effect::new(move |_| focus_selected(rows, selected));
    }
    let total: i64 = page.counts.iter().map(|(_, n)| n).sum();
    let count = |t: RiskTier| page.counts.iter().find(|(x, _)| *x == t).map_or(0, |(_, n)| *n);
    let tier_links = [RiskTier::High, RiskTier::Critical].map(|t| {
        let current = filter.tier == t.as_str();
        let href = link(&filter, |f| f.tier = if current { String::new() } else { t.as_str().into() });
        view! {
            <a href=href class=format!("tier-count tier-{}", t.as_str()) aria-current=current.then_some("true")>
                {tier_label(t)} " " <strong>{count(t)}</strong>
            </a>
        }
    });
    let server_now = page.server_now_ms;
    let next = page.next.clone().map(|n| link(&filter, |f| f.after = n));
    let first = (!filter.after.is_empty()).then(|| link(&filter, |_| {}));
    let empty = page.rows.is_empty();
    let row_views = page
        .rows
        .into_iter()
        .enumerate()
        .map(|(i, row)| view! { <Row row i selected server_now elapsed/> })
        .collect_view();
    view! {
        <div class="queue-bar">
            <p class="counts" aria-label="Pending by risk tier">
                <span>"Pending " <strong>{total}</strong></span> {tier_links}
            </p>
            <Filters page_tenants=page.tenants agents=page.agents filter=filter.clone()/>
        </div>
        {empty.then(|| view! { <p class="muted empty">"Nothing is waiting. New held actions appear here as they arrive."</p> })}
        <table class="queue" aria-label="Pending held actions" hidden=empty>
            <thead><tr>
                <th scope="col">"Deadline"</th><th scope="col">"Tenant"</th><th scope="col">"Action"</th><th scope="col" class="num">"Amount"</th>
                <th scope="col">"Agent"</th><th scope="col">"Customer"</th><th scope="col">"Risk"</th>
                <th scope="col">"Approvals"</th><th scope="col">"Reviewing"</th>
            </tr></thead>
            <tbody>{row_views}</tbody>
        </table>
        <nav class="pager" aria-label="Pages">
            {first.map(|href| view! { <a href=href>"First page"</a> })}
            {next.map(|href| view! { <a href=href>"Next page"</a> })}
        </nav>
    }
}

#[component]
fn Row(row: QueueRow, i: usize, selected: RwSignal<usize>, server_now: i64, elapsed: ReadSignal<i64>) -> impl IntoView {
    let href = format!("/queue/{}", row.id);
    let left = move || row.expires_at_ms - server_now - elapsed.get();
    let urgent = move || left() < 5 * 60 * 1000;
    view! {
        <tr class:selected=move || selected.get() == i aria-selected=move || (selected.get() == i).to_string()
            data-id=row.id.clone()>
            <td class="mono" class:urgent=urgent>{move || countdown(left())}</td>
            <td>{row.tenant.clone()}</td>
            <td><a href=href>{action_label(row.action)}</a></td>
            <td class="num mono">{row.amount.clone().unwrap_or_else(|| "—".into())}</td>
            <td>{row.agent.clone()}{row.agent_suspended.then(|| view! { " " <span class="status warn">"agent suspended"</span> })}</td>
            <td class="mono">{row.customer.clone()}</td>
            <td><span class=format!("tier tier-{}", row.tier.as_str())>{tier_label(row.tier)}</span></td>
            <td>{format!("{} of {}", row.approvals, row.needed)}</td>
            <td>{row.claimed_by.clone().unwrap_or_else(|| "—".into())}</td>
        </tr>
    }
}

pub fn action_label(a: ActionType) -> String {
    let s = a.as_str().replace('_', " ");
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

#[component]
fn Filters(
    page_tenants: Vec<crate::model::TenantRef>,
    agents: Vec<(String, String)>,
    filter: QueueFilter,
) -> impl IntoView {
    let opt = |value: String, label: String, current: &str| {
        let sel = value == current;
        view! { <option value=value selected=sel>{label}</option> }
    };
    view! {
        <form method="get" action="/queue" class="filters" aria-label="Filter the queue">
            <label>"Tenant "
                <select name="tenant">
                    <option value="">"All"</option>
                    {page_tenants.into_iter().map(|t| opt(t.slug, t.name, &filter.tenant)).collect_view()}
                </select>
            </label>
            <label>"Action "
                <select name="action">
                    <option value="">"All"</option>
                    {ActionType::ALL.into_iter().map(|a| opt(a.as_str().into(), action_label(a), &filter.action)).collect_view()}
                </select>
            </label>
            <label>"Risk "
                <select name="tier">
                    <option value="">"All"</option>
                    {[RiskTier::High, RiskTier::Critical].into_iter().map(|t| opt(t.as_str().into(), tier_label(t).into(), &filter.tier)).collect_view()}
                </select>
            </label>
            <label>"Agent "
                <select name="agent">
                    <option value="">"All"</option>
                    {agents.into_iter().map(|(id, name)| opt(id, name, &filter.agent)).collect_view()}
                </select>
            </label>
            <button type="submit">"Filter"</button>
        </form>
    }
}
