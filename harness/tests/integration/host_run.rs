//! `harness run` through the host backends, with fake `adb` and `xcrun` on PATH.
//!
//! The fakes (`tests/fixtures/host/fake-tool.py`) replay recorded outputs according to a
//! small device state and record the argv they receive. `session-restore` runs on:
//! - Android, `backend: host`: adb alone (uiautomator dump, input, am start -W, run-as);
//! - iOS, `backend: appium+host`: the virtual farm as the Appium server for the screen, and
//!   simctl for the simulator; its keychain is a SQLite file with the real `genp` schema that
//!   the test creates and the virtual device writes to, read by the host keychain reader.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::Farm;
use serde_json::{Value, json};

const SERIAL: &str = "emulator-5554";
const UDID: &str = "5A1B2C3D-0000-4000-8000-0000000000AA";
const PKG: &str = "com.harness.clerkconvex";
const EMAIL: &str = "demo@harness.dev";
/// Shell metacharacters on purpose: typed through `adb shell input text`, it must arrive
/// literally.
const PASSWORD: &str = "s3cret' ;$(id) `x` && \"q\" | >f";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/host")
}

/// A sandbox: `bin/` with the fakes, `fake/` with their rules and state, profiles, reports.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new(adb_rules: Value, xcrun_rules: Value) -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        let fake = dir.path().join("fake");
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
        // A real PNG for `screencap -p`.
        let png = dir.path().join("fake/screen.png");
        image::RgbImage::from_pixel(36, 80, image::Rgb([20, 90, 200]))
            .save(&png)
            .unwrap();
        Sandbox { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    fn command(&self, args: &[&str]) -> Command {
        let path = format!(
            "{}:{}",
            self.path("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut c = Command::new(env!("CARGO_BIN_EXE_harness"));
        c.args(args)
            .env("PATH", path)
            .env("FAKE_HOST_DIR", self.path("fake"))
            .current_dir(repo());
        c
    }

    fn run(&self, profiles: &[&Path]) -> Output {
        let reports = self.path("reports");
        let mut args: Vec<String> = vec!["run".into(), "flows/session-restore.yaml".into()];
        for p in profiles {
            args.extend(["-d".into(), p.display().to_string()]);
        }
        args.extend([
            "--reports".into(),
            reports.display().to_string(),
            "-e".into(),
            format!("HARNESS_EMAIL={EMAIL}"),
            "-e".into(),
            format!("HARNESS_PASSWORD={PASSWORD}"),
            "--timeout".into(),
            "120s".into(),
        ]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.command(&args).output().unwrap()
    }

    fn results(&self) -> Value {
        let text = std::fs::read_to_string(self.path("reports/latest/results.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// The argv each fake received, in order: (tool, argv).
    fn calls(&self) -> Vec<(String, Vec<String>)> {
        let text = std::fs::read_to_string(self.path("fake/argv.jsonl")).unwrap_or_default();
        text.lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                let argv = v["argv"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect();
                (v["tool"].as_str().unwrap().to_string(), argv)
            })
            .collect()
    }
}

/// `adb -s SERIAL shell <quoted argv>` as the backend sends it.
fn shell(argv: &[&str]) -> String {
    format!("-s {SERIAL} shell {}", quoted(argv))
}

fn quoted(argv: &[&str]) -> String {
    argv.iter()
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `am start` as the backend launches the app (as the launcher would), with extra arguments.
fn launch<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut argv = vec![
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
        "com.harness.clerkconvex/.MainActivity",
    ];
    argv.extend_from_slice(extra);
    argv
}

/// A regex matching exactly `text`.
fn exact(text: &str) -> String {
    regex::escape(text)
}

fn am_start_output(total: u64) -> String {
    format!(
        "Starting: Intent {{ cmp={PKG}/.MainActivity }}\nStatus: ok\nLaunchState: COLD\nActivity: {PKG}/.MainActivity\nTotalTime: {total}\nWaitTime: {}\nComplete\n",
        total + 9
    )
}

/// The emulator: a sign-in screen, a password step, the home screen; SecureStore.xml once
/// signed in; the app process; cold starts restore the session when SecureStore.xml has it.
fn adb_rules() -> Value {
    let session = fixtures().join("session");
    let f = |name: &str| session.join(name).display().to_string();
    let tap = |x: u32, y: u32| exact(&shell(&["input", "tap", &x.to_string(), &y.to_string()]));
    let dump = exact(&shell(&["uiautomator", "dump", "/sdcard/window_dump.xml"]));
    let cat_dump = exact(&format!(
        "-s {SERIAL} exec-out {}",
        quoted(&["cat", "/sdcard/window_dump.xml"])
    ));
    let am_start = exact(&shell(&launch(&[])));
    json!([
        {"match": "devices -l", "stdout_file": fixtures().join("real/adb-devices-l-emulator.txt").display().to_string()},
        {"match": exact(&shell(&["cmd", "package", "resolve-activity", "--brief", PKG])),
         "stdout": format!("priority=0 preferredOrder=0 match=0x108000 specificIndex=-1 isDefault=true\n{PKG}/.MainActivity\n")},
        {"match": format!("{}.*", exact(&format!("-s {SERIAL} shell 'logcat' '-v' 'threadtime' '-T' "))),
         "stdout_file": f("logcat-reactnativejs.txt")},
        {"match": exact(&shell(&["run-as", PKG, "rm", "-f", "shared_prefs/SecureStore.xml"])), "set": {"prefs": false}},
        {"match": exact(&shell(&["pm", "clear", PKG])), "stdout": "Success\n",
         "set": {"running": false, "prefs": false, "screen": "identifier"}},
        {"match": exact(&shell(&["pidof", PKG])), "when": {"running": true}, "stdout": "4242\n"},
        {"match": exact(&shell(&["pidof", PKG])), "exit": 1},
        {"match": exact(&shell(&["am", "force-stop", PKG])), "set": {"running": false}},
        {"match": &am_start, "when": {"running": false, "prefs": true},
         "stdout": am_start_output(1234), "set": {"running": true, "screen": "home"}},
        {"match": &am_start, "when": {"running": false},
         "stdout": am_start_output(2345), "set": {"running": true, "screen": "identifier"}},
        {"match": &dump, "stdout": "UI hierchary dumped to: /sdcard/window_dump.xml\n"},
        {"match": &cat_dump, "when": {"screen": "identifier"}, "stdout_file": f("android-sign-in.xml")},
        {"match": &cat_dump, "when": {"screen": "password"}, "stdout_file": f("android-sign-in-password.xml")},
        {"match": &cat_dump, "when": {"screen": "home"}, "stdout_file": f("android-home.xml")},
        // auth-continue is at [96,1200][984,1344].
        {"match": tap(540, 1272), "when": {"screen": "identifier"}, "set": {"screen": "password"}},
        {"match": tap(540, 1272), "when": {"screen": "password"}, "set": {"screen": "home", "prefs": true}},
        {"match": format!("{}.*", exact(&format!("-s {SERIAL} shell 'input' 'tap' ")))},
        {"match": format!("{}.*", exact(&format!("-s {SERIAL} shell 'input' 'text' ")))},
        {"match": exact(&format!("-s {SERIAL} exec-out {}", quoted(&["run-as", PKG, "cat", "shared_prefs/SecureStore.xml"]))),
         "when": {"prefs": true}, "stdout_file": f("SecureStore-signed-in.xml")},
        {"match": exact(&format!("-s {SERIAL} exec-out {}", quoted(&["run-as", PKG, "cat", "shared_prefs/SecureStore.xml"]))),
         "stdout": "cat: shared_prefs/SecureStore.xml: No such file or directory\n", "exit": 1},
        {"match": exact(&shell(&["dumpsys", "activity", "activities"])),
         "stdout": format!("  ResumedActivity: ActivityRecord{{b11e81c u0 {PKG}/.MainActivity t12}}\n")},
        {"match": exact(&format!("-s {SERIAL} exec-out {}", quoted(&["screencap", "-p"]))),
         "stdout_file": "{FAKE_HOST_DIR}/screen.png"},
    ])
}

/// The simulator: listed as booted with its data folder in the sandbox; `keychain reset`
/// empties the keychain database.
fn xcrun_rules() -> Value {
    let list = json!({"devices": {"com.apple.CoreSimulator.SimRuntime.iOS-18-2": [{
        "dataPath": "{FAKE_HOST_DIR}/ios-data",
        "logPath": "{FAKE_HOST_DIR}/ios-logs",
        "udid": UDID,
        "isAvailable": true,
        "deviceTypeIdentifier": "com.apple.CoreSimulator.SimDeviceType.iPhone-16",
        "state": "Booted",
        "name": "iPhone 16"
    }]}});
    json!([
        {"match": "simctl list -j devices", "stdout": serde_json::to_string_pretty(&list).unwrap()},
        {"match": format!("simctl spawn {UDID} log stream .*"),
         "stdout_file": fixtures().join("session/simctl-log-stream.txt").display().to_string()},
        {"match": format!("simctl keychain {UDID} reset"),
         "sqlite": ["{FAKE_HOST_DIR}/ios-data/Library/Keychains/keychain-2-debug.db", "DELETE FROM genp;"]},
    ])
}

fn keychain_db(sb: &Sandbox) -> PathBuf {
    sb.path("fake/ios-data/Library/Keychains/keychain-2-debug.db")
}

/// The simulator's keychain: an empty database with the real `genp` schema.
fn create_keychain(sb: &Sandbox) -> PathBuf {
    let db = keychain_db(sb);
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let schema = std::fs::read_to_string(fixtures().join("keychain-genp-schema.sql")).unwrap();
    rusqlite::Connection::open(&db).unwrap().execute_batch(&schema).unwrap();
    db
}

/// The row expo-secure-store leaves for Clerk's client token (as securityd stores it).
fn insert_clerk_token(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute(
        "INSERT INTO genp (cdat, mdat, acct, svce, data, agrp, pdmn, musr, persistref) \
         VALUES (785000000.25, 785000000.25, ?1, ?2, X'07000000AABBCC', 'TEAMID1234.com.harness.clerkconvex', 'ck', '', X'00112233445566778899AABBCCDDEEFF')",
        [sha1("__clerk_client_jwt"), sha1("app:no-auth")],
    )
    .unwrap();
}

fn android_profile(sb: &Sandbox) -> PathBuf {
    sb.write(
        "profiles/android-host.yaml",
        &format!("name: android-host\nplatform: Android\nkind: android-emulator\nbackend: host\nserial: {SERIAL}\n"),
    )
}

fn ios_profile(sb: &Sandbox, farm: &Farm, backend: &str) -> PathBuf {
    let name = format!("ios-{}", backend.replace('+', "-"));
    sb.write(
        &format!("profiles/{name}.yaml"),
        &format!(
            "name: {name}\nplatform: iOS\nkind: ios-simulator\nbackend: {backend}\nudid: {UDID}\nurl: {}\n\
             capabilities:\n  harness:options:\n    clerkExpo: \"3.2.9\"\n    latencyScale: 0.1\n    seed: 7\n    keychainDb: {}\n",
            farm.url,
            serde_json::to_string(&keychain_db(sb).display().to_string()).unwrap()
        ),
    )
}

fn snapshot<'a>(case: &'a Value, name: &str) -> &'a Value {
    case["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no snapshot {name} in {case:#}"))
}

fn jwt_entry(snap: &Value) -> &Value {
    snap["storage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == "__clerk_client_jwt")
        .unwrap_or_else(|| panic!("no __clerk_client_jwt in {snap:#}"))
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn session_restore_through_the_host_backends_on_both_platforms() {
    let sb = Sandbox::new(adb_rules(), xcrun_rules());
    let farm = Farm::start();
    let db = create_keychain(&sb);
    let android = android_profile(&sb);
    let ios = ios_profile(&sb, &farm, "appium+host");
    let out = sb.run(&[&android, &ios]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    let r = sb.results();
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}\n{r:#}");
    let cases = r["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for c in cases {
        assert_eq!(c["outcome"], "passed", "{c:#}");
    }
    let case = |device: &str| cases.iter().find(|c| c["device"] == device).unwrap();

    // Android: storage from run-as, unchanged across the cold start; launch time from am start.
    let a = case("android-host");
    let (before, after) = (snapshot(a, "before-quit"), snapshot(a, "after-relaunch"));
    assert_eq!(before["storage_source"], "run-as");
    assert_eq!(jwt_entry(before)["store"], "SecureStore.xml:key_v1");
    assert_eq!(jwt_entry(before)["digest"], jwt_entry(after)["digest"]);
    assert_eq!(before["app_state"], 4);
    assert_eq!(
        a["cold_launch_ms"], 1234,
        "the relaunch's TotalTime, not the first launch's"
    );
    assert!(a["restore_ms"].as_u64().is_some());

    // iOS: storage from the simulator keychain database, which the virtual device wrote.
    let i = case("ios-appium-host");
    let (before, after) = (snapshot(i, "before-quit"), snapshot(i, "after-relaunch"));
    assert_eq!(before["storage_source"], "keychain-2-debug.db");
    assert_eq!(jwt_entry(before)["store"], "keychain:app:no-auth");
    assert_eq!(jwt_entry(before)["digest"], jwt_entry(after)["digest"]);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (agrp, pdmn): (String, String) = conn
        .query_row(
            "SELECT agrp, pdmn FROM genp WHERE acct = ?1 AND svce = ?2",
            [sha1("__clerk_client_jwt"), sha1("app:no-auth")],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (agrp.as_str(), pdmn.as_str()),
        ("HARNESSVRT.com.harness.clerkconvex", "ck")
    );

    // The argv a real run needs, in order (screen reads and the log stream set aside).
    let calls = sb.calls();
    // Every device command is `-s SERIAL shell|exec-out ONE-STRING`: the device shell gets one
    // quoted command line, never words split by the host.
    for (_, argv) in calls.iter().filter(|(t, _)| t == "adb") {
        if argv[..] != ["devices", "-l"] {
            assert_eq!(argv.len(), 4, "{argv:?}");
            assert_eq!(argv[..2], ["-s", SERIAL]);
            assert!(argv[2] == "shell" || argv[2] == "exec-out", "{argv:?}");
            assert!(argv[3].starts_with('\''), "{argv:?}");
        }
    }
    let adb: Vec<String> = calls
        .iter()
        .filter(|(t, _)| t == "adb")
        .map(|(_, a)| a.join(" "))
        .filter(|a| !a.contains("'logcat'") && !a.contains("'uiautomator'") && !a.contains("window_dump"))
        .collect();
    let tap = |x: u32, y: u32| shell(&["input", "tap", &x.to_string(), &y.to_string()]);
    let run_as = format!(
        "-s {SERIAL} exec-out {}",
        quoted(&["run-as", PKG, "cat", "shared_prefs/SecureStore.xml"])
    );
    let snapshot_calls = [
        run_as.clone(),
        shell(&["pidof", PKG]),
        shell(&["dumpsys", "activity", "activities"]),
        format!("-s {SERIAL} exec-out {}", quoted(&["screencap", "-p"])),
    ];
    let mut expected: Vec<String> = vec![
        "devices -l".into(),
        shell(&["cmd", "package", "resolve-activity", "--brief", PKG]),
        // launchApp clearKeychain: true (the app stopped, SecureStore.xml deleted), clearState: true
        shell(&["am", "force-stop", PKG]),
        shell(&["run-as", PKG, "rm", "-f", "shared_prefs/SecureStore.xml"]),
        shell(&["pm", "clear", PKG]),
        shell(&["pidof", PKG]),
        shell(&["am", "force-stop", PKG]),
        shell(&launch(&[])),
        // sign-in
        tap(540, 872),
        shell(&["input", "text", EMAIL]),
        tap(540, 1272),
        tap(540, 1072),
        shell(&["input", "text", PASSWORD]),
        tap(540, 1272),
    ];
    expected.extend(snapshot_calls.iter().cloned());
    expected.extend([
        // stopApp, then the cold start
        shell(&["pidof", PKG]),
        shell(&["am", "force-stop", PKG]),
        shell(&launch(&[])),
    ]);
    expected.extend(snapshot_calls.iter().cloned());
    expected.push(run_as);
    assert_eq!(adb, expected, "adb argv:\n{}", adb.join("\n"));
    // Each screen read is a dump then a read of the file it names.
    let dumps: Vec<&Vec<String>> = calls
        .iter()
        .filter(|(t, a)| t == "adb" && a.iter().any(|x| x.contains("uiautomator") || x.contains("window_dump")))
        .map(|(_, a)| a)
        .collect();
    assert!(dumps.len() >= 16, "{}", dumps.len());
    for pair in dumps.chunks(2) {
        assert!(pair[0].join(" ").contains("'uiautomator' 'dump'"), "{pair:?}");
        assert_eq!(pair.get(1).map(|a| a[2].as_str()), Some("exec-out"), "{pair:?}");
        assert!(pair[1][3].contains("'cat' '/sdcard/window_dump.xml'"), "{pair:?}");
    }
    assert_eq!(
        calls
            .iter()
            .filter(|(t, a)| t == "adb" && a.join(" ").contains("'logcat'"))
            .count(),
        1,
        "one log stream per session"
    );

    // The password reached the device shell literally, through `input text`.
    let typed = calls
        .iter()
        .find(|(_, a)| {
            a.last()
                .is_some_and(|l| l.starts_with("'input' 'text'") && l.contains("s3cret"))
        })
        .map(|(_, a)| a.last().unwrap().clone())
        .unwrap();
    let sh = Command::new("sh")
        .args(["-c", &format!("printf '%s\\n' {typed}")])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&sh.stdout),
        format!("input\ntext\n{PASSWORD}\n")
    );

    let xcrun: Vec<String> = calls
        .iter()
        .filter(|(t, _)| t == "xcrun")
        .map(|(_, a)| a.join(" "))
        .filter(|a| !a.contains(" log stream "))
        .collect();
    assert_eq!(
        xcrun,
        vec![
            "simctl list -j devices".to_string(),
            format!("simctl keychain {UDID} reset")
        ]
    );
    let stream = calls
        .iter()
        .find(|(t, a)| t == "xcrun" && a.join(" ").contains(" log stream "))
        .unwrap();
    assert_eq!(
        stream.1[..9],
        [
            "simctl", "spawn", UDID, "log", "stream", "--style", "compact", "--level", "debug"
        ]
    );

    // Secrets never reach the reports, although the UI dumps showed the email.
    for f in files(&sb.path("reports")) {
        let bytes = std::fs::read(&f).unwrap();
        for secret in [EMAIL, "s3cret"] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} in {}",
                f.display()
            );
        }
    }
    // The cold-launch statistics reach the summary.
    assert!(
        stderr.contains("cold launch 1234") || stdout.contains("cold launch 1234"),
        "{stdout}\n{stderr}"
    );

    // `harness devices` lists what the same fakes report.
    let out = sb.command(&["devices"]).output().unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.contains(SERIAL) && listed.contains(UDID), "{listed}");
    drop(farm);
}

