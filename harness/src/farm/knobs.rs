//! What the virtual app does with its knobs ([`VirtualKnobs`], defined once with their
//! defaults in `profile::knobs`): which of the two bugs a device has, and paused time.

pub use crate::profile::knobs::{VirtualKnobs, version};

impl VirtualKnobs {
    /// These knobs with virtual time that moves only when advanced (`Device::advance`):
    /// for tests and benchmarks that drive the model directly.
    pub fn paused(self) -> VirtualKnobs {
        VirtualKnobs {
            time_scale: 1e-6,
            ..self
        }
    }

    /// Bug A: @clerk/expo before 3.2.8 loses the session on some iOS cold starts.
    pub fn ios_restore_bug(&self) -> bool {
        version(&self.clerk_expo).is_some_and(|v| v < (3, 2, 8))
    }

    /// Bug B: convex before 1.42.2 does not rebuild its token fetcher when the session changes.
    pub fn convex_stale_bug(&self) -> bool {
        !self.key_convex_by_session && version(&self.convex).is_some_and(|v| v < (1, 42, 2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bugs_follow_versions_and_the_workaround() {
        let k = VirtualKnobs::default();
        assert!(k.ios_restore_bug() && k.convex_stale_bug());
        let fixed = VirtualKnobs {
            clerk_expo: "3.2.9".into(),
            convex: "1.42.2".into(),
            ..VirtualKnobs::default()
        };
        assert!(!fixed.ios_restore_bug() && !fixed.convex_stale_bug());
        let keyed = VirtualKnobs {
            key_convex_by_session: true,
            ..VirtualKnobs::default()
        };
        assert!(!keyed.convex_stale_bug());
    }
}
