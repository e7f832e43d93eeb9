//! The Appium backend: one thirtyfour session per device, for any Appium-compatible server
//! (the embedded virtual farm, a local Appium 3, a Selenium Grid relay, a cloud farm).
//!
//! thirtyfour's locators are CSS-based and its action chains mouse-based, so this backend
//! reads the page source and taps by W3C touch actions; W3C and Appium endpoints thirtyfour
//! does not model go through [`Raw`], one typed extension command.
//!
//! Sources without geometry (Appium's fake driver, `SourceFormat::Generic`) are driven by
//! element instead: [`Device::click_xpath`] finds the element by its XPath (`By::XPath`, a W3C
//! find) and clicks it, and text typed next goes to that element (W3C element send keys).
//! Otherwise text is typed with W3C key actions into the focused element; a server that
//! rejects key actions as unsupported gets the keys sent to its active element instead.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, Value, json};
use thirtyfour::common::command::{Command, ExtensionCommand};
use thirtyfour::error::{WebDriverError, WebDriverErrorInner};
use thirtyfour::{By, Capabilities, WebDriver, WebElement};

use crate::driver::capability::{Driver, Feature, support};
use crate::driver::mobile::MobileCommand;
use crate::driver::transport::AppiumTransport;
use crate::driver::{Device, DriverError, Recording, StorageRead};
use crate::flow::model::Orientation;
use crate::platform::Platform;

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
    /// `quit` ran: dropping the device sends nothing more.
    quit_done: bool,
    platform: Platform,
    app_id: String,
    is_virtual: bool,
    log_type: &'static str,
    /// The element last clicked by XPath: it has the focus, so typing goes to it. A tap at a
    /// point forgets it.
    clicked: Option<WebElement>,
    /// Airplane mode as last set on a virtual iOS device, whose farm has no
    /// `getConnectivity` on iOS.
    virtual_airplane: bool,
}

/// Whether an element send-keys failed because of the element (gone, not a text field) or the
/// server (no such command), so that typing should go to the focused element instead.
fn retry_elsewhere(e: &WebDriverError) -> bool {
    matches!(
        e.as_inner(),
        WebDriverErrorInner::StaleElementReference(_)
            | WebDriverErrorInner::NoSuchElement(_)
            | WebDriverErrorInner::InvalidElementState(_)
            | WebDriverErrorInner::ElementNotInteractable(_)
            | WebDriverErrorInner::UnsupportedOperation(_)
            | WebDriverErrorInner::UnknownCommand(_)
            | WebDriverErrorInner::UnknownMethod(_)
    )
}

/// Maps a thirtyfour error to what it means for a run. Session and server errors keep it as
/// their source; `Unsupported` and `Command` carry the server's message.
pub fn classify(command: &str, e: WebDriverError) -> DriverError {
    classify_or(command, e, |message, _| DriverError::Command {
        command: command.to_string(),
        message,
    })
}

/// [`classify`], with `other` building the error for what is neither unsupported nor a
/// session or server problem (its message and the thirtyfour error).
fn classify_or(
    command: &str,
    e: WebDriverError,
    other: impl FnOnce(String, WebDriverError) -> DriverError,
) -> DriverError {
    enum Kind {
        Unsupported,
        Lost,
        NotCreated,
        Unreachable,
        Other,
    }
    let info_msg = |i: &thirtyfour::error::WebDriverErrorInfo| i.value.message.clone();
    let (kind, message) = match e.as_inner() {
        WebDriverErrorInner::UnsupportedOperation(i)
        | WebDriverErrorInner::UnknownCommand(i)
        | WebDriverErrorInner::UnknownMethod(i) => (Kind::Unsupported, info_msg(i)),
        WebDriverErrorInner::InvalidSessionId(i) => (Kind::Lost, info_msg(i)),
        WebDriverErrorInner::SessionNotCreated(i) => (Kind::NotCreated, info_msg(i)),
        WebDriverErrorInner::SessionCreateError(m) => (Kind::NotCreated, m.clone()),
        WebDriverErrorInner::RequestFailed(m) | WebDriverErrorInner::HttpError(m) | WebDriverErrorInner::Timeout(m) => {
            (Kind::Unreachable, m.clone())
        }
        WebDriverErrorInner::FatalError(m)
        | WebDriverErrorInner::CommandSendError(m)
        | WebDriverErrorInner::CommandRecvError(m) => (Kind::Lost, m.clone()),
        WebDriverErrorInner::UnknownResponse(status, body) => (
            Kind::Unreachable,
            format!("HTTP {status}: {}", body.chars().take(200).collect::<String>()),
        ),
        WebDriverErrorInner::InvalidArgument(i)
        | WebDriverErrorInner::NoSuchElement(i)
        | WebDriverErrorInner::StaleElementReference(i)
        | WebDriverErrorInner::InvalidElementState(i)
        | WebDriverErrorInner::InvalidSelector(i)
        | WebDriverErrorInner::UnknownError(i)
        | WebDriverErrorInner::JavascriptError(i) => (Kind::Other, info_msg(i)),
        _ => (Kind::Other, e.to_string().lines().next().unwrap_or("error").to_string()),
    };
    match kind {
        Kind::Unsupported => DriverError::Unsupported {
            command: command.to_string(),
            message,
        },
        Kind::Lost => DriverError::SessionLost { message, source: e },
        Kind::NotCreated => DriverError::SessionNotCreated { message, source: e },
        Kind::Unreachable => DriverError::Unreachable { message, source: e },
        Kind::Other => other(message, e),
    }
}

