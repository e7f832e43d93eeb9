//! How fast `harness check` reads flows, against a baseline measured in the same run.
//!
//! Generates 1,000 realistic flow files (10–60 steps each: taps, text input, assertions,
//! selectors with relations, session commands, `runFlow` to shared sub-flows, header `env` and
//! tags, one shared app profile) into a temporary directory, then measures:
//!
//! - (a) baseline: reading every file and `yaml::parse_documents` (the YAML crate alone);
//! - (b) reading every file and `parse_flow` (YAML plus the flow parser);
//! - (c) `load_flows` over all paths: what `harness check` does (sub-flows, app profile,
//!   cross-file checks).
//!
//! Each measurement is repeated and the median taken; the output is files per second and the
//! ratios (b)/(a) and (c)/(a), which compare across machines better than absolute numbers.
//! The generated flows must have zero error diagnostics, or the bench exits non-zero.
//!
//! `cargo bench --bench check` (full: 1,000 files, 7 rounds), or `-- --quick` /
//! `BENCH_QUICK=1` (200 files, 1 round) for CI smoke runs. Unknown arguments (cargo passes
//! `--bench`) are ignored.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use harness::diag::Diagnostic;
use harness::flow::parse::parse_flow;
use harness::load::{VarSources, load_flows};
use harness::yaml;

const APP_PROFILE: &str = include_str!("../../flows/apps/clerk-expo-convex.yaml");
const SIGN_IN: &str = include_str!("../../flows/subflows/sign-in.yaml");
const SIGN_OUT: &str = include_str!("../../flows/subflows/sign-out.yaml");

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick") || std::env::var("BENCH_QUICK").is_ok_and(|v| v == "1");
    let (count, rounds) = if quick { (200, 1) } else { (1000, 7) };

    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("check: cannot create a temporary directory: {e}");
            return ExitCode::FAILURE;
        }
    };
    let generated = match generate(dir.path(), count) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("check: cannot write the generated flows: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "check: generated {} flow files in {} ({} steps, {}–{} per file, {:.1} KiB total)",
        generated.paths.len(),
        dir.path().display(),
        generated.steps,
        generated.min_steps,
        generated.max_steps,
        generated.bytes as f64 / 1024.0
    );

    // The generated flows must be valid: otherwise the bench would time error paths.
    let set = load_flows(&generated.paths, &VarSources::default());
    let errors: Vec<&Diagnostic> = set.diagnostics.iter().filter(|d| d.is_error()).collect();
    let warnings = set.diagnostics.len() - errors.len();
    if !errors.is_empty() {
        eprintln!("check: the generated flows have {} error diagnostics:", errors.len());
        for d in errors.iter().take(10) {
            let source = set.sources.get(&d.file).map(String::as_str);
            eprint!("{}", d.render(source));
        }
        return ExitCode::FAILURE;
    }
    println!(
        "check: load_flows found 0 errors, {warnings} warnings in {} files ({} flows, {} app profiles)",
        generated.paths.len(),
        set.flows.len(),
        set.apps.len()
    );

    // Warm the page cache and the allocator once before timing.
    let _ = baseline(&generated.paths);

    let mut a = Vec::new();
    let mut b = Vec::new();
    let mut c = Vec::new();
    for _ in 0..rounds {
        a.push(time(|| baseline(&generated.paths)));
        b.push(time(|| flows(&generated.paths)));
        c.push(time(|| {
            let set = load_flows(&generated.paths, &VarSources::default());
            set.flows.len()
        }));
    }
    let (a, b, c) = (median(&mut a), median(&mut b), median(&mut c));
    let n = generated.paths.len() as f64;
    let rate = |d: Duration| n / d.as_secs_f64();
    println!(
        "check: median of {rounds} round(s): parse_documents {:.1} ms, parse_flow {:.1} ms, load_flows {:.1} ms",
        a.as_secs_f64() * 1e3,
        b.as_secs_f64() * 1e3,
        c.as_secs_f64() * 1e3
    );
    println!(
        "check: {} files, parse_documents {:.0} files/s, parse_flow {:.0} files/s ({:.2}x baseline), load_flows {:.0} files/s ({:.2}x baseline)",
        generated.paths.len(),
        rate(a),
        rate(b),
        rate(b) / rate(a),
        rate(c),
        rate(c) / rate(a)
    );
    ExitCode::SUCCESS
}

