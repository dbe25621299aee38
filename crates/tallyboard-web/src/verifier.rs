//! The browser verifier's logic, in plain Rust (tested natively): every
//! check calls `tallyboard-core` and `tallyboard-check`, the same code as
//! the command-line verifier. Nothing here parses a format of its own.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};
use tallyboard_check::{Checked, ElectionState, Outcome, Signatures};
use tallyboard_core::checkpoint::{OpenedCheckpoint, open_checkpoint};
use tallyboard_core::hash::{Hash, leaf_hash};
use tallyboard_core::manifest::{Manifest, SignedManifest};
use tallyboard_core::merkle::{
    TreeError, prove_consistency, prove_inclusion, verify_consistency, verify_inclusion,
};
use tallyboard_core::note::{KeyKind, VerifierKey};
use tallyboard_core::tally::Tally;
use tallyboard_core::tile::{
    BundleId, EntryBundle, FULL_TILE_LEN, TILE_WIDTH, TileFetcher, TileHashReader, TileId,
    TileReadError,
};
use tallyboard_core::totals::{SignedTotals, TotalsBody, TotalsRow, diff};

/// Why a check failed, in words a reader can act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    /// The authority key on the page is not a key string.
    #[error("the authority key on the page is not a valid key ({0})")]
    AuthorityKey(String),
    /// The manifest does not verify.
    #[error("the election manifest does not verify against the authority key ({0})")]
    Manifest(String),
    /// The manifest's hash differs from the one the page was built with.
    #[error(
        "the election manifest served here (SHA-256 {got}) is not the one this page was built with ({expected})"
    )]
    ManifestHash {
        /// Hash on the page.
        expected: String,
        /// Hash of the manifest fetched.
        got: String,
    },
    /// The manifest's log or witness keys cannot be used.
    #[error("the manifest's key of {what} cannot be used ({reason})")]
    ManifestKey {
        /// Which key.
        what: String,
        /// Why not.
        reason: String,
    },
    /// The checkpoint does not verify.
    #[error("the log's checkpoint does not verify ({0})")]
    Checkpoint(String),
    /// A step needs a verified checkpoint first.
    #[error("no verified checkpoint yet")]
    NoCheckpoint,
    /// A step needs verified totals first.
    #[error("no verified totals yet")]
    NoTotals,
    /// The totals do not verify.
    #[error("the signed totals do not verify ({0})")]
    Totals(String),
    /// The totals are not bound to the verified log.
    #[error("the signed totals are not bound to the verified log: {0}")]
    TotalsBinding(String),
    /// A tile is malformed or does not authenticate against the checkpoint.
    #[error("the log's tiles do not match the checkpoint ({0})")]
    Tiles(String),
    /// An entry bundle is malformed.
    #[error("the entry bundle of leaf {index} is malformed ({reason})")]
    Bundle {
        /// Leaf index.
        index: u64,
        /// Why.
        reason: String,
    },
    /// A leaf index outside the verified tree.
    #[error("leaf {index} is not in the verified log of size {size}")]
    NotInLog {
        /// Leaf index.
        index: u64,
        /// Tree size.
        size: u64,
    },
    /// The entry is not a validly signed tally.
    #[error("entry {index} of the log is not a validly signed tally ({reason})")]
    Entry {
        /// Leaf index.
        index: u64,
        /// Why.
        reason: String,
    },
    /// The entry is not included in the log.
    #[error("entry {index} is not included in the log at size {size} ({reason})")]
    Inclusion {
        /// Leaf index.
        index: u64,
        /// Tree size.
        size: u64,
        /// Why.
        reason: String,
    },
    /// Two checkpoints are not of one log: a split view.
    #[error("split view: {0}")]
    SplitView(String),
    /// A request from the script was malformed.
    #[error("bad request from the page's script: {0}")]
    Request(String),
    /// A photo, scan or pasted text of a sheet cannot be read.
    #[error("{0}")]
    Paper(String),
    /// A region id the manifest does not list.
    #[error("the manifest lists no region {0:?}")]
    UnknownRegion(String),
}

