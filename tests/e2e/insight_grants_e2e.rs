//! End to end: Sigma grants and attribute values in
//! effective access and `roster explain`, grants that expire, the request
//! estimate in the text plan, `roster validate`'s warnings with their
//! place, and a global `expiry_notice_days` in `[settings]`.

use crate::common::*;

/// `examples/sigma` with `extra` appended to its people file.
fn sigma_example_plus(extra: &str) -> tempfile::TempDir {
    let site = sigma_example_file("roster.toml");
    let people = sigma_example_file("people.toml");
    state_dir(&[
        ("roster.toml", &site),
        ("people.toml", &format!("{people}\n{extra}")),
    ])
}

/// Grants to Ada directly and through two teams, and attribute values on
/// her and on her teams.
const ACCESS: &str = r#"
[[user_attributes]]
name = "region"

[[user_attributes]]
name = "tier"

[[user_attributes]]
name = "cost_center"

[[workspaces]]
name = "Insight Finance"
grants.teams = { "Analysts" = "view", "Data Engineering" = "edit" }
grants.people = { "ada@acme.com" = "edit" }

[[connections]]
name = "Snowflake Prod"
grants.teams = { "Analysts" = "usage" }

[[groups]]
name = "Reporting"
attributes = { region = "East", tier = "gold" }

[[users]]
email = "hedy@acme.com"
first_name = "Hedy"
last_name = "Lamarr"
member_type = "Viewer"
groups = ["Analysts", "Reporting"]
attributes = { region = "West" }
"#;

fn with_team_values(state: &str) -> String {
    state
        .replace(
            "name = \"Analysts\"\n",
            "name = \"Analysts\"\nattributes = { tier = \"silver\", cost_center = \"100\" }\n",
        )
        .replace(
            "name = \"Data Engineering\"\n",
            "name = \"Data Engineering\"\nattributes = { cost_center = \"200\" }\n",
        )
}

fn access_state() -> tempfile::TempDir {
    let site = with_team_values(&sigma_example_file("roster.toml"));
    let people = sigma_example_file("people.toml");
    state_dir(&[
        ("roster.toml", &site),
        ("people.toml", &format!("{people}\n{ACCESS}")),
    ])
}

