//! Replacements, estimates, grants to inactive people, duplicate
//! memberships and admins whose membership expired: each run against the
//! in-process sandbox (`--sandbox`), whose data the test reads back from
//! `.roster/sandbox.json`.

use std::path::Path;

use serde_json::Value;

use crate::common::*;

const SIGMA: &str = "state/imported/acme-sigma.toml";
const DATA: &str = ".roster/sandbox.json";

/// `examples/sigma` without its access part, imported from the sandbox
/// (attributes and account types land in `imported/`) and applied: the
/// plan is empty.
fn sigma_applied() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("state")).unwrap();
    for f in ["people.toml", "roster.toml"] {
        std::fs::write(dir.path().join("state").join(f), sigma_example_file(f)).unwrap();
    }
    for args in [
        &["import", "--sandbox"][..],
        &["apply", "--sandbox", "--yes"],
    ] {
        let out = roster(dir.path(), args, &[]);
        assert_eq!(out.code, 0, "{}", out.all());
    }
    dir
}

fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "no `{from}` in {file}");
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// The sandbox data's Sigma organisation.
fn org(data: &mut Value) -> &mut Value {
    data["sigma"]
        .as_object_mut()
        .unwrap()
        .values_mut()
        .next()
        .unwrap()
}

fn data(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(DATA)).unwrap()).unwrap()
}

fn edit_data(dir: &Path, change: impl FnOnce(&mut Value)) {
    let mut d = data(dir);
    change(org(&mut d));
    std::fs::write(dir.join(DATA), serde_json::to_string_pretty(&d).unwrap()).unwrap();
}

fn member<'a>(org: &'a mut Value, email: &str) -> &'a mut Value {
    org["members"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|m| m["email"] == email)
        .unwrap()
}

