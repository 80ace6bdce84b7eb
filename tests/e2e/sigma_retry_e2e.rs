//! End to end: Sigma writes that are safe to send again and that lose
//! nothing. A create whose answer is lost after the site made the object
//! (workspace, user attribute, account type, member) is looked up before
//! anything is sent again; both answer shapes of `POST /v2/workspaces` are
//! read and an unusable id refused; a deactivated member's documents are
//! counted by `ownerId`; a replaced attribute lists and sets again every
//! value it held, tenants' included; and a deactivation revokes the
//! member's OAuth tokens unless the site says not to.

use crate::attrs_e2e::{apply, edit, imported, org, plan, team_values, user_value};
use crate::common::*;
use roster::sandbox::faults::Meddle;
use serde_json::json;

/// Adds `text` to the imported state of the seeded organisation.
fn append(dir: &tempfile::TempDir, text: &str) {
    let path = dir.path().join("state/imported/acme-sigma.toml");
    let mut state = std::fs::read_to_string(&path).unwrap();
    state.push_str(text);
    std::fs::write(path, state).unwrap();
}

/// How many requests `method path` (without the query) the sandbox answered.
fn sent(sb: &BackgroundSandbox, method: &str, path: &str) -> usize {
    sb.sandbox
        .requests()
        .iter()
        .filter(|r| r.method == method && r.path.split('?').next() == Some(path))
        .count()
}

