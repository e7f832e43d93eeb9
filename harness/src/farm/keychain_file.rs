//! A virtual iOS device's keychain, written to a simulator keychain database on disk.
//!
//! With the knob `keychainDb` (harness:options) pointing at a SQLite file that has the
//! simulator keychain's `genp` table, the virtual device writes its keychain items there the
//! way securityd does on a simulator (reference device-mechanics §4.1): one row per item with
//! `acct` and `svce` as SHA-1 of the account and service, the access group
//! `HARNESSVRT.<bundle id>` in clear, `pdmn = 'ck'`, `mdat` in Core Foundation seconds, and an
//! opaque `data` blob (never the value in clear). A rewrite moves `mdat` and changes the blob;
//! removed items lose their row; `clearKeychains` empties the table.
//!
//! This lets the host backend's keychain reader ([`crate::host::keychain`]) be tried, end to
//! end, without a Mac: point a simulator profile's `dataPath` at the same folder.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::host::keychain::sha1;

/// Seconds between the UNIX epoch and Core Foundation's (2001-01-01).
const CF_EPOCH_OFFSET: f64 = 978_307_200.0;

/// The access-group prefix the virtual app is signed with (a made-up team id).
pub const TEAM_ID: &str = "HARNESSVRT";

/// One item as the device holds it: (account, service) → (modified ms, value).
pub type Items = BTreeMap<(String, String), (u64, String)>;

/// The database a virtual device mirrors its keychain into.
#[derive(Debug)]
pub struct KeychainFile {
    path: PathBuf,
    access_group: String,
    /// What was last written: (account, service) → modified ms; `None` before the first
    /// write, which first removes whatever an earlier device left in the app's group.
    written: Option<BTreeMap<(String, String), u64>>,
    /// A failed write, kept for the device log (the device keeps running).
    pub last_error: Option<String>,
}

impl KeychainFile {
    pub fn new(path: impl Into<PathBuf>, bundle_id: &str) -> KeychainFile {
        KeychainFile {
            path: path.into(),
            access_group: format!("{TEAM_ID}.{bundle_id}"),
            written: None,
            last_error: None,
        }
    }

    /// Brings the database in line with `items`; does nothing when nothing changed.
    pub fn sync(&mut self, items: &Items) {
        let current: BTreeMap<(String, String), u64> = items.iter().map(|(k, (m, _))| (k.clone(), *m)).collect();
        if self.written.as_ref() == Some(&current) {
            return;
        }
        match self.write(items) {
            Ok(()) => {
                self.written = Some(current);
                self.last_error = None;
            }
            Err(e) => self.last_error = Some(format!("keychain file {}: {e}", self.path.display())),
        }
    }

