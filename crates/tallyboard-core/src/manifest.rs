//! The election manifest: who may sign what. Signed by the election
//! authority; fixes the contests and their choices, the regions, the count
//! centres and their keys, the reporting units, the log and its witnesses.
//!
//! Body (canonical CBOR map, `spec/tally-and-manifest.md`):
//!
//! | key | field | type |
//! | --- | --- | --- |
//! | 0 | version | uint = 1 |
//! | 1 | election | id |
//! | 2 | title | name |
//! | 3 | authority | bstr(32) |
//! | 4 | log | map { 0 origin, 1 key } |
//! | 5 | witnesses | array of map { 0 name, 1 key } |
//! | 6 | quorum | uint |
//! | 7 | mirrors | array of tstr |
//! | 8 | contests | array of map { 0 id, 1 title, 2 choices: array of map { 0 id, 1 name } } |
//! | 9 | regions | array of map { 0 id, 1 name, 2 parent (optional) } |
//! | 10 | centres | array of map { 0 id, 1 name, 2 keys: array of map { 0 key, 1 valid_from, 2 valid_until, 3 revoked_at (optional) } } |
//! | 11 | units | array of map { 0 id, 1 name, 2 region, 3 registered, 4 contests, 5 centre } |
//!
//! Signed envelope: `[body: bstr, signature: bstr(64)]`, the signature over
//! `"tallyboard/v1/manifest\n" || body` under `authority`.
//!
//! Three types:
//! - [`ManifestBody`]: the plain data, with public fields; what the CLI's
//!   `manifest build` fills in.
//! - [`Manifest`]: a structurally valid body with lookup indexes (sorted
//!   id indexes, key table, precomputed region ancestors), built by
//!   [`Manifest::new`] / [`ManifestBody::validate`]. Read the fields through
//!   `Deref` (`manifest.units`, `manifest.election`, ...).
//! - [`SignedManifest`]: the exact bytes, verified and validated.

use std::collections::HashMap;

use crate::cbor::{self, CborError, Encoder, Reader, required};
use crate::hash::Hash;
use crate::keys::{Context, PublicKey, SecretKey, Signature};
use crate::limits::{MAX_MIRROR_URL_LEN, MAX_NAME_LEN, MAX_SIGNED_MANIFEST};
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
/// [`ManifestBody::validate`] into a [`Manifest`] and [`Manifest::sign`].
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

// ---------------------------------------------------------------------------
// Encoding and decoding of the body

impl ManifestBody {
    /// The canonical CBOR body.
    pub fn to_body_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::with_capacity(256 + 96 * self.units.len());
        e.map(12);
        e.uint(0);
        e.uint(1);
        e.uint(1);
        e.text(&self.election);
        e.uint(2);
        e.text(&self.title);
        e.uint(3);
        e.bytes(self.authority.as_bytes());
        e.uint(4);
        e.map(2);
        e.uint(0);
        e.text(&self.log.origin);
        e.uint(1);
        e.bytes(self.log.key.as_bytes());
        e.uint(5);
        e.array(self.witnesses.len());
        for w in &self.witnesses {
            e.map(2);
            e.uint(0);
            e.text(&w.name);
            e.uint(1);
            e.bytes(w.key.as_bytes());
        }
        e.uint(6);
        e.uint(self.quorum);
        e.uint(7);
        e.array(self.mirrors.len());
        for m in &self.mirrors {
            e.text(m);
        }
        e.uint(8);
        e.array(self.contests.len());
        for c in &self.contests {
            e.map(3);
            e.uint(0);
            e.text(&c.id);
            e.uint(1);
            e.text(&c.title);
            e.uint(2);
            e.array(c.choices.len());
            for ch in &c.choices {
                e.map(2);
                e.uint(0);
                e.text(&ch.id);
                e.uint(1);
                e.text(&ch.name);
            }
        }
        e.uint(9);
        e.array(self.regions.len());
        for r in &self.regions {
            e.map(2 + usize::from(r.parent.is_some()));
            e.uint(0);
            e.text(&r.id);
            e.uint(1);
            e.text(&r.name);
            if let Some(p) = &r.parent {
                e.uint(2);
                e.text(p);
            }
        }
        e.uint(10);
        e.array(self.centres.len());
        for c in &self.centres {
            e.map(3);
            e.uint(0);
            e.text(&c.id);
            e.uint(1);
            e.text(&c.name);
            e.uint(2);
            e.array(c.keys.len());
            for k in &c.keys {
                e.map(3 + usize::from(k.revoked_at.is_some()));
                e.uint(0);
                e.bytes(k.key.as_bytes());
                e.uint(1);
                e.uint(k.valid_from);
                e.uint(2);
                e.uint(k.valid_until);
                if let Some(r) = k.revoked_at {
                    e.uint(3);
                    e.uint(r);
                }
            }
        }
        e.uint(11);
        e.array(self.units.len());
        for u in &self.units {
            e.map(6);
            e.uint(0);
            e.text(&u.id);
            e.uint(1);
            e.text(&u.name);
            e.uint(2);
            e.text(&u.region);
            e.uint(3);
            e.uint(u.registered);
            e.uint(4);
            e.array(u.contests.len());
            for c in &u.contests {
                e.text(c);
            }
            e.uint(5);
            e.text(&u.centre);
        }
        e.into_bytes()
    }

    /// Decodes a canonical manifest body (size cap, types, canonical form).
    /// No signature check and no structural validation: see
    /// [`SignedManifest::from_bytes`] and [`ManifestBody::validate`].
    pub fn from_body_bytes(body: &[u8]) -> Result<ManifestBody, CborError> {
        let mut r = Reader::new(body, MAX_SIGNED_MANIFEST)?;
        let (mut version, mut election, mut title, mut authority, mut log) =
            (None, None, None, None, None);
        let (mut witnesses, mut quorum, mut mirrors, mut contests) = (None, None, None, None);
        let (mut regions, mut centres, mut units) = (None, None, None);
        struct_map(
            &mut r,
            "manifest",
            &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
            |r, k| {
                match k {
                    0 => version = Some(r.version("manifest.version")?),
                    1 => election = Some(r.id("manifest.election")?.to_string()),
                    2 => title = Some(r.name("manifest.title")?.to_string()),
                    3 => authority = Some(r.key32("manifest.authority")?),
                    4 => log = Some(read_log(r)?),
                    5 => witnesses = Some(array_of(r, "manifest.witnesses", read_witness)?),
                    6 => quorum = Some(r.uint("manifest.quorum")?),
                    7 => {
                        mirrors = Some(array_of(r, "manifest.mirrors", |r| {
                            Ok(r.text_limited("manifest.mirrors[]", MAX_MIRROR_URL_LEN)?
                                .to_string())
                        })?)
                    }
                    8 => contests = Some(array_of(r, "manifest.contests", read_contest)?),
                    9 => regions = Some(array_of(r, "manifest.regions", read_region)?),
                    10 => centres = Some(array_of(r, "manifest.centres", read_centre)?),
                    _ => units = Some(array_of(r, "manifest.units", read_unit)?),
                }
                Ok(())
            },
        )?;
        r.finish()?;
        required(version, "manifest.version")?;
        let m = ManifestBody {
            election: required(election, "manifest.election")?,
            title: required(title, "manifest.title")?,
            authority: required(authority, "manifest.authority")?,
            log: required(log, "manifest.log")?,
            witnesses: required(witnesses, "manifest.witnesses")?,
            quorum: required(quorum, "manifest.quorum")?,
            mirrors: required(mirrors, "manifest.mirrors")?,
            contests: required(contests, "manifest.contests")?,
            regions: required(regions, "manifest.regions")?,
            centres: required(centres, "manifest.centres")?,
            units: required(units, "manifest.units")?,
        };
        cbor::require_canonical(body, &m.to_body_bytes())?;
        Ok(m)
    }

    /// Checks every structural rule and returns every problem found (empty
    /// when the body is valid).
    pub fn problems(&self) -> Vec<ManifestProblem> {
        Index::build(self).err().unwrap_or_default()
    }

    /// Validates the body and builds the lookup indexes.
    pub fn validate(self) -> Result<Manifest, ManifestError> {
        Manifest::new(self)
    }
}

