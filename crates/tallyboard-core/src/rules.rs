//! The rules a tally must satisfy: one implementation used by the signing
//! tool, the publication server and the verifier alike.
//!
//! - [`check_tally`]: rules that depend on the manifest and the tally alone
//!   (who may sign, which contest and choices, arithmetic, revisions).
//! - [`check_correction`]: rules that depend on the log (what a correction
//!   supersedes, revision numbering).
//! - [`RevisionIndex`]: the per-(unit, contest) state of a log, fed entry by
//!   entry, that answers [`check_correction`]'s questions.
//!
//! Every rule broken is reported, each as a [`Violation`] with a stable
//! kebab-case [`Violation::code`] and a message that names the unit and the
//! contest in words a count-centre official understands.

use std::collections::HashMap;
use std::hash::{BuildHasher as _, RandomState};

use hashbrown::HashTable;

use crate::hash::Hash;
use crate::manifest::Manifest;
use crate::tally::Tally;

/// A broken rule. The unit and contest are those the tally names.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// The tally is for another election than the manifest's.
    WrongElection {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
        /// The tally's election id.
        got: String,
        /// The manifest's election id.
        expected: String,
    },
    /// The unit is not in the manifest.
    UnknownUnit {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
    },
    /// The contest is not in the manifest.
    UnknownContest {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
    },
    /// The unit does not take part in the contest.
    ContestNotInUnit {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
    },
    /// A choice is not one of the contest's.
    UnknownChoice {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
        /// The unknown choice.
        choice: String,
    },
    /// A choice of the contest has no count (write 0 for no votes).
    MissingChoice {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
        /// The missing choice.
        choice: String,
    },
    /// Choice votes + blank + invalid differ from ballots cast.
    ArithmeticMismatch {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
        /// Sum of the choice votes.
        choice_votes: u64,
        /// Blank ballots.
        blank: u64,
        /// Invalid ballots.
        invalid: u64,
        /// Ballots cast, as stated.
        ballots_cast: u64,
    },
    /// The sum of the counts does not fit in 64 bits.
    CountOverflow {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
    },
    /// More ballots cast than registered voters.
    BallotsExceedRegistered {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
        /// Ballots cast.
        ballots_cast: u64,
        /// Registered voters of the unit.
        registered: u64,
    },
    /// The signing key is not in the manifest.
    UnknownSigner {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
        /// The key, hex.
        key: String,
    },
    /// The signing key belongs to another count centre than the unit's.
    SignerNotResponsible {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
        /// Centre the key belongs to.
        key_centre: String,
        /// Centre responsible for the unit.
        unit_centre: String,
    },
    /// The tally was counted before the key's window opened.
    KeyNotYetValid {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
        /// The tally's counted_at.
        counted_at: u64,
        /// The key's valid_from.
        valid_from: u64,
    },
    /// The tally was counted at or after the end of the key's window.
    KeyExpired {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
        /// The tally's counted_at.
        counted_at: u64,
        /// The key's valid_until.
        valid_until: u64,
    },
    /// The tally was counted at or after the key's revocation.
    KeyRevoked {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
        /// The tally's counted_at.
        counted_at: u64,
        /// The key's revoked_at.
        revoked_at: u64,
    },
    /// Revision 0 does not exist; the first publication is revision 1.
    RevisionZero {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
    },
    /// A correction (revision > 1) without a reason.
    CorrectionWithoutReason {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
    },
    /// A reason on a first publication (revision 1).
    ReasonWithoutCorrection {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
    },
    /// A correction (revision > 1) that does not name the entry it
    /// supersedes.
    CorrectionWithoutSupersedes {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
    },
    /// A first publication (revision 1) that names an entry to supersede.
    SupersedesWithoutCorrection {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
    },
    /// The superseded entry is not in the log.
    SupersedesUnknownEntry {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
        /// The leaf hash named.
        supersedes: Hash,
    },
    /// The superseded entry is another unit's.
    SupersedesOtherUnit {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
        /// The superseded entry's unit.
        other_unit: String,
    },
    /// The superseded entry is for another contest.
    SupersedesOtherContest {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
        /// The superseded entry's contest.
        other_contest: String,
    },
    /// The revision is not one more than the superseded entry's.
    RevisionNotNext {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
        /// The tally's revision.
        revision: u64,
        /// The revision it must have.
        expected: u64,
    },
    /// The superseded entry is not the latest revision.
    SupersedesStaleRevision {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
        /// Revision of the superseded entry.
        superseded: u64,
        /// Latest revision in the log.
        latest: u64,
    },
    /// A first publication for a unit and contest that already has one.
    FirstRevisionExists {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
        /// Latest revision in the log.
        latest: u64,
    },
    /// The very same entry is already in the log.
    DuplicateEntry {
        /// Unit named by the tally.
        unit: String,
        /// Contest named by the tally.
        contest: String,
    },
}

