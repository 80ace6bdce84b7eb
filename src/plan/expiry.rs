//! Expiring access: after its `expires` date a person, a person's
//! membership of a group, or a workspace or connection grant, is treated
//! as not declared, and what expires
//! within the site's `expiry_notice_days` is noted. Pure: "today" is given.

use chrono::NaiveDate;
use serde::Serialize;

use std::borrow::Cow;
use std::collections::HashSet;

use crate::model::access::{DesiredAccessObject, Grantee};
use crate::model::{DesiredSite, email_key};

/// A person's access, one membership, or one grant, that ends on a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Expiring {
    /// The person; empty for a team's grant.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub email: String,
    /// The group (team), for a membership; absent for the person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// For a grant: what it gives (`edit on workspace Finance`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant: Option<String>,
    /// For a team's grant: the team.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// The last day of access.
    pub on: NaiveDate,
    /// Expired, the person was also left out of the `admins` of the group
    /// (of every group they were an admin of, for the person's own expiry).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub admin: bool,
}

impl Expiring {
    /// `ada@acme.com`, `ada@acme.com in Contractors`, `edit on workspace
    /// Finance for ada@acme.com` or `... for team Analysts`
    pub fn subject(&self) -> String {
        let who = match &self.team {
            Some(t) => format!("team {t}"),
            None => self.email.clone(),
        };
        match (&self.grant, &self.group) {
            (Some(g), _) => format!("{g} for {who}"),
            (None, Some(g)) => format!("{who} in {g}"),
            (None, None) => who,
        }
    }
}

/// What expired (and is no longer declared) and what expires soon.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Expiry {
    /// Past its date: planned as if not declared.
    pub expired: Vec<Expiring>,
    /// Ends within `expiry_notice_days`: still declared.
    pub soon: Vec<Expiring>,
    /// `expiry_notice_days` of the site.
    pub notice_days: u32,
}

impl Expiry {
    pub fn is_empty(&self) -> bool {
        self.expired.is_empty() && self.soon.is_empty()
    }
}

/// The site as declared on `today`: people and memberships past their
/// date left out; with what was left out and what ends soon. A site that
/// dates nothing is itself, not a copy.
pub fn resolve(declared: &DesiredSite, today: NaiveDate) -> (Cow<'_, DesiredSite>, Expiry) {
    let notice = i64::from(declared.site.expiry_notice_days);
    let mut expiry = Expiry {
        notice_days: declared.site.expiry_notice_days,
        ..Expiry::default()
    };
    if !dates_anything(declared) {
        return (Cow::Borrowed(declared), expiry);
    }
    let mut note = |email: &str, group: Option<&str>, on: NaiveDate| {
        let e = Expiring {
            email: email.to_string(),
            group: group.map(str::to_string),
            grant: None,
            team: None,
            on,
            admin: false,
        };
        sort(&mut expiry, e, today, notice)
    };
    let mut site = declared.clone();
    site.users.retain_mut(|u| {
        if let Some(on) = u.expires
            && !note(&u.email, None, on)
        {
            return false;
        }
        let mut gone = Vec::new();
        u.membership_expires.retain(|(g, on)| {
            let keep = note(&u.email, Some(g), *on);
            if !keep {
                gone.push(g.clone());
            }
            keep
        });
        u.groups.retain(|g| !gone.contains(g));
        true
    });
    drop_expired_admins(&mut site, &mut expiry);
    let access = &mut site.access;
    for (kind, objects) in [
        ("workspace", &mut access.workspaces),
        ("connection", &mut access.connections),
    ] {
        for o in objects.iter_mut() {
            grants(kind, o, &mut expiry, today, notice);
        }
    }
    (Cow::Owned(site), expiry)
}

/// Whether a person, a membership or a grant of the site has an
/// `expires` date.
fn dates_anything(site: &DesiredSite) -> bool {
    let people = site
        .users
        .iter()
        .any(|u| u.expires.is_some() || !u.membership_expires.is_empty());
    let grants = site
        .access
        .workspaces
        .iter()
        .chain(&site.access.connections)
        .flat_map(|o| &o.grants)
        .any(|g| g.expires.is_some());
    people || grants
}

/// An admin must be a member: people whose access or membership expired
/// are left out of the `admins` of the groups they no longer belong to,
/// and their expiry says so.
fn drop_expired_admins(site: &mut DesiredSite, expiry: &mut Expiry) {
    let p = site.site.provider;
    // (email key, group key; empty for the person's own expiry)
    let gone: HashSet<(String, String)> = expiry
        .expired
        .iter()
        .filter(|e| e.grant.is_none())
        .map(|e| {
            (
                email_key(&e.email),
                e.group
                    .as_deref()
                    .map_or_else(String::new, |g| p.group_key(g)),
            )
        })
        .collect();
    if gone.is_empty() {
        return;
    }
    let mut dropped: HashSet<(String, String)> = HashSet::new();
    for g in &mut site.groups {
        let Some(admins) = &mut g.admins else {
            continue;
        };
        let group = p.group_key(&g.name);
        admins.retain(|a| {
            let who = email_key(a);
            let hit = [String::new(), group.clone()]
                .into_iter()
                .map(|k| (who.clone(), k))
                .find(|k| gone.contains(k));
            let keep = hit.is_none();
            dropped.extend(hit);
            keep
        });
    }
    for e in expiry.expired.iter_mut().filter(|e| e.grant.is_none()) {
        let group = e
            .group
            .as_deref()
            .map_or_else(String::new, |g| p.group_key(g));
        e.admin = dropped.contains(&(email_key(&e.email), group));
    }
}

/// Notes `e` as expired (false: no longer declared) or as ending soon.
fn sort(expiry: &mut Expiry, e: Expiring, today: NaiveDate, notice: i64) -> bool {
    if e.on < today {
        expiry.expired.push(e);
        false
    } else {
        if (e.on - today).num_days() <= notice {
            expiry.soon.push(e);
        }
        true
    }
}

/// The grants of one workspace or connection past their date left out.
fn grants(
    kind: &str,
    o: &mut DesiredAccessObject,
    expiry: &mut Expiry,
    today: NaiveDate,
    notice: i64,
) {
    let object = o.name.clone();
    o.grants.retain(|g| {
        let Some(on) = g.expires else {
            return true;
        };
        let (email, team) = match &g.grantee {
            Grantee::Person(e) => (e.clone(), None),
            Grantee::Team(t) => (String::new(), Some(t.clone())),
        };
        let e = Expiring {
            email,
            group: None,
            grant: Some(format!("{} on {kind} {object}", g.permission)),
            team,
            on,
            admin: false,
        };
        sort(expiry, e, today, notice)
    });
}
