//! `junit.xml` (quick-junit): one `<testsuite>` per flow, one `<testcase>` per flow × device
//! × iteration. Flaky cases pass with a `<flakyFailure>` for each earlier failed attempt, and
//! failed cases that were retried carry a `<rerunFailure>` for each attempt before the last;
//! errors are `<error>`, never `<failure>`; the top-level counts are the run's.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite};

use super::{ReportError, write_file};
use crate::results::{AttemptRecord, CaseResult, Outcome, RunResults, StepResult, StepStatus};

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
            // The attempts before the last failure: one `<rerunFailure>`/`<rerunError>` each.
            status.add_reruns(case.attempt_history.iter().map(rerun));
            status
        }
        Outcome::Flaky => {
            let mut status = TestCaseStatus::success();
            if case.attempt_history.is_empty() {
                // results.json of an older harness: the case itself describes the failure.
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
                status.add_rerun(rerun);
            } else {
                status.add_reruns(case.attempt_history.iter().map(rerun));
            }
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

/// An earlier attempt as a JUnit rerun (`<flakyFailure>` under a success, `<rerunFailure>`
/// under a failure; `…Error` for an infrastructure error): the diagnosis (else the message)
/// as its message, the cause as its type, the message as its text when the diagnosis took
/// the attribute.
fn rerun(attempt: &AttemptRecord) -> TestRerun {
    let kind = if attempt.outcome == Outcome::Error {
        NonSuccessKind::Error
    } else {
        NonSuccessKind::Failure
    };
    let mut rerun = TestRerun::new(kind);
    rerun.set_time(Duration::from_millis(attempt.duration_ms));
    if let Some(message) = attempt.diagnosis.as_deref().or(attempt.message.as_deref()) {
        rerun.set_message(message);
    }
    if let Some(cause) = &attempt.cause {
        rerun.set_type(cause.as_str());
    }
    let mut description = format!("attempt {} {}", attempt.attempt, attempt.outcome.name());
    if let (Some(_), Some(message)) = (&attempt.diagnosis, &attempt.message) {
        let _ = write!(description, ": {message}");
    }
    rerun.set_description(description);
    rerun
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
        assert_eq!(flaky_runs[0].ty.as_ref().unwrap().as_str(), "sdk-restoration");
        assert_eq!(flaky_runs[0].time, Some(Duration::from_millis(10_973)));
        assert_eq!(
            flaky_runs[0].description.as_ref().unwrap().as_str(),
            "attempt 1 failed: expected signedIn within 10s, the screen shows signedOut"
        );
    }

    fn attempt(n: u32, outcome: Outcome, message: &str, cause: Option<&str>) -> AttemptRecord {
        AttemptRecord {
            attempt: n,
            outcome,
            message: Some(message.to_string()),
            diagnosis: None,
            cause: cause.map(str::to_string),
            duration_ms: 1_000 * u64::from(n),
            seed: u64::from(n),
        }
    }

    #[test]
    fn one_flaky_failure_per_earlier_attempt() {
        let mut results = fixture::results();
        let flaky = &mut results.cases[6];
        assert_eq!(flaky.outcome, Outcome::Flaky);
        flaky.attempts = 3;
        flaky.attempt_history = vec![
            attempt(1, Outcome::Failed, "first: no element id=auth-continue", None),
            attempt(2, Outcome::Failed, "second: still signed out", Some("sdk-restoration")),
        ];
        let (xml, report) = read_back(&results);
        let c = case(&report, "session-restore [iphone-15] #3");
        let TestCaseStatus::Success { flaky_runs } = &c.status else {
            panic!("{:?}", c.status)
        };
        let messages: Vec<&str> = flaky_runs
            .iter()
            .map(|r| r.message.as_ref().unwrap().as_str())
            .collect();
        assert_eq!(
            messages,
            vec!["first: no element id=auth-continue", "second: still signed out"]
        );
        assert!(flaky_runs[0].ty.is_none());
        assert_eq!(flaky_runs[1].ty.as_ref().unwrap().as_str(), "sdk-restoration");
        assert_eq!(flaky_runs[1].time, Some(Duration::from_millis(2_000)));
        assert_eq!(xml.matches("<flakyFailure ").count(), 2, "{xml}");
    }

    #[test]
    fn flaky_without_history_reads_as_before() {
        // results.json of an older harness: no attempt_history, the case holds the failure.
        let mut results = fixture::results();
        results.cases[6].attempt_history.clear();
        let (xml, report) = read_back(&results);
        let c = case(&report, "session-restore [iphone-15] #3");
        let TestCaseStatus::Success { flaky_runs } = &c.status else {
            panic!("{:?}", c.status)
        };
        assert_eq!(flaky_runs.len(), 1);
        assert_eq!(
            flaky_runs[0].message.as_ref().unwrap().as_str(),
            fixture::RESTORE_DIAGNOSIS
        );
        assert_eq!(xml.matches("<flakyFailure ").count(), 1, "{xml}");
    }

    #[test]
    fn retried_failures_and_errors_carry_their_earlier_attempts() {
        let mut results = fixture::results();
        results.cases[5].attempts = 2;
        results.cases[5].attempt_history = vec![attempt(1, Outcome::Failed, "signed out", None)];
        results.cases[0].attempts = 3;
        results.cases[0].attempt_history = vec![
            attempt(1, Outcome::Failed, "one", None),
            attempt(2, Outcome::Failed, "two", None),
        ];
        let (xml, report) = read_back(&results);
        let failed = case(&report, "session-restore [iphone-15] #2");
        let TestCaseStatus::NonSuccess { kind, reruns, .. } = &failed.status else {
            panic!("{:?}", failed.status)
        };
        assert_eq!(*kind, NonSuccessKind::Failure);
        assert_eq!(reruns.runs.len(), 1);
        assert_eq!(reruns.runs[0].message.as_ref().unwrap().as_str(), "signed out");
        let error = case(&report, "full-cycle [iphone-15] #1");
        let TestCaseStatus::NonSuccess { kind, reruns, .. } = &error.status else {
            panic!("{:?}", error.status)
        };
        assert_eq!(*kind, NonSuccessKind::Error);
        assert_eq!(reruns.runs.len(), 2);
        assert_eq!(xml.matches("<rerunFailure ").count(), 3, "{xml}");
        // The counts stay the run's: reruns are not testcases.
        assert_eq!((report.tests, report.failures, report.errors), (10, 2, 1));
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
