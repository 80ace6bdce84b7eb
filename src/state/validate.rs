//! Cross-file checks, and the step from what was parsed to the model. Every
//! problem is collected; nothing stops at the first one.

use std::collections::HashMap;
use std::ops::Range;

use super::diagnostic::{Diagnostic, SourceFile};
use super::load::{Entry, Parsed};
use super::schema::{SecretRef, SiteSpec};
use crate::model::{
    DesiredGroup, DesiredSite, DesiredState, DesiredUser, ProviderKind, Site, email_key,
};

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

/// Checks what was parsed and builds the desired state, or returns every
/// problem found.
pub fn build(parsed: Parsed) -> Result<DesiredState, Vec<Diagnostic>> {
    let Parsed {
        files,
        sites,
        users,
        groups,
        broken_sites,
        broken_groups,
        diagnostics,
    } = parsed;
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
    let declared_sites: Vec<String> = sites.iter().map(|(n, _)| n.get_ref().clone()).collect();
    let known_site = |name: &str| {
        declared_sites
            .iter()
            .chain(&broken_sites)
            .any(|s| s == name)
    };

    let check_site_refs =
        |c: &mut Checker, file: usize, refs: &Option<Vec<toml::Spanned<String>>>| {
            for r in refs.iter().flatten() {
                if !known_site(r.get_ref()) {
                    c.error(
                        file,
                        r.span(),
                        format!("site `{}` is not declared", r.get_ref()),
                        Some(format!(
                            "declare it as [sites.{}] or use one of: {}",
                            r.get_ref(),
                            join_or_none(&declared_sites)
                        )),
                    );
                }
            }
        };

    // Groups. Names are compared the strictest way any provider does.
    let group_key = |name: &str| ProviderKind::Periscope.group_key(name);
    let mut group_seen: HashMap<String, (usize, Range<usize>)> = HashMap::new();
    for g in &groups {
        let name = g.spec.name.get_ref();
        check_site_refs(&mut c, g.file, &g.spec.sites);
        if name.trim().is_empty() {
            c.error(
                g.file,
                g.spec.name.span(),
                "a group name cannot be empty".into(),
                None,
            );
            continue;
        }
        if ProviderKind::Periscope.is_builtin_group(name) {
            c.error(
                g.file,
                g.spec.name.span(),
                format!("`{name}` is a built-in group and cannot be declared"),
                Some("built-in groups exist on every site; reference them in a user's groups without declaring them".into()),
            );
            continue;
        }
        let mut keys = vec![(group_key(name), g.spec.name.span())];
        keys.extend(
            g.spec
                .previous_names
                .iter()
                .map(|p| (group_key(p.get_ref()), p.span())),
        );
        for (key, span) in keys {
            if let Some((file, first)) = group_seen.get(&key) {
                let first = c.location(*file, first);
                c.error(
                    g.file,
                    span,
                    format!("group `{name}` is declared twice (names compare ignoring case and punctuation)"),
                    Some(format!("the same name is first used at {first}; keep one")),
                );
            } else {
                group_seen.insert(key, (g.file, span));
            }
        }
    }

    // Users.
    let mut user_seen: HashMap<String, (usize, Range<usize>)> = HashMap::new();
    for u in &users {
        let email = u.spec.email.get_ref().trim();
        check_site_refs(&mut c, u.file, &u.spec.sites);
        if !is_valid_email(email) {
            c.error(
                u.file,
                u.spec.email.span(),
                format!("`{email}` is not a valid email address"),
                Some("write the address the person signs in with, such as ada@example.com".into()),
            );
        } else if let Some((file, first)) = user_seen.get(&email_key(email)) {
            let first = c.location(*file, first);
            c.error(
                u.file,
                u.spec.email.span(),
                format!("`{email}` is declared twice (emails compare ignoring case and surrounding spaces)"),
                Some(format!("the same person is first declared at {first}; keep one")),
            );
        } else {
            user_seen.insert(email_key(email), (u.file, u.spec.email.span()));
        }
        for g in &u.spec.groups {
            let name = g.get_ref();
            let declared = groups
                .iter()
                .find(|d| group_key(d.spec.name.get_ref()) == group_key(name));
            match declared {
                None if ProviderKind::Periscope.is_builtin_group(name) => {}
                None if broken_groups
                    .iter()
                    .any(|b| group_key(b) == group_key(name)) => {}
                None => c.error(
                    u.file,
                    g.span(),
                    format!("group `{name}` is not declared"),
                    Some(format!(
                        "add a [[groups]] entry with name = \"{name}\", or fix the spelling"
                    )),
                ),
                Some(d) => {
                    // The group must exist on every site the user is on.
                    let user_sites = sites_of(&u.spec.sites, &declared_sites);
                    let group_sites = sites_of(&d.spec.sites, &declared_sites);
                    for s in user_sites.iter().filter(|s| !group_sites.contains(s)) {
                        c.error(
                            u.file,
                            g.span(),
                            format!(
                                "group `{name}` is not declared for site `{s}`, where this user is"
                            ),
                            Some(format!(
                                "add \"{s}\" to the group's sites, or limit the user's sites"
                            )),
                        );
                    }
                }
            }
        }
    }

    if !c.diagnostics.is_empty() {
        let mut all = c.diagnostics;
        all.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        return Err(all);
    }

    let desired_sites = site_list
        .into_iter()
        .map(|site| {
            let on_site = |refs: &Option<Vec<toml::Spanned<String>>>| {
                sites_of(refs, &declared_sites).contains(&site.name)
            };
            DesiredSite {
                users: users
                    .iter()
                    .filter(|u| on_site(&u.spec.sites))
                    .map(|u| DesiredUser {
                        email: u.spec.email.get_ref().trim().to_string(),
                        first_name: u.spec.first_name.clone(),
                        last_name: u.spec.last_name.clone(),
                        groups: u
                            .spec
                            .groups
                            .iter()
                            .map(|g| canonical_group(g.get_ref(), &groups))
                            .collect(),
                    })
                    .collect(),
                groups: groups
                    .iter()
                    .filter(|g| on_site(&g.spec.sites))
                    .map(|g| DesiredGroup {
                        name: g.spec.name.get_ref().clone(),
                        access: g.spec.access,
                        previous_names: g
                            .spec
                            .previous_names
                            .iter()
                            .map(|p| p.get_ref().clone())
                            .collect(),
                    })
                    .collect(),
                site,
            }
        })
        .collect();
    Ok(DesiredState {
        sites: desired_sites,
    })
}

