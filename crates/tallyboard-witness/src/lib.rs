//! # tallyboard-witness: a C2SP tlog-witness
//!
//! A witness cosigns a log's checkpoint only after checking that it is
//! consistent with the last checkpoint it cosigned for that log, so that a
//! log cannot show two different histories to two readers without one of
//! the witnesses refusing. This crate implements C2SP tlog-witness
//! (`POST /add-checkpoint`) with C2SP tlog-cosignature `cosignature/v1`
//! (Ed25519 with timestamp) cosignatures; `spec/witness.md` is the normative
//! description of the profile, the status codes and the state directory.
//!
//! [`Witness`] holds the key, the logs it knows and their state;
//! [`router`] gives the axum routes, so that `tallyboard witness` and a
//! mirror (`tallyboard mirror --witness-key`) serve the same code.
//!
//! ## State directory
//!
//! ```text
//! <dir>/lock                          exclusive lock of the witness process
//! <dir>/state/<sha256(origin) hex>    per log: the latest cosigned checkpoint
//!                                     (log signature + this witness's cosignature)
//! <dir>/refused/<sha256(origin) hex>-<n>  signed checkpoints refused as
//!                                     inconsistent (evidence of a log fork), capped
//! <dir>/tmp/                          temporary files of a write in progress
//! ```
//!
//! A state file is replaced atomically and durably (temporary file, fsync,
//! rename, directory fsync) *before* the cosignature is returned, while the
//! log's lock is held: concurrent requests for one log are serialized, and
//! the recorded size never goes backwards.
//!
//! ## What's out of scope
//!
//! The optional `sign-subtree` call (it needs ML-DSA-44 cosignatures), TLS
//! (put a reverse proxy in front), request authentication (tlog-witness has
//! none beyond the log's signature).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod store;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tallyboard_core::Hash;
use tallyboard_core::checkpoint::Checkpoint;
use tallyboard_core::cosignature;
use tallyboard_core::limits::{MAX_ADD_CHECKPOINT_REQUEST, MAX_NOTE};
use tallyboard_core::merkle::verify_consistency;
use tallyboard_core::note::{self, KeyKind, Note, NoteError, SignerKey, VerifierKey};
use tallyboard_core::witness::{
    AddCheckpointRequest, SIZE_CONTENT_TYPE, write_cosignature_response, write_size_body,
};
use tallyboard_http::body::read_request;
use tallyboard_http::path;
use tokio::sync::Mutex;

pub use store::StoreError;

/// Most refused checkpoints kept as evidence in `<dir>/refused/` (per
/// witness), so that a misbehaving log cannot fill the disk.
pub const MAX_REFUSED_KEPT: usize = 256;

/// Why a witness could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// The witness key must be a `cosignature/v1` key (`keygen --witness`).
    #[error(
        "the witness key {name} is not a cosignature key (type 0x04): make one with `tallyboard keygen --witness`"
    )]
    NotACosignatureKey {
        /// The key's name.
        name: String,
    },
    /// A log key must be a plain Ed25519 note key (type 0x01).
    #[error("the log key {name} is not an Ed25519 checkpoint key (type 0x01)")]
    NotALogKey {
        /// The key's name.
        name: String,
    },
    /// Two log keys name the same origin.
    #[error("two log keys are given for the origin {origin}")]
    DuplicateOrigin {
        /// The origin.
        origin: String,
    },
    /// The witness knows no log.
    #[error("no log is configured: give a manifest or a log key")]
    NoLogs,
    /// The state directory could not be used.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A refused request: the HTTP status and a message saying why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// HTTP status (400, 403, 404, 409, 413, 422, 500).
    pub status: StatusCode,
    /// What is wrong, in words.
    pub message: String,
    /// For 409 Conflict: the size of the checkpoint the witness holds.
    pub held_size: Option<u64>,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
            held_size: None,
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (body, ctype) = match self.held_size {
            Some(size) => (write_size_body(size), SIZE_CONTENT_TYPE),
            None => (format!("{}\n", self.message), "text/plain; charset=utf-8"),
        };
        let mut r = (self.status, body).into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    }
}

