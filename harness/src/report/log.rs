//! `events.jsonl`: a run's crash-safe log. The campaign writes a header line when the run
//! starts and one line per finished case as it ends (each line flushed), so that a run
//! killed with `kill -9`, or a machine that went away, leaves every finished case on disk;
//! `harness report reports/RUN_ID` rebuilds results.json, junit.xml and index.html from it
//! ([`read_events_log`]) when results.json is missing.
//!
//! Lines are JSON objects with a `type`: `run` (the header: run id, seed, shard, start time,
//! the planned cases), `round` (`--until-confident`), `case` (a finished case's result, as
//! results.json holds it) and `end`. A torn last line (the process died mid-write) is
//! ignored.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::report::ReportError;
use crate::results::{CaseResult, Outcome, PlannedCase, RunResults};

/// The log's file name in a run directory.
pub const EVENTS_FILE: &str = "events.jsonl";

/// The header line: what a rebuilt results.json needs besides the cases.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogHeader {
    pub run_id: String,
    pub harness_version: String,
    pub started_at_ms: u64,
    pub seed: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// The planned cases, in plan order; empty for `--until-confident` (its plan is a cap,
    /// not a promise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub planned: Vec<PlannedCase>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Line {
    Run(LogHeader),
    Round {
        round: u32,
    },
    Case {
        round: u32,
        index: usize,
        /// Unix ms when the case ended.
        at_ms: u64,
        result: Box<CaseResult>,
    },
    End {
        at_ms: u64,
    },
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The writer: one line per call, flushed before it returns.
#[derive(Debug)]
pub struct EventLog {
    file: File,
    path: PathBuf,
    round: u32,
}

impl EventLog {
    /// Creates `dir/events.jsonl` with its header line.
    pub fn create(dir: &Path, header: LogHeader) -> io::Result<EventLog> {
        let path = dir.join(EVENTS_FILE);
        let file = File::create(&path)?;
        let mut log = EventLog { file, path, round: 0 };
        log.write(&Line::Run(header))?;
        Ok(log)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write(&mut self, line: &Line) -> io::Result<()> {
        let mut text = serde_json::to_vec(line).map_err(io::Error::other)?;
        text.push(b'\n');
        // One write per line: a kill leaves whole lines and at most one torn last line.
        self.file.write_all(&text)?;
        self.file.flush()
    }

    /// `--until-confident`: the cases that follow belong to `round`.
    pub fn round(&mut self, round: u32) -> io::Result<()> {
        self.round = round;
        self.write(&Line::Round { round })
    }

    /// A finished case (`index` as in its `CaseFinished` event).
    pub fn case(&mut self, index: usize, result: &CaseResult) -> io::Result<()> {
        self.write(&Line::Case {
            round: self.round,
            index,
            at_ms: now_ms(),
            result: Box::new(result.clone()),
        })
    }

    /// The run ended and its reports follow.
    pub fn end(&mut self) -> io::Result<()> {
        self.write(&Line::End { at_ms: now_ms() })
    }
}

/// The message of a planned case that the log has no result for.
pub const NEVER_ENDED: &str = "not run: the run stopped before this case ended (rebuilt from events.jsonl)";

/// Rebuilds a run's results from its `events.jsonl`: every finished case, in plan order,
/// then the planned cases that never ended as `skipped`.
pub fn read_events_log(path: &Path) -> Result<RunResults, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReportError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut header: Option<LogHeader> = None;
    let mut cases: Vec<((u32, usize), CaseResult)> = vec![];
    let mut last_ms = 0;
    for (n, line) in lines.iter().enumerate() {
        let parsed: Line = match serde_json::from_str(line) {
            Ok(l) => l,
            // The process died while writing its last line.
            Err(_) if n + 1 == lines.len() && !text.ends_with('\n') => break,
            Err(source) => {
                return Err(ReportError::InvalidResults {
                    path: path.to_path_buf(),
                    line: n + 1,
                    column: source.column(),
                    problem: source.to_string(),
                    source,
                });
            }
        };
        match parsed {
            Line::Run(h) => header = Some(h),
            Line::Round { .. } => {}
            Line::Case {
                round,
                index,
                at_ms,
                result,
            } => {
                last_ms = last_ms.max(at_ms);
                cases.push(((round, index), *result));
            }
            Line::End { at_ms } => last_ms = last_ms.max(at_ms),
        }
    }
    let header = header.ok_or_else(|| {
        let source = serde_json::from_str::<LogHeader>("").unwrap_err();
        ReportError::InvalidResults {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            problem: "no header line (type run): not a harness events log".into(),
            source,
        }
    })?;
    cases.sort_by_key(|(k, _)| *k);
    let mut cases: Vec<CaseResult> = cases.into_iter().map(|(_, c)| c).collect();
    let done: BTreeSet<(String, String, u32)> = cases
        .iter()
        .map(|c| (c.flow_file.clone(), c.device.clone(), c.iteration))
        .collect();
    if !header.planned.is_empty() {
        // Plan order, the never-ended cases in their places.
        let mut finished: Vec<Option<CaseResult>> = cases.into_iter().map(Some).collect();
        let mut out = vec![];
        for p in &header.planned {
            let key = (p.flow_file.clone(), p.device.clone(), p.iteration);
            if done.contains(&key) {
                if let Some(slot) = finished.iter_mut().find(|c| {
                    c.as_ref()
                        .is_some_and(|c| (c.flow_file.clone(), c.device.clone(), c.iteration) == key)
                }) {
                    out.extend(slot.take());
                }
            } else {
                out.push(never_ended(p));
            }
        }
        out.extend(finished.into_iter().flatten());
        cases = out;
    }
    Ok(RunResults {
        run_id: header.run_id,
        harness_version: header.harness_version,
        started_at_ms: header.started_at_ms,
        duration_ms: last_ms.saturating_sub(header.started_at_ms),
        seed: header.seed,
        shard: header.shard,
        cases,
    })
}

