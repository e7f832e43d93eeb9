//! Runs one flow on one device: the step loop.
//!
//! Commands are executed through the [`Device`] trait only; selectors are evaluated on the
//! page source (`driver::select`), waits poll (no fixed sleeps) up to the lookup timeout
//! (17 s, 7 s for optional steps, or the command's `within`/`timeout`). An `optional` step's
//! failure is a warning; `onFlowComplete` always runs. Every step becomes a [`StepResult`]
//! with its timing; a failed session assertion carries a [`diagnose::Diagnosis`].
pub mod diagnose;
pub mod storage;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::driver::hierarchy::{Element, parse_source};
use crate::driver::select;
use crate::driver::{Device, DriverError};
use crate::exec::diagnose::{Diagnosis, Expected, Shown, diagnose};
use crate::exec::storage::{TokenState, digest_entries, token_state};
use crate::flow::load::{FlowSet, command_name, resolve};
use crate::flow::model::*;
use crate::profile::app::{AppProfile, OfflineBehaviour};
use crate::results::{Snapshot, StepResult, StepStatus};

/// Maestro's lookup timeouts.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(17);
pub const OPTIONAL_LOOKUP_TIMEOUT: Duration = Duration::from_secs(7);
/// Session assertions default.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(50);

/// Why a step did not pass.
#[derive(Clone, Debug)]
pub enum StepError {
    /// An assertion did not hold (a test failure).
    Failed {
        message: String,
        diagnosis: Option<Diagnosis>,
    },
    /// The device or server failed (an infrastructure error).
    Infra(String),
}

impl StepError {
    fn failed(m: impl Into<String>) -> Self {
        StepError::Failed {
            message: m.into(),
            diagnosis: None,
        }
    }
    pub fn message(&self) -> &str {
        match self {
            StepError::Failed { message, .. } | StepError::Infra(message) => message,
        }
    }
}

impl From<DriverError> for StepError {
    fn from(e: DriverError) -> Self {
        if e.is_infrastructure() {
            StepError::Infra(e.to_string())
        } else {
            StepError::failed(e.to_string())
        }
    }
}

/// Everything a flow run produced.
#[derive(Debug, Default)]
pub struct FlowOutcome {
    pub steps: Vec<StepResult>,
    pub snapshots: Vec<Snapshot>,
    pub artifacts: Vec<String>,
    /// The first error (failed or infra), with the diagnosis when there is one.
    pub error: Option<StepError>,
    pub restore_ms: Option<u64>,
    /// The restoring cold start's launch time as the device measured it (`am start -W`).
    pub cold_launch_ms: Option<u64>,
}

/// Variables visible to a flow: `-e` values, the process environment, built-ins.
#[derive(Clone, Debug, Default)]
pub struct Vars {
    pub cli: BTreeMap<String, String>,
    pub builtins: BTreeMap<String, String>,
    /// Values of secret variables, replaced by `***` in every message.
    pub secret_values: Vec<String>,
}

pub struct Executor<'a> {
    device: &'a mut dyn Device,
    flows: &'a FlowSet,
    vars: Vars,
    /// `env` scopes, innermost last.
    scopes: Vec<BTreeMap<String, String>>,
    app: Option<&'a AppProfile>,
    started: Instant,
    out: FlowOutcome,
    /// Where artifacts go, and their path prefix relative to the run directory.
    artifacts_dir: PathBuf,
    artifacts_rel: String,
    depth: u32,
    copied_text: Option<String>,
    /// Set by a relaunch after a stop: the cold start being timed.
    relaunched_at: Option<Instant>,
    stopped: bool,
    rng: crate::rng::Rng,
    /// Device seconds per real second (virtual devices run faster than real time): waits
    /// (`within`, lookup timeouts) are device time, so they are divided by it.
    time_scale: f64,
    /// The device's log lines read so far in this flow (saved on failure, secrets redacted).
    log_lines: Vec<String>,
    /// The app profile's `auth.log` markers, compiled: (signed in, signed out).
    log_markers: Option<(regex::Regex, regex::Regex)>,
    /// The auth state the log shows since the last launch (`Some(true)`: signed in).
    log_auth: Option<bool>,
    /// The backend cannot read the screen: the auth state comes from `auth.log`.
    screenless: bool,
}

/// A page source as an element tree.
fn parse_tree(xml: &str) -> Result<Element, StepError> {
    parse_source(xml).map_err(|e| StepError::Infra(format!("unreadable page source: {e}")))
}

