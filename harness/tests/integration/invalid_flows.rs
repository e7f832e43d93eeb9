//! Invalid flows: each is reported with the exact position, key path and message.
//!
//! Every case writes a flow (and, for cross-file cases, sub-flows or app profiles) into a
//! temp dir and loads it with `load_flows`, the path `harness check` takes: parse, then the
//! cross-file checks of `flow::load`. The table asserts the file, line, column and message of
//! the FIRST error, and where given its key path, its hint and the number of errors.

use std::collections::BTreeSet;
use std::path::Path;

use harness::diag::{Diagnostic, Severity};
use harness::load::{FlowSet, VarSources, load_flows, load_flows_with};

/// A header for cases whose subject is a command.
const HEADER: &str = "appId: com.example.app\n---\n";

/// The shipped app profile, written next to flows that need one.
const APP_PROFILE: &str = include_str!("../../../flows/apps/clerk-expo-convex.yaml");
const APP_PATH: &str = "apps/clerk-expo-convex.yaml";

/// A valid app profile without a `convex` section.
const APP_PROFILE_NO_CONVEX: &str = concat!(
    "name: no-convex\n",
    "ios: {bundleId: com.example.app}\n",
    "auth:\n",
    "  signedIn: {id: screen-home}\n",
    "  signedOut: {id: screen-sign-in}\n",
);

/// The file name of the flow a case loads, unless the case says otherwise.
const MAIN: &str = "flow.yaml";

