//! The iOS host backend: a local simulator driven by `xcrun simctl` alone (profile
//! `backend: host`), and the simulator half of `appium+host`.
//!
//! - Simulator: found in `simctl list -j devices` by UDID or name (and OS version), booted
//!   (`boot` + `bootstatus -b`) when it is shut down.
//! - App: `launch` (prints `<bundleId>: <pid>`), `terminate` ("found nothing to terminate"
//!   means it was not running), `spawn launchctl list` for the app state, `openurl`.
//! - Session storage: the simulator keychain database read directly
//!   ([`crate::host::keychain`]): the app's items, named by the SHA-1 of the keys and services
//!   the app profile declares; `keychain reset` clears it.
//! - `io screenshot`, and a background `spawn log stream` of React Native's JS log.
//! - Settings: `location set`, `ui appearance`, `addmedia` (a private copy, removed after),
//!   `io recordVideo` in the background (stopped by SIGINT). Swipes, rotation and airplane
//!   mode are `Unsupported` with the capability table's reason.
//!
//! simctl cannot read or touch the screen: the UI operations are
//! [`DriverError::Unsupported`] with the hint to use `backend: appium+host`, and so are
//! `clearState` (simctl has no "clear app data") and network switching (the simulator shares
//! the Mac's network).

use std::path::PathBuf;
use std::time::Duration;

use crate::driver::capability::{Driver, Feature, support};
use crate::driver::{Device, DriverError, Recording, SetupError, StorageRead};
use crate::flow::model::{Orientation, Permission};
use crate::host::command::{Background, Cmd, HostError, LineStream};
use crate::host::{keychain, simctl};
use crate::platform::Platform;
use crate::profile::device::SimulatorRef;

const TIMEOUT: Duration = Duration::from_secs(30);
/// `bootstatus -b` waits for a full boot.
const BOOT_TIMEOUT: Duration = Duration::from_secs(240);

/// What the backend needs to know about the app besides its bundle id.
#[derive(Debug, Clone, Default)]
pub struct StorageNames {
    /// expo-secure-store keys to recognise in the keychain (the app profile's `sessionKeys`).
    pub keys: Vec<String>,
    /// Services to recognise (the app profile's `iosService`, then expo's defaults).
    pub services: Vec<String>,
}

impl StorageNames {
    pub fn new(keys: &[String], ios_service: Option<&str>) -> StorageNames {
        let mut services: Vec<String> = ios_service.into_iter().map(str::to_string).collect();
        for s in keychain::EXPO_SERVICES {
            if !services.iter().any(|x| x == s) {
                services.push(s.to_string());
            }
        }
        let mut keys = keys.to_vec();
        if !keys.iter().any(|k| k == "__clerk_client_jwt") {
            keys.push("__clerk_client_jwt".into());
        }
        StorageNames { keys, services }
    }
}

/// A local iOS simulator driven through `xcrun simctl`.
#[derive(Debug)]
pub struct IosHost {
    udid: String,
    bundle_id: String,
    data_dir: PathBuf,
    names: StorageNames,
    /// Set by `background`: a running app is then not in the foreground.
    backgrounded: bool,
    log: Option<LineStream>,
    shots: u64,
    /// A private folder (mode 0700, created fresh) for `simctl io screenshot` files, media
    /// handed to `addmedia` and recordings.
    shot_dir: PathBuf,
    /// The `xcrun` program to run (`xcrun` on PATH, unless opened with [`IosHost::open_with`]).
    program: String,
    /// The `recordVideo` running since `startRecording`, and its file.
    recording: Option<(Background, PathBuf)>,
}

impl Drop for IosHost {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.shot_dir);
    }
}

/// A new folder only this user can read, under the system's temporary folder.
fn private_dir() -> Result<PathBuf, DriverError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("harness-simctl-{}-{nanos}", std::process::id()));
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    // `create` (not `create_all`) fails when the path exists, so nothing planted there is used.
    builder.create(&dir).map_err(|source| DriverError::Io {
        action: "create",
        path: dir.clone(),
        source,
    })?;
    Ok(dir)
}

