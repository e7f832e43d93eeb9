//! JavaScript in flows: `runScript`, `evalScript`, `assertTrue`, `when: {true: …}`, the
//! `${expression}` parts of templates, and typed fields written as `${…}` (resolved before
//! their step runs).
//!
//! The flow's engine ([`Js`]) starts on the first evaluation, so a flow without JavaScript
//! starts no thread, and it stops when the flow ends (`run_flow`). It is one per flow run:
//! `output` is shared by the flow and every sub-flow. Scripts see the variables of the
//! step's scope (`-e`, `env` scopes, built-ins; not the process environment), and
//! `maestro.copiedText` follows the flow's clipboard. `console.log` lines go to the case's
//! device log (saved with the failure artifacts, secrets redacted).

use std::path::Path;

use crate::exec::{Executor, InfraError, StepError};
use crate::flow::model::{Command, Condition, Part, Step, Template};
use crate::js::{Evaluated, Js, JsConfig, JsError};
use crate::load::resolve;

/// Prefix of the device-log lines scripts write.
pub const LOG_PREFIX: &str = "[js] ";

impl<'a> Executor<'a> {
    /// The flow's engine, started on first use.
    async fn js(&mut self) -> Result<&Js, StepError> {
        if self.js.is_none() {
            let mut config = JsConfig::new(self.device.platform());
            config.secrets = self.vars.secrets().to_vec();
            let js = Js::start(config).map_err(engine_error)?;
            js.set_copied_text(self.clipboard.clone());
            self.js = Some(js);
        }
        Ok(self.js.as_ref().expect("started above"))
    }

    /// Tells the engine what `maestro.copiedText` is now (after `copyTextFrom`,
    /// `setClipboard`); nothing when no engine runs yet (it reads the clipboard when it
    /// starts).
    pub(crate) fn sync_copied_text(&self) {
        if let Some(js) = &self.js {
            js.set_copied_text(self.clipboard.clone());
        }
    }

    /// Evaluates an expression (`script: None`) or runs a script file's source, in the
    /// current scope plus `extra` variables; `console.log` lines go to the device log.
    async fn evaluate(
        &mut self,
        what: &str,
        source: &str,
        script: Option<&str>,
        extra: &[(String, String)],
    ) -> Result<Evaluated, StepError> {
        let mut vars = self.vars.js_vars();
        vars.extend(extra.iter().cloned());
        let js = self.js().await?;
        let r = match script {
            Some(name) => js.run_script(source, name, &vars).await,
            None => js.eval(source, &vars).await,
        };
        let logs = match &r {
            Ok(ev) => ev.logs.clone(),
            Err(JsError::Thrown { logs, .. }) => logs.clone(),
            Err(_) => vec![],
        };
        self.auth_log
            .lines
            .extend(logs.iter().map(|l| format!("{LOG_PREFIX}{}", self.vars.redact(l))));
        r.map_err(|e| match e {
            JsError::Engine(_) => engine_error(e),
            e => StepError::failed(format!("{what}: {e}")),
        })
    }

    /// A template's text: variables looked up, expressions evaluated. An undefined
    /// variable fails the step, naming it.
    pub(crate) async fn render_full(&mut self, t: &Template) -> Result<String, StepError> {
        let mut out = String::new();
        for p in &t.parts {
            match p {
                Part::Text(s) => out.push_str(s),
                Part::Var(v) => out.push_str(
                    &self
                        .vars
                        .lookup(v)
                        .ok_or_else(|| StepError::failed(format!("variable '{v}' is not defined")))?,
                ),
                Part::Script(e) => {
                    let ev = self.evaluate(&format!("${{{e}}}"), e, None, &[]).await?;
                    out.push_str(&ev.text);
                }
            }
        }
        Ok(out)
    }

    /// A flow header's `env`: each value may use the entries above it; an unknown variable
    /// renders as empty (the loader has warned about it); an expression that throws fails
    /// the flow.
    pub(crate) async fn header_scope(
        &mut self,
        env: &[(String, Template)],
    ) -> Result<std::collections::BTreeMap<String, String>, StepError> {
        if !env.iter().any(|(_, t)| t.scripts().next().is_some()) {
            return Ok(self.vars.header_scope(env));
        }
        let mut scope = std::collections::BTreeMap::new();
        for (k, t) in env {
            let mut out = String::new();
            for p in &t.parts {
                match p {
                    Part::Text(s) => out.push_str(s),
                    Part::Var(v) => out.push_str(
                        &scope
                            .get(v)
                            .cloned()
                            .or_else(|| self.vars.lookup(v))
                            .unwrap_or_default(),
                    ),
                    Part::Script(e) => {
                        let extra: Vec<(String, String)> = scope
                            .iter()
                            .map(|(k, v): (&String, &String)| (k.clone(), v.clone()))
                            .collect();
                        let what = format!("env {k}: ${{{e}}}");
                        out.push_str(&self.evaluate(&what, e, None, &extra).await?.text);
                    }
                }
            }
            scope.insert(k.clone(), out);
        }
        Ok(scope)
    }

