//! The console's pages and the frame around them.

mod account;
mod agent;
mod agent_life;
mod agent_review;
mod agents;
mod audit;
mod case;
mod case_forms;
mod deliveries;
mod history;
mod insights;
mod issuers;
mod live;
mod login;
mod overview;
mod people;
mod qa;
mod queue;
mod record;

use crate::api::current_viewer;
use crate::error::AppError;
use crate::model::{Role, Viewer};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Outlet, ParentRoute, Redirect, Route, Router, Routes, A};
use leptos_router::path;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.ico"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// A page's Content-Security-Policy: scripts only from this origin, or inline with this response's nonce
/// (the hydration script and streamed resources carry it) — never other inline code; no plugins, no framing,
/// forms post only here.
#[cfg(feature = "ssr")]
fn content_security_policy() {
    let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    );
    if let Ok(value) = axum::http::HeaderValue::from_str(&policy) {
        response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/countersign.css"/>
        <Title formatter=|page: String| if page.is_empty() { "Countersign".to_string() } else { format!("{page} · Countersign") }/>
        <Router>
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/login") view=login::LoginPage/>
                <ParentRoute path=path!("") view=Frame>
                    <Route path=path!("") view=overview::OverviewPage/>
                    <Route path=path!("/account") view=account::AccountPage/>
                    <Route path=path!("/queue") view=queue::QueuePage/>
                    <Route path=path!("/queue/:id") view=case::CasePage/>
                    <Route path=path!("/history") view=history::HistoryPage/>
                    <Route path=path!("/history/:id") view=record::RecordPage/>
                    <Route path=path!("/insights") view=insights::InsightsPage/>
                    <Route path=path!("/agents") view=agents::AgentsPage/>
                    <Route path=path!("/agents/new") view=agents::NewAgentPage/>
                    <Route path=path!("/agents/:id") view=agent::AgentPage/>
                    <Route path=path!("/agents/:id/review") view=agent_review::AgentReviewPage/>
                    <Route path=path!("/audit") view=audit::AuditPage/>
                    <Route path=path!("/people") view=people::PeoplePage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// Marks the page as live once every island on it has hydrated (effects run only in the browser, after the
/// island is in place): tests, and curious people, can tell the WASM is in charge of what they see. Every
/// island calls it first; a page without islands is marked by `hydrate` itself.
pub(crate) fn mark_hydrated() {
    let (live, set_live) = signal(false);
    provide_context(Live(live));
    Effect::new(move |_| {
        set_live.set(true);
        #[cfg(feature = "hydrate")]
        crate::island_hydrated();
    });
}

/// Whether the island around a component has hydrated: never on the server, and in the browser only once the
/// island's code has run.
#[derive(Clone, Copy)]
struct Live(ReadSignal<bool>);

/// A `disabled` for controls that work only through their island's code (a `type="button"`): they render
/// disabled, and come alive with the island, so a click before the WebAssembly arrives is not silently lost.
pub(crate) fn until_live() -> impl Fn() -> bool + Copy + Send + Sync + 'static {
    let live = use_context::<Live>().map(|l| l.0);
    move || !live.is_some_and(|l| l.get())
}

/// The signed-in viewer, fetched once per frame and shared with the pages inside it.
pub type ViewerResource = Resource<Result<Option<Viewer>, AppError>>;

/// Header with the viewer's name, the sections they may open and sign-out; the page below.
#[component]
fn Frame() -> impl IntoView {
    let viewer: ViewerResource = Resource::new(|| (), |_| current_viewer());
    provide_context(viewer);
    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        <header class="topbar">
            <A href="/" attr:class="brand">"Countersign"</A>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match viewer.await {
                        Ok(Some(v)) => view! { <Navigation viewer=v/> }.into_any(),
                        Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </header>
        <main id="main" class="page">
            <Outlet/>
        </main>
    }
}

#[component]
fn Navigation(viewer: Viewer) -> impl IntoView {
    let roles = roles_text(&viewer.roles);
    view! {
        <nav aria-label="Sections">
            <ul>
                {viewer.sections.iter().copied().map(|s| view! { <li><A href=s.path()>{s.label()}</A></li> }).collect_view()}
            </ul>
        </nav>
        <div class="who">
            <span class="who-name">{viewer.name.clone()}</span>
            <span class="who-roles">{roles}</span>
            // A plain form: signing out is a full navigation to the sign-in page, and the frame carries no
            // form-encoding code into every page's bundle.
            <form method="post" action="/api/logout" class="inline">
                <button type="submit" class="quiet">"Sign out"</button>
            </form>
        </div>
    }
}

pub fn roles_text(roles: &[Role]) -> String {
    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
}

/// Renders `body` with the viewer once known; pages use it so each has the viewer without a second fetch.
#[component]
pub fn WithViewer<V, F>(body: F) -> impl IntoView
where
    F: Fn(Viewer) -> V + Send + Sync + Clone + 'static,
    V: IntoView + 'static,
{
    let viewer = expect_context::<ViewerResource>();
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {
                let body = body.clone();
                move || {
                    let body = body.clone();
                    Suspend::new(async move {
                        viewer.await.ok().flatten().map(&body)
                    })
                }
            }
        </Suspense>
    }
}

/// What became of the page's last post through `action`, for the forms that post without code in the
/// browser: its refusal, which the server renders from the address (`__err`), or `ok` once the address
/// says it was just done (`done=<endpoint>`, added by the server to its redirect back after a success).
#[component]
pub fn Outcome<S>(action: ServerAction<S>, #[prop(optional)] ok: Option<&'static str>) -> impl IntoView
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
{
    let refused = action.value().with_untracked(|v| v.as_ref().and_then(|r| r.as_ref().err().cloned()));
    let done = leptos_router::hooks::use_query_map().read_untracked().get("done");
    let done = ok.filter(|_| refused.is_none() && done.as_deref() == Some(S::PATH.trim_start_matches("/api/")));
    view! {
        {refused.map(|error| view! { <Problem error/> })}
        {done.map(|text| view! { <p class="ok" role="status">{text}</p> })}
    }
}

/// A failed server call, said plainly.
#[component]
pub fn Problem(error: AppError) -> impl IntoView {
    view! { <p class="error" role="alert">{error.to_string()}</p> }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <main id="main" class="page narrow">
            <Title text="Not found"/>
            <h1>"Not found"</h1>
            <p>"There is no page at this address. " <a href="/">"Go to the overview"</a></p>
        </main>
    }
}
