//! `assertScreenshot`: the screen (or the element `cropOn` finds) compared with a reference PNG
//! next to the flow (read when the flow was loaded), passing when at least
//! `thresholdPercentage` (default 95) of its pixels match ([`crate::visual`]).
//!
//! A failed comparison keeps the screenshot and a diff image (differences in red) as artifacts.
//! A reference that does not exist yet fails the step and keeps the screenshot, so it can be
//! reviewed and adopted by copying it to the reference path.

use std::path::Path;

use crate::exec::describe::describe_selector;
use crate::exec::{Executor, InfraError, StepError};
use crate::flow::model::{Selector, Step};
use crate::load::{reference_path, resolve};
use crate::visual::{self, Crop};

impl<'a> Executor<'a> {
    pub(crate) async fn assert_screenshot(
        &mut self,
        file: &Path,
        step: &Step,
        path: &str,
        threshold: Option<f64>,
        crop_on: Option<&Selector>,
    ) -> Result<(), StepError> {
        let threshold = threshold.unwrap_or(visual::DEFAULT_THRESHOLD);
        let written = reference_path(path);
        let name = written.trim_end_matches(".png").replace(['/', '\\'], "_");
        let crop = match crop_on {
            None => None,
            Some(sel) => {
                let timeout = self.timeout(step, None);
                let Some(hit) = self.wait_visible(sel, timeout).await? else {
                    return Err(StepError::failed(format!(
                        "assertScreenshot: cropOn {} not found (waited {} s)",
                        describe_selector(sel),
                        timeout.as_secs()
                    )));
                };
                Some((hit.bounds, self.tree().await?.bounds))
            }
        };
        let png = self.device.screenshot().await?;
        let mut actual = visual::decode(&png, "the screenshot").map_err(InfraError::UnreadableScreenshot)?;
        if let Some((b, screen)) = crop {
            // Page-source units (points, pixels) to screenshot pixels.
            let sx = actual.width() as f64 / screen.width.max(1) as f64;
            let sy = actual.height() as f64 / screen.height.max(1) as f64;
            let px = |v: i32, s: f64| (v.max(0) as f64 * s).round() as u32;
            let region = Crop {
                x: px(b.x - screen.x, sx),
                y: px(b.y - screen.y, sy),
                width: px(b.width, sx).max(1),
                height: px(b.height, sy).max(1),
            };
            actual = visual::crop(&actual, region).map_err(|e| StepError::failed(format!("assertScreenshot: {e}")))?;
        }
        let actual_png = visual::encode_png(&actual);
        let flows = self.flows;
        let reference_file = resolve(file, &written);
        let Some(reference) = flows.assets.get(&reference_file) else {
            let saved = self.save_artifact(&format!("{name}.actual.png"), Some(actual_png));
            return Err(StepError::failed(format!(
                "assertScreenshot: the reference {} does not exist yet; the screenshot taken is saved as {}: \
                 review it and copy it there",
                reference_file.display(),
                saved.as_deref().unwrap_or("(not saved)")
            )));
        };
        let reference = visual::decode(reference, "the reference")
            .map_err(|e| StepError::failed(format!("assertScreenshot {}: {e}", reference_file.display())))?;
        let cmp = match visual::compare(&actual, &reference) {
            Ok(c) => c,
            Err(e) => {
                self.save_artifact(&format!("{name}.actual.png"), Some(actual_png));
                return Err(StepError::failed(format!(
                    "assertScreenshot {}: {e}",
                    reference_file.display()
                )));
            }
        };
        if cmp.matching_percent >= threshold {
            return Ok(());
        }
        let shot = self.save_artifact(&format!("{name}.actual.png"), Some(actual_png));
        let diff = self.save_artifact(&format!("{name}.diff.png"), Some(cmp.diff_png));
        Err(StepError::failed(format!(
            "assertScreenshot: {:.2} % of the pixels match {} (threshold {threshold} %); screenshot {}, differences in red in {}",
            cmp.matching_percent,
            reference_file.display(),
            shot.as_deref().unwrap_or("(not saved)"),
            diff.as_deref().unwrap_or("(not saved)")
        )))
    }
}

#[cfg(test)]
mod tests {
    use image::{Rgb, RgbImage};

    use super::*;
    use crate::driver::fake::{FakeDevice, Node, screen};
    use crate::exec::testing::World;
    use crate::platform::Platform;

    fn png(img: &RgbImage) -> Vec<u8> {
        visual::encode_png(img)
    }

    fn picture(w: u32, h: u32, red_rows: u32) -> RgbImage {
        let mut img = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
        for y in 0..red_rows {
            for x in 0..w {
                img.put_pixel(x, y, Rgb([200, 0, 0]));
            }
        }
        img
    }

    fn device(shot: &RgbImage) -> FakeDevice {
        let mut d = FakeDevice::android().showing(screen(Platform::Android, &[Node::id("logo").at(0, 0, 50, 10)]));
        d.script.screenshot = png(shot);
        d
    }

    #[tokio::test]
    async fn matches_within_the_threshold_and_fails_with_a_diff_beyond_it() {
        let reference = picture(100, 100, 0);
        let w = World::flow("- assertScreenshot: shots/home\n").asset("flows/shots/home.png", &png(&reference));
        // 3 % of the rows differ: passes at 95 %.
        let out = w.run(&mut device(&picture(100, 100, 3))).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        // 10 % differ: fails, with the screenshot and the diff kept.
        let run = w.run_full(&mut device(&picture(100, 100, 10)), |e| e).await;
        let e = run.out.error.as_ref().expect("fails");
        assert!(!e.is_infrastructure());
        assert!(e.message().contains("90.00 % of the pixels match"), "{}", e.message());
        let diff = visual::decode(&run.file("shots_home.diff.png"), "diff").unwrap();
        assert_eq!(*diff.get_pixel(5, 5), Rgb([230, 0, 0]));
        assert_ne!(*diff.get_pixel(5, 50), Rgb([230, 0, 0]));
        assert!(!run.file("shots_home.actual.png").is_empty());
        // A lower threshold lets it pass.
        let lenient = World::flow("- assertScreenshot: {path: shots/home.png, thresholdPercentage: 85}\n")
            .asset("flows/shots/home.png", &png(&reference));
        assert!(lenient.run(&mut device(&picture(100, 100, 10))).await.error.is_none());
    }

    #[tokio::test]
    async fn a_missing_reference_fails_and_keeps_the_screenshot_to_adopt() {
        let w = World::flow("- assertScreenshot: new-screen\n");
        let run = w.run_full(&mut device(&picture(20, 20, 0)), |e| e).await;
        let e = run.out.error.as_ref().expect("fails");
        assert!(e.message().contains("does not exist yet"), "{}", e.message());
        assert!(e.message().contains("flows/new-screen.png"), "{}", e.message());
        assert!(!run.file("new-screen.actual.png").is_empty());
    }

    #[tokio::test]
    async fn crop_on_compares_the_element_only() {
        // The screen is 1080×2400 px in page-source units; the screenshot 108×240: a 10:1 scale.
        // The element at (0,0,50,10) is the screenshot's 5×1 px top-left corner.
        let mut shot = picture(108, 240, 0);
        shot.put_pixel(100, 200, Rgb([0, 0, 0]));
        let reference = RgbImage::from_pixel(5, 1, Rgb([255, 255, 255]));
        let w = World::flow("- assertScreenshot: {path: logo, cropOn: {id: logo}}\n")
            .asset("flows/logo.png", &png(&reference));
        let out = w.run(&mut device(&shot)).await;
        assert!(out.error.is_none(), "{:?}", out.error);
    }
}
