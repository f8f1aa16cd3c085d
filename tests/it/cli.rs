//! The command line, run as a user runs it, against a database of each kind.

use crate::harness::{Backend, TestDb};
use std::io::Write;
use std::process::{Command, Output, Stdio};

crate::on_both_stores!(
    signed_checkpoints_catch_removed_events,
    cli_registers_agents_and_mints_credentials,
    cli_adds_people_and_verifies_the_chain,
    cli_names_tampering_and_fails,
    cli_refuses_bad_arguments,
    cli_moves_an_agent_through_its_life_with_the_actors_authority
);

pub fn countersign(db: &TestDb, args: &[&str], stdin: &str) -> Output {
    countersign_with(db, args, stdin, &[])
}

/// `countersign` with more settings in `env`, as an operator runs it with the servers' configuration.
pub fn countersign_with(db: &TestDb, args: &[&str], stdin: &str, env: &[(&str, String)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_countersign"))
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("COUNTERSIGN_DATABASE_URL", &db.url)
        .env("COUNTERSIGN_SECRET_KEY_FILE", db.key_file())
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run countersign");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).expect("stdin");
    }
    child.wait_with_output().expect("wait")
}

/// Tenant `acme` with its owner `olu@example.com`, made through the command line.
pub fn tenant_with_owner(db: &TestDb) {
    assert!(countersign(db, &["tenant", "add", "--slug", "acme", "--name", "Acme"], "").status.success());
    let owner = ["user", "add", "--email", "olu@example.com", "--name", "Olu", "--role", "owner", "--tenant", "acme"];
    assert!(countersign(db, &owner, "a long enough password\n").status.success());
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn cli_adds_people_and_verifies_the_chain(backend: Backend) {
    let db = TestDb::create(&backend).await;
    let migrated = countersign(&db, &["migrate"], "");
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));
    let tenant = countersign(&db, &["tenant", "add", "--slug", "acme", "--name", "Acme Retail"], "");
    assert!(tenant.status.success(), "{}", text(&tenant.stderr));
    let args = [
        "user",
        "add",
        "--email",
        "ada@example.com",
        "--name",
        "Ada",
        "--role",
        "admin",
        "--role",
        "auditor",
        "--tenant",
        "acme",
    ];
    let user = countersign(&db, &args, "a long enough password\n");
    assert!(user.status.success(), "{}", text(&user.stderr));
    assert!(uuid::Uuid::parse_str(text(&user.stdout).trim()).is_ok(), "prints the new id: {}", text(&user.stdout));
    let secret_free = format!("{}{}", text(&user.stdout), text(&user.stderr));
    assert!(!secret_free.contains("a long enough password"), "the password is never echoed");

    let verify = countersign(&db, &["audit", "verify"], "");
    assert!(verify.status.success());
    assert_eq!(
        text(&verify.stdout).lines().collect::<Vec<_>>(),
        [
            "audit chain intact: 2 events verified, 0 signed checkpoints agree",
            "every held action and vote agrees with its events"
        ]
    );
    db.drop().await;
}

async fn cli_names_tampering_and_fails(backend: Backend) {
    let db = TestDb::create(&backend).await;
    for slug in ["one", "two", "three"] {
        assert!(countersign(&db, &["tenant", "add", "--slug", slug, "--name", slug], "").status.success());
    }
    let guards = match backend {
        Backend::Sqlite => "DROP TRIGGER audit_events_no_update;",
        Backend::Postgres(_) => "DROP TRIGGER audit_events_append_only ON audit_events;",
    };
    db.execute(&format!("{guards} UPDATE audit_events SET actor = 'user:someone-else' WHERE seq = 2;")).await;
    let verify = countersign(&db, &["audit", "verify"], "");
    assert!(!verify.status.success());
    assert!(text(&verify.stderr).contains("broken at event 2"), "{}", text(&verify.stderr));
    db.drop().await;
}

async fn cli_refuses_bad_arguments(backend: Backend) {
    let db = TestDb::create(&backend).await;
    let short =
        countersign(&db, &["user", "add", "--email", "a@example.com", "--name", "A", "--role", "owner"], "short\n");
    assert!(!short.status.success());
    let message = text(&short.stderr);
    assert_eq!(message.trim().lines().count(), 1, "one clear line: {message}");
    assert!(message.contains("12 characters"), "{message}");

    let role = countersign(&db, &["user", "add", "--email", "a@example.com", "--name", "A", "--role", "root"], "");
    assert!(!role.status.success());
    assert!(text(&role.stderr).contains("unknown role \"root\""), "{}", text(&role.stderr));

    let duplicate = countersign(&db, &["tenant", "add", "--slug", "acme", "--name", "A"], "");
    assert!(duplicate.status.success());
    let again = countersign(&db, &["tenant", "add", "--slug", "acme", "--name", "A"], "");
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("tenant acme already exists"), "{}", text(&again.stderr));
    db.drop().await;
}

