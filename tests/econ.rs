//! Health economics against closed forms, and the incremental analysis of real runs.
//!
//! Tolerances are 3 Monte Carlo standard errors of the simulated mean.

use crate::common::*;
use crate::engine::{FIXED_BLIN, NO_BACKGROUND, scenario_text, simulate};
use allseq::report::{Cell, incremental_header, incremental_rows};
use allseq::runner::{RunOptions, run};
use allseq::scenario;
use allseq::time::DAYS_PER_YEAR;

/// An `[economics]` table: utility `u` in supportive care (`relapse`), terminal care `c` at a
/// death from leukemia, nothing else costs or weighs anything; 3% a year for both.
fn economics(u: f64, c: f64) -> String {
    let zero_tox = "{ low = {}, severe = {} }";
    let zero_dis = "{ low = 0.0, severe = 0.0 }";
    format!(
        r#"
[economics]
currency = "USD"
price_year = 2024
discount_costs = 0.03
discount_effects = 0.03
wtp = [100000]
long_term_after_years = 3
utilities = {{ on_treatment = 0.5, remission = 0.8, post_hct_first_year = 0.4, long_term = 0.9, relapse = {u} }}
daily_costs = {{ on_treatment = {{}}, remission = {{}}, post_hct_first_year = {{}}, long_term = {{}}, relapse = {{}} }}
toxicity_costs = {{ crs = {zero_tox}, icans = {zero_tox}, sos = {zero_tox}, infection = {zero_tox}, gvhd = {zero_tox} }}
toxicity_disutilities = {{ crs = {zero_dis}, icans = {zero_dis}, sos = {zero_dis}, infection = {zero_dis}, gvhd = {zero_dis} }}
gvhd_disutility = {{ acute = 0.0, chronic = 0.0 }}
terminal_care = {{ end_of_life = {c} }}
"#
    )
}

/// Supportive care only, death from leukemia at an exponential time with mean `mean_years`.
fn exponential_death(mean_years: f64, u: f64, c: f64) -> allseq::model::Model {
    let text = scenario_text(
        "",
        "",
        "",
        &format!(r#"{{ dist = "exponential", mean = {mean_years}, unit = "years" }}"#),
        NO_BACKGROUND,
        &economics(u, c),
    );
    compiled(&text)
}

#[test]
fn discounted_qalys_of_constant_utility_and_exponential_death() {
    // Utility u, death at rate λ, continuous discount ρ = ln(1.03):
    // E[∫₀ᵀ u e^{-ρt} dt] = u / (λ + ρ); undiscounted u / λ.
    let (u, lambda) = (0.7, 0.25);
    let rho = 0.03f64.ln_1p();
    let a = simulate(&exponential_death(1.0 / lambda, u, 0.0), 200_000, 17);
    let (disc, se) = (a.qaly_disc.mean(), a.qaly_disc.std_error());
    let expected = u / (lambda + rho);
    assert!(
        (disc - expected).abs() < 3.0 * se,
        "{disc} vs {expected} (se {se})"
    );
    // With a constant utility, undiscounted QALYs are exactly u x life-years: same SE, scaled.
    let (undisc, se) = (a.qaly.mean(), u * a.life_years.std_error());
    assert!(
        (undisc - u / lambda).abs() < 3.0 * se,
        "{undisc} vs {} (se {se})",
        u / lambda
    );
    // Life-years are the same with u = 1.
    let (ly, se) = (a.ly_disc.mean(), a.ly_disc.std_error());
    assert!((ly - 1.0 / (lambda + rho)).abs() < 3.0 * se);
}

#[test]
fn discounted_one_off_cost_at_an_exponential_time() {
    // A cost c at T ~ Exp(λ): E[c e^{-ρT}] = c λ / (λ + ρ); undiscounted exactly c.
    let (c, lambda) = (10_000.0, 0.5);
    let rho = 0.03f64.ln_1p();
    let a = simulate(&exponential_death(1.0 / lambda, 0.5, c), 200_000, 23);
    let (disc, se) = (a.cost_disc.mean(), a.cost_disc.std_error());
    let expected = c * lambda / (lambda + rho);
    assert!(
        (disc - expected).abs() < 3.0 * se,
        "{disc} vs {expected} (se {se})"
    );
    assert!((a.cost.mean() - c).abs() < 1e-6);
    assert_eq!(
        a.cost_disc_by_category[6].mean(),
        disc,
        "all of it is end-of-life care"
    );
}

/// The adult scenario with its strategies replaced by `strategies` (TOML text).
fn adult_with_strategies(strategies: &str) -> allseq::model::Model {
    let text = adult_text();
    let cut = text.find("[[strategies]]").unwrap();
    let econ = text.find("[economics]").unwrap();
    let text = format!("{}{}\n{}", &text[..cut], strategies, &text[econ..]);
    compiled(&text)
}

fn run_model(model: &allseq::model::Model, patients: u64) -> allseq::summary::RunAgg {
    let opts = RunOptions {
        patients,
        seed: 99,
        threads: 2,
        chunk_size: 512,
        progress: None,
    };
    run(model, &opts).unwrap()
}

fn num(c: &Cell) -> f64 {
    match c {
        Cell::Num(x, _) => *x,
        other => panic!("not a number: {other:?}"),
    }
}

#[test]
fn identical_strategies_have_exactly_zero_increments_and_standard_errors() {
    let one = r#"
[[strategies]]
name = "blin_a"
description = "a"
lines = [{ therapies = ["blinatumomab"] }, { therapies = ["cd19_car_t", "inotuzumab"] }]
consolidation = { therapy = "allo_hct", after = ["blinatumomab", "inotuzumab"] }
supportive = "bsc"
"#;
    let model = adult_with_strategies(&format!("{one}{}", one.replace("blin_a", "blin_b")));
    let agg = run_model(&model, 5_000);
    let header = incremental_header(&model.economics.as_ref().unwrap().wtp);
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let rows = incremental_rows(&model, &agg);
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert_eq!(num(&r[col("incremental_cost")]), 0.0);
        assert_eq!(num(&r[col("incremental_qaly")]), 0.0);
        assert_eq!(num(&r[col("se_incremental_cost")]), 0.0);
        assert_eq!(num(&r[col("se_incremental_qaly")]), 0.0);
    }
    // The outcomes themselves are not degenerate: the zero is pairing, not emptiness.
    assert!(agg.strategies[0].cost_disc.std_error() > 0.0);
    assert_eq!(agg.paired_cost.se_difference(0, 1), 0.0);
}

