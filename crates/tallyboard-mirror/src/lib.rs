//! # tallyboard-mirror: a copy of the log that checks before it serves
//!
//! A mirror follows an *upstream* (the publication server or another
//! mirror) through its read API and keeps a copy of the log in the C2SP
//! layout on disk (`tallyboard_log`'s mirror mode), which it serves with the
//! same read API as the origin (`tallyboard_server::ReadApi`), or which any
//! static web server can serve.
//!
//! Before it serves a new checkpoint it checks (`spec/mirror.md`):
//!
//! 1. the checkpoint is signed by the manifest's log key and cosigned by
//!    the required number of the manifest's witnesses;
//! 2. it extends the checkpoint the mirror holds (same size: same root;
//!    larger: the entries fetched rebuild the new root from the held right
//!    edge; smaller: the held tree extends it);
//! 3. every entry bundle hashes to it (recomputed tiles and root,
//!    `tallyboard_verify::follow`), and every hash tile the upstream serves
//!    for the new tree is the recomputed one;
//! 4. every new entry is a tally of the election with a valid signature that
//!    obeys every manifest and log rule, in log order;
//!
//! and only then publishes it (tiles durable first, checkpoint last). The
//! upstream's signed totals are served once they equal the totals
//! recomputed from the entries at the same checkpoint.
//!
//! When the upstream shows two signed checkpoints that cannot both be true,
//! or serves data that does not hash to its checkpoint, the mirror stops
//! advancing, writes a self-contained evidence file
//! (`tallyboard_verify::evidence`) under `public/evidence/`, logs it as an
//! error and shows it on `/status` and on the results page. Invalid
//! tallies and wrong totals also stop it, with the finding on `/status`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod entries;

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt as _;
use serde::Serialize;
use tallyboard_check::Signatures;
use tallyboard_core::Hash;
use tallyboard_core::checkpoint::{CheckpointError, OpenedCheckpoint, open_checkpoint};
use tallyboard_core::manifest::{Manifest, SignedManifest};
use tallyboard_core::note::{KeyKind, VerifierKey};
use tallyboard_core::tile::{HashTile, TileId, partial_tiles};
use tallyboard_core::totals::{SignedTotals, diff};
use tallyboard_log::{Log, LogError, Options};
use tallyboard_server::ReadApi;
use tallyboard_verify::evidence::{Evidence, MAX_EVIDENCE, Served};
use tallyboard_verify::follow::{Consistency, FollowError, FollowOptions, Item, Trusted};
use tallyboard_verify::source::{FetchError, HttpOptions, Source, TileCache, TilesError};

pub use entries::BadEntry;

/// Entries checked and staged at once while following (bounds memory:
/// about 1 MB of entries).
const CHUNK: usize = 4096;

/// Settings of a [`Mirror`].
#[derive(Clone, Debug)]
pub struct Config {
    /// The upstream: an http(s) base URL or a local directory in the C2SP
    /// layout.
    pub upstream: String,
    /// The mirror's data directory (`public/` inside it is the static copy).
    pub data_dir: PathBuf,
    /// Time between two polls of the upstream's checkpoint.
    pub poll_interval: Duration,
    /// Witness cosignatures a checkpoint must carry (from the manifest's
    /// witnesses); `None`: the manifest's quorum.
    pub quorum: Option<usize>,
    /// Entry bundles (and tiles) fetched at once.
    pub concurrency: usize,
    /// Timeouts of HTTP requests to the upstream.
    pub http: HttpOptions,
}

impl Config {
    /// Defaults: poll every second, the manifest's quorum, 8 fetches at once.
    pub fn new(upstream: &str, data_dir: PathBuf) -> Config {
        Config {
            upstream: upstream.to_owned(),
            data_dir,
            poll_interval: Duration::from_secs(1),
            quorum: None,
            concurrency: 8,
            http: HttpOptions::default(),
        }
    }
}

/// Why a mirror could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The upstream is neither an http(s) URL nor a directory.
    #[error("upstream {upstream:?}: {reason}")]
    Upstream {
        /// The argument.
        upstream: String,
        /// Why it is not a source.
        reason: String,
    },
    /// The manifest's log or witness keys are not usable note keys.
    #[error("the manifest's {what} is not a usable key: {reason}")]
    Manifest {
        /// Which key.
        what: String,
        /// Why.
        reason: String,
    },
    /// The quorum asked for is more than the manifest's witnesses.
    #[error(
        "a quorum of {quorum} cosignatures cannot be met by the manifest's {witnesses} witnesses"
    )]
    Quorum {
        /// Asked for.
        quorum: usize,
        /// Witnesses in the manifest.
        witnesses: usize,
    },
    /// The data directory could not be opened or recovered.
    #[error("the mirror's data directory: {0}")]
    Log(#[from] LogError),
    /// A file of the data directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The mirror's own copy does not hold valid tallies (it was not
    /// written by a mirror, or it was altered on disk).
    #[error("the mirror's own copy is damaged: {0:?}")]
    Damaged(BadEntry),
}

