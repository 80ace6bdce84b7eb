//! The Periscope v1 user and group API over HTTP, as the reference describes:
//! `HTTP-X-PARTNER-AUTH: <site>:<key>` per site, `HTTP-X-EMAIL` to pick a
//! user, groups by name in the path, `test_mode` on writes, errors as JSON.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde_json::Value;

pub use super::request::respond;
use super::request::{Family, Params, error, paging, with_site_of, write_of};
use super::store::PeriscopeSite;
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

fn target_email(headers: &HeaderMap) -> Option<String> {
    headers
        .get("HTTP-X-EMAIL")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
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
