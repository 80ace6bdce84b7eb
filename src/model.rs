//! Provider-neutral model: sites, desired users and groups, live users and
//! groups. Loading (`state`) produces the desired side, providers produce the
//! live side, and `plan` compares the two.

use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

pub use crate::provider::{Credentials, ProviderKind, SiteConfig};

pub mod access;
pub mod change;
mod kept;
mod plan_error;
mod warning;

pub use change::{
    Action, AttrTarget, AttrValueChange, Change, Diff, KeptValue, Membership, ObjectKind, Owned,
};

pub use kept::{Kept, KeptReason, Note, NoteReason};
pub use plan_error::PlanError;
pub use warning::{Warning, WarningKind};

pub const ADMINISTRATORS: &str = "Administrators";
pub const ALL_USERS: &str = "All Users";

/// The key two emails are matched by: trimmed, in Unicode NFC, then
/// lower-cased, as both platforms compare them (`José@x.io` written with a
/// precomposed `é` or with `e` + U+0301 is one person).
pub fn email_key(email: &str) -> String {
    let email = email.trim();
    if email.is_ascii() {
        // Already NFC: the common case, without the normaliser.
        return email.to_ascii_lowercase();
    }
    fold(email.nfc()).collect()
}

/// Lower-cases NFC characters, keeping them NFC. `char::to_lowercase`
/// rather than full Unicode case folding: the platforms compare lower-cased
/// text, and full folding would make accounts they keep apart equal
/// (`straße@x.io` and `strasse@x.io`). Lower-casing can leave a sequence
/// that is not NFC (a lower-cased letter before a combining mark), hence the
/// second pass; it costs nothing on text without combining marks.
pub(crate) fn fold(nfc: impl Iterator<Item = char>) -> impl Iterator<Item = char> {
    nfc.flat_map(char::to_lowercase).nfc()
}

/// Periscope group access level.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    View,
    Discovery,
    Sql,
}

impl Access {
    pub const ALL: [Access; 3] = [Access::View, Access::Discovery, Access::Sql];

    pub fn as_str(self) -> &'static str {
        match self {
            Access::View => "view",
            Access::Discovery => "discovery",
            Access::Sql => "sql",
        }
    }

    /// Parses an access level the way the API accepts it: case-insensitively.
    pub fn parse(value: &str) -> Option<Access> {
        Access::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(value.trim()))
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Sigma team visibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Public,
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Private => "private",
        }
    }
}

/// What to do with live objects that the state does not declare.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Unmanaged {
    /// Remove them (Periscope: delete; Sigma and SCIM: deactivate).
    #[default]
    #[serde(alias = "deactivate")]
    Remove,
    /// Leave them alone; the plan lists them as kept.
    Keep,
    /// Users: delete them for good, deactivated ones too (where the
    /// provider can delete people; Periscope always does). Groups: the
    /// same as `remove`.
    Delete,
}

/// What kind of member a Sigma person is (`userKind`; absent = internal).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum UserKind {
    #[default]
    Internal,
    Guest,
    Embed,
}

impl UserKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UserKind::Internal => "internal",
            UserKind::Guest => "guest",
            UserKind::Embed => "embed",
        }
    }

    /// Read leniently: anything but `guest` or `embed` is internal.
    pub fn parse(value: &str) -> UserKind {
        match value.trim().to_ascii_lowercase().as_str() {
            "guest" => UserKind::Guest,
            "embed" => UserKind::Embed,
            _ => UserKind::Internal,
        }
    }

    pub fn is_internal(&self) -> bool {
        *self == UserKind::Internal
    }
}

