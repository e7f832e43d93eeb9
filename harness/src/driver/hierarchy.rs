//! Appium page source → a platform-neutral element tree.
//!
//! Three formats are read, told apart by the root element:
//!
//! - XCUITest (WebDriverAgent): `<AppiumAUT>` wrapping one `<XCUIElementTypeApplication>`, or the
//!   application element alone (WDA's own `/source`). Attributes `type`, `name` (accessibility
//!   identifier, else the label), `label`, `value`, `placeholderValue`, `enabled`, `visible`,
//!   `selected`, `focused`, and `x`/`y`/`width`/`height` in points. WDA has no `checked`: like
//!   Maestro, a switch, checkbox or toggle whose value is `1` is checked.
//! - UiAutomator2: `<hierarchy width=… height=…>` wrapping one element per view, named by its
//!   class. Attributes `class`, `resource-id`, `text`, `hint`, `content-desc`, the booleans
//!   (`enabled`, `checked`, `focused`, `selected`, `clickable`, `displayed`) and
//!   `bounds="[x1,y1][x2,y2]"` in pixels.
//! - Generic: any other root, or `<AppiumAUT>` wrapping anything but an XCUITest element (Appium's
//!   fake driver, whose source is its app XML wrapped in `<AppiumAUT>`). The element name is the
//!   class; the id is `id`, else `resource-id`, else `name`; the text is `text`, else `label`,
//!   else `value`, else `content-desc`; the hint is `placeholder`, `placeholderValue` or `hint`;
//!   the accessibility text `content-desc`, else `label`; the value `value`, else `text`.
//!   Geometry is `bounds="[x1,y1][x2,y2]"`, or `x`/`left`, `y`/`top`, `width`, `height`, and
//!   empty when missing. Values are read leniently (the attributes of an unknown format are
//!   only a guess): a boolean is `true` or `false`, anything else is its default, and a number
//!   that does not parse is 0. Character data is ignored. When no element below the root has
//!   a size, every element is marked [`Element::no_geometry`].
//!
//! The root of the tree is the application element (iOS, and the wrapped element of a generic
//! `<AppiumAUT>`) or the `hierarchy` element (Android, sized to the screen). Unknown attributes
//! are ignored; missing ones take their default (empty strings, `false`, except `enabled` and
//! `visible`, which default to `true`). In XCUITest and UiAutomator2 sources, a malformed value
//! of a known attribute (`bounds="[0,0]"`, `enabled="yes"`) is an error, as is bad XML in any.
//!
//! Every element gets the absolute positional XPath ([`Element::xpath`]) that the server's own
//! XPath engine resolves to it, so an element without geometry can be clicked by XPath:
//!
//! - XCUITest: WDA evaluates XPath over a document whose root is the application element,
//!   without the `<AppiumAUT>` wrapper of `/source` (`FBXPath matchesWithRootElement`), so the
//!   paths start at `/XCUIElementTypeApplication` and the wrapper has none (empty).
//! - UiAutomator2: the server evaluates XPath over the same document as the source
//!   (`AccessibilityNodeInfoDumper`): `/hierarchy/android.widget.FrameLayout[1]/…`.
//! - Generic: the document is the source as is, wrapper included (the fake driver runs its
//!   XPath engine on the wrapped app XML): `/AppiumAUT/app[1]/MockButton[2]`.
//!
//! Each step below the root is the element name with its position among the siblings of the
//! same name (`[n]`, from 1); a name with a namespace prefix is written `*[name()='p:n'][n]`.

use std::fmt;

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

/// Deepest nesting accepted. Real screens stay far below it (Maestro warns above 60 levels);
/// the limit keeps recursive walks and drops within the stack.
pub const MAX_DEPTH: usize = 512;

/// A rectangle in the platform's units: iOS points, Android pixels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Bounds {
    pub x: i32,
    pub y: i32,
    pub width: i32,
    pub height: i32,
}

impl Bounds {
    pub fn center(&self) -> (i32, i32) {
        (self.x + self.width / 2, self.y + self.height / 2)
    }

    pub fn right(&self) -> i32 {
        self.x + self.width
    }

    pub fn bottom(&self) -> i32 {
        self.y + self.height
    }

    /// Whether the point lies inside (left/top edges inclusive, right/bottom exclusive).
    pub fn contains(&self, x: i32, y: i32) -> bool {
        x >= self.x && y >= self.y && x < self.right() && y < self.bottom()
    }

    pub fn is_empty(&self) -> bool {
        self.width <= 0 || self.height <= 0
    }
}

impl fmt::Display for Bounds {
    /// `[x,y][x2,y2]`, the UiAutomator2 notation.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{},{}][{},{}]", self.x, self.y, self.right(), self.bottom())
    }
}

