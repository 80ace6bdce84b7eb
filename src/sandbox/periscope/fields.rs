//! What both emulated Periscope APIs read from a request body and how they
//! page a list: required and optional text fields, pages, errors.

use serde::Serialize;
use serde_json::Value;

use crate::sandbox::answer::ApiError;

pub(super) fn err(status: u16, message: impl Into<String>) -> ApiError {
    ApiError::new(status, message)
}

/// A page asked of a list: its size, and where it starts (the
/// `next_page_start` of the page before, absent for the first).
#[derive(Debug, Clone)]
pub struct Paging {
    pub size: usize,
    pub start: Option<String>,
}

/// What a page says of itself, beside its items.
#[derive(Serialize)]
pub(super) struct PageInfo {
    pub next_page_start: Option<String>,
    pub items_this_page: usize,
}

/// The items of a list of `len` a page holds, and what the page says.
pub(super) fn page_of(
    len: usize,
    paging: Option<Paging>,
) -> Result<(std::ops::Range<usize>, Option<PageInfo>), ApiError> {
    let Some(paging) = paging else {
        return Ok((0..len, None));
    };
    // An opaque-looking cursor: `p` and the offset.
    let start = match paging.start.as_deref() {
        None | Some("") => 0,
        Some(s) => s
            .strip_prefix('p')
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= len)
            .ok_or_else(|| err(400, format!("invalid next_page_start '{s}'")))?,
    };
    let end = (start + paging.size.max(1)).min(len);
    let info = PageInfo {
        next_page_start: (end < len).then(|| format!("p{end}")),
        items_this_page: end - start,
    };
    Ok((start..end, Some(info)))
}

pub(super) fn required<'a>(body: &'a Value, field: &str) -> Result<&'a str, ApiError> {
    optional(body, field)?.ok_or_else(|| err(400, format!("`{field}` is required")))
}

pub(super) fn optional<'a>(body: &'a Value, field: &str) -> Result<Option<&'a str>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(err(400, format!("`{field}` cannot be empty")))
        }
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(err(400, format!("`{field}` must be a string"))),
    }
}

