//! The virtual farm's Appium-compatible HTTP server (W3C WebDriver + Appium's `mobile:`
//! methods), so the harness — and any Appium client — drives virtual devices through
//! exactly the code path it uses for a real Appium server.
//!
//! Every session is one virtual device. A session that names `appium:udid` gets that
//! device, with its storage kept across sessions; otherwise a fresh device is created and
//! dropped with the session. Errors are W3C error JSON with Appium's HTTP statuses.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, Value, json};

use crate::farm::app::{self, BUNDLE_ID, Device};
use crate::farm::find::{self, FindError};
use crate::farm::knobs::VirtualKnobs;
use crate::farm::settings::{self, Location};
use crate::farm::ui::{Kind, Rect, UiTree};
use crate::farm::{render, source};
use crate::flow::model::Orientation;
use crate::iso8601::format_ms as iso8601;
use crate::platform::Platform;

/// The W3C element key.
pub const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// Android points → pixels (440 dpi).
const DENSITY: f64 = 2.75;

/// A W3C error: HTTP status, error code, message.
#[derive(Debug)]
pub struct WdError {
    status: StatusCode,
    error: &'static str,
    message: String,
}

impl WdError {
    fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> Self {
        WdError {
            status,
            error,
            message: message.into(),
        }
    }
    fn invalid_argument(m: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid argument", m)
    }
    fn no_such_element(m: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "no such element", m)
    }
    fn stale(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "stale element reference",
            format!("the element '{id}' is no longer on the screen"),
        )
    }
    fn unsupported(m: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "unsupported operation", m)
    }
    fn not_created(m: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "session not created", m)
    }
    fn invalid_session(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid session id",
            format!("a session is either terminated or not started: '{id}'"),
        )
    }
}

impl IntoResponse for WdError {
    fn into_response(self) -> Response {
        let body = json!({"value": {"error": self.error, "message": self.message, "stacktrace": ""}});
        (self.status, Json(body)).into_response()
    }
}

type WdResult = Result<Json<Value>, WdError>;

fn ok(v: Value) -> WdResult {
    Ok(Json(json!({ "value": v })))
}

struct SessionInfo {
    device: Arc<Mutex<Device>>,
    udid: String,
    platform: Platform,
    capabilities: Value,
    /// Created for this session only (no `appium:udid`): dropped when it ends.
    ephemeral: bool,
    implicit_wait: Duration,
    /// Last pointer position of W3C actions, in points.
    pointer: (i32, i32),
}

/// Everything the server holds: devices by udid and sessions by id.
pub struct Farm {
    seed: u64,
    devices: Mutex<HashMap<String, Arc<Mutex<Device>>>>,
    sessions: Mutex<HashMap<String, SessionInfo>>,
    counter: AtomicU64,
    /// Sessions created since the farm started (`GET /status`: `sessionsCreated`).
    created: AtomicU64,
    /// Random per farm: session ids must differ between farms (behind a Grid, a hub routes
    /// by session id), whatever their seeds. Results never depend on a session id.
    session_nonce: u64,
}

impl Farm {
    pub fn new(seed: u64) -> Arc<Self> {
        Arc::new(Farm {
            seed,
            devices: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
            counter: AtomicU64::new(1),
            created: AtomicU64::new(0),
            session_nonce: {
                use std::hash::{BuildHasher, Hasher};
                // RandomState is keyed randomly per instance by the standard library.
                let mut h = std::collections::hash_map::RandomState::new().build_hasher();
                h.write_u64(seed);
                h.finish()
            },
        })
    }

    /// Number of open sessions.
    pub fn session_count(&self) -> usize {
        self.sessions.lock().map(|s| s.len()).unwrap_or(0)
    }
}

/// The router with every route of the protocol.
pub fn router(farm: Arc<Farm>) -> Router {
    let s = "/session/{sid}";
    Router::new()
        .route("/status", get(status))
        .route("/session", post(new_session))
        .route("/appium/sessions", get(list_sessions))
        .route(s, delete(delete_session).get(get_session))
        .route(&format!("{s}/timeouts"), post(set_timeouts).get(get_timeouts))
        .route(&format!("{s}/element"), post(find_one))
        .route(&format!("{s}/elements"), post(find_many))
        .route(&format!("{s}/element/active"), get(active_element))
        .route(&format!("{s}/element/{{eid}}/element"), post(find_one_from))
        .route(&format!("{s}/element/{{eid}}/elements"), post(find_many_from))
        .route(&format!("{s}/element/{{eid}}/click"), post(click))
        .route(&format!("{s}/element/{{eid}}/value"), post(send_keys))
        .route(&format!("{s}/element/{{eid}}/clear"), post(clear))
        .route(&format!("{s}/element/{{eid}}/text"), get(text))
        .route(&format!("{s}/element/{{eid}}/displayed"), get(displayed))
        .route(&format!("{s}/element/{{eid}}/enabled"), get(enabled))
        .route(&format!("{s}/element/{{eid}}/selected"), get(selected))
        .route(&format!("{s}/element/{{eid}}/rect"), get(rect))
        .route(&format!("{s}/element/{{eid}}/name"), get(tag_name))
        .route(&format!("{s}/element/{{eid}}/attribute/{{name}}"), get(attribute))
        .route(&format!("{s}/element/{{eid}}/screenshot"), get(screenshot))
        .route(&format!("{s}/source"), get(page_source))
        .route(&format!("{s}/screenshot"), get(screenshot_all))
        .route(&format!("{s}/window/rect"), get(window_rect))
        .route(&format!("{s}/actions"), post(actions).delete(release_actions))
        .route(&format!("{s}/execute/sync"), post(execute))
        .route(&format!("{s}/orientation"), post(set_orientation).get(get_orientation))
        .route(&format!("{s}/rotation"), post(set_rotation).get(get_rotation))
        .route(&format!("{s}/location"), post(set_location).get(get_location))
        .route(&format!("{s}/appium/device/push_file"), post(push_file))
        .route(&format!("{s}/appium/start_recording_screen"), post(start_recording))
        .route(&format!("{s}/appium/stop_recording_screen"), post(stop_recording))
        .route(&format!("{s}/se/log"), post(get_log))
        .route(&format!("{s}/se/log/types"), get(log_types))
        .route(&format!("{s}/appium/device/activate_app"), post(activate_app))
        .route(&format!("{s}/appium/device/terminate_app"), post(terminate_app))
        .route(&format!("{s}/appium/device/app_state"), post(app_state))
        .fallback(unknown_command)
        .method_not_allowed_fallback(unknown_method)
        .with_state(farm)
}

/// Serves on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, farm: Arc<Farm>) -> std::io::Result<()> {
    axum::serve(listener, router(farm)).await
}

async fn unknown_command(uri: axum::http::Uri) -> WdError {
    WdError::new(
        StatusCode::NOT_FOUND,
        "unknown command",
        format!(
            "the requested resource could not be found, or a request was received using an HTTP method that is not supported by the mapped resource: {}",
            uri.path()
        ),
    )
}

