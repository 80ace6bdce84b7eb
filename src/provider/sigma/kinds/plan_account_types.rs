//! The custom account types half of a site's plan. The API creates and
//! deletes account types, never edits one, and names are unique: a type
//! whose description or permissions change is replaced (deleted with its
//! people held on the site's least-privileged built-in type, created again,
//! and its people moved back). Pure; no I/O.

use std::collections::{BTreeSet, HashMap};

use super::plan_attributes::AttrPlan;
use crate::attrs::{DesiredAccountType, LiveAccountType, name_key};
use crate::model::{
    Change, DesiredSite, Diff, Kept, KeptReason, LiveSite, Membership, ObjectKind, PlanError,
    Unmanaged, email_key,
};

/// Plans the custom account types of a site whose provider has them.
pub(super) fn plan_account_types(
    desired: &DesiredSite,
    live: &LiveSite,
    out: &mut AttrPlan,
    errors: &mut Vec<PlanError>,
) {
    if !desired.site.capabilities().attrs.custom_account_types || !live.attrs.read {
        return;
    }
    let site = &desired.site.name;
    let by_key: HashMap<String, &LiveAccountType> = live
        .attrs
        .account_types
        .iter()
        .map(|t| (name_key(&t.name), t))
        .collect();
    let holding = holding_type(live);
    let offered = live.attrs.offered_permissions();
    // Where each declared person's account type goes, by email key.
    let declared_types: HashMap<String, Option<&str>> = desired
        .users
        .iter()
        .map(|u| (email_key(&u.email), u.member_type.as_deref()))
        .collect();
    for t in &desired.attrs.account_types {
        for p in t
            .permissions
            .iter()
            .filter(|p| !offered.contains(p.as_str()))
        {
            errors.push(PlanError::UnknownPermission {
                at: desired.attrs.places.permission(&t.name, p),
                site: site.clone(),
                account_type: t.name.clone(),
                permission: p.clone(),
                offered: offered.iter().copied().collect::<Vec<_>>().join(", "),
            });
        }
        match by_key.get(&name_key(&t.name)) {
            None => out.early.push(Change::CreateAccountType {
                name: t.name.clone(),
                description: t.description.clone(),
                permissions: t.permissions.clone(),
            }),
            Some(l) if !l.custom => errors.push(PlanError::BuiltinAccountType {
                place: t.place.clone(),
                site: site.clone(),
                name: l.name.clone(),
            }),
            Some(l) if differs(t, l) => {
                // Every member of the type is held and moved back, the
                // deactivated and SCIM-owned ones too (the replacement
                // moves them, so it puts them back), except the active
                // declared people step 2 gives another type.
                let moved = holders(live, l, |u| {
                    !(u.active && u.locked.is_none())
                        || declared_types
                            .get(&email_key(&u.email))
                            .copied()
                            .flatten()
                            .is_none_or(|d| name_key(d) == name_key(&l.name))
                });
                match holding {
                    Some(via) => out.early.push(replacement(t, l, moved, via)),
                    None => errors.push(PlanError::NoHoldingType {
                        site: site.clone(),
                        name: l.name.clone(),
                    }),
                }
            }
            Some(_) => {}
        }
    }
    undeclared_types(desired, live, (&declared_types, holding), out, errors);
}

/// Whether a live custom type is not the declared one.
fn differs(t: &DesiredAccountType, l: &LiveAccountType) -> bool {
    l.description.as_deref().unwrap_or_default() != t.description || l.permissions != t.permissions
}

/// The built-in type with the fewest permissions (then by name): where
/// people wait while their custom type is replaced or go when it is deleted.
fn holding_type(live: &LiveSite) -> Option<&LiveAccountType> {
    live.attrs
        .account_types
        .iter()
        .filter(|t| !t.custom)
        .min_by_key(|t| (t.permissions.len(), name_key(&t.name)))
}

/// The emails of live people of type `t` that `keep` picks, sorted.
fn holders(
    live: &LiveSite,
    t: &LiveAccountType,
    keep: impl Fn(&crate::model::LiveUser) -> bool,
) -> Vec<String> {
    let key = name_key(&t.name);
    let mut emails: Vec<String> = live
        .users
        .iter()
        .filter(|u| u.member_type.as_deref().is_some_and(|m| name_key(m) == key))
        .filter(|u| keep(u))
        .map(|u| u.email.clone())
        .collect();
    emails.sort_by_cached_key(|e| email_key(e));
    emails
}

fn replacement(
    t: &DesiredAccountType,
    l: &LiveAccountType,
    moved: Vec<String>,
    via: &LiveAccountType,
) -> Change {
    let before: BTreeSet<&String> = l.permissions.iter().collect();
    let after: BTreeSet<&String> = t.permissions.iter().collect();
    Change::ReplaceAccountType {
        name: l.name.clone(),
        id: l.id.clone(),
        description: Diff {
            before: l.description.clone().unwrap_or_default(),
            after: t.description.clone(),
        },
        permissions: Membership {
            added: after.difference(&before).map(|p| (*p).clone()).collect(),
            removed: before.difference(&after).map(|p| (*p).clone()).collect(),
            after: t.permissions.clone(),
        },
        moved,
        via: via.name.clone(),
        via_id: via.id.clone(),
    }
}

/// Live custom types the state does not declare: deleted (their people
/// moved to the holding type) or kept, as `unmanaged_account_types` says.
/// A declared person may not keep a type the plan deletes.
fn undeclared_types(
    desired: &DesiredSite,
    live: &LiveSite,
    (declared_types, holding): (&HashMap<String, Option<&str>>, Option<&LiveAccountType>),
    out: &mut AttrPlan,
    errors: &mut Vec<PlanError>,
) {
    let declared: BTreeSet<String> = desired
        .attrs
        .account_types
        .iter()
        .map(|t| name_key(&t.name))
        .collect();
    let setting = desired
        .site
        .sigma_org()
        .map_or(Unmanaged::Keep, |o| o.unmanaged_account_types);
    let mut undeclared: Vec<&LiveAccountType> = live
        .attrs
        .account_types
        .iter()
        .filter(|t| t.custom && !declared.contains(&name_key(&t.name)))
        .collect();
    undeclared.sort_by_cached_key(|t| name_key(&t.name));
    for t in undeclared {
        if setting == Unmanaged::Keep {
            // A state that declares no custom type does not list them.
            if declared.is_empty() {
                continue;
            }
            out.kept.push(Kept {
                kind: ObjectKind::AccountType,
                key: t.name.clone(),
                reason: KeptReason::Unmanaged,
                found_as: None,
            });
            continue;
        }
        let key = name_key(&t.name);
        for u in &desired.users {
            if u.member_type.as_deref().is_some_and(|m| name_key(m) == key) {
                errors.push(PlanError::MemberTypeDeleted {
                    at: desired.attrs.places.member_type(&u.email),
                    site: desired.site.name.clone(),
                    email: u.email.clone(),
                    name: t.name.clone(),
                });
            }
        }
        // People whose declared type is another one move in step 2.
        let moved = holders(live, t, |u| {
            declared_types
                .get(&email_key(&u.email))
                .copied()
                .flatten()
                .is_none()
        });
        let to = match (moved.is_empty(), holding) {
            (true, _) => None,
            (false, Some(h)) => Some((h.name.clone(), h.id.clone())),
            (false, None) => {
                errors.push(PlanError::NoHoldingType {
                    site: desired.site.name.clone(),
                    name: t.name.clone(),
                });
                None
            }
        };
        out.late.push(Change::DeleteAccountType {
            name: t.name.clone(),
            id: t.id.clone(),
            moved,
            to,
        });
    }
}
