//! `allseq validate`: simulated endpoints against published ones.
//!
//! A targets file lists endpoints, each naming a scenario (relative to the targets file), a
//! strategy, a metric, a population and the published value with a tolerance. Every scenario is
//! run once, with aggregates for three populations:
//!
//! * `all`: every patient, times from the start of the strategy (intention to treat);
//! * `infused`: patients who received CAR-T cells, times from the (first) infusion;
//! * `responders`: patients who responded to the first therapy given, times from that response.
//!
//! Each simulated value comes with its Monte Carlo standard error; a target passes when
//! `|simulated − published| ≤ tolerance`.

use crate::engine::Outcome;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::runner::{Accumulate, RunOptions, run_with};
use crate::scenario::{self, Source};
use crate::summary::{ExactSum, StrategyAgg, SurvivalHist};
use crate::time::{DAYS_PER_MONTH, Days};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A targets file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetsFile {
    /// Default patients per scenario run (`--patients` overrides).
    patients: u64,
    /// Default seed (`--seed` overrides).
    seed: u64,
    target: Vec<TargetSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetSpec {
    id: String,
    scenario: String,
    strategy: String,
    metric: String,
    population: String,
    value: f64,
    tolerance: f64,
    source: String,
    /// How the target relates to the scenario's parameters; absent: `validation`.
    role: Option<Role>,
}

/// How a target relates to the parameters of its scenario, so that a pass is read for what it
/// is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A parameter was taken directly from this endpoint: a pass checks that the model carries
    /// its inputs through (verification), not that it predicts.
    Input,
    /// A parameter was adjusted until this endpoint was met: a pass is expected.
    Calibration,
    /// No parameter was set from this endpoint: a pass is evidence of validity.
    Validation,
}

impl Role {
    /// The label in files.
    pub fn label(self) -> &'static str {
        match self {
            Role::Input => "input",
            Role::Calibration => "calibration",
            Role::Validation => "validation",
        }
    }
}

/// What is measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    /// Response to the first therapy given.
    FirstLineResponseRate,
    /// MRD-negative among first-line responders.
    MrdNegativeRate,
    /// Infused among CAR-T intentions.
    CarTInfusedFraction,
    /// Manufacturing failures among CAR-T intentions.
    ManufacturingFailureRate,
    /// Median overall survival \[months\].
    MedianOsMonths,
    /// Median event-free survival \[months\].
    MedianEfsMonths,
    /// Overall survival at a month.
    OsAtMonths(usize),
    /// Event-free survival at a month.
    EfsAtMonths(usize),
    /// Relapse-free survival of responders at a month after the response.
    RfsAtMonths(usize),
    /// Median relapse-free survival of responders from the response \[months\] (duration of
    /// remission).
    MedianRfsMonths,
    /// Patients with an HCT.
    HctRate,
    /// Grade >= 3 CRS of the first line (the trial's study treatment).
    CrsGrade3plusRate,
    /// Grade >= 3 neurotoxicity of the first line.
    IcansGrade3plusRate,
    /// SOS/VOD of the first line (including at the HCT consolidating its remission).
    SosRate,
    /// CD19-negative first relapses among relapses.
    Cd19NegativeRelapseFraction,
    /// Patients with a relapse.
    RelapseRate,
    /// Median days from the start to infusion, among the infused.
    MedianTimeToInfusionDays,
    /// Mean discounted life-years.
    MeanLy,
    /// Mean discounted QALYs.
    MeanQaly,
    /// Mean discounted cost.
    MeanCost,
}

