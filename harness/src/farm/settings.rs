//! The virtual device's system settings, outside the app: orientation, location, appearance,
//! airplane mode, the media library and the screen recorder.
//!
//! The app follows them as a real one would: the screen is laid out for the orientation, the
//! home screen shows the colour scheme and the last location it was given, and airplane mode
//! takes the network away (and gives back what there was when it ends). The recorder keeps one
//! frame per distinct screen while it runs and hands back an animated GIF.

use image::codecs::gif::{GifEncoder, Repeat};
use image::{Delay, Frame, RgbImage, RgbaImage};
use sha2::{Digest, Sha256};

use crate::farm::ui::UiTree;
use crate::flow::model::Orientation;

/// A location as the device's location services report it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    pub altitude: f64,
}

/// A file added to the device's photo library / gallery.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MediaItem {
    pub name: String,
    pub bytes: usize,
    /// SHA-256 of the content, hex.
    pub sha256: String,
}

/// The most frames one recording keeps (distinct screens); later ones replace the last.
pub const MAX_FRAMES: usize = 240;

/// A screen recording in progress: one frame per distinct screen, with its virtual time.
#[derive(Debug, Default)]
pub struct Recorder {
    frames: Vec<(u64, RgbImage)>,
    last: Option<UiTree>,
}

impl Recorder {
    /// Adds a frame when the screen differs from the last one recorded.
    pub fn observe(&mut self, at_ms: u64, tree: &UiTree) {
        if self.last.as_ref() == Some(tree) {
            return;
        }
        let frame = crate::farm::render::render(tree);
        if self.frames.len() >= MAX_FRAMES {
            self.frames.pop();
        }
        self.frames.push((at_ms, frame));
        self.last = Some(tree.clone());
    }

    pub fn frames(&self) -> usize {
        self.frames.len()
    }

    /// The recording as an animated GIF (each frame shown for the virtual time until the next,
    /// between 0.1 and 2 s; the last for 1 s), at half the screenshot's size.
    pub fn finish(self, end_ms: u64) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        {
            let mut enc = GifEncoder::new_with_speed(&mut out, 10);
            enc.set_repeat(Repeat::Infinite).map_err(|e| e.to_string())?;
            let n = self.frames.len();
            for (i, (at, img)) in self.frames.iter().enumerate() {
                let next = if i + 1 < n {
                    self.frames[i + 1].0
                } else {
                    end_ms.max(*at) + 1000
                };
                let ms = next.saturating_sub(*at).clamp(100, 2000) as u32;
                let small = image::imageops::resize(
                    &rgba(img),
                    (img.width() / 2).max(1),
                    (img.height() / 2).max(1),
                    image::imageops::FilterType::Nearest,
                );
                enc.encode_frame(Frame::from_parts(small, 0, 0, Delay::from_numer_denom_ms(ms, 1)))
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(out)
    }
}

fn rgba(img: &RgbImage) -> RgbaImage {
    image::DynamicImage::ImageRgb8(img.clone()).to_rgba8()
}

/// The device's settings.
#[derive(Debug)]
pub struct Settings {
    pub orientation: Orientation,
    pub location: Option<Location>,
    /// Dark appearance (iOS `ui appearance dark`, Android `cmd uimode night yes`).
    pub dark: bool,
    pub airplane: bool,
    /// Whether the device was online when airplane mode went on (restored when it ends).
    pub online_before_airplane: bool,
    pub media: Vec<MediaItem>,
    pub recorder: Option<Recorder>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            orientation: Orientation::Portrait,
            location: None,
            dark: false,
            airplane: false,
            online_before_airplane: true,
            media: vec![],
            recorder: None,
        }
    }
}

impl Settings {
    /// Whether the screen is wider than tall.
    pub fn landscape(&self) -> bool {
        matches!(
            self.orientation,
            Orientation::LandscapeLeft | Orientation::LandscapeRight
        )
    }

    /// Adds a file to the media library.
    pub fn add_media(&mut self, name: &str, content: &[u8]) -> MediaItem {
        let item = MediaItem {
            name: name.to_string(),
            bytes: content.len(),
            sha256: Sha256::digest(content).iter().map(|b| format!("{b:02x}")).collect(),
        };
        self.media.push(item.clone());
        item
    }
}

/// Appium's names of the four orientations: `/orientation` says PORTRAIT or LANDSCAPE,
/// `/rotation` gives the angle (z: 0, 90, 180, 270).
pub fn rotation_z(o: Orientation) -> u32 {
    match o {
        Orientation::Portrait => 0,
        Orientation::LandscapeLeft => 90,
        Orientation::UpsideDown => 180,
        Orientation::LandscapeRight => 270,
    }
}

pub fn from_rotation_z(z: i64) -> Option<Orientation> {
    match z.rem_euclid(360) {
        0 => Some(Orientation::Portrait),
        90 => Some(Orientation::LandscapeLeft),
        180 => Some(Orientation::UpsideDown),
        270 => Some(Orientation::LandscapeRight),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::farm::ui::{Kind, Rect, UiNode};
    use crate::platform::Platform;

    fn tree(text: &str) -> UiTree {
        let full = Rect {
            x: 0,
            y: 0,
            width: 100,
            height: 200,
        };
        UiTree {
            platform: Platform::Ios,
            app_id: "a".into(),
            app_name: "A".into(),
            width: 100,
            height: 200,
            dark: false,
            root: UiNode::new(Kind::Application, full).child(UiNode::new(Kind::Text, full).text(text)),
        }
    }

    #[test]
    fn the_recorder_keeps_distinct_screens_and_writes_a_gif() {
        let mut r = Recorder::default();
        r.observe(0, &tree("a"));
        r.observe(50, &tree("a"));
        r.observe(400, &tree("b"));
        assert_eq!(r.frames(), 2);
        let gif = r.finish(900).unwrap();
        assert_eq!(&gif[..6], b"GIF89a");
        let frames = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(&gif))
            .map(|d| image::AnimationDecoder::into_frames(d).count())
            .unwrap();
        assert_eq!(frames, 2);
    }

    #[test]
    fn rotations_round_trip_and_media_is_digested() {
        for (_, o) in Orientation::ALL {
            assert_eq!(from_rotation_z(rotation_z(o) as i64), Some(o));
        }
        assert_eq!(from_rotation_z(45), None);
        let mut s = Settings::default();
        let item = s.add_media("cat.png", b"png");
        assert_eq!(item.bytes, 3);
        assert_eq!(item.sha256.len(), 64);
        assert_eq!(s.media.len(), 1);
    }
}
