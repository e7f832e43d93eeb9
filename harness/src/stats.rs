//! Statistics over run results: how sure we are that a pass rate is what it looks like.
//!
//! Everything here is a pure function of its inputs, in plain `f64`, with no dependencies:
//!
//! - [`wilson`]: the Wilson score confidence interval for a pass rate.
//! - [`fisher_exact_two_sided`]: Fisher's exact test on a 2×2 table (computed in log space,
//!   so tables with n up to 100,000 and p-values far below 1e-30 are fine).
//! - [`percentile`] and [`Timing`]: nearest-rank percentiles of restore times.
//! - [`Sprt`]: Wald's sequential probability ratio test, which `--until-confident` uses to
//!   stop iterating as soon as "is the pass rate below the threshold?" has an answer.
//! - [`cell_stats`]: per flow × device summaries of a [`RunResults`].
//! - [`platform_comparisons`]: iOS vs Android pass rates per flow, with Fisher's p.
//! - [`regressions`]: cells whose pass rate changed significantly against a baseline.
//!
//! Pass rates are always over *decisive* runs: passed (including flaky) plus failed. Errors
//! are infrastructure, skips were never run; neither says anything about the app.

use serde::Serialize;

use crate::results::{Outcome, RunResults};

/// The two-sided 95 % standard normal quantile, Φ⁻¹(0.975).
pub const Z95: f64 = 1.959963984540054;

/// Significance level used by [`platform_comparisons`] and [`regressions`].
pub const SIGNIFICANCE: f64 = 0.05;

/// A closed interval of proportions, `low ≤ high`, both in [0, 1].
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

/// The Wilson score interval for `successes` out of `n` Bernoulli trials at normal quantile
/// `z` (use [`Z95`] for 95 %).
///
/// Unlike the Wald interval it behaves at 0/n and n/n and for small n. With `n = 0` nothing
/// is known and the interval is [0, 1]. `successes` above `n` is clamped to `n`.
pub fn wilson(successes: u64, n: u64, z: f64) -> Interval {
    if n == 0 {
        return Interval { low: 0.0, high: 1.0 };
    }
    let nf = n as f64;
    let p = successes.min(n) as f64 / nf;
    let z2 = z * z;
    let denom = 1.0 + z2 / nf;
    let center = (p + z2 / (2.0 * nf)) / denom;
    let half = z / denom * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
    // At 0/n and n/n the bound is exactly 0 or 1; rounding would leave it a hair off.
    let low = if successes == 0 {
        0.0
    } else {
        (center - half).clamp(0.0, 1.0)
    };
    let high = if successes >= n {
        1.0
    } else {
        (center + half).clamp(0.0, 1.0)
    };
    Interval { low, high }
}

/// ln(n!), exact summation for small n, Stirling's series beyond (absolute error < 1e-14).
fn ln_factorial(n: u64) -> f64 {
    if n < 32 {
        return (2..=n).map(|k| (k as f64).ln()).sum();
    }
    let x = n as f64;
    let x2 = x * x;
    // ln n! = n ln n − n + ½ ln(2πn) + 1/(12n) − 1/(360n³) + 1/(1260n⁵) − 1/(1680n⁷)
    x * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI * x).ln() + 1.0 / (12.0 * x) - 1.0 / (360.0 * x * x2)
        + 1.0 / (1260.0 * x * x2 * x2)
        - 1.0 / (1680.0 * x * x2 * x2 * x2)
}

/// ln of the binomial coefficient C(n, k), `k ≤ n`.
fn ln_choose(n: u64, k: u64) -> f64 {
    ln_factorial(n) - ln_factorial(k) - ln_factorial(n - k)
}

