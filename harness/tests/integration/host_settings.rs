//! Gestures and device settings through the host backends, called directly against the fake
//! `adb` and `xcrun` (`tests/fixtures/host/fake-tool.py`, run by path: the test process's
//! environment is left alone). Each test asserts the exact argv (and its quoting for the
//! device shell), the read-backs parsed from the tools' outputs
//! (`tests/fixtures/host/settings/`), that temporary files are removed, and that the
//! capability table and the backends agree.

use std::path::{Path, PathBuf};

use harness::driver::android_host::AndroidHost;
use harness::driver::capability::{Driver, Feature, support};
use harness::driver::ios_host::{IosHost, StorageNames};
use harness::driver::{Device, DriverError};
use harness::flow::model::Orientation;
use harness::platform::Platform;
use harness::profile::device::{EmulatorRef, SimulatorRef};
use serde_json::{Value, json};

const SERIAL: &str = "emulator-5554";
const UDID: &str = "5A1B2C3D-0000-4000-8000-0000000000BB";
const PKG: &str = "com.harness.clerkconvex";
/// A media file name with a quote and a space: it must reach the device literally.
const MEDIA: &str = "cat's pic.png";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/host")
}

fn settings(name: &str) -> String {
    fixtures().join("settings").join(name).display().to_string()
}

/// `bin/adb` and `bin/xcrun` (the fake), `fake/` with their rules, state and argv log.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new(adb_rules: Value, xcrun_rules: Value) -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let (bin, fake) = (dir.path().join("bin"), dir.path().join("fake"));
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&fake).unwrap();
        for tool in ["adb", "xcrun"] {
            let path = bin.join(tool);
            std::fs::copy(fixtures().join("fake-tool.py"), &path).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::write(fake.join("rules-adb.json"), adb_rules.to_string()).unwrap();
        std::fs::write(fake.join("rules-xcrun.json"), xcrun_rules.to_string()).unwrap();
        Sandbox { dir }
    }

    fn tool(&self, name: &str) -> String {
        self.dir.path().join("bin").join(name).display().to_string()
    }

    fn fake(&self, rel: &str) -> PathBuf {
        self.dir.path().join("fake").join(rel)
    }

    /// The argv each fake received since the last call, without the session's set-up
    /// (device listing, launcher activity, log stream).
    fn calls(&self) -> Vec<Vec<String>> {
        let log = self.fake("argv.jsonl");
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        std::fs::write(&log, "").unwrap();
        text.lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                v["argv"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect::<Vec<_>>()
            })
            .filter(|argv| {
                let line = argv.join(" ");
                !(line == "devices -l"
                    || line.contains("resolve-activity")
                    || line.contains("'logcat'")
                    || line.starts_with("simctl list")
                    || line.contains(" log stream "))
            })
            .collect()
    }

    async fn android(&self) -> AndroidHost {
        let d = AndroidHost::open_with(&self.tool("adb"), &EmulatorRef::Serial(SERIAL.into()), PKG)
            .await
            .unwrap();
        self.calls();
        d
    }

    async fn ios(&self) -> IosHost {
        let d = IosHost::open_with(
            &self.tool("xcrun"),
            &SimulatorRef::Udid(UDID.into()),
            None,
            PKG,
            StorageNames::new(&[], None),
        )
        .await
        .unwrap();
        self.calls();
        d
    }
}

