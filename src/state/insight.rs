//! The state's answers to an admin's questions (issue 15): `expires` dates on
//! people and memberships, a membership written as `{ name, expires }`, and
//! a site's `seats` budget and `expiry_notice_days`.

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;

use chrono::NaiveDate;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use toml::Spanned;
use toml::value::Datetime;

use super::site::SiteCheck;
use super::validate::{Checker, Loaded};
use crate::model::Access;
use crate::provider::capabilities::SeatBasis;

/// One entry of a person's `groups`: a name (`"Analysts"`), or a name with
/// the date the membership ends (`{ name = "Contractors", expires = 2026-12-31 }`).
#[derive(Debug, Clone)]
pub struct GroupRef {
    pub name: Spanned<String>,
    pub expires: Option<Spanned<Datetime>>,
}

/// Every membership a person's entry writes: its `groups`, and those of
/// each site's `overrides`.
fn memberships(spec: &super::schema::UserSpec) -> impl Iterator<Item = &GroupRef> {
    let overrides = spec.overrides.iter().flat_map(|o| o.values());
    spec.groups
        .iter()
        .chain(overrides.flat_map(|o| o.groups.iter().flatten()))
}

impl GroupRef {
    /// The group's name as written (what a plain string entry was).
    pub fn get_ref(&self) -> &String {
        self.name.get_ref()
    }

    /// Where the group's name is written.
    pub fn span(&self) -> Range<usize> {
        self.name.span()
    }
}

impl<'de> Deserialize<'de> for GroupRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (name, expires) = read_dated::<GroupKey, D>(d)?;
        Ok(GroupRef { name, expires })
    }
}

impl schemars::JsonSchema for GroupRef {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "GroupRef".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        dated_schema::<GroupKey>()
    }
}

/// One grant's value: a permission (`"edit"`), or a permission with the
/// date the grant ends (`{ permission = "edit", expires = 2026-12-31 }`).
#[derive(Debug, Clone)]
pub(crate) struct GrantValue {
    pub permission: Spanned<String>,
    pub expires: Option<Spanned<Datetime>>,
}

impl<'de> Deserialize<'de> for GrantValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (permission, expires) = read_dated::<GrantKey, D>(d)?;
        Ok(GrantValue {
            permission,
            expires,
        })
    }
}

impl schemars::JsonSchema for GrantValue {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "GrantValue".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        dated_schema::<GrantKey>()
    }
}

/// A value written plainly (`"Analysts"`) or as a table of that value under
/// `KEY` and the date it ends (`{ name = "Analysts", expires = 2026-12-31 }`).
trait DatedKey {
    const KEY: &'static str;
    const FIELDS: &'static [&'static str];
    const EXPECTING: &'static str;
    const DESCRIPTION: &'static str;
}

/// A membership: `"Analysts"` or `{ name = "...", expires = ... }`.
struct GroupKey;

impl DatedKey for GroupKey {
    const KEY: &'static str = "name";
    const FIELDS: &'static [&'static str] = &["name", "expires"];
    const EXPECTING: &'static str = r#"a group name, or { name = "...", expires = YYYY-MM-DD }"#;
    const DESCRIPTION: &'static str = "A group's name, or a membership that ends: { name = \"Contractors\", expires = 2026-12-31 }.";
}

/// A grant: `"edit"` or `{ permission = "...", expires = ... }`.
struct GrantKey;

impl DatedKey for GrantKey {
    const KEY: &'static str = "permission";
    const FIELDS: &'static [&'static str] = &["permission", "expires"];
    const EXPECTING: &'static str =
        r#"a permission, or { permission = "...", expires = YYYY-MM-DD }"#;
    const DESCRIPTION: &'static str =
        "A permission, or a grant that ends: { permission = \"edit\", expires = 2026-12-31 }.";
}

/// How a dated value was written, before the plain form gets its span.
enum Written<K> {
    Plain(String, PhantomData<K>),
    Table {
        value: Spanned<String>,
        expires: Option<Spanned<Datetime>>,
    },
}

struct WrittenVisitor<K>(PhantomData<K>);

impl<'de, K: DatedKey> Visitor<'de> for WrittenVisitor<K> {
    type Value = Written<K>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(K::EXPECTING)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Written<K>, E> {
        Ok(Written::Plain(v.to_string(), PhantomData))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Written<K>, A::Error> {
        let (mut value, mut expires) = (None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "expires" => expires = Some(map.next_value::<Spanned<Datetime>>()?),
                k if k == K::KEY => value = Some(map.next_value::<Spanned<String>>()?),
                other => return Err(de::Error::unknown_field(other, K::FIELDS)),
            }
        }
        let value = value.ok_or_else(|| de::Error::missing_field(K::KEY))?;
        Ok(Written::Table { value, expires })
    }
}

impl<'de, K: DatedKey> Deserialize<'de> for Written<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(WrittenVisitor(PhantomData))
    }
}

