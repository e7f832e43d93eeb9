//! Cloud device farms' conventions around a session: the link to the session on the
//! vendor's dashboard, and the pass/fail status the vendor shows for it, reported the way
//! each vendor documents it — a script executed in the session:
//!
//! | vendor | status script | session link |
//! |---|---|---|
//! | BrowserStack | `browserstack_executor: {"action": "setSessionStatus", "arguments": {"status": "passed"\|"failed", "reason": …}}` | `https://app-automate.browserstack.com/sessions/{id}` |
//! | Sauce Labs | `sauce:job-result=passed\|failed` | `https://app.saucelabs.com/tests/{id}` (`app.eu-central-1.saucelabs.com` for the EU hub) |
//! | LambdaTest | `lambda-status=passed\|failed` | `https://appautomation.lambdatest.com/test?testID={id}` |
//!
//! The script goes as a W3C execute (`POST /session/{id}/execute/sync`) on the hub the
//! session was opened on, with the profile's credentials as HTTP basic auth; the
//! credentials never appear in a result, a link or a log line (`Debug` hides them).

use std::time::Duration;

use serde_json::{Value, json};

use crate::profile::device::Vendor;

/// Why a status could not be reported (never fails a case: a warning).
#[derive(Debug, thiserror::Error)]
pub enum VendorError {
    #[error("cannot set up an HTTP client")]
    Client(#[source] reqwest::Error),
    #[error("{vendor} status request failed")]
    Request {
        vendor: &'static str,
        #[source]
        source: reqwest::Error,
    },
    #[error("{vendor} refused the status script: HTTP {status}: {body}")]
    Refused {
        vendor: &'static str,
        status: u16,
        body: String,
    },
}

/// What a case's end reports to the vendor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub passed: bool,
    /// Why it failed (or `passed`); vendors show it beside the status.
    pub reason: String,
}

/// A session on a cloud farm.
#[derive(Clone)]
pub struct VendorSession {
    pub vendor: Vendor,
    /// The hub the session was opened on (`https://hub.browserstack.com/wd/hub`).
    pub hub: String,
    pub session_id: String,
    credentials: Option<(String, String)>,
}

impl std::fmt::Debug for VendorSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VendorSession")
            .field("vendor", &self.vendor)
            .field("hub", &self.hub)
            .field("session_id", &self.session_id)
            .field("credentials", &self.credentials.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The name vendors are called in messages.
pub fn vendor_name(v: Vendor) -> &'static str {
    match v {
        Vendor::BrowserStack => "BrowserStack",
        Vendor::SauceLabs => "Sauce Labs",
        Vendor::LambdaTest => "LambdaTest",
    }
}

impl VendorSession {
    /// `credentials`: user name and access key, sent as basic auth with the status script.
    pub fn new(vendor: Vendor, hub: &str, session_id: &str, credentials: Option<(String, String)>) -> Self {
        VendorSession {
            vendor,
            hub: hub.trim_end_matches('/').to_string(),
            session_id: session_id.to_string(),
            credentials,
        }
    }

    /// The session on the vendor's dashboard.
    pub fn link(&self) -> String {
        session_link(self.vendor, &self.hub, &self.session_id)
    }

    /// The script and its arguments that report `status` (W3C execute body).
    pub fn status_script(&self, status: &Status) -> Value {
        status_script(self.vendor, status)
    }

    /// Reports `status` for the session (within `timeout`).
    pub async fn report(&self, status: &Status, timeout: Duration) -> Result<(), VendorError> {
        let vendor = vendor_name(self.vendor);
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(VendorError::Client)?;
        let url = format!("{}/session/{}/execute/sync", self.hub, self.session_id);
        let mut req = client
            .post(url)
            .header(http::header::CONTENT_TYPE, crate::driver::transport::JSON_CONTENT_TYPE)
            .body(self.status_script(status).to_string());
        if let Some((user, key)) = &self.credentials {
            req = req.basic_auth(user, Some(key));
        }
        let resp = req
            .send()
            .await
            .map_err(|source| VendorError::Request { vendor, source })?;
        let code = resp.status();
        if code.is_success() {
            return Ok(());
        }
        let body = resp.text().await.unwrap_or_default();
        Err(VendorError::Refused {
            vendor,
            status: code.as_u16(),
            body: body.chars().take(200).collect(),
        })
    }
}