/// Two-sided p-value of Fisher's exact test for the 2×2 table `[[a, b], [c, d]]`.
///
/// Conditioning on the margins, the top-left cell is hypergeometric; the p-value is the sum
/// of the probabilities of all tables with the same margins that are no more likely than the
/// observed one. As R's `fisher.test` does, "no more likely" allows a relative tolerance of
/// 1e-7 so that tables tied with the observed one in exact arithmetic are not lost to
/// rounding. Probabilities are computed as log-factorials and summed relative to the
/// largest term, so nothing overflows and tiny p-values underflow at worst to 0, never NaN.
/// A table with an empty row or column returns 1.
pub fn fisher_exact_two_sided(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let row1 = a + b;
    let row2 = c + d;
    let col1 = a + c;
    let n = row1 + row2;
    if row1 == 0 || row2 == 0 || col1 == 0 || col1 == n {
        return 1.0;
    }
    let ln_total = ln_choose(n, col1);
    let ln_p = |x: u64| ln_choose(row1, x) + ln_choose(row2, col1 - x) - ln_total;
    let lo = col1.saturating_sub(row2);
    let hi = row1.min(col1);
    let observed = ln_p(a);
    let cutoff = observed + (1.0 + 1e-7f64).ln();
    let logs: Vec<f64> = (lo..=hi).map(ln_p).filter(|&l| l <= cutoff).collect();
    let Some(max) = logs.iter().copied().reduce(f64::max) else {
        return 1.0;
    };
    let scaled: f64 = logs.iter().map(|&l| (l - max).exp()).sum();
    (max + scaled.ln()).exp().clamp(0.0, 1.0)
}

/// The nearest-rank `p`-th percentile (`p` in percent, 0–100) of an ascending slice: the
/// value at rank ⌈p/100 · n⌉ (at least rank 1). `None` when the slice is empty or `p` is
/// outside [0, 100] or NaN.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() || !(0.0..=100.0).contains(&p) {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

/// Nearest-rank summary of durations (milliseconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Timing {
    pub p50: u64,
    pub p90: u64,
    pub max: u64,
    /// How many values were summarised.
    pub n: u64,
}

impl Timing {
    /// Summarises values in any order; `None` for an empty slice.
    pub fn from_values(values: &[u64]) -> Option<Timing> {
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        Some(Timing {
            p50: percentile(&sorted, 50.0)?,
            p90: percentile(&sorted, 90.0)?,
            max: *sorted.last()?,
            n: sorted.len() as u64,
        })
    }
}

/// What a [`Sprt`] concludes after an observation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Decision {
    /// Not enough evidence yet: run another iteration.
    Continue,
    /// The pass rate is at most `p0` (for `--until-confident`: below the threshold).
    AcceptH0,
    /// The pass rate is at least `p1` (for `--until-confident`: at or above the threshold).
    AcceptH1,
}

/// Wald's sequential probability ratio test for a Bernoulli pass rate, deciding between
/// H0: rate ≤ `p0` and H1: rate ≥ `p1` (`p0 < p1`) with error rates α (accepting H1 when H0
/// holds) and β (accepting H0 when H1 holds).
///
/// Each observation adds ln(p1/p0) for a pass or ln((1−p1)/(1−p0)) for a failure to the
/// log-likelihood ratio; the test accepts H0 once it falls to ln(β/(1−α)) and H1 once it
/// reaches ln((1−β)/α). Once decided, the decision sticks and further updates are ignored.
///
/// **How `--until-confident` uses it.** The question is "is the pass rate below the
/// threshold `t`?". Rates very close to `t` cannot be told apart in any sensible number of
/// runs, so the user (or a default) picks an indifference half-width δ and the test runs
/// between p0 = t − δ and p1 = t + δ (see [`Sprt::threshold`]): each iteration's outcome
/// (passed or flaky → `true`, failed → `false`; errors and skips are not fed) goes to
/// [`Sprt::update`], iterations stop at the first decision other than
/// [`Decision::Continue`], [`Decision::AcceptH0`] reads "below the threshold" and
/// [`Decision::AcceptH1`] "at or above", and an iteration cap bounds the rare long run
/// inside the indifference region (reported as undecided).
#[derive(Clone, Debug, PartialEq)]
pub struct Sprt {
    p0: f64,
    p1: f64,
    pass_step: f64,
    fail_step: f64,
    lower: f64,
    upper: f64,
    llr: f64,
    n: u64,
    decision: Decision,
}

