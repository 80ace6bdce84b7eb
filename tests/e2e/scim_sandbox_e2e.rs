//! The sandbox's SCIM 2.0 service (RFC 7643/7644) over real HTTP: its own
//! rules for uniqueness, filters, paging, PATCH, ETags and auth, and the
//! base URL and token `roster sandbox` prints.

use crate::common::*;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const TOKEN: &str = "sandbox-scim-token";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// Seeded ids: users 1..=5 (tim, 5, inactive), groups Analysts (0xa),
/// Finance (0xb), Contractors (0xc).
fn id(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

struct Scim {
    base: String,
    http: Client,
}

/// An answer: status, headers we read, JSON body (Null when empty).
struct Answer {
    status: StatusCode,
    content_type: Option<String>,
    etag: Option<String>,
    body: Value,
}

impl Scim {
    fn new(sb: &BackgroundSandbox) -> Scim {
        Scim {
            base: format!("{}/scim/acme-scim/v2", sb.url),
            http: Client::new(),
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("Content-Type", "application/scim+json");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .map(|v| v.to_str().unwrap().to_string())
        };
        let (content_type, etag) = (header("content-type"), header("etag"));
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        Answer {
            status,
            content_type,
            etag,
            body,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let auth = format!("Bearer {TOKEN}");
        self.send(method, path, body, &[("Authorization", &auth)])
            .await
    }

    async fn list(&self, query: &str) -> Value {
        let a = self
            .call(Method::GET, &format!("/Users?{query}"), None)
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        a.body
    }
}

/// The SCIM error body (RFC 7644 §3.12), its content type and status.
fn assert_error(a: &Answer, status: u16, scim_type: Option<&str>) {
    assert_eq!(a.status.as_u16(), status, "{}", a.body);
    assert_eq!(a.content_type.as_deref(), Some("application/scim+json"));
    assert_eq!(a.body["schemas"], json!([ERROR]));
    assert_eq!(a.body["status"], json!(status.to_string()));
    assert_eq!(a.body["scimType"].as_str(), scim_type, "{}", a.body);
    assert!(a.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
}

fn user_names(list: &Value) -> Vec<&str> {
    list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userName"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_user_name_taken_in_another_case_is_refused_with_409_uniqueness() {
    let sb = seeded_sandbox();
    let scim = Scim::new(&sb);
    let user = |name: &str| json!({"schemas": [USER], "userName": name});
    let a = scim
        .call(Method::POST, "/Users", Some(user("ADA@Acme.COM")))
        .await;
    assert_error(&a, 409, Some("uniqueness"));
    assert_eq!(
        a.body["detail"],
        "userName \"ADA@Acme.COM\" is already taken (compared case-insensitively)"
    );
    // A rename onto a taken name is refused the same way; the user's own
    // name in another case is not taken.
    let grace = format!("/Users/{}", id(2));
    let a = scim
        .call(Method::PUT, &grace, Some(user("Ada@acme.com")))
        .await;
    assert_error(&a, 409, Some("uniqueness"));
    let a = scim
        .call(Method::PUT, &grace, Some(user("GRACE@acme.com")))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["userName"], "GRACE@acme.com");
    let created = scim
        .call(Method::POST, "/Users", Some(user("new@acme.com")))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.body["meta"]["resourceType"], "User");
    assert_eq!(
        created.body["meta"]["location"],
        format!(
            "{}/Users/{}",
            scim.base,
            created.body["id"].as_str().unwrap()
        )
    );
    assert_eq!(sb.sandbox.writes(), 2, "only the accepted writes count");
    let missing = scim
        .call(Method::POST, "/Users", Some(json!({"schemas": [USER]})))
        .await;
    assert_error(&missing, 400, Some("invalidValue"));
}

#[tokio::test]
async fn filters_and_pages_as_rfc_7644_lists() {
    let sb = seeded_sandbox();
    let scim = Scim::new(&sb);
    let cases = [
        ("userName eq \"ADA@ACME.COM\"", vec!["ada@acme.com"]),
        ("displayName co \"hop\"", vec!["grace@acme.com"]),
        ("emails.value sw \"ka\"", vec!["katherine@acme.com"]),
        ("active eq false", vec!["tim@acme.com"]),
        (
            "name.familyName sw \"T\" or userName eq \"grace@acme.com\"",
            vec!["grace@acme.com", "alan@acme.com"],
        ),
        ("displayName ew \"ACE\"", vec!["ada@acme.com"]),
        ("active eq true and displayName ew \"lee\"", vec![]),
        ("externalId pr", vec![]),
        (&format!("id eq \"{}\"", id(4)), vec!["katherine@acme.com"]),
    ];
    for (filter, want) in cases {
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("filter", filter)
            .finish();
        let list = scim.list(&q).await;
        assert_eq!(user_names(&list), want, "{filter}");
        assert_eq!(list["totalResults"], want.len(), "{filter}");
    }
    // Pages: 1-based startIndex, count, totalResults of the whole match.
    let page = scim.list("startIndex=2&count=2").await;
    assert_eq!(user_names(&page), ["grace@acme.com", "alan@acme.com"]);
    assert_eq!(
        (
            &page["totalResults"],
            &page["startIndex"],
            &page["itemsPerPage"]
        ),
        (&json!(5), &json!(2), &json!(2))
    );
    let last = scim.list("startIndex=5&count=2").await;
    assert_eq!(user_names(&last), ["tim@acme.com"]);
    let none = scim.list("count=0").await;
    assert_eq!(
        (
            none["totalResults"].as_u64(),
            none["Resources"].as_array().map(Vec::len)
        ),
        (Some(5), Some(0))
    );
    // attributes: id and schemas always, then only what was asked.
    let slim = scim.list("count=1&attributes=userName").await;
    let first = slim["Resources"][0].as_object().unwrap();
    let mut keys: Vec<&str> = first.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["id", "schemas", "userName"]);
    let bad = scim
        .call(Method::GET, "/Users?filter=userName%20xx%20%22a%22", None)
        .await;
    assert_error(&bad, 400, Some("invalidFilter"));
}

