//! `roster import --prune` for Sigma's own kinds: workspaces and
//! connections declared for a site that no longer has them are taken off it
//! (as groups are), and `[[user_attributes]]` and custom `[[account_types]]`
//! (which go to every Sigma site) leave the state when no Sigma site of the
//! state has them.

use std::collections::HashSet;

use toml_edit::Item;

use crate::attrs::name_key;
use crate::model::{LiveSite, ProviderKind};
use crate::provider::kinds::entries::list as names;
use crate::provider::kinds::entries::{StateEntries, UserRef};
use crate::toml_comments::{set, strings};

/// Takes the workspaces and connections declared for site `name` that it
/// does not have (under their name or a previous one) off it: off their
/// `sites` when they have other Sigma sites, out of the state otherwise.
/// Nothing for a kind the site was not read for. How many were taken off.
pub(super) fn prune_access(
    files: &mut impl StateEntries,
    name: &str,
    live: &LiveSite,
    sigma_sites: &[String],
) -> usize {
    let key = |n: &str| ProviderKind::Sigma.group_key(n);
    let mut count = 0;
    for (kind, list) in [
        ("workspaces", &live.access.workspaces),
        ("connections", &live.access.connections),
    ] {
        let Some(list) = list else { continue };
        let live_keys: HashSet<String> = list.iter().map(|o| key(&o.name)).collect();
        let mut gone: Vec<(UserRef, Vec<String>)> = Vec::new();
        for r in files.entries(kind, "name", key).into_values() {
            let Some(t) = files.entry(kind, &r) else {
                continue;
            };
            let sites = match t.get("sites") {
                Some(_) => names(t, "sites"),
                None => sigma_sites.to_vec(),
            };
            let mut all = names(t, "previous_names");
            all.extend(t.get("name").and_then(Item::as_str).map(str::to_string));
            if !sites.iter().any(|s| s == name) || all.iter().any(|n| live_keys.contains(&key(n))) {
                continue;
            }
            gone.push((r, sites.into_iter().filter(|s| s != name).collect()));
        }
        count += gone.len();
        // Removed from the last entry of a file to the first, as indexes shift.
        gone.sort_by(|a, b| (&b.0.file, b.0.index).cmp(&(&a.0.file, a.0.index)));
        for (r, others) in gone {
            if others.is_empty() {
                files.remove_entry(kind, &r);
            } else if let Some(t) = files.entry_mut(kind, &r) {
                set(t, "sites", strings(&others));
            }
        }
    }
    count
}

/// What pruning the kinds declared once for every Sigma site did.
#[derive(Debug, Default)]
pub(super) struct PrunedOnce {
    /// `user attribute `region``, ... : taken out of the state.
    pub removed: Vec<String>,
    /// Declared ones kept although a site read lacks them, each with why.
    pub kept: Vec<String>,
}

/// Takes each declared `[[user_attributes]]` and `[[account_types]]` entry
/// that no Sigma site of the state has out of the state (and an attribute's
/// values off every person and team). `read` are the sites read for them
/// in this run; `every` names each site of the state that takes the kind
/// (both Sigma's today): one not read, or one that has it, keeps it.
pub(super) fn prune_declared_once(
    files: &mut impl StateEntries,
    read: &[(&str, &LiveSite)],
    every: &[String],
) -> PrunedOnce {
    let mut out = PrunedOnce::default();
    let unread: Vec<&String> = every
        .iter()
        .filter(|s| !read.iter().any(|(n, _)| n == s))
        .collect();
    for (kind, what) in [
        ("user_attributes", "user attribute"),
        ("account_types", "account type"),
    ] {
        let live_on = |declared: &str, site: &LiveSite| {
            let k = name_key(declared);
            if kind == "user_attributes" {
                site.attrs.attributes.iter().any(|a| name_key(&a.name) == k)
            } else {
                let types = site.attrs.account_types.iter().filter(|t| t.custom);
                types.map(|t| name_key(&t.name)).any(|n| n == k)
            }
        };
        let mut gone = Vec::new();
        for (k, r) in files.entries(kind, "name", name_key) {
            let Some(declared) = files.entry(kind, &r).and_then(|t| t.get("name")) else {
                continue;
            };
            let declared = declared.as_str().unwrap_or_default().to_string();
            let (has, lacks): (Vec<_>, Vec<_>) =
                read.iter().partition(|(_, l)| live_on(&declared, l));
            if lacks.is_empty() {
                continue;
            }
            let lacking: Vec<&str> = lacks.iter().map(|(n, _)| *n).collect();
            if let Some((site, _)) = has.first() {
                out.kept.push(format!(
                    "{what} `{declared}` is kept: it is live on `{site}`, and a {what} goes to every Sigma site, so the next plan creates it on {}",
                    quoted(&lacking)
                ));
            } else if let Some(site) = unread.first() {
                out.kept.push(format!(
                    "{what} `{declared}` is kept: it is not live on {}, but site `{site}` was not read (--site); import every Sigma site to take it off",
                    quoted(&lacking)
                ));
            } else {
                out.removed.push(format!("{what} `{declared}`"));
                gone.push((k, r));
            }
        }
        gone.sort_by(|a, b| (&b.1.file, b.1.index).cmp(&(&a.1.file, a.1.index)));
        for (k, r) in &gone {
            files.remove_entry(kind, r);
            if kind == "user_attributes" {
                remove_values(files, k);
            }
        }
    }
    out
}

