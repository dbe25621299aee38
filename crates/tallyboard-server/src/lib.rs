//! # tallyboard-server: the publication server
//!
//! Takes signed tallies from count centres (`POST /submit`), checks them
//! against the signed manifest and every tally rule, sequences them into the
//! append-only log ([`tallyboard_log`]) and answers each, once it is durable,
//! with a receipt (C2SP tlog-proof). Serves the read API of
//! `spec/protocol.md` §3: `/checkpoint`, `/tile/...` (C2SP tlog-tiles),
//! `/manifest`, `/totals`, `/units/<id>`, plus `/metrics` (Prometheus).
//!
//! ## What's in scope
//!
//! Validation (`Content-Type`, size cap, canonical encoding, signature,
//! manifest rules, revision rules in log order), rate limiting of
//! submissions (per client address for those refused before they reach the
//! log, per count centre key for valid, signed ones), load shedding (a full
//! submission pool answers 503 with `Retry-After` while reads keep
//! working), connection limits and timeouts ([`tallyboard_http::serve`]),
//! graceful shutdown that finishes the batch in flight.
//!
//! ## What's out of scope
//!
//! TLS (put a reverse proxy in front), mirroring. Witness cosignatures are
//! gathered from the witnesses given in [`Config::witnesses`] (C2SP
//! tlog-witness client, `spec/witness.md` §4); the witness itself is the
//! `tallyboard-witness` crate.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod certify;
mod checking;
mod election;
mod metrics;
mod public;
mod ratelimit;
mod standby;
mod witnesses;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts as _, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tallyboard_core::keys::PublicKey;
use tallyboard_core::limits::MAX_SIGNED_TALLY;
use tallyboard_core::manifest::{Manifest, SignedManifest};
use tallyboard_core::note::{KeyKind, SignerKey, VerifierKey};
use tallyboard_core::receipt::Receipt as ReceiptText;
use tallyboard_core::tally::{SignedTally, UnverifiedTally};
use tallyboard_http::serve::{ConnStats, Limits};
use tallyboard_log::{
    Cosigner, Log, LogReader, ObjectOptions, ObjectStorage, Options, Sequencer, SequencerConfig,
    Storage, SubmitError,
};

use tallyboard_core::certification::SignedCertification;
use tallyboard_http::body::{BodyError, read_request};
use tallyboard_http::error::ApiError;
use tallyboard_http::{cache, media, path, response};
use tallyboard_read::SharedViews;
use tallyboard_read::static_copy::{read_certification, write_manifest};

use crate::checking::Checkers;
use crate::election::{Election, Violations};
use crate::metrics::Metrics;
use crate::public::TotalsFile;
use crate::ratelimit::RateLimiter;
use crate::witnesses::Collector;

pub use standby::Standby;
pub use tallyboard_log::LogError;
pub use tallyboard_read::ReadApi;

/// Settings of a [`Server`].
#[derive(Clone, Debug)]
pub struct Config {
    /// The data directory of the log (see `spec/server.md`).
    pub data_dir: PathBuf,
    /// Sequencing: batch interval, pool size (load shedding), batch size.
    pub sequencer: SequencerConfig,
    /// Refused submissions per second allowed per client address
    /// (sustained): those that fail before they reach the log (wrong
    /// `Content-Type`, too large, malformed, bad signature, manifest rule
    /// broken). An address over it is refused before its body is read.
    pub rate_per_client: f64,
    /// Refused submissions a client address may send in a burst.
    pub burst_per_client: f64,
    /// Valid, signed submissions per second allowed per count centre key
    /// (sustained), whatever address they come from.
    pub rate_per_key: f64,
    /// Valid, signed submissions a count centre key may send in a burst.
    pub burst_per_key: f64,
    /// Base URLs of the witnesses to ask for cosignatures after each commit
    /// (C2SP tlog-witness `POST <url>/add-checkpoint`).
    pub witnesses: Vec<String>,
    /// How long a commit waits for the witnesses' cosignatures before the
    /// checkpoint is published with those gathered (later ones are added
    /// to it afterwards).
    pub witness_wait: Duration,
    /// What the static pages show about who publishes them (the
    /// authority's key string).
    pub site: tallyboard_read::site::SiteConfig,
    /// Keep the log in object storage instead of `data_dir`
    /// (`spec/server.md`, object storage): the store, and how this server
    /// holds the sequencer state there.
    pub object: Option<(Arc<ObjectStorage>, ObjectOptions)>,
}