/// One element of the screen, whatever the platform.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Element {
    /// `XCUIElementTypeButton`, `android.widget.Button`, `hierarchy`.
    pub class: String,
    /// iOS `name` (the accessibility identifier, else the label); Android `resource-id`.
    pub id: String,
    /// iOS `label`, else `value`; Android `text`.
    pub text: String,
    /// iOS `placeholderValue`; Android `hint`.
    pub hint: String,
    /// iOS `label`; Android `content-desc`.
    pub accessibility: String,
    /// iOS `value`; Android `text`.
    pub value: String,
    pub bounds: Bounds,
    pub enabled: bool,
    pub selected: bool,
    pub checked: bool,
    pub focused: bool,
    /// Android `clickable`; always `false` on iOS, which does not report it. Maestro prefers
    /// clickable elements among several matches.
    pub clickable: bool,
    /// iOS `visible`; Android `displayed`.
    pub visible: bool,
    /// Absolute positional XPath of this element in the document the server evaluates XPath
    /// against (`/hierarchy/a[1]/b[2]`; see the module docs), for clicking it by element when
    /// the source has no geometry. Empty for XCUITest's `<AppiumAUT>` wrapper, which WDA's
    /// XPath document does not contain.
    pub xpath: String,
    /// The whole source has no geometry below its root (a generic source such as the app XML
    /// of Appium's fake driver): selectors then keep zero-size elements as candidates. Set on
    /// every element of such a source; always `false` in XCUITest and UiAutomator2 sources.
    pub no_geometry: bool,
    pub children: Vec<Element>,
}

/// Which driver wrote a page source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceFormat {
    /// XCUITest driver (WebDriverAgent), iOS.
    XcuiTest,
    /// UiAutomator2 driver, Android.
    UiAutomator2,
    /// Any other XML, e.g. Appium's fake driver (see the module docs).
    Generic,
}

impl SourceFormat {
    pub fn name(self) -> &'static str {
        match self {
            SourceFormat::XcuiTest => "XCUITest",
            SourceFormat::UiAutomator2 => "UiAutomator2",
            SourceFormat::Generic => "generic XML",
        }
    }
}

/// Why a page source could not be read. Positions are byte offsets into the XML text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HierarchyError {
    #[error("page source is not well-formed xml at byte {position}: {message}")]
    Xml { position: u64, message: String },
    #[error("page source has no root element")]
    Empty,
    #[error("page source has a second root element <{name}> at byte {position}")]
    SecondRoot { name: String, position: u64 },
    #[error("page source ends at byte {position} before <{name}> is closed")]
    Unclosed { name: String, position: u64 },
    #[error("page source nests deeper than {MAX_DEPTH} elements at byte {position}")]
    TooDeep { position: u64 },
    #[error("page source has an invalid {name}=\"{value}\" on <{element}> at byte {position}: {expected}")]
    BadAttribute {
        element: String,
        name: String,
        value: String,
        expected: &'static str,
        position: u64,
    },
}

/// Parses a page source of any format; the root is the application (iOS, generic
/// `<AppiumAUT>`), the `hierarchy` element (Android) or the root element (generic).
pub fn parse_source(xml: &str) -> Result<Element, HierarchyError> {
    parse_source_with_format(xml).map(|(_, root)| root)
}

/// An element under construction, with its tag and how many children of each name it has had
/// so far (their XPath positions).
struct Open {
    tag: String,
    element: Element,
    names: Vec<(String, u32)>,
}

impl Open {
    /// The XPath position of a new child named `tag`, from 1.
    fn position(&mut self, tag: &str) -> u32 {
        match self.names.iter_mut().find(|(n, _)| n == tag) {
            Some((_, count)) => {
                *count += 1;
                *count
            }
            None => {
                self.names.push((tag.to_string(), 1));
                1
            }
        }
    }
}

/// An element name as an XPath name test: a prefixed name would need a namespace binding.
fn name_test(tag: &str) -> String {
    if tag.contains(':') {
        format!("*[name()='{tag}']")
    } else {
        tag.to_string()
    }
}

