//! `[[user_attributes]]`, `[[account_types]]` and the `attributes` of
//! people and teams: their TOML schema, their checks (in Sigma's
//! `CHECKS`), and the step from them to the model. Permission names are
//! not checked here: which ones a site offers is known only once it is read
//! (the plan checks them against the permissions of the site's account
//! types).

use std::collections::HashMap;
use std::ops::Range;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

use super::Entries;
use crate::attrs::{DesiredAccountType, DesiredAttribute, DesiredAttrs, Places, Values, name_key};
use crate::model::{ProviderKind, Site, SiteConfig, Unmanaged, email_key};
use crate::provider::Capabilities;
use crate::state::{AttrValues, Checker, Fields, Loaded};

/// `[[user_attributes]]`: a Sigma user attribute (row-level security).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AttributeSpec {
    /// The attribute's name; compared ignoring case and surrounding spaces.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// What the attribute is for.
    #[schemars(with = "Option<String>")]
    pub description: Option<Spanned<String>>,
    /// The value of people and teams that have none of their own.
    #[schemars(with = "Option<String>")]
    pub default: Option<Spanned<String>>,
}

impl Fields for AttributeSpec {
    const FIELDS: &'static [&'static str] = &["name", "description", "default"];
}

/// `[[account_types]]`: a Sigma custom account type.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountTypeSpec {
    /// The account type's name, as people's member_type names it.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// What the account type is for (Sigma requires one).
    #[schemars(with = "String")]
    pub description: Spanned<String>,
    /// Permission names, as /v2/accountTypes/{id}/permissions lists them.
    #[schemars(with = "Vec<String>")]
    pub permissions: Vec<Spanned<String>>,
}

impl Fields for AccountTypeSpec {
    const FIELDS: &'static [&'static str] = &["name", "description", "permissions"];
}

fn has_attributes(c: &Capabilities) -> bool {
    c.attrs.user_attributes
}

fn has_account_types(c: &Capabilities) -> bool {
    c.attrs.custom_account_types
}

/// The products whose sites have a feature, for messages.
fn products(has: fn(&Capabilities) -> bool) -> String {
    ProviderKind::ALL
        .iter()
        .map(|k| k.capabilities())
        .filter(|c| has(c))
        .map(|c| c.product)
        .collect::<Vec<_>>()
        .join(" or ")
}

/// A name is not empty and not declared before (by key); reports both.
fn declared_once(
    c: &mut Checker,
    (file, name): (usize, &Spanned<String>),
    what: &str,
    seen: &mut HashMap<String, (usize, Range<usize>)>,
) {
    let key = name_key(name.get_ref());
    if key.is_empty() {
        c.error(
            file,
            name.span(),
            format!("{what} name cannot be empty"),
            Some(format!(
                "write the {what}'s name, as in name = \"{}\"",
                if what == "account type" {
                    "Analyst"
                } else {
                    "Region"
                }
            )),
        );
        return;
    }
    if let Some((f, first)) = seen.get(&key) {
        let first = c.location(*f, first);
        c.error(
            file,
            name.span(),
            format!(
                "{what} `{}` is declared twice (names compare ignoring case and surrounding spaces)",
                name.get_ref()
            ),
            Some(format!("it is first declared at {first}; keep one")),
        );
    } else {
        seen.insert(key, (file, name.span()));
    }
}

/// An entry of a kind no declared site has.
fn no_site_for(c: &mut Checker, l: &Loaded, (file, span): (usize, Range<usize>), kind: &str) {
    let has = if kind == "user_attributes" {
        has_attributes
    } else {
        has_account_types
    };
    if !l.sites.is_empty()
        && !l.on_a_site_with_problems(&None)
        && !l.sites.iter().any(|s| has(s.capabilities()))
    {
        c.error(
            file,
            span,
            format!(
                "[[{kind}]] apply to {} sites, and no such site is declared",
                products(has)
            ),
            Some(format!(
                "remove the [[{kind}]] entry, or declare such a site"
            )),
        );
    }
}

