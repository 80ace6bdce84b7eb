//! End to end: Sigma user attributes (values per person and per team) and
//! custom account types, planned, applied, imported and refused, through
//! the built binary against the sandbox.

use crate::common::*;
use crate::validation::SIGMA as SITE;
use roster::sandbox::SigmaOrg;

pub(crate) fn org(sb: &BackgroundSandbox) -> SigmaOrg {
    sb.sandbox.data().sigma["acme-sigma"].clone()
}

/// A state directory holding the seeded Sigma organisation as imported.
pub(crate) fn imported(sb: &BackgroundSandbox) -> tempfile::TempDir {
    let dir = state_dir(&[("roster.toml", SITE)]);
    let out = roster(dir.path(), &["import", "--sandbox-url", &sb.url], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    dir
}

fn imported_text(dir: &tempfile::TempDir) -> String {
    std::fs::read_to_string(dir.path().join("state/imported/acme-sigma.toml")).unwrap()
}

pub(crate) fn plan(dir: &tempfile::TempDir, sb: &BackgroundSandbox) -> Output {
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
    for declared in [
        "attributes = { region = \"West\" }",
        "attributes = { cost_center = \"CC-100\" }",
        "attributes = { region = \"East\" }",
        "attributes = { cost_center = \"CC-200\" }",
        "[[user_attributes]]\nname = \"region\"\ndescription = \"Sales region for row-level security\"\ndefault = \"none\"\n",
        "[[account_types]]\nname = \"Analyst Pro\"\n",
    ] {
        assert!(text.contains(declared), "no `{declared}` in\n{text}");
    }
    let out = plan(&dir, &sb);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(only_reads(&sb));
}

/// The value of attribute `name` the sandbox holds for member `email`.
pub(crate) fn user_value(org: &SigmaOrg, name: &str, email: &str) -> Option<String> {
    let a = org.access.user_attributes.iter().find(|a| a.name == name)?;
    let m = org.members.iter().find(|m| m.email == email)?;
    org.access
        .user_values
        .get(&a.user_attribute_id)?
        .get(&m.member_id)
        .cloned()
}

/// The values the sandbox holds for team `team`, by attribute name.
pub(crate) fn team_values(
    org: &SigmaOrg,
    team: &str,
) -> std::collections::BTreeMap<String, String> {
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
pub(crate) fn edit(dir: &tempfile::TempDir, edits: &[(&str, &str)]) {
    let path = dir.path().join("state/imported/acme-sigma.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "no `{from}` in\n{text}");
        text = text.replacen(from, to, 1);
    }
    std::fs::write(path, text).unwrap();
}

pub(crate) fn apply(dir: &tempfile::TempDir, sb: &BackgroundSandbox) -> Output {
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
      seats: Admin 2 → 2, Analyst Pro 0 → 1 (+1), Creator 3 → 3, Explorer 1 → 0 (−1), Power Viewer 0 → 1 (+1), Viewer 3 → 2 (−1)
      apply sends: 35 requests (27 reads, 8 writes), no max_requests_per_second: as fast as the site answers
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

#[test]
fn more_than_100_values_on_one_team_are_sent_in_batches_of_100() {
    let sb = seeded_sandbox();
    let dir = imported(&sb);
    let mut declared = String::new();
    let mut values = vec!["region = \"East\"".to_string()];
    for i in 1..=120 {
        declared.push_str(&format!("[[user_attributes]]\nname = \"a{i:03}\"\n\n"));
        values.push(format!("a{i:03} = \"v{i}\""));
    }
    write_files(dir.path(), &[("state/many.toml", &declared)]);
    let finance = format!("attributes = {{ {} }}", values.join(", "));
    edit(&dir, &[("attributes = { region = \"East\" }", &finance)]);
    let out = plan(&dir, &sb);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stdout
            .contains("Plan: 120 to create, 1 to update, 0 to delete.\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("  ~ attribute values Finance  (team)\n      a001: (none) → \"v1\"\n")
    );

    let out = apply(&dir, &sb);
    assert_eq!(out.code, 0, "{}", out.all());
    let o = org(&sb);
    let live = team_values(&o, "Finance");
    assert_eq!(live.len(), 121);
    assert_eq!(live["a120"], "v120");
    assert_eq!(live["region"], "East");
    let batches: Vec<u16> = sb
        .sandbox
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/assignedUserAttributes"))
        .map(|r| r.status)
        .collect();
    assert_eq!(batches, [200, 200]);
    assert_eq!(plan(&dir, &sb).code, 0);
}

#[test]
fn an_account_type_with_people_is_replaced_and_its_people_moved_back() {
    let sb = seeded_sandbox();
    let dir = imported(&sb);
    let before = org(&sb).access.account_types["Analyst Pro"]
        .account_type_id
        .clone();
    edit(
        &dir,
        &[
            (
                "last_name = \"Lovelace\"\nmember_type = \"Creator\"",
                "last_name = \"Lovelace\"\nmember_type = \"Analyst Pro\"",
            ),
            (
                "last_name = \"Hopper\"\nmember_type = \"Creator\"",
                "last_name = \"Hopper\"\nmember_type = \"Analyst Pro\"",
            ),
        ],
    );
    assert_eq!(apply(&dir, &sb).code, 0);
    edit(
        &dir,
        &[
            (
                "description = \"Creator who can download, without workspace or connection management\"",
                "description = \"Creator who can download, without SQL\"",
            ),
            (
                "\"export-schedule\", \"view-worksheet\", \"write-sql\"]",
                "\"export-schedule\", \"upload-csv\", \"view-worksheet\"]",
            ),
        ],
    );
    let out = plan(&dir, &sb);
    insta::assert_snapshot!(run_snapshot(&out), @r#"
    exit: 2
    --- stdout
    Plan: 0 to create, 1 to update, 0 to delete.

    site acme-sigma (sigma) — 0 to create, 1 to update, 0 to delete
      apply sends: 31 requests (27 reads, 4 writes), no max_requests_per_second: as fast as the site answers
      ~ account_type Analyst Pro  (replaced: Sigma cannot edit an account type; deleted and created again)
          description: "Creator who can download, without workspace or connection management" → "Creator who can download, without SQL"
          permissions: +upload-csv -write-sql
          people: 2 people held on Viewer meanwhile, then moved back to Analyst Pro: ada@acme.com, grace@acme.com
      = kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): scim.user@acme.com
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com

    Read 2 state files: 1 site, 8 people, 4 groups.
    --- stderr
    "#);

    let out = apply(&dir, &sb);
    assert_eq!(out.code, 0, "{}", out.all());
    let o = org(&sb);
    let details = &o.access.account_types["Analyst Pro"];
    assert_ne!(details.account_type_id, before);
    let permissions = details.permissions.clone().unwrap();
    assert!(permissions.contains(&"upload-csv".to_string()));
    assert!(!permissions.contains(&"write-sql".to_string()));
    assert_eq!(member_type(&o, "ada@acme.com"), "Analyst Pro");
    assert_eq!(member_type(&o, "grace@acme.com"), "Analyst Pro");
    assert_eq!(plan(&dir, &sb).code, 0);
}

#[test]
fn deleting_an_undeclared_account_type_trips_a_guard_until_acknowledged() {
    let sb = seeded_sandbox();
    let dir = imported(&sb);
    let text = imported_text(&dir);
    let at = text.find("[[account_types]]").unwrap();
    std::fs::write(
        dir.path().join("state/imported/acme-sigma.toml"),
        &text[..at],
    )
    .unwrap();
    write_files(
        dir.path(),
        &[(
            "state/roster.toml",
            &format!("{SITE}unmanaged_account_types = \"remove\"\n"),
        )],
    );
    let out = apply(&dir, &sb);
    insta::assert_snapshot!(run_snapshot(&out), @r#"
    exit: 1
    --- stdout
    Plan: 0 to create, 0 to update, 1 to delete.

    site acme-sigma (sigma) — 0 to create, 0 to update, 1 to delete
      apply sends: 28 requests (27 reads, 1 write), no max_requests_per_second: as fast as the site answers
      - account_type Analyst Pro  (not declared; deleted)
      = kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): scim.user@acme.com
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com
      ! guard: site `acme-sigma`: the plan deletes 1 custom account types (100% of 1 live); the guard stops more than 0 and 0% at once. If this is intended, set allow_account_type_deletions = 1 under [sites.acme-sigma] in the state, have it reviewed, and plan again
    --- stderr
    error: 1 blast-radius guard tripped; refusing to apply; nothing was changed:
      site `acme-sigma`: 1 account type deletions (see `allow_account_type_deletions` above)
    "#);
    assert!(only_reads(&sb));

    write_files(
        dir.path(),
        &[(
            "state/roster.toml",
            &format!(
                "{SITE}unmanaged_account_types = \"remove\"\nallow_account_type_deletions = 1\n"
            ),
        )],
    );
    let out = apply(&dir, &sb);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!org(&sb).account_types.iter().any(|t| t == "Analyst Pro"));
}

#[test]
fn bad_attribute_and_account_type_references_are_refused_with_their_place() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[
        ("roster.toml", SITE),
        (
            "people.toml",
            r#"[[user_attributes]]
name = "region"

[[account_types]]
name = "Power Viewer"
description = "Viewer who can download"
permissions = ["view-worksheet", "view-worksheet"]

[[users]]
email = "ada@acme.com"
first_name = "Ada"
last_name = "Lovelace"
attributes = { regoin = "West" }

[[groups]]
name = "Finance"
attributes = { region = "East", Region = "West" }
"#,
        ),
    ]);
    let out = plan(&dir, &sb);
    insta::assert_snapshot!(run_snapshot(&out), @r#"
exit: 1
--- stdout
--- stderr
error: state/people.toml:7:34: account type `Power Viewer` lists permission `view-worksheet` twice
  hint: it is first listed at state/people.toml:7:16; keep one
error: state/people.toml:13:16: user `ada@acme.com`: attribute `regoin` is not declared
  hint: declare it in a [[user_attributes]] entry, or fix its spelling (declared: region)
error: state/people.toml:17:33: group `Finance`: attribute `Region` is given twice
  hint: it is first given at state/people.toml:17:16; keep one
error: 3 problems in the state under state; nothing was contacted
"#);
    assert!(sb.sandbox.requests().is_empty());
}

