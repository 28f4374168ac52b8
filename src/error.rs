//! Errors of the library. `main` prints them with their cause chain and exits non-zero.
//!
//! Every variant is fatal for the command that raised it: allseq never writes partial output,
//! so the only recovery is to fix the input and run again.

use std::path::PathBuf;

/// A problem in a scenario file, located in the file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", self.render())]
pub struct ScenarioError {
    /// The file.
    pub file: PathBuf,
    /// Line, from 1 (0 when unknown).
    pub line: usize,
    /// Column, from 1 (0 when unknown).
    pub column: usize,
    /// Dotted field path (`therapies.car_t.manufacturing.shape`), empty for syntax errors.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// The offending line of the file, for context.
    pub snippet: String,
}

impl ScenarioError {
    fn render(&self) -> String {
        let mut s = format!("{}", self.file.display());
        if self.line > 0 {
            s.push_str(&format!(":{}:{}", self.line, self.column));
        }
        if !self.path.is_empty() {
            s.push_str(&format!(": `{}`", self.path));
        }
        s.push_str(&format!(": {}", self.message));
        if !self.snippet.is_empty() {
            s.push_str(&format!("\n  {:>4} | {}", self.line, self.snippet));
        }
        s
    }
}

/// Any error allseq reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scenario or targets file could not be read (the message said "scenario file" for
    /// targets files too).
    #[error("cannot read {}: {source}", path.display())]
    ReadScenario {
        /// The path given.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The scenario file is malformed or inconsistent.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A command-line value is impossible (e.g. `--patients 0`).
    #[error("invalid {option}: {reason}")]
    Argument {
        /// The option, e.g. `--patients`.
        option: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
    /// Output could not be written.
    #[error("cannot write output {}: {source}", path.display())]
    Output {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// CSV serialization failed.
    #[error(transparent)]
    Csv(#[from] csv::Error),
    /// JSON serialization failed.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// A patient's value is beyond what the exact sums hold: the results would be wrong, so
    /// none are written.
    #[error(
        "{where_}a patient's {quantity} went beyond ±{limit:.1e} (or was not finite), more than the exact sums hold, so no results were written; check the scenario's costs and their units"
    )]
    OutOfRange {
        /// Where: `strategy `x`: `, `PSA draw n, strategy `x`: `, or empty.
        where_: String,
        /// The quantity, e.g. `discounted costs`.
        quantity: &'static str,
        /// The limit.
        limit: f64,
    },
    /// The thread pool could not be built.
    #[error("cannot start {threads} worker threads: {reason}")]
    Threads {
        /// Threads requested.
        threads: usize,
        /// Why.
        reason: String,
    },
}

/// Result with the library's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Error>();
    }

    #[test]
    fn scenario_error_names_file_line_and_field() {
        let e = ScenarioError {
            file: "s.toml".into(),
            line: 12,
            column: 5,
            path: "therapies.car_t.manufacturing.shape".into(),
            message: "must be a finite number > 0 (got -1)".into(),
            snippet: "shape = -1".into(),
        };
        assert_eq!(
            e.to_string(),
            "s.toml:12:5: `therapies.car_t.manufacturing.shape`: must be a finite number > 0 (got -1)\n    12 | shape = -1"
        );
    }
}
