//! The Android host backend: a local emulator driven by `adb` alone (profile `backend: host`).
//!
//! - Screen: `uiautomator dump` + `exec-out cat` give the UI tree (the UiAutomator2 format the
//!   selectors read), `input tap|swipe|text|keyevent` act on it, `exec-out screencap -p`
//!   takes screenshots.
//! - App: `cmd package resolve-activity --brief` finds the launcher activity once;
//!   `am start -W -n` launches and reports the cold-start time (`TotalTime` when
//!   `LaunchState: COLD`), `am force-stop` quits, `pidof` + `dumpsys activity activities` give
//!   the app state, `pm clear` wipes its data.
//! - Session storage: `exec-out run-as PKG cat shared_prefs/SecureStore.xml` (debuggable
//!   builds), read as expo-secure-store entries (the values stay encrypted; only their digests
//!   are recorded); `clearKeychain` stops the app and deletes that file (`run-as PKG rm -f`).
//! - Device: `svc wifi|data`, `input keyevent HOME|BACK`, `am start -a VIEW -d URL`, and a
//!   background `logcat` of the `ReactNativeJS` tag.
//! - Settings: `input swipe`, `settings put system user_rotation`, `emu geo fix` (emulators),
//!   `cmd connectivity airplane-mode`, `cmd uimode night`, `push` + a media scan into
//!   Pictures, and `screenrecord` in the background (stopped by `pkill -INT`).
//!
//! Every argument that reaches the device shell is quoted (see [`crate::host::command`]);
//! typed text is marked sensitive so it never appears in a message.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::driver::{Device, DriverError, Recording, SetupError, StorageRead};
use crate::flow::model::{Orientation, Permission};
use crate::host::adb;
use crate::host::command::{Background, Cmd, HostError, LineStream};
use crate::platform::Platform;
use crate::profile::device::EmulatorRef;

/// Most adb calls answer in well under a second; a slow emulator gets this long.
const TIMEOUT: Duration = Duration::from_secs(30);
/// `am start -W` waits for the first frame of a cold start.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(90);
/// Where the UI tree is dumped on the device.
const DUMP_PATH: &str = "/sdcard/window_dump.xml";

/// A local Android emulator (or device) driven through `adb -s SERIAL`.
#[derive(Debug)]
pub struct AndroidHost {
    serial: String,
    package: String,
    /// `PKG/.Activity`, resolved when the session opens.
    component: String,
    /// Whether the app was stopped since the last launch (the next launch is cold).
    stopped: bool,
    cold_launch_ms: Option<u64>,
    log: Option<LineStream>,
    /// The `adb` program to run (`adb` on PATH, unless opened with [`AndroidHost::open_with`]).
    program: String,
    /// The `screenrecord` running since `startRecording`.
    recording: Option<Background>,
}

impl AndroidHost {
    /// Opens a session on a running emulator: checks that adb sees it online and that the app
    /// has a launcher activity, and starts following its JS log.
    pub async fn open(device: &EmulatorRef, package: &str) -> Result<AndroidHost, DriverError> {
        Self::open_with("adb", device, package).await
    }

    /// [`AndroidHost::open`] with another `adb` program (a path, for tests and installs off PATH).
    pub async fn open_with(program: &str, device: &EmulatorRef, package: &str) -> Result<AndroidHost, DriverError> {
        let adb = |args: Vec<String>| Cmd::new(program, args);
        let serial = match device {
            EmulatorRef::Serial(s) => s.clone(),
            EmulatorRef::Avd(avd) => return Err(SetupError::AvdWithoutSerial { avd: avd.clone() }.into()),
        };
        if package.is_empty() {
            return Err(SetupError::NoAppId {
                field: "android.package",
            }
            .into());
        }
        let out = adb(adb::devices_args()).run_async(TIMEOUT).await?;
        let devices = adb::parse_devices(&out.stdout_text())?;
        match devices.iter().find(|d| d.serial == serial) {
            None => {
                let seen = devices.iter().map(|d| d.serial.clone()).collect();
                return Err(SetupError::NotAttached { serial, seen }.into());
            }
            Some(d) if d.state != adb::AdbState::Device => {
                return Err(SetupError::NotReady {
                    serial,
                    state: d.state.clone(),
                }
                .into());
            }
            Some(_) => {}
        }
        let out = adb(adb::resolve_activity_args(&serial, package))
            .run_async(TIMEOUT)
            .await?;
        let component = adb::parse_resolve_activity(&out.stdout_text()).ok_or_else(|| SetupError::NotInstalled {
            package: package.to_string(),
            serial: serial.clone(),
            said: out.stdout_text().trim().to_string(),
        })?;
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        // The log is a convenience: a failure to follow it never fails the session.
        let log = adb(adb::logcat_follow_args(&serial, now_ms)).stream().ok();
        Ok(AndroidHost {
            serial,
            package: package.to_string(),
            component,
            stopped: false,
            cold_launch_ms: None,
            log,
            program: program.to_string(),
            recording: None,
        })
    }

