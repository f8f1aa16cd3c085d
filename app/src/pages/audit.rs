use super::Problem;
use crate::api::{fetch_audit_page, VerifyAuditChain};
use crate::model::{AuditEventView, ChainReport};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let before = move || query.read().get("before").and_then(|b| b.parse::<i64>().ok());
    let page = Resource::new(before, fetch_audit_page);
    view! {
        <Title text="Audit log"/>
        <div class="page-head">
            <h1>"Audit log"</h1>
            <ChainCheck/>
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading events…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) => view! { <EventTable events=p.events.clone()/> <Pager older=p.older/> }.into_any(),
                    Err(e) => view! { <Problem error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ChainCheck() -> impl IntoView {
    let verify = ServerAction::<VerifyAuditChain>::new();
    let report = move || {
        verify.value().get().map(|result| match result {
            Ok(ChainReport::Intact { events }) => {
                view! { <span class="status ok" role="status">"✓ Intact: " {events} " events verified"</span> }
                    .into_any()
            }
            Ok(ChainReport::Broken { seq, reason }) => view! {
                <span class="status bad" role="alert">"✗ Broken at event #" {seq} ": " {reason}</span>
            }
            .into_any(),
            Err(e) => view! { <Problem error=e/> }.into_any(),
        })
    };
    view! {
        <div class="chain-check">
            {report}
            <button type="button" disabled=move || verify.pending().get() on:click=move |_| { verify.dispatch(VerifyAuditChain {}); }>
                {move || if verify.pending().get() { "Verifying…" } else { "Verify chain" }}
            </button>
        </div>
    }
}

#[component]
fn EventTable(events: Vec<AuditEventView>) -> impl IntoView {
    if events.is_empty() {
        return view! { <p class="muted">"No events recorded yet."</p> }.into_any();
    }
    view! {
        <table class="grid">
            <caption class="visually-hidden">"Audit events, newest first"</caption>
            <thead>
                <tr><th scope="col">"#"</th><th scope="col">"Time (UTC)"</th><th scope="col">"Event"</th>
                    <th scope="col">"Actor"</th><th scope="col">"Subject"</th><th scope="col">"Tenant"</th>
                    <th scope="col">"Details"</th><th scope="col">"Hash"</th></tr>
            </thead>
            <tbody>
                {events.into_iter().map(|e| view! {
                    <tr>
                        <td class="num">{e.seq}</td>
                        <td class="mono nowrap">{e.at}</td>
                        <td>{e.kind}</td>
                        <td class="mono" title=e.actor.clone()>{short_ref(&e.actor)}</td>
                        <td class="mono" title=e.subject.clone()>{short_ref(&e.subject)}</td>
                        <td>{e.tenant.unwrap_or_else(|| "—".into())}</td>
                        <td class="details">{details(&e.data)}</td>
                        <td class="mono" title=e.hash.clone()>{e.hash.chars().take(12).collect::<String>()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn Pager(older: Option<i64>) -> impl IntoView {
    view! {
        <nav class="pager" aria-label="Pages">
            <a href="/audit">"Newest"</a>
            {older.map(|seq| view! { <a href=format!("/audit?before={seq}")>"Older →"</a> })}
        </nav>
    }
}

/// `user:01a2099b-a3b1-…` → `user:01a2099b…`: enough to tell ids apart at a glance; the cell's title has it all.
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