async fn unknown_method(method: axum::http::Method, uri: axum::http::Uri) -> WdError {
    WdError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "unknown method",
        format!("{method} is not supported for {}", uri.path()),
    )
}

async fn status(State(farm): State<Arc<Farm>>) -> WdResult {
    ok(json!({
        "ready": true,
        "sessionsCreated": farm.created.load(Ordering::SeqCst),
        "message": "harness virtual farm is ready to accept commands",
        "build": {"version": env!("CARGO_PKG_VERSION"), "name": "harness-virtual-farm"}
    }))
}

/// Parses a request body as JSON, with W3C's error for anything else.
fn body(bytes: &[u8]) -> Result<Value, WdError> {
    if bytes.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(bytes).map_err(|e| WdError::invalid_argument(format!("the request body is not JSON: {e}")))
}

fn merged_capabilities(v: &Value) -> Result<Vec<Map<String, Value>>, WdError> {
    let caps = v
        .get("capabilities")
        .ok_or_else(|| WdError::invalid_argument("the new-session request has no 'capabilities' (W3C)"))?;
    let always = match caps.get("alwaysMatch") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(WdError::invalid_argument("'alwaysMatch' must be an object")),
    };
    let first: Vec<Map<String, Value>> = match caps.get("firstMatch") {
        None | Some(Value::Null) => vec![Map::new()],
        Some(Value::Array(a)) if a.is_empty() => vec![Map::new()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_object()
                    .cloned()
                    .ok_or_else(|| WdError::invalid_argument("'firstMatch' entries must be objects"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(WdError::invalid_argument("'firstMatch' must be a list")),
    };
    let mut out = vec![];
    for f in first {
        let mut m = always.clone();
        for (k, v) in f {
            if m.contains_key(&k) {
                return Err(WdError::invalid_argument(format!(
                    "capability '{k}' is in both alwaysMatch and firstMatch"
                )));
            }
            m.insert(k, v);
        }
        out.push(m);
    }
    Ok(out)
}

fn cap<'a>(m: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    m.get(&format!("appium:{name}")).or_else(|| m.get(name))
}

fn cap_bool(m: &Map<String, Value>, name: &str, default: bool) -> bool {
    cap(m, name).and_then(Value::as_bool).unwrap_or(default)
}

async fn new_session(State(farm): State<Arc<Farm>>, bytes: axum::body::Bytes) -> WdResult {
    let req = body(&bytes)?;
    let candidates = merged_capabilities(&req)?;
    let mut last_err = None;
    for caps in candidates {
        match create(&farm, caps) {
            Ok(v) => return ok(v),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or_else(|| WdError::not_created("no capabilities matched")))
}

fn create(farm: &Farm, caps: Map<String, Value>) -> Result<Value, WdError> {
    let platform = match caps
        .get("platformName")
        .and_then(Value::as_str)
        .map(str::to_lowercase)
        .as_deref()
    {
        Some("ios") => Platform::Ios,
        Some("android") => Platform::Android,
        Some(other) => {
            return Err(WdError::not_created(format!(
                "platformName '{other}' is not supported by the virtual farm: use iOS or Android"
            )));
        }
        None => {
            return Err(WdError::invalid_argument(
                "the 'platformName' capability is required (iOS or Android)",
            ));
        }
    };
    let expected = match platform {
        Platform::Ios => "XCUITest",
        Platform::Android => "UiAutomator2",
    };
    if let Some(a) = cap(&caps, "automationName").and_then(Value::as_str)
        && !a.eq_ignore_ascii_case(expected)
    {
        return Err(WdError::not_created(format!(
            "virtual {} devices are driven by {expected}, not '{a}'",
            platform.name()
        )));
    }
    let app_key = match platform {
        Platform::Ios => "bundleId",
        Platform::Android => "appPackage",
    };
    if let Some(app) = cap(&caps, app_key).and_then(Value::as_str)
        && app != BUNDLE_ID
    {
        return Err(WdError::not_created(format!(
            "app '{app}' is not installed on the virtual device (it has '{BUNDLE_ID}')"
        )));
    }
    let knobs: VirtualKnobs = match caps.get("harness:options") {
        None => VirtualKnobs::default(),
        Some(v) => {
            serde_json::from_value(v.clone()).map_err(|e| WdError::invalid_argument(format!("harness:options: {e}")))?
        }
    };
    knobs.validate().map_err(WdError::invalid_argument)?;
    let n = farm.counter.fetch_add(1, Ordering::Relaxed);
    let (udid, ephemeral) = match cap(&caps, "udid").and_then(Value::as_str) {
        Some(u) => (u.to_string(), false),
        None => (format!("virtual-{}-{n}", platform.name().to_lowercase()), true),
    };
    let sid = {
        let mut r = crate::rng::Rng::new(farm.session_nonce ^ crate::rng::Rng::device_seed(farm.seed, &n.to_string()));
        let (a, b) = (r.next_u64(), r.next_u64());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    };
    let mut sessions = farm
        .sessions
        .lock()
        .map_err(|_| WdError::not_created("farm state poisoned"))?;
    if sessions.values().any(|s| s.udid == udid) {
        return Err(WdError::not_created(format!(
            "device '{udid}' is already in use by another session"
        )));
    }
    let device = {
        let mut devices = farm
            .devices
            .lock()
            .map_err(|_| WdError::not_created("farm state poisoned"))?;
        devices
            .entry(udid.clone())
            .or_insert_with(|| Arc::new(Mutex::new(Device::new(&udid, platform, knobs.clone(), farm.seed))))
            .clone()
    };
    {
        let mut d = device
            .lock()
            .map_err(|_| WdError::not_created("device state poisoned"))?;
        if d.platform != platform {
            return Err(WdError::not_created(format!(
                "device '{udid}' is a virtual {} device",
                d.platform.name()
            )));
        }
        if caps.contains_key("harness:options") {
            d.knobs = knobs;
        }
        if cap_bool(&caps, "fullReset", false) {
            d.clear_app();
            if platform == Platform::Ios {
                d.clear_keychains();
            }
        } else if !cap_bool(&caps, "noReset", false) {
            d.clear_app();
        }
        if cap_bool(&caps, "autoLaunch", true) {
            d.launch();
        }
        d.sync_keychain_file();
    }
    let mut returned = caps.clone();
    returned.insert("platformName".into(), json!(platform.name()));
    returned.insert("appium:automationName".into(), json!(expected));
    returned.insert("appium:udid".into(), json!(udid));
    returned.insert(
        "appium:deviceName".into(),
        json!(device.lock().map(|d| d.name.clone()).unwrap_or_default()),
    );
    returned.insert(
        "appium:platformVersion".into(),
        json!(match platform {
            Platform::Ios => "18.2",
            Platform::Android => "15",
        }),
    );
    let capabilities = Value::Object(returned);
    sessions.insert(
        sid.clone(),
        SessionInfo {
            device,
            udid,
            platform,
            capabilities: capabilities.clone(),
            ephemeral,
            implicit_wait: Duration::ZERO,
            pointer: (0, 0),
        },
    );
    farm.created.fetch_add(1, Ordering::SeqCst);
    tracing::debug!(session = %sid, "virtual session created");
    Ok(json!({"sessionId": sid, "capabilities": capabilities}))
}

async fn list_sessions(State(farm): State<Arc<Farm>>) -> WdResult {
    let sessions = farm
        .sessions
        .lock()
        .map_err(|_| WdError::unsupported("farm state poisoned"))?;
    let list: Vec<Value> = sessions
        .iter()
        .map(|(id, s)| json!({"id": id, "capabilities": s.capabilities}))
        .collect();
    ok(Value::Array(list))
}

async fn delete_session(State(farm): State<Arc<Farm>>, Path(sid): Path<String>) -> WdResult {
    let removed = farm.sessions.lock().ok().and_then(|mut s| s.remove(&sid));
    match removed {
        None => Err(WdError::invalid_session(&sid)),
        Some(s) => {
            if s.ephemeral
                && let Ok(mut d) = farm.devices.lock()
            {
                d.remove(&s.udid);
            }
            ok(Value::Null)
        }
    }
}

/// Runs `f` with the session's info and its device locked.
fn with_session<T>(
    farm: &Farm,
    sid: &str,
    f: impl FnOnce(&mut SessionInfo, &mut Device) -> Result<T, WdError>,
) -> Result<T, WdError> {
    let mut sessions = farm
        .sessions
        .lock()
        .map_err(|_| WdError::unsupported("farm state poisoned"))?;
    let info = sessions.get_mut(sid).ok_or_else(|| WdError::invalid_session(sid))?;
    let device = info.device.clone();
    let mut d = device
        .lock()
        .map_err(|_| WdError::unsupported("device state poisoned"))?;
    let result = f(info, &mut d);
    // The keychain file is written outside the farm-wide lock: other sessions go on.
    drop(sessions);
    d.sync_keychain_file();
    if d.settings.recorder.is_some() {
        let (at, tree) = (d.now(), d.ui());
        if let Some(r) = &mut d.settings.recorder {
            r.observe(at, &tree);
        }
    }
    result
}

async fn get_session(State(farm): State<Arc<Farm>>, Path(sid): Path<String>) -> WdResult {
    let caps = with_session(&farm, &sid, |s, _| Ok(s.capabilities.clone()))?;
    ok(caps)
}

async fn set_timeouts(State(farm): State<Arc<Farm>>, Path(sid): Path<String>, bytes: axum::body::Bytes) -> WdResult {
    let v = body(&bytes)?;
    with_session(&farm, &sid, |s, _| {
        if let Some(ms) = v.get("implicit") {
            let ms = ms
                .as_u64()
                .ok_or_else(|| WdError::invalid_argument("'implicit' must be a whole number of ms"))?;
            s.implicit_wait = Duration::from_millis(ms);
        }
        for k in ["script", "pageLoad"] {
            if v.get(k).is_some() {
                // Appium's native drivers do not implement these either.
                return Err(WdError::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "unknown method",
                    format!("Not implemented yet for {k}"),
                ));
            }
        }
        Ok(())
    })?;
    ok(Value::Null)
}

async fn get_timeouts(State(farm): State<Arc<Farm>>, Path(sid): Path<String>) -> WdResult {
    let ms = with_session(&farm, &sid, |s, _| Ok(s.implicit_wait.as_millis() as u64))?;
    ok(json!({"implicit": ms, "script": null, "pageLoad": null}))
}

fn element_ref(id: &str) -> Value {
    json!({ ELEMENT_KEY: id, "ELEMENT": id })
}

fn locator(v: &Value) -> Result<(find::Strategy, String), WdError> {
    let using = v
        .get("using")
        .and_then(Value::as_str)
        .ok_or_else(|| WdError::invalid_argument("'using' is required"))?;
    let value = v
        .get("value")
        .and_then(Value::as_str)
        .ok_or_else(|| WdError::invalid_argument("'value' is required"))?;
    let strategy = find::parse_strategy(using).ok_or_else(|| {
        WdError::new(
            StatusCode::BAD_REQUEST,
            "invalid selector",
            format!(
                "locator strategy '{using}' is not supported; use 'accessibility id', 'id', 'xpath' or 'class name'"
            ),
        )
    })?;
    Ok((strategy, value.to_string()))
}

/// Finds elements, polling until the session's implicit wait runs out.
async fn find_elements(farm: &Farm, sid: &str, from: Option<String>, v: Value, many: bool) -> WdResult {
    let (strategy, value) = locator(&v)?;
    let started = Instant::now();
    loop {
        let (found, wait) = with_session(farm, sid, |s, d| {
            let tree = d.ui();
            let root = match &from {
                Some(eid) => tree.resolve(eid).ok_or_else(|| WdError::stale(eid))?,
                None => vec![],
            };
            let paths = find::find_all(&tree, &root, strategy, &value).map_err(|e| match e {
                FindError::InvalidSelector(m) => WdError::new(StatusCode::BAD_REQUEST, "invalid selector", m),
            })?;
            let ids: Vec<Value> = paths
                .iter()
                .filter_map(|p| tree.element_id(p))
                .map(|id| element_ref(&id))
                .collect();
            Ok((ids, s.implicit_wait))
        })?;
        if !found.is_empty() || started.elapsed() >= wait {
            if many {
                return ok(Value::Array(found));
            }
            return match found.into_iter().next() {
                Some(first) => ok(first),
                None => Err(WdError::no_such_element(format!(
                    "an element could not be located on the page using the given search parameters ({strategy:?}: '{value}')"
                ))),
            };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn find_one(State(farm): State<Arc<Farm>>, Path(sid): Path<String>, bytes: axum::body::Bytes) -> WdResult {
    find_elements(&farm, &sid, None, body(&bytes)?, false).await
}
async fn find_many(State(farm): State<Arc<Farm>>, Path(sid): Path<String>, bytes: axum::body::Bytes) -> WdResult {
    find_elements(&farm, &sid, None, body(&bytes)?, true).await
}
async fn find_one_from(
    State(farm): State<Arc<Farm>>,
    Path((sid, eid)): Path<(String, String)>,
    bytes: axum::body::Bytes,
) -> WdResult {
    find_elements(&farm, &sid, Some(eid), body(&bytes)?, false).await
}
async fn find_many_from(
    State(farm): State<Arc<Farm>>,
    Path((sid, eid)): Path<(String, String)>,
    bytes: axum::body::Bytes,
) -> WdResult {
    find_elements(&farm, &sid, Some(eid), body(&bytes)?, true).await
}

async fn active_element(State(farm): State<Arc<Farm>>, Path(sid): Path<String>) -> WdResult {
    let id = with_session(&farm, &sid, |_, d| {
        let tree = d.ui();
        let mut found = None;
        tree.root.walk(&mut vec![], &mut |n, p| {
            if n.focused && found.is_none() {
                found = tree.element_id(p);
            }
        });
        found.ok_or_else(|| WdError::no_such_element("no element has the focus"))
    })?;
    ok(element_ref(&id))
}

/// Runs `f` on the element `eid` of the current screen.
fn with_element<T>(
    farm: &Farm,
    sid: &str,
    eid: &str,
    f: impl FnOnce(&mut SessionInfo, &mut Device, &UiTree, &[usize]) -> Result<T, WdError>,
) -> Result<T, WdError> {
    with_session(farm, sid, |s, d| {
        let tree = d.ui();
        let path = tree.resolve(eid).ok_or_else(|| WdError::stale(eid))?;
        f(s, d, &tree, &path)
    })
}

fn node<'a>(tree: &'a UiTree, path: &[usize]) -> &'a crate::farm::ui::UiNode {
    tree.root.at(path).expect("resolved path")
}

async fn click(State(farm): State<Arc<Farm>>, Path((sid, eid)): Path<(String, String)>) -> WdResult {
    with_element(&farm, &sid, &eid, |_, d, tree, path| {
        let n = node(tree, path);
        if n.enabled {
            d.tap(n.test_id.as_deref());
        }
        Ok(())
    })?;
    ok(Value::Null)
}

fn keys_text(v: &Value) -> Result<String, WdError> {
    if let Some(t) = v.get("text").and_then(Value::as_str) {
        return Ok(t.to_string());
    }
    match v.get("value") {
        Some(Value::Array(a)) => Ok(a.iter().filter_map(Value::as_str).collect()),
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(WdError::invalid_argument("send keys needs 'text' (or a 'value' list)")),
    }
}

async fn send_keys(
    State(farm): State<Arc<Farm>>,
    Path((sid, eid)): Path<(String, String)>,
    bytes: axum::body::Bytes,
) -> WdResult {
    let text = keys_text(&body(&bytes)?)?;
    with_element(&farm, &sid, &eid, |_, d, tree, path| {
        let n = node(tree, path);
        match (&n.kind, &n.test_id) {
            (Kind::TextField | Kind::SecureField, Some(id)) if n.enabled => {
                d.type_into(id, &text);
                Ok(())
            }
            _ => Err(WdError::new(
                StatusCode::BAD_REQUEST,
                "invalid element state",
                "the element is not an enabled text field",
            )),
        }
    })?;
    ok(Value::Null)
}

async fn clear(State(farm): State<Arc<Farm>>, Path((sid, eid)): Path<(String, String)>) -> WdResult {
    with_element(&farm, &sid, &eid, |_, d, tree, path| {
        if let Some(id) = &node(tree, path).test_id {
            d.clear_field(id);
        }
        Ok(())
    })?;
    ok(Value::Null)
}

fn shown_text(n: &crate::farm::ui::UiNode) -> String {
    match n.kind {
        Kind::SecureField => "•".repeat(n.text.chars().count()),
        Kind::TextField if n.text.is_empty() => n.placeholder.clone().unwrap_or_default(),
        _ => n.text.clone(),
    }
}

async fn text(State(farm): State<Arc<Farm>>, Path((sid, eid)): Path<(String, String)>) -> WdResult {
    let t = with_element(&farm, &sid, &eid, |_, _, tree, path| Ok(shown_text(node(tree, path))))?;
    ok(json!(t))
}

async fn displayed(State(farm): State<Arc<Farm>>, Path((sid, eid)): Path<(String, String)>) -> WdResult {
    with_element(&farm, &sid, &eid, |_, _, _, _| Ok(()))?;
    ok(json!(true))
}

async fn enabled(State(farm): State<Arc<Farm>>, Path((sid, eid)): Path<(String, String)>) -> WdResult {
    let e = with_element(&farm, &sid, &eid, |_, _, tree, path| Ok(node(tree, path).enabled))?;
    ok(json!(e))
}

async fn selected(State(farm): State<Arc<Farm>>, Path((sid, eid)): Path<(String, String)>) -> WdResult {
    with_element(&farm, &sid, &eid, |_, _, _, _| Ok(()))?;
    ok(json!(false))
}

fn scale(platform: Platform) -> f64 {
    match platform {
        Platform::Ios => 1.0,
        Platform::Android => DENSITY,
    }
}

async fn rect(State(farm): State<Arc<Farm>>, Path((sid, eid)): Path<(String, String)>) -> WdResult {
    let r = with_element(&farm, &sid, &eid, |s, _, tree, path| {
        let r = node(tree, path).rect;
        let k = scale(s.platform);
        let f = |v: i32| (v as f64 * k).round() as i64;
        Ok(json!({"x": f(r.x), "y": f(r.y), "width": f(r.width), "height": f(r.height)}))
    })?;
    ok(r)
}

async fn tag_name(State(farm): State<Arc<Farm>>, Path((sid, eid)): Path<(String, String)>) -> WdResult {
    let t = with_element(&farm, &sid, &eid, |s, _, tree, path| {
        Ok(node(tree, path).kind.class_for(s.platform))
    })?;
    ok(json!(t))
}

async fn attribute(State(farm): State<Arc<Farm>>, Path((sid, eid, name)): Path<(String, String, String)>) -> WdResult {
    let v = with_element(&farm, &sid, &eid, |s, _, tree, path| {
        let n = node(tree, path);
        let t = shown_text(n);
        let k = scale(s.platform);
        let f = |v: i32| (v as f64 * k).round() as i64;
        let tid = n.test_id.clone();
        Ok(match (s.platform, name.as_str()) {
            (Platform::Ios, "name") => json!(tid.unwrap_or_else(|| t.clone())),
            (Platform::Ios, "label") => json!(t),
            (Platform::Ios, "value") => json!(t),
            (Platform::Ios, "type") => json!(n.kind.ios_type()),
            (Platform::Ios, "visible" | "accessible") => json!("true"),
            (Platform::Ios, "placeholderValue") => json!(n.placeholder),
            (Platform::Android, "text") => json!(t),
            (Platform::Android, "resource-id" | "resourceId") => json!(tid.unwrap_or_default()),
            (Platform::Android, "class" | "className") => json!(n.kind.android_class()),
            (Platform::Android, "content-desc" | "contentDescription") => json!(""),
            (Platform::Android, "package") => json!(tree.app_id),
            (Platform::Android, "displayed") => json!("true"),
            (Platform::Android, "focused") => json!(n.focused.to_string()),
            (Platform::Android, "password") => json!((n.kind == Kind::SecureField).to_string()),
            (Platform::Android, "hint") => json!(n.placeholder),
            (Platform::Android, "clickable") => {
                json!(matches!(n.kind, Kind::Button | Kind::TextField | Kind::SecureField).to_string())
            }
            (Platform::Android, "bounds") => json!(format!(
                "[{},{}][{},{}]",
                f(n.rect.x),
                f(n.rect.y),
                f(n.rect.x + n.rect.width),
                f(n.rect.y + n.rect.height)
            )),
            (_, "enabled") => json!(n.enabled.to_string()),
            _ => Value::Null,
        })
    })?;
    ok(v)
}

async fn page_source(State(farm): State<Arc<Farm>>, Path(sid): Path<String>) -> WdResult {
    let xml = with_session(&farm, &sid, |_, d| Ok(source::page_source(&d.ui())))?;
    ok(json!(xml))
}

async fn screenshot_all(State(farm): State<Arc<Farm>>, Path(sid): Path<String>) -> WdResult {
    let png = with_session(&farm, &sid, |_, d| Ok(render::screenshot_png(&d.ui())))?;
    ok(json!(B64.encode(png)))
}

async fn screenshot(State(farm): State<Arc<Farm>>, Path((sid, eid)): Path<(String, String)>) -> WdResult {
    // Element screenshots: the whole screen (a crop is not needed by any client we serve).
    let png = with_element(&farm, &sid, &eid, |_, d, _, _| Ok(render::screenshot_png(&d.ui())))?;
    ok(json!(B64.encode(png)))
}

async fn window_rect(State(farm): State<Arc<Farm>>, Path(sid): Path<String>) -> WdResult {
    let r = with_session(&farm, &sid, |s, d| {
        let t = d.ui();
        let k = scale(s.platform);
        Ok(
            json!({"x": 0, "y": 0, "width": (t.width as f64 * k).round() as i64, "height": (t.height as f64 * k).round() as i64}),
        )
    })?;
    ok(r)
}

/// Whether a pointer that went down at `from` and up at `to` dragged (a swipe), not tapped.
fn is_drag(from: (i32, i32), to: (i32, i32)) -> bool {
    (from.0 - to.0).abs().max((from.1 - to.1).abs()) >= 10
}

/// A vertical drag over the middle of the screen: `finger_up` shows what is below.
fn drag(d: &mut Device, area: Option<Rect>, finger_up: bool, fraction: f64) -> bool {
    let (w, h) = d.screen_size();
    let a = area.unwrap_or(Rect {
        x: 0,
        y: 0,
        width: w,
        height: h,
    });
    let cx = a.x + a.width / 2;
    let span = (a.height as f64 * fraction.clamp(0.05, 1.0) * 0.8) as i32;
    let (top, bottom) = (a.y + a.height / 2 - span / 2, a.y + a.height / 2 + span / 2);
    if finger_up {
        d.swipe((cx, bottom), (cx, top))
    } else {
        d.swipe((cx, top), (cx, bottom))
    }
}

fn orientation_name(o: Orientation) -> &'static str {
    match o {
        Orientation::Portrait | Orientation::UpsideDown => "PORTRAIT",
        Orientation::LandscapeLeft | Orientation::LandscapeRight => "LANDSCAPE",
    }
}

async fn set_orientation(State(farm): State<Arc<Farm>>, Path(sid): Path<String>, bytes: axum::body::Bytes) -> WdResult {
    let v = body(&bytes)?;
    let o = match v
        .get("orientation")
        .and_then(Value::as_str)
        .map(str::to_ascii_uppercase)
    {
        Some(o) if o == "PORTRAIT" => Orientation::Portrait,
        Some(o) if o == "LANDSCAPE" => Orientation::LandscapeLeft,
        _ => {
            return Err(WdError::invalid_argument("'orientation' must be PORTRAIT or LANDSCAPE"));
        }
    };
    with_session(&farm, &sid, |_, d| {
        d.set_orientation(o);
        Ok(())
    })?;
    ok(Value::Null)
}

async fn get_orientation(State(farm): State<Arc<Farm>>, Path(sid): Path<String>) -> WdResult {
    let o = with_session(&farm, &sid, |_, d| Ok(d.settings.orientation))?;
    ok(json!(orientation_name(o)))
}

async fn set_rotation(State(farm): State<Arc<Farm>>, Path(sid): Path<String>, bytes: axum::body::Bytes) -> WdResult {
    let v = body(&bytes)?;
    let z = v
        .get("z")
        .and_then(Value::as_i64)
        .ok_or_else(|| WdError::invalid_argument("'z' (0, 90, 180 or 270) is required"))?;
    let o = settings::from_rotation_z(z)
        .ok_or_else(|| WdError::invalid_argument(format!("rotation z={z} is not 0, 90, 180 or 270")))?;
    with_session(&farm, &sid, |_, d| {
        d.set_orientation(o);
        Ok(())
    })?;
    ok(Value::Null)
}

async fn get_rotation(State(farm): State<Arc<Farm>>, Path(sid): Path<String>) -> WdResult {
    let o = with_session(&farm, &sid, |_, d| Ok(d.settings.orientation))?;
    ok(json!({"x": 0, "y": 0, "z": settings::rotation_z(o)}))
}

fn location_arg(v: &Map<String, Value>) -> Result<Location, WdError> {
    let num = |k: &str| {
        v.get(k)
            .and_then(|x| x.as_f64().or_else(|| x.as_str()?.trim().parse().ok()))
    };
    let (Some(latitude), Some(longitude)) = (num("latitude"), num("longitude")) else {
        return Err(WdError::invalid_argument("'latitude' and 'longitude' are required"));
    };
    if !(-90.0..=90.0).contains(&latitude) || !(-180.0..=180.0).contains(&longitude) {
        return Err(WdError::invalid_argument(format!(
            "{latitude},{longitude} is not a location (latitude -90..90, longitude -180..180)"
        )));
    }
    Ok(Location {
        latitude,
        longitude,
        altitude: num("altitude").unwrap_or(0.0),
    })
}

fn location_json(l: Option<Location>) -> Value {
    match l {
        Some(l) => json!({"latitude": l.latitude, "longitude": l.longitude, "altitude": l.altitude}),
        None => json!({"latitude": 0.0, "longitude": 0.0, "altitude": 0.0}),
    }
}

async fn set_location(State(farm): State<Arc<Farm>>, Path(sid): Path<String>, bytes: axum::body::Bytes) -> WdResult {
    let v = body(&bytes)?;
    let loc = v
        .get("location")
        .and_then(Value::as_object)
        .ok_or_else(|| WdError::invalid_argument("'location' {latitude, longitude, altitude} is required"))?;
    let l = location_arg(loc)?;
    with_session(&farm, &sid, |_, d| {
        d.set_location(l);
        Ok(())
    })?;
    ok(Value::Null)
}

async fn get_location(State(farm): State<Arc<Farm>>, Path(sid): Path<String>) -> WdResult {
    let l = with_session(&farm, &sid, |_, d| Ok(d.settings.location))?;
    ok(location_json(l))
}

/// A pushed file: media (images, videos) goes to the photo library / gallery, as XCUITest's
/// pushFile and a media scan on Android put it there; anything else is refused.
fn push_media(d: &mut Device, path: &str, payload: &str) -> Result<Value, WdError> {
    let bytes = B64
        .decode(payload.trim())
        .map_err(|e| WdError::invalid_argument(format!("the payload is not base64: {e}")))?;
    let name = path.rsplit('/').next().unwrap_or(path);
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    if !MEDIA_EXTENSIONS.contains(&ext.as_str()) {
        return Err(WdError::unsupported(format!(
            "'{path}': the virtual device only accepts media files ({}) for its library",
            MEDIA_EXTENSIONS.join(", ")
        )));
    }
    let item = d.settings.add_media(name, &bytes);
    Ok(serde_json::to_value(item).unwrap_or(Value::Null))
}

const MEDIA_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "gif", "heic", "mp4", "mov"];

