//! The samplers against their exact distributions: every time distribution of the scenario
//! format, the age distributions, background mortality and every categorical draw.
//!
//! - **Kolmogorov–Smirnov** for continuous draws: n = 100 000 draws (the first draw of each of
//!   100 000 keyed streams, as the engine uses them), compared with the exact CDF from `statrs`
//!   or a closed form. The test rejects when `D_n > c(α) / √n` with `c(0.001) = 1.9495`, the
//!   0.999 quantile of the asymptotic Kolmogorov distribution: with n = 100 000 the critical
//!   value is 0.006165, and a correct sampler fails 1 time in 1000 per test (the seeds are
//!   fixed, so a pass is reproducible).
//! - **Chi-square goodness of fit** for categorical draws, n = 100 000, critical value
//!   `ChiSquared(df).inverse_cdf(0.999)` with df = categories - 1 (categories of probability 0
//!   are left out of the statistic and must never be drawn).
//! - **Pinned first draws** (value stability): the first draws for a fixed seed, hard-coded.
//!
//! Every test prints its statistic and critical value (`cargo test -- --nocapture`).
//!
//! Each test was seen to fail when its target was deliberately broken in a copy of `src/`
//! (together with `closed_forms.rs`, 26 breakages), among them: the Weibull inverse with
//! `powf(shape)`, log-normal sigma x1.05, gamma rate read as scale, gamma shape x1.05, the cure
//! test reversed, the hazard ratio applied as `s^hr`, the Gompertz inverse without its slope,
//! life-table hazard q instead of -ln(1-q), the below-table branch on the wrong entry,
//! `Split::new` without running totals, `pick` never picking the last class, no truncation of the
//! normal age, the uniform age off by one, the CNS/EMD draws swapped (caught only by
//! `pinned_draw_order_of_attributes`), CD22 classes swapped, the salvage-line order wrong,
//! `bernoulli` inverted, the toxicity thresholds reordered or read as separate shares. Two
//! breakages that keep the distribution (gamma quantile at s instead of 1 - s; `u > 1 - p`) are
//! caught by the pinned draws only, as they should be: they change every published number.

use crate::common::compiled;
use crate::engine::{NO_BACKGROUND, scenario_text};
use allseq::dist::TimeDist;
use allseq::engine::{Cause, Event, Observer, Workspace, simulate};
use allseq::model::{Burden, Cd22, Grade, Model, Split, TherapyKind};
use allseq::patient::Attributes;
use allseq::rng::{ProcessKey, RunKey, Stream, bernoulli, stream, uniform};
use allseq::time::{DAYS_PER_MONTH, DAYS_PER_YEAR, Days};
use statrs::distribution::{ChiSquared, ContinuousCDF, Exp, Gamma, LogNormal, Normal, Weibull};

/// Draws per test.
const N: u64 = 100_000;

/// c(0.001): the 0.999 quantile of the asymptotic Kolmogorov distribution.
const KS_C_0001: f64 = 1.9495;

/// Supportive survival (one day) for scenarios that only test the population.
const ONE_DAY: &str = r#"{ dist = "fixed", value = 1.0, unit = "days" }"#;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A scenario from [`scenario_text`] with lines `key = ...` replaced by `key = value`.
fn model_with(supportive: &str, background: &str, set: &[(&str, &str)]) -> Model {
    let mut text = scenario_text("", "", "", supportive, background, "");
    for (key, value) in set {
        let prefix = format!("\n{key} = ");
        assert_eq!(text.matches(&prefix).count(), 1, "`{key}` must occur once");
        let start = text.find(&prefix).unwrap() + 1;
        let end = start + text[start..].find('\n').unwrap();
        text.replace_range(start..end, &format!("{key} = {value}"));
    }
    compiled(&text)
}

/// The compiled distribution of `spec` (TOML), read back from a parsed scenario's supportive
/// survival: the scenario parser, unit conversion and sampler are all under test.
fn parsed(spec: &str) -> TimeDist {
    let m = model_with(spec, NO_BACKGROUND, &[]);
    let bsc = m.therapies.iter().find(|t| t.name == "bsc").unwrap();
    match &bsc.kind {
        TherapyKind::Supportive(s) => s.survival.clone(),
        _ => unreachable!("bsc is supportive care"),
    }
}

