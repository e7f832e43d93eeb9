//! What each backend can do, known before anything runs.
//!
//! `harness check -d DEVICE` and `harness run` (before it opens a session) refuse a flow that
//! uses a command the chosen device's backend cannot do, at the command's file:line:column,
//! so nothing fails half-way as an infrastructure error. The backends return
//! [`super::DriverError::Unsupported`] for the same operations; tests keep the two in step.

use std::path::Path;

use crate::diag::{Diagnostic, Severity};
use crate::flow::model::{Command, ConditionPlatform, FlowSource, Step};
use crate::load::{FlowSet, command_name};
use crate::lower::{index, join};
use crate::platform::Platform;
use crate::profile::device::{Backend, DeviceProfile, Target};

/// An ability a command needs from the device, beyond launching the app and reading storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Feature {
    /// Reading the screen and touching it: taps, text, assertions on elements.
    Screen,
    /// Swipes and scrolls.
    Gestures,
    Orientation,
    Location,
    AirplaneMode,
    Appearance,
    Media,
    Recording,
    Screenshot,
}

impl Feature {
    pub const ALL: [Feature; 9] = [
        Feature::Screen,
        Feature::Gestures,
        Feature::Orientation,
        Feature::Location,
        Feature::AirplaneMode,
        Feature::Appearance,
        Feature::Media,
        Feature::Recording,
        Feature::Screenshot,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Feature::Screen => "reading and touching the screen",
            Feature::Gestures => "swipes and scrolls",
            Feature::Orientation => "orientation",
            Feature::Location => "location",
            Feature::AirplaneMode => "airplane mode",
            Feature::Appearance => "dark mode",
            Feature::Media => "adding media",
            Feature::Recording => "screen recording",
            Feature::Screenshot => "screenshots",
        }
    }
}

/// What a command needs, if anything beyond the app lifecycle and storage.
pub fn feature_of(command: &Command) -> Option<Feature> {
    use Command as C;
    Some(match command {
        C::Swipe(_) | C::Scroll | C::ScrollUntilVisible { .. } => Feature::Gestures,
        C::SetOrientation(_) => Feature::Orientation,
        C::SetLocation { .. } | C::Travel { .. } => Feature::Location,
        C::SetAirplaneMode(_) | C::ToggleAirplaneMode => Feature::AirplaneMode,
        C::SetDarkMode(_) | C::ToggleDarkMode | C::AssertDarkMode | C::AssertLightMode => Feature::Appearance,
        C::AddMedia(_) => Feature::Media,
        C::StartRecording { .. } | C::StopRecording => Feature::Recording,
        C::AssertScreenshot { .. } | C::TakeScreenshot { .. } => Feature::Screenshot,
        C::TapOn(_)
        | C::DoubleTapOn(_)
        | C::LongPressOn(_)
        | C::AssertVisible(_)
        | C::AssertNotVisible(_)
        | C::ExtendedWaitUntil { .. }
        | C::CopyTextFrom(_)
        | C::InputText(_)
        | C::InputRandom { .. }
        | C::EraseText { .. }
        | C::PasteText
        | C::HideKeyboard
        | C::WaitForAnimationToEnd { .. } => Feature::Screen,
        _ => return None,
    })
}

/// How a device is driven, as far as abilities go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    /// The embedded virtual farm.
    Virtual,
    /// Appium alone (a local server, a Grid, a cloud farm).
    Appium,
    /// `adb` alone.
    Adb,
    /// `xcrun simctl` alone.
    Simctl,
    /// Appium for the screen, with the host tools beside it.
    AppiumAndHost,
}

impl Driver {
    pub fn of(profile: &DeviceProfile) -> Driver {
        match (&profile.target, profile.backend) {
            (Target::Virtual(_), _) => Driver::Virtual,
            (_, Backend::Appium) => Driver::Appium,
            (_, Backend::AppiumAndHost) => Driver::AppiumAndHost,
            (_, Backend::Host) => match profile.platform {
                Platform::Android => Driver::Adb,
                Platform::Ios => Driver::Simctl,
            },
        }
    }
}

