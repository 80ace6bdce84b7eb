//! Cross-file checks, and the step from what was parsed to the model. Every
//! problem is collected; nothing stops at the first one.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use toml::Spanned;
use unicode_normalization::UnicodeNormalization;

use super::diagnostic::{Diagnostic, SourceFile};
use super::load::{Entries, Entry, Parsed};
use super::schema::{GroupSpec, UserSpec};
use super::site::check_site;
use crate::model::{
    DesiredGroup, DesiredSite, DesiredState, DesiredUser, ProviderKind, Site, UserKind, email_key,
};

pub(super) struct Checker<'a> {
    pub(super) files: &'a [SourceFile],
    pub(super) diagnostics: Vec<Diagnostic>,
}

impl Checker<'_> {
    pub(super) fn error(
        &mut self,
        file: usize,
        span: Range<usize>,
        message: String,
        hint: Option<String>,
    ) {
        self.diagnostics
            .push(self.files[file].diagnostic(Some(span), message, hint));
    }

    fn location(&self, file: usize, span: &Range<usize>) -> String {
        let (line, column) = self.files[file].line_column(span.start);
        format!("{}:{line}:{column}", self.files[file].path.display())
    }
}

/// Group names are compared the strictest way any provider does.
fn group_key(name: &str) -> String {
    ProviderKind::Periscope.group_key(name)
}