fn patch(ops: Value) -> Value {
    json!({"schemas": [PATCH], "Operations": ops})
}

fn member_ids(group: &Value) -> Vec<String> {
    group["members"]
        .as_array()
        .map(|m| {
            m.iter()
                .map(|m| m["value"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn patch_adds_members_and_removes_them_by_value_path() {
    let sb = seeded_sandbox();
    let scim = Scim::new(&sb);
    let finance = format!("/Groups/{}", id(0xb));
    let added = scim
        .call(
            Method::PATCH,
            &finance,
            Some(patch(json!([{"op": "add", "path": "members",
                "value": [{"value": id(1)}, {"value": id(2)}]}]))),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert_eq!(member_ids(&added.body), [id(3), id(4), id(1), id(2)]);
    let removed = scim
        .call(
            Method::PATCH,
            &finance,
            Some(patch(json!([
                {"op": "remove", "path": format!("members[value eq \"{}\"]", id(3))},
                {"op": "remove", "path": format!("members[value eq \"{}\"]", id(1))},
            ]))),
        )
        .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    assert_eq!(member_ids(&removed.body), [id(4), id(2)]);
    // The user's read-only groups follow the group's members.
    let grace = scim
        .call(Method::GET, &format!("/Users/{}", id(2)), None)
        .await;
    let groups: Vec<&str> = grace.body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["display"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["Analysts", "Finance"]);
    // A filter that selects nothing, or a member that is no resource of
    // the service: refused, nothing changed.
    let gone = scim
        .call(
            Method::PATCH,
            &finance,
            Some(patch(
                json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", id(3))}]),
            )),
        )
        .await;
    assert_error(&gone, 400, Some("noTarget"));
    let stranger = scim
        .call(
            Method::PATCH,
            &finance,
            Some(patch(
                json!([{"op": "add", "path": "members", "value": [{"value": "nobody"}]}]),
            )),
        )
        .await;
    assert_error(&stranger, 400, Some("invalidValue"));
    let now = scim.call(Method::GET, &finance, None).await;
    assert_eq!(member_ids(&now.body), [id(4), id(2)]);
    let no_schema = scim
        .call(Method::PATCH, &finance, Some(json!({"Operations": []})))
        .await;
    assert_error(&no_schema, 400, Some("invalidSyntax"));
    // A deleted group leaves its members' groups.
    let deleted = scim.call(Method::DELETE, &finance, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let grace = scim
        .call(Method::GET, &format!("/Users/{}", id(2)), None)
        .await;
    assert_eq!(grace.body["groups"][0]["display"], "Analysts");
    assert_eq!(grace.body["groups"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn if_match_with_an_old_version_is_refused_with_412() {
    let sb = seeded_sandbox();
    let scim = Scim::new(&sb);
    let ada = format!("/Users/{}", id(1));
    let read = scim.call(Method::GET, &ada, None).await;
    let etag = read.etag.clone().unwrap();
    assert!(etag.starts_with("W/\""), "{etag}");
    assert_eq!(read.body["meta"]["version"], etag.as_str());
    let deactivate = patch(json!([{"op": "replace", "path": "active", "value": false}]));
    let auth = format!("Bearer {TOKEN}");
    let with_tag = |tag: &str| {
        [
            ("Authorization", auth.clone()),
            ("If-Match", tag.to_string()),
        ]
    };
    let h = with_tag(&etag);
    let hs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let first = scim.send(Method::PATCH, &ada, Some(deactivate), &hs).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["active"], false);
    let new_tag = first.etag.unwrap();
    assert_ne!(new_tag, etag);
    // The same If-Match again: the user changed since; nothing is written.
    let writes = sb.sandbox.writes();
    let reactivate = patch(json!([{"op": "replace", "path": "active", "value": true}]));
    let stale = scim.send(Method::PATCH, &ada, Some(reactivate), &hs).await;
    assert_error(&stale, 412, None);
    let put = scim
        .send(
            Method::PUT,
            &ada,
            Some(json!({"schemas": [USER], "userName": "ada@acme.com"})),
            &hs,
        )
        .await;
    assert_error(&put, 412, None);
    let del = scim.send(Method::DELETE, &ada, None, &hs).await;
    assert_error(&del, 412, None);
    assert_eq!(sb.sandbox.writes(), writes);
    let after = scim.call(Method::GET, &ada, None).await;
    assert_eq!(
        (after.body["active"].clone(), after.etag),
        (json!(false), Some(new_tag.clone()))
    );
    let h = with_tag(&new_tag);
    let hs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let del = scim.send(Method::DELETE, &ada, None, &hs).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let gone = scim.call(Method::GET, &ada, None).await;
    assert_error(&gone, 404, None);
}

#[tokio::test]
async fn without_the_bearer_token_every_endpoint_answers_401() {
    let sb = seeded_sandbox();
    let scim = Scim::new(&sb);
    for path in [
        "/Users",
        "/Groups",
        "/ServiceProviderConfig",
        "/Schemas",
        "/ResourceTypes",
    ] {
        let none = scim.send(Method::GET, path, None, &[]).await;
        assert_error(&none, 401, None);
        let wrong = scim
            .send(Method::GET, path, None, &[("Authorization", "Bearer nope")])
            .await;
        assert_error(&wrong, 401, None);
    }
    let post = scim
        .send(
            Method::POST,
            "/Users",
            Some(json!({"schemas": [USER], "userName": "x@acme.com"})),
            &[],
        )
        .await;
    assert_error(&post, 401, None);
    assert_eq!(sb.sandbox.writes(), 0);
    let log = sb.sandbox.requests();
    assert!(
        log.iter()
            .all(|r| r.site.as_deref() == Some("acme-scim") && r.status == 401)
    );
    // With it: what the service supports, as the client reads it.
    let spc = scim.call(Method::GET, "/ServiceProviderConfig", None).await;
    assert_eq!(spc.content_type.as_deref(), Some("application/scim+json"));
    let b = &spc.body;
    assert_eq!(
        (
            &b["patch"]["supported"],
            &b["bulk"]["supported"],
            &b["etag"]["supported"]
        ),
        (&json!(true), &json!(false), &json!(true))
    );
    assert_eq!(b["filter"], json!({"supported": true, "maxResults": 1000}));
    assert_eq!(b["authenticationSchemes"][0]["type"], "oauthbearertoken");
    let unknown = scim.call(Method::GET, "/Nothing", None).await;
    assert_error(&unknown, 404, None);
    let not_allowed = scim
        .call(Method::POST, &format!("/Users/{}", id(1)), None)
        .await;
    assert_error(&not_allowed, 405, None);
}

/// `roster sandbox` prints the SCIM base URL and token, and they work.
#[tokio::test]
async fn the_sandbox_command_prints_a_scim_base_url_and_token_that_work() {
    let mut sandbox = SandboxProcess::start(&[]);
    let base = format!("{}/scim/acme-scim/v2", sandbox.url);
    assert_eq!(
        sandbox.next_line(),
        format!("  scim service acme-scim: base URL {base}, Authorization: Bearer {TOKEN}")
    );
    assert_eq!(sandbox.next_line(), "Stop with Ctrl-C.");
    let list: Value = Client::new()
        .get(format!("{base}/Users?filter=active%20eq%20false"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(user_names(&list), ["tim@acme.com"]);
    assert!(sandbox.stop(), "it stops cleanly on Ctrl-C");
}

/// What the service accepted is saved and read back whole: the user, its
/// version (ETag), and the rules' indexes (uniqueness, a user's groups).
#[tokio::test]
async fn scim_writes_survive_a_save_and_load_of_the_sandbox_data() {
    let sb = seeded_sandbox();
    let scim = Scim::new(&sb);
    let made = scim
        .call(
            Method::POST,
            "/Users",
            Some(json!({"schemas": [USER], "userName": "Saved@acme.com"})),
        )
        .await;
    let new_id = made.body["id"].as_str().unwrap().to_string();
    let add = patch(json!([{"op": "add", "path": "members", "value": [{"value": new_id}]}]));
    let group = scim
        .call(Method::PATCH, &format!("/Groups/{}", id(0xc)), Some(add))
        .await;
    assert_eq!(group.status, StatusCode::OK, "{}", group.body);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sandbox.json");
    persist::save(&file, &sb.sandbox.data()).unwrap();
    let loaded = persist::load(&file).unwrap();
    assert_eq!(loaded, sb.sandbox.data());
    drop(sb);

    let again = BackgroundSandbox::start(loaded).unwrap();
    let scim = Scim::new(&again);
    let read = scim
        .call(Method::GET, &format!("/Users/{new_id}"), None)
        .await;
    assert_eq!(read.etag, made.etag);
    assert_eq!(read.body["groups"][0]["display"], "Contractors");
    let dup = scim
        .call(
            Method::POST,
            "/Users",
            Some(json!({"schemas": [USER], "userName": "saved@ACME.com"})),
        )
        .await;
    assert_error(&dup, 409, Some("uniqueness"));
    let next = scim
        .call(
            Method::POST,
            "/Users",
            Some(json!({"schemas": [USER], "userName": "next@acme.com"})),
        )
        .await;
    assert_ne!(
        next.body["id"].as_str().unwrap(),
        new_id,
        "ids are never reused"
    );
}