fn describe_selector(s: &Selector) -> String {
    let mut parts = vec![];
    if let Some(t) = &s.text {
        parts.push(format!("\"{t}\""));
    }
    if let Some(t) = &s.id {
        parts.push(format!("id={t}"));
    }
    if let Some(i) = s.index {
        parts.push(format!("index={i}"));
    }
    if parts.is_empty() {
        parts.push("selector".into());
    }
    parts.join(" ")
}

/// A one-line description of a step for reports (templates, never resolved secrets).
pub fn describe(step: &Step) -> String {
    if let Some(l) = &step.label {
        return l.clone();
    }
    let name = command_name(&step.command);
    let detail = match &step.command {
        Command::TapOn(t) | Command::DoubleTapOn(t) | Command::LongPressOn(t) => match &t.target {
            TapTarget::Element(s) | TapTarget::ElementPoint(s, _) => describe_selector(s),
            TapTarget::Point(p) => p.to_string(),
        },
        Command::AssertVisible(s) | Command::AssertNotVisible(s) | Command::CopyTextFrom(s) => describe_selector(s),
        Command::InputText(t) => t.to_string(),
        Command::RunFlow {
            source: FlowSource::File(f),
            ..
        } => f.clone(),
        Command::Snapshot(n) => n.clone(),
        Command::AssertSession { state, .. } => state.name().into(),
        Command::AssertConvex { authenticated, .. } => format!("authenticated={authenticated}"),
        Command::AssertKeychain(KeychainCheck::Presence { key, present }) => format!("{key} present={present}"),
        Command::AssertKeychain(KeychainCheck::Unchanged { keys, since }) => {
            format!("{} unchanged since {since}", keys.join(","))
        }
        Command::Background { duration } => crate::lower::format_duration(*duration),
        Command::SetNetwork(n) => n.name().into(),
        Command::LaunchApp(l) if l.stop_app == Some(false) => "(keep running)".into(),
        _ => String::new(),
    };
    if detail.is_empty() {
        name.to_string()
    } else {
        format!("{name} {detail}")
    }
}

impl<'a> Executor<'a> {
    pub fn new(
        device: &'a mut dyn Device,
        flows: &'a FlowSet,
        vars: Vars,
        artifacts_dir: PathBuf,
        artifacts_rel: String,
        seed: u64,
    ) -> Self {
        Executor {
            device,
            flows,
            vars,
            scopes: vec![],
            app: None,
            started: Instant::now(),
            out: FlowOutcome::default(),
            artifacts_dir,
            artifacts_rel,
            depth: 0,
            copied_text: None,
            relaunched_at: None,
            stopped: false,
            rng: crate::rng::Rng::new(seed),
            time_scale: 1.0,
            log_lines: vec![],
            log_markers: None,
            log_auth: None,
            screenless: false,
        }
    }

    /// Reads the device's new log lines: kept for the failure artifacts, and matched against
    /// the app profile's `auth.log` markers (the last one seen is the auth state).
    async fn pull_logs(&mut self) {
        let Ok(lines) = self.device.logs().await else { return };
        if self.log_markers.is_none()
            && let Some(log) = self.app.and_then(|a| a.auth.log.as_ref())
        {
            // Validated when the app profile was loaded.
            if let (Ok(i), Ok(o)) = (regex::Regex::new(&log.signed_in), regex::Regex::new(&log.signed_out)) {
                self.log_markers = Some((i, o));
            }
        }
        for line in lines {
            if let Some((signed_in, signed_out)) = &self.log_markers {
                if signed_in.is_match(&line) {
                    self.log_auth = Some(true);
                } else if signed_out.is_match(&line) {
                    self.log_auth = Some(false);
                }
            }
            self.log_lines.push(line);
        }
    }

    /// The app is about to start again: what the log said before no longer holds.
    async fn forget_log_auth(&mut self) {
        if self.app.is_some_and(|a| a.auth.log.is_some()) {
            self.pull_logs().await;
        }
        self.log_auth = None;
    }

    /// The auth state as the log shows it (`auth.log`), for screenless devices.
    async fn shown_from_log(&mut self) -> Shown {
        self.pull_logs().await;
        Shown {
            signed_in: self.log_auth == Some(true),
            signed_out: self.log_auth == Some(false),
            loading: self.log_auth.is_none(),
            network_error: false,
            convex: None,
        }
    }

    /// Sets how much faster than real time the device runs (virtual devices).
    pub fn with_time_scale(mut self, scale: f64) -> Self {
        self.time_scale = scale.max(1e-3);
        self
    }

    /// A device-time duration as real time.
    fn real(&self, d: Duration) -> Duration {
        d.div_f64(self.time_scale)
    }

    /// Starts a wait of `d` device time (`d` as given by the flow, not yet scaled).
    async fn deadline(&mut self, d: Duration) -> Deadline {
        Deadline {
            real: Instant::now() + self.real(d),
            within_ms: d.as_millis() as u64,
            device_start: self.device.device_time_ms().await,
        }
    }