impl Metric {
    /// Parses a metric name (`os_at_months:12` carries its month).
    pub fn parse(s: &str) -> Option<Metric> {
        if let Some((name, m)) = s.split_once(':') {
            let m: usize = m.parse().ok()?;
            return match name {
                "os_at_months" => Some(Metric::OsAtMonths(m)),
                "efs_at_months" => Some(Metric::EfsAtMonths(m)),
                "rfs_at_months" => Some(Metric::RfsAtMonths(m)),
                _ => None,
            };
        }
        Some(match s {
            "first_line_response_rate" => Metric::FirstLineResponseRate,
            "mrd_negative_rate" => Metric::MrdNegativeRate,
            "car_t_infused_fraction" => Metric::CarTInfusedFraction,
            "manufacturing_failure_rate" => Metric::ManufacturingFailureRate,
            "median_os_months" => Metric::MedianOsMonths,
            "median_efs_months" => Metric::MedianEfsMonths,
            "median_rfs_months" => Metric::MedianRfsMonths,
            "hct_rate" => Metric::HctRate,
            "crs_grade3plus_rate" => Metric::CrsGrade3plusRate,
            "icans_grade3plus_rate" => Metric::IcansGrade3plusRate,
            "sos_rate" => Metric::SosRate,
            "cd19_negative_relapse_fraction" => Metric::Cd19NegativeRelapseFraction,
            "relapse_rate" => Metric::RelapseRate,
            "median_time_to_infusion_days" => Metric::MedianTimeToInfusionDays,
            "mean_ly" => Metric::MeanLy,
            "mean_qaly" => Metric::MeanQaly,
            "mean_cost" => Metric::MeanCost,
            _ => return None,
        })
    }

    fn needs_economics(self) -> bool {
        matches!(self, Metric::MeanLy | Metric::MeanQaly | Metric::MeanCost)
    }

    /// The values the metric can take: [0, 1] for a proportion or a survival, >= 0 for a time,
    /// a cost or life-years; any for QALYs (a disutility can exceed a utility).
    fn range(self) -> (f64, f64) {
        match self {
            Metric::MedianOsMonths
            | Metric::MedianEfsMonths
            | Metric::MedianRfsMonths
            | Metric::MedianTimeToInfusionDays
            | Metric::MeanLy
            | Metric::MeanCost => (0.0, f64::INFINITY),
            Metric::MeanQaly => (f64::NEG_INFINITY, f64::INFINITY),
            _ => (0.0, 1.0),
        }
    }
}

const METRICS: &str = "first_line_response_rate, mrd_negative_rate, car_t_infused_fraction, manufacturing_failure_rate, median_os_months, median_efs_months, median_rfs_months, os_at_months:<m>, efs_at_months:<m>, rfs_at_months:<m>, hct_rate, crs_grade3plus_rate, icans_grade3plus_rate, sos_rate, cd19_negative_relapse_fraction, relapse_rate, median_time_to_infusion_days, mean_ly, mean_qaly, mean_cost";

/// Which patients a target is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Population {
    /// Everyone, from the start.
    All = 0,
    /// CAR-T-infused patients, from infusion.
    Infused = 1,
    /// First-line responders, from the response.
    Responders = 2,
}

impl Population {
    fn parse(s: &str) -> Option<Population> {
        match s {
            "all" => Some(Population::All),
            "infused" => Some(Population::Infused),
            "responders" => Some(Population::Responders),
            _ => None,
        }
    }

    /// The label in files.
    pub fn label(self) -> &'static str {
        ["all", "infused", "responders"][self as usize]
    }
}

/// Aggregates of one population of one strategy.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PopAgg {
    agg: StrategyAgg,
    /// Relapse-free survival of the population's first-line responders, from the response.
    rfs: SurvivalHist,
    /// Days from the start to the first infusion, among the population's infused patients.
    to_infusion: SurvivalHist,
}

impl PopAgg {
    fn new(max_days: f64) -> PopAgg {
        PopAgg {
            agg: StrategyAgg::new(max_days),
            rfs: SurvivalHist::new(max_days),
            to_infusion: SurvivalHist::new(max_days),
        }
    }

    fn add(&mut self, o: &Outcome, origin: Days) {
        let shift = |t: Days| Days::new((t.get() - origin.get()).max(0.0)).expect("finite");
        let mut shifted = *o;
        shifted.end = shift(o.end);
        shifted.efs = shift(o.efs);
        self.agg.add(&shifted);
        if let Some(tr) = o.first_response_time {
            let (t, event) = match o.first_relapse_time {
                Some(tl) => (tl, true),
                None => (o.end, o.death.is_some()),
            };
            self.rfs
                .add(Days::new(t.get() - tr.get()).expect("finite"), event);
        }
        if let Some(ti) = o.infusion_time {
            self.to_infusion.add(ti, true);
        }
    }

    fn merge(&mut self, o: &PopAgg) {
        self.agg.merge(&o.agg);
        self.rfs.merge(&o.rfs);
        self.to_infusion.merge(&o.to_infusion);
    }
}

/// Per strategy, the three populations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationAgg {
    strategies: Vec<[PopAgg; 3]>,
}

