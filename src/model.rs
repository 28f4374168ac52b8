//! The validated, compiled model: what the engine reads. Built only by
//! [`crate::scenario::compile`], so every value here has passed its range checks and every
//! distribution has its constants precomputed.

use crate::dist::{Gompertz, LifeTable, TimeDist};
use crate::rng::ProcessKey;

/// Index of a therapy in [`Model::therapies`].
pub type TherapyId = usize;

/// Most therapies a scenario may define (sets of therapies are 32-bit masks).
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

/// Age distribution \[years\].
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

/// Background (non-leukemia) mortality by attained age.
#[derive(Debug, Clone)]
pub enum Background {
    /// Gompertz hazard.
    Gompertz(Gompertz),
    /// Period life table.
    LifeTable(LifeTable),
}

impl Background {
    /// Years until background death for someone aged `age`, at survival level `s` in (0, 1].
    pub fn inverse_survival_years(&self, age: f64, s: f64) -> f64 {
        crate::stats::count(crate::stats::Kind::Background);
        match self {
            Background::Gompertz(g) => g.inverse_survival_years(age, s),
            Background::LifeTable(t) => t.inverse_survival_years(age, s),
        }
    }
}

/// The simulated population.
#[derive(Debug, Clone)]
pub struct Population {
    /// Age at the start.
    pub age: AgeDist,
    /// Lowest possible age at the start \[years\].
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
    /// P(CNS involvement at relapse).
    pub relapse_cns: f64,
    /// P(other extramedullary involvement at relapse).
    pub relapse_extramedullary: f64,
    /// Background mortality.
    pub background: Background,
    /// Age by which everyone has died \[years\].
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

/// What a [`Rate`] may depend on: the patient's state when it is evaluated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateCtx {
    /// Current marrow burden.
    pub burden: Burden,
    /// Current age \[years\].
    pub age: f64,
    /// Current salvage line (1, 2, 3 = third or later).
    pub line: u8,
    /// Any allo-HCT so far.
    pub prior_hct: bool,
    /// KMT2A rearranged.
    pub kmt2a: bool,
}

/// A probability, constant or depending on one attribute of the patient.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    /// The same for everyone.
    Scalar(f64),
    /// By marrow burden.
    ByBurden(ByBurden),
    /// `below` under `cut` years of age, `at_or_above` from it.
    ByAge {
        /// Threshold \[years\].
        cut: f64,
        /// Under the threshold.
        below: f64,
        /// At or above.
        at_or_above: f64,
    },
    /// By salvage line 1, 2, 3+.
    ByLine([f64; 3]),
    /// (with, without) prior allo-HCT.
    ByPriorHct(f64, f64),
    /// (with, without) KMT2A rearrangement.
    ByKmt2a(f64, f64),
}

impl Rate {
    /// The probability for a patient in state `c`.
    #[inline]
    pub fn eval(&self, c: &RateCtx) -> f64 {
        match *self {
            Rate::Scalar(p) => p,
            Rate::ByBurden(b) => b.get(c.burden),
            Rate::ByAge {
                cut,
                below,
                at_or_above,
            } => {
                if c.age < cut {
                    below
                } else {
                    at_or_above
                }
            }
            Rate::ByLine(p) => p[(c.line.clamp(1, 3) - 1) as usize],
            Rate::ByPriorHct(with, without) => {
                if c.prior_hct {
                    with
                } else {
                    without
                }
            }
            Rate::ByKmt2a(with, without) => {
                if c.kmt2a {
                    with
                } else {
                    without
                }
            }
        }
    }
}

/// Applies an odds ratio to a probability: `odds' = odds × or`.
#[inline]
pub fn apply_odds_ratio(p: f64, or: f64) -> f64 {
    if or == 1.0 || p <= 0.0 || p >= 1.0 {
        return p;
    }
    let odds = p / (1.0 - p) * or;
    odds / (1.0 + odds)
}

/// Odds ratios on a response probability (1 = no effect).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OddsRatios {
    /// CNS disease.
    pub cns: f64,
    /// Other extramedullary disease.
    pub extramedullary: f64,
    /// KMT2A-r.
    pub kmt2a: f64,
    /// Ph+.
    pub ph_positive: f64,
}

