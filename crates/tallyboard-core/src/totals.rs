//! Signed totals: the sums of the latest revision of every (unit, contest)
//! tally in the log up to a checkpoint, per contest for the whole election
//! and per region, signed by the log key.
//!
//! Body (canonical CBOR map, `spec/tally-and-manifest.md`):
//!
//! | key | field | type |
//! | --- | --- | --- |
//! | 0 | version | uint = 1 |
//! | 1 | election | id |
//! | 2 | checkpoint | map { 0 origin tstr, 1 size uint, 2 root bstr(32) } |
//! | 3 | rows | array of row maps, sorted by (contest, region), whole election first |
//!
//! Row: `{ 0 contest, 1 region (absent = whole election), 2 choices {id =>
//! uint}, 3 blank, 4 invalid, 5 ballots_cast, 6 registered, 7
//! units_reporting, 8 units_expected }`.
//!
//! Signed envelope `[body, signature]`, signature over
//! `"tallyboard/v1/totals\n" || body` under the log key of the manifest.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};

use crate::cbor::{self, CborError, Encoder, Reader, required};
use crate::hash::Hash;
use crate::keys::{Context, PublicKey, SIGNATURE_LEN, SecretKey, Signature};
use crate::limits::MAX_SIGNED_TOTALS;
use crate::manifest::{Manifest, is_valid_origin};
use crate::tally::Tally;

/// The checkpoint the totals are computed at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRef {
    /// The log origin.
    pub origin: String,
    /// Tree size: the totals cover entries `0..size`.
    pub size: u64,
    /// Root hash of the tree of that size.
    pub root: Hash,
}

/// The totals of one contest, for the whole election or one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotalsRow {
    /// Contest id.
    pub contest: String,
    /// Region id; `None` for the whole election.
    pub region: Option<String>,
    /// Votes per choice id (every choice of the contest).
    pub choices: BTreeMap<String, u64>,
    /// Blank ballots.
    pub blank: u64,
    /// Invalid ballots.
    pub invalid: u64,
    /// Ballots cast.
    pub ballots_cast: u64,
    /// Registered voters of the units that reported.
    pub registered: u64,
    /// Units that reported a tally for the contest.
    pub units_reporting: u64,
    /// Units that take part in the contest.
    pub units_expected: u64,
}

/// The totals body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotalsBody {
    /// Election id.
    pub election: String,
    /// The checkpoint the totals are bound to.
    pub checkpoint: CheckpointRef,
    /// Rows, sorted by (contest id, region id) bytewise, the whole-election
    /// row (no region) first for each contest.
    pub rows: Vec<TotalsRow>,
}

/// Errors from parsing or verifying signed totals.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
#[non_exhaustive]
pub enum TotalsError {
    /// The bytes are not canonical signed totals.
    #[error("totals: {0}")]
    Decode(#[from] CborError),
    /// The signature does not verify under the log key.
    #[error("totals signature does not verify under the log key")]
    BadSignature,
    /// Rows are not in strictly increasing (contest, region) order.
    #[error("totals rows are not sorted by contest and region, or repeat one")]
    RowsNotSorted,
    /// A tally given to [`TotalsBuilder::add`] names a unit, contest or
    /// choice the manifest does not have, or a contest its unit does not
    /// take part in (it should have been rejected by the rules first).
    #[error("unit {unit} contest {contest}: tally is not in the manifest")]
    NotInManifest {
        /// The unit.
        unit: String,
        /// The contest.
        contest: String,
    },
}

impl TotalsError {
    /// Stable kebab-case code of the error.
    pub fn code(&self) -> &'static str {
        match self {
            TotalsError::Decode(e) => e.code(),
            TotalsError::BadSignature => "bad-signature",
            TotalsError::RowsNotSorted => "rows-not-sorted",
            TotalsError::NotInManifest { .. } => "not-in-manifest",
        }
    }
}

fn row_order(a: &TotalsRow, b: &TotalsRow) -> core::cmp::Ordering {
    a.contest
        .as_bytes()
        .cmp(b.contest.as_bytes())
        .then_with(|| match (&a.region, &b.region) {
            (None, None) => core::cmp::Ordering::Equal,
            (None, Some(_)) => core::cmp::Ordering::Less,
            (Some(_), None) => core::cmp::Ordering::Greater,
            (Some(x), Some(y)) => x.as_bytes().cmp(y.as_bytes()),
        })
}

