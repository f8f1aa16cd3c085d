//! Issuers a tenant trusts for its agents' workload identity: listed for owners and admins, registered
//! by admins.

use super::Outcome;
use crate::api::agents::AddIssuer;
use crate::lifecycle_model::IssuerView;
use crate::model::TenantRef;
use leptos::prelude::*;

#[component]
pub fn Issuers(issuers: Vec<IssuerView>, tenants: Vec<TenantRef>, is_admin: bool) -> impl IntoView {
    let add = ServerAction::<AddIssuer>::new();
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
            // Outside the form's <details>, which the page read again after the post shows closed.
            <Outcome action=add ok="Issuer registered."/>
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
