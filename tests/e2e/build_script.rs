//! End to end: roster's build script (build.rs), run by cargo on a small
//! crate of its own: `--version`'s commit is right when a tree built
//! outside git is built again inside git (and in a git worktree, whose
//! `.git` is a file), and a build with nothing new compiles nothing (the
//! script watches no path that does not exist, such as a missing
//! `.git/packed-refs`).

use std::path::Path;
use std::process::Command;

/// Runs `program` in `dir`, git isolated from the machine's settings and
/// from any repository above `dir`; its stdout and stderr, or a failure.
fn run(dir: &Path, program: &str, args: &[&str]) -> (String, String) {
    let ceiling = dir.parent().unwrap_or(dir);
    let out = Command::new(program)
        .current_dir(dir)
        .args(args)
        .env("GIT_CEILING_DIRECTORIES", ceiling)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("ROSTER_COMMIT")
        .env_remove("RUSTFLAGS")
        .output()
        .expect("it runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "{program} {args:?}: {stdout}{stderr}");
    (stdout, stderr)
}

/// A crate whose build script is roster's and whose binary prints the
/// commit it records.
fn probe_crate(dir: &Path) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"probe\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("src/main.rs"),
        "fn main() { print!(\"{}\", env!(\"ROSTER_COMMIT\")); }\n",
    )
    .unwrap();
    let ours = Path::new(env!("CARGO_MANIFEST_DIR")).join("build.rs");
    std::fs::copy(ours, dir.join("build.rs")).unwrap();
    std::fs::write(dir.join(".gitignore"), "target/\n").unwrap();
}

/// Builds the crate under `dir`: what the probe prints, and whether cargo
/// compiled it again.
fn build(dir: &Path) -> (String, bool) {
    let cargo = env!("CARGO");
    let (_, log) = run(dir, cargo, &["build", "--offline", "-v"]);
    let compiled = log.contains("Compiling probe");
    let (commit, _) = run(
        dir,
        &dir.join("target/debug/probe").display().to_string(),
        &[],
    );
    (commit, compiled)
}

#[test]
fn the_commit_follows_a_tree_into_git_and_a_build_with_nothing_new_compiles_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("probe");
    probe_crate(&dir);
    assert_eq!(build(&dir).0, "unknown", "outside git");

    run(&dir, "git", &["init", "-q", "-b", "main"]);
    run(&dir, "git", &["add", "."]);
    run(&dir, "git", &["commit", "-q", "-m", "first"]);
    let (head, _) = run(&dir, "git", &["rev-parse", "--short=12", "HEAD"]);
    assert!(
        !dir.join(".git/packed-refs").exists(),
        "the checkout has no packed refs"
    );
    assert_eq!(build(&dir).0, head.trim(), "built again inside git");
    assert_eq!(build(&dir), (head.trim().to_string(), false), "nothing new");

    run(
        &dir,
        "git",
        &["commit", "-q", "--allow-empty", "-m", "second"],
    );
    let (head, _) = run(&dir, "git", &["rev-parse", "--short=12", "HEAD"]);
    assert_eq!(build(&dir).0, head.trim(), "a new commit");

    // A worktree: `.git` is a file naming the git directory elsewhere.
    run(
        &dir,
        "git",
        &["worktree", "add", "-q", "-b", "side", "../side"],
    );
    let side = tmp.path().join("side");
    assert!(side.join(".git").is_file());
    assert_eq!(build(&side).0, head.trim(), "in a worktree");
    assert_eq!(
        build(&side),
        (head.trim().to_string(), false),
        "nothing new in the worktree"
    );
    run(
        &side,
        "git",
        &["commit", "-q", "--allow-empty", "-m", "on side"],
    );
    let (side_head, _) = run(&side, "git", &["rev-parse", "--short=12", "HEAD"]);
    assert_eq!(build(&side).0, side_head.trim(), "a commit in the worktree");
}
