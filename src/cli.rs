//! The command line: `allseq run`, `trace`, `validate`, `psa`, `merge`, `dsa` and
//! `slurm-script`.
//!
//! The doc comments on the argument structs are clap's `--help` text, written for a terminal
//! (`[default: ...]`, `<scenario file stem>`), not for rustdoc: its link and HTML lints are off
//! here.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

use crate::error::{Error, Result};
use crate::output::{
    Manifest, ManifestEconomics, Staged, git_commit, now_rfc3339, peak_memory_kib,
};
use crate::report;
use crate::runner::{self, DEFAULT_CHUNK, RunOptions};
use crate::scenario;
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Discrete-event Monte Carlo simulation of treatment sequencing in relapsed/refractory B-ALL.
#[derive(Debug, Parser)]
#[command(name = "allseq", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate every strategy of a scenario on the same patients and write the results.
    Run(RunArgs),
    /// Print patients' attributes and events in time order.
    Trace(TraceArgs),
    /// Run the scenarios of a targets file and compare simulated with published endpoints.
    Validate(ValidateArgs),
    /// Probabilistic sensitivity analysis: draws of the uncertain parameters, each simulated.
    Psa(PsaArgs),
    /// Merge the shards of a PSA into the files of an unsharded run.
    Merge(MergeArgs),
    /// One-way sensitivity analysis of the uncertain parameters (tornado).
    Dsa(DsaArgs),
    /// Print an sbatch array script that runs a PSA in shards and merges them.
    SlurmScript(SlurmArgs),
}

/// A shard `i/K`: the i-th (from 0) of K.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard(pub u64, pub u64);

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let (i, k) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not i/K (e.g. 3/8)"))?;
        let i: u64 = i
            .parse()
            .map_err(|_| format!("`{i}` is not a shard number"))?;
        let k: u64 = k
            .parse()
            .map_err(|_| format!("`{k}` is not a shard count"))?;
        if k == 0 || i >= k {
            return Err(format!("needs 0 <= i < K (got {i}/{k})"));
        }
        Ok(Shard(i, k))
    }
}

/// The most worker threads a command may ask for. More threads than cores gain nothing, and
/// starting and stopping the pool grows faster than linearly with its size (measured on 2 cores
/// for 10 patients: 0.09 s with 256 threads, 1.6 s with 1,000, 13 s with 5,000, over a minute
/// with 20,000); the largest machines have 512 hardware threads.
const MAX_THREADS: usize = 1024;

/// Parses `--threads`: a count up to [`MAX_THREADS`] (0 = one per core).
fn threads_arg(s: &str) -> Result<usize, String> {
    let n: usize = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of threads"))?;
    if n > MAX_THREADS {
        return Err(format!(
            "at most {MAX_THREADS} (0 takes one per core, which is the fastest)"
        ));
    }
    Ok(n)
}

/// Parses `--wtp`: an amount per QALY from 0 to 10^12, the bound of `economics.wtp` (NaN or
/// infinity made every NMB NaN, and so did 1e308, whose products with QALYs overflow).
fn wtp_arg(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(w) if (0.0..=1e12).contains(&w) => Ok(w),
        _ => Err(format!(
            "`{s}` is not an amount per QALY (a number from 0 to 10^12)"
        )),
    }
}

/// `allseq psa`.
#[derive(Debug, clap::Args)]
pub struct PsaArgs {
    /// Scenario file (TOML) with an [uncertainty] section.
    pub scenario: PathBuf,
    /// Parameter draws of the whole PSA (all shards together).
    #[arg(long)]
    pub draws: u64,
    /// Patients per draw and strategy.
    #[arg(long)]
    pub patients: u64,
    /// Seed [default: the scenario's `seed`].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Run only shard i of K (draws [floor(i D/K), floor((i+1) D/K))).
    #[arg(long, default_value = "0/1")]
    pub shard: Shard,
    /// Worker threads [default: one per core].
    #[arg(long, default_value_t = 0, value_parser = threads_arg)]
    pub threads: usize,
    /// Output directory [default: output/<scenario file stem>-psa/].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No progress bar and no printed summary.
    #[arg(long)]
    pub quiet: bool,
}

