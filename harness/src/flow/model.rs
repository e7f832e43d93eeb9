//! The validated flow model: what a flow means, independent of how it was written.
//!
//! Nothing here reads files or knows YAML. `flow::parse` builds these values from YAML and
//! `flow::emit` writes them back; the executor (a later module) runs them. Every command is
//! one variant of [`Command`], so a `match` over it cannot silently skip a command.

use std::fmt;
use std::time::Duration;

pub use crate::platform::{Network, Platform};
use crate::yaml::Pos;

/// One flow file: header (config) and commands.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Flow {
    pub header: Header,
    pub steps: Vec<Step>,
}

/// The first YAML document of a flow.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Header {
    /// `appId` (Maestro): one id for every platform. Optional when `app` names a profile.
    pub app_id: Option<Template>,
    /// `app`: path of an app profile, relative to the flow file (harness extension).
    pub app: Option<String>,
    /// Where `app` was written, for errors about the profile file.
    pub app_loc: Loc,
    pub name: Option<String>,
    pub tags: Vec<String>,
    /// `env`: flow variables, in file order. Values may reference other variables.
    pub env: Vec<(String, Template)>,
    /// Where each `env` entry was written (same order as `env`).
    pub env_locs: Vec<Loc>,
    pub on_flow_start: Vec<Step>,
    pub on_flow_complete: Vec<Step>,
    /// `properties`: free key/values, written to JUnit as `<property>`.
    pub properties: Vec<(String, String)>,
}

/// Where a step was written. Two steps are equal when they mean the same thing, wherever they
/// were written, so `Loc` compares equal to every other `Loc`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Loc(pub Pos);

impl PartialEq for Loc {
    fn eq(&self, _: &Loc) -> bool {
        true
    }
}

/// A command with the options every command accepts.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub command: Command,
    /// `label`: shown in reports instead of the generated description.
    pub label: Option<String>,
    /// `optional: true`: a failure becomes a warning and the flow goes on.
    pub optional: bool,
    pub loc: Loc,
    /// Typed fields written as `${…}` (`timeout: ${TIMEOUT}`): `command` holds a placeholder
    /// there until the step runs, when the templates are resolved and the command is read
    /// again from `source` with the same rules (see [`crate::flow::parse::resolve_deferred`]).
    pub deferred: Vec<Deferred>,
    /// The command as written, kept when `deferred` is not empty.
    pub source: StepSource,
}

impl Step {
    pub fn new(command: Command) -> Self {
        Step {
            command,
            label: None,
            optional: false,
            loc: Loc::default(),
            deferred: vec![],
            source: StepSource::default(),
        }
    }
}

/// A field of a command whose value is a template resolved when the step runs, though the
/// field is typed (a number, a duration, a word, a point…).
#[derive(Clone, Debug, PartialEq)]
pub struct Deferred {
    /// Where in the command's value: map keys and list indexes; empty for the string form.
    pub path: Vec<PathSeg>,
    pub template: Template,
    pub loc: Loc,
}

impl Deferred {
    /// `permissions.location`, `points[1]`; empty for the string form.
    pub fn key(&self) -> String {
        let mut out = String::new();
        for seg in &self.path {
            match seg {
                PathSeg::Key(k) if out.is_empty() => out.push_str(k),
                PathSeg::Key(k) => {
                    out.push('.');
                    out.push_str(k)
                }
                PathSeg::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathSeg {
    Key(String),
    Index(usize),
}

/// The command name and value node as written (for deferred fields). Compares equal to every
/// other, like [`Loc`]: it is how the step was written, not what it means.
#[derive(Clone, Debug, Default)]
pub struct StepSource(pub Option<std::sync::Arc<(String, crate::yaml::Node)>>);

impl PartialEq for StepSource {
    fn eq(&self, _: &StepSource) -> bool {
        true
    }
}

/// Text with `${NAME}` references, resolved when the step runs.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Template {
    pub parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Text(String),
    /// `${NAME}`: a variable.
    Var(String),
    /// `${...}` that is not a plain variable name: a JavaScript expression, evaluated when
    /// the step runs (`crate::js`).
    Script(String),
}

impl Template {
    pub fn literal(s: impl Into<String>) -> Self {
        Template {
            parts: vec![Part::Text(s.into())],
        }
    }

    /// The text, when the template has no references.
    pub fn as_literal(&self) -> Option<String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                _ => return None,
            }
        }
        Some(out)
    }

    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v.as_str()),
            _ => None,
        })
    }

    pub fn scripts(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Script(s) => Some(s.as_str()),
            _ => None,
        })
    }

    /// Substitutes variables with `lookup`; the first unknown name is the error.
    pub fn render(&self, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Var(v) => out.push_str(&lookup(v).ok_or_else(|| v.clone())?),
                Part::Script(s) => return Err(format!("${{{s}}}")),
            }
        }
        Ok(out)
    }
}

