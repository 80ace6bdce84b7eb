//! End to end: privileged changes (admin power given, or an administrator's
//! account moved to another email) are marked in every format, get room
//! first in the PR comment, and are refused by plan and apply until the
//! site's `allow_privileged` names the person; the built binary against
//! the sandbox over HTTP.

use crate::common::*;
use roster::sandbox::sigma::access::AccountTypeDetails;
use roster::sandbox::sigma::store::SigmaMember;
use roster::sandbox::{SandboxData, SigmaOrg};

const CREDS: [(&str, &str); 2] = [
    ("SIGMA_ID", "acme-sigma"),
    ("SIGMA_SECRET", "sandbox-sigma-secret"),
];

/// A Sigma site at `url` that keeps undeclared members, with `extra`.
fn sigma_site(url: &str, extra: &str) -> String {
    format!(
        r#"[sites.acme-sigma]
provider = "sigma"
base_url = "{url}"
client_id = {{ env = "SIGMA_ID" }}
client_secret = {{ env = "SIGMA_SECRET" }}
unmanaged_users = "keep"
{extra}
"#
    )
}

/// A declared person: `email`, account type, more keys.
fn person(email: &str, member_type: &str, extra: &str) -> String {
    let (first, _) = email.split_once('@').unwrap();
    format!(
        "[[users]]\nemail = \"{email}\"\nfirst_name = \"{first}\"\nlast_name = \"Live\"\nmember_type = \"{member_type}\"\n{extra}\n"
    )
}

