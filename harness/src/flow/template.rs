//! `${NAME}` references inside flow strings, and what a variable name is.
//!
//! Maestro evaluates `${...}` as JavaScript. harness supports the common case, a variable
//! name, and keeps anything else as a [`Part::Script`] so `harness check` can report it as
//! not supported at its location instead of dropping it.
//!
//! The variable-name rule lives here, with the references it decides, so that the flow
//! parser, app profiles (`secrets`) and the CLI (`-e NAME=VALUE`) all use this one rule.

use crate::diag::Sink;
use crate::flow::model::{Part, Template};
use crate::lower;
use crate::yaml::Node;

/// A variable name: letters, digits and underscores, starting with a letter or underscore.
pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A string node read as a template, reporting a bad `${` at the node.
pub fn from_node(sink: &mut Sink, node: &Node, path: &str) -> Option<Template> {
    let text = lower::string(sink, node, path)?;
    match parse_template(&text) {
        Ok(t) => Some(t),
        Err(msg) => {
            sink.error(node.pos, path, msg)
                .hint("write ${NAME} for a variable, or \\${ for a literal `${`");
            None
        }
    }
}

/// Parses text with `${NAME}` references. `\${` is a literal `${`.
pub fn parse_template(text: &str) -> Result<Template, String> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        if rest[..i].ends_with('\\') {
            lit.push_str(&rest[..i - 1]);
            lit.push_str("${");
            rest = &rest[i + 2..];
            continue;
        }
        lit.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(end) = find_close(after) else {
            return Err(format!("unclosed '${{' in '{text}'"));
        };
        let inner = after[..end].trim();
        if inner.is_empty() {
            return Err(format!("empty '${{}}' in '{text}'"));
        }
        if !lit.is_empty() {
            parts.push(Part::Text(std::mem::take(&mut lit)));
        }
        if is_var_name(inner) {
            parts.push(Part::Var(inner.to_string()));
        } else {
            parts.push(Part::Script(inner.to_string()));
        }
        rest = &after[end + 1..];
    }
    lit.push_str(rest);
    if !lit.is_empty() || parts.is_empty() {
        parts.push(Part::Text(lit));
    }
    Ok(Template { parts })
}

/// Index of the `}` that closes a `${`, skipping nested braces (JavaScript object literals).
fn find_close(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_scripts_and_escapes() {
        let t = parse_template("Hi ${NAME}!").unwrap();
        assert_eq!(
            t.parts,
            vec![
                Part::Text("Hi ".into()),
                Part::Var("NAME".into()),
                Part::Text("!".into())
            ]
        );
        let t = parse_template("${output.user || 'x'}").unwrap();
        assert_eq!(t.parts, vec![Part::Script("output.user || 'x'".into())]);
        let t = parse_template("cost \\${X}").unwrap();
        assert_eq!(t.as_literal().as_deref(), Some("cost ${X}"));
        assert!(parse_template("${OPEN").is_err());
        assert!(parse_template("${}").is_err());
        assert_eq!(parse_template("").unwrap().as_literal().as_deref(), Some(""));
    }

    #[test]
    fn display_round_trips() {
        for s in ["Hi ${NAME}!", "cost \\${X}", "${a.b}", "plain", "${A}${B}"] {
            let t = parse_template(s).unwrap();
            assert_eq!(parse_template(&t.to_string()).unwrap(), t, "{s}");
        }
    }
}
