//! The generic named checks of a loaded state (see [`super::validate::CHECKS`]):
//! each runs over every group or user and reports what it finds. What a
//! provider's sites need is asked of its capabilities; checks only one
//! provider has live in its folder (`provider/<name>/checks.rs`).

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use toml::Spanned;
use unicode_normalization::UnicodeNormalization;

use super::load::Entry;
use super::schema::{GroupRef, GroupSpec, UserSpec};
use super::validate::{Checker, Loaded, group_key, is_valid_email};
use crate::model::{ProviderKind, Site, email_key};
use crate::provider::Capabilities;

/// The products whose capabilities `has` a feature, for messages: `Sigma`.
fn products(has: impl Fn(&Capabilities) -> bool) -> String {
    with(has)
        .map(|c| c.product)
        .collect::<Vec<_>>()
        .join(" or ")
}

fn with(has: impl Fn(&Capabilities) -> bool) -> impl Iterator<Item = &'static Capabilities> {
    ProviderKind::ALL
        .iter()
        .map(|k| k.capabilities())
        .filter(move |c| has(c))
}

/// The provider whose built-in group `name` is, if any.
fn builtin_of(name: &str) -> Option<ProviderKind> {
    ProviderKind::ALL
        .iter()
        .copied()
        .find(|k| k.is_builtin_group(name))
}

/// A group's name is one roster may declare.
fn usable_name(g: &Entry<GroupSpec>) -> bool {
    let name = g.spec.name.get_ref();
    !name.trim().is_empty() && builtin_of(name).is_none()
}

/// A group's name is not empty, not a built-in's, and used once (with
/// its previous names).
pub(super) fn group_names(c: &mut Checker, l: &Loaded) {
    let mut seen: HashMap<String, (usize, Range<usize>)> = HashMap::new();
    for g in l.groups {
        let name = g.spec.name.get_ref();
        if name.trim().is_empty() {
            c.error(
                g.file,
                g.spec.name.span(),
                "a group name cannot be empty".into(),
                Some("write the group's name as the site shows it, or delete the entry".into()),
            );
        } else if let Some(p) = builtin_of(name) {
            c.error(
                g.file,
                g.spec.name.span(),
                format!("`{name}` is a built-in group and cannot be declared"),
                Some(format!("built-in groups exist on every {} site; reference them in a user's groups without declaring them", p.product_name())),
            );
        } else {
            previous_names_not_builtin(c, g);
            declared_once(c, g, &mut seen);
        }
    }
}

/// A built-in group is never renamed, so it cannot be a previous name (the
/// site would refuse the rename mid-apply).
fn previous_names_not_builtin(c: &mut Checker, g: &Entry<GroupSpec>) {
    let name = g.spec.name.get_ref();
    for previous in &g.spec.previous_names {
        let Some(p) = builtin_of(previous.get_ref()) else {
            continue;
        };
        c.error(
            g.file,
            previous.span(),
            format!(
                "group `{name}`: `{}` is a built-in group and cannot be a previous name",
                previous.get_ref()
            ),
            Some(format!(
                "built-in groups exist on every {} site and are never renamed; remove it from previous_names",
                p.product_name()
            )),
        );
    }
}

fn declared_once(
    c: &mut Checker,
    g: &Entry<GroupSpec>,
    seen: &mut HashMap<String, (usize, Range<usize>)>,
) {
    let name = g.spec.name.get_ref();
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
}

/// A group has the fields its sites' providers need (`access`), and only
/// fields one of them has (`description`, `visibility`).
pub(super) fn group_fields(c: &mut Checker, l: &Loaded) {
    for g in l.groups.iter().filter(|g| usable_name(g)) {
        let name = g.spec.name.get_ref();
        let on = l.sites_of(&g.spec.sites);
        let needs_access = on.iter().find(|s| s.capabilities().group_fields.access);
        if let (Some(site), None) = (needs_access, &g.spec.access) {
            c.error(
                g.file,
                g.span.clone(),
                format!(
                    "group `{name}`: missing field `access`, needed on {} site `{}`",
                    site.provider.product_name(),
                    site.name
                ),
                Some("add access = \"view\", \"discovery\" or \"sql\"".into()),
            );
        }
        type Has = fn(&Capabilities) -> bool;
        let fields: [(&str, Option<Range<usize>>, Has); 3] = [
            ("access", g.spec.access.as_ref().map(Spanned::span), |c| {
                c.group_fields.access
            }),
            (
                "description",
                g.spec.description.as_ref().map(Spanned::span),
                |c| c.group_fields.description,
            ),
            (
                "visibility",
                g.spec.visibility.as_ref().map(Spanned::span),
                |c| c.group_fields.visibility,
            ),
        ];
        for (field, span, has) in fields {
            let Some(span) = span else { continue };
            if on.iter().any(|s| has(s.capabilities())) || l.on_a_site_with_problems(&g.spec.sites)
            {
                continue;
            }
            let products = products(has);
            let noun = with(has).next().map_or("groups", |c| c.nouns.groups);
            c.error(
                g.file,
                span,
                format!("group `{name}`: `{field}` applies to {products} {noun}, and the group is on no {products} site"),
                Some(format!("remove it, or put the group on a {products} site")),
            );
        }
    }
}

