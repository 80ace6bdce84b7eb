//! Privileged changes: those that give someone admin power or change who
//! holds an administrator's account (a person created as an admin, an
//! admin's email renamed, a person made admin, an admin reactivated, a
//! custom account type gaining admin-level permissions with people on it).
//! Each is named in the plan with the power involved; apply refuses it
//! unless the state names the person in `allow_privileged`. Which powers are
//! admin is the provider's knowledge (`admin_rule`, `admin_permissions`).
//! Pure; no I/O.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

use serde::Serialize;

use super::Change;
use crate::attrs::name_key;
use crate::model::{LiveSite, LiveUser, Site, email_key};
use crate::provider::Capabilities;
use crate::provider::capabilities::{AdminPermissions, AdminRule, AdminVia};

/// An admin power: the group or account type that gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct AdminPower {
    pub via: AdminVia,
    /// The group's or the account type's name.
    pub name: String,
    /// A custom account type's admin-level permissions: those only the
    /// built-in admin account type has.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admin_permissions: Vec<String>,
}

impl fmt::Display for AdminPower {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.via {
            AdminVia::Group => write!(f, "group {}", self.name)?,
            AdminVia::AccountType => write!(f, "account type {}", self.name)?,
        }
        if !self.admin_permissions.is_empty() {
            write!(
                f,
                " (admin-level permissions: {})",
                self.admin_permissions.join(", ")
            )?;
        }
        Ok(())
    }
}

/// How a change gives someone admin power.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum PrivilegedHow {
    /// A person created with admin power.
    Created,
    /// An administrator's email changes: whoever holds the new address
    /// holds the account (and its documents).
    Renamed { from: String },
    /// A person given admin power they did not have.
    Promoted,
    /// A deactivated administrator made active again.
    Reactivated,
    /// The person's custom account type gains admin-level permissions.
    AccountTypeGains,
}

/// One privileged change for one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Privileged {
    /// The index in the site's `changes` of the change that does it.
    pub change: usize,
    /// Who holds the power once the plan ran.
    pub email: String,
    #[serde(flatten)]
    pub how: PrivilegedHow,
    /// The admin power involved.
    pub power: AdminPower,
    /// Whether the site's `allow_privileged` names the person.
    pub acknowledged: bool,
}

impl fmt::Display for Privileged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let power = &self.power;
        match &self.how {
            PrivilegedHow::Created => {
                write!(f, "{} is created with admin power: {power}", self.email)
            }
            PrivilegedHow::Renamed { from } => write!(
                f,
                "{} takes over the administrator account of {from} (email renamed): {power}",
                self.email
            ),
            PrivilegedHow::Promoted => write!(f, "{} gains admin power: {power}", self.email),
            PrivilegedHow::Reactivated => {
                write!(f, "{} is reactivated with admin power: {power}", self.email)
            }
            PrivilegedHow::AccountTypeGains => write!(
                f,
                "{} gains admin power as their account type gains admin-level permissions: {power}",
                self.email
            ),
        }
    }
}

/// What the plan of one site gives admin power to, and the people
/// `allow_privileged` names that it does not.
#[derive(Debug, Default)]
pub(super) struct Privileges {
    pub changes: Vec<Privileged>,
    pub unneeded: Vec<String>,
}

/// Custom account types' permissions by name key, and which permissions
/// are admin-level.
struct Powers<'a> {
    caps: &'a Capabilities,
    admin_level: BTreeSet<&'a str>,
    before: HashMap<String, &'a [String]>,
    after: HashMap<String, &'a [String]>,
}

impl<'a> Powers<'a> {
    fn new(caps: &'a Capabilities, live: &'a LiveSite, changes: &'a [Change]) -> Self {
        let custom = live.attrs.account_types.iter().filter(|t| t.custom);
        let before: HashMap<String, &[String]> = custom
            .map(|t| (name_key(&t.name), t.permissions.as_slice()))
            .collect();
        let mut after = before.clone();
        for c in changes {
            match c {
                Change::CreateAccountType {
                    name, permissions, ..
                } => {
                    after.insert(name_key(name), permissions.as_slice());
                }
                Change::ReplaceAccountType {
                    name, permissions, ..
                } => {
                    after.insert(name_key(name), permissions.after.as_slice());
                }
                Change::DeleteAccountType { name, .. } => {
                    after.remove(&name_key(name));
                }
                _ => {}
            }
        }
        Powers {
            caps,
            admin_level: admin_level(caps, live),
            before,
            after,
        }
    }

    /// The admin power of someone in `groups` of account type
    /// `member_type`, before the plan or after it.
    fn of(&self, groups: &[String], member_type: Option<&str>, after: bool) -> Option<AdminPower> {
        if self.caps.is_admin(groups, member_type) {
            let (via, name) = self.caps.admin_power()?;
            let name = match via {
                AdminVia::AccountType => member_type.unwrap_or(name).to_string(),
                AdminVia::Group => name.to_string(),
            };
            return Some(AdminPower {
                via,
                name,
                admin_permissions: Vec::new(),
            });
        }
        let t = member_type?;
        let types = if after { &self.after } else { &self.before };
        let admin_permissions: Vec<String> = types
            .get(&name_key(t))?
            .iter()
            .filter(|p| self.admin_level.contains(p.as_str()))
            .cloned()
            .collect();
        (!admin_permissions.is_empty()).then(|| AdminPower {
            via: AdminVia::AccountType,
            name: t.to_string(),
            admin_permissions,
        })
    }
}

