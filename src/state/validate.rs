//! Cross-file checks, and the step from what was parsed to the model. The
//! checks are a table of named checks ([`CHECKS`]), each run over the
//! whole loaded state; every problem is collected, nothing stops at the
//! first one. Site tables are checked first (`site.rs`), since the other
//! checks need the sites.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use toml::Spanned;
use unicode_normalization::UnicodeNormalization;

use super::checks;
use super::diagnostic::{Diagnostic, SourceFile};
use super::load::{Entries, Entry, Parsed};
use super::schema::{GroupSpec, SiteSpec, UserSpec};
use super::site::check_site;
use crate::attrs::{DesiredAttrs, Places};
use crate::model::access::DesiredAccess;
use crate::model::{
    DesiredGroup, DesiredSite, DesiredState, DesiredUser, ProviderKind, Site, UserKind,
};
use crate::provider::capabilities::NameRule;

/// Where problems are collected.
pub(crate) struct Checker<'a> {
    pub(super) files: &'a [SourceFile],
    pub(super) diagnostics: Vec<Diagnostic>,
}

impl Checker<'_> {
    pub(crate) fn error(
        &mut self,
        file: usize,
        span: Range<usize>,
        message: String,
        hint: Option<String>,
    ) {
        self.diagnostics
            .push(self.files[file].diagnostic(Some(span), message, hint));
    }

    pub(crate) fn location(&self, file: usize, span: &Range<usize>) -> String {
        let (line, column) = self.files[file].line_column(span.start);
        format!("{}:{line}:{column}", self.files[file].path.display())
    }
}

/// A check of the loaded state, reporting into the checker.
pub(crate) type Check = fn(&mut Checker, &Loaded);

/// A check with what it makes sure of, for people reading the table.
pub(crate) type NamedCheck = (&'static str, Check);

/// The checks of people and groups, in the order they run (problems at
/// one place are reported in this order).
pub(super) const CHECKS: &[NamedCheck] = &[
    (
        "group names are usable and declared once",
        checks::group_names,
    ),
    (
        "groups have the fields their sites need",
        checks::group_fields,
    ),
    ("sites a group lists are declared", checks::group_sites),
    ("sites a user lists are declared", checks::user_sites),
    ("names are not blank", checks::user_names),
    ("a user's kind is known", checks::user_kinds),
    ("emails are valid and used once", checks::user_emails),
    ("each provider's own checks", checks::provider_checks),
    (
        "member_type is on a site with account types",
        checks::user_member_types,
    ),
    (
        "active = false only where people are deactivated",
        checks::user_active,
    ),
    ("overrides are for the user's sites", checks::user_overrides),
    (
        "groups a user names are declared",
        checks::user_groups_declared,
    ),
    ("a user names each group once", checks::user_groups_once),
    (
        "a user's groups are on the user's sites",
        checks::user_groups_on_sites,
    ),
    ("team admins are declared members", checks::group_admins),
    (
        "expires dates are plain dates",
        super::insight::expiry_dates,
    ),
];

/// Group names are compared the strictest way any provider does.
pub(super) fn group_key(name: &str) -> String {
    crate::provider::group_key(NameRule::STRICTEST, name)
}

/// The declared groups by key, so a user's groups are found without
/// scanning every group.
pub(crate) struct GroupIndex<'a> {
    declared: HashMap<String, &'a Entry<GroupSpec>>,
    /// Keys of groups whose entries have problems: still declared.
    broken: HashSet<String>,
}

impl<'a> GroupIndex<'a> {
    fn new(groups: &'a [Entry<GroupSpec>], broken: &[String]) -> Self {
        let mut declared = HashMap::new();
        for g in groups {
            // The first declaration wins; a second is reported elsewhere.
            declared
                .entry(group_key(g.spec.name.get_ref()))
                .or_insert(g);
        }
        GroupIndex {
            declared,
            broken: broken.iter().map(|b| group_key(b)).collect(),
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&'a Entry<GroupSpec>> {
        self.declared.get(&group_key(name)).copied()
    }

    pub(crate) fn is_broken(&self, name: &str) -> bool {
        self.broken.contains(&group_key(name))
    }
}

/// What the checks run over: the sites that passed theirs, and every
/// user and group entry.
pub(crate) struct Loaded<'a> {
    pub sites: &'a [Site],
    pub users: &'a [Entry<UserSpec>],
    pub groups: &'a [Entry<GroupSpec>],
    pub(crate) group_index: GroupIndex<'a>,
    /// Every declared site name, with problems or not.
    pub(super) declared_sites: Vec<String>,
    /// Sites whose tables could not be read: still declared.
    broken_sites: &'a [String],
    /// Email keys of users whose entries could not be read: still declared.
    pub(crate) broken_users: HashSet<String>,
    /// The files read, for places carried into the desired state.
    files: &'a [SourceFile],
    /// Each provider's own tables.
    pub kinds: &'a crate::provider::KindEntries,
}