impl Config {
    /// Defaults for `data_dir`: 1 s batches, 20,000 pending submissions,
    /// 50 refused submissions per second per client address with bursts of
    /// 200, 200 valid submissions per second per count centre key with
    /// bursts of 2,000.
    pub fn new(data_dir: PathBuf) -> Config {
        Config {
            data_dir,
            sequencer: SequencerConfig::default(),
            rate_per_client: 50.0,
            burst_per_client: 200.0,
            rate_per_key: 200.0,
            burst_per_key: 2000.0,
            witnesses: Vec::new(),
            witness_wait: Duration::from_millis(500),
            site: tallyboard_read::site::SiteConfig::default(),
            object: None,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The log key must be the one the manifest names for the log, with the
    /// manifest's origin as its name.
    #[error("the log key {key_name} does not match the manifest's log (origin {origin})")]
    WrongLogKey {
        /// The key's name.
        key_name: String,
        /// The manifest's log origin.
        origin: String,
    },
    /// Opening or recovering the log failed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// A witness URL must be an absolute http(s) URL.
    #[error("witness URL {url:?} is not an http:// or https:// URL")]
    BadWitnessUrl {
        /// The URL given.
        url: String,
    },
    /// Witnesses are configured but the manifest names none: their
    /// cosignatures would count for no verifier.
    #[error(
        "witnesses are configured but the manifest names no witness: add them to the manifest or drop the witness URLs"
    )]
    NoManifestWitnesses,
    /// Gathering cosignatures needs a tokio runtime (start the server from
    /// inside one).
    #[error("the server must be started inside a tokio runtime to ask witnesses")]
    NoRuntime,
    /// The HTTP client for the witnesses could not be built.
    #[error("HTTP client for the witnesses: {0}")]
    HttpClient(String),
    /// The checker threads could not be started.
    #[error("starting the checker threads: {0}")]
    Threads(#[source] std::io::Error),
    /// The signed manifest could not be written to `public/`.
    #[error("writing the manifest to public/: {0}")]
    Public(#[source] tallyboard_fs::FsError),
    /// The writer of the static pages could not be started.
    #[error("starting the writer of the static pages: {0}")]
    Site(#[source] std::io::Error),
    /// `public/certification` is not the authority's certification.
    #[error("public/certification is not a certification signed by the manifest's authority: {0}")]
    Certification(String),
}

/// A running publication server: the sequencer and the state the HTTP
/// handlers share. [`Server::router`] gives the axum application. Clones
/// share the same server.
#[derive(Clone)]
pub struct Server {
    state: Arc<AppState>,
}

struct AppState {
    manifest: Arc<Manifest>,
    sequencer: RwLock<Option<Sequencer>>,
    reader: LogReader,
    read: ReadApi,
    metrics: Metrics,
    /// Refused submissions per client address.
    limiter: RateLimiter<IpAddr>,
    /// Valid submissions per count centre key.
    key_limiter: RateLimiter<PublicKey>,
    connections: ConnStats,
    witnesses: Option<Arc<Collector>>,
    /// The signature and rule checks of submissions.
    checkers: Checkers,
    /// The static copy (`public/` or the bucket): where the certification
    /// is stored.
    public: Storage,
    /// Whether the election authority's certification closed the count.
    closed: std::sync::atomic::AtomicBool,
}

impl Server {
    /// Opens (or creates) the log in `config.data_dir`, rebuilds the
    /// election state from it, and starts the sequencer.
    pub fn start(
        manifest: SignedManifest,
        log_key: SignerKey,
        config: Config,
    ) -> Result<Server, StartError> {
        let origin = manifest.manifest().log.origin.clone();
        if log_key.name() != origin
            || *log_key.verifier().public_key() != manifest.manifest().log.key
        {
            return Err(StartError::WrongLogKey {
                key_name: log_key.name().to_owned(),
                origin,
            });
        }
        let collector = Self::witness_collector(manifest.manifest(), &config)?;
        let manifest_bytes = manifest.to_bytes();
        let manifest = Arc::new(manifest.into_manifest());
        let secret = log_key.secret().clone();
        let opts = Options {
            cosigner: collector.clone().map(|c| c as Arc<dyn Cosigner>),
            ..Options::default()
        };
        let log = match &config.object {
            Some((store, o)) => Log::open_object(store.clone(), log_key, opts, o.clone())?,
            None => Log::open(&config.data_dir, log_key, opts)?,
        };
        let storage = log.storage().clone();
        let reader = log.reader();
        if let Some(c) = &collector {
            c.attach(log.publisher(), &reader);
        }
        let views = SharedViews::default();
        let election = Election::load(
            manifest.clone(),
            secret,
            origin,
            reader.clone(),
            views.clone(),
        )?;
        match &storage {
            Storage::Dir(public) => {
                write_manifest(public, &manifest_bytes).map_err(StartError::Public)?
            }
            Storage::Object(_) => {
                storage.put_static(path::relative(path::MANIFEST), &manifest_bytes)?
            }
        }
        let public = storage.clone();
        // A count closed before a restart stays closed.
        let held = match &storage {
            Storage::Dir(d) => read_certification(d),
            Storage::Object(_) => {
                let cap = tallyboard_core::limits::MAX_SIGNED_CERTIFICATION;
                storage
                    .read(path::relative(path::CERTIFICATION), cap)?
                    .filter(|b| b.len() <= cap)
            }
        };
        let certification = match held {
            Some(b) => {
                SignedCertification::from_bytes(&b, &manifest.authority)
                    .map_err(|e| StartError::Certification(e.to_string()))?;
                Some(b)
            }
            None => None,
        };
        let read = ReadApi::with_views(
            manifest.clone(),
            manifest_bytes,
            reader.clone(),
            views.clone(),
        );
        if let Some(b) = &certification {
            read.set_certification(b.clone());
        }
        let site = read
            .start_site(config.site.clone())
            .map_err(StartError::Site)?;
        let election = TotalsFile::new(election, views.clone(), storage, reader.clone(), site);
        let sequencer = Sequencer::start_with(log, config.sequencer.clone(), Box::new(election))?;
        let checkers = Checkers::start(manifest.clone(), tallyboard_check::available_threads())
            .map_err(StartError::Threads)?;
        let state = AppState {
            read,
            manifest,
            sequencer: RwLock::new(Some(sequencer)),
            reader,
            metrics: Metrics::default(),
            limiter: RateLimiter::new(config.rate_per_client, config.burst_per_client),
            key_limiter: RateLimiter::new(config.rate_per_key, config.burst_per_key),
            connections: ConnStats::new(),
            witnesses: collector,
            checkers,
            public,
            closed: std::sync::atomic::AtomicBool::new(certification.is_some()),
        };
        Ok(Server {
            state: Arc::new(state),
        })
    }

    fn witness_collector(
        manifest: &Manifest,
        config: &Config,
    ) -> Result<Option<Arc<Collector>>, StartError> {
        if config.witnesses.is_empty() {
            return Ok(None);
        }
        for u in &config.witnesses {
            let ok = reqwest::Url::parse(u)
                .is_ok_and(|p| matches!(p.scheme(), "http" | "https") && p.host().is_some());
            if !ok {
                return Err(StartError::BadWitnessUrl { url: u.clone() });
            }
        }
        let keys: Vec<VerifierKey> = manifest
            .witnesses
            .iter()
            .filter_map(|w| VerifierKey::new(&w.name, KeyKind::CosignatureV1, w.key).ok())
            .collect();
        if keys.is_empty() {
            return Err(StartError::NoManifestWitnesses);
        }
        let rt = tokio::runtime::Handle::try_current().map_err(|_| StartError::NoRuntime)?;
        Collector::start(&config.witnesses, keys, config.witness_wait, &rt)
            .map(Some)
            .map_err(|e| StartError::HttpClient(e.to_string()))
    }

    /// The axum application (all routes): the read API
    /// ([`Server::read_api`]) plus `/submit` and `/metrics`.
    pub fn router(&self) -> Router {
        Router::new()
            .route(path::METRICS, get(metrics))
            .route(path::SUBMIT, post(submit))
            .route(path::CERTIFICATION, post(certify::certify))
            .with_state(self.state.clone())
            .merge(self.state.read.router())
    }

    /// The read side of the server (what a mirror serves too).
    pub fn read_api(&self) -> &ReadApi {
        &self.state.read
    }

    /// A reader of the published log.
    pub fn reader(&self) -> LogReader {
        self.state.reader.clone()
    }

    /// Stops the sequencer after committing every pooled submission (their
    /// submitters get their receipts). Call after the HTTP server has
    /// stopped accepting requests. Blocks.
    pub fn shutdown(&self) {
        let seq = self
            .state
            .sequencer
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(mut s) = seq {
            s.shutdown();
        }
        // Then the pages of the last commit, before the data directory
        // is released.
        if let Some(site) = self.state.read.site()
            && !site.close(Duration::from_secs(120))
        {
            tracing::warn!(
                "the static pages were not all written at shutdown; the next start writes them"
            );
        }
    }

    /// Serves on `listener` with the default connection limits until
    /// `signal` completes; see [`Server::serve_with`].
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        signal: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        self.serve_with(listener, &Limits::default(), signal).await
    }

    /// Serves on `listener` with `limits` (connection cap, header, idle and
    /// body timeouts; [`tallyboard_http::serve`]) until `signal` completes,
    /// then finishes the requests in flight and the batch in flight, and
    /// returns. The connection counters are part of `/metrics`.
    pub async fn serve_with(
        self,
        listener: tokio::net::TcpListener,
        limits: &Limits,
        signal: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tallyboard_http::serve::serve(
            listener,
            self.router(),
            limits,
            self.state.connections.clone(),
            signal,
        )
        .await;
        tokio::task::spawn_blocking(move || self.shutdown())
            .await
            .map_err(std::io::Error::other)
    }
}

async fn metrics(State(s): State<Arc<AppState>>) -> Response {
    let stats = s
        .sequencer
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
        .map(|q| q.stats());
    let mut text = s.metrics.render(stats, s.reader.checkpoint().size);
    s.metrics
        .render_limits(&mut text, s.limiter.settings(), s.key_limiter.settings());
    s.connections.render(&mut text);
    if let Some(w) = &s.witnesses {
        w.render(&mut text);
    }
    response::bytes(text, media::METRICS, cache::NO_STORE)
}

/// The client's address, if the server knows it (served with connect
/// info, or a `MockConnectInfo` layer in tests).
async fn client_ip(parts: &mut axum::http::request::Parts) -> Option<IpAddr> {
    ConnectInfo::<SocketAddr>::from_request_parts(parts, &())
        .await
        .ok()
        .map(|c| c.0.ip())
}

async fn submit(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let started = Instant::now();
    let r = submit_inner(&s, req).await;
    match r {
        Ok(body) => {
            s.metrics.accepted(started.elapsed());
            response::bytes(body, media::TEXT, cache::NO_STORE)
        }
        Err(e) => {
            s.metrics.refused(e.code());
            e.into_response()
        }
    }
}

async fn submit_inner(s: &AppState, req: Request) -> Result<Vec<u8>, ApiError> {
    let (mut parts, body) = req.into_parts();
    let ip = client_ip(&mut parts).await;
    if let Some(ip) = ip
        && let Err(wait) = s.limiter.peek(ip)
    {
        return Err(rate_limited(
            "rate-limited",
            "too many refused submissions from this address; retry later",
            wait,
        ));
    }
    let checked = match validate(s, &parts, body).await {
        Ok(t) => t,
        Err(Refusal::Address(e)) => {
            // Refused before reaching the log: counts against the address.
            if let Some(ip) = ip {
                let _ = s.limiter.take(ip);
            }
            return Err(e);
        }
        Err(Refusal::Key(e)) => return Err(e),
    };
    if s.closed.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(certify::closed(s));
    }
    let pending = {
        let seq = s.sequencer.read().unwrap_or_else(PoisonError::into_inner);
        // Checked again under the lock the certification takes to close.
        if s.closed.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(certify::closed(s));
        }
        let Some(seq) = seq.as_ref() else {
            return Err(shutting_down());
        };
        seq.submit(checked.into_bytes()).map_err(submit_error)?
    };
    let receipt = pending.await.map_err(submit_error)?;
    // The note is the log's own signed checkpoint, checked when it was
    // made: not parsed again for every receipt.
    let text = ReceiptText {
        index: receipt.index,
        proof: receipt.proof,
        checkpoint_note: receipt.checkpoint.note.clone(),
        extra: None,
    };
    Ok(text.to_bytes())
}

