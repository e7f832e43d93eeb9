//! Secure storage as the harness records it: digests and JWT claims, never values.

use crate::driver::StorageRead;
use crate::jwt;
use crate::results::StorageEntry;

/// Digests a storage read. A value that is a JWT keeps its identifying claims (`sid`, `exp`,
/// `aud`, `iat`, `sub`); the signature and the token itself are dropped.
pub fn digest_entries(read: &StorageRead) -> Vec<StorageEntry> {
    read.entries
        .iter()
        .map(|(key, store, value)| StorageEntry {
            key: key.clone(),
            store: store.clone(),
            digest: format!("sha256:{}", jwt::digest(value)),
            claims: jwt::claims(value).map(|c| {
                let keep: serde_json::Map<String, serde_json::Value> = c
                    .into_iter()
                    .filter(|(k, _)| matches!(k.as_str(), "sid" | "exp" | "iat" | "aud" | "sub" | "id"))
                    .collect();
                serde_json::Value::Object(keep)
            }),
        })
        .collect()
}

/// What a session key's state is, for the diagnosis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenState {
    /// The storage cannot be read on this device.
    Unknown,
    Missing,
    /// Present; `exp` in the past.
    Expired,
    /// Present, and either unexpired or without an `exp` claim (Clerk's client JWT).
    Present,
}

pub fn token_state(read: &StorageRead, key: &str, now_unix: u64) -> TokenState {
    if read.source == crate::driver::StorageSource::Unavailable {
        return TokenState::Unknown;
    }
    match read.entries.iter().find(|(k, _, _)| k == key) {
        None => TokenState::Missing,
        Some((_, _, v)) => match jwt::claims(v).and_then(|c| c.get("exp").and_then(|e| e.as_u64())) {
            Some(exp) if exp <= now_unix => TokenState::Expired,
            _ => TokenState::Present,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_and_claims_without_values() {
        let token = jwt::encode_hs256(
            &serde_json::json!({"sid": "sess_1", "exp": 100, "secret": "x"}),
            "k",
            b"k",
        );
        let read = StorageRead {
            source: crate::driver::StorageSource::Virtual,
            entries: vec![(
                "__clerk_client_jwt".into(),
                "keychain:app:no-auth".into(),
                token.clone(),
            )],
        };
        let e = digest_entries(&read);
        let text = serde_json::to_string(&e).unwrap();
        assert!(!text.contains(&token));
        assert!(text.contains("sess_1") && !text.contains("secret"));
        assert_eq!(token_state(&read, "__clerk_client_jwt", 50), TokenState::Present);
        assert_eq!(token_state(&read, "__clerk_client_jwt", 100), TokenState::Expired);
        assert_eq!(token_state(&read, "other", 50), TokenState::Missing);
        let none = StorageRead {
            source: crate::driver::StorageSource::Unavailable,
            entries: vec![],
        };
        assert_eq!(token_state(&none, "__clerk_client_jwt", 0), TokenState::Unknown);
    }
}
