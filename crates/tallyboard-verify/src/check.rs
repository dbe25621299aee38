//! Checking every entry of the log: decoding, the count centre's signature
//! (in batches, on every core), every tally rule and the correction chains,
//! and the totals recomputed from the latest revision of every unit.
//!
//! Entries arrive in log order from [`crate::follow`] through an
//! [`EntrySender`]; worker threads decode and verify signatures a chunk at a
//! time, and one thread applies the log-order rules ([`RevisionIndex`]) and
//! the totals ([`TotalsBuilder`]) in order. Memory: a bounded number of
//! chunks in flight, the revision index (a few dozen bytes per entry) and
//! the totals (one record per reporting unit and contest).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use tallyboard_core::keys::{BatchVerifier, Context};
use tallyboard_core::manifest::Manifest;
use tallyboard_core::rules::{Violation, check_tally};
use tallyboard_core::time::format_rfc3339;
use tallyboard_core::totals::TotalsBody;
use tallyboard_core::{
    Hash, RevisionIndex, SignedTally, TallyError, TotalsBuilder, UnverifiedTally,
};

use crate::report::{Correction, Finding, Severity};

/// Entries per chunk handed to a worker.
pub const CHUNK: usize = 512;

/// Findings listed per code; past it they are only counted.
pub const MAX_LISTED_PER_CODE: usize = 1000;

/// Units listed as the last to report.
pub const LATE_LISTED: usize = 20;

/// A progress callback: entries checked so far.
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

/// What to do about a finding, by code.
pub fn advice(code: &str) -> &'static str {
    match code {
        "split-view" => {
            "The log showed different histories to different readers. Keep the evidence file, alert the election authority, the witnesses and the press, and do not trust any result until the authority explains it."
        }
        "manifest-mismatch" => {
            "Sources disagree on the election definition. Check with the election authority which manifest it signed and published; trust only that one."
        }
        "checkpoint-signature" => {
            "This source serves a checkpoint the log key did not sign. Do not use the source; report it to its operator."
        }
        "quorum-not-met" => {
            "Not enough independent witnesses cosigned the checkpoint. Wait a few minutes and run again; if it persists, ask the witnesses' operators."
        }
        "source-unreachable" => {
            "Check the address and your connection, and run again. Other sources were checked without it."
        }
        "source-stale" => {
            "This source is behind the others. Often it is only slow to update; run again later. If it stays behind, tell its operator."
        }
        "source-bad-data" => {
            "This source serves data that does not match the log's signed checkpoint. Do not use it; send the evidence file to its operator and the election authority."
        }
        "bad-entry" => {
            "The log holds an entry that is not a valid signed tally. Send the evidence to the election authority: the server should never have accepted it."
        }
        "bad-signature" => {
            "The tally's signature does not verify: it was forged or altered after signing. Ask the count centre for its signed copy and give the evidence to the election authority."
        }
        "totals-mismatch" => {
            "The published totals differ from the sum of the signed tallies. Rely on the recomputed figure and give the evidence to the election authority."
        }
        "totals-signature" => {
            "The published totals are not signed by the log key. Do not rely on them; use the recomputed totals."
        }
        "totals-unbound" => {
            "The published totals are not tied to a checkpoint of this log. Do not rely on them; use the recomputed totals."
        }
        "backup-not-in-log" => {
            "A count centre's signed tally is missing from the log. Ask the election authority why it was not published."
        }
        "backup-contradicts-log" => {
            "The count centre's own signed copy differs from what the log holds as the unit's latest result. Ask the centre which is right and give both to the election authority."
        }
        "observer-mismatch" => {
            "An observer's copy of the posted sheet differs from the log. Re-check the paper sheet at the polling station and compare with the count centre."
        }
        "receipt-invalid" => {
            "The receipt does not verify. Ask the count centre to resubmit the tally and keep the new receipt."
        }
        "receipt-not-in-log" => {
            "The log does not hold the entry this receipt proves. Give the receipt to the election authority: an acknowledged tally must never disappear."
        }
        "units-missing" => {
            "These units have not reported yet. On election night this is normal; afterwards, ask the count centres responsible."
        }
        "signer-not-responsible"
        | "unknown-signer"
        | "key-revoked"
        | "key-expired"
        | "key-not-yet-valid" => {
            "The tally was signed by a key that may not sign for this unit at that time. Ask the responsible count centre for its signed result; the figure is left out of the totals."
        }
        _ => {
            "The tally breaks a rule of the election and is left out of the totals. Ask the count centre responsible to check the sheet and submit a correction."
        }
    }
}