impl Loaded<'_> {
    /// `file:line:column` of `span` in file `file`.
    pub(crate) fn location(&self, file: usize, span: &Range<usize>) -> String {
        let (line, column) = self.files[file].line_column(span.start);
        format!("{}:{line}:{column}", self.files[file].path.display())
    }

    /// The sites an entry is on: the ones it lists, or every site.
    pub(crate) fn sites_of(&self, refs: &Option<Vec<Spanned<String>>>) -> Vec<&Site> {
        sites_of(refs, self.sites)
    }

    /// Whether an entry is on a declared site that has problems of its own
    /// (it is not in `sites`): what the entry needs there is unknown, so
    /// checks of that are left until the site is fixed.
    pub(crate) fn on_a_site_with_problems(&self, refs: &Option<Vec<Spanned<String>>>) -> bool {
        let listed = |name: &str| {
            refs.as_ref()
                .is_none_or(|list| list.iter().any(|r| r.get_ref() == name))
        };
        self.declared_sites
            .iter()
            .chain(self.broken_sites)
            .filter(|name| listed(name))
            .any(|name| !self.sites.iter().any(|s| &s.name == name))
    }

    /// Whether a site of this name is declared (sites with problems are
    /// still declared: references to them are fine).
    pub(crate) fn known_site(&self, name: &str) -> bool {
        self.declared_sites
            .iter()
            .chain(self.broken_sites)
            .any(|s| s == name)
    }
}

/// The sites an entry is on: the ones it lists, or every declared site.
fn sites_of<'a>(refs: &Option<Vec<Spanned<String>>>, declared: &'a [Site]) -> Vec<&'a Site> {
    match refs {
        Some(list) => declared
            .iter()
            .filter(|s| list.iter().any(|r| r.get_ref() == &s.name))
            .collect(),
        None => declared.iter().collect(),
    }
}

/// Checks what was parsed and builds the desired state, or returns every
/// problem found.
pub(super) fn build(parsed: Parsed) -> Result<DesiredState, Vec<Diagnostic>> {
    let Parsed {
        files,
        entries:
            Entries {
                sites,
                users,
                groups,
                broken_sites,
                broken_groups,
                broken_users,
                diagnostics,
                syntax_errors,
                kinds,
                settings,
            },
    } = parsed;
    if syntax_errors {
        // Fix the syntax first: what a broken file declares is unknown.
        return Err(diagnostics);
    }
    let mut c = Checker {
        files: &files,
        diagnostics,
    };
    let mut site_list = check_sites(&mut c, &sites);
    super::insight::global_notice_days(&mut c, &settings, &sites, &mut site_list);
    if sites.is_empty() && broken_sites.is_empty() && !files.is_empty() {
        c.error(
            0,
            0..0,
            "no site is declared in the state".into(),
            Some("add a [sites.NAME] table with provider, site, api_key and invited_by (see examples/)".into()),
        );
    }
    let loaded = Loaded {
        sites: &site_list,
        users: &users,
        groups: &groups,
        group_index: GroupIndex::new(&groups, &broken_groups),
        declared_sites: sites.iter().map(|(n, _)| n.get_ref().clone()).collect(),
        broken_sites: &broken_sites,
        broken_users: broken_users
            .iter()
            .map(|e| crate::model::email_key(e))
            .collect(),
        files: &files,
        kinds: &kinds,
    };
    for (_what, check) in CHECKS {
        check(&mut c, &loaded);
    }
    if !c.diagnostics.is_empty() {
        let mut all = c.diagnostics;
        all.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        return Err(all);
    }
    Ok(desired_state(&c, &loaded))
}

