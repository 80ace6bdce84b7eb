//! The SCIM client against `scim2-server`, an independent SCIM 2.0 server
//! (PyPI, pinned 0.8.3), started per test on loopback. The client is not
//! yet wired into the CLI, so these tests drive `roster::provider::scim`
//! directly: real HTTP, real client code, a server no one here wrote.
//!
//! The server is found through `ROSTER_SCIM2_SERVER` (the path of the
//! `scim2-server` executable). These tests are ignored by default and run
//! with `cargo test -- --include-ignored` (as `.ci/run` does); run without
//! the variable, they fail and say how to install the server (see
//! [`server`]). `scim_e2e` starts its servers with the same helper.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use roster::interrupt::Gate;
use roster::model::LiveSite;
use roster::model::{Change, Diff, Membership};
use roster::provider::Pacing;
use roster::provider::error::ProviderError;
use roster::provider::scim::{ScimClient, ScimIds, ScimOptions};
use roster::secret::Secret;
use serde_json::{Value, json};

#[allow(unused_imports)]
use crate::common::*;

pub(crate) const TOKEN: &str = "scim-test-token";
const HOW_TO_INSTALL: &str = "set ROSTER_SCIM2_SERVER to the path of a scim2-server executable: \
     python3 -m venv target/ci-venv && target/ci-venv/bin/pip install scim2-server==0.8.3 \
     (or run .ci/run once, which makes that venv), then \
     ROSTER_SCIM2_SERVER=$PWD/target/ci-venv/bin/scim2-server cargo test -- --include-ignored";

/// A `scim2-server` process on a free loopback port; killed when dropped.
pub(crate) struct Scim2Server {
    child: Child,
    /// The SCIM root (`http://127.0.0.1:PORT/v2`).
    pub(crate) base: url::Url,
    /// Its request log (one line per request, on stderr).
    log: std::sync::Arc<Mutex<Vec<String>>>,
}

impl Drop for Scim2Server {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("scim2-server log:\n{}", self.log.lock().unwrap().join("\n"));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server with `args`. The tests calling this are ignored by
/// default; run (`--include-ignored`) without `ROSTER_SCIM2_SERVER`, or
/// with one that does not lead to a running server, they fail and say how
/// to install it: never green without having run.
pub(crate) fn server(args: &[&str]) -> Scim2Server {
    let Some(exe) = std::env::var_os("ROSTER_SCIM2_SERVER").map(PathBuf::from) else {
        panic!("this test needs scim2-server and ROSTER_SCIM2_SERVER is not set; {HOW_TO_INSTALL}");
    };
    // A free port may be taken by another test before the server binds
    // it: a server that does not answer as scim2-server is tried again.
    for _ in 0..5 {
        if let Some(server) = start(&exe, args) {
            return server;
        }
    }
    panic!("scim2-server did not start on a free port; {HOW_TO_INSTALL}");
}

/// One try at starting the server on a free port: `None` when what
/// answers there is not it, or it exits.
fn start(exe: &std::path::Path, args: &[&str]) -> Option<Scim2Server> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut child = Command::new(exe)
        .args(["--port", &port.to_string(), "--bearer-token", TOKEN])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}; {HOW_TO_INSTALL}", exe.display()));
    let log = std::sync::Arc::new(Mutex::new(Vec::new()));
    let stderr = child.stderr.take().expect("piped stderr");
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    let base = url::Url::parse(&format!("http://127.0.0.1:{port}/v2")).unwrap();
    let mut server = Scim2Server { child, base, log };
    let started = Instant::now();
    // The port may be taken by another test's scim2-server between picking
    // it and binding it: that one answers too. The server is ours only once
    // its own log shows the probe it answered.
    while !(server.answers() && server.logged_a_probe()) {
        if server.child.try_wait().unwrap().is_some() {
            // It could not bind the port: another test took it.
            return None;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "scim2-server did not listen on port {port}: {:?}",
            server.log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server.child.try_wait().unwrap().is_none().then_some(server)
}

impl Scim2Server {
    /// Whether this server's own log shows a request for its configuration.
    fn logged_a_probe(&self) -> bool {
        self.log
            .lock()
            .unwrap()
            .iter()
            .any(|line| line.contains("\"GET /v2/ServiceProviderConfig HTTP/1.0\" 200"))
    }

    /// Whether the server's own port answers its configuration to the token.
    fn answers(&self) -> bool {
        let port = self.base.port().expect("a port");
        use std::io::{Read, Write};
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
            return false;
        };
        let request = format!(
            "GET /v2/ServiceProviderConfig HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
        );
        let mut answer = String::new();
        stream.write_all(request.as_bytes()).is_ok()
            && stream.read_to_string(&mut answer).is_ok()
            && answer.starts_with("HTTP/1.")
            && answer.contains(" 200 ")
            && answer.contains("ServiceProviderConfig")
    }
}

