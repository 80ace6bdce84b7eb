//! Editing state files in place (toml_edit): find a person's entry in
//! whichever file declares them, change or remove fields, remove or add
//! entries. Comments and layout are kept. Used by CSV import and by import
//! from live sites.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table, Value};

use crate::model::email_key;

/// Every state file, parsed for editing, and which were changed.
pub struct StateFiles {
    files: BTreeMap<PathBuf, (DocumentMut, bool)>,
    /// The state directory: every write must land inside it.
    root: PathBuf,
}

/// Where a person is declared: the file and their index in its `users`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRef {
    pub file: PathBuf,
    pub index: usize,
}

impl StateFiles {
    pub fn open(dir: &Path) -> Result<StateFiles, String> {
        let mut files = BTreeMap::new();
        let paths =
            super::toml_files(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for path in paths {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
                format!("{}: {}", path.display(), e.to_string().trim_end())
            })?;
            files.insert(path, (doc, false));
        }
        Ok(StateFiles {
            files,
            root: dir.to_path_buf(),
        })
    }

    /// Where each entry of `kind` (`users` or `groups`) is, by `key` of its
    /// `field` (the email or the name).
    pub fn entries(
        &self,
        kind: &str,
        field: &str,
        key: impl Fn(&str) -> String,
    ) -> BTreeMap<String, UserRef> {
        let mut out = BTreeMap::new();
        for (path, (doc, _)) in &self.files {
            let Some(list) = doc.get(kind).and_then(Item::as_array_of_tables) else {
                continue;
            };
            for (index, t) in list.iter().enumerate() {
                if let Some(v) = t.get(field).and_then(Item::as_str) {
                    out.insert(
                        key(v),
                        UserRef {
                            file: path.clone(),
                            index,
                        },
                    );
                }
            }
        }
        out
    }

    /// Where each declared person is, by email key.
    pub fn users(&self) -> BTreeMap<String, UserRef> {
        self.entries("users", "email", email_key)
    }

    pub fn entry(&self, kind: &str, r: &UserRef) -> Option<&Table> {
        self.files
            .get(&r.file)?
            .0
            .get(kind)?
            .as_array_of_tables()?
            .get(r.index)
    }

    pub fn entry_mut(&mut self, kind: &str, r: &UserRef) -> Option<&mut Table> {
        let (doc, changed) = self.files.get_mut(&r.file)?;
        *changed = true;
        doc.get_mut(kind)?
            .as_array_of_tables_mut()?
            .get_mut(r.index)
    }

    pub fn user_mut(&mut self, r: &UserRef) -> Option<&mut Table> {
        self.entry_mut("users", r)
    }

    /// Removes people's entries (refs into the same file must all be given
    /// at once, as indexes shift).
    pub fn remove_users(&mut self, refs: &[UserRef]) {
        let mut by_file: BTreeMap<&PathBuf, Vec<usize>> = BTreeMap::new();
        for r in refs {
            by_file.entry(&r.file).or_default().push(r.index);
        }
        for (file, mut indexes) in by_file {
            let Some((doc, changed)) = self.files.get_mut(file) else {
                continue;
            };
            let Some(users) = doc.get_mut("users").and_then(Item::as_array_of_tables_mut) else {
                continue;
            };
            indexes.sort_unstable();
            for i in indexes.into_iter().rev() {
                users.remove(i);
            }
            *changed = true;
        }
    }

    /// Appends an entry to `kind` (`users` or `groups`) of `file`, which is
    /// created if missing.
    pub fn add(&mut self, file: &Path, kind: &str, entry: Table) {
        let (doc, changed) = self
            .files
            .entry(file.to_path_buf())
            .or_insert_with(|| (DocumentMut::new(), false));
        *changed = true;
        let list = doc
            .entry(kind)
            .or_insert_with(|| Item::ArrayOfTables(Default::default()));
        if let Some(list) = list.as_array_of_tables_mut() {
            list.push(entry);
        }
    }

    /// The files that changed and their new text.
    pub fn changed(&self) -> Vec<(&Path, String)> {
        self.files
            .iter()
            .filter(|(_, (_, changed))| *changed)
            .map(|(p, (doc, _))| (p.as_path(), doc.to_string()))
            .collect()
    }

    /// Writes every changed file, then checks the state in `dir` still loads;
    /// if not, every file is put back as it was and the problems returned.
    pub fn write_checked(&self, dir: &Path) -> Result<Vec<PathBuf>, Vec<String>> {
        let targets = self.targets().map_err(|e| vec![e])?;
        let originals: Vec<(&PathBuf, Option<String>)> = targets
            .iter()
            .map(|(_, real, _)| (real, std::fs::read_to_string(real).ok()))
            .collect();
        let written = Self::write_targets(&targets).map_err(|e| vec![e])?;
        if let Err(problems) = super::load(dir) {
            for (real, text) in &originals {
                let _ = match text {
                    Some(t) => super::write::write_atomic(real, t),
                    None => std::fs::remove_file(real).map_err(|e| e.to_string()),
                };
            }
            return Err(problems.0.iter().map(ToString::to_string).collect());
        }
        Ok(written)
    }

    /// Writes every changed file (each whole or not at all). Every path is
    /// checked first: if one would land outside the state directory (a
    /// symlink pointing out of it, say), nothing is written.
    pub fn write(&self) -> Result<Vec<PathBuf>, String> {
        Self::write_targets(&self.targets()?)
    }

    /// Fails, saying why, if a changed file would land outside the state
    /// directory (a symlink pointing out of it, say).
    pub fn check_targets(&self) -> Result<(), String> {
        self.targets().map(|_| ())
    }

    /// Each changed file: its path, where writing it lands, its new text.
    fn targets(&self) -> Result<Vec<(&Path, PathBuf, String)>, String> {
        self.changed()
            .into_iter()
            .map(|(path, text)| Ok((path, super::write::target_inside(&self.root, path)?, text)))
            .collect()
    }

    fn write_targets(targets: &[(&Path, PathBuf, String)]) -> Result<Vec<PathBuf>, String> {
        let mut written = Vec::new();
        for (path, real, text) in targets {
            super::write::write_atomic(real, text)?;
            written.push(path.to_path_buf());
        }
        Ok(written)
    }
}

/// Sets a key to a value, keeping the comment and spacing of the old value.
pub fn set(t: &mut Table, key: &str, value: impl Into<Value>) {
    let mut value = value.into();
    if let Some(old) = t.get(key).and_then(Item::as_value) {
        *value.decor_mut() = old.decor().clone();
    }
    t.insert(key, Item::Value(value));
}

/// A list value of strings.
pub fn strings(items: &[String]) -> Value {
    let mut a = toml_edit::Array::new();
    for i in items {
        a.push(i.as_str());
    }
    Value::Array(a)
}
