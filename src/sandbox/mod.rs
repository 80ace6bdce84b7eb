//! A local emulator of the platforms' APIs: a real HTTP server on loopback
//! that roster's own clients talk to, used by `roster sandbox`, by
//! `--sandbox`, and by every end-to-end test.

mod periscope;
pub mod persist;
pub mod store;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use serde::Serialize;

pub use store::{PeriscopeSite, SandboxData};

/// The API key of every Periscope site in the shipped seed, and of sites the
/// sandbox adds for `--sandbox`.
pub const SANDBOX_PERISCOPE_KEY: &str = "sandbox-periscope-key";

/// One request the sandbox answered, for tests and `roster sandbox` logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    /// `test_mode` as sent: `None` when the request had none.
    pub test_mode: Option<String>,
    /// The site named by the auth header (never the key).
    pub site: Option<String>,
    pub status: u16,
}

/// State shared by the handlers.
pub struct Shared {
    pub data: Mutex<SandboxData>,
    log: Mutex<Vec<RequestRecord>>,
    writes: AtomicU64,
}

impl Shared {
    fn record_write(&self) {
        self.writes.fetch_add(1, Ordering::SeqCst);
    }
}

/// A sandbox: its data and the record of what it was asked.
#[derive(Clone)]
pub struct Sandbox {
    shared: Arc<Shared>,
}

impl Sandbox {
    pub fn new(data: SandboxData) -> Self {
        Sandbox {
            shared: Arc::new(Shared {
                data: Mutex::new(data),
                log: Mutex::new(Vec::new()),
                writes: AtomicU64::new(0),
            }),
        }
    }

    /// A copy of what the sandbox holds now.
    pub fn data(&self) -> SandboxData {
        self.shared.data.lock().expect("sandbox lock").clone()
    }

    /// Every request answered so far, in order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.log.lock().expect("sandbox lock").clone()
    }

    /// How many writes really changed data (not counting test_mode ones).
    pub fn writes(&self) -> u64 {
        self.shared.writes.load(Ordering::SeqCst)
    }

    pub fn router(&self) -> Router {
        periscope::routes()
            .fallback(not_found)
            .layer(middleware::from_fn_with_state(
                self.shared.clone(),
                log_request,
            ))
            .with_state(self.shared.clone())
    }

    /// Serves on `listener` until `shutdown` completes.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }

    /// Starts serving on a free loopback port in the current runtime.
    pub async fn spawn(&self) -> std::io::Result<RunningSandbox> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let this = self.clone();
        let task = tokio::spawn(async move {
            let _ = this
                .serve(listener, async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(RunningSandbox {
            addr,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// A sandbox served from a task of the current runtime.
pub struct RunningSandbox {
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningSandbox {
    pub fn url(&self) -> url::Url {
        url::Url::parse(&format!("http://{}", self.addr)).expect("a socket address is a valid URL")
    }

    /// Stops serving and waits for the server to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// A sandbox on its own thread and runtime, for tests that run the binary.
/// Stops when dropped.
pub struct BackgroundSandbox {
    pub sandbox: Sandbox,
    pub url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackgroundSandbox {
    pub fn start(data: SandboxData) -> std::io::Result<Self> {
        let sandbox = Sandbox::new(data);
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        std_listener.set_nonblocking(true)?;
        let url = format!("http://{}", std_listener.local_addr()?);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let runner = sandbox.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime for the sandbox");
            rt.block_on(async move {
                let listener =
                    tokio::net::TcpListener::from_std(std_listener).expect("a tokio listener");
                let _ = runner
                    .serve(listener, async {
                        let _ = rx.await;
                    })
                    .await;
            });
        });
        Ok(BackgroundSandbox {
            sandbox,
            url,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }
}

impl Drop for BackgroundSandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn not_found(req: Request) -> Response {
    periscope::respond(Err(store::ApiError {
        status: 404,
        message: format!("no such endpoint: {} {}", req.method(), req.uri().path()),
    }))
}

async fn log_request(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let test_mode = req.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "test_mode")
            .map(|(_, v)| v.into_owned())
    });
    let site = req
        .headers()
        .get("HTTP-X-PARTNER-AUTH")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(':'))
        .map(|(site, _)| site.to_string());
    let response = next.run(req).await;
    let status = response.status().as_u16();
    tracing::info!(%method, %path, ?test_mode, ?site, status, "sandbox request");
    shared
        .log
        .lock()
        .expect("sandbox lock")
        .push(RequestRecord {
            method,
            path,
            test_mode,
            site,
            status,
        });
    response
}
