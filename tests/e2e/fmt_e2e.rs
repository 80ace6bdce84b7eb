//! `roster fmt`: canonical state files, comments kept, same plan.

use crate::common::*;

const MESSY: &str = r#"# People of the analytics team.
# Reviewed by the data platform team.

[[users]]
email = " Zed@Acme.com "    # joined in May
first_name = "Zed"
last_name = "Z"
groups = ["Finance", "Analysts", "Finance"]

# Our founder.
[[users]]
email = "ADA@acme.com"
first_name = "Ada"
last_name = "Lovelace"
groups = ["Analysts"]
"#;

#[test]
fn fmt_rewrites_canonically_keeps_comments_and_changes_no_plan() {
    let sb = seeded_sandbox();
    // The people file declares two of the site's users: the rest go, which
    // the state acknowledges.
    let site = std::fs::read_to_string(repo_state().join("roster.toml"))
        .unwrap()
        .replacen("\n[[groups]]", "\nallow_removals = 9\n\n[[groups]]", 1);
    let dir = state_dir(&[("roster.toml", &site), ("people.toml", MESSY)]);
    let plan = |dir: &std::path::Path| {
        roster(
            dir,
            &["plan", "--format", "json", "--sandbox-url", &sb.url],
            &[],
        )
    };
    let before = plan(dir.path());
    assert_eq!(before.code, 0, "{}", before.all());

    let check = roster(dir.path(), &["fmt", "--check"], &[]);
    assert_eq!(check.code, 1);
    assert_eq!(check.stdout, "would reformat state/people.toml\n");
    assert_eq!(
        check.stderr,
        "error: 1 file is not in canonical form; run `roster fmt`\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("state/people.toml")).unwrap(),
        MESSY,
        "--check writes nothing"
    );

    let out = roster(dir.path(), &["fmt"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        "formatted state/people.toml\n1 of 2 state files was already canonical.\n"
    );
    insta::assert_snapshot!(std::fs::read_to_string(dir.path().join("state/people.toml")).unwrap(), @r#"
    # People of the analytics team.
    # Reviewed by the data platform team.

    # Our founder.
    [[users]]
    email = "ada@acme.com"
    first_name = "Ada"
    last_name = "Lovelace"
    groups = ["Analysts"]

    [[users]]
    email = "zed@acme.com"    # joined in May
    first_name = "Zed"
    last_name = "Z"
    groups = ["Analysts", "Finance"]
    "#);
    assert_eq!(roster(dir.path(), &["fmt", "--check"], &[]).code, 0);
    // The same people, so the same changes; only the spelling of emails moved.
    let changes = |out: &Output| {
        let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        doc["sites"][0]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                format!(
                    "{} {} {}",
                    c["kind"],
                    c["action"],
                    c["key"].as_str().unwrap().to_lowercase()
                )
            })
            .collect::<Vec<_>>()
    };
    let after = plan(dir.path());
    assert_eq!(changes(&after), changes(&before));
    assert_eq!(changes(&before).len(), 15);
}

#[test]
fn fmt_refuses_files_that_are_not_toml_and_writes_nothing() {
    let dir = state_dir(&[("a.toml", MESSY), ("b.toml", "[[users]\n")]);
    let out = roster(dir.path(), &["fmt"], &[]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.starts_with("error: cannot format files that are not valid TOML; nothing was written:\nstate/b.toml:1:9: unclosed array table, expected `]`\n"), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("state/a.toml")).unwrap(),
        MESSY
    );
}
