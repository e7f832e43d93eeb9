//! Flows made of flows: `runFlow` (a file or inline commands, with `env` and a `when`
//! condition), `repeat` (`times`, `while`), `retry` (`maxRetries`), and the conditions
//! (`platform`, `visible`, `notVisible`, and JavaScript `true:`, evaluated in `script.rs`).

use std::path::Path;

use crate::exec::{Executor, InfraError, Run, StepError};
use crate::flow::model::{Condition, ConditionPlatform, FlowSource, Step, Template};
use crate::load::resolve;

/// `repeat` with only `while` gives up after this many rounds.
pub const MAX_WHILE_ROUNDS: u32 = 1000;

impl<'a> Executor<'a> {
    /// Whether a `when`/`while` condition holds now.
    pub(crate) async fn condition(&mut self, c: &Condition) -> Result<bool, StepError> {
        if let Some(p) = c.platform
            && p != ConditionPlatform::Device(self.device.platform())
        {
            return Ok(false);
        }
        if c.script.is_some() && !self.script_condition(c).await? {
            return Ok(false);
        }
        if c.visible.is_some() || c.not_visible.is_some() {
            let tree = self.tree().await?;
            if let Some(s) = &c.visible
                && self.matches(&tree, s)?.is_empty()
            {
                return Ok(false);
            }
            if let Some(s) = &c.not_visible
                && !self.matches(&tree, s)?.is_empty()
            {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Runs a sub-flow's commands in a new `env` scope. A sub-flow file with its own `app:`
    /// reads the auth state through that app profile while it runs.
    pub(crate) async fn sub_flow(
        &mut self,
        file: &Path,
        source: &FlowSource,
        env: &[(String, Template)],
    ) -> Result<(), StepError> {
        let scope = self.step_scope(env).await?;
        self.vars.push(scope);
        let r = match source {
            FlowSource::Inline(steps) => self.steps(file, steps).await,
            FlowSource::File(written) => {
                let sub = resolve(file, written);
                match self.flows.flows.get(&sub) {
                    None => Err(InfraError::NotLoaded {
                        what: "sub-flow",
                        path: sub.display().to_string(),
                    }
                    .into()),
                    Some(flow) => {
                        let saved_app = self.app;
                        if flow.header.app.is_some() {
                            self.app = self.flows.app_of(&sub).or(saved_app);
                        }
                        let r = Box::pin(self.enter_file(&sub, flow)).await;
                        self.app = saved_app;
                        r
                    }
                }
            }
        };
        self.vars.pop();
        r
    }

    /// `runFlow`: skipped when its `when` condition does not hold.
    pub(crate) async fn run_flow_step(
        &mut self,
        file: &Path,
        source: &FlowSource,
        when: Option<&Condition>,
        env: &[(String, Template)],
    ) -> Result<Run, StepError> {
        if let Some(c) = when
            && !self.condition(c).await?
        {
            return Ok(Run::Skipped);
        }
        self.sub_flow(file, source, env).await?;
        Ok(Run::Done)
    }

    /// `repeat`: `times` rounds, while the `while` condition holds.
    pub(crate) async fn repeat(
        &mut self,
        file: &Path,
        times: Option<u32>,
        while_: Option<&Condition>,
        commands: &[Step],
    ) -> Result<(), StepError> {
        let max = times.unwrap_or(u32::MAX);
        let mut n = 0;
        while n < max {
            if let Some(c) = while_
                && !self.condition(c).await?
            {
                break;
            }
            self.steps(file, commands).await?;
            n += 1;
            if times.is_none() && n >= MAX_WHILE_ROUNDS {
                return Err(StepError::failed(
                    "repeat: the `while` condition still held after 1000 rounds",
                ));
            }
        }
        Ok(())
    }

    /// `retry`: the sub-flow again after a failure, up to `maxRetries` (default 1) more
    /// times; an infrastructure error is not retried.
    pub(crate) async fn retry(
        &mut self,
        file: &Path,
        max_retries: Option<u32>,
        source: &FlowSource,
        env: &[(String, Template)],
    ) -> Result<(), StepError> {
        let tries = max_retries.unwrap_or(1) + 1;
        let mut last = None;
        for _ in 0..tries {
            match self.sub_flow(file, source, env).await {
                Ok(()) => {
                    last = None;
                    break;
                }
                Err(e @ StepError::Infra(_)) => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        match last {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::driver::DriverError;
    use crate::driver::fake::{FakeDevice, FakeEvent, Node, screen};
    use crate::exec::testing::World;
    use crate::platform::Platform;
    use crate::results::StepStatus;

    fn statuses(out: &crate::exec::FlowOutcome) -> Vec<(String, u32, StepStatus)> {
        out.steps.iter().map(|s| (s.name.clone(), s.depth, s.status)).collect()
    }

    #[tokio::test]
    async fn run_flow_when_platform_runs_only_on_that_platform() {
        let w = World::new()
            .file("flows/android-only.yaml", "appId: com.example.app\n---\n- back\n")
            .root("appId: com.example.app\n---\n- runFlow: {file: android-only.yaml, when: {platform: Android}}\n- hideKeyboard\n");
        let mut ios = FakeDevice::ios();
        let out = w.run(&mut ios).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(
            statuses(&out),
            [
                ("runFlow android-only.yaml".into(), 0, StepStatus::Skipped),
                ("hideKeyboard".into(), 0, StepStatus::Passed),
            ]
        );
        assert_eq!(ios.actions(), [FakeEvent::HideKeyboard]);
        let mut android = FakeDevice::android();
        let out = w.run(&mut android).await;
        assert_eq!(
            statuses(&out),
            [
                ("runFlow android-only.yaml".into(), 0, StepStatus::Passed),
                ("back".into(), 1, StepStatus::Passed),
                ("hideKeyboard".into(), 0, StepStatus::Passed),
            ]
        );
        assert_eq!(android.actions(), [FakeEvent::PressBack, FakeEvent::HideKeyboard]);
    }

    #[tokio::test]
    async fn sub_flows_get_their_env_and_the_header_env_of_their_file() {
        let w = World::new()
            .file(
                "flows/sub.yaml",
                "appId: com.example.app\nenv:\n  GREETING: hi ${WHO}\n---\n- inputText: ${GREETING}\n",
            )
            .root("appId: com.example.app\n---\n- runFlow: {file: sub.yaml, env: {WHO: there}}\n- inputText: ${WHO}\n");
        let mut d = FakeDevice::android();
        let out = w.run(&mut d).await;
        // The scope ends with the sub-flow.
        assert_eq!(out.error.unwrap().message(), "variable 'WHO' is not defined");
        assert_eq!(
            d.actions()[0],
            FakeEvent::TypeText {
                text: "hi there".into(),
                sensitive: false
            }
        );
    }

    #[tokio::test]
    async fn when_visible_and_not_visible_look_at_the_screen() {
        let w = World::flow(
            "- runFlow: {when: {visible: {id: banner}}, commands: [back]}\n- runFlow: {when: {notVisible: {id: banner}}, commands: [hideKeyboard]}\n",
        );
        let mut d = FakeDevice::android().showing(screen(Platform::Android, &[Node::id("banner")]));
        assert!(w.run(&mut d).await.error.is_none());
        assert_eq!(d.actions(), [FakeEvent::PressBack]);
    }

    #[tokio::test]
    async fn repeat_times_and_while() {
        let w = World::flow("- repeat: {times: 3, commands: [back]}\n");
        let mut d = FakeDevice::android();
        assert!(w.run(&mut d).await.error.is_none());
        assert_eq!(d.count(|e| *e == FakeEvent::PressBack), 3);

        // While the banner shows: each back removes one of two banners.
        let w = World::flow("- repeat: {while: {visible: {id: banner}}, commands: [back]}\n");
        let banner = screen(Platform::Android, &[Node::id("banner")]);
        let mut d = FakeDevice::android().showing(banner.clone());
        let mut left = 2;
        d.react(move |e, s| {
            if *e == FakeEvent::PressBack {
                left -= 1;
                if left == 0 {
                    s.show(screen(Platform::Android, &[]));
                }
            }
        });
        assert!(w.run(&mut d).await.error.is_none());
        assert_eq!(d.count(|e| *e == FakeEvent::PressBack), 2);

        // A `while` that always holds stops after 1000 rounds.
        let mut d = FakeDevice::android().showing(banner);
        let e = w.run(&mut d).await.error.unwrap();
        assert_eq!(
            e.message(),
            "repeat: the `while` condition still held after 1000 rounds"
        );
        assert_eq!(d.count(|e| *e == FakeEvent::PressBack), 1000);
    }

    #[tokio::test]
    async fn retry_reruns_failures_but_not_infrastructure_errors() {
        let w = World::flow("- retry: {maxRetries: 2, commands: [{assertVisible: {id: ok}}]}\n");
        let empty = screen(Platform::Android, &[]);
        let ok = screen(Platform::Android, &[Node::id("ok")]);
        // 17 s at 1000× is two looks: the first try fails, the second passes.
        let mut d = FakeDevice::android().screens([empty.clone(), empty, ok]);
        let out = w.run_with(&mut d, |e| e.with_time_scale(1000.0)).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(
            statuses(&out),
            [
                ("retry".into(), 0, StepStatus::Passed),
                ("assertVisible id=ok".into(), 1, StepStatus::Failed),
                ("assertVisible id=ok".into(), 1, StepStatus::Passed),
            ]
        );

        // Always failing: 3 tries, the last failure is the step's.
        let mut d = FakeDevice::android();
        let out = w.run_with(&mut d, |e| e.with_time_scale(1000.0)).await;
        let tries = out.steps.iter().filter(|s| s.name == "assertVisible id=ok").count();
        assert_eq!(tries, 3);
        assert_eq!(out.steps[0].status, StepStatus::Failed);
        assert_eq!(
            out.error.unwrap().message(),
            "assertVisible: id=ok is not visible after 17 s"
        );

        // An infrastructure error ends the retry at once.
        let w = World::flow("- retry: {maxRetries: 5, commands: [back]}\n");
        let mut d = FakeDevice::android();
        d.fail(|e| *e == FakeEvent::PressBack, || DriverError::session_lost("gone"));
        let out = w.run(&mut d).await;
        assert!(out.error.unwrap().is_infrastructure());
        assert_eq!(d.count(|e| *e == FakeEvent::PressBack), 1);
    }

    #[tokio::test]
    async fn a_sub_flow_that_was_not_loaded_is_an_infrastructure_error() {
        let w = World::new().root("appId: com.example.app\n---\n- runFlow: missing.yaml\n");
        let e = w.run(&mut FakeDevice::android()).await.error.unwrap();
        assert!(e.is_infrastructure());
        assert_eq!(e.message(), "sub-flow flows/missing.yaml was not loaded");
    }
}