impl Violation {
    /// Stable kebab-case code of the rule broken.
    pub fn code(&self) -> &'static str {
        match self {
            Violation::WrongElection { .. } => "wrong-election",
            Violation::UnknownUnit { .. } => "unknown-unit",
            Violation::UnknownContest { .. } => "unknown-contest",
            Violation::ContestNotInUnit { .. } => "contest-not-in-unit",
            Violation::UnknownChoice { .. } => "unknown-choice",
            Violation::MissingChoice { .. } => "missing-choice",
            Violation::ArithmeticMismatch { .. } => "arithmetic-mismatch",
            Violation::CountOverflow { .. } => "count-overflow",
            Violation::BallotsExceedRegistered { .. } => "ballots-exceed-registered",
            Violation::UnknownSigner { .. } => "unknown-signer",
            Violation::SignerNotResponsible { .. } => "signer-not-responsible",
            Violation::KeyNotYetValid { .. } => "key-not-yet-valid",
            Violation::KeyExpired { .. } => "key-expired",
            Violation::KeyRevoked { .. } => "key-revoked",
            Violation::RevisionZero { .. } => "revision-zero",
            Violation::CorrectionWithoutReason { .. } => "correction-without-reason",
            Violation::ReasonWithoutCorrection { .. } => "reason-without-correction",
            Violation::CorrectionWithoutSupersedes { .. } => "correction-without-supersedes",
            Violation::SupersedesWithoutCorrection { .. } => "supersedes-without-correction",
            Violation::SupersedesUnknownEntry { .. } => "supersedes-unknown-entry",
            Violation::SupersedesOtherUnit { .. } => "supersedes-other-unit",
            Violation::SupersedesOtherContest { .. } => "supersedes-other-contest",
            Violation::RevisionNotNext { .. } => "revision-not-next",
            Violation::SupersedesStaleRevision { .. } => "supersedes-stale-revision",
            Violation::FirstRevisionExists { .. } => "first-revision-exists",
            Violation::DuplicateEntry { .. } => "duplicate-entry",
        }
    }

    /// The unit and contest the tally names.
    pub fn unit_and_contest(&self) -> (&str, &str) {
        match self {
            Violation::WrongElection { unit, contest, .. }
            | Violation::UnknownUnit { unit, contest }
            | Violation::UnknownContest { unit, contest }
            | Violation::ContestNotInUnit { unit, contest }
            | Violation::UnknownChoice { unit, contest, .. }
            | Violation::MissingChoice { unit, contest, .. }
            | Violation::ArithmeticMismatch { unit, contest, .. }
            | Violation::CountOverflow { unit, contest }
            | Violation::BallotsExceedRegistered { unit, contest, .. }
            | Violation::UnknownSigner { unit, contest, .. }
            | Violation::SignerNotResponsible { unit, contest, .. }
            | Violation::KeyNotYetValid { unit, contest, .. }
            | Violation::KeyExpired { unit, contest, .. }
            | Violation::KeyRevoked { unit, contest, .. }
            | Violation::RevisionZero { unit, contest }
            | Violation::CorrectionWithoutReason { unit, contest }
            | Violation::ReasonWithoutCorrection { unit, contest }
            | Violation::CorrectionWithoutSupersedes { unit, contest }
            | Violation::SupersedesWithoutCorrection { unit, contest }
            | Violation::SupersedesUnknownEntry { unit, contest, .. }
            | Violation::SupersedesOtherUnit { unit, contest, .. }
            | Violation::SupersedesOtherContest { unit, contest, .. }
            | Violation::RevisionNotNext { unit, contest, .. }
            | Violation::SupersedesStaleRevision { unit, contest, .. }
            | Violation::FirstRevisionExists { unit, contest, .. }
            | Violation::DuplicateEntry { unit, contest } => (unit, contest),
        }
    }
}