/// Reads a struct-like map, calling `f` with each key (unknown and
/// repeated keys are errors).
fn struct_map<'a>(
    r: &mut Reader<'a>,
    field: &'static str,
    known: &[u8],
    mut f: impl FnMut(&mut Reader<'a>, u8) -> Result<(), CborError>,
) -> Result<(), CborError> {
    let n = r.map(field)?;
    let mut seen = 0u32;
    for _ in 0..n {
        let k = r.key(field, known, &mut seen)?;
        f(r, k)?;
    }
    Ok(())
}

fn array_of<'a, T>(
    r: &mut Reader<'a>,
    field: &'static str,
    mut f: impl FnMut(&mut Reader<'a>) -> Result<T, CborError>,
) -> Result<Vec<T>, CborError> {
    let n = r.array(field)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(f(r)?);
    }
    Ok(out)
}

fn read_log(r: &mut Reader<'_>) -> Result<LogInfo, CborError> {
    let (mut origin, mut key) = (None, None);
    struct_map(r, "manifest.log", &[0, 1], |r, k| {
        if k == 0 {
            let o = r.text("manifest.log.origin")?;
            if !is_valid_origin(o) {
                return Err(CborError::InvalidText {
                    field: "manifest.log.origin",
                });
            }
            origin = Some(o.to_string());
        } else {
            key = Some(r.key32("manifest.log.key")?);
        }
        Ok(())
    })?;
    Ok(LogInfo {
        origin: required(origin, "manifest.log.origin")?,
        key: required(key, "manifest.log.key")?,
    })
}

fn read_witness(r: &mut Reader<'_>) -> Result<Witness, CborError> {
    let (mut name, mut key) = (None, None);
    struct_map(r, "manifest.witnesses[]", &[0, 1], |r, k| {
        if k == 0 {
            let n = r.text("manifest.witnesses[].name")?;
            if !is_valid_key_name(n) {
                return Err(CborError::InvalidText {
                    field: "manifest.witnesses[].name",
                });
            }
            name = Some(n.to_string());
        } else {
            key = Some(r.key32("manifest.witnesses[].key")?);
        }
        Ok(())
    })?;
    Ok(Witness {
        name: required(name, "manifest.witnesses[].name")?,
        key: required(key, "manifest.witnesses[].key")?,
    })
}

fn read_contest(r: &mut Reader<'_>) -> Result<Contest, CborError> {
    let (mut id, mut title, mut choices) = (None, None, None);
    struct_map(r, "contest", &[0, 1, 2], |r, k| {
        match k {
            0 => id = Some(r.id("contest.id")?.to_string()),
            1 => title = Some(r.name("contest.title")?.to_string()),
            _ => {
                choices = Some(array_of(r, "contest.choices", |r| {
                    let (mut id, mut name) = (None, None);
                    struct_map(r, "choice", &[0, 1], |r, k| {
                        if k == 0 {
                            id = Some(r.id("choice.id")?.to_string());
                        } else {
                            name = Some(r.name("choice.name")?.to_string());
                        }
                        Ok(())
                    })?;
                    Ok(Choice {
                        id: required(id, "choice.id")?,
                        name: required(name, "choice.name")?,
                    })
                })?)
            }
        }
        Ok(())
    })?;
    Ok(Contest {
        id: required(id, "contest.id")?,
        title: required(title, "contest.title")?,
        choices: required(choices, "contest.choices")?,
    })
}

