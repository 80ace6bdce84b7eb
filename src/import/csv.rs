//! The CSV files admins already have, turned into edits of the state:
//! Sigma's batch-update format (`Email, First Name, Last Name, New Email,
//! Member Type, isArchived`, any order, blank cells leave a value as it is)
//! and a list of people to remove (an `email_address` or `email` column).
//! The CSV `roster export` writes is read too (see `roundtrip`). Every
//! problem is reported with its CSV line; nothing is written unless every
//! row is good.

use std::collections::HashMap;
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
fn duplicate_columns(shown: &str, headers: &csv::StringRecord) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut problems = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        match seen.get(&h.trim().to_lowercase()) {
            Some(first) => problems.push(format!(
                "{shown}:1: column `{h}` (column {}) repeats column {} `{}`; keep one of them",
                i + 1,
                first + 1,
                &headers[*first]
            )),
            None => {
                seen.insert(h.trim().to_lowercase(), i);
            }
        }
    }
    problems
}

/// Reads a CSV: its table and the problems found in it (columns named
/// twice, rows that do not read or have more cells than the header), or,
/// when nothing can be read, why.
pub(crate) fn read(path: &Path) -> Result<(Table, Vec<String>), Vec<String>> {
    let shown = path.display().to_string();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| vec![format!("{shown}: cannot read the CSV: {e}")])?;
    let headers = reader
        .headers()
        .map_err(|e| vec![format!("{shown}:1: cannot read the header row: {e}")])?
        .clone();
    if headers.iter().all(str::is_empty) {
        return Err(vec![format!(
            "{shown}:1: the file is empty; its first line must name the columns (a header row), then one row per person"
        )]);
    }
    if let Some(sep) = other_separator(&headers) {
        return Err(vec![format!(
            "{shown}:1: the header has {sep}: roster reads comma-separated files; save it as CSV with commas"
        )]);
    }
    let mut problems = duplicate_columns(&shown, &headers);
    let mut rows = Vec::new();
    for record in reader.records() {
        match record {
            Ok(r) => {
                let line = r.position().map_or(0, csv::Position::line);
                if r.len() > headers.len() {
                    problems.push(format!(
                        "{shown}:{line}: {} cells, but the header names {} columns; put a value that holds a comma in double quotes",
                        r.len(),
                        headers.len()
                    ));
                } else if r.len() < headers.len() && r.iter().any(|c| !c.trim().is_empty()) {
                    // A cut-short row (an unclosed quote at the end of the
                    // file, a lost separator): which cell is which is a guess.
                    problems.push(format!(
                        "{shown}:{line}: {} cells, but the header names {} columns; give every row a cell per column (an empty one leaves a value alone), and close every double quote",
                        r.len(),
                        headers.len()
                    ));
                }
                rows.push((line, r.iter().map(restore).collect()));
            }
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                problems.push(format!("{shown}:{line}: not a CSV row: {e}"));
            }
        }
    }
    Ok((Table { headers, rows }, problems))
}

/// Why a name or email cell cannot be used: a line break or another control
/// character, or an invisible one (bidi, zero-width) that would make the
/// name read as something else. `column` names the cell in the message.
pub(crate) fn one_line(column: &str, value: &str) -> Option<String> {
    let shown = crate::render::escape::visible(value);
    if value.contains(['\n', '\r']) {
        return Some(format!(
            "{column} `{shown}` holds a line break; a name or email is one line"
        ));
    }
    value
        .chars()
        .find(|&c| c != '\\' && crate::render::escape::needs_escape(c))
        .map(|c| {
            format!(
                "{column} `{shown}` holds a control or invisible character (U+{:04X}); remove it",
                u32::from(c)
            )
        })
}

