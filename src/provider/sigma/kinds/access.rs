//! `[[workspaces]]` and `[[connections]]` (Sigma access): their TOML
//! schema, their checks (every team, person and permission a grant names,
//! and the Sigma sites they go to), and the declared model they become.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

use super::Entries;
use crate::model::access::{AccessKind, DesiredAccess, DesiredAccessObject, DesiredGrant, Grantee};
use crate::model::{ProviderKind, Site, SiteConfig, Unmanaged, email_key};
use crate::provider::kinds::{WrittenDate, WrittenName};
use crate::state::{Checker, Entry, Fields, GrantValue, Loaded, check_date, plain_date};

/// `grants.teams` and `grants.people`: a permission per team name or email,
/// or `{ permission = "edit", expires = 2026-12-31 }` for a grant that ends.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GrantsSpec {
    /// Team name = permission.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, GrantValue>")]
    pub teams: BTreeMap<Spanned<String>, GrantValue>,
    /// Person's email = permission.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, GrantValue>")]
    pub people: BTreeMap<Spanned<String>, GrantValue>,
}

/// `[[workspaces]]`: a Sigma workspace and who may do what in it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorkspaceSpec {
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// Earlier names: a live workspace found by one is renamed.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub previous_names: Vec<Spanned<String>>,
    /// Permissions: view | explore | organize | edit.
    #[serde(default)]
    pub grants: GrantsSpec,
    /// The Sigma sites the workspace is on; default: every Sigma site.
    #[schemars(with = "Option<Vec<String>>")]
    pub sites: Option<Vec<Spanned<String>>>,
}

/// `[[connections]]`: an existing Sigma connection's grants (roster never
/// creates connections: they hold credentials).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConnectionSpec {
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// Permissions: usage | annotate.
    #[serde(default)]
    pub grants: GrantsSpec,
    /// The Sigma sites the connection is on; default: every Sigma site.
    #[schemars(with = "Option<Vec<String>>")]
    pub sites: Option<Vec<Spanned<String>>>,
}

impl Fields for WorkspaceSpec {
    const FIELDS: &'static [&'static str] = &["name", "previous_names", "grants", "sites"];
}

impl Fields for ConnectionSpec {
    const FIELDS: &'static [&'static str] = &["name", "grants", "sites"];
}

/// A workspace or connection entry, seen the same way by the checks.
struct Declared<'a> {
    kind: AccessKind,
    file: usize,
    span: Range<usize>,
    name: &'a Spanned<String>,
    previous: &'a [Spanned<String>],
    grants: &'a GrantsSpec,
    sites: &'a Option<Vec<Spanned<String>>>,
}

fn declared(e: &Entries) -> impl Iterator<Item = Declared<'_>> {
    let w = e
        .workspaces
        .iter()
        .map(|e: &Entry<WorkspaceSpec>| Declared {
            kind: AccessKind::Workspace,
            file: e.file,
            span: e.span.clone(),
            name: &e.spec.name,
            previous: &e.spec.previous_names,
            grants: &e.spec.grants,
            sites: &e.spec.sites,
        });
    let c = e
        .connections
        .iter()
        .map(|e: &Entry<ConnectionSpec>| Declared {
            kind: AccessKind::Connection,
            file: e.file,
            span: e.span.clone(),
            name: &e.spec.name,
            previous: &[],
            grants: &e.spec.grants,
            sites: &e.spec.sites,
        });
    w.chain(c)
}

fn name_key(name: &str) -> String {
    ProviderKind::Sigma.group_key(name)
}

/// Whether a site takes workspaces and connections (Sigma).
fn has_access(site: &Site) -> bool {
    site.capabilities().attrs.workspaces
}

/// The Sigma sites an entry goes to: the ones it lists, or every Sigma site.
fn access_sites<'a>(l: &'a Loaded, sites: &Option<Vec<Spanned<String>>>) -> Vec<&'a Site> {
    l.sites_of(sites)
        .into_iter()
        .filter(|s| has_access(s))
        .collect()
}

/// Names are not empty and used once per kind (with previous names); the
/// sites listed are declared Sigma sites, and there is at least one.
pub(super) fn access_names_and_sites(c: &mut Checker, l: &Loaded) {
    let mut seen: HashMap<(AccessKind, String), String> = HashMap::new();
    for d in declared(&l.kinds.sigma) {
        let kind = d.kind.as_str();
        for n in std::iter::once(d.name).chain(d.previous) {
            let name = n.get_ref();
            if name.trim().is_empty() {
                c.error(
                    d.file,
                    n.span(),
                    format!("a {kind} name cannot be empty"),
                    None,
                );
                continue;
            }
            let here = c.location(d.file, &n.span());
            if let Some(first) = seen.insert((d.kind, name_key(name)), here) {
                c.error(
                    d.file,
                    n.span(),
                    format!("{kind} `{name}` is declared twice (names compare ignoring case and surrounding spaces)"),
                    Some(format!("it is first named at {first}; keep one")),
                );
            }
        }
        check_sites(c, l, &d);
    }
}

