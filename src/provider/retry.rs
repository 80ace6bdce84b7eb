//! Retries and pacing shared by the providers: exponential backoff with full
//! jitter that honours `Retry-After`, a per-site limit on requests under way
//! that halves when the site answers 429 and creeps back as it stops, and an
//! optional request budget per second; and the bounds on what one site may
//! cost: the size of each answer, and a deadline for its reads and again
//! for its writes, with a notice while a request is slow to answer.

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use tokio::sync::{Semaphore, SemaphorePermit};

use super::ProviderError;

/// A failed try, as the check for an earlier try's effect sees it.
#[derive(Debug, Clone, Copy)]
pub struct Failure {
    /// Which try failed, from 1.
    pub attempt: u32,
    pub status: Option<u16>,
    /// The site may have carried the request out (5xx, or no answer).
    pub ambiguous: bool,
}

/// The shortest wait after a 429 that does not say how long to wait (an
/// edge's HTML page, Cloudflare's error 1015): what the community Terraform
/// provider for Sigma waits.
pub const THROTTLE_FLOOR: Duration = Duration::from_secs(2);

/// How long one request keeps trying through 429s, unless the site sets
/// `patience_seconds`.
pub const DEFAULT_PATIENCE: Duration = Duration::from_mins(1);

/// The most bytes one answer may hold unless the site sets
/// `max_response_bytes`: far more than a page of any list roster reads
/// (a few MiB), far less than memory.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// The answers read from a site for its live state (and again for its
/// writes) add up to at most this many times its `max_response_bytes`: a
/// list whose pages never end cannot fill memory. Decoded, an answer takes
/// several times its size in memory, so the bound stays small: 256 MiB of
/// answers by default, many times what a 100,000-person site sends.
pub const ANSWERS_IN_ALL: u64 = 4;

/// How long a site's reads, and again its writes, may take unless the site
/// sets `deadline_seconds`.
pub const DEFAULT_DEADLINE: Duration = Duration::from_hours(2);

/// How long a request waits for its answer before roster says so, and
/// again after each such span.
pub const WAIT_NOTICE: Duration = Duration::from_secs(5);

/// How often and how long to retry.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Tries in all while the failures are 5xx or lost connections.
    pub attempts: u32,
    pub base: Duration,
    pub max_delay: Duration,
    /// How long one request keeps trying while the site answers 429 (429s
    /// do not count against `attempts`; patience bounds them).
    pub patience: Duration,
    /// The shortest wait after a 429 without `Retry-After`.
    pub throttle_floor: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            base: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
            patience: DEFAULT_PATIENCE,
            throttle_floor: THROTTLE_FLOOR,
        }
    }
}

impl RetryPolicy {
    /// The default, with the base delay from `ROSTER_RETRY_BASE_MS` when set
    /// (tests and benchmarks use short delays).
    pub fn from_env() -> Self {
        let mut p = RetryPolicy::default();
        if let Some(ms) = std::env::var("ROSTER_RETRY_BASE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            p.base = Duration::from_millis(ms);
        }
        p
    }

    /// This policy, keeping at a request through 429s for `patience`.
    #[must_use]
    pub fn with_patience(self, patience: Duration) -> Self {
        RetryPolicy { patience, ..self }
    }

