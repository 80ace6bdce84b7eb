//! The keys of a `[sites.NAME]` table, each declared once: in the table of
//! the provider whose sites have it (`provider/<name>/settings.rs`), or in
//! the table of the keys every site has (`CommonKeys` in
//! `state/schema.rs`). The declaration ([`site_keys!`]) is the key's field,
//! its JSON Schema (the field's doc comment and `schemars` attributes),
//! where it is listed and whether it is a connection setting; reading it,
//! reporting it as unknown or as another provider's, and comparing it with
//! the trusted state all come from it.

use std::ops::Range;

use toml::Spanned;

/// One key of a site table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteKey {
    pub name: &'static str,
    /// Where the key stands in the list of every site key that messages
    /// give (from 1, in the order keys were added: a new key takes the next
    /// number).
    pub listed: usize,
    /// Where the key stands among the connection settings (from 1), which
    /// decide what runs or where a request goes and which a pull request's
    /// state may not change (see `state/trust.rs`); `None` for the others.
    pub connection: Option<usize>,
}

/// Where a written value is: `None` when the key is absent, or when its
/// value keeps no location (only keys every site has are written so).
pub trait WrittenAt {
    fn written_at(&self) -> Option<Range<usize>>;
}

impl<T> WrittenAt for Option<Spanned<T>> {
    fn written_at(&self) -> Option<Range<usize>> {
        self.as_ref().map(Spanned::span)
    }
}

impl WrittenAt for Option<u32> {
    fn written_at(&self) -> Option<Range<usize>> {
        None
    }
}

impl WrittenAt for Option<f64> {
    fn written_at(&self) -> Option<Range<usize>> {
        None
    }
}

impl WrittenAt for Option<Vec<Spanned<String>>> {
    fn written_at(&self) -> Option<Range<usize>> {
        None
    }
}

impl WrittenAt for crate::model::Unmanaged {
    fn written_at(&self) -> Option<Range<usize>> {
        None
    }
}

/// A connection setting of a site table as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionSetting {
    /// Its place among the connection settings ([`SiteKey::connection`]).
    pub place: usize,
    pub key: &'static str,
    /// Its canonical value, `None` when absent (see [`Compared`]).
    pub value: Option<String>,
    /// Where it is written, when it keeps a location.
    pub span: Option<Range<usize>>,
}

impl ConnectionSetting {
    pub fn new(
        place: usize,
        key: &'static str,
        (value, span): (Option<String>, Option<Range<usize>>),
    ) -> ConnectionSetting {
        ConnectionSetting {
            place,
            key,
            value,
            span,
        }
    }
}

/// A written value as the comparison with the trusted state sees it: its
/// canonical text (`None` when absent) and where it is written (`None`
/// when it keeps no location: the site's table is pointed at).
pub trait Compared {
    fn compared(&self) -> (Option<String>, Option<Range<usize>>);
}

impl Compared for Option<Spanned<String>> {
    fn compared(&self) -> (Option<String>, Option<Range<usize>>) {
        (
            self.as_ref().map(|s| s.get_ref().trim().to_string()),
            self.as_ref().map(Spanned::span),
        )
    }
}

impl Compared for Option<Spanned<i64>> {
    fn compared(&self) -> (Option<String>, Option<Range<usize>>) {
        (
            self.as_ref().map(|n| n.get_ref().to_string()),
            self.as_ref().map(Spanned::span),
        )
    }
}

impl Compared for Option<f64> {
    /// A float keeps no span.
    fn compared(&self) -> (Option<String>, Option<Range<usize>>) {
        (self.map(|r| r.to_string()), None)
    }
}

/// `a`, `a or b`, `a, b or c`.
pub fn or_list(items: &[String]) -> String {
    match items {
        [rest @ .., last] if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => items.concat(),
    }
}

/// Which place of a [`SiteKey`] orders a list of keys.
#[derive(Clone, Copy)]
pub enum Order {
    /// Every key, by [`SiteKey::listed`].
    Listed,
    /// The connection settings, by [`SiteKey::connection`].
    Connection,
}

impl Order {
    const fn place(self, key: &SiteKey) -> Option<usize> {
        match self {
            Order::Listed => Some(key.listed),
            Order::Connection => key.connection,
        }
    }
}

