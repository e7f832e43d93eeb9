//! The Appium backend: one thirtyfour session per device, for any Appium-compatible server
//! (the embedded virtual farm, a local Appium 3, a Selenium Grid relay, a cloud farm).
//!
//! thirtyfour's locators are CSS-based and its action chains mouse-based, so this backend
//! reads the page source and taps by W3C touch actions; W3C and Appium endpoints thirtyfour
//! does not model go through [`Raw`], one typed extension command.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, Value, json};
use thirtyfour::common::command::{Command, ExtensionCommand};
use thirtyfour::error::{WebDriverError, WebDriverErrorInner};
use thirtyfour::{Capabilities, WebDriver};

use crate::driver::mobile::MobileCommand;
use crate::driver::transport::AppiumTransport;
use crate::driver::{Device, DriverError, StorageRead};
use crate::sim::Platform;

/// A W3C / Appium request thirtyfour does not model: method, endpoint (after
/// `/session/{id}`), JSON body.
#[derive(Debug)]
pub struct Raw {
    method: http::Method,
    endpoint: Arc<str>,
    body: Option<Value>,
}

impl ExtensionCommand for Raw {
    fn parameters_json(&self) -> Option<Value> {
        self.body.clone()
    }
    fn method(&self) -> http::Method {
        self.method.clone()
    }
    fn endpoint(&self) -> Arc<str> {
        self.endpoint.clone()
    }
}

/// How to open a session.
#[derive(Clone, Debug)]
pub struct SessionSpec {
    /// Server URL, e.g. `http://127.0.0.1:4723` (Appium 3's base path is `/`).
    pub url: String,
    pub platform: Platform,
    /// Bundle id / package of the app under test.
    pub app_id: String,
    /// W3C capabilities (`platformName`, `appium:*`, vendor blocks, `harness:options`).
    pub capabilities: Map<String, Value>,
    /// Whether the server is the virtual farm (enables its exact secure-storage reads).
    pub is_virtual: bool,
}

pub struct AppiumDevice {
    driver: WebDriver,
    platform: Platform,
    app_id: String,
    is_virtual: bool,
    log_type: &'static str,
}

/// Maps a thirtyfour error to what it means for a run.
pub fn classify(command: &str, e: WebDriverError) -> DriverError {
    let info_msg = |i: &thirtyfour::error::WebDriverErrorInfo| i.value.message.clone();
    match e.as_inner() {
        WebDriverErrorInner::UnsupportedOperation(i)
        | WebDriverErrorInner::UnknownCommand(i)
        | WebDriverErrorInner::UnknownMethod(i) => DriverError::Unsupported {
            command: command.to_string(),
            message: info_msg(i),
        },
        WebDriverErrorInner::InvalidSessionId(i) => DriverError::SessionLost(info_msg(i)),
        WebDriverErrorInner::SessionNotCreated(i) => DriverError::SessionNotCreated(info_msg(i)),
        WebDriverErrorInner::SessionCreateError(m) => DriverError::SessionNotCreated(m.clone()),
        WebDriverErrorInner::RequestFailed(m) | WebDriverErrorInner::HttpError(m) | WebDriverErrorInner::Timeout(m) => {
            DriverError::Unreachable(m.clone())
        }
        WebDriverErrorInner::FatalError(m)
        | WebDriverErrorInner::CommandSendError(m)
        | WebDriverErrorInner::CommandRecvError(m) => DriverError::SessionLost(m.clone()),
        WebDriverErrorInner::UnknownResponse(status, body) => {
            DriverError::Unreachable(format!("HTTP {status}: {}", body.chars().take(200).collect::<String>()))
        }
        other => DriverError::Command {
            command: command.to_string(),
            message: match other {
                WebDriverErrorInner::InvalidArgument(i)
                | WebDriverErrorInner::NoSuchElement(i)
                | WebDriverErrorInner::StaleElementReference(i)
                | WebDriverErrorInner::InvalidElementState(i)
                | WebDriverErrorInner::InvalidSelector(i)
                | WebDriverErrorInner::UnknownError(i)
                | WebDriverErrorInner::JavascriptError(i) => info_msg(i),
                _ => e.to_string().lines().next().unwrap_or("error").to_string(),
            },
        },
    }
}

impl AppiumDevice {
    /// Opens a session.
    pub async fn connect(spec: &SessionSpec) -> Result<Self, DriverError> {
        let caps = Capabilities::from(spec.capabilities.clone());
        let driver = WebDriver::builder(spec.url.as_str(), caps)
            .client(AppiumTransport::new(Duration::from_secs(120)))
            .connect()
            .await
            .map_err(|e| match classify("new session", e) {
                DriverError::Command { message, .. } => DriverError::SessionNotCreated(message),
                other => other,
            })?;
        Ok(AppiumDevice {
            driver,
            platform: spec.platform,
            app_id: spec.app_id.clone(),
            is_virtual: spec.is_virtual,
            log_type: match spec.platform {
                Platform::Ios => "syslog",
                Platform::Android => "logcat",
            },
        })
    }