/// How a Sigma organisation is run: what roster may touch and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "independent settings of one organisation, not a state machine"
)]
pub struct SigmaOrgPolicy {
    /// `provisioning = "scim"`: SCIM owns every member and team membership.
    pub scim: bool,
    /// What to do with undeclared guests (embed users are always kept).
    pub unmanaged_guests: Unmanaged,
    /// `send_invites`: new members get an invitation email.
    pub send_invites: bool,
    /// `archive_scheduled_exports`: a deactivated member's schedules are archived.
    pub archive_scheduled_exports: bool,
    /// `revoke_tokens_on_deactivation`: a deactivated member's OAuth tokens
    /// are revoked.
    pub revoke_tokens_on_deactivation: bool,
    /// Workspaces, connections and their grants.
    pub access: access::AccessPolicy,
    /// What to do with live user attributes the state does not declare.
    pub unmanaged_attributes: Unmanaged,
    /// What to do with live custom account types the state does not declare.
    pub unmanaged_account_types: Unmanaged,
    /// `allow_account_type_deletions`: acknowledges up to this many deletions.
    pub allow_account_type_deletions: Option<usize>,
    /// Whether the client reads user attributes and account types' permissions.
    pub attrs_read: bool,
}

impl Default for SigmaOrgPolicy {
    fn default() -> Self {
        SigmaOrgPolicy {
            scim: false,
            unmanaged_guests: Unmanaged::Keep,
            send_invites: true,
            archive_scheduled_exports: false,
            revoke_tokens_on_deactivation: true,
            access: access::AccessPolicy::default(),
            unmanaged_attributes: Unmanaged::Keep,
            unmanaged_account_types: Unmanaged::Keep,
            allow_account_type_deletions: None,
            attrs_read: false,
        }
    }
}

/// Where a secret comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretSource {
    /// An environment variable.
    Env(String),
    /// The output of a shell command (a password manager, a vault).
    Command(String),
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(var) => f.write_str(var),
            SecretSource::Command(cmd) => write!(f, "the output of `{cmd}`"),
        }
    }
}

/// Where a deactivated Sigma member's documents go.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", tag = "to", content = "email")]
pub enum Handover {
    /// Sigma's default: to the owner of the API credentials.
    CredentialsOwner,
    /// To this member (`new_owner = "email"`).
    NewOwner(String),
    /// Archived (`archive_documents = true`).
    Archive,
    /// Nothing to hand over: the platform keeps no documents for people
    /// (SCIM).
    Nothing,
}

impl std::fmt::Display for Handover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Handover::CredentialsOwner => f.write_str("documents to the API credentials' owner"),
            Handover::NewOwner(e) => write!(f, "documents to {e}"),
            Handover::Archive => f.write_str("documents archived"),
            Handover::Nothing => f.write_str("nothing handed over"),
        }
    }
}

/// Acknowledgements, written in the state and reviewed, that let a plan go
/// past a blast-radius guard: each allows up to that many of its kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Allowances {
    pub removals: Option<usize>,
    pub group_deletions: Option<usize>,
    pub membership_removals: Option<usize>,
    pub admin_changes: Option<usize>,
    pub workspace_deletions: Option<usize>,
    pub grant_removals: Option<usize>,
    /// `allow_privileged`: the people a plan may give admin power or an
    /// admin account to, by email as written.
    pub privileged: Vec<String>,
}

/// What a site declares to protect itself from mistakes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Safety {
    /// Never removed, deactivated or demoted.
    pub protected: Vec<String>,
    /// The fewest administrators the site may be left with.
    pub min_admins: usize,
    pub allow: Allowances,
}

impl Default for Safety {
    fn default() -> Self {
        Safety {
            protected: Vec::new(),
            min_admins: 1,
            allow: Allowances::default(),
        }
    }
}

/// A declared site, with everything a provider needs except resolved secrets.
#[derive(Debug, Clone, Serialize)]
pub struct Site {
    /// The name the state uses for the site (`[sites.NAME]`).
    pub name: String,
    pub provider: ProviderKind,
    pub base_url: url::Url,
    pub unmanaged_users: Unmanaged,
    pub unmanaged_groups: Unmanaged,
    pub safety: Safety,
    /// A request budget the site's API must not exceed.
    pub max_requests_per_second: Option<f64>,
    /// How long one request keeps trying while the site answers 429.
    pub patience_seconds: u64,
    /// The most bytes one answer of the site may hold.
    pub max_response_bytes: u64,
    /// How long roster may spend reading the site, and again writing to it.
    pub deadline_seconds: u64,
    pub config: SiteConfig,
    /// `seats`: the most people of each account type or access level.
    pub seats: Seats,
    /// `expiry_notice_days`: how far ahead expiring access is noted.
    pub expiry_notice_days: u32,
}

