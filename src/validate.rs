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
