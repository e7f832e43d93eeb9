//! The iOS Simulator keychain on disk (reference device-mechanics §4.1).
//!
//! Each simulator keeps one keychain, outside every app container:
//! `<data>/Library/Keychains/keychain-2-debug.db` (SQLite, with `-wal` and `-shm` sidecars),
//! where `<data>` is `~/Library/Developer/CoreSimulator/Devices/<UDID>/data`. The generic
//! password table `genp` holds expo-secure-store's items. Its `acct` and `svce` columns hold the
//! SHA-1 of the account and service names, `agrp` the access group in clear, `mdat` the
//! modification time; the `data` column is encrypted and cannot be read off the device.
//!
//! So a snapshot tells, per item of the app's access group: which key it is (by hashing the
//! names the app profile declares), when it was written, and a digest of its encrypted blob.
//! Between two snapshots an item is then present, absent, added, removed or rotated
//! (rewritten: a new `mdat` or blob; a rewrite with the same value also counts, because
//! every write encrypts anew).
//!
//! The database is opened read-only while the simulator runs; SQLite still reads its WAL, and
//! on a database in WAL mode whose `-shm` is missing (a shut-down simulator) it creates the
//! `-wal`/`-shm` sidecars, as any reader does. [`backup`] writes a consistent copy (SQLite's
//! `VACUUM INTO`, safe while securityd writes); [`restore`] puts it back and needs the
//! simulator shut down (securityd holds the files open).

use std::path::{Path, PathBuf};

use rusqlite::types::Value;
use sha1::{Digest, Sha1};
use sha2::Sha256;

use super::command::{FileError, HostError};

/// The keychain file securityd uses on the simulator (no hardware AES there).
pub const KEYCHAIN_DB: &str = "keychain-2-debug.db";

/// The services expo-secure-store writes under, in the order it reads them (§3.1): its
/// default `app` with the `:no-auth` / `:auth` suffix of 12.8+, and the legacy plain `app`.
pub const EXPO_SERVICES: [&str; 3] = ["app:no-auth", "app:auth", "app"];

/// `<data>/Library/Keychains`.
pub fn keychain_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("Library").join("Keychains")
}

/// The simulator's data directory when `simctl list` does not give `dataPath`.
pub fn default_data_dir(home: &Path, udid: &str) -> PathBuf {
    home.join("Library/Developer/CoreSimulator/Devices")
        .join(udid)
        .join("data")
}

/// SHA-1 of a name's UTF-8 bytes, as securityd stores hashed attributes.
pub fn sha1(name: &str) -> [u8; 20] {
    Sha1::digest(name.as_bytes()).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One `genp` row of the app's access group.
#[derive(Debug, Clone, PartialEq)]
pub struct KeychainItem {
    pub rowid: i64,
    /// Access group in clear (`TEAMID.com.example.app`).
    pub access_group: String,
    /// SHA-1 of the account (expo-secure-store: the key).
    pub account_sha1: Vec<u8>,
    /// SHA-1 of the service (expo-secure-store: `app:no-auth`, …).
    pub service_sha1: Vec<u8>,
    /// Protection class (`ck` = after first unlock, `ak` = when unlocked, …).
    pub protection: Option<String>,
    /// Modification time as stored (seconds since 2001-01-01, Core Foundation's epoch).
    pub modified: Option<f64>,
    /// SHA-256 of the encrypted `data` blob (the blob itself is never kept).
    pub data_sha256: String,
    pub data_len: usize,
}

/// Whether `group` is the app's access group: the bundle id itself or `<prefix>.<bundle id>`
/// with a one-component prefix (the team or app-id prefix, `ABCDE12345.`). So bundle
/// `example.app` does not claim `TEAM.com.example.app`, another app's group.
fn is_app_group(group: &str, bundle_id: &str) -> bool {
    group == bundle_id
        || group
            .strip_suffix(bundle_id)
            .and_then(|p| p.strip_suffix('.'))
            .is_some_and(|prefix| !prefix.is_empty() && !prefix.contains('.'))
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Real(r) => Some(*r),
        Value::Integer(i) => Some(*i as f64),
        Value::Text(t) => t.trim().parse().ok(),
        _ => None,
    }
}

