//! Locator strategies for W3C `POST /session/:id/element(s)` and `…/element/:id/element(s)`.
//!
//! Every strategy is evaluated over the XML model `farm::source` prints as page source, so the
//! attribute names and values a locator sees are the ones a person reads in the source:
//!
//! - `accessibility id`: iOS matches `name` (the testID, or the label of an element without one),
//!   which is what WDA does. On Android the real driver matches `content-desc`, but React Native
//!   puts testID in the resource-id and the virtual app sets no accessibilityLabel, so for the
//!   virtual app `accessibility id` matches the testID (the `resource-id`) on Android.
//! - `id`: iOS behaves like `accessibility id` (WDA treats them alike); Android matches the
//!   `resource-id`, given bare (`auth-continue`) or with the package prefix
//!   (`com.example.app:id/auth-continue`).
//! - `class name`: the element name, `XCUIElementTypeButton` / `android.widget.Button`.
//! - `xpath`: an XPath 1.0 subset (see [`parse_xpath`]); anything outside it is an
//!   [`FindError::InvalidSelector`] naming the unsupported part.
//!
//! Searching from an element (`from` non-empty) returns descendants only for the non-XPath
//! strategies. For XPath, relative paths start at that element; absolute paths (`/…`, `//…`)
//! start at the document root, which on Android is the whole screen (UiAutomator2 evaluates
//! against the full document) and on iOS is the element itself (WDA's default
//! `limitXpathContextScope=true` builds the document from the element's subtree).

use crate::farm::source::{XmlElement, xml_tree};
use crate::farm::ui::UiTree;
use crate::platform::Platform;

/// A locator strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    AccessibilityId,
    Id,
    XPath,
    ClassName,
}

/// Why a find failed (an empty result is not a failure).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FindError {
    /// The selector is malformed or uses syntax this simulator does not support
    /// (W3C `invalid selector`).
    #[error("invalid selector: {0}")]
    InvalidSelector(String),
}

/// The strategy named by a W3C `using` value; `None` for strategies the simulator lacks
/// (`-android uiautomator`, `-ios predicate string`, `-ios class chain`, CSS, …).
pub fn parse_strategy(using: &str) -> Option<Strategy> {
    match using {
        "accessibility id" => Some(Strategy::AccessibilityId),
        "id" => Some(Strategy::Id),
        "xpath" => Some(Strategy::XPath),
        "class name" => Some(Strategy::ClassName),
        _ => None,
    }
}

/// Paths (child indexes from the tree root) of the elements matching `value`, in document order.
/// `from` is the path of the element to search under; empty searches the whole screen. The caller
/// resolves element ids first (a stale id is its error to report); a `from` path that is not on
/// screen finds nothing.
pub fn find_all(tree: &UiTree, from: &[usize], strategy: Strategy, value: &str) -> Result<Vec<Vec<usize>>, FindError> {
    if value.is_empty() {
        return Err(FindError::InvalidSelector("the selector is empty".into()));
    }
    let model = xml_tree(tree);
    if strategy == Strategy::XPath {
        let xpath = parse_xpath(value)?;
        // iOS: the document is the context element's subtree (WDA limitXpathContextScope).
        let (doc, context) = match (tree.platform, from.is_empty()) {
            (_, true) => (Doc::new(&model), 0),
            (Platform::Ios, false) => {
                let Some(sub) = model.find_path(from) else {
                    return Ok(vec![]);
                };
                (Doc::new(sub), 1)
            }
            (Platform::Android, false) => {
                let doc = Doc::new(&model);
                let Some(ctx) = doc.index_of(from) else {
                    return Ok(vec![]);
                };
                (doc, ctx)
            }
        };
        let found = eval_path(&doc, &xpath, context);
        return Ok(found.into_iter().filter_map(|i| doc.nodes[i].el.path.clone()).collect());
    }

    let doc = Doc::new(&model);
    let scope: Vec<usize> = if from.is_empty() {
        (1..doc.nodes.len()).collect()
    } else {
        let Some(ctx) = doc.index_of(from) else {
            return Ok(vec![]);
        };
        let mut d = vec![];
        doc.descendants(ctx, &mut d);
        d
    };
    let package_prefix = format!("{}:id/", tree.app_id);
    let matches = |e: &XmlElement| -> bool {
        match (strategy, tree.platform) {
            (Strategy::ClassName, _) => e.name == value,
            (Strategy::AccessibilityId | Strategy::Id, Platform::Ios) => e.attr("name") == Some(value),
            (Strategy::AccessibilityId, Platform::Android) => {
                e.attr("resource-id") == Some(value)
                    || e.attr("content-desc").is_some_and(|d| !d.is_empty() && d == value)
            }
            (Strategy::Id, Platform::Android) => e.attr("resource-id").is_some_and(|rid| {
                !rid.is_empty() && (rid == value || value.strip_prefix(package_prefix.as_str()) == Some(rid))
            }),
            (Strategy::XPath, _) => unreachable!("handled above"),
        }
    };
    Ok(scope
        .into_iter()
        .filter(|&i| doc.nodes[i].el.path.is_some() && matches(doc.nodes[i].el))
        .filter_map(|i| doc.nodes[i].el.path.clone())
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Document: the XML model flattened in document order. Node 0 is the document node.

struct DocNode<'a> {
    el: &'a XmlElement,
    parent: Option<usize>,
    children: Vec<usize>,
}

struct Doc<'a> {
    /// `nodes[0]` is the document node (its `el` is the root element, but it is not an element
    /// itself); element `i` is `nodes[i]` for `i >= 1`, in document order.
    nodes: Vec<DocNode<'a>>,
}

