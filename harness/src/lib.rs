//! harness: proves mobile sign-in survives real life.
//!
//! Module map: `yaml` (YAML text → located nodes), `lower` (typed reading of nodes with
//! diagnostics), `diag` (diagnostics and their rendering), `flow` (the flow language: parse,
//! model, load, emit), `profile` (app and device profiles), `host` (adb and simctl), `schema` (JSON Schema), `cli`
//! (the `harness` command line), `exit_codes`.
pub mod cli;
pub mod diag;
pub mod driver;
pub mod errors;
pub mod event;
pub mod exec;
pub mod exit_codes;
pub mod farm;
pub mod flow;
pub mod host;
pub mod iso8601;
pub mod jwt;
pub mod lower;
pub mod platform;
pub mod profile;
pub mod report;
pub mod results;
pub mod rng;
pub mod run;
pub mod schema;
pub mod stats;
pub mod yaml;