/// Runs `f` once and returns how long it took; its result is kept alive so the work is not
/// optimised away.
fn time<T>(f: impl FnOnce() -> T) -> Duration {
    let start = Instant::now();
    let out = f();
    let elapsed = start.elapsed();
    std::hint::black_box(out);
    elapsed
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// (a): read and parse the YAML of every file. Returns the number of documents.
fn baseline(paths: &[PathBuf]) -> usize {
    let mut docs = 0;
    for p in paths {
        let text = std::fs::read_to_string(p).expect("read a generated flow");
        docs += yaml::parse_documents(&text).map(|d| d.len()).unwrap_or(0);
    }
    docs
}

/// (b): read every file and parse it as a flow. Returns the number of steps; panics on an
/// error diagnostic (the generated flows were checked before timing).
fn flows(paths: &[PathBuf]) -> usize {
    let mut steps = 0;
    for p in paths {
        let text = std::fs::read_to_string(p).expect("read a generated flow");
        let (flow, diags) = parse_flow(&text, p);
        assert!(!diags.iter().any(Diagnostic::is_error), "{}: {diags:?}", p.display());
        steps += flow.steps.len();
    }
    steps
}

// ---------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------

struct Generated {
    paths: Vec<PathBuf>,
    steps: usize,
    min_steps: usize,
    max_steps: usize,
    bytes: usize,
}

/// A small deterministic random generator (xorshift64*), so every run times the same files.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.range(0, items.len() - 1)]
    }

    /// True one time in `n`.
    fn one_in(&mut self, n: u64) -> bool {
        self.next().is_multiple_of(n)
    }
}

const IDS: &[&str] = &[
    "auth-identifier",
    "auth-password",
    "auth-continue",
    "screen-home",
    "settings-button",
    "profile-tab",
    "search-field",
    "item-list",
    "save-button",
    "header",
    "toast",
    "convex-authenticated",
];

const TEXTS: &[&str] = &[
    "Sign in",
    "Continue",
    "Save",
    "Settings",
    "Profile",
    "Welcome back.*",
    "Price \\(USD\\)",
    "(?i)done",
    "Items: [0-9]+",
    "Grüße",
];

const RELATIONS: &[&str] = &["below", "above", "leftOf", "rightOf", "childOf", "containsChild"];

/// Shared sub-flows besides the shipped sign-in and sign-out.
const SHARED: &[(&str, &str)] = &[
    (
        "subflows/open-settings.yaml",
        "app: ../apps/clerk-expo-convex.yaml\nname: open-settings\ntags: [subflow]\n---\n- tapOn: {id: settings-button}\n- assertVisible: Settings\n- waitForAnimationToEnd\n",
    ),
    (
        "subflows/search.yaml",
        "app: ../apps/clerk-expo-convex.yaml\nname: search\ntags: [subflow]\n---\n- tapOn: {id: search-field}\n- inputText: ${QUERY}\n- pressKey: Enter\n- assertVisible:\n    id: item-list\n    optional: true\n",
    ),
    (
        "subflows/relaunch.yaml",
        "app: ../apps/clerk-expo-convex.yaml\nname: relaunch\n---\n- stopApp\n- launchApp:\n    stopApp: false\n    label: Relaunch (cold start)\n- assertSession: {state: signedIn, within: 10s}\n",
    ),
];

