//! Records the commit roster is built from, for `roster --version`:
//! `git rev-parse --short HEAD` when built inside a git checkout, "unknown"
//! otherwise (a source tarball, a crate download); never fails the build.
//!
//! Cargo runs this script again when a path it names changes, and on every
//! build while a path it names does not exist. Inside git it names only
//! paths that exist and that a new commit or checkout changes, so a build
//! with nothing new compiles nothing. Outside git it names `.git`, which
//! does not exist yet: the script runs on each build (roster's own crate is
//! compiled again, its dependencies are not) until the tree is in git, and
//! the first build after `git init` and a commit records the commit.

// A build script talks to cargo on standard output.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// A path in the repository's git directory, as git resolves it (a
/// worktree, whose `.git` is a file naming its own directory, has its own
/// HEAD and shares the refs of the checkout it belongs to).
fn git_path(name: &str) -> Option<PathBuf> {
    git(&["rev-parse", "--git-path", name]).map(PathBuf::from)
}

/// What to watch for HEAD to move: each path that exists of HEAD, the
/// branch it points at (the loose ref, and the directory it is written in,
/// where a packed branch gets its loose ref on the next commit), the packed
/// refs and a reftable.
fn watched_in_git() -> Vec<PathBuf> {
    let mut paths = vec![git_path("HEAD")];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        let loose = git_path(&branch);
        paths.push(
            loose
                .as_deref()
                .and_then(Path::parent)
                .map(Path::to_path_buf),
        );
        paths.push(loose);
    }
    paths.push(git_path("packed-refs"));
    paths.push(git_path("reftable"));
    paths.into_iter().flatten().filter(|p| p.exists()).collect()
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
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]));
    let watched = if git(&["rev-parse", "--git-dir"]).is_some() {
        watched_in_git()
    } else {
        vec![PathBuf::from(".git")]
    };
    for path in watched {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    println!(
        "cargo:rustc-env=ROSTER_COMMIT={}",
        commit.as_deref().unwrap_or("unknown")
    );
}
