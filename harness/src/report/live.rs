//! The live status line of a run on a terminal: one line, redrawn in place (`\r` and
//! clear-line), with the cases done out of the total, passed / failed / errors so far, the
//! time elapsed and an estimate of the time left (the mean case duration × the cases left ÷
//! the parallelism). Cases that did not pass are printed above it as the plain
//! `[n/total] …` lines ([`ProgressLines`]), so they stay in the scrollback.
//!
//! Pure: the caller gives the time (`elapsed`) and writes the text, so the rendering is
//! tested with a fixed clock. The CLI uses it when stderr is a terminal and `CI` is unset,
//! and the plain lines otherwise.

use std::time::Duration;

use crate::event::RunEvent;
use crate::report::ProgressLines;
use crate::results::Outcome;

/// Moves to the line's start and clears it.
pub const CLEAR_LINE: &str = "\r\x1b[2K";

/// The status line's state.
#[derive(Debug, Default)]
pub struct LiveStatus {
    lines: ProgressLines,
    total: usize,
    done: usize,
    passed: usize,
    failed: usize,
    errors: usize,
    skipped: usize,
    parallel: usize,
    case_ms: u64,
    round: Option<u32>,
}

impl LiveStatus {
    pub fn new() -> Self {
        Self::default()
    }

    /// What to write for `event` at `elapsed` into the run: the lines to print above the
    /// status line (each ending with a newline) followed by the redrawn status line, or
    /// `None` when nothing changes.
    pub fn observe(&mut self, event: &RunEvent, elapsed: Duration) -> Option<String> {
        let line = self.lines.line(event);
        match event {
            RunEvent::RunStarted { total, parallel, .. } => {
                (self.total, self.parallel) = (*total, (*parallel).max(1));
            }
            RunEvent::RoundStarted { round, cases } => {
                self.round = Some(*round);
                self.total = self.done + cases;
            }
            RunEvent::CaseFinished { result, .. } => {
                self.done += 1;
                self.case_ms += result.duration_ms;
                match result.outcome {
                    Outcome::Passed | Outcome::Flaky => self.passed += 1,
                    Outcome::Failed => self.failed += 1,
                    Outcome::Error => self.errors += 1,
                    Outcome::Skipped => self.skipped += 1,
                }
                let mut out = String::from(CLEAR_LINE);
                if result.outcome != Outcome::Passed
                    && let Some(line) = line
                {
                    out.push_str(&line);
                    out.push('\n');
                }
                out.push_str(&self.status(elapsed));
                return Some(out);
            }
            RunEvent::RunFinished { .. } => return Some(CLEAR_LINE.to_string()),
            RunEvent::CaseStarted { .. } | RunEvent::StepFinished { .. } => return None,
        }
        Some(format!("{CLEAR_LINE}{}", self.status(elapsed)))
    }

    /// The status line redrawn at `elapsed` (a clock tick: the elapsed time moves).
    pub fn tick(&self, elapsed: Duration) -> String {
        format!("{CLEAR_LINE}{}", self.status(elapsed))
    }

    /// `[3/16] 2 passed, 1 failed, 0 errors · 0:42 elapsed · about 1:20 left`.
    pub fn status(&self, elapsed: Duration) -> String {
        let round = self.round.map(|r| format!("round {r} ")).unwrap_or_default();
        let skipped = if self.skipped > 0 {
            format!(", {} skipped", self.skipped)
        } else {
            String::new()
        };
        let eta = match self.eta() {
            Some(left) => format!(" · about {} left", clock(left)),
            None if self.done < self.total => " · estimating…".to_string(),
            None => String::new(),
        };
        format!(
            "{round}[{}/{}] {} passed, {} failed, {} errors{skipped} · {} elapsed{eta}",
            self.done,
            self.total,
            self.passed,
            self.failed,
            self.errors,
            clock(elapsed)
        )
    }

    /// Mean case duration × cases left ÷ parallelism; `None` before the first case ends.
    fn eta(&self) -> Option<Duration> {
        if self.done == 0 || self.done >= self.total {
            return None;
        }
        let mean = self.case_ms as f64 / self.done as f64;
        let left = (self.total - self.done) as f64;
        let lanes = self.parallel.max(1).min(self.total - self.done) as f64;
        Some(Duration::from_millis((mean * left / lanes).round() as u64))
    }
}

/// `m:ss`, or `h:mm:ss` from an hour on.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    fn finished(n: usize, duration_ms: u64) -> RunEvent {
        let mut result = fixture::results().cases[n].clone();
        result.duration_ms = duration_ms;
        RunEvent::CaseFinished {
            index: n,
            result: Box::new(result),
        }
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn the_status_line_counts_outcomes_and_estimates_the_time_left() {
        let mut live = LiveStatus::new();
        let started = RunEvent::RunStarted {
            run_id: "r".into(),
            total: 10,
            parallel: 2,
            seed: 1,
        };
        assert_eq!(
            live.observe(&started, secs(0)).unwrap(),
            "\r\x1b[2K[0/10] 0 passed, 0 failed, 0 errors · 0:00 elapsed · estimating…"
        );
        let key = crate::event::CaseKey {
            flow: "f".into(),
            device: "d".into(),
            iteration: 1,
            attempt: 1,
        };
        assert_eq!(live.observe(&RunEvent::CaseStarted { case: key }, secs(1)), None);
        // A pass only redraws the line: 4 s per case, 9 left on 2 lanes → 18 s.
        assert_eq!(
            live.observe(&finished(2, 4000), secs(4)).unwrap(),
            "\r\x1b[2K[1/10] 1 passed, 0 failed, 0 errors · 0:04 elapsed · about 0:18 left"
        );
        // A failure is printed above the line, which is redrawn under it.
        assert_eq!(
            live.observe(&finished(5, 8000), secs(9)).unwrap(),
            "\r\x1b[2K[2/10] session-restore on iphone-15 #2: failed (sdk-restoration) in 8.0 s\n\
             [2/10] 1 passed, 1 failed, 0 errors · 0:09 elapsed · about 0:24 left"
        );
        // The clock moves between events.
        assert_eq!(
            live.tick(secs(75)),
            "\r\x1b[2K[2/10] 1 passed, 1 failed, 0 errors · 1:15 elapsed · about 0:24 left"
        );
        let error = live.observe(&finished(0, 0), secs(80)).unwrap();
        assert!(error.contains("error (session-lost)"), "{error}");
        assert!(
            error.ends_with("[3/10] 1 passed, 1 failed, 1 errors · 1:20 elapsed · about 0:14 left"),
            "{error}"
        );
        // The end clears the line for the summary.
        assert_eq!(
            live.observe(&RunEvent::RunFinished { duration_ms: 1 }, secs(90))
                .unwrap(),
            CLEAR_LINE
        );
        assert_eq!(clock(secs(3725)), "1:02:05");
    }

    #[test]
    fn the_last_cases_are_not_divided_by_idle_lanes() {
        let mut live = LiveStatus::new();
        live.observe(
            &RunEvent::RunStarted {
                run_id: "r".into(),
                total: 2,
                parallel: 8,
                seed: 1,
            },
            secs(0),
        );
        let line = live.observe(&finished(2, 6000), secs(6)).unwrap();
        assert!(line.ends_with("about 0:06 left"), "{line}");
        let line = live.observe(&finished(3, 6000), secs(7)).unwrap();
        assert!(
            line.ends_with("[2/2] 2 passed, 0 failed, 0 errors · 0:07 elapsed"),
            "{line}"
        );
    }
}
