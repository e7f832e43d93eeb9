//! The `harness` command line: argument parsing and dispatch only. Each subcommand's work
//! lives in the library; a subcommand maps its arguments, prints what the work gave and
//! returns the exit code its results call for, or a [`HarnessError`] that [`main_impl`]
//! renders once and maps to its exit code (`crate::exit_codes`).
mod check;
mod devices;
mod keychain;
mod report;
mod run;
mod sim;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::errors::HarnessError;
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
    /// Run flows on devices: every flow × device × iteration, with reports.
    ///
    /// Exit code 0 when everything passed, 1 when a test failed, 2 for invalid input
    /// (nothing ran), 3 for an infrastructure error (a device or server failed).
    Run(RunArgs),
    /// Re-render the reports from results.json files; several are merged (CI shards).
    ///
    /// A run directory without results.json (a run that was killed) is rebuilt from its
    /// events.jsonl: every finished case, the others skipped.
    ///
    /// Exit code as `harness run` would give for the merged results (0, 1, 3), 2 when a
    /// file cannot be read or the parts overlap.
    Report(ReportArgs),
    /// List the simulators, emulators and devices `adb` and `xcrun simctl` see, with the
    /// device profile to paste into devices/NAME.yaml.
    Devices,
    /// An iOS simulator's keychain database: show an app's items, back it up, restore it.
    #[command(subcommand)]
    Keychain(keychain::KeychainCommand),
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

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Flow files or directories (a directory's top-level .yaml files). Default: flows.
    pub flows: Vec<PathBuf>,
    /// Device profile names (devices/NAME.yaml) or paths; repeatable.
    /// Default: virtual-ios and virtual-android.
    #[arg(short = 'd', long = "device")]
    pub device: Vec<String>,
    /// Runs of each flow on each device.
    #[arg(short = 'n', long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub iterations: u32,
    /// Devices (virtual: cases) at once.
    #[arg(short = 'p', long, default_value_t = 4)]
    pub parallel: usize,
    /// Run only part I of N of the cases (CI matrix), e.g. 2/4.
    #[arg(long)]
    pub shard: Option<crate::run::plan::Shard>,
    /// Run seed: every virtual device's random draws derive from it (default: the time).
    #[arg(long)]
    pub seed: Option<u64>,
    #[arg(long = "include-tags", value_delimiter = ',')]
    pub include_tags: Vec<String>,
    #[arg(long = "exclude-tags", value_delimiter = ',')]
    pub exclude_tags: Vec<String>,
    /// Stop starting new cases after the first failure or error.
    #[arg(long)]
    pub fail_fast: bool,
    /// Retry a failed case up to K times; a pass on retry is reported as flaky.
    #[arg(long, default_value_t = 0)]
    pub retries: u32,
    /// Run each flow × device until its pass rate is shown below or above --threshold
    /// (sequential probability ratio test), at most --iterations times.
    #[arg(long)]
    pub until_confident: bool,
    /// Pass-rate threshold for --until-confident.
    #[arg(long, default_value_t = 0.9, value_parser = parse_rate)]
    pub threshold: f64,
    /// A previous results.json (or run directory): report significant regressions and
    /// improvements of each flow × device (Fisher's exact test).
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Per-flow timeout, e.g. 5m.
    #[arg(long, default_value = "5m", value_parser = run::parse_timeout)]
    pub timeout: std::time::Duration,
    /// Where runs write their reports (reports/RUN_ID/, reports/latest).
    #[arg(long, default_value = "reports")]
    pub reports: PathBuf,
    /// Define a variable, as `-e NAME=VALUE` (repeatable).
    #[arg(short = 'e', long = "env", value_parser = parse_key_val)]
    pub env: Vec<(String, String)>,
}

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// results.json files, or run directories that contain one.
    #[arg(required = true)]
    pub results: Vec<PathBuf>,
    /// Where to write the merged reports (default: reports/RUN_ID-report; for a run
    /// directory rebuilt from its events.jsonl, that directory).
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// A previous results.json (or run directory): print significant regressions and
    /// improvements, as `harness run --baseline` does (the exit code does not change).
    #[arg(long)]
    pub baseline: Option<PathBuf>,
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
    /// Also check that this device's backend can run every command the flows use (a profile
    /// name, devices/NAME.yaml, or a path); repeatable.
    #[arg(short = 'd', long = "device")]
    pub device: Vec<String>,
    /// An undefined variable is an error (by default a warning: the step fails when it runs).
    #[arg(long)]
    pub strict: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if v > 0.05 && v < 0.95 {
        Ok(v)
    } else {
        Err(format!(
            "{v} is not between 0.05 and 0.95 (the test needs room either side)"
        ))
    }
}

fn parse_key_val(s: &str) -> Result<(String, String), String> {
    let (k, v) = s.split_once('=').ok_or_else(|| format!("'{s}' is not NAME=VALUE"))?;
    if !crate::flow::parse::is_var_name(k) {
        return Err(format!("'{k}' is not a valid variable name"));
    }
    Ok((k.to_string(), v.to_string()))
}

/// Prints the reports written, the summary table and the statistics of `results`.
fn summarise(written: &[PathBuf], results: &crate::results::RunResults) {
    for f in written {
        eprintln!("wrote {}", f.display());
    }
    println!("{}", crate::report::summary_table(results));
    println!("{}", crate::report::statistics_section(results));
}

/// The async runtime of the commands that need one.
fn runtime() -> Result<tokio::runtime::Runtime, HarnessError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(HarnessError::Runtime)
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
    // thirtyfour logs request bodies at debug level, typed text (passwords) included: capped.
    let filter = format!(
        "{},thirtyfour::session::http=info",
        std::env::var("RUST_LOG").unwrap_or_else(|_| cli.log.clone())
    );
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .try_init();
    let outcome = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Run(args) => run::run(args),
        Command::Report(args) => report::run(args),
        Command::Devices => devices::run(),
        Command::Keychain(command) => keychain::run(command),
        Command::Sim(SimCommand::Serve { port, host, seed }) => sim::serve(host, port, seed),
        Command::Schema { kind } => {
            print!("{}", crate::schema::render(kind));
            Ok(exit_codes::OK)
        }
    };
    // The one place errors are printed and turned into exit codes.
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprint!("{}", e.render());
            e.exit_code()
        }
    }
}
