//! # tallyboard-read: the read API and the static results site
//!
//! The read side of a log (`spec/protocol.md` §3), shared by the
//! publication server and by mirrors: `/checkpoint`, `/tile/...` (C2SP
//! tlog-tiles hash tiles and entry bundles), `/manifest`, `/totals`, built
//! over a [`LogReader`] and the [`Views`] derived from the log, with no
//! sequencer; and the static results site ([`site`]), written into
//! `public/` by a background writer and served from there (`/`,
//! `/units/<id>`, `/regions/<id>/`, `/search.html`, `/site/...`) exactly as
//! a plain web server over `public/` serves it. No page is rendered per
//! request.
//!
//! Pages carry a `Content-Security-Policy` (header and `<meta>`) that
//! allows the site's own files only.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod handlers;
mod pages;
pub mod site;
mod state;
pub mod static_copy;

use std::sync::{Arc, RwLock};

use axum::Router;
use axum::body::Bytes;
use axum::http::HeaderValue;
use axum::routing::get;
use tallyboard_core::manifest::Manifest;
use tallyboard_core::totals::TotalsBody;
use tallyboard_http::{path, response};
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
        let csp = format!("{}; frame-ancestors 'none'", site::csp(&manifest));
        ReadApi {
            state: Arc::new(ReadState {
                manifest_bytes: Bytes::from(manifest_bytes),
                manifest,
                reader,
                views,
                page_csp: HeaderValue::from_str(&csp)
                    .unwrap_or(HeaderValue::from_static(tallyboard_http::CSP)),
                publisher: std::sync::OnceLock::new(),
                hot: tallyboard_http::hot::HotFiles::default(),
                pages: pages::PageCache::default(),
            }),
        }
    }

    /// The read routes: `/checkpoint`, `/tile/{*path}`, `/manifest`,
    /// `/totals`, and the static site from `public/`: `/`, `/units/{id}`
    /// and any other file of the site (see [`site`]).
    pub fn router(&self) -> Router {
        Router::new()
            .route(path::RESULTS, get(pages::front))
            .route(path::CHECKPOINT, get(handlers::checkpoint))
            .route(path::TILE_ROUTE, get(handlers::tile))
            .route(path::MANIFEST, get(handlers::manifest))
            .route(path::TOTALS, get(handlers::totals))
            .route(path::TOTALS_JSON, get(handlers::totals_json))
            .route(path::CERTIFICATION, get(handlers::certification))
            .route(path::UNIT_ROUTE, get(pages::unit))
            .fallback(get(pages::any))
            // Every read path may be read by any page (the split-view check).
            .layer(axum::middleware::map_response(response::allow_any_origin))
            .with_state(self.state.clone())
    }

    /// Starts writing the static site into `public/` (a background writer,
    /// see [`site::Publisher`]) and returns its handle; once started,
    /// [`ReadApi::site`] returns it too. Started once: a second call
    /// returns the first writer.
    pub fn start_site(&self, config: site::SiteConfig) -> std::io::Result<site::Publisher> {
        if let Some(p) = self.state.publisher.get() {
            return Ok(p.clone());
        }
        let site = Arc::new(site::Site::new(
            self.state.manifest.clone(),
            &self.state.manifest_bytes,
            config,
        ));
        let p = site::Publisher::start(site, self.state.views.clone(), self.state.reader.clone())?;
        if self.state.views().certification.is_some() {
            p.set_certified(true);
        }
        Ok(self.state.publisher.get_or_init(|| p).clone())
    }

    /// The writer of the static site, if started.
    pub fn site(&self) -> Option<&site::Publisher> {
        self.state.publisher.get()
    }

    /// Asks the site's writer (if started) to bring the pages up to date
    /// with the views.
    pub fn update_site(&self) {
        if let Some(p) = self.site() {
            p.update();
        }
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
    /// `/totals` and `body` on the results pages (asking the site's writer
    /// for a round).
    pub fn set_totals(&self, signed: Vec<u8>, body: TotalsBody) {
        {
            let mut v = self.state.views_mut();
            v.totals = Arc::new(signed);
            v.totals_body = Some(Arc::new(body));
        }
        self.update_site();
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
        drop(v);
        self.update_site();
    }

    /// Shows `notice` at the top of the results pages, or nothing. A
    /// mirror uses it to say it stopped following its upstream and why.
    pub fn set_notice(&self, notice: Option<site::Notice>) {
        if let Some(p) = self.site() {
            p.set_notice(notice);
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
    /// at `/certification`; the pages then show the leaders as winners.
    pub fn set_certification(&self, signed: Vec<u8>) {
        self.state.views_mut().certification = Some(Arc::new(signed));
        if let Some(p) = self.site() {
            p.set_certified(true);
        }
    }
}