/// A problem the mirror has with its upstream, as shown on `/status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Stable code (the verifier's finding codes where one applies:
    /// `split-view`, `source-bad-data`, `source-unreachable`,
    /// `source-stale`, `checkpoint-signature`, `quorum-not-met`,
    /// `manifest-mismatch`, `totals-mismatch`, `totals-signature`,
    /// `bad-entry`, `bad-signature`, a rule code, ...).
    pub code: String,
    /// What happened and what to do, in words.
    pub message: String,
    /// The evidence file (under `/evidence/`), if the problem is proved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

/// The result of one sync with the upstream.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The mirror holds the upstream's checkpoint (it advanced, or had it
    /// already, or the upstream is behind and consistent with it).
    Synced {
        /// The tree size now served.
        size: u64,
    },
    /// The upstream misbehaved: the mirror stopped advancing.
    Misbehaved(Problem),
    /// The mirror could not sync this time (upstream down, quorum not met,
    /// ...); it tries again at the next poll.
    CouldNotSync(Problem),
}

/// The mirror's state as served at `/status` (JSON).
#[derive(Clone, Debug, Serialize)]
pub struct Status {
    /// The upstream followed.
    pub upstream: String,
    /// The log's origin.
    pub origin: String,
    /// `not-synced` (nothing served yet), `following` or `stopped` (the
    /// upstream misbehaved; the mirror no longer advances).
    pub state: &'static str,
    /// Tree size of the checkpoint served.
    pub size: u64,
    /// Its root (hex).
    pub root: String,
    /// Names of the witnesses whose valid cosignatures it carries.
    pub cosignatures: Vec<String>,
    /// Tree size the served totals are bound to (none yet: `null`).
    pub totals_size: Option<u64>,
    /// Last time (RFC 3339) the mirror was in step with the upstream.
    pub last_sync: Option<String>,
    /// Last time (RFC 3339) it polled the upstream.
    pub last_attempt: Option<String>,
    /// The current problem, if any.
    pub problem: Option<Problem>,
    /// Every evidence file the mirror holds (under `/evidence/`).
    pub evidence: Vec<String>,
}

struct SyncState {
    log: Log,
    checker: entries::State,
    trusted: Trusted,
    manifest_checked: bool,
}

struct Inner {
    manifest: &'static Manifest,
    manifest_bytes: Vec<u8>,
    log_key: VerifierKey,
    witnesses: Vec<VerifierKey>,
    quorum: usize,
    source: Source,
    local: Source,
    public: PathBuf,
    evidence_dir: PathBuf,
    read: ReadApi,
    concurrency: usize,
    poll_interval: Duration,
    state: tokio::sync::Mutex<SyncState>,
    status: RwLock<Status>,
}

/// A mirror: its copy of the log, its read API and its sync loop. Clones
/// share the same mirror.
#[derive(Clone)]
pub struct Mirror {
    inner: Arc<Inner>,
}

fn now_rfc3339() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    tallyboard_core::time::format_rfc3339(t)
}

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename).
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

fn problem(code: &str, message: impl Into<String>) -> Problem {
    Problem {
        code: code.to_owned(),
        message: message.into(),
        evidence: None,
    }
}

/// A fetch that failed for a while only (no answer, or an answer such as
/// 503 that says to come back later).
fn is_temporary(e: &FetchError) -> bool {
    e.is_unreachable()
        || matches!(e, FetchError::BadStatus { status, .. } if matches!(status, 429 | 502 | 503 | 504))
}

fn fetch_problem(e: &FetchError) -> Problem {
    if is_temporary(e) {
        problem(
            "source-unreachable",
            format!(
                "the upstream is not available right now ({e}); the mirror keeps serving what it has and retries"
            ),
        )
    } else {
        problem(
            "source-bad-data",
            format!(
                "the upstream did not serve what the mirror needs ({e}); the mirror keeps serving what it has and retries"
            ),
        )
    }
}

/// The manifest's log key as a note verifier.
fn log_verifier(m: &Manifest) -> Result<VerifierKey, StartError> {
    VerifierKey::new(&m.log.origin, KeyKind::Ed25519, m.log.key).map_err(|e| StartError::Manifest {
        what: format!("log key ({})", m.log.origin),
        reason: e.to_string(),
    })
}