/// Whether `driver` on `platform` can do `feature`: `Ok(how)` names the mechanism,
/// `Err(why)` says why not and what to use instead.
pub fn support(driver: Driver, platform: Platform, feature: Feature) -> Result<&'static str, &'static str> {
    use Driver as D;
    use Feature as F;
    use Platform as P;
    match (driver, platform, feature) {
        (D::Virtual, _, _) => Ok("the virtual farm"),
        (D::Simctl, P::Ios, F::Screen | F::Gestures) => Err(
            "simctl cannot read or touch the screen: use backend appium+host (Appium for the screen, simctl for the rest)",
        ),
        (D::Simctl, P::Ios, F::Orientation) => {
            Err("simctl cannot rotate a simulator: use backend appium or appium+host (Appium's /orientation)")
        }
        (D::Simctl, P::Ios, F::AirplaneMode) | (D::Appium | D::AppiumAndHost, P::Ios, F::AirplaneMode) => Err(
            "iOS simulators have no airplane mode that tools can set (XCUITest has no toggle, simctl neither): \
             use setNetwork on the virtual farm, or test offline behaviour on Android",
        ),
        (D::Simctl, P::Ios, F::Location) => Ok("simctl location set"),
        (D::Simctl, P::Ios, F::Appearance) => Ok("simctl ui appearance"),
        (D::Simctl, P::Ios, F::Media) => Ok("simctl addmedia"),
        (D::Simctl, P::Ios, F::Recording) => Ok("simctl io recordVideo"),
        (D::Simctl, P::Ios, F::Screenshot) => Ok("simctl io screenshot"),
        (D::Adb, P::Android, F::Screen) => Ok("uiautomator dump, input tap/text"),
        (D::Adb, P::Android, F::Gestures) => Ok("input swipe"),
        (D::Adb, P::Android, F::Orientation) => Ok("settings put system user_rotation"),
        (D::Adb, P::Android, F::Location) => Ok("adb emu geo fix"),
        (D::Adb, P::Android, F::AirplaneMode) => Ok("cmd connectivity airplane-mode"),
        (D::Adb, P::Android, F::Appearance) => Ok("cmd uimode night"),
        (D::Adb, P::Android, F::Media) => Ok("adb push + media scan"),
        (D::Adb, P::Android, F::Recording) => Ok("screenrecord"),
        (D::Adb, P::Android, F::Screenshot) => Ok("screencap -p"),
        // appium+host: Appium for the screen, gestures and orientation, the host tools for the rest.
        (D::AppiumAndHost, _, F::Screen | F::Screenshot) => Ok("Appium"),
        (D::AppiumAndHost, _, F::Gestures) => Ok("W3C pointer actions"),
        (D::AppiumAndHost, _, F::Orientation) => Ok("Appium /orientation and /rotation"),
        (D::AppiumAndHost, P::Ios, f) => support(D::Simctl, P::Ios, f),
        (D::AppiumAndHost, P::Android, f) => support(D::Adb, P::Android, f),
        (D::Appium, _, F::Screen | F::Screenshot) => Ok("Appium"),
        (D::Appium, _, F::Gestures) => Ok("W3C pointer actions"),
        (D::Appium, _, F::Orientation) => Ok("Appium /orientation and /rotation"),
        (D::Appium, P::Ios, F::Location) => Ok("mobile: setSimulatedLocation"),
        (D::Appium, P::Android, F::Location) => Ok("mobile: setGeolocation"),
        (D::Appium, P::Android, F::AirplaneMode) => Ok("mobile: setConnectivity"),
        (D::Appium, P::Ios, F::Appearance) => Ok("mobile: setAppearance"),
        (D::Appium, P::Android, F::Appearance) => Ok("mobile: shell cmd uimode night (adb_shell)"),
        (D::Appium, _, F::Media) => Ok("mobile: pushFile"),
        (D::Appium, _, F::Recording) => Ok("start/stop_recording_screen"),
        (D::Adb, P::Ios, _) | (D::Simctl, P::Android, _) => Err("this host tool does not drive this platform"),
    }
}

/// Whether the device of `profile` can do `feature` (see [`support`]).
pub fn supports(profile: &DeviceProfile, feature: Feature) -> Result<&'static str, &'static str> {
    support(Driver::of(profile), profile.platform, feature)
}

