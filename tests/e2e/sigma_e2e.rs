//! End to end: the built binary against the sandbox over HTTP, on Sigma.

use std::time::Duration;

use crate::common::*;
use roster::sandbox::{Options, SandboxData, SigmaOrg};

fn example() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/sigma")
        .to_str()
        .unwrap()
        .to_string()
}

fn org(sb: &BackgroundSandbox) -> SigmaOrg {
    sb.sandbox.data().sigma["acme-sigma"].clone()
}

fn member<'a>(org: &'a SigmaOrg, email: &str) -> &'a roster::sandbox::sigma::store::SigmaMember {
    org.members
        .iter()
        .find(|m| m.email == email)
        .unwrap_or_else(|| panic!("no member {email}"))
}

fn team<'a>(org: &'a SigmaOrg, name: &str) -> &'a roster::sandbox::sigma::store::SigmaTeam {
    org.teams
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no team {name}"))
}

/// Emails of a team's members, sorted.
fn team_emails(org: &SigmaOrg, name: &str) -> Vec<String> {
    let mut v: Vec<String> = team(org, name)
        .members
        .iter()
        .map(|id| {
            org.members
                .iter()
                .find(|m| &m.member_id == id)
                .unwrap()
                .email
                .clone()
        })
        .collect();
    v.sort();
    v
}

/// A Sigma site at `url` reading its credentials from the environment.
fn sigma_site(url: &str, extra: &str) -> String {
    format!(
        r#"[sites.acme-sigma]
provider = "sigma"
base_url = "{url}"
client_id = {{ env = "SIGMA_ID" }}
client_secret = {{ env = "SIGMA_SECRET" }}
{extra}
"#
    )
}

const CREDS: [(&str, &str); 2] = [
    ("SIGMA_ID", "acme-sigma"),
    ("SIGMA_SECRET", "sandbox-sigma-secret"),
];

