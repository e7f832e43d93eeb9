//! [`Flow`] model → YAML text, in the same dialect `flow::parse` reads.
//!
//! Used by tests to prove every command round-trips (parse → emit → parse gives the same
//! model), and by tools that generate flows. Strings are always double-quoted, so nothing is
//! re-typed on the way back (`"true"`, `"1.10"` stay strings).

use std::fmt::Write as _;

use crate::flow::commands::spec_of;
use crate::flow::model::*;
use crate::lower::format_duration;

/// A YAML value to print.
#[derive(Clone, Debug)]
enum Y {
    S(String),
    B(bool),
    I(i64),
    F(f64),
    Seq(Vec<Y>),
    Map(Vec<(String, Y)>),
}

fn s(v: impl Into<String>) -> Y {
    Y::S(v.into())
}

/// Writes a flow file: header, `---`, commands.
pub fn emit_flow(flow: &Flow) -> String {
    let mut out = String::new();
    let h = header(&flow.header);
    render_map_body(&mut out, &h, 0);
    out.push_str("---\n");
    if flow.steps.is_empty() {
        out.push_str("[]\n");
    } else {
        render_seq_body(&mut out, &steps(&flow.steps), 0);
    }
    out
}

fn header(h: &Header) -> Vec<(String, Y)> {
    let mut m = Vec::new();
    if let Some(a) = &h.app_id {
        m.push(("appId".into(), s(a.to_string())));
    }
    if let Some(a) = &h.app {
        m.push(("app".into(), s(a)));
    }
    if let Some(n) = &h.name {
        m.push(("name".into(), s(n)));
    }
    if !h.tags.is_empty() {
        m.push(("tags".into(), Y::Seq(h.tags.iter().map(s).collect())));
    }
    if !h.env.is_empty() {
        m.push(("env".into(), env(&h.env)));
    }
    if !h.on_flow_start.is_empty() {
        m.push(("onFlowStart".into(), steps(&h.on_flow_start)));
    }
    if !h.on_flow_complete.is_empty() {
        m.push(("onFlowComplete".into(), steps(&h.on_flow_complete)));
    }
    if !h.properties.is_empty() {
        m.push((
            "properties".into(),
            Y::Map(h.properties.iter().map(|(k, v)| (k.clone(), s(v))).collect()),
        ));
    }
    m
}

fn env(e: &[(String, Template)]) -> Y {
    Y::Map(e.iter().map(|(k, v)| (k.clone(), s(v.to_string()))).collect())
}

fn steps(steps: &[Step]) -> Y {
    Y::Seq(steps.iter().map(step).collect())
}

fn step(st: &Step) -> Y {
    let spec = spec_of(&st.command);
    let name = spec.name;
    let mut body = value(&st.command);
    // Deferred fields: their templates, not the placeholders the command holds.
    for d in &st.deferred {
        let text = s(d.template.to_string());
        match (&mut body, d.path.as_slice()) {
            (Some(Y::Map(_)), []) => {
                if let (Some(Y::Map(m)), Some(k)) = (&mut body, spec.value_key) {
                    set_at(m, &[PathSeg::Key(k.into())], text);
                }
            }
            (Some(Y::Map(m)), path) => set_at(m, path, text),
            (Some(v), []) => *v = text,
            (Some(v), [PathSeg::Key(k)]) if spec.value_key == Some(k.as_str()) => *v = text,
            _ => {}
        }
    }
    let extra = st.label.is_some() || st.optional;
    let body = match body {
        None if !extra => return s(name),
        None => Vec::new(),
        Some(Y::Map(m)) => m,
        Some(v) if !extra => return Y::Map(vec![(name.into(), v)]),
        Some(v) => {
            // A scalar form cannot carry label/optional: use the object key for the value.
            // Only commands with a string form emit a scalar, and the table gives each of
            // those a value key (`commands` tests it).
            vec![(spec.value_key.unwrap_or("text").into(), v)]
        }
    };
    let mut body = body;
    if let Some(l) = &st.label {
        body.push(("label".into(), s(l)));
    }
    if st.optional {
        body.push(("optional".into(), Y::B(true)));
    }
    Y::Map(vec![(name.into(), Y::Map(body))])
}

