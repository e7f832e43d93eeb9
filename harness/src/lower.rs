//! Typed reading of located YAML nodes, reporting every mismatch as a diagnostic.
//!
//! The loaders of flows and profiles are written against these helpers: a [`MapView`] hands
//! out the entries of a map, remembers which keys were read, and reports the rest as unknown
//! keys with a "did you mean" hint. Scalar readers return `None` after reporting, so a loader
//! keeps going and finds every problem in one pass.

use std::time::Duration;

use crate::diag::{Sink, did_you_mean};
use crate::yaml::{Node, Pos, Value};

/// Joins a key path: `join("steps[0]", "tapOn")` → `steps[0].tapOn`.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// A map being read: each `get` marks a key as known.
pub struct MapView<'n> {
    entries: &'n [(Node, Node)],
    used: Vec<bool>,
    pub path: String,
    pub pos: Pos,
}

impl<'n> MapView<'n> {
    /// Views `node` as a map, or reports that it is not one.
    pub fn new(sink: &mut Sink, node: &'n Node, path: &str, what: &str) -> Option<Self> {
        match node.as_map() {
            Some(entries) => Some(MapView {
                entries,
                used: vec![false; entries.len()],
                path: path.to_string(),
                pos: node.pos,
            }),
            None => {
                sink.error(
                    node.pos,
                    path,
                    format!("{what} must be a map of keys to values, found {}", node.kind()),
                );
                None
            }
        }
    }

    pub fn entries(&self) -> &'n [(Node, Node)] {
        self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _)| key_is(k, key))
    }

    /// The value under `key`, marking the key as read.
    pub fn get(&mut self, key: &str) -> Option<&'n Node> {
        let i = self.entries.iter().position(|(k, _)| key_is(k, key))?;
        self.used[i] = true;
        Some(&self.entries[i].1)
    }

    /// Position of `key` itself (for errors about a key rather than its value).
    pub fn key_pos(&self, key: &str) -> Pos {
        self.entries
            .iter()
            .find(|(k, _)| key_is(k, key))
            .map(|(k, _)| k.pos)
            .unwrap_or(self.pos)
    }

    pub fn child(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// Reports every key that was not read and is not in `known` as unknown, suggesting the
    /// closest of `known`. (A known key can stay unread when an earlier error stopped the
    /// reading of its map; that error is already reported.)
    pub fn finish(self, sink: &mut Sink, what: &str, known: &[&str]) {
        for (i, (k, _)) in self.entries.iter().enumerate() {
            let name = k.key_text();
            if self.used[i] || known.contains(&name.as_str()) {
                continue;
            }
            let d = sink.error(
                k.pos,
                &join(&self.path, &name),
                format!("unknown key '{name}' in {what}"),
            );
            match did_you_mean(&name, known.iter().copied()) {
                Some(s) => d.hint(format!("did you mean '{s}'?")),
                None => d.hint(format!("{what} accepts: {}", known.join(", "))),
            };
        }
    }

    /// Marks every key read without reporting any (for maps of free-form entries).
    pub fn finish_open(self) {}
}

/// Whether a map key is `key`. Plain scalars count by their text, so an unquoted `true:`
/// (a YAML boolean) is the key "true".
fn key_is(k: &Node, key: &str) -> bool {
    match &k.value {
        Value::Str(s) => s == key,
        Value::Bool(_) | Value::Int(_) | Value::Float(_) => k.scalar_text().as_deref() == Some(key),
        _ => false,
    }
}

/// A string value. Numbers and booleans are accepted and turned into their text, as Maestro
/// does for text fields (`inputText: 1234`).
pub fn string(sink: &mut Sink, node: &Node, path: &str) -> Option<String> {
    match node.scalar_text() {
        Some(s) => Some(s),
        None => {
            sink.error(node.pos, path, format!("expected a string, found {}", node.kind()));
            None
        }
    }
}

/// A string that must not be empty.
pub fn nonempty_string(sink: &mut Sink, node: &Node, path: &str) -> Option<String> {
    let s = string(sink, node, path)?;
    if s.trim().is_empty() {
        sink.error(node.pos, path, "expected a non-empty string").hint(
            "an empty or blank string is no value here: write the text, or leave the key out where it is optional",
        );
        return None;
    }
    Some(s)
}

