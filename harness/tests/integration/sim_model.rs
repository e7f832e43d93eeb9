//! The virtual device reproduces the two bugs with the documented rates (seeded).

use std::time::Duration;

use harness::farm::app::{Device, sign_in};
use harness::farm::knobs::VirtualKnobs;
use harness::platform::Platform;

fn device(platform: Platform, knobs: VirtualKnobs, seed: u64) -> Device {
    // Virtual time moves only when the test advances it.
    Device::new("stats", platform, knobs.paused(), seed)
}

/// Signs in once, then force-quits and relaunches `n` times; returns how many cold starts
/// restored the session.
fn restores(platform: Platform, knobs: VirtualKnobs, seed: u64, n: usize) -> usize {
    let mut d = device(platform, knobs, seed);
    d.launch();
    sign_in(&mut d, "demo@harness.dev", "secret");
    assert!(d.auth_view().signed_in);
    let mut ok = 0;
    for _ in 0..n {
        d.terminate();
        d.launch();
        d.advance(Duration::from_secs(10));
        if d.auth_view().signed_in {
            ok += 1;
        }
    }
    ok
}

#[test]
fn ios_3_2_7_restores_about_30_percent_of_cold_starts() {
    let n = 400;
    let ok = restores(Platform::Ios, VirtualKnobs::default(), 2026, n);
    let rate = ok as f64 / n as f64;
    assert!((0.23..=0.37).contains(&rate), "restore rate {rate} ({ok}/{n})");
    // Other seeds, same law.
    for seed in [1, 2, 3] {
        let r = restores(Platform::Ios, VirtualKnobs::default(), seed, n) as f64 / n as f64;
        assert!((0.23..=0.37).contains(&r), "seed {seed}: {r}");
    }
}

#[test]
fn restore_rate_knob_is_honoured() {
    let r = restores(
        Platform::Ios,
        VirtualKnobs {
            restore_rate: 0.8,
            ..VirtualKnobs::default()
        },
        9,
        400,
    ) as f64
        / 400.0;
    assert!((0.73..=0.87).contains(&r), "{r}");
}

#[test]
fn android_and_fixed_clerk_restore_every_time() {
    assert_eq!(restores(Platform::Android, VirtualKnobs::default(), 2026, 200), 200);
    let fixed = VirtualKnobs {
        clerk_expo: "3.2.9".into(),
        ..VirtualKnobs::default()
    };
    assert_eq!(restores(Platform::Ios, fixed, 2026, 200), 200);
}

#[test]
fn without_token_cache_no_cold_start_restores() {
    let knobs = VirtualKnobs {
        token_cache: false,
        ..VirtualKnobs::default()
    };
    assert_eq!(restores(Platform::Android, knobs.clone(), 1, 50), 0);
    assert_eq!(
        restores(
            Platform::Ios,
            VirtualKnobs {
                clerk_expo: "3.2.9".into(),
                ..knobs
            },
            1,
            50
        ),
        0
    );
}

fn convex_after_resign_in(platform: Platform, knobs: VirtualKnobs, seed: u64) -> bool {
    let mut d = device(platform, knobs, seed);
    d.launch();
    sign_in(&mut d, "demo@harness.dev", "secret");
    assert!(d.auth_view().convex_authenticated, "first sign-in authenticates Convex");
    d.tap(Some("sign-out"));
    d.advance(Duration::from_secs(3));
    sign_in(&mut d, "demo@harness.dev", "secret");
    let v = d.auth_view();
    assert!(v.signed_in, "{v:?}");
    d.advance(Duration::from_secs(30));
    d.auth_view().convex_authenticated
}

#[test]
fn convex_bug_appears_only_with_1_34_1_unkeyed() {
    for seed in 0..20 {
        for platform in [Platform::Ios, Platform::Android] {
            assert!(
                !convex_after_resign_in(platform, VirtualKnobs::default(), seed),
                "1.34.1 must show the bug"
            );
            let fixed = VirtualKnobs {
                convex: "1.42.2".into(),
                ..VirtualKnobs::default()
            };
            assert!(convex_after_resign_in(platform, fixed, seed), "1.42.2 must not");
            let keyed = VirtualKnobs {
                key_convex_by_session: true,
                ..VirtualKnobs::default()
            };
            assert!(
                convex_after_resign_in(platform, keyed, seed),
                "keyConvexBySession must not"
            );
        }
    }
}
