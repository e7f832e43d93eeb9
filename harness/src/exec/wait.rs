//! Waiting: deadlines in device time, polling the page source for elements, the animation
//! settle.
//!
//! Every wait a flow writes (`within`, `timeout`, the lookup timeouts) is device time.
//! Virtual devices run faster than real time, so a wait lasts its duration divided by the
//! executor's time scale in real time; on devices with their own clock
//! ([`Device::device_time_ms`](crate::driver::Device::device_time_ms)) it also lasts that
//! much device time, so a stalled host cannot make a wait end early ([`Deadline`]). Waits
//! poll every [`POLL`] of real time, and whether the deadline has passed is decided before
//! each look: the last look happens after the deadline.
//!
//! Real time comes from a [`Clock`]: tokio's in runs ([`SystemClock`]), a [`ManualClock`]
//! in tests, so a test of a 17 s wait runs in microseconds and counts the looks exactly.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::driver::hierarchy::{Bounds, Element, parse_source};
use crate::driver::select;
use crate::exec::describe::describe_selector;
use crate::exec::{Executor, StepError};
use crate::flow::model::{Selector, Step};

/// Maestro's lookup timeouts.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(17);
pub const OPTIONAL_LOOKUP_TIMEOUT: Duration = Duration::from_secs(7);
/// How often a wait looks again, in real time.
pub const POLL: Duration = Duration::from_millis(50);
/// `waitForAnimationToEnd` without a `timeout`.
pub const ANIMATION_TIMEOUT: Duration = Duration::from_secs(15);
/// `waitForAnimationToEnd` compares page sources this far apart, in device time.
pub const SETTLE_INTERVAL: Duration = Duration::from_millis(200);

/// Real time as the executor sees it.
#[async_trait::async_trait]
pub trait Clock: Send + Sync {
    /// Time since the clock's origin.
    fn now(&self) -> Duration;
    async fn sleep(&self, d: Duration);
}

/// The real clock: `std::time::Instant` and `tokio::time::sleep`.
#[derive(Clone, Copy, Debug)]
pub struct SystemClock {
    origin: std::time::Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock {
            origin: std::time::Instant::now(),
        }
    }
}

#[async_trait::async_trait]
impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }
}

/// A clock that moves only when slept on (or advanced): a sleep returns at once, with the
/// time moved on by its duration. Listeners see each advance (a test moves a fake device's
/// clock with it).
#[derive(Default)]
pub struct ManualClock {
    now: Mutex<Duration>,
    listeners: Mutex<Vec<Listener>>,
}

type Listener = Box<dyn FnMut(Duration) + Send>;

impl ManualClock {
    pub fn new() -> Arc<Self> {
        Arc::new(ManualClock::default())
    }

    /// Calls `f` with every advance.
    pub fn on_advance(&self, f: impl FnMut(Duration) + Send + 'static) {
        self.listeners.lock().expect("clock listeners").push(Box::new(f));
    }

    pub fn now(&self) -> Duration {
        *self.now.lock().expect("clock")
    }

    pub fn advance(&self, d: Duration) {
        *self.now.lock().expect("clock") += d;
        for f in self.listeners.lock().expect("clock listeners").iter_mut() {
            f(d);
        }
    }
}

#[async_trait::async_trait]
impl Clock for ManualClock {
    fn now(&self) -> Duration {
        ManualClock::now(self)
    }

    async fn sleep(&self, d: Duration) {
        self.advance(d);
        tokio::task::yield_now().await;
    }
}

/// A wait's end, in device time: real time divided by the device's time scale, confirmed
/// on the device's own clock when it has one (a stalled host does not shorten the wait).
pub(crate) struct Deadline {
    /// On the executor's clock.
    real: Duration,
    within_ms: u64,
    device_start: Option<u64>,
}

/// The first element a selector matched, as a wait found it.
pub(crate) struct Hit {
    pub(crate) center: (i32, i32),
    pub(crate) bounds: Bounds,
    pub(crate) text: String,
    /// Set when the source has no geometry: the element is clicked by XPath.
    pub(crate) xpath: Option<String>,
}

impl<'a> Executor<'a> {
    /// Real time since the clock's origin.
    pub(crate) fn now(&self) -> Duration {
        self.clock.now()
    }

    /// A device-time duration as real time.
    pub(crate) fn real(&self, d: Duration) -> Duration {
        d.div_f64(self.time_scale)
    }