/// A user may write a group's name in any case; the plan uses the declared
/// spelling (or the built-in's).
fn canonical_group(name: &str, groups: &[Entry<crate::state::schema::GroupSpec>]) -> String {
    let p = ProviderKind::Periscope;
    groups
        .iter()
        .map(|g| g.spec.name.get_ref().as_str())
        .chain(p.builtin_groups().iter().copied())
        .find(|g| p.group_key(g) == p.group_key(name))
        .unwrap_or(name)
        .to_string()
}

fn sites_of(refs: &Option<Vec<toml::Spanned<String>>>, declared: &[String]) -> Vec<String> {
    match refs {
        Some(list) => list.iter().map(|s| s.get_ref().clone()).collect(),
        None => declared.to_vec(),
    }
}

fn join_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "(none declared yet)".into()
    } else {
        names.join(", ")
    }
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
        other => {
            c.error(
                file,
                spec.provider.span(),
                format!("site `{name}`: unknown provider `{other}`"),
                Some("use provider = \"periscope\"".into()),
            );
            return None;
        }
    };
    let before = c.diagnostics.len();
    let missing = |c: &mut Checker, field: &str, example: &str| {
        c.error(
            file,
            entry.span.clone(),
            format!("site `{name}`: missing field `{field}`"),
            Some(format!("add {field} = {example}")),
        );
    };

    let slug = match &spec.site {
        Some(s) if !s.get_ref().trim().is_empty() => s.get_ref().trim().to_string(),
        Some(s) => {
            c.error(
                file,
                s.span(),
                format!("site `{name}`: `site` cannot be empty"),
                None,
            );
            String::new()
        }
        None => {
            missing(c, "site", "\"the-slug-in-your-dashboard-urls\"");
            String::new()
        }
    };

    let api_key_env = match &spec.api_key {
        Some(s) => match s.get_ref() {
            SecretRef::Env(var) => var.clone(),
            SecretRef::Inline => {
                c.error(
                    file,
                    s.span(),
                    format!("site `{name}`: the API key is written inline; secrets never live in state files"),
                    Some(format!(
                        "remove the key from the file (and rotate it if it was committed), then write api_key = {{ env = \"{}\" }}",
                        default_env_name(name)
                    )),
                );
                String::new()
            }
        },
        None => {
            missing(
                c,
                "api_key",
                &format!("{{ env = \"{}\" }}", default_env_name(name)),
            );
            String::new()
        }
    };

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
            missing(c, "invited_by", "\"admin@example.com\"");
            String::new()
        }
    };

    let base_url = match &spec.base_url {
        None => Some(url::Url::parse(PERISCOPE_DEFAULT_URL).expect("the default URL is valid")),
        Some(raw) => match check_base_url(raw.get_ref()) {
            Ok(url) => Some(url),
            Err(why) => {
                c.error(
                    file,
                    raw.span(),
                    format!("site `{name}`: base_url {why}"),
                    Some(format!("leave it out to use {PERISCOPE_DEFAULT_URL}")),
                );
                None
            }
        },
    };

    if c.diagnostics.len() > before {
        return None;
    }
    Some(Site {
        name: name.to_string(),
        provider,
        slug,
        base_url: base_url?,
        api_key_env,
        invited_by,
        unmanaged_users: spec.unmanaged_users,
        unmanaged_groups: spec.unmanaged_groups,
    })
}

/// `https://` anywhere; plain `http://` only to this machine.
pub fn check_base_url(raw: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(raw.trim()).map_err(|e| format!("`{raw}` is not a URL: {e}"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(format!(
            "`{raw}` uses plain http://, which is only allowed for loopback addresses; use https://"
        )),
        other => Err(format!("`{raw}` has scheme `{other}`; use https://")),
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `acme-eu` → `ACME_EU_API_KEY`, for hints.
pub fn default_env_name(site: &str) -> String {
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
    format!("{upper}_API_KEY")
}
