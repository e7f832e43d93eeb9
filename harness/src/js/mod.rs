//! JavaScript in flows: Maestro's surface on an embedded QuickJS engine (`rquickjs`).
//!
//! One [`Js`] per flow run owns a QuickJS runtime on a thread of its own (QuickJS values are
//! not `Send`, and scripts make blocking HTTP calls), and answers evaluations over a channel.
//! What scripts see, as in Maestro:
//! - the variables of the step's scope as globals of the evaluation (`${USERNAME}`);
//! - `output`, one object shared by the flow and every sub-flow it runs;
//! - `maestro.platform` (`ios` / `android`) and `maestro.copiedText`;
//! - `console.log` (lines go to the case's device log, secrets redacted);
//! - `json(text)`;
//! - `http.get/post/put/delete(url, {headers, body})` and `http.request(url, {method, …})`,
//!   returning `{ok, status, body, headers}` (real HTTP, synchronous as Maestro's).
//!
//! Limits: no file system, no process, no modules (QuickJS's `std`/`os` are not loaded, and
//! there is no module loader); an evaluation stops after its timeout (checked by QuickJS's
//! interrupt handler, HTTP calls included), the heap is capped, and so is the stack.
mod http;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rquickjs::prelude::{Opt, Rest};
use rquickjs::{Context, Ctx, Function, Object, Runtime, Value};

use crate::platform::Platform;

/// How long one evaluation may take by default (Maestro has none; a hung script must not hang
/// a run).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The heap a flow's scripts may use.
pub const MEMORY_LIMIT: usize = 64 * 1024 * 1024;
const STACK_LIMIT: usize = 1024 * 1024;

/// Settings of a flow's JavaScript engine.
#[derive(Clone, Debug)]
pub struct JsConfig {
    pub platform: Platform,
    /// Per evaluation, HTTP calls included.
    pub timeout: Duration,
    /// Values replaced by `***` in console output and error messages.
    pub secrets: Vec<String>,
}

impl JsConfig {
    pub fn new(platform: Platform) -> Self {
        JsConfig {
            platform,
            timeout: DEFAULT_TIMEOUT,
            secrets: vec![],
        }
    }
}

/// What an evaluation gave.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluated {
    /// The value as JSON (`undefined` and functions are `null`).
    pub json: serde_json::Value,
    /// The value as JavaScript's `String(value)` gives it: what `${…}` puts into text.
    pub text: String,
    /// JavaScript truthiness (`assertTrue`, `when: {true: …}`).
    pub truthy: bool,
    /// `console.log` lines written during the evaluation, secrets redacted.
    pub logs: Vec<String>,
}

/// Why an evaluation did not give a value.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum JsError {
    /// The script threw (or did not parse): the message with its line, secrets redacted.
    #[error("{message}")]
    Thrown { message: String, logs: Vec<String> },
    #[error("the script ran longer than {} s and was stopped", .0.as_secs_f64())]
    Timeout(Duration),
    /// The engine could not be started or its thread is gone.
    #[error("the JavaScript engine failed: {0}")]
    Engine(String),
}

enum Job {
    Eval {
        source: String,
        /// `runScript` files run as a script body; `${…}` as an expression.
        script: Option<String>,
        vars: Vec<(String, String)>,
        reply: tokio::sync::oneshot::Sender<Result<Evaluated, JsError>>,
    },
    CopiedText(Option<String>),
    Output(tokio::sync::oneshot::Sender<serde_json::Value>),
}

