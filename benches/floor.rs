//! The speed floor: a hand-written, straight-line sampler that makes the same kinds and number of
//! random draws as an average trajectory of the default adult scenario, with no event queue, no
//! aggregation and no economics. The engine's time per trajectory, divided by this one's, is what
//! the pathway logic, the queue and the accounts cost on top of the draws themselves.
//!
//! The mix per trajectory is `benches/common/mix.rs`, measured on the engine; a test checks it
//! against the engine whenever CI runs (`tests/floor.rs`).
//!
//! `cargo bench --bench floor` reports the floor's trajectories per second, then the engine's
//! time per trajectory as a ratio to the floor's, the two timed in alternation
//! (`engine_vs_floor`, below). `cargo bench --bench throughput` has the engine's own benchmarks.

use allseq::dist::{Gompertz, TimeDist, std_normal_quantile};
use allseq::engine::Workspace;
use allseq::psa::analysis::quantile;
use allseq::rng::{ProcessKey, RunKey, Stream, stream, uniform};
use allseq::runner::simulate_range;
use allseq::summary::RunAgg;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, Instant};

#[path = "common/mix.rs"]
mod mix;
use mix::PER_1000;

/// 1000 trajectories' worth of draws, straight line; returns a checksum.
fn thousand_trajectories(run: RunKey, first_patient: u64) -> f64 {
    let exp = TimeDist::exponential(120.0).unwrap();
    let weibull = TimeDist::weibull(1.2, 288.0).unwrap();
    let lognormal = TimeDist::log_normal(36.0, 0.35).unwrap();
    let gompertz = Gompertz::new(1.14e-4, 0.0773).unwrap();
    let key = ProcessKey::new("floor", "");
    let m = &PER_1000;
    let mut acc = 0.0;
    // Streams: seeded from their key, and restarted (copied) from a saved seeded state.
    let mut rng: Stream = stream(run, first_patient, key);
    for i in 0..m.seeds {
        rng = stream(run, first_patient + u64::from(i), key);
    }
    let saved = rng.clone();
    for _ in 0..m.restarts {
        rng = black_box(saved.clone());
    }
    for _ in 0..m.uniforms {
        acc += uniform(&mut rng);
    }
    // The inversions reuse the uniforms above (they are counted among them in the engine).
    let mut u = 0.37;
    let mut next = || {
        u = (u * 1.618_033_988_75) % 1.0;
        1.0 - u
    };
    for _ in 0..m.exponential {
        acc += exp.inverse_survival(next()).unwrap_or(0.0);
    }
    for _ in 0..m.weibull {
        acc += weibull.inverse_survival(next()).unwrap_or(0.0);
    }
    for _ in 0..m.lognormal {
        acc += lognormal.inverse_survival(next()).unwrap_or(0.0);
    }
    for _ in 0..m.hazard_ratio {
        acc += next().powf(1.0 / 2.0);
    }
    for _ in 0..m.background {
        acc += gompertz.inverse_survival_years(41.0, next());
    }
    for _ in 0..m.normal_age {
        acc += std_normal_quantile(next().clamp(1e-300, 1.0 - 1e-16));
    }
    acc
}

fn floor(c: &mut Criterion) {
    let mut group = c.benchmark_group("floor");
    group.throughput(Throughput::Elements(1000));
    let run = RunKey::new(20261122);
    let mut patient = 0u64;
    group.bench_function("1000 trajectories' draws", |b| {
        b.iter(|| {
            patient += 1000;
            black_box(thousand_trajectories(run, patient))
        })
    });
    group.finish();
}

/// Patients in one block of the engine's side of `engine_vs_floor`: 8,000 trajectories of the
/// default scenario's 4 strategies, some 6-8 ms. A multiple of 1,000, so that the floor's side
/// is whole calls of [`thousand_trajectories`] whatever the number of strategies.
const BLOCK_PATIENTS: u64 = 2_000;

