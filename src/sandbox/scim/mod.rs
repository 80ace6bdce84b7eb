//! The emulated SCIM 2.0 service provider (RFC 7643, RFC 7644): any
//! number of services by name, each under `/scim/{name}/v2` with its own
//! bearer token.

pub mod filter;
pub mod routes;
pub mod schema;
pub mod store;

/// The base URL and test token of each emulated SCIM service, a line each.
pub fn banner(services: &std::collections::BTreeMap<String, store::ScimService>, url: &str) -> String {
    let mut out = String::new();
    for (name, service) in services {
        out += &format!(
            "  scim service {name}: base URL {url}{}/{name}/v2, Authorization: Bearer {}\n",
            routes::PREFIX,
            service.token
        );
    }
    out
}
