//! `harness run` as a library call: from flow paths and device names to written reports.
//!
//! [`Campaign::prepare`] does everything that can be wrong with the input before anything
//! runs — finds the flow files, loads and checks the flows, checks the secrets the app
//! profiles declare, loads the device profiles, plans the cases — and creates the run
//! directory. [`Campaign::run`] then starts the virtual farm when a virtual device is in the
//! run (through the injected [`FarmStarter`]: the farm is a leaf the core never imports),
//! runs the cases (all at once, or `--until-confident`), writes the reports, points
//! `reports/latest` at the run and compares with the baseline. Everything a user sees comes
//! back as data or as [`RunEvent`](crate::event::RunEvent)s: nothing here prints.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::errors::{HarnessError, MissingSecret};
use crate::event::{Events, RunEvent};
use crate::exec::Vars;
use crate::load::{FlowSet, VarSources, load_flows, normalize};
use crate::profile::device::{DeviceProfile, Target, load_device_profile};
use crate::report::{EVENTS_FILE, EventLog, LogHeader, ReportError};
use crate::results::PlannedCase;
use crate::results::{CaseResult, Outcome, RunResults};
use crate::run::interrupt::{Interrupt, SESSION_END_GRACE, StopSignal};
use crate::run::plan::{CaseSpec, PlannedFlow, Shard, plan};
use crate::run::runner::{RunConfig, Runner};
use crate::run::until_confident::{UntilConfident, Verdict};
use crate::stats::Change;

/// The flows a run without flow paths runs.
pub const DEFAULT_FLOWS: &str = "flows";
/// The device profiles a run without `--device` runs on.
pub const DEFAULT_DEVICES: [&str; 2] = ["virtual-ios", "virtual-android"];

/// What to run and how: `harness run`'s arguments, without the command line.
#[derive(Clone, Debug)]
pub struct CampaignOptions {
    /// Flow files or directories (a directory's top-level `.yaml` files); empty:
    /// [`DEFAULT_FLOWS`].
    pub flows: Vec<PathBuf>,
    /// Device profile names (`devices/NAME.yaml`) or paths; empty: [`DEFAULT_DEVICES`].
    pub devices: Vec<String>,
    pub iterations: u32,
    pub parallel: usize,
    pub shard: Option<Shard>,
    /// The run seed; `None`: the time.
    pub seed: Option<u64>,
    pub include_tags: Vec<String>,
    pub exclude_tags: Vec<String>,
    pub fail_fast: bool,
    pub retries: u32,
    /// `--until-confident` with this threshold.
    pub until_confident: Option<f64>,
    /// A previous results.json or run directory to compare with.
    pub baseline: Option<PathBuf>,
    pub flow_timeout: Duration,
    /// Where runs write their reports (`RUN_ID/`, `latest`).
    pub reports: PathBuf,
    /// `-e NAME=VALUE` variables.
    pub env: Vec<(String, String)>,
}

/// Starts the in-process virtual farm for a run and returns its URL. The CLI gives one that
/// serves `crate::farm`; tests may give their own.
#[async_trait::async_trait]
pub trait FarmStarter: Send + Sync {
    async fn start(&self, seed: u64) -> std::io::Result<String>;
}

/// A run whose input is valid and whose plan is fixed, ready to [`run`](Campaign::run).
pub struct Campaign {
    options: CampaignOptions,
    flows: FlowSet,
    devices: BTreeMap<String, DeviceProfile>,
    device_order: Vec<String>,
    flow_count: usize,
    cases: Vec<CaseSpec>,
    seed: u64,
    run_id: String,
    run_dir: PathBuf,
    vars: Vars,
    until_confident: Option<UntilConfident>,
}

/// What a run gave.
#[derive(Debug)]
pub struct CampaignOutcome {
    pub results: RunResults,
    /// The reports written into the run directory (results.json, junit.xml, index.html).
    pub reports: Vec<PathBuf>,
    /// `--until-confident`: a verdict per flow × device, in plan order.
    pub verdicts: Vec<Verdict>,
    /// `--baseline`: the comparison.
    pub baseline: Option<BaselineComparison>,
    /// The signal that stopped the run early, if one did.
    pub interrupted: Option<StopSignal>,
}

