//! Fixtures the unit tests share: sites with the settings those tests
//! assume unless they say otherwise.

use crate::model::{
    Handover, ProviderKind, SecretSource, SigmaOrgPolicy, Site, SiteConfig, Unmanaged,
};

/// Where a test's Sigma org lives when no request reaches it.
pub(crate) const SIGMA_URL: &str = "https://aws-api.sigmacomputing.com";

/// The Periscope provider.
pub(crate) fn periscope() -> ProviderKind {
    ProviderKind::Periscope
}

/// The Sigma provider.
pub(crate) fn sigma() -> ProviderKind {
    ProviderKind::Sigma
}

/// The SCIM provider.
pub(crate) fn scim() -> ProviderKind {
    ProviderKind::Scim
}

/// The site `name` of `provider` at `base_url` with `config`: unmanaged
/// users and groups removed, no request budget, 60 s patience, no seat
/// limits, expiry noted 14 days ahead.
pub(crate) fn site(name: &str, provider: ProviderKind, base_url: &str, config: SiteConfig) -> Site {
    Site {
        name: name.into(),
        provider,
        base_url: url::Url::parse(base_url).unwrap(),
        unmanaged_users: Unmanaged::Remove,
        unmanaged_groups: Unmanaged::Remove,
        safety: Default::default(),
        max_requests_per_second: None,
        patience_seconds: 60,
        max_response_bytes: crate::provider::retry::DEFAULT_MAX_RESPONSE_BYTES,
        deadline_seconds: crate::provider::retry::DEFAULT_DEADLINE.as_secs(),
        seats: Default::default(),
        expiry_notice_days: 14,
        config,
    }
}

/// The Sigma org `org` at `base_url`: its client id and secret from `ID`
/// and `SECRET`, with `handover` and the organisation policy `policy`.
pub(crate) fn sigma_site(base_url: &str, handover: Handover, policy: SigmaOrgPolicy) -> Site {
    let settings = crate::provider::sigma::Settings {
        client_id_from: SecretSource::Env("ID".into()),
        client_secret_from: SecretSource::Env("SECRET".into()),
        handover,
        org: policy,
    };
    site(
        "org",
        ProviderKind::Sigma,
        base_url,
        SiteConfig::Sigma(settings),
    )
}
