//! Where screenshots, page sources and device logs go: an [`ArtifactSink`] the caller
//! provides (Maestro's rule: the executor does not know about file systems, it writes to
//! sinks). [`FsArtifacts`] writes files under a run directory; [`MemoryArtifacts`] keeps
//! them in memory (tests, callers that upload elsewhere).
//!
//! A missing artifact never fails a step or hides the real failure: a screenshot the device
//! cannot take or a file that cannot be written is logged and skipped.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::exec::Executor;

/// An artifact that could not be kept.
#[derive(Debug, thiserror::Error)]
#[error("cannot write artifact {path}: {source}")]
pub struct ArtifactError {
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

/// Keeps a flow's artifacts.
pub trait ArtifactSink: Send {
    /// Keeps `bytes` as `name` (a file name: `failure.png`, `before-quit.xml`); returns the
    /// path reports link to, relative to the run directory.
    fn save(&mut self, name: &str, bytes: &[u8]) -> Result<String, ArtifactError>;
}

impl<T: ArtifactSink + ?Sized> ArtifactSink for &mut T {
    fn save(&mut self, name: &str, bytes: &[u8]) -> Result<String, ArtifactError> {
        (**self).save(name, bytes)
    }
}

/// Files in a directory, linked as `rel/NAME` (the directory relative to the run directory).
#[derive(Clone, Debug)]
pub struct FsArtifacts {
    dir: PathBuf,
    rel: String,
}

impl FsArtifacts {
    pub fn new(dir: PathBuf, rel: String) -> Self {
        FsArtifacts { dir, rel }
    }
}

impl ArtifactSink for FsArtifacts {
    fn save(&mut self, name: &str, bytes: &[u8]) -> Result<String, ArtifactError> {
        let path = self.dir.join(name);
        let err = |source| ArtifactError {
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(err)?;
        std::fs::write(&path, bytes).map_err(err)?;
        Ok(format!("{}/{name}", self.rel))
    }
}

/// Artifacts kept in memory, by name, linked as `rel/NAME`.
#[derive(Clone, Debug, Default)]
pub struct MemoryArtifacts {
    rel: String,
    pub files: BTreeMap<String, Vec<u8>>,
}

impl MemoryArtifacts {
    pub fn new(rel: &str) -> Self {
        MemoryArtifacts {
            rel: rel.into(),
            files: BTreeMap::new(),
        }
    }
}

impl ArtifactSink for MemoryArtifacts {
    fn save(&mut self, name: &str, bytes: &[u8]) -> Result<String, ArtifactError> {
        self.files.insert(name.into(), bytes.to_vec());
        Ok(format!("{}/{name}", self.rel))
    }
}

impl<'a> Executor<'a> {
    /// Keeps an artifact, if there is one; returns its path and lists it in the outcome.
    pub(crate) fn save_artifact(&mut self, name: &str, bytes: Option<Vec<u8>>) -> Option<String> {
        match self.artifacts.save(name, &bytes?) {
            Ok(rel) => {
                self.out.artifacts.push(rel.clone());
                Some(rel)
            }
            Err(e) => {
                tracing::warn!("{e}");
                None
            }
        }
    }

    /// `takeScreenshot: PATH`: saved as `PATH.png`, slashes flattened.
    pub(crate) async fn take_screenshot(&mut self, path: &str) -> Result<(), crate::exec::StepError> {
        let png = self.device.screenshot().await?;
        let name = format!("{}.png", path.trim_end_matches(".png").replace(['/', '\\'], "_"));
        self.save_artifact(&name, Some(png));
        Ok(())
    }

    /// What a failed flow leaves behind: a screenshot, the page source and the device log of
    /// the flow so far, secrets redacted.
    pub(crate) async fn failure_artifacts(&mut self) {
        let shot = self.device.screenshot().await.ok();
        self.save_artifact("failure.png", shot);
        let src = self
            .device
            .source()
            .await
            .ok()
            .map(|x| self.vars.redact(&x).into_bytes());
        self.save_artifact("failure.xml", src);
        // The device log (the app's JS console) of this flow so far, secrets redacted.
        self.pull_logs().await;
        if !self.auth_log.lines.is_empty() {
            let text = self.vars.redact(&self.auth_log.lines.join("\n"));
            self.save_artifact("device.log", Some(text.into_bytes()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::DriverError;
    use crate::driver::fake::{FakeDevice, FakeEvent, Node, screen};
    use crate::exec::testing::World;
    use crate::platform::Platform;

    #[test]
    fn files_go_under_the_directory_and_are_linked_relative_to_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = FsArtifacts::new(dir.path().join("artifacts/f/d/1"), "artifacts/f/d/1".into());
        assert_eq!(sink.save("a.png", b"png").unwrap(), "artifacts/f/d/1/a.png");
        assert_eq!(std::fs::read(dir.path().join("artifacts/f/d/1/a.png")).unwrap(), b"png");
        // A file where the directory should be: an error, not a panic.
        let blocked = dir.path().join("file");
        std::fs::write(&blocked, b"x").unwrap();
        let e = FsArtifacts::new(blocked, "x".into()).save("a.png", b"png").unwrap_err();
        assert!(e.to_string().starts_with("cannot write artifact "), "{e}");
    }

    #[tokio::test]
    async fn screenshots_are_named_after_their_path() {
        let w = World::flow("- takeScreenshot: screens/sign-in.png\n");
        let run = w.run_full(&mut FakeDevice::android(), |e| e).await;
        assert!(run.out.error.is_none());
        assert_eq!(run.out.artifacts, ["artifacts/screens_sign-in.png"]);
        assert!(run.sink.files.contains_key("screens_sign-in.png"));
    }

    #[tokio::test]
    async fn a_failed_flow_leaves_screenshot_source_and_log_with_secrets_redacted() {
        let w = World::flow("- inputText: ${HARNESS_TEST_SECRET}\n- assertVisible: {id: nowhere}\n")
            .var("HARNESS_TEST_SECRET", "hunter22")
            .secret("hunter22");
        let typed = screen(Platform::Android, &[Node::id("password").with_text("hunter22")]);
        let mut d = FakeDevice::android().showing(typed);
        d.react(|e, s| {
            if let FakeEvent::TypeText { text, .. } = e {
                s.logs.push(format!("console.log typed {text}"));
            }
        });
        let run = w.run_full(&mut d, |e| e.with_time_scale(1000.0)).await;
        assert!(run.out.error.is_some());
        assert_eq!(
            run.out.artifacts,
            ["artifacts/failure.png", "artifacts/failure.xml", "artifacts/device.log"]
        );
        let xml = String::from_utf8(run.file("failure.xml")).unwrap();
        let log = String::from_utf8(run.file("device.log")).unwrap();
        assert!(xml.contains("***") && !xml.contains("hunter22"), "{xml}");
        assert_eq!(log, "console.log typed ***");
    }

    #[tokio::test]
    async fn artifacts_the_device_cannot_give_are_skipped() {
        let w = World::flow("- back\n- assertVisible: {id: nowhere}\n");
        let mut d = FakeDevice::android();
        d.fail(
            |e| matches!(e, FakeEvent::Screenshot | FakeEvent::Source | FakeEvent::PressBack),
            || DriverError::session_lost("gone"),
        );
        let run = w.run_full(&mut d, |e| e).await;
        assert_eq!(run.out.error.unwrap().message(), "the device session was lost: gone");
        assert!(run.out.artifacts.is_empty());
        assert!(run.sink.files.is_empty());
    }
}
