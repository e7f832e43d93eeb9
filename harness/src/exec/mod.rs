//! Runs one flow on one device: the [`Executor`] and its step loop.
//!
//! Commands reach the device through the [`Device`] trait only; selectors are evaluated on
//! the page source (`driver::select`); waits poll (no fixed sleeps) up to the lookup timeout
//! (17 s, 7 s for optional steps, or the command's `within`/`timeout`). An `optional` step's
//! failure is a warning; `onFlowComplete` always runs. Every step becomes a [`StepResult`]
//! with its timing, sent as a [`RunEvent::StepFinished`] when it is final; a failed session
//! assertion carries a [`diagnose::Diagnosis`]. Artifacts go to the [`ArtifactSink`] the
//! caller provides: the executor knows no file system.
//!
//! One concern per file:
//!
//! - `mod.rs`: the executor, `run_flow`, the step loop.
//! - `dispatch.rs`: where each YAML command is executed (one arm per command).
//! - `error.rs`: [`StepError`] and the typed [`InfraError`].
//! - `wait.rs`: deadlines in device time, the time scale, polling for elements, the clock.
//! - `gesture.rs`: `tapOn`, `doubleTapOn`, `longPressOn`, points in % or px.
//! - `input.rs`: `inputText`, `inputRandom*`, `eraseText`, the clipboard.
//! - `lifecycle.rs`: `launchApp`, `stopApp`.
//! - `compose.rs`: `runFlow`, `repeat`, `retry`, `when` conditions.
//! - `session.rs`: the auth state through the app profile (`assertSession`, `assertConvex`,
//!   `auth.log` markers), restore timing.
//! - `diagnose.rs`: why a session assertion failed.
//! - `storage.rs`: secure-storage digests, token state, `assertKeychain`.
//! - `snapshot.rs`: `snapshot: NAME`.
//! - `artifacts.rs`: the artifact sinks, screenshots and failure artifacts.
//! - `vars.rs`: variables, `env` scopes, redaction of secret values.
//! - `describe.rs`: step names for reports.

pub mod artifacts;
mod compose;
pub mod describe;
pub mod device;
pub mod diagnose;
mod dispatch;
pub mod error;
pub mod gesture;
pub mod input;
mod lifecycle;
mod screenshot;
pub mod script;
pub mod session;
mod snapshot;
pub mod storage;
#[cfg(test)]
mod testing;
pub mod vars;
pub mod wait;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use artifacts::{ArtifactError, ArtifactSink, FsArtifacts, MemoryArtifacts};
pub use describe::describe;
pub use error::{InfraError, StepError};
pub use session::SESSION_TIMEOUT;
pub use vars::Vars;
pub use wait::{Clock, LOOKUP_TIMEOUT, ManualClock, OPTIONAL_LOOKUP_TIMEOUT, SystemClock};

use crate::driver::Device;
use crate::event::{CaseKey, Events, RunEvent};
use crate::flow::model::{Flow, Step};
use crate::load::FlowSet;
use crate::profile::app::AppProfile;
use crate::results::{Snapshot, StepResult, StepStatus};

/// Everything a flow run produced.
#[derive(Debug, Default)]
pub struct FlowOutcome {
    pub steps: Vec<StepResult>,
    pub snapshots: Vec<Snapshot>,
    pub artifacts: Vec<String>,
    /// The first error (failed or infra), with the diagnosis when there is one; its message
    /// is redacted.
    pub error: Option<StepError>,
    pub restore_ms: Option<u64>,
    /// The restoring cold start's launch time as the device measured it (`am start -W`).
    pub cold_launch_ms: Option<u64>,
}

/// How a command ended, when it did not fail.
pub(crate) enum Run {
    Done,
    /// A `when` condition did not hold.
    Skipped,
}

