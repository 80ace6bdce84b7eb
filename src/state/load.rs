//! Reading the state directory: find every `*.toml` file, parse it, and
//! deserialize each site, user and group entry on its own.

use std::ops::Range;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Deserialize;
use serde::de::IntoDeserializer;
use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

use super::diagnostic::{Diagnostic, Diagnostics, SourceFile};
use super::schema::{Fields, GroupSpec, SiteSpec, UserSpec};

/// State files larger than this are refused rather than read into memory.
pub(super) const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// One entry of a state file, with where it came from.
#[derive(Debug)]
pub struct Entry<T> {
    pub file: usize,
    pub span: Range<usize>,
    pub spec: T,
}

/// Everything read from the state directory, before cross-file checks.
#[derive(Default)]
pub struct Parsed {
    pub files: Vec<SourceFile>,
    pub entries: Entries,
}

/// Reads every state file under `dir` (see discover.rs for which), in a
/// stable order, large files in pieces of at least `piece_bytes` (see
/// chunks.rs).
pub(super) fn read_dir(dir: &Path, piece_bytes: usize) -> Parsed {
    let mut parsed = Parsed::default();
    let found = super::discover::discover(dir);
    if !found.problems.is_empty() {
        parsed.entries.diagnostics = found.problems;
        return parsed;
    }
    if found.files.is_empty() {
        parsed.entries.diagnostics.push(Diagnostic {
            file: dir.to_path_buf(),
            line: 1,
            column: 1,
            message: "the state directory holds no *.toml files".into(),
            hint: Some(
                "declare at least one [sites.NAME] table in a .toml file there (see examples/), or run `roster import`"
                    .into(),
            ),
        });
        return parsed;
    }
    for path in found.files {
        read_file(&path, &mut parsed, piece_bytes);
    }
    parsed
}

/// Every state file under `dir`, sorted (see discover.rs), or why some
/// entry cannot be read.
pub fn toml_files(dir: &Path) -> Result<Vec<PathBuf>, Diagnostics> {
    let found = super::discover::discover(dir);
    if found.problems.is_empty() {
        Ok(found.files)
    } else {
        Err(Diagnostics(found.problems))
    }
}

fn read_file(path: &Path, parsed: &mut Parsed, piece_bytes: usize) {
    let whole_file = |message: String, hint: &str| Diagnostic {
        file: path.to_path_buf(),
        line: 1,
        column: 1,
        message,
        hint: Some(hint.to_string()),
    };
    match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_FILE_BYTES => {
            parsed.entries.diagnostics.push(whole_file(
                format!(
                    "the file is {} bytes, more than the {} a state file may have",
                    m.len(),
                    MAX_FILE_BYTES
                ),
                "split the people over several files under the state directory",
            ));
            return;
        }
        Ok(_) => {}
        Err(e) => {
            parsed.entries.diagnostics.push(whole_file(
                format!("cannot read the file: {e}"),
                "check the file's permissions",
            ));
            return;
        }
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            parsed.entries.diagnostics.push(whole_file(
                format!("cannot read the file: {e}"),
                "check the file's permissions",
            ));
            return;
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            parsed.entries.diagnostics.push(whole_file(
                format!(
                    "the file is not UTF-8 text (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
                "state files must be TOML saved as UTF-8",
            ));
            return;
        }
    };
    let file_index = parsed.files.len();
    parsed.files.push(SourceFile::new(path, text));
    let source = &parsed.files[file_index];

    // A large file is read piece by piece (see chunks.rs); if any piece has
    // a problem, the whole file is read again so every message is the one
    // the file as a whole gets.
    let pieces = super::chunks::chunks(&source.text, piece_bytes);
    let mut entries = Entries::default();
    if pieces.len() > 1 {
        // A few pieces at a time are read side by side, then joined in
        // file order (a few, so their entries are not all held twice).
        for batch in pieces.chunks(2 * rayon::current_num_threads()) {
            let read: Vec<Entries> = batch
                .par_iter()
                .map(|piece| {
                    let mut piece_entries = Entries::default();
                    read_piece(source, file_index, piece.clone(), &mut piece_entries);
                    piece_entries
                })
                .collect();
            for piece_entries in read {
                entries.append(piece_entries);
            }
        }
        if !entries.diagnostics.is_empty() || entries.repeats_a_site() {
            entries = Entries::default();
            read_piece(source, file_index, 0..source.text.len(), &mut entries);
        }
    } else {
        read_piece(source, file_index, 0..source.text.len(), &mut entries);
    }
    parsed.entries.append(entries);
}

/// What state files declare, and the problems found reading them.
#[derive(Default)]
pub struct Entries {
    /// `[sites.NAME]`: the name and its span, then the entry.
    pub sites: Vec<(Spanned<String>, Entry<SiteSpec>)>,
    pub users: Vec<Entry<UserSpec>>,
    pub groups: Vec<Entry<GroupSpec>>,
    /// Names of sites and groups whose entries have problems: they are still
    /// declared, so references to them are not reported a second time.
    pub broken_sites: Vec<String>,
    pub broken_groups: Vec<String>,
    /// Emails of users whose entries have problems: still declared, so
    /// grants and admins naming them are not reported a second time.
    pub broken_users: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
    /// Some file is not valid TOML: what it declares is unknown, so checks
    /// across files (references, "no site declared") would only mislead.
    pub syntax_errors: bool,
    /// Each provider's own tables.
    pub(crate) kinds: crate::provider::KindEntries,
    /// `[settings]` tables (one is allowed).
    pub settings: Vec<Entry<super::schema::SettingsSpec>>,
}

