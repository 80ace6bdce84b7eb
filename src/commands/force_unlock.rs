//! `roster force-unlock`: remove a lock left by an apply (or a sandbox run)
//! that was killed. A stale lock (its holder no longer runs on this host)
//! goes at once; any other only with `--yes`, the user saying it is stale.

use std::path::Path;

use anyhow::{Context, Result, bail};

use super::Status;
use crate::cli::ForceUnlockArgs;
use crate::lock;

/// The command that removes the apply lock of `state`, or the lock of the
/// sandbox data file `data`.
pub fn hint(state: &Path, data: Option<&Path>) -> String {
    match data {
        Some(d) => format!("roster force-unlock --sandbox-data {}", d.display()),
        None if state == Path::new("state") => "roster force-unlock".into(),
        None => format!("roster --state {} force-unlock", state.display()),
    }
}

pub fn run(state: &Path, args: &ForceUnlockArgs) -> Result<Status> {
    let path = match &args.sandbox_data {
        Some(data) => lock::data_lock_path(data),
        None => lock::apply_lock_path(state),
    };
    if std::fs::symlink_metadata(&path).is_err() {
        outln!("No lock at {}; nothing to remove.", path.display())?;
        return Ok(Status::Success);
    }
    let removed = match lock::read(&path) {
        Err(why) => format!("it was not a lock roster can read ({why})"),
        Ok(holder) => match holder.is_running() {
            Some(false) => format!(
                "it was stale: held by {holder}, and no process {} runs on this host",
                holder.pid
            ),
            _ if args.yes => format!("it was held by {holder}; removed as asked (--yes)"),
            Some(true) => bail!(
                "{} is held by {holder}, which is still running on this host: wait for it to finish. If process {} is not a roster run (its pid was reused), run again with --yes",
                path.display(),
                holder.pid
            ),
            None => bail!(
                "{} is held by {holder}, on another host, which cannot be checked from here: make sure that run has ended, then run again with --yes",
                path.display()
            ),
        },
    };
    std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    outln!("Removed the lock {}: {removed}.", path.display())?;
    Ok(Status::Success)
}
