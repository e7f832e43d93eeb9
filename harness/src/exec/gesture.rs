//! Touches: `tapOn`, `doubleTapOn`, `longPressOn`, and where they land; drags: `swipe`,
//! `scroll`, `scrollUntilVisible`.
//!
//! An element is waited for (the lookup timeout) and touched at its centre, or at a `point`
//! relative to it; a bare `point` is relative to the screen. Points are pixels (`100,200`,
//! offsets from the element's or screen's top-left corner) or percentages (`50%,90%`), in the
//! page source's units (iOS points, Android pixels). A source without geometry (Appium's fake
//! driver) has no centre to touch: the element is clicked by XPath instead.

use std::time::Duration;

use crate::driver::hierarchy::Bounds;
use crate::exec::describe::describe_selector;
use crate::exec::wait::Hit;
use crate::exec::{Executor, StepError};
use crate::flow::model::{Coord, Direction, Point, Selector, Step, Swipe, SwipeKind, Tap, TapTarget};

/// Which touch a tap command makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gesture {
    Tap,
    DoubleTap,
    LongPress,
}

impl Gesture {
    /// Touches per repetition and how long each is held, in ms.
    pub fn touches(self) -> (u32, u64) {
        match self {
            Gesture::Tap => (1, 60),
            Gesture::DoubleTap => (2, 40),
            Gesture::LongPress => (1, 1000),
        }
    }
}

/// Maestro's delay between repeated taps.
pub const REPEAT_DELAY: Duration = Duration::from_millis(100);

/// A point inside `b`: pixels from its top-left corner, or percentages of its size (rounded).
pub fn resolve_point(p: &Point, b: Bounds) -> (i32, i32) {
    let c = |c: Coord, origin: i32, size: i32| match c {
        Coord::Px(v) => origin + v,
        Coord::Percent(pc) => origin + (size as f32 * pc / 100.0).round() as i32,
    };
    (c(p.x, b.x, b.width), c(p.y, b.y, b.height))
}

/// Maestro's swipe duration.
pub const SWIPE_MS: u64 = 400;
/// `scrollUntilVisible`'s defaults (Maestro's): 20 s, speed 40 of 100, 100 % visible.
pub const SCROLL_UNTIL_VISIBLE_TIMEOUT: Duration = Duration::from_secs(20);
pub const SCROLL_SPEED: u32 = 40;

/// Where a swipe in `direction` starts and ends on a screen of bounds `s`: across the middle
/// 60 % of the screen, the finger moving in `direction`.
pub fn direction_points(s: Bounds, direction: Direction) -> ((i32, i32), (i32, i32)) {
    let at = |px: f32, py: f32| {
        (
            s.x + (s.width as f32 * px).round() as i32,
            s.y + (s.height as f32 * py).round() as i32,
        )
    };
    match direction {
        Direction::Up => (at(0.5, 0.8), at(0.5, 0.2)),
        Direction::Down => (at(0.5, 0.2), at(0.5, 0.8)),
        Direction::Left => (at(0.9, 0.5), at(0.1, 0.5)),
        Direction::Right => (at(0.1, 0.5), at(0.9, 0.5)),
    }
}

/// The opposite way: scrolling DOWN (to see what is below) moves the finger up.
fn finger_for_scroll(d: Direction) -> Direction {
    match d {
        Direction::Up => Direction::Down,
        Direction::Down => Direction::Up,
        Direction::Left => Direction::Right,
        Direction::Right => Direction::Left,
    }
}

/// How much of `b` lies inside `screen`, 0-100; an element without geometry counts as visible.
pub fn visible_percent(b: Bounds, screen: Bounds) -> f64 {
    if b.is_empty() {
        return 100.0;
    }
    let w = (b.right().min(screen.right()) - b.x.max(screen.x)).max(0) as f64;
    let h = (b.bottom().min(screen.bottom()) - b.y.max(screen.y)).max(0) as f64;
    100.0 * w * h / (b.width as f64 * b.height as f64)
}

/// A swipe's duration for `scrollUntilVisible`'s `speed` (0-100, Maestro's scale).
fn scroll_duration(speed: u32) -> u64 {
    100 + (100 - speed.min(100) as u64) * 16
}

