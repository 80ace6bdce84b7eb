//! End to end: many sites. One person declared once, placed on three sites
//! of two providers with per-site overrides, in one apply; `--site`.

use crate::common::*;
use roster::sandbox::PeriscopeSite;

fn state(url: &str) -> String {
    format!(
        r#"[sites.acme]
provider = "periscope"
site = "acme"
api_key = {{ env = "US_KEY" }}
invited_by = "admin@acme.com"
base_url = "{url}"
unmanaged_users = "keep"
unmanaged_groups = "keep"

[sites.acme-eu]
provider = "periscope"
site = "acme-eu"
api_key = {{ env = "EU_KEY" }}
invited_by = "admin@acme.com"
base_url = "{url}"
unmanaged_users = "keep"
unmanaged_groups = "keep"

[sites.acme-sigma]
provider = "sigma"
base_url = "{url}"
client_id = {{ env = "SIGMA_ID" }}
client_secret = {{ env = "SIGMA_SECRET" }}
unmanaged_users = "keep"
unmanaged_groups = "keep"

[[groups]]
name = "Analysts"
access = "sql"

[[groups]]
name = "Finance"
access = "view"

# Declared once, on every site; on Sigma in Finance, as a Viewer.
[[users]]
email = "newbie@acme.com"
first_name = "New"
last_name = "Bie"
groups = ["Analysts"]
member_type = "Creator"

[users.overrides.acme-sigma]
groups = ["Finance"]
member_type = "Viewer"
"#
    )
}

const ENV: [(&str, &str); 4] = [
    ("US_KEY", "sandbox-periscope-key"),
    ("EU_KEY", "eu-key"),
    ("SIGMA_ID", "acme-sigma"),
    ("SIGMA_SECRET", "sandbox-sigma-secret"),
];

fn sandbox() -> BackgroundSandbox {
    let mut data = persist::seed();
    data.periscope.insert(
        "acme-eu".into(),
        PeriscopeSite::new("eu-key", "admin@acme.com"),
    );
    BackgroundSandbox::start(data).unwrap()
}

