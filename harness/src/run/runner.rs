//! Runs the plan: sessions per device, parallel workers, retries, fail-fast, timeouts.
//!
//! Virtual devices get a fresh session (a fresh virtual device seeded with the case's seed)
//! for every case, so a case's result depends only on the run seed — not on `--parallel`
//! or `--shard`. Real devices keep one session per device profile and run their cases one
//! after another. A failing device never stops the others; infrastructure errors are
//! `error` outcomes, never passes or plain failures.
//!
//! The runner never prints: each worker sends its cases' events (`CaseStarted` per attempt,
//! `CaseFinished`) to the runner's dispatcher, which forwards them to the caller's
//! [`Events`] and collects the results from them. Sessions are opened by
//! `crate::run::session`.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::driver::Device;
use crate::driver::vendor::Status;
use crate::errors::chain;
use crate::event::{CaseKey, Collector, Events, RunEvent};
use crate::exec::{Executor, StepError, Vars};
use crate::load::FlowSet;
use crate::platform::Platform;
use crate::profile::app::AppProfile;
use crate::profile::device::{DeviceProfile, Target};
use crate::results::{AttemptRecord, CaseResult, Outcome};
use crate::run::interrupt::{Interrupt, SESSION_END_GRACE};
use crate::run::plan::CaseSpec;
use crate::run::session::{OpenedSession, SessionError, VIRTUAL_TIME_SCALE, open_session};

/// How the runner runs: the run's identity, its limits and what every case gets.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The run's id (`RunStarted`, `HARNESS_RUN_ID`).
    pub run_id: String,
    /// The run seed the cases' seeds derive from (`RunStarted`).
    pub seed: u64,
    pub parallel: usize,
    pub retries: u32,
    pub fail_fast: bool,
    pub flow_timeout: Duration,
    pub run_dir: PathBuf,
    pub vars: Vars,
    /// URL of the in-process virtual farm, when a virtual device is in the run.
    pub farm_url: Option<String>,
    /// Stops the run from outside (a signal): no case starts after it, running flows are
    /// cancelled and their sessions ended.
    pub interrupt: Interrupt,
    /// How sessions are opened: [`open_session`] unless a test gives its own.
    pub opener: Opener,
}

/// Opens device sessions for the runner (tests give fakes).
#[async_trait::async_trait]
pub trait SessionOpener: Send + Sync {
    async fn open(
        &self,
        profile: &DeviceProfile,
        app_id: &str,
        seed: u64,
        app: Option<&AppProfile>,
        farm_url: Option<&str>,
    ) -> Result<OpenedSession, SessionError>;
}

/// The runner's [`SessionOpener`]; the default opens real sessions ([`open_session`]).
#[derive(Clone, Default)]
pub struct Opener(Option<Arc<dyn SessionOpener>>);

impl Opener {
    pub fn new(opener: Arc<dyn SessionOpener>) -> Self {
        Opener(Some(opener))
    }

    async fn open(
        &self,
        profile: &DeviceProfile,
        app_id: &str,
        seed: u64,
        app: Option<&AppProfile>,
        farm_url: Option<&str>,
    ) -> Result<OpenedSession, SessionError> {
        match &self.0 {
            Some(o) => o.open(profile, app_id, seed, app, farm_url).await,
            None => open_session(profile, app_id, seed, app, farm_url).await,
        }
    }
}

impl std::fmt::Debug for Opener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Opener(custom)"
        } else {
            "Opener(default)"
        })
    }
}

fn platform_of(p: &DeviceProfile) -> Platform {
    p.platform
}

/// Runs cases on the devices of its profiles and tells what happens on an [`Events`]
/// stream: never prints.
#[derive(Clone)]
pub struct Runner {
    flows: Arc<FlowSet>,
    devices: Arc<BTreeMap<String, DeviceProfile>>,
    config: Arc<RunConfig>,
}

