//! The scenario file as written: serde structs that mirror the TOML, with no unknown field
//! accepted and no value checked beyond its type. [`super::compile`] turns them into a
//! validated [`crate::model::Model`].
//!
//! Required values have no serde default: a scenario that leaves one out is an error, not a
//! silent assumption. The few optional fields say in their doc what their absence means.

use super::tagged::tagged_enum;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A whole scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Human-readable name, echoed in outputs.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Default run seed (`--seed` overrides).
    pub seed: u64,
    /// Default cohort size (`--patients` overrides).
    pub patients: u64,
    /// `"lifetime"` or `{ years = N }`.
    pub horizon: HorizonSpec,
    /// Whether patients outside a therapy's label age (`label_max_age`) can get it through a
    /// trial or off-label access.
    pub trial_access: bool,
    /// Who is simulated.
    pub population: PopulationSpec,
    /// Every therapy a strategy may name, by name.
    pub therapies: BTreeMap<String, TherapySpec>,
    /// The sequencing strategies compared, in output order.
    pub strategies: Vec<StrategySpec>,
    /// Costs, utilities and discounting; absent: a clinical-only scenario (no costs, QALYs or
    /// incremental analysis).
    pub economics: Option<EconomicsSpec>,
    /// Parameter uncertainty for PSA and one-way sensitivity analysis; absent: none.
    pub uncertainty: Option<UncertaintySpec>,
}

/// Time horizon: lifetime (death from any cause) or a fixed number of years.
#[derive(Debug, Clone)]
pub enum HorizonSpec {
    /// Follow every patient until death.
    Lifetime,
    /// Censor at this many years.
    Years(f64),
}

impl<'de> Deserialize<'de> for HorizonSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Years {
            years: f64,
        }
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = HorizonSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("\"lifetime\" or a table { years = N }")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<HorizonSpec, E> {
                match s {
                    "lifetime" => Ok(HorizonSpec::Lifetime),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(s), &self)),
                }
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<HorizonSpec, A::Error> {
                let y = Years::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(HorizonSpec::Years(y.years))
            }
        }
        d.deserialize_any(V)
    }
}

/// Unit of a time distribution's parameters.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    /// Days.
    Days,
    /// Weeks of 7 days.
    Weeks,
    /// Months of 30.4375 days.
    Months,
    /// Years of 365.25 days.
    Years,
}

/// A time-to-event distribution: `{ dist = "<name>", ... }`.
#[derive(Debug, Clone)]
pub enum DistSpec {
    /// `{ dist = "fixed", value, unit }`
    Fixed(FixedSpec),
    /// `{ dist = "exponential", mean, unit }`
    Exponential(ExponentialSpec),
    /// `{ dist = "weibull", shape, scale, unit }`
    Weibull(WeibullSpec),
    /// `{ dist = "lognormal", median, sigma, unit }`
    LogNormal(LogNormalSpec),
    /// `{ dist = "gamma", shape, scale, unit }`
    Gamma(GammaSpec),
    /// `{ dist = "mixture_cure", cure_fraction, uncured = { dist = ..., ... } }`
    MixtureCure(MixtureCureSpec),
}

tagged_enum!(DistSpec, tag = "dist", what = "distribution", {
    "fixed" => Fixed(FixedSpec),
    "exponential" => Exponential(ExponentialSpec),
    "weibull" => Weibull(WeibullSpec),
    "lognormal" => LogNormal(LogNormalSpec),
    "gamma" => Gamma(GammaSpec),
    "mixture_cure" => MixtureCure(MixtureCureSpec),
});

/// Parameters of a fixed time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedSpec {
    /// The time.
    pub value: f64,
    /// Its unit.
    pub unit: TimeUnit,
}

/// Parameters of an exponential time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExponentialSpec {
    /// Mean time (1 / rate).
    pub mean: f64,
    /// Unit of `mean`.
    pub unit: TimeUnit,
}

/// Parameters of a Weibull time, `S(t) = exp(-(t/scale)^shape)`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeibullSpec {
    /// Shape k.
    pub shape: f64,
    /// Scale λ.
    pub scale: f64,
    /// Unit of `scale`.
    pub unit: TimeUnit,
}

/// Parameters of a log-normal time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogNormalSpec {
    /// Median time, exp(μ).
    pub median: f64,
    /// Standard deviation of the log time.
    pub sigma: f64,
    /// Unit of `median`.
    pub unit: TimeUnit,
}

