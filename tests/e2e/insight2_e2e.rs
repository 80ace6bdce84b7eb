//! End to end: the rest of issue 15. Sigma grants and attribute values in
//! effective access and `roster explain`, the request estimate in the text
//! plan, `roster validate`'s warnings with their place.

use crate::common::*;

fn example(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

/// `examples/sigma` with `extra` appended to its people file.
fn sigma_example_plus(extra: &str) -> tempfile::TempDir {
    let site = std::fs::read_to_string(example("sigma").join("roster.toml")).unwrap();
    let people = std::fs::read_to_string(example("sigma").join("people.toml")).unwrap();
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
    let site =
        with_team_values(&std::fs::read_to_string(example("sigma").join("roster.toml")).unwrap());
    let people = std::fs::read_to_string(example("sigma").join("people.toml")).unwrap();
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