#[test]
fn nmb_equals_wtp_times_qaly_minus_cost_and_crn_is_reported() {
    let model = scenario::load(&adult()).unwrap().model;
    let agg = run_model(&model, 20_000);
    let wtp = model.economics.as_ref().unwrap().wtp.clone();
    let header = incremental_header(&wtp);
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let rows = incremental_rows(&model, &agg);
    assert_eq!(rows.len(), model.strategies.len());
    let mut last_cost = f64::NEG_INFINITY;
    for r in &rows {
        let (cost, qaly) = (num(&r[col("cost")]), num(&r[col("qaly")]));
        assert!(cost >= last_cost, "ordered by cost");
        last_cost = cost;
        for &w in &wtp {
            assert_eq!(num(&r[col(&format!("nmb_{w}"))]), w as f64 * qaly - cost);
        }
        let status = r[col("status")].csv();
        assert!(
            ["reference", "frontier", "dominated", "extendedly_dominated"]
                .contains(&status.as_str())
        );
        // ICER only on the frontier.
        assert_eq!(
            status == "frontier",
            matches!(r[col("icer")], Cell::Num(..)),
            "{status}"
        );
        if status != "reference" {
            // Paired SE against the reference is positive and reported with its ratio.
            assert!(num(&r[col("se_incremental_cost")]) > 0.0);
            let ratio = num(&r[col("crn_se_ratio_qaly")]);
            assert!(ratio > 0.0 && ratio.is_finite());
        }
    }
    // Discounting lowers every strategy's costs and QALYs.
    for a in &agg.strategies {
        assert!(a.cost_disc.mean() < a.cost.mean());
        assert!(a.qaly_disc.mean() < a.qaly.mean());
        assert!(a.ly_disc.mean() < a.life_years.mean());
        let by_category: f64 = a.cost_disc_by_category.iter().map(|c| c.mean()).sum();
        assert!((by_category - a.cost_disc.mean()).abs() < 1e-6 * a.cost_disc.mean());
    }
}

#[test]
fn nice_variant_inherits_the_pathway_and_changes_the_economics() {
    let base = scenario::load(&adult()).unwrap();
    let nice_path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/adult_rr_ball_nice.toml");
    let nice = scenario::load(&nice_path).unwrap();
    assert_eq!(nice.sources().len(), 2, "the variant and its base");
    let (b, n) = (&base.model, &nice.model);
    assert_eq!(b.strategies.len(), n.strategies.len());
    assert_eq!(b.population.prior_hct, n.population.prior_hct);
    let (eb, en) = (b.economics.as_ref().unwrap(), n.economics.as_ref().unwrap());
    assert_eq!((eb.currency.as_str(), en.currency.as_str()), ("USD", "GBP"));
    assert_eq!((en.discount_costs, en.discount_effects), (0.035, 0.035));
    assert_eq!(en.utilities, eb.utilities, "utilities inherited");
    assert_ne!(nice.sha256(), base.sha256());
}

