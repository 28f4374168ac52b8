//! The speed floor's draw mix (`benches/floor.rs`): the kinds and numbers of random draws of an
//! average trajectory of the default adult scenario, measured on the engine with
//! `cargo run --release --features draw-stats --example draw_mix` (10^5 patients x 4
//! strategies):
//!
//! | kind | per trajectory |
//! |---|---|
//! | uniform draws | 23.633 |
//! | streams seeded from their key | 5.230 |
//! | streams restarted from a saved state | 10.387 |
//! | exponential inversions (`ln`) | 1.254 |
//! | Weibull inversions (`ln`, `powf`) | 1.025 |
//! | log-normal inversions (inverse normal CDF, `exp`) | 1.316 |
//! | hazard ratios (`powf`) | 0.345 |
//! | Gompertz background deaths (`exp`, 2 `ln`; once per patient) | 0.250 |
//! | truncated-normal ages (inverse normal CDF) | 0.250 |
//!
//! The stream counts are the streams a trajectory uses (`draw_mix`'s `SeedUsed` and
//! `RestartUsed`: the distinct streams drawn from per patient, divided by its trajectories, and
//! per trajectory). The engine seeds and restarts the streams of every process its model may
//! draw from eagerly (see `allseq::rng::Streams`), which `draw_mix` reports as 7.000 seeded and
//! 35.000 restarted; the floor keeps the counts of streams used, so that what eagerness costs
//! counts against the engine, not the floor. Cured patients of a mixture-cure time (`Cured`,
//! 0.267) draw their uniform and invert nothing, so they add no kind of their own.
//!
//! `tests/floor.rs` (run by CI with `--features draw-stats`) fails when the engine's mix moves
//! away from these numbers by more than its Monte Carlo error: re-run `draw_mix` then and update
//! the table and the constants.

/// Draws per 1000 trajectories, from the table above.
pub const PER_1000: Mix = Mix {
    uniforms: 23_633,
    seeds: 5_230,
    restarts: 10_387,
    exponential: 1_254,
    weibull: 1_025,
    lognormal: 1_316,
    hazard_ratio: 345,
    background: 250,
    normal_age: 250,
};

pub struct Mix {
    pub uniforms: u32,
    pub seeds: u32,
    pub restarts: u32,
    pub exponential: u32,
    pub weibull: u32,
    pub lognormal: u32,
    pub hazard_ratio: u32,
    pub background: u32,
    pub normal_age: u32,
}
