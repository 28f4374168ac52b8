//! The speed floor (`benches/floor.rs`) makes the draws of an average trajectory of the default
//! adult scenario: its mix (`benches/common/mix.rs`) is checked against the engine's, counted
//! by the `draw-stats` feature. CI runs it with `cargo test --features draw-stats --test main
//! floor`; without the feature the engine counts nothing and this module is not built.
//!
//! The unit of independence is the patient (its strategies share its draws): each kind's count
//! per trajectory is averaged per patient, and the floor's value must lie within 4 Monte Carlo
//! standard errors of the mean over patients (a false alarm about once in 16,000 if the mix were
//! unchanged), plus 0.0005 for the table's rounding to 3 decimals.

#[path = "../benches/common/mix.rs"]
mod mix;

use crate::common::adult;
use allseq::stats::{KINDS, Kind, per_patient};

const PATIENTS: u64 = 100_000;

#[test]
fn the_speed_floor_makes_the_draws_of_the_engine() {
    let model = allseq::scenario::load(&adult()).unwrap().model;
    let strategies = model.strategies.len() as f64;
    let (mut sum, mut sum_sq) = ([0.0; KINDS], [0.0; KINDS]);
    per_patient(&model, PATIENTS, |counts| {
        for (k, &n) in counts.iter().enumerate() {
            let x = n as f64 / strategies;
            sum[k] += x;
            sum_sq[k] += x * x;
        }
    });
    let n = PATIENTS as f64;
    let floor = &mix::PER_1000;
    let per_trajectory = |draws: u32| f64::from(draws) / 1000.0;
    let checks = [
        (Kind::Uniform, per_trajectory(floor.uniforms)),
        (Kind::SeedUsed, per_trajectory(floor.seeds)),
        (Kind::RestartUsed, per_trajectory(floor.restarts)),
        (Kind::Exponential, per_trajectory(floor.exponential)),
        (Kind::Weibull, per_trajectory(floor.weibull)),
        (Kind::LogNormal, per_trajectory(floor.lognormal)),
        (Kind::HazardRatio, per_trajectory(floor.hazard_ratio)),
        (Kind::Background, per_trajectory(floor.background)),
        (Kind::NormalAge, per_trajectory(floor.normal_age)),
        // Kinds the floor does not make: the default scenario must not draw them.
        (Kind::Gamma, 0.0),
        (Kind::Fixed, 0.0),
    ];
    let mut failed = Vec::new();
    for (kind, want) in checks {
        let k = kind as usize;
        let mean = sum[k] / n;
        let se = ((sum_sq[k] / n - mean * mean).max(0.0) / (n - 1.0)).sqrt();
        let tolerance = 4.0 * se + 0.0005;
        println!(
            "{kind:?}: engine {mean:.4} (se {se:.4}), floor {want:.3}, tolerance {tolerance:.4}"
        );
        if (mean - want).abs() > tolerance {
            failed.push(format!("{kind:?}: engine {mean:.4}, floor {want:.3}"));
        }
    }
    assert!(
        failed.is_empty(),
        "the floor's mix (benches/common/mix.rs) is not the engine's; re-run \
         `cargo run --release --features draw-stats --example draw_mix`: {failed:?}"
    );
}