impl Runner {
    pub fn new(flows: Arc<FlowSet>, devices: Arc<BTreeMap<String, DeviceProfile>>, config: RunConfig) -> Self {
        Runner {
            flows,
            devices,
            config: Arc::new(config),
        }
    }

    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    /// A whole run: `RunStarted`, then every case (`CaseStarted` for each attempt,
    /// `CaseFinished` for each case), then `RunFinished`. Returns the results in the order of
    /// `cases`.
    pub async fn run(&self, cases: Vec<CaseSpec>, events: &Events) -> Vec<CaseResult> {
        let started = Instant::now();
        events.send(RunEvent::RunStarted {
            run_id: self.config.run_id.clone(),
            total: cases.len(),
            parallel: self.config.parallel,
            seed: self.config.seed,
        });
        let results = self.run_cases(cases, events).await;
        events.send(RunEvent::RunFinished {
            duration_ms: started.elapsed().as_millis() as u64,
        });
        results
    }

    /// Runs `cases` as part of a run whose `RunStarted` and `RunFinished` the caller sends
    /// (`--until-confident` runs its rounds this way): `CaseStarted` and `CaseFinished`
    /// only, `CaseFinished::index` being the case's position in `cases`. Returns the
    /// results in that order.
    ///
    /// The workers send their events to this call, which forwards each one to `events` and
    /// collects the results from them: the results are exactly what was reported.
    pub async fn run_cases(&self, cases: Vec<CaseSpec>, events: &Events) -> Vec<CaseResult> {
        let stop = Arc::new(AtomicBool::new(false));
        let permits = Arc::new(Semaphore::new(self.config.parallel.max(1)));
        let (workers_events, mut from_workers) = Events::channel();
        // Virtual cases run independently; a real device profile gets as many lanes as it
        // has sessions at once (`parallel`), which take its cases from one queue.
        let mut queues: BTreeMap<String, VecDeque<(usize, CaseSpec)>> = BTreeMap::new();
        let mut singles: Vec<(usize, CaseSpec)> = vec![];
        for (i, c) in cases.into_iter().enumerate() {
            match self
                .devices
                .get(&c.device)
                .map(|d| matches!(d.target, Target::Virtual(_)))
            {
                Some(false) => queues.entry(c.device.clone()).or_default().push_back((i, c)),
                _ => singles.push((i, c)),
            }
        }
        let mut lanes: Vec<Arc<Queue>> = vec![];
        for (device, queue) in queues {
            let sessions = self.devices.get(&device).map_or(1, |d| d.sessions.max(1));
            let queue = Arc::new(Mutex::new(queue));
            for _ in 0..sessions {
                lanes.push(queue.clone());
            }
        }
        let mut set = tokio::task::JoinSet::new();
        for (i, case) in singles {
            let (this, events) = (self.clone(), workers_events.clone());
            let (permits, stop) = (permits.clone(), stop.clone());
            set.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let r = run_case(&case, None, &this.flows, &this.devices, &this.config, &stop, &events).await;
                events.send(finished(i, r));
            });
        }
        for queue in lanes {
            let (this, events) = (self.clone(), workers_events.clone());
            let (permits, stop) = (permits.clone(), stop.clone());
            set.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let mut session: Option<OpenedSession> = None;
                while let Some((i, case)) = next(&queue) {
                    let r = run_case(
                        &case,
                        Some(&mut session),
                        &this.flows,
                        &this.devices,
                        &this.config,
                        &stop,
                        &events,
                    )
                    .await;
                    events.send(finished(i, r));
                }
                if let Some(s) = session {
                    end_session(s.device, "the lane's session").await;
                }
            });
        }
        // The workers hold the only senders left: the loop below ends when the last ends.
        drop(workers_events);
        let workers = async {
            while let Some(r) = set.join_next().await {
                if let Err(e) = r {
                    tracing::error!("a device worker panicked: {e}");
                }
            }
        };
        let mut collector = Collector::default();
        let dispatch = async {
            while let Some(event) = from_workers.recv().await {
                collector.observe(&event);
                events.send(event);
            }
        };
        tokio::join!(workers, dispatch);
        collector.finish()
    }
}

/// Runs every case as one run (see [`Runner::run`]) and returns their results in plan order.
pub async fn run_cases(
    cases: Vec<CaseSpec>,
    flows: Arc<FlowSet>,
    devices: Arc<BTreeMap<String, DeviceProfile>>,
    config: RunConfig,
    events: &Events,
) -> Vec<CaseResult> {
    Runner::new(flows, devices, config).run(cases, events).await
}

