//! Opening a device session for a device profile: the capabilities each kind of target
//! needs ([`session_spec`]: the virtual farm's knobs, simulators, emulators, Appium, a Grid,
//! cloud vendors with their credentials) and the backend that drives it ([`open_device`]:
//! Appium, the host tools, or both).
//!
//! Nothing here runs flows or reports: the runner asks for a session and gets a device or a
//! [`SessionError`] that says why not.

use serde_json::{Map, json};

use crate::driver::android_host::AndroidHost;
use crate::driver::appium::{AppiumDevice, SessionSpec};
use crate::driver::hybrid::Hybrid;
use crate::driver::ios_host::{IosHost, StorageNames};
use crate::driver::transport::{SessionIdSlot, TransportOptions, with_options};
use crate::driver::vendor::VendorSession;
use crate::driver::{Device, DriverError};
use crate::platform::Platform;
use crate::profile::app::AppProfile;
use crate::profile::device::{Backend, DeviceProfile, EmulatorRef, SimulatorRef, Target};
use crate::profile::knobs::VirtualKnobs;

/// Virtual devices run this many times faster than real time (waits stay real-time).
pub const VIRTUAL_TIME_SCALE: f64 = 20.0;

/// Why a session could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// A cloud profile's credentials are read from the environment, and this variable is
    /// not set.
    #[error("set {var} in the environment (the device profile's credentials)")]
    MissingCredentials { var: String },
    /// A virtual device was asked for, but no virtual farm was started for the run.
    #[error("the virtual farm is not running")]
    FarmNotRunning,
    /// The virtual device's knobs could not be sent to the farm.
    #[error("virtual knobs")]
    Knobs(#[source] serde_json::Error),
    /// A host backend on a device the host tools cannot drive (the profile loader refuses
    /// these, so only hand-built profiles get here).
    #[error("backend {backend} needs a local simulator or emulator")]
    NeedsLocalDevice { backend: Backend },
    /// The backend failed to start the session (the server is unreachable, refused the
    /// session, a host tool failed…).
    #[error(transparent)]
    Driver(#[from] DriverError),
}

/// The Appium session to open for a device profile and app id. `seed` seeds a virtual
/// device unless its profile fixes one; `farm_url` is the in-process virtual farm's. Cloud
/// credentials come from the process environment.
pub fn session_spec(
    profile: &DeviceProfile,
    app_id: &str,
    seed: u64,
    farm_url: Option<&str>,
) -> Result<SessionSpec, SessionError> {
    session_spec_with_env(profile, app_id, seed, farm_url, |var| std::env::var(var).ok())
}

/// [`session_spec`] with the environment variables looked up by `env`.
pub fn session_spec_with_env(
    profile: &DeviceProfile,
    app_id: &str,
    seed: u64,
    farm_url: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<SessionSpec, SessionError> {
    let platform = profile.platform;
    let mut caps = Map::new();
    caps.insert("platformName".into(), json!(platform.name()));
    let (automation, app_key) = match platform {
        Platform::Ios => ("XCUITest", "appium:bundleId"),
        Platform::Android => ("UiAutomator2", "appium:appPackage"),
    };
    caps.insert("appium:automationName".into(), json!(automation));
    caps.insert(app_key.into(), json!(app_id));
    let (url, is_virtual) = match &profile.target {
        Target::Virtual(k) => {
            let knobs = VirtualKnobs {
                time_scale: VIRTUAL_TIME_SCALE,
                seed: Some(k.seed.unwrap_or(seed)),
                ..k.clone()
            };
            let opts = serde_json::to_value(&knobs).map_err(SessionError::Knobs)?;
            caps.insert("harness:options".into(), opts);
            (farm_url.ok_or(SessionError::FarmNotRunning)?.to_string(), true)
        }
        Target::IosSimulator(sim) => {
            match &sim.device {
                SimulatorRef::Udid(u) => caps.insert("appium:udid".into(), json!(u)),
                SimulatorRef::DeviceName(n) => caps.insert("appium:deviceName".into(), json!(n)),
            };
            if let Some(v) = &sim.os_version {
                caps.insert("appium:platformVersion".into(), json!(v));
            }
            caps.insert("appium:noReset".into(), json!(true));
            for (k, v) in &sim.appium.capabilities {
                caps.insert(k.clone(), v.clone());
            }
            (sim.appium.url.clone(), false)
        }
        Target::AndroidEmulator(e) => {
            match &e.device {
                EmulatorRef::Serial(s) => caps.insert("appium:udid".into(), json!(s)),
                EmulatorRef::Avd(a) => caps.insert("appium:avd".into(), json!(a)),
            };
            caps.insert("appium:noReset".into(), json!(true));
            for (k, v) in &e.appium.capabilities {
                caps.insert(k.clone(), v.clone());
            }
            (e.appium.url.clone(), false)
        }
        Target::Appium(s) | Target::Grid(s) => {
            for (k, v) in &s.capabilities {
                caps.insert(k.clone(), v.clone());
            }
            (s.url.clone(), false)
        }
        Target::Cloud(c) => {
            for (k, v) in &c.capabilities {
                caps.insert(k.clone(), v.clone());
            }
            let credential =
                |var: &str| env(var).ok_or_else(|| SessionError::MissingCredentials { var: var.to_string() });
            let user = credential(&c.credentials.username_env)?;
            let key = credential(&c.credentials.access_key_env)?;
            let block = c.vendor.options_key();
            let opts = caps.entry(block.to_string()).or_insert_with(|| json!({}));
            if let Some(o) = opts.as_object_mut() {
                let (uk, kk) = match block {
                    "sauce:options" => ("username", "accessKey"),
                    "lt:options" => ("username", "accessKey"),
                    _ => ("userName", "accessKey"),
                };
                o.insert(uk.into(), json!(user));
                o.insert(kk.into(), json!(key));
            }
            (c.url.clone(), false)
        }
    };
    Ok(SessionSpec {
        url,
        platform,
        app_id: app_id.to_string(),
        capabilities: caps,
        is_virtual,
    })
}

/// An open device session and what the run needs to know about it besides the device.
pub struct OpenedSession {
    pub device: Box<dyn Device>,
    /// The WebDriver session id, when the session is an Appium one.
    pub session_id: Option<String>,
    /// On a cloud farm: the session's dashboard link and status reporting.
    pub vendor: Option<VendorSession>,
    /// The first case of the session that did not pass (a lane's session runs several): the
    /// vendor's status stays `failed` with its reason once one did.
    pub first_failure: Option<String>,
}

/// Opens a device session with the profile's backend: Appium, the host tools (`adb`,
/// `xcrun simctl`), or both (`appium+host`: the host session is ended again when Appium's
/// does not open). `app` names the iOS keychain items the host backend reads.
pub async fn open_device(
    profile: &DeviceProfile,
    app_id: &str,
    seed: u64,
    app: Option<&AppProfile>,
    farm_url: Option<&str>,
) -> Result<Box<dyn Device>, SessionError> {
    open_session(profile, app_id, seed, app, farm_url)
        .await
        .map(|s| s.device)
}

/// [`open_device`], with the session's id. Every WebDriver command of the session times out
/// after the profile's `commandTimeout`.
pub async fn open_session(
    profile: &DeviceProfile,
    app_id: &str,
    seed: u64,
    app: Option<&AppProfile>,
    farm_url: Option<&str>,
) -> Result<OpenedSession, SessionError> {
    let id_slot: SessionIdSlot = Default::default();
    let appium = || async {
        let spec = session_spec(profile, app_id, seed, farm_url)?;
        let options = TransportOptions {
            command_timeout: Some(profile.command_timeout),
            session_id: Some(id_slot.clone()),
        };
        let device = with_options(options, AppiumDevice::connect(&spec)).await?;
        Ok::<_, SessionError>(Box::new(device) as Box<dyn Device>)
    };
    let opened = |device: Box<dyn Device>| {
        let session_id = id_slot.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let vendor = match (&profile.target, &session_id) {
            (Target::Cloud(c), Some(id)) => {
                let env = |var: &str| std::env::var(var).ok();
                let credentials = env(&c.credentials.username_env).zip(env(&c.credentials.access_key_env));
                Some(VendorSession::new(c.vendor, &c.url, id, credentials))
            }
            _ => None,
        };
        OpenedSession {
            device,
            session_id,
            vendor,
            first_failure: None,
        }
    };
    if profile.backend == Backend::Appium {
        return appium().await.map(opened);
    }
    let host: Box<dyn Device> = match &profile.target {
        Target::AndroidEmulator(e) => Box::new(AndroidHost::open(&e.device, app_id).await?),
        Target::IosSimulator(sim) => {
            let names = match app {
                Some(a) => StorageNames::new(&a.secure_store.session_keys, Some(&a.secure_store.ios_service)),
                None => StorageNames::new(&[], None),
            };
            Box::new(IosHost::open(&sim.device, sim.os_version.as_deref(), app_id, names).await?)
        }
        _ => {
            return Err(SessionError::NeedsLocalDevice {
                backend: profile.backend,
            });
        }
    };
    if profile.backend == Backend::Host {
        return Ok(opened(host));
    }
    match appium().await {
        Ok(ui) => Ok(opened(Box::new(Hybrid { ui, host }))),
        Err(e) => {
            let _ = host.quit().await;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::Value;

    use super::*;
    use crate::profile::device::parse_device_profile;

    fn profile(yaml: &str) -> DeviceProfile {
        let (p, diags) = parse_device_profile(yaml, Path::new("devices/test.yaml"));
        assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
        p.expect("a valid profile")
    }

    fn caps(spec: &SessionSpec) -> &Map<String, Value> {
        &spec.capabilities
    }

    #[test]
    fn virtual_devices_send_their_knobs_to_the_farm() {
        let p = profile("name: v\nplatform: iOS\nkind: virtual\nvirtual:\n  restoreRate: 0.5\n");
        let spec = session_spec(&p, "com.example.app", 77, Some("http://127.0.0.1:1234")).unwrap();
        assert_eq!(spec.url, "http://127.0.0.1:1234");
        assert!(spec.is_virtual);
        assert_eq!(spec.platform, Platform::Ios);
        assert_eq!(spec.app_id, "com.example.app");
        let c = caps(&spec);
        assert_eq!(c["platformName"], "iOS");
        assert_eq!(c["appium:automationName"], "XCUITest");
        assert_eq!(c["appium:bundleId"], "com.example.app");
        let opts = &c["harness:options"];
        assert_eq!(opts["seed"], 77, "{opts}");
        assert_eq!(opts["timeScale"], VIRTUAL_TIME_SCALE, "{opts}");
        assert_eq!(opts["restoreRate"], 0.5, "{opts}");

        // A seed fixed by the profile wins over the case's.
        let p = profile("name: v\nplatform: Android\nkind: virtual\nvirtual:\n  seed: 5\n");
        let spec = session_spec(&p, "com.example.app", 77, Some("http://farm")).unwrap();
        assert_eq!(caps(&spec)["harness:options"]["seed"], 5);
        assert_eq!(caps(&spec)["appium:automationName"], "UiAutomator2");
        assert_eq!(caps(&spec)["appium:appPackage"], "com.example.app");

        // Without a farm there is nothing to connect to.
        let err = session_spec(&p, "a", 1, None).unwrap_err();
        assert!(matches!(err, SessionError::FarmNotRunning), "{err:?}");
        assert_eq!(err.to_string(), "the virtual farm is not running");
    }

    #[test]
    fn simulators_and_emulators_name_the_device_and_keep_app_data() {
        let p = profile("name: s\nplatform: iOS\nkind: ios-simulator\ndeviceName: iPhone 16\nosVersion: \"18.2\"\n");
        let spec = session_spec(&p, "com.example.app", 1, None).unwrap();
        assert_eq!(spec.url, crate::profile::device::LOCAL_APPIUM_URL);
        assert!(!spec.is_virtual);
        let c = caps(&spec);
        assert_eq!(c["appium:deviceName"], "iPhone 16");
        assert_eq!(c["appium:platformVersion"], "18.2");
        assert_eq!(c["appium:noReset"], true);
        assert!(!c.contains_key("harness:options"));

        let p = profile("name: e\nplatform: Android\nkind: android-emulator\nserial: emulator-5554\n");
        let spec = session_spec(&p, "com.example.app", 1, None).unwrap();
        assert_eq!(caps(&spec)["appium:udid"], "emulator-5554");
        assert_eq!(caps(&spec)["appium:noReset"], true);
    }

    #[test]
    fn appium_and_grid_profiles_capabilities_override_the_defaults() {
        for kind in ["appium", "grid"] {
            let p = profile(&format!(
                "name: a\nplatform: Android\nkind: {kind}\nurl: http://127.0.0.1:4444\ncapabilities:\n  \
                 appium:automationName: Espresso\n  appium:deviceName: Pixel\n"
            ));
            let spec = session_spec(&p, "com.example.app", 1, None).unwrap();
            assert_eq!(spec.url, "http://127.0.0.1:4444", "{kind}");
            let c = caps(&spec);
            assert_eq!(c["appium:automationName"], "Espresso", "{kind}");
            assert_eq!(c["appium:deviceName"], "Pixel", "{kind}");
            assert_eq!(c["appium:appPackage"], "com.example.app", "{kind}");
        }
    }

    #[test]
    fn cloud_vendors_get_credentials_in_their_options_block() {
        let vendors = [
            ("browserstack", "bstack:options", "userName"),
            ("saucelabs", "sauce:options", "username"),
            ("lambdatest", "lt:options", "username"),
        ];
        for (kind, block, user_key) in vendors {
            let p = profile(&format!(
                "name: c\nplatform: Android\nkind: {kind}\ncapabilities:\n  {block}:\n    build: nightly\n\
                 credentials:\n  username: ${{CLOUD_USER}}\n  accessKey: ${{CLOUD_KEY}}\n"
            ));
            let none = |_: &str| None;
            let err = session_spec_with_env(&p, "com.example.app", 1, None, none).unwrap_err();
            assert!(
                matches!(&err, SessionError::MissingCredentials { var } if var == "CLOUD_USER"),
                "{err:?}"
            );
            assert_eq!(
                err.to_string(),
                "set CLOUD_USER in the environment (the device profile's credentials)"
            );
            let user_only = |v: &str| (v == "CLOUD_USER").then(|| "me".to_string());
            let err = session_spec_with_env(&p, "com.example.app", 1, None, user_only).unwrap_err();
            assert!(
                matches!(&err, SessionError::MissingCredentials { var } if var == "CLOUD_KEY"),
                "{err:?}"
            );
            let both = |v: &str| match v {
                "CLOUD_USER" => Some("me".to_string()),
                "CLOUD_KEY" => Some("k3y".to_string()),
                _ => None,
            };
            let spec = session_spec_with_env(&p, "com.example.app", 1, None, both).unwrap();
            assert!(spec.url.starts_with("https://"), "{kind}: {}", spec.url);
            assert!(!spec.is_virtual);
            let opts = &caps(&spec)[block];
            assert_eq!(opts[user_key], "me", "{kind}: {opts}");
            assert_eq!(opts["accessKey"], "k3y", "{kind}: {opts}");
            assert_eq!(opts["build"], "nightly", "{kind}: the profile's options are kept");
        }
    }

    #[test]
    fn driver_errors_keep_their_text() {
        let e = SessionError::from(DriverError::unreachable("connection refused"));
        assert_eq!(e.to_string(), "the device server is unreachable: connection refused");
        let e = SessionError::NeedsLocalDevice { backend: Backend::Host };
        assert_eq!(e.to_string(), "backend host needs a local simulator or emulator");
    }
}