    /// A `runFlow`/`retry` step's `env`: every variable must be defined.
    pub(crate) async fn step_scope(
        &mut self,
        env: &[(String, Template)],
    ) -> Result<std::collections::BTreeMap<String, String>, StepError> {
        let mut scope = std::collections::BTreeMap::new();
        for (k, v) in env {
            scope.insert(k.clone(), self.render_full(v).await?);
        }
        Ok(scope)
    }

    /// Whether a `true:` / `assertTrue` value holds: JavaScript truthiness for one
    /// expression, otherwise the text must not be empty, `false`, `0`, `null` or
    /// `undefined`. Also gives the expression and its value, for messages.
    async fn truthy(&mut self, what: &str, t: &Template) -> Result<(bool, String, String), StepError> {
        if let [Part::Script(e)] = t.parts.as_slice() {
            let ev = self.evaluate(what, e, None, &[]).await?;
            return Ok((ev.truthy, e.clone(), ev.json.to_string()));
        }
        let text = self.render_full(t).await?;
        let holds = !matches!(text.trim(), "" | "false" | "0" | "null" | "undefined");
        Ok((holds, t.to_string(), format!("{text:?}")))
    }

    /// `when: {true: …}` / `while: {true: …}`.
    pub(crate) async fn script_condition(&mut self, c: &Condition) -> Result<bool, StepError> {
        match &c.script {
            Some(t) => Ok(self.truthy("when.true", t).await?.0),
            None => Ok(true),
        }
    }

    /// The step as it runs: typed fields written as `${…}` read with their resolved values
    /// (an invalid value fails the step, naming the field, the value and what is expected),
    /// and the expressions of its templates evaluated. `None`: the step runs as written.
    pub(crate) async fn prepare(&mut self, file: &Path, step: &Step) -> Result<Option<Step>, StepError> {
        let js_command = matches!(
            step.command,
            Command::RunScript { .. } | Command::EvalScript(_) | Command::AssertTrue(_)
        );
        let has_scripts = !js_command
            && crate::load::templates(&step.command)
                .iter()
                .any(|t| t.parts.iter().any(|p| matches!(p, Part::Script(_))));
        if step.deferred.is_empty() && !has_scripts {
            return Ok(None);
        }
        let mut command = if step.deferred.is_empty() {
            step.command.clone()
        } else {
            let mut values = Vec::new();
            for d in &step.deferred {
                values.push(self.render_full(&d.template).await?);
            }
            crate::flow::parse::resolve_deferred(step, &values, file).map_err(|diags| {
                let d = diags.first();
                let message = d.map(|d| d.message.clone()).unwrap_or_else(|| "invalid value".into());
                let key = d.map(|d| d.key.clone()).unwrap_or_default();
                let from = d
                    .and_then(|d| {
                        step.deferred
                            .iter()
                            .find(|x| (x.loc.0.line, x.loc.0.column) == (d.line, d.column))
                    })
                    .map(|x| format!(" (from `{}`)", x.template))
                    .unwrap_or_default();
                StepError::failed(format!("{key}: {message}{from}"))
            })?
        };
        if !js_command {
            let exprs: Vec<String> = command
                .templates_mut()
                .iter()
                .flat_map(|t| t.parts.iter())
                .filter_map(|p| match p {
                    Part::Script(e) => Some(e.clone()),
                    _ => None,
                })
                .collect();
            let mut values = Vec::new();
            for e in &exprs {
                values.push(self.evaluate(&format!("${{{e}}}"), e, None, &[]).await?.text);
            }
            let mut values = values.into_iter();
            for t in command.templates_mut() {
                for p in t.parts.iter_mut() {
                    if matches!(p, Part::Script(_)) {
                        *p = Part::Text(values.next().unwrap_or_default());
                    }
                }
            }
        }
        Ok(Some(Step {
            command,
            ..step.clone()
        }))
    }

    /// `runScript`: the file (read when the flows were loaded) with `env` as variables;
    /// skipped when its `when` condition does not hold.
    pub(crate) async fn run_script(
        &mut self,
        file: &Path,
        written: &str,
        env: &[(String, Template)],
    ) -> Result<(), StepError> {
        let path = resolve(file, written);
        let Some(bytes) = self.flows.assets.get(&path) else {
            return Err(InfraError::NotLoaded {
                what: "script",
                path: path.display().to_string(),
            }
            .into());
        };
        let source = String::from_utf8_lossy(bytes).into_owned();
        let mut extra = Vec::new();
        for (k, v) in env {
            extra.push((k.clone(), self.render_full(v).await?));
        }
        self.evaluate(&format!("runScript {written}"), &source, Some(written), &extra)
            .await?;
        Ok(())
    }

