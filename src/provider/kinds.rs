//! A provider's own object kinds in the state files: the tables it reads
//! beside sites, people and groups (Sigma's `[[workspaces]]`,
//! `[[user_attributes]]`...), their JSON schema, their checks and the
//! declared model they become. `state` asks every provider through the
//! `providers!` registry (`KindEntries`, `KindTables`) and never names one.

use toml::Spanned;
use toml::de::DeValue;
use toml::value::Datetime;

use crate::model::DesiredSite;
use crate::state::{Checker, Diagnostic, Loaded, SourceFile};

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
