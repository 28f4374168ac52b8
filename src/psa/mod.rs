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

    /// `(field path, value)` pairs of `values` (one per parameter, as [`Uncertainty::sample`]
    /// gives them), for [`crate::scenario::Scenario::with_values`].
    pub fn pairs<'u>(&'u self, values: &[Value]) -> Vec<(&'u str, toml::Value)> {
        self.params
            .iter()
            .zip(values)
            .map(|(p, v)| (p.path.as_str(), v.to_toml()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use statrs::statistics::Distribution;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    /// The `[uncertainty]` section with these `parameters` lines, compiled.
    fn compiled(parameters: &str) -> Result<Uncertainty, Invalid> {
        let text =
            format!("wtp_grid = {{ from = 0, to = 100, step = 50 }}\n[parameters]\n{parameters}\n");
        compile(&toml::from_str(&text).expect("a well-formed section"))
    }

    fn param(line: &str) -> Param {
        compiled(&format!("\"x\" = {line}"))
            .unwrap()
            .params
            .remove(0)
    }

    fn moments(p: &Param) -> (f64, f64) {
        match &p.dist {
            ParamDist::Beta(d) => (d.mean().unwrap(), d.std_dev().unwrap()),
            ParamDist::Gamma(d) => (d.mean().unwrap(), d.std_dev().unwrap()),
            ParamDist::LogNormal(d) => (d.mean().unwrap(), d.std_dev().unwrap()),
            ParamDist::Normal(d) => (d.mean().unwrap(), d.std_dev().unwrap()),
            d => panic!("{d:?}"),
        }
    }

    /// Each distribution has the mean and SE it was given (the method of moments), and its
    /// DSA bounds are its 2.5th and 97.5th percentiles unless given.
    #[test]
    fn distributions_have_the_moments_and_bounds_they_were_given() {
        let beta = param("{ dist = \"beta\", events = 7, n = 92 }");
        let (m, sd) = moments(&beta);
        assert!(close(m, 7.0 / 92.0, 1e-12), "{m}");
        assert!(
            close(sd * sd, 7.0 * 85.0 / (92.0 * 92.0 * 93.0), 1e-12),
            "{sd}"
        );
        for (line, mean, se) in [
            ("{ dist = \"beta\", mean = 0.2, se = 0.05 }", 0.2, 0.05),
            ("{ dist = \"beta\", mean = 0.5, se = 0.2 }", 0.5, 0.2),
            (
                "{ dist = \"gamma\", mean = 475000, se = 118750 }",
                475000.0,
                118750.0,
            ),
            (
                "{ dist = \"lognormal\", mean = 2.885, se = 0.5 }",
                2.885,
                0.5,
            ),
            ("{ dist = \"normal\", mean = -1.5, sd = 0.25 }", -1.5, 0.25),
        ] {
            let p = param(line);
            let (m, sd) = moments(&p);
            assert!(
                close(m, mean, 1e-9) && close(sd, se, 1e-9),
                "{line}: {m} {sd}"
            );
            assert_eq!(
                (p.low, p.high),
                (p.dist.quantile(0.025), p.dist.quantile(0.975))
            );
            assert!(p.low < mean && mean < p.high, "{line}");
        }
        let u = param("{ dist = \"uniform\", min = 1, max = 3 }");
        assert_eq!(
            [0.0, 0.25, 1.0].map(|q| u.dist.quantile(q)),
            [1.0, 1.5, 3.0]
        );
        assert_eq!((u.low, u.high), (1.05, 2.95));
        let given = param("{ dist = \"uniform\", min = 1, max = 3, low = 1.2, high = 2.0 }");
        assert_eq!((given.low, given.high), (1.2, 2.0));
        let point = param("{ dist = \"uniform\", min = 1, max = 3, low = 2, high = 2 }");
        assert_eq!((point.low, point.high), (2.0, 2.0));
        let fixed = param("{ dist = \"fixed\", value = 0.4 }");
        assert_eq!(
            (fixed.dist.quantile(0.9), fixed.low, fixed.high),
            (0.4, 0.4, 0.4)
        );
    }

    #[test]
    fn impossible_parameters_are_refused_with_their_field() {
        for (line, path) in [
            ("{ dist = \"beta\", events = 92, n = 92 }", "x.events"),
            ("{ dist = \"beta\", events = 0, n = 92 }", "x.events"),
            ("{ dist = \"beta\", mean = 0.5, se = 0.5 }", "x.se"),
            ("{ dist = \"beta\", mean = 1.0, se = 0.1 }", "x.se"),
            ("{ dist = \"beta\", mean = 0.0, se = 0.1 }", "x.se"),
            ("{ dist = \"beta\", mean = 0.5 }", "x"),
            ("{ dist = \"gamma\", mean = 0, se = 1 }", "x.se"),
            ("{ dist = \"gamma\", mean = 1, se = 0 }", "x.se"),
            ("{ dist = \"lognormal\", mean = -1, se = 1 }", "x.se"),
            ("{ dist = \"lognormal\", mean = 0, se = 1 }", "x.se"),
            ("{ dist = \"lognormal\", mean = 1, se = 0 }", "x.se"),
            ("{ dist = \"normal\", mean = 0, sd = 0 }", "x.sd"),
            ("{ dist = \"uniform\", min = 3, max = 3 }", "x.max"),
            (
                "{ dist = \"uniform\", min = 1, max = 3, low = 2, high = 1.5 }",
                "x.high",
            ),
            (
                "{ dist = \"normal\", mean = 0, sd = 1, low = nan }",
                "x.low",
            ),
            ("{ dist = \"fixed\", value = inf }", "x.value"),
            (
                "{ dist = \"dirichlet\", counts = { a = 0, b = 0 } }",
                "x.counts",
            ),
            (
                "{ dist = \"dirichlet\", counts = { a = 1, b = -1 } }",
                "x.counts.b",
            ),
        ] {
            let e = compiled(&format!("\"x\" = {line}")).expect_err(line);
            assert_eq!(e.path, format!("uncertainty.parameters.{path}"), "{line}");
        }
        // A zero SE is refused for what it is, not as an infinite shape.
        for (line, message) in [
            (
                "{ dist = \"beta\", mean = 0.5, se = 0 }",
                "needs 0 < mean < 1 and se^2",
            ),
            (
                "{ dist = \"gamma\", mean = 1, se = 0 }",
                "a gamma needs mean > 0 and se > 0",
            ),
        ] {
            let e = compiled(&format!("\"x\" = {line}")).expect_err(line);
            assert!(e.message.starts_with(message), "{line}: {}", e.message);
        }
    }

    /// Shapes up to 10^6 are accepted, above are refused (statrs' quantiles hang there).
    #[test]
    fn the_shape_bound_is_ten_to_the_six() {
        assert!(compiled("\"x\" = { dist = \"beta\", events = 1000000, n = 2000000 }").is_ok());
        let e = compiled("\"x\" = { dist = \"beta\", events = 1000001, n = 2000000 }").unwrap_err();
        assert_eq!(e.path, "uncertainty.parameters.x.events");
        // A gamma's shape is (mean / se)^2: 10^6 at se = mean / 1000.
        assert!(compiled("\"x\" = { dist = \"gamma\", mean = 1000, se = 1 }").is_ok());
        assert!(compiled("\"x\" = { dist = \"gamma\", mean = 1000, se = 0.999 }").is_err());
    }

    #[test]
    fn the_wtp_grid_is_inclusive_and_the_population_positive() {
        let text = |grid: &str, extra: &str| {
            format!(
                "wtp_grid = {grid}\n{extra}[parameters]\n\"x\" = {{ dist = \"fixed\", value = 1 }}\n"
            )
        };
        let c = |grid: &str, extra: &str| compile(&toml::from_str(&text(grid, extra)).unwrap());
        let u = c("{ from = 10, to = 100, step = 45 }", "population = 250\n").unwrap();
        assert_eq!(u.wtp_grid, [10, 55, 100]);
        assert_eq!(u.population, Some(250.0));
        assert_eq!(
            c("{ from = 0, to = 99, step = 50 }", "").unwrap().wtp_grid,
            [0, 50]
        );
        assert_eq!(
            c("{ from = 7, to = 7, step = 1 }", "").unwrap().wtp_grid,
            [7]
        );
        for (grid, extra) in [
            ("{ from = 0, to = 100, step = 0 }", ""),
            ("{ from = 100, to = 0, step = 10 }", ""),
            ("{ from = 0, to = 100, step = 0.5 }", ""),
            ("{ from = -10, to = 100, step = 10 }", ""),
            ("{ from = 0, to = 2e12, step = 1e10 }", ""),
            ("{ from = 0, to = 100001, step = 1 }", ""),
        ] {
            assert_eq!(
                c(grid, extra).unwrap_err().path,
                "uncertainty.wtp_grid",
                "{grid}"
            );
        }
        assert!(c("{ from = 0, to = 100000, step = 1 }", "").is_ok());
        assert!(c("{ from = 500, to = 100500, step = 1 }", "").is_ok());
        for pop in [
            "population = 0\n",
            "population = -5\n",
            "population = inf\n",
        ] {
            assert_eq!(
                c("{ from = 0, to = 100, step = 50 }", pop)
                    .unwrap_err()
                    .path,
                "uncertainty.population"
            );
        }
        let empty = "wtp_grid = { from = 0, to = 100, step = 50 }\n[parameters]\n";
        let e = compile(&toml::from_str(empty).unwrap()).unwrap_err();
        assert_eq!(e.path, "uncertainty.parameters");
    }

    /// A Dirichlet's shares sum to one, a zero count stays zero, and the mean shares are the
    /// counts over their total (tolerance: 4 Monte Carlo standard errors of a beta marginal).
    #[test]
    fn dirichlet_shares_sum_to_one_with_the_counts_as_their_means() {
        let u = compiled(
            "\"s\" = { dist = \"dirichlet\", counts = { a = 10, b = 0, c = 30 } }\n\"t\" = { dist = \"uniform\", min = 0, max = 1 }",
        )
        .unwrap();
        assert_eq!(u.columns(), ["s.a", "s.b", "s.c", "t"]);
        let draws = 4000;
        let mut sum_a = 0.0;
        for d in 0..draws {
            let v = u.sample(11, d);
            let Value::Split(parts) = &v[0] else {
                panic!("{v:?}")
            };
            let total: f64 = parts.iter().map(|(_, x)| x).sum();
            assert!((total - 1.0).abs() < 1e-12, "{total}");
            assert_eq!(parts[1], ("b".to_string(), 0.0));
            sum_a += parts[0].1;
            assert_eq!(Uncertainty::cells(&v).len(), 4);
        }
        // Share a is Beta(10, 30): mean 0.25, variance 0.25 * 0.75 / 41.
        let se = (0.25 * 0.75 / 41.0 / draws as f64).sqrt();
        let mean = sum_a / draws as f64;
        assert!(
            (mean - 0.25).abs() < 4.0 * se,
            "{mean} vs 0.25 ± {}",
            4.0 * se
        );
        // Draws are reproducible and differ from each other.
        assert_eq!(u.sample(11, 5), u.sample(11, 5));
        assert_ne!(u.sample(11, 5), u.sample(11, 6));
        assert_ne!(u.sample(11, 5), u.sample(12, 5));
    }

    #[test]
    fn values_become_toml_and_cells() {
        let split = Value::Split(vec![("a".into(), 0.25), ("b".into(), 0.75)]);
        let t = split.to_toml();
        assert_eq!(t.get("a"), Some(&toml::Value::Float(0.25)));
        assert_eq!(t.get("b"), Some(&toml::Value::Float(0.75)));
        assert_eq!(Value::Scalar(0.1).to_toml(), toml::Value::Float(0.1));
        assert_eq!(
            Uncertainty::cells(&[Value::Scalar(0.1), split]),
            ["0.1", "0.25", "0.75"]
        );
    }
}
