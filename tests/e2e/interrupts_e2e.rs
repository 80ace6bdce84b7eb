//! Interrupts and the apply lock, through the binary: Ctrl-C or SIGTERM
//! mid-apply against a slow sandbox stops starting changes, reports every
//! change and exits 130, and a rerun converges with nobody created twice; a
//! second Ctrl-C exits at once naming what was under way; `roster sandbox
//! --save` keeps what it accepted when terminated; two applies never run at
//! once, and a stale lock is removed with `roster force-unlock`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::*;
use roster::sandbox::{Options, PeriscopeSite, SandboxData};

const KEY: (&str, &str) = ("ACME_KEY", "sandbox-periscope-key");
const NEW: usize = 20;

/// A sandbox whose site `acme` holds only its administrator, answering
/// every request after `latency`.
fn slow_sandbox(latency: Duration) -> BackgroundSandbox {
    let mut data = SandboxData::default();
    data.periscope.insert(
        "acme".into(),
        PeriscopeSite::new("sandbox-periscope-key", "admin@acme.com"),
    );
    BackgroundSandbox::start_with(
        data,
        Options {
            latency,
            ..Options::default()
        },
    )
    .unwrap()
}

/// The state: the administrator and `NEW` people to create.
fn state_text(url: &str) -> String {
    let mut s = periscope_site(url, "ACME_KEY");
    s += "\n[[users]]\nemail = \"admin@acme.com\"\nfirst_name = \"Site\"\nlast_name = \"Admin\"\ngroups = [\"Administrators\"]\n";
    for i in 0..NEW {
        s += &format!(
            "\n[[users]]\nemail = \"n{i:02}@acme.com\"\nfirst_name = \"N\"\nlast_name = \"{i}\"\n"
        );
    }
    s
}

/// [`state_text`] for a site that holds the seed's people too (kept).
fn keeping_state_text(url: &str) -> String {
    state_text(url).replace(
        "base_url",
        "unmanaged_users = \"keep\"\nunmanaged_groups = \"keep\"\nbase_url",
    )
}

fn state(url: &str) -> tempfile::TempDir {
    state_dir(&[("roster.toml", &state_text(url))])
}

/// A roster process whose stderr is read as it comes.
struct Running {
    child: Child,
    stderr: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    stdout: Arc<Mutex<String>>,
}

/// Reads `pipe` line by line into a string, on a thread.
fn collect(
    pipe: impl std::io::Read + Send + 'static,
) -> (Arc<Mutex<String>>, std::thread::JoinHandle<()>) {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = text.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            sink.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    (text, reader)
}