impl TotalsBody {
    /// The canonical CBOR body.
    pub fn to_body_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::with_capacity(128 + 96 * self.rows.len());
        e.map(4);
        e.uint(0);
        e.uint(1);
        e.uint(1);
        e.text(&self.election);
        e.uint(2);
        encode_checkpoint(&mut e, &self.checkpoint);
        e.uint(3);
        e.array(self.rows.len());
        for r in &self.rows {
            e.map(8 + usize::from(r.region.is_some()));
            e.uint(0);
            e.text(&r.contest);
            if let Some(region) = &r.region {
                e.uint(1);
                e.text(region);
            }
            e.uint(2);
            e.text_uint_map(&r.choices);
            for (k, v) in [
                (3, r.blank),
                (4, r.invalid),
                (5, r.ballots_cast),
                (6, r.registered),
                (7, r.units_reporting),
                (8, r.units_expected),
            ] {
                e.uint(k);
                e.uint(v);
            }
        }
        e.into_bytes()
    }

    /// Decodes a canonical totals body (no signature check); rows must be
    /// sorted.
    pub fn from_body_bytes(body: &[u8]) -> Result<TotalsBody, TotalsError> {
        let mut r = Reader::new(body, MAX_SIGNED_TOTALS)?;
        let n = r.map("totals")?;
        let mut seen = 0u32;
        let (mut version, mut election, mut checkpoint, mut rows) = (None, None, None, None);
        for _ in 0..n {
            match r.key("totals", &[0, 1, 2, 3], &mut seen)? {
                0 => version = Some(r.version("totals.version")?),
                1 => election = Some(r.id("totals.election")?.to_string()),
                2 => checkpoint = Some(read_checkpoint(&mut r, &TOTALS_CHECKPOINT)?),
                _ => {
                    let n = r.array("totals.rows")?;
                    let mut v = Vec::with_capacity(n);
                    for _ in 0..n {
                        v.push(read_row(&mut r)?);
                    }
                    rows = Some(v);
                }
            }
        }
        r.finish()?;
        required(version, "totals.version")?;
        let t = TotalsBody {
            election: required(election, "totals.election")?,
            checkpoint: required(checkpoint, "totals.checkpoint")?,
            rows: required(rows, "totals.rows")?,
        };
        cbor::require_canonical(body, &t.to_body_bytes())?;
        if t.rows
            .windows(2)
            .any(|w| row_order(&w[0], &w[1]) != core::cmp::Ordering::Less)
        {
            return Err(TotalsError::RowsNotSorted);
        }
        Ok(t)
    }

    /// Signs the totals with the log key.
    pub fn sign(&self, key: &SecretKey) -> SignedTotals {
        let body = self.to_body_bytes();
        let signature = key.sign(Context::Totals, &body);
        let bytes = cbor::encode_envelope(&body, &signature);
        let start = bytes.len() - body.len() - 2 - SIGNATURE_LEN;
        SignedTotals {
            body: start..start + body.len(),
            bytes,
            signature,
            totals: self.clone(),
        }
    }

    /// The row of `contest` for `region` (`None`: whole election).
    pub fn row(&self, contest: &str, region: Option<&str>) -> Option<&TotalsRow> {
        self.rows
            .iter()
            .find(|r| r.contest == contest && r.region.as_deref() == region)
    }
}

/// The field names of a checkpoint reference in one kind of document,
/// as its decoding errors name them.
pub(crate) struct CheckpointFields {
    /// The map itself.
    pub(crate) map: &'static str,
    /// Key 0, the log origin.
    pub(crate) origin: &'static str,
    /// Key 1, the tree size.
    pub(crate) size: &'static str,
    /// Key 2, the root hash.
    pub(crate) root: &'static str,
}

/// The checkpoint reference of signed totals.
const TOTALS_CHECKPOINT: CheckpointFields = CheckpointFields {
    map: "totals.checkpoint",
    origin: "totals.checkpoint.origin",
    size: "totals.checkpoint.size",
    root: "totals.checkpoint.root",
};

