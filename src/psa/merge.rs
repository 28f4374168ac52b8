//! `allseq merge`: shards of one PSA into the files of an unsharded run, byte for byte.
//!
//! Refuses, naming what is wrong, when the manifests disagree (scenario, seed, draws, patients,
//! version, platform, strategies, parameters, WTP grid), when a draw is missing or present
//! twice, when a shard's file is damaged (a header other than the PSA's columns, a non-finite
//! number, a row twice, parameters without results), or when `--out` is one of the shard
//! directories.

use super::run::{DrawRecord, PsaManifest, finite_cell, write_outputs};
use crate::error::{Error, Result};
use crate::output::{Staged, git_commit, now_rfc3339, peak_memory_kib};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn refuse(reason: String) -> Error {
    Error::Argument {
        option: "shard directories",
        reason,
    }
}

fn read_or_why(path: &Path) -> std::result::Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn read(path: &Path) -> Result<String> {
    read_or_why(path).map_err(refuse)
}

/// Ranges such as `3, 7-9` for a sorted list of indices.
fn ranges(ix: &[u64]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < ix.len() {
        let mut j = i;
        while j + 1 < ix.len() && ix[j + 1] == ix[j] + 1 {
            j += 1;
        }
        out.push(if i == j {
            ix[i].to_string()
        } else {
            format!("{}-{}", ix[i], ix[j])
        });
        i = j + 1;
    }
    out.join(", ")
}

/// A reader of a shard's CSV file whose header must be `expected`: the csv crate then refuses
/// any row of another length, so every row has the expected cells.
fn reader<'a>(path: &Path, text: &'a str, expected: &[&str]) -> Result<csv::Reader<&'a [u8]>> {
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header = rdr
        .headers()
        .map_err(|e| refuse(format!("{}: {e}", path.display())))?;
    if let Some(i) =
        (0..header.len().max(expected.len())).find(|&i| header.get(i) != expected.get(i).copied())
    {
        let show = |c: Option<&str>| c.map_or("nothing".to_string(), |c| format!("`{c}`"));
        return Err(refuse(format!(
            "{}:1: column {} of the header is {}, where this PSA has {}",
            path.display(),
            i + 1,
            show(header.get(i)),
            show(expected.get(i).copied())
        )));
    }
    Ok(rdr)
}

/// The error for a row of a shard's CSV file that is not what `psa` writes, at its line.
fn malformed(path: &Path, row: &csv::StringRecord) -> Error {
    let line = row.position().map_or(0, csv::Position::line);
    refuse(format!(
        "{}:{line}: malformed row `{}`",
        path.display(),
        row.iter().collect::<Vec<_>>().join(",")
    ))
}

/// The records of one shard directory.
fn shard_records(dir: &Path, m: &PsaManifest) -> Result<Vec<DrawRecord>> {
    let id = &m.identity;
    let params_path = dir.join("psa_params.csv");
    let mut params: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    let text = read(&params_path)?;
    let header: Vec<&str> = std::iter::once("draw")
        .chain(id.parameters.iter().map(String::as_str))
        .collect();
    let mut rdr = reader(&params_path, &text, &header)?;
    for row in rdr.records() {
        let row = row.map_err(|e| refuse(format!("{}: {e}", params_path.display())))?;
        let bad = || malformed(&params_path, &row);
        let draw: u64 = row[0].parse().map_err(|_| bad())?;
        if !row.iter().skip(1).all(|c| finite_cell(c).is_some()) {
            return Err(bad());
        }
        if params
            .insert(draw, row.iter().skip(1).map(str::to_string).collect())
            .is_some()
        {
            return Err(refuse(format!(
                "{}: draw {draw} appears twice",
                params_path.display()
            )));
        }
    }
    let long_path = dir.join("psa_long.csv");
    let text = read(&long_path)?;
    let mut rdr = reader(
        &long_path,
        &text,
        &["draw", "strategy", "cost", "qaly", "ly"],
    )?;
    let k = id.strategies.len();
    let mut by_draw: BTreeMap<u64, DrawRecord> = BTreeMap::new();
    for row in rdr.records() {
        let row = row.map_err(|e| refuse(format!("{}: {e}", long_path.display())))?;
        let bad = || malformed(&long_path, &row);
        let draw: u64 = row[0].parse().map_err(|_| bad())?;
        let s = id
            .strategies
            .iter()
            .position(|n| n == &row[1])
            .ok_or_else(bad)?;
        let num = |i: usize| finite_cell(&row[i]).ok_or_else(bad);
        let rec = by_draw.entry(draw).or_insert_with(|| DrawRecord {
            draw,
            params: Vec::new(),
            cost: vec![f64::NAN; k],
            qaly: vec![f64::NAN; k],
            ly: vec![f64::NAN; k],
        });
        if !rec.cost[s].is_nan() {
            return Err(refuse(format!(
                "{}: draw {draw} has `{}` twice",
                long_path.display(),
                &row[1]
            )));
        }
        rec.cost[s] = num(2)?;
        rec.qaly[s] = num(3)?;
        rec.ly[s] = num(4)?;
    }
    let mut out = Vec::with_capacity(by_draw.len());
    for (draw, mut rec) in by_draw {
        rec.params = params.remove(&draw).ok_or_else(|| {
            refuse(format!(
                "{}: draw {draw} has results but no parameters",
                dir.display()
            ))
        })?;
        if rec.cost.iter().any(|c| c.is_nan()) {
            return Err(refuse(format!(
                "{}: draw {draw} lacks a strategy",
                dir.display()
            )));
        }
        out.push(rec);
    }
    if let Some(draw) = params.keys().next() {
        return Err(refuse(format!(
            "{}: draw {draw} has parameters but no results",
            dir.display()
        )));
    }
    Ok(out)
}