impl AppiumDevice {
    /// Opens a session.
    pub async fn connect(spec: &SessionSpec) -> Result<Self, DriverError> {
        let caps = Capabilities::from(spec.capabilities.clone());
        let client = AppiumTransport::new(Duration::from_secs(120)).map_err(|source| DriverError::HttpClient {
            url: spec.url.clone(),
            source,
        })?;
        let driver = WebDriver::builder(spec.url.as_str(), caps)
            .client(client)
            .connect()
            .await
            // Whatever else the server answers to `POST /session` is a refusal.
            .map_err(|e| {
                classify_or("new session", e, |message, source| DriverError::SessionNotCreated {
                    message,
                    source,
                })
            })?;
        Ok(AppiumDevice {
            driver,
            quit_done: false,
            platform: spec.platform,
            app_id: spec.app_id.clone(),
            is_virtual: spec.is_virtual,
            log_type: match spec.platform {
                Platform::Ios => "syslog",
                Platform::Android => "logcat",
            },
            clicked: None,
            virtual_airplane: false,
        })
    }

    /// Presses and releases each key in turn (W3C key actions into the focused element).
    async fn key_actions(&self, name: &str, keys: impl Iterator<Item = String>) -> Result<(), DriverError> {
        let mut actions = vec![];
        for k in keys {
            actions.push(json!({"type": "keyDown", "value": k}));
            actions.push(json!({"type": "keyUp", "value": k}));
        }
        let body = json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]});
        self.raw(name, http::Method::POST, "/actions", Some(body))
            .await
            .map(|_| ())
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

    /// `clearKeychain` on Android, which has no keychain: expo-secure-store keeps its entries in
    /// the app's SharedPreferences file `shared_prefs/SecureStore.xml` (the key that encrypts
    /// them stays in the Android Keystore, useless without them). The app is stopped first, as
    /// a running app holds its preferences in memory and writes them all back with its next
    /// write; then the file is deleted (`mobile: deleteFile @<package>/…`, through `run-as`).
    /// A server without `deleteFile`, or a release build that `run-as` refuses, is
    /// `Unsupported`, saying what clears the entries instead.
    async fn clear_secure_store(&mut self) -> Result<(), DriverError> {
        const INSTEAD: &str = "expo-secure-store on Android keeps its entries in the app's SharedPreferences \
                               (shared_prefs/SecureStore.xml): clearState (mobile: clearApp) clears them with \
                               the rest of the app's data";
        let path = format!("@{}/{}", self.app_id, crate::host::adb::SECURE_STORE_PREFS);
        self.mobile(MobileCommand::terminate_app(self.platform, &self.app_id))
            .await?;
        match self.mobile(MobileCommand::delete_file(&path)).await {
            Ok(_) => Ok(()),
            Err(DriverError::Unsupported { message, .. }) => Err(DriverError::Unsupported {
                command: "clearKeychain".into(),
                message: format!("this server has no mobile: deleteFile ({message}); {INSTEAD}"),
            }),
            // UiAutomator2 reaches the app's files through run-as, which needs a debuggable build.
            Err(DriverError::Command { message, .. }) => Err(DriverError::Unsupported {
                command: "clearKeychain".into(),
                message: format!(
                    "mobile: deleteFile {path} failed, which needs a debuggable build ({message}); {INSTEAD}"
                ),
            }),
            Err(e) => Err(e),
        }
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

    async fn last_restore_ms(&mut self) -> Option<u64> {
        if !self.is_virtual {
            return None;
        }
        let v = self.mobile(MobileCommand::virtual_state()).await.ok()?;
        v.get("launches")?.as_array()?.last()?.get("restoredAfterMs")?.as_u64()
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
        // The focus moves to whatever is at the point.
        self.clicked = None;
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

    async fn click_xpath(&mut self, xpath: &str) -> Result<(), DriverError> {
        let command = format!("element click {xpath}");
        let element = self
            .driver
            .find(By::XPath(xpath))
            .await
            .map_err(|e| classify(&command, e))?;
        element.click().await.map_err(|e| classify(&command, e))?;
        self.clicked = Some(element);
        Ok(())
    }

    async fn type_text(&mut self, text: &str, _sensitive: bool) -> Result<(), DriverError> {
        // Typed text is never logged here; the transport marks /value and /actions requests
        // sensitive and does not log their body.
        // After a click by element, the keys go to that element (the fake driver, for one,
        // ignores key actions, but it focuses the clicked element).
        if let Some(element) = &self.clicked {
            match element.send_keys(text).await {
                Ok(()) => return Ok(()),
                Err(e) if retry_elsewhere(&e) => self.clicked = None,
                Err(e) => return Err(classify("inputText", e)),
            }
        }
        // Key actions type into the focused element, as a keyboard does.
        match self.key_actions("inputText", text.chars().map(String::from)).await {
            Err(DriverError::Unsupported { command, message }) => {
                // No key actions on this server: send the keys to its focused element.
                let Ok(active) = self.driver.handle().active_element().await else {
                    return Err(DriverError::Unsupported { command, message });
                };
                active.send_keys(text).await.map_err(|e| classify("inputText", e))
            }
            other => other,
        }
    }

    async fn erase_text(&mut self, characters: u32) -> Result<(), DriverError> {
        let backspaces = (0..characters).map(|_| "\u{E003}".to_string());
        self.key_actions("eraseText", backspaces).await
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
            Platform::Android => self.clear_secure_store().await,
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

    async fn hide_keyboard(&mut self) -> Result<(), DriverError> {
        self.mobile(MobileCommand::hide_keyboard()).await.map(|_| ())
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
                source: crate::driver::StorageSource::Virtual,
                entries,
            });
        }
        match self.platform {
            Platform::Android => {
                let path = format!("@{}/{}", self.app_id, crate::host::adb::SECURE_STORE_PREFS);
                match self.mobile(MobileCommand::pull_file(&path)).await {
                    Ok(v) => {
                        let b64 = v.as_str().unwrap_or("");
                        let xml = B64
                            .decode(b64)
                            .map(|b| String::from_utf8_lossy(&b).into_owned())
                            .unwrap_or_default();
                        Ok(StorageRead {
                            source: crate::driver::StorageSource::PullFile,
                            entries: parse_shared_prefs(&xml),
                        })
                    }
                    Err(DriverError::Command { .. }) => Ok(StorageRead {
                        source: crate::driver::StorageSource::PullFile,
                        entries: vec![],
                    }),
                    Err(e) => Err(e),
                }
            }
            Platform::Ios => Ok(StorageRead {
                source: crate::driver::StorageSource::Unavailable,
                entries: vec![],
            }),
        }
    }

    /// A W3C touch drag: down at `from`, moved to `to` over `duration_ms`, up. Coordinates are
    /// the page source's (Android pixels, iOS points), which are the units of W3C actions on
    /// each driver.
    async fn swipe(&mut self, from: (i32, i32), to: (i32, i32), duration_ms: u64) -> Result<(), DriverError> {
        self.clicked = None;
        self.raw(
            "swipe",
            http::Method::POST,
            "/actions",
            Some(swipe_actions(from, to, duration_ms)),
        )
        .await
        .map(|_| ())
    }

    async fn set_orientation(&mut self, orientation: Orientation) -> Result<(), DriverError> {
        let (endpoint, body) = orientation_request(orientation);
        self.raw("setOrientation", http::Method::POST, endpoint, Some(body))
            .await
            .map(|_| ())
    }

    /// `mobile: setSimulatedLocation` (XCUITest) / `setGeolocation` (UiAutomator2); a server
    /// without the method gets the W3C-era `POST /location`.
    async fn set_location(&mut self, latitude: f64, longitude: f64) -> Result<(), DriverError> {
        match self
            .mobile(MobileCommand::set_location(self.platform, latitude, longitude))
            .await
        {
            Err(DriverError::Unsupported { .. }) => {
                let body = json!({"location": {"latitude": latitude, "longitude": longitude, "altitude": 0.0}});
                self.raw("setLocation", http::Method::POST, "/location", Some(body))
                    .await
                    .map(|_| ())
            }
            other => other.map(|_| ()),
        }
    }

    async fn set_airplane_mode(&mut self, on: bool) -> Result<(), DriverError> {
        self.airplane_supported("setAirplaneMode")?;
        self.mobile(MobileCommand::set_airplane_mode(on)).await?;
        self.virtual_airplane = on;
        Ok(())
    }

    async fn airplane_mode(&mut self) -> Result<bool, DriverError> {
        self.airplane_supported("airplane mode (read)")?;
        match self.mobile(MobileCommand::get_connectivity()).await {
            Ok(v) => v
                .get("airplaneMode")
                .and_then(Value::as_bool)
                .ok_or_else(|| DriverError::Command {
                    command: "mobile: getConnectivity".into(),
                    message: format!("no airplaneMode in the answer {v}"),
                }),
            Err(DriverError::Unsupported { .. }) if self.is_virtual => Ok(self.virtual_airplane),
            Err(e) => Err(e),
        }
    }

    /// iOS: `mobile: setAppearance`. Android: `cmd uimode night yes|no` through `mobile: shell`.
    async fn set_dark_mode(&mut self, dark: bool) -> Result<(), DriverError> {
        match self.platform {
            Platform::Ios => self.mobile(MobileCommand::set_appearance(dark)).await.map(|_| ()),
            Platform::Android => {
                let value = if dark { "yes" } else { "no" };
                self.android_shell("setDarkMode", &["uimode", "night", value])
                    .await
                    .map(|_| ())
            }
        }
    }

    async fn dark_mode(&mut self) -> Result<bool, DriverError> {
        match self.platform {
            Platform::Ios => {
                let v = self.mobile(MobileCommand::get_appearance()).await?;
                match v.get("style").and_then(Value::as_str) {
                    Some("dark") => Ok(true),
                    Some("light") => Ok(false),
                    _ => Err(DriverError::Command {
                        command: "mobile: getAppearance".into(),
                        message: format!("expected style dark or light, got {v}"),
                    }),
                }
            }
            Platform::Android => {
                let out = self.android_shell("dark mode (read)", &["uimode", "night"]).await?;
                Ok(crate::host::adb::parse_night_mode(&out)?)
            }
        }
    }

    /// `mobile: pushFile`: iOS simulators add a bare file name to the Photos library; on
    /// Android the file goes to `/sdcard/Pictures/NAME`, where the gallery lists it once the
    /// media scanner has seen it (the device's own scan, or the app's: not done here).
    async fn add_media(&mut self, name: &str, bytes: &[u8]) -> Result<(), DriverError> {
        let name = crate::host::media_file_name(name)?;
        let remote = match self.platform {
            Platform::Ios => name.to_string(),
            Platform::Android => format!("{}/{name}", crate::host::adb::MEDIA_DIR),
        };
        self.mobile(MobileCommand::push_file(&remote, &B64.encode(bytes)))
            .await
            .map(|_| ())
    }

    async fn start_recording(&mut self) -> Result<(), DriverError> {
        self.raw(
            "startRecording",
            http::Method::POST,
            "/appium/start_recording_screen",
            Some(json!({})),
        )
        .await
        .map(|_| ())
    }

    /// The recording, base64 in the answer: an MP4 from real drivers, a GIF from the virtual farm.
    async fn stop_recording(&mut self) -> Result<Recording, DriverError> {
        let v = self
            .raw(
                "stopRecording",
                http::Method::POST,
                "/appium/stop_recording_screen",
                Some(json!({})),
            )
            .await?;
        let bytes = B64
            .decode(v.as_str().unwrap_or("").trim())
            .map_err(|e| DriverError::Command {
                command: "stopRecording".into(),
                message: format!("the recording is not base64: {e}"),
            })?;
        if bytes.is_empty() {
            return Err(DriverError::Command {
                command: "stopRecording".into(),
                message: "the server returned no video (was a recording running?)".into(),
            });
        }
        Ok(Recording {
            extension: recording_extension(&bytes),
            bytes,
        })
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

    async fn quit(mut self: Box<Self>) -> Result<(), DriverError> {
        self.clicked = None;
        self.quit_done = true;
        self.driver
            .clone()
            .quit()
            .await
            .map_err(|e| classify("delete session", e))
    }
}