/// The dashboard link of session `id` opened on `hub`.
pub fn session_link(vendor: Vendor, hub: &str, id: &str) -> String {
    match vendor {
        Vendor::BrowserStack => format!("https://app-automate.browserstack.com/sessions/{id}"),
        Vendor::SauceLabs => {
            // The dashboard is in the hub's data centre: ondemand.REGION.saucelabs.com.
            let host = hub
                .split("://")
                .nth(1)
                .and_then(|h| h.split(['/', ':']).next())
                .unwrap_or_default();
            let region = host
                .strip_prefix("ondemand.")
                .and_then(|h| h.strip_suffix(".saucelabs.com"))
                .unwrap_or("us-west-1");
            if region == "us-west-1" {
                format!("https://app.saucelabs.com/tests/{id}")
            } else {
                format!("https://app.{region}.saucelabs.com/tests/{id}")
            }
        }
        Vendor::LambdaTest => format!("https://appautomation.lambdatest.com/test?testID={id}"),
    }
}

/// The W3C execute body that reports `status` to `vendor`.
pub fn status_script(vendor: Vendor, status: &Status) -> Value {
    let word = if status.passed { "passed" } else { "failed" };
    let script = match vendor {
        Vendor::BrowserStack => {
            let executor = json!({
                "action": "setSessionStatus",
                "arguments": {"status": word, "reason": status.reason.chars().take(255).collect::<String>()},
            });
            format!("browserstack_executor: {executor}")
        }
        Vendor::SauceLabs => format!("sauce:job-result={word}"),
        Vendor::LambdaTest => format!("lambda-status={word}"),
    };
    json!({"script": script, "args": []})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_scripts_follow_each_vendors_documentation() {
        let failed = Status {
            passed: false,
            reason: "assertVisible \"Welcome\" failed".into(),
        };
        let passed = Status {
            passed: true,
            reason: "passed".into(),
        };
        let bs = status_script(Vendor::BrowserStack, &failed);
        let script = bs["script"].as_str().unwrap();
        let json_part: Value = serde_json::from_str(script.strip_prefix("browserstack_executor: ").unwrap()).unwrap();
        assert_eq!(
            json_part,
            json!({"action": "setSessionStatus", "arguments": {"status": "failed", "reason": "assertVisible \"Welcome\" failed"}})
        );
        assert_eq!(bs["args"], json!([]));
        assert_eq!(
            status_script(Vendor::SauceLabs, &passed)["script"],
            "sauce:job-result=passed"
        );
        assert_eq!(
            status_script(Vendor::LambdaTest, &failed)["script"],
            "lambda-status=failed"
        );
    }

    #[test]
    fn session_links() {
        assert_eq!(
            session_link(Vendor::BrowserStack, Vendor::BrowserStack.default_url(), "abc"),
            "https://app-automate.browserstack.com/sessions/abc"
        );
        assert_eq!(
            session_link(Vendor::SauceLabs, Vendor::SauceLabs.default_url(), "abc"),
            "https://app.saucelabs.com/tests/abc"
        );
        assert_eq!(
            session_link(
                Vendor::SauceLabs,
                "https://ondemand.eu-central-1.saucelabs.com/wd/hub",
                "abc"
            ),
            "https://app.eu-central-1.saucelabs.com/tests/abc"
        );
        assert_eq!(
            session_link(Vendor::LambdaTest, Vendor::LambdaTest.default_url(), "abc"),
            "https://appautomation.lambdatest.com/test?testID=abc"
        );
        let s = VendorSession::new(
            Vendor::SauceLabs,
            "https://x/wd/hub/",
            "id",
            Some(("me".into(), "k3y".into())),
        );
        let debug = format!("{s:?}");
        assert!(!debug.contains("k3y") && debug.contains("<redacted>"), "{debug}");
    }
}
