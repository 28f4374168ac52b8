//! Integration tests, one binary (faster to link than one per file).
//!
//! - `cli`: the binary's behaviour on good and bad input (exit codes, messages, no partial output).
//! - `determinism`: byte-identical outputs across threads and chunk sizes; common random numbers.
//! - `engine`: whole-engine results against closed forms.
//! - `econ`: costs, QALYs and discounting against closed forms; the incremental analysis.
//! - `rules`: the clinical pathway's rules on every event of thousands of trajectories.

mod common;

mod cli;
mod determinism;
mod econ;
mod engine;
mod rules;