/// The keyed streams of patients 0..N of run `seed` for process `name`; a test takes the first
/// draws of each, as the engine does for one patient.
fn streams(seed: u64, name: &str) -> impl Iterator<Item = Stream> {
    let run = RunKey::new(seed);
    let key = ProcessKey::new(name, "");
    (0..N).map(move |i| stream(run, i, key))
}

/// Draws of `dist` in days, one per stream; `None` (never) becomes +∞.
fn draws(dist: &TimeDist, seed: u64, hr: f64) -> Vec<f64> {
    streams(seed, "ks")
        .map(|mut s| {
            let d = if hr == 1.0 {
                dist.sample(&mut s)
            } else {
                dist.sample_hr(&mut s, hr)
            };
            d.map_or(f64::INFINITY, Days::get)
        })
        .collect()
}

/// The Kolmogorov–Smirnov statistic `D_n = sup_t |F_n(t) - F(t)|` of `x` against a
/// continuous `cdf`. Draws may be +∞ ("never"): `cdf(+∞)` must then return the left limit
/// `F(∞-) = 1 - P(never)`, and at +∞ itself both distribution functions are 1.
fn ks(mut x: Vec<f64>, cdf: impl Fn(f64) -> f64) -> f64 {
    x.sort_by(f64::total_cmp);
    let n = x.len() as f64;
    let mut d = 0.0f64;
    for (i, &xi) in x.iter().enumerate() {
        let f = cdf(xi);
        d = d.max(f - i as f64 / n);
        if xi.is_finite() {
            d = d.max((i + 1) as f64 / n - f);
        }
    }
    d
}

/// Asserts `D_n` below `c(0.001) / √n` and prints both.
fn assert_ks(what: &str, x: Vec<f64>, cdf: impl Fn(f64) -> f64) {
    let n = x.len();
    let crit = KS_C_0001 / (n as f64).sqrt();
    let d = ks(x, cdf);
    eprintln!("KS {what}: D_n = {d:.6}, critical {crit:.6} (n = {n})");
    assert!(d <= crit, "{what}: D_n = {d} > {crit} (n = {n})");
}

/// Pearson's chi-square statistic of `counts` against probabilities `p`, and its degrees of
/// freedom. A category of probability 0 must have no draws and does not count.
fn chi_square(counts: &[u64], p: &[f64]) -> (f64, usize) {
    assert_eq!(counts.len(), p.len());
    let n: u64 = counts.iter().sum();
    let mut stat = 0.0;
    let mut categories = 0;
    for (&o, &pi) in counts.iter().zip(p) {
        if pi == 0.0 {
            assert_eq!(o, 0, "a category of probability 0 was drawn");
            continue;
        }
        let e = n as f64 * pi;
        stat += (o as f64 - e).powi(2) / e;
        categories += 1;
    }
    (stat, categories - 1)
}

/// Asserts the chi-square statistic below `ChiSquared(df).inverse_cdf(0.999)` and prints both.
fn assert_chi_square(what: &str, counts: &[u64], p: &[f64]) {
    let (stat, df) = chi_square(counts, p);
    let crit = ChiSquared::new(df as f64).unwrap().inverse_cdf(0.999);
    eprintln!("chi-square {what}: {stat:.3}, critical {crit:.3} (df {df}, counts {counts:?})");
    assert!(
        stat <= crit,
        "{what}: chi-square {stat} > {crit} (df {df}); counts {counts:?}, p {p:?}"
    );
}

/// Counts of `n` outcomes in `0..k`.
fn tally(outcomes: impl Iterator<Item = usize>, k: usize) -> Vec<u64> {
    let mut c = vec![0u64; k];
    outcomes.for_each(|i| c[i] += 1);
    c
}

// ---------------------------------------------------------------------------------------------
// Time distributions: Kolmogorov–Smirnov against statrs
// ---------------------------------------------------------------------------------------------

