//! End to end: loading, import and export — names only
//! the live site can check (seat types, built-in account types) refused
//! before any write with their place; what import keeps and skips.

use crate::common::*;

fn example(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

/// A copy of `examples/sigma` (without its access part) with `extra` on
/// its site and `more` after it.
fn sigma_state(extra: &str, more: &str) -> tempfile::TempDir {
    let site = sigma_example_file("roster.toml").replace(
        "[sites.acme-sigma]\n",
        &format!("[sites.acme-sigma]\n{extra}\n"),
    );
    let people = sigma_example_file("people.toml");
    state_dir(&[
        ("roster.toml", &format!("{site}{more}")),
        ("people.toml", &people),
    ])
}

/// `plan` and `apply --yes` against `sb` both exit 1 with `expected` as
/// their whole stderr, and nothing is written to the site.
fn refused_before_any_write(dir: &std::path::Path, sb: &BackgroundSandbox, expected: &str) {
    let before = sb.sandbox.data();
    for args in [
        &["plan", "--sandbox-url", &sb.url][..],
        &["apply", "--yes", "--sandbox-url", &sb.url],
    ] {
        let out = roster(dir, args, &[]);
        assert_eq!(out.code, 1, "{args:?}: {}", out.all());
        assert_eq!(out.stderr, expected, "{args:?}");
        assert_eq!(out.stdout, "", "{args:?}");
    }
    assert!(only_reads(sb), "{:?}", writes(sb));
    assert_eq!(sb.sandbox.data(), before, "the live site changed");
}

#[test]
fn a_seat_type_the_organisation_does_not_have_is_refused_before_any_write() {
    let sb = seeded_sandbox();
    let dir = sigma_state(
        "seats = { Creater = 3, Creator = 9, Analyst = 1 }",
        "\n[[account_types]]\nname = \"Analyst\"\ndescription = \"Reads\"\npermissions = []\n",
    );
    let validate = roster(dir.path(), &["validate"], &[]);
    assert_eq!(validate.code, 0, "{}", validate.all());
    refused_before_any_write(
        dir.path(),
        &sb,
        "error: the plan cannot be made:\n  \
         state/roster.toml:8:11: site `acme-sigma`: seats budgets `Creater`, which is not an account type of the organisation, so it would never be enforced. \
         Its account types: Admin, Creator, Explorer, Viewer, Analyst Pro (declared in [[account_types]]: Analyst). Fix the spelling, or remove it from `seats`\n\
         nothing was changed\n",
    );
}

#[test]
fn a_built_in_account_type_declared_as_custom_is_refused_at_its_place() {
    let sb = seeded_sandbox();
    let dir = sigma_state(
        "",
        "\n[[account_types]]\nname = \"viewer\"\ndescription = \"Reads\"\npermissions = []\n",
    );
    refused_before_any_write(
        dir.path(),
        &sb,
        "error: the plan cannot be made:\n  \
         state/roster.toml:34:8: site `acme-sigma`: `Viewer` is one of the organisation's built-in account types, which cannot be declared in [[account_types]]. \
         Remove the entry (people may still have member_type = \"Viewer\")\n\
         nothing was changed\n",
    );
}

/// `examples/sigma` with katherine's Finance membership ending, and her
/// access as a whole ending later.
fn katherine_expiring() -> tempfile::TempDir {
    let dir = sigma_state("", "");
    let path = dir.path().join("state/people.toml");
    let people = std::fs::read_to_string(&path).unwrap().replace(
        "email = \"katherine@acme.com\"\nfirst_name = \"Katherine\"\nlast_name = \"Johnson\"\nmember_type = \"Viewer\"\ngroups = [\"Finance\"]\n",
        "email = \"katherine@acme.com\"\nexpires = 2027-06-01\nfirst_name = \"Katherine\"\nlast_name = \"Johnson\"\nmember_type = \"Viewer\"\ngroups = [{ name = \"Finance\", expires = 2027-01-01 }, \"Analysts\"]\n",
    );
    assert!(people.contains("2027-01-01"), "the example changed");
    std::fs::write(&path, people).unwrap();
    dir
}

fn katherine(dir: &std::path::Path) -> String {
    let people = std::fs::read_to_string(dir.join("state/people.toml")).unwrap();
    let start = people.find("email = \"katherine@acme.com\"").unwrap();
    let end = people[start..]
        .find("\n\n")
        .map_or(people.len(), |e| start + e);
    people[start..end].to_string()
}

#[test]
fn import_keeps_the_end_date_of_a_membership_that_is_still_live() {
    let sb = seeded_sandbox();
    let dir = katherine_expiring();
    let out = roster(dir.path(), &["import", "--sandbox-url", &sb.url], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    // Analysts is not live for her: import describes the site. Finance is,
    // and keeps its end date; so does her access as a whole.
    assert_eq!(
        katherine(dir.path()),
        "email = \"katherine@acme.com\"\nexpires = 2027-06-01\nfirst_name = \"Katherine\"\nlast_name = \"Johnson\"\nmember_type = \"Viewer\"\ngroups = [{ name = \"Finance\", expires = 2027-01-01 }]"
    );
    let validate = roster(dir.path(), &["validate"], &[]);
    assert_eq!(validate.code, 0, "{}", validate.all());
}

#[test]
fn a_csv_edit_of_the_groups_keeps_the_end_date_of_those_that_stay() {
    let dir = katherine_expiring();
    let csv = "site,email,groups\nacme-sigma,katherine@acme.com,Finance\n";
    std::fs::write(dir.path().join("edit.csv"), csv).unwrap();
    let out = roster(dir.path(), &["import", "--csv", "edit.csv"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        "edited state/people.toml\nUpdated 1 person from edit.csv. Review with `git diff`, then `roster plan`.\n"
    );
    assert_eq!(
        katherine(dir.path()),
        "email = \"katherine@acme.com\"\nexpires = 2027-06-01\nfirst_name = \"Katherine\"\nlast_name = \"Johnson\"\nmember_type = \"Viewer\"\ngroups = [{ name = \"Finance\", expires = 2027-01-01 }]"
    );
}

/// A copy of `examples/NAME` under `state/`.
fn example_state(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(example(name)).unwrap() {
        let entry = entry.unwrap();
        let to = dir.path().join("state").join(entry.file_name());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(entry.path(), to).unwrap();
    }
    dir
}

#[test]
fn import_leaves_out_a_live_user_without_an_email_and_says_so() {
    use roster::sandbox::scim::store::Kind;
    let mut data = persist::seed();
    let user = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "jdoe", "active": true,
        "name": {"givenName": "J", "familyName": "Doe"},
    });
    data.scim
        .get_mut("acme-scim")
        .expect("the seed has acme-scim")
        .create(Kind::User, &user)
        .unwrap();
    let sb = BackgroundSandbox::start(data).unwrap();
    let dir = example_state("scim");
    let out = roster(dir.path(), &["import", "--sandbox-url", &sb.url], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stderr,
        "warning: acme-scim: live user `jdoe` is left out: roster declares people by email, and this is not one; the plan treats it as a member the state does not declare (see unmanaged_users)\n"
    );
    let written = std::fs::read_dir(dir.path().join("state"))
        .unwrap()
        .chain(
            std::fs::read_dir(dir.path().join("state/imported"))
                .into_iter()
                .flatten(),
        )
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect::<String>();
    assert!(!written.contains("jdoe"), "{written}");
    let validate = roster(dir.path(), &["validate"], &[]);
    assert_eq!(validate.code, 0, "{}", validate.all());
}

#[test]
fn import_leaves_out_a_grant_to_the_platforms_own_account_and_says_so() {
    use roster::sandbox::sigma::access::Grant;
    let mut data = persist::seed();
    let org = data.sigma.get_mut("acme-sigma").unwrap();
    let robot = org
        .members
        .iter()
        .find(|m| m.email.starts_with("scheduler-robot"))
        .expect("the seed has the robot")
        .member_id
        .clone();
    let workspace = org.access.workspaces[0].clone();
    org.access.grants.push(Grant {
        grant_id: "g-robot".into(),
        inode_id: workspace.workspace_id.clone(),
        member_id: Some(robot),
        team_id: None,
        permission: "view".into(),
    });
    let sb = BackgroundSandbox::start(data).unwrap();
    let dir = sigma_state("", "");
    let out = roster(dir.path(), &["import", "--sandbox-url", &sb.url], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stderr,
        format!(
            "warning: acme-sigma: the grant of workspace `{}` to `scheduler-robot@sigmacomputing.com` (view) is left out: `scheduler-robot@sigmacomputing.com` is not a person the state declares (roster never declares the platform's own accounts, SCIM-owned or embed users); the next plan revokes it unless unmanaged_grants = \"keep\"\n",
            workspace.name
        )
    );
    let imported =
        std::fs::read_to_string(dir.path().join("state/imported/acme-sigma.toml")).unwrap();
    assert!(
        imported.contains(&format!("name = \"{}\"", workspace.name)),
        "{imported}"
    );
    assert!(!imported.contains("scheduler-robot"), "{imported}");
    let validate = roster(dir.path(), &["validate"], &[]);
    assert_eq!(validate.code, 0, "{}", validate.all());
}

#[test]
fn import_counts_what_plan_will_show_and_names_only_files_it_changed() {
    let sb = seeded_sandbox();
    let dir = katherine_expiring();
    // Her Finance membership ended: the plan takes it away, and import's
    // count says so.
    let path = dir.path().join("state/people.toml");
    let people = std::fs::read_to_string(&path)
        .unwrap()
        .replace("expires = 2027-01-01", "expires = 2025-01-01");
    std::fs::write(&path, people).unwrap();
    let first = roster(dir.path(), &["import", "--sandbox-url", &sb.url], &[]);
    assert_eq!(first.code, 0, "{}", first.all());
    let plan = roster(dir.path(), &["plan", "--sandbox-url", &sb.url], &[]);
    assert!(
        plan.stdout
            .starts_with("Plan: 2 to create, 1 to update, 0 to delete.\n"),
        "{}",
        plan.stdout
    );
    let tail = "`roster plan` will still show 3 changes: what the state declares and the sites lack (import keeps it; `roster import --prune` takes it off the state), and access past its `expires` date (import keeps the date).\n";
    assert!(first.stdout.ends_with(tail), "{}", first.stdout);
    // Again: nothing differs, so no file is named or written.
    let files = |d: &std::path::Path| {
        [
            "state/people.toml",
            "state/roster.toml",
            "state/imported/acme-sigma.toml",
        ]
        .map(|f| std::fs::read(d.join(f)).unwrap())
    };
    let before = files(dir.path());
    let again = roster(dir.path(), &["import", "--sandbox-url", &sb.url], &[]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(
        again.stdout,
        format!(
            "acme-sigma: 0 people added, 0 updated; 0 groups added, 0 updated\nNo file changed: the state already says what the import found.\n{tail}"
        )
    );
    assert_eq!(files(dir.path()), before);
}

#[test]
fn an_export_of_the_state_leaves_out_ended_memberships_and_reads_back() {
    let dir = katherine_expiring();
    let path = dir.path().join("state/people.toml");
    let people = std::fs::read_to_string(&path)
        .unwrap()
        .replace("expires = 2027-01-01", "expires = 2025-01-01");
    std::fs::write(&path, &people).unwrap();
    let out = roster(dir.path(), &["export", "--format", "csv"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .contains("\nacme-sigma,katherine@acme.com,Katherine,Johnson,Analysts,Viewer,true\n"),
        "{}",
        out.stdout
    );
    std::fs::write(dir.path().join("export.csv"), &out.stdout).unwrap();
    let back = roster(dir.path(), &["import", "--csv", "export.csv"], &[]);
    assert_eq!(back.code, 0, "{}", back.all());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        people,
        "an untouched export edits nothing"
    );
    // An edit of her groups keeps the ended membership as written.
    let edited = out.stdout.replace(
        "katherine@acme.com,Katherine,Johnson,Analysts,",
        "katherine@acme.com,Katherine,Johnson,Analysts;Growth Marketing,",
    );
    std::fs::write(dir.path().join("export.csv"), edited).unwrap();
    let back = roster(dir.path(), &["import", "--csv", "export.csv"], &[]);
    assert_eq!(back.code, 0, "{}", back.all());
    assert!(
        katherine(dir.path()).ends_with(
            "groups = [\"Analysts\", { name = \"Finance\", expires = 2025-01-01 }, \"Growth Marketing\"]"
        ),
        "{}",
        katherine(dir.path())
    );
}

#[test]
fn a_live_export_leaves_out_members_roster_never_manages_and_reads_back() {
    let sb = seeded_sandbox();
    let dir = sigma_state("", "");
    let import = roster(dir.path(), &["import", "--sandbox-url", &sb.url], &[]);
    assert_eq!(import.code, 0, "{}", import.all());
    let out = roster(
        dir.path(),
        &[
            "export",
            "--format",
            "csv",
            "--live",
            "--sandbox-url",
            &sb.url,
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stderr,
        "note: acme-sigma: left out 2 members roster never manages: scim.user@acme.com, scheduler-robot@sigmacomputing.com\n"
    );
    assert!(!out.stdout.contains("scheduler-robot"), "{}", out.stdout);
    std::fs::write(dir.path().join("live.csv"), &out.stdout).unwrap();
    let before = std::fs::read_to_string(dir.path().join("state/people.toml")).unwrap();
    let back = roster(dir.path(), &["import", "--csv", "live.csv"], &[]);
    assert_eq!(back.code, 0, "{}", back.all());
    assert_eq!(
        back.stdout,
        "Updated 0 people from live.csv. Review with `git diff`, then `roster plan`.\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("state/people.toml")).unwrap(),
        before
    );
}

#[test]
fn fmt_counts_in_agreement_and_a_zero_timeout_is_refused_as_out_of_range() {
    let sb = seeded_sandbox();
    let site = periscope_site(&sb.url, "UNUSED")
        .replace("{ env = \"UNUSED\" }", "{ command = \"echo k\" }");
    let dir = state_dir(&[("site.toml", &site)]);
    let out = roster(dir.path(), &["fmt"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "The state file was already canonical.\n");
    let check = roster(dir.path(), &["fmt", "--check"], &[]);
    assert_eq!(check.stdout, "The state file is canonical.\n");

    for value in ["0", "0.5", "86401"] {
        let bad = roster(
            dir.path(),
            &["plan"],
            &[("ROSTER_CREDENTIAL_TIMEOUT", value)],
        );
        assert_eq!(bad.code, 1, "{}", bad.all());
        assert!(
            bad.stderr.starts_with(&format!("error: site `acme`: the command `echo k` was not run: ROSTER_CREDENTIAL_TIMEOUT=\"{value}\" is not a number of seconds from 1 to 86400, such as 30")),
            "{}",
            bad.stderr
        );
    }
    assert!(sb.sandbox.requests().is_empty(), "a site was contacted");
}

#[test]
fn validate_warns_of_names_that_mix_scripts_at_their_place() {
    let dir = sigma_state(
        "",
        "\n[[groups]]\nname = \"Fin\u{430}nce Team\"\n\n[[account_types]]\nname = \"Vi\u{435}wer Plus\"\ndescription = \"Reads\"\npermissions = []\n",
    );
    let out = roster(dir.path(), &["validate"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stderr,
        "warning: state/roster.toml:34:8: group `Fin\u{430}nce Team` mixes scripts (such as a Cyrillic letter among Latin ones), so it looks like a name it is not; retype it if that was not meant\n\
         warning: state/roster.toml:37:8: account type `Vi\u{435}wer Plus` mixes scripts (such as a Cyrillic letter among Latin ones), so it looks like a name it is not; retype it if that was not meant\n"
    );
}

#[test]
fn validate_warns_of_emails_and_grantees_that_mix_scripts() {
    let dir = sigma_state(
        "",
        "\n[[users]]\nemail = \"root@acme.c\u{3bf}m\"\nfirst_name = \"Root\"\nlast_name = \"Admin\"\nmember_type = \"Admin\"\n\n[[workspaces]]\nname = \"Finance\"\ngrants.people = { \"root@acme.c\u{3bf}m\" = \"edit\" }\n",
    );
    let out = roster(dir.path(), &["validate"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    insta::assert_snapshot!(out.stderr, @"
    warning: state/roster.toml:34:9: email `root@acme.cοm` mixes scripts (such as a Cyrillic letter among Latin ones), so it looks like a name it is not; retype it if that was not meant
    warning: state/roster.toml:41:19: grantee `root@acme.cοm` mixes scripts (such as a Cyrillic letter among Latin ones), so it looks like a name it is not; retype it if that was not meant
    ");
}