fn read_region(r: &mut Reader<'_>) -> Result<Region, CborError> {
    let (mut id, mut name, mut parent) = (None, None, None);
    struct_map(r, "region", &[0, 1, 2], |r, k| {
        match k {
            0 => id = Some(r.id("region.id")?.to_string()),
            1 => name = Some(r.name("region.name")?.to_string()),
            _ => parent = Some(r.id("region.parent")?.to_string()),
        }
        Ok(())
    })?;
    Ok(Region {
        id: required(id, "region.id")?,
        name: required(name, "region.name")?,
        parent,
    })
}

fn read_centre(r: &mut Reader<'_>) -> Result<Centre, CborError> {
    let (mut id, mut name, mut keys) = (None, None, None);
    struct_map(r, "centre", &[0, 1, 2], |r, k| {
        match k {
            0 => id = Some(r.id("centre.id")?.to_string()),
            1 => name = Some(r.name("centre.name")?.to_string()),
            _ => keys = Some(array_of(r, "centre.keys", read_centre_key)?),
        }
        Ok(())
    })?;
    Ok(Centre {
        id: required(id, "centre.id")?,
        name: required(name, "centre.name")?,
        keys: required(keys, "centre.keys")?,
    })
}

fn read_centre_key(r: &mut Reader<'_>) -> Result<CentreKey, CborError> {
    let (mut key, mut from, mut until, mut revoked) = (None, None, None, None);
    struct_map(r, "centre.keys[]", &[0, 1, 2, 3], |r, k| {
        match k {
            0 => key = Some(r.key32("centre.keys[].key")?),
            1 => from = Some(r.uint("centre.keys[].valid_from")?),
            2 => until = Some(r.uint("centre.keys[].valid_until")?),
            _ => revoked = Some(r.uint("centre.keys[].revoked_at")?),
        }
        Ok(())
    })?;
    Ok(CentreKey {
        key: required(key, "centre.keys[].key")?,
        valid_from: required(from, "centre.keys[].valid_from")?,
        valid_until: required(until, "centre.keys[].valid_until")?,
        revoked_at: revoked,
    })
}

fn read_unit(r: &mut Reader<'_>) -> Result<Unit, CborError> {
    let (mut id, mut name, mut region, mut registered, mut contests, mut centre) =
        (None, None, None, None, None, None);
    struct_map(r, "unit", &[0, 1, 2, 3, 4, 5], |r, k| {
        match k {
            0 => id = Some(r.id("unit.id")?.to_string()),
            1 => name = Some(r.name("unit.name")?.to_string()),
            2 => region = Some(r.id("unit.region")?.to_string()),
            3 => registered = Some(r.uint("unit.registered")?),
            4 => {
                contests = Some(array_of(r, "unit.contests", |r| {
                    Ok(r.id("unit.contests[]")?.to_string())
                })?)
            }
            _ => centre = Some(r.id("unit.centre")?.to_string()),
        }
        Ok(())
    })?;
    Ok(Unit {
        id: required(id, "unit.id")?,
        name: required(name, "unit.name")?,
        region: required(region, "unit.region")?,
        registered: required(registered, "unit.registered")?,
        contests: required(contests, "unit.contests")?,
        centre: required(centre, "unit.centre")?,
    })
}

/// A log origin: 1..=256 bytes of printable ASCII other than space and `+`
/// (it is also the log's note key name).
pub fn is_valid_origin(s: &str) -> bool {
    is_valid_key_name(s) && s.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b'+')
}

// ---------------------------------------------------------------------------
// Validation and indexes

/// An open-addressing hash table from id to position, storing positions
/// only (4 bytes a slot, load factor at most 1/2): no copy of the ids, a
/// couple of memory accesses a lookup even with a million units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct IdIndex {
    slots: Vec<u32>,
}

const EMPTY_SLOT: u32 = u32::MAX;

