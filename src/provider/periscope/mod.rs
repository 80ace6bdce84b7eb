//! Periscope Data / Sisense for Cloud Data Teams.

mod client;
mod wire;

pub use client::PeriscopeClient;