fn member_id(org: &mut Value, email: &str) -> String {
    member(org, email)["member_id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn attribute_id(org: &Value, name: &str) -> String {
    org["access"]["user_attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .map(|a| a["user_attribute_id"].as_str().unwrap().to_string())
        .unwrap()
}

/// `Requests to acme-sigma: N sent, 0 retried (the plan estimated N).`
fn assert_estimate_kept(out: &Output, n: u32) {
    let line = format!("Requests to acme-sigma: {n} sent, 0 retried (the plan estimated {n}).");
    assert!(out.all().contains(&line), "no `{line}` in\n{}", out.all());
}

fn member_type(dir: &Path, email: &str) -> String {
    let mut d = data(dir);
    member(org(&mut d), email)["member_type"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn replacing_an_account_type_moves_back_every_member_scim_owned_ones_too() {
    let dir = sigma_applied();
    let root = dir.path();
    edit(
        root,
        "state/people.toml",
        "member_type = \"Creator\"\ngroups = [\"Analysts\"]\nattributes",
        "member_type = \"Analyst Pro\"\ngroups = [\"Analysts\"]\nattributes",
    );
    edit_data(root, |o| {
        member(o, "ada@acme.com")["member_type"] = "Analyst Pro".into();
        member(o, "scim.user@acme.com")["member_type"] = "Analyst Pro".into();
    });
    edit(
        root,
        SIGMA,
        "[\"create-workbook\", \"download-data\"",
        "[\"download-data\"",
    );
    let plan = roster(root, &["plan", "--sandbox"], &[]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    let block = "  apply sends: 32 requests (28 reads, 4 writes), no max_requests_per_second: as fast as the site answers
  ~ account_type Analyst Pro  (replaced: Sigma cannot edit an account type; deleted and created again)
      permissions: -create-workbook
      people: 2 people held on Viewer meanwhile, then moved back to Analyst Pro: ada@acme.com, scim.user@acme.com
";
    assert!(plan.stdout.contains(block), "{}", plan.stdout);
    let apply = roster(root, &["apply", "--sandbox", "--yes"], &[]);
    assert_eq!(apply.code, 0, "{}", apply.all());
    assert!(apply.stdout.contains("  ok      account_type Analyst Pro updated\nApply finished: 1 applied, 0 failed, 0 skipped.\n"), "{}", apply.stdout);
    assert_estimate_kept(&apply, 32);
    for email in ["ada@acme.com", "scim.user@acme.com"] {
        assert_eq!(member_type(root, email), "Analyst Pro", "{email}");
    }
    let again = roster(root, &["plan", "--sandbox", "--detailed-exitcode"], &[]);
    assert_eq!(again.code, 0, "{}", again.all());
}

#[test]
fn replacing_an_attribute_keeps_the_values_of_undeclared_people_and_teams() {
    let dir = sigma_applied();
    let root = dir.path();
    edit_data(root, |o| {
        let scim = member_id(o, "scim.user@acme.com");
        let region = attribute_id(o, "region");
        o["access"]["user_values"][&region][&scim] = "North".into();
    });
    edit(
        root,
        SIGMA,
        "description = \"Sales region for row-level security\"",
        "description = \"Sales region (RLS)\"",
    );
    // Two values of one person: two requests.
    edit(
        root,
        "state/people.toml",
        "attributes = { region = \"West\" }",
        "attributes = { region = \"West\", cost_center = \"CC-9\" }",
    );
    let plan = roster(root, &["plan", "--sandbox"], &[]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    let block = "  apply sends: 33 requests (28 reads, 5 writes), no max_requests_per_second: as fast as the site answers
  ~ attribute region  (replaced: Sigma cannot edit an attribute; deleted and created again, its 3 values set again)
      description: \"Sales region for row-level security\" → \"Sales region (RLS)\"
      values set again: ada@acme.com=\"West\", scim.user@acme.com=\"North\", team Finance=\"East\"
  ~ attribute values ada@acme.com  (person)
      cost_center: (none) → \"CC-9\"
";
    assert!(plan.stdout.contains(block), "{}", plan.stdout);
    let apply = roster(root, &["apply", "--sandbox", "--yes"], &[]);
    assert_eq!(apply.code, 0, "{}", apply.all());
    assert_estimate_kept(&apply, 33);
    let mut d = data(root);
    let o = org(&mut d);
    let (scim, ada) = (
        member_id(o, "scim.user@acme.com"),
        member_id(o, "ada@acme.com"),
    );
    let region = attribute_id(o, "region");
    let values = &o["access"]["user_values"][&region];
    assert_eq!(values[&scim], "North", "{values}");
    assert_eq!(values[&ada], "West", "{values}");
    let again = roster(root, &["plan", "--sandbox", "--detailed-exitcode"], &[]);
    assert_eq!(again.code, 0, "{}", again.all());
}

#[test]
fn deleting_an_undeclared_attribute_says_how_many_hold_values() {
    let dir = sigma_applied();
    let root = dir.path();
    let text = std::fs::read_to_string(root.join(SIGMA)).unwrap();
    let start = text
        .find("[[user_attributes]]\nname = \"cost_center\"")
        .unwrap();
    let end = text[start..]
        .find("\n\n")
        .map_or(text.len(), |e| start + e + 1);
    std::fs::write(
        root.join(SIGMA),
        format!("{}{}", &text[..start], &text[end..]),
    )
    .unwrap();
    for file in ["state/people.toml", "state/roster.toml"] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let kept: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with("attributes = { cost_center"))
            .collect();
        std::fs::write(root.join(file), kept.join("\n") + "\n").unwrap();
    }
    edit(
        root,
        "state/roster.toml",
        "[sites.acme-sigma]\n",
        "[sites.acme-sigma]\nunmanaged_attributes = \"remove\"\n",
    );
    let plan = roster(root, &["plan", "--sandbox"], &[]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    let line = "  - attribute cost_center  (not declared; deleted with the values of 1 person and 1 team)\n";
    assert!(plan.stdout.contains(line), "{}", plan.stdout);
}

#[test]
fn a_grant_to_a_person_declared_inactive_and_absent_is_refused_before_any_write() {
    let dir = sigma_applied();
    let root = dir.path();
    edit(
        root,
        SIGMA,
        "grants.people = { \"alan@acme.com\" = \"view\" }",
        "grants.people = { \"alan@acme.com\" = \"view\", \"edsger@acme.com\" = \"view\" }",
    );
    // A change that would be applied first, were the plan made.
    edit(
        root,
        "state/people.toml",
        "last_name = \"Turing\"",
        "last_name = \"Turing II\"",
    );
    let before = std::fs::read(root.join(DATA)).unwrap();
    let error = "error: the plan cannot be made:
  site `acme-sigma`: workspace \"Finance\" grants `edsger@acme.com`, who is declared `active = false` and is not on the site: roster does not create a person only to deactivate them, so the grant could never be given. Remove the grant, or declare the person active
nothing was changed
";
    for args in [&["plan", "--sandbox"][..], &["apply", "--sandbox", "--yes"]] {
        let out = roster(root, args, &[]);
        assert_eq!(out.code, 1, "{args:?}: {}", out.all());
        assert!(out.stderr.ends_with(error), "{args:?}: {}", out.all());
        assert_eq!(
            std::fs::read(root.join(DATA)).unwrap(),
            before,
            "{args:?} wrote"
        );
    }
}

#[test]
fn a_group_named_twice_in_a_persons_groups_is_refused_at_its_place() {
    let dir = sigma_applied();
    let root = dir.path();
    edit(
        root,
        "state/people.toml",
        "groups = [\"Analysts\"]\nattributes = { region = \"West\" }",
        "groups = [\"Analysts\", \"analysts\", { name = \"Finance\", expires = 2030-01-01 }, { name = \"Finance\", expires = 2031-01-01 }]\nattributes = { region = \"West\" }",
    );
    let before = std::fs::read(root.join(DATA)).unwrap();
    let out = roster(root, &["plan", "--sandbox"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(
        out.stderr,
        "error: state/people.toml:8:23: group `analysts` is listed twice in this person's groups (names compare ignoring case and punctuation)
  hint: the same group is first listed at state/people.toml:8:11; keep one entry (with the `expires` it should have)
error: state/people.toml:8:88: group `Finance` is listed twice in this person's groups (names compare ignoring case and punctuation)
  hint: the same group is first listed at state/people.toml:8:44; keep one entry (with the `expires` it should have)
error: 2 problems in the state under state; nothing was contacted
"
    );
    assert_eq!(std::fs::read(root.join(DATA)).unwrap(), before);
}

#[test]
fn a_person_whose_membership_expired_is_not_made_its_admin() {
    let dir = sigma_applied();
    let root = dir.path();
    let ada_groups = "groups = [\"Analysts\"]\nattributes = { region = \"West\" }";
    edit(
        root,
        "state/people.toml",
        ada_groups,
        &ada_groups.replace("[\"Analysts\"]", "[\"Analysts\", \"Finance\"]"),
    );
    let apply = roster(root, &["apply", "--sandbox", "--yes"], &[]);
    assert_eq!(apply.code, 0, "{}", apply.all());
    // Her membership ends; the state names her admin of the team.
    edit(
        root,
        "state/people.toml",
        "[\"Analysts\", \"Finance\"]",
        "[\"Analysts\", { name = \"Finance\", expires = 2026-01-01 }]",
    );
    edit(
        root,
        "state/roster.toml",
        "name = \"Finance\"\nvisibility = \"private\"\n",
        "name = \"Finance\"\nvisibility = \"private\"\nadmins = [\"ada@acme.com\"]\n",
    );
    let plan = roster(root, &["plan", "--sandbox"], &[]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    let text = "  ~ user  ada@acme.com
      groups: -Finance
  = kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): scim.user@acme.com
  = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com
  - expired on 2026-01-01: ada@acme.com in Finance (no longer declared, nor as its admin)
";
    assert!(plan.stdout.contains(text), "{}", plan.stdout);
    assert!(!plan.stdout.contains("admins:"), "{}", plan.stdout);
    let apply = roster(root, &["apply", "--sandbox", "--yes"], &[]);
    assert_eq!(apply.code, 0, "{}", apply.all());
    let mut d = data(root);
    let o = org(&mut d);
    let ada = member_id(o, "ada@acme.com");
    let finance = o["teams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Finance")
        .unwrap();
    assert!(
        !finance["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == ada.as_str()),
        "{finance}"
    );
}

#[test]
fn prune_refuses_a_site_that_lists_only_members_roster_never_manages() {
    let dir = sigma_applied();
    let before = std::fs::read_to_string(dir.path().join("state/people.toml")).unwrap();
    edit_data(dir.path(), |org| {
        let members = org["members"].as_array_mut().unwrap();
        members.retain(|m| m["email"] == "scim.user@acme.com");
        assert_eq!(members.len(), 1, "the seed has a SCIM-owned member");
        for team in org["teams"].as_array_mut().unwrap() {
            team["members"] = Value::Array(vec![]);
        }
    });
    let out = roster(dir.path(), &["import", "--sandbox", "--prune"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains(
            "site `acme-sigma` lists nobody roster manages; --prune would take everyone declared for it off the state. Nothing was written"
        ),
        "{}",
        out.stderr
    );
    let after = std::fs::read_to_string(dir.path().join("state/people.toml")).unwrap();
    assert_eq!(before, after, "nothing was written");
}