struct Case {
    name: &'static str,
    /// The flow that is loaded, written as `main`.
    flow: String,
    main: &'static str,
    /// Other files, relative to the temp dir.
    files: Vec<(&'static str, String)>,
    /// `-e NAME=VALUE`.
    cli: Vec<(&'static str, &'static str)>,
    /// The file of the first error, relative to the temp dir.
    file: &'static str,
    line: u32,
    column: u32,
    /// Substrings of the first error's message.
    message: &'static str,
    also: Vec<&'static str>,
    key: Option<&'static str>,
    /// Substring of the first error's hint.
    hint: Option<&'static str>,
    /// Exact number of errors, when asserted.
    errors: Option<usize>,
}

/// A case: the flow text, and the position and message of its first error.
fn case(name: &'static str, flow: impl Into<String>, (line, column): (u32, u32), message: &'static str) -> Case {
    Case {
        name,
        flow: flow.into(),
        main: MAIN,
        files: vec![],
        cli: vec![],
        file: MAIN,
        line,
        column,
        message,
        also: vec![],
        key: None,
        hint: None,
        errors: None,
    }
}

/// A case whose flow is [`HEADER`] followed by `steps` (so the first step is on line 3).
fn step(name: &'static str, steps: &str, pos: (u32, u32), message: &'static str) -> Case {
    case(name, format!("{HEADER}{steps}"), pos, message)
}

/// A case whose flow names the shipped app profile, written next to it.
fn with_app(name: &'static str, steps: &str, pos: (u32, u32), message: &'static str) -> Case {
    case(name, format!("app: {APP_PATH}\n---\n{steps}"), pos, message).with(APP_PATH, APP_PROFILE)
}

impl Case {
    fn key(mut self, key: &'static str) -> Self {
        self.key = Some(key);
        self
    }
    fn hint(mut self, hint: &'static str) -> Self {
        self.hint = Some(hint);
        self
    }
    fn errors(mut self, n: usize) -> Self {
        self.errors = Some(n);
        self
    }
    fn also(mut self, text: &'static str) -> Self {
        self.also.push(text);
        self
    }
    fn with(mut self, path: &'static str, text: impl Into<String>) -> Self {
        self.files.push((path, text.into()));
        self
    }
    /// Loads `main` instead of `flow.yaml`; the first error is expected there too.
    fn main(mut self, main: &'static str) -> Self {
        self.main = main;
        self.file = main;
        self
    }
    fn in_file(mut self, file: &'static str) -> Self {
        self.file = file;
        self
    }
    fn var(mut self, name: &'static str, value: &'static str) -> Self {
        self.cli.push((name, value));
        self
    }
}

/// Nine levels of nine aliases in the header: 9^9 strings if expanded.
fn billion_laughs() -> String {
    let mut text = String::from("appId: com.example.app\nname: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    let mut prev = "a";
    for n in ["b", "c", "d", "e", "f", "g", "h", "i"] {
        let refs = vec![format!("*{prev}"); 9].join(", ");
        text.push_str(&format!("{n}: &{n} [{refs}]\n"));
        prev = n;
    }
    text.push_str("---\n- launchApp\n");
    text
}

fn cases() -> Vec<Case> {
    vec![
        // ---- file structure ----
        case("empty file", "", (1, 1), "the flow file is empty")
            .key("")
            .errors(1),
        case("only comments", "# nothing here\n", (1, 1), "the flow file is empty").errors(1),
        case(
            "commands without header",
            "- launchApp\n- back\n",
            (1, 1),
            "the flow has commands but no header",
        )
        .key("header")
        .hint("separated by `---`")
        .errors(1),
        case(
            "header without commands",
            "appId: com.example.app\nname: x\n",
            (1, 1),
            "the flow has a header but no commands section",
        )
        .key("steps")
        .hint("add a line `---` after the header")
        .errors(1),
        case(
            "three documents",
            "appId: a\n---\n- back\n---\n- back\n",
            (5, 1),
            "found more",
        )
        .errors(1),
        case("null header", "~\n---\n- back\n", (1, 1), "the flow header is empty")
            .key("header")
            .errors(1),
        case(
            "header is a list",
            "[a, b]\n---\n- back\n",
            (1, 1),
            "the flow header must be a map",
        )
        .errors(1),
        case(
            "header missing appId and app",
            "name: x\ntags: [a]\n---\n- back\n",
            (1, 1),
            "needs `appId` or `app`",
        )
        .key("header")
        .hint("appId: com.example.app")
        .errors(1),
        case(
            "steps are a map",
            "appId: a\n---\ntapOn: x\n",
            (3, 1),
            "expected a list of commands, found a map",
        )
        .key("steps")
        .errors(1),
        // ---- YAML ----
        step(
            "yaml syntax error",
            "- tapOn: [unclosed\n- back\n",
            (3, 10),
            "invalid YAML: unclosed bracket",
        )
        .errors(1),
        case(
            "duplicate key in header",
            "appId: a\nname: x\nappId: b\n---\n- back\n",
            (3, 1),
            "duplicate mapping key: appId",
        )
        .errors(1),
        step(
            "duplicate key in command",
            "- tapOn:\n    text: A\n    text: B\n",
            (5, 5),
            "duplicate mapping key: text",
        )
        .errors(1),
        step(
            "duplicate command in one step",
            "- tapOn: A\n  tapOn: B\n",
            (4, 3),
            "duplicate mapping key: tapOn",
        )
        .errors(1),
        case(
            "billion laughs",
            billion_laughs(),
            (6, 24),
            "invalid YAML: the YAML exceeds a safety limit",
        )
        .errors(1),
        step("tab indentation", "- tapOn:\n\ttext: A\n", (4, 2), "tabs disallowed").errors(1),
        // ---- unknown commands ----
        step(
            "unknown command tapon",
            "- tapon: Sign in\n",
            (3, 3),
            "unknown command 'tapon'",
        )
        .key("steps[0].tapon")
        .hint("did you mean 'tapOn'?")
        .errors(1),
        step(
            "unknown command asertVisible",
            "- back\n- asertVisible: Home\n",
            (4, 3),
            "unknown command 'asertVisible'",
        )
        .key("steps[1].asertVisible")
        .hint("did you mean 'assertVisible'?")
        .errors(1),
        step(
            "unknown bare command launchapp",
            "- launchapp\n",
            (3, 3),
            "unknown command 'launchapp'",
        )
        .key("steps[0].launchapp")
        .hint("did you mean 'launchApp'?")
        .errors(1),
        step(
            "unknown command without suggestion",
            "- launchRocket: now\n",
            (3, 3),
            "unknown command 'launchRocket'",
        )
        .hint("run `harness schema`")
        .errors(1),
        step(
            "openBrowser",
            "- openBrowser: https://example.com\n",
            (3, 3),
            "unknown command 'openBrowser'",
        )
        .hint("use `openLink` with `browser: true`")
        .errors(1),
        case(
            "unknown command in onFlowStart",
            "appId: a\nonFlowStart:\n  - tapp: X\n---\n- back\n",
            (3, 5),
            "unknown command 'tapp'",
        )
        .key("header.onFlowStart[0].tapp")
        .errors(1),
        step(
            "unknown command inside repeat",
            "- repeat:\n    times: 2\n    commands:\n      - inputTxt: A\n",
            (6, 9),
            "unknown command 'inputTxt'",
        )
        .key("steps[0].repeat.commands[0].inputTxt")
        .hint("did you mean 'inputText'?")
        .errors(1),
        step(
            "unknown legacy action",
            "- action: jump\n",
            (3, 11),
            "'jump' is not one of back, hideKeyboard",
        )
        .errors(1),
        // ---- step shape ----
        step(
            "two commands in one step",
            "- tapOn: A\n  inputText: B\n",
            (4, 3),
            "a step holds one command, found keys 'tapOn', 'inputText'",
        )
        .key("steps[0]")
        .hint("start each command on its own line")
        .errors(1),
        step(
            "optional beside the command",
            "- tapOn: A\n  optional: true\n",
            (4, 3),
            "a step holds one command, found keys 'tapOn', 'optional'",
        )
        .hint("`label` and `optional` go inside the command's map")
        .errors(1),
        step("empty command map", "- {}\n", (3, 3), "empty command").errors(1),
        step(
            "list as a step",
            "- [a, b]\n",
            (3, 3),
            "expected a command, found a list",
        )
        .key("steps[0]")
        .errors(1),
        step(
            "number as a step",
            "- back\n- 42\n",
            (4, 3),
            "expected a command, found a number",
        )
        .key("steps[1]")
        .errors(1),
        step(
            "null step",
            "- back\n-\n",
            (4, 2),
            "expected a command, found nothing (null)",
        )
        .errors(1),
        step(
            "command needing a value given none",
            "- tapOn\n",
            (3, 3),
            "'tapOn' needs a value",
        )
        .key("steps[0].tapOn")
        .hint("`- tapOn: Sign in`")
        .errors(1),
        step(
            "object-only command given nothing",
            "- swipe\n",
            (3, 3),
            "'swipe' needs its keys",
        )
        .errors(1),
        step(
            "bare-only command given a scalar",
            "- back: now\n",
            (3, 9),
            "'back' does not take a value here, found a string",
        )
        .errors(1),
        step(
            "bare-only command given a key it lacks",
            "- back: {times: 2}\n",
            (3, 10),
            "unknown key 'times' in 'back'",
        )
        .key("steps[0].back.times")
        .hint("'back' accepts: label, optional")
        .errors(1),
        step(
            "optional is not a boolean",
            "- tapOn:\n    text: A\n    optional: maybe\n",
            (5, 15),
            "expected true or false, found 'maybe'",
        )
        .key("steps[0].tapOn.optional")
        .errors(1),
        // ---- selectors ----
        // `txt` is unknown, so the tap has no element either; both are reported at the map.
        step(
            "unknown key in tapOn",
            "- tapOn:\n    txt: Sign in\n",
            (4, 5),
            "'tapOn' needs an element or a point",
        )
        .errors(2),
        step(
            "unknown tap key",
            "- tapOn: {text: A, retryTapIfNoChnage: true}\n",
            (3, 20),
            "unknown key 'retryTapIfNoChnage' in 'tapOn'",
        )
        .key("steps[0].tapOn.retryTapIfNoChnage")
        .hint("did you mean 'retryTapIfNoChange'?")
        .errors(1),
        step(
            "invalid regex in text",
            "- tapOn: \"Price (USD\"\n",
            (3, 10),
            "'Price (USD' is not a valid regular expression: unclosed group",
        )
        .key("steps[0].tapOn")
        .hint("escape special characters")
        .errors(1),
        step(
            "invalid regex in id",
            "- assertVisible: {id: \"auth-[continue\"}\n",
            (3, 23),
            "is not a valid regular expression",
        )
        .key("steps[0].assertVisible.id")
        .errors(1),
        step(
            "bad point",
            "- tapOn: {point: \"50%,abc\"}\n",
            (3, 18),
            "'50%,abc' is not a point",
        )
        .key("steps[0].tapOn.point")
        .hint("\"50%,90%\"")
        .errors(1),
        step(
            "unknown trait",
            "- tapOn: {traits: shiny}\n",
            (3, 19),
            "unknown trait 'shiny'",
        )
        .errors(1),
        // ---- flow control ----
        step(
            "repeat without times or while",
            "- repeat:\n    commands:\n      - back\n",
            (4, 5),
            "'repeat' needs 'times' or 'while'",
        )
        .key("steps[0].repeat")
        .errors(1),
        step(
            "repeat without commands",
            "- repeat:\n    times: 3\n",
            (4, 5),
            "'repeat' needs the key 'commands'",
        )
        .errors(1),
        step(
            "runFlow with file and commands",
            "- runFlow:\n    file: sub.yaml\n    commands:\n      - back\n",
            (6, 7),
            "takes `file` or `commands`, not both",
        )
        .key("steps[0].runFlow.commands")
        .errors(1),
        step(
            "runFlow with neither",
            "- runFlow:\n    label: nothing\n",
            (4, 5),
            "'runFlow' needs `file` or `commands`",
        )
        .errors(1),
        step(
            "runFlow with only a condition",
            "- runFlow: {when: {platform: iOS}}\n",
            (3, 12),
            "'runFlow' needs `file` or `commands`",
        )
        .errors(1),
        step(
            "runFlow file not yaml",
            "- runFlow: sub.txt\n",
            (3, 12),
            "sub-flow file 'sub.txt' is not a .yaml file",
        )
        .errors(1),
        step(
            "runFlow to a missing file",
            "- back\n- runFlow: subflows/missing.yaml\n",
            (4, 3),
            "sub-flow file 'subflows/missing.yaml' not found",
        )
        .key("steps[1].runFlow.file")
        .hint("relative to the flow file")
        .errors(1),
        step(
            "retry maxRetries out of range",
            "- retry:\n    maxRetries: 1000\n    commands:\n      - back\n",
            (4, 17),
            "1000 is out of range: expected a whole number from 0 to 100",
        )
        .key("steps[0].retry.maxRetries")
        .errors(1),
        // ---- command values ----
        step(
            "swipe bad direction",
            "- swipe: {direction: SIDEWAYS}\n",
            (3, 22),
            "'SIDEWAYS' is not one of UP, DOWN, LEFT, RIGHT",
        )
        .key("steps[0].swipe.direction")
        .errors(1),
        step(
            "swipe start without end",
            "- swipe: {start: \"10%,50%\"}\n",
            (3, 10),
            "'swipe' needs `direction`, or `start` and `end`",
        )
        .errors(1),
        step(
            "swipe start without end, with duration",
            "- swipe: {start: \"10%,50%\", duration: 500}\n",
            (3, 10),
            "'swipe' needs `direction`, or `start` and `end`",
        )
        .errors(1),
        step("eraseText negative", "- eraseText: -5\n", (3, 14), "-5 is out of range").errors(1),
        step(
            "setLocation latitude 200",
            "- setLocation: {latitude: 200, longitude: 13.4}\n",
            (3, 27),
            "200 is out of range: expected a number from -90 to 90",
        )
        .key("steps[0].setLocation.latitude")
        .errors(1),
        step(
            "travel with one point",
            "- travel:\n    points: [\"52.52,13.40\"]\n",
            (4, 13),
            "travel needs at least two points",
        )
        .errors(1),
        step(
            "pressKey unknown key",
            "- pressKey: Entr\n",
            (3, 13),
            "unknown key 'Entr'",
        )
        .key("steps[0].pressKey")
        .hint("did you mean 'Enter'?")
        .errors(1),
        step(
            "setOrientation bad value",
            "- setOrientation: sideways\n",
            (3, 19),
            "'sideways' is not one of portrait, landscapeLeft",
        )
        .errors(1),
        step(
            "setAirplaneMode bad value",
            "- setAirplaneMode: maybe\n",
            (3, 20),
            "'maybe' is not one of enabled, disabled",
        )
        .errors(1),
        step(
            "unclosed variable",
            "- inputText: ${EMAIL\n",
            (3, 14),
            "unclosed '${' in '${EMAIL'",
        )
        .errors(1),
        // ---- header ----
        case(
            "env invalid name",
            "appId: a\nenv:\n  1BAD: x\n---\n- back\n",
            (3, 3),
            "'1BAD' is not a valid variable name",
        )
        .key("header.env.1BAD")
        .errors(1),
        case(
            "env null value",
            "appId: a\nenv:\n  EMAIL:\n---\n- back\n",
            (3, 8),
            "variable 'EMAIL' has no value",
        )
        .key("header.env.EMAIL")
        .hint("-e NAME=VALUE")
        .errors(1),
        case(
            "env value uses an undefined variable",
            "appId: a\nenv:\n  A: x\n  B: ${C}\n---\n- back\n",
            (4, 3),
            "variable 'C' is not defined",
        )
        .key("header.env.B")
        .errors(1),
        // ---- variables and JavaScript ----
        step(
            "variable undefined",
            "- inputText: ${EMAIL}\n",
            (3, 3),
            "variable 'EMAIL' is not defined",
        )
        .key("steps[0].inputText")
        .hint("-e EMAIL=VALUE")
        .errors(1),
        step(
            "one of two variables given with -e",
            "- inputText: ${EMAIL}\n- inputText: ${PASSWORD}\n",
            (4, 3),
            "variable 'PASSWORD' is not defined",
        )
        .var("EMAIL", "me@example.com")
        .errors(1),
        step(
            "deferred count with a known invalid value",
            "- repeat: {times: \"${N}\", commands: [back]}\n",
            (3, 19),
            "expected a whole number, found 'many'",
        )
        .key("steps[0].repeat.times")
        .var("N", "many")
        .errors(1),
        step(
            "runScript file missing",
            "- runScript: setup.js\n",
            (3, 3),
            "cannot read 'setup.js'",
        )
        .key("steps[0].runScript.file")
        .hint("paths in runScript are relative to the flow file")
        .errors(1),
        step(
            "evalScript empty",
            "- evalScript: \"\"\n",
            (3, 15),
            "expected a non-empty string",
        )
        .errors(1),
        step(
            "assertTrue unclosed expression",
            "- assertTrue: ${output.ok\n",
            (3, 15),
            "unclosed '${'",
        )
        .errors(1),
        step(
            "assertWithAI",
            "- assertWithAI: the button is blue\n",
            (3, 3),
            "'assertWithAI' is not supported",
        )
        .hint("AI commands are not supported")
        .errors(1),
        step(
            "deferred orientation with a known invalid value",
            "- setOrientation: ${O}\n",
            (3, 19),
            "'sideways' is not one of portrait",
        )
        .key("steps[0].setOrientation")
        .var("O", "sideways")
        .errors(1),
        case(
            "deferred permission from the header env",
            "appId: com.example.app\nenv:\n  ALLOW: maybe\n---\n- launchApp: {permissions: {location: \"${ALLOW}\"}}\n",
            (5, 39),
            "'maybe' is not one of allow, deny, unset",
        )
        .key("steps[0].launchApp.permissions.location")
        .errors(1),
        // ---- session commands ----
        step(
            "assertSession without app profile",
            "- assertSession: signedIn\n",
            (3, 3),
            "'assertSession' needs an app profile",
        )
        .key("steps[0].assertSession")
        .hint("add `app: apps/NAME.yaml`")
        .errors(1),
        step(
            "assertConvex without app profile",
            "- assertConvex: true\n",
            (3, 3),
            "'assertConvex' needs an app profile",
        )
        .errors(1),
        with_app(
            "assertSession bad state",
            "- assertSession: signed_up\n",
            (3, 18),
            "'signed_up' is not one of signedIn, signedOut, offlineExpected",
        )
        .key("steps[0].assertSession")
        .hint("did you mean 'signedOut'?")
        .errors(1),
        with_app(
            "assertSession within without unit",
            "- assertSession: {state: signedIn, within: 10}\n",
            (3, 44),
            "duration 10 has no unit",
        )
        .key("steps[0].assertSession.within")
        .hint("write 10s")
        .errors(1),
        case(
            "assertConvex with a profile lacking convex",
            "app: apps/app.yaml\n---\n- assertConvex: true\n",
            (3, 3),
            "'assertConvex' needs a `convex` section in app profile 'no-convex'",
        )
        .with("apps/app.yaml", APP_PROFILE_NO_CONVEX)
        .key("steps[0].assertConvex")
        .errors(1),
        with_app(
            "assertKeychain both forms",
            "- assertKeychain: {key: __clerk_client_jwt, present: true, since: s}\n",
            (3, 19),
            "takes either {key, present} or {unchanged, since}, not both",
        )
        .errors(1),
        with_app(
            "assertKeychain without since",
            "- assertKeychain: {unchanged: [__clerk_client_jwt]}\n",
            (3, 19),
            "'assertKeychain' needs the key 'since'",
        )
        .errors(1),
        with_app(
            "assertKeychain since a snapshot taken later",
            "- assertKeychain: {unchanged: [__clerk_client_jwt], since: before-quit}\n- snapshot: before-quit\n",
            (3, 3),
            "snapshot 'before-quit' is not taken before this step",
        )
        .key("steps[0].assertKeychain.since")
        .hint("add `- snapshot: before-quit` earlier")
        .errors(1),
        step(
            "snapshot name with spaces",
            "- snapshot: before quit\n",
            (3, 13),
            "snapshot name 'before quit' has characters other than",
        )
        .key("steps[0].snapshot")
        .errors(1),
        step(
            "background bad duration unit",
            "- background: 70 parsecs\n",
            (3, 15),
            "invalid duration '70 parsecs': unknown unit 'parsecs'",
        )
        .key("steps[0].background")
        .hint("500ms, 10s")
        .errors(1),
        step(
            "setNetwork bad value",
            "- setNetwork: flaky\n",
            (3, 15),
            "'flaky' is not one of online, offline",
        )
        .errors(1),
        // ---- app profiles ----
        case(
            "app profile missing",
            "app: apps/missing.yaml\n---\n- back\n",
            (1, 6),
            "app profile 'apps/missing.yaml' not found",
        )
        .key("header.app")
        .hint("relative to the flow file")
        .errors(1),
        case(
            "app profile missing, with a session command",
            "app: apps/missing.yaml\n---\n- assertSession: signedIn\n",
            (1, 6),
            "app profile 'apps/missing.yaml' not found",
        )
        .errors(1),
        case(
            "app profile invalid",
            "app: bad.yaml\n---\n- back\n",
            (1, 1),
            "the app profile needs `auth`",
        )
        .in_file("bad.yaml")
        .with("bad.yaml", "name: bad\nios: {bundleId: com.example.app}\n")
        .errors(1),
        case(
            "secret of the app profile redefined in header env",
            format!("app: {APP_PATH}\nenv:\n  HARNESS_EMAIL: me@example.com\n---\n- back\n"),
            (3, 3),
            "'HARNESS_EMAIL' is a secret of the app profile",
        )
        .with(APP_PATH, APP_PROFILE)
        .key("header.env.HARNESS_EMAIL")
        .hint("pass it with the environment or -e")
        .errors(1),
        // ---- sub-flows ----
        case(
            "runFlow cycle a -> b -> a",
            "appId: a\n---\n- runFlow: b.yaml\n",
            (3, 3),
            "runFlow cycle: ",
        )
        .main("a.yaml")
        .in_file("b.yaml")
        .with("b.yaml", "appId: a\n---\n- runFlow: a.yaml\n")
        .also("a.yaml → ")
        .also("b.yaml → ")
        .errors(1),
        case(
            "runFlow runs itself",
            "appId: a\n---\n- back\n- runFlow: flow.yaml\n",
            (4, 3),
            "runFlow cycle: ",
        )
        .also("flow.yaml → ")
        .errors(1),
        case(
            "runFlow cycle below the root",
            "appId: a\n---\n- runFlow: b.yaml\n",
            (4, 3),
            "runFlow cycle: ",
        )
        .in_file("c.yaml")
        .with("b.yaml", "appId: a\n---\n- runFlow: c.yaml\n")
        .with("c.yaml", "appId: a\n---\n- back\n- runFlow: b.yaml\n")
        .also("b.yaml → ")
        .also("c.yaml → ")
        .key("steps[1].runFlow.file")
        .hint("must not run itself")
        .errors(1),
        case(
            "undefined variable in a sub-flow",
            "appId: a\n---\n- runFlow:\n    file: sub.yaml\n    env:\n      USER: x\n",
            (5, 3),
            "variable 'PASSWORD' is not defined",
        )
        .in_file("sub.yaml")
        .with(
            "sub.yaml",
            "appId: a\n---\n- back\n- inputText: ${USER}\n- inputText: ${PASSWORD}\n",
        )
        .key("steps[2].inputText")
        .errors(1),
    ]
}

fn load(case: &Case) -> (tempfile::TempDir, FlowSet) {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("create dir");
        std::fs::write(&path, text).expect("write file");
    };
    write(case.main, &case.flow);
    for (rel, text) in &case.files {
        write(rel, text);
    }
    let vars = VarSources {
        cli: case.cli.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        process: BTreeSet::new(),
    };
    // Strict, as `harness check --strict`: an undefined variable is an error.
    let set = load_flows_with(&[dir.path().join(case.main)], &vars, true);
    (dir, set)
}

/// Loads one flow text as `flow.yaml`, with no variables defined.
fn load_text(flow: &str) -> (tempfile::TempDir, FlowSet) {
    load(&case("", flow, (0, 0), ""))
}

/// Every diagnostic, one per line, paths relative to the temp dir.
fn dump(dir: &Path, diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let file = d.file.strip_prefix(dir).unwrap_or(&d.file).display();
        out.push_str(&format!(
            "    {} {file}:{}:{} [{}] {}\n",
            d.severity, d.line, d.column, d.key, d.message
        ));
        if let Some(h) = &d.hint {
            out.push_str(&format!("        hint: {}\n", h.replace('\n', "\n              ")));
        }
    }
    if out.is_empty() {
        out.push_str("    (no diagnostics)\n");
    }
    out
}

