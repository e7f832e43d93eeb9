//! One virtual device running the Expo + @clerk/expo + Convex demo app.
//!
//! The model follows `auth-model.md` §6: persistent storage per platform (iOS keychain
//! service `app:no-auth`, Android `SecureStore.xml` entry `key_v1-__clerk_client_jwt`, the
//! native SDKs' own entries), in-memory state lost on force quit, the cold-start restoration
//! timeline per platform (bug A on iOS with @clerk/expo < 3.2.8), and the Convex auth state
//! machine (bug B with convex < 1.42.2 after sign-out → sign-in). Time is virtual (see
//! `farm::clock`): events are scheduled on it and applied when a request looks at the device.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;

use crate::farm::clerk::{FakeClerk, Session, SessionStatus};
use crate::farm::clock::Clock;
use crate::farm::knobs::VirtualKnobs;
use crate::farm::settings::{Location, Settings};
use crate::farm::ui::{Kind, Rect, UiNode, UiTree};
use crate::flow::model::Orientation;
use crate::iso8601::format_ms as iso8601;
use crate::platform::Network;
use crate::platform::Platform;
use crate::rng::Rng;

pub const BUNDLE_ID: &str = "com.harness.clerkconvex";
pub const APP_NAME: &str = "Harness Demo";
pub const CLIENT_JWT_KEY: &str = "__clerk_client_jwt";
/// expo-secure-store's keychain service on iOS (no `requireAuthentication`).
pub const IOS_SERVICE: &str = "app:no-auth";
/// expo-secure-store's default keychainService, the prefix of Android SharedPreferences keys.
pub const ANDROID_PREFIX: &str = "key_v1";
/// Items ClerkKit keeps in the keychain under the bundle id (cleared by native signOut).
pub const IOS_NATIVE_ITEMS: [&str; 5] = [
    "clerkDeviceToken",
    "cachedClient",
    "cachedEnvironment",
    "clerkDeviceTokenSynced",
    "AttestKeyId",
];

/// A stored value and when it was last written.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Item {
    pub value: String,
    /// Android: the expo-secure-store JSON envelope written to SecureStore.xml.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envelope: Option<String>,
    pub modified_ms: u64,
}

/// What survives a force quit.
#[derive(Clone, Debug, Default)]
pub struct Storage {
    /// expo-secure-store entries by key (iOS keychain `app:no-auth`; Android SecureStore.xml).
    pub secure_store: BTreeMap<String, Item>,
    /// iOS: ClerkKit's keychain items (service = bundle id).
    pub native_keychain: BTreeMap<String, Item>,
    /// Android: SharedPreferences `clerk_preferences` (`DEVICE_TOKEN`).
    pub clerk_prefs: BTreeMap<String, Item>,
}

