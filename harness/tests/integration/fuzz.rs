//! Property tests: the parsers of flows, app profiles, device profiles and raw YAML never
//! panic, always terminate, and report sane diagnostics; and a flow that parses without
//! errors survives `emit_flow` → `parse_flow` unchanged (the round-trip property).
//!
//! Inputs come from four sources: arbitrary bytes and strings, random YAML trees built from
//! the real command table (rendered in block and flow styles), random mutations of the
//! shipped flows and profiles, and a few hostile files (alias bomb, oversized, deeply nested).
//!
//! The proptest seed is fixed so a run is reproducible and cannot flake; explore further with
//! e.g. `PROPTEST_RNG_SEED=7 PROPTEST_CASES=20000 cargo test --test integration fuzz`.
//! Failures are not persisted to files (the seed reproduces them).

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use harness::diag::Diagnostic;
use harness::flow::commands::{
    self, COMMANDS, CONDITION_KEYS, CommandSpec, HEADER_KEYS, KeyType, LEGACY_ACTIONS, SELECTOR_KEYS, StringForm,
    TAP_KEYS,
};
use harness::flow::emit::emit_flow;
use harness::flow::model::{Command, Flow, KEYS};
use harness::flow::parse::parse_flow;
use harness::load::{VarSources, load_flows};
use harness::profile::app::parse_app_profile;
use harness::profile::device::parse_device_profile;
use harness::yaml;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::strategy::{Union, ValueTree};
use proptest::test_runner::{RngSeed, TestRunner};

// ---------------------------------------------------------------------------------------
// Configuration and the checks every input goes through
// ---------------------------------------------------------------------------------------

/// `cases` per property (unless PROPTEST_CASES is set), a fixed seed (unless
/// PROPTEST_RNG_SEED is set), no regression files.
fn config(cases: u32) -> ProptestConfig {
    let base = ProptestConfig::default();
    ProptestConfig {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            base.cases
        } else {
            cases
        },
        rng_seed: match base.rng_seed {
            RngSeed::Random => RngSeed::Fixed(0x5EED_F10E),
            fixed => fixed,
        },
        failure_persistence: None,
        ..base
    }
}

const FLOW_FILE: &str = "fuzz.yaml";

/// Line breaks as YAML counts them (`\n`, `\r\n`, lone `\r`), plus one.
fn yaml_lines(text: &str) -> usize {
    let b = text.as_bytes();
    let mut n = 1;
    for (i, c) in b.iter().enumerate() {
        match c {
            b'\n' => n += 1,
            b'\r' if b.get(i + 1) != Some(&b'\n') => n += 1,
            _ => {}
        }
    }
    n
}

/// Every diagnostic has a message and a position inside the file; only whole-file problems
/// (empty key path) may have no line. Rendering never panics.
fn check_diags(what: &str, text: &str, diags: &[Diagnostic]) {
    let lines = yaml_lines(text);
    for d in diags {
        assert!(
            !d.message.trim().is_empty(),
            "{what}: diagnostic with an empty message: {d:?}\ninput: {text:?}"
        );
        if d.line == 0 {
            assert!(
                d.key.is_empty(),
                "{what}: diagnostic without a line: {d:?}\ninput: {text:?}"
            );
        } else {
            assert!(
                d.column >= 1,
                "{what}: diagnostic with column 0: {d:?}\ninput: {text:?}"
            );
            assert!(
                d.line as usize <= lines + 1,
                "{what}: diagnostic past the end of the file ({lines} lines): {d:?}\ninput: {text:?}"
            );
        }
        let _ = d.render(Some(text));
    }
}

/// Parses a flow, checks its diagnostics and, when it has no errors, the round trip.
/// Returns whether the flow had no errors.
fn check_flow(text: &str) -> bool {
    let path = Path::new(FLOW_FILE);
    let (flow, diags) = parse_flow(text, path);
    check_diags("parse_flow", text, &diags);
    if diags.iter().any(Diagnostic::is_error) {
        return false;
    }
    // Every flow without errors, with no exceptions: inputs that once broke the round trip
    // are pinned by the regression tests at the end of this file.
    assert_round_trip(text, &flow, &emit_flow(&flow));
    true
}

/// `emitted` (the flow written back) parses without errors to the same flow.
fn assert_round_trip(text: &str, flow: &Flow, emitted: &str) {
    let path = Path::new(FLOW_FILE);
    let (again, diags) = parse_flow(emitted, path);
    let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
    assert!(
        errors.is_empty(),
        "the re-emitted flow has errors: {errors:#?}\noriginal:\n{text}\nemitted:\n{emitted}"
    );
    assert!(
        again == *flow,
        "emit → parse changed the flow\noriginal:\n{text}\nemitted:\n{emitted}\nfirst:  {flow:?}\nsecond: {again:?}"
    );
}

/// Every parser over one text: none may panic, all must report sanely.
fn all_parsers(text: &str) {
    if let Err(e) = yaml::parse_documents(text) {
        assert!(!e.message.trim().is_empty(), "empty syntax error message for {text:?}");
        assert!(e.pos.line >= 1, "syntax error without a line: {e:?} for {text:?}");
    }
    check_flow(text);
    let (_, diags) = parse_app_profile(text, Path::new("app.yaml"));
    check_diags("parse_app_profile", text, &diags);
    let (_, diags) = parse_device_profile(text, Path::new("device.yaml"));
    check_diags("parse_device_profile", text, &diags);
}

// ---------------------------------------------------------------------------------------
// Random YAML trees and their rendering
// ---------------------------------------------------------------------------------------

/// A YAML tree to render. `Raw` is a plain scalar written as is (`.nan`, `0x1F`, `*a`).
#[derive(Clone, Debug)]
enum Y {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Raw(&'static str),
    Seq(Vec<Y>),
    Map(Vec<(String, Y)>),
}

fn map1(key: &str, value: Y) -> Y {
    Y::Map(vec![(key.to_string(), value)])
}

/// Drops later duplicates of a key (duplicate keys are covered by the mutation tests).
fn dedup(entries: Vec<(String, Y)>) -> Vec<(String, Y)> {
    let mut seen = std::collections::BTreeSet::new();
    entries.into_iter().filter(|(k, _)| seen.insert(k.clone())).collect()
}

/// A small deterministic generator of style choices, so one proptest value (the seed)
/// decides block or flow style and quoting everywhere in a document.
struct Style(u64);

impl Style {
    fn new(seed: u64) -> Self {
        Style(seed | 1)
    }

    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// True one time in `n`.
    fn one_in(&mut self, n: u64) -> bool {
        self.next().is_multiple_of(n)
    }
}

fn is_yaml_printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && c != '\u{feff}'
}

