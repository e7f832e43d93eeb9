//! Crash-safe runs: SIGINT/SIGTERM stop a run with partial reports and no session left
//! open; after `kill -9`, `harness report RUN_DIR` rebuilds the reports from events.jsonl.
//! The device is a `harness sim serve` started here, driven as a plain Appium server with
//! real-time latency so that a case takes a few seconds.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::Farm;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The sessions open on a farm.
fn open_sessions(farm: &Farm) -> Vec<Value> {
    get_json(&farm.url, "/appium/sessions")["value"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// `GET base/path` as JSON (a bare HTTP/1.0 request: no client crate needed).
pub fn get_json(base: &str, path: &str) -> Value {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// A device profile for the farm as a plain Appium server (Android) with `extra` lines.
pub fn appium_profile(dir: &Path, name: &str, url: &str, latency_scale: f64, extra: &str) -> PathBuf {
    let p = dir.join(format!("{name}.yaml"));
    std::fs::write(
        &p,
        format!(
            "name: {name}\nplatform: Android\nkind: appium\nurl: {url}\n{extra}capabilities:\n  \
             harness:options: {{latencyScale: {latency_scale}}}\n"
        ),
    )
    .unwrap();
    p
}

/// `harness run` in the background, its stderr lines sent to the returned channel.
fn spawn_run(profile: &Path, reports: &Path, iterations: &str) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "run",
            "flows/session-restore.yaml",
            "-p",
            "1",
            "--seed",
            "3",
            "-n",
            iterations,
        ])
        .args(["-d", profile.to_str().unwrap(), "--reports", reports.to_str().unwrap()])
        .args(["-e", "HARNESS_EMAIL=demo@harness.dev", "-e", "HARNESS_PASSWORD=pw"])
        .current_dir(repo())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

/// Waits for the first finished case's progress line.
fn wait_for_first_case(lines: &mpsc::Receiver<String>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(line) = lines.recv_timeout(Duration::from_secs(1))
            && line.starts_with("[1/")
        {
            return;
        }
    }
    panic!("no case finished within 60 s");
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

fn wait_exit(child: &mut Child, within: Duration) -> Option<i32> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("harness did not exit within {within:?} of the signal");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn run_dir(reports: &Path) -> PathBuf {
    let entries: Vec<PathBuf> = std::fs::read_dir(reports)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.ends_with("latest"))
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries[0].clone()
}

fn outcomes(results: &Value) -> Vec<String> {
    results["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["outcome"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn sigint_and_sigterm_stop_the_run_with_partial_reports_and_no_open_session() {
    let farm = Farm::start();
    let dir = tempfile::tempdir().unwrap();
    let profile = appium_profile(dir.path(), "slow", &farm.url, 1.0, "");
    for (sig, code) in [("-INT", 130), ("-TERM", 143)] {
        let reports = dir.path().join(format!("reports{sig}"));
        let (mut child, lines) = spawn_run(&profile, &reports, "4");
        wait_for_first_case(&lines);
        let signalled = Instant::now();
        signal(&child, sig);
        let status = wait_exit(&mut child, Duration::from_secs(20));
        let took = signalled.elapsed();
        assert_eq!(status, Some(code), "{sig}");
        assert!(took < Duration::from_secs(12), "{sig}: exit {took:?} after the signal");
        let rest: Vec<String> = lines.try_iter().collect();
        assert!(rest.iter().any(|l| l.contains("interrupted")), "{rest:?}");
        let text = std::fs::read_to_string(run_dir(&reports).join("results.json")).unwrap();
        let r: Value = serde_json::from_str(&text).unwrap();
        let outcomes = outcomes(&r);
        assert_eq!(outcomes.len(), 4, "{outcomes:?}");
        assert_eq!(outcomes[0], "passed", "{outcomes:?}");
        assert_eq!(outcomes[3], "skipped", "{outcomes:?}");
        let last = r["cases"][3]["message"].as_str().unwrap();
        assert!(last.starts_with("not run: the run was interrupted (SIG"), "{last}");
        assert!(open_sessions(&farm).is_empty(), "{sig}: {:?}", open_sessions(&farm));
    }
}

#[test]
fn after_kill_9_harness_report_rebuilds_the_finished_cases() {
    let farm = Farm::start();
    let dir = tempfile::tempdir().unwrap();
    let profile = appium_profile(dir.path(), "slow", &farm.url, 1.0, "");
    let reports = dir.path().join("reports");
    let (mut child, lines) = spawn_run(&profile, &reports, "3");
    wait_for_first_case(&lines);
    signal(&child, "-KILL");
    let _ = child.wait();
    let run = run_dir(&reports);
    assert!(!run.join("results.json").exists());
    assert!(run.join("events.jsonl").is_file());
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["report", run.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("rebuilt 3 cases from events.jsonl"), "{stderr}");
    // A never-ended case is skipped, not a failure: the finished one passed.
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let r: Value = serde_json::from_str(&std::fs::read_to_string(run.join("results.json")).unwrap()).unwrap();
    let outcomes = outcomes(&r);
    assert_eq!(outcomes[0], "passed", "{outcomes:?}");
    assert_eq!(outcomes[1..], ["skipped", "skipped"], "{outcomes:?}");
    assert!(run.join("junit.xml").is_file() && run.join("index.html").is_file());
}