/// A client of the service at `base` sending `token`.
fn client_at(base: &url::Url, token: &str) -> ScimClient {
    ScimClient::new(
        "scimtest",
        base,
        Secret::new(token),
        "SCIM_TOKEN",
        Pacing::default(),
        Duration::from_secs(10),
    )
    .unwrap()
}

impl Scim2Server {
    fn client(&self, options: ScimOptions) -> ScimClient {
        client_at(&self.base, TOKEN).with_options(options)
    }

    /// Requests logged whose line holds `method` and `path_part`, once the
    /// log is quiet (the server logs a request after answering it).
    pub(crate) fn requests(&self, method: &str, path_part: &str) -> usize {
        let mut seen = self.log.lock().unwrap().len();
        loop {
            std::thread::sleep(Duration::from_millis(200));
            let now = self.log.lock().unwrap().len();
            if now == seen {
                break;
            }
            seen = now;
        }
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(&format!("\"{method} ")) && l.contains(path_part))
            .count()
    }

    /// A user made straight on the server (by someone else).
    async fn add_user(&self, user_name: &str) -> Value {
        let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name});
        self.raw(reqwest::Method::POST, "/Users", Some(user)).await
    }

    /// A request straight to the server (another admin's change).
    async fn raw(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let mut request = reqwest::Client::new()
            .request(method, url)
            .bearer_auth(TOKEN)
            .header("Content-Type", "application/scim+json");
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let answer = request.send().await.unwrap();
        assert!(answer.status().is_success(), "{}", answer.status());
        let text = answer.text().await.unwrap();
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

/// A `/ServiceProviderConfig` for `--service-provider-config`: ETags,
/// no filters, PATCH as given, `filter.maxResults` as given.
pub(crate) fn config_file(dir: &tempfile::TempDir, patch: bool, max_results: u64) -> PathBuf {
    let path = dir.path().join("spc.json");
    let config = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": patch},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": false, "maxResults": max_results},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": []
    });
    std::fs::write(&path, config.to_string()).unwrap();
    path
}

/// Runs one step of changes; the results as text (`ok` or the error).
async fn step(client: &ScimClient, ids: &Mutex<ScimIds>, changes: &[Change]) -> Vec<String> {
    let gate = Gate::new();
    let refs: Vec<&Change> = changes.iter().collect();
    client
        .apply_step(&refs, 4, gate.site("scimtest"), ids)
        .await
        .into_iter()
        .map(|r| r.map_or_else(|e| e.to_string(), |()| "ok".into()))
        .collect()
}

fn create_user(email: &str, first: &str, groups: &[&str]) -> Change {
    Change::CreateUser {
        email: email.into(),
        first_name: first.into(),
        last_name: "Test".into(),
        member_type: None,
        groups: groups.iter().map(|g| (*g).to_string()).collect(),
        kind: roster::model::UserKind::Internal,
        admin_of: vec![],
    }
}

fn update_user(email: &str) -> Change {
    Change::UpdateUser {
        email: email.into(),
        id: None,
        renamed_from: None,
        first_name: None,
        last_name: None,
        member_type: None,
        kind: None,
        reactivate: false,
        groups: None,
    }
}

