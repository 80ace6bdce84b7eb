//! Cross-file checks, and the step from what was parsed to the model. Every
//! problem is collected; nothing stops at the first one.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use toml::Spanned;
use unicode_normalization::UnicodeNormalization;

use super::diagnostic::{Diagnostic, SourceFile};
use super::load::{Entries, Entry, Parsed};
use super::schema::{GroupSpec, SecretRef, SiteSpec, UserSpec};
use crate::model::{
    DesiredGroup, DesiredSite, DesiredState, DesiredUser, Handover, ProviderKind, SecretSource,
    Site, SiteConfig, UserKind, email_key,
};
use crate::provider::sigma::regions;

pub const PERISCOPE_DEFAULT_URL: &str = "https://app.periscopedata.com";

struct Checker<'a> {
    files: &'a [SourceFile],
    diagnostics: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn error(&mut self, file: usize, span: Range<usize>, message: String, hint: Option<String>) {
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

fn check_site(c: &mut Checker, name: &str, entry: &Entry<SiteSpec>) -> Option<Site> {
    let spec = &entry.spec;
    let file = entry.file;
    let provider = match spec.provider.get_ref().as_str() {
        "periscope" => ProviderKind::Periscope,
        "sigma" => ProviderKind::Sigma,
        other => {
            c.error(
                file,
                spec.provider.span(),
                format!("site `{name}`: unknown provider `{other}`"),
                Some("use provider = \"periscope\" or provider = \"sigma\"".into()),
            );
            return None;
        }
    };
    let before = c.diagnostics.len();

    // Fields of the other provider.
    type Located<'a> = Vec<(&'a str, Option<Range<usize>>)>;
    let (theirs, other): (Located, &str) = match provider {
        ProviderKind::Periscope => (
            vec![
                ("cloud", spec.cloud.as_ref().map(Spanned::span)),
                ("client_id", spec.client_id.as_ref().map(Spanned::span)),
                (
                    "client_secret",
                    spec.client_secret.as_ref().map(Spanned::span),
                ),
                ("new_owner", spec.new_owner.as_ref().map(Spanned::span)),
                (
                    "archive_documents",
                    spec.archive_documents.as_ref().map(Spanned::span),
                ),
                (
                    "provisioning",
                    spec.provisioning.as_ref().map(Spanned::span),
                ),
                (
                    "unmanaged_guests",
                    spec.unmanaged_guests.as_ref().map(Spanned::span),
                ),
                (
                    "send_invites",
                    spec.send_invites.as_ref().map(Spanned::span),
                ),
                (
                    "archive_scheduled_exports",
                    spec.archive_scheduled_exports.as_ref().map(Spanned::span),
                ),
            ],
            "sigma",
        ),
        ProviderKind::Sigma => (
            vec![
                ("site", spec.site.as_ref().map(Spanned::span)),
                ("api_key", spec.api_key.as_ref().map(Spanned::span)),
                ("invited_by", spec.invited_by.as_ref().map(Spanned::span)),
            ],
            "periscope",
        ),
    };
    for (field, span) in theirs {
        if let Some(span) = span {
            c.error(
                file,
                span,
                format!(
                    "site `{name}`: `{field}` is a setting of {other} sites, not {provider} ones"
                ),
                Some(format!("remove `{field}`")),
            );
        }
    }

    let config = match provider {
        ProviderKind::Periscope => {
            let slug = required_text(
                c,
                entry,
                name,
                &spec.site,
                "site",
                "\"the-slug-in-your-dashboard-urls\"",
            );
            let api_key_from = secret_env(c, entry, name, &spec.api_key, "api_key", "API_KEY");
            let invited_by = match &spec.invited_by {
                Some(e) if is_valid_email(e.get_ref().trim()) => e.get_ref().trim().to_string(),
                Some(e) => {
                    c.error(
                        file,
                        e.span(),
                        format!(
                            "site `{name}`: invited_by `{}` is not a valid email address",
                            e.get_ref()
                        ),
                        Some("use the email of an administrator of the site".into()),
                    );
                    String::new()
                }
                None => {
                    missing(c, entry, name, "invited_by", "\"admin@example.com\"");
                    String::new()
                }
            };
            SiteConfig::Periscope {
                slug,
                api_key_from,
                invited_by,
            }
        }
        ProviderKind::Sigma => {
            let client_id_from =
                secret_env(c, entry, name, &spec.client_id, "client_id", "CLIENT_ID");
            let client_secret_from = secret_env(
                c,
                entry,
                name,
                &spec.client_secret,
                "client_secret",
                "CLIENT_SECRET",
            );
            let archive = spec
                .archive_documents
                .as_ref()
                .is_some_and(|a| *a.get_ref());
            let handover = match (&spec.new_owner, archive) {
                (Some(owner), true) => {
                    c.error(
                        file,
                        owner.span(),
                        format!("site `{name}`: new_owner and archive_documents = true cannot both be set"),
                        Some("keep one: documents either go to new_owner or are archived".into()),
                    );
                    Handover::Archive
                }
                (Some(owner), false) if !is_valid_email(owner.get_ref().trim()) => {
                    c.error(
                        file,
                        owner.span(),
                        format!(
                            "site `{name}`: new_owner `{}` is not a valid email address",
                            owner.get_ref()
                        ),
                        Some(
                            "use the email of an active member who should receive the documents"
                                .into(),
                        ),
                    );
                    Handover::CredentialsOwner
                }
                (Some(owner), false) => Handover::NewOwner(owner.get_ref().trim().to_string()),
                (None, true) => Handover::Archive,
                (None, false) => Handover::CredentialsOwner,
            };
            SiteConfig::Sigma {
                client_id_from,
                client_secret_from,
                handover,
                org: sigma_org_policy(c, file, name, spec),
            }
        }
    };

    let base_url = match (provider, &spec.base_url, &spec.cloud) {
        (ProviderKind::Periscope, Some(raw), _) | (ProviderKind::Sigma, Some(raw), None) => {
            match check_base_url(raw.get_ref()) {
                Ok(url) => Some(url),
                Err(why) => {
                    let span = pointed_at(&c.files[file].text, raw.span(), why.marker());
                    c.error(
                        file,
                        span,
                        format!("site `{name}`: base_url {why}"),
                        why.hint(),
                    );
                    None
                }
            }
        }
        (ProviderKind::Periscope, None, _) => {
            Some(url::Url::parse(PERISCOPE_DEFAULT_URL).expect("the default URL is valid"))
        }
        (ProviderKind::Sigma, None, Some(cloud)) => match regions::base_url(cloud.get_ref()) {
            Some(url) => Some(url::Url::parse(url).expect("region URLs are valid")),
            None => {
                c.error(
                    file,
                    cloud.span(),
                    format!("site `{name}`: unknown cloud `{}`", cloud.get_ref()),
                    Some(format!(
                        "use one of: {}; or set base_url instead",
                        regions::names()
                    )),
                );
                None
            }
        },
        (ProviderKind::Sigma, Some(raw), Some(_)) => {
            c.error(
                file,
                raw.span(),
                format!("site `{name}`: set either cloud or base_url, not both"),
                Some("keep cloud for a Sigma region, or base_url for any other host".into()),
            );
            None
        }
        (ProviderKind::Sigma, None, None) => {
            missing(
                c,
                entry,
                name,
                "cloud",
                "\"aws-us-west\" (or base_url = \"https://...\")",
            );
            None
        }
    };

    let mut protected = Vec::new();
    for e in spec.protected.iter().flatten() {
        if is_valid_email(e.get_ref().trim()) {
            protected.push(e.get_ref().trim().to_string());
        } else {
            c.error(
                file,
                e.span(),
                format!(
                    "site `{name}`: protected `{}` is not a valid email address",
                    e.get_ref()
                ),
                Some("list the emails of people who must never be removed or demoted".into()),
            );
        }
    }
    let safety = crate::model::Safety {
        protected,
        min_admins: spec.min_admins.map_or(1, |n| n as usize),
        allow: crate::model::Allowances {
            removals: spec.allow_removals.map(|n| n as usize),
            group_deletions: spec.allow_group_deletions.map(|n| n as usize),
            membership_removals: spec.allow_membership_removals.map(|n| n as usize),
            admin_changes: spec.allow_admin_changes.map(|n| n as usize),
        },
    };

    let max_requests_per_second = spec.max_requests_per_second.filter(|r| *r > 0.0);
    if spec.max_requests_per_second.is_some() && max_requests_per_second.is_none() {
        c.error(
            file,
            entry.span.clone(),
            format!("site `{name}`: max_requests_per_second must be more than 0"),
            Some("leave it out for no budget".into()),
        );
    }

    let patience_seconds = check_patience(c, file, entry, name);

    if c.diagnostics.len() > before {
        return None;
    }
    Some(Site {
        safety,
        max_requests_per_second,
        patience_seconds,
        name: name.to_string(),
        provider,
        base_url: base_url?,
        unmanaged_users: spec.unmanaged_users,
        unmanaged_groups: spec.unmanaged_groups,
        config,
    })
}

