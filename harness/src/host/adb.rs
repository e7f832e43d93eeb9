//! `adb` (reference §2.1): argv builders and parsers for the outputs the harness reads.
//!
//! Builders return the arguments for the `adb` program, serial first; every device-side
//! argument is quoted with [`shell_quote`](super::command::shell_quote), because `adb shell`
//! and `adb exec-out` join their arguments into one line for the device's shell.

use super::command::{HostError, adb_exec_out_args, adb_shell_args};

/// Where expo-secure-store keeps its SharedPreferences, relative to the app data dir.
pub const SECURE_STORE_PREFS: &str = "shared_prefs/SecureStore.xml";

/// The state column of `adb devices -l`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdbState {
    Device,
    Offline,
    Unauthorized,
    /// Anything else (`no permissions …`, `recovery`, `sideload`, `bootloader`, …), verbatim.
    Other(String),
}

impl AdbState {
    fn parse(s: &str) -> AdbState {
        match s {
            "device" => AdbState::Device,
            "offline" => AdbState::Offline,
            "unauthorized" => AdbState::Unauthorized,
            other => AdbState::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            AdbState::Device => "device",
            AdbState::Offline => "offline",
            AdbState::Unauthorized => "unauthorized",
            AdbState::Other(s) => s,
        }
    }
}

/// One line of `adb devices -l`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdbDevice {
    pub serial: String,
    pub state: AdbState,
    pub model: Option<String>,
    pub product: Option<String>,
    pub device: Option<String>,
    pub transport_id: Option<String>,
}

impl AdbDevice {
    /// Emulators have serials `emulator-<port>`.
    pub fn is_emulator(&self) -> bool {
        self.serial.starts_with("emulator-")
    }
}

const DEVICE_KEYS: &[&str] = &["usb:", "product:", "model:", "device:", "transport_id:", "features:"];

/// Parses `adb devices -l`. Daemon start-up chatter (`* daemon …`) is skipped.
pub fn parse_devices(output: &str) -> Result<Vec<AdbDevice>, HostError> {
    let mut seen_header = false;
    let mut devices = Vec::new();
    for line in output.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() || line.starts_with("* ") || line.starts_with("adb server") {
            continue;
        }
        if line.starts_with("List of devices attached") {
            seen_header = true;
            continue;
        }
        if !seen_header {
            continue;
        }
        let mut words = line.split_whitespace();
        let Some(serial) = words.next() else { continue };
        let rest: Vec<&str> = words.collect();
        let state_end = rest
            .iter()
            .position(|w| DEVICE_KEYS.iter().any(|k| w.starts_with(k)))
            .unwrap_or(rest.len());
        if state_end == 0 {
            return Err(parse_err(
                "adb devices -l",
                format!("no state for {serial:?} in line {line:?}"),
            ));
        }
        let state_text = rest[..state_end].join(" ");
        let state = if state_text.starts_with("no permissions") {
            AdbState::Other("no permissions".to_string())
        } else {
            AdbState::parse(&state_text)
        };
        let mut dev = AdbDevice {
            serial: serial.to_string(),
            state,
            model: None,
            product: None,
            device: None,
            transport_id: None,
        };
        for word in &rest[state_end..] {
            if let Some((key, value)) = word.split_once(':') {
                let slot = match key {
                    "model" => &mut dev.model,
                    "product" => &mut dev.product,
                    "device" => &mut dev.device,
                    "transport_id" => &mut dev.transport_id,
                    _ => continue,
                };
                *slot = Some(value.to_string());
            }
        }
        devices.push(dev);
    }
    if !seen_header {
        return Err(parse_err(
            "adb devices -l",
            format!("no \"List of devices attached\" header in {output:?}"),
        ));
    }
    Ok(devices)
}

/// What `am start -W` reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartResult {
    /// `ok` or `timeout`.
    pub status: String,
    /// `COLD`, `WARM`, `HOT`, … (absent on older Android).
    pub launch_state: Option<String>,
    pub activity: Option<String>,
    pub total_time_ms: Option<u64>,
    pub wait_time_ms: Option<u64>,
}

/// Parses `am start -W` output. `Error:` lines and a missing `Status:` are errors.
pub fn parse_am_start(output: &str) -> Result<StartResult, HostError> {
    const CMD: &str = "am start -W";
    let mut status = None;
    let mut res = StartResult {
        status: String::new(),
        launch_state: None,
        activity: None,
        total_time_ms: None,
        wait_time_ms: None,
    };
    for line in output.lines().map(str::trim) {
        if line.starts_with("Error") {
            return Err(parse_err(CMD, format!("am reported an error: {output:?}")));
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        let ms = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| parse_err(CMD, format!("{key} is not a number of milliseconds: {v:?}")))
        };
        match key {
            "Status" => status = Some(value.to_string()),
            "LaunchState" => res.launch_state = Some(value.to_string()),
            "Activity" => res.activity = Some(value.to_string()),
            "TotalTime" => res.total_time_ms = Some(ms(value)?),
            "WaitTime" => res.wait_time_ms = Some(ms(value)?),
            _ => {}
        }
    }
    // A running app's task is brought to the front without a launch: no Status, no times.
    if status.is_none()
        && output.contains("Warning: Activity not started, its current task has been brought to the front")
    {
        status = Some("ok".to_string());
    }
    res.status = status.ok_or_else(|| parse_err(CMD, format!("no \"Status:\" line in {output:?}")))?;
    Ok(res)
}

/// Parses `pidof` output: the first pid, or `None` when it printed nothing (not running).
pub fn parse_pidof(output: &str) -> Option<u32> {
    output.split_whitespace().next().and_then(|w| w.parse().ok())
}