fn memberships(email: &str, added: &[&str], removed: &[&str]) -> Change {
    let mut change = update_user(email);
    if let Change::UpdateUser { groups, .. } = &mut change {
        *groups = Some(Membership {
            added: added.iter().map(|g| (*g).to_string()).collect(),
            removed: removed.iter().map(|g| (*g).to_string()).collect(),
            after: vec![],
        });
    }
    change
}

fn create_group(name: &str) -> Change {
    Change::CreateGroup {
        name: name.into(),
        access: None,
        description: None,
        visibility: None,
    }
}

/// `email first last active [groups]`, one line per user, sorted.
fn people(live: &LiveSite) -> Vec<String> {
    let mut lines: Vec<String> = live
        .users
        .iter()
        .map(|u| {
            let mut groups = u.groups.clone();
            groups.sort();
            format!(
                "{} {} {} {} {:?}",
                u.email, u.first_name, u.last_name, u.active, groups
            )
        })
        .collect();
    lines.sort();
    lines
}

fn group_names(live: &LiveSite) -> Vec<String> {
    let mut names: Vec<String> = live.groups.iter().map(|g| g.name.clone()).collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs scim2-server: set ROSTER_SCIM2_SERVER to its executable (see CONTRIBUTING.md)"]
async fn scim2_users_are_created_updated_renamed_deactivated_and_deleted() {
    let server = server(&[]);
    let client = server.client(ScimOptions::default());
    let (live, ids) = client.fetch().await.unwrap();
    assert!(live.users.is_empty());
    assert!(ids.capabilities.patch && ids.capabilities.etag && ids.capabilities.filter);
    let ids = Mutex::new(ids);

    let created = step(
        &client,
        &ids,
        &[
            create_user("Ada@Acme.io", "Ada", &[]),
            create_user("bob@acme.io", "Bob", &[]),
        ],
    )
    .await;
    assert_eq!(created, ["ok", "ok"]);
    let (live, _) = client.fetch().await.unwrap();
    // The userName keeps its case.
    assert_eq!(
        people(&live),
        [
            "Ada@Acme.io Ada Test true []",
            "bob@acme.io Bob Test true []"
        ]
    );

    // Names changed by PATCH; a rename (and its primary email) by PUT of
    // the user as read.
    let mut rename = update_user("ada.lovelace@acme.io");
    if let Change::UpdateUser {
        renamed_from,
        first_name,
        ..
    } = &mut rename
    {
        *renamed_from = Some("ada@acme.io".into());
        *first_name = Some(Diff {
            before: "Ada".into(),
            after: "Augusta".into(),
        });
    }
    let mut bob = update_user("BOB@acme.io");
    if let Change::UpdateUser { last_name, .. } = &mut bob {
        *last_name = Some(Diff {
            before: "Test".into(),
            after: "Builder".into(),
        });
    }
    assert_eq!(step(&client, &ids, &[rename, bob]).await, ["ok", "ok"]);
    let (live, _) = client.fetch().await.unwrap();
    assert_eq!(
        people(&live),
        [
            "ada.lovelace@acme.io Augusta Test true []",
            "bob@acme.io Bob Builder true []"
        ]
    );
    let ada_id = live
        .users
        .iter()
        .find(|u| u.email.starts_with("ada"))
        .unwrap()
        .id
        .clone()
        .unwrap();
    let ada = server
        .raw(reqwest::Method::GET, &format!("/Users/{ada_id}"), None)
        .await;
    assert_eq!(
        ada["emails"],
        json!([{"value": "ada.lovelace@acme.io", "type": "work", "primary": true}])
    );

    let deactivate = Change::DeactivateUser {
        email: "ada.lovelace@acme.io".into(),
        id: None,
        handover: roster::model::Handover::CredentialsOwner,
        declared_inactive: false,
        archive_schedules: false,
        revoke_tokens: false,
        owns: None,
    };
    let delete = Change::DeleteUser {
        email: "bob@acme.io".into(),
    };
    assert_eq!(
        step(&client, &ids, &[deactivate, delete]).await,
        ["ok", "ok"]
    );
    let (live, _) = client.fetch().await.unwrap();
    assert_eq!(
        people(&live),
        ["ada.lovelace@acme.io Augusta Test false []"]
    );
    assert_eq!(server.requests("DELETE", "/v2/Users/"), 1);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs scim2-server: set ROSTER_SCIM2_SERVER to its executable (see CONTRIBUTING.md)"]
async fn scim2_groups_are_created_renamed_and_deleted() {
    let server = server(&[]);
    let client = server.client(ScimOptions::default());
    let (_, ids) = client.fetch().await.unwrap();
    let ids = Mutex::new(ids);
    assert_eq!(
        step(
            &client,
            &ids,
            &[create_group("Analysts"), create_group("Ops")]
        )
        .await,
        ["ok", "ok"]
    );
    let rename = Change::UpdateGroup {
        live_name: "analysts".into(),
        id: None,
        name: Some(Diff {
            before: "Analysts".into(),
            after: "Data Analysts".into(),
        }),
        access: None,
        description: None,
        visibility: None,
        admins: None,
    };
    assert_eq!(step(&client, &ids, &[rename]).await, ["ok"]);
    let (live, _) = client.fetch().await.unwrap();
    assert_eq!(group_names(&live), ["Data Analysts", "Ops"]);
    let delete = Change::DeleteGroup {
        name: "OPS".into(),
        id: None,
    };
    assert_eq!(step(&client, &ids, &[delete]).await, ["ok"]);
    let (live, _) = client.fetch().await.unwrap();
    assert_eq!(group_names(&live), ["Data Analysts"]);
}

/// Memberships of a whole step go to each group in PATCH requests of at
/// most `members_per_request` members.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs scim2-server: set ROSTER_SCIM2_SERVER to its executable (see CONTRIBUTING.md)"]
async fn scim2_memberships_are_added_and_removed_in_batches() {
    let server = server(&[]);
    let options = ScimOptions {
        members_per_request: 2,
        ..ScimOptions::default()
    };
    let client = server.client(options);
    let (_, ids) = client.fetch().await.unwrap();
    let ids = Mutex::new(ids);
    assert_eq!(
        step(&client, &ids, &[create_group("Analysts")]).await,
        ["ok"]
    );
    let users: Vec<Change> = (1..=5)
        .map(|i| create_user(&format!("u{i}@acme.io"), "U", &["Analysts"]))
        .collect();
    assert_eq!(step(&client, &ids, &users).await, ["ok"; 5]);
    // Five members added, two at a time: three PATCHes of the group.
    assert_eq!(server.requests("PATCH", "/v2/Groups/"), 3);
    let (live, _) = client.fetch().await.unwrap();
    assert!(
        live.users.iter().all(|u| u.groups == ["Analysts"]),
        "{:?}",
        people(&live)
    );

    let removals: Vec<Change> = (1..=3)
        .map(|i| memberships(&format!("U{i}@acme.io"), &[], &["analysts"]))
        .collect();
    assert_eq!(step(&client, &ids, &removals).await, ["ok"; 3]);
    assert_eq!(server.requests("PATCH", "/v2/Groups/"), 5);
    let (live, _) = client.fetch().await.unwrap();
    assert_eq!(
        people(&live),
        [
            "u1@acme.io U Test true []",
            "u2@acme.io U Test true []",
            "u3@acme.io U Test true []",
            "u4@acme.io U Test true [\"Analysts\"]",
            "u5@acme.io U Test true [\"Analysts\"]",
        ]
    );
}

/// A service without PATCH: memberships and renames are sent as a PUT of
/// the whole group, read just before, with If-Match.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs scim2-server: set ROSTER_SCIM2_SERVER to its executable (see CONTRIBUTING.md)"]
async fn scim2_without_patch_memberships_are_put_whole() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(&dir, false, 1000);
    let server = server(&["--service-provider-config", config.to_str().unwrap()]);
    let client = server.client(ScimOptions::default());
    let (_, ids) = client.fetch().await.unwrap();
    assert!(!ids.capabilities.patch && !ids.capabilities.filter && ids.capabilities.etag);
    let ids = Mutex::new(ids);
    assert_eq!(
        step(&client, &ids, &[create_group("Analysts")]).await,
        ["ok"]
    );
    let users = [
        create_user("a@acme.io", "A", &["Analysts"]),
        create_user("b@acme.io", "B", &["Analysts"]),
    ];
    assert_eq!(step(&client, &ids, &users).await, ["ok", "ok"]);
    assert_eq!(
        step(
            &client,
            &ids,
            &[memberships("a@acme.io", &[], &["Analysts"])]
        )
        .await,
        ["ok"]
    );
    assert_eq!(server.requests("PATCH", "/v2/"), 0);
    assert_eq!(server.requests("PUT", "/v2/Groups/"), 2);
    let (live, _) = client.fetch().await.unwrap();
    assert_eq!(
        people(&live),
        [
            "a@acme.io A Test true []",
            "b@acme.io B Test true [\"Analysts\"]"
        ]
    );
}

/// userNames are found whatever their case, by filter; a create of one the
/// service has under another case is a 409 reported with its scimType.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs scim2-server: set ROSTER_SCIM2_SERVER to its executable (see CONTRIBUTING.md)"]
async fn scim2_user_names_are_matched_case_insensitively() {
    let server = server(&[]);
    let client = server.client(ScimOptions::default());
    let caps = client.discover().await.unwrap();
    let made = server.add_user("Grace@Navy.MIL").await;
    let found = client
        .lookup_user(&caps, "grace@navy.mil")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(Some(found.id.as_str()), made["id"].as_str());
    assert_eq!(
        client.lookup_user(&caps, "nobody@navy.mil").await.unwrap(),
        None
    );
    assert!(server.requests("GET", "filter=userName%20eq%20%22grace%40navy.mil%22") >= 1);

    let e = client
        .create_user(&caps, "grace@navy.mil", "Grace", "Hopper")
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(409));
    let text = e.to_string();
    assert!(
        text.starts_with("site `scimtest`: create user grace@navy.mil: HTTP 409: "),
        "{text}"
    );
    assert!(
        text.contains("(scimType uniqueness)")
            && text.contains("the service already has grace@navy.mil"),
        "{text}"
    );

    // The plan's ids are keyed case-insensitively too.
    let (live, ids) = client.fetch().await.unwrap();
    assert_eq!(live.users[0].email, "Grace@Navy.MIL");
    let ids = Mutex::new(ids);
    let mut rename = update_user("GRACE@NAVY.MIL");
    if let Change::UpdateUser { first_name, .. } = &mut rename {
        *first_name = Some(Diff {
            before: String::new(),
            after: "Grace".into(),
        });
    }
    assert_eq!(step(&client, &ids, &[rename]).await, ["ok"]);
}