impl Entries {
    /// Two pieces declaring the same site: TOML forbids it in one file, so
    /// the whole file is read to say so.
    fn repeats_a_site(&self) -> bool {
        let mut names = std::collections::HashSet::new();
        !self
            .sites
            .iter()
            .map(|(n, _)| n.get_ref())
            .chain(&self.broken_sites)
            .all(|n| names.insert(n))
    }

    fn append(&mut self, other: Entries) {
        self.sites.extend(other.sites);
        self.users.extend(other.users);
        self.groups.extend(other.groups);
        self.broken_sites.extend(other.broken_sites);
        self.broken_groups.extend(other.broken_groups);
        self.broken_users.extend(other.broken_users);
        self.diagnostics.extend(other.diagnostics);
        self.syntax_errors |= other.syntax_errors;
        self.kinds.append(other.kinds);
        self.settings.extend(other.settings);
    }
}

/// Parses `range` of the file and deserializes its entries, with every
/// location relative to the whole file.
fn read_piece(source: &SourceFile, file_index: usize, range: Range<usize>, out: &mut Entries) {
    let offset = range.start;
    let (root, errors) = DeTable::parse_recoverable(&source.text[range]);
    if !errors.is_empty() {
        out.syntax_errors = true;
        for e in errors {
            out.diagnostics.push(source.diagnostic(
                e.span().map(|s| shift_range(s, offset)),
                format!("invalid TOML: {}", first_line(e.message())),
                Some("fix the TOML syntax; see https://toml.io".into()),
            ));
        }
        return;
    }
    for (key, value) in root.into_inner() {
        let key_span = shift_range(key.span(), offset);
        let value = shift(value, offset);
        match key.get_ref().as_ref() {
            "sites" => read_sites(source, file_index, value, out),
            "users" => read_entries(source, file_index, "users", value, out),
            "groups" => read_entries(source, file_index, "groups", value, out),
            "settings" => {
                let got = deserialize_entry(
                    source,
                    file_index,
                    value,
                    "[settings]",
                    &mut out.diagnostics,
                );
                out.settings.extend(got);
            }
            other => {
                let (kinds, diagnostics) = (&mut out.kinds, &mut out.diagnostics);
                if !kinds.read(other, source, file_index, value, diagnostics) {
                    diagnostics.push(source.diagnostic(
                        Some(key_span),
                        format!("unknown top-level key `{other}`"),
                        Some(top_level_keys()),
                    ));
                }
            }
        }
    }
}

/// What a state file holds, for someone who misspells a top-level key.
fn top_level_keys() -> String {
    let tables = ["[sites.NAME] tables", "[[users]]", "[[groups]]"].map(String::from);
    let kinds = crate::provider::KindEntries::tables().map(|t| format!("[[{t}]]"));
    let all: Vec<String> = tables.into_iter().chain(kinds).collect();
    format!("a state file holds {} and [settings]", all.join(", "))
}

/// The `[sites.NAME]` tables of a piece.
fn read_sites(
    source: &SourceFile,
    file_index: usize,
    value: Spanned<DeValue<'_>>,
    out: &mut Entries,
) {
    let span = value.span();
    let DeValue::Table(table) = value.into_inner() else {
        out.diagnostics.push(source.diagnostic(
            Some(span),
            "`sites` must be a table of sites",
            Some("write each site as a [sites.NAME] table".into()),
        ));
        return;
    };
    for (name, entry) in table {
        let name = Spanned::new(name.span(), name.into_inner().into_owned());
        match deserialize_entry::<SiteSpec>(
            source,
            file_index,
            entry,
            &format!("site `{}`", name.get_ref()),
            &mut out.diagnostics,
        ) {
            Some(entry) => out.sites.push((name, entry)),
            None => out.broken_sites.push(name.into_inner()),
        }
    }
}

/// The `[[users]]` or `[[groups]]` (`kind`) entries of a piece.
fn read_entries(
    source: &SourceFile,
    file_index: usize,
    kind: &str,
    value: Spanned<DeValue<'_>>,
    out: &mut Entries,
) {
    let Some(items) = array_items(source, kind, value, &mut out.diagnostics) else {
        return;
    };
    for (i, item) in items.into_iter().enumerate() {
        let string_field = |field: &str| match item.get_ref() {
            DeValue::Table(t) => t.get(field).and_then(|n| match n.get_ref() {
                DeValue::String(s) => Some(s.to_string()),
                _ => None,
            }),
            _ => None,
        };
        if kind == "users" {
            let email = string_field("email").filter(|e| !e.trim().is_empty());
            // Named by email where it is readable; else numbered within the
            // piece (a piece's problems are never shown: the whole file is
            // read again).
            let what = email.as_ref().map_or_else(
                || format!("user #{}", i + 1),
                |e| format!("user `{}`", e.trim()),
            );
            match deserialize_entry::<UserSpec>(
                source,
                file_index,
                item,
                &what,
                &mut out.diagnostics,
            ) {
                Some(u) => out.users.push(u),
                None => out.broken_users.extend(email),
            }
        } else {
            let what = format!("{} #{}", &kind[..kind.len() - 1], i + 1);
            let name = string_field("name");
            match deserialize_entry::<GroupSpec>(
                source,
                file_index,
                item,
                &what,
                &mut out.diagnostics,
            ) {
                Some(g) => out.groups.push(g),
                None => out.broken_groups.extend(name),
            }
        }
    }
}

