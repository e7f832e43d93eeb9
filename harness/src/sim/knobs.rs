//! The virtual app's knobs (`harness:options` of a new-session request), with defaults.
//!
//! | knob | default | effect |
//! | --- | --- | --- |
//! | `clerkExpo` | `3.2.7` | below 3.2.8: iOS cold start restores the session only with probability `restoreRate` (bug A) |
//! | `restoreRate` | 0.30 | that probability |
//! | `convex` | `1.34.1` | below 1.42.2: Convex stays unauthenticated after sign-out → sign-in (bug B) |
//! | `keyConvexBySession` | false | the workaround for bug B: the provider remounts per session |
//! | `tokenCache` | true | false: the client JWT is kept in memory only, so a cold start is always signed out |
//! | `resourceCache` | false | true: an offline cold start signs in from the cached client |
//! | `network` | online | network state when the device is created |
//! | `sessionLifetime` | 86400 s | a session older than this is expired |
//! | `inactivityTimeout` | none | a session idle (app in background) longer than this is expired |
//! | `latencyScale` | 1.0 | multiplies every modelled latency (0 = instant) |
//! | `timeScale` | 1.0 | virtual seconds per real second |
//! | `seed` | server seed | seed of this device's random draws |
//! | `password` | none | when set, sign-in needs this password (else any non-empty one) |

use serde::Deserialize;

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Knobs {
    pub clerk_expo: String,
    pub restore_rate: f64,
    pub convex: String,
    pub key_convex_by_session: bool,
    pub token_cache: bool,
    pub resource_cache: bool,
    pub network: NetworkState,
    pub session_lifetime_secs: f64,
    pub inactivity_timeout_secs: Option<f64>,
    pub latency_scale: f64,
    pub time_scale: f64,
    pub seed: Option<u64>,
    pub password: Option<String>,
    /// iOS: a simulator keychain database (SQLite with the `genp` table) the device writes its
    /// keychain items to, as securityd would (see `sim::keychain_file`).
    pub keychain_db: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkState {
    Online,
    Offline,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            clerk_expo: "3.2.7".into(),
            restore_rate: 0.30,
            convex: "1.34.1".into(),
            key_convex_by_session: false,
            token_cache: true,
            resource_cache: false,
            network: NetworkState::Online,
            session_lifetime_secs: 86_400.0,
            inactivity_timeout_secs: None,
            latency_scale: 1.0,
            time_scale: 1.0,
            seed: None,
            password: None,
            keychain_db: None,
        }
    }
}

/// `major.minor.patch` → comparable triple; `None` when malformed.
pub fn version(v: &str) -> Option<(u32, u32, u32)> {
    let mut it = v.trim().split('.').map(|p| p.parse::<u32>().ok());
    let t = (it.next()??, it.next()??, it.next()??);
    it.next().is_none().then_some(t)
}

impl Knobs {
    /// Checks values the type cannot: versions and ranges. The message names the knob.
    pub fn validate(&self) -> Result<(), String> {
        if version(&self.clerk_expo).is_none() {
            return Err(format!(
                "harness:options.clerkExpo '{}' is not a major.minor.patch version",
                self.clerk_expo
            ));
        }
        if version(&self.convex).is_none() {
            return Err(format!(
                "harness:options.convex '{}' is not a major.minor.patch version",
                self.convex
            ));
        }
        if !(0.0..=1.0).contains(&self.restore_rate) {
            return Err(format!(
                "harness:options.restoreRate {} is not between 0 and 1",
                self.restore_rate
            ));
        }
        if !(0.0..=100.0).contains(&self.latency_scale) {
            return Err(format!(
                "harness:options.latencyScale {} is not between 0 and 100",
                self.latency_scale
            ));
        }
        if !(self.time_scale > 0.0 && self.time_scale <= 10_000.0) {
            return Err(format!(
                "harness:options.timeScale {} is not in (0, 10000]",
                self.time_scale
            ));
        }
        if self.session_lifetime_secs <= 0.0 {
            return Err("harness:options.sessionLifetimeSecs must be positive".into());
        }
        Ok(())
    }

    /// These knobs with virtual time that moves only when advanced (`Device::advance`):
    /// for tests and benchmarks that drive the model directly.
    pub fn paused(self) -> Knobs {
        Knobs {
            time_scale: 1e-6,
            ..self
        }
    }

    /// Bug A: @clerk/expo before 3.2.8 loses the session on some iOS cold starts.
    pub fn ios_restore_bug(&self) -> bool {
        version(&self.clerk_expo).is_some_and(|v| v < (3, 2, 8))
    }

    /// Bug B: convex before 1.42.2 does not rebuild its token fetcher when the session changes.
    pub fn convex_stale_bug(&self) -> bool {
        !self.key_convex_by_session && version(&self.convex).is_some_and(|v| v < (1, 42, 2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_bugs() {
        assert_eq!(version("3.2.7"), Some((3, 2, 7)));
        assert_eq!(version("3.2"), None);
        let k = Knobs::default();
        assert!(k.ios_restore_bug() && k.convex_stale_bug());
        let fixed = Knobs {
            clerk_expo: "3.2.9".into(),
            convex: "1.42.2".into(),
            ..Knobs::default()
        };
        assert!(!fixed.ios_restore_bug() && !fixed.convex_stale_bug());
        let keyed = Knobs {
            key_convex_by_session: true,
            ..Knobs::default()
        };
        assert!(!keyed.convex_stale_bug());
        let parsed: Knobs =
            serde_json::from_value(serde_json::json!({"clerkExpo": "3.2.9", "restoreRate": 0.5})).unwrap();
        assert_eq!(parsed.restore_rate, 0.5);
        assert!(serde_json::from_value::<Knobs>(serde_json::json!({"bogus": 1})).is_err());
    }
}
