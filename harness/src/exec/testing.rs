//! Test support for the executor's unit tests: flows and an app profile from YAML text, run
//! on a [`FakeDevice`] with a [`ManualClock`] (waits take no real time) and an in-memory
//! artifact sink.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::driver::fake::{FakeDevice, FakeEvent};
use crate::event::{CaseKey, Events, RunEvent};
use crate::exec::{Executor, FlowOutcome, ManualClock, MemoryArtifacts, Vars};
use crate::flow::model::{Flow, Step};
use crate::load::FlowSet;

/// The seed every test run uses.
pub(crate) const SEED: u64 = 7;

/// An app profile like the demo app's (`flows/apps/clerk-expo-convex.yaml`).
pub(crate) const APP: &str = "\
name: demo
ios: {bundleId: com.example.app}
android: {package: com.example.app}
auth:
  signedIn: {id: screen-home}
  signedOut: {id: screen-sign-in}
  loading: {id: screen-loading}
convex:
  authenticated: {id: convex-authenticated, text: \"true\"}
  unauthenticated: {id: convex-authenticated, text: \"false\"}
offline:
  coldStart: networkError
  networkError: {id: network-error}
secrets: [HARNESS_EMAIL, HARNESS_PASSWORD]
";

/// [`APP`] for a device whose screen cannot be read: `auth.log` markers.
pub(crate) const APP_WITH_LOG: &str = "\
name: demo
ios: {bundleId: com.example.app}
auth:
  signedIn: {id: screen-home}
  signedOut: {id: screen-sign-in}
  log:
    signedIn: \"\\\\[auth\\\\] signed-in\"
    signedOut: \"\\\\[auth\\\\] signed-out\"
";

const ROOT: &str = "flows/main.yaml";
const HEADER: &str = "appId: com.example.app\n---\n";

/// Flows to run, the variables they see and the clock they run on.
pub(crate) struct World {
    flows: FlowSet,
    vars: Vars,
    pub(crate) clock: Arc<ManualClock>,
}

/// What a run produced.
pub(crate) struct Finished {
    pub(crate) out: FlowOutcome,
    pub(crate) sink: MemoryArtifacts,
    pub(crate) events: Vec<RunEvent>,
}

impl Finished {
    pub(crate) fn file(&self, name: &str) -> Vec<u8> {
        self.sink
            .files
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("no artifact {name} in {:?}", self.sink.files.keys()))
    }
}

impl World {
    pub(crate) fn new() -> Self {
        World {
            flows: FlowSet::default(),
            vars: Vars::default(),
            clock: ManualClock::new(),
        }
    }

    /// A flow of these commands (YAML), without an app profile.
    pub(crate) fn flow(commands: &str) -> Self {
        World::new().root(&format!("{HEADER}{commands}"))
    }

    /// A flow of these commands with the [`APP`] profile.
    pub(crate) fn app_flow(commands: &str) -> Self {
        World::new()
            .app(APP)
            .root(&format!("app: apps/app.yaml\n---\n{commands}"))
    }

    /// A flow of these steps, built without YAML.
    pub(crate) fn steps(steps: Vec<Step>) -> Self {
        let mut w = World::new();
        w.flows.flows.insert(
            PathBuf::from(ROOT),
            Flow {
                header: Default::default(),
                steps,
            },
        );
        w
    }

    /// The app profile flows name as `app: apps/app.yaml`.
    pub(crate) fn app(mut self, text: &str) -> Self {
        let path = PathBuf::from("flows/apps/app.yaml");
        let (app, diags) = crate::profile::app::parse_app_profile(text, &path);
        let app = app.unwrap_or_else(|| panic!("app profile: {diags:?}"));
        self.flows.apps.insert(path, app);
        self
    }

    /// A flow file (header, `---`, commands) at `path`.
    pub(crate) fn file(mut self, path: &str, text: &str) -> Self {
        let path = PathBuf::from(path);
        let (flow, diags) = crate::flow::parse::parse_flow(text, &path);
        assert!(!diags.iter().any(|d| d.is_error()), "{path:?}: {diags:?}");
        self.flows.flows.insert(path, flow);
        self
    }

    /// The flow that runs, at `flows/main.yaml`.
    pub(crate) fn root(self, text: &str) -> Self {
        self.file(ROOT, text)
    }

    /// A file the flows use (`addMedia`, `assertScreenshot`), as the loader reads it.
    pub(crate) fn asset(mut self, path: &str, bytes: &[u8]) -> Self {
        self.flows.assets.insert(PathBuf::from(path), bytes.to_vec());
        self
    }

    /// A `-e` variable.
    pub(crate) fn var(mut self, name: &str, value: &str) -> Self {
        self.vars.cli.insert(name.into(), value.into());
        self
    }

    /// A secret value, redacted from messages and artifacts.
    pub(crate) fn secret(mut self, value: &str) -> Self {
        self.vars.secret_values.push(value.into());
        self
    }

    pub(crate) async fn run(&self, d: &mut FakeDevice) -> FlowOutcome {
        self.run_full(d, |e| e).await.out
    }

    pub(crate) async fn run_with(
        &self,
        d: &mut FakeDevice,
        f: impl for<'x> FnOnce(Executor<'x>) -> Executor<'x>,
    ) -> FlowOutcome {
        self.run_full(d, f).await.out
    }

    /// Runs the root flow; `f` configures the executor (time scale, …).
    pub(crate) async fn run_full(
        &self,
        d: &mut FakeDevice,
        f: impl for<'x> FnOnce(Executor<'x>) -> Executor<'x>,
    ) -> Finished {
        let mut sink = MemoryArtifacts::new("artifacts");
        let (events, mut rx) = Events::channel();
        let key = CaseKey {
            flow: "main".into(),
            device: "fake".into(),
            iteration: 1,
            attempt: 1,
        };
        let exec = Executor::new(d, &self.flows, self.vars.clone(), Box::new(&mut sink), SEED)
            .with_clock(self.clock.clone())
            .with_events(events, key);
        let out = f(exec).run_flow(Path::new(ROOT)).await;
        let mut events = vec![];
        while let Ok(e) = rx.try_recv() {
            events.push(e);
        }
        Finished { out, sink, events }
    }
}

/// Page-source reads before the failure artifacts (which read the screen once more).
pub(crate) fn looks(d: &FakeDevice) -> usize {
    d.events()
        .iter()
        .take_while(|e| **e != FakeEvent::Screenshot)
        .filter(|e| **e == FakeEvent::Source)
        .count()
}

/// A session JWT as Clerk's token cache stores it, with `exp` when given.
pub(crate) fn jwt(exp: Option<u64>) -> String {
    let mut claims = serde_json::json!({"sid": "sess_1", "sub": "user_1"});
    if let Some(exp) = exp {
        claims["exp"] = exp.into();
    }
    crate::jwt::encode_hs256(&claims, "test", b"test-key")
}
