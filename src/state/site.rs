//! A site table: its generic checks (provider, other providers' keys,
//! safety, pacing), run as named steps, and the context a provider's own
//! settings checks (`provider/<name>/settings.rs`) run in.

use std::ops::Range;

use toml::Spanned;

use super::load::Entry;
use super::schema::{CommonKeys, Fields, SecretRef, SiteSpec};
use super::validate::Checker;
use crate::model::{Allowances, ProviderKind, Safety, SecretSource, Site, Unmanaged};
use crate::provider::ProviderKeys;

/// One site table being checked: where problems are reported, and helpers
/// for the checks every provider's settings share.
pub struct SiteCheck<'c, 'a> {
    c: &'c mut Checker<'a>,
    name: &'c str,
    entry: &'c Entry<SiteSpec>,
}

impl<'c> SiteCheck<'c, '_> {
    /// The keys every site has, as the table writes them.
    pub fn spec(&self) -> &'c CommonKeys {
        &self.entry.spec.common
    }

    /// Every provider's own keys, as the table writes them.
    pub fn providers(&self) -> &'c ProviderKeys {
        &self.entry.spec.providers
    }

    /// The site's name (`[sites.NAME]`).
    pub fn name(&self) -> &'c str {
        self.name
    }

    /// A problem at `span` of the site's file.
    pub fn error(&mut self, span: Range<usize>, message: String, hint: Option<String>) {
        self.c.error(self.entry.file, span, message, hint);
    }

    /// `file:line:column` of `span` in the site's file.
    pub fn location(&self, span: &Range<usize>) -> String {
        self.c.location(self.entry.file, span)
    }

    /// A required key is missing: the table is pointed at.
    pub fn missing(&mut self, field: &str, example: &str) {
        let (name, span) = (self.name, self.entry.span.clone());
        self.error(
            span,
            format!("site `{name}`: missing field `{field}`"),
            Some(format!("add {field} = {example}")),
        );
    }

    /// A required, non-empty text.
    pub fn required_text(
        &mut self,
        value: &Option<Spanned<String>>,
        field: &str,
        example: &str,
    ) -> String {
        match value {
            Some(s) if !s.get_ref().trim().is_empty() => s.get_ref().trim().to_string(),
            Some(s) => {
                let name = self.name;
                self.error(
                    s.span(),
                    format!("site `{name}`: `{field}` cannot be empty"),
                    None,
                );
                String::new()
            }
            None => {
                self.missing(field, example);
                String::new()
            }
        }
    }

    /// Where a secret is read from; an inline value is an error that never
    /// echoes the value.
    pub fn secret(
        &mut self,
        value: &Option<Spanned<SecretRef>>,
        field: &str,
        suffix: &str,
    ) -> SecretSource {
        let name = self.name;
        let suggestion = default_env_name(name, suffix);
        match value {
            Some(s) => match s.get_ref() {
                SecretRef::Env(var) => SecretSource::Env(var.trim().to_string()),
                SecretRef::Command(cmd) => SecretSource::Command(cmd.clone()),
                SecretRef::Inline => {
                    self.error(
                        s.span(),
                        format!("site `{name}`: the {field} is written inline; secrets never live in state files"),
                        Some(format!(
                            "remove it from the file (and rotate it if it was committed), then write {field} = {{ env = \"{suggestion}\" }}"
                        )),
                    );
                    SecretSource::Env(String::new())
                }
                SecretRef::NotText(key) => {
                    self.error(
                        s.span(),
                        format!("site `{name}`: the {field}'s `{key}` is not a string (the value is not shown)"),
                        Some(format!("write {field} = {{ env = \"{suggestion}\" }}, the name of a variable that holds the secret")),
                    );
                    SecretSource::Env(String::new())
                }
            },
            None => {
                self.missing(field, &format!("{{ env = \"{suggestion}\" }}"));
                SecretSource::Env(String::new())
            }
        }
    }

    /// A written `base_url`, checked (see [`check_base_url`]).
    pub fn base_url(&mut self, raw: &Spanned<String>) -> Option<url::Url> {
        match check_base_url(raw.get_ref()) {
            Ok(url) => Some(url),
            Err(why) => {
                let text = &self.c.files[self.entry.file].text;
                let span = pointed_at(text, raw.span(), why.marker());
                let name = self.name;
                self.error(span, format!("site `{name}`: base_url {why}"), why.hint());
                None
            }
        }
    }
}

