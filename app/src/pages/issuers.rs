//! Issuers a tenant trusts for its agents' workload identity: listed for owners and admins; registered,
//! edited and removed by admins.

use super::Outcome;
use crate::api::agents::{AddIssuer, ChangeIssuer, RemoveIssuer};
use crate::lifecycle_model::IssuerView;
use crate::model::TenantRef;
use leptos::prelude::*;

#[component]
pub fn Issuers(issuers: Vec<IssuerView>, tenants: Vec<TenantRef>, is_admin: bool) -> impl IntoView {
    let add = ServerAction::<AddIssuer>::new();
    let change = ServerAction::<ChangeIssuer>::new();
    let remove = ServerAction::<RemoveIssuer>::new();
    let managed = if is_admin { issuers.clone() } else { Vec::new() };
    view! {
        <section class="card" aria-labelledby="issuers-title">
            <h2 id="issuers-title">"Trusted issuers"</h2>
            {if issuers.is_empty() {
                view! { <p class="muted">"No trusted issuers: agents authenticate with owner-minted credentials only."</p> }.into_any()
            } else {
                view! {
                    <table class="grid">
                        <thead><tr><th scope="col">"Tenant"</th><th scope="col">"Issuer"</th><th scope="col">"Audience"</th>
                            <th scope="col">"Keys"</th><th scope="col">"Added"</th></tr></thead>
                        <tbody>
                            {issuers.into_iter().map(|i| view! {
                                <tr>
                                    <td>{i.tenant}</td>
                                    <td class="mono">{i.issuer}</td>
                                    <td class="mono">{i.audience}</td>
                                    <td class="mono">{i.keys}</td>
                                    <td class="mono nowrap">{i.added_at}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            // Outside the forms' <details>, which the page read again after the post shows closed.
            <Outcome action=add ok="Issuer registered."/>
            <Outcome action=change ok="Issuer saved."/>
            <Outcome action=remove ok="Issuer removed: its tokens no longer authenticate."/>
            {managed.into_iter().map(|i| view! { <ManageIssuer issuer=i change remove/> }).collect_view()}
            {is_admin.then(|| view! {
                <details>
                    <summary>"Register an issuer"</summary>
                    <ActionForm action=add>
                        <label for="issuer-tenant">"Tenant"</label>
                        <select id="issuer-tenant" name="tenant">
                            {tenants.into_iter().map(|t| view! { <option value=t.slug.clone()>{t.name}</option> }).collect_view()}
                        </select>
                        <label for="issuer">"Issuer (its tokens' iss, or spiffe://trust-domain)"</label>
                        <input id="issuer" name="issuer" type="text" class="mono" required placeholder="https://idp.example"/>
                        <label for="audience">"Audience (the aud its tokens carry for Countersign)"</label>
                        <input id="audience" name="audience" type="text" class="mono" required/>
                        <label for="jwks_url">"JWKS URL"</label>
                        <input id="jwks_url" name="jwks_url" type="url" class="mono" aria-describedby="jwks-hint"/>
                        <label for="jwks">"Or paste its JWKS"</label>
                        <textarea id="jwks" name="jwks" rows="4" class="mono" aria-describedby="jwks-hint"></textarea>
                        <p id="jwks-hint" class="hint">"One of the two: a URL the server fetches (and fetches again for an unknown key), or the keys pasted for networks that cannot reach the issuer."</p>
                        <button type="submit" class="primary">"Register issuer"</button>
                    </ActionForm>
                </details>
            })}
        </section>
    }
}

/// An admin's Edit and Remove of one issuer; Remove asks for the issuer's name typed out first.
#[component]
fn ManageIssuer(
    issuer: IssuerView,
    change: ServerAction<ChangeIssuer>,
    remove: ServerAction<RemoveIssuer>,
) -> impl IntoView {
    let key = |what: &str| format!("issuer-{what}-{}", issuer.id);
    let (audience_id, url_id, jwks_id, confirm_id, effect_id) =
        (key("audience"), key("url"), key("jwks"), key("confirm"), key("effect"));
    let pasted = issuer.jwks_url.is_empty();
    let (id, id2, name) = (issuer.id.clone(), issuer.id.clone(), issuer.issuer.clone());
    let (summary, save, confirm) = (
        format!("Edit or remove {} ({})", name, issuer.tenant),
        format!("Save {name}"),
        format!("Type the issuer, {name}, to confirm"),
    );
    let (audience, url, remove_label) = (issuer.audience.clone(), issuer.jwks_url.clone(), format!("Remove {name}"));
    view! {
        <details>
            <summary>{summary}</summary>
            <ActionForm action=change>
                <input type="hidden" name="id" value=id/>
                <label for=audience_id.clone()>"Audience"</label>
                <input id=audience_id name="audience" type="text" class="mono" required value=audience/>
                <label for=url_id.clone()>"JWKS URL"</label>
                <input id=url_id name="jwks_url" type="url" class="mono" value=url/>
                <label for=jwks_id.clone()>{if pasted { "Or paste a new JWKS (left blank, the pasted keys stay)" } else { "Or paste its JWKS instead (clear the URL)" }}</label>
                <textarea id=jwks_id name="jwks" rows="4" class="mono"></textarea>
                <button type="submit" class="primary">{save}</button>
            </ActionForm>
            <ActionForm action=remove>
                <input type="hidden" name="id" value=id2/>
                <p id=effect_id.clone() class="notice">"Removing it stops its tokens at once: agents bound through it authenticate only with credentials until it is registered again."</p>
                <label for=confirm_id.clone()>{confirm}</label>
                <input id=confirm_id name="confirm" type="text" class="mono" required autocomplete="off" aria-describedby=effect_id/>
                <button type="submit" class="danger">{remove_label}</button>
            </ActionForm>
        </details>
    }
}
