//! The attributes the emulated SCIM service keeps (a subset of RFC 7643
//! §4.1 and §4.2, as a service provider may publish), and the discovery
//! documents built from them (RFC 7644 §4: `/ServiceProviderConfig`,
//! `/Schemas`, `/ResourceTypes`).

use serde_json::{Value, json};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// The most resources one list answer holds (`filter.maxResults`).
pub const MAX_RESULTS: usize = 1000;
/// The page size when a list asks for none.
pub const DEFAULT_COUNT: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    String,
    Boolean,
    Reference,
    Complex,
}

/// Whether clients may set an attribute (RFC 7643 §7 `mutability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadWrite,
    ReadOnly,
}

/// One attribute as RFC 7643 §7 describes it.
#[derive(Debug)]
pub struct Attr {
    pub name: &'static str,
    pub kind: Type,
    pub multi: bool,
    pub required: bool,
    pub mutability: Mutability,
    pub case_exact: bool,
    pub unique: &'static str,
    pub subs: &'static [Attr],
    pub references: &'static [&'static str],
    pub canonical: &'static [&'static str],
}

const fn text(name: &'static str) -> Attr {
    Attr {
        name,
        kind: Type::String,
        multi: false,
        required: false,
        mutability: Mutability::ReadWrite,
        case_exact: false,
        unique: "none",
        subs: &[],
        references: &[],
        canonical: &[],
    }
}

const fn reference(name: &'static str, references: &'static [&'static str]) -> Attr {
    Attr {
        kind: Type::Reference,
        case_exact: true,
        references,
        ..text(name)
    }
}

const fn complex(name: &'static str, multi: bool, subs: &'static [Attr]) -> Attr {
    Attr {
        kind: Type::Complex,
        multi,
        subs,
        ..text(name)
    }
}

const MEMBER_SUBS: &[Attr] = &[
    Attr {
        case_exact: true,
        ..text("value")
    },
    reference("$ref", &["User", "Group"]),
    text("display"),
    Attr {
        canonical: &["User", "Group"],
        ..text("type")
    },
];

const READ_ONLY_MEMBER_SUBS: &[Attr] = &[
    Attr {
        mutability: Mutability::ReadOnly,
        case_exact: true,
        ..text("value")
    },
    Attr {
        mutability: Mutability::ReadOnly,
        ..reference("$ref", &["User", "Group"])
    },
    Attr {
        mutability: Mutability::ReadOnly,
        ..text("display")
    },
    Attr {
        mutability: Mutability::ReadOnly,
        canonical: &["direct", "indirect"],
        ..text("type")
    },
];

pub const USER_ATTRS: &[Attr] = &[
    Attr {
        required: true,
        unique: "server",
        ..text("userName")
    },
    complex(
        "name",
        false,
        &[
            text("formatted"),
            text("familyName"),
            text("givenName"),
            text("middleName"),
        ],
    ),
    text("displayName"),
    Attr {
        kind: Type::Boolean,
        ..text("active")
    },
    complex(
        "emails",
        true,
        &[
            text("value"),
            text("display"),
            Attr {
                canonical: &["work", "home", "other"],
                ..text("type")
            },
            Attr {
                kind: Type::Boolean,
                ..text("primary")
            },
        ],
    ),
    Attr {
        mutability: Mutability::ReadOnly,
        ..complex("groups", true, READ_ONLY_MEMBER_SUBS)
    },
];

pub const GROUP_ATTRS: &[Attr] = &[
    Attr {
        required: true,
        ..text("displayName")
    },
    complex("members", true, MEMBER_SUBS),
];

/// `externalId` (RFC 7643 §3.1), common to both resource types.
pub const EXTERNAL_ID: Attr = Attr {
    case_exact: true,
    ..text("externalId")
};

fn type_name(t: Type) -> &'static str {
    match t {
        Type::String => "string",
        Type::Boolean => "boolean",
        Type::Reference => "reference",
        Type::Complex => "complex",
    }
}

fn describe(a: &Attr) -> Value {
    let mut v = json!({
        "name": a.name,
        "type": type_name(a.kind),
        "multiValued": a.multi,
        "description": format!("{} (RFC 7643)", a.name),
        "required": a.required,
        "caseExact": a.case_exact,
        "mutability": match a.mutability {
            Mutability::ReadWrite => "readWrite",
            Mutability::ReadOnly => "readOnly",
        },
        "returned": "default",
        "uniqueness": a.unique,
    });
    if !a.subs.is_empty() {
        v["subAttributes"] = a.subs.iter().map(describe).collect();
    }
    if !a.references.is_empty() {
        v["referenceTypes"] = json!(a.references);
    }
    if !a.canonical.is_empty() {
        v["canonicalValues"] = json!(a.canonical);
    }
    v
}

fn schema_doc(base: &str, id: &str, name: &str, attrs: &[Attr]) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": id,
        "name": name,
        "description": format!("{name} (RFC 7643), as the roster sandbox keeps it"),
        "attributes": attrs.iter().map(describe).collect::<Vec<_>>(),
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{id}")},
    })
}

/// Every schema the service publishes, by id.
pub fn schemas(base: &str) -> Vec<Value> {
    vec![
        schema_doc(base, USER_SCHEMA, "User", USER_ATTRS),
        schema_doc(base, GROUP_SCHEMA, "Group", GROUP_ATTRS),
    ]
}

fn resource_type(base: &str, name: &str, endpoint: &str, schema: &str) -> Value {
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": name,
        "name": name,
        "endpoint": format!("/{endpoint}"),
        "description": name,
        "schema": schema,
        "schemaExtensions": [],
        "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{name}")},
    })
}

pub fn resource_types(base: &str) -> Vec<Value> {
    vec![
        resource_type(base, "User", "Users", USER_SCHEMA),
        resource_type(base, "Group", "Groups", GROUP_SCHEMA),
    ]
}

/// What the service supports (RFC 7643 §5); `patch`: whether it offers
/// PATCH.
pub fn service_provider_config(base: &str, patch: bool) -> Value {
    json!({
        "schemas": [SPC_SCHEMA],
        "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
        "patch": {"supported": patch},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with the service's bearer token (RFC 6750)",
            "primary": true,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")},
    })
}
