//! Turning the state's references to secrets into the secrets themselves.

use std::fmt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::model::{Credentials, SecretSource, Site};
use crate::secret::Secret;

/// Credentials that could not be read, each with why. Every one is listed,
/// before any request is sent.
#[derive(Debug, thiserror::Error)]
pub struct MissingCredentials(pub Vec<(String, String)>);

impl fmt::Display for MissingCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (site, why) in &self.0 {
            writeln!(
                f,
                "site `{site}`: {why} (it holds one of the site's credentials)"
            )?;
        }
        write!(
            f,
            "fix {} and run again, or use --sandbox to try roster without credentials; nothing was contacted",
            if self.0.len() == 1 { "it" } else { "them" }
        )
    }
}

/// How long a credential command may run before it is killed, unless
/// `ROSTER_CREDENTIAL_TIMEOUT` (seconds) says otherwise.
const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// The environment variable that sets how long a credential command may run.
pub(super) const COMMAND_TIMEOUT_VAR: &str = "ROSTER_CREDENTIAL_TIMEOUT";

/// How long a credential command may run: `ROSTER_CREDENTIAL_TIMEOUT`
/// seconds (from 1 to 86400), or 30.
fn command_timeout() -> Result<Duration, String> {
    match std::env::var(COMMAND_TIMEOUT_VAR) {
        Err(_) => Ok(DEFAULT_COMMAND_TIMEOUT),
        Ok(v) => v
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 1.0 && *s <= 86_400.0)
            .map(Duration::from_secs_f64)
            .ok_or_else(|| {
                format!("{COMMAND_TIMEOUT_VAR}={v:?} is not a number of seconds from 1 to 86400, such as 30")
            }),
    }
}

/// Reads one secret. A command's output is the secret; its error output is
/// never shown, since it could hold the secret too.
fn read(source: &SecretSource) -> Result<Secret, String> {
    match source {
        SecretSource::Env(var) => match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Secret::new(v.trim())),
            _ => Err(format!("environment variable {var} is not set")),
        },
        SecretSource::Command(cmd) => {
            let timeout = command_timeout()
                .map_err(|why| format!("the command `{cmd}` was not run: {why}"))?;
            let out = run_command(cmd, timeout)?;
            if !out.status.success() {
                return Err(format!("the command `{cmd}` failed ({})", out.status));
            }
            match String::from_utf8(out.stdout) {
                Ok(v) if !v.trim().is_empty() => Ok(Secret::new(v.trim())),
                Ok(_) => Err(format!("the command `{cmd}` printed nothing")),
                Err(_) => Err(format!(
                    "the command `{cmd}` printed something that is not text"
                )),
            }
        }
    }
}

/// Runs `cmd` with `sh -c`, its output read as it comes; after `timeout`
/// it is killed with everything it started (its own process group), and
/// what it printed is dropped unread.
fn run_command(cmd: &str, timeout: Duration) -> Result<std::process::Output, String> {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .map_err(|e| format!("the command `{cmd}` could not run: {e}"))?;
    let Some(mut stdout) = child.stdout.take() else {
        kill_group(&mut child);
        return Err(format!("the command `{cmd}`'s output could not be read"));
    };
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut bytes).map(|_| bytes)
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                kill_group(&mut child);
                return Err(format!(
                    "the command `{cmd}` did not finish within {} s and was stopped (set {COMMAND_TIMEOUT_VAR} to allow longer)",
                    timeout.as_secs_f64()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("the command `{cmd}` could not be waited for: {e}")),
        }
    };
    let stdout = reader
        .join()
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| format!("the command `{cmd}`'s output could not be read"))?;
    Ok(std::process::Output {
        status,
        stdout,
        stderr: Vec::new(),
    })
}

/// Kills a timed-out command and whatever it started, and reaps it.
fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals the process group the
        // child leads (made with process_group(0)); it touches no memory.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Reads each site's secrets from the environment or their commands.
pub fn resolve_credentials(sites: &[&Site]) -> Result<Vec<Credentials>, MissingCredentials> {
    let mut missing = Vec::new();
    let mut get = |site: &Site, source: &SecretSource| match read(source) {
        Ok(s) => s,
        Err(why) => {
            missing.push((site.name.clone(), why));
            Secret::new("")
        }
    };
    let found: Vec<Credentials> = sites
        .iter()
        .map(|site| site.config.credentials(&mut |source| get(site, source)))
        .collect();
    if missing.is_empty() {
        Ok(found)
    } else {
        Err(MissingCredentials(missing))
    }
}
