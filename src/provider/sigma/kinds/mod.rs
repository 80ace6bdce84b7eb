//! Sigma's own object kinds in the state files: workspaces and connections
//! with their grants (`access.rs`), user attributes and custom account
//! types (`attributes.rs`), their plan (`plan_access.rs`,
//! `plan_attributes.rs`, `plan_account_types.rs`) with the rules of a Sigma
//! organisation over people (`plan_org.rs`), and their import
//! (`import_access.rs`, `import_attributes.rs`, `prune.rs`). `state`, `plan`
//! and `import` reach them through [`StateKinds`], [`PlanKinds`] and
//! [`ImportKinds`], never by name.

mod access;
mod attributes;
mod import_access;
mod import_attributes;
mod plan_access;
mod plan_account_types;
mod plan_attributes;
mod plan_org;
mod prune;

use std::collections::HashMap;

use schemars::JsonSchema;
use toml::Spanned;
use toml::de::DeValue;

use crate::model::{
    DesiredSite, LiveSite, LiveUser, Note, PlanError, ProviderKind, Site, SiteConfig,
};
use crate::provider::kinds::entries::{ImportError, StateEntries, Undone};
use crate::provider::kinds::{
    ImportAt, ImportKinds, KindsPlan, PlanKinds, PlannedPeople, PrunedEverywhere, StateKinds,
    Undeclared, WrittenDate, WrittenName,
};
use crate::state::{Checker, Diagnostic, Entry, Loaded, NamedCheck, SourceFile, read_list};
use access::{ConnectionSpec, WorkspaceSpec};
use attributes::{AccountTypeSpec, AttributeSpec};

/// Sigma's checks of its own tables and of the `attributes` of people and
/// teams, run after the generic ones of emails.
pub(crate) const CHECKS: &[NamedCheck] = &[
    (
        "workspaces and connections are named once, on Sigma sites",
        access::access_names_and_sites,
    ),
    (
        "grants name declared teams, people and permissions",
        access::access_grants,
    ),
    (
        "grants' expires dates are plain dates",
        access::grant_expiry_dates,
    ),
    (
        "user attributes are declared once, on Sigma sites",
        attributes::attribute_entries,
    ),
    (
        "account types are declared once, with permissions",
        attributes::account_type_entries,
    ),
    (
        "attribute values name declared attributes",
        attributes::attribute_values,
    ),
];

/// Sigma's tables of the state files, as read.
#[derive(Default)]
pub(crate) struct Entries {
    pub workspaces: Vec<Entry<WorkspaceSpec>>,
    pub connections: Vec<Entry<ConnectionSpec>>,
    pub attributes: Vec<Entry<AttributeSpec>>,
    pub account_types: Vec<Entry<AccountTypeSpec>>,
}

// Only used to describe the files as a JSON Schema.
/// Sigma's tables of a state file.
#[derive(JsonSchema)]
#[allow(dead_code, reason = "only describes the files as a JSON Schema")]
pub(crate) struct Tables {
    /// Sigma workspaces and their grants.
    workspaces: Option<Vec<WorkspaceSpec>>,
    /// Grants on existing Sigma connections.
    connections: Option<Vec<ConnectionSpec>>,
    /// Sigma user attributes (row-level security).
    user_attributes: Option<Vec<AttributeSpec>>,
    /// Sigma custom account types.
    account_types: Option<Vec<AccountTypeSpec>>,
}

/// Sigma's own object kinds.
pub(crate) struct Kinds;

impl StateKinds for Kinds {
    type Entries = Entries;
    type Tables = Tables;
    const TABLES: &'static [&'static str] = &[
        "workspaces",
        "connections",
        "user_attributes",
        "account_types",
    ];

    fn read(
        key: &str,
        source: &SourceFile,
        file: usize,
        value: Spanned<DeValue<'_>>,
        entries: &mut Entries,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        match key {
            "workspaces" => {
                let got = read_list(source, file, key, value, diagnostics);
                entries.workspaces.extend(got);
            }
            "connections" => {
                let got = read_list(source, file, key, value, diagnostics);
                entries.connections.extend(got);
            }
            "user_attributes" => {
                let got = read_list(source, file, key, value, diagnostics);
                entries.attributes.extend(got);
            }
            _ => {
                let got = read_list(source, file, key, value, diagnostics);
                entries.account_types.extend(got);
            }
        }
    }

    fn append(entries: &mut Entries, other: Entries) {
        entries.workspaces.extend(other.workspaces);
        entries.connections.extend(other.connections);
        entries.attributes.extend(other.attributes);
        entries.account_types.extend(other.account_types);
    }

    fn names(e: &Entries) -> Vec<WrittenName<'_>> {
        let types = e
            .account_types
            .iter()
            .map(|t| (t.file, "account type", &t.spec.name));
        let attributes = e
            .attributes
            .iter()
            .map(|a| (a.file, "user attribute", &a.spec.name));
        let workspaces = e
            .workspaces
            .iter()
            .map(|w| (w.file, "workspace", &w.spec.name));
        let connections = e
            .connections
            .iter()
            .map(|c| (c.file, "connection", &c.spec.name));
        types
            .chain(attributes)
            .chain(workspaces)
            .chain(connections)
            .collect()
    }

    fn emails(e: &Entries) -> Vec<WrittenName<'_>> {
        access::grantees(e)
    }

    fn dates(e: &Entries) -> Vec<WrittenDate<'_>> {
        access::grant_dates(e)
    }

    fn desired(c: &Checker, l: &Loaded, site: &mut DesiredSite) {
        let sigma = &l.kinds.sigma;
        site.access = access::desired_access(l, sigma, &site.site);
        let places = std::mem::take(&mut site.attrs.places);
        site.attrs = attributes::desired_attrs(l, sigma, &site.site);
        site.attrs.places = attributes::places(c, sigma, &site.site, places);
        access::add_access_reads(&mut site.site, &site.access);
        attributes::add_attr_reads(&mut site.site, &site.attrs);
    }
}

