//! The command table: every command name, its string form and its object keys.
//!
//! This is the one place a command's name is written. Each row pairs the name with the
//! [`Command`] pattern it names, so the same table gives [`COMMANDS`] (name → forms, keys)
//! and [`command_name`] (model → name). Readers: the parser (unknown command → "did you
//! mean"), the emitter and the loader (a command's name and the key its string form fills),
//! the executor's messages, the JSON Schema (`harness schema`), and the tests that prove
//! every command parses and round-trips. Key names here must match what `flow::parse`
//! reads: a key the parser does not read is reported as unknown, so a mismatch fails the
//! round-trip tests.

use crate::flow::model::{Command, RandomInput};

/// What a key's value is, for the JSON Schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    Str,
    Bool,
    /// Whole number (or a numeric string, as Maestro writes `"20000"`).
    Int,
    Number,
    /// Maestro milliseconds: number or numeric string.
    Millis,
    /// Duration with a unit: `10s`, `500ms`.
    Duration,
    /// String (text regex) or selector map.
    Selector,
    /// List of selectors.
    SelectorList,
    Condition,
    /// List of commands.
    Steps,
    /// Map of variable name → value.
    Env,
    /// Map of name → string.
    StrMap,
    StrList,
    /// One of the listed words.
    Enum(&'static [&'static str]),
}

/// How the command may be written as a string: `- back` or `- tapOn: Sign in`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StringForm {
    /// Only as an object (`swipe`, `repeat`).
    None,
    /// `- name` (no value).
    Bare,
    /// `- name: value` (a value is required).
    Value(KeyType),
    /// Both `- name` and `- name: value`.
    BareOrValue(KeyType),
}

#[derive(Clone, Copy, Debug)]
pub struct CommandSpec {
    pub name: &'static str,
    pub string_form: StringForm,
    /// The object key that holds what the string form gives: `- setNetwork: offline` is
    /// `- setNetwork: {state: offline}`. `None` when the string form takes no value.
    pub value_key: Option<&'static str>,
    /// Object keys besides `label` and `optional`.
    pub keys: &'static [(&'static str, KeyType)],
    pub summary: &'static str,
}

pub const SELECTOR_KEYS: &[(&str, KeyType)] = &[
    ("text", KeyType::Str),
    ("id", KeyType::Str),
    ("index", KeyType::Int),
    ("width", KeyType::Int),
    ("height", KeyType::Int),
    ("tolerance", KeyType::Int),
    ("below", KeyType::Selector),
    ("above", KeyType::Selector),
    ("leftOf", KeyType::Selector),
    ("rightOf", KeyType::Selector),
    ("childOf", KeyType::Selector),
    ("containsChild", KeyType::Selector),
    ("containsDescendants", KeyType::SelectorList),
    ("traits", KeyType::Str),
    ("enabled", KeyType::Bool),
    ("selected", KeyType::Bool),
    ("checked", KeyType::Bool),
    ("focused", KeyType::Bool),
    ("css", KeyType::Str),
];

pub const TAP_KEYS: &[(&str, KeyType)] = &[
    ("point", KeyType::Str),
    ("retryTapIfNoChange", KeyType::Bool),
    ("waitUntilVisible", KeyType::Bool),
    ("repeat", KeyType::Int),
    ("delay", KeyType::Int),
    ("waitToSettleTimeoutMs", KeyType::Int),
];

pub const CONDITION_KEYS: &[(&str, KeyType)] = &[
    ("platform", KeyType::Enum(&["iOS", "Android", "Web"])),
    ("visible", KeyType::Selector),
    ("notVisible", KeyType::Selector),
    ("true", KeyType::Str),
    ("label", KeyType::Str),
];

pub const HEADER_KEYS: &[(&str, KeyType)] = &[
    ("appId", KeyType::Str),
    ("url", KeyType::Str),
    ("app", KeyType::Str),
    ("name", KeyType::Str),
    ("tags", KeyType::StrList),
    ("env", KeyType::Env),
    ("onFlowStart", KeyType::Steps),
    ("onFlowComplete", KeyType::Steps),
    ("properties", KeyType::StrMap),
    ("jsEngine", KeyType::Str),
];