/// A profile's cases not started yet, with their positions in the run: its lanes pull from
/// it.
type Queue = Mutex<VecDeque<(usize, CaseSpec)>>;

/// The next case of a lane's queue (shared with the other lanes of the same profile).
fn next(queue: &Queue) -> Option<(usize, CaseSpec)> {
    queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front()
}

/// Ends a session, giving up after [`SESSION_END_GRACE`] (a hung server must not hold the
/// run, least of all an interrupted one).
async fn end_session(session: Box<dyn Device>, what: &str) {
    match tokio::time::timeout(SESSION_END_GRACE, session.quit()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!("ending {what} failed: {e}"),
        Err(_) => tracing::warn!("ending {what} took over {} s: abandoned", SESSION_END_GRACE.as_secs()),
    }
}

fn finished(index: usize, result: CaseResult) -> RunEvent {
    RunEvent::CaseFinished {
        index,
        result: Box::new(result),
    }
}

/// The key of an attempt of `case`.
fn case_key(case: &CaseSpec, attempt: u32) -> CaseKey {
    CaseKey {
        flow: case.flow.clone(),
        device: case.device.clone(),
        iteration: case.iteration,
        attempt,
    }
}

fn blank(case: &CaseSpec, platform: &str, outcome: Outcome, message: Option<String>) -> CaseResult {
    let planned = crate::results::PlannedCase {
        flow: case.flow.clone(),
        flow_file: case.flow_file.display().to_string(),
        device: case.device.clone(),
        platform: platform.to_string(),
        iteration: case.iteration,
        seed: case.seed,
    };
    CaseResult::not_run(&planned, outcome, message)
}

/// One case with retries. `lane` holds a reusable session for real devices.
async fn run_case(
    case: &CaseSpec,
    mut lane: Option<&mut Option<OpenedSession>>,
    flows: &FlowSet,
    devices: &BTreeMap<String, DeviceProfile>,
    config: &RunConfig,
    stop: &AtomicBool,
    events: &Events,
) -> CaseResult {
    let started = Instant::now();
    let Some(profile) = devices.get(&case.device) else {
        return blank(
            case,
            "?",
            Outcome::Error,
            Some(format!("device profile '{}' is not loaded", case.device)),
        );
    };
    let platform = platform_of(profile);
    if let Some(signal) = config.interrupt.signal() {
        return blank(
            case,
            platform.name(),
            Outcome::Skipped,
            Some(Interrupt::skipped_message(signal, false)),
        );
    }
    if stop.load(Ordering::SeqCst) {
        return blank(
            case,
            platform.name(),
            Outcome::Skipped,
            Some("not run: --fail-fast after a failure".into()),
        );
    }
    let app_id = flows
        .app_of(&case.flow_file)
        .and_then(|a| match platform {
            Platform::Ios => a.ios_bundle_id.clone(),
            Platform::Android => a.android_package.clone(),
        })
        .or_else(|| {
            flows
                .flows
                .get(&case.flow_file)
                .and_then(|f| f.header.app_id.as_ref())
                .and_then(|t| t.as_literal())
        })
        .unwrap_or_default();
    let mut attempts = 0;
    let mut history: Vec<AttemptRecord> = vec![];
    let mut result;
    loop {
        attempts += 1;
        let seed = crate::run::plan::stable_hash(&[&attempts.to_string()], case.seed);
        let seed = if attempts == 1 { case.seed } else { seed };
        let attempt_started = Instant::now();
        let key = case_key(case, attempts);
        events.send(RunEvent::CaseStarted { case: key.clone() });
        let on = Attempt {
            case,
            key,
            events,
            profile,
            app_id: &app_id,
            seed,
        };
        result = attempt(&on, lane.as_deref_mut(), flows, config).await;
        result.attempts = attempts;
        if result.outcome == Outcome::Passed
            || result.outcome == Outcome::Error
            || attempts > config.retries
            || config.interrupt.signal().is_some()
        {
            break;
        }
        history.push(AttemptRecord {
            attempt: attempts,
            outcome: result.outcome,
            message: result.message.clone(),
            diagnosis: result.diagnosis.clone(),
            cause: result.cause.clone(),
            duration_ms: attempt_started.elapsed().as_millis() as u64,
            seed,
        });
    }
    if result.outcome == Outcome::Skipped && attempts > 1 {
        // Interrupted during a retry: the earlier attempts say what happened.
        result.outcome = history.last().map_or(Outcome::Skipped, |a| a.outcome);
    }
    if result.outcome == Outcome::Passed && attempts > 1 {
        result.outcome = Outcome::Flaky;
        result.message = Some(flaky_message(attempts, &history));
    }
    result.attempt_history = history;
    if config.fail_fast && matches!(result.outcome, Outcome::Failed | Outcome::Error) {
        stop.store(true, Ordering::SeqCst);
    }
    result.duration_ms = started.elapsed().as_millis() as u64;
    result
}

