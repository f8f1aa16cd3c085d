//! Benchmarks that print their figures next to the baselines they compare with, measured in the same run.

pub mod history;
mod intake;
mod intake_nats;
mod retire;
pub mod review;
mod server;

pub use history::history;
pub use intake::intake;
pub use retire::retire;
pub use review::review;
