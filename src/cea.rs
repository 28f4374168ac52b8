//! Incremental cost-effectiveness analysis: the efficiency frontier, dominance, extended
//! dominance, ICERs and net monetary benefit.
//!
//! The procedure (Drummond et al., *Methods for the Economic Evaluation of Health Care
//! Programmes*; as in R's dampack `calculate_icers`):
//!
//! 1. Order strategies by cost (ties: more QALYs first).
//! 2. A strategy is **dominated** if another costs no more and yields no fewer QALYs, and is
//!    better on at least one; an exact duplicate of a cheaper-listed strategy is dominated too
//!    (it adds nothing).
//! 3. Among the rest, a strategy is **extendedly dominated** if its ICER against the previous
//!    strategy exceeds the next strategy's ICER against it: a mix of its neighbours would do
//!    better. Remove it and repeat until the ICERs rise along the frontier.
//! 4. The cheapest remaining strategy is the **reference**; each other **frontier** strategy gets
//!    its ICER against the previous frontier strategy.

/// Where a strategy stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The cheapest strategy on the frontier.
    Reference,
    /// On the efficiency frontier.
    Frontier,
    /// Strongly (or weakly) dominated.
    Dominated,
    /// Extendedly dominated.
    ExtendedlyDominated,
}

impl Status {
    /// The label in `incremental.csv`.
    pub fn label(self) -> &'static str {
        match self {
            Status::Reference => "reference",
            Status::Frontier => "frontier",
            Status::Dominated => "dominated",
            Status::ExtendedlyDominated => "extendedly_dominated",
        }
    }
}

/// The analysis of one strategy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    /// Index of the strategy in the input.
    pub index: usize,
    /// Mean cost.
    pub cost: f64,
    /// Mean QALYs.
    pub qaly: f64,
    /// Status.
    pub status: Status,
    /// ICER against the previous frontier strategy (frontier strategies only).
    pub icer: Option<f64>,
}

impl Row {
    /// Net monetary benefit at willingness to pay `wtp` per QALY: `wtp × QALY − cost`.
    pub fn nmb(&self, wtp: f64) -> f64 {
        wtp * self.qaly - self.cost
    }
}

