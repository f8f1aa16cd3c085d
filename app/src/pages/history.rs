//! The decision history: every held action of the viewer's tenants (a supervisor's own decisions), newest
//! first, under filters that live in the address, so a filtered view is a link and Back works.

use super::queue::{action_label, tier_label};
use super::Problem;
use crate::api::history::load_history;
use crate::history_model::{Choices, HistoryFilter, HistoryPage, HistoryRow};
use crate::model::{ActionType, HeldStatus, RiskTier, TenantRef};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn HistoryPage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || HistoryFilter::from_query(|k| query.read().get(k));
    let page = Resource::new(filter, load_history);
    view! {
        <Title text="History"/>
        <Transition fallback=|| view! { <h1>"History"</h1><p class="muted">"Loading decisions…"</p> }>
            {move || Suspend::new(async move {
                let f = filter();
                match page.await {
                    Ok(p) => view! { <History page=p filter=f/> }.into_any(),
                    Err(e) => view! { <h1>"History"</h1><Problem error=e/><p><a href="/history">"Clear the filters"</a></p> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn link(filter: &HistoryFilter, with_cursor: bool) -> String {
    match filter.to_query(with_cursor) {
        q if q.is_empty() => "/history".into(),
        q => format!("/history?{q}"),
    }
}

fn export(filter: &HistoryFilter, format: &str) -> String {
    match filter.to_query(false) {
        q if q.is_empty() => format!("/history/export?format={format}"),
        q => format!("/history/export?format={format}&{q}"),
    }
}

#[component]
fn History(page: HistoryPage, filter: HistoryFilter) -> impl IntoView {
    let title = if page.mine_only { "My decisions" } else { "History" };
    let next = page.next.clone().map(|n| {
        let mut f = filter.clone();
        f.after = n;
        link(&f, true)
    });
    let first = (!filter.after.is_empty()).then(|| link(&filter, false));
    let empty = page.rows.is_empty();
    view! {
        <div class="page-head">
            <h1>{title}</h1>
            <p class="muted keys">
                {if page.mine_only { "The held actions you voted on, newest first." } else { "Every held action of your tenants, newest first." }}
                " The address holds the filters: copy it to share this view."
            </p>
        </div>
        <Filters page=page.clone() filter=filter.clone()/>
        <p class="exports">"Export these rows: " <a href=export(&filter, "csv") download>"CSV"</a> " · " <a href=export(&filter, "ndjson") download>"NDJSON"</a></p>
        {empty.then(|| view! { <p class="muted empty">"No held actions match these filters."</p> })}
        <table class="queue history" aria-label="Held actions, newest first" hidden=empty>
            <thead><tr>
                <th scope="col">"Received"</th><th scope="col">"Tenant"</th><th scope="col">"Action"</th>
                <th scope="col" class="num">"Amount"</th><th scope="col">"Risk"</th><th scope="col">"Agent"</th>
                <th scope="col">"Customer"</th><th scope="col">"Case"</th><th scope="col">"Outcome"</th>
                <th scope="col">"Decided by"</th><th scope="col">"Intent"</th>
            </tr></thead>
            <tbody>{page.rows.into_iter().map(|row| view! { <Row row/> }).collect_view()}</tbody>
        </table>
        <nav class="pager" aria-label="Pages">
            {first.map(|href| view! { <a href=href>"First page"</a> })}
            {next.map(|href| view! { <a href=href>"Next page"</a> })}
        </nav>
    }
}

pub fn status_label(s: HeldStatus) -> &'static str {
    match s {
        HeldStatus::Pending => "Pending",
        HeldStatus::Approved => "Approved",
        HeldStatus::Denied => "Denied",
        HeldStatus::Expired => "Expired",
        HeldStatus::Cancelled => "Cancelled",
    }
}

#[component]
fn Row(row: HistoryRow) -> impl IntoView {
    let intent = if row.intent.chars().count() > 90 {
        format!("{}…", row.intent.chars().take(88).collect::<String>())
    } else {
        row.intent.clone()
    };
    view! {
        <tr data-id=row.id.clone()>
            <td class="mono">{row.received_at.clone()}</td>
            <td>{row.tenant.clone()}</td>
            <td><a href=format!("/history/{}", row.id)>{action_label(row.action)}</a></td>
            <td class="num mono">{row.amount.clone().unwrap_or_else(|| "—".into())}</td>
            <td><span class=format!("tier tier-{}", row.tier.as_str())>{tier_label(row.tier)}</span></td>
            <td>{row.agent.clone()}</td>
            <td class="mono">{row.customer.clone()}</td>
            <td class="mono">{row.case_id.clone()}</td>
            <td><span class=format!("status status-{}", row.status.as_str())>{status_label(row.status)}</span></td>
            <td>{row.decided_by.clone().unwrap_or_else(|| "—".into())}</td>
            <td class="intent-cell" title=row.intent.clone()>{intent}</td>
        </tr>
    }
}

fn options(choices: Choices, current: &str) -> impl IntoView {
    choices
        .into_iter()
        .map(|(value, label)| {
            let sel = value == current;
            view! { <option value=value selected=sel>{label}</option> }
        })
        .collect_view()
}

#[component]
fn Filters(page: HistoryPage, filter: HistoryFilter) -> impl IntoView {
    let tenants: Choices = page.tenants.into_iter().map(|t: TenantRef| (t.slug, t.name)).collect();
    let actions: Choices = ActionType::ALL.into_iter().map(|a| (a.as_str().into(), action_label(a))).collect();
    let tiers: Choices = [RiskTier::High, RiskTier::Critical].map(|t| (t.as_str().into(), tier_label(t).into())).into();
    let outcomes: Choices = HeldStatus::ALL.into_iter().map(|s| (s.as_str().into(), status_label(s).into())).collect();
    let f = filter;
    view! {
        <form method="get" action="/history" class="filters history-filters" aria-label="Filter the history">
            <label>"From " <input type="date" name="from" value=f.from.clone()/></label>
            <label>"To " <input type="date" name="to" value=f.to.clone()/></label>
            <label>"Tenant " <select name="tenant"><option value="">"All"</option>{options(tenants, &f.tenant)}</select></label>
            <label>"Agent " <select name="agent"><option value="">"All"</option>{options(page.agents, &f.agent)}</select></label>
            <label>"Owner " <select name="owner"><option value="">"Any"</option>{options(page.owners, &f.owner)}</select></label>
            <label>"Reviewer " <select name="reviewer"><option value="">"Any"</option>{options(page.reviewers, &f.reviewer)}</select></label>
            <label>"Action " <select name="action"><option value="">"All"</option>{options(actions, &f.action)}</select></label>
            <label>"Risk " <select name="tier"><option value="">"All"</option>{options(tiers, &f.tier)}</select></label>
            <label>"Outcome " <select name="outcome"><option value="">"All"</option>{options(outcomes, &f.outcome)}</select></label>
            <label>"Customer " <input type="text" name="customer" value=f.customer.clone() size="12"/></label>
            <label>"Case " <input type="text" name="case" value=f.case.clone() size="10"/></label>
            <label>"Amount from " <input type="text" inputmode="decimal" name="amount_min" value=f.amount_min.clone() size="7"/></label>
            <label>"to " <input type="text" inputmode="decimal" name="amount_max" value=f.amount_max.clone() size="7"/></label>
            <label>"Text " <input type="search" name="q" value=f.q.clone() placeholder="intent or case summary" size="22"/></label>
            <button type="submit">"Filter"</button>
            <a href="/history">"Clear"</a>
        </form>
    }
}
