//! End to end: real Sigma organisations — guests and embed users, SCIM
//! provisioning, invitations, team admins and what a deactivated member
//! owns — the built binary against the sandbox over HTTP.

use crate::common::*;
use roster::sandbox::sigma::people::MemberDetails;
use roster::sandbox::sigma::store::{SigmaMember, SigmaTeam};
use roster::sandbox::{SandboxData, SigmaOrg};

const CREDS: [(&str, &str); 2] = [
    ("SIGMA_ID", "acme-sigma"),
    ("SIGMA_SECRET", "sandbox-sigma-secret"),
];

/// A Sigma site at `url` with `extra` settings.
fn site(url: &str, extra: &str) -> String {
    format!(
        r#"[sites.acme-sigma]
provider = "sigma"
base_url = "{url}"
client_id = {{ env = "SIGMA_ID" }}
client_secret = {{ env = "SIGMA_SECRET" }}
new_owner = "admin@acme.com"
{extra}
"#
    )
}

/// The organisation's admin (who owns the API credentials), declared.
const ADMIN: &str = r#"[[users]]
email = "admin@acme.com"
first_name = "Org"
last_name = "Admin"
member_type = "Admin"
"#;

/// An organisation with an admin, the scheduler robot and `members`
/// (id, email, userKind, documents, schedules).
fn org_with(members: &[(&str, &str, &str, u32, u32)]) -> SigmaOrg {
    let mut o = SigmaOrg::new("acme-sigma", "sandbox-sigma-secret", "admin@acme.com");
    for (id, email, kind, documents, schedules) in members {
        let (first, _) = email.split_once('@').unwrap();
        o.members.push(SigmaMember {
            member_id: id.to_string(),
            email: email.to_string(),
            first_name: first.to_string(),
            last_name: "Live".into(),
            member_type: "Viewer".into(),
            is_archived: false,
            is_inactive: false,
            documents: *documents,
        });
        o.member_details.insert(
            id.to_string(),
            MemberDetails {
                user_kind: kind.to_string(),
                schedules: *schedules,
                invitation_sent: None,
                ..MemberDetails::default()
            },
        );
    }
    o
}

fn start(o: SigmaOrg) -> BackgroundSandbox {
    BackgroundSandbox::start(SandboxData {
        sigma: [("acme-sigma".to_string(), o)].into(),
        ..SandboxData::default()
    })
    .unwrap()
}

fn live(sb: &BackgroundSandbox) -> SigmaOrg {
    sb.sandbox.data().sigma["acme-sigma"].clone()
}

fn member<'a>(o: &'a SigmaOrg, email: &str) -> &'a SigmaMember {
    o.members
        .iter()
        .find(|m| m.email == email)
        .unwrap_or_else(|| panic!("no member {email}"))
}

/// Writes other than getting a token, as (method, path).
fn sent(sb: &BackgroundSandbox) -> Vec<(String, String)> {
    writes(sb)
        .into_iter()
        .filter(|r| r.path != "/v2/auth/token")
        .map(|r| (r.method, r.path))
        .collect()
}

fn plan(dir: &std::path::Path) -> Output {
    roster(dir, &["plan", "--detailed-exitcode"], &CREDS)
}

