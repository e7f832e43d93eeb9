//! Device backends and what the executor needs from a device.
//!
//! `appium` (any Appium-compatible server: the virtual farm, a local Appium, a Grid, a
//! cloud farm) is reached through thirtyfour with our `transport`; `android_host` (adb) and
//! `ios_host` (xcrun simctl) drive local emulators and simulators with host tools alone
//! (profile `backend: host`), and `hybrid` joins Appium with one of them (`appium+host`); `mobile` holds the typed
//! `mobile:` commands with each platform's argument names; `hierarchy` parses page source
//! and `select` evaluates Maestro selectors over it. Every operation a backend cannot do
//! returns [`DriverError::Unsupported`], never a silent no-op.
pub mod android_host;
pub mod appium;
pub mod capability;
pub mod fake;
pub mod hierarchy;
pub mod hybrid;
pub mod ios_host;
pub mod mobile;
pub mod select;
pub mod transport;

use crate::flow::model::{Orientation, Permission};
use crate::platform::Platform;

/// What went wrong talking to a device.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The server does not implement a command (a `mobile:` method, a W3C endpoint).
    #[error("{command} is not supported by this device: {message}")]
    Unsupported { command: String, message: String },
    /// The session is gone (server restarted, session timed out).
    #[error("the device session was lost: {0}")]
    SessionLost(String),
    /// The server could not be reached or answered something that is not WebDriver.
    #[error("the device server is unreachable: {0}")]
    Unreachable(String),
    /// The server refused to create a session.
    #[error("the device refused to start a session: {0}")]
    SessionNotCreated(String),
    /// A host tool (`adb`, `xcrun simctl`) failed, is missing, or answered something unreadable.
    /// The message names the command, quotes the tool's error and says what to do.
    #[error("{0}")]
    Host(String),
    /// Any other error the server reported for a command.
    #[error("{command} failed: {message}")]
    Command { command: String, message: String },
}

impl DriverError {
    /// Infrastructure errors make a case an `error`, not a `failure`.
    pub fn is_infrastructure(&self) -> bool {
        !matches!(self, DriverError::Command { .. })
    }
}

impl From<crate::host::HostError> for DriverError {
    fn from(e: crate::host::HostError) -> Self {
        match e.hint() {
            Some(hint) => DriverError::Host(format!("{e} ({hint})")),
            None => DriverError::Host(e.to_string()),
        }
    }
}

/// Where a backend read secure storage from (`storage_source` in results.json).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum StorageSource {
    /// The virtual farm's model of the app's storage.
    #[serde(rename = "virtual")]
    Virtual,
    /// Appium's `mobile: pullFile` of expo-secure-store's SecureStore.xml (Android).
    #[serde(rename = "pullFile")]
    PullFile,
    /// `adb exec-out run-as PKG cat shared_prefs/SecureStore.xml` (Android, debuggable builds).
    #[serde(rename = "run-as")]
    RunAs,
    /// The iOS simulator's keychain database, read by the host tools.
    #[serde(rename = "keychain-2-debug.db")]
    KeychainDb,
    /// This device's secure storage cannot be read (iOS through Appium alone, real devices).
    #[serde(rename = "unavailable")]
    Unavailable,
}

impl StorageSource {
    /// The name results.json and the reports use.
    pub fn name(self) -> &'static str {
        match self {
            StorageSource::Virtual => "virtual",
            StorageSource::PullFile => "pullFile",
            StorageSource::RunAs => "run-as",
            StorageSource::KeychainDb => "keychain-2-debug.db",
            StorageSource::Unavailable => "unavailable",
        }
    }
}

impl std::fmt::Display for StorageSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Secure storage as a backend can read it.
#[derive(Clone, Debug, PartialEq)]
pub struct StorageRead {
    pub source: StorageSource,
    /// (key, store, value-or-envelope). Values are digested by the caller and never kept.
    pub entries: Vec<(String, String, String)>,
}