/// A user changed by someone else after the plan was read: the write is
/// refused by If-Match (412), reported as such, not retried, and the
/// other change is kept.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs scim2-server: set ROSTER_SCIM2_SERVER to its executable (see CONTRIBUTING.md)"]
async fn scim2_a_change_since_the_plan_is_reported_not_overwritten() {
    let server = server(&[]);
    let client = server.client(ScimOptions::default());
    let (_, ids) = client.fetch().await.unwrap();
    let ids = Mutex::new(ids);
    assert_eq!(
        step(
            &client,
            &ids,
            &[create_user("ada@acme.io", "Ada", &[]), create_group("Ops")]
        )
        .await,
        ["ok", "ok"]
    );
    let (_, planned) = client.fetch().await.unwrap();
    let user_id = planned.users["ada@acme.io"].id.clone();
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "name.givenName", "value": "Someone Else"}]
    });
    server
        .raw(
            reqwest::Method::PATCH,
            &format!("/Users/{user_id}"),
            Some(patch),
        )
        .await;

    let ids = Mutex::new(planned);
    let mut edit = update_user("ada@acme.io");
    if let Change::UpdateUser { first_name, .. } = &mut edit {
        *first_name = Some(Diff {
            before: "Ada".into(),
            after: "Augusta".into(),
        });
    }
    let patches_before = server.requests("PATCH", "/v2/Users/");
    let results = step(&client, &ids, &[edit]).await;
    assert_eq!(
        results,
        [
            "site `scimtest`: update user ada@acme.io: HTTP 412: Failed to update. Resource has changed on the server \
          (ada@acme.io was changed on the service since the plan was read (its ETag no longer matches), \
          so it was not overwritten: plan again)"
        ]
    );
    // Sent once, never retried.
    assert_eq!(server.requests("PATCH", "/v2/Users/"), patches_before + 1);
    let (live, _) = client.fetch().await.unwrap();
    assert_eq!(live.users[0].first_name, "Someone Else");
}

