//! The CSV files admins already have, turned into edits of the state:
//! Sigma's batch-update format (`Email, First Name, Last Name, New Email,
//! Member Type, isArchived`, any order, blank cells leave a value as it is)
//! and a list of people to remove (an `email_address` or `email` column).
//! The CSV `roster export` writes is read too (see `roundtrip`). Every
//! problem is reported with its CSV line; nothing is written unless every
//! row is good.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::model::{DesiredState, email_key};
use crate::state::edit::{StateFiles, UserRef, set};
use crate::state::is_valid_email;

/// The headers of Sigma's batch-update CSV.
pub const BATCH_HEADERS: [&str; 6] = [
    "Email",
    "First Name",
    "Last Name",
    "New Email",
    "Member Type",
    "isArchived",
];

/// What one row asks for a person; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct RowEdit {
    first_name: Option<String>,
    last_name: Option<String>,
    new_email: Option<String>,
    member_type: Option<String>,
    archived: Option<bool>,
}

/// A CSV's header row and its rows, each with its line number; every cell
/// trimmed and read back from the form `export` writes (see [`restore`]).
pub(crate) struct Table {
    pub headers: csv::StringRecord,
    pub rows: Vec<(u64, csv::StringRecord)>,
}

/// The characters a spreadsheet reads as the start of a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether a cell, past any leading `'`, starts like a formula.
fn quoted_formula(cell: &str) -> bool {
    cell.trim_start_matches('\'')
        .starts_with(|c| FORMULA_STARTS.contains(&c))
}

/// A cell as `export` writes it: one that a spreadsheet would read as a
/// formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage return,
/// after any `'`) gets a `'` in front (OWASP's advice). Every other cell is
/// left as it is, so a name like `'t Hooft` is unchanged.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    if quoted_formula(cell) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// A cell as `import --csv` reads it: the inverse of [`neutralise`]. A cell
/// that starts with `'`, then maybe more `'`, then one of the formula
/// characters loses its first `'`; every other cell is read as it is.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if quoted_formula(rest) => rest,
        _ => cell,
    }
}

/// A list as one cell (the export's `groups`): items separated by `;`; an
/// item that holds a `;`, starts with `"` or starts or ends with white
/// space is written in double quotes, a `"` in it doubled, as CSV itself
/// quotes a cell. [`split_list`] reads back exactly the items written.
pub fn join_list<S: AsRef<str>>(items: &[S]) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        let item = item.as_ref();
        if i > 0 {
            out.push(';');
        }
        let quoted =
            item.contains(';') || item.starts_with('"') || item.trim() != item || item.is_empty();
        if quoted {
            out.push('"');
            out.push_str(&item.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(item);
        }
    }
    out
}

/// Why a list cell cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListProblem {
    #[error(
        "a double quote opened in `{0}` is not closed; quote a name that holds `;` as \"a;b\" and double a quote inside it"
    )]
    Unclosed(String),
    #[error("`{0}` follows a closing double quote; separate names with `;`")]
    AfterQuote(String),
}

/// The items of a list cell written by [`join_list`] (or by hand: items
/// separated by `;`, each trimmed, blank ones skipped; a `"` inside an
/// unquoted item is kept as it is).
pub fn split_list(cell: &str) -> Result<Vec<String>, ListProblem> {
    let mut items = Vec::new();
    let mut rest = cell;
    loop {
        rest = rest.trim_start();
        let (item, after) = match rest.strip_prefix('"') {
            Some(quoted) => {
                let (item, after) =
                    quoted_item(quoted).ok_or_else(|| ListProblem::Unclosed(cell.to_string()))?;
                let after = after.trim_start();
                if !(after.is_empty() || after.starts_with(';')) {
                    return Err(ListProblem::AfterQuote(after.to_string()));
                }
                (Some(item), after)
            }
            None => {
                let end = rest.find(';').unwrap_or(rest.len());
                let item = rest[..end].trim();
                ((!item.is_empty()).then(|| item.to_string()), &rest[end..])
            }
        };
        items.extend(item);
        match after.strip_prefix(';') {
            Some(next) => rest = next,
            None => return Ok(items),
        }
    }
}