    fn adb(&self, args: Vec<String>) -> Cmd {
        Cmd::new(&self.program, args)
    }

    async fn shell(&self, args: Vec<String>) -> Result<String, DriverError> {
        Ok(self.adb(args).run_async(TIMEOUT).await?.stdout_text())
    }

    async fn is_running(&self) -> Result<bool, DriverError> {
        let out = self
            .adb(adb::pidof_args(&self.serial, &self.package))
            .run_unchecked_async(TIMEOUT)
            .await?;
        // pidof exits 1 with no output when nothing runs; adb errors go to stderr.
        if !out.success() && !out.stderr.trim().is_empty() {
            return Err(HostError::Failed {
                command: format!("adb -s {} shell pidof {}", self.serial, self.package),
                status: out.status,
                stderr: out.stderr,
            }
            .into());
        }
        Ok(adb::parse_pidof(&out.stdout_text()).is_some())
    }

    async fn start(&mut self) -> Result<adb::StartResult, DriverError> {
        self.start_with(&[]).await
    }

    async fn start_with(&mut self, extras: &[(String, String)]) -> Result<adb::StartResult, DriverError> {
        let cold = self.stopped;
        let out = self
            .adb(adb::am_start_with_extras_args(&self.serial, &self.component, extras))
            .run_async(LAUNCH_TIMEOUT)
            .await?;
        let text = out.stdout_text();
        let started = adb::parse_am_start(&text)?;
        self.stopped = false;
        if started.status == "timeout" {
            // The app was started but took longer than am's wait (a debug build's first
            // bundle load): no launch time; the flow's own waits decide what it shows.
            tracing::warn!(
                "am start -W {} on {}: Status: timeout, the cold launch is not timed",
                self.component,
                self.serial
            );
            return Ok(started);
        }
        if started.status != "ok" {
            return Err(HostError::Unexpected {
                command: format!("adb -s {} shell am start -W -n {}", self.serial, self.component),
                expected: "Status: ok",
                said: format!("Status: {}", started.status),
            }
            .into());
        }
        let is_cold = match started.launch_state.as_deref() {
            Some(state) => state.eq_ignore_ascii_case("COLD"),
            None => cold,
        };
        if is_cold {
            self.cold_launch_ms = started.total_time_ms;
        }
        Ok(started)
    }

    async fn keys(&self, codes: &[u32]) -> Result<(), DriverError> {
        self.shell(adb::keyevent_args(&self.serial, codes)).await.map(|_| ())
    }
}

#[async_trait::async_trait]
impl Device for AndroidHost {
    fn platform(&self) -> Platform {
        Platform::Android
    }

    fn app_id(&self) -> &str {
        &self.package
    }

    async fn take_cold_launch_ms(&mut self) -> Option<u64> {
        self.cold_launch_ms.take()
    }

