//! YAML text → a located node tree.
//!
//! This is the only module that talks to the YAML crate. Every file the harness reads (flows,
//! app profiles, device profiles) goes through [`parse_documents`], which enforces the same
//! limits everywhere: a size cap, duplicate keys rejected, and a budget on aliases, depth and
//! node count, so that a "billion laughs" file is an error instead of memory exhaustion.
//!
//! The tree keeps the line and column of every node, so lowering (in `flow::parse`,
//! `profile::*`) can point at the exact key or value that is wrong, not only at syntax errors.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{DuplicateKeyPolicy, Spanned};

/// Largest file the harness will parse. Flows are hand-written; anything bigger is a mistake.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;

/// Deepest nesting of lists and maps. Deep enough for any flow; shallow enough that the
/// recursive readers stay far from the stack limit of a test thread.
pub const MAX_DEPTH: usize = 48;

/// A position in a file: 1-based line and column (in characters, as editors count them).
/// `line == 0` means unknown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    pub const UNKNOWN: Pos = Pos { line: 0, column: 0 };

    pub fn new(line: u32, column: u32) -> Self {
        Pos { line, column }
    }

    pub fn is_known(&self) -> bool {
        self.line > 0
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A YAML node with its position.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
}

/// The value of a YAML node. Scalars keep the type the YAML core schema gives them.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in file order; keys are nodes so their positions are kept.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// A short name of the node's type, for messages ("expected a map, found a list").
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "a number",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }

    /// The text of a scalar (strings as written, numbers and booleans in their usual
    /// spelling); `None` for null, lists and maps.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(x) => Some(x.to_string()),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The key text of a map entry's key node (keys are scalars in every format we read).
    pub fn key_text(&self) -> String {
        self.scalar_text().unwrap_or_else(|| format!("<{}>", self.kind()))
    }
}

/// A YAML document could not be read: the message and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

/// Parses every document of a YAML stream into located trees.
///
/// Errors are syntax errors, duplicate keys, budget breaches (aliases, depth, nodes) and
/// oversized input, each with the position the parser reports.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, SyntaxError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(SyntaxError {
            pos: Pos::new(1, 1),
            message: format!(
                "file is {} bytes, more than the limit of {} bytes for a YAML file (split the flow into subflows with runFlow)",
                text.len(),
                MAX_FILE_BYTES
            ),
        });
    }
    let options = serde_saphyr::options! {
        duplicate_keys: DuplicateKeyPolicy::Error,
        budget: serde_saphyr::budget! {
            flow_nesting_limit: MAX_DEPTH,
            max_aliases: 1_000,
            max_anchors: 1_000,
            max_depth: MAX_DEPTH,
            max_nodes: 200_000,
            max_events: 400_000,
            max_documents: 16,
            max_total_scalar_bytes: 4 * MAX_FILE_BYTES,
            max_recorded_anchor_events: 50_000,
            max_recorded_anchor_bytes: 4 * MAX_FILE_BYTES,
        },
    };
    let docs: Vec<Spanned<RawNode>> =
        serde_saphyr::from_multiple_with_options(text, options).map_err(|e| SyntaxError::from_saphyr(&e))?;
    Ok(docs.into_iter().map(into_node).collect())
}

impl SyntaxError {
    fn from_saphyr(err: &serde_saphyr::Error) -> Self {
        let pos = err
            .location()
            .filter(|l| l.line() > 0)
            .map(|l| Pos::new(l.line() as u32, l.column() as u32))
            .unwrap_or(Pos::new(1, 1));
        let inner = err.without_snippet();
        let mut message = inner.to_string();
        // The crate appends " at line L, column C" (and sometimes a snippet); the position
        // is reported separately, so keep only the first line and strip the suffix.
        if let Some(first) = message.lines().next() {
            message = first.to_string();
        }
        if let Some(idx) = message.find(" at line ") {
            message.truncate(idx);
        }
        // Advice to the crate's caller, not to the author of the file.
        if let Some(idx) = message.find(", set DuplicateKeyPolicy") {
            message.truncate(idx);
        }
        let mut message = message.trim().trim_end_matches(':').to_string();
        if message.contains("recursion limit") || message.contains("Depth {") {
            message = format!("the YAML nests deeper than {MAX_DEPTH} levels");
        } else if let Some(what) = message.strip_prefix("budget breached: ") {
            message = format!(
                "the YAML exceeds a safety limit ({what}): too many nodes, anchors or alias expansions for a flow file"
            );
        }
        SyntaxError {
            pos,
            message: if message.is_empty() {
                "invalid YAML".to_string()
            } else {
                message
            },
        }
    }
}

