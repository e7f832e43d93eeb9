//! JavaScript in flows, run-time variables in typed fields, `check --strict`, Maestro
//! spellings and workspace `config.yaml`: through `harness check` (exit codes, located
//! messages) and `harness run` on the embedded virtual farm (results.json). The fixtures are
//! `tests/fixtures/js/NNN_name.yaml`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixture(name: &str) -> String {
    format!("harness/tests/fixtures/js/{name}")
}

fn harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .current_dir(repo())
        .env_remove("NOT_DEFINED_ANYWHERE")
        .env_remove("COUNT")
        .output()
        .expect("harness runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn check(args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["check", "--format", "json"];
    all.extend(args);
    let out = harness(&all);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("json: {}", text(&out)));
    (out.status.code(), v)
}

/// (line, column, severity, message) of every diagnostic.
fn diags(v: &Value) -> Vec<(u64, u64, String, String)> {
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
                d["severity"].as_str().unwrap().to_string(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Runs flows on the virtual Android device; returns the exit code and results.json.
fn run(args: &[&str]) -> (Option<i32>, Value, String) {
    let reports = tempfile::tempdir().unwrap();
    let mut all = vec!["run", "-d", "virtual-android", "--seed", "7"];
    all.extend(args);
    all.extend(["--reports", reports.path().to_str().unwrap()]);
    let out = harness(&all);
    let results = std::fs::read_to_string(reports.path().join("latest/results.json"))
        .unwrap_or_else(|_| panic!("no results.json: {}", text(&out)));
    (out.status.code(), serde_json::from_str(&results).unwrap(), text(&out))
}

fn case<'a>(r: &'a Value, flow: &str) -> &'a Value {
    r["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["flow"] == flow)
        .unwrap_or_else(|| panic!("no case {flow} in {r}"))
}

#[test]
fn valid_js_fixtures_check_clean() {
    for f in [
        "001_expressions.yaml",
        "002_http_script.yaml",
        "003_assert_true_fails.yaml",
        "004_output_crosses_subflows.yaml",
        "005_deferred_timeout.yaml",
        "008_maestro_spellings.yaml",
    ] {
        let (code, v) = check(&["--strict", "-e", "SERVER=http://127.0.0.1:1", &fixture(f)]);
        assert_eq!(code, Some(0), "{f}: {v}");
        assert_eq!(v["warnings"], 0, "{f}: {v}");
    }
}

#[test]
fn undefined_variables_warn_unless_strict() {
    let f = fixture("006_undefined_variable.yaml");
    let (code, v) = check(&[&f]);
    assert_eq!(code, Some(0));
    assert_eq!(
        diags(&v),
        [(
            5,
            3,
            "warning".into(),
            "variable 'NOT_DEFINED_ANYWHERE' is not defined".into()
        )]
    );
    let (code, v) = check(&["--strict", &f]);
    assert_eq!(code, Some(2));
    assert_eq!(diags(&v)[0].2, "error");
    // The script's variables come from -e too.
    let (code, _) = check(&["--strict", "-e", "NOT_DEFINED_ANYWHERE=x", &f]);
    assert_eq!(code, Some(0));
}

#[test]
fn deferred_fields_are_checked_when_their_value_is_known() {
    let f = fixture("007_invalid_deferred.yaml");
    let (code, v) = check(&[&f]);
    assert_eq!(code, Some(2));
    let d = diags(&v);
    assert_eq!((d[0].0, d[0].1, d[0].2.as_str()), (6, 19, "error"));
    assert!(d[0].3.starts_with("'sideways' is not one of portrait"), "{d:?}");
    assert_eq!(
        d[1],
        (8, 12, "warning".into(), "variable 'COUNT' is not defined".into())
    );
    // A value from -e is checked the same way, where the field is written.
    let (_, v) = check(&["-e", "COUNT=lots", &f]);
    let d = diags(&v);
    assert_eq!((d[1].0, d[1].1), (8, 12));
    assert!(d[1].3.starts_with("expected a whole number, found 'lots'"), "{d:?}");
    let (_, v) = check(&["-e", "COUNT=3", "-e", "ORIENTATION=portrait", &f]);
    assert_eq!(diags(&v), [], "-e wins over the header env");
}

#[test]
fn a_missing_script_is_an_error_at_its_step() {
    let (code, v) = check(&[&fixture("009_missing_script.yaml")]);
    assert_eq!(code, Some(2));
    let d = diags(&v);
    assert_eq!((d[0].0, d[0].1), (3, 3));
    assert!(d[0].3.starts_with("cannot read 'scripts/absent.js'"), "{d:?}");
}

#[test]
fn workspace_config_selects_and_orders_the_flows() {
    let (code, v) = check(&["--strict", &fixture("workspace")]);
    assert_eq!(code, Some(0), "{v}");
    let files = v["files"].as_object().unwrap();
    assert_eq!(files[&fixture("workspace/config.yaml")], "workspace");
    assert!(files.contains_key(&fixture("workspace/first.yaml")));
    assert!(files.contains_key(&fixture("workspace/auth/second.yaml")));
    assert!(
        !files.contains_key(&fixture("workspace/wip.yaml")),
        "excluded by its tag"
    );

    let (code, v) = check(&[&fixture("workspace-bad")]);
    assert_eq!(code, Some(2));
    assert_eq!(
        diags(&v),
        [
            (
                3,
                16,
                "error".into(),
                "flowsOrder names 'nowhere', which is not a flow this workspace selects".into()
            ),
            (4, 22, "error".into(), "expected true or false, found 'maybe'".into()),
        ]
    );

    let (code, r, out) = run(&[&fixture("workspace")]);
    assert_eq!(code, Some(0), "{out}");
    let flows: Vec<&str> = r["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["flow"].as_str().unwrap())
        .collect();
    assert_eq!(flows, ["second", "first"], "flowsOrder, wip excluded");
    let out = harness(&["run", "-d", "virtual-android", &fixture("workspace-bad")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("flowsOrder names 'nowhere'"), "{}", text(&out));
    assert!(text(&out).contains("config.yaml:4:22"), "{}", text(&out));
}

/// A loopback HTTP server answering one request: what it received goes to the channel.
fn server() -> (String, std::sync::mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else { return };
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            head.push_str(&line);
        }
        let mut body = vec![0; length];
        let _ = reader.read_exact(&mut body);
        let _ = tx.send(format!("{head}\n{}", String::from_utf8_lossy(&body)));
        let answer = r#"{"id": 7, "name": "Ada Lovelace"}"#;
        let mut stream = reader.into_inner();
        let _ = write!(
            stream,
            "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
            answer.len()
        );
    });
    (url, rx)
}

