//! `harness run` end to end on the embedded virtual farm: the bugs are caught on the right
//! platform with the right diagnosis, reports are written, exit codes follow README.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(args: &[&str], reports: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("run")
        .args(args)
        .args(["--reports", reports.to_str().unwrap()])
        .args([
            "-e",
            "HARNESS_EMAIL=demo@harness.dev",
            "-e",
            "HARNESS_PASSWORD=s3cret-virtual-pw",
        ])
        .current_dir(repo())
        .output()
        .expect("harness runs")
}

fn results(reports: &Path) -> Value {
    let text = std::fs::read_to_string(reports.join("latest/results.json")).expect("results.json under reports/latest");
    serde_json::from_str(&text).unwrap()
}

fn cases<'a>(r: &'a Value, flow: &str, device: &str) -> Vec<&'a Value> {
    r["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["flow"] == flow && c["device"] == device)
        .collect()
}

#[test]
fn catches_the_ios_cold_start_bug_and_the_convex_bug() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &[
            "flows/session-restore.yaml",
            "flows/sign-out-sign-in-convex.yaml",
            "-d",
            "virtual-ios",
            "-d",
            "virtual-android",
            "-n",
            "16",
            "-p",
            "8",
            "--seed",
            "42",
        ],
        dir.path(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "a test failed → exit 1\n{stdout}\n{stderr}");
    let r = results(dir.path());
    // iOS session-restore: most cold starts lose the session, each diagnosed as the SDK bug.
    let ios = cases(&r, "session-restore", "virtual-ios");
    assert_eq!(ios.len(), 16);
    let failed: Vec<_> = ios.iter().filter(|c| c["outcome"] == "failed").collect();
    assert!((6..=16).contains(&failed.len()), "iOS failures: {}", failed.len());
    for c in &failed {
        assert_eq!(c["cause"], "sdk-restoration", "{c}");
        assert!(c["diagnosis"].as_str().unwrap().starts_with("SDK restoration bug"));
    }
    // Android restores every time.
    assert!(
        cases(&r, "session-restore", "virtual-android")
            .iter()
            .all(|c| c["outcome"] == "passed")
    );
    // The Convex bug on both platforms, with its diagnosis.
    for d in ["virtual-ios", "virtual-android"] {
        for c in cases(&r, "sign-out-sign-in-convex", d) {
            assert_eq!(c["outcome"], "failed", "{c}");
            assert_eq!(c["cause"], "convex-stale-auth", "{c}");
        }
    }
    // Steps with timings, snapshots with digests only, artifacts on disk.
    let c = ios[0];
    assert!(c["steps"].as_array().unwrap().len() > 10);
    let snap = &c["snapshots"][0];
    assert_eq!(snap["name"], "before-quit");
    assert!(snap["storage"][0]["digest"].as_str().unwrap().starts_with("sha256:"));
    let png = dir.path().join("latest").join(snap["screenshot"].as_str().unwrap());
    assert_eq!(&std::fs::read(&png).unwrap()[..4], b"\x89PNG");
    // JUnit and the summary; the password never reaches any output.
    let junit = std::fs::read_to_string(dir.path().join("latest/junit.xml")).unwrap();
    assert!(junit.contains("SDK restoration bug"));
    assert!(stdout.contains("session-restore") && stdout.contains("sdk-restoration"));
    for text in [
        stdout.to_string(),
        stderr.to_string(),
        junit,
        std::fs::read_to_string(dir.path().join("latest/results.json")).unwrap(),
    ] {
        assert!(!text.contains("s3cret-virtual-pw"), "the password leaked");
    }
}