/// [`parse_source`], also saying which format the source was in.
pub fn parse_source_with_format(xml: &str) -> Result<(SourceFormat, Element), HierarchyError> {
    let mut reader = Reader::from_str(xml);
    // Elements under construction, outermost first.
    let mut stack: Vec<Open> = vec![];
    // Known from the root, or for an `<AppiumAUT>` root from its first child.
    let mut format = None;
    let mut root: Option<Element> = None;
    loop {
        let position = reader.buffer_position();
        let event = reader.read_event().map_err(|e| HierarchyError::Xml {
            position: reader.error_position(),
            message: e.to_string(),
        })?;
        let (start, empty) = match event {
            Event::Start(s) => (s, false),
            Event::Empty(s) => (s, true),
            Event::End(_) => {
                // quick-xml has already checked that the name matches an open element.
                let Some(open) = stack.pop() else {
                    return Err(HierarchyError::Xml {
                        position,
                        message: "end tag without a start tag".into(),
                    });
                };
                match stack.last_mut() {
                    Some(parent) => parent.element.children.push(open.element),
                    None => root = Some(open.element),
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
        if root.is_some() {
            return Err(HierarchyError::SecondRoot { name, position });
        }
        if stack.len() >= MAX_DEPTH {
            return Err(HierarchyError::TooDeep { position });
        }
        let fmt = match format {
            Some(f) => f,
            None => {
                let xcui = name.starts_with("XCUIElementType");
                format = if stack.is_empty() {
                    if name == "hierarchy" {
                        Some(SourceFormat::UiAutomator2)
                    } else if xcui {
                        Some(SourceFormat::XcuiTest)
                    } else if name == "AppiumAUT" {
                        None
                    } else {
                        Some(SourceFormat::Generic)
                    }
                } else if xcui {
                    Some(SourceFormat::XcuiTest)
                } else {
                    Some(SourceFormat::Generic)
                };
                // The `<AppiumAUT>` wrapper itself has no attributes to read.
                format.unwrap_or(SourceFormat::XcuiTest)
            }
        };
        let depth = stack.len();
        let xpath = match stack.last_mut() {
            None => format!("/{}", name_test(&name)),
            // WDA's XPath document is rooted at the application, without the wrapper.
            Some(parent) if fmt == SourceFormat::XcuiTest && parent.tag == "AppiumAUT" && depth == 1 => {
                format!("/{}", name_test(&name))
            }
            Some(parent) => {
                let n = parent.position(&name);
                format!("{}/{}[{n}]", parent.element.xpath, name_test(&name))
            }
        };
        let mut element = read_element(&start, &name, fmt, position)?;
        element.xpath = xpath;
        if empty {
            match stack.last_mut() {
                Some(parent) => parent.element.children.push(element),
                None => root = Some(element),
            }
        } else {
            stack.push(Open {
                tag: name,
                element,
                names: vec![],
            });
        }
    }
    if let Some(open) = stack.pop() {
        return Err(HierarchyError::Unclosed {
            name: open.tag,
            position: reader.buffer_position(),
        });
    }
    let Some(mut root) = root else {
        return Err(HierarchyError::Empty);
    };
    // An `<AppiumAUT>` without children is an empty XCUITest source.
    let format = format.unwrap_or(SourceFormat::XcuiTest);
    match format {
        SourceFormat::XcuiTest | SourceFormat::Generic if root.class == "AppiumAUT" => {
            if format == SourceFormat::XcuiTest {
                root.xpath.clear();
            }
            // Appium's scope wrapper: the application element is the root.
            if root.children.len() == 1 {
                root = root.children.pop().expect("one child");
            } else {
                root.bounds = union(root.children.iter().map(|c| c.bounds));
            }
        }
        SourceFormat::UiAutomator2 if root.bounds.is_empty() => {
            root.bounds = union(root.children.iter().map(|c| c.bounds));
        }
        _ => {}
    }
    if format == SourceFormat::Generic && root.descendants().iter().skip(1).all(|e| e.bounds.is_empty()) {
        let mut todo = vec![&mut root];
        while let Some(e) = todo.pop() {
            e.no_geometry = true;
            todo.extend(e.children.iter_mut());
        }
    }
    Ok((format, root))
}

/// The smallest rectangle holding all of `rects` (empty when there are none).
fn union(rects: impl Iterator<Item = Bounds>) -> Bounds {
    let mut out: Option<(i32, i32, i32, i32)> = None;
    for b in rects {
        out = Some(match out {
            None => (b.x, b.y, b.right(), b.bottom()),
            Some((x1, y1, x2, y2)) => (x1.min(b.x), y1.min(b.y), x2.max(b.right()), y2.max(b.bottom())),
        });
    }
    out.map_or_else(Bounds::default, |(x1, y1, x2, y2)| Bounds {
        x: x1,
        y: y1,
        width: x2 - x1,
        height: y2 - y1,
    })
}

/// Reads one element's attributes (its children come later).
fn read_element(
    start: &BytesStart<'_>,
    tag: &str,
    format: SourceFormat,
    position: u64,
) -> Result<Element, HierarchyError> {
    let mut attrs: Vec<(String, String)> = vec![];
    for attr in start.attributes() {
        let attr = attr.map_err(|e| HierarchyError::Xml {
            position,
            message: e.to_string(),
        })?;
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| HierarchyError::Xml {
                position,
                message: e.to_string(),
            })?;
        attrs.push((
            String::from_utf8_lossy(attr.key.as_ref()).into_owned(),
            value.into_owned(),
        ));
    }
    let get = |name: &str| attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let string = |name: &str| get(name).unwrap_or_default().to_string();
    let bad = |name: &str, value: &str, expected: &'static str| HierarchyError::BadAttribute {
        element: tag.to_string(),
        name: name.to_string(),
        value: value.to_string(),
        expected,
        position,
    };
    let boolean = |name: &str, default: bool| match get(name) {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(v) => Err(bad(name, v, "expected true or false")),
    };
    let number = |name: &str| match get(name) {
        None => Ok(0),
        Some(v) => parse_number(v).ok_or_else(|| bad(name, v, "expected a number")),
    };

    let mut e = Element::default();
    match format {
        SourceFormat::XcuiTest => {
            e.enabled = boolean("enabled", true)?;
            e.selected = boolean("selected", false)?;
            e.focused = boolean("focused", false)?;
            let label = string("label");
            let value = string("value");
            e.class = get("type").unwrap_or(tag).to_string();
            e.id = string("name");
            e.text = if label.is_empty() { value.clone() } else { label.clone() };
            e.hint = string("placeholderValue");
            e.accessibility = label;
            e.checked = matches!(
                e.class.as_str(),
                "XCUIElementTypeSwitch" | "XCUIElementTypeCheckBox" | "XCUIElementTypeToggle"
            ) && value == "1";
            e.value = value;
            e.visible = boolean("visible", true)?;
            e.bounds = Bounds {
                x: number("x")?,
                y: number("y")?,
                width: number("width")?,
                height: number("height")?,
            };
        }
        SourceFormat::UiAutomator2 => {
            e.enabled = boolean("enabled", true)?;
            e.selected = boolean("selected", false)?;
            e.focused = boolean("focused", false)?;
            e.class = get("class").unwrap_or(tag).to_string();
            e.id = string("resource-id");
            e.text = string("text");
            e.hint = string("hint");
            e.accessibility = string("content-desc");
            e.value = e.text.clone();
            e.checked = boolean("checked", false)?;
            e.clickable = boolean("clickable", false)?;
            e.visible = boolean("displayed", true)? && boolean("visible-to-user", true)?;
            e.bounds = match get("bounds") {
                Some(v) => parse_bounds(v).ok_or_else(|| bad("bounds", v, "expected [x1,y1][x2,y2]"))?,
                // The `hierarchy` element: the screen size.
                None => Bounds {
                    x: 0,
                    y: 0,
                    width: number("width")?,
                    height: number("height")?,
                },
            };
        }
        SourceFormat::Generic => {
            // The first of `names` that is present and not empty.
            let first = |names: &[&str]| {
                names
                    .iter()
                    .find_map(|n| get(n).filter(|v| !v.is_empty()))
                    .unwrap_or_default()
                    .to_string()
            };
            let flag = |name: &str, default: bool| match get(name) {
                Some("true") => true,
                Some("false") => false,
                _ => default,
            };
            let num = |names: &[&str]| names.iter().find_map(|n| get(n)).and_then(parse_number).unwrap_or(0);
            e.class = tag.to_string();
            e.id = first(&["id", "resource-id", "name"]);
            e.text = first(&["text", "label", "value", "content-desc"]);
            e.hint = first(&["placeholder", "placeholderValue", "hint"]);
            e.accessibility = first(&["content-desc", "label"]);
            e.value = first(&["value", "text"]);
            e.enabled = flag("enabled", true);
            e.selected = flag("selected", false);
            e.focused = flag("focused", false);
            e.checked = flag("checked", false);
            e.clickable = flag("clickable", false);
            e.visible = flag("visible", true) && flag("displayed", true);
            e.bounds = get("bounds").and_then(parse_bounds).unwrap_or_else(|| Bounds {
                x: num(&["x", "left"]),
                y: num(&["y", "top"]),
                width: num(&["width"]),
                height: num(&["height"]),
            });
        }
    }
    Ok(e)
}

/// An integer, or a decimal rounded to the nearest integer (older WDA builds wrote `12.5`).
fn parse_number(s: &str) -> Option<i32> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i32>() {
        return Some(n);
    }
    let f = s.parse::<f64>().ok().filter(|f| f.is_finite())?;
    let r = f.round();
    (r >= f64::from(i32::MIN) && r <= f64::from(i32::MAX)).then_some(r as i32)
}

