//! The emulated SCIM 2.0 service provider (RFC 7643, RFC 7644): any
//! number of services by name, each under `/scim/{name}/v2` with its own
//! bearer token.

pub mod filter;
pub mod routes;
pub mod schema;
pub mod store;
