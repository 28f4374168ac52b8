//! Raw scenario → validated [`Model`]: range checks, unit conversion, precomputed samplers,
//! name resolution. Every rejection names the field path of the offending value.

use super::raw::*;
use crate::dist::{Gompertz, ParamError, TimeDist};
use crate::model::*;
use crate::time::{DAYS_PER_MONTH, DAYS_PER_YEAR};
use statrs::distribution::{ContinuousCDF, Normal};
use std::collections::BTreeMap;

/// A value rejected by validation, at a field path.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    /// Dotted path of the field.
    pub path: String,
    /// The rule it broke.
    pub message: String,
}

type R<T> = Result<T, Invalid>;

fn invalid<T>(path: impl Into<String>, message: impl Into<String>) -> R<T> {
    Err(Invalid {
        path: path.into(),
        message: message.into(),
    })
}

fn probability(path: &str, v: f64) -> R<f64> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        invalid(path, format!("must be a probability in [0, 1] (got {v})"))
    }
}

fn non_negative(path: &str, v: f64) -> R<f64> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        invalid(path, format!("must be a finite number >= 0 (got {v})"))
    }
}

fn positive(path: &str, v: f64) -> R<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        invalid(path, format!("must be a finite number > 0 (got {v})"))
    }
}

/// Probabilities that must sum to 1 (within 1e-6, to allow decimal rounding in the file).
fn split<const N: usize>(path: &str, parts: [(&str, f64); N]) -> R<Split<N>> {
    let mut p = [0.0; N];
    for (slot, (name, v)) in p.iter_mut().zip(parts) {
        *slot = probability(&format!("{path}.{name}"), v)?;
    }
    let sum: f64 = p.iter().sum();
    if (sum - 1.0).abs() > 1e-6 {
        return invalid(
            path,
            format!("the shares must sum to 1 (they sum to {sum})"),
        );
    }
    Ok(Split::new(p))
}

fn by_burden(path: &str, s: &ByBurdenSpec) -> R<ByBurden> {
    Ok(ByBurden([
        probability(&format!("{path}.mrd_only"), s.mrd_only)?,
        probability(&format!("{path}.blasts_lt5"), s.blasts_lt5)?,
        probability(&format!("{path}.blasts_5_49"), s.blasts_5_49)?,
        probability(&format!("{path}.blasts_ge50"), s.blasts_ge50)?,
    ]))
}

fn burden_split(path: &str, s: &ByBurdenSpec) -> R<Split<4>> {
    split(
        path,
        [
            ("mrd_only", s.mrd_only),
            ("blasts_lt5", s.blasts_lt5),
            ("blasts_5_49", s.blasts_5_49),
            ("blasts_ge50", s.blasts_ge50),
        ],
    )
}

fn days_per(unit: TimeUnit) -> f64 {
    match unit {
        TimeUnit::Days => 1.0,
        TimeUnit::Weeks => 7.0,
        TimeUnit::Months => DAYS_PER_MONTH,
        TimeUnit::Years => DAYS_PER_YEAR,
    }
}

/// Compiles a time distribution into days.
pub fn time_dist(path: &str, spec: &DistSpec) -> R<TimeDist> {
    let at = |e: ParamError| Invalid {
        path: format!("{path}.{}", e.field),
        message: e.reason,
    };
    Ok(match spec {
        DistSpec::Fixed(s) => TimeDist::fixed(s.value)
            .map_err(at)?
            .scaled(days_per(s.unit)),
        DistSpec::Exponential(s) => TimeDist::exponential(s.mean)
            .map_err(at)?
            .scaled(days_per(s.unit)),
        DistSpec::Weibull(s) => TimeDist::weibull(s.shape, s.scale)
            .map_err(at)?
            .scaled(days_per(s.unit)),
        DistSpec::LogNormal(s) => TimeDist::log_normal(s.median, s.sigma)
            .map_err(at)?
            .scaled(days_per(s.unit)),
        DistSpec::Gamma(s) => TimeDist::gamma(s.shape, s.scale)
            .map_err(at)?
            .scaled(days_per(s.unit)),
        DistSpec::MixtureCure(s) => {
            let uncured = time_dist(&format!("{path}.uncured"), &s.uncured)?;
            TimeDist::mixture_cure(s.cure_fraction, uncured).map_err(at)?
        }
    })
}