impl<'a> Executor<'a> {
    /// `swipe`: by direction across the screen, between two points, or from an element.
    pub(crate) async fn swipe(&mut self, step: &Step, s: &Swipe) -> Result<(), StepError> {
        let screen = self.tree().await?.bounds;
        let (from, to) = match &s.kind {
            SwipeKind::Direction(d) => direction_points(screen, *d),
            SwipeKind::Points { start, end } => (resolve_point(start, screen), resolve_point(end, screen)),
            SwipeKind::FromElement { from, direction } => {
                let timeout = self.timeout(step, None);
                let Some(hit) = self.wait_visible(from, timeout).await? else {
                    return Err(StepError::failed(format!(
                        "swipe: {} not found (waited {} s)",
                        describe_selector(from),
                        timeout.as_secs()
                    )));
                };
                let (dx, dy) = match direction {
                    Direction::Up => (0, -screen.height * 2 / 5),
                    Direction::Down => (0, screen.height * 2 / 5),
                    Direction::Left => (-screen.width * 2 / 5, 0),
                    Direction::Right => (screen.width * 2 / 5, 0),
                };
                let c = hit.center;
                let clamp = |v: i32, lo: i32, hi: i32| v.clamp(lo, hi.max(lo));
                (
                    c,
                    (
                        clamp(c.0 + dx, screen.x, screen.right() - 1),
                        clamp(c.1 + dy, screen.y, screen.bottom() - 1),
                    ),
                )
            }
        };
        let ms = s.duration_ms.map_or(SWIPE_MS, u64::from);
        self.device.swipe(from, to, ms).await?;
        Ok(())
    }

    /// `scroll`: one scroll down (the finger moves up).
    pub(crate) async fn scroll(&mut self) -> Result<(), StepError> {
        let screen = self.tree().await?.bounds;
        let (from, to) = direction_points(screen, Direction::Up);
        self.device.swipe(from, to, SWIPE_MS).await?;
        Ok(())
    }

