//! The whole engine against closed forms, on small purpose-built scenarios.
//!
//! Tolerances are 3 Monte Carlo standard errors (about a 1-in-370 false alarm per check if the
//! engine were right; the seeds are fixed, so a pass is reproducible).

use crate::common::compiled;
use allseq::model::Model;
use allseq::runner::{RunOptions, run};
use allseq::summary::StrategyAgg;
use allseq::time::DAYS_PER_YEAR;

pub const NO_BACKGROUND: &str =
    r#"{ model = "gompertz", baseline_hazard = 1e-15, age_slope = 1e-6, max_age = 200.0 }"#;

/// A one-strategy scenario: patients aged 40 at 5-49% blasts, negligible background
/// mortality, the given therapies, lines and supportive survival.
fn scenario(therapies: &str, lines: &str, consolidation: &str, supportive: &str) -> Model {
    scenario_with(therapies, lines, consolidation, supportive, NO_BACKGROUND)
}

fn scenario_with(
    therapies: &str,
    lines: &str,
    consolidation: &str,
    supportive: &str,
    background: &str,
) -> Model {
    let text = scenario_text(therapies, lines, consolidation, supportive, background, "");
    compiled(&text)
}

/// The text of a one-strategy scenario; `extra` is appended (e.g. an `[economics]` table).
pub fn scenario_text(
    therapies: &str,
    lines: &str,
    consolidation: &str,
    supportive: &str,
    background: &str,
    extra: &str,
) -> String {
    format!(
        r#"
name = "test"
seed = 1
patients = 1000
horizon = "lifetime"
trial_access = false
[population]
age = {{ dist = "fixed", value = 40.0 }}
burden = {{ mrd_only = 0.0, blasts_lt5 = 0.0, blasts_5_49 = 1.0, blasts_ge50 = 0.0 }}
cns = 0.0
extramedullary = 0.0
cd19_negative = 0.0
cd22 = {{ high = 1.0, partial = 0.0, negative = 0.0 }}
ph_positive = 0.0
kmt2a = 0.0
prior_hct = 0.0
donor_available = 1.0
hct_fit = 1.0
salvage_line = {{ first = 1.0, second = 0.0, third_plus = 0.0 }}
relapse_burden = {{ mrd_only = 0.0, blasts_lt5 = 0.0, blasts_5_49 = 1.0, blasts_ge50 = 0.0 }}
relapse_cns = 0.0
relapse_extramedullary = 0.0
background_mortality = {background}
[therapies.bsc]
kind = "supportive"
survival = {supportive}
{therapies}
[[strategies]]
name = "only"
description = "test"
lines = [{lines}]
{consolidation}
supportive = "bsc"
{extra}
"#
    )
}

pub fn simulate(model: &Model, patients: u64, seed: u64) -> StrategyAgg {
    let opts = RunOptions {
        patients,
        seed,
        threads: 2,
        chunk_size: 1024,
        progress: None,
    };
    run(model, &opts).unwrap().strategies.remove(0)
}

#[test]
fn exponential_death_mean_and_median() {
    let mean_days = 100.0;
    let m = scenario(
        "",
        "",
        "",
        r#"{ dist = "exponential", mean = 100.0, unit = "days" }"#,
    );
    let n = 200_000;
    let a = simulate(&m, n, 11);
    let mean = a.life_years.mean() * DAYS_PER_YEAR;
    let se = a.life_years.std_error() * DAYS_PER_YEAR;
    assert!(
        (mean - mean_days).abs() < 3.0 * se,
        "mean {mean} vs {mean_days} (se {se})"
    );
    // SE of the median of an exponential: 1 / (2 f(median) sqrt(n)) = mean / sqrt(n); the
    // daily histogram adds at most one day of interpolation error.
    let median = a.os.median_days().unwrap();
    let expected = mean_days * std::f64::consts::LN_2;
    let tol = 3.0 * mean_days / (n as f64).sqrt() + 1.0;
    assert!(
        (median - expected).abs() < tol,
        "median {median} vs {expected}"
    );
    assert_eq!(a.deaths[0], n, "every death is from disease");
}

pub const FIXED_BLIN: &str = r#"
[therapies.blin]
kind = "antibody"
target = "cd19"
max_courses = 1
cycle_days = 42
induction_cycles = 2
consolidation_cycles = 0
response = { mrd_only = 1.0, blasts_lt5 = 1.0, blasts_5_49 = 1.0, blasts_ge50 = 1.0 }
responders_by_cycle_1 = 1.0
mrd_negative = 1.0
relapse = { dist = "fixed", value = 100.0, unit = "days" }
mrd_positive_relapse_hr = 1.0
toxicities = []
"#;

#[test]
fn fixed_delays_give_exact_times() {
    // Response after cycle 1 (day 42), relapse 100 days later, then 10 days of supportive care.
    let m = scenario(
        FIXED_BLIN,
        r#"{ therapies = ["blin"] }"#,
        "",
        r#"{ dist = "fixed", value = 10.0, unit = "days" }"#,
    );
    let a = simulate(&m, 5_000, 3);
    // Fixed-point sums round each value to 2^-32 years; the mean is exact to that precision.
    assert!((a.life_years.mean() * DAYS_PER_YEAR - 152.0).abs() < 1e-6);
    // Every patient has the same life-years; the variance formula leaves only rounding.
    assert!(a.life_years.std_error() < 1e-6);
    assert_eq!(a.relapsed, 5_000);
    // Death at day 152: alive at month 4 (121.75 d), dead by month 5 (152.19 d).
    assert_eq!(a.os.at_month(4), Some(1.0));
    assert_eq!(a.os.at_month(5), Some(0.0));
    // Medians are read off a daily histogram (1-day resolution, linear within the day): a
    // point mass at day 142 falls in the bin (141, 142].
    let efs = a.efs.median_days().unwrap();
    assert!((141.0..=142.0).contains(&efs), "EFS median {efs}");
    let os = a.os.median_days().unwrap();
    assert!((151.0..=152.0).contains(&os), "OS median {os}");
}

