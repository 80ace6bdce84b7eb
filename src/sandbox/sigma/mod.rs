//! The emulated Sigma v2/v2.1 API.

pub mod access;
pub mod access_routes;
pub mod account_types;
pub mod attributes;
pub mod grants;
pub mod members;
pub mod people;
pub mod requests;
pub mod routes;
pub mod store;
pub mod workspaces;

use std::collections::BTreeMap;
use std::fmt::Write;

/// The test credentials of the emulated Sigma organisations, a line each.
pub fn banner(orgs: &BTreeMap<String, store::SigmaOrg>, url: &str) -> String {
    let mut out = String::new();
    for (name, org) in orgs {
        let _ = writeln!(
            out,
            "  sigma organisation {name}: client_id={} client_secret={} (POST {url}/v2/auth/token)",
            org.client_id, org.client_secret
        );
    }
    out
}