/// A quoted item's text (its `""` read as `"`) and what follows its
/// closing quote; `None` when it is not closed.
fn quoted_item(text: &str) -> Option<(String, &str)> {
    let mut item = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '"' {
            item.push(c);
        } else if text[i + 1..].starts_with('"') {
            item.push('"');
            chars.next();
        } else {
            return Some((item, &text[i + 1..]));
        }
    }
    None
}

/// Why a CSV cannot be used: every problem found in it; nothing is written.
#[derive(Debug, thiserror::Error)]
#[error("{} problem{} in {file}", problems.len(), if problems.len() == 1 { "" } else { "s" })]
pub struct CsvError {
    pub file: String,
    pub problems: Vec<CsvProblem>,
}

/// One problem found in a CSV file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvProblem {
    /// At a line of the file (`None`: the file as a whole).
    #[error("{file}{}: {kind}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Found {
        file: String,
        line: Option<u64>,
        kind: ProblemKind,
    },
}

/// What is wrong, at a line of a CSV file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProblemKind {
    #[error("cannot read the CSV: {0}")]
    Unreadable(String),
    #[error("cannot read the header row: {0}")]
    Header(String),
    #[error(
        "the file is empty; its first line must name the columns (a header row), then one row per person"
    )]
    Empty,
    #[error("the header has {0}: roster reads comma-separated files; save it as CSV with commas")]
    Separator(&'static str),
    #[error(
        "column `{name}` (column {at}) repeats column {first} `{first_name}`; keep one of them"
    )]
    RepeatedColumn {
        name: String,
        at: usize,
        first: usize,
        first_name: String,
    },
    #[error(
        "{cells} cells, but the header names {columns} columns; put a value that holds a comma in double quotes"
    )]
    TooManyCells { cells: usize, columns: usize },
    // A cut-short row (an unclosed quote at the end of the file, a lost
    // separator): which cell is which is a guess.
    #[error(
        "{cells} cells, but the header names {columns} columns; give every row a cell per column (an empty one leaves a value alone), and close every double quote"
    )]
    TooFewCells { cells: usize, columns: usize },
    #[error("not a CSV row: {0}")]
    NotARow(String),
    #[error("unknown column `{0}`; the columns are {all} (any order)", all = BATCH_HEADERS.join(", "))]
    UnknownColumn(String),
    #[error("the `{0}` column is required")]
    MissingColumn(&'static str),
    #[error("no `email_address` or `email` column; the people to remove are read from it")]
    NoRemoveColumn,
    #[error("`Email` is empty")]
    EmptyEmail,
    #[error("the email is empty")]
    EmptyRemoveEmail,
    #[error(transparent)]
    Cell(#[from] CellProblem),
    #[error("`{0}` is not a valid email address")]
    InvalidEmail(String),
    #[error("`{0}` is not declared in the state; add them as a [[users]] entry first")]
    Undeclared(String),
    #[error("`{0}` is not declared in the state")]
    UndeclaredToRemove(String),
    #[error("isArchived must be True or False, not `{0}`")]
    NotABool(String),
    #[error("New Email `{0}` is not a valid email address")]
    InvalidNewEmail(String),
    #[error("New Email `{0}` is already declared for someone else")]
    NewEmailTaken(String),
    #[error("`{email}` also appears on line {first} with other values; keep one row per person")]
    RepeatedRow { email: String, first: u64 },
    /// One only the CSV `roster export` writes can have.
    #[error(transparent)]
    Export(#[from] super::roundtrip::ExportProblem),
}

/// Why a name or email cell cannot be used (`column` names the cell,
/// `shown` is its value made visible).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CellProblem {
    #[error("{column} `{shown}` holds a line break; a name or email is one line")]
    LineBreak { column: String, shown: String },
    #[error("{column} `{shown}` holds a control or invisible character (U+{code:04X}); remove it")]
    Invisible {
        column: String,
        shown: String,
        code: u32,
    },
}

/// The problems found so far in one file.
pub(crate) struct Found {
    file: String,
    problems: Vec<CsvProblem>,
}

impl Found {
    fn new(path: &Path) -> Found {
        Found {
            file: path.display().to_string(),
            problems: Vec::new(),
        }
    }

    /// A problem at `line` (`None`: the file as a whole).
    fn push(&mut self, line: Option<u64>, kind: impl Into<ProblemKind>) {
        self.problems.push(CsvProblem::Found {
            file: self.file.clone(),
            line,
            kind: kind.into(),
        });
    }

    pub(super) fn at(&mut self, line: u64, kind: impl Into<ProblemKind>) {
        self.push(Some(line), kind);
    }

    /// The error that holds every problem found (and `more`).
    fn error(mut self, more: impl IntoIterator<Item = CsvProblem>) -> CsvError {
        self.problems.extend(more);
        CsvError {
            file: self.file,
            problems: self.problems,
        }
    }

    /// A file that cannot be read at all.
    pub(super) fn fatal(mut self, line: Option<u64>, kind: ProblemKind) -> CsvError {
        self.push(line, kind);
        self.error([])
    }

    /// `ok`, or the error when anything was found.
    pub(super) fn or_error<T>(self, ok: T) -> Result<T, CsvError> {
        self.none_yet().map(|_| ok)
    }

    /// Itself, to look further, or the error when anything was found.
    pub(super) fn none_yet(self) -> Result<Found, CsvError> {
        if self.problems.is_empty() {
            Ok(self)
        } else {
            Err(self.error([]))
        }
    }
}

/// Whether a header cell suggests another separator, and which.
fn other_separator(headers: &csv::StringRecord) -> Option<&'static str> {
    let all: String = headers.iter().collect();
    if all.contains(';') {
        Some("`;`")
    } else if all.contains('\t') {
        Some("a tab")
    } else {
        None
    }
}