/// A device dropped without `quit` (a cancelled flow, an abandoned run) ends its session in
/// the background: thirtyfour's own fallback would block an executor thread until the server
/// answers, up to the command timeout. After 10 s the session is left to the server's own
/// timeout; without a runtime it is left at once.
impl Drop for AppiumDevice {
    fn drop(&mut self) {
        if self.quit_done {
            return;
        }
        let (ending, keep) = (self.driver.clone(), self.driver.clone());
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    let _ = tokio::time::timeout(Duration::from_secs(10), ending.quit()).await;
                    // Marks the session ended, whatever the DELETE did: no blocking teardown.
                    let _ = keep.leak();
                });
            }
            Err(_) => {
                let _ = keep.leak();
                drop(ending);
            }
        }
    }
}

/// Device settings through Appium.
impl AppiumDevice {
    /// Real iOS drivers have no airplane mode (capability table); the virtual farm models one.
    fn airplane_supported(&self, command: &str) -> Result<(), DriverError> {
        if self.platform == Platform::Android || self.is_virtual {
            return Ok(());
        }
        Err(DriverError::Unsupported {
            command: command.to_string(),
            message: support(Driver::Appium, Platform::Ios, Feature::AirplaneMode)
                .err()
                .unwrap_or("iOS has no airplane mode that tools can set")
                .to_string(),
        })
    }

