//! The virtual device's knobs: one definition, with its defaults, for both sides.
//!
//! A device profile of kind `virtual` sets them under `virtual:` (`profile::device` reads
//! them with located errors); the runner sends them as `harness:options` of the new-session
//! request (serde, camelCase); the virtual farm (`farm`) reads them back with the same type and
//! models the app by them.
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
//! | `sessionLifetimeSecs` | 86400 | a session older than this is expired |
//! | `inactivityTimeoutSecs` | none | a session idle (app in background) longer than this is expired |
//! | `latencyScale` | 1.0 | multiplies every modelled latency (0 = instant) |
//! | `timeScale` | 1.0 | virtual seconds per real second (`harness run` sets it) |
//! | `seed` | server seed | seed of this device's random draws |
//! | `password` | none | when set, sign-in needs this password (else any non-empty one) |
//! | `keychainDb` | none | iOS: a simulator keychain database the device writes its items to |

use serde::{Deserialize, Serialize};

use crate::platform::Network;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct VirtualKnobs {
    /// Version of `@clerk/clerk-expo` the virtual app behaves like (`major.minor.patch`).
    pub clerk_expo: String,
    /// Probability (0..=1) that an iOS cold start with @clerk/expo 3.2.7 restores the session.
    pub restore_rate: f64,
    /// Version of `convex` the virtual app behaves like (`major.minor.patch`).
    pub convex: String,
    /// Whether the Convex client is keyed by session (remounted when the session changes).
    pub key_convex_by_session: bool,
    /// Whether Clerk's token cache (secure store) is used.
    pub token_cache: bool,
    /// Whether Clerk's resource cache (offline client state) is used.
    pub resource_cache: bool,
    /// Network state when the device is created.
    pub network: Network,
    /// How long a Clerk session lives, in seconds.
    pub session_lifetime_secs: f64,
    /// Inactivity timeout of the session in seconds, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inactivity_timeout_secs: Option<f64>,
    /// Multiplier (0..=100) for simulated latencies; 0 makes everything instant.
    pub latency_scale: f64,
    /// Virtual seconds per real second.
    pub time_scale: f64,
    /// Random seed; `None` lets the run (or the server) pick one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// When set, sign-in needs this password (else any non-empty one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// iOS: a simulator keychain database (SQLite with the `genp` table) the device writes its
    /// keychain items to, as securityd would (see `farm::keychain_file`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keychain_db: Option<String>,
}

impl VirtualKnobs {
    pub const DEFAULT_CLERK_EXPO: &'static str = "3.2.7";
    pub const DEFAULT_CONVEX: &'static str = "1.34.1";
    pub const DEFAULT_RESTORE_RATE: f64 = 0.30;
    pub const DEFAULT_SESSION_LIFETIME_SECS: f64 = 86_400.0;
    pub const DEFAULT_LATENCY_SCALE: f64 = 1.0;

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
}

impl Default for VirtualKnobs {
    fn default() -> Self {
        VirtualKnobs {
            clerk_expo: Self::DEFAULT_CLERK_EXPO.into(),
            restore_rate: Self::DEFAULT_RESTORE_RATE,
            convex: Self::DEFAULT_CONVEX.into(),
            key_convex_by_session: false,
            token_cache: true,
            resource_cache: false,
            network: Network::Online,
            session_lifetime_secs: Self::DEFAULT_SESSION_LIFETIME_SECS,
            inactivity_timeout_secs: None,
            latency_scale: Self::DEFAULT_LATENCY_SCALE,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(version("3.2.7"), Some((3, 2, 7)));
        assert_eq!(version("3.2"), None);
        assert_eq!(version("3.2.7.1"), None);
    }

    #[test]
    fn serde_round_trip_and_unknown_knobs() {
        let k = VirtualKnobs {
            restore_rate: 0.5,
            inactivity_timeout_secs: Some(600.0),
            seed: Some(9),
            network: Network::Offline,
            ..VirtualKnobs::default()
        };
        let v = serde_json::to_value(&k).unwrap();
        assert_eq!(v["network"], "offline");
        assert_eq!(v["inactivityTimeoutSecs"], 600.0);
        assert!(v.get("password").is_none());
        assert_eq!(serde_json::from_value::<VirtualKnobs>(v).unwrap(), k);
        let parsed: VirtualKnobs =
            serde_json::from_value(serde_json::json!({"clerkExpo": "3.2.9", "restoreRate": 0.5})).unwrap();
        assert_eq!((parsed.restore_rate, parsed.convex.as_str()), (0.5, "1.34.1"));
        assert!(serde_json::from_value::<VirtualKnobs>(serde_json::json!({"bogus": 1})).is_err());
        assert!(VirtualKnobs::default().validate().is_ok());
        let bad = VirtualKnobs {
            clerk_expo: "3.2".into(),
            ..VirtualKnobs::default()
        };
        assert!(bad.validate().unwrap_err().contains("clerkExpo"));
    }
}
