//! # tallyboard-read: the read API and the results pages
//!
//! The read side of a log (`spec/protocol.md` §3), shared by the
//! publication server and by mirrors: `/` (results page), `/checkpoint`,
//! `/tile/...` (C2SP tlog-tiles hash tiles and entry bundles), `/manifest`,
//! `/totals`, `/units/<id>` (JSON, or a page for browsers) and
//! `/style.css`, built over a [`LogReader`] and the [`Views`] derived from
//! the log, with no sequencer.
//!
//! Pages carry a `Content-Security-Policy` that allows the site's own
//! stylesheet only (no scripts, no inline styles).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod handlers;
mod html;
mod state;
pub mod static_copy;
mod unit;

use std::sync::{Arc, RwLock};

use axum::Router;
use axum::body::Bytes;
use axum::routing::get;
use tallyboard_core::manifest::Manifest;
use tallyboard_core::totals::TotalsBody;
use tallyboard_http::path;
use tallyboard_log::LogReader;

use crate::state::ReadState;
pub use crate::state::{SharedViews, Views};

/// The read side of a log: the manifest, a reader of the published log and
/// the views (signed totals, units' entries) derived from it. Clones share
/// the same state; [`ReadApi::router`] serves it.
///
/// The publication server keeps the views up to date as it sequences
/// (sharing them with [`ReadApi::with_views`]); a mirror sets them itself
/// ([`ReadApi::set_totals`], [`ReadApi::add_unit_entries`]) after checking
/// what it copied.
#[derive(Clone)]
pub struct ReadApi {
    state: Arc<ReadState>,
}

impl ReadApi {
    /// The read API of the log `reader` reads, for the election of
    /// `manifest` (served at `/manifest` as `manifest_bytes`, the signed
    /// manifest). The views start empty: `/totals` answers 503 until
    /// totals are set.
    pub fn new(manifest: Arc<Manifest>, manifest_bytes: Vec<u8>, reader: LogReader) -> ReadApi {
        ReadApi::with_views(
            manifest,
            manifest_bytes,
            reader,
            Arc::new(RwLock::new(Views::default())),
        )
    }

    /// The same, serving `views` that the caller keeps up to date.
    pub fn with_views(
        manifest: Arc<Manifest>,
        manifest_bytes: Vec<u8>,
        reader: LogReader,
        views: SharedViews,
    ) -> ReadApi {
        ReadApi {
            state: Arc::new(ReadState {
                manifest_bytes: Bytes::from(manifest_bytes),
                manifest,
                reader,
                views,
            }),
        }
    }

    /// The read routes: `/`, `/checkpoint`, `/tile/{*path}`, `/manifest`,
    /// `/totals`, `/units/{id}`, `/style.css`.
    pub fn router(&self) -> Router {
        Router::new()
            .route(path::RESULTS, get(handlers::results))
            .route(path::CHECKPOINT, get(handlers::checkpoint))
            .route(path::TILE_ROUTE, get(handlers::tile))
            .route(path::MANIFEST, get(handlers::manifest))
            .route(path::TOTALS, get(handlers::totals))
            .route(path::TOTALS_JSON, get(handlers::totals_json))
            .route(path::CERTIFICATION, get(handlers::certification))
            .route(path::UNIT_ROUTE, get(handlers::unit))
            .route(path::STYLE, get(handlers::style))
            .with_state(self.state.clone())
    }

    /// The reader of the published log.
    pub fn reader(&self) -> &LogReader {
        &self.state.reader
    }

    /// The election manifest.
    pub fn manifest(&self) -> &Arc<Manifest> {
        &self.state.manifest
    }

    /// The signed manifest, as served at `/manifest`.
    pub fn manifest_bytes(&self) -> &[u8] {
        &self.state.manifest_bytes
    }

    /// Serves `signed` (an encoded `SignedTotals`, whose body is `body`) at
    /// `/totals` and `body` on the results page.
    pub fn set_totals(&self, signed: Vec<u8>, body: TotalsBody) {
        let mut v = self.state.views_mut();
        v.totals = Arc::new(signed);
        v.totals_body = Some(Arc::new(body));
    }

    /// Records log entries of reporting units, `(manifest unit index, leaf
    /// index)` in log order, for `/units/<id>`.
    pub fn add_unit_entries(&self, entries: impl IntoIterator<Item = (usize, u64)>) {
        let mut v = self.state.views_mut();
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

    /// The certification served at `/certification`, if any.
    pub fn certification(&self) -> Option<Arc<Vec<u8>>> {
        self.state.views().certification.clone()
    }

    /// The signed totals served at `/totals` (empty: none yet).
    pub fn totals_bytes(&self) -> Arc<Vec<u8>> {
        Arc::clone(&self.state.views().totals)
    }

    /// Serves `signed` (an encoded certification, checked by the caller)
    /// at `/certification`.
    pub fn set_certification(&self, signed: Vec<u8>) {
        self.state.views_mut().certification = Some(Arc::new(signed));
    }

    /// Shows `notice` (plain text; escaped) at the top of the results page,
    /// or nothing. A mirror uses it to say it stopped following its
    /// upstream and why.
    pub fn set_notice(&self, notice: Option<String>) {
        self.state.views_mut().notice = notice;
    }
}
