//! Parallel cohorts: rayon over fixed-size chunks of patient indices, streaming aggregation.
//!
//! Each chunk simulates its patients under every strategy (the same patients, the same
//! attributes, the same streams) and adds the outcomes to integer aggregates. Partial
//! aggregates are merged exactly ([`crate::summary`]), so the result depends on neither the
//! number of threads nor the chunk size. Each worker thread keeps one accumulator, so memory
//! grows with the number of threads, not with the number of patients.

use crate::engine::{Outcome, Workspace, simulate_into};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::rng::RunKey;
use crate::summary::{OutOfRange, RunAgg};
use indicatif::ProgressBar;
use rayon::prelude::*;
use std::sync::{Mutex, PoisonError};

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

/// Streaming aggregates of a cohort: one patient's outcomes (one per strategy) at a time,
/// merged exactly whatever the grouping.
pub trait Accumulate: Send {
    /// Adds one patient's outcomes, in strategy order.
    fn add_patient(&mut self, outcomes: &[Outcome]);
    /// Adds another accumulator's content.
    fn merge(self, other: Self) -> Self;
    /// What went out of the range the exact sums hold, if anything (see
    /// [`RunAgg::out_of_range`]); checked once the run is merged. `None` by default.
    fn out_of_range(&self) -> Option<OutOfRange> {
        None
    }
    /// A hint, as soon as the outcome is known and before [`Accumulate::add_patient`] (which
    /// comes once the rest of the patient's batch is simulated, see [`simulate_range`]):
    /// strategy `strategy`'s outcome of a coming patient is `outcome` (to fetch what adding it
    /// will touch). Does nothing by default.
    #[inline]
    fn expect(&self, _strategy: usize, _outcome: &Outcome) {}
}

impl Accumulate for RunAgg {
    fn add_patient(&mut self, outcomes: &[Outcome]) {
        RunAgg::add_patient(self, outcomes);
    }
    fn merge(self, other: Self) -> Self {
        RunAgg::merge(self, other)
    }
    fn out_of_range(&self) -> Option<OutOfRange> {
        RunAgg::out_of_range(self)
    }
    #[inline]
    fn expect(&self, strategy: usize, outcome: &Outcome) {
        RunAgg::prefetch(self, strategy, outcome);
    }
}

/// Patients simulated before their outcomes are added to the aggregates, in patient order.
///
/// The engine's hot code and the aggregation's do not fit the first-level instruction cache
/// together. Added after each patient, they evicted each other once per patient; added after
/// each batch, once per 16. Under callgrind's cache simulation (32 KiB, 8-way first-level
/// caches, as on Zen 2 and 3) that more than halved the instruction-cache misses, from 62.9 to
/// 27.4 per trajectory, for 3.4 more first-level data misses (the batch's outcomes) and 0.1%
/// more instructions. The time gain is small and this shared machine's noise is of its size:
/// 0.973–0.997 median time ratio over seven sets of 8–20 interleaved pairs of 4×10⁵-patient
/// runs on one thread (batches of 4 to 64 alike). The sums are exact and the order is the
/// same, so the outputs are byte-identical.
const BATCH: usize = 16;

/// Simulates patients `[first, first + count)` of `run` under every strategy into `agg`, in
/// batches of `BATCH` patients: each batch simulated, then added in patient order.
pub fn simulate_range<A: Accumulate>(
    model: &Model,
    run: RunKey,
    first: u64,
    count: u64,
    ws: &mut Workspace,
    agg: &mut A,
) {
    // At least one: a scenario without strategies does not compile.
    let n = model.strategies.len();
    let mut buffer = vec![Outcome::default(); n * BATCH];
    let end = first + count;
    let mut start = first;
    while start < end {
        let batch = (end - start).min(BATCH as u64) as usize;
        let outcomes = &mut buffer[..n * batch];
        for (patient, patient_outcomes) in (start..).zip(outcomes.chunks_mut(n)) {
            let attrs = ws.attributes(model, run, patient);
            for (s, o) in patient_outcomes.iter_mut().enumerate() {
                simulate_into(model, s, run, patient, &attrs, ws, &mut (), o);
                agg.expect(s, o);
            }
        }
        for patient_outcomes in outcomes.chunks(n) {
            agg.add_patient(patient_outcomes);
        }
        start += batch as u64;
    }
}

