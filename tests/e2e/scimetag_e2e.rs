//! SCIM ETags and request counts end to end (issue 17's follow-ups): a
//! saved plan is applied with the ETags it was read with or not at all,
//! and apply's request estimate is what it sends, PATCH or not.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::*;
use crate::scimcl_e2e::{TOKEN as SCIM2_TOKEN, server};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const SANDBOX_TOKEN: &str = "svc-token";

/// A running SCIM service: the sandbox's `svc`, or a scim2-server.
struct Svc {
    /// The sandbox or the server, kept running until the test ends.
    _running: Box<dyn std::any::Any>,
    /// The SCIM root.
    base: String,
    token: &'static str,
    rt: tokio::runtime::Runtime,
}

impl Svc {
    fn sandbox() -> Svc {
        let mut data = persist::seed();
        data.scim.insert(
            "svc".into(),
            roster::sandbox::ScimService::new(SANDBOX_TOKEN),
        );
        let sb = BackgroundSandbox::start(data).unwrap();
        Svc {
            base: format!("{}/scim/svc/v2", sb.url),
            _running: Box::new(sb),
            token: SANDBOX_TOKEN,
            rt: tokio::runtime::Runtime::new().unwrap(),
        }
    }

    fn scim2(args: &[&str]) -> Option<Svc> {
        let server = server(args)?;
        Some(Svc {
            base: server.base.to_string().trim_end_matches('/').to_string(),
            _running: Box::new(server),
            token: SCIM2_TOKEN,
            rt: tokio::runtime::Runtime::new().unwrap(),
        })
    }

    /// A request straight to the service, as another admin would send it;
    /// its JSON answer.
    fn raw(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        self.rt.block_on(async {
            let mut request = reqwest::Client::new()
                .request(method, format!("{}{path}", self.base))
                .bearer_auth(self.token)
                .header("Content-Type", "application/scim+json");
            if let Some(body) = body {
                request = request.body(body.to_string());
            }
            let answer = request.send().await.unwrap();
            let status = answer.status();
            let text = answer.text().await.unwrap();
            assert!(status.is_success(), "{path}: {status} {text}");
            serde_json::from_str(&text).unwrap_or(Value::Null)
        })
    }

    /// Every user as `userName given family active displayName`, sorted.
    fn users(&self) -> Vec<String> {
        let list = self.raw(Method::GET, "/Users?count=1000", None);
        let mut users: Vec<String> = list["Resources"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|u| {
                format!(
                    "{} {} {} {} {}",
                    u["userName"].as_str().unwrap_or_default(),
                    u["name"]["givenName"].as_str().unwrap_or_default(),
                    u["name"]["familyName"].as_str().unwrap_or_default(),
                    u["active"].as_bool().unwrap_or(true),
                    u["displayName"].as_str().unwrap_or("-"),
                )
            })
            .collect();
        users.sort();
        users
    }

    /// A state directory with the site `svc` here and `people`.
    fn state(&self, extra: &str, people: &str) -> tempfile::TempDir {
        let site = format!(
            "[sites.svc]\nprovider = \"scim\"\nbase_url = \"{}\"\ntoken = {{ env = \"SCIM_TOKEN\" }}\n{extra}",
            self.base
        );
        state_dir(&[("roster.toml", &site), ("people.toml", people)])
    }

    fn roster(&self, dir: &tempfile::TempDir, args: &[&str]) -> Output {
        roster(dir.path(), args, &[("SCIM_TOKEN", self.token)])
    }
}

/// The sandbox's service, then a scim2-server when one is configured.
fn both() -> Vec<Svc> {
    std::iter::once(Svc::sandbox())
        .chain(Svc::scim2(&[]))
        .collect()
}

/// A saved plan is refused when an object it changes moved on the
/// service in a way roster does not read (its ETag moved: someone set
/// the user's `displayName`): it is applied with the ETags it was read with or
/// not at all, and the other change is kept. Planned again, it applies.
#[test]
fn scimetag_a_saved_plan_is_refused_once_an_etag_moved() {
    for svc in both() {
        insta::allow_duplicates! { etag_moved_case(&svc) }
    }
}

