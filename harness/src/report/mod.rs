//! Reports rendered from a run's results ([`RunResults`]): `results.json` (the results
//! themselves, which `harness report` reads back and CI shards merge), `junit.xml`, the
//! self-contained `index.html` and the plain-text closing table printed at the end of a run;
//! and, while a run goes, the terminal's progress lines from its events ([`ProgressLines`]).
//!
//! Reporters read only the result model: they never touch devices or flows.

mod html;
mod json;
mod junit;
mod live;
mod log;
mod progress;
mod summary;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use html::{HTML_FILE, html_report, write_html};
pub use json::{RESULTS_FILE, merge, read_results, write_results};
pub use junit::{JUNIT_FILE, junit_report, write_junit};
pub use live::{CLEAR_LINE, LiveStatus};
pub use log::{EVENTS_FILE, EventLog, LogHeader, NEVER_ENDED, read_events_log};
pub use progress::ProgressLines;
pub use summary::{statistics_section, summary_table};

use crate::results::RunResults;

/// Why a report could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot create the report directory {}", .path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot read {}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Not JSON, truncated, or not the shape of results this harness writes (an unknown or
    /// missing field, usually a file from another harness version). `line` and `column` are
    /// serde_json's, 1-based; the source has the details.
    #[error("{}:{line}:{column}: {problem}", .path.display())]
    InvalidResults {
        path: PathBuf,
        line: usize,
        column: usize,
        problem: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot serialize the results for {}", .path.display())]
    Serialize {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot render the junit report for {}", .path.display())]
    Junit {
        path: PathBuf,
        #[source]
        source: quick_junit::SerializeError,
    },
    #[error("cannot merge results: nothing to merge")]
    NothingToMerge,
    /// Each entry names the case (`flow [device] #iteration`) and the parts holding it.
    #[error(
        "cannot merge results: {} in more than one part: {}",
        if .cases.len() == 1 { "1 case is".to_string() } else { format!("{} cases are", .cases.len()) },
        .cases.join(", ")
    )]
    DuplicateCases { cases: Vec<String> },
}

/// Writes `results.json`, `junit.xml` and `index.html` into `dir` (created if missing);
/// returns their paths in that order.
pub fn write_all(dir: &Path, results: &RunResults) -> Result<Vec<PathBuf>, ReportError> {
    Ok(vec![
        write_results(dir, results)?,
        write_junit(dir, results)?,
        write_html(dir, results)?,
    ])
}

