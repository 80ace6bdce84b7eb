//! What a provider can do and how it names things: the questions generic
//! code (plan, state, import, render) asks instead of comparing
//! `ProviderKind`s. Each provider answers them once, in its own folder
//! (`CAPABILITIES` in `provider/<name>/mod.rs`).

/// Everything generic code may ask of a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// The name written in `provider = "..."` and shown after a site's name.
    pub name: &'static str,
    /// The product's name, for people.
    pub product: &'static str,
    /// What removing a person does.
    pub removal: Removal,
    /// Whether a write can be checked without being made.
    pub test_mode: TestMode,
    /// Whether a person's email can change (`previous_emails`).
    pub email_rename: EmailRename,
    /// The fields a group has beside its name.
    pub group_fields: GroupFields,
    /// Whether people have an account type (`member_type`).
    pub account_types: AccountTypes,
    /// Who counts as an administrator, for the guards and privileged changes.
    pub admin_rule: AdminRule,
    /// Which permissions make a custom account type an administrator's.
    pub admin_permissions: AdminPermissions,
    /// Groups every site has and roster never creates, renames or deletes.
    pub builtin_groups: &'static [&'static str],
    /// The group every user is in; its membership is never planned.
    pub implicit_group: Option<&'static str>,
    /// How two group names are matched.
    pub names: NameRule,
    /// How requests name the person or group they change.
    pub addressing: Addressing,
    /// Whether people have a kind (`kind = "guest"`) and groups admins.
    pub people: People,
    /// What reviewers call users and groups there.
    pub nouns: Nouns,
    /// Whether sites have user attributes (`[[user_attributes]]`) and
    /// custom account types (`[[account_types]]`).
    pub attrs: Attrs,
}

/// What a seat budget counts on a site: asked of the provider's
/// capabilities, never of its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeatBasis {
    /// People by account type (`member_type`).
    AccountType,
    /// People by the highest access level of their groups.
    AccessLevel,
}

impl SeatBasis {
    pub fn of(caps: &Capabilities) -> Option<SeatBasis> {
        if caps.has_account_types() {
            Some(SeatBasis::AccountType)
        } else if caps.group_fields.access {
            Some(SeatBasis::AccessLevel)
        } else {
            None
        }
    }
}

/// User attributes and custom account types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attrs {
    /// User attributes with values per person and per group.
    pub user_attributes: bool,
    /// Custom account types, created and deleted (never edited).
    pub custom_account_types: bool,
    /// Workspaces and connections with grants (`[[workspaces]]`,
    /// `[[connections]]`).
    pub workspaces: bool,
}

/// What removing a person does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// The account is deleted, for good; there is no deactivated state.
    Delete,
    /// The account is deactivated, and can be reactivated.
    Deactivate,
    /// Deactivated by default; deleted for good where the site says
    /// `unmanaged_users = "delete"`.
    DeactivateOrDelete,
}

/// Whether a write can be checked without being made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestMode {
    /// Each write is sent with this server-side flag (`test_mode=true`):
    /// the site checks it and saves nothing.
    ServerSide { flag: &'static str },
    /// No such mode: a dry run sends nothing.
    None,
}

/// Whether a person's email can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailRename {
    /// An email change is an update of the same account.
    Supported,
    /// The API cannot change an email: `previous_emails` matching no
    /// current account is an error.
    Unsupported,
}

/// The fields a group has beside its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupFields {
    /// An access level (`access = "view"`), required on every group.
    pub access: bool,
    /// A free-text description.
    pub description: bool,
    /// Public or private.
    pub visibility: bool,
}

/// Whether people have an account type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountTypes {
    None,
    /// Named by the site (`member_type`), matched ignoring case.
    Named,
}

/// Who counts as an administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminRule {
    /// A member of this group.
    InGroup(&'static str),
    /// Of this account type (ignoring case).
    AccountType(&'static str),
    /// The API says nothing about administrators.
    None,
}

/// Which permissions of a custom account type give its holders admin
/// power: a privileged change (`allow_privileged`) makes or names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminPermissions {
    /// Custom account types never give admin power (or there are none).
    None,
    /// Those the built-in admin account type ([`AdminRule::AccountType`])
    /// holds and no other built-in type does, as the site lists them.
    HeldOnlyByAdminType,
}

/// What gives a person admin power.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdminVia {
    /// Membership of a group.
    Group,
    /// An account type.
    AccountType,
}

/// How two group names are matched, after Unicode NFC and lower-casing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// Anything not a letter or digit is ignored (Periscope resolves
    /// `/groups/my-new-group` to `myNewGroup`).
    AlphanumericOnly,
    /// Surrounding spaces are ignored.
    Trimmed,
}

impl NameRule {
    /// The rule that makes the most names equal: the state's own checks
    /// (a group declared twice) compare names this way, whatever the sites.
    pub const STRICTEST: NameRule = NameRule::AlphanumericOnly;
}