/// Parameters of a gamma time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GammaSpec {
    /// Shape.
    pub shape: f64,
    /// Scale (mean = shape × scale).
    pub scale: f64,
    /// Unit of `scale`.
    pub unit: TimeUnit,
}

/// A mixture-cure time: a long-term fraction never has the event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixtureCureSpec {
    /// Probability of never having the event.
    pub cure_fraction: f64,
    /// Distribution of the time for the rest.
    pub uncured: Box<DistSpec>,
}

/// Age at the start of the strategy, in years.
#[derive(Debug, Clone)]
pub enum AgeSpec {
    /// `{ dist = "normal", mean, sd, min, max }`: normal truncated to [min, max].
    Normal(NormalAgeSpec),
    /// `{ dist = "uniform", min, max }`
    Uniform(UniformAgeSpec),
    /// `{ dist = "fixed", value }`
    Fixed(FixedAgeSpec),
}

tagged_enum!(AgeSpec, tag = "dist", what = "age distribution", {
    "normal" => Normal(NormalAgeSpec),
    "uniform" => Uniform(UniformAgeSpec),
    "fixed" => Fixed(FixedAgeSpec),
});

/// Truncated normal age.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormalAgeSpec {
    /// Mean before truncation \[years\].
    pub mean: f64,
    /// SD before truncation \[years\].
    pub sd: f64,
    /// Lowest age \[years\].
    pub min: f64,
    /// Highest age \[years\].
    pub max: f64,
}

/// Uniform age.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UniformAgeSpec {
    /// Lowest age \[years\].
    pub min: f64,
    /// Highest age \[years\].
    pub max: f64,
}

/// Everyone the same age.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedAgeSpec {
    /// Age \[years\].
    pub value: f64,
}

/// One value per marrow-burden class: a split of the population, or a rate by burden.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByBurdenSpec {
    /// Measurable residual disease only (no morphological blasts).
    pub mrd_only: f64,
    /// Under 5% marrow blasts.
    pub blasts_lt5: f64,
    /// 5–49% marrow blasts.
    pub blasts_5_49: f64,
    /// 50% or more marrow blasts.
    pub blasts_ge50: f64,
}

/// CD22 expression split.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cd22Spec {
    /// High expression.
    pub high: f64,
    /// Partial (dim) expression.
    pub partial: f64,
    /// Negative.
    pub negative: f64,
}

/// Salvage-line split.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SalvageLineSpec {
    /// First salvage.
    pub first: f64,
    /// Second salvage.
    pub second: f64,
    /// Third or later salvage.
    pub third_plus: f64,
}

/// Background (non-leukemia) mortality.
#[derive(Debug, Clone)]
pub enum BackgroundSpec {
    /// `{ model = "gompertz", baseline_hazard, age_slope, max_age }`
    Gompertz(GompertzSpec),
    /// `{ model = "life_table", start_age, annual_death_probability = [...], max_age }`
    LifeTable(LifeTableSpec),
}

tagged_enum!(BackgroundSpec, tag = "model", what = "background mortality model", {
    "gompertz" => Gompertz(GompertzSpec),
    "life_table" => LifeTable(LifeTableSpec),
});

/// A period life table: the probability of dying within a year at each age.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifeTableSpec {
    /// Age of the first entry \[years\].
    pub start_age: f64,
    /// q(x) for x = start_age, start_age + 1, ...; the last entry holds for older ages.
    pub annual_death_probability: Vec<f64>,
    /// Age by which everyone has died.
    pub max_age: f64,
}

/// Gompertz hazard `baseline_hazard · exp(age_slope · age)` per year.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GompertzSpec {
    /// Hazard at age 0 [per year].
    pub baseline_hazard: f64,
    /// Log-hazard increase per year of age.
    pub age_slope: f64,
    /// Age by which everyone has died (closes the life table).
    pub max_age: f64,
}

