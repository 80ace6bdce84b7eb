//! What a provider's import hooks edit: the state files' entries, reached
//! through [`StateEntries`] (`state::edit::StateFiles` answers it), found by
//! name or previous name ([`Matcher`]), and what an import reports back
//! ([`Undone`], [`ImportError`]). Below `import` and `state`, so a provider
//! needs neither.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use toml_edit::{Item, Table, Value};

use crate::toml_comments::{set, strings};

/// Where an entry is declared: the file and its index in its list (`users`,
/// `groups`, `workspaces`...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRef {
    pub file: PathBuf,
    pub index: usize,
}

/// The state files' entries, as an import edits them.
pub(crate) trait StateEntries {
    /// Where each entry of `kind` is, by `key` of its `field` (the email or
    /// the name).
    fn entries(
        &self,
        kind: &str,
        field: &str,
        key: impl Fn(&str) -> String,
    ) -> BTreeMap<String, UserRef>;

    /// Where each declared person is, by email key.
    fn users(&self) -> BTreeMap<String, UserRef>;

    /// The entry of `kind` at `r`.
    fn entry(&self, kind: &str, r: &UserRef) -> Option<&Table>;

    /// The entry of `kind` at `r`, to change (its file is then written).
    fn entry_mut(&mut self, kind: &str, r: &UserRef) -> Option<&mut Table>;

    /// The person's entry at `r`, to change.
    fn user_mut(&mut self, r: &UserRef) -> Option<&mut Table>;

    /// Removes one entry of `kind`; the entries after it in its file move
    /// up one.
    fn remove_entry(&mut self, kind: &str, r: &UserRef);

    /// Appends an entry to `kind` of `file`, which is created if missing.
    fn add(&mut self, file: &Path, kind: &str, entry: Table);
}

/// An import that cannot describe the site without guessing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error(
        "site `{site}`: {what} `{current}` lists `{previous}` in {field}, and both are live on the site; import will not guess which one the entry describes. Remove one of them on the site, or remove `{previous}` from {field}; nothing was written"
    )]
    BothLive {
        site: String,
        what: &'static str,
        current: String,
        previous: String,
        field: &'static str,
    },
}

/// A pending rename that import undid: the entry now names what is live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undone {
    pub what: &'static str,
    pub declared: String,
    pub live: String,
}

/// The names in list `key` of entry `t` (strings, or `{ name, .. }` tables).
pub(crate) fn list(t: &Table, key: &str) -> Vec<String> {
    t.get(key)
        .and_then(Item::as_array)
        .map(|a| a.iter().filter_map(list_name).collect())
        .unwrap_or_default()
}

/// A list entry's name: a string, or a membership with a date
/// (`{ name = "A", expires = ... }`).
pub(crate) fn list_name(v: &Value) -> Option<String> {
    v.as_str()
        .or_else(|| v.as_inline_table()?.get("name")?.as_str())
        .map(str::to_string)
}

/// Finds declared entries of one kind (`users`, `groups`, `workspaces`,
/// `connections`) by the key of their name (`field`) or of one of their
/// previous names.
pub(crate) struct Matcher<'k> {
    kind: &'static str,
    field: &'static str,
    previous: &'static str,
    /// `group` or `user`, for messages.
    what: &'static str,
    key: &'k dyn Fn(&str) -> String,
    /// Each key: the entry, and the previous name it is one of (`None` for
    /// the current name, which wins a tie).
    index: BTreeMap<String, (UserRef, Option<String>)>,
    /// Keys of what is live.
    live: HashSet<String>,
}

impl<'k> Matcher<'k> {
    pub(crate) fn new(
        files: &impl StateEntries,
        (kind, field, previous, what): (&'static str, &'static str, &'static str, &'static str),
        key: &'k dyn Fn(&str) -> String,
        live: HashSet<String>,
    ) -> Matcher<'k> {
        let current = files.entries(kind, field, key);
        let mut index = BTreeMap::new();
        for r in current.values() {
            for old in files
                .entry(kind, r)
                .map(|t| list(t, previous))
                .unwrap_or_default()
            {
                index.entry(key(&old)).or_insert((r.clone(), Some(old)));
            }
        }
        index.extend(current.into_iter().map(|(k, r)| (k, (r, None))));
        Matcher {
            kind,
            field,
            previous,
            what,
            key,
            index,
            live,
        }
    }

    /// The declared entry `live_name` is. Found by a previous name, the
    /// rename was never applied: the entry is written back to `live_name`
    /// (and that name taken off its previous names), unless its current
    /// name is live too, which is an error.
    pub(crate) fn claim(
        &self,
        files: &mut impl StateEntries,
        site: &str,
        live_name: &str,
        undone: &mut Vec<Undone>,
    ) -> Result<Option<UserRef>, ImportError> {
        let Some((r, previous)) = self.index.get(&(self.key)(live_name)) else {
            return Ok(None);
        };
        let Some(previous) = previous else {
            return Ok(Some(r.clone()));
        };
        let current = files
            .entry(self.kind, r)
            .and_then(|t| t.get(self.field))
            .and_then(Item::as_str)
            .unwrap_or_default()
            .to_string();
        if self.live.contains(&(self.key)(&current)) {
            return Err(ImportError::BothLive {
                site: site.to_string(),
                what: self.what,
                current,
                previous: previous.clone(),
                field: self.previous,
            });
        }
        if let Some(t) = files.entry_mut(self.kind, r) {
            let gone = (self.key)(live_name);
            let rest: Vec<String> = list(t, self.previous)
                .into_iter()
                .filter(|p| (self.key)(p) != gone)
                .collect();
            if rest.is_empty() {
                t.remove(self.previous);
            } else {
                set(t, self.previous, strings(&rest));
            }
            set(t, self.field, live_name);
        }
        undone.push(Undone {
            what: self.what,
            declared: current,
            live: live_name.to_string(),
        });
        Ok(Some(r.clone()))
    }
}
