//! Streaming aggregates of outcomes: integer tallies only, so merging is exact.
//!
//! Every statistic is kept as an integer: counts, histograms of event times, and sums of
//! per-patient values in fixed point ([`ExactSum`]). Integer addition is associative and
//! commutative, so the merged result is bit-for-bit the same whatever the thread count, the
//! chunk size or the order in which rayon combines partial results. (Floating-point sums are
//! not: rayon keeps the order of a reduction but not its grouping.) Memory is fixed by the
//! horizon and the number of strategies, never by the number of patients.

use crate::engine::{Cause, Outcome};
use crate::time::{DAYS_PER_MONTH, DAYS_PER_YEAR, Days};
use std::collections::BTreeMap;

/// Fixed-point scale of [`ExactSum`] and [`ExactMean`]: values are rounded to 2⁻³² (about
/// 2.3e-10).
const SCALE: f64 = 4_294_967_296.0;

/// Rounds `y` to the nearest integer (halves away from zero) without a libm call: a truncating
/// conversion is one instruction, `f64::round` is a function call on baseline x86-64.
#[inline]
fn round_to_i128(y: f64) -> i128 {
    if y.abs() < 9.0e18 {
        i128::from((y + 0.5f64.copysign(y)) as i64)
    } else {
        y.round() as i128
    }
}

/// The largest magnitude [`ExactSum`] and [`ExactMean`] take, 2⁴⁶ (about 7.0e13): a value
/// rounded to 2⁻³² then needs 78 bits, its square at 2⁻¹⁶ 124, so one i128 holds the sum of
/// 2⁴⁹ of them and a [`WideSum`] the sum of their squares. Beyond it (or not finite), the sums
/// are marked [out of range](ExactSum::in_range) and the run refuses its results.
pub const EXACT_LIMIT: f64 = 70_368_744_177_664.0;

/// Whether `x` is beyond `limit` in magnitude or not a number (a NaN compares false, hence
/// the negation; one compare, no branch).
#[inline]
#[allow(clippy::neg_cmp_op_on_partial_ord)]
fn beyond(x: f64, limit: f64) -> bool {
    !(x.abs() < limit)
}

/// A sum of squares (non-negative, each below 2¹²⁸) in 256 bits: `hi · 2¹²⁸ + lo`. A cost
/// of 10⁹ (a lifetime in won or rupiah) squared at 2⁻²⁴ is about 2¹⁰⁸, so 128 bits alone held
/// the sum of only a million patients of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WideSum {
    lo: u128,
    hi: u128,
}

impl WideSum {
    #[inline]
    fn add(&mut self, x: u128) {
        let (lo, carry) = self.lo.overflowing_add(x);
        self.lo = lo;
        self.hi += u128::from(carry);
    }

    fn merge(&mut self, o: &WideSum) {
        self.add(o.lo);
        self.hi += o.hi;
    }

    /// The sum, rounded to the nearest `f64` (exactly as an i128's conversion when it fits).
    fn to_f64(self) -> f64 {
        if self.hi == 0 {
            self.lo as f64
        } else {
            self.hi as f64 * 2f64.powi(128) + self.lo as f64
        }
    }
}

/// An exact sum of values and of their squares, in fixed point.
///
/// Each value is rounded to 2⁻³² (at most 1.2e-10 off per patient); the sum is exact. The sum
/// of squares uses the value rounded to 2⁻¹⁶ (the variance needs no more), squared exactly, in
/// 256 bits. Values up to [`EXACT_LIMIT`] in magnitude are summed exactly for up to 2⁴⁹
/// patients; a larger or non-finite value marks the sum out of range (the caller refuses it)
/// instead of wrapping around.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExactSum {
    n: u64,
    sum: i128,
    sum_sq: WideSum,
    out_of_range: bool,
}

impl ExactSum {
    /// Adds one value.
    #[inline]
    pub fn add(&mut self, x: f64) {
        self.n += 1;
        self.out_of_range |= beyond(x, EXACT_LIMIT);
        let q = round_to_i128(x * SCALE);
        // Wrapping only where the value is out of range, whose sums are refused.
        self.sum = self.sum.wrapping_add(q);
        let c = (q >> 16) as i64;
        let m = u128::from(c.unsigned_abs());
        self.sum_sq.add(m * m);
    }

    /// Adds another sum.
    pub fn merge(&mut self, o: &ExactSum) {
        self.n += o.n;
        self.sum = self.sum.wrapping_add(o.sum);
        self.sum_sq.merge(&o.sum_sq);
        self.out_of_range |= o.out_of_range;
    }

    /// Whether every value added was finite and within [`EXACT_LIMIT`] (else the mean and
    /// standard error are meaningless).
    pub fn in_range(&self) -> bool {
        !self.out_of_range
    }

    /// Number of values.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Mean (0 for no values).
    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum as f64 / SCALE / self.n as f64
        }
    }

    /// Standard error of the mean: sample SD / sqrt(n) (0 for fewer than 2 values).
    pub fn std_error(&self) -> f64 {
        if self.n < 2 {
            return 0.0;
        }
        let n = self.n as f64;
        let mean = self.mean();
        let var = (self.sum_sq.to_f64() / SCALE - n * mean * mean) / (n - 1.0);
        (var.max(0.0) / n).sqrt()
    }
}

/// An exact sum for a mean without a standard error (no sum of squares to keep); the same
/// range as [`ExactSum`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExactMean {
    n: u64,
    sum: i128,
    out_of_range: bool,
}

impl ExactMean {
    /// Adds one value.
    #[inline]
    pub fn add(&mut self, x: f64) {
        self.n += 1;
        self.out_of_range |= beyond(x, EXACT_LIMIT);
        self.sum = self.sum.wrapping_add(round_to_i128(x * SCALE));
    }

    /// Adds another sum.
    pub fn merge(&mut self, o: &ExactMean) {
        self.n += o.n;
        self.sum = self.sum.wrapping_add(o.sum);
        self.out_of_range |= o.out_of_range;
    }

    /// Whether every value added was finite and within [`EXACT_LIMIT`].
    pub fn in_range(&self) -> bool {
        !self.out_of_range
    }

    /// Mean (0 for no values).
    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum as f64 / SCALE / self.n as f64
        }
    }
}

