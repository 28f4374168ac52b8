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
#[derive(Debug, Deserialize)]
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
    /// Who is simulated.
    pub population: PopulationSpec,
    /// Every therapy a strategy may name, by name.
    pub therapies: BTreeMap<String, TherapySpec>,
    /// The sequencing strategies compared, in output order.
    pub strategies: Vec<StrategySpec>,
}

/// Time horizon: lifetime (death from any cause) or a fixed number of years.
#[derive(Debug)]
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
    /// Mean before truncation [years].
    pub mean: f64,
    /// SD before truncation [years].
    pub sd: f64,
    /// Lowest age [years].
    pub min: f64,
    /// Highest age [years].
    pub max: f64,
}

/// Uniform age.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UniformAgeSpec {
    /// Lowest age [years].
    pub min: f64,
    /// Highest age [years].
    pub max: f64,
}

/// Everyone the same age.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedAgeSpec {
    /// Age [years].
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
}

tagged_enum!(BackgroundSpec, tag = "model", what = "background mortality model", {
    "gompertz" => Gompertz(GompertzSpec),
});

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
    /// Age at the start [years].
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

/// A therapy: `kind` chooses the pathway, the rest are its parameters.
#[derive(Debug, Clone)]
pub enum TherapySpec {
    /// `kind = "antibody"`: cycles of an antibody such as the BiTE blinatumomab.
    Antibody(CycleSpec),
    /// `kind = "car_t"`: the CAR-T intention-to-treat pipeline.
    CarT(CarTSpec),
    /// `kind = "hct"`: allogeneic stem-cell transplant, given as consolidation.
    Hct(HctSpec),
    /// `kind = "supportive"`: best supportive care.
    Supportive(SupportiveSpec),
}

tagged_enum!(TherapySpec, tag = "kind", what = "therapy kind", {
    "antibody" => Antibody(CycleSpec),
    "car_t" => CarT(CarTSpec),
    "hct" => Hct(HctSpec),
    "supportive" => Supportive(SupportiveSpec),
});

/// A therapy given in cycles, with response assessed after each induction cycle.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CycleSpec {
    /// Antigen the therapy needs.
    pub target: TargetSpec,
    /// Youngest eligible age [years]; absent: no lower limit.
    pub min_age: Option<f64>,
    /// Oldest eligible age [years]; absent: no upper limit.
    pub max_age: Option<f64>,
    /// Length of a cycle [days].
    pub cycle_days: f64,
    /// Most induction cycles before a non-responder stops.
    pub induction_cycles: u32,
    /// Cycles given to responders after the response (stopped by HCT or relapse).
    pub consolidation_cycles: u32,
    /// Probability of response (CR/CRh/CRi) by marrow burden at the start.
    pub response: ByBurdenSpec,
    /// Share of responders whose response is seen after cycle 1 (the rest after cycle 2).
    pub responders_by_cycle_1: f64,
    /// Probability of MRD-negativity among responders.
    pub mrd_negative: f64,
    /// Time from response to relapse, for MRD-negative responders.
    pub relapse: DistSpec,
    /// Hazard ratio of relapse for MRD-positive responders.
    pub mrd_positive_relapse_hr: f64,
}

/// CD19 CAR-T: apheresis, manufacturing, waiting, infusion, response.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarTSpec {
    /// Antigen the product targets.
    pub target: TargetSpec,
    /// Youngest eligible age [years]; absent: no lower limit.
    pub min_age: Option<f64>,
    /// Oldest eligible age [years]; absent: no upper limit.
    pub max_age: Option<f64>,
    /// Days from the decision to apheresis.
    pub apheresis_days: f64,
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
    /// Probability of response at assessment, by marrow burden at apheresis.
    pub response: ByBurdenSpec,
    /// Probability of MRD-negativity among responders.
    pub mrd_negative: f64,
    /// Time from response to relapse, for MRD-negative responders.
    pub relapse: DistSpec,
    /// Hazard ratio of relapse for MRD-positive responders.
    pub mrd_positive_relapse_hr: f64,
}

/// Allogeneic HCT.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HctSpec {
    /// Oldest eligible age [years].
    pub max_age: f64,
    /// Most allogeneic transplants in a lifetime (a prior HCT counts).
    pub max_transplants: u32,
    /// Time from remission to transplant; relapse and death compete with it.
    pub time_to_transplant: DistSpec,
    /// Probability of transplant-related death.
    pub trm: f64,
    /// Time from transplant to transplant-related death.
    pub trm_time: DistSpec,
    /// Time from transplant to relapse.
    pub relapse: DistSpec,
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

/// One line of therapy: its candidate therapies, the first eligible one is given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineSpec {
    /// Therapy names in order of preference.
    pub therapies: Vec<String>,
}

/// When to consolidate a remission with HCT.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsolidationSpec {
    /// The HCT therapy.
    pub therapy: String,
    /// Remissions after these therapies are consolidated (eligible patients only).
    pub after: Vec<String>,
}
