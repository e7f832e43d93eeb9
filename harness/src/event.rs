//! What a run tells the outside while it goes: one typed [`RunEvent`] stream from the runner
//! (and, for steps, the executor) to every consumer — the terminal lines, the progress
//! display, the reports. Producers never print; consumers never touch devices or flows.

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
    /// An attempt of a case starts (a device session is being opened or reused).
    CaseStarted { case: CaseKey },
    /// A step of an attempt ended (passed, failed, warned, skipped or error). Sub-flow
    /// steps come before the `runFlow` step that holds them ends.
    StepFinished { case: CaseKey, step: StepResult },
    /// A case ended after all its attempts: its final result, as results.json holds it.
    CaseFinished { result: Box<CaseResult> },
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
}
