//! Any SCIM 2.0 service (RFC 7643, RFC 7644): users and groups over a
//! bearer token, with what the service announces in
//! `/ServiceProviderConfig` deciding how writes are sent (PATCH or PUT,
//! `If-Match`, filtered look-ups, cursor or index pagination).
//!
//! No state is left in the client by a read: [`ScimClient::fetch`] returns
//! the live site with a [`ScimIds`] (the service's capabilities, and each
//! object's id and ETag), and every write takes what it needs from it.

mod client;
mod wire;
mod write;

pub use client::{Capabilities, Paging, ScimClient, ScimIds, ScimOptions, ScimRef, group_key};
pub use write::UserEdit;
