//! The agent list and the form that registers an agent.

use super::Problem;
use crate::api::agents::{list_agents, load_agent_form, CreateAgent};
use crate::model::{AgentSummary, AllowanceView, Role, Viewer};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

pub fn scope_text(allowances: &[AllowanceView]) -> String {
    if allowances.is_empty() {
        return "nothing".into();
    }
    allowances
        .iter()
        .map(|a| match &a.limit {
            Some(limit) => format!("{} ≤ {limit}", a.action_type.as_str()),
            None => a.action_type.as_str().to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[component]
pub fn AgentsPage() -> impl IntoView {
    let agents = Resource::new(|| (), |_| list_agents());
    let viewer = expect_context::<super::ViewerResource>();
    let is_admin =
        move || viewer.get().and_then(|v| v.ok()).flatten().is_some_and(|v: Viewer| v.roles.contains(&Role::Admin));
    view! {
        <Title text="Agents"/>
        <div class="page-head">
            <h1>"Agents"</h1>
            <Show when=is_admin>
                <A href="/agents/new" attr:class="button">"Register an agent"</A>
            </Show>
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading agents…"</p> }>
            {move || Suspend::new(async move {
                match agents.await {
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No agents yet."</p> }.into_any(),
                    Ok(list) => view! { <AgentTable agents=list/> }.into_any(),
                    Err(e) => view! { <Problem error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AgentTable(agents: Vec<AgentSummary>) -> impl IntoView {
    view! {
        <table class="grid">
            <thead><tr><th scope="col">"Agent"</th><th scope="col">"Tenant"</th><th scope="col">"Owner"</th>
                <th scope="col">"State"</th><th scope="col">"May request"</th></tr></thead>
            <tbody>
                {agents.into_iter().map(|a| {
                    let state_class = if a.state == crate::model::AgentState::Active { "status ok" } else { "status warn" };
                    view! {
                        <tr>
                            <td><A href=format!("/agents/{}", a.id)>{a.name.clone()}</A><div class="muted small">{a.purpose.clone()}</div></td>
                            <td>{a.tenant.clone()}</td>
                            <td class="mono">{a.owner.clone()}</td>
                            <td><span class=state_class>{a.state.as_str()}</span></td>
                            <td>{scope_text(&a.allowances)}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
pub fn NewAgentPage() -> impl IntoView {
    let options = Resource::new(|| (), |_| load_agent_form());
    let create = ServerAction::<CreateAgent>::new();
    let outcome = move || {
        create.value().get().map(|result| match result {
            Ok(created) => view! {
                <div class="card notice" role="status">
                    <p>"Agent registered. " <A href=format!("/agents/{}", created.id)>"Open it to mint a credential"</A></p>
                    {created.webhook_secret.map(|secret| view! {
                        <p>"Webhook signing secret — shown only now; give it to the agent's operator:"</p>
                        <code class="secret">{secret}</code>
                    })}
                </div>
            }
            .into_any(),
            Err(e) => view! { <Problem error=e/> }.into_any(),
        })
    };
    view! {
        <Title text="Register an agent"/>
        <h1>"Register an agent"</h1>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match options.await {
                    Err(e) => view! { <Problem error=e/> }.into_any(),
                    Ok(opts) => view! {
                        <ActionForm action=create attr:class="card form-grid">
                            <label for="tenant">"Tenant"</label>
                            <select id="tenant" name="tenant" required>
                                {opts.tenants.into_iter().map(|t| view! { <option value=t.slug.clone()>{t.name}</option> }).collect_view()}
                            </select>
                            <label for="name">"Name"</label>
                            <input id="name" name="name" type="text" required placeholder="refund-helper"/>
                            <label for="purpose">"Purpose"</label>
                            <input id="purpose" name="purpose" type="text" required placeholder="Resolves billing chats"/>
                            <label for="owner">"Owner (accountable person)"</label>
                            <select id="owner" name="owner" required>
                                {opts.owners.into_iter().map(|(email, name, tenants)| view! {
                                    <option value=email.clone()>{format!("{name} <{email}> — {}", tenants.join(", "))}</option>
                                }).collect_view()}
                            </select>
                            <label for="sponsor">"Sponsor's email (optional)"</label>
                            <input id="sponsor" name="sponsor" type="email" placeholder="a manager who vouches for it"/>
                            <label for="allowances">"May request (one per line)"</label>
                            <textarea id="allowances" name="allowances" rows="4" aria-describedby="allow-hint">"refund:500.00EUR\npassword_reset"</textarea>
                            <p id="allow-hint" class="hint">"Action types: refund, password_reset, mfa_reset, account_closure, data_export, payment_method_change, address_change. Money limits as refund:500.00EUR."</p>
                            <label for="webhook_url">"Webhook URL (optional)"</label>
                            <input id="webhook_url" name="webhook_url" type="url" placeholder="https://agent.example.com/countersign"/>
                            <button type="submit" class="primary">"Register"</button>
                        </ActionForm>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
        {outcome}
    }
}