/// The simulated population (MODEL.md §3).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationSpec {
    /// Age at the start \[years\].
    pub age: AgeSpec,
    /// Marrow burden split at the start.
    pub burden: ByBurdenSpec,
    /// Probability of CNS disease.
    pub cns: f64,
    /// Probability of other extramedullary disease.
    pub extramedullary: f64,
    /// Probability that the leukemia is already CD19-negative.
    pub cd19_negative: f64,
    /// CD22 expression split.
    pub cd22: Cd22Spec,
    /// Probability of Ph+ (BCR-ABL1) disease.
    pub ph_positive: f64,
    /// Probability of a KMT2A rearrangement.
    pub kmt2a: f64,
    /// Probability of a prior allogeneic HCT.
    pub prior_hct: f64,
    /// Probability that a donor is available.
    pub donor_available: f64,
    /// Probability of being fit for HCT.
    pub hct_fit: f64,
    /// Salvage-line split.
    pub salvage_line: SalvageLineSpec,
    /// Marrow burden split at a relapse.
    pub relapse_burden: ByBurdenSpec,
    /// Probability that a relapse involves the CNS.
    pub relapse_cns: f64,
    /// Probability that a relapse involves other extramedullary sites.
    pub relapse_extramedullary: f64,
    /// Background mortality.
    pub background_mortality: BackgroundSpec,
}

/// Which antigen a therapy needs on the leukemia.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TargetSpec {
    /// CD19-directed (blinatumomab, CD19 CAR-T).
    Cd19,
    /// CD22-directed (inotuzumab, CD22 CAR-T).
    Cd22,
    /// Not antigen-directed (chemotherapy, HCT, supportive care).
    None,
}

/// A probability that may depend on one attribute of the patient: a number, or a table.
///
/// ```toml
/// p = 0.3                                                          # everyone
/// p = { mrd_only = 0.8, blasts_lt5 = 0.7, blasts_5_49 = 0.6, blasts_ge50 = 0.3 }  # by burden
/// p = { age_cut = 65, below = 0.13, at_or_above = 0.28 }           # by current age
/// p = { first = 0.4, second = 0.21, third_plus = 0.11 }            # by salvage line
/// p = { prior_hct = 0.11, no_prior_hct = 0.0 }                     # by prior allo-HCT
/// p = { kmt2a = 0.1, no_kmt2a = 0.01 }                             # by KMT2A rearrangement
/// ```
#[derive(Debug, Clone)]
pub enum RateSpec {
    /// The same for everyone.
    Scalar(f64),
    /// By marrow burden.
    ByBurden(ByBurdenSpec),
    /// By age.
    ByAge(ByAgeSpec),
    /// By salvage line.
    ByLine(SalvageLineSpec),
    /// By prior allo-HCT.
    ByPriorHct(ByPriorHctSpec),
    /// By KMT2A rearrangement.
    ByKmt2a(ByKmt2aSpec),
}