/// A flow's JavaScript engine (see the module documentation).
pub struct Js {
    jobs: std::sync::mpsc::Sender<Job>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Js {
    /// Starts the engine on its own thread.
    pub fn start(config: JsConfig) -> Result<Js, JsError> {
        let (jobs, rx) = std::sync::mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("harness-js".into())
            .spawn(move || match Engine::new(config) {
                Ok(engine) => {
                    let _ = ready_tx.send(Ok(()));
                    engine.serve(rx);
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            })
            .map_err(|e| JsError::Engine(e.to_string()))?;
        ready_rx
            .recv()
            .map_err(|_| JsError::Engine("the engine thread ended".into()))??;
        Ok(Js {
            jobs,
            thread: Some(thread),
        })
    }

    /// Evaluates an expression (`${…}`, `evalScript`, `assertTrue`, `when: {true: …}`) with
    /// `vars` as globals.
    pub async fn eval(&self, expr: &str, vars: &[(String, String)]) -> Result<Evaluated, JsError> {
        self.request(expr, None, vars).await
    }

    /// Runs a script file's source (`runScript`); `name` appears in error messages.
    pub async fn run_script(&self, source: &str, name: &str, vars: &[(String, String)]) -> Result<Evaluated, JsError> {
        self.request(source, Some(name.to_string()), vars).await
    }

    /// What `maestro.copiedText` gives from now on.
    pub fn set_copied_text(&self, text: Option<String>) {
        let _ = self.jobs.send(Job::CopiedText(text));
    }

    /// The `output` object as JSON.
    pub async fn output(&self) -> serde_json::Value {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.jobs.send(Job::Output(tx)).is_err() {
            return serde_json::Value::Null;
        }
        rx.await.unwrap_or(serde_json::Value::Null)
    }

    async fn request(
        &self,
        source: &str,
        script: Option<String>,
        vars: &[(String, String)],
    ) -> Result<Evaluated, JsError> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Job::Eval {
                source: source.to_string(),
                script,
                vars: vars.to_vec(),
                reply,
            })
            .map_err(|_| JsError::Engine("the engine thread ended".into()))?;
        rx.await
            .map_err(|_| JsError::Engine("the engine thread ended during an evaluation".into()))?
    }
}

