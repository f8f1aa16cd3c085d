//! `countersign export history|audit`: the console's filters as flags, and the two formats.

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Held actions, newest first, under the filters given.
    History(HistoryExport),
    /// Audit events, newest first, under the filters given.
    Audit(AuditExport),
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Ndjson,
}

impl ExportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Ndjson => "ndjson",
        }
    }
}

/// The history's filters, named as in the console's address; each is optional.
#[derive(Debug, Args)]
pub struct HistoryExport {
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ExportFormat,
    /// A day (2026-11-01) or an RFC 3339 time.
    #[arg(long, default_value = "")]
    pub from: String,
    /// A day (included whole) or an RFC 3339 time.
    #[arg(long, default_value = "")]
    pub to: String,
    /// Tenant slug.
    #[arg(long, default_value = "")]
    pub tenant: String,
    /// Agent id.
    #[arg(long, default_value = "")]
    pub agent: String,
    /// Owner's person id.
    #[arg(long, default_value = "")]
    pub owner: String,
    /// Reviewer's person id: actions they voted on.
    #[arg(long, default_value = "")]
    pub reviewer: String,
    /// Action type, e.g. refund.
    #[arg(long, default_value = "")]
    pub action: String,
    /// high or critical.
    #[arg(long, default_value = "")]
    pub tier: String,
    /// pending, approved, denied, expired or cancelled.
    #[arg(long, default_value = "")]
    pub outcome: String,
    #[arg(long, default_value = "")]
    pub customer: String,
    #[arg(long, default_value = "")]
    pub case: String,
    #[arg(long, default_value = "")]
    pub amount_min: String,
    #[arg(long, default_value = "")]
    pub amount_max: String,
    /// Free text over the intent and the case summary (every word must occur).
    #[arg(long, default_value = "")]
    pub text: String,
}

#[derive(Debug, Args)]
pub struct AuditExport {
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ExportFormat,
    /// Event type, e.g. held_action.approved.
    #[arg(long, default_value = "")]
    pub kind: String,
    /// user:<id>, agent:<id>, system or cli.
    #[arg(long, default_value = "")]
    pub actor: String,
    /// The event's subject, e.g. held_action:<id>.
    #[arg(long, default_value = "")]
    pub target: String,
    #[arg(long, default_value = "")]
    pub tenant: String,
    #[arg(long, default_value = "")]
    pub from: String,
    #[arg(long, default_value = "")]
    pub to: String,
}