fn etag_moved_case(svc: &Svc) {
    let ada = svc.raw(
        Method::POST,
        "/Users",
        Some(json!({
            "schemas": [USER], "userName": "ada@acme.com", "active": true,
            "name": {"givenName": "Ada", "familyName": "Lovelace"}
        })),
    );
    let ada = ada["id"].as_str().unwrap().to_string();
    let people =
        "[[users]]\nemail = \"ada@acme.com\"\nfirst_name = \"Ada\"\nlast_name = \"King\"\n";
    let dir = svc.state("", people);
    let saved = svc.roster(&dir, &["plan", "--out", "plan.json"]);
    assert_eq!(saved.code, 0, "{}", saved.all());
    let display_name = json!({
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": "displayName", "value": "Countess"}]
    });
    svc.raw(Method::PATCH, &format!("/Users/{ada}"), Some(display_name));

    // What roster reads of ada did not change: the plan is the same.
    let again = svc.roster(&dir, &["plan"]);
    assert!(
        again.stdout.contains("last_name: \"Lovelace\" → \"King\""),
        "{}",
        again.all()
    );
    let moved = svc.roster(&dir, &["apply", "plan.json", "--yes"]);
    insta::assert_snapshot!(run_snapshot(&moved), @"
    exit: 1
    --- stdout
    The saved plan plan.json does not match what roster would do now:
      - site `svc`: the live state changed since the plan was made
    The changes themselves are the same, but what they were computed from moved.
    --- stderr
    error: refusing to apply plan.json: it is not the plan roster would carry out now. Run `roster plan` again, review it, and apply the new plan; nothing was changed
    ");
    assert_eq!(svc.users(), ["ada@acme.com Ada Lovelace true Countess"]);

    let saved = svc.roster(&dir, &["plan", "--out", "plan.json"]);
    assert_eq!(saved.code, 0, "{}", saved.all());
    let out = svc.roster(&dir, &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stderr
            .contains("Requests to svc: 4 sent, 0 retried (the plan estimated 4)."),
        "{}",
        out.all()
    );
    assert_eq!(svc.users(), ["ada@acme.com Ada King true Countess"]);
}

/// A scim2-server announcing no PATCH (filters and ETags, yes).
fn without_patch(dir: &tempfile::TempDir) -> Option<Svc> {
    let path = dir.path().join("spc.json");
    let config = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": false},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": 1000},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": []
    });
    std::fs::write(&path, config.to_string()).unwrap();
    Svc::scim2(&["--service-provider-config", path.to_str().unwrap()])
}

/// On a service without PATCH every edit is a read and a PUT, and apply's
/// estimate counts both: users and groups made with their memberships
/// (one read and PUT per group), then a user renamed, a name changed, a
/// group renamed and left, a user deactivated. No fault is injected, so
/// the estimate is exactly what is sent.
#[test]
fn scimetag_without_patch_the_estimate_counts_each_read_before_a_put() {
    let dir = tempfile::tempdir().unwrap();
    let Some(svc) = without_patch(&dir) else {
        return;
    };
    let first = r#"
[[groups]]
name = "Analysts"

[[groups]]
name = "Ops"

[[users]]
email = "ada@acme.com"
first_name = "Ada"
last_name = "Lovelace"
groups = ["Analysts"]

[[users]]
email = "grace@acme.com"
first_name = "Grace"
last_name = "Hopper"
groups = ["Analysts", "Ops"]

[[users]]
email = "lin@acme.com"
first_name = "Lin"
last_name = "Chen"
"#;
    let state = svc.state("", first);
    let out = svc.roster(&state, &["apply", "--yes"]);
    assert_eq!(out.code, 0, "{}", out.all());
    insta::assert_snapshot!(out.stderr, @"Requests to svc: 12 sent, 0 retried (the plan estimated 12).");

    let second = r#"
[[groups]]
name = "Analysts"

[[groups]]
name = "Platform"
previous_names = ["Ops"]

[[users]]
email = "ada.king@acme.com"
previous_emails = ["ada@acme.com"]
first_name = "Ada"
last_name = "Lovelace"
groups = ["Analysts"]

[[users]]
email = "grace@acme.com"
first_name = "Grace B."
last_name = "Hopper"
groups = ["Analysts"]

[[users]]
email = "lin@acme.com"
first_name = "Lin"
last_name = "Chen"
active = false
"#;
    let state = svc.state("", second);
    let out = svc.roster(&state, &["apply", "--yes"]);
    insta::assert_snapshot!(run_snapshot(&out), @r#"
    exit: 0
    --- stdout
    Plan: 0 to create, 3 to update, 1 to delete.

    site svc (scim) — 0 to create, 3 to update, 1 to delete
      apply sends: 13 requests (3 reads, 10 writes), no max_requests_per_second: as fast as the site answers
      ~ group Platform
          name: "Ops" → "Platform"
      ~ user  ada.king@acme.com
          email: "ada@acme.com" → "ada.king@acme.com"
      ~ user  grace@acme.com
          first_name: "Grace" → "Grace B."
          groups: -Platform
      - user  lin@acme.com  (active = false; deactivated)

    site svc
      ok      group Platform updated
      ok      user ada.king@acme.com updated
      ok      user grace@acme.com updated
      ok      user lin@acme.com deactivated
    Apply finished: 4 applied, 0 failed, 0 skipped.
    --- stderr
    Requests to svc: 13 sent, 0 retried (the plan estimated 13).
    "#);
    assert_eq!(
        svc.users(),
        [
            "ada.king@acme.com Ada Lovelace true -",
            "grace@acme.com Grace B. Hopper true -",
            "lin@acme.com Lin Chen false -",
        ]
    );
    let again = svc.roster(&state, &["plan"]);
    assert!(again.stdout.starts_with("No changes"), "{}", again.all());
}
