//! End to end: plans that answer an admin's questions (issue 15): seats
//! before and after with a budget, expiring access, effective access and
//! `roster explain`, and the cost of the run.

use crate::common::*;

fn example(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

/// A copy of `examples/sigma` with `extra` settings on its site.
fn sigma_example_with(extra: &str) -> tempfile::TempDir {
    let site = std::fs::read_to_string(example("sigma").join("roster.toml"))
        .unwrap()
        .replace(
            "[sites.acme-sigma]\n",
            &format!("[sites.acme-sigma]\n{extra}\n"),
        );
    let people = std::fs::read_to_string(example("sigma").join("people.toml")).unwrap();
    let access = std::fs::read_to_string(example("sigma").join("access.toml")).unwrap();
    state_dir(&[
        ("roster.toml", &site),
        ("people.toml", &people),
        ("access.toml", &access),
    ])
}

fn plan_in(dir: &std::path::Path, url: &str, format: &str) -> Output {
    roster(
        dir,
        &["plan", "--sandbox-url", url, "--format", format],
        &[],
    )
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// `text` with `date` written as `placeholder`.
fn masked(text: &str, date: chrono::NaiveDate, placeholder: &str) -> String {
    text.replace(&date.to_string(), placeholder)
}

#[test]
fn seat_counts_show_in_text_markdown_and_json() {
    let sb = seeded_sandbox();
    let dir = sigma_example_with("seats = { Creator = 5 }");
    let text = plan_in(dir.path(), &sb.url, "text");
    assert_eq!(text.code, 0, "{}", text.all());
    let head: Vec<&str> = text.stdout.lines().take(4).collect();
    insta::assert_snapshot!(head.join("\n"), @"
    Plan: 5 to create, 9 to update, 3 to delete.

    site acme-sigma (sigma) — 5 to create, 9 to update, 3 to delete
      seats: Admin 2 → 2, Analyst Pro 0 → 1 (+1), Creator 3 → 5 (+2), Explorer 1 → 0 (−1), Viewer 3 → 2 (−1)
    ");

    let md = plan_in(dir.path(), &sb.url, "markdown");
    assert_eq!(md.code, 0, "{}", md.all());
    let table: Vec<&str> = md
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("| site | seats"))
        .take(3)
        .collect();
    insta::assert_snapshot!(table.join("\n"), @r#"
    | site | seats before → after | apply sends |
    |---|---|---|
    | acme-sigma | Admin 2 → 2, Analyst Pro 0 → 1 (+1), Creator 3 → 5 (+2), Explorer 1 → 0 (−1), Viewer 3 → 2 (−1) | 49 requests (29 reads, 20 writes), no max_requests_per_second: as fast as the site answers |
    "#);

    let json = plan_in(dir.path(), &sb.url, "json");
    assert_eq!(json.code, 0, "{}", json.all());
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        doc["format_version"], 1,
        "an additive change keeps the version"
    );
    insta::assert_snapshot!(serde_json::to_string(&doc["sites"][0]["seats"]).unwrap(), @r#"[{"after":2,"before":2,"kind":"Admin"},{"after":1,"before":0,"kind":"Analyst Pro"},{"after":5,"before":3,"budget":5,"kind":"Creator"},{"after":0,"before":1,"kind":"Explorer"},{"after":2,"before":3,"kind":"Viewer"}]"#);
    assert!(only_reads(&sb), "planning writes nothing");
}

#[test]
fn a_seat_budget_overrun_is_refused_by_plan_and_apply_with_no_write() {
    let sb = seeded_sandbox();
    let dir = sigma_example_with("seats = { creator = 4, Viewer = 3 }");
    let plan = plan_in(dir.path(), &sb.url, "text");
    assert_eq!(plan.code, 1, "{}", plan.all());
    let head: Vec<&str> = plan.stdout.lines().take(6).collect();
    insta::assert_snapshot!(head.join("\n"), @r#"
    Plan: 5 to create, 9 to update, 3 to delete.

    site acme-sigma (sigma) — 5 to create, 9 to update, 3 to delete
      seats: Admin 2 → 2, Analyst Pro 0 → 1 (+1), Creator 3 → 5 (+2), Explorer 1 → 0 (−1), Viewer 3 → 2 (−1)
      ! seats over budget: 5 Creator after the plan, budget 4 (seats.Creator)
      apply sends: 49 requests (29 reads, 20 writes), no max_requests_per_second: as fast as the site answers
    "#);
    insta::assert_snapshot!(plan.stderr, @r"
    error: 1 seat budget exceeded; apply will refuse this plan:
      site `acme-sigma`: 5 Creator seats after the plan, budget 4 (seats.Creator)
    raise the budget in the site's `seats`, or declare fewer people of that type
    ");
    let apply = roster(
        dir.path(),
        &["apply", "--sandbox-url", &sb.url, "--yes"],
        &[],
    );
    assert_eq!(apply.code, 1, "{}", apply.all());
    assert!(
        apply
            .stderr
            .contains("1 seat budget exceeded; refusing to apply; nothing was changed"),
        "{}",
        apply.stderr
    );
    assert!(only_reads(&sb), "nothing was written: {:?}", writes(&sb));
}

#[test]
fn a_seat_budget_names_only_types_the_site_counts() {
    let dir = state_dir(&[(
        "roster.toml",
        &format!(
            "{}seats = {{ view = 3, admin = 2, sql = -1 }}\n",
            periscope_site("http://127.0.0.1:1", "KEY")
        ),
    )]);
    let out = roster(dir.path(), &["validate"], &[]);
    insta::assert_snapshot!(run_snapshot(&out), @"
    exit: 1
    --- stdout
    --- stderr
    error: state/roster.toml:7:21: site `acme`: `admin` is not a seat type
      hint: on Periscope sites seats are counted by access level: view, discovery, sql
    error: state/roster.toml:7:38: site `acme`: a seat budget must be 0 or more, not -1
      hint: write the most people the site may have, e.g. sql = 45
    error: 2 problems in the state under state; nothing was contacted
    ");
}

/// The repository's Periscope site against `url`, keeping undeclared
/// people, with `people` declared.
fn periscope_state(url: &str, people: &str) -> tempfile::TempDir {
    let site = format!(
        "{}unmanaged_users = \"keep\"\nunmanaged_groups = \"keep\"\n\n[[groups]]\nname = \"Analysts\"\naccess = \"discovery\"\n\n[[groups]]\nname = \"Finance\"\naccess = \"view\"\n",
        periscope_site(url, "ACME_KEY")
    );
    state_dir(&[("roster.toml", &site), ("people.toml", people)])
}

const KEY: [(&str, &str); 1] = [("ACME_KEY", "sandbox-periscope-key")];

/// A person whose access ended, and a membership that ended.
const EXPIRED: &str = r#"[[users]]
email = "katherine@acme.com"
first_name = "Katherine"
last_name = "Johnson"
groups = ["Finance"]
expires = 2020-01-01

[[users]]
email = "alan@acme.com"
first_name = "Alan"
last_name = "Turing"
groups = ["Analysts", { name = "Finance", expires = 2020-01-01 }]
"#;

#[test]
fn expired_people_and_memberships_are_removed_and_near_expiry_is_noted() {
    let sb = seeded_sandbox();
    let soon = today() + chrono::Days::new(3);
    let people = format!(
        r#"{EXPIRED}
[[users]]
email = "grace@acme.com"
first_name = "Grace"
last_name = "Hopper"
groups = [{{ name = "Analysts", expires = {soon} }}]
"#
    );
    let dir = periscope_state(&sb.url, &people);
    let plan = roster(dir.path(), &["plan"], &KEY);
    insta::assert_snapshot!(masked(&run_snapshot(&plan), soon, "[TODAY+3]"), @r#"
    exit: 0
    --- stdout
    Plan: 0 to create, 1 to update, 0 to delete.

    warning: state/people.toml:6:11: katherine@acme.com: expired on 2020-01-01; plans remove it until the date or the entry is changed
    warning: state/people.toml:12:53: alan@acme.com in Finance: expired on 2020-01-01; plans remove it until the date or the entry is changed

    site acme (periscope) — 0 to create, 1 to update, 0 to delete
      apply sends: 3 requests (2 reads, 1 write), no max_requests_per_second: as fast as the site answers
      ~ user  alan@acme.com
          groups: -Finance
      = kept 2 groups (not declared, unmanaged_groups = "keep"): Contractors, Marketing
      = kept 8 users (not declared, unmanaged_users = "keep"): ada@acme.com, barbara@acme.com, donald@acme.com, edsger@acme.com, john@acme.com, katherine@acme.com, margaret@acme.com, tim@acme.com
      = kept 1 user (the site's invited_by, never removed): admin@acme.com
      - expired on 2020-01-01: katherine@acme.com (no longer declared)
      - expired on 2020-01-01: alan@acme.com in Finance (no longer declared)
      = expires on [TODAY+3]: grace@acme.com in Analysts (within expiry_notice_days = 14)

    Read 2 state files: 1 site, 3 people, 2 groups.
    --- stderr
    "#);
}

#[test]
fn an_expired_person_is_removed_by_the_site_s_rule_and_apply_removes_them() {
    let sb = seeded_sandbox();
    let dir = periscope_state(&sb.url, EXPIRED);
    // Undeclared people are removed on this site: the expired one is too.
    let site = std::fs::read_to_string(dir.path().join("state/roster.toml"))
        .unwrap()
        .replace("unmanaged_users = \"keep\"\n", "allow_removals = 10\n");
    write_files(dir.path(), &[("state/roster.toml", &site)]);
    let apply = roster(dir.path(), &["apply", "--yes"], &KEY);
    assert_eq!(apply.code, 0, "{}", apply.all());
    assert!(
        apply
            .stdout
            .contains("  - expired on 2020-01-01: katherine@acme.com (no longer declared)"),
        "{}",
        apply.stdout
    );
    let live = sb.sandbox.data().periscope["acme"].clone();
    assert!(!live.users.iter().any(|u| u.email == "katherine@acme.com"));
    let alan = live
        .users
        .iter()
        .find(|u| u.email == "alan@acme.com")
        .unwrap();
    assert!(
        !alan.groups.iter().any(|g| g == "Finance"),
        "{:?}",
        alan.groups
    );
    assert!(
        alan.groups.iter().any(|g| g == "Analysts"),
        "{:?}",
        alan.groups
    );
}

#[test]
fn validate_warns_about_dates_already_past_and_exits_0() {
    let people = r#"[[users]]
email = "alan@acme.com"
first_name = "Alan"
last_name = "Turing"
groups = ["Analysts", { name = "Finance", expires = 2020-01-01 }]
expires = 2099-12-31
"#;
    let dir = periscope_state("http://127.0.0.1:1", people);
    let out = roster(dir.path(), &["validate"], &[]);
    insta::assert_snapshot!(run_snapshot(&out), @"
    exit: 0
    --- stdout
    The state under state is valid. Read 2 state files: 1 site, 1 person, 2 groups.
    --- stderr
    warning: state/people.toml:5:53: alan@acme.com in Finance: expired on 2020-01-01; plans remove it until the date or the entry is changed
    ");
}

#[test]
fn an_expires_date_with_a_time_or_as_text_is_refused_at_its_place() {
    let people = r#"[[users]]
email = "alan@acme.com"
first_name = "Alan"
last_name = "Turing"
groups = [{ name = "Finance", expires = 2020-01-01T10:00:00 }]

[[users]]
email = "ada@acme.com"
first_name = "Ada"
last_name = "Lovelace"
expires = "2026-12-31"
"#;
    let dir = periscope_state("http://127.0.0.1:1", people);
    let out = roster(dir.path(), &["validate"], &[]);
    insta::assert_snapshot!(run_snapshot(&out), @r#"
    exit: 1
    --- stdout
    --- stderr
    error: state/people.toml:5:41: `expires` must be a date without a time, not 2020-01-01T10:00:00
      hint: write the last day of access as a TOML date: expires = 2026-12-31
    error: state/people.toml:11:11: user `ada@acme.com`: invalid type: string "2026-12-31", expected a TOML datetime
      hint: write the date without quotes, as in expires = 2026-12-31
    error: 2 problems in the state under state; nothing was contacted
    "#);
}

#[test]
fn fmt_keeps_memberships_with_dates() {
    let people = r#"[[users]]
email = "Alan@acme.com"
first_name = "Alan"
last_name = "Turing"
groups = [{ name = "Finance", expires = 2030-01-01 }, "Analysts"]
"#;
    let dir = periscope_state("http://127.0.0.1:1", people);
    let out = roster(dir.path(), &["fmt"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let after = std::fs::read_to_string(dir.path().join("state/people.toml")).unwrap();
    insta::assert_snapshot!(after, @r#"
    [[users]]
    email = "alan@acme.com"
    first_name = "Alan"
    last_name = "Turing"
    groups = ["Analysts", { name = "Finance", expires = 2030-01-01 }]
    "#);
    assert_eq!(roster(dir.path(), &["validate"], &[]).code, 0);
}

#[test]
fn explain_shows_direct_access_and_access_through_two_groups_without_contacting_anything() {
    // Neither site's credentials are set, and nothing listens at the
    // sites' addresses: explain reads only the state.
    let site = format!(
        r#"{}
[sites.acme-sigma]
provider = "sigma"
base_url = "http://127.0.0.1:1"
client_id = {{ env = "UNSET_SIGMA_ID" }}
client_secret = {{ env = "UNSET_SIGMA_SECRET" }}

[[groups]]
name = "Analysts"
access = "sql"

[[groups]]
name = "Data Engineering"
access = "sql"

[[groups]]
name = "Finance"
access = "view"
"#,
        periscope_site("http://127.0.0.1:1", "UNSET_PERISCOPE_KEY")
    );
    let people = r#"[[users]]
email = "ada@acme.com"
first_name = "Ada"
last_name = "Lovelace"
member_type = "Creator"
groups = ["Analysts", "Data Engineering", { name = "Finance", expires = 2099-06-30 }]
expires = 2099-12-31
"#;
    let dir = state_dir(&[("roster.toml", &site), ("people.toml", people)]);
    let out = roster(dir.path(), &["explain", "ADA@acme.com"], &[]);
    insta::assert_snapshot!(run_snapshot(&out), @"
    exit: 0
    --- stdout
    ada@acme.com on site acme (periscope):
      access until 2099-12-31
      access level sql: through Analysts, through Data Engineering
      group Analysts: direct
      group Data Engineering: direct
      group Finance: direct, until 2099-06-30
    ada@acme.com on site acme-sigma (sigma):
      access until 2099-12-31
      account type Creator: direct
      group Analysts: direct
      group Data Engineering: direct
      group Finance: direct, until 2099-06-30
    --- stderr
    ");
    let one = roster(
        dir.path(),
        &["explain", "ada@acme.com", "--site", "acme"],
        &[],
    );
    insta::assert_snapshot!(run_snapshot(&one), @"
    exit: 0
    --- stdout
    ada@acme.com on site acme (periscope):
      access until 2099-12-31
      access level sql: through Analysts, through Data Engineering
      group Analysts: direct
      group Data Engineering: direct
      group Finance: direct, until 2099-06-30
    --- stderr
    ");
    let nobody = roster(dir.path(), &["explain", "nobody@acme.com"], &[]);
    insta::assert_snapshot!(run_snapshot(&nobody), @"
    exit: 1
    --- stdout
    --- stderr
    error: nobody@acme.com is not declared on any site; nothing to explain
    ");
}

/// The JSON plan's estimate of the requests apply sends its only site.
fn estimated_requests(plan_json: &str) -> u64 {
    let doc: serde_json::Value = serde_json::from_str(plan_json).unwrap();
    let cost = &doc["sites"][0]["cost"];
    cost["reads"].as_u64().unwrap() + cost["writes"].as_u64().unwrap()
}

/// Requests that reached the sandbox since `from` of its log, the Sigma
/// token request aside (it is not a request to the organisation's API).
fn api_requests_since(sb: &BackgroundSandbox, from: usize) -> u64 {
    sb.sandbox.requests()[from..]
        .iter()
        .filter(|r| r.path != "/v2/auth/token")
        .count() as u64
}

#[test]
fn the_request_estimate_is_what_apply_then_sends_on_periscope_and_sigma() {
    for state in [
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("state"),
        example("sigma"),
    ] {
        let sb = seeded_sandbox();
        let state = state.to_str().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let plan = roster(
            dir.path(),
            &[
                "plan",
                "--sandbox-url",
                &sb.url,
                "--state",
                state,
                "--format",
                "json",
            ],
            &[],
        );
        assert_eq!(plan.code, 0, "{}", plan.all());
        let estimate = estimated_requests(&plan.stdout);
        let before = sb.sandbox.requests().len();
        let apply = roster(
            dir.path(),
            &["apply", "--sandbox-url", &sb.url, "--state", state, "--yes"],
            &[],
        );
        assert_eq!(apply.code, 0, "{}", apply.all());
        let sent = api_requests_since(&sb, before);
        assert_eq!(sent, estimate, "{state}: {}", plan.stdout);
        let line = format!("{sent} sent, 0 retried (the plan estimated {estimate}).");
        assert!(apply.stderr.contains(&line), "{}", apply.stderr);
    }
}

#[test]
fn the_estimate_says_how_long_at_the_site_s_request_budget() {
    let sb = seeded_sandbox();
    let dir = sigma_example_with("max_requests_per_second = 4");
    let plan = plan_in(dir.path(), &sb.url, "markdown");
    assert_eq!(plan.code, 0, "{}", plan.all());
    let row = plan
        .stdout
        .lines()
        .find(|l| l.starts_with("| acme-sigma | Admin"))
        .unwrap();
    insta::assert_snapshot!(row, @r#"
    | acme-sigma | Admin 2 → 2, Analyst Pro 0 → 1 (+1), Creator 3 → 5 (+2), Explorer 1 → 0 (−1), Viewer 3 → 2 (−1) | 49 requests (29 reads, 20 writes), at least 13 s at max_requests_per_second = 4 |
    "#);
}

#[test]
fn the_markdown_and_json_plans_show_what_each_changed_person_ends_up_with() {
    let sb = seeded_sandbox();
    let people = r#"[[users]]
email = "alan@acme.com"
first_name = "Alan"
last_name = "Turing"
groups = ["Analysts", { name = "Finance", expires = 2099-01-31 }, "Data"]

[[groups]]
name = "Data"
access = "discovery"
"#;
    let dir = periscope_state(&sb.url, people);
    let md = roster(dir.path(), &["plan", "--format", "markdown"], &KEY);
    assert_eq!(md.code, 0, "{}", md.all());
    let section: Vec<&str> = md
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("**Effective access"))
        .take(3)
        .collect();
    insta::assert_snapshot!(section.join("\n"), @"
    **Effective access after the plan** (1 person):

    - **alan&#64;&#8203;acme.com** on acme: access level discovery: through Analysts, through Data; group Analysts: direct; group Finance: direct, until 2099-01-31; group Data: direct
    ");
    let json = roster(dir.path(), &["plan", "--format", "json"], &KEY);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    insta::assert_snapshot!(serde_json::to_string(&doc["sites"][0]["effective"]).unwrap(), @r#"[{"email":"alan@acme.com","held":[{"kind":"access_level","sources":[{"group":"Analysts","via":"through"},{"group":"Data","via":"through"}],"value":"discovery"},{"kind":"group","sources":[{"via":"direct"}],"value":"Analysts"},{"kind":"group","sources":[{"via":"direct"}],"until":"2099-01-31","value":"Finance"},{"kind":"group","sources":[{"via":"direct"}],"value":"Data"}]}]"#);
}
