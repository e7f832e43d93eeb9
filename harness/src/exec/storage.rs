//! Secure storage as the harness records it (digests and JWT claims, never values), and
//! `assertKeychain`: a key present or missing, or unchanged since a snapshot.

use crate::driver::{StorageRead, StorageSource};
use crate::exec::{Executor, InfraError, StepError};
use crate::flow::model::KeychainCheck;
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
    if read.source == StorageSource::Unavailable {
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

impl<'a> Executor<'a> {
    /// The digest of `key` in secure storage now (`None`: missing); an infrastructure error
    /// when this device's storage cannot be read.
    async fn storage_digest(&mut self, key: &str) -> Result<Option<String>, StepError> {
        let read = self.device.secure_storage().await?;
        if read.source == StorageSource::Unavailable {
            return Err(InfraError::StorageUnreadable {
                platform: self.device.platform(),
            }
            .into());
        }
        Ok(digest_entries(&read)
            .into_iter()
            .find(|e| e.key == key)
            .map(|e| e.digest))
    }

    /// `assertKeychain`.
    pub(crate) async fn assert_keychain(&mut self, check: &KeychainCheck) -> Result<(), StepError> {
        match check {
            KeychainCheck::Presence { key, present } => {
                let found = self.storage_digest(key).await?.is_some();
                if found != *present {
                    return Err(StepError::failed(format!(
                        "{key} is {} secure storage",
                        if found { "present in" } else { "missing from" }
                    )));
                }
            }
            KeychainCheck::Unchanged { keys, since } => {
                let Some(snap) = self.out.snapshots.iter().rev().find(|s| &s.name == since).cloned() else {
                    return Err(StepError::failed(format!("snapshot '{since}' was not taken")));
                };
                if snap.storage_source == StorageSource::Unavailable {
                    return Err(InfraError::SnapshotWithoutStorage {
                        snapshot: since.clone(),
                    }
                    .into());
                }
                for key in keys {
                    let before = snap.storage.iter().find(|e| &e.key == key).map(|e| e.digest.clone());
                    let now = self.storage_digest(key).await?;
                    if before != now {
                        let what = match (&before, &now) {
                            (Some(_), None) => "was removed",
                            (None, Some(_)) => "was added",
                            _ => "was rewritten",
                        };
                        return Err(StepError::failed(format!("{key} {what} since snapshot '{since}'")));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::fake::{FakeDevice, FakeEvent};
    use crate::exec::testing::World;

    #[test]
    fn digests_and_claims_without_values() {
        let token = jwt::encode_hs256(
            &serde_json::json!({"sid": "sess_1", "exp": 100, "secret": "x"}),
            "k",
            b"k",
        );
        let read = StorageRead {
            source: StorageSource::Virtual,
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
            source: StorageSource::Unavailable,
            entries: vec![],
        };
        assert_eq!(token_state(&none, "__clerk_client_jwt", 0), TokenState::Unknown);
    }

    const KEY: &str = "__clerk_client_jwt";
    const STORE: &str = "keychain:app:no-auth";

    #[tokio::test]
    async fn presence_of_a_key() {
        let w = World::flow(
            "- assertKeychain: {key: __clerk_client_jwt, present: true}\n- assertKeychain: {key: other, present: false}\n",
        );
        let mut d = FakeDevice::ios().storing(KEY, STORE, "token");
        assert!(w.run(&mut d).await.error.is_none());
        let mut d = FakeDevice::ios();
        let out = w.run(&mut d).await;
        assert_eq!(
            out.error.unwrap().message(),
            "__clerk_client_jwt is missing from secure storage"
        );
        let mut d = FakeDevice::ios()
            .storing(KEY, STORE, "token")
            .storing("other", STORE, "x");
        let out = w.run(&mut d).await;
        assert_eq!(out.error.unwrap().message(), "other is present in secure storage");
    }

    #[tokio::test]
    async fn unchanged_since_a_snapshot() {
        let w = World::flow(
            "- snapshot: before\n- tapOn: {point: \"1,1\"}\n- assertKeychain: {unchanged: [__clerk_client_jwt], since: before}\n",
        );
        let mut d = FakeDevice::ios().storing(KEY, STORE, "token-1");
        assert!(w.run(&mut d).await.error.is_none());

        for (after, what) in [(Some("token-2"), "was rewritten"), (None, "was removed")] {
            let mut d = FakeDevice::ios().storing(KEY, STORE, "token-1");
            d.react(move |e, s| {
                if matches!(e, FakeEvent::Tap { .. }) {
                    s.storage.clear();
                    if let Some(v) = after {
                        s.store(KEY, STORE, v);
                    }
                }
            });
            let out = w.run(&mut d).await;
            assert_eq!(
                out.error.unwrap().message(),
                format!("__clerk_client_jwt {what} since snapshot 'before'")
            );
        }
        let mut d = FakeDevice::ios();
        d.react(|e, s| {
            if matches!(e, FakeEvent::Tap { .. }) {
                s.store(KEY, STORE, "new");
            }
        });
        let out = w.run(&mut d).await;
        assert_eq!(
            out.error.unwrap().message(),
            "__clerk_client_jwt was added since snapshot 'before'"
        );
    }

    #[tokio::test]
    async fn unreadable_storage_is_an_infrastructure_error() {
        let w = World::flow("- assertKeychain: {key: __clerk_client_jwt, present: true}\n");
        let out = w.run(&mut FakeDevice::ios().storage_unavailable()).await;
        let e = out.error.unwrap();
        assert!(e.is_infrastructure());
        assert!(
            e.message()
                .starts_with("assertKeychain: secure storage cannot be read on this iOS device"),
            "{}",
            e.message()
        );
        let w = World::flow("- snapshot: s\n- assertKeychain: {unchanged: [__clerk_client_jwt], since: s}\n");
        let out = w.run(&mut FakeDevice::android().storage_unavailable()).await;
        let e = out.error.unwrap();
        assert!(e.is_infrastructure());
        assert_eq!(e.message(), "snapshot 's' could not read secure storage on this device");
        let w = World::flow("- assertKeychain: {unchanged: [__clerk_client_jwt], since: nope}\n");
        let e = w.run(&mut FakeDevice::android()).await.error.unwrap();
        assert!(!e.is_infrastructure());
        assert_eq!(e.message(), "snapshot 'nope' was not taken");
    }
}
