//! Parameter uncertainty: probabilistic sensitivity analysis (PSA), one-way sensitivity
//! analysis (DSA), sharding and merging.
//!
//! A scenario's `[uncertainty]` section gives distributions over field paths of the scenario
//! itself (`"therapies.cd19_car_t.manufacturing_failure" = { dist = "beta", events = 7, n = 92 }`),
//! so that any numeric parameter, or any split that must sum to one, can carry a distribution
//! without a special type for it. A parameter draw writes the sampled values into the scenario
//! and compiles it again: every draw passes the same validation as the file.
//!
//! Each draw's parameters come from streams keyed by (seed, draw index, parameter path), its
//! patients from (seed, draw index, patient index, process): results depend on neither the
//! shard nor the thread count.

pub mod analysis;
pub mod dsa;
pub mod merge;
pub mod run;
pub mod slurm;

use crate::error::ScenarioError;
use crate::rng::{ProcessKey, RunKey, stream, uniform};
use crate::scenario::Scenario;
use crate::scenario::compile::Invalid;
use crate::scenario::raw::{ParamSpec, UncertaintySpec};
use statrs::distribution::{Beta, ContinuousCDF, Gamma, LogNormal, Normal};

/// The distribution of one uncertain parameter.
#[derive(Debug, Clone)]
pub enum ParamDist {
    /// Beta.
    Beta(Beta),
    /// Gamma.
    Gamma(Gamma),
    /// Log-normal.
    LogNormal(LogNormal),
    /// Normal.
    Normal(Normal),
    /// Uniform on [min, max].
    Uniform(f64, f64),
    /// Fixed.
    Fixed(f64),
    /// Dirichlet over the named shares of a split, with their counts.
    Dirichlet(Vec<(String, f64)>),
}

impl ParamDist {
    /// The quantile at `p` (scalar distributions; the mean shares for a Dirichlet's first).
    pub fn quantile(&self, p: f64) -> f64 {
        match self {
            ParamDist::Beta(d) => d.inverse_cdf(p),
            ParamDist::Gamma(d) => d.inverse_cdf(p),
            ParamDist::LogNormal(d) => d.inverse_cdf(p),
            ParamDist::Normal(d) => d.inverse_cdf(p),
            ParamDist::Uniform(a, b) => a + p * (b - a),
            ParamDist::Fixed(v) => *v,
            ParamDist::Dirichlet(_) => f64::NAN,
        }
    }
}

/// One uncertain parameter.
#[derive(Debug, Clone)]
pub struct Param {
    /// Field path in the scenario.
    pub path: String,
    /// Its distribution.
    pub dist: ParamDist,
    /// Low and high values for one-way sensitivity analysis (scalars only).
    pub low: f64,
    /// See `low`.
    pub high: f64,
}

/// A sampled value: a number, or the shares of a split.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number.
    Scalar(f64),
    /// (share name, share) of a split.
    Split(Vec<(String, f64)>),
}

impl Value {
    /// As a TOML value to write into the scenario.
    pub fn to_toml(&self) -> toml::Value {
        match self {
            Value::Scalar(v) => toml::Value::Float(*v),
            Value::Split(parts) => toml::Value::Table(
                parts
                    .iter()
                    .map(|(k, v)| (k.clone(), toml::Value::Float(*v)))
                    .collect(),
            ),
        }
    }
}

/// The uncertainty of a scenario, compiled.
#[derive(Debug, Clone)]
pub struct Uncertainty {
    /// Parameters, in path order.
    pub params: Vec<Param>,
    /// WTP grid of the CEAC and EVPI.
    pub wtp_grid: Vec<u64>,
    /// Population for population EVPI.
    pub population: Option<f64>,
}

impl Uncertainty {
    /// Column names of `psa_params.csv` after `draw`: one per scalar parameter, one per share.
    pub fn columns(&self) -> Vec<String> {
        self.params
            .iter()
            .flat_map(|p| match &p.dist {
                ParamDist::Dirichlet(parts) => parts
                    .iter()
                    .map(|(k, _)| format!("{}.{k}", p.path))
                    .collect::<Vec<_>>(),
                _ => vec![p.path.clone()],
            })
            .collect()
    }

