//! Page source: the screen tree as the XML each real driver returns for `GET /session/:id/source`.
//!
//! - iOS follows WebDriverAgent (XCUITest driver): libxml2 output wrapped in the `<AppiumAUT>`
//!   scope element Appium asks for. Attribute order is WDA's (`type`, `value`, `name`, `label`,
//!   `enabled`, `visible`, `accessible`, `x`, `y`, `width`, `height`, `index`, `placeholderValue`);
//!   `value`, `name`, `label` and `placeholderValue` are left out when empty, as WDA turns empty
//!   strings into nil and skips nil attributes. Coordinates are points.
//! - Android follows the UiAutomator2 server: a `<hierarchy>` root carrying the display size, then
//!   one element per view named by its class. Coordinates are pixels (points × 2.75, the density
//!   of a 440 dpi phone). Every attribute is present; absent strings are `""`.
//!
//! The same XML model ([`xml_tree`]) is what `farm::find` evaluates XPath over, so a locator written
//! against the source this module prints finds the same elements.

use crate::farm::ui::{Kind, UiNode, UiTree};
use crate::platform::Platform;

/// Android pixels per point (density 440 dpi / 160).
pub const ANDROID_DENSITY: f64 = 2.75;

/// What iOS shows as the value of a secure text field, per typed character.
pub const SECURE_BULLET: char = '•';

/// One element of the page source.
#[derive(Clone, Debug, PartialEq)]
pub struct XmlElement {
    /// The tag: `XCUIElementTypeButton`, `android.widget.Button`, `hierarchy`.
    pub name: &'static str,
    /// Attributes in the order the real driver writes them; values unescaped.
    pub attrs: Vec<(&'static str, String)>,
    /// Path of the [`UiNode`] this element stands for; `None` for Android's `hierarchy` wrapper,
    /// which is not an element a locator can return.
    pub path: Option<Vec<usize>>,
    pub children: Vec<XmlElement>,
}

impl XmlElement {
    /// The value of an attribute, if the element has it.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    /// The element standing for the node at `path`, searching this element and its descendants.
    pub fn find_path(&self, path: &[usize]) -> Option<&XmlElement> {
        if self.path.as_deref() == Some(path) {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find_path(path))
    }
}

/// The page source of the screen, in the driver format of the tree's platform.
pub fn page_source(tree: &UiTree) -> String {
    let root = xml_tree(tree);
    let mut out = String::with_capacity(4096);
    match tree.platform {
        Platform::Ios => {
            out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AppiumAUT>\n");
            write_element(&mut out, &root, 1, "/>");
            out.push_str("</AppiumAUT>\n");
        }
        Platform::Android => {
            out.push_str("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n");
            // Android's XmlSerializer (kxml) closes empty elements with " />".
            write_element(&mut out, &root, 0, " />");
        }
    }
    out
}

/// The XML model of the screen: for iOS the `XCUIElementTypeApplication` element (the root WDA
/// evaluates XPath against; the `<AppiumAUT>` wrapper exists only in the printed source), for
/// Android the `hierarchy` element wrapping the view tree.
pub fn xml_tree(tree: &UiTree) -> XmlElement {
    match tree.platform {
        Platform::Ios => ios_element(tree, &tree.root, 0, &mut vec![]),
        Platform::Android => {
            let (w, h) = android_screen_px(tree);
            XmlElement {
                name: "hierarchy",
                attrs: vec![
                    ("index", "0".into()),
                    ("class", "hierarchy".into()),
                    ("rotation", "0".into()),
                    ("width", w.to_string()),
                    ("height", h.to_string()),
                ],
                path: None,
                children: vec![android_element(tree, &tree.root, 0, &mut vec![])],
            }
        }
    }
}

/// The Android screen size in pixels. Truncated, not rounded: 393×873 points → 1080×2400, the
/// real panel (the points are themselves the panel size divided by 2.75, rounded).
pub fn android_screen_px(tree: &UiTree) -> (i32, i32) {
    (
        (f64::from(tree.width) * ANDROID_DENSITY) as i32,
        (f64::from(tree.height) * ANDROID_DENSITY) as i32,
    )
}

/// Points → Android pixels, rounded, clamped to `0..=max`.
pub fn android_px(points: i32, max: i32) -> i32 {
    ((f64::from(points) * ANDROID_DENSITY).round() as i32).clamp(0, max)
}

/// The rectangle of a node, with the application root always covering the whole screen.
fn node_rect(tree: &UiTree, node: &UiNode) -> (i32, i32, i32, i32) {
    if node.kind == Kind::Application {
        (0, 0, tree.width, tree.height)
    } else {
        (node.rect.x, node.rect.y, node.rect.width, node.rect.height)
    }
}

/// The text a field shows: what was typed (masked when secure), else the placeholder.
fn field_display(node: &UiNode) -> String {
    if node.text.is_empty() {
        node.placeholder.clone().unwrap_or_default()
    } else if node.kind == Kind::SecureField {
        node.text.chars().map(|_| SECURE_BULLET).collect()
    } else {
        node.text.clone()
    }
}

fn bool_str(b: bool) -> String {
    if b { "true" } else { "false" }.to_string()
}

fn ios_element(tree: &UiTree, node: &UiNode, index: usize, path: &mut Vec<usize>) -> XmlElement {
    let kind = node.kind;
    // The accessibility label: what VoiceOver reads. RN gives pressables and texts their text;
    // UIKit labels a running UIActivityIndicatorView "In progress"; fields and plain views have none.
    let label = match kind {
        Kind::Application => tree.app_name.clone(),
        Kind::Text | Kind::Button => node.text.clone(),
        Kind::Spinner if node.text.is_empty() => "In progress".to_string(),
        Kind::Spinner => node.text.clone(),
        Kind::Window | Kind::Group | Kind::TextField | Kind::SecureField => String::new(),
    };
    let value = match kind {
        Kind::Text => node.text.clone(),
        Kind::TextField | Kind::SecureField => field_display(node),
        _ => String::new(),
    };
    // WDA's `name` is the accessibility identifier (RN testID), else the label.
    let name = node
        .test_id
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| label.clone());
    let accessible = matches!(
        kind,
        Kind::Text | Kind::Button | Kind::TextField | Kind::SecureField | Kind::Spinner
    );
    let (x, y, w, h) = node_rect(tree, node);

