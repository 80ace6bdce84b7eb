//! The middleware that injects the faults of [`super::faults`]: Sigma's
//! edge throttle first, then a picked request's [`Meddle`], then the die.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::faults::{Answered, Meddle};
use super::shared::Shared;

/// The meddle waiting for this request, taken out of the list.
fn picked(shared: &Shared, req: &Request) -> Option<Meddle> {
    let mut meddles = shared.meddles.lock().expect("sandbox lock");
    let at = meddles
        .iter()
        .position(|m| m.method == req.method().as_str() && m.path == req.uri().path())?;
    Some(meddles.remove(at))
}

enum Fault {
    Throttle,
    Error { after: bool },
    Drop { after: bool },
}

fn roll(shared: &Shared) -> Option<Fault> {
    let f = *shared.faults.lock().expect("sandbox lock");
    if !f.any() {
        return None;
    }
    let (r, after) = {
        let mut rng = shared.rng.lock().expect("sandbox lock");
        (rng.f64(), rng.bool())
    };
    if r < f.throttle_rate {
        Some(Fault::Throttle)
    } else if r < f.throttle_rate + f.error_rate {
        Some(Fault::Error { after })
    } else if r < f.throttle_rate + f.error_rate + f.drop_rate {
        Some(Fault::Drop { after })
    } else {
        None
    }
}

/// A 200 whose body breaks off: the client sees the connection close.
fn dropped() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("connection dropped by the sandbox"))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(stream))
        .expect("a valid response")
}

fn error_body(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": message, "message": message })),
    )
        .into_response()
}

/// Whether the edge throttle's window, counted from the first request, is
/// still open.
fn edge_throttled(shared: &Shared) -> bool {
    let window = shared.options.edge_throttle;
    if window.is_zero() {
        return false;
    }
    let first = *shared.first_request.get_or_init(std::time::Instant::now);
    first.elapsed() < window
}

/// The page Sigma's edge (Cloudflare) answers when it rate-limits: error
/// 1015, HTML, and no `Retry-After` (reference, corrections of 2026-11).
const EDGE_PAGE: &str = "<!DOCTYPE html>\n<html class=\"no-js\" lang=\"en-US\">\n<head>\n<title>Access denied | api.sigmacomputing.com used Cloudflare to restrict access</title>\n<meta charset=\"UTF-8\" />\n<script>window._cf_chl_opt = {}; document.write('\\x1b[2J');</script>\n</head>\n<body>\n<div id=\"cf-wrapper\">\n<h1 data-translate=\"block_headline\">Error 1015</h1>\n<h2>You are being rate limited</h2>\n<p>The owner of this website (api.sigmacomputing.com) has banned you temporarily from accessing this website.</p>\n<span>Error code: 1015</span>\n<span>Ray ID: 8f1e2d3c4b5a6978</span>\n</div>\n</body>\n</html>\n";

fn edge_page() -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
        EDGE_PAGE,
    )
        .into_response()
}

pub async fn inject(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    if edge_throttled(&shared) {
        return edge_page();
    }
    if let Some(m) = picked(&shared, &req) {
        let _ = next.run(req).await;
        if let Some(then) = m.then {
            then(&mut shared.data.lock().expect("sandbox lock"));
        }
        return match m.answered {
            Answered::Lost => dropped(),
            Answered::Replaced(body) => (StatusCode::OK, axum::Json(body)).into_response(),
        };
    }
    match roll(&shared) {
        None => next.run(req).await,
        Some(Fault::Throttle) => {
            let secs = shared.faults.lock().expect("sandbox lock").retry_after_secs;
            let mut r = error_body(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
            r.headers_mut().insert(
                header::RETRY_AFTER,
                secs.to_string().parse().expect("a number"),
            );
            r
        }
        Some(Fault::Error { after }) => {
            if after {
                let _ = next.run(req).await;
                error_body(StatusCode::BAD_GATEWAY, "Bad gateway")
            } else {
                error_body(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable")
            }
        }
        Some(Fault::Drop { after }) => {
            if after {
                let _ = next.run(req).await;
            }
            dropped()
        }
    }
}
