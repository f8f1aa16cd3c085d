//! Nothing acknowledged is lost: the server is killed (SIGKILL, no shutdown) 20 times while agents submit at
//! load; every held action it answered 2xx for is there afterwards, and the audit chain verifies.

use crate::api::example;
use crate::cli::{countersign, tenant_with_owner, text};
use crate::harness::{Backend, TestDb};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

crate::on_both_stores!(acknowledged_submissions_survive_sigkill);

const CYCLES: usize = 20;
const CLIENTS: usize = 16;

/// `countersign serve` on `db` and a free port, with no per-agent limits: the child and its base URL.
async fn serve(db: &TestDb) -> (Child, String) {
    serve_with(db, &db.url, &[]).await
}

/// `serve` reaching the database at `database_url` (a proxy, say), with more settings in `env`.
pub async fn serve_with(db: &TestDb, database_url: &str, env: &[(&str, String)]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_countersign"))
        .arg("serve")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("COUNTERSIGN_DATABASE_URL", database_url)
        .env("COUNTERSIGN_SECRET_KEY_FILE", db.key_file())
        .env("COUNTERSIGN_LISTEN", "127.0.0.1:0")
        .env("COUNTERSIGN_INTAKE_RATE_PER_AGENT", "0")
        .env("COUNTERSIGN_INTAKE_CONCURRENCY_PER_AGENT", "0")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the server");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let base = loop {
        let line = lines.next_line().await.expect("server output").expect("the server exited before listening");
        if let Some(url) = line.split("listening on ").nth(1) {
            break url.trim().to_string();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, base)
}

/// Tenant `acme`, its owner and agent `bot` (refunds to 500 EUR), made with the CLI: the agent's id and a credential.
pub fn agent_with_credential(db: &TestDb) -> (String, String) {
    tenant_with_owner(db);
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
    ];
    let agent = countersign(db, &add, "");
    let agent_id = text(&agent.stdout).lines().next().unwrap_or_default().trim().to_string();
    let credential = countersign(db, &["agent", "credential", "--agent", &agent_id], "");
    let token = text(&credential.stdout).trim().to_string();
    assert!(token.starts_with("csa_"), "{}", text(&credential.stderr));
    (agent_id, token)
}

async fn acknowledged_submissions_survive_sigkill(backend: Backend) {
    let db = TestDb::create(&backend).await;
    let (_, token) = agent_with_credential(&db);

    // (idempotency key, id) of every submission answered 2xx.
    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("client");
    for cycle in 0..CYCLES {
        let (mut server, base) = serve(&db).await;
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (client, base, token, acknowledged) =
                    (client.clone(), base.clone(), token.clone(), acknowledged.clone());
                tokio::spawn(async move {
                    for n in 0.. {
                        let key = format!("c{cycle}-{c}-{n}");
                        let sent =
                            client.post(format!("{base}/api/v1/held-actions")).bearer_auth(&token).json(&example(&key));
                        let Ok(answer) = sent.send().await else { break }; // the server is gone
                        if !answer.status().is_success() {
                            continue;
                        }
                        let Ok(body) = answer.json::<serde_json::Value>().await else { break };
                        let id = body["id"].as_str().unwrap_or_default().to_string();
                        acknowledged.lock().expect("lock").push((key, id));
                    }
                })
            })
            .collect();
        // Killed mid-load, at a different moment each cycle.
        tokio::time::sleep(Duration::from_millis(150 + 37 * (cycle as u64 % 7))).await;
        server.start_kill().expect("SIGKILL");
        let _ = server.wait().await;
        for c in clients {
            let _ = c.await;
        }
    }

    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(acknowledged.len() > CYCLES * 10, "the load was real: {} acknowledged", acknowledged.len());
    let (mut server, base) = serve(&db).await;
    for (key, id) in &acknowledged {
        let read = client.get(format!("{base}/api/v1/held-actions/{id}")).bearer_auth(&token).send().await;
        assert_eq!(read.expect("read").status(), reqwest::StatusCode::OK, "acknowledged {key} ({id}) was lost");
    }
    // The same key again is the same held action, not a second one.
    let (key, id) = &acknowledged[acknowledged.len() / 2];
    let again = client.post(format!("{base}/api/v1/held-actions")).bearer_auth(&token).json(&example(key)).send().await;
    let again: serde_json::Value = again.expect("replay").json().await.expect("json");
    assert_eq!(again["id"].as_str(), Some(id.as_str()));
    server.start_kill().expect("stop");
    let _ = server.wait().await;
    let verify = countersign(&db, &["audit", "verify"], "");
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    db.drop().await;
}
