//! Serving an axum application on a listener open to anyone.
//!
//! What a connection flood or a slow client can no longer do:
//!
//! - **Hold every descriptor.** At most [`Limits::max_connections`]
//!   connections are open at once, and never more than the soft descriptor
//!   limit less [`RESERVED_DESCRIPTORS`] (kept for the log's files, outgoing
//!   connections and the runtime). At the cap the server stops accepting:
//!   new connections wait in the kernel's listen queue until an open one
//!   closes, so nothing fails with "too many open files". Reaching the cap
//!   is logged (at most once per [`WARN_EVERY`]) and counted
//!   (`tallyboard_http_connection_limit_reached_total`).
//! - **Stay silent.** A request's headers must be complete within
//!   [`Limits::header_timeout`] of the connection opening, or of the
//!   previous response on a kept-alive connection (hyper's header read
//!   timer is re-armed when a connection goes idle): this is also the idle
//!   timeout. A silent or idle connection is closed when it runs out.
//! - **Trickle a body.** A request body must be complete within
//!   [`Limits::body_timeout`] of its headers; after that, reading it fails
//!   with [`BodyTimeout`] (see [`is_body_timeout`]) and the connection is
//!   closed once the answer is sent.
//!
//! [`raise_descriptor_limit`] raises the soft descriptor limit to the hard
//! limit; call it once at start-up.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

/// Default cap on open connections (lowered to fit the descriptor limit).
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// Default time allowed for a request's headers (and idle keep-alive).
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time allowed for a request's body, from its headers.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Descriptors kept free below the soft limit for everything that is not a
/// client connection.
pub const RESERVED_DESCRIPTORS: u64 = 128;
/// Fewest connections allowed, whatever the descriptor limit.
const MIN_CONNECTIONS: usize = 16;
/// Least time between two warnings about the connection cap or accept errors.
pub const WARN_EVERY: Duration = Duration::from_secs(10);

/// The limits of [`serve`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most connections open at once (further ones wait to be accepted).
    pub max_connections: usize,
    /// Time allowed from a connection opening, or from the previous
    /// response on a kept-alive connection, until the request's headers
    /// are complete. Silent and idle connections are closed after it.
    pub header_timeout: Duration,
    /// Time allowed from a request's headers until its body is complete.
    pub body_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
        }
    }
}

impl Limits {
    /// The connection cap used when the process may open `soft_limit`
    /// descriptors (`None`: unlimited): [`Limits::max_connections`], but at
    /// most `soft_limit - RESERVED_DESCRIPTORS`, and at least 16.
    pub fn effective_max_connections(&self, soft_limit: Option<u64>) -> usize {
        let fit = soft_limit.map_or(usize::MAX, |s| {
            usize::try_from(s.saturating_sub(RESERVED_DESCRIPTORS)).unwrap_or(usize::MAX)
        });
        self.max_connections.min(fit).max(MIN_CONNECTIONS)
    }
}

/// The current soft descriptor limit (`None`: unlimited).
pub fn descriptor_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

/// Raises the soft limit on open descriptors to the hard limit, logs both,
/// and returns the soft limit now in force (`None`: unlimited).
pub fn raise_descriptor_limit() -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let before = getrlimit(Resource::Nofile);
    let shown = |v: Option<u64>| v.map_or("unlimited".to_owned(), |n| n.to_string());
    if before.current != before.maximum {
        let raised = Rlimit {
            current: before.maximum,
            maximum: before.maximum,
        };
        if let Err(e) = setrlimit(Resource::Nofile, raised) {
            tracing::warn!(
                soft = %shown(before.current),
                hard = %shown(before.maximum),
                "cannot raise the soft descriptor limit to the hard limit: {e}"
            );
        }
    }
    let after = getrlimit(Resource::Nofile);
    tracing::info!(
        soft_before = %shown(before.current),
        soft = %shown(after.current),
        hard = %shown(after.maximum),
        "descriptor limit"
    );
    after.current
}

/// Connection counters of one listener, shown in the role's `/metrics`.
/// Clones share the counters.
#[derive(Clone, Debug, Default)]
pub struct ConnStats(Arc<Counters>);

