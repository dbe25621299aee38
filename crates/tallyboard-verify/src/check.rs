//! The verifier's policy for the log's entries: every entry goes through
//! the checking engine (`tallyboard_check`: decoding, the count centre's
//! signature on every core, every tally rule and the correction chains, the
//! totals recomputed from the latest revision of every unit), and what is
//! not counted becomes a finding; the checker goes on to the next entry.
//! It also keeps what the report needs: corrections, the last units to
//! report, the latest revision of watched units, totals at given sizes.
//!
//! Entries arrive in log order from [`crate::follow`] through an
//! [`EntrySender`] ([`run_pipeline`]). Memory: a bounded number of chunks
//! in flight, the revision index (a few dozen bytes per entry) and the
//! totals (one record per reporting unit and contest).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use tallyboard_check::{Checked, ElectionState, Outcome, Signatures};
use tallyboard_core::manifest::Manifest;
use tallyboard_core::time::format_rfc3339;
use tallyboard_core::totals::TotalsBody;
use tallyboard_core::{Hash, RevisionIndex, SignedTally, Tally};

use tallyboard_results::UnitResult;

use crate::codes::FindingCode;
use crate::report::{Correction, Finding};

pub use tallyboard_check::{EntrySender, PipelineStopped};

/// Entries per chunk handed to a worker.
pub const CHUNK: usize = tallyboard_check::CHUNK;

/// Findings listed per code; past it they are only counted.
pub const MAX_LISTED_PER_CODE: usize = 1000;

/// Units listed as the last to report.
pub const LATE_LISTED: usize = 20;

/// A progress callback: entries checked so far.
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

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
    state: ElectionState<&'m Manifest>,
    origin: String,
    checked: u64,
    findings: Vec<EntryFinding>,
    per_code: HashMap<FindingCode, usize>,
    not_listed: BTreeMap<FindingCode, u64>,
    corrections: Vec<Correction>,
    /// The last first-publications by time of count (at most
    /// [`LATE_LISTED`]), as (counted_at, index, unit, contest).
    late: std::collections::BTreeSet<(u64, u64, String, String)>,
    snapshots: BTreeMap<u64, Option<TotalsBody>>,
    watched: HashSet<(String, String)>,
    latest: HashMap<(String, String), Latest>,
    /// Units whose every counted revision is kept (`verify --unit`).
    detailed: HashSet<String>,
    history: Vec<Latest>,
    /// Whether (unit, contest) has a counted tally, at
    /// `unit index * contests + contest index`.
    reported: Vec<bool>,
    progress: Option<Progress>,
    /// Tallies counted since the journal was last taken (the live feed),
    /// when kept.
    journal: Option<Vec<(u64, SignedTally)>>,
}

