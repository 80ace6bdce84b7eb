//! End to end: the warnings about the state (names that mix scripts, dates
//! already past, files not read) are part of every plan, in every format
//! (text, markdown, JSON, a saved plan), with `--sites-from` as the pull
//! request workflow runs it, and in what apply shows; not only on stderr.

use crate::common::*;

/// An account type named `Vіewer` with a Cyrillic `і` (U+0456), with
/// admin-level permissions: it reads as the built-in Viewer.
const LOOKALIKE: &str = "\n[[account_types]]\nname = \"V\u{456}ewer\"\ndescription = \"Reads\"\npermissions = [\"create-workbook\", \"admin-portal\"]\n";

/// A person whose access ended on a date already past.
const EXPIRED: &str = "\n[[users]]\nemail = \"casey@acme.com\"\nfirst_name = \"Casey\"\nlast_name = \"Jones\"\nexpires = 2020-03-01\n";

const LOOKALIKE_LINE: &str = "state/roster.toml:33:8: account type `V\u{456}ewer` mixes scripts (such as a Cyrillic letter among Latin ones), so it looks like a name it is not; retype it if that was not meant";
const EXPIRED_LINE: &str = "state/people.toml:69:11: casey@acme.com: expired on 2020-03-01; plans remove it until the date or the entry is changed";

/// The Sigma example with the look-alike account type and the expired
/// person.
fn state() -> tempfile::TempDir {
    let site = sigma_example_file("roster.toml");
    let people = sigma_example_file("people.toml");
    state_dir(&[
        ("roster.toml", &format!("{site}{LOOKALIKE}")),
        ("people.toml", &format!("{people}{EXPIRED}")),
    ])
}