#[derive(Debug, Default)]
struct Counters {
    max: AtomicU64,
    open: AtomicU64,
    accepted: AtomicU64,
    limit_reached: AtomicU64,
    header_timeouts: AtomicU64,
    body_timeouts: AtomicU64,
}

impl ConnStats {
    /// New counters, all zero.
    pub fn new() -> ConnStats {
        ConnStats::default()
    }

    /// Connections open now.
    pub fn open(&self) -> u64 {
        self.0.open.load(Ordering::Relaxed)
    }

    /// Times a connection had to wait because the cap was reached.
    pub fn limit_reached(&self) -> u64 {
        self.0.limit_reached.load(Ordering::Relaxed)
    }

    /// Connections closed because a request's headers did not arrive in
    /// time (silent or idle connections).
    pub fn header_timeouts(&self) -> u64 {
        self.0.header_timeouts.load(Ordering::Relaxed)
    }

    /// Request bodies that did not arrive in time.
    pub fn body_timeouts(&self) -> u64 {
        self.0.body_timeouts.load(Ordering::Relaxed)
    }

    /// Appends the counters in the Prometheus text format (0.0.4).
    pub fn render(&self, out: &mut String) {
        let c = &self.0;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP tallyboard_http_connections_open Client connections open.\n\
             # TYPE tallyboard_http_connections_open gauge\n\
             tallyboard_http_connections_open {}\n\
             # HELP tallyboard_http_connections_max Most client connections open at once (the cap).\n\
             # TYPE tallyboard_http_connections_max gauge\n\
             tallyboard_http_connections_max {}\n\
             # HELP tallyboard_http_connections_accepted_total Client connections accepted.\n\
             # TYPE tallyboard_http_connections_accepted_total counter\n\
             tallyboard_http_connections_accepted_total {}\n\
             # HELP tallyboard_http_connection_limit_reached_total Times a new connection had to wait because the cap was reached.\n\
             # TYPE tallyboard_http_connection_limit_reached_total counter\n\
             tallyboard_http_connection_limit_reached_total {}\n\
             # HELP tallyboard_http_header_timeouts_total Connections closed because a request's headers did not arrive in time (silent or idle).\n\
             # TYPE tallyboard_http_header_timeouts_total counter\n\
             tallyboard_http_header_timeouts_total {}\n\
             # HELP tallyboard_http_body_timeouts_total Request bodies that did not arrive in time.\n\
             # TYPE tallyboard_http_body_timeouts_total counter\n\
             tallyboard_http_body_timeouts_total {}",
            get(&c.open),
            get(&c.max),
            get(&c.accepted),
            get(&c.limit_reached),
            get(&c.header_timeouts),
            get(&c.body_timeouts),
        );
    }

    /// A router serving only these counters at `GET /metrics`, for roles
    /// that have no metrics of their own.
    pub fn router(&self) -> Router {
        let stats = self.clone();
        Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let stats = stats.clone();
                async move {
                    let mut text = String::new();
                    stats.render(&mut text);
                    (
                        [
                            (
                                axum::http::header::CONTENT_TYPE,
                                "text/plain; version=0.0.4; charset=utf-8",
                            ),
                            (axum::http::header::CACHE_CONTROL, "no-store"),
                        ],
                        text,
                    )
                }
            }),
        )
    }
}

