//! `results.json`: the run's results as the result model defines them, written pretty with the
//! structs' field order, read back strictly, and merged across CI shards.

use std::cmp::Ordering;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::error::Category;

use super::{ReportError, write_file};
use crate::results::{CaseResult, RunResults};

/// File name of the results in a run directory.
pub const RESULTS_FILE: &str = "results.json";

/// Writes `dir/results.json` (creating `dir`), pretty-printed, and returns its path.
pub fn write_results(dir: &Path, results: &RunResults) -> Result<PathBuf, ReportError> {
    let path = dir.join(RESULTS_FILE);
    let mut bytes = serde_json::to_vec_pretty(results).map_err(|source| ReportError::Serialize {
        path: path.clone(),
        source,
    })?;
    bytes.push(b'\n');
    write_file(dir, &path, &bytes)?;
    Ok(path)
}

/// Reads a `results.json`. Fields this harness does not know are refused, not ignored: a file
/// from a newer harness fails with the line and column of the first unknown field, and with
/// both versions when the file names its own.
pub fn read_results(path: &Path) -> Result<RunResults, ReportError> {
    let text = fs::read_to_string(path).map_err(|source| ReportError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    match serde_json::from_str::<strict::Run>(&text) {
        Ok(run) => Ok(run.into()),
        Err(source) => Err(invalid(path, &text, source)),
    }
}

fn invalid(path: &Path, text: &str, source: serde_json::Error) -> ReportError {
    let problem = match source.classify() {
        Category::Eof => "empty or truncated json".to_string(),
        Category::Syntax | Category::Io => "invalid json".to_string(),
        Category::Data => {
            let ours = env!("CARGO_PKG_VERSION");
            let theirs = serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| v.get("harness_version")?.as_str().map(str::to_string));
            match theirs {
                Some(v) if v != ours => {
                    format!("not results this harness can read (written by harness {v}; this is harness {ours})")
                }
                _ => "not results this harness can read".to_string(),
            }
        }
    };
    ReportError::InvalidResults {
        path: path.to_path_buf(),
        line: source.line(),
        column: source.column(),
        problem,
        source,
    }
}

/// Merges the results of CI shards into one run: the cases of all parts sorted by
/// (flow, device, iteration); run id, harness version and seed of the first part; durations
/// summed; the earliest start; no shard. A case (flow, device, iteration) present in more
/// than one part is an error that names every such case and its parts.
pub fn merge(parts: Vec<RunResults>) -> Result<RunResults, ReportError> {
    let Some(first) = parts.first() else {
        return Err(ReportError::NothingToMerge);
    };
    let mut merged = RunResults {
        run_id: first.run_id.clone(),
        harness_version: first.harness_version.clone(),
        started_at_ms: parts.iter().map(|p| p.started_at_ms).min().unwrap_or(0),
        duration_ms: parts.iter().fold(0u64, |sum, p| sum.saturating_add(p.duration_ms)),
        seed: first.seed,
        shard: None,
        cases: Vec::new(),
    };

    let mut tagged: Vec<(usize, CaseResult)> = Vec::new();
    let mut labels = Vec::with_capacity(parts.len());
    for (i, part) in parts.into_iter().enumerate() {
        labels.push(match &part.shard {
            Some(shard) => format!("shard {shard}"),
            None => format!("part {}", i + 1),
        });
        tagged.extend(part.cases.into_iter().map(|c| (i, c)));
    }
    tagged.sort_by(|(pa, a), (pb, b)| case_order(a, b).then(pa.cmp(pb)));

    let mut duplicates = Vec::new();
    let mut i = 0;
    while i < tagged.len() {
        let mut j = i + 1;
        while j < tagged.len() && case_order(&tagged[i].1, &tagged[j].1) == Ordering::Equal {
            j += 1;
        }
        if j - i > 1 {
            let c = &tagged[i].1;
            let held_by: Vec<&str> = tagged[i..j].iter().map(|(p, _)| labels[*p].as_str()).collect();
            duplicates.push(format!(
                "{} [{}] #{} (in {})",
                c.flow,
                c.device,
                c.iteration,
                held_by.join(" and ")
            ));
        }
        i = j;
    }
    if !duplicates.is_empty() {
        return Err(ReportError::DuplicateCases { cases: duplicates });
    }
    merged.cases = tagged.into_iter().map(|(_, c)| c).collect();
    Ok(merged)
}

