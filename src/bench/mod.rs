//! Benchmarks that print their figures next to the baselines they compare with, measured in the same run.

mod intake;
pub mod review;
mod server;

pub use intake::intake;
pub use review::review;