impl Js {
    /// Stops the engine and waits for its thread (it ends once the current evaluation, if
    /// any, is done: at most the evaluation timeout).
    pub fn stop(mut self) {
        let (dead, _) = std::sync::mpsc::channel();
        self.jobs = dead;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Js {
    fn drop(&mut self) {
        // Closing the channel ends the thread once its current job is done (bounded by the
        // evaluation timeout); nobody waits for it.
        let (dead, _) = std::sync::mpsc::channel();
        self.jobs = dead;
        drop(self.thread.take());
    }
}

/// The engine, on its thread.
struct Engine {
    // Field order: the context is dropped before its runtime.
    context: Context,
    _runtime: Runtime,
    config: JsConfig,
    /// Deadline of the running evaluation, ms since `epoch` (0: none).
    deadline: Arc<AtomicU64>,
    epoch: Instant,
    logs: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Engine {
    fn new(config: JsConfig) -> Result<Engine, JsError> {
        let engine_err = |e: rquickjs::Error| JsError::Engine(e.to_string());
        let runtime = Runtime::new().map_err(engine_err)?;
        runtime.set_memory_limit(MEMORY_LIMIT);
        runtime.set_max_stack_size(STACK_LIMIT);
        let deadline = Arc::new(AtomicU64::new(0));
        let epoch = Instant::now();
        {
            let deadline = deadline.clone();
            runtime.set_interrupt_handler(Some(Box::new(move || {
                let d = deadline.load(Ordering::Relaxed);
                d != 0 && epoch.elapsed().as_millis() as u64 >= d
            })));
        }
        let context = Context::full(&runtime).map_err(engine_err)?;
        let logs = Arc::new(std::sync::Mutex::new(Vec::new()));
        let engine = Engine {
            context,
            _runtime: runtime,
            config,
            deadline,
            epoch,
            logs,
        };
        engine.install().map_err(engine_err)?;
        Ok(engine)
    }

    /// The globals every evaluation sees.
    fn install(&self) -> rquickjs::Result<()> {
        let platform = match self.config.platform {
            Platform::Ios => "ios",
            Platform::Android => "android",
        };
        let (logs, deadline, epoch) = (self.logs.clone(), self.deadline.clone(), self.epoch);
        self.context
            .with(|ctx| install_globals(&ctx, platform, logs, deadline, epoch))
    }

    fn serve(self, jobs: std::sync::mpsc::Receiver<Job>) {
        while let Ok(job) = jobs.recv() {
            match job {
                Job::Eval {
                    source,
                    script,
                    vars,
                    reply,
                } => {
                    let r = self.eval(&source, script.as_deref(), &vars);
                    let _ = reply.send(r);
                }
                Job::CopiedText(text) => {
                    self.context.with(|ctx| {
                        if let Ok(m) = ctx.globals().get::<_, Object>("maestro") {
                            let v = match text {
                                Some(t) => rquickjs::String::from_str(ctx.clone(), &t).map(|s| s.into_value()),
                                None => Ok(Value::new_null(ctx.clone())),
                            };
                            if let Ok(v) = v {
                                let _ = m.set("copiedText", v);
                            }
                        }
                    });
                }
                Job::Output(reply) => {
                    let v = self.context.with(|ctx| {
                        let out: Value = ctx.globals().get("output").unwrap_or(Value::new_undefined(ctx.clone()));
                        to_json(&ctx, &out)
                    });
                    let _ = reply.send(v);
                }
            }
        }
    }

    fn redact(&self, s: &str) -> String {
        crate::secrets::redact(s, &self.config.secrets)
    }

    fn eval(&self, source: &str, script: Option<&str>, vars: &[(String, String)]) -> Result<Evaluated, JsError> {
        let timeout = self.config.timeout;
        let start = self.epoch.elapsed().as_millis() as u64;
        self.deadline
            .store(start + (timeout.as_millis() as u64).max(1), Ordering::Relaxed);
        if let Ok(mut l) = self.logs.lock() {
            l.clear();
        }
        // The scope's variables are the parameters of a function the source runs in, so a
        // sub-flow's variables do not outlive it; `var` declarations stay inside too.
        let names: Vec<&str> = vars
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| is_identifier(k))
            .collect();
        let result = self.context.with(|ctx| -> Result<Evaluated, String> {
            let params = names.join(", ");
            let wrapper = match script {
                // A script body: statements; its completion value is not used.
                Some(_) => format!("(function({params}) {{ return eval(arguments[arguments.length - 1]); }})"),
                None => {
                    format!("(function({params}) {{ return eval('(' + arguments[arguments.length - 1] + '\\n)'); }})")
                }
            };
            let f: Function = ctx.eval(wrapper).map_err(|e| describe(&ctx, e))?;
            let mut args = rquickjs::function::Args::new(ctx.clone(), names.len() + 1);
            for (k, v) in vars {
                if names.contains(&k.as_str()) {
                    args.push_arg(v.as_str()).map_err(|e| describe(&ctx, e))?;
                }
            }
            args.push_arg(source).map_err(|e| describe(&ctx, e))?;
            let value: Value = f.call_arg(args).map_err(|e| describe(&ctx, e))?;
            let truthy = ctx
                .eval::<Function, _>("(function(v) { return !!v; })")
                .and_then(|f| f.call::<_, bool>((value.clone(),)))
                .unwrap_or(false);
            Ok(Evaluated {
                json: to_json(&ctx, &value),
                text: display(&ctx, &value),
                truthy,
                logs: vec![],
            })
        });
        let elapsed = self.epoch.elapsed().as_millis() as u64 - start;
        self.deadline.store(0, Ordering::Relaxed);
        let logs: Vec<String> = self
            .logs
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
            .into_iter()
            .map(|l| self.redact(&l))
            .collect();
        match result {
            Ok(mut ev) => {
                ev.logs = logs;
                Ok(ev)
            }
            Err(_) if elapsed >= timeout.as_millis() as u64 => Err(JsError::Timeout(timeout)),
            Err(message) => {
                let at = script.map(|s| format!("{s}: ")).unwrap_or_default();
                Err(JsError::Thrown {
                    message: self.redact(&format!("{at}{message}")),
                    logs,
                })
            }
        }
    }
}

/// `output`, `maestro`, `console`, `json` and `http` (see the module documentation).
fn install_globals<'js>(
    ctx: &Ctx<'js>,
    platform: &str,
    logs: Arc<std::sync::Mutex<Vec<String>>>,
    deadline: Arc<AtomicU64>,
    epoch: Instant,
) -> rquickjs::Result<()> {
    let g = ctx.globals();
    g.set("output", Object::new(ctx.clone())?)?;
    let maestro = Object::new(ctx.clone())?;
    maestro.set("platform", platform)?;
    maestro.set("copiedText", Value::new_null(ctx.clone()))?;
    g.set("maestro", maestro)?;
    let console = Object::new(ctx.clone())?;
    let log = Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>, args: Rest<Value<'js>>| -> rquickjs::Result<()> {
            let parts: Vec<String> = args.0.iter().map(|v| display(&ctx, v)).collect();
            if let Ok(mut l) = logs.lock() {
                l.push(parts.join(" "));
            }
            Ok(())
        },
    )?;
    for level in ["log", "info", "warn", "error", "debug"] {
        console.set(level, log.clone())?;
    }
    g.set("console", console)?;
    g.set(
        "json",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, text: String| -> rquickjs::Result<Value<'js>> { ctx.json_parse(text) },
        )?,
    )?;
    let http = Object::new(ctx.clone())?;
    for method in ["GET", "POST", "PUT", "DELETE"] {
        let deadline = deadline.clone();
        let f = move |ctx: Ctx<'js>, url: String, options: Opt<Value<'js>>| -> rquickjs::Result<Value<'js>> {
            http::call(&ctx, method, &url, options.0, remaining(&deadline, epoch))
        };
        http.set(method.to_ascii_lowercase(), Function::new(ctx.clone(), f)?)?;
    }
    let request = move |ctx: Ctx<'js>, url: String, options: Opt<Value<'js>>| -> rquickjs::Result<Value<'js>> {
        let method = options
            .0
            .as_ref()
            .and_then(|o| o.as_object())
            .and_then(|o| o.get::<_, Option<String>>("method").ok().flatten())
            .unwrap_or_else(|| "GET".into())
            .to_ascii_uppercase();
        http::call(&ctx, &method, &url, options.0, remaining(&deadline, epoch))
    };
    http.set("request", Function::new(ctx.clone(), request)?)?;
    g.set("http", http)?;
    Ok(())
}

