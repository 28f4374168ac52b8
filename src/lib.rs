//! # allseq
//!
//! A discrete-event Monte Carlo simulator of treatment sequencing in relapsed/refractory B-cell
//! acute lymphoblastic leukemia (r/r B-ALL): blinatumomab, CD19 CAR-T, allogeneic transplant and
//! what comes after, compared as strategies on the same simulated patients.
//!
//! ```text
//!  relapse / refractory (t = 0)
//!        │
//!        ▼
//!  line of therapy ──────────────┬───────────────────────────────┐
//!   antibody cycles              │ CAR-T: apheresis → manufacturing ⟶ lymphodepletion → infusion
//!   (response after each         │        (failure, dropout/death while waiting)  → day-28 response
//!    induction cycle)            │
//!        │ response              │ no response / failure
//!        ▼                       ▼
//!  remission ──► HCT (by rule, if eligible; relapse and death compete with the wait)
//!        │                       next line … best supportive care → death
//!        ▼
//!  relapse (new burden) ──► next line
//!
//!  background mortality (Gompertz) competes throughout; the horizon censors.
//! ```
//!
//! Modules, in the order a reader meets them:
//! [`scenario`] reads and validates a TOML scenario into a [`model::Model`];
//! [`engine`] simulates one patient under one strategy with an [`queue::EventQueue`] and keyed
//! random streams ([`rng`]), sampling times from [`dist`];
//! [`runner`] runs cohorts in parallel into exact aggregates ([`summary`]);
//! [`report`] and [`output`] turn them into files; [`trace`] prints single trajectories.
//!
//! ```
//! use allseq::{engine, rng::RunKey, scenario};
//! let model = scenario::load("scenarios/adult_rr_ball.toml".as_ref()).unwrap().model;
//! let mut ws = engine::Workspace::new(&model);
//! let run = RunKey::new(1);
//! for patient in 0..3 {
//!     let attrs = ws.attributes(&model, run, patient);
//!     let o = engine::simulate(&model, 0, run, patient, &attrs, &mut ws, &mut ());
//!     assert!(o.end.get() > 0.0);
//! }
//! ```

#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod cea;
pub mod cli;
pub mod dist;
pub mod econ;
pub mod engine;
pub mod error;
pub mod model;
pub mod output;
pub mod patient;
pub mod psa;
pub mod queue;
pub mod report;
pub mod rng;
pub mod runner;
pub mod scenario;
pub mod stats;
pub mod summary;
pub mod time;
pub mod trace;
pub mod validate;

#[cfg(test)]
mod tests {
    /// The README's test command, `cargo test`, builds the `dev` profile, which `Cargo.toml`
    /// optimises but keeps with overflow checks and debug assertions, so that an integer that
    /// wraps around fails a test. This fails if that profile loses them, or under
    /// `cargo test --release`, whose profile has them off for speed.
    #[test]
    fn tests_are_built_with_overflow_checks_and_debug_assertions() {
        assert!(
            std::panic::catch_unwind(|| debug_assert!(std::hint::black_box(false))).is_err(),
            "debug assertions are off: run the tests with `cargo test`, not `--release`"
        );
        let max = std::hint::black_box(u64::MAX);
        assert!(
            std::panic::catch_unwind(|| max + 1).is_err(),
            "overflow checks are off: run the tests with `cargo test`, not `--release`"
        );
    }
}
