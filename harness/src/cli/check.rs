//! `harness check`: validate every input file and print every problem.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{CheckArgs, Format};
use crate::diag::{Diagnostic, Severity};
use crate::errors::HarnessError;
use crate::exit_codes;
use crate::load::{VarSources, load_flows_with, normalize};
use crate::profile::app::load_app_profile;
use crate::profile::device::load_device_profile;

/// What a YAML file is, decided by the directory it sits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Flow,
    App,
    Device,
    /// A workspace's `config.yaml` (`crate::workspace`).
    Workspace,
}

pub fn classify(path: &Path) -> FileKind {
    let dirs: Vec<String> = path
        .parent()
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    if dirs.iter().any(|d| d == "devices") {
        FileKind::Device
    } else if dirs.iter().any(|d| d == "apps") {
        FileKind::App
    } else {
        FileKind::Flow
    }
}

fn is_yaml(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

/// Expands directories into their YAML files (sorted), keeping files as given.
fn expand(paths: &[PathBuf], missing: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(dir) = stack.pop() {
                let Ok(entries) = std::fs::read_dir(&dir) else { continue };
                let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
                entries.sort();
                for e in entries {
                    if e.is_dir() {
                        stack.push(e);
                    } else if is_yaml(&e) {
                        out.push(normalize(&e));
                    }
                }
            }
        } else if p.is_file() {
            out.push(normalize(p));
        } else {
            missing.push(Diagnostic {
                severity: Severity::Error,
                file: p.clone(),
                line: 0,
                column: 0,
                key: String::new(),
                message: "no such file or directory".into(),
                hint: Some("give flow files, profile files or directories that contain them".into()),
            });
        }
    }
    out.sort();
    out.dedup();
    out
}

#[derive(Serialize)]
struct Report<'a> {
    valid: bool,
    errors: usize,
    warnings: usize,
    files: BTreeMap<String, FileKind>,
    diagnostics: &'a [Diagnostic],
}

/// Checks `paths` and returns the diagnostics and the kind of every file checked.
///
/// With `devices` (profile files), the flows are also checked against what each device's
/// backend can do (`driver::capability`).
pub fn check_paths(
    paths: &[PathBuf],
    vars: &VarSources,
    devices: &[PathBuf],
    strict: bool,
) -> (Vec<Diagnostic>, BTreeMap<PathBuf, FileKind>, BTreeMap<PathBuf, String>) {
    let mut diags = Vec::new();
    // A folder holding `config.yaml` is a workspace: the configuration selects its flows;
    // its app and device profiles are checked as in any folder.
    let mut plain = vec![];
    let mut selected = vec![];
    let mut configs = BTreeMap::new();
    for p in paths {
        let Some(config) = crate::workspace::config_of(p) else {
            plain.push(p.clone());
            continue;
        };
        let (ws, d, text) = crate::workspace::load_workspace(p);
        diags.extend(d);
        configs.insert(normalize(&config), text);
        if let Some(ws) = ws {
            let (flows, d) = ws.select();
            diags.extend(d);
            selected.extend(flows);
        }
        let mut ignore = vec![];
        let files = expand(std::slice::from_ref(p), &mut ignore);
        selected.extend(
            files
                .into_iter()
                .filter(|f| classify(f) != FileKind::Flow && !configs.contains_key(f)),
        );
    }
    let mut files = expand(&plain, &mut diags);
    files.extend(selected);
    files.extend(devices.iter().map(|d| normalize(d)));
    files.sort();
    files.dedup();
    let mut kinds: BTreeMap<PathBuf, FileKind> = files
        .iter()
        .map(|f| {
            let kind = if devices.iter().any(|d| &normalize(d) == f) {
                FileKind::Device
            } else {
                classify(f)
            };
            (f.clone(), kind)
        })
        .collect();
    let flows: Vec<PathBuf> = files.iter().filter(|f| kinds[*f] == FileKind::Flow).cloned().collect();
    let set = load_flows_with(&flows, vars, strict);
    let mut sources = set.sources.clone();
    for (config, text) in configs {
        kinds.insert(config.clone(), FileKind::Workspace);
        sources.insert(config, text);
    }
    diags.extend(set.diagnostics.iter().cloned());
    for app in set.apps.keys() {
        kinds.entry(app.clone()).or_insert(FileKind::App);
    }
    for f in &files {
        match kinds[f] {
            FileKind::Flow => {}
            FileKind::App => {
                if set.apps.contains_key(f) || diags.iter().any(|d| &d.file == f) {
                    continue; // already loaded through a flow
                }
                diags.extend(load_app_profile(f).1);
            }
            FileKind::Device => {
                let (profile, found) = load_device_profile(f);
                diags.extend(found);
                if let Some(p) = profile
                    && devices.iter().any(|d| &normalize(d) == f)
                {
                    diags.extend(crate::driver::capability::check_flows(&set, &p));
                }
            }
            FileKind::Workspace => {}
        }
        if !sources.contains_key(f)
            && let Ok(t) = std::fs::read_to_string(f)
        {
            sources.insert(f.clone(), t);
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    diags.retain(|d| seen.insert((d.file.clone(), d.line, d.column, d.message.clone())));
    diags.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    (diags, kinds, sources)
}

/// Exit code 0 when every file is valid, 2 when one has an error (the diagnostics are the
/// output, not an error of the command).
pub fn run(args: CheckArgs) -> Result<i32, HarnessError> {
    let paths = if args.paths.is_empty() {
        ["flows", "devices"]
            .iter()
            .map(PathBuf::from)
            .filter(|p| p.exists())
            .collect()
    } else {
        args.paths.clone()
    };
    if paths.is_empty() {
        return Err(HarnessError::NothingToCheck);
    }
    let vars = VarSources::from_env(args.env.clone());
    let devices: Vec<PathBuf> = args
        .device
        .iter()
        .map(|d| crate::profile::device::profile_path(d))
        .collect();
    let (diags, kinds, sources) = check_paths(&paths, &vars, &devices, args.strict);
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let report = Report {
                valid: errors == 0,
                errors,
                warnings,
                files: kinds.iter().map(|(k, v)| (k.display().to_string(), *v)).collect(),
                diagnostics: &diags,
            };
            let _ = writeln!(out, "{}", serde_json::to_string_pretty(&report).unwrap_or_default());
        }
        Format::Text => {
            for d in &diags {
                let _ = write!(out, "{}", d.render(sources.get(&d.file).map(String::as_str)));
            }
            let count = |k: FileKind| kinds.values().filter(|v| **v == k).count();
            let _ = writeln!(
                out,
                "checked {} flows, {} app profiles, {} device profiles: {} error{}, {} warning{}",
                count(FileKind::Flow),
                count(FileKind::App),
                count(FileKind::Device),
                errors,
                if errors == 1 { "" } else { "s" },
                warnings,
                if warnings == 1 { "" } else { "s" },
            );
        }
    }
    Ok(if errors > 0 {
        exit_codes::INVALID_INPUT
    } else {
        exit_codes::OK
    })
}
