//! What a hostile pull-request author or a careless admin may write:
//! secrets in type errors, built-in groups renamed, dot segments in URL
//! paths, addresses the sites refuse, `sites = []`, near-miss file names, a
//! plan written over the sandbox's data, a credential command that never
//! ends, and README text that drifted from the binary.

use std::path::Path;

use crate::common::*;
use crate::validation::{ADA, SITE};

/// A site table of `provider` with `key = value` added.
fn site_with(provider: &str, key: &str, value: &str) -> String {
    let base = match provider {
        "periscope" => {
            "provider = \"periscope\"\nsite = \"acme\"\ninvited_by = \"admin@acme.com\"\n"
        }
        "sigma" => "provider = \"sigma\"\ncloud = \"aws-us-west\"\n",
        _ => "provider = \"scim\"\nbase_url = \"https://scim.example.com/scim/v2\"\n",
    };
    let mut text = format!("[sites.acme]\n{base}");
    for (k, env) in [
        ("api_key", "K"),
        ("client_id", "I"),
        ("client_secret", "S"),
        ("token", "T"),
    ] {
        let needed = match provider {
            "periscope" => k == "api_key",
            "sigma" => k.starts_with("client"),
            _ => k == "token",
        };
        if k == key {
            text.push_str(&format!("{k} = {value}\n"));
        } else if needed {
            text.push_str(&format!("{k} = {{ env = \"{env}\" }}\n"));
        }
    }
    text
}

/// Runs validate and plan (against `url`) on `files`: both exit 1 with
/// `expected` in order on stderr, nothing on stdout.
fn refused(url: &str, name: &str, files: &[(&str, &str)], expected: &[&str]) -> String {
    let dir = state_dir(files);
    let envs = [
        ("ACME_KEY", "k"),
        ("K", "k"),
        ("I", "i"),
        ("S", "s"),
        ("T", "t"),
    ];
    let mut stderr = String::new();
    for args in [&["validate"][..], &["plan", "--sandbox-url", url]] {
        let out = roster(dir.path(), args, &envs);
        assert_eq!(out.code, 1, "{name}: {args:?}; stderr:\n{}", out.stderr);
        assert!(
            out.stdout.is_empty(),
            "{name}: {args:?} printed {}",
            out.stdout
        );
        let lines: Vec<&str> = out.stderr.lines().collect();
        let start = lines.iter().position(|l| *l == expected[0]);
        assert!(
            start.is_some_and(|s| lines[s..].starts_with(expected)),
            "{name}: expected\n{}\nin stderr:\n{}",
            expected.join("\n"),
            out.stderr
        );
        assert!(
            out.stderr.trim_end().ends_with("nothing was contacted"),
            "{name}: {}",
            out.stderr
        );
        stderr = out.stderr;
    }
    stderr
}

#[test]
fn a_secret_of_any_type_written_inline_is_never_echoed() {
    let sb = seeded_sandbox();
    let secret = "98765432123456789";
    for (provider, field) in [
        ("periscope", "api_key"),
        ("sigma", "client_id"),
        ("sigma", "client_secret"),
        ("scim", "token"),
    ] {
        let col = field.len() + 4;
        for value in [
            secret.to_string(),
            format!("{secret}.5"),
            format!("[{secret}]"),
            "1979-05-27T07:32:00Z".to_string(),
            "true".to_string(),
        ] {
            let site = site_with(provider, field, &value);
            let line = site.lines().position(|l| l.starts_with(field)).unwrap() + 1;
            let at = format!(
                "error: state/site.toml:{line}:{col}: site `acme`: the {field} is written inline; secrets never live in state files"
            );
            let stderr = refused(&sb.url, field, &[("site.toml", &site)], &[&at]);
            assert!(
                stderr.contains(
                    "  hint: remove it from the file (and rotate it if it was committed)"
                ),
                "{stderr}"
            );
            for shown in [secret, "1979", "true"] {
                assert!(
                    !stderr.contains(shown),
                    "{field} = {value} echoed:\n{stderr}"
                );
            }
        }
        for (key, value) in [("env", secret), ("command", "[98765432123456789]")] {
            let site = site_with(provider, field, &format!("{{ {key} = {value} }}"));
            let line = site.lines().position(|l| l.starts_with(field)).unwrap() + 1;
            let at = format!(
                "error: state/site.toml:{line}:{col}: site `acme`: the {field}'s `{key}` is not a string (the value is not shown)"
            );
            let stderr = refused(&sb.url, field, &[("site.toml", &site)], &[&at]);
            assert!(!stderr.contains(secret), "{field}.{key} echoed:\n{stderr}");
        }
    }
    assert!(
        sb.sandbox.requests().is_empty(),
        "bad input reached the sandbox"
    );
}