impl CampaignOutcome {
    /// The exit code the results call for (0 passed, 1 a test failed, 3 an error), or the
    /// signal's (130 SIGINT, 143 SIGTERM) when the run was interrupted.
    pub fn exit_code(&self) -> i32 {
        match self.interrupted {
            Some(signal) => signal.exit_code(),
            None => self.results.exit_code(),
        }
    }
}

/// The results compared with a baseline results.json.
#[derive(Debug)]
pub struct BaselineComparison {
    /// The baseline's results.json.
    pub path: PathBuf,
    /// Significant regressions and improvements per flow × device (empty: no significant
    /// change), or why the baseline could not be read (not an error of the run).
    pub changes: Result<Vec<Change>, ReportError>,
}

impl Campaign {
    /// Checks the input and plans the run; creates its directory under `options.reports`.
    /// Nothing runs when this fails.
    pub fn prepare(options: CampaignOptions) -> Result<Campaign, HarnessError> {
        let until_confident = options
            .until_confident
            .map(|threshold| UntilConfident::new(threshold, options.iterations))
            .transpose()?;
        // 1. Flows: parsed, sub-flows resolved, checked.
        let paths = if options.flows.is_empty() {
            vec![PathBuf::from(DEFAULT_FLOWS)]
        } else {
            options.flows.clone()
        };
        let files = flow_files(&paths)?;
        if files.is_empty() {
            return Err(HarnessError::NoFlowFiles { paths });
        }
        let set = load_flows(&files, &VarSources::from_env(options.env.clone()));
        if set.has_errors() {
            return Err(HarnessError::InvalidFlows {
                diagnostics: set.diagnostics.iter().filter(|d| d.is_error()).cloned().collect(),
                sources: set.sources.clone(),
            });
        }
        // 2. Secrets the app profiles declare must be set; their values are redacted everywhere.
        let cli: BTreeMap<String, String> = options.env.iter().cloned().collect();
        let secret_values = secrets(&set, &cli)?;
        // 3. Devices.
        let names: Vec<String> = if options.devices.is_empty() {
            DEFAULT_DEVICES.iter().map(|s| s.to_string()).collect()
        } else {
            options.devices.clone()
        };
        let mut devices = BTreeMap::new();
        let mut device_order = vec![];
        for name in &names {
            let profile = load_device(&crate::profile::device::profile_path(name))?;
            device_order.push(profile.name.clone());
            devices.insert(profile.name.clone(), profile);
        }
        // A command a chosen device's backend cannot do is invalid input, reported where it
        // is written, before any session starts.
        let unable: Vec<_> = devices
            .values()
            .flat_map(|p| crate::driver::capability::check_flows(&set, p))
            .filter(|d| d.is_error())
            .collect();
        if !unable.is_empty() {
            return Err(HarnessError::InvalidFlows {
                diagnostics: unable,
                sources: set.sources.clone(),
            });
        }
        // 4. The plan.
        let planned = planned_flows(&set);
        let seed = options.seed.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(1)
        });
        let cases = plan(
            &planned,
            &device_order,
            options.iterations,
            &options.include_tags,
            &options.exclude_tags,
            options.shard,
            seed,
        );
        if cases.is_empty() {
            return Err(HarnessError::NothingToRun);
        }
        let run_id = run_id(seed);
        let run_dir = options.reports.join(&run_id);
        std::fs::create_dir_all(&run_dir).map_err(|source| HarnessError::CreateRunDir {
            path: run_dir.clone(),
            source,
        })?;
        let vars = Vars {
            cli,
            builtins: BTreeMap::from([("HARNESS_RUN_ID".to_string(), run_id.clone())]),
            secret_values,
        };
        Ok(Campaign {
            options,
            flows: set,
            devices,
            device_order,
            flow_count: planned.len(),
            cases,
            seed,
            run_id,
            run_dir,
            vars,
            until_confident,
        })
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// `reports/RUN_ID`.
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn options(&self) -> &CampaignOptions {
        &self.options
    }

    /// The planned cases (`--until-confident`: up to the cap).
    pub fn cases(&self) -> &[CaseSpec] {
        &self.cases
    }

    /// Flows in the plan (after the tag filters).
    pub fn flow_count(&self) -> usize {
        self.flow_count
    }

    /// Device profiles in the plan, in the order given.
    pub fn devices(&self) -> &[String] {
        &self.device_order
    }

    /// Whether a virtual device is in the run (the farm is started for it).
    pub fn needs_farm(&self) -> bool {
        self.devices.values().any(|d| matches!(d.target, Target::Virtual(_)))
    }

    /// Runs the cases, sending their events to `events` (dropped when the cases are done,
    /// so a consumer's stream ends before the reports are written), then writes the reports,
    /// points `reports/latest` at the run and compares with the baseline.
    pub async fn run(self, farm: &dyn FarmStarter, events: Events) -> Result<CampaignOutcome, HarnessError> {
        self.run_until(farm, events, Interrupt::new()).await
    }

    /// [`run`](Campaign::run), stopped early when `interrupt` is triggered: no case starts
    /// after it, running flows are cancelled and their sessions ended (the runner gets
    /// [`SESSION_END_GRACE`] for that, then is abandoned), and the reports hold the finished
    /// cases, the others `skipped` saying the run was interrupted.
    ///
    /// Each finished case is also appended to `events.jsonl` in the run directory as it
    /// ends, so that a run killed outright can be rebuilt (`harness report RUN_DIR`).
    pub async fn run_until(
        self,
        farm: &dyn FarmStarter,
        events: Events,
        interrupt: Interrupt,
    ) -> Result<CampaignOutcome, HarnessError> {
        let started_at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let started = Instant::now();
        let farm_url = if self.needs_farm() {
            Some(farm.start(self.seed).await.map_err(HarnessError::FarmStart)?)
        } else {
            None
        };
        let Campaign {
            options,
            flows,
            devices,
            cases,
            seed,
            run_id,
            run_dir,
            vars,
            until_confident,
            ..
        } = self;
        let header = LogHeader {
            run_id: run_id.clone(),
            harness_version: env!("CARGO_PKG_VERSION").to_string(),
            started_at_ms,
            seed,
            shard: options.shard.map(|s| s.to_string()),
            planned: if until_confident.is_some() {
                vec![]
            } else {
                cases.iter().map(|c| planned_case(c, &devices)).collect()
            },
        };
        let log = match EventLog::create(&run_dir, header) {
            Ok(log) => Some(log),
            Err(e) => {
                tracing::warn!(
                    "cannot write {}: {e} (the run goes on without it)",
                    run_dir.join(EVENTS_FILE).display()
                );
                None
            }
        };
        let planned = cases.clone();
        let config = RunConfig {
            run_id: run_id.clone(),
            seed,
            parallel: options.parallel,
            retries: options.retries,
            fail_fast: options.fail_fast,
            flow_timeout: options.flow_timeout,
            run_dir: run_dir.clone(),
            vars,
            farm_url,
            interrupt: interrupt.clone(),
            opener: Default::default(),
        };
        let runner = Runner::new(Arc::new(flows), Arc::new(devices.clone()), config);
        // Every event passes the log on its way to the caller's consumers.
        let (to_log, from_runner) = Events::channel();
        let tee = tokio::spawn(tee(from_runner, log, events));
        let work = async {
            match &until_confident {
                Some(test) => test.run(&runner, cases, &to_log).await,
                None => (runner.run(cases, &to_log).await, vec![]),
            }
        };
        let abandon = async {
            interrupt.triggered().await;
            tokio::time::sleep(SESSION_END_GRACE + Duration::from_secs(2)).await;
        };
        let ran = tokio::select! {
            ran = work => Some(ran),
            () = abandon => None,
        };
        drop(to_log);
        let (mut log, finished) = tee.await.unwrap_or_default();
        let (cases, verdicts) = match ran {
            Some(ran) => ran,
            None => {
                // The runner did not wind down in time: its finished cases are what was
                // reported; every other planned case is skipped.
                let signal = interrupt.signal().unwrap_or(StopSignal::Interrupt);
                tracing::warn!(
                    "the run did not stop within {} s: abandoned",
                    SESSION_END_GRACE.as_secs()
                );
                (abandoned(&planned, finished, &devices, signal), vec![])
            }
        };
        if let Some(log) = &mut log {
            let _ = log.end();
        }
        let results = RunResults {
            run_id: run_id.clone(),
            harness_version: env!("CARGO_PKG_VERSION").to_string(),
            started_at_ms,
            duration_ms: started.elapsed().as_millis() as u64,
            seed,
            shard: options.shard.map(|s| s.to_string()),
            cases,
        };
        let written = crate::report::write_all(&run_dir, &results);
        point_latest(&options.reports, &run_id);
        let reports = written.map_err(HarnessError::WriteReports)?;
        let baseline = options.baseline.as_deref().map(|base| compare(base, &results));
        Ok(CampaignOutcome {
            results,
            reports,
            verdicts,
            baseline,
            interrupted: interrupt.signal(),
        })
    }
}

