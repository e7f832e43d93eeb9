//! Flow YAML → validated [`Flow`] model.
//!
//! This is where every command of the flow language is parsed, from its string form
//! (`- back`, `- tapOn: Sign in`) or its object form (`- tapOn: {id: auth-continue}`).
//! Parsing collects every problem as a diagnostic with its position and keeps going, so one
//! `harness check` shows them all. No I/O here: `crate::load` reads files and resolves
//! sub-flows.

use std::path::Path;

use crate::diag::{Diagnostic, Sink, did_you_mean};
use crate::flow::commands::{self, CONDITION_KEYS, HEADER_KEYS, LEGACY_ACTIONS, StringForm};
use crate::flow::model::*;
use crate::flow::selector::{SelectorOptions, parse_command_selector, selector_keys};
use crate::flow::template;
// The variable-name rule moved to `flow::template`; `cli` still reads it from here.
pub use crate::flow::template::is_var_name;
use crate::lower::{self, MapView, index, join};
use crate::yaml::{self, Node, Pos, Value};

/// Parses one flow file's text. Always returns a flow (possibly partial) and the diagnostics.
pub fn parse_flow(text: &str, file: &Path) -> (Flow, Vec<Diagnostic>) {
    let mut sink = Sink::new(file);
    let flow = match yaml::parse_documents(text) {
        Ok(docs) => Parser {
            sink: &mut sink,
            defer: true,
            options: SelectorOptions::default(),
        }
        .flow(&docs, &separators(text)),
        Err(e) => {
            sink.error(e.pos, "", format!("invalid YAML: {}", e.message));
            Flow::default()
        }
    };
    (flow, sink.into_vec())
}

/// Lines (1-based) of the `---` markers that separate documents. The YAML crate drops empty
/// documents, so the markers tell an empty header or an empty commands section apart from a
/// missing one. A marker before any content starts the first document and is not counted.
fn separators(text: &str) -> Vec<u32> {
    let mut out = Vec::new();
    let mut content = false;
    for (i, line) in text.lines().enumerate() {
        let is_marker = line == "---" || line.starts_with("--- ") || line.starts_with("---\t");
        if is_marker {
            if content {
                out.push(i as u32 + 1);
            }
            content = true; // whatever follows belongs to a document
        } else if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
            content = true;
        }
    }
    out
}

const EXAMPLE: &str = "appId: com.example.app\n---\n- launchApp";

struct Parser<'s> {
    sink: &'s mut Sink,
    /// Typed fields written as `${…}` become [`Deferred`] (off when a step is read again
    /// with its resolved values).
    defer: bool,
    /// Command options found inside the selector maps of the command being read.
    options: SelectorOptions,
}

/// Values tried in place of a typed field written as `${…}`, until one is valid there: the
/// field then holds it until the step runs (see [`Deferred`]).
const PLACEHOLDERS: &[&str] = &[
    "1", "true", "50%,50%", "0,0", "1s", "portrait", "allow", "UP", "enabled", "online", "signedIn", "TEXT",
];

