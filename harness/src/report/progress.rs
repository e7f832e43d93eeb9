//! The terminal's progress lines, from a run's events: one line per finished case,
//! `[3/16] session-restore on virtual-ios #2: failed (sdk-restoration) in 4.1 s`, numbered
//! within the run (or within the round, for `--until-confident`).

use crate::event::RunEvent;

/// Turns events into progress lines; the caller prints them.
#[derive(Debug, Default)]
pub struct ProgressLines {
    done: usize,
    total: usize,
}

impl ProgressLines {
    pub fn new() -> Self {
        Self::default()
    }

    /// The line `event` calls for, if any (only `CaseFinished` gives one).
    pub fn line(&mut self, event: &RunEvent) -> Option<String> {
        match event {
            RunEvent::RunStarted { total, .. } => {
                (self.done, self.total) = (0, *total);
                None
            }
            RunEvent::RoundStarted { cases, .. } => {
                (self.done, self.total) = (0, *cases);
                None
            }
            RunEvent::CaseFinished { result: r, .. } => {
                self.done += 1;
                let cause = r.cause.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
                Some(format!(
                    "[{}/{}] {} on {} #{}: {}{cause} in {:.1} s",
                    self.done,
                    self.total,
                    r.flow,
                    r.device,
                    r.iteration,
                    r.outcome.name(),
                    r.duration_ms as f64 / 1000.0
                ))
            }
            RunEvent::CaseStarted { .. } | RunEvent::StepFinished { .. } | RunEvent::RunFinished { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    fn finished(index: usize, n: usize) -> RunEvent {
        RunEvent::CaseFinished {
            index,
            result: Box::new(fixture::results().cases[n].clone()),
        }
    }

    #[test]
    fn one_line_per_finished_case_numbered_in_the_run() {
        let mut p = ProgressLines::new();
        let started = RunEvent::RunStarted {
            run_id: "r".into(),
            total: 3,
            parallel: 2,
            seed: 1,
        };
        assert_eq!(p.line(&started), None);
        let key = crate::event::CaseKey {
            flow: "session-restore".into(),
            device: "iphone-15".into(),
            iteration: 2,
            attempt: 1,
        };
        assert_eq!(p.line(&RunEvent::CaseStarted { case: key }), None);
        // Lines count finished cases, in the order they finish (not plan order).
        assert_eq!(
            p.line(&finished(1, 5)).unwrap(),
            "[1/3] session-restore on iphone-15 #2: failed (sdk-restoration) in 11.0 s"
        );
        assert_eq!(
            p.line(&finished(0, 0)).unwrap(),
            "[2/3] full-cycle on iphone-15 #1: error (session-lost) in 1.0 s"
        );
        assert_eq!(
            p.line(&finished(2, 2)).unwrap(),
            "[3/3] full-cycle on pixel-8 #1: passed in 1.0 s"
        );
        assert_eq!(p.line(&RunEvent::RunFinished { duration_ms: 5 }), None);
    }

    #[test]
    fn rounds_number_their_own_cases() {
        let mut p = ProgressLines::new();
        p.line(&RunEvent::RunStarted {
            run_id: "r".into(),
            total: 30,
            parallel: 2,
            seed: 1,
        });
        p.line(&RunEvent::RoundStarted { round: 1, cases: 2 });
        assert!(p.line(&finished(0, 2)).unwrap().starts_with("[1/2] "));
        assert!(p.line(&finished(1, 3)).unwrap().starts_with("[2/2] "));
        p.line(&RunEvent::RoundStarted { round: 2, cases: 1 });
        assert!(p.line(&finished(0, 4)).unwrap().starts_with("[1/1] "));
    }
}
