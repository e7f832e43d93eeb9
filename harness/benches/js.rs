//! What JavaScript costs a flow: the same flow with and without script evaluations, run by
//! the executor on a fake device in the same process.
//!
//! - (a) baseline: N rounds of `back`;
//! - (b) the same N rounds, each followed by `evalScript: ${output.n = (output.n || 0) + 1}`
//!   and `assertTrue: ${output.n > 0}` (2 evaluations per round; the engine starts on the
//!   first, as in a real run).
//!
//! Prints the added time per evaluation ((b) − (a)) / 2N and the ratio (b)/(a); the goal is
//! under 5 ms per evaluation. Each measurement is repeated and the median taken.
//!
//! `cargo bench --bench js` (N = 500, 5 rounds), or `-- --quick` / `BENCH_QUICK=1`
//! (N = 20, 1 round) for CI smoke runs (`cargo test --bench js` runs it quickly too).
//! Unknown arguments (cargo passes `--bench`) are ignored.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use harness::driver::fake::FakeDevice;
use harness::exec::{Executor, MemoryArtifacts, Vars};
use harness::load::{FlowSet, VarSources, load_flows};

/// The goal: what one evaluation may add to a flow.
const GOAL: Duration = Duration::from_millis(5);

fn flow(n: usize, js: bool) -> String {
    let mut s = String::from("appId: com.example.app\n---\n");
    for _ in 0..n {
        s.push_str("- back\n");
        if js {
            s.push_str("- evalScript: ${output.n = (output.n || 0) + 1}\n- assertTrue: ${output.n > 0}\n");
        }
    }
    s
}

async fn run_once(set: &FlowSet, path: &Path) -> Result<Duration, String> {
    let mut device = FakeDevice::android();
    let start = Instant::now();
    let out = Executor::new(
        &mut device,
        set,
        Vars::default(),
        Box::new(MemoryArtifacts::new("a")),
        1,
    )
    .run_flow(path)
    .await;
    let took = start.elapsed();
    match out.error {
        Some(e) => Err(e.message()),
        None => Ok(took),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick") || std::env::var("BENCH_QUICK").is_ok_and(|v| v == "1");
    // `cargo test --bench js` runs the binary as a test: keep it short.
    let test_mode = args.iter().any(|a| a == "--test") || !args.iter().any(|a| a == "--bench");
    let (n, rounds) = if quick || test_mode { (20, 1) } else { (500, 5) };

    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("js: cannot create a temporary directory: {e}");
            return ExitCode::FAILURE;
        }
    };
    let plain: PathBuf = dir.path().join("plain.yaml");
    let scripted: PathBuf = dir.path().join("scripted.yaml");
    for (p, js) in [(&plain, false), (&scripted, true)] {
        if let Err(e) = std::fs::write(p, flow(n, js)) {
            eprintln!("js: cannot write {}: {e}", p.display());
            return ExitCode::FAILURE;
        }
    }
    let set = load_flows(&[plain.clone(), scripted.clone()], &VarSources::default());
    if set.has_errors() {
        eprintln!("js: the generated flows have errors: {:?}", set.diagnostics);
        return ExitCode::FAILURE;
    }
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("js: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut a = vec![];
    let mut b = vec![];
    for _ in 0..rounds {
        for (path, out) in [(&plain, &mut a), (&scripted, &mut b)] {
            match rt.block_on(run_once(&set, path)) {
                Ok(d) => out.push(d),
                Err(e) => {
                    eprintln!("js: {} failed: {e}", path.display());
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    let (a, b) = (median(a), median(b));
    let evaluations = 2 * n as u32;
    let added = b.saturating_sub(a) / evaluations;
    println!("js: {n} rounds, {evaluations} evaluations, median of {rounds}");
    println!("js: (a) without JavaScript: {:.2} ms", a.as_secs_f64() * 1e3);
    println!("js: (b) with JavaScript:    {:.2} ms", b.as_secs_f64() * 1e3);
    println!(
        "js: added per evaluation: {:.3} ms (goal < {} ms); ratio (b)/(a): {:.2}",
        added.as_secs_f64() * 1e3,
        GOAL.as_millis(),
        b.as_secs_f64() / a.as_secs_f64().max(1e-9)
    );
    if added >= GOAL {
        eprintln!("js: over the goal");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