    /// `scrollUntilVisible`: scrolls towards `direction` (DOWN: to what is below) until the
    /// element shows with `visibility_percentage` of it on screen (and, with `center_element`,
    /// its centre in the middle fifth of the screen), or `timeout` (real time) passes.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn scroll_until_visible(
        &mut self,
        element: &Selector,
        direction: Option<Direction>,
        timeout: Option<Duration>,
        speed: Option<u32>,
        visibility: Option<u32>,
        center: Option<bool>,
    ) -> Result<(), StepError> {
        let direction = direction.unwrap_or(Direction::Down);
        let want = visibility.unwrap_or(100).min(100) as f64;
        let center = center.unwrap_or(false);
        let timeout = timeout.unwrap_or(SCROLL_UNTIL_VISIBLE_TIMEOUT);
        let ms = scroll_duration(speed.unwrap_or(SCROLL_SPEED));
        // Real time: the scrolling is the harness's own work, which a virtual device's faster
        // clock must not cut short.
        let deadline = self.wall_deadline(timeout);
        let mut scrolls = 0u32;
        loop {
            let last = self.expired(&deadline).await;
            let tree = self.tree().await?;
            let screen = tree.bounds;
            let hit = self
                .matches(&tree, element)?
                .into_iter()
                .map(|e| e.bounds)
                .find(|b| visible_percent(*b, screen) >= want);
            let finger = finger_for_scroll(direction);
            let (mut from, mut to) = direction_points(screen, finger);
            match hit {
                Some(b) if !center || b.is_empty() => return Ok(()),
                Some(b) => {
                    let (cx, cy) = b.center();
                    let (mx, my) = screen.center();
                    let vertical = matches!(direction, Direction::Up | Direction::Down);
                    let off = if vertical { cy - my } else { cx - mx };
                    let band = if vertical { screen.height } else { screen.width } / 10;
                    if off.abs() <= band {
                        return Ok(());
                    }
                    // A short drag that brings the element's centre to the screen's.
                    (from, to) = if vertical {
                        ((mx, my + off / 2), (mx, my - off / 2))
                    } else {
                        ((mx + off / 2, my), (mx - off / 2, my))
                    };
                }
                None => {}
            }
            if last {
                return Err(StepError::failed(format!(
                    "scrollUntilVisible: {} is not visible after {} scrolls {} ({} s)",
                    describe_selector(element),
                    scrolls,
                    direction.name(),
                    timeout.as_secs()
                )));
            }
            self.device.swipe(from, to, ms).await?;
            scrolls += 1;
            self.poll().await;
        }
    }

    /// A tap command: waits for its element (if any), then touches `repeat` times.
    pub(crate) async fn tap(&mut self, step: &Step, t: &Tap, gesture: Gesture) -> Result<(), StepError> {
        let (taps, hold_ms) = gesture.touches();
        let times = taps * t.repeat.unwrap_or(1);
        let timeout = self.timeout(step, None);
        let (x, y) = match &t.target {
            TapTarget::Point(p) => resolve_point(p, self.tree().await?.bounds),
            TapTarget::Element(s) | TapTarget::ElementPoint(s, _) => {
                let Some(hit) = self.wait_visible(s, timeout).await? else {
                    return Err(StepError::failed(format!(
                        "element not found: {} (waited {} s)",
                        describe_selector(s),
                        timeout.as_secs()
                    )));
                };
                let hit = if t.wait_until_visible == Some(true) {
                    self.wait_fully_on_screen(s, hit, timeout).await?
                } else {
                    hit
                };
                match (&t.target, &hit.xpath) {
                    // A source without geometry (e.g. Appium's fake driver): click the element.
                    (TapTarget::Element(_), Some(xpath)) => {
                        for _ in 0..times {
                            self.device.click_xpath(xpath).await?;
                        }
                        return self.settle_after_tap(t).await;
                    }
                    (TapTarget::ElementPoint(_, p), _) => resolve_point(p, hit.bounds),
                    _ => hit.center,
                }
            }
        };
        let before = match t.retry_tap_if_no_change {
            Some(true) => Some(self.device.source().await?),
            _ => None,
        };
        self.touch(x, y, hold_ms, times, t).await?;
        // `retryTapIfNoChange`: a tap the screen did not react to (it did not change once it
        // settled) is made once more.
        if let Some(before) = before {
            self.wait_for_animation(Some(RETRY_SETTLE)).await?;
            if self.device.source().await? == before {
                self.touch(x, y, hold_ms, times, t).await?;
            }
        }
        self.settle_after_tap(t).await
    }

    /// `times` touches at (x, y), `delayMs` apart.
    async fn touch(&mut self, x: i32, y: i32, hold_ms: u64, times: u32, t: &Tap) -> Result<(), StepError> {
        let delay = t.delay_ms.map_or(REPEAT_DELAY, |ms| Duration::from_millis(ms as u64));
        for i in 0..times {
            if i > 0 {
                self.clock.sleep(delay).await;
            }
            self.device.press(x, y, hold_ms).await?;
        }
        Ok(())
    }

    /// `waitToSettleTimeoutMs`: after the tap, wait (at most that long) for the screen to stop
    /// changing.
    async fn settle_after_tap(&mut self, t: &Tap) -> Result<(), StepError> {
        if let Some(ms) = t.wait_to_settle_timeout_ms {
            self.wait_for_animation(Some(Duration::from_millis(ms as u64))).await?;
        }
        Ok(())
    }

    /// `waitUntilVisible: true`: the element found must also lie wholly on the screen (not
    /// under the fold) before it is touched.
    async fn wait_fully_on_screen(&mut self, s: &Selector, first: Hit, timeout: Duration) -> Result<Hit, StepError> {
        let deadline = self.deadline(timeout).await;
        let mut hit = first;
        loop {
            let last = self.expired(&deadline).await;
            let screen = self.tree().await?.bounds;
            if visible_percent(hit.bounds, screen) >= 100.0 {
                return Ok(hit);
            }
            if last {
                return Err(StepError::failed(format!(
                    "{} is on the page but not wholly on screen (waited {} s; scroll to it first)",
                    describe_selector(s),
                    timeout.as_secs()
                )));
            }
            self.poll().await;
            if let Some(h) = self.wait_visible(s, Duration::ZERO).await? {
                hit = h;
            }
        }
    }
}

