//! One writer at a time: a lock file created atomically (`create_new`)
//! holding who took it (pid, host, start time, what for). A second taker
//! fails at once naming the holder. The lock goes when its guard is dropped,
//! or with [`release_all`] before the process exits at once; a lock left by
//! a process that no longer runs is stale and removed with
//! `roster force-unlock`.
//!
//! Whether the holder still runs is told by the operating system: the
//! holder keeps the lock file open with a shared file lock
//! ([`File::try_lock_shared`]), which the system drops when the process
//! ends, however it ends. A lock file nobody holds so is stale; a reused
//! pid cannot make it look alive.

use std::fs::{File, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Where apply's lock lives: in `.roster/` in the directory that holds the
/// state directory (the repository, usually), one per set of live sites:
/// `apply.lock` for the real sites, `apply-HOST-PORT.lock` for a sandbox at
/// `--sandbox-url` (applies of one state to two sandboxes do not collide).
pub fn apply_lock_path(state: &Path, sandbox_url: Option<&str>) -> PathBuf {
    let state = std::fs::canonicalize(state).unwrap_or_else(|_| state.to_path_buf());
    let base = state.parent().unwrap_or(&state);
    let name = match sandbox_url {
        None => "apply.lock".to_string(),
        Some(url) => {
            let safe: String = server_of(url)
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            format!("apply-{safe}.lock")
        }
    };
    base.join(".roster").join(name)
}

/// The server a sandbox URL reaches, however it is spelt: `localhost`,
/// `127.0.0.1`, `127.1` and `[::1]` with a port are all `loopback:PORT`, so
/// every spelling of one sandbox takes the same lock.
fn server_of(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return url.to_string();
    };
    let port = parsed.port_or_known_default().unwrap_or(0);
    let addrs = parsed.socket_addrs(|| None).unwrap_or_default();
    match addrs.iter().map(std::net::SocketAddr::ip).min() {
        _ if !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()) => {
            format!("loopback:{port}")
        }
        Some(ip) => format!("{ip}:{port}"),
        None => format!("{}:{port}", parsed.host_str().unwrap_or("")),
    }
}