/// `allseq merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Shard output directories.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Output directory of the merged PSA.
    #[arg(long)]
    pub out: PathBuf,
}

/// `allseq dsa`.
#[derive(Debug, clap::Args)]
pub struct DsaArgs {
    /// Scenario file (TOML) with an [uncertainty] section.
    pub scenario: PathBuf,
    /// Patients per run [default: the scenario's `patients`].
    #[arg(long)]
    pub patients: Option<u64>,
    /// Seed of every run [default: the scenario's `seed`].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads [default: one per core].
    #[arg(long, default_value_t = 0, value_parser = threads_arg)]
    pub threads: usize,
    /// Willingness to pay per QALY [default: the scenario's first `economics.wtp`].
    #[arg(long, value_parser = wtp_arg)]
    pub wtp: Option<f64>,
    /// Strategy whose incremental NMB is measured [default: the first].
    #[arg(long)]
    pub strategy: Option<String>,
    /// Comparator [default: the cheapest other strategy in the base case].
    #[arg(long)]
    pub versus: Option<String>,
    /// Output directory [default: output/<scenario file stem>-dsa/].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No printed table.
    #[arg(long)]
    pub quiet: bool,
}

/// `allseq slurm-script`.
#[derive(Debug, clap::Args)]
pub struct SlurmArgs {
    /// Scenario file (as the cluster sees it).
    pub scenario: PathBuf,
    /// Parameter draws.
    #[arg(long)]
    pub draws: u64,
    /// Patients per draw.
    #[arg(long)]
    pub patients: u64,
    /// Array tasks (shards).
    #[arg(long)]
    pub shards: u64,
    /// Seed [default: the scenario's `seed`].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Threads per task.
    #[arg(long, default_value_t = 1, value_parser = threads_arg)]
    pub threads: usize,
    /// Output directory [default: output/<scenario file stem>-psa].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Log directory.
    #[arg(long, default_value = "logs")]
    pub logs: PathBuf,
    /// allseq binary on the cluster [default: this binary].
    #[arg(long)]
    pub allseq: Option<PathBuf>,
    /// SLURM partition.
    #[arg(long, value_parser = partition_arg)]
    pub partition: Option<String>,
    /// Time limit per task, HH:MM:SS (or any of sbatch's forms).
    #[arg(long, value_parser = time_arg)]
    pub time: Option<String>,
}

/// `allseq validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Targets file (TOML).
    pub targets: PathBuf,
    /// Patients per scenario [default: the targets file's `patients`].
    #[arg(long)]
    pub patients: Option<u64>,
    /// Run seed [default: the targets file's `seed`].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads [default: one per core].
    #[arg(long, default_value_t = 0, value_parser = threads_arg)]
    pub threads: usize,
    /// Output directory [default: output/<targets file stem>/].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Exit with status 1 if any target fails.
    #[arg(long)]
    pub strict: bool,
    /// No printed table or progress lines.
    #[arg(long)]
    pub quiet: bool,
}

/// `allseq run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Patients per strategy [default: the scenario's `patients`].
    #[arg(long)]
    pub patients: Option<u64>,
    /// Run seed [default: the scenario's `seed`].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads [default: one per core].
    #[arg(long, default_value_t = 0, value_parser = threads_arg)]
    pub threads: usize,
    /// Patients per parallel chunk (results do not depend on it).
    #[arg(long, default_value_t = DEFAULT_CHUNK)]
    pub chunk_size: u64,
    /// Output directory [default: output/<scenario file stem>/].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No progress bar and no printed table.
    #[arg(long)]
    pub quiet: bool,
}

/// Trace output format.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TraceFormat {
    /// Indented, human-readable.
    Text,
    /// `patient, strategy, day, kind, what`.
    Csv,
}

