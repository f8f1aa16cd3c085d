//! An agent's webhook delivery log, with a button to send a message again.

use super::Outcome;
use crate::api::agents::Redeliver;
use crate::review_model::DeliveryView;
use leptos::prelude::*;

#[component]
pub fn Deliveries(deliveries: Vec<DeliveryView>) -> impl IntoView {
    let redeliver = ServerAction::<Redeliver>::new();
    view! {
        <section class="card" aria-labelledby="deliveries-title">
            <h2 id="deliveries-title">"Webhook deliveries"</h2>
            <Outcome action=redeliver ok="Queued to be sent again."/>
            {if deliveries.is_empty() {
                view! { <p class="muted">"No outcomes delivered yet."</p> }.into_any()
            } else {
                view! {
                    <table class="grid">
                        <thead><tr><th scope="col">"Created"</th><th scope="col">"Event"</th><th scope="col">"State"</th>
                            <th scope="col">"Attempts"</th><th scope="col">"Last result"</th><th scope="col">"Next try"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                        <tbody>
                            {deliveries.into_iter().map(|d| {
                                let class = match d.state.as_str() { "delivered" => "status ok", "pending" => "status warn", _ => "status bad" };
                                let result = match (d.last_status, d.last_error.clone()) {
                                    (_, Some(e)) => e,
                                    (Some(s), None) => format!("HTTP {s}"),
                                    (None, None) => "not tried yet".into(),
                                };
                                let again = (d.state != "pending").then(|| {
                                    let id = d.id.clone();
                                    view! {
                                        <ActionForm action=redeliver attr:class="inline">
                                            <input type="hidden" name="delivery" value=id/>
                                            <button type="submit">"Redeliver"</button>
                                        </ActionForm>
                                    }
                                });
                                view! {
                                    <tr>
                                        <td class="mono nowrap">{d.created_at.clone()}</td>
                                        <td class="mono">{d.event.clone()}</td>
                                        <td><span class=class>{d.state.clone()}</span></td>
                                        <td>{d.attempts}</td>
                                        <td>{result}</td>
                                        <td class="mono nowrap">{d.next_attempt_at.clone().unwrap_or_else(|| "—".into())}</td>
                                        <td>{again}</td>
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
