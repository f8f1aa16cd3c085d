//! Admins managing people: one-time passwords, roles and memberships within their own tenants, the last
//! admin, disabling (which ends sessions at once) and the orphaned agents each of its causes leaves.

use crate::harness::{session_cookie, Backend, TestApp, PASSWORD};
use crate::lifecycle::principal;
use countersign::domain::{AgentState, Role};
use countersign::service::{By, ServiceError};
use reqwest::StatusCode;
use uuid::Uuid;

crate::on_both_stores!(
    an_added_person_must_change_the_one_time_password,
    admins_reach_only_their_tenants_and_keep_one_admin,
    disabling_ends_sessions_and_orphans_by_each_cause,
    the_console_forms_go_through_the_same_rules,
    a_form_posted_from_a_page_comes_back_saying_what_became_of_it,
);

async fn an_added_person_must_change_the_one_time_password(backend: Backend) {
    let app = TestApp::start(backend).await;
    let acme = app.tenant("acme").await;
    let admin = app.person("ada@example.com", &[Role::Admin], &["acme"]).await;
    let ada = principal(admin, &[Role::Admin], &[acme]);
    let one_time = "temporary password 1";
    let tenants = ["acme".to_string()];
    let added = app.service.add_person(
        By::Person(&ada),
        "bo@example.com",
        "Bo",
        one_time.into(),
        &[Role::Owner, Role::Supervisor],
        &tenants,
    );
    added.await.expect("add");
    let other = ["elsewhere".to_string()];
    let outside =
        app.service.add_person(By::Person(&ada), "cy@example.com", "Cy", one_time.into(), &[Role::Owner], &other);
    assert!(outside.await.is_err(), "only into the admin's tenants");
    let bo = app.browser();
    assert!(session_cookie(&app.sign_in(&bo, "bo@example.com", one_time).await).is_some());
    let viewer: serde_json::Value = app.call(&bo, "viewer", &[]).await.json().await.expect("json");
    assert_eq!(viewer["must_change_password"], true);
    let queue = bo.get(app.url("/queue")).send().await.expect("queue");
    assert_eq!(queue.status(), StatusCode::SEE_OTHER, "every page leads to the password form first");
    assert_eq!(queue.headers()["location"], "/account");
    let refused = app.call(&bo, "agents/list", &[]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "server functions wait for the new password");
    let form = [("current", one_time), ("new", PASSWORD), ("confirm", PASSWORD)];
    assert!(app.call(&bo, "account/password", &form).await.status().is_success());
    let viewer: serde_json::Value = app.call(&bo, "viewer", &[]).await.json().await.expect("json");
    assert_eq!(viewer["must_change_password"], false);
    assert_eq!(bo.get(app.url("/queue")).send().await.expect("queue").status(), StatusCode::OK);
    assert_eq!(app.call(&bo, "agents/list", &[]).await.status(), StatusCode::OK);
    app.stop().await;
}

async fn admins_reach_only_their_tenants_and_keep_one_admin(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (acme, globex) = (app.tenant("acme").await, app.tenant("globex").await);
    let ada_id = app.person("ada@example.com", &[Role::Admin], &["acme"]).await;
    let gus = app.person("gus@example.com", &[Role::Supervisor], &["globex"]).await;
    let both = app.person("bo@example.com", &[Role::Supervisor], &["acme", "globex"]).await;
    let ada = principal(ada_id, &[Role::Admin], &[acme]);
    let svc = &app.service;
    let foreign = svc.edit_person(By::Person(&ada), gus, &[(acme, vec![Role::Auditor])]).await;
    assert!(matches!(foreign, Err(ServiceError::Forbidden)), "a person of another tenant is out of reach");
    assert!(matches!(svc.set_person_active(By::Person(&ada), gus, false).await, Err(ServiceError::Forbidden)));
    // Roles are per tenant: ada sets bo's roles in acme; bo's roles in globex are globex's admins' to set.
    svc.edit_person(By::Person(&ada), both, &[(acme, vec![Role::Auditor])]).await.expect("roles in acme");
    let bo = svc.person_by_email("bo@example.com").await.expect("bo");
    assert_eq!(bo.memberships.roles_in(acme), [Role::Auditor]);
    assert_eq!(bo.memberships.roles_in(globex), [Role::Supervisor], "globex roles untouched");
    let into_globex = svc.edit_person(By::Person(&ada), both, &[(globex, vec![Role::Admin])]).await;
    assert!(into_globex.is_err(), "not in a tenant the admin does not administer");
    svc.edit_person(By::Person(&ada), both, &[]).await.expect("remove from acme");
    let bo = svc.person_by_email("bo@example.com").await.expect("bo");
    assert_eq!(bo.tenants.iter().map(|t| t.id).collect::<Vec<_>>(), vec![globex], "globex membership kept");
    let demote = svc.edit_person(By::Person(&ada), ada_id, &[(acme, vec![Role::Auditor])]).await;
    assert!(demote.is_err(), "nobody removes the last admin");
    assert!(svc.set_person_active(By::Person(&ada), ada_id, false).await.is_err(), "nor disables it");
    let supervisor = principal(Uuid::now_v7(), &[Role::Supervisor], &[acme]);
    let by_supervisor =
        svc.add_person(By::Person(&supervisor), "x@example.com", "X", PASSWORD.into(), &[Role::Owner], &[]);
    assert!(matches!(by_supervisor.await, Err(ServiceError::Forbidden)), "admins only");
    let tenant = svc.add_tenant(By::Person(&ada), "initech", "Initech").await.expect("tenant");
    let ada_now = svc.person_by_email("ada@example.com").await.expect("ada");
    assert!(ada_now.tenants.iter().any(|t| t.id == tenant.id), "the admin joins the tenant they add");
    app.stop().await;
}

