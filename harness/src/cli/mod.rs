//! The `harness` command line: argument parsing and dispatch only. Each subcommand's work
//! lives in the library; this module turns results into output and an exit code
//! (`crate::exit_codes`).
mod check;
mod sim;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::exit_codes;
use crate::schema::SchemaKind;

#[derive(Parser, Debug)]
#[command(name = "harness", version, about = "Proves mobile sign-in survives real life.")]
pub struct Cli {
    /// Log filter (also RUST_LOG), e.g. `debug` or `harness=trace`.
    #[arg(long, global = true, default_value = "warn")]
    pub log: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Validate flows, their sub-flows, app profiles and device profiles.
    ///
    /// PATHS are files or directories (searched for .yaml/.yml). Files under a directory
    /// named `devices` are device profiles, under `apps` app profiles, anything else a flow.
    /// Exit code 0 when valid, 2 when any file has an error.
    Check(CheckArgs),
    /// The embedded virtual device farm.
    #[command(subcommand)]
    Sim(SimCommand),
    /// Print the JSON Schema of a YAML format (for editors).
    Schema {
        /// Which format.
        #[arg(value_enum, default_value = "flow")]
        kind: SchemaKind,
    },
}

#[derive(Subcommand, Debug)]
pub enum SimCommand {
    /// Serve the virtual farm: an Appium-compatible server with virtual iOS and Android
    /// devices running a Clerk + Convex app. Prints its URL, serves until interrupted.
    Serve {
        /// Port to listen on (0: a free port).
        #[arg(long, default_value_t = 4723)]
        port: u16,
        /// Address to listen on. Keep it on loopback.
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        /// Run seed: every device's random draws derive from it.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Files or directories to check (default: flows and devices).
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Define a variable for ${NAME} references, as `-e NAME=VALUE` (repeatable).
    #[arg(short = 'e', long = "env", value_parser = parse_key_val)]
    pub env: Vec<(String, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

fn parse_key_val(s: &str) -> Result<(String, String), String> {
    let (k, v) = s.split_once('=').ok_or_else(|| format!("'{s}' is not NAME=VALUE"))?;
    if !crate::flow::parse::is_var_name(k) {
        return Err(format!("'{k}' is not a valid variable name"));
    }
    Ok((k.to_string(), v.to_string()))
}

/// Runs the command line and returns the process exit code.
pub fn main_impl() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit_codes::INVALID_INPUT
            } else {
                exit_codes::OK
            };
        }
    };
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| cli.log.clone());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .try_init();
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Sim(SimCommand::Serve { port, host, seed }) => sim::serve(host, port, seed),
        Command::Schema { kind } => {
            print!("{}", crate::schema::render(kind));
            exit_codes::OK
        }
    }
}