fn hash_id(id: &str) -> u64 {
    use core::hash::{Hash as _, Hasher as _};
    // SipHash with fixed keys: deterministic, no randomness needed.
    let mut h = std::hash::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

impl IdIndex {
    /// Indexes `items` by id; returns the index and the ids that occur more
    /// than once (each once). Callers keep `items.len() < u32::MAX`.
    fn build<T>(items: &[T], get: impl Fn(&T) -> &str) -> (IdIndex, Vec<String>) {
        let cap = (items.len() * 2).next_power_of_two().max(4);
        let mut slots = vec![EMPTY_SLOT; cap];
        let mask = cap - 1;
        let mut dups: Vec<String> = Vec::new();
        // Which first occurrences have been reported as duplicated.
        let mut reported: Vec<bool> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let id = get(item);
            let mut pos = (hash_id(id) as usize) & mask;
            loop {
                let slot = slots[pos];
                if slot == EMPTY_SLOT {
                    slots[pos] = i as u32;
                    break;
                }
                if items.get(slot as usize).map(&get) == Some(id) {
                    if reported.is_empty() {
                        reported = vec![false; items.len()];
                    }
                    if !reported[slot as usize] {
                        reported[slot as usize] = true;
                        dups.push(id.to_string());
                    }
                    break;
                }
                pos = (pos + 1) & mask;
            }
        }
        (IdIndex { slots }, dups)
    }

    fn find<T>(&self, items: &[T], get: impl Fn(&T) -> &str, id: &str) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut pos = (hash_id(id) as usize) & mask;
        loop {
            let slot = *self.slots.get(pos)?;
            if slot == EMPTY_SLOT {
                return None;
            }
            if items.get(slot as usize).map(&get) == Some(id) {
                return Some(slot as usize);
            }
            pos = (pos + 1) & mask;
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Index {
    units: IdIndex,
    contests: IdIndex,
    regions: IdIndex,
    centres: IdIndex,
    choices: Vec<IdIndex>,
    keys: HashMap<[u8; 32], (u32, u32)>,
    unit_region: Vec<u32>,
    unit_centre: Vec<u32>,
    /// Flattened ancestor chains: region i's chain (itself first) is
    /// `chain[chain_start[i]..chain_start[i + 1]]`.
    chain: Vec<u32>,
    chain_start: Vec<u32>,
}

fn find_in<T>(idx: &IdIndex, items: &[T], id: &str, get: fn(&T) -> &str) -> Option<usize> {
    idx.find(items, get, id)
}

impl Index {
    fn build(m: &ManifestBody) -> Result<Index, Vec<ManifestProblem>> {
        let mut p = Vec::new();
        let id_ok = |kind: &'static str, id: &str, p: &mut Vec<ManifestProblem>| {
            if !cbor::is_valid_id(id) {
                p.push(ManifestProblem::InvalidId {
                    kind,
                    id: id.to_string(),
                });
            }
        };
        let text_ok = |what: &dyn Fn() -> String, t: &str, p: &mut Vec<ManifestProblem>| {
            if !cbor::is_valid_text(t, MAX_NAME_LEN) {
                p.push(ManifestProblem::InvalidText { what: what() });
            }
        };
        let too_many = |n: usize| n > u32::MAX as usize;
        if too_many(m.units.len()) || too_many(m.regions.len()) {
            return Err(vec![ManifestProblem::InvalidText {
                what: "the number of units or regions".to_string(),
            }]);
        }

        id_ok("election", &m.election, &mut p);
        text_ok(&|| "the manifest title".to_string(), &m.title, &mut p);
        if !is_valid_origin(&m.log.origin) {
            p.push(ManifestProblem::InvalidText {
                what: format!("log origin {:?}", m.log.origin),
            });
        }
        for ctx in [Context::Tally, Context::Manifest, Context::Totals] {
            let label = ctx.label();
            if m.log.origin.as_bytes() == &label[..label.len() - 1] {
                p.push(ManifestProblem::OriginIsContextLabel {
                    origin: m.log.origin.clone(),
                });
            }
        }
        for w in &m.witnesses {
            if !is_valid_key_name(&w.name) {
                p.push(ManifestProblem::InvalidText {
                    what: format!("witness name {:?}", w.name),
                });
            }
        }
        let (_, dup) = IdIndex::build(&m.witnesses, |w| &w.name);
        p.extend(dup.into_iter().map(|id| ManifestProblem::DuplicateId {
            kind: "witness",
            id,
        }));
        if m.quorum > m.witnesses.len() as u64 {
            p.push(ManifestProblem::QuorumTooLarge {
                quorum: m.quorum,
                witnesses: m.witnesses.len(),
            });
        }
        for u in &m.mirrors {
            if !cbor::is_valid_text(u, MAX_MIRROR_URL_LEN) {
                p.push(ManifestProblem::InvalidText {
                    what: format!("mirror URL {u:?}"),
                });
            }
        }

        // Contests and choices.
        if m.contests.is_empty() {
            p.push(ManifestProblem::NoContests);
        }
        let (contests, dup) = IdIndex::build(&m.contests, |c| &c.id);
        p.extend(dup.into_iter().map(|id| ManifestProblem::DuplicateId {
            kind: "contest",
            id,
        }));
        let mut choices = Vec::with_capacity(m.contests.len());
        for c in &m.contests {
            id_ok("contest", &c.id, &mut p);
            text_ok(&|| format!("title of contest {}", c.id), &c.title, &mut p);
            if c.choices.is_empty() {
                p.push(ManifestProblem::ContestWithoutChoices {
                    contest: c.id.clone(),
                });
            }
            for ch in &c.choices {
                id_ok("choice", &ch.id, &mut p);
                text_ok(
                    &|| format!("name of choice {} of contest {}", ch.id, c.id),
                    &ch.name,
                    &mut p,
                );
            }
            let (ix, dup) = IdIndex::build(&c.choices, |ch| &ch.id);
            p.extend(
                dup.into_iter()
                    .map(|choice| ManifestProblem::DuplicateChoice {
                        contest: c.id.clone(),
                        choice,
                    }),
            );
            choices.push(ix);
        }

        // Regions: references, cycles, ancestor chains.
        let (regions, dup) = IdIndex::build(&m.regions, |r| &r.id);
        p.extend(
            dup.into_iter()
                .map(|id| ManifestProblem::DuplicateId { kind: "region", id }),
        );
        let region_of = |id: &str| find_in(&regions, &m.regions, id, |r| &r.id);
        let mut parent: Vec<Option<u32>> = Vec::with_capacity(m.regions.len());
        for r in &m.regions {
            id_ok("region", &r.id, &mut p);
            text_ok(&|| format!("name of region {}", r.id), &r.name, &mut p);
            parent.push(match &r.parent {
                None => None,
                Some(pid) => match region_of(pid) {
                    Some(i) => Some(i as u32),
                    None => {
                        p.push(ManifestProblem::UnknownParent {
                            region: r.id.clone(),
                            parent: pid.clone(),
                        });
                        None
                    }
                },
            });
        }
        // 0 = unvisited, 1 = on the current path, 2 = done.
        let mut state = vec![0u8; m.regions.len()];
        let mut on_cycle = vec![false; m.regions.len()];
        let mut path = Vec::new();
        for start in 0..m.regions.len() {
            let mut cur = Some(start);
            path.clear();
            while let Some(i) = cur {
                match state[i] {
                    2 => break,
                    1 => {
                        // `i` is on the current path: the path from `i` on is a cycle.
                        let from = path.iter().position(|&x| x == i).unwrap_or(0);
                        for &x in &path[from..] {
                            on_cycle[x] = true;
                        }
                        p.push(ManifestProblem::RegionCycle {
                            region: m.regions[i].id.clone(),
                        });
                        break;
                    }
                    _ => {
                        state[i] = 1;
                        path.push(i);
                        cur = parent[i].map(|x| x as usize);
                    }
                }
            }
            for &x in &path {
                state[x] = 2;
            }
        }
        let mut chain = Vec::new();
        let mut chain_start = Vec::with_capacity(m.regions.len() + 1);
        for start in 0..m.regions.len() {
            chain_start.push(chain.len() as u32);
            let mut cur = Some(start);
            let mut steps = 0;
            while let Some(i) = cur {
                if on_cycle[i] || steps > m.regions.len() {
                    break;
                }
                chain.push(i as u32);
                steps += 1;
                cur = parent[i].map(|x| x as usize);
            }
        }
        chain_start.push(chain.len() as u32);

        // Centres and keys.
        let (centres, dup) = IdIndex::build(&m.centres, |c| &c.id);
        p.extend(
            dup.into_iter()
                .map(|id| ManifestProblem::DuplicateId { kind: "centre", id }),
        );
        let mut keys: HashMap<[u8; 32], (u32, u32)> = HashMap::new();
        for (ci, c) in m.centres.iter().enumerate() {
            id_ok("centre", &c.id, &mut p);
            text_ok(
                &|| format!("name of count centre {}", c.id),
                &c.name,
                &mut p,
            );
            for (ki, k) in c.keys.iter().enumerate() {
                if k.valid_from >= k.valid_until {
                    p.push(ManifestProblem::EmptyKeyWindow {
                        centre: c.id.clone(),
                        key: k.key.to_hex(),
                        valid_from: k.valid_from,
                        valid_until: k.valid_until,
                    });
                }
                match keys.get(k.key.as_bytes()) {
                    Some(&(other, _)) if other as usize == ci => {
                        p.push(ManifestProblem::DuplicateCentreKey {
                            centre: c.id.clone(),
                            key: k.key.to_hex(),
                        })
                    }
                    Some(&(other, _)) => p.push(ManifestProblem::KeyInTwoCentres {
                        key: k.key.to_hex(),
                        first: m.centres[other as usize].id.clone(),
                        second: c.id.clone(),
                    }),
                    None => {
                        keys.insert(*k.key.as_bytes(), (ci as u32, ki as u32));
                    }
                }
            }
        }

        // Units.
        if m.units.is_empty() {
            p.push(ManifestProblem::NoUnits);
        }
        let (units, dup) = IdIndex::build(&m.units, |u| &u.id);
        p.extend(
            dup.into_iter()
                .map(|id| ManifestProblem::DuplicateId { kind: "unit", id }),
        );
        let mut unit_region = Vec::with_capacity(m.units.len());
        let mut unit_centre = Vec::with_capacity(m.units.len());
        for u in &m.units {
            id_ok("unit", &u.id, &mut p);
            text_ok(&|| format!("name of unit {}", u.id), &u.name, &mut p);
            match region_of(&u.region) {
                Some(i) => unit_region.push(i as u32),
                None => {
                    unit_region.push(0);
                    p.push(ManifestProblem::UnknownRegion {
                        unit: u.id.clone(),
                        region: u.region.clone(),
                    });
                }
            }
            match find_in(&centres, &m.centres, &u.centre, |c| &c.id) {
                Some(i) => unit_centre.push(i as u32),
                None => {
                    unit_centre.push(0);
                    p.push(ManifestProblem::UnknownCentre {
                        unit: u.id.clone(),
                        centre: u.centre.clone(),
                    });
                }
            }
            for (i, c) in u.contests.iter().enumerate() {
                if find_in(&contests, &m.contests, c, |c| &c.id).is_none() {
                    p.push(ManifestProblem::UnknownUnitContest {
                        unit: u.id.clone(),
                        contest: c.clone(),
                    });
                }
                if u.contests[..i].contains(c) {
                    p.push(ManifestProblem::DuplicateUnitContest {
                        unit: u.id.clone(),
                        contest: c.clone(),
                    });
                }
            }
        }

        if !p.is_empty() {
            return Err(p);
        }
        Ok(Index {
            units,
            contests,
            regions,
            centres,
            choices,
            keys,
            unit_region,
            unit_centre,
            chain,
            chain_start,
        })
    }
}

/// A structurally valid manifest with lookup indexes. Immutable: its data
/// is read through `Deref<Target = ManifestBody>` (`m.units`, `m.election`).
/// Positions (`usize`) returned by the `*_index` lookups are positions in
/// the corresponding `Vec` of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    body: ManifestBody,
    index: Index,
}