fn errors(set: &FlowSet) -> Vec<&Diagnostic> {
    set.diagnostics.iter().filter(|d| d.is_error()).collect()
}

/// Checks one case; `Err` names every mismatch and lists all diagnostics.
fn check(case: &Case) -> Result<(), String> {
    let (dir, set) = load(case);
    let errors = errors(&set);
    let mut problems = Vec::new();
    match errors.first() {
        None => problems.push("no error reported".to_string()),
        Some(d) => {
            if d.file != dir.path().join(case.file) {
                problems.push(format!("file: expected {}, got {}", case.file, d.file.display()));
            }
            if (d.line, d.column) != (case.line, case.column) {
                problems.push(format!(
                    "position: expected {}:{}, got {}:{}",
                    case.line, case.column, d.line, d.column
                ));
            }
            for text in std::iter::once(&case.message).chain(&case.also) {
                if !d.message.contains(text) {
                    problems.push(format!("message: expected to contain {text:?}, got {:?}", d.message));
                }
            }
            if let Some(key) = case.key
                && d.key != key
            {
                problems.push(format!("key: expected {key:?}, got {:?}", d.key));
            }
            if let Some(hint) = case.hint
                && !d.hint.as_deref().is_some_and(|h| h.contains(hint))
            {
                problems.push(format!("hint: expected to contain {hint:?}, got {:?}", d.hint));
            }
        }
    }
    if let Some(n) = case.errors
        && errors.len() != n
    {
        problems.push(format!("error count: expected {n}, got {}", errors.len()));
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!(
        "case '{}':\n  {}\n  diagnostics:\n{}",
        case.name,
        problems.join("\n  "),
        dump(dir.path(), &set.diagnostics)
    ))
}

