//! Self-contained evidence files: what a verifier or a mirror keeps when a
//! log or a source misbehaves, so that anyone holding the log's public key
//! can re-check the finding without trusting tallyboard (`tallyboard verify
//! --recheck FILE`, or another implementation of `spec/verify.md` §6).
//!
//! Two kinds, both JSON (`tallyboard-evidence/v1`):
//!
//! - **split view**: two checkpoints signed by the log key that cannot both
//!   be true of one append-only log. Equal sizes with different roots prove
//!   it alone; otherwise the file carries the root that the larger tree
//!   gives to the smaller size and the consistency proof of that root in
//!   the larger tree, and the root differs from the smaller checkpoint's.
//!   Being signed, this is proof against the log itself.
//! - **bad data**: a signed checkpoint, the path of a tile or entry bundle,
//!   the bytes a source served for it and the tiles needed to show what they
//!   should hash to. Either the tiles authenticate against the checkpoint's
//!   root and the served bundle does not match them, or the tiles as served
//!   do not hash to the root. (Served bytes carry no signature: the file
//!   proves that these bytes contradict the signed checkpoint; that the
//!   named source served them is the verifier's testimony, which anyone can
//!   confirm by fetching the same immutable path.)

use std::collections::HashMap;
use std::path::Path;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use tallyboard_core::Hash;
use tallyboard_core::checkpoint::{OpenedCheckpoint, open_checkpoint};
use tallyboard_core::hash::leaf_hash;
use tallyboard_core::limits::MAX_PROOF_HASHES;
use tallyboard_core::merkle::{TreeError, verify_consistency, verify_inclusion};
use tallyboard_core::note::VerifierKey;
use tallyboard_core::tile::{
    BundleId, EntryBundle, HashTile, TileHashReader, TileId, TilePath, TileReadError,
};
use tallyboard_core::totals::{SignedTotals, TotalsRow};

use crate::source::{MapFetcher, TileNotHeld};

/// The `format` of every evidence file of this version.
pub const EVIDENCE_FORMAT: &str = "tallyboard-evidence/v1";

/// Largest evidence file read back, in bytes (a bad-data file holds one
/// bundle of at most `MAX_ENTRY_BUNDLE` bytes and a few dozen tiles, in
/// base64).
pub const MAX_EVIDENCE: usize = 16 * 1024 * 1024;

/// Most tiles one evidence file may hold.
pub const MAX_EVIDENCE_TILES: usize = 256;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// A signed checkpoint and where it was read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcedNote {
    /// The source (base URL or directory) that served it.
    pub source: String,
    /// The signed note, exactly as served (C2SP signed notes are UTF-8).
    pub note: String,
}

/// Bytes served at a path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServedFile {
    /// The read-API path (`tile/0/000`, `tile/entries/000.p/7`).
    pub path: String,
    /// The bytes, base64 (RFC 4648, padded).
    pub data: String,
}

/// Two signed checkpoints that cannot both be true.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitView {
    /// The checkpoint of the smaller (or equal) tree size.
    pub first: SourcedNote,
    /// The checkpoint of the larger (or equal) tree size.
    pub second: SourcedNote,
    /// When the sizes differ: the root (hex) that the second tree gives to
    /// the first size; it differs from the first checkpoint's root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implied_root: Option<String>,
    /// When the sizes differ: the RFC 6962 consistency proof (hex hashes)
    /// from (first size, `implied_root`) to the second checkpoint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consistency_proof: Vec<String>,
}

/// A tile or bundle that contradicts a signed checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadData {
    /// The checkpoint the data was read against.
    pub checkpoint: SourcedNote,
    /// The path at fault and the bytes served for it.
    pub served: ServedFile,
    /// The full URL (or file) the bytes came from.
    pub served_from: String,
    /// Tiles (as served) that show what the data should hash to: the tiles
    /// core's `TileHashReader` reads to authenticate the level-0 tile of a
    /// bundle, or the tiles that fail to authenticate.
    pub tiles: Vec<ServedFile>,
}

