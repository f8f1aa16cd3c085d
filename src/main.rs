use anyhow::{bail, Context};
use app::history_model::{AuditFilter, HistoryFilter};
use clap::Parser;
use countersign::cli::{
    AgentAdd, AgentCommand, AuditCommand, BenchCommand, Cli, Command, ExportCommand, IssuerCommand, LifecycleArgs,
    ReceiptKeyCommand, SecretKeyCommand, TenantCommand, UserAdd, UserCommand, UserTarget,
};
use countersign::config::Config;
use countersign::domain::access::Principal;
use countersign::domain::audit::Actor;
use countersign::domain::clock::SystemClock;
use countersign::domain::credential;
use countersign::domain::export::Format;
use countersign::domain::lifecycle::Change;
use countersign::service::Service;
use countersign::service::{AgentDraft, By, IssuerChange, IssuerDraft};
use countersign::simulate::{Target, Via};
use countersign::{demo, server};
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::sync::Arc;

/// mimalloc: the intake path allocates many small JSON values; glibc's malloc spent a fifth of the server's
/// time there. It also returns argon2's 19 MiB blocks to the system when freed, keeping idle memory low.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc v3 keeps freed memory a second before returning it, and commits whole arenas up front; with SQLite
/// allocating through it too (`store::sqlite_malloc`), an export's peak memory grew by up to 30 MB and the
/// intake's passed 100 MB. Returned at once, and committed as touched, both stay low at the same speed.
/// These are defaults: an operator's `MIMALLOC_*` variable still wins.
fn tune_allocator() {
    // Indices of `mi_option_e` in mimalloc.h (libmimalloc-sys exports no constants for these two).
    const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    for option in [ARENA_EAGER_COMMIT, PURGE_DELAY] {
        // SAFETY: sets the default of one of mimalloc's integer options, which it reads when it next needs it;
        // an option set from the environment is left as it is.
        unsafe { libmimalloc_sys::mi_option_set_default(option, 0) };
    }
}

