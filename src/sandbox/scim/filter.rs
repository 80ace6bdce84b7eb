//! SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): parsed and
//! evaluated by the emulator's own rules.
//!
//! ```text
//! FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
//! valuePath = attrPath "[" valFilter "]"
//! attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
//! PATH      = attrPath / valuePath [subAttr]
//! ```
//! Precedence: `not`, then `and`, then `or`; attribute names and operators
//! are case-insensitive.

use serde_json::Value;

/// An attribute named in a filter or path, lower-cased, its schema URN
/// prefix dropped: `emails.value` is `attr: "emails", sub: Some("value")`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    pub attr: String,
    pub sub: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Present(AttrPath),
    Compare(AttrPath, Op, Value),
    /// `emails[type eq "work"]`: some value of the attribute matches.
    ValuePath(String, Box<Filter>),
}

/// A PATCH target: an attribute, optionally narrowed to the values a
/// filter selects, optionally to one sub-attribute of them.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: String,
    pub filter: Option<Filter>,
    pub sub: Option<String>,
}

/// Why a filter or path was refused (the message names the place).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Str(String),
    Word(String),
}

fn tokenize(text: &str) -> Result<Vec<Token>, FilterError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(at, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | '[' | ']' => {
                chars.next();
                tokens.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    '[' => Token::OpenBracket,
                    _ => Token::CloseBracket,
                });
            }
            '"' => tokens.push(Token::Str(string_literal(text, at, &mut chars)?)),
            _ => {
                let mut word = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_whitespace() || "()[]\"".contains(c) {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

/// A JSON string literal starting at byte `at`, escapes and all.
fn string_literal(
    text: &str,
    at: usize,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
) -> Result<String, FilterError> {
    chars.next();
    let mut escaped = false;
    for (i, c) in chars.by_ref() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            return serde_json::from_str(&text[at..=i])
                .map_err(|e| FilterError(format!("bad string at character {}: {e}", at + 1)));
        }
    }
    Err(FilterError(format!(
        "unterminated string at character {}",
        at + 1
    )))
}

/// Parses a whole filter.
pub fn parse_filter(text: &str) -> Result<Filter, FilterError> {
    let mut p = Parser {
        tokens: tokenize(text)?,
        pos: 0,
    };
    let f = p.or()?;
    match p.peek() {
        None => Ok(f),
        Some(t) => Err(FilterError(format!("unexpected {t:?} after the filter"))),
    }
}

