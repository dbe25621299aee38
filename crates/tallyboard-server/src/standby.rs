//! A standby publication server on a log kept in object storage.
//!
//! Two servers share one bucket: one sequences, the standby serves reads
//! from the bucket (the checkpoint it follows, the tiles and bundles, the
//! manifest) and refuses submissions with 503 and a JSON body naming the
//! active sequencer, so that a client can go there. When the active one
//! stops advancing the sequencer state (no commit and no heartbeat for the
//! takeover time), the caller takes the log over by compare-and-swap and
//! starts a [`crate::Server`] in its place (`tallyboard serve --standby`).

use std::sync::{Arc, PoisonError, RwLock};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tallyboard_core::manifest::SignedManifest;
use tallyboard_http::error::ApiError;
use tallyboard_http::path;
use tallyboard_log::LogReader;
use tallyboard_read::ReadApi;

/// The read side of a standby and its refusal of submissions.
#[derive(Clone)]
pub struct Standby {
    read: ReadApi,
    active: Arc<RwLock<String>>,
}

impl Standby {
    /// A standby serving the log `reader` follows, for the election of
    /// `manifest`.
    pub fn new(manifest: SignedManifest, reader: LogReader) -> Standby {
        let bytes = manifest.to_bytes();
        Standby {
            read: ReadApi::new(Arc::new(manifest.into_manifest()), bytes, reader),
            active: Arc::default(),
        }
    }

    /// Records the active sequencer named by the state (shown to clients).
    pub fn set_active(&self, holder: &str) {
        let mut a = self.active.write().unwrap_or_else(PoisonError::into_inner);
        if *a != holder {
            *a = holder.to_owned();
        }
    }

    /// The reader of the followed log.
    pub fn reader(&self) -> &LogReader {
        self.read.reader()
    }

    /// The read routes, and `POST /submit` answering 503 `standby`.
    pub fn router(&self) -> Router {
        Router::new()
            .route(path::SUBMIT, post(refuse))
            .with_state(self.active.clone())
            .merge(self.read.router())
    }
}

async fn refuse(State(active): State<Arc<RwLock<String>>>) -> Response {
    let holder = active
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let message = if holder.is_empty() {
        "this server is a standby and no sequencer holds the log yet; retry later".to_owned()
    } else {
        format!(
            "this server is a standby; the active sequencer is {holder}; submit there or retry later"
        )
    };
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "standby", message)
        .retry_after(1)
        .into_response()
}