fn age(path: &str, spec: &AgeSpec) -> R<(AgeDist, f64, f64)> {
    let range = |min: f64, max: f64| -> R<()> {
        non_negative(&format!("{path}.min"), min)?;
        non_negative(&format!("{path}.max"), max)?;
        if min > max {
            return invalid(
                format!("{path}.max"),
                format!("must be >= min ({max} < {min})"),
            );
        }
        Ok(())
    };
    Ok(match spec {
        AgeSpec::Normal(s) => {
            range(s.min, s.max)?;
            non_negative(&format!("{path}.mean"), s.mean)?;
            let sd = positive(&format!("{path}.sd"), s.sd)?;
            let n = Normal::standard();
            let lo = n.cdf((s.min - s.mean) / sd);
            let hi = n.cdf((s.max - s.mean) / sd);
            if hi - lo < 1e-9 {
                return invalid(
                    path,
                    "the [min, max] range holds no probability under this normal",
                );
            }
            let d = AgeDist::TruncatedNormal {
                mean: s.mean,
                sd,
                lo,
                hi,
                min: s.min,
                max: s.max,
            };
            (d, s.min, s.max)
        }
        AgeSpec::Uniform(s) => {
            range(s.min, s.max)?;
            (
                AgeDist::Uniform {
                    min: s.min,
                    max: s.max,
                },
                s.min,
                s.max,
            )
        }
        AgeSpec::Fixed(s) => {
            non_negative(&format!("{path}.value"), s.value)?;
            (AgeDist::Fixed(s.value), s.value, s.value)
        }
    })
}

fn population(spec: &PopulationSpec) -> R<Population> {
    let p = "population";
    let f = |name: &str| format!("{p}.{name}");
    let (age, min_age, max_start_age) = age(&f("age"), &spec.age)?;
    let (background, max_age) = match &spec.background_mortality {
        BackgroundSpec::Gompertz(g) => {
            let path = f("background_mortality");
            let gz = Gompertz::new(g.baseline_hazard, g.age_slope).map_err(|e| Invalid {
                path: format!("{path}.{}", e.field),
                message: e.reason,
            })?;
            let max_age = positive(&format!("{path}.max_age"), g.max_age)?;
            if max_age <= max_start_age {
                return invalid(
                    format!("{path}.max_age"),
                    format!("must exceed the oldest starting age ({max_start_age})"),
                );
            }
            (gz, max_age)
        }
    };
    Ok(Population {
        age,
        min_age,
        burden: burden_split(&f("burden"), &spec.burden)?,
        cns: probability(&f("cns"), spec.cns)?,
        extramedullary: probability(&f("extramedullary"), spec.extramedullary)?,
        cd19_negative: probability(&f("cd19_negative"), spec.cd19_negative)?,
        cd22: split(
            &f("cd22"),
            [
                ("high", spec.cd22.high),
                ("partial", spec.cd22.partial),
                ("negative", spec.cd22.negative),
            ],
        )?,
        ph_positive: probability(&f("ph_positive"), spec.ph_positive)?,
        kmt2a: probability(&f("kmt2a"), spec.kmt2a)?,
        prior_hct: probability(&f("prior_hct"), spec.prior_hct)?,
        donor_available: probability(&f("donor_available"), spec.donor_available)?,
        hct_fit: probability(&f("hct_fit"), spec.hct_fit)?,
        salvage_line: split(
            &f("salvage_line"),
            [
                ("first", spec.salvage_line.first),
                ("second", spec.salvage_line.second),
                ("third_plus", spec.salvage_line.third_plus),
            ],
        )?,
        relapse_burden: burden_split(&f("relapse_burden"), &spec.relapse_burden)?,
        background,
        max_age,
    })
}

fn target(t: TargetSpec) -> Target {
    match t {
        TargetSpec::Cd19 => Target::Cd19,
        TargetSpec::Cd22 => Target::Cd22,
        TargetSpec::None => Target::None,
    }
}

fn age_window(path: &str, min: Option<f64>, max: Option<f64>) -> R<(f64, f64)> {
    let lo = match min {
        Some(v) => non_negative(&format!("{path}.min_age"), v)?,
        None => 0.0,
    };
    let hi = match max {
        Some(v) => non_negative(&format!("{path}.max_age"), v)?,
        None => f64::INFINITY,
    };
    if lo > hi {
        return invalid(
            format!("{path}.max_age"),
            format!("must be >= min_age ({hi} < {lo})"),
        );
    }
    Ok((lo, hi))
}

