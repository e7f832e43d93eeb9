//! Every command `check` accepts runs: the shipped flows of each group (gestures, device
//! settings, media and recording, screenshots) pass on both virtual platforms, a changed
//! screen fails `assertScreenshot` with a diff, and a command a device's backend cannot do is
//! refused by `check -d` and by `run` before anything starts.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn harness(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("harness runs")
}

fn run(flows: &[&str], extra: &[&str], reports: &Path, dir: &Path) -> Output {
    let mut args = vec!["run"];
    args.extend_from_slice(flows);
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--reports", reports.to_str().unwrap()]);
    args.extend_from_slice(&[
        "-e",
        "HARNESS_EMAIL=demo@harness.dev",
        "-e",
        "HARNESS_PASSWORD=virtual-pw",
    ]);
    harness(&args, dir)
}

fn results(reports: &Path) -> Value {
    let text = std::fs::read_to_string(reports.join("latest/results.json")).expect("results.json");
    serde_json::from_str(&text).unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_shipped_group_flows_pass_on_both_virtual_platforms() {
    let reports = tempfile::tempdir().unwrap();
    let flows = [
        "flows/gestures.yaml",
        "flows/device-settings.yaml",
        "flows/media-recording.yaml",
        "flows/screenshot.yaml",
    ];
    let out = run(&flows, &["-n", "2", "-p", "8", "--seed", "21"], reports.path(), &repo());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = results(reports.path());
    let cases = r["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 16);
    for c in cases {
        assert_eq!(c["outcome"], "passed", "{c}");
    }
    // The recording and the screenshot are artifacts of the media flow, on both platforms.
    for device in ["virtual-ios", "virtual-android"] {
        let dir = reports
            .path()
            .join("latest/artifacts/media-recording")
            .join(device)
            .join("1");
        let gif = std::fs::read(dir.join("sign-in.gif")).expect("the recording");
        assert_eq!(&gif[..6], b"GIF89a");
        let frames = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(&gif))
            .map(|d| image::AnimationDecoder::into_frames(d).count())
            .unwrap();
        assert!(frames >= 3, "{device}: sign-in, password, home: {frames} frames");
        assert!(dir.join("signed-in.png").is_file());
    }
}

#[test]
fn a_changed_screen_fails_assert_screenshot_with_a_diff() {
    // A copy of the shipped flows whose iOS reference is the Android one: wrong size; and
    // whose Android reference has a painted-over band: under the threshold.
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("flows"), &dir.path().join("flows"));
    copy_dir(&repo().join("devices"), &dir.path().join("devices"));
    let shots = dir.path().join("flows/screenshots");
    std::fs::copy(shots.join("sign-in-android.png"), shots.join("sign-in-ios.png")).unwrap();
    let mut img = image::open(shots.join("sign-in-android.png")).unwrap().to_rgb8();
    for y in 0..img.height() / 10 {
        for x in 0..img.width() {
            img.put_pixel(x, y, image::Rgb([0, 0, 0]));
        }
    }
    img.save(shots.join("sign-in-android.png")).unwrap();
    let reports = tempfile::tempdir().unwrap();
    let out = run(&["flows/screenshot.yaml"], &["--seed", "3"], reports.path(), dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let r = results(reports.path());
    let by = |device: &str| {
        r["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["device"] == device)
            .cloned()
            .unwrap()
    };
    let ios = by("virtual-ios");
    assert_eq!(ios["outcome"], "failed");
    assert!(
        ios["message"]
            .as_str()
            .unwrap()
            .contains("the reference is 540×1200 px"),
        "{ios}"
    );
    let android = by("virtual-android");
    assert_eq!(android["outcome"], "failed");
    let message = android["message"].as_str().unwrap();
    assert!(
        message.contains("% of the pixels match") && message.contains("threshold 99 %"),
        "{message}"
    );
    let diff = reports
        .path()
        .join("latest/artifacts/screenshot/virtual-android/1/screenshots_sign-in-android.diff.png");
    let diff = image::open(diff).expect("the diff image").to_rgb8();
    assert_eq!(*diff.get_pixel(5, 5), image::Rgb([230, 0, 0]), "the band differs");
}

#[test]
fn commands_a_backend_cannot_do_are_refused_before_anything_runs() {
    let out = harness(&["check", "flows/device-settings.yaml", "-d", "ios-simulator"], &repo());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("flows/device-settings.yaml:28:3: error: 'setAirplaneMode' needs airplane mode, which device 'ios-simulator'"),
        "{t}"
    );
    assert!(t.contains("toggleAirplaneMode"), "{t}");
    // The same flow is fine for an Android emulator and for the virtual farm.
    for device in ["android-emulator-host", "virtual-ios"] {
        let out = harness(&["check", "flows/device-settings.yaml", "-d", device], &repo());
        assert_eq!(out.status.code(), Some(0), "{device}: {}", text(&out));
    }
    // `run` refuses it before opening a session (no Appium is listening at the profile's URL).
    let reports = tempfile::tempdir().unwrap();
    let out = run(
        &["flows/device-settings.yaml"],
        &["-d", "ios-simulator"],
        reports.path(),
        &repo(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("flows/device-settings.yaml:28:3"), "{}", text(&out));
    assert!(!reports.path().join("latest").exists(), "nothing ran");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}
