//! Countersign: the human countersignature on an AI agent's risky act.
//!
//! Layers (see docs/ARCHITECTURE.md): `domain` holds the rules, `store` the persistence port and its adapters,
//! `service` the use cases, `web` the HTTP side, `server` and the binary the composition root.

pub mod api;
pub mod bench;
pub mod broker;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod demo;
pub mod domain;
pub mod seed;
pub mod server;
pub mod service;
pub mod simulate;
pub mod store;
pub mod web;
