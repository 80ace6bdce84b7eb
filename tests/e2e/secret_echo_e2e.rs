//! End to end: a site that echoes the request back in an error (the form
//! body of Sigma's token request, Periscope's auth header) in another form
//! (percent-encoded, base64, upper-cased) never gets a secret printed: each
//! form is `[redacted]`, in the error and in `-v` logs. The echoing server
//! is a small one on loopback, written here; it stops with the test.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use crate::common::*;

const SECRET: &str = "s3cr3t/Plus+Eq=";

/// How the server writes back what it was sent.
type Echo = fn(&str) -> String;

const ECHOES: [(&str, Echo); 5] = [
    ("as sent", |s| s.to_string()),
    ("upper-cased", |s| s.to_ascii_uppercase()),
    ("base64", |s| STANDARD.encode(s)),
    ("url-safe base64", |s| URL_SAFE_NO_PAD.encode(s)),
    ("percent-encoded", |s| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    }),
];

/// A server on 127.0.0.1 answering every request 400, its message holding
/// the request's body and auth headers written back by `echo`.
fn echo_server(echo: Echo) -> String {
    serve(echo, false)
}

/// A server answering every request 200 with what was sent, as `echo`
/// writes it, where a list belongs (so the answer cannot be read).
fn misshapen_server(echo: Echo) -> String {
    serve(echo, true)
}

fn serve(echo: Echo, ok: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer(stream, echo, ok));
        }
    });
    url
}

fn answer(mut stream: TcpStream, echo: Echo, ok: bool) {
    while let Some(sent) = read_sent(&mut stream) {
        let echoed = echo(&sent);
        let (status, body) = if ok {
            let list = serde_json::json!({ "users": echoed, "groups": echoed, "data": echoed });
            ("200 OK", list.to_string())
        } else {
            let message = format!("invalid client in request: {echoed}");
            (
                "400 Bad Request",
                serde_json::json!({ "message": message }).to_string(),
            )
        };
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        if stream.write_all(head.as_bytes()).is_err() || stream.write_all(body.as_bytes()).is_err()
        {
            return;
        }
    }
}

/// The auth headers' values and the body of one request; `None` when the
/// connection closed.
fn read_sent(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    };
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).ok()?;
    let auth = ["http-x-partner-auth", "authorization"]
        .iter()
        .filter_map(|h| header(h))
        .collect::<Vec<_>>()
        .join(" ");
    Some(
        format!("{auth} {}", String::from_utf8_lossy(&body))
            .trim()
            .to_string(),
    )
}

/// The forms of the secret that must not be in `out`: raw, form-encoded,
/// in base64 at each alignment (the part that depends on it only), letter
/// case ignored.
fn assert_no_secret(out: &str, what: &str) {
    let lower = out.to_ascii_lowercase();
    let mut leaks = vec![
        SECRET.to_string(),
        "s3cr3t%2FPlus%2BEq%3D".to_string(),
        "s3cr3t".to_string(),
    ];
    for shift in 0..3usize {
        let mut bytes = vec![b'x'; shift];
        bytes.extend_from_slice(SECRET.as_bytes());
        for encoded in [STANDARD.encode(&bytes), URL_SAFE_NO_PAD.encode(&bytes)] {
            leaks.push(encoded[(8 * shift).div_ceil(6)..8 * bytes.len() / 6].to_string());
        }
    }
    for leak in leaks {
        assert!(
            !lower.contains(&leak.to_ascii_lowercase()),
            "{what}: `{leak}` in\n{out}"
        );
    }
    assert!(out.contains("[redacted]"), "{what}:\n{out}");
}

const PERSON: &str =
    "[[users]]\nemail = \"ada@acme.com\"\nfirst_name = \"Ada\"\nlast_name = \"Lovelace\"\n";

#[test]
fn sigma_token_endpoint_echoing_the_form_body_shows_no_secret() {
    for (what, echo) in ECHOES {
        let url = echo_server(echo);
        let dir = state_dir(&[(
            "roster.toml",
            &format!(
                "[sites.acme-sigma]\nprovider = \"sigma\"\nbase_url = \"{url}\"\nclient_id = {{ env = \"SIGMA_ID\" }}\nclient_secret = {{ env = \"SIGMA_SECRET\" }}\nnew_owner = \"admin@acme.com\"\n\n{PERSON}"
            ),
        )]);
        let out = roster(
            dir.path(),
            &["plan", "-v"],
            &[
                ("SIGMA_ID", "sigma-client"),
                ("SIGMA_SECRET", SECRET),
                ("ROSTER_RETRY_BASE_MS", "10"),
            ],
        );
        assert_eq!(out.code, 1, "{what}:\n{}", out.all());
        assert!(out.all().contains("HTTP 400"), "{what}:\n{}", out.all());
        assert!(
            out.all().contains("get an API token"),
            "{what}:\n{}",
            out.all()
        );
        assert_no_secret(&out.all(), what);
    }
}

#[test]
fn periscope_echoing_the_auth_header_shows_no_secret() {
    for (what, echo) in ECHOES {
        let url = echo_server(echo);
        let dir = state_dir(&[(
            "roster.toml",
            &format!(
                "[sites.acme]\nprovider = \"periscope\"\nsite = \"acme\"\napi_key = {{ env = \"KEY\" }}\nbase_url = \"{url}\"\ninvited_by = \"admin@acme.com\"\n\n{PERSON}"
            ),
        )]);
        let out = roster(
            dir.path(),
            &["plan", "-v"],
            &[("KEY", SECRET), ("ROSTER_RETRY_BASE_MS", "10")],
        );
        assert_eq!(out.code, 1, "{what}:\n{}", out.all());
        assert!(out.all().contains("HTTP 400"), "{what}:\n{}", out.all());
        assert_no_secret(&out.all(), what);
    }
}

#[test]
fn periscope_answer_that_cannot_be_read_quotes_no_secret() {
    for (what, echo) in ECHOES {
        let url = misshapen_server(echo);
        let dir = state_dir(&[(
            "roster.toml",
            &format!(
                "[sites.acme]\nprovider = \"periscope\"\nsite = \"acme\"\napi_key = {{ env = \"KEY\" }}\nbase_url = \"{url}\"\ninvited_by = \"admin@acme.com\"\n\n{PERSON}"
            ),
        )]);
        let out = roster(dir.path(), &["plan", "-v"], &[("KEY", SECRET)]);
        assert_eq!(out.code, 1, "{what}:\n{}", out.all());
        assert!(
            out.all().contains("could not be read"),
            "{what}:\n{}",
            out.all()
        );
        assert_no_secret(&out.all(), what);
    }
}