/// Encodes a checkpoint reference: `map { 0 origin, 1 size, 2 root }`
/// (signed totals and the authority's certification share it).
pub(crate) fn encode_checkpoint(e: &mut Encoder, c: &CheckpointRef) {
    e.map(3);
    e.uint(0);
    e.text(&c.origin);
    e.uint(1);
    e.uint(c.size);
    e.uint(2);
    e.bytes(&c.root.0);
}

/// Decodes a checkpoint reference (see [`encode_checkpoint`]); errors name
/// the fields of `f`.
pub(crate) fn read_checkpoint(
    r: &mut Reader<'_>,
    f: &CheckpointFields,
) -> Result<CheckpointRef, CborError> {
    let n = r.map(f.map)?;
    let mut seen = 0u32;
    let (mut origin, mut size, mut root) = (None, None, None);
    for _ in 0..n {
        match r.key(f.map, &[0, 1, 2], &mut seen)? {
            0 => {
                let o = r.text(f.origin)?;
                if !is_valid_origin(o) {
                    return Err(CborError::InvalidText { field: f.origin });
                }
                origin = Some(o.to_string());
            }
            1 => size = Some(r.uint(f.size)?),
            _ => root = Some(r.hash(f.root)?),
        }
    }
    Ok(CheckpointRef {
        origin: required(origin, f.origin)?,
        size: required(size, f.size)?,
        root: required(root, f.root)?,
    })
}

fn read_row(r: &mut Reader<'_>) -> Result<TotalsRow, CborError> {
    const F: &str = "totals.rows[]";
    let n = r.map(F)?;
    let mut seen = 0u32;
    let mut contest = None;
    let mut region = None;
    let mut choices = None;
    let mut nums: [Option<u64>; 6] = [None; 6];
    for _ in 0..n {
        match r.key(F, &[0, 1, 2, 3, 4, 5, 6, 7, 8], &mut seen)? {
            0 => contest = Some(r.id("totals.rows[].contest")?.to_string()),
            1 => region = Some(r.id("totals.rows[].region")?.to_string()),
            2 => choices = Some(r.id_uint_map("totals.rows[].choices")?),
            k => {
                let v = r.uint(F)?;
                if let Some(slot) = nums.get_mut(usize::from(k) - 3) {
                    *slot = Some(v);
                }
            }
        }
    }
    Ok(TotalsRow {
        contest: required(contest, "totals.rows[].contest")?,
        region,
        choices: required(choices, "totals.rows[].choices")?,
        blank: required(nums[0], "totals.rows[].blank")?,
        invalid: required(nums[1], "totals.rows[].invalid")?,
        ballots_cast: required(nums[2], "totals.rows[].ballots_cast")?,
        registered: required(nums[3], "totals.rows[].registered")?,
        units_reporting: required(nums[4], "totals.rows[].units_reporting")?,
        units_expected: required(nums[5], "totals.rows[].units_expected")?,
    })
}

/// Signed totals, verified under the log key, kept with their exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTotals {
    bytes: Vec<u8>,
    body: core::ops::Range<usize>,
    signature: Signature,
    totals: TotalsBody,
}

impl SignedTotals {
    /// Parses and verifies signed totals: size cap [`MAX_SIGNED_TOTALS`],
    /// envelope, canonical body with sorted rows, signature under
    /// `log_key` (the manifest's log key) with the totals context.
    pub fn from_bytes(bytes: &[u8], log_key: &PublicKey) -> Result<SignedTotals, TotalsError> {
        let env = cbor::parse_envelope(bytes, MAX_SIGNED_TOTALS)?;
        let body = bytes.get(env.body.clone()).ok_or(CborError::Malformed {
            reason: "truncated input".to_string(),
        })?;
        let totals = TotalsBody::from_body_bytes(body)?;
        log_key
            .verify(Context::Totals, body, &env.signature)
            .map_err(|_| TotalsError::BadSignature)?;
        Ok(SignedTotals {
            bytes: bytes.to_vec(),
            body: env.body,
            signature: env.signature,
            totals,
        })
    }

    /// The exact bytes (served at `/totals`).
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

    /// The verified totals.
    pub fn totals(&self) -> &TotalsBody {
        &self.totals
    }
}

// ---------------------------------------------------------------------------
// Computation