/// A value and the date it ends, if any.
type DatedValue = (Spanned<String>, Option<Spanned<Datetime>>);

/// The value and its end date; a plain value is placed where it is written.
fn read_dated<'de, K: DatedKey, D: Deserializer<'de>>(d: D) -> Result<DatedValue, D::Error> {
    let written = Spanned::<Written<K>>::deserialize(d)?;
    let span = written.span();
    Ok(match written.into_inner() {
        Written::Plain(value, _) => (Spanned::new(span, value), None),
        Written::Table { value, expires } => (value, expires),
    })
}

/// The JSON schema of a dated value: a string, or the table form.
fn dated_schema<K: DatedKey>() -> schemars::Schema {
    let mut properties = serde_json::Map::new();
    properties.insert(K::KEY.into(), serde_json::json!({ "type": "string" }));
    properties.insert(
        "expires".into(),
        serde_json::json!({ "type": "string", "format": "date" }),
    );
    schemars::json_schema!({
        "description": K::DESCRIPTION,
        "oneOf": [
            { "type": "string" },
            {
                "type": "object",
                "properties": properties,
                "required": [K::KEY],
                "additionalProperties": false
            }
        ]
    })
}

/// A TOML date without a time (`2026-12-31`), as a calendar date.
pub(crate) fn plain_date(written: &Datetime) -> Option<NaiveDate> {
    if written.time.is_some() || written.offset.is_some() {
        return None;
    }
    let d = written.date?;
    NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
}

pub(crate) fn check_date(c: &mut Checker, file: usize, written: &Spanned<Datetime>) {
    if plain_date(written.get_ref()).is_none() {
        c.error(
            file,
            written.span(),
            format!(
                "`expires` must be a date without a time, not {}",
                written.get_ref()
            ),
            Some("write the last day of access as a TOML date: expires = 2026-12-31".into()),
        );
    }
}

/// `expires` on a person and on their memberships is a plain date.
pub(super) fn expiry_dates(c: &mut Checker, l: &Loaded) {
    for u in l.users {
        if let Some(e) = &u.spec.expires {
            check_date(c, u.file, e);
        }
        let groups = memberships(&u.spec);
        for e in groups.filter_map(|g| g.expires.as_ref()) {
            check_date(c, u.file, e);
        }
    }
}

/// The default of `expiry_notice_days`.
pub(crate) const DEFAULT_NOTICE_DAYS: u32 = 14;

/// `expiry_notice_days`: a whole number of days, 0 to 366.
pub(super) fn notice_days(s: &mut SiteCheck) -> u32 {
    let Some(written) = &s.spec().expiry_notice_days else {
        return DEFAULT_NOTICE_DAYS;
    };
    if let Ok(days) = u32::try_from(*written.get_ref())
        && days <= 366
    {
        return days;
    }
    let name = s.name();
    s.error(
        written.span(),
        format!(
            "site `{name}`: expiry_notice_days must be a whole number of days from 0 to 366, not {}",
            written.get_ref()
        ),
        Some("leave it out for 14 days".into()),
    );
    DEFAULT_NOTICE_DAYS
}

/// `[settings] expiry_notice_days`: the default of every site that does
/// not set its own; `[settings]` is written once.
pub(super) fn global_notice_days(
    c: &mut Checker,
    settings: &[super::load::Entry<super::schema::SettingsSpec>],
    sites: &[(Spanned<String>, super::load::Entry<super::schema::SiteSpec>)],
    site_list: &mut [crate::model::Site],
) {
    if let [first, again, ..] = settings {
        let here = c.location(first.file, &first.span);
        c.error(
            again.file,
            again.span.clone(),
            "[settings] is declared twice".into(),
            Some(format!("it is first declared at {here}; keep one")),
        );
    }
    let Some(written) = settings
        .first()
        .and_then(|s| s.spec.expiry_notice_days.as_ref())
    else {
        return;
    };
    let days = match u32::try_from(*written.get_ref()) {
        Ok(days) if days <= 366 => days,
        _ => {
            c.error(
                settings[0].file,
                written.span(),
                format!(
                    "[settings] expiry_notice_days must be a whole number of days from 0 to 366, not {}",
                    written.get_ref()
                ),
                Some("leave it out for 14 days".into()),
            );
            return;
        }
    };
    let own: std::collections::HashSet<&str> = sites
        .iter()
        .filter(|(_, e)| e.spec.common.expiry_notice_days.is_some())
        .map(|(n, _)| n.get_ref().as_str())
        .collect();
    for site in site_list
        .iter_mut()
        .filter(|s| !own.contains(s.name.as_str()))
    {
        site.expiry_notice_days = days;
    }
}