fn as_bytes(v: Value) -> Vec<u8> {
    match v {
        Value::Blob(b) => b,
        Value::Text(t) => t.into_bytes(),
        _ => Vec::new(),
    }
}

/// Reads the live (not tombstoned) `genp` items of `bundle_id`'s access group from `db`
/// (`<data>/Library/Keychains/keychain-2-debug.db`), opened read-only. A missing database in
/// an existing data folder is an empty keychain (the simulator never wrote one); a missing
/// data folder is an error (a wrong UDID or `dataPath` must not read as "signed out").
pub fn read_items(db: &Path, bundle_id: &str) -> Result<Vec<KeychainItem>, HostError> {
    let fail = |what: &str, source: Option<rusqlite::Error>| HostError::Keychain {
        path: db.to_path_buf(),
        what: what.to_string(),
        source: source.map(FileError::from),
    };
    if !db.exists() {
        let data = db.parent().and_then(Path::parent).and_then(Path::parent);
        return match data {
            Some(d) if d.is_dir() => Ok(Vec::new()),
            _ => Err(fail(
                "the simulator's data folder does not exist: check the simulator's UDID (and dataPath in `xcrun simctl list -j devices`)",
                None,
            )),
        };
    }
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = rusqlite::Connection::open_with_flags(db, flags)
        .map_err(|e| fail("cannot open the keychain database", Some(e)))?;
    // securityd may hold a write lock for a moment.
    let _ = conn.busy_timeout(std::time::Duration::from_secs(2));
    let columns: Vec<String> = {
        let mut stmt = conn
            .prepare("SELECT name FROM pragma_table_info('genp')")
            .map_err(|e| fail("not a keychain database", Some(e)))?;
        stmt.query_map([], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| fail("cannot read the genp table", Some(e)))?
    };
    if columns.is_empty() {
        return Err(fail(
            "no genp table: this is not a keychain database (or an unknown schema)",
            None,
        ));
    }
    for needed in ["acct", "svce", "agrp", "data"] {
        if !columns.iter().any(|c| c == needed) {
            return Err(fail(&format!("the genp table has no {needed} column"), None));
        }
    }
    let has = |c: &str| columns.iter().any(|x| x == c);
    let optional = |c: &str| if has(c) { c.to_string() } else { "NULL".to_string() };
    let tomb = if has("tomb") {
        "WHERE tomb = 0 OR tomb IS NULL"
    } else {
        ""
    };
    let sql = format!(
        "SELECT rowid, agrp, acct, svce, {}, {}, data FROM genp {tomb} ORDER BY rowid",
        optional("pdmn"),
        optional("mdat"),
    );
    let mut stmt = conn.prepare(&sql).map_err(|e| fail("cannot query genp", Some(e)))?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Value>(1)?,
                r.get::<_, Value>(2)?,
                r.get::<_, Value>(3)?,
                r.get::<_, Value>(4)?,
                r.get::<_, Value>(5)?,
                r.get::<_, Value>(6)?,
            ))
        })
        .map_err(|e| fail("cannot query genp", Some(e)))?;
    let mut items = Vec::new();
    for row in rows {
        let (rowid, agrp, acct, svce, pdmn, mdat, data) = row.map_err(|e| fail("cannot read a genp row", Some(e)))?;
        let access_group = String::from_utf8_lossy(&as_bytes(agrp)).into_owned();
        if !is_app_group(&access_group, bundle_id) {
            continue;
        }
        let data = as_bytes(data);
        items.push(KeychainItem {
            rowid,
            access_group,
            account_sha1: as_bytes(acct),
            service_sha1: as_bytes(svce),
            protection: match pdmn {
                Value::Null => None,
                v => Some(String::from_utf8_lossy(&as_bytes(v)).into_owned()),
            },
            modified: as_f64(&mdat),
            data_sha256: hex(&Sha256::digest(&data)),
            data_len: data.len(),
        });
    }
    Ok(items)
}

