//! Shared helpers for end-to-end tests: run the built `roster` binary against
//! a sandbox started in this process, over real HTTP.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub(crate) use roster::sandbox::{BackgroundSandbox, persist};

/// What a run of the binary printed and how it exited.
#[derive(Debug)]
pub(crate) struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub(crate) fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `roster ARGS` in `cwd` with no terminal, no colour and `envs` set.
pub(crate) fn roster(cwd: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_roster"))
        .current_dir(cwd)
        .args(args)
        .env_remove("ROSTER_STATE")
        .env_remove("RUST_LOG")
        .env_remove("CLICOLOR_FORCE")
        .env("NO_COLOR", "1")
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("the roster binary runs");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Writes `files` (path relative to `dir`, text) under `dir`.
pub(crate) fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// A temporary directory with `state/` holding `files`.
pub(crate) fn state_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("state")).unwrap();
    let files: Vec<(String, &str)> = files
        .iter()
        .map(|(n, t)| (format!("state/{n}"), *t))
        .collect();
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    write_files(dir.path(), &refs);
    dir
}

/// This repository's own `state/` directory.
pub(crate) fn repo_state() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("state")
}

/// A sandbox holding the shipped seed.
pub(crate) fn seeded_sandbox() -> BackgroundSandbox {
    BackgroundSandbox::start(persist::seed()).expect("the sandbox starts")
}

/// Whether only reads reached the sandbox (Sigma's token request is a POST
/// that changes nothing).
pub(crate) fn only_reads(sandbox: &BackgroundSandbox) -> bool {
    writes(sandbox).iter().all(|r| r.path == "/v2/auth/token")
}

/// Requests that could change something (everything but GET).
pub(crate) fn writes(sandbox: &BackgroundSandbox) -> Vec<roster::sandbox::RequestRecord> {
    sandbox
        .sandbox
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .collect()
}

/// A Periscope site at `url` whose key is read from `env`.
pub(crate) fn periscope_site(url: &str, env: &str) -> String {
    format!(
        r#"[sites.acme]
provider = "periscope"
site = "acme"
api_key = {{ env = "{env}" }}
invited_by = "admin@acme.com"
base_url = "{url}"
"#
    )
}

/// Emails on the sandbox's site `acme`, sorted.
pub(crate) fn live_emails(sandbox: &BackgroundSandbox) -> Vec<String> {
    let mut v: Vec<String> = sandbox.sandbox.data().periscope["acme"]
        .users
        .iter()
        .map(|u| u.email.clone())
        .collect();
    v.sort();
    v
}

/// A `roster sandbox` process on a free port, stopped (Ctrl-C) when dropped.
pub(crate) struct SandboxProcess {
    pub child: std::process::Child,
    pub url: String,
    /// What it printed after its first line.
    pub banner: Vec<String>,
    /// Its output stays open while it runs: a closed pipe would fail its
    /// next print.
    output: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
}

impl SandboxProcess {
    /// Starts `roster sandbox --port P ARGS` and waits until it listens.
    pub(crate) fn start(args: &[&str]) -> SandboxProcess {
        use std::io::{BufRead, BufReader};
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_roster"))
            .args(["sandbox", "--port", &port.to_string()])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = format!("http://127.0.0.1:{port}");
        assert_eq!(
            lines.next().unwrap().unwrap(),
            format!("roster sandbox listening on {url}")
        );
        let banner = lines.by_ref().take(4).map(Result::unwrap).collect();
        SandboxProcess {
            child,
            url,
            banner,
            output: lines,
        }
    }

