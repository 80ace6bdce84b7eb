//! Connecting to the declared sites: the real platforms with credentials from
//! the environment, a sandbox started in-process (`--sandbox`), or a running
//! sandbox (`--sandbox-url`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::output::stderr_line;
use crate::cli::TargetArgs;
use crate::model::{Credentials, DesiredState, LiveSite, Site};
use crate::progress::Progress;
use crate::provider::{Client, Pacing, ProviderError};
use crate::sandbox::{self, RunningSandbox, Sandbox};
use crate::state;

/// The test credentials a sandbox accepts for a site: the fixed Periscope
/// key, or the Sigma organisation named like the site with the fixed secret.
fn sandbox_credentials(site: &Site) -> Credentials {
    site.config.sandbox_credentials(site)
}

/// Makes sure the in-process sandbox holds `site` (adding an empty one with
/// just an administrator if not) and returns the credentials it accepts.
fn provision(data: &mut sandbox::SandboxData, site: &Site) -> Credentials {
    site.config.provision(data, site)
}

/// Clients for every declared site, and the in-process sandbox if any.
pub(super) struct Targets {
    pub clients: Vec<Client>,
    in_process: Option<InProcess>,
    /// `--sandbox-url`: the sandbox's test credentials are sent, whatever
    /// the state says to read them from.
    sandbox_url: Option<url::Url>,
}

/// A refusal of the test credentials `--sandbox-url` sends: the hint names
/// them and the sandbox, not the credential sources of the state (never
/// read in that mode).
fn sandbox_refusal(url: &url::Url, error: ProviderError) -> ProviderError {
    match error {
        ProviderError::Http {
            site,
            action,
            object,
            status: status @ (401 | 403),
            message,
            retry_after,
        } => {
            // The site's own words, without the provider's hint about the
            // state's credential sources.
            let own = [" (the site refused the API key", " (check the values of "]
                .iter()
                .filter_map(|hint| message.find(hint))
                .min()
                .map_or(message.as_str(), |at| &message[..at]);
            ProviderError::Http {
                message: format!(
                    "{own} (with --sandbox-url roster sends the sandbox's test credentials, not the ones the state names; the sandbox at {url} holds others for this site: see the credentials its banner lists, or start it again from the seed)"
                ),
                site,
                action,
                object,
                status,
                retry_after,
            }
        }
        other => other,
    }
}

struct InProcess {
    sandbox: Sandbox,
    running: RunningSandbox,
    file: PathBuf,
    /// The data file is written by one run at a time.
    _lock: crate::lock::LockGuard,
}

impl Targets {
    pub(super) async fn connect(
        desired: &DesiredState,
        args: &TargetArgs,
        pacing: Pacing,
    ) -> Result<Targets> {
        let sites: Vec<_> = desired.sites.iter().map(|s| &s.site).collect();
        if args.sandbox {
            // Before its lock is made beside it: never `/dev/null.lock`.
            sandbox::persist::check_regular(&args.sandbox_data)?;
            let lock = crate::lock::acquire(
                &crate::lock::data_lock_path(&args.sandbox_data),
                "roster --sandbox",
                &super::force_unlock::hint(Path::new("state"), None, Some(&args.sandbox_data)),
            )?;
            let mut data = sandbox::persist::load_or_seed(&args.sandbox_data, args.sandbox_reset)?;
            let credentials: Vec<Credentials> = sites
                .iter()
                .map(|site| provision(&mut data, site))
                .collect();
            let sandbox = Sandbox::new(data);
            let running = sandbox.spawn().await.context("starting the sandbox")?;
            let url = running.url();
            let clients = sites
                .iter()
                .zip(credentials)
                .map(|(site, creds)| Client::new(site, creds, Some(&url), pacing))
                .collect::<Result<Vec<_>, ProviderError>>()?;
            return Ok(Targets {
                clients,
                sandbox_url: None,
                in_process: Some(InProcess {
                    sandbox,
                    running,
                    file: args.sandbox_data.clone(),
                    _lock: lock,
                }),
            });
        }
        if let Some(raw) = &args.sandbox_url {
            let url = state::check_base_url(raw).map_err(|why| match why.hint() {
                Some(hint) => anyhow::anyhow!("--sandbox-url {why}\n  hint: {hint}"),
                None => anyhow::anyhow!("--sandbox-url {why}"),
            })?;
            let clients = sites
                .iter()
                .map(|site| Client::new(site, sandbox_credentials(site), Some(&url), pacing))
                .collect::<Result<Vec<_>, ProviderError>>()?;
            return Ok(Targets {
                clients,
                in_process: None,
                sandbox_url: Some(url),
            });
        }
        let credentials = state::resolve_credentials(&sites)?;
        let clients = sites
            .iter()
            .zip(credentials)
            .map(|(site, creds)| Client::new(site, creds, None, pacing))
            .collect::<Result<Vec<_>, ProviderError>>()?;
        Ok(Targets {
            clients,
            in_process: None,
            sandbox_url: None,
        })
    }

    /// Reads every site's live state concurrently. All failures are
    /// reported together.
    /// Reads every site's live state concurrently; each site's result on
    /// its own, so one failure hides nothing of the others.
    pub(super) async fn fetch_each(&self) -> Vec<Result<LiveSite, ProviderError>> {
        let n = self.clients.len();
        let progress = Progress::spinner(&format!(
            "Reading the live state of {n} site{}",
            if n == 1 { "" } else { "s" }
        ));
        let results = futures::future::join_all(self.clients.iter().map(Client::fetch)).await;
        progress.finish();
        match &self.sandbox_url {
            Some(url) => results
                .into_iter()
                .map(|r| r.map_err(|e| sandbox_refusal(url, e)))
                .collect(),
            None => results,
        }
    }

    /// Reads every site's live state, or fails naming every site that
    /// could not be read.
    pub(super) async fn fetch(&self) -> Result<Vec<LiveSite>> {
        let mut live = Vec::new();
        let mut errors = Vec::new();
        for r in self.fetch_each().await {
            match r {
                Ok(l) => live.push(l),
                Err(e) => errors.push(e.to_string()),
            }
        }
        if !errors.is_empty() {
            bail!(
                "could not read the live state:\n  {}\nnothing was changed",
                errors.join("\n  ")
            );
        }
        Ok(live)
    }

    /// What saves the in-process sandbox's data now (for an exit that
    /// cannot wait): every write it accepted so far.
    pub(super) fn saver(&self) -> Option<Box<dyn Fn() + Send + Sync>> {
        let p = self.in_process.as_ref()?;
        let (sandbox, file) = (p.sandbox.clone(), p.file.clone());
        Some(Box::new(move || {
            match sandbox::persist::save(&file, &sandbox.data()) {
                Ok(()) => stderr_line!(
                    "The sandbox kept every write it accepted (saved to {}).",
                    file.display()
                ),
                Err(e) => stderr_line!("error: {e}"),
            }
        }))
    }

    /// Stops an in-process sandbox and saves its data for the next run.
    pub(super) async fn finish(self) -> Result<()> {
        if let Some(p) = self.in_process {
            p.running.stop().await;
            sandbox::persist::save(&p.file, &p.sandbox.data())?;
        }
        Ok(())
    }
}