fn unsupported(what: &str) -> DriverError {
    DriverError::Unsupported {
        command: what.to_string(),
        message: "xcrun simctl cannot read or touch the app's screen; use `backend: appium+host` \
                  (Appium for the UI, simctl for the keychain and logs)"
            .into(),
    }
}

impl IosHost {
    /// Finds (and boots, if needed) the simulator and starts following the app's JS log.
    pub async fn open(
        device: &SimulatorRef,
        os_version: Option<&str>,
        bundle_id: &str,
        names: StorageNames,
    ) -> Result<IosHost, DriverError> {
        Self::open_with("xcrun", device, os_version, bundle_id, names).await
    }

    /// [`IosHost::open`] with another `xcrun` program (a path, for tests).
    pub async fn open_with(
        program: &str,
        device: &SimulatorRef,
        os_version: Option<&str>,
        bundle_id: &str,
        names: StorageNames,
    ) -> Result<IosHost, DriverError> {
        let xcrun = |args: Vec<String>| Cmd::new(program, args);
        if bundle_id.is_empty() {
            return Err(SetupError::NoAppId { field: "ios.bundleId" }.into());
        }
        let out = xcrun(simctl::list_args()).run_async(TIMEOUT).await?;
        let sims = simctl::parse_list(&out.stdout_text())?;
        let sim = pick(&sims, device, os_version)?;
        if sim.state != "Booted" {
            // A simulator that is already booting needs no `boot`; bootstatus waits for it.
            if sim.state == "Shutdown" {
                xcrun(simctl::boot_args(&sim.udid)).run_async(TIMEOUT).await?;
            }
            xcrun(simctl::bootstatus_args(&sim.udid))
                .run_async(BOOT_TIMEOUT)
                .await?;
        }
        let data_dir = data_dir(sim)?;
        let log = xcrun(simctl::log_stream_args(&sim.udid, None)).stream().ok();
        Ok(IosHost {
            udid: sim.udid.clone(),
            bundle_id: bundle_id.to_string(),
            data_dir,
            names,
            backgrounded: false,
            log,
            shots: 0,
            shot_dir: private_dir()?,
            program: program.to_string(),
            recording: None,
        })
    }

    fn xcrun(&self, args: Vec<String>) -> Cmd {
        Cmd::new(&self.program, args)
    }

    /// The keychain database of this simulator.
    pub fn keychain_db(&self) -> PathBuf {
        keychain::keychain_dir(&self.data_dir).join(keychain::KEYCHAIN_DB)
    }

    async fn pid(&self) -> Result<Option<u32>, DriverError> {
        let out = self
            .xcrun(simctl::launchctl_list_args(&self.udid))
            .run_async(TIMEOUT)
            .await?;
        Ok(simctl::parse_launchctl_pid(&out.stdout_text(), &self.bundle_id))
    }

    async fn launch(&mut self) -> Result<(), DriverError> {
        self.launch_with(&[]).await
    }

    /// `simctl launch` with `launchApp.arguments` as launch arguments `-key value` (which iOS
    /// also puts in the app's UserDefaults).
    async fn launch_with(&mut self, arguments: &[(String, String)]) -> Result<(), DriverError> {
        let argv: Vec<String> = arguments
            .iter()
            .flat_map(|(k, v)| [format!("-{k}"), v.clone()])
            .collect();
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let out = self
            .xcrun(simctl::launch_args(&self.udid, &self.bundle_id, false, &argv))
            .run_async(TIMEOUT)
            .await?;
        simctl::parse_launch_pid(&out.stdout_text())?;
        self.backgrounded = false;
        Ok(())
    }
}

/// The simulator's data directory: `dataPath` from `simctl list`, else the standard place
/// under `$HOME`.
pub fn data_dir(sim: &simctl::Simulator) -> Result<PathBuf, DriverError> {
    match &sim.data_path {
        Some(p) => Ok(PathBuf::from(p)),
        None => {
            let home = std::env::var_os("HOME").map(PathBuf::from).ok_or(SetupError::NoHome)?;
            Ok(keychain::default_data_dir(&home, &sim.udid))
        }
    }
}