#[test]
fn the_sigma_example_plans_every_kind_of_change() {
    let sb = seeded_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let out = roster(
        dir.path(),
        &["plan", "--sandbox-url", &sb.url, "--state", &example()],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    insta::assert_snapshot!(out.stdout, @r#"
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
    assert!(only_reads(&sb), "planning writes nothing");
}

/// The live state after the example was applied to the seed (`before`):
/// each change made as planned, in as few calls as planned.
fn converged_with_renames_reactivation_and_handover(sb: &BackgroundSandbox, before: &SigmaOrg) {
    let after = org(sb);
    // Email change: the same member, PATCHed, not deactivated and recreated.
    let old = member(before, "barbara@old-acme.com");
    let new = member(&after, "barbara@acme.com");
    assert_eq!(old.member_id, new.member_id);
    assert!(!new.is_archived);
    // Account type, reactivation.
    assert_eq!(member(&after, "alan@acme.com").member_type, "Creator");
    assert!(!member(&after, "john@acme.com").is_archived);
    // Deactivation hands Tim's 4 documents to the declared new owner.
    let tim = member(&after, "tim@acme.com");
    assert!(tim.is_archived);
    assert_eq!(tim.documents, 0);
    assert_eq!(
        member(&after, "admin@acme.com").documents,
        member(before, "admin@acme.com").documents + 4
    );
    // Team rename keeps the team and its members; deletes and creates.
    assert_eq!(
        team(&after, "Growth Marketing").team_id,
        team(before, "Marketing").team_id
    );
    assert_eq!(
        team_emails(&after, "Growth Marketing"),
        ["barbara@acme.com", "tim@acme.com"]
    );
    assert!(after.teams.iter().all(|t| t.name != "Old Team"));
    assert_eq!(
        team_emails(&after, "Data Engineering"),
        ["ada@acme.com", "linus@acme.com"]
    );
    assert_eq!(
        team_emails(&after, "Finance"),
        ["alan@acme.com", "katherine@acme.com"]
    );
    // SCIM-managed and system accounts untouched.
    assert_eq!(
        member(&after, "scim.user@acme.com"),
        member(before, "scim.user@acme.com")
    );
    // Linus joined his team in the create call: one POST, no membership call for him.
    let sent = writes(sb);
    assert_eq!(
        sent.iter()
            .filter(|r| r.method == "POST" && r.path == "/v2/members")
            .count(),
        1
    );
    let data_eng = &team(&after, "Data Engineering").team_id;
    let data_eng_patches = sent
        .iter()
        .filter(|r| r.path == format!("/v2/teams/{data_eng}/members"))
        .count();
    assert_eq!(
        data_eng_patches, 1,
        "only Ada's membership is a separate call"
    );
}

#[test]
fn apply_converges_with_renames_reactivation_and_handover() {
    let sb = seeded_sandbox();
    let before = org(&sb);
    let dir = tempfile::tempdir().unwrap();
    let out = roster(
        dir.path(),
        &[
            "apply",
            "--yes",
            "--sandbox-url",
            &sb.url,
            "--state",
            &example(),
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    insta::assert_snapshot!(run_snapshot(&out), @r#"
    exit: 0
    --- stdout
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

    site acme-sigma
      ok      group Data Engineering created
      ok      group Growth Marketing updated
      ok      user ada@acme.com updated
      ok      user alan@acme.com updated
      ok      user barbara@acme.com updated
      ok      user john@acme.com updated
      ok      user katherine@acme.com updated
      ok      user linus@acme.com created
      ok      grant Finance (workspace, team Analysts) created
      ok      grant Finance (workspace, alan@acme.com) updated
      ok      grant Analytics (workspace, team Data Engineering) created
      ok      grant Analytics (workspace, ada@acme.com) updated
      ok      grant Snowflake Prod (connection, team Data Engineering) created
      ok      grant Snowflake Prod (connection, katherine@acme.com) deleted
      ok      user tim@acme.com deactivated
      ok      group Old Team deleted
      ok      attribute values linus@acme.com updated
    Apply finished: 17 applied, 0 failed, 0 skipped.
    --- stderr
    Requests to acme-sigma: 49 sent, 0 retried (the plan estimated 49).
    "#);
    converged_with_renames_reactivation_and_handover(&sb, &before);

    let again = roster(
        dir.path(),
        &[
            "plan",
            "--detailed-exitcode",
            "--sandbox-url",
            &sb.url,
            "--state",
            &example(),
        ],
        &[],
    );
    assert_eq!(again.code, 0, "{}", again.all());
}

#[test]
fn every_field_is_updated_with_only_what_changed() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[
        (
            "site.toml",
            &sigma_site(
                &sb.url,
                "unmanaged_users = \"keep\"\nunmanaged_groups = \"keep\"",
            ),
        ),
        (
            "people.toml",
            r#"
[[groups]]
name = "analysts"
description = "SQL writers"
visibility = "private"

[[users]]
email = "Katherine@Acme.com"
first_name = "Kathy"
last_name = "Goble"
member_type = "analyst pro"
groups = ["analysts"]
"#,
        ),
    ]);
    let plan = roster(dir.path(), &["plan"], &CREDS);
    assert_eq!(plan.code, 0, "{}", plan.all());
    insta::assert_snapshot!(run_snapshot(&plan), @r#"
    exit: 0
    --- stdout
    Plan: 0 to create, 2 to update, 0 to delete.

    site acme-sigma (sigma) — 0 to create, 2 to update, 0 to delete
      seats: Admin 2 → 2, Analyst Pro 0 → 1 (+1), Creator 3 → 3, Explorer 1 → 1, Viewer 3 → 2 (−1)
      apply sends: 18 requests (14 reads, 4 writes), no max_requests_per_second: as fast as the site answers
      ~ group analysts
          name: "Analysts" → "analysts"
          description: "People who write SQL" → "SQL writers"
          visibility: "public" → "private"
      ~ user  Katherine@Acme.com
          first_name: "Katherine" → "Kathy"
          last_name: "Johnson" → "Goble"
          member_type: "Viewer" → "Analyst Pro"
          groups: +analysts -Finance
      = kept 3 groups (not declared, unmanaged_groups = "keep"): Finance, Marketing, Old Team
      = kept 6 users (not declared, unmanaged_users = "keep"): ada@acme.com, admin@acme.com, alan@acme.com, barbara@old-acme.com, grace@acme.com, tim@acme.com
      = kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): scim.user@acme.com
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com

    Read 2 state files: 1 site, 1 person, 1 group.
    --- stderr
    "#);
    let out = roster(dir.path(), &["apply", "--yes", "-v"], &CREDS);
    assert_eq!(out.code, 0, "{}", out.all());
    // -v says how long each phase took.
    for phase in ["state loaded", "live state read", "plan computed changes="] {
        assert!(out.stderr.contains(phase), "{phase}: {}", out.stderr);
    }
    let after = org(&sb);
    let k = member(&after, "katherine@acme.com");
    assert_eq!(
        (
            k.first_name.as_str(),
            k.last_name.as_str(),
            k.member_type.as_str()
        ),
        ("Kathy", "Goble", "Analyst Pro")
    );
    let t = team(&after, "analysts");
    assert_eq!(
        (t.description.as_deref(), t.visibility.as_str()),
        (Some("SQL writers"), "private")
    );
    assert!(team_emails(&after, "analysts").contains(&"katherine@acme.com".to_string()));
    assert_eq!(
        roster(dir.path(), &["plan", "--detailed-exitcode"], &CREDS).code,
        0
    );
}

#[test]
fn membership_changes_are_batched_per_team() {
    // 100 members; team A holds the first 40. The state moves A to the last 60.
    let mut o = SigmaOrg::new("acme-sigma", "sandbox-sigma-secret", "admin@acme.com");
    let mut users = String::new();
    for i in 0..100 {
        o.members.push(roster::sandbox::sigma::store::SigmaMember {
            member_id: format!("m{i:028}"),
            email: format!("user{i}@acme.com"),
            first_name: "U".into(),
            last_name: format!("{i}"),
            member_type: "Viewer".into(),
            is_archived: false,
            is_inactive: false,
            documents: 0,
        });
        let groups = if i >= 40 { r#"["A"]"# } else { "[]" };
        users.push_str(&format!(
            "[[users]]\nemail = \"user{i}@acme.com\"\nfirst_name = \"U\"\nlast_name = \"{i}\"\ngroups = {groups}\n\n"
        ));
    }
    o.teams.push(roster::sandbox::sigma::store::SigmaTeam {
        team_id: "team-a".into(),
        name: "A".into(),
        description: None,
        visibility: "private".into(),
        members: (0..40).map(|i| format!("m{i:028}")).collect(),
    });
    let sb = BackgroundSandbox::start(SandboxData {
        sigma: [("acme-sigma".to_string(), o)].into(),
        ..SandboxData::default()
    })
    .unwrap();
    let dir = state_dir(&[
        (
            "site.toml",
            &sigma_site(
                &sb.url,
                "unmanaged_users = \"keep\"\nallow_membership_removals = 40",
            ),
        ),
        (
            "people.toml",
            &format!("[[groups]]\nname = \"A\"\n\n{users}"),
        ),
    ]);
    let out = roster(dir.path(), &["apply", "--yes"], &CREDS);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .contains("Apply finished: 100 applied, 0 failed, 0 skipped."),
        "{}",
        out.stdout
    );
    let sent: Vec<_> = writes(&sb)
        .into_iter()
        .filter(|r| r.path != "/v2/auth/token")
        .collect();
    assert_eq!(
        sent.len(),
        1,
        "one request for 100 membership changes: {sent:?}"
    );
    assert_eq!(
        (sent[0].method.as_str(), sent[0].path.as_str()),
        ("PATCH", "/v2/teams/team-a/members")
    );
    let after = org(&sb);
    assert_eq!(team(&after, "A").members.len(), 60);
    assert_eq!(
        roster(dir.path(), &["plan", "--detailed-exitcode"], &CREDS).code,
        0
    );
}

#[test]
fn an_unknown_account_type_names_the_user_and_the_valid_types() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[
        (
            "site.toml",
            &sigma_site(&sb.url, "unmanaged_users = \"keep\""),
        ),
        (
            "people.toml",
            "[[users]]\nemail = \"ada@acme.com\"\nfirst_name = \"Ada\"\nlast_name = \"Lovelace\"\nmember_type = \"Wizard\"\n",
        ),
    ]);
    for args in [&["plan"][..], &["apply", "--yes"]] {
        let out = roster(dir.path(), args, &CREDS);
        assert_eq!(out.code, 1);
        assert_eq!(
            out.stderr,
            "error: the plan cannot be made:\n  state/people.toml:5:15: site `acme-sigma`: user `ada@acme.com` has member_type `Wizard`, which is not an account type of the organisation. Valid types: Admin, Creator, Explorer, Viewer, Analyst Pro\nnothing was changed\n"
        );
    }
    assert!(only_reads(&sb));
}

#[test]
fn an_expired_token_is_replaced_mid_apply() {
    // Tokens the server refuses after 5 requests, though they claim an hour:
    // only a 401 tells the client.
    let revoked = BackgroundSandbox::start_with(
        persist::seed(),
        Options {
            token_uses: Some(5),
            ..Options::default()
        },
    )
    .unwrap();
    // Tokens that really expire after 1 second, on a slow network.
    let short = BackgroundSandbox::start_with(
        persist::seed(),
        Options {
            token_ttl: Duration::from_secs(1),
            latency: Duration::from_millis(150),
            ..Options::default()
        },
    )
    .unwrap();
    for sb in [&revoked, &short] {
        let dir = tempfile::tempdir().unwrap();
        let out = roster(
            dir.path(),
            &[
                "apply",
                "--yes",
                "--concurrency",
                "1",
                "--sandbox-url",
                &sb.url,
                "--state",
                &example(),
            ],
            &[],
        );
        assert_eq!(out.code, 0, "{}", out.all());
        assert!(
            out.stdout
                .contains("Apply finished: 17 applied, 0 failed, 0 skipped.")
        );
        let tokens = sb
            .sandbox
            .requests()
            .iter()
            .filter(|r| r.path == "/v2/auth/token")
            .count();
        assert!(
            tokens >= 2,
            "{}: the token was replaced ({tokens} token requests)",
            sb.url
        );
        let plan = roster(
            dir.path(),
            &[
                "plan",
                "--detailed-exitcode",
                "--sandbox-url",
                &sb.url,
                "--state",
                &example(),
            ],
            &[],
        );
        assert_eq!(plan.code, 0, "{}", plan.all());
    }
    // A refused token costs one token request and one retry, never a storm
    // (beside the first token of each of the two runs, apply and plan).
    let requests = revoked.sandbox.requests();
    let refused = requests.iter().filter(|r| r.status == 401).count();
    let tokens = requests
        .iter()
        .filter(|r| r.path == "/v2/auth/token")
        .count();
    assert!(
        tokens <= refused + 2,
        "{tokens} token requests for {refused} refusals"
    );
}

#[test]
fn every_page_of_thousands_of_members_is_read() {
    let mut o = SigmaOrg::new("acme-sigma", "sandbox-sigma-secret", "admin@acme.com");
    let mut users = String::from(
        "[[users]]\nemail = \"admin@acme.com\"\nfirst_name = \"Org\"\nlast_name = \"Admin\"\n\n",
    );
    for i in 0..2500 {
        o.members.push(roster::sandbox::sigma::store::SigmaMember {
            member_id: format!("m{i:028}"),
            email: format!("user{i}@acme.com"),
            first_name: "U".into(),
            last_name: format!("{i}"),
            member_type: "Viewer".into(),
            is_archived: i % 10 == 0,
            is_inactive: false,
            documents: 0,
        });
        // Everyone but the last one is declared (archived ones as inactive).
        if i < 2499 {
            let active = if i % 10 == 0 { "active = false\n" } else { "" };
            users.push_str(&format!("[[users]]\nemail = \"user{i}@acme.com\"\nfirst_name = \"U\"\nlast_name = \"{i}\"\n{active}\n"));
        }
    }
    let sb = BackgroundSandbox::start(SandboxData {
        sigma: [("acme-sigma".to_string(), o)].into(),
        ..SandboxData::default()
    })
    .unwrap();
    let dir = state_dir(&[
        ("site.toml", &sigma_site(&sb.url, "")),
        ("people.toml", &users),
    ]);
    let out = roster(dir.path(), &["plan"], &CREDS);
    insta::assert_snapshot!(run_snapshot(&out), @r#"
    exit: 0
    --- stdout
    Plan: 0 to create, 0 to update, 1 to delete.

    site acme-sigma (sigma) — 0 to create, 0 to update, 1 to delete
      seats: Admin 2 → 2, Viewer 2250 → 2249 (−1)
      apply sends: 10 requests (8 reads, 2 writes), no max_requests_per_second: as fast as the site answers
      - user  user2499@acme.com  (not declared; deactivated, 0 documents and 0 schedules to the API credentials' owner, tokens revoked)
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com

    Read 2 state files: 1 site, 2500 people, 0 groups.
    --- stderr
    "#);
    let pages = sb
        .sandbox
        .requests()
        .iter()
        .filter(|r| r.path == "/v2.1/members")
        .count();
    assert_eq!(pages, 3, "2,502 members at 1,000 a page");
}

/// A Periscope and a Sigma site, both keeping what is not declared, and
/// two people on both.
const TWO_SITES: &str = r#"
[sites.acme]
provider = "periscope"
site = "acme"
api_key = { env = "ACME_PERISCOPE_API_KEY" }
invited_by = "admin@acme.com"
unmanaged_users = "keep"
unmanaged_groups = "keep"

[sites.acme-sigma]
provider = "sigma"
cloud = "aws-us-west"
client_id = { env = "ACME_SIGMA_CLIENT_ID" }
client_secret = { env = "ACME_SIGMA_CLIENT_SECRET" }
unmanaged_users = "keep"
unmanaged_groups = "keep"

[[groups]]
name = "Analysts"
access = "sql"

[[users]]
email = "ada@acme.com"
first_name = "Ada"
last_name = "Lovelace"
member_type = "Creator"
groups = ["Analysts"]

[[users]]
email = "linus@acme.com"
first_name = "Linus"
last_name = "Torvalds"
member_type = "Creator"
groups = ["Analysts"]
"#;

#[test]
fn periscope_and_sigma_sites_in_one_plan() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[("roster.toml", TWO_SITES)]);
    let out = roster(dir.path(), &["plan", "--sandbox-url", &sb.url], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    insta::assert_snapshot!(out.stdout, @r#"
    Plan: 2 to create, 2 to update, 0 to delete.

    site acme (periscope) — 1 to create, 2 to update, 0 to delete
      seats: sql 11 → 12 (+1)
      apply sends: 5 requests (2 reads, 3 writes), no max_requests_per_second: as fast as the site answers
      ~ group Analysts
          access: "discovery" → "sql"
      ~ user  ada@acme.com
          groups: -Administrators
      + user  linus@acme.com  first_name="Linus" last_name="Torvalds" groups=[Analysts]
      = kept 3 groups (not declared, unmanaged_groups = "keep"): Contractors, Finance, Marketing
      = kept 9 users (not declared, unmanaged_users = "keep"): alan@acme.com, barbara@acme.com, donald@acme.com, edsger@acme.com, grace@acme.com, john@acme.com, katherine@acme.com, margaret@acme.com, tim@acme.com
      = kept 1 user (the site's invited_by, never removed): admin@acme.com

    site acme-sigma (sigma) — 1 to create, 0 to update, 0 to delete
      seats: Admin 2 → 2, Creator 3 → 4 (+1), Explorer 1 → 1, Viewer 3 → 3
      apply sends: 15 requests (14 reads, 1 write), no max_requests_per_second: as fast as the site answers
      + user  linus@acme.com  first_name="Linus" last_name="Torvalds" member_type="Creator" groups=[Analysts]
      = kept 3 groups (not declared, unmanaged_groups = "keep"): Finance, Marketing, Old Team
      = kept 6 users (not declared, unmanaged_users = "keep"): admin@acme.com, alan@acme.com, barbara@old-acme.com, grace@acme.com, katherine@acme.com, tim@acme.com
      = kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): scim.user@acme.com
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com

    Read 1 state file: 2 sites, 2 people, 1 group.
    "#);
    let out = roster(
        dir.path(),
        &["apply", "--yes", "--sandbox-url", &sb.url],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let data = sb.sandbox.data();
    assert!(
        data.periscope["acme"]
            .users
            .iter()
            .any(|u| u.email == "linus@acme.com")
    );
    assert!(
        data.sigma["acme-sigma"]
            .members
            .iter()
            .any(|m| m.email == "linus@acme.com")
    );
    assert_eq!(
        roster(
            dir.path(),
            &["plan", "--detailed-exitcode", "--sandbox-url", &sb.url],
            &[]
        )
        .code,
        0
    );
}

#[test]
fn a_dry_run_of_periscope_and_sigma_sites_says_what_each_can_check() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[("roster.toml", TWO_SITES)]);
    let dry = roster(
        dir.path(),
        &["apply", "--dry-run", "--sandbox-url", &sb.url],
        &[],
    );
    assert_eq!(dry.code, 0, "{}", dry.all());
    insta::assert_snapshot!(run_snapshot(&dry), @r#"
    exit: 0
    --- stdout
    Plan: 2 to create, 2 to update, 0 to delete.

    site acme (periscope) — 1 to create, 2 to update, 0 to delete
      seats: sql 11 → 12 (+1)
      apply sends: 5 requests (2 reads, 3 writes), no max_requests_per_second: as fast as the site answers
      ~ group Analysts
          access: "discovery" → "sql"
      ~ user  ada@acme.com
          groups: -Administrators
      + user  linus@acme.com  first_name="Linus" last_name="Torvalds" groups=[Analysts]
      = kept 3 groups (not declared, unmanaged_groups = "keep"): Contractors, Finance, Marketing
      = kept 9 users (not declared, unmanaged_users = "keep"): alan@acme.com, barbara@acme.com, donald@acme.com, edsger@acme.com, grace@acme.com, john@acme.com, katherine@acme.com, margaret@acme.com, tim@acme.com
      = kept 1 user (the site's invited_by, never removed): admin@acme.com

    site acme-sigma (sigma) — 1 to create, 0 to update, 0 to delete
      seats: Admin 2 → 2, Creator 3 → 4 (+1), Explorer 1 → 1, Viewer 3 → 3
      apply sends: 15 requests (14 reads, 1 write), no max_requests_per_second: as fast as the site answers
      + user  linus@acme.com  first_name="Linus" last_name="Torvalds" member_type="Creator" groups=[Analysts]
      = kept 3 groups (not declared, unmanaged_groups = "keep"): Finance, Marketing, Old Team
      = kept 6 users (not declared, unmanaged_users = "keep"): admin@acme.com, alan@acme.com, barbara@old-acme.com, grace@acme.com, katherine@acme.com, tim@acme.com
      = kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): scim.user@acme.com
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com

    Dry run: nothing will be changed.
      Periscope (acme): each write is sent with test_mode=true; the site checks it and saves nothing.
      Sigma (acme-sigma): Sigma has no server-side test mode, so no write is sent; the plan above is all a dry run can show.
    site acme
      ok      group Analysts (accepted with test_mode=true; nothing changed)
      ok      user ada@acme.com (accepted with test_mode=true; nothing changed)
      ok      user linus@acme.com (accepted with test_mode=true; nothing changed)
    site acme-sigma
      skipped user linus@acme.com: not sent: Sigma has no server-side test mode, so a dry run sends it nothing
    Dry run finished: 3 accepted with test_mode=true, 0 failed, 1 not sent; nothing was changed.
    --- stderr
    Requests to acme: 5 sent, 0 retried.
    Requests to acme-sigma: 14 sent, 0 retried.
    "#);
    assert_eq!(sb.sandbox.writes(), 0);
}

#[test]
fn no_client_secret_or_token_appears_in_output() {
    let secret = "sigma-client-secret-9f3e1a";
    let mut data = persist::seed();
    data.sigma.get_mut("acme-sigma").unwrap().client_secret = secret.into();
    let sb = BackgroundSandbox::start(data).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let people = std::fs::read_to_string(format!("{}/people.toml", example())).unwrap();
    let groups = std::fs::read_to_string(format!("{}/roster.toml", example())).unwrap();
    let groups = &groups[groups.find("[[groups]]").unwrap()..];
    let access = std::fs::read_to_string(format!("{}/access.toml", example())).unwrap();
    write_files(
        dir.path(),
        &[
            (
                "state/site.toml",
                &sigma_site(&sb.url, "new_owner = \"admin@acme.com\""),
            ),
            ("state/people.toml", &format!("{groups}\n{people}")),
            ("state/access.toml", &access),
        ],
    );
    let env = [("SIGMA_ID", "acme-sigma"), ("SIGMA_SECRET", secret)];
    for args in [
        &["plan", "-vv"][..],
        &["apply", "--yes", "-vv"],
        &["plan", "-vv", "--detailed-exitcode"],
    ] {
        let out = roster(dir.path(), args, &env);
        assert!(out.code == 0 || out.code == 2, "{args:?}: {}", out.all());
        assert!(!out.all().contains(secret), "{args:?} printed the secret");
        assert!(
            !out.all().contains("sbx-access-") && !out.all().contains("sbx-refresh-"),
            "{args:?} printed a token"
        );
        assert!(
            out.stderr.contains("sigma request"),
            "-vv logs each request"
        );
    }
    let wrong = roster(
        dir.path(),
        &["plan", "-vv"],
        &[
            ("SIGMA_ID", "acme-sigma"),
            ("SIGMA_SECRET", "wrong-secret-31337"),
        ],
    );
    assert_eq!(wrong.code, 1);
    assert!(!wrong.all().contains("wrong-secret-31337"));
    assert!(wrong.stderr.contains(
        "site `acme-sigma`: get an API token: HTTP 401: Invalid client credentials (check the values of SIGMA_ID and SIGMA_SECRET and the site's cloud or base_url)"
    ), "{}", wrong.stderr);
}

#[test]
fn a_new_owner_who_is_not_an_active_member_is_a_plan_error() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[(
        "site.toml",
        &sigma_site(&sb.url, "new_owner = \"john@acme.com\""),
    )]);
    let out = roster(dir.path(), &["plan"], &CREDS);
    assert_eq!(out.code, 1);
    insta::assert_snapshot!(run_snapshot(&out), @r"
    exit: 1
    --- stdout
    --- stderr
    error: the plan cannot be made:
      site `acme-sigma`: new_owner `john@acme.com` must be an active member of the site that SCIM does not manage, to receive deactivated members' documents, and that member is deactivated. Set new_owner under [sites.acme-sigma] to such a member, or set archive_documents = true instead
    nothing was changed
    ");
}

#[test]
fn deactivation_can_archive_documents() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[
        (
            "site.toml",
            &sigma_site(
                &sb.url,
                "archive_documents = true\nunmanaged_groups = \"keep\"\nallow_removals = 6",
            ),
        ),
        (
            "people.toml",
            "[[users]]\nemail = \"admin@acme.com\"\nfirst_name = \"Org\"\nlast_name = \"Admin\"\n",
        ),
    ]);
    let out = roster(dir.path(), &["apply", "--yes"], &CREDS);
    assert_eq!(out.code, 0, "{}", out.all());
    insta::assert_snapshot!(run_snapshot(&out), @r#"
    exit: 0
    --- stdout
    Plan: 0 to create, 0 to update, 6 to delete.

    site acme-sigma (sigma) — 0 to create, 0 to update, 6 to delete
      seats: Admin 2 → 2, Creator 3 → 0 (−3), Explorer 1 → 0 (−1), Viewer 3 → 1 (−2)
      apply sends: 38 requests (26 reads, 12 writes), no max_requests_per_second: as fast as the site answers
      - user  ada@acme.com  (not declared; deactivated, 12 documents and 0 schedules archived, tokens revoked)
      - user  alan@acme.com  (not declared; deactivated, 2 documents and 0 schedules archived, tokens revoked)
      - user  barbara@old-acme.com  (not declared; deactivated, 1 document and 0 schedules archived, tokens revoked)
      - user  grace@acme.com  (not declared; deactivated, 7 documents and 0 schedules archived, tokens revoked)
      - user  katherine@acme.com  (not declared; deactivated, 0 documents and 0 schedules archived, tokens revoked)
      - user  tim@acme.com  (not declared; deactivated, 4 documents and 0 schedules archived, tokens revoked)
      = kept 4 groups (not declared, unmanaged_groups = "keep"): Analysts, Finance, Marketing, Old Team
      = kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): scim.user@acme.com
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com

    site acme-sigma
      ok      user ada@acme.com deactivated
      ok      user alan@acme.com deactivated
      ok      user barbara@old-acme.com deactivated
      ok      user grace@acme.com deactivated
      ok      user katherine@acme.com deactivated
      ok      user tim@acme.com deactivated
    Apply finished: 6 applied, 0 failed, 0 skipped.
    --- stderr
    Requests to acme-sigma: 38 sent, 0 retried (the plan estimated 38).
    "#);
    let after = org(&sb);
    // Ada 12 + Grace 7 + Alan 2 + Barbara 1 + Tim 4.
    assert_eq!(after.archived_documents, 26);
    assert!(
        after
            .members
            .iter()
            .filter(|m| m.email != "admin@acme.com"
                && m.member_id != "SigmaSchedulerRobot"
                && !m.is_inactive)
            .all(|m| m.is_archived)
    );
}

