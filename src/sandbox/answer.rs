//! What an emulated API answers: a body, or an error each platform wraps in
//! its own shape.

use serde::Serialize;

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