/// Runs flows on one device.
pub struct Executor<'a> {
    device: &'a mut dyn Device,
    flows: &'a FlowSet,
    /// The app profile of the flow file running (a sub-flow may name its own).
    app: Option<&'a AppProfile>,
    vars: vars::Scopes,
    artifacts: Box<dyn ArtifactSink + 'a>,
    events: Events,
    /// The case the `StepFinished` events are about; none: no events.
    case: Option<CaseKey>,
    clock: Arc<dyn Clock>,
    /// Device seconds per real second (virtual devices run faster than real time): waits
    /// (`within`, lookup timeouts) are device time, so they are divided by it.
    time_scale: f64,
    /// When the flow started, on `clock`.
    started: Duration,
    out: FlowOutcome,
    depth: u32,
    /// The flow's clipboard (`copyTextFrom`, `setClipboard`, `pasteText`).
    clipboard: Option<String>,
    rng: crate::rng::Rng,
    auth_log: session::AuthLog,
    restore: session::RestoreTimer,
    /// The artifact name of the screen recording running (`startRecording`), if one is.
    recording: Option<String>,
    /// The flow's JavaScript engine: started on first use (`script.rs`), stopped when the
    /// flow ends.
    js: Option<crate::js::Js>,
}

impl<'a> Executor<'a> {
    /// An executor of `flows` on `device`, writing artifacts to `artifacts`; `seed` drives
    /// random input. Real time, time scale 1, no events until configured.
    pub fn new(
        device: &'a mut dyn Device,
        flows: &'a FlowSet,
        vars: Vars,
        artifacts: Box<dyn ArtifactSink + 'a>,
        seed: u64,
    ) -> Self {
        Executor {
            device,
            flows,
            app: None,
            vars: vars::Scopes::new(vars),
            artifacts,
            events: Events::none(),
            case: None,
            clock: Arc::new(SystemClock::default()),
            time_scale: 1.0,
            started: Duration::ZERO,
            out: FlowOutcome::default(),
            depth: 0,
            clipboard: None,
            rng: crate::rng::Rng::new(seed),
            auth_log: Default::default(),
            restore: Default::default(),
            recording: None,
            js: None,
        }
    }

    /// Sets how much faster than real time the device runs (virtual devices).
    pub fn with_time_scale(mut self, scale: f64) -> Self {
        self.time_scale = scale.max(1e-3);
        self
    }

    /// Sends a [`RunEvent::StepFinished`] about `case` for every step when it is final.
    pub fn with_events(mut self, events: Events, case: CaseKey) -> Self {
        self.events = events;
        self.case = Some(case);
        self
    }

    /// Measures real time with `clock` (tests: a [`ManualClock`]).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Runs a whole flow file: header scope, onFlowStart, steps, onFlowComplete (always).
    pub async fn run_flow(mut self, path: &Path) -> FlowOutcome {
        self.started = self.now();
        let flows = self.flows;
        let Some(flow) = flows.flows.get(path) else {
            self.out.error = Some(
                InfraError::NotLoaded {
                    what: "flow",
                    path: path.display().to_string(),
                }
                .into(),
            );
            return self.out;
        };
        self.app = flows.app_of(path);
        if let Err(e) = self.enter_file(path, flow).await {
            self.out.error.get_or_insert(e);
        }
        let saved = self.out.error.take();
        let hook = self.steps(path, &flow.header.on_flow_complete).await;
        self.out.error = saved.or(hook.err());
        self.finish_recording().await;
        if self.out.error.is_some() {
            self.failure_artifacts().await;
        }
        self.stop_js();
        self.out
    }

    /// A flow file's header `env` scope, its `onFlowStart`, then its steps.
    async fn enter_file(&mut self, path: &Path, flow: &Flow) -> Result<(), StepError> {
        let scope = self.header_scope(&flow.header.env).await?;
        self.vars.push(scope);
        let r = async {
            self.steps(path, &flow.header.on_flow_start).await?;
            self.steps(path, &flow.steps).await
        }
        .await;
        self.vars.pop();
        r
    }

