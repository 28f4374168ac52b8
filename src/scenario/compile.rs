//! Raw scenario → validated [`Model`]: range checks, unit conversion, precomputed samplers,
//! name resolution. Every rejection names the field path of the offending value.

use super::raw::*;
use crate::dist::{Gompertz, LifeTable, ParamError, TimeDist};
use crate::model::*;
use crate::time::{DAYS_PER_MONTH, DAYS_PER_YEAR};
use statrs::distribution::{ContinuousCDF, Normal};
use std::collections::BTreeMap;
use std::fmt;

/// A value rejected by validation, at a field path.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    /// Dotted path of the field.
    pub path: String,
    /// The rule it broke.
    pub message: String,
}

type R<T> = Result<T, Invalid>;

fn invalid<T>(path: impl fmt::Display, message: impl Into<String>) -> R<T> {
    Err(Invalid {
        path: path.to_string(),
        message: message.into(),
    })
}

/// A field path (`therapies.blinatumomab.response.first`), built on the stack as the compiler
/// descends into the scenario and written out only when an error names it. Formatting every
/// path as it was built took 70% of a compile's instructions (53 against 15 million for the 69
/// compiles of the default scenario's `[uncertainty]` check at load); a PSA compiles the
/// scenario twice per draw, a DSA twice per parameter.
#[derive(Clone, Copy)]
struct At<'a> {
    parent: Option<&'a At<'a>>,
    segment: Segment<'a>,
}

#[derive(Clone, Copy)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

impl<'a> At<'a> {
    /// A top-level field (or a dotted path of fields).
    const fn root(key: &'a str) -> At<'a> {
        At {
            parent: None,
            segment: Segment::Key(key),
        }
    }

    /// The field `key` of this table.
    fn key(&'a self, key: &'a str) -> At<'a> {
        At {
            parent: Some(self),
            segment: Segment::Key(key),
        }
    }

    /// Item `i` of this array.
    fn index(&'a self, i: usize) -> At<'a> {
        At {
            parent: Some(self),
            segment: Segment::Index(i),
        }
    }
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(parent) = self.parent {
            parent.fmt(f)?;
        }
        match self.segment {
            Segment::Key(k) if self.parent.is_some() => write!(f, ".{k}"),
            Segment::Key(k) => f.write_str(k),
            Segment::Index(i) => write!(f, "[{i}]"),
        }
    }
}

fn probability(path: At<'_>, v: f64) -> R<f64> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        invalid(path, format!("must be a probability in [0, 1] (got {v})"))
    }
}

fn non_negative(path: At<'_>, v: f64) -> R<f64> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        invalid(path, format!("must be a finite number >= 0 (got {v})"))
    }
}

fn positive(path: At<'_>, v: f64) -> R<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        invalid(path, format!("must be a finite number > 0 (got {v})"))
    }
}

