//! Fault injection: the sandbox answers some requests the way real APIs
//! misbehave. Each request rolls a seeded die: a 429 with `Retry-After`, a
//! 5xx (before or after the write took effect), or a connection that closes
//! without a whole answer (again before or after). Besides the die, a test
//! may pick one request ([`Meddle`]) whose answer is lost or replaced after
//! the request did what it asked. This file says what to inject;
//! [`super::fault_injection`] injects it.

use super::data::SandboxData;

/// How often each fault happens, as a share of requests (0.0 to 1.0).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    /// 5xx answers.
    pub error_rate: f64,
    /// 429 answers with `Retry-After`.
    pub throttle_rate: f64,
    /// Connections closed without a whole answer.
    pub drop_rate: f64,
    /// The seconds a 429 asks to wait.
    pub retry_after_secs: u64,
    /// Seed of the die, so a run can be repeated.
    pub seed: u64,
}

impl Faults {
    pub fn any(&self) -> bool {
        self.error_rate > 0.0 || self.throttle_rate > 0.0 || self.drop_rate > 0.0
    }
}

/// What becomes of the answer of a request picked by a [`Meddle`].
#[derive(Debug, Clone)]
pub enum Answered {
    /// The connection closes without the answer: the site did the write,
    /// the client cannot know.
    Lost,
    /// A 200 with this body instead of the site's own answer.
    Replaced(serde_json::Value),
}

/// Someone else's change to the data, made right after the picked request.
pub type Then = Box<dyn FnOnce(&mut SandboxData) + Send>;

/// The first request with `method` and `path` (without its query) is
/// carried out, `then` changes the data, and its answer is `answered`.
pub struct Meddle {
    pub method: String,
    pub path: String,
    pub answered: Answered,
    pub then: Option<Then>,
}

impl Meddle {
    /// The answer of the first `method path` is lost after the write.
    pub fn lose(method: &str, path: &str) -> Self {
        Meddle {
            method: method.to_string(),
            path: path.to_string(),
            answered: Answered::Lost,
            then: None,
        }
    }

    /// The answer of the first `method path` is `body`, after the write.
    pub fn replace(method: &str, path: &str, body: serde_json::Value) -> Self {
        Meddle {
            answered: Answered::Replaced(body),
            ..Meddle::lose(method, path)
        }
    }

    /// And right after the request, `then` changes the data.
    #[must_use]
    pub fn then(self, then: impl FnOnce(&mut SandboxData) + Send + 'static) -> Self {
        Meddle {
            then: Some(Box::new(then)),
            ..self
        }
    }
}