impl ValidationAgg {
    fn new(n: usize, max_days: f64) -> ValidationAgg {
        ValidationAgg {
            strategies: (0..n)
                .map(|_| {
                    [
                        PopAgg::new(max_days),
                        PopAgg::new(max_days),
                        PopAgg::new(max_days),
                    ]
                })
                .collect(),
        }
    }
}

impl Accumulate for ValidationAgg {
    fn add_patient(&mut self, outcomes: &[Outcome]) {
        for (pops, o) in self.strategies.iter_mut().zip(outcomes) {
            pops[0].add(o, Days::ZERO);
            if let Some(ti) = o.infusion_time {
                pops[1].add(o, ti);
            }
            if let Some(tr) = o.first_response_time {
                pops[2].add(o, tr);
            }
        }
    }

    fn merge(mut self, other: Self) -> Self {
        for (a, b) in self.strategies.iter_mut().zip(&other.strategies) {
            for (x, y) in a.iter_mut().zip(b) {
                x.merge(y);
            }
        }
        self
    }
}

/// A simulated value and its Monte Carlo standard error (`None`: not estimable, e.g. an empty
/// population or a median not reached).
type Estimate = Option<(f64, Option<f64>)>;

fn proportion(num: u64, den: u64) -> Estimate {
    (den > 0).then(|| {
        let p = num as f64 / den as f64;
        (p, Some((p * (1.0 - p) / den as f64).sqrt()))
    })
}

fn landmark(h: &SurvivalHist, n: u64, month: usize) -> Estimate {
    if n == 0 {
        return None;
    }
    h.at_month(month)
        .map(|s| (s, Some((s * (1.0 - s) / n as f64).sqrt())))
}

/// Median \[days\] with its standard error `sqrt(1/4n) / f(median)`, the density estimated from
/// the survival curve over ±15 days.
fn median(h: &SurvivalHist, n: u64) -> Estimate {
    let m = h.median_days()?;
    let (a, b) = ((m - 15.0).max(0.0), m + 15.0);
    let f = (h.survival_at_day(a) - h.survival_at_day(b)) / (b - a);
    let se = (f > 0.0 && n > 0).then(|| (0.25 / n as f64).sqrt() / f);
    Some((m, se))
}

fn mean(s: &ExactSum) -> Estimate {
    (s.count() > 0).then(|| (s.mean(), Some(s.std_error())))
}

fn months(e: Estimate) -> Estimate {
    e.map(|(v, se)| (v / DAYS_PER_MONTH, se.map(|s| s / DAYS_PER_MONTH)))
}

fn estimate(p: &PopAgg, metric: Metric) -> Estimate {
    let a = &p.agg;
    let n = a.patients;
    match metric {
        Metric::FirstLineResponseRate => proportion(a.first_response, n),
        Metric::MrdNegativeRate => proportion(a.first_mrd_negative, a.first_response),
        Metric::CarTInfusedFraction => proportion(a.car_t_infused, a.car_t_intended),
        Metric::ManufacturingFailureRate => proportion(a.manufacturing_failed, a.car_t_intended),
        Metric::MedianOsMonths => months(median(&a.os, n)),
        Metric::MedianEfsMonths => months(median(&a.efs, n)),
        Metric::OsAtMonths(m) => landmark(&a.os, n, m),
        Metric::EfsAtMonths(m) => landmark(&a.efs, n, m),
        Metric::RfsAtMonths(m) => landmark(&p.rfs, p.rfs.patients(), m),
        Metric::MedianRfsMonths => months(median(&p.rfs, p.rfs.patients())),
        Metric::HctRate => proportion(a.transplanted, n),
        // A trial reports the toxicity of its study treatment: the first line (with its bridge,
        // its infusion and SOS at the HCT consolidating its remission), not of later lines.
        Metric::CrsGrade3plusRate => proportion(a.first_line_crs_grade3plus, n),
        Metric::IcansGrade3plusRate => proportion(a.first_line_icans_grade3plus, n),
        Metric::SosRate => proportion(a.first_line_sos, n),
        Metric::Cd19NegativeRelapseFraction => proportion(a.cd19_negative_relapses, a.relapsed),
        Metric::RelapseRate => proportion(a.relapsed, n),
        Metric::MedianTimeToInfusionDays => median(&p.to_infusion, p.to_infusion.patients()),
        Metric::MeanLy => mean(&a.ly_disc),
        Metric::MeanQaly => mean(&a.qaly_disc),
        Metric::MeanCost => mean(&a.cost_disc),
    }
}