/// What the witness holds for one log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cosigned {
    /// Tree size of the latest cosigned checkpoint.
    pub size: u64,
    /// Its root hash.
    pub root: Hash,
    /// The checkpoint note with the log's signature and this witness's
    /// cosignature, as stored.
    pub note: Vec<u8>,
}

struct LogState {
    key: VerifierKey,
    file: String,
    held: Mutex<Option<Cosigned>>,
}

/// Counters of a witness (for logs and metrics).
#[derive(Debug, Default)]
struct Counters {
    cosigned: AtomicU64,
    refused: AtomicU64,
}

/// A witness: its cosignature key, the logs it knows and their state.
pub struct Witness {
    key: SignerKey,
    logs: BTreeMap<String, LogState>,
    store: store::Store,
    clock: Box<dyn Fn() -> u64 + Send + Sync>,
    counters: Counters,
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witness")
            .field("key", &self.key.verifier().to_string())
            .field("logs", &self.logs.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The file name of a log's state: the lowercase hex SHA-256 of its origin
/// (as in the tlog-witness monitoring path).
pub fn origin_hash(origin: &str) -> String {
    Hash::sha256(origin.as_bytes()).to_hex()
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Witness {
    /// Opens the witness state in `dir` (created if missing, locked for
    /// this process) for the logs `logs` (Ed25519 checkpoint keys, named
    /// after their origins), cosigning with `key` (a `cosignature/v1` key).
    ///
    /// A state file that exists must be a checkpoint signed by its log's
    /// key: a damaged state is an error, never silently reset (a reset
    /// witness could be made to cosign a fork).
    pub fn open(dir: &Path, key: SignerKey, logs: &[VerifierKey]) -> Result<Witness, WitnessError> {
        if key.kind() != KeyKind::CosignatureV1 {
            return Err(WitnessError::NotACosignatureKey {
                name: key.name().to_owned(),
            });
        }
        if logs.is_empty() {
            return Err(WitnessError::NoLogs);
        }
        let store = store::Store::open(dir)?;
        let mut map = BTreeMap::new();
        for k in logs {
            if k.kind() != KeyKind::Ed25519 {
                return Err(WitnessError::NotALogKey {
                    name: k.name().to_owned(),
                });
            }
            if map.contains_key(k.name()) {
                return Err(WitnessError::DuplicateOrigin {
                    origin: k.name().to_owned(),
                });
            }
            let file = origin_hash(k.name());
            let held = store.load(&file, k)?;
            if let Some(h) = &held {
                tracing::info!(origin = k.name(), size = h.size, "witness state loaded");
            }
            map.insert(
                k.name().to_owned(),
                LogState {
                    key: k.clone(),
                    file,
                    held: Mutex::new(held),
                },
            );
        }
        Ok(Witness {
            key,
            logs: map,
            store,
            clock: Box::new(now_unix),
            counters: Counters::default(),
        })
    }

    /// Replaces the clock (POSIX seconds) used for cosignature timestamps.
    pub fn with_clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Witness {
        self.clock = Box::new(clock);
        self
    }

    /// The witness's verifier key.
    pub fn verifier(&self) -> &VerifierKey {
        self.key.verifier()
    }

    /// The origins of the logs this witness knows.
    pub fn origins(&self) -> impl Iterator<Item = &str> {
        self.logs.keys().map(String::as_str)
    }

    /// The latest checkpoint cosigned for `origin`, if any.
    pub async fn cosigned(&self, origin: &str) -> Option<Cosigned> {
        self.logs.get(origin)?.held.lock().await.clone()
    }

    /// Checkpoints cosigned and requests refused since the start.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.counters.cosigned.load(Ordering::Relaxed),
            self.counters.refused.load(Ordering::Relaxed),
        )
    }

    /// Handles an `add-checkpoint` request body: checks it, records the new
    /// checkpoint durably and returns the response body (the cosignature
    /// line). See `spec/witness.md` for the checks and their order.
    pub async fn add_checkpoint(&self, body: &[u8]) -> Result<Vec<u8>, Refusal> {
        let r = self.add_checkpoint_inner(body).await;
        match &r {
            Ok(_) => self.counters.cosigned.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.counters.refused.fetch_add(1, Ordering::Relaxed),
        };
        r
    }

    async fn add_checkpoint_inner(&self, body: &[u8]) -> Result<Vec<u8>, Refusal> {
        let bad = |m: String| Refusal::new(StatusCode::BAD_REQUEST, m);
        let req = AddCheckpointRequest::parse(body).map_err(|e| {
            bad(format!(
                "malformed add-checkpoint request ({}): {e}",
                e.code()
            ))
        })?;
        let parsed = Note::parse(&req.checkpoint)
            .map_err(|e| bad(format!("malformed checkpoint note: {e}")))?;
        let cp = Checkpoint::parse(parsed.text())
            .map_err(|e| bad(format!("malformed checkpoint: {e}")))?;
        let Some(log) = self.logs.get(&cp.origin) else {
            return Err(Refusal::new(
                StatusCode::NOT_FOUND,
                format!(
                    "this witness does not know the log {:?}: check the log's origin and the witness's manifest or --log keys",
                    cp.origin
                ),
            ));
        };
        let verified = match note::open(&req.checkpoint, std::slice::from_ref(&log.key)) {
            Ok(v) => v,
            Err(NoteError::NoKnownSignature) => {
                return Err(Refusal::new(
                    StatusCode::FORBIDDEN,
                    format!(
                        "the checkpoint is not signed by the key this witness trusts for {}",
                        cp.origin
                    ),
                ));
            }
            Err(e) => {
                return Err(Refusal::new(
                    StatusCode::FORBIDDEN,
                    format!("the log's signature on the checkpoint is invalid: {e}"),
                ));
            }
        };
        if req.old_size > cp.size {
            return Err(bad(format!(
                "old size {} is larger than the checkpoint size {}",
                req.old_size, cp.size
            )));
        }
        let mut held = log.held.lock().await;
        let (held_size, held_root) = held
            .as_ref()
            .map_or((0, Hash::EMPTY_TREE), |h| (h.size, h.root));
        if req.old_size != held_size {
            return Err(Refusal {
                held_size: Some(held_size),
                ..Refusal::new(
                    StatusCode::CONFLICT,
                    format!("this witness holds size {held_size}"),
                )
            });
        }
        let unprocessable = |m: String| Refusal::new(StatusCode::UNPROCESSABLE_ENTITY, m);
        if cp.size == 0 && cp.root != Hash::EMPTY_TREE {
            return Err(unprocessable(
                "a checkpoint of size 0 must have the root of the empty tree".to_owned(),
            ));
        }
        if req.old_size == 0 && !req.proof.is_empty() {
            return Err(unprocessable(
                "the consistency proof from size 0 must be empty".to_owned(),
            ));
        }
        if let Err(e) = verify_consistency(held_size, cp.size, &held_root, &cp.root, &req.proof) {
            let kept = self.keep_refused(log, held.as_ref(), body).await;
            tracing::warn!(
                origin = %cp.origin,
                held = held_size,
                size = cp.size,
                error = %e,
                kept = kept.as_deref().unwrap_or("(not kept)"),
                "REFUSED a checkpoint signed by the log that is not consistent with the one this witness cosigned: the log may have forked"
            );
            return Err(unprocessable(format!(
                "the checkpoint of size {} is not consistent with the checkpoint of size {held_size} this witness cosigned: {e}",
                cp.size
            )));
        }
        let time = (self.clock)();
        if time == 0 {
            return Err(Refusal::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the witness's clock is not set",
            ));
        }
        let line = cosignature::cosign(parsed.text(), &self.key, time)
            .map_err(|e| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        // Store the log's signature and ours (not the other cosignatures
        // the request carried): the stored note stays well under MAX_NOTE.
        let stored_note = (|| {
            let mut n = Note::new(parsed.text())?;
            for s in parsed.signatures() {
                if verified
                    .signed_by
                    .iter()
                    .any(|v| v.name == s.name && v.key_id == s.key_id)
                {
                    n.add_signature(s.clone())?;
                }
            }
            n.add_signature(line.clone())?;
            n.to_bytes()
        })()
        .map_err(|e| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        debug_assert!(stored_note.len() <= MAX_NOTE);
        let store = self.store.clone();
        let file = log.file.clone();
        let to_write = stored_note.clone();
        let written = tokio::task::spawn_blocking(move || store.save(&file, &to_write)).await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %e, "could not store the witness state; not cosigning");
                return Err(Refusal::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the witness could not store its state; try again later",
                ));
            }
            Err(e) => {
                return Err(Refusal::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    e.to_string(),
                ));
            }
        }
        *held = Some(Cosigned {
            size: cp.size,
            root: cp.root,
            note: stored_note,
        });
        drop(held);
        tracing::debug!(origin = %cp.origin, size = cp.size, "cosigned");
        write_cosignature_response(&[line])
            .map_err(|e| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
    }

    async fn keep_refused(
        &self,
        log: &LogState,
        held: Option<&Cosigned>,
        body: &[u8],
    ) -> Option<String> {
        let mut content = Vec::new();
        content.extend_from_slice(b"# tallyboard witness: a checkpoint signed by the log that is not consistent with the cosigned one.\n");
        content.extend_from_slice(
            b"# Cosigned checkpoint (log signature + this witness's cosignature):\n",
        );
        if let Some(h) = held {
            content.extend_from_slice(&h.note);
        }
        content.extend_from_slice(b"# Refused add-checkpoint request body:\n");
        content.extend_from_slice(body);
        let store = self.store.clone();
        let prefix = log.file.clone();
        tokio::task::spawn_blocking(move || store.keep_refused(&prefix, &content, MAX_REFUSED_KEPT))
            .await
            .ok()
            .flatten()
    }
}

