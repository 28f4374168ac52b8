//! `allseq dsa`: one-way sensitivity analysis for a tornado diagram.
//!
//! Each scalar uncertain parameter is set to its low and then its high value (the 2.5th and
//! 97.5th percentiles of its distribution, or the `low`/`high` given in the scenario), every
//! other parameter at its base-case value (the value written in the scenario). Every run uses
//! the same seed and patients (common random numbers), so the spread reflects the parameter, not
//! Monte Carlo noise. The outcome is the incremental net monetary benefit of one strategy over
//! another at one willingness to pay. Dirichlet splits are multivariate and are not varied here.

use super::ParamDist;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::runner::{RunOptions, run};
use crate::scenario::Scenario;

/// One bar of the tornado.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Field path.
    pub parameter: String,
    /// Low value.
    pub low_value: f64,
    /// High value.
    pub high_value: f64,
    /// Incremental NMB at the low value.
    pub nmb_low: f64,
    /// Incremental NMB at the high value.
    pub nmb_high: f64,
}

impl Bar {
    /// |nmb_high − nmb_low|.
    pub fn range(&self) -> f64 {
        (self.nmb_high - self.nmb_low).abs()
    }
}

/// What the tornado measures.
#[derive(Debug, Clone)]
pub struct Target {
    /// Strategy index.
    pub strategy: usize,
    /// Comparator index; `None`: the strategy other than `strategy` with the lowest discounted
    /// cost in the base case.
    pub versus: Option<usize>,
    /// Willingness to pay per QALY.
    pub wtp: f64,
}

/// A finished one-way analysis.
#[derive(Debug, Clone)]
pub struct Tornado {
    /// The comparator used (the one asked for, or the cheapest other strategy).
    pub versus: usize,
    /// Incremental NMB in the base case.
    pub base: f64,
    /// The bars, widest first (ties by name).
    pub bars: Vec<Bar>,
}

/// Settings of a DSA.
#[derive(Debug, Clone)]
pub struct DsaOptions {
    /// Patients per run.
    pub patients: u64,
    /// Seed (the same for every run).
    pub seed: u64,
    /// Worker threads.
    pub threads: usize,
}

/// Discounted mean cost and QALYs of every strategy of `model`.
fn means(model: &Model, opts: &DsaOptions) -> Result<Vec<(f64, f64)>> {
    let agg = run(
        model,
        &RunOptions {
            patients: opts.patients,
            seed: opts.seed,
            threads: opts.threads,
            chunk_size: crate::runner::DEFAULT_CHUNK,
            progress: None,
        },
    )?;
    Ok(agg
        .strategies
        .iter()
        .map(|a| (a.cost_disc.mean(), a.qaly_disc.mean()))
        .collect())
}

/// Incremental NMB of strategy `a` over `b` from per-strategy (cost, QALY) means.
fn incremental(means: &[(f64, f64)], wtp: f64, a: usize, b: usize) -> f64 {
    let nmb = |s: usize| wtp * means[s].1 - means[s].0;
    nmb(a) - nmb(b)
}

/// Runs the base case (every strategy, to find the default comparator) and two runs per scalar
/// parameter of the two compared strategies only: a strategy's results do not depend on which
/// other strategies run beside it (its patients' streams are keyed by patient and process), so
/// dropping the others changes no number and halves the work of a four-strategy scenario.
///
/// # Errors
/// No `[uncertainty]`, fewer than two strategies, the comparator equal to the strategy, or a
/// run error; all but the last before anything runs.
pub fn dsa(scenario: &Scenario, opts: &DsaOptions, target: &Target) -> Result<Tornado> {
    let model = &scenario.model;
    let Some(u) = &model.uncertainty else {
        return Err(Error::Argument {
            option: "scenario",
            reason: "the scenario has no [uncertainty] section: nothing to vary".into(),
        });
    };
    if model.strategies.len() < 2 {
        return Err(Error::Argument {
            option: "scenario",
            reason: "DSA compares two strategies; the scenario has one".into(),
        });
    }
    let (strategy, wtp) = (target.strategy, target.wtp);
    if target.versus == Some(strategy) {
        return Err(Error::Argument {
            option: "--versus",
            reason: "the comparator must differ from --strategy".into(),
        });
    }
    let base_means = means(model, opts)?;
    let versus = target.versus.unwrap_or_else(|| {
        (0..base_means.len())
            .filter(|&s| s != strategy)
            .min_by(|&a, &b| base_means[a].0.total_cmp(&base_means[b].0))
            .expect("two strategies")
    });
    let base = incremental(&base_means, wtp, strategy, versus);
    let mut bars = Vec::new();
    for p in &u.params {
        if matches!(p.dist, ParamDist::Dirichlet(_) | ParamDist::Fixed(_)) {
            continue;
        }
        let at = |v: f64| -> Result<f64> {
            let mut m = scenario.with_values(&[(&p.path, toml::Value::Float(v))])?;
            m.strategies = vec![m.strategies[strategy].clone(), m.strategies[versus].clone()];
            Ok(incremental(&means(&m, opts)?, wtp, 0, 1))
        };
        bars.push(Bar {
            parameter: p.path.clone(),
            low_value: p.low,
            high_value: p.high,
            nmb_low: at(p.low)?,
            nmb_high: at(p.high)?,
        });
    }
    bars.sort_by(|a, b| {
        b.range()
            .total_cmp(&a.range())
            .then_with(|| a.parameter.cmp(&b.parameter))
    });
    Ok(Tornado { versus, base, bars })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The base case is the incremental net monetary benefit of the run's own means, and the
    /// default comparator is the cheapest other strategy; a scenario of one strategy is refused
    /// before anything runs.
    #[test]
    fn the_base_case_is_the_run_s_incremental_nmb() {
        let scenario = crate::scenario::adult_for_tests();
        let opts = DsaOptions {
            patients: 100,
            seed: 3,
            threads: 1,
        };
        let agg = run(
            &scenario.model,
            &RunOptions {
                patients: 100,
                seed: 3,
                threads: 1,
                chunk_size: 7,
                progress: None,
            },
        )
        .unwrap();
        let cost = |s: usize| agg.strategies[s].cost_disc.mean();
        let qaly = |s: usize| agg.strategies[s].qaly_disc.mean();
        let wtp = 150_000.0;
        let t = dsa(
            &scenario,
            &opts,
            &Target {
                strategy: 1,
                versus: Some(3),
                wtp,
            },
        )
        .unwrap();
        assert_eq!(t.versus, 3);
        assert_eq!(
            t.base,
            (wtp * qaly(1) - cost(1)) - (wtp * qaly(3) - cost(3))
        );
        assert!(t.base != 0.0);
        let cheapest = [0, 2, 3]
            .into_iter()
            .min_by(|&a, &b| cost(a).total_cmp(&cost(b)))
            .unwrap();
        let t = dsa(
            &scenario,
            &opts,
            &Target {
                strategy: 1,
                versus: None,
                wtp,
            },
        )
        .unwrap();
        assert_eq!(t.versus, cheapest);
        let mut two = crate::scenario::adult_for_tests();
        two.model.strategies.truncate(2);
        let target = Target {
            strategy: 0,
            versus: None,
            wtp,
        };
        assert_eq!(dsa(&two, &opts, &target).unwrap().versus, 1);
        let mut one = crate::scenario::adult_for_tests();
        one.model.strategies.truncate(1);
        let err = dsa(&one, &opts, &target).unwrap_err().to_string();
        assert!(err.contains("DSA compares two strategies"), "{err}");
    }
}