/// Secure-storage entries `(key, store, fingerprint)` for the executor's snapshot.
///
/// `key` is the first of `keys` whose SHA-1 is the item's account, else `sha1:<hex>`;
/// `store` is `keychain:<service>` likewise. The fingerprint stands in for the value (which is
/// encrypted): row, modification time and blob digest, so any rewrite changes it.
pub fn entries(items: &[KeychainItem], keys: &[String], services: &[String]) -> Vec<(String, String, String)> {
    let name = |digest: &[u8], names: &[String]| {
        names
            .iter()
            .find(|n| sha1(n).as_slice() == digest)
            .cloned()
            .unwrap_or_else(|| format!("sha1:{}", hex(digest)))
    };
    items
        .iter()
        .map(|i| {
            let fingerprint = format!(
                "keychain-item rowid={} mdat={} data=sha256:{} ({} bytes)",
                i.rowid,
                i.modified.map_or("?".to_string(), |m| format!("{m:.6}")),
                i.data_sha256,
                i.data_len
            );
            (
                name(&i.account_sha1, keys),
                format!("keychain:{}", name(&i.service_sha1, services)),
                fingerprint,
            )
        })
        .collect()
}

/// How one key changed between two snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Absent,
    Added,
    Removed,
    /// Present in both, same row, time and blob.
    Unchanged,
    /// Present in both, rewritten.
    Rotated,
}

/// Compares `key` (by account SHA-1) between two reads of the same access group.
pub fn compare(before: &[KeychainItem], after: &[KeychainItem], key: &str) -> Change {
    let digest = sha1(key);
    let find = |items: &[KeychainItem]| {
        items
            .iter()
            .find(|i| i.account_sha1 == digest)
            .map(|i| (i.rowid, i.modified.map(f64::to_bits), i.data_sha256.clone()))
    };
    match (find(before), find(after)) {
        (None, None) => Change::Absent,
        (None, Some(_)) => Change::Added,
        (Some(_), None) => Change::Removed,
        (Some(a), Some(b)) if a == b => Change::Unchanged,
        _ => Change::Rotated,
    }
}

/// The database and its sidecars, those that exist.
fn db_files(dir: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|s| dir.join(format!("{KEYCHAIN_DB}{s}")))
        .filter(|p| p.exists())
        .collect()
}

/// Saves the keychain database of `keychains` (a `Library/Keychains` directory) into `to` as
/// one consistent file (SQLite's `VACUUM INTO`, with whatever the WAL holds), replacing an
/// earlier backup there. Works while the simulator runs.
pub fn backup(keychains: &Path, to: &Path) -> Result<(), HostError> {
    let fail = |what: &str, source: Option<FileError>| HostError::KeychainBackup {
        from: keychains.to_path_buf(),
        to: to.to_path_buf(),
        what: what.to_string(),
        source,
    };
    let db = keychains.join(KEYCHAIN_DB);
    if !db.exists() {
        return Err(fail(&format!("there is no {KEYCHAIN_DB} yet"), None));
    }
    std::fs::create_dir_all(to).map_err(|e| fail("cannot create the backup folder", Some(e.into())))?;
    // Sidecars of an earlier backup would be replayed over this one on restore.
    for f in db_files(to) {
        std::fs::remove_file(f).map_err(|e| fail("cannot remove the earlier backup", Some(e.into())))?;
    }
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = rusqlite::Connection::open_with_flags(&db, flags)
        .map_err(|e| fail(&format!("cannot open {KEYCHAIN_DB}"), Some(e.into())))?;
    let _ = conn.busy_timeout(std::time::Duration::from_secs(5));
    let target = to.join(KEYCHAIN_DB);
    conn.execute("VACUUM INTO ?1", [target.display().to_string()])
        .map_err(|e| fail("cannot copy the database", Some(e.into())))?;
    Ok(())
}