impl core::ops::Deref for Manifest {
    type Target = ManifestBody;
    fn deref(&self) -> &ManifestBody {
        &self.body
    }
}

impl Manifest {
    /// Validates `body` (every structural rule; all problems are returned
    /// in [`ManifestError::Invalid`]) and builds the lookup indexes.
    pub fn new(body: ManifestBody) -> Result<Manifest, ManifestError> {
        let index = Index::build(&body).map_err(ManifestError::Invalid)?;
        Ok(Manifest { body, index })
    }

    /// The data.
    pub fn body(&self) -> &ManifestBody {
        &self.body
    }

    /// Takes the data out.
    pub fn into_body(self) -> ManifestBody {
        self.body
    }

    /// Signs the manifest with `key` (the election authority). The body's
    /// `authority` field is set to `key`'s public key.
    pub fn sign(mut self, key: &SecretKey) -> SignedManifest {
        self.body.authority = key.public_key();
        let body = self.body.to_body_bytes();
        let signature = key.sign(Context::Manifest, &body);
        let bytes = cbor::encode_envelope(&body, &signature);
        let start = bytes.len() - body.len() - 2 - crate::keys::SIGNATURE_LEN;
        SignedManifest {
            body: start..start + body.len(),
            bytes,
            signature,
            manifest: self,
        }
    }

