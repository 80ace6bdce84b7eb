//! Effective access: what a person ends up with on a site (account type or
//! access level, groups), each with the reasons they have it (directly,
//! or through a group). Pure: computed from the declared site.
//!
//! Extension point (issue 14): workspace and connection grants and user
//! attribute values are further [`HeldKind`]s (added at the end of the
//! enum), pushed by their own function into [`EffectiveAccess::held`]
//! from [`Declared::of`], each with its [`Source`]s.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::attrs::{Values, name_key};
use crate::model::access::{AccessKind, DesiredAccessObject, DesiredGrant, Grantee};
use crate::model::{Access, DesiredGroup, DesiredSite, DesiredUser, email_key};
use crate::provider::capabilities::AdminVia;
use crate::provider::capabilities::SeatBasis;

/// Why a person has something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "via", content = "group", rename_all = "snake_case")]
pub enum Source {
    /// Declared on the person.
    Direct,
    /// Through a group (team) the person is in.
    Through(String),
}

impl Source {
    pub fn describe(&self) -> String {
        match self {
            Source::Direct => "direct".into(),
            Source::Through(g) => format!("through {g}"),
        }
    }
}

/// What kind of thing a person holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HeldKind {
    AccountType,
    AccessLevel,
    Group,
    /// A permission on a Sigma workspace (`view on Finance`).
    WorkspaceGrant,
    /// A permission on a Sigma connection (`usage on Snowflake`).
    ConnectionGrant,
    /// A user attribute's value (`region = "West"`).
    Attribute,
    /// Admin power (`role administrator`), with what gives it.
    Role,
}

impl HeldKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HeldKind::AccountType => "account type",
            HeldKind::AccessLevel => "access level",
            HeldKind::Group => "group",
            HeldKind::WorkspaceGrant => "workspace",
            HeldKind::ConnectionGrant => "connection",
            HeldKind::Attribute => "attribute",
            HeldKind::Role => "role",
        }
    }
}

/// One thing a person holds, and every reason they hold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Held {
    pub kind: HeldKind,
    pub value: String,
    pub sources: Vec<Source>,
    /// The last day, where the state says one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    /// What a reviewer should know about how the site resolves it (an
    /// attribute value that wins over, or competes with, others).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Held {
    /// `access level sql: through Analysts, through Engineering`
    pub fn describe(&self) -> String {
        let sources: Vec<String> = self.sources.iter().map(Source::describe).collect();
        let until = self
            .until
            .map(|d| format!(", until {d}"))
            .unwrap_or_default();
        let note = self
            .note
            .as_ref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        format!(
            "{} {}: {}{until}{note}",
            self.kind.as_str(),
            self.value,
            sources.join(", ")
        )
    }
}

/// What one person ends up with on one site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct EffectiveAccess {
    pub email: String,
    /// The person's own last day, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    pub held: Vec<Held>,
}

/// The declared people and groups of a site by key, so looking up many
/// people is not a scan each.
pub struct Declared<'a> {
    site: &'a DesiredSite,
    users: HashMap<String, &'a DesiredUser>,
    groups: HashMap<String, &'a DesiredGroup>,
    /// Grants by grantee key ([`Grantee::key`]).
    grants: HashMap<(u8, String), Vec<GrantOf<'a>>>,
    /// Attribute values of people (by email key) and teams (by group key).
    person_values: HashMap<String, &'a Values>,
    team_values: HashMap<String, &'a Values>,
}

/// One declared grant, seen from its grantee.
#[derive(Clone, Copy)]
struct GrantOf<'a> {
    kind: HeldKind,
    on: AccessKind,
    object: &'a str,
    grant: &'a DesiredGrant,
}

impl<'a> Declared<'a> {
    pub fn new(site: &'a DesiredSite) -> Self {
        let p = site.site.provider;
        Declared {
            site,
            users: site
                .users
                .iter()
                .map(|u| (email_key(&u.email), u))
                .collect(),
            groups: site
                .groups
                .iter()
                .map(|g| (p.group_key(&g.name), g))
                .collect(),
            grants: grants_by_grantee(site),
            person_values: site
                .attrs
                .users
                .iter()
                .map(|(e, v)| (email_key(e), v))
                .collect(),
            team_values: site
                .attrs
                .groups
                .iter()
                .map(|(g, v)| (p.group_key(g), v))
                .collect(),
        }
    }

    /// What `email` ends up with (declared, after expiry), or None when
    /// the site does not declare them.
    pub fn of(&self, email: &str) -> Option<EffectiveAccess> {
        let user = *self.users.get(&email_key(email))?;
        let mut held = Vec::new();
        held.extend(self.account(user));
        held.extend(self.admin_role(user));
        held.extend(groups(user));
        held.extend(self.grants_of(user));
        held.extend(self.attributes_of(user));
        Some(EffectiveAccess {
            email: user.email.clone(),
            until: user.expires,
            held,
        })
    }