async fn cli_registers_agents_and_mints_credentials(backend: Backend) {
    let db = TestDb::create(&backend).await;
    tenant_with_owner(&db);
    let add = [
        "agent",
        "add",
        "--tenant",
        "acme",
        "--name",
        "bot",
        "--owner",
        "olu@example.com",
        "--allow",
        "refund:500.00EUR",
        "--allow",
        "password_reset",
        "--webhook-url",
        "https://agent.example.com/hook",
    ];
    let added = countersign(&db, &add, "");
    assert!(added.status.success(), "{}", text(&added.stderr));
    let out = text(&added.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(uuid::Uuid::parse_str(lines[0]).is_ok());
    assert!(lines[1].starts_with("whsec_"));

    let minted = countersign(&db, &["agent", "credential", "--agent", lines[0], "--ttl", "2h"], "");
    assert!(minted.status.success(), "{}", text(&minted.stderr));
    let secret = text(&minted.stdout);
    assert_eq!(secret.lines().count(), 1);
    assert!(secret.starts_with("csa_"));

    let bad = countersign(
        &db,
        &["agent", "add", "--tenant", "acme", "--name", "bot2", "--owner", "olu@example.com", "--allow", "refund:500"],
        "",
    );
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("is not a limit such as 500.00EUR"), "{}", text(&bad.stderr));
    let too_long = countersign(&db, &["agent", "credential", "--agent", lines[0], "--ttl", "60d"], "");
    assert!(!too_long.status.success());
    assert!(text(&too_long.stderr).contains("at most 30 days"));
    db.drop().await;
}

async fn cli_moves_an_agent_through_its_life_with_the_actors_authority(backend: Backend) {
    let db = TestDb::create(&backend).await;
    assert!(countersign(&db, &["tenant", "add", "--slug", "acme", "--name", "Acme"], "").status.success());
    for (email, role) in [("olu@example.com", "owner"), ("ola@example.com", "owner"), ("ada@example.com", "admin")] {
        let add = ["user", "add", "--email", email, "--name", "Someone", "--role", role, "--tenant", "acme"];
        assert!(countersign(&db, &add, "a long enough password\n").status.success());
    }
    let add = ["agent", "add", "--tenant", "acme", "--name", "bot", "--owner", "olu@example.com", "--allow", "refund"];
    let added = countersign(&db, &add, "");
    let id = text(&added.stdout).lines().next().unwrap_or_default().to_string();
    let life = |verb: &str, actor: &str| {
        let args = ["agent", verb, "--agent", id.as_str(), "--reason", "testing the CLI", "--actor", actor];
        countersign(&db, &args, "")
    };
    let refused = life("suspend", "ola@example.com");
    assert!(!refused.status.success(), "another owner may not suspend it");
    assert!(text(&refused.stderr).contains("not allowed"), "{}", text(&refused.stderr));
    let suspended = life("suspend", "olu@example.com");
    assert!(suspended.status.success(), "{}", text(&suspended.stderr));
    assert!(text(&suspended.stdout).contains("bot is suspended"));
    assert!(!life("suspend", "olu@example.com").status.success(), "already suspended");
    assert!(life("resume", "ada@example.com").status.success(), "an admin of the tenant may");
    let handed = countersign(&db, &["agent", "hand-over", "--agent", &id, "--to", "ola@example.com"], "");
    assert!(handed.status.success(), "{}", text(&handed.stderr));
    assert!(uuid::Uuid::parse_str(text(&handed.stdout).trim()).is_ok(), "prints the proposal's id");
    let disable = countersign(&db, &["user", "disable", "--email", "ada@example.com"], "");
    assert!(!disable.status.success(), "the last admin stays: {}", text(&disable.stdout));
    assert!(countersign(&db, &["user", "disable", "--email", "olu@example.com"], "").status.success());
    assert!(countersign(&db, &["user", "enable", "--email", "olu@example.com"], "").status.success());
    // Roles are set per tenant; the person's other tenants keep theirs.
    assert!(countersign(&db, &["tenant", "add", "--slug", "globex", "--name", "Globex"], "").status.success());
    let add = [
        "user",
        "add",
        "--email",
        "mo@example.com",
        "--name",
        "Mo",
        "--role",
        "auditor",
        "--tenant",
        "acme",
        "--tenant",
        "globex",
    ];
    assert!(countersign(&db, &add, "a long enough password\n").status.success());
    let set =
        ["user", "roles", "--email", "mo@example.com", "--tenant", "acme", "--role", "supervisor", "--role", "owner"];
    let set = countersign(&db, &set, "");
    assert!(set.status.success(), "{}", text(&set.stderr));
    assert!(text(&set.stdout).contains("mo@example.com in acme: supervisor, owner"), "{}", text(&set.stdout));
    let by_ada = [
        "user",
        "roles",
        "--email",
        "mo@example.com",
        "--tenant",
        "globex",
        "--role",
        "admin",
        "--actor",
        "ada@example.com",
    ];
    assert!(!countersign(&db, &by_ada, "").status.success(), "ada administers acme only");
    // A disabled person cannot act through --actor: refused, naming why, and nothing changes.
    let add = ["user", "add", "--email", "ex@example.com", "--name", "Ex", "--role", "admin", "--tenant", "acme"];
    assert!(countersign(&db, &add, "a long enough password\n").status.success());
    assert!(countersign(&db, &["user", "disable", "--email", "ex@example.com"], "").status.success());
    let before = countersign(&db, &["audit", "verify"], "");
    let by_disabled = life("suspend", "ex@example.com");
    assert!(!by_disabled.status.success(), "a disabled person acts on nothing");
    assert!(text(&by_disabled.stderr).contains("ex@example.com is disabled"), "{}", text(&by_disabled.stderr));
    let enable_self = ["user", "enable", "--email", "ex@example.com", "--actor", "ex@example.com"];
    assert!(!countersign(&db, &enable_self, "").status.success(), "nor re-enables themselves");
    assert_eq!(text(&countersign(&db, &["audit", "verify"], "").stdout), text(&before.stdout), "nothing recorded");
    let retired = countersign(&db, &["agent", "retire", "--agent", &id, "--reason", "done with it"], "");
    assert!(retired.status.success(), "{}", text(&retired.stderr));
    assert!(!life("resume", "ada@example.com").status.success(), "retirement is final");
    let verify = countersign(&db, &["audit", "verify"], "");
    assert!(verify.status.success() && text(&verify.stdout).contains("intact"), "{}", text(&verify.stderr));
    db.drop().await;
}

