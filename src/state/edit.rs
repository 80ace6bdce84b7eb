//! Editing state files in place (toml_edit): find a person's entry in
//! whichever file declares them, change or remove fields, remove or add
//! entries. Comments and layout are kept. Used by CSV import and by import
//! from live sites.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table};

use crate::model::email_key;
use crate::provider::kinds::entries::StateEntries;
pub use crate::provider::kinds::entries::UserRef;
pub(crate) use crate::toml_comments::{set, strings};

/// Why state files could not be read, put in canonical form, or written.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The state directory's files could not be listed.
    #[error("cannot read {}: {source}", .path.display())]
    List {
        path: PathBuf,
        source: super::Diagnostics,
    },
    /// A file that is not TOML (or not once put in canonical form).
    #[error("{}: {}", .path.display(), .source.to_string().trim_end())]
    Toml {
        path: PathBuf,
        source: toml_edit::TomlError,
    },
    #[error("cannot create {}: {source}", .path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Writing the file would land outside the state directory, or on
    /// something that is not a regular file; the message says which.
    #[error("{0}")]
    Target(String),
}

/// Every state file, parsed for editing, and which were changed.
pub struct StateFiles {
    files: BTreeMap<PathBuf, (DocumentMut, bool)>,
    /// The text each file had when opened: an edit that comes back to it
    /// changes nothing, so the file is neither written nor named.
    original: BTreeMap<PathBuf, String>,
    /// The state directory: every write must land inside it.
    root: PathBuf,
}

