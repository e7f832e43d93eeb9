//! Integration tests: one test binary (nextest style), one module per subject.
mod appium_real;
mod cli;
mod fuzz;
mod host_devices;
mod host_run;
mod invalid_flows;
mod js_flows;
mod roundtrip;
mod run_cli;
mod run_matrix;
mod sim_model;
mod sim_server;