/// How long `retryTapIfNoChange` lets the screen settle before it compares.
const RETRY_SETTLE: Duration = Duration::from_millis(1500);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::fake::{FakeDevice, FakeEvent, Node, screen, screen_without_geometry};
    use crate::exec::testing::World;
    use crate::platform::Platform;

    fn taps(d: &FakeDevice) -> Vec<(i32, i32, u64)> {
        d.events()
            .iter()
            .filter_map(|e| match e {
                FakeEvent::Tap { x, y, hold_ms } => Some((*x, *y, *hold_ms)),
                _ => None,
            })
            .collect()
    }

    fn button() -> Node {
        Node::id("auth-continue").with_text("Continue").at(100, 400, 200, 80)
    }

    #[tokio::test]
    async fn taps_the_element_centre_with_each_gestures_hold() {
        let w =
            World::flow("- tapOn: Continue\n- doubleTapOn: {id: auth-continue}\n- longPressOn: {id: auth-continue}\n");
        let mut d = FakeDevice::android().showing(screen(Platform::Android, &[button()]));
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(
            taps(&d),
            [(200, 440, 60), (200, 440, 40), (200, 440, 40), (200, 440, 1000)]
        );
    }

    #[tokio::test]
    async fn screen_points_in_percent_and_pixels() {
        let w = World::flow("- tapOn: {point: \"50%,90%\"}\n- tapOn: {point: \"10,20\"}\n");
        let mut d = FakeDevice::ios();
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        // The iOS screen is 393×852 points.
        assert_eq!(taps(&d), [(197, 767, 60), (10, 20, 60)]);
    }

    #[tokio::test]
    async fn points_relative_to_an_element() {
        let w = World::flow(
            "- tapOn: {id: auth-continue, point: \"25%,50%\"}\n- tapOn: {id: auth-continue, point: \"5,6\"}\n",
        );
        let mut d = FakeDevice::android().showing(screen(Platform::Android, &[button()]));
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(taps(&d), [(150, 440, 60), (105, 406, 60)]);
    }

    #[tokio::test]
    async fn repeat_taps_with_the_delay_between_them() {
        let w = World::flow("- tapOn: {id: auth-continue, repeat: 3, delay: 250}\n");
        let mut d = FakeDevice::android().showing(screen(Platform::Android, &[button()]));
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(taps(&d).len(), 3);
        assert_eq!(w.clock.now(), Duration::from_millis(500), "two delays, found at once");

        let w = World::flow("- doubleTapOn: {id: auth-continue, repeat: 2}\n");
        let mut d = FakeDevice::android().showing(screen(Platform::Android, &[button()]));
        w.run(&mut d).await;
        assert_eq!(taps(&d).len(), 4);
        assert_eq!(w.clock.now(), 3 * REPEAT_DELAY);
    }

    #[tokio::test]
    async fn sources_without_geometry_click_by_xpath() {
        let w = World::flow("- tapOn: Continue\n- doubleTapOn: Continue\n");
        let mut d = FakeDevice::android().showing(screen_without_geometry(&[Node::text("Title"), button()]));
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        let clicks: Vec<FakeEvent> = d.actions();
        let xpath = FakeEvent::ClickXpath("/AppiumAUT/app[1]/MockView[2]".into());
        assert_eq!(clicks, [xpath.clone(), xpath.clone(), xpath]);
        assert!(taps(&d).is_empty());
    }

    #[tokio::test]
    async fn a_missing_element_fails_the_step_after_the_lookup_timeout() {
        let w = World::flow("- tapOn: {id: nowhere}\n");
        let mut d = FakeDevice::android();
        let out = w.run(&mut d).await;
        let e = out.error.unwrap();
        assert!(!e.is_infrastructure());
        assert_eq!(e.message(), "element not found: id=nowhere (waited 17 s)");
        assert!(taps(&d).is_empty());
    }

    type Drag = ((i32, i32), (i32, i32), u64);

    fn swipes(d: &FakeDevice) -> Vec<Drag> {
        d.events()
            .iter()
            .filter_map(|e| match e {
                FakeEvent::Swipe { from, to, duration_ms } => Some((*from, *to, *duration_ms)),
                _ => None,
            })
            .collect()
    }

    #[tokio::test]
    async fn swipes_by_direction_points_and_from_an_element() {
        let w = World::flow(
            "- swipe: {direction: UP}\n- swipe: {start: \"90%,50%\", end: \"10%,50%\", duration: 250}\n\
             - swipe: {from: {id: auth-continue}, direction: DOWN}\n- scroll\n",
        );
        let mut d = FakeDevice::android().showing(screen(Platform::Android, &[button()]));
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(
            swipes(&d),
            [
                ((540, 1920), (540, 480), 400),
                ((972, 1200), (108, 1200), 250),
                ((200, 440), (200, 1400), 400),
                ((540, 1920), (540, 480), 400),
            ]
        );
    }

    #[tokio::test]
    async fn scroll_until_visible_scrolls_until_the_element_is_on_screen() {
        let below = Node::id("footer").with_text("end").at(0, 2000, 1080, 100);
        let w = World::flow("- scrollUntilVisible: {element: {id: footer}, speed: 100}\n");
        let mut d = FakeDevice::android().showing(screen(Platform::Android, &[button()]));
        let mut swiped = 0;
        d.react(move |e, s| {
            if matches!(e, FakeEvent::Swipe { .. }) {
                swiped += 1;
                if swiped == 2 {
                    s.show(screen(Platform::Android, std::slice::from_ref(&below)));
                }
            }
        });
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        // DOWN (the default): the finger moves up; speed 100 is the fastest drag.
        assert_eq!(swipes(&d), [((540, 1920), (540, 480), 100); 2]);
        // Partly on screen is not enough at 100 %, enough at 40 %.
        let half = Node::id("footer").at(0, 2350, 1080, 100);
        let w = World::flow("- scrollUntilVisible: {element: {id: footer}, visibilityPercentage: 40, direction: UP}\n");
        let mut d = FakeDevice::android().showing(screen(Platform::Android, std::slice::from_ref(&half)));
        assert!(w.run(&mut d).await.error.is_none());
        assert!(swipes(&d).is_empty());
        let w = World::flow("- scrollUntilVisible: {element: {id: footer}, timeout: 3000}\n");
        let mut d = FakeDevice::android().showing(screen(Platform::Android, &[half]));
        let e = w.run(&mut d).await.error.expect("never fully visible");
        assert!(
            e.message()
                .starts_with("scrollUntilVisible: id=footer is not visible after"),
            "{}",
            e.message()
        );
        assert!(!swipes(&d).is_empty());
    }

    #[tokio::test]
    async fn center_element_drags_the_element_to_the_middle() {
        let low = Node::id("row").at(0, 2000, 1080, 100);
        let w = World::flow("- scrollUntilVisible: {element: {id: row}, centerElement: true}\n");
        let mut d = FakeDevice::android().showing(screen(Platform::Android, &[low]));
        d.react(|e, s| {
            if matches!(e, FakeEvent::Swipe { .. }) {
                s.show(screen(Platform::Android, &[Node::id("row").at(0, 1150, 1080, 100)]));
            }
        });
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        // Centre 2050 vs the screen's 1200: one drag up by the difference.
        assert_eq!(swipes(&d), [((540, 1625), (540, 775), 1060)]);
    }

    #[test]
    fn visibility_of_bounds_on_screen() {
        let screen = Bounds {
            x: 0,
            y: 0,
            width: 100,
            height: 100,
        };
        let b = |x, y, width, height| Bounds { x, y, width, height };
        assert_eq!(visible_percent(b(10, 10, 20, 20), screen), 100.0);
        assert_eq!(visible_percent(b(90, 0, 20, 10), screen), 50.0);
        assert_eq!(visible_percent(b(0, 120, 10, 10), screen), 0.0);
        assert_eq!(visible_percent(b(0, 0, 0, 0), screen), 100.0);
    }

    #[tokio::test]
    async fn retry_tap_if_no_change_taps_again_only_when_nothing_changed() {
        let w = World::flow("- tapOn: {id: auth-continue, retryTapIfNoChange: true}\n");
        let mut d = FakeDevice::android().showing(screen(Platform::Android, &[button()]));
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(taps(&d).len(), 2, "the screen never changed: tapped again");
        let mut d = FakeDevice::android().showing(screen(Platform::Android, &[button()]));
        d.react(|e, s| {
            if matches!(e, FakeEvent::Tap { .. }) {
                s.show(screen(Platform::Android, &[Node::id("next")]));
            }
        });
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(taps(&d).len(), 1, "the screen changed: one tap");
    }

    #[tokio::test]
    async fn wait_until_visible_waits_for_the_element_to_be_wholly_on_screen() {
        let low = Node::id("row").with_text("Row").at(0, 2350, 1080, 100);
        let w = World::flow("- tapOn: {id: row, waitUntilVisible: true}\n");
        let mut d = FakeDevice::android().screens([
            screen(Platform::Android, std::slice::from_ref(&low)),
            screen(Platform::Android, std::slice::from_ref(&low)),
            screen(Platform::Android, &[Node::id("row").at(0, 1000, 1080, 100)]),
        ]);
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(taps(&d), [(540, 1050, 60)], "tapped where it ended up");
        // Without the option, the part that shows is tapped at once.
        let w = World::flow("- tapOn: {id: row}\n");
        let mut d = FakeDevice::android().showing(screen(Platform::Android, &[low]));
        assert!(w.run(&mut d).await.error.is_none());
        assert_eq!(taps(&d), [(540, 2400, 60)]);
    }

    #[tokio::test]
    async fn wait_to_settle_waits_for_the_screen_to_stop_changing_after_the_tap() {
        let w = World::flow("- tapOn: {id: auth-continue, waitToSettleTimeoutMs: 5000}\n");
        let mut d = FakeDevice::android().showing(screen(Platform::Android, &[button()]));
        let mut n = 0;
        d.react(move |e, s| {
            if matches!(e, FakeEvent::Source) && n < 3 {
                n += 1;
                s.show(screen(Platform::Android, &[button(), Node::id(&format!("frame-{n}"))]));
            }
        });
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        let sources_after_tap = d
            .events()
            .iter()
            .skip_while(|e| !matches!(e, FakeEvent::Tap { .. }))
            .filter(|e| matches!(e, FakeEvent::Source))
            .count();
        assert!(
            sources_after_tap >= 3,
            "compared screens until they settled: {sources_after_tap}"
        );
    }
}
