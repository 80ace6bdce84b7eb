//! Platforms roster manages, one folder each (`periscope/`, `sigma/`, `scim/`), listed
//! once in the `providers!` registry below. Each provider owns its site
//! settings and their checks (`settings.rs`), its capabilities (`CAPABILITIES`
//! in its `mod.rs`), its own checks of the state (`CHECKS`), its own object
//! kinds beside people and groups (`Kinds`, see `kinds.rs`), and its read and
//! write halves; `Client` dispatches to the right one.

pub mod capabilities;
pub mod cost;
pub mod error;
pub mod ids;
pub(crate) mod kinds;
pub mod lenient;
pub mod retry;
pub mod scrub;
pub mod site_keys;

use std::time::Duration;

use futures::StreamExt;

pub use error::ProviderError;
pub use ids::SiteIds;

pub use capabilities::Capabilities;

use either::Either;
use unicode_normalization::UnicodeNormalization;

use crate::interrupt::SiteGate;
use crate::model::Change;
use crate::model::{Handover, LiveSite, SecretSource, Site};
use crate::secret::Secret;
use crate::state::{Checker, Diagnostic, Loaded, NamedCheck, SiteCheck, SourceFile};
use capabilities::NameRule;
use kinds::{ImportKinds, PlanKinds, StateKinds};

/// How hard a client may press a site.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// Requests under way at once (fewer while the site answers 429).
    pub concurrency: usize,
    /// Requests started per second, when the site sets a budget.
    pub per_second: Option<f64>,
    /// The most bytes one answer may hold (`max_response_bytes`).
    pub max_response_bytes: u64,
    /// The most time a site's reads, and again its writes, may take
    /// (`deadline_seconds`).
    pub deadline: Duration,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            concurrency: 16,
            per_second: None,
            max_response_bytes: retry::DEFAULT_MAX_RESPONSE_BYTES,
            deadline: retry::DEFAULT_DEADLINE,
        }
    }
}

/// Whether a write really changes the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    Real,
    /// Sent with the platform's server-side test mode: checked, not saved.
    TestMode,
}