/// String scalars with a `${…}` reference in a command's value, with their paths; nested
/// steps (`commands`) and `env` maps are left out (they hold templates, or steps of their own).
fn template_scalars(node: &Node, path: &mut Vec<PathSeg>, out: &mut Vec<(Vec<PathSeg>, Pos, Template)>) {
    match &node.value {
        Value::Str(text) => {
            if let Ok(t) = template::parse_template(text)
                && t.as_literal().is_none()
            {
                out.push((path.clone(), node.pos, t));
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(PathSeg::Index(i));
                template_scalars(item, path, out);
                path.pop();
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                let key = k.key_text();
                // `optional` decides how the step record reads, before the step runs.
                if key == "commands" || key == "env" || key == "optional" {
                    continue;
                }
                path.push(PathSeg::Key(key));
                template_scalars(v, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// `node` with the scalar at `pos` replaced by the string `text`.
fn replace_at(node: &mut Node, pos: Pos, text: &str) {
    if node.pos == pos && matches!(node.value, Value::Str(_)) {
        node.value = Value::Str(text.to_string());
        return;
    }
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|n| replace_at(n, pos, text)),
        Value::Map(entries) => entries.iter_mut().for_each(|(_, v)| replace_at(v, pos, text)),
        _ => {}
    }
}

/// A step whose fields were deferred, read again with the resolved value of each (same
/// order as `step.deferred`) and the same rules as when it was loaded. The error is the
/// diagnostics of the values that are not valid where they are.
pub fn resolve_deferred(step: &Step, values: &[String], file: &Path) -> Result<Command, Vec<Diagnostic>> {
    let Some(source) = &step.source.0 else {
        return Ok(step.command.clone());
    };
    let (name, node) = &**source;
    let mut node = node.clone();
    for (d, value) in step.deferred.iter().zip(values) {
        replace_at(&mut node, d.loc.0, value);
    }
    let mut sink = Sink::new(file);
    let parsed = Parser {
        sink: &mut sink,
        defer: false,
        options: SelectorOptions::default(),
    }
    .command(name, step.loc.0, Some(&node), name, step.loc.0);
    let diags = sink.into_vec();
    match parsed {
        Some(st) if !diags.iter().any(Diagnostic::is_error) => Ok(st.command),
        _ => Err(diags.into_iter().filter(Diagnostic::is_error).collect()),
    }
}

impl Parser<'_> {
    fn flow(&mut self, docs: &[Node], seps: &[u32]) -> Flow {
        if let Some(&extra) = seps.get(1)
            && docs.len() < 3
        {
            // Three documents, one of them empty (dropped by the YAML crate).
            self.sink
                .error(
                    Pos::new(extra, 1),
                    "",
                    "a flow file has two YAML documents (header and commands), found more",
                )
                .hint("remove the extra `---` separators, or split the file with runFlow");
        }
        match docs {
            [only] if only.as_seq().is_some() && seps.first().is_some_and(|l| *l < only.pos.line) => {
                self.sink
                    .error(Pos::new(1, 1), "header", "the flow header is empty")
                    .hint("the header needs `appId: <bundle id or package>` or `app: apps/NAME.yaml`");
                Flow {
                    header: Header::default(),
                    steps: self.steps(only, "steps"),
                }
            }
            [only] if only.as_map().is_some() && !seps.is_empty() => {
                let header = self.header(only);
                self.sink
                    .warning(Pos::new(seps[0], 1), "steps", "the flow has no commands");
                Flow { header, steps: vec![] }
            }
            [] => {
                self.sink
                    .error(Pos::new(1, 1), "", "the flow file is empty")
                    .hint(format!(
                        "a flow is a header, `---`, then a list of commands:\n{EXAMPLE}"
                    ));
                Flow::default()
            }
            [only] if only.as_seq().is_some() => {
                self.sink
                    .error(only.pos, "header", "the flow has commands but no header")
                    .hint(format!(
                        "flow files must contain a header and a commands section separated by `---`, for example:\n{EXAMPLE}"
                    ));
                Flow {
                    header: Header::default(),
                    steps: self.steps(only, "steps"),
                }
            }
            [only] => {
                let header = self.header(only);
                let d = self
                    .sink
                    .error(only.pos, "steps", "the flow has a header but no commands section");
                d.hint("add a line `---` after the header, followed by the list of commands");
                Flow { header, steps: vec![] }
            }
            [head, body, rest @ ..] => {
                if let Some(extra) = rest.first() {
                    self.sink
                        .error(
                            extra.pos,
                            "",
                            "a flow file has two YAML documents (header and commands), found more",
                        )
                        .hint("remove the extra `---` separators, or split the file with runFlow");
                }
                let header = self.header(head);
                let steps = if body.is_null() {
                    self.sink.warning(body.pos, "steps", "the flow has no commands");
                    vec![]
                } else {
                    self.steps(body, "steps")
                };
                Flow { header, steps }
            }
        }
    }

    fn header(&mut self, node: &Node) -> Header {
        let mut h = Header::default();
        if node.is_null() {
            self.sink
                .error(node.pos, "header", "the flow header is empty")
                .hint("the header needs `appId: <bundle id or package>` or `app: apps/NAME.yaml`");
            return h;
        }
        let Some(mut m) = MapView::new(self.sink, node, "header", "the flow header") else {
            return h;
        };
        for key in ["appId", "url"] {
            if let Some(v) = m.get(key) {
                h.app_id = self.template(v, &m.child(key));
            }
        }
        if let Some(v) = m.get("app") {
            h.app = lower::nonempty_string(self.sink, v, "header.app");
            h.app_loc = Loc(v.pos);
        }
        if h.app_id.is_none() && h.app.is_none() && !m.has("appId") && !m.has("url") && !m.has("app") {
            self.sink
                .error(m.pos, "header", "the flow header needs `appId` or `app`")
                .hint("write `appId: com.example.app` (Maestro) or `app: apps/NAME.yaml` (an app profile)");
        }
        if let Some(v) = m.get("name") {
            h.name = lower::string(self.sink, v, "header.name");
        }
        if let Some(v) = m.get("tags") {
            h.tags = lower::string_list(self.sink, v, "header.tags").unwrap_or_default();
        }
        if let Some(v) = m.get("env") {
            h.env = self.env(v, "header.env");
            let locs = v
                .as_map()
                .unwrap_or_default()
                .iter()
                .map(|(k, _)| (k.key_text(), Loc(k.pos)));
            let locs: Vec<(String, Loc)> = locs.collect();
            h.env_locs = h
                .env
                .iter()
                .map(|(name, _)| {
                    locs.iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, l)| *l)
                        .unwrap_or_default()
                })
                .collect();
        }
        if let Some(v) = m.get("onFlowStart") {
            h.on_flow_start = self.steps(v, "header.onFlowStart");
        }
        if let Some(v) = m.get("onFlowComplete") {
            h.on_flow_complete = self.steps(v, "header.onFlowComplete");
        }
        if let Some(v) = m.get("properties")
            && let Some(pm) = MapView::new(self.sink, v, "header.properties", "properties")
        {
            let mut seen = vec![];
            for (k, val) in pm.entries() {
                let key = k.key_text();
                if self.duplicate_name(&mut seen, k, &key, "header.properties") {
                    continue;
                }
                if let Some(s) = lower::string(self.sink, val, &join("header.properties", &key)) {
                    h.properties.push((key, s));
                }
            }
            pm.finish_open();
        }
        if let Some(v) = m.get("jsEngine") {
            // Maestro's choice of JavaScript engine (graaljs, rhino); harness has one (QuickJS).
            lower::string(self.sink, v, "header.jsEngine");
        }
        // Maestro keeps any other header key and ignores it: warn, do not fail.
        let known: Vec<&str> = HEADER_KEYS.iter().map(|(k, _)| *k).collect();
        for (k, _) in m.entries() {
            let name = k.key_text();
            if known.contains(&name.as_str()) {
                continue;
            }
            let d = self.sink.warning(
                k.pos,
                &join("header", &name),
                format!("unknown header key '{name}' is ignored"),
            );
            if let Some(s) = did_you_mean(&name, known.iter().copied()) {
                d.hint(format!("did you mean '{s}'?"));
            }
        }
        h
    }

    /// Reports a key whose text repeats an earlier key's (`1` and `"1"` are different YAML
    /// keys but the same name here).
    fn duplicate_name(&mut self, seen: &mut Vec<String>, k: &Node, name: &str, path: &str) -> bool {
        if seen.iter().any(|n| n == name) {
            self.sink
                .error(k.pos, &join(path, name), format!("duplicate key '{name}'"))
                .hint("each name may appear once in this map");
            return true;
        }
        seen.push(name.to_string());
        false
    }

    /// Variable definitions: `NAME: value`.
    fn env(&mut self, node: &Node, path: &str) -> Vec<(String, Template)> {
        let mut out = Vec::new();
        let Some(m) = MapView::new(self.sink, node, path, "env") else {
            return out;
        };
        let mut seen = vec![];
        for (k, v) in m.entries() {
            let name = k.key_text();
            let p = join(path, &name);
            if self.duplicate_name(&mut seen, k, &name, path) {
                continue;
            }
            if !is_var_name(&name) {
                self.sink
                    .error(k.pos, &p, format!("'{name}' is not a valid variable name"))
                    .hint("variable names are letters, digits and underscores, starting with a letter or underscore");
                continue;
            }
            if v.is_null() {
                self.sink
                    .error(v.pos, &p, format!("variable '{name}' has no value"))
                    .hint("give it a value, or leave it out and pass it with -e NAME=VALUE or the environment");
                continue;
            }
            if let Some(t) = self.template(v, &p) {
                out.push((name, t));
            }
        }
        m.finish_open();
        out
    }

    fn template(&mut self, node: &Node, path: &str) -> Option<Template> {
        template::from_node(self.sink, node, path)
    }

    /// A JavaScript value: `${expression}` (or text with references), not empty.
    fn script(&mut self, node: &Node, path: &str) -> Option<Template> {
        lower::nonempty_string(self.sink, node, path)?;
        self.template(node, path)
    }

    /// A command's selector; command options inside its map are the step's.
    fn selector(&mut self, node: &Node, path: &str) -> Option<Selector> {
        parse_command_selector(self.sink, node, path, &mut self.options)
    }

    fn steps(&mut self, node: &Node, path: &str) -> Vec<Step> {
        match &node.value {
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| self.step(item, &index(path, i)))
                .collect(),
            Value::Null => vec![],
            _ => {
                self.sink
                    .error(
                        node.pos,
                        path,
                        format!("expected a list of commands, found {}", node.kind()),
                    )
                    .hint("write each command on its own line starting with `- `");
                vec![]
            }
        }
    }

    fn step(&mut self, node: &Node, path: &str) -> Option<Step> {
        let (name, name_pos, value) = match &node.value {
            Value::Str(s) => (s.clone(), node.pos, None),
            Value::Map(entries) if entries.len() == 1 => {
                let (k, v) = &entries[0];
                (k.key_text(), k.pos, Some(v))
            }
            Value::Map(entries) if entries.is_empty() => {
                self.sink.error(node.pos, path, "empty command");
                return None;
            }
            Value::Map(entries) => {
                let names: Vec<String> = entries.iter().map(|(k, _)| k.key_text()).collect();
                let (k2, _) = &entries[1];
                let d = self.sink.error(
                    k2.pos,
                    path,
                    format!(
                        "a step holds one command, found keys {}",
                        names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
                    ),
                );
                if names.iter().any(|n| n == "label" || n == "optional") {
                    d.hint("`label` and `optional` go inside the command's map, e.g. `- tapOn: {text: Sign in, optional: true}`");
                } else {
                    d.hint("start each command on its own line with `- `");
                }
                return None;
            }
            _ => {
                self.sink
                    .error(node.pos, path, format!("expected a command, found {}", node.kind()))
                    .hint("a command is a name (`- back`) or a name with a value (`- tapOn: Sign in`)");
                return None;
            }
        };
        let path = join(path, &name);
        let value = value.filter(|v| !v.is_null());
        self.command(&name, name_pos, value, &path, node.pos)
    }

    /// A command; typed fields written as `${…}` are deferred to run time (see [`Deferred`]).
    fn command(&mut self, name: &str, name_pos: Pos, value: Option<&Node>, path: &str, step_pos: Pos) -> Option<Step> {
        let Some(v) = value.filter(|_| self.defer) else {
            return self.command_plain(name, name_pos, value, path, step_pos);
        };
        let mut found = Vec::new();
        template_scalars(v, &mut vec![], &mut found);
        if found.is_empty() {
            return self.command_plain(name, name_pos, value, path, step_pos);
        }
        let file = self.sink.file().to_path_buf();
        let trial = |node: &Node| {
            let mut sink = Sink::new(&file);
            let step = Parser {
                sink: &mut sink,
                defer: true,
                options: SelectorOptions::default(),
            }
            .command_plain(name, name_pos, Some(node), path, step_pos);
            (step, sink.into_vec())
        };
        let error_at = |diags: &[Diagnostic], pos: Pos| {
            diags
                .iter()
                .any(|d| d.is_error() && (d.line, d.column) == (pos.line, pos.column))
        };
        // A rejected field can hide the next one (`points: …?` returns before `speed` is
        // read): look again after each round of placeholders.
        let mut node = v.clone();
        let mut deferred = Vec::new();
        loop {
            let (_, diags) = trial(&node);
            let (rejected, rest): (Vec<_>, Vec<_>) = found.into_iter().partition(|(_, pos, _)| error_at(&diags, *pos));
            found = rest;
            if rejected.is_empty() {
                break;
            }
            for (seg, pos, template) in rejected {
                let fits = PLACEHOLDERS.iter().find(|ph| {
                    let mut n = node.clone();
                    replace_at(&mut n, pos, ph);
                    !error_at(&trial(&n).1, pos)
                });
                if let Some(ph) = fits {
                    replace_at(&mut node, pos, ph);
                    deferred.push(Deferred {
                        path: seg,
                        template,
                        loc: Loc(pos),
                    });
                }
            }
        }
        if deferred.is_empty() {
            return self.command_plain(name, name_pos, value, path, step_pos);
        }
        deferred.sort_by_key(|d| (d.loc.0.line, d.loc.0.column));
        let mut step = self.command_plain(name, name_pos, Some(&node), path, step_pos)?;
        if !deferred.is_empty() {
            step.deferred = deferred;
            step.source = StepSource(Some(std::sync::Arc::new((name.to_string(), v.clone()))));
        }
        Some(step)
    }

    fn command_plain(
        &mut self,
        name: &str,
        name_pos: Pos,
        value: Option<&Node>,
        path: &str,
        step_pos: Pos,
    ) -> Option<Step> {
        let outer = std::mem::take(&mut self.options);
        let step = self.command_options_inside(name, name_pos, value, path, step_pos);
        let inner = std::mem::replace(&mut self.options, outer);
        step.map(|mut st| {
            if let Some(o) = inner.optional {
                st.optional |= o;
            }
            if st.label.is_none() {
                st.label = inner.label;
            }
            st
        })
    }

    fn command_options_inside(
        &mut self,
        name: &str,
        name_pos: Pos,
        value: Option<&Node>,
        path: &str,
        step_pos: Pos,
    ) -> Option<Step> {
        if name == "action" {
            return self.legacy_action(value, path, step_pos, name_pos);
        }
        if name == "hide keyboard" {
            return Some(self.plain(Command::HideKeyboard, step_pos));
        }
        if name == "inputRandom" {
            return self.input_random(value, path, step_pos, name_pos);
        }
        let Some(spec) = commands::spec(name) else {
            let d = self.sink.error(name_pos, path, format!("unknown command '{name}'"));
            if name == "openBrowser" {
                d.hint("Maestro declares openBrowser but never runs it: use `openLink` with `browser: true`");
            } else if let Some(s) = did_you_mean(name, commands::names()) {
                d.hint(format!("did you mean '{s}'?"));
            } else {
                d.hint("run `harness schema` or see README.md for the list of commands");
            }
            return None;
        };
        match (value, spec.string_form) {
            (None, StringForm::Value(_)) => {
                let d = self.sink.error(name_pos, path, format!("'{name}' needs a value"));
                d.hint(example_for(name));
                return None;
            }
            (None, StringForm::None) => {
                let d = self.sink.error(name_pos, path, format!("'{name}' needs its keys"));
                d.hint(example_for(name));
                return None;
            }
            _ => {}
        }
        let mut step = Step {
            command: Command::Back,
            label: None,
            optional: false,
            loc: Loc(step_pos),
            deferred: vec![],
            source: StepSource::default(),
        };
        let command = match value {
            None => self.bare(name)?,
            Some(v) if v.as_map().is_some() => {
                let mut m = MapView::new(self.sink, v, path, name)?;
                if let Some(l) = m.get("label") {
                    step.label = lower::string(self.sink, l, &m.child("label"));
                }
                if let Some(o) = m.get("optional") {
                    step.optional = lower::boolean(self.sink, o, &m.child("optional")).unwrap_or(false);
                }
                let cmd = self.object(name, &mut m);
                let known = commands::object_keys(spec);
                m.finish(self.sink, &format!("'{name}'"), &known);
                cmd?
            }
            Some(v) => {
                if spec.string_form == StringForm::None || spec.string_form == StringForm::Bare {
                    let d = self.sink.error(
                        v.pos,
                        path,
                        format!("'{name}' does not take a value here, found {}", v.kind()),
                    );
                    d.hint(example_for(name));
                    return None;
                }
                self.scalar(name, v, path)?
            }
        };
        step.command = command;
        Some(step)
    }

    fn plain(&self, command: Command, pos: Pos) -> Step {
        Step {
            loc: Loc(pos),
            ..Step::new(command)
        }
    }

    fn legacy_action(&mut self, value: Option<&Node>, path: &str, step_pos: Pos, name_pos: Pos) -> Option<Step> {
        let Some(v) = value else {
            self.sink
                .error(name_pos, path, "'action' needs a value")
                .hint(format!("one of: {}", LEGACY_ACTIONS.join(", ")));
            return None;
        };
        let choices: Vec<(&str, &str)> = LEGACY_ACTIONS.iter().map(|a| (*a, *a)).collect();
        let action = lower::one_of(self.sink, v, path, &choices)?;
        let command = self.bare(action)?;
        Some(self.plain(command, step_pos))
    }

    /// Maestro's `inputRandom: {type: EMAIL, length: 6}` (also `- inputRandom: EMAIL`); the
    /// type defaults to TEXT.
    fn input_random(&mut self, value: Option<&Node>, path: &str, step_pos: Pos, name_pos: Pos) -> Option<Step> {
        const TYPES: &[(&str, RandomInput)] = &[
            ("TEXT", RandomInput::Text),
            ("NUMBER", RandomInput::Number),
            ("EMAIL", RandomInput::Email),
            ("TEXT_EMAIL_ADDRESS", RandomInput::Email),
            ("PERSON_NAME", RandomInput::PersonName),
            ("TEXT_PERSON_NAME", RandomInput::PersonName),
            ("CITY_NAME", RandomInput::CityName),
            ("TEXT_CITY_NAME", RandomInput::CityName),
            ("COUNTRY_NAME", RandomInput::CountryName),
            ("TEXT_COUNTRY_NAME", RandomInput::CountryName),
            ("COLOR_NAME", RandomInput::ColorName),
            ("TEXT_COLOR", RandomInput::ColorName),
        ];
        let mut step = self.plain(Command::Back, step_pos);
        let (kind, length) = match value {
            None => (RandomInput::Text, None),
            Some(v) if v.as_map().is_none() => (lower::one_of(self.sink, v, path, TYPES)?, None),
            Some(v) => {
                let mut m = MapView::new(self.sink, v, path, "inputRandom")?;
                let kind = match m.get("type") {
                    Some(t) => lower::one_of(self.sink, t, &m.child("type"), TYPES)?,
                    None => RandomInput::Text,
                };
                let length = match m.get("length") {
                    Some(l) => Some(lower::integer(self.sink, l, &m.child("length"), 1, 10_000)? as u32),
                    None => None,
                };
                if let Some(l) = m.get("label") {
                    step.label = lower::string(self.sink, l, &m.child("label"));
                }
                if let Some(o) = m.get("optional") {
                    step.optional = lower::boolean(self.sink, o, &m.child("optional")).unwrap_or(false);
                }
                m.finish(self.sink, "'inputRandom'", &["type", "length", "label", "optional"]);
                (kind, length)
            }
        };
        if length.is_some() && !matches!(kind, RandomInput::Text | RandomInput::Number) {
            self.sink
                .error(name_pos, path, "`length` applies to TEXT and NUMBER only")
                .hint("drop `length`, or use `type: TEXT`");
            return None;
        }
        step.command = Command::InputRandom { kind, length };
        Some(step)
    }

    /// `- name` with no value.
    fn bare(&mut self, name: &str) -> Option<Command> {
        Some(match name {
            "launchApp" => Command::LaunchApp(LaunchApp {
                app_id: None,
                clear_state: None,
                clear_keychain: None,
                stop_app: None,
                permissions: vec![],
                arguments: vec![],
            }),
            "stopApp" => Command::StopApp { app_id: None },
            "killApp" => Command::KillApp { app_id: None },
            "clearState" => Command::ClearState { app_id: None },
            "clearKeychain" => Command::ClearKeychain,
            "assertNoDefectsWithAI" => Command::AssertNoDefectsWithAi,
            "inputRandomText" => Command::InputRandom {
                kind: RandomInput::Text,
                length: None,
            },
            "inputRandomNumber" => Command::InputRandom {
                kind: RandomInput::Number,
                length: None,
            },
            "inputRandomEmail" => Command::InputRandom {
                kind: RandomInput::Email,
                length: None,
            },
            "inputRandomPersonName" => Command::InputRandom {
                kind: RandomInput::PersonName,
                length: None,
            },
            "inputRandomCityName" => Command::InputRandom {
                kind: RandomInput::CityName,
                length: None,
            },
            "inputRandomCountryName" => Command::InputRandom {
                kind: RandomInput::CountryName,
                length: None,
            },
            "inputRandomColorName" => Command::InputRandom {
                kind: RandomInput::ColorName,
                length: None,
            },
            "eraseText" => Command::EraseText { characters: None },
            "pasteText" => Command::PasteText,
            "back" => Command::Back,
            "hideKeyboard" => Command::HideKeyboard,
            "scroll" => Command::Scroll,
            "toggleAirplaneMode" => Command::ToggleAirplaneMode,
            "toggleDarkMode" => Command::ToggleDarkMode,
            "assertDarkMode" => Command::AssertDarkMode,
            "assertLightMode" => Command::AssertLightMode,
            "stopRecording" => Command::StopRecording,
            "waitForAnimationToEnd" => Command::WaitForAnimationToEnd { timeout: None },
            _ => return None,
        })
    }

    /// `- name: scalar-or-list`.
    fn scalar(&mut self, name: &str, v: &Node, path: &str) -> Option<Command> {
        let s = self;
        Some(match name {
            "launchApp" => Command::LaunchApp(LaunchApp {
                app_id: Some(s.template(v, path)?),
                clear_state: None,
                clear_keychain: None,
                stop_app: None,
                permissions: vec![],
                arguments: vec![],
            }),
            "stopApp" => Command::StopApp {
                app_id: Some(s.template(v, path)?),
            },
            "killApp" => Command::KillApp {
                app_id: Some(s.template(v, path)?),
            },
            "clearState" => Command::ClearState {
                app_id: Some(s.template(v, path)?),
            },
            "openLink" => Command::OpenLink {
                link: s.template(v, path)?,
                browser: None,
                auto_verify: None,
            },
            "tapOn" | "doubleTapOn" | "longPressOn" => {
                let tap = Tap {
                    target: TapTarget::Element(s.selector(v, path)?),
                    retry_tap_if_no_change: None,
                    wait_until_visible: None,
                    repeat: None,
                    delay_ms: None,
                    wait_to_settle_timeout_ms: None,
                };
                tap_command(name, tap)
            }
            "assertVisible" => Command::AssertVisible(s.selector(v, path)?),
            "assertNotVisible" => Command::AssertNotVisible(s.selector(v, path)?),
            "copyTextFrom" => Command::CopyTextFrom(s.selector(v, path)?),
            "assertTrue" => Command::AssertTrue(s.script(v, path)?),
            "assertScreenshot" => Command::AssertScreenshot {
                path: lower::nonempty_string(s.sink, v, path)?,
                threshold_percentage: None,
                crop_on: None,
            },
            "assertWithAI" => Command::AssertWithAi {
                assertion: lower::nonempty_string(s.sink, v, path)?,
            },
            "extractTextWithAI" => Command::ExtractTextWithAi {
                query: lower::nonempty_string(s.sink, v, path)?,
                output_variable: None,
            },
            "inputText" => Command::InputText(s.template(v, path)?),
            "eraseText" => Command::EraseText {
                characters: Some(lower::integer(s.sink, v, path, 0, 100_000)? as u32),
            },
            "setClipboard" => Command::SetClipboard(s.template(v, path)?),
            "pressKey" => Command::PressKey(s.key(v, path)?),
            "setOrientation" => Command::SetOrientation(lower::one_of(s.sink, v, path, &Orientation::ALL)?),
            "setAirplaneMode" => Command::SetAirplaneMode(s.enabled(v, path)?),
            "setDarkMode" => Command::SetDarkMode(s.enabled(v, path)?),
            "addMedia" => Command::AddMedia(s.files(v, path)?),
            "takeScreenshot" => Command::TakeScreenshot {
                path: lower::nonempty_string(s.sink, v, path)?,
                crop_on: None,
            },
            "startRecording" => Command::StartRecording {
                path: lower::nonempty_string(s.sink, v, path)?,
            },
            "runFlow" => Command::RunFlow {
                source: FlowSource::File(s.flow_file(v, path)?),
                when: None,
                env: vec![],
            },
            "runScript" => Command::RunScript {
                file: lower::nonempty_string(s.sink, v, path)?,
                env: vec![],
                when: None,
            },
            "evalScript" => Command::EvalScript(s.script(v, path)?),
            "snapshot" => Command::Snapshot(s.snapshot_name(v, path)?),
            "assertSession" => Command::AssertSession {
                state: lower::one_of(s.sink, v, path, &SessionState::ALL)?,
                within: None,
            },
            "assertConvex" => Command::AssertConvex {
                authenticated: lower::boolean(s.sink, v, path)?,
                within: None,
            },
            "background" => Command::Background {
                duration: lower::duration(s.sink, v, path)?,
            },
            "setNetwork" => Command::SetNetwork(lower::one_of(s.sink, v, path, &Network::ALL)?),
            _ => {
                s.sink
                    .error(v.pos, path, format!("'{name}' does not take a value here"))
                    .hint(example_for(name));
                return None;
            }
        })
    }

    /// `- name: {keys}`. Unknown keys are reported by the caller's `MapView::finish`.
    fn object(&mut self, name: &str, m: &mut MapView) -> Option<Command> {
        let s = self;
        let path = m.path.clone();
        let p = |k: &str| join(&path, k);
        macro_rules! opt {
            ($key:expr, $f:expr) => {
                match m.get($key) {
                    Some(v) => $f(s, v, &p($key)),
                    None => None,
                }
            };
        }
        macro_rules! req {
            ($key:expr, $f:expr) => {
                match m.get($key) {
                    Some(v) => $f(s, v, &p($key)),
                    None => {
                        s.sink
                            .error(m.pos, &path, format!("'{name}' needs the key '{}'", $key))
                            .hint(example_for(name));
                        None
                    }
                }
            };
        }
        let bool_ = |s: &mut Self, v: &Node, path: &str| lower::boolean(s.sink, v, path);
        let str_ = |s: &mut Self, v: &Node, path: &str| lower::nonempty_string(s.sink, v, path);
        let tmpl = |s: &mut Self, v: &Node, path: &str| s.template(v, path);
        let u32_ =
            |s: &mut Self, v: &Node, path: &str| lower::integer(s.sink, v, path, 0, u32::MAX as i64).map(|i| i as u32);
        let ms = |s: &mut Self, v: &Node, path: &str| lower::millis(s.sink, v, path);
        let dur = |s: &mut Self, v: &Node, path: &str| lower::duration(s.sink, v, path);
        let sel = |s: &mut Self, v: &Node, path: &str| s.selector(v, path);
        let cond = |s: &mut Self, v: &Node, path: &str| s.condition(v, path);
        let env = |s: &mut Self, v: &Node, path: &str| Some(s.env(v, path));
        let dir = |s: &mut Self, v: &Node, path: &str| lower::one_of(s.sink, v, path, &Direction::ALL);

        Some(match name {
            "launchApp" => Command::LaunchApp(LaunchApp {
                app_id: opt!("appId", tmpl),
                clear_state: opt!("clearState", bool_),
                clear_keychain: opt!("clearKeychain", bool_),
                stop_app: opt!("stopApp", bool_),
                permissions: opt!("permissions", |s: &mut Self, v, p| s.permissions(v, p)).unwrap_or_default(),
                arguments: opt!("arguments", |s: &mut Self, v, p| s.string_map(v, p)).unwrap_or_default(),
            }),
            "stopApp" => Command::StopApp {
                app_id: opt!("appId", tmpl),
            },
            "killApp" => Command::KillApp {
                app_id: opt!("appId", tmpl),
            },
            "clearState" => Command::ClearState {
                app_id: opt!("appId", tmpl),
            },
            "setPermissions" => Command::SetPermissions {
                app_id: opt!("appId", tmpl),
                permissions: req!("permissions", |s: &mut Self, v, p| s.permissions(v, p))?,
            },
            "openLink" => Command::OpenLink {
                link: req!("link", tmpl)?,
                browser: opt!("browser", bool_),
                auto_verify: opt!("autoVerify", bool_),
            },
            "tapOn" | "doubleTapOn" | "longPressOn" => {
                let selector = selector_keys(s.sink, m);
                let point = opt!("point", |s: &mut Self, v: &Node, p: &str| s.point(v, p));
                let target = match (selector, point) {
                    (Some(sel), Some(pt)) => TapTarget::ElementPoint(sel, pt),
                    (Some(sel), None) => TapTarget::Element(sel),
                    (None, Some(pt)) => TapTarget::Point(pt),
                    (None, None) => {
                        if !m.has("point") {
                            s.sink
                                .error(m.pos, &path, format!("'{name}' needs an element or a point"))
                                .hint("give a selector (`text:`, `id:`, …) or `point: \"50%,50%\"`");
                        }
                        return None;
                    }
                };
                let tap = Tap {
                    target,
                    retry_tap_if_no_change: opt!("retryTapIfNoChange", bool_),
                    wait_until_visible: opt!("waitUntilVisible", bool_),
                    repeat: opt!("repeat", |s: &mut Self, v, p| lower::integer(s.sink, v, p, 1, 1000)
                        .map(|i| i as u32)),
                    delay_ms: opt!("delay", u32_),
                    wait_to_settle_timeout_ms: opt!("waitToSettleTimeoutMs", |s: &mut Self, v, p| lower::integer(
                        s.sink, v, p, 0, 30_000
                    )
                    .map(|i| i as u32)),
                };
                tap_command(name, tap)
            }
            "assertVisible" | "assertNotVisible" | "copyTextFrom" => {
                let Some(sel) = selector_keys(s.sink, m) else {
                    s.sink
                        .error(m.pos, &path, format!("'{name}' needs a selector"))
                        .hint("give `text:`, `id:` or another selector key");
                    return None;
                };
                match name {
                    "assertVisible" => Command::AssertVisible(sel),
                    "assertNotVisible" => Command::AssertNotVisible(sel),
                    _ => Command::CopyTextFrom(sel),
                }
            }
            "assertTrue" => Command::AssertTrue(req!("condition", |s: &mut Self, v, p| s.script(v, p))?),
            "extendedWaitUntil" => {
                let visible = opt!("visible", sel);
                let not_visible = opt!("notVisible", sel);
                if !m.has("visible") && !m.has("notVisible") {
                    s.sink
                        .error(m.pos, &path, "'extendedWaitUntil' needs 'visible' or 'notVisible'")
                        .hint(example_for(name));
                    return None;
                }
                Command::ExtendedWaitUntil {
                    visible,
                    not_visible,
                    timeout: opt!("timeout", ms),
                }
            }
            "assertScreenshot" => Command::AssertScreenshot {
                path: req!("path", str_)?,
                threshold_percentage: opt!("thresholdPercentage", |s: &mut Self, v, p| lower::number(
                    s.sink, v, p, 0.0, 100.0
                )),
                crop_on: opt!("cropOn", sel),
            },
            "assertWithAI" => Command::AssertWithAi {
                assertion: req!("assertion", str_)?,
            },
            "extractTextWithAI" => Command::ExtractTextWithAi {
                query: req!("query", str_)?,
                output_variable: opt!("outputVariable", str_),
            },
            "inputText" => Command::InputText(req!("text", tmpl)?),
            "inputRandomText" | "inputRandomNumber" => Command::InputRandom {
                kind: if name == "inputRandomText" {
                    RandomInput::Text
                } else {
                    RandomInput::Number
                },
                length: opt!("length", |s: &mut Self, v, p| lower::integer(s.sink, v, p, 1, 10_000)
                    .map(|i| i as u32)),
            },
            "eraseText" => Command::EraseText {
                characters: opt!("charactersToErase", |s: &mut Self, v, p| lower::integer(
                    s.sink, v, p, 0, 100_000
                )
                .map(|i| i as u32)),
            },
            "setClipboard" => Command::SetClipboard(req!("text", tmpl)?),
            "pressKey" => Command::PressKey(req!("key", |s: &mut Self, v, p| s.key(v, p))?),
            "scrollUntilVisible" => Command::ScrollUntilVisible {
                element: req!("element", sel)?,
                direction: opt!("direction", dir),
                timeout: opt!("timeout", ms),
                speed: opt!("speed", |s: &mut Self, v, p| lower::integer(s.sink, v, p, 0, 100)
                    .map(|i| i as u32)),
                visibility_percentage: opt!("visibilityPercentage", |s: &mut Self, v, p| lower::integer(
                    s.sink, v, p, 0, 100
                )
                .map(|i| i as u32)),
                center_element: opt!("centerElement", bool_),
                wait_to_settle_timeout_ms: opt!("waitToSettleTimeoutMs", |s: &mut Self, v, p| lower::integer(
                    s.sink, v, p, 0, 30_000
                )
                .map(|i| i as u32)),
            },
            "swipe" => {
                let shape = (m.has("direction"), m.has("start"), m.has("end"), m.has("from"));
                let direction = opt!("direction", dir);
                let start = opt!("start", |s: &mut Self, v, p| s.swipe_point(v, p));
                let end = opt!("end", |s: &mut Self, v, p| s.swipe_point(v, p));
                // Maestro's `from: {point: "50%, 85%"}` is a point, not a selector.
                let from_point = m.get("from").filter(|v| is_point_map(v)).cloned();
                let from = match &from_point {
                    Some(_) => None,
                    None => opt!("from", sel),
                };
                let kind = match shape {
                    (true, false, false, false) => SwipeKind::Direction(direction?),
                    (false, true, true, false) => SwipeKind::Points {
                        start: start?,
                        end: end?,
                    },
                    (true, false, false, true) if from_point.is_some() => {
                        let start = s.swipe_point(from_point.as_ref()?, &p("from"))?;
                        SwipeKind::Points {
                            start,
                            end: toward(start, direction?),
                        }
                    }
                    (true, false, false, true) => SwipeKind::FromElement {
                        from: from?,
                        direction: direction?,
                    },
                    _ => {
                        s.sink
                            .error(
                                m.pos,
                                &path,
                                "'swipe' needs `direction`, or `start` and `end`, or `from` with `direction`",
                            )
                            .hint(example_for(name));
                        return None;
                    }
                };
                Command::Swipe(Swipe {
                    kind,
                    duration_ms: opt!("duration", |s: &mut Self, v, p| lower::integer(s.sink, v, p, 1, 60_000)
                        .map(|i| i as u32)),
                    wait_to_settle_timeout_ms: opt!("waitToSettleTimeoutMs", |s: &mut Self, v, p| lower::integer(
                        s.sink, v, p, 0, 30_000
                    )
                    .map(|i| i as u32)),
                })
            }
            "setLocation" => Command::SetLocation {
                latitude: req!("latitude", |s: &mut Self, v, p| lower::number(
                    s.sink, v, p, -90.0, 90.0
                ))?,
                longitude: req!("longitude", |s: &mut Self, v, p| lower::number(
                    s.sink, v, p, -180.0, 180.0
                ))?,
            },
            "travel" => Command::Travel {
                points: req!("points", |s: &mut Self, v, p| s.geo_points(v, p))?,
                speed: opt!("speed", |s: &mut Self, v, p| lower::number(s.sink, v, p, 0.0, 10_000.0)),
            },
            "setOrientation" => Command::SetOrientation(req!("orientation", |s: &mut Self, v, p| lower::one_of(
                s.sink,
                v,
                p,
                &Orientation::ALL
            ))?),
            "setAirplaneMode" => Command::SetAirplaneMode(req!("value", |s: &mut Self, v, p| s.enabled(v, p))?),
            "setDarkMode" => Command::SetDarkMode(req!("value", |s: &mut Self, v, p| s.enabled(v, p))?),
            "addMedia" => Command::AddMedia(req!("files", |s: &mut Self, v, p| s.files(v, p))?),
            "takeScreenshot" => Command::TakeScreenshot {
                path: req!("path", str_)?,
                crop_on: opt!("cropOn", sel),
            },
            "startRecording" => Command::StartRecording {
                path: req!("path", str_)?,
            },
            "waitForAnimationToEnd" => Command::WaitForAnimationToEnd {
                timeout: opt!("timeout", ms),
            },
            "runFlow" => Command::RunFlow {
                source: s.flow_source(m, name)?,
                when: opt!("when", cond),
                env: opt!("env", env).unwrap_or_default(),
            },
            "repeat" => {
                let times = opt!("times", |s: &mut Self, v, p| lower::integer(s.sink, v, p, 0, 1_000_000)
                    .map(|i| i as u32));
                let while_ = opt!("while", cond);
                if !m.has("times") && !m.has("while") {
                    s.sink
                        .error(m.pos, &path, "'repeat' needs 'times' or 'while'")
                        .hint("`repeat: {times: 3, commands: [...]}`; a repeat with neither would never end");
                }
                let commands = req!("commands", |s: &mut Self, v, p| Some(s.steps(v, p)))?;
                Command::Repeat {
                    times,
                    while_,
                    commands,
                }
            }
            "retry" => Command::Retry {
                max_retries: opt!("maxRetries", |s: &mut Self, v, p| lower::integer(s.sink, v, p, 0, 100)
                    .map(|i| i as u32)),
                source: s.flow_source(m, name)?,
                env: opt!("env", env).unwrap_or_default(),
            },
            "runScript" => Command::RunScript {
                file: req!("file", str_)?,
                env: opt!("env", env).unwrap_or_default(),
                when: opt!("when", cond),
            },
            "evalScript" => Command::EvalScript(req!("script", |s: &mut Self, v, p| s.script(v, p))?),
            "snapshot" => Command::Snapshot(req!("name", |s: &mut Self, v, p| s.snapshot_name(v, p))?),
            "assertSession" => Command::AssertSession {
                state: req!("state", |s: &mut Self, v, p| lower::one_of(
                    s.sink,
                    v,
                    p,
                    &SessionState::ALL
                ))?,
                within: opt!("within", dur),
            },
            "assertConvex" => Command::AssertConvex {
                authenticated: req!("authenticated", bool_)?,
                within: opt!("within", dur),
            },
            "assertKeychain" => {
                if m.has("unchanged") || m.has("since") {
                    if m.has("key") || m.has("present") {
                        s.sink
                            .error(
                                m.pos,
                                &path,
                                "'assertKeychain' takes either {key, present} or {unchanged, since}, not both",
                            )
                            .hint(example_for(name));
                        return None;
                    }
                    let keys = req!("unchanged", |s: &mut Self, v, p| lower::string_list(s.sink, v, p))?;
                    if keys.is_empty() {
                        s.sink
                            .error(m.key_pos("unchanged"), &p("unchanged"), "'unchanged' lists no keys");
                        return None;
                    }
                    let since = req!("since", |s: &mut Self, v, p| s.snapshot_name(v, p))?;
                    Command::AssertKeychain(KeychainCheck::Unchanged { keys, since })
                } else {
                    let key = req!("key", str_)?;
                    let present = req!("present", bool_)?;
                    Command::AssertKeychain(KeychainCheck::Presence { key, present })
                }
            }
            "background" => Command::Background {
                duration: req!("for", dur)?,
            },
            "setNetwork" => Command::SetNetwork(req!("state", |s: &mut Self, v, p| lower::one_of(
                s.sink,
                v,
                p,
                &Network::ALL
            ))?),
            // Commands without object keys of their own: only label/optional.
            other => s.bare(other)?,
        })
    }

    /// `file` or `commands` of runFlow / retry.
    fn flow_source(&mut self, m: &mut MapView, name: &str) -> Option<FlowSource> {
        let file = m.get("file");
        let cmds = m.get("commands");
        match (file, cmds) {
            (Some(_), Some(c)) => {
                self.sink
                    .error(
                        c.pos,
                        &m.child("commands"),
                        format!("'{name}' takes `file` or `commands`, not both"),
                    )
                    .hint("move the inline commands into the file, or drop `file`");
                None
            }
            (Some(f), None) => Some(FlowSource::File(self.flow_file(f, &m.child("file"))?)),
            (None, Some(c)) => Some(FlowSource::Inline(self.steps(c, &m.child("commands")))),
            (None, None) => {
                self.sink
                    .error(m.pos, &m.path, format!("'{name}' needs `file` or `commands`"))
                    .hint(example_for(name));
                None
            }
        }
    }

    fn flow_file(&mut self, v: &Node, path: &str) -> Option<String> {
        let f = lower::nonempty_string(self.sink, v, path)?;
        if !(f.ends_with(".yaml") || f.ends_with(".yml")) {
            self.sink
                .error(v.pos, path, format!("sub-flow file '{f}' is not a .yaml file"))
                .hint("runFlow takes the path of a flow file, relative to this flow");
            return None;
        }
        Some(f)
    }

    fn snapshot_name(&mut self, v: &Node, path: &str) -> Option<String> {
        let n = lower::nonempty_string(self.sink, v, path)?;
        if !n
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            self.sink
                .error(
                    v.pos,
                    path,
                    format!("snapshot name '{n}' has characters other than letters, digits, '-', '_' and '.'"),
                )
                .hint("the name becomes part of artifact file names: use e.g. before-quit");
            return None;
        }
        Some(n)
    }

    fn key(&mut self, v: &Node, path: &str) -> Option<String> {
        let k = lower::string(self.sink, v, path)?;
        let norm = |s: &str| s.to_lowercase().replace([' ', '_', '-'], "");
        if let Some(found) = KEYS.iter().find(|c| norm(c) == norm(&k)) {
            return Some(found.to_string());
        }
        let d = self.sink.error(v.pos, path, format!("unknown key '{k}'"));
        match did_you_mean(&k, KEYS.iter().copied()) {
            Some(sug) => d.hint(format!("did you mean '{sug}'?")),
            None => d.hint("keys: Enter, Backspace, Back, Home, Lock, Volume Up, Volume Down, Escape, Power, Tab, …"),
        };
        None
    }

    fn enabled(&mut self, v: &Node, path: &str) -> Option<bool> {
        if let Value::Bool(b) = v.value {
            return Some(b);
        }
        lower::one_of(self.sink, v, path, &[("enabled", true), ("disabled", false)])
    }

    fn files(&mut self, v: &Node, path: &str) -> Option<Vec<String>> {
        let files = lower::string_list(self.sink, v, path)?;
        if files.is_empty() {
            self.sink.error(v.pos, path, "no files listed");
            return None;
        }
        Some(files)
    }

    fn permissions(&mut self, v: &Node, path: &str) -> Option<Vec<(String, Permission)>> {
        let m = MapView::new(self.sink, v, path, "permissions")?;
        let mut out = Vec::new();
        let mut seen = vec![];
        for (k, val) in m.entries() {
            let name = k.key_text();
            if self.duplicate_name(&mut seen, k, &name, path) {
                continue;
            }
            if let Some(p) = lower::one_of(self.sink, val, &join(path, &name), &Permission::ALL) {
                out.push((name, p));
            }
        }
        m.finish_open();
        Some(out)
    }

    fn string_map(&mut self, v: &Node, path: &str) -> Option<Vec<(String, String)>> {
        let m = MapView::new(self.sink, v, path, "arguments")?;
        let mut out = Vec::new();
        let mut seen = vec![];
        for (k, val) in m.entries() {
            let name = k.key_text();
            if self.duplicate_name(&mut seen, k, &name, path) {
                continue;
            }
            if let Some(s) = lower::string(self.sink, val, &join(path, &name)) {
                out.push((name, s));
            }
        }
        m.finish_open();
        Some(out)
    }

    fn geo_points(&mut self, v: &Node, path: &str) -> Option<Vec<(f64, f64)>> {
        let items = lower::string_list(self.sink, v, path)?;
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let parsed = item
                .split_once(',')
                .and_then(|(a, b)| Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?)))
                .filter(|(lat, lng)| lat.abs() <= 90.0 && lng.abs() <= 180.0);
            match parsed {
                Some(p) => out.push(p),
                None => {
                    let pos = v.as_seq().and_then(|s| s.get(i)).map(|n| n.pos).unwrap_or(v.pos);
                    self.sink
                        .error(
                            pos,
                            &index(path, i),
                            format!("'{item}' is not a \"latitude,longitude\" point"),
                        )
                        .hint("write points as \"52.52,13.40\"");
                    return None;
                }
            }
        }
        if out.len() < 2 {
            self.sink.error(v.pos, path, "travel needs at least two points");
            return None;
        }
        Some(out)
    }

    /// A swipe's `start`/`end`/`from`: a point, or Maestro's `{point: "x,y"}`.
    fn swipe_point(&mut self, v: &Node, path: &str) -> Option<Point> {
        if !is_point_map(v) {
            return self.point(v, path);
        }
        let mut m = MapView::new(self.sink, v, path, "a point")?;
        let p = m.get("point").and_then(|x| self.point(x, &join(path, "point")));
        m.finish(self.sink, "a point", &["point"]);
        p
    }

    /// `"x,y"` in pixels or `"x%,y%"` in percent.
    fn point(&mut self, v: &Node, path: &str) -> Option<Point> {
        let text = lower::string(self.sink, v, path)?;
        match parse_point(&text) {
            Some(p) => Some(p),
            None => {
                self.sink
                    .error(v.pos, path, format!("'{text}' is not a point"))
                    .hint("write \"x,y\" in pixels or \"x%,y%\" in percent, e.g. \"50%,90%\"");
                None
            }
        }
    }

    /// A condition: command options inside its selectors are read and dropped (they are
    /// not the command's).
    fn condition(&mut self, v: &Node, path: &str) -> Option<Condition> {
        let saved = std::mem::take(&mut self.options);
        let c = self.condition_inner(v, path);
        self.options = saved;
        c
    }

    fn condition_inner(&mut self, v: &Node, path: &str) -> Option<Condition> {
        let mut m = MapView::new(self.sink, v, path, "a condition")?;
        let mut c = Condition::default();
        if let Some(p) = m.get("platform") {
            c.platform = lower::one_of(self.sink, p, &m.child("platform"), &ConditionPlatform::ALL);
        }
        if let Some(s) = m.get("visible") {
            c.visible = self.selector(s, &m.child("visible"));
        }
        if let Some(s) = m.get("notVisible") {
            c.not_visible = self.selector(s, &m.child("notVisible"));
        }
        if let Some(s) = m.get("true") {
            c.script = self.script(s, &m.child("true"));
        }
        if let Some(s) = m.get("label") {
            c.label = lower::string(self.sink, s, &m.child("label"));
        }
        let empty = m.is_empty();
        let known: Vec<&str> = CONDITION_KEYS.iter().map(|(k, _)| *k).collect();
        m.finish(self.sink, "a condition", &known);
        if empty {
            self.sink
                .error(v.pos, path, "empty condition")
                .hint("give `platform`, `visible` or `notVisible`");
        }
        Some(c)
    }
}