/// An entry the log holds, with its inclusion proof: what a finding about
/// a tally (a broken rule, a bad signature, a disagreeing backup channel)
/// rests on. The entry is signed by its count centre (or fails to be), so
/// anyone with the manifest can re-check the tally itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The checkpoint the proof is against.
    pub checkpoint: SourcedNote,
    /// Leaf index.
    pub index: u64,
    /// The entry bytes (a signed tally), base64.
    pub entry: String,
    /// RFC 6962 inclusion proof (hex hashes) of the entry in the checkpoint.
    pub inclusion_proof: Vec<String>,
}

/// One figure of published totals that differs from the recomputed one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotalsFigure {
    /// The contest.
    pub contest: String,
    /// The region (`None`: the whole election).
    #[serde(default)]
    pub region: Option<String>,
    /// `choice <id>`, `blank`, `invalid`, `ballots_cast`, `registered`,
    /// `units_reporting`, `units_expected` or `row`
    /// (`spec/tally-and-manifest.md` §8.4).
    pub figure: String,
    /// The figure in the signed totals (`None`: absent); [`check`] reads
    /// it again from them.
    pub published: Option<u64>,
    /// The figure the verifier recomputed from the log's entries (its
    /// testimony: anyone can recompute it from any copy of the log).
    pub recomputed: Option<u64>,
}

/// Signed totals that are not the sum of the log's entries, or not bound
/// to the log's tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotalsEvidence {
    /// The log's checkpoint the totals were compared at (the tree verified).
    pub checkpoint: SourcedNote,
    /// The source that served the totals.
    pub served_from: String,
    /// The signed totals, exactly as served, base64.
    pub totals: String,
    /// The root (hex) that the checkpoint's tree gives to the totals'
    /// size.
    pub implied_root: String,
    /// RFC 6962 consistency proof (hex hashes) from (the totals' size,
    /// `implied_root`) to the checkpoint (empty when the sizes are equal).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consistency_proof: Vec<String>,
    /// The figures that differ (none for totals not bound to the tree).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<TotalsFigure>,
}

/// What the evidence is of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EvidenceBody {
    /// Two conflicting signed checkpoints.
    SplitView(SplitView),
    /// Served data that does not hash to a signed checkpoint.
    BadData(BadData),
    /// An entry of the log, proved to be in it.
    LogEntry(LogEntry),
    /// Signed totals that differ from the entries or are not bound to the
    /// log's tree.
    Totals(TotalsEvidence),
}

/// An evidence file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Always [`EVIDENCE_FORMAT`].
    pub format: String,
    /// What happened, in plain words (informative; [`check`] does not read it).
    pub summary: String,
    /// The log's origin (the key name of the log key).
    pub origin: String,
    /// The log's verifier key (C2SP key string) as the writer knew it
    /// (informative: [`check`] uses the key its caller trusts).
    pub log_key: String,
    /// The evidence proper.
    #[serde(flatten)]
    pub body: EvidenceBody,
}

/// Why an evidence file does not prove what it claims.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EvidenceError {
    /// Not JSON of the evidence format, or over [`MAX_EVIDENCE`] bytes.
    #[error("not a tallyboard evidence file: {0}")]
    Malformed(String),
    /// A checkpoint in the file does not verify under the log key.
    #[error("the checkpoint from {from} is not signed by the log key {key}: {reason}")]
    BadCheckpoint {
        /// Where the file says it came from.
        from: String,
        /// The log key name.
        key: String,
        /// Why it does not open.
        reason: String,
    },
    /// The file's contents do not show a contradiction.
    #[error("the evidence does not prove a fault: {0}")]
    NotProven(String),
}

impl EvidenceError {
    /// A stable, kebab-case code (vectors, JSON reports).
    pub fn code(&self) -> &'static str {
        match self {
            EvidenceError::Malformed(_) => "malformed",
            EvidenceError::BadCheckpoint { .. } => "bad-checkpoint",
            EvidenceError::NotProven(_) => "not-proven",
        }
    }
}

/// The data at fault in bad-data evidence.
#[derive(Clone, Copy, Debug)]
pub struct Served<'a> {
    /// The read-API path.
    pub path: &'a str,
    /// The full URL or file it was read from.
    pub url: &'a str,
    /// The bytes served.
    pub bytes: &'a [u8],
}

/// What a checked evidence file proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proven {
    /// `split-view` or `source-bad-data`.
    pub code: &'static str,
    /// The fault in plain words.
    pub statement: String,
}