#[test]
fn guests_and_embed_users_are_left_alone_unless_guests_are_to_be_deactivated() {
    let sb = start(org_with(&[
        ("m-gus", "gus@partner.io", "guest", 0, 0),
        ("m-emma", "emma@embed.io", "embed", 0, 0),
        ("m-tom", "tom@acme.com", "internal", 0, 0),
    ]));
    let dir = state_dir(&[("site.toml", &site(&sb.url, "")), ("people.toml", ADMIN)]);
    let out = plan(dir.path());
    assert_eq!(out.code, 2, "{}", out.all());
    assert_eq!(
        out.stdout,
        "Plan: 0 to create, 0 to update, 1 to delete.

site acme-sigma (sigma) — 0 to create, 0 to update, 1 to delete
  seats: Admin 2 → 2, Viewer 3 → 2 (−1)
  apply sends: 8 requests (6 reads, 2 writes), no max_requests_per_second: as fast as the site answers
  - user  tom@acme.com  (not declared; deactivated, 0 documents and 0 schedules to admin@acme.com, tokens revoked)
  = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com
  = kept 1 user (a guest, not declared; unmanaged_guests = \"keep\"): gus@partner.io
  = kept 1 user (an embed user; roster never manages embed users): emma@embed.io

Read 2 state files: 1 site, 1 person, 0 groups.
"
    );
    assert!(only_reads(&sb), "planning writes nothing");
    // The same in the PR comment and in JSON, each with its own reason.
    let md = roster(dir.path(), &["plan", "--format", "markdown"], &CREDS);
    insta::assert_snapshot!(run_snapshot(&md), @r#"
    exit: 0
    --- stdout
    ### roster plan: 0 to create, 0 to update, 1 to delete

    | site | provider | users + | users ~ | users − | groups + | groups ~ | groups − |
    |---|---|--:|--:|--:|--:|--:|--:|
    | acme-sigma | sigma | 0 | 0 | 1 | 0 | 0 | 0 |

    | site | seats before → after | apply sends |
    |---|---|---|
    | acme-sigma | Admin 2 → 2, Viewer 3 → 2 (−1) | 8 requests (6 reads, 2 writes), no max_requests_per_second: as fast as the site answers |

    <details open><summary><b>acme-sigma</b> (sigma): 0 to create, 0 to update, 1 to delete</summary>

    ```diff
    - user  tom@acme.com  (not declared; deactivated, 0 documents and 0 schedules to admin@acme.com, tokens revoked)
    = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com
    = kept 1 user (a guest, not declared; unmanaged_guests = "keep"): gus@partner.io
    = kept 1 user (an embed user; roster never manages embed users): emma@embed.io
    ```

    </details>

    <sub>desired state `[FINGERPRINT]` · roster 0.1.0</sub>

    <sub>Read 2 state files: 1 site, 1 person, 0 groups.</sub>
    --- stderr
    "#);
    let json = roster(dir.path(), &["plan", "--format", "json"], &CREDS);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let kept = &doc["sites"][0]["kept"];
    assert_eq!(kept[1]["key"], "gus@partner.io");
    assert_eq!(kept[1]["reason"], "guest");
    assert_eq!(kept[2]["key"], "emma@embed.io");
    assert_eq!(kept[2]["reason"], "embed");

    // Asked to, roster deactivates guests; embed users stay.
    write_files(
        dir.path(),
        &[(
            "state/site.toml",
            &site(&sb.url, "unmanaged_guests = \"deactivate\""),
        )],
    );
    let out = roster(dir.path(), &["apply", "--yes"], &CREDS);
    assert_eq!(out.code, 0, "{}", out.all());
    insta::assert_snapshot!(run_snapshot(&out), @r"
    exit: 0
    --- stdout
    Plan: 0 to create, 0 to update, 2 to delete.

    site acme-sigma (sigma) — 0 to create, 0 to update, 2 to delete
      seats: Admin 2 → 2, Viewer 3 → 1 (−2)
      apply sends: 12 requests (8 reads, 4 writes), no max_requests_per_second: as fast as the site answers
      - user  gus@partner.io  (not declared; deactivated, 0 documents and 0 schedules to admin@acme.com, tokens revoked)
      - user  tom@acme.com  (not declared; deactivated, 0 documents and 0 schedules to admin@acme.com, tokens revoked)
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com
      = kept 1 user (an embed user; roster never manages embed users): emma@embed.io

    site acme-sigma
      ok      user gus@partner.io deactivated
      ok      user tom@acme.com deactivated
    Apply finished: 2 applied, 0 failed, 0 skipped.
    --- stderr
    Requests to acme-sigma: 12 sent, 0 retried (the plan estimated 12).
    ");
    let o = live(&sb);
    assert!(member(&o, "gus@partner.io").is_archived);
    assert!(member(&o, "tom@acme.com").is_archived);
    assert!(!member(&o, "emma@embed.io").is_archived);
    assert_eq!(plan(dir.path()).code, 0);
}

#[test]
fn a_declared_guest_is_created_as_a_guest_without_an_invitation() {
    let sb = start(org_with(&[]));
    let dir = state_dir(&[
        ("site.toml", &site(&sb.url, "send_invites = false")),
        (
            "people.toml",
            &format!(
                "{ADMIN}\n[[users]]\nemail = \"gail@partner.io\"\nfirst_name = \"Gail\"\nlast_name = \"Guest\"\nkind = \"guest\"\n"
            ),
        ),
    ]);
    let out = plan(dir.path());
    assert_eq!(out.code, 2, "{}", out.all());
    insta::assert_snapshot!(run_snapshot(&out), @r#"
    exit: 2
    --- stdout
    Plan: 1 to create, 0 to update, 0 to delete.

    site acme-sigma (sigma) — 1 to create, 0 to update, 0 to delete
      seats: Admin 2 → 2, none 0 → 1 (+1)
      apply sends: 5 requests (4 reads, 1 write), no max_requests_per_second: as fast as the site answers
      + user  gail@partner.io  first_name="Gail" last_name="Guest" groups=[] kind=guest
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com

    Read 2 state files: 1 site, 2 people, 0 groups.
    --- stderr
    "#);
    let out = roster(dir.path(), &["apply", "--yes"], &CREDS);
    assert_eq!(out.code, 0, "{}", out.all());
    let o = live(&sb);
    let gail = member(&o, "gail@partner.io");
    let details = &o.member_details[&gail.member_id];
    assert_eq!(details.user_kind, "guest");
    assert_eq!(
        details.invitation_sent,
        Some(false),
        "sendInvite=false was sent"
    );
    assert_eq!(plan(dir.path()).code, 0);
}

#[test]
fn invitations_are_sent_by_default() {
    let sb = start(org_with(&[]));
    let dir = state_dir(&[
        ("site.toml", &site(&sb.url, "")),
        (
            "people.toml",
            &format!(
                "{ADMIN}\n[[users]]\nemail = \"ada@acme.com\"\nfirst_name = \"Ada\"\nlast_name = \"Lovelace\"\n"
            ),
        ),
    ]);
    let out = roster(dir.path(), &["apply", "--yes"], &CREDS);
    assert_eq!(out.code, 0, "{}", out.all());
    let o = live(&sb);
    let ada = member(&o, "ada@acme.com");
    assert_eq!(o.member_details[&ada.member_id].invitation_sent, Some(true));
    assert_eq!(o.member_details[&ada.member_id].user_kind, "internal");
}

#[test]
fn an_embed_kind_is_refused_with_a_hint() {
    let dir = state_dir(&[
        ("site.toml", &site("http://127.0.0.1:9", "")),
        (
            "people.toml",
            "[[users]]\nemail = \"e@acme.com\"\nfirst_name = \"E\"\nlast_name = \"M\"\nkind = \"embed\"\n",
        ),
    ]);
    let out = roster(dir.path(), &["validate"], &CREDS);
    assert_eq!(out.code, 1, "{}", out.all());
    insta::assert_snapshot!(run_snapshot(&out), @r#"
    exit: 1
    --- stdout
    --- stderr
    error: state/people.toml:5:8: `e@acme.com`: unknown kind `embed`
      hint: roster never creates or manages embed users: Sigma makes them when an embed is opened. Remove the person, or use kind = "guest" or "internal"
    error: 1 problem in the state under state; nothing was contacted
    "#);
}

/// Ada and Tom (SCIM-owned), Tom in the team Analysts and in Old Team.
fn scim_org() -> SigmaOrg {
    let mut o = org_with(&[
        ("m-ada", "ada@acme.com", "internal", 0, 0),
        ("m-tom", "tom@acme.com", "internal", 0, 0),
    ]);
    o.teams.push(SigmaTeam {
        team_id: "team-a".into(),
        name: "Analysts".into(),
        description: Some("old".into()),
        visibility: "private".into(),
        members: vec!["m-tom".into()],
    });
    // Not declared: deleting it would take Tom's SCIM-owned membership.
    o.teams.push(SigmaTeam {
        team_id: "team-old".into(),
        name: "Old Team".into(),
        description: None,
        visibility: "private".into(),
        members: vec!["m-tom".into()],
    });
    o
}

#[test]
fn a_scim_site_plans_no_member_writes_and_lists_the_differences() {
    let sb = start(scim_org());
    let dir = state_dir(&[
        ("site.toml", &site(&sb.url, "provisioning = \"scim\"")),
        (
            "people.toml",
            &format!(
                r#"{ADMIN}
[[users]]
email = "ada@acme.com"
first_name = "Ada"
last_name = "Live"
groups = ["Analysts"]

[[users]]
email = "linus@acme.com"
first_name = "Linus"
last_name = "Torvalds"

[[groups]]
name = "Analysts"
description = "new"
"#
            ),
        ),
    ]);
    let out = plan(dir.path());
    assert_eq!(out.code, 2, "{}", out.all());
    assert_eq!(
        out.stdout,
        r#"Plan: 0 to create, 1 to update, 0 to delete.

site acme-sigma (sigma) — 0 to create, 1 to update, 0 to delete
  apply sends: 7 requests (6 reads, 1 write), no max_requests_per_second: as fast as the site answers
  ~ group Analysts
      description: "old" → "new"
  = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com
  = owned by SCIM: not changed (change it in the identity provider):
      ~ user  ada@acme.com
          first_name: "ada" → "Ada"
          groups: +Analysts
      + user  linus@acme.com  first_name="Linus" last_name="Torvalds" groups=[]
      - user  tom@acme.com  (not declared; deactivated, documents to admin@acme.com, tokens revoked)
      - group Old Team  (not declared; deleted)

Read 2 state files: 1 site, 3 people, 1 group.
"#
    );
    let out = roster(dir.path(), &["apply", "--yes"], &CREDS);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        sent(&sb),
        vec![("PATCH".to_string(), "/v2/teams/team-a".to_string())],
        "only the team's description is written"
    );
    let o = live(&sb);
    assert_eq!(member(&o, "ada@acme.com").first_name, "ada");
    assert!(!member(&o, "tom@acme.com").is_archived);
    assert!(o.members.iter().all(|m| m.email != "linus@acme.com"));
    assert_eq!(o.teams[0].members, vec!["m-tom".to_string()]);
    assert_eq!(
        o.teams[1].name, "Old Team",
        "a team SCIM members are in stays"
    );
    assert_eq!(o.teams[0].description.as_deref(), Some("new"));
    // Nothing left to change; the SCIM notes stay.
    let out = plan(dir.path());
    assert_eq!(out.code, 0, "{}", out.all());
    insta::assert_snapshot!(run_snapshot(&out), @r#"
    exit: 0
    --- stdout
    No changes: the live state matches the declared state.

    site acme-sigma (sigma) — no changes
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com
      = owned by SCIM: not changed (change it in the identity provider):
          ~ user  ada@acme.com
              first_name: "ada" → "Ada"
              groups: +Analysts
          + user  linus@acme.com  first_name="Linus" last_name="Torvalds" groups=[]
          - user  tom@acme.com  (not declared; deactivated, documents to admin@acme.com, tokens revoked)
          - group Old Team  (not declared; deleted)

    Read 2 state files: 1 site, 3 people, 1 group.
    --- stderr
    "#);
}

#[test]
fn team_admins_are_set_when_a_member_is_created_and_other_differences_are_notes() {
    let mut o = org_with(&[("m-bob", "bob@acme.com", "internal", 0, 0)]);
    o.teams.push(SigmaTeam {
        team_id: "team-a".into(),
        name: "Analysts".into(),
        description: None,
        visibility: "private".into(),
        members: vec!["m-bob".into()],
    });
    o.team_admins.insert("team-a".into(), vec!["m-bob".into()]);
    let sb = start(o);
    let dir = state_dir(&[
        ("site.toml", &site(&sb.url, "")),
        (
            "people.toml",
            &format!(
                r#"{ADMIN}
[[users]]
email = "ada@acme.com"
first_name = "Ada"
last_name = "Lovelace"
groups = ["Analysts"]

[[users]]
email = "bob@acme.com"
first_name = "bob"
last_name = "Live"
groups = ["Analysts"]

[[groups]]
name = "Analysts"
admins = ["ada@acme.com"]
"#
            ),
        ),
    ]);
    let out = plan(dir.path());
    assert_eq!(out.code, 2, "{}", out.all());
    assert_eq!(
        out.stdout,
        r#"Plan: 1 to create, 0 to update, 0 to delete.

site acme-sigma (sigma) — 1 to create, 0 to update, 0 to delete
  seats: Admin 2 → 2, none 0 → 1 (+1), Viewer 1 → 1
  apply sends: 6 requests (5 reads, 1 write), no max_requests_per_second: as fast as the site answers
  + user  ada@acme.com  first_name="Ada" last_name="Lovelace" groups=[Analysts] admin_of=[Analysts]
  = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com
  = team admins: not changed (Sigma's API sets isTeamAdmin only when it creates a member; change it in Sigma's UI):
      ~ group Analysts
          admins: -bob@acme.com

Read 2 state files: 1 site, 3 people, 1 group.
"#
    );
    let out = roster(dir.path(), &["apply", "--yes"], &CREDS);
    assert_eq!(out.code, 0, "{}", out.all());
    let o = live(&sb);
    let ada = member(&o, "ada@acme.com").member_id.clone();
    assert_eq!(o.team_admins["team-a"], vec!["m-bob".to_string(), ada]);
    // The next plan changes nothing; bob's admin rights stay a note.
    let out = plan(dir.path());
    assert_eq!(out.code, 0, "{}", out.all());
    insta::assert_snapshot!(run_snapshot(&out), @r"
    exit: 0
    --- stdout
    No changes: the live state matches the declared state.

    site acme-sigma (sigma) — no changes
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com
      = team admins: not changed (Sigma's API sets isTeamAdmin only when it creates a member; change it in Sigma's UI):
          ~ group Analysts
              admins: -bob@acme.com

    Read 2 state files: 1 site, 3 people, 1 group.
    --- stderr
    ");
}

#[test]
fn admins_must_be_declared_members_of_a_sigma_team() {
    let dir = state_dir(&[
        (
            "site.toml",
            &format!(
                "{}\n[sites.acme]\nprovider = \"periscope\"\nsite = \"acme\"\napi_key = {{ env = \"K\" }}\ninvited_by = \"admin@acme.com\"\n",
                site("http://127.0.0.1:9", "")
            ),
        ),
        (
            "people.toml",
            r#"[[users]]
email = "ada@acme.com"
first_name = "Ada"
last_name = "Lovelace"
groups = ["Analysts"]

[[groups]]
name = "Analysts"
access = "view"
admins = ["ada@acme.com", "bob@acme.com"]

[[groups]]
name = "Readers"
access = "view"
sites = ["acme"]
admins = ["ada@acme.com"]
"#,
        ),
    ]);
    let out = roster(dir.path(), &["validate"], &[("K", "k")]);
    assert_eq!(out.code, 1, "{}", out.all());
    insta::assert_snapshot!(run_snapshot(&out), @r"
    exit: 1
    --- stdout
    --- stderr
    error: state/people.toml:10:27: group `Analysts`: admin `bob@acme.com` is not a declared member of the group
      hint: add `Analysts` to that person's groups, or remove them from admins
    error: state/people.toml:16:11: group `Readers`: admins are Sigma team admins, and the group is on no Sigma site
      hint: remove `admins`, or put the group on a Sigma site with `sites`
    error: 2 problems in the state under state; nothing was contacted
    ");
}

#[test]
fn a_deactivation_says_what_the_member_owns_and_archives_schedules_when_asked() {
    let sb = start(org_with(&[
        ("m-tom", "tom@acme.com", "internal", 3, 2),
        ("m-ann", "ann@acme.com", "internal", 5, 4),
    ]));
    let dir = state_dir(&[
        (
            "site.toml",
            &site(&sb.url, "archive_scheduled_exports = true"),
        ),
        (
            "people.toml",
            &format!(
                "{ADMIN}\n[[users]]\nemail = \"ann@acme.com\"\nfirst_name = \"ann\"\nlast_name = \"Live\"\n"
            ),
        ),
    ]);
    let out = plan(dir.path());
    assert_eq!(out.code, 2, "{}", out.all());
    assert_eq!(
        out.stdout,
        "Plan: 0 to create, 0 to update, 1 to delete.

site acme-sigma (sigma) — 0 to create, 0 to update, 1 to delete
  seats: Admin 2 → 2, Viewer 2 → 1 (−1)
  apply sends: 8 requests (6 reads, 2 writes), no max_requests_per_second: as fast as the site answers
  - user  tom@acme.com  (not declared; deactivated, 3 documents to admin@acme.com, 2 schedules archived, tokens revoked)
  = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com

Read 2 state files: 1 site, 2 people, 0 groups.
"
    );
    // Only the member to deactivate was asked what they own.
    let mut asked: Vec<String> = sb
        .sandbox
        .requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| p.ends_with("/files") || p.ends_with("/schedules"))
        .collect();
    asked.sort();
    assert_eq!(
        asked,
        ["/v2/members/m-tom/files", "/v2/members/m-tom/schedules"]
    );
    let out = roster(dir.path(), &["apply", "--yes"], &CREDS);
    assert_eq!(out.code, 0, "{}", out.all());
    let o = live(&sb);
    assert!(member(&o, "tom@acme.com").is_archived);
    assert_eq!(
        member(&o, "admin@acme.com").documents,
        3,
        "documents to new_owner"
    );
    assert_eq!(o.archived_schedules, 2, "archiveScheduledExports was sent");
    assert_eq!(o.details("m-tom").schedules, 0);
    assert_eq!(o.details("m-ann").schedules, 4);
    assert_eq!(plan(dir.path()).code, 0);
}

#[test]
fn a_declared_kind_is_applied_and_a_declared_embed_user_is_left_alone() {
    let sb = start(org_with(&[
        ("m-gus", "gus@partner.io", "internal", 0, 0),
        ("m-emma", "emma@embed.io", "embed", 0, 0),
    ]));
    let dir = state_dir(&[
        ("site.toml", &site(&sb.url, "")),
        (
            "people.toml",
            &format!(
                r#"{ADMIN}
[[users]]
email = "gus@partner.io"
first_name = "gus"
last_name = "Live"
kind = "guest"

[[users]]
email = "emma@embed.io"
first_name = "Emma"
last_name = "Declared"
"#
            ),
        ),
    ]);
    let out = plan(dir.path());
    assert_eq!(out.code, 2, "{}", out.all());
    assert_eq!(
        out.stdout,
        r#"Plan: 0 to create, 1 to update, 0 to delete.

site acme-sigma (sigma) — 0 to create, 1 to update, 0 to delete
  apply sends: 5 requests (4 reads, 1 write), no max_requests_per_second: as fast as the site answers
  ~ user  gus@partner.io
      kind: "internal" → "guest"
  = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com
  = kept 1 user (an embed user; roster never manages embed users): emma@embed.io

Read 2 state files: 1 site, 3 people, 0 groups.
"#
    );
    let out = roster(dir.path(), &["apply", "--yes"], &CREDS);
    assert_eq!(out.code, 0, "{}", out.all());
    let o = live(&sb);
    assert_eq!(o.details("m-gus").user_kind, "guest");
    assert_eq!(
        member(&o, "emma@embed.io").first_name,
        "emma",
        "the embed user is untouched"
    );
    assert_eq!(
        sent(&sb),
        vec![("PATCH".to_string(), "/v2/members/m-gus".to_string())]
    );
    assert_eq!(plan(dir.path()).code, 0);
}

#[test]
fn import_declares_guests_as_guests_and_leaves_embed_users_out() {
    let sb = start(org_with(&[
        ("m-gus", "gus@partner.io", "guest", 0, 0),
        ("m-emma", "emma@embed.io", "embed", 0, 0),
    ]));
    let dir = state_dir(&[("site.toml", &site(&sb.url, ""))]);
    let out = roster(dir.path(), &["import", "--sandbox-url", &sb.url], &CREDS);
    assert_eq!(out.code, 0, "{}", out.all());
    let mut written = String::new();
    for entry in walk(&dir.path().join("state")) {
        written.push_str(&std::fs::read_to_string(entry).unwrap());
    }
    assert!(
        written.contains("email = \"gus@partner.io\"\nfirst_name = \"gus\"\nlast_name = \"Live\"\nmember_type = \"Viewer\"\nkind = \"guest\"\n"),
        "{written}"
    );
    assert!(!written.contains("emma@embed.io"), "{written}");
    let out = plan(dir.path());
    assert_eq!(out.code, 0, "{}", out.all());
    insta::assert_snapshot!(run_snapshot(&out), @r"
    exit: 0
    --- stdout
    No changes: the live state matches the declared state.

    site acme-sigma (sigma) — no changes
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com
      = kept 1 user (an embed user; roster never manages embed users): emma@embed.io

    Read 2 state files: 1 site, 2 people, 0 groups.
    --- stderr
    ");
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
