//! The whole engine against closed forms: survival, competing risks, medians, cure plateaus and
//! the fixed CAR-T pipeline, on small purpose-built scenarios.
//!
//! Every statistical check has a fixed seed and a tolerance of 3 Monte Carlo standard errors
//! (SE) derived from the number of simulated patients n: a false alarm about 1 time in 370 per
//! check if the engine were right, and a pass is reproducible. Binomial proportions use
//! SE = √(p(1-p)/n) at the exact p; means use the sample SE of the aggregate; a median uses
//! SE = 1 / (2 f(m) √n) (its asymptotic SE, f the density at the median m) plus 1 day for the
//! daily histogram it is read from.
//!
//! Each test was seen to fail under a deliberate breakage in a copy of `src/`: the exponential
//! mean x1.05 (exponential death, competing risks), the life-table hazard as q (competing
//! risks), supportive care cancelling the background death, background death time x1.05, the
//! Weibull inverse (median), the cure test reversed (plateau), a fixed time +1e-9 and infusion
//! scheduled from the wrong event (CAR-T pipeline). See also `distributions.rs`.

use crate::common::{compiled, edit};
use crate::engine::{NO_BACKGROUND, scenario_text, simulate};
use allseq::engine::{Cause, Event, Observer, Workspace};
use allseq::model::Model;
use allseq::patient::Attributes;
use allseq::rng::RunKey;
use allseq::time::{DAYS_PER_MONTH, DAYS_PER_YEAR, Days};

/// A scenario with no lines: everyone starts supportive care at time 0 with `supportive`
/// survival, against `background` mortality.
fn supportive_only(supportive: &str, background: &str) -> Model {
    compiled(&scenario_text("", "", "", supportive, background, ""))
}

/// Binomial SE of a proportion `p` over `n` patients.
fn binomial_se(p: f64, n: u64) -> f64 {
    (p * (1.0 - p) / n as f64).sqrt()
}

/// Asserts an observed proportion within 3 binomial SEs of `p`.
fn assert_proportion(what: &str, got: f64, p: f64, n: u64) {
    let se = binomial_se(p, n);
    eprintln!(
        "{what}: {got:.5} vs {p:.5} (3 SE = {:.5}, n = {n})",
        3.0 * se
    );
    assert!(
        (got - p).abs() < 3.0 * se,
        "{what}: {got} vs {p} (SE {se}, n {n})"
    );
}

#[test]
fn exponential_death_in_years() {
    // Supportive survival exponential with mean 2 years: rate λ = 0.5 per year.
    let lambda = 0.5;
    let m = supportive_only(
        r#"{ dist = "exponential", mean = 2.0, unit = "years" }"#,
        NO_BACKGROUND,
    );
    let n = 200_000;
    let a = simulate(&m, n, 23);
    assert_eq!(a.deaths[Cause::Disease as usize], n);

    // Mean 1/λ years: tolerance 3 sample SEs of the mean life-years.
    let (mean, se) = (a.life_years.mean(), a.life_years.std_error());
    eprintln!(
        "mean {mean:.5} y vs {} (3 SE = {:.5})",
        1.0 / lambda,
        3.0 * se
    );
    assert!(
        (mean - 1.0 / lambda).abs() < 3.0 * se,
        "mean {mean} vs {} (se {se})",
        1.0 / lambda
    );

    // Median ln 2 / λ years. At the median f(m) = λ/2, so SE = 1 / (λ √n) years; plus one day
    // of histogram resolution.
    let median = a.os.median_days().unwrap() / DAYS_PER_YEAR;
    let expected = std::f64::consts::LN_2 / lambda;
    let tol = 3.0 / (lambda * (n as f64).sqrt()) + 1.0 / DAYS_PER_YEAR;
    eprintln!("median {median:.5} y vs {expected:.5} (tol {tol:.5})");
    assert!(
        (median - expected).abs() < tol,
        "median {median} vs {expected} (tol {tol})"
    );

    // The monthly survival curve at 6, 24 and 48 months: S = exp(-λ t), t = months / 12
    // (a month is exactly a twelfth of a year), within 3 binomial SEs.
    assert_eq!(12.0 * DAYS_PER_MONTH, DAYS_PER_YEAR);
    for month in [6usize, 24, 48] {
        let s = (-lambda * month as f64 / 12.0).exp();
        let got = a.os.at_month(month).unwrap();
        assert_proportion(&format!("S({month} months)"), got, s, n);
    }
}