#[test]
fn runs_on_the_virtual_farm() {
    let (url, received) = server();
    let server_var = format!("SERVER={url}");
    let (code, r, out) = run(&[
        "-e",
        &server_var,
        &fixture("001_expressions.yaml"),
        &fixture("002_http_script.yaml"),
        &fixture("003_assert_true_fails.yaml"),
        &fixture("004_output_crosses_subflows.yaml"),
        &fixture("005_deferred_timeout.yaml"),
        &fixture("006_undefined_variable.yaml"),
    ]);
    assert_eq!(code, Some(1), "two flows fail as tests: {out}");
    for flow in ["js-expressions", "js-http", "js-output-subflows", "js-deferred"] {
        assert_eq!(case(&r, flow)["outcome"], "passed", "{flow}: {}", case(&r, flow));
    }
    // The script's POST reached the server, and its answer landed in `output`.
    let request = received.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
    assert!(request.starts_with("POST /users "), "{request}");
    assert!(request.ends_with(r#"{"name":"ada"}"#), "{request}");
    let http = case(&r, "js-http");
    let typed = http["steps"].as_array().unwrap().last().unwrap();
    assert_eq!(typed["status"], "passed");
    // assertTrue: a test failure with the expression and its value.
    let failed = case(&r, "js-assert-fails");
    assert_eq!(failed["outcome"], "failed");
    assert_eq!(
        failed["message"],
        "assertTrue: `output.count > 3` is false (output.count > 3 → false)"
    );
    // An undefined variable fails its step, naming it.
    let undefined = case(&r, "js-undefined");
    assert_eq!(undefined["outcome"], "failed");
    assert_eq!(undefined["message"], "variable 'NOT_DEFINED_ANYWHERE' is not defined");
}