    /// Whether the wait is over: the real deadline passed and, on devices with their own
    /// clock, that much device time passed too.
    async fn expired(&mut self, d: &Deadline) -> bool {
        if Instant::now() < d.real {
            return false;
        }
        match d.device_start {
            Some(start) => match self.device.device_time_ms().await {
                Some(now) => now.saturating_sub(start) >= d.within_ms,
                None => true,
            },
            None => true,
        }
    }

    fn redact(&self, s: &str) -> String {
        let mut out = s.to_string();
        for v in &self.vars.secret_values {
            if v.len() >= 3 {
                out = out.replace(v, "***");
            }
        }
        out
    }

    fn lookup(&self, name: &str) -> Option<String> {
        if let Some(v) = self.vars.cli.get(name) {
            return Some(v.clone());
        }
        for s in self.scopes.iter().rev() {
            if let Some(v) = s.get(name) {
                return Some(v.clone());
            }
        }
        std::env::var(name)
            .ok()
            .or_else(|| self.vars.builtins.get(name).cloned())
    }

    fn render(&self, t: &Template) -> Result<String, StepError> {
        t.render(|n| self.lookup(n))
            .map_err(|name| StepError::failed(format!("variable '{name}' is not defined")))
    }

    /// Runs a whole flow file: header scope, onFlowStart, steps, onFlowComplete (always).
    pub async fn run_flow(mut self, path: &Path) -> FlowOutcome {
        self.started = Instant::now();
        let Some(flow) = self.flows.flows.get(path) else {
            self.out.error = Some(StepError::Infra(format!("flow {} was not loaded", path.display())));
            return self.out;
        };
        self.app = self.flows.app_of(path);
        if let Err(e) = self.enter_file(path, flow).await {
            self.out.error.get_or_insert(e);
        }
        let complete = flow.header.on_flow_complete.clone();
        let saved = self.out.error.take();
        let hook = self.steps(path, &complete).await;
        self.out.error = saved.or(hook.err());
        if self.out.error.is_some() {
            self.failure_artifacts().await;
        }
        self.out
    }

    async fn enter_file(&mut self, path: &Path, flow: &Flow) -> Result<(), StepError> {
        let mut scope = BTreeMap::new();
        for (k, v) in &flow.header.env {
            let value = v
                .render(|n| scope.get(n).cloned().or_else(|| self.lookup(n)))
                .unwrap_or_default();
            scope.insert(k.clone(), value);
        }
        self.scopes.push(scope);
        let r = async {
            self.steps(path, &flow.header.on_flow_start).await?;
            self.steps(path, &flow.steps).await
        }
        .await;
        self.scopes.pop();
        r
    }

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

    async fn step(&mut self, file: &Path, step: &Step) -> Result<(), StepError> {
        let name = describe(step);
        let at = format!("{}:{}", file.display(), step.loc.0);
        let index = self.out.steps.len();
        let start = self.started.elapsed();
        self.out.steps.push(StepResult {
            name,
            at,
            depth: self.depth,
            status: StepStatus::Passed,
            start_ms: start.as_millis() as u64,
            duration_ms: 0,
            message: None,
        });
        self.depth += 1;
        let r = self.execute(file, step).await;
        self.depth -= 1;
        let duration = self.started.elapsed() - start;
        let rec = &mut self.out.steps[index];
        rec.duration_ms = duration.as_millis() as u64;
        match r {
            Ok(Run::Done) => Ok(()),
            Ok(Run::Skipped) => {
                rec.status = StepStatus::Skipped;
                Ok(())
            }
            Err(e) if step.optional => {
                let msg = self.redact(e.message());
                let rec = &mut self.out.steps[index];
                rec.status = StepStatus::Warned;
                rec.message = Some(msg);
                Ok(())
            }
            Err(e) => {
                let msg = self.redact(e.message());
                let rec = &mut self.out.steps[index];
                rec.status = match e {
                    StepError::Infra(_) => StepStatus::Error,
                    StepError::Failed { .. } => StepStatus::Failed,
                };
                rec.message = Some(msg.clone());
                let e = match e {
                    StepError::Failed { diagnosis, .. } => StepError::Failed {
                        message: msg,
                        diagnosis,
                    },
                    StepError::Infra(_) => StepError::Infra(msg),
                };
                Err(e)
            }
        }
    }

    /// The lookup timeout of a step, in device time.
    fn timeout(&self, step: &Step, explicit: Option<Duration>) -> Duration {
        explicit.unwrap_or(if step.optional {
            OPTIONAL_LOOKUP_TIMEOUT
        } else {
            LOOKUP_TIMEOUT
        })
    }

