//! `harness report`: re-render the reports from one or more `results.json` files, merging
//! the shards of a CI matrix into one run.

use std::path::PathBuf;

use super::ReportArgs;
use crate::errors::HarnessError;
use crate::report::{RESULTS_FILE, merge, read_results, write_all};

pub fn run(args: ReportArgs) -> Result<i32, HarnessError> {
    let mut parts = vec![];
    for p in &args.results {
        let path = if p.is_dir() { p.join(RESULTS_FILE) } else { p.clone() };
        parts.push(read_results(&path).map_err(HarnessError::InvalidResults)?);
    }
    let merged = merge(parts).map_err(HarnessError::InvalidResults)?;
    let out: PathBuf = args
        .output
        .unwrap_or_else(|| PathBuf::from("reports").join(format!("{}-report", merged.run_id)));
    let written = write_all(&out, &merged).map_err(HarnessError::WriteReports)?;
    super::summarise(&written, &merged);
    Ok(merged.exit_code())
}
