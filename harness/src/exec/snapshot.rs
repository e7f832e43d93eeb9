//! `snapshot: NAME`: what secure storage (digests, never values), the app state and the
//! auth state were at a point of the flow, with a screenshot and the page source (secrets
//! redacted) saved through the artifact sink. `assertKeychain: {unchanged, since}` compares
//! against it.

use crate::driver::{DriverError, StorageSource};
use crate::exec::session::auth_name;
use crate::exec::storage::digest_entries;
use crate::exec::{Executor, StepError};
use crate::results::Snapshot;

impl<'a> Executor<'a> {
    /// `snapshot: NAME`.
    pub(crate) async fn snapshot(&mut self, name: &str) -> Result<(), StepError> {
        let at_ms = (self.now() - self.started).as_millis() as u64;
        let (storage_source, storage) = match self.device.secure_storage().await {
            Ok(read) => (read.source, digest_entries(&read)),
            Err(e) if e.is_infrastructure() && !matches!(e, DriverError::Unsupported { .. }) => return Err(e.into()),
            Err(_) => (StorageSource::Unavailable, vec![]),
        };
        let app_state = self.device.app_state().await.ok();
        let auth = if self.app.is_some() {
            auth_name(&self.shown().await?)
        } else {
            "unknown"
        }
        .to_string();
        let png = self.device.screenshot().await.ok();
        let screenshot = self.save_artifact(&format!("{name}.png"), png);
        // Typed secrets (e.g. the identifier field) are visible in the page source: redacted.
        let xml = self
            .device
            .source()
            .await
            .ok()
            .map(|x| self.vars.redact(&x).into_bytes());
        let source = self.save_artifact(&format!("{name}.xml"), xml);
        self.out.snapshots.push(Snapshot {
            name: name.to_string(),
            at_ms,
            storage_source,
            storage,
            app_state,
            auth,
            screenshot,
            source,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::driver::fake::{FakeDevice, FakeEvent, Node, screen};
    use crate::driver::{DriverError, StorageSource};
    use crate::exec::testing::World;
    use crate::platform::Platform;

    #[tokio::test]
    async fn records_digests_state_auth_and_saves_artifacts_through_the_sink() {
        let w = World::app_flow("- launchApp\n- snapshot: signed-in\n").secret("hunter22");
        let home = screen(
            Platform::Android,
            &[Node::id("screen-home"), Node::id("password").with_text("hunter22")],
        );
        let mut d =
            FakeDevice::android()
                .showing(home)
                .storing("__clerk_client_jwt", "SecureStore.xml", "raw-token-value");
        let run = w.run_full(&mut d, |e| e).await;
        assert!(run.out.error.is_none(), "{:?}", run.out.error);
        let snap = &run.out.snapshots[0];
        assert_eq!(snap.name, "signed-in");
        assert_eq!(snap.auth, "signedIn");
        assert_eq!(snap.app_state, Some(4));
        assert_eq!(snap.storage_source, StorageSource::Virtual);
        assert_eq!(snap.storage[0].key, "__clerk_client_jwt");
        assert!(snap.storage[0].digest.starts_with("sha256:"));
        assert_eq!(snap.screenshot.as_deref(), Some("artifacts/signed-in.png"));
        assert_eq!(snap.source.as_deref(), Some("artifacts/signed-in.xml"));
        assert_eq!(
            run.out.artifacts,
            ["artifacts/signed-in.png", "artifacts/signed-in.xml"]
        );
        assert_eq!(run.file("signed-in.png"), d.script.screenshot);
        let xml = String::from_utf8(run.file("signed-in.xml")).unwrap();
        assert!(xml.contains("screen-home") && xml.contains("***"), "{xml}");
        assert!(
            !xml.contains("hunter22"),
            "the secret is redacted from the saved source"
        );
        let json = serde_json::to_string(&run.out.snapshots).unwrap();
        assert!(!json.contains("raw-token-value"), "values are never kept");
    }

    #[tokio::test]
    async fn storage_a_backend_cannot_read_is_recorded_as_unavailable() {
        let w = World::flow("- snapshot: s\n");
        let mut d = FakeDevice::ios();
        d.fail(
            |e| *e == FakeEvent::ReadStorage,
            || DriverError::Unsupported {
                command: "keychain".into(),
                message: "appium alone".into(),
            },
        );
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(out.snapshots[0].storage_source, StorageSource::Unavailable);
        assert_eq!(out.snapshots[0].auth, "unknown");
        // A lost session is not: the step is an infrastructure error.
        let mut d = FakeDevice::ios();
        d.fail(|e| *e == FakeEvent::ReadStorage, || DriverError::session_lost("gone"));
        let e = w.run(&mut d).await.error.unwrap();
        assert!(e.is_infrastructure());
        assert_eq!(e.message(), "the device session was lost: gone");
    }
}
