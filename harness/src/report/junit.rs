//! `junit.xml` (quick-junit): one `<testsuite>` per flow, one `<testcase>` per flow × device
//! × iteration. Flaky cases pass with a `<flakyFailure>` for the earlier failure; errors are
//! `<error>`, never `<failure>`; the top-level counts are the run's.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite};

use super::{ReportError, write_file};
use crate::results::{CaseResult, Outcome, RunResults, StepResult, StepStatus};

/// File name of the JUnit report in a run directory.
pub const JUNIT_FILE: &str = "junit.xml";

/// Unix ms of 9999-12-31T23:59:59.999Z: later start times are not written as timestamps.
const MAX_TIMESTAMP_MS: u64 = 253_402_300_799_999;

/// Writes `dir/junit.xml` (creating `dir`) and returns its path.
pub fn write_junit(dir: &Path, results: &RunResults) -> Result<PathBuf, ReportError> {
    let path = dir.join(JUNIT_FILE);
    let xml = junit_report(results).to_string().map_err(|source| ReportError::Junit {
        path: path.clone(),
        source,
    })?;
    write_file(dir, &path, xml.as_bytes())?;
    Ok(path)
}

/// The JUnit report of a run, named `harness`. Suites are in the order their flows first
/// appear in the results, cases in results order.
pub fn junit_report(results: &RunResults) -> Report {
    let mut report = Report::new("harness");
    report.set_time(Duration::from_millis(results.duration_ms));
    if results.started_at_ms > 0 && results.started_at_ms <= MAX_TIMESTAMP_MS {
        // chrono is quick-junit's, not ours: the epoch (the type's default) plus the start.
        let epoch = report.timestamp.take().unwrap_or_default();
        report.timestamp = Some(epoch + Duration::from_millis(results.started_at_ms));
    }

    let mut flows: Vec<(&str, Vec<&CaseResult>)> = Vec::new();
    for case in &results.cases {
        match flows.iter_mut().find(|(flow, _)| *flow == case.flow) {
            Some((_, cases)) => cases.push(case),
            None => flows.push((&case.flow, vec![case])),
        }
    }

    for (flow, cases) in flows {
        let mut suite = TestSuite::new(flow);
        suite.set_time(Duration::from_millis(cases.iter().map(|c| c.duration_ms).sum()));
        suite.add_property(Property::new("flow_file", cases[0].flow_file.as_str()));
        suite.add_property(Property::new("run_id", results.run_id.as_str()));
        suite.add_property(Property::new("seed", results.seed.to_string()));
        suite.add_property(Property::new("harness_version", results.harness_version.as_str()));
        if let Some(shard) = &results.shard {
            suite.add_property(Property::new("shard", shard.as_str()));
        }
        for platform in distinct(cases.iter().map(|c| c.platform.as_str())) {
            suite.add_property(Property::new("platform", platform));
        }
        for device in distinct(cases.iter().map(|c| c.device.as_str())) {
            suite.add_property(Property::new("device", device));
        }
        suite.add_test_cases(cases.into_iter().map(test_case));
        report.add_test_suite(suite);
    }
    report
}

fn distinct<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

