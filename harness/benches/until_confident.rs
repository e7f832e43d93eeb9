//! How many runs `--until-confident` needs for the iOS cold-start bug's verdict, against a
//! fixed N = 30, over 20 seeds.
//!
//! Each run is one cold start of the virtual iOS device (@clerk/expo 3.2.7, restore rate
//! 0.30), driven through the device model directly; the verdict comes from the same test
//! `harness run --until-confident` uses (`stats::Sprt::threshold(0.9, 0.05, 0.05, 0.05)`).
//! Prints the average runs and its ratio to N; exits non-zero when a verdict is wrong or the
//! average exceeds N / 3.

use std::time::Duration;

use harness::farm::app::{Device, sign_in};
use harness::farm::knobs::VirtualKnobs;
use harness::platform::Platform;
use harness::stats::{Decision, Sprt};

const FIXED_N: u64 = 30;

fn main() {
    let mut runs = vec![];
    let mut wrong = 0;
    for seed in 0..20u64 {
        let knobs = VirtualKnobs::default().paused();
        let mut d = Device::new("ios", Platform::Ios, knobs, seed);
        d.launch();
        sign_in(&mut d, "demo@harness.dev", "pw");
        let mut sprt = Sprt::threshold(0.9, 0.05, 0.05, 0.05).expect("valid");
        let mut n = 0;
        while n < FIXED_N && sprt.decision() == Decision::Continue {
            d.terminate();
            d.launch();
            d.advance(Duration::from_secs(10));
            sprt.update(d.auth_view().signed_in);
            n += 1;
        }
        if sprt.decision() != Decision::AcceptH0 {
            wrong += 1;
        }
        runs.push(n);
    }
    let avg = runs.iter().sum::<u64>() as f64 / runs.len() as f64;
    println!(
        "until_confident: iOS session-restore verdict 'below 90 %' in {avg:.1} runs on average over 20 seeds (min {}, max {}), fixed N = {FIXED_N}: {:.2}x the runs",
        runs.iter().min().unwrap_or(&0),
        runs.iter().max().unwrap_or(&0),
        avg / FIXED_N as f64
    );
    if wrong > 0 || avg > FIXED_N as f64 / 3.0 {
        eprintln!("until_confident: {wrong} wrong verdicts, or more than a third of N on average");
        std::process::exit(1);
    }
}