const APP_ID: &[(&str, KeyType)] = &[("appId", KeyType::Str)];
const NONE: &[(&str, KeyType)] = &[];
const ENABLED: KeyType = KeyType::Enum(&["enabled", "disabled"]);

use KeyType as K;
use StringForm as S;

/// Declares the command table. Each row is `pattern => { name: "…", fields… }`: the
/// [`Command`]s the pattern matches are written with that name. The rows become
/// [`COMMANDS`] (in order) and the arms of [`spec_of`], so a name is written once, and the
/// compiler checks the table against the model: a `Command` without a row is a
/// non-exhaustive match, and a row whose pattern an earlier row already covers is an
/// unreachable pattern (denied below).
macro_rules! command_table {
    ($($pattern:pat => { name: $name:literal, $($field:ident: $value:expr),+ $(,)? }),+ $(,)?) => {
        pub const COMMANDS: &[CommandSpec] = &[$(CommandSpec { name: $name, $($field: $value),+ }),+];

        /// The table row of a command.
        #[deny(unreachable_patterns)]
        pub fn spec_of(c: &Command) -> &'static CommandSpec {
            match c {
                $($pattern => {
                    const SPEC: CommandSpec = CommandSpec { name: $name, $($field: $value),+ };
                    &SPEC
                }),+
            }
        }
    };
}

