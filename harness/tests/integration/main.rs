//! Integration tests: one test binary (nextest style), one module per subject.
mod appium_real;
mod appium_requests;
mod cli;
mod commands;
mod farms;
mod fuzz;
mod grid;
mod host_devices;
mod host_run;
mod host_settings;
mod interrupt;
mod invalid_flows;
mod roundtrip;
mod run_cli;
mod run_matrix;
mod sim_model;
mod sim_server;