/// Where `needle` is in `haystack`, or a failure showing both.
fn at(haystack: &str, needle: &str) -> usize {
    haystack
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` is not in:\n{haystack}"))
}

#[test]
fn the_state_read_here_places_its_warnings_where_the_tests_expect() {
    // The locations the other tests pin come from `validate`, which has
    // always warned of both.
    let dir = state();
    let out = roster(dir.path(), &["validate"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stderr,
        format!("warning: {EXPIRED_LINE}\nwarning: {LOOKALIKE_LINE}\n")
    );
}

#[test]
fn the_text_plan_shows_the_warnings_under_its_summary() {
    let sb = seeded_sandbox();
    let dir = state();
    let out = roster(dir.path(), &["plan", "--sandbox-url", &sb.url], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let text = &out.stdout;
    let summary = at(text, "Plan: ");
    let expired = at(text, &format!("\nwarning: {EXPIRED_LINE}\n"));
    let lookalike = at(text, &format!("\nwarning: {LOOKALIKE_LINE}\n"));
    let site = at(text, "site acme-sigma (sigma)");
    assert!(
        summary < expired && expired < lookalike && lookalike < site,
        "{text}"
    );
    // Said once, in the plan: stderr says how much was read.
    assert!(!out.stderr.contains("warning:"), "{}", out.stderr);
}

#[test]
fn the_markdown_plan_opens_with_a_warning_block() {
    let sb = seeded_sandbox();
    let dir = state();
    let out = roster(
        dir.path(),
        &["plan", "--format", "markdown", "--sandbox-url", &sb.url],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let md = &out.stdout;
    let block_at = at(md, "> [!WARNING]\n");
    let block: Vec<&str> = md[block_at..]
        .lines()
        .take_while(|l| l.starts_with('>'))
        .collect();
    let block = block.join("\n");
    insta::assert_snapshot!(block, @r"
    > [!WARNING]
    > **2 warnings about the state**: read each before approving.
    > - state/people.toml:69:11: casey&#64;&#8203;acme.com: expired on 2020-03-01; plans remove it until the date or the entry is changed
    > - state/roster.toml:33:8: account type `Vіewer` mixes scripts (such as a Cyrillic letter among Latin ones), so it looks like a name it is not; retype it if that was not meant
    ");
    // Near the top: under the title, before the counts and every site.
    assert!(block_at < at(md, "| site | provider |"), "{md}");
    assert!(md.starts_with("### roster plan: "), "{md}");
}

#[test]
fn the_json_plan_and_the_saved_plan_carry_the_warnings() {
    let sb = seeded_sandbox();
    let dir = state();
    let out = roster(
        dir.path(),
        &[
            "plan",
            "--format",
            "json",
            "--out",
            "plan.json",
            "--sandbox-url",
            &sb.url,
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let saved = std::fs::read_to_string(dir.path().join("plan.json")).unwrap();
    let warnings = |text: &str| {
        let doc: serde_json::Value = serde_json::from_str(text).unwrap();
        serde_json::to_string_pretty(&doc["warnings"]).unwrap()
    };
    assert_eq!(warnings(&saved), warnings(&out.stdout));
    {
        insta::assert_snapshot!(warnings(&out.stdout), @r#"
        [
          {
            "kind": "expired",
            "location": "state/people.toml:69:11",
            "message": "state/people.toml:69:11: casey@acme.com: expired on 2020-03-01; plans remove it until the date or the entry is changed",
            "on": "2020-03-01",
            "subject": "casey@acme.com"
          },
          {
            "kind": "mixed_scripts",
            "location": "state/roster.toml:33:8",
            "message": "state/roster.toml:33:8: account type `Vіewer` mixes scripts (such as a Cyrillic letter among Latin ones), so it looks like a name it is not; retype it if that was not meant",
            "name": "Vіewer",
            "what": "account type"
          }
        ]
        "#);
    }
    // Whoever reads the job's log sees them too.
    assert!(
        out.stderr.starts_with(&format!(
            "warning: {EXPIRED_LINE}\nwarning: {LOOKALIKE_LINE}\n"
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn a_pull_request_plan_with_sites_from_carries_the_warnings() {
    let sb = seeded_sandbox();
    let dir = state();
    // The trusted state is the base branch's: the same sites, without the
    // pull request's additions.
    write_files(
        dir.path(),
        &[("trusted/roster.toml", &sigma_example_file("roster.toml"))],
    );
    let out = roster(
        dir.path(),
        &[
            "plan",
            "--sites-from",
            "trusted",
            "--site",
            "acme-sigma",
            "--format",
            "markdown",
            "--detailed-exitcode",
            "--sandbox-url",
            &sb.url,
        ],
        &[],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    // What the workflow keeps when the comment is short of room: the part
    // before the first site's section.
    let head = out.stdout.split("<details").next().unwrap();
    assert!(head.contains("> [!WARNING]"), "{head}");
    assert!(
        head.contains("account type `V\u{456}ewer` mixes scripts"),
        "{head}"
    );
    assert!(
        head.contains("casey&#64;&#8203;acme.com: expired on 2020-03-01"),
        "{head}"
    );
}

#[test]
fn apply_shows_the_warnings_with_the_plan_it_applies() {
    let sb = seeded_sandbox();
    let dir = state();
    let out = roster(
        dir.path(),
        &["apply", "--dry-run", "--sandbox-url", &sb.url],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let site = at(&out.stdout, "site acme-sigma (sigma)");
    assert!(at(&out.stdout, &format!("warning: {LOOKALIKE_LINE}")) < site);
    assert!(at(&out.stdout, &format!("warning: {EXPIRED_LINE}")) < site);
}

#[test]
fn a_file_not_read_is_a_warning_of_the_plan_and_stays_on_stderr() {
    let sb = seeded_sandbox();
    let dir = state();
    write_files(dir.path(), &[("state/more-people.tml", EXPIRED)]);
    let line = "warning: \"state/more-people.tml\": not read: its extension is not `.toml`; only files named *.toml are state (rename it, or move it out of state)";
    for format in ["text", "markdown", "json"] {
        let out = roster(
            dir.path(),
            &["plan", "--format", format, "--sandbox-url", &sb.url],
            &[],
        );
        assert_eq!(out.code, 0, "{format}: {}", out.all());
        assert!(
            out.stderr.starts_with(&format!("{line}\n")),
            "{format}: {}",
            out.stderr
        );
        let shown = match format {
            "json" => "its extension is not `.toml`",
            _ => "more-people.tml",
        };
        let site = out.stdout.find("acme-sigma").unwrap();
        assert!(at(&out.stdout, shown) < site, "{format}: {}", out.stdout);
    }
}

#[test]
fn a_file_with_an_extension_after_toml_is_a_warning_of_every_plan_format() {
    let sb = seeded_sandbox();
    let dir = state();
    let names = [
        "c.toml.txt",
        "p.toml.save",
        "q.toml.old",
        "r.toml.1",
        "s.toml.new",
        "u.toml.disabled",
        "v.toml.md",
        "l.toml.d",
        "w.TOML.Old",
    ];
    for name in names {
        write_files(dir.path(), &[(&format!("state/{name}"), EXPIRED)]);
    }
    for format in ["text", "markdown", "json"] {
        let out = roster(
            dir.path(),
            &["plan", "--format", format, "--sandbox-url", &sb.url],
            &[],
        );
        assert_eq!(out.code, 0, "{format}: {}", out.all());
        for name in names {
            let line = format!(
                "warning: \"state/{name}\": not read: its name has another extension after `.toml`; only files named *.toml are state (rename it, or move it out of state)"
            );
            assert!(out.stderr.contains(&line), "{format}: {}", out.stderr);
            assert!(out.stdout.contains(name), "{format} {name}: {}", out.stdout);
        }
    }
}

#[test]
fn a_file_name_holding_an_invisible_character_is_escaped_once() {
    let sb = seeded_sandbox();
    let dir = state();
    write_files(dir.path(), &[("state/b.toml\u{200b}", EXPIRED)]);
    for format in ["text", "markdown"] {
        let out = roster(
            dir.path(),
            &["plan", "--format", format, "--sandbox-url", &sb.url],
            &[],
        );
        assert_eq!(out.code, 0, "{format}: {}", out.all());
        assert!(
            out.stderr.contains(r"b.toml\u{200b}"),
            "{format}: {}",
            out.stderr
        );
        for twice in [r"\\u", "&#92;&#92;"] {
            assert!(!out.all().contains(twice), "{format}: {}", out.all());
        }
    }
}