/// The path from `uiautomator dump`'s `UI hierchary dumped to: <path>` line (AOSP's spelling).
pub fn parse_uiautomator_dump(output: &str) -> Result<String, HostError> {
    output
        .lines()
        .find_map(|l| {
            let l = l.trim();
            l.strip_prefix("UI hierchary dumped to:")
                .or_else(|| l.strip_prefix("UI hierarchy dumped to:"))
        })
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            parse_err(
                "uiautomator dump",
                format!("no \"UI hierchary dumped to:\" line in {output:?}"),
            )
        })
}

/// Recognises `run-as` refusals in stdout or stderr text.
pub fn run_as_error(package: &str, text: &str) -> Option<HostError> {
    let line = text.lines().map(str::trim).find(|l| l.starts_with("run-as:"))?;
    if line.contains("not debuggable") {
        Some(HostError::NotDebuggable {
            package: package.to_string(),
            output: line.to_string(),
        })
    } else {
        Some(HostError::RunAs {
            package: package.to_string(),
            said: line.to_string(),
        })
    }
}

/// One `<string name="key">value</string>` entry of `SecureStore.xml` (entities decoded).
/// `value` is expo-secure-store's JSON envelope (§3.2), still encrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefEntry {
    pub key: String,
    pub value: String,
}

/// expo-secure-store entries as `(key, store, envelope)`: the pref name `<service>-<key>`
/// (`key_v1-__clerk_client_jwt`) gives the key and `SecureStore.xml:<service>`.
pub fn secure_store_entries(prefs: Vec<PrefEntry>) -> Vec<(String, String, String)> {
    prefs
        .into_iter()
        .map(|e| match e.key.split_once('-') {
            Some((service, key)) if !service.is_empty() && !key.is_empty() => {
                (key.to_string(), format!("SecureStore.xml:{service}"), e.value)
            }
            _ => (e.key, "SecureStore.xml".to_string(), e.value),
        })
        .collect()
}

/// Parses the output of `run-as PKG cat shared_prefs/SecureStore.xml`.
pub fn parse_secure_store(package: &str, output: &str) -> Result<Vec<PrefEntry>, HostError> {
    const CMD: &str = "run-as cat shared_prefs/SecureStore.xml";
    if let Some(err) = run_as_error(package, output) {
        return Err(err);
    }
    if !output.contains("<map") {
        return Err(parse_err(
            CMD,
            format!("not a SharedPreferences file (no <map>): {output:?}"),
        ));
    }
    let mut entries = Vec::new();
    let mut rest = output;
    while let Some(start) = rest.find("<string") {
        rest = &rest[start + "<string".len()..];
        let tag_end = rest
            .find('>')
            .ok_or_else(|| parse_err(CMD, "unterminated <string> tag".into()))?;
        let attrs = &rest[..tag_end];
        let name = attr(attrs, "name").ok_or_else(|| parse_err(CMD, format!("<string> without name: {attrs:?}")))?;
        let key = unescape(&name).map_err(|w| parse_err(CMD, w))?;
        if attrs.trim_end().ends_with('/') {
            entries.push(PrefEntry {
                key,
                value: String::new(),
            });
            rest = &rest[tag_end + 1..];
            continue;
        }
        rest = &rest[tag_end + 1..];
        let close = rest
            .find("</string>")
            .ok_or_else(|| parse_err(CMD, format!("no </string> for {key:?}")))?;
        let value = unescape(&rest[..close]).map_err(|w| parse_err(CMD, w))?;
        entries.push(PrefEntry { key, value });
        rest = &rest[close + "</string>".len()..];
    }
    Ok(entries)
}

/// The raw value of `name="…"` (or `name='…'`) in a tag's attribute text.
fn attr(attrs: &str, name: &str) -> Option<String> {
    let mut s = attrs;
    while let Some(i) = s.find(name) {
        let before_ok = i == 0 || s[..i].ends_with(char::is_whitespace);
        let after = s[i + name.len()..].trim_start();
        if before_ok && let Some(after) = after.strip_prefix('=') {
            let after = after.trim_start();
            let quote = after.chars().next()?;
            if quote == '"' || quote == '\'' {
                let body = &after[1..];
                return body.find(quote).map(|end| body[..end].to_string());
            }
        }
        s = &s[i + name.len()..];
    }
    None
}

/// Decodes the XML entities `&amp; &lt; &gt; &quot; &apos; &#N; &#xN;`.
fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find(';').ok_or_else(|| format!("unterminated entity in {s:?}"))?;
        let entity = &rest[1..end];
        let ch = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x").or_else(|| entity.strip_prefix("#X")) {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = entity.strip_prefix('#') {
                    dec.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| format!("unknown entity &{entity}; in {s:?}"))?
            }
        };
        out.push(ch);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn parse_err(command: &str, what: String) -> HostError {
    HostError::Parse {
        command: command.to_string(),
        what,
    }
}

/// `adb -s S devices -l` is not serial-specific: `["devices", "-l"]`.
pub fn devices_args() -> Vec<String> {
    vec!["devices".into(), "-l".into()]
}

/// `am force-stop PKG`.
pub fn force_stop_args(serial: &str, package: &str) -> Vec<String> {
    adb_shell_args(serial, &["am", "force-stop", package])
}

/// `pidof PKG` (exit 1 and no output when not running).
pub fn pidof_args(serial: &str, package: &str) -> Vec<String> {
    adb_shell_args(serial, &["pidof", package])
}

/// `pm clear PKG`: wipes app data including SecureStore.xml and its keystore key.
pub fn pm_clear_args(serial: &str, package: &str) -> Vec<String> {
    adb_shell_args(serial, &["pm", "clear", package])
}

