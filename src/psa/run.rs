//! `allseq psa`: draws in parallel, written as they complete, resumable, shardable.
//!
//! Each finished draw is appended to a hidden partial file in the output directory
//! (`.psa_draws.partial`, one line per draw, numbers in their shortest exact form). A killed
//! run re-run with the same arguments reads it, skips the draws it holds (dropping a last line
//! cut short, or a damaged line and what follows it), and computes the rest. The final files
//! are always written from the complete, sorted set of draws read back from that file, so an
//! interrupted run, an uninterrupted one and a merge of shards write the same bytes.

use super::Uncertainty;
use super::analysis::{self, Draws};
use crate::engine::{Outcome, Workspace};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::output::{Staged, git_commit, now_rfc3339, peak_memory_kib};
use crate::rng::RunKey;
use crate::runner::{Accumulate, refusal, simulate_range};
use crate::scenario::Scenario;
use crate::summary::{EXACT_LIMIT, ExactMean, OutOfRange};
use indicatif::ProgressBar;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

/// Name of the partial file of a run in progress.
pub const PARTIAL: &str = ".psa_draws.partial";

/// One draw's parameters (as written) and results by strategy.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawRecord {
    /// Draw index.
    pub draw: u64,
    /// Parameter values as CSV cells, in column order.
    pub params: Vec<String>,
    /// Mean discounted cost by strategy.
    pub cost: Vec<f64>,
    /// Mean discounted QALYs by strategy.
    pub qaly: Vec<f64>,
    /// Mean discounted life-years by strategy.
    pub ly: Vec<f64>,
}

/// The draws' costs and QALYs, one row per draw and one column per strategy: what
/// [`analysis`] takes.
pub fn cost_and_qaly(records: &[DrawRecord]) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    records
        .iter()
        .map(|r| (r.cost.clone(), r.qaly.clone()))
        .unzip()
}

/// A number as the PSA files write it: finite (anything else in a partial or shard file means
/// the file is damaged).
pub(super) fn finite_cell(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|x| x.is_finite())
}

impl DrawRecord {
    fn line(&self) -> String {
        let mut cells = vec![self.draw.to_string()];
        cells.extend(self.params.iter().cloned());
        for s in 0..self.cost.len() {
            cells.push(format!("{}", self.cost[s]));
            cells.push(format!("{}", self.qaly[s]));
            cells.push(format!("{}", self.ly[s]));
        }
        cells.join(",") + "\n"
    }

    /// The record of a line written by [`DrawRecord::line`]; `None` for anything else (a line
    /// cut short, or damaged: every number it writes is finite).
    fn parse(line: &str, n_params: usize, n_strategies: usize) -> Option<DrawRecord> {
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() != 1 + n_params + 3 * n_strategies {
            return None;
        }
        if !cells[1..1 + n_params]
            .iter()
            .all(|c| finite_cell(c).is_some())
        {
            return None;
        }
        let mut r = DrawRecord {
            draw: cells[0].parse().ok()?,
            params: cells[1..1 + n_params]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            cost: Vec::with_capacity(n_strategies),
            qaly: Vec::with_capacity(n_strategies),
            ly: Vec::with_capacity(n_strategies),
        };
        for s in 0..n_strategies {
            let base = 1 + n_params + 3 * s;
            r.cost.push(finite_cell(cells[base])?);
            r.qaly.push(finite_cell(cells[base + 1])?);
            r.ly.push(finite_cell(cells[base + 2])?);
        }
        Some(r)
    }
}

/// What identifies a PSA run; shards of one PSA share everything but `shard`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    /// allseq version.
    pub allseq_version: String,
    /// OS, architecture and C library: the platform math behind the numbers.
    pub platform: String,
    /// SHA-256 of the scenario files.
    pub scenario_sha256: String,
    /// Seed.
    pub seed: u64,
    /// Total draws of the PSA.
    pub draws: u64,
    /// Patients per draw.
    pub patients: u64,
    /// Strategies, in order.
    pub strategies: Vec<String>,
    /// Parameter columns, in order.
    pub parameters: Vec<String>,
    /// CEAC/EVPI grid.
    pub wtp_grid: Vec<u64>,
    /// Population for population EVPI.
    pub population: Option<f64>,
}