#[test]
fn explain_lists_grants_and_attribute_values_direct_and_through_each_team() {
    let dir = access_state();
    // No credentials are set and nothing is contacted.
    let ada = roster(dir.path(), &["explain", "ada@acme.com"], &[]);
    insta::assert_snapshot!(run_snapshot(&ada), @r#"
    exit: 0
    --- stdout
    ada@acme.com on site acme-sigma (sigma):
      account type Creator: direct
      group Analysts: direct
      group Data Engineering: direct
      workspace edit on Insight Finance: direct, through Data Engineering
      workspace view on Insight Finance: through Analysts
      connection usage on Snowflake Prod: through Analysts
      attribute cost_center = "100": through Analysts (teams give different values: Sigma applies one by the teams' priority, which roster does not manage)
      attribute cost_center = "200": through Data Engineering (teams give different values: Sigma applies one by the teams' priority, which roster does not manage)
      attribute tier = "silver": through Analysts
    --- stderr
    "#);
    let hedy = roster(dir.path(), &["explain", "hedy@acme.com"], &[]);
    insta::assert_snapshot!(run_snapshot(&hedy), @r#"
    exit: 0
    --- stdout
    hedy@acme.com on site acme-sigma (sigma):
      account type Viewer: direct
      group Analysts: direct
      group Reporting: direct
      workspace view on Insight Finance: through Analysts
      connection usage on Snowflake Prod: through Analysts
      attribute cost_center = "100": through Analysts
      attribute region = "West": direct (set on the person: wins over "East" through Reporting)
      attribute tier = "silver": through Analysts (teams give different values: Sigma applies one by the teams' priority, which roster does not manage)
      attribute tier = "gold": through Reporting (teams give different values: Sigma applies one by the teams' priority, which roster does not manage)
    --- stderr
    "#);
}

#[test]
fn the_markdown_and_json_plans_show_grants_and_attribute_values_of_changed_people() {
    let sb = seeded_sandbox();
    let dir = access_state();
    let md = roster(
        dir.path(),
        &["plan", "--sandbox-url", &sb.url, "--format", "markdown"],
        &[],
    );
    assert_eq!(md.code, 0, "{}", md.all());
    let hedy = md
        .stdout
        .lines()
        .find(|l| l.starts_with("- **hedy"))
        .unwrap();
    insta::assert_snapshot!(hedy, @"- **hedy&#64;&#8203;acme.com** on acme-sigma: account type Viewer: direct; group Analysts: direct; group Reporting: direct; workspace view on Insight Finance: through Analysts; connection usage on Snowflake Prod: through Analysts; attribute cost_center = &quot;100&quot;: through Analysts; attribute region = &quot;West&quot;: direct (set on the person: wins over &quot;East&quot; through Reporting); attribute tier = &quot;silver&quot;: through Analysts (teams give different values: Sigma applies one by the teams&#39; priority, which roster does not manage); attribute tier = &quot;gold&quot;: through Reporting (teams give different values: Sigma applies one by the teams&#39; priority, which roster does not manage)");
    let json = roster(
        dir.path(),
        &["plan", "--sandbox-url", &sb.url, "--format", "json"],
        &[],
    );
    assert_eq!(json.code, 0, "{}", json.all());
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let hedy = doc["sites"][0]["effective"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["email"] == "hedy@acme.com")
        .unwrap();
    insta::assert_snapshot!(serde_json::to_string_pretty(&hedy["held"]).unwrap(), @r#"
    [
      {
        "kind": "account_type",
        "sources": [
          {
            "via": "direct"
          }
        ],
        "value": "Viewer"
      },
      {
        "kind": "group",
        "sources": [
          {
            "via": "direct"
          }
        ],
        "value": "Analysts"
      },
      {
        "kind": "group",
        "sources": [
          {
            "via": "direct"
          }
        ],
        "value": "Reporting"
      },
      {
        "kind": "workspace_grant",
        "sources": [
          {
            "group": "Analysts",
            "via": "through"
          }
        ],
        "value": "view on Insight Finance"
      },
      {
        "kind": "connection_grant",
        "sources": [
          {
            "group": "Analysts",
            "via": "through"
          }
        ],
        "value": "usage on Snowflake Prod"
      },
      {
        "kind": "attribute",
        "sources": [
          {
            "group": "Analysts",
            "via": "through"
          }
        ],
        "value": "cost_center = \"100\""
      },
      {
        "kind": "attribute",
        "note": "set on the person: wins over \"East\" through Reporting",
        "sources": [
          {
            "via": "direct"
          }
        ],
        "value": "region = \"West\""
      },
      {
        "kind": "attribute",
        "note": "teams give different values: Sigma applies one by the teams' priority, which roster does not manage",
        "sources": [
          {
            "group": "Analysts",
            "via": "through"
          }
        ],
        "value": "tier = \"silver\""
      },
      {
        "kind": "attribute",
        "note": "teams give different values: Sigma applies one by the teams' priority, which roster does not manage",
        "sources": [
          {
            "group": "Reporting",
            "via": "through"
          }
        ],
        "value": "tier = \"gold\""
      }
    ]
    "#);
    assert!(only_reads(&sb), "a plan sends no write");
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// The live grants on the seeded connection as `email=permission` or
/// `team=permission`, sorted.
fn connection_grants(sb: &BackgroundSandbox) -> Vec<String> {
    let org = sb.sandbox.data().sigma["acme-sigma"].clone();
    let conn = org
        .access
        .connections
        .iter()
        .find(|c| c.name == "Snowflake Prod")
        .unwrap()
        .connection_id
        .clone();
    let mut out: Vec<String> = org
        .access
        .grants
        .iter()
        .filter(|g| g.inode_id == conn)
        .map(|g| {
            let member = org
                .members
                .iter()
                .find(|m| Some(&m.member_id) == g.member_id.as_ref());
            let team = org
                .teams
                .iter()
                .find(|t| Some(&t.team_id) == g.team_id.as_ref());
            let who = member
                .map(|m| m.email.clone())
                .or(team.map(|t| t.name.clone()));
            format!("{}={}", who.unwrap_or_default(), g.permission)
        })
        .collect();
    out.sort();
    out
}

fn connection_state(ada: &str, analysts: &str) -> tempfile::TempDir {
    sigma_example_plus(&format!(
        "[[connections]]\nname = \"Snowflake Prod\"\ngrants.teams = {{ \"Analysts\" = {analysts} }}\ngrants.people = {{ \"ada@acme.com\" = {ada} }}\n"
    ))
}

#[test]
fn an_expired_grant_is_revoked_and_marked_and_a_near_one_is_noted() {
    let sb = seeded_sandbox();
    let first = connection_state("\"annotate\"", "\"usage\"");
    let apply = roster(
        first.path(),
        &["apply", "--sandbox-url", &sb.url, "--yes"],
        &[],
    );
    assert_eq!(apply.code, 0, "{}", apply.all());
    assert_eq!(
        connection_grants(&sb),
        ["Analysts=usage", "ada@acme.com=annotate"]
    );

    let soon = today() + chrono::Duration::days(3);
    let dir = connection_state(
        "{ permission = \"annotate\", expires = 2020-01-01 }",
        &format!("{{ permission = \"usage\", expires = {soon} }}"),
    );
    let plan = roster(dir.path(), &["plan", "--sandbox-url", &sb.url], &[]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    insta::assert_snapshot!(plan.stdout.replace(&soon.to_string(), "SOON"), @r#"
    Plan: 0 to create, 0 to update, 1 to delete.

    warning: state/people.toml:68:73: annotate on connection Snowflake Prod for ada@acme.com: expired on 2020-01-01; plans remove it until the date or the entry is changed

    site acme-sigma (sigma) — 0 to create, 0 to update, 1 to delete
      apply sends: 21 requests (20 reads, 1 write), no max_requests_per_second: as fast as the site answers
      - grant Snowflake Prod  connection, ada@acme.com: annotate (not declared; revoked)
      = kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): scim.user@acme.com
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com
      = kept 3 workspaces (not declared, unmanaged_workspaces = "keep"): Analytics, Finance, Marketing Campaigns
      - expired on 2020-01-01: annotate on connection Snowflake Prod for ada@acme.com (no longer declared)
      = expires on SOON: usage on connection Snowflake Prod for team Analysts (within expiry_notice_days = 14)

    Read 2 state files: 1 site, 9 people, 4 groups.
    "#);

    let json = roster(
        dir.path(),
        &["plan", "--sandbox-url", &sb.url, "--format", "json"],
        &[],
    );
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    insta::assert_snapshot!(
        serde_json::to_string(&doc["sites"][0]["expiry"]).unwrap().replace(&soon.to_string(), "SOON"),
        @r#"{"expired":[{"email":"ada@acme.com","grant":"annotate on connection Snowflake Prod","on":"2020-01-01"}],"notice_days":14,"soon":[{"grant":"usage on connection Snowflake Prod","on":"SOON","team":"Analysts"}]}"#
    );
    // Ada's only change is a revoked grant: she is still listed with what
    // she ends up with.
    let md = roster(
        dir.path(),
        &["plan", "--sandbox-url", &sb.url, "--format", "markdown"],
        &[],
    );
    let ada = md
        .stdout
        .lines()
        .find(|l| l.starts_with("- **ada"))
        .unwrap();
    insta::assert_snapshot!(ada.replace(&soon.to_string(), "SOON"), @"- **ada&#64;&#8203;acme.com** on acme-sigma: account type Creator: direct; group Analysts: direct; group Data Engineering: direct; connection usage on Snowflake Prod: through Analysts, until SOON");
    let explain = roster(dir.path(), &["explain", "grace@acme.com"], &[]);
    insta::assert_snapshot!(run_snapshot(&explain).replace(&soon.to_string(), "SOON"), @"
    exit: 0
    --- stdout
    grace@acme.com on site acme-sigma (sigma):
      account type creator: direct
      group Analysts: direct
      connection usage on Snowflake Prod: through Analysts, until SOON
    --- stderr
    ");

    let apply = roster(
        dir.path(),
        &["apply", "--sandbox-url", &sb.url, "--yes"],
        &[],
    );
    assert_eq!(apply.code, 0, "{}", apply.all());
    assert_eq!(connection_grants(&sb), ["Analysts=usage"]);
}

#[test]
fn a_grant_expiry_must_be_a_plain_date_at_its_place() {
    let dir = connection_state(
        "{ permission = \"annotate\", expires = 2020-01-01T10:00:00 }",
        "\"usage\"",
    );
    let out = roster(dir.path(), &["validate"], &[]);
    insta::assert_snapshot!(run_snapshot(&out), @"
    exit: 1
    --- stdout
    --- stderr
    error: state/people.toml:68:73: `expires` must be a date without a time, not 2020-01-01T10:00:00
      hint: write the last day of access as a TOML date: expires = 2026-12-31
    error: 1 problem in the state under state; nothing was contacted
    ");
}

#[test]
fn import_keeps_a_dated_grant_while_it_adds_the_live_ones() {
    let sb = seeded_sandbox();
    let first = sigma_example_plus(
        "[[connections]]\nname = \"Snowflake Prod\"\ngrants.people = { \"ada@acme.com\" = \"annotate\", \"grace@acme.com\" = \"usage\" }\n",
    );
    let apply = roster(
        first.path(),
        &["apply", "--sandbox-url", &sb.url, "--yes"],
        &[],
    );
    assert_eq!(apply.code, 0, "{}", apply.all());
    let dir = sigma_example_plus(
        "[[connections]]\nname = \"Snowflake Prod\" # ours\ngrants.people = { \"ada@acme.com\" = { permission = \"annotate\", expires = 2099-01-31 } }\n",
    );
    let out = roster(dir.path(), &["import", "--sandbox-url", &sb.url], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let people = std::fs::read_to_string(dir.path().join("state/people.toml")).unwrap();
    let entry: String = people
        .lines()
        .skip_while(|l| *l != "[[connections]]")
        .take(3)
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!(entry, @r#"
    [[connections]]
    name = "Snowflake Prod" # ours
    grants.people = { "ada@acme.com" = { permission = "annotate", expires = 2099-01-31 }, "grace@acme.com" = "usage" }
    "#);
    let plan = roster(dir.path(), &["plan", "--sandbox-url", &sb.url], &[]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(plan.stdout.starts_with("No changes:"), "{}", plan.stdout);
}

#[test]
fn the_text_plan_states_the_request_estimate_of_the_markdown_and_json_plans() {
    let sb = seeded_sandbox();
    let site = sigma_example_file("roster.toml").replace(
        "[sites.acme-sigma]\n",
        "[sites.acme-sigma]\nmax_requests_per_second = 4\n",
    );
    let people = sigma_example_file("people.toml");
    let dir = state_dir(&[("roster.toml", &site), ("people.toml", &people)]);
    let plan = |format: &str| {
        let out = roster(
            dir.path(),
            &["plan", "--sandbox-url", &sb.url, "--format", format],
            &[],
        );
        assert_eq!(out.code, 0, "{}", out.all());
        out.stdout
    };
    let text = plan("text");
    let head: Vec<&str> = text.lines().take(5).collect();
    insta::assert_snapshot!(head.join("\n"), @r#"
    Plan: 2 to create, 5 to update, 2 to delete.

    site acme-sigma (sigma) — 2 to create, 5 to update, 2 to delete
      seats: Admin 2 → 2, Creator 3 → 5 (+2), Explorer 1 → 0 (−1), Viewer 3 → 3
      apply sends: 27 requests (16 reads, 11 writes), at least 7 s at max_requests_per_second = 4
    "#);
    let doc: serde_json::Value = serde_json::from_str(&plan("json")).unwrap();
    let cost = &doc["sites"][0]["cost"];
    let (reads, writes) = (
        cost["reads"].as_u64().unwrap(),
        cost["writes"].as_u64().unwrap(),
    );
    let line = format!(
        "  apply sends: {} requests ({reads} reads, {writes} writes), ",
        reads + writes
    );
    assert!(text.contains(&line), "{line}\n{text}");
    assert!(plan("markdown").contains(&format!(
        "| {} requests ({reads} reads, {writes} writes)",
        reads + writes
    )));
    assert!(only_reads(&sb), "a plan sends no write");
}

#[test]
fn an_empty_plan_states_no_estimate() {
    let sb = seeded_sandbox();
    let dir = sigma_example_plus("");
    let apply = roster(
        dir.path(),
        &["apply", "--sandbox-url", &sb.url, "--yes"],
        &[],
    );
    assert_eq!(apply.code, 0, "{}", apply.all());
    let plan = roster(dir.path(), &["plan", "--sandbox-url", &sb.url], &[]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(plan.stdout.starts_with("No changes:"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("apply sends"), "{}", plan.stdout);
}

#[test]
fn validate_names_the_place_of_every_past_date() {
    let dir = sigma_example_plus(
        r#"
[[users]]
email = "casey@acme.com"
first_name = "Casey"
last_name = "Jones"
expires = 2020-03-01
groups = [{ name = "Finance", expires = 2020-02-01 }]
overrides.acme-sigma = { groups = [{ name = "Analysts", expires = 2020-01-15 }] }

[[workspaces]]
name = "Audit"
grants.teams = { "Finance" = { permission = "view", expires = 2021-06-30 } }
grants.people = { "ada@acme.com" = { permission = "edit", expires = 2099-01-01 } }
"#,
    );
    let out = roster(dir.path(), &["validate"], &[]);
    insta::assert_snapshot!(run_snapshot(&out), @"
    exit: 0
    --- stdout
    The state under state is valid. Read 2 state files: 1 site, 10 people, 4 groups.
    --- stderr
    warning: state/people.toml:70:11: casey@acme.com: expired on 2020-03-01; plans remove it until the date or the entry is changed
    warning: state/people.toml:71:41: casey@acme.com in Finance: expired on 2020-02-01; plans remove it until the date or the entry is changed
    warning: state/people.toml:72:67: casey@acme.com in Analysts: expired on 2020-01-15; plans remove it until the date or the entry is changed
    warning: state/people.toml:76:63: view on workspace Audit for team Finance: expired on 2021-06-30; plans remove it until the date or the entry is changed
    ");
}

fn notice_state(settings: &str, site_days: &str, soon: chrono::NaiveDate) -> tempfile::TempDir {
    let site = sigma_example_file("roster.toml").replace(
        "[sites.acme-sigma]\n",
        &format!("{settings}\n[sites.acme-sigma]\n{site_days}\n"),
    );
    let people = sigma_example_file("people.toml").replace(
        "email = \"grace@acme.com\"\n",
        &format!("email = \"grace@acme.com\"\nexpires = {soon}\n"),
    );
    state_dir(&[("roster.toml", &site), ("people.toml", &people)])
}

#[test]
fn a_global_expiry_notice_days_applies_where_a_site_sets_none() {
    let sb = seeded_sandbox();
    let soon = today() + chrono::Duration::days(20);
    let notes = |dir: &tempfile::TempDir| -> Vec<String> {
        let out = roster(dir.path(), &["plan", "--sandbox-url", &sb.url], &[]);
        assert_eq!(out.code, 0, "{}", out.all());
        out.stdout
            .lines()
            .filter(|l| l.contains("expires on"))
            .map(|l| l.replace(&soon.to_string(), "SOON"))
            .collect()
    };
    // 20 days away: beyond the default 14, within a global 30.
    assert!(notes(&notice_state("", "", soon)).is_empty());
    let global = notice_state("[settings]\nexpiry_notice_days = 30\n", "", soon);
    assert_eq!(
        notes(&global),
        ["  = expires on SOON: grace@acme.com (within expiry_notice_days = 30)"]
    );
    // A site's own setting wins over the global one.
    let own = notice_state(
        "[settings]\nexpiry_notice_days = 30\n",
        "expiry_notice_days = 7",
        soon,
    );
    assert!(notes(&own).is_empty());
    assert!(only_reads(&sb), "a plan sends no write");
}

#[test]
fn settings_are_declared_once_with_a_number_of_days() {
    let soon = today() + chrono::Duration::days(20);
    let twice = notice_state("[settings]\nexpiry_notice_days = 30\n", "", soon);
    std::fs::write(
        twice.path().join("state/more.toml"),
        "[settings]\nexpiry_notice_days = 400\nother = 1\n",
    )
    .unwrap();
    let out = roster(twice.path(), &["validate"], &[]);
    insta::assert_snapshot!(run_snapshot(&out), @"
    exit: 1
    --- stdout
    --- stderr
    error: state/more.toml:2:22: [settings] expiry_notice_days must be a whole number of days from 0 to 366, not 400
      hint: leave it out for 14 days
    error: state/more.toml:3:1: [settings]: unknown field `other`, expected one of `expiry_notice_days`
      hint: remove the key or fix its spelling
    error: state/roster.toml:7:1: [settings] is declared twice
      hint: it is first declared at state/more.toml:1:1; keep one
    error: 3 problems in the state under state; nothing was contacted
    ");
}