impl<'de> Deserialize<'de> for RateSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use super::tagged::variant;
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RateSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a probability, or a table of probabilities by one attribute")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<RateSpec, E> {
                Ok(RateSpec::Scalar(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RateSpec, E> {
                Ok(RateSpec::Scalar(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RateSpec, E> {
                Ok(RateSpec::Scalar(v as f64))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RateSpec, A::Error> {
                let table =
                    toml::Table::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                let has = |keys: &[&str]| keys.iter().any(|k| table.contains_key(*k));
                if has(&["mrd_only", "blasts_lt5", "blasts_5_49", "blasts_ge50"]) {
                    variant(table).map(RateSpec::ByBurden)
                } else if has(&["age_cut", "below", "at_or_above"]) {
                    variant(table).map(RateSpec::ByAge)
                } else if has(&["first", "second", "third_plus"]) {
                    variant(table).map(RateSpec::ByLine)
                } else if has(&["prior_hct", "no_prior_hct"]) {
                    variant(table).map(RateSpec::ByPriorHct)
                } else if has(&["kmt2a", "no_kmt2a"]) {
                    variant(table).map(RateSpec::ByKmt2a)
                } else {
                    Err(serde::de::Error::custom(
                        "a rate is a number or a table by one attribute: burden {mrd_only, blasts_lt5, blasts_5_49, blasts_ge50}, age {age_cut, below, at_or_above}, salvage line {first, second, third_plus}, prior HCT {prior_hct, no_prior_hct} or KMT2A {kmt2a, no_kmt2a}",
                    ))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A probability by age: `below` under `age_cut` years, `at_or_above` from it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByAgeSpec {
    /// Age threshold \[years\].
    pub age_cut: f64,
    /// Probability below the threshold.
    pub below: f64,
    /// Probability at or above it.
    pub at_or_above: f64,
}

/// A probability by prior allo-HCT.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByPriorHctSpec {
    /// With a prior allo-HCT.
    pub prior_hct: f64,
    /// Without.
    pub no_prior_hct: f64,
}

/// A probability by KMT2A rearrangement.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByKmt2aSpec {
    /// KMT2A-rearranged.
    pub kmt2a: f64,
    /// Not rearranged.
    pub no_kmt2a: f64,
}

/// A toxicity a course or an infusion may cause. Grades are nested: `any_grade >= grade3plus >=
/// fatal`, each an absolute probability per course.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToxicitySpec {
    /// Which toxicity.
    pub kind: ToxicityKindSpec,
    /// Probability of any grade.
    pub any_grade: RateSpec,
    /// Probability of grade 3 or higher.
    pub grade3plus: RateSpec,
    /// Probability of death from it.
    pub fatal: RateSpec,
    /// Days from the start of the course (or the infusion) to onset.
    pub onset_days: f64,
    /// Days the episode lasts; a fatal episode ends in death.
    pub duration_days: f64,
}

/// Toxicity kinds (each is also a cause of death).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ToxicityKindSpec {
    /// Cytokine release syndrome.
    Crs,
    /// Immune effector cell-associated neurotoxicity (and blinatumomab neurotoxicity).
    Icans,
    /// Sinusoidal obstruction syndrome / veno-occlusive disease.
    Sos,
    /// Infection (chemotherapy).
    Infection,
    /// Graft-versus-host disease flare (immunotherapy after a prior HCT).
    Gvhd,
}

/// Antigen escape and lineage switch: what the leukemia may lose under this therapy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscapeSpec {
    /// P(a relapse after response to this therapy is CD19-negative).
    pub cd19_negative_at_relapse: RateSpec,
    /// P(refractory disease is CD19-negative after this therapy fails).
    pub cd19_negative_at_failure: RateSpec,
    /// P(a relapse after response to this therapy is CD22-negative).
    pub cd22_negative_at_relapse: RateSpec,
    /// P(a relapse after response switches lineage (to AML)).
    pub lineage_switch_at_relapse: RateSpec,
}

/// Odds ratios that modify a response probability; an absent one has no effect.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OddsRatiosSpec {
    /// With CNS disease.
    pub cns: Option<f64>,
    /// With other extramedullary disease.
    pub extramedullary: Option<f64>,
    /// With a KMT2A rearrangement.
    pub kmt2a: Option<f64>,
    /// With Ph+ disease.
    pub ph_positive: Option<f64>,
}

/// SOS/VOD at an HCT that consolidates a remission induced by this therapy (inotuzumab).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HctSosSpec {
    /// Base probability (usually by age).
    pub probability: RateSpec,
    /// Cycles of this therapy above which `cycles_odds_ratio` applies.
    pub cycles_above: u32,
    /// Odds ratio for more than `cycles_above` cycles.
    pub cycles_odds_ratio: f64,
    /// Odds ratio when the patient had an HCT before this one.
    pub prior_hct_odds_ratio: f64,
    /// Probability that the SOS is fatal.
    pub fatal: f64,
    /// Days from transplant to onset.
    pub onset_days: f64,
    /// Days the episode lasts; a fatal one ends in death.
    pub duration_days: f64,
}

/// A therapy: `kind` chooses the pathway, the rest are its parameters.
#[derive(Debug, Clone)]
pub enum TherapySpec {
    /// `kind = "antibody"`: cycles of an antibody such as the BiTE blinatumomab.
    Antibody(Box<CourseSpec>),
    /// `kind = "adc"`: cycles of an antibody-drug conjugate such as inotuzumab ozogamicin.
    Adc(Box<CourseSpec>),
    /// `kind = "chemotherapy"`: salvage chemotherapy courses.
    Chemotherapy(Box<CourseSpec>),
    /// `kind = "car_t"`: the CAR-T intention-to-treat pipeline.
    CarT(Box<CarTSpec>),
    /// `kind = "hct"`: allogeneic stem-cell transplant, given as consolidation.
    Hct(Box<HctSpec>),
    /// `kind = "supportive"`: best supportive care.
    Supportive(SupportiveSpec),
}

tagged_enum!(TherapySpec, tag = "kind", what = "therapy kind", {
    "antibody" => Antibody(Box<CourseSpec>),
    "adc" => Adc(Box<CourseSpec>),
    "chemotherapy" => Chemotherapy(Box<CourseSpec>),
    "car_t" => CarT(Box<CarTSpec>),
    "hct" => Hct(Box<HctSpec>),
    "supportive" => Supportive(SupportiveSpec),
});

/// A therapy given in courses of cycles, response assessed after each induction cycle.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourseSpec {
    /// Antigen the therapy needs.
    pub target: TargetSpec,
    /// Youngest eligible age \[years\]; absent: no lower limit.
    pub min_age: Option<f64>,
    /// Oldest eligible age \[years\]; absent: no upper limit.
    pub max_age: Option<f64>,
    /// Most courses a patient may receive.
    pub max_courses: u32,
    /// Length of a cycle \[days\].
    pub cycle_days: f64,
    /// Most induction cycles before a non-responder stops.
    pub induction_cycles: u32,
    /// Cycles given to responders after the response (stopped by HCT or relapse).
    pub consolidation_cycles: u32,
    /// Probability of response (CR/CRh/CRi) within the induction cycles.
    pub response: RateSpec,
    /// Response probability of a second or later course; absent: as the first.
    pub retreatment_response: Option<RateSpec>,
    /// Odds ratios modifying the response; absent: none.
    pub response_odds_ratios: Option<OddsRatiosSpec>,
    /// Share of responders whose response is seen after cycle 1 (the rest after cycle 2).
    pub responders_by_cycle_1: f64,
    /// Probability of MRD-negativity among responders.
    pub mrd_negative: RateSpec,
    /// Time from response to relapse, for MRD-negative responders.
    pub relapse: DistSpec,
    /// Hazard ratio of relapse for MRD-positive responders.
    pub mrd_positive_relapse_hr: f64,
    /// Toxicities of a course (may be empty).
    pub toxicities: Vec<ToxicitySpec>,
    /// Antigen escape; absent: the therapy exerts no antigen pressure.
    pub escape: Option<EscapeSpec>,
    /// SOS/VOD when an HCT consolidates this therapy's remission; absent: none.
    pub hct_sos: Option<HctSosSpec>,
    /// Costs; required when the scenario has `[economics]`.
    pub costs: Option<CourseCostsSpec>,
}