command_table! {
    Command::LaunchApp(_) => {
        name: "launchApp",
        string_form: S::BareOrValue(K::Str),
        value_key: Some("appId"),
        keys: &[
            ("appId", K::Str),
            ("clearState", K::Bool),
            ("clearKeychain", K::Bool),
            ("stopApp", K::Bool),
            ("permissions", K::StrMap),
            ("arguments", K::StrMap),
        ],
        summary: "Launch the app (stops it first unless stopApp: false).",
    },
    Command::StopApp { .. } => {
        name: "stopApp",
        string_form: S::BareOrValue(K::Str),
        value_key: Some("appId"),
        keys: APP_ID,
        summary: "Force-stop the app (Android am force-stop; iOS terminate).",
    },
    Command::KillApp { .. } => {
        name: "killApp",
        string_form: S::BareOrValue(K::Str),
        value_key: Some("appId"),
        keys: APP_ID,
        summary: "Kill the app as the system would (Android am kill; iOS = stopApp).",
    },
    Command::ClearState { .. } => {
        name: "clearState",
        string_form: S::BareOrValue(K::Str),
        value_key: Some("appId"),
        keys: APP_ID,
        summary: "Clear the app's data.",
    },
    Command::ClearKeychain => {
        name: "clearKeychain",
        string_form: S::Bare,
        value_key: None,
        keys: NONE,
        summary: "Reset the iOS simulator keychain.",
    },
    Command::SetPermissions { .. } => {
        name: "setPermissions",
        string_form: S::None,
        value_key: None,
        keys: &[("appId", K::Str), ("permissions", K::StrMap)],
        summary: "Set app permissions (allow, deny, unset).",
    },
    Command::OpenLink { .. } => {
        name: "openLink",
        string_form: S::Value(K::Str),
        value_key: Some("link"),
        keys: &[("link", K::Str), ("browser", K::Bool), ("autoVerify", K::Bool)],
        summary: "Open a deep link or URL.",
    },
    Command::TapOn(_) => {
        name: "tapOn",
        string_form: S::Value(K::Selector),
        value_key: Some("text"),
        keys: &[],
        summary: "Tap an element (text regex or selector) or a point.",
    },
    Command::DoubleTapOn(_) => {
        name: "doubleTapOn",
        string_form: S::Value(K::Selector),
        value_key: Some("text"),
        keys: &[],
        summary: "Double-tap an element or a point.",
    },
    Command::LongPressOn(_) => {
        name: "longPressOn",
        string_form: S::Value(K::Selector),
        value_key: Some("text"),
        keys: &[],
        summary: "Long-press an element or a point.",
    },
    Command::AssertVisible(_) => {
        name: "assertVisible",
        string_form: S::Value(K::Selector),
        value_key: Some("text"),
        keys: &[],
        summary: "Wait until an element is visible (17 s; 7 s if optional).",
    },
    Command::AssertNotVisible(_) => {
        name: "assertNotVisible",
        string_form: S::Value(K::Selector),
        value_key: Some("text"),
        keys: &[],
        summary: "Wait until an element is not visible.",
    },
    Command::AssertTrue(_) => {
        name: "assertTrue",
        string_form: S::Value(K::Str),
        value_key: Some("condition"),
        keys: &[("condition", K::Str)],
        summary: "Fail unless a JavaScript expression is truthy: `assertTrue: ${output.count > 3}`.",
    },
    Command::ExtendedWaitUntil { .. } => {
        name: "extendedWaitUntil",
        string_form: S::None,
        value_key: None,
        keys: &[
            ("visible", K::Selector),
            ("notVisible", K::Selector),
            ("timeout", K::Millis),
        ],
        summary: "Wait for an element to appear or disappear, with a timeout in ms.",
    },
    Command::AssertScreenshot { .. } => {
        name: "assertScreenshot",
        string_form: S::Value(K::Str),
        value_key: Some("path"),
        keys: &[
            ("path", K::Str),
            ("thresholdPercentage", K::Number),
            ("cropOn", K::Selector),
        ],
        summary: "Compare the screen with a reference image.",
    },
    Command::AssertWithAi { .. } => {
        name: "assertWithAI",
        string_form: S::Value(K::Str),
        value_key: Some("assertion"),
        keys: &[("assertion", K::Str)],
        summary: "AI assertion (not supported).",
    },
    Command::AssertNoDefectsWithAi => {
        name: "assertNoDefectsWithAI",
        string_form: S::Bare,
        value_key: None,
        keys: NONE,
        summary: "AI assertion (not supported).",
    },
    Command::ExtractTextWithAi { .. } => {
        name: "extractTextWithAI",
        string_form: S::Value(K::Str),
        value_key: Some("query"),
        keys: &[("query", K::Str), ("outputVariable", K::Str)],
        summary: "AI text extraction (not supported).",
    },
    Command::InputText(_) => {
        name: "inputText",
        string_form: S::Value(K::Str),
        value_key: Some("text"),
        keys: &[("text", K::Str)],
        summary: "Type text into the focused field.",
    },
    Command::InputRandom { kind: RandomInput::Text, .. } => {
        name: "inputRandomText",
        string_form: S::Bare,
        value_key: None,
        keys: &[("length", K::Int)],
        summary: "Type random text (length 8).",
    },
    Command::InputRandom { kind: RandomInput::Number, .. } => {
        name: "inputRandomNumber",
        string_form: S::Bare,
        value_key: None,
        keys: &[("length", K::Int)],
        summary: "Type a random number (length 8).",
    },
    Command::InputRandom { kind: RandomInput::Email, .. } => {
        name: "inputRandomEmail",
        string_form: S::Bare,
        value_key: None,
        keys: NONE,
        summary: "Type a random email address.",
    },
    Command::InputRandom { kind: RandomInput::PersonName, .. } => {
        name: "inputRandomPersonName",
        string_form: S::Bare,
        value_key: None,
        keys: NONE,
        summary: "Type a random person name.",
    },
    Command::InputRandom { kind: RandomInput::CityName, .. } => {
        name: "inputRandomCityName",
        string_form: S::Bare,
        value_key: None,
        keys: NONE,
        summary: "Type a random city name.",
    },
    Command::InputRandom { kind: RandomInput::CountryName, .. } => {
        name: "inputRandomCountryName",
        string_form: S::Bare,
        value_key: None,
        keys: NONE,
        summary: "Type a random country name.",
    },
    Command::InputRandom { kind: RandomInput::ColorName, .. } => {
        name: "inputRandomColorName",
        string_form: S::Bare,
        value_key: None,
        keys: NONE,
        summary: "Type a random colour name.",
    },
    Command::EraseText { .. } => {
        name: "eraseText",
        string_form: S::BareOrValue(K::Int),
        value_key: Some("charactersToErase"),
        keys: &[("charactersToErase", K::Int)],
        summary: "Erase characters (50).",
    },
    Command::CopyTextFrom(_) => {
        name: "copyTextFrom",
        string_form: S::Value(K::Selector),
        value_key: Some("text"),
        keys: &[],
        summary: "Copy an element's text.",
    },
    Command::PasteText => {
        name: "pasteText",
        string_form: S::Bare,
        value_key: None,
        keys: NONE,
        summary: "Paste the copied text.",
    },
    Command::SetClipboard(_) => {
        name: "setClipboard",
        string_form: S::Value(K::Str),
        value_key: Some("text"),
        keys: &[("text", K::Str)],
        summary: "Set the clipboard.",
    },
    Command::PressKey(_) => {
        name: "pressKey",
        string_form: S::Value(K::Str),
        value_key: Some("key"),
        keys: &[("key", K::Str)],
        summary: "Press a key (Enter, Back, Home, …).",
    },
    Command::Back => {
        name: "back",
        string_form: S::Bare,
        value_key: None,
        keys: NONE,
        summary: "Press back (Android).",
    },
    Command::HideKeyboard => {
        name: "hideKeyboard",
        string_form: S::Bare,
        value_key: None,
        keys: NONE,
        summary: "Hide the keyboard.",
    },
    Command::Scroll => {
        name: "scroll",
        string_form: S::Bare,
        value_key: None,
        keys: NONE,
        summary: "Scroll down.",
    },
    Command::ScrollUntilVisible { .. } => {
        name: "scrollUntilVisible",
        string_form: S::None,
        value_key: None,
        keys: &[
            ("element", K::Selector),
            ("direction", K::Enum(&["UP", "DOWN", "LEFT", "RIGHT"])),
            ("timeout", K::Millis),
            ("speed", K::Int),
            ("visibilityPercentage", K::Int),
            ("centerElement", K::Bool),
            ("waitToSettleTimeoutMs", K::Int),
        ],
        summary: "Scroll until an element is visible.",
    },
    Command::Swipe(_) => {
        name: "swipe",
        string_form: S::None,
        value_key: None,
        keys: &[
            ("direction", K::Enum(&["UP", "DOWN", "LEFT", "RIGHT"])),
            ("start", K::Str),
            ("end", K::Str),
            ("from", K::Selector),
            ("duration", K::Int),
            ("waitToSettleTimeoutMs", K::Int),
        ],
        summary: "Swipe by direction, between points, or from an element.",
    },
    Command::SetLocation { .. } => {
        name: "setLocation",
        string_form: S::None,
        value_key: None,
        keys: &[("latitude", K::Number), ("longitude", K::Number)],
        summary: "Set the GPS location.",
    },
    Command::Travel { .. } => {
        name: "travel",
        string_form: S::None,
        value_key: None,
        keys: &[("points", K::StrList), ("speed", K::Number)],
        summary: "Move along GPS points.",
    },
    Command::SetOrientation(_) => {
        name: "setOrientation",
        string_form: S::Value(K::Enum(&["portrait", "landscapeLeft", "landscapeRight", "upsideDown"])),
        value_key: Some("orientation"),
        keys: &[(
            "orientation",
            K::Enum(&["portrait", "landscapeLeft", "landscapeRight", "upsideDown"]),
        )],
        summary: "Rotate the device.",
    },
    Command::SetAirplaneMode(_) => {
        name: "setAirplaneMode",
        string_form: S::Value(ENABLED),
        value_key: Some("value"),
        keys: &[("value", ENABLED)],
        summary: "Turn airplane mode on or off.",
    },
    Command::ToggleAirplaneMode => {
        name: "toggleAirplaneMode",
        string_form: S::Bare,
        value_key: None,
        keys: NONE,
        summary: "Toggle airplane mode.",
    },
    Command::SetDarkMode(_) => {
        name: "setDarkMode",
        string_form: S::Value(ENABLED),
        value_key: Some("value"),
        keys: &[("value", ENABLED)],
        summary: "Turn dark mode on or off.",
    },
    Command::ToggleDarkMode => {
        name: "toggleDarkMode",
        string_form: S::Bare,
        value_key: None,
        keys: NONE,
        summary: "Toggle dark mode.",
    },
    Command::AssertDarkMode => {
        name: "assertDarkMode",
        string_form: S::Bare,
        value_key: None,
        keys: NONE,
        summary: "Assert dark mode is on.",
    },
    Command::AssertLightMode => {
        name: "assertLightMode",
        string_form: S::Bare,
        value_key: None,
        keys: NONE,
        summary: "Assert light mode is on.",
    },
    Command::AddMedia(_) => {
        name: "addMedia",
        string_form: S::Value(K::StrList),
        value_key: Some("files"),
        keys: &[("files", K::StrList)],
        summary: "Add media files to the gallery.",
    },
    Command::TakeScreenshot { .. } => {
        name: "takeScreenshot",
        string_form: S::Value(K::Str),
        value_key: Some("path"),
        keys: &[("path", K::Str), ("cropOn", K::Selector)],
        summary: "Save a screenshot.",
    },
    Command::StartRecording { .. } => {
        name: "startRecording",
        string_form: S::Value(K::Str),
        value_key: Some("path"),
        keys: &[("path", K::Str)],
        summary: "Start a screen recording.",
    },
    Command::StopRecording => {
        name: "stopRecording",
        string_form: S::Bare,
        value_key: None,
        keys: NONE,
        summary: "Stop the screen recording.",
    },
    Command::WaitForAnimationToEnd { .. } => {
        name: "waitForAnimationToEnd",
        string_form: S::Bare,
        value_key: None,
        keys: &[("timeout", K::Millis)],
        summary: "Wait until the screen is still (15 s).",
    },
    Command::RunFlow { .. } => {
        name: "runFlow",
        string_form: S::Value(K::Str),
        value_key: Some("file"),
        keys: &[
            ("file", K::Str),
            ("commands", K::Steps),
            ("when", K::Condition),
            ("env", K::Env),
        ],
        summary: "Run a sub-flow file or inline commands, optionally when a condition holds.",
    },
    Command::Repeat { .. } => {
        name: "repeat",
        string_form: S::None,
        value_key: None,
        keys: &[("times", K::Int), ("while", K::Condition), ("commands", K::Steps)],
        summary: "Repeat commands a number of times and/or while a condition holds.",
    },
    Command::Retry { .. } => {
        name: "retry",
        string_form: S::None,
        value_key: None,
        keys: &[
            ("maxRetries", K::Int),
            ("file", K::Str),
            ("commands", K::Steps),
            ("env", K::Env),
        ],
        summary: "Retry commands when they fail (maxRetries 1).",
    },
    Command::RunScript { .. } => {
        name: "runScript",
        string_form: S::Value(K::Str),
        value_key: Some("file"),
        keys: &[("file", K::Str), ("env", K::Env), ("when", K::Condition)],
        summary: "Run a JavaScript file (env values as variables; `output`, `http`, `console.log`).",
    },
    Command::EvalScript(_) => {
        name: "evalScript",
        string_form: S::Value(K::Str),
        value_key: Some("script"),
        keys: &[("script", K::Str)],
        summary: "Evaluate a JavaScript expression: `evalScript: ${output.n = 1}`.",
    },
    // Session commands: harness extensions.
    Command::Snapshot(_) => {
        name: "snapshot",
        string_form: S::Value(K::Str),
        value_key: Some("name"),
        keys: &[("name", K::Str)],
        summary: "Capture secure storage, UI (hierarchy + screenshot) and app state under a name.",
    },
    Command::AssertSession { .. } => {
        name: "assertSession",
        string_form: S::Value(K::Enum(&["signedIn", "signedOut", "offlineExpected"])),
        value_key: Some("state"),
        keys: &[
            ("state", K::Enum(&["signedIn", "signedOut", "offlineExpected"])),
            ("within", K::Duration),
        ],
        summary: "Wait until the app shows the auth state (10s).",
    },
    Command::AssertConvex { .. } => {
        name: "assertConvex",
        string_form: S::Value(K::Bool),
        value_key: Some("authenticated"),
        keys: &[("authenticated", K::Bool), ("within", K::Duration)],
        summary: "Wait until useConvexAuth() reports this authentication (10s).",
    },
    Command::AssertKeychain(_) => {
        name: "assertKeychain",
        string_form: S::None,
        value_key: None,
        keys: &[
            ("key", K::Str),
            ("present", K::Bool),
            ("unchanged", K::StrList),
            ("since", K::Str),
        ],
        summary: "Assert a secure-store key is present/absent, or unchanged since a snapshot.",
    },
    Command::Background { .. } => {
        name: "background",
        string_form: S::Value(K::Duration),
        value_key: Some("for"),
        keys: &[("for", K::Duration)],
        summary: "Send the app to the background for a while, then bring it back.",
    },
    Command::SetNetwork(_) => {
        name: "setNetwork",
        string_form: S::Value(K::Enum(&["online", "offline"])),
        value_key: Some("state"),
        keys: &[("state", K::Enum(&["online", "offline"]))],
        summary: "Take the device offline or back online.",
    },
}