    async fn raw(
        &self,
        name: &str,
        method: http::Method,
        endpoint: &str,
        body: Option<Value>,
    ) -> Result<Value, DriverError> {
        let cmd = Raw {
            method,
            endpoint: endpoint.into(),
            body,
        };
        let r = self
            .driver
            .handle()
            .cmd(Command::ExtensionCommand(Box::new(cmd)))
            .await
            .map_err(|e| classify(name, e))?;
        r.value_json().map_err(|e| classify(name, e))
    }

    /// Runs a `mobile:` command; a method the server lacks is `Unsupported` naming it.
    pub async fn mobile(&self, c: MobileCommand) -> Result<Value, DriverError> {
        let script = c.script();
        let r = self
            .driver
            .handle()
            .execute(script.clone(), vec![Value::Object(c.args)])
            .await
            .map_err(|e| match classify(&script, e) {
                // Appium answers unknown execute methods with various codes; all mean the same.
                DriverError::Command { message, .. }
                    if message.contains("Unknown mobile command") || message.contains("not supported") =>
                {
                    DriverError::Unsupported {
                        command: script.clone(),
                        message,
                    }
                }
                other => other,
            })?;
        Ok(r.json().clone())
    }
}

#[async_trait::async_trait]
impl Device for AppiumDevice {
    fn platform(&self) -> Platform {
        self.platform
    }

    fn app_id(&self) -> &str {
        &self.app_id
    }

    fn is_virtual(&self) -> bool {
        self.is_virtual
    }

    async fn device_time_ms(&mut self) -> Option<u64> {
        if !self.is_virtual {
            return None;
        }
        let v = self.mobile(MobileCommand::virtual_state()).await.ok()?;
        v.get("virtualTimeMs").and_then(Value::as_u64)
    }

    async fn source(&mut self) -> Result<String, DriverError> {
        self.driver.source().await.map_err(|e| classify("page source", e))
    }

    async fn screenshot(&mut self) -> Result<Vec<u8>, DriverError> {
        self.driver
            .screenshot_as_png()
            .await
            .map_err(|e| classify("screenshot", e))
    }

    async fn press(&mut self, x: i32, y: i32, hold_ms: u64) -> Result<(), DriverError> {
        let actions = json!({"actions": [{
            "type": "pointer", "id": "finger1", "parameters": {"pointerType": "touch"},
            "actions": [
                {"type": "pointerMove", "duration": 0, "x": x, "y": y, "origin": "viewport"},
                {"type": "pointerDown", "button": 0},
                {"type": "pause", "duration": hold_ms},
                {"type": "pointerUp", "button": 0}
            ]
        }]});
        self.raw("tap", http::Method::POST, "/actions", Some(actions))
            .await
            .map(|_| ())
    }

    async fn type_text(&mut self, text: &str, _sensitive: bool) -> Result<(), DriverError> {
        // Key actions type into the focused element, as a keyboard does (the transport
        // marks /actions requests sensitive and does not log their body).
        let mut keys = Vec::with_capacity(text.chars().count() * 2);
        for c in text.chars() {
            keys.push(json!({"type": "keyDown", "value": c.to_string()}));
            keys.push(json!({"type": "keyUp", "value": c.to_string()}));
        }
        let actions = json!({"actions": [{"type": "key", "id": "keyboard", "actions": keys}]});
        self.raw("inputText", http::Method::POST, "/actions", Some(actions))
            .await
            .map(|_| ())
    }

    async fn erase_text(&mut self, characters: u32) -> Result<(), DriverError> {
        let mut keys = Vec::new();
        for _ in 0..characters {
            keys.push(json!({"type": "keyDown", "value": "\u{E003}"}));
            keys.push(json!({"type": "keyUp", "value": "\u{E003}"}));
        }
        let actions = json!({"actions": [{"type": "key", "id": "keyboard", "actions": keys}]});
        self.raw("eraseText", http::Method::POST, "/actions", Some(actions))
            .await
            .map(|_| ())
    }

    async fn launch_app(&mut self) -> Result<(), DriverError> {
        self.mobile(MobileCommand::launch_app(self.platform, &self.app_id))
            .await
            .map(|_| ())
    }

    async fn terminate_app(&mut self) -> Result<bool, DriverError> {
        let v = self
            .mobile(MobileCommand::terminate_app(self.platform, &self.app_id))
            .await?;
        Ok(v.as_bool().unwrap_or(false))
    }

    async fn app_state(&mut self) -> Result<i64, DriverError> {
        let v = self
            .mobile(MobileCommand::query_app_state(self.platform, &self.app_id))
            .await?;
        Ok(v.as_i64().unwrap_or(0))
    }