impl fmt::Display for Template {
    /// The source form: `Hello ${NAME}`; a literal `$` before `{` is written `\${`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.parts {
            match p {
                Part::Text(t) => f.write_str(&t.replace("${", "\\${"))?,
                Part::Var(v) => write!(f, "${{{v}}}")?,
                Part::Script(s) => write!(f, "${{{s}}}")?,
            }
        }
        Ok(())
    }
}

/// Maestro's element selector. All present criteria must hold (AND).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Selector {
    /// Regex over the visible text or accessibility label (the string shorthand).
    pub text: Option<Template>,
    /// Regex over the accessibility id / resource-id / testID.
    pub id: Option<Template>,
    /// 0-based index among the matches.
    pub index: Option<u32>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub tolerance: Option<u32>,
    pub below: Option<Box<Selector>>,
    pub above: Option<Box<Selector>>,
    pub left_of: Option<Box<Selector>>,
    pub right_of: Option<Box<Selector>>,
    pub child_of: Option<Box<Selector>>,
    pub contains_child: Option<Box<Selector>>,
    pub contains_descendants: Vec<Selector>,
    pub traits: Vec<Trait>,
    pub enabled: Option<bool>,
    pub selected: Option<bool>,
    pub checked: Option<bool>,
    pub focused: Option<bool>,
    /// Web only in Maestro; kept so such flows parse.
    pub css: Option<String>,
}

impl Selector {
    pub fn text(t: &str) -> Self {
        Selector {
            text: Some(Template::literal(t)),
            ..Selector::default()
        }
    }

    pub fn id(t: &str) -> Self {
        Selector {
            id: Some(Template::literal(t)),
            ..Selector::default()
        }
    }

    /// True when only `text` is set, so the selector can be written in string form.
    pub fn is_text_only(&self) -> bool {
        self.text.is_some()
            && Selector {
                text: None,
                ..self.clone()
            } == Selector::default()
    }

    /// Nested selectors (relations), for walks over every regex.
    pub fn children(&self) -> impl Iterator<Item = &Selector> {
        [
            &self.below,
            &self.above,
            &self.left_of,
            &self.right_of,
            &self.child_of,
            &self.contains_child,
        ]
        .into_iter()
        .filter_map(|s| s.as_deref())
        .chain(self.contains_descendants.iter())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trait {
    Text,
    LongText,
    Square,
}

impl Trait {
    pub const ALL: [(&'static str, Trait); 3] = [
        ("text", Trait::Text),
        ("long-text", Trait::LongText),
        ("square", Trait::Square),
    ];
    pub fn name(self) -> &'static str {
        match self {
            Trait::Text => "text",
            Trait::LongText => "long-text",
            Trait::Square => "square",
        }
    }
}

/// `when:` / `while:` condition. All present parts must hold.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Condition {
    pub platform: Option<ConditionPlatform>,
    pub visible: Option<Selector>,
    pub not_visible: Option<Selector>,
    /// `true: ${…}`: holds when the value is truthy (JavaScript truthiness for one
    /// expression; otherwise the text must not be empty, `false`, `0`, `null` or `undefined`).
    pub script: Option<Template>,
    pub label: Option<String>,
}

/// The platform a `when: {platform: …}` condition names: a device platform, or `Web`
/// (Maestro's web flows), which no device of this harness is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConditionPlatform {
    Device(Platform),
    Web,
}

impl ConditionPlatform {
    pub const ALL: [(&'static str, ConditionPlatform); 3] = [
        ("iOS", ConditionPlatform::Device(Platform::Ios)),
        ("Android", ConditionPlatform::Device(Platform::Android)),
        ("Web", ConditionPlatform::Web),
    ];
    pub fn name(self) -> &'static str {
        match self {
            ConditionPlatform::Device(p) => p.name(),
            ConditionPlatform::Web => "Web",
        }
    }
}

