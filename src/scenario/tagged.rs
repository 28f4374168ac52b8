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
use std::cell::Cell;

thread_local! {
    /// Whether [`variant`] tracks the path of an error; off only inside [`untracked`].
    static TRACK_PATHS: Cell<bool> = const { Cell::new(true) };
}

/// Runs `f` with the tagged tables deserialized without tracking the path of an error, for a
/// first attempt whose error, if any, is thrown away and the deserialization done again with
/// the path (as [`crate::scenario::Scenario::with_values`] does). Tracking formats every key
/// it passes into a string: 18 of the 166 million instructions of `allseq run`'s start-up on
/// the default scenario, most of it in the 69 compiles of its `[uncertainty]` check.
pub fn untracked<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            TRACK_PATHS.set(self.0);
        }
    }
    let _restore = Restore(TRACK_PATHS.replace(false));
    f()
}

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
/// Inside [`untracked`] the error carries no path.
pub fn variant<E: serde::de::Error, T: DeserializeOwned>(table: toml::Table) -> Result<T, E> {
    if !TRACK_PATHS.get() {
        return T::deserialize(toml::Value::Table(table)).map_err(E::custom);
    }
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

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        shape: f64,
    }

    /// Inside `untracked` a variant's error carries no path; outside it does, and tracking is
    /// back on after `untracked` returns.
    #[test]
    fn untracked_variants_drop_the_path_only_inside() {
        let table = || toml::toml! { shape = "x" };
        let tracked = || {
            variant::<toml::de::Error, Inner>(table())
                .unwrap_err()
                .message()
                .to_string()
        };
        let before = tracked();
        assert!(
            before.starts_with(&format!("{PATH_MARK}shape{PATH_MARK}")),
            "{before}"
        );
        let inside = untracked(tracked);
        assert!(!inside.contains(PATH_MARK), "{inside}");
        assert!(inside.contains("invalid type: string"), "{inside}");
        assert_eq!(tracked(), before);
    }
}
