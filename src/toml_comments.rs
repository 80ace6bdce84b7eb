//! Comments inside arrays, kept with the element they belong to when `fmt`
//! sorts a list or an import rewrites it; and setting a value so that its
//! comments stay ([`set`]).
//!
//! toml_edit stores a comment by where it sits in the text: the comment after
//! `"Finance",` is in the prefix of the *next* element (or in the array's
//! trailing text after the last one). Here each element owns the comment
//! lines above it and the comment on its own line after it, so it can move
//! with them. A list with comments is written one element a line:
//!
//! ```toml
//! groups = [
//!   "Analysts",
//!   # until the audit (JIRA-42)
//!   "Finance", # approved by Grace
//! ]
//! ```
//!
//! which reads back into the same elements (the form is stable).

use toml_edit::{Array, Item, TableLike, Value};

/// One element with the comments it owns.
#[derive(Debug, Clone)]
pub(crate) struct Element {
    /// The value, without its own spacing.
    pub(crate) value: Value,
    /// Whole comment lines above it, trimmed (`# ...`).
    pub(crate) above: Vec<String>,
    /// The comment on its line, after its comma, trimmed.
    pub(crate) after: Option<String>,
}

impl Element {
    pub(crate) fn new(value: Value) -> Element {
        let mut value = value;
        value.decor_mut().clear();
        Element {
            value,
            above: Vec::new(),
            after: None,
        }
    }

    fn absorb(&mut self, other: Element) {
        self.above.extend(other.above);
        self.after = match (self.after.take(), other.after) {
            (Some(a), Some(b)) => Some(format!("{a} {b}")),
            (a, b) => a.or(b),
        };
    }
}

/// An array taken apart: its elements and the comment lines before `]`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Elements {
    pub(crate) items: Vec<Element>,
    pub(crate) tail: Vec<String>,
}

fn raw(r: &toml_edit::RawString) -> &str {
    r.as_str().unwrap_or_default()
}

fn comment_lines(text: &str) -> impl Iterator<Item = String> + '_ {
    text.lines()
        .map(str::trim)
        .filter(|l| l.starts_with('#'))
        .map(str::to_string)
}

/// Splits the text after a comma into the comment on that line (owned by
/// the element before) and the comment lines below it.
fn split_after_comma(text: &str) -> (Option<String>, Vec<String>) {
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let first = first.trim();
    let same_line = first.starts_with('#').then(|| first.to_string());
    (same_line, comment_lines(rest).collect())
}

/// Takes an array apart, each comment going to the element it belongs to.
pub(crate) fn split(list: &Array) -> Elements {
    let mut out = Elements::default();
    for (i, v) in list.iter().enumerate() {
        let prefix = v.decor().prefix().map(raw).unwrap_or_default();
        let mut above = if i == 0 {
            comment_lines(prefix).collect()
        } else {
            let (same_line, above) = split_after_comma(prefix);
            if let Some(prev) = out.items.last_mut() {
                prev.after = same_line;
            }
            above
        };
        // A comment between a value and its comma: kept above it.
        let suffix = v.decor().suffix().map(raw).unwrap_or_default();
        above.extend(comment_lines(suffix));
        let mut e = Element::new(v.clone());
        e.above = above;
        out.items.push(e);
    }
    let (same_line, tail) = split_after_comma(raw(list.trailing()));
    match out.items.last_mut() {
        Some(last) => last.after = same_line,
        None => out.tail.extend(same_line),
    }
    out.tail.extend(tail);
    out
}

impl Elements {
    fn has_comments(&self) -> bool {
        !self.tail.is_empty()
            || self
                .items
                .iter()
                .any(|e| !e.above.is_empty() || e.after.is_some())
    }

    /// Sorts by `key`, keeping the first of elements with equal keys (the
    /// comments of the others go with it).
    pub(crate) fn sort_dedup<K: Ord>(&mut self, key: impl Fn(&Value) -> K) {
        self.items.sort_by_cached_key(|e| key(&e.value));
        let mut kept: Vec<Element> = Vec::with_capacity(self.items.len());
        for e in std::mem::take(&mut self.items) {
            match kept.last_mut() {
                Some(last) if key(&last.value) == key(&e.value) => last.absorb(e),
                _ => kept.push(e),
            }
        }
        self.items = kept;
    }

    /// The array in its canonical layout: on one line without comments,
    /// one element a line with them.
    pub(crate) fn join(self) -> Array {
        let mut list = Array::new();
        if !self.has_comments() {
            for e in self.items {
                list.push_formatted(e.value);
            }
            list.fmt();
            return list;
        }
        let mut pending: Option<String> = None;
        for e in self.items {
            let mut prefix = after_comma(pending.take());
            for line in &e.above {
                prefix.push_str(&format!("  {line}\n"));
            }
            prefix.push_str("  ");
            let mut value = e.value;
            value.decor_mut().set_prefix(prefix);
            value.decor_mut().set_suffix("");
            list.push_formatted(value);
            pending = e.after;
        }
        let mut trailing = after_comma(pending);
        for line in &self.tail {
            trailing.push_str(&format!("  {line}\n"));
        }
        list.set_trailing_comma(!list.is_empty());
        list.set_trailing(trailing);
        list
    }
}