/// Every command in the loaded flows that `profile`'s backend cannot run, as errors at the
/// command. A `runFlow` whose `when: {platform}` excludes the device is not looked into.
pub fn check_flows(set: &FlowSet, profile: &DeviceProfile) -> Vec<Diagnostic> {
    let mut out = vec![];
    for (file, flow) in &set.flows {
        let mut walk = |steps: &[Step], key: &str| visit(file, steps, key, profile, &mut out);
        walk(&flow.header.on_flow_start, "header.onFlowStart");
        walk(&flow.steps, "steps");
        walk(&flow.header.on_flow_complete, "header.onFlowComplete");
    }
    out.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    out
}

fn visit(file: &Path, steps: &[Step], path: &str, profile: &DeviceProfile, out: &mut Vec<Diagnostic>) {
    for (i, step) in steps.iter().enumerate() {
        let key = join(&index(path, i), command_name(&step.command));
        if let Some(feature) = feature_of(&step.command)
            && let Err(why) = supports(profile, feature)
        {
            let (line, column) = (step.loc.0.line, step.loc.0.column);
            out.push(Diagnostic {
                severity: if step.optional {
                    Severity::Warning
                } else {
                    Severity::Error
                },
                file: file.to_path_buf(),
                line,
                column,
                key: key.clone(),
                message: format!(
                    "'{}' needs {}, which device '{}' ({} on {}) cannot do",
                    command_name(&step.command),
                    feature.name(),
                    profile.name,
                    profile.backend,
                    profile.platform
                ),
                hint: Some(why.to_string()),
            });
        }
        match &step.command {
            Command::RunFlow {
                source: FlowSource::Inline(inner),
                when,
                ..
            } => {
                let excluded = when
                    .as_ref()
                    .and_then(|c| c.platform)
                    .is_some_and(|p| p != ConditionPlatform::Device(profile.platform));
                if !excluded {
                    visit(file, inner, &join(&key, "commands"), profile, out);
                }
            }
            Command::Repeat { commands, .. } => visit(file, commands, &join(&key, "commands"), profile, out),
            Command::Retry {
                source: FlowSource::Inline(inner),
                ..
            } => visit(file, inner, &join(&key, "commands"), profile, out),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_driver_answers_for_every_feature_of_its_platforms() {
        for driver in [Driver::Virtual, Driver::Appium, Driver::AppiumAndHost] {
            for platform in [Platform::Ios, Platform::Android] {
                for f in Feature::ALL {
                    let r = support(driver, platform, f);
                    assert!(
                        r.is_ok() || f == Feature::AirplaneMode,
                        "{driver:?} {platform:?} {f:?}: {r:?}"
                    );
                }
            }
        }
        assert!(
            support(Driver::Simctl, Platform::Ios, Feature::Screen)
                .unwrap_err()
                .contains("appium+host")
        );
        assert!(support(Driver::Simctl, Platform::Ios, Feature::Appearance).is_ok());
        assert!(support(Driver::Appium, Platform::Ios, Feature::AirplaneMode).is_err());
        assert!(support(Driver::Appium, Platform::Android, Feature::AirplaneMode).is_ok());
        assert!(support(Driver::Virtual, Platform::Ios, Feature::AirplaneMode).is_ok());
        for f in Feature::ALL {
            assert!(support(Driver::Adb, Platform::Android, f).is_ok(), "{f:?}");
        }
        // appium+host drives the screen through Appium on both platforms, the settings through
        // the host tool.
        for p in [Platform::Ios, Platform::Android] {
            assert_eq!(
                support(Driver::AppiumAndHost, p, Feature::Gestures),
                Ok("W3C pointer actions")
            );
            assert_eq!(
                support(Driver::AppiumAndHost, p, Feature::Orientation),
                Ok("Appium /orientation and /rotation")
            );
        }
        assert_eq!(
            support(Driver::AppiumAndHost, Platform::Android, Feature::Appearance),
            Ok("cmd uimode night")
        );
        assert_eq!(
            support(Driver::AppiumAndHost, Platform::Ios, Feature::Location),
            Ok("simctl location set")
        );
    }
}
