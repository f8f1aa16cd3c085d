//! An agent's workload identity: the subject whose tokens authenticate it, "workload identity only", and
//! the live case credentials it obtained for itself.

use super::Problem;
use crate::api::agents::BindAgent;
use crate::model::CaseCredentialView;
use leptos::prelude::*;

#[component]
pub fn WorkloadIdentity(
    agent: String,
    subject: Option<String>,
    only: bool,
    case_credentials: Vec<CaseCredentialView>,
    manage: bool,
    bind: ServerAction<BindAgent>,
) -> impl IntoView {
    let result = move || {
        bind.value().get().map(|r| match r {
            Ok(()) => view! { <p class="ok" role="status">"Workload identity saved."</p> }.into_any(),
            Err(e) => view! { <Problem error=e/> }.into_any(),
        })
    };
    let bound = subject.clone().unwrap_or_else(|| "not bound".into());
    view! {
        <section class="card" aria-labelledby="workload-title">
            <h2 id="workload-title">"Workload identity"</h2>
            <dl class="facts">
                <dt>"Subject"</dt><dd class="mono">{bound}</dd>
                <dt>"Long-lived credentials"</dt>
                <dd>{if only { "refused: workload identity only" } else { "allowed" }}</dd>
            </dl>
            {manage.then(|| view! {
                <ActionForm action=bind>
                    <input type="hidden" name="agent" value=agent.clone()/>
                    <label for="subject">"Workload subject (SPIFFE ID or OIDC sub)"</label>
                    <input id="subject" name="subject" type="text" class="mono" value=subject.clone().unwrap_or_default()
                        placeholder="spiffe://acme.example/support/refund-helper" aria-describedby="subject-hint"/>
                    <p id="subject-hint" class="hint">"Tokens from an issuer this tenant trusts, for this subject, authenticate the agent. Leave empty to unbind."</p>
                    <label class="check"><input type="checkbox" name="workload_only" value="on" checked=only/>
                        " Workload identity only (refuse owner-minted credentials)"</label>
                    {result}
                    <button type="submit" class="primary">"Save workload identity"</button>
                </ActionForm>
            })}
            <h3>"Live case credentials"</h3>
            {if case_credentials.is_empty() {
                view! { <p class="muted">"No live case credentials."</p> }.into_any()
            } else {
                view! {
                    <table class="grid">
                        <thead><tr><th scope="col">"Prefix"</th><th scope="col">"Case"</th><th scope="col">"May request"</th>
                            <th scope="col">"Obtained by"</th><th scope="col">"Expires"</th></tr></thead>
                        <tbody>
                            {case_credentials.into_iter().map(|c| view! {
                                <tr>
                                    <td class="mono">{c.prefix}"…"</td>
                                    <td class="mono">{c.case_id}</td>
                                    <td>{c.action_types}</td>
                                    <td class="mono">{c.subject.unwrap_or_else(|| "a credential".into())}</td>
                                    <td class="mono nowrap">{c.expires_at}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}