/// Checks one site table; `None` when it has problems (all reported).
pub(super) fn check_site(c: &mut Checker, name: &str, entry: &Entry<SiteSpec>) -> Option<Site> {
    let mut s = SiteCheck { c, name, entry };
    let provider = provider(&mut s)?;
    let before = s.c.diagnostics.len();
    other_providers_keys(&mut s, provider);
    deletion(&mut s, provider);
    let settings = provider.check_settings(&mut s);
    let safety = safety(&mut s);
    let max_requests_per_second = request_budget(&mut s);
    let patience_seconds = check_patience(&mut s);
    let max_response_bytes = check_max_response_bytes(&mut s);
    let deadline_seconds = check_deadline(&mut s);
    let seats = super::insight::seats(&mut s, provider.capabilities());
    let expiry_notice_days = super::insight::notice_days(&mut s);
    if s.c.diagnostics.len() > before {
        return None;
    }
    let spec = &entry.spec.common;
    Some(Site {
        safety,
        max_requests_per_second,
        patience_seconds,
        max_response_bytes,
        deadline_seconds,
        name: name.to_string(),
        provider,
        base_url: settings.base_url?,
        unmanaged_users: spec.unmanaged_users,
        unmanaged_groups: spec.unmanaged_groups,
        config: settings.config,
        seats,
        expiry_notice_days,
    })
}

/// `provider = "..."`: one the registry knows.
fn provider(s: &mut SiteCheck) -> Option<ProviderKind> {
    let written = &s.entry.spec.provider;
    if let Some(kind) = ProviderKind::parse(written.get_ref()) {
        return Some(kind);
    }
    let name = s.name;
    let choices: Vec<String> = ProviderKind::ALL
        .iter()
        .map(|k| format!("provider = \"{k}\""))
        .collect();
    s.error(
        written.span(),
        format!("site `{name}`: unknown provider `{}`", written.get_ref()),
        Some(format!("use {}", choices.join(" or "))),
    );
    None
}

/// A key only another provider's sites have, each reported in the order
/// site keys are listed.
fn other_providers_keys(s: &mut SiteCheck, provider: ProviderKind) {
    let name = s.name;
    let mut written = s.providers().written();
    written.sort_by_key(|(field, _)| SiteSpec::FIELDS.iter().position(|f| f == field));
    for (field, span) in written {
        let Some(owner) = ProviderKind::owning(field).filter(|k| *k != provider) else {
            continue;
        };
        s.error(
            span,
            format!("site `{name}`: `{field}` is a setting of {owner} sites, not {provider} ones"),
            Some(format!("remove `{field}`")),
        );
    }
}

/// `unmanaged_users = "delete"`: only where the provider can delete people.
fn deletion(s: &mut SiteCheck, provider: ProviderKind) {
    if s.spec().unmanaged_users != Unmanaged::Delete || provider.capabilities().can_delete() {
        return;
    }
    let (name, span) = (s.name, s.entry.span.clone());
    s.error(
        span,
        format!(
            "site `{name}`: unmanaged_users = \"delete\" is not possible on {provider} sites: {} {} can only be deactivated",
            provider.product_name(),
            provider.capabilities().nouns.users
        ),
        Some("use unmanaged_users = \"deactivate\" (the default) or \"keep\"".into()),
    );
}

/// `protected`, `min_admins` and the `allow_*` acknowledgements.
fn safety(s: &mut SiteCheck) -> Safety {
    let spec = s.spec();
    let name = s.name;
    let mut protected = Vec::new();
    for e in spec.protected.iter().flatten() {
        if super::is_valid_email(e.get_ref().trim()) {
            protected.push(e.get_ref().trim().to_string());
        } else {
            s.error(
                e.span(),
                format!(
                    "site `{name}`: protected `{}` is not a valid email address",
                    e.get_ref()
                ),
                Some("list the emails of people who must never be removed or demoted".into()),
            );
        }
    }
    let privileged = acknowledged_privileged(s);
    Safety {
        protected,
        min_admins: spec.min_admins.map_or(1, |n| n as usize),
        allow: Allowances {
            removals: spec.allow_removals.map(|n| n as usize),
            group_deletions: spec.allow_group_deletions.map(|n| n as usize),
            membership_removals: spec.allow_membership_removals.map(|n| n as usize),
            admin_changes: spec.allow_admin_changes.map(|n| n as usize),
            workspace_deletions: spec.allow_workspace_deletions.map(|n| n as usize),
            grant_removals: spec.allow_grant_removals.map(|n| n as usize),
            privileged,
        },
    }
}

/// `allow_privileged`: emails, each valid.
fn acknowledged_privileged(s: &mut SiteCheck) -> Vec<String> {
    let name = s.name;
    let mut emails = Vec::new();
    for e in s.spec().allow_privileged.iter().flatten() {
        if super::is_valid_email(e.get_ref().trim()) {
            emails.push(e.get_ref().trim().to_string());
        } else {
            s.error(
                e.span(),
                format!(
                    "site `{name}`: allow_privileged `{}` is not a valid email address",
                    e.get_ref()
                ),
                Some("list the emails of the people the plan may give admin power to, as they are once it ran".into()),
            );
        }
    }
    emails
}

