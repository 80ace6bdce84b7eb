//! A provider's own object kinds in the state files: the tables it reads
//! beside sites, people and groups (Sigma's `[[workspaces]]`,
//! `[[user_attributes]]`...), their JSON schema, their checks and the
//! declared model they become ([`StateKinds`]), their plan and the rules
//! of the provider's organisation over the people planned ([`PlanKinds`]),
//! and their import ([`ImportKinds`]). `state`, `plan` and `import` ask
//! every provider through the `providers!` registry (`KindEntries`,
//! `KindTables`, `ProviderKind`'s methods) and never name one.

use std::collections::HashMap;
use std::path::Path;

use toml::Spanned;
use toml::de::DeValue;
use toml::value::Datetime;

pub(crate) mod entries;

use crate::model::{
    Change, DesiredSite, Kept, KeptReason, LiveSite, LiveUser, Note, PlanError, Site,
};
use crate::state::{Checker, Diagnostic, Loaded, SourceFile};
use entries::{ImportError, StateEntries, Undone};

/// A name written in the state, for the look-alike warning: the file it is
/// in, what it names (`workspace`, `grantee`...) and the name.
pub(crate) type WrittenName<'a> = (usize, &'static str, &'a Spanned<String>);

/// An `expires` date written in the state: the file it is in, the date,
/// and what ends then (`edit on workspace Finance for team Analysts`).
pub(crate) type WrittenDate<'a> = (usize, &'a Spanned<Datetime>, String);

/// What a provider's own state tables answer.
pub(crate) trait StateKinds {
    /// The tables as read, entry by entry.
    type Entries: Default;
    /// The tables' JSON schema: a struct whose fields are the tables,
    /// flattened into a state file's.
    type Tables: schemars::JsonSchema;

    /// The top-level keys of a state file this provider reads, in the
    /// order they are listed to someone who misspells one.
    const TABLES: &'static [&'static str];

    /// Reads table `key` (one of [`Self::TABLES`]) of a state file.
    fn read(
        key: &str,
        source: &SourceFile,
        file: usize,
        value: Spanned<DeValue<'_>>,
        entries: &mut Self::Entries,
        diagnostics: &mut Vec<Diagnostic>,
    );

    /// Adds the entries read from another piece of the state.
    fn append(entries: &mut Self::Entries, other: Self::Entries);

    /// The names of the objects declared, for the look-alike warning.
    fn names(entries: &Self::Entries) -> Vec<WrittenName<'_>>;

    /// The emails the tables name people by, for the look-alike warning.
    fn emails(entries: &Self::Entries) -> Vec<WrittenName<'_>>;

    /// Every `expires` date the tables hold.
    fn dates(entries: &Self::Entries) -> Vec<WrittenDate<'_>>;

    /// Adds what a checked state declares of these kinds to `site` (one of
    /// this provider's sites), and what its client must read for them.
    fn desired(c: &Checker, l: &Loaded, site: &mut DesiredSite);
}

/// A provider without object kinds of its own.
pub(crate) struct NoKinds;

/// The JSON schema of no tables.
#[derive(schemars::JsonSchema)]
pub(crate) struct NoTables {}

impl StateKinds for NoKinds {
    type Entries = ();
    type Tables = NoTables;
    const TABLES: &'static [&'static str] = &[];

    fn read(
        _: &str,
        _: &SourceFile,
        _: usize,
        _: Spanned<DeValue<'_>>,
        (): &mut (),
        _: &mut Vec<Diagnostic>,
    ) {
    }

    fn append((): &mut (), (): ()) {}

    fn names((): &()) -> Vec<WrittenName<'_>> {
        Vec::new()
    }

    fn emails((): &()) -> Vec<WrittenName<'_>> {
        Vec::new()
    }

    fn dates((): &()) -> Vec<WrittenDate<'_>> {
        Vec::new()
    }

    fn desired(_: &Checker, _: &Loaded, _: &mut DesiredSite) {}
}

/// A provider's own kinds' share of a site's plan: its changes in the
/// slots the shared plan splices them into, in the order apply runs them.
#[derive(Debug, Default)]
pub(crate) struct KindsPlan {
    /// Before any group is created.
    pub first: Vec<Change>,
    /// After groups are created and updated, before people are.
    pub after_groups: Vec<Change>,
    /// After people are created and updated, before any is removed.
    pub after_people: Vec<Change>,
    /// After groups are deleted: last of all.
    pub last: Vec<Change>,
    /// Live objects of these kinds left alone although not declared.
    pub kept: Vec<Kept>,
}

/// The people half of a site's plan, as the rules of the provider's
/// organisation may change it.
pub(crate) struct PlannedPeople<'a> {
    /// People created and updated.
    pub changes: &'a mut Vec<Change>,
    /// People deactivated or deleted.
    pub deactivations: &'a mut Vec<Change>,
    /// Groups deleted.
    pub group_deletes: &'a mut Vec<Change>,
}