#[test]
fn invalid_flows_report_position_and_message() {
    let all = cases();
    assert!(all.len() >= 45, "only {} cases", all.len());
    let mut names = BTreeSet::new();
    for case in &all {
        assert!(names.insert(case.name), "duplicate case name '{}'", case.name);
    }
    let run: Vec<&Case> = all.iter().collect();
    let failures: Vec<String> = run.iter().filter_map(|c| check(c).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        run.len(),
        failures.join("\n")
    );
}

#[test]
fn every_error_has_a_known_position() {
    for case in cases().iter() {
        let (dir, set) = load(case);
        assert!(
            set.diagnostics.iter().all(|d| d.pos().is_known()),
            "case '{}' has a diagnostic without position:\n{}",
            case.name,
            dump(dir.path(), &set.diagnostics)
        );
    }
}

#[test]
fn unknown_header_key_is_only_a_warning() {
    let (dir, set) = load_text("appId: com.example.app\ntgas: [smoke]\n---\n- launchApp\n");
    let all = dump(dir.path(), &set.diagnostics);
    assert!(errors(&set).is_empty(), "{all}");
    assert_eq!(set.diagnostics.len(), 1, "{all}");
    let w = &set.diagnostics[0];
    assert_eq!(w.severity, Severity::Warning, "{all}");
    assert_eq!((w.line, w.column), (2, 1), "{all}");
    assert_eq!(w.key, "header.tgas", "{all}");
    assert_eq!(w.message, "unknown header key 'tgas' is ignored", "{all}");
    assert_eq!(w.hint.as_deref(), Some("did you mean 'tags'?"), "{all}");
}