/// Analyses strategies given as (cost, QALYs); returns them ordered by cost.
pub fn analyse(points: &[(f64, f64)]) -> Vec<Row> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| {
        let (ca, qa) = points[a];
        let (cb, qb) = points[b];
        ca.total_cmp(&cb).then(qb.total_cmp(&qa)).then(a.cmp(&b))
    });
    let mut rows: Vec<Row> = order
        .iter()
        .map(|&i| Row {
            index: i,
            cost: points[i].0,
            qaly: points[i].1,
            status: Status::Frontier,
            icer: None,
        })
        .collect();
    // Dominance, against every strategy listed before (cheaper, or as cheap with more QALYs,
    // or an exact duplicate) and every other strategy at all.
    for i in 0..rows.len() {
        let (ci, qi) = (rows[i].cost, rows[i].qaly);
        let dominated = rows.iter().enumerate().any(|(j, r)| {
            j != i && r.cost <= ci && r.qaly >= qi && (r.cost < ci || r.qaly > qi || j < i)
        });
        if dominated {
            rows[i].status = Status::Dominated;
        }
    }
    // Extended dominance: drop the first strategy whose ICER exceeds the next one's, repeat.
    loop {
        let frontier: Vec<usize> = (0..rows.len())
            .filter(|&i| rows[i].status == Status::Frontier)
            .collect();
        let icer = |rows: &[Row], a: usize, b: usize| {
            (rows[b].cost - rows[a].cost) / (rows[b].qaly - rows[a].qaly)
        };
        let bad = (1..frontier.len().saturating_sub(1)).find(|&k| {
            icer(&rows, frontier[k - 1], frontier[k]) > icer(&rows, frontier[k], frontier[k + 1])
        });
        match bad {
            Some(k) => rows[frontier[k]].status = Status::ExtendedlyDominated,
            None => {
                for (k, &i) in frontier.iter().enumerate() {
                    if k == 0 {
                        rows[i].status = Status::Reference;
                    } else {
                        rows[i].icer = Some(icer(&rows, frontier[k - 1], i));
                    }
                }
                return rows;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worked example: five strategies, one strongly and one extendedly dominated.
    ///
    /// ```text
    ///      cost       QALY
    /// A  10,000.00   1.00   cheapest: reference
    /// B  15,000.00   0.90   costs more than A for fewer QALYs: dominated
    /// C  20,000.00   1.50   vs A: 10,000.00 / 0.50 = 20,000.00 per QALY
    /// D  32,000.00   1.70   vs C: 12,000.00 / 0.20 = 60,000.00, but E vs D is
    ///                       8,123.45 / 0.33 = 24,616.52 < 60,000: extendedly dominated
    /// E  40,123.45   2.03   vs C: 20,123.45 / 0.53 = 37,968.77 per QALY
    /// ```
    #[test]
    fn worked_five_strategy_example() {
        // Input order scrambled: the output is ordered by cost.
        let pts = [
            (32_000.0, 1.70),
            (10_000.0, 1.00),
            (40_123.45, 2.03),
            (15_000.0, 0.90),
            (20_000.0, 1.50),
        ];
        let rows = analyse(&pts);
        let got: Vec<(usize, Status)> = rows.iter().map(|r| (r.index, r.status)).collect();
        assert_eq!(
            got,
            [
                (1, Status::Reference),
                (3, Status::Dominated),
                (4, Status::Frontier),
                (0, Status::ExtendedlyDominated),
                (2, Status::Frontier),
            ]
        );
        let cents = |x: Option<f64>| x.map(|v| (v * 100.0).round() / 100.0);
        assert_eq!(cents(rows[0].icer), None);
        assert_eq!(cents(rows[1].icer), None);
        assert_eq!(cents(rows[2].icer), Some(20_000.00));
        assert_eq!(cents(rows[3].icer), None);
        assert_eq!(cents(rows[4].icer), Some(37_968.77));
    }

    #[test]
    fn nmb_is_wtp_times_qaly_minus_cost() {
        let rows = analyse(&[(10_000.0, 1.0), (50_000.0, 1.5)]);
        for r in &rows {
            for w in [0.0, 50_000.0, 100_000.0, 150_000.0] {
                assert_eq!(r.nmb(w), w * r.qaly - r.cost);
            }
        }
        assert_eq!(rows[1].nmb(100_000.0), 100_000.0);
    }

    #[test]
    fn duplicates_and_ties() {
        // Two identical strategies: the second adds nothing.
        let rows = analyse(&[(100.0, 1.0), (100.0, 1.0), (200.0, 2.0)]);
        assert_eq!(rows[0].status, Status::Reference);
        assert_eq!(rows[1].status, Status::Dominated);
        assert_eq!(rows[2].icer, Some(100.0));
        // Same cost, fewer QALYs: dominated.
        let rows = analyse(&[(100.0, 1.0), (100.0, 2.0)]);
        assert_eq!((rows[0].index, rows[0].status), (1, Status::Reference));
        assert_eq!(rows[1].status, Status::Dominated);
        // A single strategy is the reference.
        assert_eq!(analyse(&[(5.0, 1.0)])[0].status, Status::Reference);
    }

    #[test]
    fn repeated_extended_dominance() {
        // B and C both lie below the A-D line; removing C exposes B.
        let rows = analyse(&[(0.0, 0.0), (10.0, 0.45), (20.0, 0.8), (30.0, 1.5)]);
        let s: Vec<Status> = rows.iter().map(|r| r.status).collect();
        assert_eq!(
            s,
            [
                Status::Reference,
                Status::ExtendedlyDominated,
                Status::ExtendedlyDominated,
                Status::Frontier
            ]
        );
        assert_eq!(rows[3].icer, Some(20.0));
    }

    #[test]
    fn equal_icers_keep_the_middle_strategy_on_the_frontier() {
        // Collinear: B vs A and C vs B both cost 10 per QALY. B is not extendedly dominated
        // (its ICER does not exceed the next one's), and C's ICER is against B. Kills `>` ->
        // `>=` in the extended-dominance test.
        let rows = analyse(&[(0.0, 0.0), (10.0, 1.0), (20.0, 2.0)]);
        let s: Vec<Status> = rows.iter().map(|r| r.status).collect();
        assert_eq!(s, [Status::Reference, Status::Frontier, Status::Frontier]);
        assert_eq!(rows[1].icer, Some(10.0));
        assert_eq!(rows[2].icer, Some(10.0));
    }

    #[test]
    fn negative_zero_cost_is_the_same_cost() {
        // -0.0 sorts before 0.0 (total_cmp) but is the same cost: the strategy at -0.0 with
        // fewer QALYs is dominated by the one at 0.0, although it is listed first. Kills the
        // mutants of the strictness clause that would only look at later-listed strategies'
        // costs (`||` -> `&&`, `r.qaly > qi` -> `r.qaly < qi`).
        let rows = analyse(&[(0.0, 2.0), (-0.0, 1.0)]);
        let got: Vec<(usize, Status)> = rows.iter().map(|r| (r.index, r.status)).collect();
        assert_eq!(got, [(1, Status::Dominated), (0, Status::Reference)]);
        assert_eq!(rows[1].icer, None);
    }
}