/// Every provider, once: its `ProviderKind` variant and its folder. This is
/// the one list a new provider is added to; the kinds, site settings,
/// credentials, clients and capabilities below are made from it, and every
/// `match` over them is exhaustive, so the compiler points at anything a new
/// provider must still answer.
macro_rules! providers {
    ($($(#[$attr:meta])* $kind:ident => $module:ident),+ $(,)?) => {
        $($(#[$attr])* pub mod $module;)+

        /// Which platform a site runs on.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize,
            serde::Deserialize, schemars::JsonSchema,
        )]
        #[serde(rename_all = "lowercase")]
        pub enum ProviderKind {
            $($kind),+
        }

        impl ProviderKind {
            /// Every provider, in the order the registry lists them.
            pub const ALL: &'static [ProviderKind] = &[$(ProviderKind::$kind),+];

            /// The provider's own checks of the state, run after the
            /// generic ones of emails (see `state::validate::CHECKS`).
            pub(crate) fn checks(self) -> &'static [NamedCheck] {
                match self {
                    $(ProviderKind::$kind => $module::CHECKS),+
                }
            }

            /// What the provider can do and how it names things.
            pub fn capabilities(self) -> &'static Capabilities {
                match self {
                    $(ProviderKind::$kind => &$module::CAPABILITIES),+
                }
            }

            /// Checks a site table's settings for this provider (its own
            /// keys; the generic ones are checked by `state`).
            pub(crate) fn check_settings(self, c: &mut SiteCheck<'_, '_>) -> SiteSettings {
                let written = c.providers();
                match self {
                    $(ProviderKind::$kind => {
                        let keys = &written.$module;
                        let settings = $module::settings::check(c, keys);
                        SiteSettings {
                            config: SiteConfig::$kind(settings),
                            base_url: $module::settings::base_url(c, keys),
                        }
                    }),+
                }
            }

            /// The keys of a site table only this provider's sites have
            /// (declared in its `settings.rs`).
            pub const fn site_keys(self) -> &'static [site_keys::SiteKey] {
                match self {
                    $(ProviderKind::$kind => $module::settings::Keys::KEYS),+
                }
            }
        }

        /// Every provider's own keys of one site table, as written: all are
        /// read whatever the site's provider (the site's checks report
        /// another provider's keys).
        #[derive(Debug, Default)]
        pub struct ProviderKeys {
            $(pub $module: $module::settings::Keys),+
        }

        impl ProviderKeys {
            /// Reads the written value of `key` into the keys of the
            /// provider that declares it; `false` when none does.
            pub fn read<'de, D: serde::Deserializer<'de>>(
                &mut self,
                key: &str,
                value: D,
            ) -> Result<bool, D::Error> {
                match ProviderKind::owning(key) {
                    $(Some(ProviderKind::$kind) => self.$module.read(key, value),)+
                    None => Ok(false),
                }
            }

            /// Every provider's keys that are written, with where.
            pub fn written(&self) -> Vec<(&'static str, std::ops::Range<usize>)> {
                let mut out = Vec::new();
                $(out.extend(self.$module.written());)+
                out
            }

            /// Every provider's connection settings, with their places and
            /// values (see `site_keys!`).
            pub fn connection_settings(&self) -> Vec<site_keys::ConnectionSetting> {
                let mut out = Vec::new();
                $(out.extend(self.$module.connection_settings());)+
                out
            }

            /// The JSON Schema of each provider's keys.
            pub fn json_schemas(generator: &mut schemars::SchemaGenerator) -> Vec<schemars::Schema> {
                vec![$(<$module::settings::Keys as schemars::JsonSchema>::json_schema(generator)),+]
            }

            /// What one site table declares, per provider (`one Acme
            /// site or one Other service`).
            pub fn one_site_of_each() -> String {
                site_keys::or_list(&[$($module::settings::ONE_SITE.to_string()),+])
            }
        }

        /// What only one provider's sites have: its settings.
        #[derive(Debug, Clone, serde::Serialize)]
        pub enum SiteConfig {
            $($kind($module::Settings)),+
        }

        impl SiteConfig {
            pub fn kind(&self) -> ProviderKind {
                match self {
                    $(SiteConfig::$kind(_) => ProviderKind::$kind),+
                }
            }

            /// The secrets this site's settings name, read with `read`.
            pub fn credentials(&self, read: &mut dyn FnMut(&SecretSource) -> Secret) -> Credentials {
                match self {
                    $(SiteConfig::$kind(s) => Credentials::$kind(ProviderSettings::credentials(s, read))),+
                }
            }

            /// These settings with the connection settings (address,
            /// credential sources) of `trusted`, when it is of the same
            /// provider; else `trusted`'s whole.
            #[must_use]
            pub fn with_connection_of(&self, trusted: &SiteConfig) -> SiteConfig {
                match (self, trusted) {
                    $((SiteConfig::$kind(own), SiteConfig::$kind(theirs)) => {
                        SiteConfig::$kind(ProviderSettings::with_connection_of(own, theirs))
                    })+
                    #[allow(unreachable_patterns)]
                    (_, theirs) => theirs.clone(),
                }
            }

            /// What, beside the provider and base URL, tells which live
            /// site these settings reach (see `ProviderSettings::identity`).
            pub fn identity(&self) -> String {
                match self {
                    $(SiteConfig::$kind(s) => ProviderSettings::identity(s)),+
                }
            }

            /// The user roster must never remove, if the provider has one.
            pub fn invited_by(&self) -> Option<&str> {
                match self {
                    $(SiteConfig::$kind(s) => ProviderSettings::invited_by(s)),+
                }
            }

            /// Where a removed person's documents go.
            pub fn handover(&self) -> Handover {
                match self {
                    $(SiteConfig::$kind(s) => ProviderSettings::handover(s)),+
                }
            }

            /// The test credentials a running sandbox accepts for `site`.
            pub fn sandbox_credentials(&self, site: &Site) -> Credentials {
                match self {
                    $(SiteConfig::$kind(s) => Credentials::$kind(ProviderSettings::sandbox_credentials(s, site))),+
                }
            }

            /// Makes sure the in-process sandbox holds `site` and returns
            /// the credentials it accepts.
            pub fn provision(&self, data: &mut crate::sandbox::SandboxData, site: &Site) -> Credentials {
                match self {
                    $(SiteConfig::$kind(s) => Credentials::$kind(ProviderSettings::provision(s, data, site))),+
                }
            }
        }

        /// A site's resolved secrets.
        #[derive(Debug, Clone)]
        pub enum Credentials {
            $($kind($module::Credentials)),+
        }

        /// A connection to one site.
        pub enum Client {
            $($kind(Box<$module::Client>)),+
        }

        impl Client {
            /// `base_url` overrides the site's own (to reach the sandbox).
            pub fn new(
                site: &Site,
                credentials: Credentials,
                base_url: Option<&url::Url>,
                pacing: Pacing,
            ) -> Result<Client, ProviderError> {
                let pacing = Pacing {
                    per_second: site.max_requests_per_second.or(pacing.per_second),
                    max_response_bytes: site.max_response_bytes,
                    deadline: Duration::from_secs(site.deadline_seconds),
                    ..pacing
                };
                let base = base_url.unwrap_or(&site.base_url);
                match credentials {
                    $(Credentials::$kind(c) => {
                        <$module::Client as SiteClient>::connect(site, c, base, pacing).map(|c| Client::$kind(Box::new(c)))
                    }),+
                }
            }

            fn kind(&self) -> ProviderKind {
                match self {
                    $(Client::$kind(_) => ProviderKind::$kind),+
                }
            }

            /// Reads the live site; its deadline starts again at this read.
            /// Two objects of one kind sharing an ID are refused here, for
            /// every provider.
            pub async fn fetch(&self) -> Result<LiveSite, ProviderError> {
                self.pacer().restart_clock();
                let live = match self {
                    $(Client::$kind(c) => SiteClient::fetch_live(&**c).await),+
                }?;
                ids::distinct_ids(self.pacer().site(), self.kind().capabilities(), &live)?;
                Ok(live)
            }

            fn pacer(&self) -> &retry::Pacer {
                match self {
                    $(Client::$kind(c) => SiteClient::pacer(&**c)),+
                }
            }

            /// Starts the site's deadline again at its next request: before
            /// a plan's changes are applied.
            pub fn begin_writes(&self) {
                self.pacer().restart_clock();
            }

            /// Reads what each member a plan deactivates owns, for the plan
            /// to say (Sigma: documents and schedules); only those members
            /// are read.
            pub async fn deactivation_context(&self, changes: &mut [Change]) -> Result<(), ProviderError> {
                match self {
                    $(Client::$kind(c) => SiteClient::deactivation_context(&**c, changes).await),+
                }
            }

            /// Carries out the changes of one step of a site's plan (they do
            /// not depend on each other), at most `concurrency` requests at
            /// once. Results are in the order of `changes`. `ids` are the
            /// site's, read with the live state the plan was made from;
            /// writes add what they learn (a team created in one step is
            /// joined in the next).
            pub async fn apply_step(
                &self,
                changes: &[&Change],
                mode: WriteMode,
                concurrency: usize,
                gate: SiteGate<'_>,
                ids: &std::sync::Mutex<SiteIds>,
            ) -> Vec<Result<(), ProviderError>> {
                let step = Step {
                    changes,
                    mode,
                    concurrency,
                    gate,
                    ids,
                };
                match self {
                    $(Client::$kind(c) => SiteClient::apply_changes(&**c, step).await),+
                }
            }

            /// The requests this client sent, and how many were retries.
            pub fn requests(&self) -> cost::Requests {
                self.pacer().requests()
            }

            /// How many write requests applying `changes` sends.
            pub fn write_requests(&self, changes: &[Change]) -> u64 {
                match self {
                    $(Client::$kind(c) => SiteClient::write_requests(&**c, changes)),+
                }
            }
        }

        /// Every provider's own tables of the state files, as read (see
        /// `kinds.rs`).
        #[derive(Default)]
        pub(crate) struct KindEntries {
            $(pub(crate) $module: <$module::Kinds as StateKinds>::Entries,)+
        }

        impl KindEntries {
            /// The top-level tables the providers read, in registry order.
            pub(crate) fn tables() -> impl Iterator<Item = &'static str> {
                [$(<$module::Kinds as StateKinds>::TABLES),+].into_iter().flatten().copied()
            }

            /// Reads table `key` of a state file into the provider that
            /// reads it; `false` when no provider does.
            pub(crate) fn read(
                &mut self,
                key: &str,
                source: &SourceFile,
                file: usize,
                value: toml::Spanned<toml::de::DeValue<'_>>,
                diagnostics: &mut Vec<Diagnostic>,
            ) -> bool {
                $(if <$module::Kinds as StateKinds>::TABLES.contains(&key) {
                    <$module::Kinds as StateKinds>::read(key, source, file, value, &mut self.$module, diagnostics);
                    return true;
                })+
                false
            }

            /// Adds the entries read from another piece of the state.
            pub(crate) fn append(&mut self, other: KindEntries) {
                $(<$module::Kinds as StateKinds>::append(&mut self.$module, other.$module);)+
            }

            /// The names of every object the tables declare.
            pub(crate) fn names(&self) -> Vec<kinds::WrittenName<'_>> {
                let mut names = Vec::new();
                $(names.extend(<$module::Kinds as StateKinds>::names(&self.$module));)+
                names
            }

            /// The emails the tables name people by.
            pub(crate) fn emails(&self) -> Vec<kinds::WrittenName<'_>> {
                let mut emails = Vec::new();
                $(emails.extend(<$module::Kinds as StateKinds>::emails(&self.$module));)+
                emails
            }

            /// Every `expires` date the tables hold.
            pub(crate) fn dates(&self) -> Vec<kinds::WrittenDate<'_>> {
                let mut dates = Vec::new();
                $(dates.extend(<$module::Kinds as StateKinds>::dates(&self.$module));)+
                dates
            }
        }

        /// The JSON schema of every provider's own tables, flattened into
        /// a state file's.
        #[derive(schemars::JsonSchema)]
        #[allow(dead_code, reason = "only describes the files as a JSON Schema")]
        pub(crate) struct KindTables {
            $(#[serde(flatten)] $module: <$module::Kinds as StateKinds>::Tables,)+
        }

        impl ProviderKind {
            /// Adds what a checked state declares of the provider's own
            /// kinds to `site`, one of its sites.
            pub(crate) fn add_desired_kinds(self, c: &Checker, l: &Loaded, site: &mut crate::model::DesiredSite) {
                match self {
                    $(ProviderKind::$kind => <$module::Kinds as StateKinds>::desired(c, l, site)),+
                }
            }

            /// Plans the provider's own kinds on `desired`'s site (see
            /// `PlanKinds::plan`).
            pub(crate) fn plan_kinds(
                self,
                desired: &crate::model::DesiredSite,
                live: &LiveSite,
                renamed: &std::collections::HashMap<String, String>,
                errors: &mut Vec<crate::model::PlanError>,
            ) -> kinds::KindsPlan {
                match self {
                    $(ProviderKind::$kind => <$module::Kinds as PlanKinds>::plan(desired, live, renamed, errors)),+
                }
            }

            /// The rules of the provider's organisation over the people
            /// planned (see `PlanKinds::org_rules`).
            pub(crate) fn org_rules(
                self,
                desired: &crate::model::DesiredSite,
                live: &LiveSite,
                live_users: &std::collections::HashMap<String, usize>,
                people: kinds::PlannedPeople<'_>,
            ) -> Vec<crate::model::Note> {
                match self {
                    $(ProviderKind::$kind => <$module::Kinds as PlanKinds>::org_rules(desired, live, live_users, people)),+
                }
            }

            /// The rule of the provider's organisation for an undeclared
            /// active member (see `PlanKinds::undeclared_rule`).
            pub(crate) fn undeclared_rule(
                self,
                site: &Site,
                u: &crate::model::LiveUser,
            ) -> Option<kinds::Undeclared> {
                match self {
                    $(ProviderKind::$kind => <$module::Kinds as PlanKinds>::undeclared_rule(site, u)),+
                }
            }

            /// What the counts of an import call the provider's own kinds.
            pub(crate) fn kinds_imported(self) -> &'static str {
                match self {
                    $(ProviderKind::$kind => <$module::Kinds as ImportKinds>::IMPORTED),+
                }
            }

            /// Makes `site`'s client read every object of the provider's
            /// own kinds, so an import sees them.
            pub(crate) fn read_all_kinds(self, site: &mut Site) {
                match self {
                    $(ProviderKind::$kind => <$module::Kinds as ImportKinds>::read_all(site)),+
                }
            }

            /// Imports a site's live objects of the provider's own kinds
            /// (see `ImportKinds::import`).
            pub(crate) fn import_kinds(
                self,
                files: &mut impl kinds::entries::StateEntries,
                at: &kinds::ImportAt<'_>,
                live: &LiveSite,
                notes: (&mut Vec<String>, &mut Vec<kinds::entries::Undone>),
            ) -> Result<(usize, usize), kinds::entries::ImportError> {
                match self {
                    $(ProviderKind::$kind => <$module::Kinds as ImportKinds>::import(files, at, live, notes)),+
                }
            }

            /// `--prune` of one site's objects of the provider's own kinds
            /// (see `ImportKinds::prune`).
            pub(crate) fn prune_kinds(
                self,
                files: &mut impl kinds::entries::StateEntries,
                at: &kinds::ImportAt<'_>,
                live: &LiveSite,
                sites: &[String],
            ) -> usize {
                match self {
                    $(ProviderKind::$kind => <$module::Kinds as ImportKinds>::prune(files, at, live, sites)),+
                }
            }

            /// `--prune` of what is declared once for every site of the
            /// provider (see `ImportKinds::prune_everywhere`).
            pub(crate) fn prune_kinds_everywhere(
                self,
                files: &mut impl kinds::entries::StateEntries,
                read: &[(&str, &LiveSite)],
                every: &[String],
            ) -> kinds::PrunedEverywhere {
                match self {
                    $(ProviderKind::$kind => <$module::Kinds as ImportKinds>::prune_everywhere(files, read, every)),+
                }
            }
        }
    };
}