/// A hint to bring the cache line of `x` in; no effect on results (nothing off x86-64).
#[inline(always)]
fn prefetch<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch has no architectural effect and `x` is a valid reference.
    unsafe {
        std::arch::x86_64::_mm_prefetch(
            std::ptr::from_ref(x).cast::<i8>(),
            std::arch::x86_64::_MM_HINT_T0,
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// Event-time histogram for a survival curve. All patients start at 0 and the only censoring is
/// at the common horizon, so `S(t) = 1 - events(≤ t) / n` is exact for t before the horizon:
/// no Kaplan–Meier needed.
///
/// Two resolutions: months, exact at every month boundary (landmarks, `survival.csv`), and days,
/// for medians interpolated within a day. Bin `k` holds event times in `((k-1)w, kw]`, bin 0 the
/// events at exactly 0 (EFS treatment failures).
///
/// The day bins are the largest thing a worker thread holds (31,779 per curve for the default
/// scenario's 87-year horizon, two curves per strategy), so they count in two bytes (`Bins`): a
/// thread's histograms take a quarter of the memory of `u64` bins (0.5 MiB against 2 MiB for
/// the default scenario's four strategies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurvivalHist {
    n: u64,
    /// Follow-up covered \[days\], as the bits of the `f64` (an integer keeps `Eq`; whole days
    /// would drop the quarter day of a horizon in years, and with it the last landmark).
    max_days_bits: u64,
    by_day: Bins,
    by_month: Bins,
}

/// Exact event counts by bin in two bytes a bin: each bin keeps its count modulo 2¹⁶, and the
/// multiples of 2¹⁶ carried out of it go to a map that only bins with 65,536 events or more
/// ever enter (once every 65,536 events).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Bins {
    /// Counts modulo 2¹⁶.
    low: Vec<u16>,
    /// Bin → count / 2¹⁶, for the bins where that is not zero (so that equal counts compare
    /// equal).
    carries: BTreeMap<usize, u64>,
}

impl Bins {
    fn new(len: usize) -> Bins {
        Bins {
            low: vec![0; len],
            carries: BTreeMap::new(),
        }
    }

    fn len(&self) -> usize {
        self.low.len()
    }

    /// Counts one event in bin `i`.
    #[inline]
    fn add(&mut self, i: usize) {
        let c = &mut self.low[i];
        *c = c.wrapping_add(1);
        if *c == 0 {
            *self.carries.entry(i).or_default() += 1;
        }
    }

    /// Events in bin `i`; none beyond the last.
    fn get(&self, i: usize) -> u64 {
        self.low.get(i).map_or(0, |&c| {
            u64::from(c) + (self.carries.get(&i).copied().unwrap_or(0) << 16)
        })
    }

    /// Adds the counts of `o`, of the same length.
    fn merge(&mut self, o: &Bins) {
        for (i, (a, &b)) in self.low.iter_mut().zip(&o.low).enumerate() {
            let (sum, carry) = a.overflowing_add(b);
            *a = sum;
            if carry {
                *self.carries.entry(i).or_default() += 1;
            }
        }
        for (&i, &c) in &o.carries {
            *self.carries.entry(i).or_default() += c;
        }
    }
}

fn bin(t: f64, width: f64, len: usize) -> usize {
    if t <= 0.0 {
        return 0;
    }
    // ceil(t / width) without a libm call.
    let x = t / width;
    let i = x as usize;
    (i + usize::from((i as f64) < x)).min(len - 1)
}

impl SurvivalHist {
    /// A histogram covering `max_days` of follow-up.
    pub fn new(max_days: f64) -> SurvivalHist {
        SurvivalHist {
            n: 0,
            max_days_bits: max_days.to_bits(),
            by_day: Bins::new(max_days.ceil() as usize + 2),
            by_month: Bins::new((max_days / DAYS_PER_MONTH).ceil() as usize + 2),
        }
    }

    /// Adds one patient: an event at `t`, or censoring if `!event`.
    #[inline]
    pub fn add(&mut self, t: Days, event: bool) {
        self.n += 1;
        if event {
            self.by_day.add(self.day_bin(t));
            self.by_month
                .add(bin(t.get(), DAYS_PER_MONTH, self.by_month.len()));
        }
    }

    /// The `by_day` bin of an event at `t`.
    #[inline]
    fn day_bin(&self, t: Days) -> usize {
        bin(t.get(), 1.0, self.by_day.len())
    }

    /// Starts fetching the day bin that [`SurvivalHist::add`] will increment for `t`: the bins
    /// are scattered over decades. With eight-byte bins (1.9 MiB a thread for the default
    /// scenario) their misses took 3% of the time; with two-byte bins (0.5 MiB, about Zen 2's
    /// L2) it gains nothing measurable here (1.57-1.58 s with it, 1.55-1.58 s without, 6
    /// interleaved pairs of 4×10⁵-patient runs), and it is kept for longer horizons, more
    /// strategies and smaller caches.
    #[inline]
    pub fn prefetch(&self, t: Days, event: bool) {
        if event {
            prefetch(&self.by_day.low[self.day_bin(t)]);
        }
    }

    /// Adds another histogram of the same shape.
    pub fn merge(&mut self, o: &SurvivalHist) {
        self.n += o.n;
        self.by_day.merge(&o.by_day);
        self.by_month.merge(&o.by_month);
    }

    /// S(m months) for m = 0, 1, ..., up to `max_months` (inclusive).
    pub fn monthly(&self, max_months: usize) -> Vec<f64> {
        let mut events = 0u64;
        (0..=max_months)
            .map(|m| {
                events += self.by_month.get(m);
                1.0 - events as f64 / self.n.max(1) as f64
            })
            .collect()
    }

    /// S at `months`; `None` beyond the follow-up, where S is unknown.
    pub fn at_month(&self, months: usize) -> Option<f64> {
        (months as f64 * DAYS_PER_MONTH <= f64::from_bits(self.max_days_bits))
            .then(|| self.monthly(months)[months])
    }

    /// Patients added.
    pub fn patients(&self) -> u64 {
        self.n
    }

    /// S at `day` days, exact at whole days and linear in between; 0 beyond the follow-up is
    /// not claimed: the last day's value holds.
    pub fn survival_at_day(&self, day: f64) -> f64 {
        let n = self.n.max(1) as f64;
        let last = self.by_day.len() - 2;
        let k = (day.max(0.0).floor() as usize).min(last);
        let events = (0..=k).map(|i| self.by_day.get(i)).sum::<u64>();
        let s_k = 1.0 - events as f64 / n;
        if k == last {
            return s_k;
        }
        let s_next = 1.0 - (events + self.by_day.get(k + 1)) as f64 / n;
        s_k + (day - k as f64).clamp(0.0, 1.0) * (s_next - s_k)
    }

