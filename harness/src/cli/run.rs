//! `harness run`: flows × devices × iterations, reports, exit code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::RunArgs;
use crate::event::Events;
use crate::exec::Vars;
use crate::exit_codes;
use crate::farm::server::{Farm, serve};
use crate::flow::load::{VarSources, load_flows, normalize};
use crate::profile::device::{DeviceProfile, Target, load_device_profile};
use crate::results::{Outcome, RunResults};
use crate::run::plan::{PlannedFlow, plan};
use crate::run::runner::{RunConfig, point_latest, run_cases};

/// Flow files of a directory: its top-level `.yaml` files (sub-folders hold sub-flows and
/// app profiles, as in a Maestro workspace).
fn flow_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = vec![];
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && matches!(f.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")))
                .collect();
            files.sort();
            out.extend(files.into_iter().map(|f| normalize(&f)));
        } else if p.is_file() {
            out.push(normalize(p));
        } else {
            return Err(format!("{}: no such flow file or directory", p.display()));
        }
    }
    Ok(out)
}

fn device_path(name: &str) -> PathBuf {
    let p = PathBuf::from(name);
    if p.extension().is_some() || p.components().count() > 1 {
        p
    } else {
        Path::new("devices").join(format!("{name}.yaml"))
    }
}

fn run_id(seed: u64) -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
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

