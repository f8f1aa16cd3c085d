//! The rules, in plain Rust with no I/O: who may open what, password policy, sign-in throttling, the audit
//! chain and what a valid name or email looks like. Both the console and the CLI go through these.

pub mod access;
pub mod audit;
pub mod catalog;
pub mod chain_check;
pub mod checkpoint;
pub mod client;
pub mod clock;
pub mod consent;
pub mod consistency;
pub mod credential;
pub mod egress;
pub mod export;
pub mod history;
pub mod hostile;
pub mod identity;
pub mod insights;
pub mod lifecycle;
pub mod password;
pub mod people;
pub mod provenance;
pub mod receipt;
pub mod review;
pub mod scope;
pub mod sealing;
pub mod submission;
pub mod throttle;
pub mod workload;

pub use app::model::{ActionType, AgentState, HeldStatus, RiskTier, Role, Section};

/// A rule was broken; the message says which, in words for the person who broke it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(message: impl Into<String>) -> Self {
        Invalid(message.into())
    }
}
