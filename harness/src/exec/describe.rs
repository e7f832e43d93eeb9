//! How a step is named in reports and messages: its label, or the command and its target
//! (`tapOn id=auth-continue`), written with templates, never resolved secrets.

use crate::flow::model::*;
use crate::load::command_name;

/// A selector in a few words: `"Sign in" id=auth index=1`.
pub fn describe_selector(s: &Selector) -> String {
    let mut parts = vec![];
    if let Some(t) = &s.text {
        parts.push(format!("\"{t}\""));
    }
    if let Some(t) = &s.id {
        parts.push(format!("id={t}"));
    }
    if let Some(i) = s.index {
        parts.push(format!("index={i}"));
    }
    if parts.is_empty() {
        parts.push("selector".into());
    }
    parts.join(" ")
}

/// A one-line description of a step for reports (templates, never resolved secrets).
pub fn describe(step: &Step) -> String {
    if let Some(l) = &step.label {
        return l.clone();
    }
    let name = command_name(&step.command);
    let detail = match &step.command {
        Command::TapOn(t) | Command::DoubleTapOn(t) | Command::LongPressOn(t) => match &t.target {
            TapTarget::Element(s) | TapTarget::ElementPoint(s, _) => describe_selector(s),
            TapTarget::Point(p) => p.to_string(),
        },
        Command::AssertVisible(s) | Command::AssertNotVisible(s) | Command::CopyTextFrom(s) => describe_selector(s),
        Command::InputText(t) => t.to_string(),
        Command::RunFlow {
            source: FlowSource::File(f),
            ..
        } => f.clone(),
        Command::Snapshot(n) => n.clone(),
        Command::AssertSession { state, .. } => state.name().into(),
        Command::AssertConvex { authenticated, .. } => format!("authenticated={authenticated}"),
        Command::AssertKeychain(KeychainCheck::Presence { key, present }) => format!("{key} present={present}"),
        Command::AssertKeychain(KeychainCheck::Unchanged { keys, since }) => {
            format!("{} unchanged since {since}", keys.join(","))
        }
        Command::Background { duration } => crate::lower::format_duration(*duration),
        Command::SetNetwork(n) => n.name().into(),
        Command::LaunchApp(l) if l.stop_app == Some(false) => "(keep running)".into(),
        _ => String::new(),
    };
    if detail.is_empty() {
        name.to_string()
    } else {
        format!("{name} {detail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::template::parse_template;

    #[test]
    fn names_steps_by_label_or_command_and_target() {
        let mut s = Selector::id("auth-continue");
        s.text = Some(Template::literal("Continue"));
        s.index = Some(1);
        assert_eq!(describe_selector(&s), "\"Continue\" id=auth-continue index=1");
        assert_eq!(describe_selector(&Selector::default()), "selector");
        let typed = Step::new(Command::InputText(parse_template("${HARNESS_PASSWORD}").unwrap()));
        assert_eq!(describe(&typed), "inputText ${HARNESS_PASSWORD}", "never the value");
        let mut labelled = Step::new(Command::Back);
        labelled.label = Some("Go back".into());
        assert_eq!(describe(&labelled), "Go back");
        assert_eq!(describe(&Step::new(Command::Back)), "back");
    }
}