impl OddsRatios {
    /// No modification.
    pub const NONE: OddsRatios = OddsRatios {
        cns: 1.0,
        extramedullary: 1.0,
        kmt2a: 1.0,
        ph_positive: 1.0,
    };
}

/// Toxicity kinds; each is also a cause of death.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ToxKind {
    /// Cytokine release syndrome.
    Crs = 0,
    /// Neurotoxicity (ICANS; blinatumomab neurologic events).
    Icans = 1,
    /// Sinusoidal obstruction syndrome / veno-occlusive disease.
    Sos = 2,
    /// Infection.
    Infection = 3,
    /// GVHD flare on immunotherapy after a prior HCT.
    Gvhd = 4,
}

impl ToxKind {
    /// snake_case label.
    pub fn label(self) -> &'static str {
        ["crs", "icans", "sos", "infection", "gvhd"][self as usize]
    }
}

/// Grade of a toxicity episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grade {
    /// Grade 1–2.
    Low,
    /// Grade 3 or higher, survived.
    Severe,
    /// Grade 5: fatal.
    Fatal,
}

/// A toxicity of a course or infusion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Toxicity {
    /// Kind.
    pub kind: ToxKind,
    /// P(any grade).
    pub any_grade: Rate,
    /// P(grade >= 3).
    pub grade3plus: Rate,
    /// P(fatal).
    pub fatal: Rate,
    /// Onset after the start \[days\].
    pub onset_days: f64,
    /// Duration \[days\].
    pub duration_days: f64,
}

/// Antigen escape under a therapy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Escape {
    /// P(CD19-negative | relapse after response).
    pub cd19_at_relapse: Rate,
    /// P(CD19-negative | failure).
    pub cd19_at_failure: Rate,
    /// P(CD22-negative | relapse after response).
    pub cd22_at_relapse: Rate,
    /// P(lineage switch | relapse after response).
    pub lineage_switch: Rate,
}

/// SOS/VOD at an HCT consolidating this therapy's remission.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HctSos {
    /// Base probability.
    pub probability: Rate,
    /// Cycle threshold.
    pub cycles_above: u32,
    /// OR above the threshold.
    pub cycles_odds_ratio: f64,
    /// OR with an earlier HCT.
    pub prior_hct_odds_ratio: f64,
    /// P(fatal | SOS).
    pub fatal: f64,
    /// Onset after transplant \[days\].
    pub onset_days: f64,
    /// Duration \[days\].
    pub duration_days: f64,
}

/// Class of a course-based therapy (labels only: the pathway is the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CourseClass {
    /// Antibody (blinatumomab).
    Antibody,
    /// Antibody-drug conjugate (inotuzumab).
    Adc,
    /// Chemotherapy.
    Chemotherapy,
}

/// A therapy given in courses of cycles.
#[derive(Debug, Clone)]
pub struct Course {
    /// Class.
    pub class: CourseClass,
    /// Cycle length \[days\].
    pub cycle_days: f64,
    /// Induction cycles (>= 1).
    pub induction_cycles: u32,
    /// Consolidation cycles after response.
    pub consolidation_cycles: u32,
    /// P(response).
    pub response: Rate,
    /// P(response) at retreatment.
    pub retreatment_response: Rate,
    /// Response modifiers.
    pub odds_ratios: OddsRatios,
    /// Share of responders seen after cycle 1.
    pub responders_by_cycle_1: f64,
    /// P(MRD-negative | response).
    pub mrd_negative: Rate,
    /// Time to relapse after response (MRD-negative).
    pub relapse: TimeDist,
    /// Relapse HR for MRD-positive responders.
    pub mrd_positive_relapse_hr: f64,
    /// Toxicities per course.
    pub toxicities: Vec<Toxicity>,
    /// Antigen escape.
    pub escape: Option<Escape>,
    /// SOS at a consolidating HCT.
    pub hct_sos: Option<HctSos>,
    /// Cost at the start of each cycle (zero without economics).
    pub cost_per_cycle: Cost,
}