    async fn clear_app(&mut self) -> Result<(), DriverError> {
        self.mobile(MobileCommand::clear_app(self.platform, &self.app_id))
            .await
            .map(|_| ())
    }

    async fn clear_keychain(&mut self) -> Result<(), DriverError> {
        match self.platform {
            Platform::Ios => self.mobile(MobileCommand::clear_keychains()).await.map(|_| ()),
            // Android has no keychain: secure-store data is app data, cleared by clearState.
            Platform::Android => Ok(()),
        }
    }

    async fn background(&mut self, seconds: f64) -> Result<(), DriverError> {
        self.mobile(MobileCommand::background_app(seconds)).await.map(|_| ())
    }

    async fn set_network(&mut self, online: bool) -> Result<(), DriverError> {
        self.mobile(MobileCommand::set_connectivity(online)).await.map(|_| ())
    }

    async fn open_link(&mut self, url: &str) -> Result<(), DriverError> {
        self.mobile(MobileCommand::deep_link(self.platform, url, &self.app_id))
            .await
            .map(|_| ())
    }

    async fn press_back(&mut self) -> Result<(), DriverError> {
        match self.platform {
            Platform::Android => self.mobile(MobileCommand::press_key(4)).await.map(|_| ()),
            Platform::Ios => Err(DriverError::Unsupported {
                command: "back".into(),
                message: "iOS has no back button".into(),
            }),
        }
    }

    async fn secure_storage(&mut self) -> Result<StorageRead, DriverError> {
        if self.is_virtual {
            let v = self.mobile(MobileCommand::virtual_secure_store()).await?;
            let entries = v
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|e| {
                            let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                            let key = if s("logicalKey").is_empty() {
                                s("key")
                            } else {
                                s("logicalKey")
                            };
                            (key, format!("{}:{}", s("store"), s("service")), s("value"))
                        })
                        .collect()
                })
                .unwrap_or_default();
            return Ok(StorageRead {
                source: "virtual".into(),
                entries,
            });
        }
        match self.platform {
            Platform::Android => {
                let path = format!("@{}/shared_prefs/SecureStore.xml", self.app_id);
                match self.mobile(MobileCommand::pull_file(&path)).await {
                    Ok(v) => {
                        let b64 = v.as_str().unwrap_or("");
                        let xml = B64
                            .decode(b64)
                            .map(|b| String::from_utf8_lossy(&b).into_owned())
                            .unwrap_or_default();
                        Ok(StorageRead {
                            source: "pullFile".into(),
                            entries: parse_shared_prefs(&xml),
                        })
                    }
                    Err(DriverError::Command { .. }) => Ok(StorageRead {
                        source: "pullFile".into(),
                        entries: vec![],
                    }),
                    Err(e) => Err(e),
                }
            }
            Platform::Ios => Ok(StorageRead {
                source: "unavailable".into(),
                entries: vec![],
            }),
        }
    }

    async fn logs(&mut self) -> Result<Vec<String>, DriverError> {
        let v = self
            .raw(
                "device log",
                http::Method::POST,
                "/se/log",
                Some(json!({"type": self.log_type})),
            )
            .await?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e.get("message").and_then(Value::as_str).map(String::from))
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn quit(self: Box<Self>) -> Result<(), DriverError> {
        self.driver.quit().await.map_err(|e| classify("delete session", e))
    }
}

/// `<string name="key_v1-K">envelope</string>` entries of a SharedPreferences XML file:
/// (logical key without the `key_v1-` prefix, `SecureStore.xml`, envelope).
pub fn parse_shared_prefs(xml: &str) -> Vec<(String, String, String)> {
    let mut out = vec![];
    let mut rest = xml;
    while let Some(start) = rest.find("<string name=\"") {
        rest = &rest[start + 14..];
        let Some(end_name) = rest.find('"') else { break };
        let name = unescape(&rest[..end_name]);
        let Some(gt) = rest.find('>') else { break };
        let Some(close) = rest.find("</string>") else { break };
        if close < gt {
            break;
        }
        let value = unescape(&rest[gt + 1..close]);
        let key = name.split_once('-').map(|(_, k)| k.to_string()).unwrap_or(name.clone());
        out.push((key, "SecureStore.xml".into(), value));
        rest = &rest[close..];
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_prefs_entries() {
        let xml = "<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n    <string name=\"key_v1-__clerk_client_jwt\">{&quot;ct&quot;:&quot;AA==&quot;}</string>\n</map>\n";
        let e = parse_shared_prefs(xml);
        assert_eq!(
            e,
            vec![(
                "__clerk_client_jwt".to_string(),
                "SecureStore.xml".to_string(),
                "{\"ct\":\"AA==\"}".to_string()
            )]
        );
        assert!(parse_shared_prefs("<map/>").is_empty());
    }
}
