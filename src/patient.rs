//! A patient's baseline attributes (MODEL.md §3), drawn from the scenario's population.

use crate::dist::std_normal_quantile;
use crate::model::{AgeDist, Burden, Cd22, Population};
use crate::rng::{Stream, bernoulli, uniform};

/// What a patient brings to time 0. Drawn once per patient from the `attributes` stream and
/// shared by every strategy (common random numbers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attributes {
    /// Age at time 0 \[years\].
    pub age: f64,
    /// Marrow burden at time 0.
    pub burden: Burden,
    /// CNS disease.
    pub cns: bool,
    /// Other extramedullary disease.
    pub extramedullary: bool,
    /// Leukemia already CD19-negative.
    pub cd19_negative: bool,
    /// CD22 expression.
    pub cd22: Cd22,
    /// Ph+ (BCR-ABL1).
    pub ph_positive: bool,
    /// KMT2A rearranged.
    pub kmt2a: bool,
    /// A prior allogeneic HCT.
    pub prior_hct: bool,
    /// A donor is available.
    pub donor_available: bool,
    /// Fit for HCT.
    pub hct_fit: bool,
    /// Salvage line at time 0 (1, 2, or 3 for third or later).
    pub salvage_line: u8,
}

impl Attributes {
    /// Draws a patient. Always the same 12 uniforms in the same order, whatever the
    /// probabilities, so a change to one attribute's share leaves the others' draws alone.
    pub fn sample(pop: &Population, rng: &mut Stream) -> Attributes {
        let age = match pop.age {
            AgeDist::TruncatedNormal {
                mean,
                sd,
                lo,
                hi,
                min,
                max,
            } => {
                crate::stats::count(crate::stats::Kind::NormalAge);
                let u = lo + uniform(rng) * (hi - lo);
                // Clamp: the inverse CDF near the bounds can round just past them.
                (mean + sd * std_normal_quantile(u.clamp(1e-300, 1.0 - 1e-16))).clamp(min, max)
            }
            AgeDist::Uniform { min, max } => min + uniform(rng) * (max - min),
            AgeDist::Fixed(a) => {
                uniform(rng);
                a
            }
        };
        Attributes {
            age,
            burden: Burden::ALL[pop.burden.pick(uniform(rng))],
            cns: bernoulli(rng, pop.cns),
            extramedullary: bernoulli(rng, pop.extramedullary),
            cd19_negative: bernoulli(rng, pop.cd19_negative),
            cd22: [Cd22::High, Cd22::Partial, Cd22::Negative][pop.cd22.pick(uniform(rng))],
            ph_positive: bernoulli(rng, pop.ph_positive),
            kmt2a: bernoulli(rng, pop.kmt2a),
            prior_hct: bernoulli(rng, pop.prior_hct),
            donor_available: bernoulli(rng, pop.donor_available),
            hct_fit: bernoulli(rng, pop.hct_fit),
            salvage_line: 1 + pop.salvage_line.pick(uniform(rng)) as u8,
        }
    }
}