/// Runs the cohort and returns the merged aggregates.
///
/// # Errors
/// [`Error::Threads`] if the thread pool cannot be built.
pub fn run(model: &Model, opts: &RunOptions) -> Result<RunAgg> {
    let max_days = model.max_follow_up_days();
    let n = model.strategies.len();
    run_with(model, opts, || RunAgg::new(n, max_days))
}

/// A thread pool of `threads` workers (0: one per core).
///
/// # Errors
/// The pool cannot be built.
pub fn pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Threads {
            threads,
            reason: e.to_string(),
        })
}

/// One worker thread's accumulator and workspace, made when it takes its first chunk.
type Slot<A> = Mutex<Option<(A, Workspace)>>;

/// Runs the cohort into accumulators made by `empty`.
///
/// # Errors
/// [`Error::Threads`] if the thread pool cannot be built, [`Error::OutOfRange`] if a patient's
/// value is beyond what the accumulator's exact sums hold.
pub fn run_with<A: Accumulate>(
    model: &Model,
    opts: &RunOptions,
    empty: impl Fn() -> A + Sync + Send,
) -> Result<A> {
    let pool = pool(opts.threads)?;
    let chunk = opts.chunk_size.max(1);
    let n_chunks = opts.patients.div_ceil(chunk);
    let run = RunKey::new(opts.seed);
    // One accumulator and workspace per worker thread, made when the thread takes its first
    // chunk. A `fold` would make one per piece rayon splits the range into, and hold the
    // finished ones until their siblings finish: measured on 16 threads, 204-216 MiB for 10^6
    // patients and 400-475 MiB for 10^7. Slots bound the memory by the number of threads. The
    // merge is exact, so which thread took which chunk does not change the result.
    let slots: Vec<Slot<A>> = (0..pool.current_num_threads())
        .map(|_| Mutex::new(None))
        .collect();
    pool.install(|| {
        (0..n_chunks).into_par_iter().for_each(|c| {
            // Always `Some` on the pool's own workers. Were it not, slot 0 would be shared,
            // and still correct: what is put back merges with what another thread put there.
            let worker = rayon::current_thread_index().unwrap_or(0);
            // Taken out of the slot for the chunk and put back after it, so that the chunk
            // works on locals, as in a `fold`. Working through the lock's guard instead ran
            // 1.5% slower on one thread and 5% slower on two (neighbouring slots share cache
            // lines), in interleaved pairs; this runs as fast as the `fold` did.
            let taken = slots[worker]
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            let (mut agg, mut ws) = taken.unwrap_or_else(|| (empty(), Workspace::new(model)));
            let first = c * chunk;
            let count = chunk.min(opts.patients - first);
            simulate_range(model, run, first, count, &mut ws, &mut agg);
            if let Some(pb) = &opts.progress {
                pb.inc(count);
            }
            let mut slot = slots[worker].lock().unwrap_or_else(PoisonError::into_inner);
            *slot = Some(match slot.take() {
                // Only if two threads shared a slot (see above): keep both counts.
                Some((other, _)) => (other.merge(agg), ws),
                None => (agg, ws),
            });
        });
    });
    let agg = slots
        .into_iter()
        .filter_map(|slot| slot.into_inner().unwrap_or_else(PoisonError::into_inner))
        .map(|(agg, _)| agg)
        .reduce(A::merge)
        .unwrap_or_else(empty);
    match agg.out_of_range() {
        Some(o) => Err(refusal(o, model, "")),
        None => Ok(agg),
    }
}

/// The error refusing results whose sums went out of range: `context` (`PSA draw 3, `, say),
/// then the strategy of `model` if the sums are one strategy's, then what went out of range.
pub fn refusal(o: OutOfRange, model: &Model, context: &str) -> Error {
    Error::OutOfRange {
        where_: match o.strategy {
            Some(s) => format!("{context}strategy `{}`: ", model.strategies[s].name),
            None => context.to_string(),
        },
        quantity: o.quantity,
        limit: o.limit,
    }
}
