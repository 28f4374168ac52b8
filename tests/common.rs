//! Helpers shared by the integration tests.

use allseq::model::Model;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Path of the default adult scenario.
pub fn adult() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/adult_rr_ball.toml")
}

/// Text of the default adult scenario.
pub fn adult_text() -> String {
    std::fs::read_to_string(adult()).unwrap()
}

/// `text` parsed and compiled as a scenario; the test fails with the located error otherwise.
pub fn compiled(text: &str) -> Model {
    allseq::scenario::parse("test.toml".as_ref(), text).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs the `allseq` binary with `args`.
pub fn allseq(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_allseq"))
        .args(args)
        .output()
        .expect("the allseq binary runs")
}

/// `text` with `from` replaced by `to`, which must occur exactly once.
pub fn edit(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "`{from}` must occur once");
    text.replacen(from, to, 1)
}

/// 1-based number of the line of `text` that contains `needle`.
pub fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` not in text"))
        + 1
}

/// Writes `text` as `name` in `dir` and returns its path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Number of strategies in the default adult scenario.
pub fn adult_strategies() -> usize {
    adult_text().matches("[[strategies]]").count()
}