/// Parses a PATCH path: `members`, `name.givenName`,
/// `members[value eq "2819c223"]`, `emails[type eq "work"].value`, each
/// optionally prefixed with its schema URN.
pub fn parse_path(text: &str) -> Result<PatchPath, FilterError> {
    let text = text.trim();
    let Some(open) = text.find('[') else {
        let p = attr_path(text)?;
        return Ok(PatchPath {
            attr: p.attr,
            filter: None,
            sub: p.sub,
        });
    };
    let close = text
        .rfind(']')
        .filter(|&c| c > open)
        .ok_or_else(|| FilterError(format!("'[' without ']' in path {text:?}")))?;
    let attr = attr_path(&text[..open])?;
    if attr.sub.is_some() {
        return Err(FilterError(format!(
            "a value filter applies to an attribute, not a sub-attribute: {text:?}"
        )));
    }
    let rest = &text[close + 1..];
    let sub = match rest.strip_prefix('.') {
        Some(s) if is_name(s) => Some(s.to_ascii_lowercase()),
        None if rest.is_empty() => None,
        _ => return Err(FilterError(format!("bad text after ']' in path {text:?}"))),
    };
    Ok(PatchPath {
        attr: attr.attr,
        filter: Some(parse_filter(&text[open + 1..close])?),
        sub,
    })
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `[URN ":"] attr ["." sub]`, lower-cased.
fn attr_path(text: &str) -> Result<AttrPath, FilterError> {
    let bare = if text.to_ascii_lowercase().starts_with("urn:") {
        text.rsplit_once(':').map_or(text, |(_, a)| a)
    } else {
        text
    };
    let (attr, sub) = match bare.split_once('.') {
        Some((a, s)) => (a, Some(s)),
        None => (bare, None),
    };
    if !is_name(attr) || sub.is_some_and(|s| !is_name(s)) {
        return Err(FilterError(format!("{text:?} is not an attribute path")));
    }
    Ok(AttrPath {
        attr: attr.to_ascii_lowercase(),
        sub: sub.map(str::to_ascii_lowercase),
    })
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn expect(&mut self, want: Token) -> Result<(), FilterError> {
        match self.next() {
            Some(t) if t == want => Ok(()),
            other => Err(FilterError(format!("expected {want:?}, found {other:?}"))),
        }
    }

    fn or(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.pos += 1;
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        if self.keyword("not") {
            self.pos += 1;
            self.expect(Token::Open)?;
            let f = self.or()?;
            self.expect(Token::Close)?;
            return Ok(Filter::Not(Box::new(f)));
        }
        if self.peek() == Some(&Token::Open) {
            self.pos += 1;
            let f = self.or()?;
            self.expect(Token::Close)?;
            return Ok(f);
        }
        self.attr_exp()
    }

    fn attr_exp(&mut self) -> Result<Filter, FilterError> {
        let Some(Token::Word(name)) = self.next() else {
            return Err(FilterError("expected an attribute name".into()));
        };
        let path = attr_path(&name)?;
        if self.peek() == Some(&Token::OpenBracket) {
            self.pos += 1;
            let inner = self.or()?;
            self.expect(Token::CloseBracket)?;
            return Ok(Filter::ValuePath(path.attr, Box::new(inner)));
        }
        let Some(Token::Word(op)) = self.next() else {
            return Err(FilterError(format!("expected an operator after {name:?}")));
        };
        let op = match op.to_ascii_lowercase().as_str() {
            "pr" => return Ok(Filter::Present(path)),
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "co" => Op::Co,
            "sw" => Op::Sw,
            "ew" => Op::Ew,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            other => return Err(FilterError(format!("unknown operator {other:?}"))),
        };
        Ok(Filter::Compare(path, op, self.comp_value()?))
    }

    fn comp_value(&mut self) -> Result<Value, FilterError> {
        match self.next() {
            Some(Token::Str(s)) => Ok(Value::String(s)),
            Some(Token::Word(w)) => match w.as_str() {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                "null" => Ok(Value::Null),
                n => serde_json::from_str::<serde_json::Number>(n)
                    .map(Value::Number)
                    .map_err(|_| FilterError(format!("{n:?} is not a value (quote strings)"))),
            },
            other => Err(FilterError(format!("expected a value, found {other:?}"))),
        }
    }
}

/// Attributes whose strings compare exactly (RFC 7643 `caseExact: true`);
/// all others compare case-insensitively.
fn case_exact(path: &AttrPath) -> bool {
    matches!(
        (path.attr.as_str(), path.sub.as_deref()),
        ("id" | "externalid" | "$ref", None) | ("meta", Some("version"))
    )
}

/// The member of an object named case-insensitively.
pub fn get_ci<'a>(obj: &'a Value, name: &str) -> Option<&'a Value> {
    obj.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Every value the path names in `resource` (the values of a multi-valued
/// attribute one by one; `value` of a complex one when no sub-attribute
/// is named).
fn values<'a>(resource: &'a Value, path: &AttrPath) -> Vec<&'a Value> {
    let Some(top) = get_ci(resource, &path.attr) else {
        return Vec::new();
    };
    let items: Vec<&Value> = match top {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    };
    items
        .into_iter()
        .filter_map(|v| match (&path.sub, v) {
            (Some(sub), _) => get_ci(v, sub),
            (None, Value::Object(_)) => get_ci(v, "value"),
            (None, v) => Some(v),
        })
        .collect()
}

