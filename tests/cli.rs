//! The binary on good and bad input (and, for the sweep over every number of the scenario, the
//! library, which is faster to call 2,500 times).
//!
//! Every bad input must give a clear error naming what is wrong, exit with status 2 (a panic
//! would be 101), and leave no output file behind.

use crate::common::*;
use std::path::Path;

/// Runs `allseq run <scenario> --out <dir>/out` and checks it failed cleanly; returns stderr.
fn fails(scenario: &Path, extra: &[&str], dir: &Path) -> String {
    let out = dir.join("out");
    let mut args = vec![
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let o = allseq(&args);
    let err = stderr(&o);
    assert_eq!(
        o.status.code(),
        Some(2),
        "expected a clean failure, got {:?}: {err}",
        o.status
    );
    assert!(err.starts_with("error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.lines().count() <= 3,
        "one short paragraph expected: {err}"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "partial output left: {leftovers:?}");
    err
}

/// Writes the adult scenario with one edit and expects an error at the edited line naming
/// `field`, with `message` in it.
fn bad_value(from: &str, to: &str, field: &str, message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let text = edit(&adult_text(), from, to);
    let line = line_of(&text, to.lines().last().unwrap());
    let path = write(dir.path(), "bad.toml", &text);
    let err = fails(&path, &[], dir.path());
    let at = format!("bad.toml:{line}:");
    assert!(err.contains(&at), "expected `{at}` in: {err}");
    assert!(
        err.contains(&format!("`{field}`")),
        "expected field `{field}` in: {err}"
    );
    assert!(err.contains(message), "expected `{message}` in: {err}");
}

/// A cost so large that a patient's total leaves the range of the exact sums (here an
/// administration cost of 10^15 a cycle; a drug cost of 10^11 a cycle overflowed within 20
/// patients) once wrapped around and gave wrong means and standard errors without a word.
/// `run` and `psa` now refuse, naming the strategy and the quantity, and `run` writes nothing.
#[test]
fn costs_beyond_the_exact_sums_are_refused_not_wrapped() {
    let dir = tempfile::tempdir().unwrap();
    let text = edit(
        &adult_text(),
        "administration = 1997,",
        "administration = 1e15,",
    );
    let path = write(dir.path(), "huge.toml", &text);
    let err = fails(&path, &["--patients", "50"], dir.path());
    assert!(
        err.contains("strategy `blinatumomab_first`: a patient's costs went beyond ±7.0e13"),
        "{err}"
    );
    assert!(err.contains("no results were written"), "{err}");
    let out = dir.path().join("psa");
    let o = allseq(&[
        "psa",
        path.to_str().unwrap(),
        "--draws",
        "2",
        "--patients",
        "20",
        "--threads",
        "1",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("PSA draw ") && err.contains("a patient's discounted costs went beyond"),
        "{err}"
    );
    assert!(!out.join("psa_long.csv").exists());
}

#[test]
fn default_scenario_runs_and_writes_three_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let o = allseq(&[
        "run",
        adult().to_str().unwrap(),
        "--patients",
        "2000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8(o.stdout).unwrap();
    assert!(
        stdout.contains("blinatumomab_first") && stdout.contains("median OS"),
        "{stdout}"
    );
    let mut names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "incremental.csv",
            "manifest.json",
            "summary.csv",
            "survival.csv"
        ]
    );
    let incremental = std::fs::read_to_string(out.join("incremental.csv")).unwrap();
    assert!(
        incremental.starts_with("strategy,cost,qaly,status,icer,nmb_50000,nmb_100000,nmb_150000,"),
        "{incremental}"
    );
    assert_eq!(incremental.lines().count(), 1 + adult_strategies());
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let header = summary.lines().next().unwrap();
    for col in [
        "mean_cost",
        "mean_qaly",
        "mean_cost_undiscounted",
        "mean_qaly_undiscounted",
        "mean_ly_undiscounted",
        "se_cost",
        "se_qaly",
        "se_ly",
        "cost_drug",
        "cost_end_of_life",
        "strategy",
        "patients",
        "median_os_months",
        "os_12m",
        "os_24m",
        "os_60m",
        "median_efs_months",
        "efs_12m",
        "mean_ly",
    ] {
        assert!(
            header.split(',').any(|c| c == col),
            "summary.csv lacks {col}"
        );
    }
    assert!(header.starts_with("strategy,"));
    assert_eq!(
        summary.lines().count(),
        1 + adult_strategies(),
        "header + one row per strategy"
    );
    let survival = std::fs::read_to_string(out.join("survival.csv")).unwrap();
    assert!(survival.starts_with("strategy,month,os,efs\n"));
    // A lifetime horizon runs from the youngest starting age (18) to the age by which everyone
    // has died (105, the scenario's background mortality): 87 years, months 0 to 1044.
    let months: Vec<&str> = survival
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(months.len(), 1045 * adult_strategies());
    assert_eq!((months[0], months[1044]), ("0", "1044"));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    for key in [
        "allseq_version",
        "git_commit",
        "scenario",
        "scenario_sha256",
        "seed",
        "patients",
        "threads",
        "started",
        "finished",
    ] {
        assert!(manifest.get(key).is_some(), "manifest lacks {key}");
    }
    assert_eq!(manifest["patients"], 2000);
    assert_eq!(manifest["scenario_sha256"].as_str().unwrap().len(), 64);
    // The simulation's own time and throughput: 2,000 patients under every strategy in that
    // time (to the rounding of the rate).
    let seconds = manifest["simulation_seconds"].as_f64().unwrap();
    let rate = manifest["trajectories_per_second"].as_f64().unwrap();
    assert!(seconds > 0.0 && seconds < 60.0, "{manifest}");
    let trajectories = (2000 * adult_strategies()) as f64;
    assert!(
        (rate * seconds - trajectories).abs() <= seconds,
        "{rate} trajectories/s for {seconds} s is not {trajectories} trajectories"
    );
    // No temporary files left next to the results.
    assert!(
        std::fs::read_dir(&out).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with('.'))
    );
}

#[test]
fn pediatric_scenario_runs() {
    let dir = tempfile::tempdir().unwrap();
    let scenario =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/pediatric_rr_ball.toml");
    let o = allseq(&[
        "run",
        scenario.to_str().unwrap(),
        "--patients",
        "3000",
        "--out",
        dir.path().to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = std::fs::read_to_string(dir.path().join("summary.csv")).unwrap();
    for s in [
        "blinatumomab_first",
        "car_t_first",
        "inotuzumab_first",
        "chemotherapy_first",
    ] {
        assert!(summary.contains(&format!("\n{s},")), "{s} missing");
    }
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails(&dir.path().join("nope.toml"), &[], dir.path());
    assert!(
        err.contains("cannot read") && err.contains("nope.toml: No such file"),
        "{err}"
    );
}

/// A file no scenario could be, endless or huge, is refused after 16 MiB: `/dev/zero` as the
/// scenario, or as what it extends, was read until memory ran out.
#[test]
fn endless_input_is_refused_after_16_mib() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails(Path::new("/dev/zero"), &[], dir.path());
    assert!(err.contains("/dev/zero: larger than 16 MiB"), "{err}");
    let child = dir.path().join("child.toml");
    std::fs::write(&child, "extends = \"/dev/zero\"\n").unwrap();
    let err = fails(&child, &[], dir.path());
    assert!(
        err.contains("child.toml:1:1: `extends`: cannot read /dev/zero: larger than 16 MiB"),
        "{err}"
    );
}

#[test]
fn invalid_toml_shows_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let text = edit(&adult_text(), "seed = 20261122", "seed = 20261122 oops");
    let line = line_of(&text, "oops");
    let path = write(dir.path(), "bad.toml", &text);
    let err = fails(&path, &[], dir.path());
    // Line and column of the first character toml cannot read (the value that ran on).
    assert!(err.contains(&format!("bad.toml:{line}:8:")), "{err}");
    assert!(
        err.contains("seed = 20261122 oops"),
        "the offending line is shown: {err}"
    );
    // And the field, found in what toml could read of the document around the error.
    assert!(
        err.contains(&format!(
            "bad.toml:{line}:8: `seed`: string values must be quoted"
        )),
        "{err}"
    );
    bad_value(
        "mrd_negative = 0.76",
        "mrd_negative = 0.76.5",
        "therapies.blinatumomab.mrd_negative",
        "invalid float",
    );
    bad_value(
        "sigma = 0.35, unit",
        "sigma = 0.35 unit",
        "therapies.cd19_car_t.manufacturing",
        "expected `,`",
    );
    // Text run on after a value: the field it follows on its line.
    bad_value(
        "name = \"blinatumomab_first\"",
        "name = \"blinatumomab_first\" x",
        "strategies[0].name",
        "expected newline",
    );
}

/// A key set twice is named by its field, whether in a `[table]`, an inline table or a
/// `[[strategies]]` entry, with the line where it was first set.
#[test]
fn a_key_set_twice_is_named_with_its_first_line() {
    let first = |needle: &str| line_of(&adult_text(), needle);
    bad_value(
        "mrd_negative = 0.76",
        "mrd_negative = 0.76\nmrd_negative = 0.5",
        "therapies.blinatumomab.mrd_negative",
        &format!(
            "duplicate key: first set on line {}",
            first("mrd_negative = 0.76")
        ),
    );
    bad_value(
        "{ first = 0.40,",
        "{ first = 0.40, first = 0.5,",
        "therapies.salvage_chemo.response.first",
        &format!(
            "duplicate key: first set on line {}",
            first("{ first = 0.40,")
        ),
    );
    bad_value(
        "name = \"car_t_first\"",
        "name = \"car_t_first\"\nname = \"car_t\"",
        "strategies[1].name",
        &format!(
            "duplicate key: first set on line {}",
            first("name = \"car_t_first\"")
        ),
    );
}

/// A value toml parses but cannot hold (an integer past 64 bits) is named by its field, the
/// field's own or an element of an array, as well as by its line.
#[test]
fn an_integer_too_large_for_toml_names_its_field() {
    bad_value(
        "seed = 20261122",
        "seed = 99999999999999999999",
        "seed",
        "invalid type: integer `99999999999999999999`",
    );
    bad_value(
        "wtp = [",
        "wtp = [99999999999999999999, ",
        "economics.wtp[0]",
        "invalid type: integer `99999999999999999999`",
    );
}

#[test]
fn unknown_field() {
    bad_value(
        "kind = \"antibody\"",
        "kind = \"antibody\"\ncolour = \"blue\"",
        "therapies.blinatumomab.colour",
        "unknown field `colour`",
    );
}

#[test]
fn unknown_field_inside_a_distribution() {
    bad_value(
        "shape = 1.2, scale = 9.47,",
        "shape = 1.2, scal = 9.47,",
        "therapies.blinatumomab.relapse.uncured.scal",
        "unknown field `scal`",
    );
}

#[test]
fn missing_required_field() {
    let dir = tempfile::tempdir().unwrap();
    let text = edit(&adult_text(), "mrd_negative = 0.76\n", "");
    let path = write(dir.path(), "bad.toml", &text);
    let err = fails(&path, &[], dir.path());
    assert!(err.contains("missing field `mrd_negative`"), "{err}");
    assert!(err.contains("therapies.blinatumomab"), "{err}");
}

#[test]
fn probability_outside_unit_interval() {
    bad_value(
        "manufacturing_failure = 0.076",
        "manufacturing_failure = 1.5",
        "therapies.cd19_car_t.manufacturing_failure",
        "must be a probability in [0, 1] (got 1.5)",
    );
}

/// A `max_age` of 10^20 years once asked for a histogram of 3×10^22 days: a capacity
/// overflow panic, or an abort for lack of memory at 10^11.
#[test]
fn impossible_maximum_age() {
    bad_value(
        "age_slope = 0.0773, max_age = 105.0 }",
        "age_slope = 0.0773, max_age = 1e20 }",
        "population.background_mortality.max_age",
        "must be at most 200 years",
    );
}

/// A standard deviation must be above 0: 0 is refused like a negative one.
#[test]
fn zero_standard_deviation() {
    bad_value(
        "sd = 15.0, min = 18.0",
        "sd = 0.0, min = 18.0",
        "population.age.sd",
        "must be a finite number > 0 (got 0)",
    );
}

/// An age range may hold a single age; a reversed one is refused at its `max`.
#[test]
fn age_range_of_one_age_loads_and_a_reversed_one_is_refused() {
    let normal = "age = { dist = \"normal\", mean = 41.0, sd = 15.0, min = 18.0, max = 80.0 }";
    let one = edit(
        &adult_text(),
        normal,
        "age = { dist = \"uniform\", min = 50.0, max = 50.0 }",
    );
    let m = compiled(&one);
    assert_eq!(m.population.min_age, 50.0);
    bad_value(
        normal,
        "age = { dist = \"uniform\", min = 60.0, max = 50.0 }",
        "population.age.max",
        "must be >= min (50 < 60)",
    );
    // A truncated normal whose range lies far out in its tail holds no probability.
    bad_value(
        normal,
        "age = { dist = \"normal\", mean = 41.0, sd = 1.0, min = 100.0, max = 120.0 }",
        "population.age",
        "the [min, max] range holds no probability under this normal",
    );
    // A therapy's age window likewise: one age is a window, a reversed one is refused.
    let car_t_window = "# age (label_max_age absent).\nmax_age = 75.0";
    let one = edit(
        &adult_text(),
        car_t_window,
        "# age (label_max_age absent).\nmin_age = 75.0\nmax_age = 75.0",
    );
    let m = compiled(&one);
    let car_t = m.therapies.iter().find(|t| t.name == "cd19_car_t").unwrap();
    assert_eq!((car_t.min_age, car_t.max_age), (75.0, 75.0));
    bad_value(
        car_t_window,
        "# age (label_max_age absent).\nmin_age = 76.0\nmax_age = 75.0",
        "therapies.cd19_car_t.max_age",
        "must be >= min_age (75 < 76)",
    );
}

#[test]
fn probability_inside_a_split() {
    bad_value(
        "cd22 = { high = 0.97, partial = 0.03, negative = 0.0 }",
        "cd22 = { high = 0.97, partial = -0.03, negative = 0.06 }",
        "population.cd22.partial",
        "must be a probability",
    );
}

#[test]
fn split_not_summing_to_one() {
    bad_value(
        "cd22 = { high = 0.97, partial = 0.03, negative = 0.0 }",
        "cd22 = { high = 0.97, partial = 0.13, negative = 0.0 }",
        "population.cd22",
        "must sum to 1",
    );
}

#[test]
fn negative_duration() {
    bad_value(
        "apheresis_days = 7",
        "apheresis_days = -7",
        "therapies.cd19_car_t.apheresis_days",
        "must be a finite number >= 0 (got -7)",
    );
}

#[test]
fn negative_distribution_parameter() {
    bad_value(
        "median = 36.0, sigma = 0.35",
        "median = 36.0, sigma = -0.35",
        "therapies.cd19_car_t.manufacturing.sigma",
        "must be a finite number > 0 (got -0.35)",
    );
}

#[test]
fn nan_duration() {
    bad_value(
        "cycle_days = 42",
        "cycle_days = nan",
        "therapies.blinatumomab.cycle_days",
        "(got NaN)",
    );
}

#[test]
fn nan_inside_a_nested_distribution() {
    bad_value(
        "shape = 1.2, scale = 9.47,",
        "shape = 1.2, scale = nan,",
        "therapies.blinatumomab.relapse.uncured.scale",
        "(got NaN)",
    );
}

#[test]
fn unknown_distribution() {
    bad_value(
        "dist = \"lognormal\", median = 36.0",
        "dist = \"lognormale\", median = 36.0",
        "therapies.cd19_car_t.manufacturing.dist",
        "unknown distribution `lognormale`",
    );
}

/// A value of the wrong type says what was expected there; a distribution's kind lists the
/// kinds there are; a field missing inside a distribution is named at the distribution.
#[test]
fn wrong_types_say_what_was_expected() {
    for (from, to, field, message) in [
        (
            "horizon = \"lifetime\"",
            "horizon = 5",
            "horizon",
            "invalid type: integer `5`, expected \"lifetime\" or a table { years = N }",
        ),
        (
            "mrd_negative = 0.76",
            "mrd_negative = \"x\"",
            "therapies.blinatumomab.mrd_negative",
            "expected a probability, or a table of probabilities by one attribute",
        ),
        (
            "{ therapies = [\"blinatumomab\"] },",
            "{ therapies = [5] },",
            "strategies[0].lines[0].therapies[0]",
            "expected a therapy name or a table { therapy = \"name\", when = { ... } }",
        ),
        (
            "dist = \"lognormal\", median = 36.0",
            "dist = 5, median = 36.0",
            "therapies.cd19_car_t.manufacturing.dist",
            "must be a string, one of `fixed`, `exponential`, `weibull`, `lognormal`, `gamma`, `mixture_cure`",
        ),
        (
            "dist = \"lognormal\", median = 36.0",
            "dist = \"lognorm\", median = 36.0",
            "therapies.cd19_car_t.manufacturing.dist",
            "unknown distribution `lognorm`, expected one of `fixed`, `exponential`",
        ),
        (
            "dist = \"lognormal\", median = 36.0,",
            "dist = \"lognormal\",",
            "therapies.cd19_car_t.manufacturing",
            "missing field `median`",
        ),
    ] {
        bad_value(from, to, field, message);
    }
}

#[test]
fn strategy_naming_an_undefined_therapy() {
    bad_value(
        "{ therapies = [\"blinatumomab\"] },",
        "{ therapies = [\"blinatumomabb\"] },",
        "strategies[0].lines[0].therapies[0]",
        "names therapy `blinatumomabb`, which the scenario does not define",
    );
}

#[test]
fn line_that_can_never_be_given() {
    bad_value(
        "{ therapies = [\"blinatumomab\"] },",
        "{ therapies = [\"blinatumomab\"], when = { cd19 = \"negative\" } },",
        "strategies[0].lines[0]",
        "this line can never be given",
    );
}

/// The second line of `chemotherapy_first`, and that line with `when` (or another
/// candidate) in place.
const CHEMO_LINES: &str =
    "    { therapies = [\"salvage_chemo\"] },\n    { therapies = [\"salvage_chemo\"] },";

fn chemo_second_line(line: &str) -> String {
    format!("    {{ therapies = [\"salvage_chemo\"] }},\n    {line},")
}

/// The adult scenario loads with `chemotherapy_first`'s second line replaced by `line`.
fn loads_with_second_line(line: &str) {
    let text = edit(&adult_text(), CHEMO_LINES, &chemo_second_line(line));
    if let Err(e) = allseq::scenario::parse("ok.toml".as_ref(), &text) {
        panic!("{line}: {e}");
    }
}

/// A condition whose age or burden bounds cross can never hold and is refused at its upper
/// bound; bounds that meet, or that leave a range, are a condition like any other.
#[test]
fn conditions_whose_bounds_cross_are_refused() {
    bad_value(
        CHEMO_LINES,
        &chemo_second_line(
            "{ therapies = [\"salvage_chemo\"], when = { min_age = 60, max_age = 50 } }",
        ),
        "strategies[3].lines[1].when.max_age",
        "can never hold: max_age 50 < min_age 60",
    );
    bad_value(
        CHEMO_LINES,
        &chemo_second_line(
            "{ therapies = [\"salvage_chemo\"], when = { min_burden = \"blasts_ge50\", max_burden = \"blasts_5_49\" } }",
        ),
        "strategies[3].lines[1].when.max_burden",
        "can never hold: max_burden is below min_burden",
    );
    for ok in [
        "{ therapies = [\"salvage_chemo\"], when = { min_age = 50, max_age = 50 } }",
        "{ therapies = [\"salvage_chemo\"], when = { min_age = 40, max_age = 50 } }",
        "{ therapies = [\"salvage_chemo\"], when = { min_burden = \"blasts_5_49\", max_burden = \"blasts_5_49\" } }",
        "{ therapies = [\"salvage_chemo\"], when = { min_burden = \"blasts_lt5\", max_burden = \"blasts_ge50\" } }",
    ] {
        loads_with_second_line(ok);
    }
}

/// A line's age condition and its therapy's age window may meet at one age (CAR-T's
/// `max_age` is 75); one year past it, no patient can have the line.
#[test]
fn a_line_whose_ages_meet_its_therapys_window_at_one_age_is_given() {
    loads_with_second_line("{ therapies = [\"cd19_car_t\"], when = { min_age = 75 } }");
    bad_value(
        CHEMO_LINES,
        &chemo_second_line("{ therapies = [\"cd19_car_t\"], when = { min_age = 76 } }"),
        "strategies[3].lines[1]",
        "no patient can be both old enough and young enough for `cd19_car_t` here",
    );
}

/// A consolidation after a therapy no line of the strategy gives would never happen.
#[test]
fn consolidation_after_a_therapy_no_line_gives() {
    bad_value(
        "consolidation = { therapy = \"allo_hct\", after = [\"salvage_chemo\"] }",
        "consolidation = { therapy = \"allo_hct\", after = [\"salvage_chemo\", \"inotuzumab\"] }",
        "strategies[3].consolidation.after[1]",
        "`inotuzumab` is not given by any line of this strategy",
    );
}

/// A toxicity disutility is a decrement in [0, 2]: a finite value past 2 is refused.
#[test]
fn toxicity_disutility_above_two() {
    bad_value(
        "crs = { low = 0.03, severe = 0.23 }",
        "crs = { low = 3.0, severe = 0.23 }",
        "economics.toxicity_disutilities.crs.low",
        "must be a utility decrement in [0, 2], positive = worse (got 3)",
    );
}

/// Rates by age with different cuts are compared at every age, the cuts included: here
/// grade >= 3 (0.6 from 50) exceeds any grade (0.5 until 65) only between the two cuts.
#[test]
fn grade3plus_above_any_grade_only_between_two_age_cuts() {
    bad_value(
        "{ kind = \"icans\", any_grade = 0.50, grade3plus = { age_cut = 65, below = 0.13, at_or_above = 0.28 }",
        "{ kind = \"icans\", any_grade = { age_cut = 65, below = 0.5, at_or_above = 0.9 }, grade3plus = { age_cut = 50, below = 0.1, at_or_above = 0.6 }",
        "therapies.blinatumomab.toxicities[1].grade3plus",
        "must not exceed any_grade (0.6 > 0.5 for some patients)",
    );
}

/// A currency is three capital letters: lower case or a fourth letter is refused.
#[test]
fn currency_that_is_not_an_iso_code() {
    for bad in ["usd", "USDX"] {
        bad_value(
            "currency = \"USD\"",
            &format!("currency = \"{bad}\""),
            "economics.currency",
            &format!("must be a 3-letter ISO 4217 code such as USD or GBP (got `{bad}`)"),
        );
    }
}

/// A willingness to pay is a whole amount from 0 to 10^12 per QALY.
#[test]
fn willingness_to_pay_that_is_negative_fractional_or_too_large() {
    for (bad, shown) in [("-1", "-1"), ("1.5", "1.5"), ("2e12", "2000000000000")] {
        bad_value(
            "wtp = [50000, 100000, 150000]",
            &format!("wtp = [50000, {bad}, 150000]"),
            "economics.wtp[1]",
            &format!("must be a whole amount per QALY, >= 0 (got {shown})"),
        );
    }
}

/// A scenario may define up to 32 therapies (the sets of therapies given are 32-bit masks);
/// a 33rd is refused.
#[test]
fn at_most_32_therapies() {
    let with_extra = |n: usize| {
        let mut text = adult_text();
        for k in 0..n {
            text.push_str(&format!(
                "\n[therapies.extra_{k}]\nkind = \"supportive\"\nsurvival = {{ dist = \"exponential\", mean = 3, unit = \"months\" }}\n"
            ));
        }
        text
    };
    let m = compiled(&with_extra(26));
    assert_eq!(m.therapies.len(), 32);
    let e = allseq::scenario::parse("bad.toml".as_ref(), &with_extra(27)).unwrap_err();
    assert_eq!(e.path, "therapies");
    assert_eq!(e.message, "at most 32 therapies are supported (got 33)");
}

/// A horizon in years is kept in days of 365.25.
#[test]
fn horizon_in_years_is_kept_in_days() {
    let text = edit(
        &adult_text(),
        "horizon = \"lifetime\"",
        "horizon = { years = 20 }",
    );
    let m = compiled(&text);
    assert_eq!(m.horizon, allseq::model::Horizon::Days(7305.0));
}

/// A consolidation naming a therapy twice kept only the last entry's `when` (here the HCT
/// after CAR-T lost its MRD-positive condition: 36% of car_t_first patients transplanted
/// instead of 20%), and an empty `after` never transplanted; both without a word.
#[test]
fn consolidation_after_a_therapy_twice_or_after_none() {
    bad_value(
        "\"salvage_chemo\"] },\n    { therapies = [\"inotuzumab\", \"salvage_chemo\"] },\n]\nconsolidation = { therapy = \"allo_hct\", after = [\"blinatumomab\", \"inotuzumab\", \"salvage_chemo\", { therapy = \"cd19_car_t\", when = { mrd = \"positive\" } }], max_cycles_before = { inotuzumab = 2 } }",
        "\"salvage_chemo\"] },\n    { therapies = [\"inotuzumab\", \"salvage_chemo\"] },\n]\nconsolidation = { therapy = \"allo_hct\", after = [\"blinatumomab\", \"inotuzumab\", \"salvage_chemo\", { therapy = \"cd19_car_t\", when = { mrd = \"positive\" } }, \"cd19_car_t\"], max_cycles_before = { inotuzumab = 2 } }",
        "strategies[1].consolidation.after[4]",
        "names `cd19_car_t` a second time",
    );
    bad_value(
        "consolidation = { therapy = \"allo_hct\", after = [\"salvage_chemo\"] }",
        "consolidation = { therapy = \"allo_hct\", after = [] }",
        "strategies[3].consolidation.after",
        "names no therapy, so the transplant is never given",
    );
}

#[test]
fn empty_strategy_list() {
    let text = adult_text();
    let cut = text.find("[[strategies]]").unwrap();
    let text = edit(
        &text[..cut],
        "horizon = \"lifetime\"",
        "horizon = \"lifetime\"\nstrategies = []",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bad.toml", &text);
    let err = fails(&path, &[], dir.path());
    assert!(
        err.contains("`strategies`") && err.contains("defines no strategy"),
        "{err}"
    );
    assert!(
        err.contains(&format!("bad.toml:{}:", line_of(&text, "strategies = []"))),
        "{err}"
    );
}

#[test]
fn zero_patients() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails(&adult(), &["--patients", "0"], dir.path());
    assert!(
        err.contains("invalid --patients: must be at least 1"),
        "{err}"
    );
}

/// 100,000 threads once ran for minutes on two cores before doing anything (starting and
/// stopping a pool that size): refused at once instead.
#[test]
fn too_many_threads() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails(&adult(), &["--threads", "100000"], dir.path());
    assert!(err.contains("'--threads <THREADS>': at most 1024"), "{err}");
}

