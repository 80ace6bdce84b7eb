//! `roster validate`: load and check the state; no network.

use anyhow::Result;

use super::outcome::Status;
use super::output::outln;
use super::scope::Scope;

pub(super) fn run(scope: &Scope<'_>) -> Result<Status> {
    let (_, read) = scope.load_counted()?;
    super::output::stderr_placed_warnings(&read.warnings);
    outln!(
        "The state under {} is valid. Read {}.",
        scope.dir.display(),
        read.summary.describe()
    )?;
    Ok(Status::Success)
}
