//! Where each YAML command is executed: one arm per [`Command`] variant, no catch-all, so a
//! new command does not compile until someone decides how it runs. Each arm hands the
//! command to the module of its concern (`gesture`, `wait`, `input`, `lifecycle`,
//! `session`, `storage`, `snapshot`, `artifacts`, `compose`) or to the one device call it
//! is. Commands the executor cannot run yet are listed in the last arm: each is an
//! infrastructure error ([`InfraError::Unsupported`]).

use std::path::Path;

use crate::exec::gesture::Gesture;
use crate::exec::{Executor, InfraError, Run, StepError};
use crate::flow::model::{Command, Network, Step};
use crate::load::command_name;

impl<'a> Executor<'a> {
    /// Runs one command (its step record is kept by the step loop).
    pub(crate) async fn execute(&mut self, file: &Path, step: &Step) -> Result<Run, StepError> {
        use Command as C;
        match &step.command {
            // App lifecycle.
            C::LaunchApp(l) => self.launch_app(l).await?,
            C::StopApp { .. } | C::KillApp { .. } => self.stop_app().await?,
            C::ClearState { .. } => self.device.clear_app().await?,
            C::ClearKeychain => self.device.clear_keychain().await?,
            C::SetPermissions { permissions, .. } => self.device.set_permissions(permissions).await?,
            C::OpenLink { link, .. } => {
                let url = self.vars.render(link)?;
                self.device.open_link(&url).await?;
            }

            // Touch and assertions on elements.
            C::TapOn(t) => self.tap(step, t, Gesture::Tap).await?,
            C::DoubleTapOn(t) => self.tap(step, t, Gesture::DoubleTap).await?,
            C::LongPressOn(t) => self.tap(step, t, Gesture::LongPress).await?,
            C::AssertVisible(s) => self.assert_visible(step, s).await?,
            C::AssertNotVisible(s) => self.assert_not_visible(step, s).await?,
            C::ExtendedWaitUntil {
                visible,
                not_visible,
                timeout,
            } => {
                self.extended_wait_until(visible.as_ref(), not_visible.as_ref(), *timeout)
                    .await?
            }
            C::CopyTextFrom(s) => self.copy_text_from(step, s).await?,

            // Text and keys.
            C::InputText(t) => self.input_text(t).await?,
            C::InputRandom { kind, length } => self.input_random(*kind, *length).await?,
            C::EraseText { characters } => self.erase_text(*characters).await?,
            C::PasteText => self.paste_text().await?,
            C::SetClipboard(t) => self.set_clipboard(t)?,
            C::Back => self.device.press_back().await?,
            C::PressKey(k) => match k.as_str() {
                "Back" => self.device.press_back().await?,
                "Home" => self.device.background(-1.0).await?,
                _ => return Err(unsupported(&step.command)),
            },
            C::HideKeyboard => self.device.hide_keyboard().await?,

            // Capture and waiting.
            C::TakeScreenshot { path, .. } => self.take_screenshot(path).await?,
            C::WaitForAnimationToEnd { timeout } => self.wait_for_animation(*timeout).await?,

            // Composition.
            C::RunFlow { source, when, env } => return self.run_flow_step(file, source, when.as_ref(), env).await,
            C::Repeat {
                times,
                while_,
                commands,
            } => self.repeat(file, *times, while_.as_ref(), commands).await?,
            C::Retry {
                max_retries,
                source,
                env,
            } => self.retry(file, *max_retries, source, env).await?,

            // Session commands.
            C::Snapshot(name) => self.snapshot(name).await?,
            C::AssertSession { state, within } => self.assert_session(*state, *within).await?,
            C::AssertConvex { authenticated, within } => self.assert_convex(*authenticated, *within).await?,
            C::AssertKeychain(check) => self.assert_keychain(check).await?,
            C::Background { duration } => self.device.background(duration.as_secs_f64()).await?,
            C::SetNetwork(n) => self.device.set_network(*n == Network::Online).await?,

            // Device settings and capture.
            C::SetLocation { latitude, longitude } => self.set_location(*latitude, *longitude).await?,
            C::Travel { points, speed } => self.travel(points, *speed).await?,
            C::SetOrientation(o) => self.set_orientation(*o).await?,
            C::SetAirplaneMode(on) => self.set_airplane_mode(Some(*on)).await?,
            C::ToggleAirplaneMode => self.set_airplane_mode(None).await?,
            C::SetDarkMode(on) => self.set_dark_mode(Some(*on)).await?,
            C::ToggleDarkMode => self.set_dark_mode(None).await?,
            C::AssertDarkMode => self.assert_dark_mode(true).await?,
            C::AssertLightMode => self.assert_dark_mode(false).await?,
            C::AddMedia(files) => self.add_media(file, files).await?,
            C::StartRecording { path } => self.start_recording(path).await?,
            C::StopRecording => self.stop_recording().await?,

            C::Swipe(s) => self.swipe(step, s).await?,
            C::Scroll => self.scroll().await?,
            C::ScrollUntilVisible {
                element,
                direction,
                timeout,
                speed,
                visibility_percentage,
                center_element,
                wait_to_settle_timeout_ms: _,
            } => {
                self.scroll_until_visible(
                    element,
                    *direction,
                    *timeout,
                    *speed,
                    *visibility_percentage,
                    *center_element,
                )
                .await?
            }
            C::AssertScreenshot {
                path,
                threshold_percentage,
                crop_on,
            } => {
                self.assert_screenshot(file, step, path, *threshold_percentage, crop_on.as_ref())
                    .await?
            }

            // JavaScript (`script.rs`).
            C::RunScript {
                file: written,
                env,
                when,
            } => {
                if let Some(c) = when
                    && !self.condition(c).await?
                {
                    return Ok(Run::Skipped);
                }
                self.run_script(file, written, env).await?
            }
            C::EvalScript(t) => self.eval_script(t).await?,
            C::AssertTrue(t) => self.assert_true(t).await?,

            // Not run by `harness run` (AI commands: `check` refuses them too).
            C::AssertWithAi { .. } | C::AssertNoDefectsWithAi | C::ExtractTextWithAi { .. } => {
                return Err(unsupported(&step.command));
            }
        }
        Ok(Run::Done)
    }
}