fn main() -> ExitCode {
    tune_allocator();
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

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // These two need no database of their own.
    match cli.command {
        Command::Simulate(s) => {
            let seed = s.seed.unwrap_or_else(|| time::OffsetDateTime::now_utc().unix_timestamp_nanos() as u64);
            let target = match (s.via, s.url) {
                (Via::Nats, _) => {
                    Target::Nats { url: s.nats_url, subject_prefix: s.nats_subject_prefix, agent: s.nats_agent }
                }
                (Via::Http, url) => Target::Http(url.unwrap_or_default()),
            };
            let options =
                countersign::simulate::Options { target, credential: s.credential, rate: s.rate, count: s.count, seed };
            let tally = countersign::simulate::run(options).await?;
            println!(
                "submitted: {}",
                tally.iter().map(|(status, n)| format!("{n} × {status}")).collect::<Vec<_>>().join(", ")
            );
            return Ok(ExitCode::SUCCESS);
        }
        Command::Bench(BenchCommand::Review { pending, decided, database_url, samples }) => {
            let config_file = cli.config.clone();
            let options = countersign::bench::review::Options { pending, decided, config_file, database_url, samples };
            countersign::bench::review(options).await?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Bench(BenchCommand::History { decided, database_url, samples }) => {
            let config_file = cli.config.clone();
            let options = countersign::bench::history::Options { decided, database_url, samples, config_file };
            countersign::bench::history(options).await?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Bench(BenchCommand::Retire { pending, database_url }) => {
            countersign::bench::retire(pending, database_url).await?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Bench(BenchCommand::Intake { seconds, clients, via, nats_url }) => {
            countersign::bench::intake(seconds, clients, via, &nats_url).await?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::SecretKey(SecretKeyCommand::New) => {
            println!("{}", countersign::domain::sealing::SecretKey::generate().encode());
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let mut config = Config::load(&cli.config).map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    if matches!(cli.command, Command::Serve { demo: true }) {
        // The demo's agents listen on this machine.
        config.webhook_allow_private = true;
    }
    let store = server::open_store(&config).await?;
    let service = server::service(&config, store.clone(), Arc::new(SystemClock)).await?;
    match cli.command {
        Command::Serve { demo } => {
            tracing::info!(database = %config.database_url_redacted(), backend = store.backend(), "database ready");
            if demo {
                demo::seed(&service).await.context("cannot seed the demo data")?;
                println!("{}", demo::banner());
            }
            server::serve(config, store, move |listen| {
                if demo {
                    tokio::spawn(demo::stream(service, listen));
                }
            })
            .await?;
        }
        Command::Migrate => println!("migrations applied to {}", config.database_url_redacted()),
        Command::Seed { pending, decided } => {
            let took = countersign::seed::seed(&service, pending, decided).await?;
            println!("added {pending} pending and {decided} decided held actions in {:.1} s", took.as_secs_f64());
        }
        Command::Tenant(TenantCommand::Add { slug, name }) => {
            let tenant = service.create_tenant(Actor::Cli, &slug, &name).await?;
            println!("{}", tenant.id);
        }
        Command::User(UserCommand::Add(add)) => add_user(&service, add).await?,
        Command::Agent(AgentCommand::Add(add)) => add_agent(&service, add).await?,
        Command::Agent(AgentCommand::Credential { agent, ttl }) => {
            let ttl = credential::ttl(&ttl)?;
            let (_, token) = service.issue_credential(By::Operator, agent, ttl).await?;
            println!("{token}");
        }
        Command::Agent(AgentCommand::Suspend(a)) => change_state(&service, a, Change::Suspend).await?,
        Command::Agent(AgentCommand::Resume(a)) => change_state(&service, a, Change::Resume).await?,
        Command::Agent(AgentCommand::Retire(a)) => change_state(&service, a, Change::Retire).await?,
        Command::Agent(AgentCommand::HandOver { agent, to, actor }) => {
            let actor = acting(&service, actor.as_deref()).await?;
            let handover = service.propose_handover(by(&actor), agent, &to).await?;
            println!("{}", handover.id);
        }
        Command::User(UserCommand::Disable(u)) => set_active(&service, u, false).await?,
        Command::User(UserCommand::Enable(u)) => set_active(&service, u, true).await?,
        Command::User(UserCommand::Roles(r)) => set_roles(&service, r).await?,
        Command::Simulate(_) | Command::Bench(_) => {}
        Command::Export(what) => export(&service, what).await?,
        Command::SecretKey(SecretKeyCommand::Rotate) => {
            let (resealed, resigned) = service.reseal_secrets().await?;
            let key = server::keyring(&config)?.current().id().to_string();
            println!("{resealed} stored secret(s) resealed and {resigned} checkpoint(s) re-signed with key {key}");
        }
        Command::SecretKey(SecretKeyCommand::New) => {}
        Command::ReceiptKey(ReceiptKeyCommand::Rotate) => println!("{}", service.rotate_receipt_key().await?.kid()),
        Command::Issuer(IssuerCommand::Add(add)) => {
            let jwks = match &add.jwks_file {
                Some(path) => {
                    Some(std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?)
                }
                None => None,
            };
            let draft = IssuerDraft {
                tenant: add.tenant,
                issuer: add.issuer,
                audience: add.audience,
                jwks_url: add.jwks_url,
                jwks,
            };
            println!("{}", service.add_issuer(By::Operator, draft).await?.id);
        }
        Command::Issuer(IssuerCommand::Edit(edit)) => {
            let jwks = match &edit.jwks_file {
                Some(path) => {
                    Some(std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?)
                }
                None => None,
            };
            let audience = match edit.audience {
                Some(audience) => audience,
                None => service.issuer_of(By::Operator, edit.id).await?.audience,
            };
            let change = IssuerChange { audience, jwks_url: edit.jwks_url, jwks };
            let changed = service.change_issuer(By::Operator, edit.id, change).await?;
            println!("{} changed", changed.issuer);
        }
        Command::Issuer(IssuerCommand::Remove { id }) => {
            println!("{} removed", service.remove_issuer(By::Operator, id, None).await?.issuer);
        }
        Command::Agent(AgentCommand::Bind { agent, subject }) => {
            let only = service.agent_for(By::Operator, agent).await?.0.workload_only;
            let bound = service.bind_agent(By::Operator, agent, Some(&subject), only).await?;
            println!("{} is bound to {}", bound.name, bound.workload_subject.unwrap_or_default());
        }
        Command::Audit(AuditCommand::Verify { checkpoints }) => {
            let exported = match checkpoints {
                Some(path) => read_checkpoints(&path)?,
                None => vec![],
            };
            let (check, left_out) = service.verify_audit_chain_against(exported).await?;
            if let Some(broken) = check.broken {
                eprintln!("{broken}");
                return Ok(ExitCode::FAILURE);
            }
            println!(
                "audit chain intact: {} events verified, {} signed checkpoints agree",
                check.checked, check.checkpoints_agreed
            );
            if left_out > 0 {
                println!("{left_out} checkpoints are signed with a key no longer configured and were not checked");
            }
            let (disagree, shown) = service.check_rows(20).await?;
            if disagree > 0 {
                shown.iter().for_each(|why| eprintln!("{why}"));
                eprintln!("{disagree} held action(s) disagree with the events that made them");
                return Ok(ExitCode::FAILURE);
            }
            println!("every held action and vote agrees with its events");
        }
        Command::Audit(AuditCommand::Checkpoints) => {
            service.checkpoint().await?;
            for line in service.exported_checkpoints().await? {
                println!("{line}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Streams an export to standard output as the operator; the audit log records it first.
async fn export(service: &Service, what: ExportCommand) -> anyhow::Result<()> {
    use tokio::io::AsyncWriteExt;
    let reader = service.operator_reader().await?;
    let export = match what {
        ExportCommand::History(h) => {
            let filter = HistoryFilter {
                from: h.from,
                to: h.to,
                tenant: h.tenant,
                agent: h.agent,
                owner: h.owner,
                reviewer: h.reviewer,
                action: h.action,
                tier: h.tier,
                outcome: h.outcome,
                customer: h.customer,
                case: h.case,
                amount_min: h.amount_min,
                amount_max: h.amount_max,
                q: h.text,
                after: String::new(),
            };
            service.export_history(&reader, &filter, Format::parse(h.format.as_str())?).await?
        }
        ExportCommand::Audit(a) => {
            let filter = AuditFilter {
                kind: a.kind,
                actor: a.actor,
                target: a.target,
                tenant: a.tenant,
                from: a.from,
                to: a.to,
                before: String::new(),
            };
            service.export_audit(&reader, &filter, Format::parse(a.format.as_str())?).await?
        }
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(4);
    let writer = tokio::spawn(async move {
        let mut out = tokio::io::stdout();
        while let Some(chunk) = rx.recv().await {
            out.write_all(chunk.as_bytes()).await?;
        }
        out.flush().await
    });
    let rows = export.run(tx).await?;
    writer.await.context("the writer stopped")?.context("cannot write to standard output")?;
    eprintln!("exported {rows} rows");
    Ok(())
}

/// The person `--actor` names, as the rules see them; `None` means the operator.
async fn acting(service: &Service, email: Option<&str>) -> anyhow::Result<Option<Principal>> {
    let Some(email) = email else { return Ok(None) };
    let user = service.person_by_email(email).await?;
    if !user.active {
        anyhow::bail!(
            "{} is disabled and cannot act; enable them first or act as the operator (no --actor)",
            user.email
        );
    }
    Ok(Some(Principal { user: user.id, memberships: user.memberships }))
}

fn by(actor: &Option<Principal>) -> By<'_> {
    actor.as_ref().map_or(By::Operator, By::Person)
}

async fn change_state(service: &Service, args: LifecycleArgs, change: Change) -> anyhow::Result<()> {
    let actor = acting(service, args.actor.as_deref()).await?;
    let agent = service.change_agent_state(by(&actor), args.agent, change, &args.reason, None).await?;
    println!("{} is {}", agent.name, agent.state.as_str());
    Ok(())
}

async fn set_active(service: &Service, target: UserTarget, active: bool) -> anyhow::Result<()> {
    let actor = acting(service, target.actor.as_deref()).await?;
    let person = service.person_by_email(&target.email).await?;
    service.set_person_active(by(&actor), person.id, active).await?;
    println!("{} is {}", person.email, if active { "enabled" } else { "disabled" });
    Ok(())
}

async fn set_roles(service: &Service, set: countersign::cli::UserRoles) -> anyhow::Result<()> {
    let actor = acting(service, set.actor.as_deref()).await?;
    let person = service.person_by_email(&set.email).await?;
    let tenant = service.store.tenant_by_slug(set.tenant.trim()).await?;
    let tenant = tenant.ok_or_else(|| anyhow::anyhow!("there is no tenant \"{}\"", set.tenant.trim()))?;
    service.set_roles_in(by(&actor), person.id, tenant.id, &set.roles).await?;
    let names: Vec<&str> = set.roles.iter().map(|r| r.as_str()).collect();
    println!("{} in {}: {}", person.email, tenant.slug, names.join(", "));
    Ok(())
}

async fn add_user(service: &Service, add: UserAdd) -> anyhow::Result<()> {
    let password = read_password()?;
    let id = service.create_user(Actor::Cli, &add.email, &add.name, password, &add.roles, &add.tenants).await?;
    println!("{id}");
    Ok(())
}

async fn add_agent(service: &Service, add: AgentAdd) -> anyhow::Result<()> {
    let draft = AgentDraft {
        tenant: add.tenant,
        name: add.name,
        purpose: add.purpose,
        owner_email: add.owner,
        sponsor_email: add.sponsor,
        allowances: add.allow,
        webhook_url: add.webhook_url,
    };
    let (agent, secret) = service.create_agent(By::Operator, draft).await?;
    println!("{}", agent.id);
    if let Some(secret) = secret {
        println!("{secret}");
    }
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

/// Checkpoints exported earlier (`audit checkpoints`): one JSON object per line.
fn read_checkpoints(path: &std::path::Path) -> anyhow::Result<Vec<countersign::domain::checkpoint::Checkpoint>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    lines
        .map(|(i, line)| serde_json::from_str(line).with_context(|| format!("{} line {}", path.display(), i + 1)))
        .collect()
}