    /// `cmd ARGS…` on an Android device through `mobile: shell`, which Appium allows only with
    /// its `adb_shell` insecure feature: a refusal says how to start Appium.
    async fn android_shell(&self, command: &str, args: &[&str]) -> Result<String, DriverError> {
        match self.mobile(MobileCommand::shell("cmd", args)).await {
            Ok(v) => Ok(match v {
                Value::String(s) => s,
                Value::Object(o) => o.get("stdout").and_then(Value::as_str).unwrap_or("").to_string(),
                other => other.to_string(),
            }),
            Err(DriverError::Command { message, .. } | DriverError::Unsupported { message, .. })
                if message.contains("adb_shell") || message.to_ascii_lowercase().contains("insecure feature") =>
            {
                Err(DriverError::Unsupported {
                    command: command.to_string(),
                    message: format!(
                        "`cmd {}` runs through mobile: shell, which this Appium server refuses ({message}): \
                         start Appium with `--allow-insecure uiautomator2:adb_shell`, or use backend appium+host",
                        args.join(" ")
                    ),
                })
            }
            Err(e) => Err(e),
        }
    }
}

/// The W3C actions of a one-finger drag.
pub fn swipe_actions(from: (i32, i32), to: (i32, i32), duration_ms: u64) -> Value {
    json!({"actions": [{
        "type": "pointer", "id": "finger1", "parameters": {"pointerType": "touch"},
        "actions": [
            {"type": "pointerMove", "duration": 0, "x": from.0, "y": from.1, "origin": "viewport"},
            {"type": "pointerDown", "button": 0},
            {"type": "pointerMove", "duration": duration_ms, "x": to.0, "y": to.1, "origin": "viewport"},
            {"type": "pointerUp", "button": 0}
        ]
    }]})
}