/// Writes `bytes` to `path` (in `dir`) through a temporary file in the same directory, so a
/// reader never sees half a report.
fn write_file(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    fs::create_dir_all(dir).map_err(|source| ReportError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    let written = fs::write(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    written.map_err(|source| {
        let _ = fs::remove_file(&tmp);
        ReportError::Write {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// Results shared by the tests of the report modules: every outcome, two devices, two flows.
#[cfg(test)]
pub(crate) mod fixture {
    use crate::results::{
        AttemptRecord, CaseResult, Outcome, RunResults, Snapshot, StepResult, StepStatus, StorageEntry,
    };

    pub const RESTORE_DIAGNOSIS: &str =
        "SDK restoration bug: the session token was in the keychain but the SDK signed out on cold start";

    fn step(name: &str, line: u32, status: StepStatus, start_ms: u64, duration_ms: u64) -> StepResult {
        StepResult {
            name: name.to_string(),
            at: format!("flows/session-restore.yaml:{line}:3"),
            depth: 0,
            status,
            start_ms,
            duration_ms,
            message: None,
        }
    }

    fn case(flow: &str, device: &str, iteration: u32, outcome: Outcome) -> CaseResult {
        let platform = if device.starts_with("iphone") { "iOS" } else { "Android" };
        let mut steps = vec![
            step("launchApp", 4, StepStatus::Passed, 0, 850),
            step("tapOn id=auth-continue", 12, StepStatus::Passed, 850, 123),
        ];
        if outcome == Outcome::Skipped {
            steps.clear();
        }
        CaseResult {
            flow: flow.to_string(),
            flow_file: format!("flows/{flow}.yaml"),
            device: device.to_string(),
            platform: platform.to_string(),
            iteration,
            outcome,
            diagnosis: None,
            cause: None,
            message: None,
            duration_ms: steps.iter().map(|s| s.duration_ms).sum(),
            attempts: 1,
            attempt_history: Vec::new(),
            steps,
            snapshots: Vec::new(),
            restore_ms: None,
            cold_launch_ms: None,
            artifacts: Vec::new(),
            seed: 7 + u64::from(iteration),
        }
    }

    fn failed_restore(mut c: CaseResult) -> CaseResult {
        let mut s = step("assertSession signedIn", 20, StepStatus::Failed, 973, 10_000);
        s.message = Some("expected signedIn within 10s, the screen shows signedOut".to_string());
        c.message = s.message.clone();
        c.duration_ms += s.duration_ms;
        c.steps.push(s);
        c.diagnosis = Some(RESTORE_DIAGNOSIS.to_string());
        c.cause = Some("sdk-restoration".to_string());
        c
    }

    /// Sorted by (flow, device, iteration), as `merge` sorts.
    pub fn results() -> RunResults {
        let mut cases = Vec::new();

        // full-cycle: one error (no diagnosis, only a message), one skipped.
        let mut error = case("full-cycle", "iphone-15", 1, Outcome::Error);
        error.message = Some("the device session was lost: connection reset".to_string());
        error.cause = Some("session-lost".to_string());
        error.steps[1].status = StepStatus::Error;
        error.steps[1].message = error.message.clone();
        cases.push(error);
        cases.push(case("full-cycle", "iphone-15", 2, Outcome::Skipped));
        cases.push(case("full-cycle", "pixel-8", 1, Outcome::Passed));
        cases.push(case("full-cycle", "pixel-8", 2, Outcome::Passed));

        // session-restore: iOS fails twice and is flaky once; Android passes.
        let mut passed = case("session-restore", "iphone-15", 1, Outcome::Passed);
        passed.restore_ms = Some(1_840);
        passed.artifacts = vec!["session-restore/iphone-15/1/after-relaunch.png".to_string()];
        passed.snapshots = vec![Snapshot {
            name: "after-relaunch".to_string(),
            at_ms: 900,
            storage_source: crate::driver::StorageSource::Virtual,
            storage: vec![StorageEntry {
                key: "__clerk_client_jwt".to_string(),
                store: "app:no-auth".to_string(),
                digest: format!("sha256:{}", "ab".repeat(32)),
                claims: Some(serde_json::json!({"sid": "sess_2x", "exp": 1_700_000_060, "aud": null})),
            }],
            app_state: Some(4),
            auth: "signedIn".to_string(),
            screenshot: Some("session-restore/iphone-15/1/after-relaunch.png".to_string()),
            source: None,
        }];
        cases.push(passed);
        cases.push(failed_restore(case("session-restore", "iphone-15", 2, Outcome::Failed)));
        let mut flaky = failed_restore(case("session-restore", "iphone-15", 3, Outcome::Flaky));
        flaky.attempts = 2;
        flaky.attempt_history = vec![AttemptRecord {
            attempt: 1,
            outcome: Outcome::Failed,
            message: flaky.message.clone(),
            diagnosis: Some(RESTORE_DIAGNOSIS.to_string()),
            cause: Some("sdk-restoration".to_string()),
            duration_ms: 10_973,
            seed: 10,
        }];
        flaky.steps[2].status = StepStatus::Passed;
        flaky.steps[2].message = None;
        cases.push(flaky);
        cases.push(failed_restore(case("session-restore", "iphone-15", 4, Outcome::Failed)));
        let mut warned = case("session-restore", "pixel-8", 1, Outcome::Passed);
        warned.steps[1].depth = 1;
        warned.steps[1].status = StepStatus::Warned;
        warned.steps[1].message = Some("optional step failed: no element id=auth-continue".to_string());
        cases.push(warned);
        cases.push(case("session-restore", "pixel-8", 2, Outcome::Passed));

        RunResults {
            run_id: "20250101-120000-abcd".to_string(),
            harness_version: env!("CARGO_PKG_VERSION").to_string(),
            started_at_ms: 1_735_732_800_000,
            duration_ms: 61_000,
            seed: 42,
            shard: None,
            cases,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_all_writes_every_report() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run-1");
        let paths = write_all(&out, &fixture::results()).unwrap();
        assert_eq!(
            paths,
            vec![out.join("results.json"), out.join("junit.xml"), out.join("index.html")]
        );
        for p in &paths {
            assert!(p.is_file(), "{} missing", p.display());
        }
        let leftovers: Vec<_> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn write_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("not-a-dir");
        fs::write(&blocker, "x").unwrap();
        let err = write_all(&blocker, &fixture::results()).unwrap_err();
        assert!(matches!(err, ReportError::CreateDir { .. }), "{err:?}");
        assert!(err.to_string().contains("not-a-dir"), "{err}");
        assert!(std::error::Error::source(&err).is_some());
    }
}