impl Evidence {
    /// Parses an evidence file (at most [`MAX_EVIDENCE`] bytes).
    pub fn from_json(bytes: &[u8]) -> Result<Evidence, EvidenceError> {
        if bytes.len() > MAX_EVIDENCE {
            return Err(EvidenceError::Malformed(format!(
                "{} bytes, more than the limit of {MAX_EVIDENCE}",
                bytes.len()
            )));
        }
        let e: Evidence =
            serde_json::from_slice(bytes).map_err(|e| EvidenceError::Malformed(e.to_string()))?;
        if e.format != EVIDENCE_FORMAT {
            return Err(EvidenceError::Malformed(format!(
                "format {:?}, expected {EVIDENCE_FORMAT:?}",
                e.format
            )));
        }
        Ok(e)
    }

    /// The file's bytes (pretty JSON with a final newline).
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing plain strings and vectors cannot fail.
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    /// The finding code this evidence backs.
    pub fn code(&self) -> &'static str {
        match &self.body {
            EvidenceBody::SplitView(_) => "split-view",
            EvidenceBody::BadData(_) => "source-bad-data",
            EvidenceBody::LogEntry(_) => "log-entry",
            EvidenceBody::Totals(t) if t.differences.is_empty() => "totals-unbound",
            EvidenceBody::Totals(_) => "totals-mismatch",
        }
    }

    /// Evidence that the log of checkpoint `cp` (read from `source`) holds
    /// `entry` at `index`, with its inclusion `proof`.
    pub fn log_entry(
        log_key: &VerifierKey,
        source: &str,
        cp: &OpenedCheckpoint,
        index: u64,
        entry: &[u8],
        proof: &[Hash],
        summary: String,
    ) -> Evidence {
        Evidence {
            format: EVIDENCE_FORMAT.to_owned(),
            summary,
            origin: log_key.name().to_owned(),
            log_key: log_key.to_string(),
            body: EvidenceBody::LogEntry(LogEntry {
                checkpoint: SourcedNote {
                    source: source.to_owned(),
                    note: String::from_utf8_lossy(&cp.note).into_owned(),
                },
                index,
                entry: b64().encode(entry),
                inclusion_proof: proof.iter().map(Hash::to_hex).collect(),
            }),
        }
    }

    /// The entry bytes of log-entry evidence.
    pub fn entry_bytes(&self) -> Option<Vec<u8>> {
        match &self.body {
            EvidenceBody::LogEntry(le) => b64().decode(le.entry.as_bytes()).ok(),
            _ => None,
        }
    }

    /// A file name for the evidence: the code and the first 12 hex digits of
    /// the SHA-256 of the content (so identical evidence gets one file).
    pub fn file_name(&self) -> String {
        let h = Hash::sha256(&self.to_json()).to_hex();
        format!("{}-{}.json", self.code(), &h[..12])
    }

    /// Writes the file into `dir` (created if needed) under
    /// [`Evidence::file_name`], atomically and durably (temporary file,
    /// fsync, rename, directory fsync). Returns the file name.
    pub fn write_to_dir(&self, dir: &Path) -> std::io::Result<String> {
        std::fs::create_dir_all(dir)?;
        let name = self.file_name();
        tallyboard_fs::replace(
            &dir.join(&name),
            &self.to_json(),
            tallyboard_fs::Access::Shared,
        )?;
        Ok(name)
    }

    /// Totals evidence: `totals` as `source` served them, compared at the
    /// checkpoint `cp` (served by `cp_source`), with the root the
    /// checkpoint's tree gives to the totals' size and its consistency
    /// proof, and the figures that differ (none: the totals are not bound
    /// to the tree).
    #[allow(clippy::too_many_arguments)]
    pub fn totals(
        log_key: &VerifierKey,
        (cp_source, cp): (&str, &OpenedCheckpoint),
        source: &str,
        totals: &[u8],
        (implied, proof): (Hash, &[Hash]),
        differences: Vec<TotalsFigure>,
        summary: String,
    ) -> Evidence {
        Evidence {
            format: EVIDENCE_FORMAT.to_owned(),
            summary,
            origin: log_key.name().to_owned(),
            log_key: log_key.to_string(),
            body: EvidenceBody::Totals(TotalsEvidence {
                checkpoint: SourcedNote {
                    source: cp_source.to_owned(),
                    note: String::from_utf8_lossy(&cp.note).into_owned(),
                },
                served_from: source.to_owned(),
                totals: b64().encode(totals),
                implied_root: implied.to_hex(),
                consistency_proof: proof.iter().map(Hash::to_hex).collect(),
                differences,
            }),
        }
    }

    /// Split-view evidence from two signed checkpoints of one log (in any
    /// order). `implied_root` and `proof` are needed when the sizes differ:
    /// the root the larger tree gives to the smaller size and its
    /// consistency proof (see [`crate::follow::implied_root`]).
    pub fn split_view(
        log_key: &VerifierKey,
        a: (&str, &OpenedCheckpoint),
        b: (&str, &OpenedCheckpoint),
        implied: Option<(Hash, Vec<Hash>)>,
    ) -> Evidence {
        let (first, second) = if a.1.checkpoint.size <= b.1.checkpoint.size {
            (a, b)
        } else {
            (b, a)
        };
        let sourced = |(s, c): (&str, &OpenedCheckpoint)| SourcedNote {
            source: s.to_owned(),
            note: String::from_utf8_lossy(&c.note).into_owned(),
        };
        let (fs, ss) = (first.1.checkpoint.size, second.1.checkpoint.size);
        let summary = if fs == ss {
            format!(
                "The log signed two different trees of the same size {fs}: {} served root {} and {} served root {}.",
                first.0, first.1.checkpoint.root, second.0, second.1.checkpoint.root
            )
        } else {
            format!(
                "The log signed a tree of size {fs} ({} served it) and a tree of size {ss} ({} served it) that does not extend it: the larger tree's first {fs} entries hash to a different root.",
                first.0, second.0
            )
        };
        let (implied_root, consistency_proof) = match (fs == ss, implied) {
            (false, Some((r, p))) => (Some(r.to_hex()), p.iter().map(Hash::to_hex).collect()),
            _ => (None, Vec::new()),
        };
        Evidence {
            format: EVIDENCE_FORMAT.to_owned(),
            summary,
            origin: log_key.name().to_owned(),
            log_key: log_key.to_string(),
            body: EvidenceBody::SplitView(SplitView {
                first: sourced(first),
                second: sourced(second),
                implied_root,
                consistency_proof,
            }),
        }
    }

    /// Bad-data evidence: what `source` served (see [`Served`]) under
    /// checkpoint `cp`, with the `tiles` (as served) that show the
    /// contradiction.
    pub fn bad_data(
        log_key: &VerifierKey,
        source: &str,
        cp: &OpenedCheckpoint,
        served: Served<'_>,
        tiles: &[(TileId, Vec<u8>)],
        summary: String,
    ) -> Evidence {
        let Served { path, url, bytes } = served;
        Evidence {
            format: EVIDENCE_FORMAT.to_owned(),
            summary,
            origin: log_key.name().to_owned(),
            log_key: log_key.to_string(),
            body: EvidenceBody::BadData(BadData {
                checkpoint: SourcedNote {
                    source: source.to_owned(),
                    note: String::from_utf8_lossy(&cp.note).into_owned(),
                },
                served: ServedFile {
                    path: path.to_owned(),
                    data: b64().encode(bytes),
                },
                served_from: url.to_owned(),
                tiles: tiles
                    .iter()
                    .map(|(t, b)| ServedFile {
                        path: t.path(),
                        data: b64().encode(b),
                    })
                    .collect(),
            }),
        }
    }
}

