//! The user attributes half of a site's plan: attributes created, replaced
//! (the API cannot edit one) or deleted, and the values of each declared
//! person and team. Pure; no I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::attrs::{LiveAttribute, Values, name_key};
use crate::model::{
    AttrTarget, AttrValueChange, Change, DesiredSite, Diff, Kept, KeptReason, KeptValue, LiveSite,
    ObjectKind, Unmanaged, email_key,
};

/// What the attributes add to a site's plan, by step.
#[derive(Default)]
pub(super) struct AttrPlan {
    /// Attributes and account types created or replaced (step 1).
    pub early: Vec<Change>,
    /// Attributes and account types deleted (step 4).
    pub late: Vec<Change>,
    /// Values of people and teams (step 5).
    pub values: Vec<Change>,
    pub kept: Vec<Kept>,
}

/// Plans the attributes of a site whose provider has them and whose live
/// side was read for them.
pub(super) fn plan_attributes(desired: &DesiredSite, live: &LiveSite, out: &mut AttrPlan) {
    if !desired.site.capabilities().attrs.user_attributes || !live.attrs.read {
        return;
    }
    let live_by_key: HashMap<String, &LiveAttribute> = live
        .attrs
        .attributes
        .iter()
        .map(|a| (name_key(&a.name), a))
        .collect();
    let holders = Holders::of(live);
    // Attributes whose live values the values step compares with the
    // state: all but the new ones (a replaced one gets its values again).
    let mut kept_values: HashMap<String, &LiveAttribute> = HashMap::new();
    for a in &desired.attrs.attributes {
        let key = name_key(&a.name);
        match live_by_key.get(&key) {
            None => out.early.push(Change::CreateAttribute {
                name: a.name.clone(),
                description: a.description.clone(),
                default: a.default.clone(),
            }),
            Some(l) if l.description != a.description || l.default != a.default => {
                out.early.push(Change::ReplaceAttribute {
                    name: l.name.clone(),
                    id: l.id.clone(),
                    description: Diff {
                        before: l.description.clone(),
                        after: a.description.clone(),
                    },
                    default: Diff {
                        before: l.default.clone(),
                        after: a.default.clone(),
                    },
                    kept: holders.values_of(l),
                });
                kept_values.insert(key, l);
            }
            Some(l) => {
                kept_values.insert(key, l);
            }
        }
    }
    undeclared_attributes(desired, live, out);
    plan_values(desired, live, &kept_values, out);
}

/// Live attributes the state does not declare: deleted or kept, as the
/// site's `unmanaged_attributes` says.
fn undeclared_attributes(desired: &DesiredSite, live: &LiveSite, out: &mut AttrPlan) {
    let declared: BTreeSet<String> = desired
        .attrs
        .attributes
        .iter()
        .map(|a| name_key(&a.name))
        .collect();
    let setting = desired
        .site
        .sigma_org()
        .map_or(Unmanaged::Keep, |o| o.unmanaged_attributes);
    let mut undeclared: Vec<&LiveAttribute> = live
        .attrs
        .attributes
        .iter()
        .filter(|a| !declared.contains(&name_key(&a.name)))
        .collect();
    undeclared.sort_by_cached_key(|a| name_key(&a.name));
    for a in undeclared {
        match setting {
            Unmanaged::Remove | Unmanaged::Delete => out.late.push(Change::DeleteAttribute {
                name: a.name.clone(),
                id: a.id.clone(),
                people: a.users.len(),
                teams: a.teams.len(),
                tenants: a.tenants.len(),
            }),
            // A state that declares no attribute does not list them.
            Unmanaged::Keep if declared.is_empty() => {}
            Unmanaged::Keep => out.kept.push(Kept {
                kind: ObjectKind::Attribute,
                key: a.name.clone(),
                reason: KeptReason::Unmanaged,
                found_as: None,
            }),
        }
    }
}

/// The live people and teams of a site by ID, with the email or name a
/// plan shows them by.
struct Holders<'a> {
    users: HashMap<&'a str, &'a str>,
    teams: HashMap<&'a str, &'a str>,
}

impl<'a> Holders<'a> {
    fn of(live: &'a LiveSite) -> Self {
        let users = live
            .users
            .iter()
            .filter_map(|u| Some((u.id.as_deref()?, u.email.as_str())))
            .collect();
        let teams = live
            .groups
            .iter()
            .filter_map(|g| Some((g.id.as_deref()?, g.name.as_str())))
            .collect();
        Holders { users, teams }
    }