/// `[[user_attributes]]`: named, once, on a site that has them.
pub(super) fn attribute_entries(c: &mut Checker, l: &Loaded) {
    let mut seen = HashMap::new();
    let attributes = &l.kinds.sigma.attributes;
    for a in attributes {
        declared_once(c, (a.file, &a.spec.name), "user attribute", &mut seen);
    }
    if let Some(a) = attributes.first() {
        no_site_for(c, l, (a.file, a.spec.name.span()), "user_attributes");
    }
}

/// `[[account_types]]`: named, once, with each permission named once.
pub(super) fn account_type_entries(c: &mut Checker, l: &Loaded) {
    let mut seen = HashMap::new();
    let account_types = &l.kinds.sigma.account_types;
    for t in account_types {
        declared_once(c, (t.file, &t.spec.name), "account type", &mut seen);
        let mut permissions: HashMap<&str, Range<usize>> = HashMap::new();
        for p in &t.spec.permissions {
            let name = p.get_ref().trim();
            if name.is_empty() {
                c.error(
                    t.file,
                    p.span(),
                    "a permission name cannot be empty".into(),
                    None,
                );
            } else if let Some(first) = permissions.get(name) {
                let first = c.location(t.file, first);
                c.error(
                    t.file,
                    p.span(),
                    format!(
                        "account type `{}` lists permission `{name}` twice",
                        t.spec.name.get_ref()
                    ),
                    Some(format!("it is first listed at {first}; keep one")),
                );
            } else {
                permissions.insert(name, p.span());
            }
        }
    }
    if let Some(t) = account_types.first() {
        no_site_for(c, l, (t.file, t.spec.name.span()), "account_types");
    }
}

/// The declared attributes' names by key.
fn declared_attributes(e: &Entries) -> HashMap<String, &str> {
    let mut names = HashMap::new();
    for a in &e.attributes {
        names
            .entry(name_key(a.spec.name.get_ref()))
            .or_insert(a.spec.name.get_ref().as_str());
    }
    names
}

/// Every `attributes` table names declared attributes, each once, and is
/// on a site that has attributes.
pub(super) fn attribute_values(c: &mut Checker, l: &Loaded) {
    let declared = declared_attributes(&l.kinds.sigma);
    let mut known: Vec<&str> = declared.values().copied().collect();
    known.sort_unstable();
    let known = if known.is_empty() {
        "none is declared".to_string()
    } else {
        format!("declared: {}", known.join(", "))
    };
    for u in l.users {
        if let Some(values) = &u.spec.attributes {
            let who = format!("user `{}`", u.spec.email.get_ref().trim());
            let on = sites_known(l, &u.spec.sites);
            check_values(c, (u.file, &who, values), &declared, &known, on.as_deref());
        }
    }
    for g in l.groups {
        if let Some(values) = &g.spec.attributes {
            let who = format!("group `{}`", g.spec.name.get_ref());
            let on = sites_known(l, &g.spec.sites);
            check_values(c, (g.file, &who, values), &declared, &known, on.as_deref());
        }
    }
}

/// The sites an entry is on, or `None` when one of them has problems of
/// its own: what the entry may hold there is unknown until it is fixed.
fn sites_known<'l>(l: &'l Loaded, refs: &Option<Vec<Spanned<String>>>) -> Option<Vec<&'l Site>> {
    (!l.on_a_site_with_problems(refs)).then(|| l.sites_of(refs))
}

fn check_values(
    c: &mut Checker,
    (file, who, values): (usize, &str, &AttrValues),
    declared: &HashMap<String, &str>,
    known: &str,
    on: Option<&[&Site]>,
) {
    let mut seen: HashMap<String, Range<usize>> = HashMap::new();
    // In the order they are written, so a repeat is reported where it is.
    let mut names: Vec<&Spanned<String>> = values.keys().collect();
    names.sort_by_key(|n| n.span().start);
    for name in names {
        let key = name_key(name.get_ref());
        if !declared.contains_key(&key) {
            c.error(
                file,
                name.span(),
                format!("{who}: attribute `{}` is not declared", name.get_ref()),
                Some(format!(
                    "declare it in a [[user_attributes]] entry, or fix its spelling ({known})"
                )),
            );
        } else if let Some(first) = seen.get(&key) {
            let first = c.location(file, first);
            c.error(
                file,
                name.span(),
                format!("{who}: attribute `{}` is given twice", name.get_ref()),
                Some(format!("it is first given at {first}; keep one")),
            );
        } else {
            seen.insert(key, name.span());
        }
    }
    if let Some(first) = values.keys().next()
        && on.is_some_and(|on| !on.iter().any(|s| has_attributes(s.capabilities())))
    {
        c.error(
            file,
            first.span(),
            format!(
                "{who}: attributes apply to {} sites, and this entry is on no such site",
                products(has_attributes)
            ),
            Some("remove `attributes`, or list such a site in `sites`".into()),
        );
    }
}