/// `manifest.json` of a PSA run, a shard or a merge.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PsaManifest {
    /// `psa` or `merge`.
    pub command: String,
    /// What makes runs comparable.
    #[serde(flatten)]
    pub identity: Identity,
    /// Git commit of the build.
    pub git_commit: Option<String>,
    /// Scenario path as given (informative).
    pub scenario: String,
    /// `i/K` for a shard; absent for a whole run or a merge.
    pub shard: Option<String>,
    /// Draws in these files: `[first, end)`.
    pub draws_covered: [u64; 2],
    /// Threads used (informative).
    pub threads: usize,
    /// Start time, RFC 3339 UTC.
    pub started: String,
    /// End time, RFC 3339 UTC.
    pub finished: String,
    /// Peak resident memory \[KiB\].
    pub peak_memory_kib: Option<u64>,
}

/// The platform string: results are bit-identical only within one.
pub fn platform() -> String {
    format!(
        "{}-{}-{}",
        std::env::consts::ARCH,
        std::env::consts::OS,
        if cfg!(target_env = "gnu") {
            "gnu"
        } else if cfg!(target_env = "musl") {
            "musl"
        } else {
            "other"
        }
    )
}

/// Draws `[first, end)` of shard `i` of `k` among `draws`.
pub fn shard_range(draws: u64, i: u64, k: u64) -> (u64, u64) {
    let at = |j: u64| ((u128::from(j) * u128::from(draws)) / u128::from(k)) as u64;
    (at(i), at(i + 1))
}

/// How to run.
#[derive(Debug, Clone)]
pub struct PsaOptions {
    /// Total draws.
    pub draws: u64,
    /// Patients per draw.
    pub patients: u64,
    /// Seed.
    pub seed: u64,
    /// (i, K): this shard of K.
    pub shard: (u64, u64),
    /// Worker threads.
    pub threads: usize,
    /// Scenario path as given (for the manifest).
    pub scenario_path: String,
    /// Progress bar, if any.
    pub progress: Option<ProgressBar>,
}

/// Per-strategy means of one draw.
struct DrawAgg {
    cost: Vec<ExactMean>,
    qaly: Vec<ExactMean>,
    ly: Vec<ExactMean>,
}

impl Accumulate for DrawAgg {
    fn add_patient(&mut self, outcomes: &[Outcome]) {
        for (s, o) in outcomes.iter().enumerate() {
            self.cost[s].add(o.accounts.cost_disc);
            self.qaly[s].add(o.accounts.qaly_disc);
            self.ly[s].add(o.accounts.ly_disc);
        }
    }
    fn merge(mut self, other: Self) -> Self {
        for s in 0..self.cost.len() {
            self.cost[s].merge(&other.cost[s]);
            self.qaly[s].merge(&other.qaly[s]);
            self.ly[s].merge(&other.ly[s]);
        }
        self
    }
    fn out_of_range(&self) -> Option<OutOfRange> {
        (0..self.cost.len()).find_map(|s| {
            [
                ("discounted costs", &self.cost[s]),
                ("discounted QALYs", &self.qaly[s]),
                ("discounted life-years", &self.ly[s]),
            ]
            .into_iter()
            .find_map(|(quantity, m)| {
                (!m.in_range()).then_some(OutOfRange {
                    strategy: Some(s),
                    quantity,
                    limit: EXACT_LIMIT,
                })
            })
        })
    }
}

/// The model of draw `draw`: its parameters sampled from (seed, draw) and written into the
/// scenario, which is compiled again; with the values as written to `psa_params.csv`.
///
/// # Errors
/// A sampled parameter set that does not compile (the load-time check makes this unexpected).
pub fn draw_model(
    scenario: &Scenario,
    u: &Uncertainty,
    seed: u64,
    draw: u64,
) -> Result<(Model, Vec<String>)> {
    let values = u.sample(seed, draw);
    let pairs = u.pairs(&values);
    // The load-time check tries each parameter alone; two together (a toxicity's `any_grade`
    // and `grade3plus`, say) can still break a rule in some draw. Say so: the values in the
    // message are the draw's, not the file's.
    let model = scenario.with_values(&pairs).map_err(|mut e| {
        e.message = format!(
            "in PSA draw {draw}, the sampled parameters together break a rule: {}",
            e.message
        );
        e
    })?;
    Ok((model, Uncertainty::cells(&values)))
}