    async fn tree(&mut self) -> Result<Element, StepError> {
        parse_tree(&self.device.source().await?)
    }

    fn matches<'t>(&self, tree: &'t Element, sel: &Selector) -> Result<Vec<&'t Element>, StepError> {
        select::find(tree, sel, &|n: &str| self.lookup(n)).map_err(|e| StepError::failed(e.to_string()))
    }

    /// Polls until `sel` is visible (the first match) or the timeout passes (None).
    async fn wait_visible(&mut self, sel: &Selector, timeout: Duration) -> Result<Option<Hit>, StepError> {
        let deadline = self.deadline(timeout).await;
        loop {
            // Decided before looking, so the last look happens after the deadline.
            let last = self.expired(&deadline).await;
            let tree = self.tree().await?;
            if let Some(e) = self.matches(&tree, sel)?.first() {
                return Ok(Some(Hit {
                    center: e.center(),
                    bounds: e.bounds,
                    text: e.text.clone(),
                    xpath: (e.bounds.is_empty() && !e.xpath.is_empty()).then(|| e.xpath.clone()),
                }));
            }
            if last {
                return Ok(None);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn wait_gone(&mut self, sel: &Selector, timeout: Duration) -> Result<bool, StepError> {
        let deadline = self.deadline(timeout).await;
        loop {
            let last = self.expired(&deadline).await;
            let tree = self.tree().await?;
            if self.matches(&tree, sel)?.is_empty() {
                return Ok(true);
            }
            if last {
                return Ok(false);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn condition(&mut self, c: &Condition) -> Result<bool, StepError> {
        if let Some(p) = c.platform {
            if p != ConditionPlatform::Device(self.device.platform()) {
                return Ok(false);
            }
        }
        if c.script.is_some() {
            return Err(StepError::failed("JavaScript conditions are not supported"));
        }
        if c.visible.is_some() || c.not_visible.is_some() {
            let tree = self.tree().await?;
            if let Some(s) = &c.visible
                && self.matches(&tree, s)?.is_empty()
            {
                return Ok(false);
            }
            if let Some(s) = &c.not_visible
                && !self.matches(&tree, s)?.is_empty()
            {
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn tap(&mut self, step: &Step, t: &Tap, taps: u32, hold_ms: u64) -> Result<(), StepError> {
        let timeout = self.timeout(step, None);
        let (x, y) = match &t.target {
            TapTarget::Point(p) => self.point(p, None).await?,
            TapTarget::Element(s) | TapTarget::ElementPoint(s, _) => {
                let Some(hit) = self.wait_visible(s, timeout).await? else {
                    return Err(StepError::failed(format!(
                        "element not found: {} (waited {} s)",
                        describe_selector(s),
                        timeout.as_secs()
                    )));
                };
                match (&t.target, &hit.xpath) {
                    // A source without geometry (e.g. Appium's fake driver): click the element.
                    (TapTarget::Element(_), Some(xpath)) => {
                        for _ in 0..taps * t.repeat.unwrap_or(1) {
                            self.device.click_xpath(xpath).await?;
                        }
                        return Ok(());
                    }
                    (TapTarget::ElementPoint(_, p), _) => self.point(p, Some(hit.bounds)).await?,
                    _ => hit.center,
                }
            }
        };
        let times = taps * t.repeat.unwrap_or(1);
        for i in 0..times {
            if i > 0 {
                tokio::time::sleep(Duration::from_millis(t.delay_ms.unwrap_or(100) as u64)).await;
            }
            self.device.press(x, y, hold_ms).await?;
        }
        Ok(())
    }

    async fn point(
        &mut self,
        p: &Point,
        within: Option<crate::driver::hierarchy::Bounds>,
    ) -> Result<(i32, i32), StepError> {
        let b = match within {
            Some(b) => b,
            None => self.tree().await?.bounds,
        };
        let c = |c: Coord, origin: i32, size: i32| match c {
            Coord::Px(v) => origin + v,
            Coord::Percent(pc) => origin + (size as f32 * pc / 100.0).round() as i32,
        };
        Ok((c(p.x, b.x, b.width), c(p.y, b.y, b.height)))
    }

    fn app(&self) -> Result<&'a AppProfile, StepError> {
        self.app
            .ok_or_else(|| StepError::failed("this flow has no app profile (`app:` in the header)"))
    }

    fn session_key(&self) -> String {
        self.app
            .and_then(|a| a.secure_store.session_keys.first().cloned())
            .unwrap_or_else(|| "__clerk_client_jwt".into())
    }

    /// What the screen shows, read through the app profile.
    async fn shown(&mut self) -> Result<Shown, StepError> {
        let app = self.app()?;
        if app.auth.log.is_some() && self.screenless {
            return Ok(self.shown_from_log().await);
        }
        let tree = match self.device.source().await {
            Err(DriverError::Unsupported { .. }) if app.auth.log.is_some() => {
                self.screenless = true;
                return Ok(self.shown_from_log().await);
            }
            source => parse_tree(&source?)?,
        };
        let vis = |s: &Selector| self.matches(&tree, s).map(|v| !v.is_empty());
        let mut shown = Shown {
            signed_in: vis(&app.auth.signed_in)?,
            signed_out: vis(&app.auth.signed_out)?,
            loading: match &app.auth.loading {
                Some(s) => vis(s)?,
                None => false,
            },
            network_error: match &app.offline {
                Some(OfflineBehaviour::NetworkError { error }) => vis(error)?,
                _ => false,
            },
            convex: None,
        };
        if let Some(c) = &app.convex {
            if vis(&c.authenticated)? {
                shown.convex = Some(true);
            } else if vis(&c.unauthenticated)? {
                shown.convex = Some(false);
            }
        }
        Ok(shown)
    }

    async fn token(&mut self) -> TokenState {
        let key = self.session_key();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        match self.device.secure_storage().await {
            Ok(read) => token_state(&read, &key, now),
            Err(_) => TokenState::Unknown,
        }
    }

    /// Polls `ok(shown)` until it holds or `within` passes; on failure, diagnoses.
    async fn wait_auth(&mut self, within: Duration, expected: Expected, what: &str) -> Result<(), StepError> {
        let deadline = self.deadline(within).await;
        let started = Instant::now();
        loop {
            let last = self.expired(&deadline).await;
            let shown = self.shown().await?;
            let holds = match expected {
                Expected::SignedIn => shown.signed_in,
                Expected::SignedOut => shown.signed_out,
                Expected::OfflineNetworkError => shown.network_error,
                Expected::Convex(v) => shown.convex == Some(v),
            };
            if holds {
                if expected == Expected::SignedOut {
                    self.relaunched_at = None; // not restored: nothing to time
                }
                if expected == Expected::SignedIn
                    && let Some(t) = self.relaunched_at.take()
                {
                    let harness_ms = (t.elapsed().as_secs_f64() * 1000.0 * self.time_scale) as u64;
                    let ms = self.device.last_restore_ms().await.unwrap_or(harness_ms);
                    self.out.restore_ms.get_or_insert(ms);
                }
                if expected == Expected::OfflineNetworkError && self.token().await == TokenState::Missing {
                    let key = self.session_key();
                    let diagnosis = diagnose(expected, shown, &TokenState::Missing, &key, 0.0);
                    return Err(StepError::Failed {
                        message: format!("the app shows the network error, but {key} is gone from secure storage"),
                        diagnosis,
                    });
                }
                return Ok(());
            }
            if last {
                let token = self.token().await;
                let key = self.session_key();
                let diagnosis = diagnose(
                    expected,
                    shown,
                    &token,
                    &key,
                    started.elapsed().as_secs_f64() * self.time_scale,
                );
                let seen = match (shown.signed_in, shown.signed_out, shown.loading, shown.network_error) {
                    (true, _, _, _) => "signed in",
                    (_, true, _, _) => "signed out",
                    (_, _, true, _) => "loading",
                    (_, _, _, true) => "a network error",
                    _ => "no known auth screen",
                };
                let convex = match shown.convex {
                    Some(true) => ", Convex authenticated",
                    Some(false) => ", Convex unauthenticated",
                    None => "",
                };
                return Err(StepError::Failed {
                    message: format!(
                        "expected {what} within {} s; the app shows {seen}{convex}",
                        within.as_secs()
                    ),
                    diagnosis,
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn snapshot(&mut self, name: &str) -> Result<(), StepError> {
        let at_ms = self.started.elapsed().as_millis() as u64;
        let (storage_source, storage) = match self.device.secure_storage().await {
            Ok(read) => (read.source, digest_entries(&read)),
            Err(e) if e.is_infrastructure() && !matches!(e, DriverError::Unsupported { .. }) => return Err(e.into()),
            Err(_) => (crate::driver::StorageSource::Unavailable, vec![]),
        };
        let app_state = self.device.app_state().await.ok();
        let auth = if self.app.is_some() {
            let s = self.shown().await?;
            if s.signed_in {
                "signedIn"
            } else if s.signed_out {
                "signedOut"
            } else if s.loading {
                "loading"
            } else if s.network_error {
                "networkError"
            } else {
                "unknown"
            }
        } else {
            "unknown"
        }
        .to_string();
        let png = self.device.screenshot().await.ok();
        let screenshot = self.save_artifact(&format!("{name}.png"), png).await;
        // Typed secrets (e.g. the identifier field) are visible in the page source: redacted.
        let xml = self.device.source().await.ok().map(|x| self.redact(&x).into_bytes());
        let source = self.save_artifact(&format!("{name}.xml"), xml).await;
        self.out.snapshots.push(Snapshot {
            name: name.to_string(),
            at_ms,
            storage_source,
            storage,
            app_state,
            auth,
            screenshot,
            source,
        });
        Ok(())
    }

    async fn save_artifact(&mut self, file: &str, bytes: Option<Vec<u8>>) -> Option<String> {
        let bytes = bytes?;
        if std::fs::create_dir_all(&self.artifacts_dir).is_err() {
            return None;
        }
        let path = self.artifacts_dir.join(file);
        let rel = format!("{}/{file}", self.artifacts_rel);
        match std::fs::write(&path, bytes) {
            Ok(()) => {
                self.out.artifacts.push(rel.clone());
                Some(rel)
            }
            Err(e) => {
                tracing::warn!("cannot write artifact {}: {e}", path.display());
                None
            }
        }
    }

    async fn failure_artifacts(&mut self) {
        let shot = self.device.screenshot().await.ok();
        self.save_artifact("failure.png", shot).await;
        let src = self.device.source().await.ok().map(|x| self.redact(&x).into_bytes());
        self.save_artifact("failure.xml", src).await;
        // The device log (the app's JS console) of this flow so far, secrets redacted.
        self.pull_logs().await;
        if !self.log_lines.is_empty() {
            let text = self.redact(&self.log_lines.join("\n"));
            self.save_artifact("device.log", Some(text.into_bytes())).await;
        }
    }

    async fn storage_digest(&mut self, key: &str) -> Result<Option<String>, StepError> {
        let read = self.device.secure_storage().await?;
        if read.source == crate::driver::StorageSource::Unavailable {
            return Err(StepError::Infra(format!(
                "assertKeychain: secure storage cannot be read on this {} device (use a virtual device, an Android debuggable build, or the iOS simulator host tools)",
                self.device.platform().name()
            )));
        }
        Ok(digest_entries(&read)
            .into_iter()
            .find(|e| e.key == key)
            .map(|e| e.digest))
    }

    async fn sub_flow(
        &mut self,
        file: &Path,
        source: &FlowSource,
        env: &[(String, Template)],
    ) -> Result<(), StepError> {
        let mut scope = BTreeMap::new();
        for (k, v) in env {
            scope.insert(k.clone(), self.render(v)?);
        }
        self.scopes.push(scope);
        let r = match source {
            FlowSource::Inline(steps) => self.steps(file, steps).await,
            FlowSource::File(written) => {
                let sub = resolve(file, written);
                match self.flows.flows.get(&sub) {
                    None => Err(StepError::Infra(format!("sub-flow {} was not loaded", sub.display()))),
                    Some(flow) => {
                        let saved_app = self.app;
                        if flow.header.app.is_some() {
                            self.app = self.flows.app_of(&sub).or(saved_app);
                        }
                        let r = Box::pin(self.enter_file(&sub, flow)).await;
                        self.app = saved_app;
                        r
                    }
                }
            }
        };
        self.scopes.pop();
        r
    }

    async fn execute(&mut self, file: &Path, step: &Step) -> Result<Run, StepError> {
        use Command as C;
        match &step.command {
            C::LaunchApp(l) => {
                if let Some(app_id) = &l.app_id {
                    let id = self.render(app_id)?;
                    if id != self.device.app_id() {
                        return Err(StepError::Infra(format!(
                            "launchApp {id}: this device session drives {} only",
                            self.device.app_id()
                        )));
                    }
                }
                // Maestro's order: clearKeychain, clearState, permissions, launch.
                if l.clear_keychain == Some(true) {
                    self.device.clear_keychain().await?;
                }
                if l.clear_state == Some(true) {
                    self.device.clear_app().await?;
                }
                self.device.set_permissions(&l.permissions).await?;
                if l.stop_app != Some(false) && self.device.terminate_app().await? {
                    self.stopped = true;
                }
                // A cold start that can restore a session (storage kept): time the restoration.
                let keeps_storage = l.clear_state != Some(true) && l.clear_keychain != Some(true);
                self.relaunched_at = (self.stopped && keeps_storage).then(Instant::now);
                self.stopped = false;
                self.forget_log_auth().await;
                self.device.launch_app_with(&l.arguments).await?;
                // Taken after every launch, kept for the first cold start that can restore.
                if let Some(ms) = self.device.take_cold_launch_ms().await
                    && self.relaunched_at.is_some()
                {
                    self.out.cold_launch_ms.get_or_insert(ms);
                }
            }
            C::StopApp { .. } | C::KillApp { .. } => {
                self.device.terminate_app().await?;
                self.stopped = true;
                self.forget_log_auth().await;
            }
            C::ClearState { .. } => self.device.clear_app().await?,
            C::ClearKeychain => self.device.clear_keychain().await?,
            C::SetPermissions { permissions, .. } => self.device.set_permissions(permissions).await?,
            C::OpenLink { link, .. } => {
                let url = self.render(link)?;
                self.device.open_link(&url).await?;
            }
            C::TapOn(t) => self.tap(step, t, 1, 60).await?,
            C::DoubleTapOn(t) => self.tap(step, t, 2, 40).await?,
            C::LongPressOn(t) => self.tap(step, t, 1, 1000).await?,
            C::AssertVisible(s) => {
                let timeout = self.timeout(step, None);
                if self.wait_visible(s, timeout).await?.is_none() {
                    return Err(StepError::failed(format!(
                        "assertVisible: {} is not visible after {} s",
                        describe_selector(s),
                        timeout.as_secs()
                    )));
                }
            }
            C::AssertNotVisible(s) => {
                let timeout = self.timeout(step, None);
                if !self.wait_gone(s, timeout).await? {
                    return Err(StepError::failed(format!(
                        "assertNotVisible: {} is still visible after {} s",
                        describe_selector(s),
                        timeout.as_secs()
                    )));
                }
            }
            C::ExtendedWaitUntil {
                visible,
                not_visible,
                timeout,
            } => {
                let t = timeout.unwrap_or(LOOKUP_TIMEOUT);
                if let Some(s) = visible
                    && self.wait_visible(s, t).await?.is_none()
                {
                    return Err(StepError::failed(format!(
                        "{} did not appear within {} ms",
                        describe_selector(s),
                        t.as_millis()
                    )));
                }
                if let Some(s) = not_visible
                    && !self.wait_gone(s, t).await?
                {
                    return Err(StepError::failed(format!(
                        "{} did not disappear within {} ms",
                        describe_selector(s),
                        t.as_millis()
                    )));
                }
            }
            C::WaitForAnimationToEnd { timeout } => {
                let deadline = Instant::now() + timeout.unwrap_or(Duration::from_secs(15));
                let mut last = self.device.source().await?;
                while Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    let now = self.device.source().await?;
                    if now == last {
                        break;
                    }
                    last = now;
                }
            }
            C::CopyTextFrom(s) => {
                let timeout = self.timeout(step, None);
                let Some(hit) = self.wait_visible(s, timeout).await? else {
                    return Err(StepError::failed(format!(
                        "copyTextFrom: {} not found",
                        describe_selector(s)
                    )));
                };
                self.copied_text = Some(hit.text);
            }
            C::InputText(t) => {
                let text = self.render(t)?;
                let sensitive = t
                    .vars()
                    .any(|v| self.app.is_some_and(|a| a.secrets.iter().any(|s| s == v)));
                self.device.type_text(&text, sensitive).await?;
            }
            C::InputRandom { kind, length } => {
                let n = length.unwrap_or(8) as usize;
                let text = match kind {
                    RandomInput::Number => (0..n)
                        .map(|_| char::from(b'0' + (self.rng.next_u64() % 10) as u8))
                        .collect(),
                    RandomInput::Email => format!("{}@example.com", self.rng.ident("user", 6).to_lowercase()),
                    RandomInput::PersonName => "Alex Morgan".into(),
                    RandomInput::CityName => "Lisbon".into(),
                    RandomInput::CountryName => "Portugal".into(),
                    RandomInput::ColorName => "Teal".into(),
                    RandomInput::Text => self.rng.ident("", n).to_lowercase(),
                };
                self.device.type_text(&text, false).await?;
            }
            C::EraseText { characters } => self.device.erase_text(characters.unwrap_or(50)).await?,
            C::PasteText => {
                let text = self
                    .copied_text
                    .clone()
                    .ok_or_else(|| StepError::failed("pasteText: nothing was copied"))?;
                self.device.type_text(&text, false).await?;
            }
            C::SetClipboard(t) => self.copied_text = Some(self.render(t)?),
            C::Back => self.device.press_back().await?,
            C::PressKey(k) if k == "Back" => self.device.press_back().await?,
            C::PressKey(k) if k == "Home" => self.device.background(-1.0).await?,
            C::HideKeyboard => self.device.hide_keyboard().await?,
            C::RunFlow { source, when, env } => {
                if let Some(c) = when
                    && !self.condition(c).await?
                {
                    return Ok(Run::Skipped);
                }
                self.sub_flow(file, source, env).await?;
            }
            C::Repeat {
                times,
                while_,
                commands,
            } => {
                let max = times.unwrap_or(u32::MAX);
                let mut n = 0;
                while n < max {
                    if let Some(c) = while_
                        && !self.condition(c).await?
                    {
                        break;
                    }
                    self.steps(file, commands).await?;
                    n += 1;
                    if times.is_none() && n >= 1000 {
                        return Err(StepError::failed(
                            "repeat: the `while` condition still held after 1000 rounds",
                        ));
                    }
                }
            }
            C::Retry {
                max_retries,
                source,
                env,
            } => {
                let tries = max_retries.unwrap_or(1) + 1;
                let mut last = None;
                for _ in 0..tries {
                    match self.sub_flow(file, source, env).await {
                        Ok(()) => {
                            last = None;
                            break;
                        }
                        Err(e @ StepError::Infra(_)) => return Err(e),
                        Err(e) => last = Some(e),
                    }
                }
                if let Some(e) = last {
                    return Err(e);
                }
            }
            C::TakeScreenshot { path, .. } => {
                let png = self.device.screenshot().await?;
                let name = format!("{}.png", path.trim_end_matches(".png").replace(['/', '\\'], "_"));
                self.save_artifact(&name, Some(png)).await;
            }
            C::Snapshot(name) => self.snapshot(name).await?,
            C::AssertSession { state, within } => {
                let within = within.unwrap_or(SESSION_TIMEOUT);
                let expected = match state {
                    SessionState::SignedIn => Expected::SignedIn,
                    SessionState::SignedOut => Expected::SignedOut,
                    SessionState::OfflineExpected => match &self.app()?.offline {
                        Some(OfflineBehaviour::SignedIn) | None => Expected::SignedIn,
                        Some(OfflineBehaviour::NetworkError { .. }) => Expected::OfflineNetworkError,
                    },
                };
                self.wait_auth(within, expected, &format!("the app to be {}", state.name()))
                    .await?;
            }
            C::AssertConvex { authenticated, within } => {
                if self.app()?.convex.is_none() {
                    return Err(StepError::failed(
                        "assertConvex: the app profile has no `convex` section",
                    ));
                }
                let within = within.unwrap_or(SESSION_TIMEOUT);
                self.wait_auth(
                    within,
                    Expected::Convex(*authenticated),
                    &format!("Convex authenticated={authenticated}"),
                )
                .await?;
            }
            C::AssertKeychain(KeychainCheck::Presence { key, present }) => {
                let found = self.storage_digest(key).await?.is_some();
                if found != *present {
                    return Err(StepError::failed(format!(
                        "{key} is {} secure storage",
                        if found { "present in" } else { "missing from" }
                    )));
                }
            }
            C::AssertKeychain(KeychainCheck::Unchanged { keys, since }) => {
                let Some(snap) = self.out.snapshots.iter().rev().find(|s| &s.name == since).cloned() else {
                    return Err(StepError::failed(format!("snapshot '{since}' was not taken")));
                };
                if snap.storage_source == crate::driver::StorageSource::Unavailable {
                    return Err(StepError::Infra(format!(
                        "snapshot '{since}' could not read secure storage on this device"
                    )));
                }
                for key in keys {
                    let before = snap.storage.iter().find(|e| &e.key == key).map(|e| e.digest.clone());
                    let now = self.storage_digest(key).await?;
                    if before != now {
                        let what = match (&before, &now) {
                            (Some(_), None) => "was removed",
                            (None, Some(_)) => "was added",
                            _ => "was rewritten",
                        };
                        return Err(StepError::failed(format!("{key} {what} since snapshot '{since}'")));
                    }
                }
            }
            C::Background { duration } => self.device.background(duration.as_secs_f64()).await?,
            C::SetNetwork(n) => self.device.set_network(*n == Network::Online).await?,
            other => {
                return Err(StepError::Infra(format!(
                    "'{}' is not supported by `harness run` yet",
                    command_name(other)
                )));
            }
        }
        Ok(Run::Done)
    }
}

enum Run {
    Done,
    Skipped,
}

/// The first element a selector matched, as a wait found it.
struct Hit {
    center: (i32, i32),
    bounds: crate::driver::hierarchy::Bounds,
    text: String,
    /// Set when the source has no geometry: the element is clicked by XPath.
    xpath: Option<String>,
}

/// A wait's end, in device time: real time divided by the device's time scale, confirmed
/// on the device's own clock when it has one (a stalled host does not shorten the wait).
struct Deadline {
    real: Instant,
    within_ms: u64,
    device_start: Option<u64>,
}
