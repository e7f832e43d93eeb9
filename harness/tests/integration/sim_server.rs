//! The virtual farm's HTTP protocol: W3C errors and statuses, and 64 concurrent devices.

use std::time::{Duration, Instant};

use crate::support::http;
use serde_json::{Value, json};

/// Starts a farm on a free loopback port in a background runtime; returns its address.
fn start_farm(seed: u64) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap().to_string()).unwrap();
            harness::farm::server::serve(listener, harness::farm::server::Farm::new(seed))
                .await
                .unwrap();
        });
    });
    rx.recv_timeout(Duration::from_secs(10)).expect("farm started")
}

fn new_session(addr: &str, caps: Value) -> String {
    let (st, v) = http(
        addr,
        "POST",
        "/session",
        Some(&json!({"capabilities": {"alwaysMatch": caps}})),
    );
    assert_eq!(st, 200, "{v}");
    v["value"]["sessionId"].as_str().unwrap().to_string()
}

fn find(addr: &str, sid: &str, using: &str, value: &str) -> (u16, Value) {
    http(
        addr,
        "POST",
        &format!("/session/{sid}/element"),
        Some(&json!({"using": using, "value": value})),
    )
}

fn element(v: &Value) -> String {
    v["value"]["element-6066-11e4-a52e-4f735466cecf"]
        .as_str()
        .unwrap()
        .to_string()
}

