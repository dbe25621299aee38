//! Keeps the server's `public/` directory a complete static copy, like a
//! mirror's: besides the log (checkpoint, tiles, bundles, written by the
//! log store) it holds the signed manifest, written at start, and the
//! signed totals, rewritten after every commit: the same bytes `/manifest`
//! and `/totals` serve; and, written by the site's background writer
//! (latest wins: it never holds the sequencer up), the results files
//! derived from the totals (`results.json`, `results.csv`,
//! `results.err.json`, `totals.json`, `spec/results.md`), rewritten when
//! they change, and the static results site.

use std::sync::{Arc, PoisonError};

use tallyboard_http::path;
use tallyboard_log::{Admission, LogReader, Refusal, SignedCheckpoint, Storage};
use tallyboard_read::SharedViews;
use tallyboard_read::site::Publisher;
use tallyboard_read::static_copy::write_totals;

/// An [`Admission`] that, after each commit of the one it wraps (which
/// keeps `views` up to date), writes the signed totals served as
/// `public/totals` and hands the checkpoint to the site's writer, which
/// writes the results files and the pages in the background.
pub(crate) struct TotalsFile<A> {
    inner: A,
    views: SharedViews,
    public: Storage,
    reader: LogReader,
    site: Publisher,
}

impl<A: Admission> TotalsFile<A> {
    /// Wraps `inner`, and writes the totals it has computed so far.
    pub(crate) fn new(
        inner: A,
        views: SharedViews,
        public: Storage,
        reader: LogReader,
        site: Publisher,
    ) -> TotalsFile<A> {
        let t = TotalsFile {
            inner,
            views,
            public,
            reader,
            site,
        };
        t.write();
        t.site.write_results_files();
        t.site.committed(t.reader.checkpoint());
        t
    }

    /// Writes the signed totals of the views as `public/totals`.
    fn write(&self) {
        let totals = {
            let v = self.views.read().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(&v.totals)
        };
        if totals.is_empty() {
            return;
        }
        let written = match &self.public {
            Storage::Dir(d) => write_totals(d, &totals).map_err(|e| e.to_string()),
            Storage::Object(_) => self
                .public
                .put_static(path::relative(path::TOTALS), &totals)
                .map_err(|e| e.to_string()),
        };
        if let Err(e) = written {
            tracing::error!(public = ?self.public, error = %e, "writing public/totals failed; /totals still serves them");
        }
    }
}

impl<A: Admission> Admission for TotalsFile<A> {
    fn admit(&mut self, entry: &[u8]) -> Result<(), Refusal> {
        self.inner.admit(entry)
    }

    fn committed(&mut self, first_index: u64, checkpoint: &Arc<SignedCheckpoint>) {
        self.inner.committed(first_index, checkpoint);
        self.write();
        self.site.committed(Arc::clone(checkpoint));
    }

    fn discard(&mut self) {
        self.inner.discard();
        self.write();
        self.site.committed(self.reader.checkpoint());
    }
}