#[test]
fn a_built_in_group_as_a_previous_name_is_refused_at_load() {
    let sb = seeded_sandbox();
    for (written, col) in [("Administrators", 19), ("all users", 19)] {
        let groups = format!(
            "[[groups]]\nname = \"Analysts\"\naccess = \"sql\"\nprevious_names = [\"{written}\"]\n"
        );
        let at = format!(
            "error: state/groups.toml:4:{col}: group `Analysts`: `{written}` is a built-in group and cannot be a previous name"
        );
        refused(
            &sb.url,
            written,
            &[("site.toml", SITE), ("groups.toml", &groups)],
            &[
                &at,
                "  hint: built-in groups exist on every Periscope site and are never renamed; remove it from previous_names",
            ],
        );
    }
    assert!(
        sb.sandbox.requests().is_empty(),
        "bad input reached the sandbox"
    );
}

#[test]
fn addresses_and_names_the_sites_refuse_are_refused_at_load() {
    let sb = seeded_sandbox();
    for email in [
        r#"\"a b\"@acme.com"#,
        r#"\"ada\"@acme.com"#,
        "ada@[127.0.0.1]",
        "ada@acme_corp.com",
        "ada@-acme.com",
        "ada@acme.123",
        "ada(comment)@acme.com",
        "ada..l@acme.com",
    ] {
        let people = ADA.replace("ada@acme.com", email);
        let shown = email.replace('\\', "");
        let at = format!("error: state/people.toml:2:9: `{shown}` is not a valid email address");
        refused(
            &sb.url,
            email,
            &[("site.toml", SITE), ("people.toml", &people)],
            &[
                &at,
                "  hint: write the address the person signs in with, such as ada@example.com",
            ],
        );
    }
    for (field, value, col) in [
        ("first_name", "", 14),
        ("first_name", "  ", 14),
        ("last_name", "\\t", 13),
    ] {
        let people = ADA.replace(
            &format!(
                "{field} = \"{}\"",
                if field == "first_name" {
                    "Ada"
                } else {
                    "Lovelace"
                }
            ),
            &format!("{field} = \"{value}\""),
        );
        let line = if field == "first_name" { 3 } else { 4 };
        let at = format!(
            "error: state/people.toml:{line}:{col}: `ada@acme.com`: `{field}` cannot be blank"
        );
        let hint = format!(
            "  hint: write the person's {} as the site shows it",
            field.replace('_', " ")
        );
        refused(
            &sb.url,
            field,
            &[("site.toml", SITE), ("people.toml", &people)],
            &[&at, &hint],
        );
    }
    let with_override = format!("{ADA}[users.overrides.acme]\nlast_name = \" \"\n");
    refused(
        &sb.url,
        "override",
        &[("site.toml", SITE), ("people.toml", &with_override)],
        &["error: state/people.toml:6:13: `ada@acme.com`: `last_name` cannot be blank"],
    );
    refused(
        &sb.url,
        "blank group",
        &[
            ("site.toml", SITE),
            (
                "groups.toml",
                "[[groups]]\nname = \" \"\naccess = \"sql\"\n",
            ),
        ],
        &[
            "error: state/groups.toml:2:8: a group name cannot be empty",
            "  hint: write the group's name as the site shows it, or delete the entry",
        ],
    );
    assert!(
        sb.sandbox.requests().is_empty(),
        "bad input reached the sandbox"
    );
}