fn quoted(sites: &[&str]) -> String {
    let q: Vec<String> = sites.iter().map(|s| format!("`{s}`")).collect();
    q.join(", ")
}

/// Removes the value of attribute `key` (by name key) from every person
/// and group that gives one.
fn remove_values(files: &mut impl StateEntries, key: &str) {
    for kind in ["users", "groups"] {
        let field = if kind == "users" { "email" } else { "name" };
        for r in files.entries(kind, field, str::to_string).into_values() {
            let holds = files
                .entry(kind, &r)
                .and_then(|t| t.get("attributes"))
                .and_then(Item::as_inline_table)
                .is_some_and(|a| a.iter().any(|(k, _)| name_key(k) == key));
            if !holds {
                continue;
            }
            if let Some(t) = files.entry_mut(kind, &r)
                && let Some(a) = t.get_mut("attributes").and_then(Item::as_inline_table_mut)
            {
                a.retain(|k, _| name_key(k) != key);
                if a.is_empty() {
                    t.remove("attributes");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attrs::{LiveAccountType, LiveAttribute};
    use crate::model::access::LiveAccessObject;
    use crate::state::edit::StateFiles;

    fn files_of(text: &str) -> (tempfile::TempDir, StateFiles) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s.toml"), text).unwrap();
        let files = StateFiles::open(dir.path()).unwrap();
        (dir, files)
    }

    fn text(files: &StateFiles) -> String {
        files
            .changed()
            .into_iter()
            .map(|(_, t)| t)
            .collect::<String>()
    }

    fn site_with(workspaces: &[&str], attribute: Option<&str>) -> LiveSite {
        let mut live = LiveSite::default();
        let objects = |names: &[&str]| {
            names
                .iter()
                .map(|n| LiveAccessObject {
                    id: None,
                    name: (*n).to_string(),
                    grants: Vec::new(),
                })
                .collect()
        };
        live.access.workspaces = Some(objects(workspaces));
        live.attrs.read = true;
        live.attrs.attributes = attribute
            .map(|a| LiveAttribute {
                name: a.to_string(),
                ..Default::default()
            })
            .into_iter()
            .collect();
        live.attrs.account_types = vec![LiveAccountType {
            name: "Viewer".into(),
            ..Default::default()
        }];
        live
    }

    #[test]
    fn a_workspace_on_several_sites_is_narrowed_and_one_live_by_a_previous_name_kept() {
        let (_d, mut files) = files_of(
            "[[workspaces]]\nname = \"Shared\" # kept comment\n\n[[workspaces]]\nname = \"New\"\nprevious_names = [\"Old\"]\n\n[[workspaces]]\nname = \"Only Here\"\nsites = [\"a\"]\n",
        );
        let sites = ["a".to_string(), "b".to_string()];
        let n = prune_access(&mut files, "a", &site_with(&["old"], None), &sites);
        assert_eq!(n, 2);
        assert_eq!(
            text(&files),
            "[[workspaces]]\nname = \"Shared\" # kept comment\nsites = [\"b\"]\n\n[[workspaces]]\nname = \"New\"\nprevious_names = [\"Old\"]\n"
        );
    }

    #[test]
    fn connections_not_read_are_left_alone() {
        let (_d, mut files) = files_of("[[connections]]\nname = \"Snowflake\"\n");
        let n = prune_access(&mut files, "a", &site_with(&[], None), &["a".to_string()]);
        assert_eq!(n, 0);
        assert_eq!(text(&files), "");
    }

    #[test]
    fn a_declared_attribute_another_site_has_or_an_unread_site_may_have_is_kept() {
        let state =
            "[[user_attributes]]\nname = \"region\"\n\n[[account_types]]\nname = \"Gone\"\n";
        let (_d, mut files) = files_of(state);
        let (a, b) = (site_with(&[], None), site_with(&[], Some("Region ")));
        let every = ["a".to_string(), "b".to_string()];
        let done = prune_declared_once(&mut files, &[("a", &a), ("b", &b)], &every);
        assert_eq!(done.removed, ["account type `Gone`"]);
        assert_eq!(
            done.kept,
            [
                "user attribute `region` is kept: it is live on `b`, and a user attribute goes to every Sigma site, so the next plan creates it on `a`"
            ]
        );
        assert_eq!(text(&files), "[[user_attributes]]\nname = \"region\"\n");
        let (_d, mut files) = files_of(state);
        let done = prune_declared_once(&mut files, &[("a", &a)], &every);
        assert!(done.removed.is_empty());
        assert_eq!(done.kept.len(), 2);
        assert!(
            done.kept[0].ends_with(
                "but site `b` was not read (--site); import every Sigma site to take it off"
            ),
            "{:?}",
            done.kept
        );
        assert_eq!(text(&files), "");
    }
}
