//! The `harness` binary as a user runs it: output, exit codes, JSON.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn harness(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .current_dir(cwd)
        .env_remove("HARNESS_EMAIL")
        .env_remove("HARNESS_PASSWORD")
        .output()
        .expect("harness runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn shipped_flows_and_profiles_are_valid() {
    let out = harness(&["check"], &repo());
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("checked 11 flows, 1 app profiles, 15 device profiles: 0 errors, 0 warnings"),
        "{text}"
    );
}

#[test]
fn invalid_flow_exits_2_with_location_and_hint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "appId: a\n---\n- launchApp\n- tapon: Sign in\n",
    )
    .unwrap();
    let out = harness(&["check", "bad.yaml"], dir.path());
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("bad.yaml:4:3: error: unknown command 'tapon' (at `steps[1].tapon`)"),
        "{text}"
    );
    assert!(text.contains("4 | - tapon: Sign in\n  |   ^"), "{text}");
    assert!(text.contains("= hint: did you mean 'tapOn'?"), "{text}");
    assert!(text.contains("1 error, 0 warnings"), "{text}");
}

#[test]
fn json_format_lists_every_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "appId: a\nfoo: 1\n---\n- inputText: ${NOPE}\n- swipe: {direction: UPWARD}\n",
    )
    .unwrap();
    let out = harness(&["check", "--strict", "--format", "json", "bad.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["valid"], false);
    assert_eq!(v["errors"], 2);
    assert_eq!(v["warnings"], 1);
    assert_eq!(v["files"]["bad.yaml"], "flow");
    let d = v["diagnostics"].as_array().unwrap();
    let triples: Vec<(u64, u64, String)> = d
        .iter()
        .map(|x| {
            (
                x["line"].as_u64().unwrap(),
                x["column"].as_u64().unwrap(),
                x["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        triples,
        vec![
            (2, 1, "warning".to_string()),
            (4, 3, "error".to_string()),
            (5, 22, "error".to_string())
        ]
    );
    assert_eq!(d[1]["message"], "variable 'NOPE' is not defined");
    assert_eq!(d[2]["key"], "steps[1].swipe.direction");
}

#[test]
fn env_flag_and_process_environment_define_variables() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f.yaml"), "appId: a\n---\n- inputText: ${WHO}\n").unwrap();
    assert_eq!(
        harness(&["check", "--strict", "f.yaml"], dir.path()).status.code(),
        Some(2)
    );
    assert_eq!(
        harness(&["check", "f.yaml"], dir.path()).status.code(),
        Some(0),
        "a warning"
    );
    assert_eq!(
        harness(&["check", "--strict", "-e", "WHO=me", "f.yaml"], dir.path())
            .status
            .code(),
        Some(0)
    );
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["check", "--strict", "f.yaml"])
        .current_dir(dir.path())
        .env("WHO", "env")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn directories_are_walked_and_subflows_checked_in_context() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("flows/sub")).unwrap();
    std::fs::write(
        d.join("flows/main.yaml"),
        "appId: a\n---\n- runFlow: {file: sub/s.yaml, env: {WHO: me}}\n",
    )
    .unwrap();
    // WHO is defined only by the caller: the sub-flow is valid in the context it runs in.
    std::fs::write(d.join("flows/sub/s.yaml"), "appId: a\n---\n- inputText: ${WHO}\n").unwrap();
    let out = harness(&["check", "flows"], d);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("checked 2 flows"));
}

#[test]
fn missing_path_and_bad_arguments_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = harness(&["check", "nope.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).contains("nope.yaml: error: no such file or directory"),
        "{}",
        stdout(&out)
    );
    let out = harness(&["check", "--format", "xml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let out = harness(&["check", "-e", "1BAD=x", "x.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn schema_is_json_with_every_command() {
    let out = harness(&["schema"], &repo());
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = v.to_string();
    for c in harness::flow::commands::COMMANDS {
        assert!(text.contains(&format!("\"{}\"", c.name)), "{}", c.name);
    }
    for kind in ["app", "device"] {
        let out = harness(&["schema", kind], &repo());
        assert_eq!(out.status.code(), Some(0));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap();
    }
}

#[test]
fn shipped_flows_carry_the_schema_modeline() {
    for sub in ["flows", "flows/subflows", "flows/apps", "devices"] {
        for e in std::fs::read_dir(repo().join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_none_or(|x| x != "yaml") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            let line = text
                .lines()
                .find(|l| l.starts_with("# yaml-language-server: $schema="))
                .unwrap_or_else(|| panic!("{p:?} has no modeline"));
            let target = line.trim_start_matches("# yaml-language-server: $schema=");
            let resolved = p.parent().unwrap().join(target);
            assert!(resolved.is_file(), "{p:?}: modeline points at missing {resolved:?}");
        }
    }
}
