use crate::api::Login;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn LoginPage() -> impl IntoView {
    view! {
        <Title text="Sign in"/>
        <main id="main" class="login">
            <LoginForm/>
        </main>
    }
}

#[island(lazy)]
fn LoginForm() -> impl IntoView {
    super::mark_hydrated();
    let login = ServerAction::<Login>::new();
    let reveal = RwSignal::new(false);
    let failure = move || login.value().get().and_then(|result| result.err());
    view! {
            <ActionForm action=login attr:class="card login-card" attr:aria-labelledby="login-title">
                <h1 id="login-title">"Countersign"</h1>
                <p class="muted">"Sign in to review and countersign your agents' held actions."</p>
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="username" required autofocus/>
                <label for="password">"Password"</label>
                <div class="with-button">
                    <input
                        id="password"
                        name="password"
                        type=move || if reveal.get() { "text" } else { "password" }
                        autocomplete="current-password"
                        required
                    />
                    <button
                        type="button"
                        class="quiet"
                        aria-controls="password"
                        disabled=super::until_live()
                        aria-pressed=move || reveal.get().to_string()
                        on:click=move |_| reveal.update(|shown| *shown = !*shown)
                    >
                        {move || if reveal.get() { "Hide" } else { "Show" }}
                    </button>
                </div>
                <p class="error" role="alert" aria-live="assertive">{move || failure().map(|e| e.to_string())}</p>
                <button type="submit" class="primary" disabled=move || login.pending().get()>
                    {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
    }
}
