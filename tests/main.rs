//! Integration tests, one binary (faster to link than one per file).
//!
//! - `cli`: the binary's behaviour on good and bad input (exit codes, messages, no partial output).
//! - `closed_forms`: the engine against closed forms (survival, competing risks, medians, cure).
//! - `determinism`: byte-identical outputs across threads and chunk sizes; common random numbers;
//!   every draw of the shipped scenarios from a stream their model declares.
//! - `distributions`: the samplers against exact distributions (KS, chi-square, pinned draws).
//! - `engine`: whole-engine results against closed forms.
//! - `floor` (with `--features draw-stats`): the speed floor's draw mix against the engine's.
//! - `econ`: costs, QALYs and discounting against closed forms; the incremental analysis.
//! - `psa`: PSA sharding, merge, resume, CEAC/EVPI, DSA, the SLURM script and `[uncertainty]` errors.
//! - `rules`: the clinical pathway's rules on every event of thousands of trajectories.
//! - `validate`: `allseq validate`, its populations, exit status and errors.

mod common;

mod cli;
mod closed_forms;
mod determinism;
mod distributions;
mod econ;
mod engine;
#[cfg(feature = "draw-stats")]
mod floor;
mod psa;
mod rules;
mod validate;
