//! Sigma Computing.

mod auth;
mod client;
pub mod regions;
mod wire;
mod write;

pub use client::SigmaClient;