/// `exec-out screencap -p`: PNG bytes on stdout.
pub fn screencap_args(serial: &str) -> Vec<String> {
    adb_exec_out_args(serial, &["screencap", "-p"])
}

/// `svc wifi enable|disable`.
pub fn svc_wifi_args(serial: &str, enable: bool) -> Vec<String> {
    adb_shell_args(serial, &["svc", "wifi", if enable { "enable" } else { "disable" }])
}

/// `svc data enable|disable`.
pub fn svc_data_args(serial: &str, enable: bool) -> Vec<String> {
    adb_shell_args(serial, &["svc", "data", if enable { "enable" } else { "disable" }])
}

/// `cmd package resolve-activity --brief PKG`: the launcher activity, printed as the last
/// line (`com.example/.MainActivity`) after a `priority=… preferredOrder=…` line.
pub fn resolve_activity_args(serial: &str, package: &str) -> Vec<String> {
    adb_shell_args(serial, &["cmd", "package", "resolve-activity", "--brief", package])
}

/// The component from `resolve-activity --brief` output; `None` when the package has no
/// launcher activity (`No activity found`) or is not installed.
pub fn parse_resolve_activity(output: &str) -> Option<String> {
    let last = output.lines().map(str::trim).rfind(|l| !l.is_empty())?;
    (last.contains('/') && !last.contains(' ')).then(|| last.to_string())
}

/// Starts the app as the launcher does (`-a MAIN -c LAUNCHER -f 0x10200000`: new task, reset
/// if needed, so a running app's task comes to the front) with `launchApp.arguments` as intent
/// extras typed as Maestro types them: `true` / `false` booleans (`--ez`), whole numbers ints
/// or longs (`--ei`, `--el`), decimals floats (`--ef`), each only when it reads back the same
/// (`0123` stays a string); anything else strings (`--es`).
pub fn am_start_with_extras_args(serial: &str, component: &str, extras: &[(String, String)]) -> Vec<String> {
    let mut argv: Vec<&str> = vec![
        "am",
        "start",
        "-W",
        "-a",
        "android.intent.action.MAIN",
        "-c",
        "android.intent.category.LAUNCHER",
        "-f",
        "0x10200000",
        "-n",
        component,
    ];
    for (key, value) in extras {
        let same = |text: String| &text == value;
        let flag = if value == "true" || value == "false" {
            "--ez"
        } else if value.parse::<i32>().is_ok_and(|n| same(n.to_string())) {
            "--ei"
        } else if value.parse::<i64>().is_ok_and(|n| same(n.to_string())) {
            "--el"
        } else if value.parse::<f32>().is_ok_and(|n| n.is_finite() && same(n.to_string())) {
            "--ef"
        } else {
            "--es"
        };
        argv.extend([flag, key.as_str(), value.as_str()]);
    }
    adb_shell_args(serial, &argv)
}

/// The runtime permissions behind a Maestro permission name (`camera`, `location`, …), or
/// `None` for a name Android has no runtime permission for.
pub fn android_permissions(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "camera" => &["android.permission.CAMERA"],
        "contacts" => &["android.permission.READ_CONTACTS", "android.permission.WRITE_CONTACTS"],
        "location" => &[
            "android.permission.ACCESS_FINE_LOCATION",
            "android.permission.ACCESS_COARSE_LOCATION",
        ],
        "microphone" => &["android.permission.RECORD_AUDIO"],
        "calendar" => &["android.permission.READ_CALENDAR", "android.permission.WRITE_CALENDAR"],
        "notifications" => &["android.permission.POST_NOTIFICATIONS"],
        "phone" => &["android.permission.CALL_PHONE", "android.permission.READ_PHONE_STATE"],
        "sms" => &["android.permission.SEND_SMS", "android.permission.READ_SMS"],
        "bluetooth" => &[
            "android.permission.BLUETOOTH_CONNECT",
            "android.permission.BLUETOOTH_SCAN",
        ],
        "storage" => &[
            "android.permission.READ_EXTERNAL_STORAGE",
            "android.permission.WRITE_EXTERNAL_STORAGE",
        ],
        "medialibrary" | "photos" => &[
            "android.permission.READ_MEDIA_IMAGES",
            "android.permission.READ_MEDIA_VIDEO",
            "android.permission.READ_MEDIA_AUDIO",
        ],
        _ => return None,
    })
}

/// Every Maestro permission name Android knows (what `all` stands for).
pub const ANDROID_PERMISSION_NAMES: [&str; 11] = [
    "camera",
    "contacts",
    "location",
    "microphone",
    "calendar",
    "notifications",
    "phone",
    "sms",
    "bluetooth",
    "storage",
    "medialibrary",
];

/// `pm grant PKG PERMISSION` or `pm revoke PKG PERMISSION`.
pub fn pm_permission_args(serial: &str, package: &str, permission: &str, grant: bool) -> Vec<String> {
    adb_shell_args(
        serial,
        &["pm", if grant { "grant" } else { "revoke" }, package, permission],
    )
}

/// Whether a `pm grant|revoke` refusal only says the app does not use this permission
/// ("has not requested permission", "not a changeable permission type").
pub fn is_permission_not_requested(text: &str) -> bool {
    text.contains("has not requested permission") || text.contains("not a changeable permission type")
}

/// Open a link in the app: `am start -W -a android.intent.action.VIEW -d URL PKG`.
pub fn view_args(serial: &str, url: &str, package: &str) -> Vec<String> {
    adb_shell_args(
        serial,
        &[
            "am",
            "start",
            "-W",
            "-a",
            "android.intent.action.VIEW",
            "-d",
            url,
            package,
        ],
    )
}

