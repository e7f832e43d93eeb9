//! The app's auth state, read through its app profile: `assertSession`, `assertConvex`, and
//! the timing of a session restored by a cold start.
//!
//! The state is what the screen shows (the profile's `auth` and `convex` selectors), or,
//! on devices whose screen the backend cannot read, the last `auth.log` marker the app logged
//! since its last launch. A session assertion polls until the expected state shows or its
//! `within` (device time) passes; then the session token's state in secure storage tells
//! why ([`diagnose`]). A cold start that keeps storage (after `stopApp`) is timed until the
//! app shows signed in: the device's own measure when it has one, else the harness's.

use std::time::Duration;

use crate::driver::DriverError;
use crate::exec::diagnose::{Expected, Shown, diagnose};
use crate::exec::storage::{TokenState, token_state};
use crate::exec::{Executor, StepError};
use crate::flow::model::{Selector, SessionState};
use crate::profile::app::{AppProfile, OfflineBehaviour};

/// Session assertions default.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(10);

/// What the device log said about the auth state (`auth.log`), and the lines read so far.
#[derive(Debug, Default)]
pub(crate) struct AuthLog {
    /// The device's log lines read so far in this flow (saved on failure, secrets redacted).
    pub(crate) lines: Vec<String>,
    /// The app profile's `auth.log` markers, compiled: (signed in, signed out).
    markers: Option<(regex::Regex, regex::Regex)>,
    /// The auth state the log shows since the last launch (`Some(true)`: signed in).
    auth: Option<bool>,
    /// The backend cannot read the screen: the auth state comes from `auth.log`.
    screenless: bool,
}

/// The cold start being timed, from the launch that can restore a session to signed in.
#[derive(Debug, Default)]
pub(crate) struct RestoreTimer {
    /// Set by a relaunch after a stop (on the executor's clock).
    relaunched_at: Option<Duration>,
    stopped: bool,
}

impl RestoreTimer {
    /// The app was stopped: its next launch is a cold start.
    pub(crate) fn stopped(&mut self) {
        self.stopped = true;
    }

    /// The app launches at `at`: a cold start that keeps storage can restore a session.
    pub(crate) fn launching(&mut self, at: Duration, keeps_storage: bool) {
        self.relaunched_at = (self.stopped && keeps_storage).then_some(at);
        self.stopped = false;
    }

    /// Whether a cold start is being timed.
    pub(crate) fn timing(&self) -> bool {
        self.relaunched_at.is_some()
    }
}

/// The auth state a snapshot records.
pub(crate) fn auth_name(s: &Shown) -> &'static str {
    if s.signed_in {
        "signedIn"
    } else if s.signed_out {
        "signedOut"
    } else if s.loading {
        "loading"
    } else if s.network_error {
        "networkError"
    } else {
        "unknown"
    }
}

impl<'a> Executor<'a> {
    /// Reads the device's new log lines: kept for the failure artifacts, and matched against
    /// the app profile's `auth.log` markers (the last one seen is the auth state).
    pub(crate) async fn pull_logs(&mut self) {
        let Ok(lines) = self.device.logs().await else { return };
        let log = &mut self.auth_log;
        if log.markers.is_none()
            && let Some(markers) = self.app.and_then(|a| a.auth.log.as_ref())
        {
            // Validated when the app profile was loaded.
            if let (Ok(i), Ok(o)) = (
                regex::Regex::new(&markers.signed_in),
                regex::Regex::new(&markers.signed_out),
            ) {
                log.markers = Some((i, o));
            }
        }
        for line in lines {
            if let Some((signed_in, signed_out)) = &log.markers {
                if signed_in.is_match(&line) {
                    log.auth = Some(true);
                } else if signed_out.is_match(&line) {
                    log.auth = Some(false);
                }
            }
            log.lines.push(line);
        }
    }

    /// The app is about to start again: what the log said before no longer holds.
    pub(crate) async fn forget_log_auth(&mut self) {
        if self.app.is_some_and(|a| a.auth.log.is_some()) {
            self.pull_logs().await;
        }
        self.auth_log.auth = None;
    }

    /// The auth state as the log shows it (`auth.log`), for screenless devices.
    async fn shown_from_log(&mut self) -> Shown {
        self.pull_logs().await;
        let auth = self.auth_log.auth;
        Shown {
            signed_in: auth == Some(true),
            signed_out: auth == Some(false),
            loading: auth.is_none(),
            network_error: false,
            convex: None,
        }
    }

