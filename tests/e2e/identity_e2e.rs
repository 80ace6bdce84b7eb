//! End to end: identity compares the way the platforms do (Unicode NFC,
//! case), live objects the rules make equal are refused, and every declared
//! person is accounted for. The built binary against a sandbox seeded from a
//! data file written by each test.

use crate::common::*;
use roster::sandbox::SandboxData;

const CREDS: [(&str, &str); 3] = [
    ("SIGMA_ID", "acme-sigma"),
    ("SIGMA_SECRET", "sandbox-sigma-secret"),
    ("ACME_KEY", "sandbox-periscope-key"),
];

/// Writes `json` as a sandbox data file and starts a sandbox from it, as
/// `roster sandbox --data FILE` would.
fn sandbox_from_file(json: &str) -> BackgroundSandbox {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sandbox.json");
    std::fs::write(&path, json).unwrap();
    let data: SandboxData = persist::load(&path).expect("the data file loads");
    BackgroundSandbox::start(data).expect("the sandbox starts")
}

/// A Sigma organisation `acme-sigma` whose credentials belong to
/// admin@acme.com, with `members` and `teams` (JSON arrays' contents).
fn sigma_data(members: &str, teams: &str) -> String {
    format!(
        r#"{{"sigma": {{"acme-sigma": {{
  "client_id": "acme-sigma",
  "client_secret": "sandbox-sigma-secret",
  "organization_id": "5b0c8f1e-0000-4000-8000-00000000a51a",
  "credentials_owner": "m-admin",
  "account_types": ["Admin", "Creator", "Viewer"],
  "members": [
    {{"member_id": "m-admin", "email": "admin@acme.com", "first_name": "Org", "last_name": "Admin", "member_type": "Admin"}}
    {members}
  ],
  "teams": [{teams}],
  "next_id": 1000
}}}}}}"#
    )
}

fn sigma_member(id: &str, email: &str, extra: &str) -> String {
    format!(
        r#", {{"member_id": "{id}", "email": "{email}", "first_name": "F", "last_name": "L", "member_type": "Viewer"{extra}}}"#
    )
}

/// A Sigma site reading its credentials from the environment.
fn sigma_state(url: &str, extra: &str, people: &str) -> tempfile::TempDir {
    let site = format!(
        r#"[sites.acme-sigma]
provider = "sigma"
base_url = "{url}"
client_id = {{ env = "SIGMA_ID" }}
client_secret = {{ env = "SIGMA_SECRET" }}
{extra}
"#
    );
    let people = format!(
        "[[users]]\nemail = \"admin@acme.com\"\nfirst_name = \"Org\"\nlast_name = \"Admin\"\nmember_type = \"Admin\"\n{people}"
    );
    state_dir(&[("site.toml", &site), ("people.toml", &people)])
}

fn person(email: &str, extra: &str) -> String {
    format!(
        "\n[[users]]\nemail = \"{email}\"\nfirst_name = \"F\"\nlast_name = \"L\"\nmember_type = \"Viewer\"\n{extra}"
    )
}

fn sigma_emails(sb: &BackgroundSandbox) -> Vec<String> {
    sb.sandbox.data().sigma["acme-sigma"]
        .members
        .iter()
        .map(|m| m.email.clone())
        .collect()
}

/// A Periscope site `acme` with the built-in groups, admin@acme.com, and
/// `users` and `groups` (JSON arrays' contents, each starting with a comma).
fn periscope_data(users: &str, groups: &str) -> String {
    format!(
        r#"{{"periscope": {{"acme": {{
  "api_key": "sandbox-periscope-key",
  "groups": [{{"name": "Administrators", "access": "sql"}}, {{"name": "All Users", "access": "sql"}}{groups}],
  "users": [{{"email": "admin@acme.com", "first_name": "Site", "last_name": "Admin", "groups": ["Administrators", "All Users"]}}{users}]
}}}}}}"#
    )
}

