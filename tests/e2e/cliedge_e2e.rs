//! End to end, at the command-line edge: the JSON apply result, progress
//! and log colour when not on a terminal, help, version and small words.

use crate::common::*;
use serde_json::Value;

const KEY: (&str, &str) = ("ACME_KEY", "sandbox-periscope-key");

/// `(key, outcome, http_status, error, reason)` of each change of site acme.
fn outcomes(doc: &Value) -> Vec<(String, String, Value, Value, Value)> {
    assert_eq!(doc["results"][0]["site"], "acme");
    doc["results"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["key"].as_str().unwrap().to_string(),
                c["outcome"].as_str().unwrap().to_string(),
                c["http_status"].clone(),
                c["error"].clone(),
                c["reason"].clone(),
            )
        })
        .collect()
}

fn expected_outcomes() -> Vec<(String, String, Value, Value, Value)> {
    let long = "G".repeat(120);
    vec![
        (
            long.clone(),
            "failed".into(),
            Value::from(400),
            Value::from(format!(
                "site `acme`: create group {long}: HTTP 400: group names are at most 100 characters"
            )),
            Value::Null,
        ),
        (
            "ada@acme.com".into(),
            "applied".into(),
            Value::Null,
            Value::Null,
            Value::Null,
        ),
        (
            "new@acme.com".into(),
            "skipped".into(),
            Value::Null,
            Value::Null,
            Value::from(format!(
                "not attempted: it needs group `{long}`, whose change failed"
            )),
        ),
        (
            "zoe@acme.com".into(),
            "applied".into(),
            Value::Null,
            Value::Null,
            Value::Null,
        ),
    ]
}

#[test]
fn apply_format_json_prints_one_document_with_each_changes_outcome() {
    let sb = seeded_sandbox();
    let dir = failing_group_state(&sb.url);
    let out = roster(dir.path(), &["apply", "--yes", "--format", "json"], &[KEY]);
    assert_eq!(out.code, 1, "{}", out.all());
    let doc: Value = serde_json::from_str(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["format_version"], 1);
    assert_eq!(doc["status"], "failed");
    assert_eq!(doc["dry_run"], false);
    assert_eq!(
        doc["summary"],
        serde_json::json!({"applied": 2, "failed": 1, "skipped": 1, "not_started": 0})
    );
    assert_eq!(doc["plan"]["format_version"], 1);
    assert_eq!(
        doc["plan"]["sites"][0]["changes"].as_array().unwrap().len(),
        4
    );
    assert_eq!(outcomes(&doc), expected_outcomes());
    assert_eq!(
        out.stderr,
        "error: 1 of 4 changes failed; see the JSON result\n"
    );
    // The live outcome is what the document says.
    let emails = live_emails(&sb);
    assert!(emails.contains(&"zoe@acme.com".to_string()));
    assert!(!emails.contains(&"new@acme.com".to_string()));
    let groups: Vec<String> = sb.sandbox.data().periscope["acme"]
        .groups
        .iter()
        .map(|g| g.name.clone())
        .collect();
    assert!(!groups.contains(&"G".repeat(120)), "{groups:?}");
}

