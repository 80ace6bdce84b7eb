//! End to end: nothing that looks like state is skipped (any letter case,
//! symlinks followed with a loop check, unreadable entries are errors,
//! editor leftovers named at -v), and roster writes only where asked
//! (`plan --out`, `import`, `fmt`, safe site names).

use std::os::unix::fs::{FileTypeExt, symlink};
use std::path::Path;

use crate::common::*;

const KEY: [(&str, &str); 1] = [("ACME_KEY", "sandbox-periscope-key")];

const PEOPLE: &str = r#"[[users]]
email = "admin@acme.com"
first_name = "Site"
last_name = "Admin"
groups = ["Administrators"]
"#;

/// A site that may lose everyone the seed has but `PEOPLE`: plans of it
/// pass the blast-radius guards.
fn site_allowing_removals(url: &str) -> String {
    format!(
        "{}allow_removals = 10\nallow_group_deletions = 4\n",
        periscope_site(url, "ACME_KEY")
    )
}

fn repo_file(name: &str) -> String {
    std::fs::read_to_string(repo_state().join(name)).unwrap()
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

/// Names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_symlinked_directory_and_a_toml_in_capitals_plan_like_the_same_files_laid_flat() {
    let flat = state_dir(&[
        ("roster.toml", &repo_file("roster.toml")),
        ("people/business.toml", &repo_file("people/business.toml")),
        ("people/data-team.toml", &repo_file("people/data-team.toml")),
    ]);
    // The same files: the site file in capitals, the people in a directory
    // outside the state reached through a symlink, one of them `.Toml`.
    let linked = state_dir(&[("roster.TOML", &repo_file("roster.toml"))]);
    write_files(
        linked.path(),
        &[
            ("shared/business.Toml", &repo_file("people/business.toml")),
            ("shared/data-team.toml", &repo_file("people/data-team.toml")),
        ],
    );
    symlink("../shared", linked.path().join("state/people")).unwrap();

    let a = roster(flat.path(), &["plan", "--sandbox"], &[]);
    let b = roster(linked.path(), &["plan", "--sandbox"], &[]);
    assert_eq!(a.code, 0, "{}", a.all());
    assert_eq!(b.code, 0, "{}", b.all());
    assert!(
        a.stdout.ends_with(
            "  - group Contractors  (not declared; deleted)\n\nRead 3 state files: 1 site, 12 people, 4 groups.\n"
        ),
        "{}",
        a.stdout
    );
    assert_eq!(a.stdout, b.stdout);
    let md = roster(
        linked.path(),
        &["plan", "--sandbox", "--format", "markdown"],
        &[],
    );
    assert!(
        md.stdout
            .ends_with("\n<sub>Read 3 state files: 1 site, 12 people, 4 groups.</sub>\n"),
        "{}",
        md.stdout
    );
    let v = roster(linked.path(), &["validate"], &[]);
    assert_eq!(
        v.stdout,
        "The state under state is valid. Read 3 state files: 1 site, 12 people, 4 groups.\n"
    );
    // Both sandboxes were only read: the plans were made, nothing applied.
    for dir in [&flat, &linked] {
        let again = roster(
            dir.path(),
            &["plan", "--sandbox", "--detailed-exitcode"],
            &[],
        );
        assert_eq!(again.code, 2, "{}", again.all());
    }
}

#[test]
fn a_symlink_loop_is_an_error_not_a_hang() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[
        ("site.toml", &periscope_site(&sb.url, "ACME_KEY")),
        ("people/admin.toml", PEOPLE),
    ]);
    symlink("..", dir.path().join("state/people/up")).unwrap();
    symlink("self.toml", dir.path().join("state/self.toml")).unwrap();
    for cmd in ["validate", "plan", "fmt"] {
        let out = roster(dir.path(), &[cmd], &KEY);
        assert_eq!(out.code, 1, "{cmd}: {}", out.all());
        assert!(
            out.stderr.contains(
                "state/people/up:1:1: symlink loop: this leads back to state, which holds it\n  hint: remove the symlink: each state file must be reachable one way only\n"
            ),
            "{cmd}: {}",
            out.stderr
        );
        assert!(
            out.stderr
                .contains("state/self.toml:1:1: cannot read where this symlink points: "),
            "{cmd}: {}",
            out.stderr
        );
    }
    assert!(sb.sandbox.requests().is_empty());
}

