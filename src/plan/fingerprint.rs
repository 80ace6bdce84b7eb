//! A fingerprint of a site's live state: equal when the live users and groups
//! are the same, whatever order the API listed them in.

use sha2::{Digest, Sha256};

use crate::model::{LiveSite, ProviderKind, email_key};

/// Hex SHA-256 over a canonical form of the live state.
pub fn fingerprint(provider: ProviderKind, live: &LiveSite) -> String {
    let mut users: Vec<_> = live
        .users
        .iter()
        .map(|u| {
            let mut groups: Vec<String> = u.groups.iter().map(|g| provider.group_key(g)).collect();
            groups.sort();
            (email_key(&u.email), &u.first_name, &u.last_name, groups)
        })
        .collect();
    users.sort();
    let mut groups: Vec<_> = live
        .groups
        .iter()
        .map(|g| (provider.group_key(&g.name), &g.name, &g.access))
        .collect();
    groups.sort();
    let canonical =
        serde_json::to_vec(&(provider, users, groups)).expect("live state always serializes");
    Sha256::digest(&canonical)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
            groups: groups.iter().map(|g| g.to_string()).collect(),
            active: true,
            ..LiveUser::default()
        }
    }

    #[test]
    fn order_does_not_matter_but_content_does() {
        let p = ProviderKind::Periscope;
        let g = |n: &str| LiveGroup {
            name: n.into(),
            access: Some("sql".into()),
            ..LiveGroup::default()
        };
        let a = LiveSite {
            account_types: vec![],
            users: vec![user("a@x.io", &["X", "Y"]), user("b@x.io", &[])],
            groups: vec![g("X"), g("Y")],
        };
        let b = LiveSite {
            account_types: vec![],
            users: vec![user("b@x.io", &[]), user("A@x.io", &["Y", "X"])],
            groups: vec![g("Y"), g("X")],
        };
        assert_eq!(fingerprint(p, &a), fingerprint(p, &b));
        let c = LiveSite {
            account_types: vec![],
            users: vec![user("a@x.io", &["X"]), user("b@x.io", &[])],
            groups: vec![g("X"), g("Y")],
        };
        assert_ne!(fingerprint(p, &a), fingerprint(p, &c));
    }
}
