//! The election authority's certification a mirror serves: the upstream's
//! (or the one kept in `public/` before a restart), once it verifies under
//! the authority key and binds the mirror's checkpoint, the manifest and
//! the totals it serves (`spec/mirror.md`).

use tallyboard_core::Hash;
use tallyboard_core::certification::SignedCertification;
use tallyboard_read::static_copy::{read_certification, write_certification};
use tallyboard_verify::FindingCode;
use tallyboard_verify::source::FetchError;

use crate::state::{Mirror, SyncState};
use crate::status::{Outcome, Problem, problem};

impl Mirror {
    /// After the totals: copies and checks the certification, if the
    /// upstream serves one for the tree the mirror holds.
    pub(crate) async fn refresh_certification(&self, st: &SyncState, synced: Outcome) -> Outcome {
        let inner = &self.inner;
        if inner.read.certification().is_some() {
            return synced;
        }
        let on_disk = read_certification(&inner.public);
        let bytes = match on_disk {
            Some(b) if self.check_certification(st, &b).is_ok() => {
                inner.read.set_certification(b);
                return synced;
            }
            _ => match inner.source.certification().await {
                Ok(b) => b,
                // Not certified yet, or a passing failure: next poll.
                Err(FetchError::NotFound { .. }) => return synced,
                Err(_) => return synced,
            },
        };
        match self.check_certification(st, &bytes) {
            Ok(true) => {}
            // For a later tree: checked when the mirror holds it.
            Ok(false) => return synced,
            Err(p) => return Outcome::Misbehaved(p),
        }
        if let Err(e) = write_certification(&inner.public, &bytes) {
            return Outcome::CouldNotSync(problem(
                FindingCode::Internal,
                format!(
                    "writing the certification to {}: {e}",
                    inner.public.display()
                ),
            ));
        }
        inner.read.set_certification(bytes);
        synced
    }

    /// Whether `bytes` is the authority's certification of the tree the
    /// mirror holds and of the totals it serves (`Ok(false)`: of another
    /// size, to be checked later).
    fn check_certification(&self, st: &SyncState, bytes: &[u8]) -> Result<bool, Problem> {
        let inner = &self.inner;
        let label = inner.source.label();
        let m = &inner.manifest;
        let sc = SignedCertification::from_bytes(bytes, &m.authority).map_err(|e| {
            problem(
                FindingCode::CertificationInvalid,
                format!(
                    "{label} serves a certification that is not signed by the election authority ({e}); the mirror does not serve it"
                ),
            )
        })?;
        let c = sc.certification();
        if c.election != m.election || c.manifest != Hash::sha256(inner.read.manifest_bytes()) {
            return Err(problem(
                FindingCode::CertificationInvalid,
                format!(
                    "{label} serves a certification of another election or manifest; the mirror does not serve it"
                ),
            ));
        }
        let cp = st.log.checkpoint();
        if c.checkpoint.size != cp.size {
            return Ok(false);
        }
        if c.checkpoint.root != cp.root || c.checkpoint.origin != m.log.origin {
            return Err(problem(
                FindingCode::CertificationUnbound,
                format!(
                    "{label} serves a certification of the tree of size {} with root {}, but the log's checkpoint of that size has root {}",
                    cp.size, c.checkpoint.root, cp.root
                ),
            ));
        }
        let totals = inner.read.totals_bytes();
        if totals.is_empty() {
            return Ok(false);
        }
        if c.totals != Hash::sha256(&totals) {
            return Err(problem(
                FindingCode::CertificationUnbound,
                format!(
                    "{label} serves a certification of other totals than the verified ones of size {}",
                    cp.size
                ),
            ));
        }
        Ok(true)
    }
}
