//! End to end: Periscope sites with role-based access (RBAC). The sandbox
//! serves them over HTTP (users on `/api/v2/users`, roles on
//! `/api/v1/roles`, each site refusing the other API family); a site's
//! kind is declared in the state (`access_control`), and a group site that
//! answers as an RBAC site is reported as one, never read as empty.

use crate::common::*;
use roster::sandbox::{PeriscopeSite, SandboxData};
use serde_json::{Value, json};

/// A sandbox with the site `acme`, with role-based access.
fn role_sandbox() -> BackgroundSandbox {
    let mut data = SandboxData::default();
    data.periscope.insert(
        "acme".into(),
        PeriscopeSite::new_role_based("sandbox-periscope-key", "admin@acme.com"),
    );
    BackgroundSandbox::start(data).unwrap()
}

/// One request to the sandbox's Periscope site `acme`: the status and the
/// JSON answer.
async fn call(url: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{url}{path}"))
        .header("HTTP-X-PARTNER-AUTH", "acme:sandbox-periscope-key");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let answer = request.send().await.unwrap();
    let status = answer.status().as_u16();
    let text = answer.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_sandbox_serves_role_sites_on_their_own_api_only() {
    let roles = role_sandbox();
    let groups = sandbox_with_key("sandbox-periscope-key");
    let get = reqwest::Method::GET;
    for path in ["/api/v1/users", "/api/v1/groups"] {
        let (status, body) = call(&roles.url, get.clone(), path, None).await;
        assert_eq!(status, 404, "{path}");
        assert!(body["error"].as_str().unwrap().contains("/api/v2/users"));
    }
    for path in ["/api/v2/users", "/api/v1/roles"] {
        let (status, _) = call(&groups.url, get.clone(), path, None).await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, listed) = call(&roles.url, get.clone(), "/api/v1/roles", None).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = listed["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Admin", "Everyone", "Analyst", "Business User", "Read"]
    );
    let analyst = listed["roles"][2]["id"].as_str().unwrap().to_string();

    // test_mode: checked and answered, nothing saved.
    let new_user = json!({"email": "ada@acme.com", "first_name": "Ada", "last_name": "L",
        "roles": [analyst], "invited_by_email": "admin@acme.com"});
    let post = reqwest::Method::POST;
    let (status, would) = call(
        &roles.url,
        post.clone(),
        "/api/v2/users?test_mode=true",
        Some(new_user.clone()),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(would["email"], "ada@acme.com");
    let bad = json!({"email": "bo@acme.com", "first_name": "B", "last_name": "O",
        "roles": ["Analyst"], "invited_by_email": "admin@acme.com"});
    let (status, _) = call(
        &roles.url,
        post.clone(),
        "/api/v2/users?test_mode=true",
        Some(bad),
    )
    .await;
    assert_eq!(status, 400, "roles are ids, never names");
    assert_eq!(roles.sandbox.writes(), 0);
    let (_, users) = call(&roles.url, get.clone(), "/api/v2/users", None).await;
    assert_eq!(users["users"].as_array().unwrap().len(), 1);

    // A real write is kept; a built-in role is never deleted.
    let (status, made) = call(
        &roles.url,
        post,
        "/api/v2/users?test_mode=false",
        Some(new_user),
    )
    .await;
    assert_eq!(status, 200);
    let id = made["id"].as_str().unwrap();
    let (status, one) = call(&roles.url, get, &format!("/api/v2/users/{id}"), None).await;
    assert_eq!((status, one["email"].as_str()), (200, Some("ada@acme.com")));
    let delete = reqwest::Method::DELETE;
    let path = format!("/api/v1/roles/{analyst}?test_mode=false");
    let (status, _) = call(&roles.url, delete, &path, None).await;
    assert_eq!(status, 400);
    assert_eq!(roles.sandbox.writes(), 1);
}

fn state(url: &str, extra: &str) -> String {
    format!(
        "{}{extra}\n[[users]]\nemail = \"admin@acme.com\"\nfirst_name = \"Site\"\nlast_name = \"Admin\"\ngroups = [\"Administrators\"]\n",
        periscope_site(url, "ACME_KEY")
    )
}

#[test]
fn a_group_site_answering_as_a_role_site_is_reported_never_read_as_empty() {
    let sb = role_sandbox();
    let dir = state_dir(&[("roster.toml", &state(&sb.url, ""))]);
    let key = [("ACME_KEY", "sandbox-periscope-key")];
    for args in [&["plan"][..], &["apply", "--yes"][..]] {
        let out = roster(dir.path(), args, &key);
        assert_eq!(out.code, 1, "{}", out.all());
        assert!(
            out.stderr.contains(
                "site `acme`: this site uses roles: set access_control = \"roles\" in [sites.acme] (site `acme`: list users: HTTP 404"
            ),
            "{}",
            out.all()
        );
    }
    assert!(writes(&sb).is_empty());
}

#[test]
fn access_control_is_checked_where_it_is_written() {
    let url = "http://127.0.0.1:9";
    let dir = state_dir(&[("roster.toml", &state(url, "access_control = \"rbac\"\n"))]);
    let out = roster(dir.path(), &["validate"], &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains(
            "error: state/roster.toml:7:18: site `acme`: access_control `rbac` is not \"groups\" or \"roles\""
        ),
        "{}",
        out.all()
    );

    let dir = state_dir(&[("roster.toml", &state(url, "access_control = \"groups\"\n"))]);
    let out = roster(dir.path(), &["validate"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());

    // Roles cannot be declared yet: a site with them is refused before any
    // request rather than planned as if its roles were groups.
    let dir = state_dir(&[("roster.toml", &state(url, "access_control = \"roles\"\n"))]);
    let out = roster(dir.path(), &["validate"], &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("state/roster.toml:7:18: site `acme`: a site with role-based access (access_control = \"roles\") cannot be planned yet"),
        "{}",
        out.all()
    );

    let sigma = "[sites.acme-sigma]\nprovider = \"sigma\"\nbase_url = \"http://127.0.0.1:9\"\nclient_id = { env = \"ID\" }\nclient_secret = { env = \"SECRET\" }\naccess_control = \"roles\"\n";
    let dir = state_dir(&[("roster.toml", &format!("{}\n{sigma}", state(url, "")))]);
    let out = roster(dir.path(), &["validate"], &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains(
            "state/roster.toml:19:18: site `acme-sigma`: `access_control` is a setting of periscope sites, not sigma ones"
        ),
        "{}",
        out.all()
    );
}