providers! {
    Periscope => periscope,
    Sigma => sigma,
    Scim => scim,
    Superset => superset,
}

/// What a provider's site settings (`provider/<name>/settings.rs`) answer.
pub(crate) trait ProviderSettings: Sized {
    type Credentials;

    /// The secrets the settings name, read with `read`.
    fn credentials(&self, read: &mut dyn FnMut(&SecretSource) -> Secret) -> Self::Credentials;

    /// These settings with the connection settings (address aside, which
    /// `Site` holds) of `trusted`: credential sources and the like.
    fn with_connection_of(&self, trusted: &Self) -> Self;

    /// The test credentials a running sandbox accepts for `site`.
    fn sandbox_credentials(&self, site: &Site) -> Self::Credentials;

    /// What, beside its provider and base URL, tells which live site these
    /// settings reach (a site's slug, where the credential naming an
    /// organisation comes from), written the way the provider compares
    /// it: two sites with the same are one live site.
    fn identity(&self) -> String;

    /// Makes sure the in-process sandbox holds `site` (adding an empty one
    /// if not) and returns the credentials it accepts.
    fn provision(&self, data: &mut crate::sandbox::SandboxData, site: &Site) -> Self::Credentials;

    /// The user roster must never remove, if the provider has one.
    fn invited_by(&self) -> Option<&str> {
        None
    }

