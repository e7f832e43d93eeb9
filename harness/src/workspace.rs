//! A Maestro workspace's `config.yaml`: which flows of a folder run, and how.
//!
//! When `harness check DIR` or `harness run DIR` gets a folder holding `config.yaml`, that
//! file is the workspace configuration (not a flow). Keys, as Maestro's `WorkspaceConfig`:
//!
//! - `flows`: globs relative to the folder (`*` within a path segment, `**` across them,
//!   `?` one character); default `*`, the folder's top-level flow files;
//! - `includeTags` / `excludeTags`: a flow runs when it has one of the included tags (if
//!   any are given) and none of the excluded ones; these apply on top of the command line's
//!   `--include-tags` / `--exclude-tags`;
//! - `executionOrder`: `flowsOrder` (flow names or file stems that run first, in this
//!   order; the others follow) and `continueOnFailure` (read; harness always runs every
//!   flow);
//! - `platform`: `android.disableAnimations`, `ios.disableAnimations`,
//!   `ios.snapshotKeyHonorModalViews` (read and validated; the device profiles decide these
//!   here);
//! - Maestro's other keys (`baselineBranch`, `notifications`, `testOutputDir`,
//!   `disableRetries`) and unknown keys are warnings, as in Maestro.

use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Sink, did_you_mean};
use crate::load::normalize;
use crate::lower::{self, MapView};
use crate::yaml::{self, Pos};

/// The file name that makes a folder a workspace.
pub const CONFIG_FILE: &str = "config.yaml";

const KEYS: &[&str] = &[
    "flows",
    "includeTags",
    "excludeTags",
    "executionOrder",
    "platform",
    "baselineBranch",
    "notifications",
    "testOutputDir",
    "disableRetries",
];

/// A workspace configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Workspace {
    /// The folder (where globs are relative to).
    pub dir: PathBuf,
    /// The `config.yaml` file.
    pub path: PathBuf,
    pub flows: Vec<String>,
    pub include_tags: Vec<String>,
    pub exclude_tags: Vec<String>,
    pub continue_on_failure: bool,
    /// Names in `executionOrder.flowsOrder`, with where each is written.
    pub flows_order: Vec<(String, Pos)>,
    pub android_disable_animations: Option<bool>,
    pub ios_disable_animations: Option<bool>,
    pub ios_snapshot_key_honor_modal_views: Option<bool>,
}

/// The configuration file of `dir`, when `dir` is a workspace folder.
pub fn config_of(dir: &Path) -> Option<PathBuf> {
    let p = dir.join(CONFIG_FILE);
    (dir.is_dir() && p.is_file()).then_some(p)
}

/// Reads `dir/config.yaml`. The text is returned for rendering diagnostics.
pub fn load_workspace(dir: &Path) -> (Option<Workspace>, Vec<Diagnostic>, String) {
    let path = normalize(&dir.join(CONFIG_FILE));
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let (ws, diags) = parse_workspace(&text, dir, &path);
            (ws, diags, text)
        }
        Err(e) => {
            let mut sink = Sink::new(&path);
            sink.error(
                Pos::UNKNOWN,
                "",
                format!("cannot read the workspace configuration: {e}"),
            );
            (None, sink.into_vec(), String::new())
        }
    }
}