/// `allseq trace`.
#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Patients to trace.
    #[arg(long, default_value_t = 3)]
    pub patients: u64,
    /// Only this strategy [default: all].
    #[arg(long)]
    pub strategy: Option<String>,
    /// Run seed [default: the scenario's `seed`].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TraceFormat::Text)]
    pub format: TraceFormat,
}

/// Runs a parsed command line, writing human output to `stdout`; returns the exit status (0, or
/// 1 when `validate --strict` finds a failing target).
///
/// # Errors
/// Any [`Error`]: unreadable or invalid scenario, impossible argument, unwritable output.
pub fn execute(cli: Cli, stdout: &mut dyn Write) -> Result<u8> {
    match cli.command {
        Command::Run(args) => run(args, stdout).map(|()| 0),
        Command::Trace(args) => trace(args, stdout).map(|()| 0),
        Command::Validate(args) => validate(args, stdout),
        Command::Psa(args) => psa(args, stdout).map(|()| 0),
        Command::Merge(args) => merge(args, stdout).map(|()| 0),
        Command::Dsa(args) => dsa(args, stdout).map(|()| 0),
        Command::SlurmScript(args) => slurm_script(args, stdout).map(|()| 0),
    }
}

fn out_or(out: &Option<PathBuf>, scenario: &Path, suffix: &str) -> PathBuf {
    out.clone().unwrap_or_else(|| {
        let mut p = default_out(scenario).into_os_string();
        p.push(suffix);
        PathBuf::from(p)
    })
}

fn psa(args: PsaArgs, stdout: &mut dyn Write) -> Result<()> {
    let loaded = scenario::load(&args.scenario)?;
    let patients = check_patients(args.patients)?;
    if args.draws == 0 {
        return Err(Error::Argument {
            option: "--draws",
            reason: "must be at least 1".into(),
        });
    }
    let out = out_or(&args.out, &args.scenario, "-psa");
    let Shard(i, k) = args.shard;
    let progress = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let pb = ProgressBar::new(0);
        pb.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} draws ({per_sec}, ETA {eta})",
            )
            .expect("static template"),
        );
        pb
    });
    let opts = crate::psa::run::PsaOptions {
        draws: args.draws,
        patients,
        seed: args.seed.unwrap_or(loaded.model.seed),
        shard: (i, k),
        threads: threads_or_all(args.threads),
        scenario_path: args.scenario.display().to_string(),
        progress: progress.clone(),
    };
    let records = crate::psa::run::run(&loaded, &opts, &out)?;
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    if !args.quiet {
        let (first, end) = crate::psa::run::shard_range(args.draws, i, k);
        let what = if k > 1 {
            format!("shard {i}/{k} (draws {first} to {})", end.saturating_sub(1))
        } else {
            format!("{} draws", args.draws)
        };
        let mut text = String::new();
        if k == 1 && !records.is_empty() {
            let (wtps, currency) = match &loaded.model.economics {
                Some(e) => (e.wtp.clone(), e.currency.as_str()),
                None => (Vec::new(), "-"),
            };
            let (cost, qaly) = crate::psa::run::cost_and_qaly(&records);
            let names: Vec<String> = loaded
                .model
                .strategies
                .iter()
                .map(|s| s.name.clone())
                .collect();
            let lines = crate::psa::analysis::summary_table(
                &names,
                crate::psa::analysis::Draws {
                    cost: &cost,
                    qaly: &qaly,
                },
                &wtps,
                currency,
            );
            text.push_str(&report::render(&lines));
            text.push_str("(discounted means over the draws, 2.5th-97.5th percentiles; P(CE): share of draws with the highest net monetary benefit; CEAC and EVPI over the whole grid in ceac.csv and evpi.csv)\n\n");
        }
        text.push_str(&format!(
            "PSA {what} x {patients} patients: wrote {}\n",
            out.display()
        ));
        stdout.write_all(text.as_bytes()).map_err(stdout_err)?;
    }
    Ok(())
}

fn merge(args: MergeArgs, stdout: &mut dyn Write) -> Result<()> {
    let n = crate::psa::merge::merge(&args.shards, &args.out)?;
    writeln!(
        stdout,
        "merged {n} draws from {} shards into {}",
        args.shards.len(),
        args.out.display()
    )
    .map_err(stdout_err)
}

