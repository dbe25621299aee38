//! The target and the full check (spec/verify.md §4.3): following each
//! source's data, checking every entry, and the evidence of entries.

use super::*;

impl Run<'_> {
    /// Follows `s` from the trusted tree with every entry checked. False if
    /// the source's data is bad (then the checker is reset, so that another
    /// source can be tried from the start).
    pub(super) async fn full_check(&mut self, s: &Seen) -> bool {
        let source = self.sources[s.source].clone();
        let key = self.keys.log.clone();
        let trusted = self.trusted.clone();
        let opts = FollowOptions {
            concurrency: self.config.concurrency,
        };
        let total = s.cp.checkpoint.size;
        if let Some(p) = &self.config.progress {
            p(self.checker.checked(), total);
        }
        let started = std::time::Instant::now();
        let mut recomputed = Recomputed::new();
        // The entries are checked on threads of their own while this
        // thread drives the fetches: it leaves the runtime's workers to the
        // other tasks meanwhile (which is why a multi-threaded runtime is
        // required).
        let handle = tokio::runtime::Handle::current();
        let (checker, threads) = (&mut self.checker, self.config.threads);
        let r = tokio::task::block_in_place(|| {
            run_pipeline(checker, threads, |sender| {
                handle.block_on(follow(
                    &source,
                    &key,
                    &trusted,
                    &s.cp,
                    &opts,
                    |item| match item {
                        Item::Entry { index, bytes } => sender.push(index, bytes),
                        Item::Tile { id, tile } => {
                            recomputed.add(id, tile);
                            Ok(())
                        }
                        Item::Bundle { .. } => Ok(()),
                    },
                ))
            })
        });
        if let Some(p) = &self.config.progress {
            p(self.checker.checked(), total);
        }
        self.check_seconds += started.elapsed().as_secs_f64();
        match r {
            Ok(builder) => {
                self.trusted = Trusted {
                    builder,
                    checkpoint: Some((source.label().to_owned(), s.cp.clone())),
                };
                self.checked_from = Some(s.source);
                self.source_state[s.source] = self.trusted.clone();
                self.reports[s.source].data_verified = true;
                self.collect_entry_findings(s.source).await;
                self.check_tiles(s, &recomputed).await;
                true
            }
            Err(e) => {
                self.follow_failed(s.source, e);
                // Entries of a source whose data is bad prove nothing about
                // the log: start again from the empty tree (another source
                // of this round, or the next round), keeping the checkpoint
                // verified before for the split-view checks.
                let mut fresh = EntryChecker::new(self.manifest.manifest());
                if let Some(p) = &self.config.progress {
                    let p = Arc::clone(p);
                    fresh.set_progress(Arc::new(move |n| p(n, 0)));
                }
                for (u, c) in self.watched_pairs() {
                    fresh.watch(&u, &c);
                }
                if self.config.feed {
                    fresh.keep_journal();
                }
                self.checker = fresh;
                if self.trusted.checkpoint.is_some() {
                    self.verified_cp = self.trusted.checkpoint.clone();
                }
                self.trusted = Trusted::empty();
                self.checked_from = None;
                false
            }
        }
    }

    pub(super) fn watched_pairs(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .loaded
            .tallies
            .iter()
            .filter_map(|b| b.tally.as_ref().ok())
            .map(|t| (t.tally().unit.clone(), t.tally().contest.clone()))
            .collect();
        v.extend(
            self.loaded
                .observers
                .iter()
                .flatten()
                .map(|r| (r.unit.clone(), r.contest.clone())),
        );
        v
    }

    pub(super) async fn hash_check(&mut self, s: &Seen) {
        let state = self.source_state[s.source].clone();
        if s.cp.checkpoint.size < state.size() {
            return;
        }
        let source = self.sources[s.source].clone();
        let opts = FollowOptions {
            concurrency: self.config.concurrency,
        };
        let mut recomputed = Recomputed::new();
        let r = follow(&source, &self.keys.log, &state, &s.cp, &opts, |item| {
            if let Item::Tile { id, tile } = item {
                recomputed.add(id, tile);
            }
            Ok::<(), std::convert::Infallible>(())
        })
        .await;
        match r {
            Ok(builder) => {
                self.source_state[s.source] = Trusted {
                    builder,
                    checkpoint: Some((source.label().to_owned(), s.cp.clone())),
                };
                self.reports[s.source].data_verified = true;
                self.check_tiles(s, &recomputed).await;
            }
            Err(e) => self.follow_failed(s.source, e),
        }
    }

    pub(super) fn follow_failed<E: std::error::Error + 'static>(
        &mut self,
        i: usize,
        e: FollowError<E>,
    ) {
        let label = self.label(i).to_owned();
        self.reports[i].data_verified = false;
        match e {
            FollowError::Fetch { error, .. } => {
                let code = if error.is_unreachable() {
                    FindingCode::SourceUnreachable
                } else {
                    FindingCode::SourceBadData
                };
                let f = Finding::new(
                    code,
                    format!("{label} did not serve the log's data: {error}."),
                )
                .source(&label);
                self.add(f);
            }
            FollowError::SplitView(ev) => {
                let a = match &ev.body {
                    crate::evidence::EvidenceBody::SplitView(sv) => sv.first.source.clone(),
                    _ => String::new(),
                };
                self.report_split_view(
                    &ev,
                    &a,
                    &label,
                    ((0, Hash::EMPTY_TREE), (0, Hash::EMPTY_TREE)),
                );
            }
            FollowError::BadData(ev) => {
                let mut f =
                    Finding::new(FindingCode::SourceBadData, ev.summary.clone()).source(&label);
                if let Some(name) = self.write_evidence(&ev) {
                    f.evidence.push(name);
                }
                self.add(f);
            }
            other => {
                let f =
                    Finding::new(FindingCode::SourceBadData, format!("{other}.")).source(&label);
                self.add(f);
            }
        }
    }

    /// Log-entry evidence for entry `index` (inclusion proof read from the
    /// checked source's tiles).
    pub(super) async fn entry_evidence(
        &mut self,
        index: u64,
        bytes: &[u8],
        summary: &str,
    ) -> Option<String> {
        self.config.evidence_dir.as_ref()?;
        if self.entry_evidence >= MAX_ENTRY_EVIDENCE {
            return None;
        }
        let (label, cp) = self.trusted.checkpoint.clone()?;
        let src = self.sources[self.checked_from?].clone();
        let mut cache = TileCache::new();
        let (n, root) = (cp.checkpoint.size, cp.checkpoint.root);
        let proof = src
            .read_tiles(&mut cache, n, root, |r| prove_inclusion(n, index, r))
            .await
            .ok()?;
        let ev = Evidence::log_entry(
            &self.keys.log,
            &label,
            &cp,
            index,
            bytes,
            &proof,
            summary.to_owned(),
        );
        self.entry_evidence += 1;
        self.write_evidence(&ev)
    }

    pub(super) async fn collect_entry_findings(&mut self, _source: usize) {
        let (found, not_listed) = self.checker.take_findings();
        for (code, n) in not_listed {
            *self.ledger.not_listed.entry(code).or_insert(0) += n;
        }
        for EntryFinding { mut finding, entry } in found {
            if let Some((index, bytes)) = entry
                && let Some(name) = self.entry_evidence(index, &bytes, &finding.message).await
            {
                finding.evidence.push(name);
            }
            self.add(finding);
        }
    }

    /// Compares the tiles source `s` serves for its checkpoint (whose
    /// entries were just verified to hash to it) with the `recomputed`
    /// ones, and its older partial tiles and bundles, of the sizes of the
    /// checkpoints seen so far, with their current tiles (spec/verify.md
    /// §2.2). A difference is `source-bad-data`: the source's tiles would
    /// give clients false proofs.
    pub(super) async fn check_tiles(&mut self, s: &Seen, recomputed: &Recomputed) {
        let n = s.cp.checkpoint.size;
        let older: BTreeSet<u64> = self
            .known_sizes
            .iter()
            .copied()
            .filter(|&m| m < n && !self.older_checked.contains(&(s.source, m)))
            .collect();
        let source = self.sources[s.source].clone();
        let check = check_served_tiles(
            &source,
            &self.keys.log,
            &s.cp,
            recomputed,
            &older,
            self.config.concurrency,
        )
        .await;
        self.older_checked
            .extend(older.into_iter().map(|m| (s.source, m)));
        let label = source.label().to_owned();
        if let Some(error) = check.fetch_error {
            self.follow_failed(
                s.source,
                FollowError::<std::convert::Infallible>::Fetch {
                    source_label: label.clone(),
                    error,
                },
            );
        }
        for fault in check.faults {
            self.reports[s.source].data_verified = false;
            let mut f = Finding::new(FindingCode::SourceBadData, fault.message).source(&label);
            if let Some(name) = fault.evidence.and_then(|ev| self.write_evidence(&ev)) {
                f.evidence.push(name);
            }
            self.add(f);
        }
    }
}
