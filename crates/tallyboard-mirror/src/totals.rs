//! The signed totals a mirror serves: the upstream's, once they equal the
//! totals recomputed from the entries at the same checkpoint.

use std::path::Path;
use tallyboard_verify::FindingCode;

use tallyboard_core::manifest::Manifest;
use tallyboard_core::totals::{SignedTotals, TotalsBody, diff};
use tallyboard_log::SignedCheckpoint;
use tallyboard_read::static_copy::{read_totals, results_files, write_results, write_totals};
use tallyboard_verify::source::FetchError;

use crate::entries;
use crate::state::{Mirror, SyncState};
use crate::status::{Outcome, fetch_problem, is_temporary, problem};

/// The signed totals of `public/totals` if they are bound to `cp` (the
/// copy's checkpoint) and equal the totals `checker` recomputed from the
/// copy's entries: those a mirror verified before it restarted.
pub(crate) fn verified_on_disk(
    public: &Path,
    manifest: &Manifest,
    checker: &entries::State,
    cp: &SignedCheckpoint,
) -> Option<(Vec<u8>, TotalsBody)> {
    let bytes = read_totals(public)?;
    let t = SignedTotals::from_bytes(&bytes, &manifest.log.key).ok()?;
    let body = t.totals();
    let bound = body.checkpoint.size == cp.size && body.checkpoint.root == cp.root;
    (bound
        && diff(
            body,
            &checker.totals(&manifest.log.origin, cp.size, cp.root),
        )
        .is_empty())
    .then(|| (bytes.clone(), body.clone()))
}

impl Mirror {
    /// Fetches the upstream's signed totals and serves them if they are
    /// bound to the held checkpoint and equal the recomputed totals.
    pub(crate) async fn refresh_totals(&self, st: &mut SyncState) -> Outcome {
        match self.refresh_totals_only(st).await {
            s @ Outcome::Synced { .. } => self.refresh_certification(st, s).await,
            other => other,
        }
    }

    async fn refresh_totals_only(&self, st: &mut SyncState) -> Outcome {
        let inner = &self.inner;
        let label = inner.source.label();
        let cp = st.log.checkpoint();
        let synced = Outcome::Synced { size: cp.size };
        if self.status().totals_size == Some(cp.size) {
            return synced;
        }
        let bytes = match inner.source.totals().await {
            Ok(b) => b,
            // No totals yet (an upstream mirror that has not verified
            // any), or a static copy without them: serve the log.
            Err(FetchError::NotFound { .. }) => return synced,
            Err(e) if is_temporary(&e) && !e.is_unreachable() => return synced,
            Err(e) => return Outcome::CouldNotSync(fetch_problem(&e)),
        };
        let signed = match SignedTotals::from_bytes(&bytes, &inner.manifest.log.key) {
            Ok(t) => t,
            Err(e) => {
                return Outcome::CouldNotSync(problem(
                    FindingCode::TotalsSignature,
                    format!(
                        "{label} serves totals that are not signed by the log key ({e}); the mirror does not serve them"
                    ),
                ));
            }
        };
        let body = signed.totals();
        if body.checkpoint.size != cp.size {
            // The upstream moved on (or lags): checked at a later poll.
            return synced;
        }
        if body.checkpoint.root != cp.root || body.checkpoint.origin != inner.manifest.log.origin {
            return Outcome::Misbehaved(problem(
                FindingCode::TotalsUnbound,
                format!(
                    "{label} serves signed totals for tree size {} with root {}, but the log's signed checkpoint of that size has root {}",
                    cp.size, body.checkpoint.root, cp.root
                ),
            ));
        }
        let recomputed = st
            .checker
            .totals(&inner.manifest.log.origin, cp.size, cp.root);
        let d = diff(body, &recomputed);
        if !d.is_empty() || body.election != recomputed.election {
            let first: Vec<String> = d.iter().take(3).map(ToString::to_string).collect();
            return Outcome::Misbehaved(problem(
                FindingCode::TotalsMismatch,
                format!(
                    "{label} serves signed totals at tree size {} that are not the sum of the log's tallies ({} figures differ: {})",
                    cp.size,
                    d.len(),
                    first.join("; ")
                ),
            ));
        }
        if let Err(e) = write_totals(&inner.public, &bytes) {
            return Outcome::CouldNotSync(problem(
                FindingCode::Internal,
                format!("writing the totals to {}: {e}", inner.public.display()),
            ));
        }
        // The results files of the static copy (spec/results.md), from the
        // totals just checked.
        if let Some(files) = results_files(
            &inner.manifest,
            &signed,
            &cp.note,
            st.checker.latest_count(),
        ) && let Err(e) = write_results(&inner.public, &files)
        {
            return Outcome::CouldNotSync(problem(
                FindingCode::Internal,
                format!(
                    "writing the results files to {}: {e}",
                    inner.public.display()
                ),
            ));
        }
        inner.read.set_totals(bytes, body.clone());
        let size = cp.size;
        self.update(|s| s.totals_size = Some(size));
        synced
    }
}