#[test]
fn the_same_file_reached_twice_is_an_error_naming_both() {
    let dir = state_dir(&[("site.toml", &periscope_site("http://127.0.0.1:9", "K"))]);
    write_files(dir.path(), &[("state/people/admin.toml", PEOPLE)]);
    symlink("people/admin.toml", dir.path().join("state/team.toml")).unwrap();
    let out = roster(dir.path(), &["validate"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains(
            "error: state/team.toml:1:1: is the same as state/people/admin.toml (reached through a symlink); it would be read twice\n"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn unreadable_entries_are_errors_naming_their_path() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[
        ("site.toml", &periscope_site(&sb.url, "ACME_KEY")),
        ("people.toml", PEOPLE),
    ]);
    symlink("gone/team.toml", dir.path().join("state/team.toml")).unwrap();
    symlink("nowhere", dir.path().join("state/more")).unwrap();
    // Reading a FIFO would wait forever for a writer.
    mkfifo(&dir.path().join("state/pipe.TOML"));
    for cmd in ["validate", "plan", "import"] {
        let out = roster(dir.path(), &[cmd], &KEY);
        assert_eq!(out.code, 1, "{cmd}: {}", out.all());
        for expected in [
            "error: state/more:1:1: cannot read where this symlink points: No such file or directory",
            "error: state/team.toml:1:1: cannot read where this symlink points: No such file or directory",
            "error: state/pipe.TOML:1:1: is not a regular file (a FIFO, socket or device?)\n  hint: state files must be regular files; remove it or rename it\n",
            "error: 3 problems in the state under state; nothing was contacted\n",
        ] {
            assert!(out.stderr.contains(expected), "{cmd}: {}", out.stderr);
        }
    }
    assert!(sb.sandbox.requests().is_empty());
}

#[test]
fn editor_leftovers_are_skipped_and_named_at_v() {
    let dir = state_dir(&[
        ("site.toml", &periscope_site("http://127.0.0.1:9", "K")),
        ("people.toml", PEOPLE),
        // Not TOML at all: read, they would be errors.
        ("people.toml~", "[[users]\n"),
        ("#people.toml#", "[[users]\n"),
        (".people.toml", "[[users]\n"),
        ("people.toml.swp", "\0\0"),
    ]);
    // Emacs' lock: a dangling symlink.
    symlink(
        "root@host.42:1700000000",
        dir.path().join("state/.#people.toml"),
    )
    .unwrap();
    let quiet = roster(dir.path(), &["validate"], &[]);
    assert_eq!(quiet.code, 0, "{}", quiet.all());
    assert_eq!(
        quiet.stdout,
        "The state under state is valid. Read 2 state files: 1 site, 1 person, 0 groups.\n"
    );
    assert_eq!(quiet.stderr, "");
    let loud = roster(dir.path(), &["-v", "validate"], &[]);
    assert_eq!(loud.code, 0, "{}", loud.all());
    for (why, path) in [
        ("an editor leftover", "state/people.toml~"),
        ("an editor leftover", "state/#people.toml#"),
        ("an editor leftover", "state/people.toml.swp"),
        ("a hidden entry", "state/.people.toml"),
        ("a hidden entry", "state/.#people.toml"),
    ] {
        assert!(
            loud.stderr
                .contains(&format!("skipped {why} path={path}\n")),
            "{path}: {}",
            loud.stderr
        );
    }
}

#[test]
fn plan_out_refuses_fifos_symlinks_and_the_state_directory() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[
        ("site.toml", &site_allowing_removals(&sb.url)),
        ("people.toml", PEOPLE),
    ]);
    let root = dir.path();
    mkfifo(&root.join("plan.fifo"));
    std::fs::write(root.join("target.json"), "keep me").unwrap();
    symlink("target.json", root.join("link.json")).unwrap();
    std::fs::create_dir(root.join("a-dir")).unwrap();
    // A shared directory linked into the state: what is written there is
    // read as state.
    std::fs::create_dir(root.join("shared")).unwrap();
    symlink("../shared", root.join("state/shared")).unwrap();
    let before = names(root);
    let state_before = names(&root.join("state"));
    for (out, expected) in [
        (
            "plan.fifo",
            "--out plan.fifo: it is not a regular file (a device, FIFO or socket); the plan is written only to a new path or over a regular file. Nothing was written",
        ),
        (
            "link.json",
            "--out link.json: it is a symlink; the plan is written only to a new path or over a regular file. Nothing was written",
        ),
        (
            "a-dir",
            "--out a-dir: it is a directory; the plan is written only to a new path or over a regular file. Nothing was written",
        ),
        (
            "state/plan.json",
            "--out state/plan.json: it is inside the state directory state, where roster reads state from; save the plan elsewhere (e.g. --out plan.json). Nothing was written",
        ),
        (
            "a-dir/../state/people.toml",
            "--out a-dir/../state/people.toml: it is inside the state directory state, where roster reads state from",
        ),
        (
            "shared/plan.toml",
            "--out shared/plan.toml: it is inside the state directory state, where roster reads state from",
        ),
    ] {
        let run = roster(root, &["plan", "--out", out], &KEY);
        assert_eq!(run.code, 1, "{out}: {}", run.all());
        assert!(
            run.stderr.contains(&format!("error: {expected}")),
            "{out}: {}",
            run.stderr
        );
    }
    assert_eq!(names(root), before, "no temporary file is left");
    assert_eq!(names(&root.join("state")), state_before);
    assert!(
        std::fs::metadata(root.join("plan.fifo"))
            .unwrap()
            .file_type()
            .is_fifo()
    );
    assert!(root.join("link.json").is_symlink());
    assert_eq!(
        std::fs::read_to_string(root.join("target.json")).unwrap(),
        "keep me"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("state/people.toml")).unwrap(),
        PEOPLE
    );
    assert!(only_reads(&sb));

    // A regular file is replaced whole; nothing else is left beside it.
    let ok = roster(root, &["plan", "--out", "target.json"], &KEY);
    assert_eq!(ok.code, 0, "{}", ok.all());
    let saved = std::fs::read_to_string(root.join("target.json")).unwrap();
    assert!(
        saved.starts_with('{') && saved.contains("\"changes\""),
        "{saved}"
    );
    assert_eq!(names(root), before);
    assert!(only_reads(&sb));
}

