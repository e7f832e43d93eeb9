//! `harness keychain`: an iOS simulator's keychain database, from the host.
//!
//! - `show SIMULATOR BUNDLE_ID`: the app's keychain items (key, service, modification time,
//!   protection class, size of the encrypted value), read-only while the simulator runs.
//! - `backup SIMULATOR DIR` / `restore SIMULATOR DIR`: copy `keychain-2-debug.db` and its
//!   sidecars out and back, e.g. to test that a reinstalled app is still signed in. Restoring
//!   needs the simulator shut down (`--shutdown` shuts it down first and boots it again).
//!
//! SIMULATOR is a UDID or a simulator name, as `xcrun simctl list devices` shows them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::driver::ios_host::{StorageNames, data_dir, pick};
use crate::errors::HarnessError;
use crate::exit_codes;
use crate::host::{Cmd, HostError, keychain, simctl};
use crate::profile::device::SimulatorRef;

const TIMEOUT: Duration = Duration::from_secs(60);

#[derive(clap::Subcommand, Debug)]
pub enum KeychainCommand {
    /// List an app's items in a simulator's keychain (read-only).
    Show {
        /// Simulator UDID or name.
        simulator: String,
        /// The app's bundle id (its access group ends with it).
        bundle_id: String,
        /// Keys to recognise besides Clerk's `__clerk_client_jwt` (the database holds only
        /// SHA-1 digests of names); repeatable.
        #[arg(long = "key")]
        keys: Vec<String>,
    },
    /// Copy a simulator's keychain database into DIR.
    Backup {
        /// Simulator UDID or name.
        simulator: String,
        dir: PathBuf,
    },
    /// Put a keychain saved by `backup` back into a shut-down simulator.
    Restore {
        /// Simulator UDID or name.
        simulator: String,
        dir: PathBuf,
        /// Shut the simulator down first, and boot it again afterwards.
        #[arg(long)]
        shutdown: bool,
    },
}

fn simulator(name: &str) -> Result<simctl::Simulator, HarnessError> {
    let out = Cmd::new("xcrun", simctl::list_args()).run(TIMEOUT)?;
    let sims = simctl::parse_list(&out.stdout_text())?;
    let by_udid = SimulatorRef::Udid(name.to_string());
    let by_name = SimulatorRef::DeviceName(name.to_string());
    let sim = pick(&sims, &by_udid, None).or_else(|_| pick(&sims, &by_name, None))?;
    Ok(sim.clone())
}

fn keychains(sim: &simctl::Simulator) -> Result<PathBuf, HarnessError> {
    Ok(keychain::keychain_dir(&data_dir(sim)?))
}

/// Every failure is an infrastructure error (exit code 3).
pub fn run(command: KeychainCommand) -> Result<i32, HarnessError> {
    match command {
        KeychainCommand::Show {
            simulator: name,
            bundle_id,
            keys,
        } => show(&name, &bundle_id, keys),
        KeychainCommand::Backup { simulator: name, dir } => backup(&name, &dir),
        KeychainCommand::Restore {
            simulator: name,
            dir,
            shutdown,
        } => restore(&name, &dir, shutdown),
    }?;
    Ok(exit_codes::OK)
}

fn show(name: &str, bundle_id: &str, keys: Vec<String>) -> Result<(), HarnessError> {
    let sim = simulator(name)?;
    let db = keychains(&sim)?.join(keychain::KEYCHAIN_DB);
    let items = keychain::read_items(&db, bundle_id)?;
    // ClerkKit's own items use the bundle id as their service.
    let StorageNames { keys, mut services } = StorageNames::new(&keys, None);
    services.push(bundle_id.to_string());
    println!("{} ({}) {}", sim.name, sim.udid, db.display());
    if items.is_empty() {
        println!("no keychain items of {bundle_id}");
        return Ok(());
    }
    for (item, (key, store, _)) in items.iter().zip(keychain::entries(&items, &keys, &services)) {
        println!(
            "  {key}  {store}  group {}  modified {}  class {}  {} bytes encrypted",
            item.access_group,
            item.modified.map_or("?".to_string(), cf_time),
            item.protection.as_deref().unwrap_or("?"),
            item.data_len
        );
    }
    Ok(())
}

/// Core Foundation seconds (since 2001) as a UTC date and time.
fn cf_time(seconds: f64) -> String {
    let unix_ms = ((seconds + 978_307_200.0) * 1000.0).max(0.0) as u64;
    crate::iso8601::format_ms(unix_ms)
}

fn backup(name: &str, dir: &Path) -> Result<(), HarnessError> {
    let sim = simulator(name)?;
    let from = keychains(&sim)?;
    keychain::backup(&from, dir)?;
    println!(
        "saved {} of {} ({}) into {}",
        keychain::KEYCHAIN_DB,
        sim.name,
        sim.udid,
        dir.display()
    );
    Ok(())
}

fn restore(name: &str, dir: &Path, shutdown: bool) -> Result<(), HarnessError> {
    let sim = simulator(name)?;
    let to = keychains(&sim)?;
    let booted = sim.state != "Shutdown";
    if booted && shutdown {
        Cmd::new("xcrun", simctl::shutdown_args(&sim.udid)).run(TIMEOUT)?;
    }
    let n = keychain::restore(dir, &to, booted && !shutdown).map_err(|e| match e {
        HostError::Failed { stderr, .. } if stderr.contains("shut it down first") => HarnessError::SimulatorBooted {
            name: sim.name.clone(),
            state: sim.state.clone(),
            udid: sim.udid.clone(),
        },
        other => other.into(),
    })?;
    println!("restored {n} file(s) into {}", to.display());
    if booted && shutdown {
        Cmd::new("xcrun", simctl::boot_args(&sim.udid)).run(TIMEOUT)?;
        println!("booted {} again", sim.name);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_foundation_times() {
        assert_eq!(cf_time(0.0), "2001-01-01T00:00:00Z");
        assert_eq!(cf_time(541_488_060.376), "2018-02-28T05:21:00Z");
        assert_eq!(cf_time(-978_307_200.0), "1970-01-01T00:00:00Z");
    }
}