fn open(note: &SourcedNote, log_key: &VerifierKey) -> Result<OpenedCheckpoint, EvidenceError> {
    open_checkpoint(note.note.as_bytes(), log_key, &[], 0).map_err(|e| {
        EvidenceError::BadCheckpoint {
            from: note.source.clone(),
            key: log_key.name().to_owned(),
            reason: e.to_string(),
        }
    })
}

/// A hash written as exactly 64 lower-case hex digits.
fn hex_hash(s: &str, what: &str) -> Result<Hash, EvidenceError> {
    let lower = s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    lower
        .then(|| Hash::from_hex(s))
        .flatten()
        .ok_or_else(|| EvidenceError::Malformed(format!("{what} is not 64 lower-case hex digits")))
}

/// A proof: at most [`MAX_PROOF_HASHES`] hashes, each 64 lower-case hex
/// digits.
fn hex_proof(hashes: &[String], what: &str) -> Result<Vec<Hash>, EvidenceError> {
    if hashes.len() > MAX_PROOF_HASHES {
        return Err(EvidenceError::Malformed(format!(
            "{what} of {} hashes, more than {MAX_PROOF_HASHES}",
            hashes.len()
        )));
    }
    hashes
        .iter()
        .map(|h| hex_hash(h, &format!("a {what} hash")))
        .collect()
}