async fn disabling_ends_sessions_and_orphans_by_each_cause(backend: Backend) {
    let app = TestApp::start(backend).await;
    let acme = app.tenant("acme").await;
    app.tenant("globex").await;
    app.person("ada@example.com", &[Role::Admin], &["acme", "globex"]).await;
    let mut owners = Vec::new();
    for n in 0..3 {
        let email = format!("owner{n}@example.com");
        let id = app.person(&email, &[Role::Owner], &["acme"]).await;
        let (agent, _) = app.agent("acme", &email, &["refund:100.00EUR"]).await;
        owners.push((id, email, agent));
    }
    let browser = app.browser();
    app.sign_in(&browser, &owners[0].1, PASSWORD).await;
    assert_eq!(browser.get(app.url("/agents")).send().await.expect("page").status(), StatusCode::OK);
    let svc = &app.service;
    svc.set_person_active(By::Operator, owners[0].0, false).await.expect("disable");
    let after = browser.get(app.url("/agents")).send().await.expect("page");
    assert_eq!(after.status(), StatusCode::SEE_OTHER, "their session ended at once");
    svc.edit_person(By::Operator, owners[1].0, &[(acme, vec![Role::Supervisor])]).await.expect("lose the owner role");
    svc.edit_person(By::Operator, owners[2].0, &[]).await.expect("leave the tenant");
    for (_, _, agent) in &owners {
        let stored = app.store.agent(*agent).await.expect("read").expect("agent");
        assert!(stored.life.orphaned_at.is_some(), "orphaned at once");
    }
    let kinds = app.audit_kinds().await;
    assert_eq!(kinds.iter().filter(|k| *k == "agent.orphaned").count(), 3);
    // An admin hands one to a new owner, who accepts; the others are suspended after the grace period.
    let heir = app.person("heir@example.com", &[Role::Owner], &["acme"]).await;
    let proposal = svc.propose_handover(By::Operator, owners[0].2, "heir@example.com").await.expect("propose");
    let heir_user = svc.person_by_email("heir@example.com").await.expect("heir");
    svc.answer_handover(&heir_user, proposal.id, true).await.expect("accept");
    let adopted = app.store.agent(owners[0].2).await.expect("read").expect("agent");
    assert_eq!((adopted.owner_id, adopted.life.orphaned_at), (heir, None));
    app.clock.advance(time::Duration::hours(71));
    assert_eq!(svc.lifecycle_sweep().await.expect("sweep").suspended_as_orphans, 0);
    app.clock.advance(time::Duration::hours(2));
    assert_eq!(svc.lifecycle_sweep().await.expect("sweep").suspended_as_orphans, 2);
    for (_, _, agent) in &owners[1..] {
        assert_eq!(app.store.agent(*agent).await.expect("read").expect("agent").state, AgentState::Suspended);
    }
    svc.set_person_active(By::Operator, owners[0].0, true).await.expect("re-enable");
    app.stop().await;
}