/// Every site table: declared once, under a safe name, and checked.
fn check_sites(c: &mut Checker, sites: &[(Spanned<String>, Entry<SiteSpec>)]) -> Vec<Site> {
    let mut site_list: Vec<Site> = Vec::new();
    let mut seen: HashMap<String, (usize, Range<usize>)> = HashMap::new();
    for (name, entry) in sites {
        if let Some((file, span)) = seen.get(name.get_ref()) {
            let first = c.location(*file, span);
            c.error(
                entry.file,
                name.span(),
                format!("site `{}` is declared twice", name.get_ref()),
                Some(format!("it is first declared at {first}; keep one")),
            );
            continue;
        }
        seen.insert(name.get_ref().clone(), (entry.file, name.span()));
        if !is_safe_site_name(name.get_ref()) {
            c.error(
                entry.file,
                name.span(),
                format!(
                    "site name `{}` may hold only ASCII letters, digits, `-`, `_` and `.`, may not start with `.`, and is at most {MAX_SITE_NAME} characters long",
                    crate::escape::text(name.get_ref())
                ),
                Some("rename the site, e.g. [sites.acme-prod]; the name becomes a file name (imported/NAME.toml)".into()),
            );
        }
        if let Some(site) = check_site(c, name.get_ref(), entry) {
            site_list.push(site);
        }
    }
    super::site::same_live_sites(c, sites, &site_list);
    site_list
}

/// The model of a state whose checks all passed.
fn desired_state(c: &Checker, l: &Loaded) -> DesiredState {
    let sites = l
        .sites
        .iter()
        .map(|site| {
            let on_site = |refs: &Option<Vec<Spanned<String>>>| {
                l.sites_of(refs).iter().any(|s| s.name == site.name)
            };
            let mut desired = DesiredSite {
                users: l
                    .users
                    .iter()
                    .filter(|u| on_site(&u.spec.sites))
                    .map(|u| desired_user(&u.spec, &l.group_index, site))
                    .collect(),
                groups: l
                    .groups
                    .iter()
                    .filter(|g| on_site(&g.spec.sites))
                    .map(|g| desired_group(&g.spec))
                    .collect(),
                site: site.clone(),
                access: DesiredAccess::default(),
                attrs: DesiredAttrs {
                    places: Places {
                        member_types: member_type_places(c, l, site),
                        ..Places::default()
                    },
                    ..DesiredAttrs::default()
                },
            };
            site.provider.add_desired_kinds(c, l, &mut desired);
            desired
        })
        .collect();
    DesiredState { sites }
}

/// Where each person's `member_type` on `site` is written (a site's
/// `overrides` win, as in the model), where the site has account types:
/// only the plan, reading the site, can check it.
fn member_type_places(c: &Checker, l: &Loaded, site: &Site) -> HashMap<String, String> {
    let mut places = HashMap::new();
    if !site.capabilities().has_account_types() {
        return places;
    }
    let on_site =
        |refs: &Option<Vec<Spanned<String>>>| l.sites_of(refs).iter().any(|s| s.name == site.name);
    for u in l.users.iter().filter(|u| on_site(&u.spec.sites)) {
        let o = u.spec.overrides.as_ref().and_then(|o| o.get(&site.name));
        let given = o.and_then(|o| o.member_type.as_ref());
        if let Some(m) = given.or(u.spec.member_type.as_ref()) {
            places.insert(
                crate::model::email_key(u.spec.email.get_ref()),
                c.location(u.file, &m.span()),
            );
        }
    }
    places
}

fn desired_group(spec: &GroupSpec) -> DesiredGroup {
    DesiredGroup {
        name: spec.name.get_ref().clone(),
        access: spec.access.as_ref().map(|a| *a.get_ref()),
        description: spec.description.as_ref().map(|d| d.get_ref().clone()),
        visibility: spec.visibility.as_ref().map(|v| *v.get_ref()),
        previous_names: spec
            .previous_names
            .iter()
            .map(|p| p.get_ref().clone())
            .collect(),
        admins: spec
            .admins
            .as_ref()
            .map(|a| a.iter().map(|e| nfc(e.get_ref().trim())).collect()),
    }
}

/// An email as roster sends it: in Unicode NFC, the form the same address
/// is compared in, whichever way the state file spells it.
fn nfc(email: &str) -> String {
    if email.is_ascii() {
        email.to_string()
    } else {
        email.nfc().collect()
    }
}