    /// The parameter values of draw `draw` of a run with `seed`: one uniform per scalar and per
    /// share, from a stream keyed by (seed, draw, path), each inverted through its distribution.
    pub fn sample(&self, seed: u64, draw: u64) -> Vec<Value> {
        let run = RunKey::for_draw(seed, draw);
        self.params
            .iter()
            .map(|p| {
                // Patient index u64::MAX is never a patient: this stream is the parameter's.
                let mut rng = stream(run, u64::MAX, ProcessKey::new("parameter", &p.path));
                match &p.dist {
                    ParamDist::Dirichlet(parts) => {
                        let xs: Vec<f64> = parts
                            .iter()
                            .map(|(_, count)| {
                                let u = uniform(&mut rng);
                                if *count > 0.0 {
                                    let g = Gamma::new(*count, 1.0).expect("validated count");
                                    g.inverse_cdf(u)
                                } else {
                                    0.0
                                }
                            })
                            .collect();
                        let total: f64 = xs.iter().sum();
                        Value::Split(
                            parts
                                .iter()
                                .zip(xs)
                                .map(|((k, _), x)| (k.clone(), x / total))
                                .collect(),
                        )
                    }
                    d => Value::Scalar(d.quantile(uniform(&mut rng))),
                }
            })
            .collect()
    }

    /// Values as CSV cells (shortest round-trip form: exact).
    pub fn cells(values: &[Value]) -> Vec<String> {
        values
            .iter()
            .flat_map(|v| match v {
                Value::Scalar(x) => vec![format!("{x}")],
                Value::Split(parts) => parts.iter().map(|(_, x)| format!("{x}")).collect(),
            })
            .collect()
    }
}

type R<T> = Result<T, Invalid>;

fn invalid<T>(path: String, message: impl Into<String>) -> R<T> {
    Err(Invalid {
        path,
        message: message.into(),
    })
}

fn finite(path: &str, name: &str, v: f64) -> R<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        invalid(
            format!("{path}.{name}"),
            format!("must be a finite number (got {v})"),
        )
    }
}

fn dist_err(path: &str, e: impl std::fmt::Display) -> Invalid {
    Invalid {
        path: path.to_string(),
        message: format!("invalid distribution: {e}"),
    }
}

/// The largest shape parameter a beta or gamma may have. statrs' inverse CDFs, which draw every
/// PSA value and the DSA's default bounds, did not return for some larger shapes: a beta of 7
/// events in 10⁷ (and, in a random search, shapes from 8×10⁶ on), a gamma with mean 475,000 and
/// SE 0.5 (shape 9×10¹¹). Both returned within 0.6 ms for 20,000 random shapes up to 3×10⁶. At
/// 10⁶ the relative SD is 0.1% or less: a value that certain can be `dist = "fixed"`.
const MAX_SHAPE: f64 = 1e6;

/// `v` as a shape parameter of `what`, reported at `field`.
fn shape(field: String, what: &str, v: f64) -> R<f64> {
    if v <= MAX_SHAPE {
        Ok(v)
    } else {
        invalid(
            field,
            format!(
                "makes a {what} with a shape parameter of {v:.4e}, above the 10^6 for which its \
                 quantiles can be computed; a value this certain (a relative SD of 0.1% or less) \
                 can be dist = \"fixed\" or left out of [uncertainty]"
            ),
        )
    }
}

