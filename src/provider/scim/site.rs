//! The registry's SCIM client: a [`ScimClient`] and what its last read
//! learnt of the site (capabilities, ids, ETags), for the writes of the
//! apply that follows.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::{Credentials, ScimClient, ScimIds};
use crate::model::{LiveSite, Site};
use crate::provider::{Pacing, ProviderError, SiteClient, Step, endpoint, path_segment};

pub struct ScimSite {
    client: ScimClient,
    /// What the last read found, updated by every write.
    ids: Mutex<ScimIds>,
    /// Whether the site has been read: no write goes without the versions
    /// read for the plan.
    read: AtomicBool,
}

impl SiteClient for ScimSite {
    type Credentials = Credentials;

    /// `base` is the site's SCIM root, or a sandbox's address, under which
    /// the sandbox serves the site's service at `/scim/{name}/v2`.
    fn connect(
        site: &Site,
        credentials: Credentials,
        base: &url::Url,
        pacing: Pacing,
    ) -> Result<Self, ProviderError> {
        let base = match &credentials.sandbox_service {
            Some(name) => endpoint(
                base,
                &format!(
                    "{}/{}/v2",
                    crate::sandbox::scim::routes::PREFIX,
                    path_segment(name)
                ),
            ),
            None => base.clone(),
        };
        let client = ScimClient::new(
            &site.name,
            &base,
            credentials.token,
            &credentials.token_from,
            pacing,
            Duration::from_secs(site.patience_seconds),
        )?;
        Ok(ScimSite {
            client,
            ids: Mutex::new(ScimIds::default()),
            read: AtomicBool::new(false),
        })
    }

    async fn fetch_live(&self) -> Result<LiveSite, ProviderError> {
        let (live, ids) = self.client.fetch().await?;
        *self.ids.lock().expect("ids lock") = ids;
        self.read.store(true, Ordering::SeqCst);
        Ok(live)
    }

    /// SCIM has no test mode: `step.mode` is never `TestMode` here (a dry
    /// run sends nothing). The generic `step.ids` hold no ETags; the ones
    /// read with the live state are used instead.
    async fn apply_changes(&self, step: Step<'_>) -> Vec<Result<(), ProviderError>> {
        if !self.read.load(Ordering::SeqCst) {
            let unread = ProviderError::Unsupported {
                site: self.client.name.clone(),
                message: "the service was not read before writing; nothing was sent".into(),
            };
            return step.changes.iter().map(|_| Err(unread.clone())).collect();
        }
        self.client
            .apply_step(step.changes, step.concurrency, step.gate, &self.ids)
            .await
    }

    fn requests(&self) -> crate::provider::cost::Requests {
        self.client.requests()
    }
}