/// The slowest pacing accepted: a request every 100 seconds (slower ones
/// overflow the wait between requests or make a run last for days).
const SLOWEST_RATE: f64 = 0.01;
/// The fastest: more is no budget at all.
const FASTEST_RATE: f64 = 10_000.0;

/// `max_requests_per_second`: from [`SLOWEST_RATE`] to [`FASTEST_RATE`],
/// or left out.
fn request_budget(s: &mut SiteCheck) -> Option<f64> {
    let written = s.spec().max_requests_per_second?;
    let (name, span) = (s.name, s.entry.span.clone());
    if written.is_nan() || written <= 0.0 {
        s.error(
            span,
            format!("site `{name}`: max_requests_per_second must be more than 0"),
            Some("leave it out for no budget".into()),
        );
        return None;
    }
    if !(SLOWEST_RATE..=FASTEST_RATE).contains(&written) {
        s.error(
            span,
            format!(
                "site `{name}`: max_requests_per_second = {written} is out of range: it must be from {SLOWEST_RATE} (a request every 100 seconds) to {FASTEST_RATE}"
            ),
            Some("leave it out for no budget".into()),
        );
        return None;
    }
    Some(written)
}

/// The longest `patience_seconds` accepted: an hour.
const PATIENCE_LIMIT: i64 = 3600;

/// `patience_seconds`: a whole number of seconds from 2 (one wait after an
/// edge's 429) to an hour; 60 when absent.
fn check_patience(s: &mut SiteCheck) -> u64 {
    let name = s.name;
    let default = crate::provider::retry::DEFAULT_PATIENCE.as_secs();
    let Some(value) = &s.spec().patience_seconds else {
        return default;
    };
    let floor = crate::provider::retry::THROTTLE_FLOOR.as_secs() as i64;
    let n = *value.get_ref();
    if (floor..=PATIENCE_LIMIT).contains(&n) {
        return n as u64;
    }
    s.error(
        value.span(),
        format!(
            "site `{name}`: patience_seconds must be from {floor} to {PATIENCE_LIMIT}, not {n}"
        ),
        Some(format!(
            "it is how long one request keeps trying while the site answers 429; leave it out for {default}"
        )),
    );
    default
}

/// `max_response_bytes`: from 1 KiB to 4 GiB; 64 MiB when absent.
fn check_max_response_bytes(s: &mut SiteCheck) -> u64 {
    let default = crate::provider::retry::DEFAULT_MAX_RESPONSE_BYTES;
    let written = s.spec().max_response_bytes.clone();
    let hint = format!(
        "it is the most bytes one answer of the site may hold; leave it out for {default} (64 MiB)"
    );
    whole_number(
        s,
        ("max_response_bytes", written),
        1024..=(4 << 30),
        default,
        hint,
    )
}

/// `deadline_seconds`: from 1 to a day; two hours when absent.
fn check_deadline(s: &mut SiteCheck) -> u64 {
    let default = crate::provider::retry::DEFAULT_DEADLINE.as_secs();
    let written = s.spec().deadline_seconds.clone();
    let hint = format!(
        "it is how long roster may spend reading the site, and again writing to it; leave it out for {default}"
    );
    whole_number(s, ("deadline_seconds", written), 1..=86_400, default, hint)
}

/// The whole number written for a key, when in `range`; else an error
/// naming the key, and `default`.
fn whole_number(
    s: &mut SiteCheck,
    (key, written): (&str, Option<Spanned<i64>>),
    range: std::ops::RangeInclusive<i64>,
    default: u64,
    hint: String,
) -> u64 {
    let Some(value) = written else {
        return default;
    };
    let n = *value.get_ref();
    if range.contains(&n) {
        return n.unsigned_abs();
    }
    let name = s.name;
    s.error(
        value.span(),
        format!(
            "site `{name}`: {key} must be from {} to {}, not {n}",
            range.start(),
            range.end()
        ),
        Some(hint),
    );
    default
}

/// `base_url` as the comparison with the trusted state sees it: parsed,
/// so `https://h` and `https://h/` are the same address.
pub(super) fn compared_url(
    written: &Option<Spanned<String>>,
) -> (Option<String>, Option<Range<usize>>) {
    let value = written.as_ref().map(|u| {
        let raw = u.get_ref().trim();
        url::Url::parse(raw).map_or_else(|_| raw.to_string(), |u| u.to_string())
    });
    (value, written.as_ref().map(Spanned::span))
}

