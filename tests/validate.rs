//! `allseq validate`: its outputs, its exit status, its populations and its errors.

use crate::common::*;
use crate::engine::{NO_BACKGROUND, scenario_text};
use std::path::Path;

fn targets_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/validation/targets.toml")
}

#[test]
fn shipped_targets_run_and_write_validation_csv() {
    let dir = tempfile::tempdir().unwrap();
    let o = allseq(&[
        "validate",
        targets_path().to_str().unwrap(),
        "--patients",
        "2000",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(dir.path().join("validation.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "id,metric,population,published,simulated,mcse,tolerance,pass,role"
    );
    let targets = std::fs::read_to_string(targets_path()).unwrap();
    assert_eq!(lines.count(), targets.matches("[[target]]").count());
    let stdout = String::from_utf8(o.stdout).unwrap();
    assert!(stdout.contains("targets pass"), "{stdout}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["command"], "validate");
    assert_eq!(manifest["patients"], 2000);
}

/// A scenario with everything fixed: CAR-T decided at 0, apheresis at day 5, product ready 30
/// days later, infusion 7 days after that (day 42), response at day 70 for everyone, relapse
/// 100 days later, 10 days of supportive care: death at day 180.
fn fixed_car_t(dir: &Path) {
    let car_t = r#"
[therapies.cart]
kind = "car_t"
target = "cd19"
max_courses = 1
apheresis_days = 5
apheresis_success = 1.0
manufacturing = { dist = "fixed", value = 30.0, unit = "days" }
manufacturing_failure = 0.0
waiting_dropout = { dist = "mixture_cure", cure_fraction = 1.0, uncured = { dist = "fixed", value = 1.0, unit = "days" } }
dropout_death_fraction = 0.0
lymphodepletion_days = 7
assessment_days = 28
response = 1.0
mrd_negative = 1.0
relapse = { dist = "fixed", value = 100.0, unit = "days" }
mrd_positive_relapse_hr = 1.0
toxicities = []
"#;
    let text = scenario_text(
        car_t,
        r#"{ therapies = ["cart"] }"#,
        "",
        r#"{ dist = "fixed", value = 10.0, unit = "days" }"#,
        NO_BACKGROUND,
        "",
    );
    write(dir, "fixed.toml", &text);
}

fn target(id: &str, metric: &str, population: &str, value: f64, tolerance: f64) -> String {
    format!(
        "[[target]]\nid = \"{id}\"\nscenario = \"fixed.toml\"\nstrategy = \"only\"\nmetric = \"{metric}\"\npopulation = \"{population}\"\nvalue = {value}\ntolerance = {tolerance}\nsource = \"test\"\n"
    )
}

fn validate(dir: &Path, targets: &str, extra: &[&str]) -> std::process::Output {
    let path = write(
        dir,
        "targets.toml",
        &format!("patients = 500\nseed = 1\n{targets}"),
    );
    let out = dir.join("out");
    let mut args = vec![
        "validate",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    allseq(&args)
}

fn simulated(dir: &Path) -> Vec<(String, f64, bool)> {
    let text = std::fs::read_to_string(dir.join("out/validation.csv")).unwrap();
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), r[4].parse().unwrap(), &r[7] == "true")
        })
        .collect()
}

#[test]
fn populations_measure_time_from_their_own_origin() {
    let dir = tempfile::tempdir().unwrap();
    fixed_car_t(dir.path());
    let targets = [
        target(
            "infusion-day",
            "median_time_to_infusion_days",
            "all",
            42.0,
            1.0,
        ),
        // From the start everyone dies at day 180: median 180 days, within the 1-day bins.
        target(
            "os-all",
            "median_os_months",
            "all",
            180.0 / 30.4375,
            1.0 / 30.4375,
        ),
        // From infusion, 138 days; from the response, 110 days.
        target(
            "os-infused",
            "median_os_months",
            "infused",
            138.0 / 30.4375,
            1.0 / 30.4375,
        ),
        target(
            "os-responders",
            "median_os_months",
            "responders",
            110.0 / 30.4375,
            1.0 / 30.4375,
        ),
        // Relapse 100 days after the response, for everyone.
        target(
            "rfs",
            "median_rfs_months",
            "responders",
            100.0 / 30.4375,
            1.0 / 30.4375,
        ),
        target("rfs-3m", "rfs_at_months:3", "responders", 1.0, 1e-9),
        target("rfs-4m", "rfs_at_months:4", "responders", 0.0, 1e-9),
        target("infused", "car_t_infused_fraction", "all", 1.0, 1e-9),
        target("relapse", "relapse_rate", "responders", 1.0, 1e-9),
    ]
    .concat();
    let o = validate(dir.path(), &targets, &["--strict"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for (id, sim, pass) in simulated(dir.path()) {
        assert!(pass, "{id}: simulated {sim}");
    }
}

#[test]
fn strict_fails_on_a_missed_target_and_still_writes_the_table() {
    let dir = tempfile::tempdir().unwrap();
    fixed_car_t(dir.path());
    let targets = target("wrong", "car_t_infused_fraction", "all", 0.5, 0.1);
    let o = validate(dir.path(), &targets, &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "without --strict a miss is reported, not fatal"
    );
    let o = validate(dir.path(), &targets, &["--strict"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(simulated(dir.path()), [("wrong".to_string(), 1.0, false)]);
}

/// Without `--quiet`, each scenario's run is announced on stderr; with it, nothing is.
#[test]
fn quiet_validation_announces_nothing() {
    let dir = tempfile::tempdir().unwrap();
    fixed_car_t(dir.path());
    let targets = target("infused", "car_t_infused_fraction", "all", 1.0, 0.1);
    let o = validate(dir.path(), &targets, &[]);
    assert!(o.status.success() && o.stderr.is_empty(), "{}", stderr(&o));
    let path = dir.path().join("targets.toml");
    let o = allseq(&[
        "validate",
        path.to_str().unwrap(),
        "--out",
        dir.path().join("loud").to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.starts_with("running ") && err.contains("(500 patients per strategy)"),
        "{err}"
    );
}

#[test]
fn invalid_targets_files_are_rejected_with_their_location() {
    let dir = tempfile::tempdir().unwrap();
    fixed_car_t(dir.path());
    let good = target("a", "relapse_rate", "all", 1.0, 0.1);
    for (bad_from, bad_to, field, message) in [
        (
            "relapse_rate",
            "relapse_ratio",
            "target[0].metric",
            "unknown metric `relapse_ratio`",
        ),
        (
            "\"all\"",
            "\"everyone\"",
            "target[0].population",
            "unknown population `everyone`",
        ),
        (
            "\"only\"",
            "\"nope\"",
            "target[0].strategy",
            "no strategy `nope`",
        ),
        (
            "fixed.toml",
            "missing.toml",
            "target[0].scenario",
            "no scenario file",
        ),
        (
            "tolerance = 0.1",
            "tolerance = 0",
            "target[0].tolerance",
            "must be a finite number > 0",
        ),
        (
            "source = \"test\"",
            "source = \"test\"\ncolour = 1",
            "target[0].colour",
            "unknown field `colour`",
        ),
        (
            "metric = \"relapse_rate\"",
            "metric = \"mean_qaly\"",
            "target[0].metric",
            "needs a scenario with [economics]",
        ),
        // Published values a metric cannot take were compared (and failed) without a word.
        (
            "value = 1",
            "value = -0.2",
            "target[0].value",
            "must be in [0, 1] for `relapse_rate` (got -0.2)",
        ),
        (
            "value = 1",
            "value = 44",
            "target[0].value",
            "must be in [0, 1] for `relapse_rate` (got 44)",
        ),
        (
            "relapse_rate\"\npopulation = \"all\"\nvalue = 1",
            "median_os_months\"\npopulation = \"all\"\nvalue = -3",
            "target[0].value",
            "must be >= 0 for `median_os_months` (got -3)",
        ),
    ] {
        let bad = good.replace(bad_from, bad_to);
        let o = validate(dir.path(), &bad, &[]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{bad}: {err}");
        assert!(
            err.contains("targets.toml:") && err.contains(&format!("`{field}`")),
            "{err}"
        );
        assert!(err.contains(message), "{err}");
        assert!(
            !dir.path().join("out/validation.csv").exists(),
            "no output on error"
        );
    }
    // Duplicate ids.
    let o = validate(dir.path(), &format!("{good}{good}"), &[]);
    assert!(
        stderr(&o).contains("is already the id of target[0]"),
        "{}",
        stderr(&o)
    );
}