/// CD19 CAR-T: apheresis, manufacturing, waiting, infusion, response.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarTSpec {
    /// Antigen the product targets.
    pub target: TargetSpec,
    /// Youngest eligible age \[years\]; absent: no lower limit.
    pub min_age: Option<f64>,
    /// Oldest age fit for the product \[years\]; absent: no upper limit.
    pub max_age: Option<f64>,
    /// Oldest age on the product's label \[years\], waived when the scenario has
    /// `trial_access = true`; absent: no label age limit.
    pub label_max_age: Option<f64>,
    /// Most infusions a patient may receive.
    pub max_courses: u32,
    /// Days from the decision to apheresis.
    pub apheresis_days: f64,
    /// Probability that enough T cells are collected.
    pub apheresis_success: f64,
    /// Time from apheresis to the product being ready (or failed).
    pub manufacturing: DistSpec,
    /// Probability that manufacturing fails.
    pub manufacturing_failure: f64,
    /// Time from apheresis to dropout (death or ineligibility), competing with the wait.
    pub waiting_dropout: DistSpec,
    /// Share of dropouts who die (the rest become ineligible and move on).
    pub dropout_death_fraction: f64,
    /// Days from product release to infusion (lymphodepletion).
    pub lymphodepletion_days: f64,
    /// Days from infusion to the response assessment.
    pub assessment_days: f64,
    /// Probability of response at assessment (burden at infusion, after any bridging).
    pub response: RateSpec,
    /// Odds ratios modifying the response; absent: none.
    pub response_odds_ratios: Option<OddsRatiosSpec>,
    /// Probability of MRD-negativity among responders.
    pub mrd_negative: RateSpec,
    /// Time from response to relapse, for MRD-negative responders.
    pub relapse: DistSpec,
    /// Hazard ratio of relapse for MRD-positive responders.
    pub mrd_positive_relapse_hr: f64,
    /// Toxicities of the infusion (CRS, ICANS), onset counted from infusion.
    pub toxicities: Vec<ToxicitySpec>,
    /// Antigen escape; absent: none.
    pub escape: Option<EscapeSpec>,
    /// Costs; required when the scenario has `[economics]`.
    pub costs: Option<CarTCostsSpec>,
}

/// A GVHD episode after transplant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GvhdSpec {
    /// Probability.
    pub probability: f64,
    /// Days from transplant to onset.
    pub onset_days: f64,
    /// Days it lasts.
    pub duration_days: f64,
}

