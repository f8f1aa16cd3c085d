use anyhow::{bail, Context};
use clap::Parser;
use countersign::cli::{AuditCommand, Cli, Command, TenantCommand, UserAdd, UserCommand};
use countersign::config::Config;
use countersign::domain::audit::Actor;
use countersign::domain::clock::SystemClock;
use countersign::service::Service;
use countersign::{demo, server};
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    return_large_blocks_to_the_system();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "countersign=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Each argon2 hash takes a 19 MiB block. glibc raises its mmap threshold after the first such block is freed,
/// so later ones come from per-thread arenas that keep the memory: ~70 MB resident after a few sign-ins.
/// A fixed threshold keeps large blocks on mmap, returned to the system when freed (idle RSS stays ~15 MB).
fn return_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator tuning; called once, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::load(&cli.config).map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    let store = server::open_store(&config).await?;
    let service = Service::new(store.clone(), Arc::new(SystemClock));
    match cli.command {
        Command::Serve { demo } => {
            tracing::info!(database = %config.database_url_redacted(), backend = store.backend(), "database ready");
            if demo {
                demo::seed(&service).await.context("cannot seed the demo data")?;
                println!("{}", demo::banner());
            }
            server::serve(config, store).await?;
        }
        Command::Migrate => println!("migrations applied to {}", config.database_url_redacted()),
        Command::Tenant(TenantCommand::Add { slug, name }) => {
            let tenant = service.create_tenant(Actor::Cli, &slug, &name).await?;
            println!("{}", tenant.id);
        }
        Command::User(UserCommand::Add(add)) => add_user(&service, add).await?,
        Command::Audit(AuditCommand::Verify) => match service.verify_audit_chain().await? {
            Ok(count) => println!("audit chain intact: {count} events verified"),
            Err(broken) => {
                eprintln!("{broken}");
                return Ok(ExitCode::FAILURE);
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}

async fn add_user(service: &Service, add: UserAdd) -> anyhow::Result<()> {
    let password = read_password()?;
    let id = service.create_user(Actor::Cli, &add.email, &add.name, password, &add.roles, &add.tenants).await?;
    println!("{id}");
    Ok(())
}

/// One line from standard input; typed without echo when it is a terminal.
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password("Password: ").context("cannot read the password");
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(password)
}