/// The text after a comma: the element's own comment, then a line break.
fn after_comma(comment: Option<String>) -> String {
    match comment {
        Some(c) => format!(" {c}\n"),
        None => "\n".to_string(),
    }
}

/// A new list of strings laid out like `old`: each string that was in `old`
/// (compared ignoring case) keeps its comments, and so do the comment lines
/// before `]`. The strings keep the order given. One written in `old` as a
/// table with a `name` (`{ name = "Finance", expires = 2027-01-01 }`) keeps
/// that form and everything else it says: a rewrite never turns access
/// that ends into access that does not.
pub(crate) fn rewrite_strings(old: &Array, new: &[String]) -> Array {
    let mut parts = split(old);
    let mut by_key: std::collections::HashMap<String, Element> = std::collections::HashMap::new();
    for e in parts.items.drain(..).rev() {
        let name = e
            .value
            .as_str()
            .or_else(|| e.value.as_inline_table()?.get("name")?.as_str());
        if let Some(s) = name {
            by_key.insert(s.to_lowercase(), e);
        }
    }
    parts.items = new
        .iter()
        .map(|s| match by_key.remove(&s.to_lowercase()) {
            Some(mut e) => {
                match e.value.as_inline_table_mut() {
                    Some(t) => {
                        let decor = t.get("name").map(|n| n.decor().clone());
                        let mut name = Value::from(s.as_str());
                        if let Some(d) = decor {
                            *name.decor_mut() = d;
                        }
                        t.insert("name", name);
                    }
                    None => e.value = Value::from(s.as_str()),
                }
                e
            }
            None => Element::new(Value::from(s.as_str())),
        })
        .collect();
    parts.join()
}

/// Sets a key to a value, keeping the comment and spacing of the old value;
/// a list of strings replacing a list keeps the comments of the elements
/// that stay, and those before its `]`.
pub(crate) fn set<T: TableLike + ?Sized>(t: &mut T, key: &str, value: impl Into<Value>) {
    let mut value = value.into();
    if let Some(old) = t.get(key).and_then(Item::as_value) {
        if let (Value::Array(old_list), Value::Array(new_list)) = (old, &value) {
            let strings: Option<Vec<String>> = new_list
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect();
            if let Some(strings) = strings {
                value = Value::Array(rewrite_strings(old_list, &strings));
            }
        }
        *value.decor_mut() = old.decor().clone();
    }
    t.insert(key, Item::Value(value));
}

/// A list value of strings.
pub(crate) fn strings(items: &[String]) -> Value {
    let mut a = toml_edit::Array::new();
    for i in items {
        a.push(i.as_str());
    }
    Value::Array(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn array(text: &str) -> Array {
        let doc: toml_edit::DocumentMut = format!("a = {text}\n").parse().unwrap();
        doc["a"].as_array().unwrap().clone()
    }

    #[test]
    fn a_comment_after_a_comma_belongs_to_the_element_before() {
        let mut parts = split(&array(
            "[ \"Finance\", # until the audit (JIRA-42)\n \"Analysts\" ]",
        ));
        parts.sort_dedup(|v| v.as_str().map(str::to_lowercase));
        let out = parts.join().to_string();
        assert_eq!(
            out,
            "[\n  \"Analysts\",\n  \"Finance\", # until the audit (JIRA-42)\n]"
        );
        let mut again = split(&array(&out));
        again.sort_dedup(|v| v.as_str().map(str::to_lowercase));
        assert_eq!(again.join().to_string(), out, "the form is stable");
    }

    #[test]
    fn comments_above_elements_and_before_the_bracket_are_kept() {
        let text = "[\n  # ops first\n  \"Ops\", # on call\n  \"Finance\",\n  # more soon\n]";
        let mut parts = split(&array(text));
        parts.sort_dedup(|v| v.as_str().map(str::to_lowercase));
        assert_eq!(
            parts.join().to_string(),
            "[\n  \"Finance\",\n  # ops first\n  \"Ops\", # on call\n  # more soon\n]"
        );
    }

    #[test]
    fn without_comments_a_list_stays_on_one_line() {
        let mut parts = split(&array("[\n  \"b\",\n  \"a\",\n]"));
        parts.sort_dedup(|v| v.as_str().map(str::to_string));
        assert_eq!(parts.join().to_string(), "[\"a\", \"b\"]");
    }

    #[test]
    fn rewriting_keeps_the_comments_of_the_strings_that_stay() {
        let old = array("[\"Finance\", # until the audit\n \"Ops\"]");
        let new = rewrite_strings(&old, &["Analysts".into(), "finance".into()]);
        assert_eq!(
            new.to_string(),
            "[\n  \"Analysts\",\n  \"finance\", # until the audit\n]"
        );
    }

    #[test]
    fn rewriting_keeps_a_membership_with_an_end_date_as_written() {
        let old = array("[{ name = \"Finance\", expires = 2027-01-01 }, \"Analysts\"]");
        let new = rewrite_strings(&old, &["FINANCE".into(), "Ops".into()]);
        assert_eq!(
            new.to_string(),
            "[{ name = \"FINANCE\", expires = 2027-01-01 }, \"Ops\"]"
        );
    }
}
