//! One integration-test binary: the real router on a real socket, over SQLite always and PostgreSQL when
//! COUNTERSIGN_TEST_POSTGRES_URL is set.

mod harness;

mod agents;
mod api;
mod api_input;
mod audit;
mod auth;
mod background;
mod bounds;
mod cli;
mod durability;
mod duties;
mod export;
mod floods;
mod headers;
mod history;
mod insights;
mod lifecycle;
mod matrix;
mod nats;
mod nats_accounts;
mod nats_faults;
mod people;
mod provenance;
mod provenance_nats;
mod review;
mod roles;
mod secrets;
mod sessions;
mod signin;
mod store;
mod webhooks;
mod workload;
mod workload_issuers;
