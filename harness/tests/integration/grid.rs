//! A campaign through Selenium Grid 4: a hub with one relay node per virtual farm
//! (`harness sim serve`), driven by a `kind: grid` device profile.
//!
//! ci/test.sh installs ci/grid, starts two farms and the Grid (ci/grid/start.sh), and runs
//! this test with `HARNESS_GRID_URL` (the hub) and `HARNESS_GRID_FARMS` (the farms' URLs,
//! comma-separated) set. To run it by hand:
//!
//! ```sh
//! npm ci --prefix ci/grid
//! ./target/debug/harness sim serve --port 0 &   # twice; note the URLs
//! hub=$(ci/grid/start.sh --relay URL1 --relay URL2)
//! HARNESS_GRID_URL=$hub HARNESS_GRID_FARMS=URL1,URL2 cargo test --test integration grid -- --ignored
//! kill $(cat ci/grid/grid.pids)
//! ```
//!
//! Without those variables it fails (it never passes without having run).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::interrupt::get_json;

fn env(var: &str) -> String {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => v.trim().trim_end_matches('/').to_string(),
        _ => panic!(
            "{var} is not set: this test needs a Selenium Grid in front of two virtual farms. \
             Start them as ci/test.sh does (npm ci --prefix ci/grid; two `harness sim serve --port 0`; \
             ci/grid/start.sh --relay URL1 --relay URL2) and set HARNESS_GRID_URL to the hub and \
             HARNESS_GRID_FARMS to the farms' URLs, comma-separated."
        ),
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
#[ignore = "needs a Selenium Grid: HARNESS_GRID_URL and HARNESS_GRID_FARMS (ci/test.sh starts them)"]
fn a_campaign_through_the_grid_uses_both_farms_and_leaves_no_session() {
    let hub = env("HARNESS_GRID_URL");
    let farms: Vec<String> = env("HARNESS_GRID_FARMS")
        .split(',')
        .map(|u| u.trim().trim_end_matches('/').to_string())
        .collect();
    assert_eq!(farms.len(), 2, "HARNESS_GRID_FARMS: two farm URLs");
    let created = |farm: &str| get_json(farm, "/status")["value"]["sessionsCreated"].as_u64().unwrap();
    let before: Vec<u64> = farms.iter().map(|f| created(f)).collect();
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("grid.yaml");
    std::fs::write(
        &profile,
        format!(
            "name: grid-android\nplatform: Android\nkind: grid\nurl: {hub}\nparallel: 4\ncommandTimeout: 60s\n\
             capabilities:\n  platformName: Android\n  appium:automationName: UiAutomator2\n  \
             harness:options: {{latencyScale: 0.05}}\n"
        ),
    )
    .unwrap();
    let reports = dir.path().join("reports");
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["run", "flows/session-restore.yaml", "-n", "8", "-p", "4", "--seed", "8"])
        .args(["-d", profile.to_str().unwrap(), "--reports", reports.to_str().unwrap()])
        .args(["-e", "HARNESS_EMAIL=demo@harness.dev", "-e", "HARNESS_PASSWORD=pw"])
        .current_dir(repo())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("latest/results.json")).unwrap()).unwrap();
    let cases = results["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 8);
    assert!(cases.iter().all(|c| c["outcome"] == "passed"), "{results}");
    for (farm, before) in farms.iter().zip(before) {
        let now = created(farm);
        assert!(now > before, "{farm} received no session ({before} → {now})");
        let open = get_json(farm, "/appium/sessions");
        assert_eq!(open["value"], Value::Array(vec![]), "{farm}: sessions left open");
    }
}