/// A site's `seats` budget: the most people of each account type or access
/// level (read as a map), with where each name is written, for errors only
/// the live site can find (a Sigma account type it does not have).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seats {
    budget: std::collections::BTreeMap<String, u64>,
    places: std::collections::BTreeMap<String, String>,
}

impl Seats {
    /// Budgets `count` seats of `kind`, written at `place` (`file:line:col`).
    pub fn insert(&mut self, kind: String, count: u64, place: String) {
        self.places.insert(kind.clone(), place);
        self.budget.insert(kind, count);
    }

    /// Where `kind` is written, if it is budgeted.
    pub fn place(&self, kind: &str) -> Option<&str> {
        self.places.get(kind).map(String::as_str)
    }
}

impl std::ops::Deref for Seats {
    type Target = std::collections::BTreeMap<String, u64>;
    fn deref(&self) -> &Self::Target {
        &self.budget
    }
}

impl Serialize for Seats {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.budget.serialize(serializer)
    }
}

impl Site {
    /// The user roster must never remove, if the provider has one.
    pub fn invited_by(&self) -> Option<&str> {
        self.config.invited_by()
    }

    /// A Sigma site's organisation policy.
    pub fn sigma_org(&self) -> Option<&SigmaOrgPolicy> {
        self.config.sigma_org()
    }

    /// Where a deactivated person's documents go (Sigma); elsewhere
    /// nothing is handed over.
    pub fn handover(&self) -> Handover {
        self.config.handover()
    }

    pub fn capabilities(&self) -> &'static crate::provider::Capabilities {
        self.provider.capabilities()
    }
}

/// A user as declared for one site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DesiredUser {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub groups: Vec<String>,
    /// Sigma account type, as written in the state.
    pub member_type: Option<String>,
    /// false: the user exists but is deactivated (Sigma).
    pub active: bool,
    /// Earlier emails: a live user found by one of them is renamed.
    pub previous_emails: Vec<String>,
    /// Sigma: the declared `kind` (`guest` or `internal`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<UserKind>,
    /// `expires`: the last day of the person's access.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<chrono::NaiveDate>,
    /// Memberships (of `groups`) with an `expires` date: group, last day.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub membership_expires: Vec<(String, chrono::NaiveDate)>,
}

impl DesiredUser {
    /// The groups whose membership has ended by `today` (its `expires`
    /// date is past): still written in the state, no longer granted.
    pub fn ended_groups(&self, today: chrono::NaiveDate) -> Vec<&str> {
        self.membership_expires
            .iter()
            .filter(|(_, on)| *on < today)
            .map(|(g, _)| g.as_str())
            .collect()
    }

    /// The groups granted on `today`: `groups` but those that have ended.
    pub fn groups_on(&self, today: chrono::NaiveDate) -> Vec<&str> {
        let ended = self.ended_groups(today);
        self.groups
            .iter()
            .map(String::as_str)
            .filter(|g| !ended.contains(g))
            .collect()
    }
}

/// A group as declared for one site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DesiredGroup {
    pub name: String,
    /// Periscope access level (required on Periscope sites).
    pub access: Option<Access>,
    /// Sigma team description.
    pub description: Option<String>,
    /// Sigma team visibility.
    pub visibility: Option<Visibility>,
    pub previous_names: Vec<String>,
    /// Sigma team admins (emails), when the state declares them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admins: Option<Vec<String>>,
}

/// Everything declared for one site.
#[derive(Debug, Clone, Serialize)]
pub struct DesiredSite {
    pub site: Site,
    pub users: Vec<DesiredUser>,
    pub groups: Vec<DesiredGroup>,
    /// Sigma workspaces and connections with their grants.
    pub access: access::DesiredAccess,
    /// User attributes, their values and custom account types (Sigma).
    #[serde(skip_serializing_if = "crate::attrs::DesiredAttrs::is_empty")]
    pub attrs: crate::attrs::DesiredAttrs,
}

/// The whole declared state: every site with what belongs on it.
#[derive(Debug, Clone, Serialize)]
pub struct DesiredState {
    pub sites: Vec<DesiredSite>,
}