fn plain_ok(s: &str, in_flow: bool) -> bool {
    let Some(first) = s.chars().next() else { return false };
    let first_ok = first.is_ascii_alphanumeric()
        || (!first.is_ascii() && first.is_alphabetic())
        || "$/\\(._^+=;<>".contains(first);
    let rest_ok = s.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || (!c.is_ascii() && c.is_alphabetic())
            || " $/\\()._^+=;<>-*&!|?%@'\"".contains(c)
            || (!in_flow && "{}[],".contains(c))
    });
    // A plain `null` would be null, not the string; other re-typings (`true`, `0x1F`) are kept
    // on purpose: string fields accept them.
    first_ok && rest_ok && !s.ends_with(' ') && !matches!(s, "null" | "Null" | "NULL")
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c == '\u{feff}' || !is_yaml_printable(c) => {
                let n = c as u32;
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn scalar_str(s: &str, in_flow: bool, st: &mut Style) -> String {
    if plain_ok(s, in_flow) && !st.one_in(3) {
        return s.to_string();
    }
    let single_ok = s
        .chars()
        .all(|c| is_yaml_printable(c) && !matches!(c, '\n' | '\r' | '\t'));
    if single_ok && st.one_in(3) {
        return format!("'{}'", s.replace('\'', "''"));
    }
    double_quoted(s)
}

fn literal_ok(s: &str) -> bool {
    !s.is_empty()
        && s.split('\n').all(|l| {
            !l.is_empty() && !l.starts_with([' ', '\t']) && l.chars().all(|c| is_yaml_printable(c) && c != '\r')
        })
}

/// A node in flow style (also used for scalars in block style).
fn flow(y: &Y, in_flow: bool, st: &mut Style) -> String {
    match y {
        Y::Null => ["null", "~", "Null"][(st.next() % 3) as usize].to_string(),
        Y::Bool(b) => {
            let t = b.to_string();
            if st.one_in(4) { t.to_uppercase() } else { t }
        }
        Y::Int(i) => {
            if *i >= 0 && st.one_in(8) {
                format!("0x{i:x}")
            } else {
                i.to_string()
            }
        }
        Y::Float(f) if f.is_nan() => ".nan".into(),
        Y::Float(f) if f.is_infinite() => (if *f > 0.0 { ".inf" } else { "-.inf" }).into(),
        Y::Float(f) => format!("{f:?}"),
        Y::Str(s) => scalar_str(s, in_flow, st),
        Y::Raw(r) => r.to_string(),
        Y::Seq(items) => {
            let parts: Vec<String> = items.iter().map(|i| flow(i, true, st)).collect();
            format!("[{}]", parts.join(", "))
        }
        Y::Map(entries) => {
            let parts: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", scalar_str(k, true, st), flow(v, true, st)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// The value after `key:` (`in_seq == false`) or after `-` (`in_seq == true`).
fn block_value(y: &Y, indent: usize, in_seq: bool, st: &mut Style, out: &mut String) {
    match y {
        Y::Map(m) if !m.is_empty() && !st.one_in(4) => {
            out.push('\n');
            block_map(m, indent + 2, st, out);
        }
        Y::Seq(items) if !items.is_empty() && !st.one_in(4) => {
            out.push('\n');
            // A map's value may be a list at the key's own indentation.
            let inner = if !in_seq && st.one_in(3) { indent } else { indent + 2 };
            block_seq(items, inner, st, out);
        }
        Y::Str(s) if literal_ok(s) && st.one_in(3) => {
            out.push_str(" |-\n");
            for line in s.split('\n') {
                pad(out, indent + 2);
                out.push_str(line);
                out.push('\n');
            }
        }
        Y::Null if st.one_in(2) => out.push('\n'),
        other => {
            out.push(' ');
            out.push_str(&flow(other, false, st));
            if st.one_in(10) {
                out.push_str(" # note");
            }
            out.push('\n');
        }
    }
}

fn block_map(entries: &[(String, Y)], indent: usize, st: &mut Style, out: &mut String) {
    for (k, v) in entries {
        pad(out, indent);
        out.push_str(&scalar_str(k, false, st));
        out.push(':');
        block_value(v, indent, false, st, out);
    }
}

fn block_seq(items: &[Y], indent: usize, st: &mut Style, out: &mut String) {
    for item in items {
        let compact = match item {
            Y::Map(m) if !m.is_empty() && !st.one_in(4) => {
                let mut sub = String::new();
                block_map(m, indent + 2, st, &mut sub);
                Some(sub)
            }
            Y::Seq(s) if !s.is_empty() && !st.one_in(4) => {
                let mut sub = String::new();
                block_seq(s, indent + 2, st, &mut sub);
                Some(sub)
            }
            _ => None,
        };
        pad(out, indent);
        match compact {
            // `- key: value` / `- - item`: the nested block's first line shares the dash's line.
            Some(sub) => {
                out.push_str("- ");
                out.push_str(&sub[indent + 2..]);
            }
            None => {
                out.push('-');
                block_value(item, indent, true, st, out);
            }
        }
    }
}

fn render_node(y: &Y, st: &mut Style, out: &mut String) {
    if st.one_in(8) {
        out.push_str("# a comment\n");
    }
    match y {
        Y::Map(m) if !m.is_empty() && !st.one_in(5) => block_map(m, 0, st, out),
        Y::Seq(s) if !s.is_empty() && !st.one_in(5) => block_seq(s, 0, st, out),
        other => {
            out.push_str(&flow(other, false, st));
            out.push('\n');
        }
    }
}

/// How the documents of a generated file are laid out.
#[derive(Clone, Debug)]
enum Doc {
    /// Header, `---`, commands: the shape of every valid flow.
    Flow(Y, Y),
    StepsOnly(Y),
    HeaderOnly(Y),
    Three(Y, Y, Y),
    Any(Y),
}

fn render(doc: &Doc, seed: u64) -> String {
    let mut st = Style::new(seed);
    let mut out = String::new();
    if st.one_in(6) {
        out.push_str("---\n");
    }
    let docs: Vec<&Y> = match doc {
        Doc::Flow(h, s) => vec![h, s],
        Doc::StepsOnly(s) => vec![s],
        Doc::HeaderOnly(h) => vec![h],
        Doc::Three(a, b, c) => vec![a, b, c],
        Doc::Any(y) => vec![y],
    };
    for (i, y) in docs.into_iter().enumerate() {
        if i > 0 {
            out.push_str(if st.one_in(8) { "--- # steps\n" } else { "---\n" });
        }
        render_node(y, &mut st, &mut out);
    }
    if st.one_in(10) {
        out.push_str("...\n");
    }
    out
}

// ---------------------------------------------------------------------------------------
// Value pools and strategies
// ---------------------------------------------------------------------------------------

/// Valid flows (every key and value chosen to pass, so the round trip is exercised) or noisy
/// ones (wrong types, bad values, unknown keys and commands, odd document layouts).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Valid,
    Noisy,
}

/// Texts that are valid everywhere a string is (including as a selector regex), chosen to
/// stress quoting and escaping in the emitter.
const TEXTS: &[&str] = &[
    "Sign in",
    "auth-continue",
    "screen-home",
    "Welcome.*",
    "Price \\(USD\\)",
    "(?i)sign in",
    "a{2,}",
    "^$",
    "${HARNESS_EMAIL}",
    "Hi ${NAME}!",
    "${output.user || 'x'}",
    "${ A }",
    "$",
    "true",
    "1.10",
    "0x1F",
    "~",
    "null",
    "Grüße 👋",
    "日本語",
    "tab\there",
    "line1\nline2",
    "quote\"s",
    "it's",
    "back\\\\slash",
    "#hash",
    "a: b",
    "a #b",
    "- dash",
    "&amp",
    "!bang",
    "%pct",
    "@at",
    "`tick`",
    "del\u{7f}",
    "nel\u{85}",
    "c1\u{9b}",
    "nonchar\u{fffe}",
    "bom\u{feff}",
    "ctl\u{1}",
    "ls\u{2028}ps\u{2029}",
    "cr\rlf",
    "trailing ",
    " leading",
    "---",
    "...",
];

/// Texts that are valid where a string is not a regex (`inputText`, `env`, …).
const TEMPLATE_TEXTS: &[&str] = &["\\${LITERAL}", "cost: \\${X", "a\\\\${NAME}"];

const TRAITS: &[&str] = &["text", "long-text", "square", "text square", " square  text "];

const BAD_TRAITS: &[&str] = &["round", "TEXT", ""];

/// Texts that are wrong somewhere: bad regexes, bad templates, empty.
const BAD_TEXTS: &[&str] = &["[unclosed", "*", "a**", "(?P<x", "*star", "${", "${}", "", " "];

const WORDS: &[&str] = &[
    "a", "foo", "x1", "home", "Sign", "ok", "camera", "location", "all", "b_2",
];

/// Keys of free-form maps (`properties`, `arguments`): distinct as text, but `1`, `01` and
/// `1.0` are the same name once read (a duplicate), and `True`, `yES`, `Off`, `N`, `NULL`
/// are read as booleans or null when written plain (so the emitter must quote them).
const MAP_KEYS: &[&str] = &[
    "a", "foo", "x1", "home", "b_2", "camera", "all", "1", "01", "1.0", "true", "True", "yES", "Off", "N", "NULL",
];

/// Durations, some finer than a millisecond (they are read to the nearest millisecond).
const DURATIONS: &[&str] = &[
    "10s", "500ms", "2m", "1h", "1m30s", "1.5s", "0s", "70s", "250ms", "3600s", "1.25s", "1.5ms", "0.0001s", "1.0005s",
];

const BAD_DURATIONS: &[&str] = &["10", "10 parsecs", "s", "8d", "169h", "", "1..5s", "ms", "1e3ms", "-1s"];

const POINTS: &[&str] = &["50%,50%", "10,20", "0%,100%", "50.5%,90%", " 5 , 6 ", "10%,20"];

const BAD_POINTS: &[&str] = &["150%,0", "-1,5", "a,b", "1,2,3", "nan%,1", ""];

const GEO: &[&str] = &["52.52,13.40", "-90,180", "0,0", "1e1,2", "52.53, 13.41"];

const BAD_GEO: &[&str] = &["91,0", "x,y", "NaN,0", "1"];

/// Sub-flow paths; `f0.yaml`… and the two shipped files exist in the load tests' directory.
const FLOW_PATHS: &[&str] = &[
    "subflows/sign-in.yaml",
    "f0.yaml",
    "f1.yaml",
    "./f2.yaml",
    "sub/../f0.yaml",
    "apps/clerk-expo-convex.yaml",
    "../shared/b.yml",
    "sub flow.yaml",
    "${DIR}/a.yaml",
];

const BAD_FLOW_PATHS: &[&str] = &["x.txt", "", "subflows/"];

const FILE_NAMES: &[&str] = &["home-screen", "shots/a.png", "ünï", "a b"];

const APP_IDS: &[&str] = &[
    "com.example.app",
    "${APP_ID}",
    "com.harness.clerkconvex",
    "https://example.com",
];

const APP_PATHS: &[&str] = &["apps/clerk-expo-convex.yaml", "../apps/x.yaml", "apps/missing.yaml"];

const SNAPSHOTS: &[&str] = &["before-quit", "signed-in", "a.b_c", "X1"];

const BAD_SNAPSHOTS: &[&str] = &["with space", "", "naïve", "a/b"];

/// Variable names, some of them spellings YAML reads as booleans or null when plain.
const VAR_NAMES: &[&str] = &[
    "HARNESS_EMAIL",
    "NAME",
    "_x",
    "A1",
    "APP_ID",
    "true",
    "NULL",
    "Off",
    "y",
];

const BAD_VAR_NAMES: &[&str] = &["1BAD", "with-dash", "", "a b"];

const PERMISSIONS: &[&str] = &["all", "camera", "location", "notifications", "medialibrary", "1", "01"];

const PERMISSION_VALUES: &[&str] = &["allow", "deny", "unset", "ALLOW"];

const RAW: &[&str] = &[
    ".nan",
    ".inf",
    "-.inf",
    "~",
    "null",
    "0x1F",
    "0o17",
    "1e3",
    "+1",
    "-0",
    "yes",
    "on",
    "1_000",
    "!!str 5",
    "!!int 7",
    "!custom x",
    "&anc value",
    "*undefined",
    "12:30",
    "2024-01-01",
    "0.",
    ".5",
];

/// Keys for random maps: mostly real names, some noise.
static KEY_POOL: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut keys: Vec<&'static str> = commands::names().collect();
    for spec in COMMANDS {
        keys.extend(spec.keys.iter().map(|(k, _)| *k));
    }
    for table in [SELECTOR_KEYS, TAP_KEYS, CONDITION_KEYS, HEADER_KEYS] {
        keys.extend(table.iter().map(|(k, _)| *k));
    }
    keys.extend([
        "label",
        "optional",
        "action",
        "hide keyboard",
        "1",
        "true",
        "null",
        "~",
        "",
        "a b",
        "${X}",
        "-x",
        "?q",
        "tapon",
        "openBrowser",
    ]);
    keys.sort_unstable();
    keys.dedup();
    keys
});

/// Keys of app and device profiles, for the profile parsers.
const PROFILE_KEYS: &[&str] = &[
    "name",
    "ios",
    "android",
    "auth",
    "convex",
    "secureStore",
    "offline",
    "secrets",
    "bundleId",
    "package",
    "signedIn",
    "signedOut",
    "loading",
    "sessionId",
    "authenticated",
    "unauthenticated",
    "sessionKeys",
    "iosService",
    "coldStart",
    "networkError",
    "platform",
    "kind",
    "tags",
    "backend",
    "serial",
    "udid",
    "avd",
    "deviceName",
    "osVersion",
    "url",
    "capabilities",
    "credentials",
    "username",
    "accessKey",
    "password",
    "virtual",
    "clerkExpo",
    "keyConvexBySession",
    "tokenCache",
    "resourceCache",
    "restoreRate",
    "network",
    "sessionLifetime",
    "inactivityTimeout",
    "latencyScale",
    "seed",
    "waitForIdleTimeout",
    "text",
    "id",
];

const PROFILE_VALUES: &[&str] = &[
    "iOS",
    "Android",
    "virtual",
    "appium",
    "grid",
    "browserstack",
    "saucelabs",
    "lambdatest",
    "ios-simulator",
    "android-emulator",
    "host",
    "appium+host",
    "online",
    "offline",
    "signedIn",
    "networkError",
    "3.2.7",
    "1.34.1",
    "24h",
    "${BROWSERSTACK_USERNAME}",
    "http://127.0.0.1:4723",
    "emulator-5554",
    "__clerk_client_jwt",
];

fn strs(pool: &'static [&'static str]) -> BoxedStrategy<Y> {
    select(pool).prop_map(|s| Y::Str(s.to_string())).boxed()
}

