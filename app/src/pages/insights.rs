//! `/insights`: pictures of the viewer's tenants' decisions over a chosen period, each chart drawn on the
//! server and shown with the table of its numbers; and the rubber-stamp signal per reviewer.

use super::qa::QaSampling;
use super::Problem;
use crate::api::insights::load_insights;
use crate::insights_model::{Chart, InsightsView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn InsightsPage() -> impl IntoView {
    let query = use_query_map();
    let args = move || {
        let q = query.read();
        (q.get("tenant").unwrap_or_default(), q.get("days").unwrap_or_default())
    };
    let view = Resource::new(args, |(tenant, days)| load_insights(tenant, days));
    view! {
        <Title text="Insights"/>
        <Transition fallback=|| view! { <h1>"Insights"</h1><p class="muted">"Drawing…"</p> }>
            {move || Suspend::new(async move {
                match view.await {
                    Ok(v) => view! { <Insights view=v/> }.into_any(),
                    Err(e) => view! { <h1>"Insights"</h1><Problem error=e/><p><a href="/insights">"Back to the last 30 days"</a></p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Insights(view: InsightsView) -> impl IntoView {
    let InsightsView {
        tenants,
        tenant,
        days,
        periods,
        from,
        to,
        charts,
        stamps,
        threshold,
        samples,
        disagreement,
        max_sample,
    } = view;
    let sample_tenant = tenant.clone();
    view! {
        <div class="page-head">
            <h1>"Insights"</h1>
            <form method="get" action="/insights" class="filters" aria-label="Choose the period">
                <label>"Tenant "
                    <select name="tenant">
                        <option value="">"All"</option>
                        {tenants.into_iter().map(|t| {
                            let sel = t.slug == tenant;
                            view! { <option value=t.slug selected=sel>{t.name}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label>"Period "
                    <select name="days">
                        {periods.into_iter().map(|p| view! { <option value=p.to_string() selected=p == days>{format!("last {p} days")}</option> }).collect_view()}
                    </select>
                </label>
                <button type="submit">"Show"</button>
            </form>
        </div>
        <p class="muted">{format!("From {from} to {to} (UTC), from rollups kept with every decision.")}</p>
        <div class="charts">
            {charts.into_iter().map(|c| view! { <ChartFigure chart=c/> }).collect_view()}
        </div>
        <section class="card" aria-labelledby="stamps-title">
            <h2 id="stamps-title">"Rubber-stamp signal"</h2>
            <p class="muted">{threshold}</p>
            <table class="grid">
                <caption class="visually-hidden">"Approvals per reviewer, and how many came faster than reading"</caption>
                <thead><tr><th scope="col">"Reviewer"</th><th scope="col" class="num">"Approvals"</th>
                    <th scope="col" class="num">"Faster than reading"</th><th scope="col" class="num">"Share"</th></tr></thead>
                <tbody>
                    {stamps.into_iter().map(|s| view! {
                        <tr><td>{s.reviewer}</td><td class="num">{s.approvals}</td><td class="num">{s.fast}</td><td class="num">{s.share}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        <QaSampling samples disagreement tenant=sample_tenant days max_sample/>
    }
}

#[component]
fn ChartFigure(chart: Chart) -> impl IntoView {
    let (labelled_by, caption) = (format!("{}-caption", chart.id), format!("{}-caption", chart.id));
    view! {
        <figure class="card chart" aria-labelledby=labelled_by>
            <figcaption id=caption><strong>{chart.title}</strong> " " <span class="muted">{chart.summary}</span></figcaption>
            // The picture repeats the table below; screen readers get the table.
            <div class="svg" aria-hidden="true" inner_html=chart.svg></div>
            <details>
                <summary>"The numbers"</summary>
                <table class="grid small">
                    <thead><tr>{chart.columns.into_iter().map(|c| view! { <th scope="col">{c}</th> }).collect_view()}</tr></thead>
                    <tbody>
                        {chart.rows.into_iter().map(|r| view! {
                            <tr>{r.into_iter().map(|cell| view! { <td>{cell}</td> }).collect_view()}</tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </details>
        </figure>
    }
}
