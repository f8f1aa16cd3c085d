//! The authorization matrix: every registered server function and every page route, for every role (and no
//! one signed in), aimed at the viewer's own tenant, at another tenant, and at objects that do not exist.
//! Zero unexpected allows: a role outside a function's section is refused; nothing of the other tenant is
//! ever in an answer, nothing of it changes, and aiming at it reads exactly like aiming at nothing.

use crate::api::{example, post};
use crate::harness::{Backend, TestApp, PASSWORD};
use countersign::domain::Role;
use countersign::service::By;
use std::collections::BTreeSet;

crate::on_both_stores!(no_role_reaches_what_it_may_not);

/// Who may call what: the product's rule (README, "What is there"), written out here independently of
/// `src/domain/access.rs` so that loosening the code fails this test.
fn allowed(endpoint: &str) -> Option<&'static [Role]> {
    use Role::*;
    let rule: &'static [Role] = match endpoint {
        "login" | "viewer" | "logout" => return None, // anyone, signed in or not
        "account/password" => &[Admin, Supervisor, Owner, Auditor],
        e if e.starts_with("queue/") => &[Admin, Supervisor],
        e if e.starts_with("history/") => &[Admin, Auditor, Supervisor],
        e if e.starts_with("insights") => &[Admin, Auditor],
        e if e.starts_with("agents/") => &[Admin, Owner],
        e if e.starts_with("audit/") => &[Admin, Auditor],
        "people" | "tenants/add" => &[Admin],
        e if e.starts_with("people/") => &[Admin],
        other => panic!("server function /api/{other} is not in the authorization matrix: add its rule"),
    };
    Some(rule)
}

/// Functions whose arguments name nothing of a tenant (their answers are only checked for leaks).
const UNTARGETED: [&str; 10] = [
    "viewer",
    "agents/list",
    "agents/options",
    "people",
    "people/admin",
    "audit/verify",
    "audit/verify/status",
    "tenants/add",
    "queue/step-up",
    "account/password",
];

/// The pages' rule, by first path segment.
fn page_allowed(path: &str) -> Option<&'static [Role]> {
    use Role::*;
    let first = path.trim_start_matches('/').split('/').next().unwrap_or_default();
    Some(match first {
        "" | "account" | "login" => return None,
        "queue" => &[Admin, Supervisor],
        "history" => &[Admin, Auditor, Supervisor],
        "insights" | "audit" => &[Admin, Auditor],
        "agents" => &[Admin, Owner],
        "people" => &[Admin],
        other => panic!("page /{other} is not in the authorization matrix: add its rule"),
    })
}

/// What a request aims at: the ids and names a form may carry.
#[derive(Clone)]
struct Target {
    tenant: String,
    held: String,
    agent: String,
    credential: String,
    delivery: String,
    handover: String,
    person: String,
    email: String,
}