/// The sites `refs` names are declared, and there is at least one.
fn site_refs(
    c: &mut Checker,
    l: &Loaded,
    entry: (usize, &Range<usize>, &dyn Fn() -> String),
    refs: &Option<Vec<Spanned<String>>>,
) {
    let (file, span, what) = entry;
    if refs.as_ref().is_some_and(Vec::is_empty) {
        let at = key_span(&c.files[file].text, span, "sites").unwrap_or_else(|| span.clone());
        c.error(
            file,
            at,
            format!("{}: `sites = []` puts it on no site, so every site would see it as undeclared", what()),
            Some("name a site, as in sites = [\"acme\"], leave `sites` out for every site, or delete the entry".into()),
        );
    }
    for r in refs.iter().flatten() {
        if !l.known_site(r.get_ref()) {
            c.error(
                file,
                r.span(),
                format!("site `{}` is not declared", r.get_ref()),
                Some(format!(
                    "declare it as [sites.{}] or use one of: {}",
                    r.get_ref(),
                    join_or_none(&l.declared_sites)
                )),
            );
        }
    }
}

fn join_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "(none declared yet)".into()
    } else {
        names.join(", ")
    }
}

/// The sites a group lists are declared.
pub(super) fn group_sites(c: &mut Checker, l: &Loaded) {
    for g in l.groups {
        let what = || format!("group `{}`", g.spec.name.get_ref());
        site_refs(c, l, (g.file, &g.span, &what), &g.spec.sites);
    }
}

/// The sites a user lists are declared.
pub(super) fn user_sites(c: &mut Checker, l: &Loaded) {
    for u in l.users {
        // Named only when there is something to say.
        let what = || format!("`{}`", u.spec.email.get_ref().trim());
        site_refs(c, l, (u.file, &u.span, &what), &u.spec.sites);
    }
}

/// Where `key = ` starts on a line of its own in the table whose header
/// is at `entry` of `text` (before the next table header).
fn key_span(text: &str, entry: &Range<usize>, key: &str) -> Option<Range<usize>> {
    let body = text.get(entry.start..)?;
    let mut offset = entry.start;
    for (i, line) in body.split_inclusive('\n').enumerate() {
        let indent = line.len() - line.trim_start().len();
        let rest = line.trim_start();
        if rest.starts_with('[') && i > 0 {
            return None;
        }
        if rest
            .strip_prefix(key)
            .is_some_and(|r| r.trim_start().starts_with('='))
        {
            let start = offset + indent;
            return Some(start..start + key.len());
        }
        offset += line.len();
    }
    None
}

/// A person's first and last names, and those of their overrides, are not
/// blank: the sites refuse a blank name.
pub(super) fn user_names(c: &mut Checker, l: &Loaded) {
    for u in l.users {
        let email = u.spec.email.get_ref().trim();
        let overrides = u.spec.overrides.iter().flatten();
        let names = [
            ("first_name", Some(&u.spec.first_name)),
            ("last_name", Some(&u.spec.last_name)),
        ]
        .into_iter()
        .chain(overrides.flat_map(|(_, o)| {
            [
                ("first_name", o.first_name.as_ref()),
                ("last_name", o.last_name.as_ref()),
            ]
        }));
        for (field, name) in names {
            let Some(name) = name.filter(|n| n.get_ref().trim().is_empty()) else {
                continue;
            };
            c.error(
                u.file,
                name.span(),
                format!("`{email}`: `{field}` cannot be blank"),
                Some(format!(
                    "write the person's {} as the site shows it",
                    field.replace('_', " ")
                )),
            );
        }
    }
}

