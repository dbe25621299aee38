//! Published totals (spec/verify.md §4.4).

use super::*;

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
    /// checked source's tiles.
    pub(super) async fn root_at(&mut self, size: u64) -> Option<Hash> {
        let (_, cp) = self.trusted.checkpoint.clone()?;
        if size == cp.checkpoint.size {
            return Some(cp.checkpoint.root);
        }
        if size > cp.checkpoint.size {
            return None;
        }
        let src = self.sources[self.checked_from?].clone();
        let mut cache = TileCache::new();
        crate::follow::implied_root(&src, &mut cache, &cp, size)
            .await
            .ok()
            .map(|(r, _)| r)
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
            let save = |run: &Run<'_>, f: &mut Finding| {
                if let Some(dir) = &run.config.evidence_dir {
                    let name = format!(
                        "{}-{}.totals",
                        f.code,
                        &Hash::sha256(st.as_bytes()).to_hex()[..12]
                    );
                    if write_file(dir, &name, st.as_bytes()) {
                        f.evidence.push(name);
                    }
                }
            };
            if cpref.origin == origin && cpref.size > self.trusted.size() {
                // The log grew between the checkpoint and the totals being
                // read: compare them in a later round (or run again).
                self.reports[i].totals = Some(format!(
                    "not compared (bound to size {}, newer than the tree verified)",
                    cpref.size
                ));
                continue;
            }
            let bound = cpref.origin == origin
                && body.election == self.manifest.manifest().election
                && self.root_at(cpref.size).await == Some(cpref.root);
            if !bound {
                self.reports[i].totals = Some("unbound".to_owned());
                let mut f = Finding::new(FindingCode::TotalsUnbound, format!(
                        "The totals {label} publishes claim to be for the log {} at size {} with root {}, which is not a checkpoint of the log verified here.",
                        cpref.origin, cpref.size, cpref.root
                    ))
                .source(&label);
                save(self, &mut f);
                self.add(f);
                continue;
            }
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
            for d in diffs {
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
                save(self, &mut f);
                self.add(f);
            }
        }
    }
}