async fn push_file(State(farm): State<Arc<Farm>>, Path(sid): Path<String>, bytes: axum::body::Bytes) -> WdResult {
    let v = body(&bytes)?;
    let (Some(path), Some(data)) = (
        v.get("path").and_then(Value::as_str),
        v.get("data").and_then(Value::as_str),
    ) else {
        return Err(WdError::invalid_argument("'path' and 'data' (base64) are required"));
    };
    with_session(&farm, &sid, |_, d| push_media(d, path, data))?;
    ok(Value::Null)
}

async fn start_recording(State(farm): State<Arc<Farm>>, Path(sid): Path<String>) -> WdResult {
    with_session(&farm, &sid, |_, d| {
        // Appium restarts a running recording; so does the virtual device.
        d.settings.recorder = Some(settings::Recorder::default());
        Ok(())
    })?;
    ok(Value::Null)
}

async fn stop_recording(State(farm): State<Arc<Farm>>, Path(sid): Path<String>) -> WdResult {
    let gif = with_session(&farm, &sid, |_, d| {
        let end = d.now();
        match d.settings.recorder.take() {
            // Appium answers an empty string when nothing was being recorded.
            None => Ok(Vec::new()),
            Some(r) => r.finish(end).map_err(WdError::unsupported),
        }
    })?;
    ok(json!(B64.encode(gif)))
}

