//! Sigma access over HTTP, as `sigma-openapi-access.json` describes it:
//! workspaces and their grants, `/v2/grants`, connections (listed, never
//! created) and their grants, user attributes with their values per member
//! and per team, and account types with their permissions. Auth, paging
//! and error bodies as for members and teams (`routes`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{delete, get, post};
use serde_json::{Value, json};

use super::requests::{Params, error, flag, list, with_body, with_org};
use super::workspaces::Inode;
use crate::sandbox::shared::Shared;

type S = State<Arc<Shared>>;
type Id = Path<String>;
type Ids = Path<(String, String)>;

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/v2/workspaces",
            get(list_workspaces).post(create_workspace),
        )
        .route("/v2.1/workspaces", get(list_workspaces))
        .route(
            "/v2/workspaces/{id}",
            get(get_workspace)
                .patch(update_workspace)
                .delete(delete_workspace),
        )
        .route(
            "/v2/workspaces/{id}/grants",
            get(workspace_grants).post(grant_workspace),
        )
        .route(
            "/v2/workspaces/{id}/grants/{grant}",
            delete(revoke_workspace_grant),
        )
        .route("/v2/grants", get(list_grants).post(create_grant))
        .route("/v2/grants/{id}", get(get_grant).delete(delete_grant))
        .route(
            "/v2/connections",
            get(list_connections).post(create_connection),
        )
        .route("/v2/connections/{id}", get(get_connection))
        .route(
            "/v2/connections/{id}/grants",
            get(connection_grants).post(grant_connection),
        )
        .route(
            "/v2/connections/{id}/grants/{grant}",
            delete(revoke_connection_grant),
        )
        .merge(attribute_routes())
        .merge(account_type_routes())
}

fn attribute_routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/v2/user-attributes",
            get(list_attributes).post(create_attribute),
        )
        .route(
            "/v2/user-attributes/{id}",
            get(get_attribute).delete(delete_attribute),
        )
        .route(
            "/v2/user-attributes/{id}/users",
            get(attribute_users)
                .post(set_user_values)
                .patch(remove_user_values),
        )
        .route(
            "/v2/user-attributes/{id}/users/{who}",
            delete(remove_user_value),
        )
        .route(
            "/v2/user-attributes/{id}/teams",
            get(attribute_teams)
                .post(set_team_values)
                .patch(remove_team_values),
        )
        .route(
            "/v2/user-attributes/{id}/teams/{who}",
            delete(remove_team_value),
        )
        .route(
            "/v2/user-attributes/{id}/tenants",
            get(attribute_tenants)
                .post(set_tenant_values)
                .patch(remove_tenant_values),
        )
        .route("/v2/teams/{id}/user-attributes", get(team_attributes))
        .route(
            "/v2/teams/{id}/assignedUserAttributes",
            post(assign_team_attributes),
        )
}

fn account_type_routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/v2/accountTypes",
            get(account_types).post(create_account_type),
        )
        .route("/v2/accountTypes/{id}", delete(delete_account_type))
        .route(
            "/v2/accountTypes/{id}/permissions",
            get(account_type_permissions),
        )
}

fn query<'a>(q: &'a HashMap<String, String>, key: &str) -> Option<&'a str> {
    q.get(key).map(String::as_str).filter(|v| !v.is_empty())
}

async fn list_workspaces(State(s): S, h: HeaderMap, Query(q): Params) -> Response {
    with_org(&s, &h, false, |org| {
        let items = org.list_workspaces(query(&q, "name"), query(&q, "exactName"));
        list(&items, &q, |w| org.workspace_json(w))
    })
}

async fn create_workspace(State(s): S, h: HeaderMap, body: Bytes) -> Response {
    with_body(&s, &h, &body, super::store::SigmaOrg::create_workspace)
}

async fn get_workspace(State(s): S, h: HeaderMap, Path(id): Id) -> Response {
    with_org(&s, &h, false, |org| org.get_workspace(&id))
}

async fn update_workspace(State(s): S, h: HeaderMap, Path(id): Id, body: Bytes) -> Response {
    with_body(&s, &h, &body, |org, b| org.update_workspace(&id, b))
}

async fn delete_workspace(State(s): S, h: HeaderMap, Path(id): Id) -> Response {
    with_org(&s, &h, true, |org| org.delete_workspace(&id))
}

