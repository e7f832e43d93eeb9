//! Maestro element selectors: a text regex (`tapOn: Sign in`) or a map of selector keys
//! (`{id: auth-continue, below: {text: Email}}`).
//!
//! Flows and app profiles both name elements with selectors, so selector reading lives here,
//! apart from the command parser: `flow::parse` uses it for commands and conditions, and
//! `profile::app` for the screens that tell the auth state.

use crate::diag::Sink;
use crate::flow::commands::SELECTOR_KEYS;
use crate::flow::model::{Selector, Template, Trait};
use crate::flow::template;
use crate::lower::{self, MapView, index, join};
use crate::yaml::{Node, Pos, Value};

/// Command options Maestro reads inside a selector map (`element: {id: x, optional: true}`):
/// they are the command's.
pub const OPTION_KEYS: &[&str] = &[
    "optional",
    "label",
    "retryTapIfNoChange",
    "waitUntilVisible",
    "waitToSettleTimeoutMs",
];

/// The command options a selector map held (see [`OPTION_KEYS`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SelectorOptions {
    pub optional: Option<bool>,
    pub label: Option<String>,
}

/// A selector: a string (text regex) or a map of selector keys.
pub fn parse_selector(sink: &mut Sink, v: &Node, path: &str) -> Option<Selector> {
    parse_selector_in(sink, v, path, None)
}

/// A selector of a command: its map may also hold command options, read into `options`
/// (`optional`, `label`; the tap options have no effect outside the tap commands and are
/// reported as warnings).
pub fn parse_command_selector(
    sink: &mut Sink,
    v: &Node,
    path: &str,
    options: &mut SelectorOptions,
) -> Option<Selector> {
    parse_selector_in(sink, v, path, Some(options))
}

fn parse_selector_in(sink: &mut Sink, v: &Node, path: &str, options: Option<&mut SelectorOptions>) -> Option<Selector> {
    match &v.value {
        Value::Map(_) => {
            let mut m = MapView::new(sink, v, path, "a selector")?;
            if let Some(o) = options {
                if let Some(x) = m.get("optional") {
                    o.optional = lower::boolean(sink, x, &m.child("optional"));
                }
                if let Some(x) = m.get("label") {
                    o.label = lower::string(sink, x, &m.child("label"));
                }
                for key in ["retryTapIfNoChange", "waitUntilVisible", "waitToSettleTimeoutMs"] {
                    if let Some(x) = m.get(key) {
                        sink.warning(x.pos, &m.child(key), format!("'{key}' has no effect in this selector"))
                            .hint("it is an option of tapOn, doubleTapOn and longPressOn");
                    }
                }
            }
            let sel = selector_keys(sink, &mut m);
            let known: Vec<&str> = SELECTOR_KEYS.iter().map(|(k, _)| *k).collect();
            let empty = m.is_empty();
            m.finish(sink, "a selector", &known);
            if sel.is_none() && empty {
                sink.error(v.pos, path, "empty selector")
                    .hint("give `text:`, `id:` or another selector key");
            }
            sel
        }
        _ => {
            let text = template::from_node(sink, v, path)?;
            check_regex(sink, &text, v.pos, path);
            Some(Selector {
                text: Some(text),
                ..Selector::default()
            })
        }
    }
}

/// Reads the selector keys present in `m`; `None` when there are none.
pub fn selector_keys(sink: &mut Sink, m: &mut MapView) -> Option<Selector> {
    let mut sel = Selector::default();
    let mut any = false;
    let path = m.path.clone();
    let p = |k: &str| join(&path, k);
    for key in ["text", "id"] {
        if let Some(v) = m.get(key) {
            any = true;
            if let Some(t) = template::from_node(sink, v, &p(key)) {
                check_regex(sink, &t, v.pos, &p(key));
                if key == "text" {
                    sel.text = Some(t);
                } else {
                    sel.id = Some(t);
                }
            }
        }
    }
    let mut int = |sink: &mut Sink, m: &mut MapView, key: &str| -> Option<u32> {
        let v = m.get(key)?;
        any = true;
        lower::integer(sink, v, &p(key), 0, 100_000).map(|i| i as u32)
    };
    sel.index = int(sink, m, "index");
    sel.width = int(sink, m, "width");
    sel.height = int(sink, m, "height");
    sel.tolerance = int(sink, m, "tolerance");
    let mut rel = |sink: &mut Sink, m: &mut MapView, key: &str| -> Option<Box<Selector>> {
        let v = m.get(key)?;
        any = true;
        parse_selector(sink, v, &p(key)).map(Box::new)
    };
    sel.below = rel(sink, m, "below");
    sel.above = rel(sink, m, "above");
    sel.left_of = rel(sink, m, "leftOf");
    sel.right_of = rel(sink, m, "rightOf");
    sel.child_of = rel(sink, m, "childOf");
    sel.contains_child = rel(sink, m, "containsChild");
    if let Some(v) = m.get("containsDescendants") {
        any = true;
        match v.as_seq() {
            Some([]) => {
                sink.error(
                    v.pos,
                    &p("containsDescendants"),
                    "containsDescendants lists no selectors",
                )
                .hint(
                    "list the descendants' selectors, e.g. `containsDescendants: [{id: row-title}]`, or drop the key",
                );
            }
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(s) = parse_selector(sink, item, &index(&p("containsDescendants"), i)) {
                        sel.contains_descendants.push(s);
                    }
                }
            }
            None => {
                sink.error(
                    v.pos,
                    &p("containsDescendants"),
                    format!("expected a list of selectors, found {}", v.kind()),
                );
            }
        }
    }
    if let Some(v) = m.get("traits") {
        any = true;
        if let Some(text) = lower::string(sink, v, &p("traits")) {
            if text.trim().is_empty() {
                sink.error(v.pos, &p("traits"), "traits is empty")
                    .hint("traits are text, long-text and square, separated by spaces");
            }
            for word in text.split_whitespace() {
                match Trait::ALL.iter().find(|(n, _)| *n == word) {
                    Some((_, t)) => sel.traits.push(*t),
                    None => {
                        sink.error(v.pos, &p("traits"), format!("unknown trait '{word}'"))
                            .hint("traits are text, long-text and square, separated by spaces");
                    }
                }
            }
        }
    }
    let mut flag = |sink: &mut Sink, m: &mut MapView, key: &str| -> Option<bool> {
        let v = m.get(key)?;
        any = true;
        lower::boolean(sink, v, &p(key))
    };
    sel.enabled = flag(sink, m, "enabled");
    sel.selected = flag(sink, m, "selected");
    sel.checked = flag(sink, m, "checked");
    sel.focused = flag(sink, m, "focused");
    if let Some(v) = m.get("css") {
        any = true;
        sel.css = lower::string(sink, v, &p("css"));
    }
    any.then_some(sel)
}

fn check_regex(sink: &mut Sink, t: &Template, pos: Pos, path: &str) {
    let Some(lit) = t.as_literal() else { return };
    // Syntax only: compiling a large repetition (`\w{100}`) costs tens of ms.
    if let Err(e) = regex_syntax::Parser::new().parse(&lit) {
        let msg = e.to_string();
        let last = msg
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or("invalid")
            .trim()
            .to_string();
        sink
            .error(pos, path, format!("'{lit}' is not a valid regular expression: {}", last.trim_start_matches("error: ")))
            .hint("text and id are regular expressions: escape special characters with a backslash, e.g. \"Price \\\\(USD\\\\)\"");
    }
}
