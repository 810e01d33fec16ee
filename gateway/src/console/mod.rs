//! The administrators' web console (`[console]`): on its own listener,
//! HTTPS unless on loopback, sign-in with a password (argon2, the SMTP
//! AUTH guard's lockouts) and a TOTP code, roles `viewer` and `admin`.
//!
//! Pages (`pages.rs`): the month so far, the quarantine (a held message's
//! findings by category with masked values; release or delete with a
//! reason), audit search, a rule test, the monthly report. Everything done
//! is audited. Forms carry the session's CSRF token and posts from another
//! origin are refused; the cookie is HttpOnly, SameSite=Strict, Secure
//! over HTTPS; every response has a strict Content-Security-Policy, no
//! caching and no framing.
//!
//! axum routes, askama renders; each connection is served by hyper's
//! HTTP/1.1 server behind our rustls acceptor, with bounds on connections,
//! handshake time and header time.

mod pages;
pub mod session;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

use crate::audit::Audit;
use crate::metrics::Metrics;
use crate::queue::QueueHandle;
use crate::spool::Spool;

use session::Sessions;

/// Connections served at once; more wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 64;
/// A TLS handshake, and a request's headers, must arrive within this.
const HANDSHAKE: Duration = Duration::from_secs(10);
/// A request, body and answer, must be done within this.
const REQUEST: Duration = Duration::from_secs(120);
/// The largest form body taken, but for the rule test's message.
const MAX_FORM: usize = 64 * 1024;
/// The rule test's message: as large as the relay takes by default.
const MAX_MESSAGE: usize = 26 * 1024 * 1024;

/// What the pages work with.
pub struct Console {
    /// The configuration in force (reloads included) and its engine and
    /// policy.
    pub live: Box<dyn Fn() -> Arc<crate::app::Live> + Send + Sync>,
    /// Releases and deletions go through the queue manager.
    pub queue: QueueHandle,
    /// Held messages are read from here.
    pub spool: Spool,
    /// Every action is recorded here.
    pub audit: Audit,
    /// Requests and sign-in failures are counted here.
    pub metrics: Arc<Metrics>,
    sessions: Sessions,
    guard: crate::auth::Guard,
    /// Whether it is served over TLS (then cookies are `Secure`).
    https: bool,
}

/// The peer of a connection, for lockouts and the audit log.
#[derive(Clone, Copy, Debug)]
struct Peer(SocketAddr);

impl Console {
    /// The console over `parts`; `https` as configured.
    pub fn new(
        live: Box<dyn Fn() -> Arc<crate::app::Live> + Send + Sync>,
        queue: QueueHandle,
        spool: Spool,
        audit: Audit,
        metrics: Arc<Metrics>,
        https: bool,
    ) -> Console {
        Console {
            live,
            queue,
            spool,
            audit,
            metrics,
            sessions: Sessions::default(),
            // Two argon2 checks at once; 5 failures lock a client or a
            // name out, doubling up to an hour.
            guard: crate::auth::Guard::new(2, 5, Duration::from_secs(3600)),
            https,
        }
    }
}

/// Why the console could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// The listener.
    #[error("console.listen {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What happened.
        source: std::io::Error,
    },
    /// The certificate or key.
    #[error("console TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
}

/// Binds `[console] listen` and serves until the task is aborted.
pub async fn serve(
    console: Console,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), ConsoleError> {
    let cfg = (console.live)()
        .config
        .console
        .clone()
        .expect("serve is called with [console] set");
    let acceptor = match &cfg.tls {
        Some((cert, key)) => Some(crate::tls::https_acceptor(cert, key)?),
        None => None,
    };
    let listener = TcpListener::bind(cfg.listen)
        .await
        .map_err(|source| ConsoleError::Bind {
            addr: cfg.listen,
            source,
        })?;
    let local = listener.local_addr().map_err(|source| ConsoleError::Bind {
        addr: cfg.listen,
        source,
    })?;
    let console = Arc::new(console);
    let app = router(console.clone());
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let task = tokio::spawn(async move {
        loop {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            let Ok((tcp, peer)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let app = app.clone().layer(axum::Extension(Peer(peer)));
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let service = hyper_util::service::TowerToHyperService::new(app);
                let mut http = hyper::server::conn::http1::Builder::new();
                http.timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(HANDSHAKE)
                    .max_buf_size(64 * 1024);
                match acceptor {
                    Some(acceptor) => {
                        let Ok(Ok(tls)) =
                            tokio::time::timeout(HANDSHAKE, acceptor.accept(tcp)).await
                        else {
                            return;
                        };
                        let io = hyper_util::rt::TokioIo::new(tls);
                        let _ = http.serve_connection(io, service).await;
                    }
                    None => {
                        let io = hyper_util::rt::TokioIo::new(tcp);
                        let _ = http.serve_connection(io, service).await;
                    }
                }
            });
        }
    });
    Ok((local, task))
}

