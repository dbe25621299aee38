//! The election authority's certification (spec/verify.md §4.8): read from
//! every source, checked against the authority key, the manifest, the tree
//! verified and the totals served; the results are final only when one
//! binds them.

use tallyboard_core::certification::SignedCertification;
use tallyboard_core::time::format_rfc3339;

use super::*;
use crate::status::{CertificationReport, Stage};

impl Run<'_> {
    /// Reads `/certification` from every source and checks each one served.
    pub(super) async fn check_certification(&mut self) {
        if self.checked_from.is_none() {
            return;
        }
        let fetched = join_all(self.sources.iter().map(|s| s.certification())).await;
        let mut fin: Option<CertificationReport> = None;
        for (i, r) in fetched.into_iter().enumerate() {
            let label = self.label(i).to_owned();
            let bytes = match r {
                Ok(b) => b,
                Err(FetchError::TooLarge { .. }) => {
                    let f = Finding::new(
                        FindingCode::CertificationInvalid,
                        format!("{label} serves a certification over the size limit."),
                    )
                    .source(&label);
                    self.add(f);
                    continue;
                }
                // Not served (not certified yet), or the source is down:
                // already reported by the other checks.
                Err(_) => continue,
            };
            if let Some(c) = self.check_one(&label, &bytes).await
                && fin.is_none()
            {
                fin = Some(c);
            }
        }
        self.status.results = if fin.is_some() {
            Stage::Final
        } else {
            Stage::Provisional
        };
        self.status.certification = fin;
    }

    /// Checks one certification; the report of it when it makes the results
    /// final.
    async fn check_one(&mut self, label: &str, bytes: &[u8]) -> Option<CertificationReport> {
        let m = self.manifest.manifest();
        let invalid = |why: String| {
            Finding::new(
                FindingCode::CertificationInvalid,
                format!("The certification {label} serves is not the election authority's certification of this election: {why}."),
            )
            .source(label)
        };
        let sc = match SignedCertification::from_bytes(bytes, &m.authority) {
            Ok(c) => c,
            Err(e) => {
                let f = invalid(format!("{} ({e})", e.code()));
                self.add(f);
                return None;
            }
        };
        let c = sc.certification();
        if c.election != m.election {
            let f = invalid(format!("it is for the election {}", c.election));
            self.add(f);
            return None;
        }
        if c.manifest != Hash::sha256(self.manifest.as_bytes()) {
            let f = invalid("it names another manifest than the one verified".to_owned());
            self.add(f);
            return None;
        }
        let (size, root) = (self.trusted.size(), self.trusted.root());
        let cp = &c.checkpoint;
        let bound = cp.origin == m.log.origin
            && cp.size <= size
            && self.root_at(cp.size).await.map(|r| r.0) == Some(cp.root);
        if !bound {
            let f = Finding::new(
                FindingCode::CertificationUnbound,
                format!(
                    "The election authority certified the log {} at size {} with root {}, which is not a tree of the log verified here (size {size}, root {root}).",
                    cp.origin, cp.size, cp.root
                ),
            )
            .source(label);
            self.add(f);
            return None;
        }
        if cp.size < size {
            let f = Finding::new(
                FindingCode::EntriesAfterCertification,
                format!(
                    "The election authority certified the tree of size {} as final, and the log holds {} entries after it (size {size}).",
                    cp.size,
                    size - cp.size
                ),
            )
            .source(label);
            self.add(f);
            return None;
        }
        let totals_ok = self.last_totals.iter().any(|&(i, s, h)| {
            s == cp.size
                && h == c.totals
                && self.reports.get(i).and_then(|r| r.totals.as_deref()) == Some("match")
        });
        if !totals_ok {
            let f = Finding::new(
                FindingCode::CertificationUnbound,
                format!(
                    "The election authority certified totals (SHA-256 {}) that no source serves as totals equal to the sum of the entries at size {}.",
                    c.totals, cp.size
                ),
            )
            .source(label);
            self.add(f);
            return None;
        }
        Some(CertificationReport {
            source: label.to_owned(),
            certified_at: format_rfc3339(c.certified_at),
            size: cp.size,
            root: cp.root.to_hex(),
            totals_sha256: c.totals.to_hex(),
        })
    }
}