/// A checked target.
#[derive(Debug, Clone)]
struct Target {
    id: String,
    scenario: usize,
    strategy: usize,
    metric_name: String,
    metric: Metric,
    population: Population,
    value: f64,
    tolerance: f64,
    role: Role,
}

/// One line of `validation.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// Target id.
    pub id: String,
    /// Metric as written.
    pub metric: String,
    /// Population label.
    pub population: &'static str,
    /// Published value.
    pub published: f64,
    /// Simulated value, if estimable.
    pub simulated: Option<f64>,
    /// Its Monte Carlo standard error.
    pub mcse: Option<f64>,
    /// Allowed absolute difference.
    pub tolerance: f64,
    /// Whether it passed.
    pub pass: bool,
    /// How the target relates to the parameters.
    pub role: Role,
}

/// Loaded and checked targets with the scenarios they need.
#[derive(Debug)]
pub struct Plan {
    /// Default patients.
    pub patients: u64,
    /// Default seed.
    pub seed: u64,
    /// Scenario paths (as resolved) and models, in order of first use.
    pub scenarios: Vec<(PathBuf, Model)>,
    targets: Vec<Target>,
}

/// Reads a targets file and every scenario it names; checks every target.
///
/// # Errors
/// A located error for a malformed targets file, an unknown field, metric, population or
/// strategy, a duplicate id, an impossible value or tolerance, or an invalid scenario.
pub fn plan(path: &Path) -> Result<Plan> {
    let (file, source): (TargetsFile, Source) = scenario::read_toml(path)?;
    let err = |field: String, msg: String| -> Error { source.error(&field, msg).into() };
    if file.patients == 0 {
        return Err(err("patients".into(), "must be at least 1".into()));
    }
    if file.target.is_empty() {
        return Err(err("target".into(), "the file lists no [[target]]".into()));
    }
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut scenarios: Vec<(PathBuf, Model)> = Vec::new();
    let mut by_path: BTreeMap<PathBuf, usize> = BTreeMap::new();
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    let mut targets = Vec::with_capacity(file.target.len());
    for (i, t) in file.target.iter().enumerate() {
        let f = |n: &str| format!("target[{i}].{n}");
        if t.id.trim().is_empty() {
            return Err(err(f("id"), "must not be empty".into()));
        }
        if let Some(j) = ids.insert(t.id.clone(), i) {
            return Err(err(
                f("id"),
                format!("`{}` is already the id of target[{j}]", t.id),
            ));
        }
        let spath = dir.join(&t.scenario);
        let s = match by_path.get(&spath) {
            Some(&s) => s,
            None => {
                if !spath.is_file() {
                    return Err(err(
                        f("scenario"),
                        format!(
                            "no scenario file at {} (paths are relative to the targets file)",
                            spath.display()
                        ),
                    ));
                }
                let model = scenario::load(&spath)?.model;
                scenarios.push((spath.clone(), model));
                by_path.insert(spath, scenarios.len() - 1);
                scenarios.len() - 1
            }
        };
        let model = &scenarios[s].1;
        let strategy = model
            .find_strategy(&t.strategy, &t.scenario)
            .map_err(|reason| err(f("strategy"), reason))?;
        let metric = Metric::parse(&t.metric).ok_or_else(|| {
            err(
                f("metric"),
                format!("unknown metric `{}`; metrics are: {METRICS}", t.metric),
            )
        })?;
        if metric.needs_economics() && model.economics.is_none() {
            return Err(err(
                f("metric"),
                format!(
                    "`{}` needs a scenario with [economics]; {} has none",
                    t.metric, t.scenario
                ),
            ));
        }
        let population = Population::parse(&t.population).ok_or_else(|| {
            err(
                f("population"),
                format!(
                    "unknown population `{}`: all, infused or responders",
                    t.population
                ),
            )
        })?;
        if !t.value.is_finite() {
            return Err(err(
                f("value"),
                format!("must be a finite number (got {})", t.value),
            ));
        }
        let (low, high) = metric.range();
        if !(low..=high).contains(&t.value) {
            let want = if high == 1.0 { "in [0, 1]" } else { ">= 0" };
            return Err(err(
                f("value"),
                format!("must be {want} for `{}` (got {})", t.metric, t.value),
            ));
        }
        if !(t.tolerance.is_finite() && t.tolerance > 0.0) {
            return Err(err(
                f("tolerance"),
                format!("must be a finite number > 0 (got {})", t.tolerance),
            ));
        }
        if t.source.trim().is_empty() {
            return Err(err(f("source"), "must name the published source".into()));
        }
        targets.push(Target {
            id: t.id.clone(),
            scenario: s,
            strategy,
            metric_name: t.metric.clone(),
            metric,
            population,
            value: t.value,
            tolerance: t.tolerance,
            role: t.role.unwrap_or(Role::Validation),
        });
    }
    Ok(Plan {
        patients: file.patients,
        seed: file.seed,
        scenarios,
        targets,
    })
}

