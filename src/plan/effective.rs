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

use crate::model::{Access, DesiredGroup, DesiredSite, DesiredUser, email_key};
use crate::state::insight::SeatBasis;

/// Why a person has something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HeldKind {
    AccountType,
    AccessLevel,
    Group,
}

impl HeldKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HeldKind::AccountType => "account type",
            HeldKind::AccessLevel => "access level",
            HeldKind::Group => "group",
        }
    }
}

/// One thing a person holds, and every reason they hold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Held {
    pub kind: HeldKind,
    pub value: String,
    pub sources: Vec<Source>,
    /// The last day, where the state says one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
}

impl Held {
    /// `access level sql: through Analysts, through Engineering`
    pub fn describe(&self) -> String {
        let sources: Vec<String> = self.sources.iter().map(Source::describe).collect();
        let until = self
            .until
            .map(|d| format!(", until {d}"))
            .unwrap_or_default();
        format!(
            "{} {}: {}{until}",
            self.kind.as_str(),
            self.value,
            sources.join(", ")
        )
    }
}

/// What one person ends up with on one site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
        }
    }

    /// What `email` ends up with (declared, after expiry), or None when
    /// the site does not declare them.
    pub fn of(&self, email: &str) -> Option<EffectiveAccess> {
        let user = *self.users.get(&email_key(email))?;
        let mut held = Vec::new();
        held.extend(self.account(user));
        held.extend(groups(user));
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
            SeatBasis::AccountType => Some(Held {
                kind: HeldKind::AccountType,
                value: user.member_type.clone()?,
                sources: vec![Source::Direct],
                until: None,
            }),
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
                })
            }
        }
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
    })
}

/// What every person the plan creates or updates ends up with.
pub fn of_changed(site: &DesiredSite, changes: &[super::Change]) -> Vec<EffectiveAccess> {
    let declared = Declared::new(site);
    changes
        .iter()
        .filter_map(|c| match c {
            super::Change::CreateUser { email, .. } | super::Change::UpdateUser { email, .. } => {
                declared.of(email)
            }
            _ => None,
        })
        .collect()
}