impl Mirror {
    /// Opens (or creates) the mirror in `config.data_dir` for the election
    /// of `manifest` (checked by the caller against the authority key).
    /// Recovers the copy on disk (the checkpoint must verify under the log
    /// key and the tiles hash to it), re-reads its entries to rebuild the
    /// election state, and serves the totals it had verified. A mirror
    /// holding evidence stays stopped.
    pub fn open(manifest: SignedManifest, config: Config) -> Result<Mirror, StartError> {
        let manifest_bytes = manifest.to_bytes();
        let manifest: &'static Manifest = Box::leak(Box::new(manifest.into_manifest()));
        let log_key = log_verifier(manifest)?;
        let witnesses = manifest
            .witnesses
            .iter()
            .map(|w| {
                VerifierKey::new(&w.name, KeyKind::CosignatureV1, w.key).map_err(|e| {
                    StartError::Manifest {
                        what: format!("witness key {}", w.name),
                        reason: e.to_string(),
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let quorum = config
            .quorum
            .unwrap_or(usize::try_from(manifest.quorum).unwrap_or(usize::MAX));
        if quorum > witnesses.len() {
            return Err(StartError::Quorum {
                quorum,
                witnesses: witnesses.len(),
            });
        }
        let client = tallyboard_verify::source::http_client(&config.http).map_err(|e| {
            StartError::Upstream {
                upstream: config.upstream.clone(),
                reason: e.to_string(),
            }
        })?;
        let source =
            Source::parse(&config.upstream, &client).map_err(|e| StartError::Upstream {
                upstream: config.upstream.clone(),
                reason: e.to_string(),
            })?;
        let log = Log::open_mirror(&config.data_dir, log_key.clone(), Options::default())?;
        let public = config.data_dir.join("public");
        let evidence_dir = public.join("evidence");
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| StartError::Io { path, source }
        };
        let manifest_path = public.join("manifest");
        if std::fs::read(&manifest_path).ok().as_deref() != Some(manifest_bytes.as_slice()) {
            write_atomic(&manifest_path, &manifest_bytes).map_err(io(&manifest_path))?;
        }
        let read = ReadApi::new(manifest, manifest_bytes.clone(), log.reader());

        // Rebuild the election state from the copy.
        let reader = log.reader();
        let cp = reader.checkpoint();
        let mut checker = entries::State::new(manifest);
        let mut units = Vec::new();
        for b in 0..cp.size.div_ceil(256) {
            let entries = reader.bundle(b)?;
            let first = checker.applied();
            let u = entries::check(&mut checker, &entries, Signatures::Trusted)
                .map_err(StartError::Damaged)?;
            units.extend(
                u.into_iter()
                    .enumerate()
                    .map(|(i, u)| (u, first + i as u64)),
            );
        }
        read.add_unit_entries(units);
        let mut trusted = Trusted::empty();
        let mut cosignatures = Vec::new();
        if !cp.note.is_empty() {
            let opened = open_checkpoint(&cp.note, &log_key, &witnesses, 0)
                .map_err(LogError::BadCheckpoint)?;
            cosignatures = opened.cosignatures.iter().map(|c| c.name.clone()).collect();
            trusted = Trusted {
                builder: edge_of(&reader, cp.size)?,
                // Where it was read before the restart is not recorded:
                // name the mirror's own copy, which holds it.
                checkpoint: Some((public.display().to_string(), opened)),
            };
        }
        // Totals verified before the restart.
        let mut totals_size = None;
        if let Ok(bytes) = std::fs::read(public.join("totals"))
            && let Ok(t) = SignedTotals::from_bytes(&bytes, &manifest.log.key)
            && t.totals().checkpoint.size == cp.size
            && t.totals().checkpoint.root == cp.root
            && diff(
                t.totals(),
                &checker.totals(&manifest.log.origin, cp.size, cp.root),
            )
            .is_empty()
        {
            totals_size = Some(cp.size);
            read.set_totals(bytes, t.totals().clone());
        }
        let evidence = list_evidence(&evidence_dir);
        let stopped = !evidence.is_empty();
        let status = Status {
            upstream: source.label().to_owned(),
            origin: manifest.log.origin.clone(),
            state: if stopped {
                "stopped"
            } else if cp.note.is_empty() {
                "not-synced"
            } else {
                "following"
            },
            size: cp.size,
            root: cp.root.to_hex(),
            cosignatures,
            totals_size,
            last_sync: None,
            last_attempt: None,
            problem: evidence.first().map(|f| Problem {
                code: f.split('-').take(2).collect::<Vec<_>>().join("-"),
                message: format!(
                    "this mirror holds evidence that its upstream misbehaved ({f}) and does not advance; an operator must review it (move the file out of {} to resume)",
                    evidence_dir.display()
                ),
                evidence: Some(f.clone()),
            }),
            evidence,
        };
        let mirror = Mirror {
            inner: Arc::new(Inner {
                manifest,
                manifest_bytes,
                log_key,
                witnesses,
                quorum,
                source,
                local: Source::dir(&public),
                public,
                evidence_dir,
                read,
                concurrency: config.concurrency.max(1),
                poll_interval: config.poll_interval,
                state: tokio::sync::Mutex::new(SyncState {
                    log,
                    checker,
                    trusted,
                    manifest_checked: false,
                }),
                status: RwLock::new(status),
            }),
        };
        mirror.show_notice();
        Ok(mirror)
    }

    /// The mirror's routes: the origin's read API plus `/status` and
    /// `/evidence/<file>`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/status", get(status))
            .route("/evidence/{file}", get(evidence))
            .with_state(self.inner.clone())
            .merge(self.inner.read.router())
    }

    /// The current status.
    pub fn status(&self) -> Status {
        self.inner
            .status
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The read side (reader of the copy, views).
    pub fn read_api(&self) -> &ReadApi {
        &self.inner.read
    }

    /// The `public/` directory: the static copy.
    pub fn public_dir(&self) -> &Path {
        &self.inner.public
    }

    fn update(&self, f: impl FnOnce(&mut Status)) {
        let mut s = self
            .inner
            .status
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        f(&mut s);
    }

    fn show_notice(&self) {
        let st = self.status();
        let notice = match (&st.problem, st.state) {
            (Some(p), "stopped") => Some(format!(
                "This mirror stopped following {} at tree size {}: {} {}",
                st.upstream,
                st.size,
                p.message,
                p.evidence
                    .as_ref()
                    .map(|e| format!("Evidence: /evidence/{e}"))
                    .unwrap_or_default()
            )),
            _ => None,
        };
        self.inner.read.set_notice(notice);
    }

    /// Polls the upstream until `shutdown` completes.
    /// A problem that lasts is logged when it starts and when it ends, not
    /// at every poll.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut last: Option<String> = None;
        loop {
            match self.sync_once().await {
                Outcome::CouldNotSync(p) if last.as_deref() != Some(p.code.as_str()) => {
                    tracing::warn!(code = %p.code, "{}", p.message);
                    last = Some(p.code);
                }
                Outcome::Synced { size } => {
                    if let Some(code) = last.take() {
                        tracing::info!(size, "in step with the upstream again (after {code})");
                    }
                }
                _ => {}
            }
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(self.inner.poll_interval) => {}
            }
        }
    }

    /// Syncs once with the upstream: fetches its checkpoint, checks it and
    /// everything new under it, and publishes it if every check passes.
    pub async fn sync_once(&self) -> Outcome {
        let mut st = self.inner.state.lock().await;
        let now = now_rfc3339();
        self.update(|s| s.last_attempt = Some(now.clone()));
        if let Some(p) = self
            .status()
            .problem
            .filter(|_| self.status().state == "stopped")
        {
            return Outcome::Misbehaved(p);
        }
        let outcome = self.sync_locked(&mut st).await;
        match &outcome {
            Outcome::Synced { size } => {
                let cp = st.log.checkpoint();
                let cosigs =
                    open_checkpoint(&cp.note, &self.inner.log_key, &self.inner.witnesses, 0)
                        .map(|o| o.cosignatures.into_iter().map(|c| c.name).collect())
                        .unwrap_or_default();
                let size = *size;
                self.update(|s| {
                    s.state = "following";
                    s.size = size;
                    s.root = cp.root.to_hex();
                    s.cosignatures = cosigs;
                    s.last_sync = Some(now);
                    s.problem = None;
                });
            }
            Outcome::CouldNotSync(p) => {
                let p = p.clone();
                self.update(|s| s.problem = Some(p));
            }
            Outcome::Misbehaved(p) => {
                tracing::error!(
                    code = %p.code,
                    evidence = p.evidence.as_deref().unwrap_or("none"),
                    "UPSTREAM MISBEHAVED, mirror stopped: {}",
                    p.message
                );
                let p = p.clone();
                let evidence = list_evidence(&self.inner.evidence_dir);
                self.update(|s| {
                    s.state = "stopped";
                    s.problem = Some(p);
                    s.evidence = evidence;
                });
                self.show_notice();
            }
        }
        outcome
    }

    fn stop_with(&self, e: &Evidence) -> Outcome {
        match e.write_to_dir(&self.inner.evidence_dir) {
            Ok(name) => Outcome::Misbehaved(Problem {
                code: e.code().to_owned(),
                message: e.summary.clone(),
                evidence: Some(name),
            }),
            Err(err) => Outcome::Misbehaved(problem(
                e.code(),
                format!(
                    "{} (the evidence file could not be written to {}: {err})",
                    e.summary,
                    self.inner.evidence_dir.display()
                ),
            )),
        }
    }

    async fn sync_locked(&self, st: &mut SyncState) -> Outcome {
        let inner = &self.inner;
        let label = inner.source.label().to_owned();
        if !st.manifest_checked {
            match inner.source.manifest().await {
                Ok(m) if m == inner.manifest_bytes => st.manifest_checked = true,
                Ok(_) => {
                    return Outcome::CouldNotSync(problem(
                        "manifest-mismatch",
                        format!(
                            "{label} serves a different election manifest from the one this mirror was given; check that both are the authority's manifest"
                        ),
                    ));
                }
                // A static copy without a manifest file: the checkpoint's
                // log key is what binds the copy to the election.
                Err(FetchError::NotFound { .. }) => st.manifest_checked = true,
                Err(e) => return Outcome::CouldNotSync(fetch_problem(&e)),
            }
        }
        let note = match inner.source.checkpoint().await {
            Ok(n) => n,
            Err(e) => return Outcome::CouldNotSync(fetch_problem(&e)),
        };
        let opened = match open_checkpoint(&note, &inner.log_key, &inner.witnesses, inner.quorum) {
            Ok(o) => o,
            Err(CheckpointError::QuorumNotMet { have, need }) => {
                return Outcome::CouldNotSync(problem(
                    "quorum-not-met",
                    format!(
                        "{label} serves a checkpoint with {have} valid witness cosignatures; this mirror requires {need}. It keeps serving what it has and waits for the cosignatures"
                    ),
                ));
            }
            Err(e) => {
                return Outcome::CouldNotSync(problem(
                    "checkpoint-signature",
                    format!(
                        "{label} serves a checkpoint that is not signed by the election's log key {} ({e}); the mirror ignores it",
                        inner.log_key.name()
                    ),
                ));
            }
        };
        let held = st.log.checkpoint();
        let (new_size, new_root) = (opened.checkpoint.size, opened.checkpoint.root);
        if !held.note.is_empty() && new_size < held.size {
            // Behind: the held tree must extend the upstream's.
            let held_opened = match open_checkpoint(&held.note, &inner.log_key, &[], 0) {
                Ok(o) => o,
                Err(e) => return Outcome::CouldNotSync(problem("internal", e.to_string())),
            };
            return match tallyboard_verify::follow::check_consistency(
                &inner.log_key,
                (&label, &opened),
                &inner.local,
                &held_opened,
            )
            .await
            {
                Ok(Consistency::SplitView(e)) => self.stop_with(&e),
                Ok(Consistency::Consistent) => Outcome::CouldNotSync(problem(
                    "source-stale",
                    format!(
                        "{label} serves an older checkpoint (size {new_size}) than this mirror holds (size {}); it is consistent, the mirror keeps serving its own",
                        held.size
                    ),
                )),
                Err(e) => Outcome::CouldNotSync(problem("internal", e.to_string())),
            };
        }
        if !held.note.is_empty() && new_size == held.size {
            if new_root != held.root {
                let held_opened = match open_checkpoint(&held.note, &inner.log_key, &[], 0) {
                    Ok(o) => o,
                    Err(e) => return Outcome::CouldNotSync(problem("internal", e.to_string())),
                };
                let e = Evidence::split_view(
                    &inner.log_key,
                    (inner.local.label(), &held_opened),
                    (&label, &opened),
                    None,
                );
                return self.stop_with(&e);
            }
            // The same checkpoint, perhaps with more cosignatures.
            if note != held.note {
                let held_cosigs = open_checkpoint(&held.note, &inner.log_key, &inner.witnesses, 0)
                    .map_or(0, |o| o.cosignatures.len());
                if opened.cosignatures.len() > held_cosigs
                    && let Err(e) = st.log.publish_verified(&note)
                {
                    return Outcome::CouldNotSync(problem("internal", e.to_string()));
                }
                st.trusted.checkpoint = Some((label.clone(), opened));
            }
            return self.refresh_totals(st).await;
        }
        self.advance(st, opened).await
    }

    async fn advance(&self, st: &mut SyncState, opened: OpenedCheckpoint) -> Outcome {
        let inner = &self.inner;
        let label = inner.source.label().to_owned();
        let (new_size, new_root) = (opened.checkpoint.size, opened.checkpoint.root);
        let old_size = st.log.checkpoint().size;
        let opts = FollowOptions {
            concurrency: inner.concurrency,
        };
        // Restored if the sync fails.
        let saved = st.checker.clone();
        let mut staging = Staging::default();
        // Recomputed tiles, by digest, to compare with the upstream's.
        let mut recomputed: Vec<(TileId, Hash)> = Vec::new();
        let SyncState {
            log,
            checker,
            trusted,
            ..
        } = st;
        let followed = tallyboard_verify::follow::follow(
            &inner.source,
            &inner.log_key,
            trusted,
            &opened,
            &opts,
            |item| {
                match item {
                    Item::Entry { bytes, .. } => {
                        staging.pending.push(bytes.to_vec());
                        if staging.pending.len() >= CHUNK {
                            staging.flush(log, checker)?;
                        }
                    }
                    Item::Tile { id, tile } => {
                        recomputed.push((id, Hash::sha256(&tile.to_bytes())));
                    }
                    Item::Bundle { .. } => {}
                }
                Ok::<(), SinkError>(())
            },
        )
        .await;
        let builder = match followed {
            // Check the last chunk, then store it.
            Ok(b) => match staging
                .flush(log, checker)
                .and_then(|()| staging.flush(log, checker))
            {
                Ok(()) => b,
                Err(e) => return self.abandon(st, saved, FollowError::Sink(e)),
            },
            Err(e) => return self.abandon(st, saved, e),
        };
        if let Some(b) = staging.bad {
            let outcome = self.bad_entry(&opened, b).await;
            return self.abandon_with(st, saved, outcome);
        }
        // The upstream's hash tiles must be the recomputed ones.
        if let Some(outcome) = self.check_tiles(&opened, &recomputed).await {
            return self.abandon_with(st, saved, outcome);
        }
        if let Err(e) = st.log.publish_verified(&opened.note) {
            return self.abandon_with(
                st,
                saved,
                Outcome::CouldNotSync(problem(
                    "internal",
                    format!("publishing the checkpoint of size {new_size} failed: {e}"),
                )),
            );
        }
        inner.read.add_unit_entries(staging.units);
        st.trusted = Trusted {
            builder,
            checkpoint: Some((label, opened)),
        };
        tracing::info!(from = old_size, to = new_size, root = %new_root, "mirror advanced");
        self.refresh_totals(st).await
    }

    /// Forgets what a failed sync staged and restores the election state
    /// `saved` before it (that of the published copy).
    fn abandon_with(&self, st: &mut SyncState, saved: entries::State, outcome: Outcome) -> Outcome {
        if let Err(e) = st.log.discard_staged() {
            tracing::error!(error = %e, "discarding a failed sync");
        }
        st.checker = saved;
        outcome
    }

    fn abandon(
        &self,
        st: &mut SyncState,
        saved: entries::State,
        e: FollowError<SinkError>,
    ) -> Outcome {
        let outcome = match e {
            FollowError::SplitView(ev) | FollowError::BadData(ev) => self.stop_with(&ev),
            FollowError::Fetch { error, .. } => Outcome::CouldNotSync(fetch_problem(&error)),
            FollowError::Behind { .. } => {
                Outcome::CouldNotSync(problem("source-stale", e.to_string()))
            }
            FollowError::Unlocated { .. } => {
                Outcome::CouldNotSync(problem("source-bad-data", e.to_string()))
            }
            FollowError::Sink(SinkError::Log(l)) => Outcome::CouldNotSync(problem(
                "internal",
                format!("the mirror's data directory: {l}"),
            )),
            other => Outcome::CouldNotSync(problem("internal", other.to_string())),
        };
        self.abandon_with(st, saved, outcome)
    }

    /// The upstream's checkpoint commits to an entry that breaks the rules:
    /// evidence of the entry with its inclusion proof (from the upstream's
    /// tiles, authenticated against the checkpoint).
    async fn bad_entry(&self, cp: &OpenedCheckpoint, b: BadEntry) -> Outcome {
        let inner = &self.inner;
        let (n, root) = (cp.checkpoint.size, cp.checkpoint.root);
        let message = format!(
            "{} serves a log whose signed checkpoint of size {n} commits to entry {}, which breaks the tally rules: {}. The mirror does not serve this log",
            inner.source.label(),
            b.index,
            b.message
        );
        let mut cache = TileCache::new();
        let proof = inner
            .source
            .read_tiles(&mut cache, n, root, |r| {
                tallyboard_core::merkle::prove_inclusion(n, b.index, r)
            })
            .await;
        let evidence = match proof {
            Ok(proof) => {
                let e = Evidence::log_entry(
                    &inner.log_key,
                    inner.source.label(),
                    cp,
                    b.index,
                    &b.entry,
                    &proof,
                    format!("{message}."),
                );
                match e.write_to_dir(&inner.evidence_dir) {
                    Ok(name) => Some(name),
                    Err(err) => {
                        tracing::error!(error = %err, "writing the evidence file");
                        None
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "no inclusion proof for the bad entry");
                None
            }
        };
        Outcome::Misbehaved(Problem {
            code: b.code.to_string(),
            message,
            evidence,
        })
    }

    /// Fetches the upstream's version of every tile recomputed for the new
    /// tree and compares; `Some` (evidence) on the first that differs.
    async fn check_tiles(
        &self,
        cp: &OpenedCheckpoint,
        recomputed: &[(TileId, Hash)],
    ) -> Option<Outcome> {
        let inner = &self.inner;
        let mut fetched = futures_util::stream::iter(recomputed.iter().copied())
            .map(|(id, digest)| async move { (id, digest, inner.source.tile(id).await) })
            .buffered(inner.concurrency);
        while let Some((id, digest, r)) = fetched.next().await {
            let bytes = match r {
                Ok(b) => b,
                Err(e) => return Some(Outcome::CouldNotSync(fetch_problem(&e))),
            };
            if Hash::sha256(&bytes) == digest {
                continue;
            }
            return Some(self.bad_tile(cp, id).await);
        }
        None
    }

    /// Evidence that the upstream's tile `id` does not hash to `cp`.
    async fn bad_tile(&self, cp: &OpenedCheckpoint, id: TileId) -> Outcome {
        let inner = &self.inner;
        let (n, root) = (cp.checkpoint.size, cp.checkpoint.root);
        let mut cache = TileCache::new();
        let read = inner
            .source
            .read_tiles(&mut cache, n, root, |r| HashTile::from_reader(id, r))
            .await;
        match read {
            Err(TilesError::Unauthentic { tile, .. }) => {
                let at_fault = tile.unwrap_or(id);
                let mut tiles = cache.tiles_read(n, root, |r| HashTile::from_reader(id, r));
                let Some(pos) = tiles.iter().position(|(t, _)| *t == at_fault) else {
                    return Outcome::CouldNotSync(problem(
                        "source-bad-data",
                        format!(
                            "{} serves tile {} that differs from the one recomputed from its entries, but the fault could not be located",
                            inner.source.label(),
                            id.path()
                        ),
                    ));
                };
                let (_, bytes) = tiles.remove(pos);
                let path = at_fault.path();
                let summary = format!(
                    "{} served {path}, which does not hash to its signed checkpoint of size {n}: the tile was altered (the entries are intact; the mirror recomputed the tile from them).",
                    inner.source.label()
                );
                let e = Evidence::bad_data(
                    &inner.log_key,
                    inner.source.label(),
                    cp,
                    Served {
                        path: &path,
                        url: &inner.source.url_of(&path),
                        bytes: &bytes,
                    },
                    &tiles,
                    summary,
                );
                self.stop_with(&e)
            }
            Err(TilesError::Fetch(e)) => Outcome::CouldNotSync(fetch_problem(&e)),
            other => Outcome::CouldNotSync(problem(
                "source-bad-data",
                format!(
                    "{} serves tile {} that differs from the one recomputed from its entries, and changed it when read again ({})",
                    inner.source.label(),
                    id.path(),
                    match other {
                        Ok(_) => "the second reading authenticated".to_owned(),
                        Err(e) => e.to_string(),
                    }
                ),
            )),
        }
    }

    /// Fetches the upstream's signed totals and serves them if they are
    /// bound to the held checkpoint and equal the recomputed totals.
    async fn refresh_totals(&self, st: &mut SyncState) -> Outcome {
        let inner = &self.inner;
        let label = inner.source.label();
        let cp = st.log.checkpoint();
        let synced = Outcome::Synced { size: cp.size };
        if self.status().totals_size == Some(cp.size) {
            return synced;
        }
        let bytes = match inner.source.totals().await {
            Ok(b) => b,
            // No totals yet (an upstream mirror that has not verified
            // any), or a static copy without them: serve the log.
            Err(FetchError::NotFound { .. }) => return synced,
            Err(e) if is_temporary(&e) && !e.is_unreachable() => return synced,
            Err(e) => return Outcome::CouldNotSync(fetch_problem(&e)),
        };
        let signed = match SignedTotals::from_bytes(&bytes, &inner.manifest.log.key) {
            Ok(t) => t,
            Err(e) => {
                return Outcome::CouldNotSync(problem(
                    "totals-signature",
                    format!(
                        "{label} serves totals that are not signed by the log key ({e}); the mirror does not serve them"
                    ),
                ));
            }
        };
        let body = signed.totals();
        if body.checkpoint.size != cp.size {
            // The upstream moved on (or lags): checked at a later poll.
            return synced;
        }
        if body.checkpoint.root != cp.root || body.checkpoint.origin != inner.manifest.log.origin {
            return Outcome::Misbehaved(problem(
                "totals-unbound",
                format!(
                    "{label} serves signed totals for tree size {} with root {}, but the log's signed checkpoint of that size has root {}",
                    cp.size, body.checkpoint.root, cp.root
                ),
            ));
        }
        let recomputed = st
            .checker
            .totals(&inner.manifest.log.origin, cp.size, cp.root);
        let d = diff(body, &recomputed);
        if !d.is_empty() || body.election != recomputed.election {
            let first: Vec<String> = d.iter().take(3).map(ToString::to_string).collect();
            return Outcome::Misbehaved(problem(
                "totals-mismatch",
                format!(
                    "{label} serves signed totals at tree size {} that are not the sum of the log's tallies ({} figures differ: {})",
                    cp.size,
                    d.len(),
                    first.join("; ")
                ),
            ));
        }
        let path = inner.public.join("totals");
        if let Err(e) = write_atomic(&path, &bytes) {
            return Outcome::CouldNotSync(problem(
                "internal",
                format!("writing {}: {e}", path.display()),
            ));
        }
        inner.read.set_totals(bytes, body.clone());
        let size = cp.size;
        self.update(|s| s.totals_size = Some(size));
        synced
    }
}

/// The entries of a follow on their way to the log.
#[derive(Default)]
struct Staging {
    /// Received, not checked yet.
    pending: Vec<Vec<u8>>,
    /// Checked, waiting to be stored: each chunk is stored on a thread of
    /// its own while the next one is checked.
    checked: Vec<Vec<u8>>,
    /// (manifest unit index, leaf index) of every entry checked.
    units: Vec<(usize, u64)>,
    /// The first bad entry. Following goes on without checking or storing
    /// anything more, so that a bad entry is reported only once the entries
    /// are known to be the ones the checkpoint commits to (a fork or
    /// altered data is reported as such instead).
    bad: Option<BadEntry>,
}

impl Staging {
    /// Stores the checked chunk while checking the pending one.
    fn flush(&mut self, log: &mut Log, checker: &mut entries::State) -> Result<(), SinkError> {
        if self.bad.is_some() {
            self.pending.clear();
            self.checked.clear();
            return Ok(());
        }
        let first = checker.applied();
        let (to_store, to_check) = (&self.checked, &self.pending);
        let (stored, result) = std::thread::scope(|s| {
            let writer = s.spawn(|| {
                if to_store.is_empty() {
                    Ok(())
                } else {
                    log.stage(to_store)
                }
            });
            let result = if to_check.is_empty() {
                Ok(Vec::new())
            } else {
                entries::check(checker, to_check, Signatures::Verify)
            };
            (writer.join(), result)
        });
        stored
            .map_err(|_| SinkError::Thread)?
            .map_err(SinkError::Log)?;
        self.checked.clear();
        match result {
            Ok(u) => {
                self.units.extend(
                    u.into_iter()
                        .enumerate()
                        .map(|(i, u)| (u, first + i as u64)),
                );
                std::mem::swap(&mut self.checked, &mut self.pending);
            }
            Err(b) => self.bad = Some(b),
        }
        self.pending.clear();
        Ok(())
    }
}

/// Why the sink stopped a follow: the mirror's own storage failed.
#[derive(Debug, thiserror::Error)]
enum SinkError {
    #[error(transparent)]
    Log(LogError),
    #[error("the thread storing entries stopped")]
    Thread,
}

/// The right edge of the copy's tree of `size` leaves (its partial tiles).
fn edge_of(
    reader: &tallyboard_log::LogReader,
    size: u64,
) -> Result<tallyboard_core::tile::TileBuilder, LogError> {
    let mut tiles = Vec::new();
    for id in partial_tiles(size) {
        let hashes = reader.tile(id.level(), id.index(), size)?;
        let tile = HashTile::new(hashes).map_err(LogError::Encode)?;
        tiles.push((id, tile));
    }
    tallyboard_core::tile::TileBuilder::from_partial_tiles(size, &tiles)
        .ok_or(LogError::CorruptEdge { size })
}

/// The evidence files in `dir`, sorted.
fn list_evidence(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

async fn status(State(s): State<Arc<Inner>>) -> Response {
    let st = s
        .status
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let body = serde_json::to_vec_pretty(&st).unwrap_or_default();
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn evidence(State(s): State<Arc<Inner>>, UrlPath(file): UrlPath<String>) -> Response {
    let valid = file.ends_with(".json")
        && !file.starts_with('.')
        && file
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            "no such evidence file on this mirror\n",
        )
            .into_response()
    };
    if !valid {
        return not_found();
    }
    let path = s.evidence_dir.join(&file);
    let read = tokio::task::spawn_blocking(move || {
        use std::io::Read as _;
        let f = std::fs::File::open(&path)?;
        let mut buf = Vec::new();
        f.take(MAX_EVIDENCE as u64).read_to_end(&mut buf)?;
        Ok::<_, std::io::Error>(buf)
    })
    .await;
    match read {
        Ok(Ok(bytes)) => {
            let mut r = (StatusCode::OK, bytes).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            );
            r
        }
        _ => not_found(),
    }
}