fn test_case(case: &CaseResult) -> TestCase {
    let status = match case.outcome {
        Outcome::Passed => TestCaseStatus::success(),
        Outcome::Failed | Outcome::Error => {
            let kind = if case.outcome == Outcome::Failed {
                NonSuccessKind::Failure
            } else {
                NonSuccessKind::Error
            };
            let mut status = TestCaseStatus::non_success(kind);
            if let Some(message) = failure_message(case) {
                status.set_message(message);
            }
            if let Some(cause) = &case.cause {
                status.set_type(cause.as_str());
            }
            if let Some(description) = failure_description(case) {
                status.set_description(description);
            }
            status
        }
        Outcome::Flaky => {
            let mut rerun = TestRerun::new(NonSuccessKind::Failure);
            if let Some(message) = failure_message(case) {
                rerun.set_message(message);
            }
            if let Some(cause) = &case.cause {
                rerun.set_type(cause.as_str());
            }
            if let Some(description) = failure_description(case) {
                rerun.set_description(description);
            }
            let mut status = TestCaseStatus::success();
            status.add_rerun(rerun);
            status
        }
        Outcome::Skipped => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(
                case.message
                    .as_deref()
                    .or(case.diagnosis.as_deref())
                    .unwrap_or("not run"),
            );
            status
        }
    };

    let mut test_case = TestCase::new(format!("{} [{}] #{}", case.flow, case.device, case.iteration), status);
    test_case.set_classname(format!("{}.{}", case.flow, case.device));
    test_case.set_time(Duration::from_millis(case.duration_ms));
    test_case.add_property(Property::new("platform", case.platform.as_str()));
    test_case.add_property(Property::new("device", case.device.as_str()));
    test_case.add_property(Property::new("seed", case.seed.to_string()));
    test_case.add_property(Property::new("iteration", case.iteration.to_string()));
    test_case.add_property(Property::new("attempts", case.attempts.to_string()));
    if let Some(cause) = &case.cause {
        test_case.add_property(Property::new("cause", cause.as_str()));
    }
    if let Some(restore_ms) = case.restore_ms {
        test_case.add_property(Property::new("restore_ms", restore_ms.to_string()));
    }
    if let Some(ms) = case.cold_launch_ms {
        test_case.add_property(Property::new("cold_launch_ms", ms.to_string()));
    }
    let out = system_out(case);
    if !out.is_empty() {
        // Without the final newline, which a JUnit reader drops anyway.
        test_case.set_system_out(out.trim_end_matches('\n'));
    }
    test_case
}

/// The step that ended the case: the last failed or errored one.
fn failing_step(case: &CaseResult) -> Option<&StepResult> {
    case.steps
        .iter()
        .rev()
        .find(|s| matches!(s.status, StepStatus::Failed | StepStatus::Error))
}

/// The diagnosis, else the failing step's message.
fn failure_message(case: &CaseResult) -> Option<&str> {
    case.diagnosis
        .as_deref()
        .or(case.message.as_deref())
        .or_else(|| failing_step(case).and_then(|s| s.message.as_deref()))
}

/// The failure element's text: where it failed and the step's own message, when the
/// attribute holds the diagnosis.
fn failure_description(case: &CaseResult) -> Option<String> {
    let step = failing_step(case);
    let message = case
        .message
        .as_deref()
        .or_else(|| step.and_then(|s| s.message.as_deref()));
    match (step, message) {
        (Some(step), Some(message)) => Some(format!("{} ({}): {message}", step.name, step.at)),
        (Some(step), None) => Some(format!("{} ({})", step.name, step.at)),
        (None, Some(message)) if case.diagnosis.is_some() => Some(message.to_string()),
        _ => None,
    }
}

fn step_status(status: StepStatus) -> &'static str {
    match status {
        StepStatus::Passed => "passed",
        StepStatus::Failed => "failed",
        StepStatus::Error => "error",
        StepStatus::Warned => "warned",
        StepStatus::Skipped => "skipped",
    }
}

