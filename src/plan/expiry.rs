//! Expiring access: after its `expires` date a person, a person's
//! membership of a group, or a workspace or connection grant, is treated
//! as not declared, and what expires
//! within the site's `expiry_notice_days` is noted. Pure: "today" is given.

use chrono::NaiveDate;
use serde::Serialize;

use crate::model::DesiredSite;
use crate::model::access::{DesiredAccessObject, Grantee};

/// A person's access, one membership, or one grant, that ends on a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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
/// date left out; with what was left out and what ends soon.
pub fn resolve(declared: &DesiredSite, today: NaiveDate) -> (DesiredSite, Expiry) {
    let notice = i64::from(declared.site.expiry_notice_days);
    let mut expiry = Expiry {
        notice_days: declared.site.expiry_notice_days,
        ..Expiry::default()
    };
    let mut note = |email: &str, group: Option<&str>, on: NaiveDate| {
        let e = Expiring {
            email: email.to_string(),
            group: group.map(str::to_string),
            grant: None,
            team: None,
            on,
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
    let access = &mut site.access;
    for (kind, objects) in [
        ("workspace", &mut access.workspaces),
        ("connection", &mut access.connections),
    ] {
        for o in objects.iter_mut() {
            grants(kind, o, &mut expiry, today, notice);
        }
    }
    (site, expiry)
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
        };
        sort(expiry, e, today, notice)
    });
}
