//! Device profiles: the YAML files in `devices/` that say which device a run targets.
//!
//! This module owns the typed model of a device profile ([`DeviceProfile`] and the types it is
//! made of) and its loader ([`parse_device_profile`], [`load_device_profile`]). The loader
//! reports every problem in a file as a [`Diagnostic`] with the line and column of the
//! offending key or value, and never returns a profile from a file that has errors.
//!
//! A profile is one YAML document that is a map:
//!
//! ```yaml
//! name: virtual-ios        # [a-z0-9-]+
//! platform: iOS            # iOS | Android
//! kind: virtual            # virtual | ios-simulator | android-emulator | appium | grid
//!                          # | browserstack | saucelabs | lambdatest
//! tags: [virtual, pr]      # optional
//! backend: appium          # optional: appium | host | appium+host
//! ```
//!
//! followed by the keys of its kind (`virtual:` knobs, `udid`/`deviceName`, `serial`/`avd`,
//! `url`/`capabilities`, `credentials`). Secrets never live in a profile: cloud credentials
//! are names of environment variables (`${BROWSERSTACK_ACCESS_KEY}`), URLs with embedded
//! credentials are refused, and so are literal `accessKey`/`password` capabilities.

use std::fmt;
use std::io::Read as _;
use std::path::Path;
use std::time::Duration;

use crate::diag::{Diagnostic, Sink};
use crate::lower::{MapView, boolean, index, integer, join, nonempty_string, number, one_of, string, string_list};
pub use crate::platform::{Network, Platform};
pub use crate::profile::knobs::VirtualKnobs;
use crate::yaml::{MAX_FILE_BYTES, Node, Pos, Value, parse_documents};

/// W3C/Appium capabilities as they will be sent in a new-session request, with the types
/// they had in the YAML file (strings, numbers, booleans, lists, maps).
pub type Capabilities = serde_json::Map<String, serde_json::Value>;

/// A loaded, valid device profile.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceProfile {
    /// The profile's name, `[a-z0-9-]+` (what `harness run --device` refers to).
    pub name: String,
    /// The platform the device runs.
    pub platform: Platform,
    /// Free-form labels for selecting profiles (`pr`, `nightly`, …); empty when not given.
    pub tags: Vec<String>,
    /// How the harness drives the device (`appium` unless the profile says otherwise).
    pub backend: Backend,
    /// The device itself, with the settings of its kind.
    pub target: Target,
    /// How long one WebDriver command may take before the case ends as an infrastructure
    /// error (`commandTimeout: 30s`; default [`DEFAULT_COMMAND_TIMEOUT`]). A hung server
    /// never hangs the run.
    pub command_timeout: Duration,
    /// Sessions of this profile at once (`parallel: N`, default 1): N lanes take the
    /// profile's cases from one queue (a Grid or a cloud farm behind one profile). Virtual
    /// devices ignore it (each case gets its own session).
    pub sessions: usize,
}

/// The per-command timeout of profiles without `commandTimeout`.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

impl DeviceProfile {
    /// The kind of device, as written in the profile's `kind:`.
    pub fn kind(&self) -> DeviceKind {
        self.target.kind()
    }

    /// For cloud vendors, the capability block the run merges the credentials into
    /// (`bstack:options`, `sauce:options`, `lt:options`); `None` for other kinds.
    pub fn vendor_options_key(&self) -> Option<&'static str> {
        match &self.target {
            Target::Cloud(cloud) => Some(cloud.vendor.options_key()),
            _ => None,
        }
    }

    /// The Appium/WebDriver endpoint, for kinds that talk to one over the network.
    pub fn url(&self) -> Option<&str> {
        match &self.target {
            Target::Appium(server) | Target::Grid(server) => Some(&server.url),
            Target::Cloud(cloud) => Some(&cloud.url),
            _ => None,
        }
    }

    /// The capabilities written in the profile, for kinds that have them.
    pub fn capabilities(&self) -> Option<&Capabilities> {
        match &self.target {
            Target::Appium(server) | Target::Grid(server) => Some(&server.capabilities),
            Target::Cloud(cloud) => Some(&cloud.capabilities),
            _ => None,
        }
    }
}

/// How the harness drives a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Through an Appium (or Appium-compatible) server; the default.
    Appium,
    /// Directly through the host's tools (`xcrun simctl`, `adb`); local devices only.
    Host,
    /// Appium for the UI, host tools for device-level actions; local devices only.
    AppiumAndHost,
}

impl Backend {
    /// The spelling used in profiles: `appium`, `host` or `appium+host`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Appium => "appium",
            Backend::Host => "host",
            Backend::AppiumAndHost => "appium+host",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `kind:` of a device profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    Virtual,
    IosSimulator,
    AndroidEmulator,
    Appium,
    Grid,
    BrowserStack,
    SauceLabs,
    LambdaTest,
}

impl DeviceKind {
    /// Every kind, in the order the documentation lists them.
    pub const ALL: [DeviceKind; 8] = [
        DeviceKind::Virtual,
        DeviceKind::IosSimulator,
        DeviceKind::AndroidEmulator,
        DeviceKind::Appium,
        DeviceKind::Grid,
        DeviceKind::BrowserStack,
        DeviceKind::SauceLabs,
        DeviceKind::LambdaTest,
    ];

    /// The spelling used in profiles (`ios-simulator`, `browserstack`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Virtual => "virtual",
            DeviceKind::IosSimulator => "ios-simulator",
            DeviceKind::AndroidEmulator => "android-emulator",
            DeviceKind::Appium => "appium",
            DeviceKind::Grid => "grid",
            DeviceKind::BrowserStack => "browserstack",
            DeviceKind::SauceLabs => "saucelabs",
            DeviceKind::LambdaTest => "lambdatest",
        }
    }

    /// The cloud vendor of this kind, if it is one.
    pub fn vendor(self) -> Option<Vendor> {
        match self {
            DeviceKind::BrowserStack => Some(Vendor::BrowserStack),
            DeviceKind::SauceLabs => Some(Vendor::SauceLabs),
            DeviceKind::LambdaTest => Some(Vendor::LambdaTest),
            _ => None,
        }
    }

    /// Whether the device runs on this machine (so the `host` backends apply).
    pub fn is_local_device(self) -> bool {
        matches!(self, DeviceKind::IosSimulator | DeviceKind::AndroidEmulator)
    }

    /// The top-level keys a profile of this kind accepts besides the common ones.
    fn keys(self) -> &'static [&'static str] {
        match self {
            DeviceKind::Virtual => &["virtual"],
            DeviceKind::IosSimulator => &["udid", "deviceName", "osVersion", "url", "capabilities"],
            DeviceKind::AndroidEmulator => &["serial", "avd", "url", "capabilities"],
            DeviceKind::Appium | DeviceKind::Grid => &["url", "capabilities"],
            DeviceKind::BrowserStack | DeviceKind::SauceLabs | DeviceKind::LambdaTest => {
                &["url", "capabilities", "credentials"]
            }
        }
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The device a profile targets, with the settings of its kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// The in-process virtual device farm.
    Virtual(VirtualKnobs),
    /// A local iOS simulator.
    IosSimulator(IosSimulator),
    /// A local Android emulator.
    AndroidEmulator(AndroidEmulator),
    /// An Appium server.
    Appium(AppiumServer),
    /// A Selenium Grid with Appium nodes.
    Grid(AppiumServer),
    /// A cloud device farm (BrowserStack, Sauce Labs, LambdaTest).
    Cloud(CloudTarget),
}

impl Target {
    /// The kind of device this is.
    pub fn kind(&self) -> DeviceKind {
        match self {
            Target::Virtual(_) => DeviceKind::Virtual,
            Target::IosSimulator(_) => DeviceKind::IosSimulator,
            Target::AndroidEmulator(_) => DeviceKind::AndroidEmulator,
            Target::Appium(_) => DeviceKind::Appium,
            Target::Grid(_) => DeviceKind::Grid,
            Target::Cloud(cloud) => cloud.vendor.kind(),
        }
    }
}