impl core::fmt::Display for Violation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (unit, contest) = self.unit_and_contest();
        write!(f, "unit {unit} contest {contest}: ")?;
        match self {
            Violation::WrongElection { got, expected, .. } => write!(
                f,
                "the tally is for election {got}, but this is election {expected}"
            ),
            Violation::UnknownUnit { .. } => {
                f.write_str("this reporting unit is not in the election manifest")
            }
            Violation::UnknownContest { .. } => {
                f.write_str("this contest is not in the election manifest")
            }
            Violation::ContestNotInUnit { .. } => {
                f.write_str("this reporting unit does not take part in this contest")
            }
            Violation::UnknownChoice { choice, .. } => {
                write!(f, "choice {choice} is not on this contest's ballot")
            }
            Violation::MissingChoice { choice, .. } => write!(
                f,
                "choice {choice} has no count (write 0 if it received no votes)"
            ),
            Violation::ArithmeticMismatch {
                choice_votes,
                blank,
                invalid,
                ballots_cast,
                ..
            } => write!(
                f,
                "choice votes {choice_votes} + blank {blank} + invalid {invalid} = {}, but \
                 ballots cast says {ballots_cast}",
                u128::from(*choice_votes) + u128::from(*blank) + u128::from(*invalid)
            ),
            Violation::CountOverflow { .. } => {
                f.write_str("the counts are too large to add up (over 2^64)")
            }
            Violation::BallotsExceedRegistered {
                ballots_cast,
                registered,
                ..
            } => write!(
                f,
                "ballots cast {ballots_cast} is more than the {registered} registered voters"
            ),
            Violation::UnknownSigner { key, .. } => write!(
                f,
                "the tally is signed with key {key}, which the manifest does not list"
            ),
            Violation::SignerNotResponsible {
                key_centre,
                unit_centre,
                ..
            } => write!(
                f,
                "the tally is signed with a key of count centre {key_centre}, but count \
                 centre {unit_centre} is responsible for this unit"
            ),
            Violation::KeyNotYetValid {
                counted_at,
                valid_from,
                ..
            } => write!(
                f,
                "counted at {}, before the signing key became valid at {}",
                crate::time::format_rfc3339(*counted_at),
                crate::time::format_rfc3339(*valid_from)
            ),
            Violation::KeyExpired {
                counted_at,
                valid_until,
                ..
            } => write!(
                f,
                "counted at {}, when the signing key had expired (valid until {})",
                crate::time::format_rfc3339(*counted_at),
                crate::time::format_rfc3339(*valid_until)
            ),
            Violation::KeyRevoked {
                counted_at,
                revoked_at,
                ..
            } => write!(
                f,
                "counted at {}, when the signing key had been revoked (revoked at {})",
                crate::time::format_rfc3339(*counted_at),
                crate::time::format_rfc3339(*revoked_at)
            ),
            Violation::RevisionZero { .. } => {
                f.write_str("revision 0 does not exist; the first publication is revision 1")
            }
            Violation::CorrectionWithoutReason { .. } => {
                f.write_str("a correction must give a reason")
            }
            Violation::ReasonWithoutCorrection { .. } => {
                f.write_str("a first publication (revision 1) must not carry a reason")
            }
            Violation::CorrectionWithoutSupersedes { .. } => {
                f.write_str("a correction must name the entry it corrects")
            }
            Violation::SupersedesWithoutCorrection { .. } => {
                f.write_str("a first publication (revision 1) must not name an entry to correct")
            }
            Violation::SupersedesUnknownEntry { supersedes, .. } => {
                write!(f, "the corrected entry {supersedes} is not in the log")
            }
            Violation::SupersedesOtherUnit { other_unit, .. } => write!(
                f,
                "the corrected entry is the tally of another unit, {other_unit}"
            ),
            Violation::SupersedesOtherContest { other_contest, .. } => write!(
                f,
                "the corrected entry is the tally of another contest, {other_contest}"
            ),
            Violation::RevisionNotNext {
                revision, expected, ..
            } => write!(
                f,
                "revision {revision} should be {expected} (one more than the corrected entry)"
            ),
            Violation::SupersedesStaleRevision {
                superseded, latest, ..
            } => write!(
                f,
                "the correction replaces revision {superseded}, but the latest published \
                 revision is {latest}"
            ),
            Violation::FirstRevisionExists { latest, .. } => write!(
                f,
                "a tally is already published (revision {latest}); send a correction instead"
            ),
            Violation::DuplicateEntry { .. } => {
                f.write_str("this exact tally is already in the log")
            }
        }
    }
}

