//! The emulated Sigma v2/v2.1 API.

pub mod access;
pub mod access_routes;
pub mod account_types;
pub mod attributes;
pub mod people;
pub mod routes;
pub mod store;
pub mod workspaces;
