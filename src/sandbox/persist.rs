//! The sandbox's data on disk: a JSON file, created from the seed that ships
//! with roster, so plan, apply, plan converges across runs.

use std::path::{Path, PathBuf};

use super::data::SandboxData;

/// The live state the sandbox starts from: a small org that differs from
/// this repository's `state/`.
pub const SEED: &str = include_str!("../../fixtures/sandbox-seed.json");

/// Where `--sandbox` keeps its data unless told otherwise (git-ignored).
pub const DEFAULT_FILE: &str = ".roster/sandbox.json";

#[derive(Debug, thiserror::Error)]
pub enum SandboxFileError {
    #[error("cannot read the sandbox data file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the sandbox data file {path} is not valid: {source} (fix it, or start again from the seed with --sandbox-reset)"
    )]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(
        "refusing to use {path} as the sandbox data file: it is {what}; name a regular file, or a path that does not exist yet"
    )]
    NotRegular { path: PathBuf, what: &'static str },
    #[error("cannot write the sandbox data file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub fn seed() -> SandboxData {
    serde_json::from_str(SEED).expect("the shipped seed is valid")
}

pub fn load(path: &Path) -> Result<SandboxData, SandboxFileError> {
    check_regular(path)?;
    let text = std::fs::read_to_string(path).map_err(|source| SandboxFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| SandboxFileError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// Refuses a path that exists and is not a regular file: the data file is
/// replaced on every save, and a device, FIFO or symlink must never be.
pub fn check_regular(path: &Path) -> Result<(), SandboxFileError> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    let kind = meta.file_type();
    let what = if kind.is_file() {
        return Ok(());
    } else if kind.is_symlink() {
        "a symlink"
    } else if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file (a device, FIFO or socket)"
    };
    Err(SandboxFileError::NotRegular {
        path: path.to_path_buf(),
        what,
    })
}

/// The file's data, or the seed when the file does not exist yet or `reset`.
pub fn load_or_seed(path: &Path, reset: bool) -> Result<SandboxData, SandboxFileError> {
    check_regular(path)?;
    if reset || !path.exists() {
        Ok(seed())
    } else {
        load(path)
    }
}

/// Writes the data atomically (a temporary file renamed over the old one).
pub fn save(path: &Path, data: &SandboxData) -> Result<(), SandboxFileError> {
    let write_err = |source| SandboxFileError::Write {
        path: path.to_path_buf(),
        source,
    };
    check_regular(path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(write_err)?;
    }
    let text = serde_json::to_string_pretty(data).expect("sandbox data always serializes");
    // One temporary file per save: a save on Ctrl-C may overlap another.
    static SAVES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SAVES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let tmp = path.with_extension(format!("json.{}-{n}.tmp", std::process::id()));
    let written = std::fs::write(&tmp, text + "\n").and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(write_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_parses_and_round_trips() {
        let data = seed();
        assert!(!data.periscope.is_empty());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/sandbox.json");
        save(&path, &data).unwrap();
        assert_eq!(load(&path).unwrap(), data);
        assert_eq!(load_or_seed(&path, true).unwrap(), seed());
    }
}