    /// Every value `l` holds, as a replacement sets it again: people first,
    /// then teams, then tenants, each sorted by email, name or ID. A holder
    /// the site did not name is shown by its ID: no value is left out.
    fn values_of(&self, l: &LiveAttribute) -> Vec<KeptValue> {
        let empty = HashMap::new();
        let side = |values: &BTreeMap<String, String>, names: &HashMap<&str, &str>, target| {
            let mut kept: Vec<KeptValue> = values
                .iter()
                .map(|(id, value)| KeptValue {
                    target,
                    key: names
                        .get(id.as_str())
                        .map_or(id.as_str(), |n| n)
                        .to_string(),
                    id: id.clone(),
                    value: value.clone(),
                })
                .collect();
            kept.sort_by(|a, b| a.key.cmp(&b.key));
            kept
        };
        let mut kept = side(&l.users, &self.users, AttrTarget::User);
        kept.extend(side(&l.teams, &self.teams, AttrTarget::Team));
        kept.extend(side(&l.tenants, &empty, AttrTarget::Tenant));
        kept
    }
}

/// Live values by holder ID: (attribute name as declared, value).
fn values_by_holder<'a>(
    attrs: &HashMap<String, &'a LiveAttribute>,
    desired: &'a DesiredSite,
    team: bool,
) -> HashMap<&'a str, Vec<(&'a str, &'a str)>> {
    let mut by_holder: HashMap<&str, Vec<(&str, &str)>> = HashMap::new();
    for a in &desired.attrs.attributes {
        let Some(l) = attrs.get(&name_key(&a.name)) else {
            continue;
        };
        let values = if team { &l.teams } else { &l.users };
        for (holder, value) in values {
            by_holder
                .entry(holder.as_str())
                .or_default()
                .push((a.name.as_str(), value.as_str()));
        }
    }
    by_holder
}

/// The value changes that make `live` (by attribute) into `wanted`.
fn value_changes(live: &[(&str, &str)], wanted: Option<&Values>) -> Vec<AttrValueChange> {
    let before: BTreeMap<&str, &str> = live.iter().copied().collect();
    let empty = Values::new();
    let wanted = wanted.unwrap_or(&empty);
    let names: BTreeSet<&str> = before
        .keys()
        .copied()
        .chain(wanted.keys().map(String::as_str))
        .collect();
    names
        .into_iter()
        .filter_map(|name| {
            let (b, a) = (
                before.get(name).copied(),
                wanted.get(name).map(String::as_str),
            );
            (b != a).then(|| AttrValueChange {
                attribute: name.to_string(),
                before: b.map(str::to_string),
                after: a.map(str::to_string),
            })
        })
        .collect()
}

/// The values of every declared person and team on the site.
fn plan_values(
    desired: &DesiredSite,
    live: &LiveSite,
    attrs: &HashMap<String, &LiveAttribute>,
    out: &mut AttrPlan,
) {
    let p = desired.site.provider;
    let user_values = values_by_holder(attrs, desired, false);
    let team_values = values_by_holder(attrs, desired, true);
    let live_users: HashMap<String, &crate::model::LiveUser> = live
        .users
        .iter()
        .map(|u| (email_key(&u.email), u))
        .collect();
    let mut users: Vec<&crate::model::DesiredUser> = desired.users.iter().collect();
    users.sort_by_cached_key(|u| email_key(&u.email));
    for u in users {
        let found = std::iter::once(&u.email)
            .chain(&u.previous_emails)
            .find_map(|e| live_users.get(&email_key(e)));
        let id = found.and_then(|l| l.id.as_deref());
        if found.is_none() && !u.active {
            continue;
        }
        let wanted = desired.attrs.users.get(&email_key(&u.email));
        out.values.extend(set_values(
            AttrTarget::User,
            &u.email,
            id,
            &user_values,
            wanted,
        ));
    }
    let live_teams: HashMap<String, &crate::model::LiveGroup> = live
        .groups
        .iter()
        .map(|g| (p.group_key(&g.name), g))
        .collect();
    let mut groups: Vec<&crate::model::DesiredGroup> = desired.groups.iter().collect();
    groups.sort_by_cached_key(|g| p.group_key(&g.name));
    for g in groups {
        let found = std::iter::once(&g.name)
            .chain(&g.previous_names)
            .find_map(|n| live_teams.get(&p.group_key(n)));
        let id = found.and_then(|t| t.id.as_deref());
        let wanted = desired.attrs.groups.get(&g.name);
        out.values.extend(set_values(
            AttrTarget::Team,
            &g.name,
            id,
            &team_values,
            wanted,
        ));
    }
}

/// The change that sets the values of the person or team `key` (live as
/// `id`, if found) to `wanted`, when they differ from its values in `live`.
fn set_values(
    target: AttrTarget,
    key: &str,
    id: Option<&str>,
    live: &HashMap<&str, Vec<(&str, &str)>>,
    wanted: Option<&Values>,
) -> Option<Change> {
    let live_values = id.and_then(|id| live.get(id)).map_or(&[][..], |v| v);
    let values = value_changes(live_values, wanted);
    (!values.is_empty()).then(|| Change::SetAttributes {
        target,
        key: key.to_string(),
        id: id.map(str::to_string),
        values,
    })
}