    /// Starts a wait of `d` device time (`d` as given by the flow, not yet scaled).
    pub(crate) async fn deadline(&mut self, d: Duration) -> Deadline {
        Deadline {
            real: self.now() + self.real(d),
            within_ms: d.as_millis() as u64,
            device_start: self.device.device_time_ms().await,
        }
    }

    /// A deadline of `d` of real time, whatever the device's clock: for loops whose pace is
    /// the harness's own work (scrolling), not the app's.
    pub(crate) fn wall_deadline(&self, d: Duration) -> Deadline {
        Deadline {
            real: self.now() + d,
            within_ms: d.as_millis() as u64,
            device_start: None,
        }
    }

    /// Whether the wait is over: the real deadline passed and, on devices with their own
    /// clock, that much device time passed too.
    pub(crate) async fn expired(&mut self, d: &Deadline) -> bool {
        if self.now() < d.real {
            return false;
        }
        match d.device_start {
            Some(start) => match self.device.device_time_ms().await {
                Some(now) => now.saturating_sub(start) >= d.within_ms,
                None => true,
            },
            None => true,
        }
    }

    /// Sleeps one poll interval (real time).
    pub(crate) async fn poll(&mut self) {
        self.clock.sleep(POLL).await;
    }

    /// Waits `d` of device time.
    pub(crate) async fn pause(&mut self, d: Duration) {
        let deadline = self.deadline(d).await;
        loop {
            let now = self.now();
            if now < deadline.real {
                self.clock.sleep(deadline.real - now).await;
            } else if self.expired(&deadline).await {
                return;
            } else {
                self.poll().await;
            }
        }
    }

    /// The lookup timeout of a step, in device time.
    pub(crate) fn timeout(&self, step: &Step, explicit: Option<Duration>) -> Duration {
        explicit.unwrap_or(if step.optional {
            OPTIONAL_LOOKUP_TIMEOUT
        } else {
            LOOKUP_TIMEOUT
        })
    }

    /// The page source as an element tree.
    pub(crate) async fn tree(&mut self) -> Result<Element, StepError> {
        Ok(parse_source(&self.device.source().await?)?)
    }

