//! The SCIM 2.0 protocol over HTTP (RFC 7644), one service per name under
//! `/scim/{service}/v2`: bearer-token auth, `application/scim+json`,
//! `ETag`/`If-Match`, list answers with paging, errors as SCIM `Error`s.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::{Map, Value, json};

use super::filter::{self, get_ci};
use super::schema;
use super::store::{Kind, ListQuery, MembersReturned, ScimError, ScimService};
use crate::sandbox::shared::Shared;

/// Where the services are served: `{PREFIX}/{service}/v2`.
pub const PREFIX: &str = "/scim";
const CONTENT_TYPE: &str = "application/scim+json";

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/scim/{service}/v2/Users",
            get(list_users).post(create_user).fallback(not_allowed),
        )
        .route(
            "/scim/{service}/v2/Users/{id}",
            get(get_user)
                .put(put_user)
                .patch(patch_user)
                .delete(delete_user)
                .fallback(not_allowed),
        )
        .route(
            "/scim/{service}/v2/Groups",
            get(list_groups).post(create_group).fallback(not_allowed),
        )
        .route(
            "/scim/{service}/v2/Groups/{id}",
            get(get_group)
                .put(put_group)
                .patch(patch_group)
                .delete(delete_group)
                .fallback(not_allowed),
        )
        .route(
            "/scim/{service}/v2/ServiceProviderConfig",
            any(service_provider_config),
        )
        .route("/scim/{service}/v2/Schemas", any(schemas))
        .route("/scim/{service}/v2/Schemas/{id}", any(schema_by_id))
        .route("/scim/{service}/v2/ResourceTypes", any(resource_types))
        .route(
            "/scim/{service}/v2/ResourceTypes/{id}",
            any(resource_type_by_id),
        )
        .route("/scim/{service}/v2/.search", post(search_everywhere))
        .route("/scim/{service}/v2/Users/.search", post(search_users))
        .route("/scim/{service}/v2/Groups/.search", post(search_groups))
        .route("/scim/{service}/v2/{*rest}", any(unknown))
        .route("/scim/{service}/v2", any(unknown_root))
}

/// The service a request's path names, for the sandbox's request log.
pub fn service_of(path: &str) -> Option<String> {
    let rest = path.strip_prefix(PREFIX)?.strip_prefix('/')?;
    let name = rest.split('/').next().filter(|n| !n.is_empty())?;
    Some(
        percent_encoding::percent_decode_str(name)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

/// A successful answer: status, body, the resource's ETag if one.
struct Reply {
    status: StatusCode,
    body: Option<Value>,
    etag: Option<String>,
    location: Option<String>,
}

impl Reply {
    fn ok(body: Value) -> Self {
        Reply {
            status: StatusCode::OK,
            body: Some(body),
            etag: None,
            location: None,
        }
    }
}

fn respond(result: Result<Reply, ScimError>) -> Response {
    let (status, body, etag, location) = match result {
        Ok(r) => (r.status, r.body, r.etag, r.location),
        Err(e) => (
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            Some(e.body()),
            None,
            None,
        ),
    };
    let mut response = match body {
        Some(b) => (
            status,
            [(header::CONTENT_TYPE, CONTENT_TYPE)],
            serde_json::to_vec(&b).expect("SCIM answers always serialize"),
        )
            .into_response(),
        None => status.into_response(),
    };
    let headers = response.headers_mut();
    for (name, value) in [(header::ETAG, etag), (header::LOCATION, location)] {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(name, v);
        }
    }
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"roster-sandbox-scim\""),
        );
    }
    response
}

/// The service's URL as the client reached it (for `meta.location`).
fn base_url(headers: &HeaderMap, service: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}{PREFIX}/{service}/v2")
}

/// Authenticates, then runs `op` on the service; writes are counted.
fn with_service<T>(
    shared: &Shared,
    service: &str,
    headers: &HeaderMap,
    write: bool,
    op: impl FnOnce(&mut ScimService) -> Result<T, ScimError>,
) -> Result<T, ScimError> {
    let mut data = shared.data.lock().expect("sandbox lock");
    let s = data
        .scim
        .get_mut(service)
        .ok_or_else(|| ScimError::new(404, None, format!("no SCIM service named {service:?}")))?;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    match token {
        None => return Err(ScimError::new(401, None, "a bearer token is required")),
        Some(t) if t.trim() != s.token => {
            return Err(ScimError::new(401, None, "the bearer token is not valid"));
        }
        Some(_) => {}
    }
    let out = op(s)?;
    if write {
        shared.record_write();
    }
    Ok(out)
}

