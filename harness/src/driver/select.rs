//! Maestro's element selectors, evaluated over a parsed page source ([`super::hierarchy`]).
//!
//! The rules follow Maestro's own implementation (`Orchestra.buildFilter`, `Filters.kt`), not only
//! its documentation, so that a flow picks the same element here as under Maestro:
//!
//! - Candidates are the visible elements with a non-zero width and height, in document order;
//!   the root (application / `hierarchy`) is never one. In a source without any geometry below
//!   its root ([`Element::no_geometry`]: generic XML such as the app of Appium's fake driver),
//!   zero-size elements remain candidates; XCUITest and UiAutomator2 sources never get there.
//! - `text` and `id` are regexes matched against the WHOLE value, case-insensitively, with `.`
//!   matching newlines (and `^`/`$` matching at line breaks). `text` is tried against the
//!   element's text, hint and accessibility text, each as is and with newlines turned into
//!   spaces, and also matches when the value equals the pattern literally, so
//!   `Sign in (beta)` finds the text "Sign in (beta)". `id` is tried against the id and against
//!   its part after the last `/` (`login` finds `com.example:id/login`). A pattern that is not a
//!   valid regex is matched as literal text (Maestro's `toRegexSafe`). Templates are rendered
//!   with the flow's variables first.
//! - `width`/`height` match within `tolerance` (default 0), in the platform's units (iOS
//!   points, Android pixels). `enabled`/`selected`/`checked`/`focused` compare the state.
//!   Traits: `text` = non-empty text; `long-text` = more than 200 characters; `square` =
//!   |1 − width/height| < 0.03.
//! - These "basic" criteria select the DEEPEST matching elements: an element is dropped when
//!   one of its descendants matches them too (a React Native pressable labelled "Continue"
//!   gives way to the "Continue" text inside it).
//! - Relations: `below`/`above`/`leftOf`/`rightOf` keep elements whose top edge is below
//!   (above) / whose left edge is right (left) of the same edge of SOME element the anchor
//!   selector finds, strictly. `containsChild`: a direct child is found by the sub-selector;
//!   `containsDescendants`: for every listed sub-selector, some descendant is found by it.
//!   Sub-selectors are evaluated with these same rules (deepest match, their own `index`).
//! - `childOf`: the FIRST element the parent selector finds (Maestro resolves one parent), and
//!   the search, including the anchors of relations, then runs among its descendants only.
//! - Order: document order, clickable elements first (stable; only Android reports
//!   `clickable`). Maestro applies relations as filters, so they do not reorder (its distance
//!   sort is discarded by the intersection). With `index: n`, the matches are sorted by top
//!   edge, then left edge, and the n-th (0-based) is the only result; past the end, none.
//! - `css` (web only) is an error.

use std::fmt::Write as _;

use regex::{Regex, RegexBuilder};

use crate::driver::hierarchy::{Bounds, Element};
use crate::flow::model::{Selector, Template, Trait};

/// Why a selector could not be evaluated. `field` is the selector key, with the path through
/// nested selectors (`below.text`, `containsDescendants[1].id`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    #[error("selector `{field}` uses the unknown variable ${{{name}}}")]
    UnknownVariable { field: String, name: String },
    #[error("selector `{field}` uses the javascript expression ${{{expr}}}, which harness does not run")]
    Script { field: String, expr: String },
    #[error("selector `{field}`: css selectors work only on web, not in an app's page source")]
    Css { field: String },
}

/// The elements `sel` finds under `root`, best first (see the module docs for the rules).
/// `vars` resolves the `${NAME}` references of `text` and `id`.
pub fn find<'a>(
    root: &'a Element,
    sel: &Selector,
    vars: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<&'a Element>, SelectError> {
    Ok(Query::new(sel, vars)?.find(root))
}

/// A selector with its variables rendered and regexes compiled: build once, then evaluate
/// against each new page source while waiting for an element.
#[derive(Clone, Debug)]
pub struct Query {
    text: Option<Pattern>,
    id: Option<Pattern>,
    width: Option<u32>,
    height: Option<u32>,
    tolerance: u32,
    traits: Vec<Trait>,
    enabled: Option<bool>,
    selected: Option<bool>,
    checked: Option<bool>,
    focused: Option<bool>,
    index: Option<u32>,
    /// Relations in Maestro's order: below, above, leftOf, rightOf.
    relations: Vec<(Relation, Query)>,
    contains_child: Option<Box<Query>>,
    contains_descendants: Vec<Query>,
    child_of: Option<Box<Query>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Relation {
    Below,
    Above,
    LeftOf,
    RightOf,
}

impl Relation {
    fn key(self) -> &'static str {
        match self {
            Relation::Below => "below",
            Relation::Above => "above",
            Relation::LeftOf => "leftOf",
            Relation::RightOf => "rightOf",
        }
    }

    /// Maestro compares the top (left) edges only, strictly.
    fn holds(self, it: Bounds, anchor: Bounds) -> bool {
        match self {
            Relation::Below => it.y > anchor.y,
            Relation::Above => it.y < anchor.y,
            Relation::LeftOf => it.x < anchor.x,
            Relation::RightOf => it.x > anchor.x,
        }
    }
}

