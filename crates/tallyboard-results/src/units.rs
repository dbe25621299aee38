//! The per-unit rows of the exports (`spec/results.md` §5).

use serde::Serialize;
use tallyboard_core::manifest::Manifest;
use tallyboard_core::time::format_rfc3339;

/// The counted revision of one unit for one contest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnitResult {
    /// Unit id.
    pub unit: String,
    /// Unit name.
    pub name: String,
    /// The unit's region id.
    pub region: String,
    /// Region ids from the top-level region down to the unit's.
    pub region_path: Vec<String>,
    /// Contest id.
    pub contest: String,
    /// Revision counted (1: the first publication).
    pub revision: u64,
    /// Time of count, RFC 3339 UTC.
    pub counted_at: String,
    /// Leaf index of the counted entry in the log.
    pub leaf_index: u64,
    /// Votes per choice, in ballot order.
    pub choices: Vec<UnitChoice>,
    /// Blank ballots.
    pub blank: u64,
    /// Invalid ballots.
    pub invalid: u64,
    /// Ballots cast.
    pub ballots_cast: u64,
    /// Registered voters of the unit.
    pub registered: u64,
}

/// One choice's votes in a unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnitChoice {
    /// Choice id.
    pub choice: String,
    /// Votes.
    pub votes: u64,
}

impl UnitResult {
    /// The row of unit number `unit` and contest number `contest`
    /// (manifest positions) from its counted entry: leaf index, time of
    /// count and figures (revision, blank, invalid, ballots cast, then
    /// each choice's votes in the contest's order). `None` when the
    /// positions or the figures do not fit the manifest.
    pub fn new(
        manifest: &Manifest,
        unit: usize,
        contest: usize,
        leaf_index: u64,
        counted_at: u64,
        figures: &[u64],
    ) -> Option<UnitResult> {
        let u = manifest.units.get(unit)?;
        let c = manifest.contests.get(contest)?;
        let (head, votes) = figures.split_at_checked(4)?;
        if votes.len() != c.choices.len() {
            return None;
        }
        let region_path = manifest
            .unit_regions(unit)
            .iter()
            .rev()
            .filter_map(|&r| manifest.regions.get(r as usize).map(|r| r.id.clone()))
            .collect();
        Some(UnitResult {
            unit: u.id.clone(),
            name: u.name.clone(),
            region: u.region.clone(),
            region_path,
            contest: c.id.clone(),
            revision: head[0],
            counted_at: format_rfc3339(counted_at),
            leaf_index,
            choices: c
                .choices
                .iter()
                .zip(votes)
                .map(|(ch, &v)| UnitChoice {
                    choice: ch.id.clone(),
                    votes: v,
                })
                .collect(),
            blank: head[1],
            invalid: head[2],
            ballots_cast: head[3],
            registered: u.registered,
        })
    }
}