/// Re-verifies `evidence` against the log key the caller trusts (from the
/// manifest signed by the authority), independently of whoever wrote it.
/// Returns what it proves, or why it proves nothing.
///
/// The order is that of `spec/verify.md` §3: every value of the file is
/// checked for syntax first (`malformed`), then its checkpoints are opened
/// (`bad-checkpoint`), and only then is the contradiction looked for
/// (`not-proven` when there is none).
pub fn check(evidence: &Evidence, log_key: &VerifierKey) -> Result<Proven, EvidenceError> {
    match &evidence.body {
        EvidenceBody::SplitView(sv) => {
            let implied = match &sv.implied_root {
                Some(r) => Some(hex_hash(r, "implied_root")?),
                None => None,
            };
            let proof = hex_proof(&sv.consistency_proof, "consistency proof")?;
            check_split_view(sv, implied, &proof, log_key)
        }
        EvidenceBody::BadData(bd) => {
            let decoded = decode_bad_data(bd)?;
            check_bad_data(bd, decoded, log_key)
        }
        EvidenceBody::Totals(te) => check_totals(te, log_key),
        EvidenceBody::LogEntry(le) => {
            let entry = b64()
                .decode(le.entry.as_bytes())
                .map_err(|e| EvidenceError::Malformed(format!("entry is not base64: {e}")))?;
            let proof = hex_proof(&le.inclusion_proof, "inclusion proof")?;
            check_log_entry(le, &entry, &proof, log_key)
        }
    }
}

/// Totals evidence: the totals the log key signed, bound (or not) to the
/// checkpoint's tree by a consistency proof.
#[allow(clippy::too_many_lines)]
fn check_totals(te: &TotalsEvidence, log_key: &VerifierKey) -> Result<Proven, EvidenceError> {
    let cp = open(&te.checkpoint, log_key)?;
    let (n, root) = (cp.checkpoint.size, cp.checkpoint.root);
    let bytes = b64()
        .decode(te.totals.as_bytes())
        .map_err(|e| EvidenceError::Malformed(format!("totals is not base64: {e}")))?;
    let st = SignedTotals::from_bytes(&bytes, log_key.public_key()).map_err(|e| {
        EvidenceError::NotProven(format!(
            "the totals are not valid totals signed by the log key: {e}"
        ))
    })?;
    let t = st.totals();
    let m = t.checkpoint.size;
    if m > n {
        return Err(EvidenceError::NotProven(format!(
            "the totals are for size {m}, larger than the checkpoint's {n}"
        )));
    }
    let implied = hex_hash(&te.implied_root, "implied_root")?;
    let proof = hex_proof(&te.consistency_proof, "consistency proof")?;
    let linked = if m == n {
        implied == root
    } else if m == 0 {
        implied == Hash::sha256(b"")
    } else {
        verify_consistency(m, n, &implied, &root, &proof).is_ok()
    };
    if !linked {
        return Err(EvidenceError::NotProven(format!(
            "implied_root is not proved to be the root of the first {m} entries of the checkpoint's tree"
        )));
    }
    let from = &te.served_from;
    if t.checkpoint.root != implied || t.checkpoint.origin != log_key.name() {
        if !te.differences.is_empty() {
            return Err(EvidenceError::NotProven(
                "totals not bound to the tree are not compared figure by figure".to_owned(),
            ));
        }
        return Ok(Proven {
            code: "totals-unbound",
            statement: format!(
                "the log key signed totals (served by {from}) for the log {} at size {m} with root {}, but the log's checkpoint of size {n} gives its first {m} entries the root {implied}",
                t.checkpoint.origin, t.checkpoint.root
            ),
        });
    }
    if te.differences.is_empty() {
        return Err(EvidenceError::NotProven(
            "the totals are bound to the tree and the file names no figure that differs".to_owned(),
        ));
    }
    let mut said = Vec::new();
    for d in &te.differences {
        let row = t.row(&d.contest, d.region.as_deref());
        let published = figure_of(row, &d.figure);
        if published != d.published {
            return Err(EvidenceError::NotProven(format!(
                "the signed totals give {} of contest {} {} as {}, not {} as the file says",
                d.figure,
                d.contest,
                d.region.as_deref().unwrap_or("(whole election)"),
                show(published),
                show(d.published)
            )));
        }
        if d.published == d.recomputed {
            return Err(EvidenceError::NotProven(format!(
                "{} of contest {}: the published and recomputed figures are equal",
                d.figure, d.contest
            )));
        }
        said.push(format!(
            "{} of contest {} {}: published {}, recomputed {}",
            d.figure,
            d.contest,
            d.region.as_deref().unwrap_or("(whole election)"),
            show(d.published),
            show(d.recomputed)
        ));
    }
    Ok(Proven {
        code: "totals-mismatch",
        statement: format!(
            "the log key signed totals (served by {from}) for the log's tree of size {m}, which the checkpoint of size {n} extends; they publish {}. The recomputed figures are the verifier's: run tallyboard verify over any copy of the log to recompute them from the entries",
            said.join("; ")
        ),
    })
}