/// A screen coordinate: pixels or percent of the screen (or of the element, with a selector).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Coord {
    Px(i32),
    Percent(f32),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub x: Coord,
    pub y: Coord,
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = |c: Coord| match c {
            Coord::Px(p) => p.to_string(),
            Coord::Percent(p) => format!("{p}%"),
        };
        write!(f, "{},{}", c(self.x), c(self.y))
    }
}

/// What a tap aims at.
#[derive(Clone, Debug, PartialEq)]
pub enum TapTarget {
    Element(Selector),
    /// A point on the screen.
    Point(Point),
    /// A point relative to an element (`point` with a selector).
    ElementPoint(Selector, Point),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Tap {
    pub target: TapTarget,
    pub retry_tap_if_no_change: Option<bool>,
    pub wait_until_visible: Option<bool>,
    /// Number of taps.
    pub repeat: Option<u32>,
    /// Delay between repeated taps, in ms (Maestro: 100).
    pub delay_ms: Option<u32>,
    pub wait_to_settle_timeout_ms: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
    Left,
    Right,
}

impl Direction {
    pub const ALL: [(&'static str, Direction); 4] = [
        ("UP", Direction::Up),
        ("DOWN", Direction::Down),
        ("LEFT", Direction::Left),
        ("RIGHT", Direction::Right),
    ];
    pub fn name(self) -> &'static str {
        match self {
            Direction::Up => "UP",
            Direction::Down => "DOWN",
            Direction::Left => "LEFT",
            Direction::Right => "RIGHT",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum SwipeKind {
    Direction(Direction),
    Points { start: Point, end: Point },
    FromElement { from: Selector, direction: Direction },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Swipe {
    pub kind: SwipeKind,
    /// Gesture duration in ms (Maestro: 400).
    pub duration_ms: Option<u32>,
    pub wait_to_settle_timeout_ms: Option<u32>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LaunchApp {
    pub app_id: Option<Template>,
    pub clear_state: Option<bool>,
    pub clear_keychain: Option<bool>,
    /// Stop the app before launching (Maestro default true).
    pub stop_app: Option<bool>,
    pub permissions: Vec<(String, Permission)>,
    /// Launch arguments, as text.
    pub arguments: Vec<(String, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    Allow,
    Deny,
    Unset,
}

impl Permission {
    pub const ALL: [(&'static str, Permission); 3] = [
        ("allow", Permission::Allow),
        ("deny", Permission::Deny),
        ("unset", Permission::Unset),
    ];
    pub fn name(self) -> &'static str {
        match self {
            Permission::Allow => "allow",
            Permission::Deny => "deny",
            Permission::Unset => "unset",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RandomInput {
    Text,
    Number,
    Email,
    PersonName,
    CityName,
    CountryName,
    ColorName,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Orientation {
    Portrait,
    LandscapeLeft,
    LandscapeRight,
    UpsideDown,
}

impl Orientation {
    pub const ALL: [(&'static str, Orientation); 4] = [
        ("portrait", Orientation::Portrait),
        ("landscapeLeft", Orientation::LandscapeLeft),
        ("landscapeRight", Orientation::LandscapeRight),
        ("upsideDown", Orientation::UpsideDown),
    ];
    pub fn name(self) -> &'static str {
        match self {
            Orientation::Portrait => "portrait",
            Orientation::LandscapeLeft => "landscapeLeft",
            Orientation::LandscapeRight => "landscapeRight",
            Orientation::UpsideDown => "upsideDown",
        }
    }
}

/// Keys for `pressKey`, with Maestro's names (`KeyCode.kt`).
pub const KEYS: &[&str] = &[
    "Enter",
    "Backspace",
    "Back",
    "Home",
    "Lock",
    "Volume Up",
    "Volume Down",
    "Remote Dpad Up",
    "Remote Dpad Down",
    "Remote Dpad Left",
    "Remote Dpad Right",
    "Remote Dpad Center",
    "Remote Media Play Pause",
    "Remote Media Stop",
    "Remote Media Next",
    "Remote Media Previous",
    "Remote Media Rewind",
    "Remote Media Fast Forward",
    "Escape",
    "Power",
    "Tab",
    "Remote System Navigation Up",
    "Remote System Navigation Down",
    "Remote Button A",
    "Remote Button B",
    "Remote Menu",
    "TV Input",
    "TV Input HDMI 1",
    "TV Input HDMI 2",
    "TV Input HDMI 3",
];

/// A sub-flow: a file (resolved by the loader) or inline commands.
#[derive(Clone, Debug, PartialEq)]
pub enum FlowSource {
    /// Path as written, relative to the flow file.
    File(String),
    Inline(Vec<Step>),
}

/// The app's authentication state as the app profile reads it from the screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionState {
    SignedIn,
    SignedOut,
    /// What the app profile documents for a cold start without network (`offline.coldStart`).
    OfflineExpected,
}

impl SessionState {
    pub const ALL: [(&'static str, SessionState); 3] = [
        ("signedIn", SessionState::SignedIn),
        ("signedOut", SessionState::SignedOut),
        ("offlineExpected", SessionState::OfflineExpected),
    ];
    pub fn name(self) -> &'static str {
        match self {
            SessionState::SignedIn => "signedIn",
            SessionState::SignedOut => "signedOut",
            SessionState::OfflineExpected => "offlineExpected",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum KeychainCheck {
    /// `{key: K, present: true|false}`
    Presence { key: String, present: bool },
    /// `{unchanged: [K…], since: SNAPSHOT}`: same digest as in the named snapshot.
    Unchanged { keys: Vec<String>, since: String },
}

/// Every command of the flow language: Maestro's (peers.md §2.2) and the session commands.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    // App lifecycle.
    LaunchApp(LaunchApp),
    StopApp {
        app_id: Option<Template>,
    },
    KillApp {
        app_id: Option<Template>,
    },
    ClearState {
        app_id: Option<Template>,
    },
    ClearKeychain,
    SetPermissions {
        app_id: Option<Template>,
        permissions: Vec<(String, Permission)>,
    },
    OpenLink {
        link: Template,
        browser: Option<bool>,
        auto_verify: Option<bool>,
    },

    // Touch and assertions on elements.
    TapOn(Tap),
    DoubleTapOn(Tap),
    LongPressOn(Tap),
    AssertVisible(Selector),
    AssertNotVisible(Selector),
    ExtendedWaitUntil {
        visible: Option<Selector>,
        not_visible: Option<Selector>,
        timeout: Option<Duration>,
    },
    AssertScreenshot {
        path: String,
        threshold_percentage: Option<f64>,
        crop_on: Option<Selector>,
    },
    CopyTextFrom(Selector),
    ScrollUntilVisible {
        element: Selector,
        direction: Option<Direction>,
        timeout: Option<Duration>,
        speed: Option<u32>,
        visibility_percentage: Option<u32>,
        center_element: Option<bool>,
        wait_to_settle_timeout_ms: Option<u32>,
    },
    Swipe(Swipe),
    Scroll,

    // Text and keys.
    InputText(Template),
    InputRandom {
        kind: RandomInput,
        length: Option<u32>,
    },
    EraseText {
        characters: Option<u32>,
    },
    PasteText,
    SetClipboard(Template),
    PressKey(String),
    Back,
    HideKeyboard,

    // Device settings.
    SetLocation {
        latitude: f64,
        longitude: f64,
    },
    Travel {
        points: Vec<(f64, f64)>,
        speed: Option<f64>,
    },
    SetOrientation(Orientation),
    SetAirplaneMode(bool),
    ToggleAirplaneMode,
    SetDarkMode(bool),
    ToggleDarkMode,
    AssertDarkMode,
    AssertLightMode,
    AddMedia(Vec<String>),

    // Capture and waiting.
    TakeScreenshot {
        path: String,
        crop_on: Option<Selector>,
    },
    StartRecording {
        path: String,
    },
    StopRecording,
    WaitForAnimationToEnd {
        timeout: Option<Duration>,
    },

    // Composition.
    RunFlow {
        source: FlowSource,
        when: Option<Condition>,
        env: Vec<(String, Template)>,
    },
    Repeat {
        times: Option<u32>,
        while_: Option<Condition>,
        commands: Vec<Step>,
    },
    Retry {
        max_retries: Option<u32>,
        source: FlowSource,
        env: Vec<(String, Template)>,
    },

    // JavaScript (`crate::js`).
    RunScript {
        file: String,
        env: Vec<(String, Template)>,
        when: Option<Condition>,
    },
    EvalScript(Template),
    AssertTrue(Template),

    // AI commands (parsed; reported as not supported).
    AssertWithAi {
        assertion: String,
    },
    AssertNoDefectsWithAi,
    ExtractTextWithAi {
        query: String,
        output_variable: Option<String>,
    },

    // Session commands (harness extensions).
    Snapshot(String),
    AssertSession {
        state: SessionState,
        within: Option<Duration>,
    },
    AssertConvex {
        authenticated: bool,
        within: Option<Duration>,
    },
    AssertKeychain(KeychainCheck),
    Background {
        duration: Duration,
    },
    SetNetwork(Network),
}

impl Command {
    /// Why this command cannot run here, if it cannot.
    pub fn unsupported(&self) -> Option<&'static str> {
        match self {
            Command::AssertWithAi { .. } | Command::AssertNoDefectsWithAi | Command::ExtractTextWithAi { .. } => Some(
                "AI commands are not supported by harness: assert on selectors or use assertSession / assertConvex",
            ),
            _ => None,
        }
    }

    /// Nested steps (inline sub-flows, repeat bodies), for walks over the whole flow.
    pub fn nested_steps(&self) -> &[Step] {
        match self {
            Command::RunFlow {
                source: FlowSource::Inline(steps),
                ..
            }
            | Command::Retry {
                source: FlowSource::Inline(steps),
                ..
            }
            | Command::Repeat { commands: steps, .. } => steps,
            _ => &[],
        }
    }
}

fn selector_templates_mut<'a>(s: &'a mut Selector, out: &mut Vec<&'a mut Template>) {
    out.extend(s.text.iter_mut().chain(s.id.iter_mut()));
    for c in [
        &mut s.below,
        &mut s.above,
        &mut s.left_of,
        &mut s.right_of,
        &mut s.child_of,
        &mut s.contains_child,
    ]
    .into_iter()
    .filter_map(|c| c.as_deref_mut())
    {
        selector_templates_mut(c, out);
    }
    for c in s.contains_descendants.iter_mut() {
        selector_templates_mut(c, out);
    }
}

fn condition_templates_mut<'a>(c: &'a mut Condition, out: &mut Vec<&'a mut Template>) {
    for s in c.visible.iter_mut().chain(c.not_visible.iter_mut()) {
        selector_templates_mut(s, out);
    }
}

impl Command {
    /// The templates the command holds itself (not those of nested steps, not `env` values,
    /// not `when: {true: …}`, which is evaluated when the condition is): what the executor
    /// resolves before the command runs.
    pub fn templates_mut(&mut self) -> Vec<&mut Template> {
        use Command as C;
        let mut out = Vec::new();
        match self {
            C::LaunchApp(l) => out.extend(l.app_id.iter_mut()),
            C::StopApp { app_id }
            | C::KillApp { app_id }
            | C::ClearState { app_id }
            | C::SetPermissions { app_id, .. } => out.extend(app_id.iter_mut()),
            C::OpenLink { link, .. } => out.push(link),
            C::TapOn(t) | C::DoubleTapOn(t) | C::LongPressOn(t) => match &mut t.target {
                TapTarget::Element(s) | TapTarget::ElementPoint(s, _) => selector_templates_mut(s, &mut out),
                TapTarget::Point(_) => {}
            },
            C::AssertVisible(s) | C::AssertNotVisible(s) | C::CopyTextFrom(s) => selector_templates_mut(s, &mut out),
            C::ExtendedWaitUntil {
                visible, not_visible, ..
            } => {
                for s in visible.iter_mut().chain(not_visible.iter_mut()) {
                    selector_templates_mut(s, &mut out);
                }
            }
            C::AssertScreenshot { crop_on, .. } | C::TakeScreenshot { crop_on, .. } => {
                if let Some(s) = crop_on {
                    selector_templates_mut(s, &mut out);
                }
            }
            C::ScrollUntilVisible { element, .. } => selector_templates_mut(element, &mut out),
            C::Swipe(Swipe {
                kind: SwipeKind::FromElement { from, .. },
                ..
            }) => selector_templates_mut(from, &mut out),
            C::InputText(t) | C::SetClipboard(t) => out.push(t),
            C::RunFlow { when: Some(c), .. } | C::RunScript { when: Some(c), .. } => {
                condition_templates_mut(c, &mut out)
            }
            C::Repeat { while_: Some(c), .. } => condition_templates_mut(c, &mut out),
            _ => {}
        }
        out
    }
}