    /// Position of the unit with this id.
    pub fn unit_index(&self, id: &str) -> Option<usize> {
        find_in(&self.index.units, &self.body.units, id, |u| &u.id)
    }

    /// The unit with this id.
    pub fn unit(&self, id: &str) -> Option<&Unit> {
        self.unit_index(id).and_then(|i| self.body.units.get(i))
    }

    /// Position of the contest with this id.
    pub fn contest_index(&self, id: &str) -> Option<usize> {
        find_in(&self.index.contests, &self.body.contests, id, |c| &c.id)
    }

    /// The contest with this id.
    pub fn contest(&self, id: &str) -> Option<&Contest> {
        self.contest_index(id)
            .and_then(|i| self.body.contests.get(i))
    }

    /// Position of a choice within contest number `contest` (a position
    /// from [`Manifest::contest_index`]).
    pub fn choice_index(&self, contest: usize, choice: &str) -> Option<usize> {
        let c = self.body.contests.get(contest)?;
        find_in(self.index.choices.get(contest)?, &c.choices, choice, |ch| {
            &ch.id
        })
    }

    /// Position of the region with this id.
    pub fn region_index(&self, id: &str) -> Option<usize> {
        find_in(&self.index.regions, &self.body.regions, id, |r| &r.id)
    }

    /// The region with this id.
    pub fn region(&self, id: &str) -> Option<&Region> {
        self.region_index(id).and_then(|i| self.body.regions.get(i))
    }

    /// Position of the count centre with this id.
    pub fn centre_index(&self, id: &str) -> Option<usize> {
        find_in(&self.index.centres, &self.body.centres, id, |c| &c.id)
    }

    /// The count centre with this id.
    pub fn centre(&self, id: &str) -> Option<&Centre> {
        self.centre_index(id).and_then(|i| self.body.centres.get(i))
    }

    /// The centre that lists `key`, with the key's window; positions are
    /// (centre, key within the centre).
    pub fn key_position(&self, key: &PublicKey) -> Option<(usize, usize)> {
        self.index
            .keys
            .get(key.as_bytes())
            .map(|&(c, k)| (c as usize, k as usize))
    }

    /// The validated key with these bytes, if the manifest lists it.
    pub fn key_by_bytes(&self, bytes: &[u8; 32]) -> Option<PublicKey> {
        let &(c, k) = self.index.keys.get(bytes)?;
        Some(self.body.centres.get(c as usize)?.keys.get(k as usize)?.key)
    }

    /// The centre that lists `key`, and the key's entry there.
    pub fn key(&self, key: &PublicKey) -> Option<(&Centre, &CentreKey)> {
        let (c, k) = self.key_position(key)?;
        let centre = self.body.centres.get(c)?;
        Some((centre, centre.keys.get(k)?))
    }

    /// Position of the region of unit number `unit`.
    pub fn unit_region_index(&self, unit: usize) -> Option<usize> {
        self.index.unit_region.get(unit).map(|&r| r as usize)
    }

    /// Position of the count centre of unit number `unit`.
    pub fn unit_centre_index(&self, unit: usize) -> Option<usize> {
        self.index.unit_centre.get(unit).map(|&c| c as usize)
    }

    /// Region number `region` and all its ancestors, the region itself
    /// first and a top-level region last (positions in `regions`).
    pub fn region_ancestors(&self, region: usize) -> &[u32] {
        let s = self.index.chain_start.get(region).copied().unwrap_or(0) as usize;
        let e = self.index.chain_start.get(region + 1).copied().unwrap_or(0) as usize;
        self.index.chain.get(s..e).unwrap_or(&[])
    }

    /// Every region unit number `unit` counts in: its own region first,
    /// then each ancestor.
    pub fn unit_regions(&self, unit: usize) -> &[u32] {
        match self.unit_region_index(unit) {
            Some(r) => self.region_ancestors(r),
            None => &[],
        }
    }
}

/// A signed manifest: exact bytes, signature verified under its authority
/// key, structurally valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedManifest {
    bytes: Vec<u8>,
    body: core::ops::Range<usize>,
    signature: Signature,
    manifest: Manifest,
}