/// A map holding only `point` (Maestro's `from: {point: …}`).
fn is_point_map(v: &Node) -> bool {
    matches!(v.as_map(), Some([(k, _)]) if k.key_text() == "point")
}

/// Where a swipe from `start` in `direction` ends: 10% from that edge of the screen.
fn toward(start: Point, direction: Direction) -> Point {
    match direction {
        Direction::Up => Point {
            y: Coord::Percent(10.0),
            ..start
        },
        Direction::Down => Point {
            y: Coord::Percent(90.0),
            ..start
        },
        Direction::Left => Point {
            x: Coord::Percent(10.0),
            ..start
        },
        Direction::Right => Point {
            x: Coord::Percent(90.0),
            ..start
        },
    }
}

fn tap_command(name: &str, tap: Tap) -> Command {
    match name {
        "doubleTapOn" => Command::DoubleTapOn(tap),
        "longPressOn" => Command::LongPressOn(tap),
        _ => Command::TapOn(tap),
    }
}

pub fn parse_point(text: &str) -> Option<Point> {
    let (x, y) = text.split_once(',')?;
    let coord = |s: &str| -> Option<Coord> {
        let s = s.trim();
        match s.strip_suffix('%') {
            Some(p) => {
                let v: f32 = p.trim().parse().ok()?;
                (0.0..=100.0).contains(&v).then_some(Coord::Percent(v))
            }
            None => s.parse::<i32>().ok().filter(|v| *v >= 0).map(Coord::Px),
        }
    };
    Some(Point {
        x: coord(x)?,
        y: coord(y)?,
    })
}