/// Allogeneic HCT.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HctSpec {
    /// Oldest eligible age \[years\].
    pub max_age: f64,
    /// Most allogeneic transplants in a lifetime (a prior HCT counts).
    pub max_transplants: u32,
    /// Time from remission to transplant; relapse and death compete with it.
    pub time_to_transplant: DistSpec,
    /// Probability of transplant-related death at a first transplant.
    pub trm: f64,
    /// ... at a second or later transplant.
    pub trm_second: f64,
    /// ... after a non-fatal SOS/VOD at this transplant.
    pub trm_after_sos: f64,
    /// Time from transplant to transplant-related death.
    pub trm_time: DistSpec,
    /// Acute GVHD.
    pub acute_gvhd: GvhdSpec,
    /// Chronic GVHD.
    pub chronic_gvhd: GvhdSpec,
    /// Time from transplant to relapse, MRD-negative before transplant.
    pub relapse: DistSpec,
    /// Hazard ratio of relapse when MRD-positive before transplant.
    pub mrd_positive_relapse_hr: f64,
    /// Costs; required when the scenario has `[economics]`.
    pub costs: Option<HctCostsSpec>,
}

/// Best supportive care.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupportiveSpec {
    /// Time from the start of supportive care to death from leukemia.
    pub survival: DistSpec,
}

/// One sequencing strategy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategySpec {
    /// Identifier used in outputs and `--strategy`.
    pub name: String,
    /// One line for the README and outputs.
    pub description: String,
    /// Lines of therapy in order.
    pub lines: Vec<LineSpec>,
    /// HCT consolidation; absent: no transplant in this strategy.
    pub consolidation: Option<ConsolidationSpec>,
    /// Supportive care once no line is left.
    pub supportive: String,
}

/// One line of therapy: the first eligible candidate is given; if none is, the line is skipped.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineSpec {
    /// Candidates in order of preference.
    pub therapies: Vec<CandidateSpec>,
    /// Condition for the whole line; absent: always considered.
    pub when: Option<ConditionSpec>,
    /// Bridging therapies for a CAR-T candidate, first eligible one given while waiting.
    pub bridge: Option<Vec<CandidateSpec>>,
}

/// A candidate therapy: a name, or `{ therapy = "name", when = { ... } }`.
#[derive(Debug, Clone)]
pub struct CandidateSpec {
    /// Therapy name.
    pub therapy: String,
    /// Extra condition; absent: the therapy's own eligibility only.
    pub when: Option<ConditionSpec>,
}

impl<'de> Deserialize<'de> for CandidateSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Full {
            therapy: String,
            when: Option<ConditionSpec>,
        }
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = CandidateSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a therapy name or a table { therapy = \"name\", when = { ... } }")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<CandidateSpec, E> {
                Ok(CandidateSpec {
                    therapy: s.to_string(),
                    when: None,
                })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<CandidateSpec, A::Error> {
                let f = Full::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(CandidateSpec {
                    therapy: f.therapy,
                    when: f.when,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// Antigen status in a condition.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StatusSpec {
    /// Present (CD22: high or partial expression; MRD: detectable).
    Positive,
    /// Absent.
    Negative,
}

/// Marrow burden class in a condition.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum BurdenSpec {
    /// MRD only.
    MrdOnly,
    /// Under 5% blasts.
    BlastsLt5,
    /// 5-49% blasts (snake_case would spell it `blasts5_49`).
    #[serde(rename = "blasts_5_49")]
    Blasts5_49,
    /// 50% or more.
    BlastsGe50,
}

/// A condition over the patient's current state; every given field must hold.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionSpec {
    /// CD19 status.
    pub cd19: Option<StatusSpec>,
    /// CD22 status.
    pub cd22: Option<StatusSpec>,
    /// Youngest age \[years\].
    pub min_age: Option<f64>,
    /// Oldest age \[years\].
    pub max_age: Option<f64>,
    /// CNS disease.
    pub cns: Option<bool>,
    /// Prior allo-HCT.
    pub prior_hct: Option<bool>,
    /// Highest marrow burden.
    pub max_burden: Option<BurdenSpec>,
    /// Lowest marrow burden.
    pub min_burden: Option<BurdenSpec>,
    /// Therapies the patient must have received.
    pub received: Option<Vec<String>>,
    /// Therapies the patient must not have received.
    pub not_received: Option<Vec<String>>,
    /// MRD status of the current remission (consolidation rules).
    pub mrd: Option<StatusSpec>,
}

/// When to consolidate a remission with HCT.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsolidationSpec {
    /// The HCT therapy.
    pub therapy: String,
    /// Remissions after these therapies are consolidated (eligible patients only); each entry
    /// a name or `{ therapy = "name", when = { ... } }` (e.g. after CAR-T only when
    /// MRD-positive).
    pub after: Vec<CandidateSpec>,
    /// Extra condition at the time of remission, for every therapy; absent: none.
    pub when: Option<ConditionSpec>,
    /// Most cycles of a therapy given before the transplant, by therapy name (e.g. the usual
    /// cap of 2 inotuzumab cycles); absent: the therapy's own consolidation cycles.
    pub max_cycles_before: Option<BTreeMap<String, u32>>,
}