impl Target {
    /// A form with every argument any server function takes, pointing here.
    fn form(&self) -> Vec<(String, String)> {
        let pairs = [
            ("id", self.held.as_str()),
            ("agent", &self.agent),
            ("credential", &self.credential),
            ("delivery", &self.delivery),
            ("handover", &self.handover),
            ("person", &self.person),
            ("tenant", &self.tenant),
            ("to", &self.email),
            ("sponsor", &self.email),
            ("owner", &self.email),
            ("email", &self.email),
            ("sample", &self.held),
            ("filter[tenant]", &self.tenant),
            ("filter[agent]", &self.agent),
            ("form[verdict]", "deny"),
            ("form[reason]", "matrix"),
            ("form[amount]", ""),
            ("form[preset]", ""),
            ("take_over", "true"),
            ("accept", "true"),
            ("active", "false"),
            ("change", "retire"),
            ("confirm", "retire"),
            ("reason", "matrix"),
            ("decision", "revoke"),
            ("note", "matrix"),
            ("verdict", "disagree"),
            ("days", "30"),
            ("size", "5"),
            ("ttl", "24h"),
            ("name", "Matrix"),
            ("slug", "matrix-made"),
            ("purpose", "matrix"),
            ("allowances", "refund:1.00EUR"),
            ("webhook_url", ""),
            ("password", "not the password at all"),
        ];
        pairs.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// Replaces this target's values in `text` with placeholders.
    fn blank(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (value, name) in [
            (&self.held, "<held>"),
            (&self.agent, "<agent>"),
            (&self.credential, "<credential>"),
            (&self.delivery, "<delivery>"),
            (&self.handover, "<handover>"),
            (&self.person, "<person>"),
            (&self.email, "<email>"),
            (&self.tenant, "<tenant>"),
        ] {
            out = out.replace(value.as_str(), name);
        }
        out
    }
}

/// A tenant `slug` (made here unless it exists) with one of everything.
async fn world(app: &TestApp, slug: &str) -> Target {
    if app.store.tenant_by_slug(slug).await.expect("tenant").is_none() {
        app.tenant(slug).await;
    }
    let (gina_email, gus_email) = (format!("gina@{slug}.test"), format!("gus@{slug}.test"));
    let gina = app.person(&gina_email, &[Role::Owner, Role::Admin], &[slug]).await;
    app.person(&gus_email, &[Role::Owner], &[slug]).await;
    let draft = countersign::service::AgentDraft {
        tenant: slug.into(),
        name: format!("{slug}-bot"),
        purpose: format!("{slug} purpose"),
        owner_email: gina_email.clone(),
        sponsor_email: None,
        allowances: vec!["refund:500.00EUR".into()],
        webhook_url: Some("http://127.0.0.1:9/hook".into()),
    };
    let (agent, _) = app.service.create_agent(By::Operator, draft).await.expect("agent");
    let (credential, token) =
        app.service.issue_credential(By::Operator, agent.id, time::Duration::hours(1)).await.expect("credential");
    let mut body = example(&format!("{slug}-1"));
    body["case"]["customer"]["id"] = serde_json::json!(format!("cus_{slug}"));
    let held: serde_json::Value = post(app, &token, &body).await.json().await.expect("held");
    let withdrawn: serde_json::Value =
        post(app, &token, &example(&format!("{slug}-2"))).await.json().await.expect("held");
    let gone = reqwest::Client::new()
        .delete(app.url(&format!("/api/v1/held-actions/{}", withdrawn["id"].as_str().unwrap_or_default())));
    assert!(gone.bearer_auth(&token).send().await.expect("withdraw").status().is_success());
    let delivery = app.store.deliveries(agent.id, 10).await.expect("deliveries").pop().expect("a webhook message");
    let handover = app.service.propose_handover(By::Operator, agent.id, &gus_email).await.expect("handover");
    Target {
        tenant: slug.into(),
        held: held["id"].as_str().expect("id").into(),
        agent: agent.id.to_string(),
        credential: credential.id.to_string(),
        delivery: delivery.id.to_string(),
        handover: handover.id.to_string(),
        person: gina.to_string(),
        email: gina_email,
    }
}

/// What must never appear in an answer to someone of another tenant.
fn markers(t: &Target) -> Vec<String> {
    let fixed = [t.tenant.clone(), format!("{} purpose", t.tenant), format!("cus_{}", t.tenant), t.email.clone()];
    let ids = [&t.held, &t.agent, &t.person, &t.delivery, &t.handover, &t.credential].map(|s| s.to_string());
    fixed.into_iter().chain(ids).collect()
}

fn ghost() -> Target {
    let id = || uuid::Uuid::now_v7().to_string();
    Target {
        tenant: "ghost-tenant".into(),
        held: id(),
        agent: id(),
        credential: id(),
        delivery: id(),
        handover: id(),
        person: id(),
        email: "ghost@nowhere.test".into(),
    }
}

/// What the other tenant looks like in the store: its events and its rows' states.
async fn snapshot(app: &TestApp, target: &Target) -> String {
    let events = app.store.audit_chain(0, 100_000).await.expect("audit");
    let tenant = app.store.tenant_by_slug(&target.tenant).await.expect("tenant").expect("exists").id;
    let theirs = events.iter().filter(|e| e.tenant == Some(tenant)).count();
    let agent = app.store.agent(target.agent.parse().expect("uuid")).await.expect("agent").expect("exists");
    let held = app.store.held_action(target.held.parse().expect("uuid")).await.expect("held").expect("exists");
    let gina = app.store.user_by_id(target.person.parse().expect("uuid")).await.expect("user").expect("exists");
    let credentials = app.store.credentials(agent.id).await.expect("credentials");
    format!(
        "{theirs} events; agent {:?} {:?} {:?}; held {:?} {} claim {:?}; gina {} {:?}; credentials {:?}",
        agent.state,
        agent.scope,
        agent.owner_id,
        held.status,
        held.approvals,
        held.claim,
        gina.active,
        gina.roles,
        credentials.iter().map(|c| c.revoked_at.is_some()).collect::<Vec<_>>()
    )
}

async fn no_role_reaches_what_it_may_not(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    let roles = [Role::Admin, Role::Supervisor, Role::Owner, Role::Auditor];
    let mut viewers = vec![(None, app.browser())];
    for role in roles {
        let email = format!("{}@acme.test", role.as_str());
        app.person(&email, &[role], &["acme"]).await;
        let browser = app.browser();
        assert!(app.sign_in(&browser, &email, PASSWORD).await.status().is_success());
        viewers.push((Some(role), browser));
    }
    let own = world(&app, "acme").await;
    let target = world(&app, "globex-secret").await;
    let markers = markers(&target);
    let before = snapshot(&app, &target).await;
    let leaks = |body: &str| markers.iter().filter(|m| body.contains(m.as_str())).cloned().collect::<Vec<_>>();

    let endpoints: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/").to_string())
        .collect();
    assert!(endpoints.len() >= 40, "every server function is registered: {endpoints:?}");
    let mut cells = 0;
    for endpoint in &endpoints {
        let rule = allowed(endpoint);
        for (role, browser) in &viewers {
            if endpoint == "logout" || endpoint == "login" {
                continue; // they change who is signed in, not what anyone may reach
            }
            let may = rule.is_none_or(|roles| role.is_some_and(|r| roles.contains(&r)));
            let who = role.map_or("no one signed in", |r| r.as_str());
            let answer = |t: &Target| {
                let (browser, url, form) = (browser.clone(), app.url(&format!("/api/{endpoint}")), t.form());
                async move {
                    let r = browser.post(url).form(&form).send().await.expect("call");
                    (r.status(), r.text().await.unwrap_or_default())
                }
            };
            let ghost = ghost();
            let (status, body) = answer(&target).await;
            let (ghost_status, ghost_body) = answer(&ghost).await;
            cells += 2;
            if !may {
                assert!(!status.is_success() && !ghost_status.is_success(), "{who} reached /api/{endpoint}: {body}");
                // Nor their own tenant's things (asked only where refused: an allowed call would change them).
                let (own_status, own_body) = answer(&own).await;
                cells += 1;
                assert!(!own_status.is_success(), "{who} reached /api/{endpoint} in their own tenant: {own_body}");
            }
            if status.is_success() {
                assert!(leaks(&body).is_empty(), "{who} /api/{endpoint} answered with the other tenant's data: {body}");
            }
            if UNTARGETED.contains(&endpoint.as_str()) {
                continue; // nothing in the request names a target; the answer may move between two calls
            }
            assert_eq!(
                (status, target.blank(&body)),
                (ghost_status, ghost.blank(&ghost_body)),
                "{who} /api/{endpoint}: aiming at the other tenant must read like aiming at nothing"
            );
        }
    }

    // Pages, with their parameters filled in with the other tenant's ids.
    let routes = leptos_axum::generate_route_list(app::App);
    for route in routes.iter().map(|r| r.path().to_string()) {
        let path = route.replace(":id", &target.held).replace("*any", "x");
        let rule = page_allowed(&path);
        for (role, browser) in &viewers {
            let may = rule.is_none_or(|roles| role.is_some_and(|r| roles.contains(&r)));
            let answer = browser.get(app.url(&path)).send().await.expect("page");
            let status = answer.status();
            let body = answer.text().await.unwrap_or_default();
            cells += 1;
            let who = role.map_or("no one signed in", |r| r.as_str());
            if role.is_none() && path != "/login" {
                assert!(status.is_redirection(), "{who} opened {path}: {status}");
            } else if !may {
                assert_eq!(status, reqwest::StatusCode::FORBIDDEN, "{who} opened {path}");
            }
            assert!(leaks(&body).is_empty(), "{who} {path} shows the other tenant's data: {:?}", leaks(&body));
        }
    }
    assert_eq!(snapshot(&app, &target).await, before, "nothing of the other tenant changed");
    assert!(cells > 400, "{cells} cells");
    app.stop().await;
}
