//! The decision panel's confirmations: approve (with a narrowed amount and, for critical actions, the password
//! again) and deny (with a reason). Each confirms on a deliberate second step.

use super::case::Step;
use crate::error::AppError;
use crate::review_model::DecisionForm;
use leptos::prelude::*;

pub(super) type Submit = Action<(DecisionForm, Option<String>), Result<(), AppError>>;

#[component]
pub(super) fn ApproveForm(
    submit: Submit,
    requested: String,
    currency: Option<String>,
    needs_step_up: bool,
    step: RwSignal<Step>,
) -> impl IntoView {
    let amount = RwSignal::new(requested.clone());
    let password = RwSignal::new(String::new());
    let confirm = NodeRef::<leptos::html::Button>::new();
    let pw = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(p) = pw.get() {
            let _ = p.focus();
        } else if let Some(b) = confirm.get() {
            let _ = b.focus();
        }
    });
    let has_money = currency.is_some();
    view! {
        <form class="confirm" on:submit=move |ev| {
            ev.prevent_default();
            let narrowed = amount.get_untracked();
            let form = DecisionForm {
                verdict: "approve".into(),
                amount: if narrowed.trim() == requested { String::new() } else { narrowed },
                ..Default::default()
            };
            submit.dispatch((form, needs_step_up.then(|| password.get_untracked())));
        }>
            {has_money.then(|| view! {
                <label>"Approve amount (" {currency.clone()} ", at most the requested)"
                    <input type="text" inputmode="decimal" prop:value=move || amount.get() on:input=move |ev| amount.set(event_target_value(&ev))/>
                </label>
            })}
            {needs_step_up.then(|| view! {
                <label>"Critical: re-enter your password"
                    <input type="password" node_ref=pw autocomplete="current-password" required
                        on:input=move |ev| password.set(event_target_value(&ev))/>
                </label>
            })}
            <div class="buttons">
                <button type="submit" class="approve" node_ref=confirm disabled=move || submit.pending().get()>"Confirm approval"</button>
                <button type="button" class="quiet" on:click=move |_| step.set(Step::Choose)>"Cancel (Esc)"</button>
            </div>
        </form>
    }
}

#[component]
pub(super) fn DenyForm(submit: Submit, reasons: Vec<String>, step: RwSignal<Step>) -> impl IntoView {
    let preset = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    let select = NodeRef::<leptos::html::Select>::new();
    Effect::new(move |_| {
        if let Some(s) = select.get() {
            let _ = s.focus();
        }
    });
    view! {
        <form class="confirm" on:submit=move |ev| {
            ev.prevent_default();
            let form = DecisionForm { verdict: "deny".into(), preset: preset.get_untracked(), reason: text.get_untracked(), ..Default::default() };
            submit.dispatch((form, None));
        }>
            <label>"Reason (returned to the agent)"
                <select node_ref=select on:change=move |ev| preset.set(event_target_value(&ev))>
                    <option value="">"Choose a reason…"</option>
                    {reasons.into_iter().map(|r| view! { <option value=r.clone()>{r.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label>"More detail (optional with a reason above)"
                <textarea rows="2" on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            </label>
            <div class="buttons">
                <button type="submit" class="deny" disabled=move || submit.pending().get()>"Confirm denial"</button>
                <button type="button" class="quiet" on:click=move |_| step.set(Step::Choose)>"Cancel (Esc)"</button>
            </div>
        </form>
    }
}
