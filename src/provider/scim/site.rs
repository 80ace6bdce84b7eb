//! The registry's SCIM client: a [`ScimClient`] and the service's
//! capabilities, read once. The ids and ETags the writes carry are not
//! kept here: they come with the live state (`LiveUser::version`), and
//! apply hands them to each step in the site's
//! [`SiteIds`](crate::provider::SiteIds).

use std::sync::Mutex;
use std::time::Duration;

use super::{Capabilities, Credentials, ScimClient, ScimIds};
use crate::model::{LiveSite, Site};
use crate::model::Change;
use crate::provider::{
    Pacing, ProviderError, SiteClient, Step, endpoint, path_segment,
};

pub struct ScimSite {
    client: ScimClient,
    /// What `/ServiceProviderConfig` says, read once per run: by the read
    /// of the site, or by the first write if no read came first. It says
    /// how the service is written to, not what is on it.
    capabilities: tokio::sync::OnceCell<Capabilities>,
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
            capabilities: tokio::sync::OnceCell::new(),
        })
    }

    /// The live state, each user and group with its ETag
    /// (`LiveUser::version`), from which apply builds the ids it hands
    /// the writes.
    async fn fetch_live(&self) -> Result<LiveSite, ProviderError> {
        let (live, ids) = self.client.fetch().await?;
        // Set once: a later read of the same service says the same.
        let _ = self.capabilities.set(ids.capabilities);
        Ok(live)
    }

    /// SCIM has no test mode: `step.mode` is never `TestMode` here (a dry
    /// run sends nothing). The ids and ETags are `step.ids`'s, those apply
    /// read with the plan's live state; what the writes learn (new ids,
    /// new ETags) goes back into them for the next step.
    async fn apply_changes(&self, step: Step<'_>) -> Vec<Result<(), ProviderError>> {
        let capabilities = match self
            .capabilities
            .get_or_try_init(|| self.client.discover())
            .await
        {
            Ok(c) => c.clone(),
            Err(e) => return step.changes.iter().map(|_| Err(e.clone())).collect(),
        };
        let ids = {
            let site_ids = step.ids.lock().expect("ids lock");
            Mutex::new(ScimIds::from_site(capabilities, &site_ids))
        };
        let results = self
            .client
            .apply_step(step.changes, step.concurrency, step.gate, &ids)
            .await;
        let learnt = ids.into_inner().expect("ids lock");
        learnt.store_in(&mut step.ids.lock().expect("ids lock"));
        results
    }

    /// What the changes send: see [`ScimClient::requests_for`].
    fn write_requests(&self, changes: &[Change]) -> u64 {
        let capabilities = self.capabilities.get().cloned().unwrap_or_default();
        self.client.requests_for(&capabilities, changes)
    }

    fn pacer(&self) -> &crate::provider::retry::Pacer {
        self.client.pacer()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use serde_json::json;

    use crate::model::{ProviderKind, SecretSource, SiteConfig, email_key};
    use crate::model::{Change, Diff};
    use crate::provider::{Client, Credentials, Pacing, SiteIds, WriteMode};
    use crate::sandbox::scim::store::Kind;
    use crate::sandbox::{BackgroundSandbox, SandboxData, ScimService};
    use crate::secret::Secret;
    use crate::test_fixtures;

    /// A sandbox whose SCIM service `svc` holds ada@x.io, changed once
    /// since she was made: her id, her first ETag and her current one.
    fn sandbox_with_ada() -> (BackgroundSandbox, String, String, String) {
        let mut service = ScimService::new("svc-token");
        let ada = service
            .create(
                Kind::User,
                &json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": "ada@x.io",
                    "name": {"givenName": "Ada"}
                }),
            )
            .unwrap();
        let (id, first) = (ada.id.clone(), ada.etag());
        let display_name = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "displayName", "value": "Countess"}]
        });
        let now = service.patch(Kind::User, &id, &display_name, None).unwrap().etag();
        assert_ne!(first, now);
        let mut data = SandboxData::default();
        data.scim.insert("svc".into(), service);
        (BackgroundSandbox::start(data).unwrap(), id, first, now)
    }

    fn scim_client(url: &str) -> Client {
        let settings = super::super::Settings {
            token_from: SecretSource::Env("SCIM_TOKEN".into()),
        };
        let site = test_fixtures::site("svc", ProviderKind::Scim, url, SiteConfig::Scim(settings));
        let credentials = Credentials::Scim(super::Credentials {
            token: Secret::new("svc-token"),
            token_from: "SCIM_TOKEN".into(),
            sandbox_service: Some("svc".into()),
        });
        Client::new(&site, credentials, None, Pacing::default()).unwrap()
    }

    /// A SCIM edit sent with the ids and ETag handed over and no read of
    /// the service before it: a stale ETag is refused (412) and nothing is
    /// overwritten; the current one goes through, and the new ETag the
    /// service answers is written back into the ids for the next step.
    #[test]
    fn scim_writes_use_the_etags_they_are_given_and_nothing_else() {
        let (sb, id, first, now) = sandbox_with_ada();
        let client = scim_client(&sb.url);
        let rename = Change::UpdateUser {
            email: "ada@x.io".into(),
            id: None,
            renamed_from: None,
            first_name: Some(Diff {
                before: "Ada".into(),
                after: "Augusta".into(),
            }),
            last_name: None,
            member_type: None,
            kind: None,
            reactivate: false,
            groups: None,
        };
        let gate = crate::interrupt::Gate::new();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let send = |ids: &Mutex<SiteIds>| {
            runtime.block_on(client.apply_step(&[&rename], WriteMode::Real, 4, gate.site("svc"), ids))
        };
        let ids_with = |etag: &str| {
            Mutex::new(SiteIds {
                members: HashMap::from([(email_key("ada@x.io"), id.clone())]),
                member_versions: HashMap::from([(id.clone(), etag.to_string())]),
                ..SiteIds::default()
            })
        };
        let given_name = || {
            let data = sb.sandbox.data();
            let ada = data.scim["svc"].get(Kind::User, &id).unwrap().clone();
            (ada.attributes["name"]["givenName"].clone(), ada.etag())
        };

        let stale = send(&ids_with(&first));
        let error = stale[0].as_ref().unwrap_err();
        assert_eq!(error.status(), Some(412), "{error}");
        assert_eq!(given_name(), (json!("Ada"), now.clone()));

        let ids = ids_with(&now);
        assert!(send(&ids)[0].is_ok());
        let (name, after) = given_name();
        assert_eq!(name, json!("Augusta"));
        assert_ne!(after, now);
        assert_eq!(ids.lock().unwrap().member_versions[&id], after);
    }
}
