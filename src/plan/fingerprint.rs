//! Fingerprints of the live state of a site and of the desired state: equal
//! when the users and groups are the same, whatever order they were listed
//! or declared in. A saved plan carries both, and apply compares them.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use crate::model::{DesiredState, LiveSite, ProviderKind, email_key};

/// Hex SHA-256 of `value` as JSON, hashed as it is written (never held whole).
fn hex_sha256_of_json(value: &impl serde::Serialize) -> String {
    let mut hasher = Sha256::new();
    serde_json::to_writer(&mut hasher, value).expect("fingerprinted values always serialize");
    hasher
        .finalize()
        .iter()
        .fold(String::with_capacity(64), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// Hex SHA-256 over a canonical form of the desired state.
pub fn desired_fingerprint(desired: &DesiredState) -> String {
    let mut canonical = desired.clone();
    for site in &mut canonical.sites {
        let p = site.site.provider;
        site.users.sort_by_cached_key(|u| email_key(&u.email));
        for u in &mut site.users {
            u.groups.sort_by_cached_key(|g| p.group_key(g));
        }
        site.groups.sort_by_cached_key(|g| p.group_key(&g.name));
    }
    canonical
        .sites
        .sort_by(|a, b| a.site.name.cmp(&b.site.name));
    hex_sha256_of_json(&canonical)
}

/// The desired state's fingerprint, made the first time it is asked for and
/// then kept: it is work at scale, and only some outputs show it.
pub struct DesiredFingerprint<'a> {
    desired: &'a DesiredState,
    value: std::cell::OnceCell<String>,
}

impl<'a> DesiredFingerprint<'a> {
    pub fn of(desired: &'a DesiredState) -> Self {
        DesiredFingerprint {
            desired,
            value: std::cell::OnceCell::new(),
        }
    }

    pub fn get(&self) -> &str {
        self.value.get_or_init(|| desired_fingerprint(self.desired))
    }
}

/// Hex SHA-256 over a canonical form of the live state.
pub fn fingerprint(provider: ProviderKind, live: &LiveSite) -> String {
    let mut users: Vec<_> = live
        .users
        .iter()
        .map(|u| {
            let mut groups: Vec<String> = u.groups.iter().map(|g| provider.group_key(g)).collect();
            groups.sort();
            let mut admin_of: Vec<String> =
                u.admin_of.iter().map(|g| provider.group_key(g)).collect();
            admin_of.sort();
            (
                email_key(&u.email),
                (&u.email, &u.first_name, &u.last_name),
                (&u.member_type, u.active, u.locked, &u.id),
                groups,
                (u.kind, admin_of),
            )
        })
        .collect();
    users.sort();
    let mut groups: Vec<_> = live
        .groups
        .iter()
        .map(|g| {
            (
                provider.group_key(&g.name),
                &g.name,
                &g.access,
                (&g.description, &g.visibility, &g.id),
            )
        })
        .collect();
    groups.sort();
    let access = live.access != crate::model::access::LiveAccess::default();
    let content = match (access, live.attrs.read) {
        (false, false) => hex_sha256_of_json(&(provider, users, groups)),
        (true, false) => hex_sha256_of_json(&(provider, users, groups, live.access.canonical())),
        // Attributes, their values and account types count too.
        (false, true) => hex_sha256_of_json(&(provider, users, groups, live.attrs.canonical())),
        (true, true) => hex_sha256_of_json(&(
            provider,
            users,
            groups,
            live.access.canonical(),
            live.attrs.canonical(),
        )),
    };
    let versions = versions(provider, live);
    if versions.0.is_empty() && versions.1.is_empty() {
        return content;
    }
    // A change the fields above do not show (a SCIM ETag moved) is a change
    // all the same: a saved plan is applied with the versions it was read
    // with, or not at all.
    hex_sha256_of_json(&(content, versions))
}

/// The versions (ETags) of the users and groups that have one, by key,
/// sorted.
type Versions<'a> = (Vec<(String, &'a str)>, Vec<(String, &'a str)>);

fn versions(provider: ProviderKind, live: &LiveSite) -> Versions<'_> {
    let mut users: Vec<_> = live
        .users
        .iter()
        .filter_map(|u| Some((email_key(&u.email), u.version.as_deref()?)))
        .collect();
    users.sort_unstable();
    let mut groups: Vec<_> = live
        .groups
        .iter()
        .filter_map(|g| Some((provider.group_key(&g.name), g.version.as_deref()?)))
        .collect();
    groups.sort_unstable();
    (users, groups)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LiveGroup, LiveUser};

    fn user(email: &str, groups: &[&str]) -> LiveUser {
        LiveUser {
            email: email.into(),
            first_name: "A".into(),
            last_name: "B".into(),
            groups: groups
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
            active: true,
            ..LiveUser::default()
        }
    }

    #[test]
    fn order_does_not_matter_but_content_does() {
        let provider = crate::test_fixtures::periscope();
        let group = |n: &str| LiveGroup {
            name: n.into(),
            access: Some("sql".into()),
            ..LiveGroup::default()
        };
        let first = LiveSite {
            account_types: vec![],
            api_identity: None,
            access: Default::default(),
            users: vec![user("a@x.io", &["X", "Y"]), user("b@x.io", &[])],
            groups: vec![group("X"), group("Y")],
            ..LiveSite::default()
        };
        let reordered = LiveSite {
            account_types: vec![],
            api_identity: None,
            access: Default::default(),
            users: vec![user("b@x.io", &[]), user("a@x.io", &["Y", "X"])],
            groups: vec![group("Y"), group("X")],
            ..LiveSite::default()
        };
        assert_eq!(
            fingerprint(provider, &first),
            fingerprint(provider, &reordered)
        );
        let changed = LiveSite {
            account_types: vec![],
            api_identity: None,
            access: Default::default(),
            users: vec![user("a@x.io", &["X"]), user("b@x.io", &[])],
            groups: vec![group("X"), group("Y")],
            ..LiveSite::default()
        };
        assert_ne!(
            fingerprint(provider, &first),
            fingerprint(provider, &changed)
        );
    }

    /// A version (ETag) that moved is a change, though nothing else did;
    /// without versions the fingerprint is what it always was.
    #[test]
    fn versions_count_where_the_platform_has_them() {
        let p = crate::test_fixtures::scim();
        let plain = LiveSite {
            users: vec![user("a@x.io", &[])],
            ..LiveSite::default()
        };
        let with = |tag: &str| {
            let mut live = plain.clone();
            live.users[0].version = Some(tag.into());
            fingerprint(p, &live)
        };
        assert_eq!(with("W/\"1\""), with("W/\"1\""));
        assert_ne!(with("W/\"1\""), with("W/\"2\""));
        assert_ne!(with("W/\"1\""), fingerprint(p, &plain));
        let users = plain
            .users
            .iter()
            .map(|u| {
                (
                    email_key(&u.email),
                    (&u.email, &u.first_name, &u.last_name),
                    (&u.member_type, u.active, u.locked, &u.id),
                    Vec::<String>::new(),
                    (u.kind, Vec::<String>::new()),
                )
            })
            .collect::<Vec<_>>();
        // No groups: an empty list, whatever its items' type.
        let groups: Vec<()> = vec![];
        // Without versions, what was hashed before they existed.
        assert_eq!(
            fingerprint(p, &plain),
            hex_sha256_of_json(&(p, users, groups))
        );
    }
}
