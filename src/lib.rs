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