/// Forwards the runner's events to `out`, appending each finished case to the log (and
/// keeping it, in case the runner has to be abandoned). Ends when the runner's stream ends.
async fn tee(
    mut from_runner: tokio::sync::mpsc::UnboundedReceiver<RunEvent>,
    mut log: Option<EventLog>,
    out: Events,
) -> (Option<EventLog>, Vec<(usize, CaseResult)>) {
    let mut finished = vec![];
    while let Some(event) = from_runner.recv().await {
        match &event {
            RunEvent::RoundStarted { round, .. } => {
                if let Some(l) = &mut log {
                    let _ = l.round(*round);
                }
            }
            RunEvent::CaseFinished { index, result } => {
                if let Some(l) = &mut log
                    && let Err(e) = l.case(*index, result)
                {
                    tracing::warn!("cannot append to {}: {e}", l.path().display());
                }
                finished.push((*index, (**result).clone()));
            }
            _ => {}
        }
        out.send(event);
    }
    (log, finished)
}

fn planned_case(c: &CaseSpec, devices: &BTreeMap<String, DeviceProfile>) -> PlannedCase {
    PlannedCase {
        flow: c.flow.clone(),
        flow_file: c.flow_file.display().to_string(),
        device: c.device.clone(),
        platform: devices.get(&c.device).map_or("?", |d| d.platform.name()).to_string(),
        iteration: c.iteration,
        seed: c.seed,
    }
}