fn unsupported(c: &Command) -> StepError {
    InfraError::Unsupported {
        command: command_name(c),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::driver::fake::{FakeDevice, FakeEvent};
    use crate::exec::InfraError;
    use crate::exec::StepError;
    use crate::exec::testing::World;
    use crate::flow::model::*;
    use crate::results::StepStatus;

    /// One of every command the executor does not run.
    fn unsupported() -> Vec<Command> {
        vec![
            Command::AssertWithAi { assertion: "ok".into() },
            Command::AssertNoDefectsWithAi,
            Command::ExtractTextWithAi {
                query: "q".into(),
                output_variable: None,
            },
            Command::PressKey("Enter".into()),
        ]
    }

    #[tokio::test]
    async fn every_unsupported_command_is_an_infrastructure_error() {
        for command in unsupported() {
            let name = crate::load::command_name(&command);
            let w = World::steps(vec![Step::new(command)]);
            let mut d = FakeDevice::android();
            let out = w.run(&mut d).await;
            let Some(StepError::Infra(InfraError::Unsupported { command })) = &out.error else {
                panic!("{name}: {:?}", out.error);
            };
            assert_eq!(*command, name);
            assert_eq!(
                out.steps[0].message.as_deref(),
                Some(format!("'{name}' is not supported by `harness run` yet").as_str())
            );
            assert_eq!(out.steps[0].status, StepStatus::Error);
            assert!(d.actions().is_empty(), "{name}: {:?}", d.actions());
        }
    }

    #[tokio::test]
    async fn device_commands_make_their_one_call() {
        let w = World::steps(
            [
                Command::ClearState { app_id: None },
                Command::ClearKeychain,
                Command::SetPermissions {
                    app_id: None,
                    permissions: vec![("camera".into(), Permission::Allow)],
                },
                Command::OpenLink {
                    link: Template::literal("myapp://home"),
                    browser: None,
                    auto_verify: None,
                },
                Command::Back,
                Command::PressKey("Back".into()),
                Command::PressKey("Home".into()),
                Command::HideKeyboard,
                Command::Background {
                    duration: Duration::from_secs(70),
                },
                Command::SetNetwork(Network::Offline),
            ]
            .into_iter()
            .map(Step::new)
            .collect(),
        );
        let mut d = FakeDevice::android();
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(
            d.actions(),
            [
                FakeEvent::ClearApp,
                FakeEvent::ClearKeychain,
                FakeEvent::SetPermissions(vec![("camera".into(), Permission::Allow)]),
                FakeEvent::OpenLink("myapp://home".into()),
                FakeEvent::PressBack,
                FakeEvent::PressBack,
                FakeEvent::Background { seconds: -1.0 },
                FakeEvent::HideKeyboard,
                FakeEvent::Background { seconds: 70.0 },
                FakeEvent::SetNetwork { online: false },
            ]
        );
    }
}