/// Parses a workspace configuration's text.
pub fn parse_workspace(text: &str, dir: &Path, path: &Path) -> (Option<Workspace>, Vec<Diagnostic>) {
    let mut sink = Sink::new(path);
    let mut ws = Workspace {
        dir: normalize(dir),
        path: path.to_path_buf(),
        flows: vec!["*".into()],
        include_tags: vec![],
        exclude_tags: vec![],
        continue_on_failure: true,
        flows_order: vec![],
        android_disable_animations: None,
        ios_disable_animations: None,
        ios_snapshot_key_honor_modal_views: None,
    };
    let docs = match yaml::parse_documents(text) {
        Ok(d) => d,
        Err(e) => {
            sink.error(e.pos, "", format!("invalid YAML: {}", e.message));
            return (None, sink.into_vec());
        }
    };
    let Some(node) = docs.first() else {
        return (Some(ws), sink.into_vec()); // an empty config: the defaults
    };
    if docs.len() > 1 {
        sink.error(docs[1].pos, "", "a workspace configuration is one YAML document");
    }
    if node.is_null() {
        return (Some(ws), sink.into_vec());
    }
    let Some(mut m) = MapView::new(&mut sink, node, "", "the workspace configuration") else {
        return (None, sink.into_vec());
    };
    if let Some(v) = m.get("flows") {
        match lower::string_list(&mut sink, v, "flows") {
            Some(globs) if globs.is_empty() => {
                sink.error(v.pos, "flows", "`flows` lists no globs")
                    .hint("leave it out for the folder's top-level flows, or write e.g. `flows: [\"auth/*\"]`");
            }
            Some(globs) => ws.flows = globs,
            None => {}
        }
    }
    if let Some(v) = m.get("includeTags") {
        ws.include_tags = lower::string_list(&mut sink, v, "includeTags").unwrap_or_default();
    }
    if let Some(v) = m.get("excludeTags") {
        ws.exclude_tags = lower::string_list(&mut sink, v, "excludeTags").unwrap_or_default();
    }
    if let Some(v) = m.get("executionOrder")
        && let Some(mut e) = MapView::new(&mut sink, v, "executionOrder", "executionOrder")
    {
        if let Some(c) = e.get("continueOnFailure") {
            ws.continue_on_failure = lower::boolean(&mut sink, c, "executionOrder.continueOnFailure").unwrap_or(true);
            if !ws.continue_on_failure {
                sink.warning(
                    c.pos,
                    "executionOrder.continueOnFailure",
                    "`continueOnFailure: false` is not supported: harness runs every flow",
                )
                .hint("a failed flow is reported with the others; its result decides the exit code");
            }
        }
        if let Some(o) = e.get("flowsOrder") {
            let key = "executionOrder.flowsOrder";
            match o.as_seq() {
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if let Some(name) = lower::nonempty_string(&mut sink, item, &lower::index(key, i)) {
                            ws.flows_order.push((name, item.pos));
                        }
                    }
                }
                None => {
                    if let Some(name) = lower::nonempty_string(&mut sink, o, key) {
                        ws.flows_order.push((name, o.pos));
                    }
                }
            }
        }
        e.finish(&mut sink, "executionOrder", &["continueOnFailure", "flowsOrder"]);
    }
    if let Some(v) = m.get("platform")
        && let Some(mut p) = MapView::new(&mut sink, v, "platform", "platform")
    {
        if let Some(a) = p.get("android")
            && let Some(mut a) = MapView::new(&mut sink, a, "platform.android", "platform.android")
        {
            if let Some(x) = a.get("disableAnimations") {
                ws.android_disable_animations = lower::boolean(&mut sink, x, "platform.android.disableAnimations");
            }
            a.finish(&mut sink, "platform.android", &["disableAnimations"]);
        }
        if let Some(i) = p.get("ios")
            && let Some(mut i) = MapView::new(&mut sink, i, "platform.ios", "platform.ios")
        {
            if let Some(x) = i.get("disableAnimations") {
                ws.ios_disable_animations = lower::boolean(&mut sink, x, "platform.ios.disableAnimations");
            }
            if let Some(x) = i.get("snapshotKeyHonorModalViews") {
                ws.ios_snapshot_key_honor_modal_views =
                    lower::boolean(&mut sink, x, "platform.ios.snapshotKeyHonorModalViews");
            }
            i.finish(
                &mut sink,
                "platform.ios",
                &["disableAnimations", "snapshotKeyHonorModalViews"],
            );
        }
        p.finish(&mut sink, "platform", &["android", "ios"]);
    }
    for key in ["baselineBranch", "notifications", "testOutputDir", "disableRetries"] {
        if let Some(v) = m.get(key) {
            sink.warning(
                v.pos,
                key,
                format!("'{key}' is a Maestro Cloud / CLI setting that harness ignores"),
            );
        }
    }
    // Unknown keys are warnings, as in Maestro.
    for (k, _) in m.entries() {
        let name = k.key_text();
        if KEYS.contains(&name.as_str()) {
            continue;
        }
        let d = sink.warning(k.pos, &name, format!("unknown workspace key '{name}' is ignored"));
        if let Some(s) = did_you_mean(&name, KEYS.iter().copied()) {
            d.hint(format!("did you mean '{s}'?"));
        }
    }
    (Some(ws), sink.into_vec())
}

