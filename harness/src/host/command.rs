//! Running host tools (`adb`, `xcrun`) as argv, never through a local shell, with a timeout.
//!
//! Also the quoting needed for `adb shell`/`adb exec-out`, which join their arguments into one
//! command line that the device's POSIX shell parses again.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Why a host command could not give a usable answer.
///
/// Each message is complete on its own (callers show `to_string()`): a variant with a
/// `source` also quotes it, and keeps it for code that needs the cause itself.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The tool is not installed (not found on `PATH`).
    #[error("{program} is not installed: {hint}")]
    Missing { program: String, hint: String },
    /// The tool could not be started for another reason than being absent.
    #[error("could not start `{command}`: {source}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    /// The tool started, but waiting for it to exit failed.
    #[error("could not wait for `{command}` to finish: {source}")]
    Wait {
        command: String,
        #[source]
        source: std::io::Error,
    },
    /// The tool ran and exited unsuccessfully.
    #[error("`{command}` failed ({}): {}", status.map_or("killed by a signal".to_string(), |s| format!("exit status {s}")), stderr.trim())]
    Failed {
        command: String,
        status: Option<i32>,
        stderr: String,
    },
    /// The tool did not finish in time and was killed.
    #[error("`{command}` did not finish within {:.1} s and was killed", timeout.as_secs_f64())]
    Timeout { command: String, timeout: Duration },
    /// The tool's output was not in the expected shape.
    #[error("could not read the output of `{command}`: {what}")]
    Parse { command: String, what: String },
    /// The tool's output should be JSON and is not.
    #[error("could not read the output of `{command}`: not JSON: {source}")]
    Json {
        command: String,
        #[source]
        source: serde_json::Error,
    },
    /// The tool exited successfully but its output says the action did not happen (`am start`
    /// reporting `Status: error`, `pm clear` not reporting `Success`).
    #[error("`{command}` did not report {expected}: {said:?}")]
    Unexpected {
        command: String,
        /// What success looks like in the tool's output.
        expected: &'static str,
        said: String,
    },
    /// `run-as` refused because the app is a release build.
    #[error(
        "run-as refused for {package}: the build must be debuggable (android:debuggable, e.g. a debug or dev-client build) to read its files without root; device said: {output}"
    )]
    NotDebuggable { package: String, output: String },
    /// `run-as` refused for another reason (an unknown package, a device without `run-as`).
    #[error("`run-as {package}` refused: {said}")]
    RunAs { package: String, said: String },
    /// Text `adb shell input text` cannot type (it takes printable ASCII only).
    #[error("`adb shell input text` can only type printable ASCII, {}; use backend appium or appium+host for this text", match shown {
        Some(c) => format!("not {c:?}"),
        None => "and this secret has other characters".to_string(),
    })]
    Untypeable {
        /// The first character it cannot type; `None` for a secret, which is never quoted.
        shown: Option<char>,
    },
    /// The simulator keychain database could not be read.
    #[error("cannot read the simulator keychain {}: {what}{}", path.display(), caused(source))]
    Keychain {
        path: PathBuf,
        what: String,
        #[source]
        source: Option<FileError>,
    },
    /// A simulator keychain could not be saved into a backup folder.
    #[error("cannot back up the simulator keychain {} into {}: {what}{}", from.display(), to.display(), caused(source))]
    KeychainBackup {
        /// The simulator's `Library/Keychains` folder.
        from: PathBuf,
        to: PathBuf,
        what: String,
        #[source]
        source: Option<FileError>,
    },
    /// A backup could not be put back into a simulator's keychain folder.
    #[error("cannot restore the simulator keychain {} from {}: {what}{}", to.display(), from.display(), caused(source))]
    KeychainRestore {
        from: PathBuf,
        /// The simulator's `Library/Keychains` folder.
        to: PathBuf,
        what: String,
        #[source]
        source: Option<FileError>,
    },
    /// An argument given to a builder cannot be passed on safely.
    #[error("invalid argument: {what}")]
    Invalid { what: String },
}

/// The cause of a failed operation on a keychain database: the file system or SQLite.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Boxed: SQLite's error is eight times the size of an I/O error.
    #[error(transparent)]
    Sqlite(Box<rusqlite::Error>),
}

impl From<rusqlite::Error> for FileError {
    fn from(e: rusqlite::Error) -> Self {
        FileError::Sqlite(Box::new(e))
    }
}