fn json_body(body: &Bytes) -> Result<Value, ScimError> {
    serde_json::from_slice(body)
        .map_err(|e| ScimError::bad("invalidSyntax", format!("malformed JSON body: {e}")))
}

fn if_match(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

type Params = Query<HashMap<String, String>>;

/// A list request's `filter`, `startIndex` and `count`.
fn list_query(q: &HashMap<String, String>) -> Result<ListQuery, ScimError> {
    let number = |name: &str| -> Result<Option<i64>, ScimError> {
        q.get(name)
            .map(|v| {
                v.trim().parse::<i64>().map_err(|_| {
                    ScimError::bad(
                        "invalidValue",
                        format!("{name} must be an integer, not {v:?}"),
                    )
                })
            })
            .transpose()
    };
    Ok(ListQuery {
        filter: q
            .get("filter")
            .map(|f| filter::parse_filter(f))
            .transpose()?,
        start_index: number("startIndex")?.unwrap_or(1).max(1) as usize,
        count: number("count")?.map(|c| c.max(0) as usize),
    })
}

/// `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5), as lower-cased
/// `(attribute, sub-attribute)` pairs.
fn names(list: Option<&String>) -> Vec<(String, Option<String>)> {
    list.into_iter()
        .flat_map(|l| l.split(','))
        .filter_map(|n| filter::parse_path(n).ok())
        .map(|p| (p.attr, p.sub))
        .collect()
}

/// The resource with only the attributes asked for (`id` and `schemas`
/// are always returned).
fn project(v: Value, q: &HashMap<String, String>) -> Value {
    let (only, except) = (
        names(q.get("attributes")),
        names(q.get("excludedAttributes")),
    );
    let Value::Object(obj) = v else { return v };
    let mut out = Map::new();
    for (key, value) in obj {
        let lower = key.to_ascii_lowercase();
        if lower == "id" || lower == "schemas" {
            out.insert(key, value);
            continue;
        }
        let asked: Vec<&Option<String>> = only
            .iter()
            .filter(|(a, _)| *a == lower)
            .map(|(_, s)| s)
            .collect();
        let dropped: Vec<&Option<String>> = except
            .iter()
            .filter(|(a, _)| *a == lower)
            .map(|(_, s)| s)
            .collect();
        if (!only.is_empty() && asked.is_empty()) || dropped.contains(&&None) {
            continue;
        }
        let keep_subs: Vec<&str> = asked.iter().filter_map(|s| s.as_deref()).collect();
        let drop_subs: Vec<&str> = dropped.iter().filter_map(|s| s.as_deref()).collect();
        let whole = asked.contains(&&None) || only.is_empty();
        out.insert(key, trim_subs(value, whole, &keep_subs, &drop_subs));
    }
    Value::Object(out)
}

/// A group as the service shows it: without `members` where its
/// [`MembersReturned`] leaves them out of this answer (`in_list`: part of
/// a list answer), unless the request names them in `attributes` and the
/// service honours that.
fn shown(svc: &ScimService, v: Value, q: &HashMap<String, String>, in_list: bool) -> Value {
    let asked = names(q.get("attributes"))
        .iter()
        .any(|(attr, _)| attr == "members");
    let left_out = match svc.behaviour.members {
        MembersReturned::Default => false,
        MembersReturned::NotInLists => in_list,
        MembersReturned::Request => !asked,
    };
    let is_group = get_ci(&v, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|u| u.as_str() == Some(schema::GROUP_SCHEMA)));
    match v {
        Value::Object(mut obj) if left_out && is_group => {
            obj.retain(|k, _| !k.eq_ignore_ascii_case("members"));
            Value::Object(obj)
        }
        v => v,
    }
}