fn dsa(args: DsaArgs, stdout: &mut dyn Write) -> Result<()> {
    let started = now_rfc3339();
    let loaded = scenario::load(&args.scenario)?;
    let model = &loaded.model;
    let Some(e) = &model.economics else {
        return Err(Error::Argument {
            option: "scenario",
            reason: "DSA needs [economics]".into(),
        });
    };
    let pick = |opt: &'static str, name: &Option<String>| -> Result<Option<usize>> {
        name.as_ref()
            .map(|n| {
                model
                    .find_strategy(n, &args.scenario.display())
                    .map_err(|reason| Error::Argument {
                        option: opt,
                        reason,
                    })
            })
            .transpose()
    };
    let opts = crate::psa::dsa::DsaOptions {
        patients: check_patients(args.patients.unwrap_or(model.patients))?,
        seed: args.seed.unwrap_or(model.seed),
        threads: threads_or_all(args.threads),
    };
    let strategy = pick("--strategy", &args.strategy)?.unwrap_or(0);
    let target = crate::psa::dsa::Target {
        strategy,
        versus: pick("--versus", &args.versus)?,
        wtp: args.wtp.unwrap_or(e.wtp[0] as f64),
    };
    let crate::psa::dsa::Tornado { versus, base, bars } =
        crate::psa::dsa::dsa(&loaded, &opts, &target)?;
    let out = out_or(&args.out, &args.scenario, "-dsa");
    let mut staged = Staged::prepare(&out)?;
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "parameter",
        "low_value",
        "high_value",
        "nmb_low",
        "nmb_high",
        "range",
    ])?;
    for b in &bars {
        w.write_record([
            b.parameter.clone(),
            format!("{}", b.low_value),
            format!("{}", b.high_value),
            format!("{:.2}", b.nmb_low),
            format!("{:.2}", b.nmb_high),
            format!("{:.2}", b.range()),
        ])?;
    }
    let csv_bytes = w
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    let names = |s: usize| model.strategies[s].name.clone();
    let manifest = serde_json::json!({
        "command": "dsa",
        "allseq_version": env!("CARGO_PKG_VERSION"),
        "git_commit": git_commit(),
        "scenario": args.scenario.display().to_string(),
        "scenario_sha256": loaded.sha256(),
        "seed": opts.seed,
        "patients": opts.patients,
        "strategy": names(strategy),
        "versus": names(versus),
        "wtp": target.wtp,
        "base_incremental_nmb": base,
        "started": started,
        "finished": now_rfc3339(),
    });
    staged.add("tornado.csv", &csv_bytes)?;
    let mut json = serde_json::to_vec_pretty(&manifest)?;
    json.push(b'\n');
    staged.add("manifest.json", &json)?;
    staged.commit()?;
    if !args.quiet {
        let mut text = format!(
            "Incremental NMB of {} vs {} at {} per QALY: base case {base:.0}\n",
            names(strategy),
            names(versus),
            target.wtp
        );
        let mut lines = vec![
            [
                "parameter",
                "low",
                "high",
                "NMB at low",
                "NMB at high",
                "range",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for b in bars.iter().take(15) {
            lines.push(vec![
                b.parameter.clone(),
                format!("{:.4}", b.low_value),
                format!("{:.4}", b.high_value),
                format!("{:.0}", b.nmb_low),
                format!("{:.0}", b.nmb_high),
                format!("{:.0}", b.range()),
            ]);
        }
        text.push_str(&report::render(&lines));
        text.push_str(&format!("wrote {}\n", out.join("tornado.csv").display()));
        stdout.write_all(text.as_bytes()).map_err(stdout_err)?;
    }
    Ok(())
}

/// `p` made absolute against the current directory (array tasks may start elsewhere), for the
/// script, given with `option`: it must be UTF-8, and free of control characters and double
/// quotes (a line break would end a script line, and `#SBATCH` lines quote paths with double
/// quotes).
fn absolute(p: &Path, option: &'static str) -> Result<String> {
    let a = std::path::absolute(p).map_err(|source| Error::Output {
        path: p.to_path_buf(),
        source,
    })?;
    match a.to_str() {
        Some(s) if !s.chars().any(|c| c.is_control() || c == '"') => Ok(s.to_string()),
        _ => Err(Error::Argument {
            option,
            reason: format!(
                "{} cannot go into a script: a path must be UTF-8 without control characters \
                 or double quotes",
                a.display()
            ),
        }),
    }
}

/// The most array tasks `slurm-script` writes: SLURM's `MaxArraySize` is at most 4,000,001,
/// so no cluster runs a larger array.
const MAX_SHARDS: u64 = 4_000_001;

/// Parses `--partition`: SLURM partition names, comma-separated (letters, digits, `_`, `-`,
/// `.`); anything else would break the `#SBATCH` line it goes into.
fn partition_arg(s: &str) -> Result<String, String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || "_-.,".contains(c);
    if s.is_empty() || !s.chars().all(ok) {
        return Err(format!(
            "`{s}` is not a partition name (letters, digits, `_`, `-`, `.`, comma-separated)"
        ));
    }
    Ok(s.to_string())
}