/// A boolean. YAML's `true`/`false` and the strings "true"/"false" (Maestro writes both).
pub fn boolean(sink: &mut Sink, node: &Node, path: &str) -> Option<bool> {
    match &node.value {
        Value::Bool(b) => Some(*b),
        Value::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => {
            sink.error(
                node.pos,
                path,
                format!("expected true or false, found {}", describe(node)),
            );
            None
        }
    }
}

/// A whole number in `min..=max`. Numeric strings are accepted (Maestro's `"20000"`).
pub fn integer(sink: &mut Sink, node: &Node, path: &str, min: i64, max: i64) -> Option<i64> {
    let v = match &node.value {
        Value::Int(i) => Some(*i),
        Value::Str(s) => s.trim().parse::<i64>().ok(),
        Value::Float(f) if f.fract() == 0.0 && f.is_finite() => Some(*f as i64),
        _ => None,
    };
    match v {
        Some(i) if (min..=max).contains(&i) => Some(i),
        Some(i) => {
            sink.error(
                node.pos,
                path,
                format!("{i} is out of range: expected a whole number from {min} to {max}"),
            );
            None
        }
        None => {
            sink.error(
                node.pos,
                path,
                format!("expected a whole number, found {}", describe(node)),
            );
            None
        }
    }
}

/// A number (integer or decimal) in `min..=max`.
pub fn number(sink: &mut Sink, node: &Node, path: &str, min: f64, max: f64) -> Option<f64> {
    let v = match &node.value {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Str(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match v {
        Some(x) if x.is_finite() && x >= min && x <= max => Some(x),
        Some(x) => {
            sink.error(
                node.pos,
                path,
                format!("{x} is out of range: expected a number from {min} to {max}"),
            );
            None
        }
        None => {
            sink.error(node.pos, path, format!("expected a number, found {}", describe(node)));
            None
        }
    }
}

/// Milliseconds as Maestro writes them: a number or a numeric string (`timeout: "20000"`).
pub fn millis(sink: &mut Sink, node: &Node, path: &str) -> Option<Duration> {
    integer(sink, node, path, 0, 24 * 3600 * 1000).map(|ms| Duration::from_millis(ms as u64))
}

/// A duration with a unit, as the session commands write them: `10s`, `1500ms`, `2m`, `1h`,
/// or combined `1m30s`. A bare number is refused because its unit would be a guess.
pub fn duration(sink: &mut Sink, node: &Node, path: &str) -> Option<Duration> {
    let text = match &node.value {
        Value::Str(s) => s.trim().to_string(),
        Value::Int(i) => {
            sink.error(node.pos, path, format!("duration {i} has no unit"))
                .hint(format!("write {i}s for seconds or {i}ms for milliseconds"));
            return None;
        }
        _ => {
            sink.error(
                node.pos,
                path,
                format!("expected a duration such as 10s or 500ms, found {}", describe(node)),
            );
            return None;
        }
    };
    match parse_duration(&text) {
        Ok(d) => Some(d),
        Err(msg) => {
            sink.error(node.pos, path, format!("invalid duration '{text}': {msg}"))
                .hint("write a number with a unit: 500ms, 10s, 2m, 1h or 1m30s");
            None
        }
    }
}

/// Parses `10s`, `1500ms`, `2m`, `1h`, `1m30s`, `1.5s`, to whole milliseconds (the
/// resolution of every wait, and what [`format_duration`] writes): `1.5ms` is 2 ms and
/// `0.0001s` is 0 ms, so a parsed duration always reads back the same after formatting.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    const WEEK_NS: u128 = 7 * 24 * 3600 * 1_000_000_000;
    if text.is_empty() {
        return Err("it is empty".into());
    }
    let mut total_ns = 0u128;
    let mut rest = text;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(format!("expected a number at '{rest}'"));
        }
        let number = &rest[..num_len];
        if number.parse::<f64>().is_err() {
            return Err(format!("'{number}' is not a number"));
        }
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = rest[..unit_len].trim();
        let unit_ns: u128 = match unit {
            "ms" => 1_000_000,
            "s" | "sec" => 1_000_000_000,
            "m" | "min" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => return Err("the number has no unit".into()),
            other => return Err(format!("unknown unit '{other}' (use ms, s, m or h)")),
        };
        total_ns = total_ns.saturating_add(decimal_nanos(number, unit_ns));
        rest = &rest[unit_len..];
    }
    if total_ns > WEEK_NS {
        return Err("it is longer than a week".into());
    }
    // Half a millisecond rounds up, in decimal: binary floating point would make `1.0005s`
    // 1000.4999… ms and round it down.
    Ok(Duration::from_millis(((total_ns + 500_000) / 1_000_000) as u64))
}

