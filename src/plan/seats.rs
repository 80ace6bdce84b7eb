//! Seats: how many people hold each account type (or, where people have
//! none, each access level) before and after a plan, and the site's
//! budget for each. Pure: counted from the live state and the changes.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::{Change, PlanError};
use crate::attrs::name_key;
use crate::model::{Access, DesiredSite, LiveSite, Site, email_key};
use crate::provider::capabilities::SeatBasis;

/// The label of people without an account type or access level.
pub const NONE: &str = "none";

/// One account type's (or access level's) seats before and after the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SeatCount {
    pub kind: String,
    pub before: usize,
    pub after: usize,
    /// The site's `seats` budget for it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<u64>,
}

impl SeatCount {
    /// Whether the plan leaves more seats than the budget allows.
    pub fn over_budget(&self) -> bool {
        self.budget.is_some_and(|b| self.after as u64 > b)
    }

    /// `Creator 40 → 43 (+3)`
    pub fn describe(&self) -> String {
        let delta = self.after as i64 - self.before as i64;
        let change = match delta {
            0 => String::new(),
            d if d > 0 => format!(" (+{d})"),
            d => format!(" (−{})", -d),
        };
        format!("{} {} → {}{change}", self.kind, self.before, self.after)
    }
}

/// Every account type `seats` budgets is one the organisation has or the
/// state declares: a misspelt one would count nobody and never hold. Sigma's
/// built-in names vary by organisation, so only the live site can tell.
pub(super) fn check_names(desired: &DesiredSite, live: &LiveSite, errors: &mut Vec<PlanError>) {
    let site = &desired.site;
    if SeatBasis::of(site.capabilities()) != Some(SeatBasis::AccountType)
        || live.account_types.is_empty()
    {
        return;
    }
    let declared: Vec<&str> = desired
        .attrs
        .account_types
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    let known = |kind: &str| {
        let key = name_key(kind);
        live.account_types
            .iter()
            .map(String::as_str)
            .chain(declared.iter().copied())
            .any(|t| name_key(t) == key)
    };
    for kind in site.seats.keys().filter(|k| !known(k)) {
        let declared = if declared.is_empty() {
            String::new()
        } else {
            format!(" (declared in [[account_types]]: {})", declared.join(", "))
        };
        errors.push(PlanError::UnknownSeatType {
            place: site.seats.place(kind).unwrap_or("state").to_string(),
            site: site.name.clone(),
            name: kind.clone(),
            valid: live.account_types.join(", "),
            declared,
        });
    }
}

/// An active person as far as seats go.
#[derive(Clone)]
struct Holder {
    member_type: Option<String>,
    groups: Vec<String>,
    active: bool,
}

/// The seats of a site before and after `changes`, one row per account
/// type or access level that is held or budgeted; empty where the
/// provider has neither.
pub fn count(site: &Site, live: &LiveSite, changes: &[Change]) -> Vec<SeatCount> {
    let Some(basis) = SeatBasis::of(site.capabilities()) else {
        return Vec::new();
    };
    let mut people: HashMap<String, Holder> = live
        .users
        .iter()
        .map(|u| {
            let holder = Holder {
                member_type: u.member_type.clone(),
                groups: u.groups.clone(),
                active: u.active,
            };
            (email_key(&u.email), holder)
        })
        .collect();
    let mut access: HashMap<String, Access> = live
        .groups
        .iter()
        .filter_map(|g| {
            Some((
                site.provider.group_key(&g.name),
                Access::parse(g.access.as_deref()?)?,
            ))
        })
        .collect();
    let tally = |people: &HashMap<String, Holder>, access: &HashMap<String, Access>| {
        let mut t: BTreeMap<String, usize> = BTreeMap::new();
        for p in people.values().filter(|p| p.active) {
            *t.entry(seat_of(site, live, basis, p, access)).or_default() += 1;
        }
        t
    };
    let before = tally(&people, &access);
    for change in changes {
        apply_to_groups(site, &mut access, change);
        apply_to_people(&mut people, change);
    }
    let after = tally(&people, &access);
    rows(site, &before, &after)
}