/// The witness routes: `POST /add-checkpoint` (C2SP tlog-witness, the
/// submission prefix is the base URL) and `GET /witness/<origin
/// hash>/checkpoint` (the monitoring prefix is `<base>/witness`).
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route(path::ADD_CHECKPOINT, post(add_checkpoint))
        .route("/witness/{hash}/checkpoint", get(monitor))
        .with_state(witness)
}

async fn add_checkpoint(State(w): State<Arc<Witness>>, req: Request) -> Response {
    let body = match read_request(req, MAX_ADD_CHECKPOINT_REQUEST).await {
        Ok(b) => b,
        Err(_) => {
            w.counters.refused.fetch_add(1, Ordering::Relaxed);
            return Refusal::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("an add-checkpoint request is at most {MAX_ADD_CHECKPOINT_REQUEST} bytes"),
            )
            .into_response();
        }
    };
    match w.add_checkpoint(&body).await {
        Ok(lines) => {
            let mut r = Response::new(Body::from(lines));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(refusal) => {
            if refusal.status != StatusCode::CONFLICT {
                tracing::info!(status = %refusal.status, message = %refusal.message, "add-checkpoint refused");
            }
            refusal.into_response()
        }
    }
}

async fn monitor(State(w): State<Arc<Witness>>, UrlPath(hash): UrlPath<String>) -> Response {
    for (origin, log) in &w.logs {
        if log.file == hash {
            let held = log.held.lock().await.clone();
            return match held {
                Some(h) => {
                    let mut r = Response::new(Body::from(h.note));
                    r.headers_mut().insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/plain; charset=utf-8"),
                    );
                    r.headers_mut().insert(
                        header::CACHE_CONTROL,
                        HeaderValue::from_static("public, max-age=2"),
                    );
                    r
                }
                None => Refusal::new(
                    StatusCode::NOT_FOUND,
                    format!("this witness has not cosigned a checkpoint of {origin} yet"),
                )
                .into_response(),
            };
        }
    }
    Refusal::new(StatusCode::NOT_FOUND, "this witness does not know that log").into_response()
}

/// The state directory of a witness opened with [`Witness::open`].
pub fn state_path(dir: &Path, origin: &str) -> PathBuf {
    dir.join("state").join(origin_hash(origin))
}
