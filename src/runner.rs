//! Parallel cohorts: rayon over fixed-size chunks of patient indices, streaming aggregation.
//!
//! Each chunk simulates its patients under every strategy (the same patients, the same
//! attributes, the same streams) and adds the outcomes to integer aggregates. Partial
//! aggregates are merged exactly ([`crate::summary`]), so the result depends on neither the
//! number of threads nor the chunk size, and memory does not grow with the number of patients.

use crate::engine::{Workspace, simulate};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::rng::RunKey;
use crate::summary::RunAgg;
use indicatif::ProgressBar;
use rayon::prelude::*;

/// Default number of patients per chunk: large enough to amortise scheduling, small enough to
/// balance load and update the progress bar often.
pub const DEFAULT_CHUNK: u64 = 4096;

/// How to run a cohort.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Patients to simulate.
    pub patients: u64,
    /// Run seed.
    pub seed: u64,
    /// Worker threads; 0 = one per core.
    pub threads: usize,
    /// Patients per chunk (results do not depend on it).
    pub chunk_size: u64,
    /// Progress bar to advance, if any.
    pub progress: Option<ProgressBar>,
}

/// Simulates patients `[first, first + count)` of `run` under every strategy into `agg`.
pub fn simulate_range(
    model: &Model,
    run: RunKey,
    first: u64,
    count: u64,
    ws: &mut Workspace,
    agg: &mut RunAgg,
) {
    let mut outcomes = Vec::with_capacity(model.strategies.len());
    for patient in first..first + count {
        let attrs = ws.attributes(model, run, patient);
        outcomes.clear();
        for s in 0..model.strategies.len() {
            outcomes.push(simulate(model, s, run, patient, &attrs, ws, &mut ()));
        }
        agg.add_patient(&outcomes);
    }
}

/// Runs the cohort and returns the merged aggregates.
///
/// # Errors
/// [`Error::Threads`] if the thread pool cannot be built.
pub fn run(model: &Model, opts: &RunOptions) -> Result<RunAgg> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(|e| Error::Threads {
            threads: opts.threads,
            reason: e.to_string(),
        })?;
    let chunk = opts.chunk_size.max(1);
    let n_chunks = opts.patients.div_ceil(chunk);
    let max_days = model.max_follow_up_days();
    let n_strategies = model.strategies.len();
    let run = RunKey::new(opts.seed);
    let agg = pool.install(|| {
        (0..n_chunks)
            .into_par_iter()
            .fold(
                || (RunAgg::new(n_strategies, max_days), Workspace::new(model)),
                |(mut agg, mut ws), c| {
                    let first = c * chunk;
                    let count = chunk.min(opts.patients - first);
                    simulate_range(model, run, first, count, &mut ws, &mut agg);
                    if let Some(pb) = &opts.progress {
                        pb.inc(count);
                    }
                    (agg, ws)
                },
            )
            .map(|(agg, _)| agg)
            .reduce(|| RunAgg::new(n_strategies, max_days), RunAgg::merge)
    });
    Ok(agg)
}