/// `": {cause}"`, or nothing without a cause: messages quote their source.
fn caused(source: &Option<impl std::fmt::Display>) -> String {
    source.as_ref().map(|s| format!(": {s}")).unwrap_or_default()
}

/// Hint shown when `program` is not installed.
pub fn install_hint(program: &str) -> String {
    match program {
        "adb" => "install the Android platform tools (Debian package `adb`)".to_string(),
        "xcrun" => "xcrun simctl needs macOS with Xcode".to_string(),
        other => format!("`{other}` was not found on PATH"),
    }
}

/// What a finished command produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CmdOutput {
    /// Exit code; `None` when killed by a signal.
    pub status: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl CmdOutput {
    /// Stdout as text (lossy UTF-8).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn success(&self) -> bool {
        self.status == Some(0)
    }
}

/// A host command as a program and its argv; run directly, never through a shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    program: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// The last argument carries a secret (typed text): it is never displayed.
    sensitive: bool,
}

impl Cmd {
    pub fn new(program: impl Into<String>, args: Vec<String>) -> Cmd {
        Cmd {
            program: program.into(),
            args,
            env: Vec::new(),
            sensitive: false,
        }
    }

    /// Marks the last argument as secret: [`Cmd::display`], and so every error and log
    /// line, shows `<redacted>` in its place.
    pub fn sensitive(mut self, sensitive: bool) -> Cmd {
        self.sensitive = sensitive;
        self
    }

    /// Adds environment variables for the child (e.g. `SIMCTL_CHILD_*` pairs).
    pub fn with_env(mut self, env: Vec<(String, String)>) -> Cmd {
        self.env = env;
        self
    }

    pub fn program(&self) -> &str {
        &self.program
    }

    pub fn args(&self) -> &[String] {
        &self.args
    }