    let mut attrs: Vec<(&'static str, String)> = vec![("type", kind.ios_type().to_string())];
    if !value.is_empty() {
        attrs.push(("value", value));
    }
    if !name.is_empty() {
        attrs.push(("name", name));
    }
    if !label.is_empty() {
        attrs.push(("label", label));
    }
    attrs.push(("enabled", bool_str(node.enabled)));
    attrs.push(("visible", bool_str(true)));
    attrs.push(("accessible", bool_str(accessible)));
    attrs.push(("x", x.to_string()));
    attrs.push(("y", y.to_string()));
    attrs.push(("width", w.to_string()));
    attrs.push(("height", h.to_string()));
    attrs.push(("index", index.to_string()));
    if matches!(kind, Kind::TextField | Kind::SecureField)
        && let Some(p) = node.placeholder.as_ref().filter(|p| !p.is_empty())
    {
        attrs.push(("placeholderValue", p.clone()));
    }

    let children = children(tree, node, path, ios_element);
    XmlElement {
        name: kind.ios_type(),
        attrs,
        path: Some(path.clone()),
        children,
    }
}

fn android_element(tree: &UiTree, node: &UiNode, index: usize, path: &mut Vec<usize>) -> XmlElement {
    let kind = node.kind;
    let class = kind.android_class();
    let text = match kind {
        Kind::Text | Kind::Button => node.text.clone(),
        // Android 8+ reports the hint as the text of an empty field, and bullets for a password.
        Kind::TextField | Kind::SecureField => field_display(node),
        _ => String::new(),
    };
    let interactive = matches!(kind, Kind::Button | Kind::TextField | Kind::SecureField);
    let hint = match kind {
        Kind::TextField | Kind::SecureField => node.placeholder.clone().unwrap_or_default(),
        _ => String::new(),
    };
    let (sw, sh) = android_screen_px(tree);
    let (x, y, w, h) = node_rect(tree, node);
    let bounds = format!(
        "[{},{}][{},{}]",
        android_px(x, sw),
        android_px(y, sh),
        android_px(x + w, sw),
        android_px(y + h, sh)
    );
    let attrs = vec![
        ("index", index.to_string()),
        ("package", tree.app_id.clone()),
        ("class", class.to_string()),
        ("text", text),
        // React Native on Android sets testID as the view's resource name verbatim, so the
        // resource-id is `auth-continue`, not `com.example.app:id/auth-continue`.
        ("resource-id", node.test_id.clone().unwrap_or_default()),
        ("checkable", bool_str(false)),
        ("checked", bool_str(false)),
        ("clickable", bool_str(interactive)),
        ("enabled", bool_str(node.enabled)),
        ("focusable", bool_str(interactive)),
        ("focused", bool_str(node.focused)),
        ("long-clickable", bool_str(false)),
        ("password", bool_str(kind == Kind::SecureField)),
        ("scrollable", bool_str(false)),
        ("selected", bool_str(false)),
        ("bounds", bounds),
        ("displayed", bool_str(true)),
        ("hint", hint),
        // The virtual app sets no accessibilityLabel, so no content description.
        ("content-desc", String::new()),
    ];
    let children = children(tree, node, path, android_element);
    XmlElement {
        name: class,
        attrs,
        path: Some(path.clone()),
        children,
    }
}

/// Writes one element and its children, two spaces of indentation per level.
fn write_element(out: &mut String, e: &XmlElement, depth: usize, self_close: &str) {
    for _ in 0..depth {
        out.push_str("  ");
    }
    out.push('<');
    out.push_str(e.name);
    for (k, v) in &e.attrs {
        out.push(' ');
        out.push_str(k);
        out.push_str("=\"");
        escape_attr_into(out, v);
        out.push('"');
    }
    if e.children.is_empty() {
        out.push_str(self_close);
        out.push('\n');
        return;
    }
    out.push_str(">\n");
    for c in &e.children {
        write_element(out, c, depth + 1, self_close);
    }
    for _ in 0..depth {
        out.push_str("  ");
    }
    out.push_str("</");
    out.push_str(e.name);
    out.push_str(">\n");
}

/// A node's children as XML elements, each built by `element` with its path.
fn children(
    tree: &UiTree,
    node: &UiNode,
    path: &mut Vec<usize>,
    element: fn(&UiTree, &UiNode, usize, &mut Vec<usize>) -> XmlElement,
) -> Vec<XmlElement> {
    node.children
        .iter()
        .enumerate()
        .map(|(i, c)| {
            path.push(i);
            let e = element(tree, c, i, path);
            path.pop();
            e
        })
        .collect()
}

/// An attribute value escaped for a double-quoted XML attribute.
pub fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_attr_into(&mut out, s);
    out
}