/// W3C actions: pointer taps (move, down, up) and key input into the focused field.
async fn actions(State(farm): State<Arc<Farm>>, Path(sid): Path<String>, bytes: axum::body::Bytes) -> WdResult {
    let v = body(&bytes)?;
    let sources = v
        .get("actions")
        .and_then(Value::as_array)
        .ok_or_else(|| WdError::invalid_argument("'actions' must be a list of input sources"))?
        .clone();
    with_session(&farm, &sid, |s, d| {
        for src in &sources {
            let kind = src.get("type").and_then(Value::as_str).unwrap_or("");
            let steps = src
                .get("actions")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            match kind {
                "pointer" => {
                    let mut down = false;
                    let mut down_at = s.pointer;
                    for a in &steps {
                        match a.get("type").and_then(Value::as_str) {
                            Some("pointerMove") => {
                                let k = scale(s.platform);
                                let x = a.get("x").and_then(Value::as_f64).unwrap_or(0.0) / k;
                                let y = a.get("y").and_then(Value::as_f64).unwrap_or(0.0) / k;
                                let (ox, oy) = match a.get("origin") {
                                    Some(Value::Object(o)) => {
                                        let id = o.get(ELEMENT_KEY).and_then(Value::as_str).unwrap_or("");
                                        let tree = d.ui();
                                        let p = tree.resolve(id).ok_or_else(|| WdError::stale(id))?;
                                        node(&tree, &p).rect.center()
                                    }
                                    Some(Value::String(o)) if o == "pointer" => s.pointer,
                                    _ => (0, 0),
                                };
                                s.pointer = (ox + x.round() as i32, oy + y.round() as i32);
                            }
                            Some("pointerDown") => {
                                down = true;
                                down_at = s.pointer;
                            }
                            Some("pointerUp") if down && is_drag(down_at, s.pointer) => {
                                down = false;
                                d.swipe(down_at, s.pointer);
                            }
                            Some("pointerUp") if down => {
                                down = false;
                                let tree = d.ui();
                                if let Some(p) = tree.hit(s.pointer.0, s.pointer.1) {
                                    let n = node(&tree, &p);
                                    if n.enabled {
                                        d.tap(n.test_id.as_deref());
                                    }
                                }
                            }
                            Some("pause") | Some("pointerUp") | Some("pointerCancel") => {}
                            other => {
                                return Err(WdError::invalid_argument(format!("unknown pointer action {other:?}")));
                            }
                        }
                    }
                }
                "key" => {
                    for a in &steps {
                        if a.get("type").and_then(Value::as_str) == Some("keyDown") {
                            let k = a.get("value").and_then(Value::as_str).unwrap_or("");
                            match k {
                                "\u{E003}" => d.backspace(1),
                                "\u{E007}" | "\u{E006}" => {}
                                _ => d.type_focused(k),
                            }
                        }
                    }
                }
                "none" => {}
                other => {
                    return Err(WdError::invalid_argument(format!(
                        "unknown input source type '{other}'"
                    )));
                }
            }
        }
        Ok(())
    })?;
    ok(Value::Null)
}