fn never_ended(p: &PlannedCase) -> CaseResult {
    CaseResult::not_run(p, Outcome::Skipped, Some(NEVER_ENDED.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    fn planned(c: &CaseResult) -> PlannedCase {
        PlannedCase {
            flow: c.flow.clone(),
            flow_file: c.flow_file.clone(),
            device: c.device.clone(),
            platform: c.platform.clone(),
            iteration: c.iteration,
            seed: c.seed,
        }
    }

    #[test]
    fn a_killed_run_is_rebuilt_with_its_finished_cases_in_plan_order() {
        let dir = tempfile::tempdir().unwrap();
        let all = fixture::results();
        let header = LogHeader {
            run_id: all.run_id.clone(),
            harness_version: all.harness_version.clone(),
            started_at_ms: all.started_at_ms,
            seed: all.seed,
            shard: Some("1/2".into()),
            planned: all.cases.iter().map(planned).collect(),
        };
        let mut log = EventLog::create(dir.path(), header).unwrap();
        // Cases 2 and 0 finished (in that order); the process died writing case 1.
        log.case(2, &all.cases[2]).unwrap();
        log.case(0, &all.cases[0]).unwrap();
        drop(log);
        let path = dir.path().join(EVENTS_FILE);
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"type":"case","round":0,"index":1,"at_ms":5,"res"#)
            .unwrap();
        drop(f);
        let r = read_events_log(&path).unwrap();
        assert_eq!(r.run_id, all.run_id);
        assert_eq!(r.shard.as_deref(), Some("1/2"));
        assert_eq!(r.cases.len(), all.cases.len());
        assert_eq!(r.cases[0], all.cases[0]);
        assert_eq!(r.cases[2], all.cases[2]);
        for (i, c) in r.cases.iter().enumerate().skip(3).chain([(1, &r.cases[1])]) {
            assert_eq!(c.outcome, Outcome::Skipped, "{i}");
            assert_eq!(c.message.as_deref(), Some(NEVER_ENDED));
            assert_eq!(
                (c.flow.as_str(), c.iteration),
                (all.cases[i].flow.as_str(), all.cases[i].iteration)
            );
        }
    }

    #[test]
    fn a_log_without_header_or_with_a_bad_middle_line_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EVENTS_FILE);
        std::fs::write(&path, "{\"type\":\"end\",\"at_ms\":1}\n").unwrap();
        let err = read_events_log(&path).unwrap_err().to_string();
        assert!(err.contains("no header line"), "{err}");
        std::fs::write(&path, "{\"type\":\"run\"\nnot json\n{\"type\":\"end\",\"at_ms\":1}\n").unwrap();
        let err = read_events_log(&path).unwrap_err().to_string();
        assert!(err.contains(":1:"), "{err}");
    }
}
