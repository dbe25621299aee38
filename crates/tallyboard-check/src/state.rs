//! The election state built by the log's entries, in log order.

use std::borrow::Borrow;
use std::sync::Arc;

use tallyboard_core::Hash;
use tallyboard_core::manifest::Manifest;
use tallyboard_core::rules::{RevisionIndex, Violation};
use tallyboard_core::totals::{TotalsBody, TotalsBuilder, TotalsError};

use crate::entry::Checked;

/// What became of an entry applied to the [`ElectionState`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// It obeys every rule: it is now the latest revision of its unit and
    /// contest, and counted in the totals.
    Counted,
    /// Not a validly signed tally ([`Checked::Undecodable`] or
    /// [`Checked::BadSignature`]): the state did not change.
    NotATally,
    /// It breaks these rules (the manifest's first, then the log's:
    /// corrections, duplicates): the state did not change.
    Broken(Vec<Violation>),
    /// It obeys every rule and is now the latest revision of its unit and
    /// contest, but the totals could not count it (only a manifest at odds
    /// with its own rules can cause this).
    NotCounted(TotalsError),
}

/// The state of an election after the entries applied so far, in log
/// order: which entries exist and which is the latest revision of each
/// unit and contest (the revision index), and the running totals.
///
/// `M` holds the manifest: `Arc<Manifest>` (the default) for state that
/// lives on its own, `&Manifest` for state borrowed for one run. Cloning is
/// a copy of the revision index and the totals (a few dozen bytes per entry
/// applied).
#[derive(Clone, Debug)]
pub struct ElectionState<M = Arc<Manifest>> {
    manifest: M,
    revisions: RevisionIndex,
    totals: TotalsBuilder<M>,
    applied: u64,
    /// Leaf index and time of count of the counted revision of each
    /// (unit, contest), at `unit * contests + contest` ([`NOT_COUNTED`]
    /// when none).
    counted: Vec<(u64, u64)>,
    /// The latest time of count of any entry counted.
    latest_count: u64,
}

/// A slot of `counted` without a counted tally.
const NOT_COUNTED: (u64, u64) = (u64::MAX, 0);

/// The counted revision of one unit and contest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnitCount<'a> {
    /// Leaf index of the entry.
    pub leaf_index: u64,
    /// Its time of count (POSIX seconds).
    pub counted_at: u64,
    /// Revision, blank, invalid, ballots cast, then each choice's votes in
    /// the contest's order.
    pub figures: &'a [u64],
}

impl<M: Borrow<Manifest> + Clone> ElectionState<M> {
    /// The state of the empty log of `manifest`'s election.
    pub fn new(manifest: M) -> ElectionState<M> {
        let m: &Manifest = manifest.borrow();
        let slots = m.units.len().saturating_mul(m.contests.len());
        let pairs = m.units.iter().map(|u| u.contests.len()).sum();
        ElectionState {
            totals: TotalsBuilder::new(manifest.clone()),
            counted: vec![NOT_COUNTED; slots],
            manifest,
            revisions: RevisionIndex::with_pairs(pairs),
            applied: 0,
            latest_count: 0,
        }
    }

    /// The election's manifest.
    pub fn manifest(&self) -> &Manifest {
        self.manifest.borrow()
    }

    /// Entries applied, whatever became of them (the log size reached when
    /// the state started from the empty log).
    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// The revision index.
    pub fn revisions(&self) -> &RevisionIndex {
        &self.revisions
    }

    /// The totals of the entries counted so far, bound to the checkpoint
    /// (`origin`, `size`, `root`).
    pub fn totals(&self, origin: &str, size: u64, root: Hash) -> TotalsBody {
        self.totals.finish(origin, size, root)
    }

    /// The latest time of count (POSIX seconds) of any entry counted so
    /// far, 0 before the first: the date of the results, from the log.
    pub fn latest_count(&self) -> u64 {
        self.latest_count
    }

    /// The counted revision of unit number `unit` and contest number
    /// `contest` (manifest positions), if the unit has one: its leaf
    /// index (when the state started from the empty log), time of count
    /// and figures.
    pub fn unit_count(&self, unit: usize, contest: usize) -> Option<UnitCount<'_>> {
        let nc = self.manifest().contests.len();
        let &(leaf_index, counted_at) = self.counted.get(unit * nc + contest)?;
        if (leaf_index, counted_at) == NOT_COUNTED {
            return None;
        }
        Some(UnitCount {
            leaf_index,
            counted_at,
            figures: self.totals.unit_figures(unit, contest)?,
        })
    }

    /// Applies the next entry of the log: a tally that obeys every rule
    /// becomes the latest revision of its unit and contest and is counted;
    /// anything else leaves the state as it was. Either way the entry
    /// counts in [`ElectionState::applied`].
    pub fn apply(&mut self, entry: &Checked) -> Outcome {
        self.applied += 1;
        let Checked::Signed(s) = entry else {
            return Outcome::NotATally;
        };
        let t = s.tally.tally();
        let leaf = s.tally.leaf_hash();
        if !s.violations.is_empty() {
            let mut v = s.violations.clone();
            v.extend(self.revisions.check(t, &leaf));
            return Outcome::Broken(v);
        }
        if let Err(v) = self.revisions.apply(t, leaf) {
            return Outcome::Broken(v);
        }
        match self.totals.add(t) {
            Ok(()) => {
                let m: &Manifest = self.manifest.borrow();
                if let (Some(u), Some(c)) = (s.unit, m.contest_index(&t.contest))
                    && let Some(slot) = self.counted.get_mut(u * m.contests.len() + c)
                {
                    *slot = (self.applied - 1, t.counted_at);
                }
                self.latest_count = self.latest_count.max(t.counted_at);
                Outcome::Counted
            }
            Err(e) => Outcome::NotCounted(e),
        }
    }
}
