//! End to end: Sigma workspaces, connections and their grants, planned and
//! applied through the binary against the seeded sandbox.

use crate::common::*;
use roster::sandbox::SigmaOrg;

const CREDS: [(&str, &str); 2] = [
    ("SIGMA_ID", "acme-sigma"),
    ("SIGMA_SECRET", "sandbox-sigma-secret"),
];

/// The seeded Sigma org's site, people and teams as they are live, so only
/// access differs.
fn base(url: &str, extra: &str) -> String {
    format!(
        r#"[sites.acme-sigma]
provider = "sigma"
base_url = "{url}"
client_id = {{ env = "SIGMA_ID" }}
client_secret = {{ env = "SIGMA_SECRET" }}
unmanaged_users = "keep"
unmanaged_groups = "keep"
{extra}

[[groups]]
name = "Analysts"

[[groups]]
name = "Finance"

[[users]]
email = "ada@acme.com"
first_name = "Ada"
last_name = "Lovelace"
member_type = "Creator"
groups = ["Analysts"]

[[users]]
email = "alan@acme.com"
first_name = "Alan"
last_name = "Turing"
member_type = "Explorer"
groups = ["Analysts"]

[[users]]
email = "katherine@acme.com"
first_name = "Katherine"
last_name = "Johnson"
member_type = "Viewer"
groups = ["Finance"]
"#
    )
}

/// `roster plan` of the people above plus `access`, on `sb`.
fn plan_with(sb: &BackgroundSandbox, extra: &str, access: &str) -> (tempfile::TempDir, Output) {
    let dir = state_dir(&[("state.toml", &(base(&sb.url, extra) + access))]);
    let out = roster(dir.path(), &["plan"], &CREDS);
    (dir, out)
}

const ACCESS: &str = r#"
[[users]]
email = "new@acme.com"
first_name = "New"
last_name = "Person"
member_type = "Viewer"
groups = ["Finance"]

[[workspaces]]
name = "Finance Team Space"
previous_names = ["Finance"]
grants.teams = { "Finance" = "view" }
grants.people = { "alan@acme.com" = "edit" }

[[workspaces]]
name = "Analytics"
grants.teams = { "Analysts" = "explore" }

[[workspaces]]
name = "Projects"
grants.people = { "new@acme.com" = "explore" }

[[connections]]
name = "Snowflake Prod"
grants.teams = { "Analysts" = "usage" }
grants.people = { "ada@acme.com" = "annotate" }
"#;

fn org(sb: &BackgroundSandbox) -> SigmaOrg {
    sb.sandbox.data().sigma["acme-sigma"].clone()
}

/// Every grant of the org as `object: grantee=permission`, sorted.
fn grants(sb: &BackgroundSandbox) -> Vec<String> {
    let org = org(sb);
    let a = &org.access;
    let object = |id: &str| -> String {
        let w = a
            .workspaces
            .iter()
            .find(|w| w.workspace_id == id)
            .map(|w| &w.name);
        let c = a
            .connections
            .iter()
            .find(|c| c.connection_id == id)
            .map(|c| &c.name);
        w.or(c).cloned().unwrap_or_else(|| id.to_string())
    };
    let who = |g: &roster::sandbox::sigma::access::Grant| -> String {
        match (&g.team_id, &g.member_id) {
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
            _ => "?".into(),
        }
    };
    let mut out: Vec<String> = a
        .grants
        .iter()
        .map(|g| format!("{}: {}={}", object(&g.inode_id), who(g), g.permission))
        .collect();
    out.sort();
    out
}