/// A rendered `text` or `id` pattern.
#[derive(Clone, Debug)]
struct Pattern {
    source: String,
    /// `None` only when even the escaped pattern exceeds the regex size limit: then only the
    /// literal comparison is left.
    regex: Option<Regex>,
}

impl Pattern {
    fn new(source: String) -> Self {
        let build = |p: &str| {
            RegexBuilder::new(&format!(r"\A(?:{p})\z"))
                .case_insensitive(true)
                .dot_matches_new_line(true)
                .multi_line(true)
                .build()
                .ok()
        };
        let regex = build(&source).or_else(|| build(&regex::escape(&source)));
        Pattern { source, regex }
    }

    /// A full regex match.
    fn full_match(&self, value: &str) -> bool {
        match &self.regex {
            Some(r) => r.is_match(value),
            None => value == self.source,
        }
    }

    /// Maestro's text rule: a full match or literal equality, of the value as is or with its
    /// newlines turned into spaces.
    fn text_match(&self, value: &str) -> bool {
        let check = |v: &str| v == self.source || self.full_match(v);
        check(value) || (value.contains('\n') && check(&value.replace('\n', " ")))
    }

    /// Maestro's id rule: a full match of the id or of its part after the last `/`.
    fn id_match(&self, value: &str) -> bool {
        self.full_match(value) || value.rsplit_once('/').is_some_and(|(_, tail)| self.full_match(tail))
    }
}

fn render(template: &Template, field: &str, vars: &dyn Fn(&str) -> Option<String>) -> Result<String, SelectError> {
    if let Some(expr) = template.scripts().next() {
        return Err(SelectError::Script {
            field: field.to_string(),
            expr: expr.to_string(),
        });
    }
    template.render(vars).map_err(|name| SelectError::UnknownVariable {
        field: field.to_string(),
        name,
    })
}

impl Query {
    /// Renders the templates of `sel` (and its nested selectors) with `vars` and compiles them.
    pub fn new(sel: &Selector, vars: &dyn Fn(&str) -> Option<String>) -> Result<Query, SelectError> {
        Query::build(sel, "", vars)
    }

    fn build(sel: &Selector, path: &str, vars: &dyn Fn(&str) -> Option<String>) -> Result<Query, SelectError> {
        let field = |key: &str| format!("{path}{key}");
        if sel.css.is_some() {
            return Err(SelectError::Css { field: field("css") });
        }
        let pattern = |t: &Option<Template>, key: &str| -> Result<Option<Pattern>, SelectError> {
            t.as_ref()
                .map(|t| render(t, &field(key), vars).map(Pattern::new))
                .transpose()
        };
        let nested = |s: &Option<Box<Selector>>, key: &str| -> Result<Option<Box<Query>>, SelectError> {
            s.as_deref()
                .map(|s| Query::build(s, &format!("{path}{key}."), vars).map(Box::new))
                .transpose()
        };
        let mut relations = vec![];
        for (rel, s) in [
            (Relation::Below, &sel.below),
            (Relation::Above, &sel.above),
            (Relation::LeftOf, &sel.left_of),
            (Relation::RightOf, &sel.right_of),
        ] {
            if let Some(q) = nested(s, rel.key())? {
                relations.push((rel, *q));
            }
        }
        Ok(Query {
            text: pattern(&sel.text, "text")?,
            id: pattern(&sel.id, "id")?,
            width: sel.width,
            height: sel.height,
            tolerance: sel.tolerance.unwrap_or(0),
            traits: sel.traits.clone(),
            enabled: sel.enabled,
            selected: sel.selected,
            checked: sel.checked,
            focused: sel.focused,
            index: sel.index,
            relations,
            contains_child: nested(&sel.contains_child, "containsChild")?,
            contains_descendants: sel
                .contains_descendants
                .iter()
                .enumerate()
                .map(|(i, s)| Query::build(s, &format!("{path}containsDescendants[{i}]."), vars))
                .collect::<Result<_, _>>()?,
            child_of: nested(&sel.child_of, "childOf")?,
        })
    }