    /// Where a removed person's documents go; by default nothing is
    /// handed over.
    fn handover(&self) -> Handover {
        Handover::Nothing
    }
}

/// What a provider's client (its read and write halves) answers.
pub(crate) trait SiteClient: Sized {
    type Credentials;

    fn connect(
        site: &Site,
        credentials: Self::Credentials,
        base: &url::Url,
        pacing: Pacing,
    ) -> Result<Self, ProviderError>;

    async fn fetch_live(&self) -> Result<LiveSite, ProviderError>;

    /// Reads what the plan's deactivations need to say; by default nothing.
    async fn deactivation_context(&self, _changes: &mut [Change]) -> Result<(), ProviderError> {
        Ok(())
    }

    /// Carries out one step of a plan (see [`Client::apply_step`]).
    async fn apply_changes(&self, step: Step<'_>) -> Vec<Result<(), ProviderError>>;

    /// The pacer every request to the site goes through: it counts them
    /// (apply's report says what was sent) and keeps the site's bounds.
    fn pacer(&self) -> &retry::Pacer;

    /// How many write requests applying `changes` sends (one per change
    /// unless the provider says otherwise).
    fn write_requests(&self, changes: &[Change]) -> u64 {
        changes.len() as u64
    }
}

/// One step of a plan as a client carries it out (see [`Client::apply_step`]).
pub(crate) struct Step<'a> {
    pub changes: &'a [&'a Change],
    pub mode: WriteMode,
    pub concurrency: usize,
    pub gate: SiteGate<'a>,
    pub ids: &'a std::sync::Mutex<SiteIds>,
}

