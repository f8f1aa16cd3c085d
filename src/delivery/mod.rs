//! Telling the agent (and open consoles) what happened: live change events and the webhook outbox.

pub mod breaker;
pub mod client;
pub mod live;
pub mod outcome;
pub mod signature;
pub mod webhook;

pub use live::{Change, ChangeKind};