#[test]
fn a_permission_the_site_does_not_offer_is_a_plan_error_and_nothing_is_sent() {
    let sb = seeded_sandbox();
    let dir = imported(&sb);
    let extra = r#"[[account_types]]
name = "Power Viewer"
description = "Viewer who can download"
permissions = ["view-worksheet", "download-everything"]
"#;
    write_files(dir.path(), &[("state/access.toml", extra)]);
    let out = apply(&dir, &sb);
    insta::assert_snapshot!(run_snapshot(&out), @"
    exit: 1
    --- stdout
    --- stderr
    error: the plan cannot be made:
      state/access.toml:4:34: site `acme-sigma`: account type `Power Viewer` lists permission `download-everything`, which no account type of the organisation has. Permissions the site offers: admin-portal, create-dataset, create-input-table, create-workbook, download-data, explore-worksheet, export-schedule, manage-connections, manage-workspaces, upload-csv, view-worksheet, write-sql
    nothing was changed
    ");
    assert!(only_reads(&sb));
}

#[test]
fn a_saved_plan_carries_attribute_changes_and_goes_stale_once_they_are_applied() {
    let sb = seeded_sandbox();
    let dir = imported(&sb);
    edit(
        &dir,
        &[(
            "attributes = { region = \"West\" }",
            "attributes = { region = \"South\" }",
        )],
    );
    let url = ["--sandbox-url", sb.url.as_str()];
    let out = roster(
        dir.path(),
        &[&["plan", "--out", "plan.json"][..], &url].concat(),
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let saved = std::fs::read_to_string(dir.path().join("plan.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&saved).unwrap();
    let change = &doc["sites"][0]["changes"][0];
    assert_eq!(change["change"]["op"], "set_attributes");
    assert_eq!(
        change["fields"],
        serde_json::json!([{"field": "attributes", "before": {"region": "West"}, "after": {"region": "South"}}])
    );

    let apply = |dir: &tempfile::TempDir| {
        roster(
            dir.path(),
            &[&["apply", "plan.json", "--yes"][..], &url].concat(),
            &[],
        )
    };
    let out = apply(&dir);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        user_value(&org(&sb), "region", "ada@acme.com").as_deref(),
        Some("South")
    );
    // Only an attribute value moved, and the saved plan is stale.
    let again = apply(&dir);
    assert_eq!(again.code, 1, "{}", again.all());
    assert!(
        again
            .stdout
            .contains("  - site `acme-sigma`: the live state changed since the plan was made\n"),
        "{}",
        again.all()
    );
}
