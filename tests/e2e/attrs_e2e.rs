//! End to end: Sigma user attributes (values per person and per team) and
//! custom account types, planned, applied, imported and refused, through
//! the built binary against the sandbox.

use crate::common::*;
use roster::sandbox::SigmaOrg;

const SITE: &str = r#"[sites.acme-sigma]
provider = "sigma"
cloud = "aws-us-west"
client_id = { env = "SIGMA_ID" }
client_secret = { env = "SIGMA_SECRET" }
"#;

fn org(sb: &BackgroundSandbox) -> SigmaOrg {
    sb.sandbox.data().sigma["acme-sigma"].clone()
}

/// A state directory holding the seeded Sigma organisation as imported.
fn imported(sb: &BackgroundSandbox) -> tempfile::TempDir {
    let dir = state_dir(&[("roster.toml", SITE)]);
    let out = roster(dir.path(), &["import", "--sandbox-url", &sb.url], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    dir
}

fn imported_text(dir: &tempfile::TempDir) -> String {
    std::fs::read_to_string(dir.path().join("state/imported/acme-sigma.toml")).unwrap()
}

fn plan(dir: &tempfile::TempDir, sb: &BackgroundSandbox) -> Output {
    roster(
        dir.path(),
        &["plan", "--detailed-exitcode", "--sandbox-url", &sb.url],
        &[],
    )
}

#[test]
fn an_imported_sigma_org_declares_its_attributes_and_account_types_and_plans_empty() {
    let sb = seeded_sandbox();
    let dir = imported(&sb);
    let text = imported_text(&dir);
    println!("{text}");
    let out = plan(&dir, &sb);
    assert_eq!(out.code, 0, "{}", out.all());
}

/// The value of attribute `name` the sandbox holds for member `email`.
fn user_value(org: &SigmaOrg, name: &str, email: &str) -> Option<String> {
    let a = org.access.user_attributes.iter().find(|a| a.name == name)?;
    let m = org.members.iter().find(|m| m.email == email)?;
    org.access
        .user_values
        .get(&a.user_attribute_id)?
        .get(&m.member_id)
        .cloned()
}

/// The values the sandbox holds for team `team`, by attribute name.
fn team_values(org: &SigmaOrg, team: &str) -> std::collections::BTreeMap<String, String> {
    let t = org.teams.iter().find(|t| t.name == team).unwrap();
    org.access
        .user_attributes
        .iter()
        .filter_map(|a| {
            let v = org
                .access
                .team_values
                .get(&a.user_attribute_id)?
                .get(&t.team_id)?;
            Some((a.name.clone(), v.value.clone()))
        })
        .collect()
}

fn member_type(org: &SigmaOrg, email: &str) -> String {
    org.members
        .iter()
        .find(|m| m.email == email)
        .unwrap()
        .member_type
        .clone()
}

/// `imported` with each (from, to) replaced once.
fn edit(dir: &tempfile::TempDir, edits: &[(&str, &str)]) {
    let path = dir.path().join("state/imported/acme-sigma.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "no `{from}` in\n{text}");
        text = text.replacen(from, to, 1);
    }
    std::fs::write(path, text).unwrap();
}

fn apply(dir: &tempfile::TempDir, sb: &BackgroundSandbox) -> Output {
    roster(
        dir.path(),
        &["apply", "--yes", "--sandbox-url", &sb.url],
        &[],
    )
}

#[test]
fn attribute_values_per_person_and_team_and_a_new_account_type_are_planned_and_applied() {
    let sb = seeded_sandbox();
    let dir = imported(&sb);
    edit(
        &dir,
        &[
            (
                "attributes = { region = \"West\" }",
                "attributes = { region = \"East\", tier = \"gold\" }",
            ),
            (
                "email = \"alan@acme.com\"\nfirst_name = \"Alan\"\nlast_name = \"Turing\"\nmember_type = \"Explorer\"",
                "email = \"alan@acme.com\"\nfirst_name = \"Alan\"\nlast_name = \"Turing\"\nmember_type = \"Analyst Pro\"\nattributes = { region = \"North\" }",
            ),
            ("attributes = { cost_center = \"CC-100\" }\n", ""),
            (
                "member_type = \"Viewer\"\ngroups = [\"Finance\"]",
                "member_type = \"Power Viewer\"\ngroups = [\"Finance\"]",
            ),
        ],
    );
    let extra = r#"
[[user_attributes]]
name = "tier"
description = "Support tier"

[[account_types]]
name = "Power Viewer"
description = "Viewer who can download"
permissions = ["view-worksheet", "download-data"]
"#;
    write_files(dir.path(), &[("state/access.toml", extra)]);
    let out = plan(&dir, &sb);
    insta::assert_snapshot!(run_snapshot(&out), @r#"
exit: 2
--- stdout
Plan: 2 to create, 5 to update, 0 to delete.

site acme-sigma (sigma) — 2 to create, 5 to update, 0 to delete
  + attribute tier  description="Support tier"
  + account_type Power Viewer  description="Viewer who can download" permissions=[download-data, view-worksheet]
  ~ user  alan@acme.com
      member_type: "Explorer" → "Analyst Pro"
  ~ user  katherine@acme.com
      member_type: "Viewer" → "Power Viewer"
  ~ attribute values ada@acme.com  (person)
      region: "West" → "East"
      tier: (none) → "gold"
  ~ attribute values alan@acme.com  (person)
      region: (none) → "North"
  ~ attribute values grace@acme.com  (person)
      cost_center: "CC-100" → (removed)
  = kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): scim.user@acme.com
  = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com

Read 3 state files: 1 site, 8 people, 4 groups.
--- stderr
"#);
    assert!(only_reads(&sb));

    let out = apply(&dir, &sb);
    assert_eq!(out.code, 0, "{}", out.all());
    let o = org(&sb);
    assert_eq!(
        user_value(&o, "region", "ada@acme.com").as_deref(),
        Some("East")
    );
    assert_eq!(
        user_value(&o, "tier", "ada@acme.com").as_deref(),
        Some("gold")
    );
    assert_eq!(
        user_value(&o, "region", "alan@acme.com").as_deref(),
        Some("North")
    );
    assert_eq!(user_value(&o, "cost_center", "grace@acme.com"), None);
    assert_eq!(member_type(&o, "katherine@acme.com"), "Power Viewer");
    assert_eq!(member_type(&o, "alan@acme.com"), "Analyst Pro");
    assert_eq!(plan(&dir, &sb).code, 0);
}
