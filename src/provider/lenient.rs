//! Reading API answers straight into typed structs, as leniently as the
//! references ask: a field of an unexpected type reads as absent instead of
//! failing the whole answer, and lists come bare or wrapped in an object.
//!
//! Each answer is parsed once, from its bytes, into the few fields roster
//! uses; nothing else of it is kept.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, DeserializeOwned, Deserializer, IgnoredAny, Visitor};

/// Visitor methods that read each kind of value listed (`bool`, `i64`,
/// `u64`, `f64`, `str`, `unit`, `none`, `seq`, `map`) as `$value`; arrays
/// and objects are skipped over whole.
macro_rules! read_as {
    ($value:expr; $($kind:ident),*) => { $( $crate::provider::lenient::read_as!(@one $value; $kind); )* };
    (@one $value:expr; bool) => {
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> { Ok($value) }
    };
    (@one $value:expr; i64) => {
        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> { Ok($value) }
    };
    (@one $value:expr; u64) => {
        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> { Ok($value) }
    };
    (@one $value:expr; f64) => {
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> { Ok($value) }
    };
    (@one $value:expr; str) => {
        fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> { Ok($value) }
    };
    (@one $value:expr; unit) => {
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> { Ok($value) }
    };
    (@one $value:expr; none) => {
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> { Ok($value) }
    };
    (@one $value:expr; seq) => {
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            serde::de::IgnoredAny.visit_seq(seq).map(|_| $value)
        }
    };
    (@one $value:expr; map) => {
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            serde::de::IgnoredAny.visit_map(map).map(|_| $value)
        }
    };
}
pub(crate) use read_as;

/// A string, or None for anything else (a number, null, an object...).
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(Scalar { numbers: false })
}

/// An ID: a string, or a number written as one; None for anything else.
pub fn id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(Scalar { numbers: true })
}

/// An array of `T`, or empty for anything else.
pub fn seq<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    struct Seq<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for Seq<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any value")
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
            while let Some(item) = seq.next_element()? {
                items.push(item);
            }
            Ok(items)
        }
        read_as!(Vec::new(); bool, i64, u64, f64, str, unit, map);
    }
    d.deserialize_any(Seq(PhantomData))
}

/// A boolean, or false for anything else.
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct Flag;
    impl<'de> Visitor<'de> for Flag {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any value")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        read_as!(false; i64, u64, f64, str, unit, seq, map);
    }
    d.deserialize_any(Flag)
}

struct Scalar {
    /// Numbers read as their decimal text.
    numbers: bool,
}

impl<'de> Visitor<'de> for Scalar {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(self.numbers.then(|| v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(self.numbers.then(|| v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(self.numbers.then(|| v.to_string()))
    }
    read_as!(None; bool, unit, none, seq, map);
}

/// A list answer: a bare array, or an object holding the array under one of
/// the keys `K` names, with the next page's cursor if any.
pub struct List<T, K> {
    pub items: Vec<T>,
    pub next: Option<String>,
    /// The answer says more pages follow (`hasMore: true`).
    pub has_more: bool,
    keys: PhantomData<K>,
}

/// Where a list answer keeps its items and its cursor.
pub trait ListKeys {
    /// Keys that may hold the array, in order of preference.
    const ITEMS: &'static [&'static str];
    /// Keys that may hold the next page's cursor.
    const CURSOR: &'static [&'static str];
}

impl<'de, T: DeserializeOwned, K: ListKeys> Deserialize<'de> for List<T, K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ListVisitor<T, K>(PhantomData<(T, K)>);
        impl<'de, T: DeserializeOwned, K: ListKeys> Visitor<'de> for ListVisitor<T, K> {
            type Value = List<T, K>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(
                    f,
                    "an array or an object with a `{}` array",
                    K::ITEMS.first().copied().unwrap_or_default()
                )
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(List {
                    items,
                    next: None,
                    has_more: false,
                    keys: PhantomData,
                })
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                // The array under the most preferred key present.
                let mut found: Option<(usize, Vec<T>)> = None;
                let mut next = None;
                let mut has_more = false;
                while let Some(key) = map.next_key::<String>()? {
                    if let Some(rank) = K::ITEMS.iter().position(|k| *k == key) {
                        let items: Option<Vec<T>> = map.next_value()?;
                        if let Some(items) = items
                            && found.as_ref().is_none_or(|(r, _)| rank < *r)
                        {
                            found = Some((rank, items));
                        }
                    } else if K::CURSOR.contains(&key.as_str()) {
                        next = map.next_value::<Text>()?.0.filter(|s| !s.is_empty());
                    } else if key == "hasMore" || key == "has_more" {
                        has_more = map.next_value::<serde_json::Value>()?.as_bool() == Some(true);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                match found {
                    Some((_, items)) => Ok(List {
                        items,
                        next,
                        has_more,
                        keys: PhantomData,
                    }),
                    None => Err(de::Error::custom(format!(
                        "expected an array or an object with a `{}` array",
                        K::ITEMS.first().copied().unwrap_or_default()
                    ))),
                }
            }
        }
        d.deserialize_any(ListVisitor(PhantomData))
    }
}

/// [`text`] as a type, for map values read by hand.
pub struct Text(pub Option<String>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        text(d).map(Text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Thing {
        #[serde(default, deserialize_with = "text")]
        name: Option<String>,
        #[serde(default, deserialize_with = "id")]
        id: Option<String>,
        #[serde(default, deserialize_with = "flag")]
        on: bool,
    }

    struct Things;
    impl ListKeys for Things {
        const ITEMS: &'static [&'static str] = &["things", "data"];
        const CURSOR: &'static [&'static str] = &["nextPage"];
    }

    fn list(json: &str) -> Result<List<Thing, Things>, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn fields_of_unexpected_types_read_as_absent() {
        let t: Vec<Thing> = serde_json::from_str(
            r#"[{"name": "a", "id": 7, "on": true},
                {"name": 3, "id": {"x": [1]}, "on": "yes", "other": [1, {"a": null}]},
                {"name": null, "id": "x-1"}]"#,
        )
        .unwrap();
        let expect = |name: Option<&str>, id: Option<&str>, on| Thing {
            name: name.map(str::to_string),
            id: id.map(str::to_string),
            on,
        };
        assert_eq!(
            t,
            [
                expect(Some("a"), Some("7"), true),
                expect(None, None, false),
                expect(None, Some("x-1"), false),
            ]
        );
    }

    #[test]
    fn lists_bare_or_wrapped() {
        let bare = list(r#"[{"name": "a"}]"#).unwrap();
        assert_eq!((bare.items.len(), bare.next), (1, None));
        let wrapped =
            list(r#"{"total": 2, "things": [{}, {}], "nextPage": "c2", "data": [{}]}"#).unwrap();
        assert_eq!(
            (wrapped.items.len(), wrapped.next.as_deref()),
            (2, Some("c2"))
        );
        // A less preferred key, a null or empty cursor.
        let data = list(r#"{"data": [{}], "nextPage": null}"#).unwrap();
        assert_eq!((data.items.len(), data.next), (1, None));
        assert_eq!(
            list(r#"{"things": [], "nextPage": ""}"#).unwrap().next,
            None
        );
        for wrong in [r#"{"people": []}"#, r#"{"things": null}"#, "7", r#""x""#] {
            let e = list(wrong).err().unwrap().to_string();
            assert!(
                e.contains("expected an array or an object with a `things` array"),
                "{e}"
            );
        }
    }
}