    /// Runs `once` until it succeeds or may not be tried again: a 429, a 5xx
    /// or a lost connection is retried after a wait. After each failure,
    /// `took_effect` may find that an earlier try did what was asked (the
    /// answer was lost, or a retried delete finds nothing to delete) and
    /// give the answer; that is how a create is never blindly sent twice.
    pub async fn run<T, Once, OnceFut, Check, CheckFut>(
        &self,
        site: &str,
        action: &str,
        mut once: Once,
        mut took_effect: Check,
    ) -> Result<T, ProviderError>
    where
        Once: FnMut() -> OnceFut,
        OnceFut: Future<Output = Result<T, ProviderError>>,
        Check: FnMut(Failure) -> CheckFut,
        CheckFut: Future<Output = Option<T>>,
    {
        let started = Instant::now();
        let mut attempt = 1;
        // 5xx and lost connections count against `attempts`; 429s against
        // patience.
        let (mut failures, mut throttles) = (0, 0);
        loop {
            let mut error = match once().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let failure = Failure {
                attempt,
                status: error.status(),
                ambiguous: error.is_ambiguous(),
            };
            if let Some(answer) = took_effect(failure).await {
                tracing::debug!(?site, ?action, "an earlier try took effect");
                return Ok(answer);
            }
            if !error.is_retryable() {
                return Err(error);
            }
            let wait = if error.status() == Some(429) {
                throttles += 1;
                let wait = self.throttle_delay(throttles, error.retry_after());
                if started.elapsed() + wait > self.patience {
                    error.add_note(&self.out_of_patience(started.elapsed()));
                    return Err(error);
                }
                wait
            } else {
                failures += 1;
                if failures >= self.attempts {
                    return Err(error);
                }
                self.delay(failures, error.retry_after())
            };
            // Names go through Debug and the error through the escaping rule,
            // so a live name cannot write control characters into the log.
            tracing::debug!(
                ?site,
                ?action,
                attempt,
                wait_ms = wait.as_millis() as u64,
                error = %crate::escape::Visible(&error.to_string()),
                "retrying"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// Why a throttled request was given up.
    fn out_of_patience(&self, waited: Duration) -> String {
        format!(
            "still throttled after {} s of retries; the site's patience_seconds is {} \
             (raise it, or lower --concurrency or max_requests_per_second)",
            waited.as_secs(),
            self.patience.as_secs()
        )
    }

    /// The wait after the `throttles`-th 429 of a request: what
    /// `Retry-After` asked; else at least [`THROTTLE_FLOOR`], the ceiling
    /// growing half again with each 429 (2 s, 3 s, 4.5 s...; equal jitter:
    /// between half the ceiling and the ceiling), capped. Half again rather
    /// than double: an edge's window of a few seconds is left soon after
    /// it closes, while requests still thin out.
    pub fn throttle_delay(&self, throttles: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(asked) = retry_after {
            return asked.min(self.max_delay);
        }
        let growth = 1.5f64.powi(throttles.saturating_sub(1).min(30) as i32);
        let ceiling = self
            .throttle_floor
            .mul_f64(growth)
            .min(self.max_delay.max(self.throttle_floor));
        ceiling
            .mul_f64(0.5 + fastrand::f64() / 2.0)
            .max(self.throttle_floor)
    }

    /// The wait before attempt `attempt + 1`: what the site asked for, else a
    /// random delay up to `base * 2^(attempt-1)`, capped.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(asked) = retry_after {
            return asked.min(self.max_delay);
        }
        let ceiling = self
            .base
            .saturating_mul(1 << attempt.saturating_sub(1).min(16))
            .min(self.max_delay);
        ceiling.mul_f64(fastrand::f64())
    }
}

/// Limits a site's requests: at most `limit` under way (adapting to 429s),
/// and at most `per_second` started each second when set.
pub struct Pacer {
    /// The site's name, for the notices of a slow answer.
    site: String,
    permits: Semaphore,
    max: usize,
    /// The current limit; `max` minus the permits taken out after 429s.
    limit: AtomicUsize,
    successes: AtomicUsize,
    interval: Option<Duration>,
    next_start: Mutex<Instant>,
    /// Requests sent, and of them the ones that were retries.
    sent: std::sync::atomic::AtomicU64,
    retries: std::sync::atomic::AtomicU64,
    /// The most bytes one answer may hold.
    max_response_bytes: u64,
    /// The bytes of the answers read since the clock last started again:
    /// at most [`ANSWERS_IN_ALL`] times `max_response_bytes`.
    read_bytes: std::sync::atomic::AtomicU64,
    clock: Clock,
    /// When the last notice of a slow answer was given.
    last_notice: Mutex<Option<Instant>>,
}

impl Pacer {
    /// The pacer of the site `site`, as `pacing` says.
    pub fn new(site: &str, pacing: super::Pacing) -> Self {
        let (concurrency, per_second) = (pacing.concurrency, pacing.per_second);
        let max = concurrency.max(1);
        Pacer {
            site: site.to_string(),
            max_response_bytes: pacing.max_response_bytes,
            read_bytes: std::sync::atomic::AtomicU64::new(0),
            clock: Clock::new(pacing.deadline),
            last_notice: Mutex::new(None),
            permits: Semaphore::new(max),
            max,
            limit: AtomicUsize::new(max),
            successes: AtomicUsize::new(0),
            interval: per_second
                .filter(|r| *r > 0.0)
                .map(|r| Duration::from_secs_f64(1.0 / r)),
            next_start: Mutex::new(Instant::now()),
            sent: std::sync::atomic::AtomicU64::new(0),
            retries: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The name of the site this pacer paces.
    pub fn site(&self) -> &str {
        &self.site
    }

    /// How many requests were sent so far, and how many were retries.
    pub fn requests(&self) -> super::cost::Requests {
        super::cost::Requests {
            sent: self.sent.load(Ordering::Relaxed),
            retried: self.retries.load(Ordering::Relaxed),
        }
    }

    /// Counts the tries of one request: each after the first is a retry.
    pub fn tries(&self) -> Tries<'_> {
        Tries {
            pacer: self,
            started: std::cell::Cell::new(false),
        }
    }

    /// Waits for a turn: a free slot, and the request budget.
    pub async fn turn(&self) -> SemaphorePermit<'_> {
        let permit = self
            .permits
            .acquire()
            .await
            .expect("the pacer is never closed");
        if let Some(interval) = self.interval {
            let wait = {
                let mut next = self.next_start.lock().expect("pacer lock");
                let now = Instant::now();
                let start = (*next).max(now);
                *next = start + interval;
                start - now
            };
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
        }
        permit
    }

