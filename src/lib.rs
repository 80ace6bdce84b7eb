//! roster: declared users and groups, planned and applied to BI platforms.
//!
//! `state` loads the desired state, `provider` reads and writes live sites,
//! `plan` compares them (pure), `render` shows the result, `apply` carries it
//! out, and `sandbox` emulates the platforms for trying and testing.

pub mod apply;
pub mod attrs;
pub mod cli;
mod commands;
pub mod escape;
pub mod import;
pub mod interrupt;
pub mod lock;
pub mod model;
pub mod plan;
pub mod progress;
pub mod provider;
pub mod render;
pub mod sandbox;
pub mod secret;
pub mod state;
#[cfg(test)]
mod test_fixtures;
mod toml_comments;

pub use commands::{Status, describe_error, run};
