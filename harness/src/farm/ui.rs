//! The virtual app's screen as a tree of UI elements.
//!
//! The app model (`farm::app`) builds a [`UiTree`] for what the screen shows right now; the
//! Appium layer turns it into page source (`farm::source`), finds elements in it
//! (`farm::find`) and renders it as a PNG (`farm::render`). Coordinates are in points of the
//! platform's screen (iOS 390×844, Android 1080×2400 pixels at density 2.75 → we use points
//! 393×873 and scale in the source's `bounds`).

use crate::platform::Platform;

/// What kind of element, mapped to each platform's class names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The application root.
    Application,
    /// A window / root view.
    Window,
    /// A container (a screen or a row).
    Group,
    /// Static text.
    Text,
    /// An editable text field.
    TextField,
    /// A secure (password) text field.
    SecureField,
    Button,
    /// An activity indicator (loading spinner).
    Spinner,
}

impl Kind {
    /// XCUITest element type, e.g. `XCUIElementTypeButton`.
    pub fn ios_type(self) -> &'static str {
        match self {
            Kind::Application => "XCUIElementTypeApplication",
            Kind::Window => "XCUIElementTypeWindow",
            Kind::Group => "XCUIElementTypeOther",
            Kind::Text => "XCUIElementTypeStaticText",
            Kind::TextField => "XCUIElementTypeTextField",
            Kind::SecureField => "XCUIElementTypeSecureTextField",
            Kind::Button => "XCUIElementTypeButton",
            Kind::Spinner => "XCUIElementTypeActivityIndicator",
        }
    }

    /// Android widget class, e.g. `android.widget.Button`.
    pub fn android_class(self) -> &'static str {
        match self {
            Kind::Application | Kind::Window => "android.widget.FrameLayout",
            Kind::Group => "android.view.ViewGroup",
            Kind::Text => "android.widget.TextView",
            Kind::TextField | Kind::SecureField => "android.widget.EditText",
            Kind::Button => "android.widget.Button",
            Kind::Spinner => "android.widget.ProgressBar",
        }
    }

    pub fn class_for(self, platform: Platform) -> &'static str {
        match platform {
            Platform::Ios => self.ios_type(),
            Platform::Android => self.android_class(),
        }
    }
}

/// A rectangle in points.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Rect {
    pub x: i32,
    pub y: i32,
    pub width: i32,
    pub height: i32,
}

impl Rect {
    pub fn contains(&self, x: i32, y: i32) -> bool {
        x >= self.x && y >= self.y && x < self.x + self.width && y < self.y + self.height
    }
    pub fn center(&self) -> (i32, i32) {
        (self.x + self.width / 2, self.y + self.height / 2)
    }
}

/// One element on screen.
#[derive(Clone, Debug, PartialEq)]
pub struct UiNode {
    pub kind: Kind,
    /// React Native `testID`: iOS `name` (accessibility identifier), Android `resource-id`.
    pub test_id: Option<String>,
    /// Visible text (label of a button, content of a text, value of a field).
    pub text: String,
    /// Placeholder of an empty text field.
    pub placeholder: Option<String>,
    pub enabled: bool,
    pub focused: bool,
    pub rect: Rect,
    pub children: Vec<UiNode>,
}

impl UiNode {
    pub fn new(kind: Kind, rect: Rect) -> Self {
        UiNode {
            kind,
            test_id: None,
            text: String::new(),
            placeholder: None,
            enabled: true,
            focused: false,
            rect,
            children: vec![],
        }
    }

    pub fn id(mut self, id: &str) -> Self {
        self.test_id = Some(id.to_string());
        self
    }

    pub fn text(mut self, t: impl Into<String>) -> Self {
        self.text = t.into();
        self
    }

    pub fn child(mut self, c: UiNode) -> Self {
        self.children.push(c);
        self
    }

    /// Depth-first walk with each node's path of child indexes from the root.
    pub fn walk<'a>(&'a self, path: &mut Vec<usize>, f: &mut dyn FnMut(&'a UiNode, &[usize])) {
        f(self, path);
        for (i, c) in self.children.iter().enumerate() {
            path.push(i);
            c.walk(path, f);
            path.pop();
        }
    }

    /// The node at a path of child indexes.
    pub fn at(&self, path: &[usize]) -> Option<&UiNode> {
        let mut n = self;
        for i in path {
            n = n.children.get(*i)?;
        }
        Some(n)
    }
}

/// The whole screen of one device at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct UiTree {
    pub platform: Platform,
    /// Bundle id / package of the foreground app, or the home screen's.
    pub app_id: String,
    pub app_name: String,
    /// Screen size in points.
    pub width: i32,
    pub height: i32,
    /// The system appearance is dark (the app draws itself in dark colours).
    pub dark: bool,
    /// Root: an `Application` node.
    pub root: UiNode,
}

impl UiTree {
    /// The stable element id the Appium layer hands out for the node at `path`:
    /// the testID when there is one (unique per screen), else the path.
    pub fn element_id(&self, path: &[usize]) -> Option<String> {
        let node = self.root.at(path)?;
        Some(match &node.test_id {
            Some(id) => format!("tid-{id}"),
            None => format!(
                "path-{}",
                path.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(".")
            ),
        })
    }

    /// Resolves an element id back to a path, if the element is still on screen.
    pub fn resolve(&self, element_id: &str) -> Option<Vec<usize>> {
        let mut found = None;
        self.root.walk(&mut vec![], &mut |_, p| {
            if found.is_none() && self.element_id(p).as_deref() == Some(element_id) {
                found = Some(p.to_vec());
            }
        });
        found
    }

    /// The deepest enabled node containing a point (for W3C pointer taps).
    pub fn hit(&self, x: i32, y: i32) -> Option<Vec<usize>> {
        let mut best: Option<Vec<usize>> = None;
        self.root.walk(&mut vec![], &mut |n, p| {
            if n.rect.contains(x, y) && !matches!(n.kind, Kind::Application | Kind::Window) {
                best = Some(p.to_vec());
            }
        });
        best
    }
}