fn compile_param(key: &str, spec: &ParamSpec) -> R<Param> {
    let path = format!("uncertainty.parameters.{key}");
    let p = path.as_str();
    let bounds = |low: Option<f64>, high: Option<f64>, d: &ParamDist| -> R<(f64, f64)> {
        let lo = match low {
            Some(v) => finite(p, "low", v)?,
            None => d.quantile(0.025),
        };
        let hi = match high {
            Some(v) => finite(p, "high", v)?,
            None => d.quantile(0.975),
        };
        if lo > hi {
            return invalid(format!("{p}.high"), format!("must be >= low ({hi} < {lo})"));
        }
        Ok((lo, hi))
    };
    let (dist, low, high) = match spec {
        ParamSpec::Beta(b) => {
            let (alpha, beta) = match (b.events, b.n, b.mean, b.se) {
                (Some(e), Some(n), None, None) => {
                    if !(e.is_finite() && n.is_finite() && e > 0.0 && e < n) {
                        return invalid(
                            format!("{p}.events"),
                            format!("needs 0 < events < n (got {e} of {n})"),
                        );
                    }
                    (
                        shape(format!("{p}.events"), "beta", e)?,
                        shape(format!("{p}.n"), "beta", n - e)?,
                    )
                }
                (None, None, Some(m), Some(se)) => {
                    if !(m > 0.0 && m < 1.0 && se > 0.0 && se * se < m * (1.0 - m)) {
                        return invalid(
                            format!("{p}.se"),
                            format!(
                                "needs 0 < mean < 1 and se^2 < mean (1 - mean) (mean {m}, se {se})"
                            ),
                        );
                    }
                    let k = m * (1.0 - m) / (se * se) - 1.0;
                    let field = format!("{p}.se");
                    (
                        shape(field.clone(), "beta", m * k)?,
                        shape(field, "beta", (1.0 - m) * k)?,
                    )
                }
                _ => {
                    return invalid(
                        p.to_string(),
                        "a beta takes either `events` and `n`, or `mean` and `se`",
                    );
                }
            };
            let d = ParamDist::Beta(Beta::new(alpha, beta).map_err(|e| dist_err(p, e))?);
            let (lo, hi) = bounds(b.low, b.high, &d)?;
            (d, lo, hi)
        }
        ParamSpec::Gamma(g) => {
            let (m, se) = (finite(p, "mean", g.mean)?, finite(p, "se", g.se)?);
            if !(m > 0.0 && se > 0.0) {
                return invalid(format!("{p}.se"), "a gamma needs mean > 0 and se > 0");
            }
            let k = shape(format!("{p}.se"), "gamma", m * m / (se * se))?;
            let d = ParamDist::Gamma(Gamma::new(k, m / (se * se)).map_err(|e| dist_err(p, e))?);
            let (lo, hi) = bounds(g.low, g.high, &d)?;
            (d, lo, hi)
        }
        ParamSpec::LogNormal(g) => {
            let (m, se) = (finite(p, "mean", g.mean)?, finite(p, "se", g.se)?);
            if !(m > 0.0 && se > 0.0) {
                return invalid(format!("{p}.se"), "a log-normal needs mean > 0 and se > 0");
            }
            let s2 = (1.0 + se * se / (m * m)).ln();
            let d = ParamDist::LogNormal(
                LogNormal::new(m.ln() - s2 / 2.0, s2.sqrt()).map_err(|e| dist_err(p, e))?,
            );
            let (lo, hi) = bounds(g.low, g.high, &d)?;
            (d, lo, hi)
        }
        ParamSpec::Normal(n) => {
            let (m, sd) = (finite(p, "mean", n.mean)?, finite(p, "sd", n.sd)?);
            if sd <= 0.0 {
                return invalid(format!("{p}.sd"), "must be > 0");
            }
            let d = ParamDist::Normal(Normal::new(m, sd).map_err(|e| dist_err(p, e))?);
            let (lo, hi) = bounds(n.low, n.high, &d)?;
            (d, lo, hi)
        }
        ParamSpec::Uniform(u) => {
            let (a, b) = (finite(p, "min", u.min)?, finite(p, "max", u.max)?);
            if a >= b {
                return invalid(format!("{p}.max"), format!("must be > min ({b} <= {a})"));
            }
            let d = ParamDist::Uniform(a, b);
            let (lo, hi) = bounds(u.low, u.high, &d)?;
            (d, lo, hi)
        }
        ParamSpec::Fixed(f) => {
            let v = finite(p, "value", f.value)?;
            (ParamDist::Fixed(v), v, v)
        }
        ParamSpec::Dirichlet(d) => {
            if d.counts.values().all(|&c| c == 0.0) {
                return invalid(format!("{p}.counts"), "needs at least one count > 0");
            }
            for (k, &c) in &d.counts {
                if !(c.is_finite() && c >= 0.0) {
                    return invalid(
                        format!("{p}.counts.{k}"),
                        format!("must be a count >= 0 (got {c})"),
                    );
                }
            }
            let parts = d.counts.iter().map(|(k, &c)| (k.clone(), c)).collect();
            (ParamDist::Dirichlet(parts), f64::NAN, f64::NAN)
        }
    };
    Ok(Param {
        path: key.to_string(),
        dist,
        low,
        high,
    })
}

