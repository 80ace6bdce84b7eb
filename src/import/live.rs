//! Import from live sites: edit the state so it describes what is live, and
//! the next plan is empty. Declared people and groups are updated in place
//! (comments kept); new ones go to `imported/<site>.toml`; a person on
//! several sites whose groups differ here gets an override for this site.
//! With `prune`, people declared for the site who are no longer on it are
//! taken off it (their entry removed when it was their only site).

use std::path::Path;

use toml_edit::{Item, Table, Value};

use crate::model::{DesiredSite, LiveSite, ProviderKind, SiteConfig, email_key};
use crate::state::edit::{StateFiles, set, strings};

/// What an import changed.
#[derive(Debug, Default)]
pub struct Imported {
    pub users_added: usize,
    pub users_updated: usize,
    /// Taken off this site by `prune`.
    pub users_removed: usize,
    pub groups_added: usize,
    pub groups_updated: usize,
}

fn list(t: &Table, key: &str) -> Vec<String> {
    t.get(key)
        .and_then(Item::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn sorted_keys(p: ProviderKind, names: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = names.iter().map(|n| p.group_key(n)).collect();
    keys.sort();
    keys.dedup();
    keys
}

/// Edits `files` so they describe `live` for `site`. `all_sites` names every
/// site of the state (with more than one, new entries name their site).
pub fn import_site(
    dir: &Path,
    files: &mut StateFiles,
    site: &DesiredSite,
    live: &LiveSite,
    all_sites: &[String],
    prune: bool,
) -> Imported {
    let multi = all_sites.len() > 1;
    let mut done = Imported::default();
    let name = site.site.name.clone();
    let p = site.site.provider;
    let target = dir.join("imported").join(format!("{name}.toml"));
    let implicit = p.implicit_group().map(|g| p.group_key(g));
    let on_this_site = |t: &Table| {
        let sites = list(t, "sites");
        t.get("sites").is_none() || sites.contains(&name)
    };

    // Groups.
    let declared_groups = files.entries("groups", "name", |n| p.group_key(n));
    for g in live.groups.iter().filter(|g| !p.is_builtin_group(&g.name)) {
        match declared_groups.get(&p.group_key(&g.name)) {
            Some(r) => {
                let Some(t) = files.entry("groups", r) else {
                    continue;
                };
                let mut edits: Vec<(&str, Value)> = Vec::new();
                if !on_this_site(t) {
                    let mut sites = list(t, "sites");
                    sites.push(name.clone());
                    edits.push(("sites", strings(&sites)));
                }
                match p {
                    ProviderKind::Periscope => {
                        let have = t.get("access").and_then(Item::as_str).unwrap_or_default();
                        if let Some(a) = g
                            .access
                            .as_deref()
                            .filter(|a| !a.eq_ignore_ascii_case(have))
                        {
                            edits.push(("access", a.to_lowercase().into()));
                        }
                    }
                    ProviderKind::Sigma => {
                        let have = t
                            .get("description")
                            .and_then(Item::as_str)
                            .unwrap_or_default();
                        if let Some(d) = g
                            .description
                            .as_deref()
                            .filter(|d| !d.is_empty() && *d != have)
                        {
                            edits.push(("description", d.into()));
                        }
                        let have = t
                            .get("visibility")
                            .and_then(Item::as_str)
                            .unwrap_or_default();
                        if let Some(v) = g
                            .visibility
                            .as_deref()
                            .filter(|v| !v.eq_ignore_ascii_case(have))
                        {
                            edits.push(("visibility", v.to_lowercase().into()));
                        }
                    }
                }
                if !edits.is_empty() {
                    if let Some(t) = files.entry_mut("groups", r) {
                        for (k, v) in edits {
                            set(t, k, v);
                        }
                    }
                    done.groups_updated += 1;
                }
            }
            None => {
                let mut t = Table::new();
                set(&mut t, "name", g.name.clone());
                match p {
                    ProviderKind::Periscope => {
                        let access = g
                            .access
                            .as_deref()
                            .filter(|a| crate::model::Access::parse(a).is_some());
                        set(&mut t, "access", access.unwrap_or("view").to_lowercase());
                    }
                    ProviderKind::Sigma => {
                        if let Some(d) = g.description.as_deref().filter(|d| !d.is_empty()) {
                            set(&mut t, "description", d);
                        }
                        if let Some(v) = &g.visibility {
                            set(&mut t, "visibility", v.to_lowercase());
                        }
                    }
                }
                if multi {
                    set(&mut t, "sites", strings(std::slice::from_ref(&name)));
                }
                files.add(&target, "groups", t);
                done.groups_added += 1;
            }
        }
    }

    // People.
    let declared = files.users();
    for u in live.users.iter().filter(|u| u.locked.is_none()) {
        let groups: Vec<String> = {
            let mut g: Vec<String> = u
                .groups
                .iter()
                .filter(|g| Some(p.group_key(g)) != implicit)
                .cloned()
                .collect();
            g.sort_by_cached_key(|n| p.group_key(n));
            g
        };
        let member_type = (p == ProviderKind::Sigma)
            .then(|| u.member_type.clone())
            .flatten();
        let Some(r) = declared.get(&email_key(&u.email)) else {
            let mut t = Table::new();
            set(&mut t, "email", u.email.clone());
            set(&mut t, "first_name", u.first_name.clone());
            set(&mut t, "last_name", u.last_name.clone());
            if let Some(m) = &member_type {
                set(&mut t, "member_type", m.clone());
            }
            if !groups.is_empty() {
                set(&mut t, "groups", strings(&groups));
            }
            if multi {
                set(&mut t, "sites", strings(std::slice::from_ref(&name)));
            }
            if !u.active {
                set(&mut t, "active", false);
            }
            files.add(&target, "users", t);
            done.users_added += 1;
            continue;
        };
        let Some(t) = files.entry("users", r) else {
            continue;
        };
        // A deactivated member who is declared for other sites only stays
        // undeclared here: the plan leaves deactivated members alone.
        if !u.active && !on_this_site(t) {
            continue;
        }
        // On several sites once this one is counted: differences go in an
        // override for this site, never in what the other sites use.
        let on_several =
            multi && (t.get("sites").is_none() || list(t, "sites").len() > 1 || !on_this_site(t));
        let mut edits: Vec<(String, Value)> = Vec::new();
        if !on_this_site(t) {
            let mut sites = list(t, "sites");
            sites.push(name.clone());
            edits.push(("sites".into(), strings(&sites)));
        }
        for (key, want) in [("first_name", &u.first_name), ("last_name", &u.last_name)] {
            let have = t
                .get("overrides")
                .and_then(|o| o.get(&name))
                .and_then(|o| o.get(key))
                .or_else(|| t.get(key))
                .and_then(Item::as_str);
            if have != Some(want.as_str()) {
                let key = if on_several {
                    format!("overrides.{name}.{key}")
                } else {
                    key.to_string()
                };
                edits.push((key, want.as_str().into()));
            }
        }
        let base_groups = list(t, "groups");
        let override_groups = t
            .get("overrides")
            .and_then(|o| o.get(&name))
            .and_then(|o| o.get("groups"))
            .and_then(Item::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect::<Vec<_>>()
            });
        let effective = override_groups.clone().unwrap_or(base_groups.clone());
        if sorted_keys(p, &effective) != sorted_keys(p, &groups) {
            if on_several || override_groups.is_some() {
                edits.push((format!("overrides.{name}.groups"), strings(&groups)));
            } else {
                edits.push(("groups".into(), strings(&groups)));
            }
        }
        if let Some(m) = &member_type {
            let have = t
                .get("overrides")
                .and_then(|o| o.get(&name))
                .and_then(|o| o.get("member_type"))
                .or_else(|| t.get("member_type"))
                .and_then(Item::as_str)
                .unwrap_or_default();
            if !have.eq_ignore_ascii_case(m) {
                let key = if on_several {
                    format!("overrides.{name}.member_type")
                } else {
                    "member_type".into()
                };
                edits.push((key, m.as_str().into()));
            }
        }
        let declared_active = t.get("active").and_then(Item::as_bool).unwrap_or(true);
        if matches!(site.site.config, SiteConfig::Sigma { .. }) && declared_active != u.active {
            edits.push(("active".into(), u.active.into()));
        }
        if edits.is_empty() {
            continue;
        }
        let Some(t) = files.user_mut(r) else { continue };
        for (key, value) in edits {
            match key.strip_prefix("overrides.") {
                Some(path) => {
                    let (site_name, field) = path.split_once('.').expect("site.field");
                    let overrides = t.entry("overrides").or_insert_with(|| {
                        // Only `[users.overrides.SITE]` is written, not
                        // an empty `[users.overrides]` above it.
                        let mut overrides = Table::new();
                        overrides.set_implicit(true);
                        Item::Table(overrides)
                    });
                    if let Some(o) = overrides.as_table_like_mut() {
                        let entry = o.entry(site_name).or_insert(Item::Table(Table::new()));
                        if let Some(e) = entry.as_table_like_mut() {
                            set(e, field, value);
                        }
                    }
                }
                None if key == "active" && value.as_bool() == Some(true) => {
                    t.remove("active");
                }
                None => set(t, &key, value),
            }
        }
        done.users_updated += 1;
    }
    if prune {
        done.users_removed = prune_site(files, &name, live, all_sites);
    }
    done
}

/// Takes people no longer on the site `name` off it: off their `sites`
/// list (and their overrides for it) when they have other sites, out of the
/// state when it was their only one. Someone live under one of their
/// `previous_emails` is still there. How many were taken off.
fn prune_site(files: &mut StateFiles, name: &str, live: &LiveSite, all_sites: &[String]) -> usize {
    let live_keys: std::collections::HashSet<String> =
        live.users.iter().map(|u| email_key(&u.email)).collect();
    let mut remove = Vec::new();
    let mut narrow = Vec::new();
    for r in files.users().into_values() {
        let Some(t) = files.entry("users", &r) else {
            continue;
        };
        let sites = match t.get("sites") {
            Some(_) => list(t, "sites"),
            None => all_sites.to_vec(),
        };
        if !sites.iter().any(|s| s == name) {
            continue;
        }
        let mut emails = list(t, "previous_emails");
        emails.extend(t.get("email").and_then(Item::as_str).map(str::to_string));
        if emails.iter().any(|e| live_keys.contains(&email_key(e))) {
            continue;
        }
        let others: Vec<String> = sites.into_iter().filter(|s| s != name).collect();
        if others.is_empty() {
            remove.push(r);
        } else {
            narrow.push((r, others));
        }
    }
    let count = remove.len() + narrow.len();
    for (r, others) in narrow {
        if let Some(t) = files.user_mut(&r) {
            set(t, "sites", strings(&others));
            if let Some(o) = t.get_mut("overrides").and_then(Item::as_table_like_mut) {
                o.remove(name);
                if o.is_empty() {
                    t.remove("overrides");
                }
            }
        }
    }
    files.remove_users(&remove);
    count
}