impl Sprt {
    /// A test of H0: rate ≤ `p0` against H1: rate ≥ `p1`. Requires 0 < p0 < p1 < 1 and
    /// α, β in (0, 1) with α + β < 1.
    pub fn new(p0: f64, p1: f64, alpha: f64, beta: f64) -> Result<Sprt, String> {
        if !(p0 > 0.0 && p0 < p1 && p1 < 1.0) {
            return Err(format!("sprt needs 0 < p0 < p1 < 1, got p0 = {p0}, p1 = {p1}"));
        }
        if !(alpha > 0.0 && beta > 0.0 && alpha + beta < 1.0) {
            return Err(format!(
                "sprt needs alpha, beta > 0 with alpha + beta < 1, got alpha = {alpha}, beta = {beta}"
            ));
        }
        Ok(Sprt {
            p0,
            p1,
            pass_step: (p1 / p0).ln(),
            fail_step: ((1.0 - p1) / (1.0 - p0)).ln(),
            lower: (beta / (1.0 - alpha)).ln(),
            upper: ((1.0 - beta) / alpha).ln(),
            llr: 0.0,
            n: 0,
            decision: Decision::Continue,
        })
    }

    /// "Is the pass rate below `threshold`?" with indifference region
    /// [`threshold − delta`, `threshold + delta`]: `new(threshold − delta, threshold + delta, ..)`.
    pub fn threshold(threshold: f64, delta: f64, alpha: f64, beta: f64) -> Result<Sprt, String> {
        Sprt::new(threshold - delta, threshold + delta, alpha, beta)
    }

    /// Feeds one outcome and returns the decision so far.
    pub fn update(&mut self, passed: bool) -> Decision {
        if self.decision != Decision::Continue {
            return self.decision;
        }
        self.n += 1;
        self.llr += if passed { self.pass_step } else { self.fail_step };
        if self.llr <= self.lower {
            self.decision = Decision::AcceptH0;
        } else if self.llr >= self.upper {
            self.decision = Decision::AcceptH1;
        }
        self.decision
    }

    /// The current decision.
    pub fn decision(&self) -> Decision {
        self.decision
    }

    /// Observations used (those after a decision are not counted).
    pub fn observations(&self) -> u64 {
        self.n
    }

    /// The current log-likelihood ratio ln(L(p1)/L(p0)).
    pub fn log_likelihood_ratio(&self) -> f64 {
        self.llr
    }

    /// The hypotheses' rates `(p0, p1)`.
    pub fn rates(&self) -> (f64, f64) {
        (self.p0, self.p1)
    }
}

/// Summary of one flow × device.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CellStats {
    pub flow: String,
    pub device: String,
    /// Platform of the cell's first case (`iOS` or `Android`).
    pub platform: String,
    /// All cases, whatever the outcome.
    pub runs: u64,
    /// Passed plus flaky.
    pub passed: u64,
    pub failed: u64,
    pub errors: u64,
    /// Also counted in `passed`.
    pub flaky: u64,
    pub skipped: u64,
    /// `passed / (passed + failed)`; `None` when no case was decisive.
    pub pass_rate: Option<f64>,
    /// Wilson 95 % interval of `pass_rate`.
    pub interval: Option<Interval>,
    /// `restore_ms` of passed and flaky cases that measured it.
    pub timing: Option<Timing>,
    /// `cold_launch_ms` of the same cases (Android `am start -W`), when the backend measured it.
    pub launch: Option<Timing>,
    /// Causes of any case that has one, by count descending, then name.
    pub causes: Vec<(String, u64)>,
}

impl CellStats {
    /// Decisive runs: passed (with flaky) plus failed, the pass rate's denominator.
    pub fn decisive(&self) -> u64 {
        self.passed + self.failed
    }
}

