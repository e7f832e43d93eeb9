//! Every command of the flow language, in its string and object forms, parses without error
//! and round-trips through the model: parse → emit → parse gives the same flow.

use std::collections::BTreeSet;
use std::path::Path;

use harness::flow::commands::{COMMANDS, StringForm, command_name};
use harness::flow::emit::emit_flow;
use harness::flow::model::{Command, Flow, Step};
use harness::flow::parse::parse_flow;
use harness::yaml;

/// A flow that uses every command of peers.md §2.2 and every session command, with string
/// forms, object forms, selectors with every key, conditions, label and optional.
const EVERY_COMMAND: &str = r#"
appId: com.example.app
name: every command
tags: [all, smoke]
env:
  USER: alice@example.com
  GREETING: Hello ${USER}
onFlowStart:
  - runFlow: {commands: [back]}
onFlowComplete:
  - stopApp
properties:
  owner: team-auth
  junitId: "42"
---
- launchApp
- launchApp: com.example.other
- launchApp:
    appId: com.example.app
    clearState: true
    clearKeychain: true
    stopApp: false
    permissions: {all: allow, camera: deny, location: unset}
    arguments: {debug: true, retries: 3, mode: fast}
    label: Cold start
    optional: false
- stopApp
- stopApp: com.example.app
- stopApp: {appId: com.example.app, label: Quit}
- killApp
- killApp: {appId: com.example.app}
- clearState
- clearState: com.example.app
- clearKeychain
- clearKeychain: {label: Wipe keychain, optional: true}
- setPermissions: {appId: com.example.app, permissions: {notifications: allow}}
- openLink: myapp://home
- openLink: {link: "https://example.com/${USER}", browser: true, autoVerify: true}
- tapOn: Sign in
- tapOn:
    id: auth-continue
    index: 1
    enabled: true
    retryTapIfNoChange: false
    waitUntilVisible: true
    repeat: 2
    delay: 150
    waitToSettleTimeoutMs: 500
    label: Continue
    optional: true
- tapOn: {point: "50%,90%"}
- tapOn: {text: Row, point: "10,20"}
- tapOn:
    text: "Item \\d+"
    below: Header
    above: {id: footer}
    leftOf: {text: Price}
    rightOf: Icon
    childOf: {id: list}
    containsChild: {text: Child}
    containsDescendants: [{id: a}, B]
    width: 100
    height: 40
    tolerance: 5
    traits: text long-text square
    selected: false
    checked: true
    focused: false
- doubleTapOn: Photo
- doubleTapOn: {id: photo, repeat: 1}
- longPressOn: Message
- longPressOn: {id: msg, delay: 1000}
- assertVisible: Welcome
- assertVisible: {id: screen-home, enabled: true, optional: true}
- assertNotVisible: Error
- assertNotVisible: {id: spinner}
- assertTrue: ${output.ok}
- assertTrue: {condition: "${1 == 1}", label: JS}
- extendedWaitUntil: {visible: {id: screen-home}, timeout: 10000}
- extendedWaitUntil: {notVisible: Loading, timeout: "5000"}
- assertScreenshot: reference.png
- assertScreenshot: {path: reference.png, thresholdPercentage: 97.5, cropOn: {id: header}}
- assertWithAI: The login button is visible
- assertWithAI: {assertion: No error is shown, optional: true}
- assertNoDefectsWithAI
- extractTextWithAI: {query: the order number, outputVariable: ORDER}
- extractTextWithAI: the price
- inputText: ${USER}
- inputText: {text: secret, label: Password}
- inputText: 1234
- inputRandomText
- inputRandomText: {length: 12}
- inputRandomNumber
- inputRandomNumber: {length: 4}
- inputRandomEmail
- inputRandomPersonName
- inputRandomCityName
- inputRandomCountryName
- inputRandomColorName
- eraseText
- eraseText: 10
- eraseText: {charactersToErase: 20}
- copyTextFrom: Order number
- copyTextFrom: {id: order}
- pasteText
- setClipboard: copied
- setClipboard: {text: "${GREETING}"}
- pressKey: Enter
- pressKey: {key: volume up}
- back
- hideKeyboard
- hide keyboard
- scroll
- scrollUntilVisible:
    element: {text: Footer}
    direction: UP
    timeout: 20000
    speed: 40
    visibilityPercentage: 100
    centerElement: true
    waitToSettleTimeoutMs: 300
- swipe: {direction: LEFT, duration: 400}
- swipe: {start: "90%,50%", end: "10%,50%"}
- swipe: {from: {id: card}, direction: RIGHT, waitToSettleTimeoutMs: 100}
- setLocation: {latitude: 52.52, longitude: 13.405}
- travel: {points: ["52.52,13.40", "52.53,13.41", "52.54,13.42"], speed: 10}
- setOrientation: landscapeLeft
- setOrientation: {orientation: PORTRAIT}
- setAirplaneMode: enabled
- setAirplaneMode: {value: disabled}
- toggleAirplaneMode
- setDarkMode: enabled
- setDarkMode: {value: disabled}
- toggleDarkMode
- assertDarkMode
- assertLightMode
- addMedia: [images/a.png, videos/b.mp4]
- addMedia: {files: [images/c.png]}
- takeScreenshot: home
- takeScreenshot: {path: header, cropOn: {id: header}}
- startRecording: session
- startRecording: {path: session2}
- stopRecording
- waitForAnimationToEnd
- waitForAnimationToEnd: {timeout: 5000}
- runFlow: sub.yaml
- runFlow:
    file: sub.yaml
    when: {platform: iOS}
    env: {MODE: fast}
