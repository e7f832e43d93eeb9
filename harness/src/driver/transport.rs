//! The HTTP transport under thirtyfour: the one place every WebDriver request passes.
//!
//! It does two things thirtyfour cannot do as shipped against Appium:
//! - Session creation: thirtyfour sets `{"script":…,"pageLoad":…,"implicit":0}` right after
//!   `POST /session`; Appium's native drivers answer `unknown method` for script and page
//!   load timeouts, which would fail the connect and leave the session open on the server.
//!   Only `{"implicit":0}` is sent (device-mechanics.md §1.4).
//! - Secrets: requests that carry typed text are logged without their body and carry
//!   Appium 3's `X-Appium-Is-Sensitive` header so the server masks them too.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use serde_json::{Value, json};
use thirtyfour::error::WebDriverResult;
use thirtyfour::session::http::{Body, HttpClient};

#[derive(Clone, Debug)]
pub struct AppiumTransport {
    inner: reqwest::Client,
}

impl AppiumTransport {
    pub fn new(timeout: std::time::Duration) -> Self {
        AppiumTransport {
            inner: reqwest::Client::builder().timeout(timeout).build().unwrap_or_default(),
        }
    }
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
        let resp = HttpClient::send(&self.inner, Request::from_parts(parts, body)).await;
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