/// Replaces the keychain files of `keychains` with those saved in `from` by [`backup`].
/// `booted` is the simulator's state: restoring under a running securityd would corrupt the
/// database, so it is refused.
pub fn restore(from: &Path, keychains: &Path, booted: bool) -> Result<usize, HostError> {
    if booted {
        // `harness keychain restore` recognises this refusal by its text (cli/keychain.rs).
        return Err(HostError::Failed {
            command: format!("keychain restore {} → {}", from.display(), keychains.display()),
            status: None,
            stderr: "the simulator is booted; shut it down first (xcrun simctl shutdown <udid>)".into(),
        });
    }
    let fail = |what: &str, source: Option<FileError>| HostError::KeychainRestore {
        from: from.to_path_buf(),
        to: keychains.to_path_buf(),
        what: what.to_string(),
        source,
    };
    let saved = db_files(from);
    if saved.is_empty() {
        return Err(fail(&format!("no {KEYCHAIN_DB} in the backup folder"), None));
    }
    std::fs::create_dir_all(keychains).map_err(|e| fail("cannot create the keychain folder", Some(e.into())))?;
    // Stale sidecars of the current database must not be replayed over the restored one.
    for f in db_files(keychains) {
        std::fs::remove_file(&f).map_err(|e| fail(&format!("cannot remove {}", f.display()), Some(e.into())))?;
    }
    for f in &saved {
        std::fs::copy(f, keychains.join(f.file_name().unwrap_or_default()))
            .map_err(|e| fail(&format!("cannot copy {}", f.display()), Some(e.into())))?;
    }
    Ok(saved.len())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The real `genp` schema (see the fixture's origin notes).
    pub(crate) const SCHEMA: &str = include_str!("../../tests/fixtures/host/keychain-genp-schema.sql");

    /// A keychain database with the real schema and the given rows
    /// `(agrp, account, service, mdat, data)`.
    pub(crate) fn build(path: &Path, rows: &[(&str, &str, &str, f64, &[u8])]) {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        for (agrp, acct, svce, mdat, data) in rows {
            insert(&conn, agrp, acct, svce, *mdat, data);
        }
    }

    pub(crate) fn insert(conn: &rusqlite::Connection, agrp: &str, acct: &str, svce: &str, mdat: f64, data: &[u8]) {
        let persistref = uuid_like(acct, mdat);
        conn.execute(
            "INSERT INTO genp (cdat, mdat, acct, svce, data, agrp, pdmn, sync, tomb, musr, persistref, sha1) \
             VALUES (?1, ?1, ?2, ?3, ?4, ?5, 'ck', 0, 0, '', ?6, ?7)",
            rusqlite::params![
                mdat,
                sha1(acct).to_vec(),
                sha1(svce).to_vec(),
                data.to_vec(),
                agrp,
                persistref,
                sha1(&format!("{agrp}{acct}{svce}")).to_vec()
            ],
        )
        .unwrap();
    }

    fn uuid_like(acct: &str, mdat: f64) -> Vec<u8> {
        sha1(&format!("{acct}{mdat}"))[..16].to_vec()
    }

    const BID: &str = "com.harness.clerkconvex";
    const GROUP: &str = "ABCDE12345.com.harness.clerkconvex";

    #[test]
    fn sha1_of_names_matches_securityd_hashing() {
        // SHA-1("__clerk_client_jwt") and SHA-1("app:no-auth"), computed independently.
        assert_eq!(hex(&sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(sha1("__clerk_client_jwt").len(), 20);
    }

    #[test]
    fn reads_the_apps_items_and_names_them() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(KEYCHAIN_DB);
        build(
            &db,
            &[
                (
                    GROUP,
                    "__clerk_client_jwt",
                    "app:no-auth",
                    785_000_000.5,
                    b"\x07\x00blob-1",
                ),
                (
                    GROUP,
                    "__clerk_cache_client_abcde-latest",
                    "app:no-auth",
                    785_000_001.0,
                    b"x",
                ),
                (
                    "OTHER.com.example.other",
                    "__clerk_client_jwt",
                    "app:no-auth",
                    1.0,
                    b"y",
                ),
                ("com.apple.security.sos", "acct", "svc", 1.0, b"z"),
                // `evilcom.harness.clerkconvex` is not the app's group.
                ("evilcom.harness.clerkconvex", "__clerk_client_jwt", "app", 1.0, b"w"),
            ],
        );
        let items = read_items(&db, BID).unwrap();
        assert_eq!(items.len(), 2, "{items:?}");
        assert_eq!(items[0].access_group, GROUP);
        assert_eq!(items[0].protection.as_deref(), Some("ck"));
        assert_eq!(items[0].modified, Some(785_000_000.5));
        let keys = vec!["__clerk_client_jwt".to_string()];
        let services: Vec<String> = EXPO_SERVICES.iter().map(|s| s.to_string()).collect();
        let e = entries(&items, &keys, &services);
        assert_eq!(e[0].0, "__clerk_client_jwt");
        assert_eq!(e[0].1, "keychain:app:no-auth");
        assert!(e[0].2.contains("mdat=785000000.500000"), "{}", e[0].2);
        assert!(!e[0].2.contains("blob-1"));
        assert_eq!(
            e[1].0,
            format!("sha1:{}", hex(&sha1("__clerk_cache_client_abcde-latest")))
        );
        // A bare bundle id as the group is the app's too; a longer bundle id is another app.
        assert!(is_app_group(BID, BID));
        assert!(!is_app_group(&format!(".{BID}"), BID));
        assert!(is_app_group("TEAM.example.app", "example.app"));
        assert!(!is_app_group("TEAM.com.example.app", "example.app"));
    }

    #[test]
    fn reads_what_a_running_writer_left_in_the_wal() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(KEYCHAIN_DB);
        build(&db, &[]);
        // securityd keeps the database in WAL mode and open; nothing is checkpointed yet.
        let writer = rusqlite::Connection::open(&db).unwrap();
        let mode: String = writer.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        writer.execute_batch("PRAGMA wal_autocheckpoint=0").unwrap();
        insert(&writer, GROUP, "__clerk_client_jwt", "app:no-auth", 42.0, b"in-wal");
        assert!(dir.path().join(format!("{KEYCHAIN_DB}-wal")).exists());
        let items = read_items(&db, BID).unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].modified, Some(42.0));
        // A backup taken now holds it too, in one file.
        let saved = dir.path().join("saved");
        backup(dir.path(), &saved).unwrap();
        assert_eq!(read_items(&saved.join(KEYCHAIN_DB), BID).unwrap().len(), 1);
        drop(writer);
    }

    #[test]
    fn a_wrong_simulator_folder_is_an_error_not_an_empty_keychain() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let db = keychain_dir(&data).join(KEYCHAIN_DB);
        let e = read_items(&db, BID).unwrap_err().to_string();
        assert!(e.contains("data folder does not exist"), "{e}");
        std::fs::create_dir_all(&data).unwrap();
        assert!(read_items(&db, BID).unwrap().is_empty());
    }

    #[test]
    fn tombstones_are_not_items() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(KEYCHAIN_DB);
        build(&db, &[(GROUP, "__clerk_client_jwt", "app:no-auth", 5.0, b"a")]);
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute("UPDATE genp SET tomb = 1", []).unwrap();
        drop(conn);
        assert!(read_items(&db, BID).unwrap().is_empty());
    }

    #[test]
    fn present_absent_added_removed_rotated() {
        let dir = tempfile::tempdir().unwrap();
        let db = keychain_dir(dir.path()).join(KEYCHAIN_DB);
        std::fs::create_dir_all(db.parent().unwrap()).unwrap();
        assert_eq!(
            read_items(&db, BID).unwrap(),
            vec![],
            "a missing file is an empty keychain"
        );
        build(&db, &[]);
        let empty = read_items(&db, BID).unwrap();
        let conn = rusqlite::Connection::open(&db).unwrap();
        insert(&conn, GROUP, "__clerk_client_jwt", "app:no-auth", 10.0, b"v1");
        let first = read_items(&db, BID).unwrap();
        let again = read_items(&db, BID).unwrap();
        conn.execute(
            "UPDATE genp SET mdat = 11.0, data = X'7632' WHERE rowid = ?1",
            [first[0].rowid],
        )
        .unwrap();
        let rotated = read_items(&db, BID).unwrap();
        conn.execute("DELETE FROM genp", []).unwrap();
        let removed = read_items(&db, BID).unwrap();
        let key = "__clerk_client_jwt";
        assert_eq!(compare(&empty, &empty, key), Change::Absent);
        assert_eq!(compare(&empty, &first, key), Change::Added);
        assert_eq!(compare(&first, &again, key), Change::Unchanged);
        assert_eq!(compare(&first, &rotated, key), Change::Rotated);
        assert_eq!(compare(&rotated, &removed, key), Change::Removed);
        let keys = vec![key.to_string()];
        assert_ne!(entries(&first, &keys, &[])[0].2, entries(&rotated, &keys, &[])[0].2);
    }

    #[test]
    fn a_file_that_is_not_a_keychain_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(KEYCHAIN_DB);
        std::fs::write(&db, b"not sqlite at all, just text that is long enough to be a header").unwrap();
        let err = read_items(&db, BID).unwrap_err();
        let e = err.to_string();
        assert!(e.contains(KEYCHAIN_DB) && e.contains("keychain database"), "{e}");
        // SQLite's own error is kept as the cause.
        assert!(
            matches!(
                &err,
                HostError::Keychain {
                    source: Some(FileError::Sqlite(_)),
                    ..
                }
            ),
            "{err:?}"
        );
        let empty = dir.path().join("empty.db");
        rusqlite::Connection::open(&empty)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let e = read_items(&empty, BID).unwrap_err().to_string();
        assert!(e.contains("no genp table"), "{e}");
    }

    #[test]
    fn backup_and_restore_while_shut_down() {
        let dir = tempfile::tempdir().unwrap();
        let keychains = dir.path().join("data/Library/Keychains");
        std::fs::create_dir_all(&keychains).unwrap();
        let db = keychains.join(KEYCHAIN_DB);
        build(&db, &[(GROUP, "__clerk_client_jwt", "app:no-auth", 10.0, b"signed-in")]);
        let saved = dir.path().join("saved");
        // An earlier backup's stale sidecar must not survive into this one.
        std::fs::create_dir_all(&saved).unwrap();
        std::fs::write(saved.join(format!("{KEYCHAIN_DB}-wal")), b"stale").unwrap();
        backup(&keychains, &saved).unwrap();
        assert!(!saved.join(format!("{KEYCHAIN_DB}-wal")).exists());
        // The app is reinstalled and the keychain reset.
        std::fs::remove_file(&db).unwrap();
        std::fs::write(keychains.join(format!("{KEYCHAIN_DB}-wal")), b"stale").unwrap();
        build(&db, &[]);
        assert!(read_items(&db, BID).unwrap().is_empty());
        let e = restore(&saved, &keychains, true).unwrap_err().to_string();
        assert!(e.contains("shut it down first"), "{e}");
        assert_eq!(restore(&saved, &keychains, false).unwrap(), 1);
        assert!(!keychains.join(format!("{KEYCHAIN_DB}-wal")).exists());
        let items = read_items(&db, BID).unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(compare(&[], &items, "__clerk_client_jwt"), Change::Added);
        let e = backup(&dir.path().join("nowhere"), &saved).unwrap_err().to_string();
        assert!(e.contains("no keychain-2-debug.db yet"), "{e}");
        let e = restore(&dir.path().join("nothing"), &keychains, false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no keychain-2-debug.db"), "{e}");
    }
}
