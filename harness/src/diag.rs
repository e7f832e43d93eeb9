//! Diagnostics: what is wrong with an input file, where, and what to do about it.
//!
//! Every loader (flows, app profiles, device profiles) reports problems as [`Diagnostic`]s
//! instead of stopping at the first one, so `harness check` can print them all. A diagnostic
//! names the file, the 1-based line and column, the key path (`steps[2].tapOn.text`), a
//! lowercase message and, where we know one, a hint.

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::yaml::Pos;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: PathBuf,
    pub line: u32,
    pub column: u32,
    /// Path of the offending key inside the file, e.g. `steps[2].tapOn.text` or `header.env`.
    pub key: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    pub fn pos(&self) -> Pos {
        Pos::new(self.line, self.column)
    }

    /// `file:line:column`, as editors and CI annotations expect.
    pub fn location(&self) -> String {
        if self.line == 0 {
            self.file.display().to_string()
        } else {
            format!("{}:{}:{}", self.file.display(), self.line, self.column)
        }
    }

    /// Renders the diagnostic for a terminal, with the source line and a caret when `source`
    /// (the file's text) is given.
    pub fn render(&self, source: Option<&str>) -> String {
        let mut out = String::new();
        let _ = write!(out, "{}: {}: {}", self.location(), self.severity, self.message);
        if !self.key.is_empty() {
            let _ = write!(out, " (at `{}`)", self.key);
        }
        out.push('\n');
        if let Some(text) = source
            && self.line > 0
            && let Some(line) = text.lines().nth(self.line as usize - 1)
        {
            let num = self.line.to_string();
            let pad = " ".repeat(num.len());
            let caret_pad: String = line
                .chars()
                .take(self.column.saturating_sub(1) as usize)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{num} | {line}");
            let _ = writeln!(out, "{pad} | {caret_pad}^");
        }
        if let Some(hint) = &self.hint {
            let _ = writeln!(out, "  = hint: {hint}");
        }
        out
    }
}

/// Collects diagnostics for one file.
#[derive(Debug)]
pub struct Sink {
    file: PathBuf,
    diags: Vec<Diagnostic>,
}

impl Sink {
    pub fn new(file: impl AsRef<Path>) -> Self {
        Sink {
            file: file.as_ref().to_path_buf(),
            diags: Vec::new(),
        }
    }

    pub fn file(&self) -> &Path {
        &self.file
    }

    pub fn error(&mut self, pos: Pos, key: &str, message: impl Into<String>) -> &mut Diagnostic {
        self.push(Severity::Error, pos, key, message.into())
    }

    pub fn warning(&mut self, pos: Pos, key: &str, message: impl Into<String>) -> &mut Diagnostic {
        self.push(Severity::Warning, pos, key, message.into())
    }

    fn push(&mut self, severity: Severity, pos: Pos, key: &str, message: String) -> &mut Diagnostic {
        self.diags.push(Diagnostic {
            severity,
            file: self.file.clone(),
            line: pos.line,
            column: pos.column,
            key: key.to_string(),
            message,
            hint: None,
        });
        self.diags.last_mut().expect("just pushed")
    }

    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(Diagnostic::is_error)
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.diags
    }

    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.diags.extend(other);
    }
}

impl Diagnostic {
    pub fn hint(&mut self, hint: impl Into<String>) -> &mut Self {
        self.hint = Some(hint.into());
        self
    }
}

/// The closest candidate to `word`, if it is close enough to be what the user meant.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let mut best: Option<(&str, f64)> = None;
    for cand in candidates {
        let score = if cand.to_lowercase() == lower {
            2.0
        } else {
            strsim::jaro_winkler(&lower, &cand.to_lowercase())
        };
        if score >= 0.85 && best.is_none_or(|(_, s)| score > s) {
            best = Some((cand, score));
        }
    }
    best.map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let cmds = ["tapOn", "doubleTapOn", "assertVisible", "assertNotVisible"];
        assert_eq!(did_you_mean("tapon", cmds), Some("tapOn"));
        assert_eq!(did_you_mean("asertVisible", cmds), Some("assertVisible"));
        assert_eq!(did_you_mean("launchRocket", cmds), None);
    }

    #[test]
    fn render_points_at_the_column() {
        let mut sink = Sink::new("flows/a.yaml");
        sink.error(Pos::new(2, 3), "steps[0]", "unknown command 'tapon'")
            .hint("did you mean 'tapOn'?");
        let d = &sink.into_vec()[0];
        let text = d.render(Some("appId: x\n- tapon: A\n"));
        assert!(text.starts_with("flows/a.yaml:2:3: error: unknown command 'tapon' (at `steps[0]`)"));
        assert!(text.contains("2 | - tapon: A\n  |   ^\n"), "{text}");
        assert!(text.contains("= hint: did you mean 'tapOn'?"));
    }
}
