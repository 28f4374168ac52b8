//! The speed floor: a hand-written, straight-line sampler that makes the same kinds and number of
//! random draws as an average trajectory of the default adult scenario, with no event queue, no
//! aggregation and no economics. The engine's time per trajectory, divided by this one's, is what
//! the pathway logic, the queue and the accounts cost on top of the draws themselves.
//!
//! The mix per trajectory is `benches/common/mix.rs`, measured on the engine; a test checks it
//! against the engine whenever CI runs (`tests/floor.rs`).
//!
//! `cargo bench --bench floor` reports trajectories per second; `cargo bench --bench throughput`
//! the engine's.

use allseq::dist::{Gompertz, TimeDist, std_normal_quantile};
use allseq::rng::{ProcessKey, RunKey, Stream, stream, uniform};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

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

criterion_group!(benches, floor);
criterion_main!(benches);