/// The violations `v` in words, one after the other (`; ` between them).
pub fn describe_violations(v: &[Violation]) -> String {
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Checks every rule that depends on the manifest and the tally alone and
/// returns every violation found (empty: the tally passes).
pub fn check_tally(manifest: &Manifest, tally: &Tally) -> Vec<Violation> {
    let mut v = Vec::new();
    let unit = || tally.unit.clone();
    let contest = || tally.contest.clone();

    if tally.election != manifest.election {
        v.push(Violation::WrongElection {
            unit: unit(),
            contest: contest(),
            got: tally.election.clone(),
            expected: manifest.election.clone(),
        });
    }

    let unit_ix = manifest.unit_index(&tally.unit);
    let the_unit = unit_ix.and_then(|i| manifest.units.get(i));
    if the_unit.is_none() {
        v.push(Violation::UnknownUnit {
            unit: unit(),
            contest: contest(),
        });
    }
    match manifest.contest_index(&tally.contest) {
        None => v.push(Violation::UnknownContest {
            unit: unit(),
            contest: contest(),
        }),
        Some(ci) => {
            if let Some(u) = the_unit
                && !u.contests.contains(&tally.contest)
            {
                v.push(Violation::ContestNotInUnit {
                    unit: unit(),
                    contest: contest(),
                });
            }
            for choice in tally.choices.keys() {
                if manifest.choice_index(ci, choice).is_none() {
                    v.push(Violation::UnknownChoice {
                        unit: unit(),
                        contest: contest(),
                        choice: choice.clone(),
                    });
                }
            }
            if let Some(c) = manifest.contests.get(ci) {
                for ch in &c.choices {
                    if !tally.choices.contains_key(&ch.id) {
                        v.push(Violation::MissingChoice {
                            unit: unit(),
                            contest: contest(),
                            choice: ch.id.clone(),
                        });
                    }
                }
            }
        }
    }

    // Arithmetic, with checked sums.
    let choice_votes = tally
        .choices
        .values()
        .try_fold(0u64, |acc, &n| acc.checked_add(n));
    let total = choice_votes
        .and_then(|s| s.checked_add(tally.blank))
        .and_then(|s| s.checked_add(tally.invalid));
    match (choice_votes, total) {
        (Some(choice_votes), Some(total)) => {
            if total != tally.ballots_cast {
                v.push(Violation::ArithmeticMismatch {
                    unit: unit(),
                    contest: contest(),
                    choice_votes,
                    blank: tally.blank,
                    invalid: tally.invalid,
                    ballots_cast: tally.ballots_cast,
                });
            }
        }
        _ => v.push(Violation::CountOverflow {
            unit: unit(),
            contest: contest(),
        }),
    }
    if let Some(u) = the_unit
        && tally.ballots_cast > u.registered
    {
        v.push(Violation::BallotsExceedRegistered {
            unit: unit(),
            contest: contest(),
            ballots_cast: tally.ballots_cast,
            registered: u.registered,
        });
    }

    // The signer.
    match manifest.key(&tally.signer) {
        None => v.push(Violation::UnknownSigner {
            unit: unit(),
            contest: contest(),
            key: tally.signer.to_hex(),
        }),
        Some((centre, key)) => {
            if let Some(u) = the_unit
                && centre.id != u.centre
            {
                v.push(Violation::SignerNotResponsible {
                    unit: unit(),
                    contest: contest(),
                    key_centre: centre.id.clone(),
                    unit_centre: u.centre.clone(),
                });
            }
            if tally.counted_at < key.valid_from {
                v.push(Violation::KeyNotYetValid {
                    unit: unit(),
                    contest: contest(),
                    counted_at: tally.counted_at,
                    valid_from: key.valid_from,
                });
            }
            if tally.counted_at >= key.valid_until {
                v.push(Violation::KeyExpired {
                    unit: unit(),
                    contest: contest(),
                    counted_at: tally.counted_at,
                    valid_until: key.valid_until,
                });
            }
            if let Some(r) = key.revoked_at
                && tally.counted_at >= r
            {
                v.push(Violation::KeyRevoked {
                    unit: unit(),
                    contest: contest(),
                    counted_at: tally.counted_at,
                    revoked_at: r,
                });
            }
        }
    }

    // Revision fields.
    if tally.revision == 0 {
        v.push(Violation::RevisionZero {
            unit: unit(),
            contest: contest(),
        });
    }
    let correction = tally.revision > 1;
    match (correction, tally.reason.is_some()) {
        (true, false) => v.push(Violation::CorrectionWithoutReason {
            unit: unit(),
            contest: contest(),
        }),
        (false, true) => v.push(Violation::ReasonWithoutCorrection {
            unit: unit(),
            contest: contest(),
        }),
        _ => {}
    }
    match (correction, tally.supersedes.is_some()) {
        (true, false) => v.push(Violation::CorrectionWithoutSupersedes {
            unit: unit(),
            contest: contest(),
        }),
        (false, true) => v.push(Violation::SupersedesWithoutCorrection {
            unit: unit(),
            contest: contest(),
        }),
        _ => {}
    }
    v
}

/// Every rule at once, for a tally about to be appended to a log whose
/// state is `index`: [`check_tally`] followed by [`RevisionIndex::check`].
/// Empty: the tally may be appended (then call [`RevisionIndex::apply`]).
pub fn check_all(
    manifest: &Manifest,
    index: &RevisionIndex,
    tally: &Tally,
    leaf: &Hash,
) -> Vec<Violation> {
    let mut v = check_tally(manifest, tally);
    v.extend(index.check(tally, leaf));
    v
}

/// What the log-dependent rules need to know about an entry already in the
/// log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRef<'a> {
    /// The entry's unit.
    pub unit: &'a str,
    /// The entry's contest.
    pub contest: &'a str,
    /// The entry's revision.
    pub revision: u64,
    /// The entry's leaf hash.
    pub leaf: Hash,
}

