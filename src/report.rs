//! From aggregates to the tables users read: `summary.csv`, `survival.csv` and the printed
//! summary. One place defines each column, its name and its formatting.

use crate::cea::{self, Status};
use crate::econ::category_columns;
use crate::engine::Cause;
use crate::model::Model;
use crate::summary::{ExactSum, RunAgg, StrategyAgg};
use crate::time::DAYS_PER_MONTH;

/// A cell: a number with fixed decimals, a count, or empty (not applicable / not reached).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// A real number, printed with this many decimals.
    Num(f64, usize),
    /// A count.
    Int(u64),
    /// Text.
    Text(String),
    /// Nothing (median not reached, landmark beyond the horizon, rate with no denominator).
    Empty,
}

impl Cell {
    /// The CSV form.
    pub fn csv(&self) -> String {
        let mut s = String::new();
        self.write_to(&mut s);
        s
    }

    /// Appends the CSV form to `out`.
    fn write_to(&self, out: &mut String) {
        use std::fmt::Write as _;
        // Writing to a `String` cannot fail.
        let _ = match self {
            Cell::Num(x, d) => write!(out, "{x:.d$}"),
            Cell::Int(n) => write!(out, "{n}"),
            Cell::Text(s) => {
                out.push_str(s);
                Ok(())
            }
            Cell::Empty => Ok(()),
        };
    }
}

fn ratio(num: u64, den: u64) -> Cell {
    if den == 0 {
        Cell::Empty
    } else {
        Cell::Num(num as f64 / den as f64, 6)
    }
}

fn opt(x: Option<f64>, decimals: usize) -> Cell {
    x.map_or(Cell::Empty, |v| Cell::Num(v, decimals))
}

/// The columns of `summary.csv`, in order.
pub fn summary_header() -> Vec<String> {
    let mut h: Vec<String> = [
        "strategy",
        "patients",
        "median_os_months",
        "os_12m",
        "os_24m",
        "os_60m",
        "median_efs_months",
        "efs_12m",
        "mean_cost",
        "mean_qaly",
        "mean_ly",
        "se_cost",
        "se_qaly",
        "se_ly",
        "mean_cost_undiscounted",
        "mean_qaly_undiscounted",
        "mean_ly_undiscounted",
        "first_line_response_rate",
        "mrd_negative_rate",
        "car_t_intended",
        "car_t_infused_fraction",
        "manufacturing_failure_rate",
        "died_waiting_rate",
        "crs_grade3plus_rate",
        "icans_grade3plus_rate",
        "sos_rate",
        "toxic_death_rate",
        "hct_rate",
        "acute_gvhd_rate",
        "chronic_gvhd_rate",
        "relapse_rate",
        "cd19_negative_relapse_fraction",
        "mean_lines",
    ]
    .map(String::from)
    .to_vec();
    h.extend(Cause::ALL.iter().map(|c| format!("deaths_{}", c.label())));
    h.extend(category_columns());
    h
}

fn mean(value: f64, economics: bool, decimals: usize) -> Cell {
    if economics {
        Cell::Num(value, decimals)
    } else {
        Cell::Empty
    }
}

fn se(s: &ExactSum, economics: bool, decimals: usize) -> Cell {
    if economics {
        Cell::Num(s.std_error(), decimals)
    } else {
        Cell::Empty
    }
}