    /// The elements this query finds under `root`, best first.
    pub fn find<'a>(&self, root: &'a Element) -> Vec<&'a Element> {
        let flat = Flat::new(root);
        self.eval(&flat, 1, flat.nodes.len())
            .into_iter()
            .map(|i| flat.nodes[i])
            .collect()
    }

    /// The first element found, if any (what Maestro taps or asserts on).
    pub fn first<'a>(&self, root: &'a Element) -> Option<&'a Element> {
        self.find(root).into_iter().next()
    }

    /// What the query looks for, with variables rendered, for messages:
    /// `text="Continue", below (id="auth-email"), index=1`.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = vec![];
        if let Some(p) = &self.text {
            parts.push(format!("text={:?}", p.source));
        }
        if let Some(p) = &self.id {
            parts.push(format!("id={:?}", p.source));
        }
        let tolerance = if self.tolerance > 0 {
            format!("±{}", self.tolerance)
        } else {
            String::new()
        };
        if let Some(w) = self.width {
            parts.push(format!("width={w}{tolerance}"));
        }
        if let Some(h) = self.height {
            parts.push(format!("height={h}{tolerance}"));
        }
        if !self.traits.is_empty() {
            let names: Vec<&str> = self.traits.iter().map(|t| t.name()).collect();
            parts.push(format!("traits={}", names.join(" ")));
        }
        for (key, value) in [
            ("enabled", self.enabled),
            ("selected", self.selected),
            ("checked", self.checked),
            ("focused", self.focused),
        ] {
            if let Some(v) = value {
                parts.push(format!("{key}={v}"));
            }
        }
        for (rel, q) in &self.relations {
            parts.push(format!("{} ({})", rel.key(), q.describe()));
        }
        if let Some(q) = &self.contains_child {
            parts.push(format!("containsChild ({})", q.describe()));
        }
        if !self.contains_descendants.is_empty() {
            let mut s = String::from("containsDescendants (");
            for (i, q) in self.contains_descendants.iter().enumerate() {
                if i > 0 {
                    s.push_str("; ");
                }
                let _ = write!(s, "{}", q.describe());
            }
            s.push(')');
            parts.push(s);
        }
        if let Some(q) = &self.child_of {
            parts.push(format!("childOf ({})", q.describe()));
        }
        if let Some(i) = self.index {
            parts.push(format!("index={i}"));
        }
        if parts.is_empty() {
            "any element".to_string()
        } else {
            parts.join(", ")
        }
    }

    fn has_basic(&self) -> bool {
        self.text.is_some()
            || self.id.is_some()
            || self.width.is_some()
            || self.height.is_some()
            || !self.traits.is_empty()
            || self.enabled.is_some()
            || self.selected.is_some()
            || self.checked.is_some()
            || self.focused.is_some()
    }

    /// The element-local criteria.
    fn basic(&self, e: &Element) -> bool {
        if let Some(p) = &self.text
            && ![&e.text, &e.hint, &e.accessibility]
                .into_iter()
                .any(|v| p.text_match(v))
        {
            return false;
        }
        if let Some(p) = &self.id
            && !p.id_match(&e.id)
        {
            return false;
        }
        let near =
            |actual: i32, wanted: u32| (i64::from(actual) - i64::from(wanted)).abs() <= i64::from(self.tolerance);
        if self.width.is_some_and(|w| !near(e.bounds.width, w))
            || self.height.is_some_and(|h| !near(e.bounds.height, h))
        {
            return false;
        }
        let traits = self.traits.iter().all(|t| match t {
            Trait::Text => !e.text.is_empty(),
            Trait::LongText => e.text.chars().count() > 200,
            Trait::Square => {
                e.bounds.height != 0 && (1.0 - f64::from(e.bounds.width) / f64::from(e.bounds.height)).abs() < 0.03
            }
        });
        traits
            && self.enabled.is_none_or(|v| e.enabled == v)
            && self.selected.is_none_or(|v| e.selected == v)
            && self.checked.is_none_or(|v| e.checked == v)
            && self.focused.is_none_or(|v| e.focused == v)
    }

    /// The query over the pre-order positions `lo..hi` (one subtree, or the whole tree without
    /// its root), as positions, best first.
    fn eval(&self, flat: &Flat<'_>, lo: usize, hi: usize) -> Vec<usize> {
        let (lo, hi) = match &self.child_of {
            None => (lo, hi),
            Some(parent) => match parent.eval(flat, lo, hi).first() {
                Some(&p) => (p + 1, flat.end[p]),
                None => return vec![],
            },
        };
        let mut found: Vec<usize> = if self.has_basic() {
            // Deepest matches: walk backwards so descendants are seen before their ancestors.
            let mut match_below = vec![false; hi - lo];
            let mut deepest = vec![];
            for i in (lo..hi).rev() {
                let matched = flat.visible[i] && self.basic(flat.nodes[i]);
                let below = match_below[i - lo];
                if matched && !below {
                    deepest.push(i);
                }
                if (matched || below)
                    && let Some(p) = flat.parent[i]
                    && p >= lo
                {
                    match_below[p - lo] = true;
                }
            }
            deepest.reverse();
            deepest
        } else {
            (lo..hi).filter(|&i| flat.visible[i]).collect()
        };

        for (rel, anchor) in &self.relations {
            let anchors: Vec<Bounds> = anchor
                .eval(flat, lo, hi)
                .into_iter()
                .map(|a| flat.nodes[a].bounds)
                .collect();
            found.retain(|&i| anchors.iter().any(|&a| rel.holds(flat.nodes[i].bounds, a)));
        }
        if let Some(child) = &self.contains_child {
            let hits = flat.mark(&child.eval(flat, lo, hi));
            found.retain(|&i| flat.children(i).any(|c| hits[c]));
        }
        for sub in &self.contains_descendants {
            let hits = flat.mark(&sub.eval(flat, lo, hi));
            found.retain(|&i| (i + 1..flat.end[i]).any(|d| hits[d]));
        }

        match self.index {
            Some(n) => {
                found.sort_by_key(|&i| (flat.nodes[i].bounds.y, flat.nodes[i].bounds.x));
                found.get(n as usize).map(|&i| vec![i]).unwrap_or_default()
            }
            None => {
                found.sort_by_key(|&i| !flat.nodes[i].clickable);
                found
            }
        }
    }
}

