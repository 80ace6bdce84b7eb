//! End to end: the Sigma access kinds in the shipped example and in the
//! pull-request comment.

use crate::common::*;
use roster::sandbox::SigmaOrg;

fn example() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/sigma")
        .to_str()
        .unwrap()
        .to_string()
}

/// `roster ARGS --sandbox-url URL --state examples/sigma`.
fn on_example(sb: &BackgroundSandbox, args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let state = example();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--sandbox-url", &sb.url, "--state", &state]);
    roster(dir.path(), &all, &[])
}

fn org(sb: &BackgroundSandbox) -> SigmaOrg {
    sb.sandbox.data().sigma["acme-sigma"].clone()
}

/// Every workspace and connection grant as `object: grantee=permission`.
fn grants(org: &SigmaOrg) -> Vec<String> {
    let a = &org.access;
    let object = |id: &str| {
        let w = a.workspaces.iter().find(|w| w.workspace_id == id);
        let c = a.connections.iter().find(|c| c.connection_id == id);
        w.map(|w| w.name.clone())
            .or_else(|| c.map(|c| c.name.clone()))
            .unwrap()
    };
    let who = |g: &roster::sandbox::sigma::access::Grant| match (&g.team_id, &g.member_id) {
        (Some(t), _) => org
            .teams
            .iter()
            .find(|x| &x.team_id == t)
            .unwrap()
            .name
            .clone(),
        (_, Some(m)) => org
            .members
            .iter()
            .find(|x| &x.member_id == m)
            .unwrap()
            .email
            .clone(),
        _ => unreachable!("a grant is to a team or a member"),
    };
    let mut out: Vec<String> = a
        .grants
        .iter()
        .map(|g| format!("{}: {}={}", object(&g.inode_id), who(g), g.permission))
        .collect();
    out.sort();
    out
}

/// Values of attribute `name` per member email, then per team name.
fn values(org: &SigmaOrg, name: &str) -> Vec<String> {
    let a = &org.access;
    let id = &a
        .user_attributes
        .iter()
        .find(|x| x.name == name)
        .unwrap()
        .user_attribute_id;
    let mut out: Vec<String> = Vec::new();
    for (m, v) in a.user_values.get(id).into_iter().flatten() {
        let email = &org
            .members
            .iter()
            .find(|x| &x.member_id == m)
            .unwrap()
            .email;
        out.push(format!("{email}={v}"));
    }
    for (t, v) in a.team_values.get(id).into_iter().flatten() {
        let team = &org.teams.iter().find(|x| &x.team_id == t).unwrap().name;
        out.push(format!("team {team}={}", v.value));
    }
    out.sort();
    out
}