/// `kind`: "internal" or "guest"; roster never creates embed users.
pub(super) fn user_kinds(c: &mut Checker, l: &Loaded) {
    for u in l.users {
        let Some(kind) = &u.spec.kind else { continue };
        let hint = match kind.get_ref().trim() {
            "internal" | "guest" => continue,
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
}

/// Every email, current or previous, is valid and used once: current and
/// previous emails share one namespace.
pub(super) fn user_emails(c: &mut Checker, l: &Loaded) {
    let mut seen: HashMap<String, (usize, Range<usize>)> = HashMap::new();
    for u in l.users {
        let email = u.spec.email.get_ref().trim();
        let mut addresses = vec![(email, u.spec.email.span(), true)];
        addresses.extend(
            u.spec
                .previous_emails
                .iter()
                .map(|e| (e.get_ref().trim(), e.span(), false)),
        );
        for (address, span, current) in addresses {
            email_once(c, u, (address, span, current), &mut seen);
        }
    }
}

fn email_once(
    c: &mut Checker,
    u: &Entry<UserSpec>,
    (address, span, current): (&str, Range<usize>, bool),
    seen: &mut HashMap<String, (usize, Range<usize>)>,
) {
    // `e` + U+0301 and `é` are one address: checked in NFC, the form the
    // platforms compare in (ASCII already is).
    let nfc: std::borrow::Cow<str> = if address.is_ascii() {
        address.into()
    } else {
        address.nfc().collect::<String>().into()
    };
    let key = email_key(address);
    if !is_valid_email(&nfc) {
        c.error(
            u.file,
            span,
            format!("`{address}` is not a valid email address"),
            Some("write the address the person signs in with, such as ada@example.com".into()),
        );
    } else if let Some((file, first)) = seen.get(&key) {
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
            Some(format!("the same address is first used at {first}; keep one")),
        );
    } else {
        seen.insert(key, (u.file, span));
    }
}

/// Each provider's own checks, in the registry's order.
pub(super) fn provider_checks(c: &mut Checker, l: &Loaded) {
    for kind in ProviderKind::ALL {
        for (_name, check) in kind.checks() {
            check(c, l);
        }
    }
}

/// `member_type` is not empty, and the user is on a site with account types.
pub(super) fn user_member_types(c: &mut Checker, l: &Loaded) {
    for u in l.users {
        let Some(m) = &u.spec.member_type else {
            continue;
        };
        let typed = l.on_a_site_with_problems(&u.spec.sites)
            || l.sites_of(&u.spec.sites)
                .iter()
                .any(|s| s.capabilities().has_account_types());
        if m.get_ref().trim().is_empty() {
            c.error(u.file, m.span(), "member_type cannot be empty".into(), None);
        } else if !typed {
            let products = products(Capabilities::has_account_types);
            c.error(
                u.file,
                m.span(),
                format!("`member_type` applies to {products} sites, and this user is on no {products} site"),
                Some(format!("remove it, or put the user on a {products} site")),
            );
        }
    }
}

/// `active = false` only on sites that deactivate people.
pub(super) fn user_active(c: &mut Checker, l: &Loaded) {
    for u in l.users {
        let Some(active) = u.spec.active.as_ref().filter(|a| !*a.get_ref()) else {
            continue;
        };
        let on = l.sites_of(&u.spec.sites);
        for site in on.iter().filter(|s| !s.capabilities().can_deactivate()) {
            c.error(
                u.file,
                active.span(),
                format!(
                    "`active = false` on {} site `{}`, which has no deactivation",
                    site.provider.product_name(),
                    site.name
                ),
                Some("remove the user to delete them there, or limit the user's sites".into()),
            );
        }
    }
}

/// Overrides are for sites the user is on, and set `member_type` only
/// where there are account types.
pub(super) fn user_overrides(c: &mut Checker, l: &Loaded) {
    for u in l.users {
        let on = l.sites_of(&u.spec.sites);
        let email = u.spec.email.get_ref().trim();
        for (site_name, o) in u.spec.overrides.iter().flatten() {
            let site = on.iter().find(|s| &s.name == site_name);
            // An override setting member_type is reported at member_type.
            let unknown = l.on_a_site_with_problems(&u.spec.sites);
            if site.is_none() && o.member_type.is_none() && !unknown {
                c.error(
                    u.file,
                    u.spec.email.span(),
                    format!(
                        "`{email}` has overrides for site `{site_name}`, which the user is not on"
                    ),
                    Some("remove the override, or add the site to the user's sites".into()),
                );
            }
            if let Some(m) = o
                .member_type
                .as_ref()
                .filter(|_| site.is_some() || !unknown)
            {
                override_member_type(c, u.file, m.span(), (email, site_name), site.copied());
            }
        }
    }
}

fn override_member_type(
    c: &mut Checker,
    file: usize,
    span: Range<usize>,
    (email, site_name): (&str, &str),
    site: Option<&Site>,
) {
    match site {
        None => c.error(
            file,
            span,
            format!(
                "`{email}` has a `member_type` override for site `{site_name}`, which they are not on"
            ),
            Some(format!(
                "add `{site_name}` to their `sites`, or drop the override"
            )),
        ),
        Some(s) if !s.capabilities().has_account_types() => c.error(
            file,
            span,
            format!(
                "`member_type` overrides apply to {} sites, and `{site_name}` is a {} site",
                products(Capabilities::has_account_types),
                s.provider
            ),
            Some("remove member_type from the override".into()),
        ),
        Some(_) => {}
    }
}

/// Every group a user names anywhere is declared (or a built-in, or one
/// whose entry has problems, reported there).
pub(super) fn user_groups_declared(c: &mut Checker, l: &Loaded) {
    for u in l.users {
        let overrides = u.spec.overrides.iter().flat_map(|o| o.values());
        let named = u
            .spec
            .groups
            .iter()
            .chain(overrides.flat_map(|o| o.groups.iter().flatten()));
        for g in named {
            let name = g.get_ref();
            let known = l.group_index.is_broken(name)
                || builtin_of(name).is_some()
                || l.group_index.get(name).is_some();
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
    }
}

/// A user names each group once in `groups` (and in each override's):
/// two entries for one group, in two spellings or with a date, leave its
/// name and expiry to chance. An exact repeat of a plain name is harmless
/// (`roster fmt` removes it).
pub(super) fn user_groups_once(c: &mut Checker, l: &Loaded) {
    for u in l.users {
        let overrides = u.spec.overrides.iter().flat_map(|o| o.values());
        let lists =
            std::iter::once(&u.spec.groups).chain(overrides.filter_map(|o| o.groups.as_ref()));
        for list in lists {
            let mut seen: HashMap<String, &GroupRef> = HashMap::new();
            for g in list {
                let key = group_key(g.get_ref());
                match seen.get(&key) {
                    Some(first)
                        if first.get_ref() == g.get_ref()
                            && first.expires.is_none()
                            && g.expires.is_none() => {}
                    Some(first) => {
                        let first = c.location(u.file, &first.span());
                        c.error(
                            u.file,
                            g.span(),
                            format!(
                                "group `{}` is listed twice in this person's groups (names compare ignoring case and punctuation)",
                                g.get_ref()
                            ),
                            Some(format!(
                                "the same group is first listed at {first}; keep one entry (with the `expires` it should have)"
                            )),
                        );
                    }
                    None => {
                        seen.insert(key, g);
                    }
                }
            }
        }
    }
}

/// Each group a user has on a site (the override's, or the base ones) is
/// on that site.
pub(super) fn user_groups_on_sites(c: &mut Checker, l: &Loaded) {
    for u in l.users {
        for site in l.sites_of(&u.spec.sites) {
            let list = u
                .spec
                .overrides
                .as_ref()
                .and_then(|o| o.get(&site.name))
                .and_then(|o| o.groups.as_ref())
                .unwrap_or(&u.spec.groups);
            for g in list {
                if !group_on_site(l, g.get_ref(), site) {
                    c.error(
                        u.file,
                        g.span(),
                        format!(
                            "group `{}` is not declared for site `{}`, where this user is",
                            g.get_ref(),
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
}

/// Whether group `name` exists on `site`: declared for it, one of its
/// built-ins, or not declared at all (reported elsewhere).
fn group_on_site(l: &Loaded, name: &str, site: &Site) -> bool {
    match l.group_index.get(name) {
        Some(d) => l
            .sites_of(&d.spec.sites)
            .iter()
            .any(|s| s.name == site.name),
        None => site.provider.is_builtin_group(name) || builtin_of(name).is_none(),
    }
}

/// `admins` on a group: only where groups have admins, and each admin a
/// declared member of the group.
pub(super) fn group_admins(c: &mut Checker, l: &Loaded) {
    // Who is in which group, gathered once a group names admins.
    let mut members = None;
    for g in l.groups {
        let Some(admins) = &g.spec.admins else {
            continue;
        };
        let name = g.spec.name.get_ref();
        if l.on_a_site_with_problems(&g.spec.sites) {
            continue;
        }
        let has_admins = l
            .sites_of(&g.spec.sites)
            .iter()
            .any(|s| s.capabilities().people.group_admins);
        if !has_admins {
            let products = products(|c| c.people.group_admins);
            let span = admins.first().map_or(g.spec.name.span(), Spanned::span);
            c.error(
                g.file,
                span,
                format!("group `{name}`: admins are {products} team admins, and the group is on no {products} site"),
                Some(format!("remove `admins`, or put the group on a {products} site with `sites`")),
            );
            continue;
        }
        for a in admins {
            let key = email_key(a.get_ref());
            let members = members.get_or_insert_with(|| memberships(l.users));
            if !l.broken_users.contains(&key) && !members.contains(&(key, group_key(name))) {
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

/// Every (email key, group key) a user declares, on any site.
fn memberships(users: &[Entry<UserSpec>]) -> HashSet<(String, String)> {
    let mut members = HashSet::new();
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
    members
}
