//! Finding the state files under the state directory. Nothing that looks
//! like state is skipped without a word:
//!
//! - every file whose name ends in `.toml`, in any letter case, is read;
//! - symlinks (to files or directories) are followed; a file or directory
//!   reached twice (a symlink loop, or two links to the same place) is an
//!   error naming both paths, so nothing is read twice and nothing hangs;
//! - an entry that cannot be read (a broken symlink, a directory that cannot
//!   be listed, a `*.toml` that is not a regular file such as a FIFO) is an
//!   error naming its path;
//! - hidden entries (a name starting with `.`, such as `.git`, `.roster` or
//!   Emacs' `.#x.toml` lock) and editor leftovers (`x.toml~`, `#x.toml#`,
//!   `x.toml.swp`...) are skipped on purpose, and named at `-v`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::diagnostic::Diagnostic;

/// What a walk of the state directory found.
#[derive(Debug, Default)]
pub(super) struct Found {
    /// The state files, sorted.
    pub files: Vec<PathBuf>,
    /// Entries that look like state but cannot be read, one each.
    pub problems: Vec<Diagnostic>,
    /// Files whose names look like state files but are not read (`x.tml`,
    /// `x.toml ` with a trailing space), with why each is not.
    pub near_misses: Vec<(PathBuf, &'static str)>,
}

/// Files under `dir` whose names look like state files but which are not
/// read, with why each is not; sorted.
pub fn near_misses(dir: &Path) -> Vec<(PathBuf, &'static str)> {
    let mut found = discover(dir).near_misses;
    found.sort();
    found
}

/// Walks `dir` (following symlinks) for state files.
pub(super) fn discover(dir: &Path) -> Found {
    let mut walk = Walk::default();
    match std::fs::canonicalize(dir) {
        Ok(real) => {
            walk.seen.insert(real, dir.to_path_buf());
            walk.dir(dir);
        }
        Err(e) => walk.problem(
            dir,
            format!("cannot read the state directory: {e}"),
            "pass the directory holding your *.toml state files with --state DIR",
        ),
    }
    walk.found.files.sort();
    walk.found
}

/// Every directory the state is read from, as real (canonical) paths: the
/// state directory and each directory reached under it, through symlinks
/// too. A file written into any of them is read as state next time.
pub fn state_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut walk = Walk::default();
    if let Ok(real) = std::fs::canonicalize(dir) {
        walk.seen.insert(real, dir.to_path_buf());
        walk.dir(dir);
    }
    walk.seen.into_keys().filter(|p| p.is_dir()).collect()
}

#[derive(Default)]
struct Walk {
    found: Found,
    /// Every file and directory read, by canonical path: where it was met.
    seen: HashMap<PathBuf, PathBuf>,
}

impl Walk {
    fn problem(&mut self, path: &Path, message: String, hint: &str) {
        self.found.problems.push(Diagnostic {
            file: path.to_path_buf(),
            line: 1,
            column: 1,
            message,
            hint: Some(hint.to_string()),
        });
    }

    fn dir(&mut self, dir: &Path) {
        let listing = match std::fs::read_dir(dir) {
            Ok(l) => l,
            Err(e) => {
                return self.problem(
                    dir,
                    format!("cannot list the directory: {e}"),
                    "make it readable, or move it out of the state directory",
                );
            }
        };
        let mut paths = Vec::new();
        for entry in listing {
            match entry {
                Ok(e) => paths.push(e.path()),
                Err(e) => self.problem(
                    dir,
                    format!("cannot list the directory: {e}"),
                    "make it readable, or move it out of the state directory",
                ),
            }
        }
        paths.sort();
        for path in paths {
            self.entry(&path);
        }
    }

