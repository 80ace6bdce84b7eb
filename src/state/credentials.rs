//! Turning the state's references to secrets into the secrets themselves.

use std::fmt;

use crate::model::{Credentials, Site, SiteConfig};
use crate::secret::Secret;

/// Environment variables the state refers to that are not set. Every one is
/// listed, before any request is sent.
#[derive(Debug, thiserror::Error)]
pub struct MissingCredentials(pub Vec<(String, String)>);

impl fmt::Display for MissingCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (site, var) in &self.0 {
            writeln!(
                f,
                "site `{site}`: environment variable {var} is not set (it holds one of the site's credentials)"
            )?;
        }
        write!(
            f,
            "set the variable{} and run again, or use --sandbox to try roster without credentials; nothing was contacted",
            if self.0.len() == 1 { "" } else { "s" }
        )
    }
}

/// Reads each site's secrets from the environment.
pub fn resolve_credentials(sites: &[&Site]) -> Result<Vec<Credentials>, MissingCredentials> {
    let mut missing = Vec::new();
    let mut read = |site: &Site, var: &str| match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Secret::new(v.trim()),
        _ => {
            missing.push((site.name.clone(), var.to_string()));
            Secret::new("")
        }
    };
    let found: Vec<Credentials> = sites
        .iter()
        .map(|site| match &site.config {
            SiteConfig::Periscope { api_key_env, .. } => Credentials::Periscope {
                api_key: read(site, api_key_env),
            },
            SiteConfig::Sigma {
                client_id_env,
                client_secret_env,
                ..
            } => Credentials::Sigma {
                client_id: read(site, client_id_env),
                client_secret: read(site, client_secret_env),
            },
        })
        .collect();
    if missing.is_empty() {
        Ok(found)
    } else {
        Err(MissingCredentials(missing))
    }
}
