//! A scripted [`Device`] for unit tests (Maestro's `FakeDriver`): no server, no host tools,
//! no virtual farm.
//!
//! The script is plain state ([`FakeScript`]): the page sources still to show (one per
//! `source()` read, the last one stays on screen), secure storage, app state, log lines, the
//! device clock. Every call is recorded as a [`FakeEvent`], in order, for assertions.
//! Reactions ([`FakeDevice::react`]) change the script when an event happens (a launch shows
//! the home screen, a tap on "Continue" signs in); scripted failures
//! ([`FakeDevice::fail`]) make chosen calls return a [`DriverError`].
//!
//! What the fake does by itself, and nothing more: a launch puts the app in the foreground
//! (state 4) and `terminate_app` stops it (state 1, returning whether it was running);
//! `clear_keychain` empties secure storage, and `clear_app` empties it too on Android (the
//! app's SecureStore is app data there; the iOS keychain survives); `background` advances
//! the device clock by its duration.
//!
//! [`screen`] and [`screen_without_geometry`] write page sources in the formats
//! `driver::hierarchy::parse_source` reads (UiAutomator2, XCUITest, Appium's fake driver).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::driver::{Device, DriverError, Recording, StorageRead, StorageSource};
use crate::flow::model::{Orientation, Permission};
use crate::platform::Platform;

/// One call the fake received.
#[derive(Clone, Debug, PartialEq)]
pub enum FakeEvent {
    /// `source()`: a page source read.
    Source,
    Screenshot,
    /// `press()`: a touch at a point for `hold_ms`.
    Tap {
        x: i32,
        y: i32,
        hold_ms: u64,
    },
    /// `click_xpath()`: an element click by XPath (sources without geometry).
    ClickXpath(String),
    TypeText {
        text: String,
        sensitive: bool,
    },
    EraseText(u32),
    /// `launch_app()` or `launch_app_with()`, with the launch arguments.
    Launch {
        arguments: Vec<(String, String)>,
    },
    SetPermissions(Vec<(String, Permission)>),
    Terminate,
    AppState,
    ClearApp,
    ClearKeychain,
    Background {
        seconds: f64,
    },
    SetNetwork {
        online: bool,
    },
    OpenLink(String),
    PressBack,
    HideKeyboard,
    /// `secure_storage()`.
    ReadStorage,
    /// `logs()`.
    Logs,
    /// `device_time_ms()`.
    DeviceTime,
    /// `last_restore_ms()`.
    RestoreMs,
    /// `take_cold_launch_ms()`.
    ColdLaunchMs,
    Swipe {
        from: (i32, i32),
        to: (i32, i32),
        duration_ms: u64,
    },
    SetOrientation(Orientation),
    SetLocation {
        latitude: f64,
        longitude: f64,
    },
    SetAirplaneMode(bool),
    /// `airplane_mode()`.
    ReadAirplaneMode,
    SetDarkMode(bool),
    /// `dark_mode()`.
    ReadDarkMode,
    AddMedia {
        name: String,
        bytes: usize,
    },
    StartRecording,
    StopRecording,
}

impl FakeEvent {
    /// Whether the call only reads the device (sources, storage, clock, logs).
    pub fn is_read(&self) -> bool {
        matches!(
            self,
            FakeEvent::Source
                | FakeEvent::Screenshot
                | FakeEvent::AppState
                | FakeEvent::ReadStorage
                | FakeEvent::Logs
                | FakeEvent::DeviceTime
                | FakeEvent::RestoreMs
                | FakeEvent::ColdLaunchMs
                | FakeEvent::ReadAirplaneMode
                | FakeEvent::ReadDarkMode
        )
    }
}

/// The device's own clock, in ms. Cloning shares it: a test keeps a handle to advance it.
#[derive(Clone, Debug, Default)]
pub struct FakeClock(Arc<AtomicU64>);

impl FakeClock {
    pub fn new(start_ms: u64) -> Self {
        FakeClock(Arc::new(AtomicU64::new(start_ms)))
    }