async fn release_actions(State(farm): State<Arc<Farm>>, Path(sid): Path<String>) -> WdResult {
    with_session(&farm, &sid, |_, _| Ok(()))?;
    ok(Value::Null)
}

/// The `mobile:` methods each platform's real driver has, plus the virtual device's own.
const IOS_METHODS: &[&str] = &[
    "launchApp",
    "activateApp",
    "terminateApp",
    "queryAppState",
    "backgroundApp",
    "clearApp",
    "clearKeychains",
    "getDeviceTime",
    "deepLink",
    "pullFile",
    "virtualSecureStore",
    "virtualState",
    "setConnectivity",
    "getConnectivity",
    "hideKeyboard",
    "setAppearance",
    "getAppearance",
    "setSimulatedLocation",
    "getSimulatedLocation",
    "pushFile",
    "swipe",
    "scroll",
];
const ANDROID_METHODS: &[&str] = &[
    "activateApp",
    "terminateApp",
    "queryAppState",
    "backgroundApp",
    "clearApp",
    "getDeviceTime",
    "deepLink",
    "pullFile",
    "deleteFile",
    "setConnectivity",
    "getConnectivity",
    "pressKey",
    "virtualSecureStore",
    "virtualState",
    "hideKeyboard",
    "setGeolocation",
    "getGeolocation",
    "pushFile",
    "swipeGesture",
    "scrollGesture",
    "shell",
];