/// How many keys of `tables` have a place in `order`.
pub const fn count(tables: &[&[SiteKey]], order: Order) -> usize {
    let mut n = 0;
    let mut t = 0;
    while t < tables.len() {
        let mut k = 0;
        while k < tables[t].len() {
            if order.place(&tables[t][k]).is_some() {
                n += 1;
            }
            k += 1;
        }
        t += 1;
    }
    n
}

/// The names of the keys of `tables` that have a place in `order`, in that
/// order. Evaluated at compile time: two keys in one place, or a gap,
/// stop the build.
pub const fn names<const N: usize>(tables: &[&[SiteKey]], order: Order) -> [&'static str; N] {
    let mut out = [""; N];
    let mut t = 0;
    while t < tables.len() {
        let mut k = 0;
        while k < tables[t].len() {
            let key = &tables[t][k];
            if let Some(place) = order.place(key) {
                assert!(
                    place >= 1 && place <= N,
                    "a site key's place is past the end of its list: take the next number"
                );
                assert!(
                    out[place - 1].is_empty(),
                    "two site keys are in one place of a list"
                );
                out[place - 1] = key.name;
            }
            k += 1;
        }
        t += 1;
    }
    out
}

/// Declares the keys of a site table as a struct with one field each:
///
/// ```text
/// site_keys! {
///     /// What only Acme site tables hold, as written.
///     pub struct Keys {
///         /// Acme: where the API token comes from.
///         #[schemars(with = "Option<SecretRef>")]
///         token: Option<Spanned<SecretRef>> = listed 39, connection 13;
///         /// Acme: the team new people join.
///         #[schemars(with = "Option<String>")]
///         team: Option<Spanned<String>> = listed 40;
///     }
/// }
/// ```
///
/// The doc comment and `schemars` attributes make the key's JSON Schema;
/// `listed N` is its place in the list of every site key (the next free
/// number); `connection N` makes it a connection setting, Nth in their
/// list, compared with the trusted state as [`Compared`] (or `by` a
/// function of the field) says. The struct gets `KEYS`, `read` (a written
/// value into its field) and `connection_settings`.
macro_rules! site_keys {
    (@connection) => { None };
    (@connection $place:literal) => { Some($place) };
    (@compare $value:expr) => { $crate::provider::site_keys::Compared::compared(&$value) };
    (@compare $value:expr, $compare:path) => { $compare(&$value) };
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[$attr:meta])*
                $field:ident : $ty:ty = listed $listed:literal
                    $(, connection $connection:literal $(by $compare:path)?)?;
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Default, schemars::JsonSchema)]
        $vis struct $name {
            $($(#[$attr])* pub $field: $ty,)*
        }

        impl $name {
            /// The keys, as declared.
            pub const KEYS: &'static [$crate::provider::site_keys::SiteKey] = &[$(
                $crate::provider::site_keys::SiteKey {
                    name: stringify!($field),
                    listed: $listed,
                    connection: $crate::provider::site_keys::site_keys!(@connection $($connection)?),
                },
            )*];

            /// Reads the written value of `key` into its field; `false`
            /// when `key` is none of these.
            pub fn read<'de, D: serde::Deserializer<'de>>(
                &mut self,
                key: &str,
                value: D,
            ) -> Result<bool, D::Error> {
                match key {
                    $(stringify!($field) => {
                        self.$field = serde::Deserialize::deserialize(value)?;
                    })*
                    _ => return Ok(false),
                }
                Ok(true)
            }

            /// The keys written with a location, and where.
            pub fn written(&self) -> Vec<(&'static str, std::ops::Range<usize>)> {
                let mut out = Vec::new();
                $(
                    if let Some(at) = $crate::provider::site_keys::WrittenAt::written_at(&self.$field) {
                        out.push((stringify!($field), at));
                    }
                )*
                out
            }

            /// The connection settings among these keys, as written.
            pub fn connection_settings(&self) -> Vec<$crate::provider::site_keys::ConnectionSetting> {
                vec![$($(
                    $crate::provider::site_keys::ConnectionSetting::new(
                        $connection,
                        stringify!($field),
                        $crate::provider::site_keys::site_keys!(@compare self.$field $(, $compare)?),
                    ),
                )?)*]
            }
        }
    };
}

pub(crate) use site_keys;