    pub fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    pub fn advance_ms(&self, ms: u64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

/// What the fake shows and holds. Reactions get it mutably.
#[derive(Clone, Debug)]
pub struct FakeScript {
    /// Page sources still to show, one per `source()` read; the last one stays.
    pub screens: VecDeque<String>,
    /// `(key, store, value)`; read as `storage_source` (empty when that is `Unavailable`).
    pub storage: Vec<(String, String, String)>,
    pub storage_source: StorageSource,
    /// `mobile: queryAppState` codes: 1 not running, 3 background, 4 foreground.
    pub app_state: i64,
    /// Log lines not yet read by `logs()`.
    pub logs: Vec<String>,
    pub screenshot: Vec<u8>,
    /// `None`: the device has no clock of its own (`device_time_ms()` is `None`).
    pub clock: Option<FakeClock>,
    /// What `last_restore_ms()` answers.
    pub restore_ms: Option<u64>,
    /// What the next `take_cold_launch_ms()` answers (taken once).
    pub cold_launch_ms: Option<u64>,
    pub online: bool,
    pub airplane: bool,
    pub dark: bool,
    /// Whether a screen recording runs.
    pub recording: bool,
}

impl FakeScript {
    /// Shows `xml` from the next read on, dropping the screens still queued.
    pub fn show(&mut self, xml: impl Into<String>) {
        self.screens.clear();
        self.screens.push_back(xml.into());
    }

    /// Sets (or replaces) a secure-storage entry.
    pub fn store(&mut self, key: &str, store: &str, value: &str) {
        self.storage.retain(|(k, _, _)| k != key);
        self.storage.push((key.into(), store.into(), value.into()));
    }
}

type Reaction = Box<dyn FnMut(&FakeEvent, &mut FakeScript) + Send>;

/// A scripted failure: calls matching `when` fail with `error()`, `times` times (or always).
struct Failure {
    when: Box<dyn Fn(&FakeEvent) -> bool + Send>,
    error: Box<dyn Fn() -> DriverError + Send>,
    times: Option<usize>,
}

/// A scripted device that records every call.
pub struct FakeDevice {
    platform: Platform,
    app_id: String,
    is_virtual: bool,
    pub script: FakeScript,
    events: Vec<FakeEvent>,
    reactions: Vec<Reaction>,
    failures: Vec<Failure>,
}

impl std::fmt::Debug for FakeDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeDevice")
            .field("platform", &self.platform)
            .field("app_id", &self.app_id)
            .field("script", &self.script)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

impl FakeDevice {
    /// A device of `platform` showing an empty screen, with readable (virtual) empty storage,
    /// the app not running and no clock of its own.
    pub fn new(platform: Platform) -> Self {
        FakeDevice {
            platform,
            app_id: "com.example.app".into(),
            is_virtual: false,
            script: FakeScript {
                screens: VecDeque::from([screen(platform, &[])]),
                storage: vec![],
                storage_source: StorageSource::Virtual,
                app_state: 1,
                logs: vec![],
                screenshot: b"\x89PNG fake screenshot".to_vec(),
                clock: None,
                restore_ms: None,
                cold_launch_ms: None,
                online: true,
                airplane: false,
                dark: false,
                recording: false,
            },
            events: vec![],
            reactions: vec![],
            failures: vec![],
        }
    }

    pub fn android() -> Self {
        FakeDevice::new(Platform::Android)
    }

    pub fn ios() -> Self {
        FakeDevice::new(Platform::Ios)
    }

    pub fn with_app_id(mut self, app_id: &str) -> Self {
        self.app_id = app_id.into();
        self
    }

    /// Reports itself as a device of the virtual farm (`is_virtual()`).
    pub fn as_virtual(mut self) -> Self {
        self.is_virtual = true;
        self
    }

    /// Shows `xml` from the next read on.
    pub fn showing(mut self, xml: impl Into<String>) -> Self {
        self.script.show(xml);
        self
    }

    /// Shows these page sources one per read, in order; the last one stays.
    pub fn screens<S: Into<String>>(mut self, xmls: impl IntoIterator<Item = S>) -> Self {
        self.script.screens = xmls.into_iter().map(Into::into).collect();
        assert!(!self.script.screens.is_empty(), "a fake device needs a screen");
        self
    }

    pub fn storing(mut self, key: &str, store: &str, value: &str) -> Self {
        self.script.store(key, store, value);
        self
    }

    /// Secure storage cannot be read on this device (`StorageSource::Unavailable`).
    pub fn storage_unavailable(mut self) -> Self {
        self.script.storage_source = StorageSource::Unavailable;
        self
    }

    /// Gives the device its own clock, starting at `start_ms`; the handle advances it.
    pub fn clock(&mut self, start_ms: u64) -> FakeClock {
        let clock = FakeClock::new(start_ms);
        self.script.clock = Some(clock.clone());
        clock
    }

    /// Runs `f` after every successful call, with the call and the script to change.
    pub fn react(&mut self, f: impl FnMut(&FakeEvent, &mut FakeScript) + Send + 'static) -> &mut Self {
        self.reactions.push(Box::new(f));
        self
    }

    /// Calls matching `when` fail with `error()`, every time.
    pub fn fail(
        &mut self,
        when: impl Fn(&FakeEvent) -> bool + Send + 'static,
        error: impl Fn() -> DriverError + Send + 'static,
    ) -> &mut Self {
        self.fail_times(when, error, None)
    }

    /// The next call matching `when` fails with `error()`; later ones succeed.
    pub fn fail_once(
        &mut self,
        when: impl Fn(&FakeEvent) -> bool + Send + 'static,
        error: impl Fn() -> DriverError + Send + 'static,
    ) -> &mut Self {
        self.fail_times(when, error, Some(1))
    }

    fn fail_times(
        &mut self,
        when: impl Fn(&FakeEvent) -> bool + Send + 'static,
        error: impl Fn() -> DriverError + Send + 'static,
        times: Option<usize>,
    ) -> &mut Self {
        self.failures.push(Failure {
            when: Box::new(when),
            error: Box::new(error),
            times,
        });
        self
    }

    /// Every call so far, in order.
    pub fn events(&self) -> &[FakeEvent] {
        &self.events
    }

    /// The calls that act on the device (taps, typing, launches, …): [`FakeDevice::events`]
    /// without the reads.
    pub fn actions(&self) -> Vec<FakeEvent> {
        self.events.iter().filter(|e| !e.is_read()).cloned().collect()
    }

    /// How many calls matched `f`.
    pub fn count(&self, f: impl Fn(&FakeEvent) -> bool) -> usize {
        self.events.iter().filter(|e| f(e)).count()
    }

    /// Records a call; returns the scripted error if the call fails.
    fn call(&mut self, event: FakeEvent) -> Result<(), DriverError> {
        self.events.push(event.clone());
        for f in &mut self.failures {
            if f.times != Some(0) && (f.when)(&event) {
                if let Some(n) = &mut f.times {
                    *n -= 1;
                }
                return Err((f.error)());
            }
        }
        Ok(())
    }

    /// Runs the reactions to a call that succeeded.
    fn after(&mut self, event: &FakeEvent) {
        for r in &mut self.reactions {
            r(event, &mut self.script);
        }
    }

    /// Records, fails if scripted, applies `effect`, then runs the reactions.
    fn act<T>(&mut self, event: FakeEvent, effect: impl FnOnce(&mut FakeScript) -> T) -> Result<T, DriverError> {
        self.call(event.clone())?;
        let out = effect(&mut self.script);
        self.after(&event);
        Ok(out)
    }
}

#[async_trait::async_trait]
impl Device for FakeDevice {
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
        self.act(FakeEvent::DeviceTime, |s| s.clock.as_ref().map(FakeClock::now_ms))
            .ok()
            .flatten()
    }

    async fn last_restore_ms(&mut self) -> Option<u64> {
        self.act(FakeEvent::RestoreMs, |s| s.restore_ms).ok().flatten()
    }

    async fn take_cold_launch_ms(&mut self) -> Option<u64> {
        self.act(FakeEvent::ColdLaunchMs, |s| s.cold_launch_ms.take())
            .ok()
            .flatten()
    }

    async fn source(&mut self) -> Result<String, DriverError> {
        self.act(FakeEvent::Source, |s| {
            if s.screens.len() > 1 {
                s.screens.pop_front().unwrap_or_default()
            } else {
                s.screens.front().cloned().unwrap_or_default()
            }
        })
    }

    async fn screenshot(&mut self) -> Result<Vec<u8>, DriverError> {
        self.act(FakeEvent::Screenshot, |s| s.screenshot.clone())
    }

    async fn press(&mut self, x: i32, y: i32, hold_ms: u64) -> Result<(), DriverError> {
        self.act(FakeEvent::Tap { x, y, hold_ms }, |_| ())
    }

    async fn click_xpath(&mut self, xpath: &str) -> Result<(), DriverError> {
        self.act(FakeEvent::ClickXpath(xpath.into()), |_| ())
    }

    async fn type_text(&mut self, text: &str, sensitive: bool) -> Result<(), DriverError> {
        self.act(
            FakeEvent::TypeText {
                text: text.into(),
                sensitive,
            },
            |_| (),
        )
    }

    async fn erase_text(&mut self, characters: u32) -> Result<(), DriverError> {
        self.act(FakeEvent::EraseText(characters), |_| ())
    }

    async fn launch_app(&mut self) -> Result<(), DriverError> {
        self.launch_app_with(&[]).await
    }

    async fn launch_app_with(&mut self, arguments: &[(String, String)]) -> Result<(), DriverError> {
        let arguments = arguments.to_vec();
        self.act(FakeEvent::Launch { arguments }, |s| s.app_state = 4)
    }

    async fn set_permissions(&mut self, permissions: &[(String, Permission)]) -> Result<(), DriverError> {
        self.act(FakeEvent::SetPermissions(permissions.to_vec()), |_| ())
    }

    async fn terminate_app(&mut self) -> Result<bool, DriverError> {
        self.act(FakeEvent::Terminate, |s| {
            let running = s.app_state > 1;
            s.app_state = 1;
            running
        })
    }

    async fn app_state(&mut self) -> Result<i64, DriverError> {
        self.act(FakeEvent::AppState, |s| s.app_state)
    }

    async fn clear_app(&mut self) -> Result<(), DriverError> {
        let android = self.platform == Platform::Android;
        self.act(FakeEvent::ClearApp, |s| {
            s.app_state = 1;
            if android {
                s.storage.clear();
            }
        })
    }

    async fn clear_keychain(&mut self) -> Result<(), DriverError> {
        self.act(FakeEvent::ClearKeychain, |s| s.storage.clear())
    }

    async fn background(&mut self, seconds: f64) -> Result<(), DriverError> {
        self.act(FakeEvent::Background { seconds }, |s| {
            if let Some(c) = &s.clock {
                c.advance_ms((seconds.max(0.0) * 1000.0) as u64);
            }
        })
    }

    async fn set_network(&mut self, online: bool) -> Result<(), DriverError> {
        self.act(FakeEvent::SetNetwork { online }, |s| s.online = online)
    }

    async fn open_link(&mut self, url: &str) -> Result<(), DriverError> {
        self.act(FakeEvent::OpenLink(url.into()), |_| ())
    }

    async fn press_back(&mut self) -> Result<(), DriverError> {
        self.act(FakeEvent::PressBack, |_| ())
    }

    async fn hide_keyboard(&mut self) -> Result<(), DriverError> {
        self.act(FakeEvent::HideKeyboard, |_| ())
    }

    async fn secure_storage(&mut self) -> Result<StorageRead, DriverError> {
        self.act(FakeEvent::ReadStorage, |s| StorageRead {
            source: s.storage_source,
            entries: if s.storage_source == StorageSource::Unavailable {
                vec![]
            } else {
                s.storage.clone()
            },
        })
    }

    async fn logs(&mut self) -> Result<Vec<String>, DriverError> {
        self.act(FakeEvent::Logs, |s| std::mem::take(&mut s.logs))
    }

    async fn quit(self: Box<Self>) -> Result<(), DriverError> {
        Ok(())
    }

    async fn swipe(&mut self, from: (i32, i32), to: (i32, i32), duration_ms: u64) -> Result<(), DriverError> {
        self.act(FakeEvent::Swipe { from, to, duration_ms }, |_| ())
    }

    async fn set_orientation(&mut self, orientation: Orientation) -> Result<(), DriverError> {
        self.act(FakeEvent::SetOrientation(orientation), |_| ())
    }

    async fn set_location(&mut self, latitude: f64, longitude: f64) -> Result<(), DriverError> {
        self.act(FakeEvent::SetLocation { latitude, longitude }, |_| ())
    }

    async fn set_airplane_mode(&mut self, on: bool) -> Result<(), DriverError> {
        self.act(FakeEvent::SetAirplaneMode(on), |s| {
            s.airplane = on;
            s.online = !on;
        })
    }

    async fn airplane_mode(&mut self) -> Result<bool, DriverError> {
        self.act(FakeEvent::ReadAirplaneMode, |s| s.airplane)
    }

    async fn set_dark_mode(&mut self, dark: bool) -> Result<(), DriverError> {
        self.act(FakeEvent::SetDarkMode(dark), |s| s.dark = dark)
    }

    async fn dark_mode(&mut self) -> Result<bool, DriverError> {
        self.act(FakeEvent::ReadDarkMode, |s| s.dark)
    }

    async fn add_media(&mut self, name: &str, bytes: &[u8]) -> Result<(), DriverError> {
        let event = FakeEvent::AddMedia {
            name: name.into(),
            bytes: bytes.len(),
        };
        self.act(event, |_| ())
    }

    async fn start_recording(&mut self) -> Result<(), DriverError> {
        self.act(FakeEvent::StartRecording, |s| s.recording = true)
    }

    async fn stop_recording(&mut self) -> Result<Recording, DriverError> {
        let was = self.act(FakeEvent::StopRecording, |s| std::mem::replace(&mut s.recording, false))?;
        Ok(Recording {
            bytes: if was { b"GIF89a-fake".to_vec() } else { vec![] },
            extension: "gif",
        })
    }
}

/// One element of a fake screen.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Node {
    pub id: String,
    pub text: String,
    /// x, y, width, height (iOS points, Android pixels).
    pub bounds: (i32, i32, i32, i32),
    pub enabled: bool,
}