/// Merges shard directories into `out`.
///
/// # Errors
/// A missing or unreadable shard, disagreeing manifests, missing or duplicated draws, an
/// unwritable output directory.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<usize> {
    let started = now_rfc3339();
    if dirs.is_empty() {
        return Err(refuse("give at least one shard directory".into()));
    }
    // Merging into a shard's own directory replaced that shard's files with the merged ones:
    // the shard was lost, and every later merge found its draws twice.
    if let Ok(o) = out.canonicalize()
        && let Some(dir) = dirs.iter().find(|d| d.canonicalize().is_ok_and(|d| d == o))
    {
        return Err(Error::Argument {
            option: "--out",
            reason: format!(
                "{} is one of the shard directories, whose files the merge would replace; choose another directory",
                dir.display()
            ),
        });
    }
    let mut first: Option<PsaManifest> = None;
    let mut seen: BTreeMap<u64, PathBuf> = BTreeMap::new();
    let mut records = Vec::new();
    // A shard without a readable manifest (a failed task) is noted, so that the refusal can name
    // the draws it should have held.
    let mut unreadable: Vec<String> = Vec::new();
    for dir in dirs {
        let mpath = dir.join("manifest.json");
        let text = match read_or_why(&mpath) {
            Ok(t) => t,
            Err(why) => {
                unreadable.push(why);
                continue;
            }
        };
        let m: PsaManifest = serde_json::from_str(&text)
            .map_err(|e| refuse(format!("{}: not a PSA manifest: {e}", mpath.display())))?;
        if let Some(f) = &first {
            if f.identity != m.identity {
                return Err(refuse(format!(
                    "{} and {} come from different PSAs (scenario, seed, draws, patients, version, platform, strategies, parameters or WTP grid differ)",
                    dirs[0].display(),
                    dir.display()
                )));
            }
        } else {
            first = Some(m.clone());
        }
        for rec in shard_records(dir, &m)? {
            if let Some(other) = seen.insert(rec.draw, dir.clone()) {
                return Err(refuse(format!(
                    "draw {} appears in both {} and {}",
                    rec.draw,
                    other.display(),
                    dir.display()
                )));
            }
            records.push(rec);
        }
    }
    let Some(first) = first else {
        return Err(refuse(unreadable.join("; ")));
    };
    let draws = first.identity.draws;
    let missing: Vec<u64> = (0..draws).filter(|d| !seen.contains_key(d)).collect();
    if !missing.is_empty() || !unreadable.is_empty() {
        let mut reason = format!(
            "{} of {draws} draws are missing: {} (re-run the shards that cover them)",
            missing.len(),
            ranges(&missing)
        );
        for u in &unreadable {
            reason.push_str("; ");
            reason.push_str(u);
        }
        return Err(refuse(reason));
    }
    if let Some(extra) = seen.keys().find(|&&d| d >= draws) {
        return Err(refuse(format!(
            "draw {extra} is beyond the PSA's {draws} draws"
        )));
    }
    records.sort_by_key(|r| r.draw);
    let manifest = PsaManifest {
        command: "merge".into(),
        git_commit: git_commit(),
        shard: None,
        draws_covered: [0, draws],
        started,
        finished: now_rfc3339(),
        peak_memory_kib: peak_memory_kib(),
        ..first
    };
    let mut staged = Staged::prepare(out)?;
    write_outputs(&mut staged, &manifest, &records, true)?;
    staged.commit()?;
    Ok(records.len())
}

#[cfg(test)]
mod tests {
    #[test]
    fn ranges_compress() {
        assert_eq!(super::ranges(&[1, 2, 3, 7, 9, 10]), "1-3, 7, 9-10");
        assert_eq!(super::ranges(&[4]), "4");
    }
}
