//! The emulated Sigma v2/v2.1 API.

pub mod people;
pub mod routes;
pub mod store;