fn therapy(name: &str, spec: &TherapySpec) -> R<Therapy> {
    let path = format!("therapies.{name}");
    let f = |field: &str| format!("{path}.{field}");
    let (tgt, (min_age, max_age), kind) = match spec {
        TherapySpec::Antibody(s) => {
            let induction = s.induction_cycles;
            if induction == 0 {
                return invalid(f("induction_cycles"), "must be at least 1");
            }
            let by1 = probability(&f("responders_by_cycle_1"), s.responders_by_cycle_1)?;
            if induction == 1 && by1 != 1.0 {
                return invalid(
                    f("responders_by_cycle_1"),
                    "must be 1 when induction_cycles = 1 (every response is seen after cycle 1)",
                );
            }
            let kind = TherapyKind::Cycles(CycleTherapy {
                cycle_days: positive(&f("cycle_days"), s.cycle_days)?,
                induction_cycles: induction,
                consolidation_cycles: s.consolidation_cycles,
                response: by_burden(&f("response"), &s.response)?,
                responders_by_cycle_1: by1,
                mrd_negative: probability(&f("mrd_negative"), s.mrd_negative)?,
                relapse: time_dist(&f("relapse"), &s.relapse)?,
                mrd_positive_relapse_hr: positive(
                    &f("mrd_positive_relapse_hr"),
                    s.mrd_positive_relapse_hr,
                )?,
            });
            (s.target, age_window(&path, s.min_age, s.max_age)?, kind)
        }
        TherapySpec::CarT(s) => {
            let kind = TherapyKind::CarT(CarT {
                apheresis_days: non_negative(&f("apheresis_days"), s.apheresis_days)?,
                manufacturing: time_dist(&f("manufacturing"), &s.manufacturing)?,
                manufacturing_failure: probability(
                    &f("manufacturing_failure"),
                    s.manufacturing_failure,
                )?,
                waiting_dropout: time_dist(&f("waiting_dropout"), &s.waiting_dropout)?,
                dropout_death_fraction: probability(
                    &f("dropout_death_fraction"),
                    s.dropout_death_fraction,
                )?,
                lymphodepletion_days: non_negative(
                    &f("lymphodepletion_days"),
                    s.lymphodepletion_days,
                )?,
                assessment_days: non_negative(&f("assessment_days"), s.assessment_days)?,
                response: by_burden(&f("response"), &s.response)?,
                mrd_negative: probability(&f("mrd_negative"), s.mrd_negative)?,
                relapse: time_dist(&f("relapse"), &s.relapse)?,
                mrd_positive_relapse_hr: positive(
                    &f("mrd_positive_relapse_hr"),
                    s.mrd_positive_relapse_hr,
                )?,
            });
            (s.target, age_window(&path, s.min_age, s.max_age)?, kind)
        }
        TherapySpec::Hct(s) => {
            if s.max_transplants == 0 {
                return invalid(f("max_transplants"), "must be at least 1");
            }
            let kind = TherapyKind::Hct(Hct {
                max_age: non_negative(&f("max_age"), s.max_age)?,
                max_transplants: s.max_transplants,
                time_to_transplant: time_dist(&f("time_to_transplant"), &s.time_to_transplant)?,
                trm: probability(&f("trm"), s.trm)?,
                trm_time: time_dist(&f("trm_time"), &s.trm_time)?,
                relapse: time_dist(&f("relapse"), &s.relapse)?,
            });
            (TargetSpec::None, (0.0, s.max_age), kind)
        }
        TherapySpec::Supportive(s) => {
            let kind = TherapyKind::Supportive(Supportive {
                survival: time_dist(&f("survival"), &s.survival)?,
            });
            (TargetSpec::None, (0.0, f64::INFINITY), kind)
        }
    };
    Ok(Therapy {
        name: name.to_string(),
        target: target(tgt),
        min_age,
        max_age,
        kind,
    })
}

fn lookup(path: &str, name: &str, ids: &BTreeMap<&str, TherapyId>) -> R<TherapyId> {
    match ids.get(name) {
        Some(&id) => Ok(id),
        None => invalid(
            path,
            format!(
                "names therapy `{name}`, which the scenario does not define (defined: {})",
                ids.keys().copied().collect::<Vec<_>>().join(", ")
            ),
        ),
    }
}