    /// Runs steps in order; the first error ends them.
    fn steps<'s>(
        &'s mut self,
        file: &'s Path,
        steps: &'s [Step],
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), StepError>> + Send + 's>>
    where
        'a: 's,
    {
        Box::pin(async move {
            for step in steps {
                self.step(file, step).await?;
            }
            Ok(())
        })
    }

    /// Runs one step and keeps its record: an optional step's failure is a warning; any
    /// other error, secrets redacted, ends the flow.
    async fn step(&mut self, file: &Path, step: &Step) -> Result<(), StepError> {
        let index = self.out.steps.len();
        let start = self.now() - self.started;
        self.out.steps.push(StepResult {
            name: describe(step),
            at: format!("{}:{}", file.display(), step.loc.0),
            depth: self.depth,
            status: StepStatus::Passed,
            start_ms: start.as_millis() as u64,
            duration_ms: 0,
            message: None,
        });
        self.depth += 1;
        let r = match self.prepare(file, step).await {
            Ok(Some(resolved)) => self.execute(file, &resolved).await,
            Ok(None) => self.execute(file, step).await,
            Err(e) => Err(e),
        };
        self.depth -= 1;
        let duration = self.now() - self.started - start;
        let (status, message, result) = match r {
            Ok(Run::Done) => (StepStatus::Passed, None, Ok(())),
            Ok(Run::Skipped) => (StepStatus::Skipped, None, Ok(())),
            Err(e) => {
                let e = e.redacted(&|s| self.vars.redact(s));
                let message = Some(e.message());
                if step.optional {
                    (StepStatus::Warned, message, Ok(()))
                } else if e.is_infrastructure() {
                    (StepStatus::Error, message, Err(e))
                } else {
                    (StepStatus::Failed, message, Err(e))
                }
            }
        };
        let rec = &mut self.out.steps[index];
        rec.duration_ms = duration.as_millis() as u64;
        rec.status = status;
        rec.message = message;
        if let Some(case) = &self.case {
            self.events.send(RunEvent::StepFinished {
                case: case.clone(),
                step: rec.clone(),
            });
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::driver::DriverError;
    use crate::driver::fake::{FakeDevice, FakeEvent};
    use crate::event::RunEvent;
    use crate::exec::testing::World;
    use crate::results::StepStatus;

    fn statuses(out: &super::FlowOutcome) -> Vec<(&str, StepStatus)> {
        out.steps.iter().map(|s| (s.name.as_str(), s.status)).collect()
    }

    #[tokio::test]
    async fn an_optional_step_that_fails_is_a_warning_and_the_flow_goes_on() {
        let w = World::flow("- tapOn: {id: nowhere, optional: true}\n- back\n");
        let mut d = FakeDevice::android();
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(
            statuses(&out),
            [("tapOn id=nowhere", StepStatus::Warned), ("back", StepStatus::Passed)]
        );
        assert_eq!(
            out.steps[0].message.as_deref(),
            Some("element not found: id=nowhere (waited 7 s)")
        );
        assert_eq!(out.steps[0].duration_ms, 7_000);
        assert_eq!(out.steps[1].start_ms, 7_000);
        assert_eq!(d.actions(), [FakeEvent::PressBack]);
        assert!(out.artifacts.is_empty(), "no failure artifacts for a warning");
    }

    #[tokio::test]
    async fn on_flow_complete_runs_after_a_failure_and_the_first_error_stays() {
        let w = World::new().root(
            "appId: com.example.app\nonFlowStart: [hideKeyboard]\nonFlowComplete:\n  - setNetwork: online\n  - inputText: ${HARNESS_TEST_UNDEFINED}\n---\n- back\n- pressKey: Enter\n- back\n",
        );
        let mut d = FakeDevice::android();
        let out = w.run(&mut d).await;
        assert_eq!(
            out.error.as_ref().unwrap().message(),
            "'pressKey' is not supported by `harness run` yet",
            "the flow's error, not the hook's"
        );
        assert_eq!(
            d.actions(),
            [
                FakeEvent::HideKeyboard,
                FakeEvent::PressBack,
                FakeEvent::SetNetwork { online: true },
            ]
        );
        assert_eq!(
            statuses(&out),
            [
                ("hideKeyboard", StepStatus::Passed),
                ("back", StepStatus::Passed),
                ("pressKey", StepStatus::Error),
                ("setNetwork online", StepStatus::Passed),
                ("inputText ${HARNESS_TEST_UNDEFINED}", StepStatus::Failed),
            ]
        );
        assert_eq!(out.artifacts, ["artifacts/failure.png", "artifacts/failure.xml"]);

        // A flow that passes but whose hook fails: the hook's error.
        let w = World::new().root(
            "appId: com.example.app\nonFlowComplete: [{inputText: \"${HARNESS_TEST_UNDEFINED}\"}]\n---\n- back\n",
        );
        let out = w.run(&mut FakeDevice::android()).await;
        assert_eq!(
            out.error.unwrap().message(),
            "variable 'HARNESS_TEST_UNDEFINED' is not defined"
        );
    }

    #[tokio::test]
    async fn secret_values_are_redacted_from_step_messages_and_the_outcome() {
        let w = World::flow("- inputText: ${HARNESS_TEST_PASSWORD}\n")
            .var("HARNESS_TEST_PASSWORD", "hunter22")
            .secret("hunter22");
        let mut d = FakeDevice::android();
        d.fail(
            |e| matches!(e, FakeEvent::TypeText { .. }),
            || DriverError::Command {
                command: "type".into(),
                message: "cannot type 'hunter22'".into(),
            },
        );
        let run = w.run_full(&mut d, |e| e).await;
        let e = run.out.error.unwrap();
        assert_eq!(e.message(), "type failed: cannot type '***'");
        assert_eq!(
            run.out.steps[0].message.as_deref(),
            Some("type failed: cannot type '***'")
        );
        // An infrastructure error keeps its type, redacted.
        let mut d = FakeDevice::android();
        d.fail(
            |e| matches!(e, FakeEvent::TypeText { .. }),
            || DriverError::Unsupported {
                command: "type".into(),
                message: "adb input text hunter22 failed".into(),
            },
        );
        let out = w.run(&mut d).await;
        let Some(super::StepError::Infra(super::InfraError::Driver(DriverError::Unsupported { message, .. }))) =
            &out.error
        else {
            panic!("{:?}", out.error)
        };
        assert_eq!(message, "adb input text *** failed");
        assert_eq!(out.steps[0].status, StepStatus::Error);
        assert_eq!(
            out.steps[0].message.as_deref(),
            Some("type is not supported by this device: adb input text *** failed")
        );
        // One whose cause cannot be redacted in place keeps only its redacted message.
        let mut d = FakeDevice::android();
        d.fail(
            |e| matches!(e, FakeEvent::TypeText { .. }),
            || DriverError::session_lost("typing hunter22"),
        );
        let out = w.run(&mut d).await;
        let Some(super::StepError::Infra(super::InfraError::Redacted(m))) = &out.error else {
            panic!("{:?}", out.error)
        };
        assert_eq!(m, "the device session was lost: typing ***");
    }

    #[tokio::test]
    async fn every_final_step_record_is_sent_as_an_event_children_first() {
        let w = World::flow("- runFlow: {commands: [back, {tapOn: {id: nowhere, optional: true}}]}\n- hideKeyboard\n");
        let run = w
            .run_full(&mut FakeDevice::android(), |e| e.with_time_scale(1000.0))
            .await;
        assert!(run.out.error.is_none());
        let sent: Vec<_> = run
            .events
            .iter()
            .map(|e| match e {
                RunEvent::StepFinished { case, step } => {
                    assert_eq!((case.flow.as_str(), case.device.as_str()), ("main", "fake"));
                    step.clone()
                }
                other => panic!("{other:?}"),
            })
            .collect();
        let by_name = |n: &str| run.out.steps.iter().find(|s| s.name == n).unwrap().clone();
        assert_eq!(
            sent,
            [
                by_name("back"),
                by_name("tapOn id=nowhere"),
                by_name("runFlow"),
                by_name("hideKeyboard"),
            ]
        );
        assert_eq!(sent[1].status, StepStatus::Warned);
        assert!(
            sent[1].message.is_some() && sent[1].duration_ms == 50,
            "final: {:?}",
            sent[1]
        );
    }

    #[tokio::test]
    async fn a_flow_that_was_not_loaded_is_an_infrastructure_error() {
        let w = World::new();
        let out = w.run(&mut FakeDevice::android()).await;
        let e = out.error.unwrap();
        assert!(e.is_infrastructure());
        assert_eq!(e.message(), "flow flows/main.yaml was not loaded");
        assert!(out.steps.is_empty());
    }

    #[tokio::test]
    async fn step_records_have_the_location_and_depth() {
        let w = World::flow("- runFlow: {commands: [back]}\n");
        let out = w.run(&mut FakeDevice::android()).await;
        assert_eq!(out.steps[0].at, "flows/main.yaml:3:3");
        assert_eq!((out.steps[0].depth, out.steps[1].depth), (0, 1));
        assert_eq!(w.clock.now(), Duration::ZERO);
    }
}