impl StateFiles {
    pub fn open(dir: &Path) -> Result<StateFiles, EditError> {
        let mut files = BTreeMap::new();
        let mut original = BTreeMap::new();
        let paths = super::toml_files(dir).map_err(|source| EditError::List {
            path: dir.to_path_buf(),
            source,
        })?;
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|source| EditError::Read {
                path: path.clone(),
                source,
            })?;
            let doc: DocumentMut = text.parse().map_err(|source| EditError::Toml {
                path: path.clone(),
                source,
            })?;
            files.insert(path.clone(), (doc, false));
            original.insert(path, text);
        }
        Ok(StateFiles {
            files,
            original,
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

    /// Removes one entry of `kind` (`users` or `groups`); the entries after
    /// it in its file move up one.
    pub fn remove_entry(&mut self, kind: &str, r: &UserRef) {
        let Some((doc, changed)) = self.files.get_mut(&r.file) else {
            return;
        };
        if let Some(list) = doc.get_mut(kind).and_then(Item::as_array_of_tables_mut)
            && r.index < list.len()
        {
            list.remove(r.index);
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
            .filter(|(p, text)| self.original.get(*p) != Some(text))
            .collect()
    }

    /// Puts every changed file in `roster fmt`'s canonical form.
    pub fn canonicalize(&mut self) -> Result<(), EditError> {
        for (path, (doc, changed)) in self.files.iter_mut().filter(|(_, (_, c))| *c) {
            let text = super::format::canonical(&doc.to_string())
                .and_then(|t| t.parse::<DocumentMut>())
                .map_err(|source| EditError::Toml {
                    path: path.clone(),
                    source,
                })?;
            *doc = text;
            *changed = true;
        }
        Ok(())
    }

    /// Checks that the state in `dir`, with the changes, still loads,
    /// without touching `dir`: the files are laid out in a temporary copy,
    /// and the problems name the files of `dir`.
    pub fn check(&self, dir: &Path) -> Result<(), Vec<String>> {
        let shadow =
            tempfile::tempdir().map_err(|e| vec![format!("cannot check the edits: {e}")])?;
        let io =
            |path: &Path, e: std::io::Error| vec![format!("cannot check {}: {e}", path.display())];
        for (path, (doc, changed)) in &self.files {
            let Ok(rel) = path.strip_prefix(dir) else {
                return Err(vec![format!(
                    "{} is outside {}",
                    path.display(),
                    dir.display()
                )]);
            };
            let copy = shadow.path().join(rel);
            if let Some(parent) = copy.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
            }
            let text = if *changed {
                doc.to_string()
            } else {
                std::fs::read_to_string(path).map_err(|e| io(path, e))?
            };
            std::fs::write(&copy, text).map_err(|e| io(path, e))?;
        }
        super::load(shadow.path()).map(drop).map_err(|problems| {
            problems
                .0
                .into_iter()
                .map(|mut d| {
                    if let Ok(rel) = d.file.strip_prefix(shadow.path()) {
                        d.file = dir.join(rel);
                    }
                    d.to_string()
                })
                .collect()
        })
    }

    /// Checks the changes (see [`StateFiles::check`]), then writes them;
    /// on any failure nothing is left behind: every file written is put
    /// back, every file and folder created is removed.
    pub fn write_checked(&self, dir: &Path) -> Result<Vec<PathBuf>, Vec<String>> {
        self.check(dir)?;
        self.write().map_err(|e| vec![e.to_string()])
    }

    /// Writes every changed file (each whole or not at all); if one cannot
    /// be written, those already written are put back as they were. Every
    /// path is checked first: if one would land outside the state
    /// directory (a symlink pointing out of it, say), nothing is written.
    pub fn write(&self) -> Result<Vec<PathBuf>, EditError> {
        let targets = self.targets()?;
        let mut undo = Undo::default();
        for (path, real, text) in &targets {
            if let Err(e) = undo.write(path, real, text) {
                undo.roll_back();
                return Err(e);
            }
            undo.shown.push(path.to_path_buf());
        }
        Ok(undo.shown)
    }

    /// Fails, saying why, if a changed file would land outside the state
    /// directory (a symlink pointing out of it, say).
    pub fn check_targets(&self) -> Result<(), EditError> {
        self.targets().map(|_| ())
    }

    /// Each changed file: its path, where writing it lands, its new text.
    fn targets(&self) -> Result<Vec<(&Path, PathBuf, String)>, EditError> {
        self.changed()
            .into_iter()
            .map(|(path, text)| {
                let real =
                    super::write::target_inside(&self.root, path).map_err(EditError::Target)?;
                Ok((path, real, text))
            })
            .collect()
    }
}

/// Files written so far, with what they held before, and folders created,
/// so a failed write can be undone.
#[derive(Default)]
struct Undo {
    written: Vec<(PathBuf, Option<Vec<u8>>)>,
    created_dirs: Vec<PathBuf>,
    /// The written files as the state names them.
    shown: Vec<PathBuf>,
}

impl Undo {
    /// Writes `text` to `real`, where the state's `path` lands.
    fn write(&mut self, path: &Path, real: &Path, text: &str) -> Result<(), EditError> {
        if let Some(dir) = real.parent() {
            let missing: Vec<PathBuf> = dir
                .ancestors()
                .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
                .map(Path::to_path_buf)
                .collect();
            std::fs::create_dir_all(dir).map_err(|source| EditError::CreateDir {
                path: path.parent().unwrap_or(dir).to_path_buf(),
                source,
            })?;
            // Deepest first, as they are to be removed.
            self.created_dirs.extend(missing);
        }
        let before = std::fs::read(real).ok();
        super::write::write_atomic_io(real, text).map_err(|source| EditError::Write {
            path: path.to_path_buf(),
            source,
        })?;
        self.written.push((real.to_path_buf(), before));
        Ok(())
    }

    fn roll_back(self) {
        for (path, before) in self.written.iter().rev() {
            let _ = match before {
                Some(bytes) => std::fs::write(path, bytes),
                None => std::fs::remove_file(path),
            };
        }
        for dir in &self.created_dirs {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

impl StateEntries for StateFiles {
    fn entries(
        &self,
        kind: &str,
        field: &str,
        key: impl Fn(&str) -> String,
    ) -> BTreeMap<String, UserRef> {
        StateFiles::entries(self, kind, field, key)
    }

    fn users(&self) -> BTreeMap<String, UserRef> {
        StateFiles::users(self)
    }

    fn entry(&self, kind: &str, r: &UserRef) -> Option<&Table> {
        StateFiles::entry(self, kind, r)
    }

    fn entry_mut(&mut self, kind: &str, r: &UserRef) -> Option<&mut Table> {
        StateFiles::entry_mut(self, kind, r)
    }

    fn user_mut(&mut self, r: &UserRef) -> Option<&mut Table> {
        StateFiles::user_mut(self, r)
    }

    fn remove_entry(&mut self, kind: &str, r: &UserRef) {
        StateFiles::remove_entry(self, kind, r);
    }

    fn add(&mut self, file: &Path, kind: &str, entry: Table) {
        StateFiles::add(self, file, kind, entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_that_fails_half_way_puts_back_what_it_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.toml");
        std::fs::write(&a, "before = 1\n").unwrap();
        // A plain file where the next write needs a folder.
        std::fs::write(dir.path().join("blocked"), "").unwrap();
        let new_dir = dir.path().join("new");
        let mut undo = Undo::default();
        undo.write(Path::new("a.toml"), &a, "after = 2\n").unwrap();
        let made = new_dir.join("b.toml");
        undo.write(Path::new("new/b.toml"), &made, "b = 1\n")
            .unwrap();
        let blocked = dir.path().join("blocked/c.toml");
        let err = undo
            .write(Path::new("blocked/c.toml"), &blocked, "c = 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("cannot create blocked: "), "{err}");
        undo.roll_back();
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "before = 1\n");
        assert!(!new_dir.exists(), "the folder it made is removed");
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["a.toml", "blocked"], "no temporary file is left");
    }
}
