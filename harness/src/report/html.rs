//! `index.html`: one self-contained page a person reads first after a run.
//!
//! In order: the verdict (one sentence per problem, worst first, and the platform differences
//! Fisher's test calls significant), a table per flow × device (pass rate with its Wilson 95 %
//! interval, failures by cause, cold-start-to-signed-in times), then every case, collapsed:
//! outcome, diagnosis, step timeline, screenshots of its snapshots side by side, the
//! secure-storage diff between consecutive snapshots and links to every artifact.
//!
//! Nothing is loaded from the network: CSS and the little JS are inline (the page works
//! without JS; `<details>` does the expanding), screenshots are inlined as `data:` URIs, read
//! from the run directory. Only failing cases and the first passing case of each cell get
//! their screenshots inlined, within [`IMAGE_BUDGET`] bytes; the others are referenced by
//! their relative path. All text is escaped. The result model holds no secret values (only
//! digests and a few JWT claims), and this page prints nothing else.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Component, Path, PathBuf};

use base64::Engine as _;

use super::{ReportError, write_file};
use crate::results::{CaseResult, Outcome, RunResults, Snapshot, StepStatus, StorageEntry};
use crate::stats::{self, CellStats, Comparison, Interval, Z95};

/// File name of the HTML report in a run directory.
pub const HTML_FILE: &str = "index.html";

/// Total bytes of screenshots inlined into one page (before base64); the rest are linked.
pub const IMAGE_BUDGET: u64 = 8 * 1024 * 1024;

/// `id` of the verdict element (CI's browser check looks for it).
pub const VERDICT_ID: &str = "verdict";

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Writes `dir/index.html` (creating `dir`), reading screenshots from `dir`, and returns its
/// path.
pub fn write_html(dir: &Path, results: &RunResults) -> Result<PathBuf, ReportError> {
    let path = dir.join(HTML_FILE);
    let html = html_report(results, Some(dir));
    write_file(dir, &path, html.as_bytes())?;
    Ok(path)
}

/// The HTML report of a run. `run_dir` is where the artifact paths of the results are
/// relative to; without it (or when a file is missing) screenshots are only linked.
pub fn html_report(results: &RunResults, run_dir: Option<&Path>) -> String {
    let cells = stats::cell_stats(results);
    let comparisons = stats::platform_comparisons(&cells);
    let images = ImagePlan::new(results, run_dir);
    let mut out = String::with_capacity(64 * 1024 + results.cases.len() * 4096);

    head(&mut out, results);
    verdict(&mut out, results, &cells, &comparisons);
    cell_table(&mut out, results, &cells);
    cases(&mut out, results, &cells, &images);
    out.push_str("</main>\n<script>\n");
    out.push_str(SCRIPT);
    out.push_str("</script>\n</body>\n</html>\n");
    out
}

// ---------------------------------------------------------------------------------------
// Page frame

