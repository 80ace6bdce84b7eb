//! Checks of the state only Periscope sites need.

use crate::model::ProviderKind;
use crate::state::{Checker, Loaded, NamedCheck};

pub(crate) const CHECKS: &[NamedCheck] = &[
    ("emails on Periscope sites are ASCII", ascii_emails),
    (
        "group names on Periscope sites are not dot segments",
        dot_segment_groups,
    ),
];

/// Periscope's API names the group to update or delete in the URL path:
/// a group (or a previous name) of `.` or `..` cannot be addressed.
fn dot_segment_groups(c: &mut Checker, l: &Loaded) {
    for g in l.groups {
        let names = std::iter::once(&g.spec.name).chain(&g.spec.previous_names);
        for name in names.filter(|n| crate::provider::is_dot_segment(n.get_ref())) {
            let on = l.sites_of(&g.spec.sites);
            let Some(site) = on.iter().find(|s| s.provider == ProviderKind::Periscope) else {
                continue;
            };
            c.error(
                g.file,
                name.span(),
                format!(
                    "group name `{}` cannot be used on Periscope site `{}`: its API names the group in the URL path, where `.` and `..` are dot segments that every HTTP client and server removes (even percent-encoded), so the request would reach another endpoint",
                    name.get_ref(),
                    site.name
                ),
                Some("give the group a name with a letter or digit in it, or limit the group's sites to non-Periscope sites".into()),
            );
        }
    }
}

/// Periscope's API names the user to update or delete in the HTTP-X-EMAIL
/// header, which carries ASCII only.
fn ascii_emails(c: &mut Checker, l: &Loaded) {
    for u in l.users {
        let email = u.spec.email.get_ref().trim();
        if email.is_ascii() {
            continue;
        }
        let on = l.sites_of(&u.spec.sites);
        let Some(site) = on.iter().find(|s| s.provider == ProviderKind::Periscope) else {
            continue;
        };
        c.error(
            u.file,
            u.spec.email.span(),
            format!(
                "{email:?} cannot be used on Periscope site `{}`: its API names the user to update or delete in the HTTP-X-EMAIL header, which carries ASCII only",
                site.name
            ),
            Some("declare the ASCII address the person signs in with, or limit the user's sites to non-Periscope sites".into()),
        );
    }
}