/// `input tap X Y`, or a press held `hold_ms` (`input swipe X Y X Y MS`).
pub fn input_press_args(serial: &str, x: i32, y: i32, hold_ms: u64) -> Vec<String> {
    let (x, y) = (x.to_string(), y.to_string());
    if hold_ms >= 300 {
        let ms = hold_ms.to_string();
        adb_shell_args(serial, &["input", "swipe", &x, &y, &x, &y, &ms])
    } else {
        adb_shell_args(serial, &["input", "tap", &x, &y])
    }
}

/// `input text TEXT` for one chunk of [`text_chunks`].
pub fn input_text_args(serial: &str, chunk: &str) -> Vec<String> {
    adb_shell_args(serial, &["input", "text", chunk])
}

/// Splits text for `input text`, which turns `%s` into a space: no chunk contains `%s`
/// (a chunk ends after each `%`). Only printable ASCII can be typed this way (`input` maps
/// characters through the virtual keyboard's key map); anything else is an error.
pub fn text_chunks(text: &str) -> Result<Vec<String>, HostError> {
    if let Some(c) = text.chars().find(|c| !(c.is_ascii_graphic() || *c == ' ')) {
        return Err(HostError::Untypeable { shown: Some(c) });
    }
    let mut chunks = vec![String::new()];
    for c in text.chars() {
        chunks.last_mut().expect("never empty").push(c);
        if c == '%' {
            chunks.push(String::new());
        }
    }
    chunks.retain(|c| !c.is_empty());
    Ok(chunks)
}

/// `input keyevent CODE…` (one process for all codes).
pub fn keyevent_args(serial: &str, codes: &[u32]) -> Vec<String> {
    let codes: Vec<String> = codes.iter().map(u32::to_string).collect();
    let mut argv = vec!["input", "keyevent"];
    argv.extend(codes.iter().map(String::as_str));
    adb_shell_args(serial, &argv)
}

/// Key codes used by the host backend (`android.view.KeyEvent`).
pub const KEYCODE_HOME: u32 = 3;
pub const KEYCODE_BACK: u32 = 4;
pub const KEYCODE_DEL: u32 = 67;
pub const KEYCODE_MOVE_END: u32 = 123;

/// `dumpsys activity activities` (the resumed activity tells which app is in front).
pub fn dumpsys_activities_args(serial: &str) -> Vec<String> {
    adb_shell_args(serial, &["dumpsys", "activity", "activities"])
}

/// Whether `package` holds the resumed (foreground) activity in `dumpsys activity activities`
/// output: a `mResumedActivity:` (Android ≤ 9), `ResumedActivity:` or `topResumedActivity=`
/// (Android 10+) line naming `ActivityRecord{… u0 PKG/…}`.
pub fn is_resumed(output: &str, package: &str) -> bool {
    let needle = format!(" {package}/");
    output.lines().map(str::trim_start).any(|l| {
        (l.starts_with("mResumedActivity") || l.starts_with("ResumedActivity") || l.starts_with("topResumedActivity"))
            && l.contains(&needle)
    })
}

/// `dumpsys input_method` (whether the soft keyboard is shown).
pub fn dumpsys_input_method_args(serial: &str) -> Vec<String> {
    adb_shell_args(serial, &["dumpsys", "input_method"])
}

/// Whether `dumpsys input_method` says the keyboard is shown (`mInputShown=true`).
pub fn is_keyboard_shown(output: &str) -> bool {
    output
        .split_whitespace()
        .any(|w| w == "mInputShown=true" || w == "mIsInputViewShown=true")
}

/// `uiautomator dump PATH`.
pub fn uiautomator_dump_to_args(serial: &str, path: &str) -> Vec<String> {
    adb_shell_args(serial, &["uiautomator", "dump", path])
}

/// `exec-out cat PATH` (raw bytes of a device file).
pub fn cat_args(serial: &str, path: &str) -> Vec<String> {
    adb_exec_out_args(serial, &["cat", path])
}

/// `exec-out run-as PKG cat shared_prefs/SecureStore.xml` (raw bytes; debuggable builds only).
pub fn read_secure_store_exec_out_args(serial: &str, package: &str) -> Vec<String> {
    adb_exec_out_args(serial, &["run-as", package, "cat", SECURE_STORE_PREFS])
}

/// `run-as PKG rm -f shared_prefs/SecureStore.xml`: deletes expo-secure-store's entries
/// (debuggable builds only; no error when there is no such file).
pub fn delete_secure_store_args(serial: &str, package: &str) -> Vec<String> {
    adb_shell_args(serial, &["run-as", package, "rm", "-f", SECURE_STORE_PREFS])
}

/// Follows the JS console log from `since` (UNIX seconds): `logcat -v threadtime -T SECS.mmm
/// ReactNativeJS:V *:S`.
pub fn logcat_follow_args(serial: &str, since_unix_ms: u64) -> Vec<String> {
    let since = format!("{}.{:03}", since_unix_ms / 1000, since_unix_ms % 1000);
    adb_shell_args(
        serial,
        &["logcat", "-v", "threadtime", "-T", &since, "ReactNativeJS:V", "*:S"],
    )
}

/// Whether `cat` / `run-as cat` said the file does not exist (the app never wrote it).
pub fn is_no_such_file(text: &str) -> bool {
    text.contains("No such file or directory")
}

/// `input swipe X1 Y1 X2 Y2 MS`: a drag in screen pixels.
pub fn input_swipe_args(serial: &str, from: (i32, i32), to: (i32, i32), duration_ms: u64) -> Vec<String> {
    let n = [from.0, from.1, to.0, to.1].map(|v| v.to_string());
    let ms = duration_ms.to_string();
    adb_shell_args(serial, &["input", "swipe", &n[0], &n[1], &n[2], &n[3], &ms])
}

