//! Saved plans: the JSON `roster plan --out FILE` writes, read back by
//! `roster apply FILE` and compared with what roster would do now.

use std::path::Path;

use serde::Deserialize;

use super::{Change, Plan};
use crate::render::escape::{Text, Visible};
use crate::render::json::FORMAT_VERSION;

#[derive(Debug, thiserror::Error)]
pub enum SavedPlanError {
    #[error("cannot read the saved plan {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a roster plan: {source} (make one with `roster plan --out FILE`)")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error(
        "{path} was saved in plan format {found}, and this roster reads format {FORMAT_VERSION}; run `roster plan --out` again with this version"
    )]
    Version { path: String, found: u32 },
}

/// The parts of a saved plan that decide whether it may be applied.
#[derive(Debug, Deserialize)]
pub struct SavedPlan {
    pub format_version: u32,
    pub desired_fingerprint: String,
    pub sites: Vec<SavedSite>,
}

#[derive(Debug, Deserialize)]
pub struct SavedSite {
    pub site: String,
    pub live_fingerprint: String,
    pub changes: Vec<SavedChange>,
}

#[derive(Debug, Deserialize)]
pub struct SavedChange {
    pub change: Change,
}

impl SavedPlan {
    pub fn load(path: &Path) -> Result<SavedPlan, SavedPlanError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SavedPlanError::Read {
            path: shown.clone(),
            source,
        })?;
        // The version first, so an old or new file gets the right message.
        #[derive(Deserialize)]
        struct Version {
            format_version: u32,
        }
        let version: Version =
            serde_json::from_str(&text).map_err(|source| SavedPlanError::Parse {
                path: shown.clone(),
                source,
            })?;
        if version.format_version != FORMAT_VERSION {
            return Err(SavedPlanError::Version {
                path: shown,
                found: version.format_version,
            });
        }
        serde_json::from_str(&text).map_err(|source| SavedPlanError::Parse {
            path: shown,
            source,
        })
    }
}

/// How a saved plan differs from what roster would do now.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Mismatch {
    /// What moved: the state files, a site's live state, the set of sites.
    pub reasons: Vec<String>,
    /// Reviewed changes roster would no longer make, per site.
    pub dropped: Vec<(String, Change)>,
    /// Changes roster would make now that nobody reviewed, per site.
    pub added: Vec<(String, Change)>,
}

/// Compares a saved plan with the plan computed now; `None` when the saved
/// plan may be applied as it is. `desired_fingerprint` is the state's, over
/// the sites the saved plan covers; `declared` names every site of the state
/// (selected by `--site` or not).
pub fn compare(
    saved: &SavedPlan,
    now: &Plan,
    desired_fingerprint: &str,
    declared: &[String],
) -> Option<Mismatch> {
    let mut m = Mismatch::default();
    if saved.desired_fingerprint != desired_fingerprint {
        m.reasons
            .push("the state files changed since the plan was made".into());
    }
    for site in &now.sites {
        let old = saved.sites.iter().find(|s| s.site == site.site);
        let old_changes: Vec<&Change> = old
            .map(|o| o.changes.iter().map(|c| &c.change).collect())
            .unwrap_or_default();
        match old {
            None => m.reasons.push(format!(
                "site `{}` is not in the saved plan, which covers {}: apply it with the --site flags it was made with ({}), or make a plan of every site you select",
                site.site,
                covered(saved),
                site_flags(saved)
            )),
            Some(o) if o.live_fingerprint != site.fingerprint => m.reasons.push(format!(
                "site `{}`: the live state changed since the plan was made",
                site.site
            )),
            Some(_) => {}
        }
        for c in &old_changes {
            if !site.changes.contains(c) {
                m.dropped.push((site.site.clone(), (*c).clone()));
            }
        }
        for c in &site.changes {
            if !old_changes.contains(&c) {
                m.added.push((site.site.clone(), c.clone()));
            }
        }
    }
    for old in &saved.sites {
        if !now.sites.iter().any(|s| s.site == old.site) && declared.contains(&old.site) {
            m.reasons.push(format!(
                "site `{}` is in the saved plan but not selected by --site; a saved plan is applied whole: select every site it covers ({}), or make a plan with the --site flags you want",
                old.site,
                site_flags(saved)
            ));
        } else if !now.sites.iter().any(|s| s.site == old.site) {
            m.reasons.push(format!(
                "site `{}` is in the saved plan but no longer declared",
                old.site
            ));
            m.dropped.extend(
                old.changes
                    .iter()
                    .map(|c| (old.site.clone(), c.change.clone())),
            );
        }
    }
    (m != Mismatch::default()).then_some(m)
}

/// The sites a saved plan covers, for messages: "`a` and `b`".
fn covered(saved: &SavedPlan) -> String {
    let names: Vec<String> = saved
        .sites
        .iter()
        .map(|s| format!("`{}`", s.site))
        .collect();
    match names.split_last() {
        None => "no site".into(),
        Some((last, [])) => format!("only {last}"),
        Some((last, rest)) => format!("only {} and {last}", rest.join(", ")),
    }
}

/// The `--site` flags that select what a saved plan covers.
fn site_flags(saved: &SavedPlan) -> String {
    saved
        .sites
        .iter()
        .map(|s| format!("--site {}", s.site))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Mismatch {
    /// What differs, for the person who reviewed the saved plan.
    pub fn render(&self, path: &str) -> String {
        let mut out = format!("The saved plan {path} does not match what roster would do now:\n");
        for r in &self.reasons {
            out.push_str(&format!("  - {}\n", Visible(r)));
        }
        let section = |out: &mut String, title: &str, list: &[(String, Change)]| {
            if list.is_empty() {
                return;
            }
            out.push_str(&format!("{title}\n"));
            let mut site = "";
            for (s, c) in list {
                if s != site {
                    out.push_str(&format!("  site {}\n", Text(s)));
                    site = s;
                }
                for line in crate::render::text::change_lines(c).lines() {
                    out.push_str(&format!("  {line}\n"));
                }
            }
        };
        section(
            &mut out,
            "Reviewed changes roster would no longer make:",
            &self.dropped,
        );
        section(
            &mut out,
            "Changes roster would make now that were not reviewed:",
            &self.added,
        );
        if self.dropped.is_empty() && self.added.is_empty() {
            out.push_str(
                "The changes themselves are the same, but what they were computed from moved.\n",
            );
        }
        out
    }
}