/// The positive controls of "variable undefined": the same flow passes once the variable is
/// defined with -e, in the process environment, in the header env or by the calling runFlow.
#[test]
fn defined_variables_pass() {
    let flow = format!("{HEADER}- inputText: ${{EMAIL}}\n");
    let defined = |vars: VarSources| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MAIN), &flow).unwrap();
        let set = load_flows(&[dir.path().join(MAIN)], &vars);
        assert!(set.diagnostics.is_empty(), "{}", dump(dir.path(), &set.diagnostics));
    };
    defined(VarSources {
        cli: vec![("EMAIL".into(), "me@example.com".into())],
        process: BTreeSet::new(),
    });
    defined(VarSources {
        cli: vec![],
        process: BTreeSet::from(["EMAIL".to_string()]),
    });
    for text in [
        "appId: a\nenv:\n  EMAIL: me@example.com\n---\n- inputText: ${EMAIL}\n".to_string(),
        concat!(
            "appId: a\n---\n",
            "- runFlow:\n    env:\n      EMAIL: me@example.com\n    commands:\n      - inputText: ${EMAIL}\n"
        )
        .into(),
        format!("{HEADER}- inputText: ${{HARNESS_RUN_ID}}\n- inputText: \\${{NOT_A_VAR}}\n"),
    ] {
        let (dir, set) = load_text(&text);
        assert!(
            set.diagnostics.is_empty(),
            "{text}\n{}",
            dump(dir.path(), &set.diagnostics)
        );
    }
}

