//! Roles per tenant: existing roles migrate into every membership (nobody gains or loses a right), a role
//! in one tenant grants nothing in another, the console edits roles per tenant, and two admins demoting
//! each other at once leave one admin.

use crate::harness::{Backend, TestApp, TestDb, PASSWORD};
use crate::lifecycle::principal;
use countersign::config::Config;
use countersign::domain::access::authority_over;
use countersign::domain::Role;
use countersign::service::{accounts::memberships_of, By, ServiceError};
use sqlx::migrate::Migrator;
use time::OffsetDateTime;
use uuid::Uuid;

crate::on_both_stores!(
    existing_roles_are_copied_into_every_membership,
    a_role_in_one_tenant_grants_nothing_in_another,
    two_admins_demoting_each_other_at_once_leave_one_admin,
);

/// The schema before roles were per tenant: every migration before 0016.
async fn old_migrator(backend: &Backend) -> Migrator {
    let dir = if matches!(backend, Backend::Sqlite) { "migrations/sqlite" } else { "migrations/postgres" };
    let mut migrator =
        Migrator::new(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)).await.expect("migrations");
    migrator.migrations = migrator.migrations.iter().filter(|m| m.version < 16).cloned().collect::<Vec<_>>().into();
    migrator
}

/// Runs `$body` with `$pool` connected to `$db` for either backend.
macro_rules! with_pool {
    ($backend:expr, $db:expr, |$pool:ident| $body:expr) => {
        match $backend {
            Backend::Sqlite => {
                countersign::store::install_sqlite_allocator();
                let options: sqlx::sqlite::SqliteConnectOptions = $db.url.parse().expect("url");
                let $pool = sqlx::SqlitePool::connect_with(options.create_if_missing(true)).await.expect("connect");
                $body;
                $pool.close().await;
            }
            Backend::Postgres(_) => {
                let $pool = sqlx::PgPool::connect(&$db.url).await.expect("connect");
                $body;
                $pool.close().await;
            }
        }
    };
}

macro_rules! old_rows {
    ($pool:expr, $tenants:expr, $people:expr) => {{
        let now = OffsetDateTime::now_utc();
        for (id, slug) in $tenants {
            sqlx::query("INSERT INTO tenants (id, slug, name, created_at) VALUES ($1, $2, $2, $3)")
                .bind(id)
                .bind(slug)
                .bind(now)
                .execute(&$pool)
                .await
                .expect("tenant");
        }
        for (id, email, roles, tenants) in $people {
            sqlx::query(
                "INSERT INTO users (id, email, display_name, password_hash, created_at) VALUES ($1, $2, $2, 'x', $3)",
            )
            .bind(id)
            .bind(email)
            .bind(now)
            .execute(&$pool)
            .await
            .expect("user");
            for role in roles {
                sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
                    .bind(id)
                    .bind(role.as_str())
                    .execute(&$pool)
                    .await
                    .expect("role");
            }
            for tenant in tenants {
                sqlx::query("INSERT INTO memberships (user_id, tenant_id) VALUES ($1, $2)")
                    .bind(id)
                    .bind(tenant)
                    .execute(&$pool)
                    .await
                    .expect("membership");
            }
        }
    }};
}

async fn existing_roles_are_copied_into_every_membership(backend: Backend) {
    let db = TestDb::create(&backend).await;
    let (acme, globex) = (Uuid::now_v7(), Uuid::now_v7());
    let (ada, owen, sam) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let tenants = [(acme, "acme"), (globex, "globex")];
    let people: [(Uuid, &str, Vec<Role>, Vec<Uuid>); 3] = [
        (ada, "ada@example.com", vec![Role::Admin, Role::Auditor], vec![acme, globex]),
        (owen, "owen@example.com", vec![Role::Owner], vec![acme]),
        (sam, "sam@example.com", vec![Role::Supervisor], vec![]),
    ];
    let migrator = old_migrator(&backend).await;
    with_pool!(&backend, db, |pool| {
        migrator.run(&pool).await.expect("migrate to 0015");
        old_rows!(pool, tenants, people.clone());
    });
    // Opening the store applies the rest.
    let config = Config {
        database_url: db.url.clone(),
        secret_key_file: db.key_file().display().to_string(),
        ..Config::default()
    };
    let store = countersign::server::open_store(&config).await.expect("open and migrate");
    for (id, email, roles, tenants) in &people {
        let user = store.user_by_id(*id).await.expect("read").expect("user");
        assert_eq!(&user.roles, roles, "{email} keeps every role");
        assert_eq!(&user.memberships.tenant_ids(), tenants, "{email} keeps every membership");
        for tenant in tenants {
            assert_eq!(user.memberships.roles_in(*tenant), roles.as_slice(), "{email}: each role in each tenant");
        }
        if tenants.is_empty() {
            assert_eq!(&user.memberships.outside, roles, "{email}, in no tenant, keeps their roles");
        }
    }
    drop(store);
    db.drop().await;
}