- runFlow:
    when:
      visible: {id: banner}
      notVisible: Offline
      label: banner shown
    commands:
      - tapOn: Dismiss
      - back
- repeat:
    times: 3
    commands:
      - scroll
- repeat:
    while: {notVisible: Footer}
    commands: [scroll]
- retry:
    maxRetries: 2
    commands:
      - tapOn: Flaky button
- retry: {file: sub.yaml, env: {A: b}}
- runScript: setup.js
- runScript: {file: setup.js, env: {X: y}, when: {platform: Android}}
- evalScript: ${output.x = 1}
- evalScript: {script: "${output.y = 2}"}
- action: back
- action: scroll
- snapshot: before-quit
- snapshot: {name: after-relaunch, label: Snapshot after relaunch}
- assertSession: signedIn
- assertSession: {state: signedOut, within: 10s}
- assertSession: {state: offlineExpected, within: 1m30s, optional: true}
- assertConvex: true
- assertConvex: {authenticated: false, within: 500ms}
- assertKeychain: {key: __clerk_client_jwt, present: true}
- assertKeychain: {unchanged: [__clerk_client_jwt, clerkDeviceToken], since: before-quit}
- background: 70s
- background: {for: 2m, label: Long background}
- setNetwork: offline
- setNetwork: {state: online}
"#;

fn parse_ok(text: &str) -> Flow {
    let (flow, diags) = parse_flow(text, Path::new("every.yaml"));
    let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "unexpected errors:\n{errors:#?}");
    flow
}

fn walk<'a>(steps: &'a [Step], out: &mut Vec<&'a Command>) {
    for s in steps {
        out.push(&s.command);
        walk(s.command.nested_steps(), out);
    }
}

#[test]
fn every_command_parses() {
    let flow = parse_ok(EVERY_COMMAND);
    let mut cmds = Vec::new();
    walk(&flow.steps, &mut cmds);
    walk(&flow.header.on_flow_start, &mut cmds);
    let used: BTreeSet<&str> = cmds.iter().map(|c| command_name(c)).collect();
    let missing: Vec<&str> = COMMANDS.iter().map(|c| c.name).filter(|n| !used.contains(n)).collect();
    assert!(missing.is_empty(), "commands not exercised: {missing:?}");
    assert_eq!(flow.header.env.len(), 2);
    assert_eq!(flow.header.properties.len(), 2);
    assert_eq!(flow.header.tags, vec!["all", "smoke"]);
}

/// The link between the command table's names and the model: each step of the flow above,
/// parsed, is named by `command_name` as it was written (so no two rows' names are swapped).
#[test]
fn command_names_are_the_names_written() {
    let flow = parse_ok(EVERY_COMMAND);
    let docs = yaml::parse_documents(EVERY_COMMAND).unwrap();
    let written: Vec<String> = docs[1]
        .as_seq()
        .unwrap()
        .iter()
        .map(|step| match step.as_map() {
            // Maestro's legacy spellings: `- action: back`, `- hide keyboard`.
            Some([(k, v)]) if k.key_text() == "action" => v.key_text(),
            Some([(k, _)]) => k.key_text(),
            _ if step.as_str() == Some("hide keyboard") => "hideKeyboard".into(),
            _ => step.key_text(),
        })
        .collect();
    assert_eq!(written.len(), flow.steps.len());
    for (name, step) in written.iter().zip(&flow.steps) {
        assert_eq!(command_name(&step.command), name, "{step:?}");
    }
}

#[test]
fn every_command_has_its_string_form_exercised() {
    // The table says which commands have a string form; the flow above must use each one.
    for c in COMMANDS {
        let bare = format!("\n- {}\n", c.name);
        let valued = format!("\n- {}: ", c.name);
        match c.string_form {
            StringForm::Bare => assert!(EVERY_COMMAND.contains(&bare), "{} bare form missing", c.name),
            StringForm::Value(_) => {
                let scalar_use = EVERY_COMMAND
                    .lines()
                    .any(|l| l.starts_with(&valued[1..]) && !l.trim_end().ends_with(':') && !l.contains(": {"));
                assert!(scalar_use, "{} string form missing", c.name);
            }
            StringForm::BareOrValue(_) => assert!(EVERY_COMMAND.contains(&bare), "{} bare form missing", c.name),
            StringForm::None => {}
        }
    }
}

#[test]
fn every_command_round_trips() {
    let first = parse_ok(EVERY_COMMAND);
    let emitted = emit_flow(&first);
    let second = parse_ok(&emitted);
    assert_eq!(first, second, "emitted:\n{emitted}");
    // Emitting is stable: a second round gives the same text.
    assert_eq!(emit_flow(&second), emitted);
}

#[test]
fn shipped_flows_round_trip() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../flows");
    let mut files = vec![];
    for sub in ["", "subflows"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yaml") {
                files.push(p);
            }
        }
    }
    assert!(files.len() >= 7, "{files:?}");
    for p in files {
        let text = std::fs::read_to_string(&p).unwrap();
        let (flow, d) = parse_flow(&text, &p);
        assert!(d.is_empty(), "{p:?}: {d:#?}");
        let (again, d) = parse_flow(&emit_flow(&flow), &p);
        assert!(d.is_empty(), "{p:?}: {d:#?}");
        assert_eq!(flow, again, "{p:?}");
    }
}
