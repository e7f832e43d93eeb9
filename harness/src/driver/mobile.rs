//! Typed `mobile:` commands, with each platform's argument names in one place.
//!
//! XCUITest names the app `bundleId`, UiAutomator2 `appId`; methods differ per platform
//! (`launchApp` exists on iOS, Android uses `activateApp`; `clearKeychains` is iOS-only,
//! `setConnectivity` Android-only on real drivers; Android's `clearKeychain` is
//! `deleteFile @<package>/shared_prefs/SecureStore.xml`). The virtual farm implements the same
//! names plus `virtualSecureStore` and `virtualState`.

use serde_json::{Map, Value, json};

use crate::platform::Platform;

/// One `mobile:` call: its method and its named arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct MobileCommand {
    pub method: &'static str,
    pub args: Map<String, Value>,
}

fn app_args(platform: Platform, app: &str) -> Map<String, Value> {
    let key = match platform {
        Platform::Ios => "bundleId",
        Platform::Android => "appId",
    };
    let mut m = Map::new();
    m.insert(key.into(), json!(app));
    m
}

fn cmd(method: &'static str, args: Map<String, Value>) -> MobileCommand {
    MobileCommand { method, args }
}

impl MobileCommand {
    /// Cold launch (or bring to the foreground when running).
    pub fn launch_app(platform: Platform, app: &str) -> Self {
        match platform {
            Platform::Ios => cmd("launchApp", app_args(platform, app)),
            Platform::Android => cmd("activateApp", app_args(platform, app)),
        }
    }
    pub fn terminate_app(platform: Platform, app: &str) -> Self {
        cmd("terminateApp", app_args(platform, app))
    }
    pub fn query_app_state(platform: Platform, app: &str) -> Self {
        cmd("queryAppState", app_args(platform, app))
    }
    pub fn clear_app(platform: Platform, app: &str) -> Self {
        cmd("clearApp", app_args(platform, app))
    }
    pub fn clear_keychains() -> Self {
        cmd("clearKeychains", Map::new())
    }
    pub fn background_app(seconds: f64) -> Self {
        let mut m = Map::new();
        m.insert("seconds".into(), json!(seconds));
        cmd("backgroundApp", m)
    }
    pub fn set_connectivity(online: bool) -> Self {
        let mut m = Map::new();
        m.insert("wifi".into(), json!(online));
        m.insert("data".into(), json!(online));
        cmd("setConnectivity", m)
    }
    pub fn deep_link(platform: Platform, url: &str, app: &str) -> Self {
        let mut m = Map::new();
        m.insert("url".into(), json!(url));
        let key = match platform {
            Platform::Ios => "bundleId",
            Platform::Android => "package",
        };
        m.insert(key.into(), json!(app));
        cmd("deepLink", m)
    }
    pub fn pull_file(remote_path: &str) -> Self {
        let mut m = Map::new();
        m.insert("remotePath".into(), json!(remote_path));
        cmd("pullFile", m)
    }
    /// Deletes a file; `@<package>/<path>` is a file of the app's data folder (Android,
    /// through `run-as`: debuggable builds only). Returns whether the file existed.
    pub fn delete_file(remote_path: &str) -> Self {
        let mut m = Map::new();
        m.insert("remotePath".into(), json!(remote_path));
        cmd("deleteFile", m)
    }
    pub fn press_key(keycode: i64) -> Self {
        let mut m = Map::new();
        m.insert("keycode".into(), json!(keycode));
        cmd("pressKey", m)
    }
    pub fn hide_keyboard() -> Self {
        cmd("hideKeyboard", Map::new())
    }
    /// The simulated GPS location: XCUITest `setSimulatedLocation`, UiAutomator2 `setGeolocation`.
    pub fn set_location(platform: Platform, latitude: f64, longitude: f64) -> Self {
        let mut m = Map::new();
        m.insert("latitude".into(), json!(latitude));
        m.insert("longitude".into(), json!(longitude));
        match platform {
            Platform::Ios => cmd("setSimulatedLocation", m),
            Platform::Android => cmd("setGeolocation", m),
        }
    }
    /// Airplane mode (UiAutomator2; the virtual farm also on iOS).
    pub fn set_airplane_mode(on: bool) -> Self {
        let mut m = Map::new();
        m.insert("airplaneMode".into(), json!(on));
        cmd("setConnectivity", m)
    }
    /// `{wifi, data, airplaneMode}` (UiAutomator2).
    pub fn get_connectivity() -> Self {
        cmd("getConnectivity", Map::new())
    }
    /// XCUITest's appearance: `style` `dark` or `light`.
    pub fn set_appearance(dark: bool) -> Self {
        let mut m = Map::new();
        m.insert("style".into(), json!(if dark { "dark" } else { "light" }));
        cmd("setAppearance", m)
    }
    /// `{style}` (XCUITest).
    pub fn get_appearance() -> Self {
        cmd("getAppearance", Map::new())
    }
    /// A device shell command (UiAutomator2; needs Appium's `uiautomator2:adb_shell` insecure
    /// feature). Appium passes `command` and `args` to `adb shell` itself.
    pub fn shell(command: &str, args: &[&str]) -> Self {
        let mut m = Map::new();
        m.insert("command".into(), json!(command));
        m.insert("args".into(), json!(args));
        cmd("shell", m)
    }
    /// Writes `payload` (base64) to `remotePath`: on XCUITest simulators a bare file name adds
    /// a photo or video to the Photos library; on Android a path on the device.
    pub fn push_file(remote_path: &str, payload_base64: &str) -> Self {
        let mut m = Map::new();
        m.insert("remotePath".into(), json!(remote_path));
        m.insert("payload".into(), json!(payload_base64));
        cmd("pushFile", m)
    }
    pub fn virtual_secure_store() -> Self {
        cmd("virtualSecureStore", Map::new())
    }
    pub fn virtual_state() -> Self {
        cmd("virtualState", Map::new())
    }

    /// The `execute/sync` script text.
    pub fn script(&self) -> String {
        format!("mobile: {}", self.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_argument_names() {
        assert_eq!(MobileCommand::terminate_app(Platform::Ios, "a").args["bundleId"], "a");
        assert_eq!(MobileCommand::terminate_app(Platform::Android, "a").args["appId"], "a");
        assert_eq!(MobileCommand::launch_app(Platform::Android, "a").method, "activateApp");
        assert_eq!(
            MobileCommand::launch_app(Platform::Ios, "a").script(),
            "mobile: launchApp"
        );
        let ios = MobileCommand::set_location(Platform::Ios, 52.5, 4.9);
        assert_eq!(ios.method, "setSimulatedLocation");
        assert_eq!(Value::Object(ios.args), json!({"latitude": 52.5, "longitude": 4.9}));
        assert_eq!(
            MobileCommand::set_location(Platform::Android, 1.0, 2.0).method,
            "setGeolocation"
        );
        assert_eq!(
            Value::Object(MobileCommand::shell("cmd", &["uimode", "night", "yes"]).args),
            json!({"command": "cmd", "args": ["uimode", "night", "yes"]})
        );
        assert_eq!(MobileCommand::set_appearance(true).args["style"], "dark");
        assert_eq!(MobileCommand::set_airplane_mode(true).args["airplaneMode"], true);
    }
}