#[test]
fn one_person_on_three_sites_of_two_providers_in_one_apply() {
    let sb = sandbox();
    let dir = state_dir(&[("roster.toml", &state(&sb.url))]);
    let plan = roster(dir.path(), &["plan"], &ENV);
    assert_eq!(plan.code, 0, "{}", plan.all());
    insta::assert_snapshot!(run_snapshot(&plan), @r#"
    exit: 0
    --- stdout
    Plan: 5 to create, 1 to update, 0 to delete.

    site acme (periscope) — 1 to create, 1 to update, 0 to delete
      seats: sql 11 → 12 (+1)
      apply sends: 4 requests (2 reads, 2 writes), no max_requests_per_second: as fast as the site answers
      ~ group Analysts
          access: "discovery" → "sql"
      + user  newbie@acme.com  first_name="New" last_name="Bie" groups=[Analysts]
      = kept 2 groups (not declared, unmanaged_groups = "keep"): Contractors, Marketing
      = kept 10 users (not declared, unmanaged_users = "keep"): ada@acme.com, alan@acme.com, barbara@acme.com, donald@acme.com, edsger@acme.com, grace@acme.com, john@acme.com, katherine@acme.com, margaret@acme.com, tim@acme.com
      = kept 1 user (the site's invited_by, never removed): admin@acme.com

    site acme-eu (periscope) — 3 to create, 0 to update, 0 to delete
      seats: sql 1 → 2 (+1)
      apply sends: 5 requests (2 reads, 3 writes), no max_requests_per_second: as fast as the site answers
      + group Analysts  access=sql
      + group Finance  access=view
      + user  newbie@acme.com  first_name="New" last_name="Bie" groups=[Analysts]
      = kept 1 user (the site's invited_by, never removed): admin@acme.com

    site acme-sigma (sigma) — 1 to create, 0 to update, 0 to delete
      seats: Admin 2 → 2, Creator 3 → 3, Explorer 1 → 1, Viewer 3 → 4 (+1)
      apply sends: 15 requests (14 reads, 1 write), no max_requests_per_second: as fast as the site answers
      + user  newbie@acme.com  first_name="New" last_name="Bie" member_type="Viewer" groups=[Finance]
      = kept 2 groups (not declared, unmanaged_groups = "keep"): Marketing, Old Team
      = kept 7 users (not declared, unmanaged_users = "keep"): ada@acme.com, admin@acme.com, alan@acme.com, barbara@old-acme.com, grace@acme.com, katherine@acme.com, tim@acme.com
      = kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): scim.user@acme.com
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com

    Read 1 state file: 3 sites, 1 person, 2 groups.
    --- stderr
    "#);

    let apply = roster(dir.path(), &["apply", "--yes"], &ENV);
    assert_eq!(apply.code, 0, "{}", apply.all());
    let data = sb.sandbox.data();
    for site in ["acme", "acme-eu"] {
        let u = data.periscope[site]
            .users
            .iter()
            .find(|u| u.email == "newbie@acme.com")
            .unwrap();
        assert_eq!(u.groups, ["All Users", "Analysts"], "{site}");
    }
    let org = &data.sigma["acme-sigma"];
    let m = org
        .members
        .iter()
        .find(|m| m.email == "newbie@acme.com")
        .unwrap();
    assert_eq!(m.member_type, "Viewer");
    let finance = org.teams.iter().find(|t| t.name == "Finance").unwrap();
    assert!(finance.members.contains(&m.member_id));
    assert_eq!(
        roster(dir.path(), &["plan", "--detailed-exitcode"], &ENV).code,
        0
    );
}

#[test]
fn site_limits_every_command_to_some_sites() {
    let sb = sandbox();
    let dir = state_dir(&[("roster.toml", &state(&sb.url))]);
    let plan = roster(
        dir.path(),
        &["plan", "--site", "acme-sigma", "--site", "acme-eu"],
        &[
            ("EU_KEY", "eu-key"),
            ("SIGMA_ID", "acme-sigma"),
            ("SIGMA_SECRET", "sandbox-sigma-secret"),
        ],
    );
    assert_eq!(plan.code, 0, "{}", plan.all());
    insta::assert_snapshot!(run_snapshot(&plan), @r#"
    exit: 0
    --- stdout
    Plan: 4 to create, 0 to update, 0 to delete.

    site acme-eu (periscope) — 3 to create, 0 to update, 0 to delete
      seats: sql 1 → 2 (+1)
      apply sends: 5 requests (2 reads, 3 writes), no max_requests_per_second: as fast as the site answers
      + group Analysts  access=sql
      + group Finance  access=view
      + user  newbie@acme.com  first_name="New" last_name="Bie" groups=[Analysts]
      = kept 1 user (the site's invited_by, never removed): admin@acme.com

    site acme-sigma (sigma) — 1 to create, 0 to update, 0 to delete
      seats: Admin 2 → 2, Creator 3 → 3, Explorer 1 → 1, Viewer 3 → 4 (+1)
      apply sends: 15 requests (14 reads, 1 write), no max_requests_per_second: as fast as the site answers
      + user  newbie@acme.com  first_name="New" last_name="Bie" member_type="Viewer" groups=[Finance]
      = kept 2 groups (not declared, unmanaged_groups = "keep"): Marketing, Old Team
      = kept 7 users (not declared, unmanaged_users = "keep"): ada@acme.com, admin@acme.com, alan@acme.com, barbara@old-acme.com, grace@acme.com, katherine@acme.com, tim@acme.com
      = kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): scim.user@acme.com
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com

    Read 1 state file: 3 sites, 1 person, 2 groups.
    --- stderr
    "#);
    let apply = roster(dir.path(), &["apply", "--yes", "--site", "acme-eu"], &ENV);
    assert_eq!(apply.code, 0, "{}", apply.all());
    let data = sb.sandbox.data();
    assert!(
        data.periscope["acme-eu"]
            .users
            .iter()
            .any(|u| u.email == "newbie@acme.com")
    );
    assert!(
        !data.periscope["acme"]
            .users
            .iter()
            .any(|u| u.email == "newbie@acme.com")
    );
    let export = roster(dir.path(), &["export", "--site", "acme-sigma"], &[]);
    assert_eq!(
        export.stdout,
        "site,email,first_name,last_name,groups,member_type,active\nacme-sigma,newbie@acme.com,New,Bie,Finance,Viewer,true\n"
    );
    let unknown = roster(dir.path(), &["plan", "--site", "acme-us"], &ENV);
    assert_eq!(unknown.code, 1);
    assert_eq!(
        unknown.stderr,
        "error: --site acme-us: no such site in the state; the sites are acme, acme-eu, acme-sigma\n"
    );
}

#[test]
fn overrides_are_checked_against_their_site() {
    let sb = sandbox();
    let bad = state(&sb.url)
        .replace(
            "[users.overrides.acme-sigma]",
            "[users.overrides.acme-mars]",
        )
        .replace(
            "groups = [\"Finance\"]\nmember_type = \"Viewer\"\n",
            "groups = [\"Nope\"]\n",
        );
    let dir = state_dir(&[("roster.toml", &bad)]);
    let out = roster(dir.path(), &["validate"], &[]);
    assert_eq!(out.code, 1);
    insta::assert_snapshot!(run_snapshot(&out), @r#"
    exit: 1
    --- stdout
    --- stderr
    error: state/roster.toml:37:9: `newbie@acme.com` has overrides for site `acme-mars`, which the user is not on
      hint: remove the override, or add the site to the user's sites
    error: state/roster.toml:44:11: group `Nope` is not declared
      hint: add a [[groups]] entry with name = "Nope", or fix the spelling
    error: 2 problems in the state under state; nothing was contacted
    "#);
    let periscope_type =
        state(&sb.url).replace("[users.overrides.acme-sigma]", "[users.overrides.acme-eu]");
    std::fs::write(dir.path().join("state/roster.toml"), periscope_type).unwrap();
    let out = roster(dir.path(), &["validate"], &[]);
    insta::assert_snapshot!(run_snapshot(&out), @r"
    exit: 1
    --- stdout
    --- stderr
    error: state/roster.toml:45:15: `member_type` overrides apply to Sigma sites, and `acme-eu` is a periscope site
      hint: remove member_type from the override
    error: 1 problem in the state under state; nothing was contacted
    ");
}

/// The three sites' credentials, with a wrong key for `acme-eu`.
const EU_KEY_WRONG: [(&str, &str); 4] = [
    ("US_KEY", "sandbox-periscope-key"),
    ("EU_KEY", "a-wrong-key"),
    ("SIGMA_ID", "acme-sigma"),
    ("SIGMA_SECRET", "sandbox-sigma-secret"),
];

#[test]
fn a_site_that_fails_hides_nothing_of_the_others() {
    let sb = sandbox();
    let dir = state_dir(&[("roster.toml", &state(&sb.url))]);
    let env = EU_KEY_WRONG;
    let plan = roster(dir.path(), &["plan"], &env);
    assert_eq!(plan.code, 1);
    insta::assert_snapshot!(run_snapshot(&plan), @r#"
    exit: 1
    --- stdout
    Plan: 2 to create, 1 to update, 0 to delete.

    site acme (periscope) — 1 to create, 1 to update, 0 to delete
      seats: sql 11 → 12 (+1)
      apply sends: 4 requests (2 reads, 2 writes), no max_requests_per_second: as fast as the site answers
      ~ group Analysts
          access: "discovery" → "sql"
      + user  newbie@acme.com  first_name="New" last_name="Bie" groups=[Analysts]
      = kept 2 groups (not declared, unmanaged_groups = "keep"): Contractors, Marketing
      = kept 10 users (not declared, unmanaged_users = "keep"): ada@acme.com, alan@acme.com, barbara@acme.com, donald@acme.com, edsger@acme.com, grace@acme.com, john@acme.com, katherine@acme.com, margaret@acme.com, tim@acme.com
      = kept 1 user (the site's invited_by, never removed): admin@acme.com

    site acme-sigma (sigma) — 1 to create, 0 to update, 0 to delete
      seats: Admin 2 → 2, Creator 3 → 3, Explorer 1 → 1, Viewer 3 → 4 (+1)
      apply sends: 15 requests (14 reads, 1 write), no max_requests_per_second: as fast as the site answers
      + user  newbie@acme.com  first_name="New" last_name="Bie" member_type="Viewer" groups=[Finance]
      = kept 2 groups (not declared, unmanaged_groups = "keep"): Marketing, Old Team
      = kept 7 users (not declared, unmanaged_users = "keep"): ada@acme.com, admin@acme.com, alan@acme.com, barbara@old-acme.com, grace@acme.com, katherine@acme.com, tim@acme.com
      = kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): scim.user@acme.com
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com

    Read 1 state file: 3 sites, 1 person, 2 groups.
    --- stderr
    error: could not read the live state of 1 site:
      site `acme-eu`: list users: HTTP 401: invalid API key for site 'acme-eu' (the site refused the API key: check the value of EU_KEY and that `site` is the slug of the site's dashboard URLs)
    the plan above covers the other sites
    "#);
}

#[test]
fn an_apply_with_a_site_that_fails_applies_the_others() {
    let sb = sandbox();
    let dir = state_dir(&[("roster.toml", &state(&sb.url))]);
    let apply = roster(dir.path(), &["apply", "--yes"], &EU_KEY_WRONG);
    assert_eq!(apply.code, 1, "{}", apply.all());
    insta::assert_snapshot!(run_snapshot(&apply), @r#"
    exit: 1
    --- stdout
    Plan: 2 to create, 1 to update, 0 to delete.

    site acme (periscope) — 1 to create, 1 to update, 0 to delete
      seats: sql 11 → 12 (+1)
      apply sends: 4 requests (2 reads, 2 writes), no max_requests_per_second: as fast as the site answers
      ~ group Analysts
          access: "discovery" → "sql"
      + user  newbie@acme.com  first_name="New" last_name="Bie" groups=[Analysts]
      = kept 2 groups (not declared, unmanaged_groups = "keep"): Contractors, Marketing
      = kept 10 users (not declared, unmanaged_users = "keep"): ada@acme.com, alan@acme.com, barbara@acme.com, donald@acme.com, edsger@acme.com, grace@acme.com, john@acme.com, katherine@acme.com, margaret@acme.com, tim@acme.com
      = kept 1 user (the site's invited_by, never removed): admin@acme.com

    site acme-sigma (sigma) — 1 to create, 0 to update, 0 to delete
      seats: Admin 2 → 2, Creator 3 → 3, Explorer 1 → 1, Viewer 3 → 4 (+1)
      apply sends: 15 requests (14 reads, 1 write), no max_requests_per_second: as fast as the site answers
      + user  newbie@acme.com  first_name="New" last_name="Bie" member_type="Viewer" groups=[Finance]
      = kept 2 groups (not declared, unmanaged_groups = "keep"): Marketing, Old Team
      = kept 7 users (not declared, unmanaged_users = "keep"): ada@acme.com, admin@acme.com, alan@acme.com, barbara@old-acme.com, grace@acme.com, katherine@acme.com, tim@acme.com
      = kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): scim.user@acme.com
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com

    Not applied, as its live state could not be read: site `acme-eu`: list users: HTTP 401: invalid API key for site 'acme-eu' (the site refused the API key: check the value of EU_KEY and that `site` is the slug of the site's dashboard URLs)

    site acme
      ok      group Analysts updated
      ok      user newbie@acme.com created
    site acme-sigma
      ok      user newbie@acme.com created
    Apply finished: 3 applied, 0 failed, 0 skipped.
    --- stderr
    Requests to acme: 4 sent, 0 retried (the plan estimated 4).
    Requests to acme-sigma: 15 sent, 0 retried (the plan estimated 15).
    error: could not read the live state of 1 site:
      site `acme-eu`: list users: HTTP 401: invalid API key for site 'acme-eu' (the site refused the API key: check the value of EU_KEY and that `site` is the slug of the site's dashboard URLs)
    the changes of the other sites were applied
    "#);
    let data = sb.sandbox.data();
    assert!(
        data.periscope["acme"]
            .users
            .iter()
            .any(|u| u.email == "newbie@acme.com")
    );
    assert!(
        data.sigma["acme-sigma"]
            .members
            .iter()
            .any(|m| m.email == "newbie@acme.com")
    );
    assert!(
        !data.periscope["acme-eu"]
            .users
            .iter()
            .any(|u| u.email == "newbie@acme.com")
    );
}