impl Node {
    /// An element with this id (resource-id / accessibility identifier), 100×50 at (0, 0).
    pub fn id(id: &str) -> Self {
        Node {
            id: id.into(),
            bounds: (0, 0, 100, 50),
            enabled: true,
            ..Node::default()
        }
    }

    /// An element with this visible text, 100×50 at (0, 0).
    pub fn text(text: &str) -> Self {
        Node {
            text: text.into(),
            bounds: (0, 0, 100, 50),
            enabled: true,
            ..Node::default()
        }
    }

    pub fn with_text(mut self, text: &str) -> Self {
        self.text = text.into();
        self
    }

    pub fn at(mut self, x: i32, y: i32, width: i32, height: i32) -> Self {
        self.bounds = (x, y, width, height);
        self
    }

    pub fn disabled(mut self) -> Self {
        self.enabled = false;
        self
    }
}

/// The screen size a fake screen has: a Pixel-like 1080×2400 px, an iPhone-like 393×852 pt.
pub fn screen_size(platform: Platform) -> (i32, i32) {
    match platform {
        Platform::Android => (1080, 2400),
        Platform::Ios => (393, 852),
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A page source with these elements, in the platform's own format: UiAutomator2
/// (`<hierarchy>`, `bounds="[x1,y1][x2,y2]"`) or XCUITest (`<AppiumAUT>` around the
/// application element, `x`/`y`/`width`/`height`).
pub fn screen(platform: Platform, nodes: &[Node]) -> String {
    let (w, h) = screen_size(platform);
    let mut out = String::new();
    match platform {
        Platform::Android => {
            out.push_str(&format!(
                "<hierarchy index=\"0\" class=\"hierarchy\" rotation=\"0\" width=\"{w}\" height=\"{h}\">\
                 <node index=\"0\" class=\"android.widget.FrameLayout\" resource-id=\"\" text=\"\" bounds=\"[0,0][{w},{h}]\">"
            ));
            for n in nodes {
                let (x, y, nw, nh) = n.bounds;
                out.push_str(&format!(
                    "<node class=\"android.widget.TextView\" resource-id=\"{}\" text=\"{}\" enabled=\"{}\" clickable=\"true\" bounds=\"[{x},{y}][{},{}]\"/>",
                    esc(&n.id),
                    esc(&n.text),
                    n.enabled,
                    x + nw,
                    y + nh
                ));
            }
            out.push_str("</node></hierarchy>");
        }
        Platform::Ios => {
            out.push_str(&format!(
                "<AppiumAUT><XCUIElementTypeApplication type=\"XCUIElementTypeApplication\" name=\"App\" label=\"App\" \
                 enabled=\"true\" visible=\"true\" x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\">"
            ));
            for n in nodes {
                let (x, y, nw, nh) = n.bounds;
                out.push_str(&format!(
                    "<XCUIElementTypeOther type=\"XCUIElementTypeOther\" name=\"{}\" label=\"{}\" enabled=\"{}\" \
                     visible=\"true\" x=\"{x}\" y=\"{y}\" width=\"{nw}\" height=\"{nh}\"/>",
                    esc(&n.id),
                    esc(&n.text),
                    n.enabled
                ));
            }
            out.push_str("</XCUIElementTypeApplication></AppiumAUT>");
        }
    }
    out
}

/// A page source without geometry, as Appium's fake driver writes it (its app XML inside
/// `<AppiumAUT>`): elements are found, then clicked by XPath (`/AppiumAUT/app[1]/MockView[n]`).
pub fn screen_without_geometry(nodes: &[Node]) -> String {
    let mut out = String::from("<AppiumAUT><app>");
    for n in nodes {
        out.push_str(&format!(
            "<MockView id=\"{}\" text=\"{}\" enabled=\"{}\"/>",
            esc(&n.id),
            esc(&n.text),
            n.enabled
        ));
    }
    out.push_str("</app></AppiumAUT>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::hierarchy::parse_source;

    #[test]
    fn screens_parse_in_each_format() {
        let nodes = [
            Node::id("auth-continue").with_text("Continue").at(10, 20, 200, 60),
            Node::text("A & <B>").at(0, 100, 50, 50).disabled(),
        ];
        for platform in [Platform::Android, Platform::Ios] {
            let root = parse_source(&screen(platform, &nodes)).unwrap();
            let (w, h) = screen_size(platform);
            assert_eq!((root.bounds.width, root.bounds.height), (w, h), "{platform:?}");
            let all = root.descendants();
            let button = all.iter().find(|e| e.id == "auth-continue").expect("the button");
            assert_eq!(button.text, "Continue");
            assert_eq!(button.center(), (110, 50));
            let other = all.iter().find(|e| e.text == "A & <B>").expect("escaped text");
            assert!(!other.enabled);
        }
        let root = parse_source(&screen_without_geometry(&nodes)).unwrap();
        let all = root.descendants();
        let button = all.iter().find(|e| e.id == "auth-continue").unwrap();
        assert!(button.bounds.is_empty() && button.no_geometry);
        assert_eq!(button.xpath, "/AppiumAUT/app[1]/MockView[1]");
    }

    #[tokio::test]
    async fn screens_advance_per_read_and_the_last_one_stays() {
        let mut d = FakeDevice::android().screens(["a", "b"]);
        assert_eq!(d.source().await.unwrap(), "a");
        assert_eq!(d.source().await.unwrap(), "b");
        assert_eq!(d.source().await.unwrap(), "b");
        assert_eq!(d.count(|e| *e == FakeEvent::Source), 3);
    }

    #[tokio::test]
    async fn records_calls_and_keeps_app_state_and_storage() {
        let mut d = FakeDevice::ios().storing("__clerk_client_jwt", "keychain:app:no-auth", "jwt");
        assert!(!d.terminate_app().await.unwrap(), "not running yet");
        d.launch_app_with(&[("-flag".into(), "1".into())]).await.unwrap();
        assert_eq!(d.app_state().await.unwrap(), 4);
        d.press(5, 6, 60).await.unwrap();
        d.type_text("hunter22", true).await.unwrap();
        d.clear_app().await.unwrap();
        // iOS: the keychain survives clearing the app's data.
        assert_eq!(d.secure_storage().await.unwrap().entries.len(), 1);
        d.clear_keychain().await.unwrap();
        let read = d.secure_storage().await.unwrap();
        assert_eq!(read.source, StorageSource::Virtual);
        assert!(read.entries.is_empty());
        assert_eq!(
            d.actions(),
            [
                FakeEvent::Terminate,
                FakeEvent::Launch {
                    arguments: vec![("-flag".into(), "1".into())]
                },
                FakeEvent::Tap {
                    x: 5,
                    y: 6,
                    hold_ms: 60
                },
                FakeEvent::TypeText {
                    text: "hunter22".into(),
                    sensitive: true
                },
                FakeEvent::ClearApp,
                FakeEvent::ClearKeychain,
            ]
        );

        let mut a = FakeDevice::android().storing("k", "SecureStore.xml", "v");
        a.clear_app().await.unwrap();
        assert!(
            a.secure_storage().await.unwrap().entries.is_empty(),
            "Android app data holds SecureStore"
        );
        let mut u = FakeDevice::android().storing("k", "s", "v").storage_unavailable();
        let read = u.secure_storage().await.unwrap();
        assert_eq!((read.source, read.entries.len()), (StorageSource::Unavailable, 0));
    }

    #[tokio::test]
    async fn clock_logs_and_timings() {
        let mut d = FakeDevice::android();
        assert_eq!(d.device_time_ms().await, None);
        let clock = d.clock(1_000);
        assert_eq!(d.device_time_ms().await, Some(1_000));
        clock.advance_ms(250);
        d.background(2.5).await.unwrap();
        assert_eq!(d.device_time_ms().await, Some(3_750));
        d.script.logs = vec!["one".into(), "two".into()];
        assert_eq!(d.logs().await.unwrap(), ["one", "two"]);
        assert!(d.logs().await.unwrap().is_empty(), "lines are read once");
        d.script.cold_launch_ms = Some(420);
        assert_eq!(d.take_cold_launch_ms().await, Some(420));
        assert_eq!(d.take_cold_launch_ms().await, None);
    }

    #[tokio::test]
    async fn reactions_change_the_script_and_failures_are_scripted() {
        let mut d = FakeDevice::android().showing("signed-out");
        d.react(|e, s| {
            if matches!(e, FakeEvent::Tap { .. }) {
                s.show("signed-in");
            }
        });
        d.fail_once(
            |e| matches!(e, FakeEvent::Tap { .. }),
            || DriverError::session_lost("gone"),
        );
        d.fail(
            |e| *e == FakeEvent::Terminate,
            || DriverError::Unsupported {
                command: "mobile: terminateApp".into(),
                message: "no".into(),
            },
        );
        assert!(matches!(d.press(1, 1, 60).await, Err(DriverError::SessionLost { .. })));
        assert_eq!(d.source().await.unwrap(), "signed-out", "a failed call does not react");
        d.press(1, 1, 60).await.unwrap();
        assert_eq!(d.source().await.unwrap(), "signed-in");
        for _ in 0..2 {
            assert!(matches!(d.terminate_app().await, Err(DriverError::Unsupported { .. })));
        }
        // Failed calls are recorded too.
        assert_eq!(d.count(|e| matches!(e, FakeEvent::Tap { .. })), 2);
        assert_eq!(d.count(|e| *e == FakeEvent::Terminate), 2);
    }
}