    /// Median time \[days\], linearly interpolated within the day where S crosses 0.5; `None`
    /// if S stays above 0.5 over the follow-up.
    pub fn median_days(&self) -> Option<f64> {
        let n = self.n.max(1) as f64;
        let mut events = 0u64;
        let mut prev = 1.0;
        for k in 0..self.by_day.len() - 1 {
            events += self.by_day.get(k);
            let s = 1.0 - events as f64 / n;
            if s <= 0.5 {
                if k == 0 {
                    return Some(0.0);
                }
                return Some((k - 1) as f64 + (prev - 0.5) / (prev - s));
            }
            prev = s;
        }
        None
    }
}

/// The aggregate of one strategy's outcomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyAgg {
    /// Patients.
    pub patients: u64,
    /// Overall survival.
    pub os: SurvivalHist,
    /// Event-free survival.
    pub efs: SurvivalHist,
    /// Undiscounted life-years.
    pub life_years: ExactSum,
    /// Discounted life-years.
    pub ly_disc: ExactSum,
    /// Undiscounted QALYs.
    pub qaly: ExactMean,
    /// Discounted QALYs.
    pub qaly_disc: ExactSum,
    /// Undiscounted costs.
    pub cost: ExactMean,
    /// Discounted costs.
    pub cost_disc: ExactSum,
    /// Discounted costs by category.
    pub cost_disc_by_category: [ExactMean; 7],
    /// Deaths by [`Cause`] index.
    pub deaths: [u64; Cause::COUNT],
    /// First-line responders.
    pub first_response: u64,
    /// First-line MRD-negative responders.
    pub first_mrd_negative: u64,
    /// Patients for whom CAR-T was intended.
    pub car_t_intended: u64,
    /// Patients infused with CAR-T.
    pub car_t_infused: u64,
    /// Patients with a manufacturing failure.
    pub manufacturing_failed: u64,
    /// Patients who died waiting for CAR-T.
    pub died_waiting: u64,
    /// Patients transplanted at least once.
    pub transplanted: u64,
    /// Patients with at least one relapse.
    pub relapsed: u64,
    /// Patients whose first relapse was CD19-negative.
    pub cd19_negative_relapses: u64,
    /// Patients with grade >= 3 CRS.
    pub crs_grade3plus: u64,
    /// Patients with grade >= 3 neurotoxicity.
    pub icans_grade3plus: u64,
    /// Patients with SOS/VOD.
    pub sos: u64,
    /// Patients with grade >= 3 CRS from the first line.
    pub first_line_crs_grade3plus: u64,
    /// Patients with grade >= 3 neurotoxicity from the first line.
    pub first_line_icans_grade3plus: u64,
    /// Patients with SOS/VOD from the first line.
    pub first_line_sos: u64,
    /// Patients with acute GVHD after HCT.
    pub acute_gvhd: u64,
    /// Patients with chronic GVHD after HCT.
    pub chronic_gvhd: u64,
    /// Lines of therapy, summed.
    pub lines: u64,
}

impl StrategyAgg {
    /// An empty aggregate for `max_days` of follow-up.
    pub fn new(max_days: f64) -> StrategyAgg {
        StrategyAgg {
            patients: 0,
            os: SurvivalHist::new(max_days),
            efs: SurvivalHist::new(max_days),
            life_years: ExactSum::default(),
            ly_disc: ExactSum::default(),
            qaly: ExactMean::default(),
            qaly_disc: ExactSum::default(),
            cost: ExactMean::default(),
            cost_disc: ExactSum::default(),
            cost_disc_by_category: [ExactMean::default(); 7],
            deaths: [0; Cause::COUNT],
            first_response: 0,
            first_mrd_negative: 0,
            car_t_intended: 0,
            car_t_infused: 0,
            manufacturing_failed: 0,
            died_waiting: 0,
            transplanted: 0,
            relapsed: 0,
            cd19_negative_relapses: 0,
            crs_grade3plus: 0,
            icans_grade3plus: 0,
            sos: 0,
            first_line_crs_grade3plus: 0,
            first_line_icans_grade3plus: 0,
            first_line_sos: 0,
            acute_gvhd: 0,
            chronic_gvhd: 0,
            lines: 0,
        }
    }

    /// Adds one outcome.
    #[inline]
    pub fn add(&mut self, o: &Outcome) {
        self.patients += 1;
        self.os.add(o.end, o.death.is_some());
        self.efs.add(o.efs, o.efs_event);
        self.life_years.add(o.end.get() / DAYS_PER_YEAR);
        let a = &o.accounts;
        self.ly_disc.add(a.ly_disc);
        self.qaly.add(a.qaly);
        self.qaly_disc.add(a.qaly_disc);
        self.cost.add(a.cost);
        self.cost_disc.add(a.cost_disc);
        for (s, &c) in self
            .cost_disc_by_category
            .iter_mut()
            .zip(&a.cost_disc_by_category)
        {
            s.add(c);
        }
        if let Some(c) = o.death {
            self.deaths[c as usize] += 1;
        }
        self.first_response += u64::from(o.first_response);
        self.first_mrd_negative += u64::from(o.first_mrd_negative);
        self.car_t_intended += u64::from(o.car_t_intended);
        self.car_t_infused += u64::from(o.car_t_infused);
        self.manufacturing_failed += u64::from(o.manufacturing_failed);
        self.died_waiting += u64::from(o.died_waiting);
        self.transplanted += u64::from(o.transplants > 0);
        self.relapsed += u64::from(o.relapses > 0);
        self.cd19_negative_relapses += u64::from(o.relapses > 0 && o.first_relapse_cd19_negative);
        self.crs_grade3plus += u64::from(o.crs_grade3plus);
        self.icans_grade3plus += u64::from(o.icans_grade3plus);
        self.sos += u64::from(o.sos);
        self.first_line_crs_grade3plus += u64::from(o.first_line_crs_grade3plus);
        self.first_line_icans_grade3plus += u64::from(o.first_line_icans_grade3plus);
        self.first_line_sos += u64::from(o.first_line_sos);
        self.acute_gvhd += u64::from(o.acute_gvhd);
        self.chronic_gvhd += u64::from(o.chronic_gvhd);
        self.lines += u64::from(o.lines);
    }

