//! The HTTP transport under thirtyfour: the one place every WebDriver request passes.
//!
//! It does two things thirtyfour cannot do as shipped against Appium:
//! - Session creation: thirtyfour sets `{"script":…,"pageLoad":…,"implicit":0}` right after
//!   `POST /session`; Appium's native drivers answer `unknown method` for script and page
//!   load timeouts, which would fail the connect and leave the session open on the server.
//!   Only `{"implicit":0}` is sent (device-mechanics.md §1.4).
//! - Secrets: requests that carry typed text are logged without their body and carry
//!   Appium 3's `X-Appium-Is-Sensitive` header so the server masks them too.
//! - Per-session settings: a session opened inside [`with_options`] gets that
//!   [`TransportOptions::command_timeout`] (the device profile's `commandTimeout`) instead of
//!   the default the backend passes, and its id is recorded in
//!   [`TransportOptions::session_id`] (for cloud farms' session links and status calls).
//! - JSON bodies always go with a charset in their content type (`application/json;
//!   charset=utf-8`), which Selenium Grid 4 requires of what it relays.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use serde_json::{Value, json};
use thirtyfour::error::{WebDriverError, WebDriverResult};
use thirtyfour::session::http::{Body, HttpClient};

#[derive(Clone, Debug)]
pub struct AppiumTransport {
    inner: reqwest::Client,
    session_id: Option<SessionIdSlot>,
}

/// Where a transport records the id of the session it opened.
pub type SessionIdSlot = Arc<std::sync::Mutex<Option<String>>>;

/// Settings for the transports created inside [`with_options`].
#[derive(Clone, Debug, Default)]
pub struct TransportOptions {
    /// Replaces the timeout the backend asks for.
    pub command_timeout: Option<Duration>,
    /// Receives the id of the session opened (from the new-session response).
    pub session_id: Option<SessionIdSlot>,
}

tokio::task_local! {
    static OPTIONS: TransportOptions;
}

/// Runs `f` (a session being opened) with `options` applied to the transports it creates.
pub async fn with_options<F: std::future::Future>(options: TransportOptions, f: F) -> F::Output {
    OPTIONS.scope(options, f).await
}

impl AppiumTransport {
    /// A client whose requests time out after `timeout` (or the [`with_options`] scope's
    /// `command_timeout`); building it fails only when the TLS backend or the system's
    /// network settings cannot be loaded.
    pub fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        let options = OPTIONS.try_with(Clone::clone).unwrap_or_default();
        Ok(AppiumTransport {
            inner: reqwest::Client::builder()
                .timeout(options.command_timeout.unwrap_or(timeout))
                .build()?,
            session_id: options.session_id,
        })
    }
}

/// The JSON content type Selenium Grid 4 insists on: it refuses `application/json` without a
/// charset (`Content-Type header does not indicate utf-8 encoded json`); Appium accepts both.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

impl AppiumTransport {
    /// What thirtyfour's own reqwest client does, except that a failed request keeps its
    /// causes in the message: reqwest's first line never says why (connection refused, DNS,
    /// TLS), and thirtyfour keeps only that line.
    async fn send_reqwest(&self, request: Request<Body<'_>>) -> WebDriverResult<Response<Bytes>> {
        let (parts, body) = request.into_parts();
        let mut req = self.inner.request(parts.method, parts.uri.to_string());
        for (name, value) in parts.headers.iter() {
            req = req.header(name, value);
        }
        req = match body {
            Body::Empty => req.body(reqwest::Body::default()),
            // thirtyfour's headers (copied above) already say `application/json;charset=UTF-8`,
            // so reqwest keeps that content type; without one, it is set here.
            Body::Json(json) if !parts.headers.contains_key(http::header::CONTENT_TYPE) => {
                req.header(http::header::CONTENT_TYPE, JSON_CONTENT_TYPE).json(json)
            }
            Body::Json(json) => req.json(json),
        };
        let failed = |e: reqwest::Error| WebDriverError::HttpError(with_causes(&e));
        let resp = req.send().await.map_err(failed)?;
        let status = resp.status();
        let mut builder = Response::builder().status(status);
        for (name, value) in resp.headers() {
            builder = builder.header(name, value);
        }
        let bytes = resp.bytes().await.map_err(failed)?;
        builder
            .body(bytes.clone())
            .map_err(|_| WebDriverError::UnknownResponse(status.as_u16(), String::from_utf8_lossy(&bytes).into_owned()))
    }
}

/// An error and its causes, each once: `error sending request for url (…): client error
/// (Connect): tcp connect error: Connection refused (os error 111)`.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let line = c.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        cause = c.source();
    }
    text
}

/// The session id in a new-session response (W3C `value.sessionId`, or the legacy top-level
/// `sessionId`).
fn session_id_of(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    v.pointer("/value/sessionId")
        .or_else(|| v.get("sessionId"))
        .and_then(Value::as_str)
        .map(String::from)
}

/// Whether a request path carries text a user typed (which may be a secret).
fn sensitive(path: &str) -> bool {
    path.ends_with("/value") || path.ends_with("/actions")
}

#[async_trait::async_trait]
impl HttpClient for AppiumTransport {
    async fn send(&self, request: Request<Body<'_>>) -> WebDriverResult<Response<Bytes>> {
        let (mut parts, body) = request.into_parts();
        let path = parts.uri.path().to_string();
        let rewritten: Option<Value> = match &body {
            Body::Json(v) if parts.method == http::Method::POST && path.ends_with("/timeouts") => {
                let implicit = v.get("implicit").cloned().unwrap_or(json!(0));
                Some(json!({ "implicit": implicit }))
            }
            _ => None,
        };
        if sensitive(&path) {
            parts
                .headers
                .insert("X-Appium-Is-Sensitive", HeaderValue::from_static("true"));
            tracing::debug!(method = %parts.method, %path, "webdriver request (body not logged)");
        } else {
            tracing::debug!(method = %parts.method, %path, "webdriver request");
        }
        let body = match &rewritten {
            Some(v) => Body::Json(v),
            None => body,
        };
        let started = std::time::Instant::now();
        let new_session = parts.method == http::Method::POST && path.trim_end_matches('/').ends_with("/session");
        let resp = self.send_reqwest(Request::from_parts(parts, body)).await;
        if new_session
            && let (Ok(r), Some(slot)) = (&resp, &self.session_id)
            && let Some(id) = session_id_of(r.body())
        {
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(id);
        }
        if let Ok(r) = &resp {
            tracing::trace!(
                status = r.status().as_u16(),
                ms = started.elapsed().as_millis() as u64,
                "webdriver response"
            );
        }
        resp
    }

    async fn new(&self) -> Arc<dyn HttpClient> {
        Arc::new(self.clone())
    }
}