/// The request that sets `orientation`: `/orientation` knows portrait and landscape (left),
/// `/rotation` the others by their z angle.
pub fn orientation_request(orientation: Orientation) -> (&'static str, Value) {
    match orientation {
        Orientation::Portrait => ("/orientation", json!({"orientation": "PORTRAIT"})),
        Orientation::LandscapeLeft => ("/orientation", json!({"orientation": "LANDSCAPE"})),
        Orientation::UpsideDown => ("/rotation", json!({"x": 0, "y": 0, "z": 180})),
        Orientation::LandscapeRight => ("/rotation", json!({"x": 0, "y": 0, "z": 270})),
    }
}

/// A recording's file extension by its first bytes: the virtual farm answers GIFs.
pub fn recording_extension(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"GIF8") { "gif" } else { "mp4" }
}

/// expo-secure-store entries of a `SecureStore.xml` pulled from the device (see
/// [`crate::host::adb::parse_secure_store`]); an unreadable file reads as no entries.
pub fn parse_shared_prefs(xml: &str) -> Vec<(String, String, String)> {
    crate::host::adb::parse_secure_store("", xml)
        .map(crate::host::adb::secure_store_entries)
        .unwrap_or_default()
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
                "SecureStore.xml:key_v1".to_string(),
                "{\"ct\":\"AA==\"}".to_string()
            )]
        );
        assert!(parse_shared_prefs("<map/>").is_empty());
    }
}