/// Sums of one row, wide enough never to overflow.
#[derive(Debug, Clone)]
struct Acc {
    contest: u32,
    region: Option<u32>,
    choices: Vec<u128>,
    blank: u128,
    invalid: u128,
    ballots_cast: u128,
    registered: u128,
    units_reporting: u64,
    units_expected: u64,
}

const NO_ROW: u32 = u32::MAX;

/// Streaming computation of the totals from the log's tallies.
///
/// Feed every tally that passed the rules, in log order, to
/// [`TotalsBuilder::add`]; only the latest revision of each (unit, contest)
/// counts (a later revision replaces the figures of an earlier one; an
/// older revision arriving later is ignored). Memory is bounded by the
/// manifest: one record per reporting (unit, contest), never per entry.
///
/// `M` is how the builder holds the manifest: a reference (`&Manifest`) or
/// a shared pointer (`Arc<Manifest>`, for state that outlives the caller's
/// borrow).
#[derive(Debug, Clone)]
pub struct TotalsBuilder<M> {
    manifest: M,
    /// Row of (contest, whole election), per contest.
    whole_row: Vec<u32>,
    /// Row of (contest, region) at `contest * regions + region`.
    region_row: Vec<u32>,
    /// Rows in final order.
    rows: Vec<Acc>,
    /// Per (unit, contest) position in `figures`.
    slots: HashMap<(u32, u32), u32>,
    /// Per slot: revision, blank, invalid, ballots_cast, then one count per
    /// choice of the contest in manifest order.
    figures: Vec<u64>,
}

impl<M: Borrow<Manifest>> TotalsBuilder<M> {
    /// A builder with every row of `manifest` at zero: for each contest,
    /// the whole election and every region in which at least one unit
    /// takes part in the contest.
    pub fn new(holder: M) -> TotalsBuilder<M> {
        let manifest: &Manifest = holder.borrow();
        let nc = manifest.contests.len();
        let nr = manifest.regions.len();
        // Which (contest, region) rows exist and how many units each expects.
        let mut expected_whole = vec![0u64; nc];
        let mut expected_region: HashMap<(u32, u32), u64> = HashMap::new();
        // The most every unit's counted figures can take: reserved once
        // (the pages are touched only as tallies are counted), not grown
        // by doubling, which would hold them twice for a moment.
        let (mut pairs, mut words) = (0usize, 0usize);
        for (ui, u) in manifest.units.iter().enumerate() {
            for c in &u.contests {
                let Some(ci) = manifest.contest_index(c) else {
                    continue;
                };
                pairs += 1;
                words += 4 + manifest.contests.get(ci).map_or(0, |c| c.choices.len());
                expected_whole[ci] += 1;
                for &r in manifest.unit_regions(ui) {
                    *expected_region.entry((ci as u32, r)).or_insert(0) += 1;
                }
            }
        }
        let mut keys: Vec<(u32, Option<u32>, u64)> = expected_whole
            .iter()
            .enumerate()
            .map(|(c, &n)| (c as u32, None, n))
            .chain(expected_region.iter().map(|(&(c, r), &n)| (c, Some(r), n)))
            .collect();
        let contest_id = |c: u32| manifest.contests[c as usize].id.as_bytes();
        let region_id = |r: u32| manifest.regions[r as usize].id.as_bytes();
        keys.sort_by(|a, b| {
            contest_id(a.0)
                .cmp(contest_id(b.0))
                .then_with(|| match (a.1, b.1) {
                    (None, None) => core::cmp::Ordering::Equal,
                    (None, Some(_)) => core::cmp::Ordering::Less,
                    (Some(_), None) => core::cmp::Ordering::Greater,
                    (Some(x), Some(y)) => region_id(x).cmp(region_id(y)),
                })
        });
        let mut whole_row = vec![NO_ROW; nc];
        let mut region_row = vec![NO_ROW; nc * nr];
        let mut rows = Vec::with_capacity(keys.len());
        for (i, (c, r, n)) in keys.into_iter().enumerate() {
            match r {
                None => whole_row[c as usize] = i as u32,
                Some(r) => region_row[c as usize * nr + r as usize] = i as u32,
            }
            rows.push(Acc {
                contest: c,
                region: r,
                choices: vec![0; manifest.contests[c as usize].choices.len()],
                blank: 0,
                invalid: 0,
                ballots_cast: 0,
                registered: 0,
                units_reporting: 0,
                units_expected: n,
            });
        }
        TotalsBuilder {
            manifest: holder,
            whole_row,
            region_row,
            rows,
            slots: HashMap::with_capacity(pairs),
            figures: Vec::with_capacity(words),
        }
    }

