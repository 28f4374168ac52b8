//! Writing results: all files of a run appear together or not at all.
//!
//! Each file is written to a hidden temporary name in the output directory, then every file is
//! renamed into place (rename is atomic within a directory). An error before the renames, or a
//! killed process, leaves no file under its final name; dropped temporaries are removed.

use crate::error::{Error, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Files staged for an output directory, committed together.
#[derive(Debug)]
pub struct Staged {
    dir: PathBuf,
    files: Vec<(PathBuf, PathBuf)>,
}

fn out_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Output {
        path: path.to_path_buf(),
        source,
    }
}

impl Staged {
    /// Creates `dir` if needed and checks that a file can be written there, before any
    /// simulation time is spent.
    ///
    /// # Errors
    /// [`Error::Output`] if the directory cannot be created or written.
    pub fn prepare(dir: &Path) -> Result<Staged> {
        fs::create_dir_all(dir).map_err(out_err(dir))?;
        let probe = dir.join(format!(".allseq-probe-{}", std::process::id()));
        fs::write(&probe, b"").map_err(out_err(dir))?;
        fs::remove_file(&probe).map_err(out_err(&probe))?;
        Ok(Staged {
            dir: dir.to_path_buf(),
            files: Vec::new(),
        })
    }

    /// Writes `bytes` to a temporary file that becomes `name` on [`Staged::commit`].
    ///
    /// # Errors
    /// [`Error::Output`] if the temporary file cannot be written.
    pub fn add(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let target = self.dir.join(name);
        // A directory in the way fails its rename in `commit`, after the files before it were
        // renamed: refuse it now, while nothing is in place.
        if target.is_dir() {
            return Err(Error::Output {
                path: target,
                source: std::io::ErrorKind::IsADirectory.into(),
            });
        }
        let tmp = self.dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let mut f = fs::File::create(&tmp).map_err(out_err(&tmp))?;
        // Registered before writing, so a failed write is cleaned up too.
        self.files.push((tmp.clone(), target));
        f.write_all(bytes).map_err(out_err(&tmp))?;
        f.sync_all().map_err(out_err(&tmp))?;
        Ok(())
    }

    /// Renames every staged file into place.
    ///
    /// # Errors
    /// [`Error::Output`] if a rename fails; the temporaries not renamed are removed.
    pub fn commit(mut self) -> Result<Vec<PathBuf>> {
        let mut done = Vec::with_capacity(self.files.len());
        for (i, (tmp, target)) in self.files.iter().enumerate() {
            if let Err(source) = fs::rename(tmp, target) {
                let err = out_err(target)(source);
                // `Drop` removes the rest.
                self.files.drain(..i);
                return Err(err);
            }
            done.push(target.clone());
        }
        self.files.clear();
        Ok(done)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        for (tmp, _) in &self.files {
            let _ = fs::remove_file(tmp);
        }
    }
}

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The current time as RFC 3339 UTC, e.g. `2026-11-22T14:03:07Z`.
pub fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// Seconds since the Unix epoch as RFC 3339 UTC (proleptic Gregorian calendar).
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `manifest.json`: what produced a set of results.
#[derive(Debug, Serialize)]
pub struct Manifest {
    /// Which command wrote it.
    pub command: String,
    /// allseq version.
    pub allseq_version: String,
    /// Git commit of the build, if known.
    pub git_commit: Option<String>,
    /// Scenario path as given.
    pub scenario: String,
    /// SHA-256 of the scenario file's bytes.
    pub scenario_sha256: String,
    /// Run seed.
    pub seed: u64,
    /// Patients per strategy.
    pub patients: u64,
    /// Worker threads.
    pub threads: usize,
    /// Patients per chunk.
    pub chunk_size: u64,
    /// Strategies, in output order.
    pub strategies: Vec<String>,
    /// Start time, RFC 3339 UTC.
    pub started: String,
    /// End time, RFC 3339 UTC.
    pub finished: String,
    /// Peak resident memory of the process \[KiB\] (Linux `VmHWM`; absent elsewhere).
    pub peak_memory_kib: Option<u64>,
    /// Wall-clock time of the simulation \[s\]: the cohort under every strategy with its
    /// aggregation, not loading the scenario or writing the files.
    pub simulation_seconds: f64,
    /// Trajectories (patients × strategies) per second of `simulation_seconds`, on all
    /// `threads` together, rounded to a whole number; absent if the clock measured no time.
    pub trajectories_per_second: Option<f64>,
    /// Currency, price year and discounting of the costs and QALYs; absent without economics.
    pub economics: Option<ManifestEconomics>,
}

/// The economic settings echoed in `manifest.json`.
#[derive(Debug, Serialize)]
pub struct ManifestEconomics {
    /// ISO 4217 code.
    pub currency: String,
    /// Price year.
    pub price_year: i64,
    /// Annual discount rate of costs.
    pub discount_costs: f64,
    /// Annual discount rate of effects.
    pub discount_effects: f64,
    /// Willingness-to-pay thresholds per QALY.
    pub wtp: Vec<u64>,
}

/// Peak resident set size of this process in KiB, from `/proc/self/status` (Linux only).
pub fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The git commit recorded at build time, if any.
pub fn git_commit() -> Option<String> {
    Some(env!("ALLSEQ_GIT_COMMIT").to_string()).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_305_787), "2026-11-22T00:03:07Z");
        // The century terms of the calendar: 2100 and 2200 are not leap years, 2400 is (the
        // dates from Python's datetime).
        for (secs, date) in [
            (4_107_542_399, "2100-02-28T23:59:59Z"),
            (4_107_542_400, "2100-03-01T00:00:00Z"),
            (7_263_259_200, "2200-03-01T12:00:00Z"),
            (13_569_465_599, "2399-12-31T23:59:59Z"),
            (13_574_563_200, "2400-02-29T00:00:00Z"),
            (13_574_649_600, "2400-03-01T00:00:00Z"),
        ] {
            assert_eq!(rfc3339(secs), date);
        }
    }

    #[test]
    fn now_is_the_clock_s_time() {
        let secs = || {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs()
        };
        let before = secs();
        let now = now_rfc3339();
        let after = secs();
        assert!((before..=after).any(|s| rfc3339(s) == now), "{now}");
    }

    /// The commit in `manifest.json` is the checkout's (12 hex digits or more), or none outside
    /// a git checkout.
    #[test]
    fn the_git_commit_is_the_checkout_s() {
        let head = std::process::Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8(o.stdout).unwrap().trim().to_string());
        assert_eq!(git_commit(), head);
        if let Some(c) = git_commit() {
            assert!(
                c.len() >= 12 && c.bytes().all(|b| b.is_ascii_hexdigit()),
                "{c}"
            );
        }
    }

    #[test]
    fn sha256_of_abc() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn staged_files_appear_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Staged::prepare(dir.path()).unwrap();
        s.add("a.csv", b"x").unwrap();
        assert!(!dir.path().join("a.csv").exists());
        s.commit().unwrap();
        assert_eq!(fs::read(dir.path().join("a.csv")).unwrap(), b"x");
        let mut s = Staged::prepare(dir.path()).unwrap();
        s.add("b.csv", b"y").unwrap();
        drop(s);
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            ["a.csv"],
            "an uncommitted stage leaves nothing behind"
        );
    }
}