#[test]
fn addresses_the_sites_take_still_load() {
    let people = [
        "ADA.Lovelace+bi@mail.acme.co.uk",
        "o'brien@acme.com",
        "x_y@sub-domain.acme.io",
    ]
    .iter()
    .map(|e| ADA.replace("ada@acme.com", e))
    .collect::<String>();
    let dir = state_dir(&[("site.toml", SITE), ("people.toml", &people)]);
    let out = roster(dir.path(), &["validate"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn sites_empty_on_a_person_or_group_is_refused_at_load() {
    let sb = seeded_sandbox();
    let person = format!("{ADA}  sites = []\n");
    refused(
        &sb.url,
        "person",
        &[("site.toml", SITE), ("people.toml", &person)],
        &[
            "error: state/people.toml:5:3: `ada@acme.com`: `sites = []` puts it on no site, so every site would see it as undeclared",
            "  hint: name a site, as in sites = [\"acme\"], leave `sites` out for every site, or delete the entry",
        ],
    );
    let group = "[[groups]]\nname = \"Analysts\"\naccess = \"sql\"\nsites = []\n";
    refused(
        &sb.url,
        "group",
        &[("site.toml", SITE), ("groups.toml", group)],
        &[
            "error: state/groups.toml:4:1: group `Analysts`: `sites = []` puts it on no site, so every site would see it as undeclared",
        ],
    );
    assert!(
        sb.sandbox.requests().is_empty(),
        "bad input reached the sandbox"
    );
}

const SANDBOX_KEY: [(&str, &str); 1] = [("ACME_KEY", "sandbox-periscope-key")];

/// This repository's state, its site pointed at `url`.
fn repo_state_at(url: &str) -> tempfile::TempDir {
    let file = |name: &str| std::fs::read_to_string(repo_state().join(name)).unwrap();
    state_dir(&[
        ("roster.toml", &repo_site(url, "ACME_KEY", "")),
        ("people/business.toml", &file("people/business.toml")),
        ("people/data-team.toml", &file("people/data-team.toml")),
    ])
}

#[test]
fn a_group_named_dot_dot_is_refused_at_load_and_never_sent() {
    let sb = seeded_sandbox();
    for (name, col) in [("..", 8), (".", 8)] {
        let groups = format!("[[groups]]\nname = \"{name}\"\naccess = \"sql\"\n");
        let at = format!(
            "error: state/groups.toml:2:{col}: group name `{name}` cannot be used on Periscope site `acme`: its API names the group in the URL path, where `.` and `..` are dot segments that every HTTP client and server removes (even percent-encoded), so the request would reach another endpoint"
        );
        refused(
            &sb.url,
            name,
            &[("site.toml", SITE), ("groups.toml", &groups)],
            &[
                &at,
                "  hint: give the group a name with a letter or digit in it, or limit the group's sites to non-Periscope sites",
            ],
        );
    }
    let renamed = "[[groups]]\nname = \"Analysts\"\naccess = \"sql\"\nprevious_names = [\"..\"]\n";
    refused(
        &sb.url,
        "previous name",
        &[("site.toml", SITE), ("groups.toml", renamed)],
        &[
            "error: state/groups.toml:4:19: group name `..` cannot be used on Periscope site `acme`: its API names the group in the URL path, where `.` and `..` are dot segments that every HTTP client and server removes (even percent-encoded), so the request would reach another endpoint",
        ],
    );
    assert!(
        sb.sandbox.requests().is_empty(),
        "bad input reached the sandbox"
    );
}

#[test]
fn a_live_group_named_dot_dot_is_never_deleted_through_another_endpoint() {
    let mut data = persist::seed();
    let groups = &mut data.periscope.get_mut("acme").unwrap().groups;
    let mut dots = groups[0].clone();
    dots.name = "..".into();
    groups.push(dots);
    let sb = BackgroundSandbox::start(data).unwrap();
    let before = sb.sandbox.data();
    let dir = repo_state_at(&sb.url);
    for args in [&["plan"][..], &["apply", "--yes"]] {
        let out = roster(dir.path(), args, &SANDBOX_KEY);
        assert_eq!(out.code, 1, "{args:?}: {}", out.all());
        assert!(
            out.stderr.contains("site `acme`: group \"..\" cannot be addressed by Periscope's API: the URL path names the group, and `.` and `..` are dot segments that every HTTP client and server removes (even percent-encoded), so the request would reach another endpoint; rename it in Periscope's UI, or set unmanaged_groups = \"keep\" for the site"),
            "{args:?}: {}",
            out.all()
        );
    }
    assert!(only_reads(&sb), "a write was sent: {:?}", writes(&sb));
    assert_eq!(sb.sandbox.data(), before, "the live site changed");
}

#[test]
fn files_that_look_like_state_but_are_not_read_are_named() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[
        ("site.toml", &periscope_site(&sb.url, "ACME_KEY")),
        ("people/x.tml", ADA),
        ("people/y.toml ", ADA),
        ("people/z.Tmol", ADA),
        ("README.md", "# the state\n"),
        ("notes.txt", "x\n"),
    ]);
    let warnings = [
        "warning: \"state/people/x.tml\": not read: its extension is not `.toml`; only files named *.toml are state (rename it, or move it out of state)",
        "warning: \"state/people/y.toml \": not read: its name has spaces or dots after `.toml`; only files named *.toml are state (rename it, or move it out of state)",
        "warning: \"state/people/z.Tmol\": not read: its extension is not `.toml`; only files named *.toml are state (rename it, or move it out of state)",
    ];
    for args in [&["validate"][..], &["fmt", "--check"], &["plan"]] {
        let out = roster(dir.path(), args, &SANDBOX_KEY);
        let shown: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| l.starts_with("warning:"))
            .collect();
        assert_eq!(shown, warnings, "{args:?}: {}", out.all());
    }
    let out = roster(dir.path(), &["validate"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("Read 1 state file"), "{}", out.stdout);
}

#[test]
fn a_plan_or_report_is_never_written_over_the_sandbox_data() {
    let dir = repo_state_at("http://127.0.0.1:9");
    let root = dir.path();
    let first = roster(root, &["plan", "--sandbox"], &[]);
    assert_eq!(first.code, 0, "{}", first.all());
    let data = root.join(".roster/sandbox.json");
    let before = std::fs::read(&data).unwrap();
    std::fs::create_dir_all(root.join("custom")).unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["plan", "--sandbox", "--out", ".roster/sandbox.json"],
            "error: --out .roster/sandbox.json: it is the sandbox's data file (--sandbox-data .roster/sandbox.json), which --sandbox reads its sites from; save the plan elsewhere (e.g. --out plan.json). Nothing was written",
        ),
        (
            &["plan", "--out", "custom/../.roster/sandbox.json"],
            "error: --out custom/../.roster/sandbox.json: it is the sandbox's data file (--sandbox-data .roster/sandbox.json), which --sandbox reads its sites from; save the plan elsewhere (e.g. --out plan.json). Nothing was written",
        ),
        (
            &["plan", "--sandbox", "--out", ".roster/sandbox.json.lock"],
            "error: --out .roster/sandbox.json.lock: it is the sandbox's data file's lock (--sandbox-data .roster/sandbox.json), which --sandbox reads its sites from; save the plan elsewhere (e.g. --out plan.json). Nothing was written",
        ),
        (
            &[
                "plan",
                "--sandbox",
                "--sandbox-data",
                "custom/sb.json",
                "--out",
                "./custom/sb.json",
            ],
            "error: --out ./custom/sb.json: it is the sandbox's data file (--sandbox-data custom/sb.json), which --sandbox reads its sites from; save the plan elsewhere (e.g. --out plan.json). Nothing was written",
        ),
        (
            &[
                "apply",
                "--yes",
                "--sandbox",
                "--report",
                ".roster/sandbox.json",
            ],
            "error: --report .roster/sandbox.json: it is the sandbox's data file (--sandbox-data .roster/sandbox.json), which --sandbox reads its sites from;",
        ),
    ];
    for (args, expected) in cases {
        let out = roster(root, args, &[]);
        assert_eq!(out.code, 1, "{args:?}: {}", out.all());
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
        assert!(out.stderr.starts_with(expected), "{args:?}: {}", out.stderr);
    }
    assert_eq!(
        std::fs::read(&data).unwrap(),
        before,
        "the sandbox's data changed"
    );
    assert!(!root.join(".roster/sandbox.json.lock").exists());
    assert!(!root.join("custom/sb.json").exists());
}