fn check_sites(c: &mut Checker, l: &Loaded, d: &Declared) {
    let kind = d.kind.as_str();
    for s in d.sites.iter().flatten() {
        if !l.known_site(s.get_ref()) {
            c.error(
                d.file,
                s.span(),
                format!(
                    "{kind} `{}` lists site `{}`, which is not declared",
                    d.name.get_ref(),
                    s.get_ref()
                ),
                Some("declare the site in a [sites.NAME] table, or fix the name".into()),
            );
        } else if l
            .sites
            .iter()
            .any(|x| &x.name == s.get_ref() && !has_access(x))
        {
            c.error(
                d.file,
                s.span(),
                format!(
                    "{kind} `{}` lists site `{}`, which is not a Sigma site",
                    d.name.get_ref(),
                    s.get_ref()
                ),
                Some(format!(
                    "{kind}s exist on Sigma sites only; remove the site from the list"
                )),
            );
        }
    }
    if !l.sites.is_empty() && access_sites(l, d.sites).is_empty() {
        c.error(
            d.file,
            d.span.clone(),
            format!("{kind} `{}` has no Sigma site to go to", d.name.get_ref()),
            Some(
                "declare a [sites.NAME] table with provider = \"sigma\", or list one in `sites`"
                    .into(),
            ),
        );
    }
}

/// Every grant names a declared team or person on the entry's sites, and a
/// permission of its kind.
pub(super) fn access_grants(c: &mut Checker, l: &Loaded) {
    let people: HashMap<String, &Option<Vec<Spanned<String>>>> = l
        .users
        .iter()
        .map(|u| (email_key(u.spec.email.get_ref()), &u.spec.sites))
        .collect();
    for d in declared(&l.kinds.sigma) {
        let sites: HashSet<&str> = access_sites(l, d.sites)
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        for (team, grant) in once_each(c, &d, &d.grants.teams, GrantKey::Team) {
            let (team, perm) = (team.get_ref(), &grant.permission);
            check_permission(c, &d, perm);
            let Some(g) = l.group_index.get(team) else {
                if !l.group_index.is_broken(team) {
                    grantee_error(
                        c,
                        &d,
                        perm,
                        &format!("team `{team}`, which is not declared"),
                        "declare it in a [[groups]] entry, or fix the name",
                    );
                }
                continue;
            };
            missing_sites(
                c,
                &d,
                perm,
                &format!("team `{team}`"),
                &sites,
                &l.sites_of(&g.spec.sites),
            );
        }
        for (email, grant) in once_each(c, &d, &d.grants.people, GrantKey::Person) {
            let (email, perm) = (email.get_ref(), &grant.permission);
            check_permission(c, &d, perm);
            let Some(on) = people.get(&email_key(email)) else {
                if l.broken_users.contains(&email_key(email)) {
                    continue;
                }
                grantee_error(
                    c,
                    &d,
                    perm,
                    &format!("`{email}`, who is not declared"),
                    "declare the person in a [[users]] entry, or fix the email",
                );
                continue;
            };
            missing_sites(c, &d, perm, &format!("`{email}`"), &sites, &l.sites_of(on));
        }
    }
}

/// How the grantees of one `grants` table compare.
#[derive(Clone, Copy)]
enum GrantKey {
    Team,
    Person,
}

impl GrantKey {
    fn key(self, name: &str) -> String {
        match self {
            GrantKey::Team => name_key(name),
            GrantKey::Person => email_key(name),
        }
    }

    fn rule(self) -> &'static str {
        match self {
            GrantKey::Team => "team names compare ignoring case and surrounding spaces",
            GrantKey::Person => {
                "emails compare ignoring case and surrounding spaces, after Unicode NFC"
            }
        }
    }
}

/// The grants of one table in the order they are written, each grantee
/// once: a repeat (`"Ada@acme.com"` after `"ada@acme.com"`) is an error at
/// the repeat, and left out of the other checks.
fn once_each<'a, V>(
    c: &mut Checker,
    d: &Declared,
    grants: &'a BTreeMap<Spanned<String>, V>,
    how: GrantKey,
) -> Vec<(&'a Spanned<String>, &'a V)> {
    let mut written: Vec<_> = grants.iter().collect();
    written.sort_by_key(|(k, _)| k.span().start);
    let mut seen: HashMap<String, Range<usize>> = HashMap::new();
    let mut out = Vec::with_capacity(written.len());
    for (k, perm) in written {
        if let Some(first) = seen.get(&how.key(k.get_ref())) {
            let first = c.location(d.file, first);
            c.error(
                d.file,
                k.span(),
                format!(
                    "{} `{}`: `{}` is granted twice ({})",
                    d.kind.as_str(),
                    d.name.get_ref(),
                    k.get_ref(),
                    how.rule()
                ),
                Some(format!("it is first granted at {first}; keep one")),
            );
            continue;
        }
        seen.insert(how.key(k.get_ref()), k.span());
        out.push((k, perm));
    }
    out
}