/// Good values only (valid mode), or good and bad mixed (noisy mode).
fn pick(mode: Mode, good: &'static [&'static str], bad: &'static [&'static str]) -> BoxedStrategy<Y> {
    match mode {
        Mode::Valid => strs(good),
        Mode::Noisy => prop_oneof![2 => strs(good), 1 => strs(bad)].boxed(),
    }
}

fn scalar(words: &'static [&'static str]) -> BoxedStrategy<Y> {
    prop_oneof![
        1 => Just(Y::Null),
        1 => any::<bool>().prop_map(Y::Bool),
        1 => prop_oneof![-5i64..200, any::<i64>()].prop_map(Y::Int),
        1 => prop_oneof![-1000.0f64..1000.0, any::<f64>()].prop_map(Y::Float),
        1 => select(RAW).prop_map(Y::Raw),
        4 => strs(TEXTS),
        1 => strs(BAD_TEXTS),
        2 => strs(words),
        1 => strs(DURATIONS),
        1 => strs(POINTS),
        1 => strs(FLOW_PATHS),
        1 => "\\PC{0,12}".prop_map(Y::Str),
        1 => ".{0,6}".prop_map(Y::Str),
    ]
    .boxed()
}

/// Any YAML tree, keys from `keys`.
fn tree_with(keys: Vec<&'static str>, words: &'static [&'static str]) -> BoxedStrategy<Y> {
    let key = prop_oneof![8 => select(keys), 1 => Just("x")].prop_map(String::from);
    scalar(words)
        .prop_recursive(4, 48, 5, move |inner| {
            prop_oneof![
                vec(inner.clone(), 0..5).prop_map(Y::Seq),
                vec((key.clone(), inner), 0..5).prop_map(|e| Y::Map(dedup(e))),
            ]
        })
        .boxed()
}

fn tree() -> BoxedStrategy<Y> {
    tree_with(KEY_POOL.clone(), WORDS)
}

/// What values are generated with, and the strategies they may recurse into.
#[derive(Clone)]
struct Ctx {
    mode: Mode,
    tree: BoxedStrategy<Y>,
    selector: BoxedStrategy<Y>,
    steps: BoxedStrategy<Y>,
}

/// String values that make sense for a command's key (or its string form, `key == ""`).
fn str_pool(mode: Mode, command: &str, key: &str) -> BoxedStrategy<Y> {
    match (command, key) {
        ("runFlow" | "retry", "" | "file") => pick(mode, FLOW_PATHS, BAD_FLOW_PATHS),
        ("snapshot", "" | "name") | (_, "since") => pick(mode, SNAPSHOTS, BAD_SNAPSHOTS),
        ("pressKey", "" | "key") => pick(mode, KEYS, BAD_TEXTS),
        (_, "appId") | ("launchApp" | "stopApp" | "killApp" | "clearState", "") => pick(mode, APP_IDS, BAD_TEXTS),
        (_, "app") => pick(mode, APP_PATHS, BAD_TEXTS),
        (_, "point" | "start" | "end") => pick(mode, POINTS, BAD_POINTS),
        (_, "points") => pick(mode, GEO, BAD_GEO),
        (_, "path" | "file" | "script" | "condition" | "assertion" | "query" | "outputVariable" | "key")
        | (
            "assertScreenshot" | "takeScreenshot" | "startRecording" | "runScript" | "evalScript" | "assertTrue"
            | "assertWithAI" | "extractTextWithAI",
            "",
        ) => pick(mode, FILE_NAMES, BAD_TEXTS),
        ("header", "name" | "tags") | (_, "unchanged") => pick(mode, WORDS, BAD_TEXTS),
        (_, "traits") => pick(mode, TRAITS, BAD_TRAITS),
        // Selector texts and ids are regexes; other strings are only templates.
        ("selector", _) | (_, "id") => pick(mode, TEXTS, BAD_TEXTS),
        (_, "text") if commands::takes_selector_keys(command) => pick(mode, TEXTS, BAD_TEXTS),
        _ => prop_oneof![4 => pick(mode, TEXTS, BAD_TEXTS), 1 => strs(TEMPLATE_TEXTS)].boxed(),
    }
}

/// A value for `key` of `command`, of type `kt`.
fn value(command: &'static str, key: &'static str, kt: KeyType, ctx: &Ctx) -> BoxedStrategy<Y> {
    let mode = ctx.mode;
    let noisy = mode == Mode::Noisy;
    let typed: BoxedStrategy<Y> = match kt {
        KeyType::Str if noisy => {
            prop_oneof![6 => str_pool(mode, command, key), 1 => (0i64..50).prop_map(Y::Int)].boxed()
        }
        KeyType::Str => str_pool(mode, command, key),
        KeyType::Bool if noisy => prop_oneof![
            6 => any::<bool>().prop_map(Y::Bool),
            1 => strs(&["true", "false", "TRUE", "yes", "1", ""]),
        ]
        .boxed(),
        KeyType::Bool => prop_oneof![4 => any::<bool>().prop_map(Y::Bool), 1 => strs(&["true", "False"])].boxed(),
        KeyType::Int if noisy => prop_oneof![
            6 => (0i64..120).prop_map(Y::Int),
            1 => select(&[-1i64, 0, 1000, 30_001, 100_001, i64::MAX, i64::MIN, 4_294_967_296][..]).prop_map(Y::Int),
            1 => strs(&["20", " 3 ", "x", "1.0", ""]),
            1 => select(&[2.0f64, 1.5, -0.0, 1e300][..]).prop_map(Y::Float),
        ]
        .boxed(),
        // 1..=100 is inside the range of every whole-number key.
        KeyType::Int => prop_oneof![
            8 => (1i64..=100).prop_map(Y::Int),
            1 => strs(&["20", " 3 "]),
            1 => Just(Y::Float(2.0)),
        ]
        .boxed(),
        KeyType::Number if noisy => prop_oneof![
            4 => (-200.0f64..200.0).prop_map(Y::Float),
            2 => (-200i64..200).prop_map(Y::Int),
            1 => select(&[".nan", ".inf", "-.inf", "1e2", "-0"][..]).prop_map(Y::Raw),
            1 => strs(&["12.5", "abc", " 7 "]),
        ]
        .boxed(),
        // 0..=90 is inside the range of every number key.
        KeyType::Number => prop_oneof![
            4 => (0.0f64..=90.0).prop_map(Y::Float),
            2 => (0i64..=90).prop_map(Y::Int),
            1 => select(&[1e-7f64, 33.333333333333336, 0.1][..]).prop_map(Y::Float),
            1 => strs(&["12.5", " 7 ", "1e1"]),
        ]
        .boxed(),
        KeyType::Millis if noisy => prop_oneof![
            4 => (0i64..100_000).prop_map(Y::Int),
            1 => strs(&["20000", "1s", "-5", "86400001"]),
        ]
        .boxed(),
        KeyType::Millis => prop_oneof![4 => (0i64..100_000).prop_map(Y::Int), 1 => strs(&["20000"])].boxed(),
        KeyType::Duration if noisy => {
            prop_oneof![6 => pick(mode, DURATIONS, BAD_DURATIONS), 1 => (0i64..100).prop_map(Y::Int)].boxed()
        }
        KeyType::Duration => strs(DURATIONS),
        KeyType::Selector => ctx.selector.clone(),
        // An empty list names no element, and is an error: valid mode lists at least one.
        KeyType::SelectorList if noisy => vec(ctx.selector.clone(), 0..3).prop_map(Y::Seq).boxed(),
        KeyType::SelectorList => vec(ctx.selector.clone(), 1..3).prop_map(Y::Seq).boxed(),
        KeyType::Condition => object("when", CONDITION_KEYS.to_vec(), ctx).prop_map(Y::Map).boxed(),
        KeyType::Steps => ctx.steps.clone(),
        KeyType::Env => {
            let value = match mode {
                Mode::Valid => strs(TEXTS),
                Mode::Noisy => prop_oneof![4 => pick(mode, TEXTS, BAD_TEXTS), 1 => Just(Y::Null)].boxed(),
            };
            vec((pick(mode, VAR_NAMES, BAD_VAR_NAMES), value), 0..4)
                .prop_map(|e| Y::Map(dedup(e.into_iter().map(|(k, v)| (key_text(&k), v)).collect())))
                .boxed()
        }
        KeyType::StrMap => {
            let (keys, values) = if key == "permissions" {
                (strs(PERMISSIONS), pick(mode, PERMISSION_VALUES, BAD_TEXTS))
            } else {
                (strs(MAP_KEYS), pick(mode, TEXTS, BAD_TEXTS))
            };
            vec((keys, values), 0..4)
                .prop_map(|e| Y::Map(dedup(e.into_iter().map(|(k, v)| (key_text(&k), v)).collect())))
                .boxed()
        }
        KeyType::StrList => {
            let item = str_pool(mode, command, key);
            // Where an empty list is an error, valid mode lists at least two items.
            let min = if noisy || !matches!(key, "points" | "files" | "unchanged" | "") {
                0
            } else {
                2
            };
            prop_oneof![
                4 => vec(item.clone(), min..4).prop_map(Y::Seq),
                if min == 0 { 1 } else { 0 } => item,
            ]
            .boxed()
        }
        KeyType::Enum(words) if noisy => prop_oneof![
            6 => select(words).prop_map(|w| Y::Str(w.to_string())),
            1 => select(words).prop_map(|w| Y::Str(w.to_uppercase().replace('E', "_e"))),
            1 => strs(WORDS),
        ]
        .boxed(),
        KeyType::Enum(words) => prop_oneof![
            6 => select(words).prop_map(|w| Y::Str(w.to_string())),
            1 => select(words).prop_map(|w| Y::Str(w.to_lowercase())),
        ]
        .boxed(),
    };
    match mode {
        Mode::Valid => typed,
        Mode::Noisy => prop_oneof![12 => typed, 1 => ctx.tree.clone()].boxed(),
    }
}

/// The text of a generated key (keys are strings in the generator).
fn key_text(y: &Y) -> String {
    match y {
        Y::Str(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

/// Which keys valid mode must give together (one alternative is chosen) and which it must
/// leave out with that alternative. Other keys are optional.
fn variants(command: &str) -> Vec<(Vec<&'static str>, Vec<&'static str>)> {
    let v = |req: &[&'static str], excl: &[&'static str]| (req.to_vec(), excl.to_vec());
    match command {
        "tapOn" | "doubleTapOn" | "longPressOn" => vec![v(&["text"], &[]), v(&["id"], &[]), v(&["point"], &[])],
        "assertVisible" | "assertNotVisible" | "copyTextFrom" | "selector" => {
            vec![v(&["text"], &[]), v(&["id"], &[])]
        }
        "runFlow" | "retry" => vec![v(&["file"], &["commands"]), v(&["commands"], &["file"])],
        "assertKeychain" => vec![
            v(&["key", "present"], &["unchanged", "since"]),
            v(&["unchanged", "since"], &["key", "present"]),
        ],
        "swipe" => vec![
            v(&["direction"], &["start", "end", "from"]),
            v(&["start", "end"], &["direction", "from"]),
            v(&["from", "direction"], &["start", "end"]),
        ],
        "extendedWaitUntil" => vec![v(&["visible"], &[]), v(&["notVisible"], &[])],
        "repeat" => vec![v(&["times", "commands"], &[]), v(&["while", "commands"], &[])],
        "when" => vec![v(&["platform"], &[]), v(&["visible"], &[]), v(&["notVisible"], &[])],
        "header" => vec![v(&["appId"], &[]), v(&["app"], &[]), v(&["url"], &[])],
        "setPermissions" | "addMedia" => vec![v(&["permissions", "files"], &[])],
        "openLink" => vec![v(&["link"], &[])],
        "assertTrue" => vec![v(&["condition"], &[])],
        "assertScreenshot" | "takeScreenshot" | "startRecording" => vec![v(&["path"], &[])],
        "assertWithAI" => vec![v(&["assertion"], &[])],
        "extractTextWithAI" => vec![v(&["query"], &[])],
        "inputText" | "setClipboard" => vec![v(&["text"], &[])],
        "pressKey" => vec![v(&["key"], &[])],
        "scrollUntilVisible" => vec![v(&["element"], &[])],
        "setLocation" => vec![v(&["latitude", "longitude"], &[])],
        "travel" => vec![v(&["points"], &[])],
        "setOrientation" => vec![v(&["orientation"], &[])],
        "setAirplaneMode" | "setDarkMode" => vec![v(&["value"], &[])],
        "runScript" => vec![v(&["file"], &[])],
        "evalScript" => vec![v(&["script"], &[])],
        "snapshot" => vec![v(&["name"], &[])],
        "assertSession" | "setNetwork" => vec![v(&["state"], &[])],
        "assertConvex" => vec![v(&["authenticated"], &[])],
        "background" => vec![v(&["for"], &[])],
        _ => vec![v(&[], &[])],
    }
}

/// How likely an optional key is to appear in a generated map.
fn key_weight(mode: Mode, command: &str, key: &str) -> f64 {
    match (mode, command, key) {
        (Mode::Noisy, "header", "appId") => 0.85,
        (_, "header", _) => 0.25,
        (Mode::Noisy, _, "text" | "id") => 0.45,
        (_, _, "label" | "optional") => 0.1,
        _ if SELECTOR_KEYS.iter().chain(TAP_KEYS).any(|(k, _)| *k == key) => 0.05,
        (Mode::Valid, _, _) => 0.3,
        (Mode::Noisy, _, _) => 0.5,
    }
}

/// A map with some of `keys` (typed values) in random order. Valid mode gives the keys one
/// of the command's [`variants`] needs; noisy mode any subset, now and then an unknown key.
fn object(command: &'static str, keys: Vec<(&'static str, KeyType)>, ctx: &Ctx) -> BoxedStrategy<Vec<(String, Y)>> {
    let mode = ctx.mode;
    let alternatives: Vec<(Vec<&str>, Vec<&str>)> = match mode {
        Mode::Valid => variants(command),
        Mode::Noisy => vec![(vec![], vec![])],
    };
    let mut strategies = Vec::new();
    for (required, excluded) in alternatives {
        let parts: Vec<BoxedStrategy<Option<(String, Y)>>> = keys
            .iter()
            .filter(|(k, _)| !excluded.contains(k))
            .map(|&(k, kt)| {
                let p = if required.contains(&k) {
                    1.0
                } else {
                    key_weight(mode, command, k)
                };
                maybe(p, value(command, k, kt, ctx))
                    .prop_map(move |v| v.map(|v| (k.to_string(), v)))
                    .boxed()
            })
            .collect();
        let extra_p = if mode == Mode::Noisy { 0.05 } else { 0.0 };
        let extra = maybe(extra_p, (select(KEY_POOL.clone()), ctx.tree.clone()));
        strategies.push(
            (parts, extra)
                .prop_map(|(parts, extra)| {
                    let mut m: Vec<(String, Y)> = parts.into_iter().flatten().collect();
                    m.extend(extra.map(|(k, v)| (k.to_string(), v)));
                    dedup(m)
                })
                .prop_shuffle()
                .boxed(),
        );
    }
    Union::new(strategies).boxed()
}

/// `Some` with probability `p` (0 and 1 included).
fn maybe<S: Strategy + 'static>(p: f64, s: S) -> BoxedStrategy<Option<S::Value>>
where
    S::Value: Clone,
{
    if p <= 0.0 {
        Just(None).boxed()
    } else if p >= 1.0 {
        s.prop_map(Some).boxed()
    } else {
        option::weighted(p, s).boxed()
    }
}

/// A selector: a text regex, or a map of selector keys with nested relations.
fn selector(mode: Mode, tree: &BoxedStrategy<Y>) -> BoxedStrategy<Y> {
    let tree = tree.clone();
    pick(mode, TEXTS, BAD_TEXTS)
        .prop_recursive(3, 24, 4, move |inner| {
            let ctx = Ctx {
                mode,
                tree: tree.clone(),
                selector: inner.clone(),
                steps: Just(Y::Seq(vec![])).boxed(),
            };
            prop_oneof![
                1 => inner,
                3 => object("selector", SELECTOR_KEYS.to_vec(), &ctx).prop_map(Y::Map),
            ]
        })
        .boxed()
}

/// The keys a command's object form takes, with their types.
fn command_keys(spec: &CommandSpec) -> Vec<(&'static str, KeyType)> {
    let mut keys = spec.keys.to_vec();
    if commands::takes_selector_keys(spec.name) {
        keys.extend_from_slice(SELECTOR_KEYS);
    }
    if commands::takes_tap_keys(spec.name) {
        keys.extend_from_slice(TAP_KEYS);
    }
    keys.push(("label", KeyType::Str));
    keys.push(("optional", KeyType::Bool));
    keys
}

/// One step of a command: bare, `name: value` or `name: {keys}`.
fn command(spec: &'static CommandSpec, ctx: &Ctx) -> BoxedStrategy<Y> {
    let name = spec.name;
    let mut forms: Vec<(u32, BoxedStrategy<Y>)> = Vec::new();
    let bare_ok = matches!(spec.string_form, StringForm::Bare | StringForm::BareOrValue(_));
    if ctx.mode == Mode::Noisy || bare_ok {
        // `- name:` with nothing after the colon.
        forms.push((1, Just(map1(name, Y::Null)).boxed()));
    }
    if bare_ok {
        forms.push((4, Just(Y::Str(name.to_string())).boxed()));
    }
    if let StringForm::Value(kt) | StringForm::BareOrValue(kt) = spec.string_form {
        forms.push((6, value(name, "", kt, ctx).prop_map(move |v| map1(name, v)).boxed()));
    }
    forms.push((
        6,
        object(name, command_keys(spec), ctx)
            .prop_map(move |m| map1(name, Y::Map(m)))
            .boxed(),
    ));
    Union::new_weighted(forms).boxed()
}

fn command_weight(name: &str) -> u32 {
    match name {
        "tapOn" | "inputText" | "assertVisible" | "runFlow" | "assertSession" | "assertConvex" | "snapshot"
        | "assertKeychain" | "launchApp" => 4,
        _ => 1,
    }
}

/// A list of steps; `depth` levels of nested commands (runFlow, repeat, retry).
fn steps(mode: Mode, depth: u32, tree: &BoxedStrategy<Y>, max_len: usize) -> BoxedStrategy<Y> {
    let inner = if depth == 0 {
        prop_oneof![Just(Y::Seq(vec![])), Just(Y::Null)].boxed()
    } else {
        steps(mode, depth - 1, tree, 4)
    };
    let ctx = Ctx {
        mode,
        tree: tree.clone(),
        selector: selector(mode, tree),
        steps: inner,
    };
    let commands: Vec<(u32, BoxedStrategy<Y>)> = COMMANDS
        .iter()
        .map(|spec| (command_weight(spec.name), command(spec, &ctx)))
        .collect();
    let commands = Union::new_weighted(commands);
    let legacy = prop_oneof![
        select(LEGACY_ACTIONS).prop_map(|a| map1("action", Y::Str(a.to_string()))),
        Just(Y::Str("hide keyboard".into())),
    ];
    let step = match mode {
        Mode::Valid => prop_oneof![40 => commands, 1 => legacy].boxed(),
        Mode::Noisy => prop_oneof![
            24 => commands,
            2 => legacy,
            1 => tree.clone(),
            1 => select(&["tapon", "openBrowser", "assertvisible", "launch"][..])
                .prop_map(|n| map1(n, Y::Str("x".into()))),
        ]
        .boxed(),
    };
    vec(step, 0..max_len).prop_map(Y::Seq).boxed()
}

fn header(mode: Mode, tree: &BoxedStrategy<Y>) -> BoxedStrategy<Y> {
    let ctx = Ctx {
        mode,
        tree: tree.clone(),
        selector: selector(mode, tree),
        steps: steps(mode, 0, tree, 3),
    };
    object("header", HEADER_KEYS.to_vec(), &ctx).prop_map(Y::Map).boxed()
}

/// A whole generated file: its documents and the style seed to render them with.
fn document() -> impl Strategy<Value = (Doc, u64)> {
    let tree = tree();
    let valid = (header(Mode::Valid, &tree), steps(Mode::Valid, 2, &tree, 12));
    let steps = steps(Mode::Noisy, 2, &tree, 12);
    let header = header(Mode::Noisy, &tree);
    let doc = prop_oneof![
        12 => valid.prop_map(|(h, s)| Doc::Flow(h, s)),
        6 => (header.clone(), steps.clone()).prop_map(|(h, s)| Doc::Flow(h, s)),
        1 => steps.clone().prop_map(Doc::StepsOnly),
        1 => header.clone().prop_map(Doc::HeaderOnly),
        1 => (header, steps.clone(), steps).prop_map(|(a, b, c)| Doc::Three(a, b, c)),
        1 => tree.prop_map(Doc::Any),
    ];
    (doc, any::<u64>())
}

// ---------------------------------------------------------------------------------------
// Mutations of the shipped files
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Flow,
    App,
    Device,
}

/// Every YAML file under flows/ and devices/, with the parser that reads it.
static SHIPPED: LazyLock<Vec<(PathBuf, Kind, String)>> = LazyLock::new(|| {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    collect_yaml(&root.join("flows"), &mut files);
    collect_yaml(&root.join("devices"), &mut files);
    files.sort();
    let out: Vec<(PathBuf, Kind, String)> = files
        .into_iter()
        .map(|p| {
            let parent = p
                .parent()
                .and_then(|d| d.file_name())
                .and_then(|n| n.to_str())
                .unwrap_or("");
            let kind = match parent {
                "apps" => Kind::App,
                "devices" => Kind::Device,
                _ => Kind::Flow,
            };
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
            (p, kind, text)
        })
        .collect();
    assert!(
        out.iter().filter(|(_, k, _)| *k == Kind::Flow).count() >= 5,
        "expected the shipped flows under flows/"
    );
    out
});

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect_yaml(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
}

const INSERTS: &[&str] = &[
    ":",
    "- ",
    "&a ",
    "*a",
    "&a",
    " *a ",
    "&b [*a, *a, *a]",
    "\n",
    " ",
    "  ",
    "\t",
    "#",
    "{",
    "}",
    "[",
    "]",
    ",",
    "\"",
    "'",
    "|",
    ">",
    "!",
    "!!",
    "%",
    "@",
    "`",
    "?",
    "---\n",
    "...\n",
    "${",
    "~",
    "\r",
    "\u{feff}",
    "\0",
    "é",
];

#[derive(Clone, Debug)]
enum Mutation {
    DeleteChar(Index),
    DeleteLine(Index),
    DuplicateLine(Index),
    /// Adds (positive) or removes (negative) leading spaces.
    Indent(Index, i8),
    SwapLines(Index, Index),
    Insert(Index, &'static str),
    InsertAtLineStart(Index, &'static str),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<Index>().prop_map(Mutation::DeleteChar),
        any::<Index>().prop_map(Mutation::DeleteLine),
        any::<Index>().prop_map(Mutation::DuplicateLine),
        (any::<Index>(), prop_oneof![-4i8..=-1, 1i8..=4]).prop_map(|(i, d)| Mutation::Indent(i, d)),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (any::<Index>(), select(INSERTS)).prop_map(|(i, s)| Mutation::Insert(i, s)),
        (any::<Index>(), select(INSERTS)).prop_map(|(i, s)| Mutation::InsertAtLineStart(i, s)),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(String::from).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let n = lines.len();
    match m {
        Mutation::DeleteChar(i) => {
            let mut chars: Vec<char> = text.chars().collect();
            if !chars.is_empty() {
                chars.remove(i.index(chars.len()));
            }
            return chars.into_iter().collect();
        }
        Mutation::Insert(i, s) => {
            let chars: Vec<char> = text.chars().collect();
            let at = i.index(chars.len() + 1);
            let mut out: String = chars[..at].iter().collect();
            out.push_str(s);
            out.extend(&chars[at..]);
            return out;
        }
        Mutation::DeleteLine(i) => {
            lines.remove(i.index(n));
        }
        Mutation::DuplicateLine(i) => {
            let at = i.index(n);
            let mut line = lines[at].clone();
            if !line.ends_with('\n') {
                line.push('\n');
            }
            lines.insert(at, line);
        }
        Mutation::Indent(i, d) => {
            let line = &mut lines[i.index(n)];
            if *d > 0 {
                line.insert_str(0, &" ".repeat(*d as usize));
            } else {
                let strip = line
                    .chars()
                    .take_while(|c| *c == ' ')
                    .count()
                    .min(d.unsigned_abs() as usize);
                line.drain(..strip);
            }
        }
        Mutation::SwapLines(a, b) => {
            let (a, b) = (a.index(n), b.index(n));
            lines.swap(a, b);
            // Keep every line terminated so swapping the last line does not join two lines.
            for l in &mut lines {
                if !l.ends_with('\n') {
                    l.push('\n');
                }
            }
        }
        Mutation::InsertAtLineStart(i, s) => {
            let line = &mut lines[i.index(n)];
            let at = line.chars().take_while(|c| *c == ' ').count();
            line.insert_str(at, s);
        }
    }
    lines.concat()
}

fn check_file(kind: Kind, text: &str) {
    if let Err(e) = yaml::parse_documents(text) {
        assert!(
            !e.message.trim().is_empty() && e.pos.line >= 1,
            "bad syntax error {e:?} for {text:?}"
        );
    }
    match kind {
        Kind::Flow => {
            check_flow(text);
        }
        Kind::App => {
            let (_, diags) = parse_app_profile(text, Path::new("app.yaml"));
            check_diags("parse_app_profile", text, &diags);
        }
        Kind::Device => {
            let (_, diags) = parse_device_profile(text, Path::new("device.yaml"));
            check_diags("parse_device_profile", text, &diags);
        }
    }
}

// ---------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..512)) {
        all_parsers(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        all_parsers(&text);
    }

    /// Text made of YAML's indicator characters reaches far more parser states than
    /// uniformly random characters.
    #[test]
    fn yaml_punctuation_never_panics(text in "[-:?,\\[\\]{}#&*!|>'\"%@` \t\n\r.~$a-c0-2\\\\]{0,160}") {
        all_parsers(&text);
    }

    /// The same, after a valid flow header, so the command parser sees it.
    #[test]
    fn punctuation_after_a_header_never_panics(text in "[-:?,\\[\\]{}#&*!|>'\"%@` \t\n.~$a-c0-2]{0,120}") {
        check_flow(&format!("appId: a\n---\n- {text}"));
        check_flow(&format!("appId: a\n---\n- tapOn:\n    {text}"));
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn random_yaml_flows_parse_sanely_and_round_trip((doc, seed) in document()) {
        check_flow(&render(&doc, seed));
    }

    #[test]
    fn random_yaml_profiles_never_panic(
        y in tree_with(PROFILE_KEYS.to_vec(), PROFILE_VALUES),
        seed in any::<u64>(),
    ) {
        let text = render(&Doc::Any(y), seed);
        let (_, diags) = parse_app_profile(&text, Path::new("app.yaml"));
        check_diags("parse_app_profile", &text, &diags);
        let (_, diags) = parse_device_profile(&text, Path::new("device.yaml"));
        check_diags("parse_device_profile", &text, &diags);
    }

    #[test]
    fn mutated_shipped_files_never_panic(file in any::<Index>(), mutations in vec(mutation(), 1..8)) {
        let (_, kind, original) = &SHIPPED[file.index(SHIPPED.len())];
        let mut text = original.clone();
        for m in &mutations {
            text = apply(&text, m);
        }
        check_file(*kind, &text);
    }
}

/// Writes the generated flows as f0.yaml… next to the shipped app profile and sign-in
/// sub-flow, loads them all (sub-flows, cycles, variables, app profiles) and checks every
/// diagnostic.
fn check_load(docs: &[(Doc, u64)]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../flows");
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::create_dir_all(d.join("apps")).expect("mkdir");
    std::fs::create_dir_all(d.join("subflows")).expect("mkdir");
    for shipped in ["apps/clerk-expo-convex.yaml", "subflows/sign-in.yaml"] {
        std::fs::copy(root.join(shipped), d.join(shipped)).expect("copy a shipped file");
    }
    let mut paths = Vec::new();
    for (i, (doc, seed)) in docs.iter().enumerate() {
        let path = d.join(format!("f{i}.yaml"));
        std::fs::write(&path, render(doc, *seed)).expect("write a flow");
        paths.push(path);
    }
    paths.push(d.join("missing.yaml"));
    let set = load_flows(&paths, &VarSources::default());
    for diag in &set.diagnostics {
        let text = match set.sources.get(&diag.file) {
            Some(t) => t.clone(),
            None => std::fs::read_to_string(&diag.file).unwrap_or_default(),
        };
        check_diags("load_flows", &text, std::slice::from_ref(diag));
    }
    assert!(set.has_errors(), "missing.yaml must be reported");
}

proptest! {
    // Each case writes files: fewer cases.
    #![proptest_config(config(96))]

    #[test]
    fn random_flow_sets_load_sanely_from_disk(docs in vec(document(), 1..=3)) {
        check_load(&docs);
    }
}

// ---------------------------------------------------------------------------------------
// Deterministic tests
// ---------------------------------------------------------------------------------------

/// The random flows must often be valid, or the round-trip property tests nothing.
#[test]
fn generated_flows_are_often_valid() {
    let mut runner = TestRunner::new(config(1));
    let strategy = document();
    let total = 200;
    let mut valid = 0;
    for _ in 0..total {
        let (doc, seed) = strategy.new_tree(&mut runner).expect("generate").current();
        if check_flow(&render(&doc, seed)) {
            valid += 1;
        }
    }
    // About half are valid; a third is far below that for any seed.
    assert!(valid * 3 >= total, "only {valid} of {total} generated flows are valid");
}

#[test]
fn shipped_files_are_valid_and_flows_round_trip() {
    for (path, kind, text) in SHIPPED.iter() {
        match kind {
            Kind::Flow => assert!(check_flow(text), "{} has errors", path.display()),
            Kind::App => {
                let (p, d) = parse_app_profile(text, path);
                assert!(p.is_some(), "{}: {d:#?}", path.display());
            }
            Kind::Device => {
                let (p, d) = parse_device_profile(text, path);
                assert!(p.is_some(), "{}: {d:#?}", path.display());
            }
        }
    }
}

/// Every parser refuses `text` with an error (and does not crash or hang).
fn assert_refused(what: &str, text: &str) {
    let err = yaml::parse_documents(text).expect_err(what);
    assert!(!err.message.is_empty() && err.pos.line >= 1, "{what}: {err:?}");
    let (_, diags) = parse_flow(text, Path::new(FLOW_FILE));
    assert!(
        diags.iter().any(Diagnostic::is_error),
        "{what}: parse_flow reported no error"
    );
    check_diags(what, text, &diags);
    let (profile, diags) = parse_app_profile(text, Path::new("app.yaml"));
    assert!(
        profile.is_none() && diags.iter().any(Diagnostic::is_error),
        "{what}: app profile"
    );
    let (profile, diags) = parse_device_profile(text, Path::new("device.yaml"));
    assert!(
        profile.is_none() && diags.iter().any(Diagnostic::is_error),
        "{what}: device profile"
    );
}

#[test]
fn alias_bomb_is_an_error() {
    // Billion laughs: 9^9 "lol"s if expanded.
    let mut text = String::from("appId: a\nenv:\n  A: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    let mut prev = 'a';
    for n in 'b'..='i' {
        let refs = vec![format!("*{prev}"); 9].join(", ");
        text.push_str(&format!("  {}: &{n} [{refs}]\n", n.to_ascii_uppercase()));
        prev = n;
    }
    text.push_str("---\n- inputText: *i\n");
    assert_refused("billion laughs", &text);

    // Many aliases of one small anchor.
    let mut text = String::from("appId: a\n---\n- inputText: &t hello\n");
    text.push_str(&"- inputText: *t\n".repeat(5_000));
    assert_refused("5000 aliases", &text);
}

#[test]
fn oversized_file_is_an_error() {
    let mut text = String::from("appId: com.example.app\n---\n");
    while text.len() <= 2 * 1024 * 1024 {
        text.push_str("- tapOn: Sign in\n- inputText: ${HARNESS_EMAIL}\n");
    }
    assert_refused("2 MiB flow", &text);
}

#[test]
fn deep_nesting_is_an_error() {
    let depth = 10_000;
    let seqs = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    assert_refused("nested flow sequences", &seqs);
    assert_refused("nested flow sequences as steps", &format!("appId: a\n---\n{seqs}\n"));
    assert_refused(
        "nested flow sequences as a selector",
        &format!("appId: a\n---\n- tapOn: {seqs}\n"),
    );
    let maps = format!("{}x{}", "{a: ".repeat(depth), "}".repeat(depth));
    assert_refused("nested flow maps", &format!("appId: a\n---\n- tapOn: {maps}\n"));
    let dashes = format!("appId: a\n---\n{}back\n", "- ".repeat(depth));
    assert_refused("nested block sequences", &dashes);
    let mut block = String::from("appId: a\n---\n- tapOn:\n");
    for i in 0..300 {
        block.push_str(&format!("{}below:\n", " ".repeat(4 + 2 * i)));
    }
    assert_refused("nested block maps", &block);
    let unclosed = format!("appId: a\n---\n- tapOn: {}\n", "[".repeat(depth));
    assert_refused("unclosed flow sequences", &unclosed);
}

/// Nesting just inside the limit must parse in a test thread (2 MiB of stack) without
/// overflowing it, in every shape; one level more is an error.
#[test]
fn nesting_up_to_the_limit_fits_a_test_thread_stack() {
    type Shape = (&'static str, fn(usize) -> String);
    let shapes: [Shape; 7] = [
        ("flow sequences", |n| {
            format!("appId: a\n---\n- tapOn: {}x{}\n", "[".repeat(n), "]".repeat(n))
        }),
        ("flow maps", |n| {
            format!("appId: a\n---\n- tapOn: {}x{}\n", "{a: ".repeat(n), "}".repeat(n))
        }),
        ("selector relations", |n| {
            format!(
                "appId: a\n---\n- tapOn: {}{{text: x}}{}\n",
                "{below: ".repeat(n),
                "}".repeat(n)
            )
        }),
        ("lists of maps", |n| {
            format!("appId: a\n---\n- tapOn: {}x{}\n", "[{a: ".repeat(n), "}]".repeat(n))
        }),
        ("block sequences", |n| {
            format!("appId: a\n---\n{}back\n", "- ".repeat(n))
        }),
        ("block maps", |n| {
            let mut s = String::from("appId: a\n---\n- tapOn:\n");
            for i in 0..n {
                s.push_str(&format!("{}below:\n", " ".repeat(4 + 2 * i)));
            }
            s.push_str(&format!("{}text: x\n", " ".repeat(4 + 2 * n)));
            s
        }),
        ("nested repeat", |n| {
            let mut s = String::from("appId: a\n---\n");
            for i in 0..n {
                let pad = " ".repeat(4 * i);
                s.push_str(&format!("{pad}- repeat:\n{pad}    times: 2\n{pad}    commands:\n"));
            }
            s.push_str(&format!("{}- back\n", " ".repeat(4 * n)));
            s
        }),
    ];
    for (what, shape) in shapes {
        let mut refused = false;
        for depth in 1..=yaml::MAX_DEPTH + 4 {
            let text = shape(depth);
            let (_, diags) = parse_flow(&text, Path::new(FLOW_FILE));
            check_diags(what, &text, &diags);
            let _ = parse_app_profile(&text, Path::new("app.yaml"));
            let _ = parse_device_profile(&text, Path::new("device.yaml"));
            refused |= yaml::parse_documents(&text).is_err();
        }
        assert!(refused, "{what}: nesting deeper than the limit must be refused");
    }
}

#[test]
fn many_documents_are_an_error() {
    assert_refused("10000 documents", &"---\n".repeat(10_000));
    assert_refused("10000 documents with content", &"--- a\n".repeat(10_000));
}

// ---------------------------------------------------------------------------------------
// Bugs found by the properties above: a regression test once fixed, the minimal failing
// input (ignored) while open
// ---------------------------------------------------------------------------------------

/// Found by `random_yaml_flows_parse_sanely_and_round_trip`: emit_flow used to write DEL, C1
/// controls, U+FFFE and U+FFFF unescaped, and the YAML parser refused its output.
#[test]
fn emit_escapes_characters_yaml_does_not_allow_raw() {
    for escaped in ["\\x7f", "\\x80", "\\x9f", "\\uFFFE"] {
        let text = format!("appId: a\n---\n- inputText: \"a{escaped}b\"\n");
        let (flow, diags) = parse_flow(&text, Path::new(FLOW_FILE));
        assert!(diags.is_empty(), "{diags:?}");
        assert_round_trip(&text, &flow, &emit_flow(&flow));
    }
}

/// The first error of a flow as `line:column key: message (hint: …)`.
fn first_error(text: &str) -> String {
    let (_, diags) = parse_flow(text, Path::new(FLOW_FILE));
    let d = diags
        .iter()
        .find(|d| d.is_error())
        .unwrap_or_else(|| panic!("no error for {text:?}: {diags:?}"));
    format!(
        "{}:{} {}: {} (hint: {})",
        d.line,
        d.column,
        d.key,
        d.message,
        d.hint.as_deref().unwrap_or("none")
    )
}

/// Parses a flow that must have no errors, and checks it survives the round trip.
fn round_trips(text: &str) -> Flow {
    let (flow, diags) = parse_flow(text, Path::new(FLOW_FILE));
    assert!(!diags.iter().any(Diagnostic::is_error), "{text:?}: {diags:#?}");
    assert_round_trip(text, &flow, &emit_flow(&flow));
    flow
}

/// Found by `random_yaml_flows_parse_sanely_and_round_trip`: a selector with no criteria
/// (`{containsDescendants: []}`, `{traits: ""}`) was accepted, and emit_flow wrote nothing
/// for it. The keys that can hold nothing now refuse to.
#[test]
fn selector_without_criteria_is_refused() {
    const NO_DESCENDANTS: &str =
        "(hint: list the descendants' selectors, e.g. `containsDescendants: [{id: row-title}]`, or drop the key)";
    for (text, error) in [
        (
            "appId: a\n---\n- assertVisible: {containsDescendants: []}\n",
            format!("3:40 steps[0].assertVisible.containsDescendants: containsDescendants lists no selectors {NO_DESCENDANTS}"),
        ),
        (
            "appId: a\n---\n- tapOn: {traits: \"\"}\n",
            "3:19 steps[0].tapOn.traits: traits is empty (hint: traits are text, long-text and square, separated by spaces)".into(),
        ),
        (
            "appId: a\n---\n- tapOn: {text: Save, below: {containsDescendants: []}}\n",
            format!("3:52 steps[0].tapOn.below.containsDescendants: containsDescendants lists no selectors {NO_DESCENDANTS}"),
        ),
        (
            "appId: a\n---\n- doubleTapOn: {containsDescendants: [], point: \"50%,50%\"}\n",
            format!("3:38 steps[0].doubleTapOn.containsDescendants: containsDescendants lists no selectors {NO_DESCENDANTS}"),
        ),
    ] {
        assert_eq!(first_error(text), error, "{text:?}");
    }
    // With criteria, the same keys round-trip.
    round_trips("appId: a\n---\n- tapOn: {text: Save, below: {containsDescendants: [{id: x}], traits: square}}\n");
}

/// Found by the round-trip property: `- extractTextWithAI: ""` (also assertWithAI,
/// assertTrue, evalScript) parsed, but the object form emit_flow writes (`query: ""`) was
/// refused. Both forms now refuse an empty or blank text, at the value.
#[test]
fn string_and_object_forms_refuse_the_same_empty_text() {
    const HINT: &str =
        "(hint: an empty or blank string is no value here: write the text, or leave the key out where it is optional)";
    for (command, key) in [
        ("extractTextWithAI", "query"),
        ("assertWithAI", "assertion"),
        ("assertTrue", "condition"),
        ("evalScript", "script"),
    ] {
        for empty in ["\"\"", "\" \""] {
            let string_form = format!("appId: a\n---\n- {command}: {empty}\n");
            let column = command.len() + 5;
            assert_eq!(
                first_error(&string_form),
                format!("3:{column} steps[0].{command}: expected a non-empty string {HINT}")
            );
            let object_form = format!("appId: a\n---\n- {command}: {{{key}: {empty}}}\n");
            let column = command.len() + key.len() + 8;
            assert_eq!(
                first_error(&object_form),
                format!("3:{column} steps[0].{command}.{key}: expected a non-empty string {HINT}")
            );
        }
        round_trips(&format!("appId: a\n---\n- {command}: x\n"));
        round_trips(&format!("appId: a\n---\n- {command}: {{{key}: x, optional: true}}\n"));
    }
}

/// Found by the round-trip property: durations finer than a millisecond (`within: 1.5ms`,
/// `background: 0.0001s`) parsed to the nanosecond, and emit_flow wrote whole milliseconds.
/// Durations are now whole milliseconds when parsed (half a millisecond rounds up).
#[test]
fn durations_are_whole_milliseconds_and_round_trip() {
    use std::time::Duration;
    let ms = Duration::from_millis;
    for (text, expected) in [
        (
            "appId: a\n---\n- assertSession: {state: signedIn, within: 1.5ms}\n",
            Command::AssertSession {
                state: harness::flow::model::SessionState::SignedIn,
                within: Some(ms(2)),
            },
        ),
        (
            "appId: a\n---\n- background: 0.0001s\n",
            Command::Background { duration: ms(0) },
        ),
        (
            "appId: a\n---\n- assertConvex: {authenticated: true, within: 1.0005s}\n",
            Command::AssertConvex {
                authenticated: true,
                within: Some(ms(1001)),
            },
        ),
        (
            "appId: a\n---\n- background: 1m0.25s\n",
            Command::Background { duration: ms(60_250) },
        ),
    ] {
        let flow = round_trips(text);
        assert_eq!(flow.steps[0].command, expected, "{text:?}");
    }
}

/// Found by the round-trip property: map keys of different YAML types with the same text
/// (`1` and `"1"`, `01` and `1.0`) were two entries with one name, and emit_flow wrote a
/// duplicate key. The free-form maps (properties, env, arguments, permissions) now report
/// the second one, where the YAML parser reports a repeated key of one type.
#[test]
fn keys_with_the_same_text_are_duplicates() {
    const HINT: &str = "(hint: each name may appear once in this map)";
    for (text, at) in [
        (
            "appId: a\nproperties: {1: a, \"1\": b}\n---\n- back\n",
            "2:20 header.properties.1",
        ),
        (
            "appId: a\nproperties: {01: a, 1.0: b}\n---\n- back\n",
            "2:21 header.properties.1",
        ),
        (
            "appId: a\n---\n- launchApp: {arguments: {1: a, \"1\": b}}\n",
            "3:33 steps[0].launchApp.arguments.1",
        ),
        (
            "appId: a\n---\n- setPermissions: {permissions: {1: allow, \"1\": deny}}\n",
            "3:44 steps[0].setPermissions.permissions.1",
        ),
    ] {
        assert_eq!(first_error(text), format!("{at}: duplicate key '1' {HINT}"), "{text:?}");
    }
    // Keys of one type repeated are the YAML parser's to report (without its advice to
    // programs, "set DuplicateKeyPolicy in Options").
    let (_, diags) = parse_flow("appId: a\nenv: {A1: x, \"A1\": y}\n---\n- back\n", Path::new(FLOW_FILE));
    let text: Vec<String> = diags
        .iter()
        .map(|d| format!("{}:{} {}", d.line, d.column, d.message))
        .collect();
    assert_eq!(text, ["2:14 invalid YAML: duplicate mapping key: A1"]);
    round_trips("appId: a\nproperties: {1: a, \"2\": b, 3.5: c}\n---\n- launchApp: {arguments: {1: a, \"01\": b}}\n");
}

/// Found by the round-trip property: emit_flow wrote the keys `True`, `FALSE`, `Null` …
/// unquoted (only lowercase true/false/null were quoted), so they came back as a boolean or
/// null. Every spelling YAML reads as a boolean or null is now quoted.
#[test]
fn emit_quotes_keys_yaml_reads_as_booleans_or_null() {
    for key in ["True", "NULL", "FALSE", "Null", "yES", "Off", "N", "y", "on"] {
        for text in [
            format!("appId: a\nproperties: {{\"{key}\": x}}\n---\n- back\n"),
            format!("appId: a\nenv: {{\"{key}\": x}}\n---\n- back\n"),
            format!("appId: a\n---\n- launchApp: {{arguments: {{\"{key}\": x}}}}\n"),
        ] {
            let flow = round_trips(&text);
            assert!(emit_flow(&flow).contains(&format!("\"{key}\": \"x\"")), "{text:?}");
        }
    }
}
