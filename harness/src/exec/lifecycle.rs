//! The app's lifecycle: `launchApp` (with Maestro's order: clear keychain, clear state,
//! permissions, stop, launch) and `stopApp`/`killApp`. A launch after a stop that keeps
//! storage is a cold start that can restore a session: it starts the restore timer
//! (`session.rs`).

use crate::driver::DriverError;
use crate::exec::{Executor, InfraError, StepError};
use crate::flow::model::LaunchApp;
use crate::platform::Platform;

impl<'a> Executor<'a> {
    /// `launchApp`.
    pub(crate) async fn launch_app(&mut self, l: &LaunchApp) -> Result<(), StepError> {
        if let Some(app_id) = &l.app_id {
            let id = self.vars.render(app_id)?;
            if id != self.device.app_id() {
                return Err(InfraError::OtherApp {
                    requested: id,
                    driven: self.device.app_id().to_string(),
                }
                .into());
            }
        }
        // Maestro's order: clearKeychain, clearState, permissions, launch.
        if l.clear_keychain == Some(true) {
            match self.device.clear_keychain().await {
                // Android keeps expo-secure-store in the app's data, which clearState wipes
                // right after: a backend that cannot clear it alone loses nothing here.
                Err(DriverError::Unsupported { .. })
                    if l.clear_state == Some(true) && self.device.platform() == Platform::Android => {}
                other => other?,
            }
        }
        if l.clear_state == Some(true) {
            self.device.clear_app().await?;
        }
        self.device.set_permissions(&l.permissions).await?;
        if l.stop_app != Some(false) && self.device.terminate_app().await? {
            self.restore.stopped();
        }
        // A cold start that can restore a session (storage kept): time the restoration.
        let keeps_storage = l.clear_state != Some(true) && l.clear_keychain != Some(true);
        let now = self.now();
        self.restore.launching(now, keeps_storage);
        self.forget_log_auth().await;
        self.device.launch_app_with(&l.arguments).await?;
        // Taken after every launch, kept for the first cold start that can restore.
        if let Some(ms) = self.device.take_cold_launch_ms().await
            && self.restore.timing()
        {
            self.out.cold_launch_ms.get_or_insert(ms);
        }
        Ok(())
    }

    /// `stopApp`, `killApp`.
    pub(crate) async fn stop_app(&mut self) -> Result<(), StepError> {
        self.device.terminate_app().await?;
        self.restore.stopped();
        self.forget_log_auth().await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::driver::DriverError;
    use crate::driver::fake::{FakeDevice, FakeEvent};
    use crate::exec::testing::World;
    use crate::flow::model::Permission;

    #[tokio::test]
    async fn an_android_backend_without_clear_keychain_is_covered_by_clear_state_only() {
        let unsupported = || DriverError::Unsupported {
            command: "clearKeychain".into(),
            message: "release build".into(),
        };
        let both = World::flow("- launchApp: {clearState: true, clearKeychain: true}\n");
        let mut d = FakeDevice::android();
        d.fail(|e| matches!(e, FakeEvent::ClearKeychain), unsupported);
        let out = both.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(d.count(|e| matches!(e, FakeEvent::ClearApp)), 1);
        // Alone, or on iOS, the refusal stands.
        let alone = World::flow("- launchApp: {clearKeychain: true}\n");
        let mut d = FakeDevice::android();
        d.fail(|e| matches!(e, FakeEvent::ClearKeychain), unsupported);
        assert!(alone.run(&mut d).await.error.is_some_and(|e| e.is_infrastructure()));
        let mut d = FakeDevice::ios();
        d.fail(|e| matches!(e, FakeEvent::ClearKeychain), unsupported);
        assert!(both.run(&mut d).await.error.is_some());
    }

    #[tokio::test]
    async fn launch_clears_sets_permissions_stops_and_launches_in_maestros_order() {
        let w = World::flow(
            "- launchApp:\n    clearState: true\n    clearKeychain: true\n    permissions: {camera: deny}\n    arguments: {mode: test}\n",
        );
        let mut d = FakeDevice::android().storing("k", "s", "v");
        d.script.app_state = 4;
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(
            d.actions(),
            [
                FakeEvent::ClearKeychain,
                FakeEvent::ClearApp,
                FakeEvent::SetPermissions(vec![("camera".into(), Permission::Deny)]),
                FakeEvent::Terminate,
                FakeEvent::Launch {
                    arguments: vec![("mode".into(), "test".into())]
                },
            ]
        );
        assert_eq!(d.script.app_state, 4);
        assert!(d.script.storage.is_empty());
    }

    #[tokio::test]
    async fn keep_running_launches_without_stopping_and_stop_kill_terminate() {
        let w = World::flow("- launchApp: {stopApp: false}\n- stopApp\n- killApp\n");
        let mut d = FakeDevice::android();
        assert!(w.run(&mut d).await.error.is_none());
        assert_eq!(
            d.actions(),
            [
                FakeEvent::SetPermissions(vec![]),
                FakeEvent::Launch { arguments: vec![] },
                FakeEvent::Terminate,
                FakeEvent::Terminate,
            ]
        );
    }

    #[tokio::test]
    async fn another_apps_id_is_an_infrastructure_error() {
        let w = World::flow("- launchApp: {appId: com.other}\n");
        let mut d = FakeDevice::android().with_app_id("com.example.app");
        let e = w.run(&mut d).await.error.unwrap();
        assert!(e.is_infrastructure());
        assert_eq!(
            e.message(),
            "launchApp com.other: this device session drives com.example.app only"
        );
        assert!(d.actions().is_empty());
    }
}