/// One row of `summary.csv`; the cost and QALY columns (and discounted life-years) are empty
/// for a scenario without `[economics]`.
pub fn summary_row(name: &str, a: &StrategyAgg, economics: bool) -> Vec<Cell> {
    let n = a.patients;
    let toxic_deaths: u64 = Cause::ALL
        .iter()
        .filter(|c| c.is_toxic())
        .map(|&c| a.deaths[c as usize])
        .sum();
    let mut row = vec![
        Cell::Text(name.to_string()),
        Cell::Int(n),
        opt(a.os.median_days().map(|d| d / DAYS_PER_MONTH), 2),
        opt(a.os.at_month(12), 6),
        opt(a.os.at_month(24), 6),
        opt(a.os.at_month(60), 6),
        opt(a.efs.median_days().map(|d| d / DAYS_PER_MONTH), 2),
        opt(a.efs.at_month(12), 6),
        mean(a.cost_disc.mean(), economics, 2),
        mean(a.qaly_disc.mean(), economics, 6),
        mean(a.ly_disc.mean(), economics, 6),
        se(&a.cost_disc, economics, 2),
        se(&a.qaly_disc, economics, 6),
        se(&a.ly_disc, economics, 6),
        mean(a.cost.mean(), economics, 2),
        mean(a.qaly.mean(), economics, 6),
        Cell::Num(a.life_years.mean(), 6),
        ratio(a.first_response, n),
        // MRD-negativity among first-line responders, as trials report it.
        ratio(a.first_mrd_negative, a.first_response),
        Cell::Int(a.car_t_intended),
        ratio(a.car_t_infused, a.car_t_intended),
        ratio(a.manufacturing_failed, a.car_t_intended),
        ratio(a.died_waiting, a.car_t_intended),
        ratio(a.crs_grade3plus, n),
        ratio(a.icans_grade3plus, n),
        ratio(a.sos, n),
        ratio(toxic_deaths, n),
        ratio(a.transplanted, n),
        // GVHD among transplanted patients, as transplant series report it.
        ratio(a.acute_gvhd, a.transplanted),
        ratio(a.chronic_gvhd, a.transplanted),
        ratio(a.relapsed, n),
        // Of the patients who relapsed, the share whose first relapse was CD19-negative.
        ratio(a.cd19_negative_relapses, a.relapsed),
        ratio(a.lines, n),
    ];
    row.extend(a.deaths.iter().map(|&d| Cell::Int(d)));
    row.extend(
        a.cost_disc_by_category
            .iter()
            .map(|c| mean(c.mean(), economics, 2)),
    );
    row
}

/// All rows of `summary.csv`.
pub fn summary_rows(model: &Model, agg: &RunAgg) -> Vec<Vec<Cell>> {
    model
        .strategies
        .iter()
        .zip(&agg.strategies)
        .map(|(s, a)| summary_row(&s.name, a, model.economics.is_some()))
        .collect()
}

/// The columns of `incremental.csv` for the scenario's WTP thresholds.
pub fn incremental_header(wtp: &[u64]) -> Vec<String> {
    let mut h: Vec<String> = ["strategy", "cost", "qaly", "status", "icer"]
        .map(String::from)
        .to_vec();
    h.extend(wtp.iter().map(|w| format!("nmb_{w}")));
    h.extend(
        [
            "incremental_cost",
            "incremental_qaly",
            "se_incremental_cost",
            "se_incremental_qaly",
            "crn_se_ratio_cost",
            "crn_se_ratio_qaly",
        ]
        .map(String::from),
    );
    h
}

/// Rows of `incremental.csv`, ordered by cost: the frontier analysis of discounted costs and
/// QALYs, NMB at each threshold, and increments against the reference strategy with their
/// paired (common-random-number) standard errors and the ratio of each to the standard error of
/// an unpaired comparison of the same size.
pub fn incremental_rows(model: &Model, agg: &RunAgg) -> Vec<Vec<Cell>> {
    let Some(e) = &model.economics else {
        return Vec::new();
    };
    let points: Vec<(f64, f64)> = agg
        .strategies
        .iter()
        .map(|a| (a.cost_disc.mean(), a.qaly_disc.mean()))
        .collect();
    let rows = cea::analyse(&points);
    let reference = rows
        .iter()
        .find(|r| r.status == Status::Reference)
        .expect("one reference strategy")
        .index;
    let r_agg = &agg.strategies[reference];
    rows.iter()
        .map(|r| {
            let s = r.index;
            let a = &agg.strategies[s];
            let mut row = vec![
                Cell::Text(model.strategies[s].name.clone()),
                Cell::Num(r.cost, 2),
                Cell::Num(r.qaly, 6),
                Cell::Text(r.status.label().into()),
                r.icer.map_or(Cell::Empty, |v| Cell::Num(v, 2)),
            ];
            row.extend(e.wtp.iter().map(|&w| Cell::Num(r.nmb(w as f64), 2)));
            let se_cost = agg.paired_cost.se_difference(s, reference);
            let se_qaly = agg.paired_qaly.se_difference(s, reference);
            let unpaired = |x: &ExactSum, y: &ExactSum| x.std_error().hypot(y.std_error());
            let ratio = |paired: f64, unpaired: f64| {
                if s == reference || unpaired == 0.0 {
                    Cell::Empty
                } else {
                    Cell::Num(paired / unpaired, 4)
                }
            };
            row.extend([
                Cell::Num(a.cost_disc.mean() - r_agg.cost_disc.mean(), 2),
                Cell::Num(a.qaly_disc.mean() - r_agg.qaly_disc.mean(), 6),
                Cell::Num(se_cost, 2),
                Cell::Num(se_qaly, 6),
                ratio(se_cost, unpaired(&a.cost_disc, &r_agg.cost_disc)),
                ratio(se_qaly, unpaired(&a.qaly_disc, &r_agg.qaly_disc)),
            ]);
            row
        })
        .collect()
}