/// A cost split over categories, in the scenario's currency; absent categories cost nothing.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostSpec {
    /// Drug acquisition.
    pub drug: Option<f64>,
    /// Administration (infusion, pharmacy, procedures).
    pub administration: Option<f64>,
    /// Hospital stay.
    pub hospital: Option<f64>,
    /// Management of toxicity.
    pub toxicity: Option<f64>,
    /// Transplant episode and its complications.
    pub transplant: Option<f64>,
    /// Monitoring and follow-up.
    pub follow_up: Option<f64>,
    /// Palliative and terminal care.
    pub end_of_life: Option<f64>,
}

/// Costs of a course-based therapy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourseCostsSpec {
    /// At the start of every cycle (also of a bridging cycle).
    pub per_cycle: CostSpec,
}

/// Costs of the CAR-T pipeline.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarTCostsSpec {
    /// At leukapheresis.
    pub apheresis: CostSpec,
    /// At lymphodepletion (once the product is released).
    pub lymphodepletion: CostSpec,
    /// The product, at infusion (not charged after a manufacturing failure).
    pub product: CostSpec,
    /// The infusion admission, at infusion.
    pub infusion: CostSpec,
}

/// Costs of allogeneic HCT.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HctCostsSpec {
    /// The transplant episode, at transplant.
    pub transplant: CostSpec,
    /// Extra cost of acute GVHD, at onset.
    pub acute_gvhd: CostSpec,
    /// Extra cost of chronic GVHD, at onset.
    pub chronic_gvhd: CostSpec,
}

/// A value per health state.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByStateSpec<T> {
    /// On treatment with active disease (a line running, the CAR-T wait).
    pub on_treatment: T,
    /// In remission (consolidation included), until `long_term_after_years`.
    pub remission: T,
    /// The first year after an allogeneic HCT.
    pub post_hct_first_year: T,
    /// In remission beyond `long_term_after_years` (from the response or the transplant).
    pub long_term: T,
    /// Relapsed or refractory disease in supportive care.
    pub relapse: T,
}

/// A value per toxicity grade.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByGradeSpec<T> {
    /// Grade 1-2.
    pub low: T,
    /// Grade 3 or higher (a fatal episode costs and weighs as severe).
    pub severe: T,
}

/// A value per toxicity kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByToxicitySpec<T> {
    /// CRS.
    pub crs: T,
    /// Neurotoxicity.
    pub icans: T,
    /// SOS/VOD.
    pub sos: T,
    /// Infection.
    pub infection: T,
    /// GVHD flare on immunotherapy.
    pub gvhd: T,
}

/// Disutility of GVHD after transplant, over its duration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GvhdDisutilitySpec {
    /// Acute GVHD.
    pub acute: f64,
    /// Chronic GVHD.
    pub chronic: f64,
}

/// Costs, utilities and discounting.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EconomicsSpec {
    /// ISO 4217 code, e.g. "USD".
    pub currency: String,
    /// Price year of every cost.
    pub price_year: i64,
    /// Annual discount rate of costs (e.g. 0.03; US guidance 3%, NICE 3.5%).
    pub discount_costs: f64,
    /// Annual discount rate of effects (life-years, QALYs).
    pub discount_effects: f64,
    /// Willingness-to-pay thresholds per QALY for net monetary benefit.
    pub wtp: Vec<f64>,
    /// Utility of each health state.
    pub utilities: ByStateSpec<f64>,
    /// Years of remission after which a patient counts as a long-term survivor.
    pub long_term_after_years: f64,
    /// Cost per day in each health state.
    pub daily_costs: ByStateSpec<CostSpec>,
    /// Cost of a toxicity episode by kind and grade, at onset.
    pub toxicity_costs: ByToxicitySpec<ByGradeSpec<CostSpec>>,
    /// Utility decrement of a toxicity episode by kind and grade, over its duration.
    pub toxicity_disutilities: ByToxicitySpec<ByGradeSpec<f64>>,
    /// Utility decrement of GVHD after transplant, over its duration.
    pub gvhd_disutility: GvhdDisutilitySpec,
    /// One-off cost at death from any cause except background mortality.
    pub terminal_care: CostSpec,
}

