//! One emulated SCIM 2.0 service and its rules, written from RFC 7643 and
//! RFC 7644 (never from roster's client): `userName` unique compared
//! case-insensitively (409 `uniqueness`), required attributes, group
//! members that name resources of the service, PATCH add/replace/remove
//! with value-filter paths, versions for ETags, `meta` on every resource.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::filter::{self, Filter, PatchPath};
use super::schema::{self, Attr, EXTERNAL_ID, GROUP_ATTRS, Mutability, Type, USER_ATTRS};

/// A SCIM error (RFC 7644 §3.12): an HTTP status, a `scimType` for 400s
/// and 409s, and a detail for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self::new(400, Some(scim_type), detail)
    }

    pub fn body(&self) -> Value {
        let mut v = json!({
            "schemas": [schema::ERROR],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            v["scimType"] = json!(t);
        }
        v
    }
}

impl From<filter::FilterError> for ScimError {
    fn from(e: filter::FilterError) -> Self {
        ScimError::bad("invalidFilter", e.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Group,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
        }
    }

    pub fn endpoint(self) -> &'static str {
        match self {
            Kind::User => "Users",
            Kind::Group => "Groups",
        }
    }

    pub fn schema(self) -> &'static str {
        match self {
            Kind::User => schema::USER_SCHEMA,
            Kind::Group => schema::GROUP_SCHEMA,
        }
    }

    fn attrs(self) -> &'static [Attr] {
        match self {
            Kind::User => USER_ATTRS,
            Kind::Group => GROUP_ATTRS,
        }
    }

    /// The attribute named (case-insensitively), `externalId` included.
    fn attr(self, name: &str) -> Option<&'static Attr> {
        self.attrs()
            .iter()
            .chain(std::iter::once(&EXTERNAL_ID))
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// One User or Group as kept: what clients set, and the service's own
/// `id`, timestamps and version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    pub id: String,
    pub created: String,
    pub last_modified: String,
    pub version: u64,
    pub attributes: Map<String, Value>,
}

impl Resource {
    /// The weak entity tag of this version (RFC 7644 §3.14).
    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }
}

/// Where a group's `members` are returned. RFC 7643 §4.2 returns them
/// by default; real services differ, and each way is one a client meets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MembersReturned {
    /// In every answer (RFC 7643 §7 `returned: "default"`).
    #[default]
    Default,
    /// Left out of list answers (`GET /Groups`, `.search`), as many
    /// services do to keep lists small, `attributes` or not; a group's own
    /// read (`GET /Groups/{id}`) has them.
    NotInLists,
    /// Only when a request names them in `attributes` (RFC 7643 §7
    /// `returned: "request"`), in lists and in a group's own read alike.
    Request,
}

/// How a service answers where RFC 7643 and RFC 7644 leave it to the
/// service provider; the default is the sandbox's usual service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Behaviour {
    pub members: MembersReturned,
    /// PATCH is not offered (RFC 7644 §3.5.2 makes it optional):
    /// `/ServiceProviderConfig` says `patch.supported: false` and a PATCH
    /// is answered 501.
    pub no_patch: bool,
}

impl Behaviour {
    #[allow(
        clippy::trivially_copy_pass_by_ref,
        reason = "serde's skip_serializing_if passes a reference"
    )]
    fn is_default(&self) -> bool {
        *self == Behaviour::default()
    }
}

/// How a service is saved: its resources in lists, no derived index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceFile {
    token: String,
    #[serde(default, skip_serializing_if = "Behaviour::is_default")]
    behaviour: Behaviour,
    #[serde(default)]
    users: Vec<Resource>,
    #[serde(default)]
    groups: Vec<Resource>,
    #[serde(default)]
    next_id: u64,
}

