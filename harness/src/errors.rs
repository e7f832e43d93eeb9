//! The one error type that reaches the top of `harness`: [`HarnessError`], mapped to the
//! documented exit codes ([`crate::exit_codes`]) by [`HarnessError::exit_code`] and rendered
//! once, by `cli::main_impl`, with [`HarnessError::render`].
//!
//! Lower modules return their own precise errors (`ReportError`, `HostError`,
//! `SessionError`, …); a variant here wraps one with `#[source]` or says what was wrong
//! with the input. Test failures are not errors: they are results, and `harness run` exits
//! 1 because of them ([`crate::results::RunResults::exit_code`]).

use std::collections::BTreeMap;
use std::error::Error;
use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::diag::Diagnostic;
use crate::driver::DriverError;
use crate::exit_codes;
use crate::host::HostError;
use crate::report::ReportError;

/// Why a `harness` command stopped before it could give a result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HarnessError {
    // Invalid input (exit code 2): nothing ran.
    /// `harness run` found no flow file in the paths it was given (or `flows`).
    #[error("no flow files in {} (hint: harness run FLOW.yaml…)", display_paths(.paths))]
    NoFlowFiles { paths: Vec<PathBuf> },
    /// A flow path given to `harness run` does not exist.
    #[error("{}: no such flow file or directory", .path.display())]
    NoSuchFlowPath { path: PathBuf },
    /// A flow directory could not be listed.
    #[error("{}: cannot read the directory", .path.display())]
    ReadFlowDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Flows (or their sub-flows, app profiles) have errors: `diagnostics` are rendered with
    /// their file, line, column and snippet from `sources`.
    #[error("the flows are invalid; nothing ran (run `harness check` for details)")]
    InvalidFlows {
        diagnostics: Vec<Diagnostic>,
        sources: BTreeMap<PathBuf, String>,
    },
    /// Secrets that app profiles declare are not set.
    #[error("{}", .missing.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    MissingSecrets { missing: Vec<MissingSecret> },
    /// A device profile could not be loaded: `diagnostics` (rendered over `source_text`) say
    /// why, when it could be read.
    #[error("cannot load device profile {}", .path.display())]
    InvalidDeviceProfile {
        path: PathBuf,
        diagnostics: Vec<Diagnostic>,
        source_text: Option<String>,
    },
    /// The plan is empty.
    #[error("nothing to run: no flow matches the tag filters (or the shard is empty)")]
    NothingToRun,
    /// `--until-confident --threshold T`: the test needs room either side of T.
    #[error("invalid threshold {threshold}: {reason}")]
    InvalidThreshold { threshold: f64, reason: String },
    /// `harness check` without paths, in a directory without `flows/` or `devices/`.
    #[error("nothing to check: no flows/ or devices/ here (hint: harness check PATH…)")]
    NothingToCheck,
    /// `harness report`: a results.json cannot be read, or the parts cannot be merged.
    #[error(transparent)]
    InvalidResults(ReportError),

    // Infrastructure (exit code 3).
    /// The run directory under `--reports` cannot be created.
    #[error("cannot create {}", .path.display())]
    CreateRunDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot start the async runtime")]
    Runtime(#[source] io::Error),
    /// The in-process virtual farm could not start.
    #[error("cannot start the virtual farm")]
    FarmStart(#[source] io::Error),
    /// `harness sim serve` cannot listen where it was asked to.
    #[error("cannot listen on {addr} (hint: choose another --port, or --port 0 for a free one)")]
    FarmListen {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    /// `harness sim serve`: the server stopped with an error.
    #[error("the virtual farm stopped")]
    FarmStopped(#[source] io::Error),
    /// A report could not be written.
    #[error(transparent)]
    WriteReports(ReportError),
    /// A host tool (`xcrun`, `adb`, the keychain database) failed.
    #[error(transparent)]
    Host(#[from] HostError),
    /// A simulator could not be found or read.
    #[error(transparent)]
    Device(#[from] DriverError),
    /// `harness keychain restore` on a simulator that is booted.
    #[error("{name} is {state}: pass --shutdown, or run xcrun simctl shutdown {udid}")]
    SimulatorBooted { name: String, state: String, udid: String },
}

/// A secret an app profile declares that is neither in the environment nor given with `-e`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MissingSecret {
    /// The variable.
    pub name: String,
    /// The app profile that declares it.
    pub app: String,
}

impl std::fmt::Display for MissingSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.name;
        write!(
            f,
            "{s} is not set: app profile '{}' needs it (export {s}=… or pass -e {s}=…)",
            self.app
        )
    }
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl HarnessError {
    /// The process exit code: [`exit_codes::INVALID_INPUT`] for input that is wrong (nothing
    /// ran), [`exit_codes::INFRASTRUCTURE`] for what failed around the tests.
    pub fn exit_code(&self) -> i32 {
        match self {
            HarnessError::NoFlowFiles { .. }
            | HarnessError::NoSuchFlowPath { .. }
            | HarnessError::ReadFlowDir { .. }
            | HarnessError::InvalidFlows { .. }
            | HarnessError::MissingSecrets { .. }
            | HarnessError::InvalidDeviceProfile { .. }
            | HarnessError::NothingToRun
            | HarnessError::InvalidThreshold { .. }
            | HarnessError::NothingToCheck
            | HarnessError::InvalidResults(_) => exit_codes::INVALID_INPUT,
            HarnessError::CreateRunDir { .. }
            | HarnessError::Runtime(_)
            | HarnessError::FarmStart(_)
            | HarnessError::FarmListen { .. }
            | HarnessError::FarmStopped(_)
            | HarnessError::WriteReports(_)
            | HarnessError::Host(_)
            | HarnessError::Device(_)
            | HarnessError::SimulatorBooted { .. } => exit_codes::INFRASTRUCTURE,
        }
    }

    /// The text for stderr: the diagnostics the error carries (`file:line:col: error: …`
    /// with the source line), then one `error: …` line (one per missing secret), then a
    /// `  caused by: …` line for each source.
    pub fn render(&self) -> String {
        let mut out = String::new();
        match self {
            HarnessError::InvalidFlows { diagnostics, sources } => {
                for d in diagnostics {
                    out.push_str(&d.render(sources.get(&d.file).map(String::as_str)));
                }
            }
            HarnessError::InvalidDeviceProfile {
                diagnostics,
                source_text,
                ..
            } => {
                for d in diagnostics {
                    out.push_str(&d.render(source_text.as_deref()));
                }
            }
            _ => {}
        }
        match self {
            HarnessError::MissingSecrets { missing } => {
                for m in missing {
                    let _ = writeln!(out, "error: {m}");
                }
            }
            _ => {
                let _ = writeln!(out, "error: {self}");
            }
        }
        let mut source = self.source();
        while let Some(s) = source {
            let _ = writeln!(out, "  caused by: {s}");
            source = s.source();
        }
        out
    }
}

/// An error and its sources on one line, `error: cause: cause` (for messages stored in
/// results, where there is one line for it).
pub fn chain(error: &dyn Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        let _ = write!(out, ": {s}");
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::diag::Severity;

    fn io(msg: &str) -> io::Error {
        io::Error::new(io::ErrorKind::PermissionDenied, msg.to_string())
    }

    #[test]
    fn exit_codes_follow_the_readme() {
        let invalid = [
            HarnessError::NoFlowFiles { paths: vec![] },
            HarnessError::NoSuchFlowPath { path: "x".into() },
            HarnessError::ReadFlowDir {
                path: "x".into(),
                source: io("denied"),
            },
            HarnessError::InvalidFlows {
                diagnostics: vec![],
                sources: BTreeMap::new(),
            },
            HarnessError::MissingSecrets { missing: vec![] },
            HarnessError::InvalidDeviceProfile {
                path: "d.yaml".into(),
                diagnostics: vec![],
                source_text: None,
            },
            HarnessError::NothingToRun,
            HarnessError::InvalidThreshold {
                threshold: 0.99,
                reason: "no room".into(),
            },
            HarnessError::NothingToCheck,
            HarnessError::InvalidResults(ReportError::NothingToMerge),
        ];
        for e in &invalid {
            assert_eq!(e.exit_code(), exit_codes::INVALID_INPUT, "{e:?}");
        }
        let infrastructure = [
            HarnessError::CreateRunDir {
                path: "r".into(),
                source: io("denied"),
            },
            HarnessError::Runtime(io("no threads")),
            HarnessError::FarmStart(io("no port")),
            HarnessError::FarmListen {
                addr: "127.0.0.1:4723".parse().unwrap(),
                source: io("in use"),
            },
            HarnessError::FarmStopped(io("reset")),
            HarnessError::WriteReports(ReportError::Write {
                path: "r/junit.xml".into(),
                source: io("full"),
            }),
            HarnessError::Host(HostError::Invalid { what: "x".into() }),
            HarnessError::Device(DriverError::unreachable("no simulator")),
            HarnessError::SimulatorBooted {
                name: "iPhone 16".into(),
                state: "Booted".into(),
                udid: "U".into(),
            },
        ];
        for e in &infrastructure {
            assert_eq!(e.exit_code(), exit_codes::INFRASTRUCTURE, "{e:?}");
        }
    }

    #[test]
    fn render_prints_the_message_then_its_causes() {
        let e = HarnessError::WriteReports(ReportError::Write {
            path: "reports/x/junit.xml".into(),
            source: io("disk full"),
        });
        assert_eq!(
            e.render(),
            "error: cannot write reports/x/junit.xml\n  caused by: disk full\n"
        );
        let e = HarnessError::CreateRunDir {
            path: "reports/r1".into(),
            source: io("denied"),
        };
        assert_eq!(e.render(), "error: cannot create reports/r1\n  caused by: denied\n");
        assert_eq!(
            HarnessError::NothingToRun.render(),
            "error: nothing to run: no flow matches the tag filters (or the shard is empty)\n"
        );
        assert_eq!(
            HarnessError::NoFlowFiles {
                paths: vec!["a".into(), "b/c".into()]
            }
            .render(),
            "error: no flow files in a, b/c (hint: harness run FLOW.yaml…)\n"
        );
    }

    #[test]
    fn missing_secrets_are_one_line_each() {
        let e = HarnessError::MissingSecrets {
            missing: vec![
                MissingSecret {
                    name: "HARNESS_EMAIL".into(),
                    app: "clerk".into(),
                },
                MissingSecret {
                    name: "HARNESS_PASSWORD".into(),
                    app: "clerk".into(),
                },
            ],
        };
        assert_eq!(
            e.render(),
            "error: HARNESS_EMAIL is not set: app profile 'clerk' needs it (export HARNESS_EMAIL=… or pass -e HARNESS_EMAIL=…)\n\
             error: HARNESS_PASSWORD is not set: app profile 'clerk' needs it (export HARNESS_PASSWORD=… or pass -e HARNESS_PASSWORD=…)\n"
        );
        assert!(e.to_string().contains("HARNESS_EMAIL is not set") && e.to_string().contains("; HARNESS_PASSWORD"));
    }

    #[test]
    fn diagnostics_come_first_with_their_location() {
        let d = Diagnostic {
            severity: Severity::Error,
            file: "bad.yaml".into(),
            line: 3,
            column: 3,
            key: String::new(),
            message: "unknown command 'tapon'".into(),
            hint: None,
        };
        let e = HarnessError::InvalidFlows {
            diagnostics: vec![d],
            sources: BTreeMap::from([(PathBuf::from("bad.yaml"), "appId: a\n---\n- tapon: X\n".to_string())]),
        };
        let text = e.render();
        assert!(
            text.starts_with("bad.yaml:3:3: error: unknown command 'tapon'"),
            "{text}"
        );
        assert!(text.contains("3 | - tapon: X"), "{text}");
        assert!(
            text.ends_with("error: the flows are invalid; nothing ran (run `harness check` for details)\n"),
            "{text}"
        );
        let e = HarnessError::InvalidDeviceProfile {
            path: Path::new("devices/x.yaml").into(),
            diagnostics: vec![],
            source_text: None,
        };
        assert_eq!(e.render(), "error: cannot load device profile devices/x.yaml\n");
    }

    #[test]
    fn chain_joins_the_sources_on_one_line() {
        let e = ReportError::Write {
            path: "a/b".into(),
            source: io("full"),
        };
        assert_eq!(chain(&e), "cannot write a/b: full");
        let e = crate::run::session::SessionError::from(DriverError::unreachable("refused"));
        assert!(
            chain(&e).starts_with("the device server is unreachable: refused"),
            "{}",
            chain(&e)
        );
    }
}