    /// Counts `tally` (which passed the rules). A tally with a higher
    /// revision than the one counted for its (unit, contest) replaces it;
    /// one with a lower or equal revision is ignored.
    pub fn add(&mut self, tally: &Tally) -> Result<(), TotalsError> {
        let m: &Manifest = self.manifest.borrow();
        let not_in = || TotalsError::NotInManifest {
            unit: tally.unit.clone(),
            contest: tally.contest.clone(),
        };
        let ui = m.unit_index(&tally.unit).ok_or_else(not_in)?;
        let ci = m.contest_index(&tally.contest).ok_or_else(not_in)?;
        let contest = m.contests.get(ci).ok_or_else(not_in)?;
        let width = 4 + contest.choices.len();
        let mut new = vec![0u64; width];
        new[0] = tally.revision;
        new[1] = tally.blank;
        new[2] = tally.invalid;
        new[3] = tally.ballots_cast;
        for (choice, &n) in &tally.choices {
            let k = m.choice_index(ci, choice).ok_or_else(not_in)?;
            new[4 + k] = n;
        }
        let unit = m.units.get(ui).ok_or_else(not_in)?;
        if !unit.contests.contains(&tally.contest) {
            return Err(not_in());
        }
        let registered = unit.registered;
        let key = (ui as u32, ci as u32);
        match self.slots.get(&key).copied() {
            Some(off) => {
                let off = off as usize;
                let old: Vec<u64> = self.figures[off..off + width].to_vec();
                if old[0] >= tally.revision {
                    return Ok(());
                }
                let mut rows = RowsOf {
                    m,
                    b: &mut self.rows,
                    whole_row: &self.whole_row,
                    region_row: &self.region_row,
                };
                rows.apply(ui, ci, &old, registered, false, -1);
                rows.apply(ui, ci, &new, registered, false, 1);
                self.figures[off..off + width].copy_from_slice(&new);
            }
            None => {
                let off = u32::try_from(self.figures.len()).map_err(|_| not_in())?;
                RowsOf {
                    m,
                    b: &mut self.rows,
                    whole_row: &self.whole_row,
                    region_row: &self.region_row,
                }
                .apply(ui, ci, &new, registered, true, 1);
                self.figures.extend_from_slice(&new);
                self.slots.insert(key, off);
            }
        }
        Ok(())
    }

    /// The figures counted for unit number `unit` and contest number
    /// `contest` (positions in the manifest), if it has a counted tally:
    /// revision, blank, invalid, ballots cast, then the votes of each
    /// choice in the contest's order.
    pub fn unit_figures(&self, unit: usize, contest: usize) -> Option<&[u64]> {
        let m: &Manifest = self.manifest.borrow();
        let width = 4 + m.contests.get(contest)?.choices.len();
        let key = (u32::try_from(unit).ok()?, u32::try_from(contest).ok()?);
        let off = *self.slots.get(&key)? as usize;
        self.figures.get(off..off + width)
    }

    /// The totals at checkpoint (`origin`, `size`, `root`). Figures beyond
    /// 2^64 - 1 (impossible with real counts) are capped there.
    pub fn finish(&self, origin: &str, size: u64, root: Hash) -> TotalsBody {
        let m: &Manifest = self.manifest.borrow();
        let cap = |v: u128| u64::try_from(v).unwrap_or(u64::MAX);
        let rows = self
            .rows
            .iter()
            .map(|a| {
                let contest = &m.contests[a.contest as usize];
                TotalsRow {
                    contest: contest.id.clone(),
                    region: a.region.map(|r| m.regions[r as usize].id.clone()),
                    choices: contest
                        .choices
                        .iter()
                        .zip(&a.choices)
                        .map(|(c, &v)| (c.id.clone(), cap(v)))
                        .collect(),
                    blank: cap(a.blank),
                    invalid: cap(a.invalid),
                    ballots_cast: cap(a.ballots_cast),
                    registered: cap(a.registered),
                    units_reporting: a.units_reporting,
                    units_expected: a.units_expected,
                }
            })
            .collect();
        TotalsBody {
            election: m.election.clone(),
            checkpoint: CheckpointRef {
                origin: origin.to_string(),
                size,
                root,
            },
            rows,
        }
    }
}