impl<'a> EntryRef<'a> {
    /// The reference of `tally`, whose entry has leaf hash `leaf`.
    pub fn of(tally: &'a Tally, leaf: Hash) -> EntryRef<'a> {
        EntryRef {
            unit: &tally.unit,
            contest: &tally.contest,
            revision: tally.revision,
            leaf,
        }
    }
}

/// Checks the rules that depend on the log. `latest` is the latest entry
/// of the log for the tally's (unit, contest), if any; `superseded` is the
/// log entry whose leaf hash the tally's `supersedes` names, if the tally
/// names one and the log has it. Returns every violation found.
pub fn check_correction(
    latest: Option<EntryRef<'_>>,
    superseded: Option<EntryRef<'_>>,
    tally: &Tally,
) -> Vec<Violation> {
    let mut v = Vec::new();
    let unit = || tally.unit.clone();
    let contest = || tally.contest.clone();
    match tally.supersedes {
        None => {
            if let Some(l) = latest {
                v.push(Violation::FirstRevisionExists {
                    unit: unit(),
                    contest: contest(),
                    latest: l.revision,
                });
            }
        }
        Some(h) => match superseded.filter(|s| s.leaf == h) {
            None => v.push(Violation::SupersedesUnknownEntry {
                unit: unit(),
                contest: contest(),
                supersedes: h,
            }),
            Some(s) => {
                if s.unit != tally.unit {
                    v.push(Violation::SupersedesOtherUnit {
                        unit: unit(),
                        contest: contest(),
                        other_unit: s.unit.to_string(),
                    });
                }
                if s.contest != tally.contest {
                    v.push(Violation::SupersedesOtherContest {
                        unit: unit(),
                        contest: contest(),
                        other_contest: s.contest.to_string(),
                    });
                }
                if s.unit == tally.unit
                    && s.contest == tally.contest
                    && let Some(l) = latest
                    && l.leaf != s.leaf
                {
                    v.push(Violation::SupersedesStaleRevision {
                        unit: unit(),
                        contest: contest(),
                        superseded: s.revision,
                        latest: l.revision,
                    });
                }
                let expected = s.revision.saturating_add(1);
                if tally.revision != expected {
                    v.push(Violation::RevisionNotNext {
                        unit: unit(),
                        contest: contest(),
                        revision: tally.revision,
                        expected,
                    });
                }
            }
        },
    }
    v
}

/// Compact record of one accepted entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    leaf: [u8; 32],
    unit: u32,
    contest: u32,
    revision: u64,
}

/// Interns unit and contest ids so that per-entry state is a few integers.
#[derive(Debug, Clone, Default)]
struct Interner {
    ids: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Interner {
    fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.into());
        self.ids.insert(s.into(), i);
        i
    }

    fn name(&self, i: u32) -> &str {
        self.names.get(i as usize).map_or("", |n| n)
    }
}

