//! The core's page-source parser and selectors over the virtual farm's screens.
//!
//! The farm models the page sources of WebDriverAgent (iOS) and UiAutomator2 (Android);
//! these tests check that [`crate::driver::hierarchy`] reads them as it reads a real device's,
//! that every XPath it computes resolves in the farm's own XPath engine, and that
//! [`crate::driver::select`] finds the app's elements on them. They live here because the
//! farm may depend on the core, never the other way round.

use std::time::Duration;

use crate::driver::hierarchy::testing::{by_id, by_text};
use crate::driver::hierarchy::{Bounds, Element, SourceFormat, parse_source, parse_source_with_format};
use crate::driver::select::find;
use crate::driver::select::testing::{b, ids, no_vars, sel};
use crate::farm::app::{self, Device};
use crate::farm::find::{Strategy, find_all};
use crate::farm::knobs::VirtualKnobs;
use crate::farm::source::page_source;
use crate::flow::model::{Selector, Template};
use crate::platform::Platform;

/// A virtual device with the app launched and settled on its first screen.
fn device(platform: Platform) -> Device {
    let knobs = VirtualKnobs::default().paused();
    let mut d = Device::new("d", platform, knobs, 1);
    d.launch();
    d.advance(Duration::from_secs(10));
    d
}

#[test]
fn virtual_ios_sign_in_and_home() {
    let mut d = device(Platform::Ios);
    let (format, root) = parse_source_with_format(&page_source(&d.ui())).unwrap();
    assert_eq!(format, SourceFormat::XcuiTest);
    assert_eq!(root.class, "XCUIElementTypeApplication");
    assert_eq!(root.text, "Harness Demo");
    assert_eq!(
        root.bounds,
        Bounds {
            x: 0,
            y: 0,
            width: 390,
            height: 844
        }
    );
    assert_eq!(root.children.len(), 1);
    assert_eq!(root.children[0].class, "XCUIElementTypeWindow");
    let screen = by_id(&root, "screen-sign-in");
    assert_eq!(screen.class, "XCUIElementTypeOther");
    assert_eq!((screen.text.as_str(), screen.accessibility.as_str()), ("", ""));
    assert_eq!(screen.children.len(), 4);

    let button = by_id(&root, "auth-continue");
    assert_eq!(button.class, "XCUIElementTypeButton");
    assert_eq!(button.text, "Continue");
    assert_eq!(button.accessibility, "Continue");
    assert_eq!(button.value, "");
    assert_eq!(
        button.bounds,
        Bounds {
            x: 20,
            y: 288,
            width: 350,
            height: 48
        }
    );
    assert_eq!(button.center(), (195, 312));
    assert!(button.enabled && button.visible && !button.clickable);
    assert_eq!(
        button.describe(),
        "XCUIElementTypeButton id=auth-continue text=\"Continue\""
    );

    // An empty field: no label, so the text is the value WDA reports (the placeholder).
    let field = by_id(&root, "auth-identifier");
    assert_eq!(field.class, "XCUIElementTypeTextField");
    assert_eq!(field.text, "Enter your email or username");
    assert_eq!(field.hint, "Enter your email or username");
    assert_eq!(field.accessibility, "");
    assert_eq!(field.value, "Enter your email or username");
    assert_eq!(
        field.describe(),
        "XCUIElementTypeTextField id=auth-identifier text=\"Enter your email or username\""
    );

    // A text without testID: WDA names it by its label.
    let title = by_text(&root, "Continue to Harness Demo");
    assert_eq!(title.id, "Continue to Harness Demo");
    assert_eq!(title.class, "XCUIElementTypeStaticText");

    app::sign_in(&mut d, "a@b.c", "pw");
    let root = parse_source(&page_source(&d.ui())).unwrap();
    by_id(&root, "screen-home");
    let label = by_text(&root, "CONVEX AUTHENTICATED");
    assert_eq!(
        label.bounds,
        Bounds {
            x: 20,
            y: 176,
            width: 175,
            height: 48
        }
    );
    let value = by_id(&root, "convex-authenticated");
    assert_eq!(value.text, "true");
    assert_eq!(
        value.bounds,
        Bounds {
            x: 195,
            y: 176,
            width: 175,
            height: 48
        }
    );
    assert_eq!(by_id(&root, "sign-out").text, "Sign out");
    // Window, screen, 9 rows of (group, label, value), the sign-out button, the activity
    // list's title and its first item (the rest is below the fold).
    assert_eq!(root.descendants().len(), 1 + 1 + 1 + 9 * 3 + 1 + 2);
}

