//! Internally tagged enums (`{ dist = "weibull", shape = 1.2, ... }`) that keep error paths.
//!
//! serde's derived `#[serde(tag = "...")]` buffers the table before choosing the variant, and
//! errors raised from the buffer lose their location: toml can only point at the enclosing
//! table. Here the table is read into a `toml::Table`, the tag is taken out, and the variant's
//! struct is deserialized from the rest through `serde_path_to_error`. An error then carries
//! the path inside the tagged table, which travels up in the message between two
//! [`PATH_MARK`]s; [`split_marked`] recovers it, and the loader joins it to the outer path and
//! finds the exact line and column.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};

/// Delimits a relative path carried inside an error message.
pub const PATH_MARK: char = '\u{1}';

/// An error at `path` (relative to the current tagged table), for the caller's deserializer.
pub fn error_at<E: serde::de::Error>(path: &str, message: impl std::fmt::Display) -> E {
    E::custom(format!("{PATH_MARK}{path}{PATH_MARK}{message}"))
}

/// Splits the relative path segments off a marked message: `(["uncured", "shape"], "message")`.
pub fn split_marked(mut message: &str) -> (Vec<String>, String) {
    let mut segments = Vec::new();
    while let Some(rest) = message.strip_prefix(PATH_MARK) {
        match rest.split_once(PATH_MARK) {
            Some((path, tail)) => {
                if !path.is_empty() && path != "." {
                    segments.push(path.to_string());
                }
                message = tail;
            }
            None => break,
        }
    }
    (segments, message.trim_end().to_string())
}

/// Reads a table, removes its tag field `tag`, and checks the tag is one of `allowed`.
pub fn take_tag<'de, D: Deserializer<'de>>(
    deserializer: D,
    tag: &str,
    what: &str,
    allowed: &[&str],
) -> Result<(String, toml::Table), D::Error> {
    let mut table = toml::Table::deserialize(deserializer)?;
    let value = table.remove(tag).ok_or_else(|| {
        D::Error::custom(format!(
            "missing field `{tag}` (the {what}: one of {})",
            quoted(allowed)
        ))
    })?;
    let Some(name) = value.as_str() else {
        return Err(error_at(
            tag,
            format!("must be a string, one of {}", quoted(allowed)),
        ));
    };
    if !allowed.contains(&name) {
        return Err(error_at(
            tag,
            format!(
                "unknown {what} `{name}`, expected one of {}",
                quoted(allowed)
            ),
        ));
    }
    Ok((name.to_string(), table))
}

/// Deserializes a variant's struct from the rest of a tagged table, keeping the error path.
pub fn variant<E: serde::de::Error, T: DeserializeOwned>(table: toml::Table) -> Result<T, E> {
    serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        error_at(&path, inner.message())
    })
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Implements `Deserialize` for an enum of newtype variants, chosen by a tag field.
macro_rules! tagged_enum {
    ($name:ident, tag = $tag:literal, what = $what:literal, { $($lit:literal => $variant:ident($ty:ty)),+ $(,)? }) => {
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let (tag, table) =
                    $crate::scenario::tagged::take_tag(d, $tag, $what, &[$($lit),+])?;
                match tag.as_str() {
                    $($lit => Ok($name::$variant($crate::scenario::tagged::variant::<D::Error, $ty>(table)?)),)+
                    _ => unreachable!("take_tag checked the tag"),
                }
            }
        }
    };
}
pub(crate) use tagged_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marked_paths_nest() {
        let m = format!("{PATH_MARK}uncured{PATH_MARK}{PATH_MARK}shape{PATH_MARK}must be > 0\n");
        assert_eq!(
            split_marked(&m),
            (vec!["uncured".into(), "shape".into()], "must be > 0".into())
        );
        assert_eq!(split_marked("plain"), (vec![], "plain".into()));
    }
}