/// Replaces the value at `path` in a map, when there is one.
fn set_at(m: &mut [(String, Y)], path: &[PathSeg], value: Y) {
    let Some((PathSeg::Key(k), rest)) = path.split_first() else {
        return;
    };
    let Some((_, v)) = m.iter_mut().find(|(key, _)| key == k) else {
        return;
    };
    let mut v = v;
    let mut rest = rest;
    loop {
        match (rest.split_first(), v) {
            (None, slot) => {
                *slot = value;
                return;
            }
            (Some((PathSeg::Key(k), more)), Y::Map(inner)) => {
                let Some((_, next)) = inner.iter_mut().find(|(key, _)| key == k) else {
                    return;
                };
                v = next;
                rest = more;
            }
            (Some((PathSeg::Index(i), more)), Y::Seq(items)) => {
                let Some(next) = items.get_mut(*i) else { return };
                v = next;
                rest = more;
            }
            _ => return,
        }
    }
}

fn opt<T>(m: &mut Vec<(String, Y)>, key: &str, v: &Option<T>, f: impl Fn(&T) -> Y) {
    if let Some(v) = v {
        m.push((key.into(), f(v)));
    }
}

fn u(v: &u32) -> Y {
    Y::I(*v as i64)
}

fn b(v: &bool) -> Y {
    Y::B(*v)
}

fn ms(d: &std::time::Duration) -> Y {
    Y::I(d.as_millis() as i64)
}

fn dur(d: &std::time::Duration) -> Y {
    s(format_duration(*d))
}

fn app_id(a: &Option<Template>) -> Option<Y> {
    a.as_ref().map(|t| s(t.to_string()))
}

