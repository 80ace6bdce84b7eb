//! The CSV files admins already have, turned into edits of the state:
//! Sigma's batch-update format (`Email, First Name, Last Name, New Email,
//! Member Type, isArchived`, any order, blank cells leave a value as it is)
//! and a list of people to remove (an `email_address` or `email` column).
//! Every problem is reported with its CSV line; nothing is written unless
//! every row is good.

use std::collections::HashMap;
use std::path::Path;

use crate::model::email_key;
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

/// A CSV's header row and its rows, each with its line number.
struct Table {
    headers: csv::StringRecord,
    rows: Vec<(u64, csv::StringRecord)>,
}

fn read(path: &Path) -> Result<Table, Vec<String>> {
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
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for record in reader.records() {
        match record {
            Ok(r) => rows.push((r.position().map_or(0, |p| p.line()), r)),
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.push(format!("{shown}:{line}: not a CSV row: {e}"));
            }
        }
    }
    if problems.is_empty() {
        Ok(Table { headers, rows })
    } else {
        Err(problems)
    }
}

/// Applies a batch-update CSV to the state files; the number of people
/// changed, or every problem found.
pub fn batch_update(path: &Path, files: &mut StateFiles) -> Result<usize, Vec<String>> {
    let shown = path.display().to_string();
    let Table { headers, rows } = read(path)?;
    let mut problems = Vec::new();
    let column = |name: &str| headers.iter().position(|h| h == name);
    for h in headers.iter() {
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
    let Table { headers, rows } = read(path)?;
    let Some(col) = headers
        .iter()
        .position(|h| h.eq_ignore_ascii_case("email_address") || h.eq_ignore_ascii_case("email"))
    else {
        return Err(vec![format!(
            "{shown}:1: no `email_address` or `email` column; the people to remove are read from it"
        )]);
    };
    let declared = files.users();
    let mut problems = Vec::new();
    let mut refs: Vec<UserRef> = Vec::new();
    for (line, row) in &rows {
        let email = row.get(col).unwrap_or_default();
        if email.is_empty() {
            problems.push(format!("{shown}:{line}: the email is empty"));
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