/// Typing and clicking by element against a scripted WebDriver server.
/// A WebDriver server for the backend's tests: serves a router on loopback and opens an
/// Android session on it.
#[cfg(test)]
mod mock_server {
    use super::*;

    pub(super) async fn connect(app: axum::Router) -> AppiumDevice {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let spec = SessionSpec {
            url,
            platform: Platform::Android,
            app_id: "com.example".into(),
            capabilities: Map::new(),
            is_virtual: false,
        };
        AppiumDevice::connect(&spec).await.unwrap()
    }
}

#[cfg(test)]
mod typing_tests {
    use std::sync::Mutex;

    use axum::Json;
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{Method, StatusCode, Uri};

    use super::*;

    const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

    /// A WebDriver server that accepts key actions or not, and logs what it was asked.
    struct Mock {
        key_actions: bool,
        log: Mutex<Vec<String>>,
    }

    fn error(status: StatusCode, error: &str, message: &str) -> (StatusCode, Json<Value>) {
        (status, Json(json!({"value": {"error": error, "message": message}})))
    }

    async fn handle(State(m): State<Arc<Mock>>, method: Method, uri: Uri, body: Bytes) -> (StatusCode, Json<Value>) {
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let path = uri.path().trim_start_matches("/session/s1");
        let ok = |v: Value| (StatusCode::OK, Json(json!({ "value": v })));
        let log = |line: String| m.log.lock().unwrap().push(line);
        match (method.as_str(), path) {
            ("POST", "/session") => ok(json!({"sessionId": "s1", "capabilities": {}})),
            ("POST", "/timeouts") | ("DELETE", "") => ok(Value::Null),
            ("POST", "/actions") => {
                let source = &body["actions"][0];
                if source["type"] == "key" && !m.key_actions {
                    return error(
                        StatusCode::METHOD_NOT_ALLOWED,
                        "unknown method",
                        "Method has not yet been implemented",
                    );
                }
                let keys: String = source["actions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|a| a["type"] == "keyDown")
                    .filter_map(|a| a["value"].as_str())
                    .collect();
                log(format!("{} actions {keys:?}", source["type"].as_str().unwrap_or("")));
                ok(Value::Null)
            }
            ("GET", "/element/active") => ok(json!({ ELEMENT: "focused" })),
            ("POST", "/element") => match body["value"].as_str() {
                Some("/app/field[1]") => ok(json!({ ELEMENT: "field" })),
                Some("/app/gone[1]") => ok(json!({ ELEMENT: "gone" })),
                _ => error(
                    StatusCode::NOT_FOUND,
                    "no such element",
                    "An element could not be located on the page using the given search parameters.",
                ),
            },
            ("POST", p) if p.ends_with("/click") => {
                log(format!("click {}", &p[9..p.len() - 6]));
                ok(Value::Null)
            }
            ("POST", "/element/gone/value") => error(
                StatusCode::NOT_FOUND,
                "stale element reference",
                "The element is no longer attached",
            ),
            ("POST", p) if p.ends_with("/value") => {
                log(format!("value {} {}", &p[9..p.len() - 6], body["text"]));
                ok(Value::Null)
            }
            _ => error(StatusCode::NOT_FOUND, "unknown command", "no such route"),
        }
    }

    async fn device(key_actions: bool) -> (AppiumDevice, Arc<Mock>) {
        let mock = Arc::new(Mock {
            key_actions,
            log: Mutex::new(vec![]),
        });
        let app = axum::Router::new().fallback(handle).with_state(mock.clone());
        (super::mock_server::connect(app).await, mock)
    }

    fn log(m: &Mock) -> Vec<String> {
        std::mem::take(&mut *m.log.lock().unwrap())
    }

    #[tokio::test]
    async fn key_actions_type_into_the_focused_element() {
        let (mut d, m) = device(true).await;
        d.type_text("hé!", false).await.unwrap();
        d.erase_text(2).await.unwrap();
        assert_eq!(log(&m), ["key actions \"hé!\"", "key actions \"\\u{e003}\\u{e003}\""]);
        Box::new(d).quit().await.unwrap();
    }

    #[tokio::test]
    async fn without_key_actions_the_keys_go_to_the_active_element() {
        let (mut d, m) = device(false).await;
        d.type_text("hunter2", true).await.unwrap();
        assert_eq!(log(&m), ["value focused \"hunter2\""]);
        // Other failures of key actions stay errors, naming the command.
        let e = d.erase_text(1).await.unwrap_err();
        assert!(
            matches!(&e, DriverError::Unsupported { command, message }
                if command == "eraseText" && message == "Method has not yet been implemented"),
            "{e:?}"
        );
        Box::new(d).quit().await.unwrap();
    }

    #[tokio::test]
    async fn after_a_click_by_xpath_the_keys_go_to_the_clicked_element() {
        let (mut d, m) = device(true).await;
        d.click_xpath("/app/field[1]").await.unwrap();
        d.type_text("a@b.c", false).await.unwrap();
        assert_eq!(log(&m), ["click field", "value field \"a@b.c\""]);
        // A tap at a point moves the focus: key actions again.
        d.press(1, 2, 0).await.unwrap();
        d.type_text("x", false).await.unwrap();
        assert_eq!(log(&m), ["pointer actions \"\"", "key actions \"x\""]);
        // A clicked element that is gone: the keys go where the focus is.
        d.click_xpath("/app/gone[1]").await.unwrap();
        d.type_text("y", false).await.unwrap();
        assert_eq!(log(&m), ["click gone", "key actions \"y\""]);
        Box::new(d).quit().await.unwrap();
    }

    #[tokio::test]
    async fn clicking_a_missing_xpath_names_it() {
        let (mut d, _m) = device(true).await;
        let e = d.click_xpath("/app/nothing[1]").await.unwrap_err();
        assert!(!e.is_infrastructure());
        assert_eq!(
            e.to_string(),
            "element click /app/nothing[1] failed: An element could not be located on the page using the given \
             search parameters."
        );
        Box::new(d).quit().await.unwrap();
    }
}

/// How server and session failures become [`DriverError`]s, with their causes.
#[cfg(test)]
mod error_tests {
    use std::error::Error as _;

