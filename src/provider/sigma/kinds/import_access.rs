//! `roster import` of Sigma access: each live workspace and connection as a
//! `[[workspaces]]` or `[[connections]]` entry with its grants, entries
//! already declared edited in place (their comments kept), new ones added
//! to `imported/<site>.toml`.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use toml_edit::{InlineTable, Item, Table, Value};

use crate::model::access::{AccessKind, Grantee, LiveAccessObject};
use crate::model::{LiveSite, ProviderKind};
use crate::provider::kinds::entries::{ImportError, Matcher, StateEntries, Undone};
use crate::toml_comments::{set, strings};

/// Imports a site's workspaces and connections; how many entries were
/// added and updated. A workspace live under one of an entry's
/// `previous_names` is that entry, written back to the live name (added to
/// `undone`), as a group is.
pub(super) fn import_access(
    files: &mut impl StateEntries,
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
    files: &mut impl StateEntries,
    (site, multi): (&str, bool),
    kind: AccessKind,
    list: &[LiveAccessObject],
    target: &Path,
    undone: &mut Vec<Undone>,
) -> Result<(usize, usize), ImportError> {
    let key = |n: &str| ProviderKind::Sigma.group_key(n);
    let live_keys: HashSet<String> = list.iter().map(|o| key(&o.name)).collect();
    let table = table_name(kind);
    let declared = Matcher::new(
        files,
        (table, "name", "previous_names", kind.as_str()),
        &key,
        live_keys,
    );
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
        let before = undone.len();
        match declared.claim(files, site, &o.name, undone)? {
            Some(r) => {
                let renamed = undone.len() > before;
                let r = &r;
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
