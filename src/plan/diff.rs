//! The diff: desired and live state in, ordered changes out. Pure; no I/O.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{Change, Diff, Kept, KeptReason, Membership, ObjectKind, Plan, SitePlan, fingerprint};
use crate::model::{DesiredSite, DesiredState, LiveGroup, LiveSite, Unmanaged, email_key};

/// A plan that cannot be made without guessing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "site `{site}`: group `{name}` lists `{previous}` in previous_names, but both `{live_current}` and `{live_previous}` exist on the site; roster will not guess which one to keep. Delete one of them on the site, or remove `{previous}` from previous_names"
    )]
    RenameConflict {
        site: String,
        name: String,
        previous: String,
        live_current: String,
        live_previous: String,
    },
}

/// Plans every site of `desired` against its live state (`live` in the same
/// order as `desired.sites`).
pub fn plan(desired: &DesiredState, live: &[LiveSite]) -> Result<Plan, Vec<PlanError>> {
    let mut sites = Vec::new();
    let mut errors = Vec::new();
    for (d, l) in desired.sites.iter().zip(live) {
        match plan_site(d, l) {
            Ok(p) => sites.push(p),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(Plan { sites })
    } else {
        Err(errors)
    }
}

/// Plans one site.
pub fn plan_site(desired: &DesiredSite, live: &LiveSite) -> Result<SitePlan, Vec<PlanError>> {
    let site = &desired.site;
    let p = site.provider;
    let mut errors = Vec::new();

    // Groups, matched by the key the API resolves names with.
    let live_groups: HashMap<String, &LiveGroup> = live
        .groups
        .iter()
        .map(|g| (p.group_key(&g.name), g))
        .collect();
    let mut used: HashSet<String> = HashSet::new();
    // Live group key -> the name it has once step 1 has run.
    let mut renamed: HashMap<String, String> = HashMap::new();
    let mut group_creates = Vec::new();
    let mut group_updates = Vec::new();

    let mut desired_groups: Vec<_> = desired.groups.iter().collect();
    desired_groups.sort_by_key(|g| p.group_key(&g.name));
    for g in desired_groups {
        let key = p.group_key(&g.name);
        let by_previous = || {
            g.previous_names
                .iter()
                .filter(|prev| p.group_key(prev) != key)
                .find_map(|prev| live_groups.get(&p.group_key(prev)).map(|l| (prev, *l)))
        };
        let matched = match (live_groups.get(&key), by_previous()) {
            (Some(current), Some((prev, old))) => {
                errors.push(PlanError::RenameConflict {
                    site: site.name.clone(),
                    name: g.name.clone(),
                    previous: prev.clone(),
                    live_current: current.name.clone(),
                    live_previous: old.name.clone(),
                });
                continue;
            }
            (Some(l), None) => *l,
            (None, Some((_, l))) => l,
            (None, None) => {
                group_creates.push(Change::CreateGroup {
                    name: g.name.clone(),
                    access: g.access,
                });
                continue;
            }
        };
        let live_key = p.group_key(&matched.name);
        used.insert(live_key.clone());
        renamed.insert(live_key, g.name.clone());
        let name = (matched.name != g.name).then(|| Diff {
            before: matched.name.clone(),
            after: g.name.clone(),
        });
        // Access levels are case-insensitive on the API.
        let live_access = matched.access.as_deref().unwrap_or_default().to_lowercase();
        let access = (live_access != g.access.as_str()).then(|| Diff {
            before: live_access,
            after: g.access.as_str().to_string(),
        });
        if name.is_some() || access.is_some() {
            group_updates.push(Change::UpdateGroup {
                live_name: matched.name.clone(),
                name,
                access,
            });
        }
    }

    let mut kept = Vec::new();
    let mut group_deletes = Vec::new();
    let mut unmanaged_groups: Vec<_> = live
        .groups
        .iter()
        .filter(|g| !used.contains(&p.group_key(&g.name)) && !p.is_builtin_group(&g.name))
        .collect();
    unmanaged_groups.sort_by_key(|g| p.group_key(&g.name));
    for g in unmanaged_groups {
        match site.unmanaged_groups {
            Unmanaged::Remove => group_deletes.push(Change::DeleteGroup {
                name: g.name.clone(),
            }),
            Unmanaged::Keep => kept.push(Kept {
                kind: ObjectKind::Group,
                key: g.name.clone(),
                reason: KeptReason::Unmanaged,
            }),
        }
    }

    // The name a live membership will have after step 1, or None when the
    // membership is never planned (the group every user is in).
    let implicit = p.implicit_group().map(|g| p.group_key(g));
    let membership_name = |name: &str| -> Option<(String, String)> {
        let key = p.group_key(name);
        if implicit.as_deref() == Some(key.as_str()) {
            return None;
        }
        let after = renamed
            .get(&key)
            .cloned()
            .unwrap_or_else(|| name.to_string());
        Some((p.group_key(&after), after))
    };

    // Users, matched by normalised email.
    let live_users: HashMap<String, &crate::model::LiveUser> = live
        .users
        .iter()
        .map(|u| (email_key(&u.email), u))
        .collect();
    let mut desired_users: Vec<_> = desired.users.iter().collect();
    desired_users.sort_by_key(|u| email_key(&u.email));
    let mut user_changes = Vec::new();
    let mut seen_users = HashSet::new();
    for u in desired_users {
        let key = email_key(&u.email);
        seen_users.insert(key.clone());
        let wanted: BTreeMap<String, String> =
            u.groups.iter().filter_map(|g| membership_name(g)).collect();
        let Some(l) = live_users.get(&key) else {
            user_changes.push(Change::CreateUser {
                email: u.email.clone(),
                first_name: u.first_name.clone(),
                last_name: u.last_name.clone(),
                groups: sorted_names(&wanted),
            });
            continue;
        };
        let has: BTreeMap<String, String> =
            l.groups.iter().filter_map(|g| membership_name(g)).collect();
        let text_diff = |before: &str, after: &str| {
            (before != after).then(|| Diff {
                before: before.to_string(),
                after: after.to_string(),
            })
        };
        let first_name = text_diff(&l.first_name, &u.first_name);
        let last_name = text_diff(&l.last_name, &u.last_name);
        let added: Vec<String> = wanted
            .iter()
            .filter(|(k, _)| !has.contains_key(*k))
            .map(|(_, v)| v.clone())
            .collect();
        let removed: Vec<String> = has
            .iter()
            .filter(|(k, _)| !wanted.contains_key(*k))
            .map(|(_, v)| v.clone())
            .collect();
        let groups = (!added.is_empty() || !removed.is_empty()).then(|| Membership {
            added,
            removed,
            after: sorted_names(&wanted),
        });
        if first_name.is_some() || last_name.is_some() || groups.is_some() {
            user_changes.push(Change::UpdateUser {
                email: u.email.clone(),
                first_name,
                last_name,
                groups,
            });
        }
    }

    let mut user_removals = Vec::new();
    let mut unmanaged_users: Vec<_> = live
        .users
        .iter()
        .filter(|u| !seen_users.contains(&email_key(&u.email)))
        .collect();
    unmanaged_users.sort_by_key(|u| email_key(&u.email));
    for u in unmanaged_users {
        let reason = if email_key(&u.email) == email_key(&site.invited_by) {
            Some(KeptReason::InvitedBy)
        } else if site.unmanaged_users == Unmanaged::Keep {
            Some(KeptReason::Unmanaged)
        } else {
            None
        };
        match reason {
            Some(reason) => kept.push(Kept {
                kind: ObjectKind::User,
                key: u.email.clone(),
                reason,
            }),
            None => user_removals.push(Change::DeleteUser {
                email: u.email.clone(),
            }),
        }
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    // User creates and updates interleave in email order: one line per person.
    let changes = group_creates
        .into_iter()
        .chain(group_updates)
        .chain(user_changes)
        .chain(user_removals)
        .chain(group_deletes)
        .collect();
    kept.sort_by(|a, b| (a.kind, a.reason, &a.key).cmp(&(b.kind, b.reason, &b.key)));
    Ok(SitePlan {
        site: site.name.clone(),
        provider: p,
        changes,
        kept,
        fingerprint: fingerprint(p, live),
    })
}

fn sorted_names(groups: &BTreeMap<String, String>) -> Vec<String> {
    groups.values().cloned().collect()
}
