//! Decision analysis of PSA draws: the cost-effectiveness acceptability curve (CEAC) and frontier,
//! and the expected value of perfect information (EVPI).
//!
//! With `NMB_s(d) = w × QALY_s(d) − cost_s(d)` for strategy `s` in draw `d` at willingness to pay
//! `w`:
//!
//! * the CEAC of `s` at `w` is the share of draws in which `s` has the highest NMB (ties go to
//!   the first strategy in scenario order, so the shares sum to one);
//! * the acceptability frontier at `w` is the strategy with the highest expected NMB (the one a
//!   decision maker picks without further information);
//! * the per-person EVPI at `w` is `E_d[max_s NMB_s(d)] − max_s E_d[NMB_s(d)]`, never negative,
//!   and zero when the same strategy wins every draw.

/// Per-draw results: `cost[d][s]` and `qaly[d][s]` (discounted means of draw `d`).
#[derive(Debug, Clone, Copy)]
pub struct Draws<'a> {
    /// Mean discounted cost by draw and strategy.
    pub cost: &'a [Vec<f64>],
    /// Mean discounted QALYs by draw and strategy.
    pub qaly: &'a [Vec<f64>],
}

/// The analysis at one willingness to pay.
#[derive(Debug, Clone, PartialEq)]
pub struct AtWtp {
    /// The threshold.
    pub wtp: u64,
    /// Share of draws in which each strategy has the highest NMB.
    pub probability: Vec<f64>,
    /// The strategy with the highest expected NMB.
    pub frontier: usize,
    /// Per-person EVPI.
    pub evpi: f64,
}

/// Index of the largest value, the first one on ties.
fn argmax(values: impl Iterator<Item = f64>) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (i, v) in values.enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}

/// Analyses the draws at each threshold of `grid`.
///
/// # Panics
/// If there are no draws or strategies (the callers never pass empty results).
pub fn analyse(draws: Draws<'_>, grid: &[u64]) -> Vec<AtWtp> {
    let n = draws.cost.len();
    let k = draws.cost[0].len();
    assert!(n > 0 && k > 0, "no draws to analyse");
    grid.iter()
        .map(|&w| {
            let wf = w as f64;
            let mut wins = vec![0u64; k];
            let mut sum_nmb = vec![0.0; k];
            let mut sum_max = 0.0;
            for d in 0..n {
                let nmb = |s: usize| wf * draws.qaly[d][s] - draws.cost[d][s];
                let best = argmax((0..k).map(nmb));
                wins[best] += 1;
                sum_max += nmb(best);
                for (s, acc) in sum_nmb.iter_mut().enumerate() {
                    *acc += nmb(s);
                }
            }
            let frontier = argmax(sum_nmb.iter().copied());
            // E[max] - max E, each a mean over the draws; clamp the rounding of equal means.
            let evpi = (sum_max / n as f64 - sum_nmb[frontier] / n as f64).max(0.0);
            AtWtp {
                wtp: w,
                probability: wins.iter().map(|&c| c as f64 / n as f64).collect(),
                frontier,
                evpi,
            }
        })
        .collect()
}

/// Empirical quantile `p` of `values` (sorted in place), nearest rank. Also used by the
/// benches (`benches/floor.rs`) for the quartiles of their timings.
pub fn quantile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() - 1) as f64 * p).round() as usize]
}

