//! Everything the sandbox holds, as saved to and loaded from JSON: each
//! emulated platform's sites under its key.

use std::collections::BTreeMap;

use serde::Serialize;

use super::periscope::store::PeriscopeSite;
use super::scim::store::ScimService;
use super::sigma::store::SigmaOrg;

/// Every emulated site. A field per platform of `platforms!` in
/// `sandbox/mod.rs` (the compiler holds the two lists to each other).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxData {
    /// Periscope sites by slug.
    #[serde(default)]
    pub periscope: BTreeMap<String, PeriscopeSite>,
    /// Sigma organisations by name (the name of the site in the state).
    #[serde(default)]
    pub sigma: BTreeMap<String, SigmaOrg>,
    /// SCIM services by name, served under `/scim/{name}/v2`.
    #[serde(default)]
    pub scim: BTreeMap<String, ScimService>,
}