fn grantee_error(c: &mut Checker, d: &Declared, at: &Spanned<String>, who: &str, hint: &str) {
    c.error(
        d.file,
        at.span(),
        format!("{} `{}` grants {who}", d.kind.as_str(), d.name.get_ref()),
        Some(hint.into()),
    );
}

/// The grantee is on every site the entry goes to.
fn missing_sites(
    c: &mut Checker,
    d: &Declared,
    at: &Spanned<String>,
    who: &str,
    sites: &HashSet<&str>,
    on: &[&Site],
) {
    let on: HashSet<&str> = on.iter().map(|s| s.name.as_str()).collect();
    let mut missing: Vec<&&str> = sites.iter().filter(|s| !on.contains(**s)).collect();
    missing.sort();
    if let Some(site) = missing.first() {
        grantee_error(
            c,
            d,
            at,
            &format!("{who}, who is not on site `{site}`"),
            &format!(
                "add `{site}` to the grantee's sites, or limit the {}'s sites",
                d.kind.as_str()
            ),
        );
    }
}

fn check_permission(c: &mut Checker, d: &Declared, perm: &Spanned<String>) {
    if d.kind.parse(perm.get_ref()).is_none() {
        c.error(
            d.file,
            perm.span(),
            format!(
                "{} `{}`: unknown permission `{}`",
                d.kind.as_str(),
                d.name.get_ref(),
                perm.get_ref()
            ),
            Some(format!("use one of: {}", d.kind.permissions().join(", "))),
        );
    }
}

/// What a site declares about access, once every check passed.
pub(super) fn desired_access(l: &Loaded, e: &Entries, site: &Site) -> DesiredAccess {
    let mut access = DesiredAccess::default();
    if !has_access(site) {
        return access;
    }
    for d in declared(e) {
        if !access_sites(l, d.sites).iter().any(|s| s.name == site.name) {
            continue;
        }
        let grant = |grantee: Grantee, v: &GrantValue| DesiredGrant {
            grantee,
            permission: d
                .kind
                .parse(v.permission.get_ref())
                .unwrap_or_default()
                .to_string(),
            expires: v
                .expires
                .as_ref()
                .and_then(|e| plain_date(e.get_ref())),
        };
        let grants = d.grants.teams.iter().map(|(t, p)| {
            let t = t.get_ref();
            let name = l
                .group_index
                .get(t)
                .map_or_else(|| t.clone(), |g| g.spec.name.get_ref().clone());
            grant(Grantee::Team(name), p)
        });
        let people = d
            .grants
            .people
            .iter()
            .map(|(e, p)| grant(Grantee::Person(e.get_ref().trim().to_string()), p));
        let object = DesiredAccessObject {
            name: d.name.get_ref().trim().to_string(),
            previous_names: d
                .previous
                .iter()
                .map(|p| p.get_ref().trim().to_string())
                .collect(),
            grants: grants.chain(people).collect(),
        };
        match d.kind {
            AccessKind::Workspace => access.workspaces.push(object),
            AccessKind::Connection => access.connections.push(object),
        }
    }
    access
}

/// The site as the plan needs it: its client reads workspaces and
/// connections when the state declares some, or asks to remove undeclared
/// workspaces.
pub(super) fn add_access_reads(site: &mut Site, access: &DesiredAccess) {
    if let SiteConfig::Sigma(s) = &mut site.config {
        let a = &mut s.org.access;
        a.read |= !access.is_empty() || a.unmanaged_workspaces == Unmanaged::Remove;
    }
}

/// `expires` on a grant is a plain date.
pub(super) fn grant_expiry_dates(c: &mut Checker, l: &Loaded) {
    for d in declared(&l.kinds.sigma) {
        let values = d.grants.teams.values().chain(d.grants.people.values());
        for e in values.filter_map(|v| v.expires.as_ref()) {
            check_date(c, d.file, e);
        }
    }
}

/// The emails grants name people by.
pub(super) fn grantees(e: &Entries) -> Vec<WrittenName<'_>> {
    declared(e)
        .flat_map(|d| d.grants.people.keys().map(move |k| (d.file, "grantee", k)))
        .collect()
}

/// Every grant's `expires` date, with what ends then.
pub(super) fn grant_dates(e: &Entries) -> Vec<WrittenDate<'_>> {
    let mut found = Vec::new();
    for d in declared(e) {
        let (kind, name) = (d.kind.as_str(), d.name.get_ref().trim());
        let teams = d
            .grants
            .teams
            .iter()
            .map(|(t, v)| (format!("team {}", t.get_ref()), v));
        let people = d
            .grants
            .people
            .iter()
            .map(|(e, v)| (e.get_ref().trim().to_string(), v));
        for (who, v) in teams.chain(people) {
            if let Some(on) = &v.expires {
                let permission = v.permission.get_ref().trim().to_ascii_lowercase();
                found.push((d.file, on, format!("{permission} on {kind} {name} for {who}")));
            }
        }
    }
    found
}