/// The result of a step that may need tiles it does not have yet: the
/// script fetches the listed paths, adds them, and calls the step again.
#[derive(Debug)]
pub enum Step<T> {
    /// Fetch these tile paths (relative to the log's root) first.
    Need(Vec<String>),
    /// The step is done.
    Done(T),
}

/// Tiles of one source, as fetched (not trusted: [`TileHashReader`]
/// authenticates every tile it uses against a verified root).
#[derive(Debug, Default)]
pub struct TileSet {
    tiles: BTreeMap<TileId, Vec<u8>>,
}

impl TileSet {
    /// Adds the bytes fetched at tile `path` (size-capped: a hash tile is at
    /// most one full tile).
    pub fn add(&mut self, path: &str, bytes: &[u8]) -> Result<(), WebError> {
        let id = TileId::parse(path)
            .map_err(|e| WebError::Request(format!("tile path {path:?}: {e}")))?;
        if bytes.len() > FULL_TILE_LEN {
            return Err(WebError::Tiles(format!(
                "{path} is {} bytes, more than a full tile",
                bytes.len()
            )));
        }
        self.tiles.insert(id, bytes.to_vec());
        Ok(())
    }
}

/// Tiles not fetched yet (the fetcher's error).
#[derive(Debug, thiserror::Error)]
#[error("{} tiles not fetched yet", .0.len())]
struct Missing(Vec<TileId>);

/// A fetcher over a [`TileSet`] that lists every tile it lacks.
struct Recording<'a> {
    set: &'a TileSet,
    missing: RefCell<Vec<TileId>>,
}

impl TileFetcher for Recording<'_> {
    type Error = Missing;

    fn fetch_tile(&self, tile: TileId) -> Result<Vec<u8>, Missing> {
        self.fetch_tiles(&[tile])
            .map(|mut v| v.pop().unwrap_or_default())
    }

    fn fetch_tiles(&self, tiles: &[TileId]) -> Result<Vec<Vec<u8>>, Missing> {
        let missing: Vec<TileId> = tiles
            .iter()
            .filter(|t| !self.set.tiles.contains_key(t))
            .copied()
            .collect();
        if !missing.is_empty() {
            self.missing.borrow_mut().extend(missing.iter().copied());
            return Err(Missing(missing));
        }
        Ok(tiles
            .iter()
            .filter_map(|t| self.set.tiles.get(t).cloned())
            .collect())
    }
}

