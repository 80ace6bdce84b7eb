//! The canonical form of a state file, written by `roster fmt`: people sorted
//! by email, groups by name, lists sorted, emails trimmed and lower-cased.
//! Comments and layout are kept (toml_edit); a comment above an entry moves
//! with it, and a file's opening comment stays at the top.

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, Value};

use crate::model::email_key;
use crate::provider::capabilities::NameRule;

/// Keys whose values are emails, in site and user tables: a user's
/// `email`, and the site keys whose JSON Schema says so.
fn email_keys() -> impl Iterator<Item = &'static str> {
    std::iter::once("email").chain(super::schema::site_email_keys().iter().map(String::as_str))
}
/// Keys whose values are lists to keep sorted.
const LIST_KEYS: [&str; 4] = ["groups", "sites", "previous_emails", "previous_names"];

/// The canonical text of a state file, or the TOML error.
pub fn canonical(text: &str) -> Result<String, toml_edit::TomlError> {
    let mut doc: DocumentMut = text.parse()?;
    if let Some(sites) = doc.get_mut("sites").and_then(Item::as_table_like_mut) {
        for (_, site) in sites.iter_mut() {
            if let Some(t) = site.as_table_like_mut() {
                for key in email_keys() {
                    if let Some(v) = t.get_mut(key).and_then(Item::as_value_mut) {
                        normalize_email(v);
                    }
                }
            }
        }
    }
    if let Some(users) = doc.get_mut("users").and_then(Item::as_array_of_tables_mut) {
        for t in users.iter_mut() {
            normalize_entry(t);
        }
        sort_entries(users, |t| email_key(str_of(t, "email")));
    }
    if let Some(groups) = doc.get_mut("groups").and_then(Item::as_array_of_tables_mut) {
        for t in groups.iter_mut() {
            normalize_entry(t);
        }
        // Names compare the strictest way any provider does.
        sort_entries(groups, |t| {
            crate::provider::group_key(NameRule::STRICTEST, str_of(t, "name"))
        });
    }
    Ok(doc.to_string())
}

fn str_of<'a>(t: &'a Table, key: &str) -> &'a str {
    t.get(key).and_then(Item::as_str).unwrap_or_default()
}

/// Replaces a string value, keeping the comment and spacing around it.
fn replace_str(v: &mut Value, new: String) {
    let decor = v.decor().clone();
    *v = Value::from(new);
    *v.decor_mut() = decor;
}

fn normalize_email(v: &mut Value) {
    if let Some(s) = v.as_str() {
        let normal = email_key(s);
        if normal != s {
            replace_str(v, normal);
        }
    }
}

fn normalize_entry(t: &mut Table) {
    for key in email_keys() {
        if let Some(v) = t.get_mut(key).and_then(Item::as_value_mut) {
            normalize_email(v);
        }
    }
    for key in LIST_KEYS {
        let Some(list) = t.get_mut(key).and_then(Item::as_array_mut) else {
            continue;
        };
        if key == "previous_emails" {
            for v in list.iter_mut() {
                normalize_email(v);
            }
        }
        // A membership with a date (`{ name = "A", expires = ... }`) sorts by its name.
        let sort_key = |v: &Value| match v.as_str() {
            Some(s) => Some((s.to_lowercase(), s.to_string())),
            None => {
                let name = v.as_inline_table()?.get("name")?.as_str()?;
                Some((name.to_lowercase(), v.clone().decorated("", "").to_string()))
            }
        };
        let before: Vec<_> = list.iter().map(sort_key).collect();
        let mut after = before.clone();
        after.sort();
        after.dedup();
        if after != before {
            // Each element's comments go with it (see `toml_comments`).
            let mut parts = crate::toml_comments::split(list);
            parts.sort_dedup(sort_key);
            let decor = list.decor().clone();
            *list = parts.join();
            *list.decor_mut() = decor;
        }
    }
}

