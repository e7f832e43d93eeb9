//! Virtual time and seeded randomness for one virtual device.
//!
//! The clock follows real time scaled by a factor and can jump forward on demand, so a 70 s
//! background completes at once. Every random draw comes from [`Rng`], seeded per device, so
//! a run is reproducible from its seed.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Clone, Debug)]
pub struct Clock {
    started: Instant,
    /// Wall-clock time (ms since the Unix epoch) at `started`.
    epoch_ms: u64,
    scale: f64,
    jumped_ms: u64,
}

impl Clock {
    pub fn new(scale: f64) -> Self {
        Clock {
            started: Instant::now(),
            epoch_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
            scale,
            jumped_ms: 0,
        }
    }

    /// Virtual milliseconds since the device was created.
    pub fn now_ms(&self) -> u64 {
        (self.started.elapsed().as_secs_f64() * 1000.0 * self.scale) as u64 + self.jumped_ms
    }

    /// Virtual wall-clock time, ms since the Unix epoch.
    pub fn wall_ms(&self) -> u64 {
        self.epoch_ms + self.now_ms()
    }

    /// Moves virtual time forward.
    pub fn jump(&mut self, d: Duration) {
        self.jumped_ms += d.as_millis() as u64;
    }
}

/// SplitMix64: small, fast, and good enough for simulation draws.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// Seed of a device: the run seed mixed with the device's name.
    pub fn device_seed(run_seed: u64, device: &str) -> u64 {
        let mut h = run_seed ^ 0x9E37_79B9_7F4A_7C15;
        for b in device.bytes() {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01B3);
        }
        Rng(h).next_u64()
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform integer in [lo, hi].
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// An identifier like Clerk's: prefix + base-62 characters.
    pub fn ident(&mut self, prefix: &str, len: usize) -> String {
        const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut s = String::from(prefix);
        for _ in 0..len {
            s.push(A[(self.next_u64() % 62) as usize] as char);
        }
        s
    }
}

/// Formats ms since the Unix epoch as `YYYY-MM-DDTHH:mm:ssZ` (UTC), Appium's default.
pub fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Civil from days (Howard Hinnant).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if mo <= 2 { 1 } else { 0 };
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_reproducible_and_uniform_enough() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        let mut r = Rng::new(1);
        let hits = (0..10_000).filter(|_| r.bernoulli(0.3)).count();
        assert!((2_800..3_200).contains(&hits), "{hits}");
        assert_ne!(Rng::device_seed(1, "a"), Rng::device_seed(1, "b"));
    }

    #[test]
    fn clock_jumps() {
        let mut c = Clock::new(1.0);
        let before = c.now_ms();
        c.jump(Duration::from_secs(70));
        assert!(c.now_ms() >= before + 70_000);
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_795_414_189_000), "2026-11-23T06:09:49Z");
        assert_eq!(iso8601(1_709_251_199_999), "2024-02-29T23:59:59Z");
    }
}