fn sha1(s: &str) -> Vec<u8> {
    use sha1::Digest;
    sha1::Sha1::digest(s.as_bytes()).to_vec()
}

#[test]
fn ios_host_alone_cannot_drive_the_screen_and_says_what_to_use() {
    // The simulator is shut down: the backend boots it and waits for the boot to finish.
    let mut xcrun = xcrun_rules();
    let rules = xcrun.as_array_mut().unwrap();
    let booted = rules[0]["stdout"].as_str().unwrap().to_string();
    rules.insert(
        0,
        json!({"match": "simctl list -j devices", "when": {"booted": null},
        "stdout": booted.replace("\"Booted\"", "\"Shutdown\"")}),
    );
    rules.push(json!({"match": format!("simctl boot {UDID}"), "set": {"booted": true}}));
    rules.push(json!({"match": format!("simctl bootstatus {UDID} -b"), "when": {"booted": true},
        "stdout": "Monitoring boot status for iPhone 16 (5A1B2C3D-0000-4000-8000-0000000000AA).\nDevice already booted, nothing to do.\n"}));
    rules.push(json!({"match": format!("simctl launch {UDID} {PKG}$"), "stdout": format!("{PKG}: 4242\n")}));
    let sb = Sandbox::new(adb_rules(), xcrun);
    let farm = Farm::start();
    create_keychain(&sb);
    let ios = ios_profile(&sb, &farm, "host");
    // session-restore taps and types: refused before anything starts, at the first screen step.
    let out = sb.run(&[&ios]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("appium+host") && stderr.contains("sign-in.yaml:"),
        "{stderr}"
    );
    assert!(
        !sb.calls()
            .iter()
            .any(|(t, a)| t == "xcrun" && a.join(" ").contains("boot")),
        "nothing started"
    );
    // A flow of lifecycle steps runs on simctl alone: the simulator is booted first.
    let flow = sb.write(
        "flows/lifecycle.yaml",
        "appId: com.harness.clerkconvex\n---\n- launchApp: {stopApp: false}\n",
    );
    let reports = sb.path("reports");
    let args = [
        "run",
        flow.to_str().unwrap(),
        "-d",
        ios.to_str().unwrap(),
        "--reports",
        reports.to_str().unwrap(),
    ];
    let out = sb.command(&args).output().unwrap();
    let r = sb.results();
    assert_eq!(out.status.code(), Some(0), "{}", r["cases"][0]["message"]);
    let xcrun: Vec<String> = sb
        .calls()
        .into_iter()
        .filter(|(t, a)| t == "xcrun" && !a.join(" ").contains(" log stream "))
        .map(|(_, a)| a.join(" "))
        .collect();
    assert_eq!(
        xcrun[..3],
        [
            "simctl list -j devices".to_string(),
            format!("simctl boot {UDID}"),
            format!("simctl bootstatus {UDID} -b")
        ]
    );
}

