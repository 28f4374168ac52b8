//! The validated, compiled model: what the engine reads. Built only by
//! [`crate::scenario::compile`], so every value here has passed its range checks and every
//! distribution has its constants precomputed.

use crate::dist::{Gompertz, TimeDist};
use crate::rng::ProcessKey;

/// Index of a therapy in [`Model::therapies`].
pub type TherapyId = usize;

/// Most therapies a scenario may define (exposure counts live in a fixed-size array).
pub const MAX_THERAPIES: usize = 32;

/// Marrow blast burden (MODEL.md §3). Response and toxicity depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Burden {
    /// Measurable residual disease only.
    MrdOnly = 0,
    /// Under 5% blasts.
    Under5 = 1,
    /// 5–49% blasts.
    From5To49 = 2,
    /// 50% or more blasts.
    AtLeast50 = 3,
}

impl Burden {
    /// All classes, in index order.
    pub const ALL: [Burden; 4] = [
        Burden::MrdOnly,
        Burden::Under5,
        Burden::From5To49,
        Burden::AtLeast50,
    ];

    /// The label used in scenario files and traces.
    pub fn label(self) -> &'static str {
        ["mrd_only", "blasts_lt5", "blasts_5_49", "blasts_ge50"][self as usize]
    }
}

/// One value per [`Burden`] class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ByBurden(pub [f64; 4]);

impl ByBurden {
    /// The value for `b`.
    #[inline]
    pub fn get(&self, b: Burden) -> f64 {
        self.0[b as usize]
    }
}

/// CD22 expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cd22 {
    /// High.
    High,
    /// Partial.
    Partial,
    /// Negative.
    Negative,
}

/// A categorical distribution over `N` outcomes, stored as cumulative probabilities.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Split<const N: usize> {
    cumulative: [f64; N],
}

impl<const N: usize> Split<N> {
    /// From probabilities that sum to 1 (checked by the compiler of the scenario).
    pub fn new(p: [f64; N]) -> Split<N> {
        let mut cumulative = [0.0; N];
        let mut acc = 0.0;
        for (c, x) in cumulative.iter_mut().zip(p) {
            acc += x;
            *c = acc;
        }
        // The last class takes whatever rounding leaves.
        cumulative[N - 1] = f64::INFINITY;
        Split { cumulative }
    }

    /// The outcome for a uniform draw `u` in [0, 1).
    #[inline]
    pub fn pick(&self, u: f64) -> usize {
        self.cumulative.iter().position(|&c| u < c).unwrap_or(N - 1)
    }

    /// Probability of outcome `i`.
    pub fn probability(&self, i: usize) -> f64 {
        let hi = if i == N - 1 { 1.0 } else { self.cumulative[i] };
        let lo = if i == 0 { 0.0 } else { self.cumulative[i - 1] };
        hi - lo
    }
}