/// The command's value under its name: `None` for the bare form.
fn value(c: &Command) -> Option<Y> {
    use Command as C;
    match c {
        C::LaunchApp(l) => {
            let mut m = Vec::new();
            opt(&mut m, "appId", &l.app_id, |t| s(t.to_string()));
            opt(&mut m, "clearState", &l.clear_state, b);
            opt(&mut m, "clearKeychain", &l.clear_keychain, b);
            opt(&mut m, "stopApp", &l.stop_app, b);
            if !l.permissions.is_empty() {
                m.push(("permissions".into(), perms(&l.permissions)));
            }
            if !l.arguments.is_empty() {
                m.push((
                    "arguments".into(),
                    Y::Map(l.arguments.iter().map(|(k, v)| (k.clone(), s(v))).collect()),
                ));
            }
            (!m.is_empty()).then_some(Y::Map(m))
        }
        C::StopApp { app_id: a } | C::KillApp { app_id: a } | C::ClearState { app_id: a } => app_id(a),
        C::ClearKeychain => None,
        C::SetPermissions { app_id: a, permissions } => {
            let mut m = Vec::new();
            opt(&mut m, "appId", a, |t| s(t.to_string()));
            m.push(("permissions".into(), perms(permissions)));
            Some(Y::Map(m))
        }
        C::OpenLink {
            link,
            browser,
            auto_verify,
        } => {
            let mut m = vec![("link".into(), s(link.to_string()))];
            opt(&mut m, "browser", browser, b);
            opt(&mut m, "autoVerify", auto_verify, b);
            Some(Y::Map(m))
        }
        C::TapOn(t) | C::DoubleTapOn(t) | C::LongPressOn(t) => Some(tap(t)),
        C::AssertVisible(sel) | C::AssertNotVisible(sel) | C::CopyTextFrom(sel) => Some(selector(sel)),
        C::ExtendedWaitUntil {
            visible,
            not_visible,
            timeout,
        } => {
            let mut m = Vec::new();
            opt(&mut m, "visible", visible, selector);
            opt(&mut m, "notVisible", not_visible, selector);
            opt(&mut m, "timeout", timeout, ms);
            Some(Y::Map(m))
        }
        C::AssertScreenshot {
            path,
            threshold_percentage,
            crop_on,
        } => {
            let mut m = vec![("path".into(), s(path))];
            opt(&mut m, "thresholdPercentage", threshold_percentage, |f| Y::F(*f));
            opt(&mut m, "cropOn", crop_on, selector);
            Some(Y::Map(m))
        }
        C::ScrollUntilVisible {
            element,
            direction,
            timeout,
            speed,
            visibility_percentage,
            center_element,
            wait_to_settle_timeout_ms,
        } => {
            let mut m = vec![("element".into(), selector(element))];
            opt(&mut m, "direction", direction, |d| s(d.name()));
            opt(&mut m, "timeout", timeout, ms);
            opt(&mut m, "speed", speed, u);
            opt(&mut m, "visibilityPercentage", visibility_percentage, u);
            opt(&mut m, "centerElement", center_element, b);
            opt(&mut m, "waitToSettleTimeoutMs", wait_to_settle_timeout_ms, u);
            Some(Y::Map(m))
        }
        C::Swipe(sw) => {
            let mut m = Vec::new();
            match &sw.kind {
                SwipeKind::Direction(d) => m.push(("direction".into(), s(d.name()))),
                SwipeKind::Points { start, end } => {
                    m.push(("start".into(), s(start.to_string())));
                    m.push(("end".into(), s(end.to_string())));
                }
                SwipeKind::FromElement { from, direction } => {
                    m.push(("from".into(), selector(from)));
                    m.push(("direction".into(), s(direction.name())));
                }
            }
            opt(&mut m, "duration", &sw.duration_ms, u);
            opt(&mut m, "waitToSettleTimeoutMs", &sw.wait_to_settle_timeout_ms, u);
            Some(Y::Map(m))
        }
        C::Scroll => None,
        C::InputText(t) => Some(s(t.to_string())),
        C::InputRandom { length, .. } => length.map(|l| Y::Map(vec![("length".into(), Y::I(l as i64))])),
        C::EraseText { characters } => characters.map(|c| Y::I(c as i64)),
        C::PasteText => None,
        C::SetClipboard(t) => Some(s(t.to_string())),
        C::PressKey(k) => Some(s(k)),
        C::Back => None,
        C::HideKeyboard => None,
        C::SetLocation { latitude, longitude } => Some(Y::Map(vec![
            ("latitude".into(), Y::F(*latitude)),
            ("longitude".into(), Y::F(*longitude)),
        ])),
        C::Travel { points, speed } => {
            let mut m = vec![(
                "points".into(),
                Y::Seq(points.iter().map(|(a, b)| s(format!("{a},{b}"))).collect()),
            )];
            opt(&mut m, "speed", speed, |f| Y::F(*f));
            Some(Y::Map(m))
        }
        C::SetOrientation(o) => Some(s(o.name())),
        C::SetAirplaneMode(on) => Some(s(if *on { "enabled" } else { "disabled" })),
        C::ToggleAirplaneMode => None,
        C::SetDarkMode(on) => Some(s(if *on { "enabled" } else { "disabled" })),
        C::ToggleDarkMode => None,
        C::AssertDarkMode => None,
        C::AssertLightMode => None,
        C::AddMedia(files) => Some(Y::Seq(files.iter().map(s).collect())),
        C::TakeScreenshot { path, crop_on } => {
            let mut m = vec![("path".into(), s(path))];
            opt(&mut m, "cropOn", crop_on, selector);
            Some(Y::Map(m))
        }
        C::StartRecording { path } => Some(s(path)),
        C::StopRecording => None,
        C::WaitForAnimationToEnd { timeout } => timeout.as_ref().map(|t| Y::Map(vec![("timeout".into(), ms(t))])),
        C::RunFlow {
            source: src,
            when,
            env: e,
        } => {
            let mut m = source(src);
            opt(&mut m, "when", when, condition);
            if !e.is_empty() {
                m.push(("env".into(), env(e)));
            }
            Some(Y::Map(m))
        }
        C::Repeat {
            times,
            while_,
            commands,
        } => {
            let mut m = Vec::new();
            opt(&mut m, "times", times, u);
            opt(&mut m, "while", while_, condition);
            m.push(("commands".into(), steps(commands)));
            Some(Y::Map(m))
        }
        C::Retry {
            max_retries,
            source: src,
            env: e,
        } => {
            let mut m = Vec::new();
            opt(&mut m, "maxRetries", max_retries, u);
            m.extend(source(src));
            if !e.is_empty() {
                m.push(("env".into(), env(e)));
            }
            Some(Y::Map(m))
        }
        C::RunScript { file, env: e, when } => {
            let mut m = vec![("file".into(), s(file))];
            if !e.is_empty() {
                m.push(("env".into(), env(e)));
            }
            opt(&mut m, "when", when, condition);
            Some(Y::Map(m))
        }
        C::EvalScript(x) => Some(s(x.to_string())),
        C::AssertTrue(x) => Some(s(x.to_string())),
        C::AssertWithAi { assertion } => Some(s(assertion)),
        C::AssertNoDefectsWithAi => None,
        C::ExtractTextWithAi { query, output_variable } => {
            let mut m = vec![("query".into(), s(query))];
            opt(&mut m, "outputVariable", output_variable, |v| s(v));
            Some(Y::Map(m))
        }
        C::Snapshot(n) => Some(s(n)),
        C::AssertSession { state, within } => {
            let mut m = vec![("state".into(), s(state.name()))];
            opt(&mut m, "within", within, dur);
            Some(Y::Map(m))
        }
        C::AssertConvex { authenticated, within } => {
            let mut m = vec![("authenticated".into(), Y::B(*authenticated))];
            opt(&mut m, "within", within, dur);
            Some(Y::Map(m))
        }
        C::AssertKeychain(KeychainCheck::Presence { key, present }) => {
            Some(Y::Map(vec![("key".into(), s(key)), ("present".into(), Y::B(*present))]))
        }
        C::AssertKeychain(KeychainCheck::Unchanged { keys, since }) => Some(Y::Map(vec![
            ("unchanged".into(), Y::Seq(keys.iter().map(s).collect())),
            ("since".into(), s(since)),
        ])),
        C::Background { duration } => Some(Y::Map(vec![("for".into(), dur(duration))])),
        C::SetNetwork(n) => Some(s(n.name())),
    }
}

