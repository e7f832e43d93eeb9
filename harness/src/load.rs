//! Loading flows from disk: read files, resolve sub-flows and app profiles, check what can
//! only be checked across files.
//!
//! This is the only part of the flow language that does I/O. It finishes before anything
//! runs: a [`FlowSet`] holds every flow file and app profile a run needs, and the diagnostics
//! of all of them. Cross-file checks live here: missing sub-flow files, `runFlow` cycles,
//! undefined `${NAME}` variables along each call path (a warning, an error with `strict`),
//! typed fields written as `${…}` whose value is known here (`-e`, a literal `env`),
//! snapshots used before they are taken, session commands without an app profile, and
//! commands harness cannot run (AI).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use crate::diag::{Diagnostic, Severity};
// `command_name` lives with the command table; `exec` still imports it from here.
pub use crate::flow::commands::command_name;
use crate::flow::model::*;
use crate::flow::parse::parse_flow;
use crate::lower::{index, join};
use crate::profile::app::{AppProfile, load_app_profile};
use crate::yaml::Pos;

/// Sub-flows may nest this deep; deeper is almost certainly a mistake.
pub const MAX_DEPTH: usize = 32;

/// Variables that the runner defines for every flow.
pub const BUILTIN_VARS: &[&str] = &[
    "MAESTRO_FILENAME",
    "MAESTRO_DEVICE_UDID",
    "MAESTRO_SHARD_ID",
    "MAESTRO_SHARD_INDEX",
    "HARNESS_PLATFORM",
    "HARNESS_DEVICE",
    "HARNESS_ITERATION",
    "HARNESS_RUN_ID",
];

/// Where variables come from besides the flows themselves.
#[derive(Clone, Debug, Default)]
pub struct VarSources {
    /// `-e KEY=VALUE`, in order.
    pub cli: Vec<(String, String)>,
    /// Names defined in the process environment.
    pub process: BTreeSet<String>,
}

impl VarSources {
    /// `-e` values plus the names of the current process environment.
    pub fn from_env(cli: Vec<(String, String)>) -> Self {
        VarSources {
            cli,
            process: std::env::vars_os().filter_map(|(k, _)| k.into_string().ok()).collect(),
        }
    }

    fn defines(&self, name: &str) -> bool {
        self.cli.iter().any(|(k, _)| k == name) || self.process.contains(name) || BUILTIN_VARS.contains(&name)
    }
}

/// Every flow and app profile reachable from the requested flows.
#[derive(Debug, Default)]
pub struct FlowSet {
    /// Flows in the order requested that no other loaded flow runs as a sub-flow.
    pub roots: Vec<PathBuf>,
    pub flows: BTreeMap<PathBuf, Flow>,
    pub apps: BTreeMap<PathBuf, AppProfile>,
    /// File texts, for rendering diagnostics with their source line.
    pub sources: BTreeMap<PathBuf, String>,
    /// Files the flows use at run time, read here so that nothing else reads flow files:
    /// `addMedia` files, `runScript` files and `assertScreenshot` references (a reference
    /// that does not exist yet is absent: the step fails and saves the screenshot to adopt).
    pub assets: BTreeMap<PathBuf, Vec<u8>>,
    pub diagnostics: Vec<Diagnostic>,
}

impl FlowSet {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The app profile a flow file names, if it names one and it loaded.
    pub fn app_of(&self, flow: &Path) -> Option<&AppProfile> {
        let f = self.flows.get(flow)?;
        let app = f.header.app.as_ref()?;
        self.apps.get(&resolve(flow, app))
    }
}

/// Lexically normalises a path (`a/./b/../c` → `a/c`) without touching the disk, so paths
/// stay as the user wrote them in messages.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) | Some(Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// A path written in `from` (a flow file), resolved against that file's directory.
pub fn resolve(from: &Path, written: &str) -> PathBuf {
    let dir = from.parent().unwrap_or_else(|| Path::new(""));
    normalize(&dir.join(written))
}

