//! Screenshot comparison for `assertScreenshot`: how much of a screenshot matches a reference
//! PNG, and a diff image that shows where they differ.
//!
//! A pixel matches when no channel differs by more than [`PIXEL_TOLERANCE`] (anti-aliasing and
//! compression noise are not differences). The result is the percentage of matching pixels,
//! compared with the step's `thresholdPercentage` (Maestro's default: 95). The diff image is
//! the reference in faded grey with every differing pixel in red.

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder, Rgb, RgbImage};

/// Largest difference of one channel (0-255) that still counts as the same pixel.
pub const PIXEL_TOLERANCE: u8 = 16;

/// Maestro's default `thresholdPercentage`.
pub const DEFAULT_THRESHOLD: f64 = 95.0;

/// A pixel rectangle to compare only part of the screen (`cropOn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crop {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// What a comparison found.
#[derive(Clone, Debug)]
pub struct Comparison {
    pub width: u32,
    pub height: u32,
    pub differing: u64,
    /// Share of matching pixels, 0-100.
    pub matching_percent: f64,
    /// The diff image as PNG.
    pub diff_png: Vec<u8>,
}

/// Why two images cannot be compared.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CompareError {
    #[error("{what} is not a readable image: {message}")]
    Unreadable { what: &'static str, message: String },
    #[error(
        "the screenshot is {actual_w}×{actual_h} px but the reference is {ref_w}×{ref_h} px \
         (take the reference on the same device model and orientation)"
    )]
    SizeMismatch {
        actual_w: u32,
        actual_h: u32,
        ref_w: u32,
        ref_h: u32,
    },
    #[error("the crop {crop:?} lies outside the {width}×{height} px screenshot")]
    CropOutside { crop: Crop, width: u32, height: u32 },
}

/// Decodes PNG (or any codec compiled in) bytes as RGB.
pub fn decode(bytes: &[u8], what: &'static str) -> Result<RgbImage, CompareError> {
    image::load_from_memory(bytes)
        .map(|i| i.to_rgb8())
        .map_err(|e| CompareError::Unreadable {
            what,
            message: e.to_string(),
        })
}

/// The part of `img` inside `crop`.
pub fn crop(img: &RgbImage, crop: Crop) -> Result<RgbImage, CompareError> {
    let (w, h) = img.dimensions();
    if crop.width == 0 || crop.height == 0 || crop.x + crop.width > w || crop.y + crop.height > h {
        return Err(CompareError::CropOutside {
            crop,
            width: w,
            height: h,
        });
    }
    Ok(image::imageops::crop_imm(img, crop.x, crop.y, crop.width, crop.height).to_image())
}

/// An image as PNG (fast compression: screenshots and diffs are written on every snapshot and
/// failure).
pub fn encode_png(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 * 1024);
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive)
        .write_image(img.as_raw(), img.width(), img.height(), ExtendedColorType::Rgb8)
        .expect("PNG encoding into memory cannot fail");
    out
}

/// Compares a screenshot with its reference, pixel by pixel.
pub fn compare(actual: &RgbImage, reference: &RgbImage) -> Result<Comparison, CompareError> {
    let (w, h) = reference.dimensions();
    if actual.dimensions() != (w, h) {
        return Err(CompareError::SizeMismatch {
            actual_w: actual.width(),
            actual_h: actual.height(),
            ref_w: w,
            ref_h: h,
        });
    }
    let mut diff = RgbImage::new(w, h);
    let mut differing = 0u64;
    for ((a, r), d) in actual.pixels().zip(reference.pixels()).zip(diff.pixels_mut()) {
        let same =
            a.0.iter()
                .zip(r.0.iter())
                .all(|(x, y)| x.abs_diff(*y) <= PIXEL_TOLERANCE);
        *d = if same {
            let grey = ((r.0[0] as u32 + r.0[1] as u32 + r.0[2] as u32) / 3) as u8;
            let faded = 160 + grey / 3;
            Rgb([faded, faded, faded])
        } else {
            differing += 1;
            Rgb([230, 0, 0])
        };
    }
    let total = (w as u64 * h as u64).max(1);
    let diff_png = encode_png(&diff);
    Ok(Comparison {
        width: w,
        height: h,
        differing,
        matching_percent: 100.0 * (total - differing) as f64 / total as f64,
        diff_png,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(w: u32, h: u32, c: [u8; 3]) -> RgbImage {
        RgbImage::from_pixel(w, h, Rgb(c))
    }

    #[test]
    fn identical_images_match_fully_and_noise_is_tolerated() {
        let a = img(10, 10, [100, 100, 100]);
        let mut b = a.clone();
        b.put_pixel(3, 3, Rgb([110, 95, 100]));
        let c = compare(&a, &b).unwrap();
        assert_eq!((c.differing, c.matching_percent), (0, 100.0));
        let back = decode(&c.diff_png, "diff").unwrap();
        assert_eq!(back.dimensions(), (10, 10));
    }

    #[test]
    fn differing_pixels_are_counted_and_painted_red() {
        let a = img(10, 10, [255, 255, 255]);
        let mut b = a.clone();
        for x in 0..10 {
            b.put_pixel(x, 0, Rgb([0, 0, 0]));
        }
        let c = compare(&a, &b).unwrap();
        assert_eq!(c.differing, 10);
        assert!((c.matching_percent - 90.0).abs() < 1e-9);
        let diff = decode(&c.diff_png, "diff").unwrap();
        assert_eq!(*diff.get_pixel(4, 0), Rgb([230, 0, 0]));
        assert_ne!(*diff.get_pixel(4, 5), Rgb([230, 0, 0]));
    }

    #[test]
    fn sizes_crops_and_unreadable_input_are_errors() {
        let e = compare(&img(10, 10, [0; 3]), &img(10, 11, [0; 3])).unwrap_err();
        assert!(e.to_string().contains("10×11"));
        let part = crop(
            &img(10, 10, [1; 3]),
            Crop {
                x: 2,
                y: 2,
                width: 4,
                height: 3,
            },
        )
        .unwrap();
        assert_eq!(part.dimensions(), (4, 3));
        assert!(matches!(
            crop(
                &img(10, 10, [1; 3]),
                Crop {
                    x: 8,
                    y: 0,
                    width: 4,
                    height: 1
                }
            ),
            Err(CompareError::CropOutside { .. })
        ));
        assert!(matches!(
            decode(b"nope", "reference"),
            Err(CompareError::Unreadable { .. })
        ));
    }
}
