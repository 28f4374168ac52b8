//! Scenario files: TOML → raw structs ([`raw`]) → validated [`Model`] ([`compile`]).
//!
//! Errors name the file, the line and column, and the field path:
//!
//! ```text
//! scenarios/x.toml:41:1: `therapies.car_t.manufacturing.sigma`: must be a finite number > 0 (got -0.3)
//!       41 | manufacturing = { dist = "lognormal", median = 36, sigma = -0.3, unit = "days" }
//! ```
//!
//! # Variants
//!
//! A scenario may start with `extends = "other.toml"` (a path relative to it) and give only what
//! differs: the top-level tables and each `[therapies.<name>]` merge key by key, and every value
//! inside them (a number, a distribution, a rate, a cost table, an array, the list of
//! strategies) replaces the base's whole. A NICE-style variant of a US scenario states its currency,
//! discount rates and prices and inherits the clinical pathway. An error is reported in the file
//! that sets the offending field.

pub mod compile;
pub mod locate;
pub mod raw;
pub mod tagged;

use crate::error::{Error, ScenarioError};
use crate::model::Model;
use locate::Locations;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A loaded scenario: the compiled model and what identifies its source.
#[derive(Debug)]
pub struct Scenario {
    /// The compiled model.
    pub model: Model,
    /// The merged TOML document (for re-compiling with other parameter values).
    table: toml::Table,
    /// The same deserialized, without its `[uncertainty]`: what [`Scenario::with_values`]
    /// copies and patches (a model with values replaced has no `uncertainty` unless a value is
    /// in it, and then that section is deserialized again with the value).
    file: raw::ScenarioFile,
    /// The files read, the scenario first, then what it extends: their text, and the
    /// locations of their fields for errors.
    chain: Vec<Source>,
}

impl Scenario {
    /// The files read, the scenario first, then what it extends.
    pub fn sources(&self) -> &[Source] {
        &self.chain
    }

    /// The scenario compiled with some values replaced: `(field path, value)` pairs such as
    /// `("therapies.cd19_car_t.manufacturing_failure", 0.1)`, or a split table. Used for
    /// sensitivity analysis; every value goes through the same validation as the file. The
    /// model has no `uncertainty` unless a value is under `uncertainty`.
    ///
    /// # Errors
    /// A path that does not exist or a value that breaks a rule.
    pub fn with_values(&self, values: &[(&str, toml::Value)]) -> Result<Model, ScenarioError> {
        match self.patched(values) {
            Some(file) => compile_located(&self.chain, &file),
            None => self.rebuilt(values),
        }
    }