impl Running {
    fn start(cwd: &std::path::Path, args: &[&str]) -> Running {
        let mut child = Command::new(env!("CARGO_BIN_EXE_roster"))
            .current_dir(cwd)
            .args(args)
            .env_remove("ROSTER_STATE")
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .env(KEY.0, KEY.1)
            // Requests to a sandbox that has gone fail fast.
            .env("ROSTER_RETRY_BASE_MS", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (stderr, err_reader) = collect(child.stderr.take().unwrap());
        let (stdout, out_reader) = collect(child.stdout.take().unwrap());
        Running {
            child,
            stderr,
            readers: vec![err_reader, out_reader],
            stdout,
        }
    }

    fn signal(&self, sig: i32) {
        // SAFETY: sends a signal to our own child.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, sig) }, 0);
    }

    fn wait_for_stderr(&self, text: &str) {
        wait_until(&format!("stderr to show {text:?}"), || {
            self.stderr.lock().unwrap().contains(text)
        });
    }

    fn finish(mut self) -> Output {
        let status = self.child.wait().unwrap();
        for r in self.readers {
            r.join().unwrap();
        }
        let stdout = self.stdout.lock().unwrap().clone();
        let stderr = self.stderr.lock().unwrap().clone();
        Output {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr,
        }
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "waited for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Users created on the sandbox (POSTs answered 2xx).
fn creates(sb: &BackgroundSandbox) -> usize {
    writes(sb)
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v1/users" && r.status < 300)
        .count()
}

/// The emails of `  ok      user E created` lines.
fn reported_created(stdout: &str) -> Vec<String> {
    let mut v: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("  ok      user "))
        .filter_map(|l| l.strip_suffix(" created"))
        .map(String::from)
        .collect();
    v.sort();
    v
}

fn first_signal_notice(name: &str) -> Vec<String> {
    (0..=2)
        .map(|n| {
            format!(
                "{name}: no new change is started; waiting for the {n} change{} under way to finish (at most 30 s), then reporting. Press Ctrl-C again to exit at once.",
                if n == 1 { "" } else { "s" }
            )
        })
        .collect()
}

/// Interrupts an apply of `NEW` creates with `sig` after a few were
/// answered; checks the report, the exit code and the live state, then
/// that a rerun finishes the job creating nobody twice.
fn interrupted_apply_reports_and_a_rerun_converges(sig: i32, name: &str) {
    let sb = slow_sandbox(Duration::from_millis(250));
    let dir = state(&sb.url);
    let apply = Running::start(dir.path(), &["apply", "--yes", "--concurrency", "2"]);
    wait_until("four users created", || creates(&sb) >= 4);
    apply.signal(sig);
    let out = apply.finish();
    assert_eq!(out.code, 130, "{}", out.all());

    // Every change is in the report, and what it says was created is live.
    let created = reported_created(&out.stdout);
    let live: Vec<String> = live_emails(&sb)
        .into_iter()
        .filter(|e| e != "admin@acme.com")
        .collect();
    assert_eq!(created, live, "{}", out.stdout);
    let applied = created.len();
    assert!((4..NEW).contains(&applied), "{}", out.stdout);
    let not_started: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("  not started user n"))
        .collect();
    assert_eq!(applied + not_started.len(), NEW, "{}", out.stdout);
    assert!(
        not_started
            .iter()
            .all(|l| l.ends_with("@acme.com: the apply was interrupted first")),
        "{not_started:?}"
    );
    assert!(out.stdout.ends_with(&format!(
        "Apply interrupted: {applied} applied, 0 failed, 0 skipped, {} not started.\nRun `roster plan` to see what is left, then `roster apply` again to finish.\n",
        NEW - applied
    )), "{}", out.stdout);
    let notice = out.stderr.lines().find(|l| l.starts_with(name)).unwrap();
    assert!(
        first_signal_notice(name).iter().any(|n| n == notice),
        "{notice}"
    );
    assert!(
        out.stderr.ends_with(&format!(
            "error: apply interrupted: {} of {NEW} changes not started; see the report above\n",
            NEW - applied
        )),
        "{}",
        out.stderr
    );
    assert_eq!(creates(&sb), applied, "no create was sent after the report");

    let rerun = roster(dir.path(), &["apply", "--yes"], &[KEY]);
    assert_eq!(rerun.code, 0, "{}", rerun.all());
    assert!(rerun.stdout.ends_with(&format!(
        "Apply finished: {} applied, 0 failed, 0 skipped.\n",
        NEW - applied
    )));
    assert_eq!(live_emails(&sb).len(), NEW + 1);
    assert_eq!(creates(&sb), NEW, "nobody was created twice");
    let plan = roster(dir.path(), &["plan", "--detailed-exitcode"], &[KEY]);
    assert_eq!(plan.code, 0, "{}", plan.all());
}

#[test]
fn sigint_mid_apply_reports_every_change_exits_130_and_a_rerun_converges() {
    interrupted_apply_reports_and_a_rerun_converges(libc::SIGINT, "Interrupted (SIGINT)");
}

#[test]
fn sigterm_mid_apply_reports_every_change_exits_130_and_a_rerun_converges() {
    interrupted_apply_reports_and_a_rerun_converges(libc::SIGTERM, "Terminated (SIGTERM)");
}

#[test]
fn a_second_sigint_exits_at_once_naming_the_changes_under_way() {
    let sb = slow_sandbox(Duration::from_millis(1500));
    let dir = state(&sb.url);
    let apply = Running::start(dir.path(), &["apply", "--yes", "--concurrency", "2"]);
    // Reads take 1.5 s; the first two creates are then under way.
    wait_until("the live state read", || {
        sb.sandbox
            .requests()
            .iter()
            .filter(|r| r.method == "GET")
            .count()
            >= 2
    });
    std::thread::sleep(Duration::from_millis(300));
    apply.signal(libc::SIGINT);
    apply.wait_for_stderr("Press Ctrl-C again to exit at once.");
    let sent = Instant::now();
    apply.signal(libc::SIGINT);
    let out = apply.finish();
    assert!(
        sent.elapsed() < Duration::from_secs(1),
        "exited at once, not after the requests under way ({:?})",
        sent.elapsed()
    );
    assert_eq!(out.code, 130, "{}", out.all());
    assert!(
        out.stderr.ends_with(
            "
Interrupted (SIGINT): no new change is started; waiting for the 2 changes under way to finish (at most 30 s), then reporting. Press Ctrl-C again to exit at once.

Interrupted (SIGINT) again: exiting now, without waiting.
These changes were under way; each may or may not have taken effect:
  site acme: create user n00@acme.com
  site acme: create user n01@acme.com
Run `roster plan` to see what is left, then `roster apply` again to finish.
"
        ),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("Apply "), "no report: {}", out.stdout);
    assert!(
        !dir.path().join(".roster/apply.lock").exists(),
        "the lock went with the process"
    );
    // The two under way may land after the exit; a rerun finishes the job.
    std::thread::sleep(Duration::from_millis(1600));
    let rerun = roster(dir.path(), &["apply", "--yes"], &[KEY]);
    assert_eq!(rerun.code, 0, "{}", rerun.all());
    assert_eq!(live_emails(&sb).len(), NEW + 1);
    assert_eq!(creates(&sb), NEW, "nobody was created twice");
}

/// `roster sandbox --save` terminated while an apply runs against it keeps
/// every write it answered: each user the apply reports created is in the
/// saved file, and the data file's lock is gone.
#[test]
fn the_sandbox_command_keeps_every_accepted_write_when_terminated() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("sandbox.json");
    let lock = dir.path().join("sandbox.json.lock");
    let sandbox = SandboxProcess::start(&[
        "--data",
        data.to_str().unwrap(),
        "--save",
        "--latency-ms",
        "200",
    ]);
    assert!(lock.exists(), "the data file is locked while it runs");
    let holder: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lock).unwrap()).unwrap();
    assert_eq!(holder["pid"], sandbox.child.id());
    assert_eq!(holder["command"], "roster sandbox --save");

    let state = state_dir(&[("roster.toml", &keeping_state_text(&sandbox.url))]);
    let apply = Running::start(state.path(), &["apply", "--yes", "--concurrency", "2"]);
    std::thread::sleep(Duration::from_millis(1500));
    // SIGTERM, which used to lose everything.
    // SAFETY: sends a signal to our own child.
    assert_eq!(
        unsafe { libc::kill(sandbox.child.id() as i32, libc::SIGTERM) },
        0
    );
    let mut sandbox = sandbox;
    assert!(sandbox.child.wait().unwrap().success());
    let out = apply.finish();
    assert_eq!(out.code, 1, "the rest failed: {}", out.all());

    let created = reported_created(&out.stdout);
    assert!(!created.is_empty(), "{}", out.stdout);
    let saved = persist::load(&data).unwrap();
    let kept: Vec<&str> = saved.periscope["acme"]
        .users
        .iter()
        .map(|u| u.email.as_str())
        .collect();
    for email in &created {
        assert!(kept.contains(&email.as_str()), "{email} was lost: {kept:?}");
    }
    assert!(!lock.exists(), "the lock went with the sandbox");
}