fn app_arg(platform: Platform, args: &Map<String, Value>, method: &str) -> Result<String, WdError> {
    let key = match platform {
        Platform::Ios => "bundleId",
        Platform::Android => "appId",
    };
    match args.get(key).and_then(Value::as_str) {
        Some(v) => Ok(v.to_string()),
        None => {
            let other = if key == "bundleId" { "appId" } else { "bundleId" };
            let hint = if args.contains_key(other) {
                format!(
                    " ('{other}' is the {} name)",
                    if other == "appId" { "Android" } else { "iOS" }
                )
            } else {
                String::new()
            };
            Err(WdError::invalid_argument(format!(
                "'mobile: {method}' requires the '{key}' argument on {}{hint}",
                platform.name()
            )))
        }
    }
}

fn installed(app: &str) -> Result<(), WdError> {
    if app == BUNDLE_ID {
        Ok(())
    } else {
        Err(WdError::unsupported(format!(
            "app '{app}' is not installed on the virtual device"
        )))
    }
}

async fn execute(State(farm): State<Arc<Farm>>, Path(sid): Path<String>, bytes: axum::body::Bytes) -> WdResult {
    let v = body(&bytes)?;
    let script = v
        .get("script")
        .and_then(Value::as_str)
        .ok_or_else(|| WdError::invalid_argument("'script' is required"))?;
    let args = match v.get("args") {
        Some(Value::Array(a)) => match a.first() {
            Some(Value::Object(m)) => m.clone(),
            None => Map::new(),
            Some(_) => {
                return Err(WdError::invalid_argument(
                    "mobile: methods take one object of named arguments",
                ));
            }
        },
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(WdError::invalid_argument("'args' must be a list")),
    };
    let Some(method) = script.trim().strip_prefix("mobile:").map(str::trim) else {
        return Err(WdError::unsupported(
            "the virtual device runs native apps without a web context: only 'mobile:' methods can be executed",
        ));
    };
    let method = method.to_string();
    let result = with_session(&farm, &sid, |s, d| mobile(s.platform, d, &method, &args))?;
    ok(result)
}

