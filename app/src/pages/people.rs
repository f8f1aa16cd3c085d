use super::{roles_text, Problem};
use crate::api::list_people;
use crate::model::People;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn PeoplePage() -> impl IntoView {
    let data = Resource::new(|| (), |_| list_people());
    view! {
        <Title text="People"/>
        <h1>"People"</h1>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(p) => view! { <Directory people=p/> }.into_any(),
                    Err(e) => view! { <Problem error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Directory(people: People) -> impl IntoView {
    view! {
        <section aria-labelledby="tenants-title">
            <h2 id="tenants-title">"Tenants"</h2>
            <table class="grid">
                <thead><tr><th scope="col">"Name"</th><th scope="col">"Slug"</th></tr></thead>
                <tbody>
                    {people.tenants.into_iter().map(|t| view! { <tr><td>{t.name}</td><td class="mono">{t.slug}</td></tr> }).collect_view()}
                </tbody>
            </table>
        </section>
        <section aria-labelledby="people-title">
            <h2 id="people-title">"People"</h2>
            <table class="grid">
                <thead><tr><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Roles"</th>
                    <th scope="col">"Tenants"</th><th scope="col">"Status"</th></tr></thead>
                <tbody>
                    {people.people.into_iter().map(|p| {
                        let status = match (p.active, p.locked_until) {
                            (false, _) => ("bad", "Disabled".to_string()),
                            (true, Some(until)) => ("warn", format!("Locked until {until}")),
                            (true, None) => ("ok", "Active".to_string()),
                        };
                        view! {
                            <tr>
                                <td>{p.name}</td>
                                <td class="mono">{p.email}</td>
                                <td>{roles_text(&p.roles)}</td>
                                <td>{p.tenants.join(", ")}</td>
                                <td><span class=format!("status {}", status.0)>{status.1}</span></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}