/// Lists longer than a page are read page by page with startIndex/count.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs scim2-server: set ROSTER_SCIM2_SERVER to its executable (see CONTRIBUTING.md)"]
async fn scim2_lists_are_read_over_several_pages() {
    let server = server(&[]);
    let client = server.client(ScimOptions {
        page_size: 2,
        ..ScimOptions::default()
    });
    let (_, ids) = client.fetch().await.unwrap();
    assert_eq!(ids.capabilities.page_size, 2);
    let ids = Mutex::new(ids);
    let users: Vec<Change> = (1..=5)
        .map(|i| create_user(&format!("p{i}@acme.io"), "P", &[]))
        .collect();
    assert_eq!(step(&client, &ids, &users).await, ["ok"; 5]);
    let groups: Vec<Change> = (1..=3).map(|i| create_group(&format!("G{i}"))).collect();
    assert_eq!(step(&client, &ids, &groups).await, ["ok"; 3]);
    let before = server.requests("GET", "/v2/Users?");
    let (live, ids) = client.fetch().await.unwrap();
    assert_eq!(live.users.len(), 5);
    assert_eq!(ids.users.len(), 5);
    assert_eq!(group_names(&live), ["G1", "G2", "G3"]);
    // 5 users, 2 a page: startIndex 1, 3, 5.
    assert_eq!(server.requests("GET", "/v2/Users?") - before, 3);
    for start in [1, 3, 5] {
        assert!(server.requests("GET", &format!("/v2/Users?startIndex={start}&count=2")) >= 1);
    }
}