fn show(v: Option<u64>) -> String {
    v.map_or_else(|| "absent".to_owned(), |v| v.to_string())
}

/// A figure of a totals row, named as in `spec/tally-and-manifest.md` §8.4.
fn figure_of(row: Option<&TotalsRow>, figure: &str) -> Option<u64> {
    let row = row?;
    if let Some(choice) = figure.strip_prefix("choice ") {
        return row.choices.get(choice).copied();
    }
    match figure {
        "blank" => Some(row.blank),
        "invalid" => Some(row.invalid),
        "ballots_cast" | "row" => Some(row.ballots_cast),
        "registered" => Some(row.registered),
        "units_reporting" => Some(row.units_reporting),
        "units_expected" => Some(row.units_expected),
        _ => None,
    }
}

fn check_log_entry(
    le: &LogEntry,
    entry: &[u8],
    proof: &[Hash],
    log_key: &VerifierKey,
) -> Result<Proven, EvidenceError> {
    let cp = open(&le.checkpoint, log_key)?;
    let (n, root) = (cp.checkpoint.size, cp.checkpoint.root);
    verify_inclusion(&leaf_hash(entry), le.index, n, proof, &root).map_err(|e| {
        EvidenceError::NotProven(format!(
            "the entry is not proved to be at index {} of the tree of size {n}: {e}",
            le.index
        ))
    })?;
    Ok(Proven {
        code: "log-entry",
        statement: format!(
            "the log's checkpoint of size {n} (from {}) holds this entry at index {}",
            le.checkpoint.source, le.index
        ),
    })
}

fn check_split_view(
    sv: &SplitView,
    implied: Option<Hash>,
    proof: &[Hash],
    log_key: &VerifierKey,
) -> Result<Proven, EvidenceError> {
    let a = open(&sv.first, log_key)?;
    let b = open(&sv.second, log_key)?;
    let (ca, cb) = (&a.checkpoint, &b.checkpoint);
    if ca.size == cb.size {
        if ca.root == cb.root {
            return Err(EvidenceError::NotProven(format!(
                "both checkpoints have size {} and the same root",
                ca.size
            )));
        }
        return Ok(Proven {
            code: "split-view",
            statement: format!(
                "the log signed two different roots for tree size {}: {} (from {}) and {} (from {})",
                ca.size, ca.root, sv.first.source, cb.root, sv.second.source
            ),
        });
    }
    if ca.size > cb.size {
        return Err(EvidenceError::NotProven(
            "the first checkpoint must have the smaller tree size".to_owned(),
        ));
    }
    let Some(implied) = implied else {
        return Err(EvidenceError::NotProven(
            "checkpoints of different sizes need implied_root and consistency_proof".to_owned(),
        ));
    };
    verify_consistency(ca.size, cb.size, &implied, &cb.root, proof).map_err(|e| {
        EvidenceError::NotProven(format!(
            "the consistency proof does not link implied_root to the second checkpoint: {e}"
        ))
    })?;
    if implied == ca.root {
        return Err(EvidenceError::NotProven(
            "the second tree extends the first: they are consistent".to_owned(),
        ));
    }
    Ok(Proven {
        code: "split-view",
        statement: format!(
            "the log signed a tree of size {} with root {} (from {}) and a tree of size {} (from {}) whose first {} entries have root {}: the second does not extend the first",
            ca.size, ca.root, sv.first.source, cb.size, sv.second.source, ca.size, implied
        ),
    })
}

