//! The flow language: Maestro-compatible YAML flows plus session commands.
//!
//! Pipeline: YAML text (`crate::yaml`) → [`parse`] (commands, selectors, conditions) →
//! [`model`] (validated, no I/O) → [`load`] (reads files, resolves sub-flows and app
//! profiles, checks variables) → the executor. [`emit`] writes a model back as YAML.
pub mod commands;
pub mod emit;
pub mod load;
pub mod model;
pub mod parse;
pub mod template;