/// An organisation with its admin (the credentials' owner) and `members`
/// (id, email, account type, archived); a custom account type `Ops` that
/// only views, and `Root` that may use the Administration portal.
fn org(members: &[(&str, &str, &str, bool)]) -> SigmaOrg {
    let mut o = SigmaOrg::new("acme-sigma", "sandbox-sigma-secret", "admin@acme.com");
    for (id, email, member_type, archived) in members {
        let (first, _) = email.split_once('@').unwrap();
        o.members.push(SigmaMember {
            member_id: id.to_string(),
            email: email.to_string(),
            first_name: first.to_string(),
            last_name: "Live".into(),
            member_type: member_type.to_string(),
            is_archived: *archived,
            is_inactive: false,
            documents: 3,
        });
    }
    for (id, name, permissions) in [
        ("at-ops", "Ops", vec!["view-worksheet"]),
        ("at-root", "Root", vec!["view-worksheet", "admin-portal"]),
    ] {
        o.account_types.push(name.into());
        o.access.account_types.insert(
            name.into(),
            AccountTypeDetails {
                account_type_id: id.into(),
                description: Some(format!("{name} people")),
                permissions: Some(permissions.into_iter().map(String::from).collect()),
                custom: true,
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

fn member_type_of(sb: &BackgroundSandbox, email: &str) -> Option<(String, bool)> {
    let data = sb.sandbox.data();
    let m = data.sigma["acme-sigma"]
        .members
        .iter()
        .find(|m| m.email == email)?;
    Some((m.member_type.clone(), m.is_archived))
}

fn run(dir: &std::path::Path, args: &[&str]) -> Output {
    roster(dir, args, &CREDS)
}

/// The plan's `privileged` entries of its one site, as pretty JSON.
fn privileged_json(dir: &std::path::Path) -> String {
    let out = run(dir, &["plan", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    serde_json::to_string_pretty(&doc["sites"][0]["privileged"]).unwrap()
}

/// The markdown plan's caution about privileged changes.
fn markdown_caution(dir: &std::path::Path) -> String {
    let out = run(dir, &["plan", "--format", "markdown"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let at = out
        .stdout
        .find("> [!CAUTION]\n> **")
        .unwrap_or_else(|| panic!("no caution in\n{}", out.stdout));
    out.stdout[at..].split("\n\n").next().unwrap().to_string()
}

/// Apply without the acknowledgement is refused with nothing written, then
/// with it (`allow_privileged` naming `email`) carried out.
fn refused_then_applied(sb: &BackgroundSandbox, files: &[(&str, &str)], email: &str) {
    let dir = state_dir(files);
    let out = run(dir.path(), &["apply", "--yes"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains("not acknowledged; refusing to apply; nothing was changed"),
        "{}",
        out.stderr
    );
    assert!(only_reads(sb), "a write was sent: {:?}", writes(sb));
    let site = files[0].1.replace(
        "unmanaged_users = \"keep\"",
        &format!("unmanaged_users = \"keep\"\nallow_privileged = [\"{email}\"]"),
    );
    let mut acknowledged = files.to_vec();
    acknowledged[0].1 = &site;
    let dir = state_dir(&acknowledged);
    let out = run(dir.path(), &["apply", "--yes"]);
    assert_eq!(out.code, 0, "{}", out.all());
    // Applied, it needs no acknowledgement any more, and says so.
    let out = run(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains(&format!(
            "note: site `acme-sigma`: allow_privileged names {email}, and this plan gives them no admin power"
        )),
        "{}",
        out.stdout
    );
}

#[test]
fn renaming_an_admins_email_while_lowering_the_type_is_still_privileged() {
    let sb = start(org(&[("m-grace", "grace@acme.com", "Admin", false)]));
    let site = sigma_site(&sb.url, "");
    let mallory = person(
        "mallory@acme.com",
        "Creator",
        "previous_emails = [\"grace@acme.com\"]",
    );
    let files = [("site.toml", site.as_str()), ("people.toml", &mallory)];
    let dir = state_dir(&files);
    let out = run(dir.path(), &["plan"]);
    assert_eq!(out.code, 1, "{}", run_snapshot(&out));
    let stdout = &out.stdout;
    assert!(
        stdout.contains("! privileged: mallory@acme.com takes over the administrator account of grace@acme.com (email renamed): account type Admin"),
        "{stdout}"
    );
    refused_then_applied(&sb, &files, "mallory@acme.com");
    assert_eq!(
        member_type_of(&sb, "mallory@acme.com"),
        Some(("Creator".into(), false))
    );
}

#[test]
fn renaming_an_admins_email_is_privileged_and_refused_until_acknowledged() {
    let sb = start(org(&[("m-grace", "grace@acme.com", "Admin", false)]));
    let site = sigma_site(&sb.url, "");
    let mallory = person(
        "mallory@acme.com",
        "Admin",
        "previous_emails = [\"grace@acme.com\"]",
    );
    let files = [("site.toml", site.as_str()), ("people.toml", &mallory)];
    let dir = state_dir(&files);
    let out = run(dir.path(), &["plan"]);
    insta::assert_snapshot!(run_snapshot(&out), @r#"
    exit: 1
    --- stdout
    Plan: 0 to create, 1 to update, 0 to delete.

    site acme-sigma (sigma) — 0 to create, 1 to update, 0 to delete
      apply sends: 12 requests (11 reads, 1 write), no max_requests_per_second: as fast as the site answers
      ~ user  mallory@acme.com
          email: "grace@acme.com" → "mallory@acme.com"
          first_name: "grace" → "mallory"
          ! privileged: mallory@acme.com takes over the administrator account of grace@acme.com (email renamed): account type Admin; apply refuses it until allow_privileged under [sites.acme-sigma] names mallory@acme.com
      = kept 1 user (not declared, unmanaged_users = "keep"): admin@acme.com
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com

    Read 2 state files: 1 site, 1 person, 0 groups.
    --- stderr
    error: 1 privileged change not acknowledged; apply will refuse this plan:
      site `acme-sigma`: mallory@acme.com takes over the administrator account of grace@acme.com (email renamed): account type Admin
    If this is intended, write in the state, have it reviewed, and plan again:
      allow_privileged = ["mallory@acme.com"] under [sites.acme-sigma]
    "#);
    insta::assert_snapshot!(markdown_caution(dir.path()), @r#"
    > [!CAUTION]
    > **1 privileged change** (admin power or an administrator's account); 1 not acknowledged, which `roster apply` refuses:
    > - acme-sigma: mallory&#64;&#8203;acme.com takes over the administrator account of grace&#64;&#8203;acme.com (email renamed): account type Admin; apply refuses it until allow_privileged under &#91;sites.acme-sigma&#93; names mallory&#64;&#8203;acme.com
    "#);
    insta::assert_snapshot!(privileged_json(dir.path()), @r#"
    [
      {
        "acknowledged": false,
        "change": 0,
        "email": "mallory@acme.com",
        "from": "grace@acme.com",
        "how": "renamed",
        "power": {
          "name": "Admin",
          "via": "account_type"
        }
      }
    ]
    "#);
    refused_then_applied(&sb, &files, "mallory@acme.com");
    assert_eq!(member_type_of(&sb, "grace@acme.com"), None);
    assert_eq!(
        member_type_of(&sb, "mallory@acme.com"),
        Some(("Admin".into(), false))
    );
}

#[test]
fn a_member_type_made_admin_is_privileged() {
    let sb = start(org(&[("m-ken", "ken@acme.com", "Viewer", false)]));
    let site = sigma_site(&sb.url, "");
    let ken = person("ken@acme.com", "Admin", "");
    let files = [("site.toml", site.as_str()), ("people.toml", &ken)];
    let dir = state_dir(&files);
    insta::assert_snapshot!(markdown_caution(dir.path()), @r#"
    > [!CAUTION]
    > **1 privileged change** (admin power or an administrator's account); 1 not acknowledged, which `roster apply` refuses:
    > - acme-sigma: ken&#64;&#8203;acme.com gains admin power: account type Admin; apply refuses it until allow_privileged under &#91;sites.acme-sigma&#93; names ken&#64;&#8203;acme.com
    "#);
    insta::assert_snapshot!(privileged_json(dir.path()), @r#"
    [
      {
        "acknowledged": false,
        "change": 0,
        "email": "ken@acme.com",
        "how": "promoted",
        "power": {
          "name": "Admin",
          "via": "account_type"
        }
      }
    ]
    "#);
    refused_then_applied(&sb, &files, "ken@acme.com");
    assert_eq!(
        member_type_of(&sb, "ken@acme.com"),
        Some(("Admin".into(), false))
    );
}

#[test]
fn a_live_custom_account_type_with_admin_level_permissions_is_privileged() {
    // `Root` is not declared in the state: its permissions are read all the
    // same, and `admin-portal` only the built-in Admin type has.
    let sb = start(org(&[("m-ken", "ken@acme.com", "Viewer", false)]));
    let site = sigma_site(&sb.url, "");
    let ken = person("ken@acme.com", "Root", "");
    let files = [("site.toml", site.as_str()), ("people.toml", &ken)];
    let dir = state_dir(&files);
    let out = run(dir.path(), &["plan"]);
    insta::assert_snapshot!(run_snapshot(&out), @r#"
    exit: 1
    --- stdout
    Plan: 0 to create, 1 to update, 0 to delete.

    site acme-sigma (sigma) — 0 to create, 1 to update, 0 to delete
      seats: Admin 2 → 2, Root 0 → 1 (+1), Viewer 1 → 0 (−1)
      apply sends: 12 requests (11 reads, 1 write), no max_requests_per_second: as fast as the site answers
      ~ user  ken@acme.com
          member_type: "Viewer" → "Root"
          ! privileged: ken@acme.com gains admin power: account type Root (admin-level permissions: admin-portal); apply refuses it until allow_privileged under [sites.acme-sigma] names ken@acme.com
      = kept 1 user (not declared, unmanaged_users = "keep"): admin@acme.com
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com

    Read 2 state files: 1 site, 1 person, 0 groups.
    --- stderr
    error: 1 privileged change not acknowledged; apply will refuse this plan:
      site `acme-sigma`: ken@acme.com gains admin power: account type Root (admin-level permissions: admin-portal)
    If this is intended, write in the state, have it reviewed, and plan again:
      allow_privileged = ["ken@acme.com"] under [sites.acme-sigma]
    "#);
    insta::assert_snapshot!(privileged_json(dir.path()), @r#"
    [
      {
        "acknowledged": false,
        "change": 0,
        "email": "ken@acme.com",
        "how": "promoted",
        "power": {
          "admin_permissions": [
            "admin-portal"
          ],
          "name": "Root",
          "via": "account_type"
        }
      }
    ]
    "#);
    refused_then_applied(&sb, &files, "ken@acme.com");
}

#[test]
fn a_custom_account_type_gaining_admin_level_permissions_makes_its_people_privileged() {
    let sb = start(org(&[
        ("m-olga", "olga@acme.com", "Ops", false),
        ("m-otto", "otto@acme.com", "Ops", true),
    ]));
    let site = sigma_site(&sb.url, "");
    let ops = r#"[[account_types]]
name = "Ops"
description = "Ops people"
permissions = ["view-worksheet", "admin-portal"]
"#;
    let files = [("site.toml", site.as_str()), ("types.toml", ops)];
    let dir = state_dir(&files);
    let out = run(dir.path(), &["plan"]);
    // Olga gains the power; Otto, deactivated, does not until reactivated.
    insta::assert_snapshot!(run_snapshot(&out), @r#"
    exit: 1
    --- stdout
    Plan: 0 to create, 1 to update, 0 to delete.

    site acme-sigma (sigma) — 0 to create, 1 to update, 0 to delete
      apply sends: 16 requests (12 reads, 4 writes), no max_requests_per_second: as fast as the site answers
      ~ account_type Ops  (replaced: Sigma cannot edit an account type; deleted and created again)
          permissions: +admin-portal
          people: 2 people held on Viewer meanwhile, then moved back to Ops: olga@acme.com, otto@acme.com
          ! privileged: olga@acme.com gains admin power as their account type gains admin-level permissions: account type Ops (admin-level permissions: admin-portal); apply refuses it until allow_privileged under [sites.acme-sigma] names olga@acme.com
      = kept 2 users (not declared, unmanaged_users = "keep"): admin@acme.com, olga@acme.com
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com
      = kept 1 account_type (not declared, unmanaged_account_types = "keep"): Root

    Read 2 state files: 1 site, 0 people, 0 groups.
    --- stderr
    error: 1 privileged change not acknowledged; apply will refuse this plan:
      site `acme-sigma`: olga@acme.com gains admin power as their account type gains admin-level permissions: account type Ops (admin-level permissions: admin-portal)
    If this is intended, write in the state, have it reviewed, and plan again:
      allow_privileged = ["olga@acme.com"] under [sites.acme-sigma]
    "#);
    insta::assert_snapshot!(markdown_caution(dir.path()), @r#"
    > [!CAUTION]
    > **1 privileged change** (admin power or an administrator's account); 1 not acknowledged, which `roster apply` refuses:
    > - acme-sigma: olga&#64;&#8203;acme.com gains admin power as their account type gains admin-level permissions: account type Ops (admin-level permissions: admin-portal); apply refuses it until allow_privileged under &#91;sites.acme… (+27 chars)
    "#);
    insta::assert_snapshot!(privileged_json(dir.path()), @r#"
    [
      {
        "acknowledged": false,
        "change": 0,
        "email": "olga@acme.com",
        "how": "account_type_gains",
        "power": {
          "admin_permissions": [
            "admin-portal"
          ],
          "name": "Ops",
          "via": "account_type"
        }
      }
    ]
    "#);
    refused_then_applied(&sb, &files, "olga@acme.com");
}

#[test]
fn a_person_created_as_admin_is_privileged() {
    let sb = start(org(&[]));
    let site = sigma_site(&sb.url, "");
    let eve = person("eve@acme.com", "admin", "");
    let files = [("site.toml", site.as_str()), ("people.toml", &eve)];
    let dir = state_dir(&files);
    let out = run(dir.path(), &["plan"]);
    insta::assert_snapshot!(run_snapshot(&out), @r#"
    exit: 1
    --- stdout
    Plan: 1 to create, 0 to update, 0 to delete.

    site acme-sigma (sigma) — 1 to create, 0 to update, 0 to delete
      seats: Admin 2 → 3 (+1)
      apply sends: 12 requests (11 reads, 1 write), no max_requests_per_second: as fast as the site answers
      + user  eve@acme.com  first_name="eve" last_name="Live" member_type="Admin" groups=[]
          ! privileged: eve@acme.com is created with admin power: account type Admin; apply refuses it until allow_privileged under [sites.acme-sigma] names eve@acme.com
      = kept 1 user (not declared, unmanaged_users = "keep"): admin@acme.com
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com

    Read 2 state files: 1 site, 1 person, 0 groups.
    --- stderr
    error: 1 privileged change not acknowledged; apply will refuse this plan:
      site `acme-sigma`: eve@acme.com is created with admin power: account type Admin
    If this is intended, write in the state, have it reviewed, and plan again:
      allow_privileged = ["eve@acme.com"] under [sites.acme-sigma]
    "#);
    insta::assert_snapshot!(privileged_json(dir.path()), @r#"
    [
      {
        "acknowledged": false,
        "change": 0,
        "email": "eve@acme.com",
        "how": "created",
        "power": {
          "name": "Admin",
          "via": "account_type"
        }
      }
    ]
    "#);
    refused_then_applied(&sb, &files, "eve@acme.com");
    assert_eq!(
        member_type_of(&sb, "eve@acme.com"),
        Some(("Admin".into(), false))
    );
}

#[test]
fn reactivating_an_admin_is_privileged() {
    let sb = start(org(&[("m-ivan", "ivan@acme.com", "Admin", true)]));
    let site = sigma_site(&sb.url, "");
    let ivan = person("ivan@acme.com", "Admin", "");
    let files = [("site.toml", site.as_str()), ("people.toml", &ivan)];
    let dir = state_dir(&files);
    let out = run(dir.path(), &["plan"]);
    insta::assert_snapshot!(run_snapshot(&out), @r#"
    exit: 1
    --- stdout
    Plan: 0 to create, 1 to update, 0 to delete.

    site acme-sigma (sigma) — 0 to create, 1 to update, 0 to delete
      seats: Admin 2 → 3 (+1)
      apply sends: 12 requests (11 reads, 1 write), no max_requests_per_second: as fast as the site answers
      ~ user  ivan@acme.com
          active: false → true (reactivated)
          ! privileged: ivan@acme.com is reactivated with admin power: account type Admin; apply refuses it until allow_privileged under [sites.acme-sigma] names ivan@acme.com
      = kept 1 user (not declared, unmanaged_users = "keep"): admin@acme.com
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com

    Read 2 state files: 1 site, 1 person, 0 groups.
    --- stderr
    error: 1 privileged change not acknowledged; apply will refuse this plan:
      site `acme-sigma`: ivan@acme.com is reactivated with admin power: account type Admin
    If this is intended, write in the state, have it reviewed, and plan again:
      allow_privileged = ["ivan@acme.com"] under [sites.acme-sigma]
    "#);
    insta::assert_snapshot!(privileged_json(dir.path()), @r#"
    [
      {
        "acknowledged": false,
        "change": 0,
        "email": "ivan@acme.com",
        "how": "reactivated",
        "power": {
          "name": "Admin",
          "via": "account_type"
        }
      }
    ]
    "#);
    refused_then_applied(&sb, &files, "ivan@acme.com");
    assert_eq!(
        member_type_of(&sb, "ivan@acme.com"),
        Some(("Admin".into(), false))
    );
}

/// The seeded Periscope site with `people` declared (undeclared users kept).
fn periscope_state(url: &str, people: &str, extra: &str) -> tempfile::TempDir {
    let site = periscope_site(url, "ACME_KEY")
        + &format!("unmanaged_users = \"keep\"\nunmanaged_groups = \"keep\"\n{extra}\n");
    let groups = r#"[[groups]]
name = "Analysts"
access = "discovery"
"#;
    state_dir(&[
        ("site.toml", &site),
        ("groups.toml", groups),
        ("people.toml", people),
    ])
}

const PERISCOPE_KEY: [(&str, &str); 1] = [("ACME_KEY", "sandbox-periscope-key")];

#[test]
fn joining_the_administrators_group_or_being_created_in_it_is_privileged() {
    let sb = seeded_sandbox();
    let people = r#"[[users]]
email = "grace@acme.com"
first_name = "Grace"
last_name = "Hopper"
groups = ["Analysts", "Administrators"]

[[users]]
email = "new.admin@acme.com"
first_name = "New"
last_name = "Admin"
groups = ["Administrators"]
"#;
    let dir = periscope_state(&sb.url, people, "");
    let out = roster(dir.path(), &["plan"], &PERISCOPE_KEY);
    insta::assert_snapshot!(run_snapshot(&out), @r#"
    exit: 1
    --- stdout
    Plan: 1 to create, 1 to update, 0 to delete.

    site acme (periscope) — 1 to create, 1 to update, 0 to delete
      seats: sql 11 → 12 (+1)
      apply sends: 4 requests (2 reads, 2 writes), no max_requests_per_second: as fast as the site answers
      ~ user  grace@acme.com
          groups: +Administrators
          ! privileged: grace@acme.com gains admin power: group Administrators; apply refuses it until allow_privileged under [sites.acme] names grace@acme.com
      + user  new.admin@acme.com  first_name="New" last_name="Admin" groups=[Administrators]
          ! privileged: new.admin@acme.com is created with admin power: group Administrators; apply refuses it until allow_privileged under [sites.acme] names new.admin@acme.com
      = kept 3 groups (not declared, unmanaged_groups = "keep"): Contractors, Finance, Marketing
      = kept 9 users (not declared, unmanaged_users = "keep"): ada@acme.com, alan@acme.com, barbara@acme.com, donald@acme.com, edsger@acme.com, john@acme.com, katherine@acme.com, margaret@acme.com, tim@acme.com
      = kept 1 user (the site's invited_by, never removed): admin@acme.com

    Read 3 state files: 1 site, 2 people, 1 group.
    --- stderr
    error: 2 privileged changes not acknowledged; apply will refuse this plan:
      site `acme`: grace@acme.com gains admin power: group Administrators
      site `acme`: new.admin@acme.com is created with admin power: group Administrators
    If this is intended, write in the state, have it reviewed, and plan again:
      allow_privileged = ["grace@acme.com", "new.admin@acme.com"] under [sites.acme]
    "#);
    let out = roster(
        dir.path(),
        &["plan", "--format", "markdown"],
        &PERISCOPE_KEY,
    );
    assert!(
        out.stdout.contains("> - acme: new.admin&#64;&#8203;acme.com is created with admin power: group Administrators"),
        "{}",
        out.stdout
    );
    let out = roster(dir.path(), &["plan", "--format", "json"], &PERISCOPE_KEY);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    insta::assert_snapshot!(serde_json::to_string_pretty(&doc["sites"][0]["privileged"]).unwrap(), @r#"
    [
      {
        "acknowledged": false,
        "change": 0,
        "email": "grace@acme.com",
        "how": "promoted",
        "power": {
          "name": "Administrators",
          "via": "group"
        }
      },
      {
        "acknowledged": false,
        "change": 1,
        "email": "new.admin@acme.com",
        "how": "created",
        "power": {
          "name": "Administrators",
          "via": "group"
        }
      }
    ]
    "#);
    let out = roster(dir.path(), &["apply", "--yes"], &PERISCOPE_KEY);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(only_reads(&sb), "a write was sent: {:?}", writes(&sb));
    // One acknowledged, one not: still refused, naming only the other.
    let dir = periscope_state(&sb.url, people, "allow_privileged = [\"grace@acme.com\"]");
    let out = roster(dir.path(), &["apply", "--yes"], &PERISCOPE_KEY);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("1 privileged change not acknowledged")
            && out.stderr.contains("new.admin@acme.com is created"),
        "{}",
        out.stderr
    );
    assert!(only_reads(&sb), "a write was sent: {:?}", writes(&sb));
}

#[test]
fn one_new_admin_is_shown_in_a_comment_too_small_for_thousands_of_creates() {
    let sb = seeded_sandbox();
    let mut people = String::new();
    for i in 0..3_000 {
        people.push_str(&format!(
            "[[users]]\nemail = \"person{i:04}@acme.com\"\nfirst_name = \"Person\"\nlast_name = \"Number {i}\"\ngroups = [\"Analysts\"]\n\n"
        ));
    }
    // Last in plan order: without room first, the comment would cut it.
    people.push_str(
        "[[users]]\nemail = \"zz.admin@acme.com\"\nfirst_name = \"Zed\"\nlast_name = \"Admin\"\ngroups = [\"Administrators\"]\n",
    );
    let dir = periscope_state(&sb.url, &people, "");
    let out = roster(
        dir.path(),
        &["plan", "--format", "markdown"],
        &PERISCOPE_KEY,
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.len() < 65_536, "{}", out.stdout.len());
    assert!(
        out.stdout
            .contains("changes are not shown to keep this comment under GitHub's size limit"),
        "the comment holds every create: make the plan larger"
    );
    // Named in the caution at the top, and its change shown in the site's
    // block, with its mark.
    assert!(
        out.stdout.contains("> - acme: zz.admin&#64;&#8203;acme.com is created with admin power: group Administrators"),
        "{}",
        &out.stdout[..2_000]
    );
    assert!(
        out.stdout.contains(
            "+ user  zz.admin@acme.com  first_name=\"Zed\" last_name=\"Admin\" groups=[Administrators]\n    ! privileged: zz.admin@acme.com is created with admin power"
        ),
        "the new admin's change is not in the comment"
    );
}
