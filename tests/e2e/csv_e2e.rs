//! End to end: the founding CSV recipes. Sigma's batch-update CSV and a
//! removal list edit the state (comments kept); the edit is then planned and
//! applied like any other; bad CSVs change nothing.

use crate::common::*;

/// A copy of `examples/sigma`'s people and teams to edit (without its
/// access, whose grants would hold on to the people a CSV removes; its
/// custom account type's person a Viewer again).
fn sigma_state() -> tempfile::TempDir {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sigma");
    let dir = tempfile::tempdir().unwrap();
    for f in ["roster.toml", "people.toml"] {
        let to = dir.path().join("state").join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        let text = std::fs::read_to_string(example.join(f)).unwrap();
        let people_and_teams: String = text
            .lines()
            .filter(|l| !l.starts_with("attributes = "))
            .map(|l| match l.strip_prefix("member_type = \"Analyst Pro\"") {
                Some(_) => "member_type = \"Viewer\"\n".to_string(),
                None => format!("{l}\n"),
            })
            .collect();
        std::fs::write(to, people_and_teams).unwrap();
    }
    dir
}

fn people(dir: &tempfile::TempDir) -> String {
    std::fs::read_to_string(dir.path().join("state/people.toml")).unwrap()
}

/// The layout of `examples/example_csv_for_batch_update_users.csv` in Sigma's
/// sample repository: a name change, a member type change, an email change,
/// isArchived True and False; here with the columns in another order and
/// blank cells.
const BATCH: &str = "\
Email,New Email,First Name,Last Name,Member Type,isArchived
ada@acme.com,,Augusta,,,
grace@acme.com,,,,Viewer,
katherine@acme.com,kathy@acme.com,,,,
linus@acme.com,,,,,True
edsger@acme.com,,,,,False
";