/// One emulated SCIM service (one site of `provider = "scim"`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "ServiceFile", into = "ServiceFile")]
pub struct ScimService {
    /// The bearer token the service accepts.
    pub token: String,
    /// How it answers where the RFCs leave it to the service.
    pub behaviour: Behaviour,
    users: BTreeMap<String, Resource>,
    groups: BTreeMap<String, Resource>,
    next_id: u64,
    /// Lower-cased `userName` → id: uniqueness and `userName eq` look-ups.
    user_names: HashMap<String, String>,
    /// Member id → the groups it is a direct member of (a user's `groups`).
    member_of: HashMap<String, BTreeSet<String>>,
}

/// Equal when what is saved is equal (the indexes are derived from it).
impl PartialEq for ScimService {
    fn eq(&self, other: &Self) -> bool {
        (
            &self.token,
            self.behaviour,
            &self.users,
            &self.groups,
            self.next_id,
        ) == (
            &other.token,
            other.behaviour,
            &other.users,
            &other.groups,
            other.next_id,
        )
    }
}

impl Eq for ScimService {}

impl From<ServiceFile> for ScimService {
    fn from(f: ServiceFile) -> Self {
        let mut s = ScimService::new(&f.token);
        s.behaviour = f.behaviour;
        s.next_id = f.next_id;
        for u in f.users {
            if let Some(name) = user_name(&u.attributes) {
                s.user_names.insert(name, u.id.clone());
            }
            s.users.insert(u.id.clone(), u);
        }
        for g in f.groups {
            s.index_members(&g, true);
            s.groups.insert(g.id.clone(), g);
        }
        s
    }
}

impl From<ScimService> for ServiceFile {
    fn from(s: ScimService) -> Self {
        ServiceFile {
            token: s.token,
            behaviour: s.behaviour,
            users: s.users.into_values().collect(),
            groups: s.groups.into_values().collect(),
            next_id: s.next_id,
        }
    }
}

/// The lower-cased `userName` of a user's attributes.
fn user_name(attrs: &Map<String, Value>) -> Option<String> {
    attrs
        .get("userName")
        .and_then(Value::as_str)
        .map(str::to_lowercase)
}

fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// `startIndex`, `count`, `filter` of a list (RFC 7644 §3.4.2).
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    pub start_index: usize,
    pub count: Option<usize>,
}

impl ScimService {
    pub fn new(token: &str) -> Self {
        ScimService {
            token: token.to_string(),
            behaviour: Behaviour::default(),
            users: BTreeMap::new(),
            groups: BTreeMap::new(),
            next_id: 1,
            user_names: HashMap::new(),
            member_of: HashMap::new(),
        }
    }

    /// Adds (or removes) a group's members to (from) `member_of`.
    fn index_members(&mut self, group: &Resource, add: bool) {
        let Some(Value::Array(members)) = group.attributes.get("members") else {
            return;
        };
        for id in members.iter().filter_map(|m| m.get("value")?.as_str()) {
            let groups = self.member_of.entry(id.to_string()).or_default();
            if add {
                groups.insert(group.id.clone());
            } else {
                groups.remove(&group.id);
            }
        }
    }

    fn table(&self, kind: Kind) -> &BTreeMap<String, Resource> {
        match kind {
            Kind::User => &self.users,
            Kind::Group => &self.groups,
        }
    }