/// The tree in pre-order, with parents and subtree ends.
struct Flat<'a> {
    nodes: Vec<&'a Element>,
    parent: Vec<Option<usize>>,
    /// One past the last descendant: the subtree of `i` is `i..end[i]`.
    end: Vec<usize>,
    /// Visible with a non-zero size (any size in a source without geometry): a candidate.
    visible: Vec<bool>,
}

impl<'a> Flat<'a> {
    fn new(root: &'a Element) -> Self {
        let mut nodes = vec![];
        let mut parent = vec![];
        let mut end = vec![];
        let mut open: Vec<usize> = vec![];
        root.walk(&mut |e, depth| {
            let i = nodes.len();
            while open.len() > depth {
                end[open.pop().expect("open")] = i;
            }
            nodes.push(e);
            parent.push(open.last().copied());
            end.push(i + 1);
            open.push(i);
        });
        for i in open {
            end[i] = nodes.len();
        }
        let visible = nodes
            .iter()
            .map(|e| e.visible && (e.no_geometry || (e.bounds.width > 0 && e.bounds.height > 0)))
            .collect();
        Flat {
            nodes,
            parent,
            end,
            visible,
        }
    }

    fn children(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        let mut next = i + 1;
        std::iter::from_fn(move || {
            (next < self.end[i]).then(|| {
                let c = next;
                next = self.end[c];
                c
            })
        })
    }

    fn mark(&self, positions: &[usize]) -> Vec<bool> {
        let mut out = vec![false; self.nodes.len()];
        for &p in positions {
            out[p] = true;
        }
        out
    }
}

/// Selector helpers for tests (also the farm's compatibility tests).
#[cfg(test)]
pub(crate) mod testing {
    use super::find;
    use crate::driver::hierarchy::Element;
    use crate::flow::model::Selector;

    pub(crate) fn no_vars(_: &str) -> Option<String> {
        None
    }

    /// Ids of what `sel` finds.
    pub(crate) fn ids(root: &Element, sel: &Selector) -> Vec<String> {
        find(root, sel, &no_vars)
            .unwrap()
            .into_iter()
            .map(|e| e.id.clone())
            .collect()
    }

    pub(crate) fn sel(f: impl FnOnce(&mut Selector)) -> Selector {
        let mut s = Selector::default();
        f(&mut s);
        s
    }

