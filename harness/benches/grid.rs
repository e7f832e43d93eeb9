//! Per-command latency through a Selenium Grid against straight to a virtual farm: the same
//! page source read plus element find, timed in one session of each, printed with their
//! ratio (the Grid's relay overhead). A bench binary (`harness = false`), not Criterion.
//!
//! Needs `HARNESS_GRID_URL` (the hub) and `HARNESS_GRID_FARMS` (the farms behind it; the
//! first is used directly); skips with a message without them. ci/test.sh's Grid section
//! sets both: `cargo bench --bench grid` (or `cargo test --bench grid` for a smoke run).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ROUNDS: usize = 40;

/// Grid 4 refuses JSON without a charset (`Content-Type header does not indicate utf-8
/// encoded json`), as reqwest's `.json()` sends it; the harness's transport sends this.
const JSON: &str = harness::driver::transport::JSON_CONTENT_TYPE;

async fn session(http: &reqwest::Client, base: &str) -> String {
    let caps = json!({"capabilities": {"alwaysMatch": {
        "platformName": "Android",
        "appium:automationName": "UiAutomator2",
        "appium:appPackage": "com.harness.clerkconvex",
        "harness:options": {"latencyScale": 0},
    }}});
    let v: Value = http
        .post(format!("{base}/session"))
        .header("content-type", JSON)
        .body(caps.to_string())
        .send()
        .await
        .expect("new session")
        .json()
        .await
        .expect("JSON");
    v["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no session: {v}"))
        .to_string()
}

/// Mean time of one page source read plus one find, over `rounds`.
async fn per_command(http: &reqwest::Client, base: &str, rounds: usize) -> Duration {
    let sid = session(http, base).await;
    let s = format!("{base}/session/{sid}");
    // One warm-up round (connections, JIT on the Grid).
    let mut total = Duration::ZERO;
    for i in 0..=rounds {
        let t = Instant::now();
        let source = http.get(format!("{s}/source")).send().await.expect("source");
        assert!(source.status().is_success(), "source: {}", source.status());
        let _ = source.bytes().await;
        let find = http
            .post(format!("{s}/element"))
            .header("content-type", JSON)
            .body(json!({"using": "xpath", "value": "//*"}).to_string())
            .send()
            .await
            .expect("find");
        let _ = find.bytes().await;
        if i > 0 {
            total += t.elapsed();
        }
    }
    let _ = http.delete(&s).send().await;
    // Two commands per round.
    total / (2 * rounds as u32)
}

fn main() {
    let (Ok(hub), Ok(farms)) = (std::env::var("HARNESS_GRID_URL"), std::env::var("HARNESS_GRID_FARMS")) else {
        println!("grid bench skipped: set HARNESS_GRID_URL and HARNESS_GRID_FARMS (ci/test.sh's Grid section does)");
        return;
    };
    let farm = farms
        .split(',')
        .next()
        .unwrap_or_default()
        .trim()
        .trim_end_matches('/')
        .to_string();
    let hub = hub.trim().trim_end_matches('/').to_string();
    let rounds = if std::env::args().any(|a| a == "--bench") {
        ROUNDS
    } else {
        5
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let http = reqwest::Client::new();
        let direct = per_command(&http, &farm, rounds).await;
        let grid = per_command(&http, &hub, rounds).await;
        println!(
            "per command (page source + find, {rounds} rounds): direct {:.2} ms, through the Grid {:.2} ms, ratio {:.2}",
            direct.as_secs_f64() * 1000.0,
            grid.as_secs_f64() * 1000.0,
            grid.as_secs_f64() / direct.as_secs_f64().max(1e-9)
        );
    });
}