/// Runs `f` over a tile reader of the tree `(size, root)` on `set`:
/// the tiles it lacks, or its result.
fn with_tiles<T>(
    set: &TileSet,
    size: u64,
    root: Hash,
    f: impl FnOnce(&TileHashReader<Recording<'_>>) -> Result<T, TreeError<TileReadError<Missing>>>,
) -> Result<Step<T>, WebError> {
    let reader = TileHashReader::new(
        size,
        root,
        Recording {
            set,
            missing: RefCell::new(Vec::new()),
        },
    );
    match f(&reader) {
        Ok(v) => Ok(Step::Done(v)),
        Err(TreeError::Read(TileReadError::Fetch(Missing(list)))) => {
            let mut paths: Vec<String> = list.iter().map(TileId::path).collect();
            paths.sort();
            paths.dedup();
            Ok(Step::Need(paths))
        }
        Err(e) => Err(WebError::Tiles(e.to_string())),
    }
}

/// One entry of the log, verified: signature, manifest rules, inclusion.
#[derive(Debug, Clone)]
pub(crate) struct VerifiedEntry {
    pub(crate) checked: Checked,
    pub(crate) json: Value,
}

/// The verifier of one page: the election it was built for, the checkpoint
/// and totals it verified, the tiles and entries it fetched.
#[derive(Debug)]
pub struct Verifier {
    pub(crate) manifest: Arc<Manifest>,
    manifest_hash: Hash,
    log_key: VerifierKey,
    witnesses: Vec<VerifierKey>,
    quorum: usize,
    checkpoint: Option<OpenedCheckpoint>,
    pub(crate) totals: Option<TotalsBody>,
    /// Tiles of the page's own source.
    pub tiles: TileSet,
    /// Tiles of another mirror (split-view check).
    pub other_tiles: TileSet,
    pub(crate) entries: BTreeMap<u64, VerifiedEntry>,
    /// The sheets of the last paper check ([`Verifier::paper_sheets`]).
    pub(crate) paper: Vec<tallyboard_check::paper::PaperSheet>,
}

/// Figures of a tally or totals row by their page name (`choice:ID`,
/// `blank`, ...).
fn row_field(row: &TotalsRow, field: &str) -> Option<u64> {
    match field {
        "blank" => Some(row.blank),
        "invalid" => Some(row.invalid),
        "ballots_cast" => Some(row.ballots_cast),
        "registered" => Some(row.registered),
        "units_reporting" => Some(row.units_reporting),
        "units_expected" => Some(row.units_expected),
        f => f
            .strip_prefix("choice:")
            .and_then(|c| row.choices.get(c).copied()),
    }
}

pub(crate) fn tally_field(t: &Tally, field: &str) -> Option<u64> {
    match field {
        "blank" => Some(t.blank),
        "invalid" => Some(t.invalid),
        "ballots_cast" => Some(t.ballots_cast),
        f => f
            .strip_prefix("choice:")
            .and_then(|c| t.choices.get(c).copied()),
    }
}

/// A number as the page shows it (digits with thousands separators:
/// comma, dot, apostrophe, spaces). `None` if it is not one.
fn page_number(text: &str) -> Option<u64> {
    let t = text.trim();
    if t.is_empty() || t.len() > 64 {
        return None;
    }
    let mut n: u64 = 0;
    let mut digits = 0;
    for c in t.chars() {
        match c {
            '0'..='9' => {
                n = n.checked_mul(10)?.checked_add(u64::from(c as u8 - b'0'))?;
                digits += 1;
            }
            ',' | '.' | '\'' | ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}' => {}
            _ => return None,
        }
    }
    (digits > 0).then_some(n)
}

/// `1234567` as `1,234,567`.
pub(crate) fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Parses the script's list of figures: `[[key, text], ...]`.
fn figure_list(json: &str) -> Result<Vec<(String, String)>, WebError> {
    if json.len() > 64 * 1024 * 1024 {
        return Err(WebError::Request("figure list too large".into()));
    }
    let v: Vec<(String, String)> =
        serde_json::from_str(json).map_err(|e| WebError::Request(format!("figure list: {e}")))?;
    Ok(v)
}

fn verdict(shown: &str, value: Option<u64>, what: &str) -> Value {
    match (page_number(shown), value) {
        (_, None) => {
            json!({"ok": false, "problem": format!("the signed {what} have no such figure")})
        }
        (None, Some(v)) => json!({"ok": false, "expected": grouped(v),
            "problem": format!("the page shows {shown:?}, not a number; the signed {what} say {}", grouped(v))}),
        (Some(s), Some(v)) if s != v => json!({"ok": false, "expected": grouped(v),
            "problem": format!("the page shows {}, the signed {what} say {}", grouped(s), grouped(v))}),
        (Some(_), Some(v)) => json!({"ok": true, "expected": grouped(v)}),
    }
}