fn trim_subs(value: Value, whole: bool, keep: &[&str], drop: &[&str]) -> Value {
    match value {
        Value::Array(a) => Value::Array(
            a.into_iter()
                .map(|v| trim_subs(v, whole, keep, drop))
                .collect(),
        ),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .filter(|(k, _)| {
                    let k = k.to_ascii_lowercase();
                    (whole || keep.contains(&k.as_str())) && !drop.contains(&k.as_str())
                })
                .collect(),
        ),
        v => v,
    }
}

fn list(
    s: &Shared,
    service: &str,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    kind: Kind,
) -> Response {
    let base = base_url(headers, service);
    respond(with_service(s, service, headers, false, |svc| {
        let query = list_query(q)?;
        let (total, page) = svc.list(kind, &query, &base);
        Ok(Reply::ok(json!({
            "schemas": [schema::LIST_RESPONSE],
            "totalResults": total,
            "startIndex": query.start_index,
            "itemsPerPage": page.len(),
            "Resources": page.into_iter().map(|r| shown(svc, project(r, q), q, true)).collect::<Vec<_>>(),
        })))
    }))
}

/// One resource's answer, with its ETag.
fn one(
    svc: &ScimService,
    kind: Kind,
    id: &str,
    base: &str,
    q: &HashMap<String, String>,
) -> Result<Reply, ScimError> {
    let r = svc.get(kind, id)?;
    Ok(Reply {
        status: StatusCode::OK,
        body: Some(shown(svc, project(svc.render(kind, r, base), q), q, false)),
        etag: Some(r.etag()),
        location: None,
    })
}

fn get_one(
    s: &Shared,
    service: &str,
    id: &str,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    kind: Kind,
) -> Response {
    let base = base_url(headers, service);
    let none_match = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    respond(with_service(s, service, headers, false, |svc| {
        let reply = one(svc, kind, id, &base, q)?;
        if none_match.is_some() && none_match == reply.etag.as_deref() {
            return Ok(Reply {
                status: StatusCode::NOT_MODIFIED,
                body: None,
                ..reply
            });
        }
        Ok(reply)
    }))
}

fn create(s: &Shared, service: &str, headers: &HeaderMap, body: &Bytes, kind: Kind) -> Response {
    let base = base_url(headers, service);
    respond(with_service(s, service, headers, true, |svc| {
        let body = json_body(body)?;
        let id = svc.create(kind, &body)?.id.clone();
        let reply = one(svc, kind, &id, &base, &HashMap::new())?;
        Ok(Reply {
            status: StatusCode::CREATED,
            location: Some(format!("{base}/{}/{id}", kind.endpoint())),
            ..reply
        })
    }))
}

#[derive(Clone, Copy)]
enum Write {
    Put,
    Patch,
}

fn update(
    s: &Shared,
    service: &str,
    id: &str,
    headers: &HeaderMap,
    body: &Bytes,
    kind: Kind,
    how: Write,
) -> Response {
    let base = base_url(headers, service);
    let tag = if_match(headers);
    respond(with_service(s, service, headers, true, |svc| {
        svc.get(kind, id)?;
        if matches!(how, Write::Patch) && svc.behaviour.no_patch {
            return Err(ScimError::new(
                501,
                None,
                "this service does not support PATCH (see /ServiceProviderConfig)",
            ));
        }
        let body = json_body(body)?;
        match how {
            Write::Put => svc.replace(kind, id, &body, tag.as_deref())?,
            Write::Patch => svc.patch(kind, id, &body, tag.as_deref())?,
        };
        one(svc, kind, id, &base, &HashMap::new())
    }))
}

fn delete(s: &Shared, service: &str, id: &str, headers: &HeaderMap, kind: Kind) -> Response {
    let tag = if_match(headers);
    respond(with_service(s, service, headers, true, |svc| {
        svc.delete(kind, id, tag.as_deref())?;
        Ok(Reply {
            status: StatusCode::NO_CONTENT,
            body: None,
            etag: None,
            location: None,
        })
    }))
}

type Svc = Path<String>;
type SvcId = Path<(String, String)>;
type St = State<Arc<Shared>>;