    /// The first quantity whose sums are [out of range](ExactSum::in_range), by name; `None`
    /// when every one is in range.
    pub fn out_of_range(&self) -> Option<&'static str> {
        [
            ("life-years", self.life_years.in_range()),
            ("discounted life-years", self.ly_disc.in_range()),
            ("QALYs", self.qaly.in_range()),
            ("discounted QALYs", self.qaly_disc.in_range()),
            ("costs", self.cost.in_range()),
            ("discounted costs", self.cost_disc.in_range()),
            (
                "discounted costs by category",
                self.cost_disc_by_category.iter().all(ExactMean::in_range),
            ),
        ]
        .into_iter()
        .find_map(|(name, ok)| (!ok).then_some(name))
    }

    /// Adds another aggregate.
    pub fn merge(&mut self, o: &StrategyAgg) {
        self.patients += o.patients;
        self.os.merge(&o.os);
        self.efs.merge(&o.efs);
        self.life_years.merge(&o.life_years);
        self.ly_disc.merge(&o.ly_disc);
        self.qaly.merge(&o.qaly);
        self.qaly_disc.merge(&o.qaly_disc);
        self.cost.merge(&o.cost);
        self.cost_disc.merge(&o.cost_disc);
        for (s, c) in self
            .cost_disc_by_category
            .iter_mut()
            .zip(&o.cost_disc_by_category)
        {
            s.merge(c);
        }
        for (a, b) in self.deaths.iter_mut().zip(o.deaths) {
            *a += b;
        }
        self.first_response += o.first_response;
        self.first_mrd_negative += o.first_mrd_negative;
        self.car_t_intended += o.car_t_intended;
        self.car_t_infused += o.car_t_infused;
        self.manufacturing_failed += o.manufacturing_failed;
        self.died_waiting += o.died_waiting;
        self.transplanted += o.transplanted;
        self.relapsed += o.relapsed;
        self.cd19_negative_relapses += o.cd19_negative_relapses;
        self.crs_grade3plus += o.crs_grade3plus;
        self.icans_grade3plus += o.icans_grade3plus;
        self.sos += o.sos;
        self.first_line_crs_grade3plus += o.first_line_crs_grade3plus;
        self.first_line_icans_grade3plus += o.first_line_icans_grade3plus;
        self.first_line_sos += o.first_line_sos;
        self.acute_gvhd += o.acute_gvhd;
        self.chronic_gvhd += o.chronic_gvhd;
        self.lines += o.lines;
    }
}

/// Fixed-point scale of [`Paired`]: 2^24.
const PAIR_SCALE: f64 = 16_777_216.0;

/// The largest magnitude [`Paired`] takes, 2³⁸ (about 2.7e11): at 2^24 a value then fits 62
/// bits, a difference of two 63 and its square 126, summed in 256 bits (a [`WideSum`]).
pub const PAIR_LIMIT: f64 = 274_877_906_944.0;

/// Sums for the standard error of the difference between every two strategies, from each
/// patient's paired values (common random numbers): `Σ q_s` and `Σ (q_s − q_r)²` in integers.
///
/// Two strategies that produce the same value for every patient have every difference exactly
/// zero, so their incremental standard error is exactly zero. A value beyond [`PAIR_LIMIT`]
/// or not finite marks the sums out of range.
#[derive(Debug, Clone)]
pub struct Paired {
    k: usize,
    n: u64,
    sum: Vec<i128>,
    /// Σ (q_s − q_r)² at `s * k + r`, s < r.
    sum_sq_diff: Vec<WideSum>,
    out_of_range: bool,
    /// The current patient's quantised values (scratch for `add`).
    scratch: Vec<i64>,
}

/// Equal sums; the scratch row is not part of them.
impl PartialEq for Paired {
    fn eq(&self, o: &Paired) -> bool {
        (
            self.k,
            self.n,
            &self.sum,
            &self.sum_sq_diff,
            self.out_of_range,
        ) == (o.k, o.n, &o.sum, &o.sum_sq_diff, o.out_of_range)
    }
}

impl Eq for Paired {}

impl Paired {
    /// Sums for `k` strategies.
    pub fn new(k: usize) -> Paired {
        Paired {
            k,
            n: 0,
            sum: vec![0; k],
            sum_sq_diff: vec![WideSum::default(); k * k],
            out_of_range: false,
            scratch: vec![0; k],
        }
    }

    /// Adds one patient's values under every strategy.
    #[inline]
    pub fn add(&mut self, values: impl Fn(usize) -> f64) {
        self.n += 1;
        // Each value quantised once, into the scratch row (no allocation per patient).
        for (s, q) in self.scratch.iter_mut().enumerate() {
            let v = values(s);
            self.out_of_range |= beyond(v, PAIR_LIMIT);
            *q = round_to_i128(v * PAIR_SCALE) as i64;
        }
        let k = self.k;
        for (s, &qs) in self.scratch.iter().enumerate() {
            self.sum[s] += i128::from(qs);
            for (r, &qr) in self.scratch.iter().enumerate().skip(s + 1) {
                let d = u128::from(qs.wrapping_sub(qr).unsigned_abs());
                self.sum_sq_diff[s * k + r].add(d * d);
            }
        }
    }

    /// Adds another set of sums.
    pub fn merge(&mut self, o: &Paired) {
        self.n += o.n;
        self.sum.iter_mut().zip(&o.sum).for_each(|(a, b)| *a += b);
        self.sum_sq_diff
            .iter_mut()
            .zip(&o.sum_sq_diff)
            .for_each(|(a, b)| a.merge(b));
        self.out_of_range |= o.out_of_range;
    }

    /// Whether every value added was finite and within [`PAIR_LIMIT`].
    pub fn in_range(&self) -> bool {
        !self.out_of_range
    }

    /// Standard error of the mean paired difference between strategies `s` and `r`.
    pub fn se_difference(&self, s: usize, r: usize) -> f64 {
        if s == r || self.n < 2 {
            return 0.0;
        }
        let (a, b) = (s.min(r), s.max(r));
        let n = self.n as f64;
        let sum_d = (self.sum[a] - self.sum[b]) as f64;
        let ssd = self.sum_sq_diff[a * self.k + b].to_f64();
        let var = (ssd - sum_d * sum_d / n) / (n - 1.0);
        (var.max(0.0) / n).sqrt() / PAIR_SCALE
    }
}

/// A quantity whose sums went out of range in a run (see [`RunAgg::out_of_range`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutOfRange {
    /// The strategy's index, where the sums are a strategy's own.
    pub strategy: Option<usize>,
    /// The quantity, as the summary names it.
    pub quantity: &'static str,
    /// The largest magnitude its sums hold.
    pub limit: f64,
}

/// Aggregates of every strategy of a run, in scenario order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAgg {
    /// One per strategy.
    pub strategies: Vec<StrategyAgg>,
    /// Paired sums of discounted costs.
    pub paired_cost: Paired,
    /// Paired sums of discounted QALYs.
    pub paired_qaly: Paired,
}

impl RunAgg {
    /// Empty aggregates for `n` strategies.
    pub fn new(n: usize, max_days: f64) -> RunAgg {
        RunAgg {
            strategies: (0..n).map(|_| StrategyAgg::new(max_days)).collect(),
            paired_cost: Paired::new(n),
            paired_qaly: Paired::new(n),
        }
    }