/// `mobile: shell` (UiAutomator2, which needs Appium's `adb_shell` insecure feature): the
/// virtual device knows the few settings commands a flow needs, and refuses the rest.
fn android_shell(d: &mut Device, args: &Map<String, Value>) -> Result<Value, WdError> {
    let command = args.get("command").and_then(Value::as_str).unwrap_or("");
    let rest: Vec<&str> = match args.get("args") {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => s.split_whitespace().collect(),
        _ => vec![],
    };
    let mut argv = vec![command];
    argv.extend(rest);
    Ok(match argv.as_slice() {
        ["cmd", "uimode", "night", v @ ("yes" | "no")] => {
            d.set_dark_mode(*v == "yes");
            json!(format!("Night mode: {v}"))
        }
        ["cmd", "uimode", "night"] => json!(format!("Night mode: {}", if d.settings.dark { "yes" } else { "no" })),
        ["cmd", "connectivity", "airplane-mode", v @ ("enable" | "disable")] => {
            d.set_airplane_mode(*v == "enable");
            json!("")
        }
        ["cmd", "connectivity", "airplane-mode"] => json!(if d.settings.airplane { "enabled" } else { "disabled" }),
        ["settings", "put", "system", "accelerometer_rotation", "0" | "1"] => json!(""),
        ["settings", "put", "system", "user_rotation", r] => {
            let o = r
                .parse::<i64>()
                .ok()
                .and_then(|r| settings::from_rotation_z(r * 90))
                .ok_or_else(|| WdError::invalid_argument(format!("user_rotation {r} is not 0-3")))?;
            d.set_orientation(o);
            json!("")
        }
        _ => {
            return Err(WdError::unsupported(format!(
                "the virtual device's shell runs only `cmd uimode night`, `cmd connectivity airplane-mode` \
                 and `settings put system user_rotation`; not `{}`",
                argv.join(" ")
            )));
        }
    })
}

