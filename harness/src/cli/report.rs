//! `harness report`: re-render the reports from one or more `results.json` files, merging
//! the shards of a CI matrix into one run. A run directory without results.json (the run was
//! killed before writing it) is rebuilt from its `events.jsonl`.

use std::path::{Path, PathBuf};

use super::ReportArgs;
use crate::errors::HarnessError;
use crate::report::{EVENTS_FILE, RESULTS_FILE, merge, read_events_log, read_results, write_all};
use crate::results::RunResults;

pub fn run(args: ReportArgs) -> Result<i32, HarnessError> {
    let mut parts = vec![];
    // A single run directory rebuilt from its log gets its reports back in place.
    let mut rebuilt_dir: Option<PathBuf> = None;
    for p in &args.results {
        let (results, rebuilt) = read_part(p)?;
        if rebuilt {
            eprintln!(
                "{}: no {RESULTS_FILE}; rebuilt {} cases from {EVENTS_FILE}",
                p.display(),
                results.cases.len()
            );
            rebuilt_dir = Some(if p.is_dir() {
                p.clone()
            } else {
                p.parent().map(Path::to_path_buf).unwrap_or_default()
            });
        }
        parts.push(results);
    }
    let single = args.results.len() == 1;
    let merged = merge(parts).map_err(HarnessError::InvalidResults)?;
    let out: PathBuf = args.output.unwrap_or_else(|| match rebuilt_dir.filter(|_| single) {
        Some(dir) => dir,
        None => PathBuf::from("reports").join(format!("{}-report", merged.run_id)),
    });
    let written = write_all(&out, &merged).map_err(HarnessError::WriteReports)?;
    super::summarise(&written, &merged);
    if let Some(base) = &args.baseline {
        super::run::print_baseline(&crate::run::campaign::compare(base, &merged));
    }
    Ok(merged.exit_code())
}

/// A results.json, a run directory's results.json, or (when a run directory has none) its
/// events.jsonl; `true` when rebuilt from the log.
fn read_part(p: &Path) -> Result<(RunResults, bool), HarnessError> {
    if p.is_dir() {
        let results = p.join(RESULTS_FILE);
        let log = p.join(EVENTS_FILE);
        if !results.exists() && log.is_file() {
            return read_events_log(&log)
                .map(|r| (r, true))
                .map_err(HarnessError::InvalidResults);
        }
        return read_results(&results)
            .map(|r| (r, false))
            .map_err(HarnessError::InvalidResults);
    }
    if p.file_name().is_some_and(|n| n == EVENTS_FILE) {
        return read_events_log(p)
            .map(|r| (r, true))
            .map_err(HarnessError::InvalidResults);
    }
    read_results(p)
        .map(|r| (r, false))
        .map_err(HarnessError::InvalidResults)
}