impl Workspace {
    /// The flow files the workspace selects: `flows` globs, then the tags, in `flowsOrder`
    /// order (the others after, sorted by path). A `flowsOrder` name that selects no flow is
    /// an error at its position.
    pub fn select(&self) -> (Vec<PathBuf>, Vec<Diagnostic>) {
        let mut sink = Sink::new(&self.path);
        let mut files = vec![];
        walk(&self.dir, &mut files);
        files.sort();
        let mut selected: Vec<(PathBuf, Option<String>)> = vec![];
        for f in files {
            let Ok(rel) = f.strip_prefix(&self.dir) else { continue };
            let rel = rel.to_string_lossy().replace('\\', "/");
            if rel == CONFIG_FILE || !self.flows.iter().any(|g| glob_match(g, &rel)) {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&f) else {
                continue;
            };
            let (flow, _) = crate::flow::parse::parse_flow(&text, &f);
            let tags = &flow.header.tags;
            let included = self.include_tags.is_empty() || self.include_tags.iter().any(|t| tags.contains(t));
            if included && !self.exclude_tags.iter().any(|t| tags.contains(t)) {
                selected.push((normalize(&f), flow.header.name.clone()));
            }
        }
        let mut ordered = vec![];
        for (name, pos) in &self.flows_order {
            let matches = |(p, n): &(PathBuf, Option<String>)| {
                n.as_deref() == Some(name.as_str()) || p.file_stem().is_some_and(|s| s.to_string_lossy() == *name)
            };
            match selected.iter().position(matches) {
                Some(i) => ordered.push(selected.remove(i).0),
                None if ordered
                    .iter()
                    .any(|p: &PathBuf| p.file_stem().is_some_and(|s| s.to_string_lossy() == *name)) => {}
                None => {
                    sink.error(
                        *pos,
                        "executionOrder.flowsOrder",
                        format!("flowsOrder names '{name}', which is not a flow this workspace selects"),
                    )
                    .hint("write a flow's `name` or its file name without .yaml");
                }
            }
        }
        ordered.extend(selected.into_iter().map(|(p, _)| p));
        (ordered, sink.into_vec())
    }
}

/// Every `.yaml`/`.yml` file under `dir`.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")) {
            out.push(p);
        }
    }
}

/// Whether a relative path (`/`-separated) matches a glob: `*` and `?` stay within a path
/// segment, `**` spans segments. A glob that names a folder (`auth`, `auth/`) selects the
/// files directly in it.
pub fn glob_match(glob: &str, path: &str) -> bool {
    let glob = glob.trim().trim_start_matches("./");
    let g: Vec<&str> = glob.trim_end_matches('/').split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    segments(&g, &p) || (!glob.contains('*') && segments(&[g.as_slice(), &["*"]].concat(), &p))
}

fn segments(g: &[&str], p: &[&str]) -> bool {
    match (g.first(), p.first()) {
        (None, None) => true,
        (Some(&"**"), _) => segments(&g[1..], p) || (!p.is_empty() && segments(g, &p[1..])),
        (Some(gs), Some(ps)) => segment(gs.as_bytes(), ps.as_bytes()) && segments(&g[1..], &p[1..]),
        _ => false,
    }
}

fn segment(g: &[u8], s: &[u8]) -> bool {
    match (g.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => segment(&g[1..], s) || (!s.is_empty() && segment(g, &s[1..])),
        (Some(b'?'), Some(_)) => segment(&g[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => segment(&g[1..], &s[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*", "a.yaml"));
        assert!(!glob_match("*", "sub/a.yaml"));
        assert!(glob_match("auth/*", "auth/a.yaml"));
        assert!(glob_match("auth", "auth/a.yaml"));
        assert!(glob_match("**/*.yaml", "x/y/a.yaml"));
        assert!(glob_match("**", "a.yaml"));
        assert!(glob_match("a?.yaml", "ab.yaml"));
        assert!(!glob_match("auth/*", "billing/a.yaml"));
    }

    #[test]
    fn keys_are_read_with_positions() {
        let text = "flows:\n  - \"auth/*\"\nincludeTags: [smoke]\nexecutionOrder:\n  continueOnFailure: maybe\n  flowsOrder: [b, a]\nplatform:\n  ios: {disableAnimations: true}\nbogus: 1\n";
        let (ws, diags) = parse_workspace(text, Path::new("w"), Path::new("w/config.yaml"));
        let ws = ws.unwrap();
        assert_eq!(ws.flows, ["auth/*"]);
        assert_eq!(ws.include_tags, ["smoke"]);
        assert_eq!(ws.ios_disable_animations, Some(true));
        assert_eq!(
            ws.flows_order.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            ["b", "a"]
        );
        let d: Vec<(u32, u32, bool, &str)> = diags
            .iter()
            .map(|d| (d.line, d.column, d.is_error(), d.message.as_str()))
            .collect();
        assert_eq!(
            d,
            [
                (5, 22, true, "expected true or false, found 'maybe'"),
                (9, 1, false, "unknown workspace key 'bogus' is ignored"),
            ]
        );
    }
}