/// `[x1,y1][x2,y2]` → x, y, width, height.
fn parse_bounds(s: &str) -> Option<Bounds> {
    let inner = s.trim().strip_prefix('[')?.strip_suffix(']')?;
    let (a, b) = inner.split_once("][")?;
    let pair = |p: &str| -> Option<(i32, i32)> {
        let (x, y) = p.split_once(',')?;
        Some((parse_number(x)?, parse_number(y)?))
    };
    let (x1, y1) = pair(a)?;
    let (x2, y2) = pair(b)?;
    Some(Bounds {
        x: x1,
        y: y1,
        width: x2.checked_sub(x1)?,
        height: y2.checked_sub(y1)?,
    })
}

impl Element {
    /// Depth-first, pre-order walk (document order): `f(element, depth)`, the root at depth 0.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Element, usize)) {
        let mut stack = vec![(self, 0usize)];
        while let Some((e, depth)) = stack.pop() {
            f(e, depth);
            stack.extend(e.children.iter().rev().map(|c| (c, depth + 1)));
        }
    }

    /// This element and all its descendants, in document order.
    pub fn descendants(&self) -> Vec<&Element> {
        let mut out = vec![];
        self.walk(&mut |e, _| out.push(e));
        out
    }

    /// The middle of the element, where a tap lands.
    pub fn center(&self) -> (i32, i32) {
        self.bounds.center()
    }

    /// A one-line description for messages: `XCUIElementTypeButton id=auth-continue text="Continue"`.
    /// Hint and accessibility text are added when they say something the text does not; texts
    /// longer than 60 characters are shortened.
    pub fn describe(&self) -> String {
        let mut out = self.class.clone();
        if !self.id.is_empty() {
            out.push_str(" id=");
            out.push_str(&self.id);
        }
        let mut quoted = |key: &str, value: &str| {
            out.push_str(&format!(" {key}={:?}", shorten(value)));
        };
        if !self.text.is_empty() {
            quoted("text", &self.text);
        }
        if !self.hint.is_empty() && self.hint != self.text {
            quoted("hint", &self.hint);
        }
        if !self.accessibility.is_empty() && self.accessibility != self.text {
            quoted("accessibility", &self.accessibility);
        }
        if !self.enabled {
            out.push_str(" disabled");
        }
        out
    }
}

impl fmt::Display for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

fn shorten(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(MAX - 1).collect();
        t.push('…');
        t
    }
}

/// Lookups for tests over element trees (also the farm's compatibility tests).
#[cfg(test)]
pub(crate) mod testing {
    use super::Element;