/// Probabilities that must sum to 1 (within 1e-6, to allow decimal rounding in the file).
fn split<const N: usize>(path: At<'_>, parts: [(&str, f64); N]) -> R<Split<N>> {
    let mut p = [0.0; N];
    for (slot, (name, v)) in p.iter_mut().zip(parts) {
        *slot = probability(path.key(name), v)?;
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

fn by_burden(path: At<'_>, s: &ByBurdenSpec) -> R<ByBurden> {
    Ok(ByBurden([
        probability(path.key("mrd_only"), s.mrd_only)?,
        probability(path.key("blasts_lt5"), s.blasts_lt5)?,
        probability(path.key("blasts_5_49"), s.blasts_5_49)?,
        probability(path.key("blasts_ge50"), s.blasts_ge50)?,
    ]))
}

fn burden_split(path: At<'_>, s: &ByBurdenSpec) -> R<Split<4>> {
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
fn time_dist(path: At<'_>, spec: &DistSpec) -> R<TimeDist> {
    let at = |e: ParamError| Invalid {
        path: path.key(e.field).to_string(),
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
            let uncured = time_dist(path.key("uncured"), &s.uncured)?;
            TimeDist::mixture_cure(s.cure_fraction, uncured).map_err(at)?
        }
    })
}

fn age(path: At<'_>, spec: &AgeSpec) -> R<(AgeDist, f64, f64)> {
    let range = |min: f64, max: f64| -> R<()> {
        non_negative(path.key("min"), min)?;
        non_negative(path.key("max"), max)?;
        if min > max {
            return invalid(path.key("max"), format!("must be >= min ({max} < {min})"));
        }
        Ok(())
    };
    Ok(match spec {
        AgeSpec::Normal(s) => {
            range(s.min, s.max)?;
            non_negative(path.key("mean"), s.mean)?;
            let sd = positive(path.key("sd"), s.sd)?;
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
            non_negative(path.key("value"), s.value)?;
            (AgeDist::Fixed(s.value), s.value, s.value)
        }
    })
}

fn param(path: At<'_>) -> impl Fn(ParamError) -> Invalid + '_ {
    move |e| Invalid {
        path: path.key(e.field).to_string(),
        message: e.reason,
    }
}

/// The largest `max_age` a scenario may give \[years\]: far above any recorded human lifespan
/// (122 years), and it bounds the survival histograms (one bin per day of follow-up, per
/// strategy and per worker thread) to about 73,000 bins.
const MAX_AGE: f64 = 200.0;

fn population(spec: &PopulationSpec) -> R<Population> {
    let p = At::root("population");
    let f = |name: &'static str| p.key(name);
    let (age, min_age, max_start_age) = age(f("age"), &spec.age)?;
    let path = f("background_mortality");
    let (background, max_age) = match &spec.background_mortality {
        BackgroundSpec::Gompertz(g) => (
            Background::Gompertz(
                Gompertz::new(g.baseline_hazard, g.age_slope).map_err(param(path))?,
            ),
            g.max_age,
        ),
        BackgroundSpec::LifeTable(t) => (
            Background::LifeTable(
                LifeTable::new(t.start_age, &t.annual_death_probability).map_err(param(path))?,
            ),
            t.max_age,
        ),
    };
    let max_age = positive(path.key("max_age"), max_age)?;
    if max_age > MAX_AGE {
        return invalid(
            path.key("max_age"),
            format!(
                "must be at most {MAX_AGE} years (got {max_age}): nobody lives longer, and the \
                 survival histograms have a bin for every day of it"
            ),
        );
    }
    if max_age <= max_start_age {
        return invalid(
            path.key("max_age"),
            format!("must exceed the oldest starting age ({max_start_age})"),
        );
    }
    Ok(Population {
        age,
        min_age,
        burden: burden_split(f("burden"), &spec.burden)?,
        cns: probability(f("cns"), spec.cns)?,
        extramedullary: probability(f("extramedullary"), spec.extramedullary)?,
        cd19_negative: probability(f("cd19_negative"), spec.cd19_negative)?,
        cd22: split(
            f("cd22"),
            [
                ("high", spec.cd22.high),
                ("partial", spec.cd22.partial),
                ("negative", spec.cd22.negative),
            ],
        )?,
        ph_positive: probability(f("ph_positive"), spec.ph_positive)?,
        kmt2a: probability(f("kmt2a"), spec.kmt2a)?,
        prior_hct: probability(f("prior_hct"), spec.prior_hct)?,
        donor_available: probability(f("donor_available"), spec.donor_available)?,
        hct_fit: probability(f("hct_fit"), spec.hct_fit)?,
        salvage_line: split(
            f("salvage_line"),
            [
                ("first", spec.salvage_line.first),
                ("second", spec.salvage_line.second),
                ("third_plus", spec.salvage_line.third_plus),
            ],
        )?,
        relapse_burden: burden_split(f("relapse_burden"), &spec.relapse_burden)?,
        relapse_cns: probability(f("relapse_cns"), spec.relapse_cns)?,
        relapse_extramedullary: probability(
            f("relapse_extramedullary"),
            spec.relapse_extramedullary,
        )?,
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

fn age_window(path: At<'_>, min: Option<f64>, max: Option<f64>) -> R<(f64, f64)> {
    let lo = match min {
        Some(v) => non_negative(path.key("min_age"), v)?,
        None => 0.0,
    };
    let hi = match max {
        Some(v) => non_negative(path.key("max_age"), v)?,
        None => f64::INFINITY,
    };
    if lo > hi {
        return invalid(
            path.key("max_age"),
            format!("must be >= min_age ({hi} < {lo})"),
        );
    }
    Ok((lo, hi))
}

fn rate(path: At<'_>, spec: &RateSpec) -> R<Rate> {
    let pr = |name: &'static str, v: f64| probability(path.key(name), v);
    Ok(match spec {
        RateSpec::Scalar(v) => Rate::Scalar(probability(path, *v)?),
        RateSpec::ByBurden(b) => Rate::ByBurden(by_burden(path, b)?),
        RateSpec::ByAge(a) => Rate::ByAge {
            cut: non_negative(path.key("age_cut"), a.age_cut)?,
            below: pr("below", a.below)?,
            at_or_above: pr("at_or_above", a.at_or_above)?,
        },
        RateSpec::ByLine(l) => Rate::ByLine([
            pr("first", l.first)?,
            pr("second", l.second)?,
            pr("third_plus", l.third_plus)?,
        ]),
        RateSpec::ByPriorHct(h) => Rate::ByPriorHct(
            pr("prior_hct", h.prior_hct)?,
            pr("no_prior_hct", h.no_prior_hct)?,
        ),
        RateSpec::ByKmt2a(k) => Rate::ByKmt2a(pr("kmt2a", k.kmt2a)?, pr("no_kmt2a", k.no_kmt2a)?),
    })
}

fn odds_ratio(path: At<'_>, v: Option<f64>) -> R<f64> {
    match v {
        None => Ok(1.0),
        Some(v) => positive(path, v),
    }
}

fn odds_ratios(path: At<'_>, spec: &Option<OddsRatiosSpec>) -> R<OddsRatios> {
    let Some(s) = spec else {
        return Ok(OddsRatios::NONE);
    };
    Ok(OddsRatios {
        cns: odds_ratio(path.key("cns"), s.cns)?,
        extramedullary: odds_ratio(path.key("extramedullary"), s.extramedullary)?,
        kmt2a: odds_ratio(path.key("kmt2a"), s.kmt2a)?,
        ph_positive: odds_ratio(path.key("ph_positive"), s.ph_positive)?,
    })
}

/// The patient states a rate distinguishes, for checking nested rates everywhere.
fn rate_contexts() -> Vec<RateCtx> {
    let mut v = Vec::with_capacity(Burden::ALL.len() * 24);
    for burden in Burden::ALL {
        for age in [0.0, 200.0] {
            for line in 1..=3 {
                for prior_hct in [false, true] {
                    for kmt2a in [false, true] {
                        v.push(RateCtx {
                            burden,
                            age,
                            line,
                            prior_hct,
                            kmt2a,
                        });
                    }
                }
            }
        }
    }
    v
}

fn toxicity(path: At<'_>, spec: &ToxicitySpec) -> R<Toxicity> {
    let f = |n: &'static str| path.key(n);
    let t = Toxicity {
        kind: match spec.kind {
            ToxicityKindSpec::Crs => ToxKind::Crs,
            ToxicityKindSpec::Icans => ToxKind::Icans,
            ToxicityKindSpec::Sos => ToxKind::Sos,
            ToxicityKindSpec::Infection => ToxKind::Infection,
            ToxicityKindSpec::Gvhd => ToxKind::Gvhd,
        },
        any_grade: rate(f("any_grade"), &spec.any_grade)?,
        grade3plus: rate(f("grade3plus"), &spec.grade3plus)?,
        fatal: rate(f("fatal"), &spec.fatal)?,
        onset_days: non_negative(f("onset_days"), spec.onset_days)?,
        duration_days: non_negative(f("duration_days"), spec.duration_days)?,
    };
    // By the wider table where the check matters (age cuts vary, so evaluate at many states
    // including each side of every cut).
    let mut ctxs = rate_contexts();
    let states = ctxs.len();
    for r in [t.any_grade, t.grade3plus, t.fatal] {
        if let Rate::ByAge { cut, .. } = r {
            for i in 0..states {
                ctxs.push(RateCtx {
                    age: cut,
                    ..ctxs[i]
                });
            }
        }
    }
    for c in &ctxs {
        let (any, g3, fatal) = (t.any_grade.eval(c), t.grade3plus.eval(c), t.fatal.eval(c));
        if g3 > any {
            return invalid(
                f("grade3plus"),
                format!("must not exceed any_grade ({g3} > {any} for some patients)"),
            );
        }
        if fatal > g3 {
            return invalid(
                f("fatal"),
                format!("must not exceed grade3plus ({fatal} > {g3} for some patients)"),
            );
        }
    }
    Ok(t)
}

fn toxicities(path: At<'_>, specs: &[ToxicitySpec]) -> R<Vec<Toxicity>> {
    specs
        .iter()
        .enumerate()
        .map(|(i, t)| toxicity(path.index(i), t))
        .collect()
}

fn escape(path: At<'_>, spec: &Option<EscapeSpec>) -> R<Option<Escape>> {
    let Some(e) = spec else { return Ok(None) };
    let f = |n: &'static str| path.key(n);
    Ok(Some(Escape {
        cd19_at_relapse: rate(f("cd19_negative_at_relapse"), &e.cd19_negative_at_relapse)?,
        cd19_at_failure: rate(f("cd19_negative_at_failure"), &e.cd19_negative_at_failure)?,
        cd22_at_relapse: rate(f("cd22_negative_at_relapse"), &e.cd22_negative_at_relapse)?,
        lineage_switch: rate(f("lineage_switch_at_relapse"), &e.lineage_switch_at_relapse)?,
    }))
}

fn hct_sos(path: At<'_>, spec: &Option<HctSosSpec>) -> R<Option<HctSos>> {
    let Some(s) = spec else { return Ok(None) };
    let f = |n: &'static str| path.key(n);
    Ok(Some(HctSos {
        probability: rate(f("probability"), &s.probability)?,
        cycles_above: s.cycles_above,
        cycles_odds_ratio: positive(f("cycles_odds_ratio"), s.cycles_odds_ratio)?,
        prior_hct_odds_ratio: positive(f("prior_hct_odds_ratio"), s.prior_hct_odds_ratio)?,
        fatal: probability(f("fatal"), s.fatal)?,
        onset_days: non_negative(f("onset_days"), s.onset_days)?,
        duration_days: non_negative(f("duration_days"), s.duration_days)?,
    }))
}

fn gvhd(path: At<'_>, spec: &GvhdSpec) -> R<Gvhd> {
    Ok(Gvhd {
        probability: probability(path.key("probability"), spec.probability)?,
        onset_days: non_negative(path.key("onset_days"), spec.onset_days)?,
        duration_days: non_negative(path.key("duration_days"), spec.duration_days)?,
    })
}

fn max_courses(path: At<'_>, n: u32) -> R<u32> {
    if n == 0 {
        return invalid(path.key("max_courses"), "must be at least 1");
    }
    Ok(n)
}

fn course(path: At<'_>, class: CourseClass, s: &CourseSpec) -> R<Therapy> {
    let f = |field: &'static str| path.key(field);
    let induction = s.induction_cycles;
    if induction == 0 {
        return invalid(f("induction_cycles"), "must be at least 1");
    }
    let by1 = probability(f("responders_by_cycle_1"), s.responders_by_cycle_1)?;
    if induction == 1 && by1 != 1.0 {
        return invalid(
            f("responders_by_cycle_1"),
            "must be 1 when induction_cycles = 1 (every response is seen after cycle 1)",
        );
    }
    let response = rate(f("response"), &s.response)?;
    let kind = TherapyKind::Course(Course {
        class,
        cycle_days: positive(f("cycle_days"), s.cycle_days)?,
        induction_cycles: induction,
        consolidation_cycles: s.consolidation_cycles,
        response,
        retreatment_response: match &s.retreatment_response {
            Some(r) => rate(f("retreatment_response"), r)?,
            None => response,
        },
        odds_ratios: odds_ratios(f("response_odds_ratios"), &s.response_odds_ratios)?,
        responders_by_cycle_1: by1,
        mrd_negative: rate(f("mrd_negative"), &s.mrd_negative)?,
        relapse: time_dist(f("relapse"), &s.relapse)?,
        mrd_positive_relapse_hr: positive(f("mrd_positive_relapse_hr"), s.mrd_positive_relapse_hr)?,
        toxicities: toxicities(f("toxicities"), &s.toxicities)?,
        escape: escape(f("escape"), &s.escape)?,
        hct_sos: hct_sos(f("hct_sos"), &s.hct_sos)?,
        cost_per_cycle: match &s.costs {
            Some(c) => cost(f("costs.per_cycle"), &c.per_cycle)?,
            None => Cost::ZERO,
        },
    });
    let (min_age, max_age) = age_window(path, s.min_age, s.max_age)?;
    Ok(Therapy {
        name: String::new(),
        target: target(s.target),
        min_age,
        max_age,
        label_max_age: f64::INFINITY,
        max_courses: max_courses(path, s.max_courses)?,
        kind,
    })
}

fn car_t(path: At<'_>, s: &CarTSpec) -> R<Therapy> {
    let f = |field: &'static str| path.key(field);
    let kind = TherapyKind::CarT(CarT {
        apheresis_days: non_negative(f("apheresis_days"), s.apheresis_days)?,
        apheresis_success: probability(f("apheresis_success"), s.apheresis_success)?,
        manufacturing: time_dist(f("manufacturing"), &s.manufacturing)?,
        manufacturing_failure: probability(f("manufacturing_failure"), s.manufacturing_failure)?,
        waiting_dropout: time_dist(f("waiting_dropout"), &s.waiting_dropout)?,
        dropout_death_fraction: probability(f("dropout_death_fraction"), s.dropout_death_fraction)?,
        lymphodepletion_days: non_negative(f("lymphodepletion_days"), s.lymphodepletion_days)?,
        assessment_days: non_negative(f("assessment_days"), s.assessment_days)?,
        response: rate(f("response"), &s.response)?,
        odds_ratios: odds_ratios(f("response_odds_ratios"), &s.response_odds_ratios)?,
        mrd_negative: rate(f("mrd_negative"), &s.mrd_negative)?,
        relapse: time_dist(f("relapse"), &s.relapse)?,
        mrd_positive_relapse_hr: positive(f("mrd_positive_relapse_hr"), s.mrd_positive_relapse_hr)?,
        toxicities: toxicities(f("toxicities"), &s.toxicities)?,
        escape: escape(f("escape"), &s.escape)?,
        costs: match &s.costs {
            Some(c) => CarTCosts {
                apheresis: cost(f("costs.apheresis"), &c.apheresis)?,
                lymphodepletion: cost(f("costs.lymphodepletion"), &c.lymphodepletion)?,
                product: cost(f("costs.product"), &c.product)?,
                infusion: cost(f("costs.infusion"), &c.infusion)?,
            },
            None => CarTCosts::default(),
        },
    });
    let (min_age, max_age) = age_window(path, s.min_age, s.max_age)?;
    let label_max_age = match s.label_max_age {
        Some(v) => non_negative(f("label_max_age"), v)?,
        None => f64::INFINITY,
    };
    Ok(Therapy {
        name: String::new(),
        target: target(s.target),
        min_age,
        max_age,
        label_max_age,
        max_courses: max_courses(path, s.max_courses)?,
        kind,
    })
}

fn hct(path: At<'_>, s: &HctSpec) -> R<Therapy> {
    let f = |field: &'static str| path.key(field);
    if s.max_transplants == 0 {
        return invalid(f("max_transplants"), "must be at least 1");
    }
    let max_age = non_negative(f("max_age"), s.max_age)?;
    let kind = TherapyKind::Hct(Hct {
        max_age,
        max_transplants: s.max_transplants,
        time_to_transplant: time_dist(f("time_to_transplant"), &s.time_to_transplant)?,
        trm: probability(f("trm"), s.trm)?,
        trm_second: probability(f("trm_second"), s.trm_second)?,
        trm_after_sos: probability(f("trm_after_sos"), s.trm_after_sos)?,
        trm_time: time_dist(f("trm_time"), &s.trm_time)?,
        acute_gvhd: gvhd(f("acute_gvhd"), &s.acute_gvhd)?,
        chronic_gvhd: gvhd(f("chronic_gvhd"), &s.chronic_gvhd)?,
        relapse: time_dist(f("relapse"), &s.relapse)?,
        mrd_positive_relapse_hr: positive(f("mrd_positive_relapse_hr"), s.mrd_positive_relapse_hr)?,
        costs: match &s.costs {
            Some(c) => HctCosts {
                transplant: cost(f("costs.transplant"), &c.transplant)?,
                acute_gvhd: cost(f("costs.acute_gvhd"), &c.acute_gvhd)?,
                chronic_gvhd: cost(f("costs.chronic_gvhd"), &c.chronic_gvhd)?,
            },
            None => HctCosts::default(),
        },
    });
    Ok(Therapy {
        name: String::new(),
        target: Target::None,
        min_age: 0.0,
        max_age,
        label_max_age: f64::INFINITY,
        max_courses: s.max_transplants,
        kind,
    })
}

fn therapy(name: &str, spec: &TherapySpec) -> R<Therapy> {
    let therapies = At::root("therapies");
    let path = therapies.key(name);
    let mut t = match spec {
        TherapySpec::Antibody(s) => course(path, CourseClass::Antibody, s)?,
        TherapySpec::Adc(s) => course(path, CourseClass::Adc, s)?,
        TherapySpec::Chemotherapy(s) => course(path, CourseClass::Chemotherapy, s)?,
        TherapySpec::CarT(s) => car_t(path, s)?,
        TherapySpec::Hct(s) => hct(path, s)?,
        TherapySpec::Supportive(s) => Therapy {
            name: String::new(),
            target: Target::None,
            min_age: 0.0,
            max_age: f64::INFINITY,
            label_max_age: f64::INFINITY,
            max_courses: u32::MAX,
            kind: TherapyKind::Supportive(Supportive {
                survival: time_dist(path.key("survival"), &s.survival)?,
            }),
        },
    };
    t.name = name.to_string();
    Ok(t)
}

fn lookup(path: At<'_>, name: &str, ids: &BTreeMap<&str, TherapyId>) -> R<TherapyId> {
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

fn burden(b: BurdenSpec) -> Burden {
    match b {
        BurdenSpec::MrdOnly => Burden::MrdOnly,
        BurdenSpec::BlastsLt5 => Burden::Under5,
        BurdenSpec::Blasts5_49 => Burden::From5To49,
        BurdenSpec::BlastsGe50 => Burden::AtLeast50,
    }
}

fn therapy_set(
    path: At<'_>,
    names: &Option<Vec<String>>,
    ids: &BTreeMap<&str, TherapyId>,
) -> R<TherapySet> {
    let mut set = 0;
    for (i, n) in names.iter().flatten().enumerate() {
        set |= 1 << lookup(path.index(i), n, ids)?;
    }
    Ok(set)
}

fn condition(
    path: At<'_>,
    spec: &Option<ConditionSpec>,
    ids: &BTreeMap<&str, TherapyId>,
) -> R<Condition> {
    let Some(c) = spec else {
        return Ok(Condition::default());
    };
    let f = |n: &'static str| path.key(n);
    let cond = Condition {
        cd19_positive: c.cd19.map(|s| s == StatusSpec::Positive),
        cd22_positive: c.cd22.map(|s| s == StatusSpec::Positive),
        min_age: c
            .min_age
            .map(|v| non_negative(f("min_age"), v))
            .transpose()?,
        max_age: c
            .max_age
            .map(|v| non_negative(f("max_age"), v))
            .transpose()?,
        cns: c.cns,
        prior_hct: c.prior_hct,
        min_burden: c.min_burden.map(burden),
        max_burden: c.max_burden.map(burden),
        received: therapy_set(f("received"), &c.received, ids)?,
        not_received: therapy_set(f("not_received"), &c.not_received, ids)?,
        mrd_positive: c.mrd.map(|s| s == StatusSpec::Positive),
        constrained: false,
    }
    .sealed();
    if let (Some(lo), Some(hi)) = (cond.min_age, cond.max_age)
        && lo > hi
    {
        return invalid(
            f("max_age"),
            format!("can never hold: max_age {hi} < min_age {lo}"),
        );
    }
    if let (Some(lo), Some(hi)) = (cond.min_burden, cond.max_burden)
        && lo > hi
    {
        return invalid(
            f("max_burden"),
            "can never hold: max_burden is below min_burden",
        );
    }
    if cond.received & cond.not_received != 0 {
        return invalid(
            f("not_received"),
            "can never hold: a therapy is both required and excluded",
        );
    }
    Ok(cond)
}

/// Why a candidate can never be given, if it cannot: checked at load so that a strategy never
/// silently skips a line for ever.
fn never_eligible(
    therapies: &[Therapy],
    candidate: &Candidate,
    line: &Condition,
    given_before: TherapySet,
    population: &Population,
    model_max_age: f64,
    trial_access: bool,
) -> Option<String> {
    let (therapy, own) = (&therapies[candidate.therapy], &candidate.when);
    let name = &therapy.name;
    for c in [line, own] {
        match (therapy.target, c.cd19_positive, c.cd22_positive) {
            (Target::Cd19, Some(false), _) => {
                return Some(format!(
                    "`{name}` is CD19-directed but the condition requires CD19-negative disease"
                ));
            }
            (Target::Cd22, _, Some(false)) => {
                return Some(format!(
                    "`{name}` is CD22-directed but the condition requires CD22-negative disease"
                ));
            }
            _ => {}
        }
        let missing = c.received & !given_before;
        if missing != 0 {
            let names: Vec<String> = (0..therapies.len())
                .filter(|&i| missing & (1 << i) != 0)
                .map(|i| format!("`{}`", therapies[i].name))
                .collect();
            return Some(format!(
                "the condition requires {} received, which no earlier line of this strategy can give",
                names.join(" and ")
            ));
        }
        if c.mrd_positive.is_some() {
            return Some(
                "`mrd` applies to consolidation rules only (a line starts with active disease)"
                    .into(),
            );
        }
    }
    // Ages: the therapy's window, the conditions' windows and the ages patients can have.
    let label = if trial_access {
        f64::INFINITY
    } else {
        therapy.label_max_age
    };
    let lo = [
        Some(therapy.min_age),
        line.min_age,
        own.min_age,
        Some(population.min_age),
    ]
    .into_iter()
    .flatten()
    .fold(f64::NEG_INFINITY, f64::max);
    let hi = [
        Some(therapy.max_age),
        Some(label),
        line.max_age,
        own.max_age,
        Some(model_max_age),
    ]
    .into_iter()
    .flatten()
    .fold(f64::INFINITY, f64::min);
    if lo > hi {
        return Some(format!(
            "no patient can be both old enough and young enough for `{name}` here (ages {lo} to {hi})"
        ));
    }
    None
}

fn candidates(
    path: At<'_>,
    specs: &[CandidateSpec],
    therapies: &[Therapy],
    ids: &BTreeMap<&str, TherapyId>,
    allow: impl Fn(&TherapyKind) -> Result<(), &'static str>,
) -> R<Vec<Candidate>> {
    let mut out = Vec::with_capacity(specs.len());
    for (k, c) in specs.iter().enumerate() {
        let item = path.index(k);
        let tp = if c.when.is_some() {
            item.key("therapy")
        } else {
            item
        };
        let id = lookup(tp, &c.therapy, ids)?;
        if let Err(why) = allow(&therapies[id].kind) {
            return invalid(tp, format!("`{}` {why}", c.therapy));
        }
        out.push(Candidate {
            therapy: id,
            when: condition(item.key("when"), &c.when, ids)?,
        });
    }
    Ok(out)
}

fn strategy(
    i: usize,
    spec: &StrategySpec,
    therapies: &[Therapy],
    ids: &BTreeMap<&str, TherapyId>,
    population: &Population,
    trial_access: bool,
) -> R<Strategy> {
    let strategies = At::root("strategies");
    let path = strategies.index(i);
    if spec.name.trim().is_empty() {
        return invalid(path.key("name"), "must not be empty");
    }
    let lines_allow = |k: &TherapyKind| match k {
        TherapyKind::Course(_) | TherapyKind::CarT(_) => Ok(()),
        TherapyKind::Hct(_) => Err("is a transplant: give it as `consolidation`, not as a line"),
        TherapyKind::Supportive(_) => {
            Err("is supportive care: name it as `supportive`, not as a line")
        }
    };
    let bridge_allow = |k: &TherapyKind| match k {
        TherapyKind::Course(_) => Ok(()),
        _ => Err("cannot bridge to CAR-T: a bridge is a course-based therapy"),
    };
    let max_age = population.max_age;
    let mut lines = Vec::with_capacity(spec.lines.len());
    let mut given_before: TherapySet = 0;
    let all_lines = path.key("lines");
    for (j, line) in spec.lines.iter().enumerate() {
        let lp = all_lines.index(j);
        if line.therapies.is_empty() {
            return invalid(lp.key("therapies"), "a line needs at least one therapy");
        }
        let when = condition(lp.key("when"), &line.when, ids)?;
        let cands = candidates(
            lp.key("therapies"),
            &line.therapies,
            therapies,
            ids,
            lines_allow,
        )?;
        let reasons: Vec<String> = cands
            .iter()
            .filter_map(|c| {
                never_eligible(
                    therapies,
                    c,
                    &when,
                    given_before,
                    population,
                    max_age,
                    trial_access,
                )
            })
            .collect();
        if reasons.len() == cands.len() {
            return invalid(
                lp,
                format!("this line can never be given: {}", reasons.join("; ")),
            );
        }
        let bridge = match &line.bridge {
            None => Vec::new(),
            Some(b) => {
                if !cands
                    .iter()
                    .any(|c| matches!(therapies[c.therapy].kind, TherapyKind::CarT(_)))
                {
                    return invalid(
                        lp.key("bridge"),
                        "a bridge applies to CAR-T, and this line has no CAR-T candidate",
                    );
                }
                candidates(lp.key("bridge"), b, therapies, ids, bridge_allow)?
            }
        };
        for c in cands.iter().chain(&bridge) {
            given_before |= 1 << c.therapy;
        }
        lines.push(Line {
            when,
            candidates: cands,
            bridge,
        });
    }
    let consolidation = match &spec.consolidation {
        None => None,
        Some(c) => {
            let cp = path.key("consolidation");
            let hct = lookup(cp.key("therapy"), &c.therapy, ids)?;
            if !matches!(therapies[hct].kind, TherapyKind::Hct(_)) {
                return invalid(
                    cp.key("therapy"),
                    format!("`{}` is not a transplant (kind = \"hct\")", c.therapy),
                );
            }
            // An empty list was a transplant never given, without a word.
            if c.after.is_empty() {
                return invalid(
                    cp.key("after"),
                    "names no therapy, so the transplant is never given (remove `consolidation` for none)",
                );
            }
            let mut after = [None; MAX_THERAPIES];
            let any = |_: &TherapyKind| Ok(());
            let all_after = cp.key("after");
            for (k, cand) in candidates(all_after, &c.after, therapies, ids, any)?
                .into_iter()
                .enumerate()
            {
                let name = &therapies[cand.therapy].name;
                let ap = all_after.index(k);
                if !matches!(
                    therapies[cand.therapy].kind,
                    TherapyKind::Course(_) | TherapyKind::CarT(_)
                ) {
                    return invalid(ap, format!("`{name}` does not induce remissions"));
                }
                if given_before & (1 << cand.therapy) == 0 {
                    return invalid(
                        ap,
                        format!(
                            "`{name}` is not given by any line of this strategy, so its remissions never occur"
                        ),
                    );
                }
                // A second entry silently replaced the first one's `when`.
                if after[cand.therapy].is_some() {
                    return invalid(
                        ap,
                        format!("names `{name}` a second time: give one entry, with one `when`"),
                    );
                }
                after[cand.therapy] = Some(cand.when);
            }
            let mut max_cycles_before = [None; MAX_THERAPIES];
            let all_max = cp.key("max_cycles_before");
            for (name, &n) in c.max_cycles_before.iter().flatten() {
                let mp = all_max.key(name);
                let id = lookup(mp, name, ids)?;
                if !matches!(therapies[id].kind, TherapyKind::Course(_)) {
                    return invalid(mp, format!("`{name}` is not given in cycles"));
                }
                max_cycles_before[id] = Some(n);
            }
            Some(Consolidation {
                hct,
                after,
                when: condition(cp.key("when"), &c.when, ids)?,
                max_cycles_before,
            })
        }
    };
    let sp = path.key("supportive");
    let supportive = lookup(sp, &spec.supportive, ids)?;
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

fn cost(path: At<'_>, c: &CostSpec) -> R<Cost> {
    let parts = [
        ("drug", c.drug),
        ("administration", c.administration),
        ("hospital", c.hospital),
        ("toxicity", c.toxicity),
        ("transplant", c.transplant),
        ("follow_up", c.follow_up),
        ("end_of_life", c.end_of_life),
    ];
    let mut out = [0.0; 7];
    for (slot, (name, v)) in out.iter_mut().zip(parts) {
        if let Some(v) = v {
            *slot = non_negative(path.key(name), v)?;
        }
    }
    Ok(Cost::new(out))
}

fn utility(path: At<'_>, v: f64) -> R<f64> {
    if v.is_finite() && (-1.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        invalid(path, format!("must be a utility in [-1, 1] (got {v})"))
    }
}

fn disutility(path: At<'_>, v: f64) -> R<f64> {
    if v.is_finite() && (0.0..=2.0).contains(&v) {
        Ok(v)
    } else {
        invalid(
            path,
            format!("must be a utility decrement in [0, 2], positive = worse (got {v})"),
        )
    }
}

fn by_state<T, U>(path: At<'_>, s: &ByStateSpec<T>, f: impl Fn(At<'_>, &T) -> R<U>) -> R<[U; 5]> {
    // Order of model::Health.
    Ok([
        f(path.key("on_treatment"), &s.on_treatment)?,
        f(path.key("remission"), &s.remission)?,
        f(path.key("post_hct_first_year"), &s.post_hct_first_year)?,
        f(path.key("long_term"), &s.long_term)?,
        f(path.key("relapse"), &s.relapse)?,
    ])
}

fn by_toxicity<T, U>(
    path: At<'_>,
    s: &ByToxicitySpec<ByGradeSpec<T>>,
    f: impl Fn(At<'_>, &T) -> R<U>,
) -> R<[[U; 2]; 5]> {
    let grade = |name: &str, g: &ByGradeSpec<T>| -> R<[U; 2]> {
        Ok([
            f(path.key(name).key("low"), &g.low)?,
            f(path.key(name).key("severe"), &g.severe)?,
        ])
    };
    // Order of model::ToxKind.
    Ok([
        grade("crs", &s.crs)?,
        grade("icans", &s.icans)?,
        grade("sos", &s.sos)?,
        grade("infection", &s.infection)?,
        grade("gvhd", &s.gvhd)?,
    ])
}

fn discount_rate(path: At<'_>, r: f64) -> R<f64> {
    if r.is_finite() && (0.0..1.0).contains(&r) {
        Ok(r)
    } else {
        invalid(
            path,
            format!("must be an annual rate in [0, 1), e.g. 0.03 (got {r})"),
        )
    }
}

fn economics(spec: &EconomicsSpec) -> R<Economics> {
    let p = At::root("economics");
    let f = |n: &'static str| p.key(n);
    let code = spec.currency.trim();
    if code.len() != 3 || !code.chars().all(|c| c.is_ascii_uppercase()) {
        return invalid(
            f("currency"),
            format!(
                "must be a 3-letter ISO 4217 code such as USD or GBP (got `{}`)",
                spec.currency
            ),
        );
    }
    if spec.wtp.is_empty() {
        return invalid(f("wtp"), "list at least one willingness-to-pay threshold");
    }
    let mut wtp = Vec::with_capacity(spec.wtp.len());
    for (i, &w) in spec.wtp.iter().enumerate() {
        if !(w.is_finite() && w >= 0.0 && w.fract() == 0.0 && w <= 1e12) {
            return invalid(
                p.key("wtp").index(i),
                format!("must be a whole amount per QALY, >= 0 (got {w})"),
            );
        }
        if wtp.contains(&(w as u64)) {
            return invalid(p.key("wtp").index(i), format!("{w} is listed twice"));
        }
        wtp.push(w as u64);
    }
    let discount_costs = discount_rate(f("discount_costs"), spec.discount_costs)?;
    let discount_effects = discount_rate(f("discount_effects"), spec.discount_effects)?;
    let rho_costs = Economics::continuous(discount_costs);
    let rho_effects = Economics::continuous(discount_effects);
    Ok(Economics {
        currency: code.to_string(),
        price_year: spec.price_year,
        discount_costs,
        discount_effects,
        rho_costs,
        rho_effects,
        discount: crate::econ::DiscountTables::new(rho_costs, rho_effects),
        wtp,
        utilities: by_state(f("utilities"), &spec.utilities, |p, v| utility(p, *v))?,
        long_term_after_days: non_negative(f("long_term_after_years"), spec.long_term_after_years)?
            * DAYS_PER_YEAR,
        daily_costs: by_state(f("daily_costs"), &spec.daily_costs, cost)?,
        toxicity_costs: by_toxicity(f("toxicity_costs"), &spec.toxicity_costs, cost)?,
        toxicity_disutilities: by_toxicity(
            f("toxicity_disutilities"),
            &spec.toxicity_disutilities,
            |p, v| disutility(p, *v),
        )?,
        gvhd_disutility: [
            disutility(f("gvhd_disutility.acute"), spec.gvhd_disutility.acute)?,
            disutility(f("gvhd_disutility.chronic"), spec.gvhd_disutility.chronic)?,
        ],
        terminal_care: cost(f("terminal_care"), &spec.terminal_care)?,
    })
}

/// With `[economics]`, every therapy that costs money must say how much.
fn require_costs(file: &ScenarioFile) -> R<()> {
    for (name, t) in &file.therapies {
        let missing = match t {
            TherapySpec::Antibody(c) | TherapySpec::Adc(c) | TherapySpec::Chemotherapy(c) => {
                c.costs.is_none()
            }
            TherapySpec::CarT(c) => c.costs.is_none(),
            TherapySpec::Hct(c) => c.costs.is_none(),
            TherapySpec::Supportive(_) => false,
        };
        if missing {
            return invalid(
                format!("therapies.{name}.costs"),
                "is required because the scenario has [economics]",
            );
        }
    }
    Ok(())
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
        HorizonSpec::Years(y) => {
            Horizon::Days(positive(At::root("horizon.years"), y)? * DAYS_PER_YEAR)
        }
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
        strategies.push(strategy(
            i,
            s,
            &therapies,
            &ids,
            &population,
            file.trial_access,
        )?);
    }
    let economics = match &file.economics {
        Some(e) => {
            require_costs(file)?;
            Some(economics(e)?)
        }
        None => None,
    };
    let uncertainty = match &file.uncertainty {
        Some(u) => Some(crate::psa::compile(u)?),
        None => None,
    };
    Ok(Model {
        economics,
        uncertainty,
        name: file.name.clone(),
        seed: file.seed,
        patients: file.patients,
        horizon,
        trial_access: file.trial_access,
        population,
        therapies,
        strategies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Paths render as the loader expects them: keys joined by dots, indices in brackets.
    #[test]
    fn paths_render_keys_and_indices() {
        let root = At::root("strategies");
        let item = root.index(2);
        let lines = item.key("lines");
        let line = lines.index(0);
        assert_eq!(
            line.key("therapies").index(1).to_string(),
            "strategies[2].lines[0].therapies[1]"
        );
        assert_eq!(At::root("horizon.years").to_string(), "horizon.years");
        let t = At::root("therapies");
        let b = t.key("blinatumomab");
        assert_eq!(
            b.key("costs.per_cycle").key("drug").to_string(),
            "therapies.blinatumomab.costs.per_cycle.drug"
        );
        let e = probability(b.key("response"), 1.5).unwrap_err();
        assert_eq!(e.path, "therapies.blinatumomab.response");
    }
}