    pub(crate) fn b(s: Selector) -> Option<Box<Selector>> {
        Some(Box::new(s))
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{b, ids, no_vars, sel};
    use super::*;
    use crate::driver::hierarchy::parse_source;
    use crate::flow::model::Part;

    fn el(class: &str, id: &str, text: &str, (x, y, width, height): (i32, i32, i32, i32)) -> Element {
        Element {
            class: class.into(),
            id: id.into(),
            text: text.into(),
            accessibility: text.into(),
            bounds: Bounds { x, y, width, height },
            enabled: true,
            visible: true,
            ..Element::default()
        }
    }

    fn with(mut e: Element, children: Vec<Element>) -> Element {
        e.children = children;
        e
    }

    fn app(children: Vec<Element>) -> Element {
        with(el("Application", "app", "App", (0, 0, 400, 800)), children)
    }

    #[test]
    fn text_is_a_full_case_insensitive_regex_over_text_hint_and_accessibility() {
        let mut field = el("Field", "field", "", (0, 100, 100, 40));
        field.hint = "Email address".into();
        field.accessibility = String::new();
        let mut icon = el("Image", "icon", "", (0, 200, 40, 40));
        icon.accessibility = "Settings gear".into();
        let root = app(vec![
            el("Text", "title", "Sign in", (0, 0, 100, 40)),
            el("Text", "beta", "Sign in (beta)", (0, 50, 100, 40)),
            field,
            icon,
            el("Text", "multi", "Line one\nline two", (0, 300, 100, 40)),
        ]);
        assert_eq!(ids(&root, &Selector::text("Sign in")), ["title"]);
        assert_eq!(ids(&root, &Selector::text("SIGN IN")), ["title"]);
        assert_eq!(
            ids(&root, &Selector::text("Sign")),
            Vec::<String>::new(),
            "no partial match"
        );
        assert_eq!(ids(&root, &Selector::text("Sign in.*")), ["title", "beta"]);
        // Literal equality, although as a regex the parentheses are a group.
        assert_eq!(ids(&root, &Selector::text("Sign in (beta)")), ["beta"]);
        assert_eq!(ids(&root, &Selector::text("Sign in \\(beta\\)")), ["beta"]);
        // Not a valid regex: matched as literal text.
        let root2 = app(vec![el("Text", "odd", "50% (off", (0, 0, 10, 10))]);
        assert_eq!(ids(&root2, &Selector::text("50% (off")), ["odd"]);
        assert_eq!(
            ids(&root2, &Selector::text("50% (OFF")),
            ["odd"],
            "still case-insensitive"
        );
        // Hint and accessibility text.
        assert_eq!(ids(&root, &Selector::text("email address")), ["field"]);
        assert_eq!(ids(&root, &Selector::text("Settings.*")), ["icon"]);
        // Dot matches newline; newlines also count as spaces; ^/$ match at line breaks.
        assert_eq!(ids(&root, &Selector::text("Line one.line two")), ["multi"]);
        assert_eq!(ids(&root, &Selector::text("line one line two")), ["multi"]);
        assert_eq!(ids(&root, &Selector::text("Line one$.^line two")), ["multi"]);
        assert_eq!(ids(&root, &Selector::text("line one")), Vec::<String>::new());
        // Alternation is anchored as a whole.
        assert_eq!(ids(&root, &Selector::text("Sign in|Settings gear")), ["title", "icon"]);
    }

    #[test]
    fn id_is_a_full_regex_also_after_the_package_prefix() {
        let root = app(vec![
            el("Button", "com.example:id/login", "Log in", (0, 0, 100, 40)),
            el("Button", "login-help", "Help", (0, 50, 100, 40)),
            el("Button", "auth-continue", "Continue", (0, 100, 100, 40)),
        ]);
        assert_eq!(ids(&root, &Selector::id("login")), ["com.example:id/login"]);
        assert_eq!(
            ids(&root, &Selector::id("com.example:id/login")),
            ["com.example:id/login"]
        );
        assert_eq!(
            ids(&root, &Selector::id("LOGIN.*")),
            ["com.example:id/login", "login-help"]
        );
        assert_eq!(
            ids(&root, &Selector::id("auth")),
            Vec::<String>::new(),
            "no partial match"
        );
        assert_eq!(ids(&root, &Selector::id("auth-.*")), ["auth-continue"]);
        // The id is not matched against the text.
        assert_eq!(ids(&root, &Selector::id("Continue")), Vec::<String>::new());
    }

    #[test]
    fn only_visible_sized_elements_and_never_the_root() {
        let mut hidden = el("Text", "hidden", "Hello", (0, 0, 100, 40));
        hidden.visible = false;
        let root = app(vec![
            hidden,
            el("Text", "zero", "Hello", (0, 0, 0, 40)),
            el("Text", "flat", "Hello", (0, 0, 100, 0)),
            el("Text", "shown", "Hello", (0, 50, 100, 40)),
        ]);
        assert_eq!(ids(&root, &Selector::text("Hello")), ["shown"]);
        assert_eq!(ids(&root, &Selector::text("App")), Vec::<String>::new());
        assert_eq!(ids(&root, &Selector::default()), ["shown"]);
    }

    #[test]
    fn zero_size_elements_are_candidates_only_in_sources_without_geometry() {
        // Appium's fake driver: the app XML wrapped in AppiumAUT, no element has a size.
        let fake = "<AppiumAUT><app width=\"390\" height=\"844\"><MockListView id=\"form\">\
                    <MockInputField id=\"email\" placeholder=\"Email\"/>\
                    <MockButton id=\"go\" text=\"Continue\"/></MockListView>\
                    <MockTextField id=\"error\" text=\"Wrong password\" visible=\"false\"/>\
                    </app></AppiumAUT>";
        let root = parse_source(fake).unwrap();
        assert!(root.no_geometry);
        assert_eq!(ids(&root, &Selector::text("Continue")), ["go"]);
        assert_eq!(ids(&root, &Selector::text("Email")), ["email"]);
        assert_eq!(ids(&root, &Selector::id("form")), ["form"]);
        // Still only visible ones, and never the root.
        assert_eq!(ids(&root, &Selector::text("Wrong password")), Vec::<String>::new());
        assert_eq!(ids(&root, &Selector::default()), ["form", "email", "go"]);
        assert_eq!(
            find(&root, &Selector::text("Continue"), &no_vars).unwrap()[0].xpath,
            "/AppiumAUT/app[1]/MockListView[1]/MockButton[1]"
        );

        // One sized element below the root: the usual rule again.
        let sized = fake.replace(
            "<MockButton id=\"go\"",
            "<MockButton left=\"0\" top=\"0\" width=\"9\" height=\"9\" id=\"go\"",
        );
        let root = parse_source(&sized).unwrap();
        assert!(!root.no_geometry);
        assert_eq!(ids(&root, &Selector::default()), ["go"]);
        assert_eq!(ids(&root, &Selector::text("Email")), Vec::<String>::new());

        // XCUITest and UiAutomator2 keep the rule even when nothing has a size.
        for xml in [
            "<AppiumAUT><XCUIElementTypeApplication width=\"390\" height=\"844\">\
             <XCUIElementTypeButton name=\"go\" label=\"Continue\"/></XCUIElementTypeApplication></AppiumAUT>",
            "<hierarchy width=\"1080\" height=\"2400\"><android.widget.Button resource-id=\"go\" text=\"Continue\"/></hierarchy>",
        ] {
            let root = parse_source(xml).unwrap();
            assert!(!root.no_geometry);
            assert_eq!(ids(&root, &Selector::text("Continue")), Vec::<String>::new(), "{xml}");
        }
    }

    #[test]
    fn the_deepest_match_wins() {
        // An RN pressable labelled by its text, with the text inside it.
        let root = app(vec![with(
            el("Other", "pressable", "Continue", (0, 0, 200, 50)),
            vec![el("StaticText", "label", "Continue", (10, 10, 100, 30))],
        )]);
        assert_eq!(ids(&root, &Selector::text("Continue")), ["label"]);
        // A criterion the inner element fails keeps the outer one.
        let s = sel(|s| {
            s.text = Some(Template::literal("Continue"));
            s.width = Some(200);
        });
        assert_eq!(ids(&root, &s), ["pressable"]);
        // An invisible inner match does not hide the outer one.
        let mut root = root;
        root.children[0].children[0].visible = false;
        assert_eq!(ids(&root, &Selector::text("Continue")), ["pressable"]);
    }

    #[test]
    fn size_with_tolerance() {
        let root = app(vec![
            el("A", "a", "", (0, 0, 100, 50)),
            el("A", "b", "", (0, 60, 104, 50)),
            el("A", "c", "", (0, 120, 100, 60)),
        ]);
        let s = |w: Option<u32>, h: Option<u32>, t: Option<u32>| {
            sel(|s| {
                s.width = w;
                s.height = h;
                s.tolerance = t;
            })
        };
        assert_eq!(ids(&root, &s(Some(100), None, None)), ["a", "c"]);
        assert_eq!(ids(&root, &s(Some(100), Some(50), None)), ["a"]);
        assert_eq!(ids(&root, &s(Some(100), Some(50), Some(4))), ["a", "b"]);
        assert_eq!(ids(&root, &s(Some(100), Some(50), Some(3))), ["a"]);
        assert_eq!(ids(&root, &s(None, Some(55), Some(5))), ["a", "b", "c"]);
    }

    #[test]
    fn states() {
        let mut off = el("Switch", "off", "", (0, 0, 50, 30));
        off.enabled = false;
        let mut on = el("Switch", "on", "", (0, 40, 50, 30));
        on.checked = true;
        on.selected = true;
        let mut field = el("Field", "field", "", (0, 80, 200, 40));
        field.focused = true;
        let root = app(vec![off, on, field]);
        assert_eq!(ids(&root, &sel(|s| s.enabled = Some(false))), ["off"]);
        assert_eq!(ids(&root, &sel(|s| s.enabled = Some(true))), ["on", "field"]);
        assert_eq!(ids(&root, &sel(|s| s.checked = Some(true))), ["on"]);
        assert_eq!(ids(&root, &sel(|s| s.checked = Some(false))), ["off", "field"]);
        assert_eq!(ids(&root, &sel(|s| s.selected = Some(true))), ["on"]);
        assert_eq!(ids(&root, &sel(|s| s.focused = Some(true))), ["field"]);
        let s = sel(|s| {
            s.id = Some(Template::literal("o.*"));
            s.enabled = Some(true);
        });
        assert_eq!(ids(&root, &s), ["on"]);
    }

    #[test]
    fn traits() {
        let long = "x".repeat(201);
        let root = app(vec![
            el("Text", "short", "Hi", (0, 0, 100, 40)),
            el("Text", "exact", &"y".repeat(200), (0, 50, 100, 40)),
            el("Text", "long", &long, (0, 100, 100, 40)),
            el("Image", "square", "", (0, 150, 100, 98)),
            el("Image", "wide", "", (0, 250, 100, 96)),
        ]);
        let t = |traits: Vec<Trait>| sel(|s| s.traits = traits);
        assert_eq!(ids(&root, &t(vec![Trait::Text])), ["short", "exact", "long"]);
        assert_eq!(ids(&root, &t(vec![Trait::LongText])), ["long"]);
        // |1 - 100/98| = 0.0204 < 0.03; |1 - 100/96| = 0.0417.
        assert_eq!(ids(&root, &t(vec![Trait::Square])), ["square"]);
        assert_eq!(ids(&root, &t(vec![Trait::Text, Trait::Square])), Vec::<String>::new());
    }

    /// Two cards, each with a title, a price and a button.
    fn cards() -> Element {
        let card = |n: i32, title: &str, price: &str| {
            let y = 100 + n * 200;
            with(
                el("Card", &format!("card-{n}"), "", (0, y, 400, 180)),
                vec![
                    with(
                        el("Row", &format!("row-{n}"), "", (0, y, 400, 60)),
                        vec![
                            el("Text", &format!("title-{n}"), title, (10, y + 10, 200, 40)),
                            el("Text", &format!("price-{n}"), price, (250, y + 10, 100, 40)),
                        ],
                    ),
                    el("Button", &format!("buy-{n}"), "Buy", (10, y + 100, 380, 60)),
                ],
            )
        };
        app(vec![
            el("Text", "header", "Shop", (0, 0, 400, 80)),
            card(0, "Apples", "$1"),
            card(1, "Pears", "$2"),
        ])
    }

    #[test]
    fn child_of_searches_inside_the_first_parent_found() {
        let root = cards();
        let buy_in = |parent: Selector| {
            sel(|s| {
                s.text = Some(Template::literal("Buy"));
                s.child_of = b(parent);
            })
        };
        assert_eq!(ids(&root, &buy_in(Selector::id("card-1"))), ["buy-1"]);
        // The parent selector finds both cards; Maestro takes the first.
        assert_eq!(ids(&root, &buy_in(Selector::id("card-.*"))), ["buy-0"]);
        let pears_card = sel(|s| {
            s.id = Some(Template::literal("card-.*"));
            s.contains_descendants = vec![Selector::text("Pears")];
        });
        assert_eq!(ids(&root, &buy_in(pears_card)), ["buy-1"]);
        assert_eq!(ids(&root, &buy_in(Selector::id("nothing"))), Vec::<String>::new());
        // Descendants only: the parent itself is not a candidate.
        let s = sel(|s| {
            s.id = Some(Template::literal("card-1"));
            s.child_of = b(Selector::id("card-1"));
        });
        assert_eq!(ids(&root, &s), Vec::<String>::new());
        // Nested childOf: a parent inside a parent.
        let s = sel(|s| {
            s.id = Some(Template::literal("price-.*"));
            s.child_of = b(sel(|p| {
                p.id = Some(Template::literal("row-.*"));
                p.child_of = b(Selector::id("card-1"));
            }));
        });
        assert_eq!(ids(&root, &s), ["price-1"]);
        // Relations inside childOf look for their anchors inside the parent too (as Maestro).
        let s = sel(|s| {
            s.text = Some(Template::literal("Buy"));
            s.below = b(Selector::text("Shop"));
            s.child_of = b(Selector::id("card-1"));
        });
        assert_eq!(ids(&root, &s), Vec::<String>::new());
    }

    #[test]
    fn contains_child_is_direct_and_contains_descendants_needs_all() {
        let root = cards();
        let s = sel(|s| s.contains_child = b(Selector::text("Pears")));
        assert_eq!(ids(&root, &s), ["row-1"], "the card is a grandparent, not a parent");
        let s = sel(|s| s.contains_descendants = vec![Selector::text("Pears")]);
        assert_eq!(ids(&root, &s), ["card-1", "row-1"]);
        let s = sel(|s| s.contains_descendants = vec![Selector::text("Pears"), Selector::text("Buy")]);
        assert_eq!(ids(&root, &s), ["card-1"]);
        let s = sel(|s| s.contains_descendants = vec![Selector::text("Pears"), Selector::text("\\$1")]);
        assert_eq!(ids(&root, &s), Vec::<String>::new());
        let s = sel(|s| {
            s.id = Some(Template::literal("card-.*"));
            s.contains_child = b(Selector::text("Buy"));
        });
        assert_eq!(ids(&root, &s), ["card-0", "card-1"]);
    }

    #[test]
    fn relations_compare_edges_against_any_anchor() {
        let root = cards();
        // Below: top edge strictly below the anchor's top edge.
        let s = sel(|s| {
            s.text = Some(Template::literal("Buy"));
            s.below = b(Selector::text("Pears"));
        });
        assert_eq!(ids(&root, &s), ["buy-1"]);
        let s = sel(|s| {
            s.text = Some(Template::literal("Buy"));
            s.above = b(Selector::text("Pears"));
        });
        assert_eq!(ids(&root, &s), ["buy-0"]);
        // Any anchor: below some price.
        let s = sel(|s| {
            s.text = Some(Template::literal("Buy"));
            s.below = b(Selector::id("price-.*"));
        });
        assert_eq!(ids(&root, &s), ["buy-0", "buy-1"]);
        // An index in the anchor picks one anchor.
        let s = sel(|s| {
            s.text = Some(Template::literal("Buy"));
            s.below = b(sel(|a| {
                a.id = Some(Template::literal("price-.*"));
                a.index = Some(1);
            }));
        });
        assert_eq!(ids(&root, &s), ["buy-1"]);
        // Left/right compare left edges: the title (x=10) is left of the price (x=250); the
        // button (x=10) is not right of the title.
        let s = sel(|s| {
            s.id = Some(Template::literal("(title|price|buy)-1"));
            s.right_of = b(Selector::text("Pears"));
        });
        assert_eq!(ids(&root, &s), ["price-1"]);
        let s = sel(|s| {
            s.id = Some(Template::literal("(title|price|buy)-0"));
            s.left_of = b(Selector::text("\\$1"));
        });
        assert_eq!(ids(&root, &s), ["title-0", "buy-0"]);
        // Strict: same top edge is neither above nor below.
        let s = sel(|s| {
            s.id = Some(Template::literal("price-0"));
            s.below = b(Selector::text("Apples"));
        });
        assert_eq!(ids(&root, &s), Vec::<String>::new());
        // No basic criterion: every visible element passing the relation, in document order.
        let s = sel(|s| s.below = b(Selector::text("Pears")));
        assert_eq!(ids(&root, &s), ["buy-1"]);
        let s = sel(|s| s.above = b(Selector::text("Apples")));
        assert_eq!(ids(&root, &s), ["header", "card-0", "row-0"]);
        // Two relations: both must hold.
        let s = sel(|s| {
            s.below = b(Selector::text("Apples"));
            s.above = b(Selector::id("card-1"));
        });
        assert_eq!(ids(&root, &s), ["buy-0"]);
        // Nothing found for the anchor: nothing found.
        let s = sel(|s| s.below = b(Selector::text("Bananas")));
        assert_eq!(ids(&root, &s), Vec::<String>::new());
    }

    #[test]
    fn order_clickable_first_and_index_by_position() {
        let mut button = el("Button", "button", "Go", (200, 0, 100, 40));
        button.clickable = true;
        let root = app(vec![
            el("Text", "low", "Go", (0, 300, 100, 40)),
            el("Text", "high-right", "Go", (150, 100, 100, 40)),
            button,
            el("Text", "high-left", "Go", (0, 100, 100, 40)),
        ]);
        assert_eq!(
            ids(&root, &Selector::text("Go")),
            ["button", "low", "high-right", "high-left"],
            "document order, clickable first"
        );
        let at = |i: u32| {
            sel(|s| {
                s.text = Some(Template::literal("Go"));
                s.index = Some(i);
            })
        };
        // Index: by top edge, then left edge.
        assert_eq!(ids(&root, &at(0)), ["button"]);
        assert_eq!(ids(&root, &at(1)), ["high-left"]);
        assert_eq!(ids(&root, &at(2)), ["high-right"]);
        assert_eq!(ids(&root, &at(3)), ["low"]);
        assert_eq!(ids(&root, &at(4)), Vec::<String>::new());
    }

    #[test]
    fn variables_scripts_and_css() {
        let root = cards();
        let s = Selector {
            text: Some(Template {
                parts: vec![Part::Var("FRUIT".into()), Part::Text("s".into())],
            }),
            ..Selector::default()
        };
        let vars = |name: &str| (name == "FRUIT").then(|| "Pear".to_string());
        let found = find(&root, &s, &vars).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, "title-1");
        // The variable's value is a regex too.
        let vars = |_: &str| Some("(Pear|Apple)".to_string());
        assert_eq!(find(&root, &s, &vars).unwrap().len(), 2);

        let nested = sel(|n| {
            n.contains_descendants = vec![Selector::default(), s.clone()];
        });
        let err = find(&root, &nested, &no_vars).unwrap_err();
        assert_eq!(
            err,
            SelectError::UnknownVariable {
                field: "containsDescendants[1].text".into(),
                name: "FRUIT".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "selector `containsDescendants[1].text` uses the unknown variable ${FRUIT}"
        );
        let script = sel(|n| {
            n.below = b(Selector {
                id: Some(Template {
                    parts: vec![Part::Script("output.id".into())],
                }),
                ..Selector::default()
            })
        });
        let err = find(&root, &script, &no_vars).unwrap_err();
        assert_eq!(
            err.to_string(),
            "selector `below.id` uses the javascript expression ${output.id}, which harness does not run"
        );
        let css = sel(|n| n.child_of = b(sel(|c| c.css = Some("#buy".into()))));
        assert_eq!(
            find(&root, &css, &no_vars).unwrap_err().to_string(),
            "selector `childOf.css`: css selectors work only on web, not in an app's page source"
        );
    }

    #[test]
    fn describe_queries() {
        let s = sel(|s| {
            s.text = Some(Template::literal("Continue"));
            s.width = Some(100);
            s.tolerance = Some(5);
            s.traits = vec![Trait::Text, Trait::Square];
            s.enabled = Some(true);
            s.below = b(Selector::id("auth-email"));
            s.contains_descendants = vec![Selector::text("a"), Selector::text("b")];
            s.child_of = b(Selector::id("screen"));
            s.index = Some(1);
        });
        assert_eq!(
            Query::new(&s, &no_vars).unwrap().describe(),
            "text=\"Continue\", width=100±5, traits=text square, enabled=true, below (id=\"auth-email\"), \
             containsDescendants (text=\"a\"; text=\"b\"), childOf (id=\"screen\"), index=1"
        );
        assert_eq!(
            Query::new(&Selector::default(), &no_vars).unwrap().describe(),
            "any element"
        );
    }

    #[test]
    fn flat_positions() {
        let root = cards();
        let flat = Flat::new(&root);
        let names: Vec<&str> = flat.nodes.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(
            names,
            [
                "app", "header", "card-0", "row-0", "title-0", "price-0", "buy-0", "card-1", "row-1", "title-1",
                "price-1", "buy-1"
            ]
        );
        assert_eq!(flat.end, [12, 2, 7, 6, 5, 6, 7, 12, 11, 10, 11, 12]);
        assert_eq!(flat.parent[6], Some(2));
        assert_eq!(flat.parent[0], None);
        assert_eq!(flat.children(0).collect::<Vec<_>>(), [1, 2, 7]);
        assert_eq!(flat.children(2).collect::<Vec<_>>(), [3, 6]);
        assert_eq!(flat.children(4).count(), 0);
    }
}