    /// A fresh number: ids (as UUIDs, in creation order) and versions.
    fn next(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn get(&self, kind: Kind, id: &str) -> Result<&Resource, ScimError> {
        self.table(kind)
            .get(id)
            .ok_or_else(|| ScimError::new(404, None, format!("no {} with id {id:?}", kind.name())))
    }

    /// The resource as the service answers it, `meta` and (for users)
    /// `groups` included; `base` is the service's URL.
    pub fn render(&self, kind: Kind, r: &Resource, base: &str) -> Value {
        let mut out = Map::new();
        out.insert("schemas".into(), json!([kind.schema()]));
        out.insert("id".into(), json!(r.id));
        for (k, v) in &r.attributes {
            out.insert(k.clone(), v.clone());
        }
        if kind == Kind::Group {
            self.drop_dangling(&mut out);
        }
        let groups = self.member_of.get(&r.id).filter(|_| kind == Kind::User);
        if let Some(ids) = groups.filter(|ids| !ids.is_empty()) {
            let refs = ids.iter().filter_map(|id| self.groups.get(id)).map(|g| {
                json!({
                    "value": g.id,
                    "$ref": format!("{base}/Groups/{}", g.id),
                    "display": g.attributes.get("displayName"),
                    "type": "direct",
                })
            });
            out.insert("groups".into(), Value::Array(refs.collect()));
        }
        out.insert(
            "meta".into(),
            json!({
                "resourceType": kind.name(),
                "created": r.created,
                "lastModified": r.last_modified,
                "location": format!("{base}/{}/{}", kind.endpoint(), r.id),
                "version": r.etag(),
            }),
        );
        Value::Object(out)
    }

    /// Members whose resource was deleted since are not shown.
    fn drop_dangling(&self, attrs: &mut Map<String, Value>) {
        if let Some(Value::Array(members)) = attrs.get_mut("members") {
            members.retain(|m| {
                m.get("value")
                    .and_then(Value::as_str)
                    .is_some_and(|id| self.users.contains_key(id) || self.groups.contains_key(id))
            });
            if members.is_empty() {
                attrs.remove("members");
            }
        }
    }

    /// The resources matching the query, rendered, and how many matched.
    pub fn list(&self, kind: Kind, q: &ListQuery, base: &str) -> (usize, Vec<Value>) {
        let render = |r: &Resource| self.render(kind, r, base);
        let matched: Vec<&Resource> = match (&q.filter, self.by_user_name(kind, q)) {
            (_, Some(hit)) => hit,
            (None, None) => self.table(kind).values().collect(),
            (Some(f), None) => self
                .table(kind)
                .values()
                .filter(|r| filter::matches(f, &render(r)))
                .collect(),
        };
        let count = q
            .count
            .unwrap_or(schema::DEFAULT_COUNT)
            .min(schema::MAX_RESULTS);
        let page = matched
            .iter()
            .skip(q.start_index.max(1) - 1)
            .take(count)
            .map(|r| render(r))
            .collect();
        (matched.len(), page)
    }

    /// `userName eq "…"` answered from the index, not a scan.
    fn by_user_name(&self, kind: Kind, q: &ListQuery) -> Option<Vec<&Resource>> {
        let Some(Filter::Compare(path, filter::Op::Eq, Value::String(name))) = &q.filter else {
            return None;
        };
        if kind != Kind::User || path.attr != "username" || path.sub.is_some() {
            return None;
        }
        Some(
            self.user_names
                .get(&name.to_lowercase())
                .and_then(|id| self.users.get(id))
                .into_iter()
                .collect(),
        )
    }

    /// POST: a new resource from the body.
    pub fn create(&mut self, kind: Kind, body: &Value) -> Result<&Resource, ScimError> {
        let attrs = self.accept(kind, body, None)?;
        let n = self.next();
        let id = format!("00000000-0000-4000-8000-{n:012x}");
        let at = now();
        let r = Resource {
            id: id.clone(),
            created: at.clone(),
            last_modified: at,
            version: n,
            attributes: attrs,
        };
        Ok(self.store(kind, r))
    }

    /// PUT: the resource's attributes replaced by the body's.
    pub fn replace(
        &mut self,
        kind: Kind,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Result<&Resource, ScimError> {
        self.precondition(kind, id, if_match)?;
        let attrs = self.accept(kind, body, Some(id))?;
        self.update(kind, id, attrs)
    }

    /// PATCH (RFC 7644 §3.5.2): every operation applied in order, all or
    /// nothing, the result held to the same rules as a PUT.
    pub fn patch(
        &mut self,
        kind: Kind,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Result<&Resource, ScimError> {
        self.precondition(kind, id, if_match)?;
        let ops = patch_operations(body)?;
        let mut attrs = self.get(kind, id)?.attributes.clone();
        for op in ops {
            apply(kind, &mut attrs, op)?;
        }
        let mut whole = Value::Object(attrs);
        whole["schemas"] = json!([kind.schema()]);
        let attrs = self.accept(kind, &whole, Some(id))?;
        self.update(kind, id, attrs)
    }

    pub fn delete(
        &mut self,
        kind: Kind,
        id: &str,
        if_match: Option<&str>,
    ) -> Result<(), ScimError> {
        self.precondition(kind, id, if_match)?;
        let removed = match kind {
            Kind::User => self.users.remove(id),
            Kind::Group => self.groups.remove(id),
        };
        if let Some(g) = removed.as_ref().filter(|_| kind == Kind::Group) {
            self.index_members(g, false);
        }
        if let Some(name) = removed.as_ref().and_then(|r| user_name(&r.attributes)) {
            self.user_names.remove(&name);
        }
        Ok(())
    }

    /// 404 for an unknown id; 412 when `If-Match` names another version.
    fn precondition(&self, kind: Kind, id: &str, if_match: Option<&str>) -> Result<(), ScimError> {
        let current = self.get(kind, id)?.etag();
        match if_match {
            Some(tags) if !etag_matches(tags, &current) => Err(ScimError::new(
                412,
                None,
                format!(
                    "the {} changed since: If-Match {tags} is not its version {current}",
                    kind.name()
                ),
            )),
            _ => Ok(()),
        }
    }

    fn update(
        &mut self,
        kind: Kind,
        id: &str,
        attrs: Map<String, Value>,
    ) -> Result<&Resource, ScimError> {
        let mut r = self.get(kind, id)?.clone();
        if kind == Kind::User
            && let Some(old) = user_name(&r.attributes)
        {
            self.user_names.remove(&old);
        }
        r.attributes = attrs;
        r.version = self.next();
        r.last_modified = now();
        Ok(self.store(kind, r))
    }

    fn store(&mut self, kind: Kind, r: Resource) -> &Resource {
        let id = r.id.clone();
        let table = match kind {
            Kind::User => {
                if let Some(name) = user_name(&r.attributes) {
                    self.user_names.insert(name, id.clone());
                }
                &mut self.users
            }
            Kind::Group => {
                if let Some(old) = self.groups.get(&id).cloned() {
                    self.index_members(&old, false);
                }
                self.index_members(&r, true);
                &mut self.groups
            }
        };
        table.insert(id.clone(), r);
        &table[&id]
    }

    /// The attributes a body sets, held to the service's rules; `id` is
    /// the resource being replaced, if any.
    fn accept(
        &self,
        kind: Kind,
        body: &Value,
        id: Option<&str>,
    ) -> Result<Map<String, Value>, ScimError> {
        let attrs = clean(kind, body)?;
        match kind {
            Kind::User => self.check_user_name(&attrs, id)?,
            Kind::Group => self.check_members(&attrs, id)?,
        }
        Ok(attrs)
    }

    fn check_user_name(
        &self,
        attrs: &Map<String, Value>,
        id: Option<&str>,
    ) -> Result<(), ScimError> {
        let name = user_name(attrs).unwrap_or_default();
        if name.trim().is_empty() {
            return Err(ScimError::bad("invalidValue", "userName must not be empty"));
        }
        match self.user_names.get(&name) {
            Some(other) if Some(other.as_str()) != id => Err(ScimError::new(
                409,
                Some("uniqueness"),
                format!(
                    "userName {:?} is already taken (compared case-insensitively)",
                    attrs
                        .get("userName")
                        .and_then(Value::as_str)
                        .unwrap_or(&name)
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Every member must be a User or Group of this service (deleted ones
    /// are dropped silently when the group is next written).
    fn check_members(&self, attrs: &Map<String, Value>, id: Option<&str>) -> Result<(), ScimError> {
        let name = attrs
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or("");
        if name.trim().is_empty() {
            return Err(ScimError::bad(
                "invalidValue",
                "displayName must not be empty",
            ));
        }
        let stored: Vec<&str> = id
            .and_then(|id| self.groups.get(id))
            .and_then(|g| g.attributes.get("members"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|m| m.get("value")?.as_str()).collect())
            .unwrap_or_default();
        let Some(Value::Array(members)) = attrs.get("members") else {
            return Ok(());
        };
        for m in members {
            let Some(v) = m.get("value").and_then(Value::as_str) else {
                return Err(ScimError::bad(
                    "invalidValue",
                    "every member needs a value (its id)",
                ));
            };
            let known = self.users.contains_key(v) || self.groups.contains_key(v);
            if !known && !stored.contains(&v) {
                return Err(ScimError::bad(
                    "invalidValue",
                    format!("member {v:?} is not a User or Group of this service"),
                ));
            }
        }
        Ok(())
    }
}

/// Whether an `If-Match` list names `current` (`*` names any; weak
/// comparison, RFC 7232 §2.3.2).
fn etag_matches(header: &str, current: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    header
        .split(',')
        .any(|t| t.trim() == "*" || bare(t) == bare(current))
}

/// The attributes of a User or Group body that clients may set, under
/// their canonical names; read-only and unknown attributes are ignored
/// (RFC 7644 §3.3), null ones are unassigned.
fn clean(kind: Kind, body: &Value) -> Result<Map<String, Value>, ScimError> {
    let obj = body
        .as_object()
        .ok_or_else(|| ScimError::bad("invalidSyntax", "the body must be a JSON object"))?;
    let schemas = obj.get("schemas").and_then(Value::as_array);
    if !schemas.is_some_and(|s| {
        s.iter().any(|u| {
            u.as_str()
                .is_some_and(|u| u.eq_ignore_ascii_case(kind.schema()))
        })
    }) {
        return Err(ScimError::bad(
            "invalidSyntax",
            format!("schemas must list {}", kind.schema()),
        ));
    }
    let mut out = Map::new();
    for (key, value) in obj {
        let Some(attr) = kind
            .attr(key)
            .filter(|a| a.mutability == Mutability::ReadWrite)
        else {
            continue;
        };
        if let Some(v) = checked(attr, value)? {
            out.insert(attr.name.to_string(), v);
        }
    }
    if let Some(req) = kind
        .attrs()
        .iter()
        .find(|a| a.required && !out.contains_key(a.name))
    {
        return Err(ScimError::bad(
            "invalidValue",
            format!("{} is required", req.name),
        ));
    }
    Ok(out)
}

/// A value of `attr` in its canonical form, `None` when unassigned.
fn checked(attr: &Attr, value: &Value) -> Result<Option<Value>, ScimError> {
    if value.is_null() {
        return Ok(None);
    }
    if !attr.multi {
        return single(attr, value);
    }
    let items = match value {
        Value::Array(a) => a.as_slice(),
        v => std::slice::from_ref(v),
    };
    let mut out = Vec::new();
    for item in items {
        out.extend(single(attr, item)?);
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

fn single(attr: &Attr, value: &Value) -> Result<Option<Value>, ScimError> {
    let wrong = || {
        ScimError::bad(
            "invalidValue",
            format!("{} must be of type {:?}", attr.name, attr.kind),
        )
    };
    match (attr.kind, value) {
        (_, Value::Null) => Ok(None),
        (Type::String | Type::Reference, Value::String(_)) | (Type::Boolean, Value::Bool(_)) => {
            Ok(Some(value.clone()))
        }
        // Some identity providers send booleans as "True"/"False".
        (Type::Boolean, Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "true" => Ok(Some(Value::Bool(true))),
            "false" => Ok(Some(Value::Bool(false))),
            _ => Err(wrong()),
        },
        (Type::Complex, Value::Object(obj)) => {
            let mut out = Map::new();
            for (key, v) in obj {
                let Some(sub) = attr.subs.iter().find(|s| s.name.eq_ignore_ascii_case(key)) else {
                    continue;
                };
                if let Some(v) = single(sub, v)? {
                    out.insert(sub.name.to_string(), v);
                }
            }
            Ok((!out.is_empty()).then_some(Value::Object(out)))
        }
        _ => Err(wrong()),
    }
}

/// One PATCH operation, read.
struct Operation {
    op: String,
    path: Option<PatchPath>,
    value: Option<Value>,
}

fn patch_operations(body: &Value) -> Result<Vec<Operation>, ScimError> {
    let listed = body
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|u| u.as_str() == Some(schema::PATCH_OP)));
    if !listed {
        return Err(ScimError::bad(
            "invalidSyntax",
            format!("schemas must list {}", schema::PATCH_OP),
        ));
    }
    let ops = filter::get_ci(body, "Operations")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ScimError::bad("invalidSyntax", "Operations must be a non-empty array"))?;
    ops.iter().map(operation).collect()
}

fn operation(v: &Value) -> Result<Operation, ScimError> {
    let op = filter::get_ci(v, "op")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .filter(|o| ["add", "replace", "remove"].contains(&o.as_str()))
        .ok_or_else(|| ScimError::bad("invalidSyntax", "op must be add, replace or remove"))?;
    let path = match filter::get_ci(v, "path").and_then(Value::as_str) {
        Some(p) => Some(filter::parse_path(p).map_err(|e| ScimError::bad("invalidPath", e.0))?),
        None => None,
    };
    let value = filter::get_ci(v, "value").cloned();
    if op != "remove" && value.is_none() {
        return Err(ScimError::bad(
            "invalidValue",
            format!("{op} needs a value"),
        ));
    }
    if op == "remove" && path.is_none() {
        return Err(ScimError::bad("noTarget", "remove needs a path"));
    }
    Ok(Operation { op, path, value })
}

/// The key under which `attrs` holds `name` (case-insensitive).
fn key_of(attrs: &Map<String, Value>, name: &str) -> String {
    attrs
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
        .unwrap_or_else(|| name.to_string())
}

fn apply(kind: Kind, attrs: &mut Map<String, Value>, op: Operation) -> Result<(), ScimError> {
    let Some(path) = op.path else {
        // No path: the value is an object of attributes to add or replace.
        let Some(Value::Object(fields)) = op.value else {
            return Err(ScimError::bad(
                "invalidValue",
                "without a path, value must be an object",
            ));
        };
        for (name, value) in fields {
            if name.to_ascii_lowercase().starts_with("urn:") {
                continue;
            }
            set(kind, attrs, &op.op, &name, value);
        }
        return Ok(());
    };
    let key = key_of(attrs, &path.attr);
    match (&path.filter, &path.sub) {
        (None, None) if op.op == "remove" => {
            remove_values(attrs, &key, op.value.as_ref());
            Ok(())
        }
        (None, None) => {
            set(kind, attrs, &op.op, &key, op.value.unwrap_or(Value::Null));
            Ok(())
        }
        (None, Some(sub)) => {
            set_sub(attrs, &key, sub, &op.op, op.value);
            Ok(())
        }
        (Some(f), sub) => apply_filtered(attrs, &key, f, sub.as_deref(), &op.op, op.value),
    }
}

/// `add` or `replace` of a whole attribute.
fn set(kind: Kind, attrs: &mut Map<String, Value>, op: &str, name: &str, value: Value) {
    let key = key_of(attrs, name);
    let multi = kind.attr(name).is_some_and(|a| a.multi);
    match (attrs.get_mut(&key), value) {
        (Some(Value::Array(have)), value) if op == "add" && multi => {
            let new = match value {
                Value::Array(a) => a,
                v => vec![v],
            };
            // Values already there are not added twice (one pass, not one
            // per value added).
            let mut seen: HashSet<String> = have.iter().map(Value::to_string).collect();
            for v in new {
                if seen.insert(v.to_string()) {
                    have.push(v);
                }
            }
        }
        (Some(Value::Object(have)), Value::Object(new)) if !multi => {
            for (k, v) in new {
                let k = key_of(have, &k);
                have.insert(k, v);
            }
        }
        (_, value) => {
            attrs.insert(key, value);
        }
    }
}

/// `remove` of a whole attribute, or (with a value, as some identity
/// providers send) of the listed values of a multi-valued one.
fn remove_values(attrs: &mut Map<String, Value>, key: &str, value: Option<&Value>) {
    let listed: Option<Vec<Value>> = match value {
        Some(Value::Array(a)) => Some(a.iter().filter_map(|v| v.get("value").cloned()).collect()),
        Some(v @ Value::Object(_)) => v.get("value").map(|x| vec![x.clone()]),
        _ => None,
    };
    match (attrs.get_mut(key), listed) {
        (Some(Value::Array(have)), Some(gone)) => {
            have.retain(|m| !m.get("value").is_some_and(|v| gone.contains(v)));
            if have.is_empty() {
                attrs.remove(key);
            }
        }
        _ => {
            attrs.remove(key);
        }
    }
}

/// `name.givenName`: one sub-attribute of a complex attribute (of every
/// value, for a multi-valued one).
fn set_sub(attrs: &mut Map<String, Value>, key: &str, sub: &str, op: &str, value: Option<Value>) {
    let target = attrs.entry(key.to_string()).or_insert_with(|| json!({}));
    let items: Vec<&mut Value> = match target {
        Value::Array(a) => a.iter_mut().collect(),
        v => vec![v],
    };
    for item in items {
        if let Value::Object(o) = item {
            let k = key_of(o, sub);
            match (&value, op) {
                (_, "remove") | (None, _) => {
                    o.remove(&k);
                }
                (Some(v), _) => {
                    o.insert(k, v.clone());
                }
            }
        }
    }
    if attrs
        .get(key)
        .is_some_and(|v| v == &json!({}) || v == &json!([]))
    {
        attrs.remove(key);
    }
}

/// `members[value eq "…"]` and `emails[type eq "work"].value`: the values
/// the filter selects (400 `noTarget` when it selects none).
fn apply_filtered(
    attrs: &mut Map<String, Value>,
    key: &str,
    f: &Filter,
    sub: Option<&str>,
    op: &str,
    value: Option<Value>,
) -> Result<(), ScimError> {
    let no_target = || ScimError::bad("noTarget", format!("the filter on {key} selects no value"));
    let Some(Value::Array(items)) = attrs.get_mut(key) else {
        return Err(no_target());
    };
    let hit: Vec<bool> = items.iter().map(|v| filter::matches(f, v)).collect();
    let hits: Vec<usize> = (0..items.len()).filter(|&i| hit[i]).collect();
    if hits.is_empty() {
        return Err(no_target());
    }
    match (op, sub) {
        ("remove", None) => {
            let mut kept = hit.iter();
            items.retain(|_| kept.next() != Some(&true));
        }
        (_, Some(sub)) => {
            for &i in &hits {
                if let Value::Object(o) = &mut items[i] {
                    let k = key_of(o, sub);
                    match (&value, op) {
                        (Some(v), "add" | "replace") => o.insert(k, v.clone()),
                        _ => o.remove(&k),
                    };
                }
            }
        }
        (_, None) => {
            for &i in &hits {
                match (&mut items[i], &value) {
                    (Value::Object(o), Some(Value::Object(new))) if op == "add" => {
                        o.extend(new.clone());
                    }
                    (item, Some(v)) => *item = v.clone(),
                    (_, None) => {}
                }
            }
        }
    }
    if items.is_empty() {
        attrs.remove(key);
    }
    Ok(())
}