    /// The deserialized scenario with `values` in it, copied, with only the parts that hold
    /// them deserialized again: a therapy (`therapies.<name>`) or one of the sections
    /// `population`, `strategies`, `economics` and `uncertainty`. Copying and deserializing the
    /// whole document for each value was three fifths of the instructions of `allseq run`'s
    /// start-up on the default scenario (the 69 compiles of its `[uncertainty]` check, 66 of
    /// 110 million); patched, it took 56 million. `None` when a value is
    /// elsewhere, its path is not in the scenario, or a part does not deserialize:
    /// [`Scenario::rebuilt`] then does it all again, and reports the error as at load.
    fn patched(&self, values: &[(&str, toml::Value)]) -> Option<raw::ScenarioFile> {
        let mut parts: Vec<(Part<'_>, toml::Value)> = Vec::with_capacity(values.len());
        for (path, value) in values {
            let segs = segments(path)?;
            let (part, rest) = match segs.as_slice() {
                [Seg::Key("therapies"), Seg::Key(name), rest @ ..] => (Part::Therapy(name), rest),
                [Seg::Key("population"), rest @ ..] => (Part::Population, rest),
                [Seg::Key("strategies"), rest @ ..] => (Part::Strategies, rest),
                [Seg::Key("economics"), rest @ ..] => (Part::Economics, rest),
                [Seg::Key("uncertainty"), rest @ ..] => (Part::Uncertainty, rest),
                _ => return None,
            };
            let i = match parts.iter().position(|(p, _)| *p == part) {
                Some(i) => i,
                None => {
                    let base = match part {
                        Part::Therapy(name) => self.table.get("therapies")?.get(name)?,
                        Part::Population => self.table.get("population")?,
                        Part::Strategies => self.table.get("strategies")?,
                        Part::Economics => self.table.get("economics")?,
                        Part::Uncertainty => self.table.get("uncertainty")?,
                    };
                    parts.push((part, base.clone()));
                    parts.len() - 1
                }
            };
            *value_in(&mut parts[i].1, rest)? = value.clone();
        }
        // The copy has no `[uncertainty]` (as in `rebuilt`); a value in it puts it back below.
        let mut file = self.file.clone();
        tagged::untracked(|| {
            for (part, value) in parts {
                match part {
                    Part::Therapy(name) => {
                        *file.therapies.get_mut(name)? = Deserialize::deserialize(value).ok()?;
                    }
                    Part::Population => file.population = Deserialize::deserialize(value).ok()?,
                    Part::Strategies => file.strategies = Deserialize::deserialize(value).ok()?,
                    Part::Economics => file.economics = Deserialize::deserialize(value).ok()?,
                    Part::Uncertainty => file.uncertainty = Deserialize::deserialize(value).ok()?,
                }
            }
            Some(file)
        })
    }

    /// [`Scenario::with_values`] the long way: the merged document copied with the values in
    /// it, and deserialized whole.
    fn rebuilt(&self, values: &[(&str, toml::Value)]) -> Result<Model, ScenarioError> {
        // A model with some values replaced is one point of an analysis, not a scenario to
        // analyse again: its `[uncertainty]` would be compiled for nothing (a seventh of the
        // time of a PSA draw's set-up), so it is left out unless a value is in it.
        let keep_uncertainty = values.iter().any(|(p, _)| p.starts_with("uncertainty"));
        let table = || -> Result<toml::Table, ScenarioError> {
            let mut table: toml::Table = self
                .table
                .iter()
                .filter(|(k, _)| keep_uncertainty || k.as_str() != "uncertainty")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            for (path, value) in values {
                let slot = value_at_mut(&mut table, path).ok_or_else(|| {
                    locate_error(
                        &self.chain,
                        path.to_string(),
                        None,
                        "no such field in the scenario".into(),
                    )
                })?;
                *slot = value.clone();
            }
            Ok(table)
        };
        // Deserialized without tracking the path first, neither at the top (tracking it took a
        // fifth of the time) nor in the tagged tables (a quarter of the instructions left); a
        // value that does not deserialize is rare, and then done again with the path, for the
        // same located error as at load.
        let first = toml::Value::Table(table()?);
        match tagged::untracked(|| raw::ScenarioFile::deserialize(first)) {
            Ok(file) => compile_located(&self.chain, &file),
            Err(_) => build(&self.chain, table()?).map(|(_, model)| model),
        }
    }

    /// The value at a field path of the merged scenario.
    pub fn value_at(&self, path: &str) -> Option<&toml::Value> {
        let mut cur: Option<&toml::Value> = None;
        for seg in segments(path)? {
            cur = Some(match (cur, seg) {
                (None, Seg::Key(k)) => self.table.get(k)?,
                (Some(toml::Value::Table(t)), Seg::Key(k)) => t.get(k)?,
                (Some(toml::Value::Array(a)), Seg::Index(i)) => a.get(i)?,
                _ => return None,
            });
        }
        cur
    }

    /// An error about `path`, located in the file that sets it.
    pub fn error_at(&self, path: &str, message: impl Into<String>) -> ScenarioError {
        locate_error(&self.chain, path.to_string(), None, message.into())
    }

    /// SHA-256 over the bytes of every file read, in order: identifies the inputs of a run.
    pub fn sha256(&self) -> String {
        let mut bytes = Vec::new();
        for source in &self.chain {
            bytes.extend_from_slice(source.text.as_bytes());
        }
        crate::output::sha256_hex(&bytes)
    }
}

/// How deep `extends` chains may go (a cycle is reported before this).
const MAX_EXTENDS: usize = 8;

/// A TOML file read with allseq's error conventions: its path, text and field locations.
#[derive(Debug)]
pub struct Source {
    path: PathBuf,
    text: String,
    locations: Locations,
}

impl Source {
    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// An error about field `path` of this file, located at its line and column.
    pub fn error(&self, path: &str, message: impl Into<String>) -> ScenarioError {
        locate_error(
            std::slice::from_ref(self),
            path.to_string(),
            None,
            message.into(),
        )
    }
}

/// The largest input file read: the shipped scenarios are under 40 KiB. Without a bound,
/// `/dev/zero` given as a scenario (or as what it extends) was read until memory ran out.
const MAX_INPUT_BYTES: u64 = 16 << 20;

/// Reads a scenario or targets file as text, refusing one larger than [`MAX_INPUT_BYTES`].
fn read_text(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_INPUT_BYTES + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_INPUT_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "larger than 16 MiB, which no scenario is",
        ));
    }
    Ok(text)
}