fn strategy(
    i: usize,
    spec: &StrategySpec,
    therapies: &[Therapy],
    ids: &BTreeMap<&str, TherapyId>,
) -> R<Strategy> {
    let path = format!("strategies[{i}]");
    if spec.name.trim().is_empty() {
        return invalid(format!("{path}.name"), "must not be empty");
    }
    let mut lines = Vec::with_capacity(spec.lines.len());
    for (j, line) in spec.lines.iter().enumerate() {
        let lp = format!("{path}.lines[{j}].therapies");
        if line.therapies.is_empty() {
            return invalid(lp, "a line needs at least one therapy");
        }
        let mut candidates = Vec::new();
        for (k, name) in line.therapies.iter().enumerate() {
            let tp = format!("{lp}[{k}]");
            let id = lookup(&tp, name, ids)?;
            match therapies[id].kind {
                TherapyKind::Cycles(_) | TherapyKind::CarT(_) => {}
                TherapyKind::Hct(_) => {
                    return invalid(
                        tp,
                        format!(
                            "`{name}` is a transplant: give it as `consolidation`, not as a line"
                        ),
                    );
                }
                TherapyKind::Supportive(_) => {
                    return invalid(
                        tp,
                        format!(
                            "`{name}` is supportive care: name it as `supportive`, not as a line"
                        ),
                    );
                }
            }
            candidates.push(id);
        }
        lines.push(Line { candidates });
    }
    let consolidation = match &spec.consolidation {
        None => None,
        Some(c) => {
            let cp = format!("{path}.consolidation");
            let hct = lookup(&format!("{cp}.therapy"), &c.therapy, ids)?;
            if !matches!(therapies[hct].kind, TherapyKind::Hct(_)) {
                return invalid(
                    format!("{cp}.therapy"),
                    format!("`{}` is not a transplant (kind = \"hct\")", c.therapy),
                );
            }
            let mut after = [false; MAX_THERAPIES];
            for (k, name) in c.after.iter().enumerate() {
                after[lookup(&format!("{cp}.after[{k}]"), name, ids)?] = true;
            }
            Some(Consolidation { hct, after })
        }
    };
    let sp = format!("{path}.supportive");
    let supportive = lookup(&sp, &spec.supportive, ids)?;
    if !matches!(therapies[supportive].kind, TherapyKind::Supportive(_)) {
        return invalid(
            sp,
            format!(
                "`{}` is not supportive care (kind = \"supportive\")",
                spec.supportive
            ),
        );
    }
    Ok(Strategy {
        name: spec.name.clone(),
        description: spec.description.clone(),
        lines,
        consolidation,
        supportive,
    })
}

/// Validates and compiles a parsed scenario.
///
/// # Errors
/// The first value that breaks a rule, with its field path.
pub fn compile(file: &ScenarioFile) -> R<Model> {
    if file.patients == 0 {
        return invalid("patients", "must be at least 1");
    }
    let horizon = match file.horizon {
        HorizonSpec::Lifetime => Horizon::Lifetime,
        HorizonSpec::Years(y) => Horizon::Days(positive("horizon.years", y)? * DAYS_PER_YEAR),
    };
    let population = population(&file.population)?;
    if file.therapies.len() > MAX_THERAPIES {
        return invalid(
            "therapies",
            format!(
                "at most {MAX_THERAPIES} therapies are supported (got {})",
                file.therapies.len()
            ),
        );
    }
    let mut therapies = Vec::with_capacity(file.therapies.len());
    let mut ids = BTreeMap::new();
    for (name, spec) in &file.therapies {
        ids.insert(name.as_str(), therapies.len());
        therapies.push(therapy(name, spec)?);
    }
    if file.strategies.is_empty() {
        return invalid(
            "strategies",
            "the scenario defines no strategy: add at least one [[strategies]] table",
        );
    }
    let mut strategies = Vec::with_capacity(file.strategies.len());
    for (i, s) in file.strategies.iter().enumerate() {
        if let Some(j) = strategies.iter().position(|t: &Strategy| t.name == s.name) {
            return invalid(
                format!("strategies[{i}].name"),
                format!("`{}` is already the name of strategies[{j}]", s.name),
            );
        }
        strategies.push(strategy(i, s, &therapies, &ids)?);
    }
    Ok(Model {
        name: file.name.clone(),
        seed: file.seed,
        patients: file.patients,
        horizon,
        population,
        therapies,
        strategies,
    })
}
