//! The view of one reporting unit (`/units/<id>`): its entries in the log,
//! each with its inclusion proof, as JSON or as a page.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use tallyboard_core::manifest::Manifest;
use tallyboard_core::tally::SignedTally;
use tallyboard_core::totals::TotalsRow;
use tallyboard_log::{LogError, LogReader, SignedCheckpoint};

/// One entry of a unit's history.
#[derive(Debug, Serialize)]
pub(crate) struct UnitEntryJson {
    pub(crate) index: u64,
    pub(crate) leaf_hash: String,
    pub(crate) contest: String,
    pub(crate) revision: u64,
    pub(crate) supersedes: Option<String>,
    pub(crate) reason: Option<String>,
    /// Whether this is the latest revision for its contest (the one counted).
    pub(crate) latest: bool,
    /// The signed tally, hex.
    pub(crate) entry: String,
    /// Inclusion proof against `checkpoint`, hex hashes.
    pub(crate) proof: Vec<String>,
    pub(crate) choices: BTreeMap<String, u64>,
    pub(crate) blank: u64,
    pub(crate) invalid: u64,
    pub(crate) ballots_cast: u64,
    pub(crate) counted_at: u64,
    /// The figures as a totals row, for the HTML page.
    #[serde(skip)]
    pub(crate) figures: TotalsRow,
}

/// A unit's view.
#[derive(Debug, Serialize)]
pub(crate) struct UnitJson {
    pub(crate) unit: String,
    pub(crate) name: String,
    pub(crate) checkpoint: CheckpointJson,
    pub(crate) entries: Vec<UnitEntryJson>,
}

#[derive(Debug, Serialize)]
pub(crate) struct CheckpointJson {
    size: u64,
    root: String,
    note: String,
}

/// Builds the view of unit `ui` (manifest index, id `id`) from its entries
/// at leaf `indexes`, with proofs against `cp`. Blocking (reads the log).
pub(crate) fn build(
    reader: &LogReader,
    manifest: &Manifest,
    ui: usize,
    id: String,
    indexes: &[u64],
    cp: &SignedCheckpoint,
) -> Result<UnitJson, LogError> {
    let unit = manifest.units.get(ui);
    let name = unit.map(|u| u.name.clone()).unwrap_or_default();
    let registered = unit.map_or(0, |u| u.registered);
    let mut entries = Vec::with_capacity(indexes.len());
    for &index in indexes {
        let bytes = reader.entry(index)?;
        let proof = reader.prove_inclusion(index, cp.size)?;
        let Ok(t) = SignedTally::from_bytes_in(&bytes, manifest) else {
            continue;
        };
        let tally = t.tally();
        entries.push(UnitEntryJson {
            index,
            leaf_hash: t.leaf_hash().to_hex(),
            contest: tally.contest.clone(),
            revision: tally.revision,
            supersedes: tally.supersedes.map(|h| h.to_hex()),
            reason: tally.reason.clone(),
            latest: false,
            entry: hex::encode(&bytes),
            proof: proof.iter().map(|h| h.to_hex()).collect(),
            choices: tally.choices.clone(),
            blank: tally.blank,
            invalid: tally.invalid,
            ballots_cast: tally.ballots_cast,
            counted_at: tally.counted_at,
            figures: TotalsRow {
                contest: tally.contest.clone(),
                region: None,
                choices: tally.choices.clone(),
                blank: tally.blank,
                invalid: tally.invalid,
                ballots_cast: tally.ballots_cast,
                registered,
                units_reporting: 1,
                units_expected: 1,
            },
        });
    }
    // The latest entry of each contest is the one counted.
    let mut seen = HashSet::new();
    for e in entries.iter_mut().rev() {
        if seen.insert(e.contest.clone()) {
            e.latest = true;
        }
    }
    Ok(UnitJson {
        unit: id,
        name,
        checkpoint: CheckpointJson {
            size: cp.size,
            root: cp.root.to_hex(),
            note: String::from_utf8_lossy(&cp.note).into_owned(),
        },
        entries,
    })
}