/// Groups cases by (flow, device), in order of first appearance, and summarises each group.
pub fn cell_stats(results: &RunResults) -> Vec<CellStats> {
    // Per cell: its counts, and the restore and cold-launch times of its passing cases.
    type Times = (Vec<u64>, Vec<u64>);
    let mut cells: Vec<(CellStats, Times)> = Vec::new();
    for case in &results.cases {
        let index = match cells
            .iter()
            .position(|(c, _)| c.flow == case.flow && c.device == case.device)
        {
            Some(i) => i,
            None => {
                cells.push((
                    CellStats {
                        flow: case.flow.clone(),
                        device: case.device.clone(),
                        platform: case.platform.clone(),
                        runs: 0,
                        passed: 0,
                        failed: 0,
                        errors: 0,
                        flaky: 0,
                        skipped: 0,
                        pass_rate: None,
                        interval: None,
                        timing: None,
                        launch: None,
                        causes: Vec::new(),
                    },
                    (Vec::new(), Vec::new()),
                ));
                cells.len() - 1
            }
        };
        let (cell, (restores, launches)) = &mut cells[index];
        cell.runs += 1;
        match case.outcome {
            Outcome::Passed => cell.passed += 1,
            Outcome::Flaky => {
                cell.passed += 1;
                cell.flaky += 1;
            }
            Outcome::Failed => cell.failed += 1,
            Outcome::Error => cell.errors += 1,
            Outcome::Skipped => cell.skipped += 1,
        }
        if matches!(case.outcome, Outcome::Passed | Outcome::Flaky)
            && let Some(ms) = case.restore_ms
        {
            restores.push(ms);
        }
        if matches!(case.outcome, Outcome::Passed | Outcome::Flaky)
            && let Some(ms) = case.cold_launch_ms
        {
            launches.push(ms);
        }
        if let Some(cause) = &case.cause {
            match cell.causes.iter_mut().find(|(name, _)| name == cause) {
                Some((_, count)) => *count += 1,
                None => cell.causes.push((cause.clone(), 1)),
            }
        }
    }
    cells
        .into_iter()
        .map(|(mut cell, (restores, launches))| {
            let decisive = cell.decisive();
            if decisive > 0 {
                cell.pass_rate = Some(cell.passed as f64 / decisive as f64);
                cell.interval = Some(wilson(cell.passed, decisive, Z95));
            }
            cell.timing = Timing::from_values(&restores);
            cell.launch = Timing::from_values(&launches);
            cell.causes.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
            cell
        })
        .collect()
}

/// iOS against Android for one flow.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    pub flow: String,
    /// The iOS device, or several joined with ", " when pooled.
    pub ios_device: String,
    /// The Android device, or several joined with ", " when pooled.
    pub android_device: String,
    /// (passed, decisive runs) on iOS.
    pub ios: (u64, u64),
    /// (passed, decisive runs) on Android.
    pub android: (u64, u64),
    /// Android pass rate minus iOS pass rate.
    pub difference: f64,
    /// Fisher's exact two-sided p on passes vs failures.
    pub p_value: f64,
    /// `p_value < 0.05`.
    pub significant: bool,
}

fn is_platform(cell: &CellStats, name: &str) -> bool {
    cell.platform.eq_ignore_ascii_case(name)
}

/// For every flow (in first-appearance order) with at least one iOS and one Android cell,
/// compares the platforms' pass rates; several devices of a platform are pooled. Flows where
/// either platform has no decisive run are left out.
pub fn platform_comparisons(cells: &[CellStats]) -> Vec<Comparison> {
    let mut flows: Vec<&str> = Vec::new();
    for cell in cells {
        if !flows.contains(&cell.flow.as_str()) {
            flows.push(&cell.flow);
        }
    }
    let pool = |flow: &str, platform: &str| {
        let mut devices: Vec<&str> = Vec::new();
        let (mut passed, mut decisive) = (0, 0);
        for cell in cells.iter().filter(|c| c.flow == flow && is_platform(c, platform)) {
            if !devices.contains(&cell.device.as_str()) {
                devices.push(&cell.device);
            }
            passed += cell.passed;
            decisive += cell.decisive();
        }
        (devices.join(", "), passed, decisive)
    };
    flows
        .into_iter()
        .filter_map(|flow| {
            let (ios_device, ios_passed, ios_runs) = pool(flow, "iOS");
            let (android_device, android_passed, android_runs) = pool(flow, "Android");
            if ios_runs == 0 || android_runs == 0 {
                return None;
            }
            let p_value = fisher_exact_two_sided(
                ios_passed,
                ios_runs - ios_passed,
                android_passed,
                android_runs - android_passed,
            );
            Some(Comparison {
                flow: flow.to_string(),
                ios_device,
                android_device,
                ios: (ios_passed, ios_runs),
                android: (android_passed, android_runs),
                difference: android_passed as f64 / android_runs as f64 - ios_passed as f64 / ios_runs as f64,
                p_value,
                significant: p_value < SIGNIFICANCE,
            })
        })
        .collect()
}