/// The longest `patience_seconds` accepted: an hour.
const PATIENCE_LIMIT: i64 = 3600;

/// `patience_seconds`: a whole number of seconds from 2 (one wait after an
/// edge's 429) to an hour; 60 when absent.
fn check_patience(c: &mut Checker, file: usize, entry: &Entry<SiteSpec>, name: &str) -> u64 {
    let default = crate::provider::retry::DEFAULT_PATIENCE.as_secs();
    let Some(value) = &entry.spec.patience_seconds else {
        return default;
    };
    let floor = crate::provider::retry::THROTTLE_FLOOR.as_secs() as i64;
    let n = *value.get_ref();
    if (floor..=PATIENCE_LIMIT).contains(&n) {
        return n as u64;
    }
    c.error(
        file,
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

/// A Sigma site's organisation settings.
fn sigma_org_policy(
    c: &mut Checker,
    file: usize,
    name: &str,
    spec: &SiteSpec,
) -> crate::model::SigmaOrgPolicy {
    let scim = match &spec.provisioning {
        None => false,
        Some(p) => match p.get_ref().trim() {
            "scim" => true,
            "api" => false,
            other => {
                c.error(
                    file,
                    p.span(),
                    format!("site `{name}`: unknown provisioning `{other}`"),
                    Some("use provisioning = \"scim\" when SCIM provisions the members, or leave it out".into()),
                );
                false
            }
        },
    };
    let flag =
        |f: &Option<Spanned<bool>>, default: bool| f.as_ref().map_or(default, |v| *v.get_ref());
    crate::model::SigmaOrgPolicy {
        scim,
        unmanaged_guests: spec
            .unmanaged_guests
            .as_ref()
            .map_or(crate::model::Unmanaged::Keep, |u| *u.get_ref()),
        send_invites: flag(&spec.send_invites, true),
        archive_scheduled_exports: flag(&spec.archive_scheduled_exports, false),
    }
}

fn missing(c: &mut Checker, entry: &Entry<SiteSpec>, name: &str, field: &str, example: &str) {
    c.error(
        entry.file,
        entry.span.clone(),
        format!("site `{name}`: missing field `{field}`"),
        Some(format!("add {field} = {example}")),
    );
}

fn required_text(
    c: &mut Checker,
    entry: &Entry<SiteSpec>,
    name: &str,
    value: &Option<Spanned<String>>,
    field: &str,
    example: &str,
) -> String {
    match value {
        Some(s) if !s.get_ref().trim().is_empty() => s.get_ref().trim().to_string(),
        Some(s) => {
            c.error(
                entry.file,
                s.span(),
                format!("site `{name}`: `{field}` cannot be empty"),
                None,
            );
            String::new()
        }
        None => {
            missing(c, entry, name, field, example);
            String::new()
        }
    }
}

/// Where a secret is read from; an inline value is an error that never
/// echoes the value.
fn secret_env(
    c: &mut Checker,
    entry: &Entry<SiteSpec>,
    name: &str,
    value: &Option<Spanned<SecretRef>>,
    field: &str,
    suffix: &str,
) -> SecretSource {
    let suggestion = default_env_name(name, suffix);
    match value {
        Some(s) => match s.get_ref() {
            SecretRef::Env(var) => SecretSource::Env(var.trim().to_string()),
            SecretRef::Command(cmd) => SecretSource::Command(cmd.clone()),
            SecretRef::Inline => {
                c.error(
                    entry.file,
                    s.span(),
                    format!("site `{name}`: the {field} is written inline; secrets never live in state files"),
                    Some(format!(
                        "remove it from the file (and rotate it if it was committed), then write {field} = {{ env = \"{suggestion}\" }}"
                    )),
                );
                SecretSource::Env(String::new())
            }
        },
        None => {
            missing(
                c,
                entry,
                name,
                field,
                &format!("{{ env = \"{suggestion}\" }}"),
            );
            SecretSource::Env(String::new())
        }
    }
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