fn rule_severity(code: &str) -> Severity {
    match code {
        "signer-not-responsible"
        | "unknown-signer"
        | "key-revoked"
        | "key-expired"
        | "key-not-yet-valid"
        | "wrong-election" => Severity::Critical,
        _ => Severity::Error,
    }
}

/// A finding about one entry, with the entry's bytes for the evidence.
#[derive(Clone, Debug)]
pub struct EntryFinding {
    /// The finding.
    pub finding: Finding,
    /// The log index and the entry bytes.
    pub entry: Option<(u64, Vec<u8>)>,
}

/// The latest revision of a (unit, contest) the caller asked to watch.
#[derive(Clone, Debug)]
pub struct Latest {
    /// Log index.
    pub index: u64,
    /// The signed tally.
    pub tally: SignedTally,
}

/// The state of the entry checks, carried from one checkpoint to the next.
pub struct EntryChecker<'m> {
    manifest: &'m Manifest,
    origin: String,
    revisions: RevisionIndex,
    totals: TotalsBuilder<'m>,
    checked: u64,
    findings: Vec<EntryFinding>,
    per_code: HashMap<String, usize>,
    not_listed: BTreeMap<String, u64>,
    corrections: Vec<Correction>,
    /// The last first-publications by time of count (at most
    /// [`LATE_LISTED`]), as (counted_at, index, unit, contest).
    late: std::collections::BTreeSet<(u64, u64, String, String)>,
    snapshots: BTreeMap<u64, Option<TotalsBody>>,
    watched: HashSet<(String, String)>,
    latest: HashMap<(String, String), Latest>,
    /// Whether (unit, contest) has a counted tally, at
    /// `unit index * contests + contest index`.
    reported: Vec<bool>,
    progress: Option<Progress>,
}