/// Why [`validate`] refused a submission, and which limit it counts against.
enum Refusal {
    /// Refused before its signature and rules were found valid: counts
    /// against the client address.
    Address(ApiError),
    /// The count centre key is over its limit (nothing counted).
    Key(ApiError),
}

/// Checks a submission up to the manifest rules: `Content-Type`, size,
/// encoding, the signer key's limit, signature, rules. The key's limit is
/// checked before the signature and charged only once the signature
/// verifies, so that nobody but the key's holder can use it up.
async fn validate(
    s: &AppState,
    parts: &axum::http::request::Parts,
    body: axum::body::Body,
) -> Result<SignedTally, Refusal> {
    check_content_type(&parts.headers, "a signed tally").map_err(Refusal::Address)?;
    // Only the declared length matters to the body reader: no copy of
    // every header.
    let mut req = Request::new(body);
    if let Some(len) = parts.headers.get(axum::http::header::CONTENT_LENGTH) {
        req.headers_mut()
            .insert(axum::http::header::CONTENT_LENGTH, len.clone());
    }
    let body = read_request(req, MAX_SIGNED_TALLY)
        .await
        .map_err(|e| Refusal::Address(body_error(&e)))?;
    let manifest = Arc::clone(&s.manifest);
    let unverified = UnverifiedTally::from_bytes_in(&body, &manifest).map_err(|e| {
        Refusal::Address(ApiError::new(
            StatusCode::BAD_REQUEST,
            e.code(),
            e.to_string(),
        ))
    })?;
    let signer = unverified.tally().signer;
    let over_key_limit = |wait| {
        Refusal::Key(rate_limited(
            "key-rate-limited",
            "too many submissions signed by this count centre key; retry later",
            wait,
        ))
    };
    s.key_limiter.peek(signer).map_err(over_key_limit)?;
    // The signature check runs off the async workers, on the checkers.
    let checked = s
        .checkers
        .check(unverified)
        .await
        .map_err(Refusal::Address)?;
    s.key_limiter.take(signer).map_err(over_key_limit)?;
    Ok(checked)
}

