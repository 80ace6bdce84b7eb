//! End to end: import on a state with pending renames, canonical output and
//! clean failures; saved plans made with --site; messages that are true; and
//! ids in URL paths encoded by RFC 3986.

use std::path::{Path, PathBuf};

use crate::common::*;

/// Every file under `dir` with its bytes, by path relative to `dir`, and
/// every folder (with `/` at the end).
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            if path.is_dir() {
                out.push((format!("{rel}/"), Vec::new()));
                walk(root, &path, out);
            } else {
                out.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// This repository's `state/` and each `examples/*/` directory.
fn shipped_states() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("state")];
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root.join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    examples.sort();
    dirs.extend(examples);
    dirs
}

#[test]
fn import_then_plan_is_empty_on_the_repo_state_and_every_example() {
    let states = shipped_states();
    assert!(states.len() >= 3, "{states:?}");
    for original in states {
        let name = original.file_name().unwrap().to_str().unwrap().to_string();
        let before = snapshot(&original);
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(&original, &tmp.path().join("state"));
        let data = tmp.path().join("sandbox.json");
        let data = data.to_str().unwrap();
        let import = roster(
            tmp.path(),
            &[
                "import",
                "--prune",
                "--sandbox",
                "--sandbox-reset",
                "--sandbox-data",
                data,
            ],
            &[],
        );
        assert_eq!(import.code, 0, "{name}: {}", import.all());
        assert!(
            import
                .stdout
                .ends_with("\n`roster plan` should now show no changes.\n"),
            "{name}: {}",
            import.stdout
        );
        let fmt = roster(tmp.path(), &["fmt", "--check"], &[]);
        assert_eq!(fmt.code, 0, "{name}: {}", fmt.all());
        let plan = roster(
            tmp.path(),
            &[
                "plan",
                "--detailed-exitcode",
                "--sandbox",
                "--sandbox-data",
                data,
            ],
            &[],
        );
        assert_eq!(plan.code, 0, "{name}: {}", plan.all());
        assert!(
            plan.stdout
                .starts_with("No changes: the live state matches the declared state.\n"),
            "{name}: {}",
            plan.stdout
        );
        assert_eq!(snapshot(&original), before, "{name}: the repo is untouched");
    }
}

/// The seed's Sigma organisation, with a team rename and an email change
/// declared but not applied yet.
const PENDING_RENAMES: &str = r#"[sites.acme-sigma]
provider = "sigma"
cloud = "aws-us-west"
client_id = { env = "I" }
client_secret = { env = "S" }

[[users]]
email = "barbara@acme.com"
first_name = "Barbara"
last_name = "Liskov"
previous_emails = ["barbara@old-acme.com"] # her new address

[[groups]]
name = "Growth Marketing"
previous_names = ["Marketing"] # the new name
"#;

#[test]
fn import_matches_a_pending_group_rename_and_email_rename() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[("roster.toml", PENDING_RENAMES)]);
    let out = roster(dir.path(), &["import", "--sandbox-url", &sb.url], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains(
            "acme-sigma: group `Growth Marketing` is live as `Marketing`, so the entry says `Marketing` again (the rename was never applied; declare it again to make it)\n\
             acme-sigma: user `barbara@acme.com` is live as `barbara@old-acme.com`, so the entry says `barbara@old-acme.com` again (the rename was never applied; declare it again to make it)\n"
        ),
        "{}",
        out.stdout
    );
    let text = std::fs::read_to_string(dir.path().join("state/roster.toml")).unwrap();
    assert!(
        text.contains(
            "[[users]]\nemail = \"barbara@old-acme.com\"\nfirst_name = \"Barbara\"\nlast_name = \"Liskov\"\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("[[groups]]\nname = \"Marketing\"\n"),
        "{text}"
    );
    assert!(!text.contains("previous_"), "{text}");
    // Neither is written again as a new entry.
    let imported =
        std::fs::read_to_string(dir.path().join("state/imported/acme-sigma.toml")).unwrap();
    assert!(!imported.contains("barbara"), "{imported}");
    assert!(!imported.contains("name = \"Marketing\""), "{imported}");
    assert_eq!(roster(dir.path(), &["fmt", "--check"], &[]).code, 0);
    let plan = roster(
        dir.path(),
        &["plan", "--detailed-exitcode", "--sandbox-url", &sb.url],
        &[],
    );
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(only_reads(&sb), "import and plan only read");
}

/// The seed's Periscope site, with Ada's last name out of date (an edit to
/// this file) in `a.toml` and Grace's in `z.toml`.
const A_TOML: &str = r#"[sites.acme]
provider = "periscope"
site = "acme"
api_key = { env = "K" }
invited_by = "admin@acme.com"