/// `settings put system accelerometer_rotation 0`: the sensor no longer rotates the screen.
pub fn fixed_rotation_args(serial: &str) -> Vec<String> {
    adb_shell_args(serial, &["settings", "put", "system", "accelerometer_rotation", "0"])
}

/// `settings put system user_rotation N` (0 portrait, 1 landscape left, 2 upside down,
/// 3 landscape right), with the accelerometer off ([`fixed_rotation_args`]).
pub fn user_rotation_args(serial: &str, rotation: u8) -> Vec<String> {
    adb_shell_args(
        serial,
        &["settings", "put", "system", "user_rotation", &rotation.to_string()],
    )
}

/// `adb -s SERIAL emu geo fix LONGITUDE LATITUDE` (longitude first): the emulator console's
/// GPS fix. Not a shell command: adb passes the words to the emulator console as they are.
pub fn geo_fix_args(serial: &str, latitude: f64, longitude: f64) -> Vec<String> {
    vec![
        "-s".into(),
        serial.into(),
        "emu".into(),
        "geo".into(),
        "fix".into(),
        longitude.to_string(),
        latitude.to_string(),
    ]
}

/// Whether `adb emu` output reports a refusal (`KO: …`); the console answers `OK` otherwise.
pub fn emu_refusal(output: &str) -> Option<String> {
    output
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("KO"))
        .map(str::to_string)
}

/// `cmd connectivity airplane-mode [enable|disable]` (Android 11+); without a value it prints
/// `enabled` or `disabled`.
pub fn airplane_mode_args(serial: &str, set: Option<bool>) -> Vec<String> {
    let mut argv = vec!["cmd", "connectivity", "airplane-mode"];
    if let Some(on) = set {
        argv.push(if on { "enable" } else { "disable" });
    }
    adb_shell_args(serial, &argv)
}

/// Reads `cmd connectivity airplane-mode`: `enabled` or `disabled`.
pub fn parse_airplane_mode(output: &str) -> Result<bool, HostError> {
    match output.trim() {
        "enabled" => Ok(true),
        "disabled" => Ok(false),
        other => Err(parse_err(
            "cmd connectivity airplane-mode",
            format!("expected \"enabled\" or \"disabled\", got {other:?}"),
        )),
    }
}

/// `cmd uimode night [yes|no]`; without a value it prints `Night mode: yes|no|auto|custom`.
pub fn night_mode_args(serial: &str, set: Option<bool>) -> Vec<String> {
    let mut argv = vec!["cmd", "uimode", "night"];
    if let Some(dark) = set {
        argv.push(if dark { "yes" } else { "no" });
    }
    adb_shell_args(serial, &argv)
}

/// Reads `Night mode: yes|no` (from `cmd uimode night`, through adb or Appium's `mobile:
/// shell`). `auto` and `custom` follow the time of day: neither dark nor light for sure.
pub fn parse_night_mode(output: &str) -> Result<bool, HostError> {
    let value = output
        .lines()
        .find_map(|l| l.trim().strip_prefix("Night mode:"))
        .map(str::trim);
    match value {
        Some("yes") => Ok(true),
        Some("no") => Ok(false),
        Some(other) => Err(parse_err(
            "cmd uimode night",
            format!("night mode is {other:?}, which follows the time of day: set it with setDarkMode first"),
        )),
        None => Err(parse_err(
            "cmd uimode night",
            format!("no \"Night mode:\" line in {output:?}"),
        )),
    }
}

/// Where `addMedia` puts files on Android: the gallery's Pictures folder.
pub const MEDIA_DIR: &str = "/sdcard/Pictures";

/// `adb -s SERIAL push LOCAL REMOTE`: a file transfer, not a shell command (both paths are
/// taken literally).
pub fn push_args(serial: &str, local: &str, remote: &str) -> Vec<String> {
    vec!["-s".into(), serial.into(), "push".into(), local.into(), remote.into()]
}

/// `am broadcast -a android.intent.action.MEDIA_SCANNER_SCAN_FILE -d file://PATH`: the
/// media scanner adds a pushed file to the gallery.
pub fn media_scan_args(serial: &str, remote: &str) -> Vec<String> {
    let uri = format!("file://{}", percent_encode_path(remote));
    adb_shell_args(
        serial,
        &[
            "am",
            "broadcast",
            "-a",
            "android.intent.action.MEDIA_SCANNER_SCAN_FILE",
            "-d",
            &uri,
        ],
    )
}

/// A path as a URI path: bytes other than unreserved characters and `/` percent-encoded.
fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where `screenrecord` writes on the device while recording.
pub const RECORDING_PATH: &str = "/sdcard/harness-rec.mp4";

/// `screenrecord --time-limit 180 PATH` (180 s is screenrecord's longest).
pub fn screenrecord_args(serial: &str, path: &str) -> Vec<String> {
    adb_shell_args(serial, &["screenrecord", "--time-limit", "180", path])
}

/// `pidof screenrecord`: whether a recording runs.
pub fn pidof_screenrecord_args(serial: &str) -> Vec<String> {
    adb_shell_args(serial, &["pidof", "screenrecord"])
}

/// `pkill -INT screenrecord`: ends a recording as Ctrl-C does, so it finishes its file.
pub fn stop_screenrecord_args(serial: &str) -> Vec<String> {
    adb_shell_args(serial, &["pkill", "-INT", "screenrecord"])
}

/// `rm -f PATH` on the device.
pub fn rm_args(serial: &str, path: &str) -> Vec<String> {
    adb_shell_args(serial, &["rm", "-f", path])
}