/// A local iOS simulator.
#[derive(Debug, Clone, PartialEq)]
pub struct IosSimulator {
    /// Which simulator.
    pub device: SimulatorRef,
    /// iOS version of the simulator runtime (`"18.2"`), when the name alone is ambiguous.
    pub os_version: Option<String>,
    /// The local Appium server for backends `appium` and `appium+host` (`url`, default
    /// [`LOCAL_APPIUM_URL`], and extra `capabilities`).
    pub appium: AppiumServer,
}

/// Where backends `appium` and `appium+host` find Appium for a local device by default.
pub const LOCAL_APPIUM_URL: &str = "http://127.0.0.1:4723";

/// How a simulator is picked: by its UDID (exact) or by its device name (`iPhone 16`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimulatorRef {
    Udid(String),
    DeviceName(String),
}

/// A local Android emulator.
#[derive(Debug, Clone, PartialEq)]
pub struct AndroidEmulator {
    /// Which emulator.
    pub device: EmulatorRef,
    /// The local Appium server, as for [`IosSimulator::appium`].
    pub appium: AppiumServer,
}

/// How an emulator is picked: a running one by its adb serial, or an AVD to boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmulatorRef {
    /// The adb serial of a running emulator (`emulator-5554`).
    Serial(String),
    /// The name of an Android Virtual Device to boot.
    Avd(String),
}

/// An Appium server or a Selenium Grid.
#[derive(Debug, Clone, PartialEq)]
pub struct AppiumServer {
    /// `http://` or `https://` endpoint, without credentials.
    pub url: String,
    /// Capabilities for new sessions (empty when the profile gives none).
    pub capabilities: Capabilities,
}

/// A cloud device farm.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudTarget {
    pub vendor: Vendor,
    /// The hub URL (the vendor's default unless the profile overrides it).
    pub url: String,
    /// Capabilities for new sessions, without credentials.
    pub capabilities: Capabilities,
    /// Where the credentials come from.
    pub credentials: CloudCredentials,
}

/// Names of the environment variables holding a cloud vendor's credentials. Never values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudCredentials {
    /// Environment variable with the user name (`BROWSERSTACK_USERNAME`).
    pub username_env: String,
    /// Environment variable with the access key (`BROWSERSTACK_ACCESS_KEY`).
    pub access_key_env: String,
}

/// A cloud device farm vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vendor {
    BrowserStack,
    SauceLabs,
    LambdaTest,
}

impl Vendor {
    pub const ALL: [Vendor; 3] = [Vendor::BrowserStack, Vendor::SauceLabs, Vendor::LambdaTest];

    /// The profile kind of this vendor.
    pub fn kind(self) -> DeviceKind {
        match self {
            Vendor::BrowserStack => DeviceKind::BrowserStack,
            Vendor::SauceLabs => DeviceKind::SauceLabs,
            Vendor::LambdaTest => DeviceKind::LambdaTest,
        }
    }

    /// The hub URL used when the profile gives none.
    pub fn default_url(self) -> &'static str {
        match self {
            Vendor::BrowserStack => "https://hub.browserstack.com/wd/hub",
            Vendor::SauceLabs => "https://ondemand.us-west-1.saucelabs.com:443/wd/hub",
            Vendor::LambdaTest => "https://mobile-hub.lambdatest.com/wd/hub",
        }
    }

    /// The vendor's capability block, where the run merges the credentials.
    pub fn options_key(self) -> &'static str {
        match self {
            Vendor::BrowserStack => "bstack:options",
            Vendor::SauceLabs => "sauce:options",
            Vendor::LambdaTest => "lt:options",
        }
    }

    /// The conventional environment variable for the user name.
    pub fn username_env(self) -> &'static str {
        match self {
            Vendor::BrowserStack => "BROWSERSTACK_USERNAME",
            Vendor::SauceLabs => "SAUCE_USERNAME",
            Vendor::LambdaTest => "LT_USERNAME",
        }
    }

    /// The conventional environment variable for the access key.
    pub fn access_key_env(self) -> &'static str {
        match self {
            Vendor::BrowserStack => "BROWSERSTACK_ACCESS_KEY",
            Vendor::SauceLabs => "SAUCE_ACCESS_KEY",
            Vendor::LambdaTest => "LT_ACCESS_KEY",
        }
    }
}

/// The file of a device profile named on the command line: a bare name is
/// `devices/NAME.yaml`; anything with an extension or a folder is a path.
pub fn profile_path(name: &str) -> std::path::PathBuf {
    let p = std::path::PathBuf::from(name);
    if p.extension().is_some() || p.components().count() > 1 {
        p
    } else {
        Path::new("devices").join(format!("{name}.yaml"))
    }
}

/// Reads and parses the device profile at `path`. A file that cannot be read is one error
/// diagnostic with line 0.
pub fn load_device_profile(path: &Path) -> (Option<DeviceProfile>, Vec<Diagnostic>) {
    let mut sink = Sink::new(path);
    match read_bounded(path) {
        Ok(Some(text)) => parse_device_profile(&text, path),
        Ok(None) => {
            sink.error(
                Pos::new(1, 1),
                "",
                format!("file is more than the limit of {MAX_FILE_BYTES} bytes for a device profile"),
            );
            (None, sink.into_vec())
        }
        Err(e) => {
            sink.error(Pos::UNKNOWN, "", format!("cannot read device profile: {e}"));
            (None, sink.into_vec())
        }
    }
}