/// A user as declared for one site: the site's overrides, if any, win.
fn desired_user(spec: &UserSpec, groups: &GroupIndex, site: &Site) -> DesiredUser {
    let o = spec.overrides.as_ref().and_then(|o| o.get(&site.name));
    let group_list = o.and_then(|o| o.groups.as_ref()).unwrap_or(&spec.groups);
    let member_type = o
        .and_then(|o| o.member_type.as_ref())
        .or(spec.member_type.as_ref());
    DesiredUser {
        email: nfc(spec.email.get_ref().trim()),
        first_name: o
            .and_then(|o| o.first_name.as_ref())
            .unwrap_or(&spec.first_name)
            .get_ref()
            .clone(),
        last_name: o
            .and_then(|o| o.last_name.as_ref())
            .unwrap_or(&spec.last_name)
            .get_ref()
            .clone(),
        groups: group_list
            .iter()
            .map(|g| canonical_group(g.get_ref(), groups, site.provider))
            .collect(),
        member_type: member_type.map(|m| m.get_ref().trim().to_string()),
        active: spec.active.as_ref().is_none_or(|a| *a.get_ref()),
        previous_emails: spec
            .previous_emails
            .iter()
            .map(|e| e.get_ref().trim().to_string())
            .collect(),
        kind: spec.kind.as_ref().map(|k| UserKind::parse(k.get_ref())),
        expires: spec
            .expires
            .as_ref()
            .and_then(|e| super::insight::plain_date(e.get_ref())),
        membership_expires: group_list
            .iter()
            .filter_map(|g| {
                let on = super::insight::plain_date(g.expires.as_ref()?.get_ref())?;
                Some((canonical_group(g.get_ref(), groups, site.provider), on))
            })
            .collect(),
    }
}

/// A user may write a group's name in any spelling the platform accepts; the
/// plan uses the declared one (or the built-in's).
fn canonical_group(name: &str, groups: &GroupIndex, provider: ProviderKind) -> String {
    match groups.get(name) {
        Some(g) => g.spec.name.get_ref().clone(),
        None => provider
            .builtin_groups()
            .iter()
            .find(|b| group_key(b) == group_key(name))
            .copied()
            .unwrap_or(name)
            .to_string(),
    }
}

/// Whether a site name is safe to use in a file name: ASCII letters,
/// digits, `-`, `_` and `.`, not starting with `.` (so never `..`).
/// The longest site name: it becomes a file name (`imported/NAME.toml`)
/// and a CI job's name, both of which have limits.
pub(super) const MAX_SITE_NAME: usize = 64;

pub(super) fn is_safe_site_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_SITE_NAME
        && !name.starts_with('.')
        && name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.'))
}

/// Whether the sites would take `email`: an address of RFC 5321's form as
/// mail is sent to it (Sigma's member email is `format: email`; Periscope
/// mails an invitation), so no quoted local part, no comment and no IP
/// literal, at a host name of two or more labels (letters of any script,
/// digits, inner hyphens; no underscore), the last not all digits.
pub fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    is_dot_atom(local) && is_host_name(domain) && email_address::EmailAddress::is_valid(email)
}

/// An unquoted local part: atoms of RFC 5322 atext (or any non-ASCII
/// character but spaces and controls, RFC 6531) joined by single dots.
fn is_dot_atom(local: &str) -> bool {
    let atext = |c: char| {
        if c.is_ascii() {
            c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
        } else {
            !c.is_whitespace() && !c.is_control()
        }
    };
    local
        .split('.')
        .all(|atom| !atom.is_empty() && atom.chars().all(atext))
}

/// A host name mail can be sent to, written as the person would type it.
fn is_host_name(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    labels.len() >= 2
        && labels.iter().all(label_ok)
        && !labels
            .last()
            .is_some_and(|l| l.chars().all(|c| c.is_ascii_digit()))
}

/// Checks only the site tables of what was parsed: the trusted connection
/// settings of `--sites-from`, whose people are not this command's concern.
pub(super) fn build_sites(parsed: &Parsed) -> Result<Vec<Site>, Vec<Diagnostic>> {
    let mut c = Checker {
        files: &parsed.files,
        diagnostics: Vec::new(),
    };
    let sites: Vec<Site> = parsed
        .entries
        .sites
        .iter()
        .filter_map(|(name, entry)| check_site(&mut c, name.get_ref(), entry))
        .collect();
    super::site::same_live_sites(&mut c, &parsed.entries.sites, &sites);
    if parsed.entries.sites.is_empty() && !parsed.files.is_empty() {
        c.error(0, 0..0, "no site is declared in the state".into(), None);
    }
    if c.diagnostics.is_empty() {
        Ok(sites)
    } else {
        Err(c.diagnostics)
    }
}

#[cfg(test)]
mod tests {
    use super::CHECKS;
    use crate::model::ProviderKind;

    #[test]
    fn every_check_has_its_own_name() {
        let mut names: Vec<&str> = CHECKS.iter().map(|(name, _)| *name).collect();
        names.extend(
            ProviderKind::ALL
                .iter()
                .flat_map(|k| k.checks().iter().map(|(name, _)| *name)),
        );
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all);
    }
}