/// Values by the declared spelling of each attribute's name.
fn values_of(values: &AttrValues, declared: &HashMap<String, &str>) -> Values {
    values
        .iter()
        .filter_map(|(k, v)| {
            let name = declared.get(&name_key(k.get_ref()))?;
            Some(((*name).to_string(), v.get_ref().clone()))
        })
        .collect()
}

/// The site as the plan needs it: its client reads user attributes and
/// account types' permissions when the state declares some, or asks to
/// remove undeclared ones (otherwise the plan has nothing to compare, and
/// every attribute would cost reads for nothing).
pub(super) fn add_attr_reads(site: &mut Site, attrs: &DesiredAttrs) {
    if let SiteConfig::Sigma(s) = &mut site.config {
        let o = &mut s.org;
        o.attrs_read |= !attrs.is_empty()
            || o.unmanaged_attributes != Unmanaged::Keep
            || o.unmanaged_account_types != Unmanaged::Keep;
    }
}

/// What a checked state declares about attributes and account types on
/// `site` (nothing where its provider has none).
pub(super) fn desired_attrs(l: &Loaded, e: &Entries, site: &Site) -> DesiredAttrs {
    let caps = site.capabilities();
    let mut attrs = DesiredAttrs::default();
    let on_site =
        |refs: &Option<Vec<Spanned<String>>>| l.sites_of(refs).iter().any(|s| s.name == site.name);
    if caps.attrs.user_attributes {
        let declared = declared_attributes(e);
        attrs.attributes = e
            .attributes
            .iter()
            .map(|a| DesiredAttribute {
                name: a.spec.name.get_ref().trim().to_string(),
                description: a.spec.description.as_ref().map(|d| d.get_ref().clone()),
                default: a.spec.default.as_ref().map(|d| d.get_ref().clone()),
            })
            .collect();
        for u in l.users.iter().filter(|u| on_site(&u.spec.sites)) {
            if let Some(v) = &u.spec.attributes {
                attrs
                    .users
                    .insert(email_key(u.spec.email.get_ref()), values_of(v, &declared));
            }
        }
        for g in l.groups.iter().filter(|g| on_site(&g.spec.sites)) {
            if let Some(v) = &g.spec.attributes {
                attrs
                    .groups
                    .insert(g.spec.name.get_ref().clone(), values_of(v, &declared));
            }
        }
    }
    if caps.attrs.custom_account_types {
        attrs.account_types = e
            .account_types
            .iter()
            .map(|t| {
                let mut permissions: Vec<String> = t
                    .spec
                    .permissions
                    .iter()
                    .map(|p| p.get_ref().trim().to_string())
                    .collect();
                permissions.sort();
                permissions.dedup();
                DesiredAccountType {
                    name: t.spec.name.get_ref().trim().to_string(),
                    description: t.spec.description.get_ref().clone(),
                    permissions,
                    place: l.location(t.file, &t.spec.name.span()),
                }
            })
            .collect();
    }
    attrs
}

/// Where the values only the plan can check are written, for `site`:
/// `places` (each person's `member_type`) with each declared account
/// type's permissions.
pub(super) fn places(c: &Checker, e: &Entries, site: &Site, mut places: Places) -> Places {
    if site.capabilities().attrs.custom_account_types {
        for t in &e.account_types {
            let name = name_key(t.spec.name.get_ref());
            for p in &t.spec.permissions {
                let key = (name.clone(), p.get_ref().trim().to_string());
                let at = c.location(t.file, &p.span());
                places.permissions.entry(key).or_insert(at);
            }
        }
    }
    places
}