    /// The account type (declared on the person) or the access level (the
    /// highest of the person's groups, through each group that gives it).
    fn account(&self, user: &DesiredUser) -> Option<Held> {
        match SeatBasis::of(self.site.site.capabilities())? {
            SeatBasis::AccountType => {
                let value = user.member_type.clone()?;
                // A custom type declared in the state: what it allows.
                let note = self
                    .site
                    .attrs
                    .account_types
                    .iter()
                    .find(|t| name_key(&t.name) == name_key(&value))
                    .map(|t| format!("permissions: {}", t.permissions.join(", ")));
                Some(Held {
                    kind: HeldKind::AccountType,
                    value,
                    sources: vec![Source::Direct],
                    until: None,
                    note,
                })
            }
            SeatBasis::AccessLevel => {
                let p = self.site.site.provider;
                let levels: Vec<(&String, Access)> = user
                    .groups
                    .iter()
                    .filter_map(|g| Some((g, self.groups.get(&p.group_key(g))?.access?)))
                    .collect();
                let top = levels.iter().map(|(_, a)| *a).max()?;
                Some(Held {
                    kind: HeldKind::AccessLevel,
                    value: top.as_str().to_string(),
                    sources: levels
                        .iter()
                        .filter(|(_, a)| *a == top)
                        .map(|(g, _)| Source::Through((*g).clone()))
                        .collect(),
                    until: None,
                    note: None,
                })
            }
        }
    }
}

impl Declared<'_> {
    /// The administrator role, where the provider's admin rule gives it to
    /// the person (its account type or a group).
    fn admin_role(&self, user: &DesiredUser) -> Option<Held> {
        let caps = self.site.site.capabilities();
        if !caps.is_admin(&user.groups, user.member_type.as_deref()) {
            return None;
        }
        let (via, name) = caps.admin_power()?;
        let (sources, note) = match via {
            AdminVia::Group => {
                let p = self.site.site.provider;
                let group = user.groups.iter().find(|g| p.same_group(g, name))?;
                (vec![Source::Through(group.clone())], None)
            }
            AdminVia::AccountType => (
                vec![Source::Direct],
                Some(format!("account type {}", user.member_type.as_deref()?)),
            ),
        };
        Some(role(sources, note))
    }
}

fn role(sources: Vec<Source>, note: Option<String>) -> Held {
    Held {
        kind: HeldKind::Role,
        value: "administrator".into(),
        sources,
        until: None,
        note,
    }
}

/// Adds the administrator role to each person a privileged change gives
/// admin power (a custom account type's admin-level permissions only the
/// live site shows), listing them when no other change did.
pub fn with_admin_power(
    site: &DesiredSite,
    effective: &mut Vec<EffectiveAccess>,
    privileged: &[super::Privileged],
) {
    // The index of the declared people is built only when it is needed.
    let mut declared = None;
    for p in privileged {
        let key = email_key(&p.email);
        let at = match effective.iter().position(|e| email_key(&e.email) == key) {
            Some(at) => at,
            None => match declared
                .get_or_insert_with(|| Declared::new(site))
                .of(&p.email)
            {
                Some(e) => {
                    effective.push(e);
                    effective.len() - 1
                }
                None => continue,
            },
        };
        let held = &mut effective[at].held;
        if !held.iter().any(|h| h.kind == HeldKind::Role) {
            held.push(role(vec![Source::Direct], Some(p.power.to_string())));
        }
    }
}

/// Every declared grant of the site, by who holds it.
fn grants_by_grantee(site: &DesiredSite) -> HashMap<(u8, String), Vec<GrantOf<'_>>> {
    let mut by: HashMap<(u8, String), Vec<GrantOf<'_>>> = HashMap::new();
    let kinds: [(HeldKind, AccessKind, &[DesiredAccessObject]); 2] = [
        (
            HeldKind::WorkspaceGrant,
            AccessKind::Workspace,
            &site.access.workspaces,
        ),
        (
            HeldKind::ConnectionGrant,
            AccessKind::Connection,
            &site.access.connections,
        ),
    ];
    for (kind, on, objects) in kinds {
        for o in objects {
            for g in &o.grants {
                by.entry(g.grantee.key()).or_default().push(GrantOf {
                    kind,
                    on,
                    object: &o.name,
                    grant: g,
                });
            }
        }
    }
    by
}

