//! The command table: every command name, its string form and its object keys.
//!
//! One list serves three readers: the parser (unknown command → "did you mean"), the JSON
//! Schema (`harness schema`), and the tests that prove every command parses and round-trips.
//! Key names here must match what `flow::parse` reads: a key the parser does not read is
//! reported as unknown, so a mismatch fails the round-trip tests.

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

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "launchApp",
        string_form: S::BareOrValue(K::Str),
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
    CommandSpec {
        name: "stopApp",
        string_form: S::BareOrValue(K::Str),
        keys: APP_ID,
        summary: "Force-stop the app (Android am force-stop; iOS terminate).",
    },
    CommandSpec {
        name: "killApp",
        string_form: S::BareOrValue(K::Str),
        keys: APP_ID,
        summary: "Kill the app as the system would (Android am kill; iOS = stopApp).",
    },
    CommandSpec {
        name: "clearState",
        string_form: S::BareOrValue(K::Str),
        keys: APP_ID,
        summary: "Clear the app's data.",
    },
    CommandSpec {
        name: "clearKeychain",
        string_form: S::Bare,
        keys: NONE,
        summary: "Reset the iOS simulator keychain.",
    },
    CommandSpec {
        name: "setPermissions",
        string_form: S::None,
        keys: &[("appId", K::Str), ("permissions", K::StrMap)],
        summary: "Set app permissions (allow, deny, unset).",
    },
    CommandSpec {
        name: "openLink",
        string_form: S::Value(K::Str),
        keys: &[("link", K::Str), ("browser", K::Bool), ("autoVerify", K::Bool)],
        summary: "Open a deep link or URL.",
    },
    CommandSpec {
        name: "tapOn",
        string_form: S::Value(K::Selector),
        keys: &[],
        summary: "Tap an element (text regex or selector) or a point.",
    },
    CommandSpec {
        name: "doubleTapOn",
        string_form: S::Value(K::Selector),
        keys: &[],
        summary: "Double-tap an element or a point.",
    },
    CommandSpec {
        name: "longPressOn",
        string_form: S::Value(K::Selector),
        keys: &[],
        summary: "Long-press an element or a point.",
    },
    CommandSpec {
        name: "assertVisible",
        string_form: S::Value(K::Selector),
        keys: &[],
        summary: "Wait until an element is visible (17 s; 7 s if optional).",
    },
    CommandSpec {
        name: "assertNotVisible",
        string_form: S::Value(K::Selector),
        keys: &[],
        summary: "Wait until an element is not visible.",
    },
    CommandSpec {
        name: "assertTrue",
        string_form: S::Value(K::Str),
        keys: &[("condition", K::Str)],
        summary: "JavaScript condition (not supported).",
    },
    CommandSpec {
        name: "extendedWaitUntil",
        string_form: S::None,
        keys: &[
            ("visible", K::Selector),
            ("notVisible", K::Selector),
            ("timeout", K::Millis),
        ],
        summary: "Wait for an element to appear or disappear, with a timeout in ms.",
    },
    CommandSpec {
        name: "assertScreenshot",
        string_form: S::Value(K::Str),
        keys: &[
            ("path", K::Str),
            ("thresholdPercentage", K::Number),
            ("cropOn", K::Selector),
        ],
        summary: "Compare the screen with a reference image.",
    },
    CommandSpec {
        name: "assertWithAI",
        string_form: S::Value(K::Str),
        keys: &[("assertion", K::Str)],
        summary: "AI assertion (not supported).",
    },
    CommandSpec {
        name: "assertNoDefectsWithAI",
        string_form: S::Bare,
        keys: NONE,
        summary: "AI assertion (not supported).",
    },
    CommandSpec {
        name: "extractTextWithAI",
        string_form: S::Value(K::Str),
        keys: &[("query", K::Str), ("outputVariable", K::Str)],
        summary: "AI text extraction (not supported).",
    },
    CommandSpec {
        name: "inputText",
        string_form: S::Value(K::Str),
        keys: &[("text", K::Str)],
        summary: "Type text into the focused field.",
    },
    CommandSpec {
        name: "inputRandomText",
        string_form: S::Bare,
        keys: &[("length", K::Int)],
        summary: "Type random text (length 8).",
    },
    CommandSpec {
        name: "inputRandomNumber",
        string_form: S::Bare,
        keys: &[("length", K::Int)],
        summary: "Type a random number (length 8).",
    },
    CommandSpec {
        name: "inputRandomEmail",
        string_form: S::Bare,
        keys: NONE,
        summary: "Type a random email address.",
    },
    CommandSpec {
        name: "inputRandomPersonName",
        string_form: S::Bare,
        keys: NONE,
        summary: "Type a random person name.",
    },
    CommandSpec {
        name: "inputRandomCityName",
        string_form: S::Bare,
        keys: NONE,
        summary: "Type a random city name.",
    },
    CommandSpec {
        name: "inputRandomCountryName",
        string_form: S::Bare,
        keys: NONE,
        summary: "Type a random country name.",
    },
    CommandSpec {
        name: "inputRandomColorName",
        string_form: S::Bare,
        keys: NONE,
        summary: "Type a random colour name.",
    },
    CommandSpec {
        name: "eraseText",
        string_form: S::BareOrValue(K::Int),
        keys: &[("charactersToErase", K::Int)],
        summary: "Erase characters (50).",
    },
    CommandSpec {
        name: "copyTextFrom",
        string_form: S::Value(K::Selector),
        keys: &[],
        summary: "Copy an element's text.",
    },
    CommandSpec {
        name: "pasteText",
        string_form: S::Bare,
        keys: NONE,
        summary: "Paste the copied text.",
    },
    CommandSpec {
        name: "setClipboard",
        string_form: S::Value(K::Str),
        keys: &[("text", K::Str)],
        summary: "Set the clipboard.",
    },
    CommandSpec {
        name: "pressKey",
        string_form: S::Value(K::Str),
        keys: &[("key", K::Str)],
        summary: "Press a key (Enter, Back, Home, …).",
    },
    CommandSpec {
        name: "back",
        string_form: S::Bare,
        keys: NONE,
        summary: "Press back (Android).",
    },
    CommandSpec {
        name: "hideKeyboard",
        string_form: S::Bare,
        keys: NONE,
        summary: "Hide the keyboard.",
    },
    CommandSpec {
        name: "scroll",
        string_form: S::Bare,
        keys: NONE,
        summary: "Scroll down.",
    },
    CommandSpec {
        name: "scrollUntilVisible",
        string_form: S::None,
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
    CommandSpec {
        name: "swipe",
        string_form: S::None,
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
    CommandSpec {
        name: "setLocation",
        string_form: S::None,
        keys: &[("latitude", K::Number), ("longitude", K::Number)],
        summary: "Set the GPS location.",
    },
    CommandSpec {
        name: "travel",
        string_form: S::None,
        keys: &[("points", K::StrList), ("speed", K::Number)],
        summary: "Move along GPS points.",
    },
    CommandSpec {
        name: "setOrientation",
        string_form: S::Value(K::Enum(&["portrait", "landscapeLeft", "landscapeRight", "upsideDown"])),
        keys: &[(
            "orientation",
            K::Enum(&["portrait", "landscapeLeft", "landscapeRight", "upsideDown"]),
        )],
        summary: "Rotate the device.",
    },
    CommandSpec {
        name: "setAirplaneMode",
        string_form: S::Value(ENABLED),
        keys: &[("value", ENABLED)],
        summary: "Turn airplane mode on or off.",
    },
    CommandSpec {
        name: "toggleAirplaneMode",
        string_form: S::Bare,
        keys: NONE,
        summary: "Toggle airplane mode.",
    },
    CommandSpec {
        name: "setDarkMode",
        string_form: S::Value(ENABLED),
        keys: &[("value", ENABLED)],
        summary: "Turn dark mode on or off.",
    },
    CommandSpec {
        name: "toggleDarkMode",
        string_form: S::Bare,
        keys: NONE,
        summary: "Toggle dark mode.",
    },
    CommandSpec {
        name: "assertDarkMode",
        string_form: S::Bare,
        keys: NONE,
        summary: "Assert dark mode is on.",
    },
    CommandSpec {
        name: "assertLightMode",
        string_form: S::Bare,
        keys: NONE,
        summary: "Assert light mode is on.",
    },
    CommandSpec {
        name: "addMedia",
        string_form: S::Value(K::StrList),
        keys: &[("files", K::StrList)],
        summary: "Add media files to the gallery.",
    },
    CommandSpec {
        name: "takeScreenshot",
        string_form: S::Value(K::Str),
        keys: &[("path", K::Str), ("cropOn", K::Selector)],
        summary: "Save a screenshot.",
    },
    CommandSpec {
        name: "startRecording",
        string_form: S::Value(K::Str),
        keys: &[("path", K::Str)],
        summary: "Start a screen recording.",
    },
    CommandSpec {
        name: "stopRecording",
        string_form: S::Bare,
        keys: NONE,
        summary: "Stop the screen recording.",
    },
    CommandSpec {
        name: "waitForAnimationToEnd",
        string_form: S::Bare,
        keys: &[("timeout", K::Millis)],
        summary: "Wait until the screen is still (15 s).",
    },
    CommandSpec {
        name: "runFlow",
        string_form: S::Value(K::Str),
        keys: &[
            ("file", K::Str),
            ("commands", K::Steps),
            ("when", K::Condition),
            ("env", K::Env),
        ],
        summary: "Run a sub-flow file or inline commands, optionally when a condition holds.",
    },
    CommandSpec {
        name: "repeat",
        string_form: S::None,
        keys: &[("times", K::Int), ("while", K::Condition), ("commands", K::Steps)],
        summary: "Repeat commands a number of times and/or while a condition holds.",
    },
    CommandSpec {
        name: "retry",
        string_form: S::None,
        keys: &[
            ("maxRetries", K::Int),
            ("file", K::Str),
            ("commands", K::Steps),
            ("env", K::Env),
        ],
        summary: "Retry commands when they fail (maxRetries 1).",
    },
    CommandSpec {
        name: "runScript",
        string_form: S::Value(K::Str),
        keys: &[("file", K::Str), ("env", K::Env), ("when", K::Condition)],
        summary: "JavaScript file (not supported).",
    },
    CommandSpec {
        name: "evalScript",
        string_form: S::Value(K::Str),
        keys: &[("script", K::Str)],
        summary: "JavaScript expression (not supported).",
    },
    // Session commands: harness extensions.
    CommandSpec {
        name: "snapshot",
        string_form: S::Value(K::Str),
        keys: &[("name", K::Str)],
        summary: "Capture secure storage, UI (hierarchy + screenshot) and app state under a name.",
    },
    CommandSpec {
        name: "assertSession",
        string_form: S::Value(K::Enum(&["signedIn", "signedOut", "offlineExpected"])),
        keys: &[
            ("state", K::Enum(&["signedIn", "signedOut", "offlineExpected"])),
            ("within", K::Duration),
        ],
        summary: "Wait until the app shows the auth state (10s).",
    },
    CommandSpec {
        name: "assertConvex",
        string_form: S::Value(K::Bool),
        keys: &[("authenticated", K::Bool), ("within", K::Duration)],
        summary: "Wait until useConvexAuth() reports this authentication (10s).",
    },
    CommandSpec {
        name: "assertKeychain",
        string_form: S::None,
        keys: &[
            ("key", K::Str),
            ("present", K::Bool),
            ("unchanged", K::StrList),
            ("since", K::Str),
        ],
        summary: "Assert a secure-store key is present/absent, or unchanged since a snapshot.",
    },
    CommandSpec {
        name: "background",
        string_form: S::Value(K::Duration),
        keys: &[("for", K::Duration)],
        summary: "Send the app to the background for a while, then bring it back.",
    },
    CommandSpec {
        name: "setNetwork",
        string_form: S::Value(K::Enum(&["online", "offline"])),
        keys: &[("state", K::Enum(&["online", "offline"]))],
        summary: "Take the device offline or back online.",
    },
];

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