/// The message of a case that passed on a retry: the attempt that passed and the earlier
/// failures' messages (`passed on attempt 3; earlier: a | b`); the failures themselves are in
/// [`CaseResult::attempt_history`].
pub fn flaky_message(attempts: u32, history: &[AttemptRecord]) -> String {
    let earlier: Vec<&str> = history
        .iter()
        .map(|a| a.message.as_deref().unwrap_or_default())
        .collect();
    format!("passed on attempt {attempts}; earlier: {}", earlier.join(" | "))
}

/// One attempt of a case: what it runs, on which profile, with which seed, and where its
/// events go.
struct Attempt<'a> {
    case: &'a CaseSpec,
    key: CaseKey,
    events: &'a Events,
    profile: &'a DeviceProfile,
    app_id: &'a str,
    seed: u64,
}

async fn attempt(
    on: &Attempt<'_>,
    lane: Option<&mut Option<OpenedSession>>,
    flows: &FlowSet,
    config: &RunConfig,
) -> CaseResult {
    let case = on.case;
    let platform = platform_of(on.profile);
    let mut result = blank(case, platform.name(), Outcome::Passed, None);
    // Real devices reuse the lane's session; virtual cases get a fresh device each.
    let is_lane = lane.is_some();
    let mut fresh: Option<OpenedSession> = None;
    let slot = match lane {
        Some(slot) => slot,
        None => &mut fresh,
    };
    if slot.is_none() {
        let opened = config
            .opener
            .open(
                on.profile,
                on.app_id,
                on.seed,
                flows.app_of(&case.flow_file),
                config.farm_url.as_deref(),
            )
            .await;
        match opened {
            Ok(s) => *slot = Some(s),
            Err(e) => {
                result.outcome = Outcome::Error;
                result.message = Some(format!("cannot open a session on {}: {}", case.device, chain(&e)));
                return result;
            }
        }
    }
    let session = slot.as_mut().expect("opened above");
    let infra = run_on(on, &mut session.device, platform, flows, config, &mut result).await;
    if let Some(vendor) = session.vendor.clone() {
        result.artifacts.push(vendor.link());
        if result.outcome != Outcome::Skipped {
            if result.outcome != Outcome::Passed && session.first_failure.is_none() {
                let reason = match &result.message {
                    Some(m) => format!("{} #{}: {}: {m}", case.flow, case.iteration, result.outcome.name()),
                    None => format!("{} #{}: {}", case.flow, case.iteration, result.outcome.name()),
                };
                session.first_failure = Some(reason);
            }
            let status = match &session.first_failure {
                Some(reason) => Status {
                    passed: false,
                    reason: reason.clone(),
                },
                None => Status {
                    passed: true,
                    reason: "passed".into(),
                },
            };
            if let Err(e) = vendor.report(&status, on.profile.command_timeout).await {
                tracing::warn!("{}", chain(&e));
            }
        }
    }
    // A lane's session may be broken after an infrastructure error (or the run is
    // stopping): it ends, and the next case opens a new one.
    if (!is_lane || infra || config.interrupt.signal().is_some())
        && let Some(s) = slot.take()
    {
        end_session(s.device, &format!("the session on {}", case.device)).await;
    }
    result
}