    /// The elements `sel` finds in `tree`, with the flow's variables.
    pub(crate) fn matches<'t>(&self, tree: &'t Element, sel: &Selector) -> Result<Vec<&'t Element>, StepError> {
        select::find(tree, sel, &|n: &str| self.vars.lookup(n)).map_err(|e| StepError::failed(e.to_string()))
    }

    /// Polls until `sel` is visible (the first match) or the timeout passes (None).
    pub(crate) async fn wait_visible(&mut self, sel: &Selector, timeout: Duration) -> Result<Option<Hit>, StepError> {
        let deadline = self.deadline(timeout).await;
        loop {
            // Decided before looking, so the last look happens after the deadline.
            let last = self.expired(&deadline).await;
            let tree = self.tree().await?;
            if let Some(e) = self.matches(&tree, sel)?.first() {
                return Ok(Some(Hit {
                    center: e.center(),
                    bounds: e.bounds,
                    text: e.text.clone(),
                    xpath: (e.bounds.is_empty() && !e.xpath.is_empty()).then(|| e.xpath.clone()),
                }));
            }
            if last {
                return Ok(None);
            }
            self.poll().await;
        }
    }

    /// Polls until `sel` finds nothing (true) or the timeout passes (false).
    pub(crate) async fn wait_gone(&mut self, sel: &Selector, timeout: Duration) -> Result<bool, StepError> {
        let deadline = self.deadline(timeout).await;
        loop {
            let last = self.expired(&deadline).await;
            let tree = self.tree().await?;
            if self.matches(&tree, sel)?.is_empty() {
                return Ok(true);
            }
            if last {
                return Ok(false);
            }
            self.poll().await;
        }
    }

    /// `assertVisible`.
    pub(crate) async fn assert_visible(&mut self, step: &Step, s: &Selector) -> Result<(), StepError> {
        let timeout = self.timeout(step, None);
        if self.wait_visible(s, timeout).await?.is_none() {
            return Err(StepError::failed(format!(
                "assertVisible: {} is not visible after {} s",
                describe_selector(s),
                timeout.as_secs()
            )));
        }
        Ok(())
    }

    /// `assertNotVisible`.
    pub(crate) async fn assert_not_visible(&mut self, step: &Step, s: &Selector) -> Result<(), StepError> {
        let timeout = self.timeout(step, None);
        if !self.wait_gone(s, timeout).await? {
            return Err(StepError::failed(format!(
                "assertNotVisible: {} is still visible after {} s",
                describe_selector(s),
                timeout.as_secs()
            )));
        }
        Ok(())
    }

    /// `extendedWaitUntil: {visible, notVisible, timeout}`.
    pub(crate) async fn extended_wait_until(
        &mut self,
        visible: Option<&Selector>,
        not_visible: Option<&Selector>,
        timeout: Option<Duration>,
    ) -> Result<(), StepError> {
        let t = timeout.unwrap_or(LOOKUP_TIMEOUT);
        if let Some(s) = visible
            && self.wait_visible(s, t).await?.is_none()
        {
            return Err(StepError::failed(format!(
                "{} did not appear within {} ms",
                describe_selector(s),
                t.as_millis()
            )));
        }
        if let Some(s) = not_visible
            && !self.wait_gone(s, t).await?
        {
            return Err(StepError::failed(format!(
                "{} did not disappear within {} ms",
                describe_selector(s),
                t.as_millis()
            )));
        }
        Ok(())
    }

    /// `waitForAnimationToEnd`: until two page sources [`SETTLE_INTERVAL`] of device time
    /// apart are the same, or the timeout (device time) passes; never fails on the timeout.
    pub(crate) async fn wait_for_animation(&mut self, timeout: Option<Duration>) -> Result<(), StepError> {
        let deadline = self.deadline(timeout.unwrap_or(ANIMATION_TIMEOUT)).await;
        let mut last = self.device.source().await?;
        while !self.expired(&deadline).await {
            self.pause(SETTLE_INTERVAL).await;
            let now = self.device.source().await?;
            if now == last {
                break;
            }
            last = now;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::fake::{FakeDevice, Node, screen};
    use crate::exec::testing::{World, looks};
    use crate::platform::Platform;

    fn absent() -> String {
        screen(Platform::Android, &[])
    }

    fn present() -> String {
        screen(Platform::Android, &[Node::id("target")])
    }

    #[tokio::test]
    async fn without_a_device_clock_real_time_ends_the_wait_with_a_last_look_after_it() {
        // 1 s at 50 ms a poll: looks at 0, 50, …, 1000 ms; the one at 1000 ms is after the
        // deadline and is still made.
        let w = World::flow("- assertVisible: {id: target, label: never}\n");
        let mut d = FakeDevice::android();
        let out = w.run_with(&mut d, |e| e.with_time_scale(17.0)).await;
        assert_eq!(looks(&d), 21);
        assert_eq!(
            out.error.unwrap().message(),
            "assertVisible: id=target is not visible after 17 s"
        );
        assert_eq!(w.clock.now(), Duration::from_millis(1000));

        // Found on exactly that last look: passes.
        let mut screens = vec![absent(); 20];
        screens.push(present());
        let mut d = FakeDevice::android().screens(screens);
        let out = w.run_with(&mut d, |e| e.with_time_scale(17.0)).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(looks(&d), 21);
    }

    #[tokio::test]
    async fn a_look_that_starts_before_the_deadline_is_not_the_last_one() {
        // Each read of the screen takes 70 ms; the element shows from 1000 ms on. The look
        // that starts at 960 ms ends after the deadline but saw the old screen: one more look.
        let w = World::flow("- extendedWaitUntil: {visible: {id: target}, timeout: 1000}\n");
        let mut d = FakeDevice::android();
        let clock = w.clock.clone();
        d.react(move |e, s| {
            if *e == crate::driver::fake::FakeEvent::Source {
                clock.advance(Duration::from_millis(70));
                if clock.now() >= Duration::from_millis(1000) {
                    s.show(present());
                }
            }
        });
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(looks(&d), 10);
    }

    #[tokio::test]
    async fn a_device_clock_that_lags_keeps_the_wait_going() {
        // The host sleeps 50 ms a poll but the device advances only 10 ms: the 1 s wait
        // lasts until the device's own clock has seen 1 s.
        let w = World::flow("- extendedWaitUntil: {visible: {id: target}, timeout: 1000}\n");
        let mut d = FakeDevice::android();
        let device_clock = d.clock(5_000);
        let lagging = device_clock.clone();
        w.clock
            .on_advance(move |real| lagging.advance_ms(real.as_millis() as u64 / 5));
        let out = w.run(&mut d).await;
        assert_eq!(out.error.unwrap().message(), "id=target did not appear within 1000 ms");
        assert_eq!(device_clock.now_ms() - 5_000, 1_000);
        assert_eq!(w.clock.now(), Duration::from_millis(5_000));
        assert_eq!(looks(&d), 101);
    }

    #[tokio::test]
    async fn a_device_clock_that_runs_ahead_does_not_shorten_the_wait() {
        // The device runs 20 times faster than its time scale says: real time still rules.
        let w = World::flow("- assertNotVisible: {id: target}\n");
        let mut d = FakeDevice::android().showing(present());
        let device_clock = d.clock(0);
        let fast = device_clock.clone();
        w.clock
            .on_advance(move |real| fast.advance_ms(real.as_millis() as u64 * 400));
        let out = w.run_with(&mut d, |e| e.with_time_scale(20.0)).await;
        // 17 s at 20×: 850 ms real.
        assert_eq!(w.clock.now(), Duration::from_millis(850));
        assert_eq!(looks(&d), 18);
        assert_eq!(
            out.error.unwrap().message(),
            "assertNotVisible: id=target is still visible after 17 s"
        );
    }

    #[tokio::test]
    async fn optional_steps_wait_seven_seconds() {
        let w = World::flow("- assertVisible: {id: target, optional: true}\n");
        let mut d = FakeDevice::android();
        let out = w.run(&mut d).await;
        assert!(out.error.is_none());
        assert_eq!(w.clock.now(), OPTIONAL_LOOKUP_TIMEOUT);
    }

    #[tokio::test]
    async fn wait_gone_passes_as_soon_as_the_element_goes() {
        let w = World::flow("- assertNotVisible: {id: target}\n");
        let mut d = FakeDevice::android().screens([present(), present(), absent()]);
        let out = w.run(&mut d).await;
        assert!(out.error.is_none());
        assert_eq!(looks(&d), 3);
        assert_eq!(w.clock.now(), Duration::from_millis(100));
    }

    #[tokio::test]
    async fn an_unreadable_page_source_is_an_infrastructure_error() {
        let w = World::flow("- assertVisible: {id: target}\n");
        let mut d = FakeDevice::android().showing("<hierarchy><a></b></hierarchy>");
        let out = w.run(&mut d).await;
        let e = out.error.unwrap();
        assert!(e.is_infrastructure());
        assert!(e.message().starts_with("unreadable page source: "), "{}", e.message());
    }

    #[tokio::test]
    async fn animation_ends_when_two_sources_a_settle_interval_apart_match() {
        // The device's clock is the time scale's: 20× real time. Sources change on the first
        // three reads, then stay.
        let w = World::flow("- waitForAnimationToEnd\n");
        let frames = ["a", "b", "c", "c"].map(|s| screen(Platform::Android, &[Node::text(s)]));
        let mut d = FakeDevice::android().screens(frames);
        let device_clock = d.clock(0);
        let c = device_clock.clone();
        w.clock
            .on_advance(move |real| c.advance_ms(real.as_millis() as u64 * 20));
        let out = w.run_with(&mut d, |e| e.with_time_scale(20.0)).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(looks(&d), 4);
        // Three settle intervals of device time, 10 ms of real time each.
        assert_eq!(device_clock.now_ms(), 600);
        assert_eq!(w.clock.now(), Duration::from_millis(30));
    }

    #[tokio::test]
    async fn animation_that_never_settles_gives_up_after_the_timeout_in_device_time() {
        let w = World::flow("- waitForAnimationToEnd: {timeout: 1000}\n");
        let frames: Vec<String> = (0..100)
            .map(|i| screen(Platform::Android, &[Node::text(&i.to_string())]))
            .collect();
        let mut d = FakeDevice::android().screens(frames);
        let device_clock = d.clock(0);
        let c = device_clock.clone();
        w.clock.on_advance(move |real| c.advance_ms(real.as_millis() as u64));
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "the timeout is not a failure");
        // A look at 0 ms, then one every 200 ms up to the deadline.
        assert_eq!(looks(&d), 6);
        assert_eq!(device_clock.now_ms(), 1_000);
    }
}