/// Columns named twice, ignoring case and surrounding spaces.
fn duplicate_columns(found: &mut Found, headers: &csv::StringRecord) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        match seen.get(&h.trim().to_lowercase()) {
            Some(first) => found.at(
                1,
                ProblemKind::RepeatedColumn {
                    name: h.to_string(),
                    at: i + 1,
                    first: first + 1,
                    first_name: headers[*first].to_string(),
                },
            ),
            None => {
                seen.insert(h.trim().to_lowercase(), i);
            }
        }
    }
}

/// Reads a CSV: its table and the problems found in it (columns named
/// twice, rows that do not read or have more cells than the header), or,
/// when nothing can be read, why.
pub(crate) fn read(path: &Path) -> Result<(Table, Found), CsvError> {
    let mut found = Found::new(path);
    let mut reader = match csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
    {
        Ok(reader) => reader,
        Err(e) => return Err(found.fatal(None, ProblemKind::Unreadable(e.to_string()))),
    };
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(found.fatal(Some(1), ProblemKind::Header(e.to_string()))),
    };
    if headers.iter().all(str::is_empty) {
        return Err(found.fatal(Some(1), ProblemKind::Empty));
    }
    if let Some(sep) = other_separator(&headers) {
        return Err(found.fatal(Some(1), ProblemKind::Separator(sep)));
    }
    duplicate_columns(&mut found, &headers);
    let mut rows = Vec::new();
    for record in reader.records() {
        match record {
            Ok(r) => {
                let line = r.position().map_or(0, csv::Position::line);
                if let Some(kind) = cell_count(&r, headers.len()) {
                    found.at(line, kind);
                }
                rows.push((line, r.iter().map(restore).collect()));
            }
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                found.at(line, ProblemKind::NotARow(e.to_string()));
            }
        }
    }
    Ok((Table { headers, rows }, found))
}

/// A row with more cells than the header names, or with fewer and not
/// blank.
fn cell_count(row: &csv::StringRecord, columns: usize) -> Option<ProblemKind> {
    let cells = row.len();
    if cells > columns {
        Some(ProblemKind::TooManyCells { cells, columns })
    } else if cells < columns && row.iter().any(|c| !c.trim().is_empty()) {
        Some(ProblemKind::TooFewCells { cells, columns })
    } else {
        None
    }
}