/// The simulator a profile names: its UDID, or the available one with this name (and OS
/// version), booted ones first.
pub fn pick<'a>(
    sims: &'a [simctl::Simulator],
    device: &SimulatorRef,
    os_version: Option<&str>,
) -> Result<&'a simctl::Simulator, DriverError> {
    let found = match device {
        SimulatorRef::Udid(udid) => sims.iter().find(|s| s.udid.eq_ignore_ascii_case(udid)),
        SimulatorRef::DeviceName(name) => {
            let mut matching: Vec<&simctl::Simulator> = sims
                .iter()
                .filter(|s| s.is_available && &s.name == name)
                .filter(|s| os_version.is_none_or(|v| s.runtime.ends_with(&format!(" {v}"))))
                .collect();
            matching.sort_by_key(|s| s.state != "Booted");
            matching.first().copied()
        }
    };
    found.ok_or_else(|| {
        SetupError::NoSimulator {
            device: device.clone(),
            os_version: os_version.map(str::to_string),
        }
        .into()
    })
}

#[async_trait::async_trait]
impl Device for IosHost {
    fn platform(&self) -> Platform {
        Platform::Ios
    }

    fn app_id(&self) -> &str {
        &self.bundle_id
    }

    async fn source(&mut self) -> Result<String, DriverError> {
        Err(unsupported("page source"))
    }

    async fn screenshot(&mut self) -> Result<Vec<u8>, DriverError> {
        self.shots += 1;
        let path = self.shot_dir.join(format!("{}.png", self.shots));
        let path_text = path.display().to_string();
        self.xcrun(simctl::screenshot_png_args(&self.udid, &path_text))
            .run_async(TIMEOUT)
            .await?;
        // A screenshot file is small: read in place rather than on the blocking pool.
        let bytes = std::fs::read(&path).map_err(|source| DriverError::Io {
            action: "read the screenshot `xcrun simctl io screenshot` wrote to",
            path: path.clone(),
            source,
        });
        let _ = std::fs::remove_file(&path);
        bytes
    }

    async fn press(&mut self, _x: i32, _y: i32, _hold_ms: u64) -> Result<(), DriverError> {
        Err(unsupported("tap"))
    }

    async fn type_text(&mut self, _text: &str, _sensitive: bool) -> Result<(), DriverError> {
        Err(unsupported("inputText"))
    }

    async fn erase_text(&mut self, _characters: u32) -> Result<(), DriverError> {
        Err(unsupported("eraseText"))
    }

    async fn launch_app(&mut self) -> Result<(), DriverError> {
        self.launch().await
    }

    async fn launch_app_with(&mut self, arguments: &[(String, String)]) -> Result<(), DriverError> {
        self.launch_with(arguments).await
    }

    async fn set_permissions(&mut self, permissions: &[(String, Permission)]) -> Result<(), DriverError> {
        for (name, permission) in permissions {
            let Some(service) = simctl::privacy_service(name) else {
                return Err(DriverError::Unsupported {
                    command: format!("permission {name}"),
                    message: "xcrun simctl privacy has no such service; it knows all, calendar, contacts, \
                              location, medialibrary, microphone, motion, photos, reminders and siri"
                        .into(),
                });
            };
            let action = match permission {
                Permission::Allow => "grant",
                Permission::Deny => "revoke",
                Permission::Unset => "reset",
            };
            self.xcrun(simctl::privacy_args(&self.udid, action, service, &self.bundle_id))
                .run_async(TIMEOUT)
                .await?;
        }
        Ok(())
    }

