//! Expiring access: after its `expires` date a person, or a person's
//! membership of a group, is treated as not declared, and what expires
//! within the site's `expiry_notice_days` is noted. Pure: "today" is given.

use chrono::NaiveDate;
use serde::Serialize;

use crate::model::DesiredSite;

/// A person's access, or one membership, that ends on a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expiring {
    pub email: String,
    /// The group (team), for a membership; absent for the person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The last day of access.
    pub on: NaiveDate,
}

impl Expiring {
    /// `ada@acme.com` or `ada@acme.com in Contractors`
    pub fn subject(&self) -> String {
        match &self.group {
            Some(g) => format!("{} in {g}", self.email),
            None => self.email.clone(),
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
            on,
        };
        if on < today {
            expiry.expired.push(e);
            false
        } else {
            if (on - today).num_days() <= notice {
                expiry.soon.push(e);
            }
            true
        }
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
    (site, expiry)
}

/// Every date in the state already past on `today`: what `roster
/// validate` warns about.
pub fn past(declared: &crate::model::DesiredState, today: NaiveDate) -> Vec<(String, Expiring)> {
    let mut found = Vec::new();
    for s in &declared.sites {
        let (_, expiry) = resolve(s, today);
        found.extend(expiry.expired.into_iter().map(|e| (s.site.name.clone(), e)));
    }
    found
}