    fn entry(&mut self, path: &Path) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Names first: an Emacs lock (`.#x.toml`) is a dangling symlink.
        if let Some(why) = skipped_on_purpose(&name) {
            tracing::debug!(path = %path.display(), "skipped {why}");
            return;
        }
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                let link = path.is_symlink();
                return self.problem(
                    path,
                    format!(
                        "cannot read {}: {e}",
                        if link {
                            "where this symlink points"
                        } else {
                            "this entry"
                        }
                    ),
                    "fix or remove it; roster reads every entry of the state directory",
                );
            }
        };
        let state_like = is_state_file(&name);
        if !meta.is_dir() && !state_like {
            if let Some(why) = near_miss(&name) {
                self.found.near_misses.push((path.to_path_buf(), why));
            }
            tracing::trace!(path = %path.display(), "not a state file");
            return;
        }
        if !meta.is_dir() && !meta.is_file() {
            return self.problem(
                path,
                "is not a regular file (a FIFO, socket or device?)".into(),
                "state files must be regular files; remove it or rename it",
            );
        }
        if !self.first_visit(path) {
            return;
        }
        if meta.is_dir() {
            self.dir(path);
        } else {
            self.found.files.push(path.to_path_buf());
        }
    }

    /// Whether `path` is met for the first time; if not, says where it was.
    fn first_visit(&mut self, path: &Path) -> bool {
        let real = match std::fs::canonicalize(path) {
            Ok(r) => r,
            Err(e) => {
                self.problem(
                    path,
                    format!("cannot resolve the path: {e}"),
                    "fix or remove it",
                );
                return false;
            }
        };
        if let Some(first) = self.seen.get(&real) {
            let message = if path.starts_with(first) {
                format!(
                    "symlink loop: this leads back to {}, which holds it",
                    first.display()
                )
            } else {
                format!(
                    "is the same as {} (reached through a symlink); it would be read twice",
                    first.display()
                )
            };
            self.problem(
                path,
                message,
                "remove the symlink: each state file must be reachable one way only",
            );
            return false;
        }
        self.seen.insert(real, path.to_path_buf());
        true
    }
}

/// Whether a file of this name is state: `*.toml` in any letter case.
fn is_state_file(name: &str) -> bool {
    name.len() > ".toml".len() && name.to_ascii_lowercase().ends_with(".toml")
}

/// Why a file of this name, not read, looks as if it was meant to be: a
/// `.toml` name with spaces or dots after it, or an extension one
/// keystroke from `toml` (`.tml`, `.tom`, `.tmol`, `.tomll`).
fn near_miss(name: &str) -> Option<&'static str> {
    let trimmed = name.trim_end_matches(|c: char| c.is_whitespace() || c == '.');
    if trimmed != name && is_state_file(trimmed) {
        return Some("its name has spaces or dots after `.toml`");
    }
    if has_extension_after_toml(name) && skipped_on_purpose(name).is_none() {
        return Some("its name has another extension after `.toml`");
    }
    let (stem, ext) = trimmed.rsplit_once('.')?;
    let ext = ext.to_lowercase();
    let one_keystroke = ext != "toml" && strsim::osa_distance(&ext, "toml") == 1;
    (!stem.is_empty() && one_keystroke).then_some("its extension is not `.toml`")
}

/// Whether `.toml`, in any letter case, is followed by another extension
/// (`x.toml.txt`, `x.TOML.old`): most likely a state file renamed.
fn has_extension_after_toml(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.match_indices(".toml.").any(|(at, _)| {
        at > 0
            && lower[at + ".toml.".len()..]
                .chars()
                .any(|c| !c.is_whitespace() && c != '.')
    })
}

/// Why an entry of this name is left alone on purpose, if it is.
fn skipped_on_purpose(name: &str) -> Option<&'static str> {
    if name.starts_with('.') {
        Some("a hidden entry")
    } else if name.ends_with('~') || (name.starts_with('#') && name.ends_with('#')) {
        Some("an editor leftover")
    } else {
        let lower = name.to_ascii_lowercase();
        let leftover = [".swp", ".swo", ".bak", ".orig", ".tmp"]
            .iter()
            .any(|s| lower.ends_with(s));
        (leftover && lower.contains(".toml")).then_some("an editor leftover")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for n in ["a.toml", "a.TOML", "b.Toml", "x.y.toml"] {
            assert!(is_state_file(n), "{n}");
            assert_eq!(skipped_on_purpose(n), None, "{n}");
        }
        for n in ["a.tom", ".toml", "a.toml.bak", "README.md"] {
            assert!(!is_state_file(n), "{n}");
        }
        for n in [
            "a.tml",
            "a.tom",
            "a.TMOL",
            "a.tomll",
            "a.toml ",
            "a.TOML\t",
            "a.toml.",
            "c.toml.txt",
            "p.toml.save",
            "q.TOML.old",
            "r.toml.1",
            "l.toml.d",
        ] {
            assert!(near_miss(n).is_some(), "{n}");
        }
        for n in [
            "README.md",
            "a.yaml",
            "a.json",
            "a.txt",
            "a.toml.bak",
            ".tml",
            "Makefile",
        ] {
            assert_eq!(near_miss(n), None, "{n}");
        }
        for n in [
            ".#a.toml",
            "a.toml~",
            "#a.toml#",
            ".a.toml",
            "a.toml.swp",
            ".git",
        ] {
            assert!(skipped_on_purpose(n).is_some(), "{n}");
        }
    }
}