#[test]
fn the_sigma_example_declares_access_plans_it_applies_it_and_converges() {
    let sb = seeded_sandbox();
    let plan = on_example(&sb, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    insta::assert_snapshot!(plan.stdout, @r#"
    Plan: 5 to create, 9 to update, 3 to delete.

    site acme-sigma (sigma) — 5 to create, 9 to update, 3 to delete
      seats: Admin 2 → 2, Analyst Pro 0 → 1 (+1), Creator 3 → 5 (+2), Explorer 1 → 0 (−1), Viewer 3 → 2 (−1)
      apply sends: 49 requests (29 reads, 20 writes), no max_requests_per_second: as fast as the site answers
      + group Data Engineering  description="Pipelines and models"
      ~ group Growth Marketing
          name: "Marketing" → "Growth Marketing"
      ~ user  ada@acme.com
          groups: +Data Engineering
      ~ user  alan@acme.com
          member_type: "Explorer" → "Creator"
          groups: +Finance
      ~ user  barbara@acme.com
          email: "barbara@old-acme.com" → "barbara@acme.com"
      ~ user  john@acme.com
          active: false → true (reactivated)
      ~ user  katherine@acme.com
          member_type: "Viewer" → "Analyst Pro"
      + user  linus@acme.com  first_name="Linus" last_name="Torvalds" member_type="Creator" groups=[Data Engineering]
      + grant Finance  workspace, team Analysts: view
      ~ grant Finance  workspace, alan@acme.com: view → explore
      + grant Analytics  workspace, team Data Engineering: edit
      ~ grant Analytics  workspace, ada@acme.com: edit → organize (lowered: revoked, then granted)
      + grant Snowflake Prod  connection, team Data Engineering: annotate
      - grant Snowflake Prod  connection, katherine@acme.com: usage (not declared; revoked)
      - user  tim@acme.com  (not declared; deactivated, 4 documents and 0 schedules to admin@acme.com, tokens revoked)
      - group Old Team  (not declared; deleted)
      ~ attribute values linus@acme.com  (person)
          region: (none) → "West"
      = kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): scim.user@acme.com
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com
      = kept 1 workspace (not declared, unmanaged_workspaces = "keep"): Marketing Campaigns
      = kept 1 attribute (not declared, unmanaged_attributes = "keep"): cost_center

    Read 3 state files: 1 site, 9 people, 4 groups.
    "#);
    assert!(only_reads(&sb));

    let apply = on_example(&sb, &["apply", "--yes"]);
    assert_eq!(apply.code, 0, "{}", apply.all());
    let org = org(&sb);
    insta::assert_snapshot!(grants(&org).join("\n"), @"
    Analytics: Analysts=explore
    Analytics: Data Engineering=edit
    Analytics: ada@acme.com=organize
    Finance: Analysts=view
    Finance: Finance=edit
    Finance: alan@acme.com=explore
    Marketing Campaigns: Growth Marketing=organize
    Marketing Campaigns: katherine@acme.com=view
    Snowflake Prod: Analysts=annotate
    Snowflake Prod: Data Engineering=annotate
    ");
    assert_eq!(
        values(&org, "region"),
        [
            "ada@acme.com=West",
            "linus@acme.com=West",
            "team Finance=East"
        ]
    );
    let katherine = org
        .members
        .iter()
        .find(|m| m.email == "katherine@acme.com")
        .unwrap();
    assert_eq!(katherine.member_type, "Analyst Pro");
    assert!(org.access.account_types["Analyst Pro"].custom);

    let again = on_example(&sb, &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(
        again
            .stdout
            .starts_with("No changes: the live state matches the declared state.\n"),
        "{}",
        again.stdout
    );
}

/// More access than the example declares: a workspace, an attribute and
/// an account type the seeded org does not have.
const MORE: &str = r#"
[[workspaces]]
name = "Board"
grants.people = { "admin@acme.com" = "edit" }

[[user_attributes]]
name = "tier"

[[account_types]]
name = "Power Viewer"
description = "Viewer who can download"
permissions = ["download-data", "view-worksheet"]
"#;

#[test]
fn the_pr_comment_counts_workspaces_grants_attributes_values_and_account_types() {
    let sb = seeded_sandbox();
    // The example's people and teams alone: the table is as before.
    let without_access = |name: &str| -> String {
        let text = std::fs::read_to_string(format!("{}/{name}", example())).unwrap();
        text.lines()
            .filter(|l| !l.starts_with("attributes = "))
            .map(|l| l.replace("\"Analyst Pro\"", "\"Viewer\"") + "\n")
            .collect()
    };
    let dir = state_dir(&[
        ("roster.toml", &without_access("roster.toml")),
        ("people.toml", &without_access("people.toml")),
    ]);
    let plain = roster(
        dir.path(),
        &["plan", "--format", "markdown", "--sandbox-url", &sb.url],
        &[],
    );
    assert_eq!(plain.code, 0, "{}", plain.all());
    let lines: Vec<&str> = plain.stdout.lines().skip(2).take(3).collect();
    insta::assert_snapshot!(lines.join("\n"), @"
    | site | provider | users + | users ~ | users − | groups + | groups ~ | groups − |
    |---|---|--:|--:|--:|--:|--:|--:|
    | acme-sigma | sigma | 1 | 4 | 1 | 1 | 1 | 1 |
    ");

    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    for name in ["roster.toml", "people.toml", "access.toml"] {
        std::fs::copy(format!("{}/{name}", example()), state.join(name)).unwrap();
    }
    std::fs::write(state.join("more.toml"), MORE).unwrap();
    let md = roster(
        dir.path(),
        &["plan", "--format", "markdown", "--sandbox-url", &sb.url],
        &[],
    );
    assert_eq!(md.code, 0, "{}", md.all());
    let table: Vec<&str> = md.stdout.lines().skip(2).take(3).collect();
    insta::assert_snapshot!(table.join("\n"), @"
    | site | provider | users + | users ~ | users − | groups + | groups ~ | groups − | workspaces + | workspaces ~ | workspaces − | grants + | grants ~ | grants − | attributes + | attributes ~ | attributes − | attribute values ~ | account types + | account types ~ | account types − |
    |---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|
    | acme-sigma | sigma | 1 | 5 | 1 | 1 | 1 | 1 | 1 | 0 | 0 | 4 | 2 | 1 | 1 | 0 | 0 | 1 | 1 | 0 | 0 |
    ");
    assert!(only_reads(&sb));
}

/// A Sigma site on `url` with a declared account type whose permission the
/// org lacks, a person whose `member_type` the org lacks, and another
/// whose type is set per site by `overrides`.
fn unknown_types(url: &str) -> [(&'static str, String); 2] {
    let site = format!(
        r#"[sites.acme-sigma]
provider = "sigma"
base_url = "{url}"
client_id = {{ env = "SIGMA_ID" }}
client_secret = {{ env = "SIGMA_SECRET" }}
unmanaged_users = "keep"
unmanaged_groups = "keep"

[[account_types]]
name = "Power Viewer"
description = "Viewer who can download"
permissions = ["download-data", "fly-to-the-moon"]
"#
    );
    let people = r#"[[users]]
email = "ada@acme.com"
first_name = "Ada"
last_name = "Lovelace"
member_type = "Wizard"

[[users]]
email = "grace@acme.com"
first_name = "Grace"
last_name = "Hopper"
member_type = "Creator"
overrides.acme-sigma = { member_type = "Sorcerer" }
"#;
    [("roster.toml", site), ("people.toml", people.to_string())]
}

#[test]
fn plan_time_errors_about_account_types_and_permissions_name_their_place() {
    let sb = seeded_sandbox();
    let files = unknown_types(&sb.url);
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let dir = state_dir(&refs);
    let creds = [
        ("SIGMA_ID", "acme-sigma"),
        ("SIGMA_SECRET", "sandbox-sigma-secret"),
    ];
    let plan = roster(dir.path(), &["plan"], &creds);
    assert_eq!(plan.code, 1, "{}", plan.all());
    assert_eq!(plan.stdout, "");
    insta::assert_snapshot!(plan.stderr, @"
    error: the plan cannot be made:
      state/people.toml:5:15: site `acme-sigma`: user `ada@acme.com` has member_type `Wizard`, which is not an account type of the organisation. Valid types: Admin, Creator, Explorer, Viewer, Analyst Pro
      state/people.toml:12:40: site `acme-sigma`: user `grace@acme.com` has member_type `Sorcerer`, which is not an account type of the organisation. Valid types: Admin, Creator, Explorer, Viewer, Analyst Pro
      state/roster.toml:12:33: site `acme-sigma`: account type `Power Viewer` lists permission `fly-to-the-moon`, which no account type of the organisation has. Permissions the site offers: admin-portal, create-dataset, create-input-table, create-workbook, download-data, explore-worksheet, export-schedule, manage-connections, manage-workspaces, upload-csv, view-worksheet, write-sql
    nothing was changed
    ");
    let apply = roster(dir.path(), &["apply", "--yes"], &creds);
    assert_eq!(apply.code, 1, "{}", apply.all());
    assert_eq!(apply.stderr, plan.stderr);
    assert!(only_reads(&sb), "{:?}", writes(&sb));
}
