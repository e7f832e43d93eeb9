//! Screenshots: the screen tree drawn as a PNG for W3C `GET /session/:id/screenshot`.
//!
//! The canvas is smaller than a real panel, to keep rendering and encoding fast while staying
//! legible: iOS draws at 2 px per point (390×844 pt → 780×1688, where the real @3x panel is
//! 1170×2532), Android at half its pixel size (1080×2400 px → 540×1200, i.e. 1.375 px per dp).
//! Text uses the public-domain 8×8 bitmap font from `font8x8`, scaled 2×. The output is a pure
//! function of the tree: the same tree gives the same bytes.

use font8x8::UnicodeFonts;
use image::{Rgb, RgbImage};

use crate::farm::source::android_screen_px;
use crate::farm::ui::{Kind, UiNode, UiTree};
use crate::platform::Platform;

/// Canvas pixels per glyph pixel of the 8×8 font.
const FONT_SCALE: i32 = 2;
/// Width and height of one character cell on the canvas.
const CELL: i32 = 8 * FONT_SCALE;
/// Distance between the tops of two lines of text.
const LINE: i32 = CELL + CELL / 2;

const WHITE: Rgb<u8> = Rgb([255, 255, 255]);
const INK: Rgb<u8> = Rgb([28, 28, 30]);
const PLACEHOLDER: Rgb<u8> = Rgb([142, 142, 147]);
const GROUP_OUTLINE: Rgb<u8> = Rgb([224, 224, 228]);
const FIELD_BORDER: Rgb<u8> = Rgb([199, 199, 204]);
const ACCENT: Rgb<u8> = Rgb([0, 122, 255]);
const DISABLED: Rgb<u8> = Rgb([174, 174, 178]);
const STATUS_BAR: Rgb<u8> = Rgb([242, 242, 247]);
const SPINNER_TRACK: Rgb<u8> = Rgb([222, 222, 226]);
const SPINNER_ARC: Rgb<u8> = Rgb([99, 99, 102]);

/// The screen rendered as a PNG.
pub fn screenshot_png(tree: &UiTree) -> Vec<u8> {
    crate::visual::encode_png(&render(tree))
}

/// Canvas pixels per point, and the canvas size.
pub fn canvas_geometry(tree: &UiTree) -> (f64, u32, u32) {
    match tree.platform {
        Platform::Ios => (2.0, (tree.width * 2).max(1) as u32, (tree.height * 2).max(1) as u32),
        Platform::Android => {
            let (w, h) = android_screen_px(tree);
            (1.375, (w / 2).max(1) as u32, (h / 2).max(1) as u32)
        }
    }
}

/// The screen rendered as an RGB image.
pub fn render(tree: &UiTree) -> RgbImage {
    let (scale, w, h) = canvas_geometry(tree);
    let mut canvas = Canvas {
        img: RgbImage::from_pixel(w, h, WHITE),
        scale,
    };
    draw_node(&mut canvas, &tree.root);
    // The status bar sits above the app, as the system draws it over the app's window.
    let bar_points = match tree.platform {
        Platform::Ios => 47,
        Platform::Android => 24,
    };
    let bar = canvas.rect(0, 0, tree.width, bar_points);
    canvas.fill(bar, STATUS_BAR, bar);
    let clock_y = bar.y0 + (bar.height() - CELL) / 2;
    canvas.text("9:41", bar.x0 + 2 * CELL, clock_y, INK, bar);
    if tree.dark {
        darken(&mut canvas.img);
    }
    canvas.img
}

/// The dark appearance: greys are inverted (white backgrounds become near-black, ink becomes
/// light), colours such as the accent stay as they are, as iOS and Android dark themes do.
fn darken(img: &mut RgbImage) {
    for px in img.pixels_mut() {
        let [r, g, b] = px.0;
        if r.max(g).max(b) - r.min(g).min(b) < 16 {
            px.0 = [255 - r, 255 - g, 255 - b];
        }
    }
}

/// A pixel rectangle, `x0..x1` × `y0..y1`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct PxRect {
    x0: i32,
    y0: i32,
    x1: i32,
    y1: i32,
}

impl PxRect {
    fn width(&self) -> i32 {
        self.x1 - self.x0
    }
    fn height(&self) -> i32 {
        self.y1 - self.y0
    }
    fn contains(&self, x: i32, y: i32) -> bool {
        x >= self.x0 && x < self.x1 && y >= self.y0 && y < self.y1
    }
    fn inset(&self, d: i32) -> PxRect {
        PxRect {
            x0: self.x0 + d,
            y0: self.y0 + d,
            x1: self.x1 - d,
            y1: self.y1 - d,
        }
    }
}

struct Canvas {
    img: RgbImage,
    scale: f64,
}