/// Reads at most one byte more than the YAML size limit; `None` when the file is larger.
fn read_bounded(path: &Path) -> std::io::Result<Option<String>> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > MAX_FILE_BYTES {
        return Ok(None);
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// Parses the text of a device profile (`file` is used in diagnostics only).
///
/// Returns the profile when the file has no errors (warnings are allowed), and every
/// diagnostic found, sorted by position.
pub fn parse_device_profile(text: &str, file: &Path) -> (Option<DeviceProfile>, Vec<Diagnostic>) {
    let mut sink = Sink::new(file);
    let profile = match parse_documents(text) {
        Err(err) => {
            let d = sink.error(err.pos, "", err.message);
            let line = text.lines().nth(err.pos.line.saturating_sub(1) as usize);
            if line.is_some_and(|l| l.contains("${")) {
                d.hint("inside { } or [ ], quote environment references: \"${NAME}\"");
            }
            None
        }
        Ok(docs) => match docs.split_first() {
            None => {
                sink.error(
                    Pos::new(1, 1),
                    "",
                    "the file is empty: a device profile needs name, platform and kind",
                )
                .hint("start from one of the profiles in devices/, e.g. devices/virtual-ios.yaml");
                None
            }
            Some((first, rest)) => {
                if let Some(second) = rest.first() {
                    sink.error(
                        second.pos,
                        "",
                        format!("a device profile must be one YAML document, found {}", docs.len()),
                    )
                    .hint("remove the `---` separator, or put each device in its own file");
                }
                lower_profile(&mut sink, first)
            }
        },
    };
    let ok = !sink.has_errors();
    let mut diags = sink.into_vec();
    diags.sort_by_key(|d| (d.line, d.column));
    (profile.filter(|_| ok), diags)
}

const COMMON_KEYS: [&str; 7] = [
    "name",
    "platform",
    "kind",
    "tags",
    "backend",
    "commandTimeout",
    "parallel",
];

const BACKENDS: [(&str, Backend); 3] = [
    ("appium", Backend::Appium),
    ("host", Backend::Host),
    ("appium+host", Backend::AppiumAndHost),
];

const VIRTUAL_KEYS: [&str; 11] = [
    "clerkExpo",
    "convex",
    "keyConvexBySession",
    "tokenCache",
    "resourceCache",
    "restoreRate",
    "network",
    "sessionLifetime",
    "inactivityTimeout",
    "latencyScale",
    "seed",
];

fn kind_choices() -> Vec<(&'static str, DeviceKind)> {
    DeviceKind::ALL.iter().map(|k| (k.as_str(), *k)).collect()
}

/// Lowers the document's root. Pieces that had errors come back as `None` or defaults; the
/// caller drops the result when the sink has errors, so a partial profile never escapes.
fn lower_profile(sink: &mut Sink, node: &Node) -> Option<DeviceProfile> {
    let mut map = MapView::new(sink, node, "", "a device profile")?;

    let name = match map.get("name") {
        Some(n) => profile_name(sink, n, "name"),
        None => {
            let example = sink
                .file()
                .file_stem()
                .and_then(|s| s.to_str())
                .filter(|s| is_valid_name(s))
                .unwrap_or("virtual-ios")
                .to_string();
            sink.error(map.pos, "name", "missing required key 'name'")
                .hint(format!("name the profile after its file: name: {example}"));
            None
        }
    };
    let platform_node = map.get("platform");
    let platform = match platform_node {
        Some(n) => one_of(sink, n, "platform", &Platform::ALL),
        None => {
            sink.error(map.pos, "platform", "missing required key 'platform'")
                .hint("platform: iOS or platform: Android");
            None
        }
    };
    let kind_node = map.get("kind");
    let kind = match kind_node {
        Some(n) => one_of(sink, n, "kind", &kind_choices()),
        None => {
            let names: Vec<&str> = DeviceKind::ALL.iter().map(|k| k.as_str()).collect();
            sink.error(map.pos, "kind", "missing required key 'kind'")
                .hint(format!("kind is one of {}", names.join(", ")));
            None
        }
    };
    let tags = match map.get("tags") {
        Some(n) if n.is_null() => Some(Vec::new()),
        Some(n) => string_list(sink, n, "tags"),
        None => Some(Vec::new()),
    };
    let command_timeout = match map.get("commandTimeout") {
        Some(n) => crate::lower::duration(sink, n, "commandTimeout").and_then(|d| {
            if d.is_zero() {
                sink.error(n.pos, "commandTimeout", "commandTimeout must be more than 0")
                    .hint("e.g. commandTimeout: 30s");
                None
            } else {
                Some(d)
            }
        }),
        None => Some(DEFAULT_COMMAND_TIMEOUT),
    };
    let sessions = match map.get("parallel") {
        Some(n) => crate::lower::integer(sink, n, "parallel", 1, 64).map(|v| v as usize),
        None => Some(1),
    };
    let backend_node = map.get("backend");
    let backend = match backend_node {
        Some(n) => one_of(sink, n, "backend", &BACKENDS),
        None => Some(Backend::Appium),
    };

    let target = match (kind, kind_node) {
        (Some(kind), Some(kind_node)) => {
            let target = lower_target(sink, &mut map, kind, kind_node, platform);
            let mut known: Vec<&str> = COMMON_KEYS.to_vec();
            known.extend_from_slice(kind.keys());
            map.finish(sink, &format!("a device profile of kind {kind}"), &known);
            target
        }
        _ => {
            // Without a valid kind we cannot tell which kind-specific keys apply: accept the
            // keys of every kind, and report only keys that no kind has.
            let mut known: Vec<&str> = COMMON_KEYS.to_vec();
            for k in DeviceKind::ALL {
                for key in k.keys() {
                    if !known.contains(key) {
                        known.push(key);
                    }
                }
            }
            for key in &known {
                map.get(key);
            }
            map.finish(sink, "a device profile", &known);
            None
        }
    };

    if let (Some(kind), Some(backend), Some(node)) = (kind, backend, backend_node)
        && backend != Backend::Appium
        && !kind.is_local_device()
    {
        sink.error(
            node.pos,
            "backend",
            format!("backend {backend} needs a local simulator or emulator, but kind is {kind}"),
        )
        .hint("use kind ios-simulator or android-emulator, or drop backend (the default is appium)");
    }
    if let (Some(kind), Some(platform), Some(node)) = (kind, platform, platform_node) {
        let required = match kind {
            DeviceKind::IosSimulator => Some(Platform::Ios),
            DeviceKind::AndroidEmulator => Some(Platform::Android),
            _ => None,
        };
        if let Some(required) = required
            && required != platform
        {
            sink.error(
                node.pos,
                "platform",
                format!("kind {kind} runs {required}, but platform is {platform}"),
            )
            .hint(format!("write platform: {required}"));
        }
    }

    Some(DeviceProfile {
        name: name?,
        platform: platform?,
        tags: tags?,
        backend: backend?,
        target: target?,
        command_timeout: command_timeout?,
        sessions: sessions?,
    })
}

/// `[a-z0-9-]+`.
fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn profile_name(sink: &mut Sink, node: &Node, path: &str) -> Option<String> {
    let name = nonempty_string(sink, node, path)?;
    if !is_valid_name(&name) {
        let suggestion: String = name
            .trim()
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        sink.error(
            node.pos,
            path,
            format!("name '{name}' may only contain lowercase letters, digits and '-'"),
        )
        .hint(format!("for example name: {suggestion}"));
        return None;
    }
    Some(name)
}

fn lower_target(
    sink: &mut Sink,
    map: &mut MapView<'_>,
    kind: DeviceKind,
    kind_node: &Node,
    platform: Option<Platform>,
) -> Option<Target> {
    match kind {
        DeviceKind::Virtual => lower_virtual(sink, map.get("virtual")).map(Target::Virtual),
        DeviceKind::IosSimulator => {
            let udid = map.get("udid").and_then(|n| nonempty_string(sink, n, "udid"));
            let name_node = map.get("deviceName");
            let name = name_node.and_then(|n| nonempty_string(sink, n, "deviceName"));
            let os_version = map.get("osVersion").and_then(|n| version_text(sink, n, "osVersion"));
            let device = match (udid, name) {
                (Some(udid), None) => SimulatorRef::Udid(udid),
                (None, Some(name)) => SimulatorRef::DeviceName(name),
                (Some(_), Some(_)) => {
                    let pos = name_node.map_or(kind_node.pos, |n| n.pos);
                    sink.error(pos, "deviceName", "give udid or deviceName, not both")
                        .hint("udid picks one exact simulator; deviceName picks one by name");
                    return None;
                }
                (None, None) => {
                    if !map.has("udid") && !map.has("deviceName") {
                        sink.error(
                            kind_node.pos,
                            "deviceName",
                            "kind ios-simulator needs udid or deviceName",
                        )
                        .hint("for example deviceName: iPhone 16");
                    }
                    return None;
                }
            };
            let appium = local_appium(sink, map, platform)?;
            Some(Target::IosSimulator(IosSimulator {
                device,
                os_version,
                appium,
            }))
        }
        DeviceKind::AndroidEmulator => {
            let serial = map.get("serial").and_then(|n| nonempty_string(sink, n, "serial"));
            let avd_node = map.get("avd");
            let avd = avd_node.and_then(|n| nonempty_string(sink, n, "avd"));
            let appium = local_appium(sink, map, platform);
            let device = match (serial, avd) {
                (Some(serial), None) => Some(EmulatorRef::Serial(serial)),
                (None, Some(avd)) => Some(EmulatorRef::Avd(avd)),
                (Some(_), Some(_)) => {
                    let pos = avd_node.map_or(kind_node.pos, |n| n.pos);
                    sink.error(pos, "avd", "give serial or avd, not both")
                        .hint("serial picks a running emulator; avd names one to boot");
                    None
                }
                (None, None) => {
                    if !map.has("serial") && !map.has("avd") {
                        sink.error(kind_node.pos, "serial", "kind android-emulator needs serial or avd")
                            .hint("for example serial: emulator-5554");
                    }
                    None
                }
            };
            Some(Target::AndroidEmulator(AndroidEmulator {
                device: device?,
                appium: appium?,
            }))
        }
        DeviceKind::Appium | DeviceKind::Grid => {
            let url = match map.get("url") {
                Some(n) => url(sink, n, "url"),
                None => {
                    let example = if kind == DeviceKind::Grid {
                        "http://127.0.0.1:4444"
                    } else {
                        "http://127.0.0.1:4723"
                    };
                    sink.error(kind_node.pos, "url", format!("kind {kind} needs url"))
                        .hint(format!("for example url: {example}"));
                    None
                }
            };
            let capabilities = match map.get("capabilities") {
                Some(n) if n.is_null() => Some(Capabilities::new()),
                Some(n) => capabilities(sink, n, kind, platform),
                None => Some(Capabilities::new()),
            };
            let server = AppiumServer {
                url: url?,
                capabilities: capabilities?,
            };
            Some(if kind == DeviceKind::Grid {
                Target::Grid(server)
            } else {
                Target::Appium(server)
            })
        }
        DeviceKind::BrowserStack | DeviceKind::SauceLabs | DeviceKind::LambdaTest => {
            let vendor = kind.vendor()?;
            let url = match map.get("url") {
                Some(n) => url(sink, n, "url"),
                None => Some(vendor.default_url().to_string()),
            };
            let capabilities = match map.get("capabilities") {
                Some(n) => capabilities(sink, n, kind, platform),
                None => {
                    sink.error(kind_node.pos, "capabilities", format!("kind {kind} needs capabilities"))
                        .hint(format!(
                            "give at least the device and the app: deviceName, platformVersion, \
                         appium:app and {}",
                            vendor.options_key()
                        ));
                    None
                }
            };
            let credentials = match map.get("credentials") {
                Some(n) => credentials(sink, n, vendor),
                None => {
                    sink.error(kind_node.pos, "credentials", format!("kind {kind} needs credentials"))
                        .hint(format!(
                            "credentials: {{username: \"${{{}}}\", accessKey: \"${{{}}}\"}}",
                            vendor.username_env(),
                            vendor.access_key_env()
                        ));
                    None
                }
            };
            Some(Target::Cloud(CloudTarget {
                vendor,
                url: url?,
                capabilities: capabilities?,
                credentials: credentials?,
            }))
        }
    }
}

/// `url` and `capabilities` of a local device: the Appium server that backends `appium` and
/// `appium+host` use (default [`LOCAL_APPIUM_URL`]).
fn local_appium(sink: &mut Sink, map: &mut MapView<'_>, platform: Option<Platform>) -> Option<AppiumServer> {
    let url = match map.get("url") {
        Some(n) => url(sink, n, "url"),
        None => Some(LOCAL_APPIUM_URL.to_string()),
    };
    let capabilities = match map.get("capabilities") {
        Some(n) if n.is_null() => Some(Capabilities::new()),
        Some(n) => capabilities(sink, n, DeviceKind::Appium, platform),
        None => Some(Capabilities::new()),
    };
    Some(AppiumServer {
        url: url?,
        capabilities: capabilities?,
    })
}

fn lower_virtual(sink: &mut Sink, node: Option<&Node>) -> Option<VirtualKnobs> {
    let mut knobs = VirtualKnobs::default();
    let Some(node) = node.filter(|n| !n.is_null()) else {
        return Some(knobs);
    };
    let mut m = MapView::new(sink, node, "virtual", "virtual knobs")?;
    if let Some(n) = m.get("clerkExpo")
        && let Some(v) = semver(sink, n, &m.child("clerkExpo"))
    {
        knobs.clerk_expo = v;
    }
    if let Some(n) = m.get("convex")
        && let Some(v) = semver(sink, n, &m.child("convex"))
    {
        knobs.convex = v;
    }
    if let Some(n) = m.get("keyConvexBySession")
        && let Some(v) = boolean(sink, n, &m.child("keyConvexBySession"))
    {
        knobs.key_convex_by_session = v;
    }
    if let Some(n) = m.get("tokenCache")
        && let Some(v) = boolean(sink, n, &m.child("tokenCache"))
    {
        knobs.token_cache = v;
    }
    if let Some(n) = m.get("resourceCache")
        && let Some(v) = boolean(sink, n, &m.child("resourceCache"))
    {
        knobs.resource_cache = v;
    }
    if let Some(n) = m.get("restoreRate")
        && let Some(v) = number(sink, n, &m.child("restoreRate"), 0.0, 1.0)
    {
        knobs.restore_rate = v;
    }
    if let Some(n) = m.get("network")
        && let Some(v) = one_of(sink, n, &m.child("network"), &Network::ALL)
    {
        knobs.network = v;
    }
    if let Some(n) = m.get("sessionLifetime")
        && let Some(v) = crate::lower::duration(sink, n, &m.child("sessionLifetime"))
    {
        knobs.session_lifetime_secs = v.as_secs_f64();
    }
    if let Some(n) = m.get("inactivityTimeout") {
        knobs.inactivity_timeout_secs =
            crate::lower::duration(sink, n, &m.child("inactivityTimeout")).map(|d| d.as_secs_f64());
    }
    if let Some(n) = m.get("latencyScale")
        && let Some(v) = number(sink, n, &m.child("latencyScale"), 0.0, 100.0)
    {
        knobs.latency_scale = v;
    }
    if let Some(n) = m.get("seed") {
        knobs.seed = integer(sink, n, &m.child("seed"), 0, i64::MAX).map(|s| s.unsigned_abs());
    }
    m.finish(sink, "virtual knobs", &VIRTUAL_KEYS);
    Some(knobs)
}

/// A `major.minor.patch` version such as `3.2.7`.
fn semver(sink: &mut Sink, node: &Node, path: &str) -> Option<String> {
    let text = string(sink, node, path)?;
    let parts: Vec<&str> = text.trim().split('.').collect();
    let valid = parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 9 && p.chars().all(|c| c.is_ascii_digit()));
    if !valid {
        sink.error(
            node.pos,
            path,
            format!("'{text}' is not a version: expected major.minor.patch such as 3.2.7"),
        )
        .hint("write all three numbers, e.g. \"3.2.0\"");
        return None;
    }
    Some(text.trim().to_string())
}

