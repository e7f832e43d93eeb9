//! Runs the plan: sessions per device, parallel workers, retries, fail-fast, timeouts.
//!
//! Virtual devices get a fresh session (a fresh virtual device seeded with the case's seed)
//! for every case, so a case's result depends only on the run seed — not on `--parallel`
//! or `--shard`. Real devices keep one session per device profile and run their cases one
//! after another. A failing device never stops the others; infrastructure errors are
//! `error` outcomes, never passes or plain failures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Map, json};
use tokio::sync::Semaphore;

use crate::driver::Device;
use crate::driver::android_host::AndroidHost;
use crate::driver::appium::{AppiumDevice, SessionSpec};
use crate::driver::hybrid::Hybrid;
use crate::driver::ios_host::{IosHost, StorageNames};
use crate::exec::{Executor, StepError, Vars};
use crate::flow::load::FlowSet;
use crate::platform::Platform;
use crate::profile::app::AppProfile;
use crate::profile::device::{Backend, DeviceProfile, EmulatorRef, Target};
use crate::results::{AttemptRecord, CaseResult, Outcome};
use crate::run::plan::CaseSpec;

/// Virtual devices run this many times faster than real time (waits stay real-time).
pub const VIRTUAL_TIME_SCALE: f64 = 20.0;

#[derive(Clone, Debug)]
pub struct RunConfig {
    pub parallel: usize,
    pub retries: u32,
    pub fail_fast: bool,
    pub flow_timeout: Duration,
    pub run_dir: PathBuf,
    pub vars: Vars,
    /// URL of the in-process virtual farm, when a virtual device is in the run.
    pub farm_url: Option<String>,
}

/// Progress lines go through this (stderr by default).
pub type Progress = Arc<dyn Fn(&str) + Send + Sync>;

fn platform_of(p: &DeviceProfile) -> Platform {
    p.platform
}

/// The session to open for a device profile and app id.
pub fn session_spec(
    profile: &DeviceProfile,
    app_id: &str,
    seed: u64,
    farm_url: Option<&str>,
) -> Result<SessionSpec, String> {
    let platform = platform_of(profile);
    let mut caps = Map::new();
    caps.insert("platformName".into(), json!(platform.name()));
    let (automation, app_key) = match platform {
        Platform::Ios => ("XCUITest", "appium:bundleId"),
        Platform::Android => ("UiAutomator2", "appium:appPackage"),
    };
    caps.insert("appium:automationName".into(), json!(automation));
    caps.insert(app_key.into(), json!(app_id));
    let (url, is_virtual) = match &profile.target {
        Target::Virtual(k) => {
            let knobs = crate::profile::knobs::VirtualKnobs {
                time_scale: VIRTUAL_TIME_SCALE,
                seed: Some(k.seed.unwrap_or(seed)),
                ..k.clone()
            };
            let opts = serde_json::to_value(&knobs).map_err(|e| format!("virtual knobs: {e}"))?;
            caps.insert("harness:options".into(), opts);
            (farm_url.ok_or("the virtual farm is not running")?.to_string(), true)
        }
        Target::IosSimulator(sim) => {
            match &sim.device {
                crate::profile::device::SimulatorRef::Udid(u) => caps.insert("appium:udid".into(), json!(u)),
                crate::profile::device::SimulatorRef::DeviceName(n) => {
                    caps.insert("appium:deviceName".into(), json!(n))
                }
            };
            if let Some(v) = &sim.os_version {
                caps.insert("appium:platformVersion".into(), json!(v));
            }
            caps.insert("appium:noReset".into(), json!(true));
            for (k, v) in &sim.appium.capabilities {
                caps.insert(k.clone(), v.clone());
            }
            (sim.appium.url.clone(), false)
        }
        Target::AndroidEmulator(e) => {
            match &e.device {
                EmulatorRef::Serial(s) => caps.insert("appium:udid".into(), json!(s)),
                EmulatorRef::Avd(a) => caps.insert("appium:avd".into(), json!(a)),
            };
            caps.insert("appium:noReset".into(), json!(true));
            for (k, v) in &e.appium.capabilities {
                caps.insert(k.clone(), v.clone());
            }
            (e.appium.url.clone(), false)
        }
        Target::Appium(s) | Target::Grid(s) => {
            for (k, v) in &s.capabilities {
                caps.insert(k.clone(), v.clone());
            }
            (s.url.clone(), false)
        }
        Target::Cloud(c) => {
            for (k, v) in &c.capabilities {
                caps.insert(k.clone(), v.clone());
            }
            let user = std::env::var(&c.credentials.username_env).map_err(|_| {
                format!(
                    "set {} in the environment (the device profile's credentials)",
                    c.credentials.username_env
                )
            })?;
            let key = std::env::var(&c.credentials.access_key_env).map_err(|_| {
                format!(
                    "set {} in the environment (the device profile's credentials)",
                    c.credentials.access_key_env
                )
            })?;
            let block = c.vendor.options_key();
            let opts = caps.entry(block.to_string()).or_insert_with(|| json!({}));
            if let Some(o) = opts.as_object_mut() {
                let (uk, kk) = match block {
                    "sauce:options" => ("username", "accessKey"),
                    "lt:options" => ("username", "accessKey"),
                    _ => ("userName", "accessKey"),
                };
                o.insert(uk.into(), json!(user));
                o.insert(kk.into(), json!(key));
            }
            (c.url.clone(), false)
        }
    };
    Ok(SessionSpec {
        url,
        platform,
        app_id: app_id.to_string(),
        capabilities: caps,
        is_virtual,
    })
}