impl<'m> EntryChecker<'m> {
    /// A checker for the empty log of `manifest`, whose log origin is `origin`.
    pub fn new(manifest: &'m Manifest) -> EntryChecker<'m> {
        EntryChecker {
            manifest,
            origin: manifest.log.origin.clone(),
            revisions: RevisionIndex::new(),
            totals: TotalsBuilder::new(manifest),
            checked: 0,
            findings: Vec::new(),
            per_code: HashMap::new(),
            not_listed: BTreeMap::new(),
            corrections: Vec::new(),
            late: std::collections::BTreeSet::new(),
            snapshots: BTreeMap::new(),
            watched: HashSet::new(),
            latest: HashMap::new(),
            reported: vec![false; manifest.units.len() * manifest.contests.len()],
            progress: None,
        }
    }

    /// Whether unit `unit` (manifest index) has a counted tally for contest
    /// `contest` (manifest index).
    pub fn is_reported(&self, unit: usize, contest: usize) -> bool {
        self.reported
            .get(unit * self.manifest.contests.len() + contest)
            .copied()
            .unwrap_or(false)
    }

    /// Reports progress (entries checked) through `p`.
    pub fn set_progress(&mut self, p: Progress) {
        self.progress = Some(p);
    }

    /// Keeps the latest revision of (unit, contest) for backup checks.
    pub fn watch(&mut self, unit: &str, contest: &str) {
        self.watched.insert((unit.to_owned(), contest.to_owned()));
    }

    /// Keeps the recomputed totals at tree size `size` (a source's signed
    /// totals are bound to it).
    pub fn snapshot_at(&mut self, size: u64) {
        if size > self.checked {
            self.snapshots.entry(size).or_insert(None);
        } else if size == self.checked {
            let t = self.totals.finish(&self.origin, size, Hash::EMPTY_TREE);
            self.snapshots.insert(size, Some(t));
        }
    }

    /// The recomputed totals at `size`, if kept (root left empty: compare
    /// rows with [`tallyboard_core::totals::diff`]).
    pub fn snapshot(&self, size: u64) -> Option<&TotalsBody> {
        self.snapshots.get(&size).and_then(Option::as_ref)
    }

    /// Entries checked so far (the tree size reached).
    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// The revision index.
    pub fn revisions(&self) -> &RevisionIndex {
        &self.revisions
    }

    /// The current recomputed totals, bound to (`size`, `root`).
    pub fn totals(&self, size: u64, root: Hash) -> TotalsBody {
        self.totals.finish(&self.origin, size, root)
    }

    /// The latest revisions of watched (unit, contest) pairs.
    pub fn latest(&self, unit: &str, contest: &str) -> Option<&Latest> {
        self.latest.get(&(unit.to_owned(), contest.to_owned()))
    }

    /// The last units to report (first publications with the latest times
    /// of count), latest first: (counted_at, index, unit, contest).
    pub fn late(&self) -> Vec<(u64, u64, String, String)> {
        self.late.iter().rev().cloned().collect()
    }

    /// Every correction seen, in log order.
    pub fn corrections(&self) -> &[Correction] {
        &self.corrections
    }

    /// Takes the findings collected since the last call, and the counts of
    /// those not listed.
    pub fn take_findings(&mut self) -> (Vec<EntryFinding>, BTreeMap<String, u64>) {
        (
            std::mem::take(&mut self.findings),
            std::mem::take(&mut self.not_listed),
        )
    }

    fn push(&mut self, f: Finding, entry: Option<(u64, Vec<u8>)>) {
        let n = self.per_code.entry(f.code.clone()).or_insert(0);
        *n += 1;
        if *n > MAX_LISTED_PER_CODE {
            *self.not_listed.entry(f.code).or_insert(0) += 1;
            return;
        }
        self.findings.push(EntryFinding { finding: f, entry });
    }

    fn apply(&mut self, c: Checked) {
        let index = c.index;
        match c.result {
            Outcome::Undecodable { bytes, error } => {
                let f = Finding::new(
                    "bad-entry",
                    Severity::Critical,
                    format!("Entry {index} of the log is not a valid signed tally ({error})."),
                    advice("bad-entry"),
                )
                .index(index);
                self.push(f, Some((index, bytes)));
            }
            Outcome::BadSignature(u) => {
                let t = u.tally();
                let f = Finding::new(
                    "bad-signature",
                    Severity::Critical,
                    format!(
                        "Entry {index} (unit {}, contest {}) carries a signature that does not verify under its signer key: it was forged or altered.",
                        t.unit, t.contest
                    ),
                    advice("bad-signature"),
                )
                .unit_contest(&t.unit, &t.contest)
                .index(index);
                let bytes = u.as_bytes().to_vec();
                self.push(f, Some((index, bytes)));
            }
            Outcome::Signed(st, mut violations) => {
                let leaf = st.leaf_hash();
                let t = st.tally();
                // check_tally ran on the worker; the log-order rules run here
                // (together they are rules::check_all).
                violations.extend(self.revisions.check(t, &leaf));
                if violations.is_empty() {
                    if let Err(v) = self.revisions.apply(t, leaf) {
                        // check_all and apply agree; keep the rule text if not.
                        for v in v {
                            let code = v.code();
                            let f = Finding::new(
                                code,
                                rule_severity(code),
                                format!("Entry {index}: {v}."),
                                advice(code),
                            )
                            .unit_contest(&t.unit, &t.contest)
                            .index(index);
                            self.push(f, Some((index, st.as_bytes().to_vec())));
                        }
                    } else {
                        if let Err(e) = self.totals.add(t) {
                            let f = Finding::new(
                                "bad-entry",
                                Severity::Critical,
                                format!("Entry {index} could not be counted: {e}."),
                                advice("bad-entry"),
                            )
                            .unit_contest(&t.unit, &t.contest)
                            .index(index);
                            self.push(f, Some((index, st.as_bytes().to_vec())));
                        }
                        if t.supersedes.is_none() {
                            let late = &mut self.late;
                            let later = late.first().is_none_or(|f| t.counted_at > f.0);
                            if late.len() < LATE_LISTED || later {
                                late.insert((
                                    t.counted_at,
                                    index,
                                    t.unit.clone(),
                                    t.contest.clone(),
                                ));
                                if late.len() > LATE_LISTED {
                                    late.pop_first();
                                }
                            }
                        }
                        if t.supersedes.is_some() {
                            self.corrections.push(Correction {
                                unit: t.unit.clone(),
                                contest: t.contest.clone(),
                                index,
                                revision: t.revision,
                                supersedes: t.supersedes.map(|h| h.to_hex()).unwrap_or_default(),
                                reason: t.reason.clone().unwrap_or_default(),
                                counted_at: format_rfc3339(t.counted_at),
                            });
                        }
                        if let (Some(u), Some(c)) = (
                            self.manifest.unit_index(&t.unit),
                            self.manifest.contest_index(&t.contest),
                        ) && let Some(r) =
                            self.reported.get_mut(u * self.manifest.contests.len() + c)
                        {
                            *r = true;
                        }
                        if !self.watched.is_empty() {
                            let key = (t.unit.clone(), t.contest.clone());
                            if self.watched.contains(&key) {
                                self.latest.insert(key, Latest { index, tally: st });
                            }
                        }
                    }
                } else {
                    for v in violations {
                        let code = v.code();
                        let f = Finding::new(
                            code,
                            rule_severity(code),
                            format!(
                                "Entry {index} (unit {}, contest {}): {v}. It is left out of the totals.",
                                t.unit, t.contest
                            ),
                            advice(code),
                        )
                        .unit_contest(&t.unit, &t.contest)
                        .index(index);
                        self.push(f, Some((index, st.as_bytes().to_vec())));
                    }
                }
            }
        }
        self.checked = index + 1;
        if let Some(slot) = self.snapshots.get_mut(&self.checked)
            && slot.is_none()
        {
            *slot = Some(
                self.totals
                    .finish(&self.origin, self.checked, Hash::EMPTY_TREE),
            );
        }
        if let Some(p) = &self.progress
            && self.checked.is_multiple_of(4096)
        {
            p(self.checked);
        }
    }
}

enum Outcome {
    Undecodable {
        bytes: Vec<u8>,
        error: TallyError,
    },
    BadSignature(UnverifiedTally),
    /// Signature verified; the violations of the rules that do not depend
    /// on the log (`check_tally`), computed on the worker.
    Signed(SignedTally, Vec<Violation>),
}

struct Checked {
    index: u64,
    result: Outcome,
}

/// An entry decoded (signature not yet checked), or its bytes and why not.
type Decoded = Result<UnverifiedTally, (Vec<u8>, TallyError)>;

/// A chunk of entries: its sequence number and (index, bytes) pairs.
type Chunk = (u64, Vec<(u64, Vec<u8>)>);

/// Decodes a chunk and verifies its signatures (strictly; one by one for
/// the ones a failed batch names).
fn check_chunk(
    manifest: &Manifest,
    verifier: &mut BatchVerifier,
    chunk: Vec<(u64, Vec<u8>)>,
) -> Vec<Checked> {
    let mut decoded: Vec<(u64, Decoded)> = Vec::with_capacity(chunk.len());
    for (index, bytes) in chunk {
        match UnverifiedTally::from_bytes_in(&bytes, manifest) {
            Ok(u) => {
                let (key, body, sig) = u.signature_parts();
                verifier.push(key, Context::Tally, body, sig);
                decoded.push((index, Ok(u)));
            }
            Err(e) => decoded.push((index, Err((bytes, e)))),
        }
    }
    let bad: HashSet<usize> = match verifier.verify() {
        Ok(()) => HashSet::new(),
        Err(f) => f.bad.into_iter().collect(),
    };
    let mut k = 0usize;
    decoded
        .into_iter()
        .map(|(index, r)| {
            let result = match r {
                Err((bytes, error)) => Outcome::Undecodable { bytes, error },
                Ok(u) => {
                    let i = k;
                    k += 1;
                    if bad.contains(&i) {
                        Outcome::BadSignature(u)
                    } else {
                        let st = u.verified_by_batch();
                        let v = check_tally(manifest, st.tally());
                        Outcome::Signed(st, v)
                    }
                }
            };
            Checked { index, result }
        })
        .collect()
}

/// Where [`crate::follow`]'s sink puts entries: buffered into chunks for
/// the workers of [`run_pipeline`].
pub struct EntrySender {
    tx: Option<SyncSender<Chunk>>,
    buf: Vec<(u64, Vec<u8>)>,
    seq: u64,
}

/// The checking threads stopped (a worker panicked).
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
#[error("the entry-checking threads stopped")]
pub struct PipelineStopped;

impl EntrySender {
    /// Queues one entry (in log order).
    pub fn push(&mut self, index: u64, bytes: &[u8]) -> Result<(), PipelineStopped> {
        self.buf.push((index, bytes.to_vec()));
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), PipelineStopped> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        let tx = self.tx.as_ref().ok_or(PipelineStopped)?;
        tx.send((self.seq, chunk)).map_err(|_| PipelineStopped)?;
        self.seq += 1;
        Ok(())
    }
}

