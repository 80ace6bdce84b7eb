//! Turning the state's references to secrets into the secrets themselves.

use std::fmt;
use std::process::{Command, Stdio};

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

/// Reads one secret. A command's output is the secret; its error output is
/// never shown, since it could hold the secret too.
fn read(source: &SecretSource) -> Result<Secret, String> {
    match source {
        SecretSource::Env(var) => match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Secret::new(v.trim())),
            _ => Err(format!("environment variable {var} is not set")),
        },
        SecretSource::Command(cmd) => {
            let out = Command::new("sh")
                .arg("-c")
                .arg(cmd)
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output()
                .map_err(|e| format!("the command `{cmd}` could not run: {e}"))?;
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
