//! Profiles: the YAML files that describe an app under test (`app`) and a device to run on
//! (`device`), and the virtual device's knobs (`knobs`) a `virtual` device profile sets.
//! Flows reference app profiles; `harness run` picks device profiles.
pub mod app;
pub mod device;
pub mod knobs;
