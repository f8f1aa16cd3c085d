//! The console's cells: server functions, sign-in and sign-out, pages, the live queue and the exports.

use super::args::{args, NEW_PASSWORD};
use super::rules::{self, Persona, Rule};
use super::world::{snapshot, Target, Worlds};
use super::Findings;
use crate::harness::{TestApp, PASSWORD};
use reqwest::StatusCode;
use std::collections::BTreeSet;

pub type Viewer = (Option<&'static Persona>, reqwest::Client);

/// What is wrong with an answer, if anything: allowed cells answer 2xx; refused ones 403 or 404 (401 to
/// no one signed in); a codec failure or a crash is never an answer.
/// `unknown_tenant`: a tenant named by slug that is not the person's may read as an unknown one (422).
pub fn judge(may: bool, anonymous: bool, unknown_tenant: bool, status: StatusCode, body: &str) -> Option<String> {
    let short: String = body.chars().take(300).collect();
    if status == StatusCode::BAD_REQUEST || status.is_server_error() {
        return Some(format!("fails before its rule is applied: {status} {short}"));
    }
    if may && !status.is_success() {
        return Some(format!("refused though allowed: {status} {short}"));
    }
    let refusals: &[StatusCode] =
        if anonymous { &[StatusCode::UNAUTHORIZED] } else { &[StatusCode::FORBIDDEN, StatusCode::NOT_FOUND] };
    let unknown = unknown_tenant && status == StatusCode::UNPROCESSABLE_ENTITY && body.contains("tenant");
    if !may && !refusals.contains(&status) && !unknown {
        return Some(format!("expected a refusal (forbidden or not found), got {status} {short}"));
    }
    None
}

/// What of the other tenant must never appear in an answer to someone outside it.
fn markers(t: &Target) -> Vec<String> {
    let ids = [&t.held, &t.decided, &t.agent, &t.person, &t.delivery, &t.handover, &t.credential, &t.sample];
    let fixed = [format!("{} purpose", t.tenant), format!("cus_{}", t.tenant), t.owner.clone(), t.gus.clone()];
    fixed.into_iter().chain(ids.map(|s| s.to_string())).collect()
}

fn leaks(persona: Option<&Persona>, other: &Target, body: &str) -> Vec<String> {
    if persona.is_some_and(|p| !p.roles_in(&other.tenant).is_empty()) {
        return vec![]; // a member of the other tenant may read it
    }
    markers(other).into_iter().filter(|m| body.contains(m.as_str())).collect()
}

async fn call(
    app: &TestApp,
    browser: &reqwest::Client,
    endpoint: &str,
    form: &[(&str, String)],
) -> (StatusCode, String) {
    let answer = browser.post(app.url(&format!("/api/{endpoint}"))).form(form).send().await.expect("call");
    (answer.status(), answer.text().await.unwrap_or_default())
}

pub async fn server_functions(app: &TestApp, worlds: &Worlds, viewers: &[Viewer], found: &mut Findings) {
    let endpoints: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/").to_string())
        .collect();
    assert!(endpoints.len() >= 40, "every server function is registered: {endpoints:?}");
    for endpoint in &endpoints {
        let rule = rules::rule(endpoint);
        for (persona, browser) in viewers {
            let who = persona.map_or("anonymous", |p| p.name);
            let untargeted = matches!(rule, Rule::Session | Rule::Anyone | Rule::SignedIn | Rule::Any(_));
            if matches!(rule, Rule::Session) {
                continue; // `sessions` tries them
            }
            if untargeted {
                let may = rules::may(rule, *persona, None, "", "");
                let (status, body) =
                    call(app, browser, endpoint, &args(endpoint, &worlds.own.base, worlds.next())).await;
                found.cells += 1;
                if let Some(why) = judge(may, persona.is_none(), false, status, &body) {
                    found.fail(endpoint, who, "none", why);
                }
                let leaked = leaks(*persona, &worlds.other.base, &body);
                if !leaked.is_empty() {
                    found.fail(endpoint, who, "none", format!("answered with the other tenant's {leaked:?}"));
                }
                if endpoint == "account/password" && status.is_success() {
                    let back =
                        [("current", NEW_PASSWORD.into()), ("new", PASSWORD.into()), ("confirm", PASSWORD.into())];
                    let (status, body) = call(app, browser, endpoint, &back).await;
                    assert!(status.is_success(), "password back: {status} {body}");
                }
                continue;
            }
            let mut refused = Vec::new();
            for world in [Some(&worlds.own), Some(&worlds.other), None] {
                let t = match world {
                    Some(w) => w.fresh(app, endpoint).await,
                    None => worlds.ghost.clone(),
                };
                let tenant = t.exists().then_some(t.tenant.as_str());
                let may = rules::may(rule, *persona, tenant, &t.owner, &t.recipient);
                let before = if may { String::new() } else { snapshot(app, worlds, &t).await };
                let (status, body) = call(app, browser, endpoint, &args(endpoint, &t, worlds.next())).await;
                found.cells += 1;
                let unknown = rules::names_tenant(endpoint) && rules::role_anywhere(rule, *persona);
                if let Some(why) = judge(may, persona.is_none(), unknown, status, &body) {
                    found.fail(endpoint, who, t.label, why);
                }
                let leaked = leaks(*persona, &worlds.other.base, &body);
                if t.label != "other" && !leaked.is_empty() {
                    found.fail(endpoint, who, t.label, format!("answered with the other tenant's {leaked:?}"));
                }
                if !may {
                    if snapshot(app, worlds, &t).await != before {
                        found.fail(endpoint, who, t.label, "refused, yet something changed".into());
                    }
                    if t.label != "own" {
                        refused.push((t.label, status, t.blank(&body)));
                    }
                }
            }
            if let [(_, s1, b1), (_, s2, b2)] = &refused[..] {
                if (s1, b1) != (s2, b2) {
                    found.fail(endpoint, who, "other", format!("reads unlike a missing one: {s1} {b1} / {s2} {b2}"));
                }
            }
        }
    }
}

/// Arguments some functions read differently from their main form, tried on the other tenant's object
/// and on a missing one: each must read the same for both (an approval's amount takes the currency of
/// the action it names).
pub async fn variants(app: &TestApp, worlds: &Worlds, viewers: &[Viewer], found: &mut Findings) {
    let approve = |t: &Target| {
        let pairs =
            [("form[verdict]", "approve"), ("form[amount]", "1.00"), ("form[preset]", ""), ("form[reason]", "")];
        [("id", t.held.clone())].into_iter().chain(pairs.map(|(k, v)| (k, v.to_string()))).collect::<Vec<_>>()
    };
    for (persona, browser) in viewers {
        let who = persona.map_or("anonymous", |p| p.name);
        let (other, ghost) = (&worlds.other.base, &worlds.ghost);
        let before = snapshot(app, worlds, other).await;
        let theirs = call(app, browser, "queue/decide", &approve(other)).await;
        let missing = call(app, browser, "queue/decide", &approve(ghost)).await;
        found.cells += 2;
        if known_member(*persona, other) {
            continue;
        }
        if (theirs.0, other.blank(&theirs.1)) != (missing.0, ghost.blank(&missing.1)) {
            found.fail("queue/decide (approve an amount)", who, "other", format!("{theirs:?} / {missing:?}"));
        }
        if snapshot(app, worlds, other).await != before {
            found.fail("queue/decide (approve an amount)", who, "other", "refused, yet something changed".into());
        }
    }
}

fn known_member(persona: Option<&Persona>, t: &Target) -> bool {
    persona.is_some_and(|p| !p.roles_in(&t.tenant).is_empty())
}

/// Signing in and out: anyone may; a wrong password reads the same for a known and an unknown email.
pub async fn sessions(app: &TestApp, worlds: &Worlds, found: &mut Findings) {
    let browser = app.browser_from(40);
    let (status, body) = call(app, &browser, "login", &args("login", &worlds.ghost, 0)).await;
    found.cells += 1;
    if let Some(why) = judge(true, false, false, status, &body) {
        found.fail("login", "anonymous", "none", why);
    }
    let (status, body) = call(app, &browser, "logout", &[]).await;
    found.cells += 1;
    if let Some(why) = judge(true, false, false, status, &body) {
        found.fail("logout", "admin", "none", why);
    }
    let known = call(
        app,
        &app.browser_from(41),
        "login",
        &[("email", "gus-globex@matrix.test".into()), ("password", "wrong".into())],
    )
    .await;
    let unknown = call(
        app,
        &app.browser_from(42),
        "login",
        &[("email", "nobody@matrix.test".into()), ("password", "wrong".into())],
    )
    .await;
    found.cells += 2;
    if known != unknown {
        found.fail(
            "login",
            "anonymous",
            "other",
            format!("a known email reads unlike an unknown one: {known:?} / {unknown:?}"),
        );
    }
}

/// The refusal a page shows in place of an object the viewer may not see (or that does not exist).
const NO_ACCESS: &str = "You do not have access to this.";

/// Pages, their ids filled in with each target's. A page of one object shows it when its rule allows,
/// and otherwise the same refusal for another tenant's object as for a missing one.
pub async fn pages(app: &TestApp, worlds: &Worlds, viewers: &[Viewer], found: &mut Findings) {
    let routes = leptos_axum::generate_route_list(app::App);
    for route in routes.iter().map(|r| r.path().to_string()) {
        let section = rules::page(&route);
        let object = route.contains("{id}") || route.contains(":id");
        for (persona, browser) in viewers {
            let who = persona.map_or("anonymous", |p| p.name);
            let opens =
                section.is_none_or(|roles| persona.is_some_and(|p| p.all_roles().iter().any(|r| roles.contains(r))));
            let mut refused = Vec::new();
            for t in [&worlds.own.base, &worlds.other.base, &worlds.ghost] {
                let id = if route.starts_with("/agents") {
                    &t.agent
                } else if route.starts_with("/history") {
                    &t.decided
                } else {
                    &t.held
                };
                let path = route.replace(":id", id).replace("{id}", id);
                let answer = browser.get(app.url(&path)).send().await.expect("page");
                let status = answer.status();
                let body = answer.text().await.unwrap_or_default();
                found.cells += 1;
                let tenant = t.exists().then_some(t.tenant.as_str());
                let shows = opens
                    && (!object || rules::may(rules::page_object(&route), *persona, tenant, &t.owner, &t.recipient));
                let wrong = match persona {
                    _ if path == "/login" => {
                        (!status.is_success() && !status.is_redirection()).then(|| format!("{status}"))
                    }
                    None => (!status.is_redirection()).then(|| format!("anonymous not sent to sign in: {status}")),
                    Some(_) if !opens => (status != StatusCode::FORBIDDEN).then(|| format!("section opened: {status}")),
                    Some(_) if shows => (!status.is_success() || body.contains(NO_ACCESS))
                        .then(|| format!("refused though allowed: {status}")),
                    Some(_) if !body.contains(NO_ACCESS) => Some(format!("shows an object it may not: {status}")),
                    Some(_) => None,
                };
                if let Some(why) = wrong {
                    found.fail(&route, who, t.label, why);
                }
                // The page names the id it was asked for; nothing else of the other tenant may appear.
                let leaked: Vec<String> =
                    leaks(*persona, &worlds.other.base, &body).into_iter().filter(|m| m != id).collect();
                if !leaked.is_empty() {
                    found.fail(&route, who, t.label, format!("shows the other tenant's {leaked:?}"));
                }
                if opens && !shows && t.label != "own" {
                    let main = body
                        .split("<h1")
                        .nth(1)
                        .unwrap_or_default()
                        .split("</p>")
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    refused.push(t.blank(&main));
                }
                if !object {
                    break;
                }
            }
            if let [a, b] = &refused[..] {
                if a != b {
                    found.fail(&route, who, "other", format!("reads unlike a missing one: {a} / {b}"));
                }
            }
        }
    }
}

/// The live queue and the exports (`countersign::web::console_routes`).
pub async fn console_routes(app: &TestApp, worlds: &Worlds, viewers: &[Viewer], found: &mut Findings) {
    let paths = countersign::web::console_route_paths();
    assert!(paths.len() >= 3, "{paths:?}");
    for path in paths {
        let rule = rules::console_route(path);
        for (persona, browser) in viewers {
            let who = persona.map_or("anonymous", |p| p.name);
            let mut refused = Vec::new();
            for t in [&worlds.own.base, &worlds.other.base, &worlds.ghost] {
                let targeted = matches!(rule, Rule::In(_));
                let tenant = t.exists().then_some(t.tenant.as_str());
                let may = rules::may(rule, *persona, if targeted { tenant } else { None }, "", "");
                let url = if targeted { format!("{path}?tenant={}&format=csv", t.tenant) } else { path.to_string() };
                let before = snapshot(app, worlds, &worlds.other.base).await;
                let answer = browser.get(app.url(&url)).send().await.expect("console route");
                let status = answer.status();
                // The stream never ends by itself: its status is the answer.
                let body =
                    if path == "/queue/events" { String::new() } else { answer.text().await.unwrap_or_default() };
                found.cells += 1;
                let unknown = rules::names_tenant(path) && rules::role_anywhere(rule, *persona);
                let signin = persona.is_none() && status.is_redirection(); // the guard sends them to sign in
                if let Some(why) = judge(may, persona.is_none(), unknown, status, &body).filter(|_| !signin) {
                    found.fail(path, who, t.label, why);
                }
                let leaked = leaks(*persona, &worlds.other.base, &body);
                if !leaked.is_empty() {
                    found.fail(path, who, t.label, format!("answered with the other tenant's {leaked:?}"));
                }
                if !may {
                    if snapshot(app, worlds, &worlds.other.base).await != before {
                        found.fail(path, who, t.label, "refused, yet something changed".into());
                    }
                    if t.label != "own" {
                        refused.push((status, t.blank(&body)));
                    }
                }
                if !targeted {
                    break;
                }
            }
            if let [a, b] = &refused[..] {
                if a != b {
                    found.fail(path, who, "other", format!("reads unlike a missing tenant: {a:?} / {b:?}"));
                }
            }
        }
    }
}