/// `number` (digits with at most one `.`, already checked) times `unit_ns` nanoseconds,
/// exactly. Digits past the 18th decimal place are dropped (far below a nanosecond); a
/// number too large to hold saturates, which the caller reports as too long.
fn decimal_nanos(number: &str, unit_ns: u128) -> u128 {
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let frac = &frac[..frac.len().min(18)];
    let digits = |d: &str| {
        if d.is_empty() {
            0
        } else {
            d.parse::<u128>().unwrap_or(u128::MAX)
        }
    };
    let whole_ns = digits(whole).saturating_mul(unit_ns);
    let frac_ns = digits(frac) * unit_ns / 10u128.pow(frac.len() as u32);
    whole_ns.saturating_add(frac_ns)
}

/// Formats a duration the way [`parse_duration`] reads it back.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) {
        format!("{ms}ms")
    } else {
        let s = ms / 1000;
        if s != 0 && s.is_multiple_of(3600) {
            format!("{}h", s / 3600)
        } else if s != 0 && s.is_multiple_of(60) {
            format!("{}m", s / 60)
        } else {
            format!("{s}s")
        }
    }
}

/// A list of strings; a single string is accepted as a one-item list.
pub fn string_list(sink: &mut Sink, node: &Node, path: &str) -> Option<Vec<String>> {
    match &node.value {
        Value::Seq(items) => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                out.push(string(sink, item, &index(path, i))?);
            }
            Some(out)
        }
        _ if node.scalar_text().is_some() => Some(vec![node.scalar_text().unwrap_or_default()]),
        _ => {
            sink.error(
                node.pos,
                path,
                format!("expected a list of strings, found {}", node.kind()),
            );
            None
        }
    }
}

/// One of a fixed set of words (case-insensitive); reports the valid ones otherwise.
pub fn one_of<T: Copy>(sink: &mut Sink, node: &Node, path: &str, choices: &[(&str, T)]) -> Option<T> {
    let Some(text) = node.scalar_text() else {
        sink.error(
            node.pos,
            path,
            format!("expected one of {}, found {}", names(choices), node.kind()),
        );
        return None;
    };
    let norm = |s: &str| s.to_lowercase().replace(['_', '-', ' '], "");
    if let Some((_, v)) = choices.iter().find(|(n, _)| norm(n) == norm(&text)) {
        return Some(*v);
    }
    let d = sink.error(node.pos, path, format!("'{text}' is not one of {}", names(choices)));
    if let Some(s) = did_you_mean(&text, choices.iter().map(|(n, _)| *n)) {
        d.hint(format!("did you mean '{s}'?"));
    }
    None
}

fn names<T>(choices: &[(&str, T)]) -> String {
    choices.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

fn describe(node: &Node) -> String {
    match node.scalar_text() {
        Some(t) => format!("'{t}'"),
        None => node.kind().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("10 parsecs").is_err());
        assert!(parse_duration("s").is_err());
        // Whole milliseconds, rounded half up in decimal.
        assert_eq!(parse_duration("1.5ms"), Ok(Duration::from_millis(2)));
        assert_eq!(parse_duration("1.4999ms"), Ok(Duration::from_millis(1)));
        assert_eq!(parse_duration("1.0005s"), Ok(Duration::from_millis(1001)));
        assert_eq!(parse_duration("0.0001s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration(".5s"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("168h"), Ok(Duration::from_secs(7 * 24 * 3600)));
        assert_eq!(parse_duration("168h1ms"), Err("it is longer than a week".into()));
        assert_eq!(parse_duration(&"9".repeat(60)), Err("the number has no unit".into()));
        assert_eq!(
            parse_duration(&format!("{}s", "9".repeat(60))),
            Err("it is longer than a week".into())
        );
        assert_eq!(parse_duration("1..5s"), Err("'1..5' is not a number".into()));
        for d in [
            Duration::from_secs(70),
            Duration::from_millis(250),
            Duration::from_secs(3600),
            Duration::from_secs(120),
        ] {
            assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }
    }
}
