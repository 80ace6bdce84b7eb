//! Records the commit roster is built from, for `roster --version`:
//! `git rev-parse --short HEAD` when built inside a git checkout, "unknown"
//! otherwise (a source tarball, a crate download); never fails the build.

// A build script talks to cargo on standard output.
#![allow(clippy::print_stdout)]

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=ROSTER_COMMIT");
    // A release build may be given the commit (e.g. from CI) directly.
    let commit = std::env::var("ROSTER_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        // A full SHA (as CI gives it) is shortened like git's.
        .map(|c| c.chars().take(12).collect::<String>())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_string());
    // Rebuilt when HEAD moves: the file HEAD, the branch it points at, and
    // packed refs (paths as git gives them, so worktrees work too).
    let mut watched = vec![git(&["rev-parse", "--git-path", "HEAD"])];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(git(&["rev-parse", "--git-path", &branch]));
    }
    watched.push(git(&["rev-parse", "--git-path", "packed-refs"]));
    for path in watched.into_iter().flatten() {
        println!("cargo:rerun-if-changed={path}");
    }
    println!("cargo:rustc-env=ROSTER_COMMIT={commit}");
}
