//! `roster force-unlock`: remove a lock left by an apply (or a sandbox run)
//! that was killed. A stale lock (its holder no longer runs on this host)
//! goes at once; any other only with `--yes`, the user saying it is stale.

use std::path::Path;

use anyhow::{Context, Result, bail};

use super::outcome::Status;
use super::output::outln;
use crate::cli::ForceUnlockArgs;
use crate::lock;

/// The command that removes the lock of the sandbox data file `data`, or
/// the apply lock of `state` (against the sandbox at `url`, if given).
pub(super) fn hint(state: &Path, url: Option<&str>, data: Option<&Path>) -> String {
    if let Some(d) = data {
        return format!("roster force-unlock --sandbox-data {}", d.display());
    }
    let mut hint = "roster".to_string();
    if state != Path::new("state") {
        hint += &format!(" --state {}", state.display());
    }
    hint += " force-unlock";
    if let Some(url) = url {
        hint += &format!(" --sandbox-url {url}");
    }
    hint
}

pub(super) fn run(state: &Path, args: &ForceUnlockArgs) -> Result<Status> {
    let path = match &args.sandbox_data {
        Some(data) => lock::data_lock_path(data),
        None => lock::apply_lock_path(state, args.sandbox_url.as_deref()),
    };
    if std::fs::symlink_metadata(&path).is_err() {
        outln!("No lock at {}; nothing to remove.", path.display())?;
        return Ok(Status::Success);
    }
    let removed = match lock::read(&path) {
        Err(why) => format!("it was not a lock roster can read ({why})"),
        Ok(holder) => match holder.is_running(&path) {
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