fn wait_for(addr: &str, sid: &str, test_id: &str) -> String {
    let start = Instant::now();
    loop {
        let (st, v) = find(addr, sid, "accessibility id", test_id);
        if st == 200 {
            return element(&v);
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{test_id} never appeared: {v}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn exec(addr: &str, sid: &str, script: &str, args: Value) -> (u16, Value) {
    http(
        addr,
        "POST",
        &format!("/session/{sid}/execute/sync"),
        Some(&json!({"script": script, "args": [args]})),
    )
}

/// Signs in from the sign-in screen and waits for the home screen.
fn sign_in(addr: &str, sid: &str) {
    let field = wait_for(addr, sid, "auth-identifier");
    http(
        addr,
        "POST",
        &format!("/session/{sid}/element/{field}/value"),
        Some(&json!({"text": "a@b.c"})),
    );
    let cont = wait_for(addr, sid, "auth-continue");
    http(addr, "POST", &format!("/session/{sid}/element/{cont}/click"), None);
    let pw = wait_for(addr, sid, "auth-password");
    http(
        addr,
        "POST",
        &format!("/session/{sid}/element/{pw}/value"),
        Some(&json!({"text": "pw"})),
    );
    let cont = wait_for(addr, sid, "auth-continue");
    http(addr, "POST", &format!("/session/{sid}/element/{cont}/click"), None);
    wait_for(addr, sid, "screen-home");
}

/// Signs in, force-quits, relaunches and returns what the home screen says.
fn cycle(addr: &str, platform: &str, udid: &str) -> (String, String) {
    let sid = new_session(
        addr,
        json!({"platformName": platform, "appium:udid": udid, "harness:options": {"latencyScale": 0.02, "restoreRate": 1.0}}),
    );
    sign_in(addr, &sid);
    let arg = if platform == "iOS" {
        json!({"bundleId": "com.harness.clerkconvex"})
    } else {
        json!({"appId": "com.harness.clerkconvex"})
    };
    assert_eq!(exec(addr, &sid, "mobile: terminateApp", arg.clone()).1["value"], true);
    assert_eq!(exec(addr, &sid, "mobile: queryAppState", arg.clone()).1["value"], 1);
    assert_eq!(exec(addr, &sid, "mobile: activateApp", arg).0, 200);
    wait_for(addr, &sid, "screen-home");
    let sess = wait_for(addr, &sid, "session-id");
    let text = http(addr, "GET", &format!("/session/{sid}/element/{sess}/text"), None).1["value"]
        .as_str()
        .unwrap()
        .to_string();
    let signed = wait_for(addr, &sid, "clerk-signed-in");
    let signed = http(addr, "GET", &format!("/session/{sid}/element/{signed}/text"), None).1["value"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(http(addr, "DELETE", &format!("/session/{sid}"), None).0, 200);
    (text, signed)
}

#[test]
fn sixty_four_devices_at_once() {
    let addr = start_farm(7);
    let handles: Vec<_> = (0..64)
        .map(|i| {
            let addr = addr.clone();
            std::thread::spawn(move || cycle(&addr, if i % 2 == 0 { "iOS" } else { "Android" }, &format!("dev-{i}")))
        })
        .collect();
    let mut sessions = std::collections::BTreeSet::new();
    for h in handles {
        let (sess, signed) = h.join().expect("device thread");
        assert_eq!(signed, "true");
        assert!(sess.starts_with("sess_"));
        sessions.insert(sess);
    }
    assert_eq!(sessions.len(), 64, "every device has its own session");
    let (_, v) = http(&addr, "GET", "/appium/sessions", None);
    assert_eq!(v["value"], json!([]), "no session left open");
}

#[test]
fn errors_are_w3c_with_appium_statuses() {
    let addr = start_farm(1);
    let err = |v: &Value| v["value"]["error"].as_str().unwrap_or("").to_string();
    let (st, v) = http(
        &addr,
        "POST",
        "/session",
        Some(&json!({"capabilities": {"alwaysMatch": {}}})),
    );
    assert_eq!((st, err(&v).as_str()), (400, "invalid argument"));
    let (st, v) = http(
        &addr,
        "POST",
        "/session",
        Some(
            &json!({"capabilities": {"alwaysMatch": {"platformName": "iOS", "appium:automationName": "UiAutomator2"}}}),
        ),
    );
    assert_eq!((st, err(&v).as_str()), (500, "session not created"));
    let (st, v) = http(
        &addr,
        "POST",
        "/session",
        Some(&json!({"capabilities": {"alwaysMatch": {"platformName": "Android", "appium:appPackage": "com.other"}}})),
    );
    assert_eq!((st, err(&v).as_str()), (500, "session not created"));
    let (st, v) = http(
        &addr,
        "POST",
        "/session",
        Some(&json!({"capabilities": {"alwaysMatch": {"platformName": "iOS", "harness:options": {"restoreRate": 2}}}})),
    );
    assert_eq!((st, err(&v).as_str()), (400, "invalid argument"));
    assert!(v["value"]["message"].as_str().unwrap().contains("restoreRate"));
    let (st, v) = http(&addr, "GET", "/session/nope/source", None);
    assert_eq!((st, err(&v).as_str()), (404, "invalid session id"));
    let (st, v) = http(&addr, "GET", "/no/such/route", None);
    assert_eq!((st, err(&v).as_str()), (404, "unknown command"));
    let sid = new_session(
        &addr,
        json!({"platformName": "Android", "harness:options": {"latencyScale": 0.0}}),
    );
    let (st, v) = http(&addr, "PUT", &format!("/session/{sid}/source"), None);
    assert_eq!((st, err(&v).as_str()), (405, "unknown method"));
    let (st, v) = find(&addr, &sid, "accessibility id", "nothing-here");
    assert_eq!((st, err(&v).as_str()), (404, "no such element"));
    let (st, v) = find(&addr, &sid, "-android uiautomator", "new UiSelector()");
    assert_eq!((st, err(&v).as_str()), (400, "invalid selector"));
    let (st, v) = find(&addr, &sid, "xpath", "//*[");
    assert_eq!((st, err(&v).as_str()), (400, "invalid selector"));
    let (st, v) = exec(&addr, &sid, "mobile: clearKeychains", json!({}));
    assert_eq!((st, err(&v).as_str()), (500, "unsupported operation"));
    assert!(
        v["value"]["message"]
            .as_str()
            .unwrap()
            .contains("mobile: clearKeychains")
    );
    let (st, v) = exec(
        &addr,
        &sid,
        "mobile: terminateApp",
        json!({"bundleId": "com.harness.clerkconvex"}),
    );
    assert_eq!((st, err(&v).as_str()), (400, "invalid argument"));
    let (st, v) = exec(&addr, &sid, "return 1", json!({}));
    assert_eq!((st, err(&v).as_str()), (500, "unsupported operation"));
    let (st, v) = http(
        &addr,
        "POST",
        &format!("/session/{sid}/timeouts"),
        Some(&json!({"script": 1000})),
    );
    assert_eq!(
        (st, err(&v).as_str()),
        (405, "unknown method"),
        "as Appium's native drivers answer"
    );
    // A stale element: the sign-in field disappears once signed in.
    let sign_in = wait_for(&addr, &sid, "screen-sign-in");
    exec(
        &addr,
        &sid,
        "mobile: terminateApp",
        json!({"appId": "com.harness.clerkconvex"}),
    );
    let (st, v) = http(&addr, "GET", &format!("/session/{sid}/element/{sign_in}/text"), None);
    assert_eq!((st, err(&v).as_str()), (404, "stale element reference"));
    let (st, v) = http(
        &addr,
        "POST",
        &format!("/session/{sid}/se/log"),
        Some(&json!({"type": "syslog"})),
    );
    assert_eq!((st, err(&v).as_str()), (400, "invalid argument"));
    let (st, v) = http(&addr, "POST", &format!("/session/{sid}"), Some(&json!({})));
    assert_eq!(st, 405, "{v}");
    assert_eq!(http(&addr, "DELETE", &format!("/session/{sid}"), None).0, 200);
    assert_eq!(http(&addr, "DELETE", &format!("/session/{sid}"), None).0, 404);
}

#[test]
fn same_udid_keeps_its_keychain_across_sessions_and_is_exclusive() {
    let addr = start_farm(3);
    let caps = json!({"platformName": "iOS", "appium:udid": "phone-1", "appium:noReset": true, "harness:options": {"latencyScale": 0.0, "restoreRate": 1.0}});
    let sid = new_session(&addr, caps.clone());
    let (st, _) = http(
        &addr,
        "POST",
        "/session",
        Some(&json!({"capabilities": {"alwaysMatch": caps.clone()}})),
    );
    assert_eq!(st, 500, "a device serves one session at a time");
    let f = wait_for(&addr, &sid, "auth-identifier");
    http(
        &addr,
        "POST",
        &format!("/session/{sid}/element/{f}/value"),
        Some(&json!({"text": "a@b.c"})),
    );
    let c = wait_for(&addr, &sid, "auth-continue");
    http(&addr, "POST", &format!("/session/{sid}/element/{c}/click"), None);
    let p = wait_for(&addr, &sid, "auth-password");
    http(
        &addr,
        "POST",
        &format!("/session/{sid}/element/{p}/value"),
        Some(&json!({"text": "pw"})),
    );
    let c = wait_for(&addr, &sid, "auth-continue");
    http(&addr, "POST", &format!("/session/{sid}/element/{c}/click"), None);
    wait_for(&addr, &sid, "screen-home");
    http(&addr, "DELETE", &format!("/session/{sid}"), None);
    // A new session on the same device, noReset: the app restores the session from the keychain.
    let sid = new_session(&addr, caps);
    exec(
        &addr,
        &sid,
        "mobile: terminateApp",
        json!({"bundleId": "com.harness.clerkconvex"}),
    );
    exec(
        &addr,
        &sid,
        "mobile: launchApp",
        json!({"bundleId": "com.harness.clerkconvex"}),
    );
    wait_for(&addr, &sid, "screen-home");
    let (_, v) = exec(&addr, &sid, "mobile: virtualSecureStore", json!({}));
    assert!(
        v["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["key"] == "__clerk_client_jwt" && e["service"] == "app:no-auth")
    );
    // W3C pointer tap by coordinates on the sign-out button, then the sign-in screen.
    let so = wait_for(&addr, &sid, "sign-out");
    let (_, r) = http(&addr, "GET", &format!("/session/{sid}/element/{so}/rect"), None);
    let (x, y) = (
        r["value"]["x"].as_i64().unwrap() + 5,
        r["value"]["y"].as_i64().unwrap() + 5,
    );
    let tap = json!({"actions": [{"type": "pointer", "id": "finger", "parameters": {"pointerType": "touch"}, "actions": [
        {"type": "pointerMove", "duration": 0, "x": x, "y": y}, {"type": "pointerDown", "button": 0},
        {"type": "pause", "duration": 50}, {"type": "pointerUp", "button": 0}]}]});
    assert_eq!(
        http(&addr, "POST", &format!("/session/{sid}/actions"), Some(&tap)).0,
        200
    );
    wait_for(&addr, &sid, "screen-sign-in");
    // Key actions type into the focused field.
    let f = wait_for(&addr, &sid, "auth-identifier");
    http(&addr, "POST", &format!("/session/{sid}/element/{f}/click"), None);
    let keys = json!({"actions": [{"type": "key", "id": "kb", "actions": [
        {"type": "keyDown", "value": "h"}, {"type": "keyUp", "value": "h"}, {"type": "keyDown", "value": "i"}, {"type": "keyUp", "value": "i"}]}]});
    http(&addr, "POST", &format!("/session/{sid}/actions"), Some(&keys));
    let (_, t) = http(&addr, "GET", &format!("/session/{sid}/element/{f}/text"), None);
    assert_eq!(t["value"], "hi");
    let (_, src) = http(&addr, "GET", &format!("/session/{sid}/source"), None);
    assert!(src["value"].as_str().unwrap().contains("XCUIElementTypeTextField"));
    let (_, shot) = http(&addr, "GET", &format!("/session/{sid}/screenshot"), None);
    assert!(shot["value"].as_str().unwrap().starts_with("iVBORw0KGgo"), "base64 PNG");
    http(&addr, "DELETE", &format!("/session/{sid}"), None);
}

/// A signed-in session on a fresh device (latencies near zero).
fn signed_in(addr: &str, platform: &str) -> String {
    let sid = new_session(
        addr,
        json!({"platformName": platform, "harness:options": {"latencyScale": 0.02}}),
    );
    for (id, text) in [
        ("auth-identifier", Some("a@b.c")),
        ("auth-continue", None),
        ("auth-password", Some("pw")),
        ("auth-continue", None),
    ] {
        let e = wait_for(addr, &sid, id);
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
    wait_for(addr, &sid, "screen-home");
    sid
}

fn text_of(addr: &str, sid: &str, test_id: &str) -> String {
    let e = wait_for(addr, sid, test_id);
    http(addr, "GET", &format!("/session/{sid}/element/{e}/text"), None).1["value"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn visible(addr: &str, sid: &str, test_id: &str) -> bool {
    find(addr, sid, "accessibility id", test_id).0 == 200
}

/// A W3C pointer drag from (x0, y0) to (x1, y1) in the platform's units.
fn drag(addr: &str, sid: &str, from: (i64, i64), to: (i64, i64)) -> u16 {
    let actions = json!({"actions": [{"type": "pointer", "id": "finger", "parameters": {"pointerType": "touch"}, "actions": [
        {"type": "pointerMove", "duration": 0, "x": from.0, "y": from.1},
        {"type": "pointerDown", "button": 0},
        {"type": "pointerMove", "duration": 400, "x": to.0, "y": to.1},
        {"type": "pointerUp", "button": 0}
    ]}]});
    http(addr, "POST", &format!("/session/{sid}/actions"), Some(&actions)).0
}

#[test]
fn swipes_and_scroll_gestures_reveal_content_below_the_fold() {
    let addr = start_farm(3);
    // iOS: W3C drags in points, then XCUITest's `mobile: scroll`.
    let sid = signed_in(&addr, "iOS");
    assert!(!visible(&addr, &sid, "home-footer"));
    for _ in 0..5 {
        assert_eq!(drag(&addr, &sid, (195, 750), (195, 150)), 200);
    }
    assert!(visible(&addr, &sid, "home-footer"), "the footer after dragging up");
    assert!(!visible(&addr, &sid, "session-id"), "the top scrolled away");
    for _ in 0..5 {
        assert_eq!(exec(&addr, &sid, "mobile: scroll", json!({"direction": "up"})).0, 200);
    }
    assert!(visible(&addr, &sid, "session-id"));
    assert_eq!(exec(&addr, &sid, "mobile: scroll", json!({})).0, 400);
    // Android: UiAutomator2's scrollGesture answers whether it can scroll further.
    let sid = signed_in(&addr, "Android");
    let area = json!({"left": 0, "top": 300, "width": 1080, "height": 1800, "direction": "down", "percent": 1.0});
    let mut moved = 0;
    while exec(&addr, &sid, "mobile: scrollGesture", area.clone()).1["value"] == true {
        moved += 1;
        assert!(moved < 20, "scrolling never ends");
    }
    assert!(moved >= 1);
    assert!(visible(&addr, &sid, "home-footer"));
}

#[test]
fn orientation_location_appearance_and_airplane_mode_over_the_protocol() {
    let addr = start_farm(4);
    let sid = signed_in(&addr, "iOS");
    let url = |p: &str| format!("/session/{sid}/{p}");
    assert_eq!(http(&addr, "GET", &url("orientation"), None).1["value"], "PORTRAIT");
    assert_eq!(
        http(
            &addr,
            "POST",
            &url("orientation"),
            Some(&json!({"orientation": "LANDSCAPE"}))
        )
        .0,
        200
    );
    assert_eq!(http(&addr, "GET", &url("window/rect"), None).1["value"]["width"], 844);
    assert_eq!(
        http(
            &addr,
            "POST",
            &url("rotation"),
            Some(&json!({"x": 0, "y": 0, "z": 180}))
        )
        .0,
        200
    );
    assert_eq!(http(&addr, "GET", &url("rotation"), None).1["value"]["z"], 180);
    assert_eq!(
        http(
            &addr,
            "POST",
            &url("orientation"),
            Some(&json!({"orientation": "SIDEWAYS"}))
        )
        .0,
        400
    );

    let loc = json!({"location": {"latitude": 52.3676, "longitude": 4.9041, "altitude": 2.0}});
    assert_eq!(http(&addr, "POST", &url("location"), Some(&loc)).0, 200);
    assert_eq!(
        http(&addr, "GET", &url("location"), None).1["value"]["latitude"],
        52.3676
    );
    assert_eq!(
        exec(&addr, &sid, "mobile: getSimulatedLocation", json!({})).1["value"]["longitude"],
        4.9041
    );
    assert_eq!(
        http(
            &addr,
            "POST",
            &url("location"),
            Some(&json!({"location": {"latitude": 91, "longitude": 0}}))
        )
        .0,
        400
    );

    assert_eq!(
        exec(&addr, &sid, "mobile: getAppearance", json!({})).1["value"]["style"],
        "light"
    );
    assert_eq!(
        exec(&addr, &sid, "mobile: setAppearance", json!({"style": "dark"})).0,
        200
    );
    assert_eq!(
        exec(&addr, &sid, "mobile: getAppearance", json!({})).1["value"]["style"],
        "dark"
    );
    assert_eq!(text_of(&addr, &sid, "color-scheme"), "dark");

    // Android: airplane mode through setConnectivity and `cmd connectivity`; the app's network
    // follows it, and comes back when it ends.
    let sid = signed_in(&addr, "Android");
    let conn = || exec(&addr, &sid, "mobile: getConnectivity", json!({})).1["value"].clone();
    assert_eq!(conn()["airplaneMode"], false);
    assert_eq!(
        exec(&addr, &sid, "mobile: setConnectivity", json!({"airplaneMode": true})).0,
        200
    );
    assert_eq!(conn(), json!({"wifi": false, "data": false, "airplaneMode": true}));
    let shell = |args: Value| exec(&addr, &sid, "mobile: shell", json!({"command": "cmd", "args": args}));
    assert_eq!(shell(json!(["connectivity", "airplane-mode"])).1["value"], "enabled");
    assert_eq!(shell(json!(["connectivity", "airplane-mode", "disable"])).0, 200);
    assert_eq!(conn(), json!({"wifi": true, "data": true, "airplaneMode": false}));
    assert_eq!(shell(json!(["uimode", "night", "yes"])).1["value"], "Night mode: yes");
    assert_eq!(text_of(&addr, &sid, "color-scheme"), "dark");
    assert_eq!(shell(json!(["rm", "-rf", "/"])).0, 500, "anything else is refused");
}

#[test]
fn media_and_screen_recordings() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let addr = start_farm(5);
    let sid = signed_in(&addr, "Android");
    let url = |p: &str| format!("/session/{sid}/{p}");
    let (st, v) = exec(
        &addr,
        &sid,
        "mobile: pushFile",
        json!({"remotePath": "/sdcard/Pictures/cat.png", "payload": b64.encode(b"not really a png")}),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["value"]["bytes"], 16);
    let state = exec(&addr, &sid, "mobile: virtualState", json!({})).1;
    assert_eq!(state["value"]["media"][0]["name"], "cat.png", "{state}");
    let (st, _) = http(
        &addr,
        "POST",
        &url("appium/device/push_file"),
        Some(&json!({"path": "/sdcard/notes.txt", "data": b64.encode(b"x")})),
    );
    assert_eq!(st, 500, "only media goes to the library");

    assert_eq!(
        http(&addr, "POST", &url("appium/start_recording_screen"), Some(&json!({}))).0,
        200
    );
    let out = wait_for(&addr, &sid, "sign-out");
    http(&addr, "POST", &format!("/session/{sid}/element/{out}/click"), None);
    wait_for(&addr, &sid, "screen-sign-in");
    let (st, v) = http(&addr, "POST", &url("appium/stop_recording_screen"), Some(&json!({})));
    assert_eq!(st, 200);
    let gif = b64.decode(v["value"].as_str().unwrap()).unwrap();
    assert_eq!(&gif[..6], b"GIF89a");
    let frames = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(&gif))
        .map(|d| image::AnimationDecoder::into_frames(d).count())
        .unwrap();
    assert!(frames >= 2, "home, then the sign-in screen: {frames} frames");
    // Nothing recording: an empty answer, as Appium gives.
    assert_eq!(
        http(&addr, "POST", &url("appium/stop_recording_screen"), Some(&json!({}))).1["value"],
        ""
    );
}

/// `clearKeychain` through the Appium backend on a virtual Android device: the app is stopped
/// and its SecureStore.xml deleted (`mobile: deleteFile`), so the next launch is signed out.
#[tokio::test(flavor = "multi_thread")]
async fn clear_keychain_on_virtual_android_deletes_the_secure_store() {
    use harness::driver::Device;
    use harness::driver::appium::{AppiumDevice, SessionSpec};
    use harness::platform::Platform;

    let addr = start_farm(5);
    let caps = json!({"platformName": "Android", "appium:udid": "android-1", "appium:noReset": true,
        "harness:options": {"latencyScale": 0.0, "restoreRate": 1.0}});
    let signed_in = {
        let (addr, caps) = (addr.clone(), caps.clone());
        move || {
            let sid = new_session(&addr, caps);
            sign_in(&addr, &sid);
            http(&addr, "DELETE", &format!("/session/{sid}"), None);
        }
    };
    tokio::task::spawn_blocking(signed_in).await.unwrap();
    let spec = SessionSpec {
        url: format!("http://{addr}"),
        platform: Platform::Android,
        app_id: "com.harness.clerkconvex".into(),
        capabilities: caps.as_object().unwrap().clone(),
        is_virtual: true,
    };
    let mut d = AppiumDevice::connect(&spec).await.unwrap();
    let keys = |entries: &[(String, String, String)]| entries.iter().map(|e| e.0.clone()).collect::<Vec<_>>();
    let before = d.secure_storage().await.unwrap();
    assert!(
        keys(&before.entries).contains(&"__clerk_client_jwt".to_string()),
        "{before:?}"
    );
    d.clear_keychain().await.unwrap();
    // Clerk's device token lives in another SharedPreferences file (clerk_preferences).
    assert_eq!(keys(&d.secure_storage().await.unwrap().entries), ["DEVICE_TOKEN"]);
    assert_eq!(d.app_state().await.unwrap(), 1, "the app was stopped");
    d.launch_app().await.unwrap();
    // The relaunch settles on a screen: the sign-in screen.
    let deadline = Instant::now() + Duration::from_secs(10);
    let source = loop {
        let source = d.source().await.unwrap();
        if source.contains("screen-sign-in") || source.contains("screen-home") || Instant::now() > deadline {
            break source;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        source.contains("screen-sign-in"),
        "signed out after the relaunch: {source}"
    );
    Box::new(d).quit().await.unwrap();
}

#[test]
fn two_farms_with_one_seed_give_different_session_ids() {
    // Behind a Grid the hub routes by session id: ids must not repeat across farms.
    let (a, b) = (start_farm(1), start_farm(1));
    let caps = json!({"platformName": "Android"});
    let ids: Vec<String> = [&a, &b, &a, &b].iter().map(|f| new_session(f, caps.clone())).collect();
    let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), 4, "{ids:?}");
}
