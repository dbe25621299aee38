//! Closing the count (`spec/server.md` §7): `POST /certification` takes the
//! election authority's signed certification of the tree the server has
//! published and of its signed totals, stores it durably in `public/`,
//! serves it at `/certification`, and from then on every submission is
//! refused.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tallyboard_core::Hash;
use tallyboard_core::certification::SignedCertification;
use tallyboard_core::limits::MAX_SIGNED_CERTIFICATION;
use tallyboard_core::time::format_rfc3339;
use tallyboard_http::body::{BodyError, read_request};
use tallyboard_http::error::ApiError;
use tallyboard_http::{cache, media, path, response};
use tallyboard_log::Storage;
use tallyboard_read::static_copy::write_certification;

use crate::AppState;

/// The refusal of a submission once the count is closed.
pub(crate) fn closed(s: &AppState) -> ApiError {
    let at = s
        .read
        .certification()
        .and_then(|b| SignedCertification::from_bytes(&b, &s.manifest.authority).ok())
        .map(|c| {
            format!(
                " at {} (tree size {})",
                format_rfc3339(c.certification().certified_at),
                c.certification().checkpoint.size
            )
        })
        .unwrap_or_default();
    ApiError::new(
        StatusCode::CONFLICT,
        "count-closed",
        format!(
            "the election authority certified the results{at}: the count is closed and no tally is accepted any more"
        ),
    )
}

/// `POST /certification`.
pub(crate) async fn certify(State(s): State<Arc<AppState>>, req: Request) -> Response {
    match certify_inner(s, req).await {
        Ok(body) => response::bytes(body, media::JSON, cache::NO_STORE),
        Err(e) => e.into_response(),
    }
}

async fn certify_inner(s: Arc<AppState>, req: Request) -> Result<Vec<u8>, ApiError> {
    crate::check_content_type(req.headers(), "a signed certification")?;
    let body = read_request(req, MAX_SIGNED_CERTIFICATION)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge(_) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                format!("a signed certification is at most {MAX_SIGNED_CERTIFICATION} bytes"),
            ),
            other => ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad-body",
                format!("the request body could not be read: {other}"),
            ),
        })?;
    let bad = |code: &str, m: String| ApiError::new(StatusCode::BAD_REQUEST, code, m);
    let sc = SignedCertification::from_bytes(&body, &s.manifest.authority)
        .map_err(|e| bad(e.code(), e.to_string()))?;
    let c = sc.certification().clone();
    if c.election != s.manifest.election {
        return Err(bad(
            "wrong-election",
            format!("the certification is for the election {}", c.election),
        ));
    }
    if c.manifest != Hash::sha256(s.read.manifest_bytes()) {
        return Err(bad(
            "manifest-mismatch",
            "the certification names another manifest than the one this server publishes"
                .to_owned(),
        ));
    }
    // Off the async workers: the check against the published tree and
    // the durable write hold the sequencer's lock, so that no submission
    // enters the pool in between.
    tokio::task::spawn_blocking(move || close(&s, &body, &c))
        .await
        .map_err(ApiError::internal)?
}

fn close(
    s: &AppState,
    body: &[u8],
    c: &tallyboard_core::certification::CertificationBody,
) -> Result<Vec<u8>, ApiError> {
    let conflict = |code: &str, m: String| ApiError::new(StatusCode::CONFLICT, code, m);
    let seq = s.sequencer.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(held) = s.read.certification() {
        if held.as_slice() == body {
            return Ok(answer(c));
        }
        return Err(conflict(
            "already-certified",
            "the results are already certified by another statement".to_owned(),
        ));
    }
    if seq.as_ref().is_some_and(|q| q.stats().pending > 0) {
        return Err(conflict(
            "submissions-pending",
            "submissions are still being sequenced; certify the next checkpoint".to_owned(),
        )
        .retry_after(1));
    }
    let cp = s.reader.checkpoint();
    if c.checkpoint.origin != s.manifest.log.origin
        || c.checkpoint.size != cp.size
        || c.checkpoint.root != cp.root
    {
        return Err(conflict(
            "checkpoint-mismatch",
            format!(
                "the certification names the tree of size {} with root {}, but the published checkpoint is size {} with root {}",
                c.checkpoint.size, c.checkpoint.root, cp.size, cp.root
            ),
        ));
    }
    let totals = s.read.totals_bytes();
    if c.totals != Hash::sha256(&totals) {
        return Err(conflict(
            "totals-mismatch",
            "the certification names other totals than those published for this checkpoint"
                .to_owned(),
        ));
    }
    match &s.public {
        Storage::Dir(d) => write_certification(d, body).map_err(ApiError::internal)?,
        Storage::Object(_) => s
            .public
            .put_static(path::relative(path::CERTIFICATION), body)
            .map_err(ApiError::internal)?,
    }
    s.read.set_certification(body.to_vec());
    s.closed.store(true, Ordering::SeqCst);
    drop(seq);
    tracing::info!(
        size = c.checkpoint.size,
        "the election authority certified the results: the count is closed"
    );
    Ok(answer(c))
}

fn answer(c: &tallyboard_core::certification::CertificationBody) -> Vec<u8> {
    let v = serde_json::json!({
        "certified": true,
        "size": c.checkpoint.size,
        "root": c.checkpoint.root.to_hex(),
        "certified_at": format_rfc3339(c.certified_at),
    });
    let mut b = serde_json::to_vec(&v).unwrap_or_default();
    b.push(b'\n');
    b
}