fn escape_attr_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Whitespace that attribute normalisation would otherwise turn into spaces.
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            // Characters XML 1.0 cannot carry at all; both drivers substitute them too.
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('?'),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::farm::ui::Rect;

    fn rect(x: i32, y: i32, width: i32, height: i32) -> Rect {
        Rect { x, y, width, height }
    }

    fn sign_in(platform: Platform) -> UiTree {
        let mut email = UiNode::new(Kind::TextField, rect(16, 200, 361, 44)).id("auth-email");
        email.placeholder = Some("Email address".into());
        let mut password = UiNode::new(Kind::SecureField, rect(16, 260, 361, 44))
            .id("auth-password")
            .text("hunter2");
        password.placeholder = Some("Password".into());
        password.focused = true;
        let screen = UiNode::new(Kind::Group, rect(0, 0, 393, 873))
            .id("screen-sign-in")
            .child(UiNode::new(Kind::Text, rect(16, 120, 361, 40)).text("Sign in"))
            .child(email)
            .child(password)
            .child(
                UiNode::new(Kind::Button, rect(16, 330, 361, 48))
                    .id("auth-continue")
                    .text("Continue"),
            );
        UiTree {
            dark: false,
            platform,
            app_id: "com.example.app".into(),
            app_name: "Example".into(),
            width: 393,
            height: 873,
            root: UiNode::new(Kind::Application, rect(0, 0, 393, 873))
                .child(UiNode::new(Kind::Window, rect(0, 0, 393, 873)).child(screen)),
        }
    }

    #[test]
    fn ios_source_has_wda_shape() {
        let src = page_source(&sign_in(Platform::Ios));
        assert!(
            src.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AppiumAUT>\n  <XCUIElementTypeApplication ")
        );
        assert!(src.contains(
            "  <XCUIElementTypeApplication type=\"XCUIElementTypeApplication\" name=\"Example\" label=\"Example\" \
             enabled=\"true\" visible=\"true\" accessible=\"false\" x=\"0\" y=\"0\" width=\"393\" height=\"873\" \
             index=\"0\">\n"
        ));
        assert!(src.contains(
            "\n        <XCUIElementTypeButton type=\"XCUIElementTypeButton\" name=\"auth-continue\" label=\"Continue\" \
             enabled=\"true\" visible=\"true\" accessible=\"true\" x=\"16\" y=\"330\" width=\"361\" height=\"48\" \
             index=\"3\"/>\n"
        ));
        // A text without testID is named by its label.
        assert!(src.contains(
            "<XCUIElementTypeStaticText type=\"XCUIElementTypeStaticText\" value=\"Sign in\" name=\"Sign in\" \
             label=\"Sign in\" enabled=\"true\" visible=\"true\" accessible=\"true\" x=\"16\" y=\"120\" width=\"361\" \
             height=\"40\" index=\"0\"/>"
        ));
        // An empty field's value is its placeholder; no label, so no label attribute.
        assert!(src.contains(
            "<XCUIElementTypeTextField type=\"XCUIElementTypeTextField\" value=\"Email address\" name=\"auth-email\" \
             enabled=\"true\" visible=\"true\" accessible=\"true\" x=\"16\" y=\"200\" width=\"361\" height=\"44\" \
             index=\"1\" placeholderValue=\"Email address\"/>"
        ));
        // A secure field shows one bullet per character.
        assert!(src.contains(
            "<XCUIElementTypeSecureTextField type=\"XCUIElementTypeSecureTextField\" value=\"•••••••\" \
             name=\"auth-password\" enabled=\"true\""
        ));
        assert!(!src.contains("hunter2"));
        // A plain container has neither value nor label.
        assert!(src.contains(
            "<XCUIElementTypeOther type=\"XCUIElementTypeOther\" name=\"screen-sign-in\" enabled=\"true\" \
             visible=\"true\" accessible=\"false\" x=\"0\" y=\"0\" width=\"393\" height=\"873\" index=\"0\">\n"
        ));
        assert!(src.contains("    <XCUIElementTypeWindow type=\"XCUIElementTypeWindow\" enabled=\"true\""));
        assert!(src.ends_with("  </XCUIElementTypeApplication>\n</AppiumAUT>\n"));
    }

    #[test]
    fn android_source_has_uiautomator2_shape() {
        let src = page_source(&sign_in(Platform::Android));
        assert!(src.starts_with(
            "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n<hierarchy index=\"0\" class=\"hierarchy\" \
             rotation=\"0\" width=\"1080\" height=\"2400\">\n  <android.widget.FrameLayout index=\"0\" \
             package=\"com.example.app\" class=\"android.widget.FrameLayout\" text=\"\" resource-id=\"\""
        ));
        assert!(src.contains(
            "<android.widget.Button index=\"3\" package=\"com.example.app\" class=\"android.widget.Button\" \
             text=\"Continue\" resource-id=\"auth-continue\" checkable=\"false\" checked=\"false\" clickable=\"true\" \
             enabled=\"true\" focusable=\"true\" focused=\"false\" long-clickable=\"false\" password=\"false\" \
             scrollable=\"false\" selected=\"false\" bounds=\"[44,908][1037,1040]\" displayed=\"true\" hint=\"\" \
             content-desc=\"\" />\n"
        ));
        assert!(src.contains(
            "<android.widget.EditText index=\"1\" package=\"com.example.app\" class=\"android.widget.EditText\" \
             text=\"Email address\" resource-id=\"auth-email\""
        ));
        assert!(src.contains(
            "text=\"•••••••\" resource-id=\"auth-password\" checkable=\"false\" checked=\"false\" clickable=\"true\" \
             enabled=\"true\" focusable=\"true\" focused=\"true\" long-clickable=\"false\" password=\"true\""
        ));
        assert!(src.contains("hint=\"Password\""));
        // Full-screen bounds are clamped to the panel, not rounded past it.
        assert!(src.contains("resource-id=\"screen-sign-in\""));
        assert!(src.contains("bounds=\"[0,0][1080,2400]\""));
        assert!(!src.contains("[1081,"));
        assert!(src.ends_with("  </android.widget.FrameLayout>\n</hierarchy>\n"));
        assert!(!src.contains("hunter2"));
    }

    #[test]
    fn attribute_values_are_escaped() {
        for platform in [Platform::Ios, Platform::Android] {
            let mut tree = sign_in(platform);
            tree.root.children[0].children[0].children[0].text = "Tom & \"Jerry\" <'cat'>\nnext".into();
            let src = page_source(&tree);
            assert!(
                src.contains("Tom &amp; &quot;Jerry&quot; &lt;&apos;cat&apos;&gt;&#10;next"),
                "{platform:?}"
            );
            assert!(!src.contains("Tom & "), "{platform:?}");
        }
        assert_eq!(escape_attr("a\u{1}b\tc"), "a?b&#9;c");
    }

    #[test]
    fn disabled_and_spinner() {
        let mut tree = sign_in(Platform::Ios);
        let screen = &mut tree.root.children[0].children[0];
        screen.children[3].enabled = false;
        screen
            .children
            .push(UiNode::new(Kind::Spinner, rect(180, 400, 32, 32)).id("auth-loading"));
        let src = page_source(&tree);
        assert!(src.contains("name=\"auth-continue\" label=\"Continue\" enabled=\"false\""));
        assert!(src.contains(
            "<XCUIElementTypeActivityIndicator type=\"XCUIElementTypeActivityIndicator\" name=\"auth-loading\" \
             label=\"In progress\" enabled=\"true\""
        ));
        tree.platform = Platform::Android;
        let src = page_source(&tree);
        assert!(src.contains(
            "class=\"android.widget.Button\" text=\"Continue\" resource-id=\"auth-continue\" \
             checkable=\"false\" checked=\"false\" clickable=\"true\" enabled=\"false\""
        ));
        assert!(src.contains("<android.widget.ProgressBar index=\"4\""));
    }

    #[test]
    fn model_paths_match_tree() {
        let tree = sign_in(Platform::Android);
        let root = xml_tree(&tree);
        assert_eq!(root.path, None);
        let button = root.find_path(&[0, 0, 3]).unwrap();
        assert_eq!(button.attr("resource-id"), Some("auth-continue"));
        assert_eq!(button.name, "android.widget.Button");
        let ios = xml_tree(&sign_in(Platform::Ios));
        assert_eq!(ios.path, Some(vec![]));
        assert_eq!(ios.find_path(&[0, 0, 3]).unwrap().attr("name"), Some("auth-continue"));
    }
}