    /// The argv joined for display (quoted where needed); not for execution.
    pub fn display(&self) -> String {
        let last = self.args.len();
        std::iter::once(&self.program)
            .chain(&self.args)
            .enumerate()
            .map(|(i, a)| {
                if self.sensitive && i == last {
                    return "<redacted>".to_string();
                }
                let plain = !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
                if plain { a.clone() } else { shell_quote(a) }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Runs the command and returns its output whatever the exit status.
    pub fn run_unchecked(&self, timeout: Duration) -> Result<CmdOutput, HostError> {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.env {
            command.env(k, v);
        }
        let mut child = command.spawn().map_err(|e| self.spawn_error(e))?;
        // Drain both pipes on threads so a chatty child cannot block on a full pipe. The
        // results come back over channels with a deadline: a grandchild that keeps a pipe open
        // (e.g. an adb server started by `adb devices`) must not hang the caller.
        let (out_tx, out_rx) = std::sync::mpsc::channel();
        let (err_tx, err_rx) = std::sync::mpsc::channel();
        let mut out_pipe = child.stdout.take();
        let mut err_pipe = child.stderr.take();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(p) = out_pipe.as_mut() {
                let _ = p.read_to_end(&mut buf);
            }
            let _ = out_tx.send(buf);
        });
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(p) = err_pipe.as_mut() {
                let _ = p.read_to_end(&mut buf);
            }
            let _ = err_tx.send(buf);
        });
        let start = Instant::now();
        let timed_out = || HostError::Timeout {
            command: self.display(),
            timeout,
        };
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if start.elapsed() >= timeout => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(timed_out());
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => {
                    return Err(HostError::Wait {
                        command: self.display(),
                        source: e,
                    });
                }
            }
        };
        let remaining = || timeout.saturating_sub(start.elapsed()).max(Duration::from_millis(500));
        let stdout = out_rx.recv_timeout(remaining()).map_err(|_| timed_out())?;
        let stderr = err_rx.recv_timeout(remaining()).map_err(|_| timed_out())?;
        let stderr = String::from_utf8_lossy(&stderr).into_owned();
        Ok(CmdOutput {
            status: status.code(),
            stdout,
            stderr,
        })
    }

    /// [`Cmd::run`] for async callers.
    pub async fn run_async(self, timeout: Duration) -> Result<CmdOutput, HostError> {
        let out = self.run_unchecked_async(timeout).await?;
        self.checked(out)
    }

    /// [`Cmd::run_unchecked`] for async callers, as a tokio child process: when the caller's
    /// future is dropped (a flow timeout), the child is killed with it.
    pub async fn run_unchecked_async(&self, timeout: Duration) -> Result<CmdOutput, HostError> {
        use tokio::io::AsyncReadExt;
        let mut command = self.tokio_command();
        let mut child = command.spawn().map_err(|e| self.spawn_error(e))?;
        let started = tokio::time::Instant::now();
        let timed_out = || HostError::Timeout {
            command: self.display(),
            timeout,
        };
        let read = |pipe: Option<Box<dyn tokio::io::AsyncRead + Unpin + Send>>| {
            tokio::spawn(async move {
                let mut buf = Vec::new();
                if let Some(mut p) = pipe {
                    let _ = p.read_to_end(&mut buf).await;
                }
                buf
            })
        };
        let stdout = read(child.stdout.take().map(|p| Box::new(p) as _));
        let stderr = read(child.stderr.take().map(|p| Box::new(p) as _));
        let status = match tokio::time::timeout(timeout, child.wait()).await {
            Ok(Ok(status)) => status,
            Ok(Err(e)) => {
                return Err(HostError::Wait {
                    command: self.display(),
                    source: e,
                });
            }
            Err(_) => {
                let _ = child.kill().await;
                return Err(timed_out());
            }
        };
        // A grandchild that keeps a pipe open (an adb server started by this call) must not
        // hold the caller past the deadline.
        let remaining = timeout
            .saturating_sub(started.elapsed())
            .max(Duration::from_millis(500));
        let (stdout, stderr) = match tokio::time::timeout(remaining, async { (stdout.await, stderr.await) }).await {
            Ok((Ok(o), Ok(e))) => (o, e),
            _ => return Err(timed_out()),
        };
        Ok(CmdOutput {
            status: status.code(),
            stdout,
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        })
    }

    /// The command as a tokio child with piped output, killed when dropped (a flow timeout
    /// drops its future and so ends the tool).
    fn tokio_command(&self) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in &self.env {
            command.env(k, v);
        }
        command
    }

    fn spawn_error(&self, e: std::io::Error) -> HostError {
        match e.kind() {
            std::io::ErrorKind::NotFound => HostError::Missing {
                program: self.program.clone(),
                hint: install_hint(&self.program),
            },
            _ => HostError::Spawn {
                command: self.display(),
                source: e,
            },
        }
    }

    /// `out`, or [`HostError::Failed`] when the command exited unsuccessfully.
    fn checked(&self, out: CmdOutput) -> Result<CmdOutput, HostError> {
        if out.success() {
            return Ok(out);
        }
        let stderr = if out.stderr.trim().is_empty() {
            out.stdout_text()
        } else {
            out.stderr.clone()
        };
        Err(HostError::Failed {
            command: self.display(),
            status: out.status,
            stderr,
        })
    }

    /// Starts the command in the background and collects its stdout lines (a log stream).
    pub fn stream(&self) -> Result<LineStream, HostError> {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in &self.env {
            command.env(k, v);
        }
        let mut child = command.spawn().map_err(|e| self.spawn_error(e))?;
        let lines = std::sync::Arc::new(std::sync::Mutex::new(std::collections::VecDeque::new()));
        if let Some(out) = child.stdout.take() {
            let sink = lines.clone();
            std::thread::spawn(move || {
                use std::io::BufRead;
                let mut reader = std::io::BufReader::new(out);
                let mut buf = Vec::new();
                loop {
                    buf.clear();
                    // Bytes, not `lines()`: one non-UTF-8 line must not end the stream.
                    match reader.read_until(b'\n', &mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                    let line = String::from_utf8_lossy(&buf).trim_end_matches(['\n', '\r']).to_string();
                    if let Ok(mut v) = sink.lock() {
                        // Bounded: a chatty log must not grow without limit between reads.
                        if v.len() >= LineStream::MAX_LINES {
                            v.pop_front();
                        }
                        v.push_back(line);
                    }
                }
            });
        }
        Ok(LineStream { child, lines })
    }

    /// Runs the command; a non-zero exit is [`HostError::Failed`].
    pub fn run(&self, timeout: Duration) -> Result<CmdOutput, HostError> {
        let out = self.run_unchecked(timeout)?;
        self.checked(out)
    }
}