impl Canvas {
    /// A rectangle in points → canvas pixels, clamped to the canvas.
    fn rect(&self, x: i32, y: i32, width: i32, height: i32) -> PxRect {
        let (w, h) = (self.img.width() as i32, self.img.height() as i32);
        let px = |p: i32, max: i32| ((f64::from(p) * self.scale).round() as i32).clamp(0, max);
        PxRect {
            x0: px(x, w),
            y0: px(y, h),
            x1: px(x + width, w),
            y1: px(y + height, h),
        }
    }

    fn put(&mut self, x: i32, y: i32, color: Rgb<u8>, clip: PxRect) {
        if clip.contains(x, y) && x >= 0 && y >= 0 && (x as u32) < self.img.width() && (y as u32) < self.img.height() {
            self.img.put_pixel(x as u32, y as u32, color);
        }
    }

    fn fill(&mut self, r: PxRect, color: Rgb<u8>, clip: PxRect) {
        for y in r.y0..r.y1 {
            for x in r.x0..r.x1 {
                self.put(x, y, color, clip);
            }
        }
    }

    /// A rectangle with corners rounded to `radius` pixels.
    fn fill_rounded(&mut self, r: PxRect, radius: i32, color: Rgb<u8>, clip: PxRect) {
        let radius = radius.min(r.width() / 2).min(r.height() / 2).max(0);
        for y in r.y0..r.y1 {
            for x in r.x0..r.x1 {
                // Distance (doubled, to stay on pixel centres) from the nearest corner's centre.
                let cx = if x < r.x0 + radius {
                    r.x0 + radius
                } else if x >= r.x1 - radius {
                    r.x1 - radius - 1
                } else {
                    x
                };
                let cy = if y < r.y0 + radius {
                    r.y0 + radius
                } else if y >= r.y1 - radius {
                    r.y1 - radius - 1
                } else {
                    y
                };
                let (dx, dy) = (x - cx, y - cy);
                if dx * dx + dy * dy <= radius * radius {
                    self.put(x, y, color, clip);
                }
            }
        }
    }

    fn stroke(&mut self, r: PxRect, thickness: i32, color: Rgb<u8>, clip: PxRect) {
        for y in r.y0..r.y1 {
            for x in r.x0..r.x1 {
                let edge =
                    x < r.x0 + thickness || x >= r.x1 - thickness || y < r.y0 + thickness || y >= r.y1 - thickness;
                if edge {
                    self.put(x, y, color, clip);
                }
            }
        }
    }

    /// A spinner ring inscribed in `r`: a light track with a dark quarter arc from 12 o'clock
    /// clockwise to 3 o'clock.
    fn spinner(&mut self, r: PxRect) {
        let (cx, cy) = (r.x0 + r.width() / 2, r.y0 + r.height() / 2);
        let radius = r.width().min(r.height()) / 2 - 1;
        let thickness = (radius / 4).max(2);
        let (outer, inner) = (radius, (radius - thickness).max(0));
        for y in cy - outer..=cy + outer {
            for x in cx - outer..=cx + outer {
                let (dx, dy) = (x - cx, y - cy);
                let d2 = dx * dx + dy * dy;
                if d2 > outer * outer || d2 < inner * inner {
                    continue;
                }
                let turn = (f64::from(dx).atan2(-f64::from(dy)) / std::f64::consts::TAU).rem_euclid(1.0);
                let color = if turn < 0.25 { SPINNER_ARC } else { SPINNER_TRACK };
                self.put(x, y, color, r);
            }
        }
    }

    fn disc(&mut self, cx: i32, cy: i32, radius: i32, color: Rgb<u8>, clip: PxRect) {
        for y in cy - radius..=cy + radius {
            for x in cx - radius..=cx + radius {
                let (dx, dy) = (x - cx, y - cy);
                if dx * dx + dy * dy <= radius * radius {
                    self.put(x, y, color, clip);
                }
            }
        }
    }

    /// One line of text with its top-left corner at `(x, y)`, clipped to `clip`.
    fn text(&mut self, s: &str, x: i32, y: i32, color: Rgb<u8>, clip: PxRect) {
        for (i, c) in s.chars().enumerate() {
            let gx = x + i as i32 * CELL;
            if gx >= clip.x1 {
                break;
            }
            for (row, bits) in glyph(c).iter().enumerate() {
                for col in 0..8 {
                    if bits & (1 << col) == 0 {
                        continue;
                    }
                    let px = gx + col * FONT_SCALE;
                    let py = y + row as i32 * FONT_SCALE;
                    for dy in 0..FONT_SCALE {
                        for dx in 0..FONT_SCALE {
                            self.put(px + dx, py + dy, color, clip);
                        }
                    }
                }
            }
        }
    }