/// Runs every scenario of the plan once and checks every target, in file order.
///
/// # Errors
/// [`Error::Threads`] if the thread pool cannot be built.
pub fn run(
    plan: &Plan,
    patients: u64,
    seed: u64,
    threads: usize,
    mut progress: impl FnMut(&Path),
) -> Result<Vec<Check>> {
    let mut results: Vec<ValidationAgg> = Vec::with_capacity(plan.scenarios.len());
    for (path, model) in &plan.scenarios {
        progress(path);
        let opts = RunOptions {
            patients,
            seed,
            threads,
            chunk_size: crate::runner::DEFAULT_CHUNK,
            progress: None,
        };
        let max_days = model.max_follow_up_days();
        let n = model.strategies.len();
        results.push(run_with(model, &opts, || ValidationAgg::new(n, max_days))?);
    }
    Ok(plan
        .targets
        .iter()
        .map(|t| {
            let pop = &results[t.scenario].strategies[t.strategy][t.population as usize];
            let est = estimate(pop, t.metric);
            let simulated = est.map(|e| e.0);
            Check {
                id: t.id.clone(),
                metric: t.metric_name.clone(),
                population: t.population.label(),
                published: t.value,
                simulated,
                mcse: est.and_then(|e| e.1),
                tolerance: t.tolerance,
                pass: simulated.is_some_and(|v| (v - t.value).abs() <= t.tolerance),
                role: t.role,
            }
        })
        .collect())
}

/// The printed comparison: published vs simulated with its Monte Carlo standard error.
pub fn table(checks: &[Check]) -> String {
    let mut lines = vec![
        [
            "target",
            "population",
            "role",
            "published",
            "simulated",
            "MCSE",
            "tolerance",
            "result",
        ]
        .map(String::from)
        .to_vec(),
    ];
    let num = |x: f64| {
        if x.abs() >= 100.0 {
            format!("{x:.1}")
        } else {
            format!("{x:.3}")
        }
    };
    for c in checks {
        lines.push(vec![
            c.id.clone(),
            c.population.to_string(),
            c.role.label().to_string(),
            num(c.published),
            c.simulated.map_or("-".into(), num),
            c.mcse.map_or("-".into(), num),
            num(c.tolerance),
            if c.pass { "pass" } else { "FAIL" }.into(),
        ]);
    }
    crate::report::render(&lines)
}

