//! Where each field of a scenario file sits: a map from field path (`therapies.car_t.response`,
//! `strategies[1].lines[0].therapies[2]`) to its line and column, built from toml's spanned
//! document. Validation errors carry a path; this turns it into a place in the file.

use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Line and column (both from 1) of every key, table and array element of a document.
#[derive(Debug, Default)]
pub struct Locations {
    spans: BTreeMap<String, Range<usize>>,
    /// Each table's path with the span of its `[header]`, `[[header]]` or `{ inline }` text.
    tables: Vec<(String, Range<usize>)>,
    /// How many errors toml recovered from (past one, its recovered tables may have lost a
    /// header).
    errors: usize,
    line_starts: Vec<usize>,
    text: String,
}

impl Locations {
    /// Indexes `text`. A document that does not parse is indexed as far as toml can recover
    /// it, so that its parse error's position can be given a field ([`Locations::path_at`]).
    pub fn new(text: &str) -> Locations {
        let mut loc = Locations {
            spans: BTreeMap::new(),
            tables: Vec::new(),
            errors: 0,
            line_starts: std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
            text: text.to_string(),
        };
        let (doc, errors) = DeTable::parse_recoverable(text);
        loc.errors = errors.len();
        loc.walk_table(String::new(), doc.get_ref());
        loc
    }

    /// Notes where a table's own text is, for [`Locations::duplicate`]: a header, an inline
    /// table, or (for a table made by a dotted key) nothing of its own.
    fn note_table(&mut self, path: &str, span: Range<usize>) {
        if matches!(self.text.as_bytes().get(span.start), Some(b'[' | b'{')) {
            self.tables.push((path.to_string(), span));
        }
    }

    fn walk_table(&mut self, prefix: String, table: &DeTable<'_>) {
        for (key, value) in table {
            let path = if prefix.is_empty() {
                key.get_ref().to_string()
            } else {
                format!("{prefix}.{}", key.get_ref())
            };
            // Start at the key, the line a user edits, and end with the value, so that an
            // error inside the value (an integer too large, say) is found to be this field's.
            let span = key.span().start..value.span().end.max(key.span().end);
            self.spans.insert(path.clone(), span);
            self.walk_value(path, value);
        }
    }