/// Loads the given flow files and everything they reference; an undefined variable is a
/// warning (it fails its step when it runs).
pub fn load_flows(paths: &[PathBuf], vars: &VarSources) -> FlowSet {
    load_flows_with(paths, vars, false)
}

/// [`load_flows`]; with `strict`, an undefined variable is an error (`harness check --strict`).
pub fn load_flows_with(paths: &[PathBuf], vars: &VarSources, strict: bool) -> FlowSet {
    let mut set = FlowSet::default();
    let requested: Vec<PathBuf> = paths.iter().map(|p| normalize(p)).collect();
    let mut queue: Vec<PathBuf> = requested.clone();
    let mut referenced: BTreeSet<PathBuf> = BTreeSet::new();
    while let Some(path) = queue.pop() {
        if set.flows.contains_key(&path) {
            continue;
        }
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                // Missing sub-flows are reported at the runFlow step; a requested file here.
                if requested.contains(&path) {
                    push(
                        &mut set.diagnostics,
                        &path,
                        Pos::UNKNOWN,
                        "",
                        Severity::Error,
                        format!("cannot read flow file: {e}"),
                        None,
                    );
                }
                set.flows.insert(path.clone(), Flow::default());
                continue;
            }
        };
        let (flow, diags) = parse_flow(&text, &path);
        set.diagnostics.extend(diags);
        set.sources.insert(path.clone(), text);
        let mut refs = Vec::new();
        collect_files(&flow.header.on_flow_start, "header.onFlowStart", &mut refs);
        collect_files(&flow.header.on_flow_complete, "header.onFlowComplete", &mut refs);
        collect_files(&flow.steps, "steps", &mut refs);
        let assets: Vec<_> = refs.iter().filter(|r| r.3 != FileKind::SubFlow).cloned().collect();
        refs.retain(|r| r.3 == FileKind::SubFlow);
        for (written, loc, key, kind) in assets {
            let file = resolve(&path, &written);
            if set.assets.contains_key(&file) {
                continue;
            }
            match std::fs::read(&file) {
                Ok(bytes) if bytes.len() as u64 <= MAX_ASSET_BYTES => {
                    set.assets.insert(file, bytes);
                }
                Ok(bytes) => push(
                    &mut set.diagnostics,
                    &path,
                    loc.0,
                    &key,
                    Severity::Error,
                    format!(
                        "'{written}' is {} MiB; files a flow uses are at most {} MiB",
                        bytes.len() >> 20,
                        MAX_ASSET_BYTES >> 20
                    ),
                    None,
                ),
                Err(_) if kind == FileKind::Reference => push(
                    &mut set.diagnostics,
                    &path,
                    loc.0,
                    &key,
                    Severity::Warning,
                    format!(
                        "reference screenshot '{written}' does not exist yet (looked for {})",
                        file.display()
                    ),
                    Some(
                        "the step fails and saves the screenshot it took as an artifact: review it, then copy it there"
                            .into(),
                    ),
                ),
                Err(e) => push(
                    &mut set.diagnostics,
                    &path,
                    loc.0,
                    &key,
                    Severity::Error,
                    format!("cannot read '{written}' ({}): {e}", file.display()),
                    Some(match kind {
                        FileKind::Script => {
                            "paths in runScript are relative to the flow file that contains them".into()
                        }
                        _ => "paths in addMedia are relative to the flow file that contains them".into(),
                    }),
                ),
            }
        }
        for (written, loc, key, _) in refs {
            let sub = resolve(&path, &written);
            if !sub.is_file() {
                push(
                    &mut set.diagnostics,
                    &path,
                    loc.0,
                    &key,
                    Severity::Error,
                    format!("sub-flow file '{written}' not found (looked for {})", sub.display()),
                    Some("paths in runFlow and retry are relative to the flow file that contains them".into()),
                );
                continue;
            }
            referenced.insert(sub.clone());
            queue.push(sub);
        }
        if let Some(app) = &flow.header.app {
            let app_path = resolve(&path, app);
            if !set.apps.contains_key(&app_path) {
                if app_path.is_file() {
                    let (profile, diags) = load_app_profile(&app_path);
                    set.diagnostics.extend(diags);
                    if let Some(p) = profile {
                        set.apps.insert(app_path, p);
                    }
                } else {
                    push(
                        &mut set.diagnostics,
                        &path,
                        flow.header.app_loc.0,
                        "header.app",
                        Severity::Error,
                        format!("app profile '{app}' not found (looked for {})", app_path.display()),
                        Some("the path is relative to the flow file, e.g. `app: apps/clerk-expo-convex.yaml`".into()),
                    );
                }
            }
        }
        set.flows.insert(path, flow);
    }
    set.roots = requested.iter().filter(|p| !referenced.contains(*p)).cloned().collect();
    set.roots.dedup();

    let mut checker = Checker {
        set: &set,
        vars,
        strict,
        out: Vec::new(),
        visited: BTreeSet::new(),
    };
    for root in &set.roots {
        checker.root(root);
    }
    // Requested files that only run as part of a cycle have no root above them: walk them
    // from themselves so the cycle (and everything else in them) is reported.
    for path in &requested {
        if !checker.visited.contains(path) {
            checker.root(path);
        }
    }
    let mut out = checker.out;
    set.diagnostics.append(&mut out);
    dedup(&mut set.diagnostics);
    set
}

