//! Keeps the server's `public/` directory a complete static copy, like a
//! mirror's: besides the log (checkpoint, tiles, bundles, written by the
//! log store) it holds the signed manifest, written at start, and the
//! signed totals, rewritten after every commit: the same bytes `/manifest`
//! and `/totals` serve; and the results files derived from the totals
//! (`results.json`, `results.csv`, `results.err.json`, `totals.json`,
//! `spec/results.md`), rewritten when they change.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError};

use tallyboard_core::manifest::Manifest;
use tallyboard_core::totals::SignedTotals;
use tallyboard_log::{Admission, LogReader, Refusal, SignedCheckpoint};
use tallyboard_read::SharedViews;
use tallyboard_read::static_copy::{results_files, write_results, write_totals};

/// An [`Admission`] that, after each commit of the one it wraps (which
/// keeps `views` up to date), writes the signed totals served as
/// `public/totals`.
pub(crate) struct TotalsFile<A> {
    inner: A,
    views: SharedViews,
    public: PathBuf,
    manifest: Arc<Manifest>,
    reader: LogReader,
}

impl<A: Admission> TotalsFile<A> {
    /// Wraps `inner`, and writes the totals it has computed so far.
    pub(crate) fn new(
        inner: A,
        views: SharedViews,
        public: PathBuf,
        manifest: Arc<Manifest>,
        reader: LogReader,
    ) -> TotalsFile<A> {
        let t = TotalsFile {
            inner,
            views,
            public,
            manifest,
            reader,
        };
        let cp = t.reader.checkpoint();
        t.write(&cp);
        t
    }

    /// Writes the totals of the views and the results derived from them;
    /// `cp` is the checkpoint just committed (its note goes into the
    /// results files when the totals are bound to it).
    fn write(&self, cp: &SignedCheckpoint) {
        let (totals, latest_count) = {
            let v = self.views.read().unwrap_or_else(PoisonError::into_inner);
            (Arc::clone(&v.totals), v.latest_count)
        };
        if totals.is_empty() {
            return;
        }
        if let Err(e) = write_totals(&self.public, &totals) {
            tracing::error!(dir = %self.public.display(), error = %e, "writing public/totals failed; /totals still serves them");
        }
        let Ok(signed) = SignedTotals::from_bytes(&totals, &self.manifest.log.key) else {
            tracing::error!("the signed totals do not parse; the results files are not written");
            return;
        };
        let note = if signed.totals().checkpoint.size == cp.size {
            cp.note.as_slice()
        } else {
            &[]
        };
        let Some(files) = results_files(&self.manifest, &signed, note, latest_count) else {
            tracing::error!(
                "the totals do not fit the manifest; the results files are not written"
            );
            return;
        };
        if let Err(e) = write_results(&self.public, &files) {
            tracing::error!(dir = %self.public.display(), error = %e, "writing the results files failed");
        }
    }
}

impl<A: Admission> Admission for TotalsFile<A> {
    fn admit(&mut self, entry: &[u8]) -> Result<(), Refusal> {
        self.inner.admit(entry)
    }

    fn committed(&mut self, first_index: u64, checkpoint: &Arc<SignedCheckpoint>) {
        self.inner.committed(first_index, checkpoint);
        self.write(checkpoint);
    }

    fn discard(&mut self) {
        self.inner.discard();
        let cp = self.reader.checkpoint();
        self.write(&cp);
    }
}