#[test]
fn host_failures_are_infrastructure_errors_naming_the_command_and_what_to_do() {
    // A release build: run-as refuses at the first snapshot.
    let mut rules = adb_rules();
    let argv = ["run-as", PKG, "cat", "shared_prefs/SecureStore.xml"];
    let refusal = json!({
        "match": format!("-s {SERIAL} (shell|exec-out) {}", exact(&quoted(&argv))),
        "stdout": format!("run-as: package not debuggable: {PKG}\n"), "exit": 1});
    rules.as_array_mut().unwrap().insert(0, refusal);
    let sb = Sandbox::new(rules, xcrun_rules());
    let out = sb.run(&[&android_profile(&sb)]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let r = sb.results();
    let message = r["cases"][0]["message"].as_str().unwrap().to_string();
    assert_eq!(r["cases"][0]["outcome"], "error");
    assert!(message.contains("debuggable") && message.contains(PKG), "{message}");
    // When run-as refuses to delete SecureStore.xml, `launchApp {clearState: true,
    // clearKeychain: true}` goes on: `pm clear` wipes the same file right after.
    let mut rules = adb_rules();
    let argv = ["run-as", PKG, "rm", "-f", "shared_prefs/SecureStore.xml"];
    rules.as_array_mut().unwrap().insert(
        0,
        json!({"match": format!("-s {SERIAL} (shell|exec-out) {}", exact(&quoted(&argv))),
            "stdout": format!("run-as: package not debuggable: {PKG}\n"), "exit": 1}),
    );
    let sb = Sandbox::new(rules, xcrun_rules());
    let out = sb.run(&[&android_profile(&sb)]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let calls: Vec<String> = sb.calls().into_iter().map(|(_, argv)| argv.join(" ")).collect();
    let rm = calls
        .iter()
        .position(|c| c.contains("rm") && c.contains("SecureStore.xml"))
        .unwrap_or_else(|| panic!("rm attempted: {calls:?}"));
    let clear = calls
        .iter()
        .position(|c| c.contains("pm") && c.contains("clear"))
        .unwrap_or_else(|| panic!("pm clear: {calls:?}"));
    assert!(rm < clear, "{calls:?}");

    // An offline emulator: the session does not open, and the message says why.
    let mut rules = adb_rules();
    rules.as_array_mut().unwrap().insert(
        0,
        json!({"match": "devices -l", "stdout_file": fixtures().join("real/adb-devices-emulator-offline.txt").display().to_string()}),
    );
    let sb = Sandbox::new(rules, xcrun_rules());
    let out = sb.run(&[&android_profile(&sb)]);
    assert_eq!(out.status.code(), Some(3));
    let message = sb.results()["cases"][0]["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("emulator-5554 is offline") && message.contains("adb reconnect"),
        "{message}"
    );

    // No adb at all.
    let sb = Sandbox::new(adb_rules(), xcrun_rules());
    std::fs::remove_file(sb.path("bin/adb")).unwrap();
    let out = sb
        .command(&[
            "run",
            "flows/session-restore.yaml",
            "-d",
            android_profile(&sb).to_str().unwrap(),
            "--reports",
            sb.path("reports").to_str().unwrap(),
            "-e",
            "HARNESS_EMAIL=a@b.c",
            "-e",
            "HARNESS_PASSWORD=x",
        ])
        .env("PATH", sb.path("bin"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let message = sb.results()["cases"][0]["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("adb is not installed") && message.contains("platform tools"),
        "{message}"
    );
}

#[test]
fn keychain_show_backup_and_restore() {
    let mut xcrun = xcrun_rules();
    let rules = xcrun.as_array_mut().unwrap();
    rules.push(json!({"match": format!("simctl shutdown {UDID}")}));
    rules.push(json!({"match": format!("simctl boot {UDID}")}));
    let sb = Sandbox::new(adb_rules(), xcrun);
    let db = create_keychain(&sb);
    insert_clerk_token(&db);
    let harness = |args: &[&str]| {
        let out = sb.command(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, shown, err) = harness(&["keychain", "show", "iPhone 16", PKG]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        shown.contains(
            "__clerk_client_jwt  keychain:app:no-auth  group TEAMID1234.com.harness.clerkconvex  modified 2025-11-16"
        ) && shown.contains("class ck  7 bytes encrypted"),
        "{shown}"
    );
    let saved = sb.path("saved");
    let (code, _, err) = harness(&["keychain", "backup", UDID, saved.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    // "Reinstall": the keychain is wiped.
    std::fs::remove_file(&db).unwrap();
    let (code, shown, _) = harness(&["keychain", "show", UDID, PKG]);
    assert_eq!(code, Some(0));
    assert!(shown.contains("no keychain items"), "{shown}");
    let (code, _, err) = harness(&["keychain", "restore", UDID, saved.to_str().unwrap()]);
    assert_eq!(code, Some(3));
    assert!(err.contains("pass --shutdown"), "{err}");
    assert!(!db.exists());
    let (code, out, err) = harness(&["keychain", "restore", UDID, saved.to_str().unwrap(), "--shutdown"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("booted iPhone 16 again"), "{out}");
    let (_, shown, _) = harness(&["keychain", "show", UDID, PKG]);
    assert!(shown.contains("__clerk_client_jwt  keychain:app:no-auth"), "{shown}");
    let xcrun: Vec<String> = sb
        .calls()
        .into_iter()
        .filter(|(t, a)| t == "xcrun" && a[1] != "list")
        .map(|(_, a)| a.join(" "))
        .collect();
    assert_eq!(
        xcrun,
        vec![format!("simctl shutdown {UDID}"), format!("simctl boot {UDID}")]
    );
}

/// A flow with no screen steps runs on an iOS simulator with simctl alone; launch arguments
/// and permissions reach both tools as a real run needs them.
#[test]
fn lifecycle_flow_with_arguments_and_permissions_on_host_backends() {
    let mut adb = adb_rules();
    let extras = exact(&shell(&launch(&[
        "--ez", "isE2E", "true", "--ei", "retries", "3", "--es", "env", "staging",
    ])));
    let rules = adb.as_array_mut().unwrap();
    rules.insert(
        0,
        // A debug build slower than am's wait: the real "Status: timeout" answer.
        json!({"match": extras, "stdout_file": fixtures().join("real/am-start-W-timeout-rn-expo.txt").display().to_string(),
               "set": {"running": true, "screen": "home"}}),
    );
    // The first dump meets an animation, as uiautomator does on a spinner.
    rules.insert(
        0,
        json!({"match": exact(&shell(&["uiautomator", "dump", "/sdcard/window_dump.xml"])), "when": {"dumped": null},
               "stdout": "ERROR: could not get idle state.\n", "exit": 1, "set": {"dumped": true}}),
    );
    rules.insert(0, json!({"match": format!("{}.*", exact(&format!("-s {SERIAL} shell 'pm' 'grant' '{PKG}' "))),
        "stderr": format!("Exception occurred while executing 'grant':\njava.lang.SecurityException: Package {PKG} has not requested permission android.permission.CALL_PHONE\n"),
        "exit": 255, "when": {"phone": null}}));
    rules.insert(
        0,
        json!({"match": exact(&shell(&["pm", "grant", PKG, "android.permission.CAMERA"]))}),
    );
    rules.insert(
        0,
        json!({"match": format!("{}.*", exact(&format!("-s {SERIAL} shell 'pm' 'revoke' '{PKG}' ")))}),
    );
    let mut xcrun = xcrun_rules();
    let rules = xcrun.as_array_mut().unwrap();
    rules.push(json!({"match": format!("simctl terminate {UDID} {PKG}"), "exit": 3,
        "stderr": "An error was encountered processing the command (domain=NSPOSIXErrorDomain, code=3):\nSimulator device returned an error for the requested operation.\nfound nothing to terminate\n"}));
    rules.push(json!({"match": format!("simctl privacy {UDID} (revoke|grant) (all|photos) {PKG}")}));
    rules.push(json!({"match": format!("simctl privacy {UDID} reset location-always {PKG}")}));
    rules.push(
        json!({"match": exact(&format!("simctl launch {UDID} {PKG} -isE2E true -retries 3 -env staging")),
        "stdout": format!("{PKG}: 4242\n"), "set": {"ios_running": true}}),
    );
    rules.push(json!({"match": format!("simctl spawn {UDID} launchctl list"), "when": {"ios_running": true},
        "stdout": format!("PID\tStatus\tLabel\n-\t0\tcom.apple.progressd\n4242\t0\tUIKitApplication:{PKG}[2b0f][rb-legacy]\n")}));
    rules.push(json!({"match": format!("simctl io {UDID} screenshot --type=png .*"), "copy_to_arg": [5, "{FAKE_HOST_DIR}/screen.png"]}));
    let sb = Sandbox::new(adb, xcrun);
    create_keychain(&sb);
    let flow = sb.write(
        "flows/launch-arguments.yaml",
        &format!(
            "appId: {PKG}\nname: launch-arguments\n---\n- launchApp:\n    permissions: {{all: deny, photos: allow}}\n    \
             arguments: {{isE2E: true, retries: 3, env: staging}}\n- setPermissions:\n    permissions: {{location: unset}}\n\
             - snapshot: launched\n"
        ),
    );
    let ios = sb.write(
        "profiles/ios-host.yaml",
        &format!("name: ios-host\nplatform: iOS\nkind: ios-simulator\nbackend: host\nudid: {UDID}\n"),
    );
    let android = sb.write(
        "profiles/android-perms.yaml",
        &format!("name: android-perms\nplatform: Android\nkind: android-emulator\nbackend: host\nserial: {SERIAL}\n"),
    );
    let out = sb
        .command(&[
            "run",
            flow.to_str().unwrap(),
            "-d",
            ios.to_str().unwrap(),
            "-d",
            android.to_str().unwrap(),
            "--reports",
            sb.path("reports").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let r = sb.results();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{r:#}",
        String::from_utf8_lossy(&out.stderr)
    );
    let android_case = r["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["device"] == "android-perms")
        .unwrap();
    assert!(
        android_case.get("cold_launch_ms").is_none(),
        "a timed-out am start is not timed"
    );
    let source = snapshot(android_case, "launched")["source"]
        .as_str()
        .unwrap()
        .to_string();
    let xml = std::fs::read_to_string(sb.path("reports/latest").join(source)).unwrap();
    assert!(
        xml.contains("screen-home"),
        "the dump was retried after the idle-state error"
    );
    let ios_case = r["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["device"] == "ios-host")
        .unwrap();
    let snap = snapshot(ios_case, "launched");
    assert_eq!(snap["storage_source"], "keychain-2-debug.db");
    assert_eq!(snap["app_state"], 4);
    assert!(
        snap["screenshot"].as_str().is_some_and(|s| s.ends_with(".png")),
        "{snap:#}"
    );

    let calls = sb.calls();
    let xcrun: Vec<String> = calls
        .iter()
        .filter(|(t, a)| t == "xcrun" && !a.join(" ").contains(" log stream ") && a[1] != "list")
        .map(|(_, a)| a.join(" "))
        .filter(|a| !a.contains(" io ") && !a.contains("launchctl"))
        .collect();
    assert_eq!(
        xcrun,
        vec![
            format!("simctl privacy {UDID} revoke all {PKG}"),
            format!("simctl privacy {UDID} grant photos {PKG}"),
            format!("simctl terminate {UDID} {PKG}"),
            format!("simctl launch {UDID} {PKG} -isE2E true -retries 3 -env staging"),
            format!("simctl privacy {UDID} reset location-always {PKG}"),
        ]
    );
    let adb: Vec<String> = calls
        .iter()
        .filter(|(t, a)| t == "adb" && a.join(" ").contains("'pm' '"))
        .map(|(_, a)| a[3].clone())
        .collect();
    // all: deny revokes every known permission; photos: allow grants the media ones; unset
    // location revokes it.
    assert!(
        adb.contains(&quoted(&["pm", "revoke", PKG, "android.permission.CAMERA"])),
        "{adb:#?}"
    );
    assert!(
        adb.contains(&quoted(&["pm", "grant", PKG, "android.permission.READ_MEDIA_IMAGES"])),
        "{adb:#?}"
    );
    assert_eq!(
        adb.last().unwrap(),
        &quoted(&["pm", "revoke", PKG, "android.permission.ACCESS_COARSE_LOCATION"])
    );
}

/// On an iOS simulator with simctl alone, the app's log says whether a cold start restored
/// the session (`auth.log` markers in the app profile): a restore passes and is timed; a
/// signed-out app with the token still in the keychain is the @clerk/expo cold-start bug.
#[test]
fn ios_host_alone_reads_the_auth_state_from_the_apps_log() {
    let run = |marker: &str| {
        let mut xcrun = xcrun_rules();
        let rules = xcrun.as_array_mut().unwrap();
        // The JS log once the app runs: what @clerk/expo reports after loading.
        rules.insert(
            1,
            json!({"match": format!("simctl spawn {UDID} log stream .*"), "wait_for": {"relaunched": true},
                   "stdout": format!("Filtering the log data using \"subsystem == \\\"com.facebook.react.log\\\"\"\n\
                       2026-11-23 09:00:01.328 I  ClerkConvex[4242:444388] [com.facebook.react.log:javascript] Running \"main\"\n\
                       2026-11-23 09:00:02.104 I  ClerkConvex[4242:444388] [com.facebook.react.log:javascript] [auth] isLoaded=true isSignedIn={marker}\n")}),
        );
        rules.push(json!({"match": format!("simctl terminate {UDID} {PKG}"), "when": {"launched": true}}));
        rules.push(json!({"match": format!("simctl terminate {UDID} {PKG}"), "exit": 3,
            "stderr": "An error was encountered processing the command (domain=NSPOSIXErrorDomain, code=3):\nfound nothing to terminate\n"}));
        // The second launch is the cold start under test.
        rules.push(
            json!({"match": format!("simctl launch {UDID} {PKG}"), "when": {"launched": true},
            "stdout": format!("{PKG}: 4243\n"), "set": {"relaunched": true}}),
        );
        rules.push(json!({"match": format!("simctl launch {UDID} {PKG}"), "stdout": format!("{PKG}: 4242\n"), "set": {"launched": true}}));
        rules.push(json!({"match": format!("simctl spawn {UDID} launchctl list"),
            "stdout": format!("PID\tStatus\tLabel\n4242\t0\tUIKitApplication:{PKG}[2b0f][rb-legacy]\n")}));
        rules.push(json!({"match": format!("simctl io {UDID} screenshot --type=png .*"), "copy_to_arg": [5, "{FAKE_HOST_DIR}/screen.png"]}));
        let sb = Sandbox::new(adb_rules(), xcrun);
        let db = create_keychain(&sb);
        insert_clerk_token(&db);
        let app = std::fs::read_to_string(repo().join("flows/apps/clerk-expo-convex.yaml")).unwrap().replace(
            "  sessionId: {id: session-id}\n",
            "  sessionId: {id: session-id}\n  log:\n    signedIn: '\\[auth\\] isLoaded=true isSignedIn=true'\n    signedOut: '\\[auth\\] isLoaded=true isSignedIn=false'\n",
        );
        assert!(app.contains("isSignedIn=true"));
        sb.write("flows/apps/app.yaml", &app);
        let flow = sb.write(
            "flows/cold-start-log.yaml",
            "app: apps/app.yaml\nname: cold-start-log\n---\n- launchApp\n- stopApp\n- launchApp\n- assertSession: {state: signedIn, within: 3s}\n- snapshot: restored\n",
        );
        let ios = sb.write(
            "profiles/ios-host.yaml",
            &format!("name: ios-host\nplatform: iOS\nkind: ios-simulator\nbackend: host\nudid: {UDID}\n"),
        );
        let out = sb
            .command(&[
                "run",
                flow.to_str().unwrap(),
                "-d",
                ios.to_str().unwrap(),
                "--reports",
                sb.path("reports").to_str().unwrap(),
                "-e",
                "HARNESS_EMAIL=a@b.c",
                "-e",
                "HARNESS_PASSWORD=x",
            ])
            .output()
            .unwrap();
        (out, sb.results(), sb)
    };
    let (out, r, _sb) = run("true");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{r:#}",
        String::from_utf8_lossy(&out.stderr)
    );
    let case = &r["cases"][0];
    assert!(
        case["restore_ms"].as_u64().is_some(),
        "the relaunch is timed to the marker: {case:#}"
    );
    let snap = snapshot(case, "restored");
    assert_eq!(snap["auth"], "signedIn");
    assert_eq!(snap["storage_source"], "keychain-2-debug.db");
    let (out, r, sb) = run("false");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{r:#}",
        String::from_utf8_lossy(&out.stderr)
    );
    let case = &r["cases"][0];
    assert_eq!(case["outcome"], "failed");
    assert_eq!(case["cause"], "sdk-restoration", "{case:#}");
    // The device log of the failure holds the marker that decided it.
    let log = files(&sb.path("reports"))
        .into_iter()
        .find(|p| p.ends_with("device.log"))
        .expect("device.log");
    assert!(std::fs::read_to_string(log).unwrap().contains("isSignedIn=false"));
}