    /// Stops it as Ctrl-C would and waits; whether it exited cleanly.
    pub(crate) fn stop(mut self) -> bool {
        Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        let ok = self.child.wait().unwrap().success();
        std::mem::forget(self);
        ok
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A sandbox holding the seed, whose Periscope site `acme` takes `key`.
pub(crate) fn sandbox_with_key(key: &str) -> BackgroundSandbox {
    let mut data = persist::seed();
    data.periscope.get_mut("acme").unwrap().api_key = key.into();
    BackgroundSandbox::start(data).unwrap()
}

/// This repository's `state/roster.toml`, its key read from `env`, pointed
/// at `url`, with `extra` settings for the site.
pub(crate) fn repo_site(url: &str, env: &str, extra: &str) -> String {
    std::fs::read_to_string(repo_state().join("roster.toml"))
        .unwrap()
        .replace(
            r#"api_key = { env = "ACME_PERISCOPE_API_KEY" }"#,
            &format!("api_key = {{ env = \"{env}\" }}\nbase_url = \"{url}\"\n{extra}"),
        )
}

/// `roster ARGS` in `cwd` that may write regular files of at most `bytes`.
pub(crate) fn roster_with_file_limit(
    cwd: &Path,
    args: &[&str],
    envs: &[(&str, &str)],
    bytes: u64,
) -> Output {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_roster"));
    cmd.current_dir(cwd)
        .args(args)
        .envs(envs.iter().copied())
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null());
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            // An ignored SIGXFSZ stays ignored across exec: a write past
            // the limit then fails with EFBIG instead of killing roster.
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &raw const limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A Periscope site at `url` (key from `ACME_KEY`) whose new group has a
/// name Periscope refuses (over 100 characters): its create fails, the user
/// who needs it is skipped, the rest is applied.
pub(crate) fn failing_group_state(url: &str) -> tempfile::TempDir {
    let long = "G".repeat(120);
    let site = periscope_site(url, "ACME_KEY")
        + "unmanaged_users = \"keep\"\nunmanaged_groups = \"keep\"\n";
    state_dir(&[
        ("site.toml", &site),
        (
            "people.toml",
            &format!(
                r#"
[[groups]]
name = "{long}"
access = "view"

[[users]]
email = "admin@acme.com"
first_name = "Site"
last_name = "Admin"
groups = ["Administrators"]

[[users]]
email = "ada@acme.com"
first_name = "Ada"
last_name = "King"
groups = ["Administrators", "Analysts"]

[[users]]
email = "new@acme.com"
first_name = "New"
last_name = "Person"
groups = ["{long}"]

[[users]]
email = "zoe@acme.com"
first_name = "Zoe"
last_name = "Other"
"#
            ),
        ),
        (
            "groups.toml",
            "[[groups]]\nname = \"Analysts\"\naccess = \"discovery\"\n",
        ),
    ])
}

/// A run's exit code, stdout and stderr as one text, for one insta snapshot
/// that pins all three:
///
/// ```text
/// exit: 1
/// --- stdout
/// ...
/// --- stderr
/// ...
/// ```
///
/// What changes from run to run is replaced by a stable placeholder: a
/// loopback port (`127.0.0.1:PORT`), a temporary directory (`[TMP]`) and
/// the markdown plan's desired-state fingerprint, which covers the sites'
/// (sandbox) URLs (`[FINGERPRINT]`).
pub(crate) fn run_snapshot(out: &Output) -> String {
    let text = format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.code, out.stdout, out.stderr
    );
    let text = mask(&text, "127.0.0.1:", "127.0.0.1:PORT", |c| {
        c.is_ascii_digit()
    });
    let tmp = std::env::temp_dir();
    let tmp = tmp.to_string_lossy();
    let tmp = tmp.trim_end_matches('/');
    let text = mask(&text, &format!("{tmp}/.tmp"), "[TMP]", |c| {
        c.is_ascii_alphanumeric()
    });
    mask(
        &text,
        "desired state `",
        "desired state `[FINGERPRINT]",
        |c| c.is_ascii_hexdigit(),
    )
}

/// `text` with each `prefix` and the run of characters after it for which
/// `run` holds replaced by `placeholder`.
fn mask(text: &str, prefix: &str, placeholder: &str, run: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        out.push_str(&rest[..at]);
        out.push_str(placeholder);
        let after = &rest[at + prefix.len()..];
        rest = &after[after.find(|c: char| !run(c)).unwrap_or(after.len())..];
    }
    out.push_str(rest);
    out
}

impl SandboxProcess {
    /// The next line it prints, after those `start` read.
    pub(crate) fn next_line(&mut self) -> String {
        self.output.next().unwrap().unwrap()
    }
}

/// A file of `examples/sigma` without what refers to its `access.toml`
/// (attribute values, the custom account type), for tests that declare
/// their own workspaces, connections and attributes, or import them.
pub(crate) fn sigma_example_file(file: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/sigma")
        .join(file);
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("attributes = "))
        .map(|l| {
            if l.starts_with("member_type = \"Analyst Pro\"") {
                "member_type = \"Viewer\""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Copies the directory `from` to `to`, recursively.
pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