fn periscope_state(url: &str, files: &str) -> tempfile::TempDir {
    let people = format!(
        "[[users]]\nemail = \"admin@acme.com\"\nfirst_name = \"Site\"\nlast_name = \"Admin\"\ngroups = [\"Administrators\"]\n{files}"
    );
    state_dir(&[
        ("roster.toml", &periscope_site(url, "ACME_KEY")),
        ("people.toml", &people),
    ])
}

#[test]
fn sigma_case_duplicate_teams_and_members_are_refused_naming_both_with_no_write() {
    let sb = sandbox_from_file(&sigma_data(
        &[
            sigma_member("m-ann", "ann@acme.com", ""),
            sigma_member("m-ann2", "Ann@acme.com", ""),
        ]
        .concat(),
        r#"{"team_id": "t1", "name": "analysts", "visibility": "public", "members": ["m-ann"]},
           {"team_id": "t2", "name": "Analysts", "visibility": "public", "members": []}"#,
    ));
    let dir = sigma_state(
        &sb.url,
        "",
        &format!(
            "{}groups = [\"Analysts\"]\n\n[[groups]]\nname = \"Analysts\"\n",
            person("ann@acme.com", "")
        ),
    );
    for args in [&["plan"][..], &["apply", "--yes"]] {
        let out = roster(dir.path(), args, &CREDS);
        assert_eq!(out.code, 1, "{}", out.all());
        assert_eq!(out.stdout, "");
        assert_eq!(
            out.stderr,
            "error: the plan cannot be made:\n  \
            site `acme-sigma`: the site has two teams, \"Analysts\" and \"analysts\", that roster cannot tell apart (team names compare ignoring case and surrounding spaces, after Unicode NFC); it will not guess which one the state means. Rename or remove one of them in Sigma's UI, then plan again\n  \
            site `acme-sigma`: the site has two members, \"Ann@acme.com\" and \"ann@acme.com\", that roster cannot tell apart (emails compare ignoring case, after Unicode NFC); it will not guess which one the state means. Rename or remove one of them in Sigma's UI, then plan again\n\
            nothing was changed\n"
        );
    }
    assert!(only_reads(&sb), "{:?}", writes(&sb));
}

#[test]
fn sigma_nfc_declared_email_matches_the_nfd_member_and_no_second_account_is_made() {
    let sb = sandbox_from_file(&sigma_data(
        &sigma_member("m-jose", "jose\u{301}@acme.com", ""),
        "",
    ));
    let dir = sigma_state(&sb.url, "", &person("jos\u{e9}@acme.com", ""));
    let plan = roster(dir.path(), &["plan"], &CREDS);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert_eq!(
        plan.stdout,
        "No changes: the live state matches the declared state.\n\nsite acme-sigma (sigma) — no changes\n\n\
        Read 2 state files: 1 site, 2 people, 0 groups.\n"
    );
    let apply = roster(dir.path(), &["apply", "--yes"], &CREDS);
    assert_eq!(apply.code, 0, "{}", apply.all());
    assert!(only_reads(&sb), "{:?}", writes(&sb));
    assert_eq!(
        sigma_emails(&sb),
        ["admin@acme.com", "jose\u{301}@acme.com"],
        "no second account"
    );
}

#[test]
fn a_non_ascii_email_for_a_periscope_site_is_refused_before_any_request() {
    let sb = sandbox_from_file(&periscope_data("", ""));
    let dir = periscope_state(
        &sb.url,
        "\n[[users]]\nemail = \"ren\u{e9}e@acme.com\"\nfirst_name = \"Ren\u{e9}e\"\nlast_name = \"L\"\n",
    );
    for args in [&["validate"][..], &["plan"], &["apply", "--yes"]] {
        let out = roster(dir.path(), args, &CREDS);
        assert_eq!(out.code, 1, "{}", out.all());
        assert_eq!(
            out.stderr,
            "error: state/people.toml:8:9: \"renée@acme.com\" cannot be used on Periscope site `acme`: its API names the user to update or delete in the HTTP-X-EMAIL header, which carries ASCII only\n  \
            hint: declare the ASCII address the person signs in with, or limit the user's sites to non-Periscope sites\n\
            error: 1 problem in the state under state; nothing was contacted\n",
        );
    }
    assert!(sb.sandbox.requests().is_empty(), "nothing contacted");
}