/// Parses `--time` in one of sbatch's forms: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`,
/// or `UNLIMITED`/`INFINITE`.
fn time_arg(s: &str) -> Result<String, String> {
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    // Up to three numbers separated by colons.
    let clock = |x: &str| x.split(':').count() <= 3 && x.split(':').all(digits);
    let ok = s == "UNLIMITED"
        || s == "INFINITE"
        || match s.split_once('-') {
            Some((days, rest)) => digits(days) && clock(rest),
            None => clock(s),
        };
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "`{s}` is not a SLURM time limit (M, M:S, H:M:S, D-H, D-H:M, D-H:M:S or UNLIMITED)"
        ))
    }
}

fn slurm_script(args: SlurmArgs, stdout: &mut dyn Write) -> Result<()> {
    // Load the scenario here too: an invalid one should fail now, not in every array task.
    let loaded = scenario::load(&args.scenario)?;
    let Some(u) = &loaded.model.uncertainty else {
        return Err(Error::Argument {
            option: "scenario",
            reason: "the scenario has no [uncertainty] section: nothing to draw".into(),
        });
    };
    if args.shards == 0 || args.draws == 0 || args.shards > args.draws {
        return Err(Error::Argument {
            option: "--shards",
            reason: format!(
                "needs 1 <= shards <= draws (got {} shards, {} draws)",
                args.shards, args.draws
            ),
        });
    }
    // The script lists every shard's directory (in its merge command), so a count past what
    // SLURM can run once made a vector too large to allocate (a panic) or to write.
    if args.shards > MAX_SHARDS {
        return Err(Error::Argument {
            option: "--shards",
            reason: format!(
                "at most {MAX_SHARDS} (SLURM's largest job array; got {})",
                args.shards
            ),
        });
    }
    let allseq = match &args.allseq {
        Some(p) => p.clone(),
        None => std::env::current_exe().map_err(|source| Error::Output {
            path: "<current executable>".into(),
            source,
        })?,
    };
    let opts = crate::psa::slurm::SlurmOptions {
        allseq: absolute(&allseq, "--allseq")?,
        scenario: absolute(&args.scenario, "scenario")?,
        draws: args.draws,
        patients: check_patients(args.patients)?,
        seed: args.seed.unwrap_or(loaded.model.seed),
        shards: args.shards,
        threads: args.threads.max(1),
        out: absolute(&out_or(&args.out, &args.scenario, "-psa"), "--out")?,
        logs: absolute(&args.logs, "--logs")?,
        partition: args.partition.clone(),
        time: args.time.clone(),
    };
    // Past about 2,400 shards under a 40-character `--out` the merge command no longer fits in
    // one argument: task 0's `sbatch --wrap` would fail with "Argument list too long" once the
    // array runs, and no merge would ever be submitted.
    let script = crate::psa::slurm::script(&opts).map_err(|merge_bytes| Error::Argument {
        option: "--shards",
        reason: format!(
            "{} shards make a merge command of {merge_bytes} bytes, over the {} that Linux \
             passes in the one argument of `sbatch --wrap`; use fewer shards (or a shorter \
             --out)",
            args.shards,
            crate::psa::slurm::MAX_WRAP_BYTES
        ),
    })?;
    // Every draw's parameters, checked now rather than in the array task that meets a bad one;
    // last, as it takes time (0.35 ms of CPU a draw) and the checks above take none.
    crate::psa::run::check_draws(&loaded, u, opts.seed, 0..opts.draws)?;
    stdout.write_all(script.as_bytes()).map_err(stdout_err)
}

