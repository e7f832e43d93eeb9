//! Profiles: the YAML files that describe an app under test (`app`) and a device to run on
//! (`device`). Flows reference app profiles; `harness run` picks device profiles.
pub mod app;
pub mod device;
