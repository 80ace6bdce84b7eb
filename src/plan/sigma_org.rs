//! What a real Sigma organisation adds to the diff: guests and embed users
//! left alone, SCIM-owned members listed rather than changed, and team
//! admins. Pure; no I/O.

use std::collections::{HashMap, HashSet};

use super::{Change, KeptReason, Membership, Note, NoteReason};
use crate::model::{DesiredSite, LiveSite, LiveUser, Site, Unmanaged, UserKind, email_key};

/// Why a live member is left alone whatever the state says: SCIM or the
/// platform owns them, or they are an embed user (whom roster never
/// creates, changes or removes).
pub fn left_alone(u: &LiveUser) -> Option<KeptReason> {
    match (u.locked, u.kind) {
        (Some(lock), _) => Some(KeptReason::Locked(lock)),
        (None, UserKind::Embed) => Some(KeptReason::Embed),
        _ => None,
    }
}

/// For an active member nobody declared: `Some(Some(reason))` when a guest
/// is kept (`unmanaged_guests = "keep"`, the default), `Some(None)` when a
/// guest is removed (`"deactivate"`), `None` when not a guest.
pub fn guest_kept(site: &Site, u: &LiveUser) -> Option<Option<KeptReason>> {
    if u.kind != UserKind::Guest {
        return None;
    }
    let policy = site.sigma_org().map(|o| o.unmanaged_guests);
    Some((policy != Some(Unmanaged::Remove)).then_some(KeptReason::Guest))
}

/// Under `provisioning = "scim"`, every member write (create, update,
/// membership, deactivation) becomes a note: SCIM owns members and team
/// memberships. So does a team deletion, which would take the memberships
/// of its SCIM-owned members with it. Other team changes stay planned.
pub fn scim_owned(
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
pub fn plan_admins(
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