#[test]
fn unwritable_output_directory() {
    // A path below a regular file cannot be created, even by root.
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "plain-file", "");
    let out = file.join("out");
    let o = allseq(&[
        "run",
        adult().to_str().unwrap(),
        "--patients",
        "100",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot write output") && err.contains("plain-file/out"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
}

/// A directory in the output directory under the name of an output file: the run fails
/// before any file is in place. It used to rename `summary.csv` into place, fail on
/// `survival.csv`, and leave the other files' temporaries (`.survival.csv.tmp-<pid>`, ...).
#[test]
fn a_directory_in_the_way_of_an_output_file_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(out.join("survival.csv").join("x")).unwrap();
    let o = allseq(&[
        "run",
        adult().to_str().unwrap(),
        "--patients",
        "20",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("survival.csv") && !err.contains("panicked"),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, ["survival.csv"], "partial output left");
}

#[test]
fn trace_shows_attributes_and_events_in_time_order() {
    let o = allseq(&[
        "trace",
        adult().to_str().unwrap(),
        "--patients",
        "5",
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        rdr.headers().unwrap(),
        vec!["patient", "strategy", "day", "kind", "what"]
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let mut last = (String::new(), String::new(), f64::NEG_INFINITY);
    let mut outcomes = 0;
    for r in &rows {
        let key = (r[0].to_string(), r[1].to_string());
        let day: f64 = r[2].parse().unwrap();
        if key != (last.0.clone(), last.1.clone()) {
            assert_eq!(
                &r[3], "patient",
                "each trajectory starts with the attributes"
            );
            last = (key.0, key.1, f64::NEG_INFINITY);
        } else if &r[3] != "outcome" {
            assert!(day >= last.2, "events out of time order: {r:?}");
            last.2 = day;
        } else {
            outcomes += 1;
            // The outcome names its day, to the hundredth, as the day column has it.
            let end = r[4]
                .split(" at day ")
                .nth(1)
                .and_then(|x| x.split(&[';', ' ']).next());
            let end: f64 = end
                .unwrap_or_else(|| panic!("no day in {r:?}"))
                .parse()
                .unwrap();
            assert!((end - day).abs() <= 0.005, "{r:?}");
        }
    }
    assert_eq!(
        outcomes,
        5 * adult_strategies(),
        "one outcome per patient and strategy"
    );
    // A toxicity's onset names its kind.
    let onsets: Vec<&str> = rows
        .iter()
        .filter(|r| &r[3] == "event" && r[4].contains(" onset, "))
        .map(|r| r[4].split(" onset, ").next().unwrap())
        .collect();
    assert!(!onsets.is_empty(), "no toxicity in five patients");
    for kind in onsets {
        assert!(
            ["CRS", "ICANS", "SOS", "INFECTION", "GVHD"].contains(&kind),
            "{kind}"
        );
    }
    let o = allseq(&["trace", adult().to_str().unwrap(), "--strategy", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no strategy `nope`"));
}

/// `trace` hands over one patient's rows at a time (every strategy's), so that the command
/// streams them: it held every row of the trace in memory before printing (3.7 GB for 2x10^5
/// patients; 6 MB now, whatever the number).
#[test]
fn trace_hands_over_one_patient_at_a_time() {
    let model = allseq::scenario::load(&adult()).unwrap().model;
    let strategies: Vec<usize> = (0..model.strategies.len()).collect();
    let mut seen = Vec::new();
    allseq::trace::trace(&model, 1, 4, &strategies, |rows| {
        assert!(rows.iter().all(|r| r.patient == rows[0].patient));
        let outcomes = rows.iter().filter(|r| r.kind == "outcome").count();
        assert_eq!(outcomes, strategies.len(), "every strategy's trajectory");
        seen.push(rows[0].patient);
        Ok::<(), ()>(())
    })
    .unwrap();
    assert_eq!(seen, [0, 1, 2, 3]);
    // It stops at the first error (a closed pipe, say).
    let mut calls = 0;
    let stopped = allseq::trace::trace(&model, 1, 4, &strategies, |_| {
        calls += 1;
        if calls == 2 { Err("stop") } else { Ok(()) }
    });
    assert_eq!((stopped, calls), (Err("stop"), 2));
}

/// Byte ranges of the numbers written in a TOML text: outside comments and strings, after
/// `=`, `[`, `{`, `,` or a space (so not the digits inside a key such as `blasts_5_49`).
fn number_literals(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start_of_line = 0;
    for line in text.split_inclusive('\n') {
        let bytes = line.as_bytes();
        let (mut i, mut in_string) = (0, false);
        while i < bytes.len() {
            let c = bytes[i];
            if c == b'"' {
                in_string = !in_string;
            } else if c == b'#' && !in_string {
                break;
            } else if !in_string
                && (c.is_ascii_digit()
                    || (c == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)))
                && i > 0
                && b"=[{, ".contains(&bytes[i - 1])
            {
                let mut j = i + 1;
                while j < bytes.len() && b"0123456789.eE+-_".contains(&bytes[j]) {
                    j += 1;
                }
                out.push((start_of_line + i, start_of_line + j));
                i = j;
                continue;
            }
            i += 1;
        }
        start_of_line += line.len();
    }
    out
}

/// Every number of the adult scenario set, one at a time, to values no scenario should hold:
/// each either compiles and simulates (20 patients under every strategy) or is refused with an
/// error at its line and field. Nothing panics. (The CLI sweep this stands for found a
/// `max_age` of 1e20 panicking and a beta or gamma shape of 1e7 or more hanging.)
#[test]
fn no_number_in_the_scenario_makes_the_engine_panic() {
    use allseq::runner::{RunOptions, run};
    let text = adult_text();
    let numbers = number_literals(&text);
    assert!(numbers.len() > 250, "{} numbers found", numbers.len());
    let opts = RunOptions {
        patients: 20,
        seed: 1,
        threads: 1,
        chunk_size: 20,
        progress: None,
    };
    let (mut simulated, mut refused, mut out_of_range, mut failures) = (0, 0, 0, Vec::new());
    for &(a, b) in &numbers {
        let line = text[..a].matches('\n').count() + 1;
        for v in ["-1", "0", "0.5", "2", "1e11", "1e20", "1e308", "1e-300"] {
            let edited = format!("{}{v}{}", &text[..a], &text[b..]);
            let outcome = std::panic::catch_unwind(|| {
                match allseq::scenario::parse("x.toml".as_ref(), &edited) {
                    Ok(model) => run(&model, &opts).map(|_| None),
                    Err(e) => Ok(Some(e)),
                }
            });
            let what = format!("line {line}: `{}` -> {v}", &text[a..b]);
            match outcome {
                Ok(Ok(None)) => simulated += 1,
                Ok(Ok(Some(e))) if e.line > 0 && !e.path.is_empty() => refused += 1,
                Ok(Ok(Some(e))) => failures.push(format!("{what}: unlocated error: {e}")),
                // A cost that makes a patient's total exceed what the exact sums hold: the
                // run refuses its results (they wrapped around, unseen, before).
                Ok(Err(allseq::error::Error::OutOfRange { .. })) => out_of_range += 1,
                Ok(Err(e)) => failures.push(format!("{what}: run failed: {e}")),
                Err(_) => failures.push(format!("{what}: panicked")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        simulated > 0 && refused > 0 && out_of_range > 0,
        "{simulated} simulated, {refused} refused, {out_of_range} out of range"
    );
    println!("{simulated} simulated, {refused} refused, {out_of_range} out of range");
}

/// On a terminal, `run` and `psa` draw a progress bar on stderr, and `--quiet` turns it off;
/// on a pipe (as in every other test) there is none. The terminal is a pseudo-terminal from
/// util-linux's `script` (Debian's essential `bsdutils`), hence Linux only.
#[cfg(target_os = "linux")]
#[test]
fn progress_bars_only_on_a_terminal_and_not_when_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let on_terminal = |args: &str| {
        let command = format!(
            "'{}' {args} --threads 1 --out '{}'",
            env!("CARGO_BIN_EXE_allseq"),
            dir.path().join("out").display()
        );
        let o = std::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .output()
            .expect("util-linux `script` runs (it gives the test its terminal)");
        assert!(o.status.success(), "{command}: {o:?}");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let adult = adult();
    let run = format!("run '{}' --patients 20000", adult.display());
    let psa = format!("psa '{}' --draws 3 --patients 500", adult.display());
    assert!(
        on_terminal(&run).contains(" patients ("),
        "a bar of patients"
    );
    assert!(on_terminal(&psa).contains(" draws ("), "a bar of draws");
    assert!(!on_terminal(&format!("{run} --quiet")).contains(" patients ("));
    assert!(!on_terminal(&format!("{psa} --quiet")).contains(" draws ("));
    let out = dir.path().join("piped");
    let piped = allseq(&[
        "run",
        adult.to_str().unwrap(),
        "--patients",
        "20000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(piped.status.success());
    assert!(!stderr(&piped).contains(" patients ("), "no bar on a pipe");
}