/// Age distribution [years].
#[derive(Debug, Clone)]
pub enum AgeDist {
    /// Normal truncated to [min, max], sampled by inversion.
    TruncatedNormal {
        /// Mean.
        mean: f64,
        /// SD.
        sd: f64,
        /// Φ((min - mean)/sd).
        lo: f64,
        /// Φ((max - mean)/sd).
        hi: f64,
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// Uniform on [min, max].
    Uniform {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// A single age.
    Fixed(f64),
}

/// The simulated population.
#[derive(Debug, Clone)]
pub struct Population {
    /// Age at the start.
    pub age: AgeDist,
    /// Lowest possible age at the start [years].
    pub min_age: f64,
    /// Burden at the start.
    pub burden: Split<4>,
    /// P(CNS disease).
    pub cns: f64,
    /// P(other extramedullary disease).
    pub extramedullary: f64,
    /// P(CD19-negative at the start).
    pub cd19_negative: f64,
    /// CD22 split: high, partial, negative.
    pub cd22: Split<3>,
    /// P(Ph+).
    pub ph_positive: f64,
    /// P(KMT2A-r).
    pub kmt2a: f64,
    /// P(prior allo-HCT).
    pub prior_hct: f64,
    /// P(donor available).
    pub donor_available: f64,
    /// P(fit for HCT).
    pub hct_fit: f64,
    /// Salvage line split: 1, 2, 3+.
    pub salvage_line: Split<3>,
    /// Burden at relapse.
    pub relapse_burden: Split<4>,
    /// Background mortality hazard.
    pub background: Gompertz,
    /// Age by which everyone has died [years].
    pub max_age: f64,
}

/// Antigen a therapy needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// CD19.
    Cd19,
    /// CD22.
    Cd22,
    /// None.
    None,
}

/// A cycle-based therapy (antibody).
#[derive(Debug, Clone)]
pub struct CycleTherapy {
    /// Cycle length [days].
    pub cycle_days: f64,
    /// Induction cycles (>= 1).
    pub induction_cycles: u32,
    /// Consolidation cycles after response.
    pub consolidation_cycles: u32,
    /// P(response) by burden.
    pub response: ByBurden,
    /// Share of responders seen after cycle 1.
    pub responders_by_cycle_1: f64,
    /// P(MRD-negative | response).
    pub mrd_negative: f64,
    /// Time to relapse after response (MRD-negative).
    pub relapse: TimeDist,
    /// Relapse HR for MRD-positive responders.
    pub mrd_positive_relapse_hr: f64,
}

/// The CAR-T pipeline.
#[derive(Debug, Clone)]
pub struct CarT {
    /// Decision to apheresis [days].
    pub apheresis_days: f64,
    /// Apheresis to product ready.
    pub manufacturing: TimeDist,
    /// P(manufacturing failure).
    pub manufacturing_failure: f64,
    /// Apheresis to dropout.
    pub waiting_dropout: TimeDist,
    /// P(death | dropout).
    pub dropout_death_fraction: f64,
    /// Product ready to infusion [days].
    pub lymphodepletion_days: f64,
    /// Infusion to assessment [days].
    pub assessment_days: f64,
    /// P(response) by burden.
    pub response: ByBurden,
    /// P(MRD-negative | response).
    pub mrd_negative: f64,
    /// Time to relapse after response (MRD-negative).
    pub relapse: TimeDist,
    /// Relapse HR for MRD-positive responders.
    pub mrd_positive_relapse_hr: f64,
}

/// Allogeneic HCT.
#[derive(Debug, Clone)]
pub struct Hct {
    /// Oldest eligible age.
    pub max_age: f64,
    /// Most transplants per lifetime.
    pub max_transplants: u32,
    /// Remission to transplant.
    pub time_to_transplant: TimeDist,
    /// P(transplant-related death).
    pub trm: f64,
    /// Transplant to transplant-related death.
    pub trm_time: TimeDist,
    /// Transplant to relapse.
    pub relapse: TimeDist,
}

/// Best supportive care.
#[derive(Debug, Clone)]
pub struct Supportive {
    /// Start of supportive care to death.
    pub survival: TimeDist,
}

/// The pathway a therapy follows.
#[derive(Debug, Clone)]
pub enum TherapyKind {
    /// Cycles with response assessment.
    Cycles(CycleTherapy),
    /// CAR-T pipeline.
    CarT(CarT),
    /// Transplant.
    Hct(Hct),
    /// Supportive care.
    Supportive(Supportive),
}

/// A therapy of the scenario.
#[derive(Debug, Clone)]
pub struct Therapy {
    /// Name in the scenario.
    pub name: String,
    /// Antigen needed.
    pub target: Target,
    /// Eligible ages [years], inclusive.
    pub min_age: f64,
    /// Eligible ages [years], inclusive.
    pub max_age: f64,
    /// Pathway and parameters.
    pub kind: TherapyKind,
}

/// One line of a strategy.
#[derive(Debug, Clone)]
pub struct Line {
    /// Candidates in order of preference.
    pub candidates: Vec<TherapyId>,
}

/// HCT consolidation rule.
#[derive(Debug, Clone)]
pub struct Consolidation {
    /// The HCT therapy.
    pub hct: TherapyId,
    /// `after[t]`: remissions after therapy `t` are consolidated.
    pub after: [bool; MAX_THERAPIES],
}

/// A sequencing strategy.
#[derive(Debug, Clone)]
pub struct Strategy {
    /// Name.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// Lines in order.
    pub lines: Vec<Line>,
    /// HCT rule.
    pub consolidation: Option<Consolidation>,
    /// Supportive care therapy.
    pub supportive: TherapyId,
}

/// The random processes of a patient. Each has its own stream (see [`crate::rng`]); the model
/// lays them out in dense slots: the patient-level ones first, then one block per therapy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Process {
    /// Baseline attributes.
    Attributes,
    /// Background death.
    Background,
    /// Disease course outside therapies (burden at relapse).
    Disease,
    /// Response to a therapy.
    Response(TherapyId),
    /// MRD status of a therapy's responders.
    Mrd(TherapyId),
    /// Relapse after a therapy's response.
    Relapse(TherapyId),
    /// CAR-T manufacturing time and failure.
    Manufacturing(TherapyId),
    /// CAR-T dropout while waiting.
    Waiting(TherapyId),
    /// Transplant timing and transplant-related death.
    Transplant(TherapyId),
    /// Survival under supportive care.
    Survival(TherapyId),
}

