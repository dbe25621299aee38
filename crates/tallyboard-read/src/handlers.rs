//! The handlers of the read API (`spec/protocol.md` §3).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tallyboard_core::tile::TilePath;
use tallyboard_http::error::ApiError;
use tallyboard_http::{cache, media, path, response};

use crate::state::ReadState;

type S = State<Arc<ReadState>>;

/// 503 with a short retry: the resource exists once the log has data.
fn not_yet(message: &str) -> Response {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not-yet", message)
        .retry_after(5)
        .into_response()
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
    let full = match p {
        TilePath::Hashes(t) => t.is_full(),
        TilePath::Entries(b) => b.is_full(),
    };
    // A full tile or bundle never changes once published: kept in memory.
    if full && let Some(bytes) = s.hot.get(&rest) {
        return response::bytes(bytes, media::OCTETS, cache::IMMUTABLE);
    }
    let reader = s.reader.clone();
    let read = tokio::task::spawn_blocking(move || reader.read_path(&p)).await;
    match read {
        Ok(Ok(Some(bytes))) => {
            if full {
                let bytes = Bytes::from(bytes);
                s.hot.insert(&rest, bytes.clone());
                return response::bytes(bytes, media::OCTETS, cache::IMMUTABLE);
            }
            response::bytes(bytes, media::OCTETS, cache::SHORT)
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