#[test]
fn virtual_android_sign_in_and_home() {
    let mut d = device(Platform::Android);
    let (format, root) = parse_source_with_format(&page_source(&d.ui())).unwrap();
    assert_eq!(format, SourceFormat::UiAutomator2);
    assert_eq!(root.class, "hierarchy");
    assert_eq!(
        root.bounds,
        Bounds {
            x: 0,
            y: 0,
            width: 1080,
            height: 2400
        }
    );
    assert_eq!(root.children.len(), 1);
    let app_root = &root.children[0];
    assert_eq!(app_root.class, "android.widget.FrameLayout");
    assert_eq!(app_root.bounds, root.bounds);

    let button = by_id(&root, "auth-continue");
    assert_eq!(button.class, "android.widget.Button");
    assert_eq!(button.text, "Continue");
    assert_eq!(button.value, "Continue");
    assert_eq!(button.accessibility, "");
    // Points × 2.75: row 3 is (20, 288, 353, 48) points on a 393-point-wide screen.
    assert_eq!(
        button.bounds,
        Bounds {
            x: 55,
            y: 792,
            width: 971,
            height: 132
        }
    );
    assert!(button.enabled && button.visible && button.clickable && !button.focused);

    let field = by_id(&root, "auth-identifier");
    assert_eq!(field.class, "android.widget.EditText");
    assert_eq!(field.text, "Enter your email or username");
    assert_eq!(field.hint, "Enter your email or username");
    assert!(!by_text(&root, "Continue to Harness Demo").clickable);
    d.tap(Some("auth-identifier"));
    let root = parse_source(&page_source(&d.ui())).unwrap();
    assert!(by_id(&root, "auth-identifier").focused);

    app::sign_in(&mut d, "a@b.c", "pw");
    let root = parse_source(&page_source(&d.ui())).unwrap();
    let value = by_id(&root, "convex-authenticated");
    assert_eq!(value.text, "true");
    assert_eq!(value.class, "android.widget.TextView");
    let label = by_text(&root, "CONVEX AUTHENTICATED");
    assert_eq!(label.id, "");
    assert_eq!(label.bounds.y, value.bounds.y);
    assert_eq!(label.bounds.right(), value.bounds.x);
    assert_eq!(by_id(&root, "session-aud").text, "convex");
}

#[test]
fn sources_with_escapes_and_secure_fields() {
    let mut d = device(Platform::Ios);
    d.tap(Some("auth-identifier"));
    d.type_focused("Tom & \"Jerry\" <x>");
    let root = parse_source(&page_source(&d.ui())).unwrap();
    assert_eq!(by_id(&root, "auth-identifier").value, "Tom & \"Jerry\" <x>");
    // The virtual WDA, like WDA by default, does not report focus.
    assert!(!by_id(&root, "auth-identifier").focused);
    d.tap(Some("auth-continue"));
    d.type_focused("hunter2");
    let root = parse_source(&page_source(&d.ui())).unwrap();
    let pw = by_id(&root, "auth-password");
    assert_eq!(pw.class, "XCUIElementTypeSecureTextField");
    assert_eq!(pw.value, "•••••••");
    assert_eq!(pw.hint, "Enter your password");
    assert!(!by_id(&root, "auth-identifier").enabled);
    assert!(by_id(&root, "auth-identifier").describe().ends_with(" disabled"));
}

/// Every element with its child-index path from `root`, in document order.
fn with_paths(root: &Element) -> Vec<(Vec<usize>, &Element)> {
    let mut out = vec![];
    let mut todo = vec![(vec![], root)];
    while let Some((path, e)) = todo.pop() {
        for (i, c) in e.children.iter().enumerate().rev() {
            let mut p: Vec<usize> = path.clone();
            p.push(i);
            todo.push((p, c));
        }
        out.push((path, e));
    }
    out
}

/// The virtual farm's XPath engine models WDA's document (no AppiumAUT) and UiAutomator2's
/// (rooted at `hierarchy`); every element's XPath must find exactly that element.
#[test]
fn xpaths_resolve_in_the_virtual_farm() {
    for platform in [Platform::Ios, Platform::Android] {
        let mut d = device(platform);
        for signed_in in [false, true] {
            if signed_in {
                app::sign_in(&mut d, "a@b.c", "pw");
            }
            let ui = d.ui();
            let root = parse_source(&page_source(&ui)).unwrap();
            let all = with_paths(&root);
            assert!(all.len() > 5);
            for (path, e) in all {
                // The farm's paths start at the app element, which is below `hierarchy`.
                let expected = match (platform, path.split_first()) {
                    (Platform::Ios, _) => path.clone(),
                    // The hierarchy element itself is never returned, as in UiAutomator2.
                    (Platform::Android, None) => continue,
                    (Platform::Android, Some((0, rest))) => rest.to_vec(),
                    (Platform::Android, Some(_)) => panic!("one window expected"),
                };
                assert_eq!(
                    find_all(&ui, &[], Strategy::XPath, &e.xpath),
                    Ok(vec![expected]),
                    "{platform:?} {}",
                    e.xpath
                );
            }
        }
    }
}