/// A command left running in the background (a screen recording) until it is told to stop:
/// [`Background::interrupt`] sends it SIGINT, as Ctrl-C would, so it can finish its file;
/// [`Background::finish`] waits for it to end by itself. A dropped one is killed.
#[derive(Debug)]
pub struct Background {
    command: String,
    child: tokio::process::Child,
    stdout: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    stderr: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl Cmd {
    /// Starts the command in the background (needs a tokio runtime); its output is collected
    /// as it comes.
    pub fn spawn_background(&self) -> Result<Background, HostError> {
        use tokio::io::AsyncReadExt;
        let mut command = self.tokio_command();
        let mut child = command.spawn().map_err(|e| self.spawn_error(e))?;
        let sink = |pipe: Option<Box<dyn tokio::io::AsyncRead + Unpin + Send>>| {
            let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let into = buf.clone();
            let task = tokio::spawn(async move {
                let Some(mut p) = pipe else { return };
                let mut chunk = [0u8; 4096];
                while let Ok(n) = p.read(&mut chunk).await {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut b) = into.lock() {
                        b.extend_from_slice(&chunk[..n]);
                    }
                }
            });
            (buf, task)
        };
        let (stdout, out_task) = sink(child.stdout.take().map(|p| Box::new(p) as _));
        let (stderr, err_task) = sink(child.stderr.take().map(|p| Box::new(p) as _));
        Ok(Background {
            command: self.display(),
            child,
            stdout,
            stderr,
            readers: vec![out_task, err_task],
        })
    }
}

impl Background {
    /// The command, for messages.
    pub fn display(&self) -> &str {
        &self.command
    }