/// The CAR-T pipeline.
#[derive(Debug, Clone)]
pub struct CarT {
    /// Decision to apheresis \[days\].
    pub apheresis_days: f64,
    /// P(enough T cells collected).
    pub apheresis_success: f64,
    /// Apheresis to product ready.
    pub manufacturing: TimeDist,
    /// P(manufacturing failure).
    pub manufacturing_failure: f64,
    /// Apheresis to dropout.
    pub waiting_dropout: TimeDist,
    /// P(death | dropout).
    pub dropout_death_fraction: f64,
    /// Product ready to infusion \[days\].
    pub lymphodepletion_days: f64,
    /// Infusion to assessment \[days\].
    pub assessment_days: f64,
    /// P(response).
    pub response: Rate,
    /// Response modifiers.
    pub odds_ratios: OddsRatios,
    /// P(MRD-negative | response).
    pub mrd_negative: Rate,
    /// Time to relapse after response (MRD-negative).
    pub relapse: TimeDist,
    /// Relapse HR for MRD-positive responders.
    pub mrd_positive_relapse_hr: f64,
    /// Toxicities of the infusion.
    pub toxicities: Vec<Toxicity>,
    /// Antigen escape.
    pub escape: Option<Escape>,
    /// Costs (zero without economics).
    pub costs: CarTCosts,
}

/// A GVHD episode type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gvhd {
    /// Probability.
    pub probability: f64,
    /// Onset after transplant \[days\].
    pub onset_days: f64,
    /// Duration \[days\].
    pub duration_days: f64,
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
    /// P(TRM), first transplant.
    pub trm: f64,
    /// P(TRM), later transplant.
    pub trm_second: f64,
    /// P(TRM) after a non-fatal SOS at this transplant.
    pub trm_after_sos: f64,
    /// Transplant to transplant-related death.
    pub trm_time: TimeDist,
    /// Acute GVHD.
    pub acute_gvhd: Gvhd,
    /// Chronic GVHD.
    pub chronic_gvhd: Gvhd,
    /// Transplant to relapse (MRD-negative before).
    pub relapse: TimeDist,
    /// Relapse HR when MRD-positive before transplant.
    pub mrd_positive_relapse_hr: f64,
    /// Costs (zero without economics).
    pub costs: HctCosts,
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
    /// Courses of cycles with response assessment.
    Course(Course),
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
    /// Eligible ages \[years\], inclusive.
    pub min_age: f64,
    /// Eligible ages \[years\], inclusive (fitness).
    pub max_age: f64,
    /// Label age limit, waived with trial access.
    pub label_max_age: f64,
    /// Most courses per patient.
    pub max_courses: u32,
    /// Pathway and parameters.
    pub kind: TherapyKind,
}

impl Therapy {
    /// Antigen escape parameters, if the therapy has any.
    pub fn escape(&self) -> Option<&Escape> {
        match &self.kind {
            TherapyKind::Course(c) => c.escape.as_ref(),
            TherapyKind::CarT(c) => c.escape.as_ref(),
            _ => None,
        }
    }
}

/// A set of therapies, as a bit mask over [`TherapyId`].
pub type TherapySet = u32;

/// A condition over the patient's current state (all parts must hold).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Condition {
    /// Required CD19 status (true = positive).
    pub cd19_positive: Option<bool>,
    /// Required CD22 status (true = high or partial).
    pub cd22_positive: Option<bool>,
    /// Age window \[years\].
    pub min_age: Option<f64>,
    /// Age window \[years\].
    pub max_age: Option<f64>,
    /// Required CNS status.
    pub cns: Option<bool>,
    /// Required prior-HCT status.
    pub prior_hct: Option<bool>,
    /// Burden window, inclusive.
    pub min_burden: Option<Burden>,
    /// Burden window, inclusive.
    pub max_burden: Option<Burden>,
    /// Therapies that must have been received.
    pub received: TherapySet,
    /// Therapies that must not have been received.
    pub not_received: TherapySet,
    /// Required MRD status of the current remission (true = positive).
    pub mrd_positive: Option<bool>,
    /// Whether any part above is set; `false` (the default, no parts) holds always, so the
    /// engine skips evaluating it. Set by [`Condition::sealed`].
    pub(crate) constrained: bool,
}

