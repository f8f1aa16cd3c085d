//! The admins' people workplace: add a person with a one-time password, edit memberships and the roles
//! held in each (a row per tenant), disable and enable, unlock, and add tenants.

use super::{roles_text, Outcome, Problem};
use crate::api::lifecycle::{load_people_admin, AddPerson, AddTenant, EditPerson, SetPersonActive, UnlockPerson};
use crate::lifecycle_model::{PeopleAdmin, PersonAdminRow};
use crate::model::{Role, TenantRef};
use leptos::prelude::*;
use leptos_meta::Title;

#[derive(Clone, Copy)]
struct Actions {
    add: ServerAction<AddPerson>,
    edit: ServerAction<EditPerson>,
    active: ServerAction<SetPersonActive>,
    unlock: ServerAction<UnlockPerson>,
    tenant: ServerAction<AddTenant>,
}

#[component]
pub fn PeoplePage() -> impl IntoView {
    view! {
        <Title text="People"/>
        <h1>"People"</h1>
        <People/>
    }
}

#[component]
fn People() -> impl IntoView {
    let actions = Actions {
        add: ServerAction::new(),
        edit: ServerAction::new(),
        active: ServerAction::new(),
        unlock: ServerAction::new(),
        tenant: ServerAction::new(),
    };
    let data = Resource::new(|| (), |_| load_people_admin());
    view! {
        <Outcome action=actions.edit ok="Saved."/>
        <Outcome action=actions.active ok="Saved."/>
        <Outcome action=actions.unlock ok="Unlocked."/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(p) => view! { <Workplace people=p actions/> }.into_any(),
                    Err(e) => view! { <Problem error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn role_boxes(prefix: &str, checked: &[Role]) -> impl IntoView {
    Role::ALL
        .into_iter()
        .map(|r| {
            let id = format!("{prefix}-role-{}", r.as_str());
            view! {
                <label for=id.clone()><input id=id.clone() type="checkbox" name="roles[]" value=r.as_str() checked=checked.contains(&r)/>
                    {format!(" {}", r.as_str())}</label>
            }
        })
        .collect_view()
}

fn tenant_boxes(prefix: &str, tenants: &[TenantRef], checked: &[String]) -> impl IntoView {
    tenants
        .iter()
        .map(|t| {
            let id = format!("{prefix}-tenant-{}", t.slug);
            view! {
                <label for=id.clone()><input id=id.clone() type="checkbox" name="tenants[]" value=t.slug.clone() checked=checked.contains(&t.slug)/>
                    {format!(" {}", t.slug)}</label>
            }
        })
        .collect_view()
}

/// One row of the edit form per tenant the viewer administers: the membership, and the roles held in it
/// (posted as `slug:role`, so a role is only ever granted in its own tenant).
fn membership_rows(prefix: &str, tenants: &[TenantRef], held: &[(String, Vec<Role>)]) -> impl IntoView {
    tenants
        .iter()
        .map(|t| {
            let roles = held.iter().find(|(slug, _)| *slug == t.slug).map(|(_, r)| r.clone());
            let member_id = format!("{prefix}-tenant-{}", t.slug);
            let boxes = Role::ALL
                .into_iter()
                .map(|r| {
                    let id = format!("{prefix}-{}-role-{}", t.slug, r.as_str());
                    let checked = roles.as_ref().is_some_and(|held| held.contains(&r));
                    view! {
                        <label for=id.clone()><input id=id.clone() type="checkbox" name="roles[]"
                            value=format!("{}:{}", t.slug, r.as_str()) checked=checked
                            aria-label=format!("{} in {}", r.as_str(), t.slug)/>{format!(" {}", r.as_str())}</label>
                    }
                })
                .collect_view();
            view! {
                <fieldset>
                    <legend>{format!("Tenant {}", t.slug)}</legend>
                    <label for=member_id.clone()><input id=member_id.clone() type="checkbox" name="tenants[]"
                        value=t.slug.clone() checked=roles.is_some()
                        aria-label=format!("Member of {}", t.slug)/>" member"</label>
                    {boxes}
                </fieldset>
            }
        })
        .collect_view()
}

fn roles_per_tenant(held: &[(String, Vec<Role>)], fallback: &[Role]) -> String {
    if held.is_empty() {
        return roles_text(fallback);
    }
    held.iter().map(|(slug, roles)| format!("{slug}: {}", roles_text(roles))).collect::<Vec<_>>().join("; ")
}

#[component]
fn Workplace(people: PeopleAdmin, actions: Actions) -> impl IntoView {
    let tenants = people.tenants.clone();
    let (add_boxes, listed) = (tenant_boxes("add", &people.tenants, &[]), people.tenants.clone());
    view! {
        <section aria-labelledby="people-title">
            <h2 id="people-title">"People"</h2>
            <table class="grid">
                <thead><tr><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Roles"</th>
                    <th scope="col">"Tenants"</th><th scope="col">"Status"</th><th scope="col">"Manage"</th></tr></thead>
                <tbody>
                    {people.people.into_iter().map(|p| view! { <Person person=p tenants=tenants.clone() actions/> }).collect_view()}
                </tbody>
            </table>
        </section>
        <div class="panels">
            <section class="card" aria-labelledby="add-title">
                <h2 id="add-title">"Add a person"</h2>
                <ActionForm action=actions.add>
                    <label for="add-email">"Email"</label>
                    <input id="add-email" name="email" type="email" required/>
                    <label for="add-name">"Name"</label>
                    <input id="add-name" name="name" type="text" required/>
                    <fieldset><legend>"Roles"</legend>{role_boxes("add", &[])}</fieldset>
                    <fieldset><legend>"Tenants"</legend>{add_boxes}</fieldset>
                    <label for="add-password">"One-time password (at least 12 characters)"</label>
                    <input id="add-password" name="password" type="text" required minlength="12" autocomplete="off"/>
                    <Outcome action=actions.add ok="Added. Give them the one-time password; they must change it when they first sign in."/>
                    <button type="submit" class="primary">"Add person"</button>
                </ActionForm>
            </section>
            <section class="card" aria-labelledby="tenants-title">
                <h2 id="tenants-title">"Tenants"</h2>
                <ul class="plain">
                    {listed.iter().map(|t| view! { <li>{t.name.clone()}" "<span class="mono muted">{t.slug.clone()}</span></li> }).collect_view()}
                </ul>
                <ActionForm action=actions.tenant>
                    <label for="tenant-slug">"Slug"</label>
                    <input id="tenant-slug" name="slug" type="text" required placeholder="acme-eu"/>
                    <label for="tenant-name">"Name"</label>
                    <input id="tenant-name" name="name" type="text" required/>
                    <Outcome action=actions.tenant ok="Tenant added."/>
                    <button type="submit">"Add tenant"</button>
                </ActionForm>
            </section>
        </div>
    }
}

#[component]
fn Person(person: PersonAdminRow, tenants: Vec<TenantRef>, actions: Actions) -> impl IntoView {
    let p = person;
    let status = match (p.active, &p.locked_until, p.must_change_password) {
        (false, _, _) => ("bad", "Disabled".to_string()),
        (true, Some(until), _) => ("warn", format!("Locked until {until}")),
        (true, None, true) => ("warn", "Must change one-time password".to_string()),
        (true, None, false) => ("ok", "Active".to_string()),
    };
    let prefix = format!("p{}", &p.id[p.id.len().saturating_sub(8)..]);
    let (id, id2, id3, email) = (p.id.clone(), p.id.clone(), p.id.clone(), p.email.clone());
    let edit_label = format!("Edit {email}");
    let rows = membership_rows(&prefix, &tenants, &p.tenant_roles);
    view! {
        <tr>
            <td>{p.name.clone()}</td>
            <td class="mono">{p.email.clone()}</td>
            <td>{roles_per_tenant(&p.tenant_roles, &p.roles)}</td>
            <td>{p.tenants.join(", ")}</td>
            <td><span class=format!("status {}", status.0)>{status.1}</span></td>
            <td>
                <details>
                    <summary aria-label=edit_label>"Edit"</summary>
                    <ActionForm action=actions.edit>
                        <input type="hidden" name="person" value=id/>
                        {rows}
                        <button type="submit" class="primary">"Save person"</button>
                    </ActionForm>
                </details>
                {p.whole.then(|| view! {
                    <ActionForm action=actions.active attr:class="inline">
                        <input type="hidden" name="person" value=id2/>
                        <input type="hidden" name="active" value=(!p.active).to_string()/>
                        <button type="submit" class=if p.active { "danger" } else { "" } aria-label=format!("{} {email}", if p.active { "Disable" } else { "Enable" })>
                            {if p.active { "Disable" } else { "Enable" }}</button>
                    </ActionForm>
                })}
                {p.locked_until.is_some().then(|| view! {
                    <ActionForm action=actions.unlock attr:class="inline">
                        <input type="hidden" name="person" value=id3/>
                        <button type="submit" aria-label=format!("Unlock {}", p.email)>"Unlock"</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}
