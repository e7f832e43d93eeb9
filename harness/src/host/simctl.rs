//! `xcrun simctl` (reference §2.2): argv builders and parsers.
//!
//! Builders return the arguments for the `xcrun` program (starting with `simctl`). Values are
//! passed as separate argv entries or, for the app's environment, as `SIMCTL_CHILD_*` pairs for
//! [`Cmd::with_env`](super::command::Cmd::with_env); nothing is interpolated into a shell string.

use super::command::HostError;

/// The prefix simctl strips from host environment variables to pass them to the launched app.
pub const SIMCTL_ENV_PREFIX: &str = "SIMCTL_CHILD_";

/// os_log subsystem of React Native's JS console output (`RCTLog.mm`).
pub const RN_LOG_SUBSYSTEM: &str = "com.facebook.react.log";

/// One simulator from `xcrun simctl list -j devices`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Simulator {
    pub udid: String,
    pub name: String,
    /// `Booted`, `Shutdown`, `Booting`, …
    pub state: String,
    /// Human form of the runtime key, e.g. `iOS 18.2`.
    pub runtime: String,
    pub is_available: bool,
    /// The device's data directory (`dataPath`, given by current Xcodes), where its keychain
    /// lives; `None` when the listing has no such field.
    pub data_path: Option<String>,
}

/// `com.apple.CoreSimulator.SimRuntime.iOS-18-2` → `iOS 18.2`; unknown shapes are returned as is.
pub fn runtime_name(key: &str) -> String {
    let Some(short) = key.strip_prefix("com.apple.CoreSimulator.SimRuntime.") else {
        return key.to_string();
    };
    match short.split_once('-') {
        Some((os, version)) if !os.is_empty() && !version.is_empty() => format!("{os} {}", version.replace('-', ".")),
        _ => short.to_string(),
    }
}

/// Parses `xcrun simctl list -j devices`.
pub fn parse_list(json: &str) -> Result<Vec<Simulator>, HostError> {
    const CMD: &str = "xcrun simctl list -j devices";
    let err = |what: String| HostError::Parse {
        command: CMD.to_string(),
        what,
    };
    let value: serde_json::Value = serde_json::from_str(json).map_err(|source| HostError::Json {
        command: CMD.to_string(),
        source,
    })?;
    let runtimes = value
        .get("devices")
        .and_then(|d| d.as_object())
        .ok_or_else(|| err("no \"devices\" object".to_string()))?;
    let mut sims = Vec::new();
    for (key, list) in runtimes {
        let list = list
            .as_array()
            .ok_or_else(|| err(format!("devices of {key} is not an array")))?;
        for dev in list {
            let field = |name: &str| {
                dev.get(name)
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
                    .ok_or_else(|| err(format!("a device of {key} has no string \"{name}\"")))
            };
            sims.push(Simulator {
                udid: field("udid")?,
                name: field("name")?,
                state: field("state")?,
                runtime: runtime_name(key),
                is_available: dev.get("isAvailable").and_then(|v| v.as_bool()).unwrap_or(false),
                data_path: dev.get("dataPath").and_then(|v| v.as_str()).map(str::to_string),
            });
        }
    }
    Ok(sims)
}

/// Parses `simctl launch` output `<bundleId>: <pid>` into the pid.
pub fn parse_launch_pid(output: &str) -> Result<u32, HostError> {
    output
        .lines()
        .rev()
        .find_map(|l| l.trim().rsplit_once(": ").and_then(|(_, pid)| pid.trim().parse().ok()))
        .ok_or_else(|| HostError::Parse {
            command: "xcrun simctl launch".to_string(),
            what: format!("no \"<bundleId>: <pid>\" line in {output:?}"),
        })
}

fn simctl(args: &[&str]) -> Vec<String> {
    std::iter::once("simctl")
        .chain(args.iter().copied())
        .map(str::to_string)
        .collect()
}

/// `list -j devices`.
pub fn list_args() -> Vec<String> {
    simctl(&["list", "-j", "devices"])
}

/// `boot UDID`.
pub fn boot_args(udid: &str) -> Vec<String> {
    simctl(&["boot", udid])
}

/// `bootstatus UDID -b`: blocks until booted (boots if needed).
pub fn bootstatus_args(udid: &str) -> Vec<String> {
    simctl(&["bootstatus", udid, "-b"])
}

/// `launch [--terminate-running-process] UDID BUNDLE [argv…]`; prints `<bundleId>: <pid>`.
pub fn launch_args(udid: &str, bundle_id: &str, terminate_running: bool, app_args: &[&str]) -> Vec<String> {
    let mut args = simctl(&["launch"]);
    if terminate_running {
        args.push("--terminate-running-process".to_string());
    }
    args.extend([udid, bundle_id].iter().chain(app_args).map(|s| s.to_string()));
    args
}

