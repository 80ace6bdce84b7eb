//! `roster import` of Sigma access: each live workspace and connection as a
//! `[[workspaces]]` or `[[connections]]` entry with its grants, entries
//! already declared edited in place (their comments kept), new ones added
//! to `imported/<site>.toml`.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use toml_edit::{InlineTable, Item, Table, Value};

use crate::model::access::{AccessKind, Grantee, LiveAccessObject};
use crate::model::{DesiredState, LiveSite, ProviderKind, SiteConfig};
use crate::state::edit::{StateFiles, UserRef, set, strings};

use super::live::{ImportError, Undone, list};

/// Makes every Sigma site's client read workspaces and connections, user
/// attributes and account types, so the import sees them.
pub fn read_access(desired: &mut DesiredState) {
    for site in &mut desired.sites {
        if let SiteConfig::Sigma(s) = &mut site.site.config {
            s.org.access.read = true;
            s.org.attrs_read = true;
        }
    }
}

/// Imports a site's workspaces and connections; how many entries were
/// added and updated. A workspace live under one of an entry's
/// `previous_names` is that entry, written back to the live name (added to
/// `undone`), as a group is.
pub fn import_access(
    files: &mut StateFiles,
    (site, multi): (&str, bool),
    live: &LiveSite,
    target: &Path,
    (skipped, undone): (&mut Vec<String>, &mut Vec<Undone>),
) -> Result<(usize, usize), ImportError> {
    let mut counts = (0, 0);
    // Grants go to people the state declares (after the users' import):
    // the platform's own accounts, SCIM-owned and embed users never are.
    let people: HashSet<String> = files
        .entries("users", "email", crate::model::email_key)
        .into_keys()
        .collect();
    for (kind, list) in [
        (AccessKind::Workspace, &live.access.workspaces),
        (AccessKind::Connection, &live.access.connections),
    ] {
        let Some(list) = list else { continue };
        let mut list = list.clone();
        for o in &mut list {
            o.grants.retain(|g| match &g.grantee {
                Grantee::Person(email) if !people.contains(&crate::model::email_key(email)) => {
                    skipped.push(format!(
                        "the grant of {} `{}` to `{email}` ({}) is left out: `{email}` is not a person the state declares (roster never declares the platform's own accounts, SCIM-owned or embed users); the next plan revokes it unless unmanaged_grants = \"keep\"",
                        kind.as_str(), o.name, g.permission
                    ));
                    false
                }
                _ => true,
            });
        }
        let (added, updated) = import_kind(files, (site, multi), kind, &list, target, undone)?;
        counts.0 += added;
        counts.1 += updated;
    }
    Ok(counts)
}

fn table_name(kind: AccessKind) -> &'static str {
    match kind {
        AccessKind::Workspace => "workspaces",
        AccessKind::Connection => "connections",
    }
}

fn import_kind(
    files: &mut StateFiles,
    (site, multi): (&str, bool),
    kind: AccessKind,
    list: &[LiveAccessObject],
    target: &Path,
    undone: &mut Vec<Undone>,
) -> Result<(usize, usize), ImportError> {
    let key = |n: &str| ProviderKind::Sigma.group_key(n);
    let declared = files.entries(table_name(kind), "name", key);
    let previous = previous_names(files, kind, &declared);
    let live_keys: HashSet<String> = list.iter().map(|o| key(&o.name)).collect();
    let mut seen = HashSet::new();
    let (mut added, mut updated) = (0, 0);
    for o in list {
        // Names may repeat in Sigma: the first is imported, and the plan
        // refuses the ambiguity until one is renamed.
        if !seen.insert(key(&o.name)) {
            continue;
        }
        let (teams, people) = grant_tables(o);
        // A workspace still under a previous name is the entry's: the
        // rename was never applied, so the entry says the live name again.
        let by_previous = previous.get(&key(&o.name));
        let found = declared.get(&key(&o.name)).or(by_previous);
        match found {
            Some(r) => {
                let renamed = match by_previous.filter(|_| !declared.contains_key(&key(&o.name))) {
                    Some(r) => {
                        undo_rename(files, (site, kind), r, &o.name, &live_keys, undone)?;
                        true
                    }
                    None => false,
                };
                let Some(t) = files.entry(table_name(kind), r) else {
                    continue;
                };
                if same_grants(t, "teams", &teams) && same_grants(t, "people", &people) {
                    updated += usize::from(renamed);
                    continue;
                }
                if let Some(t) = files.entry_mut(table_name(kind), r) {
                    set_grants(t, teams, people);
                    updated += 1;
                }
            }
            None => {
                let mut t = Table::new();
                t.insert("name", Item::Value(Value::from(o.name.as_str())));
                set_grants(&mut t, teams, people);
                if multi {
                    t.insert("sites", Item::Value(strings(&[site.to_string()])));
                }
                files.add(target, table_name(kind), t);
                added += 1;
            }
        }
    }
    Ok((added, updated))
}