#[test]
fn car_t_infused_fraction_matches_failure_and_dropout() {
    // Infused iff manufacturing succeeds and dropout comes after manufacturing (30 d) plus
    // lymphodepletion (5 d): P = (1 - 0.1) * exp(-35 / 200).
    let car_t = r#"
[therapies.cart]
kind = "car_t"
target = "cd19"
max_courses = 1
apheresis_days = 3
apheresis_success = 1.0
manufacturing = { dist = "fixed", value = 30.0, unit = "days" }
manufacturing_failure = 0.1
waiting_dropout = { dist = "exponential", mean = 200.0, unit = "days" }
dropout_death_fraction = 0.5
lymphodepletion_days = 5
assessment_days = 28
response = { mrd_only = 1.0, blasts_lt5 = 1.0, blasts_5_49 = 1.0, blasts_ge50 = 1.0 }
mrd_negative = 1.0
relapse = { dist = "fixed", value = 10.0, unit = "years" }
mrd_positive_relapse_hr = 1.0
toxicities = []
"#;
    let m = scenario(
        car_t,
        r#"{ therapies = ["cart"] }"#,
        "",
        r#"{ dist = "fixed", value = 1.0, unit = "days" }"#,
    );
    let n = 100_000u64;
    let a = simulate(&m, n, 5);
    let p = 0.9 * (-35.0f64 / 200.0).exp();
    let se = (p * (1.0 - p) / n as f64).sqrt();
    let got = a.car_t_infused as f64 / a.car_t_intended as f64;
    assert_eq!(a.car_t_intended, n);
    assert!((got - p).abs() < 3.0 * se, "infused {got} vs {p} (se {se})");
    // Dropouts before day 30 (not after failure is known): half of them die waiting.
    let p_drop = 1.0 - (-30.0f64 / 200.0).exp()
        + 0.9 * ((-30.0f64 / 200.0).exp() - (-35.0f64 / 200.0).exp());
    let p_died = 0.5 * p_drop;
    let se = (p_died * (1.0 - p_died) / n as f64).sqrt();
    let got = a.died_waiting as f64 / n as f64;
    assert!(
        (got - p_died).abs() < 3.0 * se,
        "died waiting {got} vs {p_died}"
    );
}

#[test]
fn transplant_only_in_remission_and_relapse_cancels_it() {
    // Everyone responds at day 42 and relapses 100 days later; a transplant planned 150 days
    // after the response never happens, one planned 50 days after does.
    let hct = |days: f64| {
        format!(
            r#"
[therapies.hct]
kind = "hct"
max_age = 70.0
max_transplants = 1
time_to_transplant = {{ dist = "fixed", value = {days}, unit = "days" }}
trm = 0.0
trm_second = 0.0
trm_after_sos = 0.0
trm_time = {{ dist = "fixed", value = 1.0, unit = "days" }}
acute_gvhd = {{ probability = 0.0, onset_days = 30, duration_days = 60 }}
chronic_gvhd = {{ probability = 0.0, onset_days = 180, duration_days = 365 }}
relapse = {{ dist = "mixture_cure", cure_fraction = 1.0, uncured = {{ dist = "fixed", value = 1.0, unit = "days" }} }}
mrd_positive_relapse_hr = 1.0
"#
        )
    };
    let rule = r#"consolidation = { therapy = "hct", after = ["blin"] }"#;
    let late = scenario(
        &format!("{FIXED_BLIN}{}", hct(150.0)),
        r#"{ therapies = ["blin"] }"#,
        rule,
        r#"{ dist = "fixed", value = 10.0, unit = "days" }"#,
    );
    let a = simulate(&late, 2_000, 1);
    assert_eq!(
        a.transplanted, 0,
        "relapse at +100 d cancels a transplant planned at +150 d"
    );
    let early = scenario(
        &format!("{FIXED_BLIN}{}", hct(50.0)),
        r#"{ therapies = ["blin"] }"#,
        rule,
        r#"{ dist = "fixed", value = 10.0, unit = "days" }"#,
    );
    let a = simulate(&early, 2_000, 1);
    assert_eq!(a.transplanted, 2_000);
    assert_eq!(
        a.relapsed, 0,
        "a cured transplant replaces the remission's relapse clock"
    );
}

#[test]
fn life_table_background_mortality() {
    // q = 0.5 at every age from 40: a constant hazard ln 2 per year, so survival is exponential
    // with mean 1/ln 2 = 1.4427 years. Supportive care never kills here (fixed 500 years), and
    // max_age 200 is far away.
    let table = r#"{ model = "life_table", start_age = 40.0, annual_death_probability = [0.5, 0.5, 0.5], max_age = 200.0 }"#;
    let m = scenario_with(
        "",
        "",
        "",
        r#"{ dist = "fixed", value = 500.0, unit = "years" }"#,
        table,
    );
    let a = simulate(&m, 100_000, 9);
    let expected = 1.0 / std::f64::consts::LN_2;
    let (mean, se) = (a.life_years.mean(), a.life_years.std_error());
    assert!(
        (mean - expected).abs() < 3.0 * se,
        "mean {mean} vs {expected} (se {se})"
    );
    assert_eq!(a.deaths[1], 100_000, "all deaths are background deaths");
}