/// Secrets named by the app profile count as defined (they come from the environment at run
/// time), but only when the flow has that profile.
#[test]
fn app_profile_secrets_are_defined_only_with_the_profile() {
    let c = with_app(
        "",
        "- assertSession: signedOut\n- inputText: ${HARNESS_EMAIL}\n",
        (0, 0),
        "",
    );
    let (dir, set) = load(&c);
    assert!(set.diagnostics.is_empty(), "{}", dump(dir.path(), &set.diagnostics));
    let (dir, set) = load_text(&format!("{HEADER}- inputText: ${{HARNESS_EMAIL}}\n"));
    let e = errors(&set);
    assert_eq!(e.len(), 1, "{}", dump(dir.path(), &set.diagnostics));
    assert_eq!(e[0].message, "variable 'HARNESS_EMAIL' is not defined");
}

/// `txt` in a tap: the map error comes first (same position), the did-you-mean second.
#[test]
fn unknown_selector_key_suggests_the_known_one() {
    let (dir, set) = load_text(&format!("{HEADER}- tapOn:\n    txt: Sign in\n"));
    let all = dump(dir.path(), &set.diagnostics);
    let d = errors(&set)
        .into_iter()
        .find(|d| d.message.starts_with("unknown key"))
        .unwrap_or_else(|| panic!("no unknown-key error:\n{all}"));
    assert_eq!((d.line, d.column), (4, 5), "{all}");
    assert_eq!(d.key, "steps[0].tapOn.txt", "{all}");
    assert_eq!(d.message, "unknown key 'txt' in 'tapOn'", "{all}");
    assert_eq!(d.hint.as_deref(), Some("did you mean 'text'?"), "{all}");
}