/// Opens a device session with the profile's backend: Appium, the host tools (`adb`,
/// `xcrun simctl`), or both.
pub async fn open_device(
    profile: &DeviceProfile,
    app_id: &str,
    seed: u64,
    app: Option<&AppProfile>,
    farm_url: Option<&str>,
) -> Result<Box<dyn Device>, String> {
    let appium = || async {
        let spec = session_spec(profile, app_id, seed, farm_url)?;
        AppiumDevice::connect(&spec)
            .await
            .map(|d| Box::new(d) as Box<dyn Device>)
            .map_err(|e| e.to_string())
    };
    if profile.backend == Backend::Appium {
        return appium().await;
    }
    let host: Box<dyn Device> = match &profile.target {
        Target::AndroidEmulator(e) => Box::new(AndroidHost::open(&e.device, app_id).await.map_err(|e| e.to_string())?),
        Target::IosSimulator(sim) => {
            let names = match app {
                Some(a) => StorageNames::new(&a.secure_store.session_keys, Some(&a.secure_store.ios_service)),
                None => StorageNames::new(&[], None),
            };
            Box::new(
                IosHost::open(&sim.device, sim.os_version.as_deref(), app_id, names)
                    .await
                    .map_err(|e| e.to_string())?,
            )
        }
        // The profile loader refuses host backends on other kinds.
        _ => {
            return Err(format!(
                "backend {} needs a local simulator or emulator",
                profile.backend
            ));
        }
    };
    if profile.backend == Backend::Host {
        return Ok(host);
    }
    match appium().await {
        Ok(ui) => Ok(Box::new(Hybrid { ui, host })),
        Err(e) => {
            let _ = host.quit().await;
            Err(e)
        }
    }
}

/// Runs every case and returns their results (in plan order).
pub async fn run_cases(
    cases: Vec<CaseSpec>,
    flows: Arc<FlowSet>,
    devices: Arc<BTreeMap<String, DeviceProfile>>,
    config: RunConfig,
    progress: Progress,
) -> Vec<CaseResult> {
    let total = cases.len();
    let done = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let permits = Arc::new(Semaphore::new(config.parallel.max(1)));
    let config = Arc::new(config);
    // Virtual cases run independently; real devices get one lane each.
    let mut lanes: BTreeMap<String, Vec<(usize, CaseSpec)>> = BTreeMap::new();
    let mut singles: Vec<(usize, CaseSpec)> = vec![];
    for (i, c) in cases.into_iter().enumerate() {
        match devices.get(&c.device).map(|d| matches!(d.target, Target::Virtual(_))) {
            Some(false) => lanes.entry(c.device.clone()).or_default().push((i, c)),
            _ => singles.push((i, c)),
        }
    }
    let mut set = tokio::task::JoinSet::new();
    for (i, case) in singles {
        let (flows, devices, config, progress) = (flows.clone(), devices.clone(), config.clone(), progress.clone());
        let (permits, done, stop) = (permits.clone(), done.clone(), stop.clone());
        set.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let r = run_case(&case, None, &flows, &devices, &config, &stop).await;
            report_progress(&progress, &done, total, &r);
            vec![(i, r)]
        });
    }
    for (_, lane) in lanes {
        let (flows, devices, config, progress) = (flows.clone(), devices.clone(), config.clone(), progress.clone());
        let (permits, done, stop) = (permits.clone(), done.clone(), stop.clone());
        set.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let mut session: Option<Box<dyn Device>> = None;
            let mut out = vec![];
            for (i, case) in lane {
                let r = run_case(&case, Some(&mut session), &flows, &devices, &config, &stop).await;
                report_progress(&progress, &done, total, &r);
                out.push((i, r));
            }
            if let Some(s) = session {
                let _ = s.quit().await;
            }
            out
        });
    }
    let mut results: Vec<(usize, CaseResult)> = vec![];
    while let Some(r) = set.join_next().await {
        match r {
            Ok(v) => results.extend(v),
            Err(e) => tracing::error!("a device worker panicked: {e}"),
        }
    }
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

