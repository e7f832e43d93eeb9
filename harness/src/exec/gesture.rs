//! Touches: `tapOn`, `doubleTapOn`, `longPressOn`, and where they land.
//!
//! An element is waited for (the lookup timeout) and touched at its centre, or at a `point`
//! relative to it; a bare `point` is relative to the screen. Points are pixels (`100,200`,
//! offsets from the element's or screen's top-left corner) or percentages (`50%,90%`), in the
//! page source's units (iOS points, Android pixels). A source without geometry (Appium's fake
//! driver) has no centre to touch: the element is clicked by XPath instead.

use std::time::Duration;

use crate::driver::hierarchy::Bounds;
use crate::exec::describe::describe_selector;
use crate::exec::{Executor, StepError};
use crate::flow::model::{Coord, Point, Step, Tap, TapTarget};

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

impl<'a> Executor<'a> {
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
                match (&t.target, &hit.xpath) {
                    // A source without geometry (e.g. Appium's fake driver): click the element.
                    (TapTarget::Element(_), Some(xpath)) => {
                        for _ in 0..times {
                            self.device.click_xpath(xpath).await?;
                        }
                        return Ok(());
                    }
                    (TapTarget::ElementPoint(_, p), _) => resolve_point(p, hit.bounds),
                    _ => hit.center,
                }
            }
        };
        let delay = t.delay_ms.map_or(REPEAT_DELAY, |ms| Duration::from_millis(ms as u64));
        for i in 0..times {
            if i > 0 {
                self.clock.sleep(delay).await;
            }
            self.device.press(x, y, hold_ms).await?;
        }
        Ok(())
    }
}

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
}
