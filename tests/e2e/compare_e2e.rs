//! End to end: a saved plan of thousands of changes checked against the
//! fresh plan (the check is linear; its answer and order are the reviewer's).

use crate::common::*;
use roster::sandbox::periscope::store::PeriscopeUser;
use roster::sandbox::{PeriscopeSite, SandboxData};

/// People on the Periscope site `acme`, each of whom the state renames
/// (last name `N` becomes `Nb`).
const PEOPLE: usize = 3000;

fn case() -> (BackgroundSandbox, tempfile::TempDir) {
    let mut site = PeriscopeSite::new("k", "admin@acme.com");
    let mut state = String::from(
        "[[users]]\nemail = \"admin@acme.com\"\nfirst_name = \"Site\"\nlast_name = \"Admin\"\ngroups = [\"Administrators\"]\n\n",
    );
    for i in 0..PEOPLE {
        site.users.push(PeriscopeUser {
            email: format!("p{i}@acme.com"),
            first_name: "P".into(),
            last_name: format!("{i}"),
            groups: vec!["All Users".into()],
        });
        state.push_str(&format!(
            "[[users]]\nemail = \"p{i}@acme.com\"\nfirst_name = \"P\"\nlast_name = \"{i}b\"\n\n"
        ));
    }
    let mut data = SandboxData::default();
    data.periscope.insert("acme".into(), site);
    let sb = BackgroundSandbox::start(data).unwrap();
    let dir = state_dir(&[
        ("sites.toml", &periscope_site(&sb.url, "K")),
        ("people.toml", &state),
    ]);
    (sb, dir)
}

fn plan_out(dir: &std::path::Path) {
    let out = roster(dir, &["plan", "--out", "plan.json"], &[("K", "k")]);
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn a_saved_plan_of_thousands_of_changes_is_applied_when_it_still_holds() {
    let (sb, dir) = case();
    plan_out(dir.path());
    let out = roster(dir.path(), &["apply", "plan.json", "--yes"], &[("K", "k")]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .ends_with("Apply finished: 3000 applied, 0 failed, 0 skipped.\n"),
        "{}",
        out.stdout
    );
    let live = sb.sandbox.data().periscope["acme"].users.clone();
    let renamed = live
        .iter()
        .filter(|u| u.email.starts_with('p') && u.last_name.ends_with('b'))
        .count();
    assert_eq!(renamed, PEOPLE);
}

#[test]
fn a_saved_plan_of_thousands_of_changes_names_exactly_the_ones_that_moved() {
    let (sb, dir) = case();
    plan_out(dir.path());
    // After review, two people are renamed in the site's UI: their two
    // reviewed updates (of 3,000) no longer hold, and two new ones would.
    sb.sandbox.edit(|d| {
        let users = &mut d.periscope.get_mut("acme").unwrap().users;
        for u in users.iter_mut() {
            match u.email.as_str() {
                "p2001@acme.com" => u.last_name = "Z".into(),
                "p17@acme.com" => u.last_name = "Y".into(),
                _ => {}
            }
        }
    });
    let before = sb.sandbox.data();
    let out = roster(dir.path(), &["apply", "plan.json", "--yes"], &[("K", "k")]);
    assert_eq!(out.code, 1, "{}", out.all());
    insta::assert_snapshot!(out.stdout, @r#"
    The saved plan plan.json does not match what roster would do now:
      - site `acme`: the live state changed since the plan was made
    Reviewed changes roster would no longer make:
      site acme
        ~ user  p17@acme.com
            last_name: "17" → "17b"
        ~ user  p2001@acme.com
            last_name: "2001" → "2001b"
    Changes roster would make now that were not reviewed:
      site acme
        ~ user  p17@acme.com
            last_name: "Y" → "17b"
        ~ user  p2001@acme.com
            last_name: "Z" → "2001b"
    "#);
    assert_eq!(
        out.stderr,
        "error: refusing to apply plan.json: it is not the plan roster would carry out now. Run `roster plan` again, review it, and apply the new plan; nothing was changed\n"
    );
    assert_eq!(sb.sandbox.data(), before, "nothing was sent");
    assert!(only_reads(&sb));
}
