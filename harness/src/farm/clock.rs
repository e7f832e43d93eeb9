//! Virtual time for one virtual device.
//!
//! The clock follows real time scaled by a factor and can jump forward on demand, so a 70 s
//! background completes at once. Random draws come from [`crate::rng::Rng`], seeded per
//! device, so a run is reproducible from its seed.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_jumps() {
        let mut c = Clock::new(1.0);
        let before = c.now_ms();
        c.jump(Duration::from_secs(70));
        assert!(c.now_ms() >= before + 70_000);
    }
}