/// The rows of a [`TotalsBuilder`], borrowed apart from its manifest.
struct RowsOf<'a> {
    m: &'a Manifest,
    b: &'a mut Vec<Acc>,
    whole_row: &'a [u32],
    region_row: &'a [u32],
}

impl RowsOf<'_> {
    /// Adds (`sign = 1`) or removes (`sign = -1`) one slot's figures in
    /// every row the unit counts in.
    fn apply(&mut self, ui: usize, ci: usize, f: &[u64], registered: u64, first: bool, sign: i8) {
        let m = self.m;
        let nr = m.regions.len();
        let rows = core::iter::once(self.whole_row.get(ci).copied().unwrap_or(NO_ROW)).chain(
            m.unit_regions(ui).iter().map(|&r| {
                self.region_row
                    .get(ci * nr + r as usize)
                    .copied()
                    .unwrap_or(NO_ROW)
            }),
        );
        let rows: Vec<u32> = rows.filter(|&r| r != NO_ROW).collect();
        for r in rows {
            let Some(acc) = self.b.get_mut(r as usize) else {
                continue;
            };
            let add = |a: &mut u128, v: u64| {
                if sign > 0 {
                    *a = a.wrapping_add(u128::from(v));
                } else {
                    *a = a.wrapping_sub(u128::from(v));
                }
            };
            add(&mut acc.blank, f[1]);
            add(&mut acc.invalid, f[2]);
            add(&mut acc.ballots_cast, f[3]);
            for (a, &v) in acc.choices.iter_mut().zip(&f[4..]) {
                add(a, v);
            }
            if first {
                acc.registered += u128::from(registered);
                acc.units_reporting += 1;
            }
        }
    }
}

/// One figure that differs between published and recomputed totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotalsDifference {
    /// Contest id.
    pub contest: String,
    /// Region id; `None` for the whole election.
    pub region: Option<String>,
    /// The figure: `choice <id>`, `blank`, `invalid`, `ballots_cast`,
    /// `registered`, `units_reporting`, `units_expected`, or `row` when the
    /// whole row is missing on one side.
    pub figure: String,
    /// The published value (`None`: absent).
    pub published: Option<u64>,
    /// The recomputed value (`None`: absent).
    pub recomputed: Option<u64>,
}

impl core::fmt::Display for TotalsDifference {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let show = |v: Option<u64>| v.map_or_else(|| "absent".to_string(), |v| v.to_string());
        write!(
            f,
            "contest {} {}: {} published {}, recomputed from the log {}",
            self.contest,
            self.region
                .as_deref()
                .map_or_else(|| "whole election".to_string(), |r| format!("region {r}")),
            self.figure,
            show(self.published),
            show(self.recomputed)
        )
    }
}