/// A device session, as the executor drives it.
#[async_trait::async_trait]
pub trait Device: Send {
    fn platform(&self) -> Platform;
    /// The app under test (bundle id / package).
    fn app_id(&self) -> &str;
    /// Whether this is a device of the embedded virtual farm (its time runs faster).
    fn is_virtual(&self) -> bool {
        false
    }
    /// The device's own clock in ms, when it has one that differs from real time (virtual
    /// devices): waits are measured on it, so a busy host cannot make them time out early.
    async fn device_time_ms(&mut self) -> Option<u64> {
        None
    }
    /// Launch to signed-in of the last cold start, as the device itself measured it (virtual
    /// devices); others are timed by the harness.
    async fn last_restore_ms(&mut self) -> Option<u64> {
        None
    }
    /// The last cold launch as the device's launcher measured it (process start to first
    /// frame: `am start -W`'s `TotalTime`), for backends that can ask; taken once per launch.
    async fn take_cold_launch_ms(&mut self) -> Option<u64> {
        None
    }
    async fn source(&mut self) -> Result<String, DriverError>;
    async fn screenshot(&mut self) -> Result<Vec<u8>, DriverError>;
    /// Touches a point in page-source units (iOS points, Android pixels) for `hold_ms`.
    async fn press(&mut self, x: i32, y: i32, hold_ms: u64) -> Result<(), DriverError>;
    /// Clicks the element at this XPath (W3C element click), for sources without geometry.
    async fn click_xpath(&mut self, xpath: &str) -> Result<(), DriverError> {
        Err(DriverError::Unsupported {
            command: "element click".into(),
            message: format!("cannot click {xpath}"),
        })
    }
    /// Types into the focused field. `sensitive`: the text is a secret (not logged).
    async fn type_text(&mut self, text: &str, sensitive: bool) -> Result<(), DriverError>;
    async fn erase_text(&mut self, characters: u32) -> Result<(), DriverError>;
    async fn launch_app(&mut self) -> Result<(), DriverError>;
    /// Launches with `launchApp.arguments` (iOS launch arguments `-key value`, Android intent
    /// extras); without arguments, [`Device::launch_app`].
    async fn launch_app_with(&mut self, arguments: &[(String, String)]) -> Result<(), DriverError> {
        if arguments.is_empty() {
            return self.launch_app().await;
        }
        Err(DriverError::Unsupported {
            command: "launchApp arguments".into(),
            message: "this backend cannot pass launch arguments yet; use backend host or appium+host \
                      on a local simulator or emulator"
                .into(),
        })
    }
    /// Grants, revokes or resets the app's permissions (`launchApp.permissions`,
    /// `setPermissions`), by Maestro's names (`all`, `camera`, `location`, …).
    async fn set_permissions(&mut self, permissions: &[(String, Permission)]) -> Result<(), DriverError> {
        if permissions.is_empty() {
            return Ok(());
        }
        Err(DriverError::Unsupported {
            command: "permissions".into(),
            message: "this backend cannot set permissions yet; use backend host or appium+host \
                      on a local simulator or emulator"
                .into(),
        })
    }
    async fn terminate_app(&mut self) -> Result<bool, DriverError>;
    async fn app_state(&mut self) -> Result<i64, DriverError>;
    async fn clear_app(&mut self) -> Result<(), DriverError>;
    async fn clear_keychain(&mut self) -> Result<(), DriverError>;
    async fn background(&mut self, seconds: f64) -> Result<(), DriverError>;
    async fn set_network(&mut self, online: bool) -> Result<(), DriverError>;
    async fn open_link(&mut self, url: &str) -> Result<(), DriverError>;
    async fn press_back(&mut self) -> Result<(), DriverError>;
    async fn hide_keyboard(&mut self) -> Result<(), DriverError>;
    async fn secure_storage(&mut self) -> Result<StorageRead, DriverError>;
    /// Device log lines since the last call.
    async fn logs(&mut self) -> Result<Vec<String>, DriverError>;
    /// Ends the session.
    async fn quit(self: Box<Self>) -> Result<(), DriverError>;

    // Gestures and device settings. A backend that cannot do one keeps the default, which
    // says so ([`capability::support`] tells the same before a run starts).

    /// Drags from `from` to `to` (page-source units) over `duration_ms`: swipes and scrolls.
    async fn swipe(&mut self, from: (i32, i32), to: (i32, i32), duration_ms: u64) -> Result<(), DriverError> {
        let _ = (from, to, duration_ms);
        Err(unsupported("swipe"))
    }
    async fn set_orientation(&mut self, orientation: Orientation) -> Result<(), DriverError> {
        let _ = orientation;
        Err(unsupported("setOrientation"))
    }
    async fn set_location(&mut self, latitude: f64, longitude: f64) -> Result<(), DriverError> {
        let _ = (latitude, longitude);
        Err(unsupported("setLocation"))
    }
    async fn set_airplane_mode(&mut self, on: bool) -> Result<(), DriverError> {
        let _ = on;
        Err(unsupported("setAirplaneMode"))
    }
    async fn airplane_mode(&mut self) -> Result<bool, DriverError> {
        Err(unsupported("airplane mode (read)"))
    }
    async fn set_dark_mode(&mut self, dark: bool) -> Result<(), DriverError> {
        let _ = dark;
        Err(unsupported("setDarkMode"))
    }
    async fn dark_mode(&mut self) -> Result<bool, DriverError> {
        Err(unsupported("dark mode (read)"))
    }
    /// Adds a file (image or video) to the device's photo library / gallery.
    async fn add_media(&mut self, name: &str, bytes: &[u8]) -> Result<(), DriverError> {
        let _ = (name, bytes);
        Err(unsupported("addMedia"))
    }
    async fn start_recording(&mut self) -> Result<(), DriverError> {
        Err(unsupported("startRecording"))
    }
    async fn stop_recording(&mut self) -> Result<Recording, DriverError> {
        Err(unsupported("stopRecording"))
    }
}

/// A screen recording as the device gave it.
#[derive(Clone, Debug, PartialEq)]
pub struct Recording {
    pub bytes: Vec<u8>,
    /// The file extension of its format: `mp4`, `mov`, `gif`.
    pub extension: &'static str,
}

/// The error of an operation this backend does not have.
pub fn unsupported(command: &str) -> DriverError {
    DriverError::Unsupported {
        command: command.to_string(),
        message: "this backend cannot do it (see README's command table for the backends that can)".into(),
    }
}