/// The cycle message is the chain of files on the call path, joined by arrows.
#[test]
fn cycle_message_names_the_files_in_order() {
    let all = cases();
    let c = all.iter().find(|c| c.name == "runFlow cycle below the root").unwrap();
    let (dir, set) = load(c);
    let e = errors(&set);
    assert_eq!(e.len(), 1, "{}", dump(dir.path(), &set.diagnostics));
    let p = |f: &str| dir.path().join(f).display().to_string();
    assert_eq!(
        e[0].message,
        format!("runFlow cycle: {} → {} → {}", p("b.yaml"), p("c.yaml"), p("b.yaml"))
    );
}

/// A sub-flow with an error is reported once, however many times it runs.
#[test]
fn sub_flow_errors_are_reported_once() {
    let c = case(
        "",
        concat!(
            "appId: a\n---\n- runFlow: sub.yaml\n- runFlow: sub.yaml\n",
            "- repeat:\n    times: 2\n    commands:\n      - runFlow: sub.yaml\n"
        ),
        (0, 0),
        "",
    )
    .with("sub.yaml", "appId: a\n---\n- inputText: ${NOPE}\n");
    let (dir, set) = load(&c);
    let e = errors(&set);
    assert_eq!(e.len(), 1, "{}", dump(dir.path(), &set.diagnostics));
    assert_eq!(e[0].file, dir.path().join("sub.yaml"));
}

#[test]
fn empty_documents_are_told_apart() {
    // `---` followed by nothing: a header with an empty commands section is a warning.
    let (dir, set) = load_text("appId: com.example.app\n---\n");
    let all = dump(dir.path(), &set.diagnostics);
    assert!(errors(&set).is_empty(), "{all}");
    assert_eq!(set.diagnostics.len(), 1, "{all}");
    assert_eq!(set.diagnostics[0].message, "the flow has no commands", "{all}");
    assert_eq!((set.diagnostics[0].line, set.diagnostics[0].column), (2, 1), "{all}");
    // An empty third document is still a third document.
    let (dir, set) = load_text("appId: a\n---\n---\n- back\n");
    let e = errors(&set);
    assert_eq!(e.len(), 1, "{}", dump(dir.path(), &set.diagnostics));
    assert_eq!((e[0].line, e[0].column), (3, 1));
    assert!(e[0].message.contains("found more"));
    // A leading `---` starts the first document: valid.
    let (dir, set) = load_text("---\nappId: a\n---\n- back\n");
    assert!(set.diagnostics.is_empty(), "{}", dump(dir.path(), &set.diagnostics));
}
