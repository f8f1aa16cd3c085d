//! The command line.

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
    /// A tenant slug; repeat for several.
    #[arg(long = "tenant")]
    pub tenants: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the audit chain; exit non-zero naming the first bad event.
    Verify,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("unknown role \"{s}\" (expected admin, supervisor, owner or auditor)"))
}
