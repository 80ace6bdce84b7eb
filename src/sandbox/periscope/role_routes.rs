//! The Periscope "User and Role Management API" over HTTP, for sites with
//! role-based access: users on `/api/v2/users/{id}`, roles on
//! `/api/v1/roles/{id}` (reference §3: the version prefixes are mixed),
//! `test_mode` on every write. A group-based site refuses them all.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde_json::Value;

use super::roles::RoleSite;
use super::request::{Family, Params, paging, with_site_of, write_of};
use super::store::PeriscopeSite;
use crate::sandbox::shared::Shared;
use crate::sandbox::answer::ApiError;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v2/users", get(list_users).post(create_user))
        .route(
            "/api/v2/users/{id}",
            get(get_user).put(update_user).delete(delete_user),
        )
        .route("/api/v1/roles", get(list_roles).post(create_role))
        .route(
            "/api/v1/roles/{id}",
            get(get_role).put(update_role).delete(delete_role),
        )
}

/// The roles half of a site the family check let through.
fn roles_of(site: &mut PeriscopeSite) -> Result<&mut RoleSite, ApiError> {
    site.role_based
        .as_mut()
        .ok_or_else(|| ApiError::new(404, "this site has no role-based access"))
}

/// A read of a site with role-based access.
fn read(
    s: &Shared,
    headers: &HeaderMap,
    op: impl FnOnce(&RoleSite) -> Result<Value, ApiError>,
) -> Response {
    with_site_of(s, headers, Family::Roles, None, |site| op(roles_of(site)?))
}

/// A write to a site with role-based access, with its `test_mode`.
fn write(
    s: &Shared,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    body: Option<&Bytes>,
    op: impl FnOnce(&mut RoleSite, &Value, bool) -> Result<Value, ApiError>,
) -> Response {
    write_of(s, headers, q, body, Family::Roles, |site, b, t| {
        op(roles_of(site)?, b, t)
    })
}

async fn list_users(State(s): State<Arc<Shared>>, headers: HeaderMap, Query(q): Params) -> Response {
    let paging = paging(&s, &q);
    read(&s, &headers, |site| site.list_users(paging))
}

async fn get_user(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    read(&s, &headers, |site| site.get_user(&id))
}

async fn create_user(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Params,
    body: Bytes,
) -> Response {
    write(&s, &headers, &q, Some(&body), RoleSite::create_user)
}

async fn update_user(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Params,
    body: Bytes,
) -> Response {
    write(&s, &headers, &q, Some(&body), |site, b, t| {
        site.update_user(&id, b, t)
    })
}

async fn delete_user(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Params,
) -> Response {
    write(&s, &headers, &q, None, |site, _, t| site.delete_user(&id, t))
}

async fn list_roles(State(s): State<Arc<Shared>>, headers: HeaderMap, Query(q): Params) -> Response {
    let paging = paging(&s, &q);
    read(&s, &headers, |site| site.list_roles(paging))
}

async fn get_role(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    read(&s, &headers, |site| site.get_role(&id))
}

async fn create_role(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Params,
    body: Bytes,
) -> Response {
    write(&s, &headers, &q, Some(&body), |site, b, t| {
        site.create_role(b, t)
    })
}

async fn update_role(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Params,
    body: Bytes,
) -> Response {
    write(&s, &headers, &q, Some(&body), |site, b, t| {
        site.update_role(&id, b, t)
    })
}

async fn delete_role(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Params,
) -> Response {
    write(&s, &headers, &q, None, |site, _, t| site.delete_role(&id, t))
}
