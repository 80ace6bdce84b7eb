//! What a real Sigma organisation adds to the diff: guests and embed users
//! left alone, SCIM-owned members listed rather than changed, and team
//! admins. Pure; no I/O.

use std::collections::{HashMap, HashSet};

use crate::model::{
    Change, DesiredSite, KeptReason, LiveSite, LiveUser, Membership, Note, NoteReason, Site,
    Unmanaged, UserKind, email_key,
};
use crate::provider::kinds::Undeclared;

/// For an active guest nobody declared: kept when the site says
/// `unmanaged_guests = "keep"` (the default), removed when it says
/// `"deactivate"`; `None` when not a guest.
pub(super) fn guest_rule(site: &Site, u: &LiveUser) -> Option<Undeclared> {
    if u.kind != UserKind::Guest {
        return None;
    }
    let policy = site.sigma_org().map(|o| o.unmanaged_guests);
    Some(if policy == Some(Unmanaged::Remove) {
        Undeclared::Removed
    } else {
        Undeclared::Kept(KeptReason::Guest)
    })
}

/// Under `provisioning = "scim"`, every member write (create, update,
/// membership, deactivation) becomes a note: SCIM owns members and team
/// memberships. So does a team deletion, which would take the memberships
/// of its SCIM-owned members with it. Other team changes stay planned.
pub(super) fn scim_owned(
    site: &Site,
    user_changes: &mut Vec<Change>,
    deactivations: &mut Vec<Change>,
    group_deletes: &mut Vec<Change>,
) -> Vec<Note> {
    if !site.sigma_org().is_some_and(|o| o.scim) {
        return Vec::new();
    }
    user_changes
        .drain(..)
        .chain(deactivations.drain(..))
        .chain(group_deletes.drain(..))
        .map(|change| Note {
            reason: NoteReason::ScimOwned,
            change,
        })
        .collect()
}

/// Team admins (`admins` on a group): a member the plan creates is made an
/// admin of the declared teams (`addToTeams[].isTeamAdmin`); any other
/// difference is a note, as Sigma's API cannot change `isTeamAdmin` of an
/// existing member.
pub(super) fn plan_admins(
    desired: &DesiredSite,
    live: &LiveSite,
    live_users: &HashMap<String, usize>,
    user_changes: &mut [Change],
) -> Vec<Note> {
    let p = desired.site.provider;
    if !p.capabilities().people.group_admins {
        return Vec::new();
    }
    let creates: HashMap<String, usize> = user_changes
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c, Change::CreateUser { .. }))
        .map(|(i, c)| (email_key(c.key()), i))
        .collect();
    // Live admins by team key.
    let mut live_admins: HashMap<String, Vec<&LiveUser>> = HashMap::new();
    for u in live.users.iter().filter(|u| u.active) {
        for team in &u.admin_of {
            live_admins.entry(p.group_key(team)).or_default().push(u);
        }
    }
    let mut notes = Vec::new();
    let mut groups: Vec<_> = desired.groups.iter().collect();
    groups.sort_by_cached_key(|g| p.group_key(&g.name));
    for g in groups {
        let Some(admins) = &g.admins else { continue };
        let declared: HashSet<String> = admins.iter().map(|a| email_key(a)).collect();
        let keys: HashSet<String> = std::iter::once(&g.name)
            .chain(&g.previous_names)
            .map(|n| p.group_key(n))
            .collect();
        let now: Vec<&LiveUser> = keys
            .iter()
            .flat_map(|k| live_admins.get(k).into_iter().flatten().copied())
            .collect();
        let now_keys: HashSet<String> = now.iter().map(|u| email_key(&u.email)).collect();
        let mut added = Vec::new();
        for a in admins {
            let key = email_key(a);
            if let Some(i) = creates.get(&key) {
                if let Change::CreateUser { admin_of, .. } = &mut user_changes[*i] {
                    admin_of.push(g.name.clone());
                }
            } else if !now_keys.contains(&key) && live_users.contains_key(&key) {
                added.push(a.clone());
            }
        }
        let mut removed: Vec<String> = now
            .iter()
            .filter(|u| !declared.contains(&email_key(&u.email)))
            .map(|u| u.email.clone())
            .collect();
        removed.sort_by_cached_key(|e| email_key(e));
        removed.dedup();
        if added.is_empty() && removed.is_empty() {
            continue;
        }
        notes.push(Note {
            reason: NoteReason::TeamAdminsNotWritable,
            change: Change::UpdateGroup {
                live_name: g.name.clone(),
                id: None,
                name: None,
                access: None,
                description: None,
                visibility: None,
                admins: Some(Membership {
                    added,
                    removed,
                    after: admins.clone(),
                }),
            },
        });
    }
    notes
}
