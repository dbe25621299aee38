//! The election state derived from the log: revision index, totals, units.

use std::sync::{Arc, PoisonError};

use tallyboard_check::{
    Checked, ElectionState, Outcome, Signatures, available_threads, check_entries,
};
use tallyboard_core::keys::SecretKey;
use tallyboard_core::manifest::Manifest;
use tallyboard_core::rules::Violation;
use tallyboard_core::totals::TotalsBody;
use tallyboard_log::{Admission, LogError, LogReader, Refusal, SignedCheckpoint};
use tallyboard_read::SharedViews;

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

impl NotATally {
    fn of(c: &Checked) -> NotATally {
        NotATally(match c {
            Checked::Undecodable { error, .. } => error.to_string(),
            _ => "its signature does not verify".to_owned(),
        })
    }
}

/// The [`Admission`] of the publication server: applies the tally rules
/// in log order (the checking engine's [`ElectionState`]) and keeps the
/// totals and unit views up to date.
pub(crate) struct Election {
    manifest: Arc<Manifest>,
    log_key: SecretKey,
    origin: String,
    state: ElectionState<Arc<Manifest>>,
    /// Admitted, not yet committed: the manifest unit index of each.
    staged: Vec<Option<usize>>,
    reader: LogReader,
    views: SharedViews,
}

impl Election {
    /// Builds the state of the published log by reading every entry.
    pub(crate) fn load(
        manifest: Arc<Manifest>,
        log_key: SecretKey,
        origin: String,
        reader: LogReader,
        views: SharedViews,
    ) -> Result<Election, LogError> {
        let mut e = Election {
            state: ElectionState::new(Arc::clone(&manifest)),
            manifest,
            log_key,
            origin,
            staged: Vec::new(),
            reader,
            views,
        };
        e.rebuild()?;
        Ok(e)
    }

    /// Recomputes everything from the published log. Its entries were
    /// verified when they were submitted: their signatures are not checked
    /// again.
    fn rebuild(&mut self) -> Result<(), LogError> {
        let manifest: &Manifest = &self.manifest;
        let mut state = ElectionState::new(Arc::clone(&self.manifest));
        let mut units = vec![Vec::new(); manifest.units.len()];
        let cp = self.reader.checkpoint();
        let bundles = cp.size.div_ceil(256);
        // Bundles checked at once (on every core).
        const AT_ONCE: u64 = 16;
        for b in (0..bundles).step_by(AT_ONCE as usize) {
            let mut entries = Vec::new();
            for k in b..bundles.min(b + AT_ONCE) {
                entries.extend(self.reader.bundle(k)?);
            }
            let checked = check_entries(
                manifest,
                b * 256,
                &entries,
                Signatures::Trusted,
                available_threads(),
            );
            for (index, c) in (b * 256..).zip(checked) {
                match state.apply(&c) {
                    Outcome::Counted => {}
                    Outcome::Broken(v) => {
                        tracing::warn!(index, violations = %Violations(v), "log entry breaks a rule");
                    }
                    Outcome::NotCounted(e) => {
                        tracing::warn!(index, error = %e, "log entry not counted");
                    }
                    _ => {
                        tracing::warn!(index, error = %NotATally::of(&c), "log entry is not a tally");
                    }
                }
                if let Checked::Signed(s) = &c
                    && let Some(u) = s.unit.and_then(|u| units.get_mut(u))
                {
                    u.push(index);
                }
            }
        }
        self.state = state;
        self.staged.clear();
        self.publish_views(&cp, units);
        Ok(())
    }

    /// The signed totals of the entries counted so far, bound to `cp`.
    fn signed_totals(&self, cp: &SignedCheckpoint) -> (Arc<Vec<u8>>, Arc<TotalsBody>) {
        let body = self.state.totals(&self.origin, cp.size, cp.root);
        let signed = Arc::new(body.sign(&self.log_key).to_bytes());
        (signed, Arc::new(body))
    }

    fn publish_views(&self, cp: &SignedCheckpoint, units: Vec<Vec<u64>>) {
        let (signed, body) = self.signed_totals(cp);
        let mut v = self.views.write().unwrap_or_else(PoisonError::into_inner);
        v.totals = signed;
        v.totals_body = Some(body);
        v.unit_entries = units;
        v.latest_count = self.state.latest_count();
    }
}

impl Admission for Election {
    /// Applies the entry (a tally the submit handler verified: its
    /// signature is not checked again) to the election state: a tally that
    /// breaks a rule, such as a correction that does not supersede the
    /// latest revision, is refused.
    fn admit(&mut self, entry: &[u8]) -> Result<(), Refusal> {
        let c = Checked::one(&self.manifest, entry, Signatures::Trusted);
        match self.state.apply(&c) {
            Outcome::Counted => {}
            Outcome::Broken(v) => return Err(Arc::new(Violations(v))),
            Outcome::NotCounted(e) => tracing::warn!(error = %e, "admitted tally not counted"),
            _ => return Err(Arc::new(NotATally::of(&c))),
        }
        let unit = match &c {
            Checked::Signed(s) => s.unit,
            _ => None,
        };
        self.staged.push(unit);
        Ok(())
    }

    fn committed(&mut self, first_index: u64, checkpoint: &Arc<SignedCheckpoint>) {
        let staged = std::mem::take(&mut self.staged);
        let (signed, body) = self.signed_totals(checkpoint);
        let mut v = self.views.write().unwrap_or_else(PoisonError::into_inner);
        v.latest_count = self.state.latest_count();
        for (index, unit) in (first_index..).zip(staged) {
            if let Some(u) = unit.and_then(|u| v.unit_entries.get_mut(u)) {
                u.push(index);
            }
        }
        v.totals = signed;
        v.totals_body = Some(body);
    }

    fn discard(&mut self) {
        if self.staged.is_empty() {
            // Nothing admitted since the last commit: the state is the
            // published log's.
            return;
        }
        // The state holds the staged entries: rebuild it from the log the
        // sequencer has just recovered.
        if let Err(e) = self.rebuild() {
            tracing::error!(error = %e, "rebuilding the election state failed");
        }
    }
}
