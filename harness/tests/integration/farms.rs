//! Cloud device farms' conventions, against a local recording server that answers like
//! Appium: the vendor's capability block carries the credentials from the environment (and
//! they reach no result, report or log), each case's end reports the session's status with
//! the vendor's documented script, and the session's dashboard link is in results.json.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// One request the server received.
#[derive(Clone, Debug)]
struct Recorded {
    method: String,
    path: String,
    body: Value,
}

/// Answers `POST /session` with session `rec-1` and everything else with `{"value": null}`;
/// records every request.
fn recording_server() -> (String, Arc<Mutex<Vec<Recorded>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let log: Arc<Mutex<Vec<Recorded>>> = Arc::default();
    let shared = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let log = shared.clone();
            std::thread::spawn(move || serve(stream, &log));
        }
    });
    (url, log)
}

fn serve(stream: TcpStream, log: &Mutex<Vec<Recorded>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let mut length = 0;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            if h == "\r\n" {
                break;
            }
            if let Some((k, v)) = h.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let answer = if method == "POST" && path.ends_with("/session") {
            json!({"value": {"sessionId": "rec-1", "capabilities": {"platformName": "Android"}}})
        } else if path.ends_with("/source") {
            json!({"value": SOURCE})
        } else {
            json!({"value": null})
        };
        log.lock().unwrap().push(Recorded { method, path, body });
        let text = answer.to_string();
        let _ = write!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        );
    }
}

/// A UiAutomator2 page source showing "Welcome".
const SOURCE: &str = "<hierarchy index=\"0\" class=\"hierarchy\" rotation=\"0\" width=\"1080\" height=\"2400\">\
    <node index=\"0\" class=\"android.widget.TextView\" resource-id=\"welcome\" text=\"Welcome\" enabled=\"true\" \
    clickable=\"false\" bounds=\"[0,100][1080,200]\"/></hierarchy>";

const SECRET: &str = "s3cr3t-access-key-42";

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn cloud_sessions_carry_credentials_report_their_status_and_link() {
    // (kind, options block, user key, status script for a pass, for a failure, link)
    let vendors = [
        (
            "browserstack",
            "bstack:options",
            "userName",
            "browserstack_executor: {\"action\":\"setSessionStatus\",\"arguments\":{\"reason\":\"passed\",\"status\":\"passed\"}}",
            "browserstack_executor: {\"action\":\"setSessionStatus\",\"arguments\":{\"reason\":\"fail #1: failed: ",
            "https://app-automate.browserstack.com/sessions/rec-1",
        ),
        (
            "saucelabs",
            "sauce:options",
            "username",
            "sauce:job-result=passed",
            "sauce:job-result=failed",
            "https://app.saucelabs.com/tests/rec-1",
        ),
        (
            "lambdatest",
            "lt:options",
            "username",
            "lambda-status=passed",
            "lambda-status=failed",
            "https://appautomation.lambdatest.com/test?testID=rec-1",
        ),
    ];
    for (kind, block, user_key, pass_script, fail_script, link) in vendors {
        let dir = tempfile::tempdir().unwrap();
        let (url, log) = recording_server();
        let profile = write(
            dir.path(),
            "cloud.yaml",
            &format!(
                "name: cloud\nplatform: Android\nkind: {kind}\nurl: {url}\ncapabilities:\n  {block}:\n    build: nightly\n\
                 credentials:\n  username: ${{FARM_USER}}\n  accessKey: ${{FARM_KEY}}\n"
            ),
        );
        let pass = write(
            dir.path(),
            "pass.yaml",
            "appId: com.example.app\n---\n- assertVisible: Welcome\n",
        );
        let fail = write(
            dir.path(),
            "fail.yaml",
            "appId: com.example.app\n---\n- extendedWaitUntil: {visible: Goodbye, timeout: 300}\n",
        );
        let reports = dir.path().join("reports");
        let out = Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(["run", &pass, &fail, "-d", &profile, "-p", "1", "--seed", "1"])
            .args(["--reports", reports.to_str().unwrap(), "--log", "debug"])
            .env("FARM_USER", "farm-user")
            .env("FARM_KEY", SECRET)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(out.status.code(), Some(1), "{kind}: one case failed\n{stderr}");
        let requests = log.lock().unwrap().clone();
        // The credentials are in the vendor's block of the new-session request.
        let new_session = requests
            .iter()
            .find(|r| r.method == "POST" && r.path.ends_with("/session"))
            .unwrap_or_else(|| panic!("{kind}: no new session: {requests:?}"));
        let opts = &new_session.body["capabilities"]["alwaysMatch"][block];
        assert_eq!(opts[user_key], "farm-user", "{kind}: {}", new_session.body);
        assert_eq!(opts["accessKey"], SECRET, "{kind}");
        assert_eq!(opts["build"], "nightly", "{kind}");
        // One status per case, in order: the pass, then the failure (sticky for the session).
        let scripts: Vec<String> = requests
            .iter()
            .filter(|r| r.path.ends_with("/execute/sync"))
            .filter_map(|r| r.body["script"].as_str().map(String::from))
            .filter(|s| {
                s.contains("setSessionStatus") || s.starts_with("sauce:job-result") || s.starts_with("lambda-status")
            })
            .collect();
        assert_eq!(scripts.len(), 2, "{kind}: {scripts:?}");
        if kind == "browserstack" {
            let parse = |s: &str| -> Value {
                serde_json::from_str(s.strip_prefix("browserstack_executor: ").unwrap()).unwrap()
            };
            assert_eq!(parse(&scripts[0]), parse(pass_script), "{kind}");
            let failed = parse(&scripts[1]);
            assert_eq!(failed["arguments"]["status"], "failed", "{kind}: {failed}");
            let reason = failed["arguments"]["reason"].as_str().unwrap();
            assert!(
                reason.starts_with("fail #1: failed: "),
                "{kind}: {reason} ({fail_script})"
            );
        } else {
            assert_eq!(scripts, [pass_script, fail_script], "{kind}");
        }
        assert!(
            requests.iter().any(|r| r.method == "DELETE"),
            "{kind}: the session ended"
        );
        // The link is in results.json, next to each case.
        let run_dir = std::fs::read_dir(&reports)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.is_dir() && !p.ends_with("latest"))
            .unwrap();
        let results = std::fs::read_to_string(run_dir.join("results.json")).unwrap();
        let r: Value = serde_json::from_str(&results).unwrap();
        for c in r["cases"].as_array().unwrap() {
            assert!(
                c["artifacts"].as_array().unwrap().iter().any(|a| a == link),
                "{kind}: {c}"
            );
        }
        let html = std::fs::read_to_string(run_dir.join("index.html")).unwrap();
        assert!(html.contains(link), "{kind}: the link is in index.html");
        // The access key is nowhere but in the request to the farm.
        let junit = std::fs::read_to_string(run_dir.join("junit.xml")).unwrap();
        let events = std::fs::read_to_string(run_dir.join("events.jsonl")).unwrap();
        for (what, text) in [
            ("results.json", &results),
            ("junit.xml", &junit),
            ("index.html", &html),
            ("events.jsonl", &events),
            ("stdout", &stdout),
            ("stderr (debug log)", &stderr),
        ] {
            assert!(!text.contains(SECRET), "{kind}: the access key leaked into {what}");
        }
    }
}
