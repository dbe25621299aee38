//! The election state derived from the log: revision index, totals, units.

use std::sync::{Arc, PoisonError, RwLock};

use tallyboard_core::keys::SecretKey;
use tallyboard_core::leaf_hash;
use tallyboard_core::manifest::Manifest;
use tallyboard_core::rules::{RevisionIndex, Violation};
use tallyboard_core::tally::{SignedTally, UnverifiedTally};
use tallyboard_core::totals::{TotalsBody, TotalsBuilder};
use tallyboard_log::{Admission, LogError, LogReader, Refusal, SignedCheckpoint};

/// The log-dependent rules a submission broke (revision rules): the
/// refusal the sequencer hands back to the submit handler.
#[derive(Debug, Clone)]
pub(crate) struct Violations(pub(crate) Vec<Violation>);

impl std::fmt::Display for Violations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let msgs: Vec<String> = self.0.iter().map(|v| v.to_string()).collect();
        f.write_str(&msgs.join("; "))
    }
}

impl std::error::Error for Violations {}

/// The entry could not be read back as a tally (only entries the submit
/// handler verified reach the sequencer, so this means a bug or a log not
/// written by this server).
#[derive(Debug, thiserror::Error)]
#[error("the entry is not a tally of this election: {0}")]
pub(crate) struct NotATally(String);

/// What the read handlers serve, replaced after every commit.
#[derive(Debug, Default)]
pub(crate) struct Views {
    /// Signed totals at the latest checkpoint.
    pub(crate) totals: Arc<Vec<u8>>,
    /// The same totals, decoded (for the results page).
    pub(crate) totals_body: Option<Arc<TotalsBody>>,
    /// Per manifest unit (by index): leaf indexes of its entries, in log order.
    pub(crate) unit_entries: Vec<Vec<u64>>,
    /// A warning shown at the top of the results page (plain text).
    pub(crate) notice: Option<String>,
}

/// The [`Admission`] of the publication server: applies the revision rules
/// in log order and keeps the totals and unit views up to date.
pub(crate) struct Election {
    manifest: &'static Manifest,
    log_key: SecretKey,
    origin: String,
    revisions: RevisionIndex,
    totals: TotalsBuilder<&'static Manifest>,
    /// Admitted, not yet committed: (manifest unit index, tally).
    staged: Vec<(usize, SignedTally)>,
    reader: LogReader,
    views: Arc<RwLock<Views>>,
}

impl Election {
    /// Builds the state of the published log by reading every entry.
    pub(crate) fn load(
        manifest: &'static Manifest,
        log_key: SecretKey,
        origin: String,
        reader: LogReader,
        views: Arc<RwLock<Views>>,
    ) -> Result<Election, LogError> {
        let mut e = Election {
            manifest,
            log_key,
            origin,
            revisions: RevisionIndex::new(),
            totals: TotalsBuilder::new(manifest),
            staged: Vec::new(),
            reader,
            views,
        };
        e.rebuild()?;
        Ok(e)
    }

    /// Recomputes everything from the published log.
    fn rebuild(&mut self) -> Result<(), LogError> {
        self.revisions = RevisionIndex::new();
        self.totals = TotalsBuilder::new(self.manifest);
        self.staged.clear();
        let mut units = vec![Vec::new(); self.manifest.units.len()];
        let cp = self.reader.checkpoint();
        let bundles = cp.size.div_ceil(256);
        for b in 0..bundles {
            for (i, entry) in self.reader.bundle(b)?.into_iter().enumerate() {
                let index = b * 256 + i as u64;
                match self.read_entry(&entry) {
                    Ok((unit, tally)) => {
                        let leaf = tally.leaf_hash();
                        if let Err(v) = self.revisions.apply(tally.tally(), leaf) {
                            tracing::warn!(index, violations = %Violations(v), "log entry breaks a revision rule");
                        }
                        if let Err(e) = self.totals.add(tally.tally()) {
                            tracing::warn!(index, error = %e, "log entry not counted");
                        }
                        if let Some(u) = units.get_mut(unit) {
                            u.push(index);
                        }
                    }
                    Err(e) => tracing::warn!(index, error = %e, "log entry is not a tally"),
                }
            }
        }
        self.publish_views(&cp, units);
        Ok(())
    }

    /// Parses an entry the submit handler has verified (its signature is
    /// not checked again).
    fn read_entry(&self, entry: &[u8]) -> Result<(usize, SignedTally), NotATally> {
        let t = UnverifiedTally::from_bytes_in(entry, self.manifest)
            .map_err(|e| NotATally(e.to_string()))?
            .verified_by_batch();
        let unit = self
            .manifest
            .unit_index(&t.tally().unit)
            .ok_or_else(|| NotATally(format!("unknown unit {}", t.tally().unit)))?;
        Ok((unit, t))
    }

    /// The signed totals of the entries counted so far, bound to `cp`.
    fn signed_totals(&self, cp: &SignedCheckpoint) -> (Arc<Vec<u8>>, Arc<TotalsBody>) {
        let body = self.totals.finish(&self.origin, cp.size, cp.root);
        let signed = Arc::new(body.sign(&self.log_key).to_bytes());
        (signed, Arc::new(body))
    }

    fn publish_views(&self, cp: &SignedCheckpoint, units: Vec<Vec<u64>>) {
        let (signed, body) = self.signed_totals(cp);
        let mut v = self.views.write().unwrap_or_else(PoisonError::into_inner);
        v.totals = signed;
        v.totals_body = Some(body);
        v.unit_entries = units;
    }
}

impl Admission for Election {
    fn admit(&mut self, entry: &[u8]) -> Result<(), Refusal> {
        let (unit, tally) = self.read_entry(entry).map_err(|e| Arc::new(e) as Refusal)?;
        let leaf = leaf_hash(entry);
        debug_assert_eq!(leaf, tally.leaf_hash());
        self.revisions
            .apply(tally.tally(), leaf)
            .map_err(|v| Arc::new(Violations(v)) as Refusal)?;
        self.staged.push((unit, tally));
        Ok(())
    }

    fn committed(&mut self, first_index: u64, checkpoint: &Arc<SignedCheckpoint>) {
        let staged = std::mem::take(&mut self.staged);
        for (_, tally) in &staged {
            if let Err(e) = self.totals.add(tally.tally()) {
                tracing::warn!(error = %e, "admitted tally not counted");
            }
        }
        let (signed, body) = self.signed_totals(checkpoint);
        let mut v = self.views.write().unwrap_or_else(PoisonError::into_inner);
        for (i, (unit, _)) in staged.into_iter().enumerate() {
            if let Some(u) = v.unit_entries.get_mut(unit) {
                u.push(first_index + i as u64);
            }
        }
        v.totals = signed;
        v.totals_body = Some(body);
    }

    fn discard(&mut self) {
        // The revision index already holds the staged entries: rebuild it
        // from the log the sequencer has just recovered.
        if let Err(e) = self.rebuild() {
            tracing::error!(error = %e, "rebuilding the election state failed");
        }
    }
}