/// A version-like string such as an OS version. A YAML number is accepted with a warning,
/// because `18.10` reads as the number 18.1.
fn version_text(sink: &mut Sink, node: &Node, path: &str) -> Option<String> {
    let text = nonempty_string(sink, node, path)?;
    if matches!(node.value, Value::Float(_)) {
        sink.warning(node.pos, path, format!("{path} was read as the number {text}"))
            .hint(format!(
                "quote versions so that 18.10 does not become 18.1: {path}: \"{text}\""
            ));
    }
    Some(text)
}

/// An `http://` or `https://` URL without embedded credentials. The URL is not repeated in
/// messages, because a malformed one may still carry a secret.
fn url(sink: &mut Sink, node: &Node, path: &str) -> Option<String> {
    let text = nonempty_string(sink, node, path)?;
    let text = text.trim().to_string();
    let (scheme, rest) = match text.find("://") {
        Some(i) => (text.get(..i).unwrap_or(""), text.get(i + 3..).unwrap_or("")),
        None => ("", text.as_str()),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        sink.error(
            node.pos,
            path,
            "credentials in the URL would leak into logs; use credentials from the environment",
        )
        .hint(
            "remove the user:password@ part; cloud kinds read username and accessKey from \
             environment variables given as ${NAME} under credentials",
        );
        return None;
    }
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        sink.error(node.pos, path, "url must start with http:// or https://")
            .hint("for example url: http://127.0.0.1:4723");
        return None;
    }
    if authority.is_empty() {
        sink.error(node.pos, path, "url has no host")
            .hint("for example url: http://127.0.0.1:4723");
        return None;
    }
    if text.chars().any(char::is_whitespace) {
        sink.error(node.pos, path, "url must not contain spaces");
        return None;
    }
    Some(text)
}