async fn workspace_grants(State(s): S, h: HeaderMap, Path(id): Id, Query(q): Params) -> Response {
    with_org(&s, &h, false, |org| {
        list(&org.inode_grants(Inode::Workspace, &id)?, &q, |g| {
            org.grant_json(g)
        })
    })
}

async fn grant_workspace(State(s): S, h: HeaderMap, Path(id): Id, body: Bytes) -> Response {
    with_body(&s, &h, &body, |org, b| {
        org.grant_inode(Inode::Workspace, &id, b)
    })
}

async fn revoke_workspace_grant(State(s): S, h: HeaderMap, Path((id, grant)): Ids) -> Response {
    with_org(&s, &h, true, |org| {
        org.revoke_inode_grant(Inode::Workspace, &id, &grant)
    })
}

async fn list_grants(State(s): S, h: HeaderMap, Query(q): Params) -> Response {
    with_org(&s, &h, false, |org| {
        let items = org.list_grants(
            query(&q, "inodeId"),
            query(&q, "teamId"),
            query(&q, "userId"),
        );
        list(&items, &q, |g| org.document_grant_json(g))
    })
}

async fn create_grant(State(s): S, h: HeaderMap, body: Bytes) -> Response {
    with_body(&s, &h, &body, super::store::SigmaOrg::create_grant)
}

async fn get_grant(State(s): S, h: HeaderMap, Path(id): Id) -> Response {
    with_org(&s, &h, false, |org| org.get_grant(&id))
}

async fn delete_grant(State(s): S, h: HeaderMap, Path(id): Id) -> Response {
    with_org(&s, &h, true, |org| org.delete_grant(&id))
}

async fn list_connections(State(s): S, h: HeaderMap, Query(q): Params) -> Response {
    with_org(&s, &h, false, |org| {
        let items = org.list_connections(flag(&q, "includeArchived"), query(&q, "search"));
        list(&items, &q, |c| org.connection_json(c))
    })
}

/// Connections hold a warehouse's credentials; the emulator lists the ones
/// it has and creates none (roster never does): 405, with `Allow: GET`.
async fn create_connection(State(s): S, h: HeaderMap) -> Response {
    let mut r = with_org(&s, &h, false, |_| {
        Err::<Value, _>(error(
            405,
            "The sandbox does not create connections: they hold a warehouse's credentials, and roster only grants access to existing ones",
        ))
    });
    if r.status() == StatusCode::METHOD_NOT_ALLOWED {
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET"));
    }
    r
}

async fn get_connection(State(s): S, h: HeaderMap, Path(id): Id) -> Response {
    with_org(&s, &h, false, |org| org.get_connection(&id))
}

async fn connection_grants(State(s): S, h: HeaderMap, Path(id): Id, Query(q): Params) -> Response {
    with_org(&s, &h, false, |org| {
        list(&org.inode_grants(Inode::Connection, &id)?, &q, |g| {
            org.grant_json(g)
        })
    })
}

async fn grant_connection(State(s): S, h: HeaderMap, Path(id): Id, body: Bytes) -> Response {
    with_body(&s, &h, &body, |org, b| {
        org.grant_inode(Inode::Connection, &id, b)
    })
}

async fn revoke_connection_grant(State(s): S, h: HeaderMap, Path((id, grant)): Ids) -> Response {
    with_org(&s, &h, true, |org| {
        org.revoke_inode_grant(Inode::Connection, &id, &grant)
    })
}

async fn list_attributes(State(s): S, h: HeaderMap, Query(q): Params) -> Response {
    with_org(&s, &h, false, |org| {
        let items = org.list_attributes(query(&q, "name"));
        list(&items, &q, |a| org.attribute_json(a))
    })
}

async fn create_attribute(State(s): S, h: HeaderMap, body: Bytes) -> Response {
    with_body(&s, &h, &body, super::store::SigmaOrg::create_attribute)
}

async fn get_attribute(State(s): S, h: HeaderMap, Path(id): Id) -> Response {
    with_org(&s, &h, false, |org| org.get_attribute(&id))
}

async fn delete_attribute(State(s): S, h: HeaderMap, Path(id): Id) -> Response {
    with_org(&s, &h, true, |org| org.delete_attribute(&id))
}