/// A site's provider settings and the address they give.
pub(crate) struct SiteSettings {
    pub config: SiteConfig,
    pub base_url: Option<url::Url>,
}

impl Client {
    /// Whether the platform can check a write without making it.
    pub fn has_test_mode(&self) -> bool {
        self.kind().capabilities().has_test_mode()
    }
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        self.capabilities().name
    }

    /// The product's name, for people.
    pub fn product_name(self) -> &'static str {
        self.capabilities().product
    }

    /// Groups every site of this provider has and roster never creates,
    /// renames or deletes.
    pub fn builtin_groups(self) -> &'static [&'static str] {
        self.capabilities().builtin_groups
    }

    /// The key two group names are matched by, the way the platform's API
    /// resolves them (see [`NameRule`]).
    pub fn group_key(self, name: &str) -> String {
        group_key(self.capabilities().names, name)
    }

    /// Whether two names are the same group: their keys are equal.
    pub fn same_group(self, a: &str, b: &str) -> bool {
        same_group(self.capabilities().names, a, b)
    }

    pub fn is_builtin_group(self, name: &str) -> bool {
        self.builtin_groups()
            .iter()
            .any(|b| self.same_group(b, name))
    }

    /// The group every user is in; its membership is never planned.
    pub fn implicit_group(self) -> Option<&'static str> {
        self.capabilities().implicit_group
    }

    /// The provider whose sites have `key`, a key of a site table.
    pub fn owning(key: &str) -> Option<ProviderKind> {
        ProviderKind::ALL
            .iter()
            .copied()
            .find(|k| k.site_keys().iter().any(|s| s.name == key))
    }

    /// The provider named `name` in `provider = "..."`.
    pub fn parse(name: &str) -> Option<ProviderKind> {
        ProviderKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The key a group name is matched by under `rule`.
pub fn group_key(rule: NameRule, name: &str) -> String {
    group_key_chars(rule, name).collect()
}

/// Whether two names are the same group under `rule`.
pub fn same_group(rule: NameRule, a: &str, b: &str) -> bool {
    a == b || group_key_chars(rule, a).eq(group_key_chars(rule, b))
}

/// The characters of a group key, without building it: the name in Unicode
/// NFC (so `Café` matches whether its `é` is one code point or two), then
/// the provider's rule, then lower-cased.
fn group_key_chars(rule: NameRule, name: &str) -> impl Iterator<Item = char> + '_ {
    let (name, alphanumeric_only) = match rule {
        NameRule::AlphanumericOnly => (name, true),
        NameRule::Trimmed => (name.trim(), false),
    };
    let keep = move |c: &char| !alphanumeric_only || c.is_alphanumeric();
    if name.is_ascii() {
        // Already NFC, and lower-cases to ASCII: the common case, without
        // the normaliser.
        Either::Left(name.chars().filter(keep).map(|c| c.to_ascii_lowercase()))
    } else {
        Either::Right(crate::model::fold(name.nfc().filter(keep)))
    }
}

