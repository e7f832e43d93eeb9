//! Host tools that drive local simulators and emulators: `adb` (Android) and `xcrun simctl` (iOS).
//!
//! - [`command`]: running a tool as argv (never through a local shell) with a timeout, the
//!   [`HostError`] type, and quoting for the device shell behind `adb shell`.
//! - [`adb`]: argv builders and output parsers for `adb` (reference device-mechanics §2.1).
//! - [`simctl`]: argv builders and output parsers for `xcrun simctl` (§2.2).
//!
//! [`list_devices`] lists what is attached, and [`profile_line`] turns one entry into a device
//! profile for `devices/`. A missing tool is reported as a note, not an error.

pub mod adb;
pub mod command;
pub mod keychain;
pub mod simctl;

use std::time::Duration;

pub use command::{Cmd, CmdOutput, HostError, adb_shell_args, shell_quote};

/// How long listing commands may take before they are killed.
pub const LIST_TIMEOUT: Duration = Duration::from_secs(15);

/// One device or simulator known to a host tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostDevice {
    /// `"iOS"` or `"Android"`.
    pub platform: &'static str,
    /// adb serial or simulator UDID.
    pub id: String,
    /// Model (Android) or simulator name (iOS).
    pub name: String,
    /// adb state (`device`, `offline`, …) or simulator state (`Booted`, `Shutdown`, …).
    pub state: String,
    /// Extra facts: runtime, product, transport id, availability.
    pub detail: String,
}

impl HostDevice {
    fn from_adb(d: &adb::AdbDevice) -> HostDevice {
        let mut detail = Vec::new();
        if let Some(p) = &d.product {
            detail.push(format!("product {p}"));
        }
        if let Some(t) = &d.transport_id {
            detail.push(format!("transport {t}"));
        }
        HostDevice {
            platform: "Android",
            id: d.serial.clone(),
            name: d.model.clone().unwrap_or_default(),
            state: d.state.as_str().to_string(),
            detail: detail.join(", "),
        }
    }

    fn from_simulator(s: &simctl::Simulator) -> HostDevice {
        let mut detail = s.runtime.clone();
        if !s.is_available {
            detail.push_str(", unavailable");
        }
        HostDevice {
            platform: "iOS",
            id: s.udid.clone(),
            name: s.name.clone(),
            state: s.state.clone(),
            detail,
        }
    }
}

/// Devices from `adb devices -l` and `xcrun simctl list -j devices`, plus notes about tools
/// that are missing or failed (e.g. "adb not installed: …").
pub fn list_devices() -> (Vec<HostDevice>, Vec<String>) {
    let mut devices = Vec::new();
    let mut notes = Vec::new();
    match Cmd::new("adb", adb::devices_args())
        .run(LIST_TIMEOUT)
        .and_then(|out| adb::parse_devices(&out.stdout_text()))
    {
        Ok(list) => devices.extend(list.iter().map(HostDevice::from_adb)),
        Err(e) => notes.push(note("adb", &e)),
    }
    match Cmd::new("xcrun", simctl::list_args())
        .run(LIST_TIMEOUT)
        .and_then(|out| simctl::parse_list(&out.stdout_text()))
    {
        Ok(list) => devices.extend(list.iter().map(HostDevice::from_simulator)),
        Err(e) => notes.push(note("xcrun simctl", &e)),
    }
    (devices, notes)
}

fn note(tool: &str, e: &HostError) -> String {
    match e {
        HostError::Missing { hint, .. } => format!("{tool} not installed: {hint}"),
        other => format!("{tool}: {other}"),
    }
}

/// A device profile to paste into `devices/<name>.yaml` for `d`.
///
/// Emulators get `kind: android-emulator` + `serial`, simulators `kind: ios-simulator` + `udid`;
/// a physical Android device gets `kind: appium` with `appium:udid` (there is no local kind for it).
pub fn profile_line(d: &HostDevice) -> String {
    let name = profile_name(d);
    let id = yaml_scalar(&d.id);
    match d.platform {
        "iOS" => format!("name: {name}\nplatform: iOS\nkind: ios-simulator\ntags: [local]\nudid: {id}\n"),
        _ if d.id.starts_with("emulator-") => {
            format!("name: {name}\nplatform: Android\nkind: android-emulator\ntags: [local]\nserial: {id}\n")
        }
        _ => format!(
            "name: {name}\nplatform: Android\nkind: appium\ntags: [local]\nurl: http://127.0.0.1:4723\n\
             capabilities:\n  platformName: Android\n  appium:automationName: UiAutomator2\n  appium:udid: {id}\n"
        ),
    }
}