fn decode(f: &ServedFile) -> Result<Vec<u8>, EvidenceError> {
    b64()
        .decode(f.data.as_bytes())
        .map_err(|e| EvidenceError::Malformed(format!("{}: data is not base64: {e}", f.path)))
}

/// Whether a reader error is an authentication failure of served tiles (as
/// opposed to the evidence lacking a tile).
fn auth_failure(e: &TreeError<TileReadError<TileNotHeld>>) -> Option<String> {
    match e {
        TreeError::Read(
            r @ (TileReadError::RootMismatch { .. }
            | TileReadError::InconsistentTile(_)
            | TileReadError::BadTile { .. }),
        ) => Some(r.to_string()),
        _ => None,
    }
}

/// The values of bad-data evidence, decoded.
struct DecodedBadData {
    path: TilePath,
    served: Vec<u8>,
    tiles: HashMap<TileId, Vec<u8>>,
}

fn decode_bad_data(bd: &BadData) -> Result<DecodedBadData, EvidenceError> {
    if bd.tiles.len() > MAX_EVIDENCE_TILES {
        return Err(EvidenceError::Malformed(format!(
            "{} tiles, more than {MAX_EVIDENCE_TILES}",
            bd.tiles.len()
        )));
    }
    let path = TilePath::parse(&bd.served.path).map_err(|e| {
        EvidenceError::Malformed(format!("{:?} is not a tile path: {e}", bd.served.path))
    })?;
    let served = decode(&bd.served)?;
    let mut tiles: HashMap<TileId, Vec<u8>> = HashMap::new();
    for f in &bd.tiles {
        let id = TileId::parse(&f.path).map_err(|e| {
            EvidenceError::Malformed(format!("{:?} is not a hash tile path: {e}", f.path))
        })?;
        if tiles.insert(id, decode(f)?).is_some() {
            return Err(EvidenceError::Malformed(format!(
                "tile {} appears twice",
                f.path
            )));
        }
    }
    Ok(DecodedBadData {
        path,
        served,
        tiles,
    })
}