/// The server functions behind the forms, as a browser posts them (checkbox lists as `roles[]`).
async fn the_console_forms_go_through_the_same_rules(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    app.person("ada@example.com", &[Role::Admin], &["acme"]).await;
    app.person("olu@example.com", &[Role::Owner], &["acme"]).await;
    app.person("sam@example.com", &[Role::Supervisor, Role::Owner], &["acme"]).await;
    let (agent, _) = app.agent("acme", "olu@example.com", &["refund:100.00EUR"]).await;
    let agent = agent.to_string();
    let ada = app.browser();
    app.sign_in(&ada, "ada@example.com", PASSWORD).await;
    let form = [
        ("email", "new@example.com"),
        ("name", "New Person"),
        ("roles[]", "owner"),
        ("roles[]", "supervisor"),
        ("tenants[]", "acme"),
        ("password", "one time password!"),
    ];
    assert!(app.call(&ada, "people/add", &form).await.status().is_success());
    let added = app.service.person_by_email("new@example.com").await.expect("added");
    assert_eq!((added.roles, added.must_change_password), (vec![Role::Supervisor, Role::Owner], true));
    let listed: serde_json::Value = app.call(&ada, "people/admin", &[]).await.json().await.expect("json");
    assert_eq!(listed["people"].as_array().map(Vec::len), Some(4));
    // A supervisor who owns other agents forges a suspension: refused on the server.
    let sam = app.browser();
    app.sign_in(&sam, "sam@example.com", PASSWORD).await;
    let forged = [("agent", agent.as_str()), ("change", "suspend"), ("reason", "just because")];
    assert_eq!(app.call(&sam, "agents/state", &forged).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.call(&sam, "people/admin", &[]).await.status(), StatusCode::FORBIDDEN);
    // The owner suspends, then retires with the name typed.
    let olu = app.browser();
    app.sign_in(&olu, "olu@example.com", PASSWORD).await;
    assert!(app.call(&olu, "agents/state", &forged).await.status().is_success());
    let name = app.store.agent(Uuid::parse_str(&agent).expect("id")).await.expect("read").expect("agent").name;
    let retire = [("agent", agent.as_str()), ("change", "retire"), ("reason", "replaced"), ("confirm", "wrong")];
    assert_eq!(app.call(&olu, "agents/state", &retire).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let retire = [("agent", agent.as_str()), ("change", "retire"), ("reason", "replaced"), ("confirm", name.as_str())];
    assert!(app.call(&olu, "agents/state", &retire).await.status().is_success());
    let detail: serde_json::Value = app.call(&olu, "agents/get", &[("id", &agent)]).await.json().await.expect("json");
    assert_eq!(detail["agent"]["state"], "retired");
    assert_eq!(detail["life"]["state_reason"], "replaced");
    let whats: Vec<&str> =
        detail["timeline"].as_array().into_iter().flatten().filter_map(|e| e["what"].as_str()).collect();
    assert!(whats.starts_with(&["Retired", "Suspended"]) && whats.contains(&"Registered"), "{whats:?}");
    app.stop().await;
}

/// The console's forms are plain posts: the server answers with a redirect back to the page, marked
/// `done=<function>` after a success (the page says "Saved." from it) and carrying the error otherwise.
async fn a_form_posted_from_a_page_comes_back_saying_what_became_of_it(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    app.person("ada@example.com", &[Role::Admin], &["acme"]).await;
    let browser = app.browser();
    assert!(app.sign_in(&browser, "ada@example.com", PASSWORD).await.status().is_success());
    let post = |form: &'static [(&'static str, &'static str)], back: &str| {
        browser
            .post(app.url("/api/tenants/add"))
            .header("accept", "text/html")
            .header("referer", app.url(back))
            .form(form)
            .send()
    };
    let location = |r: &reqwest::Response| r.headers()["location"].to_str().unwrap_or_default().to_owned();

    let added = post(&[("slug", "globex"), ("name", "Globex")], "/people?done=people%2Fedit").await.expect("post");
    assert_eq!(added.status(), StatusCode::FOUND);
    assert_eq!(location(&added), app.url("/people?done=tenants%2Fadd"), "the old mark is replaced");

    let refused =
        post(&[("slug", "globex"), ("name", "Globex again")], "/people?done=tenants%2Fadd").await.expect("post");
    assert_eq!(refused.status(), StatusCode::FOUND);
    let back = location(&refused);
    assert!(back.contains("__err=") && back.contains("__path=%2Fapi%2Ftenants%2Fadd"), "{back}");
    assert!(!back.contains("done="), "a refusal is not marked done: {back}");

    // A call from an island's code gets its answer, not a redirect.
    let called = app.call(&browser, "tenants/add", &[("slug", "initech"), ("name", "Initech")]).await;
    assert!(called.status().is_success());
    assert!(called.headers().get("location").is_none());
    app.stop().await;
}
