//! One agent: what it is, what it may request, and its credentials.

use super::agent_life::{LifeActions, LifeBanner, Lifecycle, Ownership, Timeline};
use super::agents::scope_text;
use super::deliveries::Deliveries;
use super::{Outcome, Problem};
use crate::api::agents::{get_agent, MintCredential, RevokeCredential, UpdateAgent};
use crate::model::{AgentDetail, AgentState, CredentialView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// Rendered on the server, its forms plain posts: after each the page is read again. Only minting runs
/// code in the browser, to show the secret once without it ever being in an address or a stored page.
#[component]
pub fn AgentPage() -> impl IntoView {
    let id = use_params_map().read_untracked().get("id").unwrap_or_default();
    let detail = Resource::new(move || id.clone(), get_agent);
    view! {
        <Title text="Agent"/>
        <Suspense fallback=|| view! { <p class="muted">"Loading agent…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <Agent detail=d/> }.into_any(),
                    Err(e) => view! { <h1>"Agent"</h1><Problem error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Agent(detail: AgentDetail) -> impl IntoView {
    let update = ServerAction::<UpdateAgent>::new();
    let life = LifeActions::new();
    let a = detail.agent.clone();
    let (subject, only) = (detail.workload_subject.clone(), detail.workload_only);
    let manage = detail.may_edit;
    let allowances_text = a
        .allowances
        .iter()
        .map(|al| match &al.limit {
            Some(l) => format!("{}:{}", al.action_type.as_str(), l.replace(' ', "")),
            None => al.action_type.as_str().to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let (id_for_form, id_for_credentials, id_shown) = (a.id.clone(), a.id.clone(), a.id.clone());
    let state_class = match a.state {
        AgentState::Active => "status ok",
        AgentState::Suspended => "status warn",
        AgentState::Retired => "status bad",
    };
    let (agent_id, review_due, review_status) =
        (a.id.clone(), detail.life.review_due.clone(), detail.life.review_status.clone());
    let (webhook, may_widen, purpose) =
        (detail.webhook_url.clone().unwrap_or_default(), detail.may_widen, a.purpose.clone());
    view! {
        <div class="page-head">
            <h1>{a.name.clone()}</h1>
            <span class=state_class>{a.state.as_str()}</span>
        </div>
        <LifeBanner detail=detail.clone()/>
        <div class="panels">
            <section class="card" aria-labelledby="facts-title">
                <h2 id="facts-title">"Identity"</h2>
                <dl class="facts">
                    <dt>"Tenant"</dt><dd>{a.tenant.clone()}</dd>
                    <dt>"Owner"</dt><dd class="mono">{detail.owner_email.clone()}</dd>
                    <dt>"Sponsor"</dt><dd class="mono">{detail.sponsor.clone().unwrap_or_else(|| "none".into())}</dd>
                    <dt>"Purpose"</dt><dd>{a.purpose.clone()}</dd>
                    <dt>"May request"</dt><dd>{scope_text(&a.allowances)}</dd>
                    <dt>"Pending actions"</dt><dd>{a.pending}</dd>
                    <dt>"Webhook"</dt><dd class="mono">{detail.webhook_url.clone().unwrap_or_else(|| "none".into())}</dd>
                    <dt>"Workload subject"</dt><dd class="mono">{subject.clone().unwrap_or_else(|| "not bound".into())}</dd>
                    <dt>"Long-lived credentials"</dt><dd>{if only { "refused: workload identity only" } else { "allowed" }}</dd>
                    <dt>"Agent id"</dt><dd class="mono">{id_shown}</dd>
                </dl>
            </section>
            {manage.then(|| view! {
            <section class="card" aria-labelledby="edit-title">
                <h2 id="edit-title">"Purpose, scope and identity"</h2>
                <ActionForm action=update>
                    <input type="hidden" name="id" value=id_for_form/>
                    <label for="purpose">"Purpose"</label>
                    <input id="purpose" name="purpose" type="text" value=purpose required/>
                    <label for="allowances">"May request (one per line)"</label>
                    <textarea id="allowances" name="allowances" rows="4" aria-describedby="scope-hint">{allowances_text}</textarea>
                    <p id="scope-hint" class="hint">
                        {if may_widen { "As an admin you may widen or narrow the scope." } else { "As its owner you may narrow the scope; widening it takes an admin." }}
                    </p>
                    <label for="webhook_url">"Webhook URL"</label>
                    <input id="webhook_url" name="webhook_url" type="url" value=webhook/>
                    <label for="subject">"Workload subject (SPIFFE ID or OIDC sub)"</label>
                    <input id="subject" name="subject" type="text" class="mono" value=subject.unwrap_or_default()
                        aria-describedby="subject-hint"/>
                    <p id="subject-hint" class="hint">"Tokens for this subject from an issuer the tenant trusts authenticate the agent; empty unbinds."</p>
                    <label class="check"><input type="checkbox" name="workload_only" checked=only/>
                        " Workload identity only (refuse owner-minted credentials)"</label>
                    <Outcome action=update ok="Saved."/>
                    <button type="submit" class="primary">"Save"</button>
                </ActionForm>
            </section>
            })}
        </div>
        {manage.then(|| view! { <Lifecycle detail=detail.clone() actions=life/> })}
        {(a.state != AgentState::Retired).then(|| view! { <Ownership detail=detail.clone() actions=life/> })}
        <Credentials agent=id_for_credentials credentials=detail.credentials.clone() manage/>
        {manage.then(|| view! { <Deliveries deliveries=detail.deliveries.clone()/> })}
        <Timeline entries=detail.timeline.clone() agent=agent_id review_due review_status reviewable=manage/>
    }
}

#[component]
fn Credentials(agent: String, credentials: Vec<CredentialView>, manage: bool) -> impl IntoView {
    let revoke = ServerAction::<RevokeCredential>::new();
    view! {
        <section class="card" aria-labelledby="credentials-title">
            {if manage {
                view! { <Mint agent/> }.into_any()
            } else {
                view! { <h2 id="credentials-title">"Credentials"</h2> }.into_any()
            }}
            <Outcome action=revoke/>
            {if credentials.is_empty() {
                view! { <p class="muted">"No credentials yet."</p> }.into_any()
            } else {
                view! {
                    <table class="grid">
                        <thead><tr><th scope="col">"Prefix"</th><th scope="col">"Status"</th><th scope="col">"Created"</th>
                            <th scope="col">"Expires"</th><th scope="col">"Case"</th><th scope="col">"Last used"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                        <tbody>
                            {credentials.into_iter().map(|c| {
                                let class = match c.status.as_str() { "active" => "status ok", "expired" => "status warn", _ => "status bad" };
                                let revoke_form = (manage && c.status == "active").then(|| {
                                    let (id, label) = (c.id.clone(), format!("Revoke {}", c.prefix));
                                    view! {
                                        <ActionForm action=revoke attr:class="inline">
                                            <input type="hidden" name="credential" value=id/>
                                            <button type="submit" class="danger" aria-label=label>"Revoke"</button>
                                        </ActionForm>
                                    }
                                });
                                view! {
                                    <tr>
                                        <td class="mono">{c.prefix.clone()}"…"</td>
                                        <td><span class=class>{c.status.clone()}</span></td>
                                        <td class="mono nowrap">{c.created_at.clone()}</td>
                                        <td class="mono nowrap">{c.expires_at.clone()}</td>
                                        <td class="mono">{c.case.clone().unwrap_or_else(|| "any (owner-minted)".into())}</td>
                                        <td class="mono nowrap last-used">{c.last_used_at.clone().unwrap_or_else(|| "never".into())}</td>
                                        <td>{revoke_form}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

/// The heading and the mint form, with the new secret below it: an island, because the secret is shown
/// once from the answer and never travels through an address. The table shows the credential on the next
/// reading of the page.
#[island(lazy)]
fn Mint(agent: String) -> impl IntoView {
    super::mark_hydrated();
    let mint = ServerAction::<MintCredential>::new();
    let copied = RwSignal::new(false);
    let minted = move || {
        mint.value().get().map(|r| match r {
            Ok(m) => {
                let secret = m.secret.clone();
                view! {
                    <div class="notice" role="status">
                        <p><strong>"New credential " {m.credential.prefix.clone()} "…"</strong>
                           " — copy it now; it is shown only once and stored only as a hash."</p>
                        <div class="with-button">
                            <code class="secret" id="new-secret">{m.secret.clone()}</code>
                            <button type="button" on:click=move |_| { copy(&secret); copied.set(true); }>
                                {move || if copied.get() { "Copied" } else { "Copy" }}
                            </button>
                        </div>
                    </div>
                }
                .into_any()
            }
            Err(e) => view! { <Problem error=e/> }.into_any(),
        })
    };
    view! {
        <div class="page-head">
            <h2 id="credentials-title">"Credentials"</h2>
            <ActionForm action=mint attr:class="inline-form" on:submit=move |_| copied.set(false)>
                <input type="hidden" name="agent" value=agent/>
                <label for="ttl">"Lives for"</label>
                <select id="ttl" name="ttl">
                    <option value="1h">"1 hour"</option>
                    <option value="24h" selected>"24 hours"</option>
                    <option value="7d">"7 days"</option>
                    <option value="30d">"30 days"</option>
                </select>
                // Disabled until the island is live: a plain post would mint a secret nobody is shown.
                <button type="submit" class="primary" disabled=super::until_live()>"Mint credential"</button>
            </ActionForm>
        </div>
        {minted}
    }
}

fn copy(text: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(text);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}