/// Writes entry `r` back to `live_name`, one of its `previous_names`,
/// which leaves that list; an error when its current name is live too.
fn undo_rename(
    files: &mut StateFiles,
    (site, kind): (&str, AccessKind),
    r: &UserRef,
    live_name: &str,
    live_keys: &HashSet<String>,
    undone: &mut Vec<Undone>,
) -> Result<(), ImportError> {
    let key = |n: &str| ProviderKind::Sigma.group_key(n);
    let Some(t) = files.entry_mut(table_name(kind), r) else {
        return Ok(());
    };
    let current = t
        .get("name")
        .and_then(Item::as_str)
        .unwrap_or_default()
        .to_string();
    let previous = list(t, "previous_names");
    let Some(old) = previous.iter().find(|p| key(p) == key(live_name)).cloned() else {
        return Ok(());
    };
    if live_keys.contains(&key(&current)) {
        return Err(ImportError::BothLive {
            site: site.to_string(),
            what: kind.as_str(),
            current,
            previous: old,
            field: "previous_names",
        });
    }
    let rest: Vec<String> = previous
        .into_iter()
        .filter(|p| key(p) != key(live_name))
        .collect();
    if rest.is_empty() {
        t.remove("previous_names");
    } else {
        set(t, "previous_names", strings(&rest));
    }
    set(t, "name", live_name);
    undone.push(Undone {
        what: kind.as_str(),
        declared: current,
        live: live_name.to_string(),
    });
    Ok(())
}

/// The declared entries by each of their `previous_names` (keyed), where
/// no entry has that name.
fn previous_names(
    files: &StateFiles,
    kind: AccessKind,
    declared: &BTreeMap<String, UserRef>,
) -> BTreeMap<String, UserRef> {
    let mut out = BTreeMap::new();
    for r in declared.values() {
        let Some(t) = files.entry(table_name(kind), r) else {
            continue;
        };
        let names = t.get("previous_names").and_then(Item::as_array);
        for name in names.into_iter().flatten().filter_map(Value::as_str) {
            let k = ProviderKind::Sigma.group_key(name);
            if !declared.contains_key(&k) {
                out.insert(k, r.clone());
            }
        }
    }
    out
}

/// The live grants as `teams` and `people` maps, sorted.
fn grant_tables(o: &LiveAccessObject) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let (mut teams, mut people) = (BTreeMap::new(), BTreeMap::new());
    for g in &o.grants {
        match &g.grantee {
            Grantee::Team(name) => teams.insert(name.clone(), g.permission.clone()),
            Grantee::Person(email) => people.insert(email.clone(), g.permission.clone()),
        };
    }
    (teams, people)
}

/// Whether `grants.<which>` of entry `t` already says `wanted`.
fn same_grants(t: &Table, which: &str, wanted: &BTreeMap<String, String>) -> bool {
    let written: BTreeMap<String, String> = t
        .get("grants")
        .and_then(|g| g.get(which))
        .and_then(Item::as_table_like)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.to_string(), permission_of(v)?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let fold = |m: &BTreeMap<String, String>, person: bool| -> BTreeMap<String, String> {
        m.iter()
            .map(|(k, v)| {
                let k = if person {
                    crate::model::email_key(k)
                } else {
                    ProviderKind::Sigma.group_key(k)
                };
                (k, v.trim().to_ascii_lowercase())
            })
            .collect()
    };
    let person = which == "people";
    fold(&written, person) == fold(wanted, person)
}

/// A written grant's permission: `"edit"` or `{ permission = "edit", ... }`.
fn permission_of(v: &Item) -> Option<&str> {
    v.as_str()
        .or_else(|| v.as_table_like()?.get("permission").and_then(Item::as_str))
}

/// Writes `grants.teams` and `grants.people` (dotted keys), keeping the
/// decoration of values already there, and a grant written with its
/// `expires` as it is when its permission stays.
fn set_grants(t: &mut Table, teams: BTreeMap<String, String>, people: BTreeMap<String, String>) {
    let grants = t.entry("grants").or_insert_with(|| {
        let mut g = Table::new();
        g.set_dotted(true);
        Item::Table(g)
    });
    let Some(grants) = grants.as_table_like_mut() else {
        return;
    };
    for (which, map) in [("teams", teams), ("people", people)] {
        if map.is_empty() {
            grants.remove(which);
            continue;
        }
        let kept: BTreeMap<String, Value> = grants
            .get(which)
            .and_then(Item::as_table_like)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.to_string(), v.as_value()?.clone())))
                    .collect()
            })
            .unwrap_or_default();
        let mut inline = InlineTable::new();
        for (k, v) in map {
            let dated = kept.get(&k).filter(|old| {
                old.as_inline_table()
                    .and_then(|t| t.get("permission"))
                    .and_then(Value::as_str)
                    == Some(v.as_str())
            });
            let value = dated.map_or_else(
                || Value::from(v),
                |old| {
                    let mut old = old.clone();
                    old.decor_mut().clear();
                    old
                },
            );
            inline.insert(&k, value);
        }
        set(grants, which, Value::InlineTable(inline));
    }
}