/// Sigma's sample `batch_update_users.py` requests, sent as it sends them.
#[tokio::test]
async fn the_sandbox_serves_the_sample_scripts_requests() {
    let sb = seeded_sandbox();
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
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
    assert_eq!(token["token_type"], "bearer");
    assert_eq!(token["expires_in"], 3600);
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let get = |url: String| http.get(url).header("Authorization", &bearer).send();
    // Since 2026-06-02 in pages only, even without limit: entries, nextPage
    // (null on the last page), total and hasMore, 50 to a page by default.
    let first: serde_json::Value = get(format!("{}/v2/members?includeArchived=true", sb.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(first.is_object(), "{first}");
    assert_eq!(first["nextPage"], serde_json::Value::Null);
    assert_eq!(
        (first["total"].as_u64(), first["hasMore"].as_bool()),
        (Some(9), Some(false))
    );
    // With limit: entries + nextPage until null, as the script pages.
    let mut seen = 0;
    let mut url = format!("{}/v2/members?includeArchived=true&limit=4", sb.url);
    loop {
        let page: serde_json::Value = get(url.clone()).await.unwrap().json().await.unwrap();
        seen += page["entries"].as_array().unwrap().len();
        match page["nextPage"].as_str() {
            Some(next) => {
                url = format!(
                    "{}/v2/members?includeArchived=true&limit=4&page={next}",
                    sb.url
                );
            }
            None => break,
        }
    }
    assert_eq!(seen, 9, "every member but the SCIM-inactive one");
    let ada = first["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "ada@acme.com")
        .unwrap();
    let id = ada["memberId"].as_str().unwrap();
    let patch = |body: serde_json::Value| {
        http.patch(format!("{}/v2/members/{id}", sb.url))
            .header("Authorization", &bearer)
            .json(&body)
            .send()
    };
    // An empty body changes nothing and answers with the member, isArchived included.
    let r = patch(serde_json::json!({})).await.unwrap();
    assert_eq!(r.status(), 200);
    let m: serde_json::Value = r.json().await.unwrap();
    assert_eq!(m["isArchived"], false);
    let r = patch(serde_json::json!({"memberType": "Wizard"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["message"],
        "Member type name is not found"
    );
    let r = patch(serde_json::json!({"email": "grace@acme.com"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["message"],
        "Duplicate record"
    );
    // manage_team.py sends null for the list it does not use.
    let team = &org(&sb).teams[0].team_id;
    let r = http
        .patch(format!("{}/v2/teams/{team}/members", sb.url))
        .header("Authorization", &bearer)
        .json(&serde_json::json!({"add": [id], "remove": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({})
    );
    // No token: 401 with a message.
    let r = http
        .get(format!("{}/v2/members", sb.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}