    /// What it wrote on stderr so far.
    pub fn stderr_so_far(&self) -> String {
        self.stderr
            .lock()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Whether it has ended.
    pub fn has_exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends SIGINT, then waits up to `timeout` for it to end ([`Background::finish`]).
    pub async fn interrupt(mut self, timeout: Duration) -> Result<CmdOutput, HostError> {
        if let (false, Some(pid)) = (self.has_exited(), self.child.id()) {
            let _ = tokio::process::Command::new("kill")
                .args(["-INT", &pid.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .await;
        }
        self.finish(timeout).await
    }

    /// The error of a command that ended before it was stopped (a recorder that could not
    /// start): its exit status and what it wrote, stdout then stderr.
    pub async fn failure(self) -> HostError {
        let command = self.command.clone();
        match self.finish(Duration::from_secs(1)).await {
            Ok(out) => HostError::Failed {
                command,
                status: out.status,
                stderr: format!("{}{}", out.stdout_text(), out.stderr).trim().to_string(),
            },
            Err(e) => e,
        }
    }

    /// Waits up to `timeout` for it to end and returns what it wrote, whatever its exit
    /// status; one that is still running then is killed ([`HostError::Timeout`]).
    pub async fn finish(mut self, timeout: Duration) -> Result<CmdOutput, HostError> {
        let status = match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(Ok(status)) => status,
            Ok(Err(source)) => {
                return Err(HostError::Wait {
                    command: self.command.clone(),
                    source,
                });
            }
            Err(_) => {
                let _ = self.child.kill().await;
                return Err(HostError::Timeout {
                    command: self.command.clone(),
                    timeout,
                });
            }
        };
        // The pipes close with the process (unless a grandchild holds them: then what came).
        for task in std::mem::take(&mut self.readers) {
            let _ = tokio::time::timeout(Duration::from_millis(500), task).await;
        }
        let take = |b: &std::sync::Arc<std::sync::Mutex<Vec<u8>>>| {
            b.lock().map(|mut b| std::mem::take(&mut *b)).unwrap_or_default()
        };
        Ok(CmdOutput {
            status: status.code(),
            stdout: take(&self.stdout),
            stderr: String::from_utf8_lossy(&take(&self.stderr)).into_owned(),
        })
    }
}

/// A background command whose stdout lines are collected (`logcat`, `log stream`). The
/// process is killed when the stream is dropped.
#[derive(Debug)]
pub struct LineStream {
    child: std::process::Child,
    lines: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<String>>>,
}

impl LineStream {
    /// Lines kept between two reads; older ones are dropped.
    pub const MAX_LINES: usize = 10_000;

    /// The lines collected since the last call.
    pub fn drain(&self) -> Vec<String> {
        self.lines.lock().map(|mut v| v.drain(..).collect()).unwrap_or_default()
    }
}

impl Drop for LineStream {
    /// Interrupts the stream as Ctrl-C would (`simctl spawn` passes SIGINT on to `log` in
    /// the simulator; SIGKILL would leave it running), then kills it if it lingers.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .args(["-INT", &self.child.id().to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(1);
            while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl HostError {
    /// What to do about this error, when the tool's message says enough to tell.
    pub fn hint(&self) -> Option<&'static str> {
        let text = match self {
            HostError::Failed { stderr, .. } => stderr.as_str(),
            HostError::RunAs { said, .. } => said.as_str(),
            HostError::Timeout { .. } => {
                return Some("the device did not answer in time: check that it is booted and responsive");
            }
            _ => return None,
        };
        let t = text.to_ascii_lowercase();
        if t.contains("device offline") {
            Some("the device is offline: wait for it to finish booting, or run `adb reconnect`")
        } else if t.contains("unauthorized") {
            Some("accept the USB debugging prompt on the device, then retry")
        } else if t.contains("not found") && (t.contains("device") || t.contains("emulator")) {
            Some("start the emulator, and check the profile's serial against `harness devices`")
        } else if t.contains("no devices/emulators") {
            Some("no device is attached: start an emulator (`emulator -avd NAME`) and retry")
        } else if t.contains("current state: shutting down") {
            Some("the simulator is shutting down: wait for it, then boot it (xcrun simctl boot <udid>)")
        } else if t.contains("current state: shutdown") || t.contains("invalid device state") {
            Some("boot the simulator first: xcrun simctl boot <udid>")
        } else if t.contains("invalid device") {
            Some("check the profile's udid against `harness devices` (xcrun simctl list devices)")
        } else if t.contains("unknown package") || t.contains("not installed") {
            Some("install the app on the device first (adb install / xcrun simctl install)")
        } else {
            None
        }
    }
}

/// Quotes one argument for a POSIX shell: single quotes, with `'` written as `'\''`.
pub fn shell_quote(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', r"'\''"))
}

/// Joins `argv` into one device shell command line, each argument quoted.
pub fn shell_join(argv: &[&str]) -> String {
    argv.iter().map(|a| shell_quote(a)).collect::<Vec<_>>().join(" ")
}

/// `adb` arguments running `argv` on the device: `["-s", serial, "shell", "<quoted argv>"]`.
pub fn adb_shell_args(serial: &str, argv: &[&str]) -> Vec<String> {
    vec!["-s".into(), serial.into(), "shell".into(), shell_join(argv)]
}

/// Like [`adb_shell_args`] with `exec-out` (raw stdout, for binary output such as PNGs).
pub fn adb_exec_out_args(serial: &str, argv: &[&str]) -> Vec<String> {
    vec!["-s".into(), serial.into(), "exec-out".into(), shell_join(argv)]
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &[&str] = &[
        "; rm -rf /",
        "it's",
        "'",
        "''",
        "\"double\" 'single'",
        "a\nb\n",
        "$(id)",
        "`id`",
        "*",
        "",
        "ünïcødé ✓ 日本",
        "$HOME ${PATH} \\ \\' & | > < ( ) { } ! # ~ ?",
        "'\\''",
        "-n",
        "\t tab",
    ];

    #[test]
    fn quoted_values_survive_a_posix_shell_byte_for_byte() {
        for value in HOSTILE {
            let script = format!("printf '%s' {}", shell_quote(value));
            let out = Cmd::new("sh", vec!["-c".into(), script])
                .run(Duration::from_secs(10))
                .unwrap();
            assert_eq!(out.stdout, value.as_bytes(), "value {value:?}");
        }
    }

    #[test]
    fn joined_argv_survives_as_separate_words() {
        let line = shell_join(HOSTILE);
        let out = Cmd::new("sh", vec!["-c".into(), format!("printf '%s\\0' {line}")])
            .run(Duration::from_secs(10))
            .unwrap();
        let words: Vec<&[u8]> = out.stdout.split(|b| *b == 0).collect();
        assert_eq!(words.len(), HOSTILE.len() + 1);
        for (word, value) in words.iter().zip(HOSTILE) {
            assert_eq!(*word, value.as_bytes());
        }
    }

    #[test]
    fn adb_shell_args_shape() {
        assert_eq!(
            adb_shell_args("emulator-5554", &["am", "force-stop", "a;b"]),
            vec!["-s", "emulator-5554", "shell", "'am' 'force-stop' 'a;b'"]
        );
        assert_eq!(adb_exec_out_args("x", &["screencap", "-p"])[2], "exec-out");
    }

    #[test]
    fn missing_program_is_missing_with_hint() {
        let err = Cmd::new("adb-definitely-not-installed", vec![])
            .run(Duration::from_secs(5))
            .unwrap_err();
        assert!(matches!(err, HostError::Missing { .. }), "{err:?}");
        assert_eq!(
            install_hint("adb"),
            "install the Android platform tools (Debian package `adb`)"
        );
    }

    #[test]
    fn failure_and_timeout() {
        let err = Cmd::new("sh", vec!["-c".into(), "echo boom >&2; exit 3".into()])
            .run(Duration::from_secs(10))
            .unwrap_err();
        match &err {
            HostError::Failed {
                status,
                stderr,
                command,
            } => {
                assert_eq!(*status, Some(3));
                assert_eq!(stderr.trim(), "boom");
                assert!(command.starts_with("sh -c "), "{command}");
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("exit status 3"));
        let err = Cmd::new("sleep", vec!["5".into()])
            .run(Duration::from_millis(200))
            .unwrap_err();
        assert!(matches!(err, HostError::Timeout { .. }), "{err:?}");
        // The child exits at once but a background grandchild keeps stdout open.
        let started = Instant::now();
        let err = Cmd::new("sh", vec!["-c".into(), "sleep 3 & echo hi".into()])
            .run(Duration::from_millis(300))
            .unwrap_err();
        assert!(matches!(err, HostError::Timeout { .. }), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn sensitive_commands_never_show_their_last_argument() {
        let cmd = Cmd::new(
            "sh",
            vec!["-c".into(), "echo nope >&2; exit 1".into(), "hunter2".into()],
        )
        .sensitive(true);
        assert_eq!(cmd.display(), "sh -c 'echo nope >&2; exit 1' <redacted>");
        let err = cmd.run(Duration::from_secs(10)).unwrap_err().to_string();
        assert!(!err.contains("hunter2") && err.contains("<redacted>"), "{err}");
    }

    #[test]
    fn hints_from_tool_messages() {
        let failed = |stderr: &str| HostError::Failed {
            command: "adb".into(),
            status: Some(1),
            stderr: stderr.into(),
        };
        assert!(failed("error: device offline").hint().unwrap().contains("offline"));
        assert!(
            failed("error: device 'emulator-5556' not found")
                .hint()
                .unwrap()
                .contains("serial")
        );
        assert!(
            failed("An error was encountered processing the command (domain=com.apple.CoreSimulator.SimError, code=405):\nUnable to lookup in current state: Shutdown")
                .hint()
                .unwrap()
                .contains("simctl boot")
        );
        assert_eq!(failed("something else").hint(), None);
    }

    #[test]
    fn errors_keep_their_causes_and_never_quote_a_secret() {
        use std::error::Error as _;
        // A folder is found but cannot be run: the OS error is the cause.
        let dir = tempfile::tempdir().unwrap();
        let err = Cmd::new(dir.path().display().to_string(), vec![])
            .run(Duration::from_secs(5))
            .unwrap_err();
        assert!(matches!(err, HostError::Spawn { .. }), "{err:?}");
        let cause = err.source().and_then(|s| s.downcast_ref::<std::io::Error>()).unwrap();
        assert!(err.to_string().ends_with(&cause.to_string()), "{err}");

        let err = crate::host::simctl::parse_list("not json").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("could not read the output of `xcrun simctl list -j devices`: not JSON: ")
        );
        assert!(err.source().is_some_and(|s| s.is::<serde_json::Error>()), "{err:?}");

        assert_eq!(
            HostError::Untypeable { shown: Some('é') }.to_string(),
            "`adb shell input text` can only type printable ASCII, not 'é'; use backend appium or appium+host for this text"
        );
        assert_eq!(
            HostError::Untypeable { shown: None }.to_string(),
            "`adb shell input text` can only type printable ASCII, and this secret has other characters; \
             use backend appium or appium+host for this text"
        );
    }

    /// The first `n` lines of `stream` (waiting up to 10 s for them).
    fn collect(stream: &LineStream, n: usize) -> Vec<String> {
        let started = Instant::now();
        let mut got = vec![];
        while got.len() < n && started.elapsed() < Duration::from_secs(10) {
            got.extend(stream.drain());
            std::thread::sleep(Duration::from_millis(20));
        }
        got
    }

    #[test]
    fn streams_collect_lines_and_die_with_the_stream() {
        let stream = Cmd::new("sh", vec!["-c".into(), "echo one; echo two; sleep 30".into()])
            .stream()
            .unwrap();
        let started = Instant::now();
        assert_eq!(collect(&stream, 2), vec!["one", "two"]);
        assert!(stream.drain().is_empty());
        drop(stream);
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    /// The pid a child wrote to `file` (one `echo`), if it has.
    fn written_pid(file: &std::path::Path) -> Option<u32> {
        let text = std::fs::read_to_string(file).ok()?;
        text.ends_with('\n').then(|| text.trim().parse().unwrap())
    }

    /// The pid a child wrote to `file`, once it has (waiting up to 10 s for it to start).
    async fn started(file: &std::path::Path) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(pid) = written_pid(file) {
                return pid;
            }
            assert!(Instant::now() < deadline, "the child never started");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Whether `pid` is a running process (a zombie has exited: it only waits to be reaped).
    fn running(pid: u32) -> bool {
        let out = std::process::Command::new("ps")
            .args(["-o", "stat=", "-p", &pid.to_string()])
            .output()
            .unwrap();
        let stat = String::from_utf8_lossy(&out.stdout);
        out.status.success() && !stat.trim().is_empty() && !stat.trim_start().starts_with('Z')
    }

    #[tokio::test]
    async fn async_runs_kill_their_child_when_they_time_out_or_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        // Each child writes its pid, then becomes a 30 s sleep: it is gone within the test
        // only if it was killed.
        let child = |name: &str| {
            let pid_file = dir.path().join(name);
            let script = format!("echo $$ > '{}' && exec sleep 30", pid_file.display());
            (Cmd::new("sh", vec!["-c".into(), script]), pid_file)
        };

        // A timeout: the run kills its child and waits for it before it returns.
        let (cmd, pid_file) = child("timeout");
        let err = cmd.run_async(Duration::from_secs(1)).await.unwrap_err();
        assert!(matches!(err, HostError::Timeout { .. }), "{err:?}");
        let pid = written_pid(&pid_file).expect("the child started within its second");
        assert!(!running(pid), "the timed-out child {pid} still runs");

        // A flow timeout drops the future once the child runs: the child goes with it.
        let (cmd, pid_file) = child("dropped");
        let mut run = Box::pin(cmd.run_async(Duration::from_secs(30)));
        let pid = tokio::select! {
            pid = started(&pid_file) => pid,
            r = &mut run => panic!("the run ended before it was dropped: {r:?}"),
        };
        assert!(running(pid));
        drop(run);
        // The kill is a signal: wait for it to land, well within the child's 30 s.
        let deadline = Instant::now() + Duration::from_secs(10);
        while running(pid) {
            assert!(Instant::now() < deadline, "the dropped run's child {pid} still runs");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let out = Cmd::new("sh", vec!["-c".into(), "printf out; printf err >&2; exit 4".into()])
            .run_unchecked_async(Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(
            (out.status, out.stdout_text().as_str(), out.stderr.as_str()),
            (Some(4), "out", "err")
        );
        let missing = Cmd::new("adb-definitely-not-installed", vec![])
            .run_async(Duration::from_secs(5))
            .await;
        assert!(matches!(missing, Err(HostError::Missing { .. })), "{missing:?}");
    }

    #[test]
    fn streams_survive_lines_that_are_not_utf8() {
        let stream = Cmd::new("sh", vec!["-c".into(), "printf 'a\\377b\\nnext\\n'".into()])
            .stream()
            .unwrap();
        assert_eq!(collect(&stream, 2), vec!["a\u{fffd}b", "next"]);
    }

    #[test]
    fn env_is_passed_without_a_shell() {
        let out = Cmd::new("sh", vec!["-c".into(), "printf '%s' \"$SIMCTL_CHILD_X\"".into()])
            .with_env(vec![("SIMCTL_CHILD_X".into(), "$(id) ;`x`".into())])
            .run(Duration::from_secs(10))
            .unwrap();
        assert_eq!(out.stdout_text(), "$(id) ;`x`");
    }
}
