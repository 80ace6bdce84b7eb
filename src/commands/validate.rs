//! `roster validate`: load and check the state; no network.

use anyhow::Result;

use super::Status;

pub(super) fn run(scope: &super::Scope<'_>) -> Result<Status> {
    let (_, read) = scope.load_counted()?;
    super::insight::warn_past_dates(scope.dir);
    outln!(
        "The state under {} is valid. Read {}.",
        scope.dir.display(),
        read.describe()
    )?;
    Ok(Status::Success)
}