/// A short example of the command, for hints.
pub fn example_for(name: &str) -> String {
    let ex = match name {
        "tapOn" | "doubleTapOn" | "longPressOn" => format!("`- {name}: Sign in` or `- {name}: {{id: auth-continue}}`"),
        "assertVisible" | "assertNotVisible" | "copyTextFrom" => format!("`- {name}: Welcome` or `- {name}: {{id: screen-home}}`"),
        "inputText" => "`- inputText: ${HARNESS_EMAIL}`".into(),
        "openLink" => "`- openLink: myapp://home`".into(),
        "runFlow" => "`- runFlow: subflows/sign-in.yaml` or `- runFlow: {commands: [...]}`".into(),
        "retry" => "`- retry: {maxRetries: 2, commands: [...]}`".into(),
        "repeat" => "`- repeat: {times: 3, commands: [...]}`".into(),
        "swipe" => "`- swipe: {direction: LEFT}` or `- swipe: {start: \"90%,50%\", end: \"10%,50%\"}`".into(),
        "scrollUntilVisible" => "`- scrollUntilVisible: {element: {text: Footer}, direction: DOWN}`".into(),
        "extendedWaitUntil" => "`- extendedWaitUntil: {visible: {id: screen-home}, timeout: 10000}`".into(),
        "setLocation" => "`- setLocation: {latitude: 52.52, longitude: 13.40}`".into(),
        "travel" => "`- travel: {points: [\"52.52,13.40\", \"52.53,13.41\"], speed: 10}`".into(),
        "setPermissions" => "`- setPermissions: {permissions: {all: allow}}`".into(),
        "snapshot" => "`- snapshot: before-quit`".into(),
        "assertSession" => "`- assertSession: {state: signedIn, within: 10s}`".into(),
        "assertConvex" => "`- assertConvex: {authenticated: true, within: 10s}`".into(),
        "assertKeychain" => {
            "`- assertKeychain: {key: __clerk_client_jwt, present: true}` or `- assertKeychain: {unchanged: [__clerk_client_jwt], since: before-quit}`".into()
        }
        "background" => "`- background: {for: 70s}`".into(),
        "setNetwork" => "`- setNetwork: offline`".into(),
        "pressKey" => "`- pressKey: Enter`".into(),
        "setOrientation" => "`- setOrientation: landscapeLeft`".into(),
        "setAirplaneMode" | "setDarkMode" => format!("`- {name}: enabled`"),
        "addMedia" => "`- addMedia: [images/avatar.png]`".into(),
        "takeScreenshot" | "startRecording" | "assertScreenshot" => format!("`- {name}: home-screen`"),
        _ => format!("`- {name}`"),
    };
    format!("for example {ex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Flow, Vec<Diagnostic>) {
        parse_flow(text, Path::new("t.yaml"))
    }

    fn ok(text: &str) -> Flow {
        let (flow, diags) = parse(text);
        assert!(diags.iter().all(|d| !d.is_error()), "unexpected errors: {diags:#?}");
        flow
    }

    #[test]
    fn string_and_object_forms() {
        let f = ok(
            "appId: a\n---\n- launchApp\n- tapOn: Sign in\n- tapOn:\n    id: auth-continue\n    optional: true\n    label: Continue\n- back\n",
        );
        assert_eq!(f.steps.len(), 4);
        assert_eq!(
            f.steps[1].command,
            Command::TapOn(Tap {
                target: TapTarget::Element(Selector::text("Sign in")),
                retry_tap_if_no_change: None,
                wait_until_visible: None,
                repeat: None,
                delay_ms: None,
                wait_to_settle_timeout_ms: None,
            })
        );
        assert!(f.steps[2].optional);
        assert_eq!(f.steps[2].label.as_deref(), Some("Continue"));
        assert_eq!(f.steps[2].loc.0, Pos::new(5, 3));
    }

    #[test]
    fn session_commands() {
        let f = ok(
            "app: apps/x.yaml\n---\n- snapshot: before\n- assertSession: {state: signedIn, within: 10s}\n- assertConvex: true\n- assertKeychain: {unchanged: [__clerk_client_jwt], since: before}\n- background: {for: 70s}\n- setNetwork: offline\n",
        );
        assert_eq!(
            f.steps[1].command,
            Command::AssertSession {
                state: SessionState::SignedIn,
                within: Some(std::time::Duration::from_secs(10))
            }
        );
        assert_eq!(
            f.steps[4].command,
            Command::Background {
                duration: std::time::Duration::from_secs(70)
            }
        );
    }

    #[test]
    fn typed_fields_written_as_templates_are_deferred() {
        let text = "appId: a\n---\n\
- extendedWaitUntil: {visible: x, timeout: \"${TIMEOUT}\"}\n\
- setOrientation: ${o}\n\
- launchApp: {permissions: {location: \"${ALLOW}\"}}\n\
- tapOn: {point: \"${Q},${Q}\"}\n\
- tapOn: {text: A, index: \"${0 + 1}\"}\n\
- repeat: {times: \"${N}\", commands: [back]}\n\
- retry: {maxRetries: \"${N}\", commands: [back]}\n\
- inputRandomText: {length: \"${N}\"}\n\
- setLocation: {latitude: \"${LAT}\", longitude: 2}\n\
- travel: {points: [\"1,2\", \"${P}\"], speed: \"${S}\"}\n\
- eraseText: ${N}\n\
- setAirplaneMode: ${ON}\n\
- swipe: {direction: \"${D}\", duration: \"${N}\"}\n";
        let f = ok(text);
        let keys: Vec<Vec<String>> = f
            .steps
            .iter()
            .map(|s| s.deferred.iter().map(|d| d.key()).collect())
            .collect();
        assert_eq!(
            keys,
            [
                vec!["timeout"],
                vec![""],
                vec!["permissions.location"],
                vec!["point"],
                vec!["index"],
                vec!["times"],
                vec!["maxRetries"],
                vec!["length"],
                vec!["latitude"],
                vec!["points[1]", "speed"],
                vec![""],
                vec![""],
                vec!["direction", "duration"],
            ]
        );
        // Emitted with their templates, read back the same.
        let again = ok(&crate::flow::emit::emit_flow(&f));
        assert_eq!(again, f);
        for (a, b) in again.steps.iter().zip(&f.steps) {
            assert_eq!(a.deferred, b.deferred);
        }
        // Resolved with values: the same rules as literals.
        let step = &f.steps[1];
        assert_eq!(
            resolve_deferred(step, &["landscapeLeft".into()], Path::new("t.yaml")),
            Ok(Command::SetOrientation(Orientation::LandscapeLeft))
        );
        let e = resolve_deferred(step, &["sideways".into()], Path::new("t.yaml")).unwrap_err();
        assert_eq!(
            e[0].message,
            "'sideways' is not one of portrait, landscapeLeft, landscapeRight, upsideDown"
        );
        assert_eq!((e[0].line, e[0].column), (4, 19));
    }

    #[test]
    fn maestro_spellings() {
        let f = ok("appId: a\n---\n\
- scrollUntilVisible: {element: {id: x, optional: true, label: Find x}}\n\
- swipe: {from: {id: x}, direction: UP}\n\
- swipe: {from: {point: \"50%, 85%\"}, direction: UP}\n\
- swipe: {start: {point: \"50%, 85%\"}, end: \"50%, 20%\"}\n\
- inputRandom: {type: PERSON_NAME}\n\
- inputRandom: {type: NUMBER, length: 4}\n\
- runFlow: {when: {visible: {id: x, optional: true}}, commands: [back]}\n");
        assert!(f.steps[0].optional);
        assert_eq!(f.steps[0].label.as_deref(), Some("Find x"));
        let pt = |x, y| Point {
            x: Coord::Percent(x),
            y: Coord::Percent(y),
        };
        assert!(matches!(
            &f.steps[1].command,
            Command::Swipe(Swipe {
                kind: SwipeKind::FromElement { .. },
                ..
            })
        ));
        assert!(
            matches!(&f.steps[2].command, Command::Swipe(Swipe { kind: SwipeKind::Points { start, end }, .. }) if *start == pt(50.0, 85.0) && *end == pt(50.0, 10.0))
        );
        assert!(
            matches!(&f.steps[3].command, Command::Swipe(Swipe { kind: SwipeKind::Points { start, end }, .. }) if *start == pt(50.0, 85.0) && *end == pt(50.0, 20.0))
        );
        assert_eq!(
            f.steps[4].command,
            Command::InputRandom {
                kind: RandomInput::PersonName,
                length: None
            }
        );
        assert_eq!(
            f.steps[5].command,
            Command::InputRandom {
                kind: RandomInput::Number,
                length: Some(4)
            }
        );
        assert!(!f.steps[6].optional, "a condition's options are not the command's");
    }

    #[test]
    fn unknown_command_suggests() {
        let (_, d) = parse("appId: a\n---\n- tapon: X\n");
        assert_eq!(d[0].message, "unknown command 'tapon'");
        assert_eq!(d[0].hint.as_deref(), Some("did you mean 'tapOn'?"));
        assert_eq!((d[0].line, d[0].column), (3, 3));
    }
}