const STYLE: &str = r#"
:root{--ok:#1a7f37;--bad:#cf222e;--err:#8250df;--flaky:#bf8700;--skip:#6e7781;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--soft:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1200px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:20px 0 6px}h4{font-size:14px;margin:14px 0 6px}
.meta{color:var(--muted);margin:0 0 8px}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
#verdict{border-left:6px solid var(--bad);background:#fff5f5;padding:10px 16px;margin:12px 0}
#verdict.green{border-color:var(--ok);background:#f0fff4}
#verdict p{margin:4px 0}#verdict ol,#verdict ul{margin:4px 0;padding-left:22px}#verdict li{margin:4px 0}
table{border-collapse:collapse;width:100%;margin:6px 0}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.badge{display:inline-block;min-width:58px;text-align:center;border-radius:10px;padding:0 8px;color:#fff;font-size:12px;font-weight:600}
.b-passed{background:var(--ok)}.b-failed{background:var(--bad)}.b-error{background:var(--err)}.b-flaky{background:var(--flaky)}.b-skipped{background:var(--skip)}
.s-passed{color:var(--ok)}.s-failed{color:var(--bad)}.s-error{color:var(--err)}.s-warned{color:var(--flaky)}.s-skipped{color:var(--skip)}
details.case{border:1px solid var(--line);border-radius:6px;margin:6px 0;background:var(--bg)}
details.case>summary{cursor:pointer;padding:6px 10px;list-style-position:inside}
details.case[open]>summary{border-bottom:1px solid var(--line);background:var(--soft)}
details.case>div{padding:6px 12px 12px}
.muted{color:var(--muted)}
.track{position:relative;height:12px;min-width:160px;background:var(--soft);border-radius:2px}
.track>span{position:absolute;top:1px;bottom:1px;border-radius:2px;background:#8c959f;min-width:2px}
.track>span.st-failed{background:var(--bad)}.track>span.st-error{background:var(--err)}.track>span.st-warned{background:var(--flaky)}.track>span.st-passed{background:#4ac26b}
.shots{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
.shots figure{margin:0;max-width:280px}
.shots img{max-width:280px;max-height:560px;border:1px solid var(--line);border-radius:4px;display:block}
.shots figcaption{font-size:12px;color:var(--muted)}
.d-added{color:var(--ok)}.d-removed{color:var(--bad)}.d-changed{color:var(--flaky)}.d-unchanged{color:var(--muted)}
.msg{white-space:pre-wrap;background:var(--soft);padding:6px 8px;border-radius:4px;margin:4px 0}
.tools button{margin-right:6px}
svg{vertical-align:middle}
"#;

/// Expand/collapse buttons and opening the case a URL fragment points to. The page works
/// without it: `<details>` expands on its own, the buttons stay hidden.
const SCRIPT: &str = r#"(function () {
  'use strict';
  var all = function () { return Array.prototype.slice.call(document.querySelectorAll('details.case')); };
  var set = function (pred) { all().forEach(function (d) { d.open = pred(d); }); };
  var tools = document.getElementById('case-tools');
  if (tools) {
    tools.hidden = false;
    tools.addEventListener('click', function (e) {
      var what = e.target && e.target.getAttribute('data-expand');
      if (what === 'all') { set(function () { return true; }); }
      else if (what === 'problems') { set(function (d) { return d.getAttribute('data-outcome') !== 'passed' && d.getAttribute('data-outcome') !== 'skipped'; }); }
      else if (what === 'none') { set(function () { return false; }); }
    });
  }
  var openHash = function () {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id ? document.getElementById(id) : null;
    if (el && el.tagName === 'DETAILS') { el.open = true; }
  };
  window.addEventListener('hashchange', openHash);
  openHash();
})();
"#;

fn head(out: &mut String, results: &RunResults) {
    let title = format!("harness run {}", results.run_id);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // Nothing may come from the network: data: images, the run directory's own files, inline
    // style and script only.
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data: 'self'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n",
    );
    let _ = writeln!(out, "<title>{}</title>", esc(&title));
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>\n<main>");
    let _ = writeln!(out, "<h1>{}</h1>", esc(&title));
    let mut meta = format!(
        "harness {} · started {} · {} · seed {}",
        results.harness_version,
        utc(results.started_at_ms / 1000),
        duration(results.duration_ms),
        results.seed
    );
    if let Some(shard) = &results.shard {
        let _ = write!(meta, " · shard {shard}");
    }
    let counts: Vec<String> = [
        Outcome::Passed,
        Outcome::Failed,
        Outcome::Error,
        Outcome::Flaky,
        Outcome::Skipped,
    ]
    .iter()
    .filter(|o| results.count(**o) > 0)
    .map(|o| format!("{} {}", results.count(*o), o.name()))
    .collect();
    if !counts.is_empty() {
        let _ = write!(meta, " · {} cases: {}", results.cases.len(), counts.join(", "));
    }
    let _ = writeln!(out, "<p class=\"meta\">{}</p>", esc(&meta));
}

// ---------------------------------------------------------------------------------------
// 1. Verdict

/// One problem of one cell, for ordering.
struct Problem {
    /// How often, 0–1: worst first.
    rate: f64,
    /// Failed before error before flaky at equal rates.
    severity: u8,
    html: String,
}

fn verdict(out: &mut String, results: &RunResults, cells: &[CellStats], comparisons: &[Comparison]) {
    let mut problems: Vec<Problem> = Vec::new();
    for cell in cells {
        let cases: Vec<(usize, &CaseResult)> = cell_cases(results, cell).collect();
        let decisive = cell.decisive();
        let first = |o: Outcome| {
            cases
                .iter()
                .find(|(_, c)| c.outcome == o)
                .map(|(idx, _)| format!(" <a href=\"#case-{idx}\">first such case</a>"))
                .unwrap_or_default()
        };
        let subject = format!("<strong>{}</strong>", esc(&cell.flow));
        let device = format!("<strong>{}</strong>", esc(&cell.device));
        if cell.failed > 0 {
            let fail = wilson_failures(cell);
            let why = reasons(&cases, Outcome::Failed);
            problems.push(Problem {
                rate: cell.failed as f64 / decisive.max(1) as f64,
                severity: 0,
                html: format!(
                    "{subject} fails on {device} in {} of {} runs ({} %, 95 % CI {}–{} %){}.{}{}",
                    cell.failed,
                    decisive,
                    pct(cell.failed as f64 / decisive as f64),
                    pct(fail.low),
                    pct(fail.high),
                    why,
                    other_platforms(cells, cell),
                    first(Outcome::Failed),
                ),
            });
        }
        if cell.errors > 0 {
            problems.push(Problem {
                rate: cell.errors as f64 / cell.runs.max(1) as f64,
                severity: 1,
                html: format!(
                    "{subject} on {device}: {} of {} runs ended in an infrastructure error (not counted in the \
                     pass rate){}.{}",
                    cell.errors,
                    cell.runs,
                    reasons(&cases, Outcome::Error),
                    first(Outcome::Error),
                ),
            });
        }
        if cell.flaky > 0 {
            problems.push(Problem {
                rate: cell.flaky as f64 / decisive.max(1) as f64,
                severity: 2,
                html: format!(
                    "{subject} is flaky on {device}: {} of {} runs failed first and passed on a retry{}.{}",
                    cell.flaky,
                    decisive,
                    reasons(&cases, Outcome::Flaky),
                    first(Outcome::Flaky),
                ),
            });
        }
    }
    problems.sort_by(|a, b| b.rate.total_cmp(&a.rate).then(a.severity.cmp(&b.severity)));
    let significant: Vec<&Comparison> = comparisons.iter().filter(|c| c.significant).collect();

    let green = problems.is_empty();
    let _ = writeln!(
        out,
        "<section id=\"{VERDICT_ID}\" class=\"{}\" aria-labelledby=\"verdict-h\">\n<h2 id=\"verdict-h\">Verdict</h2>",
        if green { "green" } else { "red" }
    );
    let skipped = results.count(Outcome::Skipped);
    let executed = results.cases.len() - skipped;
    if results.cases.is_empty() {
        out.push_str("<p>No cases were run.</p>\n");
    } else if green {
        let mut s = format!("All {executed} runs passed");
        if skipped > 0 {
            let _ = write!(s, " ({skipped} skipped)");
        }
        let _ = writeln!(out, "<p class=\"s-passed\"><strong>{}.</strong></p>", esc(&s));
    } else {
        out.push_str("<ol class=\"problems\">\n");
        for p in &problems {
            let _ = writeln!(out, "<li>{}</li>", p.html);
        }
        out.push_str("</ol>\n");
    }
    if !significant.is_empty() {
        out.push_str("<p>Platform differences (Fisher's exact test, p &lt; 0.05):</p>\n<ul class=\"comparisons\">\n");
        for c in significant {
            let rate = |(p, n): (u64, u64)| p as f64 / n.max(1) as f64;
            let (ios, android) = (rate(c.ios), rate(c.android));
            let (better, worse) = if android >= ios {
                ("Android", "iOS")
            } else {
                ("iOS", "Android")
            };
            let _ = writeln!(
                out,
                "<li><strong>{}</strong>: iOS ({}) passes {}/{} ({} %), Android ({}) {}/{} ({} %); {better} passes \
                 {} percentage points more often than {worse}, p {}.</li>",
                esc(&c.flow),
                esc(&c.ios_device),
                c.ios.0,
                c.ios.1,
                pct(ios),
                esc(&c.android_device),
                c.android.0,
                c.android.1,
                pct(android),
                pct(c.difference.abs()),
                p_value(c.p_value),
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

/// The Wilson 95 % interval of the failure rate (failed over decisive runs).
fn wilson_failures(cell: &CellStats) -> Interval {
    match cell.interval {
        Some(i) => Interval {
            low: 1.0 - i.high,
            high: 1.0 - i.low,
        },
        None => stats::wilson(cell.failed, cell.decisive(), Z95),
    }
}

/// ` — diagnosis` for the cases with `outcome`: the most common cause's diagnosis, or up to
/// three causes with counts when they differ.
fn reasons(cases: &[(usize, &CaseResult)], outcome: Outcome) -> String {
    // cause (or "") -> (count, first diagnosis or message)
    let mut by: Vec<(&str, u64, Option<&str>)> = Vec::new();
    for (_, c) in cases.iter().filter(|(_, c)| c.outcome == outcome) {
        let cause = c.cause.as_deref().unwrap_or("");
        let text = c.diagnosis.as_deref().or(c.message.as_deref());
        match by.iter_mut().find(|(k, _, _)| *k == cause) {
            Some(entry) => {
                entry.1 += 1;
                if entry.2.is_none() {
                    entry.2 = text;
                }
            }
            None => by.push((cause, 1, text)),
        }
    }
    by.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let describe = |(cause, _, text): &(&str, u64, Option<&str>)| -> String {
        match (text, cause.is_empty()) {
            (Some(t), _) => esc(t.trim().trim_end_matches('.')),
            (None, false) => esc(cause),
            (None, true) => "no diagnosis".to_string(),
        }
    };
    match by.len() {
        0 => String::new(),
        1 => format!(" — {}", describe(&by[0])),
        _ => {
            let parts: Vec<String> = by
                .iter()
                .take(3)
                .map(|e| {
                    let name = if e.0.is_empty() { "unclassified" } else { e.0 };
                    format!("{}× {}: {}", e.1, esc(name), describe(e))
                })
                .collect();
            let more = if by.len() > 3 {
                format!("; {} more causes", by.len() - 3)
            } else {
                String::new()
            };
            format!(" — {}{more}", parts.join("; "))
        }
    }
}

/// ` Android passes 20/20.` for the same flow's cells on other platforms.
fn other_platforms(cells: &[CellStats], cell: &CellStats) -> String {
    let others: Vec<&CellStats> = cells
        .iter()
        .filter(|c| c.flow == cell.flow && !c.platform.eq_ignore_ascii_case(&cell.platform))
        .collect();
    let mut platforms: Vec<&str> = Vec::new();
    for c in &others {
        if !platforms.iter().any(|p| p.eq_ignore_ascii_case(&c.platform)) {
            platforms.push(&c.platform);
        }
    }
    let mut s = String::new();
    for platform in platforms {
        let group: Vec<&&CellStats> = others
            .iter()
            .filter(|c| c.platform.eq_ignore_ascii_case(platform))
            .collect();
        if group.len() == 1 {
            let c = group[0];
            let _ = write!(s, " {} passes {}/{}.", esc(platform), c.passed, c.decisive());
        } else {
            let parts: Vec<String> = group
                .iter()
                .map(|c| format!("{} {}/{}", esc(&c.device), c.passed, c.decisive()))
                .collect();
            let _ = write!(s, " {} passes {}.", esc(platform), parts.join(", "));
        }
    }
    s
}

// ---------------------------------------------------------------------------------------
// 2. Flow × device table

fn cell_table(out: &mut String, results: &RunResults, cells: &[CellStats]) {
    out.push_str("<section aria-labelledby=\"cells-h\">\n<h2 id=\"cells-h\">Flows × devices</h2>\n");
    if cells.is_empty() {
        out.push_str("<p class=\"muted\">No cases.</p>\n</section>\n");
        return;
    }
    // One time axis for every cell's plot, so they compare at a glance.
    let axis = results
        .cases
        .iter()
        .filter_map(|c| c.restore_ms)
        .max()
        .unwrap_or(0)
        .max(1);
    out.push_str(
        "<table class=\"cells\">\n<caption class=\"muted\">Pass rate over decisive runs (passed, flaky and \
         failed; errors and skips are not counted), with its Wilson 95 % interval. Restore: cold start to \
         signed in, passed and flaky runs.</caption>\n<thead><tr><th scope=\"col\">Flow</th><th scope=\"col\">Device</th>\
         <th scope=\"col\">Platform</th><th scope=\"col\">Runs</th><th scope=\"col\">Pass rate (95 % CI)</th>\
         <th scope=\"col\">Failures by cause</th><th scope=\"col\">Restore p50 / p90 / max</th>\
         <th scope=\"col\">Restore times</th></tr></thead>\n<tbody>\n",
    );
    for (i, cell) in cells.iter().enumerate() {
        let mut runs = format!("{}", cell.runs);
        let extra: Vec<String> = [
            (cell.failed, "failed"),
            (cell.errors, "errors"),
            (cell.flaky, "flaky"),
            (cell.skipped, "skipped"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, w)| format!("{n} {w}"))
        .collect();
        if !extra.is_empty() {
            let _ = write!(runs, "<br><span class=\"muted\">{}</span>", extra.join(", "));
        }
        let rate = match (cell.pass_rate, cell.interval) {
            (Some(rate), Some(ci)) => format!(
                "{}/{} = {} % <span class=\"muted\">({}–{} %)</span><br>{}",
                cell.passed,
                cell.decisive(),
                pct(rate),
                pct(ci.low),
                pct(ci.high),
                rate_svg(rate, ci)
            ),
            _ => "<span class=\"muted\">no decisive runs</span>".to_string(),
        };
        let causes = if cell.causes.is_empty() {
            "<span class=\"muted\">—</span>".to_string()
        } else {
            cell.causes
                .iter()
                .map(|(c, n)| format!("<code>{}</code> ×{n}", esc(c)))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let timing = match cell.timing {
            Some(t) => format!(
                "{} / {} / {} ms<br><span class=\"muted\">n = {}</span>",
                t.p50, t.p90, t.max, t.n
            ),
            None => "<span class=\"muted\">—</span>".to_string(),
        };
        let values: Vec<u64> = cell_cases(results, cell)
            .filter(|(_, c)| matches!(c.outcome, Outcome::Passed | Outcome::Flaky))
            .filter_map(|(_, c)| c.restore_ms)
            .collect();
        let plot = if values.is_empty() {
            String::new()
        } else {
            strip_svg(&values, axis, cell.timing.map(|t| (t.p50, t.p90)))
        };
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\"><a href=\"#cell-{i}\">{}</a></th><td>{}</td><td>{}</td><td class=\"num\">{runs}</td>\
             <td>{rate}</td><td>{causes}</td><td class=\"num\">{timing}</td><td>{plot}</td></tr>",
            esc(&cell.flow),
            esc(&cell.device),
            esc(&cell.platform),
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

/// A 0–100 % bar: the pass rate filled, the interval as a whisker.
fn rate_svg(rate: f64, ci: Interval) -> String {
    const W: f64 = 160.0;
    let x = |v: f64| 2.0 + v.clamp(0.0, 1.0) * (W - 4.0);
    let colour = if rate >= 0.999 {
        "#1a7f37"
    } else if rate >= 0.9 {
        "#bf8700"
    } else {
        "#cf222e"
    };
    format!(
        "<svg width=\"{W}\" height=\"18\" viewBox=\"0 0 {W} 18\" role=\"img\" aria-label=\"pass rate {p} %, 95 % \
         interval {lo}–{hi} %\"><title>pass rate {p} %, 95 % interval {lo}–{hi} %</title>\
         <rect x=\"2\" y=\"4\" width=\"{full:.1}\" height=\"10\" fill=\"#eaeef2\"/>\
         <rect x=\"2\" y=\"4\" width=\"{fill:.1}\" height=\"10\" fill=\"{colour}\"/>\
         <line x1=\"{l:.1}\" x2=\"{h:.1}\" y1=\"9\" y2=\"9\" stroke=\"#1f2328\" stroke-width=\"1.5\"/>\
         <line x1=\"{l:.1}\" x2=\"{l:.1}\" y1=\"4\" y2=\"14\" stroke=\"#1f2328\" stroke-width=\"1.5\"/>\
         <line x1=\"{h:.1}\" x2=\"{h:.1}\" y1=\"4\" y2=\"14\" stroke=\"#1f2328\" stroke-width=\"1.5\"/></svg>",
        p = pct(rate),
        lo = pct(ci.low),
        hi = pct(ci.high),
        full = W - 4.0,
        fill = x(rate) - 2.0,
        l = x(ci.low),
        h = x(ci.high),
    )
}

/// Restore times as ticks on a shared 0–`axis` ms scale, p50 and p90 marked.
fn strip_svg(values: &[u64], axis: u64, marks: Option<(u64, u64)>) -> String {
    const W: f64 = 180.0;
    let x = |v: u64| 2.0 + (v.min(axis) as f64 / axis as f64) * (W - 4.0);
    let mut s = format!(
        "<svg width=\"{W}\" height=\"26\" viewBox=\"0 0 {W} 26\" role=\"img\" aria-label=\"{n} restore times, 0 to \
         {axis} ms\"><title>{n} restore times (0–{axis} ms)</title><line x1=\"2\" x2=\"{e:.1}\" y1=\"20\" y2=\"20\" \
         stroke=\"#d1d9e0\"/>",
        n = values.len(),
        e = W - 2.0,
    );
    for v in values {
        let _ = write!(
            s,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"6\" y2=\"20\" stroke=\"#0969da\" stroke-opacity=\"0.45\" \
             stroke-width=\"2\"/>",
            x = x(*v)
        );
    }
    if let Some((p50, p90)) = marks {
        let _ = write!(
            s,
            "<path d=\"M{a:.1} 2 l-3 -2 h6 z\" fill=\"#1f2328\"/><text x=\"{a:.1}\" y=\"26\" font-size=\"6\" \
             text-anchor=\"middle\">p50</text><text x=\"{b:.1}\" y=\"26\" font-size=\"6\" \
             text-anchor=\"middle\">p90</text>",
            a = x(p50),
            b = x(p90)
        );
    }
    s.push_str("</svg>");
    s
}

// ---------------------------------------------------------------------------------------
// 3. Cases

fn cell_cases<'a>(results: &'a RunResults, cell: &'a CellStats) -> impl Iterator<Item = (usize, &'a CaseResult)> + 'a {
    results
        .cases
        .iter()
        .enumerate()
        .filter(move |(_, c)| c.flow == cell.flow && c.device == cell.device)
}

fn cases(out: &mut String, results: &RunResults, cells: &[CellStats], images: &ImagePlan) {
    out.push_str("<section aria-labelledby=\"cases-h\">\n<h2 id=\"cases-h\">Cases</h2>\n");
    out.push_str(
        "<p id=\"case-tools\" class=\"tools\" hidden><button type=\"button\" data-expand=\"problems\">Expand \
         problems</button><button type=\"button\" data-expand=\"all\">Expand all</button><button type=\"button\" \
         data-expand=\"none\">Collapse all</button></p>\n",
    );
    for (i, cell) in cells.iter().enumerate() {
        let _ = writeln!(
            out,
            "<h3 id=\"cell-{i}\">{} on {} <span class=\"muted\">({})</span></h3>",
            esc(&cell.flow),
            esc(&cell.device),
            esc(&cell.platform)
        );
        for (idx, case) in cell_cases(results, cell) {
            case_details(out, idx, case, images);
        }
    }
    out.push_str("</section>\n");
}

fn case_details(out: &mut String, idx: usize, case: &CaseResult, images: &ImagePlan) {
    let outcome = case.outcome.name();
    let mut summary = format!(
        "<span class=\"badge b-{outcome}\">{outcome}</span> #{} · {}",
        case.iteration,
        duration(case.duration_ms)
    );
    if case.attempts > 1 {
        let _ = write!(summary, " · {} attempts", case.attempts);
    }
    if let Some(cause) = &case.cause {
        let _ = write!(summary, " · <code>{}</code>", esc(cause));
    }
    if let Some(ms) = case.restore_ms {
        let _ = write!(summary, " · restored in {ms} ms");
    }
    if let Some(ms) = case.cold_launch_ms {
        let _ = write!(summary, " · cold launch {ms} ms");
    }
    let _ = writeln!(
        out,
        "<details class=\"case\" id=\"case-{idx}\" data-outcome=\"{outcome}\"><summary>{summary}</summary><div>"
    );
    let _ = writeln!(
        out,
        "<p class=\"muted\">{} · {} on {} ({}) · iteration {} · seed {}</p>",
        esc(&case.flow_file),
        esc(&case.flow),
        esc(&case.device),
        esc(&case.platform),
        case.iteration,
        case.seed
    );
    if let Some(d) = &case.diagnosis {
        let _ = writeln!(out, "<p><strong>Diagnosis:</strong> {}</p>", esc(d));
    }
    if let Some(m) = &case.message {
        let _ = writeln!(out, "<div class=\"msg\">{}</div>", esc(m));
    }
    attempt_history(out, case);
    timeline(out, case);
    screenshots(out, idx, case, images);
    storage(out, case);
    artifacts(out, case);
    out.push_str("</div></details>\n");
}

/// The attempts before the last one (`--retries`), oldest first.
fn attempt_history(out: &mut String, case: &CaseResult) {
    if case.attempt_history.is_empty() {
        return;
    }
    out.push_str("<p class=\"muted\">Earlier attempts:</p>\n<ol class=\"attempts\">\n");
    for a in &case.attempt_history {
        let outcome = a.outcome.name();
        let _ = write!(
            out,
            "<li value=\"{}\"><span class=\"s-{outcome}\">{outcome}</span> in {}",
            a.attempt,
            duration(a.duration_ms)
        );
        if let Some(cause) = &a.cause {
            let _ = write!(out, " · <code>{}</code>", esc(cause));
        }
        if let Some(text) = a.diagnosis.as_deref().or(a.message.as_deref()) {
            let _ = write!(out, ": {}", esc(text));
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ol>\n");
}

fn step_status(s: StepStatus) -> &'static str {
    match s {
        StepStatus::Passed => "passed",
        StepStatus::Failed => "failed",
        StepStatus::Error => "error",
        StepStatus::Warned => "warned",
        StepStatus::Skipped => "skipped",
    }
}

fn timeline(out: &mut String, case: &CaseResult) {
    if case.steps.is_empty() {
        out.push_str("<p class=\"muted\">No steps ran.</p>\n");
        return;
    }
    let total = case
        .steps
        .iter()
        .map(|s| s.start_ms + s.duration_ms)
        .max()
        .unwrap_or(0)
        .max(case.duration_ms)
        .max(1) as f64;
    out.push_str(
        "<h4>Steps</h4>\n<table class=\"steps\"><thead><tr><th scope=\"col\">Step</th><th scope=\"col\">Location</th>\
         <th scope=\"col\">Status</th><th scope=\"col\">Duration</th><th scope=\"col\">Timeline</th></tr></thead><tbody>\n",
    );
    for s in &case.steps {
        let status = step_status(s.status);
        let left = s.start_ms as f64 / total * 100.0;
        let width = (s.duration_ms as f64 / total * 100.0).min(100.0 - left).max(0.0);
        let mut name = esc(&s.name);
        if let Some(m) = &s.message {
            let _ = write!(name, "<div class=\"msg\">{}</div>", esc(m));
        }
        let _ = writeln!(
            out,
            "<tr><td style=\"padding-left:{pad}px\">{name}</td><td><code>{at}</code></td><td class=\"s-{status}\">{status}</td>\
             <td class=\"num\">{d} ms</td><td><div class=\"track\" title=\"{start}–{end} ms\"><span class=\"st-{status}\" \
             style=\"left:{left:.2}%;width:{width:.2}%\"></span></div></td></tr>",
            pad = 8 + 16 * s.depth.min(8),
            at = esc(&s.at),
            d = s.duration_ms,
            start = s.start_ms,
            end = s.start_ms + s.duration_ms,
        );
    }
    out.push_str("</tbody></table>\n");
}

/// Snapshots in the order they were taken, each entry once (a stable sort on `at_ms`).
fn ordered_snapshots(case: &CaseResult) -> Vec<&Snapshot> {
    let mut snaps: Vec<&Snapshot> = case.snapshots.iter().collect();
    snaps.sort_by_key(|s| s.at_ms);
    snaps
}

/// Images of a case: every snapshot's screenshot in order, then other PNG artifacts (the
/// failure screenshot). `(caption, path)`.
fn case_images(case: &CaseResult) -> Vec<(String, &str)> {
    let mut images: Vec<(String, &str)> = Vec::new();
    for s in ordered_snapshots(case) {
        if let Some(p) = &s.screenshot {
            let mut caption = format!("{} · {} ms · {}", s.name, s.at_ms, s.auth);
            if let Some(state) = s.app_state {
                let _ = write!(caption, " · app {}", app_state(state));
            }
            images.push((caption, p));
        }
    }
    for a in &case.artifacts {
        if a.to_ascii_lowercase().ends_with(".png") && !images.iter().any(|(_, p)| p == a) {
            let stem = Path::new(a)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            images.push((format!("{stem} (artifact)"), a));
        }
    }
    images
}

fn app_state(state: i64) -> String {
    match state {
        0 => "not installed".into(),
        1 => "not running".into(),
        2 => "suspended".into(),
        3 => "background".into(),
        4 => "foreground".into(),
        n => format!("state {n}"),
    }
}

fn screenshots(out: &mut String, idx: usize, case: &CaseResult, images: &ImagePlan) {
    let list = case_images(case);
    if list.is_empty() {
        return;
    }
    out.push_str("<h4>Screenshots</h4>\n<div class=\"shots\">\n");
    for (caption, path) in list {
        let alt = format!("screenshot {caption}, {} on {}", case.flow, case.device);
        let img = match images.inline(idx, path) {
            Some(uri) => format!("<img src=\"{uri}\" alt=\"{}\">", esc(&alt)),
            None => match (images.exists(path), safe_href(path)) {
                (Some(true), Some(href)) => {
                    format!("<img src=\"{href}\" alt=\"{}\" loading=\"lazy\">", esc(&alt))
                }
                (Some(false), _) => "<span class=\"muted\">(file missing)</span>".to_string(),
                (_, Some(href)) => format!("<a href=\"{href}\">open screenshot</a>"),
                (_, None) => String::new(),
            },
        };
        let _ = writeln!(
            out,
            "<figure>{img}<figcaption>{} <br><code>{}</code></figcaption></figure>",
            esc(&caption),
            esc(path)
        );
    }
    out.push_str("</div>\n");
}

fn storage(out: &mut String, case: &CaseResult) {
    let snaps = ordered_snapshots(case);
    if snaps.is_empty() {
        return;
    }
    out.push_str("<h4>Secure storage</h4>\n");
    let mut prev: Option<&Snapshot> = None;
    for s in snaps {
        let title = match prev {
            None => format!(
                "{} (first snapshot, {} ms, source {})",
                s.name, s.at_ms, s.storage_source
            ),
            Some(p) => format!("{} → {} ({} ms, source {})", p.name, s.name, s.at_ms, s.storage_source),
        };
        let _ = writeln!(
            out,
            "<p><strong>{}</strong> · screen shows {}</p>",
            esc(&title),
            esc(&s.auth)
        );
        if s.storage_source == crate::driver::StorageSource::Unavailable {
            out.push_str("<p class=\"muted\">Storage could not be read on this device.</p>\n");
            prev = Some(s);
            continue;
        }
        let rows = diff(prev.map(|p| p.storage.as_slice()), &s.storage);
        if rows.is_empty() {
            out.push_str("<p class=\"muted\">No entries.</p>\n");
        } else {
            out.push_str(
                "<table class=\"diff\"><thead><tr><th scope=\"col\">Change</th><th scope=\"col\">Key</th>\
                 <th scope=\"col\">Store</th><th scope=\"col\">Digest</th><th scope=\"col\">Claims</th></tr></thead><tbody>\n",
            );
            for r in rows {
                let _ = writeln!(
                    out,
                    "<tr class=\"d-{kind}\"><td>{kind}</td><td><code>{key}</code></td><td><code>{store}</code></td>\
                     <td class=\"mono\">{digest}</td><td class=\"mono\">{claims}</td></tr>",
                    kind = r.kind,
                    key = esc(&r.key),
                    store = esc(&r.store),
                    digest = r.digest,
                    claims = r.claims,
                );
            }
            out.push_str("</tbody></table>\n");
        }
        prev = Some(s);
    }
}

struct DiffRow {
    /// `added`, `removed`, `changed`, `unchanged` or `present` (first snapshot).
    kind: &'static str,
    key: String,
    store: String,
    /// HTML.
    digest: String,
    /// HTML.
    claims: String,
}

/// Entries keyed by (store, key); with no previous snapshot every entry is `present`.
fn diff(before: Option<&[StorageEntry]>, after: &[StorageEntry]) -> Vec<DiffRow> {
    let key = |e: &StorageEntry| (e.store.clone(), e.key.clone());
    let row = |kind, e: &StorageEntry, digest: String, claims: String| DiffRow {
        kind,
        key: e.key.clone(),
        store: e.store.clone(),
        digest,
        claims,
    };
    let Some(before) = before else {
        return after
            .iter()
            .map(|e| row("present", e, esc(&short_digest(&e.digest)), claims(e)))
            .collect();
    };
    let old: BTreeMap<(String, String), &StorageEntry> = before.iter().map(|e| (key(e), e)).collect();
    let new: BTreeMap<(String, String), &StorageEntry> = after.iter().map(|e| (key(e), e)).collect();
    let mut rows = Vec::new();
    for e in after {
        match old.get(&key(e)) {
            None => rows.push(row("added", e, esc(&short_digest(&e.digest)), claims(e))),
            Some(o) if o.digest == e.digest => rows.push(row("unchanged", e, esc(&short_digest(&e.digest)), claims(e))),
            Some(o) => {
                let c = if o.claims == e.claims {
                    claims(e)
                } else {
                    format!("{} → {}", claims(o), claims(e))
                };
                rows.push(row(
                    "changed",
                    e,
                    format!("{} → {}", esc(&short_digest(&o.digest)), esc(&short_digest(&e.digest))),
                    c,
                ))
            }
        }
    }
    for e in before {
        if !new.contains_key(&key(e)) {
            rows.push(row("removed", e, esc(&short_digest(&e.digest)), claims(e)));
        }
    }
    rows
}

/// `sha256:62315a8c0803…` (the algorithm and 12 hex digits).
fn short_digest(d: &str) -> String {
    let (algo, hex) = d.split_once(':').unwrap_or(("", d));
    let short: String = hex.chars().take(12).collect();
    let ellipsis = if hex.chars().count() > 12 { "…" } else { "" };
    if algo.is_empty() {
        format!("{short}{ellipsis}")
    } else {
        format!("{algo}:{short}{ellipsis}")
    }
}

/// Claims as `sid=… exp=… (date) aud=…`, escaped; `—` without claims.
fn claims(e: &StorageEntry) -> String {
    let Some(c) = &e.claims else {
        return "<span class=\"muted\">—</span>".to_string();
    };
    let Some(map) = c.as_object() else {
        return esc(&truncate(&c.to_string(), 80));
    };
    let mut parts = Vec::new();
    for (k, v) in map {
        let mut text = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if matches!(k.as_str(), "exp" | "iat" | "nbf")
            && let Some(secs) = v.as_u64()
        {
            text = format!("{secs} ({})", utc(secs));
        }
        parts.push(format!("{}={}", esc(k), esc(&truncate(&text, 80))));
    }
    if parts.is_empty() {
        "<span class=\"muted\">—</span>".to_string()
    } else {
        parts.join(" ")
    }
}

fn artifacts(out: &mut String, case: &CaseResult) {
    let mut paths: Vec<&str> = case.artifacts.iter().map(String::as_str).collect();
    for s in &case.snapshots {
        for p in [&s.screenshot, &s.source].into_iter().flatten() {
            if !paths.contains(&p.as_str()) {
                paths.push(p);
            }
        }
    }
    if paths.is_empty() {
        return;
    }
    out.push_str("<h4>Artifacts</h4>\n<ul class=\"artifacts\">\n");
    for p in paths {
        match safe_href(p) {
            Some(href) => {
                let _ = writeln!(out, "<li><a href=\"{href}\"><code>{}</code></a></li>", esc(p));
            }
            None => {
                let _ = writeln!(
                    out,
                    "<li><code>{}</code> <span class=\"muted\">(not a relative path)</span></li>",
                    esc(p)
                );
            }
        }
    }
    out.push_str("</ul>\n");
}

// ---------------------------------------------------------------------------------------
// Images

/// Which screenshots are inlined: those of failing, erroring and flaky cases first, then of
/// the first passing case of each cell, while they fit in [`IMAGE_BUDGET`].
struct ImagePlan<'a> {
    run_dir: Option<&'a Path>,
    inline: HashSet<(usize, String)>,
}

impl<'a> ImagePlan<'a> {
    fn new(results: &RunResults, run_dir: Option<&'a Path>) -> ImagePlan<'a> {
        let mut plan = ImagePlan {
            run_dir,
            inline: HashSet::new(),
        };
        let Some(dir) = run_dir else {
            return plan;
        };
        let mut order: Vec<usize> = results
            .cases
            .iter()
            .enumerate()
            .filter(|(_, c)| matches!(c.outcome, Outcome::Failed | Outcome::Error | Outcome::Flaky))
            .map(|(i, _)| i)
            .collect();
        let mut seen_cells: Vec<(&str, &str)> = Vec::new();
        for (i, c) in results.cases.iter().enumerate() {
            if c.outcome == Outcome::Passed && !seen_cells.contains(&(c.flow.as_str(), c.device.as_str())) {
                seen_cells.push((&c.flow, &c.device));
                order.push(i);
            }
        }
        let mut used = 0u64;
        for i in order {
            for (_, path) in case_images(&results.cases[i]) {
                let Some(file) = resolve(dir, path) else { continue };
                let Ok(meta) = fs::metadata(&file) else { continue };
                if meta.is_file() && used + meta.len() <= IMAGE_BUDGET {
                    used += meta.len();
                    plan.inline.insert((i, path.to_string()));
                }
            }
        }
        plan
    }

    /// A `data:image/png;base64,…` URI when this case's image is planned inline and is a PNG.
    fn inline(&self, case: usize, path: &str) -> Option<String> {
        if !self.inline.contains(&(case, path.to_string())) {
            return None;
        }
        let bytes = fs::read(resolve(self.run_dir?, path)?).ok()?;
        if !bytes.starts_with(PNG_MAGIC) {
            return None;
        }
        Some(format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&bytes)
        ))
    }

    /// Whether the file is there; `None` without a run directory or for an unsafe path.
    fn exists(&self, path: &str) -> Option<bool> {
        Some(resolve(self.run_dir?, path)?.is_file())
    }
}

/// `dir/path` for a relative path that stays inside `dir` (no root, no `..`, no scheme).
fn resolve(dir: &Path, path: &str) -> Option<PathBuf> {
    safe_relative(path).then(|| dir.join(path))
}

fn safe_relative(path: &str) -> bool {
    let scheme = path.split_once(':').is_some_and(|(before, _)| !before.contains('/'));
    !path.is_empty()
        && !scheme
        && !path.starts_with('\\')
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// A relative URL for an artifact path (percent-encoded, attribute-safe), or `None` when the
/// path is not a plain relative path.
fn safe_href(path: &str) -> Option<String> {
    if !safe_relative(path) {
        return None;
    }
    let mut s = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            s.push(b as char);
        } else {
            let _ = write!(s, "%{b:02X}");
        }
    }
    Some(s)
}

// ---------------------------------------------------------------------------------------
// Text

/// HTML-escapes text for element content and quoted attributes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

/// A proportion as a whole percentage.
fn pct(x: f64) -> String {
    format!("{}", (x * 100.0).round() as i64)
}

fn p_value(p: f64) -> String {
    if p < 0.001 {
        "&lt; 0.001".to_string()
    } else {
        format!("= {p:.3}")
    }
}

fn duration(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{}m {:02}s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC`.
fn utc(secs: u64) -> String {
    crate::iso8601::format_ms(secs.saturating_mul(1000))
        .replace('T', " ")
        .replace('Z', " UTC")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::StepResult;

    const DIAGNOSIS: &str = "SDK restoration bug: the session token (__clerk_client_jwt) is present and unexpired in \
                             secure storage, but the app shows signed out";

    /// A real 1×1 PNG.
    fn tiny_png() -> Vec<u8> {
        let mut bytes = Vec::new();
        image::RgbaImage::from_pixel(1, 1, image::Rgba([200, 30, 30, 255]))
            .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
            .unwrap();
        bytes
    }

    fn step(name: &str, status: StepStatus, start_ms: u64, duration_ms: u64) -> StepResult {
        StepResult {
            name: name.to_string(),
            at: "flows/session-restore.yaml:9:3".to_string(),
            depth: 0,
            status,
            start_ms,
            duration_ms,
            message: None,
        }
    }

    fn entry(key: &str, digest_byte: &str, claims: Option<serde_json::Value>) -> StorageEntry {
        StorageEntry {
            key: key.to_string(),
            store: "keychain:app:no-auth".to_string(),
            digest: format!("sha256:{}", digest_byte.repeat(32)),
            claims,
        }
    }

    fn case(device: &str, iteration: u32, outcome: Outcome) -> CaseResult {
        let ios = device.ends_with("ios");
        let dir = format!("artifacts/session-restore/{device}/{iteration}");
        let before = Snapshot {
            name: "before-quit".to_string(),
            at_ms: 582,
            storage_source: crate::driver::StorageSource::Virtual,
            storage: vec![
                entry(
                    "__clerk_client_jwt",
                    "ab",
                    Some(serde_json::json!({"sid": "sess_2x", "exp": 1_700_000_060})),
                ),
                entry("cachedClient", "cd", None),
                entry("staleKey", "ef", None),
            ],
            app_state: Some(4),
            auth: "signedIn".to_string(),
            screenshot: Some(format!("{dir}/before-quit.png")),
            source: Some(format!("{dir}/before-quit.xml")),
        };
        let mut after = before.clone();
        after.name = "after-relaunch".to_string();
        after.at_ms = 1_400;
        after.storage[1].digest = format!("sha256:{}", "99".repeat(32));
        after.storage.remove(2);
        after.storage.push(entry("clerkDeviceToken", "12", None));
        after.screenshot = Some(format!("{dir}/after-relaunch.png"));
        after.source = None;
        let mut steps = vec![
            step("launchApp", StepStatus::Passed, 0, 28),
            step("snapshot before-quit", StepStatus::Passed, 582, 700),
            step("Relaunch (cold start)", StepStatus::Passed, 1_337, 9),
            step("assertSession signedIn", StepStatus::Passed, 1_347, 60),
        ];
        let failed = outcome == Outcome::Failed;
        if failed {
            steps[3].status = StepStatus::Failed;
            steps[3].message = Some("expected the app to be signedIn within 10 s; the app shows signed out".into());
        }
        CaseResult {
            flow: "session-restore".to_string(),
            flow_file: "flows/session-restore.yaml".to_string(),
            device: device.to_string(),
            platform: if ios { "iOS" } else { "Android" }.to_string(),
            iteration,
            outcome,
            diagnosis: failed.then(|| DIAGNOSIS.to_string()),
            cause: failed.then(|| "sdk-restoration".to_string()),
            message: steps[3].message.clone(),
            duration_ms: 1_407,
            attempts: 1,
            attempt_history: Vec::new(),
            steps,
            // Out of order on purpose: the page orders snapshots by time.
            snapshots: vec![after, before],
            restore_ms: (!failed).then_some(1_000 + u64::from(iteration) * 37),
            cold_launch_ms: None,
            artifacts: vec![format!("{dir}/before-quit.png"), format!("{dir}/device.log")],
            seed: u64::from(iteration),
        }
    }

    /// iOS 3/10 (7 sdk-restoration failures) plus an error; Android 10/10, one of them flaky.
    fn results() -> RunResults {
        let mut cases = Vec::new();
        for i in 1..=11 {
            let outcome = match i {
                1..=3 => Outcome::Passed,
                11 => Outcome::Error,
                _ => Outcome::Failed,
            };
            let mut c = case("virtual-ios", i, outcome);
            if outcome == Outcome::Error {
                c.cause = Some("session-lost".to_string());
                c.message = Some("the device session was lost: <script>alert(1)</script> & more".to_string());
            }
            cases.push(c);
        }
        for i in 1..=10 {
            let mut c = case(
                "virtual-android",
                i,
                if i == 4 { Outcome::Flaky } else { Outcome::Passed },
            );
            if i == 4 {
                c.attempts = 2;
                c.cause = Some("convex-stale-auth".to_string());
                c.diagnosis = Some("Convex kept a stale token".to_string());
                c.attempt_history = vec![crate::results::AttemptRecord {
                    attempt: 1,
                    outcome: Outcome::Failed,
                    message: Some("expected signedIn, the app shows <signedOut>".to_string()),
                    diagnosis: None,
                    cause: Some("convex-stale-auth".to_string()),
                    duration_ms: 4_200,
                    seed: 99,
                }];
            }
            cases.push(c);
        }
        RunResults {
            run_id: "20250101-120000-abcd".to_string(),
            harness_version: "0.1.0".to_string(),
            started_at_ms: 1_735_732_800_000,
            duration_ms: 61_000,
            seed: 5,
            shard: None,
            cases,
        }
    }

    /// The `<details>` of case `n` (index in the results).
    fn case_html(html: &str, n: usize) -> &str {
        let start = html.find(&format!("<details class=\"case\" id=\"case-{n}\"")).unwrap();
        let end = start + html[start..].find("</details>").unwrap();
        &html[start..end]
    }

    /// A run directory with a real PNG for every case's snapshots (the Android flaky case's
    /// `after-relaunch.png` is missing).
    fn run_dir(results: &RunResults) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let png = tiny_png();
        for c in &results.cases {
            for s in &c.snapshots {
                let p = dir.path().join(s.screenshot.as_ref().unwrap());
                if c.outcome == Outcome::Flaky && s.name == "after-relaunch" {
                    continue;
                }
                fs::create_dir_all(p.parent().unwrap()).unwrap();
                fs::write(p, &png).unwrap();
            }
        }
        dir
    }

    #[test]
    fn verdict_tables_cases_and_images() {
        let results = results();
        let dir = run_dir(&results);
        let html = html_report(&results, Some(dir.path()));

        // The verdict first, with the numbers: 7 of 10 failed, Wilson 95 % CI of the failure
        // rate 40–89 %, the diagnosis and the other platform.
        let verdict_at = html.find("id=\"verdict\"").expect("verdict element");
        assert!(verdict_at < html.find("id=\"cells-h\"").unwrap());
        assert!(
            html.contains(
                "<strong>session-restore</strong> fails on <strong>virtual-ios</strong> in 7 of 10 runs (70 %, 95 % CI \
                 40–89 %) — SDK restoration bug: the session token (__clerk_client_jwt) is present and unexpired in \
                 secure storage, but the app shows signed out. Android passes 10/10."
            ),
            "{}",
            &html[verdict_at..verdict_at + 3000]
        );
        // Worst (most frequent) first: the failures, then the flaky case (1 of 10), then the
        // error (1 of 11).
        let fail = html.find("in 7 of 10 runs").unwrap();
        let error = html.find("1 of 11 runs ended in an infrastructure error").unwrap();
        let flaky = html
            .find("is flaky on <strong>virtual-android</strong>: 1 of 10 runs")
            .unwrap();
        assert!(fail < flaky && flaky < error, "{fail} {error} {flaky}");
        assert!(html.contains("Convex kept a stale token"));
        // 3/10 against 10/10 is significant.
        assert!(html.contains("iOS (virtual-ios) passes 3/10 (30 %), Android (virtual-android) 10/10 (100 %)"));
        assert!(html.contains("Android passes 70 percentage points more often than iOS, p = 0.003."));
        assert!(!html.contains("All 21 runs passed"));

        // The table: pass rate with interval, causes, restore timing.
        assert!(html.contains("3/10 = 30 % <span class=\"muted\">(11–60 %)</span>"));
        assert!(html.contains("aria-label=\"pass rate 30 %, 95 % interval 11–60 %\""));
        assert!(html.contains("<code>sdk-restoration</code> ×7"));
        assert!(html.contains("1074 / 1111 / 1111 ms"), "iOS restore p50/p90/max");
        assert!(html.contains("<th scope=\"col\">Flow</th>"));

        // Nothing from the network.
        for bad in [
            "src=\"http",
            "href=\"http",
            "src='http",
            "href='http",
            "url(http",
            "@import",
        ] {
            assert!(!html.contains(bad), "{bad}");
        }
        // Images inlined as data: URIs, with alt text; the missing one is said to be missing.
        let png = base64::engine::general_purpose::STANDARD.encode(tiny_png());
        assert!(html.contains(&format!(
            "<img src=\"data:image/png;base64,{png}\" alt=\"screenshot before-quit"
        )));
        assert!(html.contains("(file missing)"));
        // Passing cases after the first of their cell are linked, not inlined.
        let second_pass = case_html(&html, 1);
        assert!(!second_pass.contains("data:image"), "{second_pass}");
        assert!(second_pass.contains(
            "<img src=\"artifacts/session-restore/virtual-ios/2/before-quit.png\" alt=\"screenshot before-quit"
        ));

        // Escaping.
        assert!(!html.contains("<script>alert"));
        assert!(html.contains("the device session was lost: &lt;script&gt;alert(1)&lt;/script&gt; &amp; more"));
        assert_eq!(html.matches("<script>").count(), 1, "only the page's own script");

        // A flaky case lists its earlier attempts (case 14: Android #4).
        let flaky = case_html(&html, 14);
        assert!(flaky.contains("data-outcome=\"flaky\""), "{flaky}");
        assert!(
            flaky.contains(
                "<ol class=\"attempts\">\n<li value=\"1\"><span class=\"s-failed\">failed</span> in 4.2 s · \
                 <code>convex-stale-auth</code>: expected signedIn, the app shows &lt;signedOut&gt;</li>\n</ol>"
            ),
            "{flaky}"
        );
        assert!(!case_html(&html, 3).contains("Earlier attempts"));

        // Snapshots in order, screenshots side by side, the storage diff between them.
        let failing = case_html(&html, 3);
        assert!(failing.contains("<details class=\"case\" id=\"case-3\" data-outcome=\"failed\">"));
        assert!(failing.contains("<span class=\"badge b-failed\">failed</span>"));
        assert!(failing.contains("<strong>Diagnosis:</strong> SDK restoration bug"));
        let before = failing.find("alt=\"screenshot before-quit").unwrap();
        let after = failing.find("alt=\"screenshot after-relaunch").unwrap();
        assert!(before < after);
        assert!(failing.contains("before-quit → after-relaunch"));
        for line in [
            "<tr class=\"d-unchanged\"><td>unchanged</td><td><code>__clerk_client_jwt</code></td>\
             <td><code>keychain:app:no-auth</code></td><td class=\"mono\">sha256:abababababab…</td>\
             <td class=\"mono\">sid=sess_2x exp=1700000060 (2023-11-14 22:14:20 UTC)</td></tr>",
            "<tr class=\"d-changed\"><td>changed</td><td><code>cachedClient</code></td>\
             <td><code>keychain:app:no-auth</code></td><td class=\"mono\">sha256:cdcdcdcdcdcd… → sha256:999999999999…</td>",
            "<tr class=\"d-added\"><td>added</td><td><code>clerkDeviceToken</code></td>",
            "<tr class=\"d-removed\"><td>removed</td><td><code>staleKey</code></td>",
        ] {
            assert!(failing.contains(line), "{line}\n{failing}");
        }
        // The timeline: failed step, bar proportional to time, the message.
        assert!(failing.contains("<td class=\"s-failed\">failed</td>"));
        assert!(failing.contains("style=\"left:95.74%;width:4.26%\""), "{failing}");
        // Links to every artifact, relative.
        for a in ["before-quit.png", "device.log", "before-quit.xml", "after-relaunch.png"] {
            assert!(
                failing.contains(&format!("<a href=\"artifacts/session-restore/virtual-ios/4/{a}\">")),
                "{a}"
            );
        }
        // Accessible basics.
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(html.contains("<h1>") && html.contains("<h2 id=\"verdict-h\">Verdict</h2>"));
    }

    #[test]
    fn all_green_and_empty() {
        let mut results = results();
        results
            .cases
            .retain(|c| c.outcome == Outcome::Passed && c.device == "virtual-android");
        let html = html_report(&results, None);
        assert!(html.contains("<section id=\"verdict\" class=\"green\""));
        assert!(html.contains("All 9 runs passed."));
        assert!(!html.contains("Platform differences"));
        // No run directory: screenshots are linked, never inlined.
        assert!(!html.contains("data:image"));
        assert!(
            html.contains(
                "<a href=\"artifacts/session-restore/virtual-android/1/before-quit.png\">open screenshot</a>"
            )
        );

        results.cases.clear();
        let html = html_report(&results, None);
        assert!(html.contains("No cases were run."));
        assert!(html.ends_with("</html>\n"));
    }

    #[test]
    fn image_budget_and_unsafe_paths() {
        let mut results = results();
        let dir = run_dir(&results);
        // A PNG bigger than the budget is linked, not inlined.
        let big = dir
            .path()
            .join("artifacts/session-restore/virtual-ios/4/before-quit.png");
        let mut bytes = tiny_png();
        bytes.resize(IMAGE_BUDGET as usize + 1, 0);
        fs::write(&big, bytes).unwrap();
        // Paths leaving the run directory or with a scheme are neither read nor linked.
        results.cases[4].artifacts.push("../../etc/passwd".to_string());
        results.cases[4].artifacts.push("https://example.com/x.png".to_string());
        results.cases[4].artifacts.push("/etc/hostname".to_string());
        results.cases[4].artifacts.push("javascript:alert(1)".to_string());
        results.cases[4].artifacts.push("artifacts/a b\"<c>.png".to_string());
        let html = html_report(&results, Some(dir.path()));
        let case = case_html(&html, 3);
        assert!(case.contains("<img src=\"artifacts/session-restore/virtual-ios/4/before-quit.png\""));
        for bad in [
            "href=\"../",
            "href=\"https:",
            "href=\"/etc",
            "href=\"javascript:",
            "src=\"http",
        ] {
            assert!(!html.contains(bad), "{bad}");
        }
        assert!(html.contains("<code>https://example.com/x.png</code> <span class=\"muted\">(not a relative path)"));
        assert!(
            html.contains(
                "<a href=\"artifacts/a%20b%22%3Cc%3E.png\"><code>artifacts/a b&quot;&lt;c&gt;.png</code></a>"
            )
        );

        // write_html: atomic, next to the results.
        let path = write_html(dir.path(), &results).unwrap();
        assert_eq!(path, dir.path().join(HTML_FILE));
        assert!(fs::read_to_string(&path).unwrap().contains("id=\"verdict\""));
        assert!(!dir.path().join(".index.html.tmp").exists());
    }

    #[test]
    fn size_stays_reasonable_for_many_cases() {
        let mut results = results();
        let template = results.cases.clone();
        for n in 0..10 {
            for c in &template {
                let mut c = c.clone();
                c.iteration += 11 * (n + 1);
                results.cases.push(c);
            }
        }
        assert!(results.cases.len() > 200);
        let html = html_report(&results, None);
        assert!(html.len() < 2_000_000, "{} bytes", html.len());
    }

    #[test]
    fn helpers() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_735_732_800), "2025-01-01 12:00:00 UTC");
        assert_eq!(short_digest("sha256:0123456789abcdef"), "sha256:0123456789ab…");
        assert_eq!(short_digest("abc"), "abc");
        assert_eq!(
            esc("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        assert!(safe_relative("artifacts/x.png") && safe_relative("./x.png"));
        assert!(!safe_relative("C:/x") && !safe_relative("a/../../b") && !safe_relative(""));
        assert_eq!(p_value(0.0001), "&lt; 0.001");
    }
}
