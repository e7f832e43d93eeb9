//! Flows through the Appium backend against a real Appium 3 server with `@appium/fake-driver`
//! (versions pinned in ci/appium/package-lock.json).
//!
//! ci/test.sh installs ci/appium, starts the server with ci/appium/start.sh and runs these
//! tests with `HARNESS_APPIUM_URL` set to it. To run them by hand:
//!
//! ```sh
//! npm ci --prefix ci/appium
//! url=$(ci/appium/start.sh)            # prints http://127.0.0.1:PORT
//! HARNESS_APPIUM_URL=$url cargo test --test integration appium_real -- --ignored
//! kill "$(cat ci/appium/appium.pid)"
//! ```
//!
//! Without `HARNESS_APPIUM_URL` they fail (they never pass without having run).
//!
//! The fake driver serves ci/appium/sign-in-app.xml: its page source is that XML wrapped in
//! `<AppiumAUT>` (a generic source without geometry), finds are evaluated by its XPath engine,
//! clicks and typed values live in the driver's element objects, and it implements no
//! `mobile:` method. Sessions use `Platform::Ios` only for the argument names of `mobile:`
//! commands (`bundleId`); the fake driver is no platform. Each session carries a
//! `appium:deviceName` naming its test, so that the test can find it among the server's
//! sessions (`GET /appium/sessions`, enabled by start.sh's `session_discovery`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use harness::driver::appium::{AppiumDevice, SessionSpec};
use harness::driver::hierarchy::{Element, SourceFormat, parse_source_with_format};
use harness::driver::{Device, DriverError};
use harness::exec::{Executor, FsArtifacts, StepError, Vars};
use harness::load::{VarSources, load_flows};
use harness::platform::Platform;
use harness::results::StepStatus;
use serde_json::{Map, Value, json};

const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "correct-horse-battery";

/// The tests share one server and assert that no session is left open: one at a time.
static SERVER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/appium")
        .join(name)
}

/// The server's URL, or a failure that says how to get one.
fn server_url() -> String {
    match std::env::var("HARNESS_APPIUM_URL") {
        Ok(u) if !u.trim().is_empty() => u.trim().trim_end_matches('/').to_string(),
        _ => panic!(
            "HARNESS_APPIUM_URL is not set: these tests need a real Appium 3 server with \
             @appium/fake-driver. Start one with `npm ci --prefix ci/appium && ci/appium/start.sh` \
             and set HARNESS_APPIUM_URL to the URL it prints (ci/test.sh does all of this)."
        ),
    }
}

/// Plain W3C requests to the server, to check what the flows did from the server's side.
struct Appium {
    url: String,
    http: reqwest::Client,
}

impl Appium {
    fn new() -> Self {
        Appium {
            url: server_url(),
            http: reqwest::Client::new(),
        }
    }

    /// `(status, value)` of one request.
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = resp.status().as_u16();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        (status, v["value"].clone())
    }

    async fn ok(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(method, path, body).await;
        assert_eq!(status, 200, "{path}: {v}");
        v
    }

    /// The open sessions (Appium 3: `GET /appium/sessions`, with `session_discovery`).
    async fn sessions(&self) -> Vec<Value> {
        let v = self.ok(reqwest::Method::GET, "/appium/sessions", None).await;
        v.as_array().cloned().unwrap_or_default()
    }

    /// The id of the session whose `deviceName` is `marker`.
    async fn session_of(&self, marker: &str) -> String {
        let all = self.sessions().await;
        let ids: Vec<&str> = all
            .iter()
            .filter(|s| s["capabilities"]["deviceName"] == marker)
            .filter_map(|s| s["id"].as_str())
            .collect();
        assert_eq!(ids.len(), 1, "sessions of {marker}: {all:?}");
        ids[0].to_string()
    }

    /// The element ids a find returns.
    async fn find_all(&self, sid: &str, using: &str, value: &str) -> Vec<String> {
        let v = self
            .ok(
                reqwest::Method::POST,
                &format!("/session/{sid}/elements"),
                Some(json!({"using": using, "value": value})),
            )
            .await;
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["element-6066-11e4-a52e-4f735466cecf"].as_str().map(String::from))
            .collect()
    }

    async fn element_get(&self, sid: &str, eid: &str, what: &str) -> Value {
        self.ok(
            reqwest::Method::GET,
            &format!("/session/{sid}/element/{eid}/{what}"),
            None,
        )
        .await
    }

    /// Fails when a session is still open: every test must end the ones it opened.
    async fn assert_no_sessions(&self) {
        let left = self.sessions().await;
        assert!(left.is_empty(), "sessions left open on the server: {left:?}");
    }
}

