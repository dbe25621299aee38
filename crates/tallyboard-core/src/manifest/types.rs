//! The manifest's data types, its structural problems and its errors.

use crate::cbor::CborError;
use crate::keys::PublicKey;
use crate::note::is_valid_key_name;

/// The log: its C2SP origin line (also the checkpoint key name) and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogInfo {
    /// The checkpoint origin, e.g. `tallyboard.example/2026-general`.
    pub origin: String,
    /// The log's Ed25519 key (checkpoints and signed totals).
    pub key: PublicKey,
}

/// A witness whose cosignatures verifiers count towards the quorum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witness {
    /// The witness's note key name.
    pub name: String,
    /// The witness's Ed25519 key.
    pub key: PublicKey,
}

/// One choice of a contest (a candidate, a party, an answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// Choice id, unique within the contest.
    pub id: String,
    /// Name shown to readers.
    pub name: String,
}

/// A contest (one ballot question or race).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contest {
    /// Contest id.
    pub id: String,
    /// Title shown to readers.
    pub title: String,
    /// The choices, at least one.
    pub choices: Vec<Choice>,
}

/// A region in the hierarchy (district, province, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// Region id.
    pub id: String,
    /// Name shown to readers.
    pub name: String,
    /// Parent region id; `None` for a top-level region.
    pub parent: Option<String>,
}

/// One key of a count centre with its validity window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CentreKey {
    /// The Ed25519 key.
    pub key: PublicKey,
    /// First second (POSIX) at which a tally may be counted under this key.
    pub valid_from: u64,
    /// First second at which the key is no longer valid (exclusive end).
    pub valid_until: u64,
    /// Time from which the key is revoked, if it is.
    pub revoked_at: Option<u64>,
}

/// A count centre and its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Centre {
    /// Centre id.
    pub id: String,
    /// Name shown to readers.
    pub name: String,
    /// Keys the centre signs tallies with.
    pub keys: Vec<CentreKey>,
}

/// A reporting unit (polling station, voting machine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// Unit id.
    pub id: String,
    /// Name shown to readers.
    pub name: String,
    /// The region the unit is in.
    pub region: String,
    /// Registered voters.
    pub registered: u64,
    /// Ids of the contests the unit takes part in.
    pub contests: Vec<String>,
    /// Id of the count centre responsible for the unit's tallies.
    pub centre: String,
}

/// The manifest's data, as encoded. Public fields: fill them in, then
/// [`ManifestBody::validate`] into a [`Manifest`](super::Manifest) and
/// [`Manifest::sign`](super::Manifest::sign).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestBody {
    /// Election id.
    pub election: String,
    /// Title shown to readers.
    pub title: String,
    /// The election authority's key, which signs the manifest.
    pub authority: PublicKey,
    /// The log.
    pub log: LogInfo,
    /// Witnesses.
    pub witnesses: Vec<Witness>,
    /// How many witness cosignatures verifiers require.
    pub quorum: u64,
    /// Mirror base URLs (informative).
    pub mirrors: Vec<String>,
    /// Contests.
    pub contests: Vec<Contest>,
    /// Regions.
    pub regions: Vec<Region>,
    /// Count centres.
    pub centres: Vec<Centre>,
    /// Reporting units.
    pub units: Vec<Unit>,
    /// When the polls close (POSIX seconds), if the authority says so.
    /// Optional: manifests made before the field existed have none.
    pub polls_close: Option<u64>,
    /// When every unit's results are due (POSIX seconds), if the authority
    /// says so. Before it, units not reported yet are progress; after it,
    /// they are missing. Optional like `polls_close`.
    pub results_due: Option<u64>,
}

