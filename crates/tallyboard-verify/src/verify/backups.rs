//! Backup channels (spec/verify.md §4.6): backup tallies, observers' counts
//! and receipts.

use super::*;

impl Run<'_> {
    /// Each backup tally must be in the log as the latest revision of its
    /// unit and contest, byte for byte.
    pub(super) async fn check_backup_tallies(&mut self) {
        let tallies = std::mem::take(&mut self.loaded.tallies);
        for b in &tallies {
            let file = b.path.display().to_string();
            let t = match &b.tally {
                Ok(t) => t,
                Err(why) => {
                    self.notes
                        .push(format!("backup tally {file} was not compared: it {why}"));
                    continue;
                }
            };
            let (unit, contest) = (t.tally().unit.clone(), t.tally().contest.clone());
            let latest = self.checker.latest(&unit, &contest).cloned();
            let in_log = self.checker.revisions().contains(&t.leaf_hash());
            match latest {
                Some(l) if l.tally.as_bytes() == t.as_bytes() => {}
                Some(_)
                    if in_log
                        && t.tally().revision
                            < self
                                .checker
                                .revisions()
                                .latest(&unit, &contest)
                                .map_or(0, |x| x.1) =>
                {
                    self.notes.push(format!(
                        "backup tally {file} (unit {unit}, contest {contest}, revision {}) is in the log and was superseded by a later correction",
                        t.tally().revision
                    ));
                }
                Some(l) => {
                    let lt = l.tally.tally();
                    let mut f = Finding::new(FindingCode::BackupContradictsLog, format!(
                            "The count centre's signed tally {file} for unit {unit}, contest {contest} (revision {}, {} ballots cast) differs from the latest revision in the log (entry {}, revision {}, {} ballots cast).",
                            t.tally().revision, t.tally().ballots_cast, l.index, lt.revision, lt.ballots_cast
                        ))
                    .unit_contest(&unit, &contest)
                    .index(l.index);
                    f.published = Some(serde_json::Value::from(lt.ballots_cast));
                    f.recomputed = Some(serde_json::Value::from(t.tally().ballots_cast));
                    self.backup_evidence(&mut f, t.as_bytes());
                    if let Some(name) = self
                        .entry_evidence(l.index, l.tally.as_bytes(), &f.message.clone())
                        .await
                    {
                        f.evidence.push(name);
                    }
                    self.add(f);
                }
                None => {
                    let mut f = Finding::new(FindingCode::BackupNotInLog, format!(
                            "The count centre's signed tally {file} for unit {unit}, contest {contest} is valid but the log has no tally for that unit and contest."
                        ))
                    .unit_contest(&unit, &contest);
                    self.backup_evidence(&mut f, t.as_bytes());
                    self.add(f);
                }
            }
        }
        self.loaded.tallies = tallies;
    }

    pub(super) fn backup_evidence(&self, f: &mut Finding, bytes: &[u8]) {
        if let Some(dir) = &self.config.evidence_dir {
            let name = format!("{}-{}.tally", f.code, &Hash::sha256(bytes).to_hex()[..12]);
            if write_file(dir, &name, bytes) {
                f.evidence.push(name);
            }
        }
    }

    /// Observers' figures against the latest revision of each unit.
    pub(super) async fn check_observers(&mut self) {
        if let Some((file, malformed)) = self.loaded.observers_malformed.take() {
            for m in malformed {
                let f = Finding::new(
                    FindingCode::ObserverRowMalformed,
                    format!(
                        "Observers' file {file}, line {}: the row cannot be read ({}); it was not compared.",
                        m.line, m.message
                    ),
                )
                .source(&file);
                self.add(f);
            }
        }
        let Some(rows) = self.loaded.observers.take() else {
            return;
        };
        let mut matched = 0u64;
        for r in &rows {
            let latest = self.checker.latest(&r.unit, &r.contest).cloned();
            let logged = latest.as_ref().and_then(|l| {
                let t = l.tally.tally();
                match r.choice.as_str() {
                    c if t.choices.contains_key(c) => t.choices.get(c).copied(),
                    "blank" => Some(t.blank),
                    "invalid" => Some(t.invalid),
                    "ballots_cast" => Some(t.ballots_cast),
                    _ => None,
                }
            });
            if logged == Some(r.count) {
                matched += 1;
                continue;
            }
            let what = match (&latest, logged) {
                (None, _) => "the log has no tally for this unit and contest".to_owned(),
                (Some(_), None) => format!("the log's tally has no figure {:?}", r.choice),
                (Some(l), Some(v)) => format!("the log (entry {}) has {v}", l.index),
            };
            let mut f = Finding::new(
                FindingCode::ObserverMismatch,
                format!(
                    "Observers' sheet, line {}: unit {}, contest {}, {} = {}; {what}.",
                    r.line, r.unit, r.contest, r.choice, r.count
                ),
            )
            .unit_contest(&r.unit, &r.contest);
            f.figure = Some(r.choice.clone());
            f.published = logged.map(serde_json::Value::from);
            f.recomputed = Some(serde_json::Value::from(r.count));
            if let Some(l) = latest {
                f.index = Some(l.index);
                if let Some(name) = self
                    .entry_evidence(l.index, l.tally.as_bytes(), &f.message.clone())
                    .await
                {
                    f.evidence.push(name);
                }
            }
            self.add(f);
        }
        let n = rows.len() as u64;
        self.observers = Some(ObserverReport {
            rows: n,
            matched,
            match_rate: if n == 0 {
                1.0
            } else {
                matched as f64 / n as f64
            },
        });
    }

    /// Each receipt's entry must be in the log at its index, under a
    /// checkpoint consistent with the one verified.
    pub(super) async fn check_receipts(&mut self) {
        let receipts = std::mem::take(&mut self.loaded.receipts);
        let Some((label, cp)) = self.trusted.checkpoint.clone() else {
            return;
        };
        let Some(src_i) = self.checked_from else {
            return;
        };
        let src = self.sources[src_i].clone();
        let (n, root) = (cp.checkpoint.size, cp.checkpoint.root);
        for h in &receipts {
            let file = h.path.display().to_string();
            let invalid = |why: String| {
                Finding::new(
                    FindingCode::ReceiptInvalid,
                    format!("The receipt {file} does not verify: {why}."),
                )
            };
            let r = match &h.receipt {
                Ok(r) => r,
                Err(why) => {
                    self.add(invalid(why.clone()));
                    continue;
                }
            };
            // The entry: the tally beside the receipt, else the log's own.
            let entry = match &h.entry {
                Some(e) => Some(e.clone()),
                None if r.index < n => log_entry(&src, r.index, n).await,
                None => None,
            };
            let Some(entry) = entry else {
                let f = Finding::new(FindingCode::ReceiptNotInLog, format!(
                        "The receipt {file} acknowledges entry {} but the log verified has only {n} entries: an acknowledged tally is missing.",
                        r.index
                    ))
                .index(r.index);
                self.add(f);
                continue;
            };
            let v = match r.verify_with_witnesses(
                &entry,
                &self.keys.log,
                self.keys.log.name(),
                &[],
                0,
            ) {
                Ok(v) => v,
                Err(e) => {
                    let msg = if h.entry.is_none() {
                        format!(
                            "The receipt {file} does not prove the entry the log holds at index {} ({e}): the log's entry differs from the one acknowledged.",
                            r.index
                        )
                    } else {
                        format!("The receipt {file} does not verify for the tally beside it ({e}).")
                    };
                    let code = if h.entry.is_none() {
                        FindingCode::ReceiptNotInLog
                    } else {
                        FindingCode::ReceiptInvalid
                    };
                    let f = Finding::new(code, msg)
                        .severity(Severity::Error)
                        .index(r.index);
                    self.add(f);
                    continue;
                }
            };
            let rc = &v.checkpoint;
            if rc.checkpoint.size > n {
                let f = Finding::new(FindingCode::ReceiptNotInLog, format!(
                        "The receipt {file} is for a checkpoint of size {}, larger than the log verified here (size {n}): the log may have been rolled back.",
                        rc.checkpoint.size
                    ))
                .index(r.index);
                self.add(f);
                continue;
            }
            match check_consistency(&self.keys.log, (&file, rc), &src, &cp).await {
                Ok(Consistency::Consistent) => {}
                Ok(Consistency::SplitView(ev)) => {
                    let sizes = ((rc.checkpoint.size, rc.checkpoint.root), (n, root));
                    self.report_split_view(&ev, &file, &label, sizes);
                    let f = Finding::new(FindingCode::ReceiptNotInLog, format!(
                            "The receipt {file} (entry {}) is under a checkpoint that the log verified does not extend: the acknowledged tally was rewritten.",
                            r.index
                        ))
                    .index(r.index);
                    self.add(f);
                }
                Err(e) => self.notes.push(format!(
                    "receipt {file}: consistency could not be checked: {e}"
                )),
            }
        }
        self.loaded.receipts = receipts;
    }
}

/// The entry at `index` of the tree of size `n` (`index < n`), read from
/// `src`'s bundle (not authenticated here: the receipt's proof checks it).
async fn log_entry(src: &Source, index: u64, n: u64) -> Option<Vec<u8>> {
    let b = tallyboard_core::tile::BundleId::in_tree(index / 256, n)?;
    let bytes = src.bundle(b).await.ok()?;
    let eb = tallyboard_core::tile::EntryBundle::from_bytes(&bytes, b.width()).ok()?;
    eb.entries().get((index % 256) as usize).cloned()
}
