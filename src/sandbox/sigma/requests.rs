//! What every Sigma handler does with a request: runs it on the
//! organisation its bearer token belongs to, reads its JSON body, and
//! answers in Sigma's shapes (pages, `{"message": ...}` errors).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::store::{SigmaOrg, object, paginate};
use crate::sandbox::answer::{Answer, ApiError};
use crate::sandbox::shared::Shared;

pub(super) type Params = Query<HashMap<String, String>>;

pub(super) fn error(status: u16, message: impl Into<String>) -> ApiError {
    ApiError::new(status, message)
}

/// Sigma's error body: `{"message": ...}`.
pub(super) fn respond(result: Result<impl Into<Answer>, ApiError>) -> Response {
    match result {
        Ok(v) => v.into().into_response(),
        Err(e) => (
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            axum::Json(json!({ "message": e.message })),
        )
            .into_response(),
    }
}

/// Runs `op` on the organisation the bearer token belongs to.
pub(super) fn with_org<A: Into<Answer>>(
    s: &Shared,
    headers: &HeaderMap,
    write: bool,
    op: impl FnOnce(&mut SigmaOrg) -> Result<A, ApiError>,
) -> Response {
    let result = (|| {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| error(401, "Unauthorized"))?;
        let name = s
            .sigma_use(token)
            .ok_or_else(|| error(401, "Unauthorized"))?;
        let mut data = s.data.lock().expect("sandbox lock");
        let org = data
            .sigma
            .get_mut(&name)
            .ok_or_else(|| error(401, "Unauthorized"))?;
        // Serialized here, while the organisation's data is at hand.
        let out: Answer = op(org)?.into();
        if write {
            s.record_write();
        }
        Ok(out)
    })();
    respond(result)
}

/// A write with a JSON body: the body is read, then `op` runs on the
/// organisation the bearer token belongs to.
pub(super) fn with_body(
    s: &Shared,
    headers: &HeaderMap,
    body: &Bytes,
    op: impl FnOnce(&mut SigmaOrg, &Value) -> Result<Value, ApiError>,
) -> Response {
    match body_of(body) {
        Ok(b) => with_org(s, headers, true, |org| op(org, &b)),
        Err(e) => with_org(s, headers, false, |_| Err::<Value, _>(e)),
    }
}

pub(super) fn flag(q: &HashMap<String, String>, key: &str) -> bool {
    q.get(key).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

fn body_of(body: &Bytes) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|e| error(400, format!("malformed JSON body: {e}")))
        .and_then(object)
}

/// A list as the API answers it: in pages only, with or without `limit`
/// (v2.1 always; `/v2/members` and `/v2/teams` since 2026-06-02, when the
/// bare array without `limit` went away).
pub(super) fn list<'a, T, J: serde::Serialize>(
    items: &'a [T],
    q: &HashMap<String, String>,
    to_json: impl Fn(&'a T) -> J,
) -> Result<Answer, ApiError> {
    let limit = q.get("limit").map(String::as_str);
    paginate(items, limit, q.get("page").map(String::as_str), to_json).map(Answer::from)
}