#[test]
fn a_credential_command_that_never_ends_is_stopped_and_named() {
    let sb = seeded_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("sleeper.pid");
    let command = format!(
        "echo $THE_SECRET; sleep 300 & echo $! > {}; wait",
        pid_file.display()
    );
    let site = periscope_site(&sb.url, "UNUSED").replace(
        "api_key = { env = \"UNUSED\" }",
        &format!("api_key = {{ command = \"{command}\" }}"),
    );
    write_files(dir.path(), &[("state/site.toml", &site)]);
    let started = std::time::Instant::now();
    let envs = [
        ("ROSTER_CREDENTIAL_TIMEOUT", "1"),
        ("THE_SECRET", "s3cret-never-shown"),
    ];
    let out = roster(dir.path(), &["plan"], &envs);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(
        out.stderr,
        format!(
            "error: site `acme`: the command `{command}` did not finish within 1 s and was stopped (set ROSTER_CREDENTIAL_TIMEOUT to allow longer) (it holds one of the site's credentials)\nfix it and run again, or use --sandbox to try roster without credentials; nothing was contacted\n"
        )
    );
    assert!(!out.all().contains("s3cret-never-shown"));
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    // Gone, or a zombie waiting for init to reap it.
    let running = || {
        std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).is_ok_and(|stat| {
            !stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
    };
    let mut tries = 0;
    while running() && tries < 100 {
        std::thread::sleep(std::time::Duration::from_millis(20));
        tries += 1;
    }
    assert!(!running(), "what the command started still runs");
    assert!(sb.sandbox.requests().is_empty(), "a site was contacted");

    let bad = roster(
        dir.path(),
        &["plan"],
        &[("ROSTER_CREDENTIAL_TIMEOUT", "soon")],
    );
    assert_eq!(bad.code, 1, "{}", bad.all());
    assert!(
        bad.stderr.starts_with(&format!("error: site `acme`: the command `{command}` was not run: ROSTER_CREDENTIAL_TIMEOUT=\"soon\" is not a number of seconds from 1 to 86400, such as 30")),
        "{}",
        bad.stderr
    );
}

/// The README's text from the line after `marker` up to the closing fence.
fn readme_block(marker: &str) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find(marker).expect("the README holds the marker");
    let block = &readme[start..];
    let open = block.find("```console\n").unwrap() + "```console\n".len();
    let close = block[open..].find("```").unwrap();
    block[open..open + close].to_string()
}

