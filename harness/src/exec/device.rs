//! Device settings and capture: `setOrientation`, `setLocation`, `travel`, airplane mode, dark
//! mode (set, toggle, assert), `addMedia`, `startRecording` / `stopRecording`.
//!
//! Each goes to the one device call it is; a backend that cannot do one says so
//! ([`crate::driver::DriverError::Unsupported`]), and `harness check -d` says the same before a
//! run. `travel` moves the location along its points at `speed` m/s on the device's clock; a
//! recording still running when the flow ends is stopped and saved.

use std::path::Path;
use std::time::Duration;

use crate::exec::{Executor, StepError};
use crate::flow::model::Orientation;
use crate::load::resolve;

/// `travel`'s speed when the step gives none, in m/s (a brisk walk is 1.5; a car in town 14).
pub const DEFAULT_TRAVEL_SPEED: f64 = 14.0;
/// At most this many location updates per leg of a `travel` (at least one per device second
/// otherwise).
pub const MAX_TRAVEL_UPDATES: u64 = 120;

/// The distance in metres between two points on Earth (haversine).
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    const R: f64 = 6_371_000.0;
    let (la1, la2) = (a.0.to_radians(), b.0.to_radians());
    let dla = la2 - la1;
    let dlo = (b.1 - a.1).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().asin()
}

/// The location updates of one `travel` leg from `a` to `b` at `speed` m/s: each point with the
/// device time to wait before setting it.
pub fn leg_updates(a: (f64, f64), b: (f64, f64), speed: f64) -> Vec<((f64, f64), Duration)> {
    let seconds = distance_m(a, b) / speed.max(1e-3);
    let n = (seconds.ceil() as u64).clamp(1, MAX_TRAVEL_UPDATES);
    let step = Duration::from_secs_f64(seconds / n as f64);
    (1..=n)
        .map(|i| {
            let t = i as f64 / n as f64;
            ((a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t), step)
        })
        .collect()
}

impl<'a> Executor<'a> {
    pub(crate) async fn set_orientation(&mut self, o: Orientation) -> Result<(), StepError> {
        Ok(self.device.set_orientation(o).await?)
    }

    pub(crate) async fn set_location(&mut self, latitude: f64, longitude: f64) -> Result<(), StepError> {
        Ok(self.device.set_location(latitude, longitude).await?)
    }

    /// `travel`: from the first point to the last, one leg at a time.
    pub(crate) async fn travel(&mut self, points: &[(f64, f64)], speed: Option<f64>) -> Result<(), StepError> {
        let Some(&first) = points.first() else {
            return Ok(());
        };
        let speed = speed.unwrap_or(DEFAULT_TRAVEL_SPEED);
        self.device.set_location(first.0, first.1).await?;
        for pair in points.windows(2) {
            for (p, wait) in leg_updates(pair[0], pair[1], speed) {
                self.pause(wait).await;
                self.device.set_location(p.0, p.1).await?;
            }
        }
        Ok(())
    }

    pub(crate) async fn set_airplane_mode(&mut self, on: Option<bool>) -> Result<(), StepError> {
        let on = match on {
            Some(v) => v,
            None => !self.device.airplane_mode().await?,
        };
        Ok(self.device.set_airplane_mode(on).await?)
    }

    pub(crate) async fn set_dark_mode(&mut self, dark: Option<bool>) -> Result<(), StepError> {
        let dark = match dark {
            Some(v) => v,
            None => !self.device.dark_mode().await?,
        };
        Ok(self.device.set_dark_mode(dark).await?)
    }

    /// `assertDarkMode` / `assertLightMode`.
    pub(crate) async fn assert_dark_mode(&mut self, dark: bool) -> Result<(), StepError> {
        let is = self.device.dark_mode().await?;
        if is == dark {
            return Ok(());
        }
        let name = |d: bool| if d { "dark" } else { "light" };
        Err(StepError::failed(format!(
            "expected the {} appearance; the device is in {} mode",
            name(dark),
            name(is)
        )))
    }

