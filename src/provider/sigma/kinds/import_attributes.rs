//! Import of a live Sigma organisation's user attributes, their values on
//! people and teams, and its custom account types: entries added where
//! none is declared, fields set where they differ, comments kept.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use toml_edit::{InlineTable, Item, Table, Value};

use crate::attrs::name_key;
use crate::model::{LiveSite, ProviderKind, email_key};
use crate::provider::kinds::entries::{StateEntries, UserRef};
use crate::toml_comments::{set, strings};

/// Edits `files` so they describe the attributes and custom account types
/// of `live`; new entries go to `target`. Nothing where the site has none.
pub(super) fn import_attrs(
    files: &mut impl StateEntries,
    target: &Path,
    p: ProviderKind,
    live: &LiveSite,
) {
    if !live.attrs.read {
        return;
    }
    let caps = p.capabilities().attrs;
    if caps.user_attributes {
        attributes(files, target, live);
        values(files, p, live);
    }
    if caps.custom_account_types {
        account_types(files, target, live);
    }
}

/// Sets (or removes) an optional text field.
fn set_optional(t: &mut Table, key: &str, value: Option<&String>) {
    let have = t.get(key).and_then(Item::as_str).map(str::to_string);
    match value {
        Some(v) if have.as_ref() != Some(v) => set(t, key, v.as_str()),
        None if have.is_some() => {
            t.remove(key);
        }
        _ => {}
    }
}

/// The declared `kind` entry `found`, to update; none when there is no
/// such entry and the one `new` makes is added to `target` instead (or
/// when the entry found is gone).
fn declared_or_added<'f>(
    files: &'f mut impl StateEntries,
    target: &Path,
    kind: &str,
    found: Option<&UserRef>,
    new: impl FnOnce() -> Table,
) -> Option<&'f mut Table> {
    match found {
        Some(r) => files.entry_mut(kind, r),
        None => {
            files.add(target, kind, new());
            None
        }
    }
}

fn attributes(files: &mut impl StateEntries, target: &Path, live: &LiveSite) {
    let declared = files.entries("user_attributes", "name", name_key);
    for a in &live.attrs.attributes {
        let found = declared.get(&name_key(&a.name));
        let Some(t) = declared_or_added(files, target, "user_attributes", found, || {
            let mut t = Table::new();
            set(&mut t, "name", a.name.as_str());
            set_optional(&mut t, "description", a.description.as_ref());
            set_optional(&mut t, "default", a.default.as_ref());
            t
        }) else {
            continue;
        };
        set_optional(t, "description", a.description.as_ref());
        set_optional(t, "default", a.default.as_ref());
    }
}

fn account_types(files: &mut impl StateEntries, target: &Path, live: &LiveSite) {
    let declared = files.entries("account_types", "name", name_key);
    for at in live.attrs.account_types.iter().filter(|t| t.custom) {
        let description = at.description.clone().unwrap_or_default();
        let found = declared.get(&name_key(&at.name));
        let Some(t) = declared_or_added(files, target, "account_types", found, || {
            let mut t = Table::new();
            set(&mut t, "name", at.name.as_str());
            set(&mut t, "description", description.as_str());
            set(&mut t, "permissions", strings(&at.permissions));
            t
        }) else {
            continue;
        };
        set_optional(t, "description", Some(&description));
        let mut have: Vec<String> = t
            .get("permissions")
            .and_then(Item::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        have.sort();
        if have != at.permissions {
            set(t, "permissions", strings(&at.permissions));
        }
    }
}

/// Values by holder ID, then attribute name.
type ByHolder<'a> = HashMap<&'a str, BTreeMap<&'a str, &'a str>>;

fn by_holder(live: &LiveSite, team: bool) -> ByHolder<'_> {
    let mut out: ByHolder = HashMap::new();
    for a in &live.attrs.attributes {
        let values = if team { &a.teams } else { &a.users };
        for (holder, value) in values {
            out.entry(holder.as_str())
                .or_default()
                .insert(a.name.as_str(), value.as_str());
        }
    }
    out
}

/// Sets each declared person's and team's `attributes` to the live ones.
fn values(files: &mut impl StateEntries, p: ProviderKind, live: &LiveSite) {
    let users = by_holder(live, false);
    let people = files.users();
    for u in &live.users {
        let (Some(id), Some(r)) = (u.id.as_deref(), people.get(&email_key(&u.email))) else {
            continue;
        };
        let wanted = users.get(id).cloned().unwrap_or_default();
        if let Some(t) = files.entry("users", r)
            && declared_values(t) != wanted
            && let Some(t) = files.user_mut(r)
        {
            set_values(t, &wanted);
        }
    }
    let teams = by_holder(live, true);
    let groups = files.entries("groups", "name", |n| p.group_key(n));
    for g in &live.groups {
        let (Some(id), Some(r)) = (g.id.as_deref(), groups.get(&p.group_key(&g.name))) else {
            continue;
        };
        let wanted = teams.get(id).cloned().unwrap_or_default();
        if let Some(t) = files.entry("groups", r)
            && declared_values(t) != wanted
            && let Some(t) = files.entry_mut("groups", r)
        {
            set_values(t, &wanted);
        }
    }
}

fn declared_values(t: &Table) -> BTreeMap<&str, &str> {
    t.get("attributes")
        .and_then(Item::as_inline_table)
        .map(|a| {
            a.iter()
                .filter_map(|(k, v)| Some((k, v.as_str()?)))
                .collect()
        })
        .unwrap_or_default()
}

fn set_values(t: &mut Table, wanted: &BTreeMap<&str, &str>) {
    if wanted.is_empty() {
        t.remove("attributes");
        return;
    }
    let mut inline = InlineTable::new();
    for (k, v) in wanted {
        inline.insert(*k, (*v).into());
    }
    set(t, "attributes", Value::InlineTable(inline));
}