/// Serves `app` on `listener` with `limits` until `signal` completes; then
/// stops accepting, lets the requests in flight finish (idle connections
/// are closed at once) and returns. Handlers see the client's address as
/// `ConnectInfo<SocketAddr>`. The cap is applied against the soft
/// descriptor limit in force when this is called.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    stats: ConnStats,
    signal: impl Future<Output = ()> + Send + 'static,
) {
    let soft = descriptor_limit();
    let max = limits.effective_max_connections(soft);
    stats.0.max.store(max as u64, Ordering::Relaxed);
    tracing::info!(
        max_connections = max,
        descriptor_limit = %soft.map_or("unlimited".to_owned(), |n| n.to_string()),
        header_timeout_ms = limits.header_timeout.as_millis() as u64,
        body_timeout_ms = limits.body_timeout.as_millis() as u64,
        "connection limits"
    );
    let slots = Arc::new(Semaphore::new(max));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut signal = std::pin::pin!(signal);
    let mut last_cap_warning: Option<Instant> = None;
    let mut last_accept_warning: Option<Instant> = None;
    loop {
        let permit = match slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                stats.0.limit_reached.fetch_add(1, Ordering::Relaxed);
                if due(&mut last_cap_warning) {
                    tracing::warn!(
                        max_connections = max,
                        "connection limit reached: {max} connections open; new connections wait to be accepted until one closes (silent and idle ones close after the header timeout)"
                    );
                }
                tokio::select! {
                    p = slots.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                    () = &mut signal => break,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    accept_failed(&e, &mut last_accept_warning).await;
                    continue;
                }
            },
            () = &mut signal => break,
        };
        stats.0.accepted.fetch_add(1, Ordering::Relaxed);
        stats.0.open.fetch_add(1, Ordering::Relaxed);
        let _ = stream.set_nodelay(true);
        let service = ConnService {
            app: app.clone(),
            peer,
            body_timeout: limits.body_timeout,
            stats: stats.clone(),
        };
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        let stats = stats.clone();
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                if e.is_timeout() {
                    stats.0.header_timeouts.fetch_add(1, Ordering::Relaxed);
                }
                tracing::debug!(%peer, "connection closed: {e}");
            }
            stats.0.open.fetch_sub(1, Ordering::Relaxed);
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Whether a rate-limited warning is due now (and records it).
fn due(last: &mut Option<Instant>) -> bool {
    let now = Instant::now();
    if last.is_some_and(|t| now.duration_since(t) < WARN_EVERY) {
        return false;
    }
    *last = Some(now);
    true
}

/// An accept error: a connection that failed before it was accepted is
/// skipped; anything else (out of descriptors or memory) is logged and
/// retried after a pause, leaving the pending connections queued.
async fn accept_failed(e: &std::io::Error, last: &mut Option<Instant>) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    if due(last) {
        tracing::warn!("cannot accept a connection: {e}; retrying");
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// The hyper service of one connection: the application, with the
/// client's address and the body deadline added to each request.
#[derive(Clone)]
struct ConnService {
    app: Router,
    peer: SocketAddr,
    body_timeout: Duration,
    stats: ConnStats,
}

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let (mut parts, body) = req.into_parts();
        parts.extensions.insert(ConnectInfo(self.peer));
        let body = if http_body::Body::is_end_stream(&body) {
            Body::new(body)
        } else {
            Body::new(DeadlineBody {
                inner: body,
                deadline: Box::pin(tokio::time::sleep(self.body_timeout)),
                timeout: self.body_timeout,
                stats: self.stats.clone(),
                expired: false,
            })
        };
        let app = self.app.clone();
        Box::pin(app.oneshot(Request::from_parts(parts, body)))
    }
}

/// Reading a request body took longer than the body timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTimeout(pub Duration);

impl std::fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the request body did not arrive within {} ms",
            self.0.as_millis()
        )
    }
}

impl std::error::Error for BodyTimeout {}

/// Whether `e`, or any error it was caused by, is a [`BodyTimeout`] (for
/// handlers that read the body themselves and answer 408).
pub fn is_body_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.is::<BodyTimeout>() {
            return true;
        }
        cur = err.source();
    }
    false
}