    /// Adds one patient's outcomes, one per strategy in order.
    pub fn add_patient(&mut self, outcomes: &[Outcome]) {
        for (a, o) in self.strategies.iter_mut().zip(outcomes) {
            a.add(o);
        }
        self.paired_cost.add(|s| outcomes[s].accounts.cost_disc);
        self.paired_qaly.add(|s| outcomes[s].accounts.qaly_disc);
    }

    /// What is out of range, if anything: a quantity with a patient's value that the exact
    /// sums cannot hold (beyond [`EXACT_LIMIT`], or [`PAIR_LIMIT`] for the paired discounted
    /// costs and QALYs, or not finite).
    pub fn out_of_range(&self) -> Option<OutOfRange> {
        let per_strategy = self.strategies.iter().enumerate().find_map(|(s, a)| {
            a.out_of_range().map(|quantity| OutOfRange {
                strategy: Some(s),
                quantity,
                limit: EXACT_LIMIT,
            })
        });
        let paired = |p: &Paired, quantity| {
            (!p.in_range()).then_some(OutOfRange {
                strategy: None,
                quantity,
                limit: PAIR_LIMIT,
            })
        };
        per_strategy
            .or_else(|| paired(&self.paired_cost, "discounted costs"))
            .or_else(|| paired(&self.paired_qaly, "discounted QALYs"))
    }

    /// Starts fetching the survival bins that adding `o` as strategy `s`'s outcome will touch.
    #[inline]
    pub fn prefetch(&self, s: usize, o: &Outcome) {
        if let Some(a) = self.strategies.get(s) {
            a.os.prefetch(o.end, o.death.is_some());
            a.efs.prefetch(o.efs, o.efs_event);
        }
    }