#[test]
fn a_live_non_ascii_periscope_user_is_a_plan_error_before_any_write() {
    let sb = sandbox_from_file(&periscope_data(
        r#", {"email": "zo\u00eb@acme.com", "first_name": "Zo\u00eb", "last_name": "L", "groups": ["All Users"]}"#,
        "",
    ));
    let dir = periscope_state(&sb.url, "");
    let out = roster(dir.path(), &["apply", "--yes"], &CREDS);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(
        out.stderr,
        "error: the plan cannot be made:\n  \
        site `acme`: user \"zoë@acme.com\" has an email that Periscope's API cannot carry: the HTTP-X-EMAIL header that names a user to update or delete carries printable ASCII only. Remove them in Periscope's UI, or set unmanaged_users = \"keep\" for the site\n\
        nothing was changed\n"
    );
    assert!(only_reads(&sb), "{:?}", writes(&sb));
}

/// A live email holding a control character (a line feed, an escape) can
/// no more be sent in a header than a non-ASCII one: refused, shown
/// escaped, before any write (it used to fail half-way through apply).
#[test]
fn a_live_periscope_email_with_a_control_character_is_a_plan_error_before_any_write() {
    let sb = sandbox_from_file(&periscope_data(
        r#", {"email": "eve@acme.com\n  ~ user hidden", "first_name": "Eve", "last_name": "L", "groups": ["All Users"]}"#,
        "",
    ));
    let dir = periscope_state(&sb.url, "");
    let out = roster(dir.path(), &["apply", "--yes"], &CREDS);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(
        out.stderr,
        "error: the plan cannot be made:\n  \
        site `acme`: user \"eve@acme.com\\n  ~ user hidden\" has an email that Periscope's API cannot carry: the HTTP-X-EMAIL header that names a user to update or delete carries printable ASCII only. Remove them in Periscope's UI, or set unmanaged_users = \"keep\" for the site\n\
        nothing was changed\n"
    );
    assert!(only_reads(&sb), "{:?}", writes(&sb));
}