/// The results of a run whose runner was abandoned: the finished cases in plan order, the
/// others skipped.
fn abandoned(
    planned: &[CaseSpec],
    finished: Vec<(usize, CaseResult)>,
    devices: &BTreeMap<String, DeviceProfile>,
    signal: StopSignal,
) -> Vec<CaseResult> {
    let mut by_index: BTreeMap<usize, CaseResult> = finished.into_iter().collect();
    planned
        .iter()
        .enumerate()
        .map(|(i, c)| {
            by_index.remove(&i).unwrap_or_else(|| {
                let p = planned_case(c, devices);
                CaseResult::not_run(&p, Outcome::Skipped, Some(Interrupt::skipped_message(signal, false)))
            })
        })
        .collect()
}

/// Flow files of the paths: files as given, a directory's top-level `.yaml`/`.yml` files
/// (sub-folders hold sub-flows and app profiles, as in a Maestro workspace), or, for a
/// directory holding `config.yaml`, the flows that workspace configuration selects
/// (`crate::workspace`: `flows` globs, its tags, `flowsOrder`).
fn flow_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, HarnessError> {
    let mut out = vec![];
    for p in paths {
        if crate::workspace::config_of(p).is_some() {
            let (ws, mut diags, text) = crate::workspace::load_workspace(p);
            let (files, more) = ws.map(|w| w.select()).unwrap_or_default();
            diags.extend(more);
            diags.retain(|d| d.is_error());
            if !diags.is_empty() {
                let sources = diags.iter().map(|d| (d.file.clone(), text.clone())).collect();
                return Err(HarnessError::InvalidFlows {
                    diagnostics: diags,
                    sources,
                });
            }
            out.extend(files);
        } else if p.is_dir() {
            let entries = std::fs::read_dir(p).map_err(|source| HarnessError::ReadFlowDir {
                path: p.clone(),
                source,
            })?;
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && matches!(f.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")))
                .collect();
            files.sort();
            out.extend(files.into_iter().map(|f| normalize(&f)));
        } else if p.is_file() {
            out.push(normalize(p));
        } else {
            return Err(HarnessError::NoSuchFlowPath { path: p.clone() });
        }
    }
    Ok(out)
}

/// The values of the secrets the flows' app profiles declare, from `-e` or the environment.
fn secrets(set: &FlowSet, cli: &BTreeMap<String, String>) -> Result<Vec<String>, HarnessError> {
    let mut values = vec![];
    let mut missing = BTreeSet::new();
    for app in set.apps.values() {
        for s in &app.secrets {
            match cli.get(s).cloned().or_else(|| std::env::var(s).ok()) {
                Some(v) => values.push(v),
                None => {
                    missing.insert(MissingSecret {
                        name: s.clone(),
                        app: app.name.clone(),
                    });
                }
            }
        }
    }
    if missing.is_empty() {
        Ok(values)
    } else {
        Err(HarnessError::MissingSecrets {
            missing: missing.into_iter().collect(),
        })
    }
}

/// `NAME` is `devices/NAME.yaml`; anything with an extension or a directory is a path.
fn load_device(path: &Path) -> Result<DeviceProfile, HarnessError> {
    let (profile, diags) = load_device_profile(path);
    let errors: Vec<_> = diags.into_iter().filter(|d| d.is_error()).collect();
    match profile {
        Some(p) if errors.is_empty() => Ok(p),
        _ => Err(HarnessError::InvalidDeviceProfile {
            path: path.to_path_buf(),
            source_text: std::fs::read_to_string(path).ok(),
            diagnostics: errors,
        }),
    }
}

/// The root flows with their names (header `name`, else the file stem) and tags.
fn planned_flows(set: &FlowSet) -> Vec<PlannedFlow> {
    set.roots
        .iter()
        .map(|f| {
            let flow = &set.flows[f];
            PlannedFlow {
                file: f.clone(),
                name: flow.header.name.clone().unwrap_or_else(|| {
                    f.file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default()
                }),
                tags: flow.header.tags.clone(),
            }
        })
        .collect()
}

/// `20250101-120000-123-s42`: the start time (UTC, to the millisecond) and the seed.
fn run_id(seed: u64) -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    run_id_at(ms, seed)
}