    pub(crate) fn by_id<'a>(root: &'a Element, id: &str) -> &'a Element {
        root.descendants()
            .into_iter()
            .find(|e| e.id == id)
            .unwrap_or_else(|| panic!("no element with id {id}"))
    }

    pub(crate) fn by_text<'a>(root: &'a Element, text: &str) -> &'a Element {
        root.descendants()
            .into_iter()
            .find(|e| e.text == text)
            .unwrap_or_else(|| panic!("no element with text {text}"))
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{by_id, by_text};
    use super::*;

    /// A trimmed real WDA source: a React Native login screen with a switch, a hidden element
    /// and float coordinates.
    const IOS_SNIPPET: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<AppiumAUT>
  <XCUIElementTypeApplication type="XCUIElementTypeApplication" name="Acme" label="Acme" enabled="true" visible="true" accessible="false" x="0" y="0" width="393" height="852" index="0">
    <XCUIElementTypeWindow type="XCUIElementTypeWindow" enabled="true" visible="true" accessible="false" x="0" y="0" width="393" height="852" index="0">
      <XCUIElementTypeOther type="XCUIElementTypeOther" name="login-screen" enabled="true" visible="true" accessible="false" x="0" y="0" width="393" height="852" index="0">
        <XCUIElementTypeStaticText type="XCUIElementTypeStaticText" value="Welcome back" name="Welcome back" label="Welcome back" enabled="true" visible="true" accessible="true" x="24" y="120" width="345" height="34" index="0"/>
        <XCUIElementTypeTextField type="XCUIElementTypeTextField" value="Email" name="login-email" enabled="true" visible="true" accessible="true" x="24" y="180" width="345" height="44" index="1" placeholderValue="Email" focused="true"/>
        <XCUIElementTypeSwitch type="XCUIElementTypeSwitch" value="1" name="remember-me" label="Remember me" enabled="true" visible="true" accessible="true" x="318.5" y="240.25" width="51" height="31" index="2" selected="false"/>
        <XCUIElementTypeButton type="XCUIElementTypeButton" name="login-submit" label="Log in" enabled="false" visible="true" accessible="true" x="24" y="300" width="345" height="50" index="3"/>
        <XCUIElementTypeStaticText type="XCUIElementTypeStaticText" value="Line one&#10;line two" name="notice" label="Line one&#10;line two" enabled="true" visible="false" accessible="true" x="24" y="900" width="345" height="40" index="4"/>
      </XCUIElementTypeOther>
    </XCUIElementTypeWindow>
  </XCUIElementTypeApplication>
</AppiumAUT>
"#;

    #[test]
    fn hand_written_xcuitest() {
        let (format, root) = parse_source_with_format(IOS_SNIPPET).unwrap();
        assert_eq!(format, SourceFormat::XcuiTest);
        assert_eq!(root.class, "XCUIElementTypeApplication");
        assert_eq!(root.id, "Acme");
        let all = root.descendants();
        assert_eq!(all.len(), 8);
        let mut depths = vec![];
        root.walk(&mut |e, d| depths.push((e.id.clone(), d)));
        assert_eq!(depths[0], ("Acme".to_string(), 0));
        assert_eq!(depths[2], ("login-screen".to_string(), 2));
        assert_eq!(depths[7], ("notice".to_string(), 3));

        let email = by_id(&root, "login-email");
        assert!(email.focused);
        assert_eq!((email.text.as_str(), email.hint.as_str()), ("Email", "Email"));
        let switch = by_id(&root, "remember-me");
        assert!(switch.checked && !switch.selected);
        assert_eq!(switch.text, "Remember me");
        assert_eq!(switch.value, "1");
        assert_eq!(
            switch.bounds,
            Bounds {
                x: 319,
                y: 240,
                width: 51,
                height: 31
            }
        );
        let submit = by_id(&root, "login-submit");
        assert!(!submit.enabled);
        assert_eq!(submit.text, "Log in");
        let notice = by_id(&root, "notice");
        assert!(!notice.visible);
        assert_eq!(notice.text, "Line one\nline two");
        assert_eq!(
            notice.describe(),
            "XCUIElementTypeStaticText id=notice text=\"Line one\\nline two\""
        );
    }

    /// A trimmed real UiAutomator2 source: a native app with package-qualified resource ids,
    /// a content description, a hint, and a second window (the keyboard).
    const ANDROID_SNIPPET: &str = r#"<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>
<hierarchy index="0" class="hierarchy" rotation="0" width="1080" height="2400">
  <android.widget.FrameLayout index="0" package="com.example" class="android.widget.FrameLayout" text="" resource-id="" checkable="false" checked="false" clickable="false" enabled="true" focusable="false" focused="false" long-clickable="false" password="false" scrollable="false" selected="false" bounds="[0,0][1080,2400]" displayed="true">
    <android.widget.LinearLayout index="0" package="com.example" class="android.widget.LinearLayout" text="" resource-id="com.example:id/form" checkable="false" checked="false" clickable="false" enabled="true" focusable="false" focused="false" long-clickable="false" password="false" scrollable="false" selected="false" bounds="[0,210][1080,1600]" displayed="true">
      <android.widget.ImageView index="0" package="com.example" class="android.widget.ImageView" text="" resource-id="com.example:id/logo" checkable="false" checked="false" clickable="false" enabled="true" focusable="false" focused="false" long-clickable="false" password="false" scrollable="false" selected="false" bounds="[390,260][690,560]" displayed="true" content-desc="Acme logo" />
      <android.widget.EditText index="1" package="com.example" class="android.widget.EditText" text="Email" resource-id="com.example:id/email" checkable="false" checked="false" clickable="true" enabled="true" focusable="true" focused="true" long-clickable="true" password="false" scrollable="false" selected="false" bounds="[66,640][1014,786]" displayed="true" hint="Email" />
      <android.widget.CheckBox index="2" package="com.example" class="android.widget.CheckBox" text="Remember me" resource-id="com.example:id/remember" checkable="true" checked="true" clickable="true" enabled="true" focusable="true" focused="false" long-clickable="false" password="false" scrollable="false" selected="false" bounds="[66,820][540,946]" displayed="true" />
      <android.widget.Button index="3" package="com.example" class="android.widget.Button" text="LOG IN" resource-id="com.example:id/login" checkable="false" checked="false" clickable="true" enabled="false" focusable="true" focused="false" long-clickable="false" password="false" scrollable="false" selected="false" bounds="[66,1000][1014,1144]" displayed="true" content-desc="Log in" />
    </android.widget.LinearLayout>
  </android.widget.FrameLayout>
  <android.widget.FrameLayout index="1" package="com.google.android.inputmethod.latin" class="android.widget.FrameLayout" text="" resource-id="" checkable="false" checked="false" clickable="false" enabled="true" focusable="false" focused="false" long-clickable="false" password="false" scrollable="false" selected="true" bounds="[0,1600][1080,2400]" displayed="false" />