/// A session on the fake driver serving `app` (an absolute path), marked with `marker`.
fn spec(app: &Path, marker: &str) -> SessionSpec {
    let mut caps = Map::new();
    caps.insert("platformName".into(), json!("Fake"));
    caps.insert("appium:automationName".into(), json!("Fake"));
    caps.insert("appium:app".into(), json!(app.to_str().expect("utf-8 path")));
    caps.insert("appium:deviceName".into(), json!(marker));
    SessionSpec {
        url: server_url(),
        // Only the argument names of `mobile:` commands: see the module docs.
        platform: Platform::Ios,
        app_id: "io.appium.fake.signin".into(),
        capabilities: caps,
        is_virtual: false,
    }
}

fn sign_in_app() -> PathBuf {
    repo().join("ci/appium/sign-in-app.xml")
}

/// Runs one fixture flow on `device`; returns what it produced and the artifacts folder.
async fn run(device: &mut AppiumDevice, flow: &str, artifacts: &Path) -> harness::exec::FlowOutcome {
    let cli = vec![
        ("APPIUM_EMAIL".to_string(), EMAIL.to_string()),
        ("APPIUM_PASSWORD".to_string(), PASSWORD.to_string()),
    ];
    let set = load_flows(
        &[fixture(flow)],
        &VarSources {
            cli: cli.clone(),
            process: Default::default(),
        },
    );
    assert!(!set.has_errors(), "{:?}", set.diagnostics);
    let vars = Vars {
        cli: cli.into_iter().collect(),
        builtins: BTreeMap::new(),
        secret_values: vec![PASSWORD.to_string()],
    };
    let path = set.roots[0].clone();
    let sink = Box::new(FsArtifacts::new(artifacts.to_path_buf(), "artifacts".into()));
    Executor::new(device, &set, vars, sink, 7).run_flow(&path).await
}

