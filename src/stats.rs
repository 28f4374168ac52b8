//! Counts of random draws by kind, for the speed-floor benchmark (`--features draw-stats`).
//!
//! The floor (`benches/floor.rs`) must make the same kinds and number of draws as an average
//! patient trajectory; these counters measure that mix on the real engine. Without the feature
//! every `count` compiles to nothing.

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A uniform draw (every Bernoulli and every inverse-survival time uses one).
    Uniform = 0,
    /// A stream seeded from its key (one SplitMix64 hash).
    Seed = 1,
    /// A stream restarted from its saved seeded state (same patient, next strategy).
    Restart = 2,
    /// Exponential inverse survival (one `ln`).
    Exponential = 3,
    /// Weibull inverse survival (`ln`, `powf`).
    Weibull = 4,
    /// Log-normal inverse survival (inverse normal CDF, `exp`).
    LogNormal = 5,
    /// Gamma inverse survival (iterative quantile).
    Gamma = 6,
    /// Fixed time.
    Fixed = 7,
    /// Mixture cure resolving to "never".
    Cured = 8,
    /// A hazard ratio applied (`powf`).
    HazardRatio = 9,
    /// Background mortality (Gompertz: `exp`, two `ln`).
    Background = 10,
    /// Truncated-normal age (inverse normal CDF).
    NormalAge = 11,
    /// A stream drawn from for the first time for this patient: what seeding streams lazily, on
    /// first use, would seed (the engine seeds every stream the model may draw from).
    SeedUsed = 12,
    /// A stream drawn from for the first time in this trajectory: what restarting streams
    /// lazily would restart.
    RestartUsed = 13,
}

/// Number of kinds.
pub const KINDS: usize = 14;

#[cfg(feature = "draw-stats")]
thread_local! {
    static COUNTS: std::cell::Cell<[u64; KINDS]> = const { std::cell::Cell::new([0; KINDS]) };
}

/// Counts one draw of `kind` (no-op without the `draw-stats` feature).
#[inline(always)]
pub fn count(kind: Kind) {
    count_n(kind, 1);
}

/// Counts `n` draws of `kind` (no-op without the `draw-stats` feature).
#[inline(always)]
pub fn count_n(kind: Kind, n: usize) {
    #[cfg(feature = "draw-stats")]
    COUNTS.with(|c| {
        let mut v = c.get();
        v[kind as usize] += n as u64;
        c.set(v);
    });
    #[cfg(not(feature = "draw-stats"))]
    let _ = (kind, n);
}

/// The counts of this thread so far, and resets them (always zero without the feature).
pub fn take() -> [u64; KINDS] {
    #[cfg(feature = "draw-stats")]
    return COUNTS.with(|c| c.replace([0; KINDS]));
    #[cfg(not(feature = "draw-stats"))]
    [0; KINDS]
}

/// Simulates patients `0..patients` of `model` (its seed) under every strategy, as a run does,
/// and calls `each` with each patient's draw counts: its attributes and all its trajectories.
/// The mix the speed floor reproduces is measured this way (`examples/draw_mix.rs`, and the
/// test of the floor against the engine). All zero without the `draw-stats` feature.
pub fn per_patient(model: &crate::model::Model, patients: u64, mut each: impl FnMut([u64; KINDS])) {
    use crate::engine::{Workspace, simulate};
    let run = crate::rng::RunKey::new(model.seed);
    let mut ws = Workspace::new(model);
    take();
    for p in 0..patients {
        let attrs = ws.attributes(model, run, p);
        for s in 0..model.strategies.len() {
            simulate(model, s, run, p, &attrs, &mut ws, &mut ());
        }
        each(take());
    }
}
