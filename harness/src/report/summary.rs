//! The plain-text table that closes a run in the terminal and the CI log.
//!
//! One row per flow × device, a total row, then the line CI parses, exactly
//! `harness: N passed, N failed` (with `, N skipped` when some were), and on a line of its
//! own how many of those were errors and flaky. For that line errors count as failed (they
//! are never a pass) and flaky cases as passed (they passed on a retry), so its numbers add
//! up to the runs; the table's columns split them out.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::results::{Outcome, RunResults};

/// How a cause-less failure is counted in the causes column.
const UNCLASSIFIED: &str = "unclassified";

#[derive(Default)]
struct Row<'a> {
    runs: usize,
    passed: usize,
    failed: usize,
    errors: usize,
    flaky: usize,
    skipped: usize,
    causes: BTreeMap<&'a str, usize>,
}

impl<'a> Row<'a> {
    fn add(&mut self, outcome: Outcome, cause: Option<&'a str>) {
        self.runs += 1;
        match outcome {
            Outcome::Passed => self.passed += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Error => self.errors += 1,
            Outcome::Flaky => self.flaky += 1,
            Outcome::Skipped => self.skipped += 1,
        }
        // Flaky cases failed before they passed: their cause counts too.
        if matches!(outcome, Outcome::Failed | Outcome::Error | Outcome::Flaky) {
            *self.causes.entry(cause.unwrap_or(UNCLASSIFIED)).or_default() += 1;
        }
    }

    fn cells(&self, flow: &str, device: &str) -> [String; 8] {
        let mut causes: Vec<(&str, usize)> = self.causes.iter().map(|(c, n)| (*c, *n)).collect();
        causes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let causes: Vec<String> = causes.iter().map(|(c, n)| format!("{c} ×{n}")).collect();
        [
            flow.to_string(),
            device.to_string(),
            format!("{}/{}", self.passed, self.runs),
            self.failed.to_string(),
            self.errors.to_string(),
            self.flaky.to_string(),
            self.skipped.to_string(),
            causes.join(", "),
        ]
    }
}

const HEADER: [&str; 8] = [
    "flow", "device", "passed", "failed", "errors", "flaky", "skipped", "causes",
];
/// Right-aligned (numeric) columns.
const RIGHT: [bool; 8] = [false, false, true, true, true, true, true, false];

/// The closing table of a run, ending with a newline. No colours.
pub fn summary_table(results: &RunResults) -> String {
    let mut rows: Vec<((&str, &str), Row)> = Vec::new();
    let mut total = Row::default();
    for case in &results.cases {
        let key = (case.flow.as_str(), case.device.as_str());
        let at = match rows.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                rows.push((key, Row::default()));
                rows.len() - 1
            }
        };
        rows[at].1.add(case.outcome, case.cause.as_deref());
        total.add(case.outcome, case.cause.as_deref());
    }

    let mut out = String::new();
    if rows.is_empty() {
        out.push_str("no cases were run\n");
    } else {
        let header = HEADER.map(str::to_string);
        let body: Vec<[String; 8]> = rows
            .iter()
            .map(|((flow, device), row)| row.cells(flow, device))
            .collect();
        let total_cells = total.cells("total", "");
        let mut widths = [0; 8];
        for cells in std::iter::once(&header)
            .chain(&body)
            .chain(std::iter::once(&total_cells))
        {
            for (w, cell) in widths.iter_mut().zip(cells) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let rule = widths.map(|w| "-".repeat(w));
        for cells in std::iter::once(&header)
            .chain(std::iter::once(&rule))
            .chain(&body)
            .chain(std::iter::once(&rule))
            .chain(std::iter::once(&total_cells))
        {
            push_row(&mut out, cells, &widths);
        }
        out.push('\n');
    }

    let passed = total.passed + total.flaky;
    let failed = total.failed + total.errors;
    let _ = write!(out, "harness: {passed} passed, {failed} failed");
    if total.skipped > 0 {
        let _ = write!(out, ", {} skipped", total.skipped);
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "of which {} {} (counted as failed), {} flaky (counted as passed)",
        total.errors,
        if total.errors == 1 { "error" } else { "errors" },
        total.flaky
    );
    out
}