    /// Adds another run's aggregates, strategy by strategy.
    pub fn merge(mut self, o: RunAgg) -> RunAgg {
        for (a, b) in self.strategies.iter_mut().zip(&o.strategies) {
            a.merge(b);
        }
        self.paired_cost.merge(&o.paired_cost);
        self.paired_qaly.merge(&o.paired_qaly);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(x: f64) -> Days {
        Days::new(x).unwrap()
    }

    #[test]
    fn exact_sum_is_order_independent() {
        let xs: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.7311).sin() * 1e3).collect();
        let mut a = ExactSum::default();
        xs.iter().for_each(|&x| a.add(x));
        let mut b = ExactSum::default();
        let mut c = ExactSum::default();
        xs.iter().rev().take(300).for_each(|&x| b.add(x));
        xs.iter().rev().skip(300).for_each(|&x| c.add(x));
        c.merge(&b);
        assert_eq!(a, c);
        let naive: f64 = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((a.mean() - naive).abs() < 1e-9);
    }

    #[test]
    fn wide_sums_carry_past_128_bits() {
        let mut w = WideSum::default();
        for _ in 0..3 {
            w.add(1 << 127);
        }
        assert_eq!((w.hi, w.lo), (1, 1 << 127));
        assert_eq!(w.to_f64(), 1.5 * 2f64.powi(128));
        let mut v = WideSum::default();
        v.add(1 << 127);
        v.merge(&w);
        assert_eq!((v.hi, v.lo), (2, 0));
        v.merge(&w);
        assert_eq!((v.hi, v.lo), (3, 1 << 127));
    }

    /// Costs of a lifetime in won or rupiah (10⁹–10¹¹): the squares of 1,000 patients' values
    /// passed i128 and wrapped around, unseen (the standard errors were garbage); in 256 bits
    /// they are exact. Alternating ±x: mean 0, SE x/√(n−1).
    #[test]
    fn large_values_keep_exact_standard_errors() {
        let n = 1000;
        let mut s = ExactSum::default();
        let mut p = Paired::new(2);
        for i in 0..n {
            let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
            s.add(sign * 4e13);
            p.add(|k| if k == 0 { sign * 2e11 } else { 0.0 });
        }
        assert!(s.in_range() && p.in_range());
        assert_eq!(s.mean(), 0.0);
        let want = 4e13 / f64::from(n - 1).sqrt();
        assert!(
            (s.std_error() / want - 1.0).abs() < 1e-12,
            "{}",
            s.std_error()
        );
        let want = 2e11 / f64::from(n - 1).sqrt();
        let se = p.se_difference(0, 1);
        assert!((se / want - 1.0).abs() < 1e-12, "{se}");
    }

    /// A value beyond the limits, or not finite, marks the sums out of range (and a merge
    /// keeps the mark); values just inside do not.
    #[test]
    fn values_beyond_the_limits_mark_the_sums() {
        for (x, ok) in [
            (0.99 * EXACT_LIMIT, true),
            (-0.99 * EXACT_LIMIT, true),
            (EXACT_LIMIT, false),
            (-1.01 * EXACT_LIMIT, false),
            (1e308, false),
            (f64::INFINITY, false),
            (f64::NAN, false),
        ] {
            let mut s = ExactSum::default();
            let mut m = ExactMean::default();
            s.add(x);
            m.add(x);
            assert_eq!((s.in_range(), m.in_range()), (ok, ok), "{x}");
            let (mut t, mut u) = (ExactSum::default(), ExactMean::default());
            t.merge(&s);
            u.merge(&m);
            assert_eq!((t.in_range(), u.in_range()), (ok, ok), "merged {x}");
        }
        for (x, ok) in [
            (0.99 * PAIR_LIMIT, true),
            (-0.99 * PAIR_LIMIT, true),
            (PAIR_LIMIT, false),
            (f64::NAN, false),
        ] {
            for k in 0..3 {
                let mut p = Paired::new(3);
                p.add(|s| if s == k { x } else { 1.0 });
                assert_eq!(p.in_range(), ok, "{x} as strategy {k}");
                let mut q = Paired::new(3);
                q.merge(&p);
                assert_eq!(q.in_range(), ok, "merged {x}");
            }
        }
    }

    #[test]
    fn std_error_matches_formula() {
        let mut s = ExactSum::default();
        for x in [1.0, 2.0, 3.0, 4.0] {
            s.add(x);
        }
        // sd = sqrt(5/3), se = sd / 2
        assert!((s.std_error() - (5.0f64 / 3.0).sqrt() / 2.0).abs() < 1e-12);
    }

    #[test]
    fn paired_standard_error() {
        let mut p = Paired::new(3);
        // Strategy 1 = strategy 0 + 1 for everyone; strategy 2 = strategy 0.
        for x in [1.0, 5.0, 2.0, 8.0] {
            p.add(|s| if s == 1 { x + 1.0 } else { x });
        }
        assert_eq!(
            p.se_difference(0, 1),
            0.0,
            "a constant difference has no variance"
        );
        assert_eq!(p.se_difference(0, 2), 0.0, "identical values: exactly zero");
        // Differences between 1 and 2 are all 1 too.
        assert_eq!(p.se_difference(2, 1), 0.0);
        let mut q = Paired::new(2);
        for (a, b) in [(1.0, 2.0), (3.0, 3.0), (2.0, 5.0)] {
            q.add(|s| if s == 0 { a } else { b });
        }
        // d = -1, 0, -3: mean -4/3, sd = sqrt(((1/3)^2 + (4/3)^2 + (5/3)^2) / 2) = sqrt(7/3).
        let expected = (7.0f64 / 3.0).sqrt() / 3.0f64.sqrt();
        assert!((q.se_difference(0, 1) - expected).abs() < 1e-12);
    }

    /// The same patients added in another order give equal sums: the scratch row, which holds
    /// the last patient added, is not compared.
    #[test]
    fn paired_sums_do_not_depend_on_the_order_of_patients() {
        let rows = [[1.0, 2.5, -3.0], [4.0, 0.0, 7.25]];
        let mut a = Paired::new(3);
        let mut b = Paired::new(3);
        for row in rows {
            a.add(|s| row[s]);
        }
        for row in rows.iter().rev() {
            b.add(|s| row[s]);
        }
        assert_eq!(a, b);
        b.add(|s| rows[0][s]);
        assert_ne!(a, b, "one more patient");
    }

    #[test]
    fn paired_standard_error_of_two_patients_and_of_every_pair_of_three() {
        // Two patients are enough for a standard error: d = 1, 3 has variance 2, SE 1.
        let mut two = Paired::new(2);
        for (a, b) in [(2.0, 1.0), (5.0, 2.0)] {
            two.add(|s| if s == 0 { a } else { b });
        }
        assert_eq!(two.se_difference(0, 1), 1.0);
        // Three strategies whose three pairs have three different spreads, each read from its
        // own sums whichever way round it is asked for.
        let mut p = Paired::new(3);
        let rows = [[0.0, 1.0, 4.0], [0.0, 2.0, 0.0], [0.0, 3.0, 8.0]];
        for row in rows {
            p.add(|s| row[s]);
        }
        let se = |s: usize, r: usize| {
            let d: Vec<f64> = rows.iter().map(|row| row[s] - row[r]).collect();
            let mean = d.iter().sum::<f64>() / 3.0;
            let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0;
            (var / 3.0).sqrt()
        };
        for (s, r) in [(0, 1), (0, 2), (1, 2), (2, 1), (2, 0), (1, 0)] {
            let want = se(s, r);
            assert!(
                (p.se_difference(s, r) - want).abs() < 1e-12,
                "({s}, {r}): {want}"
            );
        }
        assert!(se(0, 1) != se(0, 2) && se(0, 2) != se(1, 2) && se(0, 1) != se(1, 2));
    }

    #[test]
    fn survival_curve_and_median() {
        let mut h = SurvivalHist::new(400.0);
        // 4 patients: events at 0, 10.5, 100; one censored.
        h.add(d(0.0), true);
        h.add(d(10.5), true);
        h.add(d(100.0), true);
        h.add(d(400.0), false);
        let m = h.monthly(4);
        assert_eq!(m[0], 0.75, "event at exactly 0 counts at month 0");
        assert_eq!(m[1], 0.5);
        assert_eq!(m[3], 0.5, "day 100 is in month 4 (91.3 < 100 <= 121.75)");
        assert_eq!(m[4], 0.25);
        // S drops from 0.75 to 0.5 in day bin 11 ((10, 11]): median interpolates to 11.0.
        assert_eq!(h.median_days(), Some(11.0));
        let mut all = SurvivalHist::new(400.0);
        all.add(d(0.0), true);
        assert_eq!(all.median_days(), Some(0.0));
        let mut none = SurvivalHist::new(400.0);
        none.add(d(400.0), false);
        assert_eq!(none.median_days(), None);
    }

    #[test]
    fn survival_bins_count_past_two_bytes_exactly() {
        // 70,000 events on day 0 wrap its two-byte bin once; 40,000 on day 3 in each of two
        // histograms wrap it only when they are merged. The curve must see every event, and a
        // histogram built by adding must equal one built by merging (the carries are kept in
        // one form only).
        let n = 70_000 + 80_000 + 10_000;
        let mut whole = SurvivalHist::new(400.0);
        let mut a = SurvivalHist::new(400.0);
        let mut b = SurvivalHist::new(400.0);
        for _ in 0..70_000 {
            whole.add(d(0.0), true);
            a.add(d(0.0), true);
        }
        for _ in 0..40_000 {
            whole.add(d(2.5), true);
            whole.add(d(2.5), true);
            a.add(d(2.5), true);
            b.add(d(2.5), true);
        }
        for _ in 0..10_000 {
            whole.add(d(400.0), false);
            b.add(d(400.0), false);
        }
        assert_eq!(whole.by_day.low[0], (70_000 - 65_536) as u16);
        assert_eq!(whole.by_day.carries.get(&0), Some(&1));
        assert_eq!(a.by_day.carries.get(&3), None, "40,000 fit in two bytes");
        assert_eq!(a.by_month.carries.get(&1), None, "40,000 fit in two bytes");
        a.merge(&b);
        assert_eq!(a, whole, "merged and added histograms differ");
        let mut copy = SurvivalHist::new(400.0);
        copy.merge(&whole);
        assert_eq!(copy, whole, "the carries of the merged histogram were lost");
        assert_eq!(whole.patients(), n);
        assert_eq!(whole.by_day.get(0), 70_000);
        assert_eq!(whole.by_day.get(3), 80_000);
        assert_eq!(whole.by_month.get(1), 80_000, "month bins carry too");
        let s0 = 1.0 - 70_000.0 / n as f64;
        assert_eq!(whole.survival_at_day(0.0), s0);
        assert_eq!(whole.survival_at_day(3.0), 1.0 - 150_000.0 / n as f64);
        assert_eq!(whole.monthly(1)[1], 1.0 - 150_000.0 / n as f64);
        // S falls below 0.5 in day bin 3 ((2, 3]): the median interpolates from day 2.
        let s3 = 1.0 - 150_000.0 / n as f64;
        assert_eq!(whole.median_days(), Some(2.0 + (s0 - 0.5) / (s0 - s3)));
    }

    #[test]
    fn large_values_are_summed_exactly() {
        // Beyond 9e18 / 2^32 (about 2.1e9) the fixed-point value leaves i64: the slow path
        // rounds it in i128. Kills `y.abs() < 9.0e18` -> `>` in `round_to_i128` (which would send
        // these through the i64 conversion, saturating at 2^63 / 2^32).
        let mut s = ExactSum::default();
        let mut m = ExactMean::default();
        for x in [5.0e9, 7.0e9, -1.0e9] {
            s.add(x);
            m.add(x);
        }
        assert_eq!(s.mean(), 11.0e9 / 3.0);
        assert_eq!(m.mean(), 11.0e9 / 3.0);
    }

    #[test]
    fn std_error_of_one_and_two_values() {
        // Kills `self.n < 2` -> `<=` and `==` in `ExactSum::std_error`.
        let mut s = ExactSum::default();
        s.add(0.3);
        assert_eq!(s.std_error(), 0.0, "one value: no standard error");
        let mut s = ExactSum::default();
        s.add(1.0);
        s.add(3.0);
        // sd = sqrt(((1 - 2)^2 + (3 - 2)^2) / 1) = sqrt(2), se = sd / sqrt(2) = 1.
        assert!((s.std_error() - 1.0).abs() < 1e-12, "{}", s.std_error());
    }

    #[test]
    fn at_month_is_none_beyond_the_follow_up() {
        // 400 days: month 13 (395.69 days) is covered, month 14 (426.13) is not. Kills `*` ->
        // `+` and `/` in `SurvivalHist::at_month`.
        let mut h = SurvivalHist::new(400.0);
        h.add(d(10.0), true);
        h.add(d(400.0), false);
        assert_eq!(h.at_month(13), Some(0.5));
        assert_eq!(h.at_month(14), None);
    }

    #[test]
    fn survival_at_day_is_exact_at_whole_days_and_linear_between() {
        // 5 patients on 10 days: events at 2 (day bin 2), 2.5 and 3 (bin 3), 8 (bin 8); one
        // censored. S = 1 on days 0-1, 0.8 on day 2, 0.4 on days 3-7, 0.2 from day 8. Kills
        // every surviving mutant of `SurvivalHist::survival_at_day` (it had no test).
        let mut h = SurvivalHist::new(10.0);
        for t in [2.0, 2.5, 3.0, 8.0] {
            h.add(d(t), true);
        }
        h.add(d(10.0), false);
        let close = |day: f64, want: f64| {
            let got = h.survival_at_day(day);
            assert!((got - want).abs() < 1e-15, "S({day}) = {got}, want {want}");
        };
        close(-3.0, 1.0);
        close(0.0, 1.0);
        close(1.5, 0.9);
        close(2.0, 0.8);
        close(2.25, 0.7);
        close(3.0, 0.4);
        close(7.5, 0.3);
        close(8.0, 0.2);
        close(10.0, 0.2);
        // Beyond the follow-up the last day's value holds.
        close(50.0, 0.2);
    }

    #[test]
    fn a_horizon_in_whole_years_reaches_its_last_landmark() {
        // A horizon of 1 or 5 years is 365.25 or 1826.25 days: exactly 12 or 60 months. S at
        // the horizon is known (the only censoring is there), so the landmark is reported.
        // (Flooring the follow-up to whole days reported `os_12m` empty for a 1-year horizon.)
        for years in [1.0, 5.0] {
            let mut h = SurvivalHist::new(years * DAYS_PER_YEAR);
            h.add(d(100.0), true);
            h.add(d(years * DAYS_PER_YEAR), true);
            h.add(d(years * DAYS_PER_YEAR), false);
            h.add(d(years * DAYS_PER_YEAR), false);
            let m = (12.0 * years) as usize;
            assert_eq!(h.at_month(m), Some(0.5), "{years} years");
            assert_eq!(h.at_month(m + 1), None, "{years} years");
        }
    }

    /// One outcome per strategy for each of the first `n` patients of the shipped adult
    /// scenario, and its follow-up in days.
    fn adult_outcomes(n: u64) -> (f64, Vec<Vec<Outcome>>) {
        use crate::engine::{Workspace, simulate};
        let model = crate::scenario::adult_for_tests().model;
        let mut ws = Workspace::new(&model);
        let run = crate::rng::RunKey::new(11);
        let rows = (0..n)
            .map(|p| {
                let attrs = ws.attributes(&model, run, p);
                (0..model.strategies.len())
                    .map(|s| simulate(&model, s, run, p, &attrs, &mut ws, &mut ()))
                    .collect()
            })
            .collect();
        (model.max_follow_up_days(), rows)
    }

    /// Each quantity out of range is named, with its strategy and its limit: a cost beyond
    /// what the paired sums hold but within the strategy's own, one beyond both, a QALY that is
    /// not a number; simulated outcomes are in range, and a merge keeps the mark.
    #[test]
    fn a_run_names_what_went_out_of_range() {
        let (max_days, rows) = adult_outcomes(50);
        let mut normal = aggregate(&rows, max_days);
        assert_eq!(normal.out_of_range(), None);
        let with = |s: usize, cost: f64, qaly: f64| {
            let mut row = rows[0].clone();
            row[s].accounts.cost = cost;
            row[s].accounts.cost_disc = cost;
            row[s].accounts.qaly_disc = qaly;
            aggregate(&[row], max_days)
        };
        let named = |strategy, quantity, limit| {
            Some(OutOfRange {
                strategy,
                quantity,
                limit,
            })
        };
        let paired = with(2, 1e12, 1.0);
        assert_eq!(
            paired.out_of_range(),
            named(None, "discounted costs", PAIR_LIMIT)
        );
        assert_eq!(
            with(1, 1e14, 1.0).out_of_range(),
            named(Some(1), "costs", EXACT_LIMIT)
        );
        assert_eq!(
            with(3, 1e5, f64::NAN).out_of_range(),
            named(Some(3), "discounted QALYs", EXACT_LIMIT)
        );
        normal = normal.merge(paired);
        assert_eq!(
            normal.out_of_range(),
            named(None, "discounted costs", PAIR_LIMIT)
        );
    }

    fn aggregate(rows: &[Vec<Outcome>], max_days: f64) -> RunAgg {
        let mut a = RunAgg::new(rows[0].len(), max_days);
        rows.iter().for_each(|r| a.add_patient(r));
        a
    }

    /// A counter of [`StrategyAgg`]: its name, its value, and what one outcome adds to it.
    type Counter = (&'static str, fn(&StrategyAgg) -> u64, fn(&Outcome) -> u64);

    /// Every counter but the deaths by cause (see [`counters`]).
    const COUNTERS: [Counter; 19] = [
        ("patients", |a| a.patients, |_| 1),
        (
            "first_response",
            |a| a.first_response,
            |o| o.first_response.into(),
        ),
        (
            "first_mrd_negative",
            |a| a.first_mrd_negative,
            |o| o.first_mrd_negative.into(),
        ),
        (
            "car_t_intended",
            |a| a.car_t_intended,
            |o| o.car_t_intended.into(),
        ),
        (
            "car_t_infused",
            |a| a.car_t_infused,
            |o| o.car_t_infused.into(),
        ),
        (
            "manufacturing_failed",
            |a| a.manufacturing_failed,
            |o| o.manufacturing_failed.into(),
        ),
        (
            "died_waiting",
            |a| a.died_waiting,
            |o| o.died_waiting.into(),
        ),
        (
            "transplanted",
            |a| a.transplanted,
            |o| (o.transplants != 0).into(),
        ),
        ("relapsed", |a| a.relapsed, |o| (o.relapses != 0).into()),
        (
            "cd19_negative_relapses",
            |a| a.cd19_negative_relapses,
            |o| (o.relapses != 0 && o.first_relapse_cd19_negative).into(),
        ),
        (
            "crs_grade3plus",
            |a| a.crs_grade3plus,
            |o| o.crs_grade3plus.into(),
        ),
        (
            "icans_grade3plus",
            |a| a.icans_grade3plus,
            |o| o.icans_grade3plus.into(),
        ),
        ("sos", |a| a.sos, |o| o.sos.into()),
        (
            "first_line_crs_grade3plus",
            |a| a.first_line_crs_grade3plus,
            |o| o.first_line_crs_grade3plus.into(),
        ),
        (
            "first_line_icans_grade3plus",
            |a| a.first_line_icans_grade3plus,
            |o| o.first_line_icans_grade3plus.into(),
        ),
        (
            "first_line_sos",
            |a| a.first_line_sos,
            |o| o.first_line_sos.into(),
        ),
        ("acute_gvhd", |a| a.acute_gvhd, |o| o.acute_gvhd.into()),
        (
            "chronic_gvhd",
            |a| a.chronic_gvhd,
            |o| o.chronic_gvhd.into(),
        ),
        ("lines", |a| a.lines, |o| o.lines.into()),
    ];

    /// Every counter of an aggregate, by name: [`COUNTERS`], then the deaths by cause.
    fn counters(a: &StrategyAgg) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = COUNTERS
            .iter()
            .map(|&(name, get, _)| (name.to_string(), get(a)))
            .collect();
        for c in Cause::ALL {
            v.push((format!("deaths[{}]", c.label()), a.deaths[c as usize]));
        }
        v
    }

    #[test]
    fn every_counter_counts_its_outcomes() {
        // Each counter recomputed from the outcomes themselves, and each mean by plain
        // floating-point summation (the exact sums differ from it by rounding only).
        let (max_days, rows) = adult_outcomes(2000);
        let whole = aggregate(&rows, max_days);
        let n = rows.len() as f64;
        for (s, a) in whole.strategies.iter().enumerate() {
            let mut expected: Vec<(String, u64)> = COUNTERS
                .iter()
                .map(|&(name, _, of)| (name.to_string(), rows.iter().map(|r| of(&r[s])).sum()))
                .collect();
            for c in Cause::ALL {
                let dead = rows.iter().filter(|r| r[s].death == Some(c)).count() as u64;
                expected.push((format!("deaths[{}]", c.label()), dead));
            }
            assert_eq!(counters(a), expected, "strategy {s}");
            let mean = |f: &dyn Fn(&Outcome) -> f64| rows.iter().map(|r| f(&r[s])).sum::<f64>() / n;
            let close = |name: &str, got: f64, want: f64| {
                let tol = 1e-9 * want.abs().max(1.0);
                assert!(
                    (got - want).abs() <= tol,
                    "strategy {s} {name}: {got} vs {want}"
                );
            };
            close(
                "life_years",
                a.life_years.mean(),
                mean(&|o| o.end.get() / DAYS_PER_YEAR),
            );
            close("ly_disc", a.ly_disc.mean(), mean(&|o| o.accounts.ly_disc));
            close("qaly", a.qaly.mean(), mean(&|o| o.accounts.qaly));
            close(
                "qaly_disc",
                a.qaly_disc.mean(),
                mean(&|o| o.accounts.qaly_disc),
            );
            close("cost", a.cost.mean(), mean(&|o| o.accounts.cost));
            close(
                "cost_disc",
                a.cost_disc.mean(),
                mean(&|o| o.accounts.cost_disc),
            );
            for (i, c) in a.cost_disc_by_category.iter().enumerate() {
                let want = mean(&|o| o.accounts.cost_disc_by_category[i]);
                close(&format!("cost_disc_by_category[{i}]"), c.mean(), want);
            }
            assert_eq!(a.os.patients(), rows.len() as u64);
            assert_eq!(a.efs.patients(), rows.len() as u64);
        }
    }

    #[test]
    fn the_follow_up_covers_every_trajectory() {
        // A lifetime horizon: the histograms must reach the last death or censoring of any
        // patient, or later events would pile into their last bin. Cure makes long survivors.
        let (max_days, rows) = adult_outcomes(2000);
        let longest = rows
            .iter()
            .flatten()
            .map(|o| o.end.get())
            .fold(0.0, f64::max);
        assert!(
            longest > 20.0 * DAYS_PER_YEAR,
            "a long survivor: {longest} days"
        );
        assert!(
            longest <= max_days,
            "{longest} days beyond the follow-up of {max_days}"
        );
    }

    #[test]
    fn merged_parts_equal_the_whole_in_every_field() {
        // Three uneven parts, aggregated apart and merged in two orders, give the aggregate of
        // the whole, field for field (the sums are exact). A counter that is zero in the parts
        // merged in cannot show a wrong merge, so the test first checks that none is (deaths
        // are merged by one loop over the causes, and some causes are rare: their sum).
        let (max_days, rows) = adult_outcomes(3000);
        let whole = aggregate(&rows, max_days);
        let p = aggregate(&rows[..700], max_days);
        let q = aggregate(&rows[700..2100], max_days);
        let r = aggregate(&rows[2100..], max_days);
        for part in [&p, &q, &r] {
            let k = part.strategies.len();
            for (i, (name, _)) in counters(&part.strategies[0]).iter().enumerate() {
                let total: u64 = (0..k).map(|s| counters(&part.strategies[s])[i].1).sum();
                let rare_cause = name.starts_with("deaths[");
                assert!(total > 0 || rare_cause, "{name} is zero in a part");
            }
            let deaths: u64 = part.strategies.iter().flat_map(|a| a.deaths).sum();
            assert!(deaths > 0);
        }
        assert_eq!(p.clone().merge(q.clone()).merge(r.clone()), whole);
        assert_eq!(r.merge(p).merge(q), whole);
    }
}