/// The log-dependent state of every (unit, contest): which entries exist,
/// which is the latest revision. Fed entry by entry in log order by the
/// server (before sequencing a submission) and by the verifier (while
/// reading the log). Apply only tallies that pass [`check_tally`]: a
/// tally that violates any rule is not accepted and must not change the
/// state. Memory: about 70 bytes per accepted entry (its record, its
/// place in the table by leaf hash) and 17 to 34 per (unit, contest):
/// 4,000,000 entries of 1,000,000 units take about 400 MB.
#[derive(Debug, Clone, Default)]
pub struct RevisionIndex {
    units: Interner,
    contests: Interner,
    /// Every accepted entry, in the order applied.
    entries: Vec<Entry>,
    /// Positions in `entries`, found by leaf hash.
    by_leaf: HashTable<usize>,
    hasher: RandomState,
    /// The position in `entries` of the latest entry of each (unit,
    /// contest).
    latest: HashMap<(u32, u32), usize>,
}

impl RevisionIndex {
    /// An empty index (an empty log).
    pub fn new() -> RevisionIndex {
        RevisionIndex::default()
    }

    /// An empty index with room for `pairs` (unit, contest) pairs: the
    /// table of the latest entries is not grown (and for a moment held
    /// twice) while a log is read.
    pub fn with_pairs(pairs: usize) -> RevisionIndex {
        RevisionIndex {
            latest: HashMap::with_capacity(pairs),
            ..RevisionIndex::default()
        }
    }

    fn position(&self, leaf: &[u8; 32]) -> Option<usize> {
        let h = self.hasher.hash_one(leaf);
        self.by_leaf
            .find(h, |&i| self.entries.get(i).is_some_and(|e| e.leaf == *leaf))
            .copied()
    }

    /// Number of entries applied.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no entry has been applied.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether the entry with this leaf hash has been applied (the server
    /// answers a resubmission of it with the existing receipt).
    pub fn contains(&self, leaf: &Hash) -> bool {
        self.position(&leaf.0).is_some()
    }

