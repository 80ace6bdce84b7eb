//! The README's "A first run, no credentials needed" is what the binary
//! does: each command of its first console block, run in a copy of this
//! repo's `state/` and `examples/` against a fresh `--sandbox`, prints what
//! the README shows, and the comments on the apply lines say what happens.

use crate::common::*;
use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};

/// The first console block after the README's first-run heading.
fn first_run_block() -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("\n## A first run, no credentials needed\n")
        .nth(1)
        .expect("the README has its first-run section");
    let open = section.find("```console\n").unwrap() + "```console\n".len();
    let close = section[open..].find("\n```").unwrap();
    section[open..=open + close].to_string()
}

/// The line `$ COMMAND` of `block`, with its `# comment` if it has one.
fn command_line<'a>(block: &'a str, command: &str) -> &'a str {
    block
        .lines()
        .find(|l| {
            l.strip_prefix("$ ")
                .and_then(|rest| rest.strip_prefix(command))
                .is_some_and(|after| after.is_empty() || after.trim_start().starts_with("# "))
        })
        .unwrap_or_else(|| panic!("the first run shows `$ {command}`:\n{block}"))
}

/// The text `block` shows after the line `$ COMMAND` up to the next `$ `.
fn shown_after(block: &str, command: &str) -> String {
    let want = format!("$ {command}");
    let mut lines = block.lines().skip_while(|l| *l != want);
    assert!(lines.next().is_some(), "the first run shows `{want}`");
    lines
        .take_while(|l| !l.starts_with("$ "))
        .flat_map(|l| [l, "\n"])
        .collect()
}

/// `shown` is `printed`; where the README cuts with a line `…`, every line
/// it does show appears in the output, in order.
fn assert_shows(shown: &str, printed: &str, command: &str) {
    if !shown.lines().any(|l| l.trim() == "…") {
        assert_eq!(
            shown, printed,
            "README.md's output of `{command}` (left) drifted from the binary's (right)"
        );
        return;
    }
    let mut rest = printed.lines();
    for line in shown.lines().filter(|l| l.trim() != "…") {
        assert!(
            rest.any(|p| p == line),
            "README.md shows `{line}` after `{command}`, which the binary does not print there:\n{printed}"
        );
    }
}

/// A temporary copy of this repo's `state/` and `examples/`.
fn repo_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for sub in ["state", "examples"] {
        copy_dir(&repo.join(sub), &dir.path().join(sub));
    }
    dir
}

/// `roster ARGS` in `cwd` (words of `command` after `roster`), checked
/// against what the README shows after `$ COMMAND`; the output.
fn run_as_shown(cwd: &Path, block: &str, command: &str) -> Output {
    let args: Vec<&str> = command.split_whitespace().skip(1).collect();
    let out = roster(cwd, &args, &[]);
    assert_eq!(out.code, 0, "`{command}`: {}", out.all());
    assert_eq!(out.stderr, "", "`{command}` says more on stderr");
    assert_shows(&shown_after(block, command), &out.stdout, command);
    out
}

/// `roster apply --sandbox` in `cwd` with a terminal as its standard input,
/// answering `yes`: its exit code and stderr (where the prompt goes).
fn apply_answering_yes(cwd: &Path) -> (i32, String) {
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two descriptors that we then own.
    let rc = unsafe {
        libc::openpty(
            &raw mut master,
            &raw mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and nothing else owns them.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut terminal = std::fs::File::from(master);
    terminal.write_all(b"yes\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_roster"))
        .current_dir(cwd)
        .args(["apply", "--sandbox"])
        .env_remove("ROSTER_STATE")
        .env_remove("RUST_LOG")
        .env_remove("CLICOLOR_FORCE")
        .env("NO_COLOR", "1")
        .stdin(Stdio::from(slave))
        .output()
        .unwrap();
    drop(terminal);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The numbers the dry run's comment gives: writes checked, writes not sent.
fn dry_run_counts(line: &str) -> (String, String) {
    let comment = line.split_once("# ").expect("the dry run has a comment").1;
    let checked = comment
        .split_once(" writes checked with test_mode=true, ")
        .expect("the comment says how many writes are checked");
    let not_sent = checked.1.split_once(" not sent").unwrap().0;
    (checked.0.to_string(), not_sent.to_string())
}

#[test]
fn the_readme_first_run_is_what_the_binary_prints() {
    let block = first_run_block();
    let dir = repo_copy();
    let cwd = dir.path();

    let first = run_as_shown(cwd, &block, "roster plan --sandbox");
    assert!(cwd.join(".roster/sandbox.json").exists());
    let sigma = run_as_shown(cwd, &block, "roster plan --sandbox --state examples/sigma");
    for shown in [
        "grant Finance  workspace",
        "grant Snowflake Prod  connection",
        "attribute values linus@acme.com",
        "Analyst Pro",
    ] {
        assert!(sigma.stdout.contains(shown), "{shown}: {}", sigma.stdout);
    }

    // The dry run: as many writes checked and not sent as its comment says,
    // and nothing changed (the same plan after it).
    let (checked, not_sent) =
        dry_run_counts(command_line(&block, "roster apply --sandbox --dry-run"));
    let dry = roster(cwd, &["apply", "--sandbox", "--dry-run"], &[]);
    assert_eq!(dry.code, 0, "{}", dry.all());
    assert!(
        dry.stdout.ends_with(&format!(
            "\nDry run finished: {checked} accepted with test_mode=true, 0 failed, {not_sent} not sent; nothing was changed.\n"
        )),
        "{}",
        dry.stdout
    );
    assert_eq!(
        roster(cwd, &["plan", "--sandbox"], &[]).stdout,
        first.stdout
    );

    // The apply asks what the README says, on a terminal, and applies.
    let line = command_line(&block, "roster apply --sandbox");
    let prompt = line
        .split_once("# asks \"")
        .and_then(|(_, p)| p.strip_suffix('"'))
        .expect("the apply line quotes its prompt");
    let (code, stderr) = apply_answering_yes(cwd);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains(&format!("\n{prompt} ")), "{stderr}");

    run_as_shown(cwd, &block, "roster plan --sandbox --detailed-exitcode");
    // "start again from the seed": the first plan once more.
    let reset = roster(cwd, &["plan", "--sandbox", "--sandbox-reset"], &[]);
    assert_eq!(reset.code, 0, "{}", reset.all());
    assert_eq!(reset.stdout, first.stdout);
}

#[test]
fn a_drifted_readme_block_is_caught() {
    let printed = "Plan: 1 to create.\n\nsite a — 1 to create\n  + user  x\n";
    assert_shows(printed, printed, "exact");
    assert_shows("Plan: 1 to create.\n…\n  + user  x\n", printed, "cut");
    let drifted = [
        "Plan: 2 to create.\n\nsite a — 1 to create\n  + user  x\n",
        "Plan: 1 to create.\n…\n  + user  y\n",
        "  + user  x\n…\nPlan: 1 to create.\n",
    ];
    for shown in drifted {
        let caught = std::panic::catch_unwind(|| assert_shows(shown, printed, "drift"));
        assert!(caught.is_err(), "not caught:\n{shown}");
    }
}