/// The media type of a signed tally.
const TALLY_MEDIA_TYPE: &str = tallyboard_http::media::CBOR;

/// `Content-Type` must be `application/cbor` (parameters allowed, case
/// ignored).
fn check_content_type(headers: &axum::http::HeaderMap, what: &str) -> Result<(), ApiError> {
    let given = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let essence = given.map(|v| v.split(';').next().unwrap_or_default().trim());
    if essence.is_some_and(|e| e.eq_ignore_ascii_case(TALLY_MEDIA_TYPE)) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
        match given {
            Some(_) => format!("{what} is sent as Content-Type: {TALLY_MEDIA_TYPE}"),
            None => {
                format!("Content-Type is missing; {what} is sent as {TALLY_MEDIA_TYPE}")
            }
        },
    ))
}

/// A body that could not be read: too large, not sent in time, or broken
/// off.
fn body_error(e: &BodyError<axum::Error>) -> ApiError {
    match e {
        BodyError::TooLarge(_) => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            format!("a signed tally is at most {MAX_SIGNED_TALLY} bytes"),
        ),
        BodyError::Read(e) if tallyboard_http::serve::is_body_timeout(e) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body-timeout",
            "the signed tally was not received in time",
        ),
        BodyError::Read(e) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad-body",
            format!("the request body could not be read: {e}"),
        ),
    }
}