fn remaining(deadline: &AtomicU64, epoch: Instant) -> Duration {
    let d = deadline.load(Ordering::Relaxed);
    let now = epoch.elapsed().as_millis() as u64;
    Duration::from_millis(if d == 0 { 30_000 } else { d.saturating_sub(now) })
}

/// Whether a variable name can be a JavaScript parameter.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        && !RESERVED.contains(&name)
}

/// Words that cannot name a parameter, and the globals a variable must not hide.
const RESERVED: &[&str] = &[
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "new",
    "null",
    "return",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
    "let",
    "static",
    "enum",
    "await",
    "implements",
    "package",
    "protected",
    "interface",
    "private",
    "public",
    "arguments",
    "eval",
    "output",
    "maestro",
    "http",
    "json",
    "console",
];

/// `String(value)`, as `${…}` interpolation gives it.
fn display<'js>(ctx: &Ctx<'js>, v: &Value<'js>) -> String {
    if let Some(s) = v.as_string() {
        return s.to_string().unwrap_or_default();
    }
    ctx.eval::<Function, _>("(function(v) { return String(v); })")
        .and_then(|f| f.call::<_, String>((v.clone(),)))
        .unwrap_or_default()
}

fn to_json<'js>(ctx: &Ctx<'js>, v: &Value<'js>) -> serde_json::Value {
    match ctx.json_stringify(v.clone()) {
        Ok(Some(s)) => s
            .to_string()
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(serde_json::Value::Null),
        _ => serde_json::Value::Null,
    }
}

/// An error of an evaluation as one line: the exception's message and where it was thrown.
fn describe<'js>(ctx: &Ctx<'js>, e: rquickjs::Error) -> String {
    if !e.is_exception() {
        return e.to_string();
    }
    let caught = ctx.catch();
    if let Some(ex) = caught.as_exception() {
        let message = ex.message().unwrap_or_else(|| "an error was thrown".into());
        let message = match ex.get::<_, String>("name") {
            Ok(name) if name != "Error" && !name.is_empty() => format!("{name}: {message}"),
            _ => message,
        };
        // The source's own frame: `at <eval> (<input>:LINE:COLUMN)`.
        let line = ex.stack().and_then(|s| {
            s.lines()
                .find_map(|l| l.trim().strip_prefix("at <eval> (<input>:").map(str::to_string))
                .and_then(|rest| rest.split(':').next().map(str::to_string))
        });
        match line {
            Some(l) => format!("{message} (line {l})"),
            None => message,
        }
    } else {
        format!("threw {}", display(ctx, &caught))
    }
}

#[cfg(test)]
mod tests;