#[test]
fn ks_exponential() {
    let d = parsed(r#"{ dist = "exponential", mean = 4.0, unit = "months" }"#);
    let exact = Exp::new(1.0 / (4.0 * DAYS_PER_MONTH)).unwrap();
    assert_ks("exponential(mean 4 months)", draws(&d, 101, 1.0), |t| {
        exact.cdf(t)
    });
}

#[test]
fn ks_weibull_shape_below_1() {
    let d = parsed(r#"{ dist = "weibull", shape = 0.6, scale = 50.0, unit = "days" }"#);
    let exact = Weibull::new(0.6, 50.0).unwrap();
    assert_ks("weibull(0.6, 50 d)", draws(&d, 102, 1.0), |t| exact.cdf(t));
}

#[test]
fn ks_weibull_shape_above_1() {
    let d = parsed(r#"{ dist = "weibull", shape = 1.8, scale = 2.0, unit = "years" }"#);
    let exact = Weibull::new(1.8, 2.0 * DAYS_PER_YEAR).unwrap();
    assert_ks("weibull(1.8, 2 y)", draws(&d, 103, 1.0), |t| exact.cdf(t));
}

#[test]
fn ks_lognormal() {
    let d = parsed(r#"{ dist = "lognormal", median = 5.0, sigma = 0.8, unit = "weeks" }"#);
    let exact = LogNormal::new(35.0f64.ln(), 0.8).unwrap();
    assert_ks(
        "lognormal(median 5 w, sigma 0.8)",
        draws(&d, 104, 1.0),
        |t| exact.cdf(t),
    );
}

#[test]
fn ks_gamma_shape_below_1() {
    let d = parsed(r#"{ dist = "gamma", shape = 0.5, scale = 20.0, unit = "days" }"#);
    let exact = Gamma::new(0.5, 1.0 / 20.0).unwrap();
    assert_ks("gamma(0.5, 20 d)", draws(&d, 105, 1.0), |t| exact.cdf(t));
}

#[test]
fn ks_gamma_shape_above_1() {
    let d = parsed(r#"{ dist = "gamma", shape = 3.0, scale = 2.0, unit = "weeks" }"#);
    let exact = Gamma::new(3.0, 1.0 / 14.0).unwrap();
    assert_ks("gamma(3, 2 w)", draws(&d, 106, 1.0), |t| exact.cdf(t));
}

const MIXTURE: &str = r#"{ dist = "mixture_cure", cure_fraction = 0.3, uncured = { dist = "weibull", shape = 1.2, scale = 9.0, unit = "months" } }"#;

/// [`MIXTURE`] with a cure fraction of 0.55.
const MIXTURE_MOSTLY_CURED: &str = r#"{ dist = "mixture_cure", cure_fraction = 0.55, uncured = { dist = "weibull", shape = 1.2, scale = 9.0, unit = "months" } }"#;

#[test]
fn ks_mixture_cure() {
    // F(t) = (1 - cure) F_uncured(t); a "never" draw counts as +∞, and the left limit of F at
    // +∞ is 1 - cure.
    let d = parsed(MIXTURE);
    let uncured = Weibull::new(1.2, 9.0 * DAYS_PER_MONTH).unwrap();
    let x = draws(&d, 107, 1.0);
    let never = x.iter().filter(|t| t.is_infinite()).count();
    eprintln!("mixture cure: {never} of {N} never have the event (expected 30%)");
    assert_ks("mixture_cure(0.3, weibull(1.2, 9 m))", x, |t| {
        0.7 * if t.is_finite() { uncured.cdf(t) } else { 1.0 }
    });
}

#[test]
fn ks_mixture_cure_under_hazard_ratio() {
    // Proportional hazards on the population survival: S_hr(t) = S(t)^hr, plateau cure^hr.
    let d = parsed(MIXTURE);
    let uncured = Weibull::new(1.2, 9.0 * DAYS_PER_MONTH).unwrap();
    let hr = 2.0;
    assert_ks("mixture_cure(...) under HR 2", draws(&d, 108, hr), |t| {
        let su = if t.is_finite() { uncured.sf(t) } else { 0.0 };
        1.0 - (0.3 + 0.7 * su).powf(hr)
    });
}

#[test]
fn fixed_is_exact() {
    let d = parsed(r#"{ dist = "fixed", value = 2.5, unit = "weeks" }"#);
    for (i, mut s) in streams(109, "fixed").take(10_000).enumerate() {
        assert_eq!(d.sample(&mut s).map(Days::get), Some(17.5), "draw {i}");
        assert_eq!(
            d.sample_hr(&mut s, 3.0).map(Days::get),
            Some(17.5),
            "draw {i}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Age and background mortality
// ---------------------------------------------------------------------------------------------

/// Attributes of patients 0..N of `seed`, drawn as the engine draws them.
fn attributes(m: &Model, seed: u64) -> Vec<Attributes> {
    let mut ws = Workspace::new(m);
    let run = RunKey::new(seed);
    (0..N).map(|p| ws.attributes(m, run, p)).collect()
}

#[test]
fn ks_truncated_normal_age() {
    // Normal(41, 15) truncated to [18, 60]: F(x) = (Φ(z(x)) - Φ(z(18))) / (Φ(z(60)) - Φ(z(18))).
    let m = model_with(
        ONE_DAY,
        NO_BACKGROUND,
        &[(
            "age",
            r#"{ dist = "normal", mean = 41.0, sd = 15.0, min = 18.0, max = 60.0 }"#,
        )],
    );
    let normal = Normal::new(41.0, 15.0).unwrap();
    let (lo, hi) = (normal.cdf(18.0), normal.cdf(60.0));
    let ages: Vec<f64> = attributes(&m, 201).iter().map(|a| a.age).collect();
    assert!(ages.iter().all(|a| (18.0..=60.0).contains(a)));
    assert_ks("age normal(41, 15) on [18, 60]", ages, |x| {
        ((normal.cdf(x) - lo) / (hi - lo)).clamp(0.0, 1.0)
    });
}

#[test]
fn ks_uniform_age() {
    let m = model_with(
        ONE_DAY,
        NO_BACKGROUND,
        &[("age", r#"{ dist = "uniform", min = 18.0, max = 80.0 }"#)],
    );
    let ages: Vec<f64> = attributes(&m, 202).iter().map(|a| a.age).collect();
    assert_ks("age uniform[18, 80]", ages, |x| {
        ((x - 18.0) / 62.0).clamp(0.0, 1.0)
    });
}

/// Years to background death from `age`, as the engine draws them: one uniform `u`, survival
/// level `1 - u`.
fn background_years(m: &Model, age: f64, seed: u64) -> Vec<f64> {
    streams(seed, "background")
        .map(|mut s| {
            m.population
                .background
                .inverse_survival_years(age, 1.0 - uniform(&mut s))
        })
        .collect()
}

#[test]
fn ks_gompertz_background() {
    // Hazard b e^{θ a}: from age a0, F(t) = 1 - exp(-(b/θ) e^{θ a0} (e^{θ t} - 1)).
    let (b, theta, a0) = (1.14e-4, 0.0773, 50.0);
    let m = model_with(
        ONE_DAY,
        r#"{ model = "gompertz", baseline_hazard = 1.14e-4, age_slope = 0.0773, max_age = 200.0 }"#,
        &[],
    );
    let x = background_years(&m, a0, 301);
    assert_ks("gompertz(1.14e-4, 0.0773) from age 50", x, |t| {
        1.0 - (-(b / theta) * (theta * a0).exp() * ((theta * t).exp() - 1.0)).exp()
    });
}

/// Cumulative hazard of a life table from `age` to `age + t` (hazard -ln(1 - q) over each year
/// of age from `start`; the first entry below the table, the last above it), by stepping over
/// the years: independent of the library's cumulative table.
fn life_table_cumulative(start: f64, q: &[f64], age: f64, t: f64) -> f64 {
    let hazard = |x: f64| {
        let i = ((x - start).floor().max(0.0) as usize).min(q.len() - 1);
        -(1.0 - q[i]).ln()
    };
    let (mut x, end, mut h) = (age, age + t, 0.0);
    while x < end {
        let next = if x < start {
            start
        } else {
            start + (x - start).floor() + 1.0
        };
        let next = next.min(end);
        h += hazard(x) * (next - x);
        x = next;
    }
    h
}

#[test]
fn ks_life_table_background() {
    // A table from 30 with rising q. Patients aged 31.5 (mid-year) cross every entry and the
    // constant tail beyond the table; patients aged 27.25 start below it (where its first
    // entry applies).
    let q = [0.02, 0.05, 0.1, 0.2, 0.3, 0.5];
    let m = model_with(
        ONE_DAY,
        r#"{ model = "life_table", start_age = 30.0, annual_death_probability = [0.02, 0.05, 0.1, 0.2, 0.3, 0.5], max_age = 200.0 }"#,
        &[],
    );
    for (age, seed) in [(31.5, 302), (27.25, 303)] {
        let x = background_years(&m, age, seed);
        assert_ks(&format!("life table from age {age}"), x, |t| {
            1.0 - (-life_table_cumulative(30.0, &q, age, t)).exp()
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Categorical draws: chi-square goodness of fit
// ---------------------------------------------------------------------------------------------

/// A population where every split and probability differs from the others, so a draw read
/// into the wrong attribute (or in the wrong order) changes some distribution.
fn categorical_population() -> Model {
    model_with(
        ONE_DAY,
        NO_BACKGROUND,
        &[
            (
                "burden",
                "{ mrd_only = 0.1, blasts_lt5 = 0.15, blasts_5_49 = 0.3, blasts_ge50 = 0.45 }",
            ),
            ("cns", "0.07"),
            ("extramedullary", "0.13"),
            ("cd19_negative", "0.04"),
            ("cd22", "{ high = 0.62, partial = 0.3, negative = 0.08 }"),
            ("ph_positive", "0.22"),
            ("kmt2a", "0.09"),
            ("prior_hct", "0.34"),
            ("donor_available", "0.8"),
            ("hct_fit", "0.55"),
            (
                "salvage_line",
                "{ first = 0.42, second = 0.39, third_plus = 0.19 }",
            ),
        ],
    )
}

#[test]
fn chi_square_burden_split() {
    let a = attributes(&categorical_population(), 401);
    let counts = tally(a.iter().map(|a| a.burden as usize), 4);
    assert_eq!(Burden::ALL.map(|b| b as usize), [0, 1, 2, 3]);
    assert_chi_square("burden", &counts, &[0.1, 0.15, 0.3, 0.45]);
}

#[test]
fn chi_square_cd22_split() {
    let a = attributes(&categorical_population(), 402);
    let index = |c: Cd22| match c {
        Cd22::High => 0,
        Cd22::Partial => 1,
        Cd22::Negative => 2,
    };
    let counts = tally(a.iter().map(|a| index(a.cd22)), 3);
    assert_chi_square("cd22", &counts, &[0.62, 0.3, 0.08]);
}

#[test]
fn chi_square_salvage_line_split() {
    let a = attributes(&categorical_population(), 403);
    let counts = tally(a.iter().map(|a| usize::from(a.salvage_line) - 1), 3);
    assert_chi_square("salvage line", &counts, &[0.42, 0.39, 0.19]);
}

#[test]
fn chi_square_bernoulli_attributes() {
    let a = attributes(&categorical_population(), 404);
    type Get = fn(&Attributes) -> bool;
    let cases: [(&str, Get, f64); 8] = [
        ("cns", |a| a.cns, 0.07),
        ("extramedullary", |a| a.extramedullary, 0.13),
        ("cd19_negative", |a| a.cd19_negative, 0.04),
        ("ph_positive", |a| a.ph_positive, 0.22),
        ("kmt2a", |a| a.kmt2a, 0.09),
        ("prior_hct", |a| a.prior_hct, 0.34),
        ("donor_available", |a| a.donor_available, 0.8),
        ("hct_fit", |a| a.hct_fit, 0.55),
    ];
    for (name, get, p) in cases {
        let counts = tally(a.iter().map(|a| usize::from(get(a))), 2);
        assert_chi_square(name, &counts, &[1.0 - p, p]);
    }
}

#[test]
fn chi_square_split_pick() {
    // Includes a category of probability 0, which must never be picked.
    let p = [0.05, 0.0, 0.15, 0.5, 0.3];
    let split = Split::new(p);
    for (i, &pi) in p.iter().enumerate() {
        assert!((split.probability(i) - pi).abs() < 1e-15);
    }
    let counts = tally(
        streams(405, "split").map(|mut s| split.pick(uniform(&mut s))),
        5,
    );
    assert_chi_square("Split::pick", &counts, &p);
}

#[test]
fn chi_square_bernoulli() {
    let p = 0.3;
    let counts = tally(
        streams(406, "bernoulli").map(|mut s| usize::from(bernoulli(&mut s, p))),
        2,
    );
    assert_chi_square("bernoulli(0.3)", &counts, &[1.0 - p, p]);
    for mut s in streams(407, "bernoulli").take(10_000) {
        assert!(!bernoulli(&mut s, 0.0));
        assert!(bernoulli(&mut s, 1.0));
    }
}

/// Records the grade of the toxicity episode of one patient (at most one here).
#[derive(Debug, Default)]
struct GradeRecorder {
    grades: Vec<Grade>,
}

impl Observer for GradeRecorder {
    fn event(&mut self, _t: Days, event: Event, _state: &Attributes) {
        if let Event::Toxicity { grade, .. } = event {
            self.grades.push(grade);
        }
    }
}

#[test]
fn chi_square_toxicity_grades() {
    // One course with one toxicity (any grade 0.5, grade >= 3 0.2, fatal 0.05): the grade
    // draw's four outcomes have probabilities none 0.5, low 0.3, severe 0.15, fatal 0.05.
    // Every course fails after one cycle (day 42), long after the onset on day 1.
    let course = r#"
[therapies.chemo]
kind = "chemotherapy"
target = "none"
max_courses = 1
cycle_days = 42
induction_cycles = 1
consolidation_cycles = 0
response = 0.0
responders_by_cycle_1 = 1.0
mrd_negative = 1.0
relapse = { dist = "fixed", value = 100.0, unit = "days" }
mrd_positive_relapse_hr = 1.0
toxicities = [{ kind = "infection", any_grade = 0.5, grade3plus = 0.2, fatal = 0.05, onset_days = 1, duration_days = 5 }]
"#;
    let text = scenario_text(
        course,
        r#"{ therapies = ["chemo"] }"#,
        "",
        ONE_DAY,
        NO_BACKGROUND,
        "",
    );
    let m = compiled(&text);
    let run = RunKey::new(408);
    let mut ws = Workspace::new(&m);
    let mut counts = [0u64; 4];
    let mut fatal_deaths = 0u64;
    for patient in 0..N {
        let attrs = ws.attributes(&m, run, patient);
        let mut rec = GradeRecorder::default();
        let out = simulate(&m, 0, run, patient, &attrs, &mut ws, &mut rec);
        assert!(rec.grades.len() <= 1, "one toxicity draw per course");
        let k = match rec.grades.first() {
            None => 0,
            Some(Grade::Low) => 1,
            Some(Grade::Severe) => 2,
            Some(Grade::Fatal) => 3,
        };
        counts[k] += 1;
        fatal_deaths += u64::from(out.death == Some(Cause::Infection));
    }
    assert_eq!(
        fatal_deaths, counts[3],
        "every fatal grade kills, nothing else"
    );
    assert_chi_square(
        "toxicity grade (none, low, severe, fatal)",
        &counts,
        &[0.5, 0.3, 0.15, 0.05],
    );
}

// ---------------------------------------------------------------------------------------------
// Value stability: pinned first draws
// ---------------------------------------------------------------------------------------------
//
// The first draws for a fixed seed, computed once by running this code and hard-coded. A change
// to any of them changes every published result of the tool (the same seed no longer gives the
// same patients): it must be deliberate, documented, and these values updated with it. Values
// computed only with IEEE arithmetic are compared exactly; those through libm (ln, exp, powf,
// the normal and gamma quantiles) to 1e-12 relative, since libm may differ by an ulp between
// platforms.

const PIN_SEED: u64 = 20261122;

fn pin_stream() -> Stream {
    stream(RunKey::new(PIN_SEED), 0, ProcessKey::new("pinned", ""))
}

fn assert_close(what: &str, got: f64, pinned: f64) {
    assert!(
        (got - pinned).abs() <= 1e-12 * pinned.abs(),
        "{what}: {got:?} != pinned {pinned:?}"
    );
}

/// The first three draws of `dist` from a fresh pinned stream (+∞ for never).
fn first_three(dist: &TimeDist) -> [f64; 3] {
    let mut s = pin_stream();
    [(); 3].map(|()| dist.sample(&mut s).map_or(f64::INFINITY, Days::get))
}

#[test]
fn pinned_first_draws_of_time_distributions() {
    let cases: [(&str, &str, [f64; 3]); 9] = [
        (
            "fixed",
            r#"{ dist = "fixed", value = 2.5, unit = "weeks" }"#,
            [17.5, 17.5, 17.5],
        ),
        (
            "exponential",
            r#"{ dist = "exponential", mean = 4.0, unit = "months" }"#,
            [6.811628604519094, 85.49013246111457, 61.068585329083724],
        ),
        (
            "weibull < 1",
            r#"{ dist = "weibull", shape = 0.6, scale = 50.0, unit = "days" }"#,
            [0.4092041116498135, 27.73629010785114, 15.832572562409798],
        ),
        (
            "weibull > 1",
            r#"{ dist = "weibull", shape = 1.8, scale = 2.0, unit = "years" }"#,
            [147.21211370048206, 600.2235197114003, 497.90602458129024],
        ),
        (
            "lognormal",
            r#"{ dist = "lognormal", median = 5.0, sigma = 0.8, unit = "weeks" }"#,
            [9.704041529842206, 35.316911670933074, 28.250784635013197],
        ),
        (
            "gamma < 1",
            r#"{ dist = "gamma", shape = 0.5, scale = 20.0, unit = "days" }"#,
            [0.046577206756834084, 4.645501932212461, 2.666808481940649],
        ),
        (
            "gamma > 1",
            r#"{ dist = "gamma", shape = 3.0, scale = 2.0, unit = "weeks" }"#,
            [11.857537460176413, 37.69262873156474, 31.69810792020069],
        ),
        (
            "mixture_cure",
            MIXTURE,
            [33.7045412166639, 335.5187803631315, 234.2833815475223],
        ),
        (
            // The same uniforms with a larger cure fraction: the second draw (survival level
            // about 0.50) is now cured, so the cure branch is pinned too.
            "mixture_cure, one cured",
            MIXTURE_MOSTLY_CURED,
            [49.67284960760898, f64::INFINITY, 506.6720854000721],
        ),
    ];
    for (name, spec, pinned) in cases {
        let got = first_three(&parsed(spec));
        eprintln!("pinned {name}: {got:?}");
        for (g, p) in got.iter().zip(pinned) {
            if g.is_infinite() || p.is_infinite() || name == "fixed" {
                assert_eq!(*g, p, "{name}: {got:?} != pinned {pinned:?}");
            } else {
                assert_close(name, *g, p);
            }
        }
    }
}

#[test]
fn pinned_first_draws_of_background_mortality() {
    let gompertz = model_with(
        ONE_DAY,
        r#"{ model = "gompertz", baseline_hazard = 1.14e-4, age_slope = 0.0773, max_age = 200.0 }"#,
        &[],
    );
    let table = model_with(
        ONE_DAY,
        r#"{ model = "life_table", start_age = 30.0, annual_death_probability = [0.02, 0.05, 0.1, 0.2, 0.3, 0.5], max_age = 200.0 }"#,
        &[],
    );
    let cases: [(&str, &Model, f64, [f64; 3]); 2] = [
        (
            "gompertz from 50",
            &gompertz,
            50.0,
            [7.569846915303635, 30.998257738296225, 27.10908549695076],
        ),
        (
            "life table from 31.5",
            &table,
            31.5,
            [0.7875937045926591, 3.475753893287333, 2.9133716471441886],
        ),
    ];
    for (name, m, age, pinned) in cases {
        let mut s = pin_stream();
        let got = [(); 3].map(|()| {
            m.population
                .background
                .inverse_survival_years(age, 1.0 - uniform(&mut s))
        });
        eprintln!("pinned {name}: {got:?}");
        for (g, p) in got.iter().zip(pinned) {
            assert_close(name, *g, p);
        }
    }
}

#[test]
fn pinned_first_patient() {
    // Patient 0 of the pinned seed, drawn as the engine draws it (the `attributes` stream), in
    // the population of the chi-square tests, with a truncated-normal and a uniform age. The
    // uniform age is min + u (max - min), IEEE arithmetic only: exact. The other attributes
    // come from the same 11 uniforms whatever the age distribution.
    let mut m = categorical_population();
    for (age, pinned_age, exact) in [
        (
            r#"{ dist = "normal", mean = 41.0, sd = 15.0, min = 18.0, max = 60.0 }"#,
            19.731467342619492,
            false,
        ),
        (
            r#"{ dist = "uniform", min = 18.0, max = 80.0 }"#,
            19.152170976785847,
            true,
        ),
    ] {
        m.population.age = model_with(ONE_DAY, NO_BACKGROUND, &[("age", age)])
            .population
            .age;
        let a = Workspace::new(&m).attributes(&m, RunKey::new(PIN_SEED), 0);
        eprintln!("pinned first patient: {a:?}");
        if exact {
            assert_eq!(a.age, pinned_age);
        } else {
            assert_close("age", a.age, pinned_age);
        }
        let pinned = Attributes {
            age: a.age,
            burden: Burden::AtLeast50,
            cns: false,
            extramedullary: false,
            cd19_negative: false,
            cd22: Cd22::High,
            ph_positive: false,
            kmt2a: false,
            prior_hct: false,
            donor_available: true,
            hct_fit: true,
            salvage_line: 2,
        };
        assert_eq!(a, pinned);
    }
}

#[test]
fn pinned_draw_order_of_attributes() {
    // Every attribute shows its own uniform here: Bernoulli probabilities of 0.5, even splits,
    // a uniform age (IEEE arithmetic only: exact). The marginal laws (the chi-square tests) do
    // not see which uniform feeds which attribute; these first 8 patients do, so a change to the
    // order or number of the 12 attribute draws fails here (an exchange of two draws survives
    // only if their bits agree in all 8 patients: 1 chance in 256).
    let m = model_with(
        ONE_DAY,
        NO_BACKGROUND,
        &[
            ("age", r#"{ dist = "uniform", min = 0.0, max = 100.0 }"#),
            (
                "burden",
                "{ mrd_only = 0.25, blasts_lt5 = 0.25, blasts_5_49 = 0.25, blasts_ge50 = 0.25 }",
            ),
            ("cns", "0.5"),
            ("extramedullary", "0.5"),
            ("cd19_negative", "0.5"),
            ("cd22", "{ high = 0.25, partial = 0.25, negative = 0.5 }"),
            ("ph_positive", "0.5"),
            ("kmt2a", "0.5"),
            ("prior_hct", "0.5"),
            ("donor_available", "0.5"),
            ("hct_fit", "0.5"),
            (
                "salvage_line",
                "{ first = 0.25, second = 0.25, third_plus = 0.5 }",
            ),
        ],
    );
    // Age; burden, CD22 (0 high, 1 partial, 2 negative) and salvage line; then the Bernoulli
    // attributes in declaration order: cns, extramedullary, cd19_negative, ph_positive, kmt2a,
    // prior_hct, donor_available, hct_fit.
    let signature = |a: &Attributes| {
        let cd22 = match a.cd22 {
            Cd22::High => 0,
            Cd22::Partial => 1,
            Cd22::Negative => 2,
        };
        let bits: String = [
            a.cns,
            a.extramedullary,
            a.cd19_negative,
            a.ph_positive,
            a.kmt2a,
            a.prior_hct,
            a.donor_available,
            a.hct_fit,
        ]
        .iter()
        .map(|&b| if b { '1' } else { '0' })
        .collect();
        format!(
            "{:?} {}{}{} {bits}",
            a.age, a.burden as usize, cd22, a.salvage_line
        )
    };
    let mut ws = Workspace::new(&m);
    let got: Vec<String> = (0..8)
        .map(|p| signature(&ws.attributes(&m, RunKey::new(PIN_SEED), p)))
        .collect();
    eprintln!("pinned draw order: {got:#?}");
    let pinned = [
        "1.85834028513846 312 00110001",
        "86.8357588406443 123 00111011",
        "86.87099231888976 313 01101001",
        "67.09729563949843 223 00001100",
        "66.50454819657769 303 01100101",
        "57.57190393856823 101 11111100",
        "6.071053723599462 302 11111010",
        "98.8310439691926 103 00111010",
    ];
    assert_eq!(got, pinned);
}
