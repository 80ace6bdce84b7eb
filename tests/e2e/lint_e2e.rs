//! End to end: every problem `import --csv` finds in the CSV `roster
//! export` writes, worded with its file and line; nothing is written.

use crate::common::*;
// The two sites and the people of csvsafe_e2e's export tests.
use crate::csvsafe_e2e::{ON_BOTH, TWO_SITES};

/// Imports `csv` as x.csv; its exit, stdout and stderr, and whether the
/// state files are as they were.
fn import(csv: &str) -> (String, bool) {
    let dir = state_dir(&[("roster.toml", TWO_SITES), ("people.toml", ON_BOTH)]);
    std::fs::write(dir.path().join("x.csv"), csv).unwrap();
    let out = roster(dir.path(), &["import", "--csv", "x.csv"], &[]);
    let people = std::fs::read_to_string(dir.path().join("state/people.toml")).unwrap();
    (run_snapshot(&out), people == ON_BOTH)
}

#[test]
fn an_export_with_unknown_columns_and_no_email_column_is_refused() {
    let (out, unchanged) = import("site,mail,first_name\nacme,ada@acme.com,Ada\n");
    insta::assert_snapshot!(out, @r"
    exit: 1
    --- stdout
    --- stderr
    error: x.csv:1: unknown column `mail`; the columns of roster's export are site, email, first_name, last_name, groups, member_type, active (any order)
    error: x.csv:1: the `email` column is required
    error: 2 problems in x.csv; nothing was written
    ");
    assert!(unchanged);
}

#[test]
fn every_row_problem_of_an_export_is_named_with_its_line() {
    let (out, unchanged) = import(
        "site,email,first_name,active\n\
         nowhere,ada@acme.com,Ada,true\n\
         acme,nobody@acme.com,X,true\n\
         acme,not-an-email,X,true\n\
         acme,ada@acme.com,Ada,maybe\n\
         acme,ADA@acme.com,Ada,true\n\
         acme,grace@acme.com,Gr\u{202e}ce,true\n\
         acme,gr\u{1b}ace@acme.com,Grace,true\n",
    );
    insta::assert_snapshot!(out, @r"
    exit: 1
    --- stdout
    --- stderr
    error: x.csv:2: site `nowhere` is not declared in the state
    error: x.csv:3: `nobody@acme.com` is not declared for site `acme`; add them to the state first
    error: x.csv:4: `not-an-email` is not a valid email address
    error: x.csv:5: `active` must be true or false, not `maybe`
    error: x.csv:6: `ADA@acme.com` on `acme` also appears on line 5; keep one row per person and site
    error: x.csv:7: first_name `Gr\u{202e}ce` holds a control or invisible character (U+202E); remove it
    error: x.csv:8: email `gr\x1bace@acme.com` holds a control or invisible character (U+001B); remove it
    error: 7 problems in x.csv; nothing was written
    ");
    assert!(unchanged);
}

#[test]
fn an_export_giving_one_person_two_active_values_is_refused() {
    let (out, unchanged) =
        import("site,email,active\nacme,ada@acme.com,true\nacme-sigma,ada@acme.com,false\n");
    insta::assert_snapshot!(out, @r"
    exit: 1
    --- stdout
    --- stderr
    error: x.csv:2: `active` differs between the sites of one person (lines 2, 3); roster keeps one value per person
    error: 1 problem in x.csv; nothing was written
    ");
    assert!(unchanged);
}