fn into_node(s: Spanned<RawNode>) -> Node {
    let pos = Pos::new(s.referenced.line() as u32, s.referenced.column() as u32);
    let value = match s.value {
        RawNode::Null => Value::Null,
        RawNode::Bool(b) => Value::Bool(b),
        RawNode::Int(i) => Value::Int(i),
        RawNode::Float(f) => Value::Float(f),
        RawNode::Str(s) => Value::Str(s),
        RawNode::Seq(items) => Value::Seq(items.into_iter().map(into_node).collect()),
        RawNode::Map(entries) => Value::Map(entries.into_iter().map(|(k, v)| (into_node(k), into_node(v))).collect()),
    };
    Node { value, pos }
}

/// The serde-facing form: children wrapped in `Spanned` so the crate records their positions.
enum RawNode {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<RawNode>>),
    Map(Vec<(Spanned<RawNode>, Spanned<RawNode>)>),
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawNode;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }
    fn visit_none<E>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawNode, D::Error> {
        RawNode::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<RawNode, E> {
        Ok(RawNode::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<RawNode, E> {
        Ok(RawNode::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<RawNode, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawNode::Int(i),
            Err(_) => RawNode::Str(v.to_string()),
        })
    }
    fn visit_i128<E>(self, v: i128) -> Result<RawNode, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawNode::Int(i),
            Err(_) => RawNode::Str(v.to_string()),
        })
    }
    fn visit_u128<E>(self, v: u128) -> Result<RawNode, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawNode::Int(i),
            Err(_) => RawNode::Str(v.to_string()),
        })
    }
    fn visit_f64<E>(self, v: f64) -> Result<RawNode, E> {
        Ok(RawNode::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<RawNode, E> {
        Ok(RawNode::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<RawNode, E> {
        Ok(RawNode::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<RawNode, E> {
        Ok(RawNode::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawNode, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<RawNode>>()? {
            items.push(item);
        }
        Ok(RawNode::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNode, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<RawNode>>()? {
            let value = map.next_value::<Spanned<RawNode>>()?;
            entries.push((key, value));
        }
        Ok(RawNode::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        let mut docs = parse_documents(text).expect("parses");
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    #[test]
    fn keeps_positions_of_keys_values_and_items() {
        let node = one("appId: com.example\nsteps:\n  - tapOn: Sign in\n  - back\n");
        let map = node.as_map().unwrap();
        assert_eq!(map[0].0.pos, Pos::new(1, 1));
        assert_eq!(map[0].1.pos, Pos::new(1, 8));
        let items = map[1].1.as_seq().unwrap();
        assert_eq!(items[0].pos, Pos::new(3, 5));
        let inner = items[0].as_map().unwrap();
        assert_eq!(inner[0].1.as_str(), Some("Sign in"));
        assert_eq!(inner[0].1.pos, Pos::new(3, 12));
        assert_eq!(items[1].pos, Pos::new(4, 5));
    }

    #[test]
    fn two_documents() {
        let docs = parse_documents("appId: x\n---\n- launchApp\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].as_seq().unwrap()[0].pos, Pos::new(3, 3));
    }

    #[test]
    fn scalar_types() {
        let node = one("a: 1\nb: true\nc: 1.5\nd: ~\ne: '1'\n");
        let m = node.as_map().unwrap();
        assert_eq!(m[0].1.value, Value::Int(1));
        assert_eq!(m[1].1.value, Value::Bool(true));
        assert_eq!(m[2].1.value, Value::Float(1.5));
        assert_eq!(m[3].1.value, Value::Null);
        assert_eq!(m[4].1.value, Value::Str("1".into()));
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let err = parse_documents("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.pos.line, 3, "{err:?}");
        assert_eq!(err.message, "duplicate mapping key: a");
    }

    #[test]
    fn billion_laughs_is_bounded() {
        let mut text =
            String::from("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        let names = ["b", "c", "d", "e", "f", "g", "h", "i"];
        let mut prev = "a";
        for n in names {
            text.push_str(&format!(
                "{n}: &{n} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
            ));
            prev = n;
        }
        let err = parse_documents(&text).unwrap_err();
        assert!(err.pos.is_known());
    }

    #[test]
    fn syntax_error_has_position() {
        let err = parse_documents("appId: x\n---\n- tapOn: [unclosed\n- back\n").unwrap_err();
        assert!(err.pos.line >= 3, "{err:?}");
    }

    #[test]
    fn oversized_input_is_refused() {
        let text = "a: b\n".repeat(MAX_FILE_BYTES / 4);
        let err = parse_documents(&text).unwrap_err();
        assert!(err.message.contains("limit"));
    }
}