fn report_progress(progress: &Progress, done: &AtomicUsize, total: usize, r: &CaseResult) {
    let n = done.fetch_add(1, Ordering::SeqCst) + 1;
    let cause = r.cause.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
    progress(&format!(
        "[{n}/{total}] {} on {} #{}: {}{cause} in {:.1} s",
        r.flow,
        r.device,
        r.iteration,
        r.outcome.name(),
        r.duration_ms as f64 / 1000.0
    ));
}

fn blank(case: &CaseSpec, platform: &str, outcome: Outcome, message: Option<String>) -> CaseResult {
    CaseResult {
        flow: case.flow.clone(),
        flow_file: case.flow_file.display().to_string(),
        device: case.device.clone(),
        platform: platform.to_string(),
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

/// One case with retries. `lane` holds a reusable session for real devices.
async fn run_case(
    case: &CaseSpec,
    mut lane: Option<&mut Option<Box<dyn Device>>>,
    flows: &FlowSet,
    devices: &BTreeMap<String, DeviceProfile>,
    config: &RunConfig,
    stop: &AtomicBool,
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
        result = attempt(case, lane.as_deref_mut(), profile, &app_id, seed, flows, config).await;
        result.attempts = attempts;
        if result.outcome == Outcome::Passed || result.outcome == Outcome::Error || attempts > config.retries {
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

async fn attempt(
    case: &CaseSpec,
    lane: Option<&mut Option<Box<dyn Device>>>,
    profile: &DeviceProfile,
    app_id: &str,
    seed: u64,
    flows: &FlowSet,
    config: &RunConfig,
) -> CaseResult {
    let platform = platform_of(profile);
    let mut result = blank(case, platform.name(), Outcome::Passed, None);
    let open = || async {
        open_device(
            profile,
            app_id,
            seed,
            flows.app_of(&case.flow_file),
            config.farm_url.as_deref(),
        )
        .await
        .map_err(|e| format!("cannot open a session on {}: {e}", case.device))
    };
    // Real devices reuse the lane's session; virtual cases get a fresh device each.
    let mut fresh: Option<Box<dyn Device>> = None;
    let is_lane = lane.is_some();
    let device: &mut Box<dyn Device> = match lane {
        Some(slot) => {
            if slot.is_none() {
                match open().await {
                    Ok(d) => *slot = Some(d),
                    Err(e) => {
                        result.outcome = Outcome::Error;
                        result.message = Some(e);
                        return result;
                    }
                }
            }
            let device = slot.as_mut().expect("opened above");
            let r = run_on(case, device, platform, seed, flows, config, &mut result).await;
            if r {
                // The session may be broken: end it; the next case opens a new one.
                if let Some(s) = slot.take() {
                    let _ = s.quit().await;
                }
            }
            return result;
        }
        None => match open().await {
            Ok(d) => fresh.insert(d),
            Err(e) => {
                result.outcome = Outcome::Error;
                result.message = Some(e);
                return result;
            }
        },
    };
    debug_assert!(!is_lane);
    run_on(case, device, platform, seed, flows, config, &mut result).await;
    if let Some(d) = fresh
        && let Err(e) = d.quit().await
    {
        tracing::warn!("ending the session on {} failed: {e}", case.device);
    }
    result
}

/// Runs the case's flow on `device`; returns whether the outcome was an infrastructure error.
async fn run_on(
    case: &CaseSpec,
    device: &mut Box<dyn Device>,
    platform: Platform,
    seed: u64,
    flows: &FlowSet,
    config: &RunConfig,
    result: &mut CaseResult,
) -> bool {
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
    let exec = Executor::new(device.as_mut(), flows, vars, dir, rel, seed).with_time_scale(scale);
    match tokio::time::timeout(config.flow_timeout, exec.run_flow(&case.flow_file)).await {
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
                Some(StepError::Infra(m)) => {
                    result.outcome = Outcome::Error;
                    result.message = Some(m);
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

/// Whether a path exists (for `reports/latest`).
pub fn point_latest(reports: &Path, run_id: &str) {
    let latest = reports.join("latest");
    let _ = std::fs::remove_file(&latest);
    #[cfg(unix)]
    {
        let _ = std::os::unix::fs::symlink(run_id, &latest);
    }
    #[cfg(not(unix))]
    {
        let _ = std::fs::write(&latest, run_id);
    }
}
