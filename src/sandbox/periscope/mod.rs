//! The emulated Periscope v1 user and group API.

pub mod routes;
pub mod store;
