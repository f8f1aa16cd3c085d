//! The audit log: every event of the viewer's tenants, newest first, under filters that live in the
//! address; actors and subjects by name; each event's detail on demand; verification and exports.

use super::Problem;
use crate::api::{chain_check_status, fetch_audit_page, ChainCheckStatus, StartChainCheck};
use crate::error::AppError;
use crate::history_model::AuditFilter;
use crate::history_model::ChainStatus;
use crate::model::{AuditEventView, AuditPage};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || AuditFilter::from_query(|k| query.read().get(k));
    let page = Resource::new(filter, fetch_audit_page);
    view! {
        <Title text="Audit log"/>
        <div class="page-head">
            <h1>"Audit log"</h1>
            <ChainCheck/>
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading events…"</p> }>
            {move || Suspend::new(async move {
                let f = filter();
                match page.await {
                    Ok(p) => view! { <AuditFilters page=p.clone() filter=f.clone()/> <EventTable events=p.events.clone()/> <Pager filter=f older=p.older/> }.into_any(),
                    Err(e) => view! { <Problem error=e/> <p><a href="/audit">"Clear the filters"</a></p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AuditFilters(page: AuditPage, filter: AuditFilter) -> impl IntoView {
    let opt = move |value: String, label: String, current: &str| {
        let sel = value == current;
        view! { <option value=value selected=sel>{label}</option> }
    };
    let query = filter.to_query(false);
    let export = move |format: &str| {
        if query.is_empty() {
            format!("/audit/export?format={format}")
        } else {
            format!("/audit/export?format={format}&{query}")
        }
    };
    view! {
        <form method="get" action="/audit" class="filters" aria-label="Filter the audit log">
            <label>"Event "
                <select name="kind">
                    <option value="">"Any"</option>
                    {page.kinds.into_iter().map(|k| opt(k.clone(), k, &filter.kind)).collect_view()}
                </select>
            </label>
            <label>"Actor "
                <select name="actor">
                    <option value="">"Anyone"</option>
                    {page.actors.into_iter().map(|(r, n)| opt(r, n, &filter.actor)).collect_view()}
                </select>
            </label>
            <label>"Target " <input type="text" name="target" value=filter.target.clone() placeholder="held_action:…" size="22"/></label>
            <label>"Tenant "
                <select name="tenant">
                    <option value="">"All"</option>
                    {page.tenants.into_iter().map(|t| opt(t.slug, t.name, &filter.tenant)).collect_view()}
                </select>
            </label>
            <label>"From " <input type="date" name="from" value=filter.from.clone()/></label>
            <label>"To " <input type="date" name="to" value=filter.to.clone()/></label>
            <button type="submit">"Filter"</button>
            <a href="/audit">"Clear"</a>
            <span class="exports">"Export: " <a href=export("csv") download>"CSV"</a> " · " <a href=export("ndjson") download>"NDJSON"</a></span>
        </form>
    }
}

/// Verification runs on the server in the background; while it runs, its progress is asked for each second.
#[island(lazy)]
fn ChainCheck() -> impl IntoView {
    super::mark_hydrated();
    let kept = Resource::new(|| (), |_| chain_check_status());
    let start = ServerAction::<StartChainCheck>::new();
    let poll = ServerAction::<ChainCheckStatus>::new();
    let latest = RwSignal::new(None::<Result<ChainStatus, AppError>>);
    Effect::new(move || start.value().get().into_iter().for_each(|v| latest.set(Some(v))));
    Effect::new(move || poll.value().get().into_iter().for_each(|v| latest.set(Some(v))));
    Effect::new(move || {
        if latest.with(|l| matches!(l, Some(Ok(ChainStatus { running: Some(_), .. })))) {
            set_timeout(move || drop(poll.dispatch(ChainCheckStatus {})), std::time::Duration::from_secs(1));
        }
    });
    let running = move || latest.with(|l| matches!(l, Some(Ok(ChainStatus { running: Some(_), .. }))));
    let waiting = super::until_live();
    view! {
        <div class="chain-check" aria-live="polite">
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match latest.get().unwrap_or(kept.await) {
                        Ok(status) => view! { <ChainLine status/> }.into_any(),
                        Err(e) => view! { <Problem error=e/> }.into_any(),
                    }
                })}
            </Transition>
            <button type="button" disabled=move || waiting() || start.pending().get() || running() on:click=move |_| { start.dispatch(StartChainCheck {}); }>
                {move || if running() { "Verifying…" } else { "Verify chain" }}
            </button>
        </div>
    }
}

#[component]
fn ChainLine(status: ChainStatus) -> impl IntoView {
    let last = status.last.map(|r| match r.broken {
        None => view! {
            <span class="status ok" role="status" title=format!("head {}", r.head_hash.unwrap_or_default())>
                "✓ Intact: " {r.events} " of your events verified, chain checked to #" {r.head_seq.unwrap_or(0)}
                " at " {r.checked_at} " by " {r.checked_by}
            </span>
        }
        .into_any(),
        Some((seq, reason)) => view! {
            <span class="status bad" role="alert">
                "✗ Broken at event #" {seq} ": " {reason} " (checked at " {r.checked_at} " by " {r.checked_by} ")"
            </span>
        }
        .into_any(),
    });
    let running = status.running.map(|p| {
        let label = format!("Verifying: {} of {} events checked", p.checked, p.total);
        view! {
            <span class="progress">
                <progress max=p.total.max(1) value=p.checked aria-label=label.clone()></progress> {label}
            </span>
        }
    });
    let never = (last.is_none() && running.is_none()).then(|| view! { <span class="muted">"Not verified yet"</span> });
    view! { {running} {last} {never} }
}

/// A reference by name where known, linking to its page; the raw reference on hover.
#[component]
pub fn Reference(raw: String, name: Option<String>, href: Option<String>) -> impl IntoView {
    let shown = name.unwrap_or_else(|| short_ref(&raw));
    match href {
        Some(h) => view! { <a href=h title=raw>{shown}</a> }.into_any(),
        None => view! { <span title=raw>{shown}</span> }.into_any(),
    }
}

#[component]
pub fn EventTable(events: Vec<AuditEventView>) -> impl IntoView {
    if events.is_empty() {
        return view! { <p class="muted">"No events match."</p> }.into_any();
    }
    view! {
        <table class="grid">
            <caption class="visually-hidden">"Audit events, newest first"</caption>
            <thead>
                <tr><th scope="col">"#"</th><th scope="col">"Time (UTC)"</th><th scope="col">"Event"</th>
                    <th scope="col">"Actor"</th><th scope="col">"Subject"</th><th scope="col">"Tenant"</th>
                    <th scope="col">"Details"</th></tr>
            </thead>
            <tbody>
                {events.into_iter().map(|e| view! {
                    <tr>
                        <td class="num">{e.seq}</td>
                        <td class="mono nowrap">{e.at.clone()}</td>
                        <td>{e.kind.clone()}</td>
                        <td><Reference raw=e.actor.clone() name=e.actor_name.clone() href=e.actor_href.clone()/></td>
                        <td><Reference raw=e.subject.clone() name=e.subject_name.clone() href=e.subject_href.clone()/></td>
                        <td>{e.tenant.clone().unwrap_or_else(|| "—".into())}</td>
                        <td class="details">
                            {details(&e.data)}
                            <details>
                                <summary>"Event detail"</summary>
                                <dl class="facts small">
                                    <dt>"Actor"</dt><dd class="mono">{e.actor.clone()}</dd>
                                    <dt>"Subject"</dt><dd class="mono">{e.subject.clone()}</dd>
                                    <dt>"Data"</dt><dd class="mono wrap">{e.data.clone()}</dd>
                                    <dt>"Hash"</dt><dd class="mono wrap">{e.hash.clone()}</dd>
                                </dl>
                            </details>
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn Pager(filter: AuditFilter, older: Option<i64>) -> impl IntoView {
    let base = filter.to_query(false);
    let newest = if base.is_empty() { "/audit".to_string() } else { format!("/audit?{base}") };
    let older = older.map(|seq| {
        let mut f = filter.clone();
        f.before = seq.to_string();
        format!("/audit?{}", f.to_query(true))
    });
    view! {
        <nav class="pager" aria-label="Pages">
            <a href=newest>"Newest"</a>
            {older.map(|href| view! { <a href=href>"Older →"</a> })}
        </nav>
    }
}

/// `user:01a2099b-a3b1-…` → `user:01a2099b…`: enough to tell ids apart at a glance; the title has it all.
fn short_ref(reference: &str) -> String {
    match reference.split_once(':') {
        Some((kind, id)) if id.len() > 12 => format!("{kind}:{}…", &id[..8]),
        _ => reference.to_string(),
    }
}

/// An event's data as `key value` pairs, long values shortened (hover shows them whole).
fn details(data: &str) -> impl IntoView {
    let pairs: Vec<(String, String)> = match serde_json::from_str::<serde_json::Value>(data) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k, v.as_str().map(String::from).unwrap_or_else(|| v.to_string())))
            .collect(),
        _ => vec![(String::new(), data.to_string())],
    };
    pairs
        .into_iter()
        .map(|(key, value)| {
            let shown = if value.chars().count() > 28 {
                format!("{}…", value.chars().take(24).collect::<String>())
            } else {
                value.clone()
            };
            view! { <span class="kv"><span class="k">{key}</span>" "<span class="v" title=value>{shown}</span></span> }
        })
        .collect_view()
}
