//! Per-patient accounts: life-years, QALYs and costs, discounted continuously and exactly.
//!
//! Utilities and daily costs are constant within a health state, so each stretch of time is
//! integrated in closed form: a rate `x` over `[a, b]` years is worth
//! `x (e^{-ρa} - e^{-ρb}) / ρ` discounted and `x (b - a)` undiscounted. One-off costs are
//! discounted at their event time, `c e^{-ρt}`. `ρ = ln(1 + r)` for the scenario's annual rate
//! `r` ([`Economics::continuous`]).
//!
//! The health state changes at events (a line starts, a response, a transplant, supportive
//! care). Within remission the state also changes with time alone (first year after HCT, then
//! remission, then long-term survivor after `long_term_after_years`); those boundaries are
//! applied arithmetically, without events. Toxicity episodes subtract their disutility over
//! their duration; an episode cut short by death or the horizon is credited back.

use crate::model::{COST_CATEGORIES, Cost, Economics, Health};
use crate::time::DAYS_PER_YEAR;

/// What a patient's trajectory is worth; all zero for a clinical-only scenario.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Accounts {
    /// Discounted life-years.
    pub ly_disc: f64,
    /// Undiscounted QALYs.
    pub qaly: f64,
    /// Discounted QALYs.
    pub qaly_disc: f64,
    /// Undiscounted cost.
    pub cost: f64,
    /// Discounted cost.
    pub cost_disc: f64,
    /// Discounted cost by category ([`COST_CATEGORIES`]).
    pub cost_disc_by_category: Cost,
}

/// ∫ₐᵇ e^{-ρt} dt for times in years; `b - a` when ρ = 0.
#[inline]
pub fn discounted_duration(rho: f64, a: f64, b: f64) -> f64 {
    if rho == 0.0 {
        b - a
    } else {
        // e^{-ρa} (1 - e^{-ρ(b-a)}) / ρ, with expm1 for short stretches.
        (-rho * a).exp() * -(-rho * (b - a)).exp_m1() / rho
    }
}

/// The state of the accounts: a health state anchored at the time its remission (or
/// transplant) began, for the time-driven changes within it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct State {
    health: Health,
    /// Start of the remission or transplant [days] (ignored for other states).
    anchor: f64,
}

/// Maximum toxicity episodes tracked at once for truncation at death (more are counted in
/// full: a patient does not have 8 overlapping episodes in any realistic scenario).
const EPISODES: usize = 8;

/// Running accounts of one patient.
#[derive(Debug, Clone)]
pub struct Ledger<'a> {
    e: &'a Economics,
    rho_c: f64,
    rho_e: f64,
    state: State,
    /// Integrated up to here [days].
    since: f64,
    acc: Accounts,
    /// Open episodes: (end [days], disutility).
    episodes: [(f64, f64); EPISODES],
    open: usize,
}

