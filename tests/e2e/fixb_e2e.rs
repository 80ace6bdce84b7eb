//! End to end: attack findings on loading, import and export — names only
//! the live site can check (seat types, built-in account types) refused
//! before any write with their place; what import keeps and skips.

use crate::common::*;

fn example(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

/// A copy of `examples/sigma` with `extra` on its site and `more` after it.
fn sigma_state(extra: &str, more: &str) -> tempfile::TempDir {
    let site = std::fs::read_to_string(example("sigma").join("roster.toml"))
        .unwrap()
        .replace(
            "[sites.acme-sigma]\n",
            &format!("[sites.acme-sigma]\n{extra}\n"),
        );
    let people = std::fs::read_to_string(example("sigma").join("people.toml")).unwrap();
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