fn dedup(diags: &mut Vec<Diagnostic>) {
    let mut seen = BTreeSet::new();
    diags.retain(|d| seen.insert((d.file.clone(), d.line, d.column, d.message.clone())));
    diags.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
}

fn push(
    out: &mut Vec<Diagnostic>,
    file: &Path,
    pos: Pos,
    key: &str,
    severity: Severity,
    message: String,
    hint: Option<String>,
) {
    out.push(Diagnostic {
        severity,
        file: file.to_path_buf(),
        line: pos.line,
        column: pos.column,
        key: key.to_string(),
        message,
        hint,
    });
}

/// The most a file that a flow uses (media, reference screenshots) may weigh.
pub const MAX_ASSET_BYTES: u64 = 256 << 20;

/// What a file a flow names is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FileKind {
    SubFlow,
    Media,
    Reference,
    Script,
}

/// The path of `assertScreenshot`'s reference as Maestro reads it: `.png` is added when the
/// path has no extension.
pub fn reference_path(written: &str) -> String {
    if Path::new(written).extension().is_some() {
        written.to_string()
    } else {
        format!("{written}.png")
    }
}

/// Files referenced anywhere in `steps`: (path as written, step location, key path, kind).
fn collect_files(steps: &[Step], path: &str, out: &mut Vec<(String, Loc, String, FileKind)>) {
    for (i, st) in steps.iter().enumerate() {
        let key = join(&index(path, i), command_name(&st.command));
        match &st.command {
            Command::RunFlow {
                source: FlowSource::File(f),
                ..
            }
            | Command::Retry {
                source: FlowSource::File(f),
                ..
            } => out.push((f.clone(), st.loc, join(&key, "file"), FileKind::SubFlow)),
            Command::AddMedia(files) => {
                for (j, f) in files.iter().enumerate() {
                    out.push((f.clone(), st.loc, index(&join(&key, "files"), j), FileKind::Media));
                }
            }
            Command::AssertScreenshot { path, .. } => {
                out.push((reference_path(path), st.loc, join(&key, "path"), FileKind::Reference))
            }
            Command::RunScript { file, .. } => out.push((file.clone(), st.loc, join(&key, "file"), FileKind::Script)),
            _ => {}
        }
        collect_files(st.command.nested_steps(), &join(&key, "commands"), out);
    }
}

/// What is defined at a point of a walk.
#[derive(Clone)]
struct Scope {
    vars: BTreeSet<String>,
    /// Values known before the run (literal `env` entries), for deferred fields.
    values: BTreeMap<String, String>,
    app: Option<PathBuf>,
    /// Files on the current call path, for cycle detection.
    stack: Vec<PathBuf>,
}

struct Checker<'a> {
    set: &'a FlowSet,
    vars: &'a VarSources,
    strict: bool,
    out: Vec<Diagnostic>,
    /// Flow files walked at least once.
    visited: BTreeSet<PathBuf>,
}

