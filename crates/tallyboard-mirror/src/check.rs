//! What a mirror checks about every entry before it serves it: a validly
//! signed tally of the election (batch signature verification across
//! threads), every manifest rule and every log rule in log order; and the
//! state derived from the entries (revision index, totals, units' entries).

use tallyboard_core::keys::{BatchVerifier, Context};
use tallyboard_core::manifest::Manifest;
use tallyboard_core::rules::{RevisionIndex, Violation, check_tally};
use tallyboard_core::tally::UnverifiedTally;
use tallyboard_core::totals::{TotalsBody, TotalsBuilder};

/// An entry that is not a validly signed tally obeying every rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadEntry {
    /// Leaf index of the entry.
    pub index: u64,
    /// Stable code: `bad-entry` (undecodable or non-canonical),
    /// `bad-signature`, or the rule's code (`signer-not-responsible`, ...).
    pub code: String,
    /// What is wrong, in words.
    pub message: String,
    /// The entry's bytes (for the evidence file).
    pub entry: Vec<u8>,
}

/// The election state of the entries checked so far.
#[derive(Clone, Debug)]
pub(crate) struct Checker {
    manifest: &'static Manifest,
    revisions: RevisionIndex,
    totals: TotalsBuilder<&'static Manifest>,
    size: u64,
}

/// A decoded entry waiting for its signature verdict.
struct Decoded {
    tally: UnverifiedTally,
    unit: usize,
}

impl Checker {
    pub(crate) fn new(manifest: &'static Manifest) -> Checker {
        Checker {
            manifest,
            revisions: RevisionIndex::new(),
            totals: TotalsBuilder::new(manifest),
            size: 0,
        }
    }

    /// Number of entries checked.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// The totals of the entries checked, bound to `(origin, size, root)`.
    pub(crate) fn totals(&self, origin: &str, root: tallyboard_core::Hash) -> TotalsBody {
        self.totals.finish(origin, self.size, root)
    }

    /// Checks `entries`, the next entries of the log in order (the first
    /// one at leaf index [`Checker::size`]). `verify` false skips the
    /// signature check (entries read back from the mirror's own disk, which
    /// it checked before storing). Returns, per entry, its manifest unit
    /// index. On a bad entry the state is left partly updated: the caller
    /// rebuilds it.
    pub(crate) fn check(
        &mut self,
        entries: &[Vec<u8>],
        verify: bool,
    ) -> Result<Vec<usize>, BadEntry> {
        let first = self.size;
        let decoded = decode_and_verify(self.manifest, first, entries, verify)?;
        let mut units = Vec::with_capacity(decoded.len());
        for (i, d) in decoded.into_iter().enumerate() {
            let index = first + i as u64;
            let t = d.tally.verified_by_batch();
            let leaf = t.leaf_hash();
            // Manifest rules, then the log rules (applied only if they hold).
            let broken = |v: Vec<Violation>| {
                let message = v
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                BadEntry {
                    index,
                    code: v
                        .first()
                        .map_or("rule-violation", Violation::code)
                        .to_owned(),
                    message,
                    entry: t.as_bytes().to_vec(),
                }
            };
            let v = check_tally(self.manifest, t.tally());
            if !v.is_empty() {
                return Err(broken(v));
            }
            self.revisions.apply(t.tally(), leaf).map_err(broken)?;
            if let Err(e) = self.totals.add(t.tally()) {
                return Err(BadEntry {
                    index,
                    code: e.code().to_owned(),
                    message: e.to_string(),
                    entry: t.as_bytes().to_vec(),
                });
            }
            units.push(d.unit);
            self.size += 1;
        }
        Ok(units)
    }
}

/// Decodes `entries` (leaf indexes from `first`) and verifies their
/// signatures, split over the machine's cores.
fn decode_and_verify(
    manifest: &'static Manifest,
    first: u64,
    entries: &[Vec<u8>],
    verify: bool,
) -> Result<Vec<Decoded>, BadEntry> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(8);
    // Small chunks are not worth a thread.
    let per = entries.len().div_ceil(threads).max(256);
    if entries.len() <= per {
        return decode_part(manifest, first, entries, verify);
    }
    let parts: Vec<Result<Vec<Decoded>, BadEntry>> = std::thread::scope(|s| {
        let handles: Vec<_> = entries
            .chunks(per)
            .enumerate()
            .map(|(k, chunk)| {
                let start = first + (k * per) as u64;
                s.spawn(move || decode_part(manifest, start, chunk, verify))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(BadEntry {
                        index: first,
                        code: "internal".to_owned(),
                        message: "a checking thread failed".to_owned(),
                        entry: Vec::new(),
                    })
                })
            })
            .collect()
    });
    let mut out = Vec::with_capacity(entries.len());
    for p in parts {
        out.extend(p?);
    }
    Ok(out)
}

fn decode_part(
    manifest: &'static Manifest,
    first: u64,
    entries: &[Vec<u8>],
    verify: bool,
) -> Result<Vec<Decoded>, BadEntry> {
    let mut out = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let index = first + i as u64;
        let tally = UnverifiedTally::from_bytes_in(e, manifest).map_err(|err| BadEntry {
            index,
            code: "bad-entry".to_owned(),
            message: format!("entry {index} is not a signed tally of this election: {err}"),
            entry: e.clone(),
        })?;
        let unit = manifest
            .unit_index(&tally.tally().unit)
            .ok_or_else(|| BadEntry {
                index,
                code: "unknown-unit".to_owned(),
                message: format!(
                    "entry {index} is a tally for unit {}, which the manifest does not list",
                    tally.tally().unit
                ),
                entry: e.clone(),
            })?;
        out.push(Decoded { tally, unit });
    }
    if verify {
        let mut batch = BatchVerifier::new();
        for d in &out {
            let (key, body, sig) = d.tally.signature_parts();
            batch.push(key, Context::Tally, body, sig);
        }
        if let Err(f) = batch.verify() {
            let i = f.bad.first().copied().unwrap_or(0);
            let index = first + i as u64;
            let unit = out
                .get(i)
                .map(|d| d.tally.tally().unit.clone())
                .unwrap_or_default();
            let entry = entries.get(i).cloned().unwrap_or_default();
            return Err(BadEntry {
                index,
                code: "bad-signature".to_owned(),
                message: format!(
                    "entry {index} (a tally for unit {unit}) does not carry a valid signature by the key it names"
                ),
                entry,
            });
        }
    }
    Ok(out)
}