fn check_bad_data(
    bd: &BadData,
    decoded: DecodedBadData,
    log_key: &VerifierKey,
) -> Result<Proven, EvidenceError> {
    let DecodedBadData {
        path,
        served,
        mut tiles,
    } = decoded;
    let cp = open(&bd.checkpoint, log_key)?;
    let (size, root) = (cp.checkpoint.size, cp.checkpoint.root);
    let origin = &bd.checkpoint.source;
    match path {
        TilePath::Entries(bundle) => {
            // The bundle of the tree, or an older partial bundle at its
            // index (kept for clients holding an older checkpoint): the
            // latter must hold a prefix of the same entries.
            let older = match BundleId::in_tree(bundle.index(), size) {
                Some(b) if b == bundle => false,
                Some(b) if !bundle.is_full() && b.width() > bundle.width() => true,
                _ => {
                    return Err(EvidenceError::NotProven(format!(
                        "{} is not an entry bundle of the tree of size {size}, nor an older partial bundle at the same index",
                        bundle.path()
                    )));
                }
            };
            if let Err(e) = EntryBundle::from_bytes(&served, bundle.width()) {
                return Ok(Proven {
                    code: "source-bad-data",
                    statement: format!(
                        "{} as served by {origin} is not a well-formed bundle of {} entries: {e}",
                        bundle.path(),
                        bundle.width()
                    ),
                });
            }
            let tile0 = bundle.tile();
            let reader = TileHashReader::new(size, root, MapFetcher(&tiles));
            let expected = match HashTile::from_reader(tile0, &reader) {
                Ok(t) => t,
                Err(e) => {
                    return match auth_failure(&e) {
                        Some(why) => Ok(Proven {
                            code: "source-bad-data",
                            statement: format!(
                                "the tiles served by {origin} do not hash to the checkpoint of size {size}: {why}"
                            ),
                        }),
                        None => Err(EvidenceError::NotProven(format!(
                            "the tiles in the evidence do not give the hashes of {tile0}: {e}"
                        ))),
                    };
                }
            };
            let entries = EntryBundle::from_bytes(&served, bundle.width())
                .map(|b| b.entries().to_vec())
                .unwrap_or_default();
            let bad = entries
                .iter()
                .zip(expected.hashes())
                .position(|(e, h)| leaf_hash(e) != *h);
            match bad {
                Some(i) => Ok(Proven {
                    code: "source-bad-data",
                    statement: format!(
                        "entry {} (leaf {}) of {}{} as served by {origin} does not hash to the leaf hash {} that the checkpoint of size {size} commits to",
                        i,
                        bundle.index() * 256 + i as u64,
                        if older {
                            "the older partial bundle "
                        } else {
                            ""
                        },
                        bundle.path(),
                        expected.hashes()[i]
                    ),
                }),
                None => Err(EvidenceError::NotProven(format!(
                    "every entry of {} hashes to the checkpoint's tiles",
                    bundle.path()
                ))),
            }
        }
        TilePath::Hashes(tile) => {
            match TileId::in_tree(tile.level(), tile.index(), size) {
                Some(t) if t == tile => {}
                Some(t) if !tile.is_full() && t.width() > tile.width() => {
                    return check_older_tile(tile, &served, &tiles, size, root, origin);
                }
                _ => {
                    return Err(EvidenceError::NotProven(format!(
                        "{} is not a tile of the tree of size {size}, nor an older partial tile at the same index",
                        tile.path()
                    )));
                }
            }
            tiles.insert(tile, served);
            let reader = TileHashReader::new(size, root, MapFetcher(&tiles));
            match HashTile::from_reader(tile, &reader) {
                Ok(_) => Err(EvidenceError::NotProven(format!(
                    "{} as served hashes to the checkpoint",
                    tile.path()
                ))),
                Err(e) => match auth_failure(&e) {
                    Some(why) => Ok(Proven {
                        code: "source-bad-data",
                        statement: format!(
                            "{} as served by {origin} does not hash to the checkpoint of size {size}: {why}",
                            tile.path()
                        ),
                    }),
                    None => Err(EvidenceError::NotProven(format!(
                        "the tiles in the evidence are incomplete: {e}"
                    ))),
                },
            }
        }
    }
}

/// An older partial tile (kept for clients holding an older checkpoint) is
/// proved bad when it is not the prefix of the tile the checkpoint commits
/// to at its index, read and authenticated from the evidence's tiles.
fn check_older_tile(
    tile: TileId,
    served: &[u8],
    tiles: &HashMap<TileId, Vec<u8>>,
    size: u64,
    root: Hash,
    origin: &str,
) -> Result<Proven, EvidenceError> {
    let reader = TileHashReader::new(size, root, MapFetcher(tiles));
    match HashTile::from_reader(tile, &reader) {
        Ok(expected) if expected.to_bytes() == served => Err(EvidenceError::NotProven(format!(
            "{} as served is the prefix of the tile the checkpoint of size {size} commits to",
            tile.path()
        ))),
        Ok(_) => Ok(Proven {
            code: "source-bad-data",
            statement: format!(
                "the older partial tile {} as served by {origin} is not the first {} hashes of the tile that the checkpoint of size {size} commits to at its index",
                tile.path(),
                tile.width()
            ),
        }),
        Err(e) => match auth_failure(&e) {
            Some(why) => Ok(Proven {
                code: "source-bad-data",
                statement: format!(
                    "the tiles served by {origin} do not hash to the checkpoint of size {size}: {why}"
                ),
            }),
            None => Err(EvidenceError::NotProven(format!(
                "the tiles in the evidence do not give the hashes of {}: {e}",
                tile.path()
            ))),
        },
    }
}
