//! What the read handlers share: the manifest, the reader of the log and
//! the views derived from it.

use std::sync::{Arc, OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use axum::http::HeaderValue;

use axum::body::Bytes;
use tallyboard_core::manifest::Manifest;
use tallyboard_core::totals::TotalsBody;
use tallyboard_log::LogReader;

/// What the read handlers serve besides the log itself, replaced as the
/// log grows (by the publication server after every commit, by a mirror
/// after it has checked what it copied).
#[derive(Debug, Default)]
pub struct Views {
    /// Signed totals at the latest checkpoint (empty: none yet).
    pub totals: Arc<Vec<u8>>,
    /// The same totals, decoded (for the results page).
    pub totals_body: Option<Arc<TotalsBody>>,
    /// Per manifest unit (by index): leaf indexes of its entries, in log order.
    pub unit_entries: Vec<Vec<u64>>,
    /// The latest time of count of any tally counted (POSIX seconds, 0
    /// before the first): the as-of time of the results files.
    pub latest_count: u64,
    /// The election authority's signed certification, once the count is
    /// closed.
    pub certification: Option<Arc<Vec<u8>>>,
}

/// The views, shared between the read handlers and whoever keeps them up
/// to date.
pub type SharedViews = Arc<RwLock<Views>>;

pub(crate) struct ReadState {
    pub(crate) manifest_bytes: Bytes,
    pub(crate) manifest: Arc<Manifest>,
    pub(crate) reader: LogReader,
    pub(crate) views: SharedViews,
    /// The pages' Content-Security-Policy header.
    pub(crate) page_csp: HeaderValue,
    /// The writer of the static site, once started.
    pub(crate) publisher: OnceLock<crate::site::Publisher>,
    /// Full tiles and bundles already read (they never change).
    pub(crate) hot: tallyboard_http::hot::HotFiles,
    /// Site files already read, with the version of each.
    pub(crate) pages: crate::pages::PageCache,
}

impl ReadState {
    pub(crate) fn views(&self) -> RwLockReadGuard<'_, Views> {
        self.views.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn views_mut(&self) -> RwLockWriteGuard<'_, Views> {
        self.views.write().unwrap_or_else(PoisonError::into_inner)
    }
}
