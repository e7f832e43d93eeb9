//! `harness devices`: what `adb` and `xcrun simctl` see, with the device-profile lines to
//! paste into `devices/NAME.yaml`.

use crate::errors::HarnessError;
use crate::exit_codes;
use crate::host::{list_devices, profile_line};

/// Missing tools are notes, not errors: this always succeeds.
pub fn run() -> Result<i32, HarnessError> {
    let (devices, notes) = list_devices();
    for n in &notes {
        eprintln!("note: {n}");
    }
    if devices.is_empty() {
        println!(
            "no devices: start an Android emulator or boot an iOS simulator (or use the virtual farm: devices/virtual-*.yaml)"
        );
        return Ok(exit_codes::OK);
    }
    for d in &devices {
        println!(
            "{} {} {} ({}){}",
            d.platform,
            d.id,
            d.name,
            d.state,
            if d.detail.is_empty() {
                String::new()
            } else {
                format!(" — {}", d.detail)
            }
        );
        for line in profile_line(d).lines() {
            println!("    {line}");
        }
    }
    Ok(exit_codes::OK)
}