#[test]
fn a_failed_plan_write_leaves_no_temporary_file_and_the_old_plan_whole() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[
        ("site.toml", &site_allowing_removals(&sb.url)),
        ("people.toml", PEOPLE),
    ]);
    let root = dir.path();
    std::fs::write(root.join("plan.json"), "the old plan").unwrap();
    let before = names(root);
    let run = roster_with_file_limit(root, &["plan", "--out", "plan.json"], &KEY, 100);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains(
            "error: cannot write the plan to plan.json; it was left as it was: File too large"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(names(root), before, "no temporary file is left");
    assert_eq!(
        std::fs::read_to_string(root.join("plan.json")).unwrap(),
        "the old plan"
    );
}

#[test]
fn a_site_named_to_climb_out_is_refused_with_its_location_and_nothing_written() {
    let sb = seeded_sandbox();
    let site =
        periscope_site(&sb.url, "ACME_KEY").replace("[sites.acme]", "[sites.\"../../Cargo\"]");
    let dir = state_dir(&[("site.toml", &site), ("people.toml", PEOPLE)]);
    let root = dir.path();
    std::fs::write(root.join("Cargo.toml"), "[package]\n").unwrap();
    for args in [
        &["validate"][..],
        &["plan"],
        &["import", "--sandbox-url", &sb.url],
        &["import", "--sandbox"],
    ] {
        let out = roster(root, args, &KEY);
        assert_eq!(out.code, 1, "{args:?}: {}", out.all());
        assert!(
            out.stderr.starts_with(
                "error: state/site.toml:1:8: site name `../../Cargo` may hold only ASCII letters, digits, `-`, `_` and `.`, may not start with `.`, and is at most 64 characters long\n  hint: rename the site, e.g. [sites.acme-prod]; the name becomes a file name (imported/NAME.toml)\n"
            ),
            "{args:?}: {}",
            out.stderr
        );
    }
    assert_eq!(
        std::fs::read_to_string(root.join("Cargo.toml")).unwrap(),
        "[package]\n"
    );
    assert_eq!(names(&root.join("state")), ["people.toml", "site.toml"]);
    assert!(sb.sandbox.requests().is_empty());
}