[[users]]
email = "ada@acme.com"
first_name = "Ada"
last_name = "Byron"
groups = ["Administrators"]
"#;

const Z_TOML: &str = r#"[[users]]
email = "grace@acme.com"
first_name = "Grace"
last_name = "Murray"
"#;

#[test]
fn a_failing_import_leaves_nothing_behind_and_a_dry_run_fails_the_same() {
    // A live name the state cannot hold: the edited state does not load.
    // (A live user without an email is left out with a warning instead.)
    let sb = seeded_sandbox();
    sb.sandbox.edit(|data| {
        let site = data.periscope.get_mut("acme").unwrap();
        let mut bad = site.groups[0].clone();
        bad.name = "..".into();
        site.groups.push(bad);
    });
    let dir = state_dir(&[("a.toml", A_TOML), ("z.toml", Z_TOML)]);
    let before = snapshot(dir.path());
    let real = roster(dir.path(), &["import", "--sandbox-url", &sb.url], &[]);
    let dry = roster(
        dir.path(),
        &["import", "--dry-run", "--sandbox-url", &sb.url],
        &[],
    );
    assert_eq!(real.code, 1, "{}", real.all());
    assert_eq!(dry.code, real.code);
    assert_eq!(dry.stderr, real.stderr);
    assert!(
        real.stderr.starts_with("error: state/imported/acme.toml:"),
        "{}",
        real.stderr
    );
    assert!(
        real.stderr
            .ends_with("error: the edited state would not be valid; nothing was written\n"),
        "{}",
        real.stderr
    );
    assert_eq!(real.stdout, "");
    assert_eq!(
        snapshot(dir.path()),
        before,
        "nothing written, no folder made"
    );

    // A file that cannot be written (a plain file holds the name of the
    // folder `imported/`): found before anything is written. (A write that
    // fails half-way is put back: `state::edit` unit tests.)
    let sb = seeded_sandbox();
    std::fs::write(dir.path().join("state/imported"), "not a folder\n").unwrap();
    let before = snapshot(dir.path());
    let out = roster(dir.path(), &["import", "--sandbox-url", &sb.url], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(
        out.stderr,
        "error: cannot check state/imported/acme.toml: Not a directory (os error 20); nothing was written\n"
    );
    assert_eq!(snapshot(dir.path()), before, "nothing written");
}

#[test]
fn an_import_that_cannot_tell_two_live_groups_apart_writes_nothing() {
    let sb = seeded_sandbox();
    // `Old Team` and `Marketing` are both live on the seed's organisation.
    let state = PENDING_RENAMES.replace("name = \"Growth Marketing\"", "name = \"Old Team\"");
    let dir = state_dir(&[("roster.toml", &state)]);
    let before = snapshot(dir.path());
    let expected = "error: site `acme-sigma`: group `Old Team` lists `Marketing` in previous_names, and both are live on the site; import will not guess which one the entry describes. Remove one of them on the site, or remove `Marketing` from previous_names; nothing was written\n";
    for dry in [false, true] {
        let mut args = vec!["import", "--sandbox-url", &sb.url];
        if dry {
            args.push("--dry-run");
        }
        let out = roster(dir.path(), &args, &[]);
        assert_eq!(out.code, 1, "{}", out.all());
        assert_eq!(out.stderr, expected);
        assert_eq!(snapshot(dir.path()), before);
    }
}

/// The seed's two sites, each with one person to create and nothing else.
fn two_sites() -> String {
    r#"[sites.acme]
provider = "periscope"
site = "acme"
api_key = { env = "K" }
invited_by = "admin@acme.com"
unmanaged_users = "keep"
unmanaged_groups = "keep"

[sites.acme-sigma]
provider = "sigma"
cloud = "aws-us-west"
client_id = { env = "I" }
client_secret = { env = "S" }
unmanaged_users = "keep"
unmanaged_groups = "keep"

[[users]]
email = "newbie@acme.com"
first_name = "New"
last_name = "Bie"
"#
    .into()
}

fn newbie_on(data: &roster::sandbox::SandboxData) -> (bool, bool) {
    (
        data.periscope["acme"]
            .users
            .iter()
            .any(|u| u.email == "newbie@acme.com"),
        data.sigma["acme-sigma"]
            .members
            .iter()
            .any(|m| m.email == "newbie@acme.com"),
    )
}

#[test]
fn a_plan_saved_with_site_is_applied_with_the_suggested_command() {
    let dir = state_dir(&[("roster.toml", &two_sites())]);
    let data = dir.path().join("sandbox.json");
    let data = data.to_str().unwrap();
    let sandbox = ["--sandbox", "--sandbox-data", data];
    let mut args = vec!["plan", "--site", "acme", "--out", "p.json"];
    args.extend(sandbox);
    args.push("--sandbox-reset");
    let plan = roster(dir.path(), &args, &[]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    let suggested = format!("roster apply p.json --site acme --sandbox-data {data} --sandbox");
    assert_eq!(
        plan.stderr,
        format!("Saved the plan to p.json; apply exactly this plan with `{suggested}`.\n")
    );

    // Without the --site flags: refused, and for the true reason.
    let mut args = vec!["apply", "p.json", "--yes"];
    args.extend(sandbox);
    let out = roster(dir.path(), &args, &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.starts_with(
            "The saved plan p.json does not match what roster would do now:\n  \
             - site `acme-sigma` is not in the saved plan, which covers only `acme`: apply it with the --site flags it was made with (--site acme), or make a plan of every site you select\n"
        ),
        "{}",
        out.stdout
    );
    assert!(!out.all().contains("state files changed"), "{}", out.all());
    assert_eq!(
        newbie_on(&persist::load(Path::new(data)).unwrap()),
        (false, false)
    );

    // The suggested command, as printed.
    let mut args: Vec<&str> = suggested.split(' ').skip(1).collect();
    args.push("--yes");
    let out = roster(dir.path(), &args, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("+ user  newbie@acme.com"),
        "{}",
        out.stdout
    );
    assert_eq!(
        newbie_on(&persist::load(Path::new(data)).unwrap()),
        (true, false),
        "created on the selected site only"
    );
}

#[test]
fn a_whole_plan_applied_with_site_says_the_other_site_is_not_selected() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[("roster.toml", &two_sites())]);
    let plan = roster(
        dir.path(),
        &["plan", "--out", "p.json", "--sandbox-url", &sb.url],
        &[],
    );
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.stderr.ends_with(&format!(
            "apply exactly this plan with `roster apply p.json --sandbox-url {}`.\n",
            sb.url
        )),
        "{}",
        plan.stderr
    );
    let out = roster(
        dir.path(),
        &[
            "apply",
            "p.json",
            "--site",
            "acme",
            "--yes",
            "--sandbox-url",
            &sb.url,
        ],
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(
        out.stdout,
        "The saved plan p.json does not match what roster would do now:\n  \
         - site `acme-sigma` is in the saved plan but not selected by --site; a saved plan is applied whole: select every site it covers (--site acme --site acme-sigma), or make a plan with the --site flags you want\n\
         The changes themselves are the same, but what they were computed from moved.\n"
    );
    assert!(!out.all().contains("no longer declared"));
    assert!(only_reads(&sb), "nothing was sent");

    let out = roster(
        dir.path(),
        &[
            "apply",
            "p.json",
            "--site",
            "acme",
            "--site",
            "acme-sigma",
            "--yes",
            "--sandbox-url",
            &sb.url,
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(newbie_on(&sb.sandbox.data()), (true, true));
}

#[test]
fn a_member_type_override_for_a_site_the_person_is_not_on_says_so() {
    let state = two_sites().replace(
        "last_name = \"Bie\"\n",
        "last_name = \"Bie\"\nsites = [\"acme\"]\n\n[users.overrides.acme-sigma]\nmember_type = \"Viewer\"\n",
    );
    let dir = state_dir(&[("roster.toml", &state)]);
    let out = roster(dir.path(), &["validate"], &[]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "error: state/roster.toml:24:15: `newbie@acme.com` has a `member_type` override for site `acme-sigma`, which they are not on\n  \
         hint: add `acme-sigma` to their `sites`, or drop the override\n\
         error: 1 problem in the state under state; nothing was contacted\n"
    );
}

#[test]
fn team_ids_in_paths_keep_their_unreserved_characters() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[("roster.toml", &two_sites())]);
    let out = roster(
        dir.path(),
        &["plan", "--site", "acme-sigma", "--sandbox-url", &sb.url],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let team_reads: Vec<String> = sb
        .sandbox
        .requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| p.starts_with("/v2/teams/") && p.ends_with("/members"))
        .collect();
    assert!(!team_reads.is_empty());
    assert!(
        team_reads.contains(&"/v2/teams/00000000-0000-4000-8000-000000000065/members".to_string()),
        "{team_reads:?}"
    );
    assert!(
        team_reads.iter().all(|p| !p.contains('%')),
        "{team_reads:?}"
    );
}