    use axum::Json;
    use axum::http::StatusCode;
    use thirtyfour::error::{WebDriverErrorInfo, WebDriverErrorValue};

    use super::*;

    fn info(status: u16, error: &str, message: &str) -> WebDriverErrorInfo {
        WebDriverErrorInfo {
            status,
            error: error.into(),
            value: WebDriverErrorValue::new(message.into()),
        }
    }

    fn spec(url: String) -> SessionSpec {
        SessionSpec {
            url,
            platform: Platform::Android,
            app_id: "com.example".into(),
            capabilities: Map::new(),
            is_virtual: false,
        }
    }

    #[test]
    fn session_and_server_errors_keep_the_webdriver_error() {
        let lost = classify(
            "tap",
            WebDriverError::InvalidSessionId(info(404, "invalid session id", "session gone")),
        );
        assert_eq!(lost.to_string(), "the device session was lost: session gone");
        let cause = lost.source().and_then(|s| s.downcast_ref::<WebDriverError>()).unwrap();
        assert!(matches!(cause.as_inner(), WebDriverErrorInner::InvalidSessionId(_)));
        assert!(lost.is_infrastructure());

        let gateway = classify(
            "page source",
            WebDriverError::UnknownResponse(502, "<html>bad gateway".into()),
        );
        assert!(
            matches!(&gateway, DriverError::Unreachable { message, .. } if message == "HTTP 502: <html>bad gateway"),
            "{gateway:?}"
        );

        // The two shapes the executor matches on carry the server's message.
        let e = classify(
            "mobile: x",
            WebDriverError::UnknownMethod(info(405, "unknown method", "not implemented")),
        );
        assert!(
            matches!(&e, DriverError::Unsupported { command, message } if command == "mobile: x" && message == "not implemented"),
            "{e:?}"
        );
        let e = classify(
            "element click",
            WebDriverError::NoSuchElement(info(404, "no such element", "nothing there")),
        );
        assert!(
            matches!(&e, DriverError::Command { command, message } if command == "element click" && message == "nothing there"),
            "{e:?}"
        );
        assert!(!e.is_infrastructure());
    }

    #[tokio::test]
    async fn an_unreachable_server_says_why() {
        // A port nobody listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = AppiumDevice::connect(&spec(format!("http://127.0.0.1:{port}")))
            .await
            .err()
            .unwrap();
        let DriverError::Unreachable { message, source } = &e else {
            panic!("{e:?}")
        };
        assert!(message.to_lowercase().contains("connection refused"), "{message}");
        assert!(matches!(source.as_inner(), WebDriverErrorInner::HttpError(_)));
    }