/// Checks that every draw in `draws` compiles, before any is simulated. Parameters valid one
/// at a time can break a rule together in some draw; a long run, or one task of a SLURM array,
/// should not find that out hours in, and the error should not depend on which thread met a
/// bad draw first. So it names the lowest such draw, on any number of threads, and how many
/// of the draws checked break a rule. Runs on the current rayon pool; costs one per-draw
/// set-up per draw (about 0.35 ms of CPU each for the adult scenario, here).
///
/// # Errors
/// The first draw whose sampled parameters do not compile.
pub fn check_draws(
    scenario: &Scenario,
    u: &Uncertainty,
    seed: u64,
    draws: std::ops::Range<u64>,
) -> Result<()> {
    let checked = draws.end - draws.start;
    let first_bad = |a: (u64, Option<(u64, Error)>), b: (u64, Option<(u64, Error)>)| {
        let first = match (a.1, b.1) {
            (Some(x), Some(y)) => Some(if x.0 <= y.0 { x } else { y }),
            (x, y) => x.or(y),
        };
        (a.0 + b.0, first)
    };
    let (bad, first) = draws
        .into_par_iter()
        .map(|d| match draw_model(scenario, u, seed, d) {
            Ok(_) => (0, None),
            Err(e) => (1, Some((d, e))),
        })
        .reduce(|| (0, None), first_bad);
    match first {
        None => Ok(()),
        Some((_, mut e)) => {
            if let Error::Scenario(se) = &mut e {
                se.message.push_str(&format!(
                    " (draws that break a rule: {bad} of the {checked} checked; none was simulated)"
                ));
            }
            Err(e)
        }
    }
}

/// Simulates one draw: parameters from (seed, draw), patients from (seed, draw, patient).
///
/// # Errors
/// A sampled parameter set that does not compile (the load-time check makes this unexpected).
pub fn simulate_draw(
    scenario: &Scenario,
    u: &Uncertainty,
    seed: u64,
    draw: u64,
    patients: u64,
) -> Result<DrawRecord> {
    let (model, cells) = draw_model(scenario, u, seed, draw)?;
    record(&model, draw, cells, seed, patients)
}

/// Simulates `patients` patients of `model` as draw `draw` of `seed`.
///
/// # Errors
/// [`Error::OutOfRange`] if a patient's discounted cost, QALYs or life-years is beyond what
/// the exact means hold.
pub fn record(
    model: &Model,
    draw: u64,
    params: Vec<String>,
    seed: u64,
    patients: u64,
) -> Result<DrawRecord> {
    let k = model.strategies.len();
    let mut agg = DrawAgg {
        cost: vec![ExactMean::default(); k],
        qaly: vec![ExactMean::default(); k],
        ly: vec![ExactMean::default(); k],
    };
    let mut ws = Workspace::new(model);
    simulate_range(
        model,
        RunKey::for_draw(seed, draw),
        0,
        patients,
        &mut ws,
        &mut agg,
    );
    if let Some(o) = agg.out_of_range() {
        return Err(refusal(o, model, &format!("PSA draw {draw}, ")));
    }
    Ok(DrawRecord {
        draw,
        params,
        cost: agg.cost.iter().map(ExactMean::mean).collect(),
        qaly: agg.qaly.iter().map(ExactMean::mean).collect(),
        ly: agg.ly.iter().map(ExactMean::mean).collect(),
    })
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Output {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads the draws already done from a partial file, after checking it belongs to this run;
/// drops a last line cut short by a kill (and truncates the file there). A line that is not a
/// draw of this run (damaged, or a draw outside `draws`) is treated the same way: it and what
/// follows are dropped, and computed again.
fn resume(
    path: &Path,
    identity_line: &str,
    n_params: usize,
    k: usize,
    draws: std::ops::Range<u64>,
) -> Result<Vec<DrawRecord>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        std::fs::write(path, format!("{identity_line}\n")).map_err(io(path))?;
        return Ok(Vec::new());
    };
    let mut lines = text.split_inclusive('\n');
    match lines.next() {
        Some(first) if first.trim_end() == identity_line => {}
        _ => {
            return Err(Error::Argument {
                option: "--out",
                reason: format!(
                    "{} holds a partial PSA run with other arguments (seed, draws, patients, shard or scenario); remove it or choose another --out",
                    path.display()
                ),
            });
        }
    }
    let mut done = Vec::new();
    let mut good_len = identity_line.len() + 1;
    for line in lines {
        let Some(body) = line.strip_suffix('\n') else {
            break; // cut short by a kill
        };
        match DrawRecord::parse(body, n_params, k) {
            Some(r) if draws.contains(&r.draw) => done.push(r),
            _ => break,
        }
        good_len += line.len();
    }
    if good_len < text.len() {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(io(path))?;
        f.set_len(good_len as u64).map_err(io(path))?;
    }
    Ok(done)
}

