//! End to end: the binary's shell completions and man page.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::*;

/// Whether `program` is on this machine (`.ci/run` installs zsh, fish and
/// mandoc; elsewhere those checks are skipped, bash is always there).
fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `program ARGS` with `input` on its standard input; its exit code
/// and what it printed on stderr.
fn check_with(program: &str, args: &[&str], input: &str) -> (i32, String) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn completions_are_generated_for_every_shell_and_parse() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = roster(dir.path(), &["completions", shell], &[]);
        assert_eq!(out.code, 0, "{shell}: {}", out.all());
        for word in [
            "plan",
            "apply",
            "import",
            "sandbox-url",
            "detailed-exitcode",
        ] {
            assert!(out.stdout.contains(word), "{shell} completes {word}");
        }
        let syntax = match shell {
            "bash" => Some(("bash", vec!["-n"])),
            "zsh" if have("zsh") => Some(("zsh", vec!["-n"])),
            "fish" if have("fish") => Some(("fish", vec!["--no-execute"])),
            _ => None,
        };
        if let Some((program, args)) = syntax {
            let (code, err) = check_with(program, &args, &out.stdout);
            assert_eq!(code, 0, "{shell} -n: {err}");
        }
    }
    let bad = roster(dir.path(), &["completions", "tcsh"], &[]);
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.contains("invalid value 'tcsh'"),
        "{}",
        bad.stderr
    );
}

#[test]
fn the_man_page_renders_with_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = roster(dir.path(), &["man"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.starts_with(".ie \\n(.g .ds Aq"),
        "roff: {}",
        &out.stdout[..80]
    );
    assert!(out.stdout.contains(".TH roster 1"));
    for command in [
        "VALIDATE", "PLAN", "APPLY", "IMPORT", "EXPORT", "FMT", "SANDBOX",
    ] {
        assert!(
            out.stdout.contains(&format!(".SH \"ROSTER {command}\"")),
            "a section for {command}"
        );
    }
    assert!(out.stdout.contains("\\-\\-detailed\\-exitcode"));
    let (code, err) = check_with("groff", &["-man", "-z", "-ww"], &out.stdout);
    if have("groff") {
        assert_eq!((code, err.as_str()), (0, ""), "groff warns");
    }
    if have("mandoc") {
        let (code, err) = check_with("mandoc", &["-T", "lint", "-W", "error"], &out.stdout);
        assert_eq!(code, 0, "mandoc: {err}");
    }
}
