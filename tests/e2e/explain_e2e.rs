//! End to end: `roster explain` of an address a person used to have (in
//! their `previous_emails`) explains the person it now belongs to.

use crate::common::*;

#[test]
fn explain_of_a_previous_email_explains_the_person_who_has_it_now() {
    let site = periscope_site("http://127.0.0.1:1", "K");
    let people = "[[users]]\nemail = \"mallory@acme.com\"\nprevious_emails = [\"grace@acme.com\"]\nfirst_name = \"Mallory\"\nlast_name = \"M\"\ngroups = [\"Analysts\"]\n\n[[groups]]\nname = \"Analysts\"\naccess = \"sql\"\n";
    let dir = state_dir(&[("roster.toml", &site), ("people.toml", people)]);
    let old = roster(dir.path(), &["explain", "Grace@acme.com"], &[]);
    assert_eq!(old.code, 0, "{}", old.all());
    let now = roster(dir.path(), &["explain", "mallory@acme.com"], &[]);
    assert_eq!(now.code, 0, "{}", now.all());
    assert_eq!(
        old.stdout,
        format!(
            "Grace@acme.com is a previous email of mallory@acme.com (previous_emails): the account is theirs now.\n\n{}",
            now.stdout
        )
    );
    // An address nobody has, or had, is still not declared.
    let nobody = roster(dir.path(), &["explain", "eve@acme.com"], &[]);
    assert_eq!(nobody.code, 1, "{}", nobody.all());
}