/// `seats = { Creator = 45 }`: each name one the site counts, each number
/// 0 or more.
pub(super) fn seats(
    s: &mut SiteCheck,
    caps: &crate::provider::Capabilities,
) -> crate::model::Seats {
    let mut budget = crate::model::Seats::default();
    let Some(written) = &s.spec().seats else {
        return budget;
    };
    let name = s.name();
    let Some(basis) = SeatBasis::of(caps) else {
        s.error(
            written.span(),
            format!(
                "site `{name}`: {} sites have no seats to budget",
                caps.product
            ),
            Some("remove `seats`".into()),
        );
        return budget;
    };
    let mut seen: HashMap<String, Range<usize>> = HashMap::new();
    // In the order written, so that a repeat is the later one.
    let mut entries: Vec<_> = written.get_ref().iter().collect();
    entries.sort_by_key(|(kind, _)| kind.span().start);
    for (kind, count) in entries {
        let known = match basis {
            SeatBasis::AccountType => !kind.get_ref().trim().is_empty(),
            SeatBasis::AccessLevel => Access::parse(kind.get_ref()).is_some(),
        };
        if known && seat_declared_twice(s, kind, basis, &mut seen) {
            continue;
        }
        if !known {
            let hint = match basis {
                SeatBasis::AccountType => {
                    "name an account type, e.g. seats = { Creator = 45 }".to_string()
                }
                SeatBasis::AccessLevel => format!(
                    "on {} sites seats are counted by access level: {}",
                    caps.product,
                    Access::ALL.map(Access::as_str).join(", ")
                ),
            };
            s.error(
                kind.span(),
                format!("site `{name}`: `{}` is not a seat type", kind.get_ref()),
                Some(hint),
            );
            continue;
        }
        match u64::try_from(*count.get_ref()) {
            Ok(n) => {
                let key = match basis {
                    SeatBasis::AccessLevel => Access::parse(kind.get_ref())
                        .map_or_else(|| kind.get_ref().clone(), |a| a.as_str().to_string()),
                    SeatBasis::AccountType => kind.get_ref().trim().to_string(),
                };
                budget.insert(key, n, s.location(&kind.span()));
            }
            Err(_) => s.error(
                count.span(),
                format!(
                    "site `{name}`: a seat budget must be 0 or more, not {}",
                    count.get_ref()
                ),
                Some(format!(
                    "write the most people the site may have, e.g. {} = 45",
                    kind.get_ref()
                )),
            ),
        }
    }
    budget
}

/// A seat type written twice in one `seats` table, in another letter case
/// (`creator` and `CREATOR`) or spelling of one access level (`SQL` and
/// `"Sql"`): an error naming the first, as the two cannot both hold.
fn seat_declared_twice(
    s: &mut SiteCheck,
    kind: &Spanned<String>,
    basis: SeatBasis,
    seen: &mut HashMap<String, Range<usize>>,
) -> bool {
    let key = match basis {
        SeatBasis::AccountType => crate::attrs::name_key(kind.get_ref()),
        SeatBasis::AccessLevel => {
            Access::parse(kind.get_ref()).map_or_else(String::new, |a| a.as_str().to_string())
        }
    };
    let Some(first) = seen.get(&key) else {
        seen.insert(key, kind.span());
        return false;
    };
    let first = s.location(first);
    let name = s.name();
    s.error(
        kind.span(),
        format!(
            "site `{name}`: seat type `{}` is declared twice in `seats` (seat types compare ignoring case)",
            kind.get_ref()
        ),
        Some(format!("it is first declared at {first}; keep one")),
    );
    true
}

/// A date written in the state, where it is written, and what ends then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dated {
    /// `file:line:column` of the date.
    pub location: String,
    /// `ada@acme.com`, `ada@acme.com in Finance`, `edit on workspace
    /// Finance for team Analysts`
    pub subject: String,
    pub on: NaiveDate,
}

/// Every `expires` date written under `dir`, with its place: what `roster
/// validate` warns about once a date is past (the model keeps no places).
pub(crate) fn dated(parsed: &super::load::Parsed) -> Vec<Dated> {
    let files = &parsed.files;
    let mut found = Vec::new();
    let mut add = |file: usize, written: &Spanned<Datetime>, subject: String| {
        let Some(on) = plain_date(written.get_ref()) else {
            return;
        };
        let (line, column) = files[file].line_column(written.span().start);
        let location = format!("{}:{line}:{column}", files[file].path.display());
        found.push(Dated {
            location,
            subject,
            on,
        });
    };
    for u in &parsed.entries.users {
        let email = u.spec.email.get_ref().trim();
        if let Some(e) = &u.spec.expires {
            add(u.file, e, email.to_string());
        }
        let groups = memberships(&u.spec);
        for g in groups {
            if let Some(e) = &g.expires {
                add(u.file, e, format!("{email} in {}", g.get_ref()));
            }
        }
    }
    for (file, written, subject) in parsed.entries.kinds.dates() {
        add(file, written, subject);
    }
    found
}