/// One storage entry as the virtual device reports it (`mobile: virtualSecureStore`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageEntry {
    /// `keychain` (iOS), `SecureStore.xml` or `clerk_preferences.xml` (Android).
    pub store: String,
    /// Keychain service (iOS) or preference file (Android).
    pub service: String,
    /// Account (iOS) or preference key (Android), e.g. `key_v1-__clerk_client_jwt`.
    pub key: String,
    /// The secure-store key the app used (`__clerk_client_jwt`).
    pub logical_key: String,
    pub value: String,
    pub modified_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ica {
    Null,
    True,
    False,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FormStep {
    Identifier,
    Password,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Screen {
    Loading,
    SignIn,
    Home,
    NetworkError,
}

#[derive(Clone, Debug)]
struct Form {
    step: FormStep,
    identifier: String,
    password: String,
    error: Option<String>,
    busy: bool,
}

impl Form {
    fn new() -> Self {
        Form {
            step: FormStep::Identifier,
            identifier: String::new(),
            password: String::new(),
            error: None,
            busy: false,
        }
    }
}

/// The running app process: everything here is lost on force quit.
#[derive(Clone, Debug)]
struct Proc {
    generation_id: u64,
    pid: u32,
    foreground: bool,
    backgrounded_at: Option<u64>,
    screen: Screen,
    clerk_loaded: bool,
    session: Option<Session>,
    /// The client JWT when `tokenCache` is off (MemoryTokenCache).
    memory_token: Option<String>,
    native_configured: bool,
    native_session: Option<String>,
    ica: Ica,
    /// The Convex token fetcher was built while signed out (bug B): fetches return null.
    stale_fetcher: bool,
    signed_out_in_runtime: bool,
    form: Form,
    focused: Option<String>,
    launched_ms: u64,
    /// How far the home screen's content is scrolled, in points.
    scroll_y: i32,
}

#[derive(Clone, Debug)]
enum Event {
    Boot,
    JsLoaded,
    NativeConfigured,
    ConvexConfirmed,
    SignInDone,
    SignOutDone,
}

/// One cold start, for statistics: when it was launched and whether/when it was signed in.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LaunchRecord {
    pub launched_ms: u64,
    /// Whether a stored session existed at launch (a restore was possible).
    pub had_session: bool,
    /// Milliseconds from launch to the signed-in screen, when it was reached by restoration.
    pub restored_after_ms: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogLine {
    pub wall_ms: u64,
    pub message: String,
}

/// One virtual device with the demo app installed.
#[derive(Debug)]
pub struct Device {
    pub udid: String,
    pub name: String,
    pub platform: Platform,
    pub knobs: VirtualKnobs,
    pub clock: Clock,
    rng: Rng,
    /// Seed of the outcome draws: each has its own stream, so a result depends on the seed
    /// and the launch number, not on when the harness happened to look at the device.
    seed: u64,
    pub clerk: FakeClerk,
    pub storage: Storage,
    pub online: bool,
    proc: Option<Proc>,
    generation: u64,
    queue: Vec<(u64, u64, u64, Event)>,
    seq: u64,
    logs: Vec<LogLine>,
    log_read: usize,
    pub launches: Vec<LaunchRecord>,
    /// While an event is applied: its due time. The app's timeline follows due times, not
    /// the moment a request happened to look at the device.
    processing_at: Option<u64>,
    /// The on-disk keychain (knob `keychainDb`, iOS).
    keychain_file: Option<crate::farm::keychain_file::KeychainFile>,
    /// System settings: orientation, location, appearance, airplane mode, media, recorder.
    pub settings: Settings,
}

/// `mobile: queryAppState` values.
pub mod app_state {
    pub const NOT_INSTALLED: u8 = 0;
    pub const NOT_RUNNING: u8 = 1;
    pub const BACKGROUND: u8 = 3;
    pub const FOREGROUND: u8 = 4;
}

impl Device {
    pub fn new(udid: &str, platform: Platform, knobs: VirtualKnobs, run_seed: u64) -> Self {
        let seed = knobs.seed.unwrap_or_else(|| Rng::device_seed(run_seed, udid));
        let mut rng = Rng::new(seed);
        let clerk = FakeClerk::new(
            &mut rng,
            knobs.password.clone(),
            (knobs.session_lifetime_secs * 1000.0) as u64,
        );
        Device {
            udid: udid.to_string(),
            name: match platform {
                Platform::Ios => "Virtual iPhone 16".into(),
                Platform::Android => "Virtual Pixel 8".into(),
            },
            platform,
            online: knobs.network == Network::Online,
            clock: Clock::new(knobs.time_scale),
            knobs,
            rng,
            seed,
            clerk,
            storage: Storage::default(),
            proc: None,
            generation: 0,
            queue: vec![],
            seq: 0,
            logs: vec![],
            log_read: 0,
            launches: vec![],
            processing_at: None,
            keychain_file: None,
            settings: Settings::default(),
        }
    }

    /// Writes the keychain to the `keychainDb` file when it changed (iOS; see
    /// [`crate::farm::keychain_file`]). A failed write goes to the device log.
    pub fn sync_keychain_file(&mut self) {
        use crate::farm::keychain_file::{Items, KeychainFile};
        let Some(path) = self
            .knobs
            .keychain_db
            .clone()
            .filter(|_| self.platform == Platform::Ios)
        else {
            self.keychain_file = None;
            return;
        };
        let file = self
            .keychain_file
            .get_or_insert_with(|| KeychainFile::new(&path, BUNDLE_ID));
        let mut items = Items::new();
        for (k, i) in &self.storage.secure_store {
            items.insert((k.clone(), IOS_SERVICE.to_string()), (i.modified_ms, i.value.clone()));
        }
        for (k, i) in &self.storage.native_keychain {
            items.insert((k.clone(), BUNDLE_ID.to_string()), (i.modified_ms, i.value.clone()));
        }
        let before = file.last_error.clone();
        file.sync(&items);
        if let Some(e) = file.last_error.clone()
            && Some(&e) != before.as_ref()
        {
            self.log(e);
        }
    }

    /// Virtual ms: the due time of the event being applied, else the clock.
    pub fn now(&self) -> u64 {
        self.processing_at.unwrap_or_else(|| self.clock.now_ms())
    }

    /// Applies every event that is due at the current virtual time.
    pub fn tick(&mut self) {
        let now = self.now();
        loop {
            let next = self
                .queue
                .iter()
                .enumerate()
                .filter(|(_, (at, _, _, _))| *at <= now)
                .min_by_key(|(_, (at, seq, _, _))| (*at, *seq))
                .map(|(i, _)| i);
            let Some(i) = next else { break };
            let (at, _, generation_id, ev) = self.queue.remove(i);
            if self.proc.as_ref().is_some_and(|p| p.generation_id == generation_id) {
                self.processing_at = Some(at);
                self.apply(ev, at);
                self.processing_at = None;
            }
        }
    }

    /// Moves virtual time forward and applies what became due (a wait without waiting).
    pub fn advance(&mut self, d: Duration) {
        // Step through due events in order so each sees its own time.
        let target = self.now() + d.as_millis() as u64;
        loop {
            let next_at = self
                .queue
                .iter()
                .map(|(at, _, _, _)| *at)
                .filter(|at| *at <= target)
                .min();
            match next_at {
                Some(at) if at > self.now() => {
                    self.clock.jump(Duration::from_millis(at - self.now()));
                    self.tick();
                }
                Some(_) => self.tick(),
                None => break,
            }
        }
        let now = self.now();
        if target > now {
            self.clock.jump(Duration::from_millis(target - now));
        }
        self.tick();
    }

    fn latency(&mut self, lo: u64, hi: u64) -> u64 {
        (self.rng.range(lo, hi) as f64 * self.knobs.latency_scale) as u64
    }

    fn schedule(&mut self, after_ms: u64, ev: Event) {
        let Some(generation_id) = self.proc.as_ref().map(|p| p.generation_id) else {
            return;
        };
        self.seq += 1;
        let at = self.now() + after_ms;
        self.queue.push((at, self.seq, generation_id, ev));
    }

    fn log(&mut self, message: impl Into<String>) {
        let wall = self.clock.wall_ms() - self.clock.now_ms() + self.now();
        self.logs.push(LogLine {
            wall_ms: wall,
            message: message.into(),
        });
    }

    /// Device log lines written since the last call, in the platform's format
    /// (iOS syslog, Android logcat `threadtime`).
    pub fn take_logs(&mut self) -> Vec<(u64, String)> {
        let pid = self.proc.as_ref().map(|p| p.pid).unwrap_or(0);
        let out = self.logs[self.log_read..]
            .iter()
            .map(|l| {
                let ts = iso8601(l.wall_ms);
                let line = match self.platform {
                    Platform::Ios => format!(
                        "{} {} HarnessDemo[{pid}] <Notice>: [javascript] {}",
                        &ts[..19],
                        self.name.replace(' ', ""),
                        l.message
                    ),
                    Platform::Android => format!(
                        "{}-{} {}.{:03}  {pid:>5}  {:>5} I ReactNativeJS: {}",
                        &ts[5..7],
                        &ts[8..10],
                        &ts[11..19],
                        l.wall_ms % 1000,
                        pid + 27,
                        l.message
                    ),
                };
                (l.wall_ms, line)
            })
            .collect();
        self.log_read = self.logs.len();
        out
    }

    // ---- Storage -----------------------------------------------------------------------

    fn write_secure(&mut self, key: &str, value: &str) {
        let now = self.now();
        if self.storage.secure_store.get(key).is_some_and(|i| i.value == value) {
            return; // expo-secure-store rewrites the same value; the digest stays.
        }
        let envelope = match self.platform {
            Platform::Android => Some(self.envelope(value)),
            Platform::Ios => None,
        };
        self.storage.secure_store.insert(
            key.to_string(),
            Item {
                value: value.to_string(),
                envelope,
                modified_ms: now,
            },
        );
    }

    /// expo-secure-store's AES-GCM envelope. The key never leaves the (virtual) keystore, so
    /// the ciphertext is opaque: presence and a digest are all a reader gets.
    fn envelope(&mut self, value: &str) -> String {
        let iv: Vec<u8> = (0..12).map(|_| self.rng.next_u64() as u8).collect();
        let mut stream = Rng::new(iv.iter().fold(0u64, |a, b| a.rotate_left(8) ^ *b as u64));
        let mut ct: Vec<u8> = value.bytes().map(|b| b ^ stream.next_u64() as u8).collect();
        ct.extend((0..16).map(|_| stream.next_u64() as u8)); // GCM tag
        serde_json::json!({
            "ct": B64.encode(&ct),
            "iv": B64.encode(&iv),
            "tlen": 128,
            "scheme": "aes",
            "usesKeystoreSuffix": true,
            "keystoreAlias": ANDROID_PREFIX,
            "requireAuthentication": false,
        })
        .to_string()
    }

    fn stored_client_token(&self) -> Option<String> {
        match (&self.proc, self.knobs.token_cache) {
            (_, true) => self.storage.secure_store.get(CLIENT_JWT_KEY).map(|i| i.value.clone()),
            (Some(p), false) => p.memory_token.clone(),
            (None, false) => None,
        }
    }

    fn write_native_token(&mut self, token: &str) {
        let now = self.now();
        let item = Item {
            value: token.to_string(),
            envelope: None,
            modified_ms: now,
        };
        match self.platform {
            Platform::Ios => {
                self.storage
                    .native_keychain
                    .insert("clerkDeviceToken".into(), item.clone());
                for k in ["cachedClient", "cachedEnvironment"] {
                    self.storage.native_keychain.insert(
                        k.into(),
                        Item {
                            value: format!("{{\"object\":\"{k}\"}}"),
                            ..item.clone()
                        },
                    );
                }
            }
            Platform::Android => {
                self.storage.clerk_prefs.insert("DEVICE_TOKEN".into(), item);
            }
        }
    }

    /// The native SDK's signOut: iOS `clearAllKeychainItems()`; Android drops DEVICE_TOKEN.
    fn native_sign_out(&mut self) {
        match self.platform {
            Platform::Ios => {
                for k in IOS_NATIVE_ITEMS {
                    self.storage.native_keychain.remove(k);
                }
            }
            Platform::Android => {
                self.storage.clerk_prefs.remove("DEVICE_TOKEN");
            }
        }
        if let Some(p) = &mut self.proc {
            p.native_configured = false;
            p.native_session = None;
        }
    }

    /// Every entry of the app's secure storage and the native SDK's, as stored.
    pub fn storage_entries(&self) -> Vec<StorageEntry> {
        let mut out = vec![];
        for (k, i) in &self.storage.secure_store {
            out.push(match self.platform {
                Platform::Ios => StorageEntry {
                    store: "keychain".into(),
                    service: IOS_SERVICE.into(),
                    key: k.clone(),
                    logical_key: k.clone(),
                    value: i.value.clone(),
                    modified_ms: i.modified_ms,
                },
                Platform::Android => StorageEntry {
                    store: "SecureStore.xml".into(),
                    service: "SecureStore".into(),
                    key: format!("{ANDROID_PREFIX}-{k}"),
                    logical_key: k.clone(),
                    value: i.value.clone(),
                    modified_ms: i.modified_ms,
                },
            });
        }
        for (k, i) in &self.storage.native_keychain {
            out.push(StorageEntry {
                store: "keychain".into(),
                service: BUNDLE_ID.into(),
                key: k.clone(),
                logical_key: k.clone(),
                value: i.value.clone(),
                modified_ms: i.modified_ms,
            });
        }
        for (k, i) in &self.storage.clerk_prefs {
            out.push(StorageEntry {
                store: "clerk_preferences.xml".into(),
                service: "clerk_preferences".into(),
                key: k.clone(),
                logical_key: k.clone(),
                value: i.value.clone(),
                modified_ms: i.modified_ms,
            });
        }
        out
    }

    /// `shared_prefs/SecureStore.xml` as Android writes it (Android only).
    pub fn secure_store_xml(&self) -> String {
        let mut s = String::from("<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n");
        for (k, i) in &self.storage.secure_store {
            let env = i.envelope.clone().unwrap_or_default();
            s.push_str(&format!(
                "    <string name=\"{ANDROID_PREFIX}-{k}\">{}</string>\n",
                xml_escape(&env)
            ));
        }
        s.push_str("</map>\n");
        s
    }

    // ---- Lifecycle ---------------------------------------------------------------------

    /// `mobile: launchApp` / `activateApp` when not running: a cold start. When running, the
    /// app is brought to the foreground.
    pub fn launch(&mut self) {
        self.tick();
        if let Some(p) = &mut self.proc {
            p.foreground = true;
            return self.foreground();
        }
        self.generation += 1;
        let pid = 1000 + self.rng.range(0, 8999) as u32;
        let now = self.now();
        self.proc = Some(Proc {
            generation_id: self.generation,
            pid,
            foreground: true,
            backgrounded_at: None,
            screen: Screen::Loading,
            clerk_loaded: false,
            session: None,
            memory_token: None,
            native_configured: false,
            native_session: None,
            ica: Ica::Null,
            stale_fetcher: false,
            signed_out_in_runtime: false,
            form: Form::new(),
            focused: None,
            launched_ms: now,
            scroll_y: 0,
        });
        let had_session = self.stored_client_token().is_some_and(|t| {
            self.clerk
                .clients
                .iter()
                .any(|c| c.token == t && c.sessions.iter().any(|s| s.status == SessionStatus::Active))
        });
        self.launches.push(LaunchRecord {
            launched_ms: now,
            had_session,
            restored_after_ms: None,
        });
        self.log(format!("app launched (pid {pid})"));
        let t = self.latency(600, 1200);
        self.schedule(t, Event::Boot);
    }

    /// `mobile: terminateApp`: force quit. Returns whether the app was running.
    pub fn terminate(&mut self) -> bool {
        self.tick();
        let was = self.proc.take().is_some();
        if was {
            self.log("app terminated");
        }
        self.queue.clear();
        was
    }

    /// `mobile: queryAppState`.
    pub fn app_state(&mut self) -> u8 {
        self.tick();
        match &self.proc {
            None => app_state::NOT_RUNNING,
            Some(p) if p.foreground => app_state::FOREGROUND,
            Some(_) => app_state::BACKGROUND,
        }
    }

    /// `mobile: backgroundApp`: home for `seconds` (virtual, instantaneous), then back.
    /// A negative value leaves the app in the background.
    pub fn background(&mut self, seconds: f64) {
        self.tick();
        let now = self.now();
        if let Some(p) = &mut self.proc {
            p.foreground = false;
            p.backgrounded_at = Some(now);
            p.focused = None;
        }
        if seconds >= 0.0 {
            self.advance(Duration::from_secs_f64(seconds));
            if let Some(p) = &mut self.proc {
                p.foreground = true;
            }
            self.foreground();
        }
    }

    /// The app returns to the foreground: sessions idle too long have expired; the Convex
    /// client refetches its token (still valid: Clerk refreshes the 60 s session token).
    fn foreground(&mut self) {
        let now = self.now();
        let Some(p) = &mut self.proc else { return };
        p.foreground = true;
        let idle_since = p.backgrounded_at.take();
        let token = self.stored_client_token();
        if let (Some(since), Some(timeout), Some(token)) =
            (idle_since, self.knobs.inactivity_timeout_secs, token.as_ref())
        {
            self.clerk.touch(token, since);
            self.clerk.expire_idle(token, now, (timeout * 1000.0) as u64);
        }
        self.clerk.expire(now);
        let session_id = self
            .proc
            .as_ref()
            .and_then(|p| p.session.as_ref().map(|s| s.id.clone()));
        if let Some(sid) = session_id
            && self.clerk.session_status(&sid) != Some(SessionStatus::Active)
        {
            self.log(format!("clerk: session {sid} is no longer active; signed out"));
            let p = self.proc.as_mut().expect("running");
            p.session = None;
            p.screen = Screen::SignIn;
            p.form = Form::new();
            p.ica = Ica::False;
            self.native_sign_out();
        } else if let Some(token) = token {
            self.clerk.touch(&token, now);
            if self
                .proc
                .as_ref()
                .is_some_and(|p| p.session.is_some() && p.ica == Ica::True)
            {
                self.log("convex: refetched auth token after resume");
            }
        }
    }

    /// `mobile: clearApp` / `pm clear`: terminate and wipe app data. On iOS the keychain is
    /// not app data and survives (as with XCUITest); on Android SecureStore.xml is wiped.
    pub fn clear_app(&mut self) {
        self.terminate();
        if self.platform == Platform::Android {
            self.storage.secure_store.clear();
            self.storage.clerk_prefs.clear();
        }
        self.log("app data cleared");
    }

    /// `mobile: deleteFile` of the app's `shared_prefs/SecureStore.xml` (Android): every
    /// expo-secure-store entry. Whether the file existed (it does once an entry was written).
    pub fn delete_secure_store_file(&mut self) -> bool {
        self.tick();
        let existed = !self.storage.secure_store.is_empty();
        self.storage.secure_store.clear();
        if existed {
            self.log("SecureStore.xml deleted");
        }
        existed
    }

    /// `mobile: clearKeychains` (iOS simulators): every keychain item of every app.
    pub fn clear_keychains(&mut self) {
        self.storage.secure_store.clear();
        self.storage.native_keychain.clear();
    }

    pub fn set_network(&mut self, online: bool) {
        self.tick();
        self.online = online;
        self.log(format!("network {}", if online { "online" } else { "offline" }));
    }

    /// Airplane mode: the network goes away while it is on, and comes back as it was.
    pub fn set_airplane_mode(&mut self, on: bool) {
        if on == self.settings.airplane {
            return;
        }
        self.settings.airplane = on;
        self.log(format!("airplane mode {}", if on { "on" } else { "off" }));
        if on {
            self.settings.online_before_airplane = self.online;
            self.set_network(false);
        } else {
            let back = self.settings.online_before_airplane;
            self.set_network(back);
        }
    }

    /// The system appearance (dark or light); the app redraws in it.
    pub fn set_dark_mode(&mut self, dark: bool) {
        self.tick();
        self.settings.dark = dark;
        self.log(format!("appearance {}", if dark { "dark" } else { "light" }));
    }

    pub fn set_orientation(&mut self, o: Orientation) {
        self.tick();
        self.settings.orientation = o;
        self.log(format!("orientation {}", o.name()));
    }

    pub fn set_location(&mut self, location: Location) {
        self.tick();
        self.settings.location = Some(location);
    }

    /// The screen size in points for the current orientation.
    pub fn screen_size(&self) -> (i32, i32) {
        let (w, h) = match self.platform {
            Platform::Ios => (390, 844),
            Platform::Android => (393, 873),
        };
        if self.settings.landscape() { (h, w) } else { (w, h) }
    }

    /// A drag from `from` to `to` (points): on the home screen, a vertical drag scrolls its
    /// content (a drag up shows what is below). Returns whether anything moved.
    pub fn swipe(&mut self, from: (i32, i32), to: (i32, i32)) -> bool {
        self.tick();
        let (_, h) = self.screen_size();
        let Some(p) = &mut self.proc else { return false };
        if !p.foreground || p.screen != Screen::Home || from.1 < HOME_TOP {
            return false;
        }
        let dy = from.1 - to.1;
        if dy.abs() < 10 || dy.abs() < (from.0 - to.0).abs() {
            return false;
        }
        let max = (home_content_bottom() - h).max(0);
        let before = p.scroll_y;
        p.scroll_y = (p.scroll_y + dy).clamp(0, max);
        p.scroll_y != before
    }

    /// `mobile: deepLink`: opens the app (cold start if needed).
    pub fn open_url(&mut self, url: &str) {
        self.log(format!("deep link {url}"));
        self.launch();
    }

    // ---- The app's state machines ---------------------------------------------------------

    fn apply(&mut self, ev: Event, _at: u64) {
        match ev {
            Event::Boot => self.on_boot(),
            Event::JsLoaded => self.on_js_loaded(),
            Event::NativeConfigured => self.on_native_configured(),
            Event::ConvexConfirmed => self.on_convex_confirmed(),
            Event::SignInDone => self.on_sign_in_done(),
            Event::SignOutDone => self.on_sign_out_done(),
        }
    }

    fn on_boot(&mut self) {
        self.log("mount | isSignedIn=undefined isLoaded=false");
        let token = self.stored_client_token();
        if let Some(j) = &token {
            let head: String = j.chars().take(20).collect();
            self.log(format!(
                "bootstrap: calling native configure with bearerToken={head}...(len {})",
                j.len()
            ));
            let synced = match self.platform {
                Platform::Ios => self
                    .storage
                    .native_keychain
                    .get("clerkDeviceToken")
                    .is_some_and(|i| &i.value == j),
                Platform::Android => true,
            };
            let t = match (self.platform, synced) {
                (Platform::Ios, true) => self.latency(50, 300),
                (Platform::Ios, false) => self.latency(500, 3000),
                (Platform::Android, _) => self.latency(1000, 2000),
            };
            self.schedule(t, Event::NativeConfigured);
        }
        let t = self.latency(400, 1200);
        self.schedule(t, Event::JsLoaded);
    }

    fn on_native_configured(&mut self) {
        let token = self.stored_client_token();
        if let Some(j) = token {
            self.write_native_token(&j);
        }
        if let Some(p) = &mut self.proc {
            p.native_configured = true;
        }
        self.log("bootstrap: configure resolved");
        let (restored, sid) = match self.proc.as_ref().and_then(|p| p.session.as_ref()) {
            Some(s) => (true, Some(s.id.clone())),
            None => (false, None),
        };
        if let Some(p) = &mut self.proc {
            p.native_session = sid.clone();
        }
        if restored || self.proc.as_ref().is_some_and(|p| !p.clerk_loaded) {
            self.log(format!(
                "bootstrap: poll #1 getSession() -> {}",
                sid.unwrap_or_else(|| "undefined".into())
            ));
        }
    }

    fn on_js_loaded(&mut self) {
        let now = self.now();
        let token = self.stored_client_token();
        if !self.online {
            // clerk-js cannot reach the Frontend API.
            if self.knobs.resource_cache && token.is_some() {
                let session = token.as_ref().and_then(|t| self.clerk.active_session(t, now));
                self.log("clerk: offline; loaded client from the resource cache");
                self.finish_load(session, false);
            } else {
                self.log("clerk: failed to load: network request failed (offline)");
                if let Some(p) = &mut self.proc {
                    p.clerk_loaded = false;
                    p.screen = Screen::NetworkError;
                }
            }
            return;
        }
        let mut session = token.as_ref().and_then(|t| self.clerk.active_session(t, now));
        if session.is_some() && self.platform == Platform::Ios && self.knobs.ios_restore_bug() {
            // Bug A: one draw per launch.
            let draw = format!("restore-{}", self.launches.len());
            let restore = Rng::new(Rng::device_seed(self.seed, &draw)).bernoulli(self.knobs.restore_rate);
            if !restore {
                self.log("clerk-js: load finished with isSignedIn=false (native session not yet available)");
                session = None;
            }
        }
        self.finish_load(session, true);
    }

    fn finish_load(&mut self, session: Option<Session>, online: bool) {
        let now = self.now();
        let signed_in = session.is_some();
        {
            let p = self.proc.as_mut().expect("running");
            p.clerk_loaded = true;
            p.session = session.clone();
            p.screen = if signed_in { Screen::Home } else { Screen::SignIn };
            p.form = Form::new();
        }
        self.log(format!("mount | isSignedIn={signed_in} isLoaded=true"));
        if signed_in {
            let launched = self.proc.as_ref().map(|p| p.launched_ms).unwrap_or(now);
            if let Some(rec) = self.launches.last_mut()
                && rec.launched_ms == launched
            {
                rec.restored_after_ms = Some(now - launched);
            }
            if online {
                // The fetcher built at a cold load tracks the claims (bug B scope after_sign_out).
                self.proc.as_mut().expect("running").ica = Ica::Null;
                let t = self.latency(100, 400);
                self.schedule(t, Event::ConvexConfirmed);
            }
        } else {
            self.proc.as_mut().expect("running").ica = Ica::False;
            // NativeSessionSync sees !isSignedIn and calls the native signOut.
            let configured = self.proc.as_ref().is_some_and(|p| p.native_configured);
            if configured || self.platform == Platform::Ios {
                self.native_sign_out();
            }
            for k in 1..=3 {
                self.log(format!("bootstrap: poll #{k} getSession() -> undefined"));
            }
        }
    }

    fn on_convex_confirmed(&mut self) {
        let Some(p) = &mut self.proc else { return };
        if p.session.is_some() && !p.stale_fetcher {
            p.ica = Ica::True;
            self.log("convex: authenticated");
        }
    }

    fn on_sign_in_done(&mut self) {
        let now = self.now();
        let Some(p) = &self.proc else { return };
        let (identifier, password) = (p.form.identifier.clone(), p.form.password.clone());
        if !self.online {
            let p = self.proc.as_mut().expect("running");
            p.form.busy = false;
            p.form.error = Some(crate::farm::clerk::SignInError::Offline.message().into());
            return;
        }
        let token = self.stored_client_token();
        match self
            .clerk
            .sign_in(&mut self.rng, token.as_deref(), &identifier, &password, now)
        {
            Err(e) => {
                let p = self.proc.as_mut().expect("running");
                p.form.busy = false;
                p.form.error = Some(e.message().into());
                self.log(format!("clerk: sign-in failed: {}", e.message()));
            }
            Ok((client_token, session)) => {
                if self.knobs.token_cache {
                    self.write_secure(CLIENT_JWT_KEY, &client_token);
                } else if let Some(p) = &mut self.proc {
                    p.memory_token = Some(client_token.clone());
                }
                self.write_native_token(&client_token);
                let stale =
                    self.proc.as_ref().is_some_and(|p| p.signed_out_in_runtime) && self.knobs.convex_stale_bug();
                {
                    let p = self.proc.as_mut().expect("running");
                    p.session = Some(session.clone());
                    p.native_session = Some(session.id.clone());
                    p.native_configured = true;
                    p.screen = Screen::Home;
                    p.form = Form::new();
                    p.focused = None;
                    p.stale_fetcher = stale;
                    p.ica = Ica::Null;
                }
                self.log(format!("clerk: signed in, session {}", session.id));
                if stale {
                    self.log("convex: fetchAccessToken({forceRefreshToken:true}) -> null; ConvexProviderWithClerk stays unauthenticated");
                    self.proc.as_mut().expect("running").ica = Ica::False;
                } else {
                    if self.knobs.key_convex_by_session {
                        self.log("convex: provider remounted for the new session");
                    }
                    let t = self.latency(100, 400);
                    self.schedule(t, Event::ConvexConfirmed);
                }
            }
        }
    }

    fn on_sign_out_done(&mut self) {
        let sid = self
            .proc
            .as_ref()
            .and_then(|p| p.session.as_ref().map(|s| s.id.clone()));
        if let Some(sid) = &sid {
            self.clerk.end_session(sid);
        }
        {
            let p = self.proc.as_mut().expect("running");
            p.session = None;
            p.clerk_loaded = true;
            p.screen = Screen::SignIn;
            p.form = Form::new();
            p.ica = Ica::False;
            // The fetcher rebuilt during sign-out captured no audience (bug B).
            p.signed_out_in_runtime = true;
        }
        self.native_sign_out();
        self.log("mount | isSignedIn=false isLoaded=true");
    }

    // ---- Input ----------------------------------------------------------------------------

    /// A tap on the element with this testID (or on an element without one: no effect).
    pub fn tap(&mut self, test_id: Option<&str>) {
        self.tick();
        let Some(p) = &mut self.proc else { return };
        if !p.foreground {
            return;
        }
        match test_id {
            Some(id @ ("auth-identifier" | "auth-password")) => p.focused = Some(id.to_string()),
            Some("auth-continue") if p.screen == Screen::SignIn && !p.form.busy => match p.form.step {
                FormStep::Identifier => {
                    if p.form.identifier.trim().is_empty() {
                        p.form.error = Some(crate::farm::clerk::SignInError::EmptyIdentifier.message().into());
                    } else {
                        p.form.error = None;
                        p.form.step = FormStep::Password;
                        p.focused = Some("auth-password".into());
                    }
                }
                FormStep::Password => {
                    p.form.busy = true;
                    p.form.error = None;
                    let t = self.latency(100, 400);
                    self.schedule(t, Event::SignInDone);
                }
            },
            Some("sign-out") if p.screen == Screen::Home => {
                // Transitive emission: isLoaded=false for one render.
                p.screen = Screen::Loading;
                p.clerk_loaded = false;
                p.ica = Ica::False;
                self.log("clerk: signing out");
                let t = self.latency(100, 400);
                self.schedule(t, Event::SignOutDone);
            }
            Some("network-retry") if p.screen == Screen::NetworkError => {
                p.screen = Screen::Loading;
                let t = self.latency(400, 1200);
                self.schedule(t, Event::JsLoaded);
            }
            _ => {}
        }
    }

    /// Types into the field with this testID (W3C element send keys).
    pub fn type_into(&mut self, test_id: &str, text: &str) {
        self.tick();
        let Some(p) = &mut self.proc else { return };
        p.focused = Some(test_id.to_string());
        self.type_focused(text);
    }

    /// Types into the focused field (W3C key actions).
    pub fn type_focused(&mut self, text: &str) {
        self.tick();
        let Some(p) = &mut self.proc else { return };
        if p.screen != Screen::SignIn {
            return;
        }
        match p.focused.as_deref() {
            Some("auth-identifier") if p.form.step == FormStep::Identifier => p.form.identifier.push_str(text),
            Some("auth-password") if p.form.step == FormStep::Password => p.form.password.push_str(text),
            _ => {}
        }
    }

    pub fn clear_field(&mut self, test_id: &str) {
        self.tick();
        let Some(p) = &mut self.proc else { return };
        match test_id {
            "auth-identifier" => p.form.identifier.clear(),
            "auth-password" => p.form.password.clear(),
            _ => {}
        }
    }

    /// Erases `n` characters from the end of the focused field (backspace key actions).
    pub fn backspace(&mut self, n: usize) {
        let Some(p) = &mut self.proc else { return };
        let field = match p.focused.as_deref() {
            Some("auth-identifier") => &mut p.form.identifier,
            Some("auth-password") => &mut p.form.password,
            _ => return,
        };
        for _ in 0..n {
            field.pop();
        }
    }

    // ---- What the screen shows --------------------------------------------------------------

    /// The auth view as the home screen shows it (for tests and diagnosis).
    pub fn auth_view(&mut self) -> AuthView {
        self.tick();
        match &self.proc {
            None => AuthView::default(),
            Some(p) => AuthView {
                running: true,
                loaded: p.clerk_loaded,
                signed_in: p.session.is_some() && p.screen == Screen::Home,
                session_id: p.session.as_ref().map(|s| s.id.clone()),
                convex_authenticated: p.session.is_some() && p.ica == Ica::True,
                convex_loading: p.session.is_some() && p.ica == Ica::Null,
                network_error: p.screen == Screen::NetworkError,
            },
        }
    }

    /// The screen right now.
    pub fn ui(&mut self) -> UiTree {
        self.tick();
        let (w, h) = self.screen_size();
        let dark = self.settings.dark;
        let full = Rect {
            x: 0,
            y: 0,
            width: w,
            height: h,
        };
        let running_fg = self.proc.as_ref().is_some_and(|p| p.foreground);
        if !running_fg {
            let (id, name) = match self.platform {
                Platform::Ios => ("com.apple.springboard", "SpringBoard"),
                Platform::Android => ("com.google.android.apps.nexuslauncher", "Launcher"),
            };
            let icon = UiNode::new(
                Kind::Button,
                Rect {
                    x: 24,
                    y: 120,
                    width: 72,
                    height: 90,
                },
            )
            .text(APP_NAME);
            let root = UiNode::new(Kind::Application, full)
                .text(name)
                .child(UiNode::new(Kind::Window, full).child(icon));
            return UiTree {
                platform: self.platform,
                app_id: id.into(),
                app_name: name.into(),
                width: w,
                height: h,
                dark,
                root,
            };
        }
        let view = self.auth_view();
        let knobs_key = self.knobs.key_convex_by_session;
        let p = self.proc.as_ref().expect("running");
        let content = Rect {
            x: 0,
            y: HOME_TOP,
            width: w,
            height: h - HOME_TOP,
        };
        let location = self
            .settings
            .location
            .map(|l| format!("{:.5},{:.5}", l.latitude, l.longitude))
            .unwrap_or_else(|| "none".into());
        let row = |i: i32| Rect {
            x: 20,
            y: 120 + i * 56,
            width: w - 40,
            height: 48,
        };
        let screen = match p.screen {
            Screen::Loading => UiNode::new(Kind::Group, content)
                .id("screen-loading")
                .child(UiNode::new(
                    Kind::Spinner,
                    Rect {
                        x: w / 2 - 20,
                        y: h / 2 - 60,
                        width: 40,
                        height: 40,
                    },
                ))
                .child(
                    UiNode::new(
                        Kind::Text,
                        Rect {
                            x: 20,
                            y: h / 2,
                            width: w - 40,
                            height: 30,
                        },
                    )
                    .text("Loading…"),
                ),
            Screen::NetworkError => UiNode::new(Kind::Group, content)
                .id("screen-network-error")
                .child(
                    UiNode::new(Kind::Text, row(1))
                        .id("network-error")
                        .text("Unable to reach the server. Check your connection."),
                )
                .child(UiNode::new(Kind::Button, row(3)).id("network-retry").text("Try again")),
            Screen::SignIn => {
                let mut s = UiNode::new(Kind::Group, content)
                    .id("screen-sign-in")
                    .child(UiNode::new(Kind::Text, row(0)).text(format!("Continue to {APP_NAME}")))
                    .child(UiNode::new(Kind::Text, row(1)).text("Welcome! Sign in to continue"));
                let mut ident = UiNode::new(Kind::TextField, row(2))
                    .id("auth-identifier")
                    .text(p.form.identifier.clone());
                ident.placeholder = Some("Enter your email or username".into());
                ident.focused = p.focused.as_deref() == Some("auth-identifier");
                ident.enabled = p.form.step == FormStep::Identifier;
                s = s.child(ident);
                let mut next = 3;
                if p.form.step == FormStep::Password {
                    let mut pw = UiNode::new(Kind::SecureField, row(3))
                        .id("auth-password")
                        .text(p.form.password.clone());
                    pw.placeholder = Some("Enter your password".into());
                    pw.focused = p.focused.as_deref() == Some("auth-password");
                    s = s.child(pw);
                    next = 4;
                }
                let mut cont = UiNode::new(Kind::Button, row(next))
                    .id("auth-continue")
                    .text("Continue");
                cont.enabled = !p.form.busy;
                s = s.child(cont);
                if let Some(e) = &p.form.error {
                    s = s.child(UiNode::new(Kind::Text, row(next + 1)).id("auth-error").text(e.clone()));
                }
                s
            }
            Screen::Home => {
                let rows: [(&str, &str, String); 7] = [
                    (
                        "SESSION AUD",
                        "session-aud",
                        if view.signed_in { "convex".into() } else { "none".into() },
                    ),
                    (
                        "CONVEX AUTHENTICATED",
                        "convex-authenticated",
                        view.convex_authenticated.to_string(),
                    ),
                    ("CONVEX LOADING", "convex-loading", view.convex_loading.to_string()),
                    ("CLERK SIGNED IN", "clerk-signed-in", view.signed_in.to_string()),
                    (
                        "SESSION ID",
                        "session-id",
                        view.session_id.clone().unwrap_or_else(|| "none".into()),
                    ),
                    (
                        "NATIVE SESSION",
                        "native-session-id",
                        p.native_session.clone().unwrap_or_else(|| "null".into()),
                    ),
                    ("KEY CONVEX BY SESSION", "key-convex-by-session", knobs_key.to_string()),
                ];
                let scroll = p.scroll_y;
                let extra: [(&str, &str, String); 2] = [
                    (
                        "COLOR SCHEME",
                        "color-scheme",
                        if dark { "dark" } else { "light" }.into(),
                    ),
                    ("LOCATION", "device-location", location),
                ];
                let mut s = UiNode::new(Kind::Group, content).id("screen-home");
                let info = rows
                    .into_iter()
                    .enumerate()
                    .chain(extra.into_iter().enumerate().map(|(i, r)| (i + 9, r)));
                let shifted = |mut r: Rect| {
                    r.y -= scroll;
                    r
                };
                for (i, (label, id, value)) in info {
                    let r = shifted(row(i as i32));
                    let half = r.width / 2;
                    s = s.child(
                        UiNode::new(Kind::Group, r)
                            .child(UiNode::new(Kind::Text, Rect { width: half, ..r }).text(label))
                            .child(
                                UiNode::new(
                                    Kind::Text,
                                    Rect {
                                        x: r.x + half,
                                        width: half,
                                        ..r
                                    },
                                )
                                .id(id)
                                .text(value),
                            ),
                    );
                }
                s = s.child(
                    UiNode::new(Kind::Button, shifted(row(8)))
                        .id("sign-out")
                        .text("Sign out"),
                );
                s = s.child(
                    UiNode::new(Kind::Text, shifted(row(ACTIVITY_FIRST_ROW - 1)))
                        .id("activity-title")
                        .text("RECENT ACTIVITY"),
                );
                for i in 1..=ACTIVITY_ITEMS {
                    s = s.child(
                        UiNode::new(Kind::Text, shifted(row(ACTIVITY_FIRST_ROW + i - 1)))
                            .id(&format!("activity-{i}"))
                            .text(format!("Signed in on device {i}")),
                    );
                }
                s = s.child(
                    UiNode::new(Kind::Text, shifted(row(ACTIVITY_FIRST_ROW + ACTIVITY_ITEMS)))
                        .id("home-footer")
                        .text("You're all caught up"),
                );
                // What scrolled out of the content area is not on screen.
                s.children
                    .retain(|c| c.rect.y + c.rect.height > HOME_TOP && c.rect.y < h);
                s
            }
        };
        let root = UiNode::new(Kind::Application, full)
            .text(APP_NAME)
            .child(UiNode::new(Kind::Window, full).child(screen));
        UiTree {
            platform: self.platform,
            app_id: BUNDLE_ID.into(),
            app_name: APP_NAME.into(),
            width: w,
            height: h,
            dark,
            root,
        }
    }
}

/// Where the app's content starts, below the status and navigation bars (points).
const HOME_TOP: i32 = 60;
/// The home screen's list of recent activity, below the fold: its first row and its length.
const ACTIVITY_FIRST_ROW: i32 = 12;
const ACTIVITY_ITEMS: i32 = 20;

/// The bottom of the home screen's content (the footer), unscrolled, plus a margin.
fn home_content_bottom() -> i32 {
    120 + (ACTIVITY_FIRST_ROW + ACTIVITY_ITEMS) * 56 + 48 + 24
}

/// What the app shows about authentication.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthView {
    pub running: bool,
    pub loaded: bool,
    pub signed_in: bool,
    pub session_id: Option<String>,
    pub convex_authenticated: bool,
    pub convex_loading: bool,
    pub network_error: bool,
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// Drives a device through the sign-in screen (tests and benchmarks).
pub fn sign_in(dev: &mut Device, email: &str, password: &str) {
    dev.advance(Duration::from_secs(10));
    dev.tap(Some("auth-identifier"));
    dev.type_focused(email);
    dev.tap(Some("auth-continue"));
    dev.type_focused(password);
    dev.tap(Some("auth-continue"));
    dev.advance(Duration::from_secs(5));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(platform: Platform, knobs: VirtualKnobs, seed: u64) -> Device {
        let knobs = knobs.paused();
        Device::new("dev-1", platform, knobs, seed)
    }

    fn signed_in_device(platform: Platform, knobs: VirtualKnobs, seed: u64) -> Device {
        let mut d = device(platform, knobs, seed);
        d.launch();
        sign_in(&mut d, "demo@harness.dev", "pw");
        let v = d.auth_view();
        assert!(v.signed_in && v.convex_authenticated, "{v:?}");
        d
    }

    fn cold_start(d: &mut Device) -> AuthView {
        d.terminate();
        d.launch();
        d.advance(Duration::from_secs(10));
        d.auth_view()
    }

    #[test]
    fn sign_in_writes_the_client_jwt_per_platform() {
        let mut ios = signed_in_device(Platform::Ios, VirtualKnobs::default(), 1);
        let e = ios.storage_entries();
        assert!(
            e.iter()
                .any(|x| x.store == "keychain" && x.service == IOS_SERVICE && x.key == CLIENT_JWT_KEY)
        );
        assert!(e.iter().any(|x| x.service == BUNDLE_ID && x.key == "clerkDeviceToken"));
        let android = signed_in_device(Platform::Android, VirtualKnobs::default(), 1);
        let xml = android.secure_store_xml();
        assert!(
            xml.contains("<string name=\"key_v1-__clerk_client_jwt\">{&quot;ct&quot;:"),
            "{xml}"
        );
        assert!(xml.contains("&quot;keystoreAlias&quot;:&quot;key_v1&quot;"));
        assert!(
            !xml.contains(&android.storage.secure_store[CLIENT_JWT_KEY].value),
            "the value is encrypted"
        );
        let ui = ios.ui();
        assert_eq!(ui.root.children[0].children[0].test_id.as_deref(), Some("screen-home"));
    }

    #[test]
    fn android_always_restores_and_keeps_the_token() {
        let mut d = signed_in_device(Platform::Android, VirtualKnobs::default(), 3);
        let token = d.storage.secure_store[CLIENT_JWT_KEY].clone();
        for _ in 0..50 {
            let v = cold_start(&mut d);
            assert!(v.signed_in && v.convex_authenticated, "{v:?}");
        }
        assert_eq!(d.storage.secure_store[CLIENT_JWT_KEY], token);
        assert!(
            d.launches
                .iter()
                .skip(1)
                .all(|l| l.restored_after_ms.is_some_and(|ms| (1000..=2600).contains(&ms)))
        );
    }

    #[test]
    fn ios_failed_restore_keeps_the_jwt_and_clears_native_items() {
        let mut d = signed_in_device(
            Platform::Ios,
            VirtualKnobs {
                restore_rate: 0.0,
                ..VirtualKnobs::default()
            },
            4,
        );
        let token = d.storage.secure_store[CLIENT_JWT_KEY].clone();
        let v = cold_start(&mut d);
        assert!(!v.signed_in && v.loaded, "{v:?}");
        assert_eq!(
            d.storage.secure_store[CLIENT_JWT_KEY], token,
            "__clerk_client_jwt unchanged"
        );
        assert!(d.storage.native_keychain.is_empty(), "clearAllKeychainItems");
        let ui = d.ui();
        assert_eq!(
            ui.root.children[0].children[0].test_id.as_deref(),
            Some("screen-sign-in")
        );
        let logs: Vec<String> = d.take_logs().into_iter().map(|l| l.1).collect();
        assert!(
            logs.iter().any(|l| l.contains("getSession() -> undefined")),
            "{logs:#?}"
        );
    }

    #[test]
    fn token_cache_off_never_restores() {
        let mut d = signed_in_device(
            Platform::Android,
            VirtualKnobs {
                token_cache: false,
                ..VirtualKnobs::default()
            },
            5,
        );
        assert!(!d.storage.secure_store.contains_key(CLIENT_JWT_KEY));
        assert!(!cold_start(&mut d).signed_in);
    }

    #[test]
    fn convex_stale_after_sign_out_sign_in_and_the_fixes() {
        for (knobs, expect) in [
            (VirtualKnobs::default(), false),
            (
                VirtualKnobs {
                    convex: "1.42.2".into(),
                    ..VirtualKnobs::default()
                },
                true,
            ),
            (
                VirtualKnobs {
                    key_convex_by_session: true,
                    ..VirtualKnobs::default()
                },
                true,
            ),
        ] {
            for platform in [Platform::Ios, Platform::Android] {
                let mut d = signed_in_device(platform, knobs.clone(), 6);
                d.tap(Some("sign-out"));
                d.advance(Duration::from_secs(2));
                assert!(!d.auth_view().signed_in);
                sign_in(&mut d, "demo@harness.dev", "pw");
                let v = d.auth_view();
                assert!(v.signed_in, "{v:?}");
                assert_eq!(v.convex_authenticated, expect, "{knobs:?} {platform:?}");
                // Stays so (permanent until a reload).
                d.advance(Duration::from_secs(120));
                assert_eq!(d.auth_view().convex_authenticated, expect);
                // A cold start fixes it.
                if platform == Platform::Android {
                    assert!(cold_start(&mut d).convex_authenticated);
                }
            }
        }
    }

    #[test]
    fn background_longer_than_the_token_lifetime_keeps_the_session() {
        let mut d = signed_in_device(Platform::Ios, VirtualKnobs::default(), 7);
        d.background(70.0);
        let v = d.auth_view();
        assert!(v.signed_in && v.convex_authenticated, "{v:?}");
        assert_eq!(d.app_state(), app_state::FOREGROUND);
        // With an inactivity timeout shorter than the background, the session expires.
        let mut d = signed_in_device(
            Platform::Ios,
            VirtualKnobs {
                inactivity_timeout_secs: Some(30.0),
                ..VirtualKnobs::default()
            },
            7,
        );
        d.background(70.0);
        assert!(!d.auth_view().signed_in);
    }

    #[test]
    fn offline_cold_start_shows_the_network_error_and_keeps_the_session() {
        let mut d = signed_in_device(Platform::Android, VirtualKnobs::default(), 8);
        d.set_network(false);
        let v = cold_start(&mut d);
        assert!(v.network_error && !v.signed_in, "{v:?}");
        assert!(d.storage.secure_store.contains_key(CLIENT_JWT_KEY));
        d.set_network(true);
        assert!(cold_start(&mut d).signed_in);
        // With the resource cache, an offline cold start is signed in.
        let mut d = signed_in_device(
            Platform::Android,
            VirtualKnobs {
                resource_cache: true,
                ..VirtualKnobs::default()
            },
            8,
        );
        d.set_network(false);
        assert!(cold_start(&mut d).signed_in);
    }

    #[test]
    fn clear_app_and_keychains_per_platform() {
        let mut a = signed_in_device(Platform::Android, VirtualKnobs::default(), 9);
        a.clear_app();
        assert!(a.storage.secure_store.is_empty());
        let mut i = signed_in_device(Platform::Ios, VirtualKnobs::default(), 9);
        i.clear_app();
        assert!(!i.storage.secure_store.is_empty(), "iOS keychain survives clearApp");
        i.clear_keychains();
        assert!(i.storage_entries().is_empty());
    }

    #[test]
    fn wrong_password_and_empty_identifier_show_errors() {
        let mut d = device(
            Platform::Ios,
            VirtualKnobs {
                password: Some("right".into()),
                ..VirtualKnobs::default()
            },
            10,
        );
        d.launch();
        d.advance(Duration::from_secs(10));
        d.tap(Some("auth-continue"));
        let text = format!("{:?}", d.ui());
        assert!(text.contains("Enter your email or username"));
        sign_in(&mut d, "a@b.c", "wrong");
        assert!(!d.auth_view().signed_in);
        assert!(format!("{:?}", d.ui()).contains("Password is incorrect"));
    }

    #[test]
    fn same_seed_same_draws() {
        let run = |seed| {
            let mut d = signed_in_device(Platform::Ios, VirtualKnobs::default(), seed);
            (0..30).map(|_| cold_start(&mut d).signed_in).collect::<Vec<_>>()
        };
        assert_eq!(run(11), run(11));
        assert_ne!(run(11), run(12));
    }

    /// The rect of the element with this testID on screen now, if it is on screen.
    fn on_screen(d: &mut Device, id: &str) -> Option<Rect> {
        let tree = d.ui();
        let mut found = None;
        tree.root.walk(&mut vec![], &mut |n, _| {
            if n.test_id.as_deref() == Some(id) {
                found = Some(n.rect);
            }
        });
        found
    }

    #[test]
    fn the_home_screen_scrolls_to_content_below_the_fold() {
        for platform in [Platform::Ios, Platform::Android] {
            let mut d = signed_in_device(platform, VirtualKnobs::default(), 4);
            let (w, h) = d.screen_size();
            assert!(
                on_screen(&mut d, "home-footer").is_none(),
                "{platform:?}: footer below the fold"
            );
            let sign_out = on_screen(&mut d, "sign-out").unwrap();
            // A drag down at the top does nothing; a tap-sized move is not a swipe.
            assert!(!d.swipe((w / 2, 300), (w / 2, 700)));
            assert!(!d.swipe((w / 2, 500), (w / 2, 495)));
            // Dragging up moves the content up by the drag's length.
            assert!(d.swipe((w / 2, 700), (w / 2, 300)));
            assert_eq!(on_screen(&mut d, "sign-out").map(|r| r.y), Some(sign_out.y - 400));
            while d.swipe((w / 2, h - 100), (w / 2, 150)) {}
            let footer = on_screen(&mut d, "home-footer").expect("footer after scrolling to the end");
            assert!(footer.y + footer.height <= h, "{footer:?} within {h}");
            assert!(on_screen(&mut d, "session-id").is_none(), "scrolled off the top");
            // And back.
            while d.swipe((w / 2, 150), (w / 2, h - 100)) {}
            assert_eq!(on_screen(&mut d, "sign-out"), Some(sign_out));
        }
    }

    #[test]
    fn orientation_appearance_location_and_airplane_mode() {
        let mut d = signed_in_device(Platform::Ios, VirtualKnobs::default(), 5);
        assert_eq!(d.ui().width, 390);
        d.set_orientation(Orientation::LandscapeLeft);
        let t = d.ui();
        assert_eq!((t.width, t.height), (844, 390));
        assert!(on_screen(&mut d, "sign-out").is_none(), "below the fold in landscape");
        d.set_orientation(Orientation::UpsideDown);
        assert_eq!(d.ui().width, 390);

        assert!(format!("{:?}", d.ui()).contains("\"light\""));
        d.set_dark_mode(true);
        let t = d.ui();
        assert!(t.dark);
        assert!(format!("{t:?}").contains("\"dark\""));

        d.set_location(Location {
            latitude: 52.3676,
            longitude: 4.9041,
            altitude: 0.0,
        });
        assert!(format!("{:?}", d.ui()).contains("52.36760,4.90410"));

        assert!(d.online);
        d.set_airplane_mode(true);
        assert!(!d.online && d.settings.airplane);
        d.set_airplane_mode(false);
        assert!(d.online, "the network comes back as it was");
        d.set_network(false);
        d.set_airplane_mode(true);
        d.set_airplane_mode(false);
        assert!(!d.online, "offline before airplane mode, offline after");
    }
}
