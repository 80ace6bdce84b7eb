//! A local emulator of the platforms' APIs: a real HTTP server on loopback
//! that roster's own clients talk to, used by `roster sandbox`, by
//! `--sandbox`, and by every end-to-end test.

pub mod answer;
pub mod data;
pub mod fault_injection;
pub mod faults;
pub mod persist;
pub mod rules;
pub mod shared;

/// Every emulated platform: its folder, which is also the name of its
/// field of [`SandboxData`] (the key of the data file). Each folder has
/// `routes::routes()` and `banner(sites, url)`. The fields are declared in
/// `data.rs`, below the platforms' routes (which hold the data); the banner
/// takes the data apart field by field, so the compiler refuses a platform
/// named in one list and not the other.
macro_rules! platforms {
    ($($module:ident),+ $(,)?) => {
        $(pub mod $module;)+

        impl SandboxData {
            /// The test credentials of every emulated site, a line each,
            /// for `roster sandbox` to print.
            pub fn banner(&self, url: &str) -> String {
                let SandboxData { $($module),+ } = self;
                let mut out = String::new();
                $(out += &$module::banner($module, url);)+
                out
            }
        }

        /// Every platform's routes.
        fn platform_routes() -> Router<Arc<Shared>> {
            Router::new()$(.merge($module::routes::routes()))+
        }
    };
}

platforms! {
    periscope,
    sigma,
    scim,
}

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;

pub use data::SandboxData;
pub use periscope::store::PeriscopeSite;
pub use scim::store::ScimService;
use shared::Shared;
pub use shared::{Options, RequestRecord};
pub use sigma::store::SigmaOrg;

/// The API key of every Periscope site in the shipped seed, and of sites the
/// sandbox adds for `--sandbox`.
pub const SANDBOX_PERISCOPE_KEY: &str = "sandbox-periscope-key";
/// The client secret of every Sigma organisation in the shipped seed; the
/// client ID is the organisation's name.
pub const SANDBOX_SIGMA_SECRET: &str = "sandbox-sigma-secret";
/// The bearer token of every SCIM service in the shipped seed.
pub const SANDBOX_SCIM_TOKEN: &str = "sandbox-scim-token";

/// A sandbox: its data and the record of what it was asked.
#[derive(Clone)]
pub struct Sandbox {
    shared: Arc<Shared>,
}

impl Sandbox {
    pub fn new(data: SandboxData) -> Self {
        Self::with_options(data, Options::default())
    }

    pub fn with_options(data: SandboxData, options: Options) -> Self {
        Sandbox {
            shared: Arc::new(Shared::new(data, options)),
        }
    }

    /// A copy of what the sandbox holds now.
    pub fn data(&self) -> SandboxData {
        self.shared.data.lock().expect("sandbox lock").clone()
    }

    /// Switches fault injection (the die is seeded again).
    pub fn set_faults(&self, faults: faults::Faults) {
        *self.shared.rng.lock().expect("sandbox lock") = fastrand::Rng::with_seed(faults.seed);
        *self.shared.faults.lock().expect("sandbox lock") = faults;
    }

    /// Picks a request whose answer is lost or replaced after it is carried
    /// out (see [`faults::Meddle`]).
    pub fn meddle(&self, meddle: faults::Meddle) {
        self.shared
            .meddles
            .lock()
            .expect("sandbox lock")
            .push(meddle);
    }

    /// Changes the data directly, as someone using the platform's UI would.
    pub fn edit(&self, f: impl FnOnce(&mut SandboxData)) {
        f(&mut self.shared.data.lock().expect("sandbox lock"));
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
        platform_routes()
            .fallback(not_found)
            .layer(middleware::from_fn_with_state(
                self.shared.clone(),
                fault_injection::inject,
            ))
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
        Self::start_with(data, Options::default())
    }

    pub fn start_with(data: SandboxData, options: Options) -> std::io::Result<Self> {
        let sandbox = Sandbox::with_options(data, options);
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        std_listener.set_nonblocking(true)?;
        let url = format!("http://{}", std_listener.local_addr()?);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let runner = sandbox.clone();
        let thread = std::thread::spawn(move || {
            // Two workers, like `roster sandbox` on a 2-core machine: one
            // thread serving every connection added its own queueing to
            // each answer under load.
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
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
    periscope::routes::respond(Err::<serde_json::Value, _>(answer::ApiError::new(
        404,
        format!("no such endpoint: {} {}", req.method(), req.uri().path()),
    )))
}

/// The Periscope site or Sigma organisation a request is for.
fn request_site(shared: &Shared, headers: &axum::http::HeaderMap) -> Option<String> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    header("HTTP-X-PARTNER-AUTH")
        .and_then(|v| v.split_once(':'))
        .map(|(site, _)| site.to_string())
        .or_else(|| {
            header("authorization")
                .and_then(|v| v.strip_prefix("Bearer "))
                .and_then(|t| shared.sigma_org_of(t))
        })
}

async fn log_request(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    if !shared.options.latency.is_zero() {
        tokio::time::sleep(shared.options.latency).await;
    }
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let test_mode = req.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "test_mode")
            .map(|(_, v)| v.into_owned())
    });
    let site = scim::routes::service_of(&path).or_else(|| request_site(&shared, req.headers()));
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