/// `${NAME}`: the name of an environment variable.
fn env_reference(text: &str) -> Option<&str> {
    let name = text.trim().strip_prefix("${")?.strip_suffix('}')?;
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    (first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some(name)
}

fn credentials(sink: &mut Sink, node: &Node, vendor: Vendor) -> Option<CloudCredentials> {
    let mut m = MapView::new(sink, node, "credentials", "credentials")?;
    let username_env = credential(sink, &mut m, "username", vendor.username_env());
    let access_key_env = credential(sink, &mut m, "accessKey", vendor.access_key_env());
    m.finish(sink, "credentials", &["username", "accessKey"]);
    Some(CloudCredentials {
        username_env: username_env?,
        access_key_env: access_key_env?,
    })
}

/// One entry of `credentials:`, which must be `${NAME}`; returns NAME.
fn credential(sink: &mut Sink, m: &mut MapView<'_>, key: &str, env: &str) -> Option<String> {
    let Some(n) = m.get(key) else {
        sink.error(m.pos, &join("credentials", key), format!("credentials need {key}"))
            .hint(format!("{key}: ${{{env}}}"));
        return None;
    };
    let found = n.as_str().and_then(env_reference).map(str::to_string);
    if found.is_none() {
        // The value is not repeated: it may be the secret itself.
        let d = sink.error(
            n.pos,
            &join("credentials", key),
            format!("credentials must come from the environment: write ${{{env}}}"),
        );
        if n.as_str().is_some_and(|s| s.trim_start().starts_with('$')) {
            d.hint("an environment reference is ${NAME}, with letters, digits and '_'");
        } else {
            d.hint(format!(
                "a literal value in a file ends up in git and in logs; set {env} in the environment"
            ));
        }
    }
    found
}

/// Capabilities: converted to JSON with their types, checked for secrets, for the options
/// block of another vendor, and for a `platformName` that disagrees with `platform`.
fn capabilities(sink: &mut Sink, node: &Node, kind: DeviceKind, platform: Option<Platform>) -> Option<Capabilities> {
    let path = "capabilities";
    let view = MapView::new(sink, node, path, "capabilities")?;
    let entries = view.entries();
    view.finish_open();

    check_secrets(sink, node, path, kind, true, None);

    for (k, v) in entries {
        let name = k.key_text();
        let key_path = join(path, &name);
        match name.as_str() {
            "platformName" => match (v.as_str(), platform) {
                (None, _) => {
                    sink.error(v.pos, &key_path, format!("expected a string, found {}", v.kind()));
                }
                (Some(given), Some(platform)) if !given.trim().eq_ignore_ascii_case(platform.name()) => {
                    sink.error(
                        v.pos,
                        &key_path,
                        format!("platformName '{given}' disagrees with platform {platform}"),
                    )
                    .hint(format!(
                        "write platformName: {platform}, or drop it: the run sets it from platform"
                    ));
                }
                _ => {}
            },
            "platformVersion" | "appium:platformVersion" if matches!(v.value, Value::Int(_) | Value::Float(_)) => {
                let text = v.scalar_text().unwrap_or_default();
                sink.warning(
                    v.pos,
                    &key_path,
                    format!("{name} was read as the number {text}; appium expects a string"),
                )
                .hint(format!("quote it: {name}: \"{text}\""));
            }
            _ => {}
        }
        if let Some(other) = Vendor::ALL
            .iter()
            .find(|vendor| vendor.options_key().eq_ignore_ascii_case(&name))
        {
            match kind.vendor() {
                Some(own) if own != *other => {
                    sink.error(
                        k.pos,
                        &key_path,
                        format!("{name} is for kind {}, but this profile is kind {kind}", other.kind()),
                    )
                    .hint(format!("rename it to {}", own.options_key()));
                }
                Some(_) if v.as_map().is_none() && !v.is_null() => {
                    sink.error(
                        v.pos,
                        &key_path,
                        format!("{name} must be a map of keys to values, found {}", v.kind()),
                    );
                }
                _ => {}
            }
        }
    }

    json_map(sink, entries, path)
}

/// Whether a capability name holds a secret (`accessKey`, `appium:password`, …).
fn is_secret_name(name: &str) -> bool {
    let base = name.rsplit(':').next().unwrap_or(name);
    ["accessKey", "access_key", "password", "browserstack.key"]
        .iter()
        .any(|s| base.eq_ignore_ascii_case(s))
}

/// A value that would be a secret written in the file: anything but nothing or `${NAME}`.
fn is_literal(node: &Node) -> bool {
    match &node.value {
        Value::Null => false,
        Value::Str(s) => !s.trim().is_empty() && env_reference(s).is_none(),
        _ => true,
    }
}

fn check_secrets(sink: &mut Sink, node: &Node, path: &str, kind: DeviceKind, top: bool, vendor_block: Option<Vendor>) {
    match &node.value {
        Value::Map(entries) => {
            for (k, v) in entries {
                let name = k.key_text();
                let key_path = join(path, &name);
                if let Some(vendor) = vendor_block
                    && name.eq_ignore_ascii_case("accessKey")
                {
                    let d = sink.error(
                        k.pos,
                        &key_path,
                        format!(
                            "secret in a file: {} must not hold the access key",
                            vendor.options_key()
                        ),
                    );
                    if kind.vendor() == Some(vendor) {
                        d.hint(format!(
                            "remove it: the run merges credentials.accessKey (${{{}}}) into {}",
                            vendor.access_key_env(),
                            vendor.options_key()
                        ));
                    } else {
                        d.hint(format!(
                            "use kind {} with credentials: accessKey: ${{{}}}",
                            vendor.kind(),
                            vendor.access_key_env()
                        ));
                    }
                    continue;
                }
                if is_secret_name(&name) && is_literal(v) {
                    let d = sink.error(
                        k.pos,
                        &key_path,
                        format!("secret in a file: '{name}' has a literal value"),
                    );
                    match kind.vendor() {
                        Some(vendor) => d.hint(format!(
                            "remove it and set credentials: accessKey: ${{{}}}",
                            vendor.access_key_env()
                        )),
                        None => d.hint(format!("read it from the environment: {name}: ${{NAME}}")),
                    };
                    continue;
                }
                let block = if top {
                    Vendor::ALL
                        .into_iter()
                        .find(|vendor| vendor.options_key().eq_ignore_ascii_case(&name))
                } else {
                    None
                };
                check_secrets(sink, v, &key_path, kind, false, block);
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                check_secrets(sink, item, &index(path, i), kind, false, None);
            }
        }
        _ => {}
    }
}

/// Converts a YAML value to JSON, keeping its type.
fn to_json(sink: &mut Sink, node: &Node, path: &str) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    Some(match &node.value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(f) => match serde_json::Number::from_f64(*f) {
            Some(n) => J::Number(n),
            None => {
                sink.error(node.pos, path, format!("{f} cannot be sent as a capability value"));
                return None;
            }
        },
        Value::Str(s) => J::String(s.clone()),
        Value::Seq(items) => {
            let mut out = Vec::with_capacity(items.len());
            let mut ok = true;
            for (i, item) in items.iter().enumerate() {
                match to_json(sink, item, &index(path, i)) {
                    Some(v) => out.push(v),
                    None => ok = false,
                }
            }
            if !ok {
                return None;
            }
            J::Array(out)
        }
        Value::Map(entries) => J::Object(json_map(sink, entries, path)?),
    })
}

