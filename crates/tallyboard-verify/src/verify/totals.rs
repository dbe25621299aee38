//! Published totals (spec/verify.md §4.4).

use super::*;
use crate::evidence::TotalsFigure;

impl Run<'_> {
    /// Every source's `/totals`, parsed and signature-checked.
    pub(super) async fn fetch_totals(&mut self) -> Vec<Option<(usize, SignedTotals)>> {
        let fetched = join_all(self.sources.iter().map(|s| s.totals())).await;
        let mut out = Vec::new();
        for (i, r) in fetched.into_iter().enumerate() {
            let label = self.label(i).to_owned();
            // Totals over their size cap are invalid totals like any that
            // do not decode (spec/verify.md §4.4); the reason names the code.
            let parsed = match r {
                Err(FetchError::NotFound { .. }) => {
                    self.reports[i].totals = Some("not served".to_owned());
                    out.push(None);
                    continue;
                }
                Err(e @ FetchError::TooLarge { .. }) => Err(format!("oversized: {e}")),
                Err(_) => {
                    out.push(None);
                    continue;
                }
                Ok(bytes) => SignedTotals::from_bytes(&bytes, self.keys.log.public_key())
                    .map_err(|e| format!("{}: {e}", e.code())),
            };
            match parsed {
                Ok(t) => out.push(Some((i, t))),
                Err(why) => {
                    self.reports[i].totals = Some("invalid".to_owned());
                    let f = Finding::new(
                        FindingCode::TotalsSignature,
                        format!("The totals {label} publishes are not valid totals signed by the log key ({why})."),
                    )
                    .source(&label);
                    self.add(f);
                    out.push(None);
                }
            }
        }
        out
    }

    /// The root of the checked tree at `size` (≤ its size), read from the
    /// checked source's tiles, with its consistency proof to the checked
    /// tree's checkpoint.
    pub(super) async fn root_at(&mut self, size: u64) -> Option<(Hash, Vec<Hash>)> {
        let (_, cp) = self.trusted.checkpoint.clone()?;
        if size == cp.checkpoint.size {
            return Some((cp.checkpoint.root, Vec::new()));
        }
        if size > cp.checkpoint.size {
            return None;
        }
        let src = self.sources[self.checked_from?].clone();
        let mut cache = TileCache::new();
        crate::follow::implied_root(&src, &mut cache, &cp, size)
            .await
            .ok()
    }

    /// Writes the evidence of totals that differ (`differences`) or are
    /// not bound to the tree (none), and names it in `f`.
    fn save_totals_evidence(
        &self,
        f: &mut Finding,
        (source, st): (&str, &SignedTotals),
        implied: &(Hash, Vec<Hash>),
        differences: Vec<TotalsFigure>,
    ) {
        let Some((cp_source, cp)) = &self.trusted.checkpoint else {
            return;
        };
        let ev = Evidence::totals(
            &self.keys.log,
            (cp_source, cp),
            source,
            st.as_bytes(),
            (implied.0, &implied.1),
            differences,
            f.message.clone(),
        );
        if let Some(name) = self.write_evidence(&ev) {
            f.evidence.push(name);
        }
    }

    pub(super) async fn compare_totals(&mut self, totals: &[Option<(usize, SignedTotals)>]) {
        let origin = self.keys.log.name().to_owned();
        if self.checked_from.is_none() {
            if totals.iter().any(Option::is_some) {
                self.notes.push(
                    "the published totals were not compared: no tree of the log could be verified"
                        .to_owned(),
                );
            }
            return;
        }
        for (i, st) in totals.iter().flatten() {
            let i = *i;
            let label = self.label(i).to_owned();
            let body = st.totals();
            let cpref = &body.checkpoint;
            if cpref.origin == origin && cpref.size > self.trusted.size() {
                // The log grew between the checkpoint and the totals being
                // read: compare them in a later round (or run again).
                self.reports[i].totals = Some(format!(
                    "not compared (bound to size {}, newer than the tree verified)",
                    cpref.size
                ));
                continue;
            }
            let implied = if cpref.origin == origin {
                self.root_at(cpref.size).await
            } else {
                None
            };
            let bound = cpref.origin == origin
                && body.election == self.manifest.manifest().election
                && implied.as_ref().map(|i| i.0) == Some(cpref.root);
            if !bound {
                self.reports[i].totals = Some("unbound".to_owned());
                let mut f = Finding::new(FindingCode::TotalsUnbound, format!(
                        "The totals {label} publishes claim to be for the log {} at size {} with root {}, which is not a checkpoint of the log verified here.",
                        cpref.origin, cpref.size, cpref.root
                    ))
                .source(&label);
                // Evidence when the tree shows the root differs (another
                // election's totals bound to this tree prove nothing the
                // log key alone can check).
                if let Some(i) = implied.as_ref().filter(|i| i.0 != cpref.root) {
                    self.save_totals_evidence(&mut f, (&label, st), i, Vec::new());
                }
                self.add(f);
                continue;
            }
            let Some(implied) = implied else {
                continue;
            };
            let Some(recomputed) = self.checker.snapshot(cpref.size).cloned() else {
                self.reports[i].totals =
                    Some("not compared (older than the trusted tree)".to_owned());
                continue;
            };
            let diffs = diff(body, &recomputed);
            if diffs.is_empty() {
                self.reports[i].totals = Some("match".to_owned());
                continue;
            }
            self.reports[i].totals = Some(format!("{} figures differ", diffs.len()));
            let figures: Vec<TotalsFigure> = diffs
                .iter()
                .map(|d| TotalsFigure {
                    contest: d.contest.clone(),
                    region: d.region.clone(),
                    figure: d.figure.clone(),
                    published: d.published,
                    recomputed: d.recomputed,
                })
                .collect();
            for (d, figure) in diffs.into_iter().zip(figures) {
                let show = |v: Option<u64>| v.map(serde_json::Value::from);
                let mut f = Finding::new(
                    FindingCode::TotalsMismatch,
                    format!(
                        "The totals published by {label} (at size {}) are wrong: {d}.",
                        cpref.size
                    ),
                )
                .source(&label);
                f.contest = Some(d.contest.clone());
                f.region = d.region.clone();
                f.figure = Some(d.figure.clone());
                f.published = show(d.published);
                f.recomputed = show(d.recomputed);
                self.save_totals_evidence(&mut f, (&label, st), &implied, vec![figure]);
                self.add(f);
            }
        }
    }
}

impl Run<'_> {
    /// Links each totals-mismatch finding to the first finding about an
    /// entry left out of the totals for the same contest, from a unit that
    /// counts in the row's region (spec/verify.md §5.1): the published
    /// totals that differ follow from it.
    pub(super) fn link_causes(&self, findings: &mut [Finding]) {
        let m = self.manifest.manifest();
        let causes: Vec<(u64, String, usize)> = findings
            .iter()
            .filter(|f| f.code.leaves_entry_out())
            .filter_map(|f| {
                let unit = m.unit_index(f.unit.as_deref()?)?;
                Some((f.index?, f.contest.clone()?, unit))
            })
            .collect();
        if causes.is_empty() {
            return;
        }
        for f in findings
            .iter_mut()
            .filter(|f| f.code == FindingCode::TotalsMismatch)
        {
            let region = f.region.as_deref().and_then(|r| m.region_index(r));
            if f.region.is_some() && region.is_none() {
                continue;
            }
            f.cause_index = causes
                .iter()
                .find(|(_, contest, unit)| {
                    Some(contest) == f.contest.as_ref()
                        && region
                            .is_none_or(|r| m.unit_regions(*unit).iter().any(|&x| x as usize == r))
                })
                .map(|c| c.0);
        }
    }
}