/// The `Requests to acme-sigma: N sent, ... (the plan estimated M)` line,
/// as (N, M).
fn sent_and_estimated(out: &Output) -> (u64, u64) {
    let line = out
        .stderr
        .lines()
        .find(|l| l.starts_with("Requests to acme-sigma: "))
        .unwrap_or_else(|| panic!("no request count in\n{}", out.all()));
    let number = |after: &str| -> u64 {
        let rest = &line[line.find(after).unwrap() + after.len()..];
        rest.split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    (number("acme-sigma: "), number("the plan estimated "))
}

/// Declares tim@acme.com `active = false` in the imported state.
fn declare_tim_inactive(dir: &tempfile::TempDir) {
    edit(
        dir,
        &[(
            "email = \"tim@acme.com\"",
            "email = \"tim@acme.com\"\nactive = false",
        )],
    );
}

struct LostCreate {
    what: &'static str,
    declared: &'static str,
    path: &'static str,
    /// How many of the object the organisation holds.
    count: fn(&roster::sandbox::SigmaOrg) -> usize,
}

/// A workspace, a user attribute and an account type, each created with
/// its answer lost after the site made it: apply succeeds, one POST was
/// sent, the object exists once, and what follows it (a grant, a value)
/// reached it.
#[test]
fn a_create_whose_answer_is_lost_is_looked_up_not_sent_again() {
    let cases = [
        LostCreate {
            what: "workspace",
            declared: "\n[[workspaces]]\nname = \"Ops\"\ngrants.teams = { Finance = \"view\" }\n",
            path: "/v2/workspaces",
            count: |o| {
                o.access
                    .workspaces
                    .iter()
                    .filter(|w| w.name == "Ops")
                    .count()
            },
        },
        LostCreate {
            what: "user attribute",
            declared: "\n[[user_attributes]]\nname = \"tier\"\n",
            path: "/v2/user-attributes",
            count: |o| {
                let tier = o.access.user_attributes.iter().filter(|a| a.name == "tier");
                tier.count()
            },
        },
        LostCreate {
            what: "account type",
            declared: "\n[[account_types]]\nname = \"Auditor\"\ndescription = \"Reads only\"\npermissions = [\"view-worksheet\"]\n",
            path: "/v2/accountTypes",
            count: |o| o.account_types.iter().filter(|t| *t == "Auditor").count(),
        },
    ];
    for case in cases {
        let sb = seeded_sandbox();
        let dir = imported(&sb);
        append(&dir, case.declared);
        if case.what == "user attribute" {
            edit(
                &dir,
                &[(
                    "attributes = { region = \"West\" }",
                    "attributes = { region = \"West\", tier = \"gold\" }",
                )],
            );
        }
        sb.sandbox.meddle(Meddle::lose("POST", case.path));
        let out = apply(&dir, &sb);
        assert_eq!(out.code, 0, "{}: {}", case.what, out.all());
        assert_eq!(sent(&sb, "POST", case.path), 1, "{}", case.what);
        let org = org(&sb);
        assert_eq!((case.count)(&org), 1, "{}", case.what);
        match case.what {
            "workspace" => {
                let ops = org.access.workspaces.iter().find(|w| w.name == "Ops");
                let id = &ops.unwrap().workspace_id;
                assert!(org.access.grants.iter().any(|g| &g.inode_id == id));
            }
            "user attribute" => {
                assert_eq!(
                    user_value(&org, "tier", "ada@acme.com").as_deref(),
                    Some("gold")
                );
            }
            _ => {}
        }
        let again = plan(&dir, &sb);
        assert_eq!(again.code, 0, "{}: {}", case.what, again.all());
    }
}

/// `POST /v2/workspaces` answers the workspace or `{workspaceIds,
/// workspaceUrlIds}` (Sigma's OpenAPI gives both): either way the grant
/// that follows reaches the new workspace.
#[test]
fn both_answer_shapes_of_a_workspace_create_are_read() {
    for ids_answer in [false, true] {
        let sb = seeded_sandbox();
        sb.sandbox.edit(|d| {
            let org = d.sigma.get_mut("acme-sigma").unwrap();
            org.access.workspace_ids_answer = ids_answer;
        });
        let dir = imported(&sb);
        append(
            &dir,
            "\n[[workspaces]]\nname = \"Ops\"\ngrants.teams = { Finance = \"view\" }\n",
        );
        let out = apply(&dir, &sb);
        assert_eq!(out.code, 0, "{ids_answer}: {}", out.all());
        let org = org(&sb);
        let id = &org
            .access
            .workspaces
            .iter()
            .find(|w| w.name == "Ops")
            .unwrap()
            .workspace_id;
        assert!(
            org.access.grants.iter().any(|g| &g.inode_id == id),
            "{ids_answer}: no grant on the new workspace"
        );
        assert_eq!(plan(&dir, &sb).code, 0, "{ids_answer}");
    }
}

/// An answer whose workspace id is empty (in either shape) is refused,
/// naming the workspace, and nothing is granted on an empty id.
#[test]
fn an_empty_workspace_id_is_refused() {
    for answer in [
        json!({ "workspaceId": "", "name": "Ops" }),
        json!({ "workspaceIds": [""], "workspaceUrlIds": [""] }),
        json!({ "workspaceIds": [], "workspaceUrlIds": [] }),
    ] {
        let sb = seeded_sandbox();
        let dir = imported(&sb);
        append(
            &dir,
            "\n[[workspaces]]\nname = \"Ops\"\ngrants.teams = { Finance = \"view\" }\n",
        );
        sb.sandbox
            .meddle(Meddle::replace("POST", "/v2/workspaces", answer.clone()));
        let out = apply(&dir, &sb);
        assert_eq!(out.code, 1, "{answer}: {}", out.all());
        assert!(
            out.stdout
                .contains("FAILED  workspace Ops: site `acme-sigma`: create workspace Ops: ")
                && out
                    .stdout
                    .contains("the answer gives no usable workspace id"),
            "{answer}: {}",
            out.all()
        );
        let grants: Vec<_> = writes(&sb)
            .into_iter()
            .filter(|r| r.path.contains("/grants"))
            .collect();
        assert!(grants.is_empty(), "{answer}: {grants:?}");
    }
}

/// A member create whose answer is lost while the identity provider marks
/// the new member inactive: the look-up includes inactive members, finds
/// them, and nothing is sent again.
#[test]
fn a_lost_member_create_is_found_among_inactive_members() {
    let sb = seeded_sandbox();
    let dir = imported(&sb);
    append(
        &dir,
        "\n[[users]]\nemail = \"lin@acme.com\"\nfirst_name = \"Lin\"\nlast_name = \"Chen\"\n",
    );
    sb.sandbox
        .meddle(Meddle::lose("POST", "/v2/members").then(|d| {
            let org = d.sigma.get_mut("acme-sigma").unwrap();
            let lin = org.members.iter_mut().find(|m| m.email == "lin@acme.com");
            lin.expect("the create was carried out").is_inactive = true;
        }));
    let out = apply(&dir, &sb);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("ok      user lin@acme.com created"),
        "{}",
        out.all()
    );
    assert_eq!(sent(&sb, "POST", "/v2/members"), 1);
    let lins = org(&sb)
        .members
        .iter()
        .filter(|m| m.email == "lin@acme.com")
        .count();
    assert_eq!(lins, 1);
}