impl Verifier {
    /// Verifies the signed `manifest` against the `authority` key string
    /// (as `tallyboard keygen` prints it) and, if `expected_sha256` is not
    /// empty, that it is the manifest the page was built with.
    pub fn open(
        authority: &str,
        manifest: &[u8],
        expected_sha256: &str,
    ) -> Result<Verifier, WebError> {
        let authority = VerifierKey::parse(authority.trim())
            .map_err(|e| WebError::AuthorityKey(e.to_string()))?;
        let signed = SignedManifest::from_bytes(manifest, Some(authority.public_key()))
            .map_err(|e| WebError::Manifest(e.to_string()))?;
        let manifest_hash = signed.hash();
        let expected = expected_sha256.trim().to_ascii_lowercase();
        if !expected.is_empty() && expected != manifest_hash.to_hex() {
            return Err(WebError::ManifestHash {
                expected,
                got: manifest_hash.to_hex(),
            });
        }
        let manifest = Arc::new(signed.into_manifest());
        let log_key = VerifierKey::new(&manifest.log.origin, KeyKind::Ed25519, manifest.log.key)
            .map_err(|e| WebError::ManifestKey {
                what: format!("the log {}", manifest.log.origin),
                reason: e.to_string(),
            })?;
        let witnesses = manifest
            .witnesses
            .iter()
            .map(|w| {
                VerifierKey::new(&w.name, KeyKind::CosignatureV1, w.key).map_err(|e| {
                    WebError::ManifestKey {
                        what: format!("witness {}", w.name),
                        reason: e.to_string(),
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let quorum = usize::try_from(manifest.quorum).unwrap_or(usize::MAX);
        Ok(Verifier {
            manifest,
            manifest_hash,
            log_key,
            witnesses,
            quorum,
            checkpoint: None,
            totals: None,
            tiles: TileSet::default(),
            other_tiles: TileSet::default(),
            entries: BTreeMap::new(),
            paper: Vec::new(),
        })
    }

    /// What the page shows of the election it verified.
    pub fn summary(&self) -> Value {
        json!({
            "election": self.manifest.election,
            "title": self.manifest.title,
            "origin": self.manifest.log.origin,
            "manifest_sha256": self.manifest_hash.to_hex(),
            "witnesses": self.manifest.witnesses.iter().map(|w| w.name.clone()).collect::<Vec<_>>(),
            "quorum": self.manifest.quorum,
            "mirrors": self.manifest.mirrors,
        })
    }

    pub(crate) fn cp(&self) -> Result<&OpenedCheckpoint, WebError> {
        self.checkpoint.as_ref().ok_or(WebError::NoCheckpoint)
    }

    fn opened_json(cp: &OpenedCheckpoint) -> Value {
        json!({
            "origin": cp.checkpoint.origin,
            "size": cp.checkpoint.size,
            "root": cp.checkpoint.root.to_hex(),
            "cosigned_by": cp.cosignatures.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
        })
    }

    fn open_note(&self, bytes: &[u8]) -> Result<OpenedCheckpoint, WebError> {
        open_checkpoint(bytes, &self.log_key, &self.witnesses, self.quorum)
            .map_err(|e| WebError::Checkpoint(e.to_string()))
    }

    /// Verifies the log's checkpoint: the log's signature and the
    /// witnesses' quorum of the manifest. Later steps are checked against it.
    pub fn open_checkpoint(&mut self, bytes: &[u8]) -> Result<Value, WebError> {
        let cp = self.open_note(bytes)?;
        let out = Self::opened_json(&cp);
        self.checkpoint = Some(cp);
        Ok(out)
    }

    /// Verifies the signed totals: the log key's signature, the election,
    /// and their binding to the verified checkpoint (the same tree, or an
    /// earlier tree the checkpoint's tree extends, proven from tiles).
    pub fn verify_totals(&mut self, bytes: &[u8]) -> Result<Step<Value>, WebError> {
        let cp = self.cp()?.checkpoint.clone();
        let signed = SignedTotals::from_bytes(bytes, &self.manifest.log.key)
            .map_err(|e| WebError::Totals(e.to_string()))?;
        let body = signed.totals().clone();
        if body.election != self.manifest.election {
            return Err(WebError::TotalsBinding(format!(
                "they are for election {:?}, the manifest is for {:?}",
                body.election, self.manifest.election
            )));
        }
        let at = &body.checkpoint;
        if at.origin != cp.origin {
            return Err(WebError::TotalsBinding(format!(
                "they name log {:?}, not {:?}",
                at.origin, cp.origin
            )));
        }
        if at.size > cp.size {
            return Err(WebError::TotalsBinding(format!(
                "they are computed at size {}, beyond the checkpoint's size {}",
                at.size, cp.size
            )));
        }
        if at.size == cp.size {
            if at.root != cp.root {
                return Err(WebError::TotalsBinding(format!(
                    "they name root {} at size {}, the checkpoint has root {}",
                    at.root.to_hex(),
                    at.size,
                    cp.root.to_hex()
                )));
            }
        } else if at.size > 0 {
            let (old, new) = (at.size, cp.size);
            let step = with_tiles(&self.tiles, new, cp.root, |r| {
                prove_consistency(old, new, r)
            })?;
            let proof = match step {
                Step::Need(p) => return Ok(Step::Need(p)),
                Step::Done(p) => p,
            };
            verify_consistency(old, new, &at.root, &cp.root, &proof).map_err(|e| {
                WebError::TotalsBinding(format!(
                    "the tree they name (size {old}) is not a prefix of the checkpoint's: {e}"
                ))
            })?;
        }
        let out = json!({
            "size": at.size,
            "root": at.root.to_hex(),
            "rows": body.rows.len(),
        });
        self.totals = Some(body);
        Ok(Step::Done(out))
    }

    /// Checks the page's figures (`[[ "CONTEST|REGION|FIELD", text ], ...]`,
    /// REGION `*` for the whole election) against the verified totals: one
    /// verdict per figure, in order.
    pub fn check_figures(&self, figures: &str) -> Result<Value, WebError> {
        let totals = self.totals.as_ref().ok_or(WebError::NoTotals)?;
        let list = figure_list(figures)?;
        let out: Vec<Value> = list
            .iter()
            .map(|(key, text)| {
                let mut parts = key.splitn(3, '|');
                let (Some(contest), Some(region), Some(field)) = (parts.next(), parts.next(), parts.next()) else {
                    return json!({"ok": false, "problem": format!("the figure is labelled {key:?}, not CONTEST|REGION|FIELD")});
                };
                let region = (region != "*").then_some(region);
                let value = totals.row(contest, region).and_then(|r| row_field(r, field));
                verdict(text, value, "totals")
            })
            .collect();
        Ok(Value::Array(out))
    }

    /// The entry bundle holding leaf `index` in the verified tree.
    pub fn bundle_path(&self, index: u64) -> Result<String, WebError> {
        let size = self.cp()?.checkpoint.size;
        if index >= size {
            return Err(WebError::NotInLog { index, size });
        }
        BundleId::in_tree(index / u64::from(TILE_WIDTH), size)
            .map(|b| b.path())
            .ok_or(WebError::NotInLog { index, size })
    }

    /// Verifies leaf `index` from its entry bundle (fetched at
    /// [`Verifier::bundle_path`]): a signed tally of this election whose
    /// signature verifies, the manifest's rules, and its inclusion in the
    /// verified tree (proof computed from tiles).
    pub fn verify_entry(&mut self, index: u64, bundle: &[u8]) -> Result<Step<Value>, WebError> {
        let cp = self.cp()?.checkpoint.clone();
        let (size, root) = (cp.size, cp.root);
        if let Some(e) = self.entries.get(&index) {
            return Ok(Step::Done(e.json.clone()));
        }
        let path = self.bundle_path(index)?;
        let id = BundleId::parse(&path).map_err(|e| WebError::Request(e.to_string()))?;
        let b = EntryBundle::from_bytes(bundle, id.width()).map_err(|e| WebError::Bundle {
            index,
            reason: e.to_string(),
        })?;
        let entry = b
            .entries()
            .get((index % u64::from(TILE_WIDTH)) as usize)
            .ok_or_else(|| WebError::Bundle {
                index,
                reason: "the entry is missing".into(),
            })?;
        let leaf = leaf_hash(entry);
        let proof = match with_tiles(&self.tiles, size, root, |r| prove_inclusion(size, index, r))?
        {
            Step::Need(p) => return Ok(Step::Need(p)),
            Step::Done(p) => p,
        };
        verify_inclusion(&leaf, index, size, &proof, &root).map_err(|e| WebError::Inclusion {
            index,
            size,
            reason: e.to_string(),
        })?;
        let checked = Checked::one(&self.manifest, entry, Signatures::Verify);
        let signed = match &checked {
            Checked::Undecodable { error, .. } => {
                return Err(WebError::Entry {
                    index,
                    reason: error.to_string(),
                });
            }
            Checked::BadSignature(_) => {
                return Err(WebError::Entry {
                    index,
                    reason: "its signature does not verify".into(),
                });
            }
            Checked::Signed(s) => s,
        };
        let t = signed.tally.tally();
        let centre = self.manifest.key(&t.signer).map(|(c, _)| c.id.clone());
        let mut figures = serde_json::Map::new();
        for (c, v) in &t.choices {
            figures.insert(format!("choice:{c}"), json!(v));
        }
        figures.insert("blank".into(), json!(t.blank));
        figures.insert("invalid".into(), json!(t.invalid));
        figures.insert("ballots_cast".into(), json!(t.ballots_cast));
        let json = json!({
            "index": index,
            "size": size,
            "leaf_hash": leaf.to_hex(),
            "unit": t.unit,
            "contest": t.contest,
            "revision": t.revision,
            "counted_at": t.counted_at,
            "supersedes": t.supersedes.map(|h| h.to_hex()),
            "reason": t.reason,
            "signer": t.signer.to_hex(),
            "centre": centre,
            "violations": signed.violations.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
            "proof": proof.iter().map(Hash::to_hex).collect::<Vec<_>>(),
            "figures": figures,
        });
        self.entries.insert(
            index,
            VerifiedEntry {
                checked: checked.clone(),
                json: json.clone(),
            },
        );
        Ok(Step::Done(json))
    }

    /// Checks the figures shown for entry `index` (verified first):
    /// `[[ "CONTEST|FIELD", text ], ...]`.
    pub fn check_entry_figures(&self, index: u64, figures: &str) -> Result<Value, WebError> {
        let e = self.entries.get(&index).ok_or(WebError::Request(format!(
            "entry {index} is not verified yet"
        )))?;
        let Checked::Signed(s) = &e.checked else {
            return Err(WebError::Request(format!(
                "entry {index} is not a signed tally"
            )));
        };
        let t = s.tally.tally();
        let list = figure_list(figures)?;
        let out: Vec<Value> = list
            .iter()
            .map(|(key, text)| {
                let Some((contest, field)) = key.split_once('|') else {
                    return json!({"ok": false, "problem": format!("the figure is labelled {key:?}, not CONTEST|FIELD")});
                };
                let value = (contest == t.contest).then(|| tally_field(t, field)).flatten();
                verdict(text, value, "tally")
            })
            .collect();
        Ok(Value::Array(out))
    }

    /// The units counted in `region` (`*`: every unit), by id.
    pub fn region_units(&self, region: &str) -> Result<Vec<String>, WebError> {
        let m = &self.manifest;
        if region == "*" {
            return Ok(m.units.iter().map(|u| u.id.clone()).collect());
        }
        let r = m
            .region_index(region)
            .ok_or_else(|| WebError::UnknownRegion(region.into()))?;
        let r = u32::try_from(r).map_err(|_| WebError::UnknownRegion(region.into()))?;
        Ok(m.units
            .iter()
            .enumerate()
            .filter(|(i, _)| m.unit_regions(*i).contains(&r))
            .map(|(_, u)| u.id.clone())
            .collect())
    }

    /// Recounts `region` (`*`: the whole election) from the entries
    /// verified so far (those of the region's units, by the script), in
    /// log order and up to the totals' size, with the engine every verifier
    /// uses, and compares every figure of the region and its sub-regions
    /// with the signed totals.
    pub fn recount(&self, region: &str) -> Result<Value, WebError> {
        let totals = self.totals.as_ref().ok_or(WebError::NoTotals)?;
        let m = &self.manifest;
        let units: std::collections::BTreeSet<String> =
            self.region_units(region)?.into_iter().collect();
        let mut state = ElectionState::new(self.manifest.clone());
        let mut applied = 0u64;
        let mut problems = Vec::new();
        for (index, e) in self.entries.range(..totals.checkpoint.size) {
            let Checked::Signed(s) = &e.checked else {
                continue;
            };
            if !units.contains(&s.tally.tally().unit) {
                continue;
            }
            applied += 1;
            match state.apply(&e.checked) {
                Outcome::Counted => {}
                Outcome::Broken(v) => problems.push(format!(
                    "entry {index}: {}",
                    v.iter()
                        .map(|x| x.to_string())
                        .collect::<Vec<_>>()
                        .join("; ")
                )),
                other => problems.push(format!("entry {index}: not counted ({other:?})")),
            }
        }
        let at = &totals.checkpoint;
        let recomputed = state.totals(&at.origin, at.size, at.root);
        // Rows of the region and of every region inside it.
        let inside = |row_region: &Option<String>| -> bool {
            if region == "*" {
                return true;
            }
            let Some(rr) = row_region else { return false };
            let (Some(target), Some(ri)) = (m.region_index(region), m.region_index(rr)) else {
                return false;
            };
            m.region_ancestors(ri).iter().any(|&a| a as usize == target)
        };
        let rows = totals.rows.iter().filter(|r| inside(&r.region)).count();
        let differences: Vec<Value> = diff(totals, &recomputed)
            .into_iter()
            .filter(|d| inside(&d.region))
            .map(|d| {
                json!({
                    "contest": d.contest,
                    "region": d.region.clone().unwrap_or_else(|| "*".into()),
                    "figure": d.figure.replace("choice ", "choice:"),
                    "published": d.published,
                    "recomputed": d.recomputed,
                    "text": d.to_string(),
                })
            })
            .collect();
        Ok(json!({
            "region": region,
            "units": units.len(),
            "entries": applied,
            "rows": rows,
            "differences": differences,
            "problems": problems,
        }))
    }

    /// Compares the verified checkpoint with another mirror's: both must
    /// verify and be of one log (equal roots at equal sizes, or a
    /// consistency proof from the larger tree's tiles: `other_tiles` when
    /// the other mirror is ahead, `tiles` otherwise). `Need` paths are
    /// fetched from the source the `from` member of the answer names.
    pub fn compare(&self, other: &[u8]) -> Result<Step<Value>, WebError> {
        let mine = self.cp()?;
        let theirs = self
            .open_note(other)
            .map_err(|e| WebError::Checkpoint(format!("the other mirror's: {e}")))?;
        let (a, b) = (&mine.checkpoint, &theirs.checkpoint);
        let split = |why: String| {
            WebError::SplitView(format!(
                "{why}. Both checkpoints are validly signed by the log: the log has shown different histories to different readers. Keep both checkpoints (below) and report them to the election authority and observers."
            ))
        };
        let relation = if a.size == b.size {
            if a.root != b.root {
                return Err(split(format!(
                    "this site and the other mirror both show size {} with different roots ({} and {})",
                    a.size,
                    a.root.to_hex(),
                    b.root.to_hex()
                )));
            }
            "same"
        } else {
            let (old, new, set, from) = if a.size < b.size {
                (a, b, &self.other_tiles, "other")
            } else {
                (b, a, &self.tiles, "self")
            };
            if old.size > 0 {
                let proof = match with_tiles(set, new.size, new.root, |r| {
                    prove_consistency(old.size, new.size, r)
                })? {
                    Step::Need(p) => {
                        let mut v = vec![format!("from:{from}")];
                        v.extend(p);
                        return Ok(Step::Need(v));
                    }
                    Step::Done(p) => p,
                };
                verify_consistency(old.size, new.size, &old.root, &new.root, &proof).map_err(
                    |e| {
                        split(format!(
                            "the tree of size {} is not a prefix of the tree of size {} ({e})",
                            old.size, new.size
                        ))
                    },
                )?;
            }
            if a.size < b.size { "behind" } else { "ahead" }
        };
        Ok(Step::Done(json!({
            "relation": relation,
            "mine": Self::opened_json(mine),
            "theirs": Self::opened_json(&theirs),
        })))
    }

    /// The verified checkpoint's note (shown with a split view as evidence).
    pub fn checkpoint_note(&self) -> Result<String, WebError> {
        Ok(String::from_utf8_lossy(&self.cp()?.note).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers() {
        assert_eq!(page_number("1,234,567"), Some(1_234_567));
        assert_eq!(page_number(" 12\u{202f}345 "), Some(12_345));
        assert_eq!(page_number("0"), Some(0));
        assert_eq!(page_number(""), None);
        assert_eq!(page_number("12%"), None);
        assert_eq!(page_number("-3"), None);
        assert_eq!(page_number("99999999999999999999"), None);
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
    }
}