/// What a provider's organisation does with a member nobody declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Undeclared {
    /// Left alone, for this reason.
    Kept(KeptReason),
    /// Removed, whatever the site's `unmanaged_users`.
    Removed,
}

impl Undeclared {
    /// Why the member is kept, if they are.
    pub(crate) fn kept(self) -> Option<KeptReason> {
        match self {
            Undeclared::Kept(reason) => Some(reason),
            Undeclared::Removed => None,
        }
    }
}

/// What the plan asks of a provider's own kinds and organisation. Pure.
pub(crate) trait PlanKinds {
    /// Plans these kinds on `desired`'s site against `live`. `renamed`:
    /// the new name of each group the plan renames, by its live name's key.
    /// What cannot be planned without guessing goes to `errors`.
    fn plan(
        desired: &DesiredSite,
        live: &LiveSite,
        renamed: &HashMap<String, String>,
        errors: &mut Vec<PlanError>,
    ) -> KindsPlan;

    /// The organisation's rules over the people planned (`live_users`: live
    /// people by email key, their position in `live.users`): the changes
    /// they alter, and the differences they list rather than change.
    fn org_rules(
        desired: &DesiredSite,
        live: &LiveSite,
        live_users: &HashMap<String, usize>,
        people: PlannedPeople<'_>,
    ) -> Vec<Note>;

    /// The organisation's rule for an active member nobody declared, when
    /// it has one for them.
    fn undeclared_rule(site: &Site, u: &LiveUser) -> Option<Undeclared>;
}

impl PlanKinds for NoKinds {
    fn plan(
        _: &DesiredSite,
        _: &LiveSite,
        _: &HashMap<String, String>,
        _: &mut Vec<PlanError>,
    ) -> KindsPlan {
        KindsPlan::default()
    }

    fn org_rules(
        _: &DesiredSite,
        _: &LiveSite,
        _: &HashMap<String, usize>,
        _: PlannedPeople<'_>,
    ) -> Vec<Note> {
        Vec::new()
    }

    fn undeclared_rule(_: &Site, _: &LiveUser) -> Option<Undeclared> {
        None
    }
}

/// Where an import of one site writes.
pub(crate) struct ImportAt<'a> {
    /// The site's name.
    pub site: &'a str,
    /// The state has more than one site: new entries name theirs.
    pub multi: bool,
    /// Where new entries go: `imported/<site>.toml`.
    pub target: &'a Path,
}

/// What `--prune` across a provider's sites did with its own kinds: lines
/// saying what left the state, and warnings about what stayed.
#[derive(Debug, Default)]
pub(crate) struct PrunedEverywhere {
    pub said: Vec<String>,
    pub warnings: Vec<String>,
}

/// What `roster import` asks of a provider's own kinds.
pub(crate) trait ImportKinds {
    /// What the counts of an import call these kinds (`workspaces and
    /// connections`).
    const IMPORTED: &'static str;

    /// Makes `site`'s client read every object of these kinds, so an
    /// import sees them.
    fn read_all(site: &mut Site);

    /// Edits `files` so they describe the live objects of these kinds of
    /// `at`'s site; how many entries were added and updated. `notes`
    /// collect what cannot be declared (said as skipped) and the renames
    /// written back to the live name (undone).
    fn import(
        files: &mut impl StateEntries,
        at: &ImportAt<'_>,
        live: &LiveSite,
        notes: (&mut Vec<String>, &mut Vec<Undone>),
    ) -> Result<(usize, usize), ImportError>;

    /// `--prune`: takes the objects declared for `at`'s site that it no
    /// longer has off it; how many. `sites` are the state's sites of
    /// this provider.
    fn prune(
        files: &mut impl StateEntries,
        at: &ImportAt<'_>,
        live: &LiveSite,
        sites: &[String],
    ) -> usize;

    /// `--prune` of what is declared once for every site of this provider:
    /// `read` are its sites read in this run, `every` all of the state's.
    fn prune_everywhere(
        files: &mut impl StateEntries,
        read: &[(&str, &LiveSite)],
        every: &[String],
    ) -> PrunedEverywhere;
}

impl ImportKinds for NoKinds {
    // Never shown: nothing is imported.
    const IMPORTED: &'static str = "";

    fn read_all(_: &mut Site) {}

    fn import(
        _: &mut impl StateEntries,
        _: &ImportAt<'_>,
        _: &LiveSite,
        _: (&mut Vec<String>, &mut Vec<Undone>),
    ) -> Result<(usize, usize), ImportError> {
        Ok((0, 0))
    }

    fn prune(_: &mut impl StateEntries, _: &ImportAt<'_>, _: &LiveSite, _: &[String]) -> usize {
        0
    }

    fn prune_everywhere(
        _: &mut impl StateEntries,
        _: &[(&str, &LiveSite)],
        _: &[String],
    ) -> PrunedEverywhere {
        PrunedEverywhere::default()
    }
}