/// The app's launch environment as `SIMCTL_CHILD_<name>` pairs for the `xcrun` process.
/// Names must be non-empty and contain no `=` or NUL; values must contain no NUL.
pub fn launch_env(vars: &[(&str, &str)]) -> Result<Vec<(String, String)>, HostError> {
    vars.iter()
        .map(|(name, value)| {
            if name.is_empty() || name.contains(['=', '\0']) || value.contains('\0') {
                return Err(HostError::Invalid {
                    what: format!("environment variable {name:?} cannot be passed"),
                });
            }
            Ok((format!("{SIMCTL_ENV_PREFIX}{name}"), value.to_string()))
        })
        .collect()
}

/// `terminate UDID BUNDLE`.
pub fn terminate_args(udid: &str, bundle_id: &str) -> Vec<String> {
    simctl(&["terminate", udid, bundle_id])
}

/// `openurl UDID URL`.
pub fn openurl_args(udid: &str, url: &str) -> Vec<String> {
    simctl(&["openurl", udid, url])
}

/// `keychain UDID reset`: wipes the whole simulator keychain.
pub fn keychain_reset_args(udid: &str) -> Vec<String> {
    simctl(&["keychain", udid, "reset"])
}

/// `spawn UDID launchctl list`: the simulator's launchd jobs (apps are
/// `UIKitApplication:<bundleId>[…]`).
pub fn launchctl_list_args(udid: &str) -> Vec<String> {
    simctl(&["spawn", udid, "launchctl", "list"])
}

/// The pid of `bundle_id` in `launchctl list` output (`PID<TAB>Status<TAB>Label` lines; a
/// job without a process has `-` as its pid), or `None` when it does not run.
pub fn parse_launchctl_pid(output: &str, bundle_id: &str) -> Option<u32> {
    let prefix = format!("UIKitApplication:{bundle_id}[");
    output.lines().find_map(|line| {
        let mut cols = line.split('\t');
        let pid = cols.next()?.trim();
        let _status = cols.next()?;
        let label = cols.next()?.trim();
        if label.starts_with(&prefix) {
            pid.parse().ok()
        } else {
            None
        }
    })
}

/// Whether a failed `simctl terminate` only means the app was not running.
pub fn is_nothing_to_terminate(stderr: &str) -> bool {
    stderr.contains("found nothing to terminate")
}

/// `io UDID screenshot --type=png PATH`.
pub fn screenshot_png_args(udid: &str, path: &str) -> Vec<String> {
    simctl(&["io", udid, "screenshot", "--type=png", path])
}

/// The `simctl privacy` service for a Maestro permission name, or `None` when simctl has
/// none (`camera`, `notifications`, … need the app's own prompt or a real device).
pub fn privacy_service(name: &str) -> Option<&'static str> {
    Some(match name {
        "all" => "all",
        "calendar" => "calendar",
        "contacts" => "contacts",
        "location" => "location-always",
        "medialibrary" => "media-library",
        "microphone" => "microphone",
        "motion" => "motion",
        "photos" => "photos",
        "reminders" => "reminders",
        "siri" => "siri",
        _ => return None,
    })
}

/// `privacy UDID grant|revoke|reset SERVICE BUNDLE` ("some permission changes will
/// terminate the application").
pub fn privacy_args(udid: &str, action: &str, service: &str, bundle_id: &str) -> Vec<String> {
    simctl(&["privacy", udid, action, service, bundle_id])
}

/// `shutdown UDID`.
pub fn shutdown_args(udid: &str) -> Vec<String> {
    simctl(&["shutdown", udid])
}

