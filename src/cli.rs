//! The command line: `allseq run` and `allseq trace`.

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
    #[arg(long, default_value_t = 0)]
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
    #[arg(long, default_value_t = 0)]
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
    }
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
    let agg = runner::run(model, &opts)?;
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
        Some(name) => vec![model.strategy_index(name).ok_or_else(|| Error::Argument {
            option: "--strategy",
            reason: format!(
                "no strategy `{name}` in {} (it has: {})",
                args.scenario.display(),
                model
                    .strategies
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?],
    };
    let rows = crate::trace::trace(
        model,
        args.seed.unwrap_or(model.seed),
        patients,
        &strategies,
    );
    let bytes = match args.format {
        TraceFormat::Text => crate::trace::to_text(&rows).into_bytes(),
        TraceFormat::Csv => crate::trace::to_csv(&rows)?,
    };
    stdout.write_all(&bytes).map_err(stdout_err)
}
