//! `allseq psa`, `merge`, `dsa` and `slurm-script`: sharding, resume, refusals, CEAC/EVPI and
//! the validation of `[uncertainty]`.

use crate::common::*;
use std::path::{Path, PathBuf};

/// The CSV files of a whole PSA (the manifest differs by design: times and command).
const CSVS: [&str; 6] = [
    "psa_params.csv",
    "psa_long.csv",
    "psa_cost.csv",
    "psa_effect.csv",
    "ceac.csv",
    "evpi.csv",
];

const DRAWS: u64 = 16;
const PATIENTS: u64 = 150;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs `allseq psa` on the adult scenario and asserts success.
fn psa(out: &Path, extra: &[&str]) {
    let draws = DRAWS.to_string();
    let patients = PATIENTS.to_string();
    let mut args: Vec<String> = vec![
        "psa".into(),
        s(&adult()).to_owned(),
        "--draws".into(),
        draws,
        "--patients".into(),
        patients,
        "--out".into(),
        s(out).to_owned(),
        "--quiet".into(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = allseq(&args);
    assert!(o.status.success(), "psa {args:?} failed: {}", stderr(&o));
}

fn merge(dirs: &[PathBuf], out: &Path) -> std::process::Output {
    let mut args = vec!["merge"];
    args.extend(dirs.iter().map(|d| s(d)));
    args.extend(["--out", s(out)]);
    allseq(&args)
}

fn assert_same_csvs(a: &Path, b: &Path) {
    for f in CSVS {
        let x = std::fs::read(a.join(f)).unwrap_or_else(|e| panic!("{}: {e}", a.join(f).display()));
        let y = std::fs::read(b.join(f)).unwrap_or_else(|e| panic!("{}: {e}", b.join(f).display()));
        assert!(
            x == y,
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// Runs the PSA as `k` shards (each on `threads` threads) and merges them into `dir/merged-k`.
fn sharded(dir: &Path, k: u64, threads: &str) -> PathBuf {
    let shards: Vec<PathBuf> = (0..k)
        .map(|i| {
            let out = dir.join(format!("k{k}-shard{i}"));
            psa(
                &out,
                &["--shard", &format!("{i}/{k}"), "--threads", threads],
            );
            out
        })
        .collect();
    let merged = dir.join(format!("merged-{k}"));
    let o = merge(&shards, &merged);
    assert!(o.status.success(), "merge failed: {}", stderr(&o));
    merged
}

#[test]
fn sharded_runs_merge_to_the_unsharded_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    psa(&whole, &["--threads", "2"]);
    // The files exist and have one row per draw (per strategy for the long file).
    let long = std::fs::read_to_string(whole.join("psa_long.csv")).unwrap();
    assert_eq!(
        long.lines().count() as u64,
        1 + DRAWS * adult_strategies() as u64
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(whole.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["command"], "psa");
    assert_eq!(
        m["shard"],
        serde_json::Value::Null,
        "a whole run is no shard"
    );
    let cost = std::fs::read_to_string(whole.join("psa_cost.csv")).unwrap();
    assert_eq!(cost.lines().count() as u64, 1 + DRAWS);
    assert!(!cost.starts_with("draw"), "dampack layout: strategies only");
    // One thread, one shard.
    let single = dir.path().join("single");
    psa(&single, &["--threads", "1"]);
    assert_same_csvs(&whole, &single);
    for k in [1, 2, 8] {
        let merged = sharded(dir.path(), k, if k == 2 { "2" } else { "1" });
        assert_same_csvs(&whole, &merged);
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(merged.join("manifest.json")).unwrap())
                .unwrap();
        assert_eq!(m["command"], "merge");
        assert_eq!(m["draws_covered"], serde_json::json!([0, DRAWS]));
    }
    // A shard of K > 1 holds only its draws, with the draw-level files only.
    let shard = dir.path().join("k8-shard3");
    let params = std::fs::read_to_string(shard.join("psa_params.csv")).unwrap();
    let draws: Vec<&str> = params
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(draws, ["6", "7"], "shard 3/8 of 16 draws is [6, 8)");
    assert!(!shard.join("ceac.csv").exists());
}

#[test]
fn a_whole_psa_prints_its_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("psa");
    let o = allseq(&[
        "psa",
        s(&adult()),
        "--draws",
        "8",
        "--patients",
        "100",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("cost (USD) mean [95% interval]"), "{text}");
    let last = format!("\nPSA 8 draws x 100 patients: wrote {}\n", out.display());
    assert!(text.ends_with(&last), "{text}");
    for needle in [
        "P(CE) at 50000",
        "P(CE) at 100000",
        "car_t_first",
        "chemotherapy_first",
    ] {
        assert!(text.contains(needle), "`{needle}` not in:\n{text}");
    }
}

/// A shard prints only which draws it ran (no summary: it has a part of the draws), and
/// `--quiet` prints nothing, for `psa` and `dsa` alike.
#[test]
fn a_shard_prints_its_draws_and_quiet_prints_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("shard");
    let scenario = adult();
    let psa = |extra: &[&str]| {
        let mut args = vec!["psa", s(&scenario), "--draws", "30", "--patients", "10"];
        args.extend_from_slice(extra);
        let o = allseq(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    assert_eq!(
        psa(&["--shard", "1/3", "--out", s(&out)]),
        format!(
            "PSA shard 1/3 (draws 10 to 19) x 10 patients: wrote {}\n",
            out.display()
        )
    );
    assert_eq!(psa(&["--out", s(&dir.path().join("q")), "--quiet"]), "");
    let dsa = |extra: &[&str]| {
        let mut args = vec!["dsa", s(&scenario), "--patients", "50"];
        args.extend_from_slice(extra);
        let o = allseq(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    let text = dsa(&["--out", s(&dir.path().join("d1"))]);
    assert!(text.starts_with("Incremental NMB of "), "{text}");
    assert_eq!(dsa(&["--out", s(&dir.path().join("d2")), "--quiet"]), "");
}

#[test]
fn another_seed_gives_other_draws() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    psa(&a, &["--seed", "1"]);
    psa(&b, &["--seed", "2"]);
    let read = |p: &Path| std::fs::read(p.join("psa_params.csv")).unwrap();
    assert_ne!(read(&a), read(&b));
}

#[test]
fn merge_refuses_missing_duplicated_and_foreign_shards() {
    let dir = tempfile::tempdir().unwrap();
    let shard = |i: u64, seed: &str| {
        let out = dir.path().join(format!("s{seed}-{i}"));
        psa(&out, &["--shard", &format!("{i}/4"), "--seed", seed]);
        out
    };
    let shards: Vec<PathBuf> = (0..4).map(|i| shard(i, "7")).collect();
    let refused = |dirs: &[PathBuf], needle: &str| {
        let out = dir.path().join("merged");
        let o = merge(dirs, &out);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(needle), "expected `{needle}` in: {err}");
        assert!(!out.exists(), "no output on refusal");
    };
    // Shard 2 of 4 holds draws 8 to 11.
    refused(
        &[shards[0].clone(), shards[1].clone(), shards[3].clone()],
        "4 of 16 draws are missing: 8-11",
    );
    refused(
        &[
            shards[0].clone(),
            shards[1].clone(),
            shards[1].clone(),
            shards[2].clone(),
            shards[3].clone(),
        ],
        "appears in both",
    );
    let foreign = shard(2, "8");
    refused(
        &[
            shards[0].clone(),
            shards[1].clone(),
            foreign,
            shards[3].clone(),
        ],
        "different PSAs",
    );
    refused(&[dir.path().join("nowhere")], "cannot read");
    // A failed task's directory (no manifest) among good ones: its draws are named too.
    let failed = [
        shards[0].clone(),
        shards[1].clone(),
        dir.path().join("nowhere"),
        shards[3].clone(),
    ];
    refused(&failed, "4 of 16 draws are missing: 8-11");
    refused(&failed, "cannot read");
    // A damaged shard file: a non-finite number, a row twice, a parameter row without results
    // (each merged without a word before).
    let damaged = |file: &str, edit: &dyn Fn(&str) -> String, needle: &str| {
        let copy = dir.path().join("damaged");
        std::fs::create_dir_all(&copy).unwrap();
        for f in ["manifest.json", "psa_params.csv", "psa_long.csv"] {
            std::fs::copy(shards[1].join(f), copy.join(f)).unwrap();
        }
        let text = std::fs::read_to_string(copy.join(file)).unwrap();
        std::fs::write(copy.join(file), edit(&text)).unwrap();
        let dirs = [
            shards[0].clone(),
            copy,
            shards[2].clone(),
            shards[3].clone(),
        ];
        refused(&dirs, needle);
    };
    let second_line = |t: &str| t.lines().nth(1).unwrap().to_string();
    damaged(
        "psa_long.csv",
        &|t| {
            let line = second_line(t);
            let cost = line.split(',').nth(2).unwrap().to_string();
            t.replacen(&line, &line.replacen(&cost, "NaN", 1), 1)
        },
        "psa_long.csv:2: malformed row `4,blinatumomab_first,NaN,",
    );
    // A header that is not the PSA's: a file of one column made `merge` panic on its rows.
    damaged(
        "psa_long.csv",
        &|t| {
            t.lines()
                .map(|l| l.split(',').next().unwrap().to_string() + "\n")
                .collect()
        },
        "psa_long.csv:1: column 2 of the header is nothing, where this PSA has `strategy`",
    );
    damaged(
        "psa_params.csv",
        &|t| t.replacen("draw,", "draw,x,", 1),
        "psa_params.csv:1: column 2 of the header is `x`",
    );
    damaged(
        "psa_long.csv",
        &|t| format!("{t}{}\n", second_line(t)),
        "has `blinatumomab_first` twice",
    );
    damaged(
        "psa_params.csv",
        &|t| format!("{t}{}\n", second_line(t)),
        "draw 4 appears twice",
    );
    damaged(
        "psa_params.csv",
        &|t| format!("{t}{}\n", second_line(t).replacen("4,", "12,", 1)),
        "draw 12 has parameters but no results",
    );
    // `--out` one of the shards (here by another spelling of its path) once replaced that
    // shard's files with the merged ones, losing the shard.
    let before = std::fs::read(shards[2].join("psa_long.csv")).unwrap();
    let o = merge(&shards, &shards[2].join("."));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "invalid --out: {} is one of the shard directories",
            shards[2].display()
        )),
        "{err}"
    );
    assert_eq!(
        std::fs::read(shards[2].join("psa_long.csv")).unwrap(),
        before
    );
    assert!(!shards[2].join("ceac.csv").exists(), "nothing written");
    let merged = dir.path().join("merged");
    let o = merge(&shards, &merged);
    assert!(o.status.success(), "{}", stderr(&o));
    // An existing output directory that is no shard is merged into again.
    let o = merge(&shards, &merged);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// The merged manifest describes the merge, not the first shard: its own times, commit and
/// memory, and no shard. Each shard's manifest is given values no merge could have.
#[test]
fn a_merged_manifest_is_the_merges_own() {
    let dir = tempfile::tempdir().unwrap();
    let shards: Vec<PathBuf> = (0..2)
        .map(|i| {
            let out = dir.path().join(format!("shard{i}"));
            psa(&out, &["--shard", &format!("{i}/2")]);
            let path = out.join("manifest.json");
            let mut m: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            assert_eq!(m["shard"], format!("{i}/2"));
            m["started"] = "2000-01-01T00:00:00Z".into();
            m["finished"] = "2000-01-01T00:00:01Z".into();
            m["git_commit"] = "not-this-build".into();
            m["peak_memory_kib"] = 1.into();
            std::fs::write(&path, m.to_string()).unwrap();
            out
        })
        .collect();
    let merged = dir.path().join("merged");
    let o = merge(&shards, &merged);
    assert!(o.status.success(), "{}", stderr(&o));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(merged.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["command"], "merge");
    assert_eq!(m["shard"], serde_json::Value::Null);
    assert!(
        m["started"].as_str().unwrap() > "2000-01-01T00:00:01Z",
        "{m}"
    );
    assert!(m["finished"].as_str().unwrap() >= m["started"].as_str().unwrap());
    assert_ne!(m["git_commit"], "not-this-build");
    assert!(m["peak_memory_kib"].as_u64().is_none_or(|k| k > 1), "{m}");
}

#[test]
fn a_killed_run_resumes_to_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    let (draws, patients) = ("400", "2000");
    let args = |out: &Path| {
        vec![
            "psa".to_string(),
            s(&adult()).into(),
            "--draws".into(),
            draws.into(),
            "--patients".into(),
            patients.into(),
            "--threads".into(),
            "2".into(),
            "--out".into(),
            s(out).into(),
            "--quiet".into(),
        ]
    };
    let killed = dir.path().join("killed");
    let partial = killed.join(".psa_draws.partial");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_allseq"))
        .args(args(&killed))
        .spawn()
        .unwrap();
    // Wait until a few draws are on disk, then SIGKILL.
    let lines = || {
        std::fs::read_to_string(&partial)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    let start = std::time::Instant::now();
    while lines() < 4 {
        assert!(start.elapsed().as_secs() < 120, "no draws written");
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before it could be killed"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done = lines() - 1;
    assert!(
        (3..400).contains(&done),
        "killed mid-run: {done} draws on disk"
    );
    assert!(
        !killed.join("manifest.json").exists(),
        "no final files from a killed run"
    );
    // A kill can cut a line short: simulate the worst case, half a line at the end.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&partial)
        .unwrap();
    std::io::Write::write_all(&mut f, b"399,0.81,0.3").unwrap();
    drop(f);
    let resumed = allseq(&args(&killed).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert!(
        !partial.exists(),
        "the partial file goes once the run is complete"
    );
    let whole = dir.path().join("whole");
    let o = allseq(&args(&whole).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success());
    assert_same_csvs(&whole, &killed);
}

#[test]
fn a_partial_run_of_other_arguments_is_not_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        out.join(".psa_draws.partial"),
        "# allseq psa shard 0/1 {\"seed\":1}\n0,1,2\n",
    )
    .unwrap();
    let o = allseq(&[
        "psa",
        s(&adult()),
        "--draws",
        "4",
        "--patients",
        "50",
        "--out",
        s(&out),
        "--quiet",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("partial PSA run with other arguments"),
        "{err}"
    );
    assert!(!out.join("psa_long.csv").exists());
}

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

#[test]
fn ceac_sums_to_one_and_evpi_is_zero_exactly_when_one_strategy_always_wins() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("psa");
    psa(&out, &[]);
    let k = adult_strategies();
    let ceac = csv_rows(&out.join("ceac.csv"));
    let evpi = csv_rows(&out.join("evpi.csv"));
    assert_eq!(ceac.len(), evpi.len() * k);
    for (at, e) in ceac.chunks(k).zip(&evpi) {
        assert!(at.iter().all(|r| r[0] == e[0]), "grid rows align");
        // Probabilities are written to 6 decimals: the sum is 1 within k rounding errors.
        let sum: f64 = at.iter().map(|r| r[2].parse::<f64>().unwrap()).sum();
        assert!(
            (sum - 1.0).abs() <= k as f64 * 5e-7,
            "CEAC sums to {sum} at {}",
            e[0]
        );
        assert_eq!(
            at.iter().filter(|r| r[3] == "true").count(),
            1,
            "one frontier strategy"
        );
        let per_person: f64 = e[1].parse().unwrap();
        assert!(per_person >= 0.0);
        let population: f64 = e[2].parse().unwrap();
        assert!(
            (population - per_person * 1000.0).abs() <= 0.01 * 1000.0,
            "population 1000"
        );
    }
    // Recompute from psa_cost/psa_effect: EVPI is 0 at a WTP exactly when one strategy has the
    // best NMB in every draw (then its CEAC probability is 1).
    let cost = csv_rows(&out.join("psa_cost.csv"));
    let qaly = csv_rows(&out.join("psa_effect.csv"));
    let mut zero_seen = false;
    let mut positive_seen = false;
    for (at, e) in ceac.chunks(k).zip(&evpi) {
        let wtp: f64 = e[0].parse().unwrap();
        let best = |d: usize| {
            (0..k)
                .max_by(|&a, &b| {
                    let nmb = |s: usize| {
                        wtp * qaly[d][s].parse::<f64>().unwrap()
                            - cost[d][s].parse::<f64>().unwrap()
                    };
                    nmb(a).total_cmp(&nmb(b))
                })
                .unwrap()
        };
        let always = (0..cost.len()).all(|d| best(d) == best(0));
        let per_person: f64 = e[1].parse().unwrap();
        if always {
            zero_seen = true;
            assert_eq!(per_person, 0.0, "one winner at {wtp}: EVPI must be 0");
            assert_eq!(at[best(0)][2], "1.000000");
        } else {
            positive_seen = true;
            assert!(
                per_person > 0.0,
                "winners differ at {wtp}: EVPI must be > 0"
            );
        }
    }
    // Both branches ran (chemotherapy is cheapest in every draw at a WTP of 0).
    assert!(zero_seen && positive_seen);
}

#[test]
fn dsa_writes_a_sorted_tornado() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dsa");
    let o = allseq(&[
        "dsa",
        s(&adult()),
        "--patients",
        "400",
        "--out",
        s(&out),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(out.join("tornado.csv")).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        "parameter,low_value,high_value,nmb_low,nmb_high,range"
    );
    let rows = csv_rows(&out.join("tornado.csv"));
    // Every scalar uncertain parameter has a bar (the Dirichlet split has none).
    let scalar = adult_text()
        .lines()
        .filter(|l| l.starts_with("\"") && l.contains("dist = ") && !l.contains("dirichlet"))
        .count();
    assert_eq!(rows.len(), scalar);
    let num = |r: &Vec<String>, i: usize| r[i].parse::<f64>().unwrap();
    for r in &rows {
        assert!(num(r, 1) < num(r, 2), "low < high: {r:?}");
        assert!(
            (num(r, 5) - (num(r, 4) - num(r, 3)).abs()).abs() <= 0.011,
            "{r:?}"
        );
    }
    assert!(
        rows.windows(2).all(|w| num(&w[0], 5) >= num(&w[1], 5)),
        "sorted by range"
    );
    // The CAR-T product price moves CAR-T-first against its comparator; it must matter.
    assert!(
        rows.iter()
            .any(|r| r[0].contains("cd19_car_t.costs.product") && num(r, 5) > 0.0)
    );
}

#[test]
fn slurm_script_passes_k_explicitly_and_logs_to_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let o = allseq(&[
        "slurm-script",
        s(&adult()),
        "--draws",
        "64",
        "--patients",
        "500",
        "--shards",
        "8",
        "--out",
        s(&dir.path().join("psa")),
        "--logs",
        s(&dir.path().join("logs")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let script = String::from_utf8(o.stdout).unwrap();
    assert!(script.starts_with("#!/usr/bin/env bash\n"));
    for needle in [
        "#SBATCH --array=0-7\n",
        "K=8 ",
        "--shard \"$i/$K\"",
        "--draws 64 --patients 500",
        &format!(
            "#SBATCH --output=\"{}/psa_%A_%a.out\"",
            s(&dir.path().join("logs"))
        ),
        "--kill-on-invalid-dep=yes",
        "--dependency=afterok:",
        " merge ",
    ] {
        assert!(script.contains(needle), "`{needle}` not in:\n{script}");
    }
    assert!(
        !script.contains("SLURM_ARRAY_TASK_COUNT\""),
        "K must not come from SLURM"
    );
    let bad = allseq(&[
        "slurm-script",
        s(&adult()),
        "--draws",
        "4",
        "--patients",
        "10",
        "--shards",
        "8",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("shards <= draws"));
    // More shards than any SLURM array can have panicked (capacity overflow) building the list
    // of shard directories for the merge.
    let max = u64::MAX.to_string();
    let bad = allseq(&[
        "slurm-script",
        s(&adult()),
        "--draws",
        &max,
        "--patients",
        "10",
        "--shards",
        &max,
    ]);
    let err = stderr(&bad);
    assert_eq!(bad.status.code(), Some(2), "{err}");
    assert!(err.contains("invalid --shards: at most 4000001"), "{err}");
    // The merge command lists every shard directory and goes to `sbatch --wrap` as one
    // argument, which Linux caps at 131,071 bytes: 3,000 shards under a long `--out` would
    // fail at submission (about 50 bytes a shard), under a short one they fit (about 17).
    let dir = tempfile::tempdir().unwrap();
    let long_out = dir
        .path()
        .join("a-directory-name-long-enough-to-matter-here");
    let three_thousand = |out: &Path| {
        allseq(&[
            "slurm-script",
            s(&adult()),
            "--draws",
            "3000",
            "--patients",
            "10",
            "--shards",
            "3000",
            "--out",
            s(out),
        ])
    };
    let bad = three_thousand(&long_out);
    let err = stderr(&bad);
    assert_eq!(bad.status.code(), Some(2), "{err}");
    assert!(
        err.contains("over the 131071 that Linux passes in the one argument of `sbatch --wrap`"),
        "{err}"
    );
    let ok = three_thousand(Path::new("/o"));
    assert!(ok.status.success(), "{}", stderr(&ok));
    let script = String::from_utf8(ok.stdout).unwrap();
    let merge = script
        .lines()
        .find_map(|l| l.strip_prefix("# Merge:      "))
        .expect("the script shows its merge command");
    assert!(merge.len() <= 131_071 && merge.contains("'/o/shard-2999'"));
}

/// Values that would break the script's lines are refused: a partition with a line break once
/// put a command of its own into the script, and `--time abc` failed only at submission.
#[test]
fn slurm_script_refuses_what_would_break_the_script() {
    let refused = |o: std::process::Output, what: &str, needle: &str| {
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains(needle), "{what}: expected `{needle}` in {err}");
        assert!(o.stdout.is_empty(), "no script printed");
    };
    let dir = tempfile::tempdir().unwrap();
    let quoted = dir.path().join("a\"b");
    let scenario = adult();
    let script = |extra: &[&str]| {
        let mut args = vec![
            "slurm-script",
            s(&scenario),
            "--draws",
            "4",
            "--patients",
            "10",
            "--shards",
            "2",
        ];
        args.extend_from_slice(extra);
        allseq(&args)
    };
    for (extra, needle) in [
        (
            vec!["--partition", "short\nrm -rf x"],
            "is not a partition name",
        ),
        (vec!["--partition", ""], "is not a partition name"),
        (vec!["--time", "abc"], "is not a SLURM time limit"),
        (vec!["--time", "1:2:3:4"], "is not a SLURM time limit"),
        (vec!["--logs", s(&quoted)], "cannot go into a script"),
    ] {
        refused(script(&extra), &format!("{extra:?}"), needle);
    }
    // Shard counts: 1 <= shards <= draws.
    for (draws, shards) in [("4", "0"), ("0", "1"), ("0", "0"), ("4", "5")] {
        let o = allseq(&[
            "slurm-script",
            s(&scenario),
            "--draws",
            draws,
            "--patients",
            "10",
            "--shards",
            shards,
        ]);
        let what = format!("{draws} draws, {shards} shards");
        refused(o, &what, "invalid --shards: needs 1 <= shards <= draws");
    }
    for (extra, line) in [
        (vec!["--time", "12:00:00"], "#SBATCH --time=12:00:00\n"),
        (vec!["--time", "2-12:30"], "#SBATCH --time=2-12:30\n"),
        (vec!["--time", "90"], "#SBATCH --time=90\n"),
        (
            vec!["--partition", "gpu,cpu-long"],
            "#SBATCH --partition=gpu,cpu-long\n",
        ),
    ] {
        let o = script(&extra);
        assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
        let text = String::from_utf8(o.stdout).unwrap();
        assert!(text.contains(line), "`{line}` not in:\n{text}");
    }
}

#[test]
fn bad_psa_arguments_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let scenario = adult();
    for (args, needle) in [
        (vec!["--shard", "8/8"], "0 <= i < K"),
        (vec!["--shard", "x"], "not i/K"),
        (vec!["--draws", "0"], "--draws"),
        (vec!["--threads", "1025"], "at most 1024"),
    ] {
        let mut all = vec![
            "psa",
            s(&scenario),
            "--patients",
            "10",
            "--out",
            s(&out),
            "--quiet",
        ];
        if !args.contains(&"--draws") {
            all.extend(["--draws", "4"]);
        }
        all.extend(args);
        let o = allseq(&all);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{all:?}: {err}");
        assert!(err.contains(needle), "expected `{needle}` in: {err}");
        assert!(!out.join("psa_long.csv").exists());
    }
    // A scenario without [uncertainty] has nothing to draw.
    let pediatric = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/pediatric_rr_ball.toml");
    let o = allseq(&[
        "psa",
        s(&pediatric),
        "--draws",
        "2",
        "--patients",
        "10",
        "--out",
        s(&out),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no [uncertainty]"), "{}", stderr(&o));
}

/// Loads the adult scenario with one line of `[uncertainty]` edited; expects a clean failure
/// at that line with `message`.
fn bad_uncertainty(from: &str, to: &str, message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let text = edit(&adult_text(), from, to);
    let line = line_of(&text, to);
    let path = write(dir.path(), "bad.toml", &text);
    let out = dir.path().join("out");
    let o = allseq(&[
        "psa",
        s(&path),
        "--draws",
        "2",
        "--patients",
        "10",
        "--out",
        s(&out),
        "--quiet",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains(&format!("bad.toml:{line}:")),
        "expected line {line} in: {err}"
    );
    assert!(err.contains(message), "expected `{message}` in: {err}");
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().next().is_none());
}

#[test]
fn bad_uncertainty_is_refused_at_load() {
    bad_uncertainty(
        "\"therapies.allo_hct.trm\" = { dist = \"beta\", mean = 0.20, se = 0.05 }",
        "\"therapies.allo_hct.trn\" = { dist = \"beta\", mean = 0.20, se = 0.05 }",
        "`therapies.allo_hct.trn` is not a field of the scenario",
    );
    bad_uncertainty(
        "\"therapies.allo_hct.trm\" = { dist = \"beta\", mean = 0.20, se = 0.05 }",
        "\"therapies.allo_hct.trm\" = { dist = \"beta\", mean = 0.20, se = 0.45 }",
        "se^2 < mean (1 - mean)",
    );
    bad_uncertainty(
        "{ dist = \"beta\", events = 7, n = 92 }",
        "{ dist = \"beta\", events = 93, n = 92 }",
        "0 < events < n",
    );
    bad_uncertainty(
        "{ dist = \"gamma\", mean = 475000, se = 118750 }",
        "{ dist = \"gamma\", mean = -475000, se = 118750 }",
        "mean > 0",
    );
    bad_uncertainty(
        "counts = { mrd_only = 0, blasts_lt5 = 0, blasts_5_49 = 101, blasts_ge50 = 304 }",
        "counts = { mrd_only = 0, blasts_5_49 = 101, blasts_ge50 = 304 }",
        "the counts must name the shares",
    );
    // A value drawn outside what the field allows (a probability above 1) is caught at load.
    bad_uncertainty(
        "\"therapies.allo_hct.trm\" = { dist = \"beta\", mean = 0.20, se = 0.05 }",
        "\"therapies.allo_hct.trm\" = { dist = \"uniform\", min = 0.1, max = 1.5 }",
        "not a valid value here",
    );
    bad_uncertainty(
        "\"therapies.allo_hct.trm\" = { dist = \"beta\", mean = 0.20, se = 0.05 }",
        "\"therapies.allo_hct.trm\" = { dist = \"weibull\", mean = 0.20, se = 0.05 }",
        "unknown parameter distribution `weibull`",
    );
    bad_uncertainty(
        "\"economics.utilities.relapse\" = { dist = \"beta\", mean = 0.30, se = 0.05 }",
        "\"economics.utilities.relapse\" = { dist = \"fixed\", value = \"x\" }",
        "`uncertainty.parameters.economics.utilities.relapse.value`",
    );
}

/// Shapes above 10^6 are refused at load: statrs' inverse CDF, which draws every value, does
/// not return for some of them (both of these hung every command at load before the bound).
#[test]
fn near_certain_parameters_are_refused_before_their_quantiles_hang() {
    bad_uncertainty(
        "{ dist = \"beta\", events = 7, n = 92 }",
        "{ dist = \"beta\", events = 7, n = 1e7 }",
        "manufacturing_failure.n`: makes a beta with a shape parameter of 1.0000e7, above the 10^6",
    );
    bad_uncertainty(
        "{ dist = \"gamma\", mean = 475000, se = 118750 }",
        "{ dist = \"gamma\", mean = 475000, se = 0.5 }",
        "drug.se`: makes a gamma with a shape parameter of 9.0250e11",
    );
}

/// Parameters valid one at a time can break a rule together in some draw. Every draw is
/// checked before any is simulated, so the run stops at once, writes nothing, and names the
/// lowest bad draw and how many there are, the same on any number of threads (it used to stop
/// at whichever bad draw a thread met first, leaving a partial file). The error says it is the
/// draw's values (it used to point at the file's line with numbers not in the file).
/// `slurm-script` checks every draw of the run the same way before it writes a script.
#[test]
fn draws_whose_parameters_break_a_rule_together_are_found_before_any_is_simulated() {
    let dir = tempfile::tempdir().unwrap();
    // Appended to the last table of the file, [uncertainty.parameters]: with these SEs, a few
    // draws of 300 have grade3plus above any_grade.
    let text = format!(
        "{}\"therapies.blinatumomab.toxicities[0].any_grade\" = {{ dist = \"beta\", mean = 0.14, se = 0.04 }}\n\"therapies.blinatumomab.toxicities[0].grade3plus\" = {{ dist = \"beta\", mean = 0.06, se = 0.02 }}\n",
        adult_text()
    );
    let path = write(dir.path(), "joint.toml", &text);
    // Which draws break the rule, found one by one through the library.
    let loaded = allseq::scenario::load(&path).unwrap();
    let u = loaded.model.uncertainty.as_ref().unwrap();
    let seed = loaded.model.seed;
    let bad: Vec<u64> = (0..300)
        .filter(|&d| allseq::psa::run::draw_model(&loaded, u, seed, d).is_err())
        .collect();
    assert!(bad.len() >= 2 && bad[0] > 0, "{bad:?}");
    let expected = format!(
        "in PSA draw {}, the sampled parameters together break a rule: must not exceed any_grade",
        bad[0]
    );
    let count = format!(
        "(draws that break a rule: {} of the 300 checked; none was simulated)",
        bad.len()
    );
    let psa_300 = |extra: &[&str]| {
        let mut args = vec![
            "psa",
            s(&path),
            "--draws",
            "300",
            "--patients",
            "1",
            "--quiet",
        ];
        args.extend_from_slice(extra);
        allseq(&args)
    };
    let mut messages = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("out{threads}"));
        let o = psa_300(&["--threads", threads, "--out", s(&out)]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("`therapies.blinatumomab.toxicities[0].grade3plus`: ")
                && err.contains(&expected)
                && err.contains(&count),
            "{err}"
        );
        assert!(!out.exists(), "{threads} threads left {}", out.display());
        messages.push(err);
    }
    assert_eq!(messages[0], messages[1]);
    // A shard whose own draws are all good runs; the script for the whole run is refused.
    let shard = format!("0/{}", 300 / bad[0] + 1);
    let o = psa_300(&["--shard", &shard, "--out", s(&dir.path().join("shard"))]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = allseq(&[
        "slurm-script",
        s(&path),
        "--draws",
        "300",
        "--patients",
        "1",
        "--shards",
        "3",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(o.stdout.is_empty());
    assert!(err.contains(&expected) && err.contains(&count), "{err}");
}

/// A WTP grid beyond 10^12 (the bound of `economics.wtp`) is refused: above 2^64 its amounts
/// saturated to 18446744073709551615 (a ceac.csv of 32,624 rows at that one threshold), and
/// above 2^53 a step of 1 never advanced, so loading the scenario never ended and took all the
/// memory (even for `allseq run`).
#[test]
fn a_wtp_grid_beyond_ten_to_the_twelve_is_refused() {
    for grid in [
        "wtp_grid = { from = 0, to = 1e20, step = 1e16 }",
        "wtp_grid = { from = 1e17, to = 100000000000010000, step = 1 }",
    ] {
        bad_uncertainty(
            "wtp_grid = { from = 0, to = 300000, step = 10000 }",
            grid,
            "`uncertainty.wtp_grid`: needs whole amounts up to 10^12",
        );
    }
}

/// `--wtp nan` and `--wtp inf` once wrote a tornado of NaN without a word, and so did
/// `--wtp 1e308` (its NMBs overflowed to infinity, their ranges NaN).
#[test]
fn dsa_refuses_a_willingness_to_pay_that_is_not_an_amount() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dsa");
    for wtp in ["nan", "inf", "-5", "x", "1e308", "1000000000001"] {
        let arg = format!("--wtp={wtp}");
        let o = allseq(&["dsa", s(&adult()), &arg, "--out", s(&out), "--quiet"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{wtp}: {err}");
        assert!(
            err.contains(&format!("`{wtp}` is not an amount per QALY")),
            "{wtp}: {err}"
        );
        assert!(!out.exists(), "nothing written");
    }
}

#[test]
fn dsa_refuses_a_comparator_equal_to_the_strategy_or_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dsa");
    for (versus, message) in [
        ("car_t_first", "the comparator must differ from --strategy"),
        ("no_such_strategy", "no strategy `no_such_strategy`"),
    ] {
        let o = allseq(&[
            "dsa",
            s(&adult()),
            "--strategy",
            "car_t_first",
            "--versus",
            versus,
            "--out",
            s(&out),
            "--quiet",
        ]);
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains(message), "{}", stderr(&o));
        assert!(!out.exists(), "nothing written");
    }
}

#[test]
fn dsa_bounds_are_the_given_ones_or_the_95_percent_interval() {
    use statrs::distribution::{Beta, ContinuousCDF};
    let dir = tempfile::tempdir().unwrap();
    let text = edit(
        &adult_text(),
        "\"therapies.allo_hct.trm\" = { dist = \"beta\", mean = 0.20, se = 0.05 }",
        "\"therapies.allo_hct.trm\" = { dist = \"beta\", mean = 0.20, se = 0.05, low = 0.1, high = 0.35 }",
    );
    let path = write(dir.path(), "bounds.toml", &text);
    let out = dir.path().join("dsa");
    let o = allseq(&[
        "dsa",
        s(&path),
        "--patients",
        "50",
        "--out",
        s(&out),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = csv_rows(&out.join("tornado.csv"));
    let row = |name: &str| rows.iter().find(|r| r[0] == name).unwrap().clone();
    let trm = row("therapies.allo_hct.trm");
    assert_eq!((trm[1].as_str(), trm[2].as_str()), ("0.1", "0.35"));
    // ELIANA manufacturing failure, beta from 7 events in 92: Beta(7, 85).
    let mf = row("therapies.cd19_car_t.manufacturing_failure");
    let b = Beta::new(7.0, 85.0).unwrap();
    let (lo, hi): (f64, f64) = (mf[1].parse().unwrap(), mf[2].parse().unwrap());
    assert!((lo - b.inverse_cdf(0.025)).abs() < 1e-9, "{lo}");
    assert!((hi - b.inverse_cdf(0.975)).abs() < 1e-9, "{hi}");
}
