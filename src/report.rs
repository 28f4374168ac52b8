//! From aggregates to the tables users read: `summary.csv`, `survival.csv` and the printed
//! summary. One place defines each column, its name and its formatting.

use crate::engine::Cause;
use crate::model::Model;
use crate::summary::{RunAgg, StrategyAgg};
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
        match self {
            Cell::Num(x, d) => format!("{x:.d$}"),
            Cell::Int(n) => n.to_string(),
            Cell::Text(s) => s.clone(),
            Cell::Empty => String::new(),
        }
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
        "mean_ly",
        "se_ly",
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
    h
}

/// One row of `summary.csv`.
pub fn summary_row(name: &str, a: &StrategyAgg) -> Vec<Cell> {
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
        Cell::Num(a.life_years.mean(), 6),
        Cell::Num(a.life_years.std_error(), 6),
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
    row
}

/// All rows of `summary.csv`.
pub fn summary_rows(model: &Model, agg: &RunAgg) -> Vec<Vec<Cell>> {
    model
        .strategies
        .iter()
        .zip(&agg.strategies)
        .map(|(s, a)| summary_row(&s.name, a))
        .collect()
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
    for r in rows {
        w.write_record(r.iter().map(Cell::csv))?;
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
    ("mean LY", "mean_ly", Show::Number),
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
        let row = summary_row(&s.name, a);
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
    out.push_str("(medians in months, NR = not reached; LY undiscounted; 1L resp = response to the first therapy given; CAR-T inf = infused among intended; CD19- rel = first relapses that were CD19-negative)\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_columns_exist_in_summary_csv() {
        let cols = summary_header();
        for (_, col, _) in TABLE {
            assert!(cols.iter().any(|c| c == col), "{col}");
        }
        assert_eq!(summary_row("x", &StrategyAgg::new(10.0)).len(), cols.len());
    }
}