fn perms(p: &[(String, Permission)]) -> Y {
    Y::Map(p.iter().map(|(k, v)| (k.clone(), s(v.name()))).collect())
}

fn source(src: &FlowSource) -> Vec<(String, Y)> {
    match src {
        FlowSource::File(f) => vec![("file".into(), s(f))],
        FlowSource::Inline(st) => vec![("commands".into(), steps(st))],
    }
}

fn tap(t: &Tap) -> Y {
    let mut m = match &t.target {
        TapTarget::Element(sel) => selector_map(sel),
        TapTarget::Point(p) => vec![("point".into(), s(p.to_string()))],
        TapTarget::ElementPoint(sel, p) => {
            let mut m = selector_map(sel);
            m.push(("point".into(), s(p.to_string())));
            m
        }
    };
    opt(&mut m, "retryTapIfNoChange", &t.retry_tap_if_no_change, b);
    opt(&mut m, "waitUntilVisible", &t.wait_until_visible, b);
    opt(&mut m, "repeat", &t.repeat, u);
    opt(&mut m, "delay", &t.delay_ms, u);
    opt(&mut m, "waitToSettleTimeoutMs", &t.wait_to_settle_timeout_ms, u);
    Y::Map(m)
}

fn selector(sel: &Selector) -> Y {
    if sel.is_text_only() {
        return s(sel.text.as_ref().map(|t| t.to_string()).unwrap_or_default());
    }
    Y::Map(selector_map(sel))
}

fn selector_map(sel: &Selector) -> Vec<(String, Y)> {
    let mut m = Vec::new();
    opt(&mut m, "text", &sel.text, |t| s(t.to_string()));
    opt(&mut m, "id", &sel.id, |t| s(t.to_string()));
    opt(&mut m, "index", &sel.index, u);
    opt(&mut m, "width", &sel.width, u);
    opt(&mut m, "height", &sel.height, u);
    opt(&mut m, "tolerance", &sel.tolerance, u);
    opt(&mut m, "below", &sel.below, |x| selector(x));
    opt(&mut m, "above", &sel.above, |x| selector(x));
    opt(&mut m, "leftOf", &sel.left_of, |x| selector(x));
    opt(&mut m, "rightOf", &sel.right_of, |x| selector(x));
    opt(&mut m, "childOf", &sel.child_of, |x| selector(x));
    opt(&mut m, "containsChild", &sel.contains_child, |x| selector(x));
    if !sel.contains_descendants.is_empty() {
        m.push((
            "containsDescendants".into(),
            Y::Seq(sel.contains_descendants.iter().map(selector).collect()),
        ));
    }
    if !sel.traits.is_empty() {
        m.push((
            "traits".into(),
            s(sel.traits.iter().map(|t| t.name()).collect::<Vec<_>>().join(" ")),
        ));
    }
    opt(&mut m, "enabled", &sel.enabled, b);
    opt(&mut m, "selected", &sel.selected, b);
    opt(&mut m, "checked", &sel.checked, b);
    opt(&mut m, "focused", &sel.focused, b);
    opt(&mut m, "css", &sel.css, |c| s(c));
    m
}