async fn attribute_users(State(s): S, h: HeaderMap, Path(id): Id, Query(q): Params) -> Response {
    with_org(&s, &h, false, |org| {
        list(&org.attribute_users(&id)?, &q, |a| org.assigned_json(a))
    })
}

async fn attribute_teams(State(s): S, h: HeaderMap, Path(id): Id, Query(q): Params) -> Response {
    with_org(&s, &h, false, |org| {
        list(&org.attribute_teams(&id)?, &q, |a| org.assigned_json(a))
    })
}

async fn attribute_tenants(State(s): S, h: HeaderMap, Path(id): Id, Query(q): Params) -> Response {
    with_org(&s, &h, false, |org| {
        list(&org.attribute_tenants(&id)?, &q, Value::clone)
    })
}

async fn set_tenant_values(State(s): S, h: HeaderMap, Path(id): Id, body: Bytes) -> Response {
    with_body(&s, &h, &body, |org, b| org.set_tenant_values(&id, b))
}

async fn remove_tenant_values(State(s): S, h: HeaderMap, Path(id): Id, body: Bytes) -> Response {
    with_body(&s, &h, &body, |org, b| org.remove_tenant_values(&id, b))
}

async fn set_user_values(State(s): S, h: HeaderMap, Path(id): Id, body: Bytes) -> Response {
    with_body(&s, &h, &body, |org, b| org.set_user_values(&id, b))
}

async fn set_team_values(State(s): S, h: HeaderMap, Path(id): Id, body: Bytes) -> Response {
    with_body(&s, &h, &body, |org, b| org.set_team_values(&id, b))
}

async fn remove_user_values(State(s): S, h: HeaderMap, Path(id): Id, body: Bytes) -> Response {
    with_body(&s, &h, &body, |org, b| org.remove_values(&id, b, false))
}

async fn remove_team_values(State(s): S, h: HeaderMap, Path(id): Id, body: Bytes) -> Response {
    with_body(&s, &h, &body, |org, b| org.remove_values(&id, b, true))
}

async fn remove_user_value(State(s): S, h: HeaderMap, Path((id, who)): Ids) -> Response {
    with_org(&s, &h, true, |org| org.remove_value(&id, &who, false))
}

async fn remove_team_value(State(s): S, h: HeaderMap, Path((id, who)): Ids) -> Response {
    with_org(&s, &h, true, |org| org.remove_value(&id, &who, true))
}

async fn team_attributes(State(s): S, h: HeaderMap, Path(id): Id, Query(q): Params) -> Response {
    with_org(&s, &h, false, |org| {
        list(&org.team_attributes(&id)?, &q, Value::clone)
    })
}

async fn assign_team_attributes(State(s): S, h: HeaderMap, Path(id): Id, body: Bytes) -> Response {
    with_body(&s, &h, &body, |org, b| org.assign_team_attributes(&id, b))
}

/// `GET /v2/accountTypes`: `pageToken`/`pageSize`, `nextPageToken` absent on
/// the last page.
async fn account_types(State(s): S, h: HeaderMap, Query(q): Params) -> Response {
    with_org(&s, &h, false, |org| {
        let items = org.account_types_json();
        let size = q
            .get("pageSize")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(50)
            .clamp(1, 1000);
        let start = q
            .get("pageToken")
            .and_then(|p| p.strip_prefix("t"))
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(0)
            .min(items.len());
        let end = (start + size).min(items.len());
        let mut out = json!({ "entries": items[start..end] });
        if end < items.len() {
            out["nextPageToken"] = json!(format!("t{end}"));
        }
        Ok(out)
    })
}

/// `POST /v2/accountTypes`: 201 with the new type.
async fn create_account_type(State(s): S, h: HeaderMap, body: Bytes) -> Response {
    let mut r = with_body(&s, &h, &body, super::store::SigmaOrg::create_account_type);
    if r.status() == StatusCode::OK {
        *r.status_mut() = StatusCode::CREATED;
    }
    r
}

async fn delete_account_type(
    State(s): S,
    h: HeaderMap,
    Path(id): Id,
    Query(q): Params,
) -> Response {
    with_org(&s, &h, true, |org| {
        org.delete_account_type(&id, query(&q, "reassignToAccountTypeId"))
    })
}

async fn account_type_permissions(State(s): S, h: HeaderMap, Path(id): Id) -> Response {
    with_org(&s, &h, false, |org| org.account_type_permissions(&id))
}