impl<'a> Doc<'a> {
    fn new(root: &'a XmlElement) -> Self {
        let mut doc = Doc {
            nodes: vec![DocNode {
                el: root,
                parent: None,
                children: vec![1],
            }],
        };
        doc.push(root, 0);
        doc
    }

    fn push(&mut self, el: &'a XmlElement, parent: usize) -> usize {
        let i = self.nodes.len();
        self.nodes.push(DocNode {
            el,
            parent: Some(parent),
            children: vec![],
        });
        for c in &el.children {
            let ci = self.push(c, i);
            self.nodes[i].children.push(ci);
        }
        i
    }

    fn index_of(&self, path: &[usize]) -> Option<usize> {
        (1..self.nodes.len()).find(|&i| self.nodes[i].el.path.as_deref() == Some(path))
    }

    /// Descendants of `i` (not `i` itself), in document order.
    fn descendants(&self, i: usize, out: &mut Vec<usize>) {
        for &c in &self.nodes[i].children {
            out.push(c);
            self.descendants(c, out);
        }
    }

    fn is_element(&self, i: usize) -> bool {
        i != 0
    }
}

// ---------------------------------------------------------------------------------------------
// XPath subset: tokenizer.

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Slash,
    DoubleSlash,
    LBracket,
    RBracket,
    LParen,
    RParen,
    At,
    Comma,
    Eq,
    NotEq,
    Star,
    Dot,
    DotDot,
    Name(String),
    Str(String),
    Num(usize),
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Slash => "'/'".into(),
        Tok::DoubleSlash => "'//'".into(),
        Tok::LBracket => "'['".into(),
        Tok::RBracket => "']'".into(),
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::At => "'@'".into(),
        Tok::Comma => "','".into(),
        Tok::Eq => "'='".into(),
        Tok::NotEq => "'!='".into(),
        Tok::Star => "'*'".into(),
        Tok::Dot => "'.'".into(),
        Tok::DotDot => "'..'".into(),
        Tok::Name(n) => format!("'{n}'"),
        Tok::Str(s) => format!("string '{s}'"),
        Tok::Num(n) => format!("number {n}"),
    }
}

fn invalid(msg: impl Into<String>) -> FindError {
    FindError::InvalidSelector(msg.into())
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.')
}

fn tokenize(s: &str) -> Result<Vec<Tok>, FindError> {
    let chars: Vec<char> = s.chars().collect();
    let mut toks = vec![];
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            c if c.is_whitespace() => i += 1,
            '/' if next == Some('/') => {
                toks.push(Tok::DoubleSlash);
                i += 2;
            }
            '/' => {
                toks.push(Tok::Slash);
                i += 1;
            }
            '[' | ']' | '(' | ')' | '@' | ',' | '=' | '*' => {
                toks.push(match c {
                    '[' => Tok::LBracket,
                    ']' => Tok::RBracket,
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    '@' => Tok::At,
                    ',' => Tok::Comma,
                    '=' => Tok::Eq,
                    _ => Tok::Star,
                });
                i += 1;
            }
            '!' if next == Some('=') => {
                toks.push(Tok::NotEq);
                i += 2;
            }
            '.' if next == Some('.') => {
                toks.push(Tok::DotDot);
                i += 2;
            }
            '.' if next.is_some_and(|n| n.is_ascii_digit()) => {
                return Err(invalid("decimal numbers are not supported"));
            }
            '.' => {
                toks.push(Tok::Dot);
                i += 1;
            }
            '\'' | '"' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&d| d == c)
                    .ok_or_else(|| invalid(format!("unterminated string starting at character {}", i + 1)))?;
                toks.push(Tok::Str(chars[i + 1..i + 1 + end].iter().collect()));
                i += end + 2;
            }
            c if c.is_ascii_digit() => {
                let start = i;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                if chars.get(i) == Some(&'.') {
                    return Err(invalid("decimal numbers are not supported"));
                }
                let text: String = chars[start..i].iter().collect();
                let n = text
                    .parse()
                    .map_err(|_| invalid(format!("number {text} is too large")))?;
                toks.push(Tok::Num(n));
            }
            c if is_name_start(c) => {
                let start = i;
                while i < chars.len() && is_name_char(chars[i]) {
                    i += 1;
                }
                if chars.get(i) == Some(&':') {
                    let name: String = chars[start..i].iter().collect();
                    return Err(if chars.get(i + 1) == Some(&':') {
                        invalid(format!(
                            "axes ('{name}::') are not supported; use '/', '//', '.' or '..'"
                        ))
                    } else {
                        invalid(format!("namespace prefixes ('{name}:') are not supported"))
                    });
                }
                toks.push(Tok::Name(chars[start..i].iter().collect()));
            }
            '|' => return Err(invalid("unions ('|') are not supported")),
            '$' => return Err(invalid("variables ('$') are not supported")),
            '<' | '>' => return Err(invalid(format!("comparison '{c}' is not supported; use '=' or '!='"))),
            '+' | '-' => return Err(invalid(format!("arithmetic ('{c}') is not supported"))),
            c => return Err(invalid(format!("unexpected character '{c}' at position {}", i + 1))),
        }
    }
    Ok(toks)
}