/// A request body that fails with [`BodyTimeout`] once its deadline passes.
struct DeadlineBody {
    inner: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
    timeout: Duration,
    stats: ConnStats,
    expired: bool,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if this.expired {
            return Poll::Ready(Some(Err(Box::new(BodyTimeout(this.timeout)))));
        }
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|r| r.map_err(Into::into)));
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.expired = true;
            this.stats.0.body_timeouts.fetch_add(1, Ordering::Relaxed);
            return Poll::Ready(Some(Err(Box::new(BodyTimeout(this.timeout)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use axum::routing::{get, post};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpStream;

    async fn start(limits: Limits) -> (SocketAddr, ConnStats, tokio::sync::oneshot::Sender<()>) {
        let app = Router::new()
            .route(
                "/peer",
                get(|ConnectInfo(a): ConnectInfo<SocketAddr>| async move { a.ip().to_string() }),
            )
            .route(
                "/echo",
                post(|body: Body| async move {
                    match axum::body::to_bytes(body, 1 << 20).await {
                        Ok(b) => (axum::http::StatusCode::OK, b.len().to_string()),
                        Err(e) if is_body_timeout(&e) => {
                            (axum::http::StatusCode::REQUEST_TIMEOUT, "timeout".into())
                        }
                        Err(e) => (axum::http::StatusCode::BAD_REQUEST, e.to_string()),
                    }
                }),
            );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stats = ConnStats::new();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let st = stats.clone();
        tokio::spawn(async move {
            serve(
                listener,
                app.merge(st.router()),
                &limits,
                st.clone(),
                async {
                    let _ = rx.await;
                },
            )
            .await;
        });
        (addr, stats, tx)
    }

    /// Sends `req` on a new connection and reads the whole answer.
    async fn exchange(addr: SocketAddr, req: &str) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
            .await
            .expect("answer in time")
            .unwrap();
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn the_cap_fits_the_descriptor_limit() {
        let l = Limits::default();
        assert_eq!(l.effective_max_connections(None), DEFAULT_MAX_CONNECTIONS);
        assert_eq!(l.effective_max_connections(Some(1024)), 1024 - 128);
        assert_eq!(l.effective_max_connections(Some(100)), MIN_CONNECTIONS);
        let small = Limits {
            max_connections: 50,
            ..Limits::default()
        };
        assert_eq!(small.effective_max_connections(Some(1 << 20)), 50);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn serves_with_the_client_address_and_metrics() {
        let (addr, _stats, _stop) = start(Limits::default()).await;
        let r = exchange(
            addr,
            "GET /peer HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
        assert!(r.ends_with("127.0.0.1"), "{r}");
        let m = exchange(
            addr,
            "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(
            m.contains("tallyboard_http_connections_accepted_total 2"),
            "{m}"
        );
        assert!(m.contains("tallyboard_http_connections_max "), "{m}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn silent_connections_are_closed_after_the_header_timeout() {
        let (addr, stats, _stop) = start(Limits {
            header_timeout: Duration::from_millis(300),
            ..Limits::default()
        })
        .await;
        let mut silent = TcpStream::connect(addr).await.unwrap();
        let mut buf = [0u8; 64];
        let n = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buf))
            .await
            .expect("closed by the server in time");
        // Closed: end of stream, or a 408 answer hyper may write first.
        assert!(n.is_err() || n.unwrap() == 0 || buf.starts_with(b"HTTP/1.1 408"));
        assert_eq!(stats.header_timeouts(), 1);
        assert_eq!(stats.open(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_trickled_body_times_out() {
        let (addr, stats, _stop) = start(Limits {
            body_timeout: Duration::from_millis(300),
            ..Limits::default()
        })
        .await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc")
            .await
            .unwrap();
        let mut out = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out))
            .await
            .expect("answered and closed in time")
            .unwrap();
        let r = String::from_utf8_lossy(&out);
        assert!(r.starts_with("HTTP/1.1 408"), "{r}");
        assert_eq!(stats.body_timeouts(), 1);
        // A body sent in time is read whole.
        let ok = exchange(
            addr,
            "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
        )
        .await;
        assert!(ok.starts_with("HTTP/1.1 200") && ok.ends_with('3'), "{ok}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_the_cap_new_connections_wait_for_a_free_slot() {
        let (addr, stats, _stop) = start(Limits {
            max_connections: MIN_CONNECTIONS,
            header_timeout: Duration::from_millis(1500),
            ..Limits::default()
        })
        .await;
        let mut held = Vec::new();
        for _ in 0..MIN_CONNECTIONS + 4 {
            held.push(TcpStream::connect(addr).await.unwrap());
        }
        let started = Instant::now();
        let r = exchange(
            addr,
            "GET /peer HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
        // Served once the silent connections timed out, not before.
        assert!(started.elapsed() >= Duration::from_millis(1000));
        assert!(stats.limit_reached() >= 1);
        assert!(stats.header_timeouts() >= 5);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn shutdown_closes_idle_connections_and_returns() {
        let app = Router::new().route("/", get(|| async { "ok" }));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            serve(listener, app, &Limits::default(), ConnStats::new(), async {
                let _ = rx.await;
            })
            .await;
        });
        let _idle = TcpStream::connect(addr).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        tx.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("stopped in time")
            .unwrap();
        assert!(TcpStream::connect(addr).await.is_err());
    }
}
