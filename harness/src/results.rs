//! The results of a run: what `results.json` holds and every report is rendered from.
//!
//! One [`CaseResult`] per flow × device × iteration. The runner fills them; the reporters
//! (`crate::report`) read them; `harness report` reads them back from `results.json`.

use serde::{Deserialize, Serialize};

/// How a case ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Passed,
    /// An assertion did not hold.
    Failed,
    /// Infrastructure: the device or server was unreachable, a session was lost, a command
    /// the backend lacks. Never a pass and never a plain failure.
    Error,
    /// Failed, then passed on a retry: reported, never hidden.
    Flaky,
    /// Not run (fail-fast after an earlier failure).
    Skipped,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Error => "error",
            Outcome::Flaky => "flaky",
            Outcome::Skipped => "skipped",
        }
    }
}

/// How one step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Passed,
    Failed,
    Error,
    /// An optional step failed: a warning.
    Warned,
    /// A `when` condition did not hold.
    Skipped,
}

/// One executed command.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    /// Display name: the label, or a generated description (`tapOn id=auth-continue`).
    pub name: String,
    /// `file:line:column` of the command.
    pub at: String,
    /// Nesting depth (sub-flows, repeat, retry).
    pub depth: u32,
    pub status: StepStatus,
    /// Milliseconds from the start of the case.
    pub start_ms: u64,
    pub duration_ms: u64,
    /// Failure or warning message (secrets redacted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A secure-storage entry as a snapshot records it: never the value, only its digest and,
/// for JWTs, the claims that explain a session (`sid`, `exp`, `aud`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StorageEntry {
    pub key: String,
    /// Where: keychain service or preference file.
    pub store: String,
    /// `sha256:<hex>` of the value (or of the encrypted envelope on Android).
    pub digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<serde_json::Value>,
}

/// What `snapshot: NAME` captured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub name: String,
    pub at_ms: u64,
    /// `virtual` (exact entries), `pullFile` (Android SecureStore.xml), `unavailable`.
    pub storage_source: crate::driver::StorageSource,
    pub storage: Vec<StorageEntry>,
    /// App state (`mobile: queryAppState`): 0 not installed … 4 foreground.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_state: Option<i64>,
    /// Auth state read from the screen (`signedIn`, `signedOut`, `loading`, `unknown`).
    pub auth: String,
    /// Artifact paths, relative to the run directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screenshot: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// One flow × device × iteration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    /// Flow name (header `name`, else the file stem).
    pub flow: String,
    /// Flow file path as given.
    pub flow_file: String,
    /// Device profile name.
    pub device: String,
    /// `iOS` or `Android`.
    pub platform: String,
    /// 1-based.
    pub iteration: u32,
    pub outcome: Outcome,
    /// Why it failed, in words a person acts on ("SDK restoration bug: …").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<String>,
    /// A short stable code for the diagnosis (`sdk-restoration`, `convex-stale-auth`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// The failing step's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub duration_ms: u64,
    /// Attempts made (more than one with --retries).
    pub attempts: u32,
    /// The attempts before the last one, oldest first (empty when the first attempt was the
    /// last). The case's own fields describe its last attempt. Absent in results.json files
    /// of older harness versions, which read back as empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempt_history: Vec<AttemptRecord>,
    pub steps: Vec<StepResult>,
    pub snapshots: Vec<Snapshot>,
    /// Cold start (relaunch) to the signed-in screen, ms, when measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_ms: Option<u64>,
    /// That cold start's launch, process start to first frame, as the device measured it
    /// (Android `am start -W` TotalTime), ms; host backends only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cold_launch_ms: Option<u64>,
    /// Artifact paths relative to the run directory.
    pub artifacts: Vec<String>,
    /// The seed the case's device used.
    pub seed: u64,
}

/// A case the run planned, as the events log header lists it (to report the ones that never ended).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlannedCase {
    pub flow: String,
    pub flow_file: String,
    pub device: String,
    pub platform: String,
    pub iteration: u32,
    pub seed: u64,
}

impl CaseResult {
    /// A case that did not run (or never ended): no steps, no measurements.
    pub fn not_run(case: &PlannedCase, outcome: Outcome, message: Option<String>) -> Self {
        CaseResult {
            flow: case.flow.clone(),
            flow_file: case.flow_file.clone(),
            device: case.device.clone(),
            platform: case.platform.clone(),
            iteration: case.iteration,
            outcome,
            diagnosis: None,
            cause: None,
            message,
            duration_ms: 0,
            attempts: 0,
            attempt_history: vec![],
            steps: vec![],
            snapshots: vec![],
            restore_ms: None,
            cold_launch_ms: None,
            artifacts: vec![],
            seed: case.seed,
        }
    }
}

/// How one earlier attempt of a retried case ended (`--retries`): a failure (or, for the
/// attempt before an error, whatever it was), kept as data rather than folded into the
/// case's message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptRecord {
    /// 1-based.
    pub attempt: u32,
    pub outcome: Outcome,
    /// The failing step's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Why it failed, in words (as [`CaseResult::diagnosis`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<String>,
    /// The diagnosis's short code (as [`CaseResult::cause`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    pub duration_ms: u64,
    /// The seed the attempt's device used.
    pub seed: u64,
}

/// A whole run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResults {
    pub run_id: String,
    pub harness_version: String,
    /// Unix ms.
    pub started_at_ms: u64,
    pub duration_ms: u64,
    pub seed: u64,
    /// `I/N` when sharded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    pub cases: Vec<CaseResult>,
}

impl RunResults {
    pub fn count(&self, o: Outcome) -> usize {
        self.cases.iter().filter(|c| c.outcome == o).count()
    }

    /// The exit code these results call for: [`INFRASTRUCTURE`] when a case ended in an
    /// error, else [`TEST_FAILED`] when one failed, else [`OK`] (flaky and skipped cases
    /// do not fail a run).
    ///
    /// [`INFRASTRUCTURE`]: crate::exit_codes::INFRASTRUCTURE
    /// [`TEST_FAILED`]: crate::exit_codes::TEST_FAILED
    /// [`OK`]: crate::exit_codes::OK
    pub fn exit_code(&self) -> i32 {
        if self.count(Outcome::Error) > 0 {
            crate::exit_codes::INFRASTRUCTURE
        } else if self.count(Outcome::Failed) > 0 {
            crate::exit_codes::TEST_FAILED
        } else {
            crate::exit_codes::OK
        }
    }
}