/// "k of n pass" by role, for the summary line.
pub fn pass_counts(checks: &[Check]) -> String {
    [Role::Validation, Role::Input, Role::Calibration]
        .iter()
        .filter_map(|&r| {
            let of: Vec<&Check> = checks.iter().filter(|c| c.role == r).collect();
            (!of.is_empty()).then(|| {
                format!(
                    "{}: {} of {}",
                    r.label(),
                    of.iter().filter(|c| c.pass).count(),
                    of.len()
                )
            })
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Workspace;
    use crate::rng::RunKey;
    use crate::runner::simulate_range;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    /// A histogram of `n` patients: `deaths` of them at day `day` + 0.5 (counted from day
    /// `day` + 1 on: S at a whole day counts the events up to it), the rest censored.
    fn hist(n: u64, deaths: &[(u64, f64)]) -> SurvivalHist {
        let mut h = SurvivalHist::new(3650.0);
        let mut dead = 0;
        for &(count, day) in deaths {
            for _ in 0..count {
                h.add(Days::new(day + 0.5).unwrap(), true);
            }
            dead += count;
        }
        for _ in dead..n {
            h.add(Days::new(3000.0).unwrap(), false);
        }
        h
    }

    #[test]
    fn a_proportion_has_the_binomial_standard_error() {
        let (p, se) = proportion(3, 10).unwrap();
        assert_eq!(p, 0.3);
        assert!(close(se.unwrap(), (0.3_f64 * 0.7 / 10.0).sqrt()));
        assert_eq!(proportion(0, 0), None);
        assert_eq!(proportion(0, 4), Some((0.0, Some(0.0))));
    }

    #[test]
    fn a_landmark_has_the_binomial_standard_error_over_the_patients_given() {
        let h = hist(100, &[(30, 10.0), (10, 40.0)]);
        let (s, se) = landmark(&h, 100, 1).unwrap();
        assert!(close(s, 0.7), "{s}");
        assert!(close(se.unwrap(), (0.7_f64 * 0.3 / 100.0).sqrt()));
        // The standard error is over the n given, not the histogram's own count.
        let (_, se) = landmark(&h, 25, 1).unwrap();
        assert!(close(se.unwrap(), (0.7_f64 * 0.3 / 25.0).sqrt()));
        assert_eq!(landmark(&h, 0, 1), None);
    }

    /// SE(median) = sqrt(1/4n) / f(median), f from the survival curve over ±15 days.
    #[test]
    fn a_median_has_the_density_based_standard_error() {
        // One death a day over 1,000 days: S(k) = 1 − k/1000 at whole days, 0.5 at day 500.
        let deaths: Vec<(u64, f64)> = (0..1000).map(|d| (1, d as f64)).collect();
        let h = hist(1000, &deaths);
        let (m, se) = median(&h, 1000).unwrap();
        assert!(close(m, 500.0), "{m}");
        let f = ((1.0 - 485.0 / 1000.0) - (1.0 - 515.0 / 1000.0)) / 30.0;
        assert!(close(se.unwrap(), (0.25_f64 / 1000.0).sqrt() / f), "{se:?}");
        // Near zero the window starts at day 0: 60 of 100 die in day 6.
        let h = hist(100, &[(60, 5.0)]);
        let (m, se) = median(&h, 100).unwrap();
        let want_m = 5.0 + 0.5 / 0.6;
        assert!(close(m, want_m), "{m}");
        let f = (1.0 - 0.4) / (want_m + 15.0);
        assert!(close(se.unwrap(), (0.25_f64 / 100.0).sqrt() / f), "{se:?}");
        // No patients given: a median, but no standard error; S above 0.5: no median.
        assert_eq!(median(&h, 0), Some((m, None)));
        assert_eq!(median(&hist(100, &[(40, 5.0)]), 100), None);
        // Most die at day 0 and nobody in the 15 days after: the density is 0 there, so the
        // median is 0 with no standard error (not an infinite one).
        let mut h = hist(40, &[(10, 20.0)]);
        for _ in 0..60 {
            h.add(Days::ZERO, true);
        }
        assert_eq!(median(&h, 100), Some((0.0, None)));
    }

    #[test]
    fn a_mean_has_its_standard_error_and_months_convert_both() {
        let mut s = ExactSum::default();
        assert_eq!(mean(&s), None);
        for x in [1.0, 2.0, 3.0, 4.0] {
            s.add(x);
        }
        let (m, se) = mean(&s).unwrap();
        assert!(close(m, 2.5));
        assert!(close(se.unwrap(), (5.0_f64 / 3.0).sqrt() / 2.0), "{se:?}");
        let (v, se) = months(Some((2.0 * DAYS_PER_MONTH, Some(DAYS_PER_MONTH / 4.0)))).unwrap();
        assert!(close(v, 2.0) && close(se.unwrap(), 0.25));
        assert_eq!(months(None), None);
    }

    /// Every metric the error message lists parses, each to a different metric.
    #[test]
    fn every_listed_metric_parses_to_its_own_metric() {
        let parsed: Vec<Metric> = METRICS
            .split(", ")
            .map(|name| {
                let name = name.replace("<m>", "12");
                Metric::parse(&name).unwrap_or_else(|| panic!("`{name}` does not parse"))
            })
            .collect();
        assert_eq!(parsed.len(), 20);
        for (i, a) in parsed.iter().enumerate() {
            for b in &parsed[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(
            Metric::parse("os_at_months:24"),
            Some(Metric::OsAtMonths(24))
        );
        assert_eq!(
            Metric::parse("rfs_at_months:6"),
            Some(Metric::RfsAtMonths(6))
        );
        assert_eq!(Metric::parse("os_at_months:x"), None);
        assert_eq!(Metric::parse("median_os:12"), None);
        assert_eq!(Metric::parse("mean_qalys"), None);
    }

    /// QALYs can be negative (a disutility can exceed a utility); life-years and costs not;
    /// proportions and survivals are in [0, 1].
    #[test]
    fn metric_ranges() {
        let inf = f64::INFINITY;
        assert_eq!(Metric::MeanQaly.range(), (-inf, inf));
        assert_eq!(Metric::MeanLy.range(), (0.0, inf));
        assert_eq!(Metric::MeanCost.range(), (0.0, inf));
        assert_eq!(Metric::MedianTimeToInfusionDays.range(), (0.0, inf));
        assert_eq!(Metric::OsAtMonths(12).range(), (0.0, 1.0));
        assert_eq!(Metric::SosRate.range(), (0.0, 1.0));
        let needs: Vec<bool> = [Metric::MeanLy, Metric::MeanQaly, Metric::MeanCost]
            .map(Metric::needs_economics)
            .to_vec();
        assert_eq!(needs, [true; 3]);
        assert!(!Metric::HctRate.needs_economics());
    }

    #[test]
    fn labels_are_the_names_in_files() {
        for p in [Population::All, Population::Infused, Population::Responders] {
            assert_eq!(Population::parse(p.label()), Some(p));
        }
        assert_eq!(Population::Infused.label(), "infused");
        #[derive(Deserialize)]
        struct W {
            role: Role,
        }
        for r in [Role::Input, Role::Calibration, Role::Validation] {
            let w: W = toml::from_str(&format!("role = \"{}\"", r.label())).unwrap();
            assert_eq!(w.role, r);
        }
    }

    /// Aggregates of two ranges of patients merged equal those of both at once, in every
    /// population (the runner merges one per thread).
    #[test]
    fn merged_aggregates_equal_the_whole() {
        let s = crate::scenario::adult_for_tests();
        let model = &s.model;
        let n = model.strategies.len();
        let max_days = model.max_follow_up_days();
        let key = RunKey::new(7);
        let mut ws = Workspace::new(model);
        let mut whole = ValidationAgg::new(n, max_days);
        simulate_range(model, key, 0, 300, &mut ws, &mut whole);
        let mut a = ValidationAgg::new(n, max_days);
        simulate_range(model, key, 0, 170, &mut ws, &mut a);
        let mut b = ValidationAgg::new(n, max_days);
        simulate_range(model, key, 170, 130, &mut ws, &mut b);
        assert_ne!(a, whole);
        assert!(whole.strategies[0][1].to_infusion.patients() > 0);
        assert!(whole.strategies[0][2].rfs.patients() > 0);
        assert_eq!(a.merge(b), whole);
    }

    fn check(id: &str, simulated: Option<f64>, pass: bool, role: Role) -> Check {
        Check {
            id: id.into(),
            metric: "median_os_months".into(),
            population: "all",
            published: 123.456,
            simulated,
            mcse: simulated.map(|_| 0.01234),
            tolerance: 0.5,
            pass,
            role,
        }
    }

    #[test]
    fn the_table_prints_each_check_and_the_counts_go_by_role() {
        let checks = [
            check("a", Some(99.5), true, Role::Validation),
            check("b", None, false, Role::Validation),
            check("c", Some(100.0), false, Role::Input),
        ];
        let t = table(&checks);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 5, "{t}");
        let cells = |l: &str| l.split_whitespace().map(String::from).collect::<Vec<_>>();
        assert_eq!(cells(lines[0])[0], "target");
        assert_eq!(
            cells(lines[2]),
            [
                "a",
                "all",
                "validation",
                "123.5",
                "99.500",
                "0.012",
                "0.500",
                "pass"
            ]
        );
        assert_eq!(
            cells(lines[3]),
            ["b", "all", "validation", "123.5", "-", "-", "0.500", "FAIL"]
        );
        assert_eq!(
            cells(lines[4]),
            [
                "c", "all", "input", "123.5", "100.0", "0.012", "0.500", "FAIL"
            ]
        );
        assert_eq!(pass_counts(&checks), "validation: 1 of 2; input: 0 of 1");
        assert_eq!(pass_counts(&checks[2..]), "input: 0 of 1");
        assert_eq!(pass_counts(&[]), "");
    }
}