/// Which way a cell's pass rate moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ChangeKind {
    Regression,
    Improvement,
}

/// A significant change of one cell's pass rate against a baseline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    pub flow: String,
    pub device: String,
    /// (passed, decisive runs) in the baseline.
    pub base: (u64, u64),
    /// (passed, decisive runs) now.
    pub now: (u64, u64),
    pub p_value: f64,
    pub kind: ChangeKind,
}

/// Cells of `now` (in its order) whose pass rate differs from the same flow × device in
/// `base` with Fisher's two-sided p < 0.05. Cells missing from the baseline, or without a
/// decisive run on either side, are not changes.
pub fn regressions(base: &[CellStats], now: &[CellStats]) -> Vec<Change> {
    now.iter()
        .filter_map(|cur| {
            let old = base.iter().find(|b| b.flow == cur.flow && b.device == cur.device)?;
            let (old_n, cur_n) = (old.decisive(), cur.decisive());
            if old_n == 0 || cur_n == 0 {
                return None;
            }
            let p_value = fisher_exact_two_sided(old.passed, old.failed, cur.passed, cur.failed);
            if p_value >= SIGNIFICANCE {
                return None;
            }
            // Compare old.passed / old_n with cur.passed / cur_n exactly, in integers.
            let kind = if (cur.passed as u128) * (old_n as u128) < (old.passed as u128) * (cur_n as u128) {
                ChangeKind::Regression
            } else {
                ChangeKind::Improvement
            };
            Some(Change {
                flow: cur.flow.clone(),
                device: cur.device.clone(),
                base: (old.passed, old_n),
                now: (cur.passed, cur_n),
                p_value,
                kind,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::CaseResult;
    use crate::rng::Rng;

    fn close(actual: f64, expected: f64, tol: f64) {
        assert!(
            (actual - expected).abs() <= tol,
            "expected {expected} ± {tol}, got {actual}"
        );
    }

    // Wilson 95 % intervals. 81/263 → 0.2553–0.3662 is Newcombe (1998), "Two-sided confidence
    // intervals for the single proportion: comparison of seven methods", Stat. Med. 17:857–872,
    // Table II, method 3 (score interval without continuity correction). 0/10 → 0–0.2775 and
    // 5/10 → 0.2366–0.7634 are the usual tabulated Wilson values (what R's
    // `prop.test(x, n, correct = FALSE)$conf.int` prints), re-derived by hand from the closed
    // form: 0/10 high = 0.38415 / 1.38415. Quoted to 4 decimals: tolerance 5e-5.
    #[test]
    fn wilson_matches_published_intervals() {
        let cases = [(0, 10, 0.0, 0.2775), (5, 10, 0.2366, 0.7634), (81, 263, 0.2553, 0.3662)];
        for (k, n, low, high) in cases {
            let i = wilson(k, n, Z95);
            close(i.low, low, 5e-5);
            close(i.high, high, 5e-5);
        }
        assert_eq!(wilson(0, 0, Z95), Interval { low: 0.0, high: 1.0 });
        let all = wilson(10, 10, Z95);
        close(all.low, 1.0 - 0.2775, 5e-5);
        assert_eq!(all.high, 1.0);
    }

    #[test]
    fn ln_factorial_is_continuous_at_the_switch() {
        // Exact sums against the series, both sides of n = 32: tolerance 1e-10 absolute.
        for n in 28..40u64 {
            let exact: f64 = (2..=n).map(|k| (k as f64).ln()).sum();
            close(ln_factorial(n), exact, 1e-10);
        }
        // ln(100000!) = 1051299.2218991218 (Stirling to 1e-9, cross-checked with lgamma).
        close(ln_factorial(100_000), 1_051_299.221_899_121_8, 1e-6);
    }

    // Fisher's exact test, two-sided, published to 4 significant figures: tolerance 5e-5
    // relative to the quoted digits.
    #[test]
    fn fisher_matches_published_p_values() {
        // Fisher (1935), The Design of Experiments, the lady tasting tea: p = 34/70 = 0.4857.
        close(fisher_exact_two_sided(3, 1, 1, 3), 34.0 / 70.0, 1e-12);
        close(fisher_exact_two_sided(3, 1, 1, 3), 0.4857, 5e-5);
        // Wikipedia, "Fisher's exact test" (men/women × studying/not): p = 0.002759, as R's
        // `fisher.test(matrix(c(1, 11, 9, 3), 2))`.
        close(fisher_exact_two_sided(1, 9, 11, 3), 0.002759, 5e-7);
    }

    #[test]
    fn fisher_handles_extremes() {
        // [[30, 70], [100, 0]]: exactly 5.770030e-30 (the sum of hypergeometric terms in exact
        // integer arithmetic, Python `math.comb`); 1e-8 relative tolerance.
        let tiny = fisher_exact_two_sided(30, 70, 100, 0);
        assert!(tiny.is_finite() && tiny > 0.0, "got {tiny}");
        close(tiny / 5.770_030_270_792_086e-30, 1.0, 1e-8);
        // Far beyond f64's range of normal numbers: underflows to 0 at worst, never NaN.
        let smaller = fisher_exact_two_sided(0, 50_000, 50_000, 0);
        assert!(smaller.is_finite() && (0.0..1e-300).contains(&smaller), "got {smaller}");
        for (a, b) in [(0, 0), (5, 5), (7, 3), (1000, 20), (40_000, 10_000)] {
            close(fisher_exact_two_sided(a, b, a, b), 1.0, 1e-9);
        }
        assert_eq!(fisher_exact_two_sided(0, 0, 3, 4), 1.0);
        assert_eq!(fisher_exact_two_sided(3, 0, 4, 0), 1.0);
        // n = 100,000, nearly equal rates: finite and in range.
        let big = fisher_exact_two_sided(24_000, 26_000, 25_000, 25_000);
        assert!(big.is_finite() && (0.0..=1.0).contains(&big), "got {big}");
        assert!(
            big < 1e-5,
            "a 2-point difference at n = 100,000 is significant, got {big}"
        );
    }

    // Nearest-rank examples from Wikipedia, "Percentile" (15, 20, 35, 40, 50).
    #[test]
    fn percentile_nearest_rank() {
        let v = [15, 20, 35, 40, 50];
        assert_eq!(percentile(&v, 5.0), Some(15));
        assert_eq!(percentile(&v, 30.0), Some(20));
        assert_eq!(percentile(&v, 40.0), Some(20));
        assert_eq!(percentile(&v, 50.0), Some(35));
        assert_eq!(percentile(&v, 100.0), Some(50));
        assert_eq!(percentile(&v, 0.0), Some(15));
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&v, 101.0), None);
        assert_eq!(percentile(&v, f64::NAN), None);
        let t = Timing::from_values(&[900, 100, 300, 200, 1000, 500, 400, 700, 600, 800]).unwrap();
        assert_eq!(
            t,
            Timing {
                p50: 500,
                p90: 900,
                max: 1000,
                n: 10
            }
        );
        assert_eq!(Timing::from_values(&[]), None);
    }

    fn run_sprt(sprt: &mut Sprt, rate: f64, seed: u64, cap: u64) -> Decision {
        let mut rng = Rng::new(seed);
        for _ in 0..cap {
            let d = sprt.update(rng.bernoulli(rate));
            if d != Decision::Continue {
                return d;
            }
        }
        Decision::Continue
    }

    #[test]
    fn sprt_answers_below_and_above_a_threshold() {
        // Threshold 0.9 with δ = 0.05: p0 = 0.85, p1 = 0.95, α = β = 0.05. Bounds ±ln 19 ≈ ±2.94;
        // a failure moves ln(0.05/0.15) ≈ −1.10, a pass ln(0.95/0.85) ≈ +0.11.
        for seed in 0..20 {
            let mut low = Sprt::threshold(0.9, 0.05, 0.05, 0.05).unwrap();
            assert_eq!(run_sprt(&mut low, 0.30, seed, 1000), Decision::AcceptH0, "seed {seed}");
            assert!(low.observations() <= 8, "seed {seed}: {} runs", low.observations());

            let mut high = Sprt::threshold(0.9, 0.05, 0.05, 0.05).unwrap();
            assert_eq!(run_sprt(&mut high, 0.99, seed, 1000), Decision::AcceptH1, "seed {seed}");
            assert!(high.observations() <= 80, "seed {seed}: {} runs", high.observations());
        }
        // All failures with p0 = 0.5, p1 = 0.7: each failure adds ln(0.3/0.5) ≈ −0.51, the lower
        // bound is ln(0.05/0.95) ≈ −2.94, so H0 ("at most 0.5") after exactly 6 failures.
        let mut s = Sprt::new(0.5, 0.7, 0.05, 0.05).unwrap();
        let decisions: Vec<Decision> = (0..6).map(|_| s.update(false)).collect();
        assert_eq!(decisions[..5], [Decision::Continue; 5]);
        assert_eq!(decisions[5], Decision::AcceptH0);
        // Sticky.
        assert_eq!(s.update(true), Decision::AcceptH0);
        assert_eq!(s.observations(), 6);
        assert!(Sprt::new(0.7, 0.5, 0.05, 0.05).is_err());
        assert!(Sprt::new(0.5, 0.7, 0.6, 0.5).is_err());
    }

    fn case(
        flow: &str,
        device: &str,
        platform: &str,
        outcome: Outcome,
        cause: Option<&str>,
        restore: Option<u64>,
    ) -> CaseResult {
        CaseResult {
            flow: flow.into(),
            flow_file: format!("{flow}.yaml"),
            device: device.into(),
            platform: platform.into(),
            iteration: 1,
            outcome,
            diagnosis: None,
            cause: cause.map(str::to_string),
            message: None,
            duration_ms: 1000,
            attempts: 1,
            attempt_history: Vec::new(),
            steps: Vec::new(),
            snapshots: Vec::new(),
            restore_ms: restore,
            cold_launch_ms: restore.map(|ms| ms / 2),
            artifacts: Vec::new(),
            seed: 0,
        }
    }

    fn results(cases: Vec<CaseResult>) -> RunResults {
        RunResults {
            run_id: "test".into(),
            harness_version: "0".into(),
            started_at_ms: 0,
            duration_ms: 0,
            seed: 0,
            shard: None,
            cases,
        }
    }

    /// iOS passes 3 of 10 (7 failures of two causes, plus an error and a skip);
    /// Android passes 10 of 10 (one of them flaky).
    fn sample() -> RunResults {
        let mut cases = Vec::new();
        for i in 0..10u64 {
            let (outcome, cause) = match i {
                0..3 => (Outcome::Passed, None),
                3..5 => (Outcome::Failed, Some("convex-stale-auth")),
                _ => (Outcome::Failed, Some("sdk-restoration")),
            };
            cases.push(case("restore", "iphone-15", "iOS", outcome, cause, Some(100 * (i + 1))));
            let outcome = if i == 9 { Outcome::Flaky } else { Outcome::Passed };
            cases.push(case("restore", "pixel-8", "Android", outcome, None, Some(50 + i)));
        }
        cases.push(case(
            "restore",
            "iphone-15",
            "iOS",
            Outcome::Error,
            Some("appium-down"),
            None,
        ));
        cases.push(case("restore", "iphone-15", "iOS", Outcome::Skipped, None, None));
        cases.push(case("login", "pixel-8", "Android", Outcome::Passed, None, None));
        results(cases)
    }

    #[test]
    fn cell_stats_groups_and_counts() {
        let cells = cell_stats(&sample());
        assert_eq!(cells.len(), 3);
        let ios = &cells[0];
        assert_eq!(
            (ios.flow.as_str(), ios.device.as_str(), ios.platform.as_str()),
            ("restore", "iphone-15", "iOS")
        );
        assert_eq!(
            (ios.runs, ios.passed, ios.failed, ios.errors, ios.flaky, ios.skipped),
            (12, 3, 7, 1, 0, 1)
        );
        close(ios.pass_rate.unwrap(), 0.3, 1e-12);
        let i = ios.interval.unwrap();
        assert_eq!(i, wilson(3, 10, Z95));
        // Only passed cases' restore times: 100, 200, 300.
        assert_eq!(
            ios.timing,
            Some(Timing {
                p50: 200,
                p90: 300,
                max: 300,
                n: 3
            })
        );
        // Cold launches are summarised from the same (passed) cases.
        assert_eq!(ios.launch.map(|t| (t.p50, t.max, t.n)), Some((100, 150, 3)));
        assert_eq!(
            ios.causes,
            vec![
                ("sdk-restoration".to_string(), 5),
                ("convex-stale-auth".to_string(), 2),
                ("appium-down".to_string(), 1)
            ]
        );
        let android = &cells[1];
        assert_eq!(
            (android.device.as_str(), android.runs, android.passed, android.flaky),
            ("pixel-8", 10, 10, 1)
        );
        assert_eq!(android.pass_rate, Some(1.0));
        assert_eq!(android.timing.map(|t| (t.p50, t.max, t.n)), Some((54, 59, 10)));
        assert_eq!((cells[2].flow.as_str(), cells[2].runs), ("login", 1));
    }

    #[test]
    fn platforms_compared_per_flow() {
        let cells = cell_stats(&sample());
        let cmp = platform_comparisons(&cells);
        // `login` has no iOS cell.
        assert_eq!(cmp.len(), 1);
        let c = &cmp[0];
        assert_eq!(
            (c.ios_device.as_str(), c.android_device.as_str()),
            ("iphone-15", "pixel-8")
        );
        assert_eq!((c.ios, c.android), ((3, 10), (10, 10)));
        close(c.difference, 0.7, 1e-12);
        // [[3, 7], [10, 0]]: the two extreme tables each have probability 120/77520.
        close(c.p_value, 240.0 / 77_520.0, 1e-12);
        assert!(c.significant);

        // A second Android device is pooled.
        let mut r = sample();
        r.cases
            .push(case("restore", "galaxy-s24", "Android", Outcome::Failed, None, None));
        let cmp = platform_comparisons(&cell_stats(&r));
        assert_eq!(cmp[0].android_device, "pixel-8, galaxy-s24");
        assert_eq!(cmp[0].android, (10, 11));
    }

    #[test]
    fn regressions_need_significance_and_a_baseline() {
        let base = cell_stats(&sample());
        // Now: iOS recovered to 10/10, Android fell to 3/10, login unchanged, a new cell.
        let mut cases = Vec::new();
        for i in 0..10 {
            cases.push(case("restore", "iphone-15", "iOS", Outcome::Passed, None, None));
            let outcome = if i < 3 { Outcome::Passed } else { Outcome::Failed };
            cases.push(case("restore", "pixel-8", "Android", outcome, None, None));
            cases.push(case("restore", "new-device", "Android", Outcome::Failed, None, None));
        }
        cases.push(case("login", "pixel-8", "Android", Outcome::Failed, None, None));
        let now = cell_stats(&results(cases));
        let changes = regressions(&base, &now);
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert_eq!(
            (changes[0].device.as_str(), changes[0].kind),
            ("iphone-15", ChangeKind::Improvement)
        );
        assert_eq!((changes[0].base, changes[0].now), ((3, 10), (10, 10)));
        assert_eq!(
            (changes[1].device.as_str(), changes[1].kind),
            ("pixel-8", ChangeKind::Regression)
        );
        assert!(changes.iter().all(|c| c.p_value < 0.05));
        // login 1/1 → 0/1 is not significant; new-device has no baseline.
        assert!(regressions(&base, &base).is_empty());
    }
}