const PATIENT_PROCESSES: usize = 3;
const THERAPY_PROCESSES: usize = 7;

impl Process {
    /// The dense slot of this process.
    #[inline]
    pub fn slot(self) -> usize {
        let (base, t) = match self {
            Process::Attributes => return 0,
            Process::Background => return 1,
            Process::Disease => return 2,
            Process::Response(t) => (0, t),
            Process::Mrd(t) => (1, t),
            Process::Relapse(t) => (2, t),
            Process::Manufacturing(t) => (3, t),
            Process::Waiting(t) => (4, t),
            Process::Transplant(t) => (5, t),
            Process::Survival(t) => (6, t),
        };
        PATIENT_PROCESSES + t * THERAPY_PROCESSES + base
    }

    fn name(self) -> &'static str {
        match self {
            Process::Attributes => "attributes",
            Process::Background => "background",
            Process::Disease => "disease",
            Process::Response(_) => "response",
            Process::Mrd(_) => "mrd",
            Process::Relapse(_) => "relapse",
            Process::Manufacturing(_) => "manufacturing",
            Process::Waiting(_) => "waiting",
            Process::Transplant(_) => "transplant",
            Process::Survival(_) => "survival",
        }
    }

    fn all(n_therapies: usize) -> impl Iterator<Item = Process> {
        [Process::Attributes, Process::Background, Process::Disease]
            .into_iter()
            .chain((0..n_therapies).flat_map(|t| {
                [
                    Process::Response(t),
                    Process::Mrd(t),
                    Process::Relapse(t),
                    Process::Manufacturing(t),
                    Process::Waiting(t),
                    Process::Transplant(t),
                    Process::Survival(t),
                ]
            }))
    }
}

/// Time horizon.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Horizon {
    /// Until death.
    Lifetime,
    /// Censor at this many days.
    Days(f64),
}

/// A compiled scenario.
#[derive(Debug, Clone)]
pub struct Model {
    /// Scenario name.
    pub name: String,
    /// Default seed.
    pub seed: u64,
    /// Default cohort size.
    pub patients: u64,
    /// Horizon.
    pub horizon: Horizon,
    /// Population.
    pub population: Population,
    /// Therapies, indexed by [`TherapyId`].
    pub therapies: Vec<Therapy>,
    /// Strategies, in scenario order.
    pub strategies: Vec<Strategy>,
}

impl Model {
    /// The process keys of every stream slot, in slot order.
    pub fn process_keys(&self) -> Vec<ProcessKey> {
        Process::all(self.therapies.len())
            .map(|p| {
                let subject = match p {
                    Process::Attributes | Process::Background | Process::Disease => "",
                    Process::Response(t)
                    | Process::Mrd(t)
                    | Process::Relapse(t)
                    | Process::Manufacturing(t)
                    | Process::Waiting(t)
                    | Process::Transplant(t)
                    | Process::Survival(t) => &self.therapies[t].name,
                };
                debug_assert_eq!(
                    Process::all(self.therapies.len()).position(|q| q == p),
                    Some(p.slot())
                );
                ProcessKey::new(p.name(), subject)
            })
            .collect()
    }

    /// The longest a patient can be followed [days]: the horizon, or until everyone has
    /// reached the maximum age.
    pub fn max_follow_up_days(&self) -> f64 {
        let lifetime =
            (self.population.max_age - self.population.min_age) * crate::time::DAYS_PER_YEAR;
        match self.horizon {
            Horizon::Lifetime => lifetime,
            Horizon::Days(d) => d.min(lifetime),
        }
    }

    /// The index of the strategy called `name`.
    pub fn strategy_index(&self, name: &str) -> Option<usize> {
        self.strategies.iter().position(|s| s.name == name)
    }
}