#[test]
fn the_convex_workaround_passes() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &[
            "flows/sign-out-sign-in-convex.yaml",
            "-d",
            "virtual-ios-key-by-session",
            "-d",
            "virtual-android-key-by-session",
            "-n",
            "3",
            "--seed",
            "1",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let r = results(dir.path());
    assert!(r["cases"].as_array().unwrap().iter().all(|c| c["outcome"] == "passed"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("harness: 6 passed, 0 failed"));
}

#[test]
fn same_seed_same_results() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let args = [
        "flows/session-restore.yaml",
        "-d",
        "virtual-ios",
        "-n",
        "8",
        "--seed",
        "9",
    ];
    run(&args, a.path());
    run(
        &[
            "flows/session-restore.yaml",
            "-d",
            "virtual-ios",
            "-n",
            "8",
            "--seed",
            "9",
            "-p",
            "1",
        ],
        b.path(),
    );
    let outcomes = |r: &Value| {
        r["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["outcome"].to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        outcomes(&results(a.path())),
        outcomes(&results(b.path())),
        "parallelism does not change results"
    );
}

#[test]
fn invalid_input_and_infrastructure_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    // A missing secret: nothing runs.
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "run",
            "flows/session-restore.yaml",
            "--reports",
            dir.path().to_str().unwrap(),
        ])
        .env_remove("HARNESS_EMAIL")
        .env_remove("HARNESS_PASSWORD")
        .current_dir(repo())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HARNESS_EMAIL is not set"));
    // An invalid flow: exit 2 with its location.
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "appId: a\n---\n- tapon: X\n").unwrap();
    let out = run(&[bad.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.yaml:3:3: error: unknown command 'tapon'"));
    // An unreachable Appium server: an infrastructure error (exit 3), never a pass or failure.
    let profile = dir.path().join("nowhere.yaml");
    std::fs::write(
        &profile,
        "name: nowhere\nplatform: Android\nkind: appium\nurl: http://127.0.0.1:9\ncapabilities:\n  appium:automationName: UiAutomator2\n",
    )
    .unwrap();
    let out = run(
        &["flows/session-restore.yaml", "-d", profile.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let r = results(dir.path());
    assert_eq!(r["cases"][0]["outcome"], "error");
    assert!(
        r["cases"][0]["message"]
            .as_str()
            .unwrap()
            .contains("cannot open a session")
    );
}

#[test]
fn four_shards_merged_equal_one_unsharded_run() {
    let key = |r: &Value| {
        let mut v: Vec<(String, String, u64, String)> = r["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["flow"].as_str().unwrap().to_string(),
                    c["device"].as_str().unwrap().to_string(),
                    c["iteration"].as_u64().unwrap(),
                    c["outcome"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let base = [
        "flows/session-restore.yaml",
        "-d",
        "virtual-ios",
        "-d",
        "virtual-android",
        "-n",
        "6",
        "--seed",
        "77",
    ];
    let whole = tempfile::tempdir().unwrap();
    run(&base, whole.path());
    let shards: Vec<tempfile::TempDir> = (1..=4).map(|_| tempfile::tempdir().unwrap()).collect();
    for (i, dir) in shards.iter().enumerate() {
        let shard = format!("{}/4", i + 1);
        let mut args = base.to_vec();
        args.extend(["--shard", &shard]);
        run(&args, dir.path());
        assert_eq!(results(dir.path())["shard"], shard.as_str());
    }
    let merged = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_harness"));
    cmd.arg("report");
    for d in &shards {
        cmd.arg(d.path().join("latest"));
    }
    let out = cmd.args(["-o", merged.path().to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let merged_results: Value =
        serde_json::from_str(&std::fs::read_to_string(merged.path().join("results.json")).unwrap()).unwrap();
    let whole_results = results(whole.path());
    assert_eq!(key(&merged_results), key(&whole_results), "same cases, same outcomes");
    let totals = |s: &str| s.lines().find(|l| l.starts_with("harness: ")).unwrap_or("").to_string();
    let whole_summary = String::from_utf8_lossy(&run(&base, tempfile::tempdir().unwrap().path()).stdout).to_string();
    assert_eq!(totals(&String::from_utf8_lossy(&out.stdout)), totals(&whole_summary));
    // Overlapping parts are refused.
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "report",
            shards[0].path().join("latest").to_str().unwrap(),
            shards[0].path().join("latest").to_str().unwrap(),
        ])
        .args(["-o", merged.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn baseline_flags_regressions_and_until_confident_stops_early() {
    // Baseline: the flow passes (the workaround build), recorded under the device's name.
    let base = tempfile::tempdir().unwrap();
    run(
        &[
            "flows/sign-out-sign-in-convex.yaml",
            "-d",
            "virtual-ios-key-by-session",
            "-n",
            "8",
            "--seed",
            "3",
        ],
        base.path(),
    );
    let text = std::fs::read_to_string(base.path().join("latest/results.json")).unwrap();
    let baseline = base.path().join("baseline.json");
    std::fs::write(&baseline, text.replace("virtual-ios-key-by-session", "virtual-ios")).unwrap();
    // Now: the buggy build on the same device: a significant regression.
    let now = tempfile::tempdir().unwrap();
    let out = run(
        &[
            "flows/sign-out-sign-in-convex.yaml",
            "-d",
            "virtual-ios",
            "-n",
            "8",
            "--seed",
            "3",
            "--baseline",
            baseline.to_str().unwrap(),
        ],
        now.path(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("REGRESSION: sign-out-sign-in-convex on virtual-ios: 8/8 → 0/8"),
        "{stdout}"
    );
    // The same build against itself: no change.
    let again = tempfile::tempdir().unwrap();
    let out = run(
        &[
            "flows/sign-out-sign-in-convex.yaml",
            "-d",
            "virtual-ios-key-by-session",
            "-n",
            "8",
            "--seed",
            "4",
            "--baseline",
            base.path().join("latest").to_str().unwrap(),
        ],
        again.path(),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("no significant change"));
    // --until-confident decides the iOS bug in far fewer runs than the cap.
    let uc = tempfile::tempdir().unwrap();
    let out = run(
        &[
            "flows/session-restore.yaml",
            "-d",
            "virtual-ios",
            "-n",
            "30",
            "-p",
            "2",
            "--until-confident",
            "--seed",
            "8",
        ],
        uc.path(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .find(|l| l.starts_with("until-confident: session-restore on virtual-ios"))
        .expect("verdict line");
    assert!(line.contains("pass rate below 90 %"), "{line}");
    let n: u32 = line
        .split(" after ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(n <= 12, "{line}");
    assert_eq!(results(uc.path())["cases"].as_array().unwrap().len() as u32, n);
}

#[test]
fn secret_values_are_redacted_from_saved_page_sources() {
    let dir = tempfile::tempdir().unwrap();
    // A snapshot while the typed identifier (a declared secret) is on screen.
    let flow = dir.path().join("typed.yaml");
    let app = repo().join("flows/apps/clerk-expo-convex.yaml");
    std::fs::write(
        &flow,
        format!(
            "app: {}\n---\n- launchApp: {{clearState: true}}\n- assertSession: signedOut\n- tapOn: {{id: auth-identifier}}\n- inputText: ${{HARNESS_EMAIL}}\n- snapshot: typed\n",
            app.display()
        ),
    )
    .unwrap();
    let out = run(
        &[flow.to_str().unwrap(), "-d", "virtual-android", "--seed", "5"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let xml = std::fs::read_to_string(dir.path().join("latest/artifacts/typed/virtual-android/1/typed.xml")).unwrap();
    assert!(xml.contains("auth-identifier"), "the snapshot shows the sign-in form");
    assert!(
        !xml.contains("demo@harness.dev"),
        "the identifier is in the page source in clear text"
    );
    assert!(xml.contains("***"));
}

/// A server that answers the new-session request like Appium and then never answers again
/// (a hung Appium or a node that went away behind a Grid): connections are accepted and held.
fn hung_server() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = vec![];
        let mut answered = false;
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            if !answered {
                answered = true;
                let mut buf = [0u8; 8192];
                let _ = s.read(&mut buf);
                let body = r#"{"value":{"sessionId":"hung-1","capabilities":{"platformName":"Android"}}}"#;
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                continue;
            }
            held.push(s);
        }
    });
    url
}

#[test]
fn a_hung_server_ends_the_case_as_an_error_within_the_command_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let url = hung_server();
    let profile = dir.path().join("hung.yaml");
    std::fs::write(
        &profile,
        format!("name: hung\nplatform: Android\nkind: appium\nurl: {url}\ncommandTimeout: 1s\n"),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let out = run(
        &[
            "flows/session-restore.yaml",
            "-d",
            profile.to_str().unwrap(),
            "--seed",
            "1",
        ],
        dir.path(),
    );
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "an infrastructure error → exit 3\n{stderr}");
    // A few commands at most (new-session timeouts, the first step, the session's end),
    // each cut at 1 s: never the 120 s default, never the 5 min flow timeout.
    assert!(took < std::time::Duration::from_secs(20), "took {took:?}");
    let r = results(dir.path());
    let case = &r["cases"][0];
    assert_eq!(case["outcome"], "error", "{case}");
    let message = case["message"].as_str().unwrap();
    assert!(
        message.contains("timed out") || message.contains("timeout"),
        "{message}"
    );
}

#[test]
fn harness_report_compares_with_a_baseline_without_changing_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "flows/session-restore.yaml",
        "-d",
        "virtual-android",
        "-n",
        "2",
        "--seed",
        "4",
    ];
    let first = dir.path().join("first");
    let second = dir.path().join("second");
    assert_eq!(run(&args, &first).status.code(), Some(0));
    assert_eq!(run(&args, &second).status.code(), Some(0));
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("report")
        .arg(second.join("latest"))
        .arg("-o")
        .arg(dir.path().join("merged"))
        .arg("--baseline")
        .arg(first.join("latest/results.json"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("against the baseline") && stdout.contains("no significant change"),
        "{stdout}"
    );
}