#[test]
fn a_second_apply_fails_at_once_naming_the_holder_and_changes_nothing() {
    let sb = slow_sandbox(Duration::from_millis(200));
    let dir = state(&sb.url);
    let first = Running::start(dir.path(), &["apply", "--yes", "--concurrency", "2"]);
    let lock = std::fs::canonicalize(dir.path())
        .unwrap()
        .join(".roster/apply.lock");
    wait_until("the first apply's lock", || {
        std::fs::read_to_string(&lock).is_ok_and(|t| t.ends_with("}\n"))
    });
    let holder: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lock).unwrap()).unwrap();
    assert_eq!(holder["pid"], first.child.id());
    let requests = sb.sandbox.requests().len();

    let started = Instant::now();
    let second = roster(dir.path(), &["apply", "--yes"], &[KEY]);
    assert!(started.elapsed() < Duration::from_secs(2), "at once");
    assert_eq!(second.code, 1, "{}", second.all());
    assert_eq!(
        second.stderr,
        format!(
            "error: {} is locked by `roster apply` (pid {} on host {}, since {}), which is still running: only one may run at a time. Wait for it to finish; if you are sure it is not running, remove the lock with `roster force-unlock`\n",
            lock.display(),
            first.child.id(),
            holder["host"].as_str().unwrap(),
            holder["started"].as_str().unwrap()
        )
    );
    assert_eq!(second.stdout, "");
    let out = first.finish();
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        sb.sandbox.requests().len() >= requests,
        "the second apply sent nothing of its own"
    );
    assert_eq!(creates(&sb), NEW, "every create came from the first apply");
    assert_eq!(live_emails(&sb).len(), NEW + 1);
    assert!(!lock.exists(), "released at the end");
}