/// A deactivated member's documents are those whose `ownerId` is theirs:
/// not the documents of others shared with them, nor those without an
/// owner, though `GET /v2/members/{id}/files` lists every one they reach.
#[test]
fn a_deactivated_members_documents_are_counted_by_owner() {
    let sb = seeded_sandbox();
    sb.sandbox.edit(|d| {
        let org = d.sigma.get_mut("acme-sigma").unwrap();
        let tim = org
            .members
            .iter_mut()
            .find(|m| m.email == "tim@acme.com")
            .unwrap();
        tim.documents = 2;
        let id = tim.member_id.clone();
        let details = org.details_mut(&id);
        details.shared_documents = 3;
        details.ownerless_documents = 1;
    });
    let dir = imported(&sb);
    declare_tim_inactive(&dir);
    let out = plan(&dir, &sb);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stdout.contains(
            "- user  tim@acme.com  (active = false; deactivated, 2 documents and 0 schedules \
             to the API credentials' owner, tokens revoked)"
        ),
        "{}",
        out.all()
    );
}

/// Seeds a tenant value of `region`, and a value held by a member the
/// site lists by ID only (no email).
fn with_tenant_values(sb: &BackgroundSandbox) {
    sb.sandbox.edit(|d| {
        let org = d.sigma.get_mut("acme-sigma").unwrap();
        let region = org
            .access
            .user_attributes
            .iter()
            .find(|a| a.name == "region")
            .unwrap()
            .user_attribute_id
            .clone();
        org.access.tenants = vec!["t-eu-0001".into(), "t-us-0002".into()];
        let tenants = org.access.tenant_values.entry(region).or_default();
        tenants.insert("t-eu-0001".into(), "EU".into());
        tenants.insert("t-us-0002".into(), "US".into());
    });
}

/// Every value the sandbox holds for attribute `name`: people's, teams'
/// and tenants', by holder ID.
fn all_values(org: &roster::sandbox::SigmaOrg, name: &str) -> Vec<(String, String)> {
    let id = &org
        .access
        .user_attributes
        .iter()
        .find(|a| a.name == name)
        .unwrap()
        .user_attribute_id;
    let people = org.access.user_values.get(id).into_iter().flatten();
    let teams = org.access.team_values.get(id).into_iter().flatten();
    let tenants = org.access.tenant_values.get(id).into_iter().flatten();
    let mut all: Vec<(String, String)> = people
        .map(|(k, v)| (k.clone(), v.clone()))
        .chain(teams.map(|(k, v)| (k.clone(), v.value.clone())))
        .chain(tenants.map(|(k, v)| (k.clone(), v.clone())))
        .collect();
    all.sort();
    all
}