/// How requests name what they change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// A user by email in an ASCII-only header, a group by its name in the
    /// URL path: emails must be ASCII and group names short enough.
    ByName,
    /// By the IDs the site gives.
    ById,
}

/// What people and groups have beyond names and memberships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct People {
    /// `kind = "guest"`, guests and embed users.
    pub kinds: bool,
    /// `admins` on a group (team admins).
    pub group_admins: bool,
}

/// What reviewers call things on a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nouns {
    pub users: &'static str,
    pub groups: &'static str,
    /// How group names compare, said to a reviewer.
    pub group_rule: &'static str,
}

impl Capabilities {
    /// Whether `active = false` is possible.
    pub fn can_deactivate(&self) -> bool {
        matches!(
            self.removal,
            Removal::Deactivate | Removal::DeactivateOrDelete
        )
    }

    /// Whether a person can be deleted (`unmanaged_users = "delete"`).
    pub fn can_delete(&self) -> bool {
        matches!(self.removal, Removal::Delete | Removal::DeactivateOrDelete)
    }

    pub fn has_test_mode(&self) -> bool {
        matches!(self.test_mode, TestMode::ServerSide { .. })
    }

    pub fn has_account_types(&self) -> bool {
        self.account_types == AccountTypes::Named
    }

    /// What reviewers call the admin power `is_admin` finds: the
    /// administrators' group or the admin account type.
    pub fn admin_power(&self) -> Option<(AdminVia, &'static str)> {
        match self.admin_rule {
            AdminRule::InGroup(g) => Some((AdminVia::Group, g)),
            AdminRule::AccountType(t) => Some((AdminVia::AccountType, t)),
            AdminRule::None => None,
        }
    }

    /// Whether someone in `groups`, of account type `member_type`, is an
    /// administrator (active or not).
    pub fn is_admin(&self, groups: &[String], member_type: Option<&str>) -> bool {
        match self.admin_rule {
            AdminRule::InGroup(admins) => groups
                .iter()
                .any(|g| super::same_group(self.names, g, admins)),
            AdminRule::AccountType(admin) => {
                member_type.is_some_and(|t| t.eq_ignore_ascii_case(admin))
            }
            AdminRule::None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{AccountTypes, AdminPermissions, AdminRule, Removal};
    use crate::model::ProviderKind;

    #[test]
    fn every_provider_is_registered_once_under_its_own_name() {
        let mut names: Vec<&str> = ProviderKind::ALL.iter().map(|k| k.as_str()).collect();
        let mut products: Vec<&str> = ProviderKind::ALL.iter().map(|k| k.product_name()).collect();
        names.sort_unstable();
        names.dedup();
        products.sort_unstable();
        products.dedup();
        assert_eq!(names.len(), ProviderKind::ALL.len());
        assert_eq!(products.len(), ProviderKind::ALL.len());
        for &kind in ProviderKind::ALL {
            // The name the state writes is the one serde reads and writes.
            assert_eq!(ProviderKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<ProviderKind>(&json).unwrap(), kind);
        }
    }

    #[test]
    fn every_providers_capabilities_agree_with_each_other() {
        for &kind in ProviderKind::ALL {
            let caps = kind.capabilities();
            // The group every user is in is one roster never manages.
            if let Some(implicit) = caps.implicit_group {
                assert!(kind.is_builtin_group(implicit), "{kind}");
            }
            match caps.admin_rule {
                // An administrators' group exists on every site.
                AdminRule::InGroup(admins) => assert!(kind.is_builtin_group(admins), "{kind}"),
                // An admin account type needs account types.
                AdminRule::AccountType(_) => {
                    assert_eq!(caps.account_types, AccountTypes::Named, "{kind}");
                }
                AdminRule::None => {}
            }
            // Admin-level permissions are read off the admin account type,
            // among custom account types.
            if caps.admin_permissions == AdminPermissions::HeldOnlyByAdminType {
                assert!(
                    matches!(caps.admin_rule, AdminRule::AccountType(_)),
                    "{kind}"
                );
                assert!(caps.attrs.custom_account_types, "{kind}");
            }
            // Built-in groups are their own keys' only spelling.
            for b in caps.builtin_groups {
                assert_eq!(
                    kind.group_key(b),
                    kind.group_key(&b.to_uppercase()),
                    "{kind}"
                );
            }
            // Guests are deactivated, never deleted, where people have kinds.
            if caps.people.kinds {
                assert_eq!(caps.removal, Removal::Deactivate, "{kind}");
            }
            assert!(!caps.nouns.users.is_empty() && !caps.nouns.groups.is_empty());
            assert!(!kind.site_keys().is_empty(), "{kind}: a site has settings");
        }
    }

    #[test]
    fn a_site_key_belongs_to_one_provider() {
        let mut keys: Vec<&str> = ProviderKind::ALL
            .iter()
            .flat_map(|k| k.site_keys().iter().map(|s| s.name))
            .collect();
        let all = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(
            keys.len(),
            all,
            "a key two providers share is a generic one"
        );
    }
}