/// The error a wrong token gets names the token's source.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs scim2-server: set ROSTER_SCIM2_SERVER to its executable (see CONTRIBUTING.md)"]
async fn scim2_a_refused_token_is_reported_with_the_service_detail() {
    let server = server(&[]);
    let client = client_at(&server.base, "wrong");
    let e: ProviderError = client.fetch().await.unwrap_err();
    let text = e.to_string();
    // scim2-server serves /ServiceProviderConfig to anyone (RFC 7644 §4
    // allows it); the first read refused is the list of users.
    assert!(
        text.starts_with("site `scimtest`: list users: HTTP 401: Authorization failure."),
        "{text}"
    );
    assert!(
        text.ends_with("(the service refused the bearer token: check the value of SCIM_TOKEN)"),
        "{text}"
    );
    assert!(!text.contains("wrong"), "{text}");
}

/// scim2-server with `filter.maxResults: 0` answers every list with no
/// resources and the true totalResults: that list is refused, never read
/// as an empty site (a plan from it would create everyone again).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs scim2-server: set ROSTER_SCIM2_SERVER to its executable (see CONTRIBUTING.md)"]
async fn scim2_a_list_that_stops_short_of_its_total_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(&dir, true, 0);
    let server = server(&["--service-provider-config", config.to_str().unwrap()]);
    server.add_user("a@acme.io").await;
    let e = server
        .client(ScimOptions::default())
        .fetch()
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "site `scimtest`: list users: the list ends with an empty page after 0 of its totalResults (1); \
         refusing to plan from what may be part of the list (does the service honour startIndex/count?)"
    );
}