fn json_map(sink: &mut Sink, entries: &[(Node, Node)], path: &str) -> Option<Capabilities> {
    let mut out = Capabilities::new();
    let mut ok = true;
    for (k, v) in entries {
        let Some(name) = k.scalar_text() else {
            sink.error(
                k.pos,
                path,
                format!("capability names must be strings, found {}", k.kind()),
            );
            ok = false;
            continue;
        };
        let key_path = join(path, &name);
        if out.contains_key(&name) {
            sink.error(k.pos, &key_path, format!("duplicate capability '{name}'"));
            ok = false;
            continue;
        }
        match to_json(sink, v, &key_path) {
            Some(value) => {
                out.insert(name, value);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Severity;

    fn parse(text: &str) -> (Option<DeviceProfile>, Vec<Diagnostic>) {
        parse_device_profile(text, Path::new("devices/test.yaml"))
    }

    fn ok(text: &str) -> DeviceProfile {
        let (profile, diags) = parse(text);
        assert!(diags.is_empty(), "unexpected diagnostics: {diags:#?}");
        profile.expect("a profile without diagnostics")
    }

    /// Asserts that parsing fails with an error at `line:column` whose message contains
    /// `message`; returns that diagnostic.
    #[track_caller]
    fn err(text: &str, line: u32, column: u32, message: &str) -> Diagnostic {
        let (profile, diags) = parse(text);
        assert!(profile.is_none(), "a profile came back despite errors: {diags:#?}");
        let found = diags
            .iter()
            .find(|d| d.is_error() && d.line == line && d.column == column && d.message.contains(message));
        match found {
            Some(d) => {
                assert!(
                    d.message.chars().next().is_some_and(|c| !c.is_uppercase()),
                    "message must be lowercase: {d:?}"
                );
                d.clone()
            }
            None => panic!("no error at {line}:{column} containing {message:?} in {diags:#?}"),
        }
    }

    const HEAD_IOS: &str = "name: t\nplatform: iOS\n";

    // ---- invalid profiles -------------------------------------------------------------

    #[test]
    fn missing_name() {
        let d = err("platform: iOS\nkind: virtual\n", 1, 1, "missing required key 'name'");
        assert_eq!(d.key, "name");
        assert_eq!(d.hint.as_deref(), Some("name the profile after its file: name: test"));
    }

    #[test]
    fn missing_everything_is_reported_at_once() {
        let (profile, diags) = parse("# a comment\ntags: [x]\n");
        assert!(profile.is_none());
        let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(diags.len(), 3, "{messages:?}");
        for key in ["name", "platform", "kind"] {
            assert!(
                diags
                    .iter()
                    .any(|d| d.line == 2 && d.column == 1 && d.message == format!("missing required key '{key}'")),
                "{messages:?}"
            );
        }
    }

    #[test]
    fn unknown_kind_suggests_the_closest() {
        let d = err(
            "name: t\nplatform: iOS\nkind: virtul\n",
            3,
            7,
            "'virtul' is not one of virtual, ios-simulator",
        );
        assert_eq!(d.key, "kind");
        assert_eq!(d.hint.as_deref(), Some("did you mean 'virtual'?"));
    }

    #[test]
    fn unknown_kind_still_reports_keys_no_kind_has() {
        let (_, diags) = parse("name: t\nplatform: iOS\nkind: phone\nudid: x\ncolour: red\n");
        assert_eq!(diags.len(), 2, "{diags:#?}");
        assert_eq!((diags[1].line, diags[1].column), (5, 1));
        assert!(diags[1].message.contains("unknown key 'colour'"));
    }

    #[test]
    fn invalid_platform() {
        let d = err(
            "name: t\nplatform: windows\nkind: virtual\n",
            2,
            11,
            "'windows' is not one of iOS, Android",
        );
        assert_eq!(d.key, "platform");
    }

    #[test]
    fn invalid_name() {
        let d = err(
            "name: Virtual iOS\nplatform: iOS\nkind: virtual\n",
            1,
            7,
            "may only contain lowercase letters",
        );
        assert_eq!(d.hint.as_deref(), Some("for example name: virtual-ios"));
    }

    #[test]
    fn wrong_type_of_name() {
        err(
            "name: [a, b]\nplatform: iOS\nkind: virtual\n",
            1,
            7,
            "expected a string, found a list",
        );
    }

    #[test]
    fn wrong_type_of_boolean_knob() {
        let d = err(
            "\
name: t
platform: iOS
kind: virtual
virtual:
  tokenCache: maybe
",
            5,
            15,
            "expected true or false, found 'maybe'",
        );
        assert_eq!(d.key, "virtual.tokenCache");
    }

    #[test]
    fn virtual_block_must_be_a_map() {
        err(
            "name: t\nplatform: iOS\nkind: virtual\nvirtual: [a]\n",
            4,
            10,
            "virtual knobs must be a map",
        );
    }

    #[test]
    fn literal_access_key_in_credentials() {
        let text = "\
name: bs
platform: Android
kind: browserstack
capabilities:
  deviceName: Pixel 8
credentials:
  username: ${BROWSERSTACK_USERNAME}
  accessKey: s3cr3tKey
";
        let d = err(
            text,
            8,
            14,
            "credentials must come from the environment: write ${BROWSERSTACK_ACCESS_KEY}",
        );
        assert_eq!(d.key, "credentials.accessKey");
        let (_, diags) = parse(text);
        assert!(
            diags
                .iter()
                .all(|d| !d.message.contains("s3cr3tKey") && !d.hint.clone().unwrap_or_default().contains("s3cr3tKey"))
        );
    }

    #[test]
    fn malformed_env_reference_in_credentials() {
        let text = "\
name: sl
platform: iOS
kind: saucelabs
capabilities: {}
credentials:
  username: $SAUCE_USERNAME
  accessKey: ${SAUCE_ACCESS_KEY}
";
        let d = err(text, 6, 13, "write ${SAUCE_USERNAME}");
        assert!(d.hint.unwrap().contains("${NAME}"));
    }

    #[test]
    fn missing_access_key_in_credentials() {
        let text = "\
name: lt
platform: iOS
kind: lambdatest
capabilities: {}
credentials:
  username: ${LT_USERNAME}
";
        let d = err(text, 6, 3, "credentials need accessKey");
        assert_eq!(d.hint.as_deref(), Some("accessKey: ${LT_ACCESS_KEY}"));
    }

    #[test]
    fn access_key_in_vendor_options() {
        let text = "\
name: bs
platform: Android
kind: browserstack
capabilities:
  bstack:options:
    buildName: nightly
    accessKey: ${BROWSERSTACK_ACCESS_KEY}
credentials:
  username: ${BROWSERSTACK_USERNAME}
  accessKey: ${BROWSERSTACK_ACCESS_KEY}
";
        let d = err(
            text,
            7,
            5,
            "secret in a file: bstack:options must not hold the access key",
        );
        assert_eq!(d.key, "capabilities.bstack:options.accessKey");
    }

    #[test]
    fn literal_password_in_appium_capabilities() {
        let text = "\
name: a
platform: Android
kind: appium
url: http://127.0.0.1:4723
capabilities:
  appium:options:
    password: hunter2
";
        let d = err(text, 7, 5, "secret in a file: 'password' has a literal value");
        assert_eq!(d.key, "capabilities.appium:options.password");
        // An environment reference is fine.
        ok("\
name: a
platform: Android
kind: appium
url: http://127.0.0.1:4723
capabilities:
  appium:options:
    password: ${DEVICE_PASSWORD}
");
    }

    #[test]
    fn url_with_credentials() {
        let text = "\
name: a
platform: iOS
kind: appium
url: https://me:s3cret@hub.example.com/wd/hub
";
        let d = err(
            text,
            4,
            6,
            "credentials in the URL would leak into logs; use credentials from the environment",
        );
        assert!(!d.message.contains("s3cret"));
        err(
            "\
name: a
platform: iOS
kind: grid
url: me:s3cret@hub.example.com:4444
",
            4,
            6,
            "credentials in the URL",
        );
    }

    #[test]
    fn url_without_scheme() {
        err(
            "name: a\nplatform: iOS\nkind: grid\nurl: 127.0.0.1:4444\n",
            4,
            6,
            "url must start with http:// or https://",
        );
        err(
            "name: a\nplatform: iOS\nkind: grid\nurl: http://\n",
            4,
            6,
            "url has no host",
        );
    }

    #[test]
    fn missing_url() {
        let d = err("name: a\nplatform: iOS\nkind: appium\n", 3, 7, "kind appium needs url");
        assert_eq!(d.key, "url");
    }

    #[test]
    fn restore_rate_out_of_range() {
        let d = err(
            "\
name: t
platform: iOS
kind: virtual
virtual:
  restoreRate: 1.5
",
            5,
            16,
            "1.5 is out of range: expected a number from 0 to 1",
        );
        assert_eq!(d.key, "virtual.restoreRate");
    }

    #[test]
    fn bad_versions() {
        err(
            "\
name: t
platform: iOS
kind: virtual
virtual:
  clerkExpo: 3.2
",
            5,
            14,
            "'3.2' is not a version: expected major.minor.patch",
        );
        err(
            "\
name: t
platform: iOS
kind: virtual
virtual:
  convex: \"1.34.x\"
",
            5,
            11,
            "'1.34.x' is not a version",
        );
    }

    #[test]
    fn command_timeout_and_parallel() {
        let p = ok(
            "name: g\nplatform: Android\nkind: grid\nurl: http://127.0.0.1:4444\ncommandTimeout: 30s\nparallel: 4\n",
        );
        assert_eq!((p.command_timeout, p.sessions), (Duration::from_secs(30), 4));
        let p = ok("name: v\nplatform: iOS\nkind: virtual\n");
        assert_eq!((p.command_timeout, p.sessions), (DEFAULT_COMMAND_TIMEOUT, 1));
        err(
            "name: g\nplatform: Android\nkind: appium\nurl: http://h\ncommandTimeout: 30\n",
            5,
            17,
            "duration 30 has no unit",
        );
        err(
            "name: g\nplatform: Android\nkind: appium\nurl: http://h\ncommandTimeout: 0s\n",
            5,
            17,
            "commandTimeout must be more than 0",
        );
        err(
            "name: g\nplatform: Android\nkind: appium\nurl: http://h\nparallel: 0\n",
            5,
            11,
            "0 is out of range: expected a whole number from 1 to 64",
        );
    }

    #[test]
    fn durations_need_units() {
        err(
            "\
name: t
platform: iOS
kind: virtual
virtual:
  sessionLifetime: 3600
",
            5,
            20,
            "duration 3600 has no unit",
        );
        err(
            "\
name: t
platform: iOS
kind: virtual
virtual:
  inactivityTimeout: 8d
",
            5,
            22,
            "invalid duration '8d'",
        );
    }

    #[test]
    fn negative_seed() {
        err(
            "\
name: t
platform: iOS
kind: virtual
virtual:
  seed: -1
",
            5,
            9,
            "-1 is out of range",
        );
    }

    #[test]
    fn platform_name_mismatch() {
        let text = "\
name: a
platform: iOS
kind: appium
url: http://127.0.0.1:4723
capabilities:
  platformName: Android
";
        let d = err(text, 6, 17, "platformName 'Android' disagrees with platform iOS");
        assert_eq!(d.key, "capabilities.platformName");
    }

    #[test]
    fn unknown_key_in_virtual_knobs() {
        let d = err(
            "\
name: t
platform: iOS
kind: virtual
virtual:
  restorRate: 0.5
",
            5,
            3,
            "unknown key 'restorRate' in virtual knobs",
        );
        assert_eq!(d.key, "virtual.restorRate");
        assert_eq!(d.hint.as_deref(), Some("did you mean 'restoreRate'?"));
    }

    #[test]
    fn misspelled_top_level_key() {
        let d = err(
            "name: t\nplatform: iOS\nkind: virtual\nvirtul:\n  seed: 1\n",
            4,
            1,
            "unknown key 'virtul'",
        );
        assert_eq!(d.hint.as_deref(), Some("did you mean 'virtual'?"));
    }

    #[test]
    fn key_of_another_kind() {
        let d = err(
            "\
name: e
platform: Android
kind: android-emulator
serial: emulator-5554
udid: ABC
",
            5,
            1,
            "unknown key 'udid' in a device profile of kind android-emulator",
        );
        assert!(d.hint.unwrap().contains("serial, avd"));
    }

    #[test]
    fn two_documents() {
        let d = err(
            "name: t\nplatform: iOS\nkind: virtual\n---\nname: u\n",
            5,
            1,
            "a device profile must be one YAML document, found 2",
        );
        assert!(d.hint.unwrap().contains("---"));
    }

    #[test]
    fn syntax_error() {
        err("name: t\nplatform: [iOS\n", 2, 11, "unclosed bracket");
    }

    #[test]
    fn env_reference_in_flow_map_gets_a_hint() {
        let d = err(
            "\
name: bs
platform: iOS
kind: browserstack
capabilities: {}
credentials: {username: ${BROWSERSTACK_USERNAME}}
",
            5,
            26,
            "flow mapping",
        );
        assert!(d.hint.unwrap().contains("quote"));
    }

    #[test]
    fn duplicate_key() {
        err("name: t\nplatform: iOS\nname: u\n", 3, 1, "duplicate");
    }

    #[test]
    fn host_backend_on_appium_kind() {
        let d = err(
            "\
name: a
platform: iOS
kind: appium
backend: host
url: http://127.0.0.1:4723
",
            4,
            10,
            "backend host needs a local simulator or emulator, but kind is appium",
        );
        assert_eq!(d.key, "backend");
        err(
            "\
name: v
platform: iOS
kind: virtual
backend: appium+host
",
            4,
            10,
            "backend appium+host needs a local simulator",
        );
    }

    #[test]
    fn simulator_needs_a_device() {
        let d = err(
            "\
name: s
platform: iOS
kind: ios-simulator
osVersion: \"18.2\"
",
            3,
            7,
            "kind ios-simulator needs udid or deviceName",
        );
        assert_eq!(d.key, "deviceName");
        err(
            "\
name: s
platform: iOS
kind: ios-simulator
udid: ABC
deviceName: iPhone 16
",
            5,
            13,
            "give udid or deviceName, not both",
        );
    }

    #[test]
    fn emulator_needs_android() {
        err(
            "\
name: e
platform: iOS
kind: android-emulator
avd: Pixel_8
",
            2,
            11,
            "kind android-emulator runs Android, but platform is iOS",
        );
        err(
            "name: e\nplatform: Android\nkind: android-emulator\n",
            3,
            7,
            "needs serial or avd",
        );
    }

    #[test]
    fn cloud_needs_capabilities_and_credentials() {
        let (profile, diags) = parse("name: sl\nplatform: iOS\nkind: saucelabs\n");
        assert!(profile.is_none());
        assert_eq!(diags.len(), 2, "{diags:#?}");
        assert!(diags.iter().all(|d| (d.line, d.column) == (3, 7)));
        assert!(diags.iter().any(|d| d.message == "kind saucelabs needs capabilities"));
        assert!(diags.iter().any(|d| d.message == "kind saucelabs needs credentials"));
    }

    #[test]
    fn options_block_of_another_vendor() {
        let text = "\
name: lt
platform: Android
kind: lambdatest
capabilities:
  sauce:options:
    build: x
credentials:
  username: ${LT_USERNAME}
  accessKey: ${LT_ACCESS_KEY}
";
        let d = err(
            text,
            5,
            3,
            "sauce:options is for kind saucelabs, but this profile is kind lambdatest",
        );
        assert_eq!(d.hint.as_deref(), Some("rename it to lt:options"));
    }

    #[test]
    fn root_must_be_a_map() {
        err(
            "- name: t\n",
            1,
            1,
            "a device profile must be a map of keys to values, found a list",
        );
    }

    #[test]
    fn empty_file() {
        err("# nothing here\n", 1, 1, "the file is empty");
    }

    #[test]
    fn capability_names_must_be_scalars() {
        let text = "\
name: a
platform: iOS
kind: appium
url: http://h:1
capabilities:
  1: a
  '1': b
";
        err(text, 7, 3, "duplicate capability '1'");
    }

    #[test]
    fn numeric_versions_warn() {
        let (profile, diags) = parse(
            "\
name: s
platform: iOS
kind: ios-simulator
deviceName: iPhone 16
osVersion: 18.10
",
        );
        assert!(profile.is_some());
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].severity, Severity::Warning);
        assert_eq!((diags[0].line, diags[0].column), (5, 12));
        assert!(diags[0].message.contains("read as the number 18.1"));
    }

    #[test]
    fn unreadable_file_is_one_diagnostic_at_line_zero() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.yaml");
        let (profile, diags) = load_device_profile(&path);
        assert!(profile.is_none());
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].line, 0);
        assert!(
            diags[0].message.starts_with("cannot read device profile: "),
            "{diags:?}"
        );
        assert_eq!(diags[0].file, path);
    }

    // ---- valid profiles ---------------------------------------------------------------

    #[test]
    fn virtual_defaults() {
        let p = ok("name: virtual-ios\nplatform: ios\nkind: virtual\n");
        assert_eq!(p.name, "virtual-ios");
        assert_eq!(p.platform, Platform::Ios);
        assert_eq!(p.backend, Backend::Appium);
        assert!(p.tags.is_empty());
        assert_eq!(p.kind(), DeviceKind::Virtual);
        assert_eq!(p.vendor_options_key(), None);
        let Target::Virtual(knobs) = &p.target else {
            panic!("{p:?}")
        };
        assert_eq!(knobs, &VirtualKnobs::default());
        assert_eq!(knobs.clerk_expo, "3.2.7");
        assert_eq!(knobs.convex, "1.34.1");
        assert!(!knobs.key_convex_by_session && knobs.token_cache && !knobs.resource_cache);
        assert_eq!(knobs.restore_rate, 0.30);
        assert_eq!(knobs.network, Network::Online);
        assert_eq!(knobs.session_lifetime_secs, 86_400.0);
        assert_eq!(knobs.inactivity_timeout_secs, None);
        assert_eq!(knobs.latency_scale, 1.0);
        assert_eq!(knobs.seed, None);
        // An empty block means the defaults too.
        assert_eq!(
            ok("name: v\nplatform: Android\nkind: virtual\nvirtual:\n").target,
            p.target
        );
    }

    #[test]
    fn virtual_knobs_all_set() {
        let p = ok(&format!(
            "\
{HEAD_IOS}kind: virtual
tags: pr
virtual:
  clerkExpo: 3.2.9
  convex: \"1.42.2\"
  keyConvexBySession: true
  tokenCache: false
  resourceCache: \"true\"
  restoreRate: 1
  network: offline
  sessionLifetime: 1h30m
  inactivityTimeout: 10m
  latencyScale: 0
  seed: 42
"
        ));
        assert_eq!(p.tags, vec!["pr".to_string()]);
        let Target::Virtual(k) = p.target else { panic!() };
        assert_eq!(
            k,
            VirtualKnobs {
                clerk_expo: "3.2.9".into(),
                convex: "1.42.2".into(),
                key_convex_by_session: true,
                token_cache: false,
                resource_cache: true,
                restore_rate: 1.0,
                network: Network::Offline,
                session_lifetime_secs: 5400.0,
                inactivity_timeout_secs: Some(600.0),
                latency_scale: 0.0,
                seed: Some(42),
                ..VirtualKnobs::default()
            }
        );
    }

    #[test]
    fn local_devices() {
        let p = ok("\
name: s
platform: iOS
kind: ios-simulator
backend: host
deviceName: iPhone 16
osVersion: \"18.2\"
");
        assert_eq!(p.backend, Backend::Host);
        assert_eq!(
            p.target,
            Target::IosSimulator(IosSimulator {
                device: SimulatorRef::DeviceName("iPhone 16".into()),
                os_version: Some("18.2".into()),
                appium: AppiumServer {
                    url: LOCAL_APPIUM_URL.into(),
                    capabilities: Capabilities::new(),
                },
            })
        );
        let p = ok("\
name: e
platform: Android
kind: Android-Emulator
backend: appium+host
avd: Pixel_8_API_35
url: http://127.0.0.1:4724
capabilities:
  appium:systemPort: 8201
");
        assert_eq!(p.backend, Backend::AppiumAndHost);
        assert_eq!(
            p.target,
            Target::AndroidEmulator(AndroidEmulator {
                device: EmulatorRef::Avd("Pixel_8_API_35".into()),
                appium: AppiumServer {
                    url: "http://127.0.0.1:4724".into(),
                    capabilities: serde_json::json!({"appium:systemPort": 8201})
                        .as_object()
                        .cloned()
                        .unwrap(),
                },
            })
        );
    }

    #[test]
    fn appium_capabilities_keep_their_types() {
        let p = ok("\
name: a
platform: Android
kind: appium
url: http://127.0.0.1:4723
capabilities:
  platformName: android
  appium:newCommandTimeout: 300
  appium:noReset: false
  appium:ratio: 0.5
  appium:otherApps: [a.apk, b.apk]
  appium:settings: {waitForIdleTimeout: 0}
  appium:nothing: ~
");
        assert_eq!(p.url(), Some("http://127.0.0.1:4723"));
        let caps = serde_json::Value::Object(p.capabilities().unwrap().clone());
        assert_eq!(
            caps,
            serde_json::json!({
                "platformName": "android",
                "appium:newCommandTimeout": 300,
                "appium:noReset": false,
                "appium:ratio": 0.5,
                "appium:otherApps": ["a.apk", "b.apk"],
                "appium:settings": {"waitForIdleTimeout": 0},
                "appium:nothing": null,
            })
        );
        let grid = ok("\
name: g
platform: iOS
kind: grid
url: HTTPS://grid.example.com/wd/hub
");
        assert_eq!(grid.kind(), DeviceKind::Grid);
        assert!(grid.capabilities().unwrap().is_empty());
    }

    #[test]
    fn cloud_defaults_per_vendor() {
        for vendor in Vendor::ALL {
            let text = format!(
                "\
name: c
platform: iOS
kind: {}
capabilities:
  {}:
    buildName: b
credentials:
  username: ${{MY_USER}}
  accessKey: ${{MY_KEY}}
",
                vendor.kind(),
                vendor.options_key()
            );
            let p = ok(&text);
            assert_eq!(p.kind(), vendor.kind());
            assert_eq!(p.url(), Some(vendor.default_url()));
            assert_eq!(p.vendor_options_key(), Some(vendor.options_key()));
            let Target::Cloud(cloud) = &p.target else { panic!() };
            assert_eq!(
                cloud.credentials,
                CloudCredentials {
                    username_env: "MY_USER".into(),
                    access_key_env: "MY_KEY".into()
                }
            );
        }
        let p = ok("\
name: c
platform: iOS
kind: saucelabs
url: https://ondemand.eu-central-1.saucelabs.com:443/wd/hub
capabilities: {}
credentials:
  username: ${SAUCE_USERNAME}
  accessKey: \"${SAUCE_ACCESS_KEY}\"
");
        assert_eq!(p.url(), Some("https://ondemand.eu-central-1.saucelabs.com:443/wd/hub"));
    }

    #[test]
    fn never_panics_on_mangled_profiles() {
        let base = "\
name: bs
platform: Android
kind: browserstack
capabilities:
  platformName: Android
  bstack:options:
    accessKey: x
credentials:
  username: ${BROWSERSTACK_USERNAME}
  accessKey: ${BROWSERSTACK_ACCESS_KEY}
virtual: {seed: 1}
";
        let chars: Vec<char> = base.chars().collect();
        for cut in 0..chars.len() {
            let text: String = chars[..cut].iter().collect();
            let _ = parse(&text);
            let mut swapped = chars.clone();
            swapped[cut] = match swapped[cut] {
                ':' => ' ',
                ' ' => ':',
                '\n' => '{',
                _ => '[',
            };
            let _ = parse(&swapped.iter().collect::<String>());
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_any_text(text in "\\PC*") {
            let _ = parse(&text);
        }

        #[test]
        fn never_panics_on_yaml_like_text(text in "([a-zA-Z:{}\\[\\]$\\-@/ ,'\"]{0,12}\n){0,8}") {
            let _ = parse(&format!("name: t\nplatform: iOS\nkind: appium\n{text}"));
        }
    }

    // ---- shipped profiles -------------------------------------------------------------

    #[test]
    fn shipped_profiles_load_without_diagnostics() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../devices");
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .expect("devices/ exists")
            .map(|e| e.expect("readable entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect();
        paths.sort();
        assert!(paths.len() >= 11, "{paths:?}");
        for path in &paths {
            let (profile, diags) = load_device_profile(path);
            assert!(diags.is_empty(), "{}: {diags:#?}", path.display());
            let profile = profile.expect("a profile");
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            assert_eq!(profile.name, stem, "name matches the file name");
            let text = std::fs::read_to_string(path).unwrap();
            let mut lines = text.lines();
            assert!(lines.next().is_some_and(|l| l.starts_with("# ")), "{}", path.display());
            assert!(
                text.contains("# yaml-language-server: $schema=../harness/schema/device.json"),
                "{}",
                path.display()
            );
        }
        let load = |name: &str| load_device_profile(&dir.join(name)).0.expect(name);
        let Target::Virtual(fixed) = load("virtual-ios-fixed.yaml").target else {
            panic!()
        };
        assert_eq!((fixed.clerk_expo.as_str(), fixed.convex.as_str()), ("3.2.9", "1.42.2"));
        let Target::Virtual(keyed) = load("virtual-ios-key-by-session.yaml").target else {
            panic!()
        };
        assert!(keyed.key_convex_by_session);
        assert_eq!(
            load("virtual-android.yaml").target,
            Target::Virtual(VirtualKnobs::default())
        );
        assert_eq!(load("browserstack.yaml").vendor_options_key(), Some("bstack:options"));
        assert_eq!(load("saucelabs.yaml").vendor_options_key(), Some("sauce:options"));
        assert_eq!(load("lambdatest.yaml").vendor_options_key(), Some("lt:options"));
    }
}