#[test]
fn apply_report_writes_the_json_beside_the_text_run() {
    let sb = seeded_sandbox();
    let dir = failing_group_state(&sb.url);
    let out = roster(
        dir.path(),
        &["apply", "--yes", "--report", "result.json"],
        &[KEY],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .ends_with("Apply finished: 2 applied, 1 failed, 1 skipped.\nRun `roster plan` to see what is left, then `roster apply` again to finish.\n"),
        "{}",
        out.stdout
    );
    assert_eq!(
        out.stderr,
        "Requests to acme: 5 sent, 0 retried (the plan estimated 6).\nWrote the apply result to result.json.\nerror: 1 of 4 changes failed; see the report above\n"
    );
    let text = std::fs::read_to_string(dir.path().join("result.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["status"], "failed");
    assert_eq!(outcomes(&doc), expected_outcomes());
}

#[test]
fn apply_report_refuses_a_directory_before_anything_is_sent() {
    let sb = seeded_sandbox();
    let dir = failing_group_state(&sb.url);
    std::fs::create_dir(dir.path().join("out")).unwrap();
    let out = roster(dir.path(), &["apply", "--yes", "--report", "out"], &[KEY]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "error: --report out: it is a directory; the apply result is written only to a new path or over a regular file. Nothing was written\n"
    );
    assert!(writes(&sb).is_empty());
}

#[test]
fn apply_format_json_with_nothing_to_apply_and_a_dry_run() {
    let sb = seeded_sandbox();
    let dir = failing_group_state(&sb.url);
    let dry = roster(
        dir.path(),
        &["apply", "--dry-run", "--format", "json"],
        &[KEY],
    );
    let doc: Value = serde_json::from_str(&dry.stdout).expect("one JSON document");
    assert_eq!(doc["dry_run"], true);
    assert_eq!(doc["results"][0]["changes"].as_array().unwrap().len(), 4);
    assert!(
        writes(&sb)
            .iter()
            .all(|r| r.test_mode.as_deref() == Some("true"))
    );

    let empty = state_dir(&[("site.toml", &periscope_site(&sb.url, "ACME_KEY"))]);
    // Take the state from the live site, then apply: nothing to do.
    let import = roster(empty.path(), &["import"], &[KEY]);
    assert_eq!(import.code, 0, "{}", import.all());
    let out = roster(
        empty.path(),
        &["apply", "--yes", "--format", "json"],
        &[KEY],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let doc: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(doc["status"], "nothing_to_apply");
    assert_eq!(doc["results"], serde_json::json!([]));
}

/// Runs `roster ARGS` in `cwd` with stderr piped and neither `CI` nor
/// `NO_COLOR` set: only the pipe keeps progress and colour away.
fn roster_piped(cwd: &std::path::Path, args: &[&str]) -> Output {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .current_dir(cwd)
        .args(args)
        .env_remove("CI")
        .env_remove("NO_COLOR")
        .env_remove("RUST_LOG")
        .env_remove("ROSTER_STATE")
        .env(KEY.0, KEY.1)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn no_progress_and_no_colour_when_stderr_is_not_a_terminal() {
    let sb = seeded_sandbox();
    let dir = failing_group_state(&sb.url);
    let plan = roster_piped(dir.path(), &["plan", "-v"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(plan.stderr.contains("state loaded"), "{}", plan.stderr);
    assert!(!plan.all().contains('\u{1b}'), "{:?}", plan.stderr);
    let apply = roster_piped(dir.path(), &["apply", "--yes"]);
    assert_eq!(apply.code, 1);
    // No bar, no spinner, no cursor movement: the requests sent, the error.
    assert_eq!(
        apply.stderr,
        "Requests to acme: 5 sent, 0 retried (the plan estimated 6).\nerror: 1 of 4 changes failed; see the report above\n"
    );
    assert!(!apply.stdout.contains('\u{1b}'));
}

#[test]
fn help_lists_global_options_only_where_they_apply_with_env_names_and_examples() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("ROSTER_STATE", "secret-looking-dir")];
    let plan = roster(dir.path(), &["plan", "--help"], &env);
    assert_eq!(plan.code, 0);
    assert!(
        plan.stdout.contains("\nGlobal Options:\n"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("[env: ROSTER_STATE]\n"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("[env: ROSTER_SITES_FROM]\n"));
    assert!(!plan.stdout.contains("ROSTER_STATE="));
    assert!(!plan.stdout.contains("secret-looking-dir"));
    for (command, example) in [
        ("plan", "  $ roster plan --site acme --out plan.json\n"),
        ("apply", "  $ roster apply plan.json --yes\n"),
        ("import", "  $ roster import --csv people.csv --dry-run\n"),
    ] {
        let out = roster(dir.path(), &[command, "--help"], &[]);
        assert!(
            out.stdout.contains("\nExamples:\n"),
            "{command}: {}",
            out.stdout
        );
        assert!(out.stdout.contains(example), "{command}: {}", out.stdout);
    }
    for command in ["schema", "sandbox", "completions", "man"] {
        let out = roster(dir.path(), &[command, "--help"], &[]);
        assert_eq!(out.code, 0, "{command}");
        for global in [
            "--state",
            "--site",
            "--sites-from",
            "--verbose",
            "Global Options",
        ] {
            assert!(
                !out.stdout.contains(global),
                "{command} lists {global}: {}",
                out.stdout
            );
        }
    }
    let fmt = roster(dir.path(), &["fmt", "--help"], &[]);
    assert!(fmt.stdout.contains("--state <DIR>"));
    assert!(!fmt.stdout.contains("--site"), "{}", fmt.stdout);
}

#[test]
fn global_options_still_work_before_and_after_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let state = repo_state();
    let state = state.to_str().unwrap();
    for args in [
        vec!["--state", state, "validate"],
        vec!["validate", "--state", state],
        vec!["-v", "--state", state, "fmt", "--check"],
        vec!["fmt", "--check", "--state", state, "-v"],
        vec!["schema", "-vv"],
        vec!["-v", "schema"],
        vec!["--state", state, "--site", "acme", "sites"],
        vec!["sites", "--site", "acme", "--state", state],
    ] {
        let out = roster(dir.path(), &args, &[]);
        assert_eq!(out.code, 0, "{args:?}: {}", out.all());
    }
    let sites = roster(
        dir.path(),
        &["sites", "--state", state, "--site", "acme"],
        &[],
    );
    assert_eq!(sites.stdout, "acme  periscope\n");
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())
    };
    let out = roster(dir.path(), &["--version"], &[]);
    assert_eq!(out.code, 0);
    let prefix = format!("roster {} (commit ", env!("CARGO_PKG_VERSION"));
    let commit = out
        .stdout
        .strip_prefix(&prefix)
        .and_then(|r| r.strip_suffix(")\n"))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    if git(&["rev-parse", "HEAD"]).is_none() {
        assert_eq!(commit, "unknown", "built outside git");
        return;
    }
    // The commit it was built from: one of this checkout's (HEAD, or an
    // ancestor when a commit landed between build and test).
    assert_eq!(commit.len(), 12, "{commit}");
    assert!(
        git(&["merge-base", "--is-ancestor", commit, "HEAD"]).is_some(),
        "{commit} is not a commit of this checkout"
    );
}

#[test]
fn import_says_what_plan_will_still_show_and_names_new_files() {
    let sb = seeded_sandbox();
    let ghost =
        "[[users]]\nemail = \"ghost@acme.com\"\nfirst_name = \"Gone\"\nlast_name = \"Away\"\n";
    let dir = state_dir(&[
        ("site.toml", &periscope_site(&sb.url, "ACME_KEY")),
        ("ghost.toml", ghost),
    ]);
    let out = roster(dir.path(), &["import"], &[KEY]);
    assert_eq!(out.code, 0, "{}", out.all());
    let tail: Vec<&str> = out.stdout.lines().rev().take(2).collect();
    assert_eq!(
        tail,
        [
            "`roster plan` will still show 1 change: what the state declares and the sites lack (import keeps it; `roster import --prune` takes it off the state), and access past its `expires` date (import keeps the date).",
            "Review with `git diff`, and `git add` the new file it does not show: state/imported/acme.toml.",
        ]
    );
    let plan = roster(dir.path(), &["plan", "--detailed-exitcode"], &[KEY]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(
        plan.stdout
            .starts_with("Plan: 1 to create, 0 to update, 0 to delete.\n"),
        "{}",
        plan.stdout
    );

    let pruned = roster(dir.path(), &["import", "--prune"], &[KEY]);
    assert_eq!(pruned.code, 0, "{}", pruned.all());
    assert!(
        pruned.stdout.ends_with(
            "acme: 0 people added, 0 updated, 1 removed; 0 groups added, 0 updated, 0 removed\nReview with `git diff`.\n`roster plan` should now show no changes.\n"
        ),
        "{}",
        pruned.stdout
    );
    let plan = roster(dir.path(), &["plan", "--detailed-exitcode"], &[KEY]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(writes(&sb).is_empty());
}

#[test]
fn one_person_is_a_person() {
    let dir = state_dir(&[
        (
            "site.toml",
            &periscope_site("http://127.0.0.1:9", "ACME_KEY"),
        ),
        (
            "people.toml",
            "[[users]]\nemail = \"ada@acme.com\"\nfirst_name = \"Ada\"\nlast_name = \"King\"\n",
        ),
    ]);
    std::fs::write(
        dir.path().join("one.csv"),
        "Email,First Name\nada@acme.com,Adelaide\n",
    )
    .unwrap();
    let dry = roster(
        dir.path(),
        &["import", "--csv", "one.csv", "--dry-run"],
        &[],
    );
    assert_eq!(dry.code, 0, "{}", dry.all());
    assert!(
        dry.stdout
            .ends_with("Would update 1 person in 1 file; nothing was written.\n"),
        "{}",
        dry.stdout
    );
    let out = roster(dir.path(), &["import", "--csv", "one.csv"], &[]);
    assert_eq!(
        out.stdout,
        "edited state/people.toml\nUpdated 1 person from one.csv. Review with `git diff`, then `roster plan`.\n"
    );
}

#[test]
fn a_tripped_guard_is_explained_once() {
    let sb = seeded_sandbox();
    let admin = "[[users]]\nemail = \"admin@acme.com\"\nfirst_name = \"Site\"\nlast_name = \"Admin\"\ngroups = [\"Administrators\"]\n";
    let dir = state_dir(&[
        ("site.toml", &periscope_site(&sb.url, "ACME_KEY")),
        ("people.toml", admin),
    ]);
    let plan = roster(dir.path(), &["plan"], &[KEY]);
    assert_eq!(plan.code, 1);
    assert_eq!(
        plan.stderr,
        "error: 2 blast-radius guards tripped; apply will refuse this plan:\n  site `acme`: 10 user removals (see `allow_removals` above)\n  site `acme`: 4 group deletions (see `allow_group_deletions` above)\n"
    );
    let long = "the plan removes 10 users (91% of 11 live)";
    assert_eq!(plan.all().matches(long).count(), 1, "{}", plan.all());
    let apply = roster(dir.path(), &["apply", "--yes"], &[KEY]);
    assert_eq!(apply.all().matches(long).count(), 1, "{}", apply.all());
    assert!(writes(&sb).is_empty());
}

#[test]
fn a_refused_key_through_sandbox_url_does_not_name_the_states_variable() {
    let sb = sandbox_with_key("another-key");
    let dir = state_dir(&[(
        "site.toml",
        &periscope_site("https://app.periscopedata.com", "ACME_KEY"),
    )]);
    let out = roster(dir.path(), &["plan", "--sandbox-url", &sb.url], &[]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        format!(
            "error: could not read the live state:\n  site `acme`: list users: HTTP 401: invalid API key for site 'acme' (with --sandbox-url roster sends the sandbox's test credentials, not the ones the state names; the sandbox at {}/ holds others for this site: see the credentials its banner lists, or start it again from the seed)\nnothing was changed\n",
            sb.url.trim_end_matches('/')
        )
    );
    assert!(!out.stderr.contains("ACME_KEY"));
}

#[test]
fn an_error_quoting_its_cause_says_it_once() {
    let dir = state_dir(&[(
        "site.toml",
        &periscope_site("http://127.0.0.1:9", "ACME_KEY"),
    )]);
    std::fs::create_dir(dir.path().join("plan.json")).unwrap();
    let out = roster(dir.path(), &["apply", "plan.json"], &[]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "error: cannot read the saved plan plan.json: Is a directory (os error 21)\n"
    );
}

#[test]
fn ctrl_c_at_the_confirmation_prompt_cancels_and_exits_130() {
    use std::io::{Read, Write};
    let sb = seeded_sandbox();
    let dir = failing_group_state(&sb.url);
    let command = format!("{} apply", env!("CARGO_BIN_EXE_roster"));
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir.path())
        .env(KEY.0, KEY.1)
        .env_remove("CI")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs roster on a pseudo-terminal");
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut stdout = child.stdout.take().unwrap();
    let reader = {
        let seen = seen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    let text = || String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !text().contains("[y/N] ") {
        assert!(
            std::time::Instant::now() < deadline,
            "no prompt: {}",
            text()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.stdin.as_mut().unwrap().write_all(b"\x03").unwrap();
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let out = text();
    assert_eq!(status.code(), Some(130), "{out}");
    let after = &out[out.find("[y/N] ").unwrap() + "[y/N] ".len()..];
    assert_eq!(
        after.replace("^C", ""),
        "\r\nCancelled; nothing was changed.\r\n"
    );
    assert!(writes(&sb).is_empty());
}

#[test]
fn the_hint_after_plan_out_against_the_sandbox_carries_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let state = repo_state();
    let out = roster(
        dir.path(),
        &[
            "plan",
            "--sandbox",
            "--out",
            "p.json",
            "--state",
            state.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stderr,
        format!(
            "Saved the plan to p.json; apply exactly this plan with `roster apply p.json --state {} --sandbox`.\n",
            state.display()
        )
    );
}

/// A site that cannot be read makes the run a failure in the JSON result
/// too, whatever was applied on the others (it said "finished").
#[test]
fn apply_json_with_an_unreadable_site_is_failed() {
    let sb = seeded_sandbox();
    let second = periscope_site(&sb.url, "OTHER_KEY")
        .replace("[sites.acme]", "[sites.acme2]")
        .replace("site = \"acme\"", "site = \"acme2\"");
    let dir = state_dir(&[
        (
            "site.toml",
            &format!(
                "{}\nunmanaged_users = \"keep\"\nunmanaged_groups = \"keep\"\n\n{second}",
                periscope_site(&sb.url, "ACME_KEY")
            ),
        ),
        (
            "people.toml",
            "[[users]]\nemail = \"new@acme.com\"\nfirst_name = \"New\"\nlast_name = \"Person\"\nsites = [\"acme\"]\n",
        ),
    ]);
    let out = roster(
        dir.path(),
        &["apply", "--yes", "--format", "json"],
        &[KEY, ("OTHER_KEY", "wrong")],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let doc: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(doc["status"], "failed", "{}", out.stdout);
    assert_eq!(
        doc["unreadable"].as_array().unwrap().len(),
        1,
        "{}",
        out.stdout
    );
    assert!(live_emails(&sb).contains(&"new@acme.com".to_string()));
}