#[test]
fn a_sigma_batch_update_csv_edits_the_state_and_applies() {
    let sb = seeded_sandbox();
    let dir = sigma_state();
    std::fs::write(dir.path().join("batch.csv"), BATCH).unwrap();
    let out = roster(dir.path(), &["import", "--csv", "batch.csv"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        "edited state/people.toml\nUpdated 5 people from batch.csv. Review with `git diff`, then `roster plan`.\n"
    );
    let text = people(&dir);
    assert!(
        text.starts_with("# member_type is an account type of the organisation (any case).\n"),
        "comments kept"
    );
    assert!(text.contains("email = \"ada@acme.com\"\nfirst_name = \"Augusta\"\n"));
    assert!(text.contains("email = \"grace@acme.com\"\nfirst_name = \"Grace\"\nlast_name = \"Hopper\"\nmember_type = \"Viewer\"\n"));
    assert!(text.contains("email = \"kathy@acme.com\"\nfirst_name = \"Katherine\"\nlast_name = \"Johnson\"\nmember_type = \"Viewer\"\ngroups = [\"Finance\"]\nprevious_emails = [\"katherine@acme.com\"]\n"), "{text}");
    assert!(text.contains("email = \"linus@acme.com\"\nfirst_name = \"Linus\"\nlast_name = \"Torvalds\"\nmember_type = \"Creator\"\ngroups = [\"Data Engineering\"]\nactive = false\n"));
    assert!(text.contains("email = \"edsger@acme.com\"                    # keep the account, without access\nfirst_name = \"Edsger\"\nlast_name = \"Dijkstra\"\n\n"), "{text}");

    // The edit is reviewed and applied like any other.
    let plan = roster(dir.path(), &["plan", "--sandbox-url", &sb.url], &[]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    insta::assert_snapshot!(run_snapshot(&plan), @r#"
    exit: 0
    --- stdout
    Plan: 2 to create, 7 to update, 2 to delete.

    site acme-sigma (sigma) — 2 to create, 7 to update, 2 to delete
      seats: Admin 2 → 2, Creator 3 → 3, Explorer 1 → 0 (−1), none 0 → 1 (+1), Viewer 3 → 4 (+1)
      apply sends: 30 requests (16 reads, 14 writes), no max_requests_per_second: as fast as the site answers
      + group Data Engineering  description="Pipelines and models"
      ~ group Growth Marketing
          name: "Marketing" → "Growth Marketing"
      ~ user  ada@acme.com
          first_name: "Ada" → "Augusta"
          groups: +Data Engineering
      ~ user  alan@acme.com
          member_type: "Explorer" → "Creator"
          groups: +Finance
      ~ user  barbara@acme.com
          email: "barbara@old-acme.com" → "barbara@acme.com"
      + user  edsger@acme.com  first_name="Edsger" last_name="Dijkstra" groups=[]
      ~ user  grace@acme.com
          member_type: "Creator" → "Viewer"
      ~ user  john@acme.com
          active: false → true (reactivated)
      ~ user  kathy@acme.com
          email: "katherine@acme.com" → "kathy@acme.com"
      - user  tim@acme.com  (not declared; deactivated, 4 documents and 0 schedules to admin@acme.com, tokens revoked)
      - group Old Team  (not declared; deleted)
      = kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): scim.user@acme.com
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com

    Read 2 state files: 1 site, 9 people, 4 groups.
    --- stderr
    "#);
    let apply = roster(
        dir.path(),
        &["apply", "--yes", "--sandbox-url", &sb.url],
        &[],
    );
    assert_eq!(apply.code, 0, "{}", apply.all());
    let org = sb.sandbox.data().sigma["acme-sigma"].clone();
    assert!(
        org.members
            .iter()
            .any(|m| m.email == "kathy@acme.com" && !m.is_archived)
    );
    assert!(org.members.iter().all(|m| m.email != "katherine@acme.com"));
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
fn a_removal_csv_removes_the_people_it_lists() {
    let sb = seeded_sandbox();
    let dir = sigma_state();
    std::fs::write(
        dir.path().join("leavers.csv"),
        "email_address,reason\nalan@acme.com,left\nGRACE@acme.com,left\n",
    )
    .unwrap();
    let out = roster(
        dir.path(),
        &["import", "--csv", "leavers.csv", "--remove"],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.ends_with(
        "Removed 2 people from leavers.csv. Review with `git diff`, then `roster plan`.\n"
    ));
    let text = people(&dir);
    assert!(!text.contains("alan@acme.com") && !text.contains("grace@acme.com"));
    assert!(
        text.contains("# keep the account, without access"),
        "comments kept"
    );
    let plan = roster(dir.path(), &["plan", "--sandbox-url", &sb.url], &[]);
    insta::assert_snapshot!(run_snapshot(&plan), @r#"
    exit: 0
    --- stdout
    Plan: 2 to create, 4 to update, 4 to delete.

    site acme-sigma (sigma) — 2 to create, 4 to update, 4 to delete
      seats: Admin 2 → 2, Creator 3 → 3, Explorer 1 → 0 (−1), Viewer 3 → 3
      apply sends: 33 requests (20 reads, 13 writes), no max_requests_per_second: as fast as the site answers
      + group Data Engineering  description="Pipelines and models"
      ~ group Growth Marketing
          name: "Marketing" → "Growth Marketing"
      ~ user  ada@acme.com
          groups: +Data Engineering
      ~ user  barbara@acme.com
          email: "barbara@old-acme.com" → "barbara@acme.com"
      ~ user  john@acme.com
          active: false → true (reactivated)
      + user  linus@acme.com  first_name="Linus" last_name="Torvalds" member_type="Creator" groups=[Data Engineering]
      - user  alan@acme.com  (not declared; deactivated, 2 documents and 0 schedules to admin@acme.com, tokens revoked)
      - user  grace@acme.com  (not declared; deactivated, 7 documents and 0 schedules to admin@acme.com, tokens revoked)
      - user  tim@acme.com  (not declared; deactivated, 4 documents and 0 schedules to admin@acme.com, tokens revoked)
      - group Old Team  (not declared; deleted)
      = kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): scim.user@acme.com
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com

    Read 2 state files: 1 site, 7 people, 4 groups.
    --- stderr
    "#);
}

/// Bad CSVs: a name, the file, whether it is a removal, and the start of
/// each error line expected.
const BAD_CSVS: &[(&str, &str, bool, &[&str])] = &[
    (
        "unknown column",
        "Email,Nickname\nada@acme.com,Ada\n",
        false,
        &[
            "error: x.csv:1: unknown column `Nickname`; the columns are Email, First Name, Last Name, New Email, Member Type, isArchived (any order)",
        ],
    ),
    (
        "no Email column",
        "First Name\nAda\n",
        false,
        &["error: x.csv:1: the `Email` column is required"],
    ),
    (
        "empty email",
        "Email,First Name\n,Ada\n",
        false,
        &["error: x.csv:2: `Email` is empty"],
    ),
    (
        "malformed email",
        "Email,First Name\nada.acme.com,Ada\n",
        false,
        &["error: x.csv:2: `ada.acme.com` is not a valid email address"],
    ),
    (
        "person not in the state",
        "Email,First Name\nnobody@acme.com,No\n",
        false,
        &[
            "error: x.csv:2: `nobody@acme.com` is not declared in the state; add them as a [[users]] entry first",
        ],
    ),
    (
        "conflicting rows",
        "Email,First Name\nada@acme.com,Ada\nADA@acme.com,Augusta\n",
        false,
        &[
            "error: x.csv:3: `ADA@acme.com` also appears on line 2 with other values; keep one row per person",
        ],
    ),
    (
        "isArchived not a boolean",
        "Email,isArchived\nada@acme.com,yes\n",
        false,
        &["error: x.csv:2: isArchived must be True or False, not `yes`"],
    ),
    (
        "malformed new email",
        "Email,New Email\nada@acme.com,ada@\n",
        false,
        &["error: x.csv:2: New Email `ada@` is not a valid email address"],
    ),
    (
        "new email taken",
        "Email,New Email\nada@acme.com,grace@acme.com\n",
        false,
        &["error: x.csv:2: New Email `grace@acme.com` is already declared for someone else"],
    ),
    (
        "every problem at once",
        "Email,Nick\nbad,\nnobody@acme.com,\n",
        false,
        &[
            "error: x.csv:1: unknown column `Nick`",
            "error: x.csv:2: `bad` is not a valid email address",
            "error: x.csv:3: `nobody@acme.com` is not declared in the state",
        ],
    ),
    (
        "removal without an email column",
        "name\nAda\n",
        true,
        &[
            "error: x.csv:1: no `email_address` or `email` column; the people to remove are read from it",
        ],
    ),
    (
        "removal of someone unknown",
        "email\nada@acme.com\nnobody@acme.com\n",
        true,
        &["error: x.csv:3: `nobody@acme.com` is not declared in the state"],
    ),
    (
        "removal with a malformed email",
        "email_address\nnot-an-email\n",
        true,
        &["error: x.csv:2: `not-an-email` is not a valid email address"],
    ),
    (
        "binary garbage",
        "\u{0}\u{1}\u{2}Email\n\u{ff}",
        false,
        &["error: x.csv:1: unknown column"],
    ),
];

#[test]
fn bad_csvs_are_reported_with_their_lines_and_change_nothing() {
    for (name, csv, remove, expected) in BAD_CSVS {
        let dir = sigma_state();
        let before = people(&dir);
        std::fs::write(dir.path().join("x.csv"), csv).unwrap();
        let mut args = vec!["import", "--csv", "x.csv"];
        if *remove {
            args.push("--remove");
        }
        let out = roster(dir.path(), &args, &[]);
        assert_eq!(out.code, 1, "{name}: {}", out.all());
        for line in *expected {
            assert!(
                out.stderr.lines().any(|l| l.starts_with(line)),
                "{name}: expected {line:?} in\n{}",
                out.stderr
            );
        }
        assert!(
            out.stderr.trim_end().ends_with("nothing was written"),
            "{name}: {}",
            out.stderr
        );
        assert_eq!(people(&dir), before, "{name}: the state changed");
    }
}

#[test]
fn export_writes_the_state_or_the_live_sites_as_csv() {
    let sb = seeded_sandbox();
    let dir = sigma_state();
    let out = roster(dir.path(), &["export", "--format", "csv"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "site,email,first_name,last_name,groups,member_type,active"
    );
    assert_eq!(
        lines[1],
        "acme-sigma,ada@acme.com,Ada,Lovelace,Analysts;Data Engineering,Creator,true"
    );
    assert!(lines.contains(&"acme-sigma,edsger@acme.com,Edsger,Dijkstra,,,false"));
    let live = roster(
        dir.path(),
        &["export", "--live", "--sandbox-url", &sb.url],
        &[],
    );
    assert_eq!(live.code, 0, "{}", live.all());
    assert!(
        live.stdout
            .contains("acme-sigma,john@acme.com,John,Backus,Analysts,Creator,false\n"),
        "{}",
        live.stdout
    );
    assert!(
        live.stdout
            .contains("acme-sigma,barbara@old-acme.com,Barbara,Liskov,Marketing,Viewer,true\n")
    );
}
