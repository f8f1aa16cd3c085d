//! The agent list and the form that registers an agent.

use super::issuers::Issuers;
use super::{Outcome, Problem, WithViewer};
use crate::api::agents::{list_agents, load_agent_form, CreateAgent};
use crate::api::lifecycle::AnswerHandover;
use crate::lifecycle_model::AgentsOverview;
use crate::model::{AgentState, AgentSummary, AllowanceView, Role, Viewer};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

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
    let filter = AgentFilter::from_query(&use_query_map().read_untracked());
    view! {
        <Title text="Agents"/>
        <WithViewer body=move |viewer: Viewer| view! { <Agents viewer filter=filter.clone()/> }/>
    }
}

#[component]
fn Agents(viewer: Viewer, filter: AgentFilter) -> impl IntoView {
    let agents = Resource::new(|| (), |_| list_agents());
    let is_admin = viewer.roles.contains(&Role::Admin);
    let tenants = viewer.tenants;
    view! {
        <div class="page-head">
            <h1>"Agents"</h1>
            {is_admin.then(|| view! { <a href="/agents/new" class="button">"Register an agent"</a> })}
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading agents…"</p> }>
            {move || {
                let (filter, tenants) = (filter.clone(), tenants.clone());
                Suspend::new(async move {
                    match agents.await {
                        Ok(overview) => {
                            let (issuers, admin) = (overview.issuers.clone(), overview.is_admin);
                            view! {
                                <Attention overview=overview.clone()/>
                                <AgentList overview filter/>
                                <Issuers issuers tenants is_admin=admin/>
                            }.into_any()
                        }
                        Err(e) => view! { <Problem error=e/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// The admin's filters, read from the address so a filtered list is a link.
#[derive(Clone, Default)]
struct AgentFilter {
    state: String,
    owner: String,
    orphaned: bool,
    overdue: bool,
}

impl AgentFilter {
    fn from_query(q: &leptos_router::params::ParamsMap) -> Self {
        AgentFilter {
            state: q.get("state").unwrap_or_default(),
            owner: q.get("owner").unwrap_or_default(),
            orphaned: q.get("orphaned").is_some_and(|v| v == "yes"),
            overdue: q.get("overdue").is_some_and(|v| v == "yes"),
        }
    }

    fn keeps(&self, a: &AgentSummary) -> bool {
        (self.state.is_empty() || a.state.as_str() == self.state)
            && (self.owner.is_empty() || a.owner == self.owner)
            && (!self.orphaned || a.orphaned)
            && (!self.overdue || a.review_status == "overdue")
    }
}

/// What needs the viewer first: hand-overs waiting for them, reviews due, orphans.
#[component]
fn Attention(overview: AgentsOverview) -> impl IntoView {
    let answer = ServerAction::<AnswerHandover>::new();
    let due: Vec<AgentSummary> = overview
        .agents
        .iter()
        .filter(|a| a.state != AgentState::Retired && a.review_status != "current" && a.relation != "sponsor")
        .cloned()
        .collect();
    let orphans: Vec<AgentSummary> =
        overview.agents.iter().filter(|a| a.orphaned && a.state != AgentState::Retired).cloned().collect();
    let nothing = overview.incoming.is_empty() && due.is_empty() && orphans.is_empty();
    view! {
        <section class="card attention" aria-labelledby="attention-title">
            <h2 id="attention-title">"Needs your attention"</h2>
            <Outcome action=answer ok="Hand-over answered."/>
            {nothing.then(|| view! { <p class="muted">"Nothing waits for you."</p> })}
            <ul class="plain">
                {overview.incoming.into_iter().map(|h| {
                    let (id1, id2) = (h.id.clone(), h.id.clone());
                    let (accept, decline) = (format!("Accept {}", h.agent_name), format!("Decline {}", h.agent_name));
                    view! {
                    <li>
                        <span class="status warn">"hand-over"</span>" "
                        {format!("{} proposes that you own {} (until {}). Accepting revokes every credential they minted for it.", h.proposed_by, h.agent_name, h.expires_at)}
                        <ActionForm action=answer attr:class="inline">
                            <input type="hidden" name="handover" value=id1/>
                            <input type="hidden" name="accept" value="true"/>
                            <button type="submit" class="primary" aria-label=accept>"Accept"</button>
                        </ActionForm>
                        <ActionForm action=answer attr:class="inline">
                            <input type="hidden" name="handover" value=id2/>
                            <input type="hidden" name="accept" value="false"/>
                            <button type="submit" aria-label=decline>"Decline"</button>
                        </ActionForm>
                    </li>
                }}).collect_view()}
                {due.into_iter().map(|a| view! {
                    <li>
                        <span class=if a.review_status == "overdue" { "status bad" } else { "status warn" }>{format!("review {}", a.review_status)}</span>" "
                        <a href=format!("/agents/{}/review", a.id)>{format!("Review {}'s access", a.name)}</a>
                        <span class="muted">{format!(" — due {}", a.review_due)}</span>
                    </li>
                }).collect_view()}
                {orphans.into_iter().map(|a| view! {
                    <li>
                        <span class="status bad">"orphaned"</span>" "
                        <a href=format!("/agents/{}", a.id)>{a.name.clone()}</a>
                        <span class="muted">{format!(" — its owner {} can no longer own it; hand it to someone", a.owner)}</span>
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn AgentList(overview: AgentsOverview, filter: AgentFilter) -> impl IntoView {
    let agents: Vec<AgentSummary> = overview.agents.into_iter().filter(|a| filter.keeps(a)).collect();
    let option = |value: &str, label: &str, current: &str| {
        view! { <option value=value.to_string() selected=current == value>{label.to_string()}</option> }
    };
    let filters = overview.is_admin.then(|| view! {
        <form method="get" class="filters" aria-label="Filter agents">
            <label>"State " <select name="state">
                {option("", "any", &filter.state)}{option("active", "active", &filter.state)}
                {option("suspended", "suspended", &filter.state)}{option("retired", "retired", &filter.state)}
            </select></label>
            <label>"Owner " <select name="owner">
                {option("", "anyone", &filter.owner)}
                {overview.owners.iter().map(|o| option(o, o, &filter.owner)).collect_view()}
            </select></label>
            <label><input type="checkbox" name="orphaned" value="yes" checked=filter.orphaned/>" orphaned"</label>
            <label><input type="checkbox" name="overdue" value="yes" checked=filter.overdue/>" review overdue"</label>
            <button type="submit">"Filter"</button>
        </form>
    });
    view! {
        {filters}
        {if agents.is_empty() {
            view! { <p class="muted">"No agents here."</p> }.into_any()
        } else {
            view! { <AgentTable agents/> }.into_any()
        }}
    }
}

#[component]
fn AgentTable(agents: Vec<AgentSummary>) -> impl IntoView {
    view! {
        <table class="grid">
            <thead><tr><th scope="col">"Agent"</th><th scope="col">"Tenant"</th><th scope="col">"Owner"</th>
                <th scope="col">"State"</th><th scope="col">"Pending"</th><th scope="col">"Live credentials"</th>
                <th scope="col">"Last activity"</th><th scope="col">"Next review"</th><th scope="col">"May request"</th></tr></thead>
            <tbody>
                {agents.into_iter().map(|a| {
                    let state_class = match a.state { AgentState::Active => "status ok", AgentState::Suspended => "status warn", AgentState::Retired => "status bad" };
                    let review_class = match a.review_status.as_str() { "overdue" => "status bad", "due soon" => "status warn", _ => "muted" };
                    view! {
                        <tr>
                            <td><a href=format!("/agents/{}", a.id)>{a.name.clone()}</a>
                                {(a.relation == "sponsor").then(|| view! { " " <span class="muted small">"(you sponsor it)"</span> })}
                                <div class="muted small">{a.purpose.clone()}</div></td>
                            <td>{a.tenant.clone()}</td>
                            <td class="mono">{a.owner.clone()}{a.orphaned.then(|| view! { " " <span class="status bad">"orphaned"</span> })}</td>
                            <td><span class=state_class>{a.state.as_str()}</span></td>
                            <td class="num">{a.pending}</td>
                            <td class="num">{a.live_credentials}</td>
                            <td class="mono nowrap">{a.last_activity.clone().unwrap_or_else(|| "never".into())}</td>
                            <td class="nowrap">{(a.state != AgentState::Retired).then(|| view! {
                                <span class=review_class>{a.review_status.clone()}</span>" "<span class="mono small">{a.review_due.clone()}</span>
                            })}</td>
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
    view! {
        <Title text="Register an agent"/>
        <h1>"Register an agent"</h1>
        <NewAgent/>
    }
}

#[island(lazy)]
fn NewAgent() -> impl IntoView {
    super::mark_hydrated();
    let options = Resource::new(|| (), |_| load_agent_form());
    let create = ServerAction::<CreateAgent>::new();
    let outcome = move || {
        create.value().get().map(|result| match result {
            Ok(created) => view! {
                <div class="card notice" role="status">
                    <p>"Agent registered. " <a href=format!("/agents/{}", created.id)>"Open it to mint a credential"</a></p>
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
                            // Disabled until the island is live: a plain post would register the agent
                            // without showing its webhook secret.
                            <button type="submit" class="primary" disabled=super::until_live()>"Register"</button>
                        </ActionForm>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
        {outcome}
    }
}
