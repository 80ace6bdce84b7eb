//! End to end: the sandbox's Sigma access endpoints over real HTTP
//! (workspaces and their grants, `/v2/grants`, connections and their
//! grants, user attributes, account types), checked against the rules of
//! `sigma-openapi-access.json` and the live data afterwards.

use serde_json::{Value, json};

use crate::common::*;
use roster::sandbox::SigmaOrg;

const ADA: &str = "sbxm0000000000000000000000003";
const ALAN: &str = "sbxm0000000000000000000000005";
const KATHERINE: &str = "sbxm0000000000000000000000006";
const TIM: &str = "sbxm0000000000000000000000008";
const ANALYSTS: &str = "00000000-0000-4000-8000-000000000065";
const FINANCE: &str = "00000000-0000-4000-8000-000000000066";
const MARKETING: &str = "00000000-0000-4000-8000-000000000067";
const SNOWFLAKE: &str = "7c000000-0000-4000-8000-0000000000d1";

/// An authenticated client of the sandbox's Sigma organisation `acme-sigma`.
struct Api {
    http: reqwest::Client,
    base: String,
    bearer: String,
}

impl Api {
    async fn new(sb: &BackgroundSandbox) -> Api {
        let http = reqwest::Client::new();
        let token: Value = http
            .post(format!("{}/v2/auth/token", sb.url))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "acme-sigma"),
                ("client_secret", "sandbox-sigma-secret"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Api {
            http,
            base: sb.url.clone(),
            bearer: format!("Bearer {}", token["access_token"].as_str().unwrap()),
        }
    }

    /// `METHOD path` with `body` (if any); the status and the JSON answer.
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("Authorization", &self.bearer);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> Value {
        let (status, v) = self.call("GET", path, None).await;
        assert_eq!(status, 200, "GET {path}: {v}");
        v
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call("POST", path, Some(body)).await
    }

    /// Every entry of a paged list, following `nextPage` with `limit`;
    /// also how many pages it took.
    async fn all(&self, path: &str, limit: usize) -> (Vec<Value>, usize) {
        let sep = if path.contains('?') { '&' } else { '?' };
        let (mut entries, mut pages) = (Vec::new(), 0);
        let mut url = format!("{path}{sep}limit={limit}");
        loop {
            let page = self.get(&url).await;
            pages += 1;
            entries.extend(page["entries"].as_array().unwrap().iter().cloned());
            match page["nextPage"].as_str() {
                Some(next) => url = format!("{path}{sep}limit={limit}&page={next}"),
                None => {
                    assert!(page.get("nextPage").is_some(), "nextPage is always sent");
                    break;
                }
            }
        }
        (entries, pages)
    }
}

fn org(sb: &BackgroundSandbox) -> SigmaOrg {
    sb.sandbox.data().sigma["acme-sigma"].clone()
}

fn names(entries: &[Value], key: &str) -> Vec<String> {
    entries
        .iter()
        .map(|e| e[key].as_str().unwrap().to_string())
        .collect()
}