/// The printed incremental analysis.
pub fn incremental_table(model: &Model, agg: &RunAgg) -> String {
    let Some(e) = &model.economics else {
        return String::new();
    };
    let header = incremental_header(&e.wtp);
    let rows = incremental_rows(model, agg);
    let col = |name: &str| header.iter().position(|h| h == name).expect("known column");
    let num = |c: &Cell, d: usize| match c {
        Cell::Num(x, _) => format!("{x:.d$}"),
        _ => "-".into(),
    };
    let mut lines = vec![
        [
            "strategy",
            "cost",
            "QALYs",
            "status",
            "ICER",
            "inc cost (SE)",
            "inc QALY (SE)",
            "CRN SE ratio",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for r in &rows {
        lines.push(vec![
            r[0].csv(),
            num(&r[col("cost")], 0),
            num(&r[col("qaly")], 3),
            r[col("status")].csv(),
            num(&r[col("icer")], 0),
            format!(
                "{} ({})",
                num(&r[col("incremental_cost")], 0),
                num(&r[col("se_incremental_cost")], 0)
            ),
            format!(
                "{} ({})",
                num(&r[col("incremental_qaly")], 3),
                num(&r[col("se_incremental_qaly")], 3)
            ),
            format!(
                "{}/{}",
                num(&r[col("crn_se_ratio_cost")], 2),
                num(&r[col("crn_se_ratio_qaly")], 2)
            ),
        ]);
    }
    let mut out = format!(
        "Costs in {} ({} prices), discounted {}%/{}% a year (costs/effects):\n",
        e.currency,
        e.price_year,
        percent(e.discount_costs),
        percent(e.discount_effects)
    );
    out.push_str(&render(&lines));
    out.push_str("(ICER per QALY against the previous frontier strategy; increments against the reference with paired standard errors; CRN SE ratio = paired SE / unpaired SE, cost/QALY)\n");
    out
}

/// An annual rate as a percentage without binary noise: 0.035 is "3.5", not the
/// "3.5000000000000004" of `0.035 * 100.0`. Rates are given to a few decimals; six are kept.
fn percent(rate: f64) -> String {
    let s = format!("{:.6}", rate * 100.0);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Left-aligned first column, right-aligned others, a rule under the header.
pub fn render(lines: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..lines[0].len())
        .map(|c| {
            lines
                .iter()
                .map(|l| l[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate() {
        let cells: Vec<String> = l
            .iter()
            .enumerate()
            .map(|(c, v)| {
                if c == 0 {
                    format!("{v:<w$}", w = widths[c])
                } else {
                    format!("{v:>w$}", w = widths[c])
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
        if i == 0 {
            out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)));
            out.push('\n');
        }
    }
    out
}

/// The columns of `survival.csv`.
pub const SURVIVAL_HEADER: [&str; 4] = ["strategy", "month", "os", "efs"];

/// Rows of `survival.csv`: every strategy, every month of the follow-up.
pub fn survival_rows(model: &Model, agg: &RunAgg) -> Vec<Vec<Cell>> {
    let months = (model.max_follow_up_days() / DAYS_PER_MONTH).floor() as usize;
    let mut rows = Vec::new();
    for (s, a) in model.strategies.iter().zip(&agg.strategies) {
        let os = a.os.monthly(months);
        let efs = a.efs.monthly(months);
        for m in 0..=months {
            rows.push(vec![
                Cell::Text(s.name.clone()),
                Cell::Int(m as u64),
                Cell::Num(os[m], 6),
                Cell::Num(efs[m], 6),
            ]);
        }
    }
    rows
}

/// Renders rows as CSV text.
///
/// # Errors
/// A CSV writer error (never expected for in-memory output).
pub fn to_csv<H: AsRef<str>>(header: &[H], rows: &[Vec<Cell>]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header.iter().map(AsRef::as_ref))?;
    // One buffer for every cell, rather than a string each.
    let mut cell = String::new();
    for r in rows {
        for c in r {
            cell.clear();
            c.write_to(&mut cell);
            w.write_field(&cell)?;
        }
        w.write_record(None::<&[u8]>)?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// How the printed table shows a `summary.csv` column.
#[derive(Clone, Copy)]
enum Show {
    Months,
    Percent,
    Number,
}

/// The printed table's columns: title, `summary.csv` column, format.
const TABLE: [(&str, &str, Show); 12] = [
    ("median OS", "median_os_months", Show::Months),
    ("OS 12m", "os_12m", Show::Percent),
    ("OS 24m", "os_24m", Show::Percent),
    ("OS 60m", "os_60m", Show::Percent),
    ("median EFS", "median_efs_months", Show::Months),
    ("LY undisc", "mean_ly_undiscounted", Show::Number),
    ("1L resp", "first_line_response_rate", Show::Percent),
    ("CAR-T inf", "car_t_infused_fraction", Show::Percent),
    ("HCT", "hct_rate", Show::Percent),
    ("tox death", "toxic_death_rate", Show::Percent),
    ("CD19- rel", "cd19_negative_relapse_fraction", Show::Percent),
    ("lines", "mean_lines", Show::Number),
];

fn show(c: &Cell, how: Show) -> String {
    match (c, how) {
        (Cell::Num(x, _), Show::Months) => format!("{x:.1}"),
        (Cell::Num(x, _), Show::Percent) => format!("{:.1}%", x * 100.0),
        (Cell::Num(x, _), Show::Number) => format!("{x:.2}"),
        (Cell::Empty, Show::Months) => "NR".into(),
        _ => "-".into(),
    }
}

/// The printed summary: one line per strategy, the columns a reader scans first.
pub fn summary_table(model: &Model, agg: &RunAgg) -> String {
    let columns = summary_header();
    let index: Vec<usize> = TABLE
        .iter()
        .map(|(_, col, _)| {
            columns
                .iter()
                .position(|c| c == col)
                .expect("the table shows summary.csv columns")
        })
        .collect();
    let mut lines = vec![
        std::iter::once("strategy".to_string())
            .chain(TABLE.iter().map(|(title, _, _)| title.to_string()))
            .collect::<Vec<_>>(),
    ];
    for (s, a) in model.strategies.iter().zip(&agg.strategies) {
        let row = summary_row(&s.name, a, model.economics.is_some());
        lines.push(
            std::iter::once(s.name.clone())
                .chain(
                    TABLE
                        .iter()
                        .zip(&index)
                        .map(|((_, _, how), &i)| show(&row[i], *how)),
                )
                .collect(),
        );
    }
    let mut out = render(&lines);
    out.push_str("(medians in months, NR = not reached; EFS events = failure of the first therapy given, counted at time 0, relapse and death; LY undiscounted; 1L resp = response to the first therapy given; CAR-T inf = infused among intended; CD19- rel = first relapses that were CD19-negative)\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_print_without_binary_noise() {
        let shown: Vec<String> = [0.035, 0.03, 0.015, 0.0, 0.1, 0.0137]
            .into_iter()
            .map(percent)
            .collect();
        assert_eq!(shown, ["3.5", "3", "1.5", "0", "10", "1.37"]);
    }

    /// The adult scenario's model and a run of 400 patients.
    fn adult_run() -> (Model, RunAgg) {
        let model = crate::scenario::adult_for_tests().model;
        let opts = crate::runner::RunOptions {
            patients: 400,
            seed: 9,
            threads: 1,
            chunk_size: 400,
            progress: None,
        };
        let agg = crate::runner::run(&model, &opts).unwrap();
        (model, agg)
    }

    /// Every rate of `summary.csv` is its count over its denominator, to 6 decimals, and empty
    /// where the denominator is 0 (no test read these cells before).
    #[test]
    fn every_rate_is_its_count_over_its_denominator() {
        let (_, agg) = adult_run();
        let header = summary_header();
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        let mut nonzero = 0;
        for a in &agg.strategies {
            let row = summary_row("s", a, true);
            let toxic: u64 = Cause::ALL
                .iter()
                .filter(|c| c.is_toxic())
                .map(|&c| a.deaths[c as usize])
                .sum();
            let n = a.patients;
            for (name, num, den) in [
                ("first_line_response_rate", a.first_response, n),
                ("mrd_negative_rate", a.first_mrd_negative, a.first_response),
                ("car_t_infused_fraction", a.car_t_infused, a.car_t_intended),
                (
                    "manufacturing_failure_rate",
                    a.manufacturing_failed,
                    a.car_t_intended,
                ),
                ("died_waiting_rate", a.died_waiting, a.car_t_intended),
                ("crs_grade3plus_rate", a.crs_grade3plus, n),
                ("icans_grade3plus_rate", a.icans_grade3plus, n),
                ("sos_rate", a.sos, n),
                ("toxic_death_rate", toxic, n),
                ("hct_rate", a.transplanted, n),
                ("acute_gvhd_rate", a.acute_gvhd, a.transplanted),
                ("chronic_gvhd_rate", a.chronic_gvhd, a.transplanted),
                ("relapse_rate", a.relapsed, n),
                (
                    "cd19_negative_relapse_fraction",
                    a.cd19_negative_relapses,
                    a.relapsed,
                ),
                ("mean_lines", a.lines, n),
            ] {
                let want = if den == 0 {
                    String::new()
                } else {
                    format!("{:.6}", num as f64 / den as f64)
                };
                assert_eq!(row[col(name)].csv(), want, "{name}: {num} / {den}");
                nonzero += usize::from(num > 0 && num < den);
            }
        }
        assert!(nonzero > 20, "{nonzero} rates strictly between 0 and 1");
        assert_eq!(ratio(3, 0), Cell::Empty);
    }

    /// The CRN ratio is the paired SE over the unpaired one (empty for the reference), and the
    /// printed table shows each strategy's cost, increments and ratios from these rows.
    #[test]
    fn the_incremental_rows_and_their_printed_table() {
        let (model, agg) = adult_run();
        let header = incremental_header(&model.economics.as_ref().unwrap().wtp);
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        let rows = incremental_rows(&model, &agg);
        let table = incremental_table(&model, &agg);
        assert!(table.contains("CRN SE ratio"), "{table}");
        let num = |c: &Cell| match c {
            Cell::Num(x, _) => *x,
            other => panic!("{other:?}"),
        };
        let index = |r: &[Cell]| {
            let name = r[0].csv();
            model
                .strategies
                .iter()
                .position(|x| x.name == name)
                .unwrap()
        };
        let reference = rows
            .iter()
            .find(|r| r[col("status")].csv() == "reference")
            .map(|r| index(r))
            .unwrap();
        for r in &rows {
            let name = r[0].csv();
            let line = table
                .lines()
                .find(|l| l.starts_with(&format!("{name} ")))
                .unwrap_or_else(|| panic!("{name} in {table}"));
            assert!(
                line.contains(&format!("{:.0}", num(&r[col("cost")]))),
                "{line}"
            );
            if index(r) == reference {
                assert_eq!(r[col("crn_se_ratio_cost")], Cell::Empty);
                assert_eq!(r[col("crn_se_ratio_qaly")], Cell::Empty);
                assert!(line.ends_with("-/-"), "{line}");
                continue;
            }
            let (a, b) = (&agg.strategies[index(r)], &agg.strategies[reference]);
            let unpaired = a.cost_disc.std_error().hypot(b.cost_disc.std_error());
            let ratio = num(&r[col("se_incremental_cost")]) / unpaired;
            assert_eq!(r[col("crn_se_ratio_cost")], Cell::Num(ratio, 4));
            assert!(ratio > 0.5 && ratio < 1.5, "{ratio}");
            let shown = format!(
                "{:.0} ({:.0})",
                num(&r[col("incremental_cost")]),
                num(&r[col("se_incremental_cost")])
            );
            assert!(line.contains(&shown), "{shown} in {line}");
            let qaly_ratio = num(&r[col("crn_se_ratio_qaly")]);
            assert!(
                line.ends_with(&format!("{ratio:.2}/{qaly_ratio:.2}")),
                "{line}"
            );
        }
    }

    #[test]
    fn render_aligns_columns_under_a_rule() {
        let lines: Vec<Vec<String>> = [
            ["name", "a", "bb", "c"],
            ["x", "10", "2", "7"],
            ["longer", "3", "", ""],
        ]
        .iter()
        .map(|l| l.map(String::from).to_vec())
        .collect();
        assert_eq!(
            render(&lines),
            "name     a  bb  c\n-----------------\nx       10   2  7\nlonger   3\n"
        );
    }

    /// Each strategy's line of the printed summary shows its own `summary.csv` cells.
    #[test]
    fn the_printed_summary_shows_each_strategy_s_cells() {
        let (model, agg) = adult_run();
        let table = summary_table(&model, &agg);
        let header = summary_header();
        for (s, a) in model.strategies.iter().zip(&agg.strategies) {
            let row = summary_row(&s.name, a, true);
            let line = table
                .lines()
                .find(|l| l.starts_with(&format!("{} ", s.name)))
                .unwrap_or_else(|| panic!("{} in {table}", s.name));
            let shown: Vec<String> = TABLE
                .iter()
                .map(|(_, col, how)| {
                    let i = header.iter().position(|h| h == col).unwrap();
                    show(&row[i], *how)
                })
                .collect();
            let cells: Vec<&str> = line.split_whitespace().skip(1).collect();
            assert_eq!(cells, shown, "{line}");
        }
        // A median EFS of 0 is what the footnote explains: half the patients or more failed the
        // first therapy, an EFS event at time 0, so at most half responded. Some strategy shows
        // it: chemotherapy-first's response (25.0% on 10^5 patients) is 11 standard errors
        // below one half on these 400.
        let mut zero_medians = 0;
        for a in &agg.strategies {
            if a.efs.median_days() == Some(0.0) {
                zero_medians += 1;
                assert!(2 * a.first_response <= a.patients);
            }
        }
        assert!(
            zero_medians > 0,
            "the adult scenario has strategies with a median EFS of 0"
        );
        assert!(
            table.contains("EFS events = failure of the first therapy given, counted at time 0"),
            "{table}"
        );
    }

    #[test]
    fn the_printed_summary_shows_months_percents_and_numbers() {
        let x = Cell::Num(0.1234, 6);
        assert_eq!(show(&x, Show::Months), "0.1");
        assert_eq!(show(&x, Show::Percent), "12.3%");
        assert_eq!(show(&x, Show::Number), "0.12");
        assert_eq!(
            show(&Cell::Empty, Show::Months),
            "NR",
            "a median not reached"
        );
        assert_eq!(show(&Cell::Empty, Show::Percent), "-");
        assert_eq!(show(&Cell::Int(3), Show::Number), "-");
    }

    #[test]
    fn table_columns_exist_in_summary_csv() {
        let cols = summary_header();
        for (_, col, _) in TABLE {
            assert!(cols.iter().any(|c| c == col), "{col}");
        }
        assert_eq!(
            summary_row("x", &StrategyAgg::new(10.0), true).len(),
            cols.len()
        );
    }
}