/// Sigma cannot edit a user attribute: a new description is a replacement
/// that lists every value it sets again (declared people and teams, and
/// tenants, read for the plan), and after apply no value is lost.
#[test]
fn a_replaced_attribute_lists_and_keeps_every_value_tenants_included() {
    let sb = seeded_sandbox();
    with_tenant_values(&sb);
    let before = all_values(&org(&sb), "region");
    assert_eq!(before.len(), 4, "{before:?}");
    let dir = imported(&sb);
    edit(
        &dir,
        &[(
            "description = \"Sales region for row-level security\"",
            "description = \"Sales region (row-level security)\"",
        )],
    );
    let out = plan(&dir, &sb);
    assert_eq!(out.code, 2, "{}", out.all());
    insta::assert_snapshot!(run_snapshot(&out), @r#"
    exit: 2
    --- stdout
    Plan: 0 to create, 1 to update, 0 to delete.

    site acme-sigma (sigma) — 0 to create, 1 to update, 0 to delete
      apply sends: 32 requests (27 reads, 5 writes), no max_requests_per_second: as fast as the site answers
      ~ attribute region  (replaced: Sigma cannot edit an attribute; deleted and created again, its 4 values set again)
          description: "Sales region for row-level security" → "Sales region (row-level security)"
          values set again: ada@acme.com="West", team Finance="East", tenant t-eu-0001="EU", tenant t-us-0002="US"
      = kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): scim.user@acme.com
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com

    Read 2 state files: 1 site, 8 people, 4 groups.
    --- stderr
    "#);
    let out = apply(&dir, &sb);
    assert_eq!(out.code, 0, "{}", out.all());
    let (sent, estimated) = sent_and_estimated(&out);
    assert_eq!(sent, estimated, "{}", out.all());
    let org = org(&sb);
    let after: Vec<String> = all_values(&org, "region")
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let before: Vec<String> = before.into_iter().map(|(_, v)| v).collect();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(sorted(after), sorted(before));
    assert_eq!(
        user_value(&org, "region", "ada@acme.com").as_deref(),
        Some("West")
    );
    assert_eq!(team_values(&org, "Finance")["region"], "East");
    assert_eq!(plan(&dir, &sb).code, 0);
}

/// The tokens of the member with `email`: (held, revocations).
fn tokens(sb: &BackgroundSandbox, email: &str) -> (u32, u32) {
    let org = org(sb);
    let id = &org
        .members
        .iter()
        .find(|m| m.email == email)
        .unwrap()
        .member_id;
    let d = org.details(id);
    (d.oauth_tokens, d.revocations)
}

/// A deactivation revokes the member's OAuth tokens (`POST
/// /v2/members/{id}/revoke`), shown in the plan and counted in its
/// estimate; `revoke_tokens_on_deactivation = false` sends no revocation.
#[test]
fn a_deactivation_revokes_the_members_tokens_unless_the_site_says_not_to() {
    for revoke in [true, false] {
        let sb = seeded_sandbox();
        sb.sandbox.edit(|d| {
            let org = d.sigma.get_mut("acme-sigma").unwrap();
            let tim = org.members.iter().find(|m| m.email == "tim@acme.com");
            let id = tim.unwrap().member_id.clone();
            org.details_mut(&id).oauth_tokens = 2;
        });
        let dir = imported(&sb);
        if !revoke {
            let site = dir.path().join("state/roster.toml");
            let text = std::fs::read_to_string(&site).unwrap();
            std::fs::write(
                site,
                format!("{text}revoke_tokens_on_deactivation = false\n"),
            )
            .unwrap();
        }
        declare_tim_inactive(&dir);
        let out = apply(&dir, &sb);
        assert_eq!(out.code, 0, "{revoke}: {}", out.all());
        assert_eq!(
            out.stdout.contains("tokens revoked)"),
            revoke,
            "{revoke}: {}",
            out.all()
        );
        let (sent, estimated) = sent_and_estimated(&out);
        assert_eq!(sent, estimated, "{revoke}: {}", out.all());
        let expected = if revoke { (0, 1) } else { (2, 0) };
        assert_eq!(tokens(&sb, "tim@acme.com"), expected, "{revoke}");
        let revocations = sb
            .sandbox
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/revoke"))
            .count();
        assert_eq!(revocations, usize::from(revoke), "{revoke}");
    }
}
