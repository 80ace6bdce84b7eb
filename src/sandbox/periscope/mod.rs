//! The emulated Periscope v1 user and group API.

pub mod routes;
pub mod store;

use std::collections::BTreeMap;
use std::fmt::Write;

/// The test credentials of the emulated Periscope sites, a line each.
pub fn banner(sites: &BTreeMap<String, store::PeriscopeSite>, _url: &str) -> String {
    let mut out = String::new();
    for (slug, site) in sites {
        let _ = writeln!(
            out,
            "  periscope site {slug}: HTTP-X-PARTNER-AUTH: {slug}:{}",
            site.api_key
        );
    }
    out
}