async fn list_users(State(s): St, Path(svc): Svc, h: HeaderMap, Query(q): Params) -> Response {
    list(&s, &svc, &h, &q, Kind::User)
}
async fn list_groups(State(s): St, Path(svc): Svc, h: HeaderMap, Query(q): Params) -> Response {
    list(&s, &svc, &h, &q, Kind::Group)
}
async fn create_user(State(s): St, Path(svc): Svc, h: HeaderMap, b: Bytes) -> Response {
    create(&s, &svc, &h, &b, Kind::User)
}
async fn create_group(State(s): St, Path(svc): Svc, h: HeaderMap, b: Bytes) -> Response {
    create(&s, &svc, &h, &b, Kind::Group)
}
async fn get_user(
    State(s): St,
    Path((svc, id)): SvcId,
    h: HeaderMap,
    Query(q): Params,
) -> Response {
    get_one(&s, &svc, &id, &h, &q, Kind::User)
}
async fn get_group(
    State(s): St,
    Path((svc, id)): SvcId,
    h: HeaderMap,
    Query(q): Params,
) -> Response {
    get_one(&s, &svc, &id, &h, &q, Kind::Group)
}
async fn put_user(State(s): St, Path((svc, id)): SvcId, h: HeaderMap, b: Bytes) -> Response {
    update(&s, &svc, &id, &h, &b, Kind::User, Write::Put)
}
async fn put_group(State(s): St, Path((svc, id)): SvcId, h: HeaderMap, b: Bytes) -> Response {
    update(&s, &svc, &id, &h, &b, Kind::Group, Write::Put)
}
async fn patch_user(State(s): St, Path((svc, id)): SvcId, h: HeaderMap, b: Bytes) -> Response {
    update(&s, &svc, &id, &h, &b, Kind::User, Write::Patch)
}
async fn patch_group(State(s): St, Path((svc, id)): SvcId, h: HeaderMap, b: Bytes) -> Response {
    update(&s, &svc, &id, &h, &b, Kind::Group, Write::Patch)
}
async fn delete_user(State(s): St, Path((svc, id)): SvcId, h: HeaderMap) -> Response {
    delete(&s, &svc, &id, &h, Kind::User)
}
async fn delete_group(State(s): St, Path((svc, id)): SvcId, h: HeaderMap) -> Response {
    delete(&s, &svc, &id, &h, Kind::Group)
}

/// A discovery endpoint: read-only (other methods 405), authenticated.
fn discovery(
    s: &Shared,
    service: &str,
    method: &axum::http::Method,
    headers: &HeaderMap,
    answer: impl FnOnce(&str) -> Result<Value, ScimError>,
) -> Response {
    let base = base_url(headers, service);
    respond(with_service(s, service, headers, false, |_| {
        if method != axum::http::Method::GET {
            return Err(ScimError::new(
                405,
                None,
                format!("{method} is not allowed here"),
            ));
        }
        answer(&base).map(Reply::ok)
    }))
}

fn list_of(items: Vec<Value>) -> Value {
    json!({
        "schemas": [schema::LIST_RESPONSE],
        "totalResults": items.len(),
        "startIndex": 1,
        "itemsPerPage": items.len(),
        "Resources": items,
    })
}

fn by_id(items: Vec<Value>, what: &str, id: &str) -> Result<Value, ScimError> {
    items
        .into_iter()
        .find(|v| get_ci(v, "id").and_then(Value::as_str) == Some(id))
        .ok_or_else(|| ScimError::new(404, None, format!("no {what} {id:?}")))
}

type M = axum::http::Method;

async fn service_provider_config(State(s): St, Path(svc): Svc, m: M, h: HeaderMap) -> Response {
    let patch = {
        let data = s.data.lock().expect("sandbox lock");
        data.scim.get(&svc).is_none_or(|v| !v.behaviour.no_patch)
    };
    discovery(&s, &svc, &m, &h, |b| {
        Ok(schema::service_provider_config(b, patch))
    })
}
async fn schemas(State(s): St, Path(svc): Svc, m: M, h: HeaderMap) -> Response {
    discovery(&s, &svc, &m, &h, |b| Ok(list_of(schema::schemas(b))))
}
async fn schema_by_id(State(s): St, Path((svc, id)): SvcId, m: M, h: HeaderMap) -> Response {
    discovery(&s, &svc, &m, &h, |b| {
        by_id(schema::schemas(b), "schema", &id)
    })
}
async fn resource_types(State(s): St, Path(svc): Svc, m: M, h: HeaderMap) -> Response {
    discovery(&s, &svc, &m, &h, |b| Ok(list_of(schema::resource_types(b))))
}
async fn resource_type_by_id(State(s): St, Path((svc, id)): SvcId, m: M, h: HeaderMap) -> Response {
    discovery(&s, &svc, &m, &h, |b| {
        by_id(schema::resource_types(b), "resource type", &id)
    })
}

