//! harness: proves mobile sign-in survives real life.
//!
//! Module map: `yaml` (YAML text → located nodes), `lower` (typed reading of nodes with
//! diagnostics), `diag` (diagnostics and their rendering), `flow` (the flow language: parse,
//! model, load, emit), `profile` (app and device profiles), `host` (adb and simctl), `schema` (JSON Schema),
//! `run` (plan, sessions, runner, until-confident, the whole `harness run` campaign), `event` (the
//! runner → consumers event stream), `results` and `report` (the result model and its reports),
//! `cli` (the `harness` command line: arguments and output only; the only module that starts
//! the virtual `farm`), `errors` (the one top error type) and `exit_codes`.
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
pub mod js;
pub mod jwt;
pub mod load;
pub mod lower;
pub mod platform;
pub mod profile;
pub mod report;
pub mod results;
pub mod rng;
pub mod run;
pub mod schema;
pub mod secrets;
pub mod stats;
pub mod visual;
pub mod workspace;
pub mod yaml;