/// Runs `drive` (which feeds entries, in log order, to the sender it is
/// given) while `threads` workers decode and verify signatures and one
/// thread applies the results to `checker` in log order. Returns what
/// `drive` returns, once every entry it fed is applied.
pub fn run_pipeline<R>(
    checker: &mut EntryChecker<'_>,
    threads: usize,
    drive: impl FnOnce(&mut EntrySender) -> R,
) -> R {
    let threads = threads.max(1);
    let manifest = checker.manifest;
    std::thread::scope(|s| {
        let (chunk_tx, chunk_rx) = sync_channel::<Chunk>(threads * 2);
        let chunk_rx = Arc::new(Mutex::new(chunk_rx));
        let (res_tx, res_rx) = sync_channel::<(u64, Vec<Checked>)>(threads * 2);
        for _ in 0..threads {
            let rx = Arc::clone(&chunk_rx);
            let tx = res_tx.clone();
            s.spawn(move || {
                let mut verifier = BatchVerifier::new();
                loop {
                    let next = match rx.lock() {
                        Ok(guard) => guard.recv(),
                        Err(_) => return,
                    };
                    let Ok((seq, chunk)) = next else { return };
                    let out = check_chunk(manifest, &mut verifier, chunk);
                    if tx.send((seq, out)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(res_tx);
        let applier = s.spawn(move || apply_in_order(checker, res_rx));
        let mut sender = EntrySender {
            tx: Some(chunk_tx),
            buf: Vec::with_capacity(CHUNK),
            seq: 0,
        };
        let r = drive(&mut sender);
        let _ = sender.flush();
        sender.tx = None;
        drop(sender);
        let _ = applier.join();
        r
    })
}

fn apply_in_order(checker: &mut EntryChecker<'_>, rx: Receiver<(u64, Vec<Checked>)>) {
    let mut next = 0u64;
    let mut waiting: BTreeMap<u64, Vec<Checked>> = BTreeMap::new();
    while let Ok((seq, out)) = rx.recv() {
        waiting.insert(seq, out);
        while let Some(out) = waiting.remove(&next) {
            for c in out {
                checker.apply(c);
            }
            next += 1;
        }
    }
}