fn generate(dir: &Path, count: usize) -> std::io::Result<Generated> {
    std::fs::create_dir_all(dir.join("apps"))?;
    std::fs::create_dir_all(dir.join("subflows"))?;
    std::fs::create_dir_all(dir.join("flows"))?;
    std::fs::write(dir.join("apps/clerk-expo-convex.yaml"), APP_PROFILE)?;
    std::fs::write(dir.join("subflows/sign-in.yaml"), SIGN_IN)?;
    std::fs::write(dir.join("subflows/sign-out.yaml"), SIGN_OUT)?;
    for (path, text) in SHARED {
        std::fs::write(dir.join(path), text)?;
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = Generated {
        paths: Vec::with_capacity(count),
        steps: 0,
        min_steps: usize::MAX,
        max_steps: 0,
        bytes: 0,
    };
    for i in 0..count {
        let steps = rng.range(10, 60);
        let text = flow(&mut rng, i, steps);
        let path = dir.join(format!("flows/flow-{i:04}.yaml"));
        std::fs::write(&path, &text)?;
        out.paths.push(path);
        out.steps += steps;
        out.min_steps = out.min_steps.min(steps);
        out.max_steps = out.max_steps.max(steps);
        out.bytes += text.len();
    }
    Ok(out)
}

/// A selector: text shorthand, an id, or a map with a relation.
fn selector(rng: &mut Rng, flow_style: bool) -> String {
    match rng.range(0, 4) {
        0 => format!("\"{}\"", rng.pick(TEXTS).replace('\\', "\\\\")),
        1 | 2 => format!("{{id: {}}}", rng.pick(IDS)),
        3 => format!(
            "{{text: \"{}\", index: {}}}",
            rng.pick(TEXTS).replace('\\', "\\\\"),
            rng.range(0, 3)
        ),
        _ if flow_style => format!(
            "{{id: {}, {}: {{id: {}}}}}",
            rng.pick(IDS),
            rng.pick(RELATIONS),
            rng.pick(IDS)
        ),
        _ => format!(
            "{{text: \"{}\", {}: {{id: {}, enabled: true}}}}",
            rng.pick(TEXTS).replace('\\', "\\\\"),
            rng.pick(RELATIONS),
            rng.pick(IDS)
        ),
    }
}

/// One flow file with `steps` top-level steps.
fn flow(rng: &mut Rng, i: usize, steps: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Generated flow {i} for the check bench.");
    s.push_str("app: ../apps/clerk-expo-convex.yaml\n");
    let _ = writeln!(s, "name: generated-{i:04}");
    let _ = writeln!(
        s,
        "tags: [generated, {}, {}]",
        rng.pick(&["session", "settings", "search", "offline"]),
        rng.pick(&["pr", "nightly"])
    );
    s.push_str("env:\n");
    let _ = writeln!(s, "  USER_NAME: Ada {i}");
    let _ = writeln!(s, "  QUERY: item-{}", rng.range(0, 99));
    s.push_str("  GREETING: Hello ${USER_NAME}\n");
    if rng.one_in(4) {
        s.push_str("onFlowComplete:\n  - setNetwork: online\n");
    }
    s.push_str("---\n");
    s.push_str("- launchApp:\n    clearState: true\n    clearKeychain: true\n");
    s.push_str("- runFlow: ../subflows/sign-in.yaml\n");
    let mut snapshots: Vec<String> = Vec::new();
    for n in 2..steps {
        step(rng, &mut s, n, &mut snapshots);
    }
    s
}

fn step(rng: &mut Rng, s: &mut String, n: usize, snapshots: &mut Vec<String>) {
    match rng.range(0, 21) {
        0..=3 => {
            let _ = writeln!(s, "- tapOn: {}", selector(rng, true));
        }
        4 => {
            let _ = writeln!(
                s,
                "- tapOn:\n    id: {}\n    {}:\n      text: \"{}\"\n    retryTapIfNoChange: false\n    label: Step {n}",
                rng.pick(IDS),
                rng.pick(RELATIONS),
                rng.pick(TEXTS).replace('\\', "\\\\")
            );
        }
        5 | 6 => {
            let text = rng.pick(&[
                "${USER_NAME}",
                "${GREETING}",
                "${QUERY}",
                "plain text",
                "${HARNESS_EMAIL}",
            ]);
            let _ = writeln!(s, "- inputText: \"{text}\"");
        }
        7..=9 => {
            let _ = writeln!(s, "- assertVisible: {}", selector(rng, true));
        }
        10 => {
            let _ = writeln!(s, "- assertNotVisible:\n    id: toast\n    optional: true");
        }
        11 => {
            let sub = rng.pick(&[
                "../subflows/open-settings.yaml",
                "../subflows/search.yaml",
                "../subflows/relaunch.yaml",
            ]);
            let _ = writeln!(s, "- runFlow: {sub}");
        }
        12 => {
            let _ = writeln!(
                s,
                "- runFlow:\n    when:\n      platform: {}\n    commands:\n      - tapOn: {}\n      - back",
                rng.pick(&["iOS", "Android"]),
                selector(rng, true)
            );
        }
        13 => {
            let name = format!("snap-{n}");
            let _ = writeln!(s, "- snapshot: {name}");
            snapshots.push(name);
        }
        14 => match snapshots.last() {
            Some(since) => {
                let _ = writeln!(
                    s,
                    "- assertKeychain: {{unchanged: [__clerk_client_jwt], since: {since}}}"
                );
            }
            None => s.push_str("- assertKeychain: {key: __clerk_client_jwt, present: true}\n"),
        },
        15 => {
            let _ = writeln!(s, "- assertSession: {{state: signedIn, within: {}s}}", rng.range(5, 20));
        }
        16 => {
            let _ = writeln!(
                s,
                "- assertConvex: {{authenticated: true, within: {}s}}",
                rng.range(5, 20)
            );
        }
        17 => {
            let _ = writeln!(s, "- background: {{for: {}s}}", rng.range(1, 90));
        }
        18 => {
            let _ = writeln!(s, "- setNetwork: {}", rng.pick(&["offline", "online"]));
        }
        19 => {
            let _ = writeln!(
                s,
                "- repeat:\n    times: {}\n    commands:\n      - scroll\n      - assertVisible: {}",
                rng.range(1, 3),
                selector(rng, true)
            );
        }
        20 => {
            let _ = writeln!(
                s,
                "- scrollUntilVisible:\n    element: {}\n    direction: DOWN\n    timeout: 20000",
                selector(rng, true)
            );
        }
        _ => {
            let cmd = rng.pick(&[
                "- hideKeyboard",
                "- back",
                "- waitForAnimationToEnd",
                "- eraseText: 10",
                "- pressKey: Enter",
                "- swipe: {direction: LEFT}",
                "- swipe: {start: \"90%,50%\", end: \"10%,50%\"}",
                "- extendedWaitUntil: {visible: {id: screen-home}, timeout: 10000}",
                "- takeScreenshot: step",
                "- openLink: myapp://home",
            ]);
            s.push_str(cmd);
            s.push('\n');
        }
    }
}