/// A live group whose name is too long for the URL that addresses it is
/// refused before any write, its name shortened in the message (it used
/// to fail mid-apply, printing all 100,000 characters).
#[test]
fn a_live_periscope_group_too_long_to_address_is_a_plan_error_before_any_write() {
    let long = "Z".repeat(100_000);
    let sb = sandbox_from_file(&periscope_data(
        "",
        &format!(r#", {{"name": "{long}", "access": "view"}}"#),
    ));
    let dir = periscope_state(&sb.url, "");
    let out = roster(dir.path(), &["apply", "--yes"], &CREDS);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(
        out.stderr,
        format!(
            "error: the plan cannot be made:\n  \
            site `acme`: group \"{}…\" (100000 characters) has a name too long for the URL that Periscope's API addresses a group by; rename it in Periscope's UI, or set unmanaged_groups = \"keep\" for the site\n\
            nothing was changed\n",
            "Z".repeat(40)
        )
    );
    assert!(only_reads(&sb), "{:?}", writes(&sb));
}

#[test]
fn an_nfd_periscope_group_is_renamed_to_the_declared_nfc_name_not_deleted_and_recreated() {
    let sb = sandbox_from_file(&periscope_data(
        r#", {"email": "ada@acme.com", "first_name": "Ada", "last_name": "L", "groups": ["Cafe\u0301", "All Users"]}"#,
        r#", {"name": "Cafe\u0301", "access": "view"}"#,
    ));
    let dir = periscope_state(
        &sb.url,
        "\n[[users]]\nemail = \"ada@acme.com\"\nfirst_name = \"Ada\"\nlast_name = \"L\"\ngroups = [\"Caf\u{e9}\"]\n\n[[groups]]\nname = \"Caf\u{e9}\"\naccess = \"view\"\n",
    );
    let plan = roster(dir.path(), &["plan"], &CREDS);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert_eq!(
        plan.stdout,
        "Plan: 0 to create, 1 to update, 0 to delete.\n\n\
        site acme (periscope) — 0 to create, 1 to update, 0 to delete\n  \
        apply sends: 3 requests (2 reads, 1 write), no max_requests_per_second: as fast as the site answers\n  \
        ~ group Café\n      \
        name: \"Cafe\\u{301}\" → \"Café\"\n\n\
        Read 2 state files: 1 site, 2 people, 1 group.\n"
    );
    let apply = roster(dir.path(), &["apply", "--yes"], &CREDS);
    assert_eq!(apply.code, 0, "{}", apply.all());
    let methods: Vec<String> = writes(&sb)
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(methods, ["PUT /api/v1/groups/Cafe%CC%81"]);
    let site = &sb.sandbox.data().periscope["acme"];
    let groups: Vec<&str> = site.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(groups, ["Administrators", "All Users", "Caf\u{e9}"]);
    assert!(site.users[1].groups.contains(&"Caf\u{e9}".to_string()));
    let again = roster(dir.path(), &["plan"], &CREDS);
    assert!(again.stdout.starts_with("No changes"), "{}", again.all());
}

#[test]
fn a_person_whose_only_previous_email_match_is_scim_inactive_is_listed() {
    let sb = sandbox_from_file(&sigma_data(
        &sigma_member("m-old", "barbara@old.com", r#", "is_inactive": true"#),
        "",
    ));
    let dir = sigma_state(
        &sb.url,
        "",
        &person(
            "barbara@acme.com",
            "previous_emails = [\"barbara@old.com\"]\n",
        ),
    );
    let text = roster(dir.path(), &["plan"], &CREDS);
    assert_eq!(text.code, 0, "{}", text.all());
    let kept = "= kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): barbara@acme.com (in previous_emails: barbara@old.com)";
    assert_eq!(
        text.stdout,
        format!(
            "No changes: the live state matches the declared state.\n\nsite acme-sigma (sigma) — no changes\n  {kept}\n\n\
            Read 2 state files: 1 site, 2 people, 0 groups.\n"
        )
    );
    let md = roster(dir.path(), &["plan", "--format", "markdown"], &CREDS);
    assert!(md.stdout.contains(&format!("\n{kept}\n")), "{}", md.stdout);
    let json = roster(dir.path(), &["plan", "--format", "json"], &CREDS);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        doc["sites"][0]["kept"],
        serde_json::json!([{
            "kind": "user",
            "key": "barbara@acme.com",
            "found_as": "barbara@old.com",
            "reason": {"locked": "scim_inactive"}
        }])
    );
    assert!(only_reads(&sb));
}

#[test]
fn an_already_deactivated_old_email_is_left_and_the_new_one_planned() {
    let sb = sandbox_from_file(&sigma_data(
        &[
            sigma_member("m-new", "barbara@acme.com", ""),
            sigma_member("m-old", "barbara@old.com", r#", "is_archived": true"#),
        ]
        .concat(),
        "",
    ));
    let dir = sigma_state(
        &sb.url,
        "",
        &person(
            "barbara@acme.com",
            "previous_emails = [\"barbara@old.com\"]\n",
        )
        .replace("last_name = \"L\"", "last_name = \"Liskov\""),
    );
    let plan = roster(dir.path(), &["plan"], &CREDS);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert_eq!(
        plan.stdout,
        "Plan: 0 to create, 1 to update, 0 to delete.\n\n\
        site acme-sigma (sigma) — 0 to create, 1 to update, 0 to delete\n  \
        apply sends: 5 requests (4 reads, 1 write), no max_requests_per_second: as fast as the site answers\n  \
        ~ user  barbara@acme.com\n      \
        last_name: \"L\" → \"Liskov\"\n\n\
        Read 2 state files: 1 site, 2 people, 0 groups.\n"
    );
    let apply = roster(dir.path(), &["apply", "--yes"], &CREDS);
    assert_eq!(apply.code, 0, "{}", apply.all());
    let org = &sb.sandbox.data().sigma["acme-sigma"];
    let old = org.members.iter().find(|m| m.member_id == "m-old").unwrap();
    assert!(
        old.is_archived && old.email == "barbara@old.com",
        "left as it was"
    );
    let again = roster(dir.path(), &["plan"], &CREDS);
    assert!(again.stdout.starts_with("No changes"), "{}", again.all());
}

#[test]
fn a_scim_inactive_new_owner_is_refused_before_any_write() {
    let sb = sandbox_from_file(&sigma_data(
        &[
            sigma_member("m-scim", "owner@acme.com", r#", "is_inactive": true"#),
            sigma_member("m-tim", "tim@acme.com", r#", "documents": 3"#),
        ]
        .concat(),
        "",
    ));
    let dir = sigma_state(&sb.url, "new_owner = \"owner@acme.com\"", "");
    let out = roster(dir.path(), &["apply", "--yes"], &CREDS);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(
        out.stderr,
        "error: the plan cannot be made:\n  \
        site `acme-sigma`: new_owner `owner@acme.com` must be an active member of the site that SCIM does not manage, to receive deactivated members' documents, and that member is deactivated through SCIM (isInactive): the identity provider owns them. Set new_owner under [sites.acme-sigma] to such a member, or set archive_documents = true instead\n\
        nothing was changed\n"
    );
    assert!(only_reads(&sb), "{:?}", writes(&sb));
}

#[test]
fn an_email_declared_twice_in_nfc_and_nfd_is_a_duplicate() {
    let dir = sigma_state(
        "https://aws-api.sigmacomputing.com",
        "",
        &[
            person("jos\u{e9}@acme.com", ""),
            person("jose\u{301}@acme.com", ""),
        ]
        .concat(),
    );
    let out = roster(dir.path(), &["validate"], &CREDS);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(
        out.stderr,
        "error: state/people.toml:14:9: `jose\u{301}@acme.com` is declared twice (emails compare ignoring case and surrounding spaces, after Unicode NFC)\n  \
        hint: the same address is first used at state/people.toml:8:9; keep one\n\
        error: 1 problem in the state under state; nothing was contacted\n"
    );
}

/// Periscope creates users only in the name of `invited_by`: a site
/// without that user gets a plan error, not an apply whose every create
/// fails after the rest was changed.
#[test]
fn a_periscope_site_without_its_inviter_cannot_plan_creates() {
    let data = periscope_data(
        r#", {"email": "ada@acme.com", "first_name": "Ada", "last_name": "L", "groups": ["Administrators", "All Users"]}"#,
        "",
    )
    .replace(
        r#"{"email": "admin@acme.com", "first_name": "Site", "last_name": "Admin", "groups": ["Administrators", "All Users"]}, "#,
        "",
    );
    let sb = sandbox_from_file(&data);
    let dir = periscope_state(
        &sb.url,
        "\n[[users]]\nemail = \"ada@acme.com\"\nfirst_name = \"Ada\"\nlast_name = \"L\"\ngroups = [\"Administrators\"]\n",
    );
    let out = roster(dir.path(), &["apply", "--yes"], &CREDS);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(
        out.stderr,
        "error: the plan cannot be made:\n  \
        site `acme`: invited_by `admin@acme.com` is not a user of the site, and Periscope creates users only in the name of one; add them in Periscope's UI, or set invited_by to a user the site has\n\
        nothing was changed\n"
    );
    assert!(only_reads(&sb), "{:?}", writes(&sb));
}