/// Why roster leaves a live user alone whatever the state says.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Locked {
    /// Deactivated through SCIM (`isInactive`): the identity provider owns it.
    ScimInactive,
    /// A platform's own account, such as Sigma's scheduler robot.
    System,
}

/// A user as the platform reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LiveUser {
    /// The platform's ID (Sigma `memberId`); Periscope addresses by email.
    pub id: Option<String>,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub groups: Vec<String>,
    pub member_type: Option<String>,
    pub active: bool,
    pub locked: Option<Locked>,
    /// Sigma `userKind`.
    #[serde(default)]
    pub kind: UserKind,
    /// Sigma teams this member is an admin of (`isTeamAdmin`).
    #[serde(default)]
    pub admin_of: Vec<String>,
    /// The user's version as the platform states it (a SCIM ETag), where it
    /// versions objects: writes send it back, so a change made since the
    /// read is refused rather than overwritten.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl LiveUser {
    /// Whether roster may declare and change this member: not one the
    /// platform or an identity provider owns (`locked`), nor an embed user.
    pub fn is_managed(&self) -> bool {
        self.locked.is_none() && self.kind != UserKind::Embed
    }
}

/// A group as the platform reports it. `access` is kept as the platform wrote
/// it so an unknown level still shows up in a diff.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LiveGroup {
    /// The platform's ID (Sigma `teamId`); Periscope addresses by name.
    pub id: Option<String>,
    pub name: String,
    pub access: Option<String>,
    pub description: Option<String>,
    pub visibility: Option<String>,
    /// The group's version, as [`LiveUser::version`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The groups that are direct members of this one (nested groups),
    /// where the platform has them: shown in the plan and never removed,
    /// as the state declares memberships of people only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub member_groups: Vec<String>,
}

/// What is live on one site.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveSite {
    pub users: Vec<LiveUser>,
    pub groups: Vec<LiveGroup>,
    /// Account type names (Sigma).
    pub account_types: Vec<String>,
    /// The email of the member the API credentials belong to (Sigma), who is
    /// never removed or demoted.
    #[serde(default)]
    pub api_identity: Option<String>,
    /// Sigma workspaces and connections with their grants, when read.
    #[serde(default)]
    pub access: access::LiveAccess,
    /// User attributes and account types with their details (Sigma).
    #[serde(default)]
    pub attrs: crate::attrs::LiveAttrs,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periscope_group_keys_ignore_case_and_punctuation() {
        let p = crate::test_fixtures::periscope();
        assert_eq!(p.group_key("myNewGroup"), p.group_key("my-new-group"));
        assert_eq!(p.group_key("All Users"), "allusers");
        assert!(p.is_builtin_group("all users"));
        assert!(!p.is_builtin_group("Analysts"));
    }

    #[test]
    fn access_parses_case_insensitively() {
        assert_eq!(Access::parse("View"), Some(Access::View));
        assert_eq!(Access::parse(" SQL "), Some(Access::Sql));
        assert_eq!(Access::parse("admin"), None);
    }

    #[test]
    fn emails_match_trimmed_and_case_folded() {
        assert_eq!(email_key(" Ada@Acme.COM "), "ada@acme.com");
    }

    #[test]
    fn emails_and_group_names_match_after_nfc() {
        // Precomposed é (U+00E9) and e + combining acute (U+0301).
        assert_eq!(
            email_key("JOS\u{c9}@acme.com"),
            email_key("jose\u{301}@acme.com")
        );
        assert_eq!(email_key("jose\u{301}@acme.com"), "jos\u{e9}@acme.com");
        // Lower-casing, not full case folding: ß stays ß.
        assert_ne!(email_key("stra\u{df}e@x.io"), email_key("strasse@x.io"));
        for p in [
            crate::test_fixtures::periscope(),
            crate::test_fixtures::sigma(),
        ] {
            assert!(p.same_group("Caf\u{e9}", "cafe\u{301}"), "{p}");
            assert!(!p.same_group("Cafe", "Caf\u{e9}"), "{p}");
        }
        // Periscope drops what is not a letter or digit after NFC, so the
        // combining mark is not dropped on its own.
        assert_eq!(
            crate::test_fixtures::periscope().group_key("Cafe\u{301} Crew"),
            "caf\u{e9}crew"
        );
    }
}