    async fn source(&mut self) -> Result<String, DriverError> {
        // uiautomator cannot dump while the screen animates ("ERROR: could not get idle
        // state", e.g. a loading spinner): a few tries before it counts as an error.
        let mut tries = 0;
        let path = loop {
            tries += 1;
            let out = self
                .adb(adb::uiautomator_dump_to_args(&self.serial, DUMP_PATH))
                .run_unchecked_async(TIMEOUT)
                .await?;
            let said = format!("{}{}", out.stdout_text(), out.stderr);
            match adb::parse_uiautomator_dump(&said) {
                Ok(path) => break path,
                Err(_) if tries < 4 && !said.contains("not found") && !said.contains("offline") => {
                    tokio::time::sleep(Duration::from_millis(150 * tries)).await;
                }
                Err(e) if out.success() => return Err(e.into()),
                Err(_) => {
                    return Err(HostError::Failed {
                        command: format!("adb -s {} shell uiautomator dump {DUMP_PATH}", self.serial),
                        status: out.status,
                        stderr: said.trim().to_string(),
                    }
                    .into());
                }
            }
        };
        let out = self.adb(adb::cat_args(&self.serial, &path)).run_async(TIMEOUT).await?;
        String::from_utf8(out.stdout).map_err(|_| {
            HostError::Parse {
                command: format!("adb -s {} exec-out cat {path}", self.serial),
                what: "the UI dump is not UTF-8 text".into(),
            }
            .into()
        })
    }