/// Whether bytes are an MP4 / QuickTime file (an `ftyp` box first).
pub fn is_mp4(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && &bytes[4..8] == b"ftyp"
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEVICES: &str = include_str!("../../tests/fixtures/host/adb-devices-l.txt");
    const AM_START: &str = include_str!("../../tests/fixtures/host/am-start-W.txt");
    const AM_START_OLD: &str = include_str!("../../tests/fixtures/host/am-start-W-old.txt");
    const DUMP: &str = include_str!("../../tests/fixtures/host/uiautomator-dump.txt");
    const PIDOF: &str = include_str!("../../tests/fixtures/host/pidof.txt");
    const PREFS: &str = include_str!("../../tests/fixtures/host/SecureStore.xml");
    const NOT_DEBUGGABLE: &str = include_str!("../../tests/fixtures/host/run-as-not-debuggable.txt");

    #[test]
    fn devices_fixture() {
        let d = parse_devices(DEVICES).unwrap();
        assert_eq!(d.len(), 4);
        assert_eq!(
            d[0],
            AdbDevice {
                serial: "emulator-5554".into(),
                state: AdbState::Device,
                model: Some("sdk_gphone64_x86_64".into()),
                product: Some("sdk_gphone64_x86_64".into()),
                device: Some("emu64xa".into()),
                transport_id: Some("1".into()),
            }
        );
        assert!(d[0].is_emulator());
        assert_eq!(d[1].state, AdbState::Unauthorized);
        assert_eq!(d[1].model, None);
        assert_eq!(d[1].transport_id.as_deref(), Some("3"));
        assert!(!d[1].is_emulator());
        assert_eq!(d[2].state, AdbState::Offline);
        assert_eq!(d[3].state.as_str(), "no permissions");
        assert_eq!(d[3].transport_id.as_deref(), Some("4"));
    }

    #[test]
    fn devices_edge_cases() {
        let with_daemon = "* daemon not running; starting now at tcp:5037\n* daemon started successfully\nList of devices attached\n\n";
        assert_eq!(parse_devices(with_daemon).unwrap(), vec![]);
        let err = parse_devices("error: cannot connect to daemon").unwrap_err();
        assert!(err.to_string().contains("List of devices attached"), "{err}");
    }

    #[test]
    fn am_start_fixtures() {
        let r = parse_am_start(AM_START).unwrap();
        assert_eq!(
            r,
            StartResult {
                status: "ok".into(),
                launch_state: Some("COLD".into()),
                activity: Some("com.example.clerkexpo/.MainActivity".into()),
                total_time_ms: Some(5308),
                wait_time_ms: Some(5320),
            }
        );
        let old = parse_am_start(AM_START_OLD).unwrap();
        assert_eq!(old.launch_state, None);
        assert_eq!(old.total_time_ms, Some(812));
        assert_eq!(old.wait_time_ms, Some(830));
        let timeout = parse_am_start("Status: timeout\nActivity: a/.B\nWaitTime: 10000\nComplete\n").unwrap();
        assert_eq!(timeout.status, "timeout");
        assert_eq!(timeout.total_time_ms, None);
        let err = parse_am_start(
            "Starting: Intent { cmp=a/.B }\nError type 3\nError: Activity class {a/a.B} does not exist.\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        assert!(parse_am_start("").is_err());
    }

    #[test]
    fn pidof_fixture() {
        assert_eq!(parse_pidof(PIDOF), Some(12345));
        assert_eq!(parse_pidof(""), None);
        assert_eq!(parse_pidof("\n"), None);
        assert_eq!(parse_pidof("4242 4243\n"), Some(4242));
    }

    #[test]
    fn uiautomator_fixture() {
        assert_eq!(parse_uiautomator_dump(DUMP).unwrap(), "/sdcard/window_dump.xml");
        let err = parse_uiautomator_dump("ERROR: could not get idle state.\n").unwrap_err();
        assert!(err.to_string().contains("could not get idle state"), "{err}");
    }

    #[test]
    fn secure_store_fixture() {
        let entries = parse_secure_store("com.example.clerkexpo", PREFS).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].key, "key_v1-__clerk_client_jwt");
        let envelope: serde_json::Value = serde_json::from_str(&entries[0].value).unwrap();
        assert_eq!(envelope["scheme"], "aes");
        assert_eq!(envelope["keystoreAlias"], "key_v1");
        assert_eq!(envelope["tlen"], 128);
        assert_eq!(
            entries[1],
            PrefEntry {
                key: "key_v1-a&b <odd>".into(),
                value: "AB'".into()
            }
        );
        assert_eq!(
            entries[2],
            PrefEntry {
                key: "empty".into(),
                value: String::new()
            }
        );
        assert_eq!(parse_secure_store("p", "<map />\n").unwrap(), vec![]);
        assert!(parse_secure_store("p", "cat: shared_prefs/SecureStore.xml: No such file or directory").is_err());
        assert!(parse_secure_store("p", "<map><string name=\"k\">&bogus;</string></map>").is_err());
    }

    #[test]
    fn not_debuggable_says_so() {
        let err = parse_secure_store("com.example.clerkexpo", NOT_DEBUGGABLE).unwrap_err();
        assert!(matches!(err, HostError::NotDebuggable { .. }), "{err:?}");
        assert!(err.to_string().contains("the build must be debuggable"), "{err}");
        let other = run_as_error("p", "run-as: unknown package: p\n").unwrap();
        assert_eq!(other.to_string(), "`run-as p` refused: run-as: unknown package: p");
        assert!(other.hint().unwrap().contains("install the app"), "{other}");
    }

    #[test]
    fn builders_quote_every_device_argument() {
        let s = "emulator-5554";
        assert_eq!(
            force_stop_args(s, "com.x"),
            vec!["-s", s, "shell", "'am' 'force-stop' 'com.x'"]
        );
        assert_eq!(pidof_args(s, "com.x")[3], "'pidof' 'com.x'");
        assert_eq!(pm_clear_args(s, "com.x")[3], "'pm' 'clear' 'com.x'");
        assert_eq!(screencap_args(s), vec!["-s", s, "exec-out", "'screencap' '-p'"]);
        assert_eq!(
            uiautomator_dump_to_args(s, "/sdcard/window_dump.xml")[3],
            "'uiautomator' 'dump' '/sdcard/window_dump.xml'"
        );
        assert_eq!(
            logcat_follow_args(s, 1_700_000_000_042)[3],
            "'logcat' '-v' 'threadtime' '-T' '1700000000.042' 'ReactNativeJS:V' '*:S'"
        );
        assert_eq!(svc_wifi_args(s, false)[3], "'svc' 'wifi' 'disable'");
        assert_eq!(svc_wifi_args(s, true)[3], "'svc' 'wifi' 'enable'");
        assert_eq!(svc_data_args(s, false)[3], "'svc' 'data' 'disable'");
        assert_eq!(keyevent_args(s, &[KEYCODE_HOME])[3], "'input' 'keyevent' '3'");
        assert_eq!(
            read_secure_store_exec_out_args(s, "com.x"),
            vec![
                "-s",
                s,
                "exec-out",
                "'run-as' 'com.x' 'cat' 'shared_prefs/SecureStore.xml'"
            ]
        );
        assert_eq!(force_stop_args(s, "x; reboot")[3], "'am' 'force-stop' 'x; reboot'");
        assert_eq!(devices_args(), vec!["devices", "-l"]);
    }
}

