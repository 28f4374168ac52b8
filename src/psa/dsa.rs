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
    /// Comparator index.
    pub versus: usize,
    /// Willingness to pay per QALY.
    pub wtp: f64,
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

fn incremental_nmb(model: &Model, opts: &DsaOptions, t: &Target) -> Result<f64> {
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
    let nmb = |s: usize| {
        let a = &agg.strategies[s];
        t.wtp * a.qaly_disc.mean() - a.cost_disc.mean()
    };
    Ok(nmb(t.strategy) - nmb(t.versus))
}

/// Runs the base case and two runs per scalar parameter; returns the base incremental NMB and
/// the bars sorted by range, widest first (ties by name).
///
/// # Errors
/// No `[uncertainty]`, or a run error.
pub fn dsa(scenario: &Scenario, opts: &DsaOptions, target: &Target) -> Result<(f64, Vec<Bar>)> {
    let Some(u) = &scenario.model.uncertainty else {
        return Err(Error::Argument {
            option: "scenario",
            reason: "the scenario has no [uncertainty] section: nothing to vary".into(),
        });
    };
    let base = incremental_nmb(&scenario.model, opts, target)?;
    let mut bars = Vec::new();
    for p in &u.params {
        if matches!(p.dist, ParamDist::Dirichlet(_) | ParamDist::Fixed(_)) {
            continue;
        }
        let at = |v: f64| -> Result<f64> {
            let m = scenario.with_values(&[(&p.path, toml::Value::Float(v))])?;
            incremental_nmb(&m, opts, target)
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
    Ok((base, bars))
}