#[test]
fn extends_errors_are_located_in_the_file_that_sets_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let base = write(dir.path(), "base.toml", &adult_text());
    // The error of loading a file of `dir`, and of writing a variant there and loading it.
    let load_error = |name: &str| {
        scenario::load(&dir.path().join(name))
            .unwrap_err()
            .to_string()
    };
    let error_of = |name: &str, text: &str| {
        write(dir.path(), name, text);
        load_error(name)
    };
    // An error in the variant is reported in the variant.
    let err = error_of(
        "child.toml",
        "extends = \"base.toml\"\n[economics]\ndiscount_costs = 1.5\n",
    );
    assert!(
        err.contains("child.toml:3:1: `economics.discount_costs`"),
        "{err}"
    );
    // An error in the base is reported in the base.
    let bad_base = edit(&adult_text(), "mrd_negative = 0.76", "mrd_negative = 1.76");
    std::fs::write(&base, &bad_base).unwrap();
    let err = error_of("child2.toml", "extends = \"base.toml\"\nname = \"x\"\n");
    let line = line_of(&bad_base, "mrd_negative = 1.76");
    assert!(
        err.contains(&format!(
            "base.toml:{line}:1: `therapies.blinatumomab.mrd_negative`"
        )),
        "{err}"
    );
    // Also when the variant sets other keys of the same therapy: the file that sets the field
    // itself wins over one that only has its table.
    let err = error_of(
        "child3.toml",
        "extends = \"base.toml\"\n[therapies.blinatumomab]\nmax_courses = 2\n",
    );
    assert!(
        err.contains(&format!(
            "base.toml:{line}:1: `therapies.blinatumomab.mrd_negative`"
        )),
        "{err}"
    );
    // A field no file sets is reported where its table is, in the file that has the table
    // (the base here), not in the variant that names neither; the column is the therapy's
    // name in the header.
    let no_cost = edit(
        &adult_text(),
        "costs = { per_cycle = { drug = 84000, administration = 1000 } }\n",
        "",
    );
    std::fs::write(&base, &no_cost).unwrap();
    let err = load_error("child2.toml");
    let line = line_of(&no_cost, "[therapies.inotuzumab]");
    assert!(
        err.contains(&format!(
            "base.toml:{line}:12: `therapies.inotuzumab.costs`"
        )),
        "{err}"
    );
    // A cycle is refused.
    write(dir.path(), "a.toml", "extends = \"b.toml\"\n");
    let err = error_of("b.toml", "extends = \"a.toml\"\n");
    assert!(err.contains("cycle"), "{err}");
    // A cycle that does not return to the first file is named at the file that closes it:
    // d -> e -> f -> e is reported at f's `extends`, not after looping to the depth limit
    // (which would end at e). f names e by another spelling of its path.
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    write(dir.path(), "d.toml", "extends = \"e.toml\"\n");
    write(dir.path(), "e.toml", "extends = \"f.toml\"\n");
    write(
        dir.path(),
        "f.toml",
        "name = \"f\"\nextends = \"sub/../e.toml\"\n",
    );
    let err = load_error("d.toml");
    assert!(
        err.contains("f.toml:2:1: `extends`: `extends` forms a cycle"),
        "{err}"
    );
    // A chain of 8 files loads; a ninth is refused at the eighth's `extends`.
    for k in 1..=8 {
        write(
            dir.path(),
            &format!("v{k}.toml"),
            &format!("extends = \"v{}.toml\"\n", k + 1),
        );
    }
    write(dir.path(), "v9.toml", &adult_text());
    let loaded = scenario::load(&dir.path().join("v2.toml")).expect("8 files");
    assert_eq!(loaded.sources().len(), 8);
    let err = load_error("v1.toml");
    assert!(
        err.contains("v8.toml:1:1: `extends`: `extends` forms a cycle (or a chain deeper than 8"),
        "{err}"
    );
    // A missing base names the file, and the line of the file that extends it.
    let err = error_of("c.toml", "\nextends = \"nope.toml\"\n");
    assert!(err.contains("c.toml:2:1: `extends`: cannot read "), "{err}");
    assert!(err.contains("nope.toml: No such file"), "{err}");
}

#[test]
fn economics_requires_every_therapy_cost() {
    let text = edit(
        &adult_text(),
        "costs = { per_cycle = { drug = 84000, administration = 1000 } }\n",
        "",
    );
    let err = scenario::parse("x.toml".as_ref(), &text).unwrap_err();
    assert_eq!(err.path, "therapies.inotuzumab.costs");
    assert!(
        err.message
            .contains("required because the scenario has [economics]")
    );
}