fn push_row(out: &mut String, cells: &[String; 8], widths: &[usize; 8]) {
    let mut line = String::new();
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        let w = widths[i];
        if RIGHT[i] {
            let _ = write!(line, "{cell:>w$}");
        } else {
            let _ = write!(line, "{cell:<w$}");
        }
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

/// The statistics under the table: each flow × device's pass rate with its Wilson 95 %
/// interval and cold-start times, then the iOS/Android comparisons (Fisher's exact test).
pub fn statistics_section(results: &RunResults) -> String {
    let cells = crate::stats::cell_stats(results);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "pass rates (95 % Wilson interval) and cold start to signed in (p50 / p90 / max):"
    );
    for c in &cells {
        let rate = match (c.pass_rate, c.interval) {
            (Some(r), Some(i)) => format!(
                "{:>5.1} %  [{:>5.1} – {:>5.1} %]  of {}",
                r * 100.0,
                i.low * 100.0,
                i.high * 100.0,
                c.decisive()
            ),
            _ => "no decisive run".to_string(),
        };
        let timing = c
            .timing
            .as_ref()
            .map(|t| format!("  restore {} / {} / {} ms", t.p50, t.p90, t.max))
            .unwrap_or_default();
        let launch = c
            .launch
            .as_ref()
            .map(|t| format!("  cold launch {} / {} / {} ms", t.p50, t.p90, t.max))
            .unwrap_or_default();
        let _ = writeln!(out, "  {} on {}: {rate}{timing}{launch}", c.flow, c.device);
    }
    let comparisons = crate::stats::platform_comparisons(&cells);
    if !comparisons.is_empty() {
        let _ = writeln!(out, "iOS vs Android (Fisher's exact test, two-sided):");
        for c in comparisons {
            let _ = writeln!(
                out,
                "  {}: iOS {}/{} vs Android {}/{}, difference {:+.0} points, p = {:.2e}{}",
                c.flow,
                c.ios.0,
                c.ios.1,
                c.android.0,
                c.android.1,
                c.difference * 100.0,
                c.p_value,
                if c.significant { " (significant)" } else { "" }
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    /// What CI accepts: `N passed, N failed`, optionally `, N skipped`, optionally after one
    /// word and a colon, alone on its line.
    fn ci_line(line: &str) -> bool {
        let rest = match line.split_once(": ") {
            Some((word, rest)) if !word.is_empty() && !word.contains(char::is_whitespace) => rest,
            _ => line,
        };
        let parts: Vec<&str> = rest.split(", ").collect();
        let count = |p: &str, what: &str| {
            p.strip_suffix(what)
                .and_then(|n| n.strip_suffix(' '))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        };
        matches!(parts.len(), 2 | 3)
            && count(parts[0], "passed")
            && count(parts[1], "failed")
            && parts.get(2).is_none_or(|p| count(p, "skipped"))
    }

    #[test]
    fn table_and_totals() {
        let table = summary_table(&fixture::results());
        assert_eq!(
            table,
            "\
flow             device     passed  failed  errors  flaky  skipped  causes
---------------  ---------  ------  ------  ------  -----  -------  -----------------------------------
full-cycle       iphone-15     0/2       0       1      0        1  session-lost ×1
full-cycle       pixel-8       2/2       0       0      0        0
session-restore  iphone-15     1/4       2       0      1        0  sdk-restoration ×3
session-restore  pixel-8       2/2       0       0      0        0
---------------  ---------  ------  ------  ------  -----  -------  -----------------------------------
total                         5/10       2       1      1        1  sdk-restoration ×3, session-lost ×1

harness: 6 passed, 3 failed, 1 skipped
of which 1 error (counted as failed), 1 flaky (counted as passed)
"
        );
        let ci: Vec<&str> = table.lines().filter(|l| ci_line(l)).collect();
        assert_eq!(ci, vec!["harness: 6 passed, 3 failed, 1 skipped"]);
    }

    #[test]
    fn ci_line_matcher() {
        assert!(ci_line("harness: 41 passed, 19 failed"));
        assert!(ci_line("41 passed, 19 failed, 2 skipped"));
        assert!(!ci_line("Total: 41 passed, 19 failed, 0 errors, 0 flaky"));
        assert!(!ci_line(
            "of which 0 errors (counted as failed), 0 flaky (counted as passed)"
        ));
    }

    #[test]
    fn no_skipped_and_no_cases() {
        let mut results = fixture::results();
        results
            .cases
            .retain(|c| c.outcome == Outcome::Passed || c.outcome == Outcome::Failed);
        results.cases[3].cause = None;
        let table = summary_table(&results);
        assert!(
            table.contains("\nharness: 5 passed, 2 failed\nof which 0 errors"),
            "{table}"
        );
        assert!(table.contains("sdk-restoration ×1, unclassified ×1"), "{table}");

        results.cases.clear();
        assert_eq!(
            summary_table(&results),
            "no cases were run\nharness: 0 passed, 0 failed\nof which 0 errors (counted as failed), 0 flaky (counted as passed)\n"
        );
    }

    #[test]
    fn columns_are_aligned() {
        let table = summary_table(&fixture::results());
        let rows: Vec<&str> = table.lines().take(7).collect();
        let header = rows[0];
        for col in ["passed", "failed", "errors", "flaky", "skipped"] {
            // Right-aligned: every number ends where its header ends.
            let end = header.find(col).unwrap() + col.len();
            for row in &rows[2..6] {
                let c = row.as_bytes()[end - 1];
                assert!(c.is_ascii_digit(), "{col} in {row:?}");
                assert!(matches!(row.as_bytes().get(end), None | Some(b' ')), "{col} in {row:?}");
            }
        }
        let causes = header.find("causes").unwrap();
        assert_eq!(rows[2].find("session-lost").unwrap(), causes);
        assert!(!table.contains('\x1b'));
        assert!(table.lines().all(|l| l == l.trim_end()));
    }
}
