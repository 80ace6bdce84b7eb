//! `roster validate`: load and check the state; no network.

use anyhow::Result;

use super::{Status, stderr_line};

pub(super) fn run(scope: &super::Scope<'_>) -> Result<Status> {
    let (_, read) = scope.load_counted()?;
    let parsed = crate::state::read_with_places(scope.dir);
    super::insight::warn_past_dates(&parsed);
    for l in crate::state::mixed_scripts(&parsed) {
        stderr_line!(
            "warning: {}: {} `{}` mixes scripts (such as a Cyrillic letter among Latin ones), so it looks like a name it is not; retype it if that was not meant",
            crate::render::escape::Text(&l.location),
            l.what,
            crate::render::escape::visible(&l.name)
        );
    }
    outln!(
        "The state under {} is valid. Read {}.",
        scope.dir.display(),
        read.describe()
    )?;
    Ok(Status::Success)
}