/// Runs (or resumes) a PSA or one shard of it and writes its files under `out`; returns the
/// shard's draws in draw order.
///
/// # Errors
/// No `[uncertainty]` in the scenario, a partial run of other arguments in `out`, a thread
/// pool or output error.
pub fn run(scenario: &Scenario, opts: &PsaOptions, out: &Path) -> Result<Vec<DrawRecord>> {
    let started = now_rfc3339();
    let model = &scenario.model;
    let Some(u) = &model.uncertainty else {
        return Err(Error::Argument {
            option: "scenario",
            reason: "the scenario has no [uncertainty] section: nothing to draw".into(),
        });
    };
    let (i, k) = opts.shard;
    let (first, end) = shard_range(opts.draws, i, k);
    let pool = crate::runner::pool(opts.threads)?;
    // Before anything is written: a bad draw leaves no partial file behind.
    pool.install(|| check_draws(scenario, u, opts.seed, first..end))?;
    let identity = Identity {
        allseq_version: env!("CARGO_PKG_VERSION").into(),
        platform: platform(),
        scenario_sha256: scenario.sha256(),
        seed: opts.seed,
        draws: opts.draws,
        patients: opts.patients,
        strategies: model.strategies.iter().map(|s| s.name.clone()).collect(),
        parameters: u.columns(),
        wtp_grid: u.wtp_grid.clone(),
        population: u.population,
    };
    let mut staged = Staged::prepare(out)?;
    let partial = out.join(PARTIAL);
    let identity_line = format!(
        "# allseq psa shard {i}/{k} {}",
        serde_json::to_string(&identity)?
    );
    let n_params = identity.parameters.len();
    let n_strategies = identity.strategies.len();
    let done = resume(&partial, &identity_line, n_params, n_strategies, first..end)?;
    let have: BTreeSet<u64> = done.iter().map(|r| r.draw).collect();
    let todo: Vec<u64> = (first..end).filter(|d| !have.contains(d)).collect();
    if let Some(pb) = &opts.progress {
        pb.set_length(end - first);
        pb.set_position(end - first - todo.len() as u64);
    }
    let writer = Mutex::new(
        std::fs::OpenOptions::new()
            .append(true)
            .open(&partial)
            .map_err(io(&partial))?,
    );
    pool.install(|| {
        todo.par_iter().try_for_each(|&d| -> Result<()> {
            let rec = simulate_draw(scenario, u, opts.seed, d, opts.patients)?;
            let line = rec.line();
            let mut f = writer.lock().expect("no writer panics");
            f.write_all(line.as_bytes()).map_err(io(&partial))?;
            drop(f);
            if let Some(pb) = &opts.progress {
                pb.inc(1);
            }
            Ok(())
        })
    })?;
    drop(writer);
    // Everything now comes from the file, whether computed in this run or an earlier one.
    let mut records = resume(&partial, &identity_line, n_params, n_strategies, first..end)?;
    records.sort_by_key(|r| r.draw);
    records.dedup_by_key(|r| r.draw);
    let manifest = PsaManifest {
        command: "psa".into(),
        identity,
        git_commit: git_commit(),
        scenario: opts.scenario_path.clone(),
        shard: (k > 1).then(|| format!("{i}/{k}")),
        draws_covered: [first, end],
        threads: opts.threads,
        started,
        finished: now_rfc3339(),
        peak_memory_kib: peak_memory_kib(),
    };
    write_outputs(&mut staged, &manifest, &records, k == 1)?;
    staged.commit()?;
    std::fs::remove_file(&partial).map_err(io(&partial))?;
    Ok(records)
}