async fn a_role_in_one_tenant_grants_nothing_in_another(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (acme, globex) = (app.tenant("acme").await, app.tenant("globex").await);
    let ada = app.person("ada@example.com", &[Role::Admin], &["acme", "globex"]).await;
    app.person("gus@example.com", &[Role::Admin], &["globex"]).await;
    app.person("olu@example.com", &[Role::Owner], &["acme", "globex"]).await;
    let (other, _) = app.agent("globex", "olu@example.com", &["refund:10.00EUR"]).await;
    // Ada stays admin of acme and becomes only an auditor of globex.
    let operator = By::Operator;
    let ada_roles = [(acme, vec![Role::Admin]), (globex, vec![Role::Auditor])];
    app.service.edit_person(operator, ada, &ada_roles).await.expect("per-tenant roles");
    let browser = app.browser();
    assert!(app.sign_in(&browser, "ada@example.com", PASSWORD).await.status().is_success());
    let viewer = app.service.viewer(ada, 0).await.expect("viewer").expect("active");
    let who = countersign::domain::access::Principal { user: ada, memberships: memberships_of(&viewer) };
    let agent = app.store.agent(other).await.expect("read").expect("agent");
    assert_eq!(authority_over(&who, globex, agent.owner_id), None, "no admin of globex");
    let gus = app.service.person_by_email("gus@example.com").await.expect("gus");
    let refused = app.service.edit_person(By::Person(&who), gus.id, &[(globex, vec![Role::Auditor])]).await;
    assert!(matches!(refused, Err(ServiceError::Forbidden)), "{refused:?}");
    let listed: serde_json::Value = app.call(&browser, "people/admin", &[]).await.json().await.expect("json");
    let slugs: Vec<&str> =
        listed["tenants"].as_array().into_iter().flatten().filter_map(|t| t["slug"].as_str()).collect();
    assert_eq!(slugs, ["acme"], "the people page offers only the tenants she administers");
    // The form sets roles per tenant: olu becomes a supervisor in acme, and stays only an owner in globex.
    let olu = app.service.person_by_email("olu@example.com").await.expect("olu");
    let id = olu.id.to_string();
    let form =
        [("person", id.as_str()), ("tenants[]", "acme"), ("roles[]", "acme:owner"), ("roles[]", "acme:supervisor")];
    assert!(app.call(&browser, "people/edit", &form).await.status().is_success());
    let olu = app.service.person_by_email("olu@example.com").await.expect("olu");
    assert_eq!(olu.memberships.roles_in(acme), [Role::Supervisor, Role::Owner]);
    assert_eq!(olu.memberships.roles_in(globex), [Role::Owner]);
    let foreign = [("person", id.as_str()), ("tenants[]", "globex"), ("roles[]", "globex:admin")];
    assert!(app.call(&browser, "people/edit", &foreign).await.status().is_client_error());
    assert_eq!(
        app.service.person_by_email("olu@example.com").await.expect("olu").memberships.roles_in(globex),
        [Role::Owner]
    );
    app.stop().await;
}

async fn two_admins_demoting_each_other_at_once_leave_one_admin(backend: Backend) {
    let app = TestApp::start(backend).await;
    let acme = app.tenant("acme").await;
    for round in 0..3 {
        let (a, b) = (format!("a{round}@example.com"), format!("b{round}@example.com"));
        let a = app.person(&a, &[Role::Admin], &["acme"]).await;
        let b = app.person(&b, &[Role::Admin], &["acme"]).await;
        // Earlier rounds' admins step back first, so a and b are the only admins.
        for user in app.store.users_in(&[acme]).await.expect("users") {
            if user.id != a && user.id != b && user.memberships.has(acme, Role::Admin) {
                app.service
                    .edit_person(By::Operator, user.id, &[(acme, vec![Role::Auditor])])
                    .await
                    .expect("step back");
            }
        }
        let (pa, pb) = (principal(a, &[Role::Admin], &[acme]), principal(b, &[Role::Admin], &[acme]));
        let demote = [(acme, vec![Role::Auditor])];
        let (first, second) = if round == 2 {
            let (x, y) = tokio::join!(
                app.service.set_person_active(By::Person(&pa), b, false),
                app.service.set_person_active(By::Person(&pb), a, false)
            );
            (x, y)
        } else {
            tokio::join!(
                app.service.edit_person(By::Person(&pa), b, &demote),
                app.service.edit_person(By::Person(&pb), a, &demote)
            )
        };
        assert!(first.is_ok() != second.is_ok(), "exactly one wins: {first:?} / {second:?}");
        let refusal = first.err().or(second.err()).map(|e| e.to_string()).unwrap_or_default();
        assert!(refusal.contains("without an admin"), "{refusal}");
        let admins = app.store.users_in(&[acme]).await.expect("users");
        let admins = admins.iter().filter(|u| u.active && u.memberships.has(acme, Role::Admin)).count();
        assert_eq!(admins, 1, "round {round}");
    }
    app.stop().await;
}