/// A `SearchRequest` body (RFC 7644 §3.4.3) as the query parameters of a
/// GET on the same resources.
fn search_params(body: &Bytes) -> Result<HashMap<String, String>, ScimError> {
    const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
    let v = json_body(body)?;
    let listed = get_ci(&v, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|u| u.as_str() == Some(SEARCH)));
    if !listed {
        return Err(ScimError::bad(
            "invalidSyntax",
            format!("schemas must list {SEARCH}"),
        ));
    }
    let mut q = HashMap::new();
    for name in [
        "filter",
        "startIndex",
        "count",
        "attributes",
        "excludedAttributes",
    ] {
        let text = match get_ci(&v, name) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
            Some(other) => other.to_string(),
        };
        q.insert(name.to_string(), text);
    }
    Ok(q)
}

/// POST `/.search` at the root: Users, then Groups, paged as one list.
fn search_all(
    svc: &ScimService,
    q: &HashMap<String, String>,
    base: &str,
) -> Result<Reply, ScimError> {
    let query = list_query(q)?;
    let (users, mut page) = svc.list(Kind::User, &query, base);
    let count = query
        .count
        .unwrap_or(schema::DEFAULT_COUNT)
        .min(schema::MAX_RESULTS);
    let groups_query = ListQuery {
        start_index: query.start_index.saturating_sub(users).max(1),
        count: Some(count - page.len()),
        ..query.clone()
    };
    let (groups, more) = svc.list(Kind::Group, &groups_query, base);
    page.extend(more);
    Ok(Reply::ok(json!({
        "schemas": [schema::LIST_RESPONSE],
        "totalResults": users + groups,
        "startIndex": query.start_index,
        "itemsPerPage": page.len(),
        "Resources": page.into_iter().map(|r| shown(svc, project(r, q), q, true)).collect::<Vec<_>>(),
    })))
}

async fn search_everywhere(State(s): St, Path(svc): Svc, h: HeaderMap, b: Bytes) -> Response {
    let base = base_url(&h, &svc);
    respond(with_service(&s, &svc, &h, false, |service| {
        search_all(service, &search_params(&b)?, &base)
    }))
}

fn search(s: &Shared, service: &str, h: &HeaderMap, b: &Bytes, kind: Kind) -> Response {
    match search_params(b) {
        Ok(q) => list(s, service, h, &q, kind),
        Err(e) => respond(with_service(s, service, h, false, |_| Err::<Reply, _>(e))),
    }
}

async fn search_users(State(s): St, Path(svc): Svc, h: HeaderMap, b: Bytes) -> Response {
    search(&s, &svc, &h, &b, Kind::User)
}

async fn search_groups(State(s): St, Path(svc): Svc, h: HeaderMap, b: Bytes) -> Response {
    search(&s, &svc, &h, &b, Kind::Group)
}

/// A method the endpoint does not serve: 405, as a SCIM error.
async fn not_allowed(m: M) -> Response {
    respond(Err(ScimError::new(
        405,
        None,
        format!("{m} is not allowed here"),
    )))
}

async fn unknown(State(s): St, Path((svc, rest)): SvcId, m: M, h: HeaderMap) -> Response {
    respond(with_service(&s, &svc, &h, false, |_| {
        Err::<Reply, _>(ScimError::new(
            404,
            None,
            format!("no such endpoint: {m} /{rest}"),
        ))
    }))
}

async fn unknown_root(State(s): St, Path(svc): Svc, m: M, h: HeaderMap) -> Response {
    respond(with_service(&s, &svc, &h, false, |_| {
        Err::<Reply, _>(ScimError::new(
            404,
            None,
            format!("no such endpoint: {m} /"),
        ))
    }))
}