    async fn terminate_app(&mut self) -> Result<bool, DriverError> {
        match self
            .xcrun(simctl::terminate_args(&self.udid, &self.bundle_id))
            .run_async(TIMEOUT)
            .await
        {
            Ok(_) => Ok(true),
            Err(crate::host::HostError::Failed { stderr, .. }) if simctl::is_nothing_to_terminate(&stderr) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn app_state(&mut self) -> Result<i64, DriverError> {
        Ok(match self.pid().await? {
            None => 1,
            Some(_) if self.backgrounded => 3,
            Some(_) => 4,
        })
    }

    async fn clear_app(&mut self) -> Result<(), DriverError> {
        Err(DriverError::Unsupported {
            command: "clearState".into(),
            message: "xcrun simctl cannot clear an app's data (only uninstall and install it again); \
                      use `backend: appium+host` (mobile: clearApp), or clearKeychain to sign out"
                .into(),
        })
    }

    async fn clear_keychain(&mut self) -> Result<(), DriverError> {
        self.xcrun(simctl::keychain_reset_args(&self.udid))
            .run_async(TIMEOUT)
            .await
            .map(|_| ())
            .map_err(Into::into)
    }

    async fn background(&mut self, seconds: f64) -> Result<(), DriverError> {
        // simctl has no home button: bringing another app to the front backgrounds ours.
        self.xcrun(simctl::launch_args(&self.udid, "com.apple.Preferences", false, &[]))
            .run_async(TIMEOUT)
            .await?;
        self.backgrounded = true;
        tokio::time::sleep(Duration::from_secs_f64(seconds.max(0.0))).await;
        self.launch().await
    }

    async fn set_network(&mut self, _online: bool) -> Result<(), DriverError> {
        Err(DriverError::Unsupported {
            command: "setNetwork".into(),
            message: "an iOS simulator uses the Mac's network; simctl cannot take it offline \
                      (use the virtual farm, or a network link conditioner on the Mac)"
                .into(),
        })
    }

    async fn open_link(&mut self, url: &str) -> Result<(), DriverError> {
        self.xcrun(simctl::openurl_args(&self.udid, url))
            .run_async(TIMEOUT)
            .await
            .map(|_| ())
            .map_err(Into::into)
    }

    async fn press_back(&mut self) -> Result<(), DriverError> {
        Err(unsupported("back"))
    }

    async fn hide_keyboard(&mut self) -> Result<(), DriverError> {
        Err(unsupported("hideKeyboard"))
    }

    async fn secure_storage(&mut self) -> Result<StorageRead, DriverError> {
        let db = self.keychain_db();
        let bundle_id = self.bundle_id.clone();
        let path = db.clone();
        let items = tokio::task::spawn_blocking(move || keychain::read_items(&db, &bundle_id))
            .await
            .map_err(|e| DriverError::Io {
                action: "read the keychain database",
                path,
                // The read panicked or was cancelled: the task's error is the cause.
                source: std::io::Error::other(e),
            })??;
        Ok(StorageRead {
            source: crate::driver::StorageSource::KeychainDb,
            entries: keychain::entries(&items, &self.names.keys, &self.names.services),
        })
    }

    async fn swipe(&mut self, _from: (i32, i32), _to: (i32, i32), _duration_ms: u64) -> Result<(), DriverError> {
        Err(not_in_table("swipe", Feature::Gestures))
    }

    async fn set_orientation(&mut self, _orientation: Orientation) -> Result<(), DriverError> {
        Err(not_in_table("setOrientation", Feature::Orientation))
    }

    async fn set_location(&mut self, latitude: f64, longitude: f64) -> Result<(), DriverError> {
        self.xcrun(simctl::location_set_args(&self.udid, latitude, longitude))
            .run_async(TIMEOUT)
            .await?;
        Ok(())
    }

    async fn set_airplane_mode(&mut self, _on: bool) -> Result<(), DriverError> {
        Err(not_in_table("setAirplaneMode", Feature::AirplaneMode))
    }

    async fn airplane_mode(&mut self) -> Result<bool, DriverError> {
        Err(not_in_table("airplane mode (read)", Feature::AirplaneMode))
    }

    async fn set_dark_mode(&mut self, dark: bool) -> Result<(), DriverError> {
        self.xcrun(simctl::appearance_args(&self.udid, Some(dark)))
            .run_async(TIMEOUT)
            .await?;
        Ok(())
    }

    async fn dark_mode(&mut self) -> Result<bool, DriverError> {
        let out = self
            .xcrun(simctl::appearance_args(&self.udid, None))
            .run_async(TIMEOUT)
            .await?;
        Ok(simctl::parse_appearance(&out.stdout_text())?)
    }

    /// `simctl addmedia` of a private copy named as the flow names it (simctl tells photos
    /// from videos by the extension); the copy is deleted afterwards.
    async fn add_media(&mut self, name: &str, bytes: &[u8]) -> Result<(), DriverError> {
        // The copy goes with the folder when `_dir` is dropped.
        let (_dir, file) = crate::driver::stage_media("harness-simctl-media", name, bytes)?;
        self.xcrun(simctl::addmedia_args(&self.udid, &file.display().to_string()))
            .run_async(TIMEOUT)
            .await?;
        Ok(())
    }

    /// `simctl io recordVideo` in the background, until `stopRecording`.
    async fn start_recording(&mut self) -> Result<(), DriverError> {
        if self.recording.is_some() {
            return Err(DriverError::Command {
                command: "startRecording".into(),
                message: "a recording is already running: stopRecording first".into(),
            });
        }
        self.shots += 1;
        let file = self.shot_dir.join(format!("recording-{}.mp4", self.shots));
        let mut bg = self
            .xcrun(simctl::record_video_args(&self.udid, &file.display().to_string()))
            .spawn_background()?;
        // Until simctl says it records (or fails: a shut-down simulator, a bad codec).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            if bg.has_exited() {
                return Err(bg.failure().await.into());
            }
            if file.exists()
                || bg.stderr_so_far().contains("Recording started")
                || tokio::time::Instant::now() >= deadline
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.recording = Some((bg, file));
        Ok(())
    }

    /// Interrupts `recordVideo` (SIGINT: it finishes the file) and reads the file back.
    async fn stop_recording(&mut self) -> Result<Recording, DriverError> {
        let Some((bg, file)) = self.recording.take() else {
            return Err(DriverError::Command {
                command: "stopRecording".into(),
                message: "no recording is running: startRecording first".into(),
            });
        };
        let command = bg.display().to_string();
        let out = bg.interrupt(Duration::from_secs(30)).await?;
        let bytes = std::fs::read(&file);
        let _ = std::fs::remove_file(&file);
        match bytes {
            Ok(bytes) if !bytes.is_empty() => Ok(Recording {
                bytes,
                extension: "mp4",
            }),
            _ => Err(HostError::Failed {
                command,
                status: out.status,
                stderr: format!("no video was written to {}: {}", file.display(), out.stderr.trim()),
            }
            .into()),
        }
    }

    async fn logs(&mut self) -> Result<Vec<String>, DriverError> {
        Ok(self.log.as_ref().map(LineStream::drain).unwrap_or_default())
    }

    async fn quit(self: Box<Self>) -> Result<(), DriverError> {
        Ok(())
    }
}

/// An operation the capability table says simctl cannot do, with the table's reason.
fn not_in_table(command: &str, feature: Feature) -> DriverError {
    match support(Driver::Simctl, Platform::Ios, feature) {
        Err(why) => DriverError::Unsupported {
            command: command.to_string(),
            message: why.to_string(),
        },
        Ok(_) => crate::driver::unsupported(command),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sims() -> Vec<simctl::Simulator> {
        simctl::parse_list(include_str!("../../tests/fixtures/host/simctl-list-devices.json")).unwrap()
    }

    #[test]
    fn picks_by_udid_or_available_name() {
        let sims = sims();
        let by_udid = pick(
            &sims,
            &SimulatorRef::Udid("5a1b2c3d-0000-4000-8000-000000000003".into()),
            None,
        )
        .unwrap();
        assert_eq!(by_udid.name, "iPad Air 11-inch (M2)");
        let by_name = pick(&sims, &SimulatorRef::DeviceName("iPhone 16".into()), Some("18.2")).unwrap();
        assert_eq!(by_name.udid, "5A1B2C3D-0000-4000-8000-000000000001");
        let e = pick(&sims, &SimulatorRef::DeviceName("iPhone 16".into()), Some("17.0"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"iPhone 16\" with iOS 17.0") && e.contains("harness devices"),
            "{e}"
        );
        // Unavailable simulators are never picked by name.
        assert!(pick(&sims, &SimulatorRef::DeviceName("iPhone 16 Pro".into()), None).is_err());
    }

    #[test]
    fn storage_names_always_know_clerks_key_and_expo_services() {
        let n = StorageNames::new(&[], Some("custom"));
        assert_eq!(n.keys, vec!["__clerk_client_jwt"]);
        assert_eq!(n.services, vec!["custom", "app:no-auth", "app:auth", "app"]);
    }
}