/// Quotes a string literal for an NSPredicate.
fn predicate_literal(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The NSPredicate selecting React Native JS logs, optionally of one executable.
pub fn js_log_predicate(process: Option<&str>) -> String {
    let mut p = format!(
        "subsystem == {} AND category == {}",
        predicate_literal(RN_LOG_SUBSYSTEM),
        predicate_literal("javascript")
    );
    if let Some(process) = process {
        p.push_str(&format!(" AND process == {}", predicate_literal(process)));
    }
    p
}

/// `spawn UDID log stream --style compact --level debug --predicate <JS logs>` (runs until killed).
pub fn log_stream_args(udid: &str, process: Option<&str>) -> Vec<String> {
    let predicate = js_log_predicate(process);
    simctl(&[
        "spawn",
        udid,
        "log",
        "stream",
        "--style",
        "compact",
        "--level",
        "debug",
        "--predicate",
        &predicate,
    ])
}

/// `location UDID set LAT,LON`: the simulated location.
pub fn location_set_args(udid: &str, latitude: f64, longitude: f64) -> Vec<String> {
    simctl(&["location", udid, "set", &format!("{latitude},{longitude}")])
}

/// `ui UDID appearance [dark|light]`; without a value it prints `dark` or `light`.
pub fn appearance_args(udid: &str, set: Option<bool>) -> Vec<String> {
    let mut args = simctl(&["ui", udid, "appearance"]);
    if let Some(dark) = set {
        args.push(if dark { "dark" } else { "light" }.to_string());
    }
    args
}

/// Reads `simctl ui UDID appearance`: `dark` or `light` (`unsupported` before iOS 13,
/// `unknown` while the simulator boots).
pub fn parse_appearance(output: &str) -> Result<bool, HostError> {
    match output.trim() {
        "dark" => Ok(true),
        "light" => Ok(false),
        other => Err(HostError::Parse {
            command: "xcrun simctl ui appearance".into(),
            what: format!("expected \"dark\" or \"light\", got {other:?}"),
        }),
    }
}

/// `addmedia UDID FILE`: a photo or video into the Photos library (by its extension).
pub fn addmedia_args(udid: &str, file: &str) -> Vec<String> {
    simctl(&["addmedia", udid, file])
}

/// `io UDID recordVideo --codec=h264 --force FILE`: records until interrupted (SIGINT), then
/// finishes FILE (an .mp4).
pub fn record_video_args(udid: &str, file: &str) -> Vec<String> {
    simctl(&["io", udid, "recordVideo", "--codec=h264", "--force", file])
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = include_str!("../../tests/fixtures/host/simctl-list-devices.json");
    const LAUNCH: &str = include_str!("../../tests/fixtures/host/simctl-launch.txt");

    #[test]
    fn list_fixture() {
        let sims = parse_list(LIST).unwrap();
        assert_eq!(sims.len(), 3);
        assert_eq!(
            sims[0],
            Simulator {
                udid: "5A1B2C3D-0000-4000-8000-000000000001".into(),
                name: "iPhone 16".into(),
                state: "Booted".into(),
                runtime: "iOS 18.2".into(),
                is_available: true,
                data_path: Some(
                    "/Users/dev/Library/Developer/CoreSimulator/Devices/5A1B2C3D-0000-4000-8000-000000000001/data"
                        .into()
                ),
            }
        );
        assert!(!sims[1].is_available);
        assert_eq!(sims[2].runtime, "iOS 18.4");
        assert_eq!(sims[2].name, "iPad Air 11-inch (M2)");
    }

    #[test]
    fn list_errors() {
        assert!(parse_list("not json").is_err());
        assert!(parse_list("{}").unwrap_err().to_string().contains("devices"));
        assert!(parse_list(r#"{"devices":{"k":[{"udid":"u"}]}}"#).is_err());
    }

    #[test]
    fn runtime_names() {
        assert_eq!(runtime_name("com.apple.CoreSimulator.SimRuntime.iOS-18-2"), "iOS 18.2");
        assert_eq!(
            runtime_name("com.apple.CoreSimulator.SimRuntime.watchOS-11-2"),
            "watchOS 11.2"
        );
        assert_eq!(
            runtime_name("com.apple.CoreSimulator.SimRuntime.iOS-26-0-1"),
            "iOS 26.0.1"
        );
        assert_eq!(runtime_name("iOS 17.0"), "iOS 17.0");
    }

    #[test]
    fn launch_pid_fixture() {
        assert_eq!(parse_launch_pid(LAUNCH).unwrap(), 12345);
        assert!(parse_launch_pid("An error was encountered processing the command").is_err());
    }

    #[test]
    fn builders() {
        let u = "UDID-1";
        assert_eq!(list_args(), vec!["simctl", "list", "-j", "devices"]);
        assert_eq!(boot_args(u), vec!["simctl", "boot", u]);
        assert_eq!(bootstatus_args(u), vec!["simctl", "bootstatus", u, "-b"]);
        assert_eq!(
            launch_args(u, "com.x", true, &["--flag", "a b"]),
            vec![
                "simctl",
                "launch",
                "--terminate-running-process",
                u,
                "com.x",
                "--flag",
                "a b"
            ]
        );
        assert_eq!(
            launch_args(u, "com.x", false, &[]),
            vec!["simctl", "launch", u, "com.x"]
        );
        assert_eq!(terminate_args(u, "com.x"), vec!["simctl", "terminate", u, "com.x"]);
        assert_eq!(
            openurl_args(u, "myapp://x?a=1&b=2"),
            vec!["simctl", "openurl", u, "myapp://x?a=1&b=2"]
        );
        assert_eq!(
            screenshot_png_args(u, "/tmp/s.png"),
            vec!["simctl", "io", u, "screenshot", "--type=png", "/tmp/s.png"]
        );
        assert_eq!(keychain_reset_args(u), vec!["simctl", "keychain", u, "reset"]);
        let log = log_stream_args(u, Some("My \"App\""));
        assert_eq!(
            &log[..9],
            &[
                "simctl", "spawn", u, "log", "stream", "--style", "compact", "--level", "debug"
            ]
        );
        assert_eq!(log[9], "--predicate");
        assert_eq!(
            log[10],
            r#"subsystem == "com.facebook.react.log" AND category == "javascript" AND process == "My \"App\"""#
        );
    }

    #[test]
    fn env_pairs() {
        assert_eq!(
            launch_env(&[("HARNESS_PROBE", "1; $(id)")]).unwrap(),
            vec![("SIMCTL_CHILD_HARNESS_PROBE".to_string(), "1; $(id)".to_string())]
        );
        assert!(launch_env(&[("A=B", "x")]).is_err());
        assert!(launch_env(&[("", "x")]).is_err());
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
    fn lists() {
        let sims = parse_list(real!("simctl-list-j-with-datapath-device-finder.json")).unwrap();
        assert!(sims.len() > 20, "{}", sims.len());
        let booted: Vec<&Simulator> = sims.iter().filter(|s| s.state == "Booted").collect();
        assert_eq!(booted.len(), 1);
        assert_eq!(booted[0].udid, "84623E6D-95DE-4325-ACBE-4FEE27DC1186");
        let with_path = sims
            .iter()
            .find(|s| s.udid == "9AD6A031-94BE-4EE6-A225-F7CE2F4938E7")
            .unwrap();
        assert_eq!(
            with_path.data_path.as_deref(),
            Some(
                "/Users/danemackier/Library/Developer/CoreSimulator/Devices/9AD6A031-94BE-4EE6-A225-F7CE2F4938E7/data"
            )
        );
        let old = parse_list(real!("simctl-list-devices-xcode10-node-simctl.json")).unwrap();
        assert!(!old.is_empty());
        assert!(old.iter().all(|s| s.data_path.is_none()));
    }

    #[test]
    fn launch_and_terminate() {
        assert_eq!(parse_launch_pid(real!("simctl-launch-stdout.txt")).unwrap(), 44266);
        assert!(is_nothing_to_terminate(real!("simctl-terminate-not-running.txt")));
        assert!(is_nothing_to_terminate(real!(
            "simctl-terminate-not-running-xcode15.txt"
        )));
        assert!(!is_nothing_to_terminate(real!(
            "simctl-error-unable-to-lookup-shutdown.txt"
        )));
    }

    #[test]
    fn launchctl_jobs() {
        let list = real!("simctl-spawn-launchctl-list.txt");
        assert_eq!(parse_launchctl_pid(list, "com.apple.mobilesafari"), Some(22076));
        assert_eq!(parse_launchctl_pid(list, "com.apple.mobile"), None);
        assert_eq!(parse_launchctl_pid(list, "com.apple.progressd"), None);
        assert_eq!(
            parse_launchctl_pid("-\t0\tUIKitApplication:com.x[1a2b][rb-legacy]\n", "com.x"),
            None,
            "a job without a process is not running"
        );
    }

    #[test]
    fn errors_have_hints() {
        for text in [
            real!("simctl-error-unable-to-lookup-shutdown.txt"),
            real!("simctl-error-unable-to-lookup-shutting-down.txt"),
        ] {
            let e = HostError::Failed {
                command: "xcrun simctl launch X com.x".into(),
                status: Some(149),
                stderr: text.into(),
            };
            let hint = e.hint().unwrap_or_default();
            assert!(hint.contains("simctl boot"), "{text}: {hint}");
        }
    }
}

#[cfg(test)]
mod privacy_tests {
    use super::*;

    #[test]
    fn maestro_names_to_simctl_services() {
        assert_eq!(privacy_service("location"), Some("location-always"));
        assert_eq!(privacy_service("medialibrary"), Some("media-library"));
        assert_eq!(privacy_service("camera"), None);
        assert_eq!(
            privacy_args("U", "grant", "photos", "com.x"),
            vec!["simctl", "privacy", "U", "grant", "photos", "com.x"]
        );
    }
}