    fn write(&self, items: &Items) -> rusqlite::Result<()> {
        let mut conn = rusqlite::Connection::open_with_flags(&self.path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        conn.busy_timeout(std::time::Duration::from_secs(2))?;
        let tx = conn.transaction()?;
        let empty = BTreeMap::new();
        let written = match &self.written {
            Some(w) => w,
            None => {
                // A new device: the keychain holds what this device holds, nothing older.
                tx.execute("DELETE FROM genp WHERE agrp = ?1", [&self.access_group])?;
                &empty
            }
        };
        for key in written.keys() {
            if !items.contains_key(key) {
                tx.execute(
                    "DELETE FROM genp WHERE acct = ?1 AND svce = ?2 AND agrp = ?3",
                    rusqlite::params![sha1(&key.0).to_vec(), sha1(&key.1).to_vec(), self.access_group],
                )?;
            }
        }
        for ((account, service), (modified_ms, value)) in items {
            if written.get(&(account.clone(), service.clone())) == Some(modified_ms) {
                continue;
            }
            let mdat = *modified_ms as f64 / 1000.0 - CF_EPOCH_OFFSET;
            let (acct, svce) = (sha1(account).to_vec(), sha1(service).to_vec());
            let data = opaque(value, *modified_ms);
            let updated = tx.execute(
                "UPDATE genp SET mdat = ?1, data = ?2 WHERE acct = ?3 AND svce = ?4 AND agrp = ?5",
                rusqlite::params![mdat, data, acct, svce, self.access_group],
            )?;
            if updated == 0 {
                let persistref = sha1(&format!("{account}\u{0}{service}\u{0}{modified_ms}"))[..16].to_vec();
                tx.execute(
                    "INSERT INTO genp (cdat, mdat, acct, svce, data, agrp, pdmn, sync, tomb, musr, persistref, sha1) \
                     VALUES (?1, ?1, ?2, ?3, ?4, ?5, 'ck', 0, 0, '', ?6, ?7)",
                    rusqlite::params![
                        mdat,
                        acct,
                        svce,
                        data,
                        self.access_group,
                        persistref,
                        sha1(&format!("{}{account}{service}", self.access_group)).to_vec()
                    ],
                )?;
            }
        }
        tx.commit()
    }
}

/// A stand-in for securityd's encrypted blob: a version word, then the value XORed with a
/// SHA-1 keystream seeded by the write time (so every write differs), then a 16-byte tag.
/// Never the value in clear; not cryptography, which a test fixture does not need.
fn opaque(value: &str, modified_ms: u64) -> Vec<u8> {
    let mut out = vec![7u8, 0, 0, 0];
    let mut block = sha1(&format!("harness-virtual-keychain:{modified_ms}"));
    for chunk in value.as_bytes().chunks(20) {
        out.extend(chunk.iter().zip(block.iter()).map(|(v, k)| v ^ k));
        let next: String = block.iter().map(|b| format!("{b:02x}")).collect();
        block = sha1(&next);
    }
    out.extend_from_slice(&sha1(&format!("tag:{modified_ms}:{}", value.len()))[..16]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::keychain::{Change, KEYCHAIN_DB, compare, read_items};

    /// A keychain database with the real schema and no rows (and the folder that holds it).
    fn empty_keychain() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(KEYCHAIN_DB);
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute_batch(crate::host::keychain::tests::SCHEMA)
            .unwrap();
        (dir, db)
    }

    #[test]
    fn mirrors_writes_rewrites_and_removals() {
        let (_dir, db) = empty_keychain();
        let bid = "com.harness.clerkconvex";
        let mut file = KeychainFile::new(&db, bid);
        let key = ("__clerk_client_jwt".to_string(), "app:no-auth".to_string());
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJzaWQiOiJzZXNzXzEifQ.c2ln";
        let empty = read_items(&db, bid).unwrap();
        let mut items = Items::new();
        items.insert(key.clone(), (1_700_000_000_000, token.to_string()));
        file.sync(&items);
        assert_eq!(file.last_error, None);
        let first = read_items(&db, bid).unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].access_group, format!("HARNESSVRT.{bid}"));
        assert_eq!(first[0].modified, Some(1_700_000_000.0 - CF_EPOCH_OFFSET));
        let bytes = std::fs::read(&db).unwrap();
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "the value is never in clear"
        );
        file.sync(&items);
        assert_eq!(
            compare(&first, &read_items(&db, bid).unwrap(), &key.0),
            Change::Unchanged
        );
        items.insert(key.clone(), (1_700_000_005_000, token.to_string()));
        file.sync(&items);
        let rotated = read_items(&db, bid).unwrap();
        assert_eq!(compare(&first, &rotated, &key.0), Change::Rotated);
        assert_eq!(rotated[0].rowid, first[0].rowid, "a rewrite updates the row");
        items.clear();
        file.sync(&items);
        assert_eq!(
            compare(&rotated, &read_items(&db, bid).unwrap(), &key.0),
            Change::Removed
        );
        assert_eq!(compare(&empty, &first, &key.0), Change::Added);
    }

    #[test]
    fn a_new_device_starts_from_an_empty_app_group() {
        let (_dir, db) = empty_keychain();
        let bid = "com.harness.clerkconvex";
        let mut items = Items::new();
        items.insert(
            ("__clerk_client_jwt".into(), "app:no-auth".into()),
            (5_000, "old".into()),
        );
        KeychainFile::new(&db, bid).sync(&items);
        assert_eq!(read_items(&db, bid).unwrap().len(), 1);
        // The next case's device has nothing yet: the earlier device's row goes.
        KeychainFile::new(&db, bid).sync(&Items::new());
        assert!(read_items(&db, bid).unwrap().is_empty());
    }

    #[test]
    fn a_missing_database_is_reported_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = KeychainFile::new(dir.path().join("nope/keychain.db"), "com.x");
        let mut items = Items::new();
        items.insert(("k".into(), "s".into()), (1, "v".into()));
        file.sync(&items);
        assert!(
            file.last_error.as_deref().unwrap_or("").contains("nope"),
            "{:?}",
            file.last_error
        );
    }
}