fn screen(d: &mut Device) -> Element {
    parse_source(&page_source(&d.ui())).unwrap()
}

#[test]
fn virtual_device_sign_in_and_home() {
    for platform in [Platform::Ios, Platform::Android] {
        let mut d = device(platform);
        let root = screen(&mut d);
        let found = find(&root, &Selector::text("Continue"), &no_vars).unwrap();
        assert_eq!(found.len(), 1, "{platform:?}");
        assert_eq!(found[0].id, "auth-continue");
        assert!(found[0].class.ends_with("Button"));
        let titles = find(&root, &Selector::text("continue to .*"), &no_vars).unwrap();
        assert_eq!(titles.len(), 1);
        assert_eq!(titles[0].text, "Continue to Harness Demo");
        // The empty field is found by its placeholder (iOS value / Android text and hint).
        assert_eq!(ids(&root, &Selector::text("Enter your email.*")), ["auth-identifier"]);
        let below_field = sel(|s| {
            s.enabled = Some(true);
            s.below = b(Selector::id("auth-identifier"));
        });
        assert_eq!(ids(&root, &below_field), ["auth-continue"], "{platform:?}");
        assert!(ids(&root, &Selector::id("convex-authenticated")).is_empty());

        app::sign_in(&mut d, "a@b.c", "pw");
        let root = screen(&mut d);
        let authenticated = sel(|s| {
            s.id = Some(Template::literal("convex-authenticated"));
            s.text = Some(Template::literal("true"));
        });
        assert_eq!(ids(&root, &authenticated), ["convex-authenticated"], "{platform:?}");
        assert_eq!(ids(&root, &Selector::text("CONVEX AUTHENTICATED")).len(), 1);
        let value_of = |label: &str| {
            sel(|s| {
                s.id = Some(Template::literal(".+"));
                s.right_of = b(Selector::text(label));
                s.below = b(Selector::text("SESSION AUD"));
                s.above = b(Selector::text("CONVEX LOADING"));
            })
        };
        assert_eq!(ids(&root, &value_of("CONVEX AUTHENTICATED")), ["convex-authenticated"]);
        let label = sel(|s| {
            s.text = Some(Template::literal("convex authenticated"));
            s.below = b(Selector::id("session-aud"));
            s.left_of = b(Selector::id("convex-authenticated"));
        });
        let found = find(&root, &label, &no_vars).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].text, "CONVEX AUTHENTICATED");
        let rows = sel(|s| {
            s.contains_child = b(Selector::text("CONVEX .*"));
            s.contains_descendants = vec![Selector::text("true|false")];
        });
        let found = find(&root, &rows, &no_vars).unwrap();
        let labels: Vec<&str> = found.iter().map(|r| r.children[0].text.as_str()).collect();
        assert_eq!(labels, ["CONVEX AUTHENTICATED", "CONVEX LOADING"]);
        let row = sel(|s| {
            s.text = Some(Template::literal("true|false"));
            s.child_of = b(sel(|r| r.contains_child = b(Selector::text("CONVEX LOADING"))));
        });
        assert_eq!(ids(&root, &row), ["convex-loading"]);
        let second = sel(|s| {
            s.id = Some(Template::literal("convex-.*"));
            s.index = Some(1);
        });
        assert_eq!(ids(&root, &second), ["convex-loading"]);
        assert_eq!(ids(&root, &Selector::text("Sign out")), ["sign-out"]);

        // Sign out and in again: Convex stays unauthenticated (bug B), the selector fails.
        d.tap(Some("sign-out"));
        d.advance(Duration::from_secs(2));
        app::sign_in(&mut d, "a@b.c", "pw");
        let root = screen(&mut d);
        assert!(ids(&root, &authenticated).is_empty(), "{platform:?}");
        let unauthenticated = sel(|s| {
            s.id = Some(Template::literal("convex-authenticated"));
            s.text = Some(Template::literal("false"));
        });
        assert_eq!(ids(&root, &unauthenticated), ["convex-authenticated"]);
        assert_eq!(ids(&root, &Selector::id("clerk-signed-in")), ["clerk-signed-in"]);
    }
}