fn csv_bytes(rows: impl IntoIterator<Item = Vec<String>>) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(r)?;
    }
    Ok(w.into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?)
}

/// Writes the files of a PSA from its sorted draws: the draw-level files always, the wide
/// matrices, CEAC and EVPI when `whole` (every draw of the PSA is here).
///
/// # Errors
/// An output error.
pub fn write_outputs(
    staged: &mut Staged,
    manifest: &PsaManifest,
    records: &[DrawRecord],
    whole: bool,
) -> Result<()> {
    let id = &manifest.identity;
    let mut params = vec![
        std::iter::once("draw".to_string())
            .chain(id.parameters.iter().cloned())
            .collect::<Vec<_>>(),
    ];
    params.extend(records.iter().map(|r| {
        std::iter::once(r.draw.to_string())
            .chain(r.params.iter().cloned())
            .collect()
    }));
    staged.add("psa_params.csv", &csv_bytes(params)?)?;
    let mut long = vec![
        ["draw", "strategy", "cost", "qaly", "ly"]
            .map(String::from)
            .to_vec(),
    ];
    for r in records {
        for (s, name) in id.strategies.iter().enumerate() {
            long.push(vec![
                r.draw.to_string(),
                name.clone(),
                format!("{}", r.cost[s]),
                format!("{}", r.qaly[s]),
                format!("{}", r.ly[s]),
            ]);
        }
    }
    staged.add("psa_long.csv", &csv_bytes(long)?)?;
    if whole {
        let wide = |pick: &dyn Fn(&DrawRecord) -> &Vec<f64>| {
            let mut rows = vec![id.strategies.clone()];
            rows.extend(
                records
                    .iter()
                    .map(|r| pick(r).iter().map(|x| format!("{x}")).collect()),
            );
            csv_bytes(rows)
        };
        staged.add("psa_cost.csv", &wide(&|r| &r.cost)?)?;
        staged.add("psa_effect.csv", &wide(&|r| &r.qaly)?)?;
        let (cost, qaly) = cost_and_qaly(records);
        let at = analysis::analyse(
            Draws {
                cost: &cost,
                qaly: &qaly,
            },
            &id.wtp_grid,
        );
        let mut ceac = vec![
            [
                "wtp",
                "strategy",
                "probability_cost_effective",
                "on_frontier",
            ]
            .map(String::from)
            .to_vec(),
        ];
        let mut evpi_header = vec!["wtp".to_string(), "evpi_per_person".to_string()];
        if id.population.is_some() {
            evpi_header.push("evpi_population".into());
        }
        let mut evpi = vec![evpi_header];
        for a in &at {
            for (s, name) in id.strategies.iter().enumerate() {
                ceac.push(vec![
                    a.wtp.to_string(),
                    name.clone(),
                    format!("{:.6}", a.probability[s]),
                    (a.frontier == s).to_string(),
                ]);
            }
            let mut row = vec![a.wtp.to_string(), format!("{:.2}", a.evpi)];
            if let Some(p) = id.population {
                row.push(format!("{:.2}", a.evpi * p));
            }
            evpi.push(row);
        }
        staged.add("ceac.csv", &csv_bytes(ceac)?)?;
        staged.add("evpi.csv", &csv_bytes(evpi)?)?;
    }
    let mut json = serde_json::to_vec_pretty(manifest)?;
    json.push(b'\n');
    staged.add("manifest.json", &json)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(draw: u64) -> DrawRecord {
        DrawRecord {
            draw,
            params: vec!["0.25".into(), "1000".into()],
            cost: vec![1.5e5, 2.5e5],
            qaly: vec![3.25, 4.5],
            ly: vec![4.0, 5.0],
        }
    }

    #[test]
    fn a_line_parses_back_and_a_damaged_one_does_not() {
        let line = record(7).line();
        let body = line.strip_suffix('\n').unwrap();
        assert_eq!(DrawRecord::parse(body, 2, 2), Some(record(7)));
        for damaged in [
            body.replacen("0.25", "NaN", 1),
            body.replacen("1000", "x", 1),
            body.replacen("150000", "inf", 1),
            body.replacen(",", ";", 1),
            body[..body.len() - 2].to_string(),
        ] {
            assert_eq!(DrawRecord::parse(&damaged, 2, 2), None, "{damaged}");
        }
    }

    #[test]
    fn the_platform_names_architecture_os_and_c_library() {
        let p = platform();
        let parts: Vec<&str> = p.split('-').collect();
        assert_eq!(parts.len(), 3, "{p}");
        assert_eq!(parts[..2], [std::env::consts::ARCH, std::env::consts::OS]);
        assert!(["gnu", "musl", "other"].contains(&parts[2]), "{p}");
    }

    /// The progress bar counts the shard's draws, those resumed from the partial file
    /// included, and ends full: its length is the shard's size (not the PSA's, nor the first
    /// draw's index), and it starts at the draws already done.
    #[test]
    fn the_progress_bar_counts_the_shard_s_draws_resumed_ones_included() {
        let scenario = crate::scenario::adult_for_tests();
        let dir = tempfile::tempdir().unwrap();
        let opts = |pb: &ProgressBar| PsaOptions {
            draws: 12,
            patients: 20,
            seed: 5,
            shard: (1, 2),
            threads: 1,
            scenario_path: "adult".into(),
            progress: Some(pb.clone()),
        };
        let pb = ProgressBar::hidden();
        let records = run(&scenario, &opts(&pb), dir.path()).unwrap();
        let draws: Vec<u64> = records.iter().map(|r| r.draw).collect();
        assert_eq!(draws, (6..12).collect::<Vec<_>>());
        assert_eq!((pb.length(), pb.position()), (Some(6), 6));
        // A run killed after two of its draws: the partial file holds them, and the bar of
        // the resumed run starts at 2.
        let m: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("manifest.json")).unwrap(),
        )
        .unwrap();
        let identity: Identity = serde_json::from_value(m.clone()).unwrap();
        let id = format!(
            "# allseq psa shard 1/2 {}",
            serde_json::to_string(&identity).unwrap()
        );
        let done: String = records[..2].iter().map(DrawRecord::line).collect();
        std::fs::write(dir.path().join(PARTIAL), format!("{id}\n{done}")).unwrap();
        let pb = ProgressBar::hidden();
        let resumed = run(&scenario, &opts(&pb), dir.path()).unwrap();
        assert_eq!(resumed, records);
        assert_eq!((pb.length(), pb.position()), (Some(6), 6));
    }

    /// Draws outside the run's range and damaged lines end what is resumed: before, a draw
    /// numbered 99999999999 went into the final files, and a NaN parameter into
    /// `psa_params.csv`.
    #[test]
    fn resume_keeps_only_the_run_s_draws_up_to_the_first_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(PARTIAL);
        let id = "# allseq psa shard 0/1 {}";
        let good = format!("{id}\n{}{}", record(0).line(), record(3).line());
        for (next, expected) in [
            (record(4).line(), vec![0, 3, 4, 1]),
            (record(99_999_999_999).line(), vec![0, 3]),
            (record(2).line().replacen("0.25", "NaN", 1), vec![0, 3]),
            ("1,0.2\n".to_string(), vec![0, 3]),
        ] {
            std::fs::write(&path, format!("{good}{next}{}", record(1).line())).unwrap();
            let done = resume(&path, id, 2, 2, 0..5).unwrap();
            let draws: Vec<u64> = done.iter().map(|r| r.draw).collect();
            assert_eq!(draws, expected, "{next}");
            if expected.len() == 2 {
                // Truncated after the good lines: the bad line and the one after it go.
                assert_eq!(std::fs::read_to_string(&path).unwrap(), good);
            }
        }
    }
}