/// A structural problem of a manifest. [`ManifestBody::validate`] returns
/// every problem found, not only the first.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ManifestProblem {
    /// An identifier is not 1..=64 bytes of `[A-Za-z0-9._-]` not starting
    /// with `.`.
    InvalidId {
        /// What kind of object the id names.
        kind: &'static str,
        /// The id.
        id: String,
    },
    /// A name, title, origin, witness name or mirror URL is malformed.
    InvalidText {
        /// Which text.
        what: String,
    },
    /// Two objects of the same kind share an id.
    DuplicateId {
        /// The kind (contest, region, centre, unit, witness).
        kind: &'static str,
        /// The id.
        id: String,
    },
    /// Two choices of a contest share an id.
    DuplicateChoice {
        /// The contest.
        contest: String,
        /// The choice id.
        choice: String,
    },
    /// A contest has no choices.
    ContestWithoutChoices {
        /// The contest.
        contest: String,
    },
    /// The manifest has no contests.
    NoContests,
    /// The manifest has no reporting units.
    NoUnits,
    /// A unit names a region that is not in the manifest.
    UnknownRegion {
        /// The unit.
        unit: String,
        /// The region it names.
        region: String,
    },
    /// A unit names a count centre that is not in the manifest.
    UnknownCentre {
        /// The unit.
        unit: String,
        /// The centre it names.
        centre: String,
    },
    /// A unit names a contest that is not in the manifest.
    UnknownUnitContest {
        /// The unit.
        unit: String,
        /// The contest it names.
        contest: String,
    },
    /// A unit lists the same contest twice.
    DuplicateUnitContest {
        /// The unit.
        unit: String,
        /// The contest.
        contest: String,
    },
    /// A region names a parent that is not in the manifest.
    UnknownParent {
        /// The region.
        region: String,
        /// The parent it names.
        parent: String,
    },
    /// A region is its own ancestor.
    RegionCycle {
        /// A region on the cycle.
        region: String,
    },
    /// The quorum is larger than the number of witnesses.
    QuorumTooLarge {
        /// The quorum.
        quorum: u64,
        /// Number of witnesses.
        witnesses: usize,
    },
    /// A key's window is empty: `valid_from >= valid_until`.
    EmptyKeyWindow {
        /// The centre.
        centre: String,
        /// The key, hex.
        key: String,
        /// Start of the window.
        valid_from: u64,
        /// End of the window.
        valid_until: u64,
    },
    /// The same key is listed for two count centres.
    KeyInTwoCentres {
        /// The key, hex.
        key: String,
        /// The first centre listing it.
        first: String,
        /// The second centre listing it.
        second: String,
    },
    /// A centre lists the same key twice.
    DuplicateCentreKey {
        /// The centre.
        centre: String,
        /// The key, hex.
        key: String,
    },
    /// The log origin equals a signature-context label without its
    /// newline, which would make checkpoints and CBOR objects confusable.
    OriginIsContextLabel {
        /// The origin.
        origin: String,
    },
    /// Results are due before the polls close.
    DueBeforeClose {
        /// When the polls close.
        polls_close: u64,
        /// When the results are due.
        results_due: u64,
    },
}

impl ManifestProblem {
    /// Stable kebab-case code of the problem.
    pub fn code(&self) -> &'static str {
        match self {
            ManifestProblem::InvalidId { .. } => "invalid-id",
            ManifestProblem::InvalidText { .. } => "invalid-text",
            ManifestProblem::DuplicateId { .. } => "duplicate-id",
            ManifestProblem::DuplicateChoice { .. } => "duplicate-choice-id",
            ManifestProblem::ContestWithoutChoices { .. } => "contest-without-choices",
            ManifestProblem::NoContests => "no-contests",
            ManifestProblem::NoUnits => "no-units",
            ManifestProblem::UnknownRegion { .. } => "unit-unknown-region",
            ManifestProblem::UnknownCentre { .. } => "unit-unknown-centre",
            ManifestProblem::UnknownUnitContest { .. } => "unit-unknown-contest",
            ManifestProblem::DuplicateUnitContest { .. } => "unit-duplicate-contest",
            ManifestProblem::UnknownParent { .. } => "region-unknown-parent",
            ManifestProblem::RegionCycle { .. } => "region-cycle",
            ManifestProblem::QuorumTooLarge { .. } => "quorum-too-large",
            ManifestProblem::EmptyKeyWindow { .. } => "empty-key-window",
            ManifestProblem::KeyInTwoCentres { .. } => "key-in-two-centres",
            ManifestProblem::DuplicateCentreKey { .. } => "duplicate-centre-key",
            ManifestProblem::OriginIsContextLabel { .. } => "origin-is-context-label",
            ManifestProblem::DueBeforeClose { .. } => "due-before-close",
        }
    }
}

