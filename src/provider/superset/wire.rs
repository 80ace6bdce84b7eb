//! Superset's JSON (Flask-AppBuilder's security API, verified on 6.1.0),
//! read leniently: a field of an unexpected type reads as absent.

use serde::Deserialize;

use crate::provider::lenient;

/// `POST /api/v1/security/login` and `/refresh`.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Tokens {
    #[serde(deserialize_with = "lenient::text")]
    pub access_token: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub refresh_token: Option<String>,
}

/// One page of a list: `{"count": N, "ids": [...], "result": [...]}`.
#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub(super) struct Page<T> {
    #[serde(default = "Vec::new", deserialize_with = "lenient::seq")]
    pub result: Vec<T>,
    #[serde(default)]
    pub count: Option<u64>,
}

/// A role or a group as a user or a group names it: `{"id", "name"}`;
/// a member of a group: `{"id", "username"}`.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(default)]
pub(super) struct Ref {
    #[serde(deserialize_with = "lenient::id")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub name: Option<String>,
}

/// A user of `/api/v1/security/users/`.
#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub(super) struct User {
    #[serde(deserialize_with = "lenient::id")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub username: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub email: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub first_name: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub last_name: Option<String>,
    #[serde(deserialize_with = "lenient::flag")]
    pub active: bool,
    #[serde(deserialize_with = "lenient::seq")]
    pub groups: Vec<Ref>,
    #[serde(deserialize_with = "lenient::seq")]
    pub roles: Vec<Ref>,
}

/// A group of `/api/v1/security/groups/`.
#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub(super) struct Group {
    #[serde(deserialize_with = "lenient::id")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub description: Option<String>,
}

/// `GET /api/v1/security/users/{id}`: `{"id", "result": {...}}`.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct One<T: Default> {
    pub result: T,
}

/// What a create answers: `{"id": N, "result": {...}}`.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Created {
    #[serde(deserialize_with = "lenient::id")]
    pub id: Option<String>,
}
