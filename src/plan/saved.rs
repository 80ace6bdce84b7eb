//! Saved plans: the JSON `roster plan --out FILE` writes, read back by
//! `roster apply FILE` and compared with what roster would do now. Pure: the
//! caller reads the file, `render::apply` shows a mismatch.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use super::{Change, Plan};

/// The format of a plan as JSON (`roster plan --format json`, `--out`).
/// Bumped whenever a field changes meaning or disappears.
pub const FORMAT_VERSION: u32 = 1;

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
    /// Reads a saved plan from its text; `path` names it in messages.
    pub fn parse(text: &str, path: &str) -> Result<SavedPlan, SavedPlanError> {
        // The version first, so an old or new file gets the right message.
        #[derive(Deserialize)]
        struct Version {
            format_version: u32,
        }
        let version: Version =
            serde_json::from_str(text).map_err(|source| SavedPlanError::Parse {
                path: path.into(),
                source,
            })?;
        if version.format_version != FORMAT_VERSION {
            return Err(SavedPlanError::Version {
                path: path.into(),
                found: version.format_version,
            });
        }
        serde_json::from_str(text).map_err(|source| SavedPlanError::Parse {
            path: path.into(),
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
    let saved_sites: HashMap<&str, &SavedSite> =
        saved.sites.iter().map(|s| (s.site.as_str(), s)).collect();
    for site in &now.sites {
        let old = saved_sites.get(site.site.as_str()).copied();
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
        let old_changes = old.map_or(&[][..], |o| &o.changes[..]);
        compare_changes(&site.site, old_changes, &site.changes, &mut m);
    }
    let now_sites: HashSet<&str> = now.sites.iter().map(|s| s.site.as_str()).collect();
    let declared: HashSet<&str> = declared.iter().map(String::as_str).collect();
    for old in &saved.sites {
        if now_sites.contains(old.site.as_str()) {
            continue;
        }
        if declared.contains(old.site.as_str()) {
            m.reasons.push(format!(
                "site `{}` is in the saved plan but not selected by --site; a saved plan is applied whole: select every site it covers ({}), or make a plan with the --site flags you want",
                old.site,
                site_flags(saved)
            ));
        } else {
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

/// One site's reviewed changes against its fresh ones: what roster would no
/// longer make (in the saved plan's order) and what nobody reviewed (in the
/// fresh plan's order). Each side is looked up in a hash set of the other,
/// so this is linear in the number of changes.
fn compare_changes(site: &str, reviewed: &[SavedChange], fresh: &[Change], m: &mut Mismatch) {
    let fresh_set: HashSet<&Change> = fresh.iter().collect();
    let reviewed_set: HashSet<&Change> = reviewed.iter().map(|c| &c.change).collect();
    m.dropped.extend(
        reviewed
            .iter()
            .map(|c| &c.change)
            .filter(|c| !fresh_set.contains(c))
            .map(|c| (site.to_string(), c.clone())),
    );
    m.added.extend(
        fresh
            .iter()
            .filter(|c| !reviewed_set.contains(c))
            .map(|c| (site.to_string(), c.clone())),
    );
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::SitePlan;

    fn delete(email: &str) -> Change {
        Change::DeleteUser {
            email: email.into(),
        }
    }

    fn fresh(site: &str, changes: Vec<Change>) -> SitePlan {
        SitePlan {
            site: site.into(),
            provider: crate::test_fixtures::periscope(),
            changes,
            kept: vec![],
            notes: vec![],
            guards: vec![],
            unneeded_allowances: vec![],
            privileged: vec![],
            unneeded_privileged: vec![],
            fingerprint: "live".into(),
            insight: Default::default(),
        }
    }

    fn saved(site: &str, changes: Vec<Change>) -> SavedSite {
        SavedSite {
            site: site.into(),
            live_fingerprint: "live".into(),
            changes: changes
                .into_iter()
                .map(|change| SavedChange { change })
                .collect(),
        }
    }

    fn at(site: &str, emails: &[&str]) -> Vec<(String, Change)> {
        emails.iter().map(|e| (site.into(), delete(e))).collect()
    }

    #[test]
    fn a_saved_plan_matching_the_fresh_one_may_be_applied() {
        let changes = vec![delete("a@x.io"), delete("b@x.io")];
        let old = SavedPlan {
            format_version: FORMAT_VERSION,
            desired_fingerprint: "d".into(),
            sites: vec![saved("acme", changes.clone())],
        };
        let now = Plan {
            sites: vec![fresh("acme", changes)],
            warnings: Vec::new(),
        };
        assert_eq!(compare(&old, &now, "d", &["acme".into()]), None);
    }

    #[test]
    fn dropped_changes_keep_the_saved_order_and_added_ones_the_fresh_order() {
        let old = SavedPlan {
            format_version: FORMAT_VERSION,
            desired_fingerprint: "d".into(),
            sites: vec![
                saved(
                    "acme",
                    vec![delete("z@x.io"), delete("a@x.io"), delete("m@x.io")],
                ),
                saved("gone", vec![delete("g@x.io")]),
            ],
        };
        let now = Plan {
            warnings: Vec::new(),
            sites: vec![fresh(
                "acme",
                vec![delete("y@x.io"), delete("a@x.io"), delete("b@x.io")],
            )],
        };
        let m = compare(&old, &now, "d", &["acme".into()]).expect("a mismatch");
        assert_eq!(
            m.reasons,
            ["site `gone` is in the saved plan but no longer declared"]
        );
        let mut dropped = at("acme", &["z@x.io", "m@x.io"]);
        dropped.extend(at("gone", &["g@x.io"]));
        assert_eq!(m.dropped, dropped);
        assert_eq!(m.added, at("acme", &["y@x.io", "b@x.io"]));
    }

    #[test]
    fn a_change_reviewed_once_covers_it_listed_twice() {
        // As with the list lookups this replaced: membership, not counts.
        let old = SavedPlan {
            format_version: FORMAT_VERSION,
            desired_fingerprint: "d".into(),
            sites: vec![saved("acme", vec![delete("a@x.io"), delete("a@x.io")])],
        };
        let now = Plan {
            sites: vec![fresh("acme", vec![delete("a@x.io")])],
            warnings: Vec::new(),
        };
        assert_eq!(compare(&old, &now, "d", &["acme".into()]), None);
    }

    #[test]
    fn changes_differing_in_one_field_do_not_match() {
        let update = |last: &str| Change::UpdateUser {
            email: "a@x.io".into(),
            id: None,
            renamed_from: None,
            first_name: None,
            last_name: Some(crate::model::Diff {
                before: "A".into(),
                after: last.into(),
            }),
            member_type: None,
            kind: None,
            reactivate: false,
            groups: None,
        };
        let old = SavedPlan {
            format_version: FORMAT_VERSION,
            desired_fingerprint: "d".into(),
            sites: vec![saved("acme", vec![update("B")])],
        };
        let now = Plan {
            sites: vec![fresh("acme", vec![update("C")])],
            warnings: Vec::new(),
        };
        let m = compare(&old, &now, "d", &["acme".into()]).expect("a mismatch");
        assert_eq!(m.dropped, [("acme".to_string(), update("B"))]);
        assert_eq!(m.added, [("acme".to_string(), update("C"))]);
    }

    #[test]
    fn a_plan_in_another_format_is_named_with_its_version() {
        let err = SavedPlan::parse(r#"{"format_version": 99}"#, "plan.json").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "plan.json was saved in plan format 99, and this roster reads format {FORMAT_VERSION}; run `roster plan --out` again with this version"
            )
        );
    }
}