impl PlanKinds for Kinds {
    /// Workspaces and connections with their grants, then user attributes
    /// and account types; errors in that order.
    fn plan(
        desired: &DesiredSite,
        live: &LiveSite,
        renamed: &HashMap<String, String>,
        errors: &mut Vec<PlanError>,
    ) -> KindsPlan {
        let mut access = plan_access::plan_access(desired, live, renamed);
        errors.extend(
            std::mem::take(&mut access.errors)
                .into_iter()
                .map(PlanError::Access),
        );
        let mut attrs = plan_attributes::AttrPlan::default();
        plan_attributes::plan_attributes(desired, live, &mut attrs);
        plan_account_types::plan_account_types(desired, live, &mut attrs, errors);
        let mut kept = access.kept;
        kept.append(&mut attrs.kept);
        KindsPlan {
            first: attrs.early,
            after_groups: access.early,
            after_people: access.grants,
            last: access
                .deletes
                .into_iter()
                .chain(attrs.late)
                .chain(attrs.values)
                .collect(),
            kept,
        }
    }

    /// Team admins, then what SCIM owns.
    fn org_rules(
        desired: &DesiredSite,
        live: &LiveSite,
        live_users: &HashMap<String, usize>,
        people: PlannedPeople<'_>,
    ) -> Vec<Note> {
        let mut notes = plan_org::plan_admins(desired, live, live_users, people.changes);
        notes.extend(plan_org::scim_owned(
            &desired.site,
            people.changes,
            people.deactivations,
            people.group_deletes,
        ));
        notes
    }

    /// Guests, by the organisation's `unmanaged_guests`.
    fn undeclared_rule(site: &Site, u: &LiveUser) -> Option<Undeclared> {
        plan_org::guest_rule(site, u)
    }
}

impl ImportKinds for Kinds {
    const IMPORTED: &'static str = "workspaces and connections";

    /// Workspaces and connections, user attributes and account types.
    fn read_all(site: &mut Site) {
        if let SiteConfig::Sigma(s) = &mut site.config {
            s.org.access.read = true;
            s.org.attrs_read = true;
        }
    }

    /// Workspaces and connections (counted), then user attributes, their
    /// values and custom account types.
    fn import(
        files: &mut impl StateEntries,
        at: &ImportAt<'_>,
        live: &LiveSite,
        notes: (&mut Vec<String>, &mut Vec<Undone>),
    ) -> Result<(usize, usize), ImportError> {
        let site = (at.site, at.multi);
        let counts = import_access::import_access(files, site, live, at.target, notes)?;
        import_attributes::import_attrs(files, at.target, ProviderKind::Sigma, live);
        Ok(counts)
    }

    /// Workspaces and connections.
    fn prune(
        files: &mut impl StateEntries,
        at: &ImportAt<'_>,
        live: &LiveSite,
        sites: &[String],
    ) -> usize {
        prune::prune_access(files, at.site, live, sites)
    }

    /// User attributes and custom account types, on the sites read for them.
    fn prune_everywhere(
        files: &mut impl StateEntries,
        read: &[(&str, &LiveSite)],
        every: &[String],
    ) -> PrunedEverywhere {
        let read: Vec<(&str, &LiveSite)> =
            read.iter().filter(|(_, l)| l.attrs.read).copied().collect();
        if read.is_empty() {
            return PrunedEverywhere::default();
        }
        let done = prune::prune_declared_once(files, &read, every);
        PrunedEverywhere {
            said: done
                .removed
                .iter()
                .map(|r| format!("{r} is on no Sigma site: taken out of the state (--prune)"))
                .collect(),
            warnings: done.kept,
        }
    }
}