/// Compiles the `[uncertainty]` section (its own rules; the paths are checked against the
/// scenario by [`check`]).
///
/// # Errors
/// A malformed distribution or grid, with its field path.
pub fn compile(spec: &UncertaintySpec) -> Result<Uncertainty, Invalid> {
    let g = &spec.wtp_grid;
    // At most 10^12, as `economics.wtp`: above 2^64 the amounts saturated to one value, and
    // above 2^53 a step of 1 no longer moved `w` (the loop below never ended).
    let ok = [g.from, g.to, g.step]
        .iter()
        .all(|v| v.is_finite() && *v >= 0.0 && v.fract() == 0.0 && *v <= 1e12);
    if !ok || g.step == 0.0 || g.to < g.from || (g.to - g.from) / g.step > 100_000.0 {
        return invalid(
            "uncertainty.wtp_grid".into(),
            "needs whole amounts up to 10^12, from <= to, step > 0, at most 100,000 points",
        );
    }
    let mut wtp_grid = Vec::new();
    let mut w = g.from;
    while w <= g.to {
        wtp_grid.push(w as u64);
        w += g.step;
    }
    if let Some(p) = spec.population
        && !(p.is_finite() && p > 0.0)
    {
        return invalid("uncertainty.population".into(), "must be a number > 0");
    }
    if spec.parameters.is_empty() {
        return invalid(
            "uncertainty.parameters".into(),
            "lists no parameter: give at least one, or remove [uncertainty]",
        );
    }
    let params = spec
        .parameters
        .iter()
        .map(|(k, v)| compile_param(k, v))
        .collect::<R<Vec<_>>>()?;
    Ok(Uncertainty {
        params,
        wtp_grid,
        population: spec.population,
    })
}

/// Checks each uncertain parameter against the scenario: its path exists and holds a number (a
/// split table with the same shares, for a Dirichlet), and the scenario still compiles at its
/// low and high values (its 2.5th and 97.5th percentiles unless given) and at the 0.1th and
/// 99.9th percentiles, so that no draw can fail later.
///
/// # Errors
/// A located error at the offending `[uncertainty]` entry.
pub fn check(scenario: &Scenario) -> Result<(), ScenarioError> {
    let Some(u) = &scenario.model.uncertainty else {
        return Ok(());
    };
    if scenario.model.economics.is_none() {
        return Err(scenario.error_at(
            "uncertainty",
            "needs [economics]: PSA reports costs and QALYs",
        ));
    }
    for p in &u.params {
        let at = format!("uncertainty.parameters.{}", p.path);
        let here = scenario.value_at(&p.path);
        match (&p.dist, here) {
            (ParamDist::Dirichlet(parts), Some(toml::Value::Table(t))) => {
                let mut want: Vec<&str> = parts.iter().map(|(k, _)| k.as_str()).collect();
                let mut have: Vec<&str> = t.keys().map(String::as_str).collect();
                want.sort_unstable();
                have.sort_unstable();
                if want != have {
                    return Err(scenario.error_at(
                        &at,
                        format!(
                            "the counts must name the shares of `{}`: {}",
                            p.path,
                            have.join(", ")
                        ),
                    ));
                }
                let total: f64 = parts.iter().map(|(_, c)| c).sum();
                let mean =
                    Value::Split(parts.iter().map(|(k, c)| (k.clone(), c / total)).collect());
                scenario
                    .with_values(&[(&p.path, mean.to_toml())])
                    .map_err(|e| {
                        scenario.error_at(
                            &at,
                            format!("the mean shares do not compile: {}", e.message),
                        )
                    })?;
            }
            (ParamDist::Dirichlet(_), _) => {
                return Err(scenario.error_at(
                    &at,
                    format!("`{}` is not a split table of the scenario", p.path),
                ));
            }
            (_, Some(toml::Value::Float(_) | toml::Value::Integer(_))) => {
                let tries = [
                    ("low", p.low),
                    ("high", p.high),
                    ("0.1th percentile", p.dist.quantile(0.001)),
                    ("99.9th percentile", p.dist.quantile(0.999)),
                ];
                for (what, v) in tries {
                    scenario
                        .with_values(&[(&p.path, toml::Value::Float(v))])
                        .map_err(|e| {
                            scenario.error_at(
                                &at,
                                format!(
                                    "its {what} ({v}) is not a valid value here: {}",
                                    e.message
                                ),
                            )
                        })?;
                }
            }
            (_, Some(_)) => {
                return Err(scenario.error_at(&at, format!("`{}` is not a number", p.path)));
            }
            (_, None) => {
                return Err(
                    scenario.error_at(&at, format!("`{}` is not a field of the scenario", p.path))
                );
            }
        }
    }
    Ok(())
}