fn mobile(platform: Platform, d: &mut Device, method: &str, args: &Map<String, Value>) -> Result<Value, WdError> {
    let methods = match platform {
        Platform::Ios => IOS_METHODS,
        Platform::Android => ANDROID_METHODS,
    };
    if !methods.contains(&method) {
        return Err(WdError::unsupported(format!(
            "unknown mobile command 'mobile: {method}' on {}: the virtual device supports {}",
            platform.name(),
            methods.iter().map(|m| format!("'{m}'")).collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(match method {
        "launchApp" | "activateApp" => {
            installed(&app_arg(platform, args, method)?)?;
            d.launch();
            Value::Null
        }
        "terminateApp" => {
            let app = app_arg(platform, args, method)?;
            json!(app == BUNDLE_ID && d.terminate())
        }
        "queryAppState" => {
            let app = app_arg(platform, args, method)?;
            json!(if app == BUNDLE_ID {
                d.app_state()
            } else {
                app::app_state::NOT_INSTALLED
            })
        }
        "backgroundApp" => {
            let secs = match args.get("seconds") {
                None | Some(Value::Null) => -1.0,
                Some(v) => v
                    .as_f64()
                    .ok_or_else(|| WdError::invalid_argument("'seconds' must be a number"))?,
            };
            d.background(secs);
            Value::Null
        }
        "clearApp" => {
            installed(&app_arg(platform, args, method)?)?;
            d.clear_app();
            Value::Null
        }
        "clearKeychains" => {
            d.clear_keychains();
            Value::Null
        }
        "getDeviceTime" => json!(iso8601(d.clock.wall_ms())),
        // The virtual app's screens take text without an on-screen keyboard.
        "hideKeyboard" => Value::Null,
        "deepLink" => {
            let url = args
                .get("url")
                .and_then(Value::as_str)
                .ok_or_else(|| WdError::invalid_argument("'mobile: deepLink' requires 'url'"))?;
            d.open_url(url);
            Value::Null
        }
        "pullFile" => {
            let path = args
                .get("remotePath")
                .and_then(Value::as_str)
                .ok_or_else(|| WdError::invalid_argument("'mobile: pullFile' requires 'remotePath'"))?;
            let secure_store = format!("@{BUNDLE_ID}/shared_prefs/SecureStore.xml");
            if platform == Platform::Android
                && (path == secure_store || path == format!("/data/data/{BUNDLE_ID}/shared_prefs/SecureStore.xml"))
            {
                if d.storage.secure_store.is_empty() {
                    return Err(WdError::unsupported(format!("remote path '{path}' does not exist")));
                }
                json!(B64.encode(d.secure_store_xml()))
            } else {
                return Err(WdError::unsupported(format!(
                    "remote path '{path}' does not exist on the virtual device{}",
                    if platform == Platform::Ios {
                        " (the keychain is not in an app container)"
                    } else {
                        ""
                    }
                )));
            }
        }
        // Android only (UiAutomator2's `@<package>/<path>` through run-as); only the app's
        // SecureStore.xml is modelled, other files of its container read as absent.
        "deleteFile" => {
            let path = args
                .get("remotePath")
                .and_then(Value::as_str)
                .ok_or_else(|| WdError::invalid_argument("'mobile: deleteFile' requires 'remotePath'"))?;
            let secure_store = format!("@{BUNDLE_ID}/shared_prefs/SecureStore.xml");
            if path == secure_store || path == format!("/data/data/{BUNDLE_ID}/shared_prefs/SecureStore.xml") {
                json!(d.delete_secure_store_file())
            } else if path.starts_with(&format!("@{BUNDLE_ID}/")) {
                json!(false)
            } else {
                return Err(WdError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "unknown error",
                    format!(
                        "Cannot access '{path}': the virtual device models only the files of '{BUNDLE_ID}' \
                         (remotePath '@{BUNDLE_ID}/<path>')"
                    ),
                ));
            }
        }
        "setConnectivity" => {
            let get = |k: &str| args.get(k).and_then(Value::as_bool);
            let (wifi, data, airplane) = (get("wifi"), get("data"), get("airplaneMode"));
            if wifi.is_none() && data.is_none() && airplane.is_none() {
                return Err(WdError::invalid_argument(
                    "'mobile: setConnectivity' needs 'wifi', 'data' or 'airplaneMode'",
                ));
            }
            if let Some(on) = airplane {
                d.set_airplane_mode(on);
            }
            if wifi.is_some() || data.is_some() {
                let online = wifi.or(data).unwrap_or(d.online) || data.unwrap_or(false);
                if d.settings.airplane {
                    // Radios stay off in airplane mode; they come back as set when it ends.
                    d.settings.online_before_airplane = online;
                } else {
                    d.set_network(online);
                }
            }
            Value::Null
        }
        "getConnectivity" => json!({"wifi": d.online, "data": d.online, "airplaneMode": d.settings.airplane}),
        "setAppearance" => {
            let dark = match args.get("style").and_then(Value::as_str) {
                Some("dark") => true,
                Some("light") => false,
                _ => return Err(WdError::invalid_argument("'style' must be 'dark' or 'light'")),
            };
            d.set_dark_mode(dark);
            Value::Null
        }
        "getAppearance" => json!({"style": if d.settings.dark { "dark" } else { "light" }}),
        "setSimulatedLocation" | "setGeolocation" => {
            let l = location_arg(args)?;
            d.set_location(l);
            Value::Null
        }
        "getSimulatedLocation" | "getGeolocation" => location_json(d.settings.location),
        "pushFile" => {
            let (Some(path), Some(payload)) = (
                args.get("remotePath").and_then(Value::as_str),
                args.get("payload").and_then(Value::as_str),
            ) else {
                return Err(WdError::invalid_argument(
                    "'remotePath' and 'payload' (base64) are required",
                ));
            };
            push_media(d, path, payload)?
        }
        // XCUITest: `swipe` moves the finger in `direction`; `scroll` moves the content so
        // that what lies in `direction` comes into view (scroll down = finger up).
        "swipe" | "scroll" => {
            let dir = args.get("direction").and_then(Value::as_str).unwrap_or("");
            let finger_up = match (method, dir) {
                ("swipe", "up") | ("scroll", "down") => true,
                ("swipe", "down") | ("scroll", "up") => false,
                (_, "left" | "right") => return Ok(Value::Null),
                _ => {
                    return Err(WdError::invalid_argument(format!(
                        "'mobile: {method}' needs 'direction': up, down, left or right"
                    )));
                }
            };
            drag(d, None, finger_up, 0.5);
            Value::Null
        }
        // UiAutomator2: `swipeGesture` moves the finger in `direction` over the area;
        // `scrollGesture` scrolls towards `direction` and answers whether it can go on.
        "swipeGesture" | "scrollGesture" => {
            let dir = args.get("direction").and_then(Value::as_str).unwrap_or("");
            let finger_up = match (method, dir) {
                ("swipeGesture", "up") | ("scrollGesture", "down") => true,
                ("swipeGesture", "down") | ("scrollGesture", "up") => false,
                (_, "left" | "right") => return Ok(json!(false)),
                _ => {
                    return Err(WdError::invalid_argument(format!(
                        "'mobile: {method}' needs 'direction': up, down, left or right"
                    )));
                }
            };
            let px = |k: &str| {
                args.get(k)
                    .and_then(Value::as_f64)
                    .map(|v| (v / DENSITY).round() as i32)
            };
            let area = match (px("left"), px("top"), px("width"), px("height")) {
                (Some(x), Some(y), Some(width), Some(height)) => Some(Rect { x, y, width, height }),
                _ => None,
            };
            let percent = args.get("percent").and_then(Value::as_f64).unwrap_or(1.0);
            let moved = drag(d, area, finger_up, percent);
            if method == "scrollGesture" {
                json!(moved)
            } else {
                Value::Null
            }
        }
        "shell" => android_shell(d, args)?,
        "pressKey" => {
            let code = args
                .get("keycode")
                .and_then(Value::as_i64)
                .ok_or_else(|| WdError::invalid_argument("'mobile: pressKey' requires 'keycode'"))?;
            match code {
                3 => d.background(-1.0), // HOME
                67 => d.backspace(1),    // DEL
                _ => {}
            }
            Value::Null
        }
        "virtualSecureStore" => serde_json::to_value(d.storage_entries()).unwrap_or(Value::Null),
        "virtualState" => {
            let v = d.auth_view();
            json!({
                "running": v.running,
                "signedIn": v.signed_in,
                "sessionId": v.session_id,
                "convexAuthenticated": v.convex_authenticated,
                "online": d.online,
                "airplaneMode": d.settings.airplane,
                "media": d.settings.media,
                "virtualTimeMs": d.now(),
                "launches": d.launches,
            })
        }
        _ => unreachable!("listed above"),
    })
}

async fn get_log(State(farm): State<Arc<Farm>>, Path(sid): Path<String>, bytes: axum::body::Bytes) -> WdResult {
    let v = body(&bytes)?;
    let kind = v
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| WdError::invalid_argument("'type' is required"))?
        .to_string();
    let lines = with_session(&farm, &sid, |s, d| {
        let expected = match s.platform {
            Platform::Ios => "syslog",
            Platform::Android => "logcat",
        };
        if kind != expected {
            return Err(WdError::invalid_argument(format!(
                "log type '{kind}' is not supported on virtual {} devices: use '{expected}'",
                s.platform.name()
            )));
        }
        Ok(d.take_logs())
    })?;
    ok(Value::Array(
        lines
            .into_iter()
            .map(|(ts, message)| json!({"timestamp": ts, "level": "ALL", "message": message}))
            .collect(),
    ))
}

async fn log_types(State(farm): State<Arc<Farm>>, Path(sid): Path<String>) -> WdResult {
    let t = with_session(&farm, &sid, |s, _| {
        Ok(match s.platform {
            Platform::Ios => "syslog",
            Platform::Android => "logcat",
        })
    })?;
    ok(json!([t]))
}

fn legacy_app(v: &Value) -> Result<String, WdError> {
    v.get("appId")
        .or_else(|| v.get("bundleId"))
        .and_then(Value::as_str)
        .map(String::from)
        .ok_or_else(|| WdError::invalid_argument("'appId' or 'bundleId' is required"))
}

async fn activate_app(State(farm): State<Arc<Farm>>, Path(sid): Path<String>, bytes: axum::body::Bytes) -> WdResult {
    let app = legacy_app(&body(&bytes)?)?;
    with_session(&farm, &sid, |_, d| {
        installed(&app)?;
        d.launch();
        Ok(())
    })?;
    ok(Value::Null)
}

async fn terminate_app(State(farm): State<Arc<Farm>>, Path(sid): Path<String>, bytes: axum::body::Bytes) -> WdResult {
    let app = legacy_app(&body(&bytes)?)?;
    let r = with_session(&farm, &sid, |_, d| Ok(app == BUNDLE_ID && d.terminate()))?;
    ok(json!(r))
}

async fn app_state(State(farm): State<Arc<Farm>>, Path(sid): Path<String>, bytes: axum::body::Bytes) -> WdResult {
    let app = legacy_app(&body(&bytes)?)?;
    let r = with_session(&farm, &sid, |_, d| Ok(if app == BUNDLE_ID { d.app_state() } else { 0 }))?;
    ok(json!(r))
}
