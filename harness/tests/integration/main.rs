//! Integration tests: one test binary (nextest style), one module per subject.
mod cli;
mod fuzz;
mod invalid_flows;
mod roundtrip;
mod run_cli;
mod sim_model;
mod sim_server;
