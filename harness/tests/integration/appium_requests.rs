//! Gestures and device settings through the Appium backend:
//! - against the virtual farm (in process, on a loopback port), on both platforms, checking
//!   what each call did to the device;
//! - against a server that records each request and answers as XCUITest / UiAutomator2 do,
//!   checking the exact paths and bodies a real driver gets.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::http;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use base64::Engine as _;
use harness::driver::appium::{AppiumDevice, SessionSpec};
use harness::driver::hierarchy::parse_source;
use harness::driver::mobile::MobileCommand;
use harness::driver::{Device, DriverError};
use harness::flow::model::Orientation;
use harness::platform::Platform;
use serde_json::{Map, Value, json};

const APP: &str = "com.harness.clerkconvex";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

// --- The virtual farm -------------------------------------------------------------------

async fn start_farm(seed: u64) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { harness::farm::server::serve(listener, harness::farm::server::Farm::new(seed)).await });
    addr
}

fn caps(platform: &str, udid: &str) -> Value {
    json!({"platformName": platform, "appium:udid": udid, "appium:noReset": true,
        "harness:options": {"latencyScale": 0.0, "restoreRate": 1.0}})
}

/// Signs in on the device `udid` through the raw protocol, and ends that session.
fn sign_in(addr: &str, caps: &Value) {
    let (st, v) = http(
        addr,
        "POST",
        "/session",
        Some(&json!({"capabilities": {"alwaysMatch": caps}})),
    );
    assert_eq!(st, 200, "{v}");
    let sid = v["value"]["sessionId"].as_str().unwrap().to_string();
    let wait_for = |id: &str| {
        let start = Instant::now();
        loop {
            let (st, v) = http(
                addr,
                "POST",
                &format!("/session/{sid}/element"),
                Some(&json!({"using": "accessibility id", "value": id})),
            );
            if st == 200 {
                return v["value"]["element-6066-11e4-a52e-4f735466cecf"]
                    .as_str()
                    .unwrap()
                    .to_string();
            }
            assert!(start.elapsed() < Duration::from_secs(20), "{id} never appeared");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    for (id, text) in [
        ("auth-identifier", Some("a@b.c")),
        ("auth-continue", None),
        ("auth-password", Some("pw")),
        ("auth-continue", None),
    ] {
        let e = wait_for(id);
        match text {
            Some(t) => http(
                addr,
                "POST",
                &format!("/session/{sid}/element/{e}/value"),
                Some(&json!({"text": t})),
            ),
            None => http(addr, "POST", &format!("/session/{sid}/element/{e}/click"), None),
        };
    }
    wait_for("screen-home");
    http(addr, "DELETE", &format!("/session/{sid}"), None);
}

/// An Appium session on a signed-in virtual device, on its home screen.
async fn signed_in(addr: &str, platform: Platform, udid: &str) -> AppiumDevice {
    let name = match platform {
        Platform::Ios => "iOS",
        Platform::Android => "Android",
    };
    let caps = caps(name, udid);
    let (a, c) = (addr.to_string(), caps.clone());
    tokio::task::spawn_blocking(move || sign_in(&a, &c)).await.unwrap();
    let spec = SessionSpec {
        url: format!("http://{addr}"),
        platform,
        app_id: APP.into(),
        capabilities: caps.as_object().unwrap().clone(),
        is_virtual: true,
    };
    let mut d = AppiumDevice::connect(&spec).await.unwrap();
    wait_for_source(&mut d, "screen-home").await;
    d
}

async fn wait_for_source(d: &mut AppiumDevice, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let source = d.source().await.unwrap();
        if source.contains(text) {
            return source;
        }
        assert!(Instant::now() < deadline, "{text} never appeared: {source}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn window(d: &mut AppiumDevice) -> (i32, i32) {
    let root = parse_source(&d.source().await.unwrap()).unwrap();
    (root.bounds.width, root.bounds.height)
}

async fn mobile(d: &AppiumDevice, method: &'static str) -> Value {
    d.mobile(MobileCommand {
        method,
        args: Map::new(),
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_setting_on_the_virtual_farm_on_both_platforms() {
    let addr = start_farm(11).await;
    for (platform, udid, get_location) in [
        (Platform::Ios, "ios-settings", "getSimulatedLocation"),
        (Platform::Android, "android-settings", "getGeolocation"),
    ] {
        let mut d = signed_in(&addr, platform, udid).await;

        // Orientation turns the window.
        let (w, h) = window(&mut d).await;
        assert!(h > w, "{platform:?} starts in portrait: {w}x{h}");
        for o in [Orientation::LandscapeLeft, Orientation::LandscapeRight] {
            d.set_orientation(o).await.unwrap();
            assert_eq!(window(&mut d).await, (h, w), "{platform:?} {o:?}");
        }
        for o in [Orientation::UpsideDown, Orientation::Portrait] {
            d.set_orientation(o).await.unwrap();
            assert_eq!(window(&mut d).await, (w, h), "{platform:?} {o:?}");
        }

        // Location reads back.
        d.set_location(52.3676, 4.9041).await.unwrap();
        let loc = mobile(&d, get_location).await;
        assert_eq!(
            (loc["latitude"].as_f64(), loc["longitude"].as_f64()),
            (Some(52.3676), Some(4.9041))
        );

        // Dark mode reads back, and the app follows it.
        assert!(!d.dark_mode().await.unwrap());
        d.set_dark_mode(true).await.unwrap();
        assert!(d.dark_mode().await.unwrap());
        wait_for_source(&mut d, "dark").await;
        d.set_dark_mode(false).await.unwrap();
        assert!(!d.dark_mode().await.unwrap());

        // Airplane mode takes the device offline (a virtual-only extension on iOS).
        assert!(!d.airplane_mode().await.unwrap());
        d.set_airplane_mode(true).await.unwrap();
        assert!(d.airplane_mode().await.unwrap());
        assert_eq!(mobile(&d, "virtualState").await["online"], false, "{platform:?}");
        d.set_airplane_mode(false).await.unwrap();
        assert!(!d.airplane_mode().await.unwrap());
        assert_eq!(mobile(&d, "virtualState").await["online"], true);

        // Media goes to the library; the farm refuses what is not media, so the call reached it.
        d.add_media("cat.png", b"\x89PNG not really").await.unwrap();
        let e = d.add_media("notes.txt", b"x").await.unwrap_err();
        assert!(e.to_string().contains("only accepts media files"), "{e}");

        // Drags up scroll the home screen down to its footer.
        assert!(!d.source().await.unwrap().contains("home-footer"));
        let (w, h) = window(&mut d).await;
        let mut drags = 0;
        while !d.source().await.unwrap().contains("home-footer") {
            d.swipe((w / 2, h * 8 / 10), (w / 2, h * 2 / 10), 300).await.unwrap();
            drags += 1;
            assert!(drags <= 10, "{platform:?}: no footer after {drags} drags");
        }

        // A recording is a GIF.
        d.start_recording().await.unwrap();
        d.swipe((w / 2, h * 2 / 10), (w / 2, h * 8 / 10), 300).await.unwrap();
        let r = d.stop_recording().await.unwrap();
        assert_eq!(r.extension, "gif");
        assert_eq!(&r.bytes[..4], b"GIF8");
        Box::new(d).quit().await.unwrap();
    }
}

// --- Recorded requests -------------------------------------------------------------------

/// How the recording server answers `mobile: shell`, and whether it knows the location methods.
#[derive(Clone, Copy, PartialEq)]
enum Server {
    /// XCUITest / UiAutomator2 as Appium runs them with `--allow-insecure uiautomator2:adb_shell`.
    Real,
    /// Without adb_shell, and without the `mobile:` location methods.
    Locked,
}

struct Recorder {
    server: Server,
    log: Mutex<Vec<String>>,
}

async fn record(State(m): State<Arc<Recorder>>, method: Method, uri: Uri, body: Bytes) -> (StatusCode, Json<Value>) {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = uri.path().trim_start_matches("/session/s1").to_string();
    let ok = |v: Value| (StatusCode::OK, Json(json!({ "value": v })));
    let error =
        |status, error: &str, message: &str| (status, Json(json!({"value": {"error": error, "message": message}})));
    match (method.as_str(), path.as_str()) {
        ("POST", "/session") => return ok(json!({"sessionId": "s1", "capabilities": {}})),
        ("POST", "/timeouts") | ("DELETE", "") => return ok(Value::Null),
        _ => {}
    }
    m.log.lock().unwrap().push(format!("{method} {path} {body}"));
    match path.as_str() {
        "/execute/sync" => {
            let script = body["script"].as_str().unwrap_or("");
            let args = &body["args"][0];
            match (script, m.server) {
                ("mobile: setGeolocation" | "mobile: setSimulatedLocation", Server::Locked) => error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "unsupported operation",
                    &format!("Unsupported execute method '{script}'. Available methods are: mobile: shell"),
                ),
                ("mobile: shell", Server::Locked) => error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "unknown error",
                    "Potentially insecure feature 'adb_shell' has not been enabled. If you want to enable this \
                     feature and accept the security ramifications, please do so by following the documented \
                     instructions at http://appium.io/docs/en/latest/guides/security/",
                ),
                ("mobile: shell", Server::Real) if args["args"] == json!(["uimode", "night"]) => {
                    ok(json!("Night mode: yes\n"))
                }
                ("mobile: shell", Server::Real) => ok(json!("Night mode: no\n")),
                ("mobile: getAppearance", _) => ok(json!({"style": "dark"})),
                ("mobile: getConnectivity", _) => ok(json!({"wifi": false, "data": false, "airplaneMode": true})),
                _ => ok(Value::Null),
            }
        }
        "/appium/stop_recording_screen" => {
            let mp4 = std::fs::read(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/host/settings/recording.mp4"),
            )
            .unwrap();
            ok(json!(B64.encode(mp4)))
        }
        _ => ok(Value::Null),
    }
}

async fn recorded(platform: Platform, server: Server) -> (AppiumDevice, Arc<Recorder>) {
    let rec = Arc::new(Recorder {
        server,
        log: Mutex::new(vec![]),
    });
    let app = axum::Router::new().fallback(record).with_state(rec.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let spec = SessionSpec {
        url,
        platform,
        app_id: APP.into(),
        capabilities: Map::new(),
        is_virtual: false,
    };
    (AppiumDevice::connect(&spec).await.unwrap(), rec)
}

fn take(r: &Recorder) -> Vec<String> {
    std::mem::take(&mut *r.log.lock().unwrap())
}

fn exec(script: &str, args: Value) -> String {
    format!("POST /execute/sync {}", json!({"script": script, "args": [args]}))
}

#[tokio::test(flavor = "multi_thread")]
async fn what_a_real_ios_driver_is_sent() {
    let (mut d, r) = recorded(Platform::Ios, Server::Real).await;
    d.swipe((195, 700), (195, 200), 250).await.unwrap();
    let actions = json!({"actions": [{"type": "pointer", "id": "finger1", "parameters": {"pointerType": "touch"}, "actions": [
        {"type": "pointerMove", "duration": 0, "x": 195, "y": 700, "origin": "viewport"},
        {"type": "pointerDown", "button": 0},
        {"type": "pointerMove", "duration": 250, "x": 195, "y": 200, "origin": "viewport"},
        {"type": "pointerUp", "button": 0}
    ]}]});
    assert_eq!(take(&r), [format!("POST /actions {actions}")]);

    for o in [
        Orientation::Portrait,
        Orientation::LandscapeLeft,
        Orientation::UpsideDown,
        Orientation::LandscapeRight,
    ] {
        d.set_orientation(o).await.unwrap();
    }
    assert_eq!(
        take(&r),
        [
            r#"POST /orientation {"orientation":"PORTRAIT"}"#,
            r#"POST /orientation {"orientation":"LANDSCAPE"}"#,
            r#"POST /rotation {"x":0,"y":0,"z":180}"#,
            r#"POST /rotation {"x":0,"y":0,"z":270}"#,
        ]
    );

    d.set_location(52.3676, 4.9041).await.unwrap();
    d.set_dark_mode(true).await.unwrap();
    assert!(d.dark_mode().await.unwrap());
    d.add_media("cat.png", b"png").await.unwrap();
    assert_eq!(
        take(&r),
        [
            exec(
                "mobile: setSimulatedLocation",
                json!({"latitude": 52.3676, "longitude": 4.9041})
            ),
            exec("mobile: setAppearance", json!({"style": "dark"})),
            exec("mobile: getAppearance", json!({})),
            exec(
                "mobile: pushFile",
                json!({"remotePath": "cat.png", "payload": B64.encode(b"png")})
            ),
        ]
    );

    // No iOS driver has airplane mode: refused before anything is sent.
    for e in [
        d.set_airplane_mode(true).await.unwrap_err(),
        d.airplane_mode().await.map(|_| ()).unwrap_err(),
    ] {
        let DriverError::Unsupported { message, .. } = &e else {
            panic!("{e:?}")
        };
        assert!(message.contains("no airplane mode"), "{message}");
    }
    assert!(take(&r).is_empty());

    d.start_recording().await.unwrap();
    let rec = d.stop_recording().await.unwrap();
    assert_eq!((rec.extension, &rec.bytes[4..8]), ("mp4", &b"ftyp"[..]));
    assert_eq!(
        take(&r),
        [
            "POST /appium/start_recording_screen {}",
            "POST /appium/stop_recording_screen {}"
        ]
    );
    Box::new(d).quit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn what_a_real_android_driver_is_sent() {
    let (mut d, r) = recorded(Platform::Android, Server::Real).await;
    d.set_location(52.3676, 4.9041).await.unwrap();
    d.set_airplane_mode(true).await.unwrap();
    assert!(d.airplane_mode().await.unwrap());
    d.set_dark_mode(true).await.unwrap();
    assert!(d.dark_mode().await.unwrap());
    d.add_media("cat's pic.png", b"png").await.unwrap();
    assert_eq!(
        take(&r),
        [
            exec(
                "mobile: setGeolocation",
                json!({"latitude": 52.3676, "longitude": 4.9041})
            ),
            exec("mobile: setConnectivity", json!({"airplaneMode": true})),
            exec("mobile: getConnectivity", json!({})),
            exec(
                "mobile: shell",
                json!({"command": "cmd", "args": ["uimode", "night", "yes"]})
            ),
            exec("mobile: shell", json!({"command": "cmd", "args": ["uimode", "night"]})),
            exec(
                "mobile: pushFile",
                json!({"remotePath": "/sdcard/Pictures/cat's pic.png", "payload": B64.encode(b"png")})
            ),
        ]
    );
    Box::new(d).quit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_locked_android_server_falls_back_to_location_and_says_how_to_allow_the_shell() {
    let (mut d, r) = recorded(Platform::Android, Server::Locked).await;
    d.set_location(52.3676, 4.9041).await.unwrap();
    assert_eq!(
        take(&r),
        [
            exec(
                "mobile: setGeolocation",
                json!({"latitude": 52.3676, "longitude": 4.9041})
            ),
            format!(
                "POST /location {}",
                json!({"location": {"latitude": 52.3676, "longitude": 4.9041, "altitude": 0.0}})
            ),
        ]
    );
    for e in [
        d.set_dark_mode(true).await.unwrap_err(),
        d.dark_mode().await.map(|_| ()).unwrap_err(),
    ] {
        let DriverError::Unsupported { message, .. } = &e else {
            panic!("{e:?}")
        };
        assert!(
            message.contains("start Appium with `--allow-insecure uiautomator2:adb_shell`"),
            "{message}"
        );
    }
    Box::new(d).quit().await.unwrap();
}

/// A device dropped without `quit` (a cancelled flow) ends its session in the background,
/// without blocking the thread that dropped it.
#[tokio::test(flavor = "multi_thread")]
async fn a_device_dropped_without_quit_ends_its_session() {
    let addr = start_farm(12).await;
    let spec = SessionSpec {
        url: format!("http://{addr}"),
        platform: Platform::Android,
        app_id: APP.into(),
        capabilities: caps("Android", "drop-1").as_object().unwrap().clone(),
        is_virtual: true,
    };
    let d = AppiumDevice::connect(&spec).await.unwrap();
    let sessions = |addr: String| async move {
        tokio::task::spawn_blocking(move || http(&addr, "GET", "/appium/sessions", None).1["value"].clone())
            .await
            .unwrap()
    };
    assert_eq!(sessions(addr.clone()).await.as_array().unwrap().len(), 1);
    drop(d);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !sessions(addr.clone()).await.as_array().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the session was not ended");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Dropping a device whose server never answers the DELETE does not block the thread.
#[tokio::test(flavor = "multi_thread")]
async fn dropping_a_device_does_not_wait_for_a_hung_server() {
    async fn handle(method: axum::http::Method, uri: axum::http::Uri) -> Json<Value> {
        match (method.as_str(), uri.path()) {
            ("POST", "/session") => Json(json!({"value": {"sessionId": "s1", "capabilities": {}}})),
            ("DELETE", _) => {
                // A hung server: the session is never ended.
                std::future::pending::<()>().await;
                unreachable!()
            }
            _ => Json(json!({"value": null})),
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().fallback(handle)).await });
    let spec = SessionSpec {
        url,
        platform: Platform::Android,
        app_id: APP.into(),
        capabilities: Map::new(),
        is_virtual: false,
    };
    let d = AppiumDevice::connect(&spec).await.unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        drop(d);
        tx.send(()).unwrap();
    });
    // thirtyfour's own fallback would block here until the command timeout (120 s).
    rx.recv_timeout(Duration::from_secs(5))
        .expect("drop returned without waiting for the server");
}
