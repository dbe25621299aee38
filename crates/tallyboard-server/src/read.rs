//! The read API (`spec/protocol.md` §3), shared by the publication server
//! and by mirrors: `/`, `/checkpoint`, `/tile/...`, `/manifest`, `/totals`,
//! `/units/<id>`, built over a [`LogReader`] and the views derived from the
//! log, with no sequencer.

use std::sync::{Arc, PoisonError, RwLock};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use tallyboard_core::manifest::Manifest;
use tallyboard_core::rules::Violation;
use tallyboard_core::tally::SignedTally;
use tallyboard_core::tile::TilePath;
use tallyboard_core::totals::TotalsBody;
use tallyboard_log::{LogError, LogReader};

use crate::election::Views;
use crate::html;

/// The read side of a log: the manifest, a reader of the published log and
/// the views (signed totals, units' entries) derived from it. Clones share
/// the same state; [`ReadApi::router`] serves it.
///
/// The publication server keeps the views up to date as it sequences; a
/// mirror sets them itself ([`ReadApi::set_totals`],
/// [`ReadApi::add_unit_entries`]) after checking what it copied.
#[derive(Clone)]
pub struct ReadApi {
    pub(crate) state: Arc<ReadState>,
}

pub(crate) struct ReadState {
    pub(crate) manifest_bytes: Bytes,
    pub(crate) manifest: &'static Manifest,
    pub(crate) reader: LogReader,
    pub(crate) views: Arc<RwLock<Views>>,
}

impl ReadApi {
    /// The read API of the log `reader` reads, for the election of
    /// `manifest` (served at `/manifest` as `manifest_bytes`, the signed
    /// manifest). The views start empty: `/totals` answers 503 until
    /// totals are set.
    pub fn new(manifest: &'static Manifest, manifest_bytes: Vec<u8>, reader: LogReader) -> ReadApi {
        ReadApi::with_views(
            manifest,
            Bytes::from(manifest_bytes),
            reader,
            Arc::new(RwLock::new(Views::default())),
        )
    }

    pub(crate) fn with_views(
        manifest: &'static Manifest,
        manifest_bytes: Bytes,
        reader: LogReader,
        views: Arc<RwLock<Views>>,
    ) -> ReadApi {
        ReadApi {
            state: Arc::new(ReadState {
                manifest_bytes,
                manifest,
                reader,
                views,
            }),
        }
    }

    /// The read routes: `/`, `/checkpoint`, `/tile/{*path}`, `/manifest`,
    /// `/totals`, `/units/{id}`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/", get(results))
            .route("/checkpoint", get(checkpoint))
            .route("/tile/{*path}", get(tile))
            .route("/manifest", get(manifest))
            .route("/totals", get(totals))
            .route("/units/{id}", get(unit))
            .with_state(self.state.clone())
    }

    /// The reader of the published log.
    pub fn reader(&self) -> &LogReader {
        &self.state.reader
    }

    /// The election manifest.
    pub fn manifest(&self) -> &'static Manifest {
        self.state.manifest
    }

    fn views(&self) -> std::sync::RwLockWriteGuard<'_, Views> {
        self.state
            .views
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Serves `signed` (an encoded `SignedTotals`, whose body is `body`) at
    /// `/totals` and `body` on the results page.
    pub fn set_totals(&self, signed: Vec<u8>, body: TotalsBody) {
        let mut v = self.views();
        v.totals = Arc::new(signed);
        v.totals_body = Some(Arc::new(body));
    }

    /// Records log entries of reporting units, `(manifest unit index, leaf
    /// index)` in log order, for `/units/<id>`.
    pub fn add_unit_entries(&self, entries: impl IntoIterator<Item = (usize, u64)>) {
        let mut v = self.views();
        let n = self.state.manifest.units.len();
        if v.unit_entries.len() < n {
            v.unit_entries.resize(n, Vec::new());
        }
        for (unit, index) in entries {
            if let Some(u) = v.unit_entries.get_mut(unit) {
                u.push(index);
            }
        }
    }

    /// Shows `notice` (plain text; escaped) at the top of the results page,
    /// or nothing. A mirror uses it to say it stopped following its
    /// upstream and why.
    pub fn set_notice(&self, notice: Option<String>) {
        self.views().notice = notice;
    }
}

/// Cache-Control of mutable resources (checkpoint, totals, unit views, partial tiles).
pub(crate) const SHORT_CACHE: &str = "public, max-age=2";
/// Cache-Control of full tiles and bundles.
pub(crate) const IMMUTABLE: &str = "public, max-age=31536000, immutable";