/// Why a base URL is refused. A URL holding a user name or password is
/// never shown: the password is a secret written inline.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BaseUrlError {
    #[error("`{0}` is not a URL: {1}")]
    NotAUrl(String, url::ParseError),
    #[error("is not a URL: {0}")]
    NotAUrlHidden(url::ParseError),
    #[error("`{0}` uses plain http://, which is only allowed for loopback addresses; use https://")]
    PlainHttp(String),
    #[error("`{0}` has scheme `{1}`; use https://")]
    Scheme(String, String),
    #[error("holds a password (`user:password@`); secrets never live in state files")]
    Password,
    #[error("holds a user name (`user@`), which roster never sends")]
    UserName,
    #[error("holds a query (`?...`); roster adds the queries it needs itself")]
    Query,
    #[error("holds a fragment (`#...`), which is never sent")]
    Fragment,
}

impl BaseUrlError {
    /// How to fix it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            BaseUrlError::Password => "remove the user name and password from the URL (and rotate the password if it was committed); the site's credentials come from api_key, or client_id and client_secret".into(),
            BaseUrlError::UserName => "remove the user name and the `@` from the URL".into(),
            BaseUrlError::Query => "remove the `?` and everything after it".into(),
            BaseUrlError::Fragment => "remove the `#` and everything after it".into(),
            _ => return None,
        })
    }

    /// What the problem starts with in the written value, to point at it.
    pub fn marker(&self) -> Option<&'static str> {
        match self {
            BaseUrlError::Password | BaseUrlError::UserName => Some("://"),
            BaseUrlError::Query => Some("?"),
            BaseUrlError::Fragment => Some("#"),
            _ => None,
        }
    }
}

/// `https://` anywhere; plain `http://` only to this machine. Only an
/// address: no user name or password, query or fragment. The URL is parsed
/// (requests are built from its parts), so what is refused here could never
/// be sent oddly.
pub fn check_base_url(raw: &str) -> Result<url::Url, BaseUrlError> {
    let url = url::Url::parse(raw.trim()).map_err(|e| {
        if raw.contains('@') {
            BaseUrlError::NotAUrlHidden(e)
        } else {
            BaseUrlError::NotAUrl(raw.to_string(), e)
        }
    })?;
    if url.password().is_some() {
        return Err(BaseUrlError::Password);
    }
    if !url.username().is_empty() {
        return Err(BaseUrlError::UserName);
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => return Err(BaseUrlError::PlainHttp(raw.to_string())),
        other => return Err(BaseUrlError::Scheme(raw.to_string(), other.to_string())),
    }
    if url.query().is_some() {
        return Err(BaseUrlError::Query);
    }
    if url.fragment().is_some() {
        return Err(BaseUrlError::Fragment);
    }
    Ok(url)
}

/// The part of a written value that starts with `marker` (the whole value
/// when it is not found there).
fn pointed_at(text: &str, span: Range<usize>, marker: Option<&str>) -> Range<usize> {
    let found = marker.and_then(|m| {
        let at = text.get(span.clone())?.find(m)?;
        let start = span.start + at + if m == "://" { m.len() } else { 0 };
        Some(start..span.end)
    });
    found.unwrap_or(span)
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `acme-eu`, `API_KEY` → `ACME_EU_API_KEY`, for hints.
fn default_env_name(site: &str, suffix: &str) -> String {
    let upper: String = site
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{upper}_{suffix}")
}

/// A base URL as the live site answers it: scheme and host in lower case
/// (the `url` crate's own), without a host's final dot, a default port or
/// a trailing slash.
pub(super) fn normalised_url(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default().trim_end_matches('.');
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let path = url.path().trim_end_matches('/');
    format!("{}://{host}{port}{path}", url.scheme())
}

/// Two site tables that reach one live site (the same provider, base URL
/// as normalised and identity as the provider tells it) undo each other's
/// changes on every apply: each after the first is an error naming both.
pub(super) fn same_live_sites(
    c: &mut Checker,
    entries: &[(Spanned<String>, Entry<SiteSpec>)],
    sites: &[Site],
) {
    let mut seen: std::collections::HashMap<(ProviderKind, String, String), (&str, String)> =
        std::collections::HashMap::new();
    for site in sites {
        let Some((name, entry)) = entries.iter().find(|(n, _)| *n.get_ref() == site.name) else {
            continue;
        };
        let url = normalised_url(&site.base_url);
        let identity = site.config.identity();
        let key = (site.provider, url.clone(), identity.clone());
        if let Some((first, at)) = seen.get(&key) {
            let message = format!(
                "site `{}` reaches the same live site as site `{first}`: {} at {url}, {identity}; two entries for one site undo each other's changes on every apply",
                site.name, site.provider
            );
            let hint = format!(
                "`{first}` is declared at {at}; keep one of them and declare the people of both for it"
            );
            c.error(entry.file, name.span(), message, Some(hint));
            continue;
        }
        let at = c.location(entry.file, &name.span());
        seen.insert(key, (site.name.as_str(), at));
    }
}
