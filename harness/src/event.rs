//! What a run tells the outside while it goes: one typed [`RunEvent`] stream from the runner
//! (and, for steps, the executor) to every consumer — the terminal lines
//! (`crate::report::ProgressLines`), the results ([`Collector`]), the reports. Producers
//! never print; consumers never touch devices or flows.
//!
//! A run's stream is `RunStarted`, then for each case a `CaseStarted` per attempt (with the
//! attempt's `StepFinished` events) and one `CaseFinished`, then `RunFinished`.
//! `--until-confident` runs in rounds: a `RoundStarted` precedes each round's cases.

use crate::results::{CaseResult, StepResult};

/// Which case (and which attempt of it) an event is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CaseKey {
    pub flow: String,
    pub device: String,
    pub iteration: u32,
    /// 1 for the first run, 2 for the first retry, …
    pub attempt: u32,
}

/// One thing that happened in a run.
#[derive(Clone, Debug)]
pub enum RunEvent {
    /// The plan is fixed: `total` cases will be reported by `CaseFinished`.
    RunStarted {
        run_id: String,
        total: usize,
        parallel: usize,
        seed: u64,
    },
    /// `--until-confident`: a round of `cases` cases starts (their `CaseFinished` events come
    /// before the next round's). Rounds are numbered from 1.
    RoundStarted { round: u32, cases: usize },
    /// An attempt of a case starts (a device session is being opened or reused).
    CaseStarted { case: CaseKey },
    /// A step of an attempt ended (passed, failed, warned, skipped or error). Sub-flow
    /// steps come before the `runFlow` step that holds them ends.
    StepFinished { case: CaseKey, step: StepResult },
    /// A case ended after all its attempts: its final result, as results.json holds it.
    /// `index` is the case's position in the cases the runner was given (in the plan, or in
    /// the round), so consumers can put results in plan order whatever order they finish in.
    CaseFinished { index: usize, result: Box<CaseResult> },
    /// Every case ended (or the run was stopped).
    RunFinished { duration_ms: u64 },
}

/// Where producers send events. Cloneable; sending never blocks and never fails (a run
/// goes on when nobody listens).
#[derive(Clone, Debug, Default)]
pub struct Events(Option<tokio::sync::mpsc::UnboundedSender<RunEvent>>);

impl Events {
    /// Events that go nowhere (tests, benches, callers that do not listen).
    pub fn none() -> Self {
        Events(None)
    }

    /// A sender and the receiver its events arrive at.
    pub fn channel() -> (Self, tokio::sync::mpsc::UnboundedReceiver<RunEvent>) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        (Events(Some(tx)), rx)
    }

    pub fn send(&self, event: RunEvent) {
        if let Some(tx) = &self.0 {
            let _ = tx.send(event);
        }
    }
}

/// The results consumer: keeps each `CaseFinished` result and gives them back in plan
/// order (by `index`), however the workers interleaved.
#[derive(Debug, Default)]
pub struct Collector {
    results: Vec<(usize, CaseResult)>,
}

impl Collector {
    pub fn observe(&mut self, event: &RunEvent) {
        if let RunEvent::CaseFinished { index, result } = event {
            self.results.push((*index, (**result).clone()));
        }
    }

    /// How many cases finished so far.
    pub fn len(&self) -> usize {
        self.results.len()
    }

    pub fn is_empty(&self) -> bool {
        self.results.is_empty()
    }

    /// The results in plan order.
    pub fn finish(mut self) -> Vec<CaseResult> {
        self.results.sort_by_key(|(i, _)| *i);
        self.results.into_iter().map(|(_, r)| r).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn events_arrive_in_order_and_none_discards() {
        let (events, mut rx) = Events::channel();
        events.send(RunEvent::RunStarted {
            run_id: "r".into(),
            total: 2,
            parallel: 1,
            seed: 1,
        });
        events.clone().send(RunEvent::RunFinished { duration_ms: 5 });
        drop(events);
        assert!(matches!(rx.recv().await, Some(RunEvent::RunStarted { total: 2, .. })));
        assert!(matches!(
            rx.recv().await,
            Some(RunEvent::RunFinished { duration_ms: 5 })
        ));
        assert!(rx.recv().await.is_none());
        Events::none().send(RunEvent::RunFinished { duration_ms: 0 });
    }

    fn result(iteration: u32) -> Box<CaseResult> {
        Box::new(CaseResult {
            flow: "f".into(),
            flow_file: "flows/f.yaml".into(),
            device: "d".into(),
            platform: "iOS".into(),
            iteration,
            outcome: crate::results::Outcome::Passed,
            diagnosis: None,
            cause: None,
            message: None,
            duration_ms: 1,
            attempts: 1,
            attempt_history: vec![],
            steps: vec![],
            snapshots: vec![],
            restore_ms: None,
            cold_launch_ms: None,
            artifacts: vec![],
            seed: 0,
        })
    }

    #[test]
    fn collector_puts_results_in_plan_order_and_ignores_other_events() {
        let mut c = Collector::default();
        let key = CaseKey {
            flow: "f".into(),
            device: "d".into(),
            iteration: 3,
            attempt: 1,
        };
        let events = [
            RunEvent::RunStarted {
                run_id: "r".into(),
                total: 3,
                parallel: 3,
                seed: 1,
            },
            RunEvent::CaseStarted { case: key.clone() },
            RunEvent::CaseFinished {
                index: 2,
                result: result(3),
            },
            RunEvent::CaseFinished {
                index: 0,
                result: result(1),
            },
            RunEvent::StepFinished {
                case: key,
                step: StepResult {
                    name: "launchApp".into(),
                    at: "f.yaml:1:3".into(),
                    depth: 0,
                    status: crate::results::StepStatus::Passed,
                    start_ms: 0,
                    duration_ms: 1,
                    message: None,
                },
            },
            RunEvent::CaseFinished {
                index: 1,
                result: result(2),
            },
            RunEvent::RunFinished { duration_ms: 9 },
        ];
        for e in &events {
            c.observe(e);
        }
        assert_eq!(c.len(), 3);
        let iterations: Vec<u32> = c.finish().iter().map(|r| r.iteration).collect();
        assert_eq!(iterations, vec![1, 2, 3]);
        assert!(Collector::default().finish().is_empty());
    }
}