/// The permissions only the built-in admin account type holds, where the
/// provider reads admin power off permissions.
fn admin_level<'a>(caps: &Capabilities, live: &'a LiveSite) -> BTreeSet<&'a str> {
    let (AdminPermissions::HeldOnlyByAdminType, AdminRule::AccountType(admin)) =
        (caps.admin_permissions, caps.admin_rule)
    else {
        return BTreeSet::new();
    };
    let builtin = live.attrs.account_types.iter().filter(|t| !t.custom);
    let (admins, others): (Vec<_>, Vec<_>) =
        builtin.partition(|t| name_key(&t.name) == name_key(admin));
    let others: HashSet<&str> = others
        .iter()
        .flat_map(|t| t.permissions.iter().map(String::as_str))
        .collect();
    admins
        .iter()
        .flat_map(|t| t.permissions.iter().map(String::as_str))
        .filter(|p| !others.contains(p))
        .collect()
}

/// The live users by email key, through the plan's index of them.
struct LiveUsers<'a> {
    live: &'a LiveSite,
    /// Positions in `live.users`, by email key.
    index: &'a HashMap<String, usize>,
}

impl<'a> LiveUsers<'a> {
    fn get(&self, key: &str) -> Option<&'a LiveUser> {
        self.index.get(key).map(|i| &self.live.users[*i])
    }
}

/// The privileged changes of a site's plan, each acknowledged or not.
/// `live_users` indexes `live.users` by email key.
pub(super) fn check(
    site: &Site,
    live: &LiveSite,
    live_users: &HashMap<String, usize>,
    changes: &[Change],
) -> Privileges {
    let powers = Powers::new(site.capabilities(), live, changes);
    let users = LiveUsers {
        live,
        index: live_users,
    };
    let mut found = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        match c {
            Change::CreateUser {
                email,
                groups,
                member_type,
                ..
            } => {
                if let Some(power) = powers.of(groups, member_type.as_deref(), true) {
                    found.push(entry(i, email, PrivilegedHow::Created, power));
                }
            }
            Change::UpdateUser { .. } => found.extend(updated(i, c, &users, &powers)),
            Change::ReplaceAccountType { moved, .. } => {
                found.extend(type_gains(i, c, moved, &users, &powers));
            }
            _ => {}
        }
    }
    acknowledge(site, found)
}

fn entry(change: usize, email: &str, how: PrivilegedHow, power: AdminPower) -> Privileged {
    Privileged {
        change,
        email: email.to_string(),
        how,
        power,
        acknowledged: false,
    }
}

/// An update that leaves an active person with admin power they did not
/// have, or moves an administrator's account to another email, or
/// reactivates one.
fn updated(i: usize, c: &Change, users: &LiveUsers, powers: &Powers) -> Option<Privileged> {
    let Change::UpdateUser {
        email,
        renamed_from,
        member_type,
        reactivate,
        groups,
        ..
    } = c
    else {
        return None;
    };
    let live = users.get(&email_key(renamed_from.as_deref().unwrap_or(email)))?;
    let before = powers.of(&live.groups, live.member_type.as_deref(), false);
    let groups_after = groups.as_ref().map_or(&live.groups, |m| &m.after);
    let type_after = member_type
        .as_ref()
        .map(|d| d.after.as_str())
        .or(live.member_type.as_deref());
    let after = powers.of(groups_after, type_after, true);
    if !(live.active || *reactivate) {
        return None;
    }
    // An administrator's account moved to another email is privileged even
    // when the same change lowers its power: the new address still gets the
    // account and its documents.
    let (how, power) = match (renamed_from, before, *reactivate) {
        (Some(from), before, _) => (
            PrivilegedHow::Renamed { from: from.clone() },
            after.or(before)?,
        ),
        (None, None, _) => (PrivilegedHow::Promoted, after?),
        (None, Some(_), true) => (PrivilegedHow::Reactivated, after?),
        (None, Some(_), false) => return None,
    };
    Some(entry(i, email, how, power))
}

/// A custom account type that was not admin-level and becomes so: every
/// active person moved back onto it gains the power.
fn type_gains(
    i: usize,
    c: &Change,
    moved: &[String],
    users: &LiveUsers,
    powers: &Powers,
) -> Vec<Privileged> {
    let name = c.key();
    let none: &[String] = &[];
    if powers.of(none, Some(name), false).is_some() {
        return Vec::new();
    }
    let Some(power) = powers.of(none, Some(name), true) else {
        return Vec::new();
    };
    moved
        .iter()
        .filter(|e| users.get(&email_key(e)).is_some_and(|u| u.active))
        .map(|e| entry(i, e, PrivilegedHow::AccountTypeGains, power.clone()))
        .collect()
}

/// Marks each change acknowledged when `allow_privileged` names its
/// person, and lists the names it does not need.
fn acknowledge(site: &Site, mut changes: Vec<Privileged>) -> Privileges {
    let allowed: HashSet<String> = site
        .safety
        .allow
        .privileged
        .iter()
        .map(|e| email_key(e))
        .collect();
    for p in &mut changes {
        p.acknowledged = allowed.contains(&email_key(&p.email));
    }
    let needed: HashSet<String> = changes.iter().map(|p| email_key(&p.email)).collect();
    let unneeded = site
        .safety
        .allow
        .privileged
        .iter()
        .filter(|e| !needed.contains(&email_key(e)))
        .cloned()
        .collect();
    Privileges { changes, unneeded }
}