/// Reads and deserializes a TOML file other than a scenario (a targets file, say), with the same
/// located errors as scenarios.
///
/// # Errors
/// [`Error::ReadScenario`] if the file cannot be read; [`Error::Scenario`] for invalid TOML or
/// an unknown, missing or mistyped field.
pub fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<(T, Source), Error> {
    let text = read_text(path).map_err(|source| Error::ReadScenario {
        path: path.to_path_buf(),
        source,
    })?;
    let source = Source {
        locations: Locations::new(&text),
        path: path.to_path_buf(),
        text,
    };
    let table = text_table(&source)?;
    let value = serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
        let outer = e.path().to_string();
        let inner = e.into_inner();
        let (path, message) = full_path(outer, inner.message());
        locate_error(std::slice::from_ref(&source), path, None, message)
    })?;
    Ok((value, source))
}

/// Reads, parses, validates and compiles a scenario file (and the files it extends).
///
/// # Errors
/// [`Error::ReadScenario`] if a file cannot be read; [`Error::Scenario`] if it is not valid
/// TOML, has an unknown or missing field, a value of the wrong type, or a value that breaks a
/// rule (a probability outside [0, 1], a negative duration, an undefined therapy, ...).
pub fn load(path: &Path) -> Result<Scenario, Error> {
    let mut chain: Vec<Source> = Vec::new();
    let mut tables: Vec<toml::Table> = Vec::new();
    let mut next = Some(path.to_path_buf());
    while let Some(p) = next.take() {
        if chain.iter().any(|s| same_file(&s.path, &p)) || chain.len() >= MAX_EXTENDS {
            let child = chain.last().expect("a cycle needs two files");
            return Err(located(
                child,
                "extends",
                "`extends` forms a cycle (or a chain deeper than 8 files)",
            )
            .into());
        }
        let text = match read_text(&p) {
            Ok(text) => text,
            // A base that cannot be read is an error of the `extends` line that names it.
            Err(source) => {
                return Err(match chain.last() {
                    Some(child) => located(
                        child,
                        "extends",
                        &format!("cannot read {}: {source}", p.display()),
                    )
                    .into(),
                    None => Error::ReadScenario { path: p, source },
                });
            }
        };
        let source = Source {
            locations: Locations::new(&text),
            path: p,
            text,
        };
        let mut table: toml::Table = text_table(&source)?;
        if let Some(base) = table.remove("extends") {
            let Some(base) = base.as_str() else {
                return Err(located(&source, "extends", "must be a path (a string)").into());
            };
            let dir = source.path.parent().unwrap_or(Path::new(""));
            next = Some(dir.join(base));
        }
        tables.push(table);
        chain.push(source);
    }
    // Merge from the base up: the scenario's own values win.
    let mut merged = tables.pop().expect("at least the scenario itself");
    while let Some(child) = tables.pop() {
        merge(&mut merged, child);
    }
    let (mut file, model) = build(&chain, merged.clone())?;
    file.uncertainty = None;
    let scenario = Scenario {
        model,
        table: merged,
        file,
        chain,
    };
    crate::psa::check(&scenario)?;
    Ok(scenario)
}

