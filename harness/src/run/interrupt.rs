//! Stopping a run from outside (SIGINT, SIGTERM): an [`Interrupt`] handle the command line
//! triggers and the runner watches. Once triggered, no case starts; running flows are
//! cancelled and their sessions ended (each within [`SESSION_END_GRACE`]); the cases that
//! did not run are reported as skipped, saying why.

use std::time::Duration;

use tokio::sync::watch;

/// How long a running case gets to end its device session after an interrupt; the run
/// is abandoned (aborted) this long after the interrupt in any case.
pub const SESSION_END_GRACE: Duration = Duration::from_secs(10);

/// Why a run was stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopSignal {
    /// Ctrl-C.
    Interrupt,
    /// `kill PID`, a CI job cancelled.
    Terminate,
}

impl StopSignal {
    /// `SIGINT`, `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            StopSignal::Interrupt => "SIGINT",
            StopSignal::Terminate => "SIGTERM",
        }
    }

    /// The exit code of a run stopped this way (128 + the signal's number, as shells do).
    pub fn exit_code(self) -> i32 {
        match self {
            StopSignal::Interrupt => crate::exit_codes::INTERRUPTED,
            StopSignal::Terminate => crate::exit_codes::TERMINATED,
        }
    }
}

/// A cloneable stop handle: [`trigger`](Interrupt::trigger) once, and every clone sees it.
#[derive(Clone, Debug)]
pub struct Interrupt(watch::Sender<Option<StopSignal>>);

impl Default for Interrupt {
    fn default() -> Self {
        Interrupt(watch::Sender::new(None))
    }
}

impl Interrupt {
    /// A handle nobody has triggered yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stops the run (the first signal wins).
    pub fn trigger(&self, signal: StopSignal) {
        self.0.send_if_modified(|s| {
            if s.is_none() {
                *s = Some(signal);
                true
            } else {
                false
            }
        });
    }

    /// The signal that stopped the run, if one did.
    pub fn signal(&self) -> Option<StopSignal> {
        *self.0.borrow()
    }

    /// Resolves when the run is stopped (at once if it already is).
    pub async fn triggered(&self) -> StopSignal {
        let mut rx = self.0.subscribe();
        loop {
            if let Some(s) = *rx.borrow_and_update() {
                return s;
            }
            if rx.changed().await.is_err() {
                // The sender lives in `self`: unreachable, but never resolve by mistake.
                std::future::pending::<()>().await;
            }
        }
    }

    /// The message of a case that did not run (or did not end) because of the stop.
    pub fn skipped_message(signal: StopSignal, running: bool) -> String {
        if running {
            format!(
                "interrupted: the run was stopped ({}) while this case ran",
                signal.name()
            )
        } else {
            format!("not run: the run was interrupted ({})", signal.name())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_signal_wins_and_every_clone_sees_it() {
        let i = Interrupt::new();
        assert_eq!(i.signal(), None);
        let waiter = {
            let i = i.clone();
            tokio::spawn(async move { i.triggered().await })
        };
        tokio::task::yield_now().await;
        i.clone().trigger(StopSignal::Terminate);
        i.trigger(StopSignal::Interrupt);
        assert_eq!(waiter.await.unwrap(), StopSignal::Terminate);
        assert_eq!(i.signal(), Some(StopSignal::Terminate));
        assert_eq!(i.triggered().await, StopSignal::Terminate);
        assert_eq!(StopSignal::Interrupt.exit_code(), 130);
        assert_eq!(StopSignal::Terminate.exit_code(), 143);
        assert_eq!(
            Interrupt::skipped_message(StopSignal::Interrupt, false),
            "not run: the run was interrupted (SIGINT)"
        );
    }
}
