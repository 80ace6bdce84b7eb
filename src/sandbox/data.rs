//! Everything the sandbox holds, as saved to and loaded from JSON, and the
//! error its APIs answer with.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::periscope::store::PeriscopeSite;
use super::scim::store::ScimService;
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
    /// SCIM services by name, served under `/scim/{name}/v2`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scim: BTreeMap<String, ScimService>,
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

/// A successful answer's body: JSON built as a value, or serialized
/// already (large lists are written straight from the data, which is much
/// faster than building a value for every member first).
pub enum Answer {
    Value(serde_json::Value),
    Body(Vec<u8>),
}

impl Answer {
    pub fn json(v: &impl Serialize) -> Answer {
        Answer::Body(serde_json::to_vec(v).expect("sandbox answers always serialize"))
    }

    pub fn into_response(self) -> axum::response::Response {
        use axum::response::IntoResponse;
        match self {
            Answer::Value(v) => axum::Json(v).into_response(),
            Answer::Body(body) => (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response(),
        }
    }
}

impl From<serde_json::Value> for Answer {
    fn from(v: serde_json::Value) -> Answer {
        Answer::Value(v)
    }
}