/// Runs the case's flow on `device`; returns whether the outcome was an infrastructure error.
/// An interrupt cancels the flow: the case is `skipped`, saying so.
async fn run_on(
    on: &Attempt<'_>,
    device: &mut Box<dyn Device>,
    platform: Platform,
    flows: &FlowSet,
    config: &RunConfig,
    result: &mut CaseResult,
) -> bool {
    let case = on.case;
    let rel = format!(
        "artifacts/{}/{}/{}",
        sanitize(&case.flow),
        sanitize(&case.device),
        case.iteration
    );
    let dir = config.run_dir.join(&rel);
    let mut vars = config.vars.clone();
    vars.builtins.insert("HARNESS_PLATFORM".into(), platform.name().into());
    vars.builtins.insert("HARNESS_DEVICE".into(), case.device.clone());
    vars.builtins
        .insert("HARNESS_ITERATION".into(), case.iteration.to_string());
    vars.builtins.insert("MAESTRO_FILENAME".into(), case.flow.clone());
    let scale = if config.farm_url.is_some() && device.is_virtual() {
        VIRTUAL_TIME_SCALE
    } else {
        1.0
    };
    let artifacts = Box::new(crate::exec::FsArtifacts::new(dir, rel));
    let exec = Executor::new(device.as_mut(), flows, vars, artifacts, on.seed)
        .with_time_scale(scale)
        .with_events(on.events.clone(), on.key.clone());
    if let Some(signal) = config.interrupt.signal() {
        // Stopped while the session was opening: the flow does not start.
        result.outcome = Outcome::Skipped;
        result.message = Some(Interrupt::skipped_message(signal, false));
        return false;
    }
    let flow = tokio::time::timeout(config.flow_timeout, exec.run_flow(&case.flow_file));
    let ran = tokio::select! {
        ran = flow => ran,
        signal = config.interrupt.triggered() => {
            result.outcome = Outcome::Skipped;
            result.message = Some(Interrupt::skipped_message(signal, true));
            return false;
        }
    };
    match ran {
        Err(_) => {
            result.outcome = Outcome::Error;
            result.message = Some(format!("the flow timed out after {} s", config.flow_timeout.as_secs()));
        }
        Ok(out) => {
            result.steps = out.steps;
            result.snapshots = out.snapshots;
            result.artifacts = out.artifacts;
            result.restore_ms = out.restore_ms;
            result.cold_launch_ms = out.cold_launch_ms;
            match out.error {
                None => {}
                Some(StepError::Infra(e)) => {
                    result.outcome = Outcome::Error;
                    result.message = Some(e.to_string());
                }
                Some(StepError::Failed { message, diagnosis }) => {
                    result.outcome = Outcome::Failed;
                    result.message = Some(message);
                    if let Some(d) = diagnosis {
                        result.cause = Some(d.cause.to_string());
                        result.diagnosis = Some(d.message);
                    }
                }
            }
        }
    }
    result.outcome == Outcome::Error
}