    /// Text word-wrapped to the width of `area`, left-aligned or centred, vertically centred
    /// when it fits and top-aligned when it does not, clipped to `area`.
    fn text_block(&mut self, s: &str, area: PxRect, color: Rgb<u8>, centre: bool) {
        let per_line = (area.width() / CELL).max(1) as usize;
        let lines = wrap(s, per_line);
        let block = lines.len() as i32 * LINE;
        let top = if block <= area.height() {
            area.y0 + (area.height() - block) / 2
        } else {
            area.y0
        };
        for (i, line) in lines.iter().enumerate() {
            let width = line.chars().count() as i32 * CELL;
            let left = if centre && width < area.width() {
                area.x0 + (area.width() - width) / 2
            } else {
                area.x0
            };
            self.text(line, left, top + i as i32 * LINE, color, area);
        }
    }
}

/// The 8×8 bitmap of a character: basic Latin, then Latin-1, else `?`.
fn glyph(c: char) -> [u8; 8] {
    font8x8::BASIC_FONTS
        .get(c)
        .or_else(|| font8x8::LATIN_FONTS.get(c))
        .or_else(|| font8x8::BASIC_FONTS.get('?'))
        .unwrap_or([0; 8])
}

/// Greedy word wrap to `width` characters; words longer than a line are cut.
fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines = vec![];
    for para in s.split('\n') {
        let mut line = String::new();
        for word in para.split(' ') {
            let (ll, wl) = (line.chars().count(), word.chars().count());
            if ll > 0 && ll + 1 + wl > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
            while line.chars().count() > width {
                let head: String = line.chars().take(width).collect();
                line = line.chars().skip(width).collect();
                lines.push(head);
            }
        }
        lines.push(line);
    }
    lines
}