impl Checker<'_> {
    fn root(&mut self, path: &Path) {
        let scope = Scope {
            vars: BTreeSet::new(),
            values: BTreeMap::new(),
            app: None,
            stack: vec![],
        };
        let mut snapshots = BTreeSet::new();
        self.flow(path, scope, &mut snapshots);
    }

    fn err(&mut self, file: &Path, pos: Pos, key: &str, msg: String, hint: Option<&str>) {
        push(
            &mut self.out,
            file,
            pos,
            key,
            Severity::Error,
            msg,
            hint.map(String::from),
        );
    }

    /// Walks one flow file with the scope of its caller.
    fn flow(&mut self, path: &Path, mut scope: Scope, snapshots: &mut BTreeSet<String>) {
        let Some(flow) = self.set.flows.get(path) else { return };
        self.visited.insert(path.to_path_buf());
        scope.stack.push(path.to_path_buf());
        if let Some(app) = &flow.header.app {
            scope.app = Some(resolve(path, app));
        }
        let secrets: Vec<String> = scope
            .app
            .as_ref()
            .and_then(|a| self.set.apps.get(a))
            .map(|a| a.secrets.clone())
            .unwrap_or_default();
        for (i, (name, value)) in flow.header.env.iter().enumerate() {
            let pos = flow.header.env_locs.get(i).map(|l| l.0).unwrap_or_default();
            if secrets.contains(name) {
                self.err(
                    path,
                    pos,
                    &join("header.env", name),
                    format!("'{name}' is a secret of the app profile and must not be defined in a flow file"),
                    Some("remove it from `env` and pass it with the environment or -e"),
                );
            }
            self.template(path, pos, &join("header.env", name), value, &scope, &secrets);
            scope.vars.insert(name.clone());
            self.known(&mut scope, name, value);
        }
        scope.vars.extend(secrets.iter().cloned());
        self.steps(
            path,
            &flow.header.on_flow_start,
            "header.onFlowStart",
            &scope,
            snapshots,
        );
        self.steps(path, &flow.steps, "steps", &scope, snapshots);
        self.steps(
            path,
            &flow.header.on_flow_complete,
            "header.onFlowComplete",
            &scope,
            snapshots,
        );
    }

    fn steps(&mut self, file: &Path, steps: &[Step], path: &str, scope: &Scope, snapshots: &mut BTreeSet<String>) {
        for (i, st) in steps.iter().enumerate() {
            self.step(file, st, &index(path, i), scope, snapshots);
        }
    }

    fn step(&mut self, file: &Path, st: &Step, path: &str, scope: &Scope, snapshots: &mut BTreeSet<String>) {
        let pos = st.loc.0;
        let key = join(path, command_name(&st.command));
        if let Some(why) = st.command.unsupported() {
            self.err(
                file,
                pos,
                &key,
                format!("'{}' is not supported", command_name(&st.command)),
                Some(why),
            );
        }
        for t in templates(&st.command) {
            self.template(file, pos, &key, t, scope, &[]);
        }
        for d in &st.deferred {
            self.template(file, d.loc.0, &join(&key, &d.key()), &d.template, scope, &[]);
        }
        self.deferred(file, st, path, scope);
        let app = scope.app.as_ref().and_then(|a| self.set.apps.get(a));
        // A named profile that did not load is reported where it is named, not at every step.
        let app_missing = app.is_none() && scope.app.is_none();
        match &st.command {
            Command::AssertSession { state, .. } => match app {
                None if !app_missing => {}
                None => self.no_app(file, pos, &key, scope),
                Some(a) if *state == SessionState::OfflineExpected && a.offline.is_none() => self.err(
                    file,
                    pos,
                    &key,
                    format!("`state: offlineExpected` needs an `offline` section in app profile '{}'", a.name),
                    Some("add `offline: {coldStart: signedIn}` or `offline: {coldStart: networkError, networkError: {...}}`"),
                ),
                _ => {}
            },
            Command::AssertConvex { .. } => match app {
                None if !app_missing => {}
                None => self.no_app(file, pos, &key, scope),
                Some(a) if a.convex.is_none() => self.err(
                    file,
                    pos,
                    &key,
                    format!("'assertConvex' needs a `convex` section in app profile '{}'", a.name),
                    Some("add `convex: {authenticated: {...}, unauthenticated: {...}}` to the profile"),
                ),
                _ => {}
            },
            Command::Snapshot(name) => {
                snapshots.insert(name.clone());
            }
            Command::AssertKeychain(KeychainCheck::Unchanged { since, .. }) if !snapshots.contains(since) => {
                self.err(
                    file,
                    pos,
                    &join(&key, "since"),
                    format!("snapshot '{since}' is not taken before this step"),
                    Some(&format!("add `- snapshot: {since}` earlier in the flow")),
                );
            }
            _ => {}
        }
        match &st.command {
            Command::RunFlow { source, env, .. } | Command::Retry { source, env, .. } => {
                let mut inner = scope.clone();
                for (name, value) in env {
                    self.template(file, pos, &join(&key, "env"), value, scope, &[]);
                    inner.vars.insert(name.clone());
                    let mut known = scope.clone();
                    self.known(&mut known, name, value);
                    match known.values.get(name) {
                        Some(v) => inner.values.insert(name.clone(), v.clone()),
                        None => inner.values.remove(name),
                    };
                }
                match source {
                    FlowSource::Inline(steps) => self.steps(file, steps, &join(&key, "commands"), &inner, snapshots),
                    FlowSource::File(written) => {
                        let sub = resolve(file, written);
                        if !self.set.flows.contains_key(&sub) {
                            return; // reported while loading
                        }
                        if let Some(at) = inner.stack.iter().position(|p| *p == sub) {
                            let chain: Vec<String> = inner.stack[at..]
                                .iter()
                                .chain([&sub])
                                .map(|p| p.display().to_string())
                                .collect();
                            self.err(
                                file,
                                pos,
                                &join(&key, "file"),
                                format!("runFlow cycle: {}", chain.join(" → ")),
                                Some("a sub-flow must not run itself, directly or through other sub-flows"),
                            );
                            return;
                        }
                        if inner.stack.len() >= MAX_DEPTH {
                            self.err(
                                file,
                                pos,
                                &key,
                                format!("sub-flows nest deeper than {MAX_DEPTH} levels"),
                                None,
                            );
                            return;
                        }
                        self.flow(&sub, inner, snapshots);
                    }
                }
            }
            Command::Repeat { commands, .. } => self.steps(file, commands, &join(&key, "commands"), scope, snapshots),
            _ => {}
        }
    }

    fn no_app(&mut self, file: &Path, pos: Pos, key: &str, _scope: &Scope) {
        let name = key.rsplit('.').next().unwrap_or(key).to_string();
        self.err(
            file,
            pos,
            key,
            format!("'{name}' needs an app profile, and this flow has none"),
            Some("add `app: apps/NAME.yaml` to the flow header (or to the flow that runs this one)"),
        );
    }

    /// The value a variable has before the run, when it is known: `-e` wins (as when the
    /// flow runs), then a literal `env` entry (or one made of known variables).
    fn value(&self, scope: &Scope, name: &str) -> Option<String> {
        self.vars
            .cli
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .or_else(|| scope.values.get(name).cloned())
    }

    /// Records what `name = value` gives, when it is known before the run.
    fn known(&self, scope: &mut Scope, name: &str, value: &Template) {
        match value.render(|n| self.value(scope, n)) {
            Ok(v) => scope.values.insert(name.to_string(), v),
            Err(_) => scope.values.remove(name),
        };
    }

    /// Typed fields written as `${…}` whose values are known now: read with those values,
    /// with the same rules as when they run, and reported where they are written.
    fn deferred(&mut self, file: &Path, st: &Step, path: &str, scope: &Scope) {
        if st.deferred.is_empty() {
            return;
        }
        let mut values = Vec::new();
        for d in &st.deferred {
            match d.template.render(|n| self.value(scope, n)) {
                Ok(v) => values.push(v),
                Err(_) => return,
            }
        }
        if let Err(diags) = crate::flow::parse::resolve_deferred(st, &values, file) {
            for mut d in diags {
                d.key = join(path, &d.key);
                if let Some((deferred, value)) = st
                    .deferred
                    .iter()
                    .zip(&values)
                    .find(|(x, _)| (x.loc.0.line, x.loc.0.column) == (d.line, d.column))
                {
                    d.message = format!("{} (`{}` is '{value}')", d.message, deferred.template);
                }
                self.out.push(d);
            }
        }
    }

    fn template(&mut self, file: &Path, pos: Pos, key: &str, t: &Template, scope: &Scope, extra: &[String]) {
        for v in t.vars() {
            if scope.vars.contains(v) || extra.iter().any(|e| e == v) || self.vars.defines(v) {
                continue;
            }
            push(
                &mut self.out,
                file,
                pos,
                key,
                if self.strict {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                format!("variable '{v}' is not defined"),
                Some(format!(
                    "define it in the header `env`, in the calling runFlow's `env`, with -e {v}=VALUE, or in the environment; the step fails when it runs without it"
                )),
            );
        }
    }
}