#[test]
fn the_readme_validate_example_is_what_validate_prints() {
    let block = readme_block("`roster validate` checks everything without contacting any site");
    let expected = block.strip_prefix("$ roster validate\n").unwrap();
    let site = SITE.replace("api_key = { env = \"ACME_KEY\" }", "api_key = \"abc\"");
    let people = format!(
        "{ADA}groups = [\"Nope\"]\n\n{}",
        ADA.replace("ada@acme.com", "ADA@acme.com")
    );
    let dir = state_dir(&[("site.toml", &site), ("people/a.toml", &people)]);
    let out = roster(dir.path(), &["validate"], &[]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stderr, expected);
}

#[test]
fn the_readme_names_the_apply_prompt_and_the_help_every_connection_setting() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let apply = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/commands/apply.rs"
    ))
    .unwrap();
    // The prompt needs a terminal; its words are read from the source.
    let prompt = "? Only 'yes' or 'y' is accepted. [y/N]";
    assert!(
        apply.contains(&format!("site{{}}{prompt} ")),
        "the prompt changed"
    );
    let row = readme
        .lines()
        .find(|l| l.starts_with("| `roster apply [PLAN]`"))
        .unwrap();
    assert!(
        row.contains(&format!("`Apply N changes to M sites{prompt}`")),
        "{row}"
    );

    let help = roster(Path::new("."), &["plan", "--help"], &[]);
    let flat = help.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    let listed = flat
        .split("--sites-from <DIR> Take every site's connection settings (")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect("the help describes --sites-from");
    let secrets = [
        "api_key",
        "client_id",
        "client_secret",
        "token",
        "username",
        "password",
    ];
    for setting in roster::state::CONNECTION_SETTINGS {
        let named = if secrets.contains(setting) {
            "credential sources"
        } else {
            setting
        };
        assert!(
            listed.split(", ").any(|s| s == named),
            "--sites-from help omits {setting}: {listed}"
        );
    }
}