/// The parsers over real outputs collected from public sources
/// (`tests/fixtures/host/real/ORIGINS.md` says where each comes from).
#[cfg(test)]
mod real_output_tests {
    use super::*;

    macro_rules! real {
        ($name:literal) => {
            include_str!(concat!("../../tests/fixtures/host/real/", $name))
        };
    }

    #[test]
    fn devices() {
        let d = parse_devices(real!("adb-devices-l-emulator.txt")).unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].serial, "emulator-5554");
        assert_eq!(d[0].state, AdbState::Device);
        assert_eq!(d[0].model.as_deref(), Some("sdk_gphone64_arm64"));
        assert_eq!(d[0].transport_id.as_deref(), Some("1"));
        assert!(d[0].is_emulator());
        let d = parse_devices(real!("adb-devices-emulator-offline.txt")).unwrap();
        assert_eq!(d[0].state, AdbState::Offline);
        let d = parse_devices(real!("adb-devices-offline-and-online-spaces.txt")).unwrap();
        assert_eq!(
            d.iter()
                .map(|d| (d.serial.as_str(), d.state.as_str()))
                .collect::<Vec<_>>(),
            vec![("emulator-5554", "offline"), ("emulator-5556", "device")]
        );
    }

    #[test]
    fn am_start_shapes() {
        let modern = parse_am_start(real!("am-start-W-modern-encapp.txt")).unwrap();
        assert_eq!(modern.status, "ok");
        assert_eq!(modern.launch_state.as_deref(), Some("COLD"));
        assert_eq!((modern.total_time_ms, modern.wait_time_ms), (Some(1479), Some(1482)));
        let old = parse_am_start(real!("am-start-W-old-thistime.txt")).unwrap();
        assert_eq!((old.launch_state, old.total_time_ms), (None, Some(2144)));
        let timeout = parse_am_start(real!("am-start-W-timeout-rn-expo.txt")).unwrap();
        assert_eq!(timeout.status, "timeout");
        assert_eq!(timeout.launch_state.as_deref(), Some("UNKNOWN (-1)"));
        assert_eq!((timeout.total_time_ms, timeout.wait_time_ms), (None, Some(11639)));
        let front = parse_am_start(real!("am-start-warning-brought-to-front.txt")).unwrap();
        assert_eq!((front.status.as_str(), front.total_time_ms), ("ok", None));
    }

    #[test]
    fn launcher_activity() {
        assert_eq!(
            parse_resolve_activity(real!("resolve-activity-brief.txt")).as_deref(),
            Some("com.oplus.camera/.Camera")
        );
        assert_eq!(
            parse_resolve_activity(real!("resolve-activity-brief-firetv-home.txt")).as_deref(),
            Some("com.amazon.firelauncher/.Launcher")
        );
        assert_eq!(
            parse_resolve_activity(real!("resolve-activity-brief-not-found.txt")),
            None
        );
        assert_eq!(parse_resolve_activity(""), None);
    }

    #[test]
    fn foreground_activity() {
        let qq = real!("dumpsys-activity-ResumedActivity-grep-qq.txt");
        assert!(is_resumed(qq, "com.tencent.mobileqq"));
        assert!(!is_resumed(qq, "com.tencent"));
        let old = real!("dumpsys-activity-activities-android5-xtc.txt");
        assert!(is_resumed(old, "com.xtc.watch"));
        // `Hist #0:` and ProcessRecord lines name the package too, but are not the resumed one.
        assert!(!is_resumed(
            "        Hist #0: ActivityRecord{1e44eb8 u0 com.x/.A t653}",
            "com.x"
        ));
        assert!(is_resumed(
            "    topResumedActivity=ActivityRecord{9a1 u0 com.x/.MainActivity t12}",
            "com.x"
        ));
    }

    #[test]
    fn run_as_refusals() {
        for text in [
            real!("run-as-not-debuggable-modern.txt"),
            real!("run-as-not-debuggable-old.txt"),
        ] {
            let e = run_as_error("com.x", text).unwrap();
            assert!(matches!(e, HostError::NotDebuggable { .. }), "{e:?}");
            assert!(e.to_string().contains("debuggable"), "{e}");
        }
    }

    #[test]
    fn dump_lines() {
        assert_eq!(
            parse_uiautomator_dump(real!("uiautomator-dump-stdout.txt")).unwrap(),
            "/sdcard/window_dump.xml"
        );
        assert_eq!(
            parse_uiautomator_dump(real!("uiautomator-dump-stdout-legacy-path.txt")).unwrap(),
            "/storage/emulated/legacy/window_dump.xml"
        );
    }

    #[test]
    fn real_ui_dumps_read_as_uiautomator_trees() {
        use crate::driver::hierarchy::{SourceFormat, parse_source_with_format};
        for (xml, expect) in [
            (real!("uiautomator-dump-rn-expo-familyhub.xml"), ", Home"),
            (real!("uiautomator-dump-rn-expo-familyhub-settings.xml"), ""),
            (real!("uiautomator-dump-native-saucelabs-demo.xml"), ""),
        ] {
            let (format, root) = parse_source_with_format(xml).unwrap();
            assert_eq!(format, SourceFormat::UiAutomator2);
            let all = root.descendants();
            assert!(all.len() > 10, "{}", all.len());
            assert!(!root.bounds.is_empty());
            assert!(
                all.iter()
                    .all(|e| e.class.starts_with("android.") || e.class == "hierarchy" || e.class.contains('.'))
            );
            if !expect.is_empty() {
                // RN builds the tab's content-desc from its children: an icon-font glyph, then ", Home".
                let tab = all
                    .iter()
                    .find(|e| e.accessibility.ends_with(expect))
                    .expect("the Home tab");
                assert!(!tab.bounds.is_empty() && root.bounds.contains(tab.bounds.center().0, tab.bounds.center().1));
            }
        }
    }

    #[test]
    fn typed_text_chunks() {
        assert_eq!(text_chunks("a b").unwrap(), vec!["a b"]);
        assert_eq!(text_chunks("50%sale").unwrap(), vec!["50%", "sale"]);
        assert_eq!(text_chunks("%%s").unwrap(), vec!["%", "%", "s"]);
        assert!(text_chunks("").unwrap().is_empty());
        assert!(
            text_chunks("héllo")
                .unwrap_err()
                .to_string()
                .contains("printable ASCII")
        );
        assert!(text_chunks("a\nb").is_err());
    }

    #[test]
    fn keyboard_state() {
        assert!(is_keyboard_shown("  mInputShown=true mShowRequested=true"));
        assert!(!is_keyboard_shown("  mInputShown=false"));
    }

    #[test]
    fn prefs_to_entries() {
        let e = secure_store_entries(vec![
            PrefEntry {
                key: "key_v1-__clerk_client_jwt".into(),
                value: "{}".into(),
            },
            PrefEntry {
                key: "legacy".into(),
                value: "x".into(),
            },
        ]);
        assert_eq!(
            e[0],
            (
                "__clerk_client_jwt".into(),
                "SecureStore.xml:key_v1".into(),
                "{}".into()
            )
        );
        assert_eq!(e[1], ("legacy".into(), "SecureStore.xml".into(), "x".into()));
    }

    #[test]
    fn device_errors_have_hints() {
        for text in [
            real!("adb-error-device-offline-modern.txt"),
            real!("adb-error-device-offline-old.txt"),
        ] {
            let e = HostError::Failed {
                command: "adb -s emulator-5554 shell pidof x".into(),
                status: Some(1),
                stderr: text.into(),
            };
            assert!(e.hint().unwrap().contains("offline"), "{text}");
        }
    }
}