/// The printed PSA summary: for each strategy the mean discounted cost and QALYs over the
/// draws with their 2.5th-97.5th percentiles, and the probability of being cost-effective at
/// each threshold of `wtps`.
pub fn summary_table(
    strategies: &[String],
    draws: Draws<'_>,
    wtps: &[u64],
    currency: &str,
) -> Vec<Vec<String>> {
    let at = analyse(draws, wtps);
    let mut header = vec![
        "strategy".to_string(),
        format!("cost ({currency}) mean [95% interval]"),
        "QALYs mean [95% interval]".to_string(),
    ];
    header.extend(wtps.iter().map(|w| format!("P(CE) at {w}")));
    let mut lines = vec![header];
    let n = draws.cost.len() as f64;
    for (s, name) in strategies.iter().enumerate() {
        let mut cost: Vec<f64> = draws.cost.iter().map(|d| d[s]).collect();
        let mut qaly: Vec<f64> = draws.qaly.iter().map(|d| d[s]).collect();
        let (mc, mq) = (cost.iter().sum::<f64>() / n, qaly.iter().sum::<f64>() / n);
        let mut line = vec![
            name.clone(),
            format!(
                "{mc:.0} [{:.0}, {:.0}]",
                quantile(&mut cost, 0.025),
                quantile(&mut cost, 0.975)
            ),
            format!(
                "{mq:.3} [{:.3}, {:.3}]",
                quantile(&mut qaly, 0.025),
                quantile(&mut qaly, 0.975)
            ),
        ];
        line.extend(at.iter().map(|a| format!("{:.3}", a.probability[s])));
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceac_sums_to_one_and_evpi_is_never_negative() {
        // Three strategies whose ranking changes from draw to draw.
        let cost: Vec<Vec<f64>> = (0..200)
            .map(|d| {
                let x = (d as f64 * 0.37).sin();
                vec![10_000.0, 30_000.0 + 8_000.0 * x, 45_000.0 - 5_000.0 * x]
            })
            .collect();
        let qaly: Vec<Vec<f64>> = (0..200)
            .map(|d| {
                let x = (d as f64 * 0.91).cos();
                vec![1.0, 1.3 + 0.2 * x, 1.5 - 0.3 * x]
            })
            .collect();
        let grid: Vec<u64> = (0..=20).map(|i| i * 10_000).collect();
        let out = analyse(
            Draws {
                cost: &cost,
                qaly: &qaly,
            },
            &grid,
        );
        let mut saw_positive = false;
        for a in &out {
            let total: f64 = a.probability.iter().sum();
            assert!(
                (total - 1.0).abs() < 1e-12,
                "CEAC sums to {total} at {}",
                a.wtp
            );
            assert!(a.evpi >= 0.0);
            saw_positive |= a.evpi > 0.0;
        }
        assert!(
            saw_positive,
            "uncertainty about the best strategy has value somewhere"
        );
        // At WTP 0 the cheapest strategy wins every draw.
        assert_eq!(out[0].probability[0], 1.0);
        assert_eq!(out[0].evpi, 0.0);
    }

    #[test]
    fn summary_gives_means_intervals_and_probabilities() {
        // Strategy 0 costs d and yields 1 QALY; strategy 1 costs 100 and yields 1 + d/1000,
        // d = 0..=100.
        let cost: Vec<Vec<f64>> = (0..=100).map(|d| vec![d as f64, 100.0]).collect();
        let qaly: Vec<Vec<f64>> = (0..=100)
            .map(|d| vec![1.0, 1.0 + d as f64 / 1000.0])
            .collect();
        let names = ["a".to_string(), "b".to_string()];
        let t = summary_table(
            &names,
            Draws {
                cost: &cost,
                qaly: &qaly,
            },
            &[0],
            "USD",
        );
        assert_eq!(t[0][3], "P(CE) at 0");
        // Mean 50, 2.5th and 97.5th percentiles 3 and 98 (nearest rank of 101 values).
        assert_eq!(t[1][1], "50 [3, 98]");
        assert_eq!(t[2][2], "1.050 [1.003, 1.098]");
        // At WTP 0 the cheaper wins: a costs at most 100, and the tie at d = 100 goes to a.
        assert_eq!((t[1][3].as_str(), t[2][3].as_str()), ("1.000", "0.000"));
    }

    #[test]
    fn evpi_is_zero_when_one_strategy_wins_every_draw() {
        // Strategy 1 is cheaper and better in every draw (it dominates).
        let cost: Vec<Vec<f64>> = (0..50)
            .map(|d| vec![20_000.0 + d as f64, 10_000.0])
            .collect();
        let qaly: Vec<Vec<f64>> = (0..50).map(|d| vec![1.0, 2.0 + 0.01 * d as f64]).collect();
        for a in analyse(
            Draws {
                cost: &cost,
                qaly: &qaly,
            },
            &[0, 50_000, 1_000_000],
        ) {
            assert_eq!(a.probability, vec![0.0, 1.0]);
            assert_eq!(a.frontier, 1);
            assert_eq!(a.evpi, 0.0);
        }
    }

    #[test]
    fn evpi_by_hand() {
        // Two draws, two strategies, WTP 0 (NMB = -cost): draw 1 costs (1, 3), draw 2 (4, 2).
        // E[max NMB] = (-1 + -2)/2 = -1.5; max E[NMB] = max(-2.5, -2.5) = -2.5; EVPI = 1.
        let cost = vec![vec![1.0, 3.0], vec![4.0, 2.0]];
        let qaly = vec![vec![0.0, 0.0], vec![0.0, 0.0]];
        let a = &analyse(
            Draws {
                cost: &cost,
                qaly: &qaly,
            },
            &[0],
        )[0];
        assert_eq!(a.evpi, 1.0);
        assert_eq!(a.probability, vec![0.5, 0.5]);
        assert_eq!(a.frontier, 0, "a tie goes to the first strategy");
    }
}