    #[tokio::test]
    async fn a_refused_session_is_session_not_created() {
        let app = axum::Router::new().fallback(|| async {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"value": {"error": "unknown error", "message": "no device is free"}})),
            )
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let e = AppiumDevice::connect(&spec(url)).await.err().unwrap();
        assert_eq!(
            e.to_string(),
            "the device refused to start a session: no device is free"
        );
        let cause = e.source().and_then(|s| s.downcast_ref::<WebDriverError>()).unwrap();
        assert!(matches!(cause.as_inner(), WebDriverErrorInner::UnknownError(_)));
    }
}

/// `clearKeychain` on Android against scripted servers.
#[cfg(test)]
mod clear_keychain_tests {
    use std::sync::Mutex;

    use axum::Json;
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{Method, StatusCode, Uri};

    use super::*;

    /// How the server answers `mobile: deleteFile`.
    #[derive(Clone, Copy)]
    enum DeleteFile {
        Deletes,
        /// No such method (the fake driver, other drivers).
        Unknown,
        /// UiAutomator2 on a release build: run-as refuses.
        NotDebuggable,
    }

    struct Mock {
        delete_file: DeleteFile,
        log: Mutex<Vec<String>>,
    }

    async fn handle(State(m): State<Arc<Mock>>, method: Method, uri: Uri, body: Bytes) -> (StatusCode, Json<Value>) {
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let ok = |v: Value| (StatusCode::OK, Json(json!({ "value": v })));
        let error =
            |status, error: &str, message: &str| (status, Json(json!({"value": {"error": error, "message": message}})));
        match (method.as_str(), uri.path().trim_start_matches("/session/s1")) {
            ("POST", "/session") => ok(json!({"sessionId": "s1", "capabilities": {}})),
            ("POST", "/timeouts") | ("DELETE", "") => ok(Value::Null),
            ("POST", "/execute/sync") => {
                let script = body["script"].as_str().unwrap_or("").to_string();
                let args = &body["args"][0];
                m.log.lock().unwrap().push(format!("{script} {args}"));
                match (script.as_str(), m.delete_file) {
                    ("mobile: terminateApp", _) => ok(json!(true)),
                    ("mobile: deleteFile", DeleteFile::Deletes) => ok(json!(true)),
                    ("mobile: deleteFile", DeleteFile::Unknown) => error(
                        StatusCode::NOT_FOUND,
                        "unknown method",
                        "Unknown mobile command \"deleteFile\"",
                    ),
                    ("mobile: deleteFile", DeleteFile::NotDebuggable) => error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "unknown error",
                        "Cannot access the container of 'com.example' application. Is the application installed \
                         and has 'debuggable' build option set to true?",
                    ),
                    _ => error(StatusCode::NOT_FOUND, "unknown method", "no such method"),
                }
            }
            _ => error(StatusCode::NOT_FOUND, "unknown command", "no such route"),
        }
    }

    async fn device(delete_file: DeleteFile) -> (AppiumDevice, Arc<Mock>) {
        let mock = Arc::new(Mock {
            delete_file,
            log: Mutex::new(vec![]),
        });
        let app = axum::Router::new().fallback(handle).with_state(mock.clone());
        (super::mock_server::connect(app).await, mock)
    }

    #[tokio::test]
    async fn android_stops_the_app_then_deletes_secure_store_xml() {
        let (mut d, m) = device(DeleteFile::Deletes).await;
        d.clear_keychain().await.unwrap();
        assert_eq!(
            *m.log.lock().unwrap(),
            [
                r#"mobile: terminateApp {"appId":"com.example"}"#,
                r#"mobile: deleteFile {"remotePath":"@com.example/shared_prefs/SecureStore.xml"}"#,
            ]
        );
        Box::new(d).quit().await.unwrap();
    }

    #[tokio::test]
    async fn android_without_delete_file_is_unsupported_and_says_what_to_use() {
        for (server, says) in [
            (DeleteFile::Unknown, "this server has no mobile: deleteFile"),
            (DeleteFile::NotDebuggable, "needs a debuggable build"),
        ] {
            let (mut d, _m) = device(server).await;
            let e = d.clear_keychain().await.unwrap_err();
            let DriverError::Unsupported { command, message } = &e else {
                panic!("{e:?}")
            };
            assert_eq!(command, "clearKeychain");
            assert!(message.contains(says), "{message}");
            assert!(message.contains("clearState"), "{message}");
            assert!(message.contains("shared_prefs/SecureStore.xml"), "{message}");
            Box::new(d).quit().await.unwrap();
        }
    }
}