/// Why a name or email cell cannot be used: a line break or another control
/// character, or an invisible one (bidi, zero-width) that would make the
/// name read as something else. `column` names the cell in the message.
pub(crate) fn cell_problem(column: &str, value: &str) -> Option<CellProblem> {
    let shown = crate::escape::visible(value);
    if value.contains(['\n', '\r']) {
        return Some(CellProblem::LineBreak {
            column: column.to_string(),
            shown,
        });
    }
    value
        .chars()
        .find(|&c| c != '\\' && crate::escape::needs_escape(c))
        .map(|c| CellProblem::Invisible {
            column: column.to_string(),
            shown,
            code: u32::from(c),
        })
}

/// Applies a batch-update CSV to the state files; the number of people
/// changed, or every problem found.
pub fn batch_update(
    path: &Path,
    files: &mut StateFiles,
    desired: &DesiredState,
) -> Result<usize, CsvError> {
    let (table, found) = read(path)?;
    if super::roundtrip::is_export(&table.headers) {
        return super::roundtrip::update(table, found, files, desired);
    }
    let mut found = found;
    let edits = batch_edits(table, &mut found, &files.users());
    found.or_error(())?;
    Ok(write_edits(files, edits))
}

/// A person's edit from a batch-update CSV: its line, whose it is, the
/// email it names them by, and what it asks.
type Edit = (u64, UserRef, String, RowEdit);

/// The edits a batch-update CSV asks for, one per person, by email key;
/// every problem goes to `found`.
fn batch_edits(
    table: Table,
    found: &mut Found,
    declared: &BTreeMap<String, UserRef>,
) -> HashMap<String, Edit> {
    let Table { headers, rows } = table;
    for h in &headers {
        if !BATCH_HEADERS.contains(&h) {
            found.at(1, ProblemKind::UnknownColumn(h.to_string()));
        }
    }
    let mut edits: HashMap<String, Edit> = HashMap::new();
    let Some(email_col) = headers.iter().position(|h| h == "Email") else {
        found.at(1, ProblemKind::MissingColumn("Email"));
        return edits;
    };
    for (line, row) in &rows {
        let email = row.get(email_col).unwrap_or_default();
        let (user, edit) = match row_edit(&headers, row, email, declared) {
            Ok(asked) => asked,
            Err(kinds) => {
                for k in kinds {
                    found.at(*line, k);
                }
                continue;
            }
        };
        match edits.get(&email_key(email)) {
            Some((first, _, _, earlier)) if *earlier != edit => found.at(
                *line,
                ProblemKind::RepeatedRow {
                    email: email.to_string(),
                    first: *first,
                },
            ),
            Some(_) => {}
            None => {
                edits.insert(email_key(email), (*line, user, email.to_string(), edit));
            }
        }
    }
    edits
}