fn rows(
    site: &Site,
    before: &BTreeMap<String, usize>,
    after: &BTreeMap<String, usize>,
) -> Vec<SeatCount> {
    let mut kinds: Vec<&String> = before.keys().chain(after.keys()).collect();
    let budgeted: Vec<&String> = site
        .seats
        .keys()
        .filter(|k| !kinds.iter().any(|h| h.eq_ignore_ascii_case(k)))
        .collect();
    kinds.extend(budgeted);
    kinds.sort_by_key(|k| k.to_lowercase());
    kinds.dedup();
    kinds
        .into_iter()
        .map(|k| SeatCount {
            kind: k.clone(),
            before: before.get(k).copied().unwrap_or(0),
            after: after.get(k).copied().unwrap_or(0),
            budget: site
                .seats
                .iter()
                .find(|(b, _)| b.eq_ignore_ascii_case(k))
                .map(|(_, n)| *n),
        })
        .collect()
}

/// What seat a person holds: their account type as the site names it, or
/// the highest access of their groups.
fn seat_of(
    site: &Site,
    live: &LiveSite,
    basis: SeatBasis,
    p: &Holder,
    access: &HashMap<String, Access>,
) -> String {
    match basis {
        SeatBasis::AccountType => match &p.member_type {
            Some(t) => live
                .account_types
                .iter()
                .find(|a| a.eq_ignore_ascii_case(t))
                .unwrap_or(t)
                .clone(),
            None => NONE.to_string(),
        },
        // Everyone is in the implicit group (Periscope's All Users),
        // whether the list says so or not.
        SeatBasis::AccessLevel => p
            .groups
            .iter()
            .map(String::as_str)
            .chain(site.capabilities().implicit_group)
            .filter_map(|g| access.get(&site.provider.group_key(g)))
            .max()
            .map_or(NONE.to_string(), |a| a.as_str().to_string()),
    }
}

fn apply_to_groups(site: &Site, access: &mut HashMap<String, Access>, change: &Change) {
    let key = |n: &str| site.provider.group_key(n);
    match change {
        Change::CreateGroup {
            name,
            access: Some(a),
            ..
        } => {
            access.insert(key(name), *a);
        }
        Change::UpdateGroup {
            live_name,
            name,
            access: level,
            ..
        } => {
            let old = access.remove(&key(live_name));
            let new_level = level.as_ref().and_then(|d| Access::parse(&d.after)).or(old);
            let new_name = name.as_ref().map_or(live_name, |n| &n.after);
            if let Some(a) = new_level {
                access.insert(key(new_name), a);
            }
        }
        Change::DeleteGroup { name, .. } => {
            access.remove(&key(name));
        }
        _ => {}
    }
}

fn apply_to_people(people: &mut HashMap<String, Holder>, change: &Change) {
    match change {
        Change::CreateUser {
            email,
            member_type,
            groups,
            ..
        } => {
            let holder = Holder {
                member_type: member_type.clone(),
                groups: groups.clone(),
                active: true,
            };
            people.insert(email_key(email), holder);
        }
        Change::UpdateUser {
            email,
            renamed_from,
            member_type,
            groups,
            reactivate,
            ..
        } => {
            let old = email_key(renamed_from.as_ref().unwrap_or(email));
            let mut holder = people.remove(&old).unwrap_or(Holder {
                member_type: member_type.as_ref().map(|d| d.before.clone()),
                groups: Vec::new(),
                active: true,
            });
            holder.active |= *reactivate;
            if let Some(d) = member_type {
                holder.member_type = Some(d.after.clone());
            }
            if let Some(m) = groups {
                holder.groups.clone_from(&m.after);
            }
            people.insert(email_key(email), holder);
        }
        Change::DeactivateUser { email, .. } | Change::DeleteUser { email } => {
            if let Some(p) = people.get_mut(&email_key(email)) {
                p.active = false;
            }
        }
        _ => {}
    }
}