/// Sorts the entries of an array of tables, keeping the places they take in
/// the file. A comment above an entry moves with it; the file's opening
/// comment (before the first entry, ending with a blank line) stays first;
/// entries are one blank line apart.
fn sort_entries(entries: &mut ArrayOfTables, key: impl Fn(&Table) -> String) {
    let mut tables: Vec<Table> = entries.iter().cloned().collect();
    if tables.windows(2).all(|w| key(&w[0]) <= key(&w[1])) {
        return;
    }
    let positions: Vec<Option<isize>> = tables.iter().map(Table::position).collect();
    let prefix_of = |t: &Table| {
        t.decor()
            .prefix()
            .and_then(|p| p.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let first = prefix_of(&tables[0]);
    let header_end = first.rfind("\n\n").map_or(0, |i| i + 2);
    let (header, rest) = first.split_at(header_end);
    let lead = &rest[..rest.len() - rest.trim_start_matches('\n').len()];
    let opening = format!("{header}{lead}");
    tables[0].decor_mut().set_prefix(rest.to_string());
    tables.sort_by_key(|t| key(t));
    for (i, t) in tables.iter_mut().enumerate() {
        let own = prefix_of(t).trim_start_matches('\n').to_string();
        let spacing = if i == 0 {
            opening.clone()
        } else {
            "\n".to_string()
        };
        t.decor_mut().set_prefix(format!("{spacing}{own}"));
    }
    entries.clear();
    for (mut t, position) in tables.into_iter().zip(positions) {
        t.set_position(position);
        unpin_nested(&mut t);
        entries.push(t);
    }
}

/// Lets an entry's own sub-tables (`[users.overrides.SITE]`) move with it:
/// without a position of their own they are printed right after it, where
/// their old positions would put them after whichever entry took its place.
fn unpin_nested(t: &mut Table) {
    for (_, item) in t.iter_mut() {
        if let Some(sub) = item.as_table_mut() {
            sub.set_position(None);
            unpin_nested(sub);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_keeps_its_overrides_when_sorted() {
        let text = r#"[[users]]
email = "zed@acme.com"
first_name = "Z"
last_name = "Z"

[users.overrides.s]
member_type = "Viewer"

[[users]]
email = "ada@acme.com"
first_name = "A"
last_name = "A"
"#;
        let out = canonical(text).unwrap();
        insta::assert_snapshot!(out, @r#"
        [[users]]
        email = "ada@acme.com"
        first_name = "A"
        last_name = "A"

        [[users]]
        email = "zed@acme.com"
        first_name = "Z"
        last_name = "Z"

        [users.overrides.s]
        member_type = "Viewer"
        "#);
        assert_eq!(canonical(&out).unwrap(), out);
    }

    #[test]
    fn sorts_normalises_and_keeps_comments() {
        let text = r#"# The data team.

[sites.acme]
provider = "periscope"
invited_by = " Admin@Acme.com "   # the first admin

# Zed joined in May.
[[users]]
email = "Zed@acme.com"
first_name = "Zed"
last_name = "Z"
groups = ["Ops", "analysts", "Ops"]

[[users]]
email = "ada@acme.com" # founder
first_name = "Ada"
last_name = "L"

[[groups]]
name = "Ops"
access = "view"

[[groups]]
name = "analysts"
access = "sql"
"#;
        let out = canonical(text).unwrap();
        insta::assert_snapshot!(out, @r#"
        # The data team.

        [sites.acme]
        provider = "periscope"
        invited_by = "admin@acme.com"   # the first admin

        [[users]]
        email = "ada@acme.com" # founder
        first_name = "Ada"
        last_name = "L"

        # Zed joined in May.
        [[users]]
        email = "zed@acme.com"
        first_name = "Zed"
        last_name = "Z"
        groups = ["analysts", "Ops"]

        [[groups]]
        name = "analysts"
        access = "sql"

        [[groups]]
        name = "Ops"
        access = "view"
        "#);
        assert_eq!(
            canonical(&out).unwrap(),
            out,
            "formatting twice changes nothing"
        );
    }
}