impl SignedManifest {
    /// Parses, verifies and validates a signed manifest: size cap
    /// [`MAX_SIGNED_MANIFEST`], envelope, canonical body; if
    /// `expected_authority` is given the body's `authority` must equal it;
    /// the signature must verify under `authority` with the manifest
    /// context; then every structural rule (all problems reported).
    pub fn from_bytes(
        bytes: &[u8],
        expected_authority: Option<&PublicKey>,
    ) -> Result<SignedManifest, ManifestError> {
        let env = cbor::parse_envelope(bytes, MAX_SIGNED_MANIFEST)?;
        let body_bytes = bytes.get(env.body.clone()).ok_or(CborError::Malformed {
            reason: "truncated input".to_string(),
        })?;
        let body = ManifestBody::from_body_bytes(body_bytes)?;
        if let Some(expected) = expected_authority
            && *expected != body.authority
        {
            return Err(ManifestError::UnexpectedAuthority {
                expected: expected.to_hex(),
                got: body.authority.to_hex(),
            });
        }
        body.authority
            .verify(Context::Manifest, body_bytes, &env.signature)
            .map_err(|_| ManifestError::BadSignature)?;
        let manifest = Manifest::new(body)?;
        Ok(SignedManifest {
            bytes: bytes.to_vec(),
            body: env.body,
            signature: env.signature,
            manifest,
        })
    }

