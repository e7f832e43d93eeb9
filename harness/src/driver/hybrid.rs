//! `backend: appium+host`: Appium for what it does (the screen, gestures, orientation, the
//! app's lifecycle), the host tools for what it cannot do well: secure storage (the simulator
//! keychain database, `run-as` SecureStore.xml), clearing the keychain (`simctl keychain
//! reset`, or deleting SecureStore.xml through `run-as`), the app's JS log (`log stream`,
//! `logcat`), and the device settings the capability table gives to them: location,
//! appearance, media, recording and (Android) airplane mode.

use crate::driver::capability::Feature;
use crate::driver::{Device, DriverError, Recording, StorageRead};
use crate::flow::model::{Orientation, Permission};
use crate::platform::Platform;

/// A device seen through two backends.
pub struct Hybrid {
    /// The Appium session.
    pub ui: Box<dyn Device>,
    /// The host backend of the same device.
    pub host: Box<dyn Device>,
}

impl Hybrid {
    /// The half that does `feature`, as the capability table has it for `appium+host`: Appium
    /// for the screen, gestures and orientation; the host tools (adb, simctl) for the device
    /// settings. Where the host tool cannot (iOS airplane mode), its answer says why.
    fn side(&mut self, feature: Feature) -> &mut Box<dyn Device> {
        let by_host = !matches!(
            feature,
            Feature::Screen | Feature::Gestures | Feature::Orientation | Feature::Screenshot
        );
        if by_host { &mut self.host } else { &mut self.ui }
    }
}

#[async_trait::async_trait]
impl Device for Hybrid {
    fn platform(&self) -> Platform {
        self.ui.platform()
    }
    fn app_id(&self) -> &str {
        self.ui.app_id()
    }
    fn is_virtual(&self) -> bool {
        self.ui.is_virtual()
    }
    async fn device_time_ms(&mut self) -> Option<u64> {
        self.ui.device_time_ms().await
    }
    async fn last_restore_ms(&mut self) -> Option<u64> {
        self.ui.last_restore_ms().await
    }
    async fn take_cold_launch_ms(&mut self) -> Option<u64> {
        // A launch with arguments goes through the host tools, which time it.
        match self.ui.take_cold_launch_ms().await {
            Some(ms) => Some(ms),
            None => self.host.take_cold_launch_ms().await,
        }
    }
    async fn source(&mut self) -> Result<String, DriverError> {
        self.ui.source().await
    }
    async fn screenshot(&mut self) -> Result<Vec<u8>, DriverError> {
        self.ui.screenshot().await
    }
    async fn press(&mut self, x: i32, y: i32, hold_ms: u64) -> Result<(), DriverError> {
        self.ui.press(x, y, hold_ms).await
    }
    async fn click_xpath(&mut self, xpath: &str) -> Result<(), DriverError> {
        self.ui.click_xpath(xpath).await
    }
    async fn type_text(&mut self, text: &str, sensitive: bool) -> Result<(), DriverError> {
        self.ui.type_text(text, sensitive).await
    }
    async fn erase_text(&mut self, characters: u32) -> Result<(), DriverError> {
        self.ui.erase_text(characters).await
    }
    async fn launch_app(&mut self) -> Result<(), DriverError> {
        self.ui.launch_app().await
    }
    async fn launch_app_with(&mut self, arguments: &[(String, String)]) -> Result<(), DriverError> {
        if arguments.is_empty() {
            self.ui.launch_app().await
        } else {
            // Appium keeps its session while the host tools launch the app.
            self.host.launch_app_with(arguments).await
        }
    }
    async fn set_permissions(&mut self, permissions: &[(String, Permission)]) -> Result<(), DriverError> {
        self.host.set_permissions(permissions).await
    }
    async fn terminate_app(&mut self) -> Result<bool, DriverError> {
        self.ui.terminate_app().await
    }
    async fn app_state(&mut self) -> Result<i64, DriverError> {
        self.ui.app_state().await
    }
    async fn clear_app(&mut self) -> Result<(), DriverError> {
        self.ui.clear_app().await
    }
    async fn clear_keychain(&mut self) -> Result<(), DriverError> {
        self.host.clear_keychain().await
    }
    async fn background(&mut self, seconds: f64) -> Result<(), DriverError> {
        self.ui.background(seconds).await
    }
    async fn set_network(&mut self, online: bool) -> Result<(), DriverError> {
        self.ui.set_network(online).await
    }
    async fn open_link(&mut self, url: &str) -> Result<(), DriverError> {
        self.ui.open_link(url).await
    }
    async fn press_back(&mut self) -> Result<(), DriverError> {
        self.ui.press_back().await
    }
    async fn hide_keyboard(&mut self) -> Result<(), DriverError> {
        self.ui.hide_keyboard().await
    }
    async fn secure_storage(&mut self) -> Result<StorageRead, DriverError> {
        self.host.secure_storage().await
    }
    async fn logs(&mut self) -> Result<Vec<String>, DriverError> {
        self.host.logs().await
    }
    async fn swipe(&mut self, from: (i32, i32), to: (i32, i32), duration_ms: u64) -> Result<(), DriverError> {
        self.ui.swipe(from, to, duration_ms).await
    }
    async fn set_orientation(&mut self, orientation: Orientation) -> Result<(), DriverError> {
        self.ui.set_orientation(orientation).await
    }
    async fn set_location(&mut self, latitude: f64, longitude: f64) -> Result<(), DriverError> {
        self.side(Feature::Location).set_location(latitude, longitude).await
    }
    async fn set_airplane_mode(&mut self, on: bool) -> Result<(), DriverError> {
        self.side(Feature::AirplaneMode).set_airplane_mode(on).await
    }
    async fn airplane_mode(&mut self) -> Result<bool, DriverError> {
        self.side(Feature::AirplaneMode).airplane_mode().await
    }
    async fn set_dark_mode(&mut self, dark: bool) -> Result<(), DriverError> {
        self.side(Feature::Appearance).set_dark_mode(dark).await
    }
    async fn dark_mode(&mut self) -> Result<bool, DriverError> {
        self.side(Feature::Appearance).dark_mode().await
    }
    async fn add_media(&mut self, name: &str, bytes: &[u8]) -> Result<(), DriverError> {
        self.side(Feature::Media).add_media(name, bytes).await
    }
    async fn start_recording(&mut self) -> Result<(), DriverError> {
        self.side(Feature::Recording).start_recording().await
    }
    async fn stop_recording(&mut self) -> Result<Recording, DriverError> {
        self.side(Feature::Recording).stop_recording().await
    }
    async fn quit(self: Box<Self>) -> Result<(), DriverError> {
        let host = self.host.quit().await;
        self.ui.quit().await.and(host)
    }
}