fn summary(out: &harness::exec::FlowOutcome) -> String {
    out.steps
        .iter()
        .map(|s| format!("{} {:?} {}", s.name, s.status, s.message.clone().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
#[ignore = "needs a real Appium server: ci/test.sh starts one"]
async fn sign_in_flow_finds_taps_types_and_takes_artifacts() {
    let _one = SERVER.lock().await;
    let appium = Appium::new();
    let marker = "harness-sign-in-flow";
    let mut device = AppiumDevice::connect(&spec(&sign_in_app(), marker))
        .await
        .expect("a session on the fake driver");
    let sid = appium.session_of(marker).await;

    // The page source as the backend reads it: the fake app, a generic source without geometry.
    let (format, root) = parse_source_with_format(&device.source().await.unwrap()).unwrap();
    assert_eq!(format, SourceFormat::Generic);
    assert_eq!((root.class.as_str(), root.xpath.as_str()), ("app", "/AppiumAUT/app[1]"));
    assert!(root.no_geometry);

    let dir = tempfile::tempdir().unwrap();
    let out = run(&mut device, "sign-in.yaml", dir.path()).await;
    assert!(out.error.is_none(), "{:?}\n{}", out.error, summary(&out));
    assert_eq!(out.steps.len(), 12, "{}", summary(&out));
    assert!(
        out.steps.iter().all(|s| s.status == StepStatus::Passed),
        "{}",
        summary(&out)
    );

    // What the server saw: three clicks on the right elements, the typed values in the fields.
    let by_id = |id: &'static str| {
        let appium = &appium;
        let sid = &sid;
        async move {
            let found = appium.find_all(sid, "id", id).await;
            assert_eq!(found.len(), 1, "{id}: {found:?}");
            found[0].clone()
        }
    };
    for (id, clicks, value) in [
        ("auth-identifier", "1", EMAIL),
        ("auth-password", "1", PASSWORD),
        ("auth-continue", "1", ""),
        ("auth-forgot", "", ""),
    ] {
        let eid = by_id(id).await;
        assert_eq!(
            appium.element_get(&sid, &eid, "attribute/clicks").await,
            json!(clicks),
            "{id}"
        );
        assert_eq!(appium.element_get(&sid, &eid, "text").await, json!(value), "{id}");
    }

    // Artifacts: the screenshot step and the snapshot (screenshot and page source).
    assert_eq!(
        out.artifacts,
        [
            "artifacts/sign-in-form.png",
            "artifacts/after-continue.png",
            "artifacts/after-continue.xml"
        ]
    );
    for png in ["sign-in-form.png", "after-continue.png"] {
        let bytes = std::fs::read(dir.path().join(png)).unwrap();
        let img = image::load_from_memory(&bytes).unwrap_or_else(|e| panic!("{png}: {e}"));
        assert!(img.width() > 100 && img.height() > 100, "{png}");
    }
    let xml = std::fs::read_to_string(dir.path().join("after-continue.xml")).unwrap();
    assert_eq!(parse_source_with_format(&xml).unwrap().0, SourceFormat::Generic);
    let snap = &out.snapshots[0];
    assert_eq!(
        (snap.name.as_str(), snap.auth.as_str()),
        ("after-continue", "signedOut")
    );
    assert_eq!(snap.app_state, None, "the fake driver has no mobile: queryAppState");

    Box::new(device).quit().await.unwrap();
    appium.assert_no_sessions().await;
}

#[tokio::test]
#[ignore = "needs a real Appium server: ci/test.sh starts one"]
async fn a_mobile_method_the_driver_lacks_is_a_step_error_naming_it() {
    let _one = SERVER.lock().await;
    let appium = Appium::new();
    let mut device = AppiumDevice::connect(&spec(&sign_in_app(), "harness-stop-app"))
        .await
        .expect("a session on the fake driver");
    let dir = tempfile::tempdir().unwrap();
    let out = run(&mut device, "stop-app.yaml", dir.path()).await;

    let Some(StepError::Infra(message)) = &out.error else {
        panic!(
            "expected an infrastructure error, got {:?}\n{}",
            out.error,
            summary(&out)
        );
    };
    let message = message.to_string();
    assert!(
        message.starts_with("mobile: terminateApp is not supported by this device: "),
        "{message}"
    );
    // The server's own message, as the fake driver words it.
    assert!(
        message.contains("Unsupported execute method 'mobile: terminateApp'"),
        "{message}"
    );
    // The step that failed is the error; the step after it never ran.
    let statuses: Vec<StepStatus> = out.steps.iter().map(|s| s.status).collect();
    assert_eq!(statuses, [StepStatus::Passed, StepStatus::Error], "{}", summary(&out));
    assert!(out.steps[1].name.starts_with("stopApp"), "{}", summary(&out));
    assert_eq!(out.steps[1].message.as_deref(), Some(message.as_str()));
    // A failed flow keeps a screenshot and the page source.
    for a in ["artifacts/failure.png", "artifacts/failure.xml"] {
        assert!(out.artifacts.iter().any(|x| x == a), "{a} in {:?}", out.artifacts);
    }

    // The same error straight from the device.
    let e = device.terminate_app().await.unwrap_err();
    assert!(
        matches!(&e, DriverError::Unsupported { command, .. } if command == "mobile: terminateApp"),
        "{e:?}"
    );
    assert!(e.is_infrastructure());

    Box::new(device).quit().await.unwrap();
    appium.assert_no_sessions().await;
}

/// Checks every element's XPath with the server's XPath engine: it must find exactly that
/// element, and clicking it through the backend must click that element.
async fn check_xpaths(appium: &Appium, app: &Path, marker: &str, format: SourceFormat, id_attr: &str) {
    let mut device = AppiumDevice::connect(&spec(app, marker)).await.expect("a session");
    let sid = appium.session_of(marker).await;
    let (got, root) = parse_source_with_format(&device.source().await.unwrap()).unwrap();
    assert_eq!(got, format, "{}", app.display());
    let mut checked = 0;
    let all: Vec<&Element> = root.descendants();
    for e in &all {
        let found = appium.find_all(&sid, "xpath", &e.xpath).await;
        assert_eq!(found.len(), 1, "{}: {found:?}", e.xpath);
        // The tag name: in these sources the element name is the class.
        let tag = appium.element_get(&sid, &found[0], "name").await;
        assert_eq!(tag, json!(e.class), "{}", e.xpath);
        // Where the id is unique, the id attribute finds the same element.
        if !e.id.is_empty() {
            let by_attr = appium
                .find_all(&sid, "xpath", &format!("//*[@{id_attr}=\"{}\"]", e.id))
                .await;
            if by_attr.len() == 1 {
                assert_eq!(by_attr, found, "{} ({id_attr}={})", e.xpath, e.id);
                checked += 1;
            }
        }
    }
    assert!(checked >= 4, "only {checked} elements had a unique id");
    Box::new(device).quit().await.unwrap();
}

#[tokio::test]
#[ignore = "needs a real Appium server: ci/test.sh starts one"]
async fn every_xpath_finds_its_element_in_the_servers_xpath_engine() {
    let _one = SERVER.lock().await;
    let appium = Appium::new();
    check_xpaths(
        &appium,
        &sign_in_app(),
        "harness-xpath-generic",
        SourceFormat::Generic,
        "id",
    )
    .await;
    // The fake driver evaluates XPath over any XML it is given: XCUITest's document as WDA
    // builds it for XPath (no AppiumAUT), and UiAutomator2's, which is its page source.
    check_xpaths(
        &appium,
        &fixture("xpath-xcuitest.xml"),
        "harness-xpath-xcuitest",
        SourceFormat::XcuiTest,
        "name",
    )
    .await;
    check_xpaths(
        &appium,
        &fixture("xpath-uiautomator2.xml"),
        "harness-xpath-uiautomator2",
        SourceFormat::UiAutomator2,
        "resource-id",
    )
    .await;
    appium.assert_no_sessions().await;
}

#[tokio::test]
#[ignore = "needs a real Appium server: ci/test.sh starts one"]
async fn click_xpath_clicks_that_element_and_reports_what_the_server_refuses() {
    let _one = SERVER.lock().await;
    let appium = Appium::new();
    let marker = "harness-click-xpath";
    let mut device = AppiumDevice::connect(&spec(&sign_in_app(), marker)).await.unwrap();
    let sid = appium.session_of(marker).await;
    let (_, root) = parse_source_with_format(&device.source().await.unwrap()).unwrap();
    let xpath_of = |id: &str| {
        root.descendants()
            .into_iter()
            .find(|e| e.id == id)
            .map(|e| e.xpath.clone())
            .unwrap_or_else(|| panic!("no {id}"))
    };
    device.click_xpath(&xpath_of("auth-forgot")).await.unwrap();
    device.click_xpath(&xpath_of("auth-forgot")).await.unwrap();
    let eid = appium.find_all(&sid, "id", "auth-forgot").await.remove(0);
    assert_eq!(appium.element_get(&sid, &eid, "attribute/clicks").await, json!("2"));

    // The fake driver refuses to click an invisible element: a command error, not infra.
    let e = device.click_xpath(&xpath_of("auth-error")).await.unwrap_err();
    assert!(!e.is_infrastructure(), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("element click /AppiumAUT/app[1]/MockTextField[1] failed: "),
        "{e}"
    );
    let e = device.click_xpath("/AppiumAUT/app[1]/Nothing[1]").await.unwrap_err();
    assert!(e.to_string().contains("could not be located"), "{e}");
    Box::new(device).quit().await.unwrap();
    appium.assert_no_sessions().await;
}

/// Without our transport, thirtyfour's session creation fails on Appium: it sets script and
/// page-load timeouts right after `POST /session`, which the fake driver does not implement,
/// and the session it created stays open (device-mechanics.md §1.4).
#[tokio::test]
#[ignore = "needs a real Appium server: ci/test.sh starts one"]
async fn session_creation_works_only_through_our_transport() {
    let _one = SERVER.lock().await;
    let appium = Appium::new();
    let marker = "harness-plain-reqwest";
    let caps = thirtyfour::Capabilities::from(spec(&sign_in_app(), marker).capabilities);
    let err = thirtyfour::WebDriver::builder(server_url().as_str(), caps)
        .client(reqwest::Client::new())
        .connect()
        .await
        .expect_err("a plain reqwest client cannot open a session on Appium");
    let text = err.to_string();
    assert!(text.contains("Not implemented yet for script"), "{text}");
    // The session was created and left behind: end it.
    let sid = appium.session_of(marker).await;
    appium
        .ok(reqwest::Method::DELETE, &format!("/session/{sid}"), None)
        .await;
    appium.assert_no_sessions().await;
}

#[tokio::test]
#[ignore = "needs a real Appium server: ci/test.sh starts one"]
async fn orientation_and_location_reach_the_server() {
    use harness::flow::model::Orientation;
    let _one = SERVER.lock().await;
    let appium = Appium::new();
    let marker = "harness-orientation-location";
    let mut device = AppiumDevice::connect(&spec(&sign_in_app(), marker))
        .await
        .expect("a session on the fake driver");
    let sid = appium.session_of(marker).await;
    let path = |p: &str| format!("/session/{sid}/{p}");

    device.set_orientation(Orientation::LandscapeLeft).await.unwrap();
    assert_eq!(
        appium.ok(reqwest::Method::GET, &path("orientation"), None).await,
        "LANDSCAPE"
    );
    device.set_orientation(Orientation::Portrait).await.unwrap();
    assert_eq!(
        appium.ok(reqwest::Method::GET, &path("orientation"), None).await,
        "PORTRAIT"
    );
    // The fake driver has no /rotation: upside down is refused as unsupported, by the server.
    let e = device.set_orientation(Orientation::UpsideDown).await.unwrap_err();
    assert!(
        matches!(&e, DriverError::Unsupported { command, .. } if command == "setOrientation"),
        "{e:?}"
    );

    // No `mobile: setSimulatedLocation` on the fake driver: the backend falls back to /location.
    device.set_location(52.3676, 4.9041).await.unwrap();
    let loc = appium.ok(reqwest::Method::GET, &path("location"), None).await;
    assert_eq!(
        (loc["latitude"].as_f64(), loc["longitude"].as_f64()),
        (Some(52.3676), Some(4.9041)),
        "{loc}"
    );

    Box::new(device).quit().await.unwrap();
    appium.assert_no_sessions().await;
}