    /// The site answered 429: halve the requests under way.
    pub fn throttled(&self) {
        self.successes.store(0, Ordering::Relaxed);
        let limit = self.limit.load(Ordering::Relaxed);
        let target = (limit / 2).max(1);
        let removed = self.permits.forget_permits(limit - target);
        self.limit.fetch_sub(removed, Ordering::Relaxed);
        if removed > 0 {
            tracing::debug!(
                limit = limit - removed,
                "site throttled: fewer requests at once"
            );
        }
    }

    /// A request went through: after a run of them, allow one more at once.
    pub fn succeeded(&self) {
        let limit = self.limit.load(Ordering::Relaxed);
        if limit >= self.max {
            return;
        }
        if self.successes.fetch_add(1, Ordering::Relaxed) + 1 >= limit {
            self.successes.store(0, Ordering::Relaxed);
            self.limit.fetch_add(1, Ordering::Relaxed);
            self.permits.add_permits(1);
        }
    }

    /// How many requests may be under way now.
    pub fn limit(&self) -> usize {
        self.limit.load(Ordering::Relaxed)
    }
}

/// The tries of one request (see [`Pacer::tries`]).
pub struct Tries<'a> {
    pacer: &'a Pacer,
    started: std::cell::Cell<bool>,
}

impl Tries<'_> {
    /// A try begins; every one after the first is counted as a retry.
    pub fn next(&self) {
        if self.started.replace(true) {
            self.pacer.retries.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// What a site answered to one request.
pub struct Answer {
    pub status: reqwest::StatusCode,
    /// What the site asked in `Retry-After`.
    pub retry_after: Option<Duration>,
    /// The answer's headers, for what a provider reads from them (a SCIM
    /// service's `ETag`).
    pub headers: reqwest::header::HeaderMap,
    pub body: bytes::Bytes,
    pub elapsed: Duration,
}

/// What a request is for, as its errors and notices name it.
pub struct Purpose<'a> {
    pub method: &'a reqwest::Method,
    /// The path under the base URL, maybe with a query (left out of errors).
    pub path: &'a str,
    pub action: &'a str,
    pub object: &'a str,
}

impl<'a> Purpose<'a> {
    pub fn new(
        method: &'a reqwest::Method,
        path: &'a str,
        action: &'a str,
        object: &'a str,
    ) -> Self {
        Purpose {
            method,
            path,
            action,
            object,
        }
    }
}

/// Why an exchange got no whole answer.
#[derive(Debug)]
pub enum ExchangeError {
    /// No answer, or an answer cut off.
    Transport(reqwest::Error),
    /// The answer is larger than the site's `max_response_bytes`: it was
    /// not read past the limit.
    TooLarge { limit: u64 },
    /// The answers read from the site add up to more than `limit` bytes.
    TooMuchInAll { limit: u64 },
    /// The site's deadline passed before the answer came.
    Deadline { deadline: Duration },
}

/// The site's deadline: it starts at the first request after
/// [`Pacer::restart_clock`] (or ever), and the requests after it end
/// are not sent.
struct Clock {
    budget: Duration,
    started: Mutex<Option<Instant>>,
}

impl Clock {
    fn new(budget: Duration) -> Self {
        Clock {
            budget,
            started: Mutex::new(None),
        }
    }

    /// The time left, starting the clock if it is not running; `None`
    /// once the deadline passed.
    fn remaining(&self) -> Option<Duration> {
        let mut started = self.started.lock().expect("clock lock");
        let started = *started.get_or_insert_with(Instant::now);
        self.budget
            .checked_sub(started.elapsed())
            .filter(|d| !d.is_zero())
    }
}

impl Pacer {
    /// Counts a request sent.
    fn count_sent(&self) {
        self.sent.fetch_add(1, Ordering::Relaxed);
    }

    /// Starts the site's deadline again at its next request: reading a
    /// site and writing to it have a deadline each (whoever confirms an
    /// apply may take their time between them), and a bound each on the
    /// bytes of all their answers.
    pub fn restart_clock(&self) {
        *self.clock.started.lock().expect("clock lock") = None;
        self.read_bytes.store(0, Ordering::Relaxed);
    }

    /// Counts an answer's bytes: an error once the answers since the clock
    /// started again add up to more than [`ANSWERS_IN_ALL`] times
    /// `max_response_bytes`.
    fn count_read(&self, bytes: usize) -> Result<(), ExchangeError> {
        let bytes = bytes as u64;
        let limit = self.max_response_bytes.saturating_mul(ANSWERS_IN_ALL);
        let total = self.read_bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if total > limit {
            return Err(ExchangeError::TooMuchInAll { limit });
        }
        Ok(())
    }

    /// Sends a request in its turn, reads the whole answer (up to the
    /// site's `max_response_bytes`), and learns from it: a 429 halves the
    /// requests under way, a success lets them grow. `purpose` names the
    /// request in its errors and in the notices of a slow answer; failures
    /// name the site and the endpoint. Nothing is sent
    /// once the site's deadline passed, and a request under way then is
    /// given up.
    pub async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
        purpose: &Purpose<'_>,
    ) -> Result<Answer, ProviderError> {
        let deadline = self.clock.budget;
        let answer = match self.clock.remaining() {
            None => Err(ExchangeError::Deadline { deadline }),
            Some(remaining) => {
                let work = self.noticing_delay(purpose.action, self.exchange_in_turn(request));
                tokio::time::timeout(remaining, work)
                    .await
                    .unwrap_or(Err(ExchangeError::Deadline { deadline }))
            }
        };
        answer.map_err(|e| {
            super::error::exchange_failed(
                e,
                &self.site,
                (purpose.method, purpose.path),
                purpose.action,
                purpose.object,
            )
        })
    }

    async fn exchange_in_turn(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Answer, ExchangeError> {
        let turn = self.turn().await;
        self.count_sent();
        let started = Instant::now();
        let mut response = request.send().await.map_err(ExchangeError::Transport)?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let retry_after = retry_after(&headers);
        let body = read_limited(response, self.max_response_bytes).await?;
        self.count_read(body.len())?;
        let elapsed = started.elapsed();
        drop(turn);
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            self.throttled();
        } else if status.is_success() {
            self.succeeded();
        }
        Ok(Answer {
            status,
            retry_after,
            headers,
            body,
            elapsed,
        })
    }

    /// Runs `work`, saying every [`WAIT_NOTICE`] that it is still waiting
    /// (once per span for the whole site, however many requests wait).
    async fn noticing_delay<T>(&self, action: &str, work: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let mut work = std::pin::pin!(work);
        loop {
            if let Ok(done) = tokio::time::timeout(WAIT_NOTICE, &mut work).await {
                return done;
            }
            self.notice_wait(action, started.elapsed());
        }
    }

    fn notice_wait(&self, action: &str, waited: Duration) {
        {
            let mut last = self.last_notice.lock().expect("notice lock");
            if last.is_some_and(|t| t.elapsed() < WAIT_NOTICE.mul_f64(0.9)) {
                return;
            }
            *last = Some(Instant::now());
        }
        crate::progress::notice(&format!(
            "site `{}`: still waiting for an answer ({action}) after {} s (the site's deadline_seconds is {})",
            crate::escape::Visible(&self.site),
            waited.as_secs(),
            self.clock.budget.as_secs()
        ));
    }
}