    fn entry_ref(&self, position: usize) -> Option<EntryRef<'_>> {
        let e = self.entries.get(position)?;
        Some(EntryRef {
            unit: self.units.name(e.unit),
            contest: self.contests.name(e.contest),
            revision: e.revision,
            leaf: Hash(e.leaf),
        })
    }

    /// The latest entry for (unit, contest): its leaf hash and revision.
    pub fn latest(&self, unit: &str, contest: &str) -> Option<(Hash, u64)> {
        let u = self.units.get(unit)?;
        let c = self.contests.get(contest)?;
        let e = self.entries.get(*self.latest.get(&(u, c))?)?;
        Some((Hash(e.leaf), e.revision))
    }

    /// The log-dependent violations `tally` (entry leaf hash `leaf`) would
    /// have if appended now: [`check_correction`] against this state, plus
    /// `duplicate-entry` if the entry is already in the log.
    pub fn check(&self, tally: &Tally, leaf: &Hash) -> Vec<Violation> {
        if self.contains(leaf) {
            return vec![Violation::DuplicateEntry {
                unit: tally.unit.clone(),
                contest: tally.contest.clone(),
            }];
        }
        let latest = self
            .units
            .get(&tally.unit)
            .zip(self.contests.get(&tally.contest))
            .and_then(|k| self.latest.get(&k))
            .and_then(|&l| self.entry_ref(l));
        let superseded = tally
            .supersedes
            .and_then(|h| self.entry_ref(self.position(&h.0)?));
        check_correction(latest, superseded, tally)
    }

    /// Checks `tally` like [`RevisionIndex::check`] and, if it passes,
    /// records it as the latest entry of its (unit, contest). On violations
    /// nothing changes.
    pub fn apply(&mut self, tally: &Tally, leaf: Hash) -> Result<(), Vec<Violation>> {
        let v = self.check(tally, &leaf);
        if !v.is_empty() {
            return Err(v);
        }
        let unit = self.units.intern(&tally.unit);
        let contest = self.contests.intern(&tally.contest);
        let position = self.entries.len();
        self.entries.push(Entry {
            leaf: leaf.0,
            unit,
            contest,
            revision: tally.revision,
        });
        let (entries, hasher) = (&self.entries, &self.hasher);
        self.by_leaf
            .insert_unique(hasher.hash_one(leaf.0), position, |&i| {
                entries.get(i).map_or(0, |e| hasher.hash_one(e.leaf))
            });
        self.latest.insert((unit, contest), position);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::tests::{key, sample};
    use crate::manifest::{Centre, CentreKey, Choice, Contest, ManifestBody};

    fn manifest_with(f: impl FnOnce(&mut ManifestBody)) -> Manifest {
        let mut b = sample();
        b.contests.push(Contest {
            id: "senate".into(),
            title: "Senate".into(),
            choices: vec![Choice {
                id: "carol".into(),
                name: "Carol".into(),
            }],
        });
        b.units[1].contests.push("senate".into());
        b.centres.push(Centre {
            id: "C2".into(),
            name: "Centre 2".into(),
            keys: vec![CentreKey {
                key: key(2).public_key(),
                valid_from: 1_000,
                valid_until: 2_000,
                revoked_at: Some(1_500),
            }],
        });
        f(&mut b);
        b.validate().unwrap()
    }

    fn good() -> Tally {
        Tally::new(
            "general-2026",
            "mayor",
            "P-017",
            [("alice", 500u64), ("bob", 312)],
            9,
            4,
            825,
            1_200,
            key(1).public_key(),
        )
    }

    fn codes(v: &[Violation]) -> Vec<&'static str> {
        v.iter().map(Violation::code).collect()
    }

    #[test]
    fn a_correct_tally_passes() {
        assert_eq!(check_tally(&manifest_with(|_| {}), &good()), []);
    }

    #[test]
    fn arithmetic_mismatch_is_explained_in_plain_words() {
        let mut t = good();
        t.ballots_cast = 830;
        let v = check_tally(&manifest_with(|_| {}), &t);
        assert_eq!(codes(&v), ["arithmetic-mismatch"]);
        assert_eq!(
            v[0].to_string(),
            "unit P-017 contest mayor: choice votes 812 + blank 9 + invalid 4 = 825, but \
             ballots cast says 830"
        );
    }

    #[test]
    fn reports_every_violation_at_once() {
        let mut t = good();
        t.election = "other-2026".into();
        t.choices.remove("bob");
        t.choices.insert("mallory".into(), 312);
        t.ballots_cast = 1_001;
        t.blank = 185;
        let v = check_tally(&manifest_with(|_| {}), &t);
        assert_eq!(
            codes(&v),
            [
                "wrong-election",
                "unknown-choice",
                "missing-choice",
                "ballots-exceed-registered"
            ]
        );
        for x in &v {
            assert!(
                x.to_string().starts_with("unit P-017 contest mayor: "),
                "{x}"
            );
        }
    }

    #[test]
    fn unknown_unit_contest_and_contest_not_in_unit() {
        let m = manifest_with(|_| {});
        let mut t = good();
        t.unit = "P-999".into();
        assert_eq!(codes(&check_tally(&m, &t)), ["unknown-unit"]);
        let mut t = good();
        t.contest = "governor".into();
        assert_eq!(codes(&check_tally(&m, &t)), ["unknown-contest"]);
        let mut t = good();
        t.contest = "senate".into();
        t.choices = [("carol".to_string(), 700u64)].into_iter().collect();
        t.ballots_cast = 713;
        assert_eq!(codes(&check_tally(&m, &t)), ["contest-not-in-unit"]);
        t.unit = "P-001".into();
        assert_eq!(check_tally(&m, &t), []);
    }

    #[test]
    fn overflow_is_its_own_code() {
        let mut t = good();
        t.choices.insert("alice".into(), u64::MAX);
        let m = manifest_with(|b| b.units[0].registered = u64::MAX);
        assert_eq!(codes(&check_tally(&m, &t)), ["count-overflow"]);
    }

    #[test]
    fn signer_rules() {
        let m = manifest_with(|_| {});
        let mut t = good();
        t.signer = key(3).public_key();
        assert_eq!(codes(&check_tally(&m, &t)), ["unknown-signer"]);
        t.signer = key(2).public_key();
        assert_eq!(codes(&check_tally(&m, &t)), ["signer-not-responsible"]);
        t.counted_at = 1_500;
        assert_eq!(
            codes(&check_tally(&m, &t)),
            ["signer-not-responsible", "key-revoked"]
        );
        let mut t = good();
        t.counted_at = 999;
        assert_eq!(codes(&check_tally(&m, &t)), ["key-not-yet-valid"]);
        t.counted_at = 1_000;
        assert_eq!(check_tally(&m, &t), []);
        t.counted_at = 1_999;
        assert_eq!(check_tally(&m, &t), []);
        t.counted_at = 2_000;
        assert_eq!(codes(&check_tally(&m, &t)), ["key-expired"]);
    }

    #[test]
    fn revision_fields() {
        let m = manifest_with(|_| {});
        let mut t = good();
        t.revision = 0;
        assert_eq!(codes(&check_tally(&m, &t)), ["revision-zero"]);
        let mut t = good();
        t.reason = Some("why".into());
        assert_eq!(codes(&check_tally(&m, &t)), ["reason-without-correction"]);
        let mut t = good();
        t.supersedes = Some(Hash([1; 32]));
        assert_eq!(
            codes(&check_tally(&m, &t)),
            ["supersedes-without-correction"]
        );
        let mut t = good();
        t.revision = 2;
        assert_eq!(
            codes(&check_tally(&m, &t)),
            ["correction-without-reason", "correction-without-supersedes"]
        );
        let t = good().correction(Hash([1; 32]), "recount");
        assert_eq!(check_tally(&m, &t), []);
    }

    fn leaf(t: &Tally) -> Hash {
        t.sign(&key(1)).leaf_hash()
    }

    #[test]
    fn revision_index_follows_corrections() {
        let mut ix = RevisionIndex::new();
        let r1 = good();
        let h1 = leaf(&r1);
        assert_eq!(ix.apply(&r1, h1), Ok(()));
        assert_eq!(ix.latest("P-017", "mayor"), Some((h1, 1)));
        assert!(ix.contains(&h1));

        // Same entry again.
        assert_eq!(codes(&ix.apply(&r1, h1).unwrap_err()), ["duplicate-entry"]);
        // Another first publication.
        let mut again = good();
        again.blank = 10;
        again.ballots_cast = 826;
        assert_eq!(
            codes(&ix.apply(&again, leaf(&again)).unwrap_err()),
            ["first-revision-exists"]
        );

        let r2 = r1.correction(h1, "recount");
        let h2 = leaf(&r2);
        assert_eq!(ix.apply(&r2, h2), Ok(()));
        assert_eq!(ix.latest("P-017", "mayor"), Some((h2, 2)));

        // Correcting revision 1 again: stale.
        let mut stale = r1.correction(h1, "second thoughts");
        stale.blank = 8;
        let v = ix.apply(&stale, leaf(&stale)).unwrap_err();
        assert_eq!(codes(&v), ["supersedes-stale-revision"]);
        assert!(v[0].to_string().contains("latest published revision is 2"));

        // Skipping a revision number.
        let mut skip = r2.correction(h2, "typo");
        skip.revision = 4;
        assert_eq!(
            codes(&ix.apply(&skip, leaf(&skip)).unwrap_err()),
            ["revision-not-next"]
        );

        // Unknown entry.
        let ghost = r2.correction(Hash([9; 32]), "typo");
        assert_eq!(
            codes(&ix.apply(&ghost, leaf(&ghost)).unwrap_err()),
            ["supersedes-unknown-entry"]
        );

        // Another unit's and another contest's entries.
        let mut other = good();
        other.unit = "P-001".into();
        let ho = leaf(&other);
        ix.apply(&other, ho).unwrap();
        let hijack = r2.correction(ho, "typo");
        let v = ix.apply(&hijack, leaf(&hijack)).unwrap_err();
        assert_eq!(codes(&v), ["supersedes-other-unit", "revision-not-next"]);
        let mut senate = good();
        senate.contest = "senate".into();
        senate.unit = "P-001".into();
        let hs = leaf(&senate);
        ix.apply(&senate, hs).unwrap();
        let mut cross = other.correction(hs, "typo");
        cross.contest = "mayor".into();
        assert_eq!(
            codes(&ix.apply(&cross, leaf(&cross)).unwrap_err()),
            ["supersedes-other-contest"]
        );

        // check_all adds the manifest rules.
        let m = manifest_with(|_| {});
        let mut wrong = r2.correction(h2, "typo");
        wrong.ballots_cast += 1;
        assert_eq!(
            codes(&check_all(&m, &ix, &wrong, &leaf(&wrong))),
            ["arithmetic-mismatch"]
        );
        assert_eq!(codes(&check_all(&m, &ix, &r2, &h2)), ["duplicate-entry"]);

        // Nothing failed was recorded.
        assert_eq!(ix.len(), 4);
        let r3 = r2.correction(h2, "typo");
        assert_eq!(ix.apply(&r3, leaf(&r3)), Ok(()));
    }
}
