//! Writing state files: only inside the state directory, each file whole or
//! not at all. Used by `roster fmt`, `roster import` and CSV edits.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Where writing `path` would land, if that is a regular file (or a new
/// one) inside `dir` once every symlink is followed; otherwise why not.
pub fn target_inside(dir: &Path, path: &Path) -> Result<PathBuf, String> {
    let root = std::fs::canonicalize(dir)
        .map_err(|e| format!("cannot resolve the state directory {}: {e}", dir.display()))?;
    let real = match std::fs::symlink_metadata(path) {
        Ok(_) => std::fs::canonicalize(path)
            .map_err(|e| format!("cannot resolve {}: {e}", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => new_path(path)?,
        Err(e) => return Err(format!("cannot check {}: {e}", path.display())),
    };
    if !real.starts_with(&root) {
        let how = if path.is_symlink() {
            format!("it is a symlink to {}", real.display())
        } else {
            format!("it resolves to {}", real.display())
        };
        return Err(format!(
            "refusing to write {}: {how}, outside the state directory {}; roster writes only inside it (edit that file where it lives)",
            path.display(),
            dir.display()
        ));
    }
    if real.exists() && !real.is_file() {
        return Err(format!(
            "refusing to write {}: it is not a regular file",
            path.display()
        ));
    }
    Ok(real)
}

/// The real path a file that does not exist yet would have: its nearest
/// existing ancestor resolved, the rest appended (never climbing with `..`).
fn new_path(path: &Path) -> Result<PathBuf, String> {
    let mut rest = Vec::new();
    let mut at = path;
    loop {
        let Some(name) = at.file_name() else {
            return Err(format!(
                "refusing to write {}: the path climbs with `..`",
                path.display()
            ));
        };
        rest.push(name.to_owned());
        at = match at.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if std::fs::symlink_metadata(at).is_ok() {
            break;
        }
    }
    let mut real =
        std::fs::canonicalize(at).map_err(|e| format!("cannot resolve {}: {e}", at.display()))?;
    for part in rest.iter().rev() {
        real.push(part);
    }
    Ok(real)
}

/// Writes `text` to `real` (a path from [`target_inside`]): a temporary file
/// beside it, renamed over it; the temporary file is removed on failure.
pub fn write_atomic(real: &Path, text: &str) -> Result<(), String> {
    write_atomic_io(real, text).map_err(|e| format!("cannot write {}: {e}", real.display()))
}

/// [`write_atomic`], failing with the I/O error itself.
pub fn write_atomic_io(real: &Path, text: &str) -> std::io::Result<()> {
    let parent = real.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".roster-")
        .suffix(".tmp")
        .tempfile_in(parent)?;
    tmp.write_all(text.as_bytes())?;
    // A rewritten file keeps its mode; a new one gets the usual 0644 (the
    // temporary file is made 0600, which would lock others out of a state
    // file in a shared checkout).
    let mode = std::fs::metadata(real)
        .map(|m| m.permissions())
        .ok()
        .or_else(new_file_permissions);
    if let Some(mode) = mode {
        tmp.as_file().set_permissions(mode)?;
    }
    tmp.persist(real).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(unix)]
#[expect(
    clippy::unnecessary_wraps,
    reason = "the signature of the non-Unix version, which has no permissions to give"
)]
fn new_file_permissions() -> Option<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn new_file_permissions() -> Option<std::fs::Permissions> {
    None
}