/// The engine against the floor, timed in alternation: a block of patients through the engine
/// exactly as a worker thread of `allseq run` simulates them (every strategy, aggregation,
/// economics; one thread), then the same number of trajectories' draws of the floor, and so
/// on. This machine's speed drifts by 10-20% from minute to minute with its neighbours' load;
/// two benchmarks run minutes apart give a ratio that drifts with it (4.6x and 5.7x for the
/// same code), while each pair here shares its minute. Criterion reports the engine's time
/// (each iteration is one pair, and only the engine's part is returned to it); the pairs'
/// ratios are printed after it ([`report_ratio`]).
fn engine_vs_floor(c: &mut Criterion) {
    let model = allseq::scenario::load("scenarios/adult_rr_ball.toml".as_ref())
        .expect("default scenario")
        .model;
    let run = RunKey::new(model.seed);
    let strategies = model.strategies.len() as u64;
    let trajectories = BLOCK_PATIENTS * strategies;
    let mut ws = Workspace::new(&model);
    let mut agg = RunAgg::new(model.strategies.len(), model.max_follow_up_days());
    let mut patient = 0u64;
    // Each block's time per trajectory (ns), engine then floor.
    let mut pairs: Vec<(f64, f64)> = Vec::new();
    let mut group = c.benchmark_group("engine_vs_floor");
    group.sample_size(20);
    group.throughput(Throughput::Elements(trajectories));
    group.bench_function("engine, floor interleaved", |b| {
        b.iter_custom(|iters| {
            let mut engine = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                simulate_range(&model, run, patient, BLOCK_PATIENTS, &mut ws, &mut agg);
                let e = start.elapsed();
                let start = Instant::now();
                let mut acc = 0.0;
                for k in 0..trajectories / 1000 {
                    acc += thousand_trajectories(run, patient * strategies + k * 1000);
                }
                black_box(acc);
                let f = start.elapsed();
                patient += BLOCK_PATIENTS;
                engine += e;
                let per = |d: Duration| d.as_nanos() as f64 / trajectories as f64;
                pairs.push((per(e), per(f)));
            }
            engine
        })
    });
    group.finish();
    black_box(agg);
    report_ratio(&pairs);
}

/// The middle value of `v` (sorted here), and its lower and upper quartiles.
fn quartiles(v: &mut [f64]) -> (f64, f64, f64) {
    (quantile(v, 0.25), quantile(v, 0.5), quantile(v, 0.75))
}

/// Prints the ratio of the engine's time per trajectory to the floor's from the pairs
/// `engine_vs_floor` timed, if it timed any (a filter may have left it out).
fn report_ratio(pairs: &[(f64, f64)]) {
    if pairs.is_empty() {
        return;
    }
    let (mut engine, mut floor): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
    let mut ratio: Vec<f64> = pairs.iter().map(|(e, f)| e / f).collect();
    let (e_lo, e, e_hi) = quartiles(&mut engine);
    let (f_lo, f, f_hi) = quartiles(&mut floor);
    let (r_lo, r, r_hi) = quartiles(&mut ratio);
    let n = pairs.len();
    println!(
        "engine_vs_floor: {n} pair(s) of blocks of {BLOCK_PATIENTS} patients x every strategy, \
         engine then floor, warm-up included{}",
        if n < 10 {
            " (too few to be a measurement: `cargo test` runs a bench once)"
        } else {
            ""
        }
    );
    println!("  engine          {e:8.1} ns per trajectory (median; quartiles {e_lo:.1}-{e_hi:.1})");
    println!("  floor           {f:8.1} ns per trajectory (median; quartiles {f_lo:.1}-{f_hi:.1})");
    println!(
        "  engine / floor  {r:8.2}x (median of the pairs' ratios; quartiles {r_lo:.2}-{r_hi:.2})"
    );
}

criterion_group!(benches, floor, engine_vs_floor);
criterion_main!(benches);