fn run_id_at(ms: u64, seed: u64) -> String {
    let t = crate::iso8601::format_ms(ms);
    format!(
        "{}{}{}-{}{}{}-{:03}-s{seed}",
        &t[0..4],
        &t[5..7],
        &t[8..10],
        &t[11..13],
        &t[14..16],
        &t[17..19],
        ms % 1000
    )
}

/// Points `reports/latest` at the run (a symlink; a file holding the run id where there are
/// none). Best effort: a run's reports do not depend on it.
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

/// The results against a baseline results.json (or a run directory holding one): what
/// `harness run --baseline` and `harness report --baseline` print.
pub fn compare(base: &Path, results: &RunResults) -> BaselineComparison {
    let path = if base.is_dir() {
        base.join(crate::report::RESULTS_FILE)
    } else {
        base.to_path_buf()
    };
    let changes = crate::report::read_results(&path)
        .map(|old| crate::stats::regressions(&crate::stats::cell_stats(&old), &crate::stats::cell_stats(results)));
    BaselineComparison { path, changes }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(dir: &Path, flows: Vec<PathBuf>, devices: Vec<String>) -> CampaignOptions {
        CampaignOptions {
            flows,
            devices,
            iterations: 2,
            parallel: 1,
            shard: None,
            seed: Some(3),
            include_tags: vec![],
            exclude_tags: vec![],
            fail_fast: false,
            retries: 0,
            until_confident: None,
            baseline: None,
            flow_timeout: Duration::from_secs(60),
            reports: dir.join("reports"),
            env: vec![],
        }
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    const DEVICE: &str = "name: v\nplatform: Android\nkind: virtual\n";

    #[test]
    fn prepare_plans_and_creates_the_run_directory() {
        let dir = tempfile::tempdir().unwrap();
        let flow = write(dir.path(), "flows/a.yaml", "appId: com.example\n---\n- launchApp\n");
        let device = write(dir.path(), "devices/v.yaml", DEVICE);
        let c = Campaign::prepare(options(dir.path(), vec![flow], vec![device.display().to_string()])).unwrap();
        assert_eq!(c.cases().len(), 2);
        assert_eq!((c.flow_count(), c.devices()), (1, &["v".to_string()][..]));
        assert_eq!(c.seed(), 3);
        assert!(c.run_id().ends_with("-s3"), "{}", c.run_id());
        assert!(c.run_dir().is_dir());
        assert!(c.needs_farm());
    }

    #[test]
    fn invalid_input_is_refused_before_anything_runs() {
        let dir = tempfile::tempdir().unwrap();
        let device = write(dir.path(), "devices/v.yaml", DEVICE).display().to_string();
        let prepare = |flows: Vec<PathBuf>, devices: Vec<String>| {
            Campaign::prepare(options(dir.path(), flows, devices)).err().unwrap()
        };
        let err = prepare(vec![dir.path().join("nope.yaml")], vec![device.clone()]);
        assert!(matches!(err, HarnessError::NoSuchFlowPath { .. }), "{err:?}");
        std::fs::create_dir_all(dir.path().join("empty")).unwrap();
        let err = prepare(vec![dir.path().join("empty")], vec![device.clone()]);
        assert!(matches!(err, HarnessError::NoFlowFiles { .. }), "{err:?}");
        let bad = write(dir.path(), "bad.yaml", "appId: a\n---\n- tapon: X\n");
        let err = prepare(vec![bad], vec![device.clone()]);
        let HarnessError::InvalidFlows { diagnostics, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!((diagnostics[0].line, diagnostics[0].column), (3, 3));
        let flow = write(dir.path(), "flows/a.yaml", "appId: com.example\n---\n- launchApp\n");
        let err = prepare(
            vec![flow.clone()],
            vec![dir.path().join("devices/none.yaml").display().to_string()],
        );
        assert!(matches!(err, HarnessError::InvalidDeviceProfile { .. }), "{err:?}");
        let tagged = options(dir.path(), vec![flow], vec![device]);
        let err = Campaign::prepare(CampaignOptions {
            include_tags: vec!["nightly".into()],
            ..tagged.clone()
        })
        .err()
        .unwrap();
        assert!(matches!(err, HarnessError::NothingToRun), "{err:?}");
        let err = Campaign::prepare(CampaignOptions {
            until_confident: Some(0.999),
            ..tagged
        })
        .err()
        .unwrap();
        assert!(matches!(err, HarnessError::InvalidThreshold { .. }), "{err:?}");
        assert_eq!(err.exit_code(), crate::exit_codes::INVALID_INPUT);
        assert!(!dir.path().join("reports").exists(), "nothing was created");
    }

    struct NoFarm;

    #[async_trait::async_trait]
    impl FarmStarter for NoFarm {
        async fn start(&self, _seed: u64) -> std::io::Result<String> {
            Err(std::io::Error::new(std::io::ErrorKind::AddrInUse, "no port"))
        }
    }

    #[tokio::test]
    async fn a_farm_that_does_not_start_is_an_infrastructure_error() {
        let dir = tempfile::tempdir().unwrap();
        let flow = write(dir.path(), "flows/a.yaml", "appId: com.example\n---\n- launchApp\n");
        let device = write(dir.path(), "devices/v.yaml", DEVICE).display().to_string();
        let c = Campaign::prepare(options(dir.path(), vec![flow], vec![device])).unwrap();
        let run_dir = c.run_dir().to_path_buf();
        let err = c.run(&NoFarm, Events::none()).await.unwrap_err();
        assert!(matches!(err, HarnessError::FarmStart(_)), "{err:?}");
        assert_eq!(err.exit_code(), crate::exit_codes::INFRASTRUCTURE);
        assert!(!run_dir.join("results.json").exists());
    }

    #[tokio::test]
    async fn an_unreachable_server_gives_error_results_events_and_reports() {
        let dir = tempfile::tempdir().unwrap();
        let flow = write(dir.path(), "flows/a.yaml", "appId: com.example\n---\n- launchApp\n");
        let device = write(
            dir.path(),
            "devices/nowhere.yaml",
            "name: nowhere\nplatform: Android\nkind: appium\nurl: http://127.0.0.1:9\n",
        );
        let c = Campaign::prepare(options(dir.path(), vec![flow], vec![device.display().to_string()])).unwrap();
        assert!(!c.needs_farm());
        let (events, mut rx) = Events::channel();
        // NoFarm is never asked: no virtual device.
        let out = c.run(&NoFarm, events).await.unwrap();
        assert_eq!(out.exit_code(), crate::exit_codes::INFRASTRUCTURE);
        assert_eq!(out.results.cases.len(), 2);
        let message = out.results.cases[0].message.as_deref().unwrap();
        assert!(message.starts_with("cannot open a session on nowhere: "), "{message}");
        assert_eq!(out.reports.len(), 3);
        assert!(out.reports.iter().all(|p| p.is_file()));
        assert!(dir.path().join("reports/latest/results.json").is_file());
        assert!(out.verdicts.is_empty() && out.baseline.is_none());
        let mut kinds = vec![];
        while let Some(e) = rx.recv().await {
            kinds.push(match e {
                crate::event::RunEvent::RunStarted { total, .. } => format!("run {total}"),
                crate::event::RunEvent::CaseStarted { case } => format!("start #{}", case.iteration),
                crate::event::RunEvent::CaseFinished { index, .. } => format!("finish {index}"),
                crate::event::RunEvent::RunFinished { .. } => "end".to_string(),
                other => format!("{other:?}"),
            });
        }
        // One device: one lane, its cases one after another.
        assert_eq!(kinds, ["run 2", "start #1", "finish 0", "start #2", "finish 1", "end"]);
    }

    /// The farm is a leaf: only `cli/` starts it. Code lines (not comments) of the modules
    /// of a run never name it.
    #[test]
    fn the_core_of_a_run_never_imports_the_farm() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let forbidden = ["crate", "::farm"].concat();
        let mut files: Vec<PathBuf> = ["run", "report"]
            .iter()
            .flat_map(|d| std::fs::read_dir(src.join(d)).unwrap().map(|e| e.unwrap().path()))
            .collect();
        files.extend(["event.rs", "results.rs", "errors.rs"].iter().map(|f| src.join(f)));
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                assert!(!code.contains(&forbidden), "{}:{}: {line}", f.display(), n + 1);
            }
        }
    }

    #[test]
    fn device_names_and_paths() {
        assert_eq!(
            crate::profile::device::profile_path("virtual-ios"),
            Path::new("devices/virtual-ios.yaml")
        );
        assert_eq!(crate::profile::device::profile_path("x/y.yaml"), Path::new("x/y.yaml"));
        assert_eq!(crate::profile::device::profile_path("y.yaml"), Path::new("y.yaml"));
    }

    #[test]
    fn run_ids_carry_time_and_seed() {
        assert_eq!(run_id_at(1_735_732_800_123, 42), "20250101-120000-123-s42");
    }
}
