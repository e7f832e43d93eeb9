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
pub mod vendor;

use std::path::PathBuf;

use thirtyfour::error::WebDriverError;

use crate::flow::model::{Orientation, Permission};
use crate::host::HostError;
use crate::host::adb::AdbState;
use crate::platform::Platform;
use crate::profile::device::SimulatorRef;

/// What went wrong talking to a device.
///
/// Each message is complete on its own: the executor and the runner show `to_string()`.
/// Variants with a `source` quote what matters of it in their message and keep it, typed, for
/// code that needs the cause itself ([`std::error::Error::source`]).
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The server does not implement a command (a `mobile:` method, a W3C endpoint).
    #[error("{command} is not supported by this device: {message}")]
    Unsupported { command: String, message: String },
    /// The session is gone (server restarted, session timed out).
    #[error("the device session was lost: {message}")]
    SessionLost {
        message: String,
        #[source]
        source: WebDriverError,
    },
    /// The server could not be reached or answered something that is not WebDriver.
    #[error("the device server is unreachable: {message}")]
    Unreachable {
        message: String,
        #[source]
        source: WebDriverError,
    },
    /// The server refused to create a session.
    #[error("the device refused to start a session: {message}")]
    SessionNotCreated {
        message: String,
        #[source]
        source: WebDriverError,
    },
    /// The HTTP client for the server could not be set up (TLS backend, system settings).
    #[error("cannot set up an HTTP client for {url}: {source}")]
    HttpClient {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// A host tool (`adb`, `xcrun simctl`) failed, is missing, or answered something unreadable.
    /// The message names the command, quotes the tool's error and, when the tool's message says
    /// enough to tell, what to do ([`HostError::hint`]).
    #[error("{error}{hint}", error = .0, hint = .0.hint().map(|h| format!(" ({h})")).unwrap_or_default())]
    Host(#[from] HostError),
    /// A host backend cannot open a session on the device or app the profiles name.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// A local file a host backend needs could not be written or read.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done, as a verb phrase (`create`, `read the screenshot`).
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Any other error the server reported for a command.
    #[error("{command} failed: {message}")]
    Command { command: String, message: String },
}

impl DriverError {
    /// A lost session with this message (tests, and backends without a WebDriver error).
    pub fn session_lost(message: impl Into<String>) -> Self {
        let message = message.into();
        DriverError::SessionLost {
            source: WebDriverError::InvalidSessionId(thirtyfour::error::WebDriverErrorInfo::new(message.clone())),
            message,
        }
    }

    /// An unreachable server with this message (tests, and callers without a WebDriver error).
    pub fn unreachable(message: impl Into<String>) -> Self {
        let message = message.into();
        DriverError::Unreachable {
            source: WebDriverError::HttpError(message.clone()),
            message,
        }
    }

    /// Infrastructure errors make a case an `error`, not a `failure`.
    pub fn is_infrastructure(&self) -> bool {
        !matches!(self, DriverError::Command { .. })
    }
}

/// Why a host backend (`backend: host`, the host half of `appium+host`) cannot open a
/// session: nothing was done on the device yet, and the message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The device profile names an AVD; the host backend needs the serial of a running emulator.
    #[error(
        "backend host drives a running emulator by its adb serial, but the profile names the AVD {avd}: \
         start it (emulator -avd {avd}) and write its serial in the profile (serial: emulator-5554; \
         `harness devices` lists them)"
    )]
    AvdWithoutSerial { avd: String },
    /// The app profile lacks the app id this platform needs.
    #[error("the flow's app profile has no {field}: backend host needs it")]
    NoAppId {
        /// The profile key: `android.package` or `ios.bundleId`.
        field: &'static str,
    },
    /// adb does not list the serial.
    #[error(
        "adb does not see {serial} (`adb devices -l` lists: {}): start the emulator, or fix serial in the device profile",
        if seen.is_empty() { "nothing".to_string() } else { seen.join(", ") }
    )]
    NotAttached { serial: String, seen: Vec<String> },
    /// adb lists the serial in a state other than `device`.
    #[error("{serial} is {} in `adb devices -l`: {}", state.as_str(), match state {
        AdbState::Unauthorized => "accept the USB debugging prompt on the device",
        AdbState::Offline => "wait for it to finish booting, or run `adb reconnect`",
        _ => "bring it to the `device` state (booted, authorised) and retry",
    })]
    NotReady { serial: String, state: AdbState },
    /// The package has no launcher activity on the device (it is not installed).
    #[error(
        "{package} has no launcher activity on {serial} (`cmd package resolve-activity --brief {package}` said {said:?}): \
         install the app first (adb install app.apk)"
    )]
    NotInstalled {
        package: String,
        serial: String,
        said: String,
    },
    /// No simulator matches the profile.
    #[error(
        "`xcrun simctl list -j devices` has no simulator with {}: create it in Xcode, or pick one that `harness devices` lists",
        match (device, os_version) {
            (SimulatorRef::Udid(u), _) => format!("udid {u}"),
            (SimulatorRef::DeviceName(n), Some(v)) => format!("an available \"{n}\" with iOS {v}"),
            (SimulatorRef::DeviceName(n), None) => format!("an available \"{n}\""),
        }
    )]
    NoSimulator {
        device: SimulatorRef,
        os_version: Option<String>,
    },
    /// `$HOME` is not set, and `simctl list` gave no data path.
    #[error("HOME is not set: cannot find the simulator's data directory")]
    NoHome,
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
    /// Clears the app's secure storage: the simulator's keychain on iOS; on Android, which has
    /// none, expo-secure-store's SharedPreferences file, after stopping the app.
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