fn case_order(a: &CaseResult, b: &CaseResult) -> Ordering {
    (a.flow.as_str(), a.device.as_str(), a.iteration).cmp(&(b.flow.as_str(), b.device.as_str(), b.iteration))
}

/// The result model with `deny_unknown_fields`, for reading only: serde_json then reports an
/// unknown field (a newer harness's) with its line and column, where the model's own derive
/// would silently drop it. The `From` impls build the model's structs with struct literals,
/// so adding, removing or retyping a model field is a compile error here, not a drift.
mod strict {
    use serde::Deserialize;

    use crate::results as model;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Run {
        run_id: String,
        harness_version: String,
        started_at_ms: u64,
        duration_ms: u64,
        seed: u64,
        #[serde(default)]
        shard: Option<String>,
        cases: Vec<Case>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Case {
        flow: String,
        flow_file: String,
        device: String,
        platform: String,
        iteration: u32,
        outcome: model::Outcome,
        #[serde(default)]
        diagnosis: Option<String>,
        #[serde(default)]
        cause: Option<String>,
        #[serde(default)]
        message: Option<String>,
        duration_ms: u64,
        attempts: u32,
        /// Added after 0.1: files without it read as "no earlier attempts".
        #[serde(default)]
        attempt_history: Vec<Attempt>,
        steps: Vec<Step>,
        snapshots: Vec<Snapshot>,
        #[serde(default)]
        restore_ms: Option<u64>,
        #[serde(default)]
        cold_launch_ms: Option<u64>,
        artifacts: Vec<String>,
        seed: u64,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Attempt {
        attempt: u32,
        outcome: model::Outcome,
        #[serde(default)]
        message: Option<String>,
        #[serde(default)]
        diagnosis: Option<String>,
        #[serde(default)]
        cause: Option<String>,
        duration_ms: u64,
        seed: u64,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Step {
        name: String,
        at: String,
        depth: u32,
        status: model::StepStatus,
        start_ms: u64,
        duration_ms: u64,
        #[serde(default)]
        message: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Snapshot {
        name: String,
        at_ms: u64,
        storage_source: crate::driver::StorageSource,
        storage: Vec<StorageEntry>,
        #[serde(default)]
        app_state: Option<i64>,
        auth: String,
        #[serde(default)]
        screenshot: Option<String>,
        #[serde(default)]
        source: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct StorageEntry {
        key: String,
        store: String,
        digest: String,
        /// Free-form claims: anything goes inside.
        #[serde(default)]
        claims: Option<serde_json::Value>,
    }

    impl From<Run> for model::RunResults {
        fn from(r: Run) -> Self {
            model::RunResults {
                run_id: r.run_id,
                harness_version: r.harness_version,
                started_at_ms: r.started_at_ms,
                duration_ms: r.duration_ms,
                seed: r.seed,
                shard: r.shard,
                cases: r.cases.into_iter().map(Into::into).collect(),
            }
        }
    }

    impl From<Case> for model::CaseResult {
        fn from(c: Case) -> Self {
            model::CaseResult {
                flow: c.flow,
                flow_file: c.flow_file,
                device: c.device,
                platform: c.platform,
                iteration: c.iteration,
                outcome: c.outcome,
                diagnosis: c.diagnosis,
                cause: c.cause,
                message: c.message,
                duration_ms: c.duration_ms,
                attempts: c.attempts,
                attempt_history: c.attempt_history.into_iter().map(Into::into).collect(),
                steps: c.steps.into_iter().map(Into::into).collect(),
                snapshots: c.snapshots.into_iter().map(Into::into).collect(),
                restore_ms: c.restore_ms,
                cold_launch_ms: c.cold_launch_ms,
                artifacts: c.artifacts,
                seed: c.seed,
            }
        }
    }

    impl From<Attempt> for model::AttemptRecord {
        fn from(a: Attempt) -> Self {
            model::AttemptRecord {
                attempt: a.attempt,
                outcome: a.outcome,
                message: a.message,
                diagnosis: a.diagnosis,
                cause: a.cause,
                duration_ms: a.duration_ms,
                seed: a.seed,
            }
        }
    }

    impl From<Step> for model::StepResult {
        fn from(s: Step) -> Self {
            model::StepResult {
                name: s.name,
                at: s.at,
                depth: s.depth,
                status: s.status,
                start_ms: s.start_ms,
                duration_ms: s.duration_ms,
                message: s.message,
            }
        }
    }

    impl From<Snapshot> for model::Snapshot {
        fn from(s: Snapshot) -> Self {
            model::Snapshot {
                name: s.name,
                at_ms: s.at_ms,
                storage_source: s.storage_source,
                storage: s.storage.into_iter().map(Into::into).collect(),
                app_state: s.app_state,
                auth: s.auth,
                screenshot: s.screenshot,
                source: s.source,
            }
        }
    }

    impl From<StorageEntry> for model::StorageEntry {
        fn from(e: StorageEntry) -> Self {
            model::StorageEntry {
                key: e.key,
                store: e.store,
                digest: e.digest,
                claims: e.claims,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;
    use crate::results::Outcome;

    #[test]
    fn round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let results = fixture::results();
        let path = write_results(dir.path(), &results).unwrap();
        assert_eq!(path, dir.path().join("results.json"));
        assert_eq!(read_results(&path).unwrap(), results);
    }

    #[test]
    fn attempt_history_round_trips_and_older_files_read_without_it() {
        let dir = tempfile::tempdir().unwrap();
        let results = fixture::results();
        let flaky = &results.cases[6];
        assert_eq!(flaky.attempt_history.len(), 1);
        let path = write_results(dir.path(), &results).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        // Only the retried case has the list; the others leave it out.
        assert_eq!(text.matches("\"attempt_history\"").count(), 1, "{text}");
        assert!(text.contains("\"attempt\": 1"), "{text}");
        assert_eq!(
            read_results(&path).unwrap().cases[6].attempt_history,
            flaky.attempt_history
        );

        // A results.json written before the field existed.
        let mut value = serde_json::to_value(&results).unwrap();
        value["cases"][6].as_object_mut().unwrap().remove("attempt_history");
        let (_dir, path) = write_text(&serde_json::to_string_pretty(&value).unwrap());
        let read = read_results(&path).unwrap();
        assert!(read.cases[6].attempt_history.is_empty());
        assert_eq!(read.cases[6].attempts, 2);

        // Unknown fields inside an attempt are refused like anywhere else.
        let mut value = serde_json::to_value(&results).unwrap();
        value["cases"][6]["attempt_history"][0]["screenshot"] = "x.png".into();
        let (_dir, path) = write_text(&value.to_string());
        let err = read_results(&path).unwrap_err();
        let ReportError::InvalidResults { source, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(source.to_string().contains("unknown field `screenshot`"), "{source}");
    }

    #[test]
    fn pretty_with_the_structs_field_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_results(dir.path(), &fixture::results()).unwrap();
        let text = fs::read_to_string(path).unwrap();
        assert!(text.starts_with("{\n  \"run_id\": "), "{text}");
        assert!(text.ends_with("}\n"));
        let keys = [
            "\"run_id\"",
            "\"harness_version\"",
            "\"started_at_ms\"",
            "\"duration_ms\"",
            "\"seed\"",
            "\"cases\"",
        ];
        let at: Vec<usize> = keys.iter().map(|k| text.find(k).unwrap()).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}");
        // Options that are None are left out; the model's `default` reads them back.
        assert!(!text.contains("\"shard\""));
        assert!(text.contains("\"outcome\": \"flaky\""));
    }

    fn write_text(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.json");
        fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn invalid_json_names_file_line_and_column() {
        let (_dir, path) = write_text("{\n  \"run_id\": \"x\",\n  oops\n}\n");
        let err = read_results(&path).unwrap_err();
        let ReportError::InvalidResults { line, column, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!((*line, *column), (3, 3));
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("{}:3:3: invalid json", path.display())),
            "{msg}"
        );
        assert!(std::error::Error::source(&err).is_some());

        let (_dir, path) = write_text("");
        let msg = read_results(&path).unwrap_err().to_string();
        assert!(msg.contains("empty or truncated json"), "{msg}");
    }

    #[test]
    fn unknown_fields_are_refused_with_versions() {
        let mut value = serde_json::to_value(fixture::results()).unwrap();
        value["harness_version"] = "9.0.0".into();
        value["cases"][3]["retry_policy"] = "exponential".into();
        let (_dir, path) = write_text(&serde_json::to_string_pretty(&value).unwrap());
        let err = read_results(&path).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("written by harness 9.0.0; this is harness"), "{msg}");
        let ReportError::InvalidResults { line, source, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(source.to_string().contains("unknown field `retry_policy`"), "{source}");
        let text = fs::read_to_string(&path).unwrap();
        let field_line = text.lines().position(|l| l.contains("retry_policy")).unwrap() + 1;
        assert_eq!(*line, field_line);
    }

    #[test]
    fn unknown_outcome_and_missing_field_are_refused() {
        let mut value = serde_json::to_value(fixture::results()).unwrap();
        value["cases"][0]["outcome"] = "quarantined".into();
        let (_dir, path) = write_text(&value.to_string());
        let err = read_results(&path).unwrap_err();
        let ReportError::InvalidResults { source, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(source.to_string().contains("unknown variant `quarantined`"), "{source}");
        assert!(err.to_string().ends_with("not results this harness can read"), "{err}");

        let mut value = serde_json::to_value(fixture::results()).unwrap();
        value.as_object_mut().unwrap().remove("seed");
        let (_dir, path) = write_text(&value.to_string());
        let err = read_results(&path).unwrap_err();
        let ReportError::InvalidResults { source, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(source.to_string().contains("missing field `seed`"), "{source}");
    }

    #[test]
    fn missing_file_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope.json");
        let err = read_results(&path).unwrap_err();
        assert!(matches!(err, ReportError::Read { .. }));
        assert!(err.to_string().contains("nope.json"), "{err}");
    }

    /// Splits the fixture into two shards the way CI would (round robin, interleaved).
    fn shards() -> (RunResults, RunResults) {
        let all = fixture::results();
        let mut a = all.clone();
        let mut b = all.clone();
        a.shard = Some("1/2".to_string());
        b.shard = Some("2/2".to_string());
        a.run_id = all.run_id.clone();
        b.run_id = "other-shard-run".to_string();
        b.seed = 43;
        a.started_at_ms = all.started_at_ms + 5;
        b.started_at_ms = all.started_at_ms;
        a.duration_ms = 25_000;
        b.duration_ms = all.duration_ms - 25_000;
        a.cases = all.cases.iter().step_by(2).cloned().collect();
        b.cases = all.cases.iter().skip(1).step_by(2).cloned().collect();
        b.cases.reverse();
        (a, b)
    }

    #[test]
    fn merging_shards_gives_the_unsharded_results() {
        let (a, b) = shards();
        let merged = merge(vec![a, b]).unwrap();
        assert_eq!(merged, fixture::results());
        assert_eq!(merged.count(Outcome::Failed), 2);
    }

    #[test]
    fn merging_refuses_duplicates_and_names_them() {
        let (a, mut b) = shards();
        b.cases.push(a.cases[0].clone());
        b.cases.push(a.cases[2].clone());
        let err = merge(vec![a, b]).unwrap_err();
        let msg = err.to_string();
        assert_eq!(
            msg,
            "cannot merge results: 2 cases are in more than one part: \
             full-cycle [iphone-15] #1 (in shard 1/2 and shard 2/2), \
             session-restore [iphone-15] #1 (in shard 1/2 and shard 2/2)"
        );

        let one = fixture::results();
        let mut unlabeled = one.clone();
        unlabeled.cases.truncate(1);
        let err = merge(vec![one, unlabeled]).unwrap_err();
        assert!(
            err.to_string()
                .contains("1 case is in more than one part: full-cycle [iphone-15] #1 (in part 1 and part 2)"),
            "{err}"
        );
    }

    #[test]
    fn merging_nothing_is_an_error_and_one_part_is_itself() {
        assert!(matches!(merge(Vec::new()), Err(ReportError::NothingToMerge)));
        let mut one = fixture::results();
        one.shard = Some("1/1".to_string());
        let merged = merge(vec![one]).unwrap();
        assert_eq!(merged, fixture::results());
    }
}
