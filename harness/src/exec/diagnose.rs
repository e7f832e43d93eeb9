//! Why a session assertion failed, from what the screen and secure storage show.
//!
//! The diagnosis separates an SDK bug from a legitimate state: a session token that is still
//! in secure storage and unexpired while the app shows signed out is the SDK failing to
//! restore; a missing token means storage was cleared; an expired one is a real expiry; Clerk
//! signed in while Convex is not is the Convex provider not refreshing its auth.

use crate::exec::storage::TokenState;

/// What the screen showed when the assertion gave up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shown {
    pub signed_in: bool,
    pub signed_out: bool,
    pub loading: bool,
    pub network_error: bool,
    /// `Some(true|false)` when the Convex status element was visible.
    pub convex: Option<bool>,
}

/// What the failed assertion expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    SignedIn,
    SignedOut,
    /// The profile's offline cold start: a network error with the session kept.
    OfflineNetworkError,
    Convex(bool),
}

/// A diagnosis: a stable code and a sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnosis {
    pub cause: &'static str,
    pub message: String,
}

fn d(cause: &'static str, message: String) -> Option<Diagnosis> {
    Some(Diagnosis { cause, message })
}

pub fn diagnose(expected: Expected, shown: Shown, token: &TokenState, key: &str, waited_s: f64) -> Option<Diagnosis> {
    match expected {
        Expected::SignedIn | Expected::Convex(true) if !shown.signed_in => {
            if shown.loading {
                return d(
                    "restore-timeout",
                    format!(
                        "the app was still loading after {waited_s:.0} s: the session was neither restored nor refused in time"
                    ),
                );
            }
            if shown.network_error {
                return d(
                    "network-error",
                    "the app shows a network error instead of the signed-in screen".into(),
                );
            }
            match token {
                TokenState::Present => d(
                    "sdk-restoration",
                    format!(
                        "SDK restoration bug: the session token ({key}) is present and unexpired in secure storage, but the app shows signed out"
                    ),
                ),
                TokenState::Missing => d(
                    "storage-cleared",
                    format!("the session token ({key}) is missing from secure storage: storage was cleared"),
                ),
                TokenState::Expired => d(
                    "token-expired",
                    format!("the session token ({key}) in secure storage has expired: a legitimate expiry"),
                ),
                TokenState::Unknown => d(
                    "session-not-restored",
                    "the app shows signed out; secure storage cannot be read on this device to tell why".into(),
                ),
            }
        }
        Expected::Convex(true) if shown.convex == Some(false) || shown.convex.is_none() => d(
            "convex-stale-auth",
            "Clerk signed in, Convex unauthenticated: the Convex provider did not refresh auth for the new session"
                .into(),
        ),
        Expected::Convex(false) => d("convex-still-authenticated", "Convex stayed authenticated".into()),
        Expected::SignedOut if shown.signed_in => d("sign-out-failed", "the app still shows signed in".into()),
        Expected::OfflineNetworkError => match token {
            TokenState::Missing => d(
                "offline-session-lost",
                format!("the session token ({key}) was removed from secure storage during the offline cold start"),
            ),
            _ if shown.signed_out => d(
                "offline-signed-out",
                "the app shows signed out offline instead of the documented network error".into(),
            ),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: &str = "__clerk_client_jwt";

    #[test]
    fn restoration_causes() {
        let out = Shown {
            signed_out: true,
            ..Shown::default()
        };
        let c = |t| diagnose(Expected::SignedIn, out, &t, K, 10.0).unwrap().cause;
        assert_eq!(c(TokenState::Present), "sdk-restoration");
        assert_eq!(c(TokenState::Missing), "storage-cleared");
        assert_eq!(c(TokenState::Expired), "token-expired");
        assert_eq!(c(TokenState::Unknown), "session-not-restored");
        let msg = diagnose(Expected::SignedIn, out, &TokenState::Present, K, 10.0)
            .unwrap()
            .message;
        assert!(
            msg.starts_with("SDK restoration bug: the session token (__clerk_client_jwt) is present and unexpired")
        );
    }

    #[test]
    fn convex_cause_needs_clerk_signed_in() {
        let signed_in = Shown {
            signed_in: true,
            convex: Some(false),
            ..Shown::default()
        };
        assert_eq!(
            diagnose(Expected::Convex(true), signed_in, &TokenState::Present, K, 10.0)
                .unwrap()
                .cause,
            "convex-stale-auth"
        );
        let signed_out = Shown {
            signed_out: true,
            ..Shown::default()
        };
        assert_eq!(
            diagnose(Expected::Convex(true), signed_out, &TokenState::Present, K, 10.0)
                .unwrap()
                .cause,
            "sdk-restoration"
        );
    }
}
