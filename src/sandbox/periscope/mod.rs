//! The emulated Periscope APIs: the v1 user and group API of group-based
//! sites, and the user and role API of sites with role-based access.

mod fields;
mod request;
mod role_routes;
pub mod roles;
pub mod routes;
pub mod store;

use std::collections::BTreeMap;
use std::fmt::Write;

/// The test credentials of the emulated Periscope sites, a line each.
pub fn banner(sites: &BTreeMap<String, store::PeriscopeSite>, _url: &str) -> String {
    let mut out = String::new();
    for (slug, site) in sites {
        let kind = if site.role_based.is_some() {
            " (role-based access)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  periscope site {slug}{kind}: HTTP-X-PARTNER-AUTH: {slug}:{}",
            site.api_key
        );
    }
    out
}
