//! Why a step did not pass: a test failure ([`StepError::Failed`]) or an infrastructure
//! error ([`StepError::Infra`], typed by [`InfraError`], with the device error as its source).
//!
//! The step loop redacts secret values from an error ([`StepError::redacted`]) before its
//! message reaches a [`crate::results::StepResult`] or the flow's outcome.

use crate::driver::DriverError;
use crate::driver::hierarchy::HierarchyError;
use crate::exec::diagnose::Diagnosis;
use crate::platform::Platform;

/// Why a step did not pass.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// An assertion did not hold (a test failure).
    #[error("{message}")]
    Failed {
        message: String,
        diagnosis: Option<Diagnosis>,
    },
    /// The device or server failed, or the harness cannot run the step (an infrastructure
    /// error: the case is an `error`, never a plain failure).
    #[error(transparent)]
    Infra(#[from] InfraError),
}

/// An infrastructure error of a step.
#[derive(Debug, thiserror::Error)]
pub enum InfraError {
    /// The device failed (session lost, server unreachable, a command it lacks, a host tool).
    #[error("{0}")]
    Driver(#[source] DriverError),
    /// The device answered a page source that is not readable XML.
    #[error("unreadable page source: {0}")]
    UnreadableSource(#[source] HierarchyError),
    /// A command this executor cannot run yet.
    #[error("'{command}' is not supported by `harness run` yet")]
    Unsupported { command: &'static str },
    /// A flow file the run needs was not loaded (`what`: `flow`, `sub-flow`).
    #[error("{what} {path} was not loaded")]
    NotLoaded { what: &'static str, path: String },
    /// `launchApp` names another app than the one the device session drives.
    #[error("launchApp {requested}: this device session drives {driven} only")]
    OtherApp { requested: String, driven: String },
    /// The device's screenshot is not an image the comparison can read.
    #[error("assertScreenshot: {0}")]
    UnreadableScreenshot(#[source] crate::visual::CompareError),
    /// `assertKeychain` on a device whose secure storage cannot be read.
    #[error(
        "assertKeychain: secure storage cannot be read on this {} device (use a virtual device, an Android debuggable build, or the iOS simulator host tools)",
        .platform.name()
    )]
    StorageUnreadable { platform: Platform },
    /// `assertKeychain: {unchanged, since}` names a snapshot taken without secure storage.
    #[error("snapshot '{snapshot}' could not read secure storage on this device")]
    SnapshotWithoutStorage { snapshot: String },
    /// An error whose message had a secret value that could not be redacted in its parts:
    /// only the redacted message is kept.
    #[error("{0}")]
    Redacted(String),
}

impl StepError {
    /// An assertion failure without a diagnosis.
    pub fn failed(message: impl Into<String>) -> Self {
        StepError::Failed {
            message: message.into(),
            diagnosis: None,
        }
    }

    /// The message, as the step's result shows it.
    pub fn message(&self) -> String {
        self.to_string()
    }

    pub fn diagnosis(&self) -> Option<&Diagnosis> {
        match self {
            StepError::Failed { diagnosis, .. } => diagnosis.as_ref(),
            StepError::Infra(_) => None,
        }
    }

    pub fn is_infrastructure(&self) -> bool {
        matches!(self, StepError::Infra(_))
    }

    /// The same error with every secret value replaced (`redact` replaces them in a text).
    pub fn redacted(self, redact: &dyn Fn(&str) -> String) -> Self {
        match self {
            StepError::Failed { message, diagnosis } => StepError::Failed {
                message: redact(&message),
                diagnosis,
            },
            StepError::Infra(e) => StepError::Infra(e.redacted(redact)),
        }
    }
}

impl From<DriverError> for StepError {
    /// A device error is an infrastructure error, except a command the device ran and
    /// refused ([`DriverError::Command`]), which is the step failing.
    fn from(e: DriverError) -> Self {
        if e.is_infrastructure() {
            StepError::Infra(InfraError::Driver(e))
        } else {
            StepError::failed(e.to_string())
        }
    }
}

impl From<HierarchyError> for StepError {
    fn from(e: HierarchyError) -> Self {
        StepError::Infra(InfraError::UnreadableSource(e))
    }
}

impl InfraError {
    /// The same error with every secret value replaced. The variant and its source are kept
    /// when redacting each text in it gives the same message as redacting the whole message;
    /// otherwise (a secret across two fields) only the redacted message is kept.
    pub fn redacted(self, redact: &dyn Fn(&str) -> String) -> Self {
        let message = self.to_string();
        let whole = redact(&message);
        if whole == message {
            return self;
        }
        let r = |s: String| redact(&s);
        let parts = match self {
            InfraError::Driver(DriverError::Unsupported { command, message }) => {
                InfraError::Driver(DriverError::Unsupported {
                    command: r(command),
                    message: r(message),
                })
            }
            InfraError::Driver(DriverError::Command { command, message }) => InfraError::Driver(DriverError::Command {
                command: r(command),
                message: r(message),
            }),
            // The other driver errors keep causes that cannot be redacted in place.
            InfraError::Driver(_) => InfraError::Redacted(whole.clone()),
            InfraError::NotLoaded { what, path } => InfraError::NotLoaded { what, path: r(path) },
            InfraError::OtherApp { requested, driven } => InfraError::OtherApp {
                requested: r(requested),
                driven: r(driven),
            },
            InfraError::SnapshotWithoutStorage { snapshot } => {
                InfraError::SnapshotWithoutStorage { snapshot: r(snapshot) }
            }
            other @ (InfraError::UnreadableSource(_)
            | InfraError::UnreadableScreenshot(_)
            | InfraError::Unsupported { .. }
            | InfraError::StorageUnreadable { .. }
            | InfraError::Redacted(_)) => other,
        };
        if parts.to_string() == whole {
            parts
        } else {
            InfraError::Redacted(whole)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    fn stars(s: &str) -> String {
        s.replace("hunter22", "***")
    }

    #[test]
    fn messages_keep_their_meaning() {
        let e = StepError::from(InfraError::Unsupported { command: "swipe" });
        assert_eq!(e.message(), "'swipe' is not supported by `harness run` yet");
        assert!(e.is_infrastructure());
        let e = StepError::from(InfraError::StorageUnreadable {
            platform: Platform::Ios,
        });
        assert!(
            e.message()
                .starts_with("assertKeychain: secure storage cannot be read on this iOS device")
        );
        let e = StepError::from(DriverError::session_lost("server restarted"));
        assert_eq!(e.message(), "the device session was lost: server restarted");
        assert!(e.is_infrastructure());
        assert!(matches!(
            e.source().and_then(|s| s.downcast_ref::<DriverError>()),
            Some(DriverError::SessionLost { .. })
        ));
        // A command the device refused is the step failing, not the infrastructure.
        let e = StepError::from(DriverError::Command {
            command: "tap".into(),
            message: "no element".into(),
        });
        assert!(!e.is_infrastructure());
        assert_eq!(e.message(), "tap failed: no element");
    }

    #[test]
    fn redaction_keeps_the_type_and_the_source_when_it_can() {
        let e = InfraError::Driver(DriverError::Command {
            command: "type".into(),
            message: "cannot type hunter22".into(),
        })
        .redacted(&stars);
        assert_eq!(e.to_string(), "type failed: cannot type ***");
        let InfraError::Driver(DriverError::Command { message, .. }) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(message, "cannot type ***");
        // A secret split across two fields: only the redacted message is kept.
        let split = InfraError::Driver(DriverError::Command {
            command: "x hunter".into(),
            message: "22 y".into(),
        });
        let e = split.redacted(&|s: &str| s.replace("hunter failed: 22", "***"));
        assert!(matches!(&e, InfraError::Redacted(m) if m == "x *** y"), "{e:?}");
        // Nothing secret: unchanged.
        let e = StepError::from(InfraError::Unsupported { command: "scroll" }).redacted(&stars);
        assert!(matches!(
            e,
            StepError::Infra(InfraError::Unsupported { command: "scroll" })
        ));
        let e = StepError::failed("typed hunter22").redacted(&stars);
        assert_eq!(e.message(), "typed ***");
    }
}