/// The declared groups by key, so a user's groups are found without
/// scanning every group.
struct GroupIndex<'a> {
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

    fn get(&self, name: &str) -> Option<&'a Entry<GroupSpec>> {
        self.declared.get(&group_key(name)).copied()
    }

    fn is_broken(&self, name: &str) -> bool {
        self.broken.contains(&group_key(name))
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
pub fn build(parsed: Parsed) -> Result<DesiredState, Vec<Diagnostic>> {
    let Parsed {
        files,
        entries:
            Entries {
                sites,
                users,
                groups,
                broken_sites,
                broken_groups,
                diagnostics,
                syntax_errors,
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

    // Sites.
    let mut site_list: Vec<Site> = Vec::new();
    let mut site_seen: HashMap<String, (usize, Range<usize>)> = HashMap::new();
    for (name, entry) in &sites {
        if let Some((file, span)) = site_seen.get(name.get_ref()) {
            let first = c.location(*file, span);
            c.error(
                entry.file,
                name.span(),
                format!("site `{}` is declared twice", name.get_ref()),
                Some(format!("it is first declared at {first}; keep one")),
            );
            continue;
        }
        site_seen.insert(name.get_ref().clone(), (entry.file, name.span()));
        if !is_safe_site_name(name.get_ref()) {
            c.error(
                entry.file,
                name.span(),
                format!(
                    "site name `{}` may hold only ASCII letters, digits, `-`, `_` and `.`, may not start with `.`, and is at most {MAX_SITE_NAME} characters long",
                    crate::render::escape::text(name.get_ref())
                ),
                Some("rename the site, e.g. [sites.acme-prod]; the name becomes a file name (imported/NAME.toml)".into()),
            );
        }
        if let Some(site) = check_site(&mut c, name.get_ref(), entry) {
            site_list.push(site);
        }
    }
    if sites.is_empty() && broken_sites.is_empty() && !files.is_empty() {
        c.error(
            0,
            0..0,
            "no site is declared in the state".into(),
            Some("add a [sites.NAME] table with provider, site, api_key and invited_by (see examples/)".into()),
        );
    }
    let declared_names: Vec<String> = sites.iter().map(|(n, _)| n.get_ref().clone()).collect();
    // Sites with problems are still declared: references to them are fine.
    let known_site = |name: &str| {
        declared_names
            .iter()
            .chain(&broken_sites)
            .any(|s| s == name)
    };
    let check_site_refs = |c: &mut Checker, file: usize, refs: &Option<Vec<Spanned<String>>>| {
        for r in refs.iter().flatten() {
            if !known_site(r.get_ref()) {
                c.error(
                    file,
                    r.span(),
                    format!("site `{}` is not declared", r.get_ref()),
                    Some(format!(
                        "declare it as [sites.{}] or use one of: {}",
                        r.get_ref(),
                        join_or_none(&declared_names)
                    )),
                );
            }
        }
    };

    // Groups.
    let mut group_seen: HashMap<String, (usize, Range<usize>)> = HashMap::new();
    for g in &groups {
        check_group(&mut c, g, &site_list, &mut group_seen);
        check_site_refs(&mut c, g.file, &g.spec.sites);
    }

    // Users. Current and previous emails share one namespace.
    let group_index = GroupIndex::new(&groups, &broken_groups);
    let mut user_seen: HashMap<String, (usize, Range<usize>)> = HashMap::new();
    for u in &users {
        check_site_refs(&mut c, u.file, &u.spec.sites);
        check_user(&mut c, u, &site_list, &group_index, &mut user_seen);
    }

    check_admins(&mut c, &groups, &users, &site_list);

    if !c.diagnostics.is_empty() {
        let mut all = c.diagnostics;
        all.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        return Err(all);
    }

    let desired_sites = site_list
        .iter()
        .map(|site| {
            let on_site = |refs: &Option<Vec<Spanned<String>>>| {
                sites_of(refs, &site_list)
                    .iter()
                    .any(|s| s.name == site.name)
            };
            DesiredSite {
                users: users
                    .iter()
                    .filter(|u| on_site(&u.spec.sites))
                    .map(|u| desired_user(&u.spec, &group_index, site))
                    .collect(),
                groups: groups
                    .iter()
                    .filter(|g| on_site(&g.spec.sites))
                    .map(|g| DesiredGroup {
                        name: g.spec.name.get_ref().clone(),
                        access: g.spec.access,
                        description: g.spec.description.as_ref().map(|d| d.get_ref().clone()),
                        visibility: g.spec.visibility.as_ref().map(|v| *v.get_ref()),
                        previous_names: g
                            .spec
                            .previous_names
                            .iter()
                            .map(|p| p.get_ref().clone())
                            .collect(),
                        admins: g
                            .spec
                            .admins
                            .as_ref()
                            .map(|a| a.iter().map(|e| nfc(e.get_ref().trim())).collect()),
                    })
                    .collect(),
                site: site.clone(),
            }
        })
        .collect();
    Ok(DesiredState {
        sites: desired_sites,
    })
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
            .and_then(|o| o.first_name.clone())
            .unwrap_or_else(|| spec.first_name.clone()),
        last_name: o
            .and_then(|o| o.last_name.clone())
            .unwrap_or_else(|| spec.last_name.clone()),
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
    }
}

/// `admins` on a group: only on Sigma teams, and each admin a declared
/// member of the group.
fn check_admins(
    c: &mut Checker,
    groups: &[Entry<GroupSpec>],
    users: &[Entry<UserSpec>],
    site_list: &[Site],
) {
    let mut members: HashSet<(String, String)> = HashSet::new();
    for u in users {
        let email = email_key(u.spec.email.get_ref());
        let all = u.spec.overrides.iter().flat_map(|o| o.values());
        for g in u
            .spec
            .groups
            .iter()
            .chain(all.flat_map(|o| o.groups.iter().flatten()))
        {
            members.insert((email.clone(), group_key(g.get_ref())));
        }
    }
    for g in groups {
        let Some(admins) = &g.spec.admins else {
            continue;
        };
        let name = g.spec.name.get_ref();
        let on_sigma = sites_of(&g.spec.sites, site_list)
            .iter()
            .any(|s| s.provider == ProviderKind::Sigma);
        if !on_sigma {
            let span = admins.first().map_or(g.spec.name.span(), Spanned::span);
            c.error(
                g.file,
                span,
                format!("group `{name}`: admins are Sigma team admins, and the group is on no Sigma site"),
                Some("remove `admins`, or put the group on a Sigma site with `sites`".into()),
            );
            continue;
        }
        for a in admins {
            if !members.contains(&(email_key(a.get_ref()), group_key(name))) {
                c.error(
                    g.file,
                    a.span(),
                    format!(
                        "group `{name}`: admin `{}` is not a declared member of the group",
                        a.get_ref()
                    ),
                    Some(format!(
                        "add `{name}` to that person's groups, or remove them from admins"
                    )),
                );
            }
        }
    }
}

fn check_group(
    c: &mut Checker,
    g: &Entry<GroupSpec>,
    site_list: &[Site],
    seen: &mut HashMap<String, (usize, Range<usize>)>,
) {
    let name = g.spec.name.get_ref();
    if name.trim().is_empty() {
        c.error(
            g.file,
            g.spec.name.span(),
            "a group name cannot be empty".into(),
            None,
        );
        return;
    }
    if ProviderKind::Periscope.is_builtin_group(name) {
        c.error(
            g.file,
            g.spec.name.span(),
            format!("`{name}` is a built-in group and cannot be declared"),
            Some("built-in groups exist on every Periscope site; reference them in a user's groups without declaring them".into()),
        );
        return;
    }
    let mut keys = vec![(group_key(name), g.spec.name.span())];
    keys.extend(
        g.spec
            .previous_names
            .iter()
            .map(|p| (group_key(p.get_ref()), p.span())),
    );
    for (key, span) in keys {
        if let Some((file, first)) = seen.get(&key) {
            let first = c.location(*file, first);
            c.error(
                g.file,
                span,
                format!(
                    "group `{name}` is declared twice (names compare ignoring case and punctuation)"
                ),
                Some(format!("the same name is first used at {first}; keep one")),
            );
        } else {
            seen.insert(key, (g.file, span));
        }
    }
    let on = sites_of(&g.spec.sites, site_list);
    let periscope = on.iter().find(|s| s.provider == ProviderKind::Periscope);
    let sigma = on.iter().any(|s| s.provider == ProviderKind::Sigma);
    if let (Some(site), None) = (periscope, g.spec.access) {
        c.error(
            g.file,
            g.span.clone(),
            format!(
                "group `{name}`: missing field `access`, needed on Periscope site `{}`",
                site.name
            ),
            Some("add access = \"view\", \"discovery\" or \"sql\"".into()),
        );
    }
    if !sigma {
        for (field, span) in [
            (
                "description",
                g.spec.description.as_ref().map(Spanned::span),
            ),
            ("visibility", g.spec.visibility.as_ref().map(Spanned::span)),
        ] {
            if let Some(span) = span {
                c.error(
                    g.file,
                    span,
                    format!("group `{name}`: `{field}` applies to Sigma teams, and the group is on no Sigma site"),
                    Some("remove it, or put the group on a Sigma site".into()),
                );
            }
        }
    }
}

/// `kind`: "internal" or "guest"; roster never creates embed users.
fn check_kind(c: &mut Checker, u: &Entry<UserSpec>) {
    let Some(kind) = &u.spec.kind else { return };
    let hint = match kind.get_ref().trim() {
        "internal" | "guest" => return,
        "embed" => {
            "roster never creates or manages embed users: Sigma makes them when an embed is opened. Remove the person, or use kind = \"guest\" or \"internal\""
        }
        _ => "use kind = \"guest\" for a guest, or leave it out for an internal member",
    };
    c.error(
        u.file,
        kind.span(),
        format!(
            "`{}`: unknown kind `{}`",
            u.spec.email.get_ref().trim(),
            kind.get_ref()
        ),
        Some(hint.into()),
    );
}

fn check_user(
    c: &mut Checker,
    u: &Entry<UserSpec>,
    site_list: &[Site],
    groups: &GroupIndex,
    seen: &mut HashMap<String, (usize, Range<usize>)>,
) {
    check_kind(c, u);
    let email = u.spec.email.get_ref().trim();
    let mut addresses = vec![(email, u.spec.email.span(), true)];
    addresses.extend(
        u.spec
            .previous_emails
            .iter()
            .map(|e| (e.get_ref().trim(), e.span(), false)),
    );
    for (address, span, current) in addresses {
        // `e` + U+0301 and `é` are one address: checked in NFC, the form
        // the platforms compare in.
        let nfc: String = address.nfc().collect();
        if !is_valid_email(&nfc) {
            c.error(
                u.file,
                span,
                format!("`{address}` is not a valid email address"),
                Some("write the address the person signs in with, such as ada@example.com".into()),
            );
        } else if let Some((file, first)) = seen.get(&email_key(address)) {
            let first = c.location(*file, first);
            let what = if current {
                "is declared twice"
            } else {
                "is already used"
            };
            c.error(
                u.file,
                span,
                format!("`{address}` {what} (emails compare ignoring case and surrounding spaces, after Unicode NFC)"),
                Some(format!(
                    "the same address is first used at {first}; keep one"
                )),
            );
        } else {
            seen.insert(email_key(address), (u.file, span));
        }
    }

    let on = sites_of(&u.spec.sites, site_list);
    if let Some(site) = on
        .iter()
        .find(|s| s.provider == ProviderKind::Periscope && !email.is_ascii())
    {
        c.error(
            u.file,
            u.spec.email.span(),
            format!(
                "{email:?} cannot be used on Periscope site `{}`: its API names the user to update or delete in the HTTP-X-EMAIL header, which carries ASCII only",
                site.name
            ),
            Some("declare the ASCII address the person signs in with, or limit the user's sites to non-Periscope sites".into()),
        );
    }
    let has_sigma = on.iter().any(|s| s.provider == ProviderKind::Sigma);
    if let Some(m) = &u.spec.member_type {
        if m.get_ref().trim().is_empty() {
            c.error(u.file, m.span(), "member_type cannot be empty".into(), None);
        } else if !has_sigma {
            c.error(
                u.file,
                m.span(),
                "`member_type` applies to Sigma sites, and this user is on no Sigma site".into(),
                Some("remove it, or put the user on a Sigma site".into()),
            );
        }
    }
    if let Some(active) = u.spec.active.as_ref().filter(|a| !*a.get_ref()) {
        for site in on.iter().filter(|s| s.provider == ProviderKind::Periscope) {
            c.error(
                u.file,
                active.span(),
                format!(
                    "`active = false` on Periscope site `{}`, which has no deactivation",
                    site.name
                ),
                Some("remove the user to delete them there, or limit the user's sites".into()),
            );
        }
    }

    // Each site the user is on gets the base groups, or the site's override.
    let overrides = u.spec.overrides.clone().unwrap_or_default();
    for (site_name, o) in &overrides {
        let on_it = on.iter().any(|s| &s.name == site_name);
        // An override setting member_type is reported at member_type below.
        if !on_it && o.member_type.is_none() {
            c.error(
                u.file,
                u.spec.email.span(),
                format!("`{email}` has overrides for site `{site_name}`, which the user is not on"),
                Some("remove the override, or add the site to the user's sites".into()),
            );
        }
        if let Some(m) = &o.member_type {
            let site = on.iter().find(|s| &s.name == site_name);
            match site {
                None => c.error(
                    u.file,
                    m.span(),
                    format!(
                        "`{email}` has a `member_type` override for site `{site_name}`, which they are not on"
                    ),
                    Some(format!(
                        "add `{site_name}` to their `sites`, or drop the override"
                    )),
                ),
                Some(s) if s.provider != ProviderKind::Sigma => c.error(
                    u.file,
                    m.span(),
                    format!(
                        "`member_type` overrides apply to Sigma sites, and `{site_name}` is a {} site",
                        s.provider
                    ),
                    Some("remove member_type from the override".into()),
                ),
                Some(_) => {}
            }
        }
    }
    // Every group named anywhere must be declared, once reported...
    let named = u
        .spec
        .groups
        .iter()
        .chain(overrides.values().flat_map(|o| o.groups.iter().flatten()));
    for g in named {
        let name = g.get_ref();
        let known = groups.is_broken(name)
            || ProviderKind::Periscope.is_builtin_group(name)
            || groups.get(name).is_some();
        if !known {
            c.error(
                u.file,
                g.span(),
                format!("group `{name}` is not declared"),
                Some(format!(
                    "add a [[groups]] entry with name = \"{name}\", or fix the spelling"
                )),
            );
        }
    }
    // ...and be on each site the user has it on (the override, or the base).
    for site in &on {
        let list = overrides
            .get(&site.name)
            .and_then(|o| o.groups.as_ref())
            .unwrap_or(&u.spec.groups);
        for g in list {
            let name = g.get_ref();
            let declared = groups.get(name);
            let available = match declared {
                Some(d) => sites_of(&d.spec.sites, site_list)
                    .iter()
                    .any(|s| s.name == site.name),
                None => {
                    site.provider.is_builtin_group(name)
                        || !ProviderKind::Periscope.is_builtin_group(name)
                }
            };
            if !available {
                c.error(
                    u.file,
                    g.span(),
                    format!(
                        "group `{name}` is not declared for site `{}`, where this user is",
                        site.name
                    ),
                    Some(format!(
                        "add \"{}\" to the group's sites, or limit the user's sites",
                        site.name
                    )),
                );
            }
        }
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
            .find(|b| ProviderKind::Periscope.same_group(b, name))
            .copied()
            .unwrap_or(name)
            .to_string(),
    }
}

fn join_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "(none declared yet)".into()
    } else {
        names.join(", ")
    }
}

/// Whether a site name is safe to use in a file name: ASCII letters,
/// digits, `-`, `_` and `.`, not starting with `.` (so never `..`).
/// The longest site name: it becomes a file name (`imported/NAME.toml`)
/// and a CI job's name, both of which have limits.
pub const MAX_SITE_NAME: usize = 64;

pub fn is_safe_site_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_SITE_NAME
        && !name.starts_with('.')
        && name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.'))
}

pub fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email_address::EmailAddress::is_valid(email)
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
    if parsed.entries.sites.is_empty() && !parsed.files.is_empty() {
        c.error(0, 0..0, "no site is declared in the state".into(), None);
    }
    if c.diagnostics.is_empty() {
        Ok(sites)
    } else {
        Err(c.diagnostics)
    }
}