/// A path-safe name.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::driver::fake::{FakeDevice, FakeEvent, Node, screen};
    use crate::load::{VarSources, load_flows};
    use crate::profile::device::parse_device_profile;

    /// Opens fake Android sessions; the first one opened is slow: every launch of the app
    /// shows `slow_reads` empty screens before the target (a device that takes its time).
    struct Fakes {
        opened: AtomicUsize,
        slow_reads: usize,
        /// (session number, case seed) per launch, in order.
        launches: Arc<Mutex<Vec<usize>>>,
    }

    #[async_trait::async_trait]
    impl SessionOpener for Fakes {
        async fn open(
            &self,
            _profile: &DeviceProfile,
            app_id: &str,
            _seed: u64,
            _app: Option<&AppProfile>,
            _farm_url: Option<&str>,
        ) -> Result<OpenedSession, SessionError> {
            let n = self.opened.fetch_add(1, Ordering::SeqCst);
            let reads = if n == 0 { self.slow_reads } else { 0 };
            let target = screen(Platform::Android, &[Node::id("target")]);
            let mut device = FakeDevice::android().with_app_id(app_id).showing(target.clone());
            let launches = self.launches.clone();
            device.react(move |e, script| {
                if matches!(e, FakeEvent::Launch { .. }) {
                    launches.lock().unwrap().push(n);
                    script.screens = std::iter::repeat_n(screen(Platform::Android, &[]), reads)
                        .chain([target.clone()])
                        .collect();
                }
            });
            Ok(OpenedSession {
                device: Box::new(device),
                session_id: None,
                vendor: None,
                first_failure: None,
            })
        }
    }

    async fn run(sessions: usize, slow_reads: usize) -> (Vec<CaseResult>, Vec<usize>, Duration) {
        let dir = tempfile::tempdir().unwrap();
        let flow = dir.path().join("f.yaml");
        std::fs::write(
            &flow,
            "appId: com.example\n---\n- launchApp\n- assertVisible: {id: target}\n",
        )
        .unwrap();
        let flows = load_flows(std::slice::from_ref(&flow), &VarSources::from_env(vec![]));
        assert!(!flows.has_errors(), "{:?}", flows.diagnostics);
        let yaml =
            format!("name: pool\nplatform: Android\nkind: appium\nurl: http://127.0.0.1:9\nparallel: {sessions}\n");
        let (profile, diags) = parse_device_profile(&yaml, std::path::Path::new("devices/pool.yaml"));
        let profile = profile.unwrap_or_else(|| panic!("{diags:?}"));
        let launches = Arc::new(Mutex::new(vec![]));
        let opener = Fakes {
            opened: AtomicUsize::new(0),
            slow_reads,
            launches: launches.clone(),
        };
        let config = RunConfig {
            run_id: "r".into(),
            seed: 7,
            parallel: 4,
            retries: 0,
            fail_fast: false,
            flow_timeout: Duration::from_secs(600),
            run_dir: dir.path().to_path_buf(),
            vars: Vars::default(),
            farm_url: None,
            interrupt: Interrupt::new(),
            opener: Opener::new(Arc::new(opener)),
        };
        let cases: Vec<CaseSpec> = (1..=6)
            .map(|i| CaseSpec {
                flow_file: flow.clone(),
                flow: "f".into(),
                device: "pool".into(),
                iteration: i,
                seed: crate::run::plan::stable_hash(&[&i.to_string()], 7),
            })
            .collect();
        let devices = BTreeMap::from([("pool".to_string(), profile)]);
        let started = tokio::time::Instant::now();
        let results = run_cases(cases, Arc::new(flows), Arc::new(devices), config, &Events::none()).await;
        let took = started.elapsed();
        let launches = launches.lock().unwrap().clone();
        (results, launches, took)
    }

    /// What must not depend on which session ran a case.
    fn essence(results: &[CaseResult]) -> Vec<(String, u32, Outcome, u64, Vec<String>)> {
        results
            .iter()
            .map(|r| {
                let steps = r.steps.iter().map(|s| format!("{} {:?}", s.name, s.status)).collect();
                (r.device.clone(), r.iteration, r.outcome, r.seed, steps)
            })
            .collect()
    }

    #[tokio::test]
    async fn lanes_pull_from_one_queue_so_a_slow_device_does_not_hold_back_the_others() {
        // One session: the static order, every case on one device.
        let (one, launches, _) = run(1, 0).await;
        assert_eq!(launches, [0; 6]);
        assert!(one.iter().all(|r| r.outcome == Outcome::Passed), "{one:?}");
        // Two sessions, the first slow: the fast one takes the cases the slow one cannot.
        let (two, launches, took) = run(2, 6).await;
        let on_slow = launches.iter().filter(|&&n| n == 0).count();
        let on_fast = launches.len() - on_slow;
        assert_eq!(launches.len(), 6, "{launches:?}");
        assert!(
            on_fast >= 4 && on_slow <= 2,
            "a static split gives 3 and 3: {launches:?}"
        );
        // Whoever ran them, the results are the single session's (plan order, seeds).
        assert_eq!(essence(&two), essence(&one));
        // The slow device's first case is the long pole, not three of them.
        let (_, _, alone) = run(1, 6).await;
        assert!(took * 2 < alone, "two lanes {took:?}, the slow device alone {alone:?}");
    }
}