#[test]
fn grants_are_given_raised_lowered_and_revoked_and_a_workspace_renamed_and_created() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[("state.toml", &(base(&sb.url, "") + ACCESS))]);
    let plan = roster(dir.path(), &["plan"], &CREDS);
    insta::assert_snapshot!(run_snapshot(&plan), @r#"
    exit: 0
    --- stdout
    Plan: 4 to create, 4 to update, 2 to delete.

    site acme-sigma (sigma) — 4 to create, 4 to update, 2 to delete
      seats: Admin 2 → 2, Creator 3 → 3, Explorer 1 → 1, Viewer 3 → 4 (+1)
      apply sends: 32 requests (20 reads, 12 writes), no max_requests_per_second: as fast as the site answers
      ~ workspace Finance Team Space
          name: "Finance" → "Finance Team Space"
      + workspace Projects
      + user  new@acme.com  first_name="New" last_name="Person" member_type="Viewer" groups=[Finance]
      ~ grant Finance Team Space  workspace, team Finance: edit → view (lowered: revoked, then granted)
      ~ grant Finance Team Space  workspace, alan@acme.com: view → edit
      - grant Analytics  workspace, ada@acme.com: edit (not declared; revoked)
      + grant Projects  workspace, new@acme.com: explore
      ~ grant Snowflake Prod  connection, team Analysts: annotate → usage (lowered: revoked, then granted)
      + grant Snowflake Prod  connection, ada@acme.com: annotate
      - grant Snowflake Prod  connection, katherine@acme.com: usage (not declared; revoked)
      = kept 2 groups (not declared, unmanaged_groups = "keep"): Marketing, Old Team
      = kept 4 users (not declared, unmanaged_users = "keep"): admin@acme.com, barbara@old-acme.com, grace@acme.com, tim@acme.com
      = kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): scim.user@acme.com
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com
      = kept 1 workspace (not declared, unmanaged_workspaces = "keep"): Marketing Campaigns

    Read 1 state file: 1 site, 4 people, 2 groups.
    --- stderr
    "#);
    assert!(only_reads(&sb));

    // The saved plan carries the access changes; apply carries it out.
    let saved = tempfile::tempdir().unwrap();
    let file = saved.path().join("plan.json");
    let file = file.to_str().unwrap();
    let out = roster(dir.path(), &["plan", "--out", file], &CREDS);
    assert_eq!(out.code, 0, "{}", out.all());
    let apply = roster(dir.path(), &["apply", file, "--yes"], &CREDS);
    assert_eq!(apply.code, 0, "{}", apply.all());
    assert!(
        apply
            .stdout
            .contains("Apply finished: 10 applied, 0 failed"),
        "{}",
        apply.all()
    );
    let report: Vec<&str> = apply
        .stdout
        .lines()
        .filter(|l| l.starts_with("  ok"))
        .collect();
    insta::assert_snapshot!(report.join("\n"), @r"
ok      workspace Finance Team Space updated
ok      workspace Projects created
ok      user new@acme.com created
ok      grant Finance Team Space (workspace, team Finance) updated
ok      grant Finance Team Space (workspace, alan@acme.com) updated
ok      grant Analytics (workspace, ada@acme.com) deleted
ok      grant Projects (workspace, new@acme.com) created
ok      grant Snowflake Prod (connection, team Analysts) updated
ok      grant Snowflake Prod (connection, ada@acme.com) created
ok      grant Snowflake Prod (connection, katherine@acme.com) deleted
");
    insta::assert_snapshot!(grants(&sb).join("\n"), @r"
Analytics: Analysts=explore
Finance Team Space: Finance=view
Finance Team Space: alan@acme.com=edit
Marketing Campaigns: Marketing=organize
Marketing Campaigns: katherine@acme.com=view
Projects: new@acme.com=explore
Snowflake Prod: Analysts=usage
Snowflake Prod: ada@acme.com=annotate
");

    let again = roster(dir.path(), &["plan", "--detailed-exitcode"], &CREDS);
    insta::assert_snapshot!(run_snapshot(&again), @r#"
exit: 0
--- stdout
No changes: the live state matches the declared state.

site acme-sigma (sigma) — no changes
  = kept 2 groups (not declared, unmanaged_groups = "keep"): Marketing, Old Team
  = kept 4 users (not declared, unmanaged_users = "keep"): admin@acme.com, barbara@old-acme.com, grace@acme.com, tim@acme.com
  = kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): scim.user@acme.com
  = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com
  = kept 1 workspace (not declared, unmanaged_workspaces = "keep"): Marketing Campaigns

Read 1 state file: 1 site, 4 people, 2 groups.
--- stderr
"#);
}

#[test]
fn mass_grant_removal_and_a_workspace_deletion_trip_guards() {
    let sb = seeded_sandbox();
    // Every workspace but one declared without grants: 6 grants revoked;
    // the undeclared workspace deleted (the site asks for it).
    let (dir, plan) = plan_with(
        &sb,
        "unmanaged_workspaces = \"delete\"",
        r#"
[[workspaces]]
name = "Finance"

[[workspaces]]
name = "Analytics"

[[connections]]
name = "Snowflake Prod"
"#,
    );
    insta::assert_snapshot!(run_snapshot(&plan), @r#"
    exit: 1
    --- stdout
    Plan: 0 to create, 0 to update, 7 to delete.

    site acme-sigma (sigma) — 0 to create, 0 to update, 7 to delete
      apply sends: 27 requests (20 reads, 7 writes), no max_requests_per_second: as fast as the site answers
      - grant Finance  workspace, team Finance: edit (not declared; revoked)
      - grant Finance  workspace, alan@acme.com: view (not declared; revoked)
      - grant Analytics  workspace, team Analysts: explore (not declared; revoked)
      - grant Analytics  workspace, ada@acme.com: edit (not declared; revoked)
      - grant Snowflake Prod  connection, team Analysts: annotate (not declared; revoked)
      - grant Snowflake Prod  connection, katherine@acme.com: usage (not declared; revoked)
      - workspace Marketing Campaigns  (not declared, unmanaged_workspaces = "delete"; deleted with its content)
      = kept 2 groups (not declared, unmanaged_groups = "keep"): Marketing, Old Team
      = kept 4 users (not declared, unmanaged_users = "keep"): admin@acme.com, barbara@old-acme.com, grace@acme.com, tim@acme.com
      = kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): scim.user@acme.com
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com
      ! guard: site `acme-sigma`: the plan deletes 1 workspaces (33% of 3 live); the guard stops more than 0 and 0% at once. If this is intended, set allow_workspace_deletions = 1 under [sites.acme-sigma] in the state, have it reviewed, and plan again
      ! guard: site `acme-sigma`: the plan revokes 6 grants (75% of 8 live); the guard stops more than 5 and 10% at once. If this is intended, set allow_grant_removals = 6 under [sites.acme-sigma] in the state, have it reviewed, and plan again

    Read 1 state file: 1 site, 3 people, 2 groups.
    --- stderr
    error: 2 blast-radius guards tripped; apply will refuse this plan:
      site `acme-sigma`: 1 workspace deletions (see `allow_workspace_deletions` above)
      site `acme-sigma`: 6 grant removals (see `allow_grant_removals` above)
    "#);
    let apply = roster(dir.path(), &["apply", "--yes"], &CREDS);
    assert_eq!(apply.code, 1, "{}", apply.all());
    assert!(only_reads(&sb));
    assert_eq!(grants(&sb).len(), 8);
}

#[test]
fn bad_references_are_refused_with_their_place_and_nothing_is_sent() {
    let sb = seeded_sandbox();
    let (_dir, out) = plan_with(
        &sb,
        "",
        r#"
[[workspaces]]
name = "Finance"
grants.teams = { "Ghosts" = "view" }
grants.people = { "nobody@acme.com" = "edit", "ada@acme.com" = "admin" }
sites = ["elsewhere"]

[[connections]]
name = "Snowflake Prod"
grants.teams = { "Analysts" = "edit" }
"#,
    );
    insta::assert_snapshot!(run_snapshot(&out), @r#"
exit: 1
--- stdout
--- stderr
error: state/state.toml:37:1: workspace `Finance` has no Sigma site to go to
  hint: declare a [sites.NAME] table with provider = "sigma", or list one in `sites`
error: state/state.toml:39:29: workspace `Finance` grants team `Ghosts`, which is not declared
  hint: declare it in a [[groups]] entry, or fix the name
error: state/state.toml:40:39: workspace `Finance` grants `nobody@acme.com`, who is not declared
  hint: declare the person in a [[users]] entry, or fix the email
error: state/state.toml:40:64: workspace `Finance`: unknown permission `admin`
  hint: use one of: view, explore, organize, edit
error: state/state.toml:41:10: workspace `Finance` lists site `elsewhere`, which is not declared
  hint: declare the site in a [sites.NAME] table, or fix the name
error: state/state.toml:45:31: connection `Snowflake Prod`: unknown permission `edit`
  hint: use one of: usage, annotate
error: 6 problems in the state under state; nothing was contacted
"#);
    assert!(sb.sandbox.requests().is_empty());
}

#[test]
fn a_declared_connection_missing_live_is_a_plan_error() {
    let sb = seeded_sandbox();
    let (_dir, out) = plan_with(
        &sb,
        "",
        r#"
[[connections]]
name = "Postgres Dev"
grants.teams = { "Analysts" = "usage" }
"#,
    );
    insta::assert_snapshot!(run_snapshot(&out), @r#"
exit: 1
--- stdout
--- stderr
error: the plan cannot be made:
  site `acme-sigma`: connection "Postgres Dev" is declared but the site has no such connection; roster never creates connections (they hold credentials). Create it in Sigma, fix the name, or limit its sites
nothing was changed
"#);
    assert!(only_reads(&sb));
}

#[test]
fn import_of_the_seeded_org_declares_its_access_and_plans_empty() {
    let sb = seeded_sandbox();
    let site = format!(
        r#"[sites.acme-sigma]
provider = "sigma"
base_url = "{}"
client_id = {{ env = "SIGMA_ID" }}
client_secret = {{ env = "SIGMA_SECRET" }}

# The finance team's own workspace.
[[workspaces]]
name = "Finance" # named after the team
"#,
        sb.url
    );
    let dir = state_dir(&[("site.toml", &site)]);
    let out = roster(dir.path(), &["import"], &CREDS);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(only_reads(&sb));
    let state = dir.path().join("state");
    let kept = std::fs::read_to_string(state.join("site.toml"))
        .unwrap()
        .replace(&sb.url, "URL");
    insta::assert_snapshot!(kept, @r#"
[sites.acme-sigma]
provider = "sigma"
base_url = "URL"
client_id = { env = "SIGMA_ID" }
client_secret = { env = "SIGMA_SECRET" }

# The finance team's own workspace.
[[workspaces]]
name = "Finance" # named after the team
grants.teams = { Finance = "edit" }
grants.people = { "alan@acme.com" = "view" }
"#);
    let imported = std::fs::read_to_string(state.join("imported/acme-sigma.toml")).unwrap();
    let access = &imported[imported.find("[[workspaces]]").unwrap()..];
    insta::assert_snapshot!(access, @r#"
[[workspaces]]
name = "Analytics"
grants.teams = { Analysts = "explore" }
grants.people = { "ada@acme.com" = "edit" }

[[workspaces]]
name = "Marketing Campaigns"
grants.teams = { Marketing = "organize" }
grants.people = { "katherine@acme.com" = "view" }

[[connections]]
name = "Snowflake Prod"
grants.teams = { Analysts = "annotate" }
grants.people = { "katherine@acme.com" = "usage" }

[[user_attributes]]
name = "region"
description = "Sales region for row-level security"
default = "none"

[[user_attributes]]
name = "cost_center"
description = "Cost centre that pays for queries"

[[account_types]]
name = "Analyst Pro"
description = "Creator who can download, without workspace or connection management"
permissions = ["create-workbook", "download-data", "explore-worksheet", "export-schedule", "view-worksheet", "write-sql"]
"#);
    let plan = roster(dir.path(), &["plan", "--detailed-exitcode"], &CREDS);
    assert_eq!(plan.code, 0, "{}", plan.all());
}

#[test]
fn two_live_workspaces_of_one_name_stop_the_plan() {
    let mut data = roster::sandbox::persist::seed();
    let org = data.sigma.get_mut("acme-sigma").unwrap();
    org.access
        .workspaces
        .push(roster::sandbox::sigma::access::Workspace {
            workspace_id: "3a000000-0000-4000-8000-0000000000ff".into(),
            url_id: "2kFq7Z".into(),
            name: "analytics ".into(),
        });
    let sb = BackgroundSandbox::start(data).unwrap();
    let (_dir, out) = plan_with(
        &sb,
        "",
        r#"
[[workspaces]]
name = "Analytics"
grants.teams = { "Analysts" = "explore" }
"#,
    );
    insta::assert_snapshot!(run_snapshot(&out), @r#"
exit: 1
--- stdout
--- stderr
error: the plan cannot be made:
  site `acme-sigma`: the site has 2 workspaces named "Analytics" (Sigma lets names repeat; roster compares them ignoring case and surrounding spaces); it will not guess which one the state means. Rename all but one in Sigma, then plan again
nothing was changed
"#);
    assert!(only_reads(&sb));
}

#[test]
fn json_and_markdown_plans_show_workspaces_and_grants() {
    let sb = seeded_sandbox();
    let state = base(&sb.url, "")
        + r#"
[[workspaces]]
name = "Finance Team Space"
previous_names = ["Finance"]
grants.teams = { "Finance" = "view" }
grants.people = { "alan@acme.com" = "view" }
"#;
    let dir = state_dir(&[("state.toml", &state)]);
    let out = roster(dir.path(), &["plan", "--format", "json"], &CREDS);
    assert_eq!(out.code, 0, "{}", out.all());
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let changes: Vec<String> = doc["sites"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {} {}: {} {}",
                c["action"], c["kind"], c["key"], c["fields"], c["change"]
            )
        })
        .collect();
    insta::assert_snapshot!(changes.join("\n"), @r#"
"update" "workspace" "Finance Team Space": [{"after":"Finance Team Space","before":"Finance","field":"name"}] {"id":"3a000000-0000-4000-8000-0000000000c9","name":{"after":"Finance Team Space","before":"Finance"},"op":"rename_workspace"}
"update" "grant" "Finance Team Space": [{"after":"view","before":"edit","field":"permission"}] {"after":"view","before":"edit","grant_id":"9a000000-0000-4000-8000-0000000000e1","grantee":{"name":"Finance","type":"team"},"object":"Finance Team Space","object_id":"3a000000-0000-4000-8000-0000000000c9","on":"workspace","op":"grant"}
"#);
    let md = roster(dir.path(), &["plan", "--format", "markdown"], &CREDS);
    assert_eq!(md.code, 0, "{}", md.all());
    let start = md.stdout.find("<details").unwrap();
    let end = md.stdout.find("</details>").unwrap();
    let body = &md.stdout[start..end];
    insta::assert_snapshot!(body, @r#"
<details open><summary><b>acme-sigma</b> (sigma): 0 to create, 2 to update, 0 to delete</summary>

```diff
~ workspace Finance Team Space
    name: "Finance" → "Finance Team Space"
~ grant Finance Team Space  workspace, team Finance: edit → view (lowered: revoked, then granted)
= kept 2 groups (not declared, unmanaged_groups = "keep"): Marketing, Old Team
= kept 4 users (not declared, unmanaged_users = "keep"): admin@acme.com, barbara@old-acme.com, grace@acme.com, tim@acme.com
= kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): scim.user@acme.com
= kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com
= kept 2 workspaces (not declared, unmanaged_workspaces = "keep"): Analytics, Marketing Campaigns
```

"#);
}

#[test]
fn a_saved_plan_is_refused_when_a_grant_changed_live_since() {
    let sb = seeded_sandbox();
    let (dir, _) = plan_with(&sb, "", ACCESS);
    let saved = tempfile::tempdir().unwrap();
    let file = saved.path().join("plan.json");
    let file = file.to_str().unwrap();
    let out = roster(dir.path(), &["plan", "--out", file], &CREDS);
    assert_eq!(out.code, 0, "{}", out.all());
    // Someone raises a grant by hand after the review.
    sb.sandbox.edit(|d| {
        let org = d.sigma.get_mut("acme-sigma").unwrap();
        let g = org
            .access
            .grants
            .iter_mut()
            .find(|g| g.permission == "organize")
            .unwrap();
        g.permission = "edit".into();
    });
    let apply = roster(dir.path(), &["apply", file, "--yes"], &CREDS);
    assert_eq!(apply.code, 1, "{}", apply.all());
    assert!(
        apply
            .all()
            .contains("site `acme-sigma`: the live state changed since the plan was made"),
        "{}",
        apply.all()
    );
    assert!(only_reads(&sb));
}