/// Two `--sandbox` runs on one data file: the second (apply or plan) fails
/// naming the holder (here a `roster sandbox --save`), and the file keeps
/// its data.
#[test]
fn a_locked_sandbox_data_file_is_not_written_by_a_second_run() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("sandbox.json");
    let data_arg = data.to_str().unwrap();
    let sandbox = SandboxProcess::start(&["--data", data_arg, "--save"]);
    let before = std::fs::read(&data).unwrap();
    let lock = dir.path().join("sandbox.json.lock");
    let holder: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lock).unwrap()).unwrap();
    let expected = format!(
        "error: {} is locked by `roster sandbox --save` (pid {} on host {}, since {}), which is still running: only one may run at a time. Wait for it to finish; if you are sure it is not running, remove the lock with `roster force-unlock --sandbox-data {data_arg}`\n",
        lock.display(),
        sandbox.child.id(),
        holder["host"].as_str().unwrap(),
        holder["started"].as_str().unwrap()
    );
    let state = state_dir(&[("roster.toml", &keeping_state_text("http://127.0.0.1:9"))]);
    for args in [
        &["apply", "--yes", "--sandbox", "--sandbox-data", data_arg][..],
        &["plan", "--sandbox", "--sandbox-data", data_arg][..],
    ] {
        let out = roster(state.path(), args, &[]);
        assert_eq!(out.code, 1, "{args:?}: {}", out.all());
        assert_eq!(out.stderr, expected, "{args:?}");
        assert_eq!(out.stdout, "", "{args:?}");
    }
    assert!(sandbox.stop());
    assert_eq!(std::fs::read(&data).unwrap(), before, "nothing was written");
    let out = roster(
        state.path(),
        &["apply", "--yes", "--sandbox", "--sandbox-data", data_arg],
        &[],
    );
    assert_eq!(out.code, 0, "once free, it is used: {}", out.all());
    assert!(!lock.exists());
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length.
    assert_eq!(
        unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) },
        0
    );
    let end = buf.iter().position(|b| *b == 0).unwrap();
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[test]
fn a_stale_lock_is_reported_and_force_unlock_removes_it() {
    let sb = slow_sandbox(Duration::ZERO);
    let dir = state(&sb.url);
    let lock = std::fs::canonicalize(dir.path())
        .unwrap()
        .join(".roster/apply.lock");
    let mut gone = Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    let (dead, host) = (gone.id(), hostname());
    let holder = |pid: u32| {
        format!(
            "{{\"pid\": {pid}, \"host\": \"{host}\", \"started\": \"2026-01-02T03:04:05Z\", \"command\": \"roster apply\"}}\n"
        )
    };
    write_files(dir.path(), &[(".roster/apply.lock", &holder(dead))]);
    let who =
        |pid: u32| format!("`roster apply` (pid {pid} on host {host}, since 2026-01-02T03:04:05Z)");

    let out = roster(dir.path(), &["apply", "--yes"], &[KEY]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(
        out.stderr,
        format!(
            "error: {} is locked by {}, but no process {dead} runs on this host: the lock is stale (left by a run that was killed). Check what it did with `roster plan`, then remove the lock with `roster force-unlock`\n",
            lock.display(),
            who(dead)
        )
    );
    assert!(sb.sandbox.requests().is_empty(), "nothing was contacted");

    let out = roster(dir.path(), &["force-unlock"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        format!(
            "Removed the lock {}: it was stale: held by {}, and no process {dead} runs on this host.\n",
            lock.display(),
            who(dead)
        )
    );
    assert!(!lock.exists());
    let out = roster(dir.path(), &["force-unlock"], &[]);
    assert_eq!(
        (out.code, out.stdout),
        (
            0,
            format!("No lock at {}; nothing to remove.\n", lock.display())
        )
    );

    // A lock whose holder runs goes only when the user says it is stale.
    // A running roster holds its lock file open with a shared OS lock;
    // this test does the same while it plays the holder.
    let alive = std::process::id();
    write_files(dir.path(), &[(".roster/apply.lock", &holder(alive))]);
    let holding = std::fs::File::open(&lock).unwrap();
    holding.try_lock_shared().unwrap();
    let out = roster(dir.path(), &["force-unlock"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(
        out.stderr,
        format!(
            "error: {} is held by {}, which is still running on this host: wait for it to finish. If process {alive} is not a roster run (its pid was reused), run again with --yes\n",
            lock.display(),
            who(alive)
        )
    );
    assert!(lock.exists());
    let out = roster(dir.path(), &["force-unlock", "--yes"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!lock.exists());
    drop(holding);

    let out = roster(dir.path(), &["apply", "--yes"], &[KEY]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(live_emails(&sb).len(), NEW + 1);
}

/// The new users of the `--sandbox` data file, sorted.
fn saved_new_users(data: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = persist::load(data).unwrap().periscope["acme"]
        .users
        .iter()
        .map(|u| u.email.clone())
        .filter(|e| e.starts_with('n'))
        .collect();
    v.sort();
    v
}

/// `--sandbox` keeps what it accepted when interrupted: after a first
/// SIGINT, exactly what the report says was created is in the data file;
/// after two, the file holds what was answered and a rerun converges.
#[test]
fn an_interrupted_apply_against_the_in_process_sandbox_keeps_its_writes() {
    const MANY: usize = 3000;
    let mut text = keeping_state_text("http://127.0.0.1:9");
    text = text.replace("[[users]]\nemail = \"n", "[[users]]\nemail = \"old-n");
    for i in 0..MANY {
        text += &format!(
            "\n[[users]]\nemail = \"n{i:04}@acme.com\"\nfirst_name = \"N\"\nlast_name = \"{i}\"\n"
        );
    }
    let dir = state_dir(&[("roster.toml", &text)]);
    let data = dir.path().join(".roster/sandbox.json");
    let args = ["apply", "--yes", "--sandbox", "-v", "--concurrency", "1"];

    let apply = Running::start(dir.path(), &args);
    apply.wait_for_stderr("POST");
    apply.signal(libc::SIGINT);
    let out = apply.finish();
    assert_eq!(out.code, 130, "{}", out.stderr);
    let created: Vec<String> = reported_created(&out.stdout)
        .into_iter()
        .filter(|e| e.starts_with('n'))
        .collect();
    assert!(
        !created.is_empty() && created.len() < MANY,
        "{}",
        created.len()
    );
    assert_eq!(saved_new_users(&data), created);

    let apply = Running::start(dir.path(), &args);
    apply.wait_for_stderr("POST");
    apply.signal(libc::SIGINT);
    apply.wait_for_stderr("Press Ctrl-C again to exit at once.");
    apply.signal(libc::SIGINT);
    let out = apply.finish();
    assert_eq!(out.code, 130, "{}", out.stderr);
    // The change under way may end (and the report come) before the second
    // signal lands; either way the file holds what was accepted.
    if out.stderr.contains(": exiting now, without waiting.") {
        assert!(
            out.stderr.contains(
                "The sandbox kept every write it accepted (saved to .roster/sandbox.json).\n"
            ),
            "{}",
            out.stderr
        );
        assert!(saved_new_users(&data).len() > created.len());
    } else {
        let mut both = created.clone();
        both.extend(reported_created(&out.stdout));
        both.sort();
        assert_eq!(saved_new_users(&data), both, "{}", out.stderr);
    }

    let out = roster(dir.path(), &["apply", "--yes", "--sandbox"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let all = saved_new_users(&data);
    assert_eq!(all.len(), MANY, "each created once");
    assert!(!dir.path().join(".roster/sandbox.json.lock").exists());
}

/// The lock of a running sandbox is the server's, however its URL is
/// spelt: `localhost` does not get around an apply through `127.0.0.1`.
#[test]
fn a_second_apply_through_another_spelling_of_the_sandbox_url_is_refused() {
    let sb = slow_sandbox(Duration::from_millis(200));
    let dir = state(&sb.url);
    let first = Running::start(
        dir.path(),
        &[
            "apply",
            "--yes",
            "--concurrency",
            "2",
            "--sandbox-url",
            &sb.url,
        ],
    );
    let lock = std::fs::canonicalize(dir.path()).unwrap().join(format!(
        ".roster/apply-loopback-{}.lock",
        sb.url.rsplit(':').next().unwrap()
    ));
    wait_until("the first apply's lock", || {
        std::fs::read_to_string(&lock).is_ok_and(|t| t.ends_with("}\n"))
    });
    let other = sb.url.replace("127.0.0.1", "localhost");
    let second = roster(
        dir.path(),
        &["apply", "--yes", "--sandbox-url", &other],
        &[KEY],
    );
    assert_eq!(second.code, 1, "{}", second.all());
    assert!(
        second.stderr.starts_with(&format!(
            "error: {} is locked by `roster apply`",
            lock.display()
        )),
        "{}",
        second.stderr
    );
    let out = first.finish();
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(creates(&sb), NEW, "nobody was created twice");
}