/// Applies a batch-update CSV to the state files; the number of people
/// changed, or every problem found.
pub fn batch_update(
    path: &Path,
    files: &mut StateFiles,
    desired: &DesiredState,
) -> Result<usize, Vec<String>> {
    let shown = path.display().to_string();
    let (table, mut problems) = read(path)?;
    if super::roundtrip::is_export(&table.headers) {
        return super::roundtrip::update(&shown, table, problems, files, desired);
    }
    let Table { headers, rows } = table;
    let column = |name: &str| headers.iter().position(|h| h == name);
    for h in &headers {
        if !BATCH_HEADERS.contains(&h) {
            problems.push(format!(
                "{shown}:1: unknown column `{h}`; the columns are {} (any order)",
                BATCH_HEADERS.join(", ")
            ));
        }
    }
    let Some(email_col) = column("Email") else {
        problems.push(format!("{shown}:1: the `Email` column is required"));
        return Err(problems);
    };
    let declared = files.users();
    let mut edits: HashMap<String, (u64, UserRef, String, RowEdit)> = HashMap::new();
    for (line, row) in &rows {
        let cell = |name: &str| {
            column(name)
                .and_then(|i| row.get(i))
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let email = row.get(email_col).unwrap_or_default();
        if email.is_empty() {
            problems.push(format!("{shown}:{line}: `Email` is empty"));
            continue;
        }
        let broken: Vec<String> = ["Email", "First Name", "Last Name", "New Email"]
            .into_iter()
            .filter_map(|c| one_line(c, &cell(c).unwrap_or_default()))
            .collect();
        if !broken.is_empty() {
            problems.extend(broken.iter().map(|p| format!("{shown}:{line}: {p}")));
            continue;
        }
        if !is_valid_email(email) {
            problems.push(format!(
                "{shown}:{line}: `{email}` is not a valid email address"
            ));
            continue;
        }
        let Some(user) = declared.get(&email_key(email)) else {
            problems.push(format!(
                "{shown}:{line}: `{email}` is not declared in the state; add them as a [[users]] entry first"
            ));
            continue;
        };
        let archived = match cell("isArchived") {
            None => None,
            Some(v) if v.eq_ignore_ascii_case("true") => Some(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Some(false),
            Some(v) => {
                problems.push(format!(
                    "{shown}:{line}: isArchived must be True or False, not `{v}`"
                ));
                continue;
            }
        };
        let new_email = cell("New Email");
        if let Some(n) = &new_email {
            if !is_valid_email(n) {
                problems.push(format!(
                    "{shown}:{line}: New Email `{n}` is not a valid email address"
                ));
                continue;
            }
            if declared
                .get(&email_key(n))
                .is_some_and(|other| other != user)
            {
                problems.push(format!(
                    "{shown}:{line}: New Email `{n}` is already declared for someone else"
                ));
                continue;
            }
        }
        let edit = RowEdit {
            first_name: cell("First Name"),
            last_name: cell("Last Name"),
            new_email,
            member_type: cell("Member Type"),
            archived,
        };
        match edits.get(&email_key(email)) {
            Some((first, _, _, earlier)) if *earlier != edit => problems.push(format!(
                "{shown}:{line}: `{email}` also appears on line {first} with other values; keep one row per person"
            )),
            Some(_) => {}
            None => {
                edits.insert(email_key(email), (*line, user.clone(), email.to_string(), edit));
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
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
            let current = t
                .get("email")
                .and_then(|e| e.as_str())
                .unwrap_or(&email)
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
        changed += 1;
    }
    Ok(changed)
}

/// Removes the people a CSV lists (an `email_address` or `email` column)
/// from the state; the number removed, or every problem found.
pub fn remove(path: &Path, files: &mut StateFiles) -> Result<usize, Vec<String>> {
    let shown = path.display().to_string();
    let (Table { headers, rows }, mut problems) = read(path)?;
    let Some(col) = headers
        .iter()
        .position(|h| h.eq_ignore_ascii_case("email_address") || h.eq_ignore_ascii_case("email"))
    else {
        problems.push(format!(
            "{shown}:1: no `email_address` or `email` column; the people to remove are read from it"
        ));
        return Err(problems);
    };
    let declared = files.users();
    let mut refs: Vec<UserRef> = Vec::new();
    for (line, row) in &rows {
        let email = row.get(col).unwrap_or_default();
        if email.is_empty() {
            problems.push(format!("{shown}:{line}: the email is empty"));
        } else if let Some(p) = one_line(&headers[col], email) {
            problems.push(format!("{shown}:{line}: {p}"));
        } else if !is_valid_email(email) {
            problems.push(format!(
                "{shown}:{line}: `{email}` is not a valid email address"
            ));
        } else if let Some(r) = declared.get(&email_key(email)) {
            if !refs.contains(r) {
                refs.push(r.clone());
            }
        } else {
            problems.push(format!(
                "{shown}:{line}: `{email}` is not declared in the state"
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
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