#[test]
fn import_and_fmt_never_write_through_a_symlink_out_of_the_state() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[("roster.toml", &repo_site(&sb.url, "ACME_KEY", ""))]);
    let root = dir.path();
    // The people live outside the state, shared through a symlink; the
    // live site differs from them, so import would edit them.
    let people = repo_file("people/data-team.toml");
    write_files(
        root,
        &[
            ("shared/business.toml", &repo_file("people/business.toml")),
            ("shared/data-team.toml", &people),
        ],
    );
    symlink("../shared", root.join("state/people")).unwrap();

    let import = roster(root, &["import", "--sandbox-url", &sb.url], &KEY);
    assert_eq!(import.code, 1, "{}", import.all());
    let business = std::fs::canonicalize(root.join("shared/business.toml")).unwrap();
    assert_eq!(
        import.stderr,
        format!(
            "error: refusing to write state/people/business.toml: it resolves to {}, outside the state directory state; roster writes only inside it (edit that file where it lives); nothing was written\n",
            business.display()
        )
    );
    let real = std::fs::canonicalize(root.join("shared/data-team.toml")).unwrap();
    assert_eq!(std::fs::read_to_string(&real).unwrap(), people);
    assert_eq!(names(&root.join("state")), ["people", "roster.toml"]);

    // A symlinked file out of the state that `fmt` would reformat.
    std::fs::write(
        root.join("shared/data-team.toml"),
        "[[users]]\nemail = \"zed@acme.com\"\n\n[[users]]\nemail = \"ada@acme.com\"\n",
    )
    .unwrap();
    let before = std::fs::read_to_string(&real).unwrap();
    let fmt = roster(root, &["fmt"], &[]);
    assert_eq!(fmt.code, 1, "{}", fmt.all());
    assert!(
        fmt.stderr.contains(&format!(
            "error: refusing to write state/people/data-team.toml: it resolves to {}, outside the state directory state; roster writes only inside it (edit that file where it lives); nothing was written",
            real.display()
        )),
        "{}",
        fmt.stderr
    );
    assert_eq!(std::fs::read_to_string(&real).unwrap(), before);
    assert!(root.join("state/people").is_symlink());
    assert!(only_reads(&sb));
}

#[test]
fn the_sandbox_data_file_is_never_a_device_a_fifo_or_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let fifo = root.join("data.fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a plain mkfifo(3) on a path we own.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    std::os::unix::fs::symlink("elsewhere.json", root.join("link.json")).unwrap();
    let state = repo_state();
    for (path, what) in [
        ("data.fifo", "not a regular file (a device, FIFO or socket)"),
        ("link.json", "a symlink"),
        ("/dev/null", "not a regular file (a device, FIFO or socket)"),
    ] {
        let out = roster(
            root,
            &[
                "plan",
                "--sandbox",
                "--sandbox-reset",
                "--sandbox-data",
                path,
                "--state",
                state.to_str().unwrap(),
            ],
            &[],
        );
        assert_eq!(out.code, 1, "{}", out.all());
        assert_eq!(
            out.stderr,
            format!(
                "error: refusing to use {path} as the sandbox data file: it is {what}; name a regular file, or a path that does not exist yet\n"
            )
        );
    }
    let sandbox = roster(root, &["sandbox", "--data", "data.fifo", "--save"], &[]);
    assert_eq!(sandbox.code, 1, "{}", sandbox.all());
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    assert!(
        std::fs::symlink_metadata(root.join("link.json"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(!root.join("elsewhere.json").exists() && !root.join("data.fifo.lock").exists());
    assert!(
        std::fs::symlink_metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
}

#[test]
fn fmt_and_import_keep_the_mode_of_the_files_they_rewrite() {
    use std::os::unix::fs::PermissionsExt;
    let sb = seeded_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir_all(state.join("people")).unwrap();
    std::fs::write(
        state.join("roster.toml"),
        repo_site(&sb.url, "ACME_KEY", ""),
    )
    .unwrap();
    // Not canonical: fmt rewrites it.
    let people = state.join("people/team.toml");
    std::fs::write(
        &people,
        "[[users]]\nemail = \"ADA@acme.com\"\nfirst_name = \"Ada\"\nlast_name = \"Lovelace\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&people, std::fs::Permissions::from_mode(0o664)).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let out = roster(dir.path(), &["fmt"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        std::fs::read_to_string(&people)
            .unwrap()
            .contains("ada@acme.com")
    );
    assert_eq!(mode(&people), 0o664, "a rewritten file keeps its mode");
    let out = roster(
        dir.path(),
        &["import"],
        &[("ACME_KEY", "sandbox-periscope-key")],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(mode(&people), 0o664);
    assert_eq!(
        mode(&state.join("imported/acme.toml")),
        0o644,
        "a new file is 0644"
    );
}

/// A directory roster cannot write in is found before any site is read
/// or written (an apply used to run whole, then fail writing its report).
#[test]
fn an_out_or_report_path_roster_cannot_write_is_refused_before_anything_is_sent() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[
        ("site.toml", &site_allowing_removals(&sb.url)),
        ("people.toml", PEOPLE),
    ]);
    for args in [
        vec!["plan", "--out", "/proc/roster-plan.json"],
        vec!["apply", "--yes", "--report", "/proc/roster-report.json"],
    ] {
        let out = roster(dir.path(), &args, &KEY);
        assert_eq!(out.code, 1, "{}", out.all());
        assert!(
            out.stderr
                .contains(": cannot write in /proc; nothing was written"),
            "{}",
            out.stderr
        );
        assert!(sb.sandbox.requests().is_empty(), "{args:?}");
    }
}