/// The device shell line `adb shell` gets: each word single-quoted.
fn quoted(argv: &[&str]) -> String {
    argv.iter()
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell(argv: &[&str]) -> Vec<String> {
    vec!["-s".into(), SERIAL.into(), "shell".into(), quoted(argv)]
}

fn exact(argv: &[String]) -> String {
    regex::escape(&argv.join(" "))
}

fn words(argv: &[&str]) -> Vec<String> {
    argv.iter().map(|s| s.to_string()).collect()
}

/// The emulator's settings: rotation, airplane mode, night mode, a gallery folder and a
/// `screenrecord` that runs until `pkill -INT` stops it.
fn adb_rules() -> Value {
    let pictures = format!("/sdcard/Pictures/{MEDIA}");
    let recording = "/sdcard/harness-rec.mp4";
    json!([
        {"match": "devices -l", "stdout_file": fixtures().join("real/adb-devices-l-emulator.txt").display().to_string()},
        {"match": exact(&shell(&["cmd", "package", "resolve-activity", "--brief", PKG])),
         "stdout": format!("priority=0 preferredOrder=0 match=0x108000 specificIndex=-1 isDefault=true\n{PKG}/.MainActivity\n")},
        {"match": format!("{}.*", regex::escape(&format!("-s {SERIAL} shell 'logcat' ")))},
        {"match": exact(&shell(&["input", "swipe", "540", "1700", "540", "500", "400"]))},
        {"match": exact(&shell(&["settings", "put", "system", "accelerometer_rotation", "0"]))},
        {"match": format!("{}'([0-3])'", regex::escape(&format!("-s {SERIAL} shell 'settings' 'put' 'system' 'user_rotation' ")))},
        {"match": exact(&words(&["-s", SERIAL, "emu", "geo", "fix", "4.9041", "52.3676"])), "stdout_file": settings("emu-geo-fix-ok.txt")},
        {"match": exact(&words(&["-s", SERIAL, "emu", "geo", "fix", "0", "91"])), "stdout_file": settings("emu-geo-fix-ko.txt")},
        {"match": exact(&shell(&["cmd", "connectivity", "airplane-mode", "enable"])), "set": {"airplane": true}},
        {"match": exact(&shell(&["cmd", "connectivity", "airplane-mode", "disable"])), "set": {"airplane": false}},
        {"match": exact(&shell(&["cmd", "connectivity", "airplane-mode"])), "when": {"airplane": true},
         "stdout_file": settings("cmd-connectivity-airplane-mode-enabled.txt")},
        {"match": exact(&shell(&["cmd", "connectivity", "airplane-mode"])),
         "stdout_file": settings("cmd-connectivity-airplane-mode-disabled.txt")},
        {"match": exact(&shell(&["cmd", "uimode", "night", "yes"])), "set": {"night": true},
         "stdout_file": settings("cmd-uimode-night-yes.txt")},
        {"match": exact(&shell(&["cmd", "uimode", "night", "no"])), "set": {"night": false},
         "stdout_file": settings("cmd-uimode-night-no.txt")},
        {"match": exact(&shell(&["cmd", "uimode", "night"])), "when": {"night": true},
         "stdout_file": settings("cmd-uimode-night-yes.txt")},
        {"match": exact(&shell(&["cmd", "uimode", "night"])), "stdout_file": settings("cmd-uimode-night-no.txt")},
        {"match": format!("-s {SERIAL} push /.+ {}", regex::escape(&pictures)), "save_arg": [3, "pushed.bin"],
         "stdout": format!("/tmp/x: 1 file pushed, 0 skipped. 0.1 MB/s (16 bytes in 0.001s)\n")},
        {"match": exact(&shell(&["am", "broadcast", "-a", "android.intent.action.MEDIA_SCANNER_SCAN_FILE", "-d",
                                 "file:///sdcard/Pictures/cat%27s%20pic.png"])),
         "stdout_file": settings("am-broadcast-media-scan.txt")},
        {"match": exact(&shell(&["screenrecord", "--time-limit", "180", recording])),
         "set": {"recording": true}, "wait_for": {"recording": false}},
        {"match": exact(&shell(&["pidof", "screenrecord"])), "when": {"recording": true}, "stdout": "4321\n"},
        {"match": exact(&shell(&["pidof", "screenrecord"])), "exit": 1},
        {"match": exact(&shell(&["pkill", "-INT", "screenrecord"])), "when": {"recording": true},
         "set": {"recording": false, "recorded": true}},
        {"match": exact(&shell(&["pkill", "-INT", "screenrecord"])), "exit": 1},
        {"match": exact(&words(&["-s", SERIAL, "exec-out", &quoted(&["cat", recording])])), "when": {"recorded": true},
         "stdout_file": settings("recording.mp4")},
        {"match": exact(&shell(&["rm", "-f", recording])), "set": {"recorded": false}},
    ])
}

/// The simulator: listed as booted; location, appearance, the Photos library, recordVideo.
fn xcrun_rules() -> Value {
    let list = json!({"devices": {"com.apple.CoreSimulator.SimRuntime.iOS-18-2": [{
        "dataPath": "{FAKE_HOST_DIR}/ios-data", "udid": UDID, "isAvailable": true,
        "state": "Booted", "name": "iPhone 16"
    }]}});
    json!([
        {"match": "simctl list -j devices", "stdout": list.to_string()},
        {"match": format!("simctl spawn {UDID} log stream .*")},
        {"match": format!("simctl location {UDID} set 52.3676,4.9041")},
        {"match": format!("simctl ui {UDID} appearance dark"), "set": {"dark": true}},
        {"match": format!("simctl ui {UDID} appearance light"), "set": {"dark": false}},
        {"match": format!("simctl ui {UDID} appearance"), "when": {"dark": true},
         "stdout_file": settings("simctl-ui-appearance-dark.txt")},
        {"match": format!("simctl ui {UDID} appearance"), "stdout_file": settings("simctl-ui-appearance-light.txt")},
        {"match": format!("simctl addmedia {UDID} /.+/{}", regex::escape(MEDIA)), "save_arg": [3, "added.bin"]},
        // Records until interrupted (SIGINT ends the fake as it ends simctl).
        {"match": format!("simctl io {UDID} recordVideo --codec=h264 --force /.+\\.mp4"),
         "copy_to_arg": [6, settings("recording.mp4")], "wait_for": {"never": true}},
    ])
}

fn unsupported_with(e: &DriverError, why: &str) {
    match e {
        DriverError::Unsupported { message, .. } => assert_eq!(message, why),
        other => panic!("expected Unsupported ({why}), got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn adb_gestures_rotation_location_airplane_and_night_mode() {
    let sb = Sandbox::new(adb_rules(), xcrun_rules());
    let mut d = sb.android().await;

    d.swipe((540, 1700), (540, 500), 400).await.unwrap();
    assert_eq!(
        sb.calls(),
        [shell(&["input", "swipe", "540", "1700", "540", "500", "400"])]
    );

    for (o, n) in [
        (Orientation::LandscapeLeft, "1"),
        (Orientation::UpsideDown, "2"),
        (Orientation::LandscapeRight, "3"),
        (Orientation::Portrait, "0"),
    ] {
        d.set_orientation(o).await.unwrap();
        assert_eq!(
            sb.calls(),
            [
                shell(&["settings", "put", "system", "accelerometer_rotation", "0"]),
                shell(&["settings", "put", "system", "user_rotation", n]),
            ],
            "{o:?}"
        );
    }

    // Longitude first, to the emulator console (not the device shell).
    d.set_location(52.3676, 4.9041).await.unwrap();
    assert_eq!(
        sb.calls(),
        [words(&["-s", SERIAL, "emu", "geo", "fix", "4.9041", "52.3676"])]
    );
    let e = d.set_location(91.0, 0.0).await.unwrap_err();
    assert!(e.to_string().contains("KO: no emulator console"), "{e}");
    sb.calls();

    assert!(!d.airplane_mode().await.unwrap());
    d.set_airplane_mode(true).await.unwrap();
    assert!(d.airplane_mode().await.unwrap());
    assert_eq!(
        sb.calls(),
        [
            shell(&["cmd", "connectivity", "airplane-mode"]),
            shell(&["cmd", "connectivity", "airplane-mode", "enable"]),
            shell(&["cmd", "connectivity", "airplane-mode"]),
        ]
    );
    d.set_airplane_mode(false).await.unwrap();
    assert!(!d.airplane_mode().await.unwrap());
    sb.calls();

    assert!(!d.dark_mode().await.unwrap());
    d.set_dark_mode(true).await.unwrap();
    assert!(d.dark_mode().await.unwrap());
    assert_eq!(
        sb.calls(),
        [
            shell(&["cmd", "uimode", "night"]),
            shell(&["cmd", "uimode", "night", "yes"]),
            shell(&["cmd", "uimode", "night"]),
        ]
    );
    d.set_dark_mode(false).await.unwrap();
    assert!(!d.dark_mode().await.unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn adb_media_is_pushed_from_a_private_copy_that_is_removed_then_scanned() {
    let sb = Sandbox::new(adb_rules(), xcrun_rules());
    let mut d = sb.android().await;
    let bytes = b"\x89PNG\r\n\x1a\n not really a png";
    d.add_media(&format!("media/{MEDIA}"), bytes).await.unwrap();
    let calls = sb.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    let local = PathBuf::from(&calls[0][3]);
    assert_eq!(
        calls[0],
        words(&["-s", SERIAL, "push", &calls[0][3], &format!("/sdcard/Pictures/{MEDIA}")])
    );
    assert_eq!(local.file_name().unwrap(), MEDIA);
    assert_eq!(
        std::fs::read(sb.fake("pushed.bin")).unwrap(),
        bytes,
        "adb push got the bytes"
    );
    assert!(!local.exists(), "the private copy {} was removed", local.display());
    assert!(!local.parent().unwrap().exists(), "and its private folder");
    assert_eq!(
        calls[1],
        shell(&[
            "am",
            "broadcast",
            "-a",
            "android.intent.action.MEDIA_SCANNER_SCAN_FILE",
            "-d",
            "file:///sdcard/Pictures/cat%27s%20pic.png"
        ])
    );
    // A name that is not a file name is refused before anything runs.
    assert!(d.add_media("..", b"x").await.is_err());
    assert!(sb.calls().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn adb_screen_recording_runs_until_stopped_then_is_read_back_and_deleted() {
    let sb = Sandbox::new(adb_rules(), xcrun_rules());
    let mut d = sb.android().await;
    let e = d.stop_recording().await.unwrap_err();
    assert!(e.to_string().contains("no recording is running"), "{e}");
    d.start_recording().await.unwrap();
    let e = d.start_recording().await.unwrap_err();
    assert!(e.to_string().contains("already running"), "{e}");
    let recording = d.stop_recording().await.unwrap();
    assert_eq!(recording.extension, "mp4");
    assert_eq!(
        recording.bytes,
        std::fs::read(fixtures().join("settings/recording.mp4")).unwrap()
    );
    // Polls of `pidof screenrecord` (until it runs) set aside.
    let rec = "/sdcard/harness-rec.mp4";
    let calls: Vec<_> = sb
        .calls()
        .into_iter()
        .filter(|c| *c != shell(&["pidof", "screenrecord"]))
        .collect();
    assert_eq!(
        calls,
        [
            shell(&["screenrecord", "--time-limit", "180", rec]),
            shell(&["pkill", "-INT", "screenrecord"]),
            words(&["-s", SERIAL, "exec-out", &quoted(&["cat", rec])]),
            shell(&["rm", "-f", rec]),
        ]
    );
    let state: Value = serde_json::from_str(&std::fs::read_to_string(sb.fake("state.json")).unwrap()).unwrap();
    assert_eq!(state["recorded"], false, "the file on the device was deleted");
}

#[tokio::test(flavor = "multi_thread")]
async fn simctl_location_appearance_media_and_recording() {
    let sb = Sandbox::new(adb_rules(), xcrun_rules());
    let mut d = sb.ios().await;

    d.set_location(52.3676, 4.9041).await.unwrap();
    assert_eq!(
        sb.calls(),
        [words(&["simctl", "location", UDID, "set", "52.3676,4.9041"])]
    );

    assert!(!d.dark_mode().await.unwrap());
    d.set_dark_mode(true).await.unwrap();
    assert!(d.dark_mode().await.unwrap());
    assert_eq!(
        sb.calls(),
        [
            words(&["simctl", "ui", UDID, "appearance"]),
            words(&["simctl", "ui", UDID, "appearance", "dark"]),
            words(&["simctl", "ui", UDID, "appearance"]),
        ]
    );

    let bytes = b"\xff\xd8\xff not really a jpeg";
    d.add_media(MEDIA, bytes).await.unwrap();
    let calls = sb.calls();
    assert_eq!(calls.len(), 1);
    let file = PathBuf::from(&calls[0][3]);
    assert_eq!(calls[0], words(&["simctl", "addmedia", UDID, &calls[0][3]]));
    assert_eq!(
        file.file_name().unwrap(),
        MEDIA,
        "the extension tells simctl what it is"
    );
    assert_eq!(std::fs::read(sb.fake("added.bin")).unwrap(), bytes);
    assert!(
        !file.exists() && !file.parent().unwrap().exists(),
        "the copy was removed"
    );

    d.start_recording().await.unwrap();
    let recording = d.stop_recording().await.unwrap();
    assert_eq!(recording.extension, "mp4");
    assert_eq!(
        recording.bytes,
        std::fs::read(fixtures().join("settings/recording.mp4")).unwrap()
    );
    let calls = sb.calls();
    assert_eq!(calls.len(), 1);
    let file = PathBuf::from(&calls[0][6]);
    assert_eq!(
        calls[0],
        words(&[
            "simctl",
            "io",
            UDID,
            "recordVideo",
            "--codec=h264",
            "--force",
            &calls[0][6]
        ])
    );
    assert!(!file.exists(), "the recording file was removed after reading");
}

/// Runs what `feature` needs from a device (the operations a flow's commands map to).
async fn exercise(d: &mut dyn Device, feature: Feature) -> Result<(), DriverError> {
    match feature {
        Feature::Gestures => d.swipe((540, 1700), (540, 500), 400).await,
        Feature::Orientation => d.set_orientation(Orientation::LandscapeLeft).await,
        Feature::Location => d.set_location(52.3676, 4.9041).await,
        Feature::AirplaneMode => {
            d.set_airplane_mode(true).await?;
            d.airplane_mode().await.map(|_| ())
        }
        Feature::Appearance => {
            d.set_dark_mode(true).await?;
            d.dark_mode().await.map(|_| ())
        }
        Feature::Media => d.add_media(MEDIA, b"png").await,
        Feature::Recording => {
            d.start_recording().await?;
            d.stop_recording().await.map(|_| ())
        }
        // The screen is host_run's subject (uiautomator dump, input; simctl refuses it).
        Feature::Screen | Feature::Screenshot => Ok(()),
    }
}

/// For the host backends, every `Err` in the capability table is an `Unsupported` from the
/// backend with the table's reason, and every `Ok` works.
#[tokio::test(flavor = "multi_thread")]
async fn the_capability_table_and_the_host_backends_agree() {
    let sb = Sandbox::new(adb_rules(), xcrun_rules());
    let mut android = sb.android().await;
    let mut ios = sb.ios().await;
    for feature in Feature::ALL {
        if matches!(feature, Feature::Screen | Feature::Screenshot) {
            continue;
        }
        for (driver, platform, device) in [
            (Driver::Adb, Platform::Android, &mut android as &mut dyn Device),
            (Driver::Simctl, Platform::Ios, &mut ios as &mut dyn Device),
        ] {
            let got = exercise(device, feature).await;
            match support(driver, platform, feature) {
                Ok(how) => assert!(got.is_ok(), "{driver:?} {feature:?} ({how}): {got:?}"),
                Err(why) => unsupported_with(&got.unwrap_err(), why),
            }
        }
    }
    // What simctl cannot do, it refuses without running anything.
    let ran: Vec<_> = sb.calls().into_iter().filter(|c| c[0] == "simctl").collect();
    assert!(
        ran.iter()
            .all(|c| ["location", "ui", "addmedia", "io"].contains(&c[1].as_str())),
        "{ran:?}"
    );
}