/// The default adult scenario (`scenarios/adult_rr_ball.toml`), for the unit tests.
#[cfg(test)]
pub(crate) fn adult_for_tests() -> Scenario {
    load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/adult_rr_ball.toml"))
        .expect("the adult scenario loads")
}

/// One segment of a field path: a key or an array index.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// Splits `a.b[2].c` into segments; a key may not be empty.
fn segments(path: &str) -> Option<Vec<Seg<'_>>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key.is_empty() {
            return None;
        }
        out.push(Seg::Key(key));
        while let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']')?;
            out.push(Seg::Index(r[..close].parse().ok()?));
            rest = &r[close + 1..];
        }
        if !rest.is_empty() {
            return None;
        }
    }
    Some(out)
}

fn value_at_mut<'t>(table: &'t mut toml::Table, path: &str) -> Option<&'t mut toml::Value> {
    let segs = segments(path)?;
    let (first, rest) = segs.split_first()?;
    let Seg::Key(k) = first else { return None };
    value_in(table.get_mut(*k)?, rest)
}

/// The value at `segs` inside `cur`.
fn value_in<'v>(mut cur: &'v mut toml::Value, segs: &[Seg<'_>]) -> Option<&'v mut toml::Value> {
    for seg in segs {
        cur = match (cur, seg) {
            (toml::Value::Table(t), Seg::Key(k)) => t.get_mut(*k)?,
            (toml::Value::Array(a), Seg::Index(i)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// A part of a scenario that [`Scenario::with_values`] deserializes on its own: a therapy by
/// name, or a top-level section.
#[derive(Clone, Copy, PartialEq)]
enum Part<'p> {
    Therapy(&'p str),
    Population,
    Strategies,
    Economics,
    Uncertainty,
}

/// Parses and compiles scenario text; `path` is only used in error messages. The text may not
/// use `extends` (there is no file to resolve it against).
///
/// # Errors
/// As [`load`], except reading.
pub fn parse(path: &Path, text: &str) -> Result<Model, ScenarioError> {
    let source = Source {
        path: path.to_path_buf(),
        text: text.to_string(),
        locations: Locations::new(text),
    };
    let table = text_table(&source)?;
    if table.contains_key("extends") {
        return Err(located(
            &source,
            "extends",
            "`extends` needs a scenario file: use scenario::load",
        ));
    }
    build(std::slice::from_ref(&source), table).map(|(_, model)| model)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Merges a variant over its base. Section tables merge key by key: the top-level tables
/// (`[population]`, `[economics]`, ...) and each therapy (`[therapies.<name>]`). Every value
/// inside a section (a number, a distribution, a rate, a cost table, an array) replaces the
/// base's value whole: merging inside a distribution could mix a Weibull's keys into an
/// exponential.
fn merge(base: &mut toml::Table, child: toml::Table) {
    for (k, v) in child {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(c)) if k == "therapies" => {
                for (name, t) in c {
                    match (b.get_mut(&name), t) {
                        (Some(toml::Value::Table(bt)), toml::Value::Table(ct)) => {
                            bt.extend(ct);
                        }
                        (_, t) => {
                            b.insert(name, t);
                        }
                    }
                }
            }
            (Some(toml::Value::Table(b)), toml::Value::Table(c)) => b.extend(c),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// Parses one file's text into a table; syntax errors carry their own position. A key set
/// twice is named, with the line it was set on first.
fn text_table(source: &Source) -> Result<toml::Table, ScenarioError> {
    source.text.parse::<toml::Table>().map_err(|e| {
        let span = e.span();
        let duplicate = span
            .clone()
            .filter(|_| e.message() == "duplicate key")
            .and_then(|key| source.locations.duplicate(key));
        let (path, message) = match duplicate {
            Some((path, first)) => (
                path.to_string(),
                format!("duplicate key: first set on line {first}"),
            ),
            None => (String::new(), e.message().to_string()),
        };
        locate_error(
            std::slice::from_ref(source),
            path,
            span.map(|s| s.start),
            message,
        )
    })
}

fn located(source: &Source, path: &str, message: &str) -> ScenarioError {
    locate_error(
        std::slice::from_ref(source),
        path.to_string(),
        None,
        message.to_string(),
    )
}

/// Deserializes the merged table and compiles it, locating any error in the chain.
fn build(
    chain: &[Source],
    table: toml::Table,
) -> Result<(raw::ScenarioFile, Model), ScenarioError> {
    let file: raw::ScenarioFile = serde_path_to_error::deserialize(toml::Value::Table(table))
        .map_err(|e| {
            let outer = e.path().to_string();
            let inner = e.into_inner();
            let (path, message) = full_path(outer, inner.message());
            locate_error(chain, path, None, message)
        })?;
    let model = compile_located(chain, &file)?;
    Ok((file, model))
}

/// Compiles a deserialized scenario; a rule it breaks is located in the files of `chain`.
fn compile_located(chain: &[Source], file: &raw::ScenarioFile) -> Result<Model, ScenarioError> {
    compile::compile(file).map_err(|e| locate_error(chain, e.path, None, e.message))
}

/// Joins the outer serde path with the relative path carried in a tagged-enum message.
fn full_path(outer: String, message: &str) -> (String, String) {
    let (inner_segments, message) = tagged::split_marked(message);
    let mut path = if outer == "." { String::new() } else { outer };
    for seg in inner_segments {
        if path.is_empty() {
            path = seg;
        } else if seg.starts_with('[') {
            path.push_str(&seg);
        } else {
            path = format!("{path}.{seg}");
        }
    }
    // serde names an unknown field in the message; point at the field itself.
    if let Some(field) = message
        .strip_prefix("unknown field `")
        .and_then(|r| r.split('`').next())
        && !path.ends_with(field)
    {
        path = if path.is_empty() {
            field.to_string()
        } else {
            format!("{path}.{field}")
        };
    }
    (path, message)
}

/// Builds the error for `path` in the file of the chain that defines the path (the scenario
/// first, then what it extends), or at byte `offset` of the first file where the error has a
/// position of its own (a syntax error; `path`, if given, is then the field it belongs to).
fn locate_error(
    chain: &[Source],
    path: String,
    offset: Option<usize>,
    message: String,
) -> ScenarioError {
    let exact = (!path.is_empty())
        .then(|| chain.iter().find(|s| s.locations.defines(&path)))
        .flatten();
    let nearest = (!path.is_empty())
        .then(|| chain.iter().find(|s| s.locations.find(&path).is_some()))
        .flatten();
    let source = exact.or(nearest).unwrap_or(&chain[0]);
    let found = if path.is_empty() {
        None
    } else {
        source.locations.find(&path)
    };
    let (line, column) = offset
        .map(|o| source.locations.line_col(o))
        .or(found)
        .unwrap_or((0, 0));
    let path = if path.is_empty() {
        offset
            .and_then(|o| source.locations.path_at(o))
            .unwrap_or_default()
            .to_string()
    } else {
        path
    };
    ScenarioError {
        file: source.path.clone(),
        line,
        column,
        path,
        snippet: if line > 0 {
            source.locations.line_text(line).trim().to_string()
        } else {
            String::new()
        },
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `with_values` deserializes without tracking the path; a value that does not
    /// deserialize must still be located like an error at load: field path, file and line.
    #[test]
    fn a_value_that_does_not_deserialize_is_located_as_at_load() {
        let s = adult_for_tests();
        let e = s
            .with_values(&[(
                "economics.utilities.relapse",
                toml::Value::String("x".into()),
            )])
            .expect_err("a string is not a utility");
        assert_eq!(e.path, "economics.utilities.relapse");
        let line = s.sources()[0]
            .text
            .lines()
            .position(|l| l.starts_with("utilities = {"))
            .expect("the utilities line")
            + 1;
        assert_eq!(
            (e.file.as_path(), e.line),
            (s.sources()[0].path.as_path(), line)
        );
        assert!(e.message.contains("invalid type: string"), "{}", e.message);
        // And one that deserializes but breaks a rule, located the same way.
        let e = s
            .with_values(&[("economics.utilities.relapse", toml::Value::Float(1.5))])
            .expect_err("a utility above 1");
        assert_eq!(
            (e.path.as_str(), e.line),
            ("economics.utilities.relapse", line)
        );
        // Inside tagged tables (a Weibull inside a mixture cure), which the first attempt also
        // deserializes without the path: the error names the innermost field and its line.
        let at = "therapies.blinatumomab.relapse.uncured.shape";
        let relapse_line = s.sources()[0]
            .text
            .lines()
            .enumerate()
            .skip_while(|(_, l)| !l.starts_with("[therapies.blinatumomab]"))
            .find(|(_, l)| l.starts_with("relapse = {"))
            .expect("blinatumomab's relapse line")
            .0
            + 1;
        let e = s
            .with_values(&[(at, toml::Value::String("x".into()))])
            .expect_err("a string is not a shape");
        assert_eq!((e.path.as_str(), e.line), (at, relapse_line));
        assert!(e.message.contains("invalid type: string"), "{}", e.message);
        let e = s
            .with_values(&[(at, toml::Value::Float(-1.0))])
            .expect_err("a negative shape");
        assert_eq!((e.path.as_str(), e.line), (at, relapse_line));
        assert!(e.message.contains("> 0"), "{}", e.message);
    }

    /// A model with values replaced is one point of an analysis: it has no `uncertainty`
    /// (compiling it again took a seventh of a PSA draw's set-up), unless a value is in it.
    #[test]
    fn a_model_with_values_has_no_uncertainty_unless_a_value_is_in_it() {
        let s = adult_for_tests();
        assert!(s.model.uncertainty.is_some());
        let m = s
            .with_values(&[("economics.utilities.relapse", toml::Value::Float(0.25))])
            .unwrap();
        assert!(m.uncertainty.is_none());
        let m = s
            .with_values(&[("uncertainty.population", toml::Value::Integer(500))])
            .unwrap();
        assert_eq!(m.uncertainty.expect("kept").population, Some(500.0));
    }

    /// The onsets of blinatumomab's toxicities in a model.
    fn blinatumomab_onsets(m: &Model) -> Vec<f64> {
        let t = m.therapies.iter().find(|t| t.name == "blinatumomab");
        let Some(crate::model::TherapyKind::Course(c)) = t.map(|t| &t.kind) else {
            panic!("blinatumomab is a course");
        };
        c.toxicities.iter().map(|x| x.onset_days).collect()
    }

    /// Field paths index arrays (a PSA parameter may name a toxicity, `toxicities[1]`): the
    /// element is read and replaced, and nothing else; malformed paths name nothing.
    #[test]
    fn indexed_paths_read_and_replace_array_elements() {
        let s = adult_for_tests();
        let path = "therapies.blinatumomab.toxicities[1].onset_days";
        assert_eq!(s.value_at(path), Some(&toml::Value::Integer(7)));
        assert_eq!(blinatumomab_onsets(&s.model), [2.0, 7.0, 14.0]);
        let m = s.with_values(&[(path, toml::Value::Float(9.5))]).unwrap();
        assert_eq!(blinatumomab_onsets(&m), [2.0, 9.5, 14.0]);
        assert_eq!(
            segments("a[1][20].b"),
            Some(vec![
                Seg::Key("a"),
                Seg::Index(1),
                Seg::Index(20),
                Seg::Key("b")
            ])
        );
        for bad in [
            "therapies.blinatumomab.toxicities[3].onset_days",
            "therapies.blinatumomab.toxicities[1",
            "therapies.blinatumomab.toxicities[x].onset_days",
            "therapies.blinatumomab.toxicities[1]x.onset_days",
            "therapies..blinatumomab",
            "therapies.blinatumomab[0]",
        ] {
            assert_eq!(s.value_at(bad), None, "{bad}");
            let e = s
                .with_values(&[(bad, toml::Value::Float(1.0))])
                .expect_err(bad);
            assert_eq!(e.message, "no such field in the scenario", "{bad}");
        }
        // A path with no part in any file has no line to show.
        let e = s
            .with_values(&[("nosuch[0]", toml::Value::Float(1.0))])
            .expect_err("no such field");
        assert_eq!((e.line, e.column, e.snippet.as_str()), (0, 0, ""));
    }

    /// Input files up to 16 MiB are read whole; one byte more is refused.
    #[test]
    fn input_files_are_read_up_to_16_mib() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.toml");
        let bytes = MAX_INPUT_BYTES as usize;
        std::fs::write(&path, vec![b' '; bytes]).unwrap();
        assert_eq!(read_text(&path).expect("16 MiB").len(), bytes);
        std::fs::write(&path, vec![b' '; bytes + 1]).unwrap();
        let e = read_text(&path).expect_err("one byte more");
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
    }

    /// What `with_values` returns, written so that models and errors compare.
    fn outcome(r: Result<Model, ScenarioError>) -> String {
        match r {
            Ok(m) => format!("{m:?}"),
            Err(e) => format!("{e:?}"),
        }
    }

    /// `with_values` deserializes only the parts its values are in and copies the rest: the
    /// model (or the error) must be the one that deserializing the whole document again gives,
    /// for each parameter of `[uncertainty]` alone and for all of them together (PSA draws),
    /// in the default scenario and in its NICE variant (which inherits them through
    /// `extends`), and for values that do not deserialize, break a rule, or are not there.
    #[test]
    fn patching_the_parts_gives_the_model_of_a_whole_rebuild() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        for name in ["adult_rr_ball.toml", "adult_rr_ball_nice.toml"] {
            let s = load(&dir.join(name)).expect("a shipped scenario loads");
            let u = s.model.uncertainty.as_ref().expect("it has [uncertainty]");
            assert!(u.params.len() >= 18, "{name}");
            let same = |values: &[(&str, toml::Value)], fast: bool| {
                assert_eq!(s.patched(values).is_some(), fast, "{name}: {values:?}");
                assert_eq!(
                    outcome(s.with_values(values)),
                    outcome(s.rebuilt(values)),
                    "{name}: {values:?}"
                );
            };
            for draw in 0..8 {
                let pairs = u.pairs(&u.sample(7, draw));
                same(&pairs, true);
                for pair in &pairs {
                    same(std::slice::from_ref(pair), true);
                }
            }
            let text = |v: &str| toml::Value::String(v.into());
            // In a part, but not deserializable, or breaking a rule: the error as at load.
            same(&[("therapies.allo_hct.trm", text("x"))], false);
            same(&[("population.burden", toml::Value::Float(0.5))], false);
            same(&[("therapies.allo_hct.trm", toml::Value::Float(1.5))], true);
            same(
                &[("economics.utilities.relapse", toml::Value::Float(-2.0))],
                true,
            );
            // Not in the scenario, or not in a part: the long way.
            same(&[("therapies.nope.trm", toml::Value::Float(0.1))], false);
            same(
                &[("therapies.allo_hct.nope", toml::Value::Float(0.1))],
                false,
            );
            same(&[("seed", toml::Value::Integer(5))], false);
            same(&[("therapies", toml::Value::Integer(5))], false);
            // A value in `[uncertainty]` keeps it.
            let kept = [("uncertainty.population", toml::Value::Integer(2000))];
            same(&kept, true);
            assert!(s.with_values(&kept).unwrap().uncertainty.is_some());
            // Two values in one part, the second inside the first.
            same(
                &[
                    (
                        "therapies.blinatumomab.toxicities[0]",
                        s.value_at("therapies.blinatumomab.toxicities[0]")
                            .unwrap()
                            .clone(),
                    ),
                    (
                        "therapies.blinatumomab.toxicities[0].onset_days",
                        toml::Value::Float(3.0),
                    ),
                ],
                true,
            );
        }
    }
}