impl Declared<'_> {
    /// The person's workspace and connection grants: their own and their
    /// teams', one line per object and permission with every source.
    fn grants_of(&self, user: &DesiredUser) -> Vec<Held> {
        let p = self.site.site.provider;
        let own = std::iter::once((Source::Direct, Grantee::Person(user.email.clone()).key()));
        let teams = user
            .groups
            .iter()
            .map(|g| (Source::Through(g.clone()), (0, p.group_key(g))));
        let mut held: Vec<(AccessKind, &str, usize, Held)> = Vec::new();
        for (source, key) in own.chain(teams) {
            for g in self.grants.get(&key).into_iter().flatten() {
                let rank = g.on.rank(&g.grant.permission).unwrap_or_default();
                let value = format!("{} on {}", g.grant.permission, g.object);
                let until = g.grant.expires;
                match held
                    .iter_mut()
                    .find(|(_, _, _, h)| h.kind == g.kind && h.value == value && h.until == until)
                {
                    Some((_, _, _, h)) => h.sources.push(source.clone()),
                    None => held.push((
                        g.on,
                        g.object,
                        rank,
                        Held {
                            kind: g.kind,
                            value,
                            sources: vec![source.clone()],
                            until,
                            note: None,
                        },
                    )),
                }
            }
        }
        // Objects by name, the highest permission first.
        held.sort_by(|a, b| {
            (a.0, a.1, std::cmp::Reverse(a.2)).cmp(&(b.0, b.1, std::cmp::Reverse(b.2)))
        });
        held.into_iter().map(|(_, _, _, h)| h).collect()
    }

    /// The person's attribute values. A value set on the person wins over
    /// a team's (issue 15); Sigma picks between teams' values by a priority
    /// roster does not declare, so competing team values are each listed,
    /// with their team, and none is said to win.
    fn attributes_of(&self, user: &DesiredUser) -> Vec<Held> {
        let p = self.site.site.provider;
        // attribute key -> (name, person's value, [(team, value)])
        let mut by: std::collections::BTreeMap<String, Attr<'_>> = Default::default();
        if let Some(values) = self.person_values.get(&email_key(&user.email)) {
            for (name, v) in *values {
                by.entry(name_key(name))
                    .or_insert_with(|| Attr::new(name))
                    .own = Some(v);
            }
        }
        for g in &user.groups {
            for (name, v) in self
                .team_values
                .get(&p.group_key(g))
                .into_iter()
                .flat_map(|v| v.iter())
            {
                by.entry(name_key(name))
                    .or_insert_with(|| Attr::new(name))
                    .teams
                    .push((g, v));
            }
        }
        by.into_values().flat_map(Attr::held).collect()
    }
}

/// One attribute's values for a person: their own and their teams'.
struct Attr<'a> {
    name: &'a str,
    own: Option<&'a String>,
    teams: Vec<(&'a String, &'a String)>,
}

impl<'a> Attr<'a> {
    fn new(name: &'a str) -> Self {
        Attr {
            name,
            own: None,
            teams: Vec::new(),
        }
    }

    fn held(self) -> Vec<Held> {
        let value = |v: &str| format!("{} = {v:?}", self.name);
        if let Some(own) = self.own {
            let over: Vec<String> = self
                .teams
                .iter()
                .map(|(t, v)| format!("{v:?} through {t}"))
                .collect();
            return vec![Held {
                kind: HeldKind::Attribute,
                value: value(own),
                sources: vec![Source::Direct],
                until: None,
                note: (!over.is_empty())
                    .then(|| format!("set on the person: wins over {}", over.join(", "))),
            }];
        }
        let mut held: Vec<Held> = Vec::new();
        for (team, v) in &self.teams {
            let v = value(v);
            match held.iter_mut().find(|h| h.value == v) {
                Some(h) => h.sources.push(Source::Through((*team).clone())),
                None => held.push(Held {
                    kind: HeldKind::Attribute,
                    value: v,
                    sources: vec![Source::Through((*team).clone())],
                    until: None,
                    note: None,
                }),
            }
        }
        if held.len() > 1 {
            for h in &mut held {
                h.note = Some(
                    "teams give different values: Sigma applies one by the teams' priority, which roster does not manage".into(),
                );
            }
        }
        held
    }
}

fn groups(user: &DesiredUser) -> impl Iterator<Item = Held> + '_ {
    user.groups.iter().map(|g| Held {
        kind: HeldKind::Group,
        value: g.clone(),
        sources: vec![Source::Direct],
        until: user
            .membership_expires
            .iter()
            .find(|(name, _)| name == g)
            .map(|(_, on)| *on),
        note: None,
    })
}

/// What every person the plan changes ends up with: created or updated,
/// or given other grants or attribute values of their own. Each once.
pub fn of_changed(site: &DesiredSite, changes: &[super::Change]) -> Vec<EffectiveAccess> {
    use super::Change;
    use crate::model::access::AccessChange;
    let mut seen = std::collections::HashSet::new();
    let emails: Vec<&String> = changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateUser { email, .. } | Change::UpdateUser { email, .. } => Some(email),
            Change::SetAttributes {
                target: super::AttrTarget::User,
                key,
                ..
            } => Some(key),
            Change::Access(AccessChange::Grant(g)) => match &g.grantee {
                Grantee::Person(email) => Some(email),
                Grantee::Team(_) => None,
            },
            _ => None,
        })
        .filter(|email| seen.insert(email_key(email)))
        .collect();
    // The index of the declared people is built only when someone changes.
    if emails.is_empty() {
        return Vec::new();
    }
    let declared = Declared::new(site);
    emails
        .into_iter()
        .filter_map(|email| declared.of(email))
        .collect()
}
