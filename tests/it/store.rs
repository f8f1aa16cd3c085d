//! The store contract: the same behaviour from SQLite and PostgreSQL.

use crate::harness::{Backend, TestApp};
use countersign::domain::audit::Actor;
use countersign::domain::Role;
use countersign::service::ServiceError;
use countersign::store::StoreError;

crate::on_both_stores!(
    people_round_trip_with_roles_and_tenants,
    duplicates_are_conflicts_and_change_nothing,
    bad_input_is_refused_before_the_store,
    concurrent_writers_keep_one_chain,
    migrations_are_applied_and_idempotent,
);

async fn people_round_trip_with_roles_and_tenants(backend: Backend) {
    let app = TestApp::start(backend).await;
    let acme = app.tenant("acme").await;
    app.tenant("globex").await;
    let id = app.person("dana@example.com", &[Role::Owner, Role::Admin], &["acme", "globex"]).await;

    let user = app.store.user_by_email("dana@example.com").await.expect("load").expect("exists");
    assert_eq!(user.id, id);
    assert_eq!(user.roles, [Role::Admin, Role::Owner]);
    assert_eq!(user.tenants.iter().map(|t| t.slug.as_str()).collect::<Vec<_>>(), ["acme", "globex"]);
    assert!(user.active);
    assert!(user.password_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert_eq!(app.store.user_by_id(id).await.expect("load"), Some(user.clone()));

    app.person("erin@example.com", &[Role::Supervisor], &["globex"]).await;
    let in_acme = app.store.users_in(&[acme]).await.expect("list");
    assert_eq!(in_acme.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(), ["dana@example.com"]);
    app.stop().await;
}

async fn duplicates_are_conflicts_and_change_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.tenant("acme").await;
    app.person("dana@example.com", &[Role::Owner], &["acme"]).await;
    let before = app.audit_kinds().await;

    let tenant = app.service.create_tenant(Actor::Cli, "acme", "Again").await;
    assert!(matches!(tenant, Err(ServiceError::Store(StoreError::Conflict(_)))), "{tenant:?}");
    let person = app
        .service
        .create_user(Actor::Cli, "DANA@example.com", "Dana", "long enough password".into(), &[Role::Owner], &[])
        .await;
    assert!(matches!(person, Err(ServiceError::Store(StoreError::Conflict(_)))), "{person:?}");
    assert_eq!(app.audit_kinds().await, before, "a refused change writes no event");
    assert_eq!(app.store.tenants().await.expect("tenants").len(), 1);
    app.stop().await;
}

async fn bad_input_is_refused_before_the_store(backend: Backend) {
    let app = TestApp::start(backend).await;
    // (email, name, password, roles, tenants, expected words in the error)
    type Case<'a> = (&'a str, &'a str, &'a str, &'a [Role], &'a [&'a str], &'a str);
    let cases: [Case; 5] = [
        ("not-an-email", "N", "long enough password", &[Role::Owner], &[], "not an email"),
        ("a@example.com", " ", "long enough password", &[Role::Owner], &[], "name is required"),
        ("a@example.com", "N", "short", &[Role::Owner], &[], "12 characters"),
        ("a@example.com", "N", "long enough password", &[], &[], "at least one role"),
        ("a@example.com", "N", "long enough password", &[Role::Owner], &["nowhere"], "no tenant \"nowhere\""),
    ];
    for (email, name, password, roles, tenants, expected) in cases {
        let tenants: Vec<String> = tenants.iter().map(|t| t.to_string()).collect();
        let err = app
            .service
            .create_user(Actor::Cli, email, name, password.into(), roles, &tenants)
            .await
            .expect_err("refused");
        assert!(err.to_string().contains(expected), "{err} should mention {expected}");
    }
    assert!(app.service.create_tenant(Actor::Cli, "Bad Slug", "x").await.is_err());
    assert!(app.audit_kinds().await.is_empty());
    app.stop().await;
}

async fn concurrent_writers_keep_one_chain(backend: Backend) {
    let app = TestApp::start(backend).await;
    let writers = (0..24).map(|i| {
        let service = app.service.clone();
        tokio::spawn(async move { service.create_tenant(Actor::Cli, &format!("tenant-{i}"), "T").await })
    });
    for w in writers.collect::<Vec<_>>() {
        w.await.expect("join").expect("created");
    }
    assert_eq!(app.service.verify_audit_chain().await.expect("verify"), Ok(24));
    app.stop().await;
}

async fn migrations_are_applied_and_idempotent(backend: Backend) {
    let app = TestApp::start(backend).await;
    assert_eq!(app.store.pending_migrations().await.expect("check"), 0);
    app.store.migrate().await.expect("second run is a no-op");
    app.stop().await;
}