/// A media file's bytes written to a private folder (removed when the folder is dropped), for
/// the host tools that take a path (`adb push`, `simctl addmedia`): the folder and the file.
pub fn stage_media(prefix: &str, name: &str, bytes: &[u8]) -> Result<(crate::host::PrivateDir, PathBuf), DriverError> {
    let name = crate::host::media_file_name(name)?;
    let dir = crate::host::PrivateDir::new(prefix).map_err(|source| DriverError::Io {
        action: "create a private folder for",
        path: std::env::temp_dir(),
        source,
    })?;
    let file = dir.path().join(name);
    std::fs::write(&file, bytes).map_err(|source| DriverError::Io {
        action: "write",
        path: file.clone(),
        source,
    })?;
    Ok((dir, file))
}

/// The error of an operation this backend does not have.
pub fn unsupported(command: &str) -> DriverError {
    DriverError::Unsupported {
        command: command.to_string(),
        message: "this backend cannot do it (see README's command table for the backends that can)".into(),
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn host_errors_keep_their_cause_and_say_what_to_do() {
        let e = DriverError::from(HostError::Failed {
            command: "adb -s emulator-5554 shell pidof x".into(),
            status: Some(1),
            stderr: "error: device offline\n".into(),
        });
        assert_eq!(
            e.to_string(),
            "`adb -s emulator-5554 shell pidof x` failed (exit status 1): error: device offline \
             (the device is offline: wait for it to finish booting, or run `adb reconnect`)"
        );
        let cause = e.source().and_then(|s| s.downcast_ref::<HostError>());
        assert!(
            matches!(cause, Some(HostError::Failed { status: Some(1), .. })),
            "{cause:?}"
        );
        assert!(e.is_infrastructure());
        // Without a hint: the host error's own message.
        let e = DriverError::from(HostError::Missing {
            program: "adb".into(),
            hint: crate::host::command::install_hint("adb"),
        });
        assert_eq!(
            e.to_string(),
            "adb is not installed: install the Android platform tools (Debian package `adb`)"
        );
    }

    #[test]
    fn setup_errors_say_what_to_fix() {
        let e = DriverError::from(SetupError::NotReady {
            serial: "emulator-5554".into(),
            state: AdbState::Offline,
        });
        assert_eq!(
            e.to_string(),
            "emulator-5554 is offline in `adb devices -l`: wait for it to finish booting, or run `adb reconnect`"
        );
        assert!(e.is_infrastructure());
        let e = SetupError::NotAttached {
            serial: "emulator-5556".into(),
            seen: vec![],
        };
        assert!(e.to_string().contains("(`adb devices -l` lists: nothing)"), "{e}");
        let e = SetupError::NotAttached {
            serial: "emulator-5556".into(),
            seen: vec!["emulator-5554".into(), "R58M".into()],
        };
        assert!(e.to_string().contains("lists: emulator-5554, R58M)"), "{e}");
        let e = SetupError::NoSimulator {
            device: SimulatorRef::DeviceName("iPhone 16".into()),
            os_version: Some("17.0".into()),
        };
        assert_eq!(
            e.to_string(),
            "`xcrun simctl list -j devices` has no simulator with an available \"iPhone 16\" with iOS 17.0: \
             create it in Xcode, or pick one that `harness devices` lists"
        );
        let e = SetupError::NoSimulator {
            device: SimulatorRef::Udid("ABC".into()),
            os_version: None,
        };
        assert!(e.to_string().contains("no simulator with udid ABC:"), "{e}");
    }

    #[test]
    fn io_errors_name_the_file_and_keep_the_io_error() {
        let e = DriverError::Io {
            action: "create",
            path: PathBuf::from("/tmp/x"),
            source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
        };
        assert!(e.to_string().starts_with("cannot create /tmp/x: "), "{e}");
        let cause = e.source().and_then(|s| s.downcast_ref::<std::io::Error>());
        assert_eq!(cause.map(std::io::Error::kind), Some(std::io::ErrorKind::AlreadyExists));
    }
}