pub fn run(args: RunArgs) -> i32 {
    // 1. Flows: parsed, sub-flows resolved, checked. Nothing runs when they are invalid.
    let paths = if args.flows.is_empty() {
        vec![PathBuf::from("flows")]
    } else {
        args.flows.clone()
    };
    let files = match flow_files(&paths) {
        Ok(f) if !f.is_empty() => f,
        Ok(_) => {
            eprintln!(
                "error: no flow files in {} (hint: harness run FLOW.yaml…)",
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            return exit_codes::INVALID_INPUT;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return exit_codes::INVALID_INPUT;
        }
    };
    let vars = VarSources::from_env(args.env.clone());
    let set = load_flows(&files, &vars);
    if set.has_errors() {
        for d in set.diagnostics.iter().filter(|d| d.is_error()) {
            eprint!("{}", d.render(set.sources.get(&d.file).map(String::as_str)));
        }
        eprintln!("error: the flows are invalid; nothing ran (run `harness check` for details)");
        return exit_codes::INVALID_INPUT;
    }
    // 2. Secrets the app profiles declare must be set, and are redacted everywhere.
    let cli: BTreeMap<String, String> = args.env.iter().cloned().collect();
    let mut secret_values = vec![];
    let mut missing = BTreeSet::new();
    for app in set.apps.values() {
        for s in &app.secrets {
            match cli.get(s).cloned().or_else(|| std::env::var(s).ok()) {
                Some(v) => secret_values.push(v),
                None => {
                    missing.insert((s.clone(), app.name.clone()));
                }
            }
        }
    }
    if !missing.is_empty() {
        for (s, app) in &missing {
            eprintln!("error: {s} is not set: app profile '{app}' needs it (export {s}=… or pass -e {s}=…)");
        }
        return exit_codes::INVALID_INPUT;
    }
    // 3. Devices.
    let names = if args.device.is_empty() {
        vec!["virtual-ios".to_string(), "virtual-android".to_string()]
    } else {
        args.device.clone()
    };
    let mut devices: BTreeMap<String, DeviceProfile> = BTreeMap::new();
    let mut order = vec![];
    for n in &names {
        let path = device_path(n);
        let (profile, diags) = load_device_profile(&path);
        let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
        if !errors.is_empty() || profile.is_none() {
            for d in &errors {
                eprint!("{}", d.render(std::fs::read_to_string(&path).ok().as_deref()));
            }
            if errors.is_empty() {
                eprintln!("error: cannot load device profile {}", path.display());
            }
            return exit_codes::INVALID_INPUT;
        }
        let p = profile.expect("checked");
        order.push(p.name.clone());
        devices.insert(p.name.clone(), p);
    }
    // 4. The plan.
    let planned: Vec<PlannedFlow> = set
        .roots
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
        .collect();
    let seed = args.seed.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(1)
    });
    let cases = plan(
        &planned,
        &order,
        args.iterations,
        &args.include_tags,
        &args.exclude_tags,
        args.shard,
        seed,
    );
    if cases.is_empty() {
        eprintln!("error: nothing to run: no flow matches the tag filters (or the shard is empty)");
        return exit_codes::INVALID_INPUT;
    }
    let id = run_id(seed);
    let run_dir = args.reports.join(&id);
    if let Err(e) = std::fs::create_dir_all(&run_dir) {
        eprintln!("error: cannot create {}: {e}", run_dir.display());
        return exit_codes::INFRASTRUCTURE;
    }
    eprintln!(
        "harness run {id}: {} cases ({} flows × {} devices × {} iterations), parallel {}, seed {seed}",
        cases.len(),
        planned.len(),
        order.len(),
        args.iterations,
        args.parallel
    );
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit_codes::INFRASTRUCTURE;
        }
    };
    let started_at_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let started = Instant::now();
    let needs_farm = devices.values().any(|d| matches!(d.target, Target::Virtual(_)));
    let config_vars = Vars {
        cli,
        builtins: BTreeMap::from([("HARNESS_RUN_ID".to_string(), id.clone())]),
        secret_values,
    };
    let cases_out = rt.block_on(async {
        let farm_url = if needs_farm {
            let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("error: cannot start the virtual farm: {e}");
                    return None;
                }
            };
            let url = listener.local_addr().map(|a| format!("http://{a}")).ok();
            tokio::spawn(serve(listener, Farm::new(seed)));
            url
        } else {
            None
        };
        let config = RunConfig {
            run_id: id.clone(),
            seed,
            parallel: args.parallel,
            retries: args.retries,
            fail_fast: args.fail_fast,
            flow_timeout: args.timeout,
            run_dir: run_dir.clone(),
            vars: config_vars,
            farm_url,
        };
        let (events, rx) = Events::channel();
        let printer = tokio::spawn(print_progress(rx));
        let (flows, devices) = (Arc::new(set), Arc::new(devices));
        let out = if args.until_confident {
            until_confident(cases, flows, devices, config, events, args.threshold, args.iterations).await
        } else {
            let out = run_cases(cases, flows, devices, config, &events).await;
            drop(events);
            out
        };
        // Every sender is gone: the printer ends after the last line.
        let _ = printer.await;
        Some(out)
    });
    let Some(cases) = cases_out else {
        return exit_codes::INFRASTRUCTURE;
    };
    let results = RunResults {
        run_id: id.clone(),
        harness_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at_ms,
        duration_ms: started.elapsed().as_millis() as u64,
        seed,
        shard: args.shard.map(|s| s.to_string()),
        cases,
    };
    let code = super::write_reports_and_summarise(&run_dir, &results);
    point_latest(&args.reports, &id);
    if let Some(base) = &args.baseline {
        let path = if base.is_dir() {
            base.join("results.json")
        } else {
            base.clone()
        };
        match crate::report::read_results(&path) {
            Ok(old) => {
                let changes =
                    crate::stats::regressions(&crate::stats::cell_stats(&old), &crate::stats::cell_stats(&results));
                if changes.is_empty() {
                    println!("against the baseline {}: no significant change", path.display());
                }
                for c in changes {
                    let word = match c.kind {
                        crate::stats::ChangeKind::Regression => "REGRESSION",
                        crate::stats::ChangeKind::Improvement => "improvement",
                    };
                    println!(
                        "{word}: {} on {}: {}/{} → {}/{} (Fisher p = {:.2e})",
                        c.flow, c.device, c.base.0, c.base.1, c.now.0, c.now.1, c.p_value
                    );
                }
            }
            Err(e) => eprintln!("warning: cannot read the baseline: {e}"),
        }
    }
    code
}