pub(crate) fn bytes_response(
    body: impl Into<Body>,
    content_type: &'static str,
    cache: &'static str,
) -> Response {
    let mut r = Response::new(body.into());
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}

/// An error answer: `{"error": code, "message": ..., "violations": [...]}`.
#[derive(Debug, Serialize)]
pub(crate) struct ApiError {
    #[serde(skip)]
    status: StatusCode,
    #[serde(skip)]
    retry_after: Option<u64>,
    pub(crate) error: String,
    message: String,
    violations: Vec<ViolationJson>,
}

#[derive(Debug, Serialize)]
struct ViolationJson {
    code: &'static str,
    unit: String,
    contest: String,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            retry_after: None,
            error: code.to_owned(),
            message: message.into(),
            violations: Vec::new(),
        }
    }

    pub(crate) fn rules(violations: &[Violation]) -> ApiError {
        let code = violations.first().map_or("rule-violation", Violation::code);
        let list: Vec<ViolationJson> = violations
            .iter()
            .map(|v| {
                let (unit, contest) = v.unit_and_contest();
                ViolationJson {
                    code: v.code(),
                    unit: unit.to_owned(),
                    contest: contest.to_owned(),
                    message: v.to_string(),
                }
            })
            .collect();
        let message = list
            .iter()
            .map(|v| v.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        ApiError {
            violations: list,
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
        }
    }

    pub(crate) fn retry_after(mut self, secs: u64) -> ApiError {
        self.retry_after = Some(secs);
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut r = (self.status, body).into_response();
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(s) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}

/// 503 with a short retry: the resource exists once the log has data.
fn not_yet(message: &str) -> Response {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not-yet", message)
        .retry_after(5)
        .into_response()
}

pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "internal error");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal server error",
    )
}

async fn checkpoint(State(s): State<Arc<ReadState>>) -> Response {
    let cp = s.reader.checkpoint();
    if cp.note.is_empty() {
        return not_yet("no checkpoint is published here yet (a mirror that has not synced)");
    }
    bytes_response(cp.note.clone(), "text/plain; charset=utf-8", SHORT_CACHE)
}

async fn tile(State(s): State<Arc<ReadState>>, Path(path): Path<String>) -> Response {
    let full = format!("tile/{path}");
    let Ok(p) = TilePath::parse(&full) else {
        return ApiError::new(StatusCode::NOT_FOUND, "not-found", "not a tile path")
            .into_response();
    };
    let reader = s.reader.clone();
    let read = tokio::task::spawn_blocking(move || reader.read_path(&p)).await;
    match read {
        Ok(Ok(Some(bytes))) => {
            let full_tile = match p {
                TilePath::Hashes(t) => t.is_full(),
                TilePath::Entries(b) => b.is_full(),
            };
            let cache = if full_tile { IMMUTABLE } else { SHORT_CACHE };
            bytes_response(bytes, "application/octet-stream", cache)
        }
        Ok(Ok(None)) => ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "no such tile in the published tree",
        )
        .into_response(),
        Ok(Err(e)) => internal(e).into_response(),
        Err(e) => internal(e).into_response(),
    }
}

async fn manifest(State(s): State<Arc<ReadState>>) -> Response {
    bytes_response(
        s.manifest_bytes.clone(),
        "application/cbor",
        "public, max-age=60",
    )
}

async fn totals(State(s): State<Arc<ReadState>>) -> Response {
    let t = s
        .views
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .totals
        .clone();
    if t.is_empty() {
        return not_yet("no verified totals are published here yet");
    }
    bytes_response(t.as_ref().clone(), "application/cbor", SHORT_CACHE)
}

/// One entry of a unit's history.
#[derive(Debug, Serialize)]
pub(crate) struct UnitEntryJson {
    pub(crate) index: u64,
    pub(crate) leaf_hash: String,
    pub(crate) contest: String,
    pub(crate) revision: u64,
    pub(crate) supersedes: Option<String>,
    pub(crate) reason: Option<String>,
    /// Whether this is the latest revision for its contest (the one counted).
    pub(crate) latest: bool,
    /// The signed tally, hex.
    pub(crate) entry: String,
    /// Inclusion proof against `checkpoint`, hex hashes.
    pub(crate) proof: Vec<String>,
    pub(crate) choices: std::collections::BTreeMap<String, u64>,
    pub(crate) blank: u64,
    pub(crate) invalid: u64,
    pub(crate) ballots_cast: u64,
    pub(crate) counted_at: u64,
    /// The figures as a totals row, for the HTML page.
    #[serde(skip)]
    pub(crate) figures: Option<tallyboard_core::totals::TotalsRow>,
}