impl Condition {
    /// The condition with `constrained` set from its parts.
    pub(crate) fn sealed(self) -> Condition {
        let unconstrained = Condition {
            constrained: false,
            ..self
        } == Condition::default();
        Condition {
            constrained: !unconstrained,
            ..self
        }
    }
}

/// A candidate therapy of a line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Therapy.
    pub therapy: TherapyId,
    /// Extra condition.
    pub when: Condition,
}

/// One line of a strategy.
#[derive(Debug, Clone)]
pub struct Line {
    /// Condition for the line.
    pub when: Condition,
    /// Candidates in order of preference.
    pub candidates: Vec<Candidate>,
    /// Bridging candidates for CAR-T.
    pub bridge: Vec<Candidate>,
}

/// HCT consolidation rule.
#[derive(Debug, Clone)]
pub struct Consolidation {
    /// The HCT therapy.
    pub hct: TherapyId,
    /// Remissions after therapy `t` are consolidated when `after[t]` holds.
    pub after: [Option<Condition>; MAX_THERAPIES],
    /// Extra condition at remission.
    pub when: Condition,
    /// Cap on cycles of each therapy before the transplant.
    pub max_cycles_before: [Option<u32>; MAX_THERAPIES],
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

/// Cost categories, in output order.
pub const COST_CATEGORIES: [&str; 7] = [
    "drug",
    "administration",
    "hospital",
    "toxicity",
    "transplant",
    "follow_up",
    "end_of_life",
];

/// A cost split over [`COST_CATEGORIES`], in the scenario's currency, with the set of its
/// non-zero categories (the accounts touch only those: most costs fall in one category).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Cost {
    by_category: [f64; 7],
    /// Bit `k` set when category `k` is not zero.
    pub(crate) nonzero: u8,
}

impl Cost {
    /// No cost.
    pub const ZERO: Cost = Cost {
        by_category: [0.0; 7],
        nonzero: 0,
    };

    /// From amounts by category.
    pub fn new(by_category: [f64; 7]) -> Cost {
        let nonzero = by_category
            .iter()
            .enumerate()
            .filter(|(_, c)| **c != 0.0)
            .fold(0u8, |m, (k, _)| m | (1 << k));
        Cost {
            by_category,
            nonzero,
        }
    }

    /// (category, amount) of every non-zero category.
    #[inline]
    pub fn parts(&self) -> impl Iterator<Item = (usize, f64)> + '_ {
        let mut m = self.nonzero;
        std::iter::from_fn(move || {
            (m != 0).then(|| {
                let k = m.trailing_zeros() as usize;
                m &= m - 1;
                (k, self.by_category[k])
            })
        })
    }
}

/// Health states for utilities and daily costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// On treatment with active disease.
    OnTreatment = 0,
    /// In remission.
    Remission = 1,
    /// First year after an allogeneic HCT.
    PostHctFirstYear = 2,
    /// Long-term survivor.
    LongTerm = 3,
    /// Relapsed/refractory disease in supportive care.
    Relapse = 4,
}

/// Costs, utilities and discounting of a scenario.
#[derive(Debug, Clone)]
pub struct Economics {
    /// ISO 4217 currency code.
    pub currency: String,
    /// Price year.
    pub price_year: i64,
    /// Annual discount rate of costs.
    pub discount_costs: f64,
    /// Annual discount rate of effects.
    pub discount_effects: f64,
    /// Continuous rate of `discount_costs` ([`Economics::continuous`]).
    pub rho_costs: f64,
    /// Continuous rate of `discount_effects`.
    pub rho_effects: f64,
    /// Discount factors at any time, from `rho_costs` and `rho_effects`.
    pub discount: crate::econ::DiscountTables,
    /// Willingness-to-pay thresholds per QALY.
    pub wtp: Vec<u64>,
    /// Utility by [`Health`].
    pub utilities: [f64; 5],
    /// Remission length after which a patient is a long-term survivor \[days\].
    pub long_term_after_days: f64,
    /// Cost per day by [`Health`].
    pub daily_costs: [Cost; 5],
    /// Toxicity episode cost by [`ToxKind`] and grade (0 = low, 1 = severe).
    pub toxicity_costs: [[Cost; 2]; 5],
    /// Toxicity disutility by [`ToxKind`] and grade, over the episode.
    pub toxicity_disutilities: [[f64; 2]; 5],
    /// GVHD disutility after transplant (acute, chronic), over the episode.
    pub gvhd_disutility: [f64; 2],
    /// One-off cost at a death not from background mortality.
    pub terminal_care: Cost,
}