fn selector_templates<'a>(s: &'a Selector, out: &mut Vec<&'a Template>) {
    out.extend(s.text.iter().chain(s.id.iter()));
    for c in s.children() {
        selector_templates(c, out);
    }
}

fn condition_templates<'a>(c: &'a Condition, out: &mut Vec<&'a Template>) {
    for s in c.visible.iter().chain(c.not_visible.iter()) {
        selector_templates(s, out);
    }
    out.extend(c.script.iter());
}

/// The templates a command holds directly (not those of nested steps).
pub(crate) fn templates(c: &Command) -> Vec<&Template> {
    use Command as C;
    let mut out = Vec::new();
    match c {
        C::LaunchApp(l) => out.extend(l.app_id.iter()),
        C::StopApp { app_id } | C::KillApp { app_id } | C::ClearState { app_id } | C::SetPermissions { app_id, .. } => {
            out.extend(app_id.iter())
        }
        C::OpenLink { link, .. } => out.push(link),
        C::TapOn(t) | C::DoubleTapOn(t) | C::LongPressOn(t) => match &t.target {
            TapTarget::Element(s) | TapTarget::ElementPoint(s, _) => selector_templates(s, &mut out),
            TapTarget::Point(_) => {}
        },
        C::AssertVisible(s) | C::AssertNotVisible(s) | C::CopyTextFrom(s) => selector_templates(s, &mut out),
        C::ExtendedWaitUntil {
            visible, not_visible, ..
        } => {
            for s in visible.iter().chain(not_visible.iter()) {
                selector_templates(s, &mut out);
            }
        }
        C::AssertScreenshot { crop_on, .. } | C::TakeScreenshot { crop_on, .. } => {
            if let Some(s) = crop_on {
                selector_templates(s, &mut out);
            }
        }
        C::ScrollUntilVisible { element, .. } => selector_templates(element, &mut out),
        C::Swipe(Swipe {
            kind: SwipeKind::FromElement { from, .. },
            ..
        }) => selector_templates(from, &mut out),
        C::InputText(t) | C::SetClipboard(t) | C::AssertTrue(t) | C::EvalScript(t) => out.push(t),
        C::RunScript { when, env, .. } => {
            out.extend(env.iter().map(|(_, t)| t));
            if let Some(c) = when {
                condition_templates(c, &mut out);
            }
        }
        C::RunFlow { when: Some(c), .. } => condition_templates(c, &mut out),
        C::Repeat { while_: Some(c), .. } => condition_templates(c, &mut out),
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_lexically() {
        assert_eq!(
            normalize(Path::new("flows/./subflows/../a.yaml")),
            PathBuf::from("flows/a.yaml")
        );
        assert_eq!(normalize(Path::new("../x/a.yaml")), PathBuf::from("../x/a.yaml"));
        assert_eq!(
            resolve(Path::new("flows/a.yaml"), "subflows/b.yaml"),
            PathBuf::from("flows/subflows/b.yaml")
        );
    }
}
