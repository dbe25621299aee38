//! A mirror's HTTP routes: the read API over its copy, plus `/status` and
//! `/evidence/<file>`.

use std::sync::{Arc, PoisonError};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tallyboard_http::error::ApiError;
use tallyboard_http::{cache, media, path, response};
use tallyboard_verify::evidence::MAX_EVIDENCE;

use crate::state::{Inner, Mirror};

impl Mirror {
    /// The mirror's routes: the origin's read API plus `/status` and
    /// `/evidence/<file>`.
    pub fn router(&self) -> Router {
        Router::new()
            .route(path::STATUS, get(status))
            .route(path::EVIDENCE_ROUTE, get(evidence))
            .with_state(self.inner.clone())
            .merge(self.inner.read.router())
    }
}

async fn status(State(s): State<Arc<Inner>>) -> Response {
    let st = s
        .status
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    match serde_json::to_vec_pretty(&st) {
        Ok(body) => response::bytes(body, media::JSON, cache::NO_STORE),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

/// Whether `file` may name an evidence file (`[A-Za-z0-9._-]+.json`, not
/// hidden): nothing else is looked up on disk.
fn is_evidence_name(file: &str) -> bool {
    file.ends_with(".json")
        && !file.starts_with('.')
        && file
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
}

async fn evidence(State(s): State<Arc<Inner>>, UrlPath(file): UrlPath<String>) -> Response {
    let not_found = || ApiError::not_found("no such evidence file on this mirror").into_response();
    if !is_evidence_name(&file) {
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
        Ok(Ok(bytes)) => response::bytes(bytes, media::JSON, cache::IMMUTABLE),
        _ => not_found(),
    }
}