/// The items of the `[[kind]]` array of tables `value`; none, and a
/// diagnostic, when it is something else.
fn array_items<'v>(
    source: &SourceFile,
    kind: &str,
    value: Spanned<DeValue<'v>>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<DeArray<'v>> {
    let span = value.span();
    let DeValue::Array(items) = value.into_inner() else {
        diagnostics.push(source.diagnostic(
            Some(span),
            format!("`{kind}` must be an array of tables"),
            Some(format!("write each entry as a [[{kind}]] table")),
        ));
        return None;
    };
    Some(items)
}

/// The entries of a `[[kind]]` array of tables, each read on its own.
pub(crate) fn read_list<T: for<'a> Deserialize<'a> + Fields>(
    source: &SourceFile,
    file_index: usize,
    kind: &str,
    value: Spanned<DeValue<'_>>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Entry<T>> {
    let Some(items) = array_items(source, kind, value, diagnostics) else {
        return Vec::new();
    };
    let singular = kind.trim_end_matches('s').replace('_', " ");
    items
        .into_iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let what = format!("{singular} #{}", i + 1);
            deserialize_entry::<T>(source, file_index, item, &what, diagnostics)
        })
        .collect()
}

fn shift_range(r: Range<usize>, by: usize) -> Range<usize> {
    r.start + by..r.end + by
}

/// `value` with every location moved `by` bytes later: a piece's
/// locations made the whole file's.
fn shift(value: Spanned<DeValue<'_>>, by: usize) -> Spanned<DeValue<'_>> {
    if by == 0 {
        return value;
    }
    let span = shift_range(value.span(), by);
    let inner = match value.into_inner() {
        DeValue::Table(table) => DeValue::Table(
            table
                .into_iter()
                .map(|(k, v)| {
                    let k_span = shift_range(k.span(), by);
                    (Spanned::new(k_span, k.into_inner()), shift(v, by))
                })
                .collect(),
        ),
        DeValue::Array(items) => DeValue::Array(items.into_iter().map(|v| shift(v, by)).collect()),
        other => other,
    };
    Spanned::new(span, inner)
}

pub(super) fn deserialize_entry<'a, T: Deserialize<'a> + Fields>(
    source: &SourceFile,
    file: usize,
    value: Spanned<DeValue<'a>>,
    what: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Entry<T>> {
    let span = value.span();
    let DeValue::Table(table) = value.into_inner() else {
        diagnostics.push(source.diagnostic(Some(span), format!("{what} must be a table"), None));
        return None;
    };
    // Every unknown key is reported; serde alone would stop at the first.
    let mut known = DeTable::new();
    for (key, v) in table {
        if T::FIELDS.contains(&key.get_ref().as_ref()) {
            known.insert(key, v);
        } else {
            diagnostics.push(source.diagnostic(
                Some(key.span()),
                format!(
                    "{what}: unknown field `{}`, expected one of {}",
                    key.get_ref(),
                    T::FIELDS
                        .iter()
                        .map(|f| format!("`{f}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Some("remove the key or fix its spelling".into()),
            ));
        }
    }
    let value = Spanned::new(span.clone(), DeValue::Table(known));
    // An entry with unknown keys still goes through the later checks, so
    // their problems are reported in the same run; any diagnostic stops the
    // state from being used.
    match T::deserialize(value.into_deserializer()) {
        Ok(spec) => Some(Entry { file, span, spec }),
        Err(e) => {
            diagnostics.push(located(source, &span, what, &e));
            None
        }
    }
}

fn located(
    source: &SourceFile,
    entry: &Range<usize>,
    what: &str,
    e: &toml::de::Error,
) -> Diagnostic {
    let message = first_line(e.message());
    let hint = hint_for(&message);
    source.diagnostic(
        e.span().or(Some(entry.clone())),
        format!("{what}: {message}"),
        hint,
    )
}

fn first_line(message: &str) -> String {
    message
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn hint_for(message: &str) -> Option<String> {
    if message.starts_with("missing field") {
        Some("add the field to the entry".into())
    } else if message.starts_with("invalid type: string") && message.contains("TOML datetime") {
        Some("write the date without quotes, as in expires = 2026-12-31".into())
    } else if message.starts_with("invalid type") {
        Some("change the value to the type named above".into())
    } else if message.starts_with("unknown variant") {
        Some("use one of the values listed above".into())
    } else {
        None
    }
}
