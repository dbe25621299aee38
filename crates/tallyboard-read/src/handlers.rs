//! The handlers of the read API (`spec/protocol.md` §3).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tallyboard_core::tile::TilePath;
use tallyboard_http::error::ApiError;
use tallyboard_http::{cache, media, path, response};
use tallyboard_log::SignedCheckpoint;

use crate::html;
use crate::state::ReadState;
use crate::unit;

type S = State<Arc<ReadState>>;

/// 503 with a short retry: the resource exists once the log has data.
fn not_yet(message: &str) -> Response {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not-yet", message)
        .retry_after(5)
        .into_response()
}

/// Marks an answer that depends on `Accept`.
fn vary_accept(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    r
}

/// Whether the client prefers HTML (a browser) to JSON.
fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

pub(crate) async fn checkpoint(State(s): S) -> Response {
    let cp = s.reader.checkpoint();
    if cp.note.is_empty() {
        return not_yet("no checkpoint is published here yet (a mirror that has not synced)");
    }
    response::bytes(cp.note.clone(), media::TEXT, cache::SHORT)
}

pub(crate) async fn tile(State(s): S, Path(rest): Path<String>) -> Response {
    let Some(p) = path::parse_tile(&rest) else {
        return ApiError::not_found("not a tile path").into_response();
    };
    let reader = s.reader.clone();
    let read = tokio::task::spawn_blocking(move || reader.read_path(&p)).await;
    match read {
        Ok(Ok(Some(bytes))) => {
            let full = match p {
                TilePath::Hashes(t) => t.is_full(),
                TilePath::Entries(b) => b.is_full(),
            };
            let cache = if full { cache::IMMUTABLE } else { cache::SHORT };
            response::bytes(bytes, media::OCTETS, cache)
        }
        Ok(Ok(None)) => ApiError::not_found("no such tile in the published tree").into_response(),
        Ok(Err(e)) => ApiError::internal(e).into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

pub(crate) async fn manifest(State(s): S) -> Response {
    response::bytes(s.manifest_bytes.clone(), media::CBOR, cache::MANIFEST)
}

pub(crate) async fn totals(State(s): S) -> Response {
    let t = s.views().totals.clone();
    if t.is_empty() {
        return not_yet("no verified totals are published here yet");
    }
    response::bytes(t.as_ref().clone(), media::CBOR, cache::SHORT)
}

/// The signed totals as JSON (`public/totals.json` of a static copy):
/// the decoded rows, the signed bytes, the signature and, when the totals
/// are bound to the checkpoint served, that signed checkpoint.
pub(crate) async fn totals_json(State(s): S) -> Response {
    let t = s.views().totals.clone();
    if t.is_empty() {
        return not_yet("no verified totals are published here yet");
    }
    let signed = match tallyboard_core::totals::SignedTotals::from_bytes(&t, &s.manifest.log.key) {
        Ok(signed) => signed,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let cp = s.reader.checkpoint();
    let note = (cp.size == signed.totals().checkpoint.size && !cp.note.is_empty())
        .then_some(cp.note.as_slice());
    response::bytes(
        tallyboard_results::totals_json(&signed, note),
        media::JSON,
        cache::SHORT,
    )
}

/// `/certification`: the election authority's signed certification, once
/// the count is closed (404 before).
pub(crate) async fn certification(State(s): S) -> Response {
    match s.views().certification.clone() {
        Some(c) => response::bytes(c.as_ref().clone(), media::CBOR, cache::SHORT),
        None => ApiError::new(
            StatusCode::NOT_FOUND,
            "not-certified",
            "the election authority has not certified the results: they are provisional",
        )
        .into_response(),
    }
}

pub(crate) async fn style() -> Response {
    response::bytes(html::STYLE, media::CSS, cache::MANIFEST)
}

pub(crate) async fn results(State(s): S) -> Response {
    let cp = s.reader.checkpoint();
    let (totals, notice) = {
        let v = s.views();
        (v.totals_body.clone(), v.notice.clone())
    };
    // The totals may be one commit behind the checkpoint for a moment: show
    // the checkpoint they were computed at.
    let shown = match &totals {
        Some(t) if t.checkpoint.size != cp.size => Arc::new(SignedCheckpoint {
            size: t.checkpoint.size,
            root: t.checkpoint.root,
            note: Vec::new(),
        }),
        _ => cp,
    };
    response::page(html::results_page(
        &s.manifest,
        totals.as_deref(),
        &shown,
        notice.as_deref(),
    ))
}

pub(crate) async fn unit(State(s): S, Path(id): Path<String>, headers: HeaderMap) -> Response {
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
        .views()
        .unit_entries
        .get(ui)
        .map(|e| e.iter().copied().filter(|&i| i < cp.size).collect())
        .unwrap_or_default();
    let state = s.clone();
    let view_cp = cp.clone();
    let built = tokio::task::spawn_blocking(move || {
        unit::build(&state.reader, &state.manifest, ui, id, &indexes, &view_cp)
    })
    .await;
    match built {
        Ok(Ok(u)) if accepts_html(&headers) => {
            vary_accept(response::page(html::unit_page(&s.manifest, &u, &cp)))
        }
        Ok(Ok(u)) => match serde_json::to_vec_pretty(&u) {
            Ok(body) => vary_accept(response::bytes(body, media::JSON, cache::SHORT)),
            Err(e) => ApiError::internal(e).into_response(),
        },
        Ok(Err(e)) => ApiError::internal(e).into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}