</hierarchy>
"#;

    #[test]
    fn hand_written_uiautomator2() {
        let (format, root) = parse_source_with_format(ANDROID_SNIPPET).unwrap();
        assert_eq!(format, SourceFormat::UiAutomator2);
        assert_eq!(root.class, "hierarchy");
        assert_eq!(root.children.len(), 2);
        let login = by_id(&root, "com.example:id/login");
        assert_eq!(login.text, "LOG IN");
        assert_eq!(login.accessibility, "Log in");
        assert!(!login.enabled && login.clickable);
        assert_eq!(
            login.bounds,
            Bounds {
                x: 66,
                y: 1000,
                width: 948,
                height: 144
            }
        );
        assert_eq!(login.center(), (540, 1072));
        assert_eq!(
            login.describe(),
            "android.widget.Button id=com.example:id/login text=\"LOG IN\" accessibility=\"Log in\" disabled"
        );
        let logo = by_id(&root, "com.example:id/logo");
        assert_eq!((logo.text.as_str(), logo.accessibility.as_str()), ("", "Acme logo"));
        assert_eq!(
            logo.describe(),
            "android.widget.ImageView id=com.example:id/logo accessibility=\"Acme logo\""
        );
        let email = by_id(&root, "com.example:id/email");
        assert!(email.focused && email.clickable);
        assert_eq!(email.hint, "Email");
        assert!(by_id(&root, "com.example:id/remember").checked);
        let keyboard = &root.children[1];
        assert!(!keyboard.visible && keyboard.selected);
    }

    #[test]
    fn defaults_for_missing_attributes() {
        let root = parse_source("<hierarchy><node bounds=\"[1,2][3,4]\"/><node/></hierarchy>").unwrap();
        // No size on the hierarchy element: the union of its children.
        assert_eq!(
            root.bounds,
            Bounds {
                x: 0,
                y: 0,
                width: 3,
                height: 4
            }
        );
        let n = &root.children[0];
        assert_eq!(n.class, "node");
        assert_eq!(
            n.bounds,
            Bounds {
                x: 1,
                y: 2,
                width: 2,
                height: 2
            }
        );
        assert!(n.enabled && n.visible && !n.checked && !n.selected && !n.focused && !n.clickable);
        assert_eq!(root.children[1].bounds, Bounds::default());

        let root = parse_source("<XCUIElementTypeApplication unknown=\"x\"/>").unwrap();
        assert_eq!(root.class, "XCUIElementTypeApplication");
        assert!(root.enabled && root.visible);
        assert_eq!(root.describe(), "XCUIElementTypeApplication");

        // More than one application under AppiumAUT: the wrapper stays the root.
        let root = parse_source(
            "<AppiumAUT><XCUIElementTypeApplication x=\"0\" y=\"0\" width=\"10\" height=\"20\"/>\
             <XCUIElementTypeApplication x=\"5\" y=\"0\" width=\"10\" height=\"30\"/></AppiumAUT>",
        )
        .unwrap();
        assert_eq!(root.class, "AppiumAUT");
        assert_eq!(
            root.bounds,
            Bounds {
                x: 0,
                y: 0,
                width: 15,
                height: 30
            }
        );
    }

    #[test]
    fn errors_name_the_byte_position() {
        let err = |xml: &str| parse_source(xml).unwrap_err();
        let e = err("<hierarchy><a></b></hierarchy>");
        assert!(matches!(e, HierarchyError::Xml { position: 14, .. }), "{e:?}");
        assert!(
            e.to_string()
                .starts_with("page source is not well-formed xml at byte 14: "),
            "{e}"
        );

        let e = err("<hierarchy>\n  <a bounds=\"[0,0]\"/></hierarchy>");
        assert_eq!(
            e.to_string(),
            "page source has an invalid bounds=\"[0,0]\" on <a> at byte 14: expected [x1,y1][x2,y2]"
        );
        let e = err("<AppiumAUT><XCUIElementTypeButton enabled=\"yes\"/></AppiumAUT>");
        assert_eq!(
            e.to_string(),
            "page source has an invalid enabled=\"yes\" on <XCUIElementTypeButton> at byte 11: expected true or false"
        );
        let e = err("<XCUIElementTypeOther x=\"abc\"/>");
        assert!(matches!(e, HierarchyError::BadAttribute { position: 0, .. }), "{e:?}");

        assert_eq!(
            err("<hierarchy><a>").to_string(),
            "page source ends at byte 14 before <a> is closed"
        );
        assert_eq!(err("").to_string(), "page source has no root element");
        assert_eq!(
            err("<?xml version=\"1.0\"?>\n<!-- nothing -->").to_string(),
            "page source has no root element"
        );
        assert_eq!(
            err("<html/><html/>").to_string(),
            "page source has a second root element <html> at byte 7"
        );
        assert_eq!(
            err("<hierarchy/><hierarchy/>").to_string(),
            "page source has a second root element <hierarchy> at byte 12"
        );
        let e = err("<hierarchy><a b=\"1\" b=\"2\"/></hierarchy>");
        assert!(matches!(e, HierarchyError::Xml { position: 11, .. }), "{e:?}");
        let e = err("<hierarchy><a text=\"&bogus;\"/></hierarchy>");
        assert!(matches!(e, HierarchyError::Xml { .. }), "{e:?}");

        let deep = format!("<hierarchy>{}", "<a>".repeat(MAX_DEPTH));
        assert!(matches!(err(&deep), HierarchyError::TooDeep { .. }));
        let ok = format!(
            "<hierarchy>{}{}</hierarchy>",
            "<a>".repeat(MAX_DEPTH - 1),
            "</a>".repeat(MAX_DEPTH - 1)
        );
        assert!(parse_source(&ok).is_ok());
    }

    #[test]
    fn hand_written_xpaths() {
        let root = parse_source(IOS_SNIPPET).unwrap();
        let xp = |id: &str| by_id(&root, id).xpath.clone();
        assert_eq!(root.xpath, "/XCUIElementTypeApplication");
        let screen = "/XCUIElementTypeApplication/XCUIElementTypeWindow[1]/XCUIElementTypeOther[1]";
        assert_eq!(xp("login-screen"), screen);
        assert_eq!(xp("Welcome back"), format!("{screen}/XCUIElementTypeStaticText[1]"));
        assert_eq!(xp("login-email"), format!("{screen}/XCUIElementTypeTextField[1]"));
        assert_eq!(xp("notice"), format!("{screen}/XCUIElementTypeStaticText[2]"));
        // WDA's own /source, without the wrapper, gives the same paths.
        let paths = |r: &Element| r.descendants().iter().map(|e| e.xpath.clone()).collect::<Vec<_>>();
        let bare = parse_source(&IOS_SNIPPET.replace("<AppiumAUT>", "").replace("</AppiumAUT>", "")).unwrap();
        assert_eq!(paths(&bare), paths(&root));
        // Several applications: the wrapper stays the root and has no XPath of its own.
        let two =
            parse_source("<AppiumAUT><XCUIElementTypeApplication/><XCUIElementTypeApplication/></AppiumAUT>").unwrap();
        assert_eq!(two.xpath, "");
        assert_eq!(two.children[1].xpath, "/XCUIElementTypeApplication");

        let root = parse_source(ANDROID_SNIPPET).unwrap();
        assert_eq!(root.xpath, "/hierarchy");
        assert_eq!(root.children[1].xpath, "/hierarchy/android.widget.FrameLayout[2]");
        assert_eq!(
            by_id(&root, "com.example:id/login").xpath,
            "/hierarchy/android.widget.FrameLayout[1]/android.widget.LinearLayout[1]/android.widget.Button[1]"
        );
        assert!(root.descendants().iter().all(|e| !e.no_geometry));
    }

    /// The format of Appium's fake driver (modelled on its test app): the app XML as its page
    /// source reports it, wrapped in AppiumAUT.
    const FAKE_SNIPPET: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<AppiumAUT><app width="400" height="852">
    <MockNavBar id="bar" top="1" left="1" width="100" height="100">
        <MockTextField id="heading" text="Orders" />
    </MockNavBar>
    <MockWebView id="web" top="10" left="10.57" width="20.8" height="20.5">
        <html><head><title value="page title">Page</title></head><body><h1>Hi</h1></body></html>
    </MockWebView>
    <MockListView id="list" top="15.3" left="20.8" width="30.5" height="2">
        <MockListItem id="row" />
        <MockListItem id="row" />
        <MockListItem />
    </MockListView>
    <MockInputField id="query" name="Search" placeholder="Search orders" />
    <MockButton id="hidden" visible="false" enabled="false" />
    <MockButton id="chosen" selected="true" label="Chosen" content-desc="Chosen button" />
    <alert id="confirm" text="Are you sure?" hasPrompt="true" />