impl Economics {
    /// Continuous discount rate equivalent to an annual rate `r`: ρ = ln(1 + r), so that a value
    /// at `t` years is weighted exp(-ρt) = (1 + r)^-t, exactly the guideline's annual rate.
    pub fn continuous(r: f64) -> f64 {
        r.ln_1p()
    }
}

/// Costs of the CAR-T pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CarTCosts {
    /// At apheresis.
    pub apheresis: Cost,
    /// At lymphodepletion.
    pub lymphodepletion: Cost,
    /// Product, at infusion.
    pub product: Cost,
    /// Infusion admission.
    pub infusion: Cost,
}

/// Costs of an allogeneic HCT.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct HctCosts {
    /// The transplant episode.
    pub transplant: Cost,
    /// Extra cost of acute GVHD.
    pub acute_gvhd: Cost,
    /// Extra cost of chronic GVHD.
    pub chronic_gvhd: Cost,
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
    /// Toxicity of a therapy (grades, and SOS and GVHD at transplant).
    Toxicity(TherapyId),
    /// Antigen escape and lineage switch after a therapy.
    Escape(TherapyId),
}

const PATIENT_PROCESSES: usize = 3;
const THERAPY_PROCESSES: usize = 9;

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
            Process::Toxicity(t) => (7, t),
            Process::Escape(t) => (8, t),
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
            Process::Toxicity(_) => "toxicity",
            Process::Escape(_) => "escape",
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
                    Process::Toxicity(t),
                    Process::Escape(t),
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
    /// Label age limits are waived (trial or off-label access).
    pub trial_access: bool,
    /// Population.
    pub population: Population,
    /// Therapies, indexed by [`TherapyId`].
    pub therapies: Vec<Therapy>,
    /// Strategies, in scenario order.
    pub strategies: Vec<Strategy>,
    /// Costs, utilities and discounting; `None` for a clinical-only scenario.
    pub economics: Option<Economics>,
    /// Parameter uncertainty; `None` when the scenario has no `[uncertainty]`.
    pub uncertainty: Option<crate::psa::Uncertainty>,
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
                    | Process::Survival(t)
                    | Process::Toxicity(t)
                    | Process::Escape(t) => &self.therapies[t].name,
                };
                debug_assert_eq!(
                    Process::all(self.therapies.len()).position(|q| q == p),
                    Some(p.slot())
                );
                ProcessKey::new(p.name(), subject)
            })
            .collect()
    }

    /// The slots of the processes that the strategies' therapies may draw from, by kind (plus
    /// the patient-level ones): seeded for each patient up front ([`crate::rng::Streams`]). A
    /// matter of speed only: a draw from any other slot is still correct.
    pub fn drawn_slots(&self) -> Vec<usize> {
        let mut used: TherapySet = 0;
        for s in &self.strategies {
            for line in &s.lines {
                for c in line.candidates.iter().chain(&line.bridge) {
                    used |= 1 << c.therapy;
                }
            }
            if let Some(c) = &s.consolidation {
                used |= 1 << c.hct;
            }
            used |= 1 << s.supportive;
        }
        let mut processes = vec![Process::Attributes, Process::Background, Process::Disease];
        for (t, th) in self.therapies.iter().enumerate() {
            if used & (1 << t) == 0 {
                continue;
            }
            // What every line of therapy draws: response, MRD, relapse and toxicity.
            let line = [
                Process::Response(t),
                Process::Mrd(t),
                Process::Relapse(t),
                Process::Toxicity(t),
            ];
            match &th.kind {
                TherapyKind::Course(_) => processes.extend(line),
                TherapyKind::CarT(_) => {
                    processes.extend(line);
                    processes.extend([Process::Manufacturing(t), Process::Waiting(t)]);
                }
                TherapyKind::Hct(_) => processes.extend([
                    Process::Transplant(t),
                    Process::Toxicity(t),
                    Process::Relapse(t),
                ]),
                TherapyKind::Supportive(_) => processes.push(Process::Survival(t)),
            }
            if th.escape().is_some() {
                processes.push(Process::Escape(t));
            }
        }
        processes.into_iter().map(Process::slot).collect()
    }

    /// The longest a patient can be followed \[days\]: the horizon, or until everyone has
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

    /// The index of the strategy called `name`, or the message for a user who asked for one
    /// the scenario (at `scenario`, as the user named it) does not have, listing those it has.
    pub fn find_strategy(
        &self,
        name: &str,
        scenario: &dyn std::fmt::Display,
    ) -> Result<usize, String> {
        self.strategy_index(name).ok_or_else(|| {
            let names: Vec<&str> = self.strategies.iter().map(|s| s.name.as_str()).collect();
            format!(
                "no strategy `{name}` in {scenario} (it has: {})",
                names.join(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_by_age_switches_at_its_cut() {
        let r = Rate::ByAge {
            cut: 60.0,
            below: 0.1,
            at_or_above: 0.3,
        };
        let at = |age: f64| {
            let c = RateCtx {
                burden: Burden::MrdOnly,
                age,
                line: 1,
                prior_hct: false,
                kmt2a: false,
            };
            r.eval(&c)
        };
        assert_eq!(
            [at(30.0), at(59.99), at(60.0), at(75.0)],
            [0.1, 0.1, 0.3, 0.3]
        );
    }

    #[test]
    fn an_odds_ratio_of_one_and_certain_probabilities_are_left_alone() {
        // Exactly, not through the odds: 1e-9 there would come back as 9.999999999999999e-10,
        // and a certain event as 0/0.
        for p in [0.0, 1e-9, 0.3, 1.0] {
            assert_eq!(apply_odds_ratio(p, 1.0), p);
        }
        for or in [0.5, 2.0] {
            assert_eq!(apply_odds_ratio(0.0, or), 0.0);
            assert_eq!(apply_odds_ratio(1.0, or), 1.0);
        }
        // Odds 1/3 doubled: 2/3, probability 0.4.
        assert!((apply_odds_ratio(0.25, 2.0) - 0.4).abs() < 1e-15);
    }

    #[test]
    fn a_split_gives_class_i_to_uniforms_in_its_half_open_interval() {
        // Class i takes u in [c(i-1), c(i)): a uniform on exact binary fractions then lands in
        // each class with exactly its probability.
        let s = Split::new([0.25, 0.5, 0.25]);
        let classes: Vec<usize> = [0.0, 0.2, 0.25, 0.5, 0.75, 0.9].map(|u| s.pick(u)).into();
        assert_eq!(classes, [0, 0, 1, 1, 2, 2]);
        let probabilities: Vec<f64> = (0..3).map(|i| s.probability(i)).collect();
        assert_eq!(probabilities, [0.25, 0.5, 0.25]);
    }

    #[test]
    fn a_condition_with_any_part_is_constrained_and_an_empty_one_is_not() {
        assert!(!Condition::default().sealed().constrained);
        let d = Condition::default;
        let one_part = [
            Condition {
                cd19_positive: Some(true),
                ..d()
            },
            Condition {
                cd22_positive: Some(false),
                ..d()
            },
            Condition {
                min_age: Some(0.0),
                ..d()
            },
            Condition {
                max_age: Some(80.0),
                ..d()
            },
            Condition {
                cns: Some(false),
                ..d()
            },
            Condition {
                prior_hct: Some(true),
                ..d()
            },
            Condition {
                min_burden: Some(Burden::MrdOnly),
                ..d()
            },
            Condition {
                max_burden: Some(Burden::AtLeast50),
                ..d()
            },
            Condition { received: 1, ..d() },
            Condition {
                not_received: 4,
                ..d()
            },
            Condition {
                mrd_positive: Some(false),
                ..d()
            },
        ];
        for c in one_part {
            assert!(c.sealed().constrained, "{c:?}");
        }
    }
}