#[derive(Debug, Serialize)]
pub(crate) struct UnitJson {
    pub(crate) unit: String,
    pub(crate) name: String,
    pub(crate) checkpoint: CheckpointJson,
    pub(crate) entries: Vec<UnitEntryJson>,
}

#[derive(Debug, Serialize)]
pub(crate) struct CheckpointJson {
    size: u64,
    root: String,
    note: String,
}

/// Whether the client prefers HTML (a browser) to JSON.
fn accepts_html(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

async fn results(State(s): State<Arc<ReadState>>) -> Response {
    let cp = s.reader.checkpoint();
    let totals = s
        .views
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .totals_body
        .clone();
    // The totals may be one commit behind the checkpoint for a moment: show
    // the checkpoint they were computed at.
    let shown = match &totals {
        Some(t) if t.checkpoint.size != cp.size => Arc::new(tallyboard_log::SignedCheckpoint {
            size: t.checkpoint.size,
            root: t.checkpoint.root,
            note: Vec::new(),
        }),
        _ => cp,
    };
    let notice = s
        .views
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .notice
        .clone();
    let page = html::results_page(s.manifest, totals.as_deref(), &shown, notice.as_deref());
    bytes_response(page, "text/html; charset=utf-8", SHORT_CACHE)
}

async fn unit(
    State(s): State<Arc<ReadState>>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let Some(ui) = s.manifest.unit_index(&id) else {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown-unit",
            "the manifest has no such reporting unit",
        )
        .into_response();
    };
    let cp = s.reader.checkpoint();
    let indexes: Vec<u64> = s
        .views
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .unit_entries
        .get(ui)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|&i| i < cp.size)
        .collect();
    let reader = s.reader.clone();
    let manifest = s.manifest;
    let name = manifest
        .units
        .get(ui)
        .map(|u| u.name.clone())
        .unwrap_or_default();
    let registered = manifest.units.get(ui).map_or(0, |u| u.registered);
    let wants_html = accepts_html(&headers);
    let built = tokio::task::spawn_blocking(move || -> Result<UnitJson, LogError> {
        let mut entries = Vec::with_capacity(indexes.len());
        for index in indexes {
            let bytes = reader.entry(index)?;
            let proof = reader.prove_inclusion(index, cp.size)?;
            let Ok(t) = SignedTally::from_bytes_in(&bytes, manifest) else {
                continue;
            };
            let tally = t.tally();
            entries.push(UnitEntryJson {
                index,
                leaf_hash: t.leaf_hash().to_hex(),
                contest: tally.contest.clone(),
                revision: tally.revision,
                supersedes: tally.supersedes.map(|h| h.to_hex()),
                reason: tally.reason.clone(),
                latest: false,
                entry: hex::encode(&bytes),
                proof: proof.iter().map(|h| h.to_hex()).collect(),
                choices: tally.choices.clone(),
                blank: tally.blank,
                invalid: tally.invalid,
                ballots_cast: tally.ballots_cast,
                counted_at: tally.counted_at,
                figures: Some(tallyboard_core::totals::TotalsRow {
                    contest: tally.contest.clone(),
                    region: None,
                    choices: tally.choices.clone(),
                    blank: tally.blank,
                    invalid: tally.invalid,
                    ballots_cast: tally.ballots_cast,
                    registered,
                    units_reporting: 1,
                    units_expected: 1,
                }),
            });
        }
        // The latest entry of each contest is the one counted.
        let mut seen = std::collections::HashSet::new();
        for e in entries.iter_mut().rev() {
            if seen.insert(e.contest.clone()) {
                e.latest = true;
            }
        }
        Ok(UnitJson {
            unit: id,
            name,
            checkpoint: CheckpointJson {
                size: cp.size,
                root: cp.root.to_hex(),
                note: String::from_utf8_lossy(&cp.note).into_owned(),
            },
            entries,
        })
    })
    .await;
    match built {
        Ok(Ok(u)) if wants_html => {
            let page = html::unit_page(manifest, &u, &s.reader.checkpoint());
            let mut r = bytes_response(page, "text/html; charset=utf-8", SHORT_CACHE);
            r.headers_mut()
                .insert(header::VARY, HeaderValue::from_static("Accept"));
            r
        }
        Ok(Ok(u)) => match serde_json::to_vec_pretty(&u) {
            Ok(body) => {
                let mut r = bytes_response(body, "application/json", SHORT_CACHE);
                r.headers_mut()
                    .insert(header::VARY, HeaderValue::from_static("Accept"));
                r
            }
            Err(e) => internal(e).into_response(),
        },
        Ok(Err(e)) => internal(e).into_response(),
        Err(e) => internal(e).into_response(),
    }
}
