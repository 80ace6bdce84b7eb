//! Seats: how many people hold each account type (or, where people have
//! none, each access level) before and after a plan, and the site's
//! budget for each. Pure: counted from the live state and the changes.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::{Change, PlanError};
use crate::attrs::name_key;
use crate::model::{Access, DesiredSite, LiveSite, LiveUser, Site, email_key};
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

/// An active person as far as seats go: a live user as read, or a person
/// as a change leaves them.
#[derive(Clone)]
struct Holder {
    member_type: Option<String>,
    groups: Vec<String>,
    active: bool,
}

impl Holder {
    fn of(u: &LiveUser) -> Holder {
        Holder {
            member_type: u.member_type.clone(),
            groups: u.groups.clone(),
            active: u.active,
        }
    }
}

/// The people as the changes leave them: the live users, by email key
/// (`live_users`, positions in `live.users`), under the few the changes
/// touch. A key the changes touched holds what they left there: a person,
/// or nobody (an email renamed away).
struct People<'a> {
    live: &'a LiveSite,
    live_users: &'a HashMap<String, usize>,
    touched: HashMap<String, Option<Holder>>,
}

impl People<'_> {
    /// The person at `key` now.
    fn get(&self, key: &str) -> Option<Holder> {
        match self.touched.get(key) {
            Some(touched) => touched.clone(),
            None => self
                .live_users
                .get(key)
                .map(|i| Holder::of(&self.live.users[*i])),
        }
    }

    /// Everyone, each once: the live users the changes left alone, then
    /// the people the changes touched.
    fn each(&self) -> impl Iterator<Item = Seated<'_>> {
        let untouched = self
            .live_users
            .iter()
            .filter(|(key, _)| !self.touched.contains_key(*key))
            .map(|(_, i)| Seated::of_live(&self.live.users[*i]));
        let touched = self.touched.values().flatten().map(Seated::of_holder);
        untouched.chain(touched)
    }
}

/// What a seat is worked out from, borrowed.
struct Seated<'a> {
    member_type: Option<&'a str>,
    groups: &'a [String],
    active: bool,
}

impl<'a> Seated<'a> {
    fn of_live(u: &'a LiveUser) -> Self {
        Seated {
            member_type: u.member_type.as_deref(),
            groups: &u.groups,
            active: u.active,
        }
    }

    fn of_holder(h: &'a Holder) -> Self {
        Seated {
            member_type: h.member_type.as_deref(),
            groups: &h.groups,
            active: h.active,
        }
    }
}

/// The seats of a site before and after `changes`, one row per account
/// type or access level that is held or budgeted; empty where the
/// provider has neither. `live_users` indexes `live.users` by email key.
/// Only the people the changes touch are copied.
pub(crate) fn count(
    site: &Site,
    live: &LiveSite,
    live_users: &HashMap<String, usize>,
    changes: &[Change],
) -> Vec<SeatCount> {
    let Some(basis) = SeatBasis::of(site.capabilities()) else {
        return Vec::new();
    };
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
    let mut people = People {
        live,
        live_users,
        touched: HashMap::new(),
    };
    let before = tally(site, live, basis, people.each(), &access);
    for change in changes {
        apply_to_groups(site, &mut access, change);
        apply_to_people(&mut people, change);
    }
    let after = tally(site, live, basis, people.each(), &access);
    rows(site, &before, &after)
}

/// How many active people hold each seat.
fn tally<'a>(
    site: &Site,
    live: &'a LiveSite,
    basis: SeatBasis,
    people: impl Iterator<Item = Seated<'a>>,
    access: &HashMap<String, Access>,
) -> BTreeMap<String, usize> {
    // A group's access level, worked out once per spelling of its name.
    let mut levels: HashMap<&str, Option<Access>> = HashMap::new();
    let mut t: BTreeMap<String, usize> = BTreeMap::new();
    for p in people.filter(|p| p.active) {
        let seat = seat_of(site, live, basis, &p, |g| {
            *levels
                .entry(g)
                .or_insert_with(|| access.get(&site.provider.group_key(g)).copied())
        });
        match t.get_mut(seat) {
            Some(n) => *n += 1,
            None => {
                t.insert(seat.to_string(), 1);
            }
        }
    }
    t
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
/// the highest access of their groups (`level` gives a group's).
fn seat_of<'a>(
    site: &Site,
    live: &'a LiveSite,
    basis: SeatBasis,
    p: &Seated<'a>,
    level: impl FnMut(&'a str) -> Option<Access>,
) -> &'a str {
    match basis {
        SeatBasis::AccountType => match p.member_type {
            Some(t) => live
                .account_types
                .iter()
                .find(|a| a.eq_ignore_ascii_case(t))
                .map_or(t, String::as_str),
            None => NONE,
        },
        // Everyone is in the implicit group (Periscope's All Users),
        // whether the list says so or not.
        SeatBasis::AccessLevel => p
            .groups
            .iter()
            .map(String::as_str)
            .chain(site.capabilities().implicit_group)
            .filter_map(level)
            .max()
            .map_or(NONE, Access::as_str),
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

fn apply_to_people(people: &mut People<'_>, change: &Change) {
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
            people.touched.insert(email_key(email), Some(holder));
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
            let mut holder = people.get(&old).unwrap_or(Holder {
                member_type: member_type.as_ref().map(|d| d.before.clone()),
                groups: Vec::new(),
                active: true,
            });
            people.touched.insert(old, None);
            holder.active |= *reactivate;
            if let Some(d) = member_type {
                holder.member_type = Some(d.after.clone());
            }
            if let Some(m) = groups {
                holder.groups.clone_from(&m.after);
            }
            people.touched.insert(email_key(email), Some(holder));
        }
        Change::DeactivateUser { email, .. } | Change::DeleteUser { email } => {
            let key = email_key(email);
            if let Some(mut p) = people.get(&key) {
                p.active = false;
                people.touched.insert(key, Some(p));
            }
        }
        _ => {}
    }
}