    /// `addMedia`: each file (read when the flow was loaded) into the photo library.
    pub(crate) async fn add_media(&mut self, file: &Path, files: &[String]) -> Result<(), StepError> {
        let flows = self.flows;
        for written in files {
            let path = resolve(file, written);
            let Some(bytes) = flows.assets.get(&path) else {
                return Err(crate::exec::InfraError::NotLoaded {
                    what: "media file",
                    path: path.display().to_string(),
                }
                .into());
            };
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| written.clone());
            self.device.add_media(&name, bytes).await?;
        }
        Ok(())
    }

    pub(crate) async fn start_recording(&mut self, path: &str) -> Result<(), StepError> {
        self.device.start_recording().await?;
        self.recording = Some(path.trim_end_matches(".mp4").replace(['/', '\\'], "_"));
        Ok(())
    }

    /// `stopRecording`: the video is saved as an artifact named after `startRecording`'s path.
    pub(crate) async fn stop_recording(&mut self) -> Result<(), StepError> {
        let rec = self.device.stop_recording().await?;
        let name = self.recording.take().unwrap_or_else(|| "recording".into());
        if rec.bytes.is_empty() {
            return Err(StepError::failed(
                "stopRecording: the device recorded nothing (was startRecording run?)",
            ));
        }
        self.save_artifact(&format!("{name}.{}", rec.extension), Some(rec.bytes));
        Ok(())
    }

    /// A recording the flow did not stop: stopped and kept when the flow ends.
    pub(crate) async fn finish_recording(&mut self) {
        if self.recording.is_some()
            && let Err(e) = self.stop_recording().await
        {
            tracing::warn!("stopping the recording at the end of the flow: {}", e.message());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::fake::{FakeDevice, FakeEvent};
    use crate::exec::testing::World;

    #[test]
    fn distances_and_legs() {
        // Amsterdam Centraal → Dam square: about 840 m.
        let d = distance_m((52.3791, 4.9003), (52.3731, 4.8926));
        assert!((800.0..900.0).contains(&d), "{d}");
        let legs = leg_updates((52.3791, 4.9003), (52.3731, 4.8926), 14.0);
        assert_eq!(legs.len(), 61, "one update per device second");
        assert_eq!(legs.last().unwrap().0, (52.3731, 4.8926));
        let total: Duration = legs.iter().map(|l| l.1).sum();
        assert!((total.as_secs_f64() - d / 14.0).abs() < 0.01);
        // A long leg is capped in updates, not in time.
        let far = leg_updates((0.0, 0.0), (1.0, 1.0), 1.0);
        assert_eq!(far.len() as u64, MAX_TRAVEL_UPDATES);
    }

    #[tokio::test]
    async fn settings_go_to_the_device_and_toggles_read_first() {
        let w = World::flow(
            "- setOrientation: landscapeLeft\n- setLocation: {latitude: 52.1, longitude: 4.3}\n\
             - setAirplaneMode: enabled\n- toggleAirplaneMode\n- setDarkMode: enabled\n- assertDarkMode\n\
             - toggleDarkMode\n- assertLightMode\n",
        );
        let mut d = FakeDevice::android();
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(
            d.actions(),
            [
                FakeEvent::SetOrientation(Orientation::LandscapeLeft),
                FakeEvent::SetLocation {
                    latitude: 52.1,
                    longitude: 4.3
                },
                FakeEvent::SetAirplaneMode(true),
                FakeEvent::SetAirplaneMode(false),
                FakeEvent::SetDarkMode(true),
                FakeEvent::SetDarkMode(false),
            ]
        );
        let w = World::flow("- assertDarkMode\n");
        let out = w.run(&mut FakeDevice::ios()).await;
        let e = out.error.unwrap();
        assert!(!e.is_infrastructure());
        assert_eq!(e.message(), "expected the dark appearance; the device is in light mode");
    }

    #[tokio::test]
    async fn travel_moves_along_the_points_on_device_time() {
        let w = World::flow("- travel: {points: [\"52.3791,4.9003\", \"52.3731,4.8926\"], speed: 100}\n");
        let mut d = FakeDevice::android();
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        let locations: Vec<(f64, f64)> = d
            .events()
            .iter()
            .filter_map(|e| match e {
                FakeEvent::SetLocation { latitude, longitude } => Some((*latitude, *longitude)),
                _ => None,
            })
            .collect();
        assert_eq!(locations.first(), Some(&(52.3791, 4.9003)));
        assert_eq!(locations.last(), Some(&(52.3731, 4.8926)));
        assert_eq!(locations.len(), 1 + 9, "840 m at 100 m/s: 9 updates after the start");
    }

    #[tokio::test]
    async fn recordings_are_saved_when_stopped_or_when_the_flow_ends() {
        let w = World::flow("- startRecording: login\n- back\n- stopRecording\n");
        let mut d = FakeDevice::android();
        let run = w.run_full(&mut d, |e| e).await;
        assert!(run.out.error.is_none(), "{:?}", run.out.error);
        assert!(run.sink.files.contains_key("login.gif"), "{:?}", run.sink.files.keys());
        let w = World::flow("- startRecording: {path: flows/left-running}\n- back\n");
        let mut d = FakeDevice::android();
        let run = w.run_full(&mut d, |e| e).await;
        assert!(
            run.sink.files.contains_key("flows_left-running.gif"),
            "{:?}",
            run.sink.files.keys()
        );
        assert_eq!(d.count(|e| matches!(e, FakeEvent::StopRecording)), 1);
        let w = World::flow("- stopRecording\n");
        let out = w.run(&mut FakeDevice::android()).await;
        assert!(out.error.unwrap().message().contains("recorded nothing"));
    }
}
