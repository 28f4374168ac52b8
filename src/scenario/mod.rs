//! Scenario files: TOML → raw structs ([`raw`]) → validated [`Model`] ([`compile`]).
//!
//! Errors name the file, the line and column, and the field path:
//!
//! ```text
//! scenarios/x.toml:41:1: `therapies.car_t.manufacturing.sigma`: must be a finite number > 0 (got -0.3)
//!       41 | manufacturing = { dist = "lognormal", median = 36, sigma = -0.3, unit = "days" }
//! ```

pub mod compile;
pub mod locate;
pub mod raw;
pub mod tagged;

use crate::error::{Error, ScenarioError};
use crate::model::Model;
use locate::Locations;
use std::path::Path;

/// A loaded scenario: the compiled model and what identifies its source.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The compiled model.
    pub model: Model,
    /// The file's text, as read.
    pub text: String,
}

/// Reads, parses, validates and compiles a scenario file.
///
/// # Errors
/// [`Error::ReadScenario`] if the file cannot be read; [`Error::Scenario`] if it is not valid
/// TOML, has an unknown or missing field, a value of the wrong type, or a value that breaks a
/// rule (a probability outside [0, 1], a negative duration, an undefined therapy, ...).
pub fn load(path: &Path) -> Result<Scenario, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ReadScenario {
        path: path.to_path_buf(),
        source,
    })?;
    let model = parse(path, &text)?;
    Ok(Scenario { model, text })
}

/// Parses and compiles scenario text; `path` is only used in error messages.
///
/// # Errors
/// As [`load`], except reading.
pub fn parse(path: &Path, text: &str) -> Result<Model, ScenarioError> {
    let locations = Locations::new(text);
    let file: raw::ScenarioFile = deserialize(text).map_err(|(path_, offset, message)| {
        locate_error(path, &locations, path_, offset, message)
    })?;
    compile::compile(&file).map_err(|e| locate_error(path, &locations, e.path, None, e.message))
}

/// Deserializes, returning (field path, byte offset, message) on failure.
fn deserialize(text: &str) -> Result<raw::ScenarioFile, (String, Option<usize>, String)> {
    let de = toml::Deserializer::parse(text).map_err(|e| {
        (
            String::new(),
            e.span().map(|s| s.start),
            e.message().to_string(),
        )
    })?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let outer = e.path().to_string();
        let inner = e.into_inner();
        let (inner_segments, message) = tagged::split_marked(inner.message());
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
        (path, inner.span().map(|s| s.start), message)
    })
}

fn locate_error(
    file: &Path,
    locations: &Locations,
    path: String,
    offset: Option<usize>,
    message: String,
) -> ScenarioError {
    let found = if path.is_empty() {
        None
    } else {
        locations.find(&path)
    };
    let (line, column) = found
        .or_else(|| offset.map(|o| locations.line_col(o)))
        .unwrap_or((0, 0));
    let path = if path.is_empty() {
        offset
            .and_then(|o| locations.path_at(o))
            .unwrap_or_default()
            .to_string()
    } else {
        path
    };
    ScenarioError {
        file: file.to_path_buf(),
        line,
        column,
        path,
        snippet: if line > 0 {
            locations.line_text(line).trim().to_string()
        } else {
            String::new()
        },
        message,
    }
}