/// The body of `response`, refused past `limit` bytes: by its
/// `Content-Length` before any of it is read, else as it comes.
pub async fn read_limited(
    mut response: reqwest::Response,
    limit: u64,
) -> Result<bytes::Bytes, ExchangeError> {
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(ExchangeError::TooLarge { limit });
    }
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(ExchangeError::Transport)? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(ExchangeError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// `Retry-After` in seconds (the HTTP-date form is not used by these APIs).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let p = RetryPolicy {
            attempts: 6,
            base: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        for attempt in 1..10 {
            let d = p.delay(attempt, None);
            assert!(d <= Duration::from_millis(100 << (attempt - 1)).min(Duration::from_secs(1)));
        }
        assert_eq!(
            p.delay(3, Some(Duration::from_millis(250))),
            Duration::from_millis(250)
        );
        assert_eq!(
            p.delay(3, Some(Duration::from_secs(90))),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn a_429_without_retry_after_waits_at_least_the_floor_and_grows() {
        let p = RetryPolicy {
            base: Duration::from_millis(1),
            ..RetryPolicy::default()
        };
        for _ in 0..50 {
            assert_eq!(p.throttle_delay(1, None), THROTTLE_FLOOR);
            let second = p.throttle_delay(2, None);
            assert!(second >= THROTTLE_FLOOR && second <= Duration::from_secs(3));
            let fifth = p.throttle_delay(5, None);
            assert!(
                fifth >= Duration::from_secs_f64(5.0625)
                    && fifth <= Duration::from_secs_f64(10.125)
            );
            assert!(p.throttle_delay(40, None) <= p.max_delay);
        }
        // Retry-After is honoured, whatever the floor.
        assert_eq!(
            p.throttle_delay(3, Some(Duration::from_secs(1))),
            Duration::from_secs(1)
        );
    }

    /// On tokio's paused clock: 429s are retried past `attempts` until
    /// patience runs out, and the error then says so.
    #[tokio::test(start_paused = true)]
    async fn patience_bounds_throttled_retries() {
        let p = RetryPolicy::default().with_patience(Duration::from_secs(20));
        let tries = std::sync::atomic::AtomicU32::new(0);
        let start = Instant::now();
        let result: Result<(), _> = p
            .run(
                "s",
                "list users",
                || async {
                    tries.fetch_add(1, Ordering::SeqCst);
                    Err(ProviderError::Http {
                        site: "s".into(),
                        action: "list users".into(),
                        object: String::new(),
                        status: 429,
                        message: "slow down".into(),
                        retry_after: None,
                    })
                },
                |_| async { None },
            )
            .await;
        let e = result.unwrap_err().to_string();
        assert!(tries.load(Ordering::SeqCst) >= 5, "{e}");
        assert!(start.elapsed() <= Duration::from_secs(20));
        assert!(start.elapsed() >= Duration::from_secs(10));
        assert!(
            e.contains("slow down (still throttled after") && e.contains("patience_seconds is 20"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn throttling_halves_and_success_recovers() {
        let pacer = Pacer::new("s", crate::provider::Pacing::default());
        pacer.throttled();
        assert_eq!(pacer.limit(), 8);
        pacer.throttled();
        assert_eq!(pacer.limit(), 4);
        for _ in 0..200 {
            pacer.succeeded();
        }
        assert_eq!(pacer.limit(), 16);
        // Never below one.
        for _ in 0..10 {
            pacer.throttled();
        }
        assert_eq!(pacer.limit(), 1);
        let _turn = pacer.turn().await;
    }

    /// On tokio's paused clock: virtual time, exact, whatever the machine does.
    #[tokio::test(start_paused = true)]
    async fn the_request_budget_spaces_requests() {
        let pacer = Pacer::new(
            "s",
            crate::provider::Pacing {
                per_second: Some(5.0),
                ..crate::provider::Pacing::default()
            },
        );
        let start = Instant::now();
        for _ in 0..11 {
            drop(pacer.turn().await);
        }
        // The first goes at once, then one every 200 ms.
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }
}
