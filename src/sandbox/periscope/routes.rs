//! The Periscope v1 user and group API over HTTP, as the reference describes:
//! `HTTP-X-PARTNER-AUTH: <site>:<key>` per site, `HTTP-X-EMAIL` to pick a
//! user, groups by name in the path, `test_mode` on writes, errors as JSON.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::store::{Paging, PeriscopeSite};
use crate::sandbox::answer::{Answer, ApiError};
use crate::sandbox::shared::Shared;

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/api/v1/users",
            get(get_users)
                .post(create_user)
                .put(update_user)
                .delete(delete_user),
        )
        .route("/api/v1/groups", get(list_groups).post(create_group))
        .route(
            "/api/v1/groups/{name}",
            get(get_group).put(update_group).delete(delete_group),
        )
        .merge(super::role_routes::routes())
}

pub(super) type Params = Query<HashMap<String, String>>;

fn error(status: u16, message: impl Into<String>) -> ApiError {
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

fn target_email(headers: &HeaderMap) -> Option<String> {
    headers
        .get("HTTP-X-EMAIL")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
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

/// Authenticates, then runs `op` on the site; real writes are counted.
fn with_site<A: Into<Answer>>(
    shared: &Shared,
    headers: &HeaderMap,
    write: Option<bool>,
    op: impl FnOnce(&mut PeriscopeSite) -> Result<A, ApiError>,
) -> Response {
    with_site_of(shared, headers, Family::Groups, write, op)
}

/// [`with_site`] for a request of either family's API.
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

async fn get_users(State(s): State<Arc<Shared>>, headers: HeaderMap, Query(q): Params) -> Response {
    match target_email(&headers) {
        Some(email) => with_site(&s, &headers, None, |site| site.get_user(&email)),
        None => {
            let paging = paging(&s, &q);
            with_site(&s, &headers, None, |site| site.list_users(paging))
        }
    }
}

/// A write: `test_mode` and the body (if any) are read, the caller is
/// authenticated, then `op` runs with the body and whether it is a test.
fn write(
    s: &Shared,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    body: Option<&Bytes>,
    op: impl FnOnce(&mut PeriscopeSite, &Value, bool) -> Result<Value, ApiError>,
) -> Response {
    write_of(s, headers, q, body, Family::Groups, op)
}

/// [`write`] for a request of either family's API.
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

/// The user a request names in HTTP-X-EMAIL.
fn required_email(headers: &HeaderMap) -> Result<String, ApiError> {
    target_email(headers).ok_or_else(|| error(400, "HTTP-X-EMAIL header is required"))
}

async fn create_user(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Params,
    body: Bytes,
) -> Response {
    write(&s, &headers, &q, Some(&body), |site, b, t| {
        site.create_user(b, t)
    })
}

async fn update_user(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Params,
    body: Bytes,
) -> Response {
    let email = required_email(&headers);
    write(&s, &headers, &q, Some(&body), |site, b, t| {
        site.update_user(&email?, b, t)
    })
}

async fn delete_user(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Params,
) -> Response {
    let email = required_email(&headers);
    write(&s, &headers, &q, None, |site, _, t| {
        site.delete_user(&email?, t)
    })
}

async fn list_groups(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Params,
) -> Response {
    let paging = paging(&s, &q);
    with_site(&s, &headers, None, |site| site.list_groups(paging))
}

async fn get_group(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    with_site(&s, &headers, None, |site| site.get_group(&name))
}

async fn create_group(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Params,
    body: Bytes,
) -> Response {
    write(&s, &headers, &q, Some(&body), |site, b, t| {
        site.create_group(b, t)
    })
}

async fn update_group(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(q): Params,
    body: Bytes,
) -> Response {
    write(&s, &headers, &q, Some(&body), |site, b, t| {
        site.update_group(&name, b, t)
    })
}

async fn delete_group(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(q): Params,
) -> Response {
    write(&s, &headers, &q, None, |site, _, t| {
        site.delete_group(&name, t)
    })
}
