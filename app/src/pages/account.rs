use super::{roles_text, Outcome, WithViewer};
use crate::api::ChangePassword;
use crate::model::Viewer;
use leptos::prelude::*;
use leptos_meta::Title;

/// Kept in step with the server's rule (src/domain/password.rs), which is the one that decides.
const MIN_PASSWORD_CHARS: usize = 12;

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <Title text="Account"/>
        <h1>"Account"</h1>
        <div class="panels">
            <WithViewer body=|v: Viewer| view! { <Details viewer=v/> }/>
            <PasswordForm/>
        </div>
    }
}

#[component]
fn Details(viewer: Viewer) -> impl IntoView {
    let tenants = viewer.tenants.iter().map(|t| t.name.clone()).collect::<Vec<_>>().join(", ");
    view! {
        <section class="card" aria-labelledby="details-title">
            <h2 id="details-title">"Your details"</h2>
            <dl class="facts">
                <dt>"Name"</dt><dd>{viewer.name.clone()}</dd>
                <dt>"Email"</dt><dd>{viewer.email.clone()}</dd>
                <dt>"Roles"</dt><dd>{roles_text(&viewer.roles)}</dd>
                <dt>"Tenants"</dt><dd>{if tenants.is_empty() { "none".to_string() } else { tenants }}</dd>
            </dl>
        </section>
    }
}

/// A plain post; the browser itself holds back a new password shorter than the minimum (`minlength`).
#[component]
fn PasswordForm() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    view! {
        <section class="card" aria-labelledby="password-title">
            <h2 id="password-title">"Change password"</h2>
            <ActionForm action=change>
                <label for="current">"Current password"</label>
                <input id="current" name="current" type="password" autocomplete="current-password" required/>
                <label for="new">"New password"</label>
                <input
                    id="new"
                    name="new"
                    type="password"
                    autocomplete="new-password"
                    aria-describedby="new-hint"
                    required
                    minlength=MIN_PASSWORD_CHARS
                />
                <p id="new-hint" class="hint">{format!("At least {MIN_PASSWORD_CHARS} characters.")}</p>
                <label for="confirm">"New password again"</label>
                <input id="confirm" name="confirm" type="password" autocomplete="new-password" required/>
                <Outcome action=change ok="Password changed."/>
                <button type="submit" class="primary">"Change password"</button>
            </ActionForm>
        </section>
    }
}