/// Where the lock of a sandbox data file lives: beside it, `FILE.lock`.
pub fn data_lock_path(data: &Path) -> PathBuf {
    let mut name = data.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Who holds a lock, as written in the lock file (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    /// RFC 3339, UTC.
    pub started: String,
    /// What took it: `roster apply`, `roster sandbox --save`...
    pub command: String,
}

impl Holder {
    fn me(command: &str) -> Holder {
        Holder {
            pid: std::process::id(),
            host: hostname(),
            started: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            command: command.to_string(),
        }
    }

    /// Whether the holder of the lock file at `path` still runs:
    /// `Some(false)` only when it was on this host and no process holds the
    /// file's OS lock; `None` when it cannot be told (another host).
    pub fn is_running(&self, path: &Path) -> Option<bool> {
        self.on_this_host().then(|| held_by_a_process(path))
    }

    fn on_this_host(&self) -> bool {
        self.host == hostname()
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` (pid {} on host {}, since {})",
            self.command, self.pid, self.host, self.started
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "{} is locked by {holder}{}: only one may run at a time. Wait for it to finish; if you are sure it is not running, remove the lock with `{unlock}`",
        path.display(),
        if holder.on_this_host() { ", which is still running" } else { ", on another host" }
    )]
    Held {
        path: PathBuf,
        holder: Box<Holder>,
        unlock: String,
    },
    #[error(
        "{} is locked by {holder}, but no process {} runs on this host: the lock is stale (left by a run that was killed). Check what it did with `roster plan`, then remove the lock with `{unlock}`",
        path.display(),
        holder.pid
    )]
    Stale {
        path: PathBuf,
        holder: Box<Holder>,
        unlock: String,
    },
    #[error(
        "{} exists but is not a lock roster can read ({why}); if no roster command is running, remove it with `{unlock}`",
        path.display()
    )]
    Unreadable {
        path: PathBuf,
        why: String,
        unlock: String,
    },
    #[error("cannot create the lock {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A lock this process holds: its path, the text written, and the file
/// kept open with its OS lock while it is held.
struct Held {
    path: PathBuf,
    text: String,
    file: File,
}

/// Locks held by this process: removed by [`release_all`] when the process
/// exits without unwinding.
static HELD: Mutex<Vec<Held>> = Mutex::new(Vec::new());

/// A lock this process holds; dropping it removes the file.
#[derive(Debug)]
pub struct LockGuard {
    path: PathBuf,
}

impl LockGuard {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        release(&self.path);
    }
}

/// Takes the lock at `path` for `command`, or fails naming its holder
/// (`unlock` is the command that would remove it).
pub fn acquire(path: &Path, command: &str, unlock: &str) -> Result<LockGuard, LockError> {
    let io = |source| LockError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let text =
        serde_json::to_string_pretty(&Holder::me(command)).expect("a holder serializes") + "\n";
    let mut held = HELD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(mut file) => {
            if let Err(e) = file
                .write_all(text.as_bytes())
                .and_then(|()| file.sync_all())
            {
                let _ = std::fs::remove_file(path);
                return Err(io(e));
            }
            hold_open(&file);
            held.push(Held {
                path: path.to_path_buf(),
                text,
                file,
            });
            Ok(LockGuard {
                path: path.to_path_buf(),
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(refusal(path, read(path), unlock))
        }
        Err(e) => Err(io(e)),
    }
}

/// Why the lock at `path` cannot be taken, from what it holds.
fn refusal(path: &Path, holder: Result<Holder, String>, unlock: &str) -> LockError {
    let (path, unlock) = (path.to_path_buf(), unlock.to_string());
    match holder {
        Err(why) => LockError::Unreadable { path, why, unlock },
        Ok(holder) if holder.is_running(&path) == Some(false) => LockError::Stale {
            path,
            holder: Box::new(holder),
            unlock,
        },
        Ok(holder) => LockError::Held {
            path,
            holder: Box::new(holder),
            unlock,
        },
    }
}

/// Who holds the lock at `path`, or why that cannot be read.
pub fn read(path: &Path) -> Result<Holder, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| format!("not a lock file: {e}"))
}

/// Removes the lock at `path` if this process still holds it (it is left
/// alone if someone force-unlocked it and another run took it since).
fn release(path: &Path) {
    let mut held = HELD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(i) = held.iter().position(|h| h.path == path) {
        let Held { path, text, file } = held.swap_remove(i);
        let ours = std::fs::read_to_string(&path).is_ok_and(|now| now == text);
        if ours {
            let _ = std::fs::remove_file(&path);
        }
        // Closing the file lets its OS lock go.
        drop(file);
        // The `.roster/` made for it goes too when nothing else is in it.
        if let Some(dir) = path.parent().filter(|d| ours && d.ends_with(".roster")) {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Removes every lock this process holds: for exits that skip destructors
/// (`std::process::exit` after a second Ctrl-C).
pub fn release_all() {
    let paths: Vec<PathBuf> = HELD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .map(|h| h.path.clone())
        .collect();
    for p in paths {
        release(&p);
    }
}

#[cfg(unix)]
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length, which is passed.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(not(unix))]
fn hostname() -> String {
    std::env::var("COMPUTERNAME").unwrap_or_else(|_| "unknown".into())
}

/// Takes a shared OS lock on the open lock file for as long as the file
/// stays open: what tells another process that the holder runs. A file
/// system without file locks leaves it untaken; the lock file still
/// excludes, and its holder is then never taken for stale.
fn hold_open(file: &File) {
    let _ = file.try_lock_shared();
}

/// Whether a process holds the lock file at `path` open with its OS lock
/// (an exclusive lock cannot be had). What cannot be told (the file cannot
/// be opened, the file system has no locks) counts as held: a holder is
/// called stale only when the system says nobody holds its file.
fn held_by_a_process(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return true;
    };
    match file.try_lock() {
        Ok(()) => false,
        Err(TryLockError::WouldBlock | TryLockError::Error(_)) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_one_sandbox_takes_the_same_lock() {
        let state = Path::new("/nonexistent/state");
        let lock = |url| apply_lock_path(state, Some(url));
        let first = lock("http://127.0.0.1:18082");
        for url in [
            "http://localhost:18082",
            "http://localhost:18082/",
            "http://127.1:18082",
            "http://[::1]:18082",
            "HTTP://LOCALHOST:18082",
        ] {
            assert_eq!(lock(url), first, "{url}");
        }
        assert_ne!(lock("http://127.0.0.1:18083"), first);
    }

    #[test]
    fn a_second_taker_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".roster/apply.lock");
        let first = acquire(&path, "roster apply", "roster force-unlock").unwrap();
        let holder = read(&path).unwrap();
        assert_eq!(holder.pid, std::process::id());
        assert_eq!(holder.is_running(&path), Some(true));
        let err = acquire(&path, "roster apply", "roster force-unlock").unwrap_err();
        assert!(matches!(err, LockError::Held { .. }), "{err}");
        drop(first);
        assert!(!path.exists());
        assert!(
            !path.parent().unwrap().exists(),
            "its empty directory went too"
        );
        let again = acquire(&path, "roster apply", "roster force-unlock").unwrap();
        release_all();
        assert!(!path.exists());
        drop(again);
    }

    #[test]
    fn a_lock_of_a_dead_process_is_stale_and_garbage_is_unreadable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("apply.lock");
        let dead = Holder {
            pid: i32::MAX as u32,
            ..Holder::me("roster apply")
        };
        std::fs::write(&path, serde_json::to_string(&dead).unwrap()).unwrap();
        let err = acquire(&path, "roster apply", "roster force-unlock").unwrap_err();
        assert!(matches!(err, LockError::Stale { .. }), "{err}");
        std::fs::write(&path, "").unwrap();
        let err = acquire(&path, "roster apply", "roster force-unlock").unwrap_err();
        assert!(matches!(err, LockError::Unreadable { .. }), "{err}");
    }

    /// The holder's pid says nothing either way: a lock file left by a
    /// process whose pid now names a running process (this one) is stale
    /// once nobody holds it open, and one held open is not stale though
    /// its pid names no process.
    #[test]
    fn a_lock_is_stale_when_no_process_holds_its_file_whatever_its_pid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("apply.lock");
        let reused = serde_json::to_string(&Holder::me("roster apply")).unwrap();
        std::fs::write(&path, reused).unwrap();
        let err = acquire(&path, "roster apply", "roster force-unlock").unwrap_err();
        assert!(matches!(err, LockError::Stale { .. }), "{err}");
        assert_eq!(read(&path).unwrap().is_running(&path), Some(false));

        let dead = Holder {
            pid: i32::MAX as u32,
            ..Holder::me("roster apply")
        };
        std::fs::write(&path, serde_json::to_string(&dead).unwrap()).unwrap();
        let holding = File::open(&path).unwrap();
        holding.try_lock_shared().unwrap();
        let err = acquire(&path, "roster apply", "roster force-unlock").unwrap_err();
        assert!(matches!(err, LockError::Held { .. }), "{err}");
        assert_eq!(dead.is_running(&path), Some(true));
        drop(holding);
        assert_eq!(dead.is_running(&path), Some(false));
    }

    #[test]
    fn the_apply_lock_sits_beside_the_state() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("state")).unwrap();
        let canonical = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(
            apply_lock_path(&dir.path().join("state"), None),
            canonical.join(".roster/apply.lock")
        );
        assert_eq!(
            apply_lock_path(&dir.path().join("state"), Some("http://127.0.0.1:8081/")),
            canonical.join(".roster/apply-loopback-8081.lock")
        );
        assert_eq!(
            data_lock_path(Path::new(".roster/sandbox.json")),
            Path::new(".roster/sandbox.json.lock")
        );
    }
}
