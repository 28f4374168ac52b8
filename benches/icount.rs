//! Instruction-count benchmark: the regression gate of CI.
//!
//! A fixed cohort (10^4 patients of the default adult scenario, every strategy, aggregation and
//! economics, one thread) run under Valgrind's callgrind through gungraun. Instruction counts
//! are exact from run to run on this machine, unlike wall-clock time on a shared host.
//!
//! `.ci/run` compares the count against the baseline committed in `benches/baseline/` and fails
//! when it grows by more than 5% (`--callgrind-limits='ir=5%'`). See the README section
//! "Benchmarks and the CI gate" for how to run it and how to update the baseline on purpose.
//!
//! `main!` is at module level: inside `fn main` it compiles and measures nothing.

use allseq::engine::Workspace;
use allseq::model::Model;
use allseq::rng::RunKey;
use allseq::runner::simulate_range;
use allseq::summary::RunAgg;
use gungraun::prelude::*;
use std::hint::black_box;

/// Patients of the gated cohort.
const PATIENTS: u64 = 10_000;

fn default_adult() -> Model {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/adult_rr_ball.toml");
    allseq::scenario::load(path.as_ref())
        .expect("default scenario")
        .model
}

#[library_benchmark]
#[bench::adult_1e4_patients(setup = default_adult)]
fn cohort(model: Model) -> RunAgg {
    let mut ws = Workspace::new(&model);
    let mut agg = RunAgg::new(model.strategies.len(), model.max_follow_up_days());
    simulate_range(
        &model,
        RunKey::new(model.seed),
        0,
        PATIENTS,
        &mut ws,
        &mut agg,
    );
    black_box(agg)
}

library_benchmark_group!(name = engine, benchmarks = [cohort]);

main!(library_benchmark_groups = engine);
