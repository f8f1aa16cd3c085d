//! The server under test, as its own process (so its memory and CPU are its own), on a free port.

use anyhow::{bail, Context};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct Running {
    pub child: Child,
    pub url: String,
    pub pid: u32,
}

/// Starts `countersign serve` on `database_url` and waits until it listens.
pub async fn start(database_url: &str) -> anyhow::Result<Running> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg("serve")
        .env("COUNTERSIGN_DATABASE_URL", database_url)
        .env("COUNTERSIGN_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the server")?;
    let pid = child.id().context("the server has no pid")?;
    let mut lines = BufReader::new(child.stdout.take().context("no server output")?).lines();
    let url = loop {
        match lines.next_line().await? {
            Some(line) => {
                if let Some(url) = line.split("listening on ").nth(1) {
                    break url.trim().to_string();
                }
            }
            None => bail!("the server exited before listening"),
        }
    };
    // Keep draining its output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Running { child, url, pid })
}
