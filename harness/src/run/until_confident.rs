//! `--until-confident`: each flow × device runs in rounds until a sequential probability
//! ratio test (indifference ±0.05 around the threshold, α = β = 0.05) decides whether its
//! pass rate is below or above the threshold, or the cap of iterations ran. Each round runs
//! enough iterations of the undecided cells to keep `--parallel` devices busy; a
//! `RoundStarted` event precedes it.

use std::fmt;
use std::time::Instant;

use crate::errors::HarnessError;
use crate::event::{Events, RunEvent};
use crate::results::{CaseResult, Outcome};
use crate::run::plan::CaseSpec;
use crate::run::runner::Runner;
use crate::stats::{Decision, Sprt};

/// Half-width of the indifference region around the threshold, and both error rates.
const DELTA: f64 = 0.05;
const ALPHA: f64 = 0.05;
const BETA: f64 = 0.05;

/// The test and its cap.
#[derive(Clone, Debug)]
pub struct UntilConfident {
    test: Sprt,
    threshold: f64,
    max: u32,
}

/// What the test decided for one flow × device.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub flow: String,
    pub device: String,
    pub decision: Decision,
    /// Runs it took (at most `max`).
    pub runs: usize,
    pub threshold: f64,
    /// The fixed number of iterations it is compared with (`-n`).
    pub max: u32,
}

impl fmt::Display for Verdict {
    /// `session-restore on virtual-ios: pass rate below 90 % after 7 runs (fixed N = 30)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = self.threshold * 100.0;
        write!(f, "{} on {}: ", self.flow, self.device)?;
        match self.decision {
            Decision::AcceptH0 => write!(f, "pass rate below {pct:.0} %")?,
            Decision::AcceptH1 => write!(f, "pass rate at or above {pct:.0} %")?,
            Decision::Continue => f.write_str("undecided")?,
        }
        write!(f, " after {} runs (fixed N = {})", self.runs, self.max)
    }
}

impl UntilConfident {
    /// The test around `threshold`, capped at `max` iterations per flow × device.
    pub fn new(threshold: f64, max: u32) -> Result<Self, HarnessError> {
        let test = Sprt::threshold(threshold, DELTA, ALPHA, BETA)
            .map_err(|reason| HarnessError::InvalidThreshold { threshold, reason })?;
        Ok(UntilConfident { test, threshold, max })
    }

    /// Runs `cases` (the plan up to the cap) round by round as one run: `RunStarted` (with
    /// the cap's total), a `RoundStarted` and the cases of each round, `RunFinished`. Returns
    /// the results sorted by flow, device and iteration, and a verdict per flow × device in
    /// plan order.
    pub async fn run(&self, runner: &Runner, cases: Vec<CaseSpec>, events: &Events) -> (Vec<CaseResult>, Vec<Verdict>) {
        let started = Instant::now();
        let config = runner.config();
        events.send(RunEvent::RunStarted {
            run_id: config.run_id.clone(),
            total: cases.len(),
            parallel: config.parallel,
            seed: config.seed,
        });
        // Cells in plan order, each with its cases in iteration order.
        let mut cells: Vec<Cell> = vec![];
        for c in cases {
            let key = (c.flow.clone(), c.device.clone());
            match cells.iter_mut().find(|cell| cell.key == key) {
                Some(cell) => cell.cases.push(c),
                None => cells.push(Cell {
                    key,
                    cases: vec![c],
                    test: self.test.clone(),
                }),
            }
        }
        let mut out: Vec<CaseResult> = vec![];
        let mut next = 0usize;
        let mut round = 0;
        loop {
            let open: Vec<usize> = (0..cells.len())
                .filter(|&i| cells[i].test.decision() == Decision::Continue && next < cells[i].cases.len())
                .collect();
            if open.is_empty() {
                break;
            }
            // Enough iterations per round to keep `parallel` devices busy.
            let per = (config.parallel / open.len()).max(1);
            let mut batch = vec![];
            for &i in &open {
                batch.extend(cells[i].cases.iter().skip(next).take(per).cloned());
            }
            next += per;
            round += 1;
            events.send(RunEvent::RoundStarted {
                round,
                cases: batch.len(),
            });
            let mut results = runner.run_cases(batch, events).await;
            results.sort_by_key(|r| r.iteration);
            for r in &results {
                if let Some(cell) = cells.iter_mut().find(|c| c.key.0 == r.flow && c.key.1 == r.device) {
                    match r.outcome {
                        Outcome::Passed | Outcome::Flaky => {
                            cell.test.update(true);
                        }
                        Outcome::Failed => {
                            cell.test.update(false);
                        }
                        Outcome::Error | Outcome::Skipped => {}
                    }
                }
            }
            out.extend(results);
        }
        let verdicts = cells
            .iter()
            .map(|cell| Verdict {
                flow: cell.key.0.clone(),
                device: cell.key.1.clone(),
                decision: cell.test.decision(),
                runs: out
                    .iter()
                    .filter(|r| r.flow == cell.key.0 && r.device == cell.key.1)
                    .count(),
                threshold: self.threshold,
                max: self.max,
            })
            .collect();
        out.sort_by_key(|r| (r.flow.clone(), r.device.clone(), r.iteration));
        events.send(RunEvent::RunFinished {
            duration_ms: started.elapsed().as_millis() as u64,
        });
        (out, verdicts)
    }
}

/// A flow × device under test.
struct Cell {
    key: (String, String),
    cases: Vec<CaseSpec>,
    test: Sprt,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_read_as_before() {
        let v = |decision| Verdict {
            flow: "session-restore".into(),
            device: "virtual-ios".into(),
            decision,
            runs: 7,
            threshold: 0.9,
            max: 30,
        };
        assert_eq!(
            v(Decision::AcceptH0).to_string(),
            "session-restore on virtual-ios: pass rate below 90 % after 7 runs (fixed N = 30)"
        );
        assert_eq!(
            v(Decision::AcceptH1).to_string(),
            "session-restore on virtual-ios: pass rate at or above 90 % after 7 runs (fixed N = 30)"
        );
        assert_eq!(
            v(Decision::Continue).to_string(),
            "session-restore on virtual-ios: undecided after 7 runs (fixed N = 30)"
        );
    }

    #[test]
    fn thresholds_without_room_are_invalid_input() {
        assert!(UntilConfident::new(0.9, 30).is_ok());
        let err = UntilConfident::new(0.99, 30).unwrap_err();
        assert!(matches!(err, HarnessError::InvalidThreshold { .. }), "{err:?}");
        assert_eq!(err.exit_code(), crate::exit_codes::INVALID_INPUT);
    }
}