#[test]
fn extends_replaces_values_whole_inside_sections() {
    // The variant swaps blinatumomab's Weibull relapse for an exponential one and changes one
    // population share: a key-by-key merge inside the distribution would mix `shape`/`scale`
    // into the exponential and fail; the whole value is replaced instead, and the rest of each
    // section is inherited.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "base.toml", &adult_text());
    let child = write(
        dir.path(),
        "child.toml",
        "extends = \"base.toml\"\n[population]\ncns = 0.25\n[therapies.blinatumomab]\nrelapse = { dist = \"exponential\", mean = 6.0, unit = \"months\" }\n\
         [uncertainty.parameters]\n\
         \"population.cns\" = { dist = \"beta\", mean = 0.25, se = 0.05 }\n",
    );
    let m = scenario::load(&child)
        .unwrap_or_else(|e| panic!("{e}"))
        .model;
    let base = scenario::load(&adult()).unwrap().model;
    assert_eq!(m.population.cns, 0.25);
    assert_eq!(m.population.prior_hct, base.population.prior_hct);
    let blin = m
        .therapies
        .iter()
        .find(|t| t.name == "blinatumomab")
        .unwrap();
    let allseq::model::TherapyKind::Course(c) = &blin.kind else {
        panic!("blinatumomab is a course")
    };
    assert!(matches!(
        c.relapse,
        allseq::dist::TimeDist::Exponential { .. }
    ));
    assert_eq!(c.cycle_days, 42.0, "the rest of the therapy is inherited");
    // `[uncertainty]` merges the same way: `parameters` is replaced whole (the base's
    // blinatumomab cure fraction no longer exists), the WTP grid is inherited.
    let u = m.uncertainty.as_ref().unwrap();
    assert_eq!(u.columns(), ["population.cns"]);
    assert_eq!(u.wtp_grid, base.uncertainty.as_ref().unwrap().wtp_grid);
}

/// GVHD after a transplant is charged at its onset, acute and chronic each at its own cost.
/// Everyone responds to blinatumomab on day 42, is transplanted 50 days later (day 92) and
/// is cured by it; acute GVHD (cost 1000) starts 30 days after, on day 122, and chronic GVHD
/// (cost 3000) 180 days after, on day 272. Nothing else costs anything and no one dies in the
/// first year, so every patient costs exactly 4000, discounted at 3% a year from those days.
/// Would fail if GVHD were not charged, or if the acute and chronic costs were swapped.
#[test]
fn gvhd_costs_are_charged_at_onset() {
    let hct = r#"
[therapies.hct]
kind = "hct"
max_age = 70.0
max_transplants = 1
time_to_transplant = { dist = "fixed", value = 50.0, unit = "days" }
trm = 0.0
trm_second = 0.0
trm_after_sos = 0.0
trm_time = { dist = "fixed", value = 1.0, unit = "days" }
acute_gvhd = { probability = 1.0, onset_days = 30, duration_days = 60 }
chronic_gvhd = { probability = 1.0, onset_days = 180, duration_days = 365 }
relapse = { dist = "mixture_cure", cure_fraction = 1.0, uncured = { dist = "fixed", value = 1.0, unit = "days" } }
mrd_positive_relapse_hr = 1.0
costs = { transplant = {}, acute_gvhd = { transplant = 1000 }, chronic_gvhd = { transplant = 3000 } }
"#;
    let text = scenario_text(
        &format!("{FIXED_BLIN}costs = {{ per_cycle = {{}} }}\n{hct}"),
        r#"{ therapies = ["blin"] }"#,
        r#"consolidation = { therapy = "hct", after = ["blin"] }"#,
        r#"{ dist = "fixed", value = 10.0, unit = "days" }"#,
        NO_BACKGROUND,
        &economics(0.5, 0.0),
    );
    let m = compiled(&text);
    let n = 100;
    let a = simulate(&m, n, 31);
    assert_eq!((a.acute_gvhd, a.chronic_gvhd), (n, n));
    assert!(
        (a.cost.mean() - 4000.0).abs() < 1e-6,
        "cost {}",
        a.cost.mean()
    );
    let at = |day: f64| 1.03f64.powf(-day / DAYS_PER_YEAR);
    let expected = 1000.0 * at(122.0) + 3000.0 * at(272.0);
    let disc = a.cost_disc.mean();
    assert!(
        (disc - expected).abs() < 1e-6,
        "discounted cost {disc} vs {expected}"
    );
}

/// `long_term_after_years` is read in years and kept in days: the adult scenario's 3 years.
#[test]
fn long_term_state_starts_after_the_given_years_in_days() {
    let model = scenario::load(&adult()).unwrap().model;
    let e = model.economics.as_ref().unwrap();
    assert_eq!(e.long_term_after_days, 3.0 * DAYS_PER_YEAR);
    assert_eq!(e.long_term_after_days, 1095.75);
}