fn condition(c: &Condition) -> Y {
    let mut m = Vec::new();
    opt(&mut m, "platform", &c.platform, |p| s(p.name()));
    opt(&mut m, "visible", &c.visible, selector);
    opt(&mut m, "notVisible", &c.not_visible, selector);
    opt(&mut m, "true", &c.script, |x| s(x.to_string()));
    opt(&mut m, "label", &c.label, |x| s(x));
    Y::Map(m)
}

fn scalar(y: &Y) -> Option<String> {
    Some(match y {
        Y::S(v) => quote(v),
        Y::B(v) => v.to_string(),
        Y::I(v) => v.to_string(),
        Y::F(v) => {
            let t = v.to_string();
            if t.contains('.') || t.contains('e') || !v.is_finite() {
                t
            } else {
                format!("{t}.0")
            }
        }
        Y::Seq(v) if v.is_empty() => "[]".into(),
        Y::Map(v) if v.is_empty() => "{}".into(),
        _ => return None,
    })
}

/// A YAML double-quoted scalar: every character outside YAML's printable set is escaped
/// (JSON's quoting is not enough: it leaves DEL and C1 controls raw, which YAML rejects).
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02X}", c as u32)),
            c if (0x80..=0x9f).contains(&(c as u32)) || c == '\u{feff}' || c == '\u{fffe}' || c == '\u{ffff}' => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn key(k: &str) -> String {
    let plain = k.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        && !matches!(
            k.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        );
    if plain { k.to_string() } else { quote(k) }
}

fn render_map_body(out: &mut String, m: &[(String, Y)], indent: usize) {
    let pad = " ".repeat(indent);
    for (k, v) in m {
        match scalar(v) {
            Some(sc) => {
                let _ = writeln!(out, "{pad}{}: {sc}", key(k));
            }
            None => {
                let _ = writeln!(out, "{pad}{}:", key(k));
                render_block(out, v, indent + 2);
            }
        }
    }
}

fn render_seq_body(out: &mut String, y: &Y, indent: usize) {
    let Y::Seq(items) = y else { return };
    let pad = " ".repeat(indent);
    for item in items {
        match scalar(item) {
            Some(sc) => {
                let _ = writeln!(out, "{pad}- {sc}");
            }
            None => {
                // `- first: entry` on the dash line, the rest indented under it.
                let mut block = String::new();
                render_block(&mut block, item, indent + 2);
                let _ = write!(out, "{pad}- {}", &block[indent + 2..]);
            }
        }
    }
}

fn render_block(out: &mut String, y: &Y, indent: usize) {
    match y {
        Y::Map(m) => render_map_body(out, m, indent),
        Y::Seq(_) => render_seq_body(out, y, indent),
        other => {
            if let Some(sc) = scalar(other) {
                let _ = writeln!(out, "{}{sc}", " ".repeat(indent));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{self, Value};

    /// Every spelling of the words YAML reads as a boolean or null, in every mix of case,
    /// and a few other keys: the emitted key reads back as the same string.
    #[test]
    fn keys_read_back_as_written() {
        let mut keys: Vec<String> = vec![];
        for word in ["true", "false", "null", "yes", "no", "on", "off", "y", "n"] {
            for mask in 0..1u32 << word.len() {
                let spelled = word
                    .chars()
                    .enumerate()
                    .map(|(i, c)| if mask & 1 << i != 0 { c.to_ascii_uppercase() } else { c })
                    .collect();
                keys.push(spelled);
            }
        }
        keys.extend(["nan", "inf", "_x", "a-b", "1", "01", "1.0", "~", "", "a b", "-x", "x:y"].map(String::from));
        for k in keys {
            let text = format!("{}: 1\n", key(&k));
            let docs = yaml::parse_documents(&text).unwrap_or_else(|e| panic!("{text:?}: {e:?}"));
            let read = &docs[0].as_map().expect("a map")[0].0.value;
            assert_eq!(*read, Value::Str(k.clone()), "{text:?}");
        }
    }
}