/// A loopback proxy in front of `target` that forwards every request and
/// relays every answer, except that the answer to the first request whose
/// request line starts with `request` (`POST /v2/Users `) is dropped (the
/// connection is closed): the service did the write, the client cannot
/// know. Gives the proxy's port.
async fn losing_proxy(target: u16, request: &'static str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let lost = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let lost = lost.clone();
            tokio::spawn(async move {
                let sent = read_request(&mut client).await;
                let mut server = tokio::net::TcpStream::connect(("127.0.0.1", target))
                    .await
                    .unwrap();
                server.write_all(&sent).await.unwrap();
                // scim2-server speaks HTTP/1.0: the answer ends when it closes.
                let mut answer = Vec::new();
                server.read_to_end(&mut answer).await.unwrap();
                let line = String::from_utf8_lossy(&sent[..sent.len().min(200)]).to_string();
                let drop_it = line.starts_with(request)
                    && !lost.swap(true, std::sync::atomic::Ordering::SeqCst);
                if !drop_it {
                    client.write_all(&answer).await.unwrap();
                }
            });
        }
    });
    port
}

/// One whole HTTP request (headers, and a body of `Content-Length`).
pub(crate) async fn read_request(stream: &mut tokio::net::TcpStream) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.unwrap();
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length || n == 0 {
                return buf;
            }
        } else if n == 0 {
            return buf;
        }
    }
}

/// A create whose answer is lost: the user is looked up by a `userName eq`
/// filter before anything is sent again, found, and the create counts as
/// done (one POST, no duplicate, no 409).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs scim2-server: set ROSTER_SCIM2_SERVER to its executable (see CONTRIBUTING.md)"]
async fn scim2_an_ambiguous_create_is_recovered_by_filter() {
    let server = server(&[]);
    let proxy = losing_proxy(server.base.port().unwrap(), "POST /v2/Users ").await;
    let base = url::Url::parse(&format!("http://127.0.0.1:{proxy}/v2")).unwrap();
    let client = client_at(&base, TOKEN);
    let (_, ids) = client.fetch().await.unwrap();
    let ids = Mutex::new(ids);
    assert_eq!(
        step(&client, &ids, &[create_user("Lin@Acme.io", "Lin", &[])]).await,
        ["ok"]
    );
    assert_eq!(server.requests("POST", "/v2/Users"), 1);
    assert_eq!(
        server.requests("GET", "filter=userName%20eq%20%22Lin%40Acme.io%22"),
        1
    );
    let learnt = ids.lock().unwrap().users["lin@acme.io"].clone();
    let (live, read) = client.fetch().await.unwrap();
    assert_eq!(people(&live), ["Lin@Acme.io Lin Test true []"]);
    assert_eq!(read.users["lin@acme.io"], learnt);
}

/// An edit whose answer is lost is sent again with the same If-Match; the
/// 412 that follows says the lost try may have made the change.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs scim2-server: set ROSTER_SCIM2_SERVER to its executable (see CONTRIBUTING.md)"]
async fn scim2_a_412_after_a_lost_answer_says_the_change_may_be_made() {
    let server = server(&[]);
    server.add_user("kim@acme.io").await;
    let proxy = losing_proxy(server.base.port().unwrap(), "PATCH /v2/Users/").await;
    let base = url::Url::parse(&format!("http://127.0.0.1:{proxy}/v2")).unwrap();
    let client = client_at(&base, TOKEN);
    let (_, ids) = client.fetch().await.unwrap();
    let ids = Mutex::new(ids);
    let mut edit = update_user("kim@acme.io");
    if let Change::UpdateUser { first_name, .. } = &mut edit {
        *first_name = Some(Diff {
            before: String::new(),
            after: "Kim".into(),
        });
    }
    assert_eq!(
        step(&client, &ids, &[edit]).await,
        [
            "site `scimtest`: update user kim@acme.io: HTTP 412: Failed to update. Resource has changed on the server \
          (kim@acme.io no longer has the version read for the plan: an earlier try of this request went \
          unanswered and may have made the change, or someone else changed it; nothing was overwritten: plan again)"
        ]
    );
    assert_eq!(server.requests("PATCH", "/v2/Users/"), 2);
    let (live, _) = client.fetch().await.unwrap();
    assert_eq!(live.users[0].first_name, "Kim");
}
