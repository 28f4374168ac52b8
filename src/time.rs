//! Simulation time: days since the start of the strategy, as a finite `f64`.
//!
//! Time 0 is the decision point at relapse or refractoriness (MODEL.md §2). A month is
//! [`DAYS_PER_MONTH`] = 30.4375 days and a year [`DAYS_PER_YEAR`] = 365.25 days, so twelve months
//! are exactly one year.

use std::fmt;
use std::ops::Add;

/// Days in a year (Julian year, the convention of survival analysis).
pub const DAYS_PER_YEAR: f64 = 365.25;
/// Days in a month: a twelfth of [`DAYS_PER_YEAR`].
pub const DAYS_PER_MONTH: f64 = DAYS_PER_YEAR / 12.0;

/// A point in simulated time or a duration, in days.
///
/// Always finite: the constructor rejects NaN and infinities, so `Ord` (via `f64::total_cmp`)
/// is a true total order and the event queue never meets an unordered time. "Never" (a cured
/// patient's relapse time) is `Option::<Days>::None`, not infinity.
#[derive(Debug, Clone, Copy, Default)]
pub struct Days(f64);

impl Days {
    /// Time zero: the start of the strategy.
    pub const ZERO: Days = Days(0.0);

    /// A finite time in days; `None` for NaN or ±infinity.
    #[inline]
    pub fn new(days: f64) -> Option<Days> {
        days.is_finite().then_some(Days(days))
    }

    /// The value in days.
    #[inline]
    pub fn get(self) -> f64 {
        self.0
    }

    /// The value in months of [`DAYS_PER_MONTH`] days.
    #[inline]
    pub fn months(self) -> f64 {
        self.0 / DAYS_PER_MONTH
    }

    /// The value in years of [`DAYS_PER_YEAR`] days.
    #[inline]
    pub fn years(self) -> f64 {
        self.0 / DAYS_PER_YEAR
    }
}

impl PartialEq for Days {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Days {}

impl PartialOrd for Days {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Days {
    #[inline]
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl Add for Days {
    type Output = Days;

    /// # Panics
    /// If the sum overflows to infinity, which needs times beyond 1e308 days: a broken invariant.
    #[inline]
    fn add(self, rhs: Days) -> Days {
        let sum = self.0 + rhs.0;
        debug_assert!(sum.is_finite(), "time overflow: {} + {}", self.0, rhs.0);
        Days(sum)
    }
}

impl fmt::Display for Days {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_finite() {
        assert!(Days::new(f64::NAN).is_none());
        assert!(Days::new(f64::INFINITY).is_none());
        assert!(Days::new(f64::NEG_INFINITY).is_none());
        assert_eq!(Days::new(3.5).map(Days::get), Some(3.5));
    }

    #[test]
    fn total_order_and_units() {
        let a = Days::new(-0.0).unwrap();
        let b = Days::new(0.0).unwrap();
        assert!(a < b, "total_cmp orders -0 before +0");
        assert_eq!(Days::new(DAYS_PER_YEAR).unwrap().months(), 12.0);
        assert_eq!(Days::new(DAYS_PER_YEAR).unwrap().years(), 1.0);
        assert_eq!(Days::new(3.0 * DAYS_PER_YEAR).unwrap().years(), 3.0);
        assert_eq!(Days::ZERO.years(), 0.0);
    }
}