/// A profile name from the device name (or id): lowercase ASCII words joined by `-`.
fn profile_name(d: &HostDevice) -> String {
    let source = if d.name.is_empty() { &d.id } else { &d.name };
    let slug = source
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if slug.is_empty() { "device".to_string() } else { slug }
}

/// A YAML scalar: plain when safe, otherwise double-quoted JSON (valid YAML).
fn yaml_scalar(s: &str) -> String {
    let plain = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if plain {
        s.to_string()
    } else {
        serde_json::Value::String(s.to_string()).to_string()
    }
}

/// A new folder only this user can read (mode 0700), under the system's temporary folder,
/// removed with everything in it when dropped: where host backends put the files they hand
/// to a tool (media for `adb push` / `simctl addmedia`, recordings, screenshots).
#[derive(Debug)]
pub struct PrivateDir {
    path: std::path::PathBuf,
}

impl PrivateDir {
    pub fn new(prefix: &str) -> std::io::Result<PrivateDir> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        // `create` (not `create_all`) fails when the path exists, so nothing planted there is used.
        builder.create(&path)?;
        Ok(PrivateDir { path })
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The file name `addMedia` gives a media file on the device: the last component of `name`,
/// which must be a plain file name (no `..`, no control characters, not hidden).
pub fn media_file_name(name: &str) -> Result<&str, HostError> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    if base.is_empty() || base.starts_with('.') || base.chars().any(char::is_control) {
        return Err(HostError::Invalid {
            what: format!("{name:?} is not a media file name"),
        });
    }
    Ok(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEVICES: &str = include_str!("../../tests/fixtures/host/adb-devices-l.txt");
    const LIST: &str = include_str!("../../tests/fixtures/host/simctl-list-devices.json");

    #[test]
    fn host_devices_and_profiles_from_fixtures() {
        let android: Vec<HostDevice> = adb::parse_devices(DEVICES)
            .unwrap()
            .iter()
            .map(HostDevice::from_adb)
            .collect();
        let ios: Vec<HostDevice> = simctl::parse_list(LIST)
            .unwrap()
            .iter()
            .map(HostDevice::from_simulator)
            .collect();
        assert_eq!(android[0].platform, "Android");
        assert_eq!(android[0].name, "sdk_gphone64_x86_64");
        assert_eq!(android[0].detail, "product sdk_gphone64_x86_64, transport 1");
        assert_eq!(
            profile_line(&android[0]),
            "name: sdk-gphone64-x86-64\nplatform: Android\nkind: android-emulator\ntags: [local]\nserial: emulator-5554\n"
        );
        assert!(profile_line(&android[1]).contains("kind: appium\n"));
        assert!(profile_line(&android[1]).contains("appium:udid: R58M123ABC\n"));
        assert_eq!(ios[0].detail, "iOS 18.2");
        assert_eq!(ios[1].detail, "iOS 18.2, unavailable");
        assert_eq!(
            profile_line(&ios[0]),
            "name: iphone-16\nplatform: iOS\nkind: ios-simulator\ntags: [local]\nudid: 5A1B2C3D-0000-4000-8000-000000000001\n"
        );
    }

    #[test]
    fn profiles_load_as_device_profiles() {
        let android = adb::parse_devices(DEVICES)
            .unwrap()
            .iter()
            .map(HostDevice::from_adb)
            .collect::<Vec<_>>();
        let ios = simctl::parse_list(LIST)
            .unwrap()
            .iter()
            .map(HostDevice::from_simulator)
            .collect::<Vec<_>>();
        for d in android.iter().chain(&ios) {
            let text = profile_line(d);
            let (profile, diags) =
                crate::profile::device::parse_device_profile(&text, std::path::Path::new("devices/x.yaml"));
            assert!(profile.is_some(), "{text}\n{diags:?}");
            assert!(diags.iter().all(|g| !g.is_error()), "{text}\n{diags:?}");
        }
    }

    #[test]
    fn odd_ids_are_quoted() {
        let d = HostDevice {
            platform: "Android",
            id: "192.168.1.5:5555".into(),
            name: String::new(),
            state: "device".into(),
            detail: String::new(),
        };
        let p = profile_line(&d);
        assert!(p.contains("appium:udid: \"192.168.1.5:5555\"\n"), "{p}");
        assert!(p.starts_with("name: 192-168-1-5-5555\n"), "{p}");
    }

    #[test]
    fn list_devices_never_panics_and_notes_missing_tools() {
        let (devices, notes) = list_devices();
        // On a machine with neither tool both are notes; with them, devices or notes may appear.
        assert!(notes.len() <= 2, "{notes:?}");
        assert!(devices.iter().all(|d| d.platform == "iOS" || d.platform == "Android"));
        for n in &notes {
            assert!(n.starts_with("adb") || n.starts_with("xcrun simctl"), "{n}");
        }
    }
}