/// Legacy `- action: X` spellings Maestro still reads.
pub const LEGACY_ACTIONS: &[&str] = &["back", "hideKeyboard", "scroll", "clearKeychain", "pasteText"];

/// Commands that take a selector's keys (plus tap keys for the tap family) in object form.
pub fn takes_selector_keys(name: &str) -> bool {
    matches!(
        name,
        "tapOn" | "doubleTapOn" | "longPressOn" | "assertVisible" | "assertNotVisible" | "copyTextFrom"
    )
}

pub fn takes_tap_keys(name: &str) -> bool {
    matches!(name, "tapOn" | "doubleTapOn" | "longPressOn")
}

pub fn spec(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// The YAML name of a command, for messages, key paths and the emitter.
pub fn command_name(c: &Command) -> &'static str {
    spec_of(c).name
}

pub fn names() -> impl Iterator<Item = &'static str> {
    COMMANDS.iter().map(|c| c.name)
}

/// All object keys a command accepts, including `label` and `optional`.
pub fn object_keys(spec: &CommandSpec) -> Vec<&'static str> {
    let mut keys: Vec<&str> = spec.keys.iter().map(|(k, _)| *k).collect();
    if takes_selector_keys(spec.name) {
        keys.extend(SELECTOR_KEYS.iter().map(|(k, _)| *k));
    }
    if takes_tap_keys(spec.name) {
        keys.extend(TAP_KEYS.iter().map(|(k, _)| *k));
    }
    keys.extend(["label", "optional"]);
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = names().collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "a command name is in the table twice");
    }

    #[test]
    fn value_keys_match_string_forms() {
        for spec in COMMANDS {
            match (spec.string_form, spec.value_key) {
                (StringForm::Value(_) | StringForm::BareOrValue(_), Some(key)) => assert!(
                    object_keys(spec).contains(&key),
                    "{}: value key '{key}' is not one of its object keys",
                    spec.name
                ),
                (StringForm::Value(_) | StringForm::BareOrValue(_), None) => {
                    panic!("{}: a string form with a value needs a value key", spec.name)
                }
                (StringForm::None | StringForm::Bare, Some(key)) => {
                    panic!(
                        "{}: value key '{key}' without a string form that takes a value",
                        spec.name
                    )
                }
                (StringForm::None | StringForm::Bare, None) => {}
            }
        }
    }

    #[test]
    fn rows_name_their_commands() {
        let cases = [
            (Command::Back, "back"),
            (Command::SetNetwork(crate::platform::Network::Offline), "setNetwork"),
            (
                Command::InputRandom {
                    kind: RandomInput::CityName,
                    length: None,
                },
                "inputRandomCityName",
            ),
        ];
        for (command, name) in cases {
            assert_eq!(command_name(&command), name);
            let row = spec(name).expect("a row");
            assert_eq!(spec_of(&command).summary, row.summary);
        }
    }
}