#[test]
fn competing_exponential_risks() {
    // Leukemia death at rate l1 = 0.5/year (supportive exponential, mean 2 years) against
    // background death from a life table with q = 0.3 at every age, a constant hazard
    // l2 = -ln(1 - q). P(cause k) = l_k / (l1 + l2); the time to death is exponential with
    // rate l1 + l2. max_age 200 for 40-year-olds: the cap at 160 years never binds.
    let (l1, q) = (0.5, 0.3);
    let l2 = -(1.0f64 - q).ln();
    let m = supportive_only(
        r#"{ dist = "exponential", mean = 2.0, unit = "years" }"#,
        r#"{ model = "life_table", start_age = 40.0, annual_death_probability = [0.3], max_age = 200.0 }"#,
    );
    let n = 200_000;
    let a = simulate(&m, n, 29);
    let disease = a.deaths[Cause::Disease as usize];
    let background = a.deaths[Cause::Background as usize];
    assert_eq!(disease + background, n, "no other cause, no censoring");
    assert_proportion(
        "P(death from leukemia)",
        disease as f64 / n as f64,
        l1 / (l1 + l2),
        n,
    );
    assert_proportion(
        "P(background death)",
        background as f64 / n as f64,
        l2 / (l1 + l2),
        n,
    );
    let (mean, se) = (a.life_years.mean(), a.life_years.std_error());
    let expected = 1.0 / (l1 + l2);
    eprintln!("mean {mean:.5} y vs {expected:.5} (3 SE = {:.5})", 3.0 * se);
    assert!(
        (mean - expected).abs() < 3.0 * se,
        "mean {mean} vs {expected} (se {se})"
    );
}

#[test]
fn weibull_median() {
    // Supportive survival Weibull(k, s): median m = s ln(2)^(1/k), density at the median
    // f(m) = (k/s) ln(2)^((k-1)/k) / 2, so SE = 1 / (2 f(m) √n); tolerance 3 SE + 1 day.
    let n = 200_000u64;
    for (k, scale_months, seed) in [(1.5, 12.0, 31), (0.7, 6.0, 37)] {
        let m = supportive_only(
            &format!(
                r#"{{ dist = "weibull", shape = {k}, scale = {scale_months}, unit = "months" }}"#
            ),
            NO_BACKGROUND,
        );
        let a = simulate(&m, n, seed);
        let s = scale_months * DAYS_PER_MONTH;
        let expected = s * std::f64::consts::LN_2.powf(1.0 / k);
        let f = (k / s) * std::f64::consts::LN_2.powf((k - 1.0) / k) / 2.0;
        let se = 1.0 / (2.0 * f * (n as f64).sqrt());
        let median = a.os.median_days().unwrap();
        eprintln!(
            "Weibull({k}, {scale_months} m) median {median:.3} d vs {expected:.3} (tol {:.3})",
            3.0 * se + 1.0
        );
        assert!(
            (median - expected).abs() < 3.0 * se + 1.0,
            "Weibull({k}, {scale_months} months): median {median} vs {expected} (se {se})"
        );
    }
}