    fn walk_value(&mut self, path: String, value: &Spanned<DeValue<'_>>) {
        match value.get_ref() {
            DeValue::Table(t) => {
                self.note_table(&path, value.span());
                self.walk_table(path, t)
            }
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    self.spans.insert(p.clone(), item.span());
                    self.walk_value(p, item);
                }
            }
            _ => {}
        }
    }

    /// Whether this file sets `path` itself.
    pub fn defines(&self, path: &str) -> bool {
        self.spans.contains_key(path)
    }

    /// The (line, column) of `path`, or of its longest prefix present in the file (a missing
    /// field is reported where its table is).
    pub fn find(&self, path: &str) -> Option<(usize, usize)> {
        let mut p = path;
        loop {
            if let Some(span) = self.spans.get(p) {
                return Some(self.line_col(span.start));
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
        }
    }

    /// The (line, column) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        let col = self.text[start..offset.min(self.text.len())]
            .chars()
            .count()
            + 1;
        (line, col)
    }

    /// The text of line `line` (from 1), without its newline.
    pub fn line_text(&self, line: usize) -> &str {
        let start = self
            .line_starts
            .get(line - 1)
            .copied()
            .unwrap_or(self.text.len());
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |e| e - 1);
        self.text[start..end.max(start)].trim_end_matches('\r')
    }

    /// The path of the innermost field or array element whose text (key and value) contains
    /// byte `offset`, or else of the field that ends just before it on its line (text run on
    /// after a value: `supportive = "bsc"8`).
    pub fn path_at(&self, offset: usize) -> Option<&str> {
        let within = self
            .spans
            .iter()
            .filter(|(_, s)| s.start <= offset && offset < s.end.max(s.start + 1))
            .min_by_key(|(_, s)| s.end - s.start);
        let before = || {
            self.spans
                .iter()
                .filter(|(_, s)| {
                    self.text
                        .get(s.end..offset)
                        .is_some_and(|gap| gap.chars().all(|c| c == ' ' || c == '\t'))
                })
                // An `[[array]]` header ends both the array's field and its entry: the entry.
                .max_by_key(|(_, s)| (s.end, s.end - s.start))
        };
        within.or_else(before).map(|(p, _)| p.as_str())
    }

    /// For toml's "duplicate key" error, whose span is the repeated key's last part: the
    /// field it sets again and the line where that field was set first. The key's dotted
    /// prefix on its line is read back from the text; the table it is in is the inline table
    /// around it or else the last header before it. `None` when that field was not set
    /// before (a repeated `[header]` is a field of its own, found by [`Locations::path_at`]),
    /// or when toml recovered from other errors too and its tables may have lost a header.
    pub fn duplicate(&self, key: Range<usize>) -> Option<(&str, usize)> {
        if self.errors > 1 {
            return None;
        }
        let before = self.text.get(..key.start)?;
        let start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || "_-.'\" \t".contains(c)))
            .map_or(0, |i| i + 1);
        let dotted = self.text.get(start..key.end)?;
        let dotted: Vec<&str> = dotted
            .split('.')
            .map(|part| part.trim().trim_matches(['"', '\'']))
            .collect();
        if dotted.iter().any(|part| part.is_empty()) {
            return None;
        }
        let opened_by = before[..start].trim_end().chars().next_back();
        let table = if opened_by == Some('[') {
            None
        } else {
            let inline = self
                .tables
                .iter()
                .filter(|(_, s)| self.text[s.clone()].starts_with('{') && s.contains(&key.start))
                .min_by_key(|(_, s)| s.end - s.start);
            let header = || {
                self.tables
                    .iter()
                    .filter(|(_, s)| self.text[s.clone()].starts_with('[') && s.end <= start)
                    .max_by_key(|(_, s)| s.start)
            };
            inline.or_else(header).map(|(p, _)| p.as_str())
        };
        let path = match table {
            Some(t) => format!("{t}.{}", dotted.join(".")),
            None => dotted.join("."),
        };
        let (path, first) = self.spans.get_key_value(&path)?;
        (first.start < key.start).then(|| (path.as_str(), self.line_col(first.start).0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "seed = 1\n[therapies.blin]\ncycle_days = 42\nrelapse = { dist = \"weibull\", shape = 1 }\n[[strategies]]\nname = \"a\"\nlines = [ { therapies = [\"x\", \"y\"] } ]\n";

    #[test]
    fn finds_nested_paths() {
        let l = Locations::new(DOC);
        assert_eq!(l.find("seed"), Some((1, 1)));
        assert_eq!(l.find("therapies.blin.cycle_days"), Some((3, 1)));
        assert_eq!(l.find("therapies.blin.relapse.shape"), Some((4, 31)));
        assert_eq!(l.find("strategies[0].name"), Some((6, 1)));
        assert_eq!(l.find("strategies[0].lines[0].therapies[1]"), Some((7, 31)));
        // Missing field: where its table is.
        assert_eq!(l.find("therapies.blin.relapse.scale"), Some((4, 1)));
        assert_eq!(l.line_text(3), "cycle_days = 42");
    }

    /// A byte inside a value belongs to the innermost field or element around it.
    #[test]
    fn offsets_belong_to_the_innermost_field() {
        let l = Locations::new(DOC);
        let at = |needle: &str| DOC.find(needle).expect("in DOC");
        assert_eq!(l.path_at(0), Some("seed"));
        assert_eq!(l.path_at(at("1\n")), Some("seed"));
        assert_eq!(l.path_at(at("42")), Some("therapies.blin.cycle_days"));
        assert_eq!(
            l.path_at(at("\"weibull")),
            Some("therapies.blin.relapse.dist")
        );
        assert_eq!(
            l.path_at(at("shape = 1")),
            Some("therapies.blin.relapse.shape")
        );
        assert_eq!(l.path_at(at("1 }")), Some("therapies.blin.relapse.shape"));
        assert_eq!(l.path_at(at(", shape")), Some("therapies.blin.relapse"));
        assert_eq!(
            l.path_at(at("\"y\"")),
            Some("strategies[0].lines[0].therapies[1]")
        );
        assert_eq!(l.path_at(at("\"a\"")), Some("strategies[0].name"));
        // Text run on after a value, on its line: the field before it.
        let ran_on = "seed = 1 x\n[t]\nv = { a = 1 } y\nw = [1, 2]\n  z\n";
        let r = Locations::new(ran_on);
        assert_eq!(r.path_at(ran_on.find('x').unwrap()), Some("seed"));
        assert_eq!(r.path_at(ran_on.find('y').unwrap()), Some("t.v"));
        let headers = "[[s]] x\n[[s]] y\n";
        let h = Locations::new(headers);
        assert_eq!(h.path_at(headers.find('x').unwrap()), Some("s[0]"));
        assert_eq!(h.path_at(headers.find('y').unwrap()), Some("s[1]"));
        // Past every field, or on a line of its own: nothing.
        assert_eq!(l.path_at(DOC.len()), None);
        assert_eq!(r.path_at(ran_on.find("[t]").unwrap()), None);
        assert_eq!(r.path_at(ran_on.find('z').unwrap()), None);
    }

    /// A repeated key is named by the field it sets again, in whatever kind of table it is,
    /// with the line of the first; what cannot be named surely is not named.
    #[test]
    fn a_duplicate_key_is_the_field_set_before() {
        let dup = |text: &str, key_at: &str| {
            let l = Locations::new(text);
            let start = text.rfind(key_at).expect("in text");
            let key = text[start..].split([' ', '=']).next().unwrap().len();
            l.duplicate(start..start + key)
                .map(|(p, line)| (p.to_string(), line))
        };
        let named = |p: &str, line| Some((p.to_string(), line));
        assert_eq!(dup("[t]\nx = 1\ny = 2\nx = 3\n", "x"), named("t.x", 2));
        assert_eq!(dup("a = 1\na = 2\n", "a"), named("a", 1));
        // A dotted table between them is not the key's table.
        assert_eq!(dup("x = 1\nb.x = 2\nx = 3\n", "x"), named("x", 1));
        assert_eq!(dup("a.x = 1\na . \"x\" = 2\n", "\"x\""), named("a.x", 1));
        assert_eq!(dup("a = { b = 1, b = 2 }", "b"), named("a.b", 1));
        assert_eq!(dup("a = { b.c = 1, b.c = 2 }", "c"), named("a.b.c", 1));
        // In the innermost inline table around it.
        let nested = "a = { b = { c = 1, c = 2 } }";
        assert_eq!(dup(nested, "c = 2"), named("a.b.c", 1));
        let doc = "[[s]]\nx = 1\n[[s]]\nx = 2\n'x' = 3\n";
        assert_eq!(dup(doc, "'x'"), named("s[1].x", 4));
        assert_eq!(dup("[t.u]\n[t]\nv = 1\nv = 2\n", "v"), named("t.v", 3));
        // A repeated header is the field its span is in (`path_at`), not a key set twice.
        assert_eq!(dup("[t]\nx = 1\n[t]\n", "t"), None);
        // A quoted key is toml's whole span, whatever its characters.
        assert_eq!(dup("\"é\" = 1\n\"é\" = 2\n", "\"é\""), named("é", 1));
        // Not set before: nothing to name.
        assert_eq!(dup("a = 1\n", "a"), None);
        // Other errors besides: toml's recovered tables may have lost a header.
        assert_eq!(dup("x = 0\n[t]\nx = 1\nx = 2\n[u]\n[t]\n", "x = 2"), None);
    }
}