impl core::fmt::Display for ManifestProblem {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ManifestProblem::InvalidId { kind, id } => {
                write!(f, "{kind} id {id:?} is not a valid identifier")
            }
            ManifestProblem::InvalidText { what } => write!(f, "{what} is malformed"),
            ManifestProblem::DuplicateId { kind, id } => {
                write!(f, "{kind} {id} is listed more than once")
            }
            ManifestProblem::DuplicateChoice { contest, choice } => {
                write!(
                    f,
                    "contest {contest}: choice {choice} is listed more than once"
                )
            }
            ManifestProblem::ContestWithoutChoices { contest } => {
                write!(f, "contest {contest} has no choices")
            }
            ManifestProblem::NoContests => f.write_str("the manifest lists no contests"),
            ManifestProblem::NoUnits => f.write_str("the manifest lists no reporting units"),
            ManifestProblem::UnknownRegion { unit, region } => {
                write!(f, "unit {unit}: region {region} is not in the manifest")
            }
            ManifestProblem::UnknownCentre { unit, centre } => {
                write!(
                    f,
                    "unit {unit}: count centre {centre} is not in the manifest"
                )
            }
            ManifestProblem::UnknownUnitContest { unit, contest } => {
                write!(f, "unit {unit}: contest {contest} is not in the manifest")
            }
            ManifestProblem::DuplicateUnitContest { unit, contest } => {
                write!(f, "unit {unit}: contest {contest} is listed more than once")
            }
            ManifestProblem::UnknownParent { region, parent } => {
                write!(
                    f,
                    "region {region}: parent region {parent} is not in the manifest"
                )
            }
            ManifestProblem::RegionCycle { region } => {
                write!(f, "region {region} is its own ancestor")
            }
            ManifestProblem::QuorumTooLarge { quorum, witnesses } => write!(
                f,
                "quorum {quorum} is larger than the number of witnesses ({witnesses})"
            ),
            ManifestProblem::EmptyKeyWindow {
                centre,
                key,
                valid_from,
                valid_until,
            } => write!(
                f,
                "count centre {centre}: key {key} is valid from {valid_from} until \
                 {valid_until}, an empty window"
            ),
            ManifestProblem::KeyInTwoCentres { key, first, second } => write!(
                f,
                "key {key} is listed for two count centres, {first} and {second}"
            ),
            ManifestProblem::DuplicateCentreKey { centre, key } => {
                write!(
                    f,
                    "count centre {centre}: key {key} is listed more than once"
                )
            }
            ManifestProblem::OriginIsContextLabel { origin } => write!(
                f,
                "log origin {origin:?} is a signature context label; choose another"
            ),
            ManifestProblem::DueBeforeClose {
                polls_close,
                results_due,
            } => write!(
                f,
                "results are due at {results_due}, before the polls close at {polls_close}"
            ),
        }
    }
}

/// Errors from parsing, verifying or validating a manifest.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
#[non_exhaustive]
pub enum ManifestError {
    /// The bytes are not a canonical signed manifest.
    #[error("manifest: {0}")]
    Decode(#[from] CborError),
    /// The signature does not verify under the manifest's authority key.
    #[error("manifest signature does not verify under its authority key")]
    BadSignature,
    /// The manifest's authority key is not the one the caller expects.
    #[error("manifest is signed by authority key {got}, expected {expected}")]
    UnexpectedAuthority {
        /// The expected key, hex.
        expected: String,
        /// The manifest's key, hex.
        got: String,
    },
    /// The manifest is well-formed and signed but structurally invalid.
    #[error("manifest is invalid: {}", join_problems(.0))]
    Invalid(Vec<ManifestProblem>),
}

fn join_problems(p: &[ManifestProblem]) -> String {
    p.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl ManifestError {
    /// Stable kebab-case code of the error. For [`ManifestError::Invalid`]
    /// it is the problems' code when they all have the same one, else
    /// `invalid-manifest` (`spec/tally-and-manifest.md` §6.3).
    pub fn code(&self) -> &'static str {
        match self {
            ManifestError::Decode(e) => e.code(),
            ManifestError::BadSignature => "bad-signature",
            ManifestError::UnexpectedAuthority { .. } => "unexpected-authority",
            ManifestError::Invalid(p) => match p.split_first() {
                Some((first, rest)) if rest.iter().all(|q| q.code() == first.code()) => {
                    first.code()
                }
                _ => "invalid-manifest",
            },
        }
    }
}

/// A log origin: 1..=256 bytes of printable ASCII other than space and `+`
/// (it is also the log's note key name).
pub fn is_valid_origin(s: &str) -> bool {
    is_valid_key_name(s) && s.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b'+')
}