/// The steps, one a line (`[   123 ms] passed  tapOn id=auth-continue  (flows/x.yaml:12:3)`,
/// nested steps indented), each step's message under it, then how the case ended.
fn system_out(case: &CaseResult) -> String {
    const PAD: &str = "                    "; // the width of `[   123 ms] passed  `
    let mut out = String::new();
    for step in &case.steps {
        let indent = "  ".repeat(step.depth.min(16) as usize);
        let _ = writeln!(
            out,
            "[{:>6} ms] {:<7} {indent}{}  ({})",
            step.duration_ms,
            step_status(step.status),
            step.name,
            step.at
        );
        if let Some(message) = &step.message {
            for line in message.lines() {
                let _ = writeln!(out, "{PAD}{indent}  {line}");
            }
        }
    }
    if matches!(case.outcome, Outcome::Failed | Outcome::Error | Outcome::Flaky) {
        let attempts = if case.attempts > 1 {
            format!(" after {} attempts", case.attempts)
        } else {
            String::new()
        };
        let _ = writeln!(out, "{}{attempts}", case.outcome.name());
        if let Some(diagnosis) = &case.diagnosis {
            let _ = writeln!(out, "diagnosis: {diagnosis}");
        }
        if let Some(cause) = &case.cause {
            let _ = writeln!(out, "cause: {cause}");
        }
        if let Some(message) = &case.message {
            let _ = writeln!(out, "message: {message}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    fn read_back(results: &RunResults) -> (String, Report) {
        let dir = tempfile::tempdir().unwrap();
        let path = write_junit(dir.path(), results).unwrap();
        assert_eq!(path, dir.path().join("junit.xml"));
        let xml = std::fs::read_to_string(&path).unwrap();
        let report = Report::deserialize_from_str(&xml).unwrap();
        (xml, report)
    }

    fn case<'a>(report: &'a Report, name: &str) -> &'a TestCase {
        report
            .test_suites
            .iter()
            .flat_map(|s| &s.test_cases)
            .find(|c| c.name.as_str() == name)
            .unwrap_or_else(|| panic!("no testcase {name}"))
    }

    fn props(props: &[Property]) -> Vec<(&str, &str)> {
        props.iter().map(|p| (p.name.as_str(), p.value.as_str())).collect()
    }

    #[test]
    fn counts_equal_ours() {
        let results = fixture::results();
        let (_, report) = read_back(&results);
        assert_eq!(report.name.as_ref().unwrap().as_str(), "harness");
        assert_eq!(report.tests, results.cases.len());
        assert_eq!(report.failures, results.count(Outcome::Failed));
        assert_eq!(report.errors, results.count(Outcome::Error));
        assert_eq!(report.skipped, results.count(Outcome::Skipped));
        assert_eq!(
            (report.tests, report.failures, report.errors, report.skipped),
            (10, 2, 1, 1)
        );
        assert_eq!(report.time, Some(Duration::from_millis(61_000)));
        assert_eq!(report.timestamp.unwrap().to_rfc3339(), "2025-01-01T12:00:00+00:00");

        let suites: Vec<(&str, usize, usize)> = report
            .test_suites
            .iter()
            .map(|s| (s.name.as_str(), s.tests, s.failures))
            .collect();
        assert_eq!(suites, vec![("full-cycle", 4, 0), ("session-restore", 6, 2)]);
        assert_eq!(report, junit_report(&results));
    }

    #[test]
    fn testcases_name_classname_time_and_properties() {
        let (_, report) = read_back(&fixture::results());
        let c = case(&report, "session-restore [iphone-15] #1");
        assert_eq!(c.classname.as_ref().unwrap().as_str(), "session-restore.iphone-15");
        assert_eq!(c.time, Some(Duration::from_millis(973)));
        assert_eq!(c.status, TestCaseStatus::success());
        assert_eq!(
            props(&c.properties),
            vec![
                ("platform", "iOS"),
                ("device", "iphone-15"),
                ("seed", "8"),
                ("iteration", "1"),
                ("attempts", "1"),
                ("restore_ms", "1840"),
            ]
        );
        let suite = &report.test_suites[1];
        let suite_props = props(&suite.properties);
        for expected in [
            ("flow_file", "flows/session-restore.yaml"),
            ("seed", "42"),
            ("run_id", "20250101-120000-abcd"),
            ("platform", "iOS"),
            ("platform", "Android"),
            ("device", "iphone-15"),
            ("device", "pixel-8"),
        ] {
            assert!(suite_props.contains(&expected), "{expected:?} not in {suite_props:?}");
        }
    }

    #[test]
    fn failure_carries_the_diagnosis_and_cause() {
        let (xml, report) = read_back(&fixture::results());
        let c = case(&report, "session-restore [iphone-15] #2");
        let TestCaseStatus::NonSuccess {
            kind,
            message,
            ty,
            description,
            ..
        } = &c.status
        else {
            panic!("{:?}", c.status)
        };
        assert_eq!(*kind, NonSuccessKind::Failure);
        assert_eq!(message.as_ref().unwrap().as_str(), fixture::RESTORE_DIAGNOSIS);
        assert_eq!(ty.as_ref().unwrap().as_str(), "sdk-restoration");
        assert_eq!(
            description.as_ref().unwrap().as_str(),
            "assertSession signedIn (flows/session-restore.yaml:20:3): \
             expected signedIn within 10s, the screen shows signedOut"
        );
        assert!(xml.contains("<failure message=\"SDK restoration bug:"), "{xml}");
    }

    #[test]
    fn error_without_diagnosis_uses_the_step_message() {
        let (xml, report) = read_back(&fixture::results());
        let c = case(&report, "full-cycle [iphone-15] #1");
        let TestCaseStatus::NonSuccess { kind, message, ty, .. } = &c.status else {
            panic!("{:?}", c.status)
        };
        assert_eq!(*kind, NonSuccessKind::Error);
        assert_eq!(
            message.as_ref().unwrap().as_str(),
            "the device session was lost: connection reset"
        );
        assert_eq!(ty.as_ref().unwrap().as_str(), "session-lost");
        assert!(xml.contains("<error message=\"the device session was lost"), "{xml}");
    }

    #[test]
    fn flaky_passes_with_a_flaky_failure() {
        let (xml, report) = read_back(&fixture::results());
        let c = case(&report, "session-restore [iphone-15] #3");
        let TestCaseStatus::Success { flaky_runs } = &c.status else {
            panic!("{:?}", c.status)
        };
        assert_eq!(flaky_runs.len(), 1);
        assert_eq!(flaky_runs[0].kind, NonSuccessKind::Failure);
        assert_eq!(
            flaky_runs[0].message.as_ref().unwrap().as_str(),
            fixture::RESTORE_DIAGNOSIS
        );
        assert_eq!(xml.matches("<flakyFailure ").count(), 1, "{xml}");
        assert!(!xml.contains("rerunFailure"));
    }

    #[test]
    fn skipped_is_skipped() {
        let (_, report) = read_back(&fixture::results());
        let c = case(&report, "full-cycle [iphone-15] #2");
        let TestCaseStatus::Skipped { message, .. } = &c.status else {
            panic!("{:?}", c.status)
        };
        assert_eq!(message.as_ref().unwrap().as_str(), "not run");
        assert!(c.system_out.is_none());
    }

    #[test]
    fn system_out_lists_the_steps() {
        let (_, report) = read_back(&fixture::results());
        let out = case(&report, "session-restore [iphone-15] #2")
            .system_out
            .clone()
            .unwrap();
        assert_eq!(
            out.as_str(),
            "[   850 ms] passed  launchApp  (flows/session-restore.yaml:4:3)\n\
             [   123 ms] passed  tapOn id=auth-continue  (flows/session-restore.yaml:12:3)\n\
             [ 10000 ms] failed  assertSession signedIn  (flows/session-restore.yaml:20:3)\n\
             \x20                     expected signedIn within 10s, the screen shows signedOut\n\
             failed\n\
             diagnosis: SDK restoration bug: the session token was in the keychain but the SDK signed out on cold start\n\
             cause: sdk-restoration\n\
             message: expected signedIn within 10s, the screen shows signedOut"
        );
        let warned = case(&report, "session-restore [pixel-8] #1")
            .system_out
            .clone()
            .unwrap();
        assert!(
            warned.as_str().contains(
                "[   123 ms] warned    tapOn id=auth-continue  (flows/session-restore.yaml:12:3)\n\
                 \x20                       optional step failed: no element id=auth-continue"
            ),
            "{}",
            warned.as_str()
        );
        let flaky = case(&report, "session-restore [iphone-15] #3")
            .system_out
            .clone()
            .unwrap();
        assert!(
            flaky.as_str().contains("\nflaky after 2 attempts\n"),
            "{}",
            flaky.as_str()
        );
    }

    #[test]
    fn empty_run_is_an_empty_report() {
        let mut results = fixture::results();
        results.cases.clear();
        results.started_at_ms = 0;
        let (_, report) = read_back(&results);
        assert_eq!((report.tests, report.test_suites.len()), (0, 0));
        assert!(report.timestamp.is_none());
    }
}