/// Every figure that differs between `published` and `recomputed` rows
/// (the checkpoint and election are compared by the caller), in the order
/// of `spec/tally-and-manifest.md` §8.4: rows by (contest id, region id)
/// bytewise, the whole-election row first; within a row the choice ids of
/// both sides in bytewise order, then `blank`, `invalid`, `ballots_cast`,
/// `registered`, `units_reporting`, `units_expected`. A row present on one
/// side only is one difference, figure `row`, whose values are that row's
/// `ballots_cast` and absent.
pub fn diff(published: &TotalsBody, recomputed: &TotalsBody) -> Vec<TotalsDifference> {
    let by_key = |t: &TotalsBody| -> BTreeMap<(String, Option<String>), usize> {
        t.rows
            .iter()
            .enumerate()
            .map(|(i, r)| ((r.contest.clone(), r.region.clone()), i))
            .collect()
    };
    let p = by_key(published);
    let r = by_key(recomputed);
    let mut keys: Vec<&(String, Option<String>)> = p.keys().chain(r.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for k in keys {
        let pr = p.get(k).and_then(|&i| published.rows.get(i));
        let rr = r.get(k).and_then(|&i| recomputed.rows.get(i));
        let mut push = |figure: String, a: Option<u64>, b: Option<u64>| {
            if a != b {
                out.push(TotalsDifference {
                    contest: k.0.clone(),
                    region: k.1.clone(),
                    figure,
                    published: a,
                    recomputed: b,
                });
            }
        };
        match (pr, rr) {
            (Some(a), Some(b)) => {
                let mut choices: Vec<&String> = a.choices.keys().chain(b.choices.keys()).collect();
                choices.sort();
                choices.dedup();
                for c in choices {
                    push(
                        format!("choice {c}"),
                        a.choices.get(c).copied(),
                        b.choices.get(c).copied(),
                    );
                }
                for (name, x, y) in [
                    ("blank", a.blank, b.blank),
                    ("invalid", a.invalid, b.invalid),
                    ("ballots_cast", a.ballots_cast, b.ballots_cast),
                    ("registered", a.registered, b.registered),
                    ("units_reporting", a.units_reporting, b.units_reporting),
                    ("units_expected", a.units_expected, b.units_expected),
                ] {
                    push(name.to_string(), Some(x), Some(y));
                }
            }
            (a, b) => push(
                "row".to_string(),
                a.map(|r| r.ballots_cast),
                b.map(|r| r.ballots_cast),
            ),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::tests::{key, sample};

    fn tally(unit: &str, alice: u64, bob: u64, blank: u64, invalid: u64) -> Tally {
        Tally::new(
            "general-2026",
            "mayor",
            unit,
            [("alice", alice), ("bob", bob)],
            blank,
            invalid,
            alice + bob + blank + invalid,
            1_200,
            key(1).public_key(),
        )
    }

    fn figures(r: &TotalsRow) -> (u64, u64, u64, u64, u64, u64, u64, u64) {
        (
            r.choices["alice"],
            r.choices["bob"],
            r.blank,
            r.invalid,
            r.ballots_cast,
            r.registered,
            r.units_reporting,
            r.units_expected,
        )
    }

    #[test]
    fn sums_units_into_their_regions_ancestors_and_the_whole_election() {
        let m = sample().validate().unwrap();
        let mut b = TotalsBuilder::new(&m);
        let empty = b.finish("o.example/x", 0, Hash::EMPTY_TREE);
        let order: Vec<Option<&str>> = empty.rows.iter().map(|r| r.region.as_deref()).collect();
        assert_eq!(order, [None, Some("north"), Some("north-1")]);
        assert_eq!(figures(&empty.rows[0]), (0, 0, 0, 0, 0, 0, 0, 2));

        b.add(&tally("P-017", 500, 312, 9, 4)).unwrap();
        b.add(&tally("P-001", 100, 200, 1, 1)).unwrap();
        let t = b.finish("o.example/x", 2, Hash([5; 32]));
        assert_eq!(figures(&t.rows[0]), (600, 512, 10, 5, 1127, 1800, 2, 2));
        assert_eq!(figures(&t.rows[1]), (600, 512, 10, 5, 1127, 1800, 2, 2));
        assert_eq!(figures(&t.rows[2]), (500, 312, 9, 4, 825, 1000, 1, 1));
        assert_eq!(t.election, "general-2026");
        assert_eq!(t.checkpoint.size, 2);
    }

    #[test]
    fn only_the_latest_revision_counts() {
        let m = sample().validate().unwrap();
        let mut b = TotalsBuilder::new(&m);
        let r1 = tally("P-017", 500, 312, 9, 4);
        let h1 = r1.sign(&key(1)).leaf_hash();
        b.add(&r1).unwrap();
        let mut r2 = r1.correction(h1, "recount");
        r2.choices.insert("alice".into(), 490);
        r2.ballots_cast = 815;
        b.add(&r2).unwrap();
        // A late copy of revision 1 changes nothing.
        b.add(&r1).unwrap();
        let t = b.finish("o.example/x", 3, Hash([5; 32]));
        assert_eq!(figures(&t.rows[0]), (490, 312, 9, 4, 815, 1000, 1, 2));
        assert_eq!(figures(&t.rows[2]), (490, 312, 9, 4, 815, 1000, 1, 1));
    }

    #[test]
    fn refuses_tallies_outside_the_manifest() {
        let m = sample().validate().unwrap();
        let mut b = TotalsBuilder::new(&m);
        let mut t = tally("P-017", 1, 1, 0, 0);
        t.choices.insert("mallory".into(), 1);
        assert_eq!(b.add(&t).unwrap_err().code(), "not-in-manifest");
        assert_eq!(
            b.add(&tally("P-999", 1, 1, 0, 0)).unwrap_err().code(),
            "not-in-manifest"
        );
        // A contest the unit does not take part in.
        let mut body = sample();
        let mut senate = body.contests[0].clone();
        senate.id = "senate".into();
        body.contests.push(senate);
        body.units[1].contests.push("senate".into());
        let m = body.validate().unwrap();
        let mut b = TotalsBuilder::new(&m);
        let mut t = tally("P-017", 1, 1, 0, 0);
        t.contest = "senate".into();
        assert_eq!(b.add(&t).unwrap_err().code(), "not-in-manifest");
        t.unit = "P-001".into();
        assert_eq!(b.add(&t), Ok(()));
    }

    #[test]
    fn the_cap_applies_to_finished_figures_only() {
        // Sums are exact while streaming; 2^64 - 1 is written only for a
        // finished figure above it, so a correction that brings the sum
        // back below the cap gives the exact figure.
        let m = sample().validate().unwrap();
        let mut b = TotalsBuilder::new(&m);
        let mut big = tally("P-017", 0, 0, 0, 0);
        big.choices.insert("alice".into(), u64::MAX);
        big.ballots_cast = u64::MAX;
        b.add(&big).unwrap();
        b.add(&tally("P-001", 5, 0, 0, 0)).unwrap();
        let t = b.finish("o.example/x", 2, Hash([5; 32]));
        assert_eq!(t.rows[0].choices["alice"], u64::MAX);
        assert_eq!(t.rows[0].ballots_cast, u64::MAX);
        let h = big.sign(&key(1)).leaf_hash();
        let mut fixed = big.correction(h, "typo");
        fixed.choices.insert("alice".into(), 7);
        fixed.ballots_cast = 7;
        b.add(&fixed).unwrap();
        let t = b.finish("o.example/x", 3, Hash([5; 32]));
        assert_eq!(t.rows[0].choices["alice"], 12);
        assert_eq!(t.rows[0].ballots_cast, 12);
        assert_eq!(t.rows[2].choices["alice"], 7);
    }

    fn computed() -> TotalsBody {
        let m = sample().validate().unwrap();
        let mut b = TotalsBuilder::new(&m);
        b.add(&tally("P-017", 500, 312, 9, 4)).unwrap();
        b.finish("o.example/x", 1, Hash([5; 32]))
    }

    #[test]
    fn signed_totals_round_trip_and_rejections() {
        let t = computed();
        let s = t.sign(&key(101));
        let p = SignedTotals::from_bytes(s.as_bytes(), &key(101).public_key()).unwrap();
        assert_eq!(p.totals(), &t);
        assert_eq!(p.as_bytes(), s.as_bytes());
        assert_eq!(
            SignedTotals::from_bytes(s.as_bytes(), &key(1).public_key()).unwrap_err(),
            TotalsError::BadSignature
        );
        let mut b = s.to_bytes();
        b.push(0);
        assert_eq!(
            SignedTotals::from_bytes(&b, &key(101).public_key())
                .unwrap_err()
                .code(),
            "trailing-bytes"
        );
        let mut unsorted = t.clone();
        unsorted.rows.swap(1, 2);
        let s = unsorted.sign(&key(101));
        assert_eq!(
            SignedTotals::from_bytes(s.as_bytes(), &key(101).public_key()).unwrap_err(),
            TotalsError::RowsNotSorted
        );
    }

    #[test]
    fn diff_names_contest_region_and_figure() {
        let recomputed = computed();
        assert_eq!(diff(&recomputed, &recomputed), []);
        let mut published = recomputed.clone();
        published.rows[2].choices.insert("alice".into(), 600);
        published.rows[0].blank = 0;
        published.rows.remove(1);
        let d = diff(&published, &recomputed);
        let got: Vec<String> = d.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "contest mayor whole election: blank published 0, recomputed from the log 9",
                "contest mayor region north: row published absent, recomputed from the log 825",
                "contest mayor region north-1: choice alice published 600, recomputed from the log 500",
            ]
        );
    }
}