    /// The exact bytes (served at `/manifest`).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The exact bytes, copied.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.bytes.clone()
    }

    /// The body bytes as signed.
    pub fn body_bytes(&self) -> &[u8] {
        &self.bytes[self.body.clone()]
    }

    /// The signature.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// SHA-256 of the exact bytes: compares manifests from several sources.
    pub fn hash(&self) -> Hash {
        Hash::sha256(&self.bytes)
    }

    /// The validated manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Takes the manifest out.
    pub fn into_manifest(self) -> Manifest {
        self.manifest
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn key(n: u8) -> SecretKey {
        SecretKey::from_seed(&[n; 32])
    }

    /// Election general-2026: contest mayor (alice, bob); regions north >
    /// north-1; centre C1 (key 1, valid [1000, 2000)); units P-017
    /// (north-1, 1000 registered) and P-001 (north, 800).
    pub(crate) fn sample() -> ManifestBody {
        let ck = |n: u8| CentreKey {
            key: key(n).public_key(),
            valid_from: 1_000,
            valid_until: 2_000,
            revoked_at: None,
        };
        ManifestBody {
            election: "general-2026".into(),
            title: "General election 2026 (example)".into(),
            authority: key(100).public_key(),
            log: LogInfo {
                origin: "tallyboard.example/general-2026".into(),
                key: key(101).public_key(),
            },
            witnesses: vec![Witness {
                name: "witness.example".into(),
                key: key(102).public_key(),
            }],
            quorum: 1,
            mirrors: vec!["https://mirror.example/".into()],
            contests: vec![Contest {
                id: "mayor".into(),
                title: "Mayor".into(),
                choices: vec![
                    Choice {
                        id: "alice".into(),
                        name: "Alice".into(),
                    },
                    Choice {
                        id: "bob".into(),
                        name: "Bob".into(),
                    },
                ],
            }],
            regions: vec![
                Region {
                    id: "north".into(),
                    name: "North".into(),
                    parent: None,
                },
                Region {
                    id: "north-1".into(),
                    name: "North district 1".into(),
                    parent: Some("north".into()),
                },
            ],
            centres: vec![Centre {
                id: "C1".into(),
                name: "Centre 1".into(),
                keys: vec![ck(1)],
            }],
            units: vec![
                Unit {
                    id: "P-017".into(),
                    name: "School 17".into(),
                    region: "north-1".into(),
                    registered: 1000,
                    contests: vec!["mayor".into()],
                    centre: "C1".into(),
                },
                Unit {
                    id: "P-001".into(),
                    name: "Town hall".into(),
                    region: "north".into(),
                    registered: 800,
                    contests: vec!["mayor".into()],
                    centre: "C1".into(),
                },
            ],
        }
    }

    fn codes(b: ManifestBody) -> Vec<&'static str> {
        b.problems().iter().map(ManifestProblem::code).collect()
    }

    #[test]
    fn round_trip_and_lookups() {
        let m = sample().validate().unwrap();
        let s = m.clone().sign(&key(100));
        let p = SignedManifest::from_bytes(s.as_bytes(), Some(&key(100).public_key())).unwrap();
        assert_eq!(p.manifest(), &m);
        assert_eq!(p.as_bytes(), s.as_bytes());
        assert_eq!(p.body_bytes(), m.to_body_bytes().as_slice());
        assert!(SignedManifest::from_bytes(s.as_bytes(), None).is_ok());

        assert_eq!(m.unit("P-001").map(|u| u.registered), Some(800));
        assert_eq!(m.unit_index("P-017"), Some(0));
        assert_eq!(m.unit("P-999"), None);
        let c = m.contest_index("mayor").unwrap();
        assert_eq!(m.choice_index(c, "bob"), Some(1));
        assert_eq!(m.choice_index(c, "carol"), None);
        let (centre, k) = m.key(&key(1).public_key()).unwrap();
        assert_eq!((centre.id.as_str(), k.valid_from), ("C1", 1_000));
        assert!(m.key(&key(2).public_key()).is_none());
        // P-017 counts in north-1 and north, in that order.
        let regions: Vec<&str> = m
            .unit_regions(0)
            .iter()
            .map(|&r| m.regions[r as usize].id.as_str())
            .collect();
        assert_eq!(regions, ["north-1", "north"]);
        assert_eq!(m.unit_regions(1).len(), 1);
    }

    #[test]
    fn tally_decoding_with_manifest_keys_gives_the_same_result() {
        use crate::tally::{SignedTally, Tally};
        let m = sample().validate().unwrap();
        for signer in [1, 2] {
            let t = Tally::new(
                "general-2026",
                "mayor",
                "P-017",
                [("alice", 1u64)],
                0,
                0,
                1,
                1_500,
                key(signer).public_key(),
            );
            let s = t.sign(&key(signer));
            let a = SignedTally::from_bytes(s.as_bytes()).unwrap();
            let b = SignedTally::from_bytes_in(s.as_bytes(), &m).unwrap();
            assert_eq!(a, b);
            let mut bad = s.to_bytes();
            let n = bad.len();
            bad[n - 1] ^= 4;
            assert_eq!(
                SignedTally::from_bytes_in(&bad, &m).unwrap_err().code(),
                "bad-signature"
            );
        }
    }

    #[test]
    fn sign_sets_authority_to_the_signing_key() {
        let s = sample().validate().unwrap().sign(&key(7));
        assert_eq!(s.manifest().authority, key(7).public_key());
        assert!(SignedManifest::from_bytes(s.as_bytes(), Some(&key(7).public_key())).is_ok());
    }

    #[test]
    fn rejects_unexpected_authority_and_bad_signature() {
        let s = sample().validate().unwrap().sign(&key(100));
        let e = SignedManifest::from_bytes(s.as_bytes(), Some(&key(5).public_key())).unwrap_err();
        assert_eq!(e.code(), "unexpected-authority");
        let mut b = s.to_bytes();
        let n = b.len();
        b[n - 1] ^= 1;
        assert_eq!(
            SignedManifest::from_bytes(&b, None).unwrap_err(),
            ManifestError::BadSignature
        );
        // Signed by another key than the body's authority.
        let body = s.body_bytes();
        let forged = cbor::encode_envelope(body, &key(5).sign(Context::Manifest, body));
        assert_eq!(
            SignedManifest::from_bytes(&forged, None).unwrap_err(),
            ManifestError::BadSignature
        );
    }

    #[test]
    fn rejects_trailing_bytes_and_non_canonical_bodies() {
        let s = sample().validate().unwrap().sign(&key(100));
        let mut b = s.to_bytes();
        b.push(0);
        assert_eq!(
            SignedManifest::from_bytes(&b, None).unwrap_err().code(),
            "trailing-bytes"
        );
        // quorum 1 written as 0x18 0x01.
        let body = sample().to_body_bytes();
        let pos = body.windows(2).position(|w| w == [0x06, 0x01]).unwrap();
        let mut nc = body[..pos + 1].to_vec();
        nc.extend_from_slice(&[0x18, 0x01]);
        nc.extend_from_slice(&body[pos + 2..]);
        let env = cbor::encode_envelope(&nc, &key(100).sign(Context::Manifest, &nc));
        assert_eq!(
            SignedManifest::from_bytes(&env, None).unwrap_err().code(),
            "non-canonical"
        );
    }

    #[test]
    fn returns_every_structural_problem() {
        let mut b = sample();
        b.quorum = 3;
        b.units[1].id = "P-017".into();
        b.units[0].region = "south".into();
        b.units[0].centre = "C9".into();
        b.units[0].contests.push("senate".into());
        b.units[1].contests.push("mayor".into());
        b.regions[0].parent = Some("atlantis".into());
        b.contests[0].choices[1].id = "alice".into();
        b.centres[0].keys[0].valid_until = 1_000;
        b.centres.push(Centre {
            id: "C2".into(),
            name: "Centre 2".into(),
            keys: vec![b.centres[0].keys[0].clone()],
        });
        let mut got = codes(b);
        got.sort_unstable();
        let mut want = vec![
            "quorum-too-large",
            "duplicate-id",
            "unit-unknown-region",
            "unit-unknown-centre",
            "unit-unknown-contest",
            "unit-duplicate-contest",
            "region-unknown-parent",
            "duplicate-choice-id",
            "empty-key-window",
            "empty-key-window",
            "key-in-two-centres",
        ];
        want.sort_unstable();
        assert_eq!(got, want);
    }

    #[test]
    fn rejects_empty_manifests_and_contests() {
        let mut b = sample();
        b.contests[0].choices.clear();
        assert_eq!(codes(b), ["contest-without-choices"]);
        let mut b = sample();
        b.units.clear();
        b.contests.clear();
        assert_eq!(codes(b), ["no-contests", "no-units"]);
    }

    #[test]
    fn detects_region_cycles() {
        let mut b = sample();
        b.regions[0].parent = Some("north-1".into());
        assert_eq!(codes(b.clone()), ["region-cycle"]);
        b.regions[0].parent = Some("north".into());
        assert_eq!(codes(b), ["region-cycle"]);
    }

    #[test]
    fn builder_checks_ids_and_texts() {
        let mut b = sample();
        b.units[0].id = "../etc".into();
        b.contests[0].title = "tab\there".into();
        b.log.origin = "has space".into();
        let got = codes(b);
        assert_eq!(got, ["invalid-text", "invalid-text", "invalid-id"]);
        let mut b = sample();
        b.log.origin = "tallyboard/v1/tally".into();
        assert_eq!(codes(b), ["origin-is-context-label"]);
    }

    #[test]
    fn validation_errors_surface_on_parse() {
        let mut b = sample();
        b.quorum = 2;
        let body = b.to_body_bytes();
        let env = cbor::encode_envelope(&body, &key(100).sign(Context::Manifest, &body));
        let e = SignedManifest::from_bytes(&env, None).unwrap_err();
        assert_eq!(e.code(), "quorum-too-large");
        assert!(e.to_string().contains("quorum 2"));
    }
}