fn threads_or_all(threads: usize) -> usize {
    if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    }
}

fn validate(args: ValidateArgs, stdout: &mut dyn Write) -> Result<u8> {
    let started = now_rfc3339();
    let plan = crate::validate::plan(&args.targets)?;
    let patients = check_patients(args.patients.unwrap_or(plan.patients))?;
    let seed = args.seed.unwrap_or(plan.seed);
    let threads = threads_or_all(args.threads);
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&args.targets));
    let mut staged = Staged::prepare(&out_dir)?;
    let quiet = args.quiet;
    let checks = crate::validate::run(&plan, patients, seed, threads, |p| {
        if !quiet {
            eprintln!("running {} ({patients} patients per strategy)", p.display());
        }
    })?;
    let cell = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v:.6}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "id",
        "metric",
        "population",
        "published",
        "simulated",
        "mcse",
        "tolerance",
        "pass",
        "role",
    ])?;
    for c in &checks {
        w.write_record([
            c.id.clone(),
            c.metric.clone(),
            c.population.to_string(),
            format!("{}", c.published),
            cell(c.simulated),
            cell(c.mcse),
            format!("{}", c.tolerance),
            c.pass.to_string(),
            c.role.label().to_string(),
        ])?;
    }
    let csv_bytes = w
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    let manifest = serde_json::json!({
        "command": "validate",
        "allseq_version": env!("CARGO_PKG_VERSION"),
        "git_commit": git_commit(),
        "targets": args.targets.display().to_string(),
        "scenarios": plan.scenarios.iter().map(|(p, _)| p.display().to_string()).collect::<Vec<_>>(),
        "seed": seed,
        "patients": patients,
        "threads": threads,
        "targets_total": checks.len(),
        "targets_passed": checks.iter().filter(|c| c.pass).count(),
        "started": started,
        "finished": now_rfc3339(),
        "peak_memory_kib": peak_memory_kib(),
    });
    staged.add("validation.csv", &csv_bytes)?;
    let mut json = serde_json::to_vec_pretty(&manifest)?;
    json.push(b'\n');
    staged.add("manifest.json", &json)?;
    let written = staged.commit()?;
    let passed = checks.iter().filter(|c| c.pass).count();
    if !args.quiet {
        let mut text = crate::validate::table(&checks);
        text.push_str(&format!(
            "\n{passed} of {} targets pass ({:.0}%; {}); wrote {}\n",
            checks.len(),
            100.0 * passed as f64 / checks.len() as f64,
            crate::validate::pass_counts(&checks),
            written
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        stdout.write_all(text.as_bytes()).map_err(stdout_err)?;
    }
    Ok(u8::from(args.strict && passed < checks.len()))
}

fn default_out(scenario: &Path) -> PathBuf {
    let stem = scenario
        .file_stem()
        .map_or_else(|| "scenario".into(), |s| s.to_string_lossy().into_owned());
    Path::new("output").join(stem)
}

fn check_patients(n: u64) -> Result<u64> {
    if n == 0 {
        return Err(Error::Argument {
            option: "--patients",
            reason: "must be at least 1".into(),
        });
    }
    Ok(n)
}

fn stdout_err(source: std::io::Error) -> Error {
    Error::Output {
        path: "<stdout>".into(),
        source,
    }
}

fn run(args: RunArgs, stdout: &mut dyn Write) -> Result<()> {
    let started = now_rfc3339();
    let loaded = scenario::load(&args.scenario)?;
    let model = &loaded.model;
    let patients = check_patients(args.patients.unwrap_or(model.patients))?;
    if args.chunk_size == 0 {
        return Err(Error::Argument {
            option: "--chunk-size",
            reason: "must be at least 1".into(),
        });
    }
    let seed = args.seed.unwrap_or(model.seed);
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&args.scenario));
    let mut staged = Staged::prepare(&out_dir)?;

    let progress = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let pb = ProgressBar::new(patients);
        pb.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} patients ({per_sec}, ETA {eta})",
            )
            .expect("static template"),
        );
        pb
    });
    let threads = threads_or_all(args.threads);
    let opts = RunOptions {
        patients,
        seed,
        threads,
        chunk_size: args.chunk_size,
        progress: progress.clone(),
    };
    let clock = std::time::Instant::now();
    let agg = runner::run(model, &opts)?;
    let simulation_seconds = clock.elapsed().as_secs_f64();
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }

    let summary = report::to_csv(
        &report::summary_header(),
        &report::summary_rows(model, &agg),
    )?;
    let survival = report::to_csv(
        &report::SURVIVAL_HEADER,
        &report::survival_rows(model, &agg),
    )?;
    let manifest = Manifest {
        command: "run".into(),
        allseq_version: env!("CARGO_PKG_VERSION").into(),
        git_commit: git_commit(),
        scenario: args.scenario.display().to_string(),
        scenario_sha256: loaded.sha256(),
        seed,
        patients,
        threads,
        chunk_size: args.chunk_size,
        strategies: model.strategies.iter().map(|s| s.name.clone()).collect(),
        started,
        finished: now_rfc3339(),
        peak_memory_kib: peak_memory_kib(),
        simulation_seconds,
        trajectories_per_second: (simulation_seconds > 0.0).then(|| {
            (patients as f64 * model.strategies.len() as f64 / simulation_seconds).round()
        }),
        economics: model.economics.as_ref().map(|e| ManifestEconomics {
            currency: e.currency.clone(),
            price_year: e.price_year,
            discount_costs: e.discount_costs,
            discount_effects: e.discount_effects,
            wtp: e.wtp.clone(),
        }),
    };
    staged.add("summary.csv", &summary)?;
    staged.add("survival.csv", &survival)?;
    if let Some(e) = &model.economics {
        let rows = report::incremental_rows(model, &agg);
        staged.add(
            "incremental.csv",
            &report::to_csv(&report::incremental_header(&e.wtp), &rows)?,
        )?;
    }
    let mut json = serde_json::to_vec_pretty(&manifest)?;
    json.push(b'\n');
    staged.add("manifest.json", &json)?;
    let written = staged.commit()?;

    if !args.quiet {
        let mut text = format!(
            "{}: {} patients per strategy, seed {}, {} threads\n\n",
            model.name, patients, seed, threads
        );
        text.push_str(&report::summary_table(model, &agg));
        if model.economics.is_some() {
            text.push('\n');
            text.push_str(&report::incremental_table(model, &agg));
        }
        text.push_str(&format!(
            "\nwrote {}\n",
            written
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        stdout.write_all(text.as_bytes()).map_err(stdout_err)?;
    }
    Ok(())
}

fn trace(args: TraceArgs, stdout: &mut dyn Write) -> Result<()> {
    let loaded = scenario::load(&args.scenario)?;
    let model = &loaded.model;
    let patients = check_patients(args.patients)?;
    let strategies: Vec<usize> = match &args.strategy {
        None => (0..model.strategies.len()).collect(),
        Some(name) => vec![
            model
                .find_strategy(name, &args.scenario.display())
                .map_err(|reason| Error::Argument {
                    option: "--strategy",
                    reason,
                })?,
        ],
    };
    // Each patient's rows are written as they are made: a long trace streams.
    let mut first = true;
    crate::trace::trace(
        model,
        args.seed.unwrap_or(model.seed),
        patients,
        &strategies,
        |rows| {
            let bytes = match args.format {
                TraceFormat::Text => crate::trace::to_text(rows).into_bytes(),
                TraceFormat::Csv => crate::trace::to_csv(rows, first)?,
            };
            first = false;
            stdout.write_all(&bytes).map_err(stdout_err)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_i_of_k_with_i_below_k() {
        assert_eq!("0/8".parse::<Shard>(), Ok(Shard(0, 8)));
        assert_eq!("7/8".parse::<Shard>(), Ok(Shard(7, 8)));
        for bad in ["8/8", "9/8", "0/0", "3-8", "a/8", "3/b", "-1/8", "3/8/9"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn threads_go_up_to_the_maximum() {
        assert_eq!(threads_arg("0"), Ok(0));
        assert_eq!(threads_arg("1024"), Ok(MAX_THREADS));
        assert!(threads_arg("1025").is_err());
        assert!(threads_arg("-1").is_err());
        assert!(threads_arg("two").is_err());
    }

    #[test]
    fn a_willingness_to_pay_is_an_amount_up_to_ten_to_the_twelve() {
        assert_eq!(wtp_arg("0"), Ok(0.0));
        assert_eq!(wtp_arg("50000"), Ok(50000.0));
        assert_eq!(wtp_arg("1e12"), Ok(1e12));
        for bad in ["-1", "1.000001e12", "NaN", "inf", "1e308", "fifty"] {
            assert!(wtp_arg(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_output_directory_is_the_given_one_or_named_after_the_scenario() {
        let scenario = Path::new("scenarios/adult_rr_ball.toml");
        assert_eq!(
            out_or(&None, scenario, "-psa"),
            Path::new("output/adult_rr_ball-psa")
        );
        assert_eq!(
            out_or(&None, scenario, ""),
            Path::new("output/adult_rr_ball")
        );
        let given = Some(PathBuf::from("/tmp/x"));
        assert_eq!(out_or(&given, scenario, "-psa"), Path::new("/tmp/x"));
    }

    #[test]
    fn time_limits_take_sbatch_s_forms() {
        for ok in [
            "UNLIMITED",
            "INFINITE",
            "90",
            "90:30",
            "12:00:00",
            "2-12",
            "2-12:30",
            "2-12:30:00",
        ] {
            assert_eq!(time_arg(ok), Ok(ok.to_string()));
        }
        for bad in [
            "",
            "abc",
            "1:2:3:4",
            "x-12",
            "2-x",
            "2-",
            "-12",
            "2-1:2:3:4",
            "1::2",
            "infinite",
        ] {
            assert!(time_arg(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn partitions_are_comma_separated_names() {
        for ok in ["gpu", "short,long", "x_y-1.2"] {
            assert_eq!(partition_arg(ok), Ok(ok.to_string()));
        }
        for bad in ["", "a b", "a;b", "a\"b", "a\nb"] {
            assert!(partition_arg(bad).is_err(), "{bad}");
        }
    }

    /// `--threads 0` takes one per core (recorded so in the manifests).
    #[test]
    fn zero_threads_are_one_per_core() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(threads_or_all(0), cores);
        assert_eq!(threads_or_all(3), 3);
        assert_eq!(threads_or_all(1), 1);
    }

    /// Paths written into a SLURM script are absolute, and refused with a double quote or a
    /// control character (either would break the script's lines).
    #[test]
    fn script_paths_are_absolute_and_safe() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            absolute(Path::new("out/psa"), "--out").unwrap(),
            cwd.join("out/psa").to_str().unwrap()
        );
        assert_eq!(absolute(Path::new("/a b/c"), "--out").unwrap(), "/a b/c");
        for bad in ["/a\"b", "/a\nb", "/a\tb"] {
            let e = absolute(Path::new(bad), "--logs").unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::Argument {
                        option: "--logs",
                        ..
                    }
                ),
                "{bad}: {e}"
            );
        }
    }
}