#[test]
fn mixture_cure_plateau() {
    // Everyone responds after one cycle (day 42) and relapses from a mixture cure with cure
    // fraction 0.35 and an exponential (mean 3 months) for the rest. By the 20-year horizon
    // an uncured patient has relapsed with probability 1 - e^{-80}: the fraction never
    // relapsed is the cure fraction, within 3 binomial SEs.
    let cure = 0.35;
    let therapy = r#"
[therapies.blin]
kind = "antibody"
target = "cd19"
max_courses = 1
cycle_days = 42
induction_cycles = 2
consolidation_cycles = 0
response = 1.0
responders_by_cycle_1 = 1.0
mrd_negative = 1.0
relapse = { dist = "mixture_cure", cure_fraction = 0.35, uncured = { dist = "exponential", mean = 3.0, unit = "months" } }
mrd_positive_relapse_hr = 1.0
toxicities = []
"#;
    let text = scenario_text(
        therapy,
        r#"{ therapies = ["blin"] }"#,
        "",
        r#"{ dist = "fixed", value = 10.0, unit = "days" }"#,
        NO_BACKGROUND,
        "",
    );
    let text = edit(&text, r#"horizon = "lifetime""#, "horizon = { years = 20 }");
    let m = compiled(&text);
    let n = 100_000;
    let a = simulate(&m, n, 41);
    assert_eq!(a.first_response, n);
    let never = 1.0 - a.relapsed as f64 / n as f64;
    assert_proportion("never relapsed by 20 years", never, cure, n);
    // Relapsers die 10 days later in supportive care; the cured are censored alive at 20 years.
    assert_eq!(a.deaths[Cause::Disease as usize], a.relapsed);
    assert_eq!(a.deaths.iter().sum::<u64>(), a.relapsed);
}

/// The times of the CAR-T pipeline's events of one patient.
#[derive(Debug, Default)]
struct Pipeline {
    events: Vec<(f64, Event)>,
}

impl Observer for Pipeline {
    fn event(&mut self, t: Days, event: Event, _state: &Attributes) {
        if matches!(
            event,
            Event::Apheresis
                | Event::ManufacturingDone { .. }
                | Event::Infusion
                | Event::ResponseAssessment
        ) {
            self.events.push((t.get(), event));
        }
    }
}

#[test]
fn fixed_car_t_pipeline_gives_exact_infusion_day() {
    // Apheresis on day 3, manufacturing 3.5 weeks (24.5 days), lymphodepletion 5 days,
    // assessment 28 days after infusion; no failure and no dropout (a cure fraction of 1).
    // Every trajectory: apheresis day 3, product day 27.5, infusion day 32.5, assessment day
    // 60.5, exactly (all sums of binary fractions).
    let car_t = r#"
[therapies.cart]
kind = "car_t"
target = "cd19"
max_courses = 1
apheresis_days = 3
apheresis_success = 1.0
manufacturing = { dist = "fixed", value = 3.5, unit = "weeks" }
manufacturing_failure = 0.0
waiting_dropout = { dist = "mixture_cure", cure_fraction = 1.0, uncured = { dist = "fixed", value = 1.0, unit = "days" } }
dropout_death_fraction = 0.5
lymphodepletion_days = 5
assessment_days = 28
response = 0.6
mrd_negative = 1.0
relapse = { dist = "exponential", mean = 6.0, unit = "months" }
mrd_positive_relapse_hr = 1.0
toxicities = []
"#;
    let m = compiled(&scenario_text(
        car_t,
        r#"{ therapies = ["cart"] }"#,
        "",
        r#"{ dist = "exponential", mean = 2.0, unit = "months" }"#,
        NO_BACKGROUND,
        "",
    ));
    let run = RunKey::new(43);
    let mut ws = Workspace::new(&m);
    let n = 5_000;
    for patient in 0..n {
        let attrs = ws.attributes(&m, run, patient);
        let mut rec = Pipeline::default();
        let out = allseq::engine::simulate(&m, 0, run, patient, &attrs, &mut ws, &mut rec);
        assert_eq!(
            out.infusion_time.map(Days::get),
            Some(32.5),
            "patient {patient}"
        );
        assert_eq!(
            rec.events,
            [
                (3.0, Event::Apheresis),
                (27.5, Event::ManufacturingDone { failed: false }),
                (32.5, Event::Infusion),
                (60.5, Event::ResponseAssessment),
            ],
            "patient {patient}"
        );
    }
    let a = simulate(&m, n, 43);
    assert_eq!((a.car_t_intended, a.car_t_infused), (n, n));
}

#[test]
fn background_mortality_ends_at_the_maximum_age() {
    // Patients aged 40, a negligible background hazard capped at a maximum age of 90, and
    // supportive survival fixed at 100 years: every patient dies of background mortality at
    // exactly 90, 50 years after time 0. Exact: no random time can come first.
    let m = supportive_only(
        r#"{ dist = "fixed", value = 100.0, unit = "years" }"#,
        r#"{ model = "gompertz", baseline_hazard = 1e-15, age_slope = 1e-6, max_age = 90.0 }"#,
    );
    let n = 1_000;
    let a = simulate(&m, n, 37);
    assert_eq!(a.deaths[Cause::Background as usize], n);
    let years = a.life_years.mean();
    assert!((years - 50.0).abs() < 1e-6, "life-years {years}");
}