/// Runs `send` (one change's requests) if `gate` still lets changes start;
/// otherwise the change is not started.
pub async fn gated(
    gate: SiteGate<'_>,
    change: &Change,
    send: impl Future<Output = Result<(), ProviderError>>,
) -> Result<(), ProviderError> {
    match gate.start(change) {
        Some(_under_way) => send.await,
        None => Err(ProviderError::NotStarted {
            site: gate.site_name().to_string(),
        }),
    }
}

/// Runs `tasks`, up to `concurrency` at a time, and gives their results in
/// the order of `tasks`. A new task starts as soon as any running one ends:
/// one slow answer never holds the others' slots.
pub async fn run_all<T>(
    tasks: impl IntoIterator<Item = impl Future<Output = T>>,
    concurrency: usize,
) -> Vec<T> {
    let mut results: Vec<(usize, T)> = futures::stream::iter(
        tasks
            .into_iter()
            .enumerate()
            .map(|(i, task)| async move { (i, task.await) }),
    )
    .buffer_unordered(concurrency.max(1))
    .collect()
    .await;
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Characters escaped in a path segment: all but RFC 3986's unreserved ones
/// (ALPHA / DIGIT / "-" / "." / "_" / "~", never encoded). Sub-delims are
/// escaped too, though pchar allows them: `+`, `;` and `&` mean something to
/// some servers, and escaping data characters is always allowed.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A name or ID made safe to put in a URL path as one segment.
pub fn path_segment(raw: &str) -> String {
    percent_encoding::utf8_percent_encode(raw, SEGMENT).to_string()
}

/// Whether `name` is a URL path's dot segment (`.` or `..`): clients and
/// servers remove those from a path (RFC 3986 §5.2.4), percent-encoded or
/// not (the WHATWG URL standard reads `%2e` as a dot there), so no
/// [`path_segment`] can carry it: a request naming it would reach another
/// endpoint. Names that go in a path are refused instead.
pub fn is_dot_segment(name: &str) -> bool {
    matches!(name, "." | "..")
}

/// Refuses to send a request whose `path` (before its query) has an empty
/// or a dot segment: what an ID or name no URL path can carry leaves
/// behind (`/Users/` + `.`), which would reach another object or endpoint.
/// The last guard, for every request of every provider; IDs are refused
/// where they are read ([`ids::usable_id`]), naming the object.
pub fn check_path(site: &str, action: &str, object: &str, path: &str) -> Result<(), ProviderError> {
    let route = path.split('?').next().unwrap_or_default();
    let route = route.strip_prefix('/').unwrap_or(route);
    if !route.split('/').any(|s| s.is_empty() || is_dot_segment(s)) {
        return Ok(());
    }
    let what = if object.is_empty() {
        action.to_string()
    } else {
        format!("{action} {object}")
    };
    Err(ProviderError::Unsupported {
        site: site.to_string(),
        message: format!(
            "{what}: not sent: the request path {route:?} has an empty or dot segment, so it would reach another object or endpoint (an ID or name the site gave cannot be a path segment)"
        ),
    })
}

/// The URL of `path` (an API path, segments already made safe with
/// [`path_segment`], and maybe a query) on the API at `base`. The URL is
/// built from its parts, never by joining text: `base`'s scheme, host and
/// port are kept whatever `path` holds, its path segments come first, then
/// those of `path`, and `path`'s query replaces none of them.
pub fn endpoint(base: &url::Url, path: &str) -> url::Url {
    let (path, query) = match path.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path, None),
    };
    let segments: Vec<&str> = base
        .path_segments()
        .into_iter()
        .flatten()
        .chain(path.split('/'))
        .filter(|s| !s.is_empty())
        .collect();
    let mut url = base.clone();
    url.set_path(&segments.join("/"));
    url.set_query(query);
    url.set_fragment(None);
    url
}