// ---------------------------------------------------------------------------------------------
// XPath subset: syntax tree and parser.

/// A parsed location path.
#[derive(Clone, Debug, PartialEq)]
pub struct XPath {
    absolute: bool,
    steps: Vec<Step>,
}

#[derive(Clone, Debug, PartialEq)]
enum Step {
    /// `name[preds]` after `/`, or the first step of a relative path.
    Child(NodeTest, Vec<Pred>),
    /// `name[preds]` after `//`: children of the descendants-or-self.
    Descendant(NodeTest, Vec<Pred>),
    /// `.`
    SelfNode,
    /// `..`
    Parent,
}

#[derive(Clone, Debug, PartialEq)]
enum NodeTest {
    Any,
    Name(String),
}

#[derive(Clone, Debug, PartialEq)]
enum Pred {
    /// `[n]`, 1-based.
    Position(usize),
    /// `[last()]`
    Last,
    Bool(Cond),
}

#[derive(Clone, Debug, PartialEq)]
enum Cond {
    Or(Vec<Cond>),
    And(Vec<Cond>),
    Not(Box<Cond>),
    Has(String),
    Eq(String, String),
    NotEq(String, String),
    Contains(String, String),
    StartsWith(String, String),
}

/// Parses an XPath in the supported subset: absolute (`/a/b`, `//b`) and relative (`a/b`, `.//b`,
/// `..`) location paths; node tests by element name or `*`; predicates `[n]`, `[last()]`,
/// `[@a]`, `[@a='v']`, `[@a!='v']`, `[contains(@a,'v')]`, `[starts-with(@a,'v')]`,
/// `[not(…)]`, combined with `and` / `or` and parentheses.
pub fn parse_xpath(s: &str) -> Result<XPath, FindError> {
    let toks = tokenize(s)?;
    if toks.is_empty() {
        return Err(invalid("the XPath is empty"));
    }
    let mut p = Parser { toks, pos: 0 };
    let path = p.path()?;
    if let Some(t) = p.peek() {
        return Err(invalid(format!("unexpected {} after the location path", describe(t))));
    }
    Ok(path)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn expect(&mut self, want: Tok, context: &str) -> Result<(), FindError> {
        match self.next() {
            Some(t) if t == want => Ok(()),
            Some(t) => Err(invalid(format!(
                "expected {} {context}, found {}",
                describe(&want),
                describe(&t)
            ))),
            None => Err(invalid(format!(
                "expected {} {context}, found the end",
                describe(&want)
            ))),
        }
    }

    fn path(&mut self) -> Result<XPath, FindError> {
        if self.peek() == Some(&Tok::LParen) {
            return Err(invalid(
                "parenthesized expressions such as '(//x)[1]' are not supported; use '//x[1]'",
            ));
        }
        let mut absolute = false;
        let mut descend = false;
        match self.peek() {
            Some(Tok::Slash) => {
                absolute = true;
                self.pos += 1;
                if self.peek().is_none() {
                    return Err(invalid("'/' alone selects the document, not an element"));
                }
            }
            Some(Tok::DoubleSlash) => {
                absolute = true;
                descend = true;
                self.pos += 1;
            }
            _ => {}
        }
        let mut steps = vec![self.step(descend)?];
        loop {
            let descend = match self.peek() {
                Some(Tok::Slash) => false,
                Some(Tok::DoubleSlash) => true,
                _ => break,
            };
            self.pos += 1;
            steps.push(self.step(descend)?);
        }
        Ok(XPath { absolute, steps })
    }

    fn step(&mut self, descend: bool) -> Result<Step, FindError> {
        let step = match self.next() {
            Some(Tok::Dot) | Some(Tok::DotDot) => {
                let t = self.toks[self.pos - 1].clone();
                let s = if t == Tok::Dot { Step::SelfNode } else { Step::Parent };
                if self.peek() == Some(&Tok::LBracket) {
                    return Err(invalid(format!("{} cannot take a predicate", describe(&t))));
                }
                if descend {
                    // `//.` / `//..` are legal XPath but pointless; keep the subset small.
                    return Err(invalid(format!("'//' followed by {} is not supported", describe(&t))));
                }
                return Ok(s);
            }
            Some(Tok::Star) => NodeTest::Any,
            Some(Tok::Name(n)) => {
                if self.peek() == Some(&Tok::LParen) {
                    return Err(invalid(format!(
                        "'{n}()' is not supported as a step; steps must be element names or '*'"
                    )));
                }
                NodeTest::Name(n)
            }
            Some(Tok::At) => return Err(invalid("attribute steps ('@x' outside a predicate) are not supported")),
            Some(Tok::LParen) => return Err(invalid("parenthesized expressions are not supported")),
            Some(t) => {
                return Err(invalid(format!(
                    "expected an element name or '*', found {}",
                    describe(&t)
                )));
            }
            None => return Err(invalid("the XPath ends where an element name or '*' was expected")),
        };
        let mut preds = vec![];
        while self.peek() == Some(&Tok::LBracket) {
            self.pos += 1;
            preds.push(self.predicate()?);
            self.expect(Tok::RBracket, "to close the predicate")?;
        }
        Ok(if descend {
            Step::Descendant(step, preds)
        } else {
            Step::Child(step, preds)
        })
    }

    fn predicate(&mut self) -> Result<Pred, FindError> {
        match (self.peek(), self.toks.get(self.pos + 1)) {
            (Some(Tok::Num(n)), Some(Tok::RBracket)) => {
                let n = *n;
                self.pos += 1;
                return Ok(Pred::Position(n));
            }
            (Some(Tok::Name(n)), Some(Tok::LParen)) if n == "last" => {
                self.pos += 2;
                self.expect(Tok::RParen, "after 'last('")?;
                if self.peek() != Some(&Tok::RBracket) {
                    return Err(invalid("last() is supported only as a whole predicate, '[last()]'"));
                }
                return Ok(Pred::Last);
            }
            _ => {}
        }
        Ok(Pred::Bool(self.or()?))
    }

    fn or(&mut self) -> Result<Cond, FindError> {
        let mut parts = vec![self.and()?];
        while matches!(self.peek(), Some(Tok::Name(n)) if n == "or") {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Cond::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Cond, FindError> {
        let mut parts = vec![self.primary()?];
        while matches!(self.peek(), Some(Tok::Name(n)) if n == "and") {
            self.pos += 1;
            parts.push(self.primary()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Cond::And(parts)
        })
    }

    fn attr_name(&mut self, context: &str) -> Result<String, FindError> {
        match self.next() {
            Some(Tok::At) => {}
            Some(Tok::Name(n)) if n == "text" && self.peek() == Some(&Tok::LParen) => {
                return Err(invalid(
                    "text() is not supported; use the attribute (@text on Android, @label on iOS)",
                ));
            }
            Some(Tok::Dot) => {
                return Err(invalid(
                    "'.' as a value is not supported; compare an attribute ('@name')",
                ));
            }
            Some(t) => {
                return Err(invalid(format!(
                    "expected an attribute ('@name') {context}, found {}",
                    describe(&t)
                )));
            }
            None => {
                return Err(invalid(format!(
                    "expected an attribute ('@name') {context}, found the end"
                )));
            }
        }
        match self.next() {
            Some(Tok::Name(n)) => Ok(n),
            Some(Tok::Star) => Err(invalid("'@*' is not supported; name the attribute")),
            Some(t) => Err(invalid(format!(
                "expected an attribute name after '@', found {}",
                describe(&t)
            ))),
            None => Err(invalid("expected an attribute name after '@', found the end")),
        }
    }

    fn string(&mut self, context: &str) -> Result<String, FindError> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(s),
            Some(Tok::Num(n)) => Ok(n.to_string()),
            Some(t) => Err(invalid(format!(
                "expected a quoted string {context}, found {}",
                describe(&t)
            ))),
            None => Err(invalid(format!("expected a quoted string {context}, found the end"))),
        }
    }

    fn primary(&mut self) -> Result<Cond, FindError> {
        match self.peek().cloned() {
            Some(Tok::LParen) => {
                self.pos += 1;
                let c = self.or()?;
                self.expect(Tok::RParen, "to close '('")?;
                Ok(c)
            }
            Some(Tok::At) | Some(Tok::Dot) => {
                let name = self.attr_name("in the predicate")?;
                match self.peek() {
                    Some(Tok::Eq) => {
                        self.pos += 1;
                        Ok(Cond::Eq(name, self.string("after '='")?))
                    }
                    Some(Tok::NotEq) => {
                        self.pos += 1;
                        Ok(Cond::NotEq(name, self.string("after '!='")?))
                    }
                    _ => Ok(Cond::Has(name)),
                }
            }
            Some(Tok::Name(f)) if self.toks.get(self.pos + 1) == Some(&Tok::LParen) => {
                self.pos += 2;
                let cond = match f.as_str() {
                    "contains" | "starts-with" => {
                        let name = self.attr_name(&format!("as the first argument of {f}()"))?;
                        self.expect(Tok::Comma, &format!("between the arguments of {f}()"))?;
                        let value = self.string(&format!("as the second argument of {f}()"))?;
                        if f == "contains" {
                            Cond::Contains(name, value)
                        } else {
                            Cond::StartsWith(name, value)
                        }
                    }
                    "not" => Cond::Not(Box::new(self.or()?)),
                    "text" => {
                        return Err(invalid(
                            "text() is not supported; use the attribute (@text on Android, @label on iOS)",
                        ));
                    }
                    "position" | "last" => {
                        return Err(invalid(format!(
                            "{f}() is supported only as '[n]' or '[last()]', not inside an expression"
                        )));
                    }
                    _ => return Err(invalid(format!("function {f}() is not supported"))),
                };
                self.expect(Tok::RParen, &format!("to close {f}()"))?;
                Ok(cond)
            }
            Some(Tok::Num(_)) => Err(invalid(
                "a position is supported only as a whole predicate ('[2]'), not combined with 'and'/'or'",
            )),
            Some(Tok::Str(_)) => Err(invalid("a string cannot start a comparison; write [@attr='value']")),
            Some(Tok::Name(n)) => Err(invalid(format!(
                "'{n}' is not supported in a predicate; child-element tests are not supported, use '@{n}' for an attribute"
            ))),
            Some(t) => Err(invalid(format!("unexpected {} in the predicate", describe(&t)))),
            None => Err(invalid("the predicate is not closed")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// XPath subset: evaluation.

fn eval_path(doc: &Doc, xpath: &XPath, context: usize) -> Vec<usize> {
    let mut current = vec![if xpath.absolute { 0 } else { context }];
    for step in &xpath.steps {
        let mut next = vec![];
        match step {
            Step::SelfNode => next = current.clone(),
            Step::Parent => next.extend(current.iter().filter_map(|&i| doc.nodes[i].parent)),
            Step::Child(test, preds) => {
                for &c in &current {
                    next.extend(select_children(doc, c, test, preds));
                }
            }
            Step::Descendant(test, preds) => {
                // `//x` = `/descendant-or-self::node()/child::x`: positions count per parent.
                let mut bases = vec![];
                for &c in &current {
                    bases.push(c);
                    doc.descendants(c, &mut bases);
                }
                bases.sort_unstable();
                bases.dedup();
                for b in bases {
                    next.extend(select_children(doc, b, test, preds));
                }
            }
        }
        next.sort_unstable();
        next.dedup();
        current = next;
    }
    current.retain(|&i| doc.is_element(i));
    current
}

fn select_children(doc: &Doc, parent: usize, test: &NodeTest, preds: &[Pred]) -> Vec<usize> {
    let mut set: Vec<usize> = doc.nodes[parent]
        .children
        .iter()
        .copied()
        .filter(|&c| match test {
            NodeTest::Any => true,
            NodeTest::Name(n) => doc.nodes[c].el.name == n,
        })
        .collect();
    // Each predicate filters the result of the previous one; positions are within that result.
    for pred in preds {
        set = match pred {
            Pred::Position(n) => set.get(n.wrapping_sub(1)).copied().into_iter().collect(),
            Pred::Last => set.last().copied().into_iter().collect(),
            Pred::Bool(cond) => set.into_iter().filter(|&i| eval_cond(doc.nodes[i].el, cond)).collect(),
        };
    }
    set
}

fn eval_cond(el: &XmlElement, cond: &Cond) -> bool {
    match cond {
        Cond::Or(parts) => parts.iter().any(|c| eval_cond(el, c)),
        Cond::And(parts) => parts.iter().all(|c| eval_cond(el, c)),
        Cond::Not(c) => !eval_cond(el, c),
        Cond::Has(a) => el.attr(a).is_some(),
        // XPath: comparing a missing attribute (an empty node-set) is false for both = and !=.
        Cond::Eq(a, v) => el.attr(a) == Some(v.as_str()),
        Cond::NotEq(a, v) => el.attr(a).is_some_and(|x| x != v),
        // contains(@missing, '') is true in XPath (string of an empty node-set is '').
        Cond::Contains(a, v) => el.attr(a).unwrap_or("").contains(v.as_str()),
        Cond::StartsWith(a, v) => el.attr(a).unwrap_or("").starts_with(v.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::farm::ui::{Kind, Rect, UiNode};

    fn rect(x: i32, y: i32, width: i32, height: i32) -> Rect {
        Rect { x, y, width, height }
    }

    /// Application > Window > screen-home (Group) > [Text "Welcome", Text "SESSION active",
    /// row (Group) > [Text "inner"], Button sign-out], Spinner.
    fn home(platform: Platform) -> UiTree {
        let screen = UiNode::new(Kind::Group, rect(0, 0, 393, 873))
            .id("screen-home")
            .child(UiNode::new(Kind::Text, rect(16, 100, 361, 30)).text("Welcome"))
            .child(
                UiNode::new(Kind::Text, rect(16, 140, 361, 30))
                    .id("session-status")
                    .text("SESSION active"),
            )
            .child(
                UiNode::new(Kind::Group, rect(16, 180, 361, 40))
                    .id("row")
                    .child(UiNode::new(Kind::Text, rect(16, 180, 200, 40)).text("inner")),
            )
            .child(
                UiNode::new(Kind::Button, rect(16, 240, 361, 48))
                    .id("sign-out")
                    .text("Sign out"),
            );
        UiTree {
            dark: false,
            platform,
            app_id: "com.example.app".into(),
            app_name: "Example".into(),
            width: 393,
            height: 873,
            root: UiNode::new(Kind::Application, rect(0, 0, 393, 873)).child(
                UiNode::new(Kind::Window, rect(0, 0, 393, 873))
                    .child(screen)
                    .child(UiNode::new(Kind::Spinner, rect(180, 400, 32, 32))),
            ),
        }
    }

    fn find(tree: &UiTree, s: Strategy, v: &str) -> Vec<Vec<usize>> {
        find_all(tree, &[], s, v).unwrap()
    }

    fn xp(tree: &UiTree, v: &str) -> Vec<Vec<usize>> {
        find(tree, Strategy::XPath, v)
    }

    fn err(tree: &UiTree, v: &str) -> String {
        match find_all(tree, &[], Strategy::XPath, v) {
            Err(FindError::InvalidSelector(m)) => m,
            other => panic!("{v}: expected InvalidSelector, got {other:?}"),
        }
    }

    const SIGN_OUT: [usize; 3] = [0, 0, 3];
    const STATUS: [usize; 3] = [0, 0, 1];
    const WELCOME: [usize; 3] = [0, 0, 0];
    const INNER: [usize; 4] = [0, 0, 2, 0];

    #[test]
    fn strategies_parse() {
        assert_eq!(parse_strategy("accessibility id"), Some(Strategy::AccessibilityId));
        assert_eq!(parse_strategy("id"), Some(Strategy::Id));
        assert_eq!(parse_strategy("xpath"), Some(Strategy::XPath));
        assert_eq!(parse_strategy("class name"), Some(Strategy::ClassName));
        assert_eq!(parse_strategy("-android uiautomator"), None);
        assert_eq!(parse_strategy("css selector"), None);
    }

    #[test]
    fn accessibility_id_matches_test_id() {
        for p in [Platform::Ios, Platform::Android] {
            let t = home(p);
            assert_eq!(
                find(&t, Strategy::AccessibilityId, "sign-out"),
                vec![SIGN_OUT.to_vec()],
                "{p:?}"
            );
            assert_eq!(
                find(&t, Strategy::AccessibilityId, "sign"),
                Vec::<Vec<usize>>::new(),
                "{p:?}"
            );
        }
        // iOS `name` falls back to the label; Android has no content-desc to match.
        assert_eq!(
            find(&home(Platform::Ios), Strategy::AccessibilityId, "Welcome"),
            vec![WELCOME.to_vec()]
        );
        assert!(find(&home(Platform::Android), Strategy::AccessibilityId, "Welcome").is_empty());
        // A testID hides the label from `name`.
        assert!(find(&home(Platform::Ios), Strategy::AccessibilityId, "Sign out").is_empty());
    }

    #[test]
    fn id_matches_test_id_and_android_resource_id() {
        let ios = home(Platform::Ios);
        assert_eq!(find(&ios, Strategy::Id, "session-status"), vec![STATUS.to_vec()]);
        assert!(find(&ios, Strategy::Id, "com.example.app:id/session-status").is_empty());
        let and = home(Platform::Android);
        assert_eq!(find(&and, Strategy::Id, "session-status"), vec![STATUS.to_vec()]);
        assert_eq!(
            find(&and, Strategy::Id, "com.example.app:id/session-status"),
            vec![STATUS.to_vec()]
        );
        assert!(find(&and, Strategy::Id, "com.other:id/session-status").is_empty());
        assert!(find(&and, Strategy::Id, "com.example.app:id/").is_empty());
        assert!(find(&and, Strategy::Id, "Welcome").is_empty());
    }

    #[test]
    fn class_name_matches_platform_class() {
        let ios = home(Platform::Ios);
        assert_eq!(
            find(&ios, Strategy::ClassName, "XCUIElementTypeButton"),
            vec![SIGN_OUT.to_vec()]
        );
        assert_eq!(
            find(&ios, Strategy::ClassName, "XCUIElementTypeStaticText"),
            vec![WELCOME.to_vec(), STATUS.to_vec(), INNER.to_vec()]
        );
        assert!(find(&ios, Strategy::ClassName, "android.widget.Button").is_empty());
        let and = home(Platform::Android);
        assert_eq!(
            find(&and, Strategy::ClassName, "android.widget.Button"),
            vec![SIGN_OUT.to_vec()]
        );
        assert_eq!(
            find(&and, Strategy::ClassName, "android.widget.FrameLayout"),
            vec![vec![], vec![0]]
        );
        assert!(find(&and, Strategy::ClassName, "hierarchy").is_empty());
        assert_eq!(
            find(&and, Strategy::ClassName, "android.widget.ProgressBar"),
            vec![vec![0, 1]]
        );
    }

    #[test]
    fn subtree_search_returns_descendants_only() {
        let and = home(Platform::Android);
        let from = [0, 0, 2];
        assert_eq!(
            find_all(&and, &from, Strategy::ClassName, "android.widget.TextView").unwrap(),
            vec![INNER.to_vec()]
        );
        assert!(find_all(&and, &from, Strategy::Id, "row").unwrap().is_empty());
        assert!(find_all(&and, &from, Strategy::Id, "sign-out").unwrap().is_empty());
        assert_eq!(find_all(&and, &[9], Strategy::Id, "row"), Ok(vec![]));
    }

    #[test]
    fn xpath_ios() {
        let t = home(Platform::Ios);
        assert_eq!(
            xp(&t, "//XCUIElementTypeButton[@name='auth-continue']"),
            Vec::<Vec<usize>>::new()
        );
        assert_eq!(
            xp(&t, "//XCUIElementTypeButton[@name='sign-out']"),
            vec![SIGN_OUT.to_vec()]
        );
        assert_eq!(
            xp(&t, "//XCUIElementTypeButton[@label=\"Sign out\"]"),
            vec![SIGN_OUT.to_vec()]
        );
        assert_eq!(xp(&t, "//*[contains(@label,'SESSION')]"), vec![STATUS.to_vec()]);
        assert_eq!(xp(&t, "//*[starts-with(@value, 'SESS')]"), vec![STATUS.to_vec()]);
        assert_eq!(xp(&t, "/XCUIElementTypeApplication"), vec![Vec::<usize>::new()]);
        assert_eq!(
            xp(
                &t,
                "/XCUIElementTypeApplication/XCUIElementTypeWindow/XCUIElementTypeOther/*[4]"
            ),
            vec![SIGN_OUT.to_vec()]
        );
        assert_eq!(
            xp(&t, "//XCUIElementTypeStaticText[last()]"),
            vec![STATUS.to_vec(), INNER.to_vec()]
        );
        // AppiumAUT is only the printed wrapper, as in WDA.
        assert!(xp(&t, "/AppiumAUT/XCUIElementTypeApplication").is_empty());
        assert_eq!(
            xp(&t, "//XCUIElementTypeActivityIndicator[@label='In progress']"),
            vec![vec![0, 1]]
        );
    }

    #[test]
    fn xpath_android() {
        let t = home(Platform::Android);
        assert_eq!(
            xp(&t, "//*[@resource-id=\"screen-home\"]//android.widget.TextView[2]"),
            vec![STATUS.to_vec()]
        );
        // [n] counts per parent: the row's only TextView is its [1].
        assert_eq!(
            xp(&t, "//*[@resource-id='screen-home']//android.widget.TextView[1]"),
            vec![WELCOME.to_vec(), INNER.to_vec()]
        );
        assert_eq!(xp(&t, "//*[contains(@text,'SESSION')]"), vec![STATUS.to_vec()]);
        assert_eq!(
            xp(
                &t,
                "/hierarchy/android.widget.FrameLayout/android.widget.FrameLayout/android.view.ViewGroup"
            ),
            vec![vec![0, 0]]
        );
        assert_eq!(
            xp(&t, "//android.widget.Button[@clickable='true' and @enabled='true']"),
            vec![SIGN_OUT.to_vec()]
        );
        assert_eq!(
            xp(
                &t,
                "//android.widget.TextView[@text='Welcome' or @resource-id='session-status']"
            ),
            vec![WELCOME.to_vec(), STATUS.to_vec()]
        );
        assert_eq!(
            xp(&t, "//android.widget.TextView[@resource-id!='']"),
            vec![STATUS.to_vec()]
        );
        assert_eq!(
            xp(&t, "//android.widget.TextView[not(@resource-id='')]"),
            vec![STATUS.to_vec()]
        );
        assert_eq!(
            xp(
                &t,
                "//android.widget.TextView[(@text='inner' or @text='Welcome') and @index='0']"
            ),
            vec![WELCOME.to_vec(), INNER.to_vec()]
        );
        assert_eq!(xp(&t, "//*[@resource-id='row']/.."), vec![vec![0, 0]]);
        assert_eq!(xp(&t, "//*[@password]").len(), 9);
        assert!(xp(&t, "//*[@password='true']").is_empty());
        assert!(xp(&t, "//*[@name]").is_empty());
        // The hierarchy wrapper is never returned.
        assert_eq!(xp(&t, "/*").len(), 0);
        assert_eq!(xp(&t, "//*").len(), 9);
        // Predicates apply in order: [2] of the TextViews with a resource-id is none.
        assert!(
            xp(
                &t,
                "//android.view.ViewGroup/android.widget.TextView[@resource-id!=''][2]"
            )
            .is_empty()
        );
        assert_eq!(
            xp(
                &t,
                "//android.view.ViewGroup/android.widget.TextView[2][@resource-id!='']"
            ),
            vec![STATUS.to_vec()]
        );
    }

    #[test]
    fn xpath_from_element() {
        let and = home(Platform::Android);
        let row = [0, 0, 2];
        let rel = |v: &str| find_all(&and, &row, Strategy::XPath, v).unwrap();
        assert_eq!(rel("./android.widget.TextView"), vec![INNER.to_vec()]);
        assert_eq!(rel("android.widget.TextView"), vec![INNER.to_vec()]);
        assert_eq!(rel(".//*"), vec![INNER.to_vec()]);
        assert_eq!(rel("."), vec![row.to_vec()]);
        // Android: an absolute path still sees the whole document.
        assert_eq!(rel("//android.widget.Button"), vec![SIGN_OUT.to_vec()]);
        let ios = home(Platform::Ios);
        let rel = |v: &str| find_all(&ios, &row, Strategy::XPath, v).unwrap();
        assert_eq!(rel("./XCUIElementTypeStaticText"), vec![INNER.to_vec()]);
        // iOS: the document is the element's subtree.
        assert!(rel("//XCUIElementTypeButton").is_empty());
        assert_eq!(rel("//XCUIElementTypeStaticText"), vec![INNER.to_vec()]);
        assert_eq!(rel("/XCUIElementTypeOther"), vec![row.to_vec()]);
        assert_eq!(rel(".."), Vec::<Vec<usize>>::new());
        assert_eq!(find_all(&ios, &[7], Strategy::XPath, "//*"), Ok(vec![]));
        assert_eq!(find_all(&and, &[7], Strategy::XPath, "//*"), Ok(vec![]));
    }

    #[test]
    fn invalid_selectors() {
        let t = home(Platform::Android);
        let cases = [
            ("(//android.widget.TextView)[1]", "parenthesized"),
            ("//android.widget.TextView[text()='Welcome']", "text()"),
            ("//*[contains(text(),'W')]", "text()"),
            ("//a | //b", "unions"),
            ("//child::a", "axes"),
            ("//a[@text='x'", "close the predicate"),
            ("//a[@text=x]", "quoted string"),
            ("//a[@text='x]", "unterminated"),
            ("//a[1 and @text='x']", "whole predicate"),
            ("//a[position()=1]", "position()"),
            ("//a[ends-with(@text,'x')]", "ends-with()"),
            ("//a[@index>1]", "comparison"),
            ("count(//a)", "count()"),
            ("//", "ends where"),
            ("/", "document"),
            ("//a/@text", "attribute steps"),
            ("//a]", "unexpected ']'"),
            ("//a[b]", "child-element tests"),
            ("//.[1]", "predicate"),
            ("   ", "empty"),
        ];
        for (sel, want) in cases {
            let m = err(&t, sel);
            assert!(m.contains(want), "{sel}: {m}");
        }
        assert_eq!(
            find_all(&t, &[], Strategy::Id, ""),
            Err(FindError::InvalidSelector("the selector is empty".into()))
        );
        assert_eq!(
            FindError::InvalidSelector("x".into()).to_string(),
            "invalid selector: x",
            "the message the server passes on"
        );
    }
}