/// Whether `resource` (a whole resource, or one value of a multi-valued
/// attribute inside a value path) matches the filter.
pub fn matches(filter: &Filter, resource: &Value) -> bool {
    match filter {
        Filter::And(a, b) => matches(a, resource) && matches(b, resource),
        Filter::Or(a, b) => matches(a, resource) || matches(b, resource),
        Filter::Not(f) => !matches(f, resource),
        Filter::Present(path) => values(resource, path).into_iter().any(|v| match v {
            Value::Null => false,
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
            _ => true,
        }),
        Filter::Compare(path, Op::Ne, want) => !matches(
            &Filter::Compare(path.clone(), Op::Eq, want.clone()),
            resource,
        ),
        Filter::Compare(path, op, want) => values(resource, path)
            .into_iter()
            .any(|have| compare(have, *op, want, case_exact(path))),
        Filter::ValuePath(attr, inner) => match get_ci(resource, attr) {
            Some(Value::Array(items)) => items.iter().any(|v| matches(inner, v)),
            Some(v) => matches(inner, v),
            None => false,
        },
    }
}

fn compare(have: &Value, op: Op, want: &Value, exact: bool) -> bool {
    match (have, want) {
        (Value::String(h), Value::String(w)) => {
            let (h, w) = if exact {
                (h.clone(), w.clone())
            } else {
                (h.to_lowercase(), w.to_lowercase())
            };
            match op {
                Op::Eq => h == w,
                Op::Ne => h != w,
                Op::Co => h.contains(&w),
                Op::Sw => h.starts_with(&w),
                Op::Ew => h.ends_with(&w),
                Op::Gt => h > w,
                Op::Ge => h >= w,
                Op::Lt => h < w,
                Op::Le => h <= w,
            }
        }
        (Value::Number(h), Value::Number(w)) => {
            let order = h
                .as_f64()
                .zip(w.as_f64())
                .and_then(|(h, w)| h.partial_cmp(&w));
            order.is_some_and(|o| match op {
                Op::Eq => o.is_eq(),
                Op::Ne => o.is_ne(),
                Op::Gt => o.is_gt(),
                Op::Ge => o.is_ge(),
                Op::Lt => o.is_lt(),
                Op::Le => o.is_le(),
                Op::Co | Op::Sw | Op::Ew => false,
            })
        }
        (h, w) => match op {
            Op::Eq => h == w,
            Op::Ne => h != w,
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hit(filter: &str, v: &Value) -> bool {
        matches(&parse_filter(filter).unwrap(), v)
    }

    #[test]
    fn filters_as_rfc_7644_reads_them() {
        let ada = json!({"id": "A1", "userName": "Ada@Acme.com", "active": true,
            "emails": [{"value": "ada@acme.com", "type": "work"}], "name": {"givenName": "Ada"}});
        assert!(hit(r#"userName eq "ada@acme.com""#, &ada));
        assert!(hit(r#"USERNAME Eq "ADA@ACME.COM""#, &ada));
        assert!(!hit(r#"id eq "a1""#, &ada), "id is caseExact");
        assert!(hit(r#"emails.value co "acme""#, &ada));
        assert!(hit(r#"emails[type eq "work" and value sw "ada"]"#, &ada));
        assert!(hit(r#"name.givenName sw "a" and active eq true"#, &ada));
        assert!(hit(r#"externalId pr or userName ew ".com""#, &ada));
        assert!(!hit(r"externalId pr", &ada));
        assert!(hit(r"not (active eq false)", &ada));
        assert!(hit(
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "ada@acme.com""#,
            &ada
        ));
        assert!(hit(
            r#"(userName eq "x" or userName eq "ada@acme.com") and active eq true"#,
            &ada
        ));
        for bad in [
            "userName",
            "userName xx \"a\"",
            "userName eq",
            "userName eq bare",
            "(userName pr",
            "userName eq \"a",
        ] {
            assert!(parse_filter(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn patch_paths() {
        let p = parse_path(r#"members[value eq "2819c223"]"#).unwrap();
        assert_eq!(p.attr, "members");
        assert!(p.filter.is_some() && p.sub.is_none());
        let p = parse_path(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!(p.sub.as_deref(), Some("value"));
        let p = parse_path("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName").unwrap();
        assert_eq!(
            (p.attr.as_str(), p.sub.as_deref()),
            ("name", Some("givenname"))
        );
        assert!(parse_path("members[value eq \"x\"").is_err());
        assert!(parse_path("").is_err());
    }
}