/// The routes, and what every request passes through: counting, the
/// security headers, the same-origin check on posts.
fn router(console: Arc<Console>) -> Router {
    use axum::routing::{get, post};
    Router::new()
        .route("/", get(pages::sign_in_page).post(pages::sign_in))
        .route("/signout", post(pages::sign_out))
        .route("/overview", get(pages::overview))
        .route("/quarantine", get(pages::quarantine))
        .route("/quarantine/{id}", get(pages::message))
        .route("/quarantine/{id}/release", post(pages::release))
        .route("/quarantine/{id}/delete", post(pages::delete))
        .route("/audit", get(pages::audit))
        .route(
            "/test",
            get(pages::rule_test_page)
                .post(pages::rule_test)
                // A message may be as large as the relay takes; read only
                // after the session is checked.
                .layer(axum::extract::DefaultBodyLimit::max(MAX_MESSAGE)),
        )
        .route("/report", get(pages::report))
        .route("/style.css", get(pages::style))
        .fallback(pages::not_found)
        // Forms are small: a sign-in form from anyone is read whole.
        .layer(axum::extract::DefaultBodyLimit::max(MAX_FORM))
        .layer(axum::middleware::from_fn(same_origin))
        .layer(axum::middleware::from_fn(deadline))
        .layer(axum::middleware::from_fn(headers))
        .layer(axum::middleware::from_fn_with_state(console.clone(), count))
        .with_state(console)
}

/// Counts each request by its route (never the raw path: queue IDs and
/// query strings would make a label per request) and status.
async fn count(
    axum::extract::State(console): axum::extract::State<Arc<Console>>,
    req: Request,
    next: Next,
) -> Response {
    let page = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("other", |p| match p.as_str() {
            "/" => "sign_in",
            "/signout" => "sign_out",
            "/overview" => "overview",
            "/quarantine" => "quarantine",
            "/quarantine/{id}" => "message",
            "/quarantine/{id}/release" => "release",
            "/quarantine/{id}/delete" => "delete",
            "/audit" => "audit",
            "/test" => "rule_test",
            "/report" => "report",
            "/style.css" => "style",
            _ => "other",
        });
    let res = next.run(req).await;
    console
        .metrics
        .console_requests_total
        .with_label_values(&[page, res.status().as_str()])
        .inc();
    res
}

/// Security headers on every response. The report is a document of its
/// own with inline styles and SVG; everything else takes nothing inline.
async fn headers(req: Request, next: Next) -> Response {
    let report = req.uri().path() == "/report";
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let csp = if report {
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    } else {
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    };
    for (name, value) in [
        ("content-security-policy", csp),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
        ("cache-control", "no-store"),
        ("cross-origin-opener-policy", "same-origin"),
        (
            "permissions-policy",
            "camera=(), microphone=(), geolocation=()",
        ),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    res
}

/// A request that is not done in [`REQUEST`] (a body trickling in, say)
/// gives its connection slot back.
async fn deadline(req: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST, next.run(req)).await {
        Ok(res) => res,
        Err(_) => (StatusCode::REQUEST_TIMEOUT, "request took too long").into_response(),
    }
}

/// Posts must come from the console's own pages: a browser says where a
/// form was sent from (Origin, Sec-Fetch-Site); another site's is refused
/// before any handler runs. The session's CSRF token is checked as well.
async fn same_origin(req: Request, next: Next) -> Response {
    if req.method() == Method::POST {
        let h = req.headers();
        let host = h.get(header::HOST).and_then(|v| v.to_str().ok());
        let origin_ok = match (h.get(header::ORIGIN).map(|v| v.to_str()), host) {
            (None, _) => true,
            (Some(Ok(o)), Some(host)) => {
                o.strip_prefix("https://")
                    .or_else(|| o.strip_prefix("http://"))
                    == Some(host)
            }
            _ => false,
        };
        let site_ok = h
            .get("sec-fetch-site")
            .is_none_or(|v| matches!(v.as_bytes(), b"same-origin" | b"none"));
        if !origin_ok || !site_ok {
            return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
        }
    }
    next.run(req).await
}