/// The permission each grantee has on a workspace or connection, as listed.
async fn grants(api: &Api, path: &str) -> Vec<(String, String, String)> {
    let (entries, _) = api.all(path, 50).await;
    let mut out: Vec<(String, String, String)> = entries
        .iter()
        .map(|g| {
            let who = g["memberId"]
                .as_str()
                .or(g["teamId"].as_str())
                .unwrap()
                .to_string();
            (
                who,
                g["permission"].as_str().unwrap().to_string(),
                g["grantId"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

async fn workspace_id(api: &Api, name: &str) -> String {
    let list = api
        .get(&format!(
            "/v2/workspaces?exactName={}",
            name.replace(' ', "%20")
        ))
        .await;
    let entries = list["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{list}");
    entries[0]["workspaceId"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_seed_serves_workspaces_a_connection_attributes_and_a_custom_account_type() {
    let sb = seeded_sandbox();
    let api = Api::new(&sb).await;
    let (ws, _) = api.all("/v2/workspaces", 50).await;
    assert_eq!(
        names(&ws, "name"),
        ["Finance", "Analytics", "Marketing Campaigns"]
    );
    let finance = workspace_id(&api, "finance").await;
    let listed: Vec<(String, String)> = grants(&api, &format!("/v2/workspaces/{finance}/grants"))
        .await
        .into_iter()
        .map(|(who, p, _)| (who, p))
        .collect();
    assert_eq!(
        listed,
        [
            (FINANCE.to_string(), "edit".to_string()),
            (ALAN.to_string(), "view".to_string())
        ]
    );
    let conns = api.get("/v2/connections").await;
    assert_eq!(
        names(conns["entries"].as_array().unwrap(), "name"),
        ["Snowflake Prod"]
    );
    assert_eq!(conns["entries"][0]["type"], "snowflake");
    assert_eq!(conns["nextPage"], Value::Null);
    let cg = grants(&api, &format!("/v2/connections/{SNOWFLAKE}/grants")).await;
    assert_eq!(
        cg.iter()
            .map(|(w, p, _)| (w.as_str(), p.as_str()))
            .collect::<Vec<_>>(),
        [(ANALYSTS, "annotate"), (KATHERINE, "usage")]
    );
    let attrs = api.get("/v2/user-attributes").await;
    let region = &attrs["entries"][0];
    assert_eq!(region["name"], "region");
    assert_eq!(
        region["defaultValue"],
        json!({"type": "string", "val": "none"})
    );
    assert_eq!(attrs["entries"][1]["defaultValue"], Value::Null);
    let rid = region["userAttributeId"].as_str().unwrap();
    let users = api.get(&format!("/v2/user-attributes/{rid}/users")).await;
    assert_eq!(users["entries"][0]["userId"], ADA);
    assert_eq!(users["entries"][0]["value"]["val"], "West");
    let team = api
        .get(&format!("/v2/teams/{FINANCE}/user-attributes"))
        .await;
    assert_eq!(
        team["entries"],
        json!([{"userAttributeId": rid, "userAttributeName": "region", "value": {"type": "string", "val": "East"}}])
    );
    let types = api.get("/v2/accountTypes").await;
    let custom: Vec<&Value> = types["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["isCustom"] == true)
        .collect();
    assert_eq!(custom.len(), 1);
    assert_eq!(custom[0]["accountTypeName"], "Analyst Pro");
    let perms = api.get("/v2/accountTypes/at-5/permissions").await;
    assert!(perms.is_array(), "a bare array: {perms}");
    assert_eq!(
        perms[2],
        json!({"permission": "download-data", "description": "Download data from workbooks"})
    );
    assert!(only_reads(&sb), "{:?}", writes(&sb));
}

#[tokio::test]
async fn a_grant_only_raises_access_and_lowering_is_delete_then_grant() {
    let sb = seeded_sandbox();
    let api = Api::new(&sb).await;
    let ws = workspace_id(&api, "Marketing Campaigns").await;
    let path = format!("/v2/workspaces/{ws}/grants");
    let grant =
        |who: &str, p: &str| json!({"grants": [{"grantee": {"memberId": who}, "permission": p}]});
    let tim = |gs: &[(String, String, String)]| gs.iter().find(|g| g.0 == TIM).cloned();

    assert_eq!(api.post(&path, grant(TIM, "view")).await, (200, json!({})));
    let (_, p, first_id) = tim(&grants(&api, &path).await).unwrap();
    assert_eq!(p, "view");
    // Raised in place: the same grant, now edit.
    assert_eq!(api.post(&path, grant(TIM, "edit")).await.0, 200);
    assert_eq!(
        tim(&grants(&api, &path).await),
        Some((TIM.into(), "edit".into(), first_id.clone()))
    );
    // A lower grant is answered as success and changes nothing.
    assert_eq!(
        api.post(&path, grant(TIM, "explore")).await,
        (200, json!({}))
    );
    assert_eq!(
        tim(&grants(&api, &path).await),
        Some((TIM.into(), "edit".into(), first_id.clone()))
    );
    // Lowering is a delete, then a grant.
    let (s, _) = api
        .call("DELETE", &format!("{path}/{first_id}"), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(tim(&grants(&api, &path).await), None);
    assert_eq!(api.post(&path, grant(TIM, "explore")).await.0, 200);
    let (_, p, new_id) = tim(&grants(&api, &path).await).unwrap();
    assert_eq!(p, "explore");
    assert_ne!(new_id, first_id);
    // Refused: a connection's permission, both grantee kinds, an unknown member; nothing changes.
    for (body, status) in [
        (grant(TIM, "annotate"), 400),
        (
            json!({"grants": [{"grantee": {"memberId": TIM, "teamId": MARKETING}, "permission": "edit"}]}),
            400,
        ),
        (
            json!({"grants": [{"grantee": {"memberId": TIM}, "permission": "edit"}, {"grantee": {"memberId": "nobody"}, "permission": "edit"}]}),
            404,
        ),
    ] {
        let (s, v) = api.post(&path, body).await;
        assert_eq!(s, status, "{v}");
        assert!(v["message"].is_string());
    }
    assert_eq!(tim(&grants(&api, &path).await).unwrap().1, "explore");

    // `/v2/grants` answers with the grant that stands.
    let one = |p: &str| json!({"inodeId": ws, "grantee": {"teamId": MARKETING}, "permission": p});
    let (s, g) = api.post("/v2/grants", one("edit")).await;
    assert_eq!(
        (s, g["permission"].as_str(), g["inodeType"].as_str()),
        (200, Some("edit"), Some("folder"))
    );
    let (_, lower) = api.post("/v2/grants", one("view")).await;
    assert_eq!(
        (lower["grantId"].clone(), lower["permission"].as_str()),
        (g["grantId"].clone(), Some("edit"))
    );
    let by_team = api.get(&format!("/v2/grants?teamId={MARKETING}")).await;
    assert_eq!(by_team["entries"].as_array().unwrap().len(), 1, "{by_team}");
    let gid = g["grantId"].as_str().unwrap();
    let (s, deleted) = api.call("DELETE", &format!("/v2/grants/{gid}"), None).await;
    assert_eq!((s, deleted["permission"].as_str()), (200, Some("edit")));
    assert_eq!(
        api.call("GET", &format!("/v2/grants/{gid}"), None).await.0,
        404
    );

    // Connections: usage, then annotate; a lower usage leaves annotate.
    let cpath = format!("/v2/connections/{SNOWFLAKE}/grants");
    for p in ["usage", "annotate", "usage"] {
        assert_eq!(api.post(&cpath, grant(TIM, p)).await.0, 200);
    }
    assert_eq!(tim(&grants(&api, &cpath).await).unwrap().1, "annotate");
    assert_eq!(api.post(&cpath, grant(TIM, "edit")).await.0, 400);
    let live = org(&sb);
    let on_conn: Vec<_> = live
        .access
        .grants
        .iter()
        .filter(|g| g.inode_id == SNOWFLAKE)
        .collect();
    assert_eq!(on_conn.len(), 3, "{on_conn:?}");
}

#[tokio::test]
async fn a_workspace_is_renamed_in_place_and_names_repeat_unless_refused() {
    let sb = seeded_sandbox();
    let api = Api::new(&sb).await;
    let id = workspace_id(&api, "Finance").await;
    let before = grants(&api, &format!("/v2/workspaces/{id}/grants")).await;
    let (s, w) = api
        .call(
            "PATCH",
            &format!("/v2/workspaces/{id}"),
            Some(json!({"name": "Corporate Finance"})),
        )
        .await;
    assert_eq!(
        (s, w["workspaceId"].as_str(), w["name"].as_str()),
        (200, Some(id.as_str()), Some("Corporate Finance"))
    );
    assert_eq!(
        api.get(&format!("/v2/workspaces/{id}")).await["name"],
        "Corporate Finance"
    );
    assert_eq!(
        grants(&api, &format!("/v2/workspaces/{id}/grants")).await,
        before,
        "grants stay with the workspace"
    );
    let (s, v) = api
        .call(
            "PATCH",
            &format!("/v2/workspaces/{id}"),
            Some(json!({"name": "analytics", "noDuplicates": true})),
        )
        .await;
    assert_eq!((s, v["message"].as_str()), (409, Some("Duplicate record")));
    assert_eq!(
        api.call("PATCH", &format!("/v2/workspaces/{id}"), Some(json!({})))
            .await
            .0,
        400
    );
    // Names may repeat unless noDuplicates is sent.
    let (s, dup) = api
        .post("/v2/workspaces", json!({"name": "Analytics"}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        api.post(
            "/v2/workspaces",
            json!({"name": "ANALYTICS", "noDuplicates": true})
        )
        .await
        .0,
        409
    );
    let matches = api.get("/v2/workspaces?name=lyt").await;
    assert_eq!(matches["total"], 2);
    // Deleting takes the workspace's grants along.
    let dup_id = dup["workspaceId"].as_str().unwrap();
    assert_eq!(
        api.post(
            &format!("/v2/workspaces/{dup_id}/grants"),
            json!({"grants": [{"grantee": {"teamId": ANALYSTS}, "permission": "view"}]})
        )
        .await
        .0,
        200
    );
    assert_eq!(
        api.call("DELETE", &format!("/v2/workspaces/{dup_id}"), None)
            .await,
        (200, json!({}))
    );
    assert_eq!(
        api.call("GET", &format!("/v2/workspaces/{dup_id}"), None)
            .await
            .0,
        404
    );
    assert!(org(&sb).access.grants.iter().all(|g| g.inode_id != dup_id));
    let live = org(&sb);
    let names: Vec<&str> = live
        .access
        .workspaces
        .iter()
        .map(|w| w.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["Corporate Finance", "Analytics", "Marketing Campaigns"]
    );
}

#[tokio::test]
async fn connections_are_listed_never_created() {
    let sb = seeded_sandbox();
    let api = Api::new(&sb).await;
    let body = json!({"name": "Warehouse", "details": {"type": "snowflake", "account": "x"}});
    let r = api
        .http
        .post(format!("{}/v2/connections", sb.url))
        .header("Authorization", &api.bearer)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET");
    let v: Value = r.json().await.unwrap();
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("does not create connections"),
        "{v}"
    );
    assert_eq!(sb.sandbox.writes(), 0);
    assert_eq!(org(&sb).access.connections.len(), 1);
    let c = api.get(&format!("/v2/connections/{SNOWFLAKE}")).await;
    assert_eq!(c["name"], "Snowflake Prod");
    assert_eq!(api.call("GET", "/v2/connections/nope", None).await.0, 404);
    assert_eq!(api.get("/v2/connections?search=snow").await["total"], 1);
    assert_eq!(api.get("/v2/connections?search=bigquery").await["total"], 0);
}

#[tokio::test]
async fn team_attribute_assignments_take_at_most_100_a_request() {
    let sb = seeded_sandbox();
    let api = Api::new(&sb).await;
    let mut ids = Vec::new();
    for i in 0..101 {
        let (s, a) = api
            .post(
                "/v2/user-attributes",
                json!({"name": format!("attr{i:03}")}),
            )
            .await;
        assert_eq!(s, 200, "{a}");
        ids.push(a["userAttributeId"].as_str().unwrap().to_string());
    }
    let assign = |ids: &[String]| json!({"assignments": ids.iter().map(|id| json!({"userAttributeId": id, "value": {"type": "string", "val": "v"}})).collect::<Vec<_>>()});
    let path = format!("/v2/teams/{MARKETING}/assignedUserAttributes");
    let (s, v) = api.post(&path, assign(&ids)).await;
    assert_eq!(
        (s, v["message"].as_str()),
        (400, Some("Maximum 100 assignments per request (101 sent)"))
    );
    let before = api
        .all(&format!("/v2/teams/{MARKETING}/user-attributes"), 50)
        .await
        .0;
    assert_eq!(
        before.len(),
        1,
        "nothing of the refused request was assigned"
    );
    assert_eq!(api.post(&path, assign(&ids[..100])).await, (200, json!({})));
    assert_eq!(api.post(&path, assign(&ids[100..])).await.0, 200);
    let (all, pages) = api
        .all(&format!("/v2/teams/{MARKETING}/user-attributes"), 50)
        .await;
    assert_eq!((all.len(), pages), (102, 3));
    // A value of an unknown attribute refuses the whole request.
    let bad = json!({"assignments": [{"userAttributeId": ids[0], "value": {"type": "string", "val": "w"}}, {"userAttributeId": "nope", "value": {"type": "string", "val": "w"}}]});
    assert_eq!(api.post(&path, bad).await.0, 404);
    let teams = api
        .get(&format!("/v2/user-attributes/{}/teams", ids[0]))
        .await;
    assert_eq!(
        (
            teams["entries"][0]["teamId"].as_str(),
            teams["entries"][0]["value"]["val"].as_str()
        ),
        (Some(MARKETING), Some("v"))
    );
}

#[tokio::test]
async fn user_attribute_values_are_set_and_removed_per_member_and_team() {
    let sb = seeded_sandbox();
    let api = Api::new(&sb).await;
    let (s, a) = api
        .post("/v2/user-attributes", json!({"name": "tier", "description": "Support tier", "defaultValue": {"type": "string", "val": "basic"}}))
        .await;
    assert_eq!((s, a["defaultValue"]["val"].as_str()), (200, Some("basic")));
    assert_eq!(
        api.post("/v2/user-attributes", json!({"name": "TIER"}))
            .await
            .0,
        409
    );
    assert_eq!(
        api.post(
            "/v2/user-attributes",
            json!({"name": "x", "defaultValue": {"type": "number", "val": "1"}})
        )
        .await
        .0,
        400
    );
    let id = a["userAttributeId"].as_str().unwrap();
    let value = |v: &str| json!({"type": "string", "val": v});
    let users = format!("/v2/user-attributes/{id}/users");
    assert_eq!(api.post(&users, json!({"assignments": [{"userId": ADA, "value": value("gold")}, {"userId": TIM, "value": value("silver")}]})).await.0, 200);
    assert_eq!(
        api.post(
            &users,
            json!({"assignments": [{"userId": ADA, "value": value("platinum")}]})
        )
        .await
        .0,
        200
    );
    let listed = api.get(&users).await;
    assert_eq!(listed["total"], 2);
    assert_eq!(
        listed["entries"][0]["value"]["val"], "platinum",
        "a value set again is overwritten"
    );
    assert_eq!(
        api.call("PATCH", &users, Some(json!({"delete": [{"userId": TIM}]})))
            .await
            .0,
        200
    );
    assert_eq!(
        api.call("DELETE", &format!("{users}/{ADA}"), None).await.0,
        200
    );
    assert_eq!(
        api.call("DELETE", &format!("{users}/{ADA}"), None).await.0,
        404
    );
    assert_eq!(api.get(&users).await["total"], 0);
    let teams = format!("/v2/user-attributes/{id}/teams");
    assert_eq!(api.post(&teams, json!({"assignments": [{"teamId": FINANCE, "value": value("gold")}, {"teamId": ANALYSTS, "value": value("bronze")}]})).await.0, 200);
    let t = api.get(&teams).await;
    assert_eq!(t["total"], 2);
    assert!(
        t["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["priority"].is_number())
    );
    assert_eq!(
        api.call(
            "PATCH",
            &teams,
            Some(json!({"delete": [{"teamId": FINANCE}]}))
        )
        .await
        .0,
        200
    );
    assert_eq!(
        api.call("DELETE", &format!("{teams}/{ANALYSTS}"), None)
            .await
            .0,
        200
    );
    assert_eq!(api.get(&teams).await["total"], 0);
    // An attribute is never edited: no PATCH on it.
    assert_eq!(
        api.call(
            "PATCH",
            &format!("/v2/user-attributes/{id}"),
            Some(json!({"description": "x"}))
        )
        .await
        .0,
        405
    );
    assert_eq!(
        api.call("DELETE", &format!("/v2/user-attributes/{id}"), None)
            .await
            .0,
        200
    );
    assert_eq!(
        api.call("GET", &format!("/v2/user-attributes/{id}"), None)
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn an_account_type_in_use_is_deleted_only_with_a_reassignment() {
    let sb = seeded_sandbox();
    let api = Api::new(&sb).await;
    let body = |name: &str, perms: &[&str]| json!({"name": name, "description": "Viewer who can download", "permissions": perms});
    let (s, t) = api
        .post(
            "/v2/accountTypes",
            body("Power Viewer", &["view-worksheet", "download-data"]),
        )
        .await;
    assert_eq!(
        (s, t["isCustom"].as_bool(), t["accountTypeName"].as_str()),
        (201, Some(true), Some("Power Viewer"))
    );
    assert_eq!(
        api.post("/v2/accountTypes", body("power viewer", &[]))
            .await
            .0,
        409
    );
    let (s, v) = api
        .post("/v2/accountTypes", body("Wizard", &["cast-spells"]))
        .await;
    assert_eq!(
        (s, v["message"].as_str()),
        (400, Some("Unknown permission: cast-spells"))
    );
    assert_eq!(
        api.post(
            "/v2/accountTypes",
            json!({"name": "No Perms", "description": "d"})
        )
        .await
        .0,
        400
    );
    let id = t["accountTypeId"].as_str().unwrap();
    let perms = api.get(&format!("/v2/accountTypes/{id}/permissions")).await;
    assert_eq!(
        names(perms.as_array().unwrap(), "permission"),
        ["view-worksheet", "download-data"]
    );
    // Never edited.
    assert_eq!(
        api.call(
            "PATCH",
            &format!("/v2/accountTypes/{id}"),
            Some(json!({"name": "x"}))
        )
        .await
        .0,
        405
    );
    // Two people on it.
    for m in [KATHERINE, TIM] {
        let (s, v) = api
            .call(
                "PATCH",
                &format!("/v2/members/{m}"),
                Some(json!({"memberType": "power viewer"})),
            )
            .await;
        assert_eq!((s, v["memberType"].as_str()), (200, Some("Power Viewer")));
    }
    let ids_before: Vec<Value> = api.get("/v2/accountTypes").await["entries"]
        .as_array()
        .unwrap()
        .clone();
    let (s, v) = api
        .call("DELETE", &format!("/v2/accountTypes/{id}"), None)
        .await;
    assert_eq!(s, 400);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("reassignToAccountTypeId is required"),
        "{v}"
    );
    assert_eq!(
        org(&sb)
            .members
            .iter()
            .filter(|m| m.member_type == "Power Viewer")
            .count(),
        2
    );
    let viewer = ids_before
        .iter()
        .find(|t| t["accountTypeName"] == "Viewer")
        .unwrap()["accountTypeId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        api.call(
            "DELETE",
            &format!("/v2/accountTypes/{id}?reassignToAccountTypeId=nope"),
            None
        )
        .await
        .0,
        404
    );
    assert_eq!(
        api.call(
            "DELETE",
            &format!("/v2/accountTypes/{id}?reassignToAccountTypeId={id}"),
            None
        )
        .await
        .0,
        400
    );
    assert_eq!(
        api.call(
            "DELETE",
            &format!("/v2/accountTypes/{id}?reassignToAccountTypeId={viewer}"),
            None
        )
        .await,
        (200, json!({}))
    );
    let live = org(&sb);
    for m in [KATHERINE, TIM] {
        assert_eq!(
            live.members
                .iter()
                .find(|x| x.member_id == m)
                .unwrap()
                .member_type,
            "Viewer"
        );
    }
    assert!(!live.account_types.contains(&"Power Viewer".to_string()));
    // The others keep their IDs; a default type is never deleted; an unused custom one needs no reassignment.
    let after: Vec<Value> = api.get("/v2/accountTypes").await["entries"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(after[..], ids_before[..ids_before.len() - 1]);
    let (s, v) = api
        .call(
            "DELETE",
            &format!("/v2/accountTypes/{viewer}?reassignToAccountTypeId=at-1"),
            None,
        )
        .await;
    assert_eq!(
        (s, v["message"].as_str()),
        (400, Some("Default Sigma account types cannot be deleted"))
    );
    assert_eq!(
        api.call("DELETE", "/v2/accountTypes/at-5", None).await.0,
        200
    );
    let (s, v) = api
        .call(
            "PATCH",
            &format!("/v2/members/{ADA}"),
            Some(json!({"memberType": "Analyst Pro"})),
        )
        .await;
    assert_eq!(
        (s, v["message"].as_str()),
        (404, Some("Member type name is not found"))
    );
}

#[tokio::test]
async fn lists_page_over_more_than_one_page() {
    let sb = seeded_sandbox();
    let api = Api::new(&sb).await;
    for i in 0..120 {
        assert_eq!(
            api.post("/v2/workspaces", json!({"name": format!("W{i:03}")}))
                .await
                .0,
            200
        );
    }
    let first = api.get("/v2/workspaces?limit=50").await;
    assert_eq!(
        (first["total"].as_u64(), first["hasMore"].as_bool()),
        (Some(123), Some(true))
    );
    let (all, pages) = api.all("/v2/workspaces", 50).await;
    assert_eq!((all.len(), pages), (123, 3));
    let mut ids = names(&all, "workspaceId");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 123, "every workspace once");
    let (v21, _) = api.all("/v2.1/workspaces", 1000).await;
    assert_eq!(v21.len(), 123);
    assert_eq!(
        api.call("GET", "/v2/workspaces?page=bogus", None).await.0,
        400
    );
    // Grants, user attributes and connections page the same way.
    let ws = workspace_id(&api, "Analytics").await;
    let (g, pages) = api.all(&format!("/v2/workspaces/{ws}/grants"), 1).await;
    assert_eq!((g.len(), pages), (2, 2));
    let (a, pages) = api.all("/v2/user-attributes", 1).await;
    assert_eq!((a.len(), pages), (2, 2));
    // Account types: pageToken/pageSize, nextPageToken absent on the last page.
    let mut token: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let url = match &token {
            Some(t) => format!("/v2/accountTypes?pageSize=2&pageToken={t}"),
            None => "/v2/accountTypes?pageSize=2".to_string(),
        };
        let page = api.get(&url).await;
        seen.extend(names(
            page["entries"].as_array().unwrap(),
            "accountTypeName",
        ));
        match page.get("nextPageToken") {
            Some(t) => token = Some(t.as_str().unwrap().to_string()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        ["Admin", "Creator", "Explorer", "Viewer", "Analyst Pro"]
    );
}

#[tokio::test]
async fn every_access_endpoint_needs_a_valid_token() {
    let sb = seeded_sandbox();
    let http = reqwest::Client::new();
    let endpoints = [
        ("GET", "/v2/workspaces".to_string()),
        ("POST", "/v2/workspaces".to_string()),
        ("GET", "/v2.1/workspaces".to_string()),
        ("PATCH", "/v2/workspaces/x".to_string()),
        ("DELETE", "/v2/workspaces/x".to_string()),
        ("GET", "/v2/workspaces/x/grants".to_string()),
        ("POST", "/v2/workspaces/x/grants".to_string()),
        ("DELETE", "/v2/workspaces/x/grants/y".to_string()),
        ("GET", "/v2/grants".to_string()),
        ("POST", "/v2/grants".to_string()),
        ("DELETE", "/v2/grants/x".to_string()),
        ("GET", "/v2/connections".to_string()),
        ("POST", "/v2/connections".to_string()),
        ("GET", format!("/v2/connections/{SNOWFLAKE}")),
        ("POST", format!("/v2/connections/{SNOWFLAKE}/grants")),
        ("GET", "/v2/user-attributes".to_string()),
        ("POST", "/v2/user-attributes".to_string()),
        ("POST", "/v2/user-attributes/x/users".to_string()),
        ("PATCH", "/v2/user-attributes/x/teams".to_string()),
        ("GET", format!("/v2/teams/{FINANCE}/user-attributes")),
        (
            "POST",
            format!("/v2/teams/{FINANCE}/assignedUserAttributes"),
        ),
        ("GET", "/v2/accountTypes".to_string()),
        ("POST", "/v2/accountTypes".to_string()),
        ("DELETE", "/v2/accountTypes/at-5".to_string()),
        ("GET", "/v2/accountTypes/at-5/permissions".to_string()),
    ];
    for auth in [None, Some("Bearer not-a-token")] {
        for (method, path) in &endpoints {
            let mut req = http.request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", sb.url),
            );
            if let Some(a) = auth {
                req = req.header("Authorization", a);
            }
            let r = req.json(&json!({"name": "x"})).send().await.unwrap();
            assert_eq!(r.status(), 401, "{method} {path} with {auth:?}");
            let v: Value = r.json().await.unwrap();
            assert_eq!(v, json!({"message": "Unauthorized"}));
        }
    }
    assert_eq!(sb.sandbox.writes(), 0);
    assert_eq!(org(&sb), persist::seed().sigma["acme-sigma"]);
}

#[tokio::test]
async fn a_deleted_team_takes_its_grants_and_attribute_values_along() {
    let sb = seeded_sandbox();
    let api = Api::new(&sb).await;
    let before = org(&sb);
    let on_finance = |o: &SigmaOrg| {
        o.access
            .grants
            .iter()
            .filter(|g| g.team_id.as_deref() == Some(FINANCE))
            .count()
    };
    assert_eq!(on_finance(&before), 1);
    let (s, _) = api
        .call("DELETE", &format!("/v2/teams/{FINANCE}"), None)
        .await;
    assert_eq!(s, 200);
    let after = org(&sb);
    assert_eq!(on_finance(&after), 0);
    assert_eq!(after.access.grants.len(), before.access.grants.len() - 1);
    assert!(
        after
            .access
            .team_values
            .values()
            .all(|v| !v.contains_key(FINANCE))
    );
    assert_eq!(
        api.call("GET", &format!("/v2/teams/{FINANCE}/user-attributes"), None)
            .await
            .0,
        404
    );
}
