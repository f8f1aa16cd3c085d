//! The command line.

mod export;

pub use export::{AuditExport, ExportCommand, ExportFormat, HistoryExport};

use crate::domain::Role;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "countersign", version, about = "The human countersignature on an AI agent's risky act.")]
pub struct Cli {
    /// Configuration file; optional. COUNTERSIGN_* environment variables override it.
    #[arg(long, global = true, default_value = "countersign.toml")]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the console and the API.
    Serve {
        /// Seed demo tenants and people (idempotent) and print their passwords.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage people.
    #[command(subcommand)]
    User(UserCommand),
    /// Work with the audit chain.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Register agents and mint their credentials.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Write the decision history or the audit log to standard output, streamed; recorded in the audit log.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Submit realistic held actions through the real API, as an agent would.
    Simulate(Simulate),
    /// Add realistic held actions (on top of the demo data) to the configured database, for load tests.
    Seed {
        #[arg(long, default_value_t = 100_000)]
        pending: u64,
        #[arg(long, default_value_t = 1_000_000)]
        decided: u64,
    },
    /// Benchmarks that print their figures and the baselines they compare with.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// The key that seals stored secrets (webhook signing secrets, the receipt key).
    #[command(subcommand, name = "secret-key")]
    SecretKey(SecretKeyCommand),
    /// The keys that sign outcome receipts (published at /.well-known/jwks.json).
    #[command(subcommand, name = "receipt-key")]
    ReceiptKey(ReceiptKeyCommand),
    /// Issuers a tenant trusts for its agents' workload identity.
    #[command(subcommand)]
    Issuer(IssuerCommand),
}

#[derive(Debug, Subcommand)]
pub enum ReceiptKeyCommand {
    /// Add a receipt key that signs from now on (every server within seconds); older keys stay published so
    /// old receipts still verify. Prints the new key's id (`kid`).
    Rotate,
}

#[derive(Debug, Subcommand)]
pub enum IssuerCommand {
    /// Trust an OIDC issuer or a SPIFFE trust domain (spiffe://…) for a tenant's agents. Prints the issuer's id.
    Add(IssuerAdd),
    /// Change an issuer's audience or keys (a JWKS URL or file). Audited.
    Edit(IssuerEdit),
    /// Remove an issuer: its tokens stop authenticating at once. Audited; who registered it stays known.
    Remove {
        /// The issuer's id, as `issuer add` printed it.
        #[arg(long)]
        id: uuid::Uuid,
    },
}

#[derive(Debug, Args)]
pub struct IssuerEdit {
    /// The issuer's id, as `issuer add` printed it.
    #[arg(long)]
    pub id: uuid::Uuid,
    /// The `aud` its tokens must carry; unchanged if not given.
    #[arg(long)]
    pub audience: Option<String>,
    /// Fetch its JWKS from here from now on.
    #[arg(long, conflicts_with = "jwks_file")]
    pub jwks_url: Option<String>,
    /// Use this JWKS file from now on.
    #[arg(long)]
    pub jwks_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct IssuerAdd {
    /// The tenant's slug.
    #[arg(long)]
    pub tenant: String,
    /// The `iss` its tokens carry, or the SPIFFE trust domain as spiffe://domain.
    #[arg(long)]
    pub issuer: String,
    /// The `aud` its tokens must carry for this installation.
    #[arg(long)]
    pub audience: String,
    /// Where its JWKS is fetched from (https, or a private address with webhook_allow_private).
    #[arg(long, required_unless_present = "jwks_file", conflicts_with = "jwks_file")]
    pub jwks_url: Option<String>,
    /// A JWKS file, for networks that cannot reach the issuer.
    #[arg(long)]
    pub jwks_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum SecretKeyCommand {
    /// Print a new random key (base64url), for `secret_key`; stores nothing.
    New,
    /// Seal every stored secret with the configured `secret_key`, opening those sealed with
    /// `secret_key_previous` (or stored before sealing); audited. Restart the servers with the new key after.
    Rotate,
}

#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Register an agent. Prints its id on the first line and, with a webhook URL, its signing secret on the second.
    Add(AgentAdd),
    /// Mint a credential for an agent and print its secret alone.
    Credential {
        #[arg(long)]
        agent: uuid::Uuid,
        /// Time to live, e.g. 24h or 7d (at most 30 days).
        #[arg(long, default_value = "24h")]
        ttl: String,
    },
    /// Bind an agent to the one workload subject (a SPIFFE ID or an OIDC `sub`) whose tokens it may use.
    Bind {
        #[arg(long)]
        agent: uuid::Uuid,
        #[arg(long)]
        subject: String,
    },
    /// Suspend an agent: intake refuses it and its pending actions can only be denied, until resumed.
    Suspend(LifecycleArgs),
    /// Resume a suspended agent.
    Resume(LifecycleArgs),
    /// Retire an agent for good: every credential revoked, every pending action cancelled.
    Retire(LifecycleArgs),
    /// Propose a new owner, who accepts or declines on their agents page.
    #[command(name = "hand-over")]
    HandOver {
        #[arg(long)]
        agent: uuid::Uuid,
        /// The proposed owner's email (a person of the tenant with the owner role).
        #[arg(long)]
        to: String,
        /// Act as this person (their authority is checked); without it, as the operator.
        #[arg(long)]
        actor: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct LifecycleArgs {
    #[arg(long)]
    pub agent: uuid::Uuid,
    /// Why; recorded in the audit log.
    #[arg(long)]
    pub reason: String,
    /// Act as this person (the agent's owner or an admin of its tenant); without it, as the operator.
    #[arg(long)]
    pub actor: Option<String>,
}

#[derive(Debug, Args)]
pub struct AgentAdd {
    /// The tenant's slug.
    #[arg(long)]
    pub tenant: String,
    #[arg(long)]
    pub name: String,
    /// The email of its owner (a person with the owner role in the tenant).
    #[arg(long)]
    pub owner: String,
    #[arg(long, default_value = "Resolves customer support conversations")]
    pub purpose: String,
    /// Another person in the tenant who vouches for the agent (optional).
    #[arg(long)]
    pub sponsor: Option<String>,
    /// An allowed action type, with a limit where money moves: refund:500.00EUR, password_reset. Repeat.
    #[arg(long = "allow")]
    pub allow: Vec<String>,
    #[arg(long)]
    pub webhook_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct Simulate {
    /// The Countersign server, e.g. http://127.0.0.1:3000 (for `--via http`).
    #[arg(long, required_if_eq("via", "http"))]
    pub url: Option<String>,
    /// `http` posts to `--url`; `nats` publishes to JetStream at `--nats-url`, as a policy gateway would.
    #[arg(long, value_enum, default_value_t = crate::simulate::Via::Http)]
    pub via: crate::simulate::Via,
    /// The NATS server for `--via nats`.
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,
    /// The servers' `nats_subject_prefix`: messages go on `<prefix>.held.simulate`.
    #[arg(long, default_value = "countersign")]
    pub nats_subject_prefix: String,
    /// Publish as this agent's gateway, `<tenant slug>/<agent id>`: on `<prefix>.held.<tenant>.<agent id>`,
    /// reading only its own results, with inbox prefix `_INBOX.<agent id>` (what a per-agent NATS user may do).
    #[arg(long, value_parser = parse_nats_agent)]
    pub nats_agent: Option<(String, uuid::Uuid)>,
    /// The agent credential to submit with.
    #[arg(long)]
    pub credential: String,
    /// Submissions per second.
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    /// Stop after this many; without it, run until interrupted.
    #[arg(long)]
    pub count: Option<u64>,
    /// Seed for the generator (defaults to the time, so keys differ between runs).
    #[arg(long)]
    pub seed: Option<u64>,
}

fn parse_nats_agent(value: &str) -> Result<(String, uuid::Uuid), String> {
    let (tenant, agent) = value.split_once('/').ok_or("expected <tenant slug>/<agent id>")?;
    let agent = uuid::Uuid::parse_str(agent).map_err(|e| format!("the agent id: {e}"))?;
    match tenant.is_empty() || tenant.contains(['.', '*', '>', ' ']) {
        true => Err("the tenant slug must be one subject token".into()),
        false => Ok((tenant.to_string(), agent)),
    }
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Intake throughput and latency on a temporary SQLite file, against one-commit-per-row and batched references.
    Intake {
        /// Seconds of load.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Concurrent clients (with `--via nats`, also the messages kept between publish and result).
        #[arg(long, default_value_t = 64)]
        clients: usize,
        /// `nats` also measures intake from JetStream (publish to committed), beside HTTP.
        #[arg(long, value_enum, default_value_t = crate::simulate::Via::Http)]
        via: crate::simulate::Via,
        /// The NATS server for `--via nats`; the run's streams are removed after.
        #[arg(long, default_value = "nats://127.0.0.1:4222")]
        nats_url: String,
    },
    /// Queue, case view, live arrival and decision delivery on a seeded database (a temporary SQLite file
    /// unless --database-url names one; seeded when it holds fewer pending actions than asked).
    Review {
        #[arg(long, default_value_t = 100_000)]
        pending: u64,
        #[arg(long, default_value_t = 1_000_000)]
        decided: u64,
        #[arg(long)]
        database_url: Option<String>,
        /// Requests per measurement.
        #[arg(long, default_value_t = 500)]
        samples: usize,
    },
    /// History pages under each filter, free text, decision records and a full export, as the demo auditor, on
    /// a seeded database (a temporary SQLite file unless --database-url names one; seeded when empty).
    History {
        #[arg(long, default_value_t = 1_000_000)]
        decided: u64,
        #[arg(long)]
        database_url: Option<String>,
        /// Requests per measurement.
        #[arg(long, default_value_t = 400)]
        samples: usize,
    },
    /// Retiring an agent with many pending actions (one transaction), beside the expiry worker ending as many
    /// (a temporary SQLite file unless --database-url names a database).
    Retire {
        #[arg(long, default_value_t = 10_000)]
        pending: usize,
        #[arg(long)]
        database_url: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Add a tenant.
    Add {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a person. The password is read from standard input, never from the command line.
    Add(UserAdd),
    /// Disable a person: their sessions end at once and their agents are orphaned.
    Disable(UserTarget),
    /// Enable a disabled person again.
    Enable(UserTarget),
    /// Set a person's roles in one tenant (making them a member of it); their other tenants are untouched.
    Roles(UserRoles),
}

#[derive(Debug, Args)]
pub struct UserRoles {
    #[arg(long)]
    pub email: String,
    /// The tenant slug the roles hold in.
    #[arg(long)]
    pub tenant: String,
    /// admin, supervisor, owner or auditor; repeat for several.
    #[arg(long = "role", required = true, value_parser = parse_role)]
    pub roles: Vec<Role>,
    /// Act as this admin (their reach is checked); without it, as the operator.
    #[arg(long)]
    pub actor: Option<String>,
}

#[derive(Debug, Args)]
pub struct UserTarget {
    #[arg(long)]
    pub email: String,
    /// Act as this admin (their reach is checked); without it, as the operator.
    #[arg(long)]
    pub actor: Option<String>,
}

#[derive(Debug, Args)]
pub struct UserAdd {
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub name: String,
    /// admin, supervisor, owner or auditor; repeat for several.
    #[arg(long = "role", required = true, value_parser = parse_role)]
    pub roles: Vec<Role>,
    /// A tenant slug; repeat for several. The roles hold in each of these tenants.
    #[arg(long = "tenant")]
    pub tenants: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the audit chain and hold it to the signed checkpoints; exit non-zero naming the first bad event.
    Verify {
        /// Exported checkpoints (`audit checkpoints`, NDJSON) kept outside the database, to check against too.
        #[arg(long)]
        checkpoints: Option<PathBuf>,
    },
    /// Print the signed checkpoints of the chain's head, one JSON object per line, with their public keys.
    Checkpoints,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("unknown role \"{s}\" (expected admin, supervisor, owner or auditor)"))
}