impl<'a> Ledger<'a> {
    /// Empty accounts at time 0, on treatment.
    pub fn new(e: &'a Economics) -> Ledger<'a> {
        Ledger {
            e,
            rho_c: Economics::continuous(e.discount_costs),
            rho_e: Economics::continuous(e.discount_effects),
            state: State {
                health: Health::OnTreatment,
                anchor: 0.0,
            },
            since: 0.0,
            acc: Accounts::default(),
            episodes: [(0.0, 0.0); EPISODES],
            open: 0,
        }
    }

    /// The stretches of the current state from its anchor: (from [days], to [days], health).
    fn pieces(&self) -> [(f64, f64, Health); 3] {
        let a = self.state.anchor;
        let lt = a + self.e.long_term_after_days;
        match self.state.health {
            Health::Remission | Health::LongTerm => [
                (f64::NEG_INFINITY, lt, Health::Remission),
                (lt, f64::INFINITY, Health::LongTerm),
                (f64::INFINITY, f64::INFINITY, Health::LongTerm),
            ],
            Health::PostHctFirstYear => {
                let y1 = a + DAYS_PER_YEAR;
                [
                    (f64::NEG_INFINITY, y1, Health::PostHctFirstYear),
                    (y1, lt.max(y1), Health::Remission),
                    (lt.max(y1), f64::INFINITY, Health::LongTerm),
                ]
            }
            h => [
                (f64::NEG_INFINITY, f64::INFINITY, h),
                (f64::INFINITY, f64::INFINITY, h),
                (f64::INFINITY, f64::INFINITY, h),
            ],
        }
    }

    /// Integrates the current state from `since` to `to` [days].
    fn advance(&mut self, to: f64) {
        if to <= self.since {
            return;
        }
        for (lo, hi, h) in self.pieces() {
            let a = lo.max(self.since);
            let b = hi.min(to);
            if b <= a {
                continue;
            }
            let (ay, by) = (a / DAYS_PER_YEAR, b / DAYS_PER_YEAR);
            let u = self.e.utilities[h as usize];
            let de = discounted_duration(self.rho_e, ay, by);
            self.acc.ly_disc += de;
            self.acc.qaly += u * (by - ay);
            self.acc.qaly_disc += u * de;
            let daily = &self.e.daily_costs[h as usize];
            let dc = discounted_duration(self.rho_c, ay, by) * DAYS_PER_YEAR;
            let days = b - a;
            for (k, &c) in daily.iter().enumerate() {
                if c != 0.0 {
                    self.acc.cost += c * days;
                    self.acc.cost_disc += c * dc;
                    self.acc.cost_disc_by_category[k] += c * dc;
                }
            }
        }
        self.since = to;
    }

    /// The patient enters `health` at `t` [days]; remission and post-transplant states are
    /// anchored at `t`.
    pub fn enter(&mut self, t: f64, health: Health) {
        self.advance(t);
        self.state = State { health, anchor: t };
    }

    /// A one-off cost at `t` [days].
    pub fn charge(&mut self, t: f64, cost: &Cost) {
        let w = (-self.rho_c * t / DAYS_PER_YEAR).exp();
        for (k, &c) in cost.iter().enumerate() {
            if c != 0.0 {
                self.acc.cost += c;
                self.acc.cost_disc += c * w;
                self.acc.cost_disc_by_category[k] += c * w;
            }
        }
    }

    /// A utility decrement `d` from `t` for `days` days.
    pub fn episode(&mut self, t: f64, days: f64, d: f64) {
        if d == 0.0 || days <= 0.0 {
            return;
        }
        let (ay, by) = (t / DAYS_PER_YEAR, (t + days) / DAYS_PER_YEAR);
        self.acc.qaly -= d * (by - ay);
        self.acc.qaly_disc -= d * discounted_duration(self.rho_e, ay, by);
        if self.open < EPISODES {
            self.episodes[self.open] = (t + days, d);
            self.open += 1;
        }
    }

    /// Closes the accounts at death or censoring at `end` [days].
    pub fn close(mut self, end: f64) -> Accounts {
        self.advance(end);
        // Episodes still running at the end did not happen beyond it.
        for &(stop, d) in &self.episodes[..self.open] {
            if stop > end {
                let (ay, by) = (end / DAYS_PER_YEAR, stop / DAYS_PER_YEAR);
                self.acc.qaly += d * (by - ay);
                self.acc.qaly_disc += d * discounted_duration(self.rho_e, ay, by);
            }
        }
        self.acc
    }
}

/// Names of the per-category cost columns.
pub fn category_columns() -> impl Iterator<Item = String> {
    COST_CATEGORIES.iter().map(|c| format!("cost_{c}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn econ(utilities: [f64; 5], long_term_years: f64) -> Economics {
        Economics {
            currency: "USD".into(),
            price_year: 2024,
            discount_costs: 0.03,
            discount_effects: 0.03,
            wtp: vec![100_000],
            utilities,
            long_term_after_days: long_term_years * DAYS_PER_YEAR,
            daily_costs: [[0.0; 7]; 5],
            toxicity_costs: [[[0.0; 7]; 2]; 5],
            toxicity_disutilities: [[0.0; 2]; 5],
            gvhd_disutility: [0.0; 2],
            terminal_care: [0.0; 7],
        }
    }

    #[test]
    fn discounted_duration_closed_form() {
        let r = 0.03f64.ln_1p();
        assert!((discounted_duration(r, 0.0, 1.0) - (1.0 - 1.0 / 1.03) / r).abs() < 1e-14);
        assert_eq!(discounted_duration(0.0, 2.0, 5.0), 3.0);
        // Additive over adjacent stretches.
        let whole = discounted_duration(r, 1.0, 9.0);
        let parts = discounted_duration(r, 1.0, 4.0) + discounted_duration(r, 4.0, 9.0);
        assert!((whole - parts).abs() < 1e-13);
    }

    #[test]
    fn remission_turns_long_term_without_events() {
        let e = econ([0.5, 0.8, 0.4, 0.9, 0.3], 2.0);
        let mut l = Ledger::new(&e);
        l.enter(0.0, Health::Remission);
        let acc = l.close(3.0 * DAYS_PER_YEAR);
        // 2 years at 0.8, then 1 year at 0.9.
        assert!((acc.qaly - (2.0 * 0.8 + 0.9)).abs() < 1e-12);
    }

    #[test]
    fn post_hct_year_then_remission_then_long_term() {
        let e = econ([0.5, 0.8, 0.4, 0.9, 0.3], 3.0);
        let mut l = Ledger::new(&e);
        l.enter(DAYS_PER_YEAR, Health::PostHctFirstYear);
        let acc = l.close(6.0 * DAYS_PER_YEAR);
        // 1 y on treatment (0.5), 1 y post-HCT (0.4), 2 y remission (0.8), 2 y long-term (0.9).
        assert!((acc.qaly - (0.5 + 0.4 + 1.6 + 1.8)).abs() < 1e-12);
    }

    #[test]
    fn one_off_costs_discount_at_event_time() {
        let e = econ([0.0; 5], 2.0);
        let mut l = Ledger::new(&e);
        let mut c = [0.0; 7];
        c[0] = 1030.0;
        l.charge(DAYS_PER_YEAR, &c);
        let acc = l.close(2.0 * DAYS_PER_YEAR);
        assert_eq!(acc.cost, 1030.0);
        assert!((acc.cost_disc - 1000.0).abs() < 1e-9, "one year at 3%");
        assert_eq!(acc.cost_disc_by_category[0], acc.cost_disc);
    }

    #[test]
    fn episodes_are_cut_at_death() {
        let e = econ([1.0; 5], 2.0);
        let mut l = Ledger::new(&e);
        l.episode(0.0, 100.0, 0.5);
        let acc = l.close(40.0);
        // 40 days at 1.0 minus 40 days at 0.5 (not 100).
        assert!((acc.qaly - 20.0 / DAYS_PER_YEAR).abs() < 1e-12);
    }
}
