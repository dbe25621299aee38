//! Checkpoints and split views (spec/verify.md §4.2).

use super::*;

impl Run<'_> {
    /// Fetches and opens every source's checkpoint.
    pub(super) async fn fetch_checkpoints(&mut self) -> Vec<Seen> {
        let fetched = join_all(self.sources.iter().map(|s| s.checkpoint())).await;
        let mut seen = Vec::new();
        for (i, r) in fetched.into_iter().enumerate() {
            let label = self.label(i).to_owned();
            match r {
                Err(e) => {
                    self.reports[i].reachable = false;
                    let f = Finding::new(
                        FindingCode::SourceUnreachable,
                        format!("{label} could not be read: {e}."),
                    )
                    .source(&label);
                    self.add(f);
                }
                Ok(bytes) => {
                    self.reports[i].reachable = true;
                    let (cp, bad_witnesses) = match self.open(&bytes) {
                        Ok(opened) => opened,
                        Err(e) => {
                            let f = Finding::new(FindingCode::CheckpointSignature, format!(
                                    "{label} serves a checkpoint that is not validly signed by the log key {} ({e}).",
                                    self.keys.log.name()
                                ))
                            .source(&label);
                            self.add(f);
                            continue;
                        }
                    };
                    for (name, why) in bad_witnesses {
                        let f = Finding::new(FindingCode::WitnessCosignature, format!(
                                "The checkpoint {label} serves (size {}) carries a cosignature line of witness {name} that does not verify ({why}); it is not counted towards the quorum. The log's own signature is valid.",
                                cp.checkpoint.size
                            ))
                        .source(&label);
                        self.add(f);
                    }
                    self.known_sizes.insert(cp.checkpoint.size);
                    self.reports[i].size = Some(cp.checkpoint.size);
                    self.reports[i].root = Some(cp.checkpoint.root.to_hex());
                    self.reports[i].cosigned_by =
                        cp.cosignatures.iter().map(|c| c.name.clone()).collect();
                    let (have, need) = (cp.cosignatures.len(), self.keys.quorum);
                    let quorum_ok = have >= need;
                    if quorum_ok {
                        self.pending_quorum.remove(&i);
                    } else {
                        // Signed by the log: still used for split views.
                        let f = Finding::new(FindingCode::QuorumNotMet, format!(
                                "The checkpoint {label} serves (size {}) is validly cosigned by {have} of the witnesses, the manifest requires {need}.",
                                cp.checkpoint.size
                            ))
                        .source(&label);
                        if self.watching {
                            // Cosignatures may still be arriving: reported
                            // only if it persists.
                            self.pending_quorum.insert(i, f);
                        } else {
                            self.add(f);
                        }
                    }
                    seen.push(Seen {
                        source: i,
                        cp,
                        quorum_ok,
                    });
                }
            }
        }
        seen
    }

    /// Opens a checkpoint with the log key and the witnesses' keys. A
    /// cosignature line of a witness that does not verify (altered,
    /// malformed, or repeated) does not make the checkpoint invalid when
    /// the log's own signature verifies: the checkpoint is opened with the
    /// log's line and the witnesses' valid lines only (which become its
    /// note, so that evidence quoting it re-checks), and each witness whose
    /// line failed is returned by name with the reason. Errors only when
    /// the log's signature (or the checkpoint text) fails.
    pub(super) fn open(
        &self,
        bytes: &[u8],
    ) -> Result<(OpenedCheckpoint, Vec<(String, String)>), CheckpointError> {
        let (log, witnesses) = (&self.keys.log, &self.keys.witnesses);
        let first = match open_checkpoint(bytes, log, witnesses, 0) {
            Ok(cp) => return Ok((cp, Vec::new())),
            Err(e) => e,
        };
        let Some((text, lines)) = split_note(bytes) else {
            return Err(first);
        };
        let named = |name: &str| -> Vec<&[u8]> {
            lines
                .iter()
                .copied()
                .filter(|l| line_name(l) == Some(name.as_bytes()))
                .collect()
        };
        let log_lines = named(log.name());
        // The log's signature alone; on failure the first error stands.
        if open_checkpoint(&join_note(text, &log_lines), log, &[], 0).is_err() {
            return Err(first);
        }
        let mut kept = log_lines.clone();
        let mut bad = Vec::new();
        for w in witnesses {
            let mine = named(w.name());
            if mine.is_empty() || w.name() == log.name() {
                continue;
            }
            let mut with = log_lines.clone();
            with.extend(&mine);
            match open_checkpoint(&join_note(text, &with), log, std::slice::from_ref(w), 0) {
                Ok(_) => kept.extend(mine),
                Err(e) => bad.push((w.name().to_owned(), e.to_string())),
            }
        }
        let cp = open_checkpoint(&join_note(text, &kept), log, witnesses, 0)?;
        Ok((cp, bad))
    }

    pub(super) fn report_split_view(
        &mut self,
        ev: &Evidence,
        a: &str,
        b: &str,
        sizes: ((u64, Hash), (u64, Hash)),
    ) {
        let key = if sizes.0 <= sizes.1 {
            sizes
        } else {
            (sizes.1, sizes.0)
        };
        if !self.split_pairs.insert(key) {
            return;
        }
        let mut f = Finding::new(FindingCode::SplitView, format!(
                "SPLIT VIEW: {a} and {b} show two versions of the log, both signed by the log key. {}",
                ev.summary
            ))
        .source(b);
        if let Some(name) = self.write_evidence(ev) {
            f.evidence.push(name);
        }
        self.add(f);
    }

    /// Pairwise consistency of the checkpoints seen (and the trusted one).
    /// Returns the (size, root) pairs that are in a split view.
    pub(super) async fn check_pairs(&mut self, seen: &[Seen]) -> HashSet<(u64, Hash)> {
        let mut groups: BTreeMap<(u64, Hash), Vec<usize>> = BTreeMap::new();
        for (k, s) in seen.iter().enumerate() {
            groups
                .entry((s.cp.checkpoint.size, s.cp.checkpoint.root))
                .or_default()
                .push(k);
        }
        let keys: Vec<(u64, Hash)> = groups.keys().copied().collect();
        let mut bad = HashSet::new();
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        for i in 0..keys.len() {
            for j in i + 1..keys.len() {
                pairs.push((i, j));
            }
        }
        for (i, j) in pairs {
            let (a, b) = (keys[i], keys[j]);
            let sa = &seen[groups[&a][0]];
            // The larger (or equal) tree is b (BTreeMap order is by size).
            let larger = &seen[groups[&b][0]];
            let la = self.label(sa.source).to_owned();
            let lb = self.label(larger.source).to_owned();
            let src = self.sources[larger.source].clone();
            let r = check_consistency(&self.keys.log, (&la, &sa.cp), &src, &larger.cp).await;
            match r {
                Ok(Consistency::Consistent) => {}
                Ok(Consistency::SplitView(ev)) => {
                    bad.insert(a);
                    bad.insert(b);
                    self.report_split_view(&ev, &la, &lb, (a, b));
                }
                Err(e) => {
                    let f = Finding::new(FindingCode::SourceBadData, format!(
                            "{lb} could not prove that its checkpoint of size {} extends the checkpoint of size {} served by {la}: {e}.",
                            b.0, a.0
                        ))
                    .source(&lb);
                    self.add(f);
                }
            }
        }
        // The tree verified in earlier rounds against every newer checkpoint.
        if let Some((tl, tcp)) = self
            .trusted
            .checkpoint
            .clone()
            .or_else(|| self.verified_cp.clone())
        {
            for s in seen {
                let c = &s.cp.checkpoint;
                if c.size < tcp.checkpoint.size {
                    continue;
                }
                let src = self.sources[s.source].clone();
                let r = check_consistency(&self.keys.log, (&tl, &tcp), &src, &s.cp).await;
                if let Ok(Consistency::SplitView(ev)) = r {
                    bad.insert((c.size, c.root));
                    let lb = src.label().to_owned();
                    self.report_split_view(
                        &ev,
                        &tl,
                        &lb,
                        ((tcp.checkpoint.size, tcp.checkpoint.root), (c.size, c.root)),
                    );
                }
            }
        }
        bad
    }
}

/// A signed note's text (with its final newline) and its signature lines
/// (without newlines), split at the blank line.
fn split_note(bytes: &[u8]) -> Option<(&[u8], Vec<&[u8]>)> {
    let at = bytes.windows(2).position(|w| w == b"\n\n")?;
    let lines = bytes[at + 2..]
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    Some((&bytes[..=at], lines))
}

/// The key name of a signature line (`— <name> <signature>`).
fn line_name(line: &[u8]) -> Option<&[u8]> {
    let rest = line.strip_prefix("\u{2014} ".as_bytes())?;
    rest.split(|&b| b == b' ').next()
}

/// A signed note from its text and signature lines.
fn join_note(text: &[u8], lines: &[&[u8]]) -> Vec<u8> {
    let mut note = text.to_vec();
    note.push(b'\n');
    for l in lines {
        note.extend_from_slice(l);
        note.push(b'\n');
    }
    note
}
