//! `harness report`: re-render the reports from one or more `results.json` files, merging
//! the shards of a CI matrix into one run.

use std::error::Error as _;
use std::path::PathBuf;

use super::ReportArgs;
use crate::exit_codes;
use crate::report::{merge, read_results};

pub fn run(args: ReportArgs) -> i32 {
    let mut parts = vec![];
    for p in &args.results {
        let path = if p.is_dir() { p.join("results.json") } else { p.clone() };
        match read_results(&path) {
            Ok(r) => parts.push(r),
            Err(e) => {
                eprintln!("error: {e}");
                let mut source = e.source();
                while let Some(s) = source {
                    eprintln!("  caused by: {s}");
                    source = s.source();
                }
                return exit_codes::INVALID_INPUT;
            }
        }
    }
    let merged = match merge(parts) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_codes::INVALID_INPUT;
        }
    };
    let out: PathBuf = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(format!("{}-report", merged.run_id)));
    super::write_reports_and_summarise(&out, &merged)
}