#[cfg(test)]
mod permission_tests {
    use super::*;

    #[test]
    fn extras_are_typed_like_maestro() {
        let args = am_start_with_extras_args(
            "emulator-5554",
            "com.x/.Main",
            &[
                ("isE2E".into(), "true".into()),
                ("retries".into(), "3".into()),
                ("ratio".into(), "0.5".into()),
                ("env".into(), "stag ing; $(id)".into()),
            ],
        );
        assert_eq!(
            args[3],
            "'am' 'start' '-W' '-a' 'android.intent.action.MAIN' '-c' 'android.intent.category.LAUNCHER' \
             '-f' '0x10200000' '-n' 'com.x/.Main' '--ez' 'isE2E' 'true' '--ei' 'retries' '3' \
             '--ef' 'ratio' '0.5' '--es' 'env' 'stag ing; $(id)'"
        );
        let typed = |v: &str| am_start_with_extras_args("s", "c/.M", &[("k".into(), v.into())])[3].clone();
        assert!(typed("0123").contains("'--es' 'k' '0123'"));
        assert!(typed("9000000000").contains("'--el' 'k' '9000000000'"));
        assert!(
            typed("3.14159265358979").contains("'--es'"),
            "a float that would lose digits stays text"
        );
        assert!(typed("1e3").contains("'--es'"));
    }

    #[test]
    fn permission_names() {
        assert_eq!(android_permissions("camera"), Some(&["android.permission.CAMERA"][..]));
        assert_eq!(android_permissions("location").map(<[_]>::len), Some(2));
        assert_eq!(android_permissions("siri"), None);
        assert!(
            ANDROID_PERMISSION_NAMES
                .iter()
                .all(|n| android_permissions(n).is_some())
        );
        assert_eq!(
            pm_permission_args("s", "com.x", "android.permission.CAMERA", false)[3],
            "'pm' 'revoke' 'com.x' 'android.permission.CAMERA'"
        );
        assert!(is_permission_not_requested(
            "java.lang.SecurityException: Package com.x has not requested permission android.permission.CAMERA"
        ));
    }
}