/// Parameter uncertainty: distributions over field paths of the scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UncertaintySpec {
    /// Willingness-to-pay grid of the CEAC and EVPI, per QALY.
    pub wtp_grid: WtpGridSpec,
    /// Patients affected (for population EVPI); absent: per-person EVPI only.
    pub population: Option<f64>,
    /// Distribution of each uncertain parameter, by field path (a quoted key such as
    /// `"therapies.cd19_car_t.manufacturing_failure"`).
    pub parameters: BTreeMap<String, ParamSpec>,
}

/// `{ from, to, step }`, inclusive.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WtpGridSpec {
    /// First threshold.
    pub from: f64,
    /// Last threshold.
    pub to: f64,
    /// Step.
    pub step: f64,
}

/// The distribution of one uncertain parameter.
#[derive(Debug, Clone)]
pub enum ParamSpec {
    /// `{ dist = "beta", events, n }` or `{ dist = "beta", mean, se }`.
    Beta(BetaParamSpec),
    /// `{ dist = "gamma", mean, se }`.
    Gamma(MeanSeSpec),
    /// `{ dist = "lognormal", mean, se }` (mean and SE of the value, not of its log).
    LogNormal(MeanSeSpec),
    /// `{ dist = "normal", mean, sd }`.
    Normal(NormalParamSpec),
    /// `{ dist = "uniform", min, max }`.
    Uniform(UniformParamSpec),
    /// `{ dist = "fixed", value }`.
    Fixed(FixedParamSpec),
    /// `{ dist = "dirichlet", counts = { share = count, ... } }` for a split that sums to 1.
    Dirichlet(DirichletSpec),
}

tagged_enum!(ParamSpec, tag = "dist", what = "parameter distribution", {
    "beta" => Beta(BetaParamSpec),
    "gamma" => Gamma(MeanSeSpec),
    "lognormal" => LogNormal(MeanSeSpec),
    "normal" => Normal(NormalParamSpec),
    "uniform" => Uniform(UniformParamSpec),
    "fixed" => Fixed(FixedParamSpec),
    "dirichlet" => Dirichlet(DirichletSpec),
});

/// A beta distribution from counts or from a mean and standard error.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BetaParamSpec {
    /// Events (with `n`).
    pub events: Option<f64>,
    /// Trials (with `events`).
    pub n: Option<f64>,
    /// Mean (with `se`).
    pub mean: Option<f64>,
    /// Standard error (with `mean`).
    pub se: Option<f64>,
    /// Low value for one-way sensitivity analysis; absent: the 2.5th percentile.
    pub low: Option<f64>,
    /// High value; absent: the 97.5th percentile.
    pub high: Option<f64>,
}

/// A distribution given by its mean and standard error.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeanSeSpec {
    /// Mean.
    pub mean: f64,
    /// Standard error.
    pub se: f64,
    /// Low value for one-way sensitivity analysis; absent: the 2.5th percentile.
    pub low: Option<f64>,
    /// High value; absent: the 97.5th percentile.
    pub high: Option<f64>,
}

/// A normal distribution.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormalParamSpec {
    /// Mean.
    pub mean: f64,
    /// Standard deviation.
    pub sd: f64,
    /// Low value for one-way sensitivity analysis; absent: the 2.5th percentile.
    pub low: Option<f64>,
    /// High value; absent: the 97.5th percentile.
    pub high: Option<f64>,
}

/// A uniform distribution.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UniformParamSpec {
    /// Lower bound.
    pub min: f64,
    /// Upper bound.
    pub max: f64,
    /// Low value for one-way sensitivity analysis; absent: the 2.5th percentile.
    pub low: Option<f64>,
    /// High value; absent: the 97.5th percentile.
    pub high: Option<f64>,
}

/// A fixed value (uncertainty switched off, the path still listed).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedParamSpec {
    /// The value.
    pub value: f64,
}

/// A Dirichlet over the shares of a split.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirichletSpec {
    /// Observed count of each share (the keys of the split table).
    pub counts: BTreeMap<String, f64>,
}
