//! What both of Periscope's APIs do with a request: authenticate the site
//! (`HTTP-X-PARTNER-AUTH: <site>:<key>`), refuse the other API family, read
//! `test_mode` and the JSON body, count real writes, answer errors as JSON.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::store::{Paging, PeriscopeSite};
use crate::sandbox::answer::{Answer, ApiError};
use crate::sandbox::shared::Shared;

pub(super) type Params = Query<HashMap<String, String>>;

pub(super) fn error(status: u16, message: impl Into<String>) -> ApiError {
    ApiError {
        status,
        message: message.into(),
    }
}

/// Periscope's error body (inferred): `{"error": message}`.
pub fn respond(result: Result<impl Into<Answer>, ApiError>) -> Response {
    match result {
        Ok(v) => v.into().into_response(),
        Err(e) => (
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            axum::Json(json!({ "error": e.message })),
        )
            .into_response(),
    }
}

/// The site slug named by the auth header, if its key is right.
fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<String, ApiError> {
    let raw = headers
        .get("HTTP-X-PARTNER-AUTH")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| error(401, "missing HTTP-X-PARTNER-AUTH header"))?;
    let (site, key) = raw
        .split_once(':')
        .ok_or_else(|| error(401, "HTTP-X-PARTNER-AUTH must be <site>:<api key>"))?;
    let data = shared.data.lock().expect("sandbox lock");
    match data.periscope.get(site) {
        Some(s) if s.api_key == key => Ok(site.to_string()),
        _ => Err(error(401, format!("invalid API key for site '{site}'"))),
    }
}

fn test_mode(params: &HashMap<String, String>) -> Result<bool, ApiError> {
    match params.get("test_mode").map(|v| v.to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) if v == "true" => Ok(true),
        Some(v) if v == "false" => Ok(false),
        Some(v) => Err(error(
            400,
            format!("test_mode must be true or false, not '{v}'"),
        )),
    }
}

fn json_body(body: &Bytes) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| error(400, format!("malformed JSON body: {e}")))?;
    if v.is_object() {
        Ok(v)
    } else {
        Err(error(400, "the body must be a JSON object"))
    }
}

/// Which of Periscope's two APIs a request is of: a group-based site
/// answers only the first, a site with role-based access only the second.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    /// The "User and Group Management API": `/api/v1/users`, `/api/v1/groups`.
    Groups,
    /// The "User and Role Management API": `/api/v2/users`, `/api/v1/roles`.
    Roles,
}

/// A request of the other family's API is refused (reference §10: a 404
/// naming the API the site has).
fn check_family(site: &PeriscopeSite, family: Family) -> Result<(), ApiError> {
    match (family, site.role_based.is_some()) {
        (Family::Groups, true) => Err(error(
            404,
            "this site uses role-based access: use the User and Role Management API (/api/v2/users, /api/v1/roles)",
        )),
        (Family::Roles, false) => Err(error(
            404,
            "this site has no role-based access: use the User and Group Management API (/api/v1/users, /api/v1/groups)",
        )),
        _ => Ok(()),
    }
}

/// Authenticates, checks the site has the API `family`, then runs `op`
/// on the site; real writes are counted.
pub(super) fn with_site_of<A: Into<Answer>>(
    shared: &Shared,
    headers: &HeaderMap,
    family: Family,
    write: Option<bool>,
    op: impl FnOnce(&mut PeriscopeSite) -> Result<A, ApiError>,
) -> Response {
    let result = authenticate(shared, headers).and_then(|slug| {
        let mut data = shared.data.lock().expect("sandbox lock");
        let site = data
            .periscope
            .get_mut(&slug)
            .ok_or_else(|| error(401, "unknown site"))?;
        check_family(site, family)?;
        let out = op(site)?;
        if write == Some(false) {
            shared.record_write();
        }
        Ok(out)
    });
    respond(result)
}

/// The page a list request asks for, when the sandbox pages lists.
pub(super) fn paging(s: &Shared, q: &HashMap<String, String>) -> Option<Paging> {
    s.page_size().map(|size| Paging {
        size,
        start: q.get("next_page_start").cloned(),
    })
}

/// A write of the API `family`: `test_mode` and the body (if any) are
/// read, the caller is authenticated, then `op` runs with the body and
/// whether it is a test.
pub(super) fn write_of(
    s: &Shared,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    body: Option<&Bytes>,
    family: Family,
    op: impl FnOnce(&mut PeriscopeSite, &Value, bool) -> Result<Value, ApiError>,
) -> Response {
    let parsed = test_mode(q).and_then(|t| {
        let b = match body {
            Some(b) => json_body(b)?,
            None => json!({}),
        };
        Ok((t, b))
    });
    match parsed {
        Ok((t, b)) => with_site_of(s, headers, family, Some(t), |site| op(site, &b, t)),
        Err(e) => respond(authenticate(s, headers).and(Err::<Value, _>(e))),
    }
}

