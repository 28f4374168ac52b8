//! Patient-trajectory throughput of each strategy of the default adult scenario.
//!
//! `cargo bench --bench throughput`. Reports trajectories per second (`Throughput::Elements`):
//! one element is one patient simulated under one strategy, attributes included.

use allseq::engine::{Workspace, simulate};
use allseq::rng::RunKey;
use allseq::scenario;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const PATIENTS: u64 = 10_000;

fn per_strategy(c: &mut Criterion) {
    let model = scenario::load("scenarios/adult_rr_ball.toml".as_ref())
        .expect("default scenario")
        .model;
    let run = RunKey::new(model.seed);
    let mut group = c.benchmark_group("trajectory");
    group.throughput(Throughput::Elements(PATIENTS));
    for (s, strategy) in model.strategies.iter().enumerate() {
        group.bench_function(&strategy.name, |b| {
            let mut ws = Workspace::new(&model);
            b.iter(|| {
                let mut deaths = 0u64;
                for p in 0..PATIENTS {
                    let attrs = ws.attributes(&model, run, p);
                    let o = simulate(&model, s, run, p, &attrs, &mut ws, &mut ());
                    deaths += u64::from(o.death.is_some());
                }
                black_box(deaths)
            });
        });
    }
    group.finish();
}

/// A whole cohort run as `allseq run` does it (all strategies, aggregation, economics), on one
/// thread and on every core.
fn cohort(c: &mut Criterion) {
    let model = scenario::load("scenarios/adult_rr_ball.toml".as_ref())
        .expect("default scenario")
        .model;
    let patients = 100_000u64;
    let mut group = c.benchmark_group("cohort");
    group.sample_size(10);
    group.throughput(Throughput::Elements(
        patients * model.strategies.len() as u64,
    ));
    for threads in [1, 0] {
        let name = if threads == 1 {
            "1e5 patients, 1 thread"
        } else {
            "1e5 patients, all cores"
        };
        group.bench_function(name, |b| {
            let opts = allseq::runner::RunOptions {
                patients,
                seed: model.seed,
                threads,
                chunk_size: allseq::runner::DEFAULT_CHUNK,
                progress: None,
            };
            b.iter_with_large_drop(|| allseq::runner::run(&model, &opts).expect("run"));
        });
    }
    group.finish();
}

/// A small PSA as `allseq psa` runs it (draws in parallel on every core, written as they
/// complete, then the final files), and the per-draw set-up alone: sampling the uncertain
/// parameters and compiling the model they give.
fn psa(c: &mut Criterion) {
    let loaded = scenario::load("scenarios/adult_rr_ball.toml".as_ref()).expect("default scenario");
    let u = loaded.model.uncertainty.clone().expect("[uncertainty]");
    let (draws, patients) = (20u64, 1_000u64);
    let mut group = c.benchmark_group("psa");
    group.sample_size(10);
    group.throughput(Throughput::Elements(
        draws * patients * loaded.model.strategies.len() as u64,
    ));
    group.bench_function("20 draws x 1000 patients, all cores", |b| {
        let dir = tempfile::tempdir().expect("temporary directory");
        b.iter(|| {
            let out = dir.path().join("psa");
            let _ = std::fs::remove_dir_all(&out);
            let opts = allseq::psa::run::PsaOptions {
                draws,
                patients,
                seed: loaded.model.seed,
                shard: (0, 1),
                threads: 0,
                scenario_path: "scenarios/adult_rr_ball.toml".into(),
                progress: None,
            };
            allseq::psa::run::run(&loaded, &opts, &out).expect("psa");
        });
    });
    group.finish();
    let mut group = c.benchmark_group("psa_draw_setup");
    group.throughput(Throughput::Elements(1));
    let mut draw = 0u64;
    group.bench_function("sample and compile one draw", |b| {
        b.iter(|| {
            draw += 1;
            black_box(
                allseq::psa::run::draw_model(&loaded, &u, loaded.model.seed, draw)
                    .expect("compiles"),
            )
        });
    });
    group.finish();
}

criterion_group!(benches, per_strategy, cohort, psa);
criterion_main!(benches);