</app></AppiumAUT>
"#;

    #[test]
    fn generic_sources() {
        let (format, root) = parse_source_with_format(FAKE_SNIPPET).unwrap();
        assert_eq!(format, SourceFormat::Generic);
        assert_eq!(format.name(), "generic XML");
        assert_eq!((root.class.as_str(), root.xpath.as_str()), ("app", "/AppiumAUT/app[1]"));
        assert_eq!(
            root.bounds,
            Bounds {
                x: 0,
                y: 0,
                width: 400,
                height: 852
            }
        );
        assert!(!root.no_geometry, "some elements have a size");
        let bar = by_id(&root, "bar");
        assert_eq!(
            (bar.class.as_str(), bar.xpath.as_str()),
            ("MockNavBar", "/AppiumAUT/app[1]/MockNavBar[1]")
        );
        assert_eq!(
            bar.bounds,
            Bounds {
                x: 1,
                y: 1,
                width: 100,
                height: 100
            }
        );
        assert_eq!(
            by_id(&root, "web").bounds,
            Bounds {
                x: 11,
                y: 10,
                width: 21,
                height: 21
            }
        );
        assert_eq!(by_id(&root, "heading").text, "Orders");
        assert_eq!(by_text(&root, "page title").class, "title");
        assert_eq!(
            by_text(&root, "page title").xpath,
            "/AppiumAUT/app[1]/MockWebView[1]/html[1]/head[1]/title[1]"
        );
        let rows: Vec<&str> = root
            .descendants()
            .into_iter()
            .filter(|e| e.class == "MockListItem")
            .map(|e| e.xpath.as_str())
            .collect();
        assert_eq!(
            rows,
            [
                "/AppiumAUT/app[1]/MockListView[1]/MockListItem[1]",
                "/AppiumAUT/app[1]/MockListView[1]/MockListItem[2]",
                "/AppiumAUT/app[1]/MockListView[1]/MockListItem[3]",
            ]
        );
        // `id` wins over `name`; the placeholder is the hint.
        let query = by_id(&root, "query");
        assert_eq!((query.hint.as_str(), query.text.as_str()), ("Search orders", ""));
        let hidden = by_id(&root, "hidden");
        assert!(!hidden.visible && !hidden.enabled);
        let chosen = by_id(&root, "chosen");
        assert!(chosen.selected && chosen.visible && chosen.enabled);
        assert_eq!(
            (chosen.text.as_str(), chosen.accessibility.as_str()),
            ("Chosen", "Chosen button")
        );
        assert_eq!(by_id(&root, "confirm").text, "Are you sure?");
        assert_eq!(by_id(&root, "confirm").bounds, Bounds::default());

        // No size below the root: every element says so.
        let flat = FAKE_SNIPPET
            .lines()
            .map(|l| match l.find(" top=") {
                Some(i) => format!("{}>", &l[..i]),
                None => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        let root = parse_source(&flat).unwrap();
        assert!(root.descendants().iter().all(|e| e.no_geometry), "{flat}");

        // Any other root is generic too, read leniently; prefixed names get a name() test.
        let (format, root) = parse_source_with_format(
            "<html><body><ns:b x=\"1\" y=\"2\" width=\"3\" height=\"4\" enabled=\"yes\" visible=\"0\"/>\
             <p bounds=\"[1,2][11,22]\" width=\"abc\" resource-id=\"r\" name=\"n\"/><p/></body></html>",
        )
        .unwrap();
        assert_eq!(format, SourceFormat::Generic);
        assert_eq!((root.class.as_str(), root.xpath.as_str()), ("html", "/html"));
        let body = &root.children[0];
        assert_eq!(body.xpath, "/html/body[1]");
        let b = &body.children[0];
        assert_eq!(b.xpath, "/html/body[1]/*[name()='ns:b'][1]");
        assert_eq!(
            b.bounds,
            Bounds {
                x: 1,
                y: 2,
                width: 3,
                height: 4
            }
        );
        assert!(b.enabled && b.visible);
        let p = &body.children[1];
        assert_eq!((p.id.as_str(), p.xpath.as_str()), ("r", "/html/body[1]/p[1]"));
        assert_eq!(
            p.bounds,
            Bounds {
                x: 1,
                y: 2,
                width: 10,
                height: 20
            }
        );
        assert_eq!(body.children[2].xpath, "/html/body[1]/p[2]");
        assert!(!root.no_geometry);

        // A wrapper around several generic elements stays the root, with its XPath.
        let (format, root) = parse_source_with_format("<AppiumAUT><a/><b/></AppiumAUT>").unwrap();
        assert_eq!(format, SourceFormat::Generic);
        assert_eq!(root.xpath, "/AppiumAUT");
        assert_eq!(root.children[1].xpath, "/AppiumAUT/b[1]");
        assert!(root.no_geometry);
        // An empty wrapper is an (empty) XCUITest source, as before.
        assert_eq!(
            parse_source_with_format("<AppiumAUT/>").unwrap().0,
            SourceFormat::XcuiTest
        );
    }

    #[test]
    fn bounds_helpers() {
        assert_eq!(
            parse_bounds("[0,0][1080,2400]"),
            Some(Bounds {
                x: 0,
                y: 0,
                width: 1080,
                height: 2400
            })
        );
        assert_eq!(
            parse_bounds("[10,20][5,40]"),
            Some(Bounds {
                x: 10,
                y: 20,
                width: -5,
                height: 20
            })
        );
        assert_eq!(parse_bounds("[1,2]"), None);
        assert_eq!(parse_bounds("[a,2][3,4]"), None);
        let b = Bounds {
            x: 10,
            y: 20,
            width: 30,
            height: 40,
        };
        assert!(b.contains(10, 20) && !b.contains(40, 20) && !b.contains(10, 60));
        assert_eq!(b.to_string(), "[10,20][40,60]");
        assert!(Bounds { width: 0, ..b }.is_empty());
        assert_eq!(parse_number("12.5"), Some(13));
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("1e20"), None);
    }
}
