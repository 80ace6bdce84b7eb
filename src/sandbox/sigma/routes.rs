//! The Sigma v2/v2.1 API over HTTP, as the reference describes: OAuth client
//! credentials at `/v2/auth/token`, bearer tokens that expire, members,
//! teams and team members (access: `access_routes`), errors as `{"message": ...}`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Value, json};

use super::requests::{Params, error, flag, list, respond, with_body, with_org};
use super::store::{SigmaOrg, paginate};
use crate::sandbox::answer::{Answer, ApiError};
use crate::sandbox::shared::Shared;

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/v2/auth/token", post(token))
        .route("/v2/whoami", get(whoami))
        .route("/v2/members", get(list_members_v2).post(create_member))
        .route("/v2.1/members", get(list_members_v21))
        .route(
            "/v2/members/{id}",
            get(get_member).patch(update_member).delete(delete_member),
        )
        .route("/v2/teams", get(list_teams_v2).post(create_team))
        .route("/v2.1/teams", get(list_teams_v21))
        .route(
            "/v2/teams/{id}",
            get(get_team).patch(update_team).delete(delete_team),
        )
        .route(
            "/v2/teams/{id}/members",
            get(team_members).patch(patch_team_members),
        )
        .route("/v2/members/{id}/files", get(member_files))
        .route("/v2/members/{id}/revoke", post(revoke_member_tokens))
        .route("/v2/members/{id}/schedules", get(member_schedules))
        .merge(super::access_routes::routes())
}

/// The credentials of a token request: form fields, JSON fields, or HTTP
/// Basic (client ID as user, secret as password).
fn token_fields(headers: &HeaderMap, body: &Bytes) -> Result<HashMap<String, String>, ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let mut fields: HashMap<String, String> = if json {
        let v: Value =
            serde_json::from_slice(body).map_err(|_| error(400, "malformed JSON body"))?;
        v.as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    } else {
        url::form_urlencoded::parse(body).into_owned().collect()
    };
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok());
    if let Some((id, secret)) = basic.as_deref().and_then(|b| b.split_once(':')) {
        fields
            .entry("client_id".into())
            .or_insert_with(|| id.to_string());
        fields
            .entry("client_secret".into())
            .or_insert_with(|| secret.to_string());
    }
    Ok(fields)
}

async fn token(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let result = token_fields(&headers, &body).and_then(|f| {
        let field = |k: &str| f.get(k).map(String::as_str).unwrap_or_default();
        let org = match field("grant_type") {
            "client_credentials" => {
                let data = s.data.lock().expect("sandbox lock");
                data.sigma
                    .iter()
                    .find(|(_, o)| {
                        o.client_id == field("client_id")
                            && o.client_secret == field("client_secret")
                    })
                    .map(|(name, _)| name.clone())
                    .ok_or_else(|| error(401, "Invalid client credentials"))?
            }
            "refresh_token" => s
                .sigma_refresh(field("refresh_token"))
                .ok_or_else(|| error(401, "Invalid refresh token"))?,
            other => return Err(error(400, format!("unsupported grant_type '{other}'"))),
        };
        let (access, refresh, ttl) = s.sigma_issue(&org);
        Ok(json!({
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": ttl,
        }))
    });
    respond(result)
}

fn members_of<'a>(
    org: &'a SigmaOrg,
    q: &HashMap<String, String>,
) -> Vec<&'a super::store::SigmaMember> {
    let email = q
        .get("email")
        .or_else(|| q.get("search"))
        .map(String::as_str);
    org.list_members(
        flag(q, "includeArchived"),
        flag(q, "includeInactive"),
        email,
    )
}

fn members(s: &Shared, headers: &HeaderMap, q: &HashMap<String, String>) -> Response {
    with_org(s, headers, false, |org| {
        list(&members_of(org, q), q, |m| org.member_out(m, false))
    })
}

async fn list_members_v2(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Params,
) -> Response {
    members(&s, &headers, &q)
}

async fn list_members_v21(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Params,
) -> Response {
    members(&s, &headers, &q)
}

async fn whoami(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    with_org(&s, &headers, false, |org| Ok(org.whoami()))
}

async fn get_member(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    with_org(&s, &headers, false, |org| org.get_member(&id))
}

async fn create_member(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Params,
    body: Bytes,
) -> Response {
    // `sendInvite` is a query parameter; absent means true.
    let send_invite = !q
        .get("sendInvite")
        .is_some_and(|v| v.eq_ignore_ascii_case("false"));
    with_body(&s, &headers, &body, |org, b| {
        org.create_member(b, send_invite)
    })
}

async fn member_files(
    s: State<Arc<Shared>>,
    h: HeaderMap,
    id: Path<String>,
    q: Params,
) -> Response {
    member_list(s, h, id, q, SigmaOrg::member_files)
}

async fn member_schedules(
    s: State<Arc<Shared>>,
    h: HeaderMap,
    id: Path<String>,
    q: Params,
) -> Response {
    member_list(s, h, id, q, SigmaOrg::member_schedules)
}

/// How a member's paged sub-list is answered: from the member's id and the
/// `limit` and `page` parameters.
type MemberList = fn(&SigmaOrg, &str, Option<&str>, Option<&str>) -> Result<Answer, ApiError>;

/// A member's paged sub-list (files, schedules), answered by `list`.
fn member_list(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Params,
    list: MemberList,
) -> Response {
    with_org(&s, &headers, false, |org| {
        list(
            org,
            &id,
            q.get("limit").map(String::as_str),
            q.get("page").map(String::as_str),
        )
    })
}

async fn revoke_member_tokens(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    with_body(&s, &headers, &body, |org, _| org.revoke_member_tokens(&id))
}

async fn update_member(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    with_body(&s, &headers, &body, |org, b| org.update_member(&id, b))
}

async fn delete_member(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    with_org(&s, &headers, true, |org| org.delete_member(&id))
}

fn teams(s: &Shared, headers: &HeaderMap, q: &HashMap<String, String>) -> Response {
    with_org(s, headers, false, |org| {
        let items = org.list_teams(q.get("name").map(String::as_str));
        list(&items, q, Value::clone)
    })
}

async fn list_teams_v2(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Params,
) -> Response {
    teams(&s, &headers, &q)
}

async fn list_teams_v21(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Params,
) -> Response {
    teams(&s, &headers, &q)
}

async fn get_team(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    with_org(&s, &headers, false, |org| org.get_team(&id))
}

async fn create_team(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    with_body(&s, &headers, &body, super::store::SigmaOrg::create_team)
}

async fn update_team(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    with_body(&s, &headers, &body, |org, b| org.update_team(&id, b))
}

async fn delete_team(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    with_org(&s, &headers, true, |org| org.delete_team(&id))
}

async fn team_members(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Params,
) -> Response {
    with_org(&s, &headers, false, |org| {
        paginate(
            org.team_members(&id)?,
            q.get("limit").map(String::as_str),
            q.get("page").map(String::as_str),
            |m| org.team_member_out(&id, m),
        )
        .map(Answer::from)
    })
}

async fn patch_team_members(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    with_body(&s, &headers, &body, |org, b| org.patch_team_members(&id, b))
}