    /// The flow's app profile (`app:` in the header).
    pub(crate) fn app(&self) -> Result<&'a AppProfile, StepError> {
        self.app
            .ok_or_else(|| StepError::failed("this flow has no app profile (`app:` in the header)"))
    }

    /// The secure-storage key that holds the session.
    pub(crate) fn session_key(&self) -> String {
        self.app
            .and_then(|a| a.secure_store.session_keys.first().cloned())
            .unwrap_or_else(|| "__clerk_client_jwt".into())
    }

    /// What the screen shows, read through the app profile.
    pub(crate) async fn shown(&mut self) -> Result<Shown, StepError> {
        let app = self.app()?;
        if app.auth.log.is_some() && self.auth_log.screenless {
            return Ok(self.shown_from_log().await);
        }
        let tree = match self.device.source().await {
            Err(DriverError::Unsupported { .. }) if app.auth.log.is_some() => {
                self.auth_log.screenless = true;
                return Ok(self.shown_from_log().await);
            }
            source => crate::driver::hierarchy::parse_source(&source?)?,
        };
        let vis = |s: &Selector| self.matches(&tree, s).map(|v| !v.is_empty());
        let mut shown = Shown {
            signed_in: vis(&app.auth.signed_in)?,
            signed_out: vis(&app.auth.signed_out)?,
            loading: match &app.auth.loading {
                Some(s) => vis(s)?,
                None => false,
            },
            network_error: match &app.offline {
                Some(OfflineBehaviour::NetworkError { error }) => vis(error)?,
                _ => false,
            },
            convex: None,
        };
        if let Some(c) = &app.convex {
            if vis(&c.authenticated)? {
                shown.convex = Some(true);
            } else if vis(&c.unauthenticated)? {
                shown.convex = Some(false);
            }
        }
        Ok(shown)
    }

    /// The session token's state in secure storage (`Unknown` when it cannot be read).
    async fn token(&mut self) -> TokenState {
        let key = self.session_key();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        match self.device.secure_storage().await {
            Ok(read) => token_state(&read, &key, now),
            Err(_) => TokenState::Unknown,
        }
    }

    /// `assertSession: {state, within}`.
    pub(crate) async fn assert_session(
        &mut self,
        state: SessionState,
        within: Option<Duration>,
    ) -> Result<(), StepError> {
        let within = within.unwrap_or(SESSION_TIMEOUT);
        let expected = match state {
            SessionState::SignedIn => Expected::SignedIn,
            SessionState::SignedOut => Expected::SignedOut,
            SessionState::OfflineExpected => match &self.app()?.offline {
                Some(OfflineBehaviour::SignedIn) | None => Expected::SignedIn,
                Some(OfflineBehaviour::NetworkError { .. }) => Expected::OfflineNetworkError,
            },
        };
        self.wait_auth(within, expected, &format!("the app to be {}", state.name()))
            .await
    }

    /// `assertConvex: {authenticated, within}`.
    pub(crate) async fn assert_convex(
        &mut self,
        authenticated: bool,
        within: Option<Duration>,
    ) -> Result<(), StepError> {
        if self.app()?.convex.is_none() {
            return Err(StepError::failed(
                "assertConvex: the app profile has no `convex` section",
            ));
        }
        let within = within.unwrap_or(SESSION_TIMEOUT);
        self.wait_auth(
            within,
            Expected::Convex(authenticated),
            &format!("Convex authenticated={authenticated}"),
        )
        .await
    }

    /// Polls the auth state until `expected` shows or `within` passes; on failure, diagnoses.
    async fn wait_auth(&mut self, within: Duration, expected: Expected, what: &str) -> Result<(), StepError> {
        let deadline = self.deadline(within).await;
        let started = self.now();
        loop {
            let last = self.expired(&deadline).await;
            let shown = self.shown().await?;
            let holds = match expected {
                Expected::SignedIn => shown.signed_in,
                Expected::SignedOut => shown.signed_out,
                Expected::OfflineNetworkError => shown.network_error,
                Expected::Convex(v) => shown.convex == Some(v),
            };
            if holds {
                if expected == Expected::SignedOut {
                    self.restore.relaunched_at = None; // not restored: nothing to time
                }
                if expected == Expected::SignedIn
                    && let Some(t) = self.restore.relaunched_at.take()
                {
                    let harness_ms = ((self.now() - t).as_secs_f64() * 1000.0 * self.time_scale) as u64;
                    let ms = self.device.last_restore_ms().await.unwrap_or(harness_ms);
                    self.out.restore_ms.get_or_insert(ms);
                }
                if expected == Expected::OfflineNetworkError && self.token().await == TokenState::Missing {
                    let key = self.session_key();
                    let diagnosis = diagnose(expected, shown, &TokenState::Missing, &key, 0.0);
                    return Err(StepError::Failed {
                        message: format!("the app shows the network error, but {key} is gone from secure storage"),
                        diagnosis,
                    });
                }
                return Ok(());
            }
            if last {
                let token = self.token().await;
                let key = self.session_key();
                let diagnosis = diagnose(
                    expected,
                    shown,
                    &token,
                    &key,
                    (self.now() - started).as_secs_f64() * self.time_scale,
                );
                let seen = match (shown.signed_in, shown.signed_out, shown.loading, shown.network_error) {
                    (true, _, _, _) => "signed in",
                    (_, true, _, _) => "signed out",
                    (_, _, true, _) => "loading",
                    (_, _, _, true) => "a network error",
                    _ => "no known auth screen",
                };
                let convex = match shown.convex {
                    Some(true) => ", Convex authenticated",
                    Some(false) => ", Convex unauthenticated",
                    None => "",
                };
                return Err(StepError::Failed {
                    message: format!(
                        "expected {what} within {} s; the app shows {seen}{convex}",
                        within.as_secs()
                    ),
                    diagnosis,
                });
            }
            self.poll().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::fake::{FakeDevice, FakeEvent, Node, screen};
    use crate::exec::testing::{APP_WITH_LOG, World, jwt};
    use crate::platform::Platform;

    const KEY: &str = "__clerk_client_jwt";

    fn home(convex: bool) -> String {
        screen(
            Platform::Ios,
            &[
                Node::id("screen-home"),
                Node::id("convex-authenticated").with_text(&convex.to_string()),
            ],
        )
    }

    fn sign_in() -> String {
        screen(Platform::Ios, &[Node::id("screen-sign-in")])
    }

    fn loading() -> String {
        screen(Platform::Ios, &[Node::id("screen-loading")])
    }

    fn cause(out: &crate::exec::FlowOutcome) -> Option<&'static str> {
        out.error.as_ref().and_then(|e| e.diagnosis()).map(|d| d.cause)
    }

    #[tokio::test]
    async fn signed_out_with_the_token_present_is_an_sdk_restoration_bug() {
        let w = World::app_flow("- assertSession: {state: signedIn, within: 2s}\n");
        let mut d = FakeDevice::ios()
            .showing(sign_in())
            .storing(KEY, "keychain:app:no-auth", &jwt(None));
        let out = w.run(&mut d).await;
        let e = out.error.as_ref().unwrap();
        assert_eq!(
            e.message(),
            "expected the app to be signedIn within 2 s; the app shows signed out"
        );
        assert_eq!(cause(&out), Some("sdk-restoration"));
        assert_eq!(out.steps[0].status, crate::results::StepStatus::Failed);
        assert_eq!(w.clock.now(), Duration::from_secs(2), "waited the whole `within`");
    }

    #[tokio::test]
    async fn the_token_state_tells_the_other_causes() {
        let w = World::app_flow("- assertSession: {state: signedIn, within: 1s}\n");
        let mut d = FakeDevice::ios().showing(sign_in());
        assert_eq!(cause(&w.run(&mut d).await), Some("storage-cleared"));
        let mut d = FakeDevice::ios()
            .showing(sign_in())
            .storing(KEY, "keychain:app:no-auth", &jwt(Some(1)));
        assert_eq!(cause(&w.run(&mut d).await), Some("token-expired"));
        let mut d = FakeDevice::ios().showing(sign_in()).storage_unavailable();
        assert_eq!(cause(&w.run(&mut d).await), Some("session-not-restored"));
        let mut d = FakeDevice::ios().showing(loading());
        assert_eq!(cause(&w.run(&mut d).await), Some("restore-timeout"));
    }

    #[tokio::test]
    async fn clerk_signed_in_and_convex_unauthenticated_is_convex_stale_auth() {
        let w = World::app_flow("- assertConvex: {authenticated: true, within: 1s}\n");
        let mut d = FakeDevice::ios()
            .showing(home(false))
            .storing(KEY, "keychain:app:no-auth", &jwt(None));
        let out = w.run(&mut d).await;
        assert_eq!(
            out.error.as_ref().unwrap().message(),
            "expected Convex authenticated=true within 1 s; the app shows signed in, Convex unauthenticated"
        );
        assert_eq!(cause(&out), Some("convex-stale-auth"));

        // Convex catching up within the wait passes.
        let mut d = FakeDevice::ios().screens([home(false), home(false), home(true)]);
        assert!(w.run(&mut d).await.error.is_none());
    }

    #[tokio::test]
    async fn session_assertions_need_an_app_profile() {
        let w = World::flow("- assertSession: signedIn\n");
        let out = w.run(&mut FakeDevice::ios()).await;
        assert_eq!(
            out.error.unwrap().message(),
            "this flow has no app profile (`app:` in the header)"
        );
    }

    #[tokio::test]
    async fn a_cold_start_that_keeps_storage_is_timed_until_signed_in() {
        let w = World::app_flow(
            "- stopApp\n- launchApp: {stopApp: false}\n- assertSession: {state: signedIn, within: 5s}\n",
        );
        // Loading for two more looks: 100 ms at 20× is 2 s of device time.
        let mut d = FakeDevice::ios().screens([loading(), loading(), home(true)]);
        d.script.app_state = 4;
        d.script.cold_launch_ms = Some(321);
        let out = w.run_with(&mut d, |e| e.with_time_scale(20.0)).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(out.restore_ms, Some(2_000));
        assert_eq!(out.cold_launch_ms, Some(321));

        // The device's own measure wins when it has one.
        let mut d = FakeDevice::ios().screens([loading(), home(true)]);
        d.script.app_state = 4;
        d.script.restore_ms = Some(1_234);
        let out = w.run(&mut d).await;
        assert_eq!(out.restore_ms, Some(1_234));
    }

    #[tokio::test]
    async fn launches_that_cannot_restore_are_not_timed() {
        // Cleared storage: nothing to restore.
        let w =
            World::app_flow("- stopApp\n- launchApp: {clearState: true, stopApp: false}\n- assertSession: signedIn\n");
        let mut d = FakeDevice::ios().screens([loading(), home(true)]);
        d.script.cold_launch_ms = Some(321);
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!((out.restore_ms, out.cold_launch_ms), (None, None));
        // A relaunch that shows signed out stops the timer.
        let w = World::app_flow(
            "- stopApp\n- launchApp: {stopApp: false}\n- assertSession: signedOut\n- assertSession: signedIn\n",
        );
        let mut d = FakeDevice::ios().screens([sign_in(), home(true)]);
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(out.restore_ms, None);
    }

    #[tokio::test]
    async fn offline_network_error_must_keep_the_token() {
        let w = World::app_flow("- assertSession: {state: offlineExpected, within: 1s}\n");
        let offline = screen(Platform::Ios, &[Node::id("network-error")]);
        let mut d = FakeDevice::ios()
            .showing(offline.clone())
            .storing(KEY, "keychain:app:no-auth", &jwt(None));
        assert!(w.run(&mut d).await.error.is_none());
        let mut d = FakeDevice::ios().showing(offline);
        let out = w.run(&mut d).await;
        assert_eq!(
            out.error.as_ref().unwrap().message(),
            "the app shows the network error, but __clerk_client_jwt is gone from secure storage"
        );
        assert_eq!(cause(&out), Some("offline-session-lost"));
    }

    #[tokio::test]
    async fn screenless_devices_read_the_auth_state_from_log_markers() {
        let w = World::new()
            .app(APP_WITH_LOG)
            .root("app: apps/app.yaml\n---\n- launchApp\n- assertSession: {state: signedIn, within: 1s}\n");
        let mut d = FakeDevice::ios();
        d.fail(
            |e| *e == FakeEvent::Source,
            || DriverError::Unsupported {
                command: "page source".into(),
                message: "host backend".into(),
            },
        );
        // The marker logged before the launch is forgotten; the one after it counts.
        d.script.logs = vec!["[auth] signed-in".into()];
        d.react(|e, s| {
            if matches!(e, FakeEvent::Launch { .. }) {
                s.logs.push("[auth] signed-out".into());
                s.logs.push("[auth] signed-in".into());
            }
        });
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        // Read once: later reads go to the log only.
        assert_eq!(d.count(|e| *e == FakeEvent::Source), 1);

        let mut d = FakeDevice::ios();
        d.fail(
            |e| *e == FakeEvent::Source,
            || DriverError::Unsupported {
                command: "page source".into(),
                message: "host backend".into(),
            },
        );
        d.react(|e, s| {
            if matches!(e, FakeEvent::Launch { .. }) {
                s.logs.push("[auth] signed-out".into());
            }
        });
        let out = w.run(&mut d).await;
        assert_eq!(
            out.error.unwrap().message(),
            "expected the app to be signedIn within 1 s; the app shows signed out"
        );
    }
}
