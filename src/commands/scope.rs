//! Which state a command works on, and loading it: every problem found is
//! printed (each on its own line, located) before the command fails.

use std::path::Path;

use anyhow::Result;

use super::output::{stderr_line, stderr_warnings};
use crate::model::DesiredState;

/// Today's date in UTC (the one clock read): what `expires` dates are
/// compared with.
pub(super) fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// Which state, and which of its sites, a command works on.
pub(crate) struct Scope<'a> {
    pub dir: &'a Path,
    /// Only these sites (`--site`); all when empty.
    pub only: &'a [String],
    /// The trusted state every site's connection settings come from
    /// (`--sites-from`).
    pub sites_from: Option<&'a Path>,
}

impl Scope<'_> {
    /// The state, checked whole, narrowed to the sites asked for.
    pub(super) fn load(&self) -> Result<DesiredState> {
        Ok(self.load_counted()?.0)
    }

    /// [`Scope::load`], how much of the state was read (all of it,
    /// whatever the sites asked for) and what it warns of.
    pub(super) fn load_counted(&self) -> Result<(DesiredState, crate::state::StateRead)> {
        let start = std::time::Instant::now();
        let (full, read) = self.load_all()?;
        let desired = self.narrow(full)?;
        tracing::debug!(
            sites = desired.sites.len(),
            elapsed_ms = start.elapsed().as_millis() as u64,
            "state loaded"
        );
        Ok((desired, read))
    }

    /// The whole state, every site's connection settings taken from the
    /// trusted state when there is one (`--sites-from`). Every command that
    /// may resolve a credential or contact a site loads through here. Files
    /// that look like state but are not read are warned of on standard
    /// error at once (they may explain a problem found next), and lead the
    /// warnings returned.
    pub(super) fn load_all(&self) -> Result<(DesiredState, crate::state::StateRead)> {
        let not_read = crate::state::not_read(self.dir);
        stderr_warnings(&not_read);
        let today = today();
        let (desired, mut read) = match self.sites_from {
            Some(trusted) => load_trusting(self.dir, trusted, today)?,
            None => crate::state::load_counted(self.dir, today)
                .map_err(|d| state_problems(self.dir, d))?,
        };
        read.warnings.splice(0..0, not_read);
        Ok((desired, read))
    }

    /// Keeps only the sites asked for; naming an undeclared one is an error.
    pub(super) fn narrow(&self, mut desired: DesiredState) -> Result<DesiredState> {
        let declared: Vec<&str> = desired.sites.iter().map(|s| s.site.name.as_str()).collect();
        let unknown: Vec<&str> = self
            .only
            .iter()
            .map(String::as_str)
            .filter(|n| !declared.contains(n))
            .collect();
        if !unknown.is_empty() {
            anyhow::bail!(
                "--site {}: no such site in the state; the sites are {}",
                unknown.join(", "),
                declared.join(", ")
            );
        }
        if !self.only.is_empty() {
            desired.sites.retain(|s| self.only.contains(&s.site.name));
        }
        Ok(desired)
    }
}

/// Loads the state, printing every problem found (each on its own line,
/// located) before failing.
pub(super) fn load_state(dir: &Path) -> Result<DesiredState> {
    warn_near_misses(dir);
    crate::state::load(dir).map_err(|d| state_problems(dir, d))
}

/// Names each file under the state directory that looks like a state file
/// but will not be read (`people/x.tml`, `x.toml ` with a trailing space).
pub(super) fn warn_near_misses(dir: &Path) {
    stderr_warnings(&crate::state::not_read(dir));
}

/// Prints every problem found in the state; the error that ends the command.
fn state_problems(dir: &Path, diagnostics: crate::state::Diagnostics) -> anyhow::Error {
    for d in &diagnostics.0 {
        stderr_line!("error: {d}");
    }
    let n = diagnostics.0.len();
    anyhow::anyhow!(
        "{n} problem{} in the state under {}; nothing was contacted",
        if n == 1 { "" } else { "s" },
        dir.display()
    )
}

/// Loads the state with every site's connection settings from the trusted
/// state under `trusted`, printing every problem found before failing;
/// nothing has been run or sent when it fails.
fn load_trusting(
    dir: &Path,
    trusted: &Path,
    today: chrono::NaiveDate,
) -> Result<(DesiredState, crate::state::StateRead)> {
    use crate::state::TrustError;
    let print = |diagnostics: &[crate::state::Diagnostic]| {
        for d in diagnostics {
            stderr_line!("error: {d}");
        }
    };
    match crate::state::load_with_sites_from(dir, trusted, today) {
        Ok((desired, read, notes)) => {
            for note in notes {
                stderr_line!("note: {note}");
            }
            Ok((desired, read))
        }
        Err(TrustError::State(d)) => Err(state_problems(dir, d)),
        Err(TrustError::Trusted { diagnostics, .. }) => {
            print(&diagnostics.0);
            anyhow::bail!(
                "the trusted state under {} (--sites-from) cannot be used; nothing was run or contacted",
                trusted.display()
            )
        }
        Err(TrustError::Differs(d)) => {
            print(&d);
            let n = d.len();
            anyhow::bail!(
                "{n} difference{} from the connection settings of the trusted state under {} (--sites-from); a change to connection settings is planned from the default branch after merge. No credential command was run and no site was contacted",
                if n == 1 { "" } else { "s" },
                trusted.display()
            )
        }
    }
}
