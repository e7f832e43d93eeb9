//! `harness devices` with fake `adb` and `xcrun` executables on PATH: they replay recorded
//! outputs and record the argv they were called with.

use std::path::Path;
use std::process::Command;

fn fake(dir: &Path, name: &str, output: &Path) {
    let log = dir.join(format!("{name}.argv"));
    let script = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\ncat '{}'\n",
        log.display(),
        output.display()
    );
    let path = dir.join(name);
    std::fs::write(&path, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn lists_what_the_tools_report_with_profiles_to_paste() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/host");
    let bin = tempfile::tempdir().unwrap();
    fake(bin.path(), "adb", &fixtures.join("adb-devices-l.txt"));
    fake(bin.path(), "xcrun", &fixtures.join("simctl-list-devices.json"));
    let path = format!("{}:{}", bin.path().display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("devices")
        .env("PATH", path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("emulator-5554"), "{stdout}");
    assert!(stdout.contains("serial: emulator-5554"), "{stdout}");
    assert!(stdout.contains("iPhone 16"), "{stdout}");
    assert!(
        stdout.contains("udid: 5A1B2C3D-0000-4000-8000-000000000001"),
        "{stdout}"
    );
    // The tools were called as argv, exactly so.
    let argv = |n: &str| std::fs::read_to_string(bin.path().join(format!("{n}.argv"))).unwrap();
    assert_eq!(argv("adb"), "devices\n-l\n");
    assert_eq!(argv("xcrun"), "simctl\nlist\n-j\ndevices\n");
}

#[test]
fn missing_tools_are_notes_not_failures() {
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("devices")
        .env("PATH", empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("adb not installed"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("no devices"));
}