    /// `evalScript: ${…}` (plain text is evaluated as an expression too).
    pub(crate) async fn eval_script(&mut self, t: &Template) -> Result<(), StepError> {
        match t.parts.as_slice() {
            [Part::Script(e)] | [Part::Text(e)] => {
                self.evaluate("evalScript", e, None, &[]).await?;
            }
            _ => {
                self.render_full(t).await?;
            }
        }
        Ok(())
    }

    /// `assertTrue`: a test failure with the expression and its value when it is falsy.
    pub(crate) async fn assert_true(&mut self, t: &Template) -> Result<(), StepError> {
        let (holds, expr, value) = self.truthy("assertTrue", t).await?;
        if holds {
            Ok(())
        } else {
            Err(StepError::failed(format!(
                "assertTrue: `{expr}` is false ({expr} → {value})"
            )))
        }
    }

    /// Stops the flow's engine (the end of `run_flow`).
    pub(crate) fn stop_js(&mut self) {
        if let Some(js) = self.js.take() {
            js.stop();
        }
    }
}

fn engine_error(e: JsError) -> StepError {
    InfraError::Redacted(e.to_string()).into()
}

#[cfg(test)]
mod tests {
    use crate::driver::fake::{FakeDevice, FakeEvent};
    use crate::exec::testing::World;
    use crate::results::StepStatus;

    fn typed(d: &FakeDevice) -> Vec<String> {
        d.actions()
            .iter()
            .filter_map(|e| match e {
                FakeEvent::TypeText { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    #[tokio::test]
    async fn expressions_output_and_assert_true() {
        let w = World::new()
            .file(
                "flows/sub.yaml",
                "appId: com.example.app\n---\n- evalScript: ${output.count = (output.count || 0) + 2}\n",
            )
            .root(
                "appId: com.example.app\nenv:\n  A: \"2\"\n  SUM: ${A * 3}\n---\n- runFlow: sub.yaml\n- inputText: ${output.count + 1}-${SUM}-${A}\n- runFlow: {when: {true: '${output.count > 1}'}, commands: [back]}\n- runFlow: {when: {true: '${output.count > 5}'}, commands: [hideKeyboard]}\n- assertTrue: ${output.count > 3}\n",
            );
        let mut d = FakeDevice::android();
        let out = w.run(&mut d).await;
        assert_eq!(typed(&d), ["3-6-2"]);
        assert!(d.actions().contains(&FakeEvent::PressBack));
        assert!(!d.actions().contains(&FakeEvent::HideKeyboard));
        assert_eq!(
            out.error.unwrap().message(),
            "assertTrue: `output.count > 3` is false (output.count > 3 → false)"
        );
        assert_eq!(out.steps.last().unwrap().status, StepStatus::Failed);
    }

    #[tokio::test]
    async fn deferred_fields_resolve_and_invalid_values_fail_naming_the_field() {
        let w = World::flow(
            "- repeat: {times: '${N}', commands: [back]}\n- repeat: {times: '${N * 2}', commands: [hideKeyboard]}\n",
        )
        .var("N", "2");
        let mut d = FakeDevice::android();
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(d.count(|e| *e == FakeEvent::PressBack), 2);
        assert_eq!(d.count(|e| *e == FakeEvent::HideKeyboard), 4);

        let w = World::flow("- repeat: {times: '${N}', commands: [back]}\n").var("N", "many");
        let out = w.run(&mut FakeDevice::android()).await;
        assert_eq!(
            out.error.unwrap().message(),
            "repeat.times: expected a whole number, found 'many' (from `${N}`)"
        );
        let w = World::flow("- inputText: ${NOPE}\n");
        let out = w.run(&mut FakeDevice::android()).await;
        assert_eq!(out.error.unwrap().message(), "variable 'NOPE' is not defined");
    }

    #[tokio::test]
    async fn copied_text_and_console_log() {
        let w = World::flow(
            "- setClipboard: hello\n- evalScript: ${console.log('copied ' + maestro.copiedText)}\n- setClipboard: again\n- inputText: ${maestro.copiedText}\n- assertTrue: ${false}\n",
        );
        let mut d = FakeDevice::android();
        let run = w.run_full(&mut d, |e| e).await;
        assert_eq!(typed(&d), ["again"]);
        let log = String::from_utf8(run.file("device.log")).unwrap();
        assert!(log.contains("[js] copied hello"), "{log}");
    }
}
