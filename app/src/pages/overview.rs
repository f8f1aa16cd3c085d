use super::{roles_text, WithViewer};
use crate::model::{Section, Viewer};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn OverviewPage() -> impl IntoView {
    view! {
        <Title text="Overview"/>
        <WithViewer body=|v: Viewer| view! { <Overview viewer=v/> }/>
    }
}

#[component]
fn Overview(viewer: Viewer) -> impl IntoView {
    let roles = roles_text(&viewer.roles);
    let places = viewer
        .sections
        .iter()
        .copied()
        .filter(|s| *s != Section::Overview)
        .map(|s| view! { <li><A href=s.path()>{s.label()}</A>" — "{purpose(s)}</li> })
        .collect_view();
    view! {
        <h1>"Overview"</h1>
        <section class="panels">
            <div class="card">
                <h2>"You"</h2>
                <dl class="facts">
                    <dt>"Name"</dt><dd>{viewer.name.clone()}</dd>
                    <dt>"Email"</dt><dd>{viewer.email.clone()}</dd>
                    <dt>"Roles"</dt><dd>{roles}</dd>
                </dl>
            </div>
            <div class="card">
                <h2>"Tenants"</h2>
                {if viewer.tenants.is_empty() {
                    view! { <p class="muted">"You belong to no tenant yet; an admin adds you."</p> }.into_any()
                } else {
                    view! {
                        <ul class="plain">
                            {viewer.tenants.clone().into_iter().map(|t| view! { <li>{t.name}" "<code>{t.slug}</code></li> }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </div>
            <div class="card">
                <h2>"Where to go"</h2>
                <ul class="plain">{places}</ul>
            </div>
        </section>
    }
}

fn purpose(section: Section) -> &'static str {
    match section {
        Section::Overview => "this page",
        Section::Queue => "held actions waiting for a decision, soonest deadline first",
        Section::History => "every decision, what the reviewer saw, and exports for auditors",
        Section::Insights => "decisions, time to decision, approval rates and rubber stamps, in pictures",
        Section::Agents => "the agents you own or administer, their scope and credentials",
        Section::Audit => "every recorded event, and a check that the record is intact",
        Section::People => "tenants and the people in them",
        Section::Account => "your details and password",
    }
}
