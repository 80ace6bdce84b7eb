//! Checks of the state only Periscope sites need.

use crate::model::ProviderKind;
use crate::state::{Checker, Loaded, NamedCheck};

pub(crate) const CHECKS: &[NamedCheck] = &[("emails on Periscope sites are ASCII", ascii_emails)];

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