impl<'m> EntryChecker<'m> {
    /// A checker for the empty log of `manifest`, whose log origin is `origin`.
    pub fn new(manifest: &'m Manifest) -> EntryChecker<'m> {
        EntryChecker {
            manifest,
            state: ElectionState::new(manifest),
            origin: manifest.log.origin.clone(),
            checked: 0,
            findings: Vec::new(),
            per_code: HashMap::new(),
            not_listed: BTreeMap::new(),
            corrections: Vec::new(),
            late: std::collections::BTreeSet::new(),
            snapshots: BTreeMap::new(),
            watched: HashSet::new(),
            latest: HashMap::new(),
            detailed: HashSet::new(),
            history: Vec::new(),
            reported: vec![false; manifest.units.len() * manifest.contests.len()],
            progress: None,
            journal: None,
        }
    }

    /// Keeps every tally that becomes the latest revision of its unit and
    /// contest, with its log index, until [`EntryChecker::take_journal`]
    /// (the live feed's "units reported" and "correction" events).
    pub fn keep_journal(&mut self) {
        self.journal.get_or_insert_with(Vec::new);
    }

    /// The tallies counted since the last call, in log order.
    pub fn take_journal(&mut self) -> Vec<(u64, SignedTally)> {
        self.journal
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
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

    /// Keeps every counted revision of unit `unit`, in log order.
    pub fn detail(&mut self, unit: &str) {
        self.detailed.insert(unit.to_owned());
    }

    /// The counted revisions of the units asked for with
    /// [`EntryChecker::detail`], in log order.
    pub fn history(&self) -> &[Latest] {
        &self.history
    }

    /// The counted revision of every unit and contest that has one: unit
    /// by unit in manifest order, each unit's contests in manifest order.
    pub fn unit_rows(&self) -> Vec<UnitResult> {
        let m = self.manifest;
        let mut out = Vec::new();
        for (ui, u) in m.units.iter().enumerate() {
            let mut cs: Vec<usize> = u
                .contests
                .iter()
                .filter_map(|c| m.contest_index(c))
                .collect();
            cs.sort_unstable();
            for ci in cs {
                if let Some(uc) = self.state.unit_count(ui, ci)
                    && let Some(row) =
                        UnitResult::new(m, ui, ci, uc.leaf_index, uc.counted_at, uc.figures)
                {
                    out.push(row);
                }
            }
        }
        out
    }

    /// The latest time of count of any counted tally (0 when none).
    pub fn as_of(&self) -> u64 {
        self.state.latest_count()
    }

    /// Keeps the recomputed totals at tree size `size` (a source's signed
    /// totals are bound to it).
    pub fn snapshot_at(&mut self, size: u64) {
        if size > self.checked {
            self.snapshots.entry(size).or_insert(None);
        } else if size == self.checked {
            let t = self.state.totals(&self.origin, size, Hash::EMPTY_TREE);
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
        self.state.revisions()
    }

    /// The current recomputed totals, bound to (`size`, `root`).
    pub fn totals(&self, size: u64, root: Hash) -> TotalsBody {
        self.state.totals(&self.origin, size, root)
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
    pub fn take_findings(&mut self) -> (Vec<EntryFinding>, BTreeMap<FindingCode, u64>) {
        (
            std::mem::take(&mut self.findings),
            std::mem::take(&mut self.not_listed),
        )
    }

    fn push(&mut self, f: Finding, entry: Option<(u64, Vec<u8>)>) {
        let n = self.per_code.entry(f.code).or_insert(0);
        *n += 1;
        if *n > MAX_LISTED_PER_CODE {
            *self.not_listed.entry(f.code).or_insert(0) += 1;
            return;
        }
        self.findings.push(EntryFinding { finding: f, entry });
    }

    /// Applies entry `index` (the next in log order), recording a
    /// finding if it is not counted.
    fn apply(&mut self, index: u64, c: Checked) {
        match (self.state.apply(&c), c) {
            (_, Checked::Undecodable { bytes, error }) => {
                let f = Finding::new(
                    FindingCode::BadEntry,
                    format!("Entry {index} of the log is not a valid signed tally ({error})."),
                )
                .index(index);
                self.push(f, Some((index, bytes)));
            }
            (_, Checked::BadSignature(u)) => {
                let t = u.tally();
                let f = Finding::new(
                    FindingCode::BadSignature,
                    format!(
                        "Entry {index} (unit {}, contest {}) carries a signature that does not verify under its signer key: it was forged or altered.",
                        t.unit, t.contest
                    ),
                )
                .unit_contest(&t.unit, &t.contest)
                .index(index);
                let bytes = u.as_bytes().to_vec();
                self.push(f, Some((index, bytes)));
            }
            (Outcome::Broken(violations), Checked::Signed(s)) => {
                let t = s.tally.tally();
                for v in violations {
                    let f = Finding::new(
                        FindingCode::of_violation(&v),
                        format!(
                            "Entry {index} (unit {}, contest {}): {v}. It is left out of the totals.",
                            t.unit, t.contest
                        ),
                    )
                    .unit_contest(&t.unit, &t.contest)
                    .index(index);
                    self.push(f, Some((index, s.tally.as_bytes().to_vec())));
                }
            }
            (outcome, Checked::Signed(s)) => {
                if let Outcome::NotCounted(e) = outcome {
                    let t = s.tally.tally();
                    let f = Finding::new(
                        FindingCode::BadEntry,
                        format!("Entry {index} could not be counted: {e}."),
                    )
                    .unit_contest(&t.unit, &t.contest)
                    .index(index);
                    self.push(f, Some((index, s.tally.as_bytes().to_vec())));
                }
                self.record(index, s.unit, s.tally);
            }
        }
        self.checked = index + 1;
        if let Some(slot) = self.snapshots.get_mut(&self.checked)
            && slot.is_none()
        {
            *slot = Some(
                self.state
                    .totals(&self.origin, self.checked, Hash::EMPTY_TREE),
            );
        }
        if let Some(p) = &self.progress
            && self.checked.is_multiple_of(4096)
        {
            p(self.checked);
        }
    }

    /// Keeps what the report says about a tally now the latest revision of
    /// its unit and contest: first publications by time of count,
    /// corrections, units reporting, watched pairs.
    fn record(&mut self, index: u64, unit: Option<usize>, st: SignedTally) {
        let t: &Tally = st.tally();
        if t.supersedes.is_none() {
            let late = &mut self.late;
            let later = late.first().is_none_or(|f| t.counted_at > f.0);
            if late.len() < LATE_LISTED || later {
                late.insert((t.counted_at, index, t.unit.clone(), t.contest.clone()));
                if late.len() > LATE_LISTED {
                    late.pop_first();
                }
            }
        } else {
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
        let m = self.manifest;
        if let (Some(u), Some(c)) = (unit, m.contest_index(&t.contest))
            && let Some(r) = self.reported.get_mut(u * m.contests.len() + c)
        {
            *r = true;
        }
        if !self.detailed.is_empty() && self.detailed.contains(&t.unit) {
            self.history.push(Latest {
                index,
                tally: st.clone(),
            });
        }
        if let Some(j) = self.journal.as_mut() {
            j.push((index, st.clone()));
        }
        if !self.watched.is_empty() {
            let key = (t.unit.clone(), t.contest.clone());
            if self.watched.contains(&key) {
                self.latest.insert(key, Latest { index, tally: st });
            }
        }
    }
}

/// Runs `drive` (which feeds entries, in log order, to the sender it is
/// given) while `threads` workers decode and verify signatures and one
/// thread applies the results to `checker` in log order. Returns what
/// `drive` returns, once every entry it fed is applied.
pub fn run_pipeline<R>(
    checker: &mut EntryChecker<'_>,
    threads: usize,
    drive: impl FnOnce(&mut EntrySender<Vec<u8>>) -> R,
) -> R {
    let manifest = checker.manifest;
    tallyboard_check::run_pipeline(
        manifest,
        Signatures::Verify,
        threads,
        |index, c| checker.apply(index, c),
        drive,
    )
}
