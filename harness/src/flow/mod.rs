//! The flow language: Maestro-compatible YAML flows plus session commands.
//!
//! Pipeline: YAML text (`crate::yaml`) → [`parse`] (commands, conditions, [`selector`]s) →
//! [`model`] (validated, no I/O) → `crate::load` (reads files, resolves sub-flows and app
//! profiles, checks variables; above both `flow` and `profile`) → the executor. [`emit`]
//! writes a model back as YAML.
//!
//! Module dependencies form a DAG; each module uses only those listed before it:
//! [`model`]; [`commands`] (the command table, and each [`model::Command`]'s name);
//! [`template`] (`${NAME}` and the variable-name rule); [`selector`] (also used by
//! `profile::app`, which itself uses only model, template and selector from here); [`parse`];
//! [`emit`] (model and commands only).
pub mod commands;
pub mod emit;
pub mod model;
pub mod parse;
pub mod selector;
pub mod template;