/// Prints a line per finished case, as the events come.
async fn print_progress(mut rx: tokio::sync::mpsc::UnboundedReceiver<crate::event::RunEvent>) {
    let mut lines = crate::report::ProgressLines::new();
    while let Some(event) = rx.recv().await {
        if let Some(line) = lines.line(&event) {
            eprintln!("{line}");
        }
    }
}

/// `--timeout 5m`.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    crate::lower::parse_duration(s)
}

/// `--until-confident`: each flow × device runs in rounds until a sequential probability
/// ratio test (indifference ±0.05 around `threshold`, α = β = 0.05) decides whether its pass
/// rate is below or above the threshold, or `max` iterations ran. Says how many runs that
/// took against the fixed `max`.
async fn until_confident(
    cases: Vec<crate::run::plan::CaseSpec>,
    flows: Arc<crate::flow::load::FlowSet>,
    devices: Arc<BTreeMap<String, DeviceProfile>>,
    config: crate::run::runner::RunConfig,
    events: Events,
    threshold: f64,
    max: u32,
) -> Vec<crate::results::CaseResult> {
    let started = Instant::now();
    events.send(crate::event::RunEvent::RunStarted {
        run_id: config.run_id.clone(),
        total: cases.len(),
        parallel: config.parallel,
        seed: config.seed,
    });
    let runner = crate::run::runner::Runner::new(flows, devices, config.clone());
    let mut round = 0;
    use crate::stats::{Decision, Sprt};
    // Cells in plan order, each with its cases in iteration order.
    let mut cells: Vec<((String, String), Vec<crate::run::plan::CaseSpec>, Sprt)> = vec![];
    for c in cases {
        let key = (c.flow.clone(), c.device.clone());
        match cells.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, v, _)) => v.push(c),
            None => {
                let sprt = Sprt::threshold(threshold, 0.05, 0.05, 0.05).expect("threshold validated by the CLI");
                cells.push((key, vec![c], sprt));
            }
        }
    }
    let mut out = vec![];
    let mut next = 0usize;
    loop {
        let open: Vec<usize> = (0..cells.len())
            .filter(|&i| cells[i].2.decision() == Decision::Continue && next < cells[i].1.len())
            .collect();
        if open.is_empty() {
            break;
        }
        // Enough iterations per round to keep `parallel` devices busy.
        let per = (config.parallel / open.len()).max(1);
        let mut batch = vec![];
        for &i in &open {
            batch.extend(cells[i].1.iter().skip(next).take(per).cloned());
        }
        next += per;
        round += 1;
        events.send(crate::event::RunEvent::RoundStarted {
            round,
            cases: batch.len(),
        });
        let mut results = runner.run_cases(batch, &events).await;
        results.sort_by_key(|r| r.iteration);
        for r in &results {
            if let Some((_, _, sprt)) = cells.iter_mut().find(|(k, _, _)| k.0 == r.flow && k.1 == r.device) {
                match r.outcome {
                    Outcome::Passed | Outcome::Flaky => {
                        sprt.update(true);
                    }
                    Outcome::Failed => {
                        sprt.update(false);
                    }
                    Outcome::Error | Outcome::Skipped => {}
                }
            }
        }
        out.extend(results);
    }
    for ((flow, device), _, sprt) in &cells {
        let runs = out.iter().filter(|r| &r.flow == flow && &r.device == device).count();
        let verdict = match sprt.decision() {
            Decision::AcceptH0 => format!("pass rate below {:.0} %", threshold * 100.0),
            Decision::AcceptH1 => format!("pass rate at or above {:.0} %", threshold * 100.0),
            Decision::Continue => "undecided".to_string(),
        };
        eprintln!("until-confident: {flow} on {device}: {verdict} after {runs} runs (fixed N = {max})");
    }
    events.send(crate::event::RunEvent::RunFinished {
        duration_ms: started.elapsed().as_millis() as u64,
    });
    out.sort_by_key(|r| (r.flow.clone(), r.device.clone(), r.iteration));
    out
}
