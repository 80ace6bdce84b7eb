//! Everything the sandbox holds, as saved to and loaded from JSON, and the
//! error its APIs answer with.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::periscope::store::PeriscopeSite;
use super::sigma::store::SigmaOrg;

/// Every emulated site.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxData {
    /// Periscope sites by slug.
    #[serde(default)]
    pub periscope: BTreeMap<String, PeriscopeSite>,
    /// Sigma organisations by name (the name of the site in the state).
    #[serde(default)]
    pub sigma: BTreeMap<String, SigmaOrg>,
}

/// An error an emulated API answers with: a status and a message, which
/// each platform wraps in its own body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }
}