    async fn screenshot(&mut self) -> Result<Vec<u8>, DriverError> {
        let out = self.adb(adb::screencap_args(&self.serial)).run_async(TIMEOUT).await?;
        if !out.stdout.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Err(HostError::Parse {
                command: format!("adb -s {} exec-out screencap -p", self.serial),
                what: format!("not a PNG ({} bytes)", out.stdout.len()),
            }
            .into());
        }
        Ok(out.stdout)
    }

    async fn press(&mut self, x: i32, y: i32, hold_ms: u64) -> Result<(), DriverError> {
        self.shell(adb::input_press_args(&self.serial, x, y, hold_ms))
            .await
            .map(|_| ())
    }

    async fn type_text(&mut self, text: &str, sensitive: bool) -> Result<(), DriverError> {
        let chunks = adb::text_chunks(text).map_err(|e| match e {
            // The error quotes the offending character: never for a secret.
            HostError::Untypeable { .. } if sensitive => HostError::Untypeable { shown: None },
            other => other,
        })?;
        for chunk in chunks {
            self.adb(adb::input_text_args(&self.serial, &chunk))
                .sensitive(sensitive)
                .run_async(TIMEOUT)
                .await?;
        }
        Ok(())
    }

    async fn erase_text(&mut self, characters: u32) -> Result<(), DriverError> {
        self.keys(&[adb::KEYCODE_MOVE_END]).await?;
        let mut left = characters;
        while left > 0 {
            let n = left.min(50);
            self.keys(&vec![adb::KEYCODE_DEL; n as usize]).await?;
            left -= n;
        }
        Ok(())
    }

    async fn launch_app(&mut self) -> Result<(), DriverError> {
        self.start().await.map(|_| ())
    }

    async fn launch_app_with(&mut self, arguments: &[(String, String)]) -> Result<(), DriverError> {
        self.start_with(arguments).await.map(|_| ())
    }

    async fn set_permissions(&mut self, permissions: &[(String, Permission)]) -> Result<(), DriverError> {
        for (name, permission) in permissions {
            let all = name == "all";
            let names: Vec<&str> = if all {
                adb::ANDROID_PERMISSION_NAMES.to_vec()
            } else {
                vec![name.as_str()]
            };
            for n in names {
                let Some(android) = adb::android_permissions(n) else {
                    return Err(DriverError::Unsupported {
                        command: format!("permission {n}"),
                        message: format!(
                            "Android has no runtime permission for '{n}'; known names: all, {}",
                            adb::ANDROID_PERMISSION_NAMES.join(", ")
                        ),
                    });
                };
                // Android has no "not yet asked" state to return to from the shell: unset revokes.
                let grant = *permission == Permission::Allow;
                for p in android {
                    let out = self
                        .adb(adb::pm_permission_args(&self.serial, &self.package, p, grant))
                        .run_unchecked_async(TIMEOUT)
                        .await?;
                    let text = format!("{}{}", out.stdout_text(), out.stderr);
                    // Permissions the app does not declare cannot be changed, and need not be;
                    // `all` also meets permissions this Android version does not have.
                    if (out.success() && !text.contains("Exception"))
                        || adb::is_permission_not_requested(&text)
                        || (all && text.contains("Unknown permission"))
                    {
                        continue;
                    }
                    return Err(HostError::Failed {
                        command: format!(
                            "adb -s {} shell pm {} {} {p}",
                            self.serial,
                            if grant { "grant" } else { "revoke" },
                            self.package
                        ),
                        status: out.status,
                        stderr: text.trim().to_string(),
                    }
                    .into());
                }
            }
        }
        Ok(())
    }

    async fn terminate_app(&mut self) -> Result<bool, DriverError> {
        let running = self.is_running().await?;
        self.shell(adb::force_stop_args(&self.serial, &self.package)).await?;
        self.stopped = true;
        Ok(running)
    }

    async fn app_state(&mut self) -> Result<i64, DriverError> {
        if !self.is_running().await? {
            return Ok(1);
        }
        let dump = self.shell(adb::dumpsys_activities_args(&self.serial)).await?;
        Ok(if adb::is_resumed(&dump, &self.package) { 4 } else { 3 })
    }

    async fn clear_app(&mut self) -> Result<(), DriverError> {
        let said = self.shell(adb::pm_clear_args(&self.serial, &self.package)).await?;
        if !said.contains("Success") {
            return Err(HostError::Unexpected {
                command: format!("adb -s {} shell pm clear {}", self.serial, self.package),
                expected: "Success",
                said: said.trim().to_string(),
            }
            .into());
        }
        self.stopped = true;
        Ok(())
    }

    /// Android has no keychain: expo-secure-store keeps its entries in the app's
    /// SharedPreferences file SecureStore.xml. The app is stopped first (a running app holds
    /// its preferences in memory and writes them all back with its next write), then the file
    /// is deleted through `run-as`; a release build, which `run-as` refuses, is `Unsupported`.
    async fn clear_keychain(&mut self) -> Result<(), DriverError> {
        self.shell(adb::force_stop_args(&self.serial, &self.package)).await?;
        self.stopped = true;
        let out = self
            .adb(adb::delete_secure_store_args(&self.serial, &self.package))
            .run_unchecked_async(TIMEOUT)
            .await?;
        let text = format!("{}\n{}", out.stdout_text(), out.stderr);
        match adb::run_as_error(&self.package, &text) {
            Some(refusal @ HostError::NotDebuggable { .. }) => Err(DriverError::Unsupported {
                command: "clearKeychain".into(),
                message: format!(
                    "{refusal}; expo-secure-store on Android keeps its entries in the app's SharedPreferences \
                     (shared_prefs/SecureStore.xml): clearState (pm clear) clears them with the rest of the app's data"
                ),
            }),
            Some(other) => Err(other.into()),
            None if !out.success() => Err(HostError::Failed {
                command: format!(
                    "adb -s {} shell run-as {} rm -f {}",
                    self.serial,
                    self.package,
                    adb::SECURE_STORE_PREFS
                ),
                status: out.status,
                stderr: text.trim().to_string(),
            }
            .into()),
            None => Ok(()),
        }
    }

    async fn background(&mut self, seconds: f64) -> Result<(), DriverError> {
        self.keys(&[adb::KEYCODE_HOME]).await?;
        tokio::time::sleep(Duration::from_secs_f64(seconds.max(0.0))).await;
        self.start().await.map(|_| ())
    }

    async fn set_network(&mut self, online: bool) -> Result<(), DriverError> {
        self.shell(adb::svc_wifi_args(&self.serial, online)).await?;
        self.shell(adb::svc_data_args(&self.serial, online)).await?;
        Ok(())
    }

    async fn open_link(&mut self, url: &str) -> Result<(), DriverError> {
        let out = self.shell(adb::view_args(&self.serial, url, &self.package)).await?;
        adb::parse_am_start(&out)?;
        Ok(())
    }

    async fn press_back(&mut self) -> Result<(), DriverError> {
        self.keys(&[adb::KEYCODE_BACK]).await
    }

    async fn hide_keyboard(&mut self) -> Result<(), DriverError> {
        let dump = self.shell(adb::dumpsys_input_method_args(&self.serial)).await?;
        if adb::is_keyboard_shown(&dump) {
            self.keys(&[adb::KEYCODE_BACK]).await?;
        }
        Ok(())
    }

    async fn secure_storage(&mut self) -> Result<StorageRead, DriverError> {
        let out = self
            .adb(adb::read_secure_store_exec_out_args(&self.serial, &self.package))
            .run_unchecked_async(TIMEOUT)
            .await?;
        let text = format!("{}\n{}", out.stdout_text(), out.stderr);
        if let Some(err) = adb::run_as_error(&self.package, &text) {
            return Err(err.into());
        }
        if adb::is_no_such_file(&text) {
            // The app never wrote to expo-secure-store (or its data was cleared).
            return Ok(StorageRead {
                source: crate::driver::StorageSource::RunAs,
                entries: vec![],
            });
        }
        if !out.success() {
            return Err(HostError::Failed {
                command: format!(
                    "adb -s {} exec-out run-as {} cat {}",
                    self.serial,
                    self.package,
                    adb::SECURE_STORE_PREFS
                ),
                status: out.status,
                stderr: text.trim().to_string(),
            }
            .into());
        }
        let prefs = adb::parse_secure_store(&self.package, &out.stdout_text())?;
        Ok(StorageRead {
            source: crate::driver::StorageSource::RunAs,
            entries: adb::secure_store_entries(prefs),
        })
    }

    async fn swipe(&mut self, from: (i32, i32), to: (i32, i32), duration_ms: u64) -> Result<(), DriverError> {
        self.shell(adb::input_swipe_args(&self.serial, from, to, duration_ms))
            .await
            .map(|_| ())
    }

    async fn set_orientation(&mut self, orientation: Orientation) -> Result<(), DriverError> {
        let rotation = match orientation {
            Orientation::Portrait => 0,
            Orientation::LandscapeLeft => 1,
            Orientation::UpsideDown => 2,
            Orientation::LandscapeRight => 3,
        };
        self.shell(adb::fixed_rotation_args(&self.serial)).await?;
        self.shell(adb::user_rotation_args(&self.serial, rotation)).await?;
        Ok(())
    }

    /// `adb emu geo fix`: the emulator console's GPS; a physical device has no console.
    async fn set_location(&mut self, latitude: f64, longitude: f64) -> Result<(), DriverError> {
        if !self.serial.starts_with("emulator-") {
            return Err(DriverError::Unsupported {
                command: "setLocation".into(),
                message: format!(
                    "adb sets the location through the emulator console (adb emu geo fix), and {} is not an \
                     emulator: use backend appium (mobile: setGeolocation) on a physical device",
                    self.serial
                ),
            });
        }
        let args = adb::geo_fix_args(&self.serial, latitude, longitude);
        let display = self.adb(args.clone()).display();
        let out = self.adb(args).run_async(TIMEOUT).await?;
        let said = format!("{}{}", out.stdout_text(), out.stderr);
        match adb::emu_refusal(&said) {
            Some(refusal) => Err(HostError::Unexpected {
                command: display,
                expected: "OK",
                said: refusal,
            }
            .into()),
            None => Ok(()),
        }
    }

    async fn set_airplane_mode(&mut self, on: bool) -> Result<(), DriverError> {
        self.shell(adb::airplane_mode_args(&self.serial, Some(on))).await?;
        Ok(())
    }

    async fn airplane_mode(&mut self) -> Result<bool, DriverError> {
        let out = self.shell(adb::airplane_mode_args(&self.serial, None)).await?;
        Ok(adb::parse_airplane_mode(&out)?)
    }

    async fn set_dark_mode(&mut self, dark: bool) -> Result<(), DriverError> {
        let out = self.shell(adb::night_mode_args(&self.serial, Some(dark))).await?;
        // It answers with the new mode; anything else means it did not take.
        if adb::parse_night_mode(&out).ok() != Some(dark) && out.contains("Night mode:") {
            return Err(HostError::Unexpected {
                command: self.adb(adb::night_mode_args(&self.serial, Some(dark))).display(),
                expected: if dark { "Night mode: yes" } else { "Night mode: no" },
                said: out.trim().to_string(),
            }
            .into());
        }
        Ok(())
    }

    async fn dark_mode(&mut self) -> Result<bool, DriverError> {
        let out = self.shell(adb::night_mode_args(&self.serial, None)).await?;
        Ok(adb::parse_night_mode(&out)?)
    }

    /// `adb push` of a private copy into the Pictures folder, then a media scan so the
    /// gallery lists it.
    async fn add_media(&mut self, name: &str, bytes: &[u8]) -> Result<(), DriverError> {
        let (dir, local) = crate::driver::stage_media("harness-adb-media", name, bytes)?;
        let remote = format!("{}/{}", adb::MEDIA_DIR, crate::host::media_file_name(name)?);
        {
            let _dir = dir;
            self.adb(adb::push_args(&self.serial, &local.display().to_string(), &remote))
                .run_async(LAUNCH_TIMEOUT)
                .await?;
            // The copy goes with the folder, whatever the push did.
        }
        self.shell(adb::media_scan_args(&self.serial, &remote)).await?;
        Ok(())
    }

    /// `screenrecord` in the background, until `stopRecording`.
    async fn start_recording(&mut self) -> Result<(), DriverError> {
        if self.recording.is_some() {
            return Err(DriverError::Command {
                command: "startRecording".into(),
                message: "a recording is already running: stopRecording first".into(),
            });
        }
        let mut bg = self
            .adb(adb::screenrecord_args(&self.serial, adb::RECORDING_PATH))
            .spawn_background()?;
        // Until screenrecord runs on the device (or fails: no such command, no display).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            if bg.has_exited() {
                return Err(bg.failure().await.into());
            }
            let pid = self
                .adb(adb::pidof_screenrecord_args(&self.serial))
                .run_unchecked_async(TIMEOUT)
                .await?;
            if adb::parse_pidof(&pid.stdout_text()).is_some() || tokio::time::Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.recording = Some(bg);
        Ok(())
    }

    /// Interrupts `screenrecord` on the device (SIGINT: it finishes the file), reads the file
    /// back and deletes it.
    async fn stop_recording(&mut self) -> Result<Recording, DriverError> {
        let Some(bg) = self.recording.take() else {
            return Err(DriverError::Command {
                command: "stopRecording".into(),
                message: "no recording is running: startRecording first".into(),
            });
        };
        self.adb(adb::stop_screenrecord_args(&self.serial))
            .run_unchecked_async(TIMEOUT)
            .await?;
        let ended = bg.finish(Duration::from_secs(15)).await;
        let read = self
            .adb(adb::cat_args(&self.serial, adb::RECORDING_PATH))
            .run_async(LAUNCH_TIMEOUT)
            .await;
        if let Err(e) = self
            .adb(adb::rm_args(&self.serial, adb::RECORDING_PATH))
            .run_async(TIMEOUT)
            .await
        {
            tracing::warn!("could not delete {} on {}: {e}", adb::RECORDING_PATH, self.serial);
        }
        ended?;
        let bytes = read?.stdout;
        if !adb::is_mp4(&bytes) {
            return Err(HostError::Parse {
                command: format!("adb -s {} exec-out cat {}", self.serial, adb::RECORDING_PATH),
                what: format!("screenrecord left no MP4 ({} bytes)", bytes.len()),
            }
            .into());
        }
        Ok(Recording {
            bytes,
            extension: "mp4",
        })
    }

    async fn logs(&mut self) -> Result<Vec<String>, DriverError> {
        Ok(self.log.as_ref().map(LineStream::drain).unwrap_or_default())
    }

    async fn quit(self: Box<Self>) -> Result<(), DriverError> {
        // Dropping the log stream stops `adb logcat`; the app is left as the flow left it.
        Ok(())
    }
}
