//! The warnings about a state (see `model::Warning`): files not read, taken
//! from the directory, and past dates and look-alike names, taken from the
//! parse the state is loaded from (never a second read of its files).

use std::path::Path;

use chrono::NaiveDate;

use super::load::Parsed;
use crate::model::{Warning, WarningKind};

/// Each file under `dir` that looks like a state file but is not read.
pub fn not_read(dir: &Path) -> Vec<Warning> {
    super::discover::near_misses(dir)
        .into_iter()
        .map(|(path, why)| Warning {
            location: path.display().to_string(),
            kind: WarningKind::NotRead {
                why: why.to_string(),
                state_dir: dir.display().to_string(),
            },
        })
        .collect()
}

/// What the parsed state holds that its author may not have meant: each
/// `expires` date before `today`, then each name that mixes scripts, at
/// their places.
pub(super) fn placed(parsed: &Parsed, today: NaiveDate) -> Vec<Warning> {
    let expired = super::insight::dated(parsed)
        .into_iter()
        .filter(|d| d.on < today)
        .map(|d| Warning {
            location: d.location,
            kind: WarningKind::Expired {
                subject: d.subject,
                on: d.on,
            },
        });
    let mixed = super::lookalike::mixed_scripts(parsed)
        .into_iter()
        .map(|l| Warning {
            location: l.location,
            kind: WarningKind::MixedScripts {
                what: l.what.to_string(),
                name: l.name,
            },
        });
    expired.chain(mixed).collect()
}