fn draw_node(c: &mut Canvas, node: &UiNode) {
    let r = c.rect(node.rect.x, node.rect.y, node.rect.width, node.rect.height);
    let s = c.scale;
    let pad = (8.0 * s).round() as i32;
    match node.kind {
        Kind::Application | Kind::Window => {}
        Kind::Group => c.stroke(r, 1, GROUP_OUTLINE, r),
        Kind::Button => {
            let fill = if node.enabled { ACCENT } else { DISABLED };
            c.fill_rounded(r, (10.0 * s).round() as i32, fill, r);
            c.text_block(&node.text, r.inset(pad / 2), WHITE, true);
        }
        Kind::TextField | Kind::SecureField => {
            let (border, thickness) = if node.focused { (ACCENT, 2) } else { (FIELD_BORDER, 1) };
            c.stroke(r, thickness, border, r);
            let inner = PxRect {
                x0: r.x0 + pad,
                y0: r.y0 + thickness,
                x1: r.x1 - pad,
                y1: r.y1 - thickness,
            };
            if node.text.is_empty() {
                let placeholder = node.placeholder.as_deref().unwrap_or("");
                c.text_block(placeholder, inner, PLACEHOLDER, false);
            } else if node.kind == Kind::SecureField {
                // One dot per character, like the real field; drawn, as the font has no bullet.
                let cy = inner.y0 + inner.height() / 2;
                for i in 0..node.text.chars().count() as i32 {
                    c.disc(inner.x0 + CELL / 2 + i * CELL, cy, CELL / 4, INK, inner);
                }
            } else {
                c.text_block(&node.text, inner, INK, false);
            }
        }
        Kind::Text => c.text_block(&node.text, r, if node.enabled { INK } else { PLACEHOLDER }, false),
        Kind::Spinner => c.spinner(r),
    }
    for child in &node.children {
        draw_node(c, child);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::farm::ui::Rect;

    fn rect(x: i32, y: i32, width: i32, height: i32) -> Rect {
        Rect { x, y, width, height }
    }

    fn screen(platform: Platform) -> UiTree {
        let mut email = UiNode::new(Kind::TextField, rect(16, 200, 361, 44)).id("auth-email");
        email.placeholder = Some("Email address".into());
        let mut password = UiNode::new(Kind::SecureField, rect(16, 260, 361, 44))
            .id("auth-password")
            .text("hunter2");
        password.focused = true;
        let group = UiNode::new(Kind::Group, rect(0, 60, 393, 800))
            .child(UiNode::new(Kind::Text, rect(16, 120, 361, 40)).text("Sign in to Example, a long title that wraps"))
            .child(email)
            .child(password)
            .child(
                UiNode::new(Kind::Button, rect(16, 330, 361, 48))
                    .id("auth-continue")
                    .text("Continue"),
            )
            .child(UiNode::new(Kind::Spinner, rect(180, 400, 32, 32)));
        UiTree {
            dark: false,
            platform,
            app_id: "com.example.app".into(),
            app_name: "Example".into(),
            width: 393,
            height: 873,
            root: UiNode::new(Kind::Application, rect(0, 0, 393, 873))
                .child(UiNode::new(Kind::Window, rect(0, 0, 393, 873)).child(group)),
        }
    }

    #[test]
    fn png_decodes_at_canvas_size() {
        for (platform, w, h, scale) in [(Platform::Ios, 786, 1746, 2.0), (Platform::Android, 540, 1200, 1.375)] {
            let tree = screen(platform);
            let png = screenshot_png(&tree);
            assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
            let img = image::load_from_memory(&png).unwrap().to_rgb8();
            assert_eq!((img.width(), img.height()), (w, h), "{platform:?}");
            // The button's centre is filled, unlike the background outside any element.
            let at = |x: f64, y: f64| *img.get_pixel((x * scale) as u32, (y * scale) as u32);
            assert_eq!(at(200.0, 340.0), ACCENT, "{platform:?}");
            assert_eq!(at(5.0, 500.0), WHITE, "{platform:?}");
            assert_ne!(at(200.0, 340.0), at(5.0, 500.0));
            // The spinner draws a ring with a hollow centre.
            let sp = Canvas {
                img: img.clone(),
                scale,
            }
            .rect(180, 400, 32, 32);
            let inked = (sp.y0..sp.y1)
                .flat_map(|y| (sp.x0..sp.x1).map(move |x| (x, y)))
                .filter(|&(x, y)| *img.get_pixel(x as u32, y as u32) != WHITE)
                .count();
            assert!(inked > 20, "{platform:?}: {inked}");
            assert_eq!(at(196.0, 416.0), WHITE);
            assert_eq!(
                *img.get_pixel((sp.x0 + sp.width() / 2) as u32, (sp.y0 + 1) as u32),
                SPINNER_ARC
            );
            // The status bar strip.
            assert_eq!(at(300.0, 5.0), STATUS_BAR);
            // The button label put white pixels inside the button.
            let r = Canvas {
                img: img.clone(),
                scale,
            }
            .rect(16, 330, 361, 48);
            let white = (r.y0..r.y1)
                .flat_map(|y| (r.x0..r.x1).map(move |x| (x, y)))
                .filter(|&(x, y)| *img.get_pixel(x as u32, y as u32) == WHITE)
                .count();
            assert!(white > 50, "{platform:?}: {white} white pixels");
        }
    }

    #[test]
    fn rendering_is_deterministic_and_reflects_state() {
        let tree = screen(Platform::Ios);
        let a = screenshot_png(&tree);
        assert_eq!(a, screenshot_png(&tree));
        let mut disabled = tree.clone();
        disabled.root.children[0].children[0].children[3].enabled = false;
        let b = screenshot_png(&disabled);
        assert_ne!(a, b);
        let img = image::load_from_memory(&b).unwrap().to_rgb8();
        assert_eq!(*img.get_pixel(400, 680), DISABLED);
    }

    #[test]
    fn dark_appearance_inverts_greys_and_keeps_the_accent() {
        let light = render(&screen(Platform::Ios));
        let dark = render(&UiTree {
            dark: true,
            ..screen(Platform::Ios)
        });
        let at = |img: &RgbImage, x: u32, y: u32| *img.get_pixel(x, y);
        assert_eq!(at(&light, 10, 1000), WHITE);
        assert_eq!(at(&dark, 10, 1000), Rgb([0, 0, 0]));
        assert_eq!(at(&dark, 400, 680), ACCENT);
        assert_eq!(at(&light, 400, 680), ACCENT);
    }

    #[test]
    fn text_is_clipped_to_its_element() {
        let mut tree = screen(Platform::Ios);
        let t = UiNode::new(Kind::Text, rect(100, 600, 20, 8)).text("WWWWWWWWWWWWWWWWWWWW");
        tree.root.children[0].children.push(t);
        let img = render(&tree);
        let ink = |x0: u32, x1: u32, y0: u32, y1: u32| {
            (y0..y1)
                .flat_map(|y| (x0..x1).map(move |x| (x, y)))
                .filter(|&(x, y)| *img.get_pixel(x, y) == INK)
                .count()
        };
        assert!(ink(200, 240, 1200, 1216) > 0);
        assert_eq!(ink(240, 400, 1190, 1230), 0);
        assert_eq!(ink(200, 240, 1216, 1230), 0);
    }

    #[test]
    fn wraps_words() {
        assert_eq!(wrap("Sign in to Example", 10), vec!["Sign in to", "Example"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), vec![""]);
        assert_eq!(glyph('é'), font8x8::LATIN_FONTS.get('é').unwrap());
        assert_eq!(glyph('€'), glyph('?'));
    }
}