/// Said of a 3xx answer, which is never followed.
pub const REDIRECT_HINT: &str = " (the site redirects elsewhere; roster never follows a redirect with credentials: check base_url)";

/// The HTTP client every provider uses for `site`: rustls, timeouts, and no
/// redirects (a redirect would carry credentials to another host).
pub fn http_client(site: &str) -> Result<reqwest::Client, ProviderError> {
    reqwest::Client::builder()
        .user_agent(concat!("roster/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_mins(1))
        .build()
        .map_err(|e| ProviderError::Transport {
            site: site.to_string(),
            action: "set up".into(),
            object: "the HTTP client".into(),
            message: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::{path_segment, run_all};

    #[test]
    fn path_segments_escape_all_but_the_unreserved_characters() {
        let cases = [
            ("dd8a16db-0d3b-4e1f", "dd8a16db-0d3b-4e1f"),
            ("a.b_c~d", "a.b_c~d"),
            ("Data Team", "Data%20Team"),
            ("a/b", "a%2Fb"),
            ("é", "%C3%A9"),
            ("50%", "50%25"),
            ("a?b#c", "a%3Fb%23c"),
            ("R&D+1", "R%26D%2B1"),
        ];
        for (raw, encoded) in cases {
            assert_eq!(path_segment(raw), encoded, "{raw}");
            let back = percent_encoding::percent_decode_str(encoded).decode_utf8();
            assert_eq!(back.unwrap(), raw);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn run_all_keeps_every_slot_busy_and_the_order() {
        // Task 0 is slow; the others are quick. With two slots, the quick
        // ones all run in the second slot while task 0 runs in the first.
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let started = tokio::time::Instant::now();
        let tasks = (0..5u64).map(|i| {
            let (running, most) = (&running, &most);
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                let ms = if i == 0 { 100 } else { 10 };
                tokio::time::sleep(Duration::from_millis(ms)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                i
            }
        });
        assert_eq!(run_all(tasks, 2).await, [0, 1, 2, 3, 4]);
        assert_eq!(most.load(Ordering::SeqCst), 2);
        // In order (`buffered`), tasks 2.. would wait for task 0: 100 ms + 10.
        assert_eq!(started.elapsed(), Duration::from_millis(100));
    }
}

#[cfg(test)]
mod endpoint_tests {
    use super::{endpoint, is_dot_segment, path_segment};

    #[test]
    fn a_dot_segment_cannot_be_carried_even_percent_encoded() {
        let base = url::Url::parse("https://api.example.com/").unwrap();
        for name in [".", ".."] {
            assert!(is_dot_segment(name));
            for written in [path_segment(name), name.replace('.', "%2E")] {
                let url = endpoint(&base, &format!("/api/v1/groups/{written}"));
                assert!(!url.path().ends_with(&written), "{name}: {url}");
            }
        }
        assert!(!is_dot_segment("..."));
        assert!(!is_dot_segment(" .."));
    }

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[test]
    fn a_path_with_an_empty_or_dot_segment_is_never_sent() {
        for path in [
            "/Users/",
            "/Users/.",
            "/v2/teams//members",
            "/Groups/..",
            "/Users/./x?y=1",
        ] {
            let e = super::check_path("s", "delete user", "ann@x.io", path).unwrap_err();
            assert!(
                e.to_string()
                    .starts_with("site `s`: delete user ann@x.io: not sent: the request path"),
                "{e}"
            );
        }
        for path in [
            "/Users",
            "/Users/u1",
            "/v2/teams/t.1/members?x=/.",
            "/api/v1/groups/...",
        ] {
            assert!(super::check_path("s", "a", "", path).is_ok(), "{path}");
        }
    }

    #[test]
    fn the_base_path_is_kept_and_the_request_path_follows_it() {
        for base in ["https://h.example", "https://h.example/"] {
            assert_eq!(
                endpoint(&url(base), "/api/v1/users").as_str(),
                "https://h.example/api/v1/users"
            );
        }
        for base in ["https://h.example/proxy", "https://h.example/proxy/"] {
            assert_eq!(
                endpoint(&url(base), "/v2/members?limit=2&page=x").as_str(),
                "https://h.example/proxy/v2/members?limit=2&page=x"
            );
        }
    }

    #[test]
    fn nothing_in_the_path_changes_the_host() {
        let base = url("https://h.example:8443/api");
        for path in ["//evil.example/x", "/@evil.example", "/x#y", "/x?y=1#z"] {
            let u = endpoint(&base, path);
            assert_eq!(u.host_str(), Some("h.example"), "{path}");
            assert_eq!(u.port(), Some(8443), "{path}");
            assert!(u.path().starts_with("/api/"), "{path}: {u}");
        }
    }

    #[test]
    fn encoded_segments_are_sent_as_they_are() {
        let path = format!("/v2/teams/{}", path_segment("a/b?c#d%"));
        assert_eq!(
            endpoint(&url("https://h.example"), &path).as_str(),
            "https://h.example/v2/teams/a%2Fb%3Fc%23d%25"
        );
    }
}