/// Someone who can write the database drops the newest events (and then the checkpoints): the chain alone
/// still verifies, the signed checkpoints do not, in the database nor in the copy exported before.
async fn signed_checkpoints_catch_removed_events(backend: Backend) {
    let db = TestDb::create(&backend).await;
    for slug in ["acme", "globex", "initech"] {
        let added = countersign(&db, &["tenant", "add", "--slug", slug, "--name", slug], "");
        assert!(added.status.success(), "{}", text(&added.stderr));
    }
    let exported = countersign(&db, &["audit", "checkpoints"], "");
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let lines: Vec<serde_json::Value> =
        text(&exported.stdout).lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["seq"], 3);
    assert!(lines[0]["public_key"].as_str().is_some_and(|k| k.len() == 43), "{lines:?}");
    let file = std::env::temp_dir().join(format!("checkpoints-{}.ndjson", uuid::Uuid::now_v7()));
    std::fs::write(&file, &exported.stdout).expect("keep the export");
    let verify = countersign(&db, &["audit", "verify"], "");
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    assert!(text(&verify.stdout).contains("3 events verified, 1 signed checkpoints agree"), "{}", text(&verify.stdout));

    // Whoever does this has the database: the append-only guard goes first.
    let guards = match backend {
        Backend::Sqlite => {
            "DROP TRIGGER IF EXISTS audit_events_no_update; DROP TRIGGER IF EXISTS audit_events_no_delete;"
        }
        Backend::Postgres(_) => "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events;",
    };
    db.try_execute(guards).await.expect("drop the guard");
    db.try_execute("DELETE FROM audit_events WHERE seq = 3").await.expect("drop the newest event");
    let verify = countersign(&db, &["audit", "verify"], "");
    assert!(!verify.status.success());
    assert!(text(&verify.stderr).contains("the newest events were removed"), "{}", text(&verify.stderr));

    db.try_execute("DELETE FROM audit_checkpoints").await.expect("and the checkpoints");
    let path = file.display().to_string();
    let verify = countersign(&db, &["audit", "verify", "--checkpoints", &path], "");
    assert!(!verify.status.success(), "the exported copy still holds the chain to account");
    assert!(text(&verify.stderr).contains("event 3"), "{}", text(&verify.stderr));
    let _ = std::fs::remove_file(file);
    db.drop().await;
}