fn rate_limited(code: &'static str, message: &'static str, wait: Duration) -> ApiError {
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, message).retry_after(wait.as_secs().max(1))
}

fn shutting_down() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "shutting-down",
        "the server is shutting down; retry later",
    )
    .retry_after(5)
}

fn submit_error(e: SubmitError) -> ApiError {
    match e {
        SubmitError::Refused(r) => match r.downcast_ref::<Violations>() {
            Some(v) => ApiError::rules(&v.0),
            None => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "not-a-tally", r.to_string()),
        },
        SubmitError::PoolFull { .. } => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "pool-full",
            "too many submissions pending; retry later",
        )
        .retry_after(1),
        SubmitError::ShuttingDown => shutting_down(),
        SubmitError::CommitFailed { .. } => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "commit-failed",
            "the batch could not be stored; submit again (the same tally keeps its place if it was stored)",
        )
        .retry_after(1),
        SubmitError::EmptyEntry | SubmitError::EntryTooLarge { .. } => ApiError::new(
            StatusCode::BAD_REQUEST,
            "too-large",
            e.to_string(),
        ),
        other => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "stopped", other.to_string())
            .retry_after(30),
    }
}

/// Waits for Ctrl-C or SIGTERM (the graceful-shutdown signal of `tallyboard serve`).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests and the batch in flight");
}