/// What one row of a batch-update CSV asks, and of whom; or its problems.
fn row_edit(
    headers: &csv::StringRecord,
    row: &csv::StringRecord,
    email: &str,
    declared: &BTreeMap<String, UserRef>,
) -> Result<(UserRef, RowEdit), Vec<ProblemKind>> {
    let cell = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .and_then(|i| row.get(i))
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    if email.is_empty() {
        return Err(vec![ProblemKind::EmptyEmail]);
    }
    let broken: Vec<ProblemKind> = ["Email", "First Name", "Last Name", "New Email"]
        .into_iter()
        .filter_map(|c| cell_problem(c, &cell(c).unwrap_or_default()))
        .map(ProblemKind::Cell)
        .collect();
    if !broken.is_empty() {
        return Err(broken);
    }
    if !is_valid_email(email) {
        return Err(vec![ProblemKind::InvalidEmail(email.to_string())]);
    }
    let Some(user) = declared.get(&email_key(email)) else {
        return Err(vec![ProblemKind::Undeclared(email.to_string())]);
    };
    let archived = match cell("isArchived") {
        None => None,
        Some(v) if v.eq_ignore_ascii_case("true") => Some(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Some(false),
        Some(v) => return Err(vec![ProblemKind::NotABool(v)]),
    };
    let new_email = cell("New Email");
    if let Some(n) = &new_email {
        if !is_valid_email(n) {
            return Err(vec![ProblemKind::InvalidNewEmail(n.clone())]);
        }
        if declared
            .get(&email_key(n))
            .is_some_and(|other| other != user)
        {
            return Err(vec![ProblemKind::NewEmailTaken(n.clone())]);
        }
    }
    let edit = RowEdit {
        first_name: cell("First Name"),
        last_name: cell("Last Name"),
        new_email,
        member_type: cell("Member Type"),
        archived,
    };
    Ok((user.clone(), edit))
}

/// Writes the edits into the state files; how many people they edit.
fn write_edits(files: &mut StateFiles, edits: HashMap<String, Edit>) -> usize {
    let mut changed = 0;
    for (_, user, email, edit) in edits.into_values() {
        let Some(t) = files.user_mut(&user) else {
            continue;
        };
        if let Some(v) = edit.first_name {
            set(t, "first_name", v);
        }
        if let Some(v) = edit.last_name {
            set(t, "last_name", v);
        }
        if let Some(v) = edit.member_type {
            set(t, "member_type", v);
        }
        match edit.archived {
            Some(true) => set(t, "active", false),
            Some(false) => {
                t.remove("active");
            }
            None => {}
        }
        if let Some(new) = edit.new_email {
            rename(t, &email, new);
        }
        changed += 1;
    }
    changed
}

/// Gives a person a new email, keeping the one they had in
/// `previous_emails`.
fn rename(t: &mut toml_edit::Table, email: &str, new: String) {
    let current = t
        .get("email")
        .and_then(|e| e.as_str())
        .unwrap_or(email)
        .to_string();
    set(t, "email", new.clone());
    let mut previous: Vec<String> = t
        .get("previous_emails")
        .and_then(|p| p.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if email_key(&current) != email_key(&new)
        && !previous.iter().any(|p| email_key(p) == email_key(&current))
    {
        previous.push(current);
    }
    set(t, "previous_emails", crate::state::edit::strings(&previous));
}

/// Removes the people a CSV lists (an `email_address` or `email` column)
/// from the state; the number removed, or every problem found.
pub fn remove(path: &Path, files: &mut StateFiles) -> Result<usize, CsvError> {
    let (Table { headers, rows }, mut found) = read(path)?;
    let Some(col) = headers
        .iter()
        .position(|h| h.eq_ignore_ascii_case("email_address") || h.eq_ignore_ascii_case("email"))
    else {
        return Err(found.fatal(Some(1), ProblemKind::NoRemoveColumn));
    };
    let declared = files.users();
    let mut refs: Vec<UserRef> = Vec::new();
    for (line, row) in &rows {
        let email = row.get(col).unwrap_or_default();
        if email.is_empty() {
            found.at(*line, ProblemKind::EmptyRemoveEmail);
        } else if let Some(p) = cell_problem(&headers[col], email) {
            found.at(*line, p);
        } else if !is_valid_email(email) {
            found.at(*line, ProblemKind::InvalidEmail(email.to_string()));
        } else if let Some(r) = declared.get(&email_key(email)) {
            if !refs.contains(r) {
                refs.push(r.clone());
            }
        } else {
            found.at(*line, ProblemKind::UndeclaredToRemove(email.to_string()));
        }
    }
    found.or_error(())?;
    files.remove_users(&refs);
    Ok(refs.len())
}

#[cfg(test)]
mod tests {
    use super::{neutralise, restore};

    #[test]
    fn neutralising_is_undone_exactly_and_leaves_plain_cells_alone() {
        let cases = [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+1", "'+1"),
            ("-x", "'-x"),
            ("@sum", "'@sum"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=x", "''=x"),
            ("''-x", "'''-x"),
            ("'t Hooft", "'t Hooft"),
            ("'", "'"),
            ("Ada", "Ada"),
            ("", ""),
            ("a=b", "a=b"),
        ];
        for (cell, exported) in cases {
            assert_eq!(neutralise(cell), exported, "{cell:?}");
            assert_eq!(restore(exported), cell, "{exported:?}");
        }
    }
}
