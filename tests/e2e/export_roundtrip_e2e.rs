//! End to end: what `roster export` writes, `roster import --csv` reads
//! back to the same state: a group name holding the list separator stays
//! one group (it used to put its members in `Administrators`), and a name
//! a CSV cell cannot keep is refused, with nothing written.

use crate::common::*;

const SITE: &str = r#"[sites.acme]
provider = "periscope"
site = "acme"
api_key = { env = "K" }
invited_by = "admin@acme.com"
"#;

const PEOPLE: &str = r#"[[users]]
email = "ada@acme.com"
first_name = "Ada"
last_name = "Lovelace"
groups = ["Ops;Administrators", '"Quoted" team']

[[groups]]
name = "Ops;Administrators"
access = "view"

[[groups]]
name = '"Quoted" team'
access = "view"
"#;

#[test]
fn a_group_named_with_the_list_separator_reads_back_as_itself() {
    let dir = state_dir(&[("roster.toml", SITE), ("people.toml", PEOPLE)]);
    let out = roster(dir.path(), &["export", "--format", "csv"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    // The names are quoted inside the list (`"Ops;Administrators";"""Quoted""
    // team"`), and the list as a cell.
    assert_eq!(
        out.stdout,
        r#"site,email,first_name,last_name,groups,member_type,active
acme,ada@acme.com,Ada,Lovelace,"""Ops;Administrators"";""""""Quoted"""" team""",,true
"#
    );
    std::fs::write(dir.path().join("export.csv"), &out.stdout).unwrap();
    let before = std::fs::read_to_string(dir.path().join("state/people.toml")).unwrap();
    let back = roster(dir.path(), &["import", "--csv", "export.csv"], &[]);
    assert_eq!(back.code, 0, "{}", back.all());
    assert_eq!(
        back.stdout,
        "Updated 0 people from export.csv. Review with `git diff`, then `roster plan`.\n"
    );
    let after = std::fs::read_to_string(dir.path().join("state/people.toml")).unwrap();
    assert_eq!(after, before, "the state is unchanged");
}

#[test]
fn an_edited_list_with_a_quoted_name_is_read_as_written() {
    let dir = state_dir(&[("roster.toml", SITE), ("people.toml", PEOPLE)]);
    std::fs::write(
        dir.path().join("edit.csv"),
        "site,email,groups\nacme,ada@acme.com,\"\"\"Ops;Administrators\"\"\"\n",
    )
    .unwrap();
    let out = roster(dir.path(), &["import", "--csv", "edit.csv"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let people = std::fs::read_to_string(dir.path().join("state/people.toml")).unwrap();
    assert!(
        people.contains("groups = [\"Ops;Administrators\"]"),
        "{people}"
    );
    // An unclosed quote is refused at its line; nothing is written.
    std::fs::write(
        dir.path().join("bad.csv"),
        "site,email,groups\nacme,ada@acme.com,\"\"\"Ops;Administrators\"\n",
    )
    .unwrap();
    let bad = roster(dir.path(), &["import", "--csv", "bad.csv"], &[]);
    assert_eq!(bad.code, 1, "{}", bad.all());
    assert!(
        bad.stderr.contains(
            "bad.csv:2: groups: a double quote opened in `\"Ops;Administrators` is not closed"
        ),
        "{}",
        bad.stderr
    );
    let unchanged = std::fs::read_to_string(dir.path().join("state/people.toml")).unwrap();
    assert_eq!(unchanged, people);
}

#[test]
fn a_name_a_csv_cell_cannot_keep_is_refused_and_nothing_is_written() {
    let people = PEOPLE.replace("first_name = \"Ada\"", "first_name = \"Ada \"");
    let dir = state_dir(&[("roster.toml", SITE), ("people.toml", &people)]);
    let out = roster(dir.path(), &["export", "--format", "csv"], &[]);
    insta::assert_snapshot!(run_snapshot(&out), @r"
    exit: 1
    --- stdout
    --- stderr
    error: 1 value cannot be exported so that `import --csv` reads it back as it is; nothing was written:
      site `acme`, `ada@acme.com`: first_name `Ada ` starts or ends with white space, which a CSV cell does not keep (`import --csv` trims every cell); correct the value, then export again
    ");
}
